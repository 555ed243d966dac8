/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Negative tests of twoway messages: every way a request, a response, a
 * one-to-many request or a saved context can be wrong, and every misuse of
 * the API, must give the specific error code the library documents (and
 * never TWOWAY_OK from a final call).
 *
 * Two suites: X25519/HKDF-SHA256/AES-128-GCM and
 * P-256/HKDF-SHA256/ChaCha20-Poly1305, one-to-one (chunked and not) and
 * one-to-many.
 *
 * The expected code of an altered or truncated message comes from a small
 * independent model of the format (expected_code below): the prefix, then the
 * chunk framing of docs/TWOWAY.md, where a chunk authenticates only if
 * it is the original chunk at the original position (with the original
 * key); everything else is a forgery and fails with TWOWAY_ERR_AUTH.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twoway/hpke_testing.h"
#include "twoway/message_internal.h"
#include "test.h"
#include "twoway_util.h"

#define KEY_ID 1
#define SEAL_CHUNK 64u /* full chunks: 80-byte ciphertexts, 2-byte varints */
#define TAG 16u
#define MAX_FRAMES 64

static const uint8_t req_media[] = "test/negative request";
static const uint8_t resp_media[] = "test/negative response";
#define REQ_MEDIA req_media, sizeof req_media - 1
#define RESP_MEDIA resp_media, sizeof resp_media - 1
static const uint8_t multi_aad[] = TW_MULTI_ENCAP_AAD;
static const uint8_t final_aad[] = {'f', 'i', 'n', 'a', 'l'};

static uint8_t req_pt[150], resp_pt[140];

/* Prints a failure's context (after the CHECK's own line). */
__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("    at: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define EXPECT_RC(got, want, ...)                                                                  \
    do {                                                                                           \
        if (!CHECK_EQ_INT((got), (want)))                                                          \
            note(__VA_ARGS__);                                                                     \
    } while (0)

/* ---------------------------------------------------------------- fixture */

typedef struct fx {
    const char *name;
    twoway_hpke_suite suite;
    twoway_hpke_key *sk, *pk, *sk2, *pk2;
    twoway_keyring *ring;       /* KEY_ID: sk */
    twoway_keyring *ring_other; /* KEY_ID: sk2 (same id and suite, another key) */
    twoway_keyring *ring_id2;   /* KEY_ID + 1: sk */
    uint64_t rng_state;
} fx;

static twoway_hpke_key *derive_key(const twoway_hpke_kem *kem, uint8_t tag)
{
    uint8_t ikm[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
    twoway_hpke_key *k = NULL;
    memset(ikm, tag, sizeof ikm);
    CHECK_EQ_INT(twoway_hpke_key_derive(kem, &k, ikm, kem->private_key_len), TWOWAY_OK);
    return k;
}

static twoway_hpke_key *public_of(const twoway_hpke_key *pair)
{
    size_t n = 0;
    const uint8_t *p = twoway_hpke_key_public(pair, &n);
    twoway_hpke_key *k = NULL;
    CHECK_EQ_INT(twoway_hpke_key_import_public(twoway_hpke_key_kem(pair), &k, p, n), TWOWAY_OK);
    return k;
}

static twoway_keyring *ring_with(uint8_t key_id, const twoway_hpke_suite *suite,
                                 const twoway_hpke_key *key)
{
    twoway_keyring *r = NULL;
    CHECK_EQ_INT(twoway_keyring_new(&r), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add(r, key_id, suite, key), TWOWAY_OK);
    return r;
}

static void fx_init(fx *f, const char *name, uint16_t kem, uint16_t kdf, uint16_t aead)
{
    memset(f, 0, sizeof *f);
    f->name = name;
    CHECK_EQ_INT(twoway_hpke_suite_from_ids(&f->suite, kem, kdf, aead), TWOWAY_OK);
    f->sk = derive_key(f->suite.kem, 0x11);
    f->pk = public_of(f->sk);
    f->sk2 = derive_key(f->suite.kem, 0x22);
    f->pk2 = public_of(f->sk2);
    f->ring = ring_with(KEY_ID, &f->suite, f->sk);
    f->ring_other = ring_with(KEY_ID, &f->suite, f->sk2);
    f->ring_id2 = ring_with(KEY_ID + 1, &f->suite, f->sk);
    f->rng_state = kem * 1000u + aead;
}

static void fx_free(fx *f)
{
    twoway_keyring_free(f->ring);
    twoway_keyring_free(f->ring_other);
    twoway_keyring_free(f->ring_id2);
    twoway_hpke_key_free(f->sk);
    twoway_hpke_key_free(f->pk);
    twoway_hpke_key_free(f->sk2);
    twoway_hpke_key_free(f->pk2);
}

/* Sealer options: deterministic randomness, SEAL_CHUNK-byte chunks. */
static twoway_options seal_opts(fx *f, int chunked)
{
    twoway_options o = TWOWAY_OPTIONS_INIT;
    o.chunked = chunked;
    o.max_chunk_len = SEAL_CHUNK;
    o.rng = test_counter_rng_fn;
    o.rng_ctx = &f->rng_state;
    return o;
}

static twoway_options open_opts(int chunked)
{
    twoway_options o = TWOWAY_OPTIONS_INIT;
    o.chunked = chunked;
    return o;
}

static size_t nonce_len_of(const twoway_hpke_suite *s)
{
    return tw_response_nonce_len(s);
}

/* A request and its response, both ways round. */
typedef struct exchange {
    fx *f;
    int chunked;
    twoway_sealer *req_sealer; /* the client: holds the client's context */
    twoway_opener *req_opener; /* the server: holds the server's context */
    test_buf req, resp;
} exchange;

static void exchange_make(exchange *x, fx *f, int chunked)
{
    memset(x, 0, sizeof *x);
    x->f = f;
    x->chunked = chunked;
    twoway_options so = seal_opts(f, chunked), oo = open_opts(chunked);
    twoway_sealer *rs = NULL;
    test_buf got = {0};
    CHECK_EQ_INT(
        twoway_request_sealer_new(&x->req_sealer, &f->suite, KEY_ID, f->pk, REQ_MEDIA, &so),
        TWOWAY_OK);
    CHECK_EQ_INT(test_seal_all(x->req_sealer, req_pt, sizeof req_pt, NULL, 0, &x->req), TWOWAY_OK);
    CHECK_EQ_INT(twoway_request_opener_new(&x->req_opener, f->ring, REQ_MEDIA, &oo), TWOWAY_OK);
    CHECK_EQ_INT(test_open_all(x->req_opener, x->req.p, x->req.len, 0, &got), TWOWAY_OK);
    CHECK(got.len == sizeof req_pt && memcmp(got.p, req_pt, got.len) == 0);
    CHECK_EQ_INT(
        twoway_response_sealer_new(&rs, twoway_opener_context(x->req_opener), RESP_MEDIA, &so),
        TWOWAY_OK);
    CHECK_EQ_INT(test_seal_all(rs, resp_pt, sizeof resp_pt, NULL, 0, &x->resp), TWOWAY_OK);
    twoway_sealer_free(rs);
    test_buf_free(&got);
}

static void exchange_free(exchange *x)
{
    twoway_sealer_free(x->req_sealer);
    twoway_opener_free(x->req_opener);
    test_buf_free(&x->req);
    test_buf_free(&x->resp);
}

static const twoway_context *client_ctx(const exchange *x)
{
    return twoway_sealer_context(x->req_sealer);
}

/* ----------------------------------------------------------------- framing */

static size_t varint_get(const uint8_t *p, size_t len, uint64_t *v)
{
    if (len == 0)
        return 0;
    size_t n = (size_t)1 << (p[0] >> 6);
    if (len < n)
        return 0;
    uint64_t x = p[0] & 0x3f;
    for (size_t i = 1; i < n; i++)
        x = x << 8 | p[i];
    *v = x;
    return n;
}

/* v in exactly width bytes (1, 2, 4 or 8): a non-minimal form when wider
 * than needed. */
static void varint_put_width(test_buf *b, uint64_t v, size_t width)
{
    uint8_t tmp[8];
    static const uint8_t tag[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
    for (size_t i = 0; i < width; i++)
        tmp[width - 1 - i] = (uint8_t)(v >> (8 * i));
    tmp[0] |= tag[width];
    test_buf_append(b, tmp, width);
}

typedef struct frame {
    size_t voff, off, len; /* varint at voff; ciphertext at off, len bytes */
    int final;
} frame;

/* The chunks of a valid chunked body msg[start..len). */
static size_t parse_frames(const uint8_t *msg, size_t len, size_t start, frame *fr, size_t max)
{
    size_t pos = start, n = 0;
    while (pos < len && n < max) {
        uint64_t v = 0;
        size_t vn = varint_get(msg + pos, len - pos, &v);
        if (!CHECK(vn > 0))
            return 0;
        fr[n].voff = pos;
        fr[n].off = pos + vn;
        fr[n].final = v == 0;
        fr[n].len = v == 0 ? len - pos - vn : (size_t)v;
        pos = fr[n].off + fr[n].len;
        n++;
        if (v == 0)
            break;
    }
    CHECK(n > 0 && fr[n - 1].final && pos == len);
    return n;
}

/* Appends frame f of msg (varint and ciphertext as they are). */
static void put_frame(test_buf *b, const uint8_t *msg, const frame *f)
{
    test_buf_append(b, msg + f->voff, f->off + f->len - f->voff);
}

/* ------------------------------------------------------------ the model */

enum kind { K_REQ, K_RESP, K_MULTI };

/* How to open a message: the kind of opener and what it needs. */
typedef struct target {
    enum kind kind;
    fx *f;
    const twoway_keyring *ring;
    const twoway_context *ctx; /* responses */
    const uint8_t *ek;         /* one-to-many: the encapsulated key */
    size_t ek_len;
    twoway_options oo;
} target;

static int target_open(const target *t, twoway_opener **o)
{
    switch (t->kind) {
    case K_REQ: return twoway_request_opener_new(o, t->ring, REQ_MEDIA, &t->oo);
    case K_RESP: return twoway_response_opener_new(o, t->ctx, RESP_MEDIA, &t->oo);
    case K_MULTI:
        return twoway_multi_request_opener_new(o, t->ring, REQ_MEDIA, t->ek, t->ek_len, &t->oo);
    }
    return TWOWAY_ERR_ARG;
}

/* The original message and what the opener accepts. */
typedef struct model {
    const target *t;
    const uint8_t *orig;
    size_t orig_len, prefix_len;
    int chunked;
    size_t open_max, max_message;
    size_t n;
    frame fr[MAX_FRAMES];
} model;

static void model_init(model *m, const target *t, const uint8_t *msg, size_t len)
{
    memset(m, 0, sizeof *m);
    m->t = t;
    m->orig = msg;
    m->orig_len = len;
    m->chunked = t->oo.chunked;
    m->open_max = t->oo.max_chunk_len ? t->oo.max_chunk_len : TWOWAY_DEFAULT_OPEN_CHUNK_LEN;
    m->max_message = t->oo.max_message_len ? t->oo.max_message_len : TWOWAY_DEFAULT_MAX_MESSAGE_LEN;
    const twoway_hpke_suite *s = &t->f->suite;
    switch (t->kind) {
    case K_REQ: m->prefix_len = TWOWAY_HEADER_LEN + s->kem->enc_len; break;
    case K_RESP: m->prefix_len = nonce_len_of(s); break;
    case K_MULTI: m->prefix_len = s->aead->nonce_len; break;
    }
    if (m->chunked)
        m->n = parse_frames(msg, len, m->prefix_len, m->fr, MAX_FRAMES);
}

/* A header that matches no entry of a one-entry ring. */
static int header_code(const uint8_t *h)
{
    uint16_t kem = (uint16_t)(h[1] << 8 | h[2]), kdf = (uint16_t)(h[3] << 8 | h[4]);
    uint16_t aead = (uint16_t)(h[5] << 8 | h[6]);
    if (twoway_hpke_kem_by_id(kem) == NULL || twoway_hpke_kdf_by_id(kdf) == NULL ||
        twoway_hpke_aead_by_id(aead) == NULL || aead == TWOWAY_HPKE_AEAD_EXPORT_ONLY)
        return TWOWAY_ERR_HEADER;
    return TWOWAY_ERR_KEY_MISMATCH;
}

/* An altered enc: X25519 takes any 32 bytes (the key schedule then differs:
 * AUTH later); an altered uncompressed P-256 point is not on the curve. */
static int enc_code(const twoway_hpke_kem *kem)
{
    return kem->id == TWOWAY_HPKE_KEM_X25519_SHA256 ? TWOWAY_OK : TWOWAY_ERR_KEY;
}

/* The body b[len] (after the prefix). */
static int body_code(const model *m, const uint8_t *b, size_t len, int key_ok)
{
    const uint8_t *ob = m->orig + m->prefix_len;
    size_t olen = m->orig_len - m->prefix_len;
    if (!m->chunked) {
        if (len > m->max_message + TAG)
            return TWOWAY_ERR_TOO_BIG;
        if (len < TAG)
            return TWOWAY_ERR_TRUNCATED;
        return key_ok && len == olen && memcmp(b, ob, len) == 0 ? TWOWAY_OK : TWOWAY_ERR_AUTH;
    }
    size_t pos = 0, idx = 0;
    for (;;) {
        uint64_t v = 0;
        if (pos == len)
            return TWOWAY_ERR_TRUNCATED; /* cut at a chunk boundary */
        size_t vn = varint_get(b + pos, len - pos, &v);
        if (vn == 0)
            return TWOWAY_ERR_TRUNCATED; /* cut inside a length */
        pos += vn;
        if (v == 0) {
            size_t rest = len - pos;
            if (rest > m->open_max + TAG)
                return TWOWAY_ERR_TOO_BIG;
            if (rest < TAG)
                return TWOWAY_ERR_AUTH;
            int ok = key_ok && idx < m->n && m->fr[idx].final && m->fr[idx].len == rest &&
                     memcmp(b + pos, m->orig + m->fr[idx].off, rest) == 0;
            return ok ? TWOWAY_OK : TWOWAY_ERR_AUTH;
        }
        if (v > m->open_max + TAG)
            return TWOWAY_ERR_TOO_BIG;
        if (v < TAG)
            return TWOWAY_ERR_FORMAT; /* too short to hold a tag */
        if (len - pos < v)
            return TWOWAY_ERR_TRUNCATED; /* cut inside a chunk */
        int ok = key_ok && idx < m->n && !m->fr[idx].final && m->fr[idx].len == v &&
                 memcmp(b + pos, m->orig + m->fr[idx].off, (size_t)v) == 0;
        if (!ok)
            return TWOWAY_ERR_AUTH;
        if (v == TAG)
            return TWOWAY_ERR_EMPTY_CHUNK; /* authentic but empty (chunked-08 §6) */
        pos += (size_t)v;
        idx++;
    }
}

static int expected_code(const model *m, const uint8_t *msg, size_t len)
{
    int key_ok = 1;
    if (m->t->kind == K_REQ) {
        if (len < TWOWAY_HEADER_LEN)
            return TWOWAY_ERR_HEADER;
        if (memcmp(msg, m->orig, TWOWAY_HEADER_LEN) != 0)
            return header_code(msg);
        if (len < m->prefix_len)
            return TWOWAY_ERR_TRUNCATED;
        if (memcmp(msg + TWOWAY_HEADER_LEN, m->orig + TWOWAY_HEADER_LEN,
                   m->prefix_len - TWOWAY_HEADER_LEN) != 0) {
            int rc = enc_code(m->t->f->suite.kem);
            if (rc != TWOWAY_OK)
                return rc;
            key_ok = 0;
        }
    } else {
        if (len < m->prefix_len)
            return TWOWAY_ERR_TRUNCATED;
        key_ok = memcmp(msg, m->orig, m->prefix_len) == 0;
    }
    return body_code(m, msg + m->prefix_len, len - m->prefix_len, key_ok);
}

/*
 * Opens msg[len] with a fresh opener of t, in pieces of step bytes (0: all
 * in one final call). After an error the opener must refuse everything.
 * Appends the plaintext to pt (if not NULL).
 */
static int open_with(const target *t, const uint8_t *msg, size_t len, size_t step, test_buf *pt)
{
    twoway_opener *o = NULL;
    test_buf tmp = {0};
    int rc = target_open(t, &o);
    if (rc != TWOWAY_OK)
        return rc;
    rc = test_open_all(o, msg, len, step, pt != NULL ? pt : &tmp);
    if (rc != TWOWAY_OK) {
        uint8_t out[64];
        size_t n = sizeof out;
        /* (*out_len is left as it was on a STATE error) */
        if (!CHECK_EQ_INT(twoway_opener_update(o, out, &n, msg, len < 8 ? len : 8),
                          TWOWAY_ERR_STATE))
            note("update after error %d", rc);
        n = sizeof out;
        if (!CHECK_EQ_INT(twoway_opener_final(o, out, &n, NULL, 0), TWOWAY_ERR_STATE))
            note("final after error %d", rc);
    } else {
        uint8_t out[8];
        size_t n = sizeof out;
        CHECK_EQ_INT(twoway_opener_final(o, out, &n, NULL, 0), TWOWAY_ERR_STATE);
    }
    twoway_opener_free(o);
    test_buf_free(&tmp);
    return rc;
}

static const char *kind_name(enum kind k)
{
    return k == K_REQ ? "request" : k == K_RESP ? "response" : "multi body";
}

/* The original opens; the model agrees. */
static void check_original(const model *m, const uint8_t *want, size_t want_len, const char *what)
{
    test_buf pt = {0};
    EXPECT_RC(expected_code(m, m->orig, m->orig_len), TWOWAY_OK, "%s model", what);
    EXPECT_RC(open_with(m->t, m->orig, m->orig_len, 0, &pt), TWOWAY_OK, "%s original", what);
    CHECK(pt.len == want_len && memcmp(pt.p, want, want_len) == 0);
    test_buf_free(&pt);
}

/* ------------------------------------------------------------- truncation */

static void truncations(const model *m, const char *what)
{
    static const size_t steps[] = {0, 1, 7};
    for (size_t k = 0; k < m->orig_len; k++) {
        int want = expected_code(m, m->orig, k);
        if (!CHECK(want != TWOWAY_OK))
            note("%s: the model accepts a cut at %zu", what, k);
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++)
            EXPECT_RC(open_with(m->t, m->orig, k, steps[s], NULL), want,
                      "%s cut at %zu of %zu, step %zu", what, k, m->orig_len, steps[s]);
    }
    if (!m->chunked)
        return;
    /* exactly at chunk boundaries, and before the final chunk */
    for (size_t i = 0; i < m->n; i++) {
        EXPECT_RC(open_with(m->t, m->orig, m->fr[i].voff, 0, NULL), TWOWAY_ERR_TRUNCATED,
                  "%s cut before chunk %zu", what, i);
        EXPECT_RC(open_with(m->t, m->orig, m->fr[i].voff, 1, NULL), TWOWAY_ERR_TRUNCATED,
                  "%s cut before chunk %zu, bytewise", what, i);
    }
    /* inside a 2-byte length */
    CHECK(m->fr[0].off - m->fr[0].voff == 2);
    EXPECT_RC(open_with(m->t, m->orig, m->fr[0].voff + 1, 0, NULL), TWOWAY_ERR_TRUNCATED,
              "%s cut inside a length", what);
}

/* --------------------------------------------------------------- bit flips */

static void bitflips(const model *m, const char *what)
{
    uint8_t *b = malloc(m->orig_len);
    memcpy(b, m->orig, m->orig_len);
    for (size_t i = 0; i < m->orig_len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            int want = expected_code(m, b, m->orig_len);
            if (!CHECK(want != TWOWAY_OK))
                note("%s: the model accepts a flip at %zu.%d", what, i, bit);
            EXPECT_RC(open_with(m->t, b, m->orig_len, 0, NULL), want, "%s flip at byte %zu bit %d",
                      what, i, bit);
            if ((size_t)bit == i % 8)
                EXPECT_RC(open_with(m->t, b, m->orig_len, 1, NULL), want,
                          "%s flip at byte %zu bit %d, bytewise", what, i, bit);
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    free(b);
}

/* ------------------------------------------------ chunk manipulations */

/* The message with its chunks in the order idx[0..n) (prefix kept). */
static void reframe(test_buf *out, const model *m, const size_t *idx, size_t n)
{
    out->len = 0;
    test_buf_append(out, m->orig, m->prefix_len);
    for (size_t i = 0; i < n; i++)
        put_frame(out, m->orig, &m->fr[idx[i]]);
}

static void chunk_games(const model *m, const uint8_t *want, size_t want_len, const char *what)
{
    test_buf b = {0}, pt = {0};
    const size_t nf = m->n; /* the last one is the final chunk */
    size_t idx[MAX_FRAMES + 2];
    CHECK(nf >= 4); /* three data chunks and the final one */

    /* reordered: 1 0 2 F */
    size_t order[] = {1, 0, 2, nf - 1};
    reframe(&b, m, order, 4);
    EXPECT_RC(open_with(m->t, b.p, b.len, 0, NULL), TWOWAY_ERR_AUTH, "%s reordered", what);
    EXPECT_RC(open_with(m->t, b.p, b.len, 1, NULL), TWOWAY_ERR_AUTH, "%s reordered, bytewise",
              what);
    /* duplicated: 0 0 1 2 F, and 0 1 2 2 F */
    size_t dup1[] = {0, 0, 1, 2, nf - 1}, dup2[] = {0, 1, 2, 2, nf - 1};
    reframe(&b, m, dup1, 5);
    EXPECT_RC(open_with(m->t, b.p, b.len, 0, NULL), TWOWAY_ERR_AUTH, "%s chunk 0 twice", what);
    reframe(&b, m, dup2, 5);
    EXPECT_RC(open_with(m->t, b.p, b.len, 3, NULL), TWOWAY_ERR_AUTH, "%s chunk 2 twice", what);
    /* the final chunk twice: data after the final chunk */
    size_t dupf[] = {0, 1, 2, nf - 1, nf - 1};
    reframe(&b, m, dupf, 5);
    EXPECT_RC(open_with(m->t, b.p, b.len, 0, NULL), TWOWAY_ERR_AUTH, "%s final twice", what);
    /* dropped: each data chunk in turn */
    for (size_t d = 0; d + 1 < nf; d++) {
        size_t k = 0;
        for (size_t i = 0; i < nf; i++)
            if (i != d)
                idx[k++] = i;
        reframe(&b, m, idx, k);
        EXPECT_RC(open_with(m->t, b.p, b.len, 0, NULL), TWOWAY_ERR_AUTH, "%s chunk %zu dropped",
                  what, d);
        EXPECT_RC(open_with(m->t, b.p, b.len, 5, NULL), TWOWAY_ERR_AUTH,
                  "%s chunk %zu dropped, in pieces", what, d);
    }
    /* the final chunk dropped: truncated */
    for (size_t i = 0; i + 1 < nf; i++)
        idx[i] = i;
    reframe(&b, m, idx, nf - 1);
    EXPECT_RC(open_with(m->t, b.p, b.len, 0, NULL), TWOWAY_ERR_TRUNCATED, "%s final dropped", what);
    EXPECT_RC(open_with(m->t, b.p, b.len, 1, NULL), TWOWAY_ERR_TRUNCATED,
              "%s final dropped, bytewise", what);
    /* only the final chunk: the data chunks dropped */
    idx[0] = nf - 1;
    reframe(&b, m, idx, 1);
    EXPECT_RC(open_with(m->t, b.p, b.len, 0, NULL), TWOWAY_ERR_AUTH, "%s only the final chunk",
              what);

    /* Data after the final chunk, with an opener whose max is SEAL_CHUNK:
     * the final chunk's ciphertext may be SEAL_CHUNK + 16 bytes (the empty
     * final chunk has 16). */
    target t2 = *m->t;
    t2.oo.max_chunk_len = SEAL_CHUNK;
    size_t room = SEAL_CHUNK + TAG - m->fr[nf - 1].len;
    static const uint8_t junk[SEAL_CHUNK + 1];
    b.len = 0;
    test_buf_append(&b, m->orig, m->orig_len);
    test_buf_append(&b, junk, 1);
    EXPECT_RC(open_with(&t2, b.p, b.len, 0, NULL), TWOWAY_ERR_AUTH, "%s 1 byte after final", what);
    b.len = 0;
    test_buf_append(&b, m->orig, m->orig_len);
    test_buf_append(&b, junk, room);
    EXPECT_RC(open_with(&t2, b.p, b.len, 0, NULL), TWOWAY_ERR_AUTH, "%s max after final", what);
    EXPECT_RC(open_with(&t2, b.p, b.len, 1, NULL), TWOWAY_ERR_AUTH, "%s max after final, bytewise",
              what);
    test_buf_append(&b, junk, 1);
    EXPECT_RC(open_with(&t2, b.p, b.len, 0, NULL), TWOWAY_ERR_TOO_BIG, "%s max+1 after final",
              what);
    EXPECT_RC(open_with(&t2, b.p, b.len, 1, NULL), TWOWAY_ERR_TOO_BIG,
              "%s max+1 after final, bytewise", what);
    EXPECT_RC(open_with(&t2, b.p, b.len, 13, NULL), TWOWAY_ERR_TOO_BIG,
              "%s max+1 after final, in pieces", what);
    /* with the default opener (16384): far more after the final chunk */
    {
        size_t big = TWOWAY_DEFAULT_OPEN_CHUNK_LEN + TAG - m->fr[nf - 1].len + 1;
        uint8_t *z = calloc(1, big);
        b.len = 0;
        test_buf_append(&b, m->orig, m->orig_len);
        test_buf_append(&b, z, big);
        EXPECT_RC(open_with(m->t, b.p, b.len, 0, NULL), TWOWAY_ERR_TOO_BIG,
                  "%s default max+1 after final", what);
        EXPECT_RC(open_with(m->t, b.p, b.len - 1, 0, NULL), TWOWAY_ERR_AUTH,
                  "%s default max after final", what);
        free(z);
    }

    /* A chunk longer than the opener's max_chunk_len: the sealer's chunks
     * are SEAL_CHUNK bytes; an opener of SEAL_CHUNK - 1 refuses them. */
    t2.oo.max_chunk_len = SEAL_CHUNK - 1;
    EXPECT_RC(open_with(&t2, m->orig, m->orig_len, 0, NULL), TWOWAY_ERR_TOO_BIG, "%s chunk > max",
              what);
    EXPECT_RC(open_with(&t2, m->orig, m->orig_len, 1, NULL), TWOWAY_ERR_TOO_BIG,
              "%s chunk > max, bytewise", what);
    t2.oo.max_chunk_len = SEAL_CHUNK;
    pt.len = 0;
    EXPECT_RC(open_with(&t2, m->orig, m->orig_len, 0, &pt), TWOWAY_OK, "%s chunk == max", what);

    /* Non-minimal lengths are accepted (Go's quicvarint does), in every width
     * up to 8 bytes; the final chunk's 0 too (0x40 0x00 ...). */
    static const size_t widths[] = {2, 4, 8};
    for (size_t w = 0; w < 3; w++) {
        b.len = 0;
        test_buf_append(&b, m->orig, m->prefix_len);
        for (size_t i = 0; i < nf; i++) {
            varint_put_width(&b, m->fr[i].final ? 0 : m->fr[i].len, widths[w]);
            test_buf_append(&b, m->orig + m->fr[i].off, m->fr[i].len);
        }
        pt.len = 0;
        EXPECT_RC(open_with(m->t, b.p, b.len, 0, &pt), TWOWAY_OK, "%s non-minimal width %zu", what,
                  widths[w]);
        CHECK(pt.len == want_len && memcmp(pt.p, want, want_len) == 0);
        pt.len = 0;
        EXPECT_RC(open_with(m->t, b.p, b.len, 1, &pt), TWOWAY_OK,
                  "%s non-minimal width %zu, bytewise", what, widths[w]);
        CHECK(pt.len == want_len && memcmp(pt.p, want, want_len) == 0);
    }
    /* a length that is 1 byte off either way */
    for (int d = -1; d <= 1; d += 2) {
        b.len = 0;
        test_buf_append(&b, m->orig, m->prefix_len);
        varint_put_width(&b, (uint64_t)((long)m->fr[0].len + d), 2);
        test_buf_append(&b, m->orig + m->fr[0].off, m->orig_len - m->fr[0].off);
        EXPECT_RC(open_with(m->t, b.p, b.len, 0, NULL), TWOWAY_ERR_AUTH, "%s length %+d", what, d);
    }
    test_buf_free(&b);
    test_buf_free(&pt);
}

/* ------------------------------------------------- one-to-one messages */

static void one_to_one_messages(fx *f, int chunked)
{
    exchange x;
    char what[96];
    exchange_make(&x, f, chunked);

    target treq = {K_REQ, f, f->ring, NULL, NULL, 0, open_opts(chunked)};
    target tresp = {K_RESP, f, NULL, client_ctx(&x), NULL, 0, open_opts(chunked)};
    model mreq, mresp;
    model_init(&mreq, &treq, x.req.p, x.req.len);
    model_init(&mresp, &tresp, x.resp.p, x.resp.len);

    snprintf(what, sizeof what, "%s %s request", f->name, chunked ? "chunked" : "unchunked");
    check_original(&mreq, req_pt, sizeof req_pt, what);
    truncations(&mreq, what);
    bitflips(&mreq, what);
    if (chunked)
        chunk_games(&mreq, req_pt, sizeof req_pt, what);

    snprintf(what, sizeof what, "%s %s response", f->name, chunked ? "chunked" : "unchunked");
    check_original(&mresp, resp_pt, sizeof resp_pt, what);
    truncations(&mresp, what);
    bitflips(&mresp, what);
    if (chunked)
        chunk_games(&mresp, resp_pt, sizeof resp_pt, what);

    /* the response truncated inside its nonce, explicitly */
    for (size_t k = 0; k < mresp.prefix_len; k++)
        EXPECT_RC(open_with(&tresp, x.resp.p, k, 0, NULL), TWOWAY_ERR_TRUNCATED,
                  "%s nonce cut at %zu", what, k);

    /* Chunked or not is not on the wire: a mismatch fails. A chunked body
     * opened whole is one forged AEAD; a whole body read as chunks has no
     * authentic chunk (the model with no chunks says where it fails). */
    const struct {
        const target *t;
        const model *m;
        const test_buf *msg;
        const char *name;
    } mism[2] = {{&treq, &mreq, &x.req, "request"}, {&tresp, &mresp, &x.resp, "response"}};
    for (size_t i = 0; i < 2; i++) {
        target t2 = *mism[i].t;
        model m2 = *mism[i].m;
        t2.oo.chunked = !chunked;
        m2.t = &t2;
        m2.chunked = !chunked;
        m2.n = 0;
        int want = chunked ? TWOWAY_ERR_AUTH : expected_code(&m2, mism[i].msg->p, mism[i].msg->len);
        CHECK(want != TWOWAY_OK);
        EXPECT_RC(open_with(&t2, mism[i].msg->p, mism[i].msg->len, 0, NULL), want,
                  "%s %s opened with chunked=%d", f->name, mism[i].name, !chunked);
        EXPECT_RC(open_with(&t2, mism[i].msg->p, mism[i].msg->len, 1, NULL), want,
                  "%s %s opened with chunked=%d, bytewise", f->name, mism[i].name, !chunked);
    }

    exchange_free(&x);
}

/* ------------------------------------------ media types, keys, suites */

/* A request of f's KEM under another suite or key id, sealed to f->pk. */
static void seal_request_as(fx *f, const twoway_hpke_suite *suite, uint8_t key_id, int chunked,
                            test_buf *out)
{
    twoway_options so = seal_opts(f, chunked);
    twoway_sealer *s = NULL;
    out->len = 0;
    CHECK_EQ_INT(twoway_request_sealer_new(&s, suite, key_id, f->pk, REQ_MEDIA, &so), TWOWAY_OK);
    CHECK_EQ_INT(test_seal_all(s, req_pt, sizeof req_pt, NULL, 0, out), TWOWAY_OK);
    twoway_sealer_free(s);
}

static void wrong_inputs(fx *f, int chunked)
{
    exchange x, y;
    twoway_options oo = open_opts(chunked);
    twoway_opener *o = NULL;
    test_buf pt = {0}, m = {0};
    static const uint8_t other[] = "test/negative requesT";
    const char *cs = chunked ? "chunked" : "unchunked";
    exchange_make(&x, f, chunked);
    exchange_make(&y, f, chunked);
    target treq = {K_REQ, f, f->ring, NULL, NULL, 0, oo};
    target tresp = {K_RESP, f, NULL, client_ctx(&x), NULL, 0, oo};

    /* wrong request media type: another string, the empty one */
    CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, other, sizeof other - 1, &oo), TWOWAY_OK);
    EXPECT_RC(test_open_all(o, x.req.p, x.req.len, 0, &pt), TWOWAY_ERR_AUTH,
              "%s %s request, other media type", f->name, cs);
    twoway_opener_free(o);
    CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, NULL, 0, &oo), TWOWAY_OK);
    EXPECT_RC(test_open_all(o, x.req.p, x.req.len, 1, &pt), TWOWAY_ERR_AUTH,
              "%s %s request, empty media type", f->name, cs);
    twoway_opener_free(o);
    /* wrong response media type; the request's media type as the response's */
    CHECK_EQ_INT(twoway_response_opener_new(&o, client_ctx(&x), other, sizeof other - 1, &oo),
                 TWOWAY_OK);
    EXPECT_RC(test_open_all(o, x.resp.p, x.resp.len, 0, &pt), TWOWAY_ERR_AUTH,
              "%s %s response, other media type", f->name, cs);
    twoway_opener_free(o);
    CHECK_EQ_INT(twoway_response_opener_new(&o, client_ctx(&x), REQ_MEDIA, &oo), TWOWAY_OK);
    EXPECT_RC(test_open_all(o, x.resp.p, x.resp.len, 7, &pt), TWOWAY_ERR_AUTH,
              "%s %s response, request media type", f->name, cs);
    twoway_opener_free(o);

    /* a response given to another request's context, both ways */
    target ty = tresp;
    ty.ctx = client_ctx(&y);
    EXPECT_RC(open_with(&ty, x.resp.p, x.resp.len, 0, NULL), TWOWAY_ERR_AUTH,
              "%s %s response to another request", f->name, cs);
    EXPECT_RC(open_with(&tresp, y.resp.p, y.resp.len, 1, NULL), TWOWAY_ERR_AUTH,
              "%s %s response to another request, bytewise", f->name, cs);

    /* no key for the key id (found at the 7th byte); the same id with another key */
    target t2 = treq;
    t2.ring = f->ring_id2;
    EXPECT_RC(open_with(&t2, x.req.p, x.req.len, 0, NULL), TWOWAY_ERR_KEY_MISMATCH,
              "%s %s key id not in the ring", f->name, cs);
    EXPECT_RC(open_with(&t2, x.req.p, TWOWAY_HEADER_LEN, 0, NULL), TWOWAY_ERR_KEY_MISMATCH,
              "%s %s key id not in the ring, header only", f->name, cs);
    EXPECT_RC(open_with(&t2, x.req.p, x.req.len, 1, NULL), TWOWAY_ERR_KEY_MISMATCH,
              "%s %s key id not in the ring, bytewise", f->name, cs);
    t2.ring = f->ring_other;
    EXPECT_RC(open_with(&t2, x.req.p, x.req.len, 0, NULL), TWOWAY_ERR_AUTH,
              "%s %s another key under the key id", f->name, cs);
    /* sealed under key id 7 */
    seal_request_as(f, &f->suite, 7, chunked, &m);
    EXPECT_RC(open_with(&treq, m.p, m.len, 0, NULL), TWOWAY_ERR_KEY_MISMATCH,
              "%s %s sealed to key id 7", f->name, cs);

    /* another supported suite the ring lacks: another AEAD, another KDF */
    twoway_hpke_suite other_suite;
    uint16_t other_aead = f->suite.aead->id == TWOWAY_HPKE_AEAD_AES_256_GCM
                              ? TWOWAY_HPKE_AEAD_AES_128_GCM
                              : TWOWAY_HPKE_AEAD_AES_256_GCM;
    CHECK_EQ_INT(
        twoway_hpke_suite_from_ids(&other_suite, f->suite.kem->id, f->suite.kdf->id, other_aead),
        TWOWAY_OK);
    seal_request_as(f, &other_suite, KEY_ID, chunked, &m);
    EXPECT_RC(open_with(&treq, m.p, m.len, 0, NULL), TWOWAY_ERR_KEY_MISMATCH,
              "%s %s sealed with AEAD %#x", f->name, cs, other_aead);
    CHECK_EQ_INT(twoway_hpke_suite_from_ids(&other_suite, f->suite.kem->id,
                                            TWOWAY_HPKE_KDF_HKDF_SHA384, f->suite.aead->id),
                 TWOWAY_OK);
    seal_request_as(f, &other_suite, KEY_ID, chunked, &m);
    EXPECT_RC(open_with(&treq, m.p, m.len, 1, NULL), TWOWAY_ERR_KEY_MISMATCH,
              "%s %s sealed with HKDF-SHA384", f->name, cs);

    /* the header edited: known ids the ring lacks, unknown ids */
    static const struct {
        size_t off;
        uint16_t id;
        int want;
    } edits[] = {
        {1, TWOWAY_HPKE_KEM_X448_SHA512, TWOWAY_ERR_KEY_MISMATCH},
        {1, TWOWAY_HPKE_KEM_P384_SHA384, TWOWAY_ERR_KEY_MISMATCH},
        {1, 0x0030, TWOWAY_ERR_HEADER}, /* X25519Kyber768Draft00: not built in */
        {1, 0x647a, TWOWAY_ERR_HEADER}, /* X-Wing: not built in */
        {1, 0x0000, TWOWAY_ERR_HEADER},
        {3, TWOWAY_HPKE_KDF_HKDF_SHA512, TWOWAY_ERR_KEY_MISMATCH},
        {3, 0x0000, TWOWAY_ERR_HEADER},
        {3, 0x0004, TWOWAY_ERR_HEADER},
        {5, TWOWAY_HPKE_AEAD_AES_256_GCM, TWOWAY_ERR_KEY_MISMATCH},
        {5, 0x0000, TWOWAY_ERR_HEADER},
        {5, 0x0004, TWOWAY_ERR_HEADER},
        {5, TWOWAY_HPKE_AEAD_EXPORT_ONLY, TWOWAY_ERR_HEADER},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        m.len = 0;
        test_buf_append(&m, x.req.p, x.req.len);
        if (edits[i].off == 5 && edits[i].id == f->suite.aead->id)
            continue;
        m.p[edits[i].off] = (uint8_t)(edits[i].id >> 8);
        m.p[edits[i].off + 1] = (uint8_t)edits[i].id;
        EXPECT_RC(open_with(&treq, m.p, m.len, 0, NULL), edits[i].want,
                  "%s %s header id %#x at %zu", f->name, cs, edits[i].id, edits[i].off);
        EXPECT_RC(open_with(&treq, m.p, TWOWAY_HEADER_LEN, 1, NULL), edits[i].want,
                  "%s %s header id %#x at %zu, header alone", f->name, cs, edits[i].id,
                  edits[i].off);
    }
    /* the header shorter than 7 bytes, whole or in pieces */
    for (size_t k = 0; k < TWOWAY_HEADER_LEN; k++) {
        twoway_header h;
        EXPECT_RC(open_with(&treq, x.req.p, k, 0, NULL), TWOWAY_ERR_HEADER, "header of %zu", k);
        EXPECT_RC(open_with(&treq, x.req.p, k, 2, NULL), TWOWAY_ERR_HEADER, "header of %zu", k);
        EXPECT_RC(twoway_header_parse(&h, x.req.p, k), TWOWAY_ERR_HEADER, "parse of %zu", k);
    }

    /* enc: all zero (X25519: a small-order point, DH; P-256: not a point),
     * the uncompressed marker changed, another valid key (AUTH) */
    size_t nenc = f->suite.kem->enc_len;
    int x25519 = f->suite.kem->id == TWOWAY_HPKE_KEM_X25519_SHA256;
    m.len = 0;
    test_buf_append(&m, x.req.p, x.req.len);
    memset(m.p + TWOWAY_HEADER_LEN, 0, nenc);
    EXPECT_RC(open_with(&treq, m.p, m.len, 0, NULL), x25519 ? TWOWAY_ERR_DH : TWOWAY_ERR_KEY,
              "%s %s enc all zero", f->name, cs);
    if (x25519) {
        m.p[TWOWAY_HEADER_LEN] = 1; /* u = 1: a point of order 4 */
        EXPECT_RC(open_with(&treq, m.p, m.len, 0, NULL), TWOWAY_ERR_DH, "%s %s enc = 1", f->name,
                  cs);
    } else {
        memcpy(m.p + TWOWAY_HEADER_LEN, x.req.p + TWOWAY_HEADER_LEN, nenc);
        m.p[TWOWAY_HEADER_LEN] = 0x02; /* compressed form: refused */
        EXPECT_RC(open_with(&treq, m.p, m.len, 0, NULL), TWOWAY_ERR_KEY,
                  "%s %s enc compressed marker", f->name, cs);
    }
    size_t pkl = 0;
    const uint8_t *pk2 = twoway_hpke_key_public(f->pk2, &pkl);
    memcpy(m.p + TWOWAY_HEADER_LEN, pk2, nenc);
    EXPECT_RC(open_with(&treq, m.p, m.len, 0, NULL), TWOWAY_ERR_AUTH, "%s %s enc of another key",
              f->name, cs);

    test_buf_free(&pt);
    test_buf_free(&m);
    exchange_free(&x);
    exchange_free(&y);
}

static void header_parse(void)
{
    uint8_t b[8] = {KEY_ID, 0x00, 0x20, 0x00, 0x01, 0x00, 0x01, 0xee};
    twoway_header h;
    CHECK_EQ_INT(twoway_header_parse(&h, b, 8), TWOWAY_OK); /* later bytes ignored */
    CHECK(h.key_id == KEY_ID && h.kem_id == 0x20 && h.kdf_id == 1 && h.aead_id == 1);
    for (size_t k = 0; k < TWOWAY_HEADER_LEN; k++)
        EXPECT_RC(twoway_header_parse(&h, b, k), TWOWAY_ERR_HEADER, "parse of %zu", k);
    EXPECT_RC(twoway_header_parse(&h, NULL, 0), TWOWAY_ERR_HEADER, "parse of NULL, 0");
    EXPECT_RC(twoway_header_parse(&h, NULL, 7), TWOWAY_ERR_ARG, "parse of NULL, 7");
    EXPECT_RC(twoway_header_parse(NULL, b, 7), TWOWAY_ERR_ARG, "parse into NULL");
    b[6] = 0xff;
    b[5] = 0xff;
    EXPECT_RC(twoway_header_parse(&h, b, 7), TWOWAY_ERR_HEADER, "export-only AEAD");
    b[5] = 0;
    b[6] = 4;
    EXPECT_RC(twoway_header_parse(&h, b, 7), TWOWAY_ERR_HEADER, "AEAD 4");
    b[6] = 3;
    b[4] = 4;
    EXPECT_RC(twoway_header_parse(&h, b, 7), TWOWAY_ERR_HEADER, "KDF 4");
    b[4] = 3;
    b[2] = 0x30;
    EXPECT_RC(twoway_header_parse(&h, b, 7), TWOWAY_ERR_HEADER, "KEM 0x30");
    b[2] = 0x12;
    CHECK_EQ_INT(twoway_header_parse(&h, b, 7), TWOWAY_OK);
}

/* ------------------------------------------- hand-built chunk streams */

static const uint8_t fixed_key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                      23, 24, 25, 26, 27, 28, 29, 30, 31};
static const uint8_t fixed_nonce[12] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
                                        0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab};

/* A chunk of pt[len] sealed with the next nonce of a (aad "final" if final),
 * appended to b with its length (0 for the final chunk). */
static void put_chunk(test_buf *b, tw_aead *a, const uint8_t *pt, size_t len, int final)
{
    uint8_t ct[512];
    size_t tag = tw_aead_tag_len(a);
    varint_put_width(b, final ? 0 : len + tag, 1);
    CHECK_EQ_INT(final ? tw_aead_seal(a, ct, final_aad, sizeof final_aad, pt, len)
                       : tw_aead_seal(a, ct, NULL, 0, pt, len),
                 TWOWAY_OK);
    test_buf_append(b, ct, len + tag);
}

static int body_open_all(uint16_t aead_id, const uint8_t *msg, size_t len, size_t step,
                         test_buf *pt)
{
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    tw_opts o;
    tw_body b;
    opt.chunked = 1;
    CHECK_EQ_INT(tw_opts_resolve(&o, &opt, 0), TWOWAY_OK);
    tw_body_init(&b, &o);
    CHECK_EQ_INT(
        tw_aead_init_counter(&b.aead, twoway_hpke_aead_by_id(aead_id), fixed_key, fixed_nonce),
        TWOWAY_OK);
    int rc = TWOWAY_OK;
    size_t off = 0;
    if (step == 0)
        step = len;
    do {
        size_t n = len - off < step ? len - off : step, w = 0;
        int final = off + n == len;
        test_buf_reserve(pt, tw_body_open_bound(&b, n, final) + 1);
        rc = tw_body_open(&b, pt->p + pt->len, &w, msg + off, n, final);
        pt->len += w;
        off += n;
        if (final)
            break;
    } while (rc == TWOWAY_OK);
    tw_body_clear(&b);
    return rc;
}

/* Empty non-final chunks (chunked-08 §6: a decryption error) and too-short
 * ones, with a valid tag; a final chunk with content (accepted). */
static void hand_built_bodies(void)
{
    static const uint16_t aeads[] = {TWOWAY_HPKE_AEAD_AES_128_GCM,
                                     TWOWAY_HPKE_AEAD_CHACHA20_POLY1305};
    static const uint8_t abc[] = {'a', 'b', 'c'};
    for (size_t i = 0; i < 2; i++) {
        const twoway_hpke_aead *aead = twoway_hpke_aead_by_id(aeads[i]);
        test_buf b = {0}, pt = {0};
        tw_aead a;
        /* control: abc, final */
        CHECK_EQ_INT(tw_aead_init_counter(&a, aead, fixed_key, fixed_nonce), TWOWAY_OK);
        put_chunk(&b, &a, abc, 3, 0);
        put_chunk(&b, &a, NULL, 0, 1);
        tw_aead_clear(&a);
        CHECK_EQ_INT(body_open_all(aeads[i], b.p, b.len, 0, &pt), TWOWAY_OK);
        CHECK(pt.len == 3 && memcmp(pt.p, abc, 3) == 0);
        /* empty, abc, final: the empty chunk has a valid tag */
        for (int where = 0; where < 2; where++) {
            b.len = pt.len = 0;
            CHECK_EQ_INT(tw_aead_init_counter(&a, aead, fixed_key, fixed_nonce), TWOWAY_OK);
            if (where == 0)
                put_chunk(&b, &a, NULL, 0, 0);
            put_chunk(&b, &a, abc, 3, 0);
            if (where == 1)
                put_chunk(&b, &a, NULL, 0, 0);
            put_chunk(&b, &a, NULL, 0, 1);
            tw_aead_clear(&a);
            for (size_t step = 0; step < 3; step++)
                EXPECT_RC(body_open_all(aeads[i], b.p, b.len, step, &pt), TWOWAY_ERR_EMPTY_CHUNK,
                          "empty non-final chunk %s, aead %u, step %zu", where ? "last" : "first",
                          aeads[i], step);
            CHECK_EQ_UINT(pt.len, where ? 3 * 2 : 0); /* abc, released by both split runs */
        }
        /* lengths 1..16: too short for a chunk with data */
        for (uint8_t v = 1; v <= TAG; v++) {
            uint8_t m[1 + TAG + 1];
            memset(m, 0x5a, sizeof m);
            m[0] = v;
            pt.len = 0;
            /* too short for a tag: malformed at once; an empty chunk is read
             * first (cut: truncated; whole but forged: AUTH) */
            int want = v == TAG ? TWOWAY_ERR_AUTH : TWOWAY_ERR_FORMAT;
            EXPECT_RC(body_open_all(aeads[i], m, 1 + v, 0, &pt), want, "chunk length %u", v);
            EXPECT_RC(body_open_all(aeads[i], m, 1, 0, &pt),
                      v == TAG ? TWOWAY_ERR_TRUNCATED : TWOWAY_ERR_FORMAT, "chunk length %u alone",
                      v);
        }
        /* a final chunk with content, after a data chunk and alone */
        b.len = pt.len = 0;
        CHECK_EQ_INT(tw_aead_init_counter(&a, aead, fixed_key, fixed_nonce), TWOWAY_OK);
        put_chunk(&b, &a, abc, 3, 0);
        put_chunk(&b, &a, abc, 2, 1);
        tw_aead_clear(&a);
        CHECK_EQ_INT(body_open_all(aeads[i], b.p, b.len, 0, &pt), TWOWAY_OK);
        CHECK(pt.len == 5 && memcmp(pt.p, "abcab", 5) == 0);
        pt.len = 0;
        CHECK_EQ_INT(body_open_all(aeads[i], b.p, b.len, 1, &pt), TWOWAY_OK);
        CHECK(pt.len == 5 && memcmp(pt.p, "abcab", 5) == 0);
        /* a non-final chunk sealed with "final", a final one sealed without */
        b.len = pt.len = 0;
        CHECK_EQ_INT(tw_aead_init_counter(&a, aead, fixed_key, fixed_nonce), TWOWAY_OK);
        put_chunk(&b, &a, abc, 3, 1);
        b.p[0] = (uint8_t)(3 + TAG);
        put_chunk(&b, &a, NULL, 0, 1);
        tw_aead_clear(&a);
        EXPECT_RC(body_open_all(aeads[i], b.p, b.len, 0, &pt), TWOWAY_ERR_AUTH,
                  "non-final chunk with aad final");
        b.len = pt.len = 0;
        CHECK_EQ_INT(tw_aead_init_counter(&a, aead, fixed_key, fixed_nonce), TWOWAY_OK);
        put_chunk(&b, &a, abc, 3, 0);
        b.p[0] = 0;
        EXPECT_RC(body_open_all(aeads[i], b.p, b.len, 0, &pt), TWOWAY_ERR_AUTH,
                  "final chunk without aad final");
        tw_aead_clear(&a);
        test_buf_free(&b);
        test_buf_free(&pt);
    }
}

/* The same in real messages, sealed through the sealers' own body AEAD:
 * an empty non-final chunk (EMPTY_CHUNK), content in the final chunk (accepted;
 * too much of it: TOO_BIG). */
static void hand_built_messages(fx *f)
{
    exchange x;
    exchange_make(&x, f, 1);
    twoway_options so = seal_opts(f, 1);
    for (int k = 0; k < 2; k++) {
        target t = {k == 0 ? K_REQ : K_RESP, f, f->ring, client_ctx(&x), NULL, 0, open_opts(1)};
        const uint8_t *want = k == 0 ? req_pt : resp_pt;
        size_t want_len = k == 0 ? sizeof req_pt : sizeof resp_pt;
        for (int variant = 0; variant < 4; variant++) {
            twoway_sealer *s = NULL;
            test_buf b = {0}, pt = {0};
            uint8_t out[1024];
            size_t w = 0;
            if (k == 0)
                CHECK_EQ_INT(
                    twoway_request_sealer_new(&s, &f->suite, KEY_ID, f->pk, REQ_MEDIA, &so),
                    TWOWAY_OK);
            else
                CHECK_EQ_INT(twoway_response_sealer_new(&s, twoway_opener_context(x.req_opener),
                                                        RESP_MEDIA, &so),
                             TWOWAY_OK);
            if (s == NULL)
                continue;
            test_buf_append(&b, s->prefix, s->prefix_len);
            int expect = TWOWAY_OK;
            target tv = t;
            switch (variant) {
            case 0: /* an empty chunk first */
                put_chunk(&b, &s->body.aead, NULL, 0, 0);
                CHECK_EQ_INT(tw_body_seal(&s->body, out, &w, want, want_len, 1), TWOWAY_OK);
                test_buf_append(&b, out, w);
                expect = TWOWAY_ERR_EMPTY_CHUNK;
                break;
            case 1: /* everything in the final chunk */
                put_chunk(&b, &s->body.aead, want, want_len, 1);
                break;
            case 2: /* one chunk, then the rest in the final chunk */
                CHECK_EQ_INT(tw_body_seal(&s->body, out, &w, want, 50, 0), TWOWAY_OK);
                test_buf_append(&b, out, w);
                put_chunk(&b, &s->body.aead, want + 50, want_len - 50, 1);
                break;
            case 3: /* the final chunk above the opener's max */
                put_chunk(&b, &s->body.aead, want, want_len, 1);
                tv.oo.max_chunk_len = want_len - 1;
                expect = TWOWAY_ERR_TOO_BIG;
                break;
            }
            EXPECT_RC(open_with(&tv, b.p, b.len, 0, &pt), expect, "%s %s variant %d", f->name,
                      kind_name(t.kind), variant);
            if (expect == TWOWAY_OK)
                CHECK(pt.len == want_len && memcmp(pt.p, want, want_len) == 0);
            pt.len = 0;
            EXPECT_RC(open_with(&tv, b.p, b.len, 1, &pt), expect, "%s %s variant %d, bytewise",
                      f->name, kind_name(t.kind), variant);
            if (expect == TWOWAY_OK)
                CHECK(pt.len == want_len && memcmp(pt.p, want, want_len) == 0);
            if (variant == 3) {
                tv.oo.max_chunk_len = want_len;
                EXPECT_RC(open_with(&tv, b.p, b.len, 0, NULL), TWOWAY_OK,
                          "%s %s final chunk == max", f->name, kind_name(t.kind));
            }
            twoway_sealer_free(s);
            test_buf_free(&b);
            test_buf_free(&pt);
        }
    }
    exchange_free(&x);
}

/* ------------------------------------------------------------ one-to-many */

/* hdr || enc || Seal("multi-encap-key", K[klen]) for f->pk, by hand. */
static void ek_with_key(fx *f, const uint8_t *k, size_t klen, test_buf *ek)
{
    uint8_t hdr[TWOWAY_HEADER_LEN], enc[TWOWAY_HPKE_MAX_ENC_LEN], ct[128], *info = NULL;
    size_t enc_len = sizeof enc, ct_len = sizeof ct, info_len = 0;
    twoway_header h = {KEY_ID, f->suite.kem->id, f->suite.kdf->id, f->suite.aead->id};
    twoway_hpke_ctx *c = NULL;
    twoway_header_encode(&h, hdr);
    CHECK_EQ_INT(tw_info_new(&info, &info_len, REQ_MEDIA, hdr), TWOWAY_OK);
    CHECK_EQ_INT(
        twoway_hpke_setup_sender(&c, enc, &enc_len, &f->suite, f->pk, info, info_len, NULL),
        TWOWAY_OK);
    CHECK_EQ_INT(twoway_hpke_seal(c, ct, &ct_len, multi_aad, sizeof multi_aad - 1, k, klen),
                 TWOWAY_OK);
    ek->len = 0;
    test_buf_append(ek, hdr, sizeof hdr);
    test_buf_append(ek, enc, enc_len);
    test_buf_append(ek, ct, ct_len);
    twoway_hpke_ctx_free(c);
    free(info);
}

/* A multi body under key k with the given body AEAD: nonce || body. */
static void multi_body_with_key(const twoway_hpke_aead *aead, const uint8_t *k, int chunked,
                                test_buf *out)
{
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    tw_opts o;
    tw_body b;
    uint8_t ct[1024];
    size_t w = 0;
    opt.chunked = chunked;
    opt.max_chunk_len = SEAL_CHUNK;
    CHECK_EQ_INT(tw_opts_resolve(&o, &opt, 1), TWOWAY_OK);
    tw_body_init(&b, &o);
    CHECK_EQ_INT(tw_aead_init_counter(&b.aead, aead, k, fixed_nonce), TWOWAY_OK);
    CHECK_EQ_INT(tw_body_seal(&b, ct, &w, req_pt, sizeof req_pt, 1), TWOWAY_OK);
    out->len = 0;
    test_buf_append(out, fixed_nonce, aead->nonce_len);
    test_buf_append(out, ct, w);
    tw_body_clear(&b);
}

static void one_to_many(fx *f, int chunked)
{
    twoway_options so = seal_opts(f, chunked), oo = open_opts(chunked);
    twoway_sealer *ms = NULL, *ms2 = NULL;
    test_buf body = {0}, body2 = {0}, m = {0}, pt = {0};
    uint8_t eka[512], ekb[512], eka2[512];
    size_t la = sizeof eka, lb = sizeof ekb, la2 = sizeof eka2;
    twoway_context *ca = NULL, *cb = NULL, *ca2 = NULL;
    twoway_opener *o = NULL;
    char what[96];
    const size_t nenc = f->suite.kem->enc_len;
    int x25519 = f->suite.kem->id == TWOWAY_HPKE_KEM_X25519_SHA256;
    snprintf(what, sizeof what, "%s %s multi", f->name, chunked ? "chunked" : "unchunked");

    CHECK_EQ_INT(twoway_multi_request_sealer_new(&ms, &f->suite, REQ_MEDIA, &so), TWOWAY_OK);
    CHECK_EQ_INT(twoway_multi_request_sealer_new(&ms2, &f->suite, REQ_MEDIA, &so), TWOWAY_OK);
    if (ms == NULL || ms2 == NULL)
        goto out;
    CHECK_EQ_INT(test_seal_all(ms, req_pt, sizeof req_pt, NULL, 0, &body), TWOWAY_OK);
    CHECK_EQ_INT(test_seal_all(ms2, req_pt, sizeof req_pt, NULL, 0, &body2), TWOWAY_OK);
    CHECK_EQ_INT(twoway_multi_encapsulate(ms, KEY_ID, f->pk, eka, &la, &ca), TWOWAY_OK);
    CHECK_EQ_INT(twoway_multi_encapsulate(ms, KEY_ID, f->pk2, ekb, &lb, &cb), TWOWAY_OK);
    CHECK_EQ_INT(twoway_multi_encapsulate(ms2, KEY_ID, f->pk, eka2, &la2, &ca2), TWOWAY_OK);
    CHECK_EQ_UINT(la, TWOWAY_HEADER_LEN + nenc + TWOWAY_MULTI_KEY_LEN + TAG);

    /* the body: truncations, flips, chunk games */
    target ta = {K_MULTI, f, f->ring, NULL, eka, la, oo};
    model ma;
    model_init(&ma, &ta, body.p, body.len);
    check_original(&ma, req_pt, sizeof req_pt, what);
    truncations(&ma, what);
    bitflips(&ma, what);
    if (chunked)
        chunk_games(&ma, req_pt, sizeof req_pt, what);

    /* the encapsulated key truncated at every position */
    for (size_t k = 0; k < la; k++) {
        int want = k < TWOWAY_HEADER_LEN                ? TWOWAY_ERR_HEADER
                   : k < TWOWAY_HEADER_LEN + nenc + TAG ? TWOWAY_ERR_TRUNCATED
                                                        : TWOWAY_ERR_AUTH;
        o = (twoway_opener *)(uintptr_t)1; /* must be reset to NULL */
        EXPECT_RC(twoway_multi_request_opener_new(&o, f->ring, REQ_MEDIA, eka, k, &oo), want,
                  "%s ek cut at %zu", what, k);
        if (!CHECK(o == NULL))
            o = NULL;
    }
    /* one byte too long: a 33-byte K */
    {
        uint8_t longer[sizeof eka + 1];
        memcpy(longer, eka, la);
        longer[la] = 0;
        o = NULL;
        EXPECT_RC(twoway_multi_request_opener_new(&o, f->ring, REQ_MEDIA, longer, la + 1, &oo),
                  TWOWAY_ERR_AUTH, "%s ek one byte too long", what);
        CHECK(o == NULL);
    }
    /* every bit of the encapsulated key */
    for (size_t i = 0; i < la; i++) {
        for (int bit = 0; bit < 8; bit++) {
            eka[i] ^= (uint8_t)(1u << bit);
            int want = i < TWOWAY_HEADER_LEN          ? header_code(eka)
                       : i < TWOWAY_HEADER_LEN + nenc ? (x25519 ? TWOWAY_ERR_AUTH : TWOWAY_ERR_KEY)
                                                      : TWOWAY_ERR_AUTH;
            o = NULL;
            EXPECT_RC(twoway_multi_request_opener_new(&o, f->ring, REQ_MEDIA, eka, la, &oo), want,
                      "%s ek flip at %zu bit %d", what, i, bit);
            twoway_opener_free(o);
            eka[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* wrong receiver: the same key id with another key, another key id;
     * another receiver's key; another media type */
    o = NULL;
    EXPECT_RC(twoway_multi_request_opener_new(&o, f->ring_other, REQ_MEDIA, eka, la, &oo),
              TWOWAY_ERR_AUTH, "%s ek to another key", what);
    EXPECT_RC(twoway_multi_request_opener_new(&o, f->ring_id2, REQ_MEDIA, eka, la, &oo),
              TWOWAY_ERR_KEY_MISMATCH, "%s ek to another key id", what);
    EXPECT_RC(twoway_multi_request_opener_new(&o, f->ring, REQ_MEDIA, ekb, lb, &oo),
              TWOWAY_ERR_AUTH, "%s another receiver's ek", what);
    EXPECT_RC(twoway_multi_request_opener_new(&o, f->ring, RESP_MEDIA, eka, la, &oo),
              TWOWAY_ERR_AUTH, "%s ek with another media type", what);
    CHECK(o == NULL);
    /* the body of another multi request */
    EXPECT_RC(open_with(&ta, body2.p, body2.len, 0, NULL), TWOWAY_ERR_AUTH,
              "%s body of another request", what);
    target ta2 = ta;
    ta2.ek = eka2;
    ta2.ek_len = la2;
    EXPECT_RC(open_with(&ta2, body.p, body.len, 1, NULL), TWOWAY_ERR_AUTH,
              "%s body of another request (2)", what);
    EXPECT_RC(open_with(&ta2, body2.p, body2.len, 0, NULL), TWOWAY_OK, "%s second request", what);

    /* receivers swapping responses */
    {
        twoway_opener *oa = NULL, *ob = NULL;
        twoway_sealer *sa = NULL, *sb = NULL;
        test_buf ra = {0}, rb = {0};
        CHECK_EQ_INT(twoway_multi_request_opener_new(&oa, f->ring, REQ_MEDIA, eka, la, &oo),
                     TWOWAY_OK);
        CHECK_EQ_INT(twoway_multi_request_opener_new(&ob, f->ring_other, REQ_MEDIA, ekb, lb, &oo),
                     TWOWAY_OK);
        if (oa != NULL && ob != NULL) {
            CHECK_EQ_INT(test_open_all(oa, body.p, body.len, 0, &pt), TWOWAY_OK);
            CHECK_EQ_INT(test_open_all(ob, body.p, body.len, 0, &pt), TWOWAY_OK);
            CHECK_EQ_INT(
                twoway_response_sealer_new(&sa, twoway_opener_context(oa), RESP_MEDIA, &so),
                TWOWAY_OK);
            CHECK_EQ_INT(
                twoway_response_sealer_new(&sb, twoway_opener_context(ob), RESP_MEDIA, &so),
                TWOWAY_OK);
            CHECK_EQ_INT(test_seal_all(sa, resp_pt, sizeof resp_pt, NULL, 0, &ra), TWOWAY_OK);
            CHECK_EQ_INT(test_seal_all(sb, resp_pt, sizeof resp_pt, NULL, 0, &rb), TWOWAY_OK);
            target tr = {K_RESP, f, NULL, ca, NULL, 0, oo};
            EXPECT_RC(open_with(&tr, ra.p, ra.len, 0, NULL), TWOWAY_OK, "%s response A", what);
            EXPECT_RC(open_with(&tr, rb.p, rb.len, 0, NULL), TWOWAY_ERR_AUTH,
                      "%s B's response to A", what);
            tr.ctx = cb;
            EXPECT_RC(open_with(&tr, rb.p, rb.len, 0, NULL), TWOWAY_OK, "%s response B", what);
            EXPECT_RC(open_with(&tr, ra.p, ra.len, 1, NULL), TWOWAY_ERR_AUTH,
                      "%s A's response to B", what);
            tr.ctx = ca2;
            EXPECT_RC(open_with(&tr, ra.p, ra.len, 0, NULL), TWOWAY_ERR_AUTH,
                      "%s A's response to the same receiver's other request", what);
        }
        twoway_sealer_free(sa);
        twoway_sealer_free(sb);
        twoway_opener_free(oa);
        twoway_opener_free(ob);
        test_buf_free(&ra);
        test_buf_free(&rb);
    }

    /* K of another length, sealed with HPKE directly: AES takes 16 (its
     * body is then AES-128-GCM) and 32; ChaCha20-Poly1305 only 32. */
    {
        static const size_t klens[] = {0, 1, 16, 24, 31, 32, 33, 48};
        uint8_t k[48];
        test_buf ek = {0};
        int aes = f->suite.aead->id != TWOWAY_HPKE_AEAD_CHACHA20_POLY1305;
        memset(k, 0x4b, sizeof k);
        for (size_t i = 0; i < sizeof klens / sizeof klens[0]; i++) {
            size_t kl = klens[i];
            /* A K over 32 bytes is refused before it is opened (AUTH), one
             * of another length once it is opened (UNSUPPORTED). */
            int want = kl > TWOWAY_MULTI_KEY_LEN                         ? TWOWAY_ERR_AUTH
                       : kl == TWOWAY_MULTI_KEY_LEN || (aes && kl == 16) ? TWOWAY_OK
                                                                         : TWOWAY_ERR_UNSUPPORTED;
            ek_with_key(f, k, kl, &ek);
            target tk = {K_MULTI, f, f->ring, NULL, ek.p, ek.len, oo};
            o = NULL;
            EXPECT_RC(twoway_multi_request_opener_new(&o, f->ring, REQ_MEDIA, ek.p, ek.len, &oo),
                      want, "%s K of %zu bytes", what, kl);
            twoway_opener_free(o);
            if (want == TWOWAY_OK) {
                const twoway_hpke_aead *ba = NULL;
                CHECK_EQ_INT(tw_multi_body_aead(&ba, f->suite.aead, kl), TWOWAY_OK);
                CHECK(ba != NULL && ba->key_len == kl);
                multi_body_with_key(ba, k, chunked, &m);
                pt.len = 0;
                EXPECT_RC(open_with(&tk, m.p, m.len, 0, &pt), TWOWAY_OK, "%s body under K of %zu",
                          what, kl);
                CHECK(pt.len == sizeof req_pt && memcmp(pt.p, req_pt, pt.len) == 0);
                if (kl == 16) {
                    /* the same body under AES-256-GCM's reading fails */
                    const twoway_hpke_aead *a256 =
                        twoway_hpke_aead_by_id(TWOWAY_HPKE_AEAD_AES_256_GCM);
                    uint8_t k32[32];
                    memcpy(k32, k, 16);
                    memset(k32 + 16, 0, 16);
                    multi_body_with_key(a256, k32, chunked, &m);
                    EXPECT_RC(open_with(&tk, m.p, m.len, 0, NULL), TWOWAY_ERR_AUTH,
                              "%s AES-256 body under a 16-byte K", what);
                }
            }
        }
        test_buf_free(&ek);
    }
out:
    twoway_context_free(ca);
    twoway_context_free(cb);
    twoway_context_free(ca2);
    twoway_sealer_free(ms);
    twoway_sealer_free(ms2);
    test_buf_free(&body);
    test_buf_free(&body2);
    test_buf_free(&m);
    test_buf_free(&pt);
}

/* ------------------------------------------------- counter exhaustion */

/* After an error a sealer refuses everything. */
static void sealer_refuses(twoway_sealer *s, const char *what)
{
    uint8_t out[512];
    size_t n = sizeof out;
    EXPECT_RC(twoway_sealer_update(s, out, &n, req_pt, 1), TWOWAY_ERR_STATE, "%s: update", what);
    n = sizeof out;
    EXPECT_RC(twoway_sealer_final(s, out, &n, NULL, 0), TWOWAY_ERR_STATE, "%s: final", what);
    n = sizeof out;
    EXPECT_RC(twoway_sealer_final(s, out, &n, req_pt, 3), TWOWAY_ERR_STATE, "%s: final", what);
}

/* A body sealer with one nonce left (chunked: one chunk goes, the next
 * fails) or none (unchunked). */
static void exhaust_sealer(twoway_sealer *s, int chunked, const char *what)
{
    uint8_t out[1024];
    size_t n = sizeof out;
    if (chunked) {
        EXPECT_RC(twoway_sealer_update(s, out, &n, req_pt, 10), TWOWAY_OK, "%s: last chunk", what);
        CHECK_EQ_UINT(n, s->prefix_len + 1 + 10 + TAG);
        n = sizeof out;
        EXPECT_RC(twoway_sealer_final(s, out, &n, NULL, 0), TWOWAY_ERR_LIMIT, "%s: final chunk",
                  what);
    } else {
        EXPECT_RC(twoway_sealer_final(s, out, &n, req_pt, 10), TWOWAY_ERR_LIMIT, "%s: body", what);
    }
    CHECK_EQ_UINT(n, 0);
    sealer_refuses(s, what);
}

static void exhaustion(fx *f)
{
    exchange x;
    char what[96];
    uint8_t out[1024];
    size_t n;
    exchange_make(&x, f, 1);
    const twoway_context *sctx = twoway_opener_context(x.req_opener);
    for (int chunked = 0; chunked < 2; chunked++) {
        twoway_options so = seal_opts(f, chunked);
        twoway_sealer *s = NULL;
        const char *cs = chunked ? "chunked" : "unchunked";

        /* response sealer: the counter moved to its limit */
        snprintf(what, sizeof what, "%s %s response sealer at limit", f->name, cs);
        CHECK_EQ_INT(twoway_response_sealer_new(&s, sctx, RESP_MEDIA, &so), TWOWAY_OK);
        s->body.aead.counter = s->body.aead.limit - (uint64_t)chunked;
        exhaust_sealer(s, chunked, what);
        twoway_sealer_free(s);
        if (chunked) {
            /* two chunks with one nonce left: nothing is written */
            snprintf(what, sizeof what, "%s response sealer, 2 chunks, 1 nonce", f->name);
            CHECK_EQ_INT(twoway_response_sealer_new(&s, sctx, RESP_MEDIA, &so), TWOWAY_OK);
            s->body.aead.counter = s->body.aead.limit - 1;
            n = sizeof out;
            EXPECT_RC(twoway_sealer_update(s, out, &n, resp_pt, SEAL_CHUNK + 1), TWOWAY_ERR_LIMIT,
                      "%s", what);
            CHECK_EQ_UINT(n, 0);
            sealer_refuses(s, what);
            twoway_sealer_free(s);
        }

        /* multi sealer: the same counter */
        snprintf(what, sizeof what, "%s %s multi sealer at limit", f->name, cs);
        CHECK_EQ_INT(twoway_multi_request_sealer_new(&s, &f->suite, REQ_MEDIA, &so), TWOWAY_OK);
        s->body.aead.counter = s->body.aead.limit - (uint64_t)chunked;
        exhaust_sealer(s, chunked, what);
        twoway_sealer_free(s);

        /* request sealer: the HPKE context's sequence number */
        snprintf(what, sizeof what, "%s %s request sealer at limit", f->name, cs);
        CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, KEY_ID, f->pk, REQ_MEDIA, &so),
                     TWOWAY_OK);
        twoway_hpke_ctx *h = s->ctx->hctx;
        twoway_hpke_testing_set_seq(h, twoway_hpke_testing_seq_limit(h) - (uint64_t)chunked);
        exhaust_sealer(s, chunked, what);
        twoway_sealer_free(s);
    }

    /* openers at their limit: after the prefix, the next chunk is refused */
    {
        twoway_opener *o = NULL;
        twoway_options oo = open_opts(1);
        size_t L = nonce_len_of(&f->suite);
        CHECK_EQ_INT(twoway_response_opener_new(&o, client_ctx(&x), RESP_MEDIA, &oo), TWOWAY_OK);
        n = sizeof out;
        CHECK_EQ_INT(twoway_opener_update(o, out, &n, x.resp.p, L), TWOWAY_OK);
        o->body.aead.counter = o->body.aead.limit;
        n = sizeof out;
        EXPECT_RC(twoway_opener_final(o, out, &n, x.resp.p + L, x.resp.len - L), TWOWAY_ERR_LIMIT,
                  "%s response opener at limit", f->name);
        CHECK_EQ_UINT(n, 0);
        n = sizeof out;
        CHECK_EQ_INT(twoway_opener_final(o, out, &n, NULL, 0), TWOWAY_ERR_STATE);
        twoway_opener_free(o);

        size_t pre = TWOWAY_HEADER_LEN + f->suite.kem->enc_len;
        CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, REQ_MEDIA, &oo), TWOWAY_OK);
        n = sizeof out;
        CHECK_EQ_INT(twoway_opener_update(o, out, &n, x.req.p, pre), TWOWAY_OK);
        CHECK(o->ctx != NULL);
        if (o->ctx != NULL)
            twoway_hpke_testing_set_seq(o->ctx->hctx, twoway_hpke_testing_seq_limit(o->ctx->hctx));
        n = sizeof out;
        EXPECT_RC(twoway_opener_update(o, out, &n, x.req.p + pre, x.req.len - pre),
                  TWOWAY_ERR_LIMIT, "%s request opener at limit", f->name);
        n = sizeof out;
        CHECK_EQ_INT(twoway_opener_update(o, out, &n, NULL, 0), TWOWAY_ERR_STATE);
        twoway_opener_free(o);
    }
    exchange_free(&x);
}

/* ------------------------------------------------------------ API misuse */

static void api_misuse(fx *f)
{
    exchange x;
    twoway_options so = seal_opts(f, 1), su = seal_opts(f, 0), oo = open_opts(1);
    twoway_sealer *s = NULL, *ms = NULL;
    twoway_opener *o = NULL;
    twoway_context *c = NULL;
    twoway_header h;
    uint8_t out[2048], ek[512];
    size_t n = sizeof out, ekl = sizeof ek;
    exchange_make(&x, f, 1);
    const twoway_context *cctx = client_ctx(&x);

    /* constructors: NULL arguments */
    CHECK_EQ_INT(twoway_request_sealer_new(NULL, &f->suite, 1, f->pk, REQ_MEDIA, &so),
                 TWOWAY_ERR_ARG);
    s = (twoway_sealer *)(uintptr_t)1;
    CHECK_EQ_INT(twoway_request_sealer_new(&s, NULL, 1, f->pk, REQ_MEDIA, &so), TWOWAY_ERR_ARG);
    CHECK(s == NULL);
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, 1, NULL, REQ_MEDIA, &so), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, 1, f->pk, NULL, 3, &so), TWOWAY_ERR_ARG);
    CHECK(s == NULL);
    CHECK_EQ_INT(twoway_response_sealer_new(NULL, cctx, RESP_MEDIA, &so), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_response_sealer_new(&s, NULL, RESP_MEDIA, &so), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_response_sealer_new(&s, cctx, NULL, 3, &so), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_request_sealer_new(NULL, &f->suite, REQ_MEDIA, &so), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_request_sealer_new(&s, NULL, REQ_MEDIA, &so), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_request_sealer_new(&s, &f->suite, NULL, 3, &so), TWOWAY_ERR_ARG);
    CHECK(s == NULL);
    CHECK_EQ_INT(twoway_request_opener_new(NULL, f->ring, REQ_MEDIA, &oo), TWOWAY_ERR_ARG);
    o = (twoway_opener *)(uintptr_t)1;
    CHECK_EQ_INT(twoway_request_opener_new(&o, NULL, REQ_MEDIA, &oo), TWOWAY_ERR_ARG);
    CHECK(o == NULL);
    CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, NULL, 3, &oo), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_response_opener_new(NULL, cctx, RESP_MEDIA, &oo), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_response_opener_new(&o, NULL, RESP_MEDIA, &oo), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_response_opener_new(&o, cctx, NULL, 3, &oo), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_request_opener_new(NULL, f->ring, REQ_MEDIA, ek, 10, &oo),
                 TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_request_opener_new(&o, NULL, REQ_MEDIA, ek, 10, &oo), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_request_opener_new(&o, f->ring, NULL, 3, ek, 10, &oo),
                 TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_request_opener_new(&o, f->ring, REQ_MEDIA, NULL, 10, &oo),
                 TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_request_opener_new(&o, f->ring, REQ_MEDIA, NULL, 0, &oo),
                 TWOWAY_ERR_HEADER);
    CHECK(o == NULL);

    /* empty media types are fine (NULL, 0) */
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, 1, f->pk, NULL, 0, &so), TWOWAY_OK);
    twoway_sealer_free(s);
    CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, NULL, 0, &oo), TWOWAY_OK);
    twoway_opener_free(o);

    /* multi encapsulate: NULLs, the wrong sealer kind, BUFFER with the size */
    CHECK_EQ_INT(twoway_multi_request_sealer_new(&ms, &f->suite, REQ_MEDIA, &so), TWOWAY_OK);
    c = (twoway_context *)(uintptr_t)1;
    CHECK_EQ_INT(twoway_multi_encapsulate(NULL, 1, f->pk, ek, &ekl, &c), TWOWAY_ERR_ARG);
    CHECK(c == NULL);
    CHECK_EQ_INT(twoway_multi_encapsulate(ms, 1, NULL, ek, &ekl, &c), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_encapsulate(ms, 1, f->pk, ek, NULL, &c), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_encapsulate(ms, 1, f->pk, ek, &ekl, NULL), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_multi_encapsulate(x.req_sealer, 1, f->pk, ek, &ekl, &c), TWOWAY_ERR_STATE);
    size_t need_ek = TWOWAY_HEADER_LEN + f->suite.kem->enc_len + TWOWAY_MULTI_KEY_LEN + TAG;
    ekl = 0;
    CHECK_EQ_INT(twoway_multi_encapsulate(ms, 1, f->pk, NULL, &ekl, &c), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(ekl, need_ek);
    ekl = need_ek - 1;
    CHECK_EQ_INT(twoway_multi_encapsulate(ms, 1, f->pk, ek, &ekl, &c), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(ekl, need_ek);
    CHECK_EQ_INT(twoway_multi_encapsulate(ms, 1, f->pk, ek, &ekl, &c), TWOWAY_OK);
    CHECK_EQ_UINT(ekl, need_ek);
    twoway_context_free(c);
    c = NULL;
    CHECK(twoway_sealer_context(ms) == NULL);
    twoway_sealer_free(ms);

    /* update and final: NULLs */
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, 1, f->pk, REQ_MEDIA, &so), TWOWAY_OK);
    CHECK_EQ_INT(twoway_sealer_update(NULL, out, &n, req_pt, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_sealer_update(s, out, NULL, req_pt, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_sealer_update(s, out, &n, NULL, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_sealer_final(NULL, out, &n, req_pt, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_sealer_final(s, out, NULL, req_pt, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_sealer_final(s, out, &n, NULL, 1), TWOWAY_ERR_ARG);
    /* a length whose output size does not fit in a size_t */
    n = sizeof out;
    CHECK_EQ_INT(twoway_sealer_update(s, out, &n, req_pt, SIZE_MAX), TWOWAY_ERR_ARG);
    n = sizeof out;
    CHECK_EQ_INT(twoway_sealer_final(s, out, &n, req_pt, SIZE_MAX - 1), TWOWAY_ERR_ARG);
    CHECK_EQ_UINT(twoway_sealer_max_output(s, SIZE_MAX), SIZE_MAX);
    /* BUFFER: *out_len gets the size needed, the prefix stays pending */
    size_t need = twoway_sealer_max_output(s, 100);
    CHECK(need >= TWOWAY_HEADER_LEN + f->suite.kem->enc_len + 100 + 2 * TAG);
    n = 5;
    CHECK_EQ_INT(twoway_sealer_update(s, NULL, &n, req_pt, 100), TWOWAY_ERR_BUFFER);
    size_t need_update = n;
    CHECK(need_update > 0 && need_update <= need);
    n = need_update - 1;
    CHECK_EQ_INT(twoway_sealer_update(s, out, &n, req_pt, 100), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(n, need_update);
    CHECK_EQ_INT(twoway_sealer_update(s, out, &n, req_pt, 100), TWOWAY_OK);
    size_t first = n;
    /* chunks of 64 and 36 bytes: 2- and 1-byte lengths */
    CHECK(first == TWOWAY_HEADER_LEN + f->suite.kem->enc_len + 2 + 1 + 100 + 2 * TAG);
    n = 0;
    CHECK_EQ_INT(twoway_sealer_final(s, NULL, &n, req_pt + 100, 50), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(n, twoway_sealer_max_output(s, 50));
    n = twoway_sealer_max_output(s, 50);
    CHECK_EQ_INT(twoway_sealer_final(s, out + first, &n, req_pt + 100, 50), TWOWAY_OK);
    {
        test_buf pt = {0};
        target t = {K_REQ, f, f->ring, NULL, NULL, 0, oo};
        CHECK_EQ_INT(open_with(&t, out, first + n, 0, &pt), TWOWAY_OK);
        CHECK(pt.len == sizeof req_pt && memcmp(pt.p, req_pt, pt.len) == 0);
        test_buf_free(&pt);
    }
    /* after final: refused */
    sealer_refuses(s, "sealer after final");
    twoway_sealer_free(s);

    /* unchunked: update is not allowed; BUFFER on final */
    CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, 1, f->pk, REQ_MEDIA, &su), TWOWAY_OK);
    n = sizeof out;
    CHECK_EQ_INT(twoway_sealer_update(s, out, &n, req_pt, 10), TWOWAY_ERR_STATE);
    n = sizeof out;
    CHECK_EQ_INT(twoway_sealer_update(s, out, &n, NULL, 0), TWOWAY_ERR_STATE);
    n = 1;
    CHECK_EQ_INT(twoway_sealer_final(s, out, &n, req_pt, 10), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(n, TWOWAY_HEADER_LEN + f->suite.kem->enc_len + 10 + TAG);
    CHECK_EQ_UINT(n, twoway_sealer_max_output(s, 10));
    CHECK_EQ_INT(twoway_sealer_final(s, out, &n, req_pt, 10), TWOWAY_OK);
    sealer_refuses(s, "unchunked sealer after final");
    twoway_sealer_free(s);

    /* openers: NULLs, BUFFER, after final, after an error */
    CHECK_EQ_INT(twoway_response_opener_new(&o, cctx, RESP_MEDIA, &oo), TWOWAY_OK);
    n = sizeof out;
    CHECK_EQ_INT(twoway_opener_update(NULL, out, &n, x.resp.p, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_opener_update(o, out, NULL, x.resp.p, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_opener_update(o, out, &n, NULL, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_opener_final(NULL, out, &n, x.resp.p, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_opener_final(o, out, NULL, x.resp.p, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_opener_final(o, out, &n, NULL, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_opener_header(o, &h), TWOWAY_ERR_STATE); /* a response opener */
    CHECK_EQ_INT(twoway_opener_header(NULL, &h), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_opener_header(o, NULL), TWOWAY_ERR_ARG);
    n = 3;
    CHECK_EQ_INT(twoway_opener_final(o, out, &n, x.resp.p, x.resp.len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(n, twoway_opener_max_output(o, x.resp.len));
    n = 0;
    CHECK_EQ_INT(twoway_opener_final(o, NULL, &n, x.resp.p, x.resp.len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(n, twoway_opener_max_output(o, x.resp.len));
    /* the BUFFER errors were not fatal */
    CHECK_EQ_INT(twoway_opener_final(o, out, &n, x.resp.p, x.resp.len), TWOWAY_OK);
    CHECK(n == sizeof resp_pt && memcmp(out, resp_pt, n) == 0);
    n = sizeof out;
    CHECK_EQ_INT(twoway_opener_update(o, out, &n, x.resp.p, 1), TWOWAY_ERR_STATE);
    CHECK_EQ_INT(twoway_opener_final(o, out, &n, NULL, 0), TWOWAY_ERR_STATE);
    twoway_opener_free(o);
    /* a request opener: header before and after it is read */
    CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, REQ_MEDIA, &oo), TWOWAY_OK);
    CHECK_EQ_INT(twoway_opener_header(o, &h), TWOWAY_ERR_STATE);
    CHECK(twoway_opener_context(o) == NULL);
    n = sizeof out;
    CHECK_EQ_INT(twoway_opener_update(o, out, &n, x.req.p, TWOWAY_HEADER_LEN), TWOWAY_OK);
    /* the header is there as soon as its 7 bytes are read */
    CHECK_EQ_INT(twoway_opener_header(o, &h), TWOWAY_OK);
    CHECK(h.key_id == KEY_ID && h.kem_id == f->suite.kem->id);
    n = sizeof out;
    CHECK_EQ_INT(
        twoway_opener_update(o, out, &n, x.req.p + TWOWAY_HEADER_LEN, f->suite.kem->enc_len),
        TWOWAY_OK);
    CHECK_EQ_INT(twoway_opener_header(o, &h), TWOWAY_OK);
    CHECK(h.key_id == KEY_ID && h.kem_id == f->suite.kem->id);
    /* no response may be bound to it before some of the body authenticates */
    CHECK(twoway_opener_context(o) == NULL);
    {
        size_t done = TWOWAY_HEADER_LEN + f->suite.kem->enc_len;
        n = sizeof out;
        CHECK_EQ_INT(twoway_opener_final(o, out, &n, x.req.p + done, x.req.len - done), TWOWAY_OK);
        CHECK(twoway_opener_context(o) != NULL);
    }
    twoway_opener_free(o);

    /* the generator fails: CRYPTO, and nothing is made */
    {
        test_stream_rng dry = {NULL, 0, 0, 0};
        twoway_options fo = seal_opts(f, 1);
        fo.rng = test_stream_rng_fn;
        fo.rng_ctx = &dry;
        s = (twoway_sealer *)(uintptr_t)1;
        CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, 1, f->pk, REQ_MEDIA, &fo),
                     TWOWAY_ERR_CRYPTO);
        CHECK(s == NULL);
        s = (twoway_sealer *)(uintptr_t)1;
        CHECK_EQ_INT(twoway_response_sealer_new(&s, cctx, RESP_MEDIA, &fo), TWOWAY_ERR_CRYPTO);
        CHECK(s == NULL);
        s = (twoway_sealer *)(uintptr_t)1;
        CHECK_EQ_INT(twoway_multi_request_sealer_new(&s, &f->suite, REQ_MEDIA, &fo),
                     TWOWAY_ERR_CRYPTO);
        CHECK(s == NULL);
        /* K drawn, the nonce not */
        uint8_t k[TWOWAY_MULTI_KEY_LEN];
        test_stream_rng part = {k, sizeof k, 0, 0};
        fo.rng_ctx = &part;
        CHECK_EQ_INT(twoway_multi_request_sealer_new(&s, &f->suite, REQ_MEDIA, &fo),
                     TWOWAY_ERR_CRYPTO);
        CHECK(s == NULL);
        /* encapsulation draws ikmE */
        twoway_options mo = seal_opts(f, 1);
        CHECK_EQ_INT(twoway_multi_request_sealer_new(&ms, &f->suite, REQ_MEDIA, &mo), TWOWAY_OK);
        if (ms != NULL) {
            ms->opts.rng = test_stream_rng_fn;
            ms->opts.rng_ctx = &dry;
            ekl = sizeof ek;
            c = (twoway_context *)(uintptr_t)1;
            CHECK_EQ_INT(twoway_multi_encapsulate(ms, 1, f->pk, ek, &ekl, &c), TWOWAY_ERR_CRYPTO);
            CHECK(c == NULL);
            c = NULL;
        }
        twoway_sealer_free(ms);
        ms = NULL;
    }

    /* the ring changes between a request's header and its enc: the entry
     * is gone (KEY_MISMATCH); back again, a new opener works */
    {
        twoway_keyring *r = ring_with(KEY_ID, &f->suite, f->sk);
        CHECK_EQ_INT(twoway_request_opener_new(&o, r, REQ_MEDIA, &oo), TWOWAY_OK);
        n = sizeof out;
        CHECK_EQ_INT(twoway_opener_update(o, out, &n, x.req.p, TWOWAY_HEADER_LEN + 1), TWOWAY_OK);
        CHECK_EQ_INT(
            twoway_keyring_remove(r, KEY_ID, f->suite.kem->id, f->suite.kdf->id, f->suite.aead->id),
            TWOWAY_OK);
        n = sizeof out;
        CHECK_EQ_INT(twoway_opener_final(o, out, &n, x.req.p + TWOWAY_HEADER_LEN + 1,
                                         x.req.len - TWOWAY_HEADER_LEN - 1),
                     TWOWAY_ERR_KEY_MISMATCH);
        twoway_opener_free(o);
        /* another key under the same entry: the enc no longer matches (AUTH) */
        CHECK_EQ_INT(twoway_keyring_add(r, KEY_ID, &f->suite, f->sk2), TWOWAY_OK);
        target t = {K_REQ, f, r, NULL, NULL, 0, oo};
        CHECK_EQ_INT(open_with(&t, x.req.p, x.req.len, 0, NULL), TWOWAY_ERR_AUTH);
        twoway_keyring_free(r);
    }

    /* misc accessors */
    CHECK(twoway_sealer_context(NULL) == NULL);
    CHECK(twoway_opener_context(NULL) == NULL);
    CHECK_EQ_UINT(twoway_sealer_max_output(NULL, 10), 0);
    CHECK_EQ_UINT(twoway_opener_max_output(NULL, 10), 0);
    twoway_sealer_free(NULL);
    twoway_opener_free(NULL);
    twoway_context_free(NULL);
    CHECK(twoway_strerror(TWOWAY_ERR_IO) != NULL && twoway_strerror(-1000) != NULL);

    /* export-only suites cannot seal: STATE */
    {
        twoway_hpke_suite eo;
        CHECK_EQ_INT(twoway_hpke_suite_from_ids(&eo, f->suite.kem->id, f->suite.kdf->id,
                                                TWOWAY_HPKE_AEAD_EXPORT_ONLY),
                     TWOWAY_OK);
        s = (twoway_sealer *)(uintptr_t)1;
        CHECK_EQ_INT(twoway_request_sealer_new(&s, &eo, 1, f->pk, REQ_MEDIA, &so),
                     TWOWAY_ERR_STATE);
        CHECK(s == NULL);
        CHECK_EQ_INT(twoway_multi_request_sealer_new(&s, &eo, REQ_MEDIA, &so), TWOWAY_ERR_STATE);
        CHECK(s == NULL);
        CHECK_EQ_INT(twoway_keyring_add(f->ring, 9, &eo, f->sk), TWOWAY_ERR_ARG);
    }
    /* a recipient of another KEM */
    {
        twoway_hpke_key *k =
            derive_key(twoway_hpke_kem_by_id(f->suite.kem->id == TWOWAY_HPKE_KEM_X25519_SHA256
                                                 ? TWOWAY_HPKE_KEM_P256_SHA256
                                                 : TWOWAY_HPKE_KEM_X25519_SHA256),
                       0x33);
        s = NULL;
        CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, 1, k, REQ_MEDIA, &so),
                     TWOWAY_ERR_KEY);
        CHECK(s == NULL);
        twoway_hpke_key_free(k);
    }
    exchange_free(&x);
}

/* Bad options, for every constructor: ARG. */
static void bad_options(fx *f)
{
    exchange x;
    exchange_make(&x, f, 0);
    uint8_t ek[512];
    size_t ekl = sizeof ek;
    twoway_sealer *ms = NULL;
    twoway_context *c = NULL;
    twoway_options good = seal_opts(f, 0);
    CHECK_EQ_INT(twoway_multi_request_sealer_new(&ms, &f->suite, REQ_MEDIA, &good), TWOWAY_OK);
    CHECK_EQ_INT(twoway_multi_encapsulate(ms, KEY_ID, f->pk, ek, &ekl, &c), TWOWAY_OK);
    for (int i = 0; i < 8; i++) {
        twoway_options b = seal_opts(f, 0);
        int want = TWOWAY_ERR_ARG;
        switch (i) {
        case 0: b.version = 0; break;
        case 1: b.version = TWOWAY_OPTIONS_VERSION + 1; break;
        case 2: b.chunked = 2; break;
        case 3: b.chunked = -1; break;
        case 4: b.max_chunk_len = TWOWAY_MAX_CHUNK_LEN + 1; break;
        case 5: b.max_chunk_len = SIZE_MAX; break;
        case 6: /* the largest allowed */
            b.max_chunk_len = TWOWAY_MAX_CHUNK_LEN;
            b.chunked = 1;
            want = TWOWAY_OK;
            break;
        case 7: /* zero fields: the defaults */
            b.max_chunk_len = 0;
            b.max_message_len = 0;
            want = TWOWAY_OK;
            break;
        }
        twoway_sealer *s = (twoway_sealer *)(uintptr_t)1;
        twoway_opener *o = (twoway_opener *)(uintptr_t)1;
        EXPECT_RC(twoway_request_sealer_new(&s, &f->suite, KEY_ID, f->pk, REQ_MEDIA, &b), want,
                  "request sealer, options %d", i);
        CHECK(want == TWOWAY_OK ? s != NULL : s == NULL);
        twoway_sealer_free(s);
        s = (twoway_sealer *)(uintptr_t)1;
        EXPECT_RC(
            twoway_response_sealer_new(&s, twoway_opener_context(x.req_opener), RESP_MEDIA, &b),
            want, "response sealer, options %d", i);
        CHECK(want == TWOWAY_OK ? s != NULL : s == NULL);
        twoway_sealer_free(s);
        s = (twoway_sealer *)(uintptr_t)1;
        EXPECT_RC(twoway_multi_request_sealer_new(&s, &f->suite, REQ_MEDIA, &b), want,
                  "multi sealer, options %d", i);
        CHECK(want == TWOWAY_OK ? s != NULL : s == NULL);
        twoway_sealer_free(s);
        EXPECT_RC(twoway_request_opener_new(&o, f->ring, REQ_MEDIA, &b), want,
                  "request opener, options %d", i);
        CHECK(want == TWOWAY_OK ? o != NULL : o == NULL);
        twoway_opener_free(o);
        o = (twoway_opener *)(uintptr_t)1;
        EXPECT_RC(twoway_response_opener_new(&o, client_ctx(&x), RESP_MEDIA, &b), want,
                  "response opener, options %d", i);
        CHECK(want == TWOWAY_OK ? o != NULL : o == NULL);
        twoway_opener_free(o);
        o = (twoway_opener *)(uintptr_t)1;
        EXPECT_RC(twoway_multi_request_opener_new(&o, f->ring, REQ_MEDIA, ek, ekl, &b), want,
                  "multi opener, options %d", i);
        CHECK(want == TWOWAY_OK ? o != NULL : o == NULL);
        twoway_opener_free(o);
    }
    twoway_context_free(c);
    twoway_sealer_free(ms);
    exchange_free(&x);
}

/* An unchunked opener buffers at most max_message_len bytes of plaintext. */
static void message_limit(fx *f)
{
    exchange x;
    exchange_make(&x, f, 0);
    static const size_t steps[] = {0, 1, 7, 64};
    for (int k = 0; k < 2; k++) {
        const test_buf *msg = k == 0 ? &x.req : &x.resp;
        size_t pt_len = k == 0 ? sizeof req_pt : sizeof resp_pt;
        target t = {k == 0 ? K_REQ : K_RESP, f, f->ring, client_ctx(&x), NULL, 0, open_opts(0)};
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            t.oo.max_message_len = pt_len - 1;
            EXPECT_RC(open_with(&t, msg->p, msg->len, steps[i], NULL), TWOWAY_ERR_TOO_BIG,
                      "%s %s over max_message_len, step %zu", f->name, kind_name(t.kind), steps[i]);
            t.oo.max_message_len = pt_len;
            EXPECT_RC(open_with(&t, msg->p, msg->len, steps[i], NULL), TWOWAY_OK,
                      "%s %s at max_message_len, step %zu", f->name, kind_name(t.kind), steps[i]);
            t.oo.max_message_len = 1;
            EXPECT_RC(open_with(&t, msg->p, msg->len, steps[i], NULL), TWOWAY_ERR_TOO_BIG,
                      "%s %s max_message_len 1, step %zu", f->name, kind_name(t.kind), steps[i]);
        }
    }
    /* a chunked opener has no message limit */
    exchange y;
    exchange_make(&y, f, 1);
    target t = {K_REQ, f, f->ring, NULL, NULL, 0, open_opts(1)};
    t.oo.max_message_len = 1;
    CHECK_EQ_INT(open_with(&t, y.req.p, y.req.len, 0, NULL), TWOWAY_OK);
    exchange_free(&y);
    exchange_free(&x);
}

/* ------------------------------------------------------- saved contexts */

/* What loading b[len] must give, from the saved form's layout:
 * "TWC1" kem kdf aead enc_len enc L secret media_len media. */
static int blob_code(const uint8_t *b, size_t len)
{
    twoway_hpke_suite s;
    if (len < 12 || memcmp(b, "TWC1", 4) != 0)
        return TWOWAY_ERR_FORMAT;
    if (twoway_hpke_suite_from_ids(&s, (uint16_t)(b[4] << 8 | b[5]), (uint16_t)(b[6] << 8 | b[7]),
                                   (uint16_t)(b[8] << 8 | b[9])) != TWOWAY_OK ||
        s.aead->id == TWOWAY_HPKE_AEAD_EXPORT_ONLY)
        return TWOWAY_ERR_UNSUPPORTED;
    size_t enc_len = (size_t)(b[10] << 8 | b[11]), L = nonce_len_of(&s);
    if (enc_len != s.kem->enc_len || len < 12 + enc_len + 1 + L + 2 || b[12 + enc_len] != L)
        return TWOWAY_ERR_FORMAT;
    size_t off = 12 + enc_len + 1 + L;
    size_t media_len = (size_t)(b[off] << 8 | b[off + 1]);
    if (media_len != len - off - 2)
        return TWOWAY_ERR_FORMAT;
    return TWOWAY_OK;
}

static void saved_contexts(fx *f)
{
    exchange x;
    uint8_t blob[TWOWAY_CONTEXT_BLOB_MAX], *b;
    size_t len = sizeof blob, n;
    twoway_context *c = NULL;
    twoway_sealer *s = NULL;
    twoway_opener *o = NULL;
    twoway_options so = seal_opts(f, 1), oo = open_opts(1);
    exchange_make(&x, f, 1);
    target t = {K_RESP, f, NULL, NULL, NULL, 0, oo};

    /* save: NULLs, BUFFER */
    n = 0;
    CHECK_EQ_INT(twoway_context_save(NULL, RESP_MEDIA, blob, &len), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_context_save(client_ctx(&x), RESP_MEDIA, blob, NULL), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_context_save(client_ctx(&x), NULL, 3, blob, &len), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_context_save(client_ctx(&x), RESP_MEDIA, NULL, &n), TWOWAY_ERR_BUFFER);
    size_t need =
        12 + f->suite.kem->enc_len + 1 + nonce_len_of(&f->suite) + 2 + sizeof resp_media - 1;
    CHECK_EQ_UINT(n, need);
    n = need - 1;
    CHECK_EQ_INT(twoway_context_save(client_ctx(&x), RESP_MEDIA, blob, &n), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(n, need);
    CHECK_EQ_INT(twoway_context_save(client_ctx(&x), RESP_MEDIA, blob, &len), TWOWAY_OK);
    CHECK_EQ_UINT(len, need);
    CHECK_EQ_INT(blob_code(blob, len), TWOWAY_OK);

    /* load: NULLs; the original works */
    CHECK_EQ_INT(twoway_context_load(NULL, blob, len), TWOWAY_ERR_ARG);
    c = (twoway_context *)(uintptr_t)1;
    CHECK_EQ_INT(twoway_context_load(&c, NULL, 5), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_context_load(&c, NULL, 0), TWOWAY_ERR_FORMAT);
    CHECK(c == NULL);
    CHECK_EQ_INT(twoway_context_load(&c, blob, len), TWOWAY_OK);
    t.ctx = c;
    CHECK_EQ_INT(open_with(&t, x.resp.p, x.resp.len, 0, NULL), TWOWAY_OK);
    /* a loaded context serves its one media type only */
    static const uint8_t other[] = "test/negative responsE";
    o = (twoway_opener *)(uintptr_t)1;
    CHECK_EQ_INT(twoway_response_opener_new(&o, c, other, sizeof other - 1, &oo), TWOWAY_ERR_ARG);
    CHECK(o == NULL);
    CHECK_EQ_INT(twoway_response_opener_new(&o, c, RESP_MEDIA, NULL), TWOWAY_OK);
    twoway_opener_free(o);
    o = NULL;
    CHECK_EQ_INT(twoway_response_opener_new(&o, c, NULL, 0, &oo), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_response_opener_new(&o, c, resp_media, sizeof resp_media - 2, &oo),
                 TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_response_sealer_new(&s, c, other, sizeof other - 1, &so), TWOWAY_ERR_ARG);
    CHECK(s == NULL);
    n = sizeof blob;
    uint8_t blob2[TWOWAY_CONTEXT_BLOB_MAX];
    CHECK_EQ_INT(twoway_context_save(c, other, sizeof other - 1, blob2, &n), TWOWAY_ERR_ARG);
    /* a loaded context saves again to the same blob */
    n = sizeof blob2;
    CHECK_EQ_INT(twoway_context_save(c, RESP_MEDIA, blob2, &n), TWOWAY_OK);
    CHECK(n == len && memcmp(blob, blob2, len) == 0);
    twoway_context_free(c);
    c = NULL;

    /* every truncation, and one byte more */
    for (size_t k = 0; k < len; k++) {
        c = (twoway_context *)(uintptr_t)1;
        EXPECT_RC(twoway_context_load(&c, blob, k), TWOWAY_ERR_FORMAT, "%s blob cut at %zu",
                  f->name, k);
        if (!CHECK(c == NULL))
            c = NULL;
    }
    memcpy(blob2, blob, len);
    blob2[len] = 'x';
    EXPECT_RC(twoway_context_load(&c, blob2, len + 1), TWOWAY_ERR_FORMAT, "%s blob + 1", f->name);

    /* every bit of every byte: the structure is checked (FORMAT, or
     * UNSUPPORTED for an unknown algorithm); what is not structure (enc,
     * secret, a KDF or AEAD of the same sizes) loads, and then the response
     * does not open; another media type is refused (ARG). */
    b = blob2;
    size_t enc_off = 12, sec_off = 12 + f->suite.kem->enc_len + 1;
    size_t media_off = sec_off + nonce_len_of(&f->suite) + 2;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, blob, len);
            b[i] ^= (uint8_t)(1u << bit);
            int want = blob_code(b, len);
            c = NULL;
            EXPECT_RC(twoway_context_load(&c, b, len), want, "%s blob flip at %zu bit %d", f->name,
                      i, bit);
            if (c == NULL)
                continue;
            CHECK((i >= 6 && i < 10) || (i >= enc_off && i < enc_off + f->suite.kem->enc_len) ||
                  (i >= sec_off && i < sec_off + nonce_len_of(&f->suite)) || i >= media_off);
            t.ctx = c;
            EXPECT_RC(open_with(&t, x.resp.p, x.resp.len, 0, NULL),
                      i >= media_off ? TWOWAY_ERR_ARG : TWOWAY_ERR_AUTH,
                      "%s loaded blob flip at %zu bit %d", f->name, i, bit);
            twoway_context_free(c);
        }
    }
    /* the export-only AEAD, an unknown KEM */
    memcpy(b, blob, len);
    b[8] = b[9] = 0xff;
    EXPECT_RC(twoway_context_load(&c, b, len), TWOWAY_ERR_UNSUPPORTED, "%s blob export-only",
              f->name);
    memcpy(b, blob, len);
    b[5] = 0x30;
    EXPECT_RC(twoway_context_load(&c, b, len), TWOWAY_ERR_UNSUPPORTED, "%s blob KEM 0x30", f->name);
    /* a media type longer than the saved form holds */
    {
        uint8_t *big = calloc(1, 4097);
        n = sizeof blob2;
        CHECK_EQ_INT(twoway_context_save(client_ctx(&x), big, 4097, blob2, &n), TWOWAY_ERR_ARG);
        free(big);
    }
    exchange_free(&x);
}

/* ---------------------------------------------------------- pull interface */

typedef struct src {
    const uint8_t *p;
    size_t len, off, fail_at;
    int over; /* returns more than asked */
} src;

static long src_read(void *ctx, uint8_t *buf, size_t len)
{
    src *s = ctx;
    if (s->off >= s->fail_at)
        return -1;
    if (s->over)
        return (long)len + 1;
    size_t n = s->len - s->off;
    if (n > len)
        n = len;
    if (n > s->fail_at - s->off)
        n = s->fail_at - s->off;
    memcpy(buf, s->p + s->off, n);
    s->off += n;
    return (long)n;
}

/* Pulls until an error or the end; returns the error, or OK. */
static int pull_seal(twoway_sealer *s, src *in, test_buf *out, int *calls)
{
    uint8_t buf[100];
    size_t n;
    int rc;
    *calls = 0;
    do {
        n = 0;
        rc = twoway_sealer_read(s, src_read, in, buf, sizeof buf, &n);
        (*calls)++;
        if (rc == TWOWAY_OK)
            test_buf_append(out, buf, n);
    } while (rc == TWOWAY_OK && n > 0);
    return rc;
}

static int pull_open(twoway_opener *o, src *in, test_buf *out)
{
    uint8_t buf[100];
    size_t n;
    int rc;
    do {
        n = 0;
        rc = twoway_opener_read(o, src_read, in, buf, sizeof buf, &n);
        if (rc == TWOWAY_OK)
            test_buf_append(out, buf, n);
    } while (rc == TWOWAY_OK && n > 0);
    return rc;
}

static void pull(fx *f)
{
    exchange x;
    exchange_make(&x, f, 1);
    uint8_t buf[64];
    size_t n;
    for (int chunked = 0; chunked < 2; chunked++) {
        twoway_options so = seal_opts(f, chunked), oo = open_opts(chunked);
        twoway_sealer *s = NULL;
        twoway_opener *o = NULL;
        test_buf out = {0}, pt = {0};
        int calls;
        const char *cs = chunked ? "chunked" : "unchunked";

        /* control: a whole round trip */
        src in = {req_pt, sizeof req_pt, 0, SIZE_MAX, 0};
        CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, KEY_ID, f->pk, REQ_MEDIA, &so),
                     TWOWAY_OK);
        CHECK_EQ_INT(pull_seal(s, &in, &out, &calls), TWOWAY_OK);
        twoway_sealer_free(s);
        src min = {out.p, out.len, 0, SIZE_MAX, 0};
        CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, REQ_MEDIA, &oo), TWOWAY_OK);
        CHECK_EQ_INT(pull_open(o, &min, &pt), TWOWAY_OK);
        CHECK(pt.len == sizeof req_pt && memcmp(pt.p, req_pt, pt.len) == 0);
        twoway_opener_free(o);

        /* the source fails midway: IO, then STATE */
        for (size_t fail_at = 0; fail_at <= sizeof req_pt; fail_at += 50) {
            test_buf junk = {0};
            src bad = {req_pt, sizeof req_pt, 0, fail_at, 0};
            CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, KEY_ID, f->pk, REQ_MEDIA, &so),
                         TWOWAY_OK);
            if (fail_at == sizeof req_pt) /* the end reads as a failure, not as EOF */
                bad.len = sizeof req_pt + 1;
            EXPECT_RC(pull_seal(s, &bad, &junk, &calls), TWOWAY_ERR_IO,
                      "%s %s sealer, source fails at %zu", f->name, cs, fail_at);
            n = 1;
            EXPECT_RC(twoway_sealer_read(s, src_read, &in, buf, sizeof buf, &n), TWOWAY_ERR_STATE,
                      "%s %s sealer after IO", f->name, cs);
            CHECK_EQ_UINT(n, 0);
            n = sizeof buf;
            CHECK_EQ_INT(twoway_sealer_final(s, buf, &n, NULL, 0), TWOWAY_ERR_STATE);
            twoway_sealer_free(s);
            test_buf_free(&junk);
        }
        /* a source that returns more than asked */
        {
            test_buf junk = {0};
            src over = {req_pt, sizeof req_pt, 0, SIZE_MAX, 1};
            CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, KEY_ID, f->pk, REQ_MEDIA, &so),
                         TWOWAY_OK);
            EXPECT_RC(pull_seal(s, &over, &junk, &calls), TWOWAY_ERR_IO, "%s %s over-read", f->name,
                      cs);
            n = sizeof buf;
            CHECK_EQ_INT(twoway_sealer_read(s, src_read, &in, buf, sizeof buf, &n),
                         TWOWAY_ERR_STATE);
            twoway_sealer_free(s);
            test_buf_free(&junk);
        }
        /* a bad file descriptor */
        {
            int fd = -1;
            CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, KEY_ID, f->pk, REQ_MEDIA, &so),
                         TWOWAY_OK);
            n = sizeof buf;
            CHECK_EQ_INT(twoway_sealer_read(s, twoway_read_fd, &fd, buf, sizeof buf, &n),
                         TWOWAY_ERR_IO);
            CHECK_EQ_INT(twoway_sealer_read(s, twoway_read_fd, &fd, buf, sizeof buf, &n),
                         TWOWAY_ERR_STATE);
            twoway_sealer_free(s);
            CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, REQ_MEDIA, &oo), TWOWAY_OK);
            CHECK_EQ_INT(twoway_opener_read(o, twoway_read_fd, &fd, buf, sizeof buf, &n),
                         TWOWAY_ERR_IO);
            CHECK_EQ_INT(twoway_opener_read(o, twoway_read_fd, &fd, buf, sizeof buf, &n),
                         TWOWAY_ERR_STATE);
            twoway_opener_free(o);
        }
        /* an unchunked sealer reads at most max_message_len bytes */
        if (!chunked) {
            for (int over = 0; over < 2; over++) {
                test_buf junk = {0};
                twoway_options lo = so;
                src all = {req_pt, sizeof req_pt, 0, SIZE_MAX, 0};
                lo.max_message_len = sizeof req_pt - (size_t)over;
                CHECK_EQ_INT(
                    twoway_request_sealer_new(&s, &f->suite, KEY_ID, f->pk, REQ_MEDIA, &lo),
                    TWOWAY_OK);
                EXPECT_RC(pull_seal(s, &all, &junk, &calls), over ? TWOWAY_ERR_TOO_BIG : TWOWAY_OK,
                          "%s pull max_message_len, over %d", f->name, over);
                if (over) {
                    n = sizeof buf;
                    CHECK_EQ_INT(twoway_sealer_read(s, src_read, &all, buf, sizeof buf, &n),
                                 TWOWAY_ERR_STATE);
                }
                twoway_sealer_free(s);
                test_buf_free(&junk);
            }
        }
        /* argument errors */
        CHECK_EQ_INT(twoway_request_sealer_new(&s, &f->suite, KEY_ID, f->pk, REQ_MEDIA, &so),
                     TWOWAY_OK);
        CHECK_EQ_INT(twoway_sealer_read(NULL, src_read, &in, buf, sizeof buf, &n), TWOWAY_ERR_ARG);
        CHECK_EQ_INT(twoway_sealer_read(s, NULL, &in, buf, sizeof buf, &n), TWOWAY_ERR_ARG);
        CHECK_EQ_INT(twoway_sealer_read(s, src_read, &in, buf, sizeof buf, NULL), TWOWAY_ERR_ARG);
        CHECK_EQ_INT(twoway_sealer_read(s, src_read, &in, NULL, 5, &n), TWOWAY_ERR_ARG);
        CHECK_EQ_INT(twoway_sealer_read(s, src_read, &in, buf, 0, &n), TWOWAY_ERR_BUFFER);
        twoway_sealer_free(s);

        /* the opener's source fails midway; the message ends early */
        for (size_t fail_at = 0; fail_at < out.len; fail_at += 61) {
            src bad = {out.p, out.len, 0, fail_at, 0};
            pt.len = 0;
            CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, REQ_MEDIA, &oo), TWOWAY_OK);
            EXPECT_RC(pull_open(o, &bad, &pt), TWOWAY_ERR_IO, "%s %s opener, source fails at %zu",
                      f->name, cs, fail_at);
            n = 1;
            EXPECT_RC(twoway_opener_read(o, src_read, &min, buf, sizeof buf, &n), TWOWAY_ERR_STATE,
                      "%s %s opener after IO", f->name, cs);
            CHECK_EQ_UINT(n, 0);
            twoway_opener_free(o);

            src cut = {out.p, fail_at, 0, SIZE_MAX, 0};
            target tt = {K_REQ, f, f->ring, NULL, NULL, 0, oo};
            model mm;
            model_init(&mm, &tt, out.p, out.len);
            CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, REQ_MEDIA, &oo), TWOWAY_OK);
            EXPECT_RC(pull_open(o, &cut, &pt), expected_code(&mm, out.p, fail_at),
                      "%s %s opener, message cut at %zu", f->name, cs, fail_at);
            n = 1;
            CHECK_EQ_INT(twoway_opener_read(o, src_read, &min, buf, sizeof buf, &n),
                         TWOWAY_ERR_STATE);
            twoway_opener_free(o);
        }
        CHECK_EQ_INT(twoway_request_opener_new(&o, f->ring, REQ_MEDIA, &oo), TWOWAY_OK);
        CHECK_EQ_INT(twoway_opener_read(NULL, src_read, &in, buf, sizeof buf, &n), TWOWAY_ERR_ARG);
        CHECK_EQ_INT(twoway_opener_read(o, NULL, &in, buf, sizeof buf, &n), TWOWAY_ERR_ARG);
        CHECK_EQ_INT(twoway_opener_read(o, src_read, &in, buf, sizeof buf, NULL), TWOWAY_ERR_ARG);
        CHECK_EQ_INT(twoway_opener_read(o, src_read, &in, NULL, 5, &n), TWOWAY_ERR_ARG);
        CHECK_EQ_INT(twoway_opener_read(o, src_read, &in, buf, 0, &n), TWOWAY_ERR_BUFFER);
        twoway_opener_free(o);
        test_buf_free(&out);
        test_buf_free(&pt);
    }
    exchange_free(&x);
}

/* ------------------------------------------------------------------ main */

int main(void)
{
    for (size_t i = 0; i < sizeof req_pt; i++)
        req_pt[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof resp_pt; i++)
        resp_pt[i] = (uint8_t)(i * 13 + 5);
    fx suites[2];
    fx_init(&suites[0], "x25519-aes128", TWOWAY_HPKE_KEM_X25519_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA256,
            TWOWAY_HPKE_AEAD_AES_128_GCM);
    fx_init(&suites[1], "p256-chacha", TWOWAY_HPKE_KEM_P256_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA256,
            TWOWAY_HPKE_AEAD_CHACHA20_POLY1305);
    header_parse();
    hand_built_bodies();
    for (size_t i = 0; i < 2; i++) {
        fx *f = &suites[i];
        for (int chunked = 0; chunked < 2; chunked++) {
            one_to_one_messages(f, chunked);
            wrong_inputs(f, chunked);
            one_to_many(f, chunked);
        }
        hand_built_messages(f);
        exhaustion(f);
        api_misuse(f);
        bad_options(f);
        message_limit(f);
        saved_contexts(f);
        pull(f);
    }
    fx_free(&suites[0]);
    fx_free(&suites[1]);
    return test_summary("twoway-negative");
}
