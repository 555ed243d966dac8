/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte-for-byte: every vector of tests/vectors/twoway.json (RFC 9458
 * Appendix A, the chunked-OHTTP draft example, derived one-to-one and
 * one-to-many cases, chunk framing alone) and the RFC 9458 file's
 * intermediate values.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "twoway/message_internal.h"
#include "test.h"
#include "twoway_util.h"

static uint8_t *hex(const tj_value *v, const char *key, size_t *len)
{
    uint8_t *p = NULL;
    size_t n = 0;
    if (tj_hex(tj_get(v, key), &p, &n) != 0) {
        CHECK(!"hex field");
        p = calloc(1, 1);
    }
    if (len != NULL)
        *len = n;
    return p;
}

/* The chunk lengths of a chunk list (NULL when the field is null). */
static size_t *chunk_lens(const tj_value *v, const char *key, size_t *n)
{
    const tj_value *a = tj_get(v, key);
    *n = 0;
    if (tj_typeof(a) != TJ_ARRAY)
        return NULL;
    size_t *lens = calloc(tj_len(a) + 1, sizeof *lens);
    for (size_t i = 0; i < tj_len(a); i++)
        lens[i] = tj_len(tj_at(a, i)) / 2;
    *n = tj_len(a);
    return lens;
}

static twoway_options opts_for(const tj_value *v, const char *chunked_key, test_stream_rng *rng)
{
    twoway_options o = TWOWAY_OPTIONS_INIT;
    o.chunked = tj_bool(tj_get(v, chunked_key));
    if (rng != NULL) {
        o.rng = test_stream_rng_fn;
        o.rng_ctx = rng;
    }
    return o;
}

/* Opens msg with every split 1..7 and whole; all must give want. */
static void check_open_splits(twoway_opener *(*make)(void *), void *arg, const uint8_t *msg,
                              size_t msg_len, const uint8_t *want, size_t want_len)
{
    static const size_t steps[] = {0, 1, 2, 3, 7, 16, 17, 100};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        twoway_opener *o = make(arg);
        test_buf pt = {0};
        if (o == NULL)
            return;
        CHECK_EQ_INT(test_open_all(o, msg, msg_len, steps[i], &pt), TWOWAY_OK);
        CHECK_EQ_UINT(pt.len, want_len);
        if (pt.len == want_len)
            CHECK_MEM(pt.p, want, want_len);
        test_buf_free(&pt);
        twoway_opener_free(o);
    }
}

struct req_opener_arg {
    const twoway_keyring *ring;
    const uint8_t *media;
    size_t media_len;
    const twoway_options *opt;
};

static twoway_opener *make_request_opener(void *p)
{
    struct req_opener_arg *a = p;
    twoway_opener *o = NULL;
    CHECK_EQ_INT(twoway_request_opener_new(&o, a->ring, a->media, a->media_len, a->opt), TWOWAY_OK);
    return o;
}

struct resp_opener_arg {
    const twoway_context *ctx;
    const uint8_t *media;
    size_t media_len;
    const twoway_options *opt;
};

static twoway_opener *make_response_opener(void *p)
{
    struct resp_opener_arg *a = p;
    twoway_opener *o = NULL;
    CHECK_EQ_INT(twoway_response_opener_new(&o, a->ctx, a->media, a->media_len, a->opt), TWOWAY_OK);
    return o;
}

/* Seals the response of vector v (or of receiver entry r) with ctx and
 * compares; then opens it with the client's context. */
static void check_response(const tj_value *v, const tj_value *r, const twoway_context *server_ctx,
                           const twoway_context *client_ctx, const uint8_t *media, size_t media_len)
{
    size_t rs_len, pt_len, want_len, n_chunks;
    uint8_t *rs = hex(r, "receiver_rng_stream", &rs_len);
    uint8_t *pt = hex(r, "response_plaintext", &pt_len);
    uint8_t *want = hex(r, "encapsulated_response", &want_len);
    size_t *lens = chunk_lens(r, "response_plaintext_chunks", &n_chunks);
    test_stream_rng rng = {rs, rs_len, 0, 0};
    twoway_options so = opts_for(r, "response_chunked", &rng);
    twoway_sealer *s = NULL;
    test_buf msg = {0};
    (void)v;
    CHECK_EQ_INT(twoway_response_sealer_new(&s, server_ctx, media, media_len, &so), TWOWAY_OK);
    CHECK_EQ_INT(test_seal_all(s, pt, pt_len, lens, n_chunks, &msg), TWOWAY_OK);
    CHECK_EQ_UINT(rng.off, rs_len); /* the whole stream, nothing more */
    CHECK_EQ_UINT(msg.len, want_len);
    if (msg.len == want_len)
        CHECK_MEM(msg.p, want, want_len);
    twoway_options oo = opts_for(r, "response_chunked", NULL);
    struct resp_opener_arg a = {client_ctx, media, media_len, &oo};
    check_open_splits(make_response_opener, &a, want, want_len, pt, pt_len);
    twoway_sealer_free(s);
    test_buf_free(&msg);
    free(rs);
    free(pt);
    free(want);
    free(lens);
}

static void one_to_one(const tj_value *v)
{
    twoway_hpke_suite suite;
    twoway_hpke_key *skr = NULL, *pkr = NULL, *eph = NULL;
    twoway_keyring *ring = NULL;
    size_t sk_len, pk_len, req_media_len, resp_media_len, pt_len, want_len, n_chunks, rs_len;
    uint8_t *sk = hex(v, "receiver_sk", &sk_len), *pk = hex(v, "receiver_pk", &pk_len);
    uint8_t *req_media = hex(v, "request_media_type_hex", &req_media_len);
    uint8_t *resp_media = hex(v, "response_media_type_hex", &resp_media_len);
    uint8_t *pt = hex(v, "request_plaintext", &pt_len);
    uint8_t *want = hex(v, "encapsulated_request", &want_len);
    uint8_t *rs = NULL;
    size_t *lens = chunk_lens(v, "request_plaintext_chunks", &n_chunks);
    test_stream_rng rng = {0};
    uint8_t key_id = (uint8_t)tj_int(tj_get(v, "key_id"));

    CHECK_EQ_INT(twoway_hpke_suite_from_ids(&suite, (uint16_t)tj_int(tj_get(v, "kem_id")),
                                            (uint16_t)tj_int(tj_get(v, "kdf_id")),
                                            (uint16_t)tj_int(tj_get(v, "aead_id"))),
                 TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_key_import_private(suite.kem, &skr, sk, sk_len), TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_key_import_public(suite.kem, &pkr, pk, pk_len), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, key_id, &suite, skr), TWOWAY_OK);

    /* the sender: skE given directly (published vectors) or ikmE drawn
     * from the random stream (derived ones) */
    if (tj_typeof(tj_get(v, "sender_ikmE")) == TJ_NULL) {
        size_t ske_len;
        uint8_t *ske = hex(v, "sender_skE", &ske_len);
        CHECK_EQ_INT(twoway_hpke_key_import_private(suite.kem, &eph, ske, ske_len), TWOWAY_OK);
        free(ske);
    } else {
        rs = hex(v, "sender_rng_stream", &rs_len);
        rng.data = rs;
        rng.len = rs_len;
    }
    twoway_options so = opts_for(v, "request_chunked", rs != NULL ? &rng : NULL);
    twoway_sealer *s = NULL;
    test_buf msg = {0};
    CHECK_EQ_INT(tw_request_sealer_new(&s, &suite, key_id, pkr, req_media, req_media_len, &so, eph),
                 TWOWAY_OK);
    if (s != NULL) {
        CHECK_EQ_INT(test_seal_all(s, pt, pt_len, lens, n_chunks, &msg), TWOWAY_OK);
        if (rs != NULL)
            CHECK_EQ_UINT(rng.off, rs_len);
        CHECK_EQ_UINT(msg.len, want_len);
        if (msg.len == want_len)
            CHECK_MEM(msg.p, want, want_len);
    }

    /* the receiver, fed in every split */
    twoway_options oo = opts_for(v, "request_chunked", NULL);
    struct req_opener_arg a = {ring, req_media, req_media_len, &oo};
    check_open_splits(make_request_opener, &a, want, want_len, pt, pt_len);

    /* the response, sealed by the receiver and opened by the sender */
    twoway_opener *o = make_request_opener(&a);
    test_buf got = {0};
    if (o != NULL && s != NULL) {
        twoway_header h;
        CHECK_EQ_INT(test_open_all(o, want, want_len, 0, &got), TWOWAY_OK);
        CHECK_EQ_INT(twoway_opener_header(o, &h), TWOWAY_OK);
        CHECK_EQ_UINT(h.key_id, key_id);
        CHECK_EQ_UINT(h.kem_id, suite.kem->id);
        check_response(v, v, twoway_opener_context(o), twoway_sealer_context(s), resp_media,
                       resp_media_len);
    }
    test_buf_free(&got);
    twoway_opener_free(o);
    twoway_sealer_free(s);
    test_buf_free(&msg);
    twoway_keyring_free(ring);
    twoway_hpke_key_free(skr);
    twoway_hpke_key_free(pkr);
    twoway_hpke_key_free(eph);
    free(sk);
    free(pk);
    free(req_media);
    free(resp_media);
    free(pt);
    free(want);
    free(rs);
    free(lens);
}

static void one_to_many(const tj_value *v)
{
    twoway_hpke_suite suite;
    size_t rs_len, pt_len, want_len, n_chunks;
    const char *req_media = tj_str(tj_get(v, "request_media_type"));
    const char *resp_media = tj_str(tj_get(v, "response_media_type"));
    uint8_t *rs = hex(v, "sender_rng_stream", &rs_len);
    uint8_t *pt = hex(v, "request_plaintext", &pt_len);
    uint8_t *want = hex(v, "request_ciphertext", &want_len);
    size_t *lens = chunk_lens(v, "request_plaintext_chunks", &n_chunks);
    const tj_value *rcv = tj_get(v, "receivers");
    test_stream_rng rng = {rs, rs_len, 0, 0};
    twoway_options so = opts_for(v, "request_chunked", &rng);
    twoway_sealer *s = NULL;
    test_buf body = {0};

    CHECK_EQ_INT(twoway_hpke_suite_from_ids(&suite, (uint16_t)tj_int(tj_get(v, "kem_id")),
                                            (uint16_t)tj_int(tj_get(v, "kdf_id")),
                                            (uint16_t)tj_int(tj_get(v, "aead_id"))),
                 TWOWAY_OK);
    CHECK_EQ_INT(twoway_multi_request_sealer_new(&s, &suite, (const uint8_t *)req_media,
                                                 strlen(req_media), &so),
                 TWOWAY_OK);
    if (s == NULL)
        goto out;
    CHECK_EQ_INT(test_seal_all(s, pt, pt_len, lens, n_chunks, &body), TWOWAY_OK);
    CHECK_EQ_UINT(body.len, want_len);
    if (body.len == want_len)
        CHECK_MEM(body.p, want, want_len);
    for (size_t i = 0; i < tj_len(rcv); i++) {
        const tj_value *r = tj_at(rcv, i);
        size_t sk_len, pk_len, ek_want_len;
        uint8_t *sk = hex(r, "receiver_sk", &sk_len), *pk = hex(r, "receiver_pk", &pk_len);
        uint8_t *ek_want = hex(r, "encapsulated_key", &ek_want_len);
        uint8_t key_id = (uint8_t)tj_int(tj_get(r, "key_id"));
        twoway_hpke_key *skr = NULL, *pkr = NULL;
        twoway_keyring *ring = NULL;
        twoway_context *cctx = NULL;
        twoway_opener *o = NULL;
        uint8_t ek[512];
        size_t ek_len = sizeof ek;
        test_buf got = {0};
        CHECK_EQ_INT(twoway_hpke_key_import_private(suite.kem, &skr, sk, sk_len), TWOWAY_OK);
        CHECK_EQ_INT(twoway_hpke_key_import_public(suite.kem, &pkr, pk, pk_len), TWOWAY_OK);
        CHECK_EQ_INT(twoway_multi_encapsulate(s, key_id, pkr, ek, &ek_len, &cctx), TWOWAY_OK);
        CHECK_EQ_UINT(ek_len, ek_want_len);
        if (ek_len == ek_want_len)
            CHECK_MEM(ek, ek_want, ek_len);
        CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
        CHECK_EQ_INT(twoway_keyring_add(ring, key_id, &suite, skr), TWOWAY_OK);
        twoway_options oo = opts_for(v, "request_chunked", NULL);
        CHECK_EQ_INT(twoway_multi_request_opener_new(&o, ring, (const uint8_t *)req_media,
                                                     strlen(req_media), ek_want, ek_want_len, &oo),
                     TWOWAY_OK);
        if (o != NULL && cctx != NULL) {
            CHECK_EQ_INT(test_open_all(o, want, want_len, 5, &got), TWOWAY_OK);
            CHECK_EQ_UINT(got.len, pt_len);
            if (got.len == pt_len)
                CHECK_MEM(got.p, pt, pt_len);
            check_response(v, r, twoway_opener_context(o), cctx, (const uint8_t *)resp_media,
                           strlen(resp_media));
        }
        test_buf_free(&got);
        twoway_opener_free(o);
        twoway_context_free(cctx);
        twoway_keyring_free(ring);
        twoway_hpke_key_free(skr);
        twoway_hpke_key_free(pkr);
        free(sk);
        free(pk);
        free(ek_want);
    }
    CHECK_EQ_UINT(rng.off, rs_len);
out:
    twoway_sealer_free(s);
    test_buf_free(&body);
    free(rs);
    free(pt);
    free(want);
    free(lens);
}

/* The chunk framing alone, with a fixed key and base nonce. */
static void chunks_package(const tj_value *v)
{
    size_t key_len, nonce_len, ct_len, n_chunks;
    uint8_t *key = hex(v, "key", &key_len), *nonce = hex(v, "base_nonce", &nonce_len);
    uint8_t *ct = hex(v, "ciphertext", &ct_len);
    size_t *lens = chunk_lens(v, "plaintext_chunks", &n_chunks);
    const twoway_hpke_aead *aead = twoway_hpke_aead_by_id(TWOWAY_HPKE_AEAD_AES_256_GCM);
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    opt.chunked = 1;
    opt.max_chunk_len = (size_t)tj_int(tj_get(v, "max_plaintext_len"));
    tw_opts o;
    CHECK_EQ_INT(tw_opts_resolve(&o, &opt, 1), TWOWAY_OK);
    CHECK_EQ_UINT(key_len, 32);
    if (lens != NULL) {
        /* sealing: one chunk per list entry, then the empty final chunk */
        tw_body b;
        uint8_t out[1024];
        size_t w = 0, n;
        const tj_value *chunks = tj_get(v, "plaintext_chunks");
        tw_body_init(&b, &o);
        CHECK_EQ_INT(tw_aead_init_counter(&b.aead, aead, key, nonce), TWOWAY_OK);
        for (size_t i = 0; i < n_chunks; i++) {
            uint8_t *p;
            size_t pl;
            CHECK_EQ_INT(tj_hex(tj_at(chunks, i), &p, &pl), 0);
            CHECK_EQ_INT(tw_body_seal(&b, out + w, &n, p, pl, 0), TWOWAY_OK);
            w += n;
            free(p);
        }
        CHECK_EQ_INT(tw_body_seal(&b, out + w, &n, NULL, 0, 1), TWOWAY_OK);
        w += n;
        CHECK_EQ_UINT(w, ct_len);
        if (w == ct_len)
            CHECK_MEM(out, ct, ct_len);
        tw_body_clear(&b);
    }
    /* opening, whole and byte by byte */
    for (int byte = 0; byte < 2; byte++) {
        tw_body b;
        uint8_t pt[1024];
        size_t w = 0, n;
        CHECK_EQ_INT(tw_opts_resolve(&o, &opt, 0), TWOWAY_OK);
        tw_body_init(&b, &o);
        CHECK_EQ_INT(tw_aead_init_counter(&b.aead, aead, key, nonce), TWOWAY_OK);
        if (byte) {
            for (size_t i = 0; i < ct_len; i++) {
                CHECK_EQ_INT(tw_body_open(&b, pt + w, &n, ct + i, 1, i + 1 == ct_len), TWOWAY_OK);
                w += n;
            }
        } else {
            CHECK_EQ_INT(tw_body_open(&b, pt, &w, ct, ct_len, 1), TWOWAY_OK);
        }
        size_t want_len;
        uint8_t *want;
        if (lens != NULL) {
            const tj_value *chunks = tj_get(v, "plaintext_chunks");
            test_buf all = {0};
            for (size_t i = 0; i < n_chunks; i++) {
                uint8_t *p;
                size_t pl;
                CHECK_EQ_INT(tj_hex(tj_at(chunks, i), &p, &pl), 0);
                test_buf_append(&all, p, pl);
                free(p);
            }
            want = all.p;
            want_len = all.len;
        } else {
            want = hex(v, "expected_plaintext", &want_len);
        }
        CHECK_EQ_UINT(w, want_len);
        if (w == want_len)
            CHECK_MEM(pt, want, want_len);
        free(want);
        tw_body_clear(&b);
    }
    free(key);
    free(nonce);
    free(ct);
    free(lens);
}

/* The RFC 9458 file: the key derivation's intermediate values. */
static void rfc9458_intermediates(void)
{
    char err[256];
    tj_value *root = tj_load_file(test_vector_path("ohttp-rfc9458.json"), err, sizeof err);
    CHECK(root != NULL);
    if (root == NULL)
        return;
    const tj_value *sets[2] = {root, tj_get(root, "chunked_draft_example")};
    for (size_t k = 0; k < 2; k++) {
        const tj_value *v = sets[k];
        twoway_hpke_suite suite;
        size_t sk_len, ske_len, enc_len, nonce_len, secret_len, key_len, an_len, info_len;
        uint8_t *sk = hex(v, "receiver_sk", &sk_len), *ske = hex(v, "sender_skE", &ske_len);
        uint8_t *enc = hex(v, "sender_pkE", &enc_len);
        uint8_t *nonce = hex(v, "response_nonce", &nonce_len);
        uint8_t *secret = hex(v, "response_export_secret", &secret_len);
        uint8_t *key = hex(v, "aead_key", &key_len), *an = hex(v, "aead_nonce", &an_len);
        uint8_t *info_want = hex(v, "info", &info_len);
        const char *media = k == 0 ? TWOWAY_OHTTP_REQUEST : TWOWAY_OHTTP_CHUNKED_REQUEST;
        const char *rmedia = k == 0 ? TWOWAY_OHTTP_RESPONSE : TWOWAY_OHTTP_CHUNKED_RESPONSE;
        twoway_hpke_key *skr = NULL;
        twoway_hpke_ctx *hctx = NULL;
        twoway_context *ctx = NULL;
        uint8_t hdr[TWOWAY_HEADER_LEN], *info = NULL, got[64];
        size_t il = 0;
        twoway_header h = {1, 0x20, 1, 1};
        CHECK_EQ_INT(twoway_hpke_suite_from_ids(&suite, 0x20, 1, 1), TWOWAY_OK);
        twoway_header_encode(&h, hdr);
        CHECK_EQ_INT(tw_info_new(&info, &il, (const uint8_t *)media, strlen(media), hdr),
                     TWOWAY_OK);
        CHECK_EQ_UINT(il, info_len);
        if (il == info_len)
            CHECK_MEM(info, info_want, il);
        CHECK_EQ_INT(twoway_hpke_key_import_private(suite.kem, &skr, sk, sk_len), TWOWAY_OK);
        CHECK_EQ_INT(twoway_hpke_setup_receiver(&hctx, &suite, enc, enc_len, skr, info, il, NULL),
                     TWOWAY_OK);
        CHECK_EQ_INT(tw_context_new(&ctx, &suite, hctx, enc, enc_len), TWOWAY_OK);
        CHECK_EQ_UINT(tw_response_nonce_len(&suite), nonce_len);
        CHECK_EQ_INT(tw_context_response_secret(ctx, (const uint8_t *)rmedia, strlen(rmedia), got,
                                                secret_len),
                     TWOWAY_OK);
        CHECK_MEM(got, secret, secret_len);
        /* the derived key and nonce: seal with the counter at 0 and compare
         * with AES-128-GCM under the published key and nonce */
        tw_aead a, ref;
        uint8_t c1[32], c2[32];
        static const uint8_t msg[3] = {1, 2, 3};
        CHECK_EQ_INT(tw_response_aead(&a, &suite, secret, secret_len, enc, enc_len, nonce),
                     TWOWAY_OK);
        CHECK_EQ_INT(tw_aead_init_counter(&ref, suite.aead, key, an), TWOWAY_OK);
        CHECK_EQ_INT(tw_aead_seal(&a, c1, NULL, 0, msg, 3), TWOWAY_OK);
        CHECK_EQ_INT(tw_aead_seal(&ref, c2, NULL, 0, msg, 3), TWOWAY_OK);
        CHECK_MEM(c1, c2, 3 + 16);
        tw_aead_clear(&a);
        tw_aead_clear(&ref);
        twoway_context_free(ctx);
        twoway_hpke_key_free(skr);
        free(info);
        free(sk);
        free(ske);
        free(enc);
        free(nonce);
        free(secret);
        free(key);
        free(an);
        free(info_want);
    }
    tj_free(root);
}

int main(void)
{
    char err[256];
    tj_value *root = tj_load_file(test_vector_path("twoway.json"), err, sizeof err);
    if (root == NULL) {
        CHECK(!"twoway.json loads");
        return test_summary("twoway-vectors");
    }
    size_t count = 0;
    static const char *const sections[] = {"published", "derived"};
    for (size_t k = 0; k < 2; k++) {
        const tj_value *list = tj_get(root, sections[k]);
        for (size_t i = 0; i < tj_len(list); i++, count++) {
            const tj_value *v = tj_at(list, i);
            const char *kind = tj_str(tj_get(v, "kind"));
            unsigned long before = test_failed_count();
            if (kind != NULL && strcmp(kind, "one-to-many") == 0)
                one_to_many(v);
            else
                one_to_one(v);
            if (test_failed_count() != before)
                printf("vector %s failed\n", tj_str(tj_get(v, "name")));
        }
    }
    const tj_value *cp = tj_get(root, "chunks_package");
    for (size_t i = 0; i < tj_len(cp); i++, count++)
        chunks_package(tj_at(cp, i));
    rfc9458_intermediates();
    CHECK(count >= 7);
    printf("twoway vectors: %zu entries\n", count);
    tj_free(root);
    return test_summary("twoway-vectors");
}
