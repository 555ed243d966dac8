/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Oblivious Relay Resource (RFC 9458 §7? "Oblivious Relay"): forwards
 * each encapsulated request to its one gateway and the answer back,
 * streamed both ways, carrying nothing of the client's but the body and
 * its media type: no address (no Forwarded or Via), no cookie, no
 * user agent, no header the client sent. It sees who asks, not what.
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway/ohttp_internal.h"

#include "common/detail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct twoway_ohttp_relay {
    twoway_ohttp_relay_options opt;
    char *listen, *gateway, *path, *ca_file;
    struct MHD_Daemon *daemon;
    unsigned port;
};

typedef struct relay_req {
    twoway_ohttp_relay *relay;
    tw_xfer *x;
    tw_pipe out;
    int out_ok;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int head;  /* the gateway's head arrived */
    int ended; /* the exchange ended */
    CURLcode rc;
    unsigned status;
    char media[128];
    int failed; /* the upload could not be passed on */
    int done;
} relay_req;

static int on_head(void *arg, unsigned status, const twoway_bhttp_field *f, size_t n)
{
    relay_req *q = arg;
    pthread_mutex_lock(&q->mu);
    q->status = status;
    for (size_t i = 0; i < n; i++)
        if (f[i].name_len == 12 && memcmp(f[i].name, "content-type", 12) == 0 &&
            f[i].value_len < sizeof q->media) {
            memcpy(q->media, f[i].value, f[i].value_len);
            q->media[f[i].value_len] = 0;
        }
    q->head = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

static int on_data(void *arg, const uint8_t *p, size_t n)
{
    relay_req *q = arg;
    return tw_pipe_write(&q->out, p, n, q->relay->opt.timeout_ms);
}

static void on_end(void *arg, CURLcode rc)
{
    relay_req *q = arg;
    tw_pipe_close_write(&q->out, rc != CURLE_OK);
    pthread_mutex_lock(&q->mu);
    q->ended = 1;
    q->rc = rc;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static void req_free(relay_req *q)
{
    if (q->out_ok)
        tw_pipe_close_read(&q->out);
    tw_xfer_join(q->x);
    if (q->out_ok)
        tw_pipe_destroy(&q->out);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
}

static enum MHD_Result finish(relay_req *q, struct MHD_Connection *c)
{
    tw_pipe_close_write(tw_xfer_body(q->x), q->failed);
    /* wait for the gateway's status */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += q->relay->opt.timeout_ms / 1000 + 1;
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->ended)
        if (pthread_cond_timedwait(&q->cv, &q->mu, &dl) != 0)
            break;
    int head = q->head;
    CURLcode rc = q->rc;
    pthread_mutex_unlock(&q->mu);
    if (!head)
        return tw_server_reply(
            c, rc == CURLE_OPERATION_TIMEDOUT ? MHD_HTTP_GATEWAY_TIMEOUT : MHD_HTTP_BAD_GATEWAY,
            NULL, NULL, 0);
    return tw_server_reply_pipe(c, q->status, q->media[0] ? q->media : NULL,
                                strcmp(q->media, TWOWAY_OHTTP_CHUNKED_RES_MEDIA_TYPE) == 0, &q->out,
                                q->relay->opt.timeout_ms);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    twoway_ohttp_relay *relay = cls;
    relay_req *q = *con_cls;
    (void)version;
    if (q == NULL) {
        if (relay->path != NULL && strcmp(url, relay->path) != 0)
            return tw_server_reply(c, MHD_HTTP_NOT_FOUND, NULL, NULL, 0);
        if (strcmp(method, "POST") != 0) {
            return tw_server_reply_allow(c, "POST");
        }
        const char *media;
        int chunked;
        if (tw_server_media_is(c, TWOWAY_OHTTP_REQ_MEDIA_TYPE)) {
            media = "Content-Type: " TWOWAY_OHTTP_REQ_MEDIA_TYPE;
            chunked = 0;
        } else if (tw_server_media_is(c, TWOWAY_OHTTP_CHUNKED_REQ_MEDIA_TYPE)) {
            media = "Content-Type: " TWOWAY_OHTTP_CHUNKED_REQ_MEDIA_TYPE;
            chunked = 1;
        } else {
            return tw_server_reply(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL, NULL, 0);
        }
        int64_t len = -1;
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL) {
            char *end;
            unsigned long long v = strtoull(cl, &end, 10);
            if (*end == 0 && v <= INT64_MAX)
                len = (int64_t)v;
        }
        if (!chunked && (len < 0 || (uint64_t)len > relay->opt.max_request_len))
            return tw_server_reply(
                c, len < 0 ? MHD_HTTP_LENGTH_REQUIRED : MHD_HTTP_CONTENT_TOO_LARGE, NULL, NULL, 0);
        q = calloc(1, sizeof *q);
        if (q == NULL)
            return MHD_NO;
        q->relay = relay;
        pthread_mutex_init(&q->mu, NULL);
        pthread_cond_init(&q->cv, NULL);
        struct curl_slist *h = curl_slist_append(NULL, media);
        struct curl_slist *h2 = h != NULL ? curl_slist_append(h, "Accept:") : NULL;
        if (h2 != NULL && chunked)
            h2 = curl_slist_append(h2, "Incremental: ?1");
        if (h2 == NULL || tw_pipe_init(&q->out, 65536) != 0) {
            curl_slist_free_all(h);
            req_free(q);
            return MHD_NO;
        }
        q->out_ok = 1;
        tw_pipe_grow_until_reader(&q->out, (size_t)64 << 20);
        tw_xfer_sink sink = {on_head, on_data, NULL, on_end, q};
        if (tw_xfer_start(&q->x, "POST", relay->gateway, h2, 1, len, &sink, relay->opt.timeout_ms,
                          relay->opt.connect_timeout_ms, relay->ca_file) != TWOWAY_OK) {
            curl_slist_free_all(h2);
            req_free(q);
            return tw_server_reply(c, MHD_HTTP_BAD_GATEWAY, NULL, NULL, 0);
        }
        *con_cls = q;
        return MHD_YES;
    }
    if (q->done) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!q->failed && tw_pipe_write(tw_xfer_body(q->x), upload_data, *upload_data_size,
                                        relay->opt.timeout_ms) != 0)
            q->failed = 1; /* the gateway stopped reading: it has answered or failed */
        *upload_data_size = 0;
        return MHD_YES;
    }
    q->done = 1;
    return finish(q, c);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    if (*con_cls != NULL)
        req_free(*con_cls);
    *con_cls = NULL;
}

void twoway_ohttp_relay_stop(twoway_ohttp_relay *relay)
{
    if (relay == NULL)
        return;
    if (relay->daemon != NULL)
        MHD_stop_daemon(relay->daemon);
    free(relay->listen);
    free(relay->gateway);
    free(relay->path);
    free(relay->ca_file);
    free(relay);
}

int twoway_ohttp_relay_start(twoway_ohttp_relay **out, const twoway_ohttp_relay_options *opt)
{
    util_detail_clear();
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (opt == NULL || opt->version != TWOWAY_OHTTP_RELAY_OPTIONS_VERSION || opt->gateway == NULL ||
        (strncmp(opt->gateway, "http://", 7) != 0 && strncmp(opt->gateway, "https://", 8) != 0)) {
        util_detail("a relay needs its gateway's http:// or https:// URL");
        return TWOWAY_ERR_ARG;
    }
    if (tw_curl_init() != 0) {
        util_detail("libcurl failed to initialise");
        return TWOWAY_ERR_IO;
    }
    twoway_ohttp_relay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return TWOWAY_ERR_NOMEM;
    r->opt = *opt;
    r->listen = tw_strdup(opt->listen != NULL ? opt->listen : "127.0.0.1:0");
    r->gateway = tw_strdup(opt->gateway);
    r->path = tw_strdup(opt->path);
    r->ca_file = tw_strdup(opt->ca_file);
    if (r->listen == NULL || r->gateway == NULL || (opt->path != NULL && r->path == NULL) ||
        (opt->ca_file != NULL && r->ca_file == NULL)) {
        twoway_ohttp_relay_stop(r);
        return TWOWAY_ERR_NOMEM;
    }
    if (r->opt.max_request_len == 0)
        r->opt.max_request_len = TWOWAY_OHTTP_DEFAULT_MAX_REQUEST_LEN;
    if (r->opt.timeout_ms == 0)
        r->opt.timeout_ms = TWOWAY_OHTTP_DEFAULT_TIMEOUT_MS;
    if (r->opt.connect_timeout_ms == 0)
        r->opt.connect_timeout_ms = TWOWAY_OHTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    if (r->opt.max_connections == 0)
        r->opt.max_connections = TWOWAY_OHTTP_DEFAULT_MAX_CONNECTIONS;
    tw_server_config sc = {r->listen, r->opt.max_connections, 60, on_request, r, on_completed, r};
    int rc = tw_server_start(&r->daemon, &r->port, &sc);
    if (rc != TWOWAY_OK) {
        twoway_ohttp_relay_stop(r);
        return rc;
    }
    *out = r;
    return TWOWAY_OK;
}

unsigned twoway_ohttp_relay_port(const twoway_ohttp_relay *relay)
{
    return relay == NULL ? 0 : relay->port;
}
