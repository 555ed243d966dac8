/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-secureio_packet: the secureio engine's packet decoding and handshake.
 *
 * The first byte picks a mode:
 *   0  packets to an engine in its handshake (datagram);
 *   1  packets to an established engine (datagram);
 *   2  raw bytes to an established engine on a stream transport;
 *   3  real packets of this run (HELLO, AUTH_R, AUTH_I, records, a rekey)
 *      mutated as the input says, to the engine they were meant for.
 * Packets are length-prefixed (2 bytes) in the input. The wire parsers also
 * see the whole input. Invariants: nothing crashes or leaks; the only
 * messages ever delivered are ones the real peer sent; an established
 * session stays established and still delivers a real message afterwards.
 */
#define FUZZ_NAME "fuzz-secureio_packet"

#include <secureio/engine.h>

#include <sodium.h>
#include <string.h>

#include "fuzz_common.h"
#include "secureio/wire.h"

#define MAXP 2048

typedef struct side {
    secureio_engine *e;
    size_t messages, foreign;
} side;

static secureio_identity *ids[2];
static uint8_t pks[2][32];
static uint64_t rng_state;

static int det_rng(void *ctx, uint8_t *out, size_t len)
{
    uint64_t *st = ctx;
    for (size_t i = 0; i < len; i++) {
        *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
        out[i] = (uint8_t)(*st >> 56);
    }
    return 0;
}

static void on_msg(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    side *s = user;
    s->messages++;
    /* the real peer only ever sends "legit" on channel 9 */
    if (channel != 9 || len != 5 || memcmp(data, "legit", 5) != 0)
        s->foreign++;
}

static void make(side *s, int i, int stream)
{
    secureio_config cfg = SECUREIO_CONFIG_INIT;
    memset(s, 0, sizeof *s);
    cfg.identity = ids[i];
    cfg.peer_key = pks[1 - i];
    cfg.stream = stream;
    cfg.rng = det_rng;
    cfg.rng_ctx = &rng_state;
    cfg.on_message = on_msg;
    cfg.user = s;
    CHECK(secureio_engine_new(&s->e, &cfg) == SECUREIO_OK);
    CHECK(secureio_engine_start(s->e, 1000) == SECUREIO_OK);
}

/* Moves packets both ways until quiet; keeps copies when asked. */
static void pump(side *a, side *b, uint8_t saved[][MAXP], size_t *saved_len, int *n_saved)
{
    side *s[2] = {a, b};
    for (int round = 0; round < 16; round++) {
        int any = 0;
        for (int i = 0; i < 2; i++) {
            uint8_t pkt[MAXP];
            size_t n = sizeof pkt;
            while (secureio_engine_poll(s[i]->e, pkt, &n, 1000) == SECUREIO_OK && n > 0) {
                if (saved != NULL && *n_saved < 8) {
                    memcpy(saved[*n_saved], pkt, n);
                    saved_len[*n_saved] = n;
                    saved[*n_saved][MAXP - 1] = (uint8_t)i; /* who sent it */
                    (*n_saved)++;
                }
                int rc = secureio_engine_recv(s[1 - i]->e, pkt, n, 1000);
                CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_FORMAT);
                n = sizeof pkt;
                any = 1;
            }
        }
        if (!any)
            break;
    }
}

static void send_legit(side *from, side *to)
{
    uint8_t pkt[MAXP];
    size_t n = sizeof pkt, before = to->messages;
    CHECK(secureio_engine_send(from->e, 9, (const uint8_t *)"legit", 5, pkt, &n, 1000) ==
          SECUREIO_OK);
    CHECK(secureio_engine_recv(to->e, pkt, n, 1000) == SECUREIO_OK);
    CHECK(to->messages == before + 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        abort();
    for (int i = 0; i < 2; i++) {
        uint8_t seed[32];
        memset(seed, 0x21 + i, sizeof seed);
        CHECK(secureio_identity_from_seed(&ids[i], seed) == SECUREIO_OK);
        secureio_identity_public_key(ids[i], pks[i]);
    }
    return 0;
}

/* The wire parsers alone. */
static void parse_only(const uint8_t *data, size_t size)
{
    sio_hs_packet p;
    sio_record_header h;
    sio_frame f;
    size_t off = 0, frames = 0;
    if (sio_hs_decode(&p, data, size) == 0) {
        uint8_t again[SIO_HS_PACKET_LEN];
        sio_hs_encode(&p, again);
        CHECK(memcmp(again, data, size) == 0);
    }
    (void)sio_record_header_decode(&h, data, size);
    int r;
    while ((r = sio_frame_next(data, size, &off, &f)) == 1) {
        CHECK(off <= size);
        CHECK(f.type != SIO_FRAME_DATA || f.data + f.len <= data + size);
        CHECK(++frames <= size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    parse_only(data + 1, size - 1);
    int mode = data[0] % 4;
    side a, b;
    rng_state = 42;
    make(&a, 0, mode == 2);
    make(&b, 1, mode == 2);
    const uint8_t *in = data + 1;
    size_t left = size - 1;

    if (mode == 0) {
        /* b in its handshake: a's packets never reach it */
        while (left >= 2) {
            size_t n = (size_t)(in[0] << 8 | in[1]) % (MAXP + 1);
            in += 2;
            left -= 2;
            if (n > left)
                n = left;
            CHECK(secureio_engine_recv(b.e, in, n, 1000) == SECUREIO_OK);
            in += n;
            left -= n;
        }
        CHECK(b.foreign == 0);
        /* the real handshake still completes */
        pump(&a, &b, NULL, NULL, NULL);
        CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    } else if (mode == 1 || mode == 2) {
        pump(&a, &b, NULL, NULL, NULL);
        CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
        if (mode == 1) {
            while (left >= 2) {
                size_t n = (size_t)(in[0] << 8 | in[1]) % (MAXP + 1);
                in += 2;
                left -= 2;
                if (n > left)
                    n = left;
                CHECK(secureio_engine_recv(b.e, in, n, 1000) == SECUREIO_OK);
                in += n;
                left -= n;
            }
            CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
            send_legit(&a, &b);
        } else {
            int rc = secureio_engine_recv(b.e, in, left, 1000);
            /* a broken stream framing closes the session; nothing else does */
            CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_FORMAT);
            CHECK((rc == SECUREIO_OK) ==
                  (secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED));
        }
        CHECK(b.foreign == 0);
    } else {
        /* real packets of this session, mutated */
        static uint8_t saved[8][MAXP];
        size_t saved_len[8];
        int n_saved = 0;
        pump(&a, &b, saved, saved_len, &n_saved);
        send_legit(&a, &b);
        CHECK(secureio_engine_rekey(a.e, 1000) == SECUREIO_OK);
        pump(&a, &b, saved, saved_len, &n_saved);
        while (left >= 4 && n_saved > 0) {
            int k = in[0] % n_saved;
            uint8_t pkt[MAXP];
            size_t n = saved_len[k];
            memcpy(pkt, saved[k], n);
            size_t pos = (size_t)(in[1] << 8 | in[2]);
            switch (in[3] % 4) {
            case 0: pkt[pos % n] ^= (uint8_t)(1u << (in[3] >> 5)); break;
            case 1: n = pos % (n + 1); break; /* truncate */
            case 2:                           /* extend with zeros */
                if (n < MAXP - 64) {
                    memset(pkt + n, 0, 64);
                    n += pos % 64;
                }
                break;
            default: break; /* as it was: a replay */
            }
            side *to = saved[k][MAXP - 1] == 0 ? &b : &a;
            CHECK(secureio_engine_recv(to->e, pkt, n, 1000) == SECUREIO_OK);
            in += 4;
            left -= 4;
        }
        CHECK(a.foreign == 0 && b.foreign == 0);
        CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_ESTABLISHED);
        CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    }
    secureio_engine_free(a.e);
    secureio_engine_free(b.e);
    return 0;
}
