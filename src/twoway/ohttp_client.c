/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Oblivious HTTP client: one round trip. The request is encoded as
 * Binary HTTP and sealed (whole, or chunk by chunk as curl uploads it);
 * the answer is opened (whole, or chunk by chunk as it arrives) and handed
 * to the caller's sink only once authenticated.
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway/ohttp_internal.h"

#include "common/detail.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PIECE 16384u
#define MAX_KEYS_LEN 65536u
#define MAX_ERROR_BODY 4096u

typedef struct growbuf {
    uint8_t *p;
    size_t len, cap, max;
    int too_big;
} growbuf;

static size_t grow_write(char *p, size_t size, size_t n, void *arg)
{
    growbuf *b = arg;
    size_t len = size * n;
    if (len > b->max - b->len) {
        b->too_big = 1;
        return 0;
    }
    if (tw_array_grow((void **)&b->p, &b->cap, b->len + len, 1) != 0)
        return 0;
    memcpy(b->p + b->len, p, len);
    b->len += len;
    return len;
}

static void opt_defaults(twoway_ohttp_client_options *o, const twoway_ohttp_client_options *in)
{
    twoway_ohttp_client_options d;
    memset(&d, 0, sizeof d);
    d.version = TWOWAY_OHTTP_CLIENT_OPTIONS_VERSION;
    *o = in != NULL ? *in : d;
    if (o->timeout_ms == 0)
        o->timeout_ms = TWOWAY_OHTTP_DEFAULT_TIMEOUT_MS;
    if (o->connect_timeout_ms == 0)
        o->connect_timeout_ms = TWOWAY_OHTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    if (o->max_response_len == 0)
        o->max_response_len = TWOWAY_DEFAULT_MAX_MESSAGE_LEN;
}

static int curl_fail(CURLcode rc, const char *url)
{
    util_detail("%s: %s", url, curl_easy_strerror(rc));
    return TWOWAY_ERR_IO;
}

int twoway_ohttp_fetch_keys(const char *url, const twoway_ohttp_client_options *opt, uint8_t *out,
                            size_t *out_len)
{
    twoway_ohttp_client_options o;
    growbuf b = {NULL, 0, 0, MAX_KEYS_LEN, 0};
    size_t n = 0;
    util_detail_clear();
    if (url == NULL || out_len == NULL ||
        (opt != NULL && opt->version != TWOWAY_OHTTP_CLIENT_OPTIONS_VERSION))
        return TWOWAY_ERR_ARG;
    opt_defaults(&o, opt);
    if (tw_curl_init() != 0)
        return TWOWAY_ERR_IO;
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Accept: " TWOWAY_OHTTP_KEYS_MEDIA_TYPE);
    if (h == NULL || hdr == NULL) {
        curl_easy_cleanup(h);
        curl_slist_free_all(hdr);
        return TWOWAY_ERR_NOMEM;
    }
    tw_curl_common(h, o.timeout_ms, o.connect_timeout_ms, o.ca_file);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grow_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    CURLcode crc = curl_easy_perform(h);
    long status = 0;
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    int rc = TWOWAY_OK;
    if (crc != CURLE_OK) {
        rc = b.too_big ? TWOWAY_ERR_TOO_BIG : curl_fail(crc, url);
    } else if (status != 200) {
        util_detail("%s: HTTP status %ld, not 200", url, status);
        rc = TWOWAY_ERR_IO;
    } else if (ct == NULL || strncasecmp(ct, TWOWAY_OHTTP_KEYS_MEDIA_TYPE,
                                         strlen(TWOWAY_OHTTP_KEYS_MEDIA_TYPE)) != 0) {
        util_detail("%s: not %s", url, TWOWAY_OHTTP_KEYS_MEDIA_TYPE);
        rc = TWOWAY_ERR_FORMAT;
    } else {
        rc = twoway_key_configs_decode(NULL, 0, &n, b.p, b.len);
        if (rc == TWOWAY_ERR_BUFFER)
            rc = TWOWAY_OK; /* well-formed, something usable in it */
        if (rc != TWOWAY_OK)
            util_detail("%s: the key configurations are not valid: %s", url, twoway_strerror(rc));
    }
    if (rc == TWOWAY_OK) {
        if (*out_len < b.len || out == NULL) {
            rc = TWOWAY_ERR_BUFFER;
        } else {
            memcpy(out, b.p, b.len);
        }
        *out_len = b.len;
    }
    free(b.p);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}

/* ----------------------------------------------------------- the request */

typedef struct target {
    char scheme[16];
    char authority[512];
    const char *path; /* into the URL */
    size_t path_len;
} target;

static int parse_target(const char *url, target *t)
{
    const char *sep = strstr(url, "://");
    if (sep == NULL || (size_t)(sep - url) >= sizeof t->scheme || sep == url)
        return -1;
    memcpy(t->scheme, url, (size_t)(sep - url));
    t->scheme[sep - url] = 0;
    for (char *p = t->scheme; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    const char *a = sep + 3, *e = a + strcspn(a, "/?#");
    if (e == a || (size_t)(e - a) >= sizeof t->authority)
        return -1;
    memcpy(t->authority, a, (size_t)(e - a));
    t->authority[e - a] = 0;
    if (*e == 0 || *e == '#') {
        t->path = "/";
        t->path_len = 1;
    } else if (*e == '?') { /* "http://h?q" means "/?q" */
        return -1;
    } else {
        t->path = e;
        t->path_len = strcspn(e, "#");
    }
    return 0;
}

typedef struct fetch {
    const twoway_ohttp_fetch_request *req;
    const twoway_ohttp_fetch_sink *sink;
    twoway_bhttp_message m;
    twoway_sealer *s;
    /* chunked upload */
    uint8_t *pending, *scratch;
    size_t pending_len, pending_off, pending_cap;
    int stage; /* 0 head, 1 body, 2 done */
    size_t body_off;
    int read_error;
    /* response */
    twoway_opener *o;
    twoway_bhttp_decoder *d;
    uint8_t *pt;
    size_t pt_cap;
    long status;
    int checked;
    growbuf err; /* a non-200 body */
    int rc;      /* the first error of the response side */
    int sink_stop;
    int ended;
} fetch;

static int deliver(fetch *f, const twoway_bhttp_event *ev)
{
    const twoway_ohttp_fetch_sink *k = f->sink;
    int r = 0;
    if (k == NULL)
        return 0;
    switch (ev->type) {
    case TWOWAY_BHTTP_INFORMATIONAL:
    case TWOWAY_BHTTP_STATUS:
        if (k->status != NULL)
            r = k->status(k->arg, ev->status, ev->type == TWOWAY_BHTTP_INFORMATIONAL);
        break;
    case TWOWAY_BHTTP_FIELD:
        if (k->field != NULL)
            r = k->field(k->arg, ev->section, ev->name, ev->name_len, ev->value, ev->value_len);
        break;
    case TWOWAY_BHTTP_CONTENT:
        if (k->body != NULL)
            r = k->body(k->arg, ev->data, ev->data_len);
        break;
    case TWOWAY_BHTTP_END: f->ended = 1; break;
    default: break;
    }
    if (r != 0)
        f->sink_stop = 1;
    return r;
}

/* Decodes plaintext of the response and delivers it. */
static int decode_pt(fetch *f, const uint8_t *pt, size_t len, int last)
{
    size_t off = 0;
    for (;;) {
        twoway_bhttp_event ev;
        size_t used;
        int rc = twoway_bhttp_decode(f->d, pt + off, len - off, last, &used, &ev);
        if (rc != TWOWAY_OK)
            return rc;
        off += used;
        if (ev.type == TWOWAY_BHTTP_NEED_MORE)
            return TWOWAY_OK;
        if (deliver(f, &ev) != 0)
            return TWOWAY_ERR_IO;
        if (ev.type == TWOWAY_BHTTP_END)
            return TWOWAY_OK;
    }
}

/* The media type of a 200 answer must be the response's. */
static int media_ok(CURL *h, int chunked)
{
    char *ct = NULL;
    const char *want = chunked ? TWOWAY_OHTTP_CHUNKED_RES_MEDIA_TYPE : TWOWAY_OHTTP_RES_MEDIA_TYPE;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    if (ct == NULL || strncasecmp(ct, want, strlen(want)) != 0)
        return 0;
    ct += strlen(want);
    return *ct == 0 || *ct == ';' || *ct == ' ';
}

static void check_head(fetch *f, CURL *h)
{
    if (f->checked)
        return;
    f->checked = 1;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->status);
    if (f->status == 200 && !media_ok(h, 1)) {
        util_detail("the answer is not %s", TWOWAY_OHTTP_CHUNKED_RES_MEDIA_TYPE);
        f->rc = TWOWAY_ERR_FORMAT;
    }
}

static int contains(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, s, k) == 0)
            return 1;
    return 0;
}

typedef struct chunked_ctx {
    fetch *f;
    CURL *h;
} chunked_ctx;

static size_t on_chunked_write(char *p, size_t size, size_t n, void *arg)
{
    chunked_ctx *c = arg;
    fetch *f = c->f;
    size_t len = size * n;
    check_head(f, c->h);
    if (f->status != 200)
        return grow_write(p, size, n, &f->err) == len ? len : 0;
    if (f->rc != TWOWAY_OK)
        return 0;
    size_t need = twoway_opener_max_output(f->o, len);
    if (need > f->pt_cap) {
        uint8_t *q = realloc(f->pt, need);
        if (q == NULL) {
            f->rc = TWOWAY_ERR_NOMEM;
            return 0;
        }
        f->pt = q;
        f->pt_cap = need;
    }
    size_t out = f->pt_cap;
    f->rc = twoway_opener_update(f->o, f->pt, &out, (const uint8_t *)p, len);
    if (f->rc == TWOWAY_OK)
        f->rc = decode_pt(f, f->pt, out, 0);
    return f->rc == TWOWAY_OK ? len : 0;
}

/* Produces the next sealed bytes of a chunked request into pending. */
static int produce(fetch *f)
{
    uint8_t *pt = NULL;
    size_t pt_len = 0, cap;
    int final = 0, rc;
    f->pending_len = f->pending_off = 0;
    if (f->stage == 0) {
        size_t len = 0;
        rc = twoway_bhttp_encode_head(&f->m, TWOWAY_BHTTP_INDETERMINATE, NULL, &len);
        if (rc != TWOWAY_ERR_BUFFER)
            return rc == TWOWAY_OK ? TWOWAY_ERR_ARG : rc;
        uint8_t *head = malloc(len);
        if (head == NULL)
            return TWOWAY_ERR_NOMEM;
        rc = twoway_bhttp_encode_head(&f->m, TWOWAY_BHTTP_INDETERMINATE, head, &len);
        if (rc == TWOWAY_OK) {
            cap = twoway_sealer_max_output(f->s, len);
            if (cap > f->pending_cap) {
                uint8_t *q = realloc(f->pending, cap);
                if (q == NULL) {
                    free(head);
                    return TWOWAY_ERR_NOMEM;
                }
                f->pending = q;
                f->pending_cap = cap;
            }
            f->pending_len = f->pending_cap;
            rc = twoway_sealer_update(f->s, f->pending, &f->pending_len, head, len);
        }
        free(head);
        f->stage = 1;
        return rc;
    }
    /* body: a piece, or the end */
    const twoway_ohttp_fetch_request *r = f->req;
    size_t got = 0;
    uint8_t *data = f->scratch + TWOWAY_BHTTP_MAX_PREFIX_LEN;
    if (r->body_read != NULL) {
        long n = r->body_read(r->body_src, data, PIECE);
        if (n < 0) {
            f->read_error = 1;
            return TWOWAY_ERR_IO;
        }
        got = (size_t)n;
    } else if (f->body_off < r->body_len) {
        got = r->body_len - f->body_off < PIECE ? r->body_len - f->body_off : PIECE;
        memcpy(data, r->body + f->body_off, got);
        f->body_off += got;
    }
    if (got > 0) {
        uint8_t pre[TWOWAY_BHTTP_MAX_PREFIX_LEN];
        size_t pl = twoway_bhttp_chunk_prefix(got, pre);
        pt = data - pl;
        memcpy(pt, pre, pl);
        pt_len = pl + got;
    } else {
        twoway_bhttp_message tail = f->m;
        tail.n_trailers = 0;
        tail.truncate = 1;
        pt = f->scratch;
        pt_len = TWOWAY_BHTTP_MAX_PREFIX_LEN;
        rc = twoway_bhttp_encode_tail(&tail, TWOWAY_BHTTP_INDETERMINATE, pt, &pt_len);
        if (rc != TWOWAY_OK)
            return rc;
        final = 1;
        f->stage = 2;
    }
    cap = twoway_sealer_max_output(f->s, pt_len);
    if (cap > f->pending_cap) {
        uint8_t *q = realloc(f->pending, cap);
        if (q == NULL)
            return TWOWAY_ERR_NOMEM;
        f->pending = q;
        f->pending_cap = cap;
    }
    f->pending_len = f->pending_cap;
    return final ? twoway_sealer_final(f->s, f->pending, &f->pending_len, pt, pt_len)
                 : twoway_sealer_update(f->s, f->pending, &f->pending_len, pt, pt_len);
}

static size_t on_chunked_read(char *buf, size_t size, size_t n, void *arg)
{
    fetch *f = ((chunked_ctx *)arg)->f;
    size_t room = size * n;
    while (f->pending_off == f->pending_len) {
        if (f->stage == 2)
            return 0;
        int rc = produce(f);
        if (rc != TWOWAY_OK) {
            f->rc = rc;
            return CURL_READFUNC_ABORT;
        }
    }
    size_t k = f->pending_len - f->pending_off;
    if (k > room)
        k = room;
    memcpy(buf, f->pending + f->pending_off, k);
    f->pending_off += k;
    return k;
}

/* A status other than 200: what it means. */
static int outer_error(fetch *f, const char *url)
{
    if (f->status == 400 && f->err.p != NULL && contains(f->err.p, f->err.len, "#ohttp-key")) {
        util_detail("%s: the gateway does not know the key (fetch its keys again)", url);
        return TWOWAY_ERR_KEY_MISMATCH;
    }
    util_detail("%s: HTTP status %ld", url, f->status);
    return TWOWAY_ERR_IO;
}

int twoway_ohttp_fetch(const char *url, const twoway_ohttp_fetch_request *req,
                       const twoway_ohttp_fetch_sink *sink, const twoway_ohttp_client_options *opt,
                       unsigned *http_status)
{
    twoway_ohttp_client_options o;
    fetch f;
    target t;
    uint8_t *keys = NULL, *pt = NULL, *ct = NULL;
    size_t keys_len = 0, pt_len = 0, ct_len = 0;
    CURL *h = NULL;
    struct curl_slist *hdr = NULL;
    growbuf resp = {NULL, 0, 0, 0, 0};
    int rc;

    util_detail_clear();
    if (http_status != NULL)
        *http_status = 0;
    if (url == NULL || req == NULL || req->url == NULL ||
        (req->body == NULL && req->body_len > 0) || (req->n_headers > 0 && req->headers == NULL) ||
        (opt != NULL && opt->version != TWOWAY_OHTTP_CLIENT_OPTIONS_VERSION))
        return TWOWAY_ERR_ARG;
    if (parse_target(req->url, &t) != 0) {
        util_detail("not a target URL (scheme://authority/path): '%s'", req->url);
        return TWOWAY_ERR_ARG;
    }
    opt_defaults(&o, opt);
    if (tw_curl_init() != 0)
        return TWOWAY_ERR_IO;
    memset(&f, 0, sizeof f);
    f.req = req;
    f.sink = sink;
    f.err.max = MAX_ERROR_BODY;

    /* the gateway's keys */
    if (o.key_configs != NULL) {
        keys = (uint8_t *)(uintptr_t)o.key_configs;
        keys_len = o.key_configs_len;
    } else {
        keys_len = MAX_KEYS_LEN;
        if ((keys = malloc(keys_len)) == NULL)
            return TWOWAY_ERR_NOMEM;
        rc = twoway_ohttp_fetch_keys(o.keys_url != NULL ? o.keys_url : url, &o, keys, &keys_len);
        if (rc != TWOWAY_OK) {
            free(keys);
            return rc;
        }
    }
    const char *req_mt = o.chunked ? TWOWAY_OHTTP_CHUNKED_REQUEST : TWOWAY_OHTTP_REQUEST;
    const char *res_mt = o.chunked ? TWOWAY_OHTTP_CHUNKED_RESPONSE : TWOWAY_OHTTP_RESPONSE;
    twoway_options so = TWOWAY_OPTIONS_INIT;
    so.chunked = o.chunked;
    so.max_chunk_len = o.chunked ? PIECE : 0;
    rc = twoway_request_sealer_new_for_configs(&f.s, keys, keys_len, TWOWAY_ANY_KEY_ID, 0, 0,
                                               (const uint8_t *)req_mt, strlen(req_mt), &so);
    if (keys != o.key_configs)
        free(keys);
    if (rc != TWOWAY_OK) {
        util_detail("no usable key in the gateway's key configurations: %s", twoway_strerror(rc));
        return rc;
    }

    /* the Binary HTTP request */
    const char *method = req->method;
    if (method == NULL)
        method = (req->body_len > 0 || req->body_read != NULL) ? "POST" : "GET";
    f.m.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    f.m.method = (const uint8_t *)method;
    f.m.method_len = strlen(method);
    f.m.scheme = (const uint8_t *)t.scheme;
    f.m.scheme_len = strlen(t.scheme);
    f.m.authority = (const uint8_t *)t.authority;
    f.m.authority_len = strlen(t.authority);
    f.m.path = (const uint8_t *)t.path;
    f.m.path_len = t.path_len;
    f.m.headers = req->headers;
    f.m.n_headers = req->n_headers;

    twoway_options oo = TWOWAY_OPTIONS_INIT;
    oo.chunked = o.chunked;
    oo.max_chunk_len = 65536;
    oo.max_message_len = o.max_response_len;
    if ((rc = twoway_response_opener_new(&f.o, twoway_sealer_context(f.s), (const uint8_t *)res_mt,
                                         strlen(res_mt), &oo)) != TWOWAY_OK ||
        (rc = twoway_bhttp_decoder_new(&f.d, 1, NULL)) != TWOWAY_OK)
        goto out;

    h = curl_easy_init();
    hdr = curl_slist_append(NULL, o.chunked ? "Content-Type: " TWOWAY_OHTTP_CHUNKED_REQ_MEDIA_TYPE
                                            : "Content-Type: " TWOWAY_OHTTP_REQ_MEDIA_TYPE);
    struct curl_slist *h2 = hdr != NULL ? curl_slist_append(hdr, "Expect:") : NULL;
    /* chunked: asks every hop to pass the chunks on as they come
     * (draft-ietf-ohai-chunked-ohttp, the Incremental field) */
    if (h2 != NULL && o.chunked)
        h2 = curl_slist_append(h2, "Incremental: ?1");
    if (h == NULL || h2 == NULL) {
        rc = TWOWAY_ERR_NOMEM;
        goto out;
    }
    hdr = h2;
    tw_curl_common(h, o.timeout_ms, o.connect_timeout_ms, o.ca_file);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    chunked_ctx cc = {&f, h};
    if (o.chunked) {
        if ((f.scratch = malloc(PIECE + TWOWAY_BHTTP_MAX_PREFIX_LEN)) == NULL) {
            rc = TWOWAY_ERR_NOMEM;
            goto out;
        }
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_chunked_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &cc);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_chunked_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &cc);
    } else {
        /* the whole request in memory */
        growbuf body = {NULL, 0, 0, TWOWAY_DEFAULT_MAX_MESSAGE_LEN, 0};
        if (req->body_read != NULL) {
            uint8_t piece[PIECE];
            for (;;) {
                long n = req->body_read(req->body_src, piece, sizeof piece);
                if (n < 0 ||
                    (n > 0 && grow_write((char *)piece, 1, (size_t)n, &body) != (size_t)n)) {
                    free(body.p);
                    util_detail(n < 0 ? "the request body could not be read"
                                      : "the request body is too large for an unchunked request");
                    rc = n < 0 ? TWOWAY_ERR_IO : TWOWAY_ERR_TOO_BIG;
                    goto out;
                }
                if (n == 0)
                    break;
            }
            f.m.content = body.p;
            f.m.content_len = body.len;
        } else {
            f.m.content = req->body;
            f.m.content_len = req->body_len;
        }
        f.m.truncate = 1;
        rc = twoway_bhttp_encode(&f.m, TWOWAY_BHTTP_KNOWN_LENGTH, NULL, &pt_len);
        if (rc == TWOWAY_ERR_BUFFER)
            rc = (pt = malloc(pt_len)) == NULL
                     ? TWOWAY_ERR_NOMEM
                     : twoway_bhttp_encode(&f.m, TWOWAY_BHTTP_KNOWN_LENGTH, pt, &pt_len);
        free(body.p);
        f.m.content = NULL;
        if (rc != TWOWAY_OK) {
            if (rc == TWOWAY_ERR_ARG)
                util_detail("the request cannot be written as Binary HTTP (a header field?)");
            goto out;
        }
        ct_len = twoway_sealer_max_output(f.s, pt_len);
        if ((ct = malloc(ct_len)) == NULL) {
            rc = TWOWAY_ERR_NOMEM;
            goto out;
        }
        if ((rc = twoway_sealer_final(f.s, ct, &ct_len, pt, pt_len)) != TWOWAY_OK)
            goto out;
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)ct);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)ct_len);
        resp.max = o.max_response_len;
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grow_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    }
    CURLcode crc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (http_status != NULL)
        *http_status = (unsigned)status;
    f.status = status;
    if (o.chunked) {
        if (f.rc != TWOWAY_OK) {
            rc = f.sink_stop ? TWOWAY_ERR_IO : f.rc;
            if (f.read_error)
                util_detail("the request body could not be read");
            goto out;
        }
        if (crc != CURLE_OK) {
            rc = curl_fail(crc, url);
            goto out;
        }
        if (status != 200) {
            rc = outer_error(&f, url);
            goto out;
        }
        size_t out_len = f.pt_cap;
        if (f.pt == NULL && (f.pt = malloc(1)) == NULL) {
            rc = TWOWAY_ERR_NOMEM;
            goto out;
        }
        rc = twoway_opener_final(f.o, f.pt, &out_len, NULL, 0);
        if (rc == TWOWAY_OK)
            rc = decode_pt(&f, f.pt, out_len, 1);
    } else {
        if (crc != CURLE_OK) {
            rc = resp.too_big ? TWOWAY_ERR_TOO_BIG : curl_fail(crc, url);
            goto out;
        }
        if (status != 200) {
            f.err = resp;
            resp.p = NULL;
            rc = outer_error(&f, url);
            goto out;
        }
        if (!media_ok(h, 0)) {
            util_detail("%s: the answer is not %s", url, TWOWAY_OHTTP_RES_MEDIA_TYPE);
            rc = TWOWAY_ERR_FORMAT;
            goto out;
        }
        size_t out_len = twoway_opener_max_output(f.o, resp.len);
        f.pt_cap = out_len;
        if ((f.pt = malloc(out_len ? out_len : 1)) == NULL) {
            rc = TWOWAY_ERR_NOMEM;
            goto out;
        }
        rc = twoway_opener_final(f.o, f.pt, &out_len, resp.p, resp.len);
        if (rc == TWOWAY_OK)
            rc = decode_pt(&f, f.pt, out_len, 1);
    }
    if (rc == TWOWAY_OK && !f.ended)
        rc = TWOWAY_ERR_TRUNCATED;
    if (f.sink_stop)
        rc = TWOWAY_ERR_IO;
out:
    if (pt != NULL)
        util_wipe(pt, pt_len);
    free(pt);
    free(ct);
    free(resp.p);
    free(f.err.p);
    free(f.pending);
    free(f.scratch);
    if (f.pt != NULL)
        util_wipe(f.pt, f.pt_cap);
    free(f.pt);
    twoway_bhttp_decoder_free(f.d);
    twoway_opener_free(f.o);
    twoway_sealer_free(f.s);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}
