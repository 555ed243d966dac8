/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-twoway: twoway messages beside the raw OpenSSL work they are built
 * on, measured in the same run.
 *
 * 1. Chunked streaming with 16 KiB chunks (AES-128-GCM, ChaCha20-Poly1305):
 *    a 4 MiB response body sealed and opened through the push interface
 *    (a new sealer/opener per message, so their setup is included), beside
 *    the raw OpenSSL AEAD sealing and opening the same 16 KiB chunks with
 *    the key set once. Ratio = our MB/s / raw MB/s; target >= 0.90.
 * 2. One-shot OHTTP round trip of 1 KiB (X25519, HKDF-SHA256, AES-128-GCM):
 *    seal request, open it, seal the response, open it; beside the raw
 *    X25519 operations it needs (an ephemeral key pair and its encoding, the
 *    sender's DH, the import of enc and the receiver's DH). Ratio = our
 *    round trips per second / raw; target >= 0.85.
 *
 * Usage: bench-twoway [seconds-per-measurement]   (default 0.6)
 */
#include <twoway/twoway.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define CHUNK 16384u
#define BODY (4u << 20)
#define NCHUNKS (BODY / CHUNK)
#define TAG 16u
#define MSG 1024u

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench-twoway: %s failed (%d: %s)\n", what, rc, twoway_strerror(rc));
    exit(1);
}

/* --------------------------------------------------------------- streaming */

typedef struct stream_fixture {
    const twoway_context *server, *client;
    twoway_options opt;
    uint8_t *pt, *sealed, *wire, *back;
    size_t sealed_len;
    /* raw */
    const EVP_CIPHER *cipher;
    EVP_CIPHER_CTX *enc_ctx, *dec_ctx;
    uint8_t key[32], nonce[12];
    uint8_t *raw_ct; /* NCHUNKS x (CHUNK + TAG) */
} stream_fixture;

static const uint8_t media[] = "message/bhttp chunked response";

static void our_seal(void *arg)
{
    stream_fixture *f = arg;
    twoway_sealer *s;
    size_t w = 0, n;
    int rc = twoway_response_sealer_new(&s, f->server, media, sizeof media - 1, &f->opt);
    if (rc != TWOWAY_OK)
        die("response sealer", rc);
    for (size_t i = 0; i < NCHUNKS; i++) {
        n = CHUNK + 64;
        if ((rc = twoway_sealer_update(s, f->wire + w, &n, f->pt + i * CHUNK, CHUNK)))
            die("seal", rc);
        w += n;
    }
    n = 64;
    if ((rc = twoway_sealer_final(s, f->wire + w, &n, NULL, 0)))
        die("seal final", rc);
    twoway_sealer_free(s);
}

static void our_open(void *arg)
{
    stream_fixture *f = arg;
    twoway_opener *o;
    size_t n, total = 0;
    int rc = twoway_response_opener_new(&o, f->client, media, sizeof media - 1, &f->opt);
    if (rc != TWOWAY_OK)
        die("response opener", rc);
    /* the transport's reads: 64 KiB at a time */
    for (size_t off = 0; off < f->sealed_len;) {
        size_t in = f->sealed_len - off < 65536 ? f->sealed_len - off : 65536;
        int last = off + in == f->sealed_len;
        n = BODY + CHUNK;
        rc = last ? twoway_opener_final(o, f->back + total, &n, f->sealed + off, in)
                  : twoway_opener_update(o, f->back + total, &n, f->sealed + off, in);
        if (rc != TWOWAY_OK)
            die("open", rc);
        total += n;
        off += in;
    }
    if (total != BODY)
        die("open length", -1);
    twoway_opener_free(o);
}

static void raw_seal(void *arg)
{
    stream_fixture *f = arg;
    int len;
    for (size_t i = 0; i < NCHUNKS; i++) {
        uint8_t *ct = f->raw_ct + i * (CHUNK + TAG);
        f->nonce[11] = (uint8_t)i;
        if (EVP_EncryptInit_ex(f->enc_ctx, NULL, NULL, NULL, f->nonce) != 1 ||
            EVP_EncryptUpdate(f->enc_ctx, ct, &len, f->pt + i * CHUNK, CHUNK) != 1 ||
            EVP_EncryptFinal_ex(f->enc_ctx, ct + len, &len) != 1 ||
            EVP_CIPHER_CTX_ctrl(f->enc_ctx, EVP_CTRL_AEAD_GET_TAG, TAG, ct + CHUNK) != 1)
            die("raw seal", -1);
    }
}

static void raw_open(void *arg)
{
    stream_fixture *f = arg;
    int len;
    for (size_t i = 0; i < NCHUNKS; i++) {
        uint8_t *ct = f->raw_ct + i * (CHUNK + TAG);
        f->nonce[11] = (uint8_t)i;
        if (EVP_DecryptInit_ex(f->dec_ctx, NULL, NULL, NULL, f->nonce) != 1 ||
            EVP_DecryptUpdate(f->dec_ctx, f->back + i * CHUNK, &len, ct, CHUNK) != 1 ||
            EVP_CIPHER_CTX_ctrl(f->dec_ctx, EVP_CTRL_AEAD_SET_TAG, TAG, ct + CHUNK) != 1 ||
            EVP_DecryptFinal_ex(f->dec_ctx, f->back + i * CHUNK + len, &len) != 1)
            die("raw open", -1);
    }
}

static void report(const char *label, double ours, double raw, double unit, const char *what,
                   double target)
{
    double ratio = ours / raw;
    printf("%-44s %9.1f %s   raw %9.1f %s   ratio %.3fx   (target >= %.2fx: %s)\n", label,
           ours * unit, what, raw * unit, what, ratio, target, ratio >= target ? "met" : "MISSED");
}

static void bench_stream(uint16_t aead_id, const char *name, const EVP_CIPHER *cipher,
                         size_t key_len, double seconds)
{
    static stream_fixture f;
    twoway_hpke_suite suite;
    twoway_hpke_key *sk, *pk;
    twoway_keyring *ring;
    twoway_sealer *req;
    twoway_opener *ro;
    int rc;
    memset(&f, 0, sizeof f);
    if ((rc = twoway_hpke_suite_from_ids(&suite, TWOWAY_HPKE_KEM_X25519_SHA256,
                                         TWOWAY_HPKE_KDF_HKDF_SHA256, aead_id)))
        die("suite", rc);
    if ((rc = twoway_hpke_key_generate(suite.kem, &sk)))
        die("keygen", rc);
    size_t pl;
    const uint8_t *p = twoway_hpke_key_public(sk, &pl);
    if ((rc = twoway_hpke_key_import_public(suite.kem, &pk, p, pl)))
        die("import", rc);
    if ((rc = twoway_keyring_new(&ring)) || (rc = twoway_keyring_add(ring, 0, &suite, sk)))
        die("ring", rc);
    /* one request, for the contexts the responses are bound to */
    uint8_t msg[256];
    size_t n = sizeof msg, m = sizeof msg;
    if ((rc = twoway_request_sealer_new(&req, &suite, 0, pk, NULL, 0, NULL)) ||
        (rc = twoway_sealer_final(req, msg, &n, NULL, 0)) ||
        (rc = twoway_request_opener_new(&ro, ring, NULL, 0, NULL)) ||
        (rc = twoway_opener_final(ro, msg + 200, &m, msg, n)))
        die("request", rc);
    f.server = twoway_opener_context(ro);
    f.client = twoway_sealer_context(req);
    f.opt = (twoway_options)TWOWAY_OPTIONS_INIT;
    f.opt.chunked = 1;
    f.opt.max_chunk_len = CHUNK;
    f.pt = malloc(BODY);
    f.wire = malloc(BODY + NCHUNKS * 64 + 64);
    f.sealed = malloc(BODY + NCHUNKS * 64 + 64);
    f.back = malloc(BODY + CHUNK);
    f.raw_ct = malloc(NCHUNKS * (CHUNK + TAG));
    if (!f.pt || !f.wire || !f.sealed || !f.back || !f.raw_ct)
        die("malloc", TWOWAY_ERR_NOMEM);
    if (RAND_bytes(f.pt, BODY) != 1 || RAND_bytes(f.key, sizeof f.key) != 1)
        die("rand", -1);
    /* a response to open */
    twoway_sealer *s;
    size_t w = 0;
    if ((rc = twoway_response_sealer_new(&s, f.server, media, sizeof media - 1, &f.opt)))
        die("sealer", rc);
    n = BODY + NCHUNKS * 64;
    if ((rc = twoway_sealer_final(s, f.sealed, &n, f.pt, BODY)))
        die("seal", rc);
    w = n;
    f.sealed_len = w;
    twoway_sealer_free(s);
    /* raw: the key is set once, each chunk sets its nonce */
    f.cipher = cipher;
    f.enc_ctx = EVP_CIPHER_CTX_new();
    f.dec_ctx = EVP_CIPHER_CTX_new();
    if (f.enc_ctx == NULL || f.dec_ctx == NULL ||
        EVP_EncryptInit_ex(f.enc_ctx, cipher, NULL, f.key, f.nonce) != 1 ||
        EVP_DecryptInit_ex(f.dec_ctx, cipher, NULL, f.key, f.nonce) != 1 ||
        (size_t)EVP_CIPHER_get_key_length(cipher) != key_len)
        die("raw init", -1);
    raw_seal(&f);

    double ours, raw;
    char label[96];
    snprintf(label, sizeof label, "chunked 16 KiB, %s seal", name);
    bench_pair(our_seal, raw_seal, &f, seconds, &ours, &raw);
    report(label, ours, raw, BODY / 1e6, "MB/s", 0.90);
    snprintf(label, sizeof label, "chunked 16 KiB, %s open", name);
    bench_pair(our_open, raw_open, &f, seconds, &ours, &raw);
    report(label, ours, raw, BODY / 1e6, "MB/s", 0.90);

    EVP_CIPHER_CTX_free(f.enc_ctx);
    EVP_CIPHER_CTX_free(f.dec_ctx);
    free(f.pt);
    free(f.wire);
    free(f.sealed);
    free(f.back);
    free(f.raw_ct);
    twoway_sealer_free(req);
    twoway_opener_free(ro);
    twoway_keyring_free(ring);
    twoway_hpke_key_free(sk);
    twoway_hpke_key_free(pk);
}

/* ---------------------------------------------------------- OHTTP round trip */

typedef struct rt_fixture {
    twoway_hpke_suite suite;
    twoway_hpke_key *sk, *pk;
    twoway_keyring *ring;
    uint8_t pt[MSG], req[MSG + 128], resp[MSG + 128], back[MSG + 128];
    /* raw */
    EVP_PKEY *raw_skR, *raw_pkR;
    uint8_t enc[32];
} rt_fixture;

static void our_round_trip(void *arg)
{
    static const uint8_t mreq[] = TWOWAY_OHTTP_REQUEST, mresp[] = TWOWAY_OHTTP_RESPONSE;
    rt_fixture *f = arg;
    twoway_sealer *s, *rs;
    twoway_opener *o, *ro;
    size_t n = sizeof f->req, m = sizeof f->back, k = sizeof f->resp, l = sizeof f->back;
    int rc;
    if ((rc = twoway_request_sealer_new(&s, &f->suite, 1, f->pk, mreq, sizeof mreq - 1, NULL)) ||
        (rc = twoway_sealer_final(s, f->req, &n, f->pt, MSG)) ||
        (rc = twoway_request_opener_new(&o, f->ring, mreq, sizeof mreq - 1, NULL)) ||
        (rc = twoway_opener_final(o, f->back, &m, f->req, n)) ||
        (rc = twoway_response_sealer_new(&rs, twoway_opener_context(o), mresp, sizeof mresp - 1,
                                         NULL)) ||
        (rc = twoway_sealer_final(rs, f->resp, &k, f->back, m)) ||
        (rc = twoway_response_opener_new(&ro, twoway_sealer_context(s), mresp, sizeof mresp - 1,
                                         NULL)) ||
        (rc = twoway_opener_final(ro, f->back, &l, f->resp, k)))
        die("round trip", rc);
    if (l != MSG)
        die("round trip length", -1);
    twoway_sealer_free(s);
    twoway_sealer_free(rs);
    twoway_opener_free(o);
    twoway_opener_free(ro);
}

static void raw_round_trip(void *arg)
{
    rt_fixture *f = arg;
    uint8_t sk[32];
    size_t len = sizeof f->enc;
    /* sender: ephemeral key pair, its encoding, DH with pkR */
    if (RAND_priv_bytes(sk, sizeof sk) != 1)
        die("raw rand", -1);
    EVP_PKEY *eph = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, sk, sizeof sk);
    if (eph == NULL || !EVP_PKEY_get_raw_public_key(eph, f->enc, &len))
        die("raw keygen", -1);
    bench_raw_derive(eph, f->raw_pkR);
    /* receiver: import enc, DH with skR */
    EVP_PKEY *pke = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, f->enc, len);
    if (pke == NULL)
        die("raw import", -1);
    bench_raw_derive(f->raw_skR, pke);
    EVP_PKEY_free(eph);
    EVP_PKEY_free(pke);
}

static void bench_round_trip(double seconds)
{
    static rt_fixture f;
    int rc;
    if ((rc = twoway_hpke_suite_from_ids(&f.suite, TWOWAY_HPKE_KEM_X25519_SHA256,
                                         TWOWAY_HPKE_KDF_HKDF_SHA256,
                                         TWOWAY_HPKE_AEAD_AES_128_GCM)) ||
        (rc = twoway_hpke_key_generate(f.suite.kem, &f.sk)))
        die("setup", rc);
    size_t pl, sl = 32;
    const uint8_t *p = twoway_hpke_key_public(f.sk, &pl);
    uint8_t skb[32];
    if ((rc = twoway_hpke_key_import_public(f.suite.kem, &f.pk, p, pl)) ||
        (rc = twoway_keyring_new(&f.ring)) ||
        (rc = twoway_keyring_add(f.ring, 1, &f.suite, f.sk)) ||
        (rc = twoway_hpke_key_export_private(f.sk, skb, &sl)))
        die("setup", rc);
    f.raw_skR = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, skb, sl);
    f.raw_pkR = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, p, pl);
    if (f.raw_skR == NULL || f.raw_pkR == NULL)
        die("raw keys", -1);
    memset(f.pt, 0x42, sizeof f.pt);
    double ours, raw;
    bench_pair(our_round_trip, raw_round_trip, &f, seconds, &ours, &raw);
    report("OHTTP round trip 1 KiB, X25519/AES-128-GCM", ours, raw, 1, "rt/s", 0.85);
    EVP_PKEY_free(f.raw_skR);
    EVP_PKEY_free(f.raw_pkR);
    twoway_keyring_free(f.ring);
    twoway_hpke_key_free(f.sk);
    twoway_hpke_key_free(f.pk);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.6;
    printf("bench-twoway: best of rounds, ours beside the raw OpenSSL work in the same run\n");
    printf("ratio = our rate / raw rate (1.00 = no overhead)\n\n");
    bench_stream(TWOWAY_HPKE_AEAD_AES_128_GCM, "AES-128-GCM", EVP_aes_128_gcm(), 16, seconds);
    bench_stream(TWOWAY_HPKE_AEAD_CHACHA20_POLY1305, "ChaCha20-Poly1305", EVP_chacha20_poly1305(),
                 32, seconds);
    bench_round_trip(seconds);
    return 0;
}
