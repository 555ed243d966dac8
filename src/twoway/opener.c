/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Openers: requests (one-to-one and one-to-many) and responses. The prefix
 * (hdr || enc, the response nonce, the multi nonce) is gathered from the
 * input first, in at most TW_MAX_PREFIX_LEN bytes; then the body engine
 * (body.c) takes over.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "keyring_internal.h"
#include "message_internal.h"

static int opener_alloc(twoway_opener **out, enum tw_kind kind, const twoway_options *opt)
{
    twoway_opener *o = calloc(1, sizeof *o);
    if (o == NULL)
        return TWOWAY_ERR_NOMEM;
    int rc = tw_opts_resolve(&o->opts, opt, 0);
    if (rc != TWOWAY_OK) {
        free(o);
        return rc;
    }
    o->kind = kind;
    tw_body_init(&o->body, &o->opts);
    *out = o;
    return TWOWAY_OK;
}

static int copy_media(twoway_opener *o, const uint8_t *media, size_t media_len)
{
    o->media = malloc(media_len ? media_len : 1);
    if (o->media == NULL)
        return TWOWAY_ERR_NOMEM;
    if (media_len > 0)
        memcpy(o->media, media, media_len);
    o->media_len = media_len;
    return TWOWAY_OK;
}

int twoway_request_opener_new(twoway_opener **out, const twoway_keyring *ring, const uint8_t *media,
                              size_t media_len, const twoway_options *opt)
{
    twoway_opener *o;
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (ring == NULL || (media == NULL && media_len > 0) ||
        media_len > TWOWAY_HPKE_MAX_INPUT_LEN - 1 - TWOWAY_HEADER_LEN)
        return TWOWAY_ERR_ARG;
    int rc = opener_alloc(&o, TW_REQUEST, opt);
    if (rc == TWOWAY_OK && ((rc = tw_media_check(media, media_len, o->opts.chunked)) != TWOWAY_OK ||
                            (rc = copy_media(o, media, media_len)) != TWOWAY_OK))
        twoway_opener_free(o);
    if (rc != TWOWAY_OK)
        return rc;
    o->ring = ring;
    o->prefix_need = TWOWAY_HEADER_LEN; /* then enc, once the suite is known */
    *out = o;
    return TWOWAY_OK;
}

int twoway_response_opener_new(twoway_opener **out, const twoway_context *ctx, const uint8_t *media,
                               size_t media_len, const twoway_options *opt)
{
    twoway_opener *o;
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (ctx == NULL || (media == NULL && media_len > 0))
        return TWOWAY_ERR_ARG;
    size_t L = tw_response_nonce_len(&ctx->suite);
    if (L > TWOWAY_MAX_RESPONSE_NONCE_LEN)
        return TWOWAY_ERR_UNSUPPORTED;
    int rc = opener_alloc(&o, TW_RESPONSE, opt);
    if (rc == TWOWAY_OK && (rc = tw_media_check(media, media_len, o->opts.chunked)) != TWOWAY_OK)
        twoway_opener_free(o);
    if (rc != TWOWAY_OK)
        return rc;
    /* The secret is exported now, so that the request's objects may go. */
    rc = tw_context_response_secret(ctx, media, media_len, o->secret, L);
    if (rc != TWOWAY_OK) {
        twoway_opener_free(o);
        return rc;
    }
    o->suite = ctx->suite;
    o->secret_len = L;
    memcpy(o->enc, ctx->enc, ctx->enc_len);
    o->enc_len = ctx->enc_len;
    o->prefix_need = L;
    *out = o;
    return TWOWAY_OK;
}

/* Keeps the 7 header bytes at p for twoway_opener_header(). */
static void header_keep(twoway_opener *o, const uint8_t *p)
{
    o->hdr.key_id = p[0];
    o->hdr.kem_id = util_load16_be(p + 1);
    o->hdr.kdf_id = util_load16_be(p + 3);
    o->hdr.aead_id = util_load16_be(p + 5);
    o->hdr_read = 1;
}

/* hdr || enc || Seal(aad = "multi-encap-key", K) → the context and K. */
static int decapsulate_multi(twoway_opener *o, const uint8_t *ek, size_t ek_len)
{
    static const uint8_t aad[] = TW_MULTI_ENCAP_AAD;
    twoway_hpke_suite suite;
    twoway_hpke_ctx *hctx;
    uint8_t *info;
    size_t info_len;
    uint8_t key[TWOWAY_MULTI_KEY_LEN + TWOWAY_HPKE_MAX_TAG_LEN];
    if (ek_len < TWOWAY_HEADER_LEN)
        return TWOWAY_ERR_HEADER;
    header_keep(o, ek);
    int rc = tw_keyring_lookup(o->ring, ek, &suite);
    if (rc != TWOWAY_OK)
        return rc;
    size_t enc_len = suite.kem->enc_len, tag = suite.aead->tag_len;
    if (ek_len - TWOWAY_HEADER_LEN < enc_len)
        return TWOWAY_ERR_TRUNCATED;
    const uint8_t *enc = ek + TWOWAY_HEADER_LEN, *ct = enc + enc_len;
    size_t ct_len = ek_len - TWOWAY_HEADER_LEN - enc_len;
    /* The sealed key is 16 or 32 bytes (twoway senders always use 32). */
    if (ct_len < tag || ct_len - tag > TWOWAY_MULTI_KEY_LEN)
        return ct_len < tag ? TWOWAY_ERR_TRUNCATED : TWOWAY_ERR_AUTH;
    if ((rc = tw_info_new(&info, &info_len, o->media, o->media_len, ek)) != TWOWAY_OK)
        return rc;
    rc = tw_keyring_setup_receiver(o->ring, ek, enc, enc_len, info, info_len, &hctx, &suite);
    free(info);
    if (rc != TWOWAY_OK)
        return rc;
    size_t key_len = ct_len - tag;
    rc = twoway_hpke_open(hctx, key, &key_len, aad, sizeof aad - 1, ct, ct_len);
    if (rc == TWOWAY_OK)
        rc = tw_multi_body_aead(&o->multi_aead, suite.aead, key_len);
    if (rc != TWOWAY_OK) {
        util_wipe(key, sizeof key);
        twoway_hpke_ctx_free(hctx);
        return rc;
    }
    memcpy(o->multi_key, key, key_len);
    o->multi_key_len = key_len;
    util_wipe(key, sizeof key);
    o->suite = suite;
    rc = tw_context_new(&o->ctx, &suite, hctx, enc, enc_len);
    if (rc == TWOWAY_OK) {
        o->ctx->usable = 0; /* until some of the body authenticates */
        o->prefix_need = o->multi_aead->nonce_len;
    }
    return rc;
}

int twoway_multi_request_opener_new(twoway_opener **out, const twoway_keyring *ring,
                                    const uint8_t *media, size_t media_len,
                                    const uint8_t *encapsulated_key, size_t encapsulated_key_len,
                                    const twoway_options *opt)
{
    twoway_opener *o;
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (ring == NULL || (media == NULL && media_len > 0) ||
        (encapsulated_key == NULL && encapsulated_key_len > 0) ||
        media_len > TWOWAY_HPKE_MAX_INPUT_LEN - 1 - TWOWAY_HEADER_LEN)
        return TWOWAY_ERR_ARG;
    int rc = opener_alloc(&o, TW_MULTI, opt);
    if (rc != TWOWAY_OK)
        return rc;
    o->ring = ring;
    rc = copy_media(o, media, media_len);
    if (rc == TWOWAY_OK)
        rc = decapsulate_multi(o, encapsulated_key, encapsulated_key_len);
    if (rc != TWOWAY_OK) {
        twoway_opener_free(o);
        return rc;
    }
    *out = o;
    return TWOWAY_OK;
}

/* The prefix is complete: set up the body's AEAD. */
static int finish_prefix(twoway_opener *o)
{
    int rc;
    switch (o->kind) {
    case TW_REQUEST: {
        twoway_hpke_ctx *hctx;
        twoway_hpke_suite suite;
        uint8_t *info;
        size_t info_len;
        rc = tw_info_new(&info, &info_len, o->media, o->media_len, o->prefix);
        if (rc != TWOWAY_OK)
            return rc;
        rc = tw_keyring_setup_receiver(o->ring, o->prefix, o->prefix + TWOWAY_HEADER_LEN,
                                       o->prefix_need - TWOWAY_HEADER_LEN, info, info_len, &hctx,
                                       &suite);
        free(info);
        /* the ring changed between the header and enc: a different entry */
        if (rc == TWOWAY_OK && suite.kem->enc_len != o->prefix_need - TWOWAY_HEADER_LEN) {
            twoway_hpke_ctx_free(hctx);
            rc = TWOWAY_ERR_KEY_MISMATCH;
        }
        if (rc != TWOWAY_OK)
            return rc;
        rc = tw_context_new(&o->ctx, &suite, hctx, o->prefix + TWOWAY_HEADER_LEN,
                            suite.kem->enc_len);
        if (rc != TWOWAY_OK)
            return rc;
        o->ctx->usable = 0; /* until some of the body authenticates */
        o->suite = suite;
        tw_aead_use_hpke(&o->body.aead, o->ctx->hctx);
        return TWOWAY_OK;
    }
    case TW_RESPONSE:
        rc = tw_response_aead(&o->body.aead, &o->suite, o->secret, o->secret_len, o->enc,
                              o->enc_len, o->prefix);
        util_wipe(o->secret, sizeof o->secret);
        return rc;
    case TW_MULTI:
        rc = tw_aead_init_counter(&o->body.aead, o->multi_aead, o->multi_key, o->prefix);
        util_wipe(o->multi_key, sizeof o->multi_key);
        return rc;
    }
    return TWOWAY_ERR_STATE;
}

/* Takes prefix bytes from *in; sets o->prefix_done when complete. */
static int read_prefix(twoway_opener *o, const uint8_t **in, size_t *in_len)
{
    while (!o->prefix_done && *in_len > 0) {
        size_t n = o->prefix_need - o->prefix_have;
        if (n > *in_len)
            n = *in_len;
        memcpy(o->prefix + o->prefix_have, *in, n);
        o->prefix_have += n;
        *in += n;
        *in_len -= n;
        if (o->prefix_have < o->prefix_need)
            break;
        if (o->kind == TW_REQUEST && o->prefix_need == TWOWAY_HEADER_LEN) {
            /* the header: find the key, which gives the length of enc (the
             * header is kept even when no key matches: a server logs it) */
            twoway_hpke_suite suite;
            header_keep(o, o->prefix);
            int rc = tw_keyring_lookup(o->ring, o->prefix, &suite);
            if (rc != TWOWAY_OK)
                return rc;
            if (suite.kem->enc_len > TWOWAY_HPKE_MAX_ENC_LEN)
                return TWOWAY_ERR_UNSUPPORTED;
            o->prefix_need += suite.kem->enc_len;
            continue;
        }
        int rc = finish_prefix(o);
        if (rc != TWOWAY_OK)
            return rc;
        o->prefix_done = 1;
    }
    return TWOWAY_OK;
}

size_t twoway_opener_max_output(const twoway_opener *o, size_t in_len)
{
    return o == NULL ? 0 : tw_body_open_bound(&o->body, in_len, 1);
}

static int opener_feed(twoway_opener *o, uint8_t *out, size_t *out_len, const uint8_t *in,
                       size_t in_len, int final)
{
    if (o == NULL || out_len == NULL || (in == NULL && in_len > 0))
        return TWOWAY_ERR_ARG;
    if (o->failed || o->finished) {
        *out_len = 0;
        return TWOWAY_ERR_STATE;
    }
    size_t need = tw_body_open_bound(&o->body, in_len, final), w = 0;
    if (need > 0 && (out == NULL || *out_len < need)) {
        *out_len = need;
        return TWOWAY_ERR_BUFFER;
    }
    if (tw_overlap(out, need, in, in_len))
        return TWOWAY_ERR_ARG;
    int rc = read_prefix(o, &in, &in_len);
    if (rc == TWOWAY_OK && final && !o->prefix_done) {
        /* the message ended inside its prefix */
        rc = o->kind == TW_REQUEST && o->prefix_have < TWOWAY_HEADER_LEN ? TWOWAY_ERR_HEADER
                                                                         : TWOWAY_ERR_TRUNCATED;
    }
    if (rc == TWOWAY_OK && o->prefix_done && (in_len > 0 || final))
        rc = tw_body_open(&o->body, out, &w, in, in_len, final);
    if (rc != TWOWAY_OK) {
        o->failed = 1;
        if (o->ctx != NULL)
            o->ctx->usable = 0; /* no response to a broken request */
        *out_len = 0;
        return rc;
    }
    /* responses may be bound to the request once some of it authenticated */
    if (o->ctx != NULL && o->body.opened > 0)
        o->ctx->usable = 1;
    o->finished = final;
    *out_len = w;
    return TWOWAY_OK;
}

int twoway_opener_update(twoway_opener *o, uint8_t *out, size_t *out_len, const uint8_t *in,
                         size_t in_len)
{
    return opener_feed(o, out, out_len, in, in_len, 0);
}

int twoway_opener_final(twoway_opener *o, uint8_t *out, size_t *out_len, const uint8_t *in,
                        size_t in_len)
{
    return opener_feed(o, out, out_len, in, in_len, 1);
}

int twoway_opener_header(const twoway_opener *o, twoway_header *hdr)
{
    if (o == NULL || hdr == NULL)
        return TWOWAY_ERR_ARG;
    if (o->kind == TW_RESPONSE || !o->hdr_read)
        return TWOWAY_ERR_STATE;
    *hdr = o->hdr;
    return TWOWAY_OK;
}

uint64_t twoway_opener_authenticated(const twoway_opener *o)
{
    return o == NULL ? 0 : o->body.opened;
}

const twoway_context *twoway_opener_context(const twoway_opener *o)
{
    return o != NULL && !o->failed && o->ctx != NULL && o->ctx->usable ? o->ctx : NULL;
}

void twoway_opener_free(twoway_opener *o)
{
    if (o == NULL)
        return;
    tw_body_clear(&o->body);
    twoway_context_free(o->ctx);
    free(o->media);
    tw_pull_clear(&o->pull);
    util_wipe(o, sizeof *o);
    free(o);
}
