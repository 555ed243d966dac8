/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secureio session engine (engine II, protocol version 2): the session
 * itself, with two engines driven by hand (tests/support/engine_pair.h).
 *
 * It proves the handshake and the simplest session (messages both ways,
 * a message of one packet and of two, rekeys on demand, a close the peer
 * learns of); who may be the peer (a pinned key, key lists, anyone; PSKs);
 * the configuration checks, with each refusal naming its field, and the
 * states and what each allows; a rekey that loses any one of its records,
 * and crossing rekeys; stream framing with packets split anywhere; that a
 * handshake is reproducible from its random bytes; a clock at its end, an
 * initiator left unconfirmed, and counters that agree. And it holds a
 * regression test for each flaw of the Go original (docs/ORIGINAL.md) that
 * the engine concerns: unauthenticated input, replay-window poisoning and
 * large jumps, keys per direction, no static key, low-order points,
 * replayed handshake packets, restarts, takeovers and hello floods.
 *
 * The numbered regression tests of the engine II issue live by concern:
 * 1 to 6 (attacks on the first engine) in test_engine_attacks.c, 7 to 14
 * (messages, the send queue, close, timers, packet sizes) in
 * test_engine_messages.c, and 15 (the new configuration limits) here.
 */
#include <secureio/engine.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "engine_pair.h"
#include "secureio/handshake.h"
#include "secureio/responder.h"
#include "secureio/wire.h"
#include "test.h"

/* The counter of a record (its header's bytes 6 to 13). */
static uint64_t rec_counter(const uint8_t *rec)
{
    return util_load64_le(rec + 6);
}

/* ------------------------ the handshake, who may connect, configuration */

/* The handshake, messages both ways (empty, on the highest channel), the
 * largest message of one packet and one byte more (two fragments), a rekey
 * on demand (one at a time), and a close the peer learns of. */
static void test_handshake_and_messages(void)
{
    peer a, b;
    uint8_t pk[32], pkt[PKT];
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    CHECK_EQ_INT(a.established, 1);
    CHECK_EQ_INT(b.established, 1);
    CHECK_EQ_INT(secureio_engine_peer_key(a.e, pk), SECUREIO_OK);
    CHECK_MEM(pk, b.pk, 32);
    CHECK_EQ_INT(secureio_engine_peer_key(b.e, pk), SECUREIO_OK);
    CHECK_MEM(pk, a.pk, 32);
    CHECK(a.established_has_key && memcmp(a.established_key, b.pk, 32) == 0);
    CHECK(b.established_has_key && memcmp(b.established_key, a.pk, 32) == 0);
    send_msg(&a, &b, 0, "hello over secureio", NULL);
    CHECK(got(&b, "hello over secureio") && b.last_channel == 0);
    send_msg(&b, &a, SECUREIO_CHANNEL_MAX, "and back, on the highest channel", NULL);
    CHECK(got(&a, "and back, on the highest channel") && a.last_channel == SECUREIO_CHANNEL_MAX);
    size_t before = b.messages;
    send_msg(&a, &b, 1, "", NULL);
    CHECK_EQ_UINT(b.messages, before + 1);
    CHECK_EQ_UINT(b.last_len, 0);

    /* the largest message of one packet fills it exactly */
    size_t max = secureio_engine_max_message(a.e, 1);
    CHECK_EQ_UINT(max, MSG_IN_PACKET(SECUREIO_DEFAULT_PACKET_LEN, 1));
    uint8_t *big = malloc(max + 1);
    fill(big, max + 1, 1);
    secureio_stats s0 = stats_of(&a);
    before = b.messages;
    CHECK_EQ_INT(secureio_engine_write(a.e, 1, big, max, SECUREIO_WRITE_SYNC, NULL, NULL, a.now),
                 SECUREIO_OK);
    size_t n = poll1(&a, pkt, sizeof pkt);
    CHECK_EQ_UINT(n, SECUREIO_DEFAULT_PACKET_LEN);
    feed(&b, pkt, n);
    CHECK(msg_is(&b, before, 1, big, max));
    /* one byte more: two fragments */
    CHECK_EQ_INT(
        secureio_engine_write(a.e, 1, big, max + 1, SECUREIO_WRITE_SYNC, NULL, NULL, a.now),
        SECUREIO_OK);
    size_t packets = 0;
    while ((n = poll1(&a, pkt, sizeof pkt)) > 0) {
        packets++;
        feed(&b, pkt, n);
    }
    CHECK_EQ_UINT(packets, 2);
    CHECK(msg_is(&b, before + 1, 1, big, max + 1));
    secureio_stats s1 = stats_of(&a);
    CHECK_EQ_UINT(s1.fragments_out - s0.fragments_out, 2);
    CHECK_EQ_UINT(s1.messages_out - s0.messages_out, 2);
    free(big);

    /* rekey on demand: both switch; messages flow on both sides of it */
    CHECK_EQ_INT(secureio_engine_rekey(a.e, a.now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_rekey(a.e, a.now), SECUREIO_ERR_STATE); /* one at a time */
    pump(&a, &b, a.now);
    CHECK_EQ_INT(a.rekeyed, 1);
    CHECK_EQ_INT(b.rekeyed, 1);
    send_msg(&a, &b, 2, "after the rekey", NULL);
    CHECK(got(&b, "after the rekey"));
    send_msg(&b, &a, 2, "both on epoch 1", NULL);
    CHECK(got(&a, "both on epoch 1"));
    CHECK_EQ_UINT(stats_of(&a).rekeys, 1);
    CHECK_EQ_UINT(stats_of(&b).rekeys, 1);
    /* and a second one, started by the other side */
    CHECK_EQ_INT(secureio_engine_rekey(b.e, b.now), SECUREIO_OK);
    pump(&a, &b, a.now);
    CHECK_EQ_INT(a.rekeyed, 2);
    CHECK_EQ_INT(b.rekeyed, 2);
    send_msg(&a, &b, 2, "epoch 2", NULL);
    CHECK(got(&b, "epoch 2"));

    /* close: the peer learns it */
    secureio_engine_close(a.e, a.now);
    pump(&a, &b, a.now);
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_CLOSED);
    CHECK_EQ_INT(a.closed, 1);
    CHECK_EQ_INT(a.closed_err, SECUREIO_OK);
    CHECK_EQ_INT(b.closed, 1);
    CHECK_EQ_INT(b.closed_err, SECUREIO_ERR_CLOSED);
    free_pair(&a, &b);
}

static uint8_t other_key[32];
static secureio_keylist *list;

static void pin_other(int i, secureio_config *cfg)
{
    if (i == 1)
        cfg->peer_key = other_key;
}

static void use_list(int i, secureio_config *cfg)
{
    if (i == 1) {
        cfg->peer_key = NULL;
        cfg->allowed_peers = list;
    }
}

/* Who may be the peer: a key list without a's key refuses it (the refusal
 * carries a's verified key), a pin of someone else never connects, an
 * empty list refuses, a list with a's key and accept_any_peer accept. */
static void test_authorization(void)
{
    peer a, b;
    uint8_t pk[32];
    memset(other_key, 0x42, sizeof other_key);
    /* a list of someone else: a's proof is refused, b never establishes */
    CHECK_EQ_INT(secureio_keylist_new(&list), SECUREIO_OK);
    CHECK_EQ_INT(secureio_keylist_add(list, other_key), SECUREIO_OK);
    make_pair(&a, &b, use_list);
    CHECK(!connect_pair(&a, &b));
    CHECK_EQ_INT(b.established, 0);
    CHECK(b.drops[SECUREIO_DROP_PEER] >= 1);
    CHECK(b.refused_has_key);
    CHECK_MEM(b.refused_key, a.pk, 32);
    CHECK_EQ_INT(secureio_engine_peer_key(b.e, pk), SECUREIO_ERR_STATE);
    /* a, never confirmed, gives up at the handshake timeout */
    run(&a, &b, T0 + 61000 * MS);
    CHECK_EQ_INT(a.closed_err, SECUREIO_ERR_TIMEOUT);
    CHECK_EQ_INT(b.established, 0);
    free_pair(&a, &b);
    secureio_keylist_free(list);

    /* b pins someone else */
    make_pair(&a, &b, pin_other);
    CHECK(!connect_pair(&a, &b));
    CHECK_EQ_INT(b.established, 0);
    free_pair(&a, &b);

    /* an empty list, then a list with a's key */
    CHECK_EQ_INT(secureio_keylist_new(&list), SECUREIO_OK);
    make_pair(&a, &b, use_list);
    CHECK(!connect_pair(&a, &b));
    free_pair(&a, &b);
    make_pair(&a, &b, use_list);
    CHECK_EQ_INT(secureio_keylist_add(list, a.pk), SECUREIO_OK);
    CHECK(connect_pair(&a, &b));
    CHECK_EQ_INT(secureio_engine_peer_key(b.e, pk), SECUREIO_OK);
    CHECK_MEM(pk, a.pk, 32);
    free_pair(&a, &b);
    secureio_keylist_free(list);
    list = NULL;

    /* anyone, explicitly */
    make_pair(&a, &b, resp_any);
    CHECK(connect_pair(&a, &b));
    CHECK_EQ_INT(secureio_engine_peer_key(b.e, pk), SECUREIO_OK);
    CHECK_MEM(pk, a.pk, 32);
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

/* The same PSK connects; only one side with one disagrees in the options;
 * different PSKs give different AUTH keys (flaw 12: mixed by the KDF). */
static void test_psk(void)
{
    peer a, b;
    psk_case = 0;
    make_pair(&a, &b, set_psk);
    CHECK(connect_pair(&a, &b));
    send_msg(&a, &b, 0, "with a psk", NULL);
    CHECK(got(&b, "with a psk"));
    free_pair(&a, &b);
    psk_case = 1;
    make_pair(&a, &b, set_psk);
    CHECK(!connect_pair(&a, &b));
    CHECK(a.drops[SECUREIO_DROP_OPTIONS] + b.drops[SECUREIO_DROP_OPTIONS] >= 1);
    free_pair(&a, &b);
    psk_case = 2;
    make_pair(&a, &b, set_psk);
    CHECK(!connect_pair(&a, &b));
    CHECK(a.drops[SECUREIO_DROP_AUTH] + b.drops[SECUREIO_DROP_AUTH] >= 1);
    CHECK_EQ_INT(a.established + b.established, 0);
    free_pair(&a, &b);
    psk_case = 0;
}

/* Each refused configuration names its field in the detail (engine.h's
 * check order), the drop reasons have their phrases, and misuse of a live
 * engine is refused. */
static void test_config(void)
{
    peer a, b;
    secureio_engine *e = NULL;
    secureio_config cfg = SECUREIO_CONFIG_INIT;
    make_pair(&a, &b, NULL);
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
    cfg.max_packet_len = SECUREIO_MIN_PACKET_LEN - 1;
    REFUSED("cfg->max_packet_len");
    cfg.max_packet_len = SECUREIO_MAX_PACKET_LEN + 1;
    REFUSED("cfg->max_packet_len");
    cfg.max_packet_len = 0;
    cfg.version = 1; /* the first engine's configuration */
    REFUSED("cfg->version");
    cfg.version = SECUREIO_CONFIG_VERSION;
    CHECK(e == NULL);
    CHECK_EQ_INT(secureio_engine_new(&e, &cfg), SECUREIO_OK);
    CHECK_EQ_STR(secureio_error_detail(), ""); /* cleared by a success */
    secureio_engine_free(e);
    e = NULL;
    cfg.max_packet_len = SECUREIO_MIN_PACKET_LEN; /* both ends of the range */
    CHECK_EQ_INT(secureio_engine_new(&e, &cfg), SECUREIO_OK);
    secureio_engine_free(e);
    cfg.max_packet_len = SECUREIO_MAX_PACKET_LEN;
    CHECK_EQ_INT(secureio_engine_new(&e, &cfg), SECUREIO_OK);
    secureio_engine_free(e);
    e = NULL;
    cfg.max_packet_len = 0;
#undef REFUSED
    /* every drop reason has its phrase */
    for (int r = SECUREIO_DROP_MALFORMED; r < SECUREIO_DROP_REASON_COUNT; r++)
        CHECK(strcmp(secureio_drop_reason_str(r), "unknown reason") != 0);
    CHECK_EQ_STR(secureio_drop_reason_str(0), "unknown reason");
    CHECK_EQ_STR(secureio_drop_reason_str(SECUREIO_DROP_REASON_COUNT), "unknown reason");
    CHECK(strcmp(secureio_strerror(SECUREIO_ERR_AGAIN), "unknown error") != 0);
    CHECK(strcmp(secureio_strerror(SECUREIO_ERR_KEY_EXPIRED), "unknown error") != 0);
    CHECK(strcmp(secureio_strerror(SECUREIO_ERR_PERMISSIONS), "unknown error") != 0);
    CHECK(strcmp(secureio_strerror(SECUREIO_ERR_TRANSPORT), "unknown error") != 0);
    /* misuse of a live engine */
    uint8_t pkt[PKT];
    size_t n = sizeof pkt;
    CHECK_EQ_INT(secureio_engine_recv(a.e, pkt, 10, 0), SECUREIO_ERR_STATE); /* not started */
    CHECK_EQ_INT(secureio_engine_write(a.e, 0, pkt, 1, 0, NULL, NULL, 0), SECUREIO_ERR_STATE);
    CHECK_EQ_INT(secureio_engine_poll(a.e, pkt, &n, 0), SECUREIO_OK);
    CHECK_EQ_UINT(n, 0);
    n = 10;
    CHECK_EQ_INT(secureio_engine_poll(a.e, pkt, &n, 0), SECUREIO_ERR_BUFFER);
    CHECK_EQ_UINT(secureio_engine_deadline(a.e), UINT64_MAX);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_ERR_STATE);
    CHECK_EQ_INT(secureio_engine_peer_key(a.e, pkt), SECUREIO_ERR_STATE);
    CHECK_EQ_INT(secureio_engine_rekey(a.e, T0), SECUREIO_ERR_STATE);
    CHECK_EQ_INT(secureio_engine_write(a.e, 0, NULL, 1, 0, NULL, NULL, T0), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(secureio_engine_write(a.e, 0, pkt, 1, 0x4, NULL, NULL, T0), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(secureio_engine_write(NULL, 0, pkt, 1, 0, NULL, NULL, T0), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(secureio_engine_poll(a.e, NULL, &n, T0), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(secureio_engine_recv(NULL, pkt, 1, T0), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(secureio_engine_tick(NULL, T0), SECUREIO_ERR_ARG);
    CHECK(secureio_engine_state(NULL) == SECUREIO_STATE_CLOSED);
    free_pair(&a, &b);
}

/* Regression 15: the new limits are checked, each named in the detail. */
static void test_config_limits(void)
{
    peer a, b;
    secureio_engine *e = NULL;
    make_pair(&a, &b, NULL);
    secureio_config cfg = SECUREIO_CONFIG_INIT;
    cfg.identity = a.id;
    cfg.peer_key = b.pk;
#define REFUSED(what)                                                                              \
    do {                                                                                           \
        CHECK_EQ_INT(secureio_engine_new(&e, &cfg), SECUREIO_ERR_ARG);                             \
        if (!CHECK(strstr(secureio_error_detail(), what) != NULL))                                 \
            fprintf(stderr, "  detail: '%s', expected '%s'\n", secureio_error_detail(), what);     \
    } while (0)
#define ACCEPTED()                                                                                 \
    do {                                                                                           \
        CHECK_EQ_INT(secureio_engine_new(&e, &cfg), SECUREIO_OK);                                  \
        secureio_engine_free(e);                                                                   \
        e = NULL;                                                                                  \
    } while (0)
    cfg.max_message_len = (uint64_t)SECUREIO_MAX_MESSAGE_LEN + 1;
    cfg.max_reassembly_bytes = UINT64_MAX;
    REFUSED("cfg->max_message_len");
    cfg.max_message_len = SECUREIO_MAX_MESSAGE_LEN;
    ACCEPTED();
    cfg.max_message_len = 2000;
    cfg.max_reassembly_bytes = 1999;
    REFUSED("cfg->max_reassembly_bytes");
    cfg.max_reassembly_bytes = 2000;
    ACCEPTED();
    cfg.max_message_len = 0; /* 16 MiB */
    cfg.max_reassembly_bytes = (uint64_t)SECUREIO_DEFAULT_MAX_MESSAGE_LEN - 1;
    REFUSED("cfg->max_reassembly_bytes");
    cfg.max_reassembly_bytes = 0;
    cfg.rekey_interval_ms = 1000;
    cfg.key_lifetime_ms = 1000;
    REFUSED("cfg->key_lifetime_ms");
    cfg.key_lifetime_ms = 999;
    REFUSED("cfg->key_lifetime_ms");
    cfg.key_lifetime_ms = 1001;
    ACCEPTED();
    cfg.rekey_interval_ms = 0; /* 60 s */
    cfg.key_lifetime_ms = 60000;
    REFUSED("cfg->key_lifetime_ms");
    cfg.key_lifetime_ms = 0;
    ACCEPTED();
#undef REFUSED
#undef ACCEPTED
    free_pair(&a, &b);
}

/* The states and what each allows: writes before start are refused, writes
 * during the handshake wait for it, and every change is an event. */
static void test_states(void)
{
    peer a, b;
    uint8_t pkt[PKT];
    make_pair(&a, &b, resp_any);
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_NEW);
    CHECK_EQ_INT(secureio_engine_write(a.e, 0, (const uint8_t *)"x", 1, 0, NULL, NULL, T0),
                 SECUREIO_ERR_STATE);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_HANDSHAKE);
    CHECK(a.n_states == 1 && a.states[0] == SECUREIO_STATE_HANDSHAKE);
    /* queued during the handshake, sent once it is done */
    CHECK_EQ_INT(secureio_engine_write(a.e, 4, (const uint8_t *)"early one", 9, SECUREIO_WRITE_COPY,
                                       NULL, NULL, T0),
                 SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_write(a.e, 4, (const uint8_t *)"early two", 9,
                                       SECUREIO_WRITE_COPY | SECUREIO_WRITE_SYNC, NULL, NULL, T0),
                 SECUREIO_OK);
    CHECK_EQ_UINT(stats_of(&a).queued_messages, 2);
    CHECK_EQ_UINT(stats_of(&a).queued_bytes, 18);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    pump(&a, &b, T0);
    CHECK(both_established(&a, &b));
    CHECK_EQ_UINT(b.messages, 2);
    CHECK(msg_is(&b, 0, 4, (const uint8_t *)"early one", 9));
    CHECK(msg_is(&b, 1, 4, (const uint8_t *)"early two", 9));
    CHECK_EQ_UINT(stats_of(&a).queued_messages, 0);
    /* datagrams: HANDSHAKE, NEGOTIATING (the first path size search), ESTABLISHED */
    CHECK_EQ_UINT(a.n_states, 3);
    CHECK(a.states[1] == SECUREIO_STATE_NEGOTIATING && a.states[2] == SECUREIO_STATE_ESTABLISHED);
    CHECK_EQ_UINT(b.n_states, 3);
    CHECK(b.states[1] == SECUREIO_STATE_NEGOTIATING && b.states[2] == SECUREIO_STATE_ESTABLISHED);
    /* a close with nothing queued is immediate */
    secureio_engine_close(a.e, T0);
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_CLOSED);
    CHECK(a.states[a.n_states - 1] == SECUREIO_STATE_CLOSED);
    CHECK(!has_state(&a, SECUREIO_STATE_CLOSING));
    CHECK_EQ_INT(secureio_engine_write(a.e, 0, (const uint8_t *)"x", 1, 0, NULL, NULL, T0),
                 SECUREIO_ERR_CLOSED);
    CHECK_EQ_INT(secureio_engine_recv(a.e, pkt, 10, T0), SECUREIO_ERR_CLOSED);
    CHECK_EQ_INT(secureio_engine_rekey(a.e, T0), SECUREIO_ERR_CLOSED);
    CHECK_EQ_INT(secureio_engine_tick(a.e, T0), SECUREIO_OK);
    CHECK_EQ_UINT(secureio_engine_deadline(a.e), 0); /* its CLOSE record waits */
    pump(&a, &b, T0);
    CHECK_EQ_UINT(secureio_engine_deadline(a.e), UINT64_MAX);
    CHECK_EQ_INT(b.closed_err, SECUREIO_ERR_CLOSED);
    secureio_engine_close(a.e, T0); /* again: nothing */
    secureio_engine_close_now(a.e, T0);
    CHECK_EQ_INT(a.closed, 1);
    CHECK_EQ_UINT(poll1(&a, pkt, sizeof pkt), 0);
    free_pair(&a, &b);
}

/* -------------------------------------- bad input, docs/ORIGINAL.md */

/* flaws 1, 2, 6, 14, 15: nothing unauthenticated reaches the application,
 * moves the replay window or closes the session; every packet handed in
 * is counted. */
static void test_unauthenticated_input(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    uint8_t pkt[PKT], legit[PKT];
    size_t before = b.messages;
    secureio_stats s0 = stats_of(&b);
    /* random packets of every type byte and many lengths, and an empty one */
    for (int i = 0; i < 2000; i++) {
        size_t len = 1 + (size_t)randombytes_uniform(1600);
        randombytes_buf(pkt, len);
        pkt[0] = (uint8_t)(i % 7);
        feed(&b, pkt, len);
    }
    feed(&b, pkt, 0);
    secureio_stats s1 = stats_of(&b);
    CHECK_EQ_UINT(s1.packets_in - s0.packets_in, 2001);
    CHECK_EQ_UINT(b.messages, before);
    CHECK(b.drops[SECUREIO_DROP_MALFORMED] > 0 && b.drops[SECUREIO_DROP_NOT_FOR_US] > 0);
    /* a forged record for b's index claiming the last counter (Go's
     * replay-window poisoning) */
    size_t n = send_msg(&a, &b, 3, "a real one", legit);
    memcpy(pkt, legit, SIO_RECORD_HEADER_LEN);
    util_store64_le(pkt + 6, UINT64_MAX);
    randombytes_buf(pkt + SIO_RECORD_HEADER_LEN, 64);
    uint64_t auth = b.drops[SECUREIO_DROP_AUTH];
    feed(&b, pkt, SIO_RECORD_HEADER_LEN + 64);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_AUTH], auth + 1);
    /* ... and for another index */
    util_store32_le(pkt + 2, util_load32_le(legit + 2) ^ 1);
    uint64_t nfu = b.drops[SECUREIO_DROP_NOT_FOR_US];
    feed(&b, pkt, SIO_RECORD_HEADER_LEN + 64);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_NOT_FOR_US], nfu + 1);
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    /* the next real message still arrives */
    n = send_msg(&a, &b, 3, "still here", legit);
    CHECK(got(&b, "still here"));
    /* every bit of a real record, flipped (header included): dropped */
    size_t delivered = b.messages;
    n = send_msg(&a, &b, 3, "a second one", legit);
    CHECK_EQ_UINT(b.messages, delivered + 1);
    if (!CHECK(n > 0 && n <= PKT))
        n = 1;
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
    send_msg(&a, &b, 3, "and another", NULL);
    CHECK(got(&b, "and another"));
    free_pair(&a, &b);
}

/* flaw 8: the replay window remembers across large jumps. */
static void test_replay(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    static uint8_t saved[4][PKT];
    size_t saved_len[4] = {0};
    for (int i = 0; i < 9000; i++) {
        uint8_t pkt[PKT];
        int k = i == 5 ? 0 : i == 100 ? 1 : i == 8990 ? 2 : i == 8999 ? 3 : -1;
        size_t n = send_msg(&a, &b, 0, "m", pkt);
        if (k >= 0) {
            memcpy(saved[k], pkt, n);
            saved_len[k] = n;
        }
    }
    CHECK_EQ_UINT(b.messages, 9000);
    size_t delivered = b.messages;
    uint64_t replays = b.drops[SECUREIO_DROP_REPLAY];
    for (int k = 0; k < 4; k++)
        feed(&b, saved[k], saved_len[k]);
    CHECK_EQ_UINT(b.messages, delivered);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_REPLAY], replays + 4);
    free_pair(&a, &b);
}

/* Sends fillers from whichever side is behind until the next records of
 * both have the same counter. */
static void align_counters(peer *a, peer *b)
{
    uint8_t ra[PKT], rb[PKT];
    send_msg(a, b, 0, "align", ra);
    send_msg(b, a, 0, "align", rb);
    while (rec_counter(ra) != rec_counter(rb)) {
        if (rec_counter(ra) < rec_counter(rb))
            send_msg(a, b, 0, "align", ra);
        else
            send_msg(b, a, 0, "align", rb);
    }
}

/* flaw 10: each direction has its own key: the same message under the same
 * epoch and counter encrypts differently each way. */
static void test_direction_keys(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    uint8_t p1[PKT], p2[PKT];
    align_counters(&a, &b);
    size_t n1 = send_msg(&a, &b, 0, "same message", p1);
    size_t n2 = send_msg(&b, &a, 0, "same message", p2);
    CHECK_EQ_UINT(n1, n2);
    CHECK_EQ_UINT(rec_counter(p1), rec_counter(p2));
    CHECK_EQ_UINT(p1[1], p2[1]); /* epoch */
    CHECK(memcmp(p1 + SIO_RECORD_HEADER_LEN, p2 + SIO_RECORD_HEADER_LEN,
                 n1 - SIO_RECORD_HEADER_LEN - SECUREIO_TAG_LEN) != 0);
    free_pair(&a, &b);
}

/* flaw 13: no static key. Two sessions of the same identities and PSK
 * seal the same message at the same counter under different keys. */
static void test_no_static_key(void)
{
    uint8_t rec[2][PKT];
    size_t n[2];
    psk_case = 0;
    for (int run_ = 0; run_ < 2; run_++) {
        peer a, b;
        uint8_t r[PKT];
        det_state = 100 + (uint64_t)run_; /* fresh randomness per session */
        make_pair(&a, &b, set_psk);
        CHECK(connect_pair(&a, &b));
        do
            n[run_] = send_msg(&a, &b, 0, "same message", r);
        while (rec_counter(r) < 10);
        CHECK_EQ_UINT(rec_counter(r), 10);
        memcpy(rec[run_], r, n[run_]);
        free_pair(&a, &b);
    }
    CHECK_EQ_UINT(n[0], n[1]);
    CHECK(memcmp(rec[0] + SIO_RECORD_HEADER_LEN, rec[1] + SIO_RECORD_HEADER_LEN,
                 n[0] - SIO_RECORD_HEADER_LEN - SECUREIO_TAG_LEN) != 0);
}

/* flaw 4: low-order X25519 points are refused, without a crash, even in a
 * hello that knows the responder's key. */
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
    make_pair(&a, &b, resp_any);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fake_hello f;
        uint8_t out[PKT];
        make_hello(&f, NULL);
        memcpy(f.h.e, bad[i], 32);
        sio_hs_encode(&f.h, f.pkt);
        uint8_t mk[32];
        sio_mac_key(mk, b.pk);
        sio_hs_mac_put(f.pkt, mk);
        uint64_t auth_drops = b.drops[SECUREIO_DROP_AUTH];
        feed(&b, f.pkt, HS);
        CHECK_EQ_UINT(b.drops[SECUREIO_DROP_AUTH], auth_drops + 1);
        CHECK_EQ_UINT(poll1(&b, out, sizeof out), 0); /* no answer */
    }
    free_pair(&a, &b);
}

/* flaw 11: old handshake packets replayed into the session they made, or
 * into new engines of the same identities, make nothing. */
struct capture {
    uint8_t pkt[16][HS];
    int from[16];
    size_t n;
};

static int capture_hs(void *arg, int from, const uint8_t *pkt, size_t len)
{
    struct capture *c = arg;
    if (len == HS && pkt[0] != SIO_PKT_RECORD && c->n < 16) {
        c->from[c->n] = from;
        memcpy(c->pkt[c->n++], pkt, len);
    }
    return 1;
}

static void test_handshake_replay(void)
{
    peer a, b, c, d;
    static struct capture cap;
    memset(&cap, 0, sizeof cap);
    make_pair(&a, &b, NULL);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    pump_f(&a, &b, T0, capture_hs, &cap);
    CHECK(both_established(&a, &b));
    CHECK(cap.n >= 3);
    /* into the established session: no second session, no closure */
    for (size_t i = 0; i < cap.n; i++) {
        feed(&a, cap.pkt[i], HS);
        feed(&b, cap.pkt[i], HS);
    }
    pump(&a, &b, T0);
    CHECK_EQ_INT(a.established, 1);
    CHECK_EQ_INT(b.established, 1);
    send_msg(&a, &b, 0, "unaffected", NULL);
    CHECK(got(&b, "unaffected"));
    /* into new engines of the same identities: nothing is established */
    make_pair(&c, &d, NULL);
    CHECK_EQ_INT(secureio_engine_start(c.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(d.e, T0), SECUREIO_OK);
    for (size_t i = 0; i < cap.n; i++) {
        feed(&c, cap.pkt[i], HS);
        feed(&d, cap.pkt[i], HS);
    }
    CHECK_EQ_INT(c.established, 0);
    CHECK_EQ_INT(d.established, 0);
    free_pair(&c, &d);
    free_pair(&a, &b);
}

/* A peer restarts; a copy of the first session's AUTH_I (and its records)
 * must not bring the first session back: its keys would seal again from
 * counter 0 (nonce reuse) and its records would be delivered again. */
typedef struct capture_auth {
    uint8_t auth_i[HS];
    int from; /* who sent it: the initiator */
    size_t count;
} capture_auth;

static int capture_auth_i(void *arg, int from, const uint8_t *pkt, size_t len)
{
    capture_auth *c = arg;
    if (len == HS && pkt[0] == SIO_PKT_AUTH_I) {
        memcpy(c->auth_i, pkt, len);
        c->from = from;
        c->count++;
    }
    return 1;
}

static void test_restart_and_stale_auth_i(void)
{
    peer a, b, fresh[2];
    capture_auth cap = {{0}, -1, 0};
    uint8_t old_rec[PKT];
    make_pair(&a, &b, NULL);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    pump_f(&a, &b, T0, capture_auth_i, &cap);
    if (!CHECK(cap.from == 0 || cap.from == 1)) {
        free_pair(&a, &b);
        return;
    }
    peer *ini = cap.from == 0 ? &a : &b, *rsp = cap.from == 0 ? &b : &a;
    size_t n = send_msg(ini, rsp, 0, "first session", old_rec);
    /* the initiator restarts: a new engine with the same identity */
    make_pair(&fresh[0], &fresh[1], NULL);
    peer *again = &fresh[cap.from];
    CHECK_EQ_INT(secureio_engine_start(again->e, T0), SECUREIO_OK);
    pump(again, rsp, T0);
    CHECK(secureio_engine_state(again->e) == SECUREIO_STATE_ESTABLISHED);
    CHECK_EQ_INT(rsp->established, 2);
    /* the first session's AUTH_I and record, replayed */
    uint64_t replays = rsp->drops[SECUREIO_DROP_REPLAY];
    feed(rsp, cap.auth_i, HS);
    CHECK_EQ_INT(rsp->established, 2);
    CHECK_EQ_UINT(rsp->drops[SECUREIO_DROP_REPLAY], replays + 1);
    size_t msgs = rsp->messages;
    feed(rsp, old_rec, n);
    CHECK_EQ_UINT(rsp->messages, msgs);
    /* the restarted peer's session works, both ways */
    send_msg(again, rsp, 0, "second session", NULL);
    CHECK(got(rsp, "second session"));
    send_msg(rsp, again, 0, "to the second", NULL);
    CHECK(got(again, "to the second"));
    free_pair(&fresh[0], &fresh[1]);
    free_pair(&a, &b);
}

/* Copies of the AUTH_I that made a session: only byte-identical ones are
 * answered (with a CONFIRM record), at most once per retransmission
 * interval; look-alikes with the same public nonces and a right mac get
 * nothing (a replay). */
static void test_auth_i_copies(void)
{
    peer a, b;
    capture_auth cap = {{0}, -1, 0};
    make_pair(&a, &b, NULL);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    pump_f(&a, &b, T0, capture_auth_i, &cap);
    if (!CHECK(cap.from == 0 || cap.from == 1)) {
        free_pair(&a, &b);
        return;
    }
    peer *rsp = cap.from == 0 ? &b : &a;
    uint8_t out[PKT], fake[HS], mk[32];
    memcpy(fake, cap.auth_i, sizeof fake);
    randombytes_buf(fake + SIO_HS_HEADER_LEN, SIO_AUTH_CT_LEN); /* same nonces, other ct */
    sio_mac_key(mk, rsp->pk);
    sio_hs_mac_put(fake, mk);
    rsp->now = T0 + 5000 * MS;
    feed(rsp, fake, sizeof fake);
    CHECK_EQ_UINT(poll1(rsp, out, sizeof out), 0);
    feed(rsp, cap.auth_i, HS); /* the real copy: one CONFIRM */
    size_t n = poll1(rsp, out, sizeof out);
    CHECK(n == CTRL_LEN && out[0] == SIO_PKT_RECORD);
    feed(rsp, cap.auth_i, HS); /* again at once: nothing */
    CHECK_EQ_UINT(poll1(rsp, out, sizeof out), 0);
    rsp->now += 1000 * MS; /* a retransmission interval later: one more */
    feed(rsp, cap.auth_i, HS);
    CHECK_EQ_UINT(poll1(rsp, out, sizeof out), CTRL_LEN);
    CHECK_EQ_INT(rsp->established, 1);
    free_pair(&a, &b);
}

/* Once established, a session's peer never changes: another authorized
 * identity (here: anyone) cannot take it over with a new handshake. */
static void test_no_takeover(void)
{
    peer a, b, m;
    make_pair(&a, &b, resp_any); /* b accepts anyone */
    CHECK(connect_pair(&a, &b));
    peer_init(&m, 0x77); /* m: a third identity that pins b */
    peer_engine(&m, 0, b.pk, NULL);
    CHECK_EQ_INT(secureio_engine_start(m.e, T0), SECUREIO_OK);
    uint64_t peer_drops = b.drops[SECUREIO_DROP_PEER];
    pump(&m, &b, T0);
    CHECK_EQ_INT(b.established, 1);
    CHECK(b.drops[SECUREIO_DROP_PEER] > peer_drops);
    CHECK(b.refused_has_key);
    CHECK_MEM(b.refused_key, m.pk, 32);
    uint8_t pk[32];
    CHECK_EQ_INT(secureio_engine_peer_key(b.e, pk), SECUREIO_OK);
    CHECK_MEM(pk, a.pk, 32);
    send_msg(&a, &b, 0, "still a", NULL);
    CHECK(got(&b, "still a"));
    free_peer(&m);
    free_pair(&a, &b);
}

/* A flood of hellos (that know b's key): answers are bounded by the rate
 * limit, the rest get cookies (no DH, no signature, never larger than the
 * question); a hello back with its cookie is answered, a wrong cookie is
 * stale. */
static void test_rate_limit(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    size_t answered = 0, cookies = 0;
    uint8_t cookie_reply[HS], last[HS], mk[32];
    fake_hello f;
    sio_mac_key(mk, b.pk);
    for (int i = 0; i < 500; i++) {
        uint8_t out[PKT];
        make_hello(&f, b.pk);
        feed(&b, f.pkt, HS);
        size_t n = poll1(&b, out, sizeof out);
        if (n > 0) {
            if (out[0] == SIO_PKT_AUTH_R)
                answered++;
            if (out[0] == SIO_PKT_COOKIE) {
                cookies++;
                memcpy(cookie_reply, out, HS);
            }
            CHECK_EQ_UINT(n, HS); /* never more than the question */
        }
    }
    memcpy(last, f.pkt, HS);
    CHECK(answered <= 50); /* the default burst, at one instant */
    CHECK(cookies >= 450); /* the rest got a cookie */
    CHECK_EQ_UINT(stats_of(&b).cookies_sent, cookies);
    /* the last hello, back with its cookie, is answered (its own budget) */
    sio_hs_packet c, h;
    uint8_t out[PKT];
    CHECK_EQ_INT(sio_hs_decode(&c, cookie_reply, HS), 0);
    CHECK_EQ_INT(sio_hs_decode(&h, last, HS), 0);
    CHECK_MEM(c.n, h.n, 32);
    memcpy(h.echo, c.echo, 32);
    sio_hs_encode(&h, last);
    sio_hs_mac_put(last, mk);
    feed(&b, last, HS);
    CHECK_EQ_UINT(poll1(&b, out, sizeof out), HS);
    CHECK(out[0] == SIO_PKT_AUTH_R);
    /* a wrong cookie (another hello: its cookie does not fit) is stale */
    h.e[0] ^= 1;
    sio_hs_encode(&h, last);
    sio_hs_mac_put(last, mk);
    uint64_t stale = b.drops[SECUREIO_DROP_STALE];
    feed(&b, last, HS);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_STALE], stale + 1);
    CHECK_EQ_UINT(poll1(&b, out, sizeof out), 0);
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    free_pair(&a, &b);
}

/* A flood of forged hellos does not keep a real peer from connecting: it
 * gets a cookie and comes back with it. */
static void test_flood_then_connect(void)
{
    peer a, b;
    make_pair(&a, &b, resp_any);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    for (int i = 0; i < 1000; i++) {
        fake_hello f;
        uint8_t out[PKT];
        make_hello(&f, b.pk);
        feed(&b, f.pkt, HS);
        while (poll1(&b, out, sizeof out) > 0)
            ; /* the forger never sees these */
    }
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    pump(&a, &b, T0);
    CHECK(both_established(&a, &b));
    CHECK(stats_of(&b).cookies_sent > 900);
    free_pair(&a, &b);
}

/* -------------------------------------------------------------- streams */

/* Stream transports: the handshake with bytes moved one at a time, a
 * packet split anywhere, the partial packet counted; a length of 0 breaks
 * the framing and closes. */
static void test_stream(void)
{
    peer a, b;
    make_pair(&a, &b, stream_cfg);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    peer *ps[2] = {&a, &b};
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 2; i++) {
            size_t n;
            while ((n = poll1(ps[i], pump_pkt, sizeof pump_pkt)) > 0)
                for (size_t k = 0; k < n; k++)
                    feed(ps[1 - i], pump_pkt + k, 1);
        }
    }
    CHECK(both_established(&a, &b));
    CHECK(!has_state(&a, SECUREIO_STATE_NEGOTIATING) && !has_state(&b, SECUREIO_STATE_NEGOTIATING));
    CHECK_EQ_UINT(stats_of(&a).packet_size, SECUREIO_DEFAULT_STREAM_PACKET_LEN);
    CHECK_EQ_INT(secureio_engine_write(a.e, 5, (const uint8_t *)"streamed", 8, SECUREIO_WRITE_SYNC,
                                       NULL, NULL, T0),
                 SECUREIO_OK);
    size_t n = poll1(&a, pump_pkt, sizeof pump_pkt);
    CHECK_EQ_UINT((size_t)util_load16_be(pump_pkt), n - SECUREIO_STREAM_FRAME_HEADER);
    CHECK_EQ_UINT(n, SECUREIO_STREAM_FRAME_HEADER + SECUREIO_RECORD_OVERHEAD + 3 + 8);
    feed(&b, pump_pkt, 3);
    CHECK_EQ_UINT(stats_of(&b).stream_bytes_buffered, 3);
    CHECK_EQ_UINT(b.messages, 0);
    feed(&b, pump_pkt + 3, n - 3);
    CHECK(got(&b, "streamed") && b.last_channel == 5);
    CHECK_EQ_UINT(stats_of(&b).stream_bytes_buffered, 0);
    /* two packets and the start of a third in one input, the rest later */
    static uint8_t joined[3 * PKT];
    size_t w = 0, cut = 0;
    for (int i = 0; i < 3; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "joined %d", i);
        CHECK_EQ_INT(secureio_engine_write(a.e, 6, (const uint8_t *)msg, strlen(msg),
                                           SECUREIO_WRITE_SYNC | SECUREIO_WRITE_COPY, NULL, NULL,
                                           T0),
                     SECUREIO_OK);
        n = poll1(&a, pump_pkt, sizeof pump_pkt);
        memcpy(joined + w, pump_pkt, n);
        w += n;
        if (i == 1)
            cut = w + 5;
    }
    size_t before = b.messages;
    feed(&b, joined, cut);
    CHECK_EQ_UINT(b.messages, before + 2);
    CHECK_EQ_UINT(stats_of(&b).stream_bytes_buffered, 5);
    feed(&b, joined + cut, w - cut);
    CHECK_EQ_UINT(b.messages, before + 3);
    CHECK(got(&b, "joined 2"));
    /* a frame length of 0 breaks the framing: the session closes */
    static const uint8_t zero[2] = {0, 0};
    CHECK_EQ_INT(secureio_engine_recv(b.e, zero, 2, T0), SECUREIO_ERR_FORMAT);
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_CLOSED);
    CHECK_EQ_INT(b.closed_err, SECUREIO_ERR_FORMAT);
    free_pair(&a, &b);
}

/* ------------------------------------------ determinism, time, counters */

/* The handshake is a pure function of the identities and the random
 * bytes: with a fixed generator it is reproducible (SECUREIO_PRINT_VECTORS
 * prints it, as docs/PROTOCOL.md shows it). */
static int print_vectors(void *arg, int from, const uint8_t *pkt, size_t len)
{
    FILE *f = arg;
    fprintf(f, "%s -> ", from == 0 ? "A" : "B");
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%02x", pkt[i]);
    fprintf(f, "\n");
    return 1;
}

static int hash_packets(void *arg, int from, const uint8_t *pkt, size_t len)
{
    crypto_generichash_state *st = arg;
    uint8_t f = (uint8_t)from;
    crypto_generichash_update(st, &f, 1);
    crypto_generichash_update(st, pkt, len);
    return 1;
}

static void test_deterministic(void)
{
    uint8_t h[2][32];
    for (int run_ = 0; run_ < 2; run_++) {
        peer a, b;
        crypto_generichash_state st;
        det_state = 7;
        make_pair(&a, &b, NULL);
        crypto_generichash_init(&st, NULL, 0, 32);
        CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
        pump_f(&a, &b, T0, hash_packets, &st); /* A's hello only: B is not started */
        CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
        /* (A's hello reached b before it started: whichever hello wins,
         * the timers finish the handshake) */
        run_f(&a, &b, T0 + 3000 * MS, hash_packets, &st);
        CHECK(both_established(&a, &b));
        CHECK_EQ_INT(secureio_engine_write(a.e, 1, (const uint8_t *)"hello", 5, SECUREIO_WRITE_SYNC,
                                           NULL, NULL, T0),
                     SECUREIO_OK);
        pump_f(&a, &b, T0, hash_packets, &st);
        crypto_generichash_final(&st, h[run_], 32);
        free_pair(&a, &b);
    }
    CHECK_MEM(h[0], h[1], 32);
    if (getenv("SECUREIO_PRINT_VECTORS") != NULL) {
        peer a, b;
        det_state = 7;
        make_pair(&a, &b, NULL);
        CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
        CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
        pump_f(&a, &b, T0, print_vectors, stdout);
        CHECK_EQ_INT(secureio_engine_write(a.e, 1, (const uint8_t *)"hello", 5, SECUREIO_WRITE_SYNC,
                                           NULL, NULL, T0),
                     SECUREIO_OK);
        pump_f(&a, &b, T0, print_vectors, stdout);
        free_pair(&a, &b);
    }
}

/* A clock that starts just below UINT64_MAX: the timers saturate. */
static void test_clock_edge(void)
{
    peer a, b;
    make_pair(&a, &b, NULL);
    a.now = b.now = UINT64_MAX - 5000 * MS;
    CHECK(connect_pair(&a, &b));
    send_msg(&a, &b, 0, "late in time", NULL);
    CHECK(got(&b, "late in time"));
    CHECK(secureio_engine_deadline(a.e) >= a.now);
    CHECK_EQ_INT(secureio_engine_tick(a.e, UINT64_MAX - 1), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_tick(b.e, UINT64_MAX - 1), SECUREIO_OK);
    CHECK(both_established(&a, &b));
    a.now = b.now = UINT64_MAX - 1;
    send_msg(&b, &a, 0, "at the end of time", NULL);
    CHECK(got(&a, "at the end of time"));
    free_pair(&a, &b);
}

/* An initiator whose AUTH_I never gets through is not left half-open: it
 * sends it again (1 s, doubling), starts over with a new hello after 4
 * unanswered AUTH_Is, and the handshake timeout covers the confirmation
 * too. */
static int drop_auth_i(void *arg, int from, const uint8_t *pkt, size_t len)
{
    size_t *count = arg;
    (void)from;
    if (len == HS && pkt[0] == SIO_PKT_AUTH_I) {
        (*count)++;
        return 0;
    }
    return 1;
}

static void test_unconfirmed_timeout(void)
{
    peer a, b;
    size_t auth_i = 0;
    make_pair(&a, &b, resp_any);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    run_f(&a, &b, T0 + 59999 * MS, drop_auth_i, &auth_i);
    CHECK_EQ_INT(a.closed, 0);
    CHECK(secureio_engine_state(a.e) != SECUREIO_STATE_ESTABLISHED);
    /* at 0, 1, 3, 7 s; a new hello at 15 s, and its AUTH_I at 15, 16, 18,
     * 22 s; again at 30 and 45 s */
    CHECK_EQ_UINT(auth_i, 16);
    secureio_stats st = stats_of(&a);
    CHECK_EQ_UINT(st.handshakes, 4); /* four sessions begun, none confirmed */
    run_f(&a, &b, T0 + 61000 * MS, drop_auth_i, &auth_i);
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_CLOSED);
    CHECK_EQ_INT(a.closed_err, SECUREIO_ERR_TIMEOUT);
    CHECK_EQ_UINT(a.closed_at, T0 + 60000 * MS);
    CHECK_EQ_INT(b.established, 0);
    free_pair(&a, &b);
}

/* Every packet of a handshake is SIO_HS_PACKET_LEN bytes; on a clean link
 * each packet sent is a packet received, and the counters agree. */
static int check_hs_len(void *arg, int from, const uint8_t *pkt, size_t len)
{
    size_t *bad = arg;
    (void)from;
    if (pkt[0] != SIO_PKT_RECORD && len != HS)
        (*bad)++;
    return 1;
}

static void test_stats(void)
{
    peer a, b;
    size_t bad = 0;
    make_pair(&a, &b, NULL);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    pump_f(&a, &b, T0, check_hs_len, &bad);
    CHECK(both_established(&a, &b));
    CHECK_EQ_UINT(bad, 0);
    for (int i = 0; i < 20; i++) {
        send_msg(&a, &b, 1, "counted", NULL);
        send_msg(&b, &a, 1, "counted too", NULL);
    }
    pump(&a, &b, T0);
    secureio_stats sa = stats_of(&a), sb = stats_of(&b);
    CHECK_EQ_UINT(sa.packets_out, sb.packets_in);
    CHECK_EQ_UINT(sb.packets_out, sa.packets_in);
    CHECK_EQ_UINT(sa.bytes_out, sb.bytes_in);
    CHECK_EQ_UINT(sb.bytes_out, sa.bytes_in);
    CHECK_EQ_UINT(sa.messages_out, 20);
    CHECK_EQ_UINT(sb.messages_in, 20);
    CHECK_EQ_UINT(sb.messages_out, 20);
    CHECK_EQ_UINT(sa.messages_in, 20);
    CHECK_EQ_UINT(sa.handshakes, 1);
    CHECK_EQ_UINT(sb.handshakes, 1);
    for (int k = 0; k < SECUREIO_DROP_REASON_COUNT; k++)
        CHECK_EQ_UINT(sa.dropped[k] + sb.dropped[k], 0);
    free_pair(&a, &b);
}

/* --------------------------------------------------------------- rekeys */

/* Drops the k-th control record (counted from when it is armed). */
typedef struct drop_ctrl {
    size_t k, seen, dropped;
    size_t len;
} drop_ctrl;

static int drop_ctrl_filter(void *arg, int from, const uint8_t *pkt, size_t len)
{
    drop_ctrl *d = arg;
    (void)from;
    (void)pkt;
    if (len == d->len && d->seen++ == d->k) {
        d->dropped++;
        return 0;
    }
    return 1;
}

/* A rekey survives the loss of any one of its records (REKEY_INIT,
 * REKEY_RESP, CONFIRM with ASK, CONFIRM): retransmissions finish it, no
 * message is lost and the session goes on. Crossing rekeys make one. */
static void test_rekey_under_loss(void)
{
    for (size_t k = 0; k < 4; k++) {
        peer a, b;
        drop_ctrl d = {k, 0, 0, CTRL_LEN};
        make_pair(&a, &b, NULL);
        CHECK(connect_pair(&a, &b));
        CHECK_EQ_INT(secureio_engine_rekey(a.e, a.now), SECUREIO_OK);
        pump_f(&a, &b, a.now, drop_ctrl_filter, &d);
        CHECK_EQ_UINT(d.dropped, 1);
        uint64_t t = a.now;
        for (int i = 0; i < 50; i++) {
            t += 100 * MS;
            run(&a, &b, t);
            send_msg(&a, &b, 1, "a to b", NULL);
            send_msg(&b, &a, 1, "b to a", NULL);
        }
        CHECK_EQ_INT(a.rekeyed, 1);
        CHECK_EQ_INT(b.rekeyed, 1);
        CHECK_EQ_UINT(a.messages, 50);
        CHECK_EQ_UINT(b.messages, 50);
        CHECK(both_established(&a, &b));
        CHECK_EQ_INT(secureio_engine_rekey(b.e, t), SECUREIO_OK); /* and the next one */
        pump(&a, &b, t);
        CHECK_EQ_INT(a.rekeyed, 2);
        CHECK_EQ_INT(b.rekeyed, 2);
        free_pair(&a, &b);
    }
    /* both start one at the same instant */
    peer a, b;
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    CHECK_EQ_INT(secureio_engine_rekey(a.e, a.now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_rekey(b.e, b.now), SECUREIO_OK);
    pump(&a, &b, a.now);
    CHECK_EQ_INT(a.rekeyed, 1);
    CHECK_EQ_INT(b.rekeyed, 1);
    send_msg(&a, &b, 1, "after crossing rekeys", NULL);
    CHECK(got(&b, "after crossing rekeys"));
    send_msg(&b, &a, 1, "and back", NULL);
    CHECK(got(&a, "and back"));
    run(&a, &b, a.now + 30000 * MS);
    CHECK(both_established(&a, &b));
    free_pair(&a, &b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    det_state = 1;
    test_handshake_and_messages();
    test_authorization();
    test_psk();
    test_config();
    test_config_limits();
    test_states();
    test_unauthenticated_input();
    test_replay();
    test_direction_keys();
    test_no_static_key();
    test_low_order_points();
    test_handshake_replay();
    test_restart_and_stale_auth_i();
    test_auth_i_copies();
    test_no_takeover();
    test_rate_limit();
    test_flood_then_connect();
    test_stream();
    test_deterministic();
    test_clock_edge();
    test_unconfirmed_timeout();
    test_stats();
    test_rekey_under_loss();
    CHECK_EQ_UINT(stuck_deadlines, 0);
    return test_summary("engine");
}
