/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A request's context and the response keys derived from it
 * (docs/TWOWAY.md, RFC 9458 §4.4):
 *
 *   L      = max(Nn, Nk)
 *   secret = Export(response_media_type, L)
 *   prk    = HKDF-Extract(salt = enc || response_nonce, secret)
 *   key    = HKDF-Expand(prk, "key", Nk);  nonce = HKDF-Expand(prk, "nonce", Nn)
 *
 * Also the saved form of a context (for the CLI) and the one-to-many body
 * AEAD choice.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "message_internal.h"

int tw_context_new(twoway_context **out, const twoway_hpke_suite *suite, twoway_hpke_ctx *hctx,
                   const uint8_t *enc, size_t enc_len)
{
    *out = NULL;
    twoway_context *c = calloc(1, sizeof *c);
    if (c == NULL || enc_len > sizeof c->enc) {
        free(c);
        twoway_hpke_ctx_free(hctx);
        return c == NULL ? TWOWAY_ERR_NOMEM : TWOWAY_ERR_ARG;
    }
    c->suite = *suite;
    c->hctx = hctx;
    c->usable = 1;
    memcpy(c->enc, enc, enc_len);
    c->enc_len = enc_len;
    *out = c;
    return TWOWAY_OK;
}

void twoway_context_free(twoway_context *ctx)
{
    if (ctx == NULL)
        return;
    twoway_hpke_ctx_free(ctx->hctx);
    free(ctx->media);
    util_wipe(ctx, sizeof *ctx);
    free(ctx);
}

const uint8_t *twoway_context_response_media_type(const twoway_context *ctx, size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (ctx == NULL || ctx->hctx != NULL || len == NULL)
        return NULL;
    *len = ctx->media_len;
    return ctx->media;
}

const twoway_hpke_suite *twoway_context_suite(const twoway_context *ctx)
{
    return ctx == NULL ? NULL : &ctx->suite;
}

size_t tw_response_nonce_len(const twoway_hpke_suite *suite)
{
    size_t nn = suite->aead->nonce_len, nk = suite->aead->key_len;
    return nn > nk ? nn : nk;
}

int tw_context_response_secret(const twoway_context *ctx, const uint8_t *media, size_t media_len,
                               uint8_t *secret, size_t secret_len)
{
    if (ctx->hctx != NULL)
        return twoway_hpke_export(ctx->hctx, secret, secret_len, media, media_len);
    /* a loaded context knows one media type's secret */
    if (media_len != ctx->media_len || (media_len > 0 && memcmp(media, ctx->media, media_len)) ||
        secret_len != ctx->secret_len)
        return TWOWAY_ERR_ARG;
    memcpy(secret, ctx->secret, secret_len);
    return TWOWAY_OK;
}

int tw_response_aead(tw_aead *a, const twoway_hpke_suite *suite, const uint8_t *secret,
                     size_t secret_len, const uint8_t *enc, size_t enc_len,
                     const uint8_t *response_nonce)
{
    const twoway_hpke_kdf *kdf = suite->kdf;
    const twoway_hpke_aead *aead = suite->aead;
    size_t nonce_len = secret_len; /* L */
    uint8_t salt[TWOWAY_HPKE_MAX_ENC_LEN + TWOWAY_MAX_RESPONSE_NONCE_LEN];
    uint8_t prk[TWOWAY_HPKE_MAX_SECRET_LEN];
    uint8_t key[TWOWAY_HPKE_MAX_AEAD_KEY_LEN], nonce[TWOWAY_HPKE_MAX_NONCE_LEN];
    static const uint8_t key_label[] = {'k', 'e', 'y'};
    static const uint8_t nonce_label[] = {'n', 'o', 'n', 'c', 'e'};
    if (enc_len > TWOWAY_HPKE_MAX_ENC_LEN || nonce_len > TWOWAY_MAX_RESPONSE_NONCE_LEN ||
        aead->key_len > sizeof key || aead->nonce_len > sizeof nonce)
        return TWOWAY_ERR_ARG;
    memcpy(salt, enc, enc_len);
    memcpy(salt + enc_len, response_nonce, nonce_len);
    twoway_hpke_slice ikm = {secret, secret_len};
    twoway_hpke_slice kl = {key_label, sizeof key_label};
    twoway_hpke_slice nl = {nonce_label, sizeof nonce_label};
    hpke_expand_job jobs[2] = {{key, aead->key_len, &kl, 1}, {nonce, aead->nonce_len, &nl, 1}};
    int rc = kdf->extract(kdf, prk, salt, enc_len + nonce_len, &ikm, 1);
    if (rc == TWOWAY_OK)
        rc = hpke_expand_many(kdf, prk, kdf->hash_len, jobs, 2);
    if (rc == TWOWAY_OK)
        rc = tw_aead_init_counter(a, aead, key, nonce);
    util_wipe(prk, sizeof prk);
    util_wipe(key, sizeof key);
    util_wipe(nonce, sizeof nonce);
    return rc;
}

int tw_multi_body_aead(const twoway_hpke_aead **out, const twoway_hpke_aead *suite_aead,
                       size_t key_len)
{
    /* twoway makes the body cipher from the key length: Go's aes.NewCipher
     * picks AES-256 for a 32-byte key even when the suite says AES-128. */
    switch (suite_aead->id) {
    case TWOWAY_HPKE_AEAD_AES_128_GCM:
    case TWOWAY_HPKE_AEAD_AES_256_GCM:
        if (key_len == 32)
            *out = twoway_hpke_aead_by_id(TWOWAY_HPKE_AEAD_AES_256_GCM);
        else if (key_len == 16)
            *out = twoway_hpke_aead_by_id(TWOWAY_HPKE_AEAD_AES_128_GCM);
        else
            return TWOWAY_ERR_UNSUPPORTED;
        return TWOWAY_OK;
    case TWOWAY_HPKE_AEAD_CHACHA20_POLY1305:
        if (key_len != 32)
            return TWOWAY_ERR_UNSUPPORTED;
        *out = twoway_hpke_aead_by_id(TWOWAY_HPKE_AEAD_CHACHA20_POLY1305);
        return TWOWAY_OK;
    default:
        /* a custom AEAD with a 32-byte key is used as it is */
        if (suite_aead->key_len != key_len || suite_aead->seal == NULL)
            return TWOWAY_ERR_UNSUPPORTED;
        *out = suite_aead;
        return TWOWAY_OK;
    }
}

/* ------------------------------------------------------------ saved form */

/*
 * "TWC1" || kem(2) || kdf(2) || aead(2) || enc_len(2) || enc || L(1) ||
 * secret(L) || media_len(2) || media
 */
static const uint8_t blob_magic[4] = {'T', 'W', 'C', '1'};
#define TW_BLOB_MAX_MEDIA 4096u

int twoway_context_save(const twoway_context *ctx, const uint8_t *media, size_t media_len,
                        uint8_t *out, size_t *out_len)
{
    if (ctx == NULL || out_len == NULL || (media == NULL && media_len > 0) ||
        media_len > TW_BLOB_MAX_MEDIA)
        return TWOWAY_ERR_ARG;
    if (!ctx->usable)
        return TWOWAY_ERR_STATE;
    size_t L = tw_response_nonce_len(&ctx->suite);
    size_t need = 4 + 6 + 2 + ctx->enc_len + 1 + L + 2 + media_len;
    if (out == NULL || *out_len < need) {
        *out_len = need;
        return TWOWAY_ERR_BUFFER;
    }
    uint8_t secret[TWOWAY_MAX_RESPONSE_NONCE_LEN];
    int rc = tw_context_response_secret(ctx, media, media_len, secret, L);
    if (rc != TWOWAY_OK) {
        util_wipe(secret, sizeof secret);
        return rc;
    }
    uint8_t *p = out;
    memcpy(p, blob_magic, 4);
    util_store16_be(p + 4, ctx->suite.kem->id);
    util_store16_be(p + 6, ctx->suite.kdf->id);
    util_store16_be(p + 8, ctx->suite.aead->id);
    util_store16_be(p + 10, (uint16_t)ctx->enc_len);
    p += 12;
    memcpy(p, ctx->enc, ctx->enc_len);
    p += ctx->enc_len;
    *p++ = (uint8_t)L;
    memcpy(p, secret, L);
    p += L;
    util_store16_be(p, (uint16_t)media_len);
    p += 2;
    if (media_len > 0)
        memcpy(p, media, media_len);
    util_wipe(secret, sizeof secret);
    *out_len = need;
    return TWOWAY_OK;
}

int twoway_context_load(twoway_context **out, const uint8_t *blob, size_t blob_len)
{
    twoway_hpke_suite suite;
    if (out == NULL || (blob == NULL && blob_len > 0))
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (blob_len < 12 || memcmp(blob, blob_magic, 4) != 0)
        return TWOWAY_ERR_FORMAT;
    int rc = twoway_hpke_suite_from_ids(&suite, util_load16_be(blob + 4), util_load16_be(blob + 6),
                                        util_load16_be(blob + 8));
    if (rc != TWOWAY_OK)
        return rc;
    if (suite.aead->seal == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    size_t enc_len = util_load16_be(blob + 10), L = tw_response_nonce_len(&suite);
    size_t off = 12;
    if (enc_len != suite.kem->enc_len || blob_len - off < enc_len + 1 + L + 2 ||
        blob[off + enc_len] != L)
        return TWOWAY_ERR_FORMAT;
    const uint8_t *enc = blob + off;
    off += enc_len + 1;
    const uint8_t *secret = blob + off;
    off += L;
    size_t media_len = util_load16_be(blob + off);
    off += 2;
    if (media_len != blob_len - off || media_len > TW_BLOB_MAX_MEDIA)
        return TWOWAY_ERR_FORMAT;
    twoway_context *c;
    rc = tw_context_new(&c, &suite, NULL, enc, enc_len);
    if (rc != TWOWAY_OK)
        return rc;
    c->media = malloc(media_len ? media_len : 1);
    if (c->media == NULL) {
        twoway_context_free(c);
        return TWOWAY_ERR_NOMEM;
    }
    if (media_len > 0)
        memcpy(c->media, blob + off, media_len);
    c->media_len = media_len;
    memcpy(c->secret, secret, L);
    c->secret_len = L;
    *out = c;
    return TWOWAY_OK;
}
