/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secureio engine, driven by hand: the handshake, authorization, PSK,
 * messages, rekey, close, stream framing, configuration checks, and a
 * regression test for each flaw of the Go original (docs/ORIGINAL.md) that this
 * engine concerns.
 */
#include <secureio/engine.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secureio/handshake.h"
#include "secureio/wire.h"
#include "test.h"

#define MAXP 2048

typedef struct peer {
    secureio_engine *e;
    secureio_identity *id;
    uint8_t pk[32];
    /* what it received */
    int established, rekeyed, closed, closed_err;
    uint64_t drops[16];
    char last_msg[256];
    size_t last_len, messages;
    uint32_t last_channel;
    uint64_t now;
    /* in_callback_test: answers from inside on_message */
    int echo;
    uint8_t echo_pkt[2048];
    size_t echo_len;
} peer;

static uint64_t det_state;

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
    peer *p = user;
    p->messages++;
    p->last_channel = channel;
    p->last_len = len;
    memcpy(p->last_msg, data, len < sizeof p->last_msg ? len : sizeof p->last_msg);
    if (p->echo && len == 3 && memcmp(data, "bye", 3) == 0) {
        secureio_engine_close(p->e, p->now); /* allowed inside a callback */
    } else if (p->echo) {
        /* an answer sealed from inside the callback (allowed), and what
         * else may be asked there */
        p->echo_len = sizeof p->echo_pkt;
        CHECK_EQ_INT(
            secureio_engine_send(p->e, channel, data, len, p->echo_pkt, &p->echo_len, p->now),
            SECUREIO_OK);
        secureio_stats st;
        secureio_engine_stats(p->e, &st);
        CHECK(st.messages_in >= 1);
        CHECK(secureio_engine_state(p->e) == SECUREIO_STATE_ESTABLISHED);
        CHECK(secureio_engine_max_message(p->e, channel) > len);
    }
}

static void on_ev(void *user, const secureio_event *ev)
{
    peer *p = user;
    if (ev->type == SECUREIO_EVENT_ESTABLISHED)
        p->established++;
    else if (ev->type == SECUREIO_EVENT_REKEYED)
        p->rekeyed++;
    else if (ev->type == SECUREIO_EVENT_CLOSED) {
        p->closed++;
        p->closed_err = ev->err;
    } else if (ev->type == SECUREIO_EVENT_BAD_PACKET && ev->drop_reason < 16)
        p->drops[ev->drop_reason]++;
}

/* Two identities from fixed seeds (a and b), engines configured by default
 * to pin each other; adjust may change a config before the engine is made. */
typedef void (*adjust_fn)(int i, secureio_config *cfg);

static void make_pair(peer *a, peer *b, adjust_fn adjust)
{
    peer *ps[2] = {a, b};
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    for (int i = 0; i < 2; i++) {
        uint8_t seed[32];
        memset(seed, 0x11 * (i + 1), sizeof seed);
        CHECK_EQ_INT(secureio_identity_from_seed(&ps[i]->id, seed), SECUREIO_OK);
        secureio_identity_public_key(ps[i]->id, ps[i]->pk);
        ps[i]->now = 1000;
    }
    for (int i = 0; i < 2; i++) {
        secureio_config cfg = SECUREIO_CONFIG_INIT;
        cfg.identity = ps[i]->id;
        cfg.peer_key = ps[1 - i]->pk;
        cfg.rng = det_rng;
        cfg.rng_ctx = &det_state;
        cfg.on_message = on_msg;
        cfg.on_event = on_ev;
        cfg.user = ps[i];
        if (adjust != NULL)
            adjust(i, &cfg);
        CHECK_EQ_INT(secureio_engine_new(&ps[i]->e, &cfg), SECUREIO_OK);
    }
}

static void free_pair(peer *a, peer *b)
{
    secureio_engine_free(a->e);
    secureio_engine_free(b->e);
    secureio_identity_free(a->id);
    secureio_identity_free(b->id);
}

/* Moves every pending packet between the two until both are quiet;
 * returns the number of packets moved. tap (may be NULL) sees each. */
typedef void (*tap_fn)(int from, const uint8_t *pkt, size_t len, void *arg);

static size_t pump(peer *a, peer *b, tap_fn tap, void *arg)
{
    peer *ps[2] = {a, b};
    size_t moved = 0;
    for (int round = 0; round < 100; round++) {
        int any = 0;
        for (int i = 0; i < 2; i++) {
            uint8_t pkt[MAXP];
            size_t n = sizeof pkt;
            while (secureio_engine_poll(ps[i]->e, pkt, &n, ps[i]->now) == SECUREIO_OK && n > 0) {
                if (tap != NULL)
                    tap(i, pkt, n, arg);
                int rc = secureio_engine_recv(ps[1 - i]->e, pkt, n, ps[1 - i]->now);
                CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_STATE); /* not started yet */
                moved++;
                any = 1;
                n = sizeof pkt;
            }
        }
        if (!any)
            break;
    }
    return moved;
}

static int connect_pair(peer *a, peer *b)
{
    CHECK_EQ_INT(secureio_engine_start(a->e, a->now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b->e, b->now), SECUREIO_OK);
    pump(a, b, NULL, NULL);
    return secureio_engine_state(a->e) == SECUREIO_STATE_ESTABLISHED &&
           secureio_engine_state(b->e) == SECUREIO_STATE_ESTABLISHED;
}

/* Sends msg from a to b through the engine; returns the packet length. */
static size_t send_msg(peer *a, peer *b, uint32_t channel, const char *msg, uint8_t *pkt_out)
{
    uint8_t pkt[MAXP];
    size_t n = sizeof pkt;
    int rc =
        secureio_engine_send(a->e, channel, (const uint8_t *)msg, strlen(msg), pkt, &n, a->now);
    CHECK_EQ_INT(rc, SECUREIO_OK);
    if (rc != SECUREIO_OK)
        return 0;
    if (pkt_out != NULL)
        memcpy(pkt_out, pkt, n);
    CHECK_EQ_INT(secureio_engine_recv(b->e, pkt, n, b->now), SECUREIO_OK);
    return n;
}

static int got(const peer *p, const char *msg)
{
    return p->last_len == strlen(msg) && memcmp(p->last_msg, msg, p->last_len) == 0;
}

/* ---------------------------------------------------------------- tests */

static void test_handshake_and_messages(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    CHECK_EQ_INT(a.established, 1);
    CHECK_EQ_INT(b.established, 1);
    uint8_t pk[32];
    CHECK_EQ_INT(secureio_engine_peer_key(a.e, pk), SECUREIO_OK);
    CHECK_MEM(pk, b.pk, 32);
    send_msg(&a, &b, 0, "hello over secureio", NULL);
    CHECK(got(&b, "hello over secureio"));
    send_msg(&b, &a, 4000000000u, "and back, on a high channel", NULL);
    CHECK(got(&a, "and back, on a high channel") && a.last_channel == 4000000000u);
    /* an empty message, and the largest one */
    send_msg(&a, &b, 1, "", NULL);
    CHECK_EQ_UINT(b.last_len, 0);
    size_t max = secureio_engine_max_message(a.e, 1);
    uint8_t *big = malloc(max + 1), pkt[MAXP];
    memset(big, 'x', max + 1);
    size_t n = sizeof pkt;
    CHECK_EQ_INT(secureio_engine_send(a.e, 1, big, max, pkt, &n, a.now), SECUREIO_OK);
    CHECK_EQ_UINT(n, SECUREIO_DEFAULT_PACKET_LEN);
    n = sizeof pkt;
    CHECK_EQ_INT(secureio_engine_send(a.e, 1, big, max + 1, pkt, &n, a.now), SECUREIO_ERR_LIMIT);
    n = 10;
    CHECK_EQ_INT(secureio_engine_send(a.e, 1, big, 100, pkt, &n, a.now), SECUREIO_ERR_BUFFER);
    free(big);
    /* rekey on demand: both switch, messages flow on both sides of it */
    CHECK_EQ_INT(secureio_engine_rekey(a.e, a.now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_rekey(a.e, a.now), SECUREIO_ERR_STATE); /* one at a time */
    pump(&a, &b, NULL, NULL);
    CHECK_EQ_INT(a.rekeyed, 1);
    send_msg(&a, &b, 2, "after the rekey", NULL); /* the responder switches on this */
    CHECK_EQ_INT(b.rekeyed, 1);
    send_msg(&b, &a, 2, "both on epoch 1", NULL);
    CHECK(got(&a, "both on epoch 1"));
    /* close: the peer learns it */
    secureio_engine_close(a.e, a.now);
    pump(&a, &b, NULL, NULL);
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_CLOSED);
    CHECK_EQ_INT(b.closed, 1);
    CHECK_EQ_INT(b.closed_err, SECUREIO_ERR_CLOSED);
    free_pair(&a, &b);
}

/* What engine.h allows inside a callback: an answer sealed in on_message,
 * and a close. */
static void test_in_callback(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    b.echo = 1;
    send_msg(&a, &b, 7, "ping from a", NULL);
    CHECK(b.echo_len > 0);
    CHECK_EQ_INT(secureio_engine_recv(a.e, b.echo_pkt, b.echo_len, a.now), SECUREIO_OK);
    CHECK(got(&a, "ping from a") && a.last_channel == 7);
    send_msg(&a, &b, 7, "bye", NULL);
    pump(&a, &b, NULL, NULL);
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_CLOSED);
    CHECK_EQ_INT(a.closed, 1);
    free_pair(&a, &b);
}

static uint8_t other_key[32];

static void pin_other(int i, secureio_config *cfg)
{
    if (i == 1)
        cfg->peer_key = other_key;
}

static secureio_keylist *list;

static void use_list(int i, secureio_config *cfg)
{
    if (i == 1) {
        cfg->peer_key = NULL;
        cfg->allowed_peers = list;
    }
}

static void any_peer(int i, secureio_config *cfg)
{
    if (i == 1) {
        cfg->peer_key = NULL;
        cfg->accept_any_peer = 1;
    }
}

static void test_authorization(void)
{
    peer a, b;
    /* b expects someone else: a's proof is refused, nothing is established on b */
    memset(other_key, 0x42, sizeof other_key);
    make_pair(&a, &b, pin_other);
    CHECK(!connect_pair(&a, &b));
    CHECK_EQ_INT(b.established, 0);
    CHECK(b.drops[SECUREIO_DROP_PEER] >= 1);
    free_pair(&a, &b);
    /* an allowed-keys list with a's key */
    CHECK_EQ_INT(secureio_keylist_new(&list), SECUREIO_OK);
    make_pair(&a, &b, use_list);
    CHECK(!connect_pair(&a, &b)); /* the list is empty */
    free_pair(&a, &b);
    make_pair(&a, &b, use_list);
    CHECK_EQ_INT(secureio_keylist_add(list, a.pk), SECUREIO_OK);
    CHECK(connect_pair(&a, &b));
    free_pair(&a, &b);
    secureio_keylist_free(list);
    /* anyone, explicitly */
    make_pair(&a, &b, any_peer);
    CHECK(connect_pair(&a, &b));
    free_pair(&a, &b);
}

static const uint8_t psk1[32] = {1, 2, 3}, psk2[32] = {9, 9, 9};
static int psk_case;

static void set_psk(int i, secureio_config *cfg)
{
    if (psk_case == 0 || (psk_case == 1 && i == 0)) {
        cfg->psk = psk1;
        cfg->psk_len = sizeof psk1;
    } else if (psk_case == 2) {
        cfg->psk = i == 0 ? psk1 : psk2;
        cfg->psk_len = 32;
    }
}

static void test_psk(void)
{
    peer a, b;
    psk_case = 0; /* the same PSK on both sides */
    make_pair(&a, &b, set_psk);
    CHECK(connect_pair(&a, &b));
    send_msg(&a, &b, 0, "with a psk", NULL);
    CHECK(got(&b, "with a psk"));
    free_pair(&a, &b);
    psk_case = 1; /* only one side has one: the options disagree */
    make_pair(&a, &b, set_psk);
    CHECK(!connect_pair(&a, &b));
    CHECK(a.drops[SECUREIO_DROP_OPTIONS] + b.drops[SECUREIO_DROP_OPTIONS] >= 1);
    free_pair(&a, &b);
    psk_case = 2; /* different PSKs: the AUTH keys differ (flaw 12: mixed by the KDF) */
    make_pair(&a, &b, set_psk);
    CHECK(!connect_pair(&a, &b));
    CHECK(a.drops[SECUREIO_DROP_AUTH] + b.drops[SECUREIO_DROP_AUTH] >= 1);
    free_pair(&a, &b);
}

static void test_config(void)
{
    peer a, b;
    secureio_engine *e = NULL;
    secureio_config cfg = SECUREIO_CONFIG_INIT;
    make_pair(&a, &b, NULL);
    /* each refusal names its field in the detail (engine.h's check order) */
#define REFUSED(what)                                                                              \
    do {                                                                                           \
        CHECK_EQ_INT(secureio_engine_new(&e, &cfg), SECUREIO_ERR_ARG);                             \
        if (!CHECK(strstr(secureio_error_detail(), what) != NULL))                                 \
            fprintf(stderr, "  detail: '%s', expected '%s'\n", secureio_error_detail(), what);     \
    } while (0)
    CHECK_EQ_INT(secureio_engine_new(NULL, &cfg), SECUREIO_ERR_ARG);
    CHECK(strstr(secureio_error_detail(), "out is NULL") != NULL);
    CHECK_EQ_INT(secureio_engine_new(&e, NULL), SECUREIO_ERR_ARG);
    CHECK(strstr(secureio_error_detail(), "cfg is NULL") != NULL);
    REFUSED("cfg->identity is NULL");
    cfg.identity = a.id;
    REFUSED("no peer is allowed");
    cfg.accept_any_peer = 2;
    REFUSED("cfg->accept_any_peer");
    cfg.accept_any_peer = 0;
    cfg.peer_key = b.pk;
    cfg.psk_len = 32;
    REFUSED("cfg->psk is NULL");
    cfg.psk = psk1;
    cfg.psk_len = 16; /* too short */
    REFUSED("cfg->psk_len");
    cfg.psk_len = 32;
    cfg.stream = 3;
    REFUSED("cfg->stream");
    cfg.stream = 0;
    cfg.max_packet_len = 100;
    REFUSED("cfg->max_packet_len");
    cfg.max_packet_len = 0;
    cfg.version = 99;
    REFUSED("cfg->version");
#undef REFUSED
    CHECK(e == NULL);
    cfg.version = SECUREIO_CONFIG_VERSION;
    CHECK_EQ_INT(secureio_engine_new(&e, &cfg), SECUREIO_OK);
    CHECK_EQ_STR(secureio_error_detail(), ""); /* cleared by a success */
    secureio_engine_free(e);
    e = NULL;
    /* every drop reason has its phrase */
    for (int r = SECUREIO_DROP_MALFORMED; r <= SECUREIO_DROP_OPTIONS; r++)
        CHECK(strcmp(secureio_drop_reason_str(r), "unknown reason") != 0);
    CHECK_EQ_STR(secureio_drop_reason_str(0), "unknown reason");
    CHECK_EQ_STR(secureio_drop_reason_str(SECUREIO_DROP_OPTIONS + 1), "unknown reason");
    /* misuse of a live engine */
    uint8_t pkt[MAXP];
    size_t n = sizeof pkt;
    CHECK_EQ_INT(secureio_engine_recv(a.e, pkt, 10, 0), SECUREIO_ERR_STATE); /* not started */
    CHECK_EQ_INT(secureio_engine_send(a.e, 0, pkt, 1, pkt, &n, 0), SECUREIO_ERR_STATE);
    n = 10;
    CHECK_EQ_INT(secureio_engine_poll(a.e, pkt, &n, 0), SECUREIO_ERR_BUFFER);
    CHECK_EQ_INT(secureio_engine_start(a.e, 0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(a.e, 0), SECUREIO_ERR_STATE);
    CHECK_EQ_INT(secureio_engine_peer_key(a.e, pkt), SECUREIO_ERR_STATE);
    free_pair(&a, &b);
}

/* -------------------------------------------------------- bad input, docs/ORIGINAL.md */

static void feed(peer *p, const uint8_t *pkt, size_t len)
{
    CHECK_EQ_INT(secureio_engine_recv(p->e, pkt, len, p->now), SECUREIO_OK);
}

/* flaws 1, 2, 6, 14, 15: nothing unauthenticated reaches the
 * application, moves the replay window or closes the session. */
static void test_unauthenticated_input(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    uint8_t pkt[MAXP], legit[MAXP];
    size_t before = b.messages;
    /* random packets of every type byte and many lengths */
    for (int i = 0; i < 2000; i++) {
        size_t len = 1 + (size_t)(randombytes_uniform(600));
        randombytes_buf(pkt, len);
        pkt[0] = (uint8_t)(i % 6);
        feed(&b, pkt, len);
    }
    /* a forged record claiming the last counter (Go's replay-window poisoning) */
    sio_record_header h = {0, UINT64_MAX};
    sio_record_header_encode(&h, pkt);
    randombytes_buf(pkt + SIO_RECORD_HEADER_LEN, 64);
    feed(&b, pkt, SIO_RECORD_HEADER_LEN + 64);
    CHECK_EQ_UINT(b.messages, before); /* nothing delivered */
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    CHECK(b.drops[SECUREIO_DROP_AUTH] > 0 && b.drops[SECUREIO_DROP_MALFORMED] > 0);
    /* and the next real message still arrives */
    size_t n = send_msg(&a, &b, 3, "still here", legit);
    CHECK(got(&b, "still here"));
    /* every bit of a real record, flipped (header included): dropped */
    size_t delivered = b.messages;
    send_msg(&a, &b, 3, "a second one", legit);
    n = n > 0 ? n : 1;
    for (size_t bit = 0; bit < 8 * n; bit++) {
        memcpy(pkt, legit, n);
        pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        feed(&b, pkt, n);
    }
    CHECK_EQ_UINT(b.messages, delivered + 1);
    /* truncated copies */
    for (size_t k = 0; k < n; k++)
        feed(&b, legit, k);
    CHECK_EQ_UINT(b.messages, delivered + 1);
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    free_pair(&a, &b);
}

/* flaw 8: the replay window remembers across large jumps. */
static void test_replay(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    static uint8_t saved[4][MAXP];
    size_t saved_len[4] = {0};
    for (int i = 0; i < 9000; i++) {
        uint8_t pkt[MAXP];
        int k = i == 5 ? 0 : i == 100 ? 1 : i == 8990 ? 2 : i == 8999 ? 3 : -1;
        size_t n = send_msg(&a, &b, 0, "m", pkt);
        if (k >= 0) {
            memcpy(saved[k], pkt, n);
            saved_len[k] = n;
        }
    }
    size_t delivered = b.messages;
    uint64_t replays = b.drops[SECUREIO_DROP_REPLAY];
    for (int k = 0; k < 4; k++)
        feed(&b, saved[k], saved_len[k]);
    CHECK_EQ_UINT(b.messages, delivered);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_REPLAY], replays + 4);
    free_pair(&a, &b);
}

/* flaw 10: each direction has its own key: the same message with the
 * same counter encrypts differently each way. */
static void test_direction_keys(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    uint8_t p1[MAXP], p2[MAXP];
    /* b sent one CONFIRM record already (counter 0): line both up at 1 */
    send_msg(&a, &b, 0, "align", p1);
    size_t n1 = send_msg(&a, &b, 0, "same message", p1);
    size_t n2 = send_msg(&b, &a, 0, "same message", p2);
    CHECK_EQ_UINT(n1, n2);
    CHECK(memcmp(p1, p2, SIO_RECORD_HEADER_LEN) == 0); /* same epoch and counter */
    CHECK(memcmp(p1 + SIO_RECORD_HEADER_LEN, p2 + SIO_RECORD_HEADER_LEN,
                 n1 - SIO_RECORD_HEADER_LEN) != 0);
    free_pair(&a, &b);
}

/* flaw 13: no static key. Two sessions of the same identities and PSK
 * seal the same message at the same counter under different keys. */
static void test_no_static_key(void)
{
    uint8_t rec[2][MAXP];
    size_t n[2];
    psk_case = 0;
    for (int run = 0; run < 2; run++) {
        peer a, b;
        det_state = 100 + (uint64_t)run; /* fresh randomness per session */
        make_pair(&a, &b, set_psk);
        CHECK(connect_pair(&a, &b));
        n[run] = send_msg(&a, &b, 0, "same message", rec[run]);
        free_pair(&a, &b);
    }
    CHECK_EQ_UINT(n[0], n[1]);
    CHECK(memcmp(rec[0], rec[1], SIO_RECORD_HEADER_LEN) == 0); /* same epoch, counter */
    CHECK(memcmp(rec[0] + SIO_RECORD_HEADER_LEN, rec[1] + SIO_RECORD_HEADER_LEN,
                 n[0] - SIO_RECORD_HEADER_LEN) != 0);
}

/* flaw 4: low-order X25519 points are refused, without a crash. */
static void test_low_order_points(void)
{
    /* the points of order 1, 2, 4 and 8 on Curve25519, and p, p+1 */
    static const uint8_t bad[][32] = {
        {0},
        {1},
        {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
         0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
         0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
        {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
         0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
         0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
        {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
        {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    };
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK_EQ_INT(secureio_engine_start(b.e, b.now), SECUREIO_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sio_hs_packet h;
        uint8_t pkt[SIO_HS_PACKET_LEN], out[MAXP];
        memset(&h, 0, sizeof h);
        h.type = SIO_PKT_HELLO;
        h.version = SIO_VERSION;
        memcpy(h.e, bad[i], 32);
        memset(h.n, 0, sizeof h.n); /* the smallest nonce: b would answer it */
        sio_hs_encode(&h, pkt);
        uint64_t auth_drops = b.drops[SECUREIO_DROP_AUTH];
        feed(&b, pkt, sizeof pkt);
        CHECK_EQ_UINT(b.drops[SECUREIO_DROP_AUTH], auth_drops + 1);
        /* no answer comes out for it (b's own hello is all there is) */
        size_t n = sizeof out;
        while (secureio_engine_poll(b.e, out, &n, b.now) == SECUREIO_OK && n > 0) {
            CHECK(out[0] == SIO_PKT_HELLO);
            n = sizeof out;
        }
    }
    free_pair(&a, &b);
}

/* flaw 11: old handshake packets replayed into new sessions do nothing. */
struct capture {
    uint8_t pkt[8][SIO_HS_PACKET_LEN];
    size_t n;
};

static void capture_hs(int from, const uint8_t *pkt, size_t len, void *arg)
{
    struct capture *c = arg;
    (void)from;
    if (len == SIO_HS_PACKET_LEN && c->n < 8)
        memcpy(c->pkt[c->n++], pkt, len);
}

static void test_handshake_replay(void)
{
    peer a, b, c, d;
    struct capture cap = {0};
    make_pair(&a, &b, NULL);
    CHECK_EQ_INT(secureio_engine_start(a.e, a.now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, b.now), SECUREIO_OK);
    pump(&a, &b, capture_hs, &cap);
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    CHECK(cap.n >= 3);
    /* into the established session: no second session, no closure */
    for (size_t i = 0; i < cap.n; i++) {
        feed(&a, cap.pkt[i], SIO_HS_PACKET_LEN);
        feed(&b, cap.pkt[i], SIO_HS_PACKET_LEN);
    }
    pump(&a, &b, NULL, NULL);
    CHECK_EQ_INT(a.established, 1);
    CHECK_EQ_INT(b.established, 1);
    send_msg(&a, &b, 0, "unaffected", NULL);
    CHECK(got(&b, "unaffected"));
    /* into new engines of the same identities: nothing is established */
    make_pair(&c, &d, NULL);
    CHECK_EQ_INT(secureio_engine_start(d.e, d.now), SECUREIO_OK);
    for (size_t i = 0; i < cap.n; i++)
        feed(&d, cap.pkt[i], SIO_HS_PACKET_LEN);
    CHECK_EQ_INT(d.established, 0);
    free_pair(&c, &d);
    free_pair(&a, &b);
}

/* A peer restarts; a copy of the first session's AUTH_I (and its records)
 * must not bring the first session back: its keys would seal again from
 * counter 0 (nonce reuse) and its records would be delivered again. */
struct capture_all {
    uint8_t auth_i[SIO_HS_PACKET_LEN];
    int from; /* who sent it: the initiator */
};

static void capture_auth_i(int from, const uint8_t *pkt, size_t len, void *arg)
{
    struct capture_all *c = arg;
    if (len == SIO_HS_PACKET_LEN && pkt[0] == SIO_PKT_AUTH_I) {
        memcpy(c->auth_i, pkt, len);
        c->from = from;
    }
}

static void test_restart_and_stale_auth_i(void)
{
    peer a, b, fresh[2];
    struct capture_all cap = {{0}, -1};
    uint8_t old_rec[MAXP];
    make_pair(&a, &b, NULL);
    CHECK_EQ_INT(secureio_engine_start(a.e, a.now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, b.now), SECUREIO_OK);
    pump(&a, &b, capture_auth_i, &cap);
    if (!CHECK(cap.from == 0 || cap.from == 1)) {
        free_pair(&a, &b);
        return;
    }
    peer *ini = cap.from == 0 ? &a : &b, *rsp = cap.from == 0 ? &b : &a;
    size_t n = send_msg(ini, rsp, 0, "first session", old_rec);
    /* the initiator restarts: a new engine with the same identity */
    make_pair(&fresh[0], &fresh[1], NULL);
    peer *again = &fresh[cap.from];
    CHECK_EQ_INT(secureio_engine_start(again->e, again->now), SECUREIO_OK);
    pump(again, rsp, NULL, NULL);
    CHECK(secureio_engine_state(again->e) == SECUREIO_STATE_ESTABLISHED);
    CHECK_EQ_INT(rsp->established, 2);
    /* the first session's AUTH_I and record, replayed */
    feed(rsp, cap.auth_i, SIO_HS_PACKET_LEN);
    CHECK_EQ_INT(rsp->established, 2);
    size_t msgs = rsp->messages;
    feed(rsp, old_rec, n);
    CHECK_EQ_UINT(rsp->messages, msgs);
    /* the restarted peer's session works */
    send_msg(again, rsp, 0, "second session", NULL);
    CHECK(got(rsp, "second session"));
    free_pair(&fresh[0], &fresh[1]);
    free_pair(&a, &b);
}

/* Copies of the AUTH_I that made a session: only byte-identical ones are
 * answered (with a CONFIRM), at most once per retransmission interval;
 * look-alikes with the same public nonces get nothing. */
static void test_auth_i_copies(void)
{
    peer a, b;
    struct capture_all cap = {{0}, -1};
    make_pair(&a, &b, NULL);
    CHECK_EQ_INT(secureio_engine_start(a.e, a.now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, b.now), SECUREIO_OK);
    pump(&a, &b, capture_auth_i, &cap);
    if (!CHECK(cap.from == 0 || cap.from == 1)) {
        free_pair(&a, &b);
        return;
    }
    peer *rsp = cap.from == 0 ? &b : &a;
    uint8_t out[MAXP], fake[SIO_HS_PACKET_LEN];
    size_t n;
    memcpy(fake, cap.auth_i, sizeof fake);
    randombytes_buf(fake + SIO_HS_HEADER_LEN, SIO_AUTH_CT_LEN); /* same nonces, other ct */
    rsp->now += 5000;
    feed(rsp, fake, sizeof fake);
    n = sizeof out;
    CHECK_EQ_INT(secureio_engine_poll(rsp->e, out, &n, rsp->now), SECUREIO_OK);
    CHECK_EQ_UINT(n, 0);
    feed(rsp, cap.auth_i, SIO_HS_PACKET_LEN); /* the real copy: one CONFIRM */
    n = sizeof out;
    CHECK_EQ_INT(secureio_engine_poll(rsp->e, out, &n, rsp->now), SECUREIO_OK);
    CHECK(n > 0 && out[0] == SIO_PKT_RECORD);
    feed(rsp, cap.auth_i, SIO_HS_PACKET_LEN); /* again at once: nothing */
    n = sizeof out;
    CHECK_EQ_INT(secureio_engine_poll(rsp->e, out, &n, rsp->now), SECUREIO_OK);
    CHECK_EQ_UINT(n, 0);
    CHECK_EQ_INT(rsp->established, 1);
    free_pair(&a, &b);
}

/* Once established, a session's peer never changes: another authorized
 * identity (here: anyone) cannot take it over with a new handshake. */
static void test_no_takeover(void)
{
    peer a, b, m, m_peer;
    make_pair(&a, &b, any_peer); /* b accepts anyone */
    CHECK(connect_pair(&a, &b));
    /* m: a third identity that pins b */
    memset(&m, 0, sizeof m);
    memset(&m_peer, 0, sizeof m_peer);
    uint8_t seed[32];
    memset(seed, 0x77, sizeof seed);
    CHECK_EQ_INT(secureio_identity_from_seed(&m.id, seed), SECUREIO_OK);
    secureio_config cfg = SECUREIO_CONFIG_INIT;
    cfg.identity = m.id;
    cfg.peer_key = b.pk;
    cfg.on_event = on_ev;
    cfg.user = &m;
    m.now = b.now;
    CHECK_EQ_INT(secureio_engine_new(&m.e, &cfg), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(m.e, m.now), SECUREIO_OK);
    uint64_t peer_drops = b.drops[SECUREIO_DROP_PEER];
    pump(&m, &b, NULL, NULL);
    CHECK_EQ_INT(b.established, 1);
    CHECK(b.drops[SECUREIO_DROP_PEER] > peer_drops);
    uint8_t pk[32];
    CHECK_EQ_INT(secureio_engine_peer_key(b.e, pk), SECUREIO_OK);
    CHECK_MEM(pk, a.pk, 32);
    send_msg(&a, &b, 0, "still a", NULL);
    CHECK(got(&b, "still a"));
    secureio_engine_free(m.e);
    secureio_identity_free(m.id);
    free_pair(&a, &b);
}

/* A flood of hellos: answers are bounded by the rate limit. */
static void test_rate_limit(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    size_t answered = 0, cookies = 0;
    uint8_t cookie_reply[SIO_HS_PACKET_LEN], first[SIO_HS_PACKET_LEN];
    for (int i = 0; i < 500; i++) {
        sio_hs_packet h;
        uint8_t pkt[SIO_HS_PACKET_LEN], out[MAXP], priv[32];
        memset(&h, 0, sizeof h);
        h.type = SIO_PKT_HELLO;
        h.version = SIO_VERSION;
        randombytes_buf(priv, 32);
        sio_x25519_public(h.e, priv);
        randombytes_buf(h.n, 32);
        sio_hs_encode(&h, pkt);
        if (i == 499)
            memcpy(first, pkt, sizeof pkt);
        feed(&b, pkt, sizeof pkt);
        size_t n = sizeof out;
        if (secureio_engine_poll(b.e, out, &n, b.now) == SECUREIO_OK && n > 0) {
            if (out[0] == SIO_PKT_AUTH_R)
                answered++;
            if (out[0] == SIO_PKT_COOKIE) {
                cookies++;
                memcpy(cookie_reply, out, SIO_HS_PACKET_LEN);
            }
            CHECK(n <= sizeof pkt); /* never more than the question */
        }
    }
    CHECK(answered <= 50); /* the default burst, at one instant */
    CHECK(cookies >= 450); /* the rest got a cookie: no DH, no signature */
    secureio_stats st;
    secureio_engine_stats(b.e, &st);
    CHECK_EQ_UINT(st.cookies_sent, cookies);
    /* the last hello, back with its cookie, is answered (its own budget) */
    {
        sio_hs_packet c, h;
        uint8_t out[MAXP];
        size_t n = sizeof out;
        CHECK_EQ_INT(sio_hs_decode(&c, cookie_reply, SIO_HS_PACKET_LEN), 0);
        CHECK_EQ_INT(sio_hs_decode(&h, first, SIO_HS_PACKET_LEN), 0);
        memcpy(h.echo, c.echo, 32);
        sio_hs_encode(&h, first);
        feed(&b, first, SIO_HS_PACKET_LEN);
        CHECK_EQ_INT(secureio_engine_poll(b.e, out, &n, b.now), SECUREIO_OK);
        CHECK(n > 0 && out[0] == SIO_PKT_AUTH_R);
        /* a wrong cookie is dropped */
        first[40] ^= 1; /* another hello: its cookie does not fit */
        uint64_t stale = b.drops[SECUREIO_DROP_STALE];
        feed(&b, first, SIO_HS_PACKET_LEN);
        CHECK_EQ_UINT(b.drops[SECUREIO_DROP_STALE], stale + 1);
    }
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    free_pair(&a, &b);
}

static void stream_cfg(int i, secureio_config *cfg)
{
    (void)i;
    cfg->stream = 1;
}

/* A flood of forged hellos does not keep real peers from connecting: the
 * real initiator gets a cookie and comes back with it. */
static void test_flood_then_connect(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK_EQ_INT(secureio_engine_start(b.e, b.now), SECUREIO_OK);
    for (int i = 0; i < 1000; i++) {
        sio_hs_packet h;
        uint8_t pkt[SIO_HS_PACKET_LEN], out[MAXP], priv[32];
        memset(&h, 0, sizeof h);
        h.type = SIO_PKT_HELLO;
        h.version = SIO_VERSION;
        randombytes_buf(priv, 32);
        sio_x25519_public(h.e, priv);
        memset(h.n, 0, 32); /* smallest nonces: b answers them, not its own */
        h.n[31] = (uint8_t)i;
        sio_hs_encode(&h, pkt);
        feed(&b, pkt, sizeof pkt);
        size_t n = sizeof out;
        while (secureio_engine_poll(b.e, out, &n, b.now) == SECUREIO_OK && n > 0)
            n = sizeof out; /* the forger never sees these */
    }
    CHECK_EQ_INT(secureio_engine_start(a.e, a.now), SECUREIO_OK);
    /* b's own first hello went out with the flood's answers: let the timers run */
    for (int step = 0; step < 50 && secureio_engine_state(b.e) != SECUREIO_STATE_ESTABLISHED;
         step++) {
        a.now += 100;
        b.now += 100;
        CHECK_EQ_INT(secureio_engine_tick(a.e, a.now), SECUREIO_OK);
        CHECK_EQ_INT(secureio_engine_tick(b.e, b.now), SECUREIO_OK);
        pump(&a, &b, NULL, NULL);
    }
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_ESTABLISHED);
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    secureio_stats st;
    secureio_engine_stats(b.e, &st);
    CHECK(st.cookies_sent > 900);
    free_pair(&a, &b);
}

/* Stream transports: any split works; a broken length closes. */
static void test_stream(void)
{
    peer a, b;
    make_pair(&a, &b, stream_cfg);
    CHECK_EQ_INT(secureio_engine_start(a.e, a.now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, b.now), SECUREIO_OK);
    /* move bytes one at a time */
    peer *ps[2] = {&a, &b};
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 2; i++) {
            uint8_t pkt[MAXP];
            size_t n = sizeof pkt;
            while (secureio_engine_poll(ps[i]->e, pkt, &n, 0) == SECUREIO_OK && n > 0) {
                for (size_t k = 0; k < n; k++)
                    feed(ps[1 - i], pkt + k, 1);
                n = sizeof pkt;
            }
        }
    }
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_ESTABLISHED);
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    uint8_t pkt[MAXP];
    size_t n = sizeof pkt;
    CHECK_EQ_INT(secureio_engine_send(a.e, 5, (const uint8_t *)"streamed", 8, pkt, &n, 0),
                 SECUREIO_OK);
    CHECK_EQ_UINT((size_t)(pkt[0] << 8 | pkt[1]), n - 2);
    feed(&b, pkt, 3);
    feed(&b, pkt + 3, n - 3);
    CHECK(got(&b, "streamed"));
    /* a frame length of 0 breaks the framing: the session closes */
    static const uint8_t zero[2] = {0, 0};
    CHECK_EQ_INT(secureio_engine_recv(b.e, zero, 2, 0), SECUREIO_ERR_FORMAT);
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_CLOSED);
    CHECK_EQ_INT(b.closed_err, SECUREIO_ERR_FORMAT);
    free_pair(&a, &b);
}

/* The handshake is a pure function of the identities and the random
 * bytes: with a fixed generator it is reproducible (docs/PROTOCOL.md prints
 * it). */
static void print_vectors(int from, const uint8_t *pkt, size_t len, void *arg)
{
    FILE *f = arg;
    if (f == NULL)
        return;
    fprintf(f, "%s -> ", from == 0 ? "A" : "B");
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%02x", pkt[i]);
    fprintf(f, "\n");
}

static void hash_packets(int from, const uint8_t *pkt, size_t len, void *arg)
{
    crypto_generichash_state *st = arg;
    uint8_t f = (uint8_t)from;
    crypto_generichash_update(st, &f, 1);
    crypto_generichash_update(st, pkt, len);
}

static void test_deterministic(void)
{
    uint8_t h1[32], h2[32];
    for (int run = 0; run < 2; run++) {
        peer a, b;
        crypto_generichash_state st;
        det_state = 7;
        make_pair(&a, &b, NULL);
        crypto_generichash_init(&st, NULL, 0, 32);
        CHECK_EQ_INT(secureio_engine_start(a.e, a.now), SECUREIO_OK);
        pump(&a, &b, hash_packets, &st); /* A's hello only: B is not started */
        CHECK_EQ_INT(secureio_engine_start(b.e, b.now), SECUREIO_OK);
        pump(&a, &b, hash_packets, &st);
        crypto_generichash_final(&st, run == 0 ? h1 : h2, 32);
        free_pair(&a, &b);
    }
    CHECK_MEM(h1, h2, 32);
    if (getenv("SECUREIO_PRINT_VECTORS") != NULL) {
        peer a, b;
        det_state = 7;
        make_pair(&a, &b, NULL);
        CHECK_EQ_INT(secureio_engine_start(a.e, a.now), SECUREIO_OK);
        CHECK_EQ_INT(secureio_engine_start(b.e, b.now), SECUREIO_OK);
        pump(&a, &b, print_vectors, stdout);
        send_msg(&a, &b, 1, "hello", NULL);
        free_pair(&a, &b);
    }
}

/* An initiator whose AUTH_I never gets through is not left half-open: the
 * handshake timeout covers the confirmation too. */
static void test_unconfirmed_timeout(void)
{
    peer a, b;
    peer *ps[2] = {&a, &b};
    make_pair(&a, &b, NULL);
    CHECK_EQ_INT(secureio_engine_start(a.e, a.now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, b.now), SECUREIO_OK);
    /* everything goes through except AUTH_I */
    for (int round = 0; round < 10; round++)
        for (int i = 0; i < 2; i++) {
            uint8_t pkt[MAXP];
            size_t n = sizeof pkt;
            while (secureio_engine_poll(ps[i]->e, pkt, &n, 1000) == SECUREIO_OK && n > 0) {
                if (pkt[0] != SIO_PKT_AUTH_I)
                    feed(ps[1 - i], pkt, n);
                n = sizeof pkt;
            }
        }
    peer *init = secureio_engine_state(a.e) == SECUREIO_STATE_ESTABLISHED ? &a : &b;
    CHECK(secureio_engine_state(init->e) == SECUREIO_STATE_ESTABLISHED);
    for (uint64_t t = 1000; t < 1000 + 61000; t += 500) {
        uint8_t pkt[MAXP];
        size_t n = sizeof pkt;
        CHECK_EQ_INT(secureio_engine_tick(init->e, t), SECUREIO_OK);
        while (secureio_engine_poll(init->e, pkt, &n, t) == SECUREIO_OK && n > 0)
            n = sizeof pkt;
    }
    CHECK(secureio_engine_state(init->e) == SECUREIO_STATE_CLOSED);
    CHECK_EQ_INT(init->closed_err, SECUREIO_ERR_TIMEOUT);
    free_pair(&a, &b);
}

/* A clock that starts just below UINT64_MAX: the timers saturate. */
static void test_clock_edge(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    a.now = b.now = UINT64_MAX - 5000;
    CHECK(connect_pair(&a, &b));
    send_msg(&a, &b, 0, "late in time", NULL);
    CHECK(got(&b, "late in time"));
    CHECK(secureio_engine_deadline(a.e) >= a.now);
    CHECK_EQ_INT(secureio_engine_tick(a.e, UINT64_MAX - 1), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_tick(b.e, UINT64_MAX - 1), SECUREIO_OK);
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_ESTABLISHED);
    free_pair(&a, &b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    det_state = 1;
    test_handshake_and_messages();
    test_in_callback();
    test_authorization();
    test_psk();
    test_config();
    test_unauthenticated_input();
    test_replay();
    test_direction_keys();
    test_low_order_points();
    test_no_static_key();
    test_handshake_replay();
    test_restart_and_stale_auth_i();
    test_no_takeover();
    test_auth_i_copies();
    test_rate_limit();
    test_flood_then_connect();
    test_stream();
    test_deterministic();
    test_clock_edge();
    test_unconfirmed_timeout();
    return test_summary("engine");
}
