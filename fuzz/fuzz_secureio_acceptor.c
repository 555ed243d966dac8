/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-secureio_acceptor: an acceptor (include/secureio/acceptor.h) fed by
 * one real client and by the input.
 *
 * Each step is an op byte and an argument byte:
 *   0  the client's next packet reaches the acceptor (from address arg % 3)
 *   1  the acceptor's next packet reaches the client (if it is addressed to
 *      the client's address; others are lost)
 *   2  a datagram of the input (2-byte length, then the bytes) from address
 *      arg, to the acceptor
 *   3  a packet of this run, mutated (a bit flipped at arg), to the acceptor
 *   4  the clock moves arg * 53 ms; the timers of both run
 *   5  the client writes a message
 *   6  the client's address changes to arg % 3
 *   7  a packet the acceptor sent, replayed to it
 * Invariants: nothing crashes or leaks; the acceptor never holds more than
 * max_sessions sessions; the only messages a session or the client ever
 * gets are the real ones; a session is only made for the real client's
 * identity; every session that was made ends exactly once.
 */
#define FUZZ_NAME "fuzz-secureio_acceptor"

#include <secureio/acceptor.h>

#include <sodium.h>
#include <string.h>

#include "fuzz_common.h"
#include "secureio/wire.h"

#define MAXP 1500
#define T0 1000000000ull

static secureio_identity *server_id, *client_id;
static uint8_t server_pk[32], client_pk[32];
static uint64_t rng_state;
static size_t sessions_made, sessions_ended, foreign, client_msgs, server_msgs;

static int det_rng(void *ctx, uint8_t *out, size_t len)
{
    uint64_t *st = ctx;
    for (size_t i = 0; i < len; i++) {
        *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
        out[i] = (uint8_t)(*st >> 56);
    }
    return 0;
}

static void on_client_msg(void *user, uint32_t ch, const uint8_t *data, size_t len)
{
    (void)user;
    client_msgs++;
    if (ch != 2 || len != 4 || memcmp(data, "pong", 4) != 0)
        foreign++;
}

static void on_server_msg(void *user, uint32_t ch, const uint8_t *data, size_t len)
{
    secureio_engine *e = user;
    server_msgs++;
    if (ch != 1 || len != 4 || memcmp(data, "ping", 4) != 0) {
        foreign++;
        return;
    }
    int rc =
        secureio_engine_write(e, 2, (const uint8_t *)"pong", 4, SECUREIO_WRITE_COPY, NULL, NULL, 0);
    CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_AGAIN);
}

static void on_session(void *user, secureio_engine *e, const uint8_t pk[32], const void *addr,
                       size_t addr_len)
{
    (void)user;
    (void)addr;
    CHECK(addr_len == 1);
    CHECK(memcmp(pk, client_pk, 32) == 0);
    sessions_made++;
    secureio_engine_set_callbacks(e, on_server_msg, NULL, e);
}

static void on_session_end(void *user, secureio_engine *e)
{
    (void)user;
    (void)e;
    sessions_ended++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uint8_t seed[32];
    CHECK(sodium_init() >= 0);
    memset(seed, 0x31, sizeof seed);
    CHECK(secureio_identity_from_seed(&server_id, seed) == SECUREIO_OK);
    memset(seed, 0x32, sizeof seed);
    CHECK(secureio_identity_from_seed(&client_id, seed) == SECUREIO_OK);
    secureio_identity_public_key(server_id, server_pk);
    secureio_identity_public_key(client_id, client_pk);
    return 0;
}

typedef struct held {
    uint8_t pkt[8][MAXP];
    size_t len[8];
    uint8_t to[8];
    size_t n;
} held;

static void push(held *h, const uint8_t *p, size_t len, uint8_t to)
{
    if (h->n == 8) {
        memmove(&h->pkt[0], &h->pkt[1], 7 * sizeof h->pkt[0]);
        memmove(&h->len[0], &h->len[1], 7 * sizeof h->len[0]);
        memmove(&h->to[0], &h->to[1], 7);
        h->n--;
    }
    memcpy(h->pkt[h->n], p, len);
    h->len[h->n] = len;
    h->to[h->n] = to;
    h->n++;
}

static void take(held *h, size_t k)
{
    memmove(&h->pkt[k], &h->pkt[k + 1], (h->n - k - 1) * sizeof h->pkt[0]);
    memmove(&h->len[k], &h->len[k + 1], (h->n - k - 1) * sizeof h->len[0]);
    memmove(&h->to[k], &h->to[k + 1], h->n - k - 1);
    h->n--;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static held from_client, from_server, seen;
    secureio_acceptor *a = NULL;
    secureio_engine *c = NULL;
    uint64_t now = T0;
    uint8_t client_addr = 0;
    rng_state = 7;
    sessions_made = sessions_ended = foreign = client_msgs = server_msgs = 0;
    from_client.n = from_server.n = seen.n = 0;

    secureio_config sc = SECUREIO_CONFIG_INIT;
    sc.rekey_interval_ms = 3000;
    sc.retransmit_ms = 200;
    sc.handshake_timeout_ms = 6000;
    sc.send_queue_len = 8;
    secureio_acceptor_config ac = SECUREIO_ACCEPTOR_CONFIG_INIT;
    ac.identity = server_id;
    ac.accept_any_peer = 1;
    ac.max_sessions = 2;
    ac.handshake_rate = 5;
    ac.session = &sc;
    ac.rng = det_rng;
    ac.rng_ctx = &rng_state;
    ac.on_session = on_session;
    ac.on_session_end = on_session_end;
    CHECK(secureio_acceptor_new(&a, &ac, now) == SECUREIO_OK);
    secureio_config cc = sc;
    cc.identity = client_id;
    cc.peer_key = server_pk;
    cc.rng = det_rng;
    cc.rng_ctx = &rng_state;
    cc.on_message = on_client_msg;
    CHECK(secureio_engine_new(&c, &cc) == SECUREIO_OK);
    CHECK(secureio_engine_start(c, now) == SECUREIO_OK);

    const uint8_t *in = data;
    size_t left = size;
    while (left >= 2) {
        uint8_t op = in[0] % 8, arg = in[1];
        in += 2;
        left -= 2;
        uint8_t pkt[MAXP], addr[SECUREIO_ADDR_MAX];
        size_t n, al;
        /* what both sides have to send now */
        for (;;) {
            n = sizeof pkt;
            CHECK(secureio_engine_poll(c, pkt, &n, now) == SECUREIO_OK);
            if (n == 0)
                break;
            push(&from_client, pkt, n, client_addr);
        }
        for (;;) {
            n = sizeof pkt;
            al = sizeof addr;
            CHECK(secureio_acceptor_poll(a, pkt, &n, addr, &al, now) == SECUREIO_OK);
            if (n == 0)
                break;
            CHECK(al == 1);
            push(&from_server, pkt, n, addr[0]);
            push(&seen, pkt, n, addr[0]);
        }
        switch (op) {
        case 0:
            if (from_client.n > 0) {
                uint8_t from = (uint8_t)(arg % 3);
                push(&seen, from_client.pkt[0], from_client.len[0], from);
                CHECK(secureio_acceptor_recv(a, from_client.pkt[0], from_client.len[0], &from, 1,
                                             now) == SECUREIO_OK);
                take(&from_client, 0);
            }
            break;
        case 1:
            if (from_server.n > 0) {
                if (from_server.to[0] == client_addr) {
                    int rc = secureio_engine_recv(c, from_server.pkt[0], from_server.len[0], now);
                    CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_CLOSED);
                }
                take(&from_server, 0);
            }
            break;
        case 2:
            if (left >= 2) {
                size_t len = (size_t)(in[0] << 8 | in[1]) % MAXP;
                in += 2;
                left -= 2;
                if (len > left)
                    len = left;
                CHECK(secureio_acceptor_recv(a, in, len, &arg, 1, now) == SECUREIO_OK);
                in += len;
                left -= len;
            }
            break;
        case 3:
        case 7:
            if (seen.n > 0) {
                size_t k = arg % seen.n;
                memcpy(pkt, seen.pkt[k], seen.len[k]);
                if (op == 3)
                    pkt[(size_t)arg * 13 % seen.len[k]] ^= (uint8_t)(1u << (arg & 7));
                uint8_t from = (uint8_t)(arg % 3);
                CHECK(secureio_acceptor_recv(a, pkt, seen.len[k], &from, 1, now) == SECUREIO_OK);
            }
            break;
        case 4:
            now += (uint64_t)arg * 53000u;
            CHECK(secureio_acceptor_tick(a, now) == SECUREIO_OK);
            {
                int rc = secureio_engine_tick(c, now);
                CHECK(rc == SECUREIO_OK);
            }
            break;
        case 5: {
            int rc = secureio_engine_write(c, 1, (const uint8_t *)"ping", 4, SECUREIO_WRITE_COPY,
                                           NULL, NULL, now);
            CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_AGAIN || rc == SECUREIO_ERR_CLOSED);
            break;
        }
        default: client_addr = (uint8_t)(arg % 3); break;
        }
        secureio_acceptor_counters st;
        secureio_acceptor_stats(a, &st);
        CHECK(st.sessions <= 2);
        CHECK(st.sessions == sessions_made - sessions_ended);
        CHECK(foreign == 0);
    }
    secureio_acceptor_free(a);
    secureio_engine_free(c);
    CHECK(sessions_made == sessions_ended);
    CHECK(foreign == 0);
    return 0;
}
