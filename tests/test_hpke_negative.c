/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HPKE: every way the input can be wrong. Tampered ciphertext, AAD and enc;
 * the wrong key, suite or mode; PSK inputs that do not go together; invalid
 * public and private keys, including X25519/X448 points whose DH output is
 * all zeros; sequence exhaustion; small buffers; wrong roles.
 */
#include "hpke_util.h"
#include "test.h"

#include "common/util.h"
#include "twoway/hpke_internal.h"
#include "twoway/hpke_testing.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t INFO[] = "negative tests";
static const uint8_t AAD[] = "header";
static const uint8_t PSK[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t PSK_ID[] = "psk id";

/* A sealed message, for the tampering tests. */
typedef struct sealed {
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    size_t enc_len;
    uint8_t ct[64 + TWOWAY_HPKE_TAG_LEN];
    size_t ct_len;
} sealed;

static const uint8_t MSG[] = "attack at dawn, bring snacks";

static int seal_msg(const twoway_hpke_suite *s, const twoway_hpke_key *pkR,
                    const twoway_hpke_params *p, sealed *out)
{
    out->enc_len = sizeof out->enc;
    out->ct_len = sizeof out->ct;
    return twoway_hpke_seal_once(s, pkR, INFO, sizeof INFO, p, AAD, sizeof AAD, MSG, sizeof MSG,
                                 out->enc, &out->enc_len, out->ct, &out->ct_len);
}

static int open_msg(const twoway_hpke_suite *s, const twoway_hpke_key *skR,
                    const twoway_hpke_params *p, const sealed *m, const uint8_t *aad,
                    size_t aad_len)
{
    uint8_t pt[64];
    size_t pt_len = sizeof pt;
    memset(pt, 0xAA, sizeof pt);
    int rc = twoway_hpke_open_once(s, skR, INFO, sizeof INFO, p, m->enc, m->enc_len, aad, aad_len,
                                   m->ct, m->ct_len, pt, &pt_len);
    if (rc == TWOWAY_OK) {
        CHECK_EQ_UINT(pt_len, sizeof MSG);
        CHECK_MEM(pt, MSG, sizeof MSG);
    } else {
        /* a failed open leaves no plaintext behind: each byte is wiped or untouched */
        int clean = 1;
        for (size_t i = 0; i < sizeof pt; i++)
            clean &= pt[i] == 0 || pt[i] == 0xAA;
        CHECK(clean);
    }
    return rc;
}

static void test_tampering(uint16_t kem_id, uint16_t kdf_id, uint16_t aead_id)
{
    twoway_hpke_suite s;
    if (!test_hpke_suite(&s, kem_id, kdf_id, aead_id))
        return;
    twoway_hpke_key *skR = test_hpke_generate(s.kem), *pkR = test_hpke_public_of(skR),
                    *other = test_hpke_generate(s.kem);
    sealed m, t;
    if (!CHECK_EQ_INT(seal_msg(&s, pkR, NULL, &m), TWOWAY_OK))
        goto done;
    CHECK_EQ_INT(open_msg(&s, skR, NULL, &m, AAD, sizeof AAD), TWOWAY_OK);

    /* every bit of the ciphertext and tag */
    for (size_t i = 0; i < m.ct_len * 8; i++) {
        t = m;
        t.ct[i / 8] ^= (uint8_t)(1u << (i % 8));
        CHECK_EQ_INT(open_msg(&s, skR, NULL, &t, AAD, sizeof AAD), TWOWAY_ERR_AUTH);
    }
    /* truncated and extended ciphertexts */
    for (size_t n = 0; n < m.ct_len; n++) {
        t = m;
        t.ct_len = n;
        CHECK_EQ_INT(open_msg(&s, skR, NULL, &t, AAD, sizeof AAD), TWOWAY_ERR_AUTH);
    }
    t = m;
    t.ct_len = m.ct_len + 1 <= sizeof t.ct ? m.ct_len + 1 : m.ct_len;
    if (t.ct_len != m.ct_len)
        CHECK_EQ_INT(open_msg(&s, skR, NULL, &t, AAD, sizeof AAD), TWOWAY_ERR_AUTH);
    /* AAD: altered, missing, longer */
    {
        uint8_t aad2[sizeof AAD];
        memcpy(aad2, AAD, sizeof AAD);
        aad2[0] ^= 1;
        CHECK_EQ_INT(open_msg(&s, skR, NULL, &m, aad2, sizeof aad2), TWOWAY_ERR_AUTH);
        CHECK_EQ_INT(open_msg(&s, skR, NULL, &m, NULL, 0), TWOWAY_ERR_AUTH);
        CHECK_EQ_INT(open_msg(&s, skR, NULL, &m, AAD, sizeof AAD - 1), TWOWAY_ERR_AUTH);
    }
    /* every bit of enc: another shared secret (AUTH), or not a point (KEY),
     * or for X25519/X448 possibly a small-order point (DH) */
    for (size_t i = 0; i < m.enc_len * 8; i++) {
        t = m;
        t.enc[i / 8] ^= (uint8_t)(1u << (i % 8));
        int rc = open_msg(&s, skR, NULL, &t, AAD, sizeof AAD);
        CHECK(rc == TWOWAY_ERR_AUTH || rc == TWOWAY_ERR_KEY || rc == TWOWAY_ERR_DH);
    }
    /* enc of the wrong length */
    t = m;
    t.enc_len = m.enc_len - 1;
    CHECK_EQ_INT(open_msg(&s, skR, NULL, &t, AAD, sizeof AAD), TWOWAY_ERR_KEY);
    /* the wrong recipient key */
    CHECK_EQ_INT(open_msg(&s, other, NULL, &m, AAD, sizeof AAD), TWOWAY_ERR_AUTH);
    /* a public key cannot open */
    CHECK_EQ_INT(open_msg(&s, pkR, NULL, &m, AAD, sizeof AAD), TWOWAY_ERR_KEY);

    /* the wrong suite: other AEAD, other KDF */
    {
        twoway_hpke_suite s2 = s;
        s2.aead = twoway_hpke_aead_by_id(aead_id == TWOWAY_HPKE_AEAD_AES_128_GCM
                                             ? TWOWAY_HPKE_AEAD_CHACHA20_POLY1305
                                             : TWOWAY_HPKE_AEAD_AES_128_GCM);
        CHECK(open_msg(&s2, skR, NULL, &m, AAD, sizeof AAD) != TWOWAY_OK);
        s2 = s;
        s2.kdf = twoway_hpke_kdf_by_id(kdf_id == TWOWAY_HPKE_KDF_HKDF_SHA256
                                           ? TWOWAY_HPKE_KDF_HKDF_SHA512
                                           : TWOWAY_HPKE_KDF_HKDF_SHA256);
        CHECK_EQ_INT(open_msg(&s2, skR, NULL, &m, AAD, sizeof AAD), TWOWAY_ERR_AUTH);
        /* a KEM that is not the key's */
        s2 = s;
        s2.kem = twoway_hpke_kem_by_id(kem_id == TWOWAY_HPKE_KEM_X25519_SHA256
                                           ? TWOWAY_HPKE_KEM_P256_SHA256
                                           : TWOWAY_HPKE_KEM_X25519_SHA256);
        CHECK_EQ_INT(open_msg(&s2, skR, NULL, &m, AAD, sizeof AAD), TWOWAY_ERR_KEY);
        CHECK_EQ_INT(seal_msg(&s2, pkR, NULL, &t), TWOWAY_ERR_KEY);
    }
done:
    twoway_hpke_key_free(skR);
    twoway_hpke_key_free(pkR);
    twoway_hpke_key_free(other);
}

static void test_modes(void)
{
    twoway_hpke_suite s;
    if (!test_hpke_suite(&s, TWOWAY_HPKE_KEM_X25519_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA256,
                         TWOWAY_HPKE_AEAD_AES_128_GCM))
        return;
    twoway_hpke_key *skR = test_hpke_generate(s.kem), *pkR = test_hpke_public_of(skR);
    twoway_hpke_key *skS = test_hpke_generate(s.kem), *pkS = test_hpke_public_of(skS),
                    *skX = test_hpke_generate(s.kem);
    twoway_hpke_key *pkX = test_hpke_public_of(skX);
    twoway_hpke_params base = TWOWAY_HPKE_PARAMS_INIT, psk = TWOWAY_HPKE_PARAMS_INIT;
    twoway_hpke_params auth_s = TWOWAY_HPKE_PARAMS_INIT, auth_r = TWOWAY_HPKE_PARAMS_INIT;
    twoway_hpke_params p;
    sealed m;

    psk.mode = TWOWAY_HPKE_MODE_PSK;
    psk.psk = PSK;
    psk.psk_len = sizeof PSK;
    psk.psk_id = PSK_ID;
    psk.psk_id_len = sizeof PSK_ID;
    auth_s.mode = auth_r.mode = TWOWAY_HPKE_MODE_AUTH;
    auth_s.sender_key = skS;
    auth_r.sender_key = pkS;

    /* VerifyPSKInputs: every inconsistent combination is refused */
    p = psk;
    p.psk_id = NULL, p.psk_id_len = 0; /* PSK without its id */
    CHECK_EQ_INT(seal_msg(&s, pkR, &p, &m), TWOWAY_ERR_ARG);
    p = psk;
    p.psk = NULL, p.psk_len = 0; /* id without PSK */
    CHECK_EQ_INT(seal_msg(&s, pkR, &p, &m), TWOWAY_ERR_ARG);
    p = psk;
    p.mode = TWOWAY_HPKE_MODE_BASE; /* PSK given when the mode takes none */
    CHECK_EQ_INT(seal_msg(&s, pkR, &p, &m), TWOWAY_ERR_ARG);
    p = base;
    p.mode = TWOWAY_HPKE_MODE_PSK; /* PSK mode without PSK */
    CHECK_EQ_INT(seal_msg(&s, pkR, &p, &m), TWOWAY_ERR_ARG);
    p = psk;
    p.psk_len = 31; /* too short */
    CHECK_EQ_INT(seal_msg(&s, pkR, &p, &m), TWOWAY_ERR_ARG);
    p = base;
    p.mode = TWOWAY_HPKE_MODE_AUTH; /* auth without a sender key */
    CHECK_EQ_INT(seal_msg(&s, pkR, &p, &m), TWOWAY_ERR_ARG);
    p = base;
    p.sender_key = skS; /* a sender key in base mode */
    CHECK_EQ_INT(seal_msg(&s, pkR, &p, &m), TWOWAY_ERR_ARG);
    p = auth_r; /* the sender needs its private key */
    CHECK_EQ_INT(seal_msg(&s, pkR, &p, &m), TWOWAY_ERR_KEY);
    p = base;
    p.mode = (twoway_hpke_mode)7;
    CHECK_EQ_INT(seal_msg(&s, pkR, &p, &m), TWOWAY_ERR_ARG);
    p = base;
    p.version = 99;
    CHECK_EQ_INT(seal_msg(&s, pkR, &p, &m), TWOWAY_ERR_ARG);

    /* the wrong mode on the receiving side fails to authenticate */
    CHECK_EQ_INT(seal_msg(&s, pkR, &psk, &m), TWOWAY_OK);
    CHECK_EQ_INT(open_msg(&s, skR, &psk, &m, AAD, sizeof AAD), TWOWAY_OK);
    CHECK_EQ_INT(open_msg(&s, skR, NULL, &m, AAD, sizeof AAD), TWOWAY_ERR_AUTH);
    p = psk;
    p.psk_id = (const uint8_t *)"other id", p.psk_id_len = 8;
    CHECK_EQ_INT(open_msg(&s, skR, &p, &m, AAD, sizeof AAD), TWOWAY_ERR_AUTH);
    {
        uint8_t psk2[sizeof PSK];
        memcpy(psk2, PSK, sizeof PSK);
        psk2[31] ^= 0x80;
        p = psk;
        p.psk = psk2;
        CHECK_EQ_INT(open_msg(&s, skR, &p, &m, AAD, sizeof AAD), TWOWAY_ERR_AUTH);
    }
    CHECK_EQ_INT(seal_msg(&s, pkR, &auth_s, &m), TWOWAY_OK);
    CHECK_EQ_INT(open_msg(&s, skR, &auth_r, &m, AAD, sizeof AAD), TWOWAY_OK);
    CHECK_EQ_INT(open_msg(&s, skR, NULL, &m, AAD, sizeof AAD), TWOWAY_ERR_AUTH);
    p = auth_r;
    p.sender_key = pkX; /* another sender */
    CHECK_EQ_INT(open_msg(&s, skR, &p, &m, AAD, sizeof AAD), TWOWAY_ERR_AUTH);
    CHECK_EQ_INT(seal_msg(&s, pkR, NULL, &m), TWOWAY_OK);
    CHECK_EQ_INT(open_msg(&s, skR, &auth_r, &m, AAD, sizeof AAD), TWOWAY_ERR_AUTH);

    twoway_hpke_key_free(skR);
    twoway_hpke_key_free(pkR);
    twoway_hpke_key_free(skS);
    twoway_hpke_key_free(pkS);
    twoway_hpke_key_free(skX);
    twoway_hpke_key_free(pkX);
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    return n;
}

/* X25519 and X448 public keys of small order: DH with them is all zeros. */
static const char *const x25519_small_order[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};
static const char *const x448_small_order[] = {
    "0000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000",
    "fefffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffff",
};

static void small_order_case(uint16_t kem_id, const char *hex)
{
    twoway_hpke_suite s;
    uint8_t pk[64];
    size_t n = unhex(hex, pk);
    if (!test_hpke_suite(&s, kem_id, TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_AEAD_AES_128_GCM))
        return;
    twoway_hpke_key *bad = NULL, *skR = test_hpke_generate(s.kem);
    /* accepted as bytes (any string is an X25519 public key) ... */
    if (twoway_hpke_key_import_public(s.kem, &bad, pk, n) == TWOWAY_OK) {
        /* ... but sealing to it gives an all-zero DH: refused */
        sealed m;
        int rc = seal_msg(&s, bad, NULL, &m);
        if (!CHECK_EQ_INT(rc, TWOWAY_ERR_DH))
            fprintf(stderr, "  small-order point %s\n", hex);
    }
    /* as an enc, the receiver refuses it too */
    sealed m;
    memset(&m, 0, sizeof m);
    memcpy(m.enc, pk, n);
    m.enc_len = n;
    m.ct_len = sizeof MSG + TWOWAY_HPKE_TAG_LEN;
    int rc = open_msg(&s, skR, NULL, &m, AAD, sizeof AAD);
    if (!CHECK(rc == TWOWAY_ERR_DH || rc == TWOWAY_ERR_KEY))
        fprintf(stderr, "  small-order enc %s gave %d\n", hex, rc);
    twoway_hpke_key_free(bad);
    twoway_hpke_key_free(skR);
}

static void test_invalid_keys(void)
{
    for (size_t i = 0; i < UTIL_ARRAY_LEN(x25519_small_order); i++)
        small_order_case(TWOWAY_HPKE_KEM_X25519_SHA256, x25519_small_order[i]);
    for (size_t i = 0; i < UTIL_ARRAY_LEN(x448_small_order); i++)
        small_order_case(TWOWAY_HPKE_KEM_X448_SHA512, x448_small_order[i]);

    /* wrong lengths for every KEM, both kinds of key */
    static const uint16_t kems[] = {TWOWAY_HPKE_KEM_P256_SHA256, TWOWAY_HPKE_KEM_P384_SHA384,
                                    TWOWAY_HPKE_KEM_P521_SHA512, TWOWAY_HPKE_KEM_X25519_SHA256,
                                    TWOWAY_HPKE_KEM_X448_SHA512};
    uint8_t buf[256];
    memset(buf, 0x42, sizeof buf);
    for (size_t i = 0; i < UTIL_ARRAY_LEN(kems); i++) {
        const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(kems[i]);
        twoway_hpke_key *k = NULL;
        size_t lens[] = {0, 1, (size_t)kem->public_key_len - 1, (size_t)kem->public_key_len + 1};
        for (size_t j = 0; j < UTIL_ARRAY_LEN(lens); j++) {
            buf[0] = 0x04;
            CHECK_EQ_INT(twoway_hpke_key_import_public(kem, &k, buf, lens[j]), TWOWAY_ERR_KEY);
            CHECK(k == NULL);
        }
        size_t sk_lens[] = {0, 1, (size_t)kem->private_key_len - 1,
                            (size_t)kem->private_key_len + 1};
        for (size_t j = 0; j < UTIL_ARRAY_LEN(sk_lens); j++)
            CHECK_EQ_INT(twoway_hpke_key_import_private(kem, &k, buf, sk_lens[j]), TWOWAY_ERR_KEY);
        /* DeriveKeyPair wants at least Nsk bytes of input */
        CHECK_EQ_INT(twoway_hpke_key_derive(kem, &k, buf, (size_t)kem->private_key_len - 1),
                     TWOWAY_ERR_ARG);
    }

    /* NIST curves: points off the curve, other encodings, scalars out of range */
    static const uint16_t ec[] = {TWOWAY_HPKE_KEM_P256_SHA256, TWOWAY_HPKE_KEM_P384_SHA384,
                                  TWOWAY_HPKE_KEM_P521_SHA512};
    for (size_t i = 0; i < UTIL_ARRAY_LEN(ec); i++) {
        const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(ec[i]);
        twoway_hpke_key *good = test_hpke_generate(kem), *k = NULL;
        uint8_t pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
        size_t npk = kem->public_key_len, nsk = kem->private_key_len;
        memcpy(pk, twoway_hpke_key_public(good, NULL), npk);
        CHECK_EQ_INT(twoway_hpke_key_import_public(kem, &k, pk, npk), TWOWAY_OK);
        twoway_hpke_key_free(k);
        k = NULL;
        pk[npk - 1] ^= 1; /* y changed: off the curve */
        CHECK_EQ_INT(twoway_hpke_key_import_public(kem, &k, pk, npk), TWOWAY_ERR_KEY);
        pk[npk - 1] ^= 1;
        pk[0] = 0x02; /* compressed prefix on an uncompressed-length string */
        CHECK_EQ_INT(twoway_hpke_key_import_public(kem, &k, pk, npk), TWOWAY_ERR_KEY);
        pk[0] = 0x00;
        CHECK_EQ_INT(twoway_hpke_key_import_public(kem, &k, pk, npk), TWOWAY_ERR_KEY);
        memset(pk, 0, npk); /* (0, 0) is not on any of these curves */
        pk[0] = 0x04;
        CHECK_EQ_INT(twoway_hpke_key_import_public(kem, &k, pk, npk), TWOWAY_ERR_KEY);
        memset(pk + 1, 0xFF, npk - 1); /* coordinates above p */
        CHECK_EQ_INT(twoway_hpke_key_import_public(kem, &k, pk, npk), TWOWAY_ERR_KEY);
        CHECK(k == NULL);

        uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
        memset(sk, 0, nsk); /* zero */
        CHECK_EQ_INT(twoway_hpke_key_import_private(kem, &k, sk, nsk), TWOWAY_ERR_KEY);
        memset(sk, 0xFF, nsk); /* above the group order */
        CHECK_EQ_INT(twoway_hpke_key_import_private(kem, &k, sk, nsk), TWOWAY_ERR_KEY);
        memset(sk, 0, nsk);
        sk[nsk - 1] = 1; /* one: valid */
        CHECK_EQ_INT(twoway_hpke_key_import_private(kem, &k, sk, nsk), TWOWAY_OK);
        twoway_hpke_key_free(k);
        twoway_hpke_key_free(good);
    }
}

static void test_sequence_and_state(void)
{
    twoway_hpke_suite s;
    if (!test_hpke_suite(&s, TWOWAY_HPKE_KEM_X25519_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA256,
                         TWOWAY_HPKE_AEAD_CHACHA20_POLY1305))
        return;
    twoway_hpke_key *skR = test_hpke_generate(s.kem), *pkR = test_hpke_public_of(skR);
    twoway_hpke_ctx *sc = NULL, *rc_ = NULL;
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN], ct[64], pt[64];
    size_t enc_len = sizeof enc, ct_len, pt_len;

    CHECK_EQ_INT(twoway_hpke_setup_sender(&sc, enc, &enc_len, &s, pkR, INFO, sizeof INFO, NULL),
                 TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_setup_receiver(&rc_, &s, enc, enc_len, skR, INFO, sizeof INFO, NULL),
                 TWOWAY_OK);
    if (sc == NULL || rc_ == NULL)
        goto done;

    /* roles */
    ct_len = sizeof ct;
    CHECK_EQ_INT(twoway_hpke_seal(rc_, ct, &ct_len, NULL, 0, MSG, 4), TWOWAY_ERR_STATE);
    pt_len = sizeof pt;
    CHECK_EQ_INT(twoway_hpke_open(sc, pt, &pt_len, NULL, 0, ct, 20), TWOWAY_ERR_STATE);
    /* buffers too small: nothing happens, the sequence does not move */
    ct_len = 4 + TWOWAY_HPKE_TAG_LEN - 1;
    CHECK_EQ_INT(twoway_hpke_seal(sc, ct, &ct_len, NULL, 0, MSG, 4), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(ct_len, 4 + TWOWAY_HPKE_TAG_LEN); /* the size needed */
    CHECK_EQ_UINT(twoway_hpke_ctx_seq(sc), 0);
    ct_len = sizeof ct;
    CHECK_EQ_INT(twoway_hpke_seal(sc, ct, &ct_len, NULL, 0, MSG, 4), TWOWAY_OK);
    pt_len = 3;
    CHECK_EQ_INT(twoway_hpke_open(rc_, pt, &pt_len, NULL, 0, ct, ct_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(pt_len, 4);
    /* a failed open does not move the sequence: the real message still opens */
    ct[0] ^= 1;
    pt_len = sizeof pt;
    CHECK_EQ_INT(twoway_hpke_open(rc_, pt, &pt_len, NULL, 0, ct, ct_len), TWOWAY_ERR_AUTH);
    CHECK_EQ_UINT(twoway_hpke_ctx_seq(rc_), 0);
    ct[0] ^= 1;
    CHECK_EQ_INT(twoway_hpke_open(rc_, pt, &pt_len, NULL, 0, ct, ct_len), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_hpke_ctx_seq(rc_), 1);
    /* a replayed message (same ct, next seq) fails */
    CHECK_EQ_INT(twoway_hpke_open(rc_, pt, &pt_len, NULL, 0, ct, ct_len), TWOWAY_ERR_AUTH);
    /* export lengths */
    uint8_t big[255 * 32 + 1];
    CHECK_EQ_INT(twoway_hpke_export(sc, big, 255 * 32, NULL, 0), TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_export(sc, big, 255 * 32 + 1, NULL, 0), TWOWAY_ERR_ARG);

    /* sequence exhaustion: the last number works, then every call is refused
     * and the counter never wraps */
    uint64_t limit = twoway_hpke_testing_seq_limit(sc);
    CHECK_EQ_UINT(limit, UINT64_MAX);
    twoway_hpke_testing_set_seq(sc, limit - 1);
    twoway_hpke_testing_set_seq(rc_, limit - 1);
    ct_len = sizeof ct;
    CHECK_EQ_INT(twoway_hpke_seal(sc, ct, &ct_len, NULL, 0, MSG, 4), TWOWAY_OK);
    pt_len = sizeof pt;
    CHECK_EQ_INT(twoway_hpke_open(rc_, pt, &pt_len, NULL, 0, ct, ct_len), TWOWAY_OK);
    CHECK_MEM(pt, MSG, 4);
    for (int i = 0; i < 3; i++) {
        ct_len = sizeof ct;
        CHECK_EQ_INT(twoway_hpke_seal(sc, ct, &ct_len, NULL, 0, MSG, 4), TWOWAY_ERR_LIMIT);
        pt_len = sizeof pt;
        CHECK_EQ_INT(twoway_hpke_open(rc_, pt, &pt_len, NULL, 0, ct, ct_len), TWOWAY_ERR_LIMIT);
    }
    CHECK_EQ_UINT(twoway_hpke_ctx_seq(sc), limit);
    CHECK_EQ_UINT(twoway_hpke_ctx_seq(rc_), limit);
    /* export still works after exhaustion */
    CHECK_EQ_INT(twoway_hpke_export(sc, big, 32, NULL, 0), TWOWAY_OK);

done:
    twoway_hpke_ctx_free(sc);
    twoway_hpke_ctx_free(rc_);
    twoway_hpke_key_free(skR);
    twoway_hpke_key_free(pkR);
}

/* A test double for an AEAD with a 2-byte nonce: only the sequence-limit
 * arithmetic of the library is under test here, not the cipher. */
static int nonce_calls;
static int tiny_init(const twoway_hpke_aead *aead, void **state, const uint8_t *key)
{
    (void)aead, (void)key;
    *state = &nonce_calls;
    return TWOWAY_OK;
}
static int tiny_seal(void *state, uint8_t *ct, const uint8_t *nonce, const uint8_t *aad,
                     size_t aad_len, const uint8_t *pt, size_t pt_len)
{
    (void)state, (void)aad, (void)aad_len;
    memmove(ct, pt, pt_len);
    memcpy(ct + pt_len, nonce, 2); /* the "tag" records the nonce */
    nonce_calls++;
    return TWOWAY_OK;
}
static int tiny_open(void *state, uint8_t *pt, const uint8_t *nonce, const uint8_t *aad,
                     size_t aad_len, const uint8_t *ct, size_t ct_len)
{
    (void)state, (void)aad, (void)aad_len;
    if (memcmp(ct + ct_len - 2, nonce, 2) != 0)
        return TWOWAY_ERR_AUTH;
    memmove(pt, ct, ct_len - 2);
    return TWOWAY_OK;
}
static void tiny_free(void *state)
{
    (void)state;
}

/* A context whose AEAD has a 2-byte nonce reaches its limit at 2^16 - 1. */
static void test_small_nonce_limit(void)
{
    twoway_hpke_suite s;
    if (!test_hpke_suite(&s, TWOWAY_HPKE_KEM_X25519_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA256,
                         TWOWAY_HPKE_AEAD_AES_128_GCM))
        return;
    const twoway_hpke_aead tiny = {.abi_version = TWOWAY_HPKE_ABI_VERSION,
                                   .id = 0xFFF0,
                                   .key_len = 16,
                                   .nonce_len = 2,
                                   .tag_len = 2,
                                   .init = tiny_init,
                                   .seal = tiny_seal,
                                   .open = tiny_open,
                                   .free = tiny_free};
    s.aead = &tiny;
    twoway_hpke_key *skR = test_hpke_generate(s.kem), *pkR = test_hpke_public_of(skR);
    twoway_hpke_ctx *sc = NULL;
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    size_t enc_len = sizeof enc;
    if (CHECK_EQ_INT(twoway_hpke_setup_sender(&sc, enc, &enc_len, &s, pkR, NULL, 0, NULL),
                     TWOWAY_OK)) {
        uint8_t ct[8];
        size_t ct_len = sizeof ct;
        CHECK_EQ_UINT(twoway_hpke_testing_seq_limit(sc), 0xFFFF);
        twoway_hpke_testing_set_seq(sc, 0xFFFE);
        CHECK_EQ_INT(twoway_hpke_seal(sc, ct, &ct_len, NULL, 0, MSG, 4), TWOWAY_OK);
        ct_len = sizeof ct;
        CHECK_EQ_INT(twoway_hpke_seal(sc, ct, &ct_len, NULL, 0, MSG, 4), TWOWAY_ERR_LIMIT);
        CHECK_EQ_INT(nonce_calls, 1);
    }
    twoway_hpke_ctx_free(sc);
    twoway_hpke_key_free(skR);
    twoway_hpke_key_free(pkR);
}

static void test_bad_arguments(void)
{
    twoway_hpke_suite s;
    CHECK_EQ_INT(twoway_hpke_suite_from_ids(&s, 0x0030, 1, 1), TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_INT(twoway_hpke_suite_from_ids(&s, 0x0020, 4, 1), TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_INT(twoway_hpke_suite_from_ids(&s, 0x0020, 1, 4), TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_INT(twoway_hpke_suite_from_ids(NULL, 0x0020, 1, 1), TWOWAY_ERR_ARG);
    CHECK(twoway_hpke_kem_by_id(0) == NULL);
    if (!test_hpke_suite(&s, 0x0020, 1, 1))
        return;
    twoway_hpke_key *skR = test_hpke_generate(s.kem), *pkR = test_hpke_public_of(skR);
    twoway_hpke_ctx *c = NULL;
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    size_t enc_len = 31;
    CHECK_EQ_INT(twoway_hpke_setup_sender(&c, enc, &enc_len, &s, pkR, NULL, 0, NULL),
                 TWOWAY_ERR_BUFFER);
    enc_len = sizeof enc;
    CHECK_EQ_INT(twoway_hpke_setup_sender(NULL, enc, &enc_len, &s, pkR, NULL, 0, NULL),
                 TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_hpke_setup_sender(&c, enc, &enc_len, NULL, pkR, NULL, 0, NULL),
                 TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_hpke_setup_sender(&c, enc, &enc_len, &s, NULL, NULL, 0, NULL),
                 TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_hpke_setup_sender(&c, enc, &enc_len, &s, pkR, NULL, 5, NULL),
                 TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_hpke_setup_receiver(&c, &s, NULL, 32, skR, NULL, 0, NULL), TWOWAY_ERR_ARG);
    CHECK(c == NULL);
    /* a table of the wrong ABI version */
    twoway_hpke_aead odd = *s.aead;
    odd.abi_version = 2;
    twoway_hpke_suite s2 = s;
    s2.aead = &odd;
    CHECK_EQ_INT(twoway_hpke_setup_sender(&c, enc, &enc_len, &s2, pkR, NULL, 0, NULL),
                 TWOWAY_ERR_UNSUPPORTED);
    /* the public half cannot be exported as a private key */
    uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
    size_t sk_len = sizeof sk;
    CHECK_EQ_INT(twoway_hpke_key_export_private(pkR, sk, &sk_len), TWOWAY_ERR_STATE);
    sk_len = 31;
    CHECK_EQ_INT(twoway_hpke_key_export_private(skR, sk, &sk_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(sk_len, 32);
    size_t pk_len = 31;
    CHECK_EQ_INT(twoway_hpke_key_export_public(pkR, sk, &pk_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(pk_len, 32);
    pk_len = 0; /* asking for the size */
    CHECK_EQ_INT(twoway_hpke_key_export_public(pkR, NULL, &pk_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(pk_len, 32);
    CHECK_EQ_INT(twoway_hpke_key_export_public(pkR, NULL, &pk_len), TWOWAY_ERR_ARG);
    twoway_hpke_key_free(skR);
    twoway_hpke_key_free(pkR);
}

/*
 * Copies of the built-in tables with altered sizes (a caller wrapping the
 * built-in functions) are refused, never trusted: before this check a
 * shorter tag_len made seal write past the buffer, and a longer nonce_len
 * made every message reuse one GCM nonce.
 */
static void test_inconsistent_tables(void)
{
    twoway_hpke_suite s;
    if (!test_hpke_suite(&s, TWOWAY_HPKE_KEM_X25519_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA256,
                         TWOWAY_HPKE_AEAD_AES_128_GCM))
        return;
    twoway_hpke_key *skR = test_hpke_generate(s.kem), *pkR = test_hpke_public_of(skR), *k = NULL;
    sealed m;

    /* {which field, its altered value}: 0 = tag_len, 1 = nonce_len, 2 = key_len */
    static const uint16_t cases[][2] = {{0, 0}, {0, 8}, {0, 32}, {1, 8}, {1, 32}, {2, 8}, {2, 32}};
    for (size_t i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
        twoway_hpke_aead a = *s.aead;
        twoway_hpke_suite s2 = s;
        uint16_t *field = cases[i][0] == 0   ? &a.tag_len
                          : cases[i][0] == 1 ? &a.nonce_len
                                             : &a.key_len;
        *field = cases[i][1];
        s2.aead = &a;
        CHECK_EQ_INT(seal_msg(&s2, pkR, NULL, &m), TWOWAY_ERR_ARG);
    }
    {
        twoway_hpke_kdf d = *s.kdf;
        twoway_hpke_suite s2 = s;
        d.hash_len = 48;
        s2.kdf = &d;
        CHECK_EQ_INT(seal_msg(&s2, pkR, NULL, &m), TWOWAY_ERR_ARG);
    }
    {
        twoway_hpke_kem bad = *s.kem;
        bad.private_key_len = 200;
        CHECK_EQ_INT(twoway_hpke_key_generate(&bad, &k), TWOWAY_ERR_ARG);
        uint8_t ikm[256] = {0};
        CHECK_EQ_INT(twoway_hpke_key_derive(&bad, &k, ikm, sizeof ikm), TWOWAY_ERR_ARG);
        CHECK_EQ_INT(twoway_hpke_key_import_private(&bad, &k, ikm, 200), TWOWAY_ERR_ARG);
        bad = *s.kem;
        bad.enc_len = 64;
        CHECK_EQ_INT(twoway_hpke_key_import_public(&bad, &k, ikm, 32), TWOWAY_ERR_ARG);
        CHECK(k == NULL);
    }
    twoway_hpke_key_free(skR);
    twoway_hpke_key_free(pkR);
}

/* A custom AEAD that writes plaintext and then fails: the library wipes it. */
static int leaky_open(void *state, uint8_t *pt, const uint8_t *nonce, const uint8_t *aad,
                      size_t aad_len, const uint8_t *ct, size_t ct_len)
{
    (void)state, (void)nonce, (void)aad, (void)aad_len, (void)ct;
    memset(pt, 'S', ct_len - TWOWAY_HPKE_TAG_LEN);
    return TWOWAY_ERR_AUTH;
}

static void test_failed_open_wipes(void)
{
    twoway_hpke_suite s;
    if (!test_hpke_suite(&s, TWOWAY_HPKE_KEM_X25519_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA256,
                         TWOWAY_HPKE_AEAD_AES_128_GCM))
        return;
    twoway_hpke_aead leaky = *s.aead;
    leaky.open = leaky_open;
    twoway_hpke_suite s2 = s;
    s2.aead = &leaky;
    twoway_hpke_key *skR = test_hpke_generate(s.kem), *pkR = test_hpke_public_of(skR);
    sealed m;
    CHECK_EQ_INT(seal_msg(&s, pkR, NULL, &m), TWOWAY_OK);
    uint8_t pt[64];
    size_t pt_len = sizeof pt;
    memset(pt, 0, sizeof pt);
    CHECK_EQ_INT(twoway_hpke_open_once(&s2, skR, INFO, sizeof INFO, NULL, m.enc, m.enc_len, AAD,
                                       sizeof AAD, m.ct, m.ct_len, pt, &pt_len),
                 TWOWAY_ERR_AUTH);
    CHECK(memchr(pt, 'S', sizeof pt) == NULL);
    twoway_hpke_key_free(skR);
    twoway_hpke_key_free(pkR);
}

/* An EVP_PKEY with only a public key is not a private key. */
static void test_public_only_evp_pkey(void)
{
    twoway_hpke_suite s;
    if (!test_hpke_suite(&s, TWOWAY_HPKE_KEM_X25519_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA256,
                         TWOWAY_HPKE_AEAD_AES_128_GCM))
        return;
    twoway_hpke_key *sk = test_hpke_generate(s.kem), *k = NULL;
    size_t len;
    const uint8_t *pk = twoway_hpke_key_public(sk, &len);
    EVP_PKEY *pub = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, pk, len);
    if (CHECK(pub != NULL))
        CHECK_EQ_INT(twoway_hpke_key_from_evp_pkey(s.kem, &k, pub), TWOWAY_ERR_KEY);
    CHECK(k == NULL);
    EVP_PKEY_free(pub);
    twoway_hpke_key_free(sk);
}

int main(void)
{
    static const uint16_t suites[][3] = {
        {TWOWAY_HPKE_KEM_X25519_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_AEAD_AES_128_GCM},
        {TWOWAY_HPKE_KEM_P256_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA256,
         TWOWAY_HPKE_AEAD_CHACHA20_POLY1305},
        {TWOWAY_HPKE_KEM_P384_SHA384, TWOWAY_HPKE_KDF_HKDF_SHA384, TWOWAY_HPKE_AEAD_AES_256_GCM},
        {TWOWAY_HPKE_KEM_P521_SHA512, TWOWAY_HPKE_KDF_HKDF_SHA512, TWOWAY_HPKE_AEAD_AES_256_GCM},
        {TWOWAY_HPKE_KEM_X448_SHA512, TWOWAY_HPKE_KDF_HKDF_SHA512,
         TWOWAY_HPKE_AEAD_CHACHA20_POLY1305},
    };
    for (size_t i = 0; i < UTIL_ARRAY_LEN(suites); i++)
        test_tampering(suites[i][0], suites[i][1], suites[i][2]);
    test_modes();
    test_invalid_keys();
    test_sequence_and_state();
    test_small_nonce_limit();
    test_bad_arguments();
    test_inconsistent_tables();
    test_failed_open_wipes();
    test_public_only_evp_pkey();
    return test_summary("hpke-negative");
}
