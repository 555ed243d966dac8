/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: twoway message openers on arbitrary input — a request
 * opener over a fixed X25519 key ring, a response opener over a fixed
 * request context, a one-to-many opener (encapsulated key and body from the
 * input) — plus seal/open round trips of the input as plaintext.
 *
 * Fixed: one X25519 private key, in the ring under key id 1 for
 * HKDF-SHA256 with AES-128-GCM and with ChaCha20-Poly1305; a fixed
 * ephemeral key, so that requests sealed to it are reproducible (the seeds
 * in corpus/twoway_request/ are such requests); per AEAD, one request sealed
 * with that ephemeral key, whose client and server contexts serve the
 * responses. Media types: the OHTTP ones (chunked or not).
 *
 * Input layout (missing bytes read as 0):
 *   [0] bits 0-1: 0 or 3 request, 1 response, 2 one-to-many
 *       bit 2:    chunked
 *       bit 3:    responses and one-to-many round trips: ChaCha20-Poly1305
 *                 (else AES-128-GCM)
 *   [1] piece size for the split run (0: one byte at a time)
 *   one-to-many only: [2] length of the encapsulated key, then its bytes
 *   rest: the message (the body, for one-to-many)
 *
 * Invariants (abort() when broken):
 *  - every result is one of the codes the opener documents for bad input;
 *  - no call writes more than twoway_opener_max_output() allowed;
 *  - after an error (or a successful final) the opener refuses (STATE);
 *  - the result and the plaintext are the same whole and in pieces;
 *  - an opened request reports its header (the first 7 bytes) and a
 *    context, and a response sealed with that context opens with it;
 *  - the rest, sealed as a request / response / one-to-many body with the
 *    fixed keys, opens to itself, whole and in pieces.
 */
#include <twoway/message.h>

#include "twoway/message_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_twoway_request"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY_ID 1

/* ------------------------------------------------------------ fixed state */

typedef struct fixed {
    twoway_hpke_suite suite[2]; /* AES-128-GCM, ChaCha20-Poly1305 */
    twoway_hpke_key *sk, *pk, *eph;
    twoway_keyring *ring;
    /* per AEAD and chunked flag: a request whose contexts serve responses */
    twoway_sealer *client[2][2];
    twoway_opener *server[2][2];
} fixed;

static const uint8_t *req_media(int chunked, size_t *len)
{
    const char *m = chunked ? TWOWAY_OHTTP_CHUNKED_REQUEST : TWOWAY_OHTTP_REQUEST;
    *len = strlen(m);
    return (const uint8_t *)m;
}

static const uint8_t *resp_media(int chunked, size_t *len)
{
    const char *m = chunked ? TWOWAY_OHTTP_CHUNKED_RESPONSE : TWOWAY_OHTTP_RESPONSE;
    *len = strlen(m);
    return (const uint8_t *)m;
}

static twoway_hpke_key *derive(uint8_t tag)
{
    uint8_t ikm[32];
    twoway_hpke_key *k = NULL;
    memset(ikm, tag, sizeof ikm);
    CHECK(twoway_hpke_key_derive(twoway_hpke_kem_by_id(TWOWAY_HPKE_KEM_X25519_SHA256), &k, ikm,
                                 sizeof ikm) == TWOWAY_OK);
    return k;
}

/* Randomness for the round trips: a counter (any fixed stream will do). */
static int counter_rng(void *ctx, uint8_t *out, size_t len)
{
    uint8_t *c = ctx;
    for (size_t i = 0; i < len; i++)
        out[i] = (*c)++;
    return 0;
}

static twoway_options options(int chunked, uint8_t *rng_state)
{
    twoway_options o = TWOWAY_OPTIONS_INIT;
    o.chunked = chunked;
    o.max_chunk_len = chunked ? 64 : 0;
    if (rng_state != NULL) {
        o.rng = counter_rng;
        o.rng_ctx = rng_state;
    }
    return o;
}

/* Seals pt as one final call (enough room from twoway_sealer_max_output). */
static void seal_all(twoway_sealer *s, const uint8_t *pt, size_t pt_len, buf *out)
{
    size_t n = twoway_sealer_max_output(s, pt_len);
    uint8_t *o = xmalloc(n);
    CHECK(twoway_sealer_final(s, o, &n, pt, pt_len) == TWOWAY_OK);
    buf_append(out, o, n);
    free(o);
}

/*
 * Opens msg in pieces of `step` bytes (0: whole), checking the per-call
 * invariants; allowed: the codes (a zero-terminated list) besides OK.
 */
static int open_pieces(twoway_opener *o, const uint8_t *msg, size_t len, size_t step, buf *pt,
                       const int *allowed)
{
    size_t off = 0;
    int rc;
    if (step == 0)
        step = len > 0 ? len : 1;
    for (;;) {
        size_t n = len - off < step ? len - off : step;
        int final = off + n == len;
        size_t room = twoway_opener_max_output(o, n), w = room;
        uint8_t *out = xmalloc(room);
        rc = final ? twoway_opener_final(o, out, &w, msg + off, n)
                   : twoway_opener_update(o, out, &w, msg + off, n);
        int ok = rc == TWOWAY_OK;
        for (const int *a = allowed; !ok && *a != 0; a++)
            ok = rc == *a;
        if (!ok)
            fprintf(stderr, "unexpected result %d (%s)\n", rc, twoway_strerror(rc));
        CHECK(ok);
        if (rc == TWOWAY_OK) {
            CHECK(w <= room);
            buf_append(pt, out, w);
        }
        free(out);
        off += n;
        if (rc != TWOWAY_OK || final)
            break;
    }
    uint8_t out[16];
    size_t w = sizeof out;
    CHECK(twoway_opener_update(o, out, &w, msg, len < 4 ? len : 4) == TWOWAY_ERR_STATE);
    w = sizeof out;
    CHECK(twoway_opener_final(o, out, &w, NULL, 0) == TWOWAY_ERR_STATE);
    return rc;
}

static const fixed *fixed_state(void)
{
    static fixed f;
    static int ready;
    if (ready)
        return &f;
    static const uint16_t aeads[2] = {TWOWAY_HPKE_AEAD_AES_128_GCM,
                                      TWOWAY_HPKE_AEAD_CHACHA20_POLY1305};
    f.sk = derive(0x52);
    f.eph = derive(0x45);
    size_t pk_len = 0;
    const uint8_t *pk = twoway_hpke_key_public(f.sk, &pk_len);
    CHECK(twoway_hpke_key_import_public(twoway_hpke_key_kem(f.sk), &f.pk, pk, pk_len) == TWOWAY_OK);
    CHECK(twoway_keyring_new(&f.ring) == TWOWAY_OK);
    for (int a = 0; a < 2; a++) {
        CHECK(twoway_hpke_suite_from_ids(&f.suite[a], TWOWAY_HPKE_KEM_X25519_SHA256,
                                         TWOWAY_HPKE_KDF_HKDF_SHA256, aeads[a]) == TWOWAY_OK);
        CHECK(twoway_keyring_add(f.ring, KEY_ID, &f.suite[a], f.sk) == TWOWAY_OK);
        for (int c = 0; c < 2; c++) {
            static const uint8_t hello[] = "a request whose context serves the responses";
            size_t ml;
            const uint8_t *m = req_media(c, &ml);
            twoway_options o = options(c, NULL);
            buf req = {0}, pt = {0};
            static const int none[] = {0};
            CHECK(tw_request_sealer_new(&f.client[a][c], &f.suite[a], KEY_ID, f.pk, m, ml, &o,
                                        f.eph) == TWOWAY_OK);
            seal_all(f.client[a][c], hello, sizeof hello - 1, &req);
            CHECK(twoway_request_opener_new(&f.server[a][c], f.ring, m, ml, &o) == TWOWAY_OK);
            CHECK(open_pieces(f.server[a][c], req.p, req.len, 0, &pt, none) == TWOWAY_OK);
            CHECK(pt.len == sizeof hello - 1 && memcmp(pt.p, hello, pt.len) == 0);
            free(req.p);
            free(pt.p);
        }
    }
    ready = 1;
    return &f;
}

/* -------------------------------------------------------------- targets */

static const int request_errors[] = {TWOWAY_ERR_HEADER,    TWOWAY_ERR_KEY_MISMATCH,
                                     TWOWAY_ERR_TRUNCATED, TWOWAY_ERR_AUTH,
                                     TWOWAY_ERR_KEY,       TWOWAY_ERR_DH,
                                     TWOWAY_ERR_TOO_BIG,   TWOWAY_ERR_EMPTY_CHUNK,
                                     TWOWAY_ERR_FORMAT,    0};
static const int body_errors[] = {TWOWAY_ERR_TRUNCATED,   TWOWAY_ERR_AUTH,   TWOWAY_ERR_TOO_BIG,
                                  TWOWAY_ERR_EMPTY_CHUNK, TWOWAY_ERR_FORMAT, 0};
static const int encap_errors[] = {
    TWOWAY_ERR_HEADER, TWOWAY_ERR_KEY_MISMATCH, TWOWAY_ERR_TRUNCATED,   TWOWAY_ERR_AUTH,
    TWOWAY_ERR_KEY,    TWOWAY_ERR_DH,           TWOWAY_ERR_UNSUPPORTED, 0};

static int same(const buf *a, const buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* A response sealed with ctx (input as plaintext) opens with ctx2. */
static void response_round_trip(const twoway_context *sctx, const twoway_context *cctx, int chunked,
                                const uint8_t *pt, size_t pt_len)
{
    uint8_t rng = 7;
    size_t ml;
    const uint8_t *m = resp_media(chunked, &ml);
    twoway_options so = options(chunked, &rng), oo = options(chunked, NULL);
    twoway_sealer *s = NULL;
    twoway_opener *o = NULL;
    buf msg = {0}, got = {0};
    static const int none[] = {0};
    CHECK(twoway_response_sealer_new(&s, sctx, m, ml, &so) == TWOWAY_OK);
    seal_all(s, pt, pt_len, &msg);
    CHECK(twoway_response_opener_new(&o, cctx, m, ml, &oo) == TWOWAY_OK);
    CHECK(open_pieces(o, msg.p, msg.len, 13, &got, none) == TWOWAY_OK);
    CHECK(got.len == pt_len && (pt_len == 0 || memcmp(got.p, pt, pt_len) == 0));
    twoway_opener_free(o);
    twoway_sealer_free(s);
    free(msg.p);
    free(got.p);
}

static void fuzz_request(const fixed *f, int chunked, size_t step, const uint8_t *msg, size_t len)
{
    size_t ml;
    const uint8_t *m = req_media(chunked, &ml);
    twoway_options oo = options(chunked, NULL);
    twoway_opener *o1 = NULL, *o2 = NULL;
    buf p1 = {0}, p2 = {0};
    CHECK(twoway_request_opener_new(&o1, f->ring, m, ml, &oo) == TWOWAY_OK);
    CHECK(twoway_request_opener_new(&o2, f->ring, m, ml, &oo) == TWOWAY_OK);
    int rc1 = open_pieces(o1, msg, len, 0, &p1, request_errors);
    int rc2 = open_pieces(o2, msg, len, step, &p2, request_errors);
    CHECK(rc1 == rc2);
    if (len < TWOWAY_HEADER_LEN)
        CHECK(rc1 == TWOWAY_ERR_HEADER);
    if (rc1 == TWOWAY_OK) {
        twoway_header h;
        uint8_t enc[TWOWAY_HEADER_LEN];
        CHECK(same(&p1, &p2));
        CHECK(twoway_opener_header(o1, &h) == TWOWAY_OK);
        twoway_header_encode(&h, enc);
        CHECK(memcmp(enc, msg, TWOWAY_HEADER_LEN) == 0);
        const twoway_context *ctx = twoway_opener_context(o1);
        CHECK(ctx != NULL);
        /* both sides of an HPKE context export the same secret */
        response_round_trip(ctx, ctx, chunked, p1.p, p1.len);
    }
    twoway_opener_free(o1);
    twoway_opener_free(o2);
    free(p1.p);
    free(p2.p);

    /* round trip: the input as a request (suite from its first byte) */
    int a = len > 0 ? msg[0] & 1 : 0;
    twoway_options so = options(chunked, NULL);
    twoway_sealer *s = NULL;
    buf req = {0}, got = {0};
    static const int none[] = {0};
    CHECK(tw_request_sealer_new(&s, &f->suite[a], KEY_ID, f->pk, m, ml, &so, f->eph) == TWOWAY_OK);
    seal_all(s, msg, len, &req);
    CHECK(twoway_request_opener_new(&o1, f->ring, m, ml, &oo) == TWOWAY_OK);
    CHECK(open_pieces(o1, req.p, req.len, step, &got, none) == TWOWAY_OK);
    CHECK(got.len == len && (len == 0 || memcmp(got.p, msg, len) == 0));
    twoway_opener_free(o1);
    twoway_sealer_free(s);
    free(req.p);
    free(got.p);
}

static void fuzz_response(const fixed *f, int a, int chunked, size_t step, const uint8_t *msg,
                          size_t len)
{
    size_t ml;
    const uint8_t *m = resp_media(chunked, &ml);
    twoway_options oo = options(chunked, NULL);
    const twoway_context *cctx = twoway_sealer_context(f->client[a][chunked]);
    twoway_opener *o1 = NULL, *o2 = NULL;
    buf p1 = {0}, p2 = {0};
    CHECK(cctx != NULL);
    CHECK(twoway_response_opener_new(&o1, cctx, m, ml, &oo) == TWOWAY_OK);
    CHECK(twoway_response_opener_new(&o2, cctx, m, ml, &oo) == TWOWAY_OK);
    int rc1 = open_pieces(o1, msg, len, 0, &p1, body_errors);
    int rc2 = open_pieces(o2, msg, len, step, &p2, body_errors);
    CHECK(rc1 == rc2);
    if (len < tw_response_nonce_len(&f->suite[a]))
        CHECK(rc1 == TWOWAY_ERR_TRUNCATED);
    if (rc1 == TWOWAY_OK)
        CHECK(same(&p1, &p2));
    twoway_opener_free(o1);
    twoway_opener_free(o2);
    free(p1.p);
    free(p2.p);
    response_round_trip(twoway_opener_context(f->server[a][chunked]), cctx, chunked, msg, len);
}

static void fuzz_multi(const fixed *f, int a, int chunked, size_t step, const uint8_t *ek,
                       size_t ek_len, const uint8_t *msg, size_t len)
{
    size_t ml;
    const uint8_t *m = req_media(chunked, &ml);
    twoway_options oo = options(chunked, NULL);
    twoway_opener *o1 = NULL, *o2 = NULL;
    buf p1 = {0}, p2 = {0};
    int rc = twoway_multi_request_opener_new(&o1, f->ring, m, ml, ek, ek_len, &oo);
    int ok = rc == TWOWAY_OK;
    for (const int *e = encap_errors; !ok && *e != 0; e++)
        ok = rc == *e;
    CHECK(ok);
    if (rc == TWOWAY_OK) {
        CHECK(twoway_multi_request_opener_new(&o2, f->ring, m, ml, ek, ek_len, &oo) == TWOWAY_OK);
        /* no response may be bound before some of the body authenticated */
        CHECK(twoway_opener_context(o1) == NULL);
        int rc1 = open_pieces(o1, msg, len, 0, &p1, body_errors);
        int rc2 = open_pieces(o2, msg, len, step, &p2, body_errors);
        CHECK(rc1 == rc2);
        if (rc1 == TWOWAY_OK)
            CHECK(same(&p1, &p2) && twoway_opener_context(o1) != NULL);
        else
            CHECK(twoway_opener_context(o1) == NULL);
    } else {
        CHECK(o1 == NULL);
    }
    twoway_opener_free(o1);
    twoway_opener_free(o2);
    free(p1.p);
    free(p2.p);

    /* round trip: the input as a one-to-many body, to the fixed key */
    uint8_t rng = 3;
    twoway_options so = options(chunked, &rng);
    twoway_sealer *s = NULL;
    twoway_context *cctx = NULL;
    uint8_t eko[256];
    size_t eko_len = sizeof eko;
    buf body = {0}, got = {0};
    static const int none[] = {0};
    CHECK(twoway_multi_request_sealer_new(&s, &f->suite[a], m, ml, &so) == TWOWAY_OK);
    seal_all(s, msg, len, &body);
    CHECK(tw_multi_encapsulate(s, KEY_ID, f->pk, eko, &eko_len, &cctx, f->eph) == TWOWAY_OK);
    CHECK(twoway_multi_request_opener_new(&o1, f->ring, m, ml, eko, eko_len, &oo) == TWOWAY_OK);
    CHECK(open_pieces(o1, body.p, body.len, step, &got, none) == TWOWAY_OK);
    CHECK(got.len == len && (len == 0 || memcmp(got.p, msg, len) == 0));
    response_round_trip(twoway_opener_context(o1), cctx, chunked, msg, len);
    twoway_opener_free(o1);
    twoway_context_free(cctx);
    twoway_sealer_free(s);
    free(body.p);
    free(got.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fixed *f = fixed_state();
    static const uint8_t none[1];
    if (data == NULL) {
        data = none;
        size = 0;
    }
    uint8_t flags = size > 0 ? data[0] : 0;
    size_t step = size > 1 ? data[1] : 0, off = size < 2 ? size : 2;
    int mode = flags & 3, chunked = (flags >> 2) & 1, a = (flags >> 3) & 1;
    if (step == 0)
        step = 1;
    switch (mode) {
    case 1: fuzz_response(f, a, chunked, step, data + off, size - off); break;
    case 2: {
        size_t ek_len = off < size ? data[off++] : 0;
        if (ek_len > size - off)
            ek_len = size - off;
        const uint8_t *ek = data + off;
        off += ek_len;
        fuzz_multi(f, a, chunked, step, ek, ek_len, data + off, size - off);
        break;
    }
    default: fuzz_request(f, chunked, step, data + off, size - off); break;
    }
    return 0;
}
