/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Binary HTTP encoder (RFC 9292 §3): whole messages, or a message in three
 * parts (head, content chunks, tail) for content of any size. Every string
 * is checked by the rules the decoder applies (bhttp_syntax.c) before a byte
 * is written, and every length sum is checked for overflow; field names are
 * written in lower case.
 */
#include <twoway/bhttp.h>

#include "twoway/bhttp_internal.h"
#include "twoway/message_internal.h"

#include <string.h>

/* A writer over the caller's buffer that keeps counting past its end, so
 * that one pass gives the size needed. */
typedef struct wr {
    uint8_t *out;
    size_t cap, n;
    int overflow;
} wr;

static void put(wr *w, const void *p, size_t len)
{
    if (w->overflow || len > SIZE_MAX - w->n) {
        w->overflow = 1;
        return;
    }
    if (w->n + len <= w->cap && len > 0)
        memcpy(w->out + w->n, p, len);
    w->n += len;
}

static void put_varint(wr *w, uint64_t v)
{
    uint8_t b[8];
    size_t len = tw_varint_len(v);
    if (len == 0) {
        w->overflow = 1;
        return;
    }
    tw_varint_put(b, v);
    put(w, b, len);
}

static void put_string(wr *w, const uint8_t *p, size_t len)
{
    put_varint(w, len);
    put(w, p, len);
}

static void put_lower(wr *w, const uint8_t *p, size_t len)
{
    if (w->overflow || len > SIZE_MAX - w->n) {
        w->overflow = 1;
        return;
    }
    if (w->n + len <= w->cap)
        for (size_t i = 0; i < len; i++)
            w->out[w->n + i] = tw_bhttp_lower(p[i]);
    w->n += len;
}

static void put_zeros(wr *w, size_t len)
{
    if (w->overflow || len > SIZE_MAX - w->n) {
        w->overflow = 1;
        return;
    }
    if (w->n + len <= w->cap && len > 0)
        memset(w->out + w->n, 0, len);
    w->n += len;
}

static int str_ok(const uint8_t *p, size_t n)
{
    return p != NULL || n == 0;
}

/* The fields are valid (pseudo-fields first, and only where pseudo allows
 * them: not in trailers), and their encoded size. */
static int fields_check(const twoway_bhttp_field *f, size_t n, int pseudo, uint64_t *size)
{
    int regular = 0;
    uint64_t total = 0;
    if (n > 0 && f == NULL)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!str_ok(f[i].name, f[i].name_len) || !str_ok(f[i].value, f[i].value_len))
            return 0;
        enum tw_bhttp_name_kind k = tw_bhttp_name_kind(f[i].name, f[i].name_len);
        if (k == TW_BHTTP_NAME_BAD || (k == TW_BHTTP_NAME_PSEUDO && (regular || !pseudo)) ||
            !tw_bhttp_value_ok(f[i].value, f[i].value_len))
            return 0;
        if (k == TW_BHTTP_NAME_REGULAR)
            regular = 1;
        uint64_t line = (uint64_t)tw_varint_len(f[i].name_len) + f[i].name_len +
                        tw_varint_len(f[i].value_len) + f[i].value_len;
        if (f[i].name_len > TWOWAY_BHTTP_MAX_VARINT || f[i].value_len > TWOWAY_BHTTP_MAX_VARINT ||
            line > TWOWAY_BHTTP_MAX_VARINT - total)
            return 0;
        total += line;
    }
    *size = total;
    return 1;
}

static void put_fields(wr *w, const twoway_bhttp_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put_varint(w, f[i].name_len);
        put_lower(w, f[i].name, f[i].name_len);
        put_string(w, f[i].value, f[i].value_len);
    }
}

/* A field section in form; size from fields_check. */
static void put_section(wr *w, int form, const twoway_bhttp_field *f, size_t n, uint64_t size)
{
    if (form == TWOWAY_BHTTP_KNOWN_LENGTH)
        put_varint(w, size);
    put_fields(w, f, n);
    if (form == TWOWAY_BHTTP_INDETERMINATE)
        put_varint(w, 0);
}

static int message_check(const twoway_bhttp_message *m, int form)
{
    uint64_t size;
    if (m == NULL || m->version != TWOWAY_BHTTP_MESSAGE_VERSION ||
        (form != TWOWAY_BHTTP_KNOWN_LENGTH && form != TWOWAY_BHTTP_INDETERMINATE) ||
        (m->response != 0 && m->response != 1))
        return 0;
    if (m->response) {
        if (m->status < 200 || m->status > 599)
            return 0;
        if (m->n_informational > 0 && m->informational == NULL)
            return 0;
        for (size_t i = 0; i < m->n_informational; i++) {
            const twoway_bhttp_informational *inf = &m->informational[i];
            if (inf->status < 100 || inf->status > 199 ||
                !fields_check(inf->fields, inf->n_fields, 1, &size))
                return 0;
        }
    } else {
        if (!str_ok(m->method, m->method_len) || !str_ok(m->scheme, m->scheme_len) ||
            !str_ok(m->authority, m->authority_len) || !str_ok(m->path, m->path_len) ||
            !tw_bhttp_control_ok(m->method, m->method_len, m->scheme, m->scheme_len, m->authority,
                                 m->authority_len, m->path, m->path_len))
            return 0;
    }
    return fields_check(m->headers, m->n_headers, 1, &size) &&
           fields_check(m->trailers, m->n_trailers, 0, &size) &&
           m->content_len <= TWOWAY_BHTTP_MAX_VARINT;
}

/* Framing indicator, informational responses, control data, header section. */
static void put_head(wr *w, const twoway_bhttp_message *m, int form, int header_section)
{
    uint64_t size = 0;
    put_varint(w, TW_BHTTP_FRAMING(form, m->response));
    if (m->response) {
        for (size_t i = 0; i < m->n_informational; i++) {
            const twoway_bhttp_informational *inf = &m->informational[i];
            put_varint(w, inf->status);
            (void)fields_check(inf->fields, inf->n_fields, 1, &size);
            put_section(w, form, inf->fields, inf->n_fields, size);
        }
        put_varint(w, m->status);
    } else {
        put_string(w, m->method, m->method_len);
        put_string(w, m->scheme, m->scheme_len);
        put_string(w, m->authority, m->authority_len);
        put_string(w, m->path, m->path_len);
    }
    if (header_section) {
        (void)fields_check(m->headers, m->n_headers, 1, &size);
        put_section(w, form, m->headers, m->n_headers, size);
    }
}

static int finish(wr *w, size_t *out_len)
{
    if (w->overflow)
        return TWOWAY_ERR_TOO_BIG;
    if (w->n > w->cap) {
        *out_len = w->n;
        return TWOWAY_ERR_BUFFER;
    }
    *out_len = w->n;
    return TWOWAY_OK;
}

static int start(wr *w, uint8_t *out, size_t *out_len)
{
    if (out_len == NULL || (out == NULL && *out_len != 0))
        return 0;
    w->out = out;
    w->cap = *out_len;
    w->n = 0;
    w->overflow = 0;
    return 1;
}

int twoway_bhttp_encode(const twoway_bhttp_message *m, int form, uint8_t *out, size_t *out_len)
{
    wr w;
    uint64_t tsize = 0;
    if (!start(&w, out, out_len) || !message_check(m, form) ||
        (m->content_len > 0 && m->content == NULL))
        return TWOWAY_ERR_ARG;
    int keep_trailer = !m->truncate || m->n_trailers > 0;
    int keep_content = keep_trailer || m->content_len > 0;
    int keep_header = keep_content || m->n_headers > 0;
    put_head(&w, m, form, keep_header);
    if (keep_content) {
        if (form == TWOWAY_BHTTP_KNOWN_LENGTH) {
            put_string(&w, m->content, m->content_len);
        } else {
            if (m->content_len > 0)
                put_string(&w, m->content, m->content_len);
            put_varint(&w, 0);
        }
    }
    if (keep_trailer) {
        (void)fields_check(m->trailers, m->n_trailers, 0, &tsize);
        put_section(&w, form, m->trailers, m->n_trailers, tsize);
    }
    put_zeros(&w, m->padding);
    return finish(&w, out_len);
}

int twoway_bhttp_encode_head(const twoway_bhttp_message *m, int form, uint8_t *out, size_t *out_len)
{
    wr w;
    if (!start(&w, out, out_len) || !message_check(m, form))
        return TWOWAY_ERR_ARG;
    put_head(&w, m, form, 1);
    if (form == TWOWAY_BHTTP_KNOWN_LENGTH)
        put_varint(&w, m->content_len);
    return finish(&w, out_len);
}

size_t twoway_bhttp_chunk_prefix(uint64_t len, uint8_t out[TWOWAY_BHTTP_MAX_PREFIX_LEN])
{
    if (len == 0 || len > TWOWAY_BHTTP_MAX_VARINT || out == NULL)
        return 0;
    return tw_varint_put(out, len);
}

int twoway_bhttp_encode_tail(const twoway_bhttp_message *m, int form, uint8_t *out, size_t *out_len)
{
    wr w;
    uint64_t tsize = 0;
    if (!start(&w, out, out_len) || !message_check(m, form))
        return TWOWAY_ERR_ARG;
    if (form == TWOWAY_BHTTP_INDETERMINATE)
        put_varint(&w, 0);
    if (!m->truncate || m->n_trailers > 0) {
        (void)fields_check(m->trailers, m->n_trailers, 0, &tsize);
        put_section(&w, form, m->trailers, m->n_trailers, tsize);
    }
    put_zeros(&w, m->padding);
    return finish(&w, out_len);
}
