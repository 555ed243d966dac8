/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A message body: its AEAD (per-chunk nonces) and the chunk framing of
 * draft-ietf-ohai-chunked-ohttp (QUIC varint lengths, a final chunk with
 * length 0 and AAD "final" that runs to the end of the stream).
 *
 * The opener is a byte-at-a-time state machine with one bounded buffer (a
 * chunk): a chunk that arrives whole in the input is opened straight from
 * it, without a copy.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "message_internal.h"

static const uint8_t final_aad[] = {'f', 'i', 'n', 'a', 'l'};

/* -------------------------------------------------------------------- AEAD */

void tw_aead_use_hpke(tw_aead *a, twoway_hpke_ctx *hctx)
{
    memset(a, 0, sizeof *a);
    a->hctx = hctx;
    a->aead = twoway_hpke_ctx_suite(hctx)->aead;
}

int tw_aead_init_counter(tw_aead *a, const twoway_hpke_aead *aead, const uint8_t *key,
                         const uint8_t *nonce)
{
    memset(a, 0, sizeof *a);
    if (aead->seal == NULL || aead->open == NULL || aead->init == NULL ||
        aead->nonce_len > TWOWAY_HPKE_MAX_NONCE_LEN || aead->nonce_len == 0)
        return TWOWAY_ERR_STATE;
    int rc = aead->init(aead, &a->state, key);
    if (rc != TWOWAY_OK) {
        a->state = NULL;
        return rc;
    }
    a->aead = aead;
    memcpy(a->base_nonce, nonce, aead->nonce_len);
    /* The counter may not reach 2^(8 Nn) - 1 (twoway, chunked-08 §6.2), nor
     * wrap a uint64_t. */
    a->limit = aead->nonce_len >= 8 ? UINT64_MAX : (((uint64_t)1 << (8 * aead->nonce_len)) - 1);
    return TWOWAY_OK;
}

size_t tw_aead_tag_len(const tw_aead *a)
{
    return a->aead->tag_len;
}

static void counter_nonce(const tw_aead *a, uint8_t *nonce)
{
    size_t nn = a->aead->nonce_len;
    uint64_t c = a->counter;
    memcpy(nonce, a->base_nonce, nn);
    for (size_t i = 0; i < nn && i < 8; i++) {
        nonce[nn - 1 - i] ^= (uint8_t)c;
        c >>= 8;
    }
}

int tw_aead_seal(tw_aead *a, uint8_t *ct, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                 size_t pt_len)
{
    size_t n = pt_len + a->aead->tag_len;
    if (a->hctx != NULL)
        return twoway_hpke_seal(a->hctx, ct, &n, aad, aad_len, pt, pt_len);
    if (a->counter >= a->limit)
        return TWOWAY_ERR_LIMIT;
    uint8_t nonce[TWOWAY_HPKE_MAX_NONCE_LEN];
    counter_nonce(a, nonce);
    int rc = a->aead->seal(a->state, ct, nonce, aad, aad_len, pt, pt_len);
    a->counter++;
    if (rc != TWOWAY_OK)
        util_wipe(ct, n);
    return rc;
}

int tw_aead_open(tw_aead *a, uint8_t *pt, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                 size_t ct_len)
{
    if (ct_len < a->aead->tag_len)
        return TWOWAY_ERR_AUTH;
    if (a->hctx != NULL) {
        size_t n = ct_len - a->aead->tag_len;
        return twoway_hpke_open(a->hctx, pt, &n, aad, aad_len, ct, ct_len);
    }
    if (a->counter >= a->limit)
        return TWOWAY_ERR_LIMIT;
    uint8_t nonce[TWOWAY_HPKE_MAX_NONCE_LEN];
    counter_nonce(a, nonce);
    int rc = a->aead->open(a->state, pt, nonce, aad, aad_len, ct, ct_len);
    if (rc == TWOWAY_OK)
        a->counter++;
    else
        util_wipe(pt, ct_len - a->aead->tag_len); /* whatever a custom table left */
    return rc;
}

void tw_aead_clear(tw_aead *a)
{
    if (a->state != NULL && a->aead != NULL)
        a->aead->free(a->state);
    util_wipe(a, sizeof *a);
}

/* ------------------------------------------------------------------ varint */

size_t tw_varint_len(uint64_t v)
{
    if (v < 64)
        return 1;
    if (v < 16384)
        return 2;
    if (v < ((uint64_t)1 << 30))
        return 4;
    if (v < ((uint64_t)1 << 62))
        return 8;
    return 0;
}

size_t tw_varint_put(uint8_t *out, uint64_t v)
{
    size_t n = tw_varint_len(v);
    static const uint8_t tag[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
    for (size_t i = 0; i < n; i++)
        out[n - 1 - i] = (uint8_t)(v >> (8 * i));
    out[0] |= tag[n];
    return n;
}

/* -------------------------------------------------------------------- body */

void tw_body_init(tw_body *b, const tw_opts *o)
{
    memset(b, 0, sizeof *b);
    b->chunked = o->chunked;
    b->max_chunk_len = o->max_chunk_len;
    b->max_message_len = o->max_message_len;
    b->st = o->chunked ? TW_BODY_LEN : TW_BODY_WHOLE;
}

void tw_body_clear(tw_body *b)
{
    tw_aead_clear(&b->aead);
    if (b->buf != NULL) {
        util_wipe(b->buf, b->cap);
        free(b->buf);
    }
    util_wipe(b, sizeof *b);
}

/* a + b, saturating at SIZE_MAX */
static size_t sat_add(size_t a, size_t b)
{
    size_t r;
    return util_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

static size_t sat_mul(size_t a, size_t b)
{
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

size_t tw_body_seal_bound(const tw_body *b, size_t pt_len, int final)
{
    size_t tag = tw_aead_tag_len(&b->aead);
    if (!b->chunked)
        return sat_add(pt_len, tag);
    size_t chunks = pt_len / b->max_chunk_len + (pt_len % b->max_chunk_len != 0);
    size_t per = tw_varint_len(b->max_chunk_len + tag) + tag;
    size_t n = sat_add(pt_len, sat_mul(chunks, per));
    return final ? sat_add(n, 1 + tag) : n;
}

int tw_body_seal(tw_body *b, uint8_t *out, size_t *written, const uint8_t *pt, size_t pt_len,
                 int final)
{
    size_t tag = tw_aead_tag_len(&b->aead), w = 0;
    int rc;
    if (!b->chunked) {
        rc = tw_aead_seal(&b->aead, out, NULL, 0, pt, pt_len);
        if (rc != TWOWAY_OK)
            return rc;
        *written = pt_len + tag;
        return TWOWAY_OK;
    }
    while (pt_len > 0) {
        size_t n = pt_len < b->max_chunk_len ? pt_len : b->max_chunk_len;
        size_t v = tw_varint_put(out + w, n + tag);
        rc = tw_aead_seal(&b->aead, out + w + v, NULL, 0, pt, n);
        if (rc != TWOWAY_OK) {
            util_wipe(out, w + v);
            return rc;
        }
        w += v + n + tag;
        pt += n;
        pt_len -= n;
    }
    if (final) {
        out[w] = 0x00;
        rc = tw_aead_seal(&b->aead, out + w + 1, final_aad, sizeof final_aad, NULL, 0);
        if (rc != TWOWAY_OK) {
            util_wipe(out, w + 1);
            return rc;
        }
        w += 1 + tag;
    }
    *written = w;
    return TWOWAY_OK;
}

size_t tw_body_open_bound(const tw_body *b, size_t in_len, int final)
{
    /* An unchunked body is opened only at the end. Otherwise plaintext is
     * never longer than the ciphertext it comes from: what is buffered plus
     * the new input. */
    if (!final && !b->chunked)
        return 0;
    return sat_add(in_len, b->have);
}

int tw_grow(uint8_t **buf, size_t *cap, size_t n, size_t limit, size_t keep)
{
    if (n <= *cap)
        return TWOWAY_OK;
    size_t c = *cap ? *cap : 4096;
    while (c < n)
        c = c > SIZE_MAX / 2 ? n : c * 2;
    if (c > limit)
        c = limit;
    uint8_t *p = malloc(c);
    if (p == NULL)
        return TWOWAY_ERR_NOMEM;
    if (keep > 0)
        memcpy(p, *buf, keep);
    if (*buf != NULL) {
        util_wipe(*buf, *cap);
        free(*buf);
    }
    *buf = p;
    *cap = c;
    return TWOWAY_OK;
}

/* Makes room for n bytes in b->buf (never more than limit, its bound). */
static int body_reserve(tw_body *b, size_t n, size_t limit)
{
    return tw_grow(&b->buf, &b->cap, n, limit, b->have);
}

/* Appends in[in_len] to b->buf, which may hold at most limit bytes. */
static int body_append(tw_body *b, const uint8_t *in, size_t in_len, size_t limit)
{
    /* b->have never exceeds the limit, so this cannot wrap */
    if (in_len > limit - b->have)
        return TWOWAY_ERR_TOO_BIG;
    int rc = body_reserve(b, b->have + in_len, limit);
    if (rc != TWOWAY_OK)
        return rc;
    memcpy(b->buf + b->have, in, in_len);
    b->have += in_len;
    return TWOWAY_OK;
}

/* Opens ct[len] with the next nonce into out, counting what authenticated. */
static int open_counted(tw_body *b, uint8_t *out, const uint8_t *aad, size_t aad_len,
                        const uint8_t *ct, size_t len)
{
    int rc = tw_aead_open(&b->aead, out, aad, aad_len, ct, len);
    if (rc == TWOWAY_OK)
        b->opened++;
    return rc;
}

/* A complete non-final chunk ct[len] → out. */
static int open_chunk(tw_body *b, uint8_t *out, const uint8_t *ct, size_t len)
{
    return open_counted(b, out, NULL, 0, ct, len);
}

/* Reads a chunk length; returns the bytes consumed, or a negative error. */
static int read_length(tw_body *b, const uint8_t *in, size_t in_len, size_t *used)
{
    size_t u = 0;
    if (b->vhave == 0) {
        b->vneed = (size_t)1 << (in[0] >> 6);
        b->vbuf[0] = (uint8_t)(in[0] & 0x3f);
        b->vhave = 1;
        u = 1;
    }
    while (b->vhave < b->vneed && u < in_len)
        b->vbuf[b->vhave++] = in[u++];
    *used = u;
    if (b->vhave < b->vneed)
        return TWOWAY_OK;
    uint64_t v = 0;
    for (size_t i = 0; i < b->vneed; i++)
        v = v << 8 | b->vbuf[i];
    b->vhave = 0;
    size_t tag = tw_aead_tag_len(&b->aead);
    if (v == 0) {
        b->st = TW_BODY_FINAL;
        return TWOWAY_OK;
    }
    if (v > (uint64_t)b->max_chunk_len + tag)
        return TWOWAY_ERR_TOO_BIG;
    /* A non-final chunk carries data (chunked-08 §6). One too short to hold
     * a tag is malformed; an empty one is read and opened first, so that an
     * authentic empty chunk (a broken sender) is told apart from an
     * alteration (TWOWAY_ERR_AUTH). */
    if (v < tag)
        return TWOWAY_ERR_FORMAT;
    b->chunk_len = (size_t)v;
    b->st = TW_BODY_CHUNK;
    return TWOWAY_OK;
}

static int body_open_step(tw_body *b, uint8_t *out, size_t *written, const uint8_t *in,
                          size_t in_len)
{
    size_t tag = tw_aead_tag_len(&b->aead);
    size_t w = 0;
    int rc = TWOWAY_OK;
    while (in_len > 0) {
        size_t used = 0;
        switch (b->st) {
        case TW_BODY_LEN: rc = read_length(b, in, in_len, &used); break;
        case TW_BODY_CHUNK:
            if (b->have == 0 && in_len >= b->chunk_len) {
                /* the whole chunk is in the input: no copy */
                rc = open_chunk(b, out + w, in, b->chunk_len);
                used = b->chunk_len;
            } else {
                size_t n = b->chunk_len - b->have;
                used = n < in_len ? n : in_len;
                rc = body_reserve(b, b->chunk_len, b->max_chunk_len + tag);
                if (rc != TWOWAY_OK)
                    break;
                memcpy(b->buf + b->have, in, used);
                b->have += used;
                if (b->have < b->chunk_len)
                    break;
                rc = open_chunk(b, out + w, b->buf, b->chunk_len);
                b->have = 0;
            }
            if (rc == TWOWAY_OK && b->chunk_len == tag)
                rc = TWOWAY_ERR_EMPTY_CHUNK; /* authentic, and forbidden */
            if (rc == TWOWAY_OK) {
                w += b->chunk_len - tag;
                b->st = TW_BODY_LEN;
            }
            break;
        case TW_BODY_FINAL:
            /* the final chunk runs to the end: at most one chunk of it */
            rc = body_append(b, in, in_len, b->max_chunk_len + tag);
            used = in_len;
            break;
        case TW_BODY_WHOLE:
            rc = body_append(b, in, in_len, sat_add(b->max_message_len, tag));
            used = in_len;
            break;
        default: rc = TWOWAY_ERR_STATE; break;
        }
        if (rc != TWOWAY_OK)
            break;
        in += used;
        in_len -= used;
    }
    *written = w;
    return rc;
}

int tw_body_open(tw_body *b, uint8_t *out, size_t *written, const uint8_t *in, size_t in_len,
                 int final)
{
    size_t w = 0, tag = tw_aead_tag_len(&b->aead);
    int rc;
    *written = 0;
    if (b->st == TW_BODY_DONE || b->st == TW_BODY_FAILED)
        return TWOWAY_ERR_STATE;
    if (final && b->st == TW_BODY_WHOLE && b->have == 0) {
        /* the whole body in one piece: open it where it is */
        if (in_len > sat_add(b->max_message_len, tag))
            rc = TWOWAY_ERR_TOO_BIG;
        else if (in_len < tag)
            rc = TWOWAY_ERR_TRUNCATED;
        else
            rc = open_counted(b, out, NULL, 0, in, in_len);
        if (rc == TWOWAY_OK)
            *written = in_len - tag;
        b->st = rc == TWOWAY_OK ? TW_BODY_DONE : TW_BODY_FAILED;
        return rc;
    }
    rc = body_open_step(b, out, &w, in, in_len);
    if (rc == TWOWAY_OK && final) {
        switch (b->st) {
        case TW_BODY_FINAL:
        case TW_BODY_WHOLE:
            if (b->have < tag) {
                rc = b->st == TW_BODY_WHOLE ? TWOWAY_ERR_TRUNCATED : TWOWAY_ERR_AUTH;
                break;
            }
            if (b->st == TW_BODY_FINAL)
                rc = open_counted(b, out + w, final_aad, sizeof final_aad, b->buf, b->have);
            else
                rc = open_counted(b, out + w, NULL, 0, b->buf, b->have);
            if (rc == TWOWAY_OK)
                w += b->have - tag;
            b->have = 0;
            break;
        default:
            /* the stream ended before its final chunk */
            rc = TWOWAY_ERR_TRUNCATED;
            break;
        }
        if (rc == TWOWAY_OK)
            b->st = TW_BODY_DONE;
    }
    if (rc != TWOWAY_OK) {
        /* Nothing from a failed call is released, not even the chunks of it
         * that were authentic: the message is broken. */
        util_wipe(out, w);
        w = 0;
        b->st = TW_BODY_FAILED;
    }
    *written = w;
    return rc;
}
