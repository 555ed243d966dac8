/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sealers: requests (one-to-one and one-to-many) and responses.
 *
 *   request  = hdr || enc || body        body under the HPKE context (seq nonces)
 *   response = response_nonce || body    body under the derived key (counter nonces)
 *   multi    = nonce || body             body under a random 32-byte key K,
 *                                        K sealed to each receiver separately
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "message_internal.h"

static int sealer_alloc(twoway_sealer **out, enum tw_kind kind, const twoway_options *opt)
{
    twoway_sealer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return TWOWAY_ERR_NOMEM;
    int rc = tw_opts_resolve(&s->opts, opt, 1);
    if (rc != TWOWAY_OK) {
        free(s);
        return rc;
    }
    s->kind = kind;
    tw_body_init(&s->body, &s->opts);
    *out = s;
    return TWOWAY_OK;
}

/*
 * SetupBaseS. With a caller's generator, the ephemeral key is
 * DeriveKeyPair(ikmE) of Nsk bytes from it, as twoway (circl) does, so that a
 * given random stream gives the same bytes; otherwise a fresh key pair.
 */
static int setup_sender(twoway_hpke_ctx **hctx, uint8_t *enc, size_t *enc_len,
                        const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                        const uint8_t *info, size_t info_len, const tw_opts *o,
                        const twoway_hpke_key *ephemeral)
{
    twoway_hpke_key *eph = NULL;
    int rc;
    if (ephemeral == NULL && o->rng != NULL && suite->kem->derive != NULL) {
        uint8_t ikm[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
        size_t n = suite->kem->private_key_len;
        if (n == 0 || n > sizeof ikm)
            return TWOWAY_ERR_UNSUPPORTED;
        rc = tw_random(o, ikm, n);
        if (rc == TWOWAY_OK)
            rc = twoway_hpke_key_derive(suite->kem, &eph, ikm, n);
        util_wipe(ikm, sizeof ikm);
        if (rc != TWOWAY_OK)
            return rc;
        ephemeral = eph;
    }
    rc = hpke_setup_sender_with(hctx, enc, enc_len, suite, recipient, info, info_len, NULL,
                                ephemeral);
    twoway_hpke_key_free(eph);
    return rc;
}

/* The request's context for key_id and recipient: hdr || enc into prefix. */
static int encapsulate(const twoway_hpke_suite *suite, uint8_t key_id,
                       const twoway_hpke_key *recipient, const uint8_t *media, size_t media_len,
                       const tw_opts *o, const twoway_hpke_key *ephemeral, uint8_t *prefix,
                       size_t *prefix_len, twoway_context **ctx)
{
    uint8_t *info;
    size_t info_len, enc_len = TWOWAY_HPKE_MAX_ENC_LEN;
    twoway_hpke_ctx *hctx;
    twoway_header h = {key_id, suite->kem->id, suite->kdf->id, suite->aead->id};
    if (suite->aead->seal == NULL)
        return TWOWAY_ERR_STATE; /* export-only: nothing to seal with */
    twoway_header_encode(&h, prefix);
    int rc = tw_info_new(&info, &info_len, media, media_len, prefix);
    if (rc != TWOWAY_OK)
        return rc;
    rc = setup_sender(&hctx, prefix + TWOWAY_HEADER_LEN, &enc_len, suite, recipient, info, info_len,
                      o, ephemeral);
    free(info);
    if (rc != TWOWAY_OK)
        return rc;
    *prefix_len = TWOWAY_HEADER_LEN + enc_len;
    return tw_context_new(ctx, suite, hctx, prefix + TWOWAY_HEADER_LEN, enc_len);
}

static int check_suite(const twoway_hpke_suite *suite)
{
    if (suite == NULL)
        return TWOWAY_ERR_ARG;
    int rc = hpke_suite_check(suite);
    if (rc != TWOWAY_OK)
        return rc;
    return suite->aead->seal == NULL ? TWOWAY_ERR_STATE : TWOWAY_OK;
}

int tw_request_sealer_new(twoway_sealer **out, const twoway_hpke_suite *suite, uint8_t key_id,
                          const twoway_hpke_key *recipient, const uint8_t *media, size_t media_len,
                          const twoway_options *opt, const twoway_hpke_key *ephemeral)
{
    twoway_sealer *s;
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (recipient == NULL || (media == NULL && media_len > 0))
        return TWOWAY_ERR_ARG;
    int rc = check_suite(suite);
    if (rc != TWOWAY_OK)
        return rc;
    if ((rc = sealer_alloc(&s, TW_REQUEST, opt)) != TWOWAY_OK)
        return rc;
    if ((rc = tw_media_check(media, media_len, s->opts.chunked)) != TWOWAY_OK) {
        twoway_sealer_free(s);
        return rc;
    }
    rc = encapsulate(suite, key_id, recipient, media, media_len, &s->opts, ephemeral, s->prefix,
                     &s->prefix_len, &s->ctx);
    if (rc != TWOWAY_OK) {
        twoway_sealer_free(s);
        return rc;
    }
    s->suite = *suite;
    tw_aead_use_hpke(&s->body.aead, s->ctx->hctx);
    *out = s;
    return TWOWAY_OK;
}

int twoway_request_sealer_new(twoway_sealer **out, const twoway_hpke_suite *suite, uint8_t key_id,
                              const twoway_hpke_key *recipient, const uint8_t *media,
                              size_t media_len, const twoway_options *opt)
{
    return tw_request_sealer_new(out, suite, key_id, recipient, media, media_len, opt, NULL);
}

int twoway_request_sealer_new_for_configs(twoway_sealer **out, const uint8_t *configs,
                                          size_t configs_len, int key_id, uint16_t kdf_id,
                                          uint16_t aead_id, const uint8_t *media, size_t media_len,
                                          const twoway_options *opt)
{
    twoway_key_config cfg;
    twoway_hpke_suite suite;
    twoway_hpke_key *pub = NULL;
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    int rc = twoway_key_configs_select(&cfg, &suite, configs, configs_len, key_id, kdf_id, aead_id);
    if (rc == TWOWAY_OK)
        rc = twoway_hpke_key_import_public(suite.kem, &pub, cfg.public_key, cfg.public_key_len);
    if (rc == TWOWAY_OK)
        rc = twoway_request_sealer_new(out, &suite, cfg.key_id, pub, media, media_len, opt);
    twoway_hpke_key_free(pub); /* the sealer keeps only what it derived */
    return rc;
}

int twoway_response_sealer_new(twoway_sealer **out, const twoway_context *ctx, const uint8_t *media,
                               size_t media_len, const twoway_options *opt)
{
    twoway_sealer *s;
    uint8_t secret[TWOWAY_MAX_RESPONSE_NONCE_LEN];
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (ctx == NULL || (media == NULL && media_len > 0))
        return TWOWAY_ERR_ARG;
    if (!ctx->usable)
        return TWOWAY_ERR_STATE; /* the request is not authenticated */
    size_t L = tw_response_nonce_len(&ctx->suite);
    if (L > TWOWAY_MAX_RESPONSE_NONCE_LEN)
        return TWOWAY_ERR_UNSUPPORTED;
    int rc = sealer_alloc(&s, TW_RESPONSE, opt);
    if (rc == TWOWAY_OK && (rc = tw_media_check(media, media_len, s->opts.chunked)) != TWOWAY_OK)
        twoway_sealer_free(s);
    if (rc != TWOWAY_OK)
        return rc;
    s->suite = ctx->suite;
    rc = tw_random(&s->opts, s->prefix, L);
    if (rc == TWOWAY_OK)
        rc = tw_context_response_secret(ctx, media, media_len, secret, L);
    if (rc == TWOWAY_OK)
        rc = tw_response_aead(&s->body.aead, &ctx->suite, secret, L, ctx->enc, ctx->enc_len,
                              s->prefix);
    util_wipe(secret, sizeof secret);
    if (rc != TWOWAY_OK) {
        twoway_sealer_free(s);
        return rc;
    }
    s->prefix_len = L;
    *out = s;
    return TWOWAY_OK;
}

int twoway_multi_request_sealer_new(twoway_sealer **out, const twoway_hpke_suite *suite,
                                    const uint8_t *media, size_t media_len,
                                    const twoway_options *opt)
{
    twoway_sealer *s;
    const twoway_hpke_aead *body_aead;
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (media == NULL && media_len > 0)
        return TWOWAY_ERR_ARG;
    int rc = check_suite(suite);
    if (rc != TWOWAY_OK)
        return rc;
    if ((rc = tw_multi_body_aead(&body_aead, suite->aead, TWOWAY_MULTI_KEY_LEN)) != TWOWAY_OK)
        return rc;
    if ((rc = sealer_alloc(&s, TW_MULTI, opt)) != TWOWAY_OK)
        return rc;
    s->suite = *suite;
    s->media = malloc(media_len ? media_len : 1);
    if (s->media == NULL) {
        twoway_sealer_free(s);
        return TWOWAY_ERR_NOMEM;
    }
    if (media_len > 0)
        memcpy(s->media, media, media_len);
    s->media_len = media_len;
    /* twoway's order: the key, then the nonce (docs/TWOWAY.md, one-to-many) */
    s->prefix_len = suite->aead->nonce_len;
    rc = tw_random(&s->opts, s->multi_key, TWOWAY_MULTI_KEY_LEN);
    if (rc == TWOWAY_OK && s->prefix_len != body_aead->nonce_len)
        rc = TWOWAY_ERR_UNSUPPORTED;
    if (rc == TWOWAY_OK)
        rc = tw_random(&s->opts, s->prefix, s->prefix_len);
    if (rc == TWOWAY_OK)
        rc = tw_aead_init_counter(&s->body.aead, body_aead, s->multi_key, s->prefix);
    if (rc != TWOWAY_OK) {
        twoway_sealer_free(s);
        return rc;
    }
    *out = s;
    return TWOWAY_OK;
}

int tw_multi_encapsulate(twoway_sealer *s, uint8_t key_id, const twoway_hpke_key *recipient,
                         uint8_t *out, size_t *out_len, twoway_context **ctx,
                         const twoway_hpke_key *ephemeral)
{
    static const uint8_t aad[] = TW_MULTI_ENCAP_AAD;
    uint8_t prefix[TW_MAX_PREFIX_LEN];
    size_t prefix_len;
    twoway_context *c;
    if (ctx != NULL)
        *ctx = NULL;
    if (s == NULL || recipient == NULL || out_len == NULL || ctx == NULL)
        return TWOWAY_ERR_ARG;
    if (s->kind != TW_MULTI)
        return TWOWAY_ERR_STATE;
    size_t tag = s->suite.aead->tag_len;
    size_t need = TWOWAY_HEADER_LEN + s->suite.kem->enc_len + TWOWAY_MULTI_KEY_LEN + tag;
    if (out == NULL || *out_len < need) {
        *out_len = need;
        return TWOWAY_ERR_BUFFER;
    }
    int rc = encapsulate(&s->suite, key_id, recipient, s->media, s->media_len, &s->opts, ephemeral,
                         prefix, &prefix_len, &c);
    if (rc != TWOWAY_OK)
        return rc;
    size_t n = TWOWAY_MULTI_KEY_LEN + tag;
    rc = twoway_hpke_seal(c->hctx, out + prefix_len, &n, aad, sizeof aad - 1, s->multi_key,
                          TWOWAY_MULTI_KEY_LEN);
    if (rc != TWOWAY_OK) {
        twoway_context_free(c);
        return rc;
    }
    memcpy(out, prefix, prefix_len);
    *out_len = prefix_len + n;
    *ctx = c;
    return TWOWAY_OK;
}

int twoway_multi_encapsulate(twoway_sealer *s, uint8_t key_id, const twoway_hpke_key *recipient,
                             uint8_t *out, size_t *out_len, twoway_context **ctx)
{
    return tw_multi_encapsulate(s, key_id, recipient, out, out_len, ctx, NULL);
}

size_t twoway_sealer_max_output(const twoway_sealer *s, size_t pt_len)
{
    if (s == NULL)
        return 0;
    size_t n = tw_body_seal_bound(&s->body, pt_len, 1), r;
    if (util_add_overflow(n, s->prefix_len - s->prefix_sent, &r))
        return SIZE_MAX;
    return r;
}

static int sealer_write(twoway_sealer *s, uint8_t *out, size_t *out_len, const uint8_t *pt,
                        size_t pt_len, int final)
{
    if (s == NULL || out_len == NULL || (pt == NULL && pt_len > 0))
        return TWOWAY_ERR_ARG;
    if (s->failed || s->finished || (!final && !s->body.chunked)) {
        /* an unchunked body is one AEAD: only final seals it */
        *out_len = 0;
        return TWOWAY_ERR_STATE;
    }
    size_t pending = s->prefix_len - s->prefix_sent;
    size_t need = tw_body_seal_bound(&s->body, pt_len, final), w;
    if (need == SIZE_MAX || util_add_overflow(need, pending, &need))
        return TWOWAY_ERR_ARG;
    if (out == NULL || *out_len < need) {
        *out_len = need;
        return TWOWAY_ERR_BUFFER;
    }
    /* the output is laid out ahead of the plaintext: they must not overlap */
    if (tw_overlap(out, need, pt, pt_len))
        return TWOWAY_ERR_ARG;
    memcpy(out, s->prefix + s->prefix_sent, pending);
    int rc = tw_body_seal(&s->body, out + pending, &w, pt, pt_len, final);
    if (rc != TWOWAY_OK) {
        /* a used nonce cannot be taken back: the sealer is done for */
        s->failed = 1;
        util_wipe(out, pending);
        *out_len = 0;
        return rc;
    }
    s->prefix_sent = s->prefix_len;
    s->finished = final;
    *out_len = pending + w;
    return TWOWAY_OK;
}

int twoway_sealer_update(twoway_sealer *s, uint8_t *out, size_t *out_len, const uint8_t *pt,
                         size_t pt_len)
{
    return sealer_write(s, out, out_len, pt, pt_len, 0);
}

int twoway_sealer_final(twoway_sealer *s, uint8_t *out, size_t *out_len, const uint8_t *pt,
                        size_t pt_len)
{
    return sealer_write(s, out, out_len, pt, pt_len, 1);
}

const twoway_context *twoway_sealer_context(const twoway_sealer *s)
{
    return s != NULL && s->kind == TW_REQUEST ? s->ctx : NULL;
}

void twoway_sealer_free(twoway_sealer *s)
{
    if (s == NULL)
        return;
    tw_body_clear(&s->body);
    twoway_context_free(s->ctx);
    free(s->media);
    tw_pull_clear(&s->pull);
    util_wipe(s, sizeof *s);
    free(s);
}
