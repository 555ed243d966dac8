/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HPKE round trips over every option: 5 KEMs x 3 KDFs x 4 AEADs x 4 modes,
 * messages of several sizes, in place and not; keys serialized and read
 * back; private keys held as OpenSSL EVP_PKEYs and behind DH callbacks; and
 * custom KEM, KDF and AEAD tables plugged into a suite.
 */
#include "hpke_util.h"
#include "test.h"

#include "common/util.h"
#include <twoway/hpke.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint16_t KEMS[] = {TWOWAY_HPKE_KEM_P256_SHA256, TWOWAY_HPKE_KEM_P384_SHA384,
                                TWOWAY_HPKE_KEM_P521_SHA512, TWOWAY_HPKE_KEM_X25519_SHA256,
                                TWOWAY_HPKE_KEM_X448_SHA512};
static const uint16_t KDFS[] = {TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA384,
                                TWOWAY_HPKE_KDF_HKDF_SHA512};
static const uint16_t AEADS[] = {TWOWAY_HPKE_AEAD_AES_128_GCM, TWOWAY_HPKE_AEAD_AES_256_GCM,
                                 TWOWAY_HPKE_AEAD_CHACHA20_POLY1305, TWOWAY_HPKE_AEAD_EXPORT_ONLY};
static const uint8_t PSK[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t PSK_ID[] = "client-7";
static const uint8_t INFO[] = "round trip";

/* Sender and receiver contexts, several messages, exports compared. */
static void round_trip(const twoway_hpke_suite *s, const twoway_hpke_key *skR,
                       const twoway_hpke_key *pkR, const twoway_hpke_params *sp,
                       const twoway_hpke_params *rp)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 1024, 70000};
    twoway_hpke_ctx *sc = NULL, *rc = NULL;
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    size_t enc_len = sizeof enc;
    int is_export_only = s->aead->id == TWOWAY_HPKE_AEAD_EXPORT_ONLY;

    if (!CHECK_EQ_INT(twoway_hpke_setup_sender(&sc, enc, &enc_len, s, pkR, INFO, sizeof INFO, sp),
                      TWOWAY_OK))
        return;
    CHECK_EQ_UINT(enc_len, s->kem->enc_len);
    if (!CHECK_EQ_INT(twoway_hpke_setup_receiver(&rc, s, enc, enc_len, skR, INFO, sizeof INFO, rp),
                      TWOWAY_OK))
        goto done;
    for (size_t i = 0; !is_export_only && i < UTIL_ARRAY_LEN(sizes); i++) {
        size_t n = sizes[i];
        uint8_t *pt = malloc(n + 1), *buf = malloc(n + TWOWAY_HPKE_TAG_LEN);
        size_t len = n + TWOWAY_HPKE_TAG_LEN, back = n;
        for (size_t j = 0; j < n; j++)
            pt[j] = (uint8_t)(j * 7 + i);
        char aad[16];
        snprintf(aad, sizeof aad, "msg %zu", i);
        if (i % 2 == 0) {
            /* in place: seal into the plaintext's own buffer */
            uint8_t *io = malloc(n + TWOWAY_HPKE_TAG_LEN);
            memcpy(io, pt, n);
            CHECK_EQ_INT(twoway_hpke_seal(sc, io, &len, (const uint8_t *)aad, strlen(aad), io, n),
                         TWOWAY_OK);
            CHECK_EQ_INT(
                twoway_hpke_open(rc, io, &back, (const uint8_t *)aad, strlen(aad), io, len),
                TWOWAY_OK);
            CHECK_EQ_UINT(back, n);
            CHECK_MEM(io, pt, n);
            free(io);
        } else {
            uint8_t *out = malloc(n + 1);
            CHECK_EQ_INT(twoway_hpke_seal(sc, buf, &len, (const uint8_t *)aad, strlen(aad), pt, n),
                         TWOWAY_OK);
            CHECK_EQ_UINT(len, n + TWOWAY_HPKE_TAG_LEN);
            CHECK_EQ_INT(
                twoway_hpke_open(rc, out, &back, (const uint8_t *)aad, strlen(aad), buf, len),
                TWOWAY_OK);
            CHECK_EQ_UINT(back, n);
            CHECK_MEM(out, pt, n);
            free(out);
        }
        free(pt);
        free(buf);
    }
    CHECK_EQ_UINT(twoway_hpke_ctx_seq(sc), is_export_only ? 0 : UTIL_ARRAY_LEN(sizes));
    uint8_t e1[100], e2[100];
    CHECK_EQ_INT(twoway_hpke_export(sc, e1, sizeof e1, (const uint8_t *)"ctx", 3), TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_export(rc, e2, sizeof e2, (const uint8_t *)"ctx", 3), TWOWAY_OK);
    CHECK_MEM(e1, e2, sizeof e1);
    CHECK_EQ_INT(twoway_hpke_export(rc, e2, sizeof e2, (const uint8_t *)"ctY", 3), TWOWAY_OK);
    CHECK(memcmp(e1, e2, sizeof e1) != 0);
done:
    twoway_hpke_ctx_free(sc);
    twoway_hpke_ctx_free(rc);
}

static void test_all_suites_and_modes(void)
{
    unsigned long combos = 0;
    for (size_t k = 0; k < UTIL_ARRAY_LEN(KEMS); k++) {
        const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(KEMS[k]);
        twoway_hpke_key *skR = NULL, *skS = NULL;
        CHECK_EQ_INT(twoway_hpke_key_generate(kem, &skR), TWOWAY_OK);
        CHECK_EQ_INT(twoway_hpke_key_generate(kem, &skS), TWOWAY_OK);
        twoway_hpke_key *pkR = test_hpke_public_of(skR), *pkS = test_hpke_public_of(skS);
        for (size_t d = 0; d < UTIL_ARRAY_LEN(KDFS); d++) {
            for (size_t a = 0; a < UTIL_ARRAY_LEN(AEADS); a++) {
                twoway_hpke_suite s;
                test_hpke_suite(&s, KEMS[k], KDFS[d], AEADS[a]);
                for (int mode = 0; mode < 4; mode++) {
                    twoway_hpke_params sp = TWOWAY_HPKE_PARAMS_INIT;
                    sp.mode = (twoway_hpke_mode)mode;
                    if (mode & 1) {
                        sp.psk = PSK, sp.psk_len = sizeof PSK;
                        sp.psk_id = PSK_ID, sp.psk_id_len = sizeof PSK_ID;
                    }
                    twoway_hpke_params rp = sp;
                    if (mode & 2) {
                        sp.sender_key = skS;
                        rp.sender_key = pkS;
                    }
                    round_trip(&s, skR, pkR, &sp, &rp);
                    combos++;
                }
            }
        }
        twoway_hpke_key_free(skR);
        twoway_hpke_key_free(skS);
        twoway_hpke_key_free(pkR);
        twoway_hpke_key_free(pkS);
    }
    CHECK_EQ_UINT(combos, 5 * 3 * 4 * 4);
    printf("round trips: %lu suite x mode combinations\n", combos);
}

/* Single-shot APIs and key serialization round trips. */
static void test_single_shot_and_keys(void)
{
    for (size_t k = 0; k < UTIL_ARRAY_LEN(KEMS); k++) {
        twoway_hpke_suite s;
        test_hpke_suite(&s, KEMS[k], TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_AEAD_AES_256_GCM);
        twoway_hpke_key *sk = NULL, *sk2 = NULL, *pk = NULL;
        uint8_t skb[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN], pkb[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
        size_t skl = sizeof skb, pkl = sizeof pkb;
        CHECK_EQ_INT(twoway_hpke_key_generate(s.kem, &sk), TWOWAY_OK);
        CHECK(twoway_hpke_key_is_private(sk));
        CHECK_EQ_INT(twoway_hpke_key_export_private(sk, skb, &skl), TWOWAY_OK);
        CHECK_EQ_UINT(skl, s.kem->private_key_len);
        CHECK_EQ_INT(twoway_hpke_key_export_public(sk, pkb, &pkl), TWOWAY_OK);
        CHECK_EQ_UINT(pkl, s.kem->public_key_len);
        CHECK_EQ_INT(twoway_hpke_key_import_private(s.kem, &sk2, skb, skl), TWOWAY_OK);
        CHECK_EQ_INT(twoway_hpke_key_import_public(s.kem, &pk, pkb, pkl), TWOWAY_OK);
        CHECK(!twoway_hpke_key_is_private(pk));
        size_t l2;
        CHECK_MEM(twoway_hpke_key_public(sk2, &l2), pkb, pkl);

        uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN], ct[40], pt[24];
        size_t enc_len = sizeof enc, ct_len = sizeof ct, pt_len = sizeof pt;
        CHECK_EQ_INT(twoway_hpke_seal_once(&s, pk, INFO, sizeof INFO, NULL, NULL, 0,
                                           (const uint8_t *)"single shot", 11, enc, &enc_len, ct,
                                           &ct_len),
                     TWOWAY_OK);
        CHECK_EQ_INT(twoway_hpke_open_once(&s, sk2, INFO, sizeof INFO, NULL, enc, enc_len, NULL, 0,
                                           ct, ct_len, pt, &pt_len),
                     TWOWAY_OK);
        CHECK_EQ_UINT(pt_len, 11);
        CHECK_MEM(pt, "single shot", 11);

        uint8_t x1[48], x2[48];
        enc_len = sizeof enc;
        CHECK_EQ_INT(twoway_hpke_send_export(&s, pk, INFO, sizeof INFO, NULL, (const uint8_t *)"e",
                                             1, enc, &enc_len, x1, sizeof x1),
                     TWOWAY_OK);
        CHECK_EQ_INT(twoway_hpke_receive_export(&s, sk, INFO, sizeof INFO, NULL, enc, enc_len,
                                                (const uint8_t *)"e", 1, x2, sizeof x2),
                     TWOWAY_OK);
        CHECK_MEM(x1, x2, sizeof x1);

        /* DeriveKeyPair is deterministic */
        twoway_hpke_key *d1 = NULL, *d2 = NULL;
        uint8_t ikm[80];
        memset(ikm, 0x33, sizeof ikm);
        CHECK_EQ_INT(twoway_hpke_key_derive(s.kem, &d1, ikm, sizeof ikm), TWOWAY_OK);
        CHECK_EQ_INT(twoway_hpke_key_derive(s.kem, &d2, ikm, sizeof ikm), TWOWAY_OK);
        if (d1 != NULL && d2 != NULL)
            CHECK_MEM(twoway_hpke_key_public(d1, NULL), twoway_hpke_key_public(d2, NULL), pkl);
        twoway_hpke_key_free(d1);
        twoway_hpke_key_free(d2);
        twoway_hpke_key_free(sk);
        twoway_hpke_key_free(sk2);
        twoway_hpke_key_free(pk);
    }
}

/* ---------------------------------------------------- keys held elsewhere */

static EVP_PKEY *ossl_keygen(uint16_t kem_id)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx;
    switch (kem_id) {
    case TWOWAY_HPKE_KEM_X25519_SHA256:
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
        break;
    case TWOWAY_HPKE_KEM_X448_SHA512: ctx = EVP_PKEY_CTX_new_from_name(NULL, "X448", NULL); break;
    default: ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL); break;
    }
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0)
        goto done;
    if (kem_id == TWOWAY_HPKE_KEM_P256_SHA256)
        EVP_PKEY_CTX_set_group_name(ctx, "P-256");
    if (kem_id == TWOWAY_HPKE_KEM_P384_SHA384)
        EVP_PKEY_CTX_set_group_name(ctx, "P-384");
    if (kem_id == TWOWAY_HPKE_KEM_P521_SHA512)
        EVP_PKEY_CTX_set_group_name(ctx, "P-521");
    EVP_PKEY_keygen(ctx, &pkey);
done:
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* A stand-in for an HSM: the private key stays in here; only DH comes out. */
typedef struct fake_hsm {
    EVP_PKEY *key;
    const char *type;
    int calls;
    int freed;
} fake_hsm;

static int hsm_dh(void *handle, uint8_t *out, size_t out_len, const uint8_t *peer, size_t peer_len)
{
    fake_hsm *h = handle;
    EVP_PKEY *pk = NULL;
    h->calls++;
    if (strcmp(h->type, "EC") == 0) {
        char group[32];
        OSSL_PARAM params[3];
        uint8_t pub[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
        if (!EVP_PKEY_get_utf8_string_param(h->key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                            NULL) ||
            peer_len > sizeof pub)
            return -1;
        memcpy(pub, peer, peer_len);
        EVP_PKEY_CTX *fc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, peer_len);
        params[2] = OSSL_PARAM_construct_end();
        if (fc == NULL || EVP_PKEY_fromdata_init(fc) <= 0 ||
            EVP_PKEY_fromdata(fc, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
            pk = NULL;
        EVP_PKEY_CTX_free(fc);
    } else {
        pk = EVP_PKEY_new_raw_public_key_ex(NULL, h->type, NULL, peer, peer_len);
    }
    if (pk == NULL)
        return -1;
    size_t len = out_len;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, h->key, NULL);
    int ok = ctx != NULL && EVP_PKEY_derive_init(ctx) > 0 &&
             EVP_PKEY_derive_set_peer(ctx, pk) > 0 && EVP_PKEY_derive(ctx, out, &len) > 0 &&
             len == out_len;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return ok ? 0 : -1;
}

static void hsm_free(void *handle)
{
    ((fake_hsm *)handle)->freed++;
}

static void test_evp_and_callback_keys(void)
{
    for (size_t k = 0; k < UTIL_ARRAY_LEN(KEMS); k++) {
        twoway_hpke_suite s;
        test_hpke_suite(&s, KEMS[k], TWOWAY_HPKE_KDF_HKDF_SHA256,
                        TWOWAY_HPKE_AEAD_CHACHA20_POLY1305);
        EVP_PKEY *rkey = ossl_keygen(KEMS[k]), *skey = ossl_keygen(KEMS[k]);
        if (!CHECK(rkey != NULL && skey != NULL))
            continue;
        twoway_hpke_key *r_evp = NULL, *s_evp = NULL, *r_fn = NULL, *s_fn = NULL;
        CHECK_EQ_INT(twoway_hpke_key_from_evp_pkey(s.kem, &r_evp, rkey), TWOWAY_OK);
        CHECK_EQ_INT(twoway_hpke_key_from_evp_pkey(s.kem, &s_evp, skey), TWOWAY_OK);
        if (r_evp == NULL || s_evp == NULL)
            goto next;
        twoway_hpke_key *pkR = test_hpke_public_of(r_evp), *pkS = test_hpke_public_of(s_evp);

        fake_hsm hr = {rkey,
                       KEMS[k] == TWOWAY_HPKE_KEM_X25519_SHA256 ? "X25519"
                       : KEMS[k] == TWOWAY_HPKE_KEM_X448_SHA512 ? "X448"
                                                                : "EC",
                       0, 0};
        fake_hsm hs = hr;
        hs.key = skey;
        size_t l;
        const uint8_t *p = twoway_hpke_key_public(r_evp, &l);
        CHECK_EQ_INT(twoway_hpke_key_from_dh(s.kem, &r_fn, p, l, hsm_dh, &hr, hsm_free), TWOWAY_OK);
        p = twoway_hpke_key_public(s_evp, &l);
        CHECK_EQ_INT(twoway_hpke_key_from_dh(s.kem, &s_fn, p, l, hsm_dh, &hs, hsm_free), TWOWAY_OK);
        CHECK(twoway_hpke_key_is_private(r_fn));

        /* base mode: receiver in OpenSSL, then behind the callback */
        round_trip(&s, r_evp, pkR, NULL, NULL);
        round_trip(&s, r_fn, pkR, NULL, NULL);
        CHECK(hr.calls == 1);
        /* auth mode with the sender's key behind the callback too */
        twoway_hpke_params sp = TWOWAY_HPKE_PARAMS_INIT, rp = TWOWAY_HPKE_PARAMS_INIT;
        sp.mode = rp.mode = TWOWAY_HPKE_MODE_AUTH;
        sp.sender_key = s_fn;
        rp.sender_key = pkS;
        round_trip(&s, r_fn, pkR, &sp, &rp);
        CHECK(hs.calls == 1 && hr.calls == 3);
        sp.sender_key = s_evp;
        round_trip(&s, r_evp, pkR, &sp, &rp);

        /* the private key does not leave the callback; the EVP one does */
        uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
        size_t skl = sizeof sk;
        CHECK_EQ_INT(twoway_hpke_key_export_private(r_fn, sk, &skl), TWOWAY_ERR_STATE);
        CHECK_EQ_INT(twoway_hpke_key_export_private(r_evp, sk, &skl), TWOWAY_OK);
        /* a callback key whose public key is not a point is refused */
        twoway_hpke_key *bad = NULL;
        uint8_t junk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
        memset(junk, 0x07, sizeof junk);
        if (s.kem->id != TWOWAY_HPKE_KEM_X25519_SHA256 && s.kem->id != TWOWAY_HPKE_KEM_X448_SHA512)
            CHECK_EQ_INT(twoway_hpke_key_from_dh(s.kem, &bad, junk, s.kem->public_key_len, hsm_dh,
                                                 &hr, NULL),
                         TWOWAY_ERR_KEY);
        /* an EVP_PKEY of another type is refused */
        const twoway_hpke_kem *other = twoway_hpke_kem_by_id(
            KEMS[k] == TWOWAY_HPKE_KEM_X25519_SHA256 ? TWOWAY_HPKE_KEM_P256_SHA256
                                                     : TWOWAY_HPKE_KEM_X25519_SHA256);
        CHECK_EQ_INT(twoway_hpke_key_from_evp_pkey(other, &bad, rkey), TWOWAY_ERR_KEY);
        CHECK(bad == NULL);

        twoway_hpke_key_free(r_fn);
        twoway_hpke_key_free(s_fn);
        CHECK(hr.freed == 1 && hs.freed == 1);
        twoway_hpke_key_free(pkR);
        twoway_hpke_key_free(pkS);
    next:
        twoway_hpke_key_free(r_evp);
        twoway_hpke_key_free(s_evp);
        EVP_PKEY_free(rkey);
        EVP_PKEY_free(skey);
    }
}

/* ------------------------------------------------------- custom tables */

/*
 * A custom KEM: the same DHKEM(X25519) as the built-in one (same id, so
 * interoperable), but its keys are the caller's own objects: the private key
 * is an opaque handle that only this table understands. It delegates the
 * arithmetic to the built-in table, as an HSM driver would to its device.
 */
typedef struct custom_handle {
    twoway_hpke_key *inner; /* the "device" key */
    int decaps;
} custom_handle;

static const twoway_hpke_kem *builtin_x25519(void)
{
    return twoway_hpke_kem_by_id(TWOWAY_HPKE_KEM_X25519_SHA256);
}

static twoway_hpke_key *inner_public(const twoway_hpke_key *k)
{
    twoway_hpke_key *p = NULL;
    size_t l;
    const uint8_t *b = twoway_hpke_key_public(k, &l);
    if (twoway_hpke_key_import_public(builtin_x25519(), &p, b, l) != TWOWAY_OK)
        return NULL;
    return p;
}

static int custom_encap(const twoway_hpke_kem *kem, uint8_t *ss, uint8_t *enc,
                        const twoway_hpke_key *recipient, const twoway_hpke_key *sender,
                        const twoway_hpke_key *ephemeral)
{
    (void)kem;
    if (sender != NULL || ephemeral != NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    twoway_hpke_key *pk = inner_public(recipient);
    if (pk == NULL)
        return TWOWAY_ERR_KEY;
    int rc = builtin_x25519()->encap(builtin_x25519(), ss, enc, pk, NULL, NULL);
    twoway_hpke_key_free(pk);
    return rc;
}

static int custom_decap(const twoway_hpke_kem *kem, uint8_t *ss, const uint8_t *enc, size_t enc_len,
                        const twoway_hpke_key *recipient, const twoway_hpke_key *sender)
{
    (void)kem;
    custom_handle *h = twoway_hpke_key_handle(recipient);
    if (h == NULL || sender != NULL)
        return TWOWAY_ERR_KEY;
    h->decaps++;
    return builtin_x25519()->decap(builtin_x25519(), ss, enc, enc_len, h->inner, NULL);
}

static void custom_handle_free(void *p)
{
    custom_handle *h = p;
    twoway_hpke_key_free(h->inner);
    free(h);
}

static const twoway_hpke_kem custom_kem = {TWOWAY_HPKE_ABI_VERSION,
                                           TWOWAY_HPKE_KEM_X25519_SHA256,
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

/* A KDF and an AEAD that wrap the built-in ones and count their calls. */
static int kdf_calls, aead_calls;

static int counting_extract(const twoway_hpke_kdf *kdf, uint8_t *prk, const uint8_t *salt,
                            size_t salt_len, const twoway_hpke_slice *ikm, size_t n)
{
    const twoway_hpke_kdf *real = kdf->userdata;
    kdf_calls++;
    return real->extract(real, prk, salt, salt_len, ikm, n);
}

static int counting_expand(const twoway_hpke_kdf *kdf, uint8_t *out, size_t out_len,
                           const uint8_t *prk, size_t prk_len, const twoway_hpke_slice *info,
                           size_t n)
{
    const twoway_hpke_kdf *real = kdf->userdata;
    kdf_calls++;
    return real->expand(real, out, out_len, prk, prk_len, info, n);
}

static int counting_seal(void *state, uint8_t *ct, const uint8_t *nonce, const uint8_t *aad,
                         size_t aad_len, const uint8_t *pt, size_t pt_len)
{
    aead_calls++;
    return twoway_hpke_aead_by_id(TWOWAY_HPKE_AEAD_CHACHA20_POLY1305)
        ->seal(state, ct, nonce, aad, aad_len, pt, pt_len);
}

static int counting_open(void *state, uint8_t *pt, const uint8_t *nonce, const uint8_t *aad,
                         size_t aad_len, const uint8_t *ct, size_t ct_len)
{
    aead_calls++;
    return twoway_hpke_aead_by_id(TWOWAY_HPKE_AEAD_CHACHA20_POLY1305)
        ->open(state, pt, nonce, aad, aad_len, ct, ct_len);
}

static void test_custom_tables(void)
{
    const twoway_hpke_kdf *real_kdf = twoway_hpke_kdf_by_id(TWOWAY_HPKE_KDF_HKDF_SHA256);
    const twoway_hpke_aead *real_aead = twoway_hpke_aead_by_id(TWOWAY_HPKE_AEAD_CHACHA20_POLY1305);
    twoway_hpke_kdf kdf = *real_kdf;
    kdf.extract = counting_extract;
    kdf.expand = counting_expand;
    kdf.userdata = (void *)(uintptr_t)real_kdf; /* const table, read-only use */
    twoway_hpke_aead aead = *real_aead;
    aead.seal = counting_seal;
    aead.open = counting_open;

    twoway_hpke_suite builtin, custom = {&custom_kem, &kdf, &aead};
    CHECK_EQ_INT(twoway_hpke_suite_from_ids(&builtin, TWOWAY_HPKE_KEM_X25519_SHA256,
                                            TWOWAY_HPKE_KDF_HKDF_SHA256,
                                            TWOWAY_HPKE_AEAD_CHACHA20_POLY1305),
                 TWOWAY_OK);

    /* the receiver's key lives behind the custom KEM */
    custom_handle *h = calloc(1, sizeof *h);
    CHECK_EQ_INT(twoway_hpke_key_generate(builtin.kem, &h->inner), TWOWAY_OK);
    size_t l;
    const uint8_t *pkb = twoway_hpke_key_public(h->inner, &l);
    twoway_hpke_key *sk_custom = NULL, *pk_custom = NULL, *pk_builtin = NULL;
    CHECK_EQ_INT(twoway_hpke_key_new_custom(&custom_kem, &sk_custom, pkb, l, h, custom_handle_free),
                 TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_key_new_custom(&custom_kem, &pk_custom, pkb, l, NULL, NULL),
                 TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_key_import_public(builtin.kem, &pk_builtin, pkb, l), TWOWAY_OK);
    /* a custom key of the wrong length, or for a built-in KEM, is refused */
    twoway_hpke_key *bad = NULL;
    CHECK_EQ_INT(twoway_hpke_key_new_custom(&custom_kem, &bad, pkb, l - 1, NULL, NULL),
                 TWOWAY_ERR_KEY);
    CHECK_EQ_INT(twoway_hpke_key_new_custom(builtin.kem, &bad, pkb, l, NULL, NULL), TWOWAY_ERR_ARG);
    /* generate/derive are optional for a custom KEM */
    CHECK_EQ_INT(twoway_hpke_key_generate(&custom_kem, &bad), TWOWAY_ERR_UNSUPPORTED);

    /* built-in sender, custom receiver: the same bytes on the wire */
    uint8_t enc[32], ct[64], pt[64];
    size_t enc_len = sizeof enc, ct_len = sizeof ct, pt_len = sizeof pt;
    static const uint8_t msg[] = "sealed by the built-in suite";
    CHECK_EQ_INT(twoway_hpke_seal_once(&builtin, pk_builtin, INFO, sizeof INFO, NULL, NULL, 0, msg,
                                       sizeof msg, enc, &enc_len, ct, &ct_len),
                 TWOWAY_OK);
    kdf_calls = aead_calls = 0;
    CHECK_EQ_INT(twoway_hpke_open_once(&custom, sk_custom, INFO, sizeof INFO, NULL, enc, enc_len,
                                       NULL, 0, ct, ct_len, pt, &pt_len),
                 TWOWAY_OK);
    CHECK_MEM(pt, msg, sizeof msg);
    CHECK_EQ_INT(h->decaps, 1);
    CHECK_EQ_INT(kdf_calls, 6); /* 3 extracts + 3 expands in the key schedule */
    CHECK_EQ_INT(aead_calls, 1);
    /* and the other way round, with contexts */
    round_trip(&custom, sk_custom, pk_custom, NULL, NULL);
    CHECK_EQ_INT(h->decaps, 2);

    twoway_hpke_key_free(sk_custom); /* frees the handle */
    twoway_hpke_key_free(pk_custom);
    twoway_hpke_key_free(pk_builtin);
}

static void test_strerror(void)
{
    for (int e = 0; e >= TWOWAY_ERR_IO; e--) {
        const char *m = twoway_strerror(e);
        CHECK(m != NULL && strlen(m) > 5 && strcmp(m, "unknown error") != 0);
    }
    CHECK_EQ_STR(twoway_strerror(-1000), "unknown error");
    CHECK(twoway_version() != NULL && strlen(twoway_version()) >= 5);
}

int main(void)
{
    test_all_suites_and_modes();
    test_single_shot_and_keys();
    test_evp_and_callback_keys();
    test_custom_tables();
    test_strerror();
    return test_summary("hpke-api");
}
