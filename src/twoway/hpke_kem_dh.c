/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DHKEM (RFC 9180 §4.1) over OpenSSL: P-256, P-384, P-521, X25519, X448.
 *
 * Public keys are validated when they are imported (length, encoding, point
 * on the curve), so every key object holds a valid point; a DH output of all
 * zeros (a small-order X25519/X448 point) is refused (§7.1.4).
 */
#include "twoway/hpke_internal.h"

#include "common/util.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <string.h>

typedef struct dhkem_params {
    const char *type;  /* OpenSSL key type: "X25519", "X448" or "EC" */
    const char *group; /* EC group name, NULL for X25519/X448 */
    int nid;           /* EC curve NID, 0 for X25519/X448 */
    size_t ndh;        /* Ndh */
    uint16_t nsecret, npk, nsk;
    uint8_t bitmask; /* DeriveKeyPair bitmask (EC only) */
    uint16_t kdf_id; /* the KEM's own HKDF */
} dhkem_params;

#define MAX_NDH 66

static const dhkem_params *params_of(const twoway_hpke_kem *kem)
{
    return kem->userdata;
}

/*
 * These functions may be reached through a caller's copy of a built-in table
 * (to wrap or count calls). Every size they use must then still be the
 * curve's: the table's fields are checked against the curve's own.
 */
static int table_ok(const twoway_hpke_kem *kem)
{
    const dhkem_params *p = params_of(kem);
    return p != NULL && kem->secret_len == p->nsecret && kem->enc_len == p->npk &&
           kem->public_key_len == p->npk && kem->private_key_len == p->nsk;
}

static int is_ec(const dhkem_params *p)
{
    return p->group != NULL;
}

/* Wraps pkey (ownership taken) and its serialized public key in a key object. */
static int key_wrap(const twoway_hpke_kem *kem, EVP_PKEY *pkey, const uint8_t *pk,
                    enum hpke_key_kind kind, twoway_hpke_key **out)
{
    twoway_hpke_key *key = hpke_key_alloc(kem, kem->public_key_len);
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return TWOWAY_ERR_NOMEM;
    }
    key->kind = kind;
    key->pkey = pkey;
    key->exportable = kind == HPKE_KEY_EVP;
    memcpy(key->pk, pk, kem->public_key_len);
    *out = key;
    return TWOWAY_OK;
}

/* ------------------------------------------------------------- EC helpers */

/* An uncompressed encoding of the point in `in` (any SEC1 form), checked on the curve. */
static int ec_point_normalize(const dhkem_params *p, const uint8_t *in, size_t in_len, uint8_t *out,
                              size_t out_len)
{
    int rc = TWOWAY_ERR_KEY;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(p->nid);
    EC_POINT *pt = group != NULL ? EC_POINT_new(group) : NULL;
    if (pt == NULL) {
        rc = TWOWAY_ERR_NOMEM;
        goto done;
    }
    if (!EC_POINT_oct2point(group, pt, in, in_len, NULL) || EC_POINT_is_at_infinity(group, pt) ||
        EC_POINT_is_on_curve(group, pt, NULL) != 1)
        goto done;
    if (EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, out, out_len, NULL) != out_len)
        goto done;
    rc = TWOWAY_OK;
done:
    EC_POINT_free(pt);
    EC_GROUP_free(group);
    return rc;
}

/* An EVP_PKEY from an EC public point (uncompressed) and optionally a private scalar. */
static int ec_pkey_from(const dhkem_params *p, const uint8_t *pub, size_t pub_len,
                        const BIGNUM *priv, EVP_PKEY **out)
{
    int rc = TWOWAY_ERR_CRYPTO;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    *out = NULL;
    if (bld == NULL || pctx == NULL) {
        rc = TWOWAY_ERR_NOMEM;
        goto done;
    }
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, p->group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len) ||
        (priv != NULL && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)))
        goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL || EVP_PKEY_fromdata_init(pctx) <= 0)
        goto done;
    if (EVP_PKEY_fromdata(pctx, out, priv != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params) <= 0) {
        rc = TWOWAY_ERR_KEY;
        goto done;
    }
    rc = TWOWAY_OK;
done:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(pctx);
    return rc;
}

/* A key pair from an EC private scalar sk (Nsk bytes, big-endian): the
 * scalar must be in [1, n-1]; the public key is sk * G. */
static int ec_import_private(const twoway_hpke_kem *kem, const uint8_t *sk, twoway_hpke_key **out)
{
    const dhkem_params *p = params_of(kem);
    uint8_t pub[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    int rc = TWOWAY_ERR_KEY;
    EVP_PKEY *pkey = NULL;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(p->nid);
    EC_POINT *pt = group != NULL ? EC_POINT_new(group) : NULL;
    BIGNUM *d = BN_secure_new();
    BN_CTX *bnctx = BN_CTX_secure_new();
    if (pt == NULL || d == NULL || bnctx == NULL) {
        rc = TWOWAY_ERR_NOMEM;
        goto done;
    }
    if (BN_bin2bn(sk, (int)kem->private_key_len, d) == NULL)
        goto done;
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0)
        goto done;
    if (!EC_POINT_mul(group, pt, d, NULL, NULL, bnctx) ||
        EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, pub, kem->public_key_len,
                           bnctx) != kem->public_key_len) {
        rc = TWOWAY_ERR_CRYPTO;
        goto done;
    }
    rc = ec_pkey_from(p, pub, kem->public_key_len, d, &pkey);
    if (rc == TWOWAY_OK)
        rc = key_wrap(kem, pkey, pub, HPKE_KEY_EVP, out);
done:
    BN_CTX_free(bnctx);
    BN_clear_free(d);
    EC_POINT_free(pt);
    EC_GROUP_free(group);
    return rc;
}

/* -------------------------------------------------------------- key ops */

static int dh_import_private(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *sk,
                             size_t sk_len)
{
    if (!table_ok(kem))
        return TWOWAY_ERR_ARG;
    const dhkem_params *p = params_of(kem);
    uint8_t pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    size_t pk_len = sizeof pk;
    if (sk == NULL || sk_len != kem->private_key_len)
        return TWOWAY_ERR_KEY;
    if (is_ec(p))
        return ec_import_private(kem, sk, out);
    /* X25519/X448: every string of Nsk bytes is a private key (clamped on use). */
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key_ex(NULL, p->type, NULL, sk, sk_len);
    if (pkey == NULL)
        return TWOWAY_ERR_CRYPTO;
    if (!EVP_PKEY_get_raw_public_key(pkey, pk, &pk_len) || pk_len != kem->public_key_len) {
        EVP_PKEY_free(pkey);
        return TWOWAY_ERR_CRYPTO;
    }
    return key_wrap(kem, pkey, pk, HPKE_KEY_EVP, out);
}

static int dh_import_public(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *pk,
                            size_t pk_len)
{
    if (!table_ok(kem))
        return TWOWAY_ERR_ARG;
    const dhkem_params *p = params_of(kem);
    EVP_PKEY *pkey = NULL;
    if (pk == NULL || pk_len != kem->public_key_len)
        return TWOWAY_ERR_KEY;
    if (is_ec(p)) {
        /* SerializePublicKey is the uncompressed form: 0x04 || x || y.
         * OpenSSL's import decodes the point and refuses one that is not on
         * the curve (the curves have cofactor 1: on the curve and not the
         * point at infinity, which has no such encoding, is enough). */
        if (pk[0] != 0x04)
            return TWOWAY_ERR_KEY;
        int rc = ec_pkey_from(p, pk, pk_len, NULL, &pkey);
        if (rc != TWOWAY_OK)
            return rc;
    } else {
        pkey = EVP_PKEY_new_raw_public_key_ex(NULL, p->type, NULL, pk, pk_len);
        if (pkey == NULL)
            return TWOWAY_ERR_KEY;
    }
    return key_wrap(kem, pkey, pk, HPKE_KEY_PUBLIC, out);
}

static int dh_generate(const twoway_hpke_kem *kem, twoway_hpke_key **out)
{
    if (!table_ok(kem))
        return TWOWAY_ERR_ARG;
    const dhkem_params *p = params_of(kem);
    int rc;
    if (!is_ec(p)) {
        uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
        /* X25519/X448: Nsk random bytes are a private key. */
        if (RAND_priv_bytes(sk, kem->private_key_len) != 1)
            return TWOWAY_ERR_CRYPTO;
        rc = dh_import_private(kem, out, sk, kem->private_key_len);
        util_wipe(sk, sizeof sk);
        return rc;
    }
    /* EC: OpenSSL's own key generation (a uniform scalar in [1, n-1]). */
    EVP_PKEY *pkey = NULL;
    uint8_t pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    size_t pk_len = 0;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    rc = TWOWAY_ERR_CRYPTO;
    if (pctx != NULL && EVP_PKEY_keygen_init(pctx) > 0 &&
        EVP_PKEY_CTX_set_group_name(pctx, p->group) > 0 && EVP_PKEY_keygen(pctx, &pkey) > 0 &&
        EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pk, sizeof pk,
                                        &pk_len) &&
        pk_len == kem->public_key_len && pk[0] == 0x04) {
        rc = key_wrap(kem, pkey, pk, HPKE_KEY_EVP, out);
        pkey = NULL;
    }
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(pctx);
    return rc;
}

static int dh_derive(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *ikm,
                     size_t ikm_len)
{
    if (!table_ok(kem))
        return TWOWAY_ERR_ARG;
    const dhkem_params *p = params_of(kem);
    const twoway_hpke_kdf *kdf = twoway_hpke_kdf_by_id(p->kdf_id);
    hpke_suite_id sid;
    uint8_t prk[TWOWAY_HPKE_MAX_SECRET_LEN];
    uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
    twoway_hpke_slice in = {ikm, ikm_len};
    int rc;

    if (ikm == NULL || ikm_len < kem->private_key_len || ikm_len > TWOWAY_HPKE_MAX_INPUT_LEN)
        return TWOWAY_ERR_ARG;
    hpke_suite_id_kem(&sid, kem->id);
    rc = hpke_labeled_extract(kdf, &sid, prk, NULL, 0, "dkp_prk", &in, 1);
    if (rc != TWOWAY_OK)
        goto done;
    if (!is_ec(p)) {
        rc = hpke_labeled_expand(kdf, &sid, sk, kem->private_key_len, prk, kdf->hash_len, "sk",
                                 NULL, 0);
        if (rc == TWOWAY_OK)
            rc = dh_import_private(kem, out, sk, kem->private_key_len);
        goto done;
    }
    rc = TWOWAY_ERR_DERIVE;
    for (unsigned counter = 0; counter <= 255; counter++) {
        uint8_t c = (uint8_t)counter;
        twoway_hpke_slice info = {&c, 1};
        int r = hpke_labeled_expand(kdf, &sid, sk, kem->private_key_len, prk, kdf->hash_len,
                                    "candidate", &info, 1);
        if (r != TWOWAY_OK) {
            rc = r;
            break;
        }
        sk[0] &= p->bitmask;
        r = ec_import_private(kem, sk, out);
        if (r != TWOWAY_ERR_KEY) {
            rc = r;
            break;
        }
    }
done:
    util_wipe(prk, sizeof prk);
    util_wipe(sk, sizeof sk);
    return rc;
}

static int dh_export_private(const twoway_hpke_key *key, uint8_t *out)
{
    if (!table_ok(key->kem))
        return TWOWAY_ERR_ARG;
    const twoway_hpke_kem *kem = key->kem;
    const dhkem_params *p = params_of(kem);
    if (key->kind != HPKE_KEY_EVP || !key->exportable)
        return TWOWAY_ERR_STATE;
    if (is_ec(p)) {
        BIGNUM *d = NULL;
        if (!EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d))
            return TWOWAY_ERR_STATE;
        int ok = BN_bn2binpad(d, out, (int)kem->private_key_len) == (int)kem->private_key_len;
        BN_clear_free(d);
        return ok ? TWOWAY_OK : TWOWAY_ERR_CRYPTO;
    }
    size_t len = kem->private_key_len;
    if (!EVP_PKEY_get_raw_private_key(key->pkey, out, &len) || len != kem->private_key_len) {
        util_wipe(out, kem->private_key_len);
        return TWOWAY_ERR_STATE;
    }
    return TWOWAY_OK;
}

/* ------------------------------------------------------------------- DH */

/* out[Ndh] = DH(sk, pk), refusing the all-zero output. */
static int dh(const twoway_hpke_kem *kem, uint8_t *out, const twoway_hpke_key *sk,
              const twoway_hpke_key *pk)
{
    const dhkem_params *p = params_of(kem);
    int rc = TWOWAY_ERR_CRYPTO;
    if (sk->kind == HPKE_KEY_DH_FN) {
        if (sk->dh(sk->handle, out, p->ndh, pk->pk, pk->pk_len) != 0)
            goto fail;
    } else if (sk->kind == HPKE_KEY_EVP) {
        size_t len = p->ndh;
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, sk->pkey, NULL);
        /* The peer was validated when it was imported. */
        int ready = ctx != NULL && EVP_PKEY_derive_init(ctx) > 0 &&
                    EVP_PKEY_derive_set_peer_ex(ctx, pk->pkey, 0) > 0;
        int ok = ready && EVP_PKEY_derive(ctx, out, &len) > 0 && len == p->ndh;
        EVP_PKEY_CTX_free(ctx);
        if (!ok) {
            /* Once set up, X25519/X448 derivation fails only when the result
             * is all zeros: OpenSSL refuses it itself. */
            rc = ready && !is_ec(p) ? TWOWAY_ERR_DH : TWOWAY_ERR_CRYPTO;
            if (!ready)
                rc = TWOWAY_ERR_KEY; /* e.g. an EVP_PKEY with no private key */
            goto fail;
        }
    } else {
        rc = TWOWAY_ERR_KEY;
        goto fail;
    }
    if (util_ct_is_zero(out, p->ndh)) {
        rc = TWOWAY_ERR_DH;
        goto fail;
    }
    return TWOWAY_OK;
fail:
    util_wipe(out, p->ndh);
    return rc;
}

/* shared_secret = ExtractAndExpand(dh, kem_context) */
static int extract_and_expand(const twoway_hpke_kem *kem, uint8_t *shared_secret,
                              const uint8_t *dhv, size_t dh_len,
                              const twoway_hpke_slice *kem_context, size_t n)
{
    const twoway_hpke_kdf *kdf = twoway_hpke_kdf_by_id(params_of(kem)->kdf_id);
    hpke_suite_id sid;
    uint8_t prk[TWOWAY_HPKE_MAX_SECRET_LEN];
    twoway_hpke_slice in = {dhv, dh_len};
    hpke_suite_id_kem(&sid, kem->id);
    int rc = hpke_labeled_extract(kdf, &sid, prk, NULL, 0, "eae_prk", &in, 1);
    if (rc == TWOWAY_OK)
        rc = hpke_labeled_expand(kdf, &sid, shared_secret, kem->secret_len, prk, kdf->hash_len,
                                 "shared_secret", kem_context, n);
    util_wipe(prk, sizeof prk);
    return rc;
}

static int dh_encap(const twoway_hpke_kem *kem, uint8_t *shared_secret, uint8_t *enc,
                    const twoway_hpke_key *recipient, const twoway_hpke_key *sender,
                    const twoway_hpke_key *ephemeral)
{
    if (!table_ok(kem))
        return TWOWAY_ERR_ARG;
    const dhkem_params *p = params_of(kem);
    uint8_t dhv[2 * MAX_NDH];
    twoway_hpke_key *fresh = NULL;
    int rc;

    if (recipient == NULL || recipient->kem != kem || (sender != NULL && sender->kem != kem) ||
        (ephemeral != NULL && ephemeral->kem != kem))
        return TWOWAY_ERR_KEY;
    if (ephemeral == NULL) {
        rc = dh_generate(kem, &fresh);
        if (rc != TWOWAY_OK)
            return rc;
        ephemeral = fresh;
    }
    rc = dh(kem, dhv, ephemeral, recipient);
    if (rc == TWOWAY_OK && sender != NULL)
        rc = dh(kem, dhv + p->ndh, sender, recipient);
    if (rc == TWOWAY_OK) {
        memcpy(enc, ephemeral->pk, kem->enc_len);
        twoway_hpke_slice ctx[3] = {
            {enc, kem->enc_len},
            {recipient->pk, recipient->pk_len},
            {sender != NULL ? sender->pk : NULL, sender != NULL ? sender->pk_len : 0}};
        rc = extract_and_expand(kem, shared_secret, dhv, sender != NULL ? 2 * p->ndh : p->ndh, ctx,
                                3);
    }
    util_wipe(dhv, sizeof dhv);
    twoway_hpke_key_free(fresh);
    return rc;
}

static int dh_decap(const twoway_hpke_kem *kem, uint8_t *shared_secret, const uint8_t *enc,
                    size_t enc_len, const twoway_hpke_key *recipient, const twoway_hpke_key *sender)
{
    if (!table_ok(kem))
        return TWOWAY_ERR_ARG;
    const dhkem_params *p = params_of(kem);
    uint8_t dhv[2 * MAX_NDH];
    twoway_hpke_key *pke = NULL;
    int rc;

    if (recipient == NULL || recipient->kem != kem || (sender != NULL && sender->kem != kem))
        return TWOWAY_ERR_KEY;
    rc = dh_import_public(kem, &pke, enc, enc_len);
    if (rc != TWOWAY_OK)
        return rc;
    rc = dh(kem, dhv, recipient, pke);
    if (rc == TWOWAY_OK && sender != NULL)
        rc = dh(kem, dhv + p->ndh, recipient, sender);
    if (rc == TWOWAY_OK) {
        twoway_hpke_slice ctx[3] = {
            {enc, enc_len},
            {recipient->pk, recipient->pk_len},
            {sender != NULL ? sender->pk : NULL, sender != NULL ? sender->pk_len : 0}};
        rc = extract_and_expand(kem, shared_secret, dhv, sender != NULL ? 2 * p->ndh : p->ndh, ctx,
                                3);
    }
    util_wipe(dhv, sizeof dhv);
    twoway_hpke_key_free(pke);
    return rc;
}

/* --------------------------------------------------- keys from elsewhere */

int hpke_dh_key_from_evp(const twoway_hpke_kem *kem, twoway_hpke_key **out, EVP_PKEY *pkey)
{
    if (!table_ok(kem))
        return TWOWAY_ERR_ARG;
    const dhkem_params *p = params_of(kem);
    uint8_t raw[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN * 2 + 8];
    uint8_t pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    size_t len = sizeof raw;

    if (!EVP_PKEY_is_a(pkey, p->type))
        return TWOWAY_ERR_KEY;
    if (is_ec(p)) {
        char group[64];
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                            NULL) ||
            (OBJ_txt2nid(group) != p->nid && EC_curve_nist2nid(group) != p->nid))
            return TWOWAY_ERR_KEY;
        if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw,
                                             sizeof raw, &len) ||
            ec_point_normalize(p, raw, len, pk, kem->public_key_len) != TWOWAY_OK)
            return TWOWAY_ERR_KEY;
    } else {
        len = kem->public_key_len;
        if (!EVP_PKEY_get_raw_public_key(pkey, pk, &len) || len != kem->public_key_len)
            return TWOWAY_ERR_KEY;
    }
    if (!EVP_PKEY_up_ref(pkey))
        return TWOWAY_ERR_CRYPTO;
    int rc = key_wrap(kem, pkey, pk, HPKE_KEY_EVP, out);
    if (rc != TWOWAY_OK)
        return rc;
    /* The key must be able to do what a private key is for: one DH with its
     * own public key proves it has (or its provider has) the private part,
     * without asking for it. */
    uint8_t probe[MAX_NDH];
    rc = dh(kem, probe, *out, *out);
    util_wipe(probe, sizeof probe);
    if (rc != TWOWAY_OK) {
        twoway_hpke_key_free(*out);
        *out = NULL;
        return TWOWAY_ERR_KEY;
    }
    return TWOWAY_OK;
}

int hpke_dh_key_from_fn(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *pk,
                        size_t pk_len)
{
    if (!table_ok(kem))
        return TWOWAY_ERR_ARG;
    twoway_hpke_key *pub = NULL;
    int rc = dh_import_public(kem, &pub, pk, pk_len);
    if (rc != TWOWAY_OK)
        return rc;
    pub->kind = HPKE_KEY_DH_FN;
    pub->exportable = 0;
    *out = pub;
    return TWOWAY_OK;
}

/* --------------------------------------------------------------- tables */

/* One line a curve: its OpenSSL names, Ndh, Nsecret, Npk (= Nenc), Nsk, the
 * DeriveKeyPair bitmask and the KEM's own KDF, and the table made from them. */
#define DHKEM(name, kem_id, type, group, nid, ndh, nsecret, npk, nsk, bitmask, kdf_id)             \
    static dhkem_params name##_params = {                                                          \
        type, group, nid, ndh, nsecret, npk, nsk, bitmask, kdf_id};                                \
    const twoway_hpke_kem name = {                                                                 \
        .abi_version = TWOWAY_HPKE_ABI_VERSION,                                                    \
        .id = kem_id,                                                                              \
        .secret_len = nsecret,                                                                     \
        .enc_len = npk,                                                                            \
        .public_key_len = npk,                                                                     \
        .private_key_len = nsk,                                                                    \
        .generate = dh_generate,                                                                   \
        .derive = dh_derive,                                                                       \
        .import_public = dh_import_public,                                                         \
        .import_private = dh_import_private,                                                       \
        .export_private = dh_export_private,                                                       \
        .encap = dh_encap,                                                                         \
        .decap = dh_decap,                                                                         \
        .userdata = &name##_params,                                                                \
    }

/* clang-format off */
DHKEM(hpke_kem_p256, TWOWAY_HPKE_KEM_P256_SHA256, "EC", "P-256", NID_X9_62_prime256v1,
      32, 32, 65, 32, 0xFF, TWOWAY_HPKE_KDF_HKDF_SHA256);
DHKEM(hpke_kem_p384, TWOWAY_HPKE_KEM_P384_SHA384, "EC", "P-384", NID_secp384r1,
      48, 48, 97, 48, 0xFF, TWOWAY_HPKE_KDF_HKDF_SHA384);
DHKEM(hpke_kem_p521, TWOWAY_HPKE_KEM_P521_SHA512, "EC", "P-521", NID_secp521r1,
      66, 64, 133, 66, 0x01, TWOWAY_HPKE_KDF_HKDF_SHA512);
DHKEM(hpke_kem_x25519, TWOWAY_HPKE_KEM_X25519_SHA256, "X25519", NULL, 0,
      32, 32, 32, 32, 0, TWOWAY_HPKE_KDF_HKDF_SHA256);
DHKEM(hpke_kem_x448, TWOWAY_HPKE_KEM_X448_SHA512, "X448", NULL, 0,
      56, 64, 56, 56, 0, TWOWAY_HPKE_KDF_HKDF_SHA512);
/* clang-format on */

int hpke_kem_is_dh(const twoway_hpke_kem *kem)
{
    return kem == &hpke_kem_p256 || kem == &hpke_kem_p384 || kem == &hpke_kem_p521 ||
           kem == &hpke_kem_x25519 || kem == &hpke_kem_x448;
}
