/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-session: messages through two established secureio engines in one
 * process (A seals with secureio_engine_send, B opens with
 * secureio_engine_recv and delivers through its callback), beside the raw
 * work each message needs: one OpenSSL ChaCha20-Poly1305 seal and one open
 * of a record of the same size (key set once, a nonce per record). The
 * ratio (our messages per second / raw) is the cost of everything else:
 * headers and frames, the replay window, key lookup, callbacks.
 * Target >= 0.85 at 1400-byte messages.
 *
 * Usage: bench-session [seconds-per-measurement]   (default 0.6)
 */
#include <secureio/engine.h>

#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define MAXP 2048
#define BATCH 256

typedef struct fixture {
    secureio_engine *a, *b;
    secureio_identity *ia, *ib;
    uint8_t pka[32], pkb[32];
    size_t len;
    uint8_t msg[MAXP], pkt[MAXP], raw_ct[MAXP], back[MAXP];
    uint64_t delivered;
    EVP_CIPHER_CTX *enc, *dec;
    uint8_t key[32], nonce[12];
} fixture;

static void die(const char *what)
{
    fprintf(stderr, "bench-session: %s failed\n", what);
    exit(1);
}

static void on_msg(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    fixture *f = user;
    (void)channel;
    (void)data;
    f->delivered += len > 0 || len == 0;
}

static void ours(void *arg)
{
    fixture *f = arg;
    for (int i = 0; i < BATCH; i++) {
        size_t n = sizeof f->pkt;
        if (secureio_engine_send(f->a, 1, f->msg, f->len, f->pkt, &n, 1000) != SECUREIO_OK ||
            secureio_engine_recv(f->b, f->pkt, n, 1000) != SECUREIO_OK)
            die("send/recv");
    }
}

static void raw(void *arg)
{
    fixture *f = arg;
    int l;
    for (int i = 0; i < BATCH; i++) {
        f->nonce[0] = (uint8_t)i;
        f->nonce[1] = (uint8_t)(i >> 8);
        if (EVP_EncryptInit_ex(f->enc, NULL, NULL, NULL, f->nonce) != 1 ||
            EVP_EncryptUpdate(f->enc, NULL, &l, f->nonce, 10) != 1 ||
            EVP_EncryptUpdate(f->enc, f->raw_ct, &l, f->msg, (int)f->len) != 1 ||
            EVP_EncryptFinal_ex(f->enc, f->raw_ct + l, &l) != 1 ||
            EVP_CIPHER_CTX_ctrl(f->enc, EVP_CTRL_AEAD_GET_TAG, 16, f->raw_ct + f->len) != 1)
            die("raw seal");
        if (EVP_DecryptInit_ex(f->dec, NULL, NULL, NULL, f->nonce) != 1 ||
            EVP_DecryptUpdate(f->dec, NULL, &l, f->nonce, 10) != 1 ||
            EVP_DecryptUpdate(f->dec, f->back, &l, f->raw_ct, (int)f->len) != 1 ||
            EVP_CIPHER_CTX_ctrl(f->dec, EVP_CTRL_AEAD_SET_TAG, 16, f->raw_ct + f->len) != 1 ||
            EVP_DecryptFinal_ex(f->dec, f->back + l, &l) != 1)
            die("raw open");
    }
}

static void connect_engines(fixture *f)
{
    uint8_t seed[32];
    memset(seed, 1, 32);
    if (secureio_identity_from_seed(&f->ia, seed) != SECUREIO_OK)
        die("identity");
    memset(seed, 2, 32);
    if (secureio_identity_from_seed(&f->ib, seed) != SECUREIO_OK)
        die("identity");
    secureio_identity_public_key(f->ia, f->pka);
    secureio_identity_public_key(f->ib, f->pkb);
    secureio_config ca = SECUREIO_CONFIG_INIT, cb = SECUREIO_CONFIG_INIT;
    ca.identity = f->ia;
    ca.peer_key = f->pkb;
    cb.identity = f->ib;
    cb.peer_key = f->pka;
    cb.on_message = on_msg;
    cb.user = f;
    if (secureio_engine_new(&f->a, &ca) != SECUREIO_OK ||
        secureio_engine_new(&f->b, &cb) != SECUREIO_OK ||
        secureio_engine_start(f->a, 1000) != SECUREIO_OK ||
        secureio_engine_start(f->b, 1000) != SECUREIO_OK)
        die("engines");
    secureio_engine *e[2] = {f->a, f->b};
    for (int round = 0; round < 10; round++)
        for (int i = 0; i < 2; i++) {
            size_t n = sizeof f->pkt;
            while (secureio_engine_poll(e[i], f->pkt, &n, 1000) == SECUREIO_OK && n > 0) {
                if (secureio_engine_recv(e[1 - i], f->pkt, n, 1000) != SECUREIO_OK)
                    die("handshake");
                n = sizeof f->pkt;
            }
        }
    if (secureio_engine_state(f->a) != SECUREIO_STATE_ESTABLISHED ||
        secureio_engine_state(f->b) != SECUREIO_STATE_ESTABLISHED)
        die("handshake");
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.6;
    static const size_t sizes[] = {64, 1400};
    static fixture f;
    if (sodium_init() < 0)
        die("sodium_init");
    connect_engines(&f);
    randombytes_buf(f.msg, sizeof f.msg);
    randombytes_buf(f.key, sizeof f.key);
    f.enc = EVP_CIPHER_CTX_new();
    f.dec = EVP_CIPHER_CTX_new();
    if (f.enc == NULL || f.dec == NULL ||
        EVP_EncryptInit_ex(f.enc, EVP_chacha20_poly1305(), NULL, f.key, f.nonce) != 1 ||
        EVP_DecryptInit_ex(f.dec, EVP_chacha20_poly1305(), NULL, f.key, f.nonce) != 1)
        die("raw init");
    printf("bench-session: messages through two engines (send + recv), beside one raw\n"
           "ChaCha20-Poly1305 seal + open of the same size; ratio = ours / raw\n\n");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        double o, r;
        f.len = sizes[i];
        bench_pair(ours, raw, &f, seconds, &o, &r);
        o *= BATCH;
        r *= BATCH;
        double ratio = o / r;
        printf("%5zu-byte messages   %9.0f msg/s (%7.1f MB/s)   raw %9.0f (%7.1f MB/s)   ratio "
               "%.3fx",
               f.len, o, o * (double)f.len / 1e6, r, r * (double)f.len / 1e6, ratio);
        if (f.len == 1400)
            printf("   (target >= 0.85x: %s)", ratio >= 0.85 ? "met" : "MISSED");
        printf("\n");
    }
    if (f.delivered == 0)
        die("delivery");
    EVP_CIPHER_CTX_free(f.enc);
    EVP_CIPHER_CTX_free(f.dec);
    secureio_engine_free(f.a);
    secureio_engine_free(f.b);
    secureio_identity_free(f.ia);
    secureio_identity_free(f.ib);
    return 0;
}
