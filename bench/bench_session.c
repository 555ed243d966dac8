/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-session: messages through two established secureio engines in one
 * process (A: secureio_engine_write and _poll; B: secureio_engine_recv and
 * its message callback), each beside the raw work those messages need,
 * measured in the same run:
 *
 *   one message per packet (64 and 1400 bytes, written synchronously):
 *     raw = one OpenSSL ChaCha20-Poly1305 seal + open of a record of the
 *     same size (key set once, a nonce per record);
 *   a 64 KiB message, fragmented into full packets:
 *     raw = seal + open of as many full packets;
 *   1-byte messages written asynchronously and batched into full packets:
 *     raw = seal + open of one full packet, amortised over the messages it
 *     carries.
 *
 * The ratio (ours / raw, in messages per second) is the cost of everything
 * else: queueing, frames, headers, the replay window, reassembly, callbacks.
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
#define BIG (64u * 1024u)
#define T0 1000000000ull

typedef struct fixture {
    secureio_engine *a, *b;
    secureio_identity *ia, *ib;
    uint8_t pka[32], pkb[32];
    size_t len;            /* the message size measured */
    size_t per_packet;     /* 1-byte messages that fit one packet */
    size_t raw_len, raw_n; /* the raw work: raw_n records of raw_len bytes */
    uint8_t msg[BIG], pkt[MAXP], raw_ct[MAXP], back[MAXP];
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
    (void)len;
    f->delivered++;
}

/* Everything A has to send, to B. */
static void flush(fixture *f)
{
    for (;;) {
        size_t n = sizeof f->pkt;
        if (secureio_engine_poll(f->a, f->pkt, &n, T0) != SECUREIO_OK)
            die("poll");
        if (n == 0)
            return;
        if (secureio_engine_recv(f->b, f->pkt, n, T0) != SECUREIO_OK)
            die("recv");
    }
}

/* BATCH messages of f->len bytes, each flushed at once. */
static void ours_sync(void *arg)
{
    fixture *f = arg;
    for (int i = 0; i < BATCH; i++) {
        if (secureio_engine_write(f->a, 1, f->msg, f->len, SECUREIO_WRITE_SYNC, NULL, NULL, T0) !=
            SECUREIO_OK)
            die("write");
        flush(f);
    }
}

/* BATCH packets' worth of 1-byte messages, written asynchronously: the
 * engine packs them; the last write of a batch flushes. */
static void ours_tiny(void *arg)
{
    fixture *f = arg;
    size_t n = f->per_packet * 4;
    for (int round = 0; round < BATCH / 4; round++) {
        for (size_t i = 0; i < n; i++)
            if (secureio_engine_write(f->a, 1, f->msg, 1, i + 1 == n ? SECUREIO_WRITE_SYNC : 0,
                                      NULL, NULL, T0) != SECUREIO_OK)
                die("write");
        flush(f);
    }
}

static void raw_records(fixture *f, size_t n, size_t len)
{
    int l;
    for (size_t i = 0; i < n; i++) {
        f->nonce[0] = (uint8_t)i;
        f->nonce[1] = (uint8_t)(i >> 8);
        if (EVP_EncryptInit_ex(f->enc, NULL, NULL, NULL, f->nonce) != 1 ||
            EVP_EncryptUpdate(f->enc, NULL, &l, f->nonce, 10) != 1 ||
            EVP_EncryptUpdate(f->enc, f->raw_ct, &l, f->msg, (int)len) != 1 ||
            EVP_EncryptFinal_ex(f->enc, f->raw_ct + l, &l) != 1 ||
            EVP_CIPHER_CTX_ctrl(f->enc, EVP_CTRL_AEAD_GET_TAG, 16, f->raw_ct + len) != 1)
            die("raw seal");
        if (EVP_DecryptInit_ex(f->dec, NULL, NULL, NULL, f->nonce) != 1 ||
            EVP_DecryptUpdate(f->dec, NULL, &l, f->nonce, 10) != 1 ||
            EVP_DecryptUpdate(f->dec, f->back, &l, f->raw_ct, (int)len) != 1 ||
            EVP_CIPHER_CTX_ctrl(f->dec, EVP_CTRL_AEAD_SET_TAG, 16, f->raw_ct + len) != 1 ||
            EVP_DecryptFinal_ex(f->dec, f->back + l, &l) != 1)
            die("raw open");
    }
}

/* The raw work of BATCH units (a message, or a batch of tiny ones). */
static void raw(void *arg)
{
    fixture *f = arg;
    raw_records(f, (size_t)BATCH * f->raw_n, f->raw_len);
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
    ca.send_queue_len = 65536;
    cb.identity = f->ib;
    cb.peer_key = f->pka;
    cb.on_message = on_msg;
    cb.user = f;
    if (secureio_engine_new(&f->a, &ca) != SECUREIO_OK ||
        secureio_engine_new(&f->b, &cb) != SECUREIO_OK ||
        secureio_engine_start(f->a, T0) != SECUREIO_OK ||
        secureio_engine_start(f->b, T0) != SECUREIO_OK)
        die("engines");
    secureio_engine *e[2] = {f->a, f->b};
    for (int round = 0; round < 10; round++)
        for (int i = 0; i < 2; i++) {
            size_t n = sizeof f->pkt;
            while (secureio_engine_poll(e[i], f->pkt, &n, T0) == SECUREIO_OK && n > 0) {
                if (secureio_engine_recv(e[1 - i], f->pkt, n, T0) != SECUREIO_OK)
                    die("handshake");
                n = sizeof f->pkt;
            }
        }
    /* established, and the path size search done (1452-byte packets) */
    secureio_stats st;
    secureio_engine_stats(f->a, &st);
    if (secureio_engine_state(f->a) != SECUREIO_STATE_ESTABLISHED ||
        secureio_engine_state(f->b) != SECUREIO_STATE_ESTABLISHED ||
        st.packet_size != SECUREIO_DEFAULT_PACKET_LEN)
        die("handshake");
}

static void report(const char *what, double o, double r, size_t bytes)
{
    printf("%-34s %10.0f msg/s (%7.1f MB/s, %7.1f ns/msg)   raw %10.0f   ratio %.3fx\n", what, o,
           o * (double)bytes / 1e6, 1e9 / o, r, o / r);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.6;
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
    size_t full = SECUREIO_DEFAULT_PACKET_LEN - SECUREIO_RECORD_OVERHEAD; /* a packet's plaintext */
    printf("bench-session: messages through two engines (write + poll + recv), each beside\n"
           "the raw ChaCha20-Poly1305 seal + open they need; ratio = ours / raw\n\n");
    double o, r;

    static const size_t sizes[] = {64, 1400};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char what[64];
        f.len = sizes[i];
        f.raw_len = sizes[i];
        f.raw_n = 1;
        bench_pair(ours_sync, raw, &f, seconds, &o, &r);
        snprintf(what, sizeof what, "%zu-byte messages, one per packet", sizes[i]);
        report(what, o * BATCH, r * BATCH, f.len);
    }

    /* 64 KiB, fragmented: as many full packets as it takes */
    f.len = BIG;
    f.raw_len = full;
    f.raw_n = (BIG + full - 1) / full;
    bench_pair(ours_sync, raw, &f, seconds / 4, &o, &r);
    report("64 KiB messages, fragmented", o * BATCH, r * BATCH, BIG);

    /* 1-byte messages, batched: a frame of 4 bytes each (type, channel,
     * length, the byte) */
    f.per_packet = full / 4;
    f.raw_len = full;
    f.raw_n = 1;
    uint64_t before = f.delivered;
    ours_tiny(&f);
    if (f.delivered - before != (uint64_t)BATCH * f.per_packet)
        die("batching");
    secureio_stats st0, st1;
    secureio_engine_stats(f.a, &st0);
    ours_tiny(&f);
    secureio_engine_stats(f.a, &st1);
    double per_packet =
        (double)(st1.messages_out - st0.messages_out) / (double)(st1.packets_out - st0.packets_out);
    bench_pair(ours_tiny, raw, &f, seconds, &o, &r);
    /* a unit: BATCH full packets of tiny messages; raw: BATCH packets */
    double msgs = (double)BATCH * (double)f.per_packet;
    report("1-byte async messages, batched", o * msgs, r * msgs, 1);
    printf("  (%.0f messages a packet; raw = one seal + open of a full %u-byte packet\n"
           "   amortised over them: %.1f ns a message)\n",
           per_packet, SECUREIO_DEFAULT_PACKET_LEN, 1e9 / (r * msgs));

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
