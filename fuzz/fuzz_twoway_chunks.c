/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the chunk reader of twoway message bodies (tw_body, the
 * internal engine under every opener: QUIC varint lengths, a final chunk
 * with length 0 and AAD "final" running to the end, docs/TWOWAY.md),
 * with a fixed key and base nonce, plus a seal/open round trip.
 *
 * Input layout (missing bytes read as 0):
 *   [0]    bit 0: the AEAD (0 AES-128-GCM, 1 ChaCha20-Poly1305)
 *          bit 1: unchunked (one AEAD over the whole body)
 *   [1..2] big-endian v: max_chunk_len = v + 1 (chunked), or
 *          max_message_len = v + 1 (unchunked)
 *   [3]    low 4 bits: n, the number of piece sizes that follow
 *   [4..4+n) piece sizes (bytes, used in turn; none: all in one call)
 *   rest   the body: opened as it is, and sealed as plaintext for the round
 *          trip
 *
 * Invariants (abort() when broken):
 *  - no call writes more than tw_body_open_bound() said before it (it is 0
 *    for an unchunked body before its final call; the output buffers have
 *    exactly that size, so ASan sees any overrun);
 *    the plaintext never exceeds the input;
 *  - the result is one of OK, AUTH, TRUNCATED, TOO_BIG (unchunked: exactly
 *    TOO_BIG above the limit, TRUNCATED below a tag, else OK or AUTH);
 *  - a failed call writes nothing, and then every call fails with STATE and
 *    writes nothing; so does every call after a successful final one;
 *  - the result and the plaintext do not depend on how the input is split:
 *    the given pieces, one call, one byte per call; what the pieces released
 *    before an error is a prefix of what one byte per call released;
 *  - the rest, sealed in those pieces with the same key, has the expected
 *    length (chunks of at most max_chunk_len, then an empty final chunk)
 *    and opens to the same plaintext, in pieces and whole; an opener whose
 *    max_chunk_len is one less refuses a full chunk (TOO_BIG).
 */
#include <twoway/message.h>

#include "twoway/message_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_twoway_chunks"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fixed_key[32] = {
    0x6b, 0x65, 0x79, 0x20, 0x6f, 0x66, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x5f, 0x74, 0x77, 0x6f, 0x77,
    0x61, 0x79, 0x5f, 0x63, 0x68, 0x75, 0x6e, 0x6b, 0x73, 0x2c, 0x20, 0x33, 0x32, 0x20, 0x62, 0x21};
static const uint8_t fixed_nonce[12] = {0x6e, 0x6f, 0x6e, 0x63, 0x65, 0x20,
                                        0x30, 0x31, 0x32, 0x33, 0x34, 0x35};
#define TAG 16u

typedef struct params {
    const twoway_hpke_aead *aead;
    int chunked;
    size_t limit; /* max_chunk_len or max_message_len */
    const uint8_t *sizes;
    size_t n_sizes;
    const uint8_t *body;
    size_t body_len;
} params;

static void parse(params *p, const uint8_t *data, size_t size)
{
    static const uint8_t none[1];
    uint8_t hdr[4] = {0, 0, 0, 0};
    if (data == NULL) {
        data = none;
        size = 0;
    }
    memcpy(hdr, data, size < 4 ? size : 4);
    size_t off = size < 4 ? size : 4;
    p->aead = twoway_hpke_aead_by_id((hdr[0] & 1) ? TWOWAY_HPKE_AEAD_CHACHA20_POLY1305
                                                  : TWOWAY_HPKE_AEAD_AES_128_GCM);
    CHECK(p->aead != NULL);
    p->chunked = !(hdr[0] & 2);
    p->limit = (size_t)(hdr[1] << 8 | hdr[2]) + 1;
    p->n_sizes = hdr[3] & 0x0f;
    if (p->n_sizes > size - off)
        p->n_sizes = size - off;
    p->sizes = data + off;
    off += p->n_sizes;
    p->body = data + off;
    p->body_len = size - off;
}

static void body_new(tw_body *b, const params *p, int sealing, size_t limit)
{
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    tw_opts o;
    opt.chunked = p->chunked;
    if (p->chunked)
        opt.max_chunk_len = limit;
    else
        opt.max_message_len = limit;
    CHECK(tw_opts_resolve(&o, &opt, sealing) == TWOWAY_OK);
    tw_body_init(b, &o);
    CHECK(tw_aead_init_counter(&b->aead, p->aead, fixed_key, fixed_nonce) == TWOWAY_OK);
}

/* A body opener refuses everything now (after an error or the end). */
static void check_refuses(tw_body *b)
{
    uint8_t in[3] = {0, 1, 2}, out[8];
    size_t w = 99;
    CHECK(tw_body_open(b, out, &w, in, sizeof in, 0) == TWOWAY_ERR_STATE && w == 0);
    w = 99;
    CHECK(tw_body_open(b, out, &w, NULL, 0, 1) == TWOWAY_ERR_STATE && w == 0);
}

/* The next piece size: the sizes in turn (none: everything at once; a
 * negative step: that many bytes each time). */
typedef struct splitter {
    const uint8_t *sizes;
    size_t n, i, fixed;
} splitter;

static size_t next_piece(splitter *s, size_t left)
{
    size_t n = left;
    if (s->fixed > 0)
        n = s->fixed;
    else if (s->n > 0)
        n = s->sizes[s->i++ % s->n];
    return n < left ? n : left;
}

/* Opens in[len] in pieces; appends the plaintext to pt; checks the
 * per-call invariants. Returns the result of the last call. */
static int open_pieces(const params *p, size_t limit, const uint8_t *in, size_t len, splitter sp,
                       buf *pt)
{
    tw_body b;
    body_new(&b, p, 0, limit);
    size_t off = 0;
    int rc;
    /* a bounded number of calls: zero-size pieces make no progress */
    size_t calls = 0, max_calls = 2 * len + 64;
    for (;;) {
        size_t n = next_piece(&sp, len - off);
        int final = off + n == len;
        if (++calls > max_calls) {
            n = len - off;
            final = 1;
        }
        size_t bound = tw_body_open_bound(&b, n, final), w = 12345;
        /* an unchunked body writes nothing before its final call */
        CHECK(p->chunked ? bound >= n : (final ? bound >= n : bound == 0));
        uint8_t *out = xmalloc(bound);
        rc = tw_body_open(&b, out, &w, in + off, n, final);
        CHECK(rc == TWOWAY_OK || rc == TWOWAY_ERR_AUTH || rc == TWOWAY_ERR_TRUNCATED ||
              rc == TWOWAY_ERR_TOO_BIG || rc == TWOWAY_ERR_EMPTY_CHUNK || rc == TWOWAY_ERR_FORMAT);
        CHECK(w <= bound);
        if (rc != TWOWAY_OK)
            CHECK(w == 0);
        buf_append(pt, out, w);
        free(out);
        off += n;
        if (rc != TWOWAY_OK || final)
            break;
    }
    CHECK(pt->len <= len);
    check_refuses(&b); /* after an error, or after the end */
    tw_body_clear(&b);
    return rc;
}

/* The length of pt[pt_len] sealed in pieces: each piece cut into chunks of
 * at most max, then the empty final chunk; 1 if a chunk is full. */
static size_t sealed_len(const params *p, splitter sp, size_t pt_len, int *full)
{
    size_t off = 0, total = 0;
    *full = 0;
    if (!p->chunked)
        return pt_len + TAG;
    while (off < pt_len) {
        size_t n = next_piece(&sp, pt_len - off);
        if (n == 0)
            n = pt_len - off; /* as seal_pieces does */
        for (size_t k = n; k > 0;) {
            size_t c = k < p->limit ? k : p->limit;
            *full |= c == p->limit;
            total += tw_varint_len(c + TAG) + c + TAG;
            k -= c;
        }
        off += n;
    }
    return total + 1 + TAG;
}

/* Seals pt[pt_len] in pieces (each an update; unchunked: one final). */
static void seal_pieces(const params *p, splitter sp, const uint8_t *pt, size_t pt_len, buf *out)
{
    tw_body b;
    body_new(&b, p, 1, p->limit);
    if (!p->chunked) {
        size_t bound = tw_body_seal_bound(&b, pt_len, 1), w = 0;
        uint8_t *o = xmalloc(bound);
        CHECK(tw_body_seal(&b, o, &w, pt, pt_len, 1) == TWOWAY_OK && w <= bound);
        buf_append(out, o, w);
        free(o);
        tw_body_clear(&b);
        return;
    }
    size_t off = 0;
    while (off < pt_len) {
        size_t n = next_piece(&sp, pt_len - off);
        if (n == 0)
            n = pt_len - off;
        size_t bound = tw_body_seal_bound(&b, n, 0), w = 0;
        uint8_t *o = xmalloc(bound);
        CHECK(tw_body_seal(&b, o, &w, pt + off, n, 0) == TWOWAY_OK && w <= bound);
        buf_append(out, o, w);
        free(o);
        off += n;
    }
    size_t bound = tw_body_seal_bound(&b, 0, 1), w = 0;
    uint8_t *o = xmalloc(bound);
    CHECK(tw_body_seal(&b, o, &w, NULL, 0, 1) == TWOWAY_OK && w == 1 + TAG && w <= bound);
    buf_append(out, o, w);
    free(o);
    tw_body_clear(&b);
}

static int expected_class(const params *p, int rc, size_t len)
{
    if (p->chunked)
        return 1;
    if (len > p->limit + TAG)
        return rc == TWOWAY_ERR_TOO_BIG;
    if (len < TAG)
        return rc == TWOWAY_ERR_TRUNCATED;
    return rc == TWOWAY_OK || rc == TWOWAY_ERR_AUTH;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    params p;
    parse(&p, data, size);
    splitter given = {p.sizes, p.n_sizes, 0, 0}, whole = {NULL, 0, 0, 0};
    splitter bytes = {NULL, 0, 0, 1};
    buf a = {0}, w = {0}, b1 = {0}, sealed = {0}, rt = {0};

    /* the input as a body: in the given pieces, whole, byte by byte */
    int rc_a = open_pieces(&p, p.limit, p.body, p.body_len, given, &a);
    int rc_w = open_pieces(&p, p.limit, p.body, p.body_len, whole, &w);
    CHECK(rc_a == rc_w);
    CHECK(expected_class(&p, rc_w, p.body_len));
    if (p.body_len <= 4096) {
        int rc_b = open_pieces(&p, p.limit, p.body, p.body_len, bytes, &b1);
        CHECK(rc_b == rc_w);
        CHECK(a.len <= b1.len && (a.len == 0 || memcmp(a.p, b1.p, a.len) == 0));
        if (rc_b == TWOWAY_OK)
            CHECK(b1.len == w.len && (w.len == 0 || memcmp(b1.p, w.p, w.len) == 0));
    }
    if (rc_w == TWOWAY_OK) {
        CHECK(a.len == w.len && (w.len == 0 || memcmp(a.p, w.p, w.len) == 0));
    } else {
        CHECK(w.len == 0); /* one failed call releases nothing */
    }

    /* round trip: the body as plaintext */
    int full = 0;
    size_t want = sealed_len(&p, given, p.body_len, &full);
    seal_pieces(&p, given, p.body, p.body_len, &sealed);
    CHECK(sealed.len == want);
    int rc = open_pieces(&p, p.limit, sealed.p, sealed.len, given, &rt);
    int fits = p.chunked || p.body_len <= p.limit;
    CHECK(rc == (fits ? TWOWAY_OK : TWOWAY_ERR_TOO_BIG));
    if (rc == TWOWAY_OK)
        CHECK(rt.len == p.body_len && (p.body_len == 0 || memcmp(rt.p, p.body, p.body_len) == 0));
    rt.len = 0;
    rc = open_pieces(&p, p.limit, sealed.p, sealed.len, whole, &rt);
    CHECK(rc == (fits ? TWOWAY_OK : TWOWAY_ERR_TOO_BIG));
    if (rc == TWOWAY_OK)
        CHECK(rt.len == p.body_len && (p.body_len == 0 || memcmp(rt.p, p.body, p.body_len) == 0));
    if (p.chunked && full && p.limit > 1) {
        rt.len = 0;
        CHECK(open_pieces(&p, p.limit - 1, sealed.p, sealed.len, given, &rt) == TWOWAY_ERR_TOO_BIG);
    }
    /* one bit changed in the sealed body never opens */
    if (sealed.len > 0 && p.body_len > 0) {
        size_t bit = (size_t)p.body[0] * 8 + p.body[p.body_len - 1];
        bit %= sealed.len * 8;
        sealed.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        rt.len = 0;
        CHECK(open_pieces(&p, p.limit, sealed.p, sealed.len, given, &rt) != TWOWAY_OK);
    }

    free(a.p);
    free(w.p);
    free(b1.p);
    free(sealed.p);
    free(rt.p);
    return 0;
}
