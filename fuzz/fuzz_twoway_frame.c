/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the message deframer (twoway/frame.h), pushed and
 * pulled over the same stream.
 *
 * Input: byte 0 the message limit (0: none, else byte * 64), byte 1 the
 * push piece size and byte 2 the pull read size (each + 1); the rest is the
 * stream, any bytes.
 *
 * Invariants (abort() otherwise):
 *  - a push never reports more data than it consumed, always makes
 *    progress, and returns spans of its input; only TOO_BIG (with a limit)
 *    or FORMAT (an empty segment that is not the last) fails it, and then
 *    every later call fails the same way;
 *  - no message over the limit is ever delivered whole;
 *  - pulling the same stream gives the same messages, in the same order,
 *    and ends the same way: cleanly between messages, TRUNCATED inside one
 *    (where the push deframer is left mid-message), or the push's error;
 *  - re-framing the messages read (one last segment each) and pushing that
 *    gives them back.
 */
#include <twoway/frame.h>

#include <stdint.h>
#include <string.h>

#define FUZZ_NAME "fuzz_twoway_frame"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSGS 64

typedef struct msgs {
    buf m[MAX_MSGS];
    size_t n; /* complete messages */
    int err;  /* the error that stopped it */
    int mid;  /* stopped inside a message */
} msgs;

static void msgs_free(msgs *s)
{
    for (size_t i = 0; i <= s->n && i < MAX_MSGS; i++)
        free(s->m[i].p);
}

static void push(const uint8_t *in, size_t len, uint64_t limit, size_t piece, msgs *out)
{
    twoway_deframer *d = NULL;
    CHECK(twoway_deframer_new(&d, limit) == TWOWAY_OK);
    size_t off = 0, msg_len = 0;
    out->mid = 0;
    while (off < len && out->n < MAX_MSGS) {
        size_t n = len - off < piece ? len - off : piece;
        const uint8_t *p = in + off;
        while (n > 0 && out->n < MAX_MSGS) {
            size_t used = 0, dlen = 0;
            const uint8_t *d_p = NULL;
            int end = 0;
            int rc = twoway_deframer_push(d, p, n, &used, &d_p, &dlen, &end);
            if (rc != TWOWAY_OK) {
                CHECK((rc == TWOWAY_ERR_TOO_BIG && limit != 0) || rc == TWOWAY_ERR_FORMAT);
                CHECK(twoway_deframer_push(d, p, n, &used, &d_p, &dlen, &end) == rc);
                out->err = rc;
                twoway_deframer_free(d);
                return;
            }
            CHECK(used > 0 && used <= n && dlen <= used);
            if (dlen > 0)
                CHECK(d_p >= p && d_p + dlen <= p + used);
            buf_append(&out->m[out->n], d_p, dlen);
            msg_len += dlen;
            CHECK(limit == 0 || msg_len <= limit);
            out->mid = !end;
            if (end) {
                out->n++;
                msg_len = 0;
            }
            p += used;
            n -= used;
            off += used;
        }
    }
    twoway_deframer_free(d);
}

typedef struct src {
    const uint8_t *p;
    size_t len, off, step;
} src;

static long src_read(void *s_, uint8_t *out, size_t len)
{
    src *s = s_;
    size_t n = s->len - s->off;
    if (n > len)
        n = len;
    if (n > s->step)
        n = s->step;
    memcpy(out, s->p + s->off, n);
    s->off += n;
    return (long)n;
}

static void pull(const uint8_t *in, size_t len, uint64_t limit, size_t step, msgs *out)
{
    twoway_deframer *d = NULL;
    src s = {in, len, 0, step};
    CHECK(twoway_deframer_new(&d, limit) == TWOWAY_OK);
    while (out->n < MAX_MSGS) {
        int rc = twoway_deframer_next(d, src_read, &s);
        if (rc != 1) {
            out->err = rc;
            break;
        }
        uint8_t tmp[300];
        long r;
        while ((r = twoway_deframer_read(d, tmp, sizeof tmp)) > 0)
            buf_append(&out->m[out->n], tmp, (size_t)r);
        if (r < 0) {
            out->err = twoway_deframer_error(d);
            CHECK(out->err == TWOWAY_ERR_TRUNCATED || out->err == TWOWAY_ERR_TOO_BIG ||
                  out->err == TWOWAY_ERR_FORMAT);
            break;
        }
        out->n++;
    }
    twoway_deframer_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint64_t limit = (uint64_t)data[0] * 64;
    size_t piece = (size_t)data[1] + 1, step = (size_t)data[2] + 1;
    const uint8_t *in = data + 3;
    size_t len = size - 3;
    msgs a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    push(in, len, limit, piece, &a);
    pull(in, len, limit, step, &b);
    if (a.n < MAX_MSGS && b.n < MAX_MSGS) {
        CHECK(a.n == b.n);
        for (size_t i = 0; i < a.n; i++)
            CHECK(a.m[i].len == b.m[i].len &&
                  (a.m[i].len == 0 || memcmp(a.m[i].p, b.m[i].p, a.m[i].len) == 0));
        if (a.err != 0)
            CHECK(b.err == a.err);
        else if (a.mid)
            CHECK(b.err == TWOWAY_ERR_TRUNCATED);
        else
            CHECK(b.err == 0);
    }
    /* the messages read, framed again, read back */
    buf again = {0};
    for (size_t i = 0; i < a.n && i < MAX_MSGS; i++) {
        uint8_t h[TWOWAY_FRAME_HEADER_LEN];
        CHECK(twoway_frame_header(h, a.m[i].len, 1) == TWOWAY_OK);
        buf_append(&again, h, sizeof h);
        buf_append(&again, a.m[i].p, a.m[i].len);
    }
    msgs c;
    memset(&c, 0, sizeof c);
    push(again.p, again.len, limit, piece, &c);
    CHECK(c.err == 0 && !c.mid && c.n == (a.n < MAX_MSGS ? a.n : MAX_MSGS));
    for (size_t i = 0; i < c.n; i++)
        CHECK(c.m[i].len == a.m[i].len &&
              (c.m[i].len == 0 || memcmp(c.m[i].p, a.m[i].p, c.m[i].len) == 0));
    free(again.p);
    msgs_free(&a);
    msgs_free(&b);
    msgs_free(&c);
    return 0;
}
