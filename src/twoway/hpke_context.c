/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HPKE contexts (RFC 9180 §5): mode checks, the key schedule, Seal/Open with
 * the sequence number, Export, and the single-shot APIs (§6).
 */
#include "twoway/hpke_internal.h"
#include "twoway/hpke_testing.h"

#include "common/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* What a setup needs from the caller's parameters, checked. */
typedef struct mode_inputs {
    twoway_hpke_mode mode;
    twoway_hpke_slice psk;
    twoway_hpke_slice psk_id;
    const twoway_hpke_key *sender_key;
} mode_inputs;

/* VerifyPSKInputs (§5.1) and the auth-mode key, for either side. */
static int mode_inputs_check(mode_inputs *mi, const twoway_hpke_params *prm)
{
    memset(mi, 0, sizeof *mi);
    if (prm == NULL) {
        mi->mode = TWOWAY_HPKE_MODE_BASE;
        return TWOWAY_OK;
    }
    if (prm->version != TWOWAY_HPKE_ABI_VERSION)
        return TWOWAY_ERR_ARG;
    if ((prm->psk == NULL && prm->psk_len > 0) || (prm->psk_id == NULL && prm->psk_id_len > 0))
        return TWOWAY_ERR_ARG;
    if (prm->psk_len > TWOWAY_HPKE_MAX_INPUT_LEN || prm->psk_id_len > TWOWAY_HPKE_MAX_INPUT_LEN)
        return TWOWAY_ERR_ARG;

    int got_psk = prm->psk_len > 0, got_psk_id = prm->psk_id_len > 0;
    int wants_psk, wants_auth;
    switch (prm->mode) {
    case TWOWAY_HPKE_MODE_BASE: wants_psk = 0, wants_auth = 0; break;
    case TWOWAY_HPKE_MODE_PSK: wants_psk = 1, wants_auth = 0; break;
    case TWOWAY_HPKE_MODE_AUTH: wants_psk = 0, wants_auth = 1; break;
    case TWOWAY_HPKE_MODE_AUTH_PSK: wants_psk = 1, wants_auth = 1; break;
    default: return TWOWAY_ERR_ARG;
    }
    if (got_psk != got_psk_id) /* inconsistent PSK inputs */
        return TWOWAY_ERR_ARG;
    if (got_psk != wants_psk) /* PSK given when not needed, or missing */
        return TWOWAY_ERR_ARG;
    if (got_psk && prm->psk_len < TWOWAY_HPKE_MIN_PSK_LEN)
        return TWOWAY_ERR_ARG;
    if ((prm->sender_key != NULL) != wants_auth)
        return TWOWAY_ERR_ARG;

    mi->mode = prm->mode;
    mi->psk = (twoway_hpke_slice){prm->psk, prm->psk_len};
    mi->psk_id = (twoway_hpke_slice){prm->psk_id, prm->psk_id_len};
    mi->sender_key = prm->sender_key;
    return TWOWAY_OK;
}

static void ctx_cleanup(struct twoway_hpke_ctx *ctx)
{
    if (ctx->aead_state != NULL)
        ctx->suite.aead->free(ctx->aead_state);
    util_wipe(ctx, sizeof *ctx);
}

/*
 * psk_id_hash = LabeledExtract("", "psk_id_hash", "") is the same for every
 * base and auth mode setup of a suite: with the built-in KDFs it is kept
 * (it is public) for a few suites, found by their ids.
 */
#define PSK_ID_CACHE 16
static struct {
    uint16_t kem, kdf, aead;
    uint8_t hash[TWOWAY_HPKE_MAX_SECRET_LEN];
} psk_id_cache[PSK_ID_CACHE];
static size_t psk_id_cached;
static pthread_mutex_t psk_id_lock = PTHREAD_MUTEX_INITIALIZER;

static int builtin_kdf(const twoway_hpke_kdf *kdf)
{
    return kdf == &hpke_kdf_hkdf_sha256 || kdf == &hpke_kdf_hkdf_sha384 ||
           kdf == &hpke_kdf_hkdf_sha512;
}

static int empty_psk_id_hash(const twoway_hpke_suite *suite, const hpke_suite_id *sid, uint8_t *out)
{
    const twoway_hpke_kdf *kdf = suite->kdf;
    size_t nh = kdf->hash_len;
    int found = 0;
    if (builtin_kdf(kdf) && pthread_mutex_lock(&psk_id_lock) == 0) {
        for (size_t i = 0; i < psk_id_cached && !found; i++)
            if (psk_id_cache[i].kem == suite->kem->id && psk_id_cache[i].kdf == kdf->id &&
                psk_id_cache[i].aead == suite->aead->id) {
                memcpy(out, psk_id_cache[i].hash, nh);
                found = 1;
            }
        pthread_mutex_unlock(&psk_id_lock);
    }
    if (found)
        return TWOWAY_OK;
    twoway_hpke_slice empty = {NULL, 0};
    int rc = hpke_labeled_extract(kdf, sid, out, NULL, 0, "psk_id_hash", &empty, 1);
    if (rc == TWOWAY_OK && builtin_kdf(kdf) && pthread_mutex_lock(&psk_id_lock) == 0) {
        if (psk_id_cached < PSK_ID_CACHE) {
            psk_id_cache[psk_id_cached].kem = suite->kem->id;
            psk_id_cache[psk_id_cached].kdf = kdf->id;
            psk_id_cache[psk_id_cached].aead = suite->aead->id;
            memcpy(psk_id_cache[psk_id_cached].hash, out, nh);
            psk_id_cached++;
        }
        pthread_mutex_unlock(&psk_id_lock);
    }
    return rc;
}

/* KeySchedule<ROLE>(mode, shared_secret, info, psk, psk_id) into ctx. */
static int key_schedule(struct twoway_hpke_ctx *ctx, const twoway_hpke_suite *suite,
                        enum hpke_role role, const mode_inputs *mi, const uint8_t *shared_secret,
                        const uint8_t *info, size_t info_len)
{
    const twoway_hpke_kdf *kdf = suite->kdf;
    const twoway_hpke_aead *aead = suite->aead;
    size_t nh = kdf->hash_len;
    hpke_suite_id sid;
    uint8_t mode = (uint8_t)mi->mode;
    uint8_t psk_id_hash[TWOWAY_HPKE_MAX_SECRET_LEN], info_hash[TWOWAY_HPKE_MAX_SECRET_LEN];
    uint8_t secret[TWOWAY_HPKE_MAX_SECRET_LEN], key[TWOWAY_HPKE_MAX_AEAD_KEY_LEN];
    twoway_hpke_slice in;
    int rc;

    memset(ctx, 0, sizeof *ctx);
    ctx->suite = *suite;
    ctx->role = role;
    hpke_suite_id_hpke(&sid, suite->kem->id, kdf->id, aead->id);

    in = (twoway_hpke_slice){info, info_len};
    if ((rc = mi->psk_id.len == 0
                  ? empty_psk_id_hash(suite, &sid, psk_id_hash)
                  : hpke_labeled_extract(kdf, &sid, psk_id_hash, NULL, 0, "psk_id_hash",
                                         &mi->psk_id, 1)) != TWOWAY_OK ||
        (rc = hpke_labeled_extract(kdf, &sid, info_hash, NULL, 0, "info_hash", &in, 1)) !=
            TWOWAY_OK ||
        (rc = hpke_labeled_extract(kdf, &sid, secret, shared_secret, suite->kem->secret_len,
                                   "secret", &mi->psk, 1)) != TWOWAY_OK)
        goto done;

    /* key_schedule_context = mode || psk_id_hash || info_hash */
    twoway_hpke_slice ksc[3] = {{&mode, 1}, {psk_id_hash, nh}, {info_hash, nh}};
    /* exporter_secret, key and base_nonce, all from secret */
    hpke_labeled_job jobs[3] = {{ctx->exporter_secret, nh, "exp", ksc, 3},
                                {key, aead->key_len, "key", ksc, 3},
                                {ctx->base_nonce, aead->nonce_len, "base_nonce", ksc, 3}};
    rc = hpke_labeled_expand_many(kdf, &sid, secret, nh, jobs,
                                  aead->id != TWOWAY_HPKE_AEAD_EXPORT_ONLY ? 3 : 1);
    if (rc != TWOWAY_OK)
        goto done;
    if (aead->id != TWOWAY_HPKE_AEAD_EXPORT_ONLY) {
        rc = aead->init(aead, &ctx->aead_state, key);
        if (rc != TWOWAY_OK) {
            ctx->aead_state = NULL;
            goto done;
        }
        /* The nonce is base_nonce XOR I2OSP(seq, Nn): seq must stay below
         * 2^(8*Nn) - 1 (§5.2); a 64-bit counter caps it at 2^64 - 1. */
        ctx->seq_limit =
            aead->nonce_len >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * aead->nonce_len)) - 1;
    }
done:
    util_wipe(psk_id_hash, sizeof psk_id_hash);
    util_wipe(info_hash, sizeof info_hash);
    util_wipe(secret, sizeof secret);
    util_wipe(key, sizeof key);
    if (rc != TWOWAY_OK)
        ctx_cleanup(ctx);
    return rc;
}

static int setup_checks(const twoway_hpke_suite *suite, const twoway_hpke_key *key,
                        const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                        mode_inputs *mi)
{
    int rc = hpke_suite_check(suite);
    if (rc != TWOWAY_OK)
        return rc;
    if (key == NULL || (info == NULL && info_len > 0) || info_len > TWOWAY_HPKE_MAX_INPUT_LEN)
        return TWOWAY_ERR_ARG;
    if (key->kem != suite->kem)
        return TWOWAY_ERR_KEY;
    rc = mode_inputs_check(mi, params);
    if (rc != TWOWAY_OK)
        return rc;
    if (mi->sender_key != NULL && mi->sender_key->kem != suite->kem)
        return TWOWAY_ERR_KEY;
    return TWOWAY_OK;
}

static int setup_sender_into(struct twoway_hpke_ctx *ctx, uint8_t *enc, size_t *enc_len,
                             const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                             const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                             const twoway_hpke_key *ephemeral)
{
    mode_inputs mi;
    uint8_t shared_secret[TWOWAY_HPKE_MAX_SECRET_LEN];
    int rc = setup_checks(suite, recipient, info, info_len, params, &mi);
    if (rc != TWOWAY_OK)
        return rc;
    if (enc == NULL || enc_len == NULL)
        return TWOWAY_ERR_ARG;
    if (*enc_len < suite->kem->enc_len) {
        *enc_len = suite->kem->enc_len;
        return TWOWAY_ERR_BUFFER;
    }
    if (mi.sender_key != NULL && mi.sender_key->kind == HPKE_KEY_PUBLIC)
        return TWOWAY_ERR_KEY; /* AuthEncap needs the sender's private key */
    if (ephemeral != NULL && ephemeral->kind == HPKE_KEY_PUBLIC)
        return TWOWAY_ERR_KEY;
    rc = suite->kem->encap(suite->kem, shared_secret, enc, recipient, mi.sender_key, ephemeral);
    if (rc == TWOWAY_OK)
        rc = key_schedule(ctx, suite, HPKE_ROLE_SENDER, &mi, shared_secret, info, info_len);
    if (rc == TWOWAY_OK)
        *enc_len = suite->kem->enc_len;
    util_wipe(shared_secret, sizeof shared_secret);
    return rc;
}

static int setup_receiver_into(struct twoway_hpke_ctx *ctx, const twoway_hpke_suite *suite,
                               const uint8_t *enc, size_t enc_len, const twoway_hpke_key *recipient,
                               const uint8_t *info, size_t info_len,
                               const twoway_hpke_params *params)
{
    mode_inputs mi;
    uint8_t shared_secret[TWOWAY_HPKE_MAX_SECRET_LEN];
    int rc = setup_checks(suite, recipient, info, info_len, params, &mi);
    if (rc != TWOWAY_OK)
        return rc;
    if (enc == NULL)
        return TWOWAY_ERR_ARG;
    if (recipient->kind == HPKE_KEY_PUBLIC)
        return TWOWAY_ERR_KEY;
    if (enc_len != suite->kem->enc_len)
        return TWOWAY_ERR_KEY;
    rc = suite->kem->decap(suite->kem, shared_secret, enc, enc_len, recipient, mi.sender_key);
    if (rc == TWOWAY_OK)
        rc = key_schedule(ctx, suite, HPKE_ROLE_RECEIVER, &mi, shared_secret, info, info_len);
    util_wipe(shared_secret, sizeof shared_secret);
    return rc;
}

/* ------------------------------------------------------------ public API */

int hpke_setup_sender_with(twoway_hpke_ctx **out, uint8_t *enc, size_t *enc_len,
                           const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                           const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                           const twoway_hpke_key *ephemeral)
{
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    twoway_hpke_ctx *ctx = malloc(sizeof *ctx);
    if (ctx == NULL)
        return TWOWAY_ERR_NOMEM;
    int rc =
        setup_sender_into(ctx, enc, enc_len, suite, recipient, info, info_len, params, ephemeral);
    if (rc != TWOWAY_OK) {
        free(ctx);
        return rc;
    }
    *out = ctx;
    return TWOWAY_OK;
}

int twoway_hpke_setup_sender(twoway_hpke_ctx **out, uint8_t *enc, size_t *enc_len,
                             const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                             const uint8_t *info, size_t info_len, const twoway_hpke_params *params)
{
    return hpke_setup_sender_with(out, enc, enc_len, suite, recipient, info, info_len, params,
                                  NULL);
}

int twoway_hpke_setup_receiver(twoway_hpke_ctx **out, const twoway_hpke_suite *suite,
                               const uint8_t *enc, size_t enc_len, const twoway_hpke_key *recipient,
                               const uint8_t *info, size_t info_len,
                               const twoway_hpke_params *params)
{
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    twoway_hpke_ctx *ctx = malloc(sizeof *ctx);
    if (ctx == NULL)
        return TWOWAY_ERR_NOMEM;
    int rc = setup_receiver_into(ctx, suite, enc, enc_len, recipient, info, info_len, params);
    if (rc != TWOWAY_OK) {
        free(ctx);
        return rc;
    }
    *out = ctx;
    return TWOWAY_OK;
}

/* ComputeNonce(seq) */
static void compute_nonce(const twoway_hpke_ctx *ctx, uint8_t *nonce)
{
    size_t nn = ctx->suite.aead->nonce_len;
    uint64_t seq = ctx->seq;
    memcpy(nonce, ctx->base_nonce, nn);
    for (size_t i = 0; i < nn && i < 8; i++) {
        nonce[nn - 1 - i] ^= (uint8_t)seq;
        seq >>= 8;
    }
}

int twoway_hpke_seal(twoway_hpke_ctx *ctx, uint8_t *ct, size_t *ct_len, const uint8_t *aad,
                     size_t aad_len, const uint8_t *pt, size_t pt_len)
{
    uint8_t nonce[TWOWAY_HPKE_MAX_NONCE_LEN];
    size_t need;
    if (ctx == NULL || ct == NULL || ct_len == NULL || (aad == NULL && aad_len > 0) ||
        (pt == NULL && pt_len > 0))
        return TWOWAY_ERR_ARG;
    if (ctx->role != HPKE_ROLE_SENDER || ctx->aead_state == NULL)
        return TWOWAY_ERR_STATE;
    if (util_add_overflow(pt_len, ctx->suite.aead->tag_len, &need))
        return TWOWAY_ERR_ARG;
    if (*ct_len < need) {
        *ct_len = need;
        return TWOWAY_ERR_BUFFER;
    }
    if (ctx->seq >= ctx->seq_limit)
        return TWOWAY_ERR_LIMIT;
    compute_nonce(ctx, nonce);
    int rc = ctx->suite.aead->seal(ctx->aead_state, ct, nonce, aad, aad_len, pt, pt_len);
    /* Even a failed seal may have used the nonce: never use it again. */
    ctx->seq++;
    if (rc != TWOWAY_OK) {
        util_wipe(ct, need);
        return rc;
    }
    *ct_len = need;
    return TWOWAY_OK;
}

int twoway_hpke_open(twoway_hpke_ctx *ctx, uint8_t *pt, size_t *pt_len, const uint8_t *aad,
                     size_t aad_len, const uint8_t *ct, size_t ct_len)
{
    uint8_t nonce[TWOWAY_HPKE_MAX_NONCE_LEN];
    if (ctx == NULL || pt_len == NULL || (aad == NULL && aad_len > 0) || ct == NULL)
        return TWOWAY_ERR_ARG;
    if (ctx->role != HPKE_ROLE_RECEIVER || ctx->aead_state == NULL)
        return TWOWAY_ERR_STATE;
    size_t tag = ctx->suite.aead->tag_len;
    if (ct_len < tag)
        return TWOWAY_ERR_AUTH;
    if (*pt_len < ct_len - tag) {
        *pt_len = ct_len - tag;
        return TWOWAY_ERR_BUFFER;
    }
    if (pt == NULL && ct_len > tag)
        return TWOWAY_ERR_ARG;
    if (ctx->seq >= ctx->seq_limit)
        return TWOWAY_ERR_LIMIT;
    compute_nonce(ctx, nonce);
    uint8_t dummy;
    int rc = ctx->suite.aead->open(ctx->aead_state, pt != NULL ? pt : &dummy, nonce, aad, aad_len,
                                   ct, ct_len);
    if (rc != TWOWAY_OK) {
        /* whatever the AEAD table did, no plaintext is released */
        if (pt != NULL)
            util_wipe(pt, ct_len - tag);
        return TWOWAY_ERR_AUTH;
    }
    ctx->seq++;
    *pt_len = ct_len - tag;
    return TWOWAY_OK;
}

int twoway_hpke_export(const twoway_hpke_ctx *ctx, uint8_t *out, size_t out_len,
                       const uint8_t *exporter_context, size_t exporter_context_len)
{
    hpke_suite_id sid;
    if (ctx == NULL || (out == NULL && out_len > 0) ||
        (exporter_context == NULL && exporter_context_len > 0) ||
        exporter_context_len > TWOWAY_HPKE_MAX_INPUT_LEN)
        return TWOWAY_ERR_ARG;
    const twoway_hpke_kdf *kdf = ctx->suite.kdf;
    if (out_len > 255u * kdf->hash_len)
        return TWOWAY_ERR_ARG;
    if (out_len == 0)
        return TWOWAY_OK;
    hpke_suite_id_hpke(&sid, ctx->suite.kem->id, kdf->id, ctx->suite.aead->id);
    twoway_hpke_slice in = {exporter_context, exporter_context_len};
    return hpke_labeled_expand(kdf, &sid, out, out_len, ctx->exporter_secret, kdf->hash_len, "sec",
                               &in, 1);
}

const twoway_hpke_suite *twoway_hpke_ctx_suite(const twoway_hpke_ctx *ctx)
{
    return ctx != NULL ? &ctx->suite : NULL;
}

uint64_t twoway_hpke_ctx_seq(const twoway_hpke_ctx *ctx)
{
    return ctx != NULL ? ctx->seq : 0;
}

void twoway_hpke_ctx_free(twoway_hpke_ctx *ctx)
{
    if (ctx == NULL)
        return;
    ctx_cleanup(ctx);
    free(ctx);
}

/* ------------------------------------------------------------ single-shot */

int twoway_hpke_seal_once(const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                          const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                          const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                          uint8_t *enc, size_t *enc_len, uint8_t *ct, size_t *ct_len)
{
    struct twoway_hpke_ctx ctx; /* on the stack: no allocation for one message */
    int rc = setup_sender_into(&ctx, enc, enc_len, suite, recipient, info, info_len, params, NULL);
    if (rc != TWOWAY_OK)
        return rc;
    rc = twoway_hpke_seal(&ctx, ct, ct_len, aad, aad_len, pt, pt_len);
    ctx_cleanup(&ctx);
    return rc;
}

int twoway_hpke_open_once(const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                          const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                          const uint8_t *enc, size_t enc_len, const uint8_t *aad, size_t aad_len,
                          const uint8_t *ct, size_t ct_len, uint8_t *pt, size_t *pt_len)
{
    struct twoway_hpke_ctx ctx;
    int rc = setup_receiver_into(&ctx, suite, enc, enc_len, recipient, info, info_len, params);
    if (rc != TWOWAY_OK)
        return rc;
    rc = twoway_hpke_open(&ctx, pt, pt_len, aad, aad_len, ct, ct_len);
    ctx_cleanup(&ctx);
    return rc;
}

int twoway_hpke_send_export(const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                            const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                            const uint8_t *exporter_context, size_t exporter_context_len,
                            uint8_t *enc, size_t *enc_len, uint8_t *out, size_t out_len)
{
    struct twoway_hpke_ctx ctx;
    int rc = setup_sender_into(&ctx, enc, enc_len, suite, recipient, info, info_len, params, NULL);
    if (rc != TWOWAY_OK)
        return rc;
    rc = twoway_hpke_export(&ctx, out, out_len, exporter_context, exporter_context_len);
    ctx_cleanup(&ctx);
    return rc;
}

int twoway_hpke_receive_export(const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                               const uint8_t *info, size_t info_len,
                               const twoway_hpke_params *params, const uint8_t *enc, size_t enc_len,
                               const uint8_t *exporter_context, size_t exporter_context_len,
                               uint8_t *out, size_t out_len)
{
    struct twoway_hpke_ctx ctx;
    int rc = setup_receiver_into(&ctx, suite, enc, enc_len, recipient, info, info_len, params);
    if (rc != TWOWAY_OK)
        return rc;
    rc = twoway_hpke_export(&ctx, out, out_len, exporter_context, exporter_context_len);
    ctx_cleanup(&ctx);
    return rc;
}

/* ------------------------------------------------------------- testing */

int twoway_hpke_testing_setup_sender(twoway_hpke_ctx **out, uint8_t *enc, size_t *enc_len,
                                     const twoway_hpke_suite *suite,
                                     const twoway_hpke_key *recipient, const uint8_t *info,
                                     size_t info_len, const twoway_hpke_params *params,
                                     const twoway_hpke_key *ephemeral)
{
    if (ephemeral == NULL)
        return TWOWAY_ERR_ARG;
    return hpke_setup_sender_with(out, enc, enc_len, suite, recipient, info, info_len, params,
                                  ephemeral);
}

void twoway_hpke_testing_set_seq(twoway_hpke_ctx *ctx, uint64_t seq)
{
    ctx->seq = seq;
}

uint64_t twoway_hpke_testing_seq_limit(const twoway_hpke_ctx *ctx)
{
    return ctx->seq_limit;
}
