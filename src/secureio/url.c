/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Addresses of the runtime (session.h): "udp://host:port",
 * "tcp://host:port" (host a name, an IPv4 address or [an IPv6 one]; empty
 * to listen on every address), "unix:///path" and "unixgram:///path"; and
 * the sockets they name.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/detail.h"
#include "session_internal.h"

#define SIO_HOST_MAX 256u

static int bad(const char *url, const char *why)
{
    util_detail("%s: %s (expected udp://host:port, tcp://host:port, unix:///path or "
                "unixgram:///path)",
                url, why);
    return SECUREIO_ERR_ARG;
}

int sio_url_parse(sio_url *u, const char *url, int flags)
{
    int passive = (flags & SIO_URL_PASSIVE) != 0;
    memset(u, 0, sizeof *u);
    if (url == NULL)
        return SECUREIO_ERR_ARG;
    const char *rest;
    if (strncmp(url, "udp://", 6) == 0) {
        u->type = SOCK_DGRAM;
        rest = url + 6;
    } else if (strncmp(url, "tcp://", 6) == 0) {
        u->type = SOCK_STREAM;
        rest = url + 6;
    } else if (strncmp(url, "unix://", 7) == 0 || strncmp(url, "unixgram://", 11) == 0) {
        int dgram = url[4] == 'g';
        rest = url + (dgram ? 11 : 7);
        struct sockaddr_un *sun = (struct sockaddr_un *)&u->addr;
        size_t n = strlen(rest);
        if (n == 0 || rest[0] != '/')
            return bad(url, "a unix socket needs an absolute path");
        if (n >= sizeof sun->sun_path)
            return bad(url, "the path is too long for a unix socket");
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, rest, n + 1);
        u->family = AF_UNIX;
        u->type = dgram ? SOCK_DGRAM : SOCK_STREAM;
        u->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
        return SECUREIO_OK;
    } else {
        return bad(url, "unknown scheme");
    }
    /* host:port, [v6]:port */
    char host[SIO_HOST_MAX];
    const char *colon, *port;
    if (rest[0] == '[') {
        const char *end = strchr(rest, ']');
        if (end == NULL || end[1] != ':')
            return bad(url, "an IPv6 address is written [addr]:port");
        if ((size_t)(end - rest - 1) >= sizeof host)
            return bad(url, "the host is too long");
        memcpy(host, rest + 1, (size_t)(end - rest - 1));
        host[end - rest - 1] = '\0';
        port = end + 2;
    } else {
        colon = strrchr(rest, ':');
        if (colon == NULL)
            return bad(url, "no port");
        if ((size_t)(colon - rest) >= sizeof host)
            return bad(url, "the host is too long");
        memcpy(host, rest, (size_t)(colon - rest));
        host[colon - rest] = '\0';
        port = colon + 1;
    }
    /* decimal digits only (strtol would take spaces and signs) */
    size_t digits = strspn(port, "0123456789");
    long p = digits >= 1 && digits <= 5 && port[digits] == '\0' ? strtol(port, NULL, 10) : -1;
    if (p < 0 || p > 65535 || (p == 0 && !passive))
        return bad(url, passive ? "the port is not a number from 0 to 65535"
                                : "the port is not a number from 1 to 65535");
    if (host[0] == '\0' && !passive)
        return bad(url, "no host");
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = u->type;
    hints.ai_flags = (passive ? AI_PASSIVE : AI_ADDRCONFIG) | AI_NUMERICSERV |
                     ((flags & SIO_URL_NUMERIC) ? AI_NUMERICHOST : 0);
    int g = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (g != 0 || res == NULL) {
        util_detail("%s: %s", url, gai_strerror(g));
        if (res != NULL)
            freeaddrinfo(res);
        errno = g == EAI_SYSTEM ? errno : EHOSTUNREACH;
        return SECUREIO_ERR_IO;
    }
    u->family = res->ai_family;
    memcpy(&u->addr, res->ai_addr, res->ai_addrlen);
    u->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return SECUREIO_OK;
}

/* The buffer size asked for datagram sockets (the kernel doubles it for
 * its bookkeeping). */
#define SIO_UDP_BUFFER (4 << 20)

int sio_url_socket(const sio_url *u, int passive)
{
    int fd = socket(u->family, u->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return SECUREIO_ERR_IO;
    int one = 1;
    if (u->family != AF_UNIX && u->type == SOCK_STREAM)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (u->type == SOCK_DGRAM) {
        /* A burst (a large message's fragments, a batch for many peers)
         * must not overflow the default buffers of about 200 KiB: ask for
         * SIO_UDP_BUFFER, within the system's limit (net.core.rmem_max),
         * or beyond it when we may (CAP_NET_ADMIN). Best effort. */
        int size = SIO_UDP_BUFFER;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    if (passive) {
        if (u->family != AF_UNIX)
            (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (const struct sockaddr *)&u->addr, u->addr_len) != 0 ||
            (u->type == SOCK_STREAM && listen(fd, SOMAXCONN) != 0))
            goto fail;
        return fd;
    }
    if (u->family == AF_UNIX && u->type == SOCK_DGRAM) {
        /* a unix datagram client needs an address to be answered at: an
         * abstract one the kernel picks */
        sa_family_t af = AF_UNIX;
        if (bind(fd, (const struct sockaddr *)&af, sizeof af) != 0)
            goto fail;
    }
    if (connect(fd, (const struct sockaddr *)&u->addr, u->addr_len) != 0 && errno != EINPROGRESS)
        goto fail;
    return fd;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return SECUREIO_ERR_IO;
}

int sio_url_format(char *out, size_t *out_len, int type, const struct sockaddr *a, socklen_t len)
{
    char text[SIO_HOST_MAX + 64], host[SIO_HOST_MAX], serv[16];
    int n;
    if (a->sa_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)a;
        size_t plen = len > offsetof(struct sockaddr_un, sun_path)
                          ? strnlen(sun->sun_path, len - offsetof(struct sockaddr_un, sun_path))
                          : 0;
        n = snprintf(text, sizeof text, "%s://%.*s", type == SOCK_DGRAM ? "unixgram" : "unix",
                     (int)plen, sun->sun_path);
    } else {
        if (getnameinfo(a, len, host, sizeof host, serv, sizeof serv,
                        NI_NUMERICHOST | NI_NUMERICSERV) != 0)
            return SECUREIO_ERR_ARG;
        n = snprintf(text, sizeof text, a->sa_family == AF_INET6 ? "%s://[%s]:%s" : "%s://%s:%s",
                     type == SOCK_DGRAM ? "udp" : "tcp", host, serv);
    }
    if (n < 0 || (size_t)n >= sizeof text)
        return SECUREIO_ERR_ARG;
    if (*out_len < (size_t)n + 1) {
        *out_len = (size_t)n + 1;
        return SECUREIO_ERR_BUFFER;
    }
    memcpy(out, text, (size_t)n + 1);
    *out_len = (size_t)n + 1;
    return SECUREIO_OK;
}
