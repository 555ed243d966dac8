/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test origin (origin.h): libmicrohttpd with a thread per connection,
 * like the library's own listening side (src/twoway/ohttp_server.c).
 */
#define _POSIX_C_SOURCE 200809L

#include "origin.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_ECHO ((size_t)1 << 20)
#define MAX_PATHS 64
#define MAX_HEADER_TEXT 16384

typedef struct seen {
    char path[256];
    char *text;
} seen;

struct origin {
    struct MHD_Daemon *d;
    int stopping;
    uint64_t requests, bytes_in, bytes_out;
    pthread_mutex_t mu;
    seen paths[MAX_PATHS];
    size_t next_slot;
};

enum kind { K_OTHER = 0, K_BYTES, K_SUM, K_ECHO, K_SLOW, K_STATUS, K_HEADERS };

typedef struct oreq {
    enum kind kind;
    uint64_t len, hash;
    uint8_t *buf;
    size_t blen;
    int too_big;
    char *headers; /* this request's header lines */
    size_t hlen;
} oreq;

/* ------------------------------------------------------------- helpers */

uint64_t origin_fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void origin_fill(uint8_t *buf, uint64_t off, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint64_t pos = off + i;
        uint64_t w = mix(pos / 8);
        unsigned k = (unsigned)(pos % 8);
        for (; k < 8 && i < n; k++, i++)
            buf[i] = (uint8_t)(w >> (8 * k));
    }
}

static size_t path_len(const char *url)
{
    return strcspn(url, "?");
}

/* ------------------------------------------------------- header record */

typedef struct hdr_acc {
    char *p;
    size_t len, cap;
} hdr_acc;

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    hdr_acc *a = cls;
    (void)kind;
    size_t kl = strlen(key), vl = value != NULL ? strlen(value) : 0;
    if (a->len + kl + vl + 4 > a->cap)
        return MHD_YES; /* the rest is cut */
    for (size_t i = 0; i < kl; i++) {
        char ch = key[i];
        a->p[a->len++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
    }
    a->p[a->len++] = ':';
    a->p[a->len++] = ' ';
    if (vl > 0)
        memcpy(a->p + a->len, value, vl);
    a->len += vl;
    a->p[a->len++] = '\n';
    a->p[a->len] = 0;
    return MHD_YES;
}

static void record(origin *o, const char *url, oreq *q, struct MHD_Connection *c)
{
    hdr_acc a = {malloc(MAX_HEADER_TEXT), 0, MAX_HEADER_TEXT};
    if (a.p == NULL)
        return;
    a.p[0] = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &a);
    q->headers = a.p;
    q->hlen = a.len;
    size_t pl = path_len(url);
    if (pl >= sizeof o->paths[0].path)
        return;
    char *copy = malloc(a.len + 1);
    if (copy == NULL)
        return;
    memcpy(copy, a.p, a.len + 1);
    pthread_mutex_lock(&o->mu);
    seen *slot = NULL;
    for (size_t i = 0; i < MAX_PATHS && slot == NULL; i++)
        if (o->paths[i].text != NULL && strlen(o->paths[i].path) == pl &&
            memcmp(o->paths[i].path, url, pl) == 0)
            slot = &o->paths[i];
    if (slot == NULL) {
        slot = &o->paths[o->next_slot];
        o->next_slot = (o->next_slot + 1) % MAX_PATHS;
        memcpy(slot->path, url, pl);
        slot->path[pl] = 0;
    }
    free(slot->text);
    slot->text = copy;
    pthread_mutex_unlock(&o->mu);
}

long origin_headers_seen(origin *o, const char *path, char *buf, size_t cap)
{
    long ret = -1;
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < MAX_PATHS; i++)
        if (o->paths[i].text != NULL && strcmp(o->paths[i].path, path) == 0) {
            size_t n = strlen(o->paths[i].text);
            if (cap > 0) {
                size_t k = n < cap - 1 ? n : cap - 1;
                memcpy(buf, o->paths[i].text, k);
                buf[k] = 0;
            }
            ret = (long)n;
        }
    pthread_mutex_unlock(&o->mu);
    return ret;
}

/* ------------------------------------------------------------ answers */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const void *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

typedef struct bytes_src {
    origin *o;
    uint64_t n;
} bytes_src;

static ssize_t bytes_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    bytes_src *b = cls;
    if (pos >= b->n)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t k = b->n - pos < max ? (size_t)(b->n - pos) : max;
    origin_fill((uint8_t *)buf, pos, k);
    __atomic_add_fetch(&b->o->bytes_out, k, __ATOMIC_RELAXED);
    return (ssize_t)k;
}

static enum MHD_Result answer_bytes(origin *o, struct MHD_Connection *c, const char *url)
{
    char *end;
    unsigned long long n = strtoull(url + 7, &end, 10);
    if (end == url + 7 || (*end != 0 && *end != '?') || n > ((uint64_t)1 << 40))
        return reply(c, 400, "text/plain", "bad length\n", 11);
    bytes_src *b = malloc(sizeof *b);
    if (b == NULL)
        return MHD_NO;
    b->o = o;
    b->n = n;
    struct MHD_Response *r = MHD_create_response_from_callback(n, 65536, bytes_read, b, free);
    if (r == NULL) {
        free(b);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(r, "X-Origin", "bytes");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

typedef struct echo_acc {
    struct MHD_Response *r;
} echo_acc;

static enum MHD_Result echo_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    echo_acc *e = cls;
    char name[256];
    (void)kind;
    int n = snprintf(name, sizeof name, "x-echo-%s", key);
    if (n > 0 && (size_t)n < sizeof name) {
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        MHD_add_response_header(e->r, name, value != NULL ? value : "");
    }
    return MHD_YES;
}

static enum MHD_Result answer_echo(struct MHD_Connection *c, oreq *q)
{
    if (q->too_big)
        return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain", "too big\n", 8);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        q->blen, q->buf != NULL ? (void *)q->buf : (void *)(uintptr_t) "", MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            ct != NULL ? ct : "application/octet-stream");
    echo_acc e = {r};
    MHD_get_connection_values(c, MHD_HEADER_KIND, echo_header, &e);
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result answer_slow(origin *o, struct MHD_Connection *c, const char *url)
{
    long ms = 3000;
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ms");
    (void)url;
    if (v != NULL)
        ms = strtol(v, NULL, 10);
    for (long t = 0; t < ms && !__atomic_load_n(&o->stopping, __ATOMIC_RELAXED); t += 10) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return reply(c, MHD_HTTP_OK, "text/plain", "slow\n", 5);
}

static enum MHD_Result answer_status(struct MHD_Connection *c, const char *url)
{
    char *end;
    unsigned long s = strtoul(url + 8, &end, 10);
    char body[32];
    if (end == url + 8 || s < 200 || s > 599)
        return reply(c, 400, "text/plain", "bad status\n", 11);
    if (s == 204 || s == 304)
        return reply(c, (unsigned)s, NULL, NULL, 0);
    int n = snprintf(body, sizeof body, "status %lu\n", s);
    return reply(c, (unsigned)s, "text/plain", body, (size_t)n);
}

static enum kind kind_of(const char *url, const char *method)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strncmp(url, "/headers/", 9) == 0 || strcmp(url, "/headers") == 0)
        return K_HEADERS;
    if (get && strncmp(url, "/bytes/", 7) == 0)
        return K_BYTES;
    if ((strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) && path_len(url) == 4 &&
        strncmp(url, "/sum", 4) == 0)
        return K_SUM;
    if (strcmp(method, "POST") == 0 && path_len(url) == 5 && strncmp(url, "/echo", 5) == 0)
        return K_ECHO;
    if (get && path_len(url) == 5 && strncmp(url, "/slow", 5) == 0)
        return K_SLOW;
    if (get && strncmp(url, "/status/", 8) == 0)
        return K_STATUS;
    return K_OTHER;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    origin *o = cls;
    oreq *q = *con_cls;
    (void)version;
    if (q == NULL) {
        q = calloc(1, sizeof *q);
        if (q == NULL)
            return MHD_NO;
        q->kind = kind_of(url, method);
        q->hash = ORIGIN_FNV_INIT;
        __atomic_add_fetch(&o->requests, 1, __ATOMIC_RELAXED);
        record(o, url, q, c);
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        __atomic_add_fetch(&o->bytes_in, n, __ATOMIC_RELAXED);
        q->len += n;
        if (q->kind == K_SUM) {
            q->hash = origin_fnv(q->hash, (const uint8_t *)upload, n);
        } else if (q->kind == K_ECHO && !q->too_big) {
            if (n > MAX_ECHO - q->blen) {
                q->too_big = 1;
                return MHD_YES;
            }
            if (q->buf == NULL && (q->buf = malloc(MAX_ECHO)) == NULL)
                return MHD_NO;
            memcpy(q->buf + q->blen, upload, n);
            q->blen += n;
        }
        return MHD_YES;
    }
    switch (q->kind) {
    case K_BYTES: return answer_bytes(o, c, url);
    case K_SUM: {
        char body[96];
        int n = snprintf(body, sizeof body, "len=%llu sum=%016llx", (unsigned long long)q->len,
                         (unsigned long long)q->hash);
        return reply(c, MHD_HTTP_OK, "text/plain", body, (size_t)n);
    }
    case K_ECHO: return answer_echo(c, q);
    case K_SLOW: return answer_slow(o, c, url);
    case K_STATUS: return answer_status(c, url);
    case K_HEADERS:
        return reply(c, MHD_HTTP_OK, "text/plain", q->headers != NULL ? q->headers : "", q->hlen);
    default: return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    oreq *q = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (q == NULL)
        return;
    free(q->buf);
    free(q->headers);
    free(q);
    *con_cls = NULL;
}

/* ------------------------------------------------------------ lifetime */

int origin_start(origin **out, unsigned *port)
{
    struct sockaddr_in a;
    origin *o = calloc(1, sizeof *o);
    *out = NULL;
    if (o == NULL)
        return -1;
    if (pthread_mutex_init(&o->mu, NULL) != 0) {
        free(o);
        return -1;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)*port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    o->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                            NULL, NULL, on_request, o, MHD_OPTION_SOCK_ADDR,
                            (const struct sockaddr *)&a, MHD_OPTION_CONNECTION_LIMIT, 512u,
                            MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, o, MHD_OPTION_LISTEN_BACKLOG_SIZE, 512u, MHD_OPTION_END);
    if (o->d == NULL) {
        pthread_mutex_destroy(&o->mu);
        free(o);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(o->d, MHD_DAEMON_INFO_BIND_PORT);
    *port = info != NULL ? info->port : 0;
    *out = o;
    return 0;
}

void origin_stop(origin *o)
{
    if (o == NULL)
        return;
    __atomic_store_n(&o->stopping, 1, __ATOMIC_RELAXED);
    MHD_stop_daemon(o->d);
    for (size_t i = 0; i < MAX_PATHS; i++)
        free(o->paths[i].text);
    pthread_mutex_destroy(&o->mu);
    free(o);
}

void origin_stats_get(origin *o, origin_stats *st)
{
    st->requests = __atomic_load_n(&o->requests, __ATOMIC_RELAXED);
    st->bytes_in = __atomic_load_n(&o->bytes_in, __ATOMIC_RELAXED);
    st->bytes_out = __atomic_load_n(&o->bytes_out, __ATOMIC_RELAXED);
}
