/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secureio session engine (engine II): the attacks and failures the
 * first engine's design suffers, numbered as in the engine II issue, each
 * with its regression test (tests/support/engine_pair.h drives the engines
 * and forges handshake packets). It proves that:
 *
 *   1. messages written as soon as the initiator is established are never
 *      lost, even when they overtake the AUTH_I (datagrams and streams);
 *   2. an attacker that drops every control record while data flows cannot
 *      keep old keys in use: they expire at their lifetime; and control
 *      records all have one size, so there is none to pick by its length;
 *   3. two engines of one identity never make a session, and a responder
 *      refuses an initiator that proves the responder's own identity;
 *   4. forged AUTH_Rs and AUTH_Is, and hellos of the attacker's own that
 *      spend the responder's cache and AUTH_I budget, do not keep the real
 *      handshake from finishing at once;
 *   5. a hello that does not prove it knows the responder's key gets no
 *      answer at all, and no answer shows the key;
 *   6. several hellos before one poll are all answered, in order, up to a
 *      bound; the rest are dropped and counted.
 *
 * 7 to 14 are in test_engine_messages.c, 15 in test_engine.c.
 */
#include <secureio/engine.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_pair.h"
#include "secureio/handshake.h"
#include "secureio/responder.h"
#include "secureio/wire.h"
#include "test.h"

/* -------------------------------------------- 1. first messages not lost */

/* Writes message number p->written (burst_size bytes of pattern
 * p->written) on channel 3, copied. */
static void write_next(peer *p)
{
    static uint8_t buf[4096];
    fill(buf, (size_t)p->burst_size, (uint32_t)p->written);
    p->written++;
    CHECK_EQ_INT(secureio_engine_write(p->e, 3, buf, (size_t)p->burst_size, SECUREIO_WRITE_COPY,
                                       NULL, NULL, p->now),
                 SECUREIO_OK);
}

/* The ESTABLISHED hook: burst more messages, at once. */
static void write_burst(peer *p)
{
    for (int i = 0; i < p->burst; i++)
        write_next(p);
}

/* 1 if p's messages from `first` on are the count messages of a burst
 * (patterns 0 .. count-1 on channel 3), in order, or (ordered 0) each
 * exactly once in any order. */
static int got_burst(const peer *p, size_t first, int count, size_t size, int ordered)
{
    static uint8_t buf[4096];
    if (p->messages != first + (size_t)count) {
        fprintf(stderr, "  got %zu messages, expected %zu\n", p->messages, first + (size_t)count);
        return 0;
    }
    for (int i = 0; i < count; i++) {
        fill(buf, size, (uint32_t)i);
        if (ordered) {
            if (!msg_is(p, first + (size_t)i, 3, buf, size))
                return 0;
            continue;
        }
        int seen = 0;
        for (int k = 0; k < count; k++)
            seen += msg_is(p, first + (size_t)k, 3, buf, size);
        if (seen != 1)
            return 0;
    }
    return 1;
}

/* Both sides write from inside their ESTABLISHED event; the initiator
 * also writes during the handshake and right after the AUTH_R, before its
 * next poll. */
static void first_messages_setup(peer *a, peer *b, adjust_fn adjust)
{
    make_pair(a, b, adjust);
    a->on_established = b->on_established = write_burst;
    a->burst = 10;
    b->burst = 3;
    a->burst_size = b->burst_size = 500;
    CHECK_EQ_INT(secureio_engine_start(a->e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b->e, T0), SECUREIO_OK);
    for (int i = 0; i < 10; i++)
        write_next(a); /* queued: the handshake has not begun */
    CHECK(secureio_engine_state(a->e) == SECUREIO_STATE_HANDSHAKE);
    size_t pre = adjust == stream_resp_any ? SECUREIO_STREAM_FRAME_HEADER : 0;
    size_t n = poll1(a, pump_pkt, sizeof pump_pkt);
    CHECK(n == HS + pre && pump_pkt[pre] == SIO_PKT_HELLO);
    feed(b, pump_pkt, n);
    n = poll1(b, pump_pkt, sizeof pump_pkt);
    CHECK(n == HS + pre && pump_pkt[pre] == SIO_PKT_AUTH_R);
    feed(a, pump_pkt, n); /* a has the session keys now */
    write_next(a);        /* and writes before its next poll */
    write_next(a);
    a->now = b->now = T0 + 100; /* past the send delay */
}

/* Datagrams: the initiator sends its AUTH_I and then at most 4 records
 * before the responder confirms (it has 6 records' worth). The records
 * reach the responder before the AUTH_I (in order, or reversed): it keeps
 * them and opens them once the AUTH_I made the session; the rest follow
 * the confirmation. Nothing is lost, nothing comes twice. */
static void first_messages_datagram(int reverse)
{
    peer a, b;
    store held = {0};
    first_messages_setup(&a, &b, resp_any);
    drain(&a, 0, &held);
    if (!CHECK(held.n >= 2 && held.p[0].len == HS && held.p[0].data[0] == SIO_PKT_AUTH_I)) {
        store_free(&held);
        free_pair(&a, &b);
        return;
    }
    size_t records = held.n - 1;
    CHECK_EQ_UINT(records, 4); /* what the responder keeps for it */
    CHECK(stats_of(&a).queued_messages > 0);
    for (size_t k = 0; k < records; k++) {
        size_t i = reverse ? held.n - 1 - k : 1 + k;
        feed(&b, held.p[i].data, held.p[i].len);
    }
    CHECK_EQ_UINT(b.messages, 0);
    CHECK_EQ_INT(b.established, 0);
    feed(&b, held.p[0].data, HS); /* the AUTH_I, last */
    CHECK_EQ_INT(b.established, 1);
    CHECK_EQ_UINT(b.messages, 8); /* the 4 kept records, opened */
    run(&a, &b, a.now + 10 * MS); /* the confirmation, and the send delays */
    CHECK(both_established(&a, &b));
    CHECK_EQ_INT(a.established, 1);
    CHECK_EQ_INT(a.written, 22);
    CHECK(got_burst(&b, 0, a.written, 500, !reverse));
    CHECK(got_burst(&a, 0, b.written, 500, 1));
    store_free(&held);
    free_pair(&a, &b);
}

/* Streams: the same writes; the AUTH_I and the records in one input, or
 * the records' frames first. */
static void first_messages_stream(int reorder)
{
    peer a, b;
    store held = {0};
    first_messages_setup(&a, &b, stream_resp_any);
    drain(&a, 0, &held);
    if (!CHECK(held.n >= 2 && held.p[0].data[2] == SIO_PKT_AUTH_I)) {
        store_free(&held);
        free_pair(&a, &b);
        return;
    }
    if (reorder) {
        for (size_t k = 1; k < held.n; k++)
            feed(&b, held.p[k].data, held.p[k].len);
        CHECK_EQ_UINT(b.messages, 0);
        feed(&b, held.p[0].data, held.p[0].len);
    } else {
        static uint8_t all[4 * MAXP];
        size_t w = 0;
        for (size_t k = 0; k < held.n && w + held.p[k].len <= sizeof all; k++) {
            memcpy(all + w, held.p[k].data, held.p[k].len);
            w += held.p[k].len;
        }
        feed(&b, all, w);
    }
    CHECK_EQ_INT(b.established, 1);
    CHECK(b.messages >= 12);
    run(&a, &b, a.now + 10 * MS);
    CHECK(both_established(&a, &b));
    CHECK_EQ_INT(a.written, 22);
    CHECK(got_burst(&b, 0, a.written, 500, 1));
    CHECK(got_burst(&a, 0, b.written, 500, 1));
    store_free(&held);
    free_pair(&a, &b);
}

/* Regression 1: messages written as soon as the initiator is established
 * are never lost, even when they overtake the AUTH_I. */
static void test_first_messages(void)
{
    first_messages_datagram(0);
    first_messages_datagram(1);
    first_messages_stream(0);
    first_messages_stream(1);
}

/* ---------------------------------------------- 2. rekey suppression */

static uint64_t g_rekey_ms, g_hs_ms, g_life_ms;
static int g_stream;

static void lifetime_cfg(int i, secureio_config *cfg)
{
    (void)i;
    cfg->rekey_interval_ms = g_rekey_ms;
    cfg->handshake_timeout_ms = g_hs_ms;
    cfg->key_lifetime_ms = g_life_ms;
    cfg->stream = g_stream;
}

/* Data both ways every 100 ms for 10 s (or until both closed), control
 * records dropped when d is not NULL. */
static void traffic(peer *a, peer *b, dropper *d)
{
    uint64_t t = a->now;
    for (int i = 0; (a->closed == 0 || b->closed == 0) && t < T0 + 10000 * MS; i++) {
        char msg[32];
        t += 100 * MS;
        run_f(a, b, t, d != NULL ? drop_filter : NULL, d);
        snprintf(msg, sizeof msg, "data %d", i);
        peer *ps[2] = {a, b};
        for (int k = 0; k < 2; k++)
            if (!ps[k]->closed)
                CHECK_EQ_INT(secureio_engine_write(ps[k]->e, 1, (const uint8_t *)msg, strlen(msg),
                                                   SECUREIO_WRITE_SYNC | SECUREIO_WRITE_COPY, NULL,
                                                   NULL, t),
                             SECUREIO_OK);
        pump_f(a, b, t, d != NULL ? drop_filter : NULL, d);
    }
}

/* One case: intervals (ms), the lifetime expected, datagrams or a stream. */
static void rekey_suppression(uint64_t rekey, uint64_t hs, uint64_t life, uint64_t expect,
                              int stream)
{
    peer a, b;
    dropper d = {-1, CTRL_LEN + (stream ? SECUREIO_STREAM_FRAME_HEADER : 0u), 0, 0};
    g_rekey_ms = rekey;
    g_hs_ms = hs;
    g_life_ms = life;
    g_stream = stream;
    make_pair(&a, &b, lifetime_cfg);
    CHECK(connect_pair(&a, &b));
    traffic(&a, &b, &d);
    CHECK_EQ_INT(a.closed_err, SECUREIO_ERR_KEY_EXPIRED);
    CHECK_EQ_INT(b.closed_err, SECUREIO_ERR_KEY_EXPIRED);
    CHECK_EQ_UINT(a.closed_at, T0 + expect * MS);
    CHECK_EQ_UINT(b.closed_at, T0 + expect * MS);
    CHECK_EQ_INT(a.rekeyed + b.rekeyed, 0);
    CHECK(d.dropped >= 2); /* the rekeys, retransmitted */
    size_t flowed = (size_t)(expect / 100) - 1;
    CHECK(a.messages >= flowed && b.messages >= flowed); /* data flowed to the end */
    free_pair(&a, &b);
    /* the same without the attacker: it rekeys on time and lives on */
    make_pair(&a, &b, lifetime_cfg);
    CHECK(connect_pair(&a, &b));
    traffic(&a, &b, NULL);
    CHECK(both_established(&a, &b));
    CHECK(a.rekeyed >= (int)(9000 / rekey));
    CHECK_EQ_INT(a.rekeyed, b.rekeyed);
    free_pair(&a, &b);
    g_rekey_ms = g_hs_ms = g_life_ms = 0;
    g_stream = 0;
}

/* Regression 2: an attacker that drops every control record (they all
 * have one size) while data flows cannot keep old keys in use: with no
 * rekey through, both sides close with SECUREIO_ERR_KEY_EXPIRED at the
 * keys' lifetime: by default rekey_interval + max(2 x rekey_interval,
 * handshake_timeout), or key_lifetime_ms. */
static void test_rekey_suppression(void)
{
    rekey_suppression(1000, 2000, 0, 3000, 0);
    rekey_suppression(1000, 5000, 0, 6000, 0);
    rekey_suppression(1000, 2000, 2500, 2500, 0);
    rekey_suppression(1000, 2000, 0, 3000, 1);
}

static void keepalive_1s(int i, secureio_config *cfg)
{
    resp_any(i, cfg);
    cfg->keepalive_ms = 1000;
}

static void keepalive_1s_stream(int i, secureio_config *cfg)
{
    keepalive_1s(i, cfg);
    cfg->stream = 1;
}

/* Every record that carries only control frames has one length: CONFIRM,
 * REKEY_INIT, REKEY_RESP, CONFIRM with ASK, keepalive, CLOSE (and probe
 * answers during the handshake). */
static void control_sizes(int stream)
{
    peer a, b;
    store rec = {0};
    uint8_t *out = pump_pkt;
    size_t pre = stream ? SECUREIO_STREAM_FRAME_HEADER : 0, want = CTRL_LEN + pre, n;
    make_pair(&a, &b, stream ? keepalive_1s_stream : keepalive_1s);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    pump_f(&a, &b, T0, record_filter, &rec);
    CHECK(both_established(&a, &b));
    size_t controls = 0;
    for (size_t i = 0; i < rec.n; i++) {
        const uint8_t *p = rec.p[i].data + pre;
        if (p[0] != SIO_PKT_RECORD)
            continue;
        /* a probe is padded to the size it probes (datagrams only) */
        if (!stream && rec.p[i].len >= SECUREIO_BASE_PACKET_LEN)
            continue;
        CHECK_EQ_UINT(rec.p[i].len, want);
        controls++;
    }
    CHECK(controls >= 1); /* the responder's CONFIRM at least */
    store_free(&rec);
    /* a rekey: REKEY_INIT, REKEY_RESP, CONFIRM (ASK), CONFIRM */
    CHECK_EQ_INT(secureio_engine_rekey(a.e, T0), SECUREIO_OK);
    peer *turn[4] = {&a, &b, &a, &b};
    for (int k = 0; k < 4; k++) {
        n = poll1(turn[k], out, MAXP);
        CHECK_EQ_UINT(n, want);
        feed(turn[k] == &a ? &b : &a, out, n);
    }
    CHECK_EQ_UINT(poll1(&a, out, MAXP), 0);
    CHECK_EQ_UINT(poll1(&b, out, MAXP), 0);
    CHECK_EQ_INT(a.rekeyed, 1);
    CHECK_EQ_INT(b.rekeyed, 1);
    /* a keepalive, after keepalive_ms without sending */
    CHECK(secureio_engine_deadline(a.e) <= T0 + 1000 * MS);
    a.now = b.now = T0 + 1000 * MS;
    n = poll1(&a, out, MAXP);
    CHECK_EQ_UINT(n, want);
    feed(&b, out, n);
    CHECK_EQ_UINT(poll1(&a, out, MAXP), 0);
    /* CLOSE */
    secureio_engine_close_now(a.e, a.now);
    n = poll1(&a, out, MAXP);
    CHECK_EQ_UINT(n, want);
    feed(&b, out, n);
    CHECK_EQ_INT(b.closed_err, SECUREIO_ERR_CLOSED);
    free_pair(&a, &b);
}

/* A control frame due while the next queued message fits a record of its
 * own but not beside it: the control frames still go in a record of the
 * one control size (or with data), never in a record whose length says
 * "rekey" or "confirm". */
static void control_beside_full_message(void)
{
    peer a, b;
    store rec = {0};
    make_pair(&a, &b, NULL);
    CHECK(connect_pair(&a, &b));
    size_t max = secureio_engine_max_message(a.e, 1);
    uint8_t *big = malloc(max);
    fill(big, max, 9);
    CHECK_EQ_INT(secureio_engine_rekey(a.e, a.now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_write(a.e, 1, big, max, SECUREIO_WRITE_SYNC, NULL, NULL, a.now),
                 SECUREIO_OK);
    drain(&a, 0, &rec);
    CHECK_EQ_UINT(rec.n, 2);
    for (size_t i = 0; i < rec.n; i++) {
        if (!CHECK(rec.p[i].len == CTRL_LEN || rec.p[i].len >= max))
            fprintf(stderr, "  a record of %zu bytes: only control frames, not padded\n",
                    rec.p[i].len);
        feed(&b, rec.p[i].data, rec.p[i].len);
    }
    pump(&a, &b, a.now);
    CHECK(msg_is(&b, b.messages - 1, 1, big, max));
    CHECK_EQ_INT(a.rekeyed, 1);
    CHECK_EQ_INT(b.rekeyed, 1);
    free(big);
    store_free(&rec);
    free_pair(&a, &b);
}

/* Regression 2, the other half: control records all look alike (158
 * bytes, 160 on streams), also when a full-size message waits beside them. */
static void test_control_record_sizes(void)
{
    control_sizes(0);
    control_sizes(1);
    control_beside_full_message();
}

/* --------------------------------------------------- 3. self-session */

/* Regression 3: two engines of one identity (a pins its own key, b
 * accepts anyone) never make a session; the refusal is a DROP_PEER event
 * carrying our own key. And a responder refuses an initiator that proves
 * the responder's own identity. */
static void test_self_session(void)
{
    peer a, b, c;
    peer_init(&a, 0x11);
    peer_init(&b, 0x11);
    CHECK_MEM(a.pk, b.pk, 32);
    peer_engine(&a, 0, a.pk, NULL);
    peer_engine(&b, 1, NULL, resp_any);
    CHECK(!connect_pair(&a, &b));
    run(&a, &b, T0 + 5000 * MS);
    CHECK_EQ_INT(a.established, 0);
    CHECK_EQ_INT(b.established, 0);
    CHECK(a.drops[SECUREIO_DROP_PEER] >= 1);
    CHECK(a.refused_has_key);
    CHECK_MEM(a.refused_key, a.pk, 32);
    free_pair(&a, &b);

    /* the responder's side: an AUTH_I signed by the responder's own identity */
    peer_init(&b, 0x22);
    peer_init(&c, 0x22); /* only its identity is used */
    peer_engine(&b, 1, NULL, resp_any);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    fake_hello f;
    uint8_t ar[PKT], ai[HS];
    make_hello(&f, b.pk);
    feed(&b, f.pkt, HS);
    CHECK_EQ_UINT(poll1(&b, ar, sizeof ar), HS);
    fake_auth_i(ai, &f, ar, c.id, b.pk);
    feed(&b, ai, HS);
    CHECK_EQ_INT(b.established, 0);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_PEER], 1);
    CHECK(b.refused_has_key);
    CHECK_MEM(b.refused_key, b.pk, 32);
    /* the same steps with another identity make a session (the forger is right) */
    peer_init(&a, 0x33);
    make_hello(&f, b.pk);
    feed(&b, f.pkt, HS);
    CHECK_EQ_UINT(poll1(&b, ar, sizeof ar), HS);
    fake_auth_i(ai, &f, ar, a.id, b.pk);
    feed(&b, ai, HS);
    CHECK_EQ_INT(b.established, 1);
    CHECK_MEM(b.established_key, a.pk, 32);
    free_peer(&a);
    free_peer(&c);
    free_peer(&b);
}

/* ---------------------------------------- 4. handshake starvation */

/* Regression 4: an attacker who sees the initiator's HELLO and knows the
 * responder's public key forges AUTH_Rs (the hello's nonce echoed, the
 * right mac, its own ephemeral key, garbage or its own signed ciphertext)
 * before and after the real one: the real AUTH_R is still processed at
 * once. Forged AUTH_Is for the real hello do not block the real AUTH_I. */
static void test_handshake_starvation(void)
{
    peer a, b, m;
    uint8_t hello[PKT], ar[PKT], ai[PKT], forged[HS], mk[32];
    sio_hs_packet h;
    make_pair(&a, &b, resp_any);
    peer_init(&m, 0x66); /* the attacker's identity */
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    CHECK_EQ_UINT(poll1(&a, hello, sizeof hello), HS);
    CHECK_EQ_INT(sio_hs_decode(&h, hello, HS), 0);
    for (int i = 0; i < 30; i++) {
        forge_auth_r(forged, &h, b.pk, i % 3 == 2 ? m.id : NULL);
        feed(&a, forged, HS);
    }
    CHECK_EQ_UINT(a.drops[SECUREIO_DROP_AUTH], 20);
    CHECK_EQ_UINT(a.drops[SECUREIO_DROP_PEER], 10); /* signed by m, who is not b */
    CHECK(a.refused_has_key);
    CHECK_MEM(a.refused_key, m.pk, 32);
    CHECK_EQ_INT(a.established, 0);
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_HANDSHAKE);
    /* the real answer, at the same instant */
    feed(&b, hello, HS);
    CHECK_EQ_UINT(poll1(&b, ar, sizeof ar), HS);
    feed(&a, ar, HS);              /* accepted: a answers with its AUTH_I */
    for (int i = 0; i < 10; i++) { /* after it: stale */
        forge_auth_r(forged, &h, b.pk, i % 2 ? m.id : NULL);
        feed(&a, forged, HS);
    }
    CHECK_EQ_UINT(a.drops[SECUREIO_DROP_STALE], 10);
    CHECK_EQ_UINT(poll1(&a, ai, sizeof ai), HS);
    CHECK(ai[0] == SIO_PKT_AUTH_I);
    /* forged AUTH_Is for the real hello and answer: the right mac, garbage */
    sio_mac_key(mk, b.pk);
    for (int i = 0; i < 200; i++) {
        memcpy(forged, ai, HS);
        randombytes_buf(forged + SIO_HS_HEADER_LEN, SIO_AUTH_CT_LEN);
        sio_hs_mac_put(forged, mk);
        feed(&b, forged, HS);
    }
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_AUTH], 200);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_RATE], 0);
    CHECK_EQ_INT(b.established, 0);
    feed(&b, ai, HS);
    CHECK_EQ_INT(b.established, 1);
    pump(&a, &b, T0); /* at the same instant */
    CHECK(both_established(&a, &b));
    CHECK_EQ_INT(a.established, 1);
    send_msg(&a, &b, 0, "through", NULL);
    CHECK(got(&b, "through"));
    free_peer(&m);
    free_pair(&a, &b);
}

/* The same, from an attacker that also sends hellos of its own (it knows
 * the responder's key and sees its answers): its hellos push the real
 * hello's answer out of the responder's cache, and AUTH_Is for its own
 * answered hellos spend the budget of AUTH_I checks. The real AUTH_I must
 * still make the session. */
static void test_auth_i_budget(void)
{
    peer a, b;
    uint8_t pkt[PKT], ai[PKT], ars[8][PKT], forged[HS];
    fake_hello f[8];
    make_pair(&a, &b, resp_any);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    CHECK_EQ_UINT(poll1(&a, pkt, sizeof pkt), HS);
    feed(&b, pkt, HS);
    CHECK_EQ_UINT(poll1(&b, pkt, sizeof pkt), HS);
    feed(&a, pkt, HS);
    CHECK_EQ_UINT(poll1(&a, ai, sizeof ai), HS);
    CHECK(ai[0] == SIO_PKT_AUTH_I);
    for (int i = 0; i < 8; i++) {
        make_hello(&f[i], b.pk);
        feed(&b, f[i].pkt, HS);
        CHECK_EQ_UINT(poll1(&b, ars[i], sizeof ars[i]), HS);
    }
    for (int i = 0; i < 100; i++) {
        fake_auth_i(forged, &f[i % 4], ars[i % 4], NULL, b.pk);
        feed(&b, forged, HS);
    }
    CHECK_EQ_INT(b.established, 0);
    feed(&b, ai, HS);
    if (!CHECK_EQ_INT(b.established, 1))
        fprintf(stderr, "  the real AUTH_I was dropped: %s\n",
                b.drops[SECUREIO_DROP_RATE] > 0 ? "over the AUTH_I rate limit" : "?");
    free_pair(&a, &b);
}

/* ----------------------------------------------- 5. identity probing */

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return 1;
    return 0;
}

/* Regression 5: a hello without proof that it knows the responder's key
 * (a mac made with another key, a zero mac, a changed packet) gets no
 * answer at all, not even a cookie under load, and counts DROP_NOT_FOR_US;
 * with the right mac it is answered, and the answer does not show the
 * responder's key. An AUTH_I with a wrong mac is dropped the same way. */
static void test_identity_probing(void)
{
    peer a, b;
    fake_hello f;
    uint8_t other[32], out[PKT], ai[HS];
    memset(other, 0x42, sizeof other);
    make_pair(&a, &b, resp_any);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    make_hello(&f, other);
    feed(&b, f.pkt, HS);
    CHECK_EQ_UINT(poll1(&b, out, sizeof out), 0);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_NOT_FOR_US], 1);
    make_hello(&f, NULL);
    feed(&b, f.pkt, HS);
    CHECK_EQ_UINT(poll1(&b, out, sizeof out), 0);
    make_hello(&f, b.pk);
    f.pkt[60] ^= 1;
    feed(&b, f.pkt, HS);
    CHECK_EQ_UINT(poll1(&b, out, sizeof out), 0);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_NOT_FOR_US], 3);
    CHECK_EQ_UINT(stats_of(&b).dropped[SECUREIO_DROP_NOT_FOR_US], 3);
    /* the right mac: answered */
    make_hello(&f, b.pk);
    feed(&b, f.pkt, HS);
    CHECK_EQ_UINT(poll1(&b, out, sizeof out), HS);
    sio_hs_packet r;
    CHECK_EQ_INT(sio_hs_decode(&r, out, HS), 0);
    CHECK(r.type == SIO_PKT_AUTH_R);
    CHECK_MEM(r.echo, f.h.n, 32);
    CHECK(!contains(out, HS, b.pk, 32));
    /* an AUTH_I for it with a mac of another key */
    fake_auth_i(ai, &f, out, a.id, other);
    feed(&b, ai, HS);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_NOT_FOR_US], 4);
    CHECK_EQ_INT(b.established, 0);
    CHECK_EQ_UINT(poll1(&b, out, sizeof out), 0);
    /* under load (the hello budget spent): the right mac gets a cookie,
     * a wrong one still nothing */
    for (int i = 0; i < 60; i++) {
        make_hello(&f, b.pk);
        feed(&b, f.pkt, HS);
        while (poll1(&b, out, sizeof out) > 0)
            ;
    }
    make_hello(&f, b.pk);
    feed(&b, f.pkt, HS);
    CHECK_EQ_UINT(poll1(&b, out, sizeof out), HS);
    CHECK(out[0] == SIO_PKT_COOKIE);
    make_hello(&f, other);
    feed(&b, f.pkt, HS);
    CHECK_EQ_UINT(poll1(&b, out, sizeof out), 0);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_NOT_FOR_US], 5);
    free_pair(&a, &b);
}

/* ------------------------------------------------- 6. answer queue */

/* Regression 6: several hellos before one poll are all answered, in order
 * (each AUTH_R echoes its hello's nonce), up to 8; the extra ones are
 * dropped and counted, never written over the waiting answers. */
static void test_answer_queue(void)
{
    peer a, b;
    fake_hello f[10];
    uint8_t out[PKT];
    sio_hs_packet r;
    make_pair(&a, &b, resp_any);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    static const int counts[] = {2, 8, 10};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        secureio_stats s0 = stats_of(&b);
        uint64_t dropped0 = 0, dropped1 = 0;
        for (int k = 0; k < SECUREIO_DROP_REASON_COUNT; k++)
            dropped0 += s0.dropped[k];
        for (int i = 0; i < counts[c]; i++) {
            make_hello(&f[i], b.pk);
            feed(&b, f[i].pkt, HS);
        }
        int answers = counts[c] < 8 ? counts[c] : 8;
        for (int i = 0; i < answers; i++) {
            CHECK_EQ_UINT(poll1(&b, out, sizeof out), HS);
            CHECK_EQ_INT(sio_hs_decode(&r, out, HS), 0);
            CHECK(r.type == SIO_PKT_AUTH_R);
            CHECK_MEM(r.echo, f[i].h.n, 32);
        }
        CHECK_EQ_UINT(poll1(&b, out, sizeof out), 0);
        secureio_stats s1 = stats_of(&b);
        for (int k = 0; k < SECUREIO_DROP_REASON_COUNT; k++)
            dropped1 += s1.dropped[k];
        CHECK_EQ_UINT(dropped1 - dropped0, (uint64_t)(counts[c] - answers));
    }
    free_pair(&a, &b);
}

/* The reviewer's cycle (found on an earlier design): 17 hellos of the
 * attacker's own, and forged AUTH_Is that cycle through them faster than a
 * cache could keep them, 2000 of them, before and after the real hello is
 * answered. Checking an AUTH_I costs no Diffie-Hellman and spends no
 * budget (the AUTH_R's ticket gives its keys back): the real AUTH_I makes
 * the session at once. */
static void test_auth_i_cycle(void)
{
    peer a, b;
    uint8_t pkt[PKT], ai[PKT], forged[HS];
    static uint8_t ars[17][PKT];
    static fake_hello f[17];
    make_pair(&a, &b, resp_any);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    for (int i = 0; i < 17; i++) {
        make_hello(&f[i], b.pk);
        feed(&b, f[i].pkt, HS);
        CHECK_EQ_UINT(poll1(&b, ars[i], sizeof ars[i]), HS);
    }
    for (int i = 0; i < 1000; i++) {
        fake_auth_i(forged, &f[i % 17], ars[i % 17], NULL, b.pk);
        feed(&b, forged, HS);
    }
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_UINT(poll1(&a, pkt, sizeof pkt), HS);
    feed(&b, pkt, HS);
    CHECK_EQ_UINT(poll1(&b, pkt, sizeof pkt), HS);
    feed(&a, pkt, HS);
    CHECK_EQ_UINT(poll1(&a, ai, sizeof ai), HS);
    for (int i = 0; i < 1000; i++) { /* and more, with fresh hellos among them */
        if (i % 100 == 0) {
            make_hello(&f[i % 17], b.pk);
            feed(&b, f[i % 17].pkt, HS);
            CHECK_EQ_UINT(poll1(&b, ars[i % 17], sizeof ars[i % 17]), HS);
        }
        fake_auth_i(forged, &f[i % 17], ars[i % 17], NULL, b.pk);
        feed(&b, forged, HS);
    }
    CHECK_EQ_INT(b.established, 0);
    CHECK_EQ_UINT(b.drops[SECUREIO_DROP_RATE], 0);
    feed(&b, ai, HS);
    CHECK_EQ_INT(b.established, 1);
    free_pair(&a, &b);
}

/* A COOKIE must carry the mac of the responder's key (an attacker without
 * it cannot make one), and the first one waiting for poll() is kept: a
 * later cookie (forged by someone with the key, who saw the hello) does
 * not replace it. */
static void test_forged_cookie(void)
{
    peer a, b;
    uint8_t hello[PKT], ck[PKT], out[PKT];
    make_pair(&a, &b, resp_any);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_UINT(poll1(&a, hello, sizeof hello), HS);
    sio_hs_packet h, c;
    CHECK_EQ_INT(sio_hs_decode(&h, hello, HS), 0);
    memset(&c, 0, sizeof c);
    c.type = SIO_PKT_COOKIE;
    c.version = SIO_VERSION;
    c.options = h.options;
    c.index = h.index;
    memcpy(c.e, h.e, 32);
    memcpy(c.n, h.n, 32);
    memset(c.echo, 0x77, 32);
    sio_hs_encode(&c, ck); /* no mac */
    feed(&a, ck, HS);
    CHECK_EQ_UINT(poll1(&a, out, sizeof out), 0);
    CHECK_EQ_UINT(a.drops[SECUREIO_DROP_NOT_FOR_US], 1);
    uint8_t mk[32];
    sio_mac_key(mk, b.pk);
    sio_hs_mac_put(ck, mk); /* with the mac: taken */
    feed(&a, ck, HS);
    memset(c.echo, 0x78, 32);
    sio_hs_encode(&c, ck);
    sio_hs_mac_put(ck, mk);
    feed(&a, ck, HS); /* a second one before poll(): ignored */
    CHECK_EQ_UINT(poll1(&a, out, sizeof out), HS);
    CHECK(out[0] == SIO_PKT_HELLO);
    static const uint8_t first[4] = {0x77, 0x77, 0x77, 0x77};
    CHECK_MEM(out + 8 + 32 + 32, first, 4); /* its echo is the first cookie */
    CHECK_EQ_UINT(poll1(&a, out, sizeof out), 0);
    free_pair(&a, &b);
}

/* Second review, finding 1: a copy of the real AUTH_R with its ticket
 * changed (and the mac made again, by someone with the responder's public
 * key) must not be taken in its place. The ticket is in the associated
 * data of the AUTH_R's ciphertext: the copy does not open, and the real
 * AUTH_R after it makes the session. */
static void test_ticket_tamper(void)
{
    peer a, b;
    uint8_t hello[PKT], ar[PKT], forged[HS], mk[32];
    make_pair(&a, &b, resp_any);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    CHECK_EQ_UINT(poll1(&a, hello, sizeof hello), HS);
    feed(&b, hello, HS);
    CHECK_EQ_UINT(poll1(&b, ar, sizeof ar), HS);
    sio_mac_key(mk, b.pk);
    for (size_t i = 0; i < SIO_TICKET_LEN; i += 7) {
        memcpy(forged, ar, HS);
        forged[SIO_HS_TICKET_OFF + i] ^= 0x20;
        sio_hs_mac_put(forged, mk);
        feed(&a, forged, HS);
    }
    CHECK_EQ_UINT(a.drops[SECUREIO_DROP_AUTH], (SIO_TICKET_LEN + 6) / 7);
    feed(&a, ar, HS);
    run(&a, &b, T0 + 2000 * MS);
    CHECK_EQ_INT(a.established, 1);
    CHECK_EQ_INT(b.established, 1);
    free_pair(&a, &b);
}

/* Second review, finding 5: an initiator that starts again (its AUTH_I was
 * never confirmed) sends again, from their start, the messages it had sent
 * in records of the dropped session, and completes them only once the new
 * session is confirmed: a fragmented message arrives whole and exact, and
 * every write completes once, with SECUREIO_OK, after the confirmation. */
static int drop_b_to_a_records(void *arg, int from, const uint8_t *pkt, size_t len)
{
    const uint64_t *until = arg;
    (void)len;
    return !(from == 1 && pkt[0] == SIO_PKT_RECORD && *until > 0);
}

typedef struct completion {
    int calls, err;
} completion;

static void on_completion(void *arg, int err, size_t len)
{
    completion *c = arg;
    (void)len;
    c->calls++;
    c->err = err;
}

static void test_restart_resends(void)
{
    peer a, b;
    static uint8_t big[8000];
    completion d[2];
    memset(d, 0, sizeof d);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 13);
    make_pair(&a, &b, resp_any);
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_write(a.e, 3, big, sizeof big, 0, on_completion, &d[0], T0),
                 SECUREIO_OK);
    CHECK_EQ_INT(
        secureio_engine_write(a.e, 3, (const uint8_t *)"small", 5, 0, on_completion, &d[1], T0),
        SECUREIO_OK);
    uint64_t block = 1;
    run_f(&a, &b, T0 + 20000 * MS, drop_b_to_a_records, &block); /* a starts again at 15 s */
    CHECK_EQ_INT(d[0].calls + d[1].calls, 0);                    /* nothing confirmed yet */
    CHECK(stats_of(&a).handshakes >= 2);
    block = 0;
    run_f(&a, &b, T0 + 25000 * MS, drop_b_to_a_records, &block);
    CHECK_EQ_INT(a.established, 1);
    CHECK(d[0].calls == 1 && d[0].err == SECUREIO_OK);
    CHECK(d[1].calls == 1 && d[1].err == SECUREIO_OK);
    CHECK_EQ_UINT(b.messages, 2); /* once each, whole, in order */
    CHECK(msg_is(&b, 0, 3, big, sizeof big));
    CHECK(msg_is(&b, 1, 3, (const uint8_t *)"small", 5));
    CHECK_EQ_UINT(stats_of(&b).reassembly_bytes, 0);
    free_pair(&a, &b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    det_state = 1;
    test_first_messages();
    test_rekey_suppression();
    test_control_record_sizes();
    test_self_session();
    test_handshake_starvation();
    test_auth_i_budget();
    test_auth_i_cycle();
    test_forged_cookie();
    test_ticket_tamper();
    test_restart_resends();
    test_identity_probing();
    test_answer_queue();
    CHECK_EQ_UINT(stuck_deadlines, 0);
    return test_summary("engine-attacks");
}
