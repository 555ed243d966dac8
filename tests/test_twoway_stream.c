/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A 1 GiB chunked request and its 1 GiB chunked response, streamed through
 * the pull interface (sealer) into the push interface (opener) in one
 * process, must keep the peak resident set under 8 MiB: nothing in the
 * library grows with the message. The plaintext is generated on the fly and
 * checked by a running hash on the other side.
 *
 * Under the sanitizers (whose shadow memory dwarfs the budget) the message
 * is 64 MiB and the memory limit is not checked. The size can be set with
 * TWOWAY_STREAM_MIB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "test.h"
#include "twoway_util.h"

#define MIB ((uint64_t)1 << 20)
#define RSS_LIMIT_KIB 8192

/* A cheap byte source: byte i is byte i % 8 of splitmix64(seed + i / 8), so
 * the stream is the same whatever the read sizes. */
typedef struct gen {
    uint64_t seed, off, left;
} gen;

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static long gen_read(void *src, uint8_t *buf, size_t len)
{
    gen *g = src;
    size_t n = len < g->left ? len : (size_t)g->left;
    /* odd read sizes, so that chunks are not all aligned */
    size_t cap = 3000 + (size_t)(mix(g->off) & 0x3fff);
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++) {
        uint64_t pos = g->off + i;
        buf[i] = (uint8_t)(mix(g->seed + pos / 8) >> (8 * (pos % 8)));
    }
    g->off += n;
    g->left -= n;
    return (long)n;
}

/* Streams total bytes from a sealer into an opener; checks the plaintext
 * against a second generator with the same seed. */
static void pipe_through(twoway_sealer *s, twoway_opener *o, uint64_t total, uint64_t seed)
{
    gen src = {seed, 0, total}, check = {seed, 0, total};
    static uint8_t wire[65536], pt[65536 + 16400], want[65536 + 16400];
    uint64_t seen = 0;
    int ok = 1;
    for (;;) {
        size_t n, m;
        int rc = twoway_sealer_read(s, gen_read, &src, wire, sizeof wire, &n);
        if (rc != TWOWAY_OK) {
            CHECK_EQ_INT(rc, TWOWAY_OK);
            return;
        }
        m = sizeof pt;
        rc = n == 0 ? twoway_opener_final(o, pt, &m, NULL, 0)
                    : twoway_opener_update(o, pt, &m, wire, n);
        if (rc != TWOWAY_OK) {
            CHECK_EQ_INT(rc, TWOWAY_OK);
            return;
        }
        /* the reference stream, read in the same odd sizes */
        size_t have = 0;
        while (have < m) {
            long r = gen_read(&check, want + have, m - have);
            if (r <= 0)
                break;
            have += (size_t)r;
        }
        if (have != m || memcmp(pt, want, m) != 0)
            ok = 0;
        seen += m;
        if (n == 0)
            break;
    }
    CHECK(ok);
    CHECK_EQ_UINT(seen, total);
}

int main(void)
{
    uint64_t mib = 1024;
    int check_rss = 1;
#ifdef SECUREIO_TEST_SANITIZED
    mib = 64;
    check_rss = 0;
#endif
    const char *env = getenv("TWOWAY_STREAM_MIB");
    if (env != NULL && atoi(env) > 0)
        mib = (uint64_t)atoi(env);
    uint64_t total = mib * MIB;

    test_receiver r;
    if (!test_receiver_init(&r, 0x20, 1, 1, 1))
        return test_summary("twoway-stream");
    twoway_options so = TWOWAY_OPTIONS_INIT, oo = TWOWAY_OPTIONS_INIT;
    so.chunked = oo.chunked = 1;
    static const uint8_t mreq[] = TWOWAY_OHTTP_CHUNKED_REQUEST;
    static const uint8_t mresp[] = TWOWAY_OHTTP_CHUNKED_RESPONSE;

    twoway_sealer *s = NULL, *rs = NULL;
    twoway_opener *o = NULL, *ro = NULL;
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &r.suite, 1, r.pk, mreq, sizeof mreq - 1, &so),
                 TWOWAY_OK);
    CHECK_EQ_INT(twoway_request_opener_new(&o, r.ring, mreq, sizeof mreq - 1, &oo), TWOWAY_OK);
    if (s != NULL && o != NULL) {
        pipe_through(s, o, total, 0x1234567890abcdefULL);
        CHECK_EQ_INT(
            twoway_response_sealer_new(&rs, twoway_opener_context(o), mresp, sizeof mresp - 1, &so),
            TWOWAY_OK);
        CHECK_EQ_INT(
            twoway_response_opener_new(&ro, twoway_sealer_context(s), mresp, sizeof mresp - 1, &oo),
            TWOWAY_OK);
        if (rs != NULL && ro != NULL)
            pipe_through(rs, ro, total, 0xfedcba0987654321ULL);
    }
    twoway_sealer_free(s);
    twoway_sealer_free(rs);
    twoway_opener_free(o);
    twoway_opener_free(ro);
    test_receiver_free(&r);

    struct rusage ru;
    CHECK_EQ_INT(getrusage(RUSAGE_SELF, &ru), 0);
    printf("streamed %llu MiB request + %llu MiB response, peak RSS %ld KiB%s\n",
           (unsigned long long)mib, (unsigned long long)mib, ru.ru_maxrss,
           check_rss ? "" : " (not checked under sanitizers)");
    if (check_rss)
        CHECK(ru.ru_maxrss < RSS_LIMIT_KIB);
    return test_summary("twoway-stream");
}
