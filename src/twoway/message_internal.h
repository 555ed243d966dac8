/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to libtwoway's messages: options, randomness, the AEAD of a
 * message body (an HPKE context's sequence or a counter nonce), the chunk
 * framing engine, and the sealer, opener and context objects.
 */
#ifndef TWOWAY_MESSAGE_INTERNAL_H
#define TWOWAY_MESSAGE_INTERNAL_H

#include <twoway/message.h>

#include "hpke_internal.h"

/* Largest message prefix: hdr || enc. */
#define TW_MAX_PREFIX_LEN (TWOWAY_HEADER_LEN + TWOWAY_HPKE_MAX_ENC_LEN)
/* Largest plaintext a pull call reads from its source at once. */
#define TW_PULL_INPUT_LEN 16384u

/* ---------------------------------------------------------------- options */

typedef struct tw_opts {
    int chunked;
    size_t max_chunk_len;
    size_t max_message_len;
    twoway_rng_fn rng;
    void *rng_ctx;
} tw_opts;

/* Checks opt (NULL: defaults) and fills in the defaults of a sealer
 * (sealing != 0) or an opener. */
int tw_opts_resolve(tw_opts *o, const twoway_options *opt, int sealing);

/* out[len] from the caller's generator, or the system's. */
int tw_random(const tw_opts *o, uint8_t *out, size_t len);

/* info = media || 0x00 || hdr, allocated (free with free()). */
int tw_info_new(uint8_t **info, size_t *info_len, const uint8_t *media, size_t media_len,
                const uint8_t hdr[TWOWAY_HEADER_LEN]);

/* --------------------------------------------------------------- body AEAD */

/* Seals and opens the chunks of one body, each with the next nonce: either
 * an HPKE context's own sequence (one-to-one requests) or
 * base_nonce XOR I2OSP(i, Nn) under its own key (responses, multi bodies). */
typedef struct tw_aead {
    twoway_hpke_ctx *hctx; /* borrowed; NULL in counter mode */
    const twoway_hpke_aead *aead;
    void *state;
    uint64_t counter, limit;
    uint8_t base_nonce[TWOWAY_HPKE_MAX_NONCE_LEN];
} tw_aead;

void tw_aead_use_hpke(tw_aead *a, twoway_hpke_ctx *hctx);
int tw_aead_init_counter(tw_aead *a, const twoway_hpke_aead *aead, const uint8_t *key,
                         const uint8_t *nonce);
size_t tw_aead_tag_len(const tw_aead *a);
/* ct[pt_len + tag]; the next nonce is used up even on failure. */
int tw_aead_seal(tw_aead *a, uint8_t *ct, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                 size_t pt_len);
/* pt[ct_len - tag]; on failure pt holds nothing and the nonce does not move. */
int tw_aead_open(tw_aead *a, uint8_t *pt, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                 size_t ct_len);
void tw_aead_clear(tw_aead *a);

/* ------------------------------------------------------ chunk framing */

/* QUIC variable-length integers (RFC 9000 §16). */
size_t tw_varint_len(uint64_t v); /* 0 if v >= 2^62 */
size_t tw_varint_put(uint8_t *out, uint64_t v);

enum tw_body_state {
    TW_BODY_LEN = 0, /* reading a chunk length */
    TW_BODY_CHUNK,   /* reading a non-final chunk */
    TW_BODY_FINAL,   /* reading the final chunk (to the end of the stream) */
    TW_BODY_WHOLE,   /* unchunked: buffering the whole body */
    TW_BODY_DONE,
    TW_BODY_FAILED
};

/* One message body, sealing or opening. */
typedef struct tw_body {
    tw_aead aead;
    int chunked;
    size_t max_chunk_len;
    size_t max_message_len;
    enum tw_body_state st;
    uint8_t vbuf[TWOWAY_MAX_VARINT_LEN];
    size_t vhave, vneed;
    size_t chunk_len; /* ciphertext length of the chunk being read */
    uint8_t *buf;     /* a partial chunk, the final chunk, or an unchunked body */
    size_t have, cap;
    uint64_t opened; /* chunks (or bodies) that authenticated */
} tw_body;

/* Grows *buf (wiping the old one) to at least n bytes, geometrically but
 * never past limit (n <= limit), keeping its first keep bytes. */
int tw_grow(uint8_t **buf, size_t *cap, size_t n, size_t limit, size_t keep);

void tw_body_init(tw_body *b, const tw_opts *o);
void tw_body_clear(tw_body *b);

/* Sealing. */
size_t tw_body_seal_bound(const tw_body *b, size_t pt_len, int final);
int tw_body_seal(tw_body *b, uint8_t *out, size_t *written, const uint8_t *pt, size_t pt_len,
                 int final);

/* Opening: out has room for tw_body_open_bound(in_len) bytes. */
size_t tw_body_open_bound(const tw_body *b, size_t in_len, int final);
int tw_body_open(tw_body *b, uint8_t *out, size_t *written, const uint8_t *in, size_t in_len,
                 int final);

/* --------------------------------------------------------------- contexts */

struct twoway_context {
    twoway_hpke_suite suite;
    twoway_hpke_ctx *hctx; /* NULL for a loaded context */
    size_t enc_len;
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    /* A loaded context: the one media type and its secret. */
    uint8_t *media;
    size_t media_len;
    size_t secret_len;
    uint8_t secret[TWOWAY_MAX_RESPONSE_NONCE_LEN];
    /* 0 while the request behind it is not authenticated (a request opener
     * that has read hdr || enc but no authentic body yet, or that failed):
     * no response may be sealed to it. */
    int usable;
};

/* Whether chunked framing goes with media (the OHTTP media types say). */
int tw_media_check(const uint8_t *media, size_t media_len, int chunked);

/* Whether [a, a+an) and [b, b+bn) overlap. */
int tw_overlap(const void *a, size_t an, const void *b, size_t bn);

/* A context around hctx (taken over, also on failure) and enc. */
int tw_context_new(twoway_context **out, const twoway_hpke_suite *suite, twoway_hpke_ctx *hctx,
                   const uint8_t *enc, size_t enc_len);

/* L = max(Nn, Nk) of the context's AEAD. */
size_t tw_response_nonce_len(const twoway_hpke_suite *suite);

/* secret[L] = Export(media, L) (a loaded context checks the media type). */
int tw_context_response_secret(const twoway_context *ctx, const uint8_t *media, size_t media_len,
                               uint8_t *secret, size_t secret_len);

/* The response AEAD from that secret: salt = enc || nonce, prk = Extract,
 * key = Expand(prk, "key", Nk), nonce = Expand(prk, "nonce", Nn). */
int tw_response_aead(tw_aead *a, const twoway_hpke_suite *suite, const uint8_t *secret,
                     size_t secret_len, const uint8_t *enc, size_t enc_len,
                     const uint8_t *response_nonce);

/* The table of a one-to-many body: by the suite's AEAD id and key length. */
int tw_multi_body_aead(const twoway_hpke_aead **out, const twoway_hpke_aead *suite_aead,
                       size_t key_len);

#define TW_MULTI_ENCAP_AAD "multi-encap-key"

/* --------------------------------------------------------- pull buffers */

/* What a sealer or opener keeps for the pull interface (pull.c): its input
 * (one chunk of plaintext, or of message) and its pending output. */
typedef struct tw_pull {
    uint8_t *in, *out;
    size_t in_cap, out_cap, out_len, out_off;
} tw_pull;

/* Wipes and frees the buffers. */
void tw_pull_clear(tw_pull *p);

/* ---------------------------------------------------------------- sealer */

enum tw_kind { TW_REQUEST = 1, TW_RESPONSE, TW_MULTI };

struct twoway_sealer {
    enum tw_kind kind;
    tw_opts opts;
    tw_body body;
    int finished, failed;
    size_t prefix_len, prefix_sent;
    uint8_t prefix[TW_MAX_PREFIX_LEN];
    twoway_context *ctx; /* requests: the request's context (owns the HPKE context) */
    /* one-to-many: what each encapsulation needs */
    twoway_hpke_suite suite;
    uint8_t *media;
    size_t media_len;
    uint8_t multi_key[TWOWAY_MULTI_KEY_LEN];
    tw_pull pull;
};

/* Request sealers with a given ephemeral key (tests), or NULL. */
int tw_request_sealer_new(twoway_sealer **out, const twoway_hpke_suite *suite, uint8_t key_id,
                          const twoway_hpke_key *recipient, const uint8_t *media, size_t media_len,
                          const twoway_options *opt, const twoway_hpke_key *ephemeral);
int tw_multi_encapsulate(twoway_sealer *s, uint8_t key_id, const twoway_hpke_key *recipient,
                         uint8_t *out, size_t *out_len, twoway_context **ctx,
                         const twoway_hpke_key *ephemeral);

/* ---------------------------------------------------------------- opener */

struct twoway_opener {
    enum tw_kind kind;
    tw_opts opts;
    tw_body body;
    int failed, finished;
    /* the prefix: hdr || enc, the response nonce, or the multi nonce */
    size_t prefix_need, prefix_have;
    int prefix_done;
    uint8_t prefix[TW_MAX_PREFIX_LEN];
    twoway_header hdr;
    int hdr_read; /* hdr holds the request's header (also after a failure) */
    /* requests */
    const twoway_keyring *ring;
    uint8_t *media;
    size_t media_len;
    twoway_context *ctx; /* request and multi openers: the request's context */
    /* responses: what derives the key once the nonce is read */
    twoway_hpke_suite suite;
    size_t enc_len, secret_len;
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    uint8_t secret[TWOWAY_MAX_RESPONSE_NONCE_LEN];
    /* one-to-many: the body key */
    const twoway_hpke_aead *multi_aead;
    size_t multi_key_len;
    uint8_t multi_key[TWOWAY_MULTI_KEY_LEN];
    tw_pull pull;
};

#endif /* TWOWAY_MESSAGE_INTERNAL_H */
