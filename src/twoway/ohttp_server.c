/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The listening side of the gateway and the relay: libmicrohttpd with a
 * thread per connection (the handlers may wait on the origin, and a
 * response body may wait on a pipe), a connection limit and an idle
 * timeout. libmicrohttpd parses HTTP; nothing here does.
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway/ohttp_internal.h"

#include "common/detail.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "host:port", "[v6]:port" or ":port" into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, int *v6)
{
    char host[128];
    const char *colon;
    memset(ss, 0, sizeof *ss);
    if (s == NULL)
        s = "127.0.0.1:0";
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
            return -1;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = 0;
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || (size_t)(colon - s) >= sizeof host)
            return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
        if (host[0] == 0)
            strcpy(host, "0.0.0.0");
    }
    char *endp;
    unsigned long port = strtoul(colon + 1, &endp, 10);
    if (colon[1] == 0 || *endp != 0 || port > 65535)
        return -1;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *v6 = 0;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = 1;
        return 0;
    }
    return -1;
}

int tw_server_start(struct MHD_Daemon **out, unsigned *port, const tw_server_config *cfg)
{
    struct sockaddr_storage ss;
    int v6 = 0;
    *out = NULL;
    if (parse_listen(cfg->listen, &ss, &v6) != 0) {
        util_detail("not an address to listen on (host:port, [v6]:port): '%s'",
                    cfg->listen ? cfg->listen : "");
        return TWOWAY_ERR_ARG;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (v6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, cfg->handler, cfg->handler_arg, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
        cfg->completed, cfg->completed_arg, MHD_OPTION_LISTEN_BACKLOG_SIZE, 512u, MHD_OPTION_END);
    if (d == NULL) {
        util_detail("cannot listen on %s (in use, or not an address of this host)",
                    cfg->listen ? cfg->listen : "127.0.0.1:0");
        return TWOWAY_ERR_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port = info != NULL ? info->port : 0;
    *out = d;
    return TWOWAY_OK;
}

enum MHD_Result tw_server_reply(struct MHD_Connection *c, unsigned status, const char *media_type,
                                const void *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (media_type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, media_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

enum MHD_Result tw_server_reply_allow(struct MHD_Connection *c, const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    MHD_destroy_response(r);
    return rc;
}

static ssize_t read_pipe(void *cls, uint64_t pos, char *buf, size_t max)
{
    tw_pipe *p = cls;
    (void)pos;
    long n = tw_pipe_read(p, buf, max, p->read_timeout_ms);
    if (n > 0)
        return n;
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

enum MHD_Result tw_server_reply_pipe(struct MHD_Connection *c, unsigned status,
                                     const char *media_type, int incremental, tw_pipe *p,
                                     uint32_t read_timeout_ms)
{
    p->read_timeout_ms = read_timeout_ms;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, read_pipe, p, NULL);
    if (r == NULL)
        return MHD_NO;
    if (media_type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, media_type);
    if (incremental)
        MHD_add_response_header(r, "Incremental", "?1");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

int tw_server_media_is(struct MHD_Connection *c, const char *media_type)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct == NULL)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen(media_type);
    if (strncasecmp(ct, media_type, n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == 0 || *ct == ';';
}
