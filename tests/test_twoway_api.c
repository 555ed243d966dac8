/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Round trips of twoway messages over every suite, chunked and not,
 * one-to-one and one-to-many, sizes around the chunk size, the push
 * interface in random splits and the pull interface; saved contexts; custom
 * suites; several responses to one request.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/util.h"
#include "hpke_util.h"
#include "test.h"
#include "twoway/message_internal.h"
#include "twoway_util.h"

static const uint16_t kems[] = {0x10, 0x11, 0x12, 0x20, 0x21};
static const uint16_t kdfs[] = {1, 2, 3};
static const uint16_t aeads[] = {1, 2, 3};

static uint64_t rng_state = 1;

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* Seals pt (chunked: in pieces of `piece` bytes, 0 = one final call). */
static int seal_pieces(twoway_sealer *s, const uint8_t *pt, size_t len, size_t piece, test_buf *out)
{
    if (piece == 0)
        return test_seal_all(s, pt, len, NULL, 0, out);
    size_t n_chunks = (len + piece - 1) / piece;
    size_t *lens = calloc(n_chunks + 1, sizeof *lens);
    for (size_t i = 0; i < n_chunks; i++)
        lens[i] = i + 1 < n_chunks ? piece : len - piece * (n_chunks - 1);
    int rc = test_seal_all(s, pt, len, lens, n_chunks, out);
    free(lens);
    return rc;
}

struct mem_src {
    const uint8_t *p;
    size_t len, off, max_read;
};

static long mem_read(void *src, uint8_t *buf, size_t len)
{
    struct mem_src *m = src;
    size_t n = m->len - m->off;
    if (n > len)
        n = len;
    if (m->max_read && n > m->max_read)
        n = m->max_read;
    memcpy(buf, m->p + m->off, n);
    m->off += n;
    return (long)n;
}

/* Everything a sealer writes through the pull interface. */
static int pull_seal(twoway_sealer *s, const uint8_t *pt, size_t len, size_t max_read,
                     test_buf *out)
{
    struct mem_src src = {pt, len, 0, max_read};
    for (;;) {
        uint8_t buf[1000];
        size_t n;
        int rc = twoway_sealer_read(s, mem_read, &src, buf, sizeof buf, &n);
        if (rc != TWOWAY_OK)
            return rc;
        if (n == 0)
            return TWOWAY_OK;
        test_buf_append(out, buf, n);
    }
}

static int pull_open(twoway_opener *o, const uint8_t *msg, size_t len, size_t max_read,
                     test_buf *out)
{
    struct mem_src src = {msg, len, 0, max_read};
    for (;;) {
        uint8_t buf[777];
        size_t n;
        int rc = twoway_opener_read(o, mem_read, &src, buf, sizeof buf, &n);
        if (rc != TWOWAY_OK)
            return rc;
        if (n == 0)
            return TWOWAY_OK;
        test_buf_append(out, buf, n);
    }
}

static void check_same(const test_buf *got, const uint8_t *want, size_t want_len)
{
    CHECK_EQ_UINT(got->len, want_len);
    if (got->len == want_len && want_len > 0)
        CHECK_MEM(got->p, want, want_len);
}

/* One request and response of size len through suite s. */
static void round_trip(const twoway_hpke_suite *suite, twoway_keyring *ring,
                       const twoway_hpke_key *pk, uint8_t key_id, int chunked, size_t len,
                       size_t piece, size_t step, int pull)
{
    uint8_t *pt = malloc(len + 1);
    twoway_options so = TWOWAY_OPTIONS_INIT, oo = TWOWAY_OPTIONS_INIT;
    so.chunked = oo.chunked = chunked;
    so.rng = test_counter_rng_fn;
    so.rng_ctx = &rng_state;
    fill(pt, len, (uint32_t)len);
    twoway_sealer *s = NULL, *rs = NULL;
    twoway_opener *o = NULL, *ro = NULL;
    test_buf req = {0}, got = {0}, resp = {0}, got2 = {0};
    static const uint8_t mreq[] = "application/x-test request";
    static const uint8_t mresp[] = "application/x-test response";

    CHECK_EQ_INT(twoway_request_sealer_new(&s, suite, key_id, pk, mreq, sizeof mreq - 1, &so),
                 TWOWAY_OK);
    if (s == NULL)
        goto out;
    CHECK_EQ_INT(pull ? pull_seal(s, pt, len, piece, &req) : seal_pieces(s, pt, len, piece, &req),
                 TWOWAY_OK);
    if (!chunked)
        CHECK_EQ_UINT(req.len, TWOWAY_HEADER_LEN + suite->kem->enc_len + len + 16);
    CHECK_EQ_INT(twoway_request_opener_new(&o, ring, mreq, sizeof mreq - 1, &oo), TWOWAY_OK);
    if (o == NULL)
        goto out;
    CHECK_EQ_INT(pull ? pull_open(o, req.p, req.len, step, &got)
                      : test_open_all(o, req.p, req.len, step, &got),
                 TWOWAY_OK);
    check_same(&got, pt, len);

    /* the response, the other way */
    CHECK_EQ_INT(
        twoway_response_sealer_new(&rs, twoway_opener_context(o), mresp, sizeof mresp - 1, &so),
        TWOWAY_OK);
    if (rs == NULL)
        goto out;
    CHECK_EQ_INT(pull ? pull_seal(rs, pt, len, piece, &resp)
                      : seal_pieces(rs, pt, len, piece, &resp),
                 TWOWAY_OK);
    CHECK_EQ_INT(
        twoway_response_opener_new(&ro, twoway_sealer_context(s), mresp, sizeof mresp - 1, &oo),
        TWOWAY_OK);
    if (ro == NULL)
        goto out;
    CHECK_EQ_INT(pull ? pull_open(ro, resp.p, resp.len, step, &got2)
                      : test_open_all(ro, resp.p, resp.len, step, &got2),
                 TWOWAY_OK);
    check_same(&got2, pt, len);
out:
    twoway_sealer_free(s);
    twoway_sealer_free(rs);
    twoway_opener_free(o);
    twoway_opener_free(ro);
    test_buf_free(&req);
    test_buf_free(&got);
    test_buf_free(&resp);
    test_buf_free(&got2);
    free(pt);
}

/* One-to-many: one body, three receivers, each with its own response. */
static void multi_round_trip(const twoway_hpke_suite *suite, int chunked, size_t len)
{
    enum { N = 3 };
    twoway_hpke_key *sk[N] = {0}, *pk[N] = {0};
    twoway_keyring *ring[N] = {0};
    twoway_context *cctx[N] = {0};
    uint8_t ek[N][512];
    size_t ek_len[N];
    uint8_t *pt = malloc(len + 1);
    twoway_options so = TWOWAY_OPTIONS_INIT, oo = TWOWAY_OPTIONS_INIT;
    so.chunked = oo.chunked = chunked;
    fill(pt, len, 7);
    twoway_sealer *s = NULL;
    test_buf body = {0};
    static const uint8_t mreq[] = "multi request", mresp[] = "multi response";
    CHECK_EQ_INT(twoway_multi_request_sealer_new(&s, suite, mreq, sizeof mreq - 1, &so), TWOWAY_OK);
    if (s == NULL)
        goto out;
    CHECK(twoway_sealer_context(s) == NULL);
    CHECK_EQ_INT(test_seal_all(s, pt, len, NULL, 0, &body), TWOWAY_OK);
    for (int i = 0; i < N; i++) {
        sk[i] = test_hpke_generate(suite->kem);
        pk[i] = test_hpke_public_of(sk[i]);
        CHECK_EQ_INT(twoway_keyring_new(&ring[i]), TWOWAY_OK);
        CHECK_EQ_INT(twoway_keyring_add(ring[i], (uint8_t)(10 + i), suite, sk[i]), TWOWAY_OK);
        ek_len[i] = sizeof ek[i];
        CHECK_EQ_INT(
            twoway_multi_encapsulate(s, (uint8_t)(10 + i), pk[i], ek[i], &ek_len[i], &cctx[i]),
            TWOWAY_OK);
        CHECK_EQ_UINT(ek_len[i], TWOWAY_HEADER_LEN + suite->kem->enc_len + 32 + 16);
    }
    for (int i = 0; i < N; i++) {
        twoway_opener *o = NULL, *ro = NULL;
        twoway_sealer *rs = NULL;
        test_buf got = {0}, resp = {0}, got2 = {0};
        uint8_t rpt[40];
        fill(rpt, sizeof rpt, (uint32_t)i);
        CHECK_EQ_INT(twoway_multi_request_opener_new(&o, ring[i], mreq, sizeof mreq - 1, ek[i],
                                                     ek_len[i], &oo),
                     TWOWAY_OK);
        if (o == NULL)
            continue;
        CHECK_EQ_INT(test_open_all(o, body.p, body.len, 1000, &got), TWOWAY_OK);
        check_same(&got, pt, len);
        CHECK_EQ_INT(
            twoway_response_sealer_new(&rs, twoway_opener_context(o), mresp, sizeof mresp - 1, &so),
            TWOWAY_OK);
        CHECK_EQ_INT(test_seal_all(rs, rpt, sizeof rpt, NULL, 0, &resp), TWOWAY_OK);
        /* only this receiver's sender context opens it */
        for (int j = 0; j < N; j++) {
            CHECK_EQ_INT(twoway_response_opener_new(&ro, cctx[j], mresp, sizeof mresp - 1, &oo),
                         TWOWAY_OK);
            test_buf_free(&got2);
            int rc = test_open_all(ro, resp.p, resp.len, 0, &got2);
            if (i == j) {
                CHECK_EQ_INT(rc, TWOWAY_OK);
                check_same(&got2, rpt, sizeof rpt);
            } else {
                CHECK_EQ_INT(rc, TWOWAY_ERR_AUTH);
            }
            twoway_opener_free(ro);
            ro = NULL;
        }
        twoway_sealer_free(rs);
        twoway_opener_free(o);
        test_buf_free(&got);
        test_buf_free(&resp);
        test_buf_free(&got2);
    }
out:
    for (int i = 0; i < N; i++) {
        twoway_context_free(cctx[i]);
        twoway_keyring_free(ring[i]);
        twoway_hpke_key_free(sk[i]);
        twoway_hpke_key_free(pk[i]);
    }
    twoway_sealer_free(s);
    test_buf_free(&body);
    free(pt);
}

static void test_all_suites(void)
{
    size_t suites = 0;
    for (size_t a = 0; a < UTIL_ARRAY_LEN(kems); a++) {
        const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(kems[a]);
        twoway_hpke_key *sk = test_hpke_generate(kem), *pk = test_hpke_public_of(sk);
        for (size_t b = 0; b < UTIL_ARRAY_LEN(kdfs); b++) {
            for (size_t c = 0; c < UTIL_ARRAY_LEN(aeads); c++) {
                twoway_hpke_suite suite;
                twoway_keyring *ring = NULL;
                if (!test_hpke_suite(&suite, kems[a], kdfs[b], aeads[c]))
                    continue;
                CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
                CHECK_EQ_INT(twoway_keyring_add(ring, 42, &suite, sk), TWOWAY_OK);
                for (int chunked = 0; chunked < 2; chunked++) {
                    round_trip(&suite, ring, pk, 42, chunked, 0, 0, 0, 0);
                    round_trip(&suite, ring, pk, 42, chunked, 100, 0, 13, 0);
                }
                multi_round_trip(&suite, (int)(c & 1), 300);
                twoway_keyring_free(ring);
                suites++;
            }
        }
        twoway_hpke_key_free(sk);
        twoway_hpke_key_free(pk);
    }
    CHECK_EQ_UINT(suites, 45);
}

/* Sizes around the chunk size, chunked and not, push and pull. */
static void test_sizes(void)
{
    test_receiver r;
    if (!test_receiver_init(&r, 0x20, 1, 1, 1))
        return;
    const size_t C = TWOWAY_DEFAULT_SEAL_CHUNK_LEN;
    const size_t sizes[] = {0, 1, C - 1, C, C + 1, 3 * C, 200000};
    const size_t pieces[] = {0, 1, 17, C - 1, C, C + 1, 3 * C + 5};
    const size_t steps[] = {0, 1, 5, 4113, 4114, 4115, 65536};
    for (size_t i = 0; i < UTIL_ARRAY_LEN(sizes); i++) {
        for (int chunked = 0; chunked < 2; chunked++) {
            for (size_t p = 0; p < UTIL_ARRAY_LEN(pieces); p++) {
                size_t step = steps[(i + p) % UTIL_ARRAY_LEN(steps)];
                if (pieces[p] == 1 && sizes[i] > 5000)
                    continue; /* one-byte chunks of a big message: slow, nothing new */
                if (step == 1 && sizes[i] > 20000)
                    step = 3;
                round_trip(&r.suite, r.ring, r.pk, 1, chunked, sizes[i], chunked ? pieces[p] : 0,
                           step, 0);
                /* pull: pieces become the source's read sizes */
                round_trip(&r.suite, r.ring, r.pk, 1, chunked, sizes[i], pieces[p], step, 1);
            }
        }
    }
    test_receiver_free(&r);
}

/* Chunk boundaries follow the input and max_chunk_len. */
static void test_chunk_layout(void)
{
    twoway_hpke_suite suite;
    twoway_keyring *ring = NULL;
    CHECK(test_hpke_suite(&suite, 0x20, 1, 3));
    twoway_hpke_key *sk = test_hpke_generate(suite.kem), *pk = test_hpke_public_of(sk);
    CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 0, &suite, sk), TWOWAY_OK);
    twoway_options so = TWOWAY_OPTIONS_INIT;
    so.chunked = 1;
    so.max_chunk_len = 100;
    uint8_t pt[250], out[1000];
    size_t n = sizeof out;
    fill(pt, sizeof pt, 3);
    twoway_sealer *s = NULL;
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &suite, 0, pk, NULL, 0, &so), TWOWAY_OK);
    /* 250 bytes → 100 + 100 + 50, then the 17-byte final chunk */
    CHECK_EQ_INT(twoway_sealer_final(s, out, &n, pt, sizeof pt), TWOWAY_OK);
    size_t off = TWOWAY_HEADER_LEN + 32;
    CHECK_EQ_UINT(n, off + (2 + 116) * 2 + (2 + 66) + 17);
    CHECK_EQ_UINT(out[off], 0x40);
    CHECK_EQ_UINT(out[off + 1], 116);
    CHECK_EQ_UINT(out[off + 2 * 118], 0x40);
    CHECK_EQ_UINT(out[off + 2 * 118 + 1], 66);
    CHECK_EQ_UINT(out[n - 17], 0);
    CHECK(n <= twoway_sealer_max_output(s, 0) + sizeof out); /* nothing more to write */
    /* an opener that accepts at most 99-byte chunks refuses it */
    twoway_options oo = TWOWAY_OPTIONS_INIT;
    oo.chunked = 1;
    oo.max_chunk_len = 99;
    twoway_opener *o = NULL;
    test_buf got = {0};
    CHECK_EQ_INT(twoway_request_opener_new(&o, ring, NULL, 0, &oo), TWOWAY_OK);
    CHECK_EQ_INT(test_open_all(o, out, n, 0, &got), TWOWAY_ERR_TOO_BIG);
    twoway_opener_free(o);
    oo.max_chunk_len = 100;
    CHECK_EQ_INT(twoway_request_opener_new(&o, ring, NULL, 0, &oo), TWOWAY_OK);
    CHECK_EQ_INT(test_open_all(o, out, n, 0, &got), TWOWAY_OK);
    check_same(&got, pt, sizeof pt);
    twoway_opener_free(o);
    /* an empty chunked message is the final chunk alone: 0x00 || tag */
    twoway_sealer_free(s);
    n = sizeof out;
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &suite, 0, pk, NULL, 0, &so), TWOWAY_OK);
    CHECK_EQ_INT(twoway_sealer_final(s, out, &n, NULL, 0), TWOWAY_OK);
    CHECK_EQ_UINT(n, TWOWAY_HEADER_LEN + 32 + 17);
    test_buf_free(&got);
    twoway_sealer_free(s);
    twoway_keyring_free(ring);
    twoway_hpke_key_free(sk);
    twoway_hpke_key_free(pk);
}

/* Several responses to one request, each with its own nonce; the saved
 * context opens and seals like the live one. */
static void test_contexts(void)
{
    twoway_hpke_suite suite;
    twoway_keyring *ring = NULL;
    CHECK(test_hpke_suite(&suite, 0x10, 1, 2));
    twoway_hpke_key *sk = test_hpke_generate(suite.kem), *pk = test_hpke_public_of(sk);
    CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 9, &suite, sk), TWOWAY_OK);
    static const uint8_t mreq[] = TWOWAY_OHTTP_REQUEST, mresp[] = TWOWAY_OHTTP_RESPONSE;
    twoway_sealer *s = NULL;
    twoway_opener *o = NULL;
    test_buf req = {0}, got = {0};
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &suite, 9, pk, mreq, sizeof mreq - 1, NULL),
                 TWOWAY_OK);
    CHECK_EQ_INT(test_seal_all(s, (const uint8_t *)"hi", 2, NULL, 0, &req), TWOWAY_OK);
    CHECK_EQ_INT(twoway_request_opener_new(&o, ring, mreq, sizeof mreq - 1, NULL), TWOWAY_OK);
    CHECK(twoway_opener_context(o) == NULL); /* nothing read yet */
    twoway_header h;
    CHECK_EQ_INT(twoway_opener_header(o, &h), TWOWAY_ERR_STATE);
    CHECK_EQ_INT(test_open_all(o, req.p, req.len, 0, &got), TWOWAY_OK);
    CHECK_EQ_INT(twoway_opener_header(o, &h), TWOWAY_OK);
    CHECK_EQ_UINT(h.key_id, 9);
    CHECK_EQ_UINT(h.aead_id, 2);

    uint8_t blob_c[TWOWAY_CONTEXT_BLOB_MAX], blob_s[TWOWAY_CONTEXT_BLOB_MAX];
    size_t bc = sizeof blob_c, bs = sizeof blob_s, small = 3;
    CHECK_EQ_INT(
        twoway_context_save(twoway_sealer_context(s), mresp, sizeof mresp - 1, blob_c, &small),
        TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(small, 12 + 65 + 1 + 32 + 2 + sizeof mresp - 1);
    CHECK_EQ_INT(
        twoway_context_save(twoway_sealer_context(s), mresp, sizeof mresp - 1, blob_c, &bc),
        TWOWAY_OK);
    CHECK_EQ_INT(
        twoway_context_save(twoway_opener_context(o), mresp, sizeof mresp - 1, blob_s, &bs),
        TWOWAY_OK);
    /* both ends derive the same secret: the blobs are equal */
    CHECK_EQ_UINT(bc, bs);
    CHECK_MEM(blob_c, blob_s, bc);
    twoway_context *lc = NULL, *ls = NULL;
    CHECK_EQ_INT(twoway_context_load(&lc, blob_c, bc), TWOWAY_OK);
    CHECK_EQ_INT(twoway_context_load(&ls, blob_s, bs), TWOWAY_OK);

    const twoway_context *servers[2] = {twoway_opener_context(o), ls};
    const twoway_context *clients[2] = {twoway_sealer_context(s), lc};
    uint8_t first_nonce[32];
    for (int k = 0; k < 4; k++) {
        twoway_sealer *rs = NULL;
        twoway_opener *ro = NULL;
        test_buf resp = {0}, back = {0};
        CHECK_EQ_INT(twoway_response_sealer_new(&rs, servers[k & 1], mresp, sizeof mresp - 1, NULL),
                     TWOWAY_OK);
        CHECK_EQ_INT(test_seal_all(rs, (const uint8_t *)"response", 8, NULL, 0, &resp), TWOWAY_OK);
        if (k == 0)
            memcpy(first_nonce, resp.p, 32);
        else
            CHECK(memcmp(first_nonce, resp.p, 32) != 0); /* a fresh nonce each time */
        CHECK_EQ_INT(
            twoway_response_opener_new(&ro, clients[k >> 1], mresp, sizeof mresp - 1, NULL),
            TWOWAY_OK);
        CHECK_EQ_INT(test_open_all(ro, resp.p, resp.len, 0, &back), TWOWAY_OK);
        check_same(&back, (const uint8_t *)"response", 8);
        twoway_sealer_free(rs);
        twoway_opener_free(ro);
        test_buf_free(&resp);
        test_buf_free(&back);
    }
    /* a loaded context serves its one media type only */
    twoway_sealer *rs = NULL;
    CHECK_EQ_INT(twoway_response_sealer_new(&rs, ls, mreq, sizeof mreq - 1, NULL), TWOWAY_ERR_ARG);
    CHECK(rs == NULL);
    twoway_context_free(lc);
    twoway_context_free(ls);
    twoway_sealer_free(s);
    twoway_opener_free(o);
    test_buf_free(&req);
    test_buf_free(&got);
    twoway_keyring_free(ring);
    twoway_hpke_key_free(sk);
    twoway_hpke_key_free(pk);
}

/* A custom suite: KDF and AEAD tables of the caller's own (wrapping the
 * built-in ones, found through userdata) under private ids. */
static int wrap_extract(const twoway_hpke_kdf *kdf, uint8_t *prk, const uint8_t *salt,
                        size_t salt_len, const twoway_hpke_slice *ikm, size_t n)
{
    const twoway_hpke_kdf *real = kdf->userdata;
    return real->extract(real, prk, salt, salt_len, ikm, n);
}

static int wrap_expand(const twoway_hpke_kdf *kdf, uint8_t *out, size_t out_len, const uint8_t *prk,
                       size_t prk_len, const twoway_hpke_slice *info, size_t n)
{
    const twoway_hpke_kdf *real = kdf->userdata;
    return real->expand(real, out, out_len, prk, prk_len, info, n);
}

static int wrap_init(const twoway_hpke_aead *aead, void **state, const uint8_t *key)
{
    const twoway_hpke_aead *real = aead->userdata;
    return real->init(real, state, key);
}

static void test_custom_suite(void)
{
    const twoway_hpke_kem *kem_p = twoway_hpke_kem_by_id(0x20);
    const twoway_hpke_kdf *real_kdf = twoway_hpke_kdf_by_id(1);
    const twoway_hpke_aead *real_aead = twoway_hpke_aead_by_id(3);
    twoway_hpke_kdf kdf = *real_kdf;
    twoway_hpke_aead aead = *real_aead;
    kdf.id = 0x7002;
    kdf.extract = wrap_extract;
    kdf.expand = wrap_expand;
    kdf.userdata = (void *)(uintptr_t)real_kdf;
    aead.id = 0x7003;
    aead.init = wrap_init;
    aead.userdata = (void *)(uintptr_t)real_aead;
    twoway_hpke_kem kem = *kem_p;
    twoway_hpke_suite suite = {&kem, &kdf, &aead};
    twoway_hpke_key *sk = NULL, *pk = NULL;
    twoway_keyring *ring = NULL;
    CHECK_EQ_INT(twoway_hpke_key_generate(&kem, &sk), TWOWAY_OK);
    if (sk == NULL)
        return;
    size_t pl;
    const uint8_t *pub = twoway_hpke_key_public(sk, &pl);
    CHECK_EQ_INT(twoway_hpke_key_import_public(&kem, &pk, pub, pl), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, &suite, sk), TWOWAY_OK);
    for (int chunked = 0; chunked < 2; chunked++)
        round_trip(&suite, ring, pk, 3, chunked, 5000, 0, 100, 0);
    multi_round_trip(&suite, 1, 1000);
    /* the header carries the private ids; twoway_header_parse does not know them */
    twoway_sealer *s = NULL;
    uint8_t out[200];
    size_t n = sizeof out;
    twoway_header h;
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &suite, 3, pk, NULL, 0, NULL), TWOWAY_OK);
    CHECK_EQ_INT(twoway_sealer_final(s, out, &n, NULL, 0), TWOWAY_OK);
    CHECK_EQ_UINT(out[3], 0x70);
    CHECK_EQ_UINT(out[4], 0x02);
    CHECK_EQ_UINT(out[5], 0x70);
    CHECK_EQ_UINT(out[6], 0x03);
    CHECK_EQ_INT(twoway_header_parse(&h, out, n), TWOWAY_ERR_HEADER);
    twoway_sealer_free(s);
    twoway_keyring_free(ring);
    twoway_hpke_key_free(sk);
    twoway_hpke_key_free(pk);
}

/* The key ring picks the key by key id and suite; rotation. */
static void test_ring_dispatch(void)
{
    twoway_hpke_suite a, b;
    CHECK(test_hpke_suite(&a, 0x20, 1, 1));
    CHECK(test_hpke_suite(&b, 0x20, 1, 3));
    twoway_hpke_key *k1 = test_hpke_generate(a.kem), *p1 = test_hpke_public_of(k1);
    twoway_hpke_key *k2 = test_hpke_generate(a.kem), *p2 = test_hpke_public_of(k2);
    twoway_keyring *ring = NULL;
    CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 1, &a, k1), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 1, &b, k1), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 2, &a, k2), TWOWAY_OK);
    round_trip(&a, ring, p1, 1, 0, 10, 0, 0, 0);
    round_trip(&b, ring, p1, 1, 1, 10, 0, 0, 0);
    round_trip(&a, ring, p2, 2, 0, 10, 0, 0, 0);
    /* a request to key 2 made before its removal fails after it */
    twoway_sealer *s = NULL;
    twoway_opener *o = NULL;
    test_buf req = {0}, got = {0};
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &a, 2, p2, NULL, 0, NULL), TWOWAY_OK);
    CHECK_EQ_INT(test_seal_all(s, (const uint8_t *)"x", 1, NULL, 0, &req), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_remove(ring, 2, 0x20, 1, 1), TWOWAY_OK);
    CHECK_EQ_INT(twoway_request_opener_new(&o, ring, NULL, 0, NULL), TWOWAY_OK);
    CHECK_EQ_INT(test_open_all(o, req.p, req.len, 0, &got), TWOWAY_ERR_KEY_MISMATCH);
    twoway_opener_free(o);
    /* and key 1 under the other suite still works */
    round_trip(&b, ring, p1, 1, 0, 10, 0, 0, 0);
    twoway_sealer_free(s);
    test_buf_free(&req);
    test_buf_free(&got);
    twoway_keyring_free(ring);
    twoway_hpke_key_free(k1);
    twoway_hpke_key_free(p1);
    twoway_hpke_key_free(k2);
    twoway_hpke_key_free(p2);
}

/* A receiver whose private key stays behind a DH callback (an HSM). */
struct hsm {
    EVP_PKEY *key;
    int calls;
};

static int hsm_dh(void *handle, uint8_t *out, size_t out_len, const uint8_t *peer, size_t peer_len)
{
    struct hsm *h = handle;
    EVP_PKEY *pub = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, peer_len);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, h->key, NULL);
    size_t len = out_len;
    int ok = pub != NULL && ctx != NULL && EVP_PKEY_derive_init(ctx) > 0 &&
             EVP_PKEY_derive_set_peer_ex(ctx, pub, 1) > 0 && EVP_PKEY_derive(ctx, out, &len) > 0 &&
             len == out_len;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pub);
    h->calls++;
    return ok ? 0 : -1;
}

static void test_hsm_receiver(void)
{
    twoway_hpke_suite suite;
    struct hsm h = {EVP_PKEY_Q_keygen(NULL, NULL, "X25519"), 0};
    uint8_t pkb[32];
    size_t pl = sizeof pkb;
    twoway_hpke_key *sk = NULL, *pk = NULL;
    twoway_keyring *ring = NULL;
    CHECK(test_hpke_suite(&suite, 0x20, 1, 1));
    CHECK(h.key != NULL && EVP_PKEY_get_raw_public_key(h.key, pkb, &pl) == 1);
    CHECK_EQ_INT(twoway_hpke_key_from_dh(suite.kem, &sk, pkb, pl, hsm_dh, &h, NULL), TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_key_import_public(suite.kem, &pk, pkb, pl), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 5, &suite, sk), TWOWAY_OK);
    round_trip(&suite, ring, pk, 5, 0, 100, 0, 0, 0);
    round_trip(&suite, ring, pk, 5, 1, 10000, 0, 0, 1);
    CHECK_EQ_INT(h.calls, 2); /* one DH per request, none per response */
    twoway_keyring_free(ring);
    twoway_hpke_key_free(sk);
    twoway_hpke_key_free(pk);
    EVP_PKEY_free(h.key);
}

/* Regressions from the security review of the message layer. */
static void test_review_regressions(void)
{
    test_receiver r;
    if (!test_receiver_init(&r, 0x20, 1, 1, 1))
        return;
    static const uint8_t mreq[] = "req", mresp[] = "resp";
    twoway_options ch = TWOWAY_OPTIONS_INIT;
    ch.chunked = 1;
    ch.max_chunk_len = 100;
    uint8_t pt[250], msg[1024], out[1024];
    size_t n = sizeof msg;
    fill(pt, sizeof pt, 9);
    twoway_sealer *s = NULL, *rs = NULL;
    twoway_opener *o = NULL;

    /* 1. a response can only be bound to a request that authenticated, and
     * not to one that failed later */
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &r.suite, 1, r.pk, mreq, 3, &ch), TWOWAY_OK);
    CHECK_EQ_INT(twoway_sealer_final(s, msg, &n, pt, sizeof pt), TWOWAY_OK);
    CHECK_EQ_INT(twoway_request_opener_new(&o, r.ring, mreq, 3, &ch), TWOWAY_OK);
    size_t first = TWOWAY_HEADER_LEN + 32 + 2 + 116, m = sizeof out;
    CHECK_EQ_INT(twoway_opener_update(o, out, &m, msg, TWOWAY_HEADER_LEN + 32), TWOWAY_OK);
    CHECK(twoway_opener_context(o) == NULL); /* hdr || enc only */
    m = sizeof out;
    CHECK_EQ_INT(twoway_opener_update(o, out, &m, msg + TWOWAY_HEADER_LEN + 32,
                                      first - TWOWAY_HEADER_LEN - 32),
                 TWOWAY_OK);
    const twoway_context *ctx = twoway_opener_context(o);
    CHECK(ctx != NULL); /* one chunk authenticated */
    msg[first + 5] ^= 1;
    m = sizeof out;
    CHECK_EQ_INT(twoway_opener_final(o, out, &m, msg + first, n - first), TWOWAY_ERR_AUTH);
    CHECK(twoway_opener_context(o) == NULL);
    CHECK_EQ_INT(twoway_response_sealer_new(&rs, ctx, mresp, 4, NULL), TWOWAY_ERR_STATE);
    uint8_t blob[TWOWAY_CONTEXT_BLOB_MAX];
    size_t bl = sizeof blob;
    CHECK_EQ_INT(twoway_context_save(ctx, mresp, 4, blob, &bl), TWOWAY_ERR_STATE);
    twoway_opener_free(o);
    twoway_sealer_free(s);

    /* 2. sealer output may not overlap its plaintext; opener output may not
     * overlap its input */
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &r.suite, 1, r.pk, mreq, 3, NULL), TWOWAY_OK);
    memcpy(msg, pt, 100);
    n = sizeof msg;
    CHECK_EQ_INT(twoway_sealer_final(s, msg, &n, msg, 100), TWOWAY_ERR_ARG);
    n = sizeof msg;
    CHECK_EQ_INT(twoway_sealer_final(s, msg + 200, &n, msg, 100), TWOWAY_OK);
    CHECK_EQ_INT(twoway_request_opener_new(&o, r.ring, mreq, 3, NULL), TWOWAY_OK);
    m = n;
    CHECK_EQ_INT(twoway_opener_final(o, msg + 200, &m, msg + 200, n), TWOWAY_ERR_ARG);
    twoway_opener_free(o);
    twoway_sealer_free(s);

    /* 3. the OHTTP media types fix the framing */
    static const uint8_t oreq[] = TWOWAY_OHTTP_REQUEST, ocreq[] = TWOWAY_OHTTP_CHUNKED_REQUEST;
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &r.suite, 1, r.pk, oreq, sizeof oreq - 1, &ch),
                 TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &r.suite, 1, r.pk, ocreq, sizeof ocreq - 1, NULL),
                 TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_request_opener_new(&o, r.ring, oreq, sizeof oreq - 1, &ch), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_request_opener_new(&o, r.ring, ocreq, sizeof ocreq - 1, NULL),
                 TWOWAY_ERR_ARG);

    /* 4. buffers stop at their bound; 5. unchunked updates need no output room */
    twoway_options big = TWOWAY_OPTIONS_INIT;
    big.chunked = 1;
    big.max_chunk_len = 16384;
    test_buf req = {0}, got = {0};
    uint8_t *large = malloc(16384);
    fill(large, 16384, 4);
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &r.suite, 1, r.pk, mreq, 3, &big), TWOWAY_OK);
    CHECK_EQ_INT(test_seal_all(s, large, 16384, NULL, 0, &req), TWOWAY_OK);
    CHECK_EQ_INT(twoway_request_opener_new(&o, r.ring, mreq, 3, &big), TWOWAY_OK);
    CHECK_EQ_INT(test_open_all(o, req.p, req.len, 1000, &got), TWOWAY_OK);
    CHECK(o->body.cap <= 16384 + 16);
    twoway_opener_free(o);
    twoway_sealer_free(s);
    test_buf_free(&req);
    test_buf_free(&got);
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &r.suite, 1, r.pk, mreq, 3, NULL), TWOWAY_OK);
    CHECK_EQ_INT(test_seal_all(s, large, 16384, NULL, 0, &req), TWOWAY_OK);
    CHECK_EQ_INT(twoway_request_opener_new(&o, r.ring, mreq, 3, NULL), TWOWAY_OK);
    for (size_t off = 0; off + 1000 < req.len; off += 1000) {
        size_t zero = 0;
        CHECK_EQ_INT(twoway_opener_update(o, NULL, &zero, req.p + off, 1000), TWOWAY_OK);
    }
    twoway_opener_free(o);
    twoway_sealer_free(s);
    test_buf_free(&req);
    free(large);
    test_receiver_free(&r);
}

int main(void)
{
    test_all_suites();
    test_sizes();
    test_chunk_layout();
    test_contexts();
    test_custom_suite();
    test_ring_dispatch();
    test_hsm_receiver();
    test_review_regressions();
    return test_summary("twoway-api");
}
