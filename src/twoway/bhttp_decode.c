/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Binary HTTP decoder (RFC 9292 §3): a state machine fed bytes in pieces of
 * any size, giving out one event at a time.
 *
 * Memory is constant: a varint is gathered in 8 bytes, a field line (or the
 * request's control data) in one buffer allocated when the decoder is made,
 * whose size is the limit on it; content is handed out as pointers into the
 * input. Every length read from the message is compared with what is left of
 * its section and with the limits before anything is read into the buffer.
 *
 * Truncation (RFC 9292 §3.8): where a message may end early, the part left
 * out reads as a zero (an empty section, empty content, a terminator), so
 * at the end of the input the decoder goes on as if it read zeros, exactly
 * there and nowhere else.
 */
#include <twoway/bhttp.h>

#include "twoway/bhttp_internal.h"

#include <stdlib.h>
#include <string.h>

enum state {
    ST_FRAMING = 0,
    ST_STATUS,      /* a response's status (informational or final) */
    ST_CONTROL_LEN, /* the length of control string ctrl_index */
    ST_CONTROL,     /* its bytes */
    ST_SECTION_LEN, /* known-length: a field section's length */
    ST_NAME_LEN,    /* a field line's name length, or an indeterminate terminator */
    ST_NAME,
    ST_VALUE_LEN,
    ST_VALUE,
    ST_FIELD_READY,  /* a field line is gathered: report it */
    ST_SECTION_DONE, /* report the end of section */
    ST_CONTENT_LEN,  /* known-length content length */
    ST_CHUNK_LEN,    /* indeterminate chunk length or terminator */
    ST_CONTENT,      /* content bytes (content_left of them) */
    ST_CONTENT_DONE,
    ST_PADDING,
    ST_END,
    ST_FAILED
};

struct twoway_bhttp_decoder {
    twoway_bhttp_limits lim;
    int response;
    int form;
    enum state st;
    int err;
    /* varint being read */
    uint8_t vbuf[8];
    size_t vhave, vneed;
    /* current section */
    int section;
    int section_known;     /* known-length: section_left counts down */
    uint64_t section_left; /* known-length bytes left of the section */
    uint64_t section_used; /* indeterminate: bytes read of the section */
    size_t fields;
    int regular_seen;
    size_t informational;
    /* string being gathered into buf */
    size_t want; /* bytes of the current string still to read */
    size_t name_len, value_len;
    size_t ctrl_index;
    size_t ctrl_len[4];
    /* content */
    uint64_t content_left;
    uint64_t content_total;
    int chunk_seen; /* indeterminate content: a chunk was read */
    int ended;      /* the end was given and a part it left out read as a zero */
    uint64_t padding;
    size_t buf_used, buf_cap;
    uint8_t *buf;
};

static int fail(twoway_bhttp_decoder *d, int err)
{
    d->st = ST_FAILED;
    d->err = err;
    return err;
}

int twoway_bhttp_decoder_new(twoway_bhttp_decoder **out, int response,
                             const twoway_bhttp_limits *limits)
{
    twoway_bhttp_limits lim = TWOWAY_BHTTP_LIMITS_INIT;
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if ((response != 0 && response != 1) ||
        (limits != NULL && limits->version != TWOWAY_BHTTP_LIMITS_VERSION))
        return TWOWAY_ERR_ARG;
    if (limits != NULL)
        lim = *limits;
    if (lim.max_field_len == 0)
        lim.max_field_len = TWOWAY_BHTTP_DEFAULT_MAX_FIELD_LEN;
    if (lim.max_control_len == 0)
        lim.max_control_len = TWOWAY_BHTTP_DEFAULT_MAX_CONTROL_LEN;
    if (lim.max_fields == 0)
        lim.max_fields = TWOWAY_BHTTP_DEFAULT_MAX_FIELDS;
    if (lim.max_section_len == 0)
        lim.max_section_len = TWOWAY_BHTTP_DEFAULT_MAX_SECTION_LEN;
    if (lim.max_informational == 0)
        lim.max_informational = TWOWAY_BHTTP_DEFAULT_MAX_INFORMATIONAL;
    if (lim.max_padding == 0)
        lim.max_padding = TWOWAY_BHTTP_DEFAULT_MAX_PADDING;
    size_t cap = lim.max_field_len > lim.max_control_len ? lim.max_field_len : lim.max_control_len;
    twoway_bhttp_decoder *d = calloc(1, sizeof *d);
    if (d == NULL)
        return TWOWAY_ERR_NOMEM;
    d->buf = malloc(cap);
    if (d->buf == NULL) {
        free(d);
        return TWOWAY_ERR_NOMEM;
    }
    d->buf_cap = cap;
    d->lim = lim;
    d->response = response;
    *out = d;
    return TWOWAY_OK;
}

void twoway_bhttp_decoder_reset(twoway_bhttp_decoder *d)
{
    if (d == NULL)
        return;
    twoway_bhttp_limits lim = d->lim;
    int response = d->response;
    uint8_t *buf = d->buf;
    size_t cap = d->buf_cap;
    memset(d, 0, sizeof *d);
    d->lim = lim;
    d->response = response;
    d->buf = buf;
    d->buf_cap = cap;
}

void twoway_bhttp_decoder_free(twoway_bhttp_decoder *d)
{
    if (d == NULL)
        return;
    free(d->buf);
    free(d);
}

uint64_t twoway_bhttp_decoder_content_len(const twoway_bhttp_decoder *d)
{
    return d == NULL ? 0 : d->content_total;
}

/* Input for the current step: the caller's bytes, cut to what is left of a
 * known-length section while inside one. */
typedef struct input {
    const uint8_t *p;
    size_t left;
} input;

static size_t section_cap(const twoway_bhttp_decoder *d, size_t left)
{
    if (d->section_known && d->section_left < left)
        return (size_t)d->section_left;
    return left;
}

/* Counts n bytes of the current field section. */
static int section_take(twoway_bhttp_decoder *d, size_t n)
{
    if (d->section_known) {
        d->section_left -= n; /* n <= section_left: section_cap */
        return TWOWAY_OK;
    }
    d->section_used += n;
    if (d->section_used > d->lim.max_section_len)
        return TWOWAY_ERR_TOO_BIG;
    return TWOWAY_OK;
}

/* Gathers a varint: 1 when *v holds it, 0 when more input is needed. in_section
 * says whether its bytes belong to the current field section. */
static int read_varint(twoway_bhttp_decoder *d, input *in, int in_section, uint64_t *v, int *err)
{
    size_t avail = in_section ? section_cap(d, in->left) : in->left;
    *err = TWOWAY_OK;
    while (avail > 0) {
        uint8_t b = *in->p;
        if (d->vhave == 0)
            d->vneed = (size_t)1 << (b >> 6);
        d->vbuf[d->vhave++] = b;
        in->p++;
        in->left--;
        avail--;
        if (in_section && (*err = section_take(d, 1)) != TWOWAY_OK)
            return 0;
        if (d->vhave == d->vneed) {
            uint64_t x = d->vbuf[0] & 0x3f;
            for (size_t i = 1; i < d->vneed; i++)
                x = (x << 8) | d->vbuf[i];
            d->vhave = 0;
            *v = x;
            return 1;
        }
    }
    if (in_section && d->section_known && d->section_left == 0)
        *err = TWOWAY_ERR_FORMAT; /* a field line runs past its section */
    return 0;
}

/* Gathers d->want bytes into buf; 1 when done. */
static int read_bytes(twoway_bhttp_decoder *d, input *in, int in_section, int *err)
{
    size_t avail = in_section ? section_cap(d, in->left) : in->left;
    size_t n = d->want < avail ? d->want : avail;
    *err = TWOWAY_OK;
    if (n > 0)
        memcpy(d->buf + d->buf_used, in->p, n);
    d->buf_used += n;
    d->want -= n;
    in->p += n;
    in->left -= n;
    if (in_section && (*err = section_take(d, n)) != TWOWAY_OK)
        return 0;
    if (d->want == 0)
        return 1;
    if (in_section && d->section_known && d->section_left == 0)
        *err = TWOWAY_ERR_FORMAT;
    return 0;
}

static void section_begin(twoway_bhttp_decoder *d, int section)
{
    d->section = section;
    d->fields = 0;
    d->regular_seen = 0;
    d->section_used = 0;
    d->section_known = 0;
    d->st = d->form == TWOWAY_BHTTP_KNOWN_LENGTH ? ST_SECTION_LEN : ST_NAME_LEN;
}

/* Where a message may end (RFC 9292 §3.8): before a header or trailer
 * section, before the content, in the padding. */
static int may_end_here(const twoway_bhttp_decoder *d)
{
    if (d->vhave != 0)
        return 0;
    switch (d->st) {
    case ST_SECTION_LEN: return d->section != TWOWAY_BHTTP_SECTION_INFORMATIONAL;
    case ST_NAME_LEN: /* indeterminate only: a known-length section has bytes left */
        return !d->section_known && d->section != TWOWAY_BHTTP_SECTION_INFORMATIONAL &&
               d->fields == 0;
    case ST_CONTENT_LEN: return 1;
    case ST_CHUNK_LEN: return !d->chunk_seen;
    case ST_PADDING:
    case ST_END: return 1;
    default: return 0;
    }
}

static void ev_clear(twoway_bhttp_event *ev, const twoway_bhttp_decoder *d)
{
    memset(ev, 0, sizeof *ev);
    ev->form = d->form;
}

/* Acts on a varint v read in the current state (also the zero that a
 * truncated message implies). Returns an error, or OK. */
static int on_varint(twoway_bhttp_decoder *d, uint64_t v)
{
    switch (d->st) {
    case ST_FRAMING:
        if (v > 3 || (int)(v & 1) != d->response)
            return TWOWAY_ERR_FORMAT;
        d->form = v >= 2 ? TWOWAY_BHTTP_INDETERMINATE : TWOWAY_BHTTP_KNOWN_LENGTH;
        d->st = d->response ? ST_STATUS : ST_CONTROL_LEN;
        return TWOWAY_OK;
    case ST_CONTROL_LEN: {
        size_t used = 0;
        for (size_t i = 0; i < d->ctrl_index; i++)
            used += d->ctrl_len[i];
        if (v > d->lim.max_control_len - used)
            return TWOWAY_ERR_TOO_BIG;
        d->ctrl_len[d->ctrl_index] = (size_t)v;
        d->want = (size_t)v;
        d->st = ST_CONTROL;
        return TWOWAY_OK;
    }
    case ST_SECTION_LEN:
        if (v > d->lim.max_section_len)
            return TWOWAY_ERR_TOO_BIG;
        d->section_known = 1;
        d->section_left = v;
        d->st = v == 0 ? ST_SECTION_DONE : ST_NAME_LEN;
        return TWOWAY_OK;
    case ST_NAME_LEN:
        if (v == 0) {
            if (d->section_known)
                return TWOWAY_ERR_FORMAT; /* names are never empty */
            d->st = ST_SECTION_DONE;      /* the terminator */
            return TWOWAY_OK;
        }
        if (d->fields >= d->lim.max_fields)
            return TWOWAY_ERR_TOO_BIG;
        if (v > d->lim.max_field_len)
            return TWOWAY_ERR_TOO_BIG;
        d->name_len = (size_t)v;
        d->want = (size_t)v;
        d->buf_used = 0;
        d->st = ST_NAME;
        return TWOWAY_OK;
    case ST_VALUE_LEN:
        if (v > d->lim.max_field_len - d->name_len)
            return TWOWAY_ERR_TOO_BIG;
        d->value_len = (size_t)v;
        d->want = (size_t)v;
        d->st = ST_VALUE;
        return TWOWAY_OK;
    case ST_CONTENT_LEN:
        if (d->lim.max_content_len != 0 && v > d->lim.max_content_len)
            return TWOWAY_ERR_TOO_BIG;
        d->content_left = v;
        d->st = v == 0 ? ST_CONTENT_DONE : ST_CONTENT;
        return TWOWAY_OK;
    case ST_CHUNK_LEN:
        if (v == 0) {
            d->st = ST_CONTENT_DONE;
            return TWOWAY_OK;
        }
        if (d->lim.max_content_len != 0 && v > d->lim.max_content_len - d->content_total)
            return TWOWAY_ERR_TOO_BIG;
        d->chunk_seen = 1;
        d->content_left = v;
        d->st = ST_CONTENT;
        return TWOWAY_OK;
    default: return TWOWAY_ERR_FORMAT;
    }
}

static int in_section_state(enum state st)
{
    return st == ST_NAME_LEN || st == ST_VALUE_LEN;
}

int twoway_bhttp_decode(twoway_bhttp_decoder *d, const uint8_t *in_bytes, size_t in_len, int last,
                        size_t *consumed, twoway_bhttp_event *ev)
{
    input in = {in_bytes, in_len};
    int err = TWOWAY_OK;
    uint64_t v;

    if (consumed != NULL)
        *consumed = 0;
    if (d == NULL || consumed == NULL || ev == NULL || (in_bytes == NULL && in_len != 0))
        return TWOWAY_ERR_ARG;
    ev_clear(ev, d);
    if (d->st == ST_FAILED)
        return d->err;

    for (;;) {
        switch (d->st) {
        case ST_FRAMING:
        case ST_STATUS:
        case ST_CONTROL_LEN:
        case ST_SECTION_LEN:
        case ST_NAME_LEN:
        case ST_VALUE_LEN:
        case ST_CONTENT_LEN:
        case ST_CHUNK_LEN: {
            /* Once a part left out was read as a zero, the rest is too:
             * bytes handed in after the end are padding, never a length. */
            int got = d->ended ? 0 : read_varint(d, &in, in_section_state(d->st), &v, &err);
            if (err != TWOWAY_OK)
                return fail(d, err);
            if (!got) {
                if (in.left > 0 && !d->ended) /* read_varint stops early only on an error */
                    return fail(d, TWOWAY_ERR_FORMAT);
                if (!last && !d->ended)
                    goto need_more;
                if (!may_end_here(d))
                    return fail(d, TWOWAY_ERR_TRUNCATED);
                d->ended = 1;
                v = 0; /* what truncation left out */
            }
            if (d->st == ST_STATUS) {
                if (v >= 100 && v <= 199) {
                    if (d->informational >= d->lim.max_informational)
                        return fail(d, TWOWAY_ERR_TOO_BIG);
                    d->informational++;
                    section_begin(d, TWOWAY_BHTTP_SECTION_INFORMATIONAL);
                    ev->type = TWOWAY_BHTTP_INFORMATIONAL;
                } else if (v >= 200 && v <= 599) {
                    section_begin(d, TWOWAY_BHTTP_SECTION_HEADER);
                    ev->type = TWOWAY_BHTTP_STATUS;
                } else {
                    return fail(d, TWOWAY_ERR_FORMAT);
                }
                ev->status = (uint16_t)v;
                ev->form = d->form;
                goto event;
            }
            if ((err = on_varint(d, v)) != TWOWAY_OK)
                return fail(d, err);
            ev->form = d->form;
            continue;
        }
        case ST_CONTROL:
            if (!read_bytes(d, &in, 0, &err)) {
                if (!last)
                    goto need_more;
                return fail(d, TWOWAY_ERR_TRUNCATED);
            }
            if (++d->ctrl_index < 4) {
                d->st = ST_CONTROL_LEN;
                continue;
            }
            {
                const uint8_t *m = d->buf, *s = m + d->ctrl_len[0], *a = s + d->ctrl_len[1],
                              *p = a + d->ctrl_len[2];
                if (!tw_bhttp_control_ok(m, d->ctrl_len[0], s, d->ctrl_len[1], a, d->ctrl_len[2], p,
                                         d->ctrl_len[3]))
                    return fail(d, TWOWAY_ERR_FORMAT);
                ev->type = TWOWAY_BHTTP_REQUEST;
                ev->method = m;
                ev->method_len = d->ctrl_len[0];
                ev->scheme = s;
                ev->scheme_len = d->ctrl_len[1];
                ev->authority = a;
                ev->authority_len = d->ctrl_len[2];
                ev->path = p;
                ev->path_len = d->ctrl_len[3];
                section_begin(d, TWOWAY_BHTTP_SECTION_HEADER);
                goto event;
            }
        case ST_NAME:
        case ST_VALUE:
            if (!read_bytes(d, &in, 1, &err)) {
                if (err != TWOWAY_OK)
                    return fail(d, err);
                if (!last)
                    goto need_more;
                return fail(d, TWOWAY_ERR_TRUNCATED);
            }
            if (d->st == ST_NAME) {
                d->st = ST_VALUE_LEN;
                continue;
            }
            d->st = ST_FIELD_READY;
            continue;
        case ST_FIELD_READY: {
            uint8_t *name = d->buf, *value = d->buf + d->name_len;
            enum tw_bhttp_name_kind k = tw_bhttp_name_kind(name, d->name_len);
            /* pseudo-fields first, and never in trailers (RFC 9292 §3.6) */
            if (k == TW_BHTTP_NAME_BAD ||
                (k == TW_BHTTP_NAME_PSEUDO &&
                 (d->regular_seen || d->section == TWOWAY_BHTTP_SECTION_TRAILER)) ||
                !tw_bhttp_value_ok(value, d->value_len))
                return fail(d, TWOWAY_ERR_FORMAT);
            if (k == TW_BHTTP_NAME_REGULAR)
                d->regular_seen = 1;
            for (size_t i = 0; i < d->name_len; i++)
                name[i] = tw_bhttp_lower(name[i]);
            d->fields++;
            ev->type = TWOWAY_BHTTP_FIELD;
            ev->section = d->section;
            ev->name = name;
            ev->name_len = d->name_len;
            ev->value = value;
            ev->value_len = d->value_len;
            d->st = (d->section_known && d->section_left == 0) ? ST_SECTION_DONE : ST_NAME_LEN;
            goto event;
        }
        case ST_SECTION_DONE:
            ev->type = TWOWAY_BHTTP_SECTION_END;
            ev->section = d->section;
            d->section_known = 0;
            if (d->section == TWOWAY_BHTTP_SECTION_INFORMATIONAL) {
                d->st = ST_STATUS;
            } else if (d->section == TWOWAY_BHTTP_SECTION_HEADER) {
                d->content_total = 0;
                d->chunk_seen = 0;
                d->st = d->form == TWOWAY_BHTTP_KNOWN_LENGTH ? ST_CONTENT_LEN : ST_CHUNK_LEN;
            } else {
                d->st = ST_PADDING;
            }
            goto event;
        case ST_CONTENT: {
            size_t n = in.left;
            if (d->content_left < n)
                n = (size_t)d->content_left;
            if (n == 0) {
                if (!last)
                    goto need_more;
                return fail(d, TWOWAY_ERR_TRUNCATED);
            }
            ev->type = TWOWAY_BHTTP_CONTENT;
            ev->data = in.p;
            ev->data_len = n;
            in.p += n;
            in.left -= n;
            d->content_left -= n;
            d->content_total += n;
            if (d->content_left == 0)
                d->st = d->form == TWOWAY_BHTTP_KNOWN_LENGTH ? ST_CONTENT_DONE : ST_CHUNK_LEN;
            goto event;
        }
        case ST_CONTENT_DONE:
            ev->type = TWOWAY_BHTTP_SECTION_END;
            ev->section = TWOWAY_BHTTP_SECTION_CONTENT;
            section_begin(d, TWOWAY_BHTTP_SECTION_TRAILER);
            goto event;
        case ST_PADDING:
            while (in.left > 0) {
                if (*in.p != 0)
                    return fail(d, TWOWAY_ERR_FORMAT);
                if (++d->padding > d->lim.max_padding)
                    return fail(d, TWOWAY_ERR_TOO_BIG);
                in.p++;
                in.left--;
            }
            if (!last && !d->ended)
                goto need_more;
            d->st = ST_END;
            continue;
        case ST_END:
            if (in.left > 0) {
                d->st = ST_PADDING; /* more padding after an END */
                continue;
            }
            ev->type = TWOWAY_BHTTP_END;
            goto event;
        case ST_FAILED:
        default: return d->err != TWOWAY_OK ? d->err : TWOWAY_ERR_FORMAT;
        }
    }
need_more:
    ev->type = TWOWAY_BHTTP_NEED_MORE;
    *consumed = in_len;
    return TWOWAY_OK;
event:
    *consumed = in_len - in.left;
    return TWOWAY_OK;
}
