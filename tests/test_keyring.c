/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key configurations (RFC 9458 §3, application/ohttp-keys) and the receiver's
 * key ring: the two published configurations of tests/vectors/
 * ohttp-rfc9458.json decoded and re-encoded byte for byte, round trips,
 * every truncation, what is skipped and what is rejected, buffer sizes; the
 * ring's additions, removals, lookups, receiver setups, export, custom
 * suites, and lookups racing a rotation on several threads.
 */
#define _POSIX_C_SOURCE 200809L

#include "hpke_util.h"
#include "json.h"
#include "test.h"

#include <twoway/keyring.h>

#include "twoway/keyring_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define X25519 TWOWAY_HPKE_KEM_X25519_SHA256
#define P256 TWOWAY_HPKE_KEM_P256_SHA256
#define SHA256 TWOWAY_HPKE_KDF_HKDF_SHA256
#define SHA512 TWOWAY_HPKE_KDF_HKDF_SHA512
#define AES128 TWOWAY_HPKE_AEAD_AES_128_GCM
#define AES256 TWOWAY_HPKE_AEAD_AES_256_GCM
#define CHACHA TWOWAY_HPKE_AEAD_CHACHA20_POLY1305
#define EXPORT_ONLY TWOWAY_HPKE_AEAD_EXPORT_ONLY

/* Room for any list these tests build. */
#define BUF_LEN 4096

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes;

static bytes hex_of(const tj_value *v, const char *what)
{
    bytes b = {NULL, 0};
    if (!CHECK(tj_hex(v, &b.p, &b.n) == 0))
        fprintf(stderr, "bad or missing hex: %s\n", what);
    return b;
}

/* A raw configuration: key_id, kem, pk, then sym_len and n_pairs pairs as given. */
static size_t raw_config(uint8_t *out, uint8_t key_id, uint16_t kem_id, const uint8_t *pk,
                         size_t pk_len, uint16_t sym_len, const uint16_t *pairs, size_t n_pairs)
{
    size_t off = 0;
    out[off++] = key_id;
    out[off++] = (uint8_t)(kem_id >> 8);
    out[off++] = (uint8_t)kem_id;
    memcpy(out + off, pk, pk_len);
    off += pk_len;
    out[off++] = (uint8_t)(sym_len >> 8);
    out[off++] = (uint8_t)sym_len;
    for (size_t i = 0; i < 2 * n_pairs; i++) {
        out[off++] = (uint8_t)(pairs[i] >> 8);
        out[off++] = (uint8_t)pairs[i];
    }
    return off;
}

/* Appends len(2) || cfg to a list. */
static size_t list_add(uint8_t *list, size_t list_len, const uint8_t *cfg, size_t cfg_len)
{
    list[list_len] = (uint8_t)(cfg_len >> 8);
    list[list_len + 1] = (uint8_t)cfg_len;
    memcpy(list + list_len + 2, cfg, cfg_len);
    return list_len + 2 + cfg_len;
}

static int config_equal(const twoway_key_config *a, const twoway_key_config *b)
{
    if (a->key_id != b->key_id || a->kem_id != b->kem_id ||
        a->public_key_len != b->public_key_len || a->n_suites != b->n_suites ||
        memcmp(a->public_key, b->public_key, a->public_key_len) != 0)
        return 0;
    for (size_t i = 0; i < a->n_suites; i++)
        if (a->suites[i].kdf_id != b->suites[i].kdf_id ||
            a->suites[i].aead_id != b->suites[i].aead_id)
            return 0;
    return 1;
}

/* The public bytes of a fresh key pair of kem_id. */
static size_t fresh_public(uint16_t kem_id, uint8_t *pk)
{
    twoway_hpke_key *k = test_hpke_generate(twoway_hpke_kem_by_id(kem_id));
    size_t len = 0;
    const uint8_t *p = twoway_hpke_key_public(k, &len);
    if (p != NULL)
        memcpy(pk, p, len);
    twoway_hpke_key_free(k);
    return len;
}

/* ---------------------------------------------------- the published configs */

static void check_vector_config(const bytes *raw, const tj_value *parsed, const bytes *sk)
{
    twoway_key_config cfg;
    size_t consumed = 99;
    if (!CHECK_EQ_INT(twoway_key_config_decode(&cfg, raw->p, raw->n, &consumed), TWOWAY_OK))
        return;
    CHECK_EQ_UINT(consumed, raw->n);
    CHECK_EQ_UINT(cfg.key_id, 1);
    CHECK_EQ_UINT(cfg.kem_id, X25519);
    CHECK_EQ_UINT(cfg.public_key_len, 32);
    CHECK_EQ_UINT(cfg.n_suites, 2);
    CHECK_EQ_UINT(cfg.suites[0].kdf_id, SHA256);
    CHECK_EQ_UINT(cfg.suites[0].aead_id, AES128);
    CHECK_EQ_UINT(cfg.suites[1].kdf_id, SHA256);
    CHECK_EQ_UINT(cfg.suites[1].aead_id, CHACHA);

    if (parsed != NULL) {
        CHECK_EQ_UINT(cfg.key_id, tj_int(tj_get(parsed, "key_id")));
        CHECK_EQ_UINT(cfg.kem_id, tj_int(tj_get(parsed, "kem_id")));
        bytes pk = hex_of(tj_get(parsed, "public_key"), "key_config_parsed.public_key");
        CHECK_EQ_UINT(cfg.public_key_len, pk.n);
        CHECK_MEM(cfg.public_key, pk.p, pk.n);
        free(pk.p);
        const tj_value *algs = tj_get(parsed, "symmetric_algorithms");
        CHECK_EQ_UINT(4 * tj_len(algs), tj_int(tj_get(parsed, "symmetric_algorithms_length")));
        if (CHECK_EQ_UINT(cfg.n_suites, tj_len(algs))) {
            for (size_t i = 0; i < cfg.n_suites; i++) {
                CHECK_EQ_UINT(cfg.suites[i].kdf_id, tj_int(tj_get(tj_at(algs, i), "kdf_id")));
                CHECK_EQ_UINT(cfg.suites[i].aead_id, tj_int(tj_get(tj_at(algs, i), "aead_id")));
            }
        }
    }
    /* The receiver's private key gives the published public key. */
    if (sk != NULL && sk->p != NULL) {
        twoway_hpke_key *k = NULL;
        if (CHECK_EQ_INT(
                twoway_hpke_key_import_private(twoway_hpke_kem_by_id(X25519), &k, sk->p, sk->n),
                TWOWAY_OK)) {
            size_t len = 0;
            const uint8_t *p = twoway_hpke_key_public(k, &len);
            CHECK_EQ_UINT(len, cfg.public_key_len);
            CHECK_MEM(p, cfg.public_key, len);
        }
        twoway_hpke_key_free(k);
    }

    /* Byte for byte back, and the buffer sizes. */
    uint8_t out[BUF_LEN];
    size_t out_len = sizeof out;
    CHECK_EQ_INT(twoway_key_config_encode(&cfg, out, &out_len), TWOWAY_OK);
    CHECK_EQ_UINT(out_len, raw->n);
    CHECK_MEM(out, raw->p, raw->n);
    out_len = raw->n - 1;
    CHECK_EQ_INT(twoway_key_config_encode(&cfg, out, &out_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(out_len, raw->n);
    out_len = 0;
    CHECK_EQ_INT(twoway_key_config_encode(&cfg, NULL, &out_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(out_len, raw->n);
    out_len = raw->n;
    CHECK_EQ_INT(twoway_key_config_encode(&cfg, out, &out_len), TWOWAY_OK);

    /* Trailing bytes are not part of the configuration. */
    uint8_t longer[BUF_LEN];
    memcpy(longer, raw->p, raw->n);
    memset(longer + raw->n, 0xAB, 5);
    twoway_key_config again;
    CHECK_EQ_INT(twoway_key_config_decode(&again, longer, raw->n + 5, &consumed), TWOWAY_OK);
    CHECK_EQ_UINT(consumed, raw->n);
    CHECK(config_equal(&cfg, &again));

    /* Every truncation is malformed, and leaves *consumed at 0. */
    for (size_t len = 0; len < raw->n; len++) {
        consumed = 99;
        CHECK_EQ_INT(twoway_key_config_decode(&again, raw->p, len, &consumed), TWOWAY_ERR_FORMAT);
        CHECK_EQ_UINT(consumed, 0);
    }
}

static void test_vectors(void)
{
    char err[256];
    tj_value *doc = tj_load_file(test_vector_path("ohttp-rfc9458.json"), err, sizeof err);
    if (!CHECK(doc != NULL)) {
        fprintf(stderr, "cannot load the RFC 9458 vectors: %s\n", err);
        return;
    }
    const tj_value *chunked = tj_get(doc, "chunked_draft_example");
    bytes a = hex_of(tj_get(doc, "key_config"), "key_config");
    bytes b = hex_of(tj_get(chunked, "key_config"), "chunked_draft_example.key_config");
    bytes a_sk = hex_of(tj_get(doc, "receiver_sk"), "receiver_sk");
    bytes a_pk = hex_of(tj_get(doc, "receiver_pk"), "receiver_pk");
    bytes b_sk = hex_of(tj_get(chunked, "receiver_sk"), "chunked_draft_example.receiver_sk");
    if (a.p == NULL || b.p == NULL)
        goto done;

    check_vector_config(&a, tj_get(doc, "key_config_parsed"), &a_sk);
    check_vector_config(&b, NULL, &b_sk);
    twoway_key_config cfg;
    size_t consumed;
    if (CHECK_EQ_INT(twoway_key_config_decode(&cfg, a.p, a.n, &consumed), TWOWAY_OK)) {
        CHECK_EQ_UINT(cfg.public_key_len, a_pk.n);
        CHECK_MEM(cfg.public_key, a_pk.p, a_pk.n);
    }

    /* The two as application/ohttp-keys, both ways. */
    uint8_t list[BUF_LEN], out[BUF_LEN];
    size_t list_len = list_add(list, 0, a.p, a.n);
    list_len = list_add(list, list_len, b.p, b.n);
    twoway_key_config cfgs[4];
    size_t n = 0;
    if (CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 4, &n, list, list_len), TWOWAY_OK) &&
        CHECK_EQ_UINT(n, 2)) {
        size_t out_len = sizeof out;
        CHECK_EQ_INT(twoway_key_configs_encode(cfgs, n, out, &out_len), TWOWAY_OK);
        CHECK_EQ_UINT(out_len, list_len);
        CHECK_MEM(out, list, list_len);
        out_len = list_len - 1;
        CHECK_EQ_INT(twoway_key_configs_encode(cfgs, n, out, &out_len), TWOWAY_ERR_BUFFER);
        CHECK_EQ_UINT(out_len, list_len);
        out_len = 0;
        CHECK_EQ_INT(twoway_key_configs_encode(cfgs, n, NULL, &out_len), TWOWAY_ERR_BUFFER);
        CHECK_EQ_UINT(out_len, list_len);
    }
    /* Too many for cfgs: BUFFER, and *n says how many would be kept. */
    n = 0;
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 1, &n, list, list_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(n, 2);
    CHECK_EQ_INT(twoway_key_configs_decode(NULL, 0, &n, list, list_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(n, 2);

    /* Every truncation of the list is rejected, except those that end
     * exactly after the first entry (a valid one-entry list). */
    size_t first_end = 2 + a.n;
    for (size_t len = 0; len < list_len; len++) {
        int rc = twoway_key_configs_decode(cfgs, 4, &n, list, len);
        if (len == first_end) {
            CHECK_EQ_INT(rc, TWOWAY_OK);
            CHECK_EQ_UINT(n, 1);
        } else {
            CHECK_EQ_INT(rc, TWOWAY_ERR_FORMAT);
            CHECK_EQ_UINT(n, 0);
        }
    }
    /* Truncated configurations whose length prefix says so are malformed too. */
    for (size_t len = 1; len < a.n; len++) {
        uint8_t l2[BUF_LEN];
        size_t l2_len = list_add(l2, 0, a.p, len);
        CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 4, &n, l2, l2_len), TWOWAY_ERR_FORMAT);
    }

done:
    free(a.p);
    free(b.p);
    free(a_sk.p);
    free(a_pk.p);
    free(b_sk.p);
    tj_free(doc);
}

/* ----------------------------------------------- encodings and round trips */

static void test_round_trips(void)
{
    static const uint16_t kems[] = {P256, TWOWAY_HPKE_KEM_P384_SHA384, TWOWAY_HPKE_KEM_P521_SHA512,
                                    X25519, TWOWAY_HPKE_KEM_X448_SHA512};
    twoway_key_config in[5], out[5];
    memset(in, 0, sizeof in);
    for (size_t i = 0; i < 5; i++) {
        in[i].key_id = (uint8_t)(0x10 * i + 1);
        in[i].kem_id = kems[i];
        in[i].public_key_len = fresh_public(kems[i], in[i].public_key);
        /* 1..9 distinct known pairs */
        size_t k = 0;
        for (uint16_t kdf = 1; kdf <= 3; kdf++)
            for (uint16_t aead = 1; aead <= 3; aead++)
                if (k < 2 * i + 1) {
                    in[i].suites[k].kdf_id = kdf;
                    in[i].suites[k].aead_id = aead;
                    k++;
                }
        in[i].n_suites = k;
    }
    uint8_t buf[BUF_LEN], buf2[BUF_LEN];
    for (size_t i = 0; i < 5; i++) {
        size_t len = sizeof buf, consumed = 0;
        twoway_key_config c;
        CHECK_EQ_INT(twoway_key_config_encode(&in[i], buf, &len), TWOWAY_OK);
        CHECK_EQ_UINT(len, 5 + in[i].public_key_len + 4 * in[i].n_suites);
        CHECK_EQ_INT(twoway_key_config_decode(&c, buf, len, &consumed), TWOWAY_OK);
        CHECK_EQ_UINT(consumed, len);
        CHECK(config_equal(&c, &in[i]));
    }
    size_t len = sizeof buf, n = 0;
    CHECK_EQ_INT(twoway_key_configs_encode(in, 5, buf, &len), TWOWAY_OK);
    CHECK_EQ_INT(twoway_key_configs_decode(out, 5, &n, buf, len), TWOWAY_OK);
    CHECK_EQ_UINT(n, 5);
    for (size_t i = 0; i < n; i++)
        CHECK(config_equal(&out[i], &in[i]));
    size_t len2 = sizeof buf2;
    CHECK_EQ_INT(twoway_key_configs_encode(out, n, buf2, &len2), TWOWAY_OK);
    CHECK_EQ_UINT(len2, len);
    CHECK_MEM(buf2, buf, len);

    /* Encoding refuses what cannot be encoded. */
    twoway_key_config bad = in[3];
    bad.n_suites = 0;
    len = sizeof buf;
    CHECK_EQ_INT(twoway_key_config_encode(&bad, buf, &len), TWOWAY_ERR_ARG);
    bad = in[3];
    bad.n_suites = TWOWAY_KEY_CONFIG_MAX_SUITES + 1;
    CHECK_EQ_INT(twoway_key_config_encode(&bad, buf, &len), TWOWAY_ERR_ARG);
    bad = in[3];
    bad.public_key_len = 31; /* X25519 is 32 */
    CHECK_EQ_INT(twoway_key_config_encode(&bad, buf, &len), TWOWAY_ERR_ARG);
    bad.public_key_len = TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN + 1;
    CHECK_EQ_INT(twoway_key_config_encode(&bad, buf, &len), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_configs_encode(in, 0, buf, &len), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_configs_encode(NULL, 1, buf, &len), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_config_encode(&in[0], buf, NULL), TWOWAY_ERR_ARG);
    len = 10;
    CHECK_EQ_INT(twoway_key_config_encode(&in[0], NULL, &len), TWOWAY_ERR_ARG);
    twoway_key_config list_bad[2] = {in[0], bad};
    len = sizeof buf;
    CHECK_EQ_INT(twoway_key_configs_encode(list_bad, 2, buf, &len), TWOWAY_ERR_ARG);
    /* A KEM that is not built in is written as given (it cannot be read back
     * on its own: its key length is unknown). */
    twoway_key_config other = in[3];
    other.kem_id = 0x7F20;
    other.public_key_len = 7;
    len = sizeof buf;
    CHECK_EQ_INT(twoway_key_config_encode(&other, buf, &len), TWOWAY_OK);
    CHECK_EQ_UINT(len, 5 + 7 + 4 * other.n_suites);
    twoway_key_config c;
    size_t consumed = 99;
    CHECK_EQ_INT(twoway_key_config_decode(&c, buf, len, &consumed), TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_UINT(consumed, 0);

    /* Decoding's argument checks. */
    CHECK_EQ_INT(twoway_key_config_decode(NULL, buf, len, &consumed), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_config_decode(&c, NULL, 5, &consumed), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_configs_decode(out, 5, NULL, buf, len), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_configs_decode(NULL, 5, &n, buf, len), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_configs_decode(out, 5, &n, NULL, 5), TWOWAY_ERR_ARG);
}

/* ------------------------------------------------- skipped versus rejected */

static void test_malformed(void)
{
    uint8_t pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    size_t pk_len = fresh_public(X25519, pk);
    static const uint16_t two[] = {SHA256, AES128, SHA256, CHACHA};
    uint8_t cfg[BUF_LEN], good[BUF_LEN], list[BUF_LEN];
    twoway_key_config c, cfgs[8];
    size_t consumed, n, len, list_len;
    size_t good_len = raw_config(good, 7, X25519, pk, pk_len, 8, two, 2);

    /* Symmetric Algorithms Length: 0, 2, 6, odd, longer than what follows. */
    static const uint16_t bad_sym[] = {0, 2, 6, 5, 7, 12, 0xFFFF, 0xFFFC};
    for (size_t i = 0; i < sizeof bad_sym / sizeof bad_sym[0]; i++) {
        len = raw_config(cfg, 7, X25519, pk, pk_len, bad_sym[i], two, 2);
        consumed = 99;
        CHECK_EQ_INT(twoway_key_config_decode(&c, cfg, len, &consumed), TWOWAY_ERR_FORMAT);
        CHECK_EQ_UINT(consumed, 0);
        list_len = list_add(list, 0, good, good_len);
        list_len = list_add(list, list_len, cfg, len);
        CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_ERR_FORMAT);
        CHECK_EQ_UINT(n, 0);
    }
    /* A length shorter than what follows: one configuration is read, the
     * rest is left; in a list the entry's length disagrees. */
    len = raw_config(cfg, 7, X25519, pk, pk_len, 4, two, 2);
    CHECK_EQ_INT(twoway_key_config_decode(&c, cfg, len, &consumed), TWOWAY_OK);
    CHECK_EQ_UINT(consumed, len - 4);
    CHECK_EQ_UINT(c.n_suites, 1);
    list_len = list_add(list, 0, cfg, len);
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_ERR_FORMAT);

    /* Unknown and repeated pairs are skipped; the order is kept. */
    static const uint16_t mixed[] = {0x0009, AES128, SHA256, CHACHA, SHA256, EXPORT_ONLY,
                                     SHA256, 0x0009, SHA256, CHACHA, SHA512, AES256,
                                     0xFFFF, 0xFFFF, SHA256, AES128};
    len = raw_config(cfg, 7, X25519, pk, pk_len, 32, mixed, 8);
    CHECK_EQ_INT(twoway_key_config_decode(&c, cfg, len, &consumed), TWOWAY_OK);
    CHECK_EQ_UINT(consumed, len);
    if (CHECK_EQ_UINT(c.n_suites, 3)) {
        CHECK(c.suites[0].kdf_id == SHA256 && c.suites[0].aead_id == CHACHA);
        CHECK(c.suites[1].kdf_id == SHA512 && c.suites[1].aead_id == AES256);
        CHECK(c.suites[2].kdf_id == SHA256 && c.suites[2].aead_id == AES128);
    }
    /* Many pairs (the longest list a 16-bit length allows): the known ones are kept. */
    {
        static uint8_t big[70000];
        static uint16_t pairs[2 * 16383];
        for (size_t i = 0; i < 16383; i++) {
            pairs[2 * i] = (uint16_t)(1 + i % 4);
            pairs[2 * i + 1] = (uint16_t)(1 + (i / 4) % 4);
        }
        len = raw_config(big, 7, X25519, pk, pk_len, 65532, pairs, 16383);
        CHECK_EQ_INT(twoway_key_config_decode(&c, big, len, &consumed), TWOWAY_OK);
        CHECK_EQ_UINT(consumed, len);
        CHECK_EQ_UINT(c.n_suites, 9);
    }

    /* No known pair: UNSUPPORTED alone (with its length), skipped in a list. */
    static const uint16_t unknown_pairs[] = {SHA256, EXPORT_ONLY, 0x0004, AES128};
    size_t nopair_len = raw_config(cfg, 8, X25519, pk, pk_len, 8, unknown_pairs, 2);
    consumed = 0;
    CHECK_EQ_INT(twoway_key_config_decode(&c, cfg, nopair_len, &consumed), TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_UINT(consumed, nopair_len);
    list_len = list_add(list, 0, cfg, nopair_len);
    list_len = list_add(list, list_len, good, good_len);
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_OK);
    CHECK_EQ_UINT(n, 1);
    CHECK_EQ_UINT(cfgs[0].key_id, 7);

    /* An unknown KEM: UNSUPPORTED alone, skipped in a list. */
    uint8_t unk[BUF_LEN];
    size_t unk_len = raw_config(unk, 9, 0x7F20, pk, 20, 8, two, 2);
    consumed = 99;
    CHECK_EQ_INT(twoway_key_config_decode(&c, unk, unk_len, &consumed), TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_UINT(consumed, 0);
    list_len = list_add(list, 0, unk, unk_len);
    list_len = list_add(list, list_len, good, good_len);
    list_len = list_add(list, list_len, unk, unk_len);
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_OK);
    CHECK_EQ_UINT(n, 1);
    CHECK_EQ_UINT(cfgs[0].key_id, 7);
    /* Only skipped entries: nothing usable. */
    list_len = list_add(list, 0, unk, unk_len);
    list_len = list_add(list, list_len, cfg, nopair_len);
    n = 99;
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_UINT(n, 0);
    /* ... but a too-short entry of an unknown KEM is still malformed. */
    list_len = list_add(list, 0, good, good_len);
    list_len = list_add(list, list_len, unk, 2);
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_ERR_FORMAT);

    /* One malformed entry rejects the whole list. */
    list_len = list_add(list, 0, good, good_len);
    list_len = list_add(list, list_len, good, good_len - 1);
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_ERR_FORMAT);
    list_len = list_add(list, 0, good, good_len);
    list_len = list_add(list, list_len, good, 0); /* an empty entry */
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_ERR_FORMAT);
    list_len = list_add(list, 0, good, good_len);
    list[list_len++] = 0x00; /* half a length */
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_ERR_FORMAT);
    list_len = list_add(list, 0, good, good_len);
    list[1] = (uint8_t)(good_len + 1); /* a length past the end */
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_ERR_FORMAT);
    memcpy(cfg, good, good_len);
    cfg[good_len] = 0; /* one byte more than the configuration */
    list_len = list_add(list, 0, cfg, good_len + 1);
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_ERR_FORMAT);
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, 0), TWOWAY_ERR_FORMAT);

    /* A public key that is not a point: KEY, alone and in a list. */
    uint8_t bad_pk[65];
    memset(bad_pk, 0, sizeof bad_pk);
    bad_pk[0] = 0x04;
    bad_pk[32] = 1; /* x = 1 */
    bad_pk[64] = 1; /* y = 1: not on P-256 */
    len = raw_config(cfg, 3, P256, bad_pk, sizeof bad_pk, 8, two, 2);
    CHECK_EQ_INT(twoway_key_config_decode(&c, cfg, len, &consumed), TWOWAY_ERR_KEY);
    list_len = list_add(list, 0, good, good_len);
    list_len = list_add(list, list_len, cfg, len);
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 8, &n, list, list_len), TWOWAY_ERR_KEY);
    bad_pk[0] = 0x02; /* a compressed point prefix */
    len = raw_config(cfg, 3, P256, bad_pk, sizeof bad_pk, 8, two, 2);
    CHECK_EQ_INT(twoway_key_config_decode(&c, cfg, len, &consumed), TWOWAY_ERR_KEY);
    /* ... even when the configuration has no known pair. */
    bad_pk[0] = 0x04;
    len = raw_config(cfg, 3, P256, bad_pk, sizeof bad_pk, 8, unknown_pairs, 2);
    CHECK_EQ_INT(twoway_key_config_decode(&c, cfg, len, &consumed), TWOWAY_ERR_KEY);
    /* A real P-256 key is accepted. */
    uint8_t p256_pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    size_t p256_len = fresh_public(P256, p256_pk);
    len = raw_config(cfg, 3, P256, p256_pk, p256_len, 8, two, 2);
    CHECK_EQ_INT(twoway_key_config_decode(&c, cfg, len, &consumed), TWOWAY_OK);
}

/* ------------------------------------------------------------------- ring */

static void header(uint8_t hdr[7], uint8_t key_id, uint16_t kem, uint16_t kdf, uint16_t aead)
{
    hdr[0] = key_id;
    hdr[1] = (uint8_t)(kem >> 8);
    hdr[2] = (uint8_t)kem;
    hdr[3] = (uint8_t)(kdf >> 8);
    hdr[4] = (uint8_t)kdf;
    hdr[5] = (uint8_t)(aead >> 8);
    hdr[6] = (uint8_t)aead;
}

static const uint8_t INFO[] = "test_keyring info";
static const uint8_t AAD[] = "aad";
static const uint8_t MSG[] = "a request for the key ring";

/* A sealed message to pk: enc and ct. */
typedef struct sealed {
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    size_t enc_len;
    uint8_t ct[sizeof MSG + TWOWAY_HPKE_MAX_TAG_LEN];
    size_t ct_len;
} sealed;

static int seal_to(sealed *s, const twoway_hpke_suite *suite, const twoway_hpke_key *pk)
{
    twoway_hpke_ctx *ctx = NULL;
    s->enc_len = sizeof s->enc;
    s->ct_len = sizeof s->ct;
    int rc =
        twoway_hpke_setup_sender(&ctx, s->enc, &s->enc_len, suite, pk, INFO, sizeof INFO, NULL);
    if (rc == TWOWAY_OK)
        rc = twoway_hpke_seal(ctx, s->ct, &s->ct_len, AAD, sizeof AAD, MSG, sizeof MSG);
    twoway_hpke_ctx_free(ctx);
    return rc;
}

/* Sets up a receiver through the ring and opens s: TWOWAY_OK only if the
 * plaintext is MSG. */
static int open_through(const twoway_keyring *ring, const uint8_t *hdr, const sealed *s,
                        twoway_hpke_suite *suite)
{
    twoway_hpke_ctx *ctx = (twoway_hpke_ctx *)(uintptr_t)1;
    uint8_t pt[sizeof MSG + TWOWAY_HPKE_MAX_TAG_LEN];
    size_t pt_len = sizeof pt;
    int rc =
        tw_keyring_setup_receiver(ring, hdr, s->enc, s->enc_len, INFO, sizeof INFO, &ctx, suite);
    if (rc != TWOWAY_OK)
        return ctx == NULL ? rc : TWOWAY_ERR_STATE; /* ctx must be NULL on failure */
    rc = twoway_hpke_open(ctx, pt, &pt_len, AAD, sizeof AAD, s->ct, s->ct_len);
    if (rc == TWOWAY_OK && (pt_len != sizeof MSG || memcmp(pt, MSG, pt_len) != 0))
        rc = TWOWAY_ERR_AUTH;
    twoway_hpke_ctx_free(ctx);
    return rc;
}

static void test_ring_basics(void)
{
    twoway_keyring *ring = NULL;
    twoway_hpke_suite s_aes, s_chacha, s_export, s_p256, got;
    test_hpke_suite(&s_aes, X25519, SHA256, AES128);
    test_hpke_suite(&s_chacha, X25519, SHA256, CHACHA);
    test_hpke_suite(&s_export, X25519, SHA256, EXPORT_ONLY);
    test_hpke_suite(&s_p256, P256, SHA256, AES128);
    twoway_hpke_key *sk = test_hpke_generate(s_aes.kem);
    twoway_hpke_key *pk = test_hpke_public_of(sk);
    twoway_hpke_key *sk_p256 = test_hpke_generate(s_p256.kem);
    uint8_t hdr[7];

    CHECK_EQ_INT(twoway_keyring_new(NULL), TWOWAY_ERR_ARG);
    if (!CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK))
        return;
    CHECK_EQ_UINT(twoway_keyring_count(ring), 0);
    CHECK_EQ_UINT(twoway_keyring_count(NULL), 0);

    CHECK_EQ_INT(twoway_keyring_add(ring, 1, &s_aes, sk), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 1, &s_chacha, sk), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 2, &s_aes, sk), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 3);

    /* refused additions */
    CHECK_EQ_INT(twoway_keyring_add(ring, 1, &s_aes, sk), TWOWAY_ERR_ARG);      /* duplicate */
    CHECK_EQ_INT(twoway_keyring_add(ring, 1, &s_aes, pk), TWOWAY_ERR_ARG);      /* duplicate ids */
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, &s_aes, pk), TWOWAY_ERR_ARG);      /* public only */
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, &s_aes, sk_p256), TWOWAY_ERR_ARG); /* wrong KEM */
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, &s_p256, sk), TWOWAY_ERR_ARG);     /* wrong KEM */
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, &s_export, sk), TWOWAY_ERR_ARG);   /* export-only */
    CHECK_EQ_INT(twoway_keyring_add(NULL, 3, &s_aes, sk), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, NULL, sk), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, &s_aes, NULL), TWOWAY_ERR_ARG);
    twoway_hpke_suite half = s_aes;
    half.kdf = NULL;
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, &half, sk), TWOWAY_ERR_ARG);
    twoway_hpke_aead no_seal = *s_aes.aead;
    no_seal.id = 0x7F01;
    no_seal.seal = NULL;
    half = s_aes;
    half.aead = &no_seal;
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, &half, sk), TWOWAY_ERR_ARG);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 3);

    /* lookups */
    header(hdr, 1, X25519, SHA256, CHACHA);
    memset(&got, 0, sizeof got);
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_OK);
    CHECK(got.kem == s_chacha.kem && got.kdf == s_chacha.kdf && got.aead == s_chacha.aead);
    header(hdr, 2, X25519, SHA256, AES128);
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_OK);
    CHECK(got.aead == s_aes.aead);
    header(hdr, 2, X25519, SHA256, CHACHA); /* known algorithms, no such entry */
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_ERR_KEY_MISMATCH);
    header(hdr, 9, X25519, SHA256, AES128); /* no such key id */
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_ERR_KEY_MISMATCH);
    header(hdr, 1, P256, SHA256, AES128);
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_ERR_KEY_MISMATCH);
    header(hdr, 1, 0x0099, SHA256, AES128); /* unknown KEM */
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_ERR_HEADER);
    header(hdr, 1, X25519, 0x0004, AES128); /* unknown KDF */
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_ERR_HEADER);
    header(hdr, 1, X25519, SHA256, 0x0004); /* unknown AEAD */
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_ERR_HEADER);
    header(hdr, 1, X25519, SHA256, EXPORT_ONLY);
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_ERR_HEADER);
    CHECK_EQ_INT(tw_keyring_lookup(NULL, hdr, &got), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(tw_keyring_lookup(ring, NULL, &got), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, NULL), TWOWAY_ERR_ARG);

    /* end to end: a sender seals, the ring's receiver opens */
    sealed s1, s2;
    CHECK_EQ_INT(seal_to(&s1, &s_chacha, pk), TWOWAY_OK);
    CHECK_EQ_INT(seal_to(&s2, &s_aes, pk), TWOWAY_OK);
    header(hdr, 1, X25519, SHA256, CHACHA);
    memset(&got, 0, sizeof got);
    CHECK_EQ_INT(open_through(ring, hdr, &s1, &got), TWOWAY_OK);
    CHECK(got.aead == s_chacha.aead);
    CHECK_EQ_INT(open_through(ring, hdr, &s1, NULL), TWOWAY_OK); /* suite may be NULL */
    header(hdr, 2, X25519, SHA256, AES128);
    CHECK_EQ_INT(open_through(ring, hdr, &s2, NULL), TWOWAY_OK);
    /* the header picks the suite: the wrong one fails to authenticate */
    header(hdr, 1, X25519, SHA256, AES128);
    CHECK_EQ_INT(open_through(ring, hdr, &s1, NULL), TWOWAY_ERR_AUTH);
    /* HPKE's own errors come through: a bad enc */
    twoway_hpke_ctx *ctx = NULL;
    CHECK(tw_keyring_setup_receiver(ring, hdr, s1.enc, s1.enc_len - 1, INFO, sizeof INFO, &ctx,
                                    NULL) < 0);
    CHECK(ctx == NULL);
    CHECK_EQ_INT(
        tw_keyring_setup_receiver(ring, hdr, s1.enc, s1.enc_len, INFO, sizeof INFO, NULL, NULL),
        TWOWAY_ERR_ARG);
    header(hdr, 1, 0x0099, SHA256, AES128);
    CHECK_EQ_INT(open_through(ring, hdr, &s1, NULL), TWOWAY_ERR_HEADER);

    /* removal */
    CHECK_EQ_INT(twoway_keyring_remove(ring, 1, X25519, SHA256, CHACHA), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 2);
    header(hdr, 1, X25519, SHA256, CHACHA);
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_ERR_KEY_MISMATCH);
    CHECK_EQ_INT(open_through(ring, hdr, &s1, NULL), TWOWAY_ERR_KEY_MISMATCH);
    CHECK_EQ_INT(twoway_keyring_remove(ring, 1, X25519, SHA256, CHACHA), TWOWAY_ERR_KEY_MISMATCH);
    CHECK_EQ_INT(twoway_keyring_remove(NULL, 1, X25519, SHA256, CHACHA), TWOWAY_ERR_ARG);
    /* the other entries are intact, and the removed one can come back */
    header(hdr, 2, X25519, SHA256, AES128);
    CHECK_EQ_INT(open_through(ring, hdr, &s2, NULL), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 1, &s_chacha, sk), TWOWAY_OK);
    header(hdr, 1, X25519, SHA256, CHACHA);
    CHECK_EQ_INT(open_through(ring, hdr, &s1, NULL), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_remove(ring, 1, X25519, SHA256, AES128), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_remove(ring, 2, X25519, SHA256, AES128), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_remove(ring, 1, X25519, SHA256, CHACHA), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 0);

    /* many entries (the array grows) */
    for (unsigned i = 0; i < 200; i++)
        CHECK_EQ_INT(twoway_keyring_add(ring, (uint8_t)i, i % 2 ? &s_aes : &s_chacha, sk),
                     TWOWAY_OK);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 200);
    header(hdr, 199, X25519, SHA256, AES128);
    CHECK_EQ_INT(open_through(ring, hdr, &s2, NULL), TWOWAY_OK);
    for (unsigned i = 0; i < 200; i += 2)
        CHECK_EQ_INT(twoway_keyring_remove(ring, (uint8_t)i, X25519, SHA256, CHACHA), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 100);
    CHECK_EQ_INT(open_through(ring, hdr, &s2, NULL), TWOWAY_OK);

    twoway_keyring_free(ring);
    twoway_keyring_free(NULL);
    twoway_hpke_key_free(sk);
    twoway_hpke_key_free(pk);
    twoway_hpke_key_free(sk_p256);
}

static void test_ring_export(void)
{
    twoway_keyring *ring = NULL;
    twoway_hpke_suite s1, s2, s3, s4;
    test_hpke_suite(&s1, X25519, SHA256, AES128);
    test_hpke_suite(&s2, X25519, SHA256, CHACHA);
    test_hpke_suite(&s3, P256, SHA256, AES128);
    test_hpke_suite(&s4, X25519, SHA512, AES256);
    twoway_hpke_key *a = test_hpke_generate(s1.kem), *b = test_hpke_generate(s3.kem);
    uint8_t out[BUF_LEN];
    size_t out_len = sizeof out;
    if (!CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK))
        return;
    /* an empty ring has nothing to publish */
    CHECK_EQ_INT(twoway_keyring_export_configs(ring, out, &out_len), TWOWAY_ERR_STATE);

    CHECK_EQ_INT(twoway_keyring_add(ring, 1, &s1, a), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 1, &s2, a), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 2, &s3, b), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 3, &s1, a), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 1, &s4, a), TWOWAY_OK);

    /* expected: (1, a: s1 s2 s4), (2, b: s3), (3, a: s1) */
    twoway_key_config want[3];
    memset(want, 0, sizeof want);
    const twoway_hpke_key *keys[3] = {a, b, a};
    const uint8_t ids[3] = {1, 2, 3};
    for (size_t i = 0; i < 3; i++) {
        want[i].key_id = ids[i];
        want[i].kem_id = twoway_hpke_key_kem(keys[i])->id;
        const uint8_t *p = twoway_hpke_key_public(keys[i], &want[i].public_key_len);
        memcpy(want[i].public_key, p, want[i].public_key_len);
    }
    want[0].n_suites = 3;
    want[0].suites[0] = (twoway_symmetric_suite){SHA256, AES128};
    want[0].suites[1] = (twoway_symmetric_suite){SHA256, CHACHA};
    want[0].suites[2] = (twoway_symmetric_suite){SHA512, AES256};
    want[1].n_suites = 1;
    want[1].suites[0] = (twoway_symmetric_suite){SHA256, AES128};
    want[2].n_suites = 1;
    want[2].suites[0] = (twoway_symmetric_suite){SHA256, AES128};

    uint8_t expect[BUF_LEN];
    size_t expect_len = sizeof expect;
    CHECK_EQ_INT(twoway_key_configs_encode(want, 3, expect, &expect_len), TWOWAY_OK);
    out_len = sizeof out;
    if (CHECK_EQ_INT(twoway_keyring_export_configs(ring, out, &out_len), TWOWAY_OK)) {
        CHECK_EQ_UINT(out_len, expect_len);
        CHECK_MEM(out, expect, expect_len);
        twoway_key_config got[4];
        size_t n = 0;
        CHECK_EQ_INT(twoway_key_configs_decode(got, 4, &n, out, out_len), TWOWAY_OK);
        if (CHECK_EQ_UINT(n, 3))
            for (size_t i = 0; i < 3; i++)
                CHECK(config_equal(&got[i], &want[i]));
    }
    out_len = expect_len - 1;
    CHECK_EQ_INT(twoway_keyring_export_configs(ring, out, &out_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(out_len, expect_len);
    out_len = 0;
    CHECK_EQ_INT(twoway_keyring_export_configs(ring, NULL, &out_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(out_len, expect_len);
    CHECK_EQ_INT(twoway_keyring_export_configs(ring, out, NULL), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_keyring_export_configs(NULL, out, &out_len), TWOWAY_ERR_ARG);

    /* after a removal the configuration loses that suite */
    CHECK_EQ_INT(twoway_keyring_remove(ring, 1, X25519, SHA256, AES128), TWOWAY_OK);
    out_len = sizeof out;
    CHECK_EQ_INT(twoway_keyring_export_configs(ring, out, &out_len), TWOWAY_OK);
    twoway_key_config got[4];
    size_t n = 0;
    CHECK_EQ_INT(twoway_key_configs_decode(got, 4, &n, out, out_len), TWOWAY_OK);
    if (CHECK_EQ_UINT(n, 3)) {
        CHECK_EQ_UINT(got[0].key_id, 1);
        CHECK_EQ_UINT(got[0].n_suites, 2);
        CHECK(got[0].suites[0].kdf_id == SHA256 && got[0].suites[0].aead_id == CHACHA);
        CHECK(got[0].suites[1].kdf_id == SHA512 && got[0].suites[1].aead_id == AES256);
    }

    twoway_keyring_free(ring);
    twoway_hpke_key_free(a);
    twoway_hpke_key_free(b);
}

/* ------------------------------------------------------------ custom suites */

/* A KEM with an identifier of its own (0x7F20) that does DHKEM(X25519) with
 * the built-in table underneath; its private key is a handle. */
#define CUSTOM_KEM_ID 0x7F20u
#define CUSTOM_AEAD_ID 0x7F03u

static const twoway_hpke_kem *x25519(void)
{
    return twoway_hpke_kem_by_id(X25519);
}

static int custom_encap(const twoway_hpke_kem *kem, uint8_t *ss, uint8_t *enc,
                        const twoway_hpke_key *recipient, const twoway_hpke_key *sender,
                        const twoway_hpke_key *ephemeral)
{
    (void)kem;
    if (sender != NULL || ephemeral != NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    twoway_hpke_key *pk = NULL;
    size_t l;
    const uint8_t *b = twoway_hpke_key_public(recipient, &l);
    int rc = twoway_hpke_key_import_public(x25519(), &pk, b, l);
    if (rc == TWOWAY_OK)
        rc = x25519()->encap(x25519(), ss, enc, pk, NULL, NULL);
    twoway_hpke_key_free(pk);
    return rc;
}

static int custom_decap(const twoway_hpke_kem *kem, uint8_t *ss, const uint8_t *enc, size_t enc_len,
                        const twoway_hpke_key *recipient, const twoway_hpke_key *sender)
{
    (void)kem;
    const twoway_hpke_key *inner = twoway_hpke_key_handle(recipient);
    if (inner == NULL || sender != NULL)
        return TWOWAY_ERR_KEY;
    return x25519()->decap(x25519(), ss, enc, enc_len, inner, NULL);
}

static const twoway_hpke_kem custom_kem = {TWOWAY_HPKE_ABI_VERSION,
                                           CUSTOM_KEM_ID,
                                           32,
                                           32,
                                           32,
                                           32,
                                           NULL,
                                           NULL,
                                           NULL,
                                           NULL,
                                           NULL,
                                           custom_encap,
                                           custom_decap,
                                           NULL};

static int custom_aead_init(const twoway_hpke_aead *aead, void **state, const uint8_t *key)
{
    const twoway_hpke_aead *real = aead->userdata;
    return real->init(real, state, key);
}

static void test_ring_custom(void)
{
    const twoway_hpke_aead *chacha = twoway_hpke_aead_by_id(CHACHA);
    twoway_hpke_aead aead = *chacha;
    aead.id = CUSTOM_AEAD_ID;
    aead.init = custom_aead_init;
    aead.userdata = (void *)(uintptr_t)chacha; /* read-only use */
    twoway_hpke_suite custom = {&custom_kem, twoway_hpke_kdf_by_id(SHA256), &aead};
    twoway_hpke_suite custom_builtin_aead = {&custom_kem, twoway_hpke_kdf_by_id(SHA256),
                                             twoway_hpke_aead_by_id(AES128)};

    twoway_hpke_key *inner = test_hpke_generate(x25519());
    size_t l = 0;
    const uint8_t *pkb = twoway_hpke_key_public(inner, &l);
    twoway_hpke_key *sk = NULL, *pk = NULL;
    CHECK_EQ_INT(twoway_hpke_key_new_custom(&custom_kem, &sk, pkb, l, inner, NULL), TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_key_new_custom(&custom_kem, &pk, pkb, l, NULL, NULL), TWOWAY_OK);

    twoway_keyring *ring = NULL;
    if (!CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK))
        goto done;
    CHECK_EQ_INT(twoway_keyring_add(ring, 5, &custom, sk), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 5, &custom_builtin_aead, sk), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(ring, 5, &custom, sk), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_keyring_add(ring, 5, &custom, pk), TWOWAY_ERR_ARG);

    uint8_t hdr[7];
    sealed s1, s2;
    twoway_hpke_suite got;
    CHECK_EQ_INT(seal_to(&s1, &custom, pk), TWOWAY_OK);
    CHECK_EQ_INT(seal_to(&s2, &custom_builtin_aead, pk), TWOWAY_OK);
    header(hdr, 5, CUSTOM_KEM_ID, SHA256, CUSTOM_AEAD_ID);
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_OK);
    CHECK(got.kem == &custom_kem && got.aead == &aead);
    CHECK_EQ_INT(open_through(ring, hdr, &s1, NULL), TWOWAY_OK);
    header(hdr, 5, CUSTOM_KEM_ID, SHA256, AES128);
    CHECK_EQ_INT(open_through(ring, hdr, &s2, NULL), TWOWAY_OK);
    /* ids that match no entry and are not built in: HEADER */
    header(hdr, 6, CUSTOM_KEM_ID, SHA256, AES128);
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_ERR_HEADER);
    /* the built-in X25519 id is another KEM */
    header(hdr, 5, X25519, SHA256, AES128);
    CHECK_EQ_INT(tw_keyring_lookup(ring, hdr, &got), TWOWAY_ERR_KEY_MISMATCH);

    /* The export lists the custom configuration; a decoder that does not
     * know the KEM skips it. */
    uint8_t out[BUF_LEN];
    size_t out_len = sizeof out;
    CHECK_EQ_INT(twoway_keyring_export_configs(ring, out, &out_len), TWOWAY_OK);
    CHECK_EQ_UINT(out_len, 2 + 1 + 2 + 32 + 2 + 8);
    CHECK_EQ_UINT(out[0] << 8 | out[1], out_len - 2);
    CHECK_EQ_UINT(out[2], 5);
    CHECK_EQ_UINT(out[3] << 8 | out[4], CUSTOM_KEM_ID);
    CHECK_MEM(out + 5, pkb, 32);
    static const uint8_t algs[] = {0, 8, 0, 1, 0x7F, 0x03, 0, 1, 0, 1};
    CHECK_MEM(out + 37, algs, sizeof algs);
    twoway_key_config cfgs[2];
    size_t n = 99;
    CHECK_EQ_INT(twoway_key_configs_decode(cfgs, 2, &n, out, out_len), TWOWAY_ERR_UNSUPPORTED);

    twoway_keyring_free(ring);
done:
    twoway_hpke_key_free(sk);
    twoway_hpke_key_free(pk);
    twoway_hpke_key_free(inner);
}

/* -------------------------------------------------------------- concurrency */

#define N_READERS 3
#define READER_ROUNDS 300
#define WRITER_ROUNDS 200

typedef struct shared {
    twoway_keyring *ring;
    const twoway_hpke_suite *suite;
    const twoway_hpke_key *stable, *rotating;
    sealed to_stable, to_rotating;
} shared;

typedef struct reader {
    pthread_t thread;
    const shared *sh;
    unsigned long ok, missing, bad;
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    uint8_t hdr_stable[7], hdr_rotating[7];
    header(hdr_stable, 1, X25519, SHA256, AES128);
    header(hdr_rotating, 2, X25519, SHA256, AES128);
    for (unsigned i = 0; i < READER_ROUNDS; i++) {
        twoway_hpke_suite got;
        /* The stable key is always there. */
        if (tw_keyring_lookup(r->sh->ring, hdr_stable, &got) != TWOWAY_OK ||
            open_through(r->sh->ring, hdr_stable, &r->sh->to_stable, NULL) != TWOWAY_OK)
            r->bad++;
        /* The rotating one comes and goes: found and working, or missing. */
        int rc = open_through(r->sh->ring, hdr_rotating, &r->sh->to_rotating, NULL);
        if (rc == TWOWAY_OK)
            r->ok++;
        else if (rc == TWOWAY_ERR_KEY_MISMATCH)
            r->missing++;
        else
            r->bad++;
        uint8_t out[BUF_LEN];
        size_t out_len = sizeof out;
        if (twoway_keyring_export_configs(r->sh->ring, out, &out_len) != TWOWAY_OK)
            r->bad++;
    }
    return NULL;
}

typedef struct writer {
    pthread_t thread;
    const shared *sh;
    unsigned long bad;
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    const struct timespec pause = {0, 100 * 1000};
    twoway_hpke_suite chacha;
    if (twoway_hpke_suite_from_ids(&chacha, X25519, SHA256, CHACHA) != TWOWAY_OK) {
        w->bad++;
        return NULL;
    }
    for (unsigned i = 0; i < WRITER_ROUNDS; i++) {
        /* Entries before the stable one move it around in the array. */
        if (twoway_keyring_add(w->sh->ring, (uint8_t)(10 + i % 5), &chacha, w->sh->stable) !=
            TWOWAY_OK)
            w->bad++;
        if (twoway_keyring_add(w->sh->ring, 2, w->sh->suite, w->sh->rotating) != TWOWAY_OK)
            w->bad++;
        nanosleep(&pause, NULL); /* let readers find it */
        if (twoway_keyring_remove(w->sh->ring, 2, X25519, SHA256, AES128) != TWOWAY_OK)
            w->bad++;
        if (twoway_keyring_remove(w->sh->ring, (uint8_t)(10 + i % 5), X25519, SHA256, CHACHA) !=
            TWOWAY_OK)
            w->bad++;
        nanosleep(&pause, NULL); /* and miss it */
    }
    return NULL;
}

static void test_ring_threads(void)
{
    shared sh;
    twoway_hpke_suite suite;
    memset(&sh, 0, sizeof sh);
    test_hpke_suite(&suite, X25519, SHA256, AES128);
    twoway_hpke_key *stable = test_hpke_generate(suite.kem);
    twoway_hpke_key *rotating = test_hpke_generate(suite.kem);
    twoway_hpke_key *stable_pk = test_hpke_public_of(stable);
    twoway_hpke_key *rotating_pk = test_hpke_public_of(rotating);
    sh.suite = &suite;
    sh.stable = stable;
    sh.rotating = rotating;
    CHECK_EQ_INT(seal_to(&sh.to_stable, &suite, stable_pk), TWOWAY_OK);
    CHECK_EQ_INT(seal_to(&sh.to_rotating, &suite, rotating_pk), TWOWAY_OK);
    if (!CHECK_EQ_INT(twoway_keyring_new(&sh.ring), TWOWAY_OK))
        goto done;
    CHECK_EQ_INT(twoway_keyring_add(sh.ring, 1, &suite, stable), TWOWAY_OK);

    reader readers[N_READERS];
    writer w;
    memset(readers, 0, sizeof readers);
    memset(&w, 0, sizeof w);
    w.sh = &sh;
    int started = 0;
    for (int i = 0; i < N_READERS; i++) {
        readers[i].sh = &sh;
        if (CHECK_EQ_INT(pthread_create(&readers[i].thread, NULL, reader_main, &readers[i]), 0))
            started |= 1 << i;
    }
    int writer_started = CHECK_EQ_INT(pthread_create(&w.thread, NULL, writer_main, &w), 0);
    unsigned long ok = 0, missing = 0;
    for (int i = 0; i < N_READERS; i++) {
        if (started & (1 << i)) {
            pthread_join(readers[i].thread, NULL);
            CHECK_EQ_UINT(readers[i].bad, 0);
            CHECK_EQ_UINT(readers[i].ok + readers[i].missing, READER_ROUNDS);
            ok += readers[i].ok;
            missing += readers[i].missing;
        }
    }
    if (writer_started) {
        pthread_join(w.thread, NULL);
        CHECK_EQ_UINT(w.bad, 0);
    }
    /* After the rotation, exactly the stable entry is left. */
    CHECK_EQ_UINT(twoway_keyring_count(sh.ring), 1);
    uint8_t hdr[7];
    header(hdr, 2, X25519, SHA256, AES128);
    CHECK_EQ_INT(open_through(sh.ring, hdr, &sh.to_rotating, NULL), TWOWAY_ERR_KEY_MISMATCH);
    header(hdr, 1, X25519, SHA256, AES128);
    CHECK_EQ_INT(open_through(sh.ring, hdr, &sh.to_stable, NULL), TWOWAY_OK);
    printf("threads: %d readers x %d rounds, rotating key found %lu times, missing %lu\n",
           N_READERS, READER_ROUNDS, ok, missing);
    twoway_keyring_free(sh.ring);
done:
    twoway_hpke_key_free(stable);
    twoway_hpke_key_free(rotating);
    twoway_hpke_key_free(stable_pk);
    twoway_hpke_key_free(rotating_pk);
}

int main(void)
{
    test_vectors();
    test_round_trips();
    test_malformed();
    test_ring_basics();
    test_ring_export();
    test_ring_custom();
    test_ring_threads();
    return test_summary("keyring");
}
