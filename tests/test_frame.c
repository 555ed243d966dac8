/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Several messages on one stream (twoway/frame.h): streams of random
 * messages cut into random segments, read back through the push deframer
 * at every input split and through the pull reader with short reads;
 * every way a stream can end early; the message limit, exactly at it and
 * one byte past it; misuse; and two chunked requests, streamed while they
 * are sealed, opened through twoway_opener_read() over one stream.
 */
#include "test.h"

#include <twoway/twoway.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static uint32_t rnd(uint32_t n)
{
    uint32_t v;
    RAND_bytes((uint8_t *)&v, sizeof v);
    return n == 0 ? 0 : v % n;
}

static void put_header(buf *b, size_t len, int last)
{
    uint8_t h[TWOWAY_FRAME_HEADER_LEN];
    CHECK_EQ_INT(twoway_frame_header(h, len, last), TWOWAY_OK);
    put(b, h, sizeof h);
}

/* Appends msg to the stream in random segments (some empty). */
static void frame(buf *stream, const uint8_t *msg, size_t len)
{
    size_t off = 0;
    while (len - off > 0 && rnd(4) != 0) {
        size_t n = 1 + rnd((uint32_t)(len - off));
        put_header(stream, n, 0);
        put(stream, msg + off, n);
        off += n;
    }
    if (rnd(2)) {
        put_header(stream, len - off, 1);
        put(stream, msg + off, len - off);
    } else {
        if (len - off > 0) {
            put_header(stream, len - off, 0);
            put(stream, msg + off, len - off);
        }
        put_header(stream, 0, 1);
    }
}

#define N_MSG 6

typedef struct corpus {
    buf msg[N_MSG];
    buf stream;
} corpus;

static void corpus_make(corpus *c)
{
    static const size_t sizes[N_MSG] = {0, 1, 3, 1000, 70000, 5};
    memset(c, 0, sizeof *c);
    for (int i = 0; i < N_MSG; i++) {
        uint8_t *p = malloc(sizes[i] + 1);
        RAND_bytes(p, (int)sizes[i] + 1);
        put(&c->msg[i], p, sizes[i]);
        free(p);
        frame(&c->stream, c->msg[i].p, c->msg[i].len);
    }
}

static void corpus_free(corpus *c)
{
    for (int i = 0; i < N_MSG; i++)
        free(c->msg[i].p);
    free(c->stream.p);
}

/* Push-decodes the stream fed in pieces of at most step bytes (0: random);
 * checks the messages and their ends. */
static void push_all(const corpus *c, size_t step)
{
    twoway_deframer *d = NULL;
    CHECK_EQ_INT(twoway_deframer_new(&d, 0), TWOWAY_OK);
    buf got[N_MSG];
    memset(got, 0, sizeof got);
    int idx = 0;
    size_t off = 0;
    while (off < c->stream.len) {
        size_t n = step ? step : 1 + rnd(300);
        if (n > c->stream.len - off)
            n = c->stream.len - off;
        const uint8_t *in = c->stream.p + off;
        size_t left = n;
        while (left > 0) {
            size_t used;
            const uint8_t *data;
            size_t dlen;
            int end;
            int rc = twoway_deframer_push(d, in, left, &used, &data, &dlen, &end);
            if (!CHECK_EQ_INT(rc, TWOWAY_OK))
                goto out;
            CHECK(used <= left);
            if (dlen > 0) {
                CHECK(data >= in && data + dlen <= in + used); /* a span of the input */
                if (idx < N_MSG)
                    put(&got[idx], data, dlen);
            }
            if (end)
                idx++;
            if (!CHECK(used > 0)) /* a push always makes progress */
                goto out;
            in += used;
            left -= used;
        }
        off += n;
    }
out:
    CHECK_EQ_INT(idx, N_MSG);
    for (int i = 0; i < N_MSG; i++) {
        CHECK(got[i].len == c->msg[i].len &&
              (got[i].len == 0 || memcmp(got[i].p, c->msg[i].p, got[i].len) == 0));
        free(got[i].p);
    }
    twoway_deframer_free(d);
}

/* A read source over memory with short reads; fails on demand. */
typedef struct mem_src {
    const uint8_t *p;
    size_t len, off;
    size_t max_read; /* 0: random */
    size_t fail_at;  /* a read that starts at or past it returns -1 (SIZE_MAX: never) */
} mem_src;

static long mem_read(void *src, uint8_t *out, size_t len)
{
    mem_src *m = src;
    if (m->off >= m->fail_at)
        return -1;
    size_t n = m->len - m->off;
    size_t cap = m->max_read ? m->max_read : 1 + rnd(500);
    if (n > len)
        n = len;
    if (n > cap)
        n = cap;
    memcpy(out, m->p + m->off, n);
    m->off += n;
    return (long)n;
}

static void pull_all(const corpus *c, size_t max_read)
{
    twoway_deframer *d = NULL;
    mem_src m = {c->stream.p, c->stream.len, 0, max_read, SIZE_MAX};
    CHECK_EQ_INT(twoway_deframer_new(&d, 1u << 20), TWOWAY_OK);
    for (int i = 0; i < N_MSG; i++) {
        buf got = {0};
        uint8_t tmp[777];
        CHECK_EQ_INT(twoway_deframer_next(d, mem_read, &m), 1);
        for (;;) {
            long r = twoway_deframer_read(d, tmp, 1 + rnd(sizeof tmp));
            if (!CHECK(r >= 0))
                break;
            if (r == 0)
                break;
            put(&got, tmp, (size_t)r);
        }
        /* after the end: 0 again, until next() */
        CHECK_EQ_INT(twoway_deframer_read(d, tmp, sizeof tmp), 0);
        CHECK(got.len == c->msg[i].len &&
              (got.len == 0 || memcmp(got.p, c->msg[i].p, got.len) == 0));
        free(got.p);
    }
    CHECK_EQ_INT(twoway_deframer_next(d, mem_read, &m), 0); /* the stream ended cleanly */
    CHECK_EQ_UINT(m.off, c->stream.len);
    CHECK_EQ_INT(twoway_deframer_error(d), 0);
    twoway_deframer_free(d);
}

/* The stream cut at every length: the pull reader reports TRUNCATED where
 * a message was incomplete, a clean end at message boundaries. */
static void pull_cut(const corpus *c)
{
    size_t boundaries = 0, truncated = 0;
    for (size_t cut = 0; cut < c->stream.len; cut += 1 + cut / 64) {
        twoway_deframer *d = NULL;
        mem_src m = {c->stream.p, cut, 0, 0, SIZE_MAX};
        CHECK_EQ_INT(twoway_deframer_new(&d, 0), TWOWAY_OK);
        int rc, clean = 0;
        uint8_t tmp[4096];
        while ((rc = twoway_deframer_next(d, mem_read, &m)) == 1) {
            long r;
            while ((r = twoway_deframer_read(d, tmp, sizeof tmp)) > 0) {
            }
            if (r < 0)
                break;
        }
        if (rc == 0)
            clean = 1;
        if (clean) {
            boundaries++;
            CHECK_EQ_INT(twoway_deframer_error(d), 0);
        } else {
            truncated++;
            CHECK_EQ_INT(twoway_deframer_error(d), TWOWAY_ERR_TRUNCATED);
            /* errors are final */
            CHECK(twoway_deframer_read(d, tmp, sizeof tmp) < 0);
            CHECK_EQ_INT(twoway_deframer_next(d, mem_read, &m), TWOWAY_ERR_TRUNCATED);
        }
        twoway_deframer_free(d);
    }
    CHECK(boundaries >= 1 && truncated > 10);
}

static void limits_and_misuse(void)
{
    uint8_t h[TWOWAY_FRAME_HEADER_LEN];
    CHECK_EQ_INT(twoway_frame_header(h, TWOWAY_FRAME_MAX_SEGMENT, 1), TWOWAY_OK);
    CHECK(h[0] == 0xff && h[1] == 0xff && h[2] == 0xff && h[3] == 0xff);
    CHECK_EQ_INT(twoway_frame_header(h, 5, 0), TWOWAY_OK);
    CHECK(h[0] == 0 && h[1] == 0 && h[2] == 0 && h[3] == 5);
    CHECK_EQ_INT(twoway_frame_header(h, (size_t)TWOWAY_FRAME_MAX_SEGMENT + 1, 0), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_frame_header(NULL, 1, 0), TWOWAY_ERR_ARG);

    /* a limit of 10: 10 bytes in two segments pass, 11 do not */
    for (int over = 0; over < 2; over++) {
        buf s = {0};
        uint8_t data[11] = {0};
        put_header(&s, 6, 0);
        put(&s, data, 6);
        put_header(&s, 4 + (size_t)over, 1);
        put(&s, data, 4 + (size_t)over);
        twoway_deframer *d = NULL;
        CHECK_EQ_INT(twoway_deframer_new(&d, 10), TWOWAY_OK);
        size_t off = 0, total = 0;
        int rc = TWOWAY_OK, end = 0;
        while (rc == TWOWAY_OK && off < s.len && !end) {
            size_t used, dlen;
            const uint8_t *dp;
            rc = twoway_deframer_push(d, s.p + off, s.len - off, &used, &dp, &dlen, &end);
            off += used;
            total += dlen;
        }
        CHECK_EQ_INT(rc, over ? TWOWAY_ERR_TOO_BIG : TWOWAY_OK);
        if (!over)
            CHECK(end && total == 10);
        else {
            size_t used, dlen;
            const uint8_t *dp;
            CHECK_EQ_INT(twoway_deframer_push(d, s.p, 1, &used, &dp, &dlen, &end),
                         TWOWAY_ERR_TOO_BIG); /* final */
            CHECK_EQ_INT(twoway_deframer_error(d), TWOWAY_ERR_TOO_BIG);
        }
        twoway_deframer_free(d);
        /* the same through pull */
        mem_src m = {s.p, s.len, 0, 3, SIZE_MAX};
        CHECK_EQ_INT(twoway_deframer_new(&d, 10), TWOWAY_OK);
        CHECK_EQ_INT(twoway_deframer_next(d, mem_read, &m), 1);
        uint8_t tmp[16];
        long r;
        total = 0;
        while ((r = twoway_deframer_read(d, tmp, sizeof tmp)) > 0)
            total += (size_t)r;
        CHECK_EQ_INT(r, over ? -1 : 0);
        CHECK_EQ_INT(twoway_deframer_error(d), over ? TWOWAY_ERR_TOO_BIG : 0);
        twoway_deframer_free(d);
        free(s.p);
    }

    /* a huge first segment is refused from its header alone */
    twoway_deframer *d = NULL;
    CHECK_EQ_INT(twoway_deframer_new(&d, 1000), TWOWAY_OK);
    uint8_t big[4] = {0x7f, 0xff, 0xff, 0xff};
    size_t used, dlen;
    const uint8_t *dp;
    int end;
    CHECK_EQ_INT(twoway_deframer_push(d, big, 4, &used, &dp, &dlen, &end), TWOWAY_ERR_TOO_BIG);
    twoway_deframer_free(d);

    /* an empty segment that is not the last: refused, pushed or pulled */
    uint8_t empty[4 + 4 + 1];
    CHECK_EQ_INT(twoway_frame_header(empty, 0, 0), TWOWAY_OK);
    CHECK_EQ_INT(twoway_frame_header(empty + 4, 1, 1), TWOWAY_OK);
    empty[8] = 'x';
    CHECK_EQ_INT(twoway_deframer_new(&d, 0), TWOWAY_OK);
    CHECK_EQ_INT(twoway_deframer_push(d, empty, sizeof empty, &used, &dp, &dlen, &end),
                 TWOWAY_ERR_FORMAT);
    twoway_deframer_free(d);
    CHECK_EQ_INT(twoway_deframer_new(&d, 0), TWOWAY_OK);
    mem_src es = {empty, sizeof empty, 0, 2, SIZE_MAX};
    CHECK_EQ_INT(twoway_deframer_next(d, mem_read, &es), TWOWAY_ERR_FORMAT);
    twoway_deframer_free(d);
    /* ... also after some data */
    uint8_t later[4 + 1 + 4];
    CHECK_EQ_INT(twoway_frame_header(later, 1, 0), TWOWAY_OK);
    later[4] = 'y';
    CHECK_EQ_INT(twoway_frame_header(later + 5, 0, 0), TWOWAY_OK);
    CHECK_EQ_INT(twoway_deframer_new(&d, 0), TWOWAY_OK);
    mem_src ls = {later, sizeof later, 0, 0, SIZE_MAX};
    uint8_t one[4];
    CHECK_EQ_INT(twoway_deframer_next(d, mem_read, &ls), 1);
    CHECK_EQ_INT(twoway_deframer_read(d, one, sizeof one), 1);
    CHECK(twoway_deframer_read(d, one, sizeof one) < 0);
    CHECK_EQ_INT(twoway_deframer_error(d), TWOWAY_ERR_FORMAT);
    CHECK(twoway_deframer_read(d, one, 0) < 0); /* len 0: never "the end" */
    twoway_deframer_free(d);

    /* misuse */
    CHECK_EQ_INT(twoway_deframer_new(NULL, 0), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_deframer_new(&d, 0), TWOWAY_OK);
    CHECK_EQ_INT(twoway_deframer_push(d, NULL, 1, &used, &dp, &dlen, &end), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_deframer_push(d, big, 1, NULL, &dp, &dlen, &end), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_deframer_push(NULL, big, 1, &used, &dp, &dlen, &end), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_deframer_next(d, NULL, NULL), TWOWAY_ERR_ARG);
    CHECK(twoway_deframer_read(d, big, 1) < 0); /* no source yet */
    CHECK(twoway_deframer_read(NULL, big, 1) < 0);
    /* next() in the middle of a message */
    uint8_t two[8];
    CHECK_EQ_INT(twoway_frame_header(two, 4, 1), TWOWAY_OK);
    memset(two + 4, 'x', 4);
    mem_src m = {two, sizeof two, 0, 1, SIZE_MAX};
    CHECK_EQ_INT(twoway_deframer_next(d, mem_read, &m), 1);
    CHECK_EQ_INT(twoway_deframer_next(d, mem_read, &m), TWOWAY_ERR_STATE);
    /* a failing read: IO */
    m.fail_at = 5;
    uint8_t tmp[8];
    CHECK_EQ_INT(twoway_deframer_read(d, tmp, sizeof tmp), 1);
    CHECK(twoway_deframer_read(d, tmp, sizeof tmp) < 0);
    CHECK_EQ_INT(twoway_deframer_error(d), TWOWAY_ERR_IO);
    CHECK_EQ_INT(twoway_deframer_error(NULL), TWOWAY_ERR_ARG);
    twoway_deframer_free(d);
    twoway_deframer_free(NULL);
}

/* Two chunked requests streamed into one framed stream as they are sealed
 * (one segment per pull output, then an empty last one), opened back
 * through the pull opener over the deframer. */
static void with_messages(void)
{
    static const uint8_t media[] = TWOWAY_OHTTP_CHUNKED_REQUEST;
    twoway_hpke_suite suite;
    twoway_hpke_key *sk = NULL;
    twoway_keyring *ring = NULL;
    CHECK_EQ_INT(twoway_hpke_suite_from_ids(&suite, TWOWAY_HPKE_KEM_X25519_SHA256,
                                            TWOWAY_HPKE_KDF_HKDF_SHA256,
                                            TWOWAY_HPKE_AEAD_AES_128_GCM),
                 TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_key_generate(suite.kem, &sk), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, &suite, sk), TWOWAY_OK);
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    opt.chunked = 1;
    buf stream = {0}, plain[2] = {{0}, {0}};
    for (int i = 0; i < 2; i++) {
        size_t size = i == 0 ? 100000 : 7;
        put(&plain[i], "", 0);
        uint8_t *p = malloc(size);
        RAND_bytes(p, (int)size);
        put(&plain[i], p, size);
        free(p);
        twoway_sealer *s = NULL;
        CHECK_EQ_INT(twoway_request_sealer_new(&s, &suite, 3, sk, media, sizeof media - 1, &opt),
                     TWOWAY_OK);
        mem_src src = {plain[i].p, plain[i].len, 0, 0, SIZE_MAX};
        uint8_t out[5000];
        size_t n;
        do {
            n = 0;
            if (!CHECK_EQ_INT(twoway_sealer_read(s, mem_read, &src, out, sizeof out, &n),
                              TWOWAY_OK))
                break;
            if (n > 0) {
                put_header(&stream, n, 0);
                put(&stream, out, n);
            }
        } while (n > 0);
        put_header(&stream, 0, 1);
        twoway_sealer_free(s);
    }
    twoway_deframer *d = NULL;
    mem_src m = {stream.p, stream.len, 0, 0, SIZE_MAX};
    CHECK_EQ_INT(twoway_deframer_new(&d, 0), TWOWAY_OK);
    for (int i = 0; i < 2; i++) {
        twoway_opener *o = NULL;
        buf got = {0};
        CHECK_EQ_INT(twoway_deframer_next(d, mem_read, &m), 1);
        CHECK_EQ_INT(twoway_request_opener_new(&o, ring, media, sizeof media - 1, &opt), TWOWAY_OK);
        uint8_t out[3000];
        size_t n;
        do {
            n = 0;
            if (!CHECK_EQ_INT(twoway_opener_read(o, twoway_deframer_read, d, out, sizeof out, &n),
                              TWOWAY_OK))
                break;
            put(&got, out, n);
        } while (n > 0);
        CHECK(got.len == plain[i].len && memcmp(got.p, plain[i].p, got.len) == 0);
        free(got.p);
        twoway_opener_free(o);
        free(plain[i].p);
    }
    CHECK_EQ_INT(twoway_deframer_next(d, mem_read, &m), 0);
    twoway_deframer_free(d);
    twoway_keyring_free(ring);
    twoway_hpke_key_free(sk);
    free(stream.p);
}

int main(void)
{
    for (int round = 0; round < 20; round++) {
        corpus c;
        corpus_make(&c);
        push_all(&c, 0);
        push_all(&c, round == 0 ? 1 : 1 + (size_t)round * 37);
        pull_all(&c, 0);
        pull_all(&c, 1 + (size_t)round);
        if (round < 2)
            pull_cut(&c);
        corpus_free(&c);
    }
    limits_and_misuse();
    with_messages();
    return test_summary("frame");
}
