/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pair of secureio engines driven by hand: two peers, their callbacks,
 * the driver that moves their packets and runs their clocks, filters, and
 * forged handshake packets. What a pair is, how time moves and how filters
 * work: engine_pair.h.
 */
#include "engine_pair.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "secureio/handshake.h"
#include "secureio/responder.h"
#include "test.h"

/* ------------------------------------------------------------- helpers */

static uint64_t min64(uint64_t x, uint64_t y)
{
    return x < y ? x : y;
}

/* The bytes of message `seed`: a pattern of its own. */
void fill(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8) + (i >> 16));
}

static void hash16(uint8_t out[16], const uint8_t *d, size_t n)
{
    static const uint8_t none = 0;
    crypto_generichash(out, 16, n > 0 ? d : &none, n, NULL, 0);
}

uint64_t det_state;

/* A fixed generator: the engines become deterministic. */
int det_rng(void *ctx, uint8_t *out, size_t len)
{
    uint64_t *st = ctx;
    for (size_t i = 0; i < len; i++) {
        *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
        out[i] = (uint8_t)(*st >> 56);
    }
    return 0;
}

/* ------------------------------------------------------------ a peer */

void on_msg(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    peer *p = user;
    if (p->messages == p->log_cap) {
        size_t cap = p->log_cap ? 2 * p->log_cap : 64;
        rmsg *l = realloc(p->log, cap * sizeof *l);
        if (l == NULL)
            abort();
        p->log = l;
        p->log_cap = cap;
    }
    rmsg *m = &p->log[p->messages++];
    m->channel = channel;
    m->len = len;
    hash16(m->hash, data, len);
    p->last_channel = channel;
    p->last_len = len;
    if (len > 0)
        memcpy(p->last_msg, data, len < sizeof p->last_msg ? len : sizeof p->last_msg);
    if (p->echo && len == 3 && memcmp(data, "bye", 3) == 0) {
        secureio_engine_close(p->e, p->now); /* allowed inside a callback */
    } else if (p->echo) {
        /* an answer written from inside the callback (data is valid only
         * now: copied), and what else may be asked there */
        CHECK_EQ_INT(secureio_engine_write(p->e, channel, data, len,
                                           SECUREIO_WRITE_COPY | SECUREIO_WRITE_SYNC, NULL, NULL,
                                           p->now),
                     SECUREIO_OK);
        secureio_stats st;
        secureio_engine_stats(p->e, &st);
        CHECK(st.messages_in >= 1);
        CHECK_EQ_UINT(st.queued_messages, 1);
        CHECK(secureio_engine_state(p->e) == SECUREIO_STATE_ESTABLISHED);
        CHECK(secureio_engine_max_message(p->e, channel) > len);
        uint8_t pk[32];
        CHECK_EQ_INT(secureio_engine_peer_key(p->e, pk), SECUREIO_OK);
    }
}

void on_ev(void *user, const secureio_event *ev)
{
    peer *p = user;
    if (p->closed > 0)
        p->events_after_close++;
    switch (ev->type) {
    case SECUREIO_EVENT_ESTABLISHED:
        p->established++;
        p->established_has_key = ev->has_peer_key;
        memcpy(p->established_key, ev->peer_key, 32);
        p->max_at_established = secureio_engine_max_message(p->e, 0);
        if (p->on_established != NULL)
            p->on_established(p);
        break;
    case SECUREIO_EVENT_REKEYED: p->rekeyed++; break;
    case SECUREIO_EVENT_BAD_PACKET:
        p->bad++;
        if (ev->drop_reason > 0 && ev->drop_reason < SECUREIO_DROP_REASON_COUNT)
            p->drops[ev->drop_reason]++;
        if (ev->drop_reason == SECUREIO_DROP_PEER) {
            p->refused_has_key = ev->has_peer_key;
            memcpy(p->refused_key, ev->peer_key, 32);
        }
        break;
    case SECUREIO_EVENT_CLOSED:
        p->closed++;
        p->closed_err = ev->err;
        p->closed_at = p->now;
        p->messages_at_close = p->messages;
        break;
    case SECUREIO_EVENT_STATE:
        if (p->n_states < sizeof p->states / sizeof p->states[0])
            p->states[p->n_states++] = ev->state;
        if (p->close_in_state != SECUREIO_STATE_NEW && ev->state == p->close_in_state)
            secureio_engine_close_now(p->e, p->now); /* allowed inside a callback */
        break;
    case SECUREIO_EVENT_PACKET_SIZE:
        p->size_events++;
        p->last_size = ev->packet_size;
        break;
    }
}

/* 1 if message i of p was (channel, data[len]). */
int msg_is(const peer *p, size_t i, uint32_t channel, const uint8_t *data, size_t len)
{
    uint8_t h[16];
    if (i >= p->messages)
        return 0;
    hash16(h, data, len);
    return p->log[i].channel == channel && p->log[i].len == len &&
           memcmp(p->log[i].hash, h, 16) == 0;
}

int got(const peer *p, const char *msg)
{
    return p->messages > 0 && p->last_len == strlen(msg) &&
           memcmp(p->last_msg, msg, p->last_len) == 0;
}

int has_state(const peer *p, secureio_state s)
{
    for (size_t i = 0; i < p->n_states; i++)
        if (p->states[i] == s)
            return 1;
    return 0;
}

secureio_stats stats_of(const peer *p)
{
    secureio_stats st;
    secureio_engine_stats(p->e, &st);
    return st;
}

/* An identity from a seed byte, nothing else yet. */
void peer_init(peer *p, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(p, 0, sizeof *p);
    memset(seed, seed_byte, sizeof seed);
    CHECK_EQ_INT(secureio_identity_from_seed(&p->id, seed), SECUREIO_OK);
    secureio_identity_public_key(p->id, p->pk);
    p->now = T0;
}

void peer_engine(peer *p, int i, const uint8_t *peer_key, adjust_fn adjust)
{
    secureio_config cfg = SECUREIO_CONFIG_INIT;
    cfg.identity = p->id;
    cfg.peer_key = peer_key;
    cfg.rng = det_rng;
    cfg.rng_ctx = &det_state;
    cfg.on_message = on_msg;
    cfg.on_event = on_ev;
    cfg.user = p;
    if (adjust != NULL)
        adjust(i, &cfg);
    CHECK_EQ_INT(secureio_engine_new(&p->e, &cfg), SECUREIO_OK);
}

/* Two identities (seeds 0x11 and 0x22) whose engines pin each other. */
void make_pair(peer *a, peer *b, adjust_fn adjust)
{
    peer_init(a, 0x11);
    peer_init(b, 0x22);
    peer_engine(a, 0, b->pk, adjust);
    peer_engine(b, 1, a->pk, adjust);
}

void free_peer(peer *p)
{
    if (p->events_after_close != 0)
        CHECK_EQ_INT(p->events_after_close, 0);
    secureio_engine_free(p->e);
    p->e = NULL;
    secureio_identity_free(p->id);
    p->id = NULL;
    free(p->log);
    p->log = NULL;
}

void free_pair(peer *a, peer *b)
{
    free_peer(a);
    free_peer(b);
}

/* Side 1 only answers (no pinned key: it accepts anyone). */
void resp_any(int i, secureio_config *cfg)
{
    if (i == 1) {
        cfg->peer_key = NULL;
        cfg->accept_any_peer = 1;
    }
}

void stream_cfg(int i, secureio_config *cfg)
{
    (void)i;
    cfg->stream = 1;
}

void stream_resp_any(int i, secureio_config *cfg)
{
    resp_any(i, cfg);
    cfg->stream = 1;
}

/* ------------------------------------------------------------ the driver */

uint8_t pump_pkt[MAXP];
unsigned long stuck_deadlines;

/* Hands a packet (or stream bytes) to p; it may be closed or not started. */
static void deliver(peer *to, const uint8_t *pkt, size_t len)
{
    int rc = secureio_engine_recv(to->e, pkt, len, to->now);
    if (rc != SECUREIO_OK && rc != SECUREIO_ERR_CLOSED && rc != SECUREIO_ERR_STATE)
        CHECK_EQ_INT(rc, SECUREIO_OK);
}

/* The same, for an engine that must take it. */
void feed(peer *p, const uint8_t *pkt, size_t len)
{
    CHECK_EQ_INT(secureio_engine_recv(p->e, pkt, len, p->now), SECUREIO_OK);
}

/* Runs the timers due at now, then moves every packet each engine has for
 * the other until both are quiet. Returns the packets moved (dropped ones
 * included). */
size_t pump_f(peer *a, peer *b, uint64_t now, filter_fn f, void *arg)
{
    peer *ps[2] = {a, b};
    size_t moved = 0;
    a->now = b->now = now;
    for (int round = 0; round < 100000; round++) {
        int any = 0;
        for (int i = 0; i < 2; i++) {
            if (secureio_engine_deadline(ps[i]->e) <= now) {
                int rc = secureio_engine_tick(ps[i]->e, now);
                if (rc != SECUREIO_OK)
                    CHECK_EQ_INT(rc, SECUREIO_OK);
            }
            size_t n = sizeof pump_pkt;
            while (secureio_engine_poll(ps[i]->e, pump_pkt, &n, now) == SECUREIO_OK && n > 0) {
                any = 1;
                moved++;
                if (f == NULL || f(arg, i, pump_pkt, n))
                    deliver(ps[1 - i], pump_pkt, n);
                n = sizeof pump_pkt;
            }
        }
        if (!any)
            break;
    }
    return moved;
}

size_t pump(peer *a, peer *b, uint64_t now)
{
    return pump_f(a, b, now, NULL, NULL);
}

static uint64_t next_deadline(const peer *a, const peer *b)
{
    return min64(secureio_engine_deadline(a->e), secureio_engine_deadline(b->e));
}

/* Advances the clock from the later of the two peers' times to until,
 * stopping at every deadline of either engine (timers, send delays). */
void run_f(peer *a, peer *b, uint64_t until, filter_fn f, void *arg)
{
    uint64_t now = a->now > b->now ? a->now : b->now;
    if (until < now)
        until = now;
    for (;;) {
        pump_f(a, b, now, f, arg);
        uint64_t d = next_deadline(a, b);
        if (d <= now) {
            pump_f(a, b, now, f, arg);
            d = next_deadline(a, b);
            if (d <= now) {
                stuck_deadlines++; /* the caller would spin: counted, checked in main */
                d = now + MS;
            }
        }
        if (d >= until)
            break;
        now = d;
    }
    pump_f(a, b, until, f, arg);
}

void run(peer *a, peer *b, uint64_t until)
{
    run_f(a, b, until, NULL, NULL);
}

int both_established(const peer *a, const peer *b)
{
    return secureio_engine_state(a->e) == SECUREIO_STATE_ESTABLISHED &&
           secureio_engine_state(b->e) == SECUREIO_STATE_ESTABLISHED;
}

/* Starts both and moves packets at the start time: 1 if both are then
 * ESTABLISHED (a clean link finishes path size discovery at once). */
int connect_pair(peer *a, peer *b)
{
    CHECK_EQ_INT(secureio_engine_start(a->e, a->now), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_start(b->e, b->now), SECUREIO_OK);
    pump(a, b, a->now);
    return both_established(a, b);
}

/* Writes msg from one peer (synchronous, copied) and hands every packet it
 * then has to the other; returns the last one's length (the message's
 * record), copied to rec_out (PKT bytes) if not NULL. */
size_t send_msg(peer *from, peer *to, uint32_t channel, const char *msg, uint8_t *rec_out)
{
    size_t len = strlen(msg), last = 0, n = sizeof pump_pkt;
    CHECK_EQ_INT(secureio_engine_write(from->e, channel, (const uint8_t *)msg, len,
                                       SECUREIO_WRITE_SYNC | SECUREIO_WRITE_COPY, NULL, NULL,
                                       from->now),
                 SECUREIO_OK);
    to->now = from->now;
    while (secureio_engine_poll(from->e, pump_pkt, &n, from->now) == SECUREIO_OK && n > 0) {
        if (rec_out != NULL && n <= PKT)
            memcpy(rec_out, pump_pkt, n);
        last = n;
        feed(to, pump_pkt, n);
        n = sizeof pump_pkt;
    }
    return last;
}

void store_add(store *s, int from, const uint8_t *pkt, size_t len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        pktcopy *p = realloc(s->p, cap * sizeof *p);
        if (p == NULL)
            abort();
        s->p = p;
        s->cap = cap;
    }
    s->p[s->n].data = malloc(len);
    if (s->p[s->n].data == NULL)
        abort();
    memcpy(s->p[s->n].data, pkt, len);
    s->p[s->n].len = len;
    s->p[s->n].from = from;
    s->n++;
}

void store_free(store *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->p[i].data);
    free(s->p);
    memset(s, 0, sizeof *s);
}

/* Polls p until it has nothing more, keeping each packet in s. */
size_t drain(peer *p, int from, store *s)
{
    size_t k = 0, n = sizeof pump_pkt;
    while (secureio_engine_poll(p->e, pump_pkt, &n, p->now) == SECUREIO_OK && n > 0) {
        store_add(s, from, pump_pkt, n);
        k++;
        n = sizeof pump_pkt;
    }
    return k;
}

/* Polls p once: the packet's length (0: none). */
size_t poll1(peer *p, uint8_t *out, size_t room)
{
    size_t n = room;
    CHECK_EQ_INT(secureio_engine_poll(p->e, out, &n, p->now), SECUREIO_OK);
    return n;
}

int drop_filter(void *arg, int from, const uint8_t *pkt, size_t len)
{
    dropper *d = arg;
    (void)pkt;
    if ((d->from < 0 || d->from == from) && (d->len == 0 || d->len == len)) {
        d->dropped++;
        return 0;
    }
    d->passed++;
    return 1;
}

/* Records every packet (and passes it). */
int record_filter(void *arg, int from, const uint8_t *pkt, size_t len)
{
    store_add(arg, from, pkt, len);
    return 1;
}

/* ------------------------------------------------ handshake forgeries */

void make_hello(fake_hello *f, const uint8_t *mac_pk)
{
    memset(f, 0, sizeof *f);
    randombytes_buf(f->priv, 32);
    f->h.type = SIO_PKT_HELLO;
    f->h.version = SIO_VERSION;
    f->h.index = randombytes_random();
    sio_x25519_public(f->h.e, f->priv);
    randombytes_buf(f->h.n, 32);
    sio_hs_encode(&f->h, f->pkt);
    if (mac_pk != NULL) {
        uint8_t k[32];
        sio_mac_key(k, mac_pk);
        sio_hs_mac_put(f->pkt, k);
    }
}

/* The handshake secret and transcript of hello h and the answer's fields,
 * computed by whoever holds the private key of one of the ephemerals. */
static void hs_secret(uint8_t hs[32], uint8_t th[32], const uint8_t priv[32],
                      const uint8_t peer_e[32], const sio_hs_packet *h, const sio_hs_packet *r)
{
    uint8_t dh[32], kpsk[32];
    CHECK_EQ_INT(sio_x25519(dh, priv, peer_e), 0);
    sio_transcript(th, h->options, h->index, h->e, h->n, r->options, r->index, r->e, r->n);
    sio_psk_key(kpsk, NULL, 0);
    sio_handshake_secret(hs, kpsk, dh, th);
}

/* An AUTH_R forged for the hello h (captured on the wire) by someone who
 * knows the responder's public key: it echoes h's nonce and has the right
 * mac; its ciphertext is garbage (signer NULL), or a real one of its own
 * ephemeral exchange signed by signer (an identity nobody authorized). */
void forge_auth_r(uint8_t out[HS], const sio_hs_packet *h, const uint8_t resp_pk[32],
                  const secureio_identity *signer)
{
    uint8_t priv[32], mk[32];
    sio_hs_packet p;
    memset(&p, 0, sizeof p);
    p.type = SIO_PKT_AUTH_R;
    p.version = SIO_VERSION;
    p.options = h->options;
    p.index = randombytes_random();
    randombytes_buf(priv, 32);
    sio_x25519_public(p.e, priv);
    randombytes_buf(p.n, 32);
    memcpy(p.echo, h->n, 32);
    sio_mac_key(mk, resp_pk);
    if (signer == NULL) {
        randombytes_buf(p.ct, sizeof p.ct);
        sio_hs_encode(&p, out);
        sio_hs_mac_put(out, mk);
        return;
    }
    uint8_t hs[32], th[32], spk[32];
    hs_secret(hs, th, priv, h->e, h, &p);
    secureio_identity_public_key(signer, spk);
    CHECK_EQ_INT(sio_auth_seal(signer, spk, &p, hs, 0, th, NULL, mk, out), SECUREIO_OK);
}

/* The AUTH_I of a third party with identity id, for its hello f answered
 * by the AUTH_R ar_pkt of the responder resp_pk (id NULL: garbage
 * ciphertext, the right mac). */
void fake_auth_i(uint8_t out[HS], const fake_hello *f, const uint8_t *ar_pkt,
                 const secureio_identity *id, const uint8_t resp_pk[32])
{
    sio_hs_packet ar, a;
    uint8_t mk[32];
    CHECK_EQ_INT(sio_hs_decode(&ar, ar_pkt, HS), 0);
    a = f->h;
    a.type = SIO_PKT_AUTH_I;
    memcpy(a.echo, ar.n, 32);
    memcpy(a.ticket, ar.ticket, SIO_TICKET_LEN); /* the responder's, echoed */
    sio_mac_key(mk, resp_pk);
    if (id == NULL) {
        randombytes_buf(a.ct, sizeof a.ct);
        sio_hs_encode(&a, out);
        sio_hs_mac_put(out, mk);
        return;
    }
    uint8_t hs[32], th[32], pk[32];
    hs_secret(hs, th, f->priv, ar.e, &f->h, &ar);
    secureio_identity_public_key(id, pk);
    CHECK_EQ_INT(sio_auth_seal(id, pk, &a, hs, 1, th, resp_pk, mk, out), SECUREIO_OK);
}
