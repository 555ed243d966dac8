/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-secureio_packet: the secureio engine's packet decoding and handshake.
 *
 * The first byte picks a mode:
 *   0  packets to an engine in its handshake (datagram);
 *   1  packets to an established engine (datagram);
 *   2  raw bytes to an established engine on a stream transport;
 *   3  real packets of this run (HELLO, AUTH_R, AUTH_I, records, a rekey)
 *      mutated as the input says, to the engine they were meant for;
 *   4  time: a script of steps (advance the clock and run the timers, lose
 *      or deliver the next packets, write messages, rekey, close) for two
 *      engines, so that retransmissions, rekeys, path size probes,
 *      timeouts, fragment expiry and key expiry are all reached.
 * Packets are length-prefixed (2 bytes) in the input. The wire parsers also
 * see the whole input. Invariants: nothing crashes or leaks; the only
 * messages ever delivered are ones the real peer sent; an established
 * session stays established and still delivers a real message afterwards
 * (modes 0-3); in mode 4 an engine is only ever closed for a reason the
 * script can cause, every write completes exactly once, and the deadline
 * never lies in the past after the timers ran.
 */
#define FUZZ_NAME "fuzz-secureio_packet"

#include <secureio/engine.h>

#include <sodium.h>
#include <string.h>

#include "fuzz_common.h"
#include "secureio/wire.h"

#define MAXP 2048
#define T0 1000000000ull /* the engines' clock starts here (microseconds) */

typedef struct side {
    secureio_engine *e;
    size_t messages, foreign;
    size_t writes, completions;
    int closed, closed_err;
} side;

static uint8_t big[70000]; /* a fragmented message's body */

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
    /* the real peer only ever sends "legit" on channel 9, or a prefix of
     * big on channel 10 */
    if (channel == 10 ? len > sizeof big || memcmp(data, big, len) != 0
                      : channel != 9 || len != 5 || memcmp(data, "legit", 5) != 0)
        s->foreign++;
}

static void on_event(void *user, const secureio_event *ev)
{
    side *s = user;
    if (ev->type == SECUREIO_EVENT_CLOSED) {
        s->closed++;
        s->closed_err = ev->err;
    }
}

static void on_done(void *arg, int err, size_t len)
{
    side *s = arg;
    (void)len;
    CHECK(err == SECUREIO_OK || err == SECUREIO_ERR_CLOSED);
    s->completions++;
}

static void make(side *s, int i, int stream, int timed)
{
    secureio_config cfg = SECUREIO_CONFIG_INIT;
    memset(s, 0, sizeof *s);
    cfg.identity = ids[i];
    cfg.peer_key = pks[1 - i];
    cfg.stream = stream;
    cfg.max_packet_len = stream ? 1400 : 0; /* poll() needs room for the largest packet */
    cfg.rng = det_rng;
    cfg.rng_ctx = &rng_state;
    cfg.on_message = on_msg;
    cfg.on_event = on_event;
    cfg.user = s;
    cfg.send_delay_us = SECUREIO_SEND_DELAY_OFF;
    if (timed) {
        /* short timers, so that a short script reaches them all */
        cfg.rekey_interval_ms = 2000;
        cfg.handshake_timeout_ms = 5000;
        cfg.retransmit_ms = 100;
        cfg.key_grace_ms = 500;
        cfg.idle_timeout_ms = 20000;
        cfg.keepalive_ms = 1000;
        cfg.fragment_timeout_ms = 1000;
        cfg.send_delay_us = 50;
        cfg.send_queue_len = 16;
    }
    CHECK(secureio_engine_new(&s->e, &cfg) == SECUREIO_OK);
    CHECK(secureio_engine_start(s->e, T0) == SECUREIO_OK);
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
            while (secureio_engine_poll(s[i]->e, pkt, &n, T0) == SECUREIO_OK && n > 0) {
                if (saved != NULL && *n_saved < 8) {
                    memcpy(saved[*n_saved], pkt, n);
                    saved_len[*n_saved] = n;
                    saved[*n_saved][MAXP - 1] = (uint8_t)i; /* who sent it */
                    (*n_saved)++;
                }
                int rc = secureio_engine_recv(s[1 - i]->e, pkt, n, T0);
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
    CHECK(secureio_engine_write(from->e, 9, (const uint8_t *)"legit", 5, SECUREIO_WRITE_SYNC, NULL,
                                NULL, T0) == SECUREIO_OK);
    while (secureio_engine_poll(from->e, pkt, &n, T0) == SECUREIO_OK && n > 0) {
        CHECK(secureio_engine_recv(to->e, pkt, n, T0) == SECUREIO_OK);
        n = sizeof pkt;
    }
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

/* A closed engine's reason must be one a script can cause. */
static void check_closed(const side *s)
{
    if (!s->closed)
        return;
    CHECK(s->closed == 1);
    CHECK(s->closed_err == SECUREIO_OK || s->closed_err == SECUREIO_ERR_CLOSED ||
          s->closed_err == SECUREIO_ERR_TIMEOUT || s->closed_err == SECUREIO_ERR_KEY_EXPIRED);
}

/*
 * Mode 4. Each step is two bytes, op and arg:
 *   0  advance the clock by arg * 37 ms, run both engines' timers
 *   1  deliver the next arg % 8 + 1 packets of each side, in order
 *   2  lose the next arg % 4 + 1 packets of side arg / 128
 *   3  deliver side arg / 128's next packet to the other after the one
 *      behind it (a reordering of two)
 *   4  a message on channel 9 from side arg & 1 (sync when arg & 2)
 *   5  a fragmented message on channel 10 (arg * 271 bytes)
 *   6  a rekey from side arg & 1
 *   7  a graceful close (arg & 2: immediate) of side arg & 1, rarely
 * Packets wait in a queue per side between steps.
 */
#define QMAX 64
typedef struct pq {
    uint8_t pkt[QMAX][MAXP];
    size_t len[QMAX];
    size_t n;
} pq;

static void collect(side *s, pq *q, uint64_t now)
{
    for (;;) {
        size_t n = MAXP;
        if (q->n == QMAX)
            return;
        int rc = secureio_engine_poll(s->e, q->pkt[q->n], &n, now);
        CHECK(rc == SECUREIO_OK);
        if (n == 0)
            return;
        q->len[q->n++] = n;
    }
}

static void pop(pq *q, size_t k)
{
    memmove(&q->pkt[k], &q->pkt[k + 1], (q->n - k - 1) * sizeof q->pkt[0]);
    memmove(&q->len[k], &q->len[k + 1], (q->n - k - 1) * sizeof q->len[0]);
    q->n--;
}

static void deliver(side *to, pq *q, size_t k, uint64_t now)
{
    int rc = secureio_engine_recv(to->e, q->pkt[k], q->len[k], now);
    CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_CLOSED);
    pop(q, k);
}

static void timed_script(const uint8_t *in, size_t left)
{
    static pq q[2];
    side s[2];
    uint64_t now = T0;
    for (int i = 0; i < (int)sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + (i >> 8));
    make(&s[0], 0, 0, 1);
    make(&s[1], 1, 0, 1);
    q[0].n = q[1].n = 0;
    for (; left >= 2; in += 2, left -= 2) {
        uint8_t op = in[0] % 8, arg = in[1];
        int i = arg & 1, j = arg >> 7;
        switch (op) {
        case 0:
            now += (uint64_t)arg * 37000u;
            for (int k = 0; k < 2; k++)
                CHECK(secureio_engine_tick(s[k].e, now) == SECUREIO_OK);
            break;
        case 1:
            for (int r = 0; r <= arg % 8; r++)
                for (int k = 0; k < 2; k++)
                    if (q[k].n > 0)
                        deliver(&s[1 - k], &q[k], 0, now);
            break;
        case 2:
            for (int r = 0; r <= arg % 4 && q[j].n > 0; r++)
                pop(&q[j], 0);
            break;
        case 3:
            if (q[j].n >= 2) {
                deliver(&s[1 - j], &q[j], 1, now);
                deliver(&s[1 - j], &q[j], 0, now);
            }
            break;
        case 4: {
            int rc =
                secureio_engine_write(s[i].e, 9, (const uint8_t *)"legit", 5,
                                      (arg & 2) ? SECUREIO_WRITE_SYNC : 0, on_done, &s[i], now);
            CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_AGAIN || rc == SECUREIO_ERR_STATE ||
                  rc == SECUREIO_ERR_CLOSED);
            s[i].writes += rc == SECUREIO_OK;
            break;
        }
        case 5: {
            int rc =
                secureio_engine_write(s[i].e, 10, big, (size_t)arg * 271u, 0, on_done, &s[i], now);
            CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_AGAIN || rc == SECUREIO_ERR_STATE ||
                  rc == SECUREIO_ERR_CLOSED);
            s[i].writes += rc == SECUREIO_OK;
            break;
        }
        case 6: {
            int rc = secureio_engine_rekey(s[i].e, now);
            CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_STATE || rc == SECUREIO_ERR_CLOSED);
            break;
        }
        default:
            if ((arg & 0x3c) == 0x3c) {
                if (arg & 2)
                    secureio_engine_close_now(s[i].e, now);
                else
                    secureio_engine_close(s[i].e, now);
            }
            break;
        }
        for (int k = 0; k < 2; k++) {
            collect(&s[k], &q[k], now);
            /* the timers ran at now and poll() has nothing more: the next
             * deadline is in the future (a runtime would spin otherwise) */
            if (q[k].n < QMAX && op == 0)
                CHECK(secureio_engine_deadline(s[k].e) > now);
        }
    }
    for (int k = 0; k < 2; k++) {
        CHECK(s[k].foreign == 0);
        check_closed(&s[k]);
        secureio_engine_free(s[k].e);
        CHECK(s[k].completions == s[k].writes); /* each once, the last ones at free */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    parse_only(data + 1, size - 1);
    int mode = data[0] % 5;
    side a, b;
    rng_state = 42;
    if (mode == 4) {
        timed_script(data + 1, size - 1);
        return 0;
    }
    make(&a, 0, mode == 2, 0);
    make(&b, 1, mode == 2, 0);
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
            CHECK(secureio_engine_recv(b.e, in, n, T0) == SECUREIO_OK);
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
                CHECK(secureio_engine_recv(b.e, in, n, T0) == SECUREIO_OK);
                in += n;
                left -= n;
            }
            CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
            send_legit(&a, &b);
        } else {
            int rc = secureio_engine_recv(b.e, in, left, T0);
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
        CHECK(secureio_engine_rekey(a.e, T0) == SECUREIO_OK);
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
            CHECK(secureio_engine_recv(to->e, pkt, n, T0) == SECUREIO_OK);
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
