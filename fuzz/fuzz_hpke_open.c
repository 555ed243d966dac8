/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the receiving side of HPKE (SetupR, Open, Export and the
 * single-shot Open) for every built-in suite and mode, plus a seal/open round
 * trip that must give the plaintext back and must refuse a one-bit change.
 *
 * Input layout (missing bytes read as 0):
 *   [0] KEM    (modulo 5: P-256, P-384, P-521, X25519, X448)
 *   [1] KDF    (modulo 3: HKDF-SHA256, -SHA384, -SHA512)
 *   [2] AEAD   (modulo 4: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, export-only)
 *   [3] mode   bits 0-2 the mode (4..7 are invalid); on the receiving side
 *              only, each of these bits spoils the inputs, and setup must fail:
 *                0x08 params version 0 (in base mode: NULL params, which is valid,
 *                     and the bits 0x10-0x40 are then ignored)
 *                0x10 PSK one byte too short (a PSK given, in the modes without one)
 *                0x20 no PSK id (a PSK id given, in the modes without one)
 *                0x40 sender key of another KEM (one given, in the modes without one)
 *                0x80 the recipient's public key instead of its key pair
 *   [4] which input the round trip alters: ct, aad, enc, info (modulo 4)
 *   [5..6] which bit it flips (big-endian, modulo the bits of that input)
 *   [7] exporter length, in units of 64 bytes
 *   then enc, aad and info, each as one length byte and that many bytes
 *   (fewer if the input ends), and the rest: the ciphertext.
 *
 * The receiver, the sender (auth modes) and the round trip's ephemeral key are
 * fixed key pairs per KEM, derived once. Every call must fail cleanly or
 * succeed; the invariants below abort() when broken.
 */
#include <twoway/hpke.h>

#include "twoway/hpke_testing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_hpke_open"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t kdf_ids[] = {TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_KDF_HKDF_SHA384,
                                   TWOWAY_HPKE_KDF_HKDF_SHA512};
static const uint16_t aead_ids[] = {TWOWAY_HPKE_AEAD_AES_128_GCM, TWOWAY_HPKE_AEAD_AES_256_GCM,
                                    TWOWAY_HPKE_AEAD_CHACHA20_POLY1305,
                                    TWOWAY_HPKE_AEAD_EXPORT_ONLY};
#define N_KDFS (sizeof kdf_ids / sizeof kdf_ids[0])
#define N_AEADS (sizeof aead_ids / sizeof aead_ids[0])

/* Bytes of a buffer that an open has not written to. */
#define FILL 0xA5
#define EXPORT_UNIT 64u
#define EXPORT_MAX (255u * EXPORT_UNIT) /* 255 * Nh for SHA-512 */

static const uint8_t psk[TWOWAY_HPKE_MIN_PSK_LEN] = {
    0x70, 0x73, 0x6b, 0x20, 0x6f, 0x66, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x5f, 0x68, 0x70, 0x6b, 0x65,
    0x5f, 0x6f, 0x70, 0x65, 0x6e, 0x2c, 0x20, 0x33, 0x32, 0x20, 0x62, 0x79, 0x74, 0x65, 0x73, 0x21};
static const uint8_t psk_id[] = "fuzz_hpke_open psk id";

/* ------------------------------------------------------------ fixed keys */

typedef struct fixed_keys {
    twoway_hpke_key *receiver, *receiver_pub; /* the recipient's pair and its public half */
    twoway_hpke_key *sender, *sender_pub;     /* the auth modes' sender */
    twoway_hpke_key *ephemeral;               /* the round trip's ephemeral pair */
} fixed_keys;

static twoway_hpke_key *derive_fixed(size_t kem_index, uint8_t tag)
{
    uint8_t ikm[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
    twoway_hpke_key *key = NULL;
    memset(ikm, tag, sizeof ikm);
    ikm[0] = (uint8_t)kem_index;
    CHECK(twoway_hpke_key_derive(twoway_hpke_kem_by_id(kem_ids[kem_index]), &key, ikm,
                                 sizeof ikm) == TWOWAY_OK);
    return key;
}

static twoway_hpke_key *public_half(const twoway_hpke_key *pair)
{
    size_t len = 0;
    const uint8_t *pk = twoway_hpke_key_public(pair, &len);
    twoway_hpke_key *pub = NULL;
    CHECK(twoway_hpke_key_import_public(twoway_hpke_key_kem(pair), &pub, pk, len) == TWOWAY_OK);
    return pub;
}

/* The fixed keys of a KEM, made on first use and kept for the whole run. */
static const fixed_keys *keys_of(size_t kem_index)
{
    static fixed_keys keys[N_KEMS];
    fixed_keys *k = &keys[kem_index];
    if (k->receiver == NULL) {
        k->receiver = derive_fixed(kem_index, 0x52);
        k->receiver_pub = public_half(k->receiver);
        k->sender = derive_fixed(kem_index, 0x53);
        k->sender_pub = public_half(k->sender);
        k->ephemeral = derive_fixed(kem_index, 0x45);
    }
    return k;
}

/* ------------------------------------------------------------------ input */

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t take_u8(reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

/* Up to want bytes (fewer if the input ends). */
static const uint8_t *take(reader *r, size_t want, size_t *got)
{
    const uint8_t *p = r->p;
    *got = want < r->n ? want : r->n;
    r->p += *got;
    r->n -= *got;
    return p;
}

typedef struct fuzz_input {
    size_t kem_index;
    twoway_hpke_suite suite;
    uint8_t mode_byte;
    uint8_t flip_target;
    uint16_t flip_bit;
    size_t export_len;
    const uint8_t *enc, *aad, *info, *ct;
    size_t enc_len, aad_len, info_len, ct_len;
} fuzz_input;

static void parse(fuzz_input *in, const uint8_t *data, size_t size)
{
    static const uint8_t none[1];
    reader r = {data != NULL ? data : none, data != NULL ? size : 0};
    in->kem_index = take_u8(&r) % N_KEMS;
    uint16_t kdf_id = kdf_ids[take_u8(&r) % N_KDFS];
    uint16_t aead_id = aead_ids[take_u8(&r) % N_AEADS];
    CHECK(twoway_hpke_suite_from_ids(&in->suite, kem_ids[in->kem_index], kdf_id, aead_id) ==
          TWOWAY_OK);
    in->mode_byte = take_u8(&r);
    in->flip_target = take_u8(&r) % 4;
    in->flip_bit = (uint16_t)(take_u8(&r) << 8);
    in->flip_bit |= take_u8(&r);
    in->export_len = (size_t)take_u8(&r) * EXPORT_UNIT;
    in->enc = take(&r, take_u8(&r), &in->enc_len);
    in->aad = take(&r, take_u8(&r), &in->aad_len);
    in->info = take(&r, take_u8(&r), &in->info_len);
    in->ct = take(&r, r.n, &in->ct_len);
}

/* --------------------------------------------------------------- helpers */

static int is_error(int rc)
{
    return rc < 0 && rc >= TWOWAY_ERR_STATE;
}

static int is_mode(unsigned m, twoway_hpke_mode mode)
{
    return m == (unsigned)mode;
}

static int mode_has_psk(unsigned m)
{
    return is_mode(m, TWOWAY_HPKE_MODE_PSK) || is_mode(m, TWOWAY_HPKE_MODE_AUTH_PSK);
}

static int mode_has_auth(unsigned m)
{
    return is_mode(m, TWOWAY_HPKE_MODE_AUTH) || is_mode(m, TWOWAY_HPKE_MODE_AUTH_PSK);
}

/* The valid parameters of mode m (0..3): sender_key is the sender's pair on
 * the sending side and its public key on the receiving side. */
static void clean_params(twoway_hpke_params *p, unsigned m, const twoway_hpke_key *sender_key)
{
    *p = (twoway_hpke_params)TWOWAY_HPKE_PARAMS_INIT;
    p->mode = (twoway_hpke_mode)m;
    if (mode_has_psk(m)) {
        p->psk = psk;
        p->psk_len = sizeof psk;
        p->psk_id = psk_id;
        p->psk_id_len = sizeof psk_id;
    }
    if (mode_has_auth(m))
        p->sender_key = sender_key;
}

/* The receiving side's parameters from the mode byte (see the top). Sets
 * *must_fail when they are invalid. */
static const twoway_hpke_params *receiver_params(twoway_hpke_params *p, uint8_t mb,
                                                 const fixed_keys *k, const fixed_keys *other,
                                                 int *must_fail)
{
    unsigned m = mb & 7u;
    *must_fail = m > 3 || (mb & 0x70u) != 0;
    if ((mb & 0x08u) && is_mode(m, TWOWAY_HPKE_MODE_BASE)) {
        *must_fail = 0; /* no parameters left to spoil */
        return NULL;
    }
    if (m > 3) {
        clean_params(p, 0, NULL);
        p->mode = (twoway_hpke_mode)m;
    } else {
        clean_params(p, m, k->sender_pub);
    }
    if (mb & 0x08u) {
        p->version = 0;
        *must_fail = 1;
    }
    if (mb & 0x10u) {
        p->psk = psk;
        p->psk_len = mode_has_psk(m) ? sizeof psk - 1 : sizeof psk;
    }
    if (mb & 0x20u) {
        p->psk_id = mode_has_psk(m) ? NULL : psk_id;
        p->psk_id_len = mode_has_psk(m) ? 0 : sizeof psk_id;
    }
    if (mb & 0x40u)
        p->sender_key = other->sender_pub;
    return p;
}

/* After a failed open of ct_len bytes: the plaintext room is either wiped or
 * untouched, never holding a partial decryption. */
static void check_no_plaintext(const uint8_t *pt, size_t ct_len, size_t tag_len)
{
    if (ct_len <= tag_len)
        return;
    size_t n = ct_len - tag_len, zero = 0, fill = 0;
    for (size_t i = 0; i < n; i++) {
        zero += pt[i] == 0;
        fill += pt[i] == FILL;
    }
    CHECK(zero == n || fill == n);
}

/* One open that must keep the rules on the sequence number and on pt. */
static int open_checked(twoway_hpke_ctx *ctx, uint8_t *pt, size_t pt_room, const uint8_t *aad,
                        size_t aad_len, const uint8_t *ct, size_t ct_len, size_t *pt_len)
{
    uint64_t seq = twoway_hpke_ctx_seq(ctx);
    size_t tag_len = twoway_hpke_ctx_suite(ctx)->aead->tag_len;
    if (pt != NULL)
        memset(pt, FILL, pt_room);
    *pt_len = pt_room;
    int rc = twoway_hpke_open(ctx, pt, pt_len, aad, aad_len, ct, ct_len);
    CHECK(rc == TWOWAY_OK || is_error(rc));
    if (rc == TWOWAY_OK) {
        CHECK(twoway_hpke_ctx_seq(ctx) == seq + 1);
        CHECK(ct_len >= tag_len && *pt_len == ct_len - tag_len);
    } else {
        CHECK(twoway_hpke_ctx_seq(ctx) == seq);
        if (rc == TWOWAY_ERR_AUTH && pt != NULL)
            check_no_plaintext(pt, ct_len, tag_len);
    }
    return rc;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = xmalloc(n);
    if (n > 0)
        memcpy(d, p, n);
    return d;
}

/* --------------------------------------------------- the receiving side */

/* SetupR, Open (several times), Export and the single-shot calls on the
 * fuzzer's enc, aad, info and ciphertext. */
static void fuzz_receiver(const fuzz_input *in)
{
    const fixed_keys *k = keys_of(in->kem_index);
    const fixed_keys *other = keys_of((in->kem_index + 1) % N_KEMS);
    const twoway_hpke_suite *suite = &in->suite;
    twoway_hpke_params prm;
    int must_fail;
    const twoway_hpke_params *pp = receiver_params(&prm, in->mode_byte, k, other, &must_fail);
    const twoway_hpke_key *recipient = k->receiver;
    if (in->mode_byte & 0x80u) {
        recipient = k->receiver_pub; /* no private key to decapsulate with */
        must_fail = 1;
    }
    size_t room = in->ct_len + 1, first_len = 0, len;
    uint8_t *pt = xmalloc(room), *first = xmalloc(room), *once = xmalloc(room);
    twoway_hpke_ctx *ctx = (twoway_hpke_ctx *)(uintptr_t)1; /* must be reset to NULL on failure */

    int rc = twoway_hpke_setup_receiver(&ctx, suite, in->enc, in->enc_len, recipient, in->info,
                                        in->info_len, pp);
    CHECK(rc == TWOWAY_OK || is_error(rc));
    CHECK(!must_fail || rc != TWOWAY_OK);
    int first_rc = rc;
    if (rc != TWOWAY_OK) {
        CHECK(ctx == NULL);
    } else {
        const twoway_hpke_suite *s = twoway_hpke_ctx_suite(ctx);
        CHECK(in->enc_len == suite->kem->enc_len);
        CHECK(s->kem == suite->kem && s->kdf == suite->kdf && s->aead == suite->aead);
        CHECK(twoway_hpke_ctx_seq(ctx) == 0);
        size_t tag_len = suite->aead->tag_len;
        int export_only = suite->aead->id == TWOWAY_HPKE_AEAD_EXPORT_ONLY;

        /* The whole ciphertext, twice: once it opened, the next sequence
         * number must refuse it; if it failed, it fails the same way. */
        first_rc = open_checked(ctx, pt, room, in->aad, in->aad_len, in->ct, in->ct_len, &len);
        CHECK(!export_only || first_rc == TWOWAY_ERR_STATE);
        if (first_rc == TWOWAY_OK) {
            first_len = len;
            memcpy(first, pt, len);
        }
        rc = open_checked(ctx, pt, room, in->aad, in->aad_len, in->ct, in->ct_len, &len);
        CHECK(first_rc == TWOWAY_OK ? rc != TWOWAY_OK : rc == first_rc);

        /* Its first half; its tag-sized prefix with no plaintext buffer. */
        (void)open_checked(ctx, pt, room, in->aad, in->aad_len, in->ct, in->ct_len / 2, &len);
        if (!export_only && in->ct_len >= tag_len)
            (void)open_checked(ctx, NULL, 0, in->aad, in->aad_len, in->ct, tag_len, &len);
        /* A plaintext buffer one byte short. */
        if (!export_only && in->ct_len > tag_len) {
            uint64_t seq = twoway_hpke_ctx_seq(ctx);
            len = in->ct_len - tag_len - 1;
            CHECK(twoway_hpke_open(ctx, pt, &len, in->aad, in->aad_len, in->ct, in->ct_len) ==
                  TWOWAY_ERR_BUFFER);
            CHECK(twoway_hpke_ctx_seq(ctx) == seq);
        }

        /* Export, with the aad as exporter context: refused only over 255 * Nh. */
        static uint8_t exp1[EXPORT_MAX], exp2[EXPORT_MAX];
        size_t exp_len = in->export_len;
        rc = twoway_hpke_export(ctx, exp1, exp_len, in->aad, in->aad_len);
        if (exp_len > 255u * suite->kdf->hash_len) {
            CHECK(rc == TWOWAY_ERR_ARG);
        } else {
            CHECK(rc == TWOWAY_OK);
            CHECK(twoway_hpke_receive_export(suite, recipient, in->info, in->info_len, pp, in->enc,
                                             in->enc_len, in->aad, in->aad_len, exp2,
                                             exp_len) == TWOWAY_OK);
            CHECK(memcmp(exp1, exp2, exp_len) == 0);
        }
        twoway_hpke_ctx_free(ctx);
    }

    /* The single-shot Open agrees with SetupR and the first Open. */
    memset(once, FILL, room);
    len = room;
    rc = twoway_hpke_open_once(suite, recipient, in->info, in->info_len, pp, in->enc, in->enc_len,
                               in->aad, in->aad_len, in->ct, in->ct_len, once, &len);
    CHECK(rc == first_rc);
    if (rc == TWOWAY_OK)
        CHECK(len == first_len && memcmp(once, first, len) == 0);
    else if (rc == TWOWAY_ERR_AUTH)
        check_no_plaintext(once, in->ct_len, suite->aead->tag_len);

    free(pt);
    free(first);
    free(once);
}

/* ------------------------------------------------------------ round trip */

static void flip(uint8_t *p, size_t n, uint16_t bit)
{
    size_t b = bit % (n * 8);
    p[b / 8] ^= (uint8_t)(1u << (b % 8));
}

/* Seal the fuzzer's ciphertext bytes as plaintext to the fixed receiver
 * (with the fixed ephemeral key) in the valid form of the input's mode, open
 * it again, and check that one flipped bit of ct, aad, enc or info is refused. */
static void fuzz_round_trip(const fuzz_input *in)
{
    const fixed_keys *k = keys_of(in->kem_index);
    const twoway_hpke_suite *suite = &in->suite;
    const twoway_hpke_kem *kem = suite->kem;
    unsigned m = in->mode_byte & 3u;
    twoway_hpke_params sp, rp;
    twoway_hpke_ctx *sctx = NULL, *rctx = NULL, *tctx = NULL;
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    size_t enc_len = sizeof enc, len;
    uint8_t exp_s[32], exp_r[32], exp_t[32];
    int rc;

    clean_params(&sp, m, k->sender);
    clean_params(&rp, m, k->sender_pub);
    CHECK(twoway_hpke_testing_setup_sender(&sctx, enc, &enc_len, suite, k->receiver_pub, in->info,
                                           in->info_len, &sp, k->ephemeral) == TWOWAY_OK);
    CHECK(enc_len == kem->enc_len);
    size_t epk_len = 0;
    const uint8_t *epk = twoway_hpke_key_public(k->ephemeral, &epk_len);
    CHECK(epk_len == enc_len && memcmp(enc, epk, enc_len) == 0); /* enc = SerializePublicKey(pkE) */
    CHECK(twoway_hpke_setup_receiver(&rctx, suite, enc, enc_len, k->receiver, in->info,
                                     in->info_len, &rp) == TWOWAY_OK);
    CHECK(twoway_hpke_export(sctx, exp_s, sizeof exp_s, in->aad, in->aad_len) == TWOWAY_OK);
    CHECK(twoway_hpke_export(rctx, exp_r, sizeof exp_r, in->aad, in->aad_len) == TWOWAY_OK);
    CHECK(memcmp(exp_s, exp_r, sizeof exp_s) == 0);

    /* What to alter: an empty aad or info cannot be, and an export-only
     * context has no ciphertext; fall back to ct, or to enc. */
    unsigned target = in->flip_target;
    if ((target == 1 && in->aad_len == 0) || (target == 3 && in->info_len == 0))
        target = 0;
    int export_only = suite->aead->id == TWOWAY_HPKE_AEAD_EXPORT_ONLY;
    if (export_only && target != 3)
        target = 2;
    uint8_t *t_enc = dup_bytes(enc, enc_len);
    uint8_t *t_info = dup_bytes(in->info, in->info_len);
    if (target == 2)
        flip(t_enc, enc_len, in->flip_bit);
    if (target == 3)
        flip(t_info, in->info_len, in->flip_bit);
    if (target >= 2) {
        rc = twoway_hpke_setup_receiver(&tctx, suite, t_enc, enc_len, k->receiver, t_info,
                                        in->info_len, &rp);
        CHECK(rc == TWOWAY_OK || is_error(rc));
    }

    if (export_only) {
        uint8_t one = 0;
        size_t ct_len = sizeof one;
        len = 0;
        CHECK(twoway_hpke_seal(sctx, &one, &ct_len, NULL, 0, NULL, 0) == TWOWAY_ERR_STATE);
        CHECK(twoway_hpke_open(rctx, &one, &len, NULL, 0, &one, 0) == TWOWAY_ERR_STATE);
        if (tctx != NULL) {
            CHECK(twoway_hpke_export(tctx, exp_t, sizeof exp_t, in->aad, in->aad_len) == TWOWAY_OK);
            CHECK(memcmp(exp_s, exp_t, sizeof exp_s) != 0);
        }
    } else {
        size_t tag_len = suite->aead->tag_len, n = in->ct_len, room = n + tag_len;
        size_t ct0_len = room, ct1_len = room;
        uint8_t *ct0 = xmalloc(room), *ct1 = xmalloc(room), *pt = xmalloc(room);
        uint8_t *t_ct = NULL, *t_aad = NULL;

        CHECK(twoway_hpke_seal(sctx, ct0, &ct0_len, in->aad, in->aad_len, in->ct, n) == TWOWAY_OK);
        CHECK(twoway_hpke_seal(sctx, ct1, &ct1_len, in->aad, in->aad_len, in->ct, n) == TWOWAY_OK);
        CHECK(ct0_len == room && ct1_len == room && twoway_hpke_ctx_seq(sctx) == 2);
        CHECK(memcmp(ct0, ct1, room) != 0); /* two nonces */

        /* The altered message is refused, and moves nothing. */
        if (target >= 2) {
            if (tctx != NULL)
                CHECK(open_checked(tctx, pt, room, in->aad, in->aad_len, ct0, ct0_len, &len) ==
                      TWOWAY_ERR_AUTH);
        } else {
            t_ct = dup_bytes(ct0, ct0_len);
            t_aad = dup_bytes(in->aad, in->aad_len);
            if (target == 0)
                flip(t_ct, ct0_len, in->flip_bit);
            else
                flip(t_aad, in->aad_len, in->flip_bit);
            CHECK(open_checked(rctx, pt, room, t_aad, in->aad_len, t_ct, ct0_len, &len) ==
                  TWOWAY_ERR_AUTH);
        }

        /* In order: message 0, not twice, then message 1 in place. */
        CHECK(open_checked(rctx, pt, room, in->aad, in->aad_len, ct0, ct0_len, &len) == TWOWAY_OK);
        CHECK(len == n && (n == 0 || memcmp(pt, in->ct, n) == 0));
        CHECK(open_checked(rctx, pt, room, in->aad, in->aad_len, ct0, ct0_len, &len) ==
              TWOWAY_ERR_AUTH);
        len = ct1_len;
        CHECK(twoway_hpke_open(rctx, ct1, &len, in->aad, in->aad_len, ct1, ct1_len) == TWOWAY_OK);
        CHECK(len == n && (n == 0 || memcmp(ct1, in->ct, n) == 0));
        CHECK(twoway_hpke_ctx_seq(rctx) == 2);

        /* The single-shot Open of message 0. */
        memset(pt, FILL, room);
        len = room;
        CHECK(twoway_hpke_open_once(suite, k->receiver, in->info, in->info_len, &rp, enc, enc_len,
                                    in->aad, in->aad_len, ct0, ct0_len, pt, &len) == TWOWAY_OK);
        CHECK(len == n && (n == 0 || memcmp(pt, in->ct, n) == 0));

        free(t_ct);
        free(t_aad);
        free(ct0);
        free(ct1);
        free(pt);
    }

    twoway_hpke_ctx_free(tctx);
    twoway_hpke_ctx_free(rctx);
    twoway_hpke_ctx_free(sctx);
    free(t_enc);
    free(t_info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in;
    parse(&in, data, size);
    fuzz_receiver(&in);
    fuzz_round_trip(&in);
    return 0;
}
