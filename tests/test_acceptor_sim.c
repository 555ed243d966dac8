/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Many peers on one acceptor, over a simulated datagram network with
 * addresses (deterministic, virtual time): 1,000 clients connecting at once
 * and exchanging messages both ways; clients whose address changes
 * mid-session (NAT rebinding) and keep their session; a flood of forged
 * hellos (with and without knowledge of the server's key) while real
 * clients connect; lossy links; more clients than max_sessions; sessions
 * that end; a replayed AUTH_I. Every delivered message is exact and
 * delivered once; the acceptor's memory (sessions, answers) stays bounded.
 */
#include <secureio/acceptor.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secureio/handshake.h"
#include "secureio/responder.h"
#include "secureio/wire.h"
#include "test.h"

#define SEC 1000000ull
#define MS 1000ull
#define SERVER_ADDR 0xffffffffu
#define ATTACKER_ADDR 0x0b0b0b0bu /* a real address: the attacker receives there */
#define SPOOFED_ADDR 0x0d0d0d0du  /* an address the attacker only writes from */
#define MAX_COOKIES 4096

typedef struct pkt {
    uint64_t at;
    uint32_t from, to; /* addresses */
    size_t len;
    uint8_t *data;
} pkt;

typedef struct client {
    secureio_engine *e;
    uint32_t addr; /* its address now */
    int index;
    uint64_t sent, got, bad, corrupt, established, closed, banners;
    int closed_err;
    uint8_t auth_i[SIO_HS_PACKET_LEN]; /* its last AUTH_I, captured from the wire */
    int have_auth_i;
} client;

typedef struct world {
    uint64_t now, seed;
    double loss;
    uint64_t delay;
    secureio_identity *server_id, *client_id;
    uint8_t server_pk[32], client_pk[32];
    secureio_acceptor *acc;
    client *c;
    size_t n;
    pkt *q;
    size_t qn, qcap;
    /* the server side */
    uint64_t sessions_opened, sessions_ended, server_got, server_corrupt, addr_changes;
    uint64_t flood_sent, peak_sessions, auth_r_sent, server_established, server_closed;
    /* attacks */
    int flood_from_one; /* the flood comes from ATTACKER_ADDR, which spends its cookies */
    uint8_t (*cookies)[SIO_HS_PACKET_LEN]; /* hellos with a cookie, ready to send */
    size_t n_cookies;
    int race_auth_i; /* a copy of each AUTH_I arrives first, from SPOOFED_ADDR */
    int banner;      /* each session writes a banner in on_session */
    int hold_record; /* the next record of client 0 is held back */
    uint8_t held[2048];
    size_t held_len;
} world;

static client *client_at(world *w, uint32_t addr);

static uint64_t rnd(world *w)
{
    uint64_t z = (w->seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int w_rng(void *ctx, uint8_t *out, size_t len)
{
    world *w = ctx;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = rnd(w);
        memcpy(out + i, &v, len - i < 8 ? len - i : 8);
    }
    return 0;
}

static void send_pkt(world *w, uint32_t from, uint32_t to, const uint8_t *data, size_t len)
{
    if (from != SERVER_ADDR && data[0] == SIO_PKT_AUTH_I && len == SIO_HS_PACKET_LEN) {
        client *c = client_at(w, from);
        if (c != NULL) {
            memcpy(c->auth_i, data, SIO_HS_PACKET_LEN);
            c->have_auth_i = 1;
        }
    }
    if (from == SERVER_ADDR && data[0] == SIO_PKT_AUTH_R)
        w->auth_r_sent++;
    if (to == ATTACKER_ADDR && data[0] == SIO_PKT_COOKIE && w->n_cookies < MAX_COOKIES) {
        /* the attacker turns each cookie into a hello that carries it */
        sio_hs_packet h;
        uint8_t mk[32];
        CHECK_EQ_INT(sio_hs_decode(&h, data, len), 0);
        h.type = SIO_PKT_HELLO;
        memset(h.mac, 0, sizeof h.mac);
        sio_hs_encode(&h, w->cookies[w->n_cookies]);
        sio_mac_key(mk, w->server_pk);
        sio_hs_mac_put(w->cookies[w->n_cookies++], mk);
        return;
    }
    if (from != SERVER_ADDR && data[0] == SIO_PKT_AUTH_I && w->race_auth_i) {
        /* seen on the path and sent ahead, from elsewhere */
        uint32_t spoofed = SPOOFED_ADDR;
        CHECK_EQ_INT(secureio_acceptor_recv(w->acc, data, len, &spoofed, 4, w->now), SECUREIO_OK);
    }
    if (from == w->c[0].addr && data[0] == SIO_PKT_RECORD && w->hold_record) {
        memcpy(w->held, data, len);
        w->held_len = len;
        w->hold_record = 0;
        return;
    }
    if (w->loss > 0 && (double)(rnd(w) >> 11) / (double)(1ull << 53) < w->loss)
        return;
    if (w->qn == w->qcap) {
        w->qcap = w->qcap ? w->qcap * 2 : 1024;
        w->q = realloc(w->q, w->qcap * sizeof *w->q);
        if (w->q == NULL)
            abort();
    }
    pkt *p = &w->q[w->qn++];
    p->at = w->now + w->delay + rnd(w) % (w->delay + 1);
    p->from = from;
    p->to = to;
    p->len = len;
    p->data = malloc(len);
    if (p->data == NULL)
        abort();
    memcpy(p->data, data, len);
}

/* Messages: "c<index>:<seq>" from a client, "s<index>:<seq>" back. */
static void client_msg(void *user, uint32_t ch, const uint8_t *data, size_t len)
{
    client *c = user;
    if (ch == 2 && len == 6 && memcmp(data, "banner", 6) == 0) {
        c->banners++; /* the server speaks first (on_session) */
        return;
    }
    char want[64];
    int n = snprintf(want, sizeof want, "s%d:", c->index);
    if (ch != 1 || len < (size_t)n || memcmp(data, want, (size_t)n) != 0)
        c->corrupt++;
    else
        c->got++;
}

static void client_ev(void *user, const secureio_event *ev)
{
    client *c = user;
    if (ev->type == SECUREIO_EVENT_ESTABLISHED)
        c->established++;
    else if (ev->type == SECUREIO_EVENT_CLOSED) {
        c->closed++;
        c->closed_err = ev->err;
    } else if (ev->type == SECUREIO_EVENT_BAD_PACKET)
        c->bad++;
}

/* Session users are freed with the world (on_session allocates them). */
typedef struct server_session server_session;
static server_session **g_sessions;
static size_t g_nsessions;

/* The server echoes each message with the client's prefix. */
struct server_session {
    world *w;
    secureio_engine *e;
};

static void server_msg(void *user, uint32_t ch, const uint8_t *data, size_t len)
{
    server_session *ss = user;
    world *w = ss->w;
    char reply[64];
    int idx = -1;
    if (ch != 1 || len < 2 || data[0] != 'c' || sscanf((const char *)data + 1, "%d", &idx) != 1 ||
        idx < 0 || (size_t)idx >= w->n) {
        w->server_corrupt++;
        return;
    }
    w->server_got++;
    int n = snprintf(reply, sizeof reply, "s%d:%.*s", idx, (int)(len > 40 ? 40 : len), data);
    if (secureio_engine_write(ss->e, 1, (const uint8_t *)reply, (size_t)n, SECUREIO_WRITE_COPY,
                              NULL, NULL, w->now) != SECUREIO_OK)
        w->server_corrupt++;
}

static void server_event(void *user, const secureio_event *ev)
{
    server_session *ss = user;
    if (ev->type == SECUREIO_EVENT_ESTABLISHED) {
        ss->w->server_established++;
        CHECK(memcmp(ev->peer_key, ss->w->client_pk, 32) == 0);
    }
    if (ev->type == SECUREIO_EVENT_CLOSED)
        ss->w->server_closed++;
}

static void on_session(void *user, secureio_engine *e, const uint8_t pk[32], const void *addr,
                       size_t addr_len)
{
    world *w = user;
    server_session *ss = malloc(sizeof *ss);
    if (ss == NULL)
        abort();
    ss->w = w;
    ss->e = e;
    server_session **grown = realloc(g_sessions, (g_nsessions + 1) * sizeof *grown);
    if (grown == NULL)
        abort();
    g_sessions = grown;
    g_sessions[g_nsessions++] = ss;
    CHECK(memcmp(pk, w->client_pk, 32) == 0);
    CHECK_EQ_UINT(addr_len, 4);
    (void)addr;
    /* called before the session's first event: its callbacks are set here */
    CHECK(secureio_engine_state(e) == SECUREIO_STATE_HANDSHAKE);
    secureio_engine_set_callbacks(e, server_msg, server_event, ss);
    if (w->banner) /* written at once: it must reach the peer, wherever it is */
        CHECK_EQ_INT(secureio_engine_write(e, 2, (const uint8_t *)"banner", 6, SECUREIO_WRITE_COPY,
                                           NULL, NULL, w->now),
                     SECUREIO_OK);
    w->sessions_opened++;
    secureio_acceptor_counters st;
    secureio_acceptor_stats(w->acc, &st);
    if (st.sessions > w->peak_sessions)
        w->peak_sessions = st.sessions;
}

static void on_session_end(void *user, secureio_engine *e)
{
    world *w = user;
    (void)e;
    w->sessions_ended++;
}

static void on_address(void *user, secureio_engine *e, const void *addr, size_t len)
{
    world *w = user;
    (void)e;
    (void)addr;
    CHECK_EQ_UINT(len, 4);
    w->addr_changes++;
}

static void world_init(world *w, size_t n, uint64_t seed, uint32_t max_sessions, uint32_t rate,
                       double loss)
{
    memset(w, 0, sizeof *w);
    w->seed = seed;
    w->now = 5 * SEC;
    w->loss = loss;
    w->delay = 10 * MS;
    uint8_t s1[32], s2[32];
    w_rng(w, s1, 32);
    w_rng(w, s2, 32);
    CHECK_EQ_INT(secureio_identity_from_seed(&w->server_id, s1), SECUREIO_OK);
    CHECK_EQ_INT(secureio_identity_from_seed(&w->client_id, s2), SECUREIO_OK);
    secureio_identity_public_key(w->server_id, w->server_pk);
    secureio_identity_public_key(w->client_id, w->client_pk);
    secureio_acceptor_config ac = SECUREIO_ACCEPTOR_CONFIG_INIT;
    ac.identity = w->server_id;
    ac.accept_any_peer = 1;
    ac.max_sessions = max_sessions;
    ac.handshake_rate = rate;
    ac.rng = w_rng;
    ac.rng_ctx = w;
    ac.on_session = on_session;
    ac.on_session_end = on_session_end;
    ac.on_address = on_address;
    ac.user = w;
    CHECK_EQ_INT(secureio_acceptor_new(&w->acc, &ac, w->now), SECUREIO_OK);
    w->n = n;
    w->c = calloc(n, sizeof *w->c);
    w->cookies = calloc(MAX_COOKIES, sizeof *w->cookies);
    if (w->c == NULL || w->cookies == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        client *c = &w->c[i];
        secureio_config cfg = SECUREIO_CONFIG_INIT;
        cfg.identity = w->client_id; /* one identity for all: the acceptor allows it */
        cfg.peer_key = w->server_pk;
        cfg.rng = w_rng;
        cfg.rng_ctx = w;
        cfg.on_message = client_msg;
        cfg.on_event = client_ev;
        cfg.user = c;
        c->index = (int)i;
        c->addr = (uint32_t)(0x0a000000u + i);
        CHECK_EQ_INT(secureio_engine_new(&c->e, &cfg), SECUREIO_OK);
    }
}

static void world_free(world *w)
{
    secureio_acceptor_free(w->acc);
    for (size_t i = 0; i < w->n; i++)
        secureio_engine_free(w->c[i].e);
    free(w->c);
    free(w->cookies);
    for (size_t i = 0; i < w->qn; i++)
        free(w->q[i].data);
    free(w->q);
    secureio_identity_free(w->server_id);
    secureio_identity_free(w->client_id);
    for (size_t i = 0; i < g_nsessions; i++)
        free(g_sessions[i]);
    free(g_sessions);
    g_sessions = NULL;
    g_nsessions = 0;
}

static void flush_client(world *w, client *c)
{
    uint8_t buf[2048];
    for (;;) {
        size_t n = sizeof buf;
        if (secureio_engine_poll(c->e, buf, &n, w->now) != SECUREIO_OK || n == 0)
            return;
        send_pkt(w, c->addr, SERVER_ADDR, buf, n);
    }
}

static void flush_server(world *w)
{
    uint8_t buf[2048], addr[SECUREIO_ADDR_MAX];
    for (;;) {
        size_t n = sizeof buf, al = sizeof addr;
        if (secureio_acceptor_poll(w->acc, buf, &n, addr, &al, w->now) != SECUREIO_OK || n == 0)
            return;
        uint32_t to;
        CHECK_EQ_UINT(al, 4);
        memcpy(&to, addr, 4);
        send_pkt(w, SERVER_ADDR, to, buf, n);
    }
}

static client *client_at(world *w, uint32_t addr)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->c[i].addr == addr)
            return &w->c[i];
    return NULL; /* an old address: the packet is lost */
}

/* Runs until `until`, clients writing a message every `every` once established. */
static void run(world *w, uint64_t until, uint64_t every, uint64_t flood_per_sec, int flood_mac)
{
    uint64_t next_write = w->now + every, next_flood = w->now;
    while (w->now < until) {
        uint64_t t = until;
        for (size_t i = 0; i < w->qn; i++)
            if (w->q[i].at < t)
                t = w->q[i].at;
        uint64_t d = secureio_acceptor_deadline(w->acc);
        if (d < t)
            t = d;
        for (size_t i = 0; i < w->n; i++) {
            d = secureio_engine_deadline(w->c[i].e);
            if (d < t)
                t = d;
        }
        if (every && next_write < t)
            t = next_write;
        if (flood_per_sec && next_flood < t)
            t = next_flood;
        if (t > w->now)
            w->now = t;
        /* deliveries due now */
        size_t k = 0;
        for (size_t i = 0; i < w->qn; i++) {
            pkt p = w->q[i];
            if (p.at > w->now) {
                w->q[k++] = p;
                continue;
            }
            if (p.to == SERVER_ADDR) {
                CHECK_EQ_INT(secureio_acceptor_recv(w->acc, p.data, p.len, &p.from, 4, w->now),
                             SECUREIO_OK);
            } else {
                client *c = client_at(w, p.to);
                if (c != NULL && secureio_engine_state(c->e) != SECUREIO_STATE_CLOSED)
                    CHECK_EQ_INT(secureio_engine_recv(c->e, p.data, p.len, w->now), SECUREIO_OK);
            }
            free(p.data);
        }
        w->qn = k;
        CHECK_EQ_INT(secureio_acceptor_tick(w->acc, w->now), SECUREIO_OK);
        flush_server(w);
        for (size_t i = 0; i < w->n; i++) {
            client *c = &w->c[i];
            if (secureio_engine_deadline(c->e) <= w->now)
                CHECK_EQ_INT(secureio_engine_tick(c->e, w->now), SECUREIO_OK);
            flush_client(w, c);
        }
        if (every && next_write <= w->now) {
            for (size_t i = 0; i < w->n; i++) {
                client *c = &w->c[i];
                secureio_state st = secureio_engine_state(c->e);
                if (st != SECUREIO_STATE_ESTABLISHED && st != SECUREIO_STATE_NEGOTIATING)
                    continue;
                char m[64];
                int n = snprintf(m, sizeof m, "c%d:%llu", c->index, (unsigned long long)c->sent);
                if (secureio_engine_write(c->e, 1, (const uint8_t *)m, (size_t)n,
                                          SECUREIO_WRITE_COPY, NULL, NULL, w->now) == SECUREIO_OK)
                    c->sent++;
                flush_client(w, c);
            }
            next_write = w->now + every;
        }
        if (flood_per_sec && next_flood <= w->now) {
            /* forged hellos from random addresses, a burst every 10 ms */
            for (uint64_t i = 0; i < flood_per_sec / 100; i++) {
                sio_hs_packet h;
                uint8_t b[SIO_HS_PACKET_LEN], mk[32];
                memset(&h, 0, sizeof h);
                h.type = SIO_PKT_HELLO;
                h.version = SIO_VERSION;
                h.index = (uint32_t)rnd(w);
                w_rng(w, h.e, 32);
                w_rng(w, h.n, 32);
                sio_hs_encode(&h, b);
                if (flood_mac) {
                    sio_mac_key(mk, w->server_pk);
                    sio_hs_mac_put(b, mk);
                }
                uint32_t from =
                    w->flood_from_one ? ATTACKER_ADDR : 0xc0000000u | (uint32_t)(rnd(w) & 0xffffff);
                CHECK_EQ_INT(secureio_acceptor_recv(w->acc, b, sizeof b, &from, 4, w->now),
                             SECUREIO_OK);
                w->flood_sent++;
                if (w->n_cookies > 0) { /* and a hello with a cookie it got */
                    w->n_cookies--;
                    CHECK_EQ_INT(secureio_acceptor_recv(w->acc, w->cookies[w->n_cookies],
                                                        SIO_HS_PACKET_LEN, &from, 4, w->now),
                                 SECUREIO_OK);
                    w->flood_sent++;
                }
            }
            flush_server(w);
            next_flood = w->now + 10 * MS;
        }
    }
}

static void start_all(world *w)
{
    for (size_t i = 0; i < w->n; i++) {
        CHECK_EQ_INT(secureio_engine_start(w->c[i].e, w->now), SECUREIO_OK);
        flush_client(w, &w->c[i]);
    }
}

static size_t count_established(world *w)
{
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        secureio_state st = secureio_engine_state(w->c[i].e);
        k += st == SECUREIO_STATE_ESTABLISHED || st == SECUREIO_STATE_NEGOTIATING;
    }
    return k;
}

/* ------------------------------------------------------------- scenarios */

static void thousand_peers(void)
{
    world w;
    world_init(&w, 1000, 1, 0, 0, 0);
    start_all(&w);
    run(&w, w.now + 30 * SEC, 2 * SEC, 0, 0);
    run(&w, w.now + 2 * SEC, 0, 0, 0); /* what is in flight arrives */
    CHECK_EQ_UINT(count_established(&w), 1000);
    CHECK_EQ_UINT(w.sessions_opened, 1000);
    CHECK_EQ_UINT(w.server_established, 1000); /* to the callbacks set in on_session */
    secureio_acceptor_counters st;
    secureio_acceptor_stats(w.acc, &st);
    CHECK_EQ_UINT(st.sessions, 1000);
    uint64_t sent = 0, got = 0, corrupt = 0;
    for (size_t i = 0; i < w.n; i++) {
        sent += w.c[i].sent;
        got += w.c[i].got;
        corrupt += w.c[i].corrupt;
        CHECK_EQ_UINT(w.c[i].closed, 0);
    }
    /* every message answered */
    CHECK(sent >= 1000 * 10);
    CHECK_EQ_UINT(w.server_got, sent);
    CHECK_EQ_UINT(got, sent);
    CHECK_EQ_UINT(corrupt + w.server_corrupt, 0);
    printf("1000 peers: %llu sessions, %llu messages each way, %llu cookies, %llu hellos\n",
           (unsigned long long)st.sessions, (unsigned long long)sent,
           (unsigned long long)st.cookies_sent, (unsigned long long)st.hellos);
    world_free(&w);
}

static void address_change(void)
{
    world w;
    world_init(&w, 20, 2, 0, 0, 0);
    start_all(&w);
    run(&w, w.now + 5 * SEC, SEC, 0, 0);
    CHECK_EQ_UINT(count_established(&w), 20);
    /* half the clients move (their NAT binding changed) */
    for (size_t i = 0; i < 10; i++)
        w.c[i].addr += 0x01000000u;
    uint64_t got_before = 0;
    for (size_t i = 0; i < 10; i++)
        got_before += w.c[i].got;
    run(&w, w.now + 20 * SEC, SEC, 0, 0);
    CHECK_EQ_UINT(w.addr_changes, 10);
    CHECK_EQ_UINT(w.sessions_opened, 20); /* no new handshake */
    for (size_t i = 0; i < 20; i++) {
        CHECK_EQ_UINT(w.c[i].closed, 0);
        CHECK_EQ_UINT(w.c[i].established, 1);
        CHECK(w.c[i].got + 1 >= w.c[i].sent); /* answers reach the new address */
    }
    world_free(&w);
}

static void hello_flood(void)
{
    /* 20,000 forged hellos a second that know the server's key (they pass
     * the mac), while 50 real clients connect */
    world w;
    world_init(&w, 50, 3, 0, 100, 0);
    start_all(&w);
    run(&w, w.now + 30 * SEC, SEC, 20000, 1);
    secureio_acceptor_counters st;
    secureio_acceptor_stats(w.acc, &st);
    CHECK_EQ_UINT(count_established(&w), 50);
    /* expensive answers are bounded by the rate for all, whatever the flood:
     * 100 a second to hellos without a cookie, 100 to hellos with one (only
     * who receives our packets has one), each with a second's burst; the
     * rest got cookies */
    CHECK(w.auth_r_sent <= 2 * 100 * 32);
    CHECK(st.cookies_sent > 100000);
    printf("hello flood (mac known): %llu forged in 30 s, %llu AUTH_R, %llu cookies, %llu answers "
           "dropped, %llu sessions\n",
           (unsigned long long)w.flood_sent, (unsigned long long)w.auth_r_sent,
           (unsigned long long)st.cookies_sent, (unsigned long long)st.answers_dropped,
           (unsigned long long)st.sessions);
    world_free(&w);

    /* forged hellos that do not know the key: all refused at the mac, no answer */
    world_init(&w, 10, 4, 0, 100, 0);
    start_all(&w);
    run(&w, w.now + 10 * SEC, SEC, 20000, 0);
    secureio_acceptor_stats(w.acc, &st);
    CHECK_EQ_UINT(count_established(&w), 10);
    CHECK(st.dropped[SECUREIO_DROP_NOT_FOR_US] >= w.flood_sent);
    CHECK(st.cookies_sent < 100);
    world_free(&w);
}

static void lossy_peers(void)
{
    world w;
    world_init(&w, 100, 5, 0, 0, 0.2);
    start_all(&w);
    run(&w, w.now + 60 * SEC, SEC, 0, 0);
    CHECK_EQ_UINT(count_established(&w), 100);
    uint64_t corrupt = w.server_corrupt;
    for (size_t i = 0; i < w.n; i++)
        corrupt += w.c[i].corrupt;
    CHECK_EQ_UINT(corrupt, 0);
    CHECK(w.server_got > 100 * 30);
    world_free(&w);
}

static void limits_and_endings(void)
{
    world w;
    world_init(&w, 30, 6, 20, 0, 0);
    start_all(&w);
    run(&w, w.now + 20 * SEC, SEC, 0, 0);
    secureio_acceptor_counters st;
    secureio_acceptor_stats(w.acc, &st);
    CHECK_EQ_UINT(st.sessions, 20);
    CHECK_EQ_UINT(count_established(&w), 20); /* the others wait for a confirmation */
    CHECK(st.sessions_refused >= 10);
    CHECK_EQ_UINT(w.peak_sessions, 20);
    /* five clients leave: their sessions end */
    size_t left = 0, gone = 0;
    for (size_t i = 0; i < w.n && left < 5; i++)
        if (secureio_engine_state(w.c[i].e) == SECUREIO_STATE_ESTABLISHED) {
            secureio_engine_close(w.c[i].e, w.now);
            flush_client(&w, &w.c[i]);
            gone = i;
            left++;
        }
    run(&w, w.now + 2 * SEC, 0, 0, 0);
    CHECK_EQ_UINT(w.sessions_ended, 5);
    secureio_acceptor_stats(w.acc, &st);
    CHECK_EQ_UINT(st.sessions, 15);
    /* the AUTH_I of a session that ended, replayed from elsewhere, makes no
     * session (its keys would start again at counter 0) */
    CHECK(w.c[gone].have_auth_i);
    uint32_t from = 0x7f000001u;
    uint64_t made = st.sessions_made;
    CHECK_EQ_INT(
        secureio_acceptor_recv(w.acc, w.c[gone].auth_i, SIO_HS_PACKET_LEN, &from, 4, w.now),
        SECUREIO_OK);
    secureio_acceptor_stats(w.acc, &st);
    CHECK_EQ_UINT(st.sessions_made, made);
    /* a record for no session: kept a moment (it may precede its AUTH_I), then dropped */
    uint8_t rec[64] = {SIO_PKT_RECORD, 0, 1, 2, 3, 4};
    CHECK_EQ_INT(secureio_acceptor_recv(w.acc, rec, sizeof rec, &from, 4, w.now), SECUREIO_OK);
    run(&w, w.now + 3 * SEC, 0, 0, 0);
    secureio_acceptor_stats(w.acc, &st);
    CHECK(st.dropped[SECUREIO_DROP_NOT_FOR_US] >= 1);
    /* the server shuts down: every session says goodbye and ends */
    uint64_t closed_before = 0;
    for (size_t i = 0; i < w.n; i++)
        closed_before += w.c[i].closed;
    secureio_acceptor_close(w.acc, w.now);
    run(&w, w.now + 2 * SEC, 0, 0, 0);
    secureio_acceptor_stats(w.acc, &st);
    CHECK_EQ_UINT(st.sessions, 0);
    CHECK_EQ_UINT(w.sessions_ended, w.sessions_opened);
    uint64_t closed_after = 0, by_peer = 0;
    for (size_t i = 0; i < w.n; i++) {
        closed_after += w.c[i].closed;
        by_peer += w.c[i].closed && w.c[i].closed_err == SECUREIO_ERR_CLOSED;
    }
    CHECK_EQ_UINT(closed_after - closed_before, 15); /* the 15 clients still up */
    CHECK(by_peer >= 15);
    world_free(&w);
}

/* An attacker that knows the server's key floods it from one real
 * address: fresh hellos, and hellos carrying every cookie it receives, to
 * keep the server's budget spent. The source's own share runs out, not the
 * others': real clients still connect. */
static void one_source_flood(void)
{
    world w;
    world_init(&w, 20, 7, 0, 100, 0);
    w.flood_from_one = 1;
    run(&w, w.now + 2 * SEC, 0, 6000, 1); /* the attacker first, 6000 hellos a second */
    start_all(&w);
    run(&w, w.now + 20 * SEC, 0, 6000, 1);
    secureio_acceptor_counters st;
    secureio_acceptor_stats(w.acc, &st);
    CHECK_EQ_UINT(count_established(&w), 20);
    CHECK(st.dropped[SECUREIO_DROP_RATE] > 1000); /* the attacker's cookies, refused */
    printf("flood from one address with cookies: %llu packets, %llu refused over its rate, "
           "20/20 clients in\n",
           (unsigned long long)w.flood_sent, (unsigned long long)st.dropped[SECUREIO_DROP_RATE]);
    world_free(&w);
}

/* An on-path attacker copies each client's AUTH_I and delivers it first,
 * from another address: the session is made there, but every copy's source
 * gets a CONFIRM until the peer's first record settles where it is. The
 * clients connect, and talk. */
static void auth_i_race(void)
{
    world w;
    world_init(&w, 10, 8, 0, 0, 0);
    w.race_auth_i = 1;
    w.banner = 1;
    start_all(&w);
    run(&w, w.now + 10 * SEC, SEC, 0, 0);
    run(&w, w.now + 2 * SEC, 0, 0, 0);
    CHECK_EQ_UINT(count_established(&w), 10);
    CHECK_EQ_UINT(w.sessions_opened, 10);
    for (size_t i = 0; i < w.n; i++) {
        CHECK(w.c[i].sent > 0);
        CHECK_EQ_UINT(w.c[i].got, w.c[i].sent);
        CHECK_EQ_UINT(w.c[i].banners, 1); /* nothing went to the spoofed address */
    }
    CHECK(w.addr_changes >= 10); /* from the spoofed address to the real one */
    world_free(&w);
}

/* A record is authentic but older than one already received, and comes
 * from another address (held back, or sent again by someone on the path):
 * it is delivered, and moves nothing. */
static void late_record(void)
{
    world w;
    world_init(&w, 2, 9, 0, 0, 0);
    start_all(&w);
    run(&w, w.now + 3 * SEC, SEC, 0, 0);
    CHECK_EQ_UINT(count_established(&w), 2);
    uint64_t moves = w.addr_changes;
    w.hold_record = 1;
    run(&w, w.now + 3 * SEC, SEC, 0, 0); /* newer records of client 0 arrive */
    CHECK(w.held_len > 0 && !w.hold_record);
    uint32_t from = SPOOFED_ADDR;
    CHECK_EQ_INT(secureio_acceptor_recv(w.acc, w.held, w.held_len, &from, 4, w.now), SECUREIO_OK);
    run(&w, w.now + 3 * SEC, SEC, 0, 0);
    run(&w, w.now + 2 * SEC, 0, 0, 0); /* what is in flight arrives */
    CHECK_EQ_UINT(w.addr_changes, moves);
    CHECK_EQ_UINT(w.c[0].got, w.c[0].sent);
    /* a record for an index no hello of ours was given is dropped at once
     * (it is nobody's early record) */
    secureio_acceptor_counters st;
    secureio_acceptor_stats(w.acc, &st);
    uint64_t before = st.dropped[SECUREIO_DROP_NOT_FOR_US];
    uint8_t rec[64] = {SIO_PKT_RECORD, 0, 9, 9, 9, 9};
    CHECK_EQ_INT(secureio_acceptor_recv(w.acc, rec, sizeof rec, &from, 4, w.now), SECUREIO_OK);
    secureio_acceptor_stats(w.acc, &st);
    CHECK_EQ_UINT(st.dropped[SECUREIO_DROP_NOT_FOR_US], before + 1);
    world_free(&w);
}

/* One host with many source ports is one source: the acceptor keys its
 * buckets on the IP address of a struct sockaddr_in (an IPv6 /64 for a
 * sockaddr_in6). An attacker that knows the key sends hellos from 512
 * ports of one address, and answers every cookie from the port it came to:
 * the answers it gets (each a DH and a signature) stay within that one
 * source's rate, not the server's whole budget. */
static void one_host_many_ports(void)
{
    world w;
    world_init(&w, 0, 10, 0, 100, 0);
    secureio_acceptor_free(w.acc);
    secureio_acceptor_config ac = SECUREIO_ACCEPTOR_CONFIG_INIT;
    ac.identity = w.server_id;
    ac.accept_any_peer = 1;
    ac.handshake_rate = 100;
    ac.source_rate = 5;
    ac.rng = w_rng;
    ac.rng_ctx = &w;
    CHECK_EQ_INT(secureio_acceptor_new(&w.acc, &ac, w.now), SECUREIO_OK);
    uint8_t mk[32];
    sio_mac_key(mk, w.server_pk);
    uint64_t auth_r = 0, cookies = 0;
    for (int step = 0; step < 1000; step++) { /* 10 s, a burst every 10 ms */
        w.now += 10 * MS;
        for (int k = 0; k < 20; k++) {
            struct sockaddr_in from;
            memset(&from, 0, sizeof from);
            from.sin_family = AF_INET;
            from.sin_addr.s_addr = htonl(0x0a010203u);
            from.sin_port = htons((uint16_t)(20000 + (step * 20 + k) % 512));
            sio_hs_packet h;
            uint8_t b[SIO_HS_PACKET_LEN];
            memset(&h, 0, sizeof h);
            h.type = SIO_PKT_HELLO;
            h.version = SIO_VERSION;
            h.index = (uint32_t)rnd(&w);
            w_rng(&w, h.e, 32);
            w_rng(&w, h.n, 32);
            sio_hs_encode(&h, b);
            sio_hs_mac_put(b, mk);
            CHECK_EQ_INT(secureio_acceptor_recv(w.acc, b, sizeof b, &from, sizeof from, w.now),
                         SECUREIO_OK);
        }
        for (;;) { /* the answers: cookies come back at once, with the cookie */
            uint8_t out[2048], addr[SECUREIO_ADDR_MAX];
            size_t n = sizeof out, al = sizeof addr;
            CHECK_EQ_INT(secureio_acceptor_poll(w.acc, out, &n, addr, &al, w.now), SECUREIO_OK);
            if (n == 0)
                break;
            if (out[0] == SIO_PKT_AUTH_R)
                auth_r++;
            if (out[0] != SIO_PKT_COOKIE)
                continue;
            cookies++;
            sio_hs_packet c;
            uint8_t b[SIO_HS_PACKET_LEN];
            CHECK_EQ_INT(sio_hs_decode(&c, out, n), 0);
            c.type = SIO_PKT_HELLO;
            memset(c.mac, 0, sizeof c.mac);
            sio_hs_encode(&c, b);
            sio_hs_mac_put(b, mk);
            CHECK_EQ_INT(secureio_acceptor_recv(w.acc, b, sizeof b, addr, al, w.now), SECUREIO_OK);
        }
    }
    /* Its hellos without a cookie take the server's hello budget (100 a
     * second: everyone else then needs a cookie, one more round trip); its
     * hellos with a cookie are answered within this host's share only, 5 a
     * second whatever the port, so the cookie budget stays for the others. */
    secureio_acceptor_counters st;
    secureio_acceptor_stats(w.acc, &st);
    uint64_t with_cookie = cookies - st.dropped[SECUREIO_DROP_RATE];
    CHECK(cookies > 1000);
    CHECK(with_cookie <= 5 * 10 + 5 + 1);
    CHECK(auth_r <= 100 * 10 + 100 + with_cookie);
    printf("one host, 512 ports: %llu cookies, %llu answered with a cookie in 10 s "
           "(its share: 5 a second)\n",
           (unsigned long long)cookies, (unsigned long long)with_cookie);
    world_free(&w);
}

static void config_checks(void)
{
    secureio_acceptor *a = NULL;
    secureio_acceptor_config ac = SECUREIO_ACCEPTOR_CONFIG_INIT;
    CHECK_EQ_INT(secureio_acceptor_new(&a, &ac, 0), SECUREIO_ERR_ARG);
    CHECK(strstr(secureio_error_detail(), "identity") != NULL);
    secureio_identity *id;
    uint8_t seed[32] = {1};
    CHECK_EQ_INT(secureio_identity_from_seed(&id, seed), SECUREIO_OK);
    ac.identity = id;
    CHECK_EQ_INT(secureio_acceptor_new(&a, &ac, 0), SECUREIO_ERR_ARG);
    CHECK(strstr(secureio_error_detail(), "no peer") != NULL);
    ac.accept_any_peer = 1;
    /* the sessions' configuration is checked as an engine's is */
    secureio_config bad = SECUREIO_CONFIG_INIT;
    bad.rekey_interval_ms = 5000;
    bad.key_lifetime_ms = 4000;
    ac.session = &bad;
    CHECK_EQ_INT(secureio_acceptor_new(&a, &ac, 0), SECUREIO_ERR_ARG);
    CHECK(strstr(secureio_error_detail(), "cfg->session") != NULL);
    CHECK(strstr(secureio_error_detail(), "key_lifetime_ms") != NULL);
    bad.key_lifetime_ms = 0;
    bad.max_packet_len = 100;
    CHECK_EQ_INT(secureio_acceptor_new(&a, &ac, 0), SECUREIO_ERR_ARG);
    CHECK(strstr(secureio_error_detail(), "max_packet_len") != NULL);
    ac.session = NULL;
    CHECK_EQ_INT(secureio_acceptor_new(&a, &ac, 0), SECUREIO_OK);
    uint8_t out[100], addr[4];
    size_t ol = sizeof out, al = sizeof addr;
    CHECK_EQ_INT(secureio_acceptor_poll(a, out, &ol, addr, &al, 0), SECUREIO_ERR_BUFFER);
    CHECK_EQ_UINT(ol, SECUREIO_DEFAULT_PACKET_LEN);
    CHECK_EQ_UINT(al, SECUREIO_ADDR_MAX);
    CHECK_EQ_INT(secureio_acceptor_recv(a, out, 10, addr, SECUREIO_ADDR_MAX + 1, 0),
                 SECUREIO_ERR_ARG);
    secureio_acceptor_free(a);
    secureio_identity_free(id);
}

int main(void)
{
    config_checks();
    thousand_peers();
    address_change();
    hello_flood();
    one_source_flood();
    one_host_many_ports();
    auth_i_race();
    late_record();
    lossy_peers();
    limits_and_endings();
    return test_summary("acceptor-sim");
}
