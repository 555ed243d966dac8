/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Framing several messages on one stream (include/twoway/frame.h): a push
 * state machine over the 4-byte segment headers, and a pull reader on top
 * that reads exactly the bytes of the framing and of the current message.
 */
#include <twoway/frame.h>

#include <stdlib.h>
#include <string.h>

enum df_state {
    DF_IDLE = 0, /* between messages */
    DF_HEADER,   /* inside a segment header */
    DF_DATA,     /* inside a segment */
    DF_FAILED
};

struct twoway_deframer {
    enum df_state st;
    uint64_t max;   /* 0: no limit */
    uint64_t total; /* bytes of the current message so far */
    uint32_t left;  /* bytes left in the current segment */
    int last;       /* the current segment ends the message */
    int err;
    uint8_t hdr[TWOWAY_FRAME_HEADER_LEN];
    size_t have;
    /* pull */
    twoway_read_fn read;
    void *src;
};

int twoway_frame_header(uint8_t out[TWOWAY_FRAME_HEADER_LEN], size_t len, int last)
{
    if (out == NULL || len > TWOWAY_FRAME_MAX_SEGMENT)
        return TWOWAY_ERR_ARG;
    uint32_t v = (uint32_t)len | (last ? TWOWAY_FRAME_LAST : 0);
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
    return TWOWAY_OK;
}

int twoway_deframer_new(twoway_deframer **out, uint64_t max_message_len)
{
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return TWOWAY_ERR_NOMEM;
    (*out)->max = max_message_len;
    return TWOWAY_OK;
}

void twoway_deframer_free(twoway_deframer *d)
{
    free(d);
}

int twoway_deframer_error(const twoway_deframer *d)
{
    return d == NULL ? TWOWAY_ERR_ARG : d->err;
}

static int fail(twoway_deframer *d, int err)
{
    d->st = DF_FAILED;
    d->err = err;
    return err;
}

/* A complete header: the segment it opens. */
static int segment_begins(twoway_deframer *d)
{
    uint32_t v = (uint32_t)d->hdr[0] << 24 | (uint32_t)d->hdr[1] << 16 | (uint32_t)d->hdr[2] << 8 |
                 d->hdr[3];
    d->have = 0;
    d->last = (v & TWOWAY_FRAME_LAST) != 0;
    d->left = v & TWOWAY_FRAME_MAX_SEGMENT;
    /* an empty segment that does not end the message says nothing: refused,
     * so that a peer cannot keep a reader busy without sending data */
    if (d->left == 0 && !d->last)
        return fail(d, TWOWAY_ERR_FORMAT);
    if (d->max != 0 && (d->total > d->max || d->left > d->max - d->total))
        return fail(d, TWOWAY_ERR_TOO_BIG);
    d->total += d->left;
    d->st = DF_DATA;
    return TWOWAY_OK;
}

/* The current segment is read: the message ends, or the next header comes. */
static int segment_ends(twoway_deframer *d)
{
    if (d->last) {
        d->st = DF_IDLE;
        d->total = 0;
        return 1;
    }
    d->st = DF_HEADER;
    return 0;
}

int twoway_deframer_push(twoway_deframer *d, const uint8_t *in, size_t in_len, size_t *consumed,
                         const uint8_t **data, size_t *data_len, int *end)
{
    if (consumed != NULL)
        *consumed = 0;
    if (data_len != NULL)
        *data_len = 0;
    if (data != NULL)
        *data = NULL;
    if (end != NULL)
        *end = 0;
    if (d == NULL || consumed == NULL || data == NULL || data_len == NULL || end == NULL ||
        (in == NULL && in_len > 0))
        return TWOWAY_ERR_ARG;
    if (d->st == DF_FAILED)
        return d->err;
    size_t off = 0;
    while (off < in_len || (d->st == DF_DATA && d->left == 0)) {
        if (d->st == DF_IDLE)
            d->st = DF_HEADER;
        if (d->st == DF_HEADER) {
            while (d->have < TWOWAY_FRAME_HEADER_LEN && off < in_len)
                d->hdr[d->have++] = in[off++];
            if (d->have < TWOWAY_FRAME_HEADER_LEN)
                break;
            int rc = segment_begins(d);
            if (rc != TWOWAY_OK)
                return rc;
            continue;
        }
        /* DF_DATA: one span per call, then the caller comes back */
        size_t n = in_len - off < d->left ? in_len - off : d->left;
        *data = n > 0 ? in + off : NULL;
        *data_len = n;
        off += n;
        d->left -= (uint32_t)n;
        if (d->left == 0)
            *end = segment_ends(d);
        break;
    }
    *consumed = off;
    return TWOWAY_OK;
}

/* ------------------------------------------------------------------- pull */

/* Reads the rest of a header into d->hdr (from d->have): 1 done, 0 a clean
 * end before any byte of a message, or a negative error. */
static int read_header(twoway_deframer *d)
{
    while (d->have < TWOWAY_FRAME_HEADER_LEN) {
        long r = d->read(d->src, d->hdr + d->have, TWOWAY_FRAME_HEADER_LEN - d->have);
        if (r < 0)
            return fail(d, TWOWAY_ERR_IO);
        if (r == 0)
            return d->have == 0 && d->st == DF_IDLE ? 0 : fail(d, TWOWAY_ERR_TRUNCATED);
        if ((size_t)r > TWOWAY_FRAME_HEADER_LEN - d->have)
            return fail(d, TWOWAY_ERR_IO); /* a broken read function */
        d->have += (size_t)r;
    }
    return 1;
}

int twoway_deframer_next(twoway_deframer *d, twoway_read_fn read, void *src)
{
    if (d == NULL || read == NULL)
        return TWOWAY_ERR_ARG;
    if (d->st == DF_FAILED)
        return d->err;
    if (d->st != DF_IDLE)
        return TWOWAY_ERR_STATE;
    d->read = read;
    d->src = src;
    int rc = read_header(d);
    if (rc <= 0)
        return rc;
    rc = segment_begins(d);
    if (rc != TWOWAY_OK)
        return rc;
    return 1;
}

long twoway_deframer_read(void *src, uint8_t *buf, size_t len)
{
    twoway_deframer *d = src;
    if (d == NULL || d->read == NULL || buf == NULL || len == 0)
        return -1; /* 0 would read as the end of the message */
    if (d->st == DF_FAILED)
        return -1;
    for (;;) {
        if (d->st == DF_IDLE)
            return 0; /* the message ended (next() starts another) */
        if (d->st == DF_HEADER) {
            int rc = read_header(d);
            if (rc <= 0) {
                if (rc == 0)
                    fail(d, TWOWAY_ERR_TRUNCATED);
                return -1;
            }
            if (segment_begins(d) != TWOWAY_OK)
                return -1;
            continue;
        }
        if (d->left == 0) {
            segment_ends(d);
            continue;
        }
        size_t want = len < d->left ? len : d->left;
        if (want > (size_t)0x40000000)
            want = 0x40000000;
        long r = d->read(d->src, buf, want);
        if (r < 0 || (size_t)r > want) {
            fail(d, TWOWAY_ERR_IO);
            return -1;
        }
        if (r == 0) {
            fail(d, TWOWAY_ERR_TRUNCATED);
            return -1;
        }
        d->left -= (uint32_t)r;
        return r;
    }
}
