/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-record: libsecureio's records (src/secureio/record.h: XChaCha20-
 * Poly1305 as HChaCha20 once per key + OpenSSL's ChaCha20-Poly1305 per
 * record) beside
 *   raw:       OpenSSL's EVP ChaCha20-Poly1305 on the same buffers, the key
 *              set once, each record setting its nonce (one context per
 *              direction): the limit. Ratio = our MB/s / raw MB/s; target
 *              >= 0.90.
 *   libsodium: crypto_aead_xchacha20poly1305_ietf_encrypt/decrypt on the
 *              same buffers (HChaCha20 on every record), for information,
 *              measured in a second pair with ours: "ours Nx" = our rate /
 *              libsodium's.
 * Records of 64 B, 1400 B and 16 KiB with 16 bytes of associated data; a
 * call seals (or opens) a batch of about 256 KiB of records, each with its
 * own counter. All three produce the same bytes (checked before timing).
 *
 * Usage: bench-record [seconds-per-measurement]   (default 0.6)
 */
#include "secureio/record.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define TAG SIO_RECORD_TAG_LEN
#define AD_LEN 16u
#define BATCH_BYTES (256u << 10)

typedef struct fixture {
    size_t len, n; /* record length, records per call */
    uint8_t *pt, *ct, *raw_ct, *back;
    uint8_t ad[AD_LEN], key[32], nonce[24], subkey[32];
    sio_record_key k;
    EVP_CIPHER_CTX *enc, *dec;
} fixture;

static void die(const char *what)
{
    fprintf(stderr, "bench-record: %s failed\n", what);
    exit(1);
}

static void store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ------------------------------------------------------------ ours */

static void our_seal(void *arg)
{
    fixture *f = arg;
    for (size_t i = 0; i < f->n; i++)
        if (sio_record_seal(&f->k, f->ct + i * (f->len + TAG), i, f->ad, AD_LEN, f->pt + i * f->len,
                            f->len) != SECUREIO_OK)
            die("seal");
}

static void our_open(void *arg)
{
    fixture *f = arg;
    for (size_t i = 0; i < f->n; i++)
        if (sio_record_open(&f->k, f->back + i * f->len, i, f->ad, AD_LEN,
                            f->ct + i * (f->len + TAG), f->len + TAG) != SECUREIO_OK)
            die("open");
}

/* ------------------------------------------------------------ raw OpenSSL */

static void raw_seal(void *arg)
{
    fixture *f = arg;
    uint8_t iv[12] = {0};
    int len;
    for (size_t i = 0; i < f->n; i++) {
        uint8_t *ct = f->raw_ct + i * (f->len + TAG);
        store64_le(iv + 4, i);
        if (EVP_EncryptInit_ex(f->enc, NULL, NULL, NULL, iv) != 1 ||
            EVP_EncryptUpdate(f->enc, NULL, &len, f->ad, AD_LEN) != 1 ||
            EVP_EncryptUpdate(f->enc, ct, &len, f->pt + i * f->len, (int)f->len) != 1 ||
            EVP_EncryptFinal_ex(f->enc, ct + len, &len) != 1 ||
            EVP_CIPHER_CTX_ctrl(f->enc, EVP_CTRL_AEAD_GET_TAG, TAG, ct + f->len) != 1)
            die("raw seal");
    }
}

static void raw_open(void *arg)
{
    fixture *f = arg;
    uint8_t iv[12] = {0};
    int len;
    for (size_t i = 0; i < f->n; i++) {
        uint8_t *ct = f->ct + i * (f->len + TAG), *pt = f->back + i * f->len;
        store64_le(iv + 4, i);
        if (EVP_DecryptInit_ex(f->dec, NULL, NULL, NULL, iv) != 1 ||
            EVP_CIPHER_CTX_ctrl(f->dec, EVP_CTRL_AEAD_SET_TAG, TAG, ct + f->len) != 1 ||
            EVP_DecryptUpdate(f->dec, NULL, &len, f->ad, AD_LEN) != 1 ||
            EVP_DecryptUpdate(f->dec, pt, &len, ct, (int)f->len) != 1 ||
            EVP_DecryptFinal_ex(f->dec, pt + len, &len) != 1)
            die("raw open");
    }
}

/* ------------------------------------------------------------ libsodium */

static void sodium_seal(void *arg)
{
    fixture *f = arg;
    unsigned long long clen;
    for (size_t i = 0; i < f->n; i++) {
        store64_le(f->nonce + 16, i);
        if (crypto_aead_xchacha20poly1305_ietf_encrypt(f->raw_ct + i * (f->len + TAG), &clen,
                                                       f->pt + i * f->len, f->len, f->ad, AD_LEN,
                                                       NULL, f->nonce, f->key) != 0)
            die("libsodium seal");
    }
}

static void sodium_open(void *arg)
{
    fixture *f = arg;
    unsigned long long mlen;
    for (size_t i = 0; i < f->n; i++) {
        store64_le(f->nonce + 16, i);
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(f->back + i * f->len, &mlen, NULL,
                                                       f->ct + i * (f->len + TAG), f->len + TAG,
                                                       f->ad, AD_LEN, f->nonce, f->key) != 0)
            die("libsodium open");
    }
}

/* ------------------------------------------------------------ driver */

/* ours2 and sodium: a second pair, measured together like ours and raw. */
static void report(const char *label, double ours, double raw, double ours2, double sodium,
                   double bytes)
{
    double ratio = ours / raw;
    printf("%-15s %7.1f MB/s   raw %7.1f MB/s   ratio %.3fx (target >= 0.90: %s)   "
           "libsodium %7.1f MB/s: ours %.2fx\n",
           label, ours * bytes / 1e6, raw * bytes / 1e6, ratio, ratio >= 0.90 ? "met" : "MISSED",
           sodium * bytes / 1e6, ours2 / sodium);
}

static void bench_size(size_t len, double seconds)
{
    fixture f;
    memset(&f, 0, sizeof f);
    f.len = len;
    f.n = BATCH_BYTES / len > 0 ? BATCH_BYTES / len : 1;
    f.pt = malloc(f.n * len);
    f.back = malloc(f.n * len);
    f.ct = malloc(f.n * (len + TAG));
    f.raw_ct = malloc(f.n * (len + TAG));
    if (!f.pt || !f.back || !f.ct || !f.raw_ct)
        die("malloc");
    randombytes_buf(f.pt, f.n * len);
    randombytes_buf(f.ad, sizeof f.ad);
    randombytes_buf(f.key, sizeof f.key);
    randombytes_buf(f.nonce, 16);
    /* ours: the key and prefix; raw: the same subkey, so the same bytes */
    if (sio_record_key_init(&f.k, f.key, f.nonce) != SECUREIO_OK ||
        crypto_core_hchacha20(f.subkey, f.nonce, f.key, NULL) != 0)
        die("key");
    f.enc = EVP_CIPHER_CTX_new();
    f.dec = EVP_CIPHER_CTX_new();
    if (f.enc == NULL || f.dec == NULL ||
        EVP_EncryptInit_ex(f.enc, EVP_chacha20_poly1305(), NULL, f.subkey, NULL) != 1 ||
        EVP_DecryptInit_ex(f.dec, EVP_chacha20_poly1305(), NULL, f.subkey, NULL) != 1)
        die("raw init");

    /* the three agree */
    our_seal(&f);
    raw_seal(&f);
    if (memcmp(f.ct, f.raw_ct, f.n * (len + TAG)) != 0)
        die("ours == raw");
    memset(f.raw_ct, 0, f.n * (len + TAG));
    sodium_seal(&f);
    if (memcmp(f.ct, f.raw_ct, f.n * (len + TAG)) != 0)
        die("ours == libsodium");
    our_open(&f);
    raw_open(&f);
    sodium_open(&f);
    if (memcmp(f.back, f.pt, f.n * len) != 0)
        die("round trip");

    double bytes = (double)(f.n * len), ours, raw, ours2, sodium;
    char label[64];
    snprintf(label, sizeof label, "%zu B seal", len);
    bench_pair(our_seal, raw_seal, &f, seconds, &ours, &raw);
    bench_pair(our_seal, sodium_seal, &f, seconds / 2, &ours2, &sodium);
    report(label, ours, raw, ours2, sodium, bytes);
    snprintf(label, sizeof label, "%zu B open", len);
    bench_pair(our_open, raw_open, &f, seconds, &ours, &raw);
    bench_pair(our_open, sodium_open, &f, seconds / 2, &ours2, &sodium);
    report(label, ours, raw, ours2, sodium, bytes);

    sio_record_key_clear(&f.k);
    EVP_CIPHER_CTX_free(f.enc);
    EVP_CIPHER_CTX_free(f.dec);
    sodium_memzero(f.subkey, sizeof f.subkey);
    free(f.pt);
    free(f.back);
    free(f.ct);
    free(f.raw_ct);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.6;
    if (sodium_init() < 0)
        die("sodium_init");
    printf("bench-record: XChaCha20-Poly1305 records (16 B of AD), best of rounds, ours beside\n");
    printf("raw OpenSSL ChaCha20-Poly1305 (the limit) and libsodium's XChaCha20-Poly1305,\n");
    printf("measured in the same run. ratio = our rate / raw rate (1.00 = no overhead)\n\n");
    bench_size(64, seconds);
    bench_size(1400, seconds);
    bench_size(16384, seconds);
    return 0;
}
