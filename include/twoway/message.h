/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway/message.h — HPKE request/response messages (the twoway format,
 * byte-compatible with Oblivious HTTP, RFC 9458, and chunked OHTTP).
 *
 * A client seals a request to a receiver's public key; only that receiver can
 * open it. The receiver seals responses that only that client can open: each
 * response key is derived from the request's HPKE context, so a response is
 * bound to its request. The format, byte by byte: twoway(3) and TWOWAY.md in
 * the package's documentation folder (share/doc/secureio/docs):
 *
 *   request   = hdr(7) || enc || body                 hdr = key_id || kem || kdf || aead
 *   response  = response_nonce(max(Nn, Nk)) || body
 *   multi     = nonce(Nn) || body, plus one encapsulated key per receiver
 *   body      = AEAD(pt)                              (not chunked)
 *             | *(varint(len) || AEAD(chunk)) || varint(0) || AEAD("final", last)
 *
 * Streaming without I/O: a twoway_sealer takes plaintext in pieces of any
 * size and writes the message bytes into the caller's buffers; a
 * twoway_opener takes message bytes in pieces of any size (one byte at a
 * time is fine) and writes plaintext. Chunked messages go through in
 * constant memory whatever their size. A pull interface over read callbacks
 * (or a file descriptor) sits on top (twoway_sealer_read, twoway_opener_read).
 *
 * Chunked or not is NOT on the wire: both sides must agree (OHTTP: by media
 * type). A receiver must fix the framing for a media type and never try
 * both: under one media type for both framings, the first chunk of a chunked
 * message is also a valid unchunked message (the same key, nonce and empty
 * AAD), so accepting either would accept a chunked message cut after its
 * first chunk. The OHTTP names give each framing its own label. A chunked opener releases each
 * chunk's plaintext once that chunk is authenticated, but the message is complete only when
 * twoway_opener_final() returns TWOWAY_OK: a stream cut at a chunk boundary is
 * TWOWAY_ERR_TRUNCATED.
 *
 * Objects are used by one thread at a time; keys and key rings may be shared.
 *
 * Buffers: a sealer's output must not overlap its plaintext, nor an
 * opener's output its input (TWOWAY_ERR_ARG): both are laid out differently.
 * With the OHTTP media types below the framing is fixed by the name: a
 * chunked sealer or opener refuses the unchunked names and the reverse
 * (TWOWAY_ERR_ARG), so that a message cannot be re-framed under its label.
 */
#ifndef TWOWAY_MESSAGE_H
#define TWOWAY_MESSAGE_H

#include <twoway/hpke.h>
#include <twoway/keyring.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- constants */

#define TWOWAY_HEADER_LEN 7u /* key_id(1) || kem_id(2) || kdf_id(2) || aead_id(2) */
/* Default largest chunk plaintext: what a sealer writes, what an opener accepts. */
#define TWOWAY_DEFAULT_SEAL_CHUNK_LEN 4096u
#define TWOWAY_DEFAULT_OPEN_CHUNK_LEN 16384u
/* Largest max_chunk_len accepted (keeps a chunk's buffer reasonable). */
#define TWOWAY_MAX_CHUNK_LEN (1u << 24)
/* An unchunked opener buffers the whole message; this is its default limit. */
#define TWOWAY_DEFAULT_MAX_MESSAGE_LEN ((size_t)1 << 26)
/* One-to-many: the body key is always 32 bytes. */
#define TWOWAY_MULTI_KEY_LEN 32u
/* Response nonce: max(Nn, Nk) of the AEAD, at most this. */
#define TWOWAY_MAX_RESPONSE_NONCE_LEN 64u
/* Largest varint prefix of a chunk. */
#define TWOWAY_MAX_VARINT_LEN 8u

/* The OHTTP media types (RFC 9458 §4.3, §4.4; chunked OHTTP). Passed as the
 * request and response media types they make the bytes exactly OHTTP's. */
#define TWOWAY_OHTTP_REQUEST "message/bhttp request"
#define TWOWAY_OHTTP_RESPONSE "message/bhttp response"
#define TWOWAY_OHTTP_CHUNKED_REQUEST "message/bhttp chunked request"
#define TWOWAY_OHTTP_CHUNKED_RESPONSE "message/bhttp chunked response"

/* ------------------------------------------------------------ randomness */

/* Fills out[len] with random bytes; returns 0, or non-zero on failure. */
typedef int (*twoway_rng_fn)(void *rng_ctx, uint8_t *out, size_t len);

/* ---------------------------------------------------------------- options */

#define TWOWAY_OPTIONS_VERSION 1u

/* Options of one sealer or opener. Zero fields take the defaults. */
typedef struct twoway_options {
    uint32_t version; /* TWOWAY_OPTIONS_VERSION */
    int chunked;      /* 1: chunked framing (must match the other side) */
    /* Largest plaintext per chunk: a sealer cuts its input at this size
     * (default 4096); an opener rejects any chunk above it (default 16384). */
    size_t max_chunk_len;
    /* Unchunked openers: the largest message they buffer (default 64 MiB;
     * SIZE_MAX for no limit). */
    size_t max_message_len;
    /* Randomness for the ephemeral key, response nonce and one-to-many key;
     * NULL: the operating system's generator (through OpenSSL). It must be a
     * cryptographically secure generator: a repeated response nonce repeats
     * the response key and nonce. With it, the ephemeral key is
     * DeriveKeyPair(ikmE) of Nsk bytes it gives (as twoway does), or, for a
     * custom KEM that cannot derive, the KEM's own generation. */
    twoway_rng_fn rng;
    void *rng_ctx;
} twoway_options;

#define TWOWAY_OPTIONS_INIT                                                                        \
    {                                                                                              \
        TWOWAY_OPTIONS_VERSION, 0, 0, 0, NULL, NULL                                                \
    }

/* ----------------------------------------------------------------- header */

typedef struct twoway_header {
    uint8_t key_id;
    uint16_t kem_id, kdf_id, aead_id;
} twoway_header;

/* The 7 bytes of a header. */
TWOWAY_API void twoway_header_encode(const twoway_header *hdr, uint8_t out[TWOWAY_HEADER_LEN]);
/* Reads the first 7 bytes of in (later bytes are ignored). TWOWAY_ERR_HEADER
 * if in is shorter, or if an identifier is not a built-in algorithm (the
 * export-only AEAD is refused). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_header_parse(twoway_header *hdr, const uint8_t *in,
                                                     size_t in_len);

/* ------------------------------------------------------------- contexts */

/*
 * The half of a request's HPKE context that its responses are bound to: the
 * exporter and the encapsulated key. A client gets one from its request
 * sealer (or from twoway_multi_encapsulate, one per receiver); a receiver from
 * its request opener once the request's enc has been read.
 */
typedef struct twoway_context twoway_context;

/*
 * Saving a context between processes (the `twoway` CLI does this): the blob
 * holds the suite, enc and the response secret for one response media type,
 * and opens or seals responses of that type only. It is a SECRET (anyone
 * holding it reads the responses): store it like a private key.
 */
#define TWOWAY_CONTEXT_BLOB_MAX                                                                    \
    (16u + TWOWAY_HPKE_MAX_ENC_LEN + TWOWAY_MAX_RESPONSE_NONCE_LEN + 4096u)
TWOWAY_API TWOWAY_MUST_CHECK int twoway_context_save(const twoway_context *ctx,
                                                     const uint8_t *response_media_type,
                                                     size_t response_media_type_len, uint8_t *out,
                                                     size_t *out_len);
TWOWAY_API TWOWAY_MUST_CHECK int twoway_context_load(twoway_context **out, const uint8_t *blob,
                                                     size_t blob_len);
/* A loaded context's response media type (the one it was saved for: its
 * responses must use it), *len its length; NULL for a live context, which
 * serves any media type. */
TWOWAY_API const uint8_t *twoway_context_response_media_type(const twoway_context *ctx,
                                                             size_t *len);
/* The request's suite (the KEM, KDF and AEAD its responses use). */
TWOWAY_API const twoway_hpke_suite *twoway_context_suite(const twoway_context *ctx);
/* Only for contexts made by twoway_multi_encapsulate or twoway_context_load;
 * the others belong to their sealer or opener. */
TWOWAY_API void twoway_context_free(twoway_context *ctx);

/* ---------------------------------------------------------------- sealer */

typedef struct twoway_sealer twoway_sealer;

/*
 * Client: a request to recipient (a public key of suite->kem) under key_id.
 * info = request_media_type || 0x00 || hdr. Draws Nsk random bytes (ikmE).
 */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_request_sealer_new(twoway_sealer **out, const twoway_hpke_suite *suite, uint8_t key_id,
                          const twoway_hpke_key *recipient, const uint8_t *request_media_type,
                          size_t request_media_type_len, const twoway_options *opt);

/*
 * Client: a request to a receiver's application/ohttp-keys list (RFC 9458
 * §3), as clients get it: the configuration and suite that
 * twoway_key_configs_select() picks for key_id (TWOWAY_ANY_KEY_ID),
 * kdf_id and aead_id (0: any). Its errors, then those above.
 */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_request_sealer_new_for_configs(twoway_sealer **out, const uint8_t *configs,
                                      size_t configs_len, int key_id, uint16_t kdf_id,
                                      uint16_t aead_id, const uint8_t *request_media_type,
                                      size_t request_media_type_len, const twoway_options *opt);

/* Server: a response to the request behind ctx. Draws max(Nn, Nk) random
 * bytes (the response nonce); each call makes a new, independent response. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_response_sealer_new(twoway_sealer **out,
                                                            const twoway_context *ctx,
                                                            const uint8_t *response_media_type,
                                                            size_t response_media_type_len,
                                                            const twoway_options *opt);

/*
 * Client, one-to-many: one request body for several receivers. Draws the
 * 32-byte body key, then the Nn-byte nonce. The body AEAD is AES-256-GCM for
 * the AES suites (the key is always 32 bytes: twoway's format) and
 * ChaCha20-Poly1305 for ChaCha20-Poly1305. The body is the sealer's output;
 * each receiver also needs its encapsulated key from
 * twoway_multi_encapsulate(). Every receiver learns the body key: any of them
 * can forge a body that the others accept. Not OHTTP.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_multi_request_sealer_new(twoway_sealer **out,
                                                                 const twoway_hpke_suite *suite,
                                                                 const uint8_t *request_media_type,
                                                                 size_t request_media_type_len,
                                                                 const twoway_options *opt);

/*
 * One receiver of a one-to-many request: writes hdr || enc || Seal(K) into
 * out (7 + Nenc + 32 + Nt bytes; *out_len is its room) and returns in *ctx
 * the context that this receiver's responses are bound to (free it with
 * twoway_context_free). Draws Nsk random bytes.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_multi_encapsulate(twoway_sealer *sealer, uint8_t key_id,
                                                          const twoway_hpke_key *recipient,
                                                          uint8_t *out, size_t *out_len,
                                                          twoway_context **ctx);

/* The largest number of bytes update/final can write for pt_len bytes of
 * plaintext (including the prefix if it is still to come). SIZE_MAX when
 * that does not fit in a size_t. */
TWOWAY_API size_t twoway_sealer_max_output(const twoway_sealer *s, size_t pt_len);

/* Chunked only: seals pt as ceil(pt_len / max_chunk_len) chunks (pt_len 0
 * writes nothing but a pending prefix). The first output starts with the
 * prefix (hdr || enc, the response nonce, or the multi nonce). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_sealer_update(twoway_sealer *s, uint8_t *out,
                                                      size_t *out_len, const uint8_t *pt,
                                                      size_t pt_len);

/* Ends the message. Chunked: pt (if any) as chunks, then the final chunk,
 * which is empty as twoway writes it. Not chunked: prefix || AEAD(pt), the
 * whole message. After it the sealer only serves as a context. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_sealer_final(twoway_sealer *s, uint8_t *out,
                                                     size_t *out_len, const uint8_t *pt,
                                                     size_t pt_len);

/* The request's context (request sealers only; NULL otherwise). Valid while
 * the sealer lives. */
TWOWAY_API const twoway_context *twoway_sealer_context(const twoway_sealer *s);
TWOWAY_API void twoway_sealer_free(twoway_sealer *s);

/* ---------------------------------------------------------------- opener */

typedef struct twoway_opener twoway_opener;

/* Server: a request to one of the keys in ring (chosen by the header's key
 * id and algorithms). The header and enc are read from the first input.
 * The opener uses ring until it has read hdr || enc: the ring must live (and
 * not be freed) until then, or until the opener is freed. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_request_opener_new(twoway_opener **out,
                                                           const twoway_keyring *ring,
                                                           const uint8_t *request_media_type,
                                                           size_t request_media_type_len,
                                                           const twoway_options *opt);

/* Client: the response to the request behind ctx. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_response_opener_new(twoway_opener **out,
                                                            const twoway_context *ctx,
                                                            const uint8_t *response_media_type,
                                                            size_t response_media_type_len,
                                                            const twoway_options *opt);

/* Server, one-to-many: decapsulates this receiver's encapsulated key with a
 * key from ring (used only during this call); the opener then reads the
 * shared request body. */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_multi_request_opener_new(twoway_opener **out, const twoway_keyring *ring,
                                const uint8_t *request_media_type, size_t request_media_type_len,
                                const uint8_t *encapsulated_key, size_t encapsulated_key_len,
                                const twoway_options *opt);

/* The largest plaintext update/final can write for in_len more input bytes
 * (an unchunked opener's update writes nothing; final writes the body). */
TWOWAY_API size_t twoway_opener_max_output(const twoway_opener *o, size_t in_len);

/*
 * Feeds in[in_len] (any split of the message). All of it is consumed; out
 * needs room for twoway_opener_max_output(o, in_len) bytes, and gets the
 * plaintext of every chunk completed and authenticated by this input.
 * Unchunked openers buffer the message and write nothing until final.
 * Errors are final: the opener then refuses everything.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_opener_update(twoway_opener *o, uint8_t *out,
                                                      size_t *out_len, const uint8_t *in,
                                                      size_t in_len);

/* End of the message: in is its last bytes (may be empty). TWOWAY_OK means
 * the message was whole and authentic. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_opener_final(twoway_opener *o, uint8_t *out,
                                                     size_t *out_len, const uint8_t *in,
                                                     size_t in_len);

/* The request header read by a request or one-to-many opener: its key id
 * and algorithms, as soon as its 7 bytes are read, and still after a
 * failure (a request no key matches, one that does not authenticate), so
 * that a server can log what a refused request named. TWOWAY_ERR_STATE
 * before, and for response openers. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_opener_header(const twoway_opener *o, twoway_header *hdr);
/* How many chunks (an unchunked body counts as one) authenticated so far.
 * A failure when this is 0 means nothing of the body was ever authentic:
 * the wrong key or request, the wrong framing or media type, or an
 * alteration of its start. */
TWOWAY_API uint64_t twoway_opener_authenticated(const twoway_opener *o);
/*
 * The request's context, to seal responses with: NULL until some of the
 * request authenticated (the whole body when unchunked, a first chunk when
 * chunked), and NULL again once the opener failed. A context fetched
 * earlier is refused by twoway_response_sealer_new and twoway_context_save
 * (TWOWAY_ERR_STATE) after a failure: no response is ever bound to a
 * request that was not read authentic.
 */
TWOWAY_API const twoway_context *twoway_opener_context(const twoway_opener *o);
TWOWAY_API void twoway_opener_free(twoway_opener *o);

/* ------------------------------------------------------------ pull interface */

/* Reads up to len bytes into buf: returns the count, 0 at the end, or < 0 on
 * an error. */
typedef long (*twoway_read_fn)(void *src, uint8_t *buf, size_t len);

/* A twoway_read_fn over a file descriptor: src points to an int. Retries on
 * EINTR. */
TWOWAY_API long twoway_read_fd(void *src, uint8_t *buf, size_t len);

/*
 * Pull: writes up to cap bytes of sealed message into out, reading plaintext
 * from read(src) as needed; *out_len is 0 once the message is complete (its
 * final chunk written when the source ended). Chunked sealers keep one chunk
 * in memory; unchunked ones read the whole source first (within
 * max_message_len). A read error gives TWOWAY_ERR_IO.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_sealer_read(twoway_sealer *s, twoway_read_fn read,
                                                    void *src, uint8_t *out, size_t cap,
                                                    size_t *out_len);

/*
 * Pull: writes up to cap bytes of plaintext into out, reading the message
 * from read(src) as needed; *out_len is 0 (and the result TWOWAY_OK) only
 * when the message ended and was whole and authentic.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_opener_read(twoway_opener *o, twoway_read_fn read,
                                                    void *src, uint8_t *out, size_t cap,
                                                    size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* TWOWAY_MESSAGE_H */
