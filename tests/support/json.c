/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tj: a small, strict JSON reader for the test suite.  See json.h.
 */
#include "json.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *s;
    size_t len;
} tj_key_t;

struct tj_value {
    tj_type type;
    int flag;        /* TJ_BOOL: value; TJ_NUMBER: 1 if integral in int64 range */
    double num;      /* TJ_NUMBER */
    int64_t inum;    /* TJ_NUMBER when flag */
    size_t n;        /* TJ_STRING: byte length; containers: child count */
    size_t cap;      /* containers: allocated slots */
    char *str;       /* TJ_STRING */
    tj_value *items; /* TJ_ARRAY elements / TJ_OBJECT member values */
    tj_key_t *keys;  /* TJ_OBJECT member keys (parallel to items) */
};

typedef struct {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;
    char *err;
    size_t errlen;
    int depth;
    int failed;
} tj_parser;

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void
tj_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Records the first error only; always returns -1. */
static int tj_fail(tj_parser *ps, const unsigned char *at, const char *msg)
{
    size_t off, line = 1, col = 1;
    const unsigned char *q;

    if (ps->failed)
        return -1;
    ps->failed = 1;
    if (at < ps->start)
        at = ps->start;
    if (at > ps->end)
        at = ps->end;
    off = (size_t)(at - ps->start);
    for (q = ps->start; q < at; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    tj_set_err(ps->err, ps->errlen, "json: %s at byte offset %zu (line %zu, column %zu)", msg, off,
               line, col);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Tree helpers                                                             */

static void tj_free_contents(tj_value *v)
{
    size_t i;

    switch (v->type) {
    case TJ_STRING: free(v->str); break;
    case TJ_ARRAY:
    case TJ_OBJECT:
        for (i = 0; i < v->n; i++) {
            tj_free_contents(&v->items[i]);
            if (v->keys != NULL)
                free(v->keys[i].s);
        }
        free(v->items);
        free(v->keys);
        break;
    default: break;
    }
    memset(v, 0, sizeof(*v));
    v->type = TJ_NULL;
}

/* Ensures room for one more child.  Returns 0 or -1 (out of memory). */
static int tj_grow(tj_value *v, int with_keys)
{
    size_t ncap;
    tj_value *items;

    if (v->n < v->cap)
        return 0;
    ncap = v->cap ? v->cap * 2 : 4;
    if (ncap < v->cap || ncap > ((size_t)-1) / sizeof(tj_value))
        return -1;
    items = realloc(v->items, ncap * sizeof(tj_value));
    if (items == NULL)
        return -1;
    v->items = items;
    if (with_keys) {
        tj_key_t *keys = realloc(v->keys, ncap * sizeof(tj_key_t));
        if (keys == NULL)
            return -1; /* items stays larger than cap: harmless */
        v->keys = keys;
    }
    v->cap = ncap;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Lexing                                                                   */

static void tj_skip_ws(tj_parser *ps)
{
    const unsigned char *p = ps->p, *end = ps->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    ps->p = p;
}

static int tj_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads 4 hex digits at p (caller guarantees 4 bytes are available). */
static long tj_hex4(const unsigned char *p)
{
    long v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        int h = tj_hexval(p[i]);
        if (h < 0)
            return -1;
        v = (v << 4) | h;
    }
    return v;
}

/* Length of a valid UTF-8 sequence starting at p (< lim), or 0 if invalid. */
static size_t tj_utf8_len(const unsigned char *p, const unsigned char *lim)
{
    unsigned char c = p[0];
    size_t need, i;
    unsigned char lo = 0x80, hi = 0xBF;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0; /* no overlongs */
        else if (c == 0xED)
            hi = 0x9F; /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90; /* no overlongs */
        else if (c == 0xF4)
            hi = 0x8F; /* <= U+10FFFF */
    } else {
        return 0;
    }
    if ((size_t)(lim - p) < need + 1)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i <= need; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return need + 1;
}

static size_t tj_put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string token at ps->p (which points at '"').  On success *out is a
 * malloc'd NUL-terminated decoded string of *outlen bytes. */
static int tj_parse_string(tj_parser *ps, char **out, size_t *outlen)
{
    const unsigned char *open = ps->p;
    const unsigned char *q = open + 1, *end = ps->end, *close;
    char *buf, *o;

    /* Pass 1: find the closing quote, reject raw control characters. */
    for (;;) {
        unsigned char c;
        if (q >= end)
            return tj_fail(ps, open, "unterminated string");
        c = *q;
        if (c == '"')
            break;
        if (c == '\\') {
            if (end - q < 2)
                return tj_fail(ps, open, "unterminated string");
            q += 2;
            continue;
        }
        if (c < 0x20)
            return tj_fail(ps, q, "unescaped control character in string");
        q++;
    }
    close = q;

    /* Pass 2: decode; the result is never longer than the raw text. */
    buf = malloc((size_t)(close - open));
    if (buf == NULL)
        return tj_fail(ps, open, "out of memory");
    o = buf;
    q = open + 1;
    while (q < close) {
        unsigned char c = *q;
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            *o++ = (char)c;
            q++;
        } else if (c == '\\') {
            unsigned char e = q[1]; /* exists: pass 1 checked */
            switch (e) {
            case '"':
                *o++ = '"';
                q += 2;
                break;
            case '\\':
                *o++ = '\\';
                q += 2;
                break;
            case '/':
                *o++ = '/';
                q += 2;
                break;
            case 'b':
                *o++ = '\b';
                q += 2;
                break;
            case 'f':
                *o++ = '\f';
                q += 2;
                break;
            case 'n':
                *o++ = '\n';
                q += 2;
                break;
            case 'r':
                *o++ = '\r';
                q += 2;
                break;
            case 't':
                *o++ = '\t';
                q += 2;
                break;
            case 'u': {
                long hi, lo;
                unsigned long cp;
                if (close - q < 6 || (hi = tj_hex4(q + 2)) < 0) {
                    free(buf);
                    return tj_fail(ps, q, "invalid \\u escape (need 4 hex digits)");
                }
                if (hi >= 0xDC00 && hi <= 0xDFFF) {
                    free(buf);
                    return tj_fail(ps, q, "lone low surrogate in \\u escape");
                }
                if (hi >= 0xD800 && hi <= 0xDBFF) {
                    if (close - q < 12 || q[6] != '\\' || q[7] != 'u') {
                        free(buf);
                        return tj_fail(ps, q, "lone high surrogate in \\u escape");
                    }
                    lo = tj_hex4(q + 8);
                    if (lo < 0) {
                        free(buf);
                        return tj_fail(ps, q + 6, "invalid \\u escape (need 4 hex digits)");
                    }
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        free(buf);
                        return tj_fail(ps, q + 6, "high surrogate not followed by low surrogate");
                    }
                    cp = 0x10000UL + (((unsigned long)hi - 0xD800UL) << 10) +
                         ((unsigned long)lo - 0xDC00UL);
                    q += 12;
                } else {
                    cp = (unsigned long)hi;
                    q += 6;
                }
                o += tj_put_utf8(o, cp);
                break;
            }
            default: free(buf); return tj_fail(ps, q, "invalid escape sequence in string");
            }
        } else {
            /* c >= 0x80 (control characters were rejected in pass 1) */
            size_t n = tj_utf8_len(q, close);
            if (n == 0) {
                free(buf);
                return tj_fail(ps, q, "invalid UTF-8 in string");
            }
            memcpy(o, q, n);
            o += n;
            q += n;
        }
    }
    *o = '\0';
    *out = buf;
    *outlen = (size_t)(o - buf);
    ps->p = close + 1;
    return 0;
}

static int tj_parse_number(tj_parser *ps, tj_value *out)
{
    const unsigned char *s = ps->p, *p = ps->p, *end = ps->end;
    int neg = 0, plain_int = 1;
    uint64_t acc = 0;
    int acc_ovf = 0;
    char stackbuf[80], *buf;
    const char *dp;
    size_t toklen, dplen, bi;
    double d;
    const unsigned char *t;

    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return tj_fail(ps, s, "invalid number (expected digit)");
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return tj_fail(ps, s, "invalid number (leading zero)");
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            unsigned dig = (unsigned)(*p - '0');
            if (acc > (UINT64_MAX - dig) / 10)
                acc_ovf = 1;
            else
                acc = acc * 10 + dig;
            p++;
        }
    }
    if (p < end && *p == '.') {
        plain_int = 0;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return tj_fail(ps, p, "invalid number (expected digit after '.')");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        plain_int = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return tj_fail(ps, p, "invalid number (expected digit in exponent)");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }

    /* Convert with strtod, honouring the current locale's decimal point. */
    toklen = (size_t)(p - s);
    dp = localeconv()->decimal_point;
    if (dp == NULL || dp[0] == '\0')
        dp = ".";
    dplen = strlen(dp);
    if (toklen + dplen + 1 <= sizeof(stackbuf)) {
        buf = stackbuf;
    } else {
        buf = malloc(toklen + dplen + 1);
        if (buf == NULL)
            return tj_fail(ps, s, "out of memory");
    }
    bi = 0;
    for (t = s; t < p; t++) {
        if (*t == '.') {
            memcpy(buf + bi, dp, dplen);
            bi += dplen;
        } else {
            buf[bi++] = (char)*t;
        }
    }
    buf[bi] = '\0';
    d = strtod(buf, NULL);
    if (buf != stackbuf)
        free(buf);
    if (isinf(d) || isnan(d))
        return tj_fail(ps, s, "number out of range");

    out->type = TJ_NUMBER;
    out->num = d;
    out->flag = 0;
    out->inum = 0;
    if (plain_int && !acc_ovf) {
        if (!neg && acc <= (uint64_t)INT64_MAX) {
            out->flag = 1;
            out->inum = (int64_t)acc;
        } else if (neg && acc <= (uint64_t)INT64_MAX + 1u) {
            out->flag = 1;
            out->inum = acc == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)acc;
        }
    } else if (!plain_int && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
               (double)(int64_t)d == d) {
        out->flag = 1;
        out->inum = (int64_t)d;
    }
    ps->p = p;
    return 0;
}

static int tj_parse_literal(tj_parser *ps, const char *word, size_t wlen)
{
    if ((size_t)(ps->end - ps->p) < wlen || memcmp(ps->p, word, wlen) != 0)
        return tj_fail(ps, ps->p, "invalid literal");
    ps->p += wlen;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Grammar                                                                  */

static int tj_parse_value(tj_parser *ps, tj_value *out);

static int tj_parse_array(tj_parser *ps, tj_value *out)
{
    const unsigned char *open = ps->p;

    if (++ps->depth > TJ_MAX_DEPTH)
        return tj_fail(ps, open, "nesting too deep (max 64)");
    out->type = TJ_ARRAY;
    ps->p++;
    tj_skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        if (tj_grow(out, 0) != 0) {
            tj_fail(ps, ps->p, "out of memory");
            goto fail;
        }
        memset(&out->items[out->n], 0, sizeof(tj_value));
        if (tj_parse_value(ps, &out->items[out->n]) != 0)
            goto fail;
        out->n++;
        tj_skip_ws(ps);
        if (ps->p >= ps->end) {
            tj_fail(ps, ps->p, "unexpected end of input in array");
            goto fail;
        }
        if (*ps->p == ',') {
            ps->p++;
            tj_skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ']') {
                tj_fail(ps, ps->p, "trailing comma in array");
                goto fail;
            }
            continue;
        }
        if (*ps->p == ']') {
            ps->p++;
            break;
        }
        tj_fail(ps, ps->p, "expected ',' or ']' in array");
        goto fail;
    }
    ps->depth--;
    return 0;
fail:
    tj_free_contents(out);
    return -1;
}

static int tj_key_order(const tj_key_t *x, const tj_key_t *y)
{
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, m);
    if (c != 0)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int tj_key_cmp(const void *a, const void *b)
{
    return tj_key_order(*(const tj_key_t *const *)a, *(const tj_key_t *const *)b);
}

/* Returns 1 if the object has a duplicate key, 0 if not, -1 if out of memory. */
static int tj_has_dup_keys(const tj_value *obj)
{
    size_t i, j;
    const tj_key_t **idx;
    int dup = 0;

    if (obj->n < 2)
        return 0;
    if (obj->n <= 16) {
        for (i = 0; i < obj->n; i++)
            for (j = i + 1; j < obj->n; j++)
                if (tj_key_order(&obj->keys[i], &obj->keys[j]) == 0)
                    return 1;
        return 0;
    }
    idx = malloc(obj->n * sizeof(*idx));
    if (idx == NULL)
        return -1;
    for (i = 0; i < obj->n; i++)
        idx[i] = &obj->keys[i];
    qsort(idx, obj->n, sizeof(*idx), tj_key_cmp);
    for (i = 1; i < obj->n && !dup; i++)
        if (tj_key_cmp(&idx[i - 1], &idx[i]) == 0)
            dup = 1;
    free(idx);
    return dup;
}

static int tj_parse_object(tj_parser *ps, tj_value *out)
{
    const unsigned char *open = ps->p;
    int dup;

    if (++ps->depth > TJ_MAX_DEPTH)
        return tj_fail(ps, open, "nesting too deep (max 64)");
    out->type = TJ_OBJECT;
    ps->p++;
    tj_skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        size_t klen = 0;

        if (ps->p >= ps->end) {
            tj_fail(ps, ps->p, "unexpected end of input in object");
            goto fail;
        }
        if (*ps->p != '"') {
            tj_fail(ps, ps->p, "expected string key in object");
            goto fail;
        }
        if (tj_parse_string(ps, &key, &klen) != 0)
            goto fail;
        tj_skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            free(key);
            tj_fail(ps, ps->p, "expected ':' after object key");
            goto fail;
        }
        ps->p++;
        if (tj_grow(out, 1) != 0) {
            free(key);
            tj_fail(ps, ps->p, "out of memory");
            goto fail;
        }
        memset(&out->items[out->n], 0, sizeof(tj_value));
        if (tj_parse_value(ps, &out->items[out->n]) != 0) {
            free(key);
            goto fail;
        }
        out->keys[out->n].s = key;
        out->keys[out->n].len = klen;
        out->n++;
        tj_skip_ws(ps);
        if (ps->p >= ps->end) {
            tj_fail(ps, ps->p, "unexpected end of input in object");
            goto fail;
        }
        if (*ps->p == ',') {
            ps->p++;
            tj_skip_ws(ps);
            if (ps->p < ps->end && *ps->p == '}') {
                tj_fail(ps, ps->p, "trailing comma in object");
                goto fail;
            }
            continue;
        }
        if (*ps->p == '}') {
            ps->p++;
            break;
        }
        tj_fail(ps, ps->p, "expected ',' or '}' in object");
        goto fail;
    }
    dup = tj_has_dup_keys(out);
    if (dup != 0) {
        tj_fail(ps, open, dup < 0 ? "out of memory" : "duplicate key in object");
        goto fail;
    }
    ps->depth--;
    return 0;
fail:
    tj_free_contents(out);
    return -1;
}

static int tj_parse_value(tj_parser *ps, tj_value *out)
{
    unsigned char c;
    char msg[64];

    tj_skip_ws(ps);
    if (ps->p >= ps->end)
        return tj_fail(ps, ps->p, "unexpected end of input");
    c = *ps->p;
    switch (c) {
    case '{': return tj_parse_object(ps, out);
    case '[': return tj_parse_array(ps, out);
    case '"':
        if (tj_parse_string(ps, &out->str, &out->n) != 0)
            return -1;
        out->type = TJ_STRING;
        return 0;
    case 't':
        if (tj_parse_literal(ps, "true", 4) != 0)
            return -1;
        out->type = TJ_BOOL;
        out->flag = 1;
        return 0;
    case 'f':
        if (tj_parse_literal(ps, "false", 5) != 0)
            return -1;
        out->type = TJ_BOOL;
        out->flag = 0;
        return 0;
    case 'n':
        if (tj_parse_literal(ps, "null", 4) != 0)
            return -1;
        out->type = TJ_NULL;
        return 0;
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return tj_parse_number(ps, out);
        if (c == 0xEF && ps->end - ps->p >= 3 && ps->p[1] == 0xBB && ps->p[2] == 0xBF)
            return tj_fail(ps, ps->p, "byte-order mark not allowed");
        if (c >= 0x21 && c < 0x7F)
            snprintf(msg, sizeof(msg), "unexpected character '%c'", (char)c);
        else
            snprintf(msg, sizeof(msg), "unexpected byte 0x%02x", (unsigned)c);
        return tj_fail(ps, ps->p, msg);
    }
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

tj_value *tj_parse(const char *text, size_t len, char *err, size_t errlen)
{
    tj_parser ps;
    tj_value *root;
    static const unsigned char empty[1] = {0};

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (text == NULL && len != 0) {
        tj_set_err(err, errlen, "json: NULL text");
        return NULL;
    }
    memset(&ps, 0, sizeof(ps));
    ps.start = text ? (const unsigned char *)text : empty;
    ps.p = ps.start;
    ps.end = ps.start + len;
    ps.err = err;
    ps.errlen = errlen;

    tj_skip_ws(&ps);
    if (ps.p >= ps.end) {
        tj_fail(&ps, ps.p, len == 0 ? "empty input" : "no value (only whitespace)");
        return NULL;
    }
    root = calloc(1, sizeof(*root));
    if (root == NULL) {
        tj_set_err(err, errlen, "json: out of memory");
        return NULL;
    }
    root->type = TJ_NULL;
    if (tj_parse_value(&ps, root) != 0) {
        free(root);
        return NULL;
    }
    tj_skip_ws(&ps);
    if (ps.p != ps.end) {
        tj_fail(&ps, ps.p, "trailing characters after JSON value");
        tj_free(root);
        return NULL;
    }
    return root;
}

tj_value *tj_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f;
    char *buf = NULL, *nb;
    size_t len = 0, cap = 0, got;
    tj_value *v;
    char perr[256];

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL) {
        tj_set_err(err, errlen, "json: NULL path");
        return NULL;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        tj_set_err(err, errlen, "json: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap < cap) {
                tj_set_err(err, errlen, "json: %s: file too large", path);
                goto fail;
            }
            nb = realloc(buf, ncap);
            if (nb == NULL) {
                tj_set_err(err, errlen, "json: %s: out of memory", path);
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                tj_set_err(err, errlen, "json: read error on %s", path);
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    v = tj_parse(buf, len, perr, sizeof(perr));
    free(buf);
    if (v == NULL)
        tj_set_err(err, errlen, "%s: %s", path, perr);
    return v;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

void tj_free(tj_value *v)
{
    if (v == NULL)
        return;
    tj_free_contents(v);
    free(v);
}

tj_type tj_typeof(const tj_value *v)
{
    return v ? v->type : TJ_NULL;
}

size_t tj_len(const tj_value *v)
{
    if (v == NULL)
        return 0;
    if (v->type == TJ_ARRAY || v->type == TJ_OBJECT || v->type == TJ_STRING)
        return v->n;
    return 0;
}

const tj_value *tj_at(const tj_value *v, size_t i)
{
    if (v == NULL || (v->type != TJ_ARRAY && v->type != TJ_OBJECT) || i >= v->n)
        return NULL;
    return &v->items[i];
}

const char *tj_key(const tj_value *obj, size_t i)
{
    if (obj == NULL || obj->type != TJ_OBJECT || i >= obj->n)
        return NULL;
    return obj->keys[i].s;
}

const tj_value *tj_get(const tj_value *obj, const char *key)
{
    size_t i, klen;

    if (obj == NULL || obj->type != TJ_OBJECT || key == NULL)
        return NULL;
    klen = strlen(key);
    for (i = 0; i < obj->n; i++)
        if (obj->keys[i].len == klen && memcmp(obj->keys[i].s, key, klen) == 0)
            return &obj->items[i];
    return NULL;
}

const char *tj_str(const tj_value *v)
{
    return (v != NULL && v->type == TJ_STRING) ? v->str : NULL;
}

int tj_is_int(const tj_value *v)
{
    return v != NULL && v->type == TJ_NUMBER && v->flag;
}

int64_t tj_int(const tj_value *v)
{
    return tj_is_int(v) ? v->inum : 0;
}

double tj_num(const tj_value *v)
{
    return (v != NULL && v->type == TJ_NUMBER) ? v->num : 0.0;
}

int tj_bool(const tj_value *v)
{
    return (v != NULL && v->type == TJ_BOOL && v->flag) ? 1 : 0;
}

static int tj_hex_decode_n(const char *hex, size_t n, uint8_t **out, size_t *out_len)
{
    uint8_t *buf;
    size_t i;

    if (out == NULL)
        return -1;
    *out = NULL;
    if (out_len != NULL)
        *out_len = 0;
    if (hex == NULL || (n & 1u) != 0)
        return -1;
    buf = malloc(n / 2 ? n / 2 : 1);
    if (buf == NULL)
        return -1;
    for (i = 0; i < n; i += 2) {
        int h = tj_hexval((unsigned char)hex[i]);
        int l = tj_hexval((unsigned char)hex[i + 1]);
        if (h < 0 || l < 0) {
            free(buf);
            return -1;
        }
        buf[i / 2] = (uint8_t)((h << 4) | l);
    }
    *out = buf;
    if (out_len != NULL)
        *out_len = n / 2;
    return 0;
}

int tj_hex(const tj_value *v, uint8_t **out, size_t *out_len)
{
    if (v == NULL || v->type != TJ_STRING) {
        if (out != NULL)
            *out = NULL;
        if (out_len != NULL)
            *out_len = 0;
        return -1;
    }
    return tj_hex_decode_n(v->str, v->n, out, out_len);
}

int tj_hex_decode(const char *hex, uint8_t **out, size_t *out_len)
{
    return tj_hex_decode_n(hex, hex ? strlen(hex) : 0, out, out_len);
}
