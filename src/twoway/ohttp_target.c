/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the gateway does with a request once it is open: check its target
 * against the allow-list, turn its fields into an HTTP request, forward it
 * (buffered, on the connection's thread, with the thread's own curl handle
 * so that connections to the origin are kept) or give it to the
 * application's callback; and how a buffered answer is encoded and sealed.
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway/ohttp_gateway_internal.h"

#include "twoway/bhttp_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------- arenas */

/* Appends name and value to a field list whose strings live in arena;
 * pointers are fixed up when read (the arena may move). */
static int add_field(twoway_bhttp_field **fields, size_t *n, size_t *cap, uint8_t **arena,
                     size_t *alen, size_t *acap, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl)
{
    if (tw_array_grow((void **)fields, cap, *n + 1, sizeof **fields) != 0 ||
        tw_array_grow((void **)arena, acap, *alen + nl + vl + 1, 1) != 0)
        return TWOWAY_ERR_NOMEM;
    twoway_bhttp_field *f = &(*fields)[(*n)++];
    /* offsets until fixed up */
    f->name = (const uint8_t *)(uintptr_t)*alen;
    f->name_len = nl;
    memcpy(*arena + *alen, name, nl);
    *alen += nl;
    f->value = (const uint8_t *)(uintptr_t)*alen;
    f->value_len = vl;
    if (vl > 0)
        memcpy(*arena + *alen, value, vl);
    *alen += vl;
    return TWOWAY_OK;
}

/* A copy of the fields with pointers into the arena. */
static twoway_bhttp_field *fixed_fields(const twoway_bhttp_field *f, size_t n, const uint8_t *arena)
{
    twoway_bhttp_field *out = malloc((n ? n : 1) * sizeof *out);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = f[i];
        out[i].name = arena + (uintptr_t)f[i].name;
        out[i].value = arena + (uintptr_t)f[i].value;
    }
    return out;
}

/* ------------------------------------------------------------- target */

void gw_target_init(gw_target *t)
{
    memset(t, 0, sizeof *t);
}

void gw_target_free(gw_target *t)
{
    free(t->fields);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

int gw_target_request(gw_target *t, const twoway_bhttp_event *ev)
{
    size_t total = ev->method_len + ev->scheme_len + ev->authority_len + ev->path_len + 4;
    if (total > sizeof t->ctrl)
        return TWOWAY_ERR_TOO_BIG;
    char *p = t->ctrl;
    const uint8_t *src[4] = {ev->method, ev->scheme, ev->authority, ev->path};
    size_t len[4] = {ev->method_len, ev->scheme_len, ev->authority_len, ev->path_len};
    char **dst[4] = {&t->method, &t->scheme, &t->authority, &t->path};
    for (int i = 0; i < 4; i++) {
        *dst[i] = p;
        if (len[i] > 0)
            memcpy(p, src[i], len[i]);
        p[len[i]] = 0;
        p += len[i] + 1;
    }
    return TWOWAY_OK;
}

int gw_target_field(gw_target *t, const twoway_bhttp_event *ev)
{
    /* Binary HTTP lets any byte but NUL, CR and LF into a value (HTTP/2's
     * rule); HTTP/1.1 does not (RFC 9110 §5.5: no control character but
     * HTAB, no DEL), and the origin is spoken to in HTTP/1.1 */
    for (size_t i = 0; i < ev->value_len; i++)
        if ((ev->value[i] < 0x20 && ev->value[i] != '\t') || ev->value[i] == 0x7f)
            return TWOWAY_ERR_FORMAT;
    if (ev->name_len == 4 && memcmp(ev->name, "host", 4) == 0 && t->host[0] == 0 &&
        ev->value_len < sizeof t->host) {
        memcpy(t->host, ev->value, ev->value_len);
        t->host[ev->value_len] = 0;
    }
    return add_field(&t->fields, &t->n_fields, &t->cap_fields, &t->arena, &t->arena_len,
                     &t->arena_cap, ev->name, ev->name_len, ev->value, ev->value_len);
}

int gw_target_url(const twoway_ohttp_gateway *gw, gw_target *t, char *url, size_t cap,
                  unsigned *status)
{
    const char *auth = t->authority[0] ? t->authority : t->host;
    char origin[700];
    *status = 400;
    if ((strcmp(t->scheme, "http") != 0 && strcmp(t->scheme, "https") != 0) || auth[0] == 0 ||
        t->path[0] != '/' || strpbrk(auth, "@/?#\\") != NULL)
        return -1;
    if (!tw_bhttp_target_ok((const uint8_t *)auth, strlen(auth)))
        return -1;
    /* CONNECT with a scheme and a path (extended CONNECT, RFC 9113 §8.3.1)
     * passes Binary HTTP, but HTTP/1.1 has no such thing: replayed, it is a
     * CONNECT with an origin-form target, which an origin or a proxy in
     * front of it may take as a request for a tunnel. Not forwarded. */
    if (strcmp(t->method, "CONNECT") == 0)
        return -1;
    int n = snprintf(origin, sizeof origin, "%s://%s", t->scheme, auth);
    if (n < 0 || (size_t)n >= sizeof origin)
        return -1;
    *status = 403;
    int allowed = 0;
    for (size_t i = 0; i < gw->opt.n_allowed_origins; i++)
        if (strcasecmp(gw->origins[i], origin) == 0)
            allowed = 1;
    if (!allowed)
        return -1;
    n = snprintf(url, cap, "%s%s", origin, t->path);
    if (n < 0 || (size_t)n >= cap) {
        *status = 414;
        return -1;
    }
    *status = 0;
    return 0;
}

struct curl_slist *gw_target_headers(const gw_target *t)
{
    struct curl_slist *list = NULL, *l;
    char *line = NULL;
    size_t line_cap = 0;
    int host = 0;
    for (size_t i = 0; i < t->n_fields; i++) {
        const char *name = (const char *)t->arena + (uintptr_t)t->fields[i].name;
        size_t nl = t->fields[i].name_len, vl = t->fields[i].value_len;
        const char *value = (const char *)t->arena + (uintptr_t)t->fields[i].value;
        if (name[0] == ':')
            continue; /* HTTP/1.1 has no pseudo-fields */
        if (nl == 4 && memcmp(name, "host", 4) == 0)
            host = 1;
        if (tw_http_hop_by_hop(name, nl))
            continue;
        if (tw_array_grow((void **)&line, &line_cap, nl + vl + 4, 1) != 0)
            goto fail;
        memcpy(line, name, nl);
        /* "name;" is curl's way to send a field with an empty value */
        if (vl == 0) {
            line[nl] = ';';
            line[nl + 1] = 0;
        } else {
            line[nl] = ':';
            line[nl + 1] = ' ';
            memcpy(line + nl + 2, value, vl);
            line[nl + 2 + vl] = 0;
        }
        if ((l = curl_slist_append(list, line)) == NULL)
            goto fail;
        list = l;
    }
    (void)host; /* curl writes Host from the URL, which is the authority */
    /* curl adds none of these unless asked: keep it that way */
    if ((l = curl_slist_append(list, "Accept:")) == NULL)
        goto fail;
    list = l;
    free(line);
    return list;
fail:
    free(line);
    curl_slist_free_all(list);
    return NULL;
}

/* ------------------------------------------------------------ response */

void gw_response_init(twoway_ohttp_response *r, size_t max_body)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->max_body = max_body;
}

void gw_response_free(twoway_ohttp_response *r)
{
    free(r->fields);
    free(r->arena);
    free(r->body);
    memset(r, 0, sizeof *r);
}

int twoway_ohttp_response_status(twoway_ohttp_response *r, unsigned status)
{
    if (r == NULL || status < 200 || status > 599)
        return TWOWAY_ERR_ARG;
    r->status = status;
    return TWOWAY_OK;
}

int twoway_ohttp_response_header(twoway_ohttp_response *r, const char *name, const char *value)
{
    if (r == NULL || name == NULL || value == NULL ||
        tw_bhttp_name_kind((const uint8_t *)name, strlen(name)) != TW_BHTTP_NAME_REGULAR ||
        !tw_bhttp_value_ok((const uint8_t *)value, strlen(value)))
        return TWOWAY_ERR_ARG;
    return add_field(&r->fields, &r->n_fields, &r->cap_fields, &r->arena, &r->arena_len,
                     &r->arena_cap, (const uint8_t *)name, strlen(name), (const uint8_t *)value,
                     strlen(value));
}

int twoway_ohttp_response_body(twoway_ohttp_response *r, const void *data, size_t len)
{
    if (r == NULL || (data == NULL && len > 0))
        return TWOWAY_ERR_ARG;
    if (len > r->max_body - r->body_len || r->body_len > r->max_body) {
        r->too_big = 1;
        return TWOWAY_ERR_TOO_BIG;
    }
    if (tw_array_grow((void **)&r->body, &r->body_cap, r->body_len + len, 1) != 0)
        return TWOWAY_ERR_NOMEM;
    if (len > 0)
        memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    return TWOWAY_OK;
}

int gw_response_error(twoway_ohttp_response *r, unsigned status, const char *text)
{
    free(r->fields);
    free(r->arena);
    free(r->body);
    size_t max = r->max_body;
    gw_response_init(r, max < 256 ? 256 : max);
    r->status = status;
    if (twoway_ohttp_response_header(r, "content-type", "text/plain") != TWOWAY_OK)
        return TWOWAY_ERR_NOMEM;
    return twoway_ohttp_response_body(r, text, strlen(text));
}

int gw_response_seal(const twoway_ohttp_response *r, const twoway_context *ctx, int chunked,
                     uint8_t **out, size_t *out_len)
{
    twoway_bhttp_message m;
    twoway_sealer *s = NULL;
    uint8_t *pt = NULL, *ct = NULL;
    size_t pt_len = 0;
    int rc;
    *out = NULL;
    twoway_bhttp_field *f = fixed_fields(r->fields, r->n_fields, r->arena);
    if (f == NULL)
        return TWOWAY_ERR_NOMEM;
    memset(&m, 0, sizeof m);
    m.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    m.response = 1;
    m.status = (uint16_t)r->status;
    m.headers = f;
    m.n_headers = r->n_fields;
    m.content = r->body;
    m.content_len = r->body_len;
    m.truncate = 1;
    int form = chunked ? TWOWAY_BHTTP_INDETERMINATE : TWOWAY_BHTTP_KNOWN_LENGTH;
    rc = twoway_bhttp_encode(&m, form, NULL, &pt_len);
    if (rc != TWOWAY_ERR_BUFFER)
        goto done;
    if ((pt = malloc(pt_len)) == NULL) {
        rc = TWOWAY_ERR_NOMEM;
        goto done;
    }
    if ((rc = twoway_bhttp_encode(&m, form, pt, &pt_len)) != TWOWAY_OK)
        goto done;
    const char *mt = chunked ? TWOWAY_OHTTP_CHUNKED_RESPONSE : TWOWAY_OHTTP_RESPONSE;
    twoway_options o = TWOWAY_OPTIONS_INIT;
    o.chunked = chunked;
    o.max_chunk_len = 16384;
    if ((rc = twoway_response_sealer_new(&s, ctx, (const uint8_t *)mt, strlen(mt), &o)) !=
        TWOWAY_OK)
        goto done;
    size_t cap = twoway_sealer_max_output(s, pt_len);
    if (cap == SIZE_MAX || (ct = malloc(cap)) == NULL) {
        rc = TWOWAY_ERR_NOMEM;
        goto done;
    }
    size_t ct_len = cap;
    if ((rc = twoway_sealer_final(s, ct, &ct_len, pt, pt_len)) != TWOWAY_OK)
        goto done;
    *out = ct;
    *out_len = ct_len;
    ct = NULL;
done:
    twoway_sealer_free(s);
    free(ct);
    free(pt);
    free(f);
    return rc;
}

/* ----------------------------------------------------------- forwarding */

typedef struct fwd {
    twoway_ohttp_response *r;
    int in_final; /* headers of a final (>= 200) response */
} fwd;

static size_t fwd_header(char *line, size_t size, size_t n, void *arg)
{
    fwd *f = arg;
    const char *name, *value;
    size_t nl, vl, len = size * n;
    unsigned status;
    switch (tw_http_header_line(line, len, &name, &nl, &value, &vl, &status)) {
    case 2: /* a new response (after a 1xx): start over */
        free(f->r->fields);
        free(f->r->arena);
        f->r->fields = NULL;
        f->r->arena = NULL;
        f->r->n_fields = f->r->cap_fields = f->r->arena_len = f->r->arena_cap = 0;
        f->r->status = status;
        f->in_final = status >= 200;
        break;
    case 1:
        if (!f->in_final || tw_http_hop_by_hop(name, nl) ||
            tw_bhttp_name_kind((const uint8_t *)name, nl) != TW_BHTTP_NAME_REGULAR ||
            !tw_bhttp_value_ok((const uint8_t *)value, vl))
            break;
        {
            char lower[256];
            if (nl >= sizeof lower)
                break;
            for (size_t i = 0; i < nl; i++)
                lower[i] = (char)tw_bhttp_lower((uint8_t)name[i]);
            if (add_field(&f->r->fields, &f->r->n_fields, &f->r->cap_fields, &f->r->arena,
                          &f->r->arena_len, &f->r->arena_cap, (const uint8_t *)lower, nl,
                          (const uint8_t *)value, vl) != TWOWAY_OK)
                return 0;
        }
        break;
    default: break;
    }
    return len;
}

static size_t fwd_body(char *p, size_t size, size_t n, void *arg)
{
    fwd *f = arg;
    return twoway_ohttp_response_body(f->r, p, size * n) == TWOWAY_OK ? size * n : 0;
}

static pthread_key_t curl_key;
static pthread_once_t curl_key_once = PTHREAD_ONCE_INIT;

static void curl_key_free(void *h)
{
    curl_easy_cleanup(h);
}

static void curl_key_make(void)
{
    (void)pthread_key_create(&curl_key, curl_key_free);
}

/* This thread's handle: kept between requests, with its connections. */
static CURL *thread_curl(void)
{
    pthread_once(&curl_key_once, curl_key_make);
    CURL *h = pthread_getspecific(curl_key);
    if (h != NULL) {
        curl_easy_reset(h);
        return h;
    }
    h = curl_easy_init();
    if (h != NULL && pthread_setspecific(curl_key, h) != 0) {
        curl_easy_cleanup(h);
        return NULL;
    }
    return h;
}

void gw_forward_buffered(twoway_ohttp_gateway *gw, gw_target *t, const char *url,
                         const uint8_t *body, size_t body_len, twoway_ohttp_response *r)
{
    CURL *h = tw_curl_init() == 0 ? thread_curl() : NULL;
    struct curl_slist *hdr = gw_target_headers(t);
    fwd f = {r, 0};
    if (h == NULL || hdr == NULL) {
        curl_slist_free_all(hdr);
        (void)gw_response_error(r, 500, "gateway error\n");
        return;
    }
    struct curl_slist *h2 = curl_slist_append(hdr, "Expect:");
    if (h2 != NULL)
        hdr = h2;
    tw_curl_common(h, gw->opt.timeout_ms, gw->opt.connect_timeout_ms, gw->ca_file);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, t->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fwd_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &f);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fwd_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
    if (strcmp(t->method, "HEAD") == 0) {
        /* HEAD first: curl must know that the answer has no content, or it
         * waits for what its Content-Length says until timeout_ms. Content
         * sent with a HEAD has no meaning (RFC 9110 §9.3.2): dropped. */
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (body_len > 0 || strcmp(t->method, "POST") == 0 || strcmp(t->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? (const char *)body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdr);
    GW_STAT(gw, st_forwarded);
    /* curl takes any three digits as a status; Binary HTTP only 200-599.
     * Anything else is the origin's failure, answered inside (502): left
     * to the encoder it failed the seal, an unsealed outer 500 that told the
     * relay something about the answer. */
    if (rc == CURLE_OK && f.in_final && r->status <= 599)
        return;
    GW_STAT(gw, st_origin_errors);
    if (rc == CURLE_OK)
        (void)gw_response_error(r, 502, "bad answer from origin\n");
    else if (r->too_big || rc == CURLE_WRITE_ERROR)
        (void)gw_response_error(r, 502, "origin response too large\n");
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        (void)gw_response_error(r, 504, "origin timed out\n");
    else
        (void)gw_response_error(r, 502, "origin unreachable\n");
}

void gw_call_handler(twoway_ohttp_gateway *gw, gw_target *t, const uint8_t *body, size_t len,
                     int chunked, twoway_ohttp_response *r)
{
    twoway_ohttp_request req;
    twoway_bhttp_field *f = fixed_fields(t->fields, t->n_fields, t->arena);
    if (f == NULL) {
        (void)gw_response_error(r, 500, "gateway error\n");
        return;
    }
    req.method = t->method;
    req.scheme = t->scheme;
    req.authority = t->authority[0] ? t->authority : t->host;
    req.path = t->path;
    req.headers = f;
    req.n_headers = t->n_fields;
    req.body = body;
    req.body_len = len;
    req.chunked = chunked;
    GW_STAT(gw, st_forwarded);
    if (gw->opt.handler(gw->opt.handler_arg, &req, r) != 0 || r->too_big)
        (void)gw_response_error(r, 500, "application error\n");
    free(f);
}
