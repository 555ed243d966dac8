/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the pull interface (twoway_sealer_read,
 * twoway_opener_read) against the push interface (update/final), on the
 * same messages.
 *
 * Input: byte 0 flags (bit 0 chunked, bit 1 ChaCha20-Poly1305 instead of
 * AES-128-GCM, bit 2 alter the message, bit 3 cut it, bit 4 make a source
 * read fail); byte 1 the chunk size - 1; byte 2 how often the plaintext is
 * repeated (so that messages run past the 16 KiB pull buffer); byte 3 where
 * to alter or cut; bytes 4..11 the sizes of the short reads and of the
 * output room each pull call gets (1 upward, and 0: BUFFER); the rest is
 * the plaintext.
 *
 * Invariants (abort() otherwise):
 *  - a pull sealer over short reads writes exactly the bytes a push sealer
 *    writes for the same chunks (same random draws); with a failing read it
 *    ends in IO, never in a shorter message;
 *  - the pull opener over short reads, and the push opener in pieces, give
 *    the same verdict and, when it is OK, the plaintext; an altered or cut
 *    message never opens; a failing read ends in IO, and then the request's
 *    context is gone (no response to a request not read whole);
 *  - room 0 is TWOWAY_ERR_BUFFER and changes nothing.
 */
#include <twoway/twoway.h>

#include <stdint.h>
#include <string.h>

#define FUZZ_NAME "fuzz_twoway_pull"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A deterministic generator: the same draws for both sealers. */
static int counter_rng(void *ctx, uint8_t *out, size_t len)
{
    uint32_t *c = ctx;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(++*c * 2654435761u >> 24);
    return 0;
}

typedef struct source {
    const uint8_t *p;
    size_t len, off;
    const uint8_t *sizes; /* 8 short-read sizes, cycled */
    unsigned calls;
    long fail_at; /* the call that fails (-1: none) */
} source;

static long source_read(void *src, uint8_t *buf, size_t len)
{
    source *s = src;
    unsigned k = s->calls++;
    if ((long)k == s->fail_at)
        return -1;
    size_t n = s->len - s->off, cap = 1 + (size_t)s->sizes[k % 8] * 37;
    if (n > len)
        n = len;
    if (n > cap)
        n = cap;
    memcpy(buf, s->p + s->off, n);
    s->off += n;
    return (long)n;
}

static const uint8_t media[] = "application/x-fuzz request";

static twoway_hpke_key *g_key;
static twoway_keyring *g_ring;
static twoway_hpke_suite g_suites[2];

static void setup(void)
{
    if (g_ring != NULL)
        return;
    static const uint8_t ikm[32] = {1, 2, 3};
    CHECK(twoway_hpke_suite_from_ids(&g_suites[0], TWOWAY_HPKE_KEM_X25519_SHA256,
                                     TWOWAY_HPKE_KDF_HKDF_SHA256,
                                     TWOWAY_HPKE_AEAD_AES_128_GCM) == TWOWAY_OK);
    CHECK(twoway_hpke_suite_from_ids(&g_suites[1], TWOWAY_HPKE_KEM_X25519_SHA256,
                                     TWOWAY_HPKE_KDF_HKDF_SHA256,
                                     TWOWAY_HPKE_AEAD_CHACHA20_POLY1305) == TWOWAY_OK);
    CHECK(twoway_hpke_key_derive(g_suites[0].kem, &g_key, ikm, sizeof ikm) == TWOWAY_OK);
    CHECK(twoway_keyring_new(&g_ring) == TWOWAY_OK);
    CHECK(twoway_keyring_add(g_ring, 1, &g_suites[0], g_key) == TWOWAY_OK);
    CHECK(twoway_keyring_add(g_ring, 1, &g_suites[1], g_key) == TWOWAY_OK);
}

/* Seals pt through the push interface, in chunks of max_chunk. */
static int seal_push(const twoway_options *opt, uint32_t seed, const uint8_t *pt, size_t len,
                     const twoway_hpke_suite *suite, buf *out)
{
    twoway_options o = *opt;
    uint32_t c = seed;
    o.rng_ctx = &c;
    twoway_sealer *s = NULL;
    CHECK(twoway_request_sealer_new(&s, suite, 1, g_key, media, sizeof media - 1, &o) == TWOWAY_OK);
    int rc = TWOWAY_OK;
    size_t off = 0;
    /* the pull sealer cuts full chunks, and ends with the remainder (which
     * may be a full chunk too: then an empty final call) */
    while (opt->chunked && len - off >= opt->max_chunk_len && rc == TWOWAY_OK) {
        size_t n = twoway_sealer_max_output(s, opt->max_chunk_len);
        uint8_t *tmp = xmalloc(n);
        rc = twoway_sealer_update(s, tmp, &n, pt + off, opt->max_chunk_len);
        buf_append(out, tmp, rc == TWOWAY_OK ? n : 0);
        free(tmp);
        off += opt->max_chunk_len;
    }
    if (rc == TWOWAY_OK) {
        size_t n = twoway_sealer_max_output(s, len - off);
        uint8_t *tmp = xmalloc(n);
        rc = twoway_sealer_final(s, tmp, &n, pt + off, len - off);
        buf_append(out, tmp, rc == TWOWAY_OK ? n : 0);
        free(tmp);
    }
    twoway_sealer_free(s);
    return rc;
}

static int seal_pull(const twoway_options *opt, uint32_t seed, source *src,
                     const twoway_hpke_suite *suite, const uint8_t *rooms, buf *out)
{
    twoway_options o = *opt;
    uint32_t c = seed;
    o.rng_ctx = &c;
    twoway_sealer *s = NULL;
    CHECK(twoway_request_sealer_new(&s, suite, 1, g_key, media, sizeof media - 1, &o) == TWOWAY_OK);
    int rc;
    uint8_t tmp[1 + 255 * 13];
    for (unsigned k = 0;; k++) {
        size_t cap = rooms[k % 8] == 0 && k == 0 ? 0 : 1 + (size_t)rooms[k % 8] * 13;
        size_t n = 12345;
        rc = twoway_sealer_read(s, source_read, src, tmp, cap, &n);
        if (cap == 0) {
            CHECK(rc == TWOWAY_ERR_BUFFER && n == 0);
            continue;
        }
        if (rc != TWOWAY_OK || n == 0)
            break;
        CHECK(n <= cap);
        buf_append(out, tmp, n);
    }
    twoway_sealer_free(s);
    return rc;
}

static int open_push(const twoway_options *opt, const uint8_t *msg, size_t len,
                     const uint8_t *sizes, buf *pt)
{
    twoway_opener *o = NULL;
    CHECK(twoway_request_opener_new(&o, g_ring, media, sizeof media - 1, opt) == TWOWAY_OK);
    int rc = TWOWAY_OK;
    size_t off = 0;
    for (unsigned k = 0; rc == TWOWAY_OK; k++) {
        size_t n = 1 + (size_t)sizes[k % 8] * 53;
        int final = n >= len - off;
        if (final)
            n = len - off;
        size_t room = twoway_opener_max_output(o, n);
        uint8_t *tmp = xmalloc(room);
        size_t w = room;
        rc = final ? twoway_opener_final(o, tmp, &w, msg + off, n)
                   : twoway_opener_update(o, tmp, &w, msg + off, n);
        buf_append(pt, tmp, rc == TWOWAY_OK ? w : 0);
        free(tmp);
        off += n;
        if (final)
            break;
    }
    twoway_opener_free(o);
    return rc;
}

static int open_pull(const twoway_options *opt, source *src, const uint8_t *rooms, buf *pt,
                     int *context_left)
{
    twoway_opener *o = NULL;
    CHECK(twoway_request_opener_new(&o, g_ring, media, sizeof media - 1, opt) == TWOWAY_OK);
    int rc;
    uint8_t tmp[1 + 255 * 17];
    for (unsigned k = 0;; k++) {
        size_t cap = 1 + (size_t)rooms[(k + 3) % 8] * 17;
        size_t n = 0;
        rc = twoway_opener_read(o, source_read, src, tmp, cap, &n);
        if (rc != TWOWAY_OK || n == 0)
            break;
        CHECK(n <= cap);
        buf_append(pt, tmp, n);
    }
    *context_left = twoway_opener_context(o) != NULL;
    twoway_opener_free(o);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 12)
        return 0;
    setup();
    uint8_t flags = data[0];
    const uint8_t *sizes = data + 4;
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    opt.chunked = flags & 1;
    opt.max_chunk_len = (size_t)data[1] + 1;
    opt.rng = counter_rng;
    const twoway_hpke_suite *suite = &g_suites[(flags >> 1) & 1];
    size_t reps = 1 + (data[2] & 7), plen = (size - 12) * reps;
    uint8_t *pt = xmalloc(plen);
    for (size_t r = 0; r < reps; r++)
        memcpy(pt + r * (size - 12), data + 12, size - 12);
    uint32_t seed = (uint32_t)data[3] * 7919u;

    /* sealing: push and pull write the same bytes */
    buf a = {0}, b = {0};
    CHECK(seal_push(&opt, seed, pt, plen, suite, &a) == TWOWAY_OK);
    source src = {pt, plen, 0, sizes, 0, -1};
    CHECK(seal_pull(&opt, seed, &src, suite, sizes, &b) == TWOWAY_OK);
    CHECK(a.len == b.len && a.len > 0 && memcmp(a.p, b.p, a.len) == 0);
    if (flags & 16) {
        /* a source that fails: IO, never a message */
        buf c = {0};
        source bad = {pt, plen, 0, sizes, 0, (long)(data[3] % 5)};
        int rc = seal_pull(&opt, seed, &bad, suite, sizes, &c);
        CHECK(rc == TWOWAY_ERR_IO || (rc == TWOWAY_OK && bad.calls <= (unsigned)(data[3] % 5)));
        free(c.p);
    }

    /* opening: the message, maybe altered or cut */
    size_t len = a.len, at = a.len > 0 ? ((size_t)data[3] * 131) % a.len : 0;
    int broken = 0;
    if ((flags & 4) && len > 0) {
        a.p[at] ^= (uint8_t)(1u << (data[2] >> 5));
        broken = 1;
    }
    if ((flags & 8) && len > 0) {
        len = at;
        broken = 1;
    }
    buf p1 = {0}, p2 = {0};
    twoway_options oo = TWOWAY_OPTIONS_INIT;
    oo.chunked = opt.chunked;
    oo.max_chunk_len = opt.max_chunk_len;
    int r1 = open_push(&oo, a.p, len, sizes, &p1);
    source msg = {a.p, len, 0, sizes, 0, -1};
    int ctx_left;
    int r2 = open_pull(&oo, &msg, sizes, &p2, &ctx_left);
    CHECK(r1 == r2);
    if (r1 == TWOWAY_OK) {
        CHECK(!broken);
        CHECK(p1.len == plen && p2.len == plen &&
              (plen == 0 || (memcmp(p1.p, pt, plen) == 0 && memcmp(p2.p, pt, plen) == 0)));
    } else {
        CHECK(broken);
    }
    if (flags & 16) {
        /* a read that fails while opening */
        buf p3 = {0};
        source bad = {a.p, len, 0, sizes, 0, (long)(data[3] % 4)};
        int r3 = open_pull(&oo, &bad, sizes, &p3, &ctx_left);
        if (bad.fail_at < (long)bad.calls) {
            CHECK(r3 == TWOWAY_ERR_IO || (r3 != TWOWAY_OK && broken));
            CHECK(!ctx_left);
        }
        free(p3.p);
    }
    free(p1.p);
    free(p2.p);
    free(a.p);
    free(b.p);
    free(pt);
    return 0;
}
