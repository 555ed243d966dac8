/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outgoing side of the gateway, the relay and the client: libcurl.
 * Common options, which fields never cross a hop, reading curl's header
 * lines, and a streaming exchange on a thread of its own (tw_xfer): its
 * request body comes from a pipe, its response goes to callbacks, so that
 * a body of any size passes in constant memory.
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway/ohttp_internal.h"

#include "twoway/bhttp_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init_once(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

int tw_curl_init(void)
{
    pthread_once(&curl_once, curl_init_once);
    return curl_ok ? 0 : -1;
}

void tw_curl_common(CURL *h, uint32_t timeout_ms, uint32_t connect_timeout_ms, const char *ca_file)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout_ms);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    /* no proxy from the environment: where requests go is the caller's */
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    if (ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
}

int tw_http_hop_by_hop(const char *name, size_t len)
{
    static const char *const hop[] = {"connection",
                                      "keep-alive",
                                      "proxy-connection",
                                      "transfer-encoding",
                                      "upgrade",
                                      "te",
                                      "trailer",
                                      "host",
                                      "content-length",
                                      "expect",
                                      "proxy-authorization",
                                      "proxy-authenticate"};
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
        if (strlen(hop[i]) == len && strncasecmp(hop[i], name, len) == 0)
            return 1;
    return 0;
}

int tw_http_header_line(const char *line, size_t len, const char **name, size_t *name_len,
                        const char **value, size_t *value_len, unsigned *status)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    if (len == 0)
        return 3;
    if (len >= 12 && strncmp(line, "HTTP/", 5) == 0) {
        const char *sp = memchr(line, ' ', len);
        if (sp == NULL || (size_t)(sp - line) + 4 > len)
            return 0;
        unsigned s = 0;
        for (int i = 1; i <= 3; i++) {
            if (sp[i] < '0' || sp[i] > '9')
                return 0;
            s = s * 10 + (unsigned)(sp[i] - '0');
        }
        *status = s;
        return 2;
    }
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || colon == line)
        return 0;
    *name = line;
    *name_len = (size_t)(colon - line);
    const char *v = colon + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *value = v;
    *value_len = (size_t)(end - v);
    return 1;
}

/* ------------------------------------------------------------ tw_xfer */

#define XFER_MAX_FIELDS 128u
#define XFER_FIELD_BYTES 32768u

struct tw_xfer {
    CURL *h;
    pthread_t thread;
    int started;
    struct curl_slist *headers;
    tw_pipe body;
    int with_body;
    uint32_t timeout_ms;
    tw_xfer_sink sink;
    /* the response head being gathered */
    unsigned status;
    int head_sent;
    int failed; /* a sink callback said stop */
    int paused; /* the sink's data paused the download */
    size_t n_fields, used;
    twoway_bhttp_field fields[XFER_MAX_FIELDS];
    size_t offs[XFER_MAX_FIELDS][2];
    char store[XFER_FIELD_BYTES];
};

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
    tw_xfer *x = arg;
    long got = tw_pipe_read(&x->body, buf, size * n, x->timeout_ms);
    return got < 0 ? CURL_READFUNC_ABORT : (size_t)got;
}

static int send_head(tw_xfer *x)
{
    if (x->head_sent)
        return 0;
    x->head_sent = 1;
    for (size_t i = 0; i < x->n_fields; i++) {
        x->fields[i].name = (const uint8_t *)x->store + x->offs[i][0];
        x->fields[i].value = (const uint8_t *)x->store + x->offs[i][1];
    }
    if (x->sink.head != NULL && x->sink.head(x->sink.arg, x->status, x->fields, x->n_fields) != 0)
        x->failed = 1;
    return x->failed ? -1 : 0;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
    tw_xfer *x = arg;
    size_t len = size * n;
    const char *name, *value;
    size_t nl, vl;
    unsigned status;
    switch (tw_http_header_line(line, len, &name, &nl, &value, &vl, &status)) {
    case 2: /* a new response: 1xx ones are dropped, a final one replaces them */
        x->status = status;
        x->n_fields = 0;
        x->used = 0;
        break;
    case 1:
        if (x->status < 200 || tw_http_hop_by_hop(name, nl))
            break;
        if (tw_bhttp_name_kind((const uint8_t *)name, nl) != TW_BHTTP_NAME_REGULAR ||
            !tw_bhttp_value_ok((const uint8_t *)value, vl))
            break; /* not something Binary HTTP can carry: left out */
        if (x->n_fields == XFER_MAX_FIELDS || nl + vl > sizeof x->store - x->used)
            return 0; /* too many or too long: fail the exchange */
        x->offs[x->n_fields][0] = x->used;
        for (size_t i = 0; i < nl; i++)
            x->store[x->used + i] = (char)tw_bhttp_lower((uint8_t)name[i]);
        x->used += nl;
        x->offs[x->n_fields][1] = x->used;
        memcpy(x->store + x->used, value, vl);
        x->used += vl;
        x->fields[x->n_fields].name_len = nl;
        x->fields[x->n_fields].value_len = vl;
        x->n_fields++;
        break;
    case 3:
        if (x->status >= 200 && send_head(x) != 0)
            return 0;
        break;
    default: break;
    }
    return len;
}

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
    tw_xfer *x = arg;
    if (send_head(x) != 0)
        return 0;
    int r = x->sink.data != NULL ? x->sink.data(x->sink.arg, (const uint8_t *)p, size * n) : 0;
    if (r == TW_XFER_PAUSE) {
        x->paused = 1;
        return CURL_WRITEFUNC_PAUSE; /* curl keeps these bytes and offers them again */
    }
    if (r != 0) {
        x->failed = 1;
        return 0;
    }
    return size * n;
}

/* curl calls this about once a second even while the download is paused:
 * the place to resume it, on the exchange's own thread. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    tw_xfer *x = arg;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (x->paused && (x->sink.resume == NULL || x->sink.resume(x->sink.arg))) {
        x->paused = 0;
        curl_easy_pause(x->h, CURLPAUSE_CONT); /* may call on_write, which may pause again */
    }
    return 0;
}

static void *xfer_main(void *arg)
{
    tw_xfer *x = arg;
    CURLcode rc = curl_easy_perform(x->h);
    if (rc == CURLE_OK && !x->head_sent && x->status >= 200)
        rc = send_head(x) == 0 ? CURLE_OK : CURLE_WRITE_ERROR;
    if (rc == CURLE_OK && x->status < 200)
        rc = CURLE_WEIRD_SERVER_REPLY;
    if (x->failed)
        rc = CURLE_WRITE_ERROR;
    /* nobody reads the body any more */
    tw_pipe_close_read(&x->body);
    if (x->sink.end != NULL)
        x->sink.end(x->sink.arg, rc);
    return NULL;
}

int tw_xfer_start(tw_xfer **out, const char *method, const char *url, struct curl_slist *headers,
                  int with_body, int64_t body_len, const tw_xfer_sink *sink, uint32_t timeout_ms,
                  uint32_t connect_timeout_ms, const char *ca_file)
{
    *out = NULL;
    if (tw_curl_init() != 0)
        return TWOWAY_ERR_IO;
    tw_xfer *x = calloc(1, sizeof *x);
    if (x == NULL)
        return TWOWAY_ERR_NOMEM;
    if (tw_pipe_init(&x->body, 65536) != 0) {
        free(x);
        return TWOWAY_ERR_NOMEM;
    }
    x->h = curl_easy_init();
    if (x->h == NULL) {
        tw_pipe_destroy(&x->body);
        free(x);
        return TWOWAY_ERR_NOMEM;
    }
    /* no 100-continue round trip: the body follows at once */
    struct curl_slist *h2 = curl_slist_append(headers, "Expect:");
    if (h2 == NULL) {
        curl_easy_cleanup(x->h);
        tw_pipe_destroy(&x->body);
        free(x);
        return TWOWAY_ERR_NOMEM;
    }
    x->headers = headers = h2;
    x->sink = *sink;
    x->timeout_ms = timeout_ms;
    x->with_body = with_body;
    tw_curl_common(x->h, timeout_ms, connect_timeout_ms, ca_file);
    curl_easy_setopt(x->h, CURLOPT_URL, url);
    curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
    if (sink->resume != NULL) {
        curl_easy_setopt(x->h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(x->h, CURLOPT_XFERINFODATA, x);
        curl_easy_setopt(x->h, CURLOPT_NOPROGRESS, 0L);
    }
    if (with_body) {
        curl_easy_setopt(x->h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(x->h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(x->h, CURLOPT_READDATA, x);
        if (body_len >= 0)
            curl_easy_setopt(x->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_len);
        /* CURLOPT_UPLOAD makes it PUT; the method set above is what is sent */
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(x->h, CURLOPT_NOBODY, 1L);
    }
    if (pthread_create(&x->thread, NULL, xfer_main, x) != 0) {
        curl_easy_cleanup(x->h);
        tw_pipe_destroy(&x->body);
        free(x);
        return TWOWAY_ERR_NOMEM;
    }
    x->started = 1;
    *out = x;
    return TWOWAY_OK;
}

tw_pipe *tw_xfer_body(tw_xfer *x)
{
    return &x->body;
}

void tw_xfer_join(tw_xfer *x)
{
    if (x == NULL)
        return;
    if (x->started) {
        /* a writer still waiting gives up */
        tw_pipe_close_write(&x->body, 1);
        pthread_join(x->thread, NULL);
    }
    curl_easy_cleanup(x->h);
    curl_slist_free_all(x->headers);
    tw_pipe_destroy(&x->body);
    free(x);
}
