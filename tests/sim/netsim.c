/* SPDX-License-Identifier: Apache-2.0 */
#include "netsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_MAX_PACKET 65537u
#define SIM_MSG_HEADER 12u /* seq(8) || len(4) */

typedef struct sim_packet {
    uint64_t at;
    int to;
    size_t len;
    uint8_t *data;
} sim_packet;

uint64_t sim_rand(sim *s)
{
    /* splitmix64 */
    uint64_t z = (s->seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unit(sim *s)
{
    return (double)(sim_rand(s) >> 11) / (double)(1ULL << 53);
}

static int sim_rng(void *ctx, uint8_t *out, size_t len)
{
    sim *s = ctx;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = sim_rand(s);
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(out + i, &v, n);
    }
    return 0;
}

static void pattern(uint8_t *p, size_t len, uint64_t seq, int from)
{
    uint64_t x = seq * 0x9e3779b97f4a7c15ULL + (uint64_t)from;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

/* An engine call that failed (misuse, or a broken stream): counted. */
static void note(sim *s, int rc)
{
    if (rc != SECUREIO_OK && rc != SECUREIO_ERR_CLOSED)
        s->api_errors++;
}

/* ------------------------------------------------------------- callbacks */

static void on_message(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    sim_endpoint *ep = user;
    uint8_t expect[SIM_MAX_PACKET];
    uint64_t seq = 0;
    uint32_t mlen = 0;
    if (len < SIM_MSG_HEADER || channel != (uint32_t)(1 - ep->index) + 7u) {
        ep->corrupt_msgs++;
        return;
    }
    memcpy(&seq, data, 8);
    memcpy(&mlen, data + 8, 4);
    if (mlen != len || seq >= ep->seen_cap) {
        ep->corrupt_msgs++;
        return;
    }
    pattern(expect, len - SIM_MSG_HEADER, seq, 1 - ep->index);
    if (memcmp(expect, data + SIM_MSG_HEADER, len - SIM_MSG_HEADER) != 0) {
        ep->corrupt_msgs++;
        return;
    }
    if (ep->seen[seq]) {
        ep->duplicates++;
        return;
    }
    ep->seen[seq] = 1;
    ep->delivered++;
}

static void on_event(void *user, const secureio_event *ev)
{
    sim_endpoint *ep = user;
    switch (ev->type) {
    case SECUREIO_EVENT_ESTABLISHED: ep->established_events++; break;
    case SECUREIO_EVENT_REKEYED: ep->rekey_events++; break;
    case SECUREIO_EVENT_BAD_PACKET:
        ep->bad_packets++;
        if (getenv("SIM_DEBUG") != NULL)
            fprintf(stderr, "sim: endpoint %d dropped a packet (reason %d)\n", ep->index,
                    ev->drop_reason);
        break;
    case SECUREIO_EVENT_CLOSED:
        ep->closed_events++;
        ep->closed_err = ev->err;
        break;
    }
}

/* ----------------------------------------------------------------- links */

static void enqueue(sim *s, int to, const uint8_t *data, size_t len, uint64_t at)
{
    if (s->queue_len == s->queue_cap) {
        size_t cap = s->queue_cap ? s->queue_cap * 2 : 64;
        sim_packet *q = realloc(s->queue, cap * sizeof *q);
        if (q == NULL)
            abort();
        s->queue = q;
        s->queue_cap = cap;
    }
    sim_packet *p = &s->queue[s->queue_len++];
    p->at = at;
    p->to = to;
    p->len = len;
    p->data = malloc(len ? len : 1);
    if (p->data == NULL)
        abort();
    memcpy(p->data, data, len);
}

/* A packet from endpoint i goes through link i. */
static void transmit(sim *s, int from, const uint8_t *data, size_t len)
{
    const sim_link_params *l = &s->link[from];
    s->packets_sent++;
    if (s->stream) {
        /* a byte stream: in order, never lost; split at random points */
        size_t off = 0;
        while (off < len) {
            size_t n = 1 + (size_t)(sim_rand(s) % (len - off));
            enqueue(s, 1 - from, data + off, n, s->now + l->delay_ms);
            off += n;
        }
        return;
    }
    if ((s->now >= s->partition_from && s->now < s->partition_to) ||
        (l->mtu != 0 && len > l->mtu) || unit(s) < l->loss) {
        s->packets_dropped++;
        return;
    }
    int copies = unit(s) < l->dup ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        uint64_t at = s->now + l->delay_ms + (l->jitter_ms ? sim_rand(s) % (l->jitter_ms + 1) : 0);
        if (l->reorder_ms && unit(s) < l->reorder)
            at += 1 + sim_rand(s) % l->reorder_ms;
        enqueue(s, 1 - from, data, len, at);
        if (unit(s) < l->corrupt) {
            sim_packet *p = &s->queue[s->queue_len - 1];
            size_t bit = (size_t)(sim_rand(s) % (len * 8));
            p->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
}

static void flush(sim *s, int i)
{
    static uint8_t buf[SIM_MAX_PACKET];
    sim_endpoint *ep = &s->ep[i];
    for (;;) {
        size_t n = sizeof buf;
        if (secureio_engine_poll(ep->engine, buf, &n, s->now) != SECUREIO_OK || n == 0)
            break;
        transmit(s, i, buf, n);
    }
}

static void app_send(sim *s, int i)
{
    static uint8_t msg[SIM_MAX_PACKET], out[SIM_MAX_PACKET];
    sim_endpoint *ep = &s->ep[i];
    uint32_t channel = (uint32_t)i + 7u;
    size_t len = ep->msg_size < SIM_MSG_HEADER ? SIM_MSG_HEADER : ep->msg_size;
    size_t max = secureio_engine_max_message(ep->engine, channel);
    if (len > max)
        len = max;
    uint64_t seq = ep->sent;
    uint32_t mlen = (uint32_t)len;
    memcpy(msg, &seq, 8);
    memcpy(msg + 8, &mlen, 4);
    pattern(msg + SIM_MSG_HEADER, len - SIM_MSG_HEADER, seq, i);
    size_t n = sizeof out;
    if (secureio_engine_send(ep->engine, channel, msg, len, out, &n, s->now) != SECUREIO_OK) {
        ep->send_refused++;
        return;
    }
    ep->sent++;
    transmit(s, i, out, n);
}

/* ------------------------------------------------------------------ setup */

int sim_init(sim *s, uint64_t seed, int stream, sim_config_fn adjust, void *arg)
{
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->stream = stream;
    s->now = 1000;
    for (int i = 0; i < 2; i++) {
        uint8_t seedb[32];
        sim_rng(s, seedb, sizeof seedb);
        if (secureio_identity_from_seed(&s->ep[i].id, seedb) != SECUREIO_OK)
            return -1;
        secureio_identity_public_key(s->ep[i].id, s->ep[i].pk);
    }
    for (int i = 0; i < 2; i++) {
        sim_endpoint *ep = &s->ep[i];
        secureio_config cfg = SECUREIO_CONFIG_INIT;
        ep->index = i;
        ep->seen_cap = 1u << 22;
        ep->seen = calloc(ep->seen_cap, 1);
        if (ep->seen == NULL)
            return -1;
        cfg.identity = ep->id;
        cfg.peer_key = s->ep[1 - i].pk; /* borrowed: it lives in the sim */
        cfg.stream = stream;
        cfg.rng = sim_rng;
        cfg.rng_ctx = s;
        cfg.on_message = on_message;
        cfg.on_event = on_event;
        cfg.user = ep;
        if (adjust != NULL)
            adjust(i, &cfg, arg);
        if (secureio_engine_new(&ep->engine, &cfg) != SECUREIO_OK)
            return -1;
    }
    return 0;
}

void sim_free(sim *s)
{
    for (int i = 0; i < 2; i++) {
        secureio_engine_free(s->ep[i].engine);
        secureio_identity_free(s->ep[i].id);
        free(s->ep[i].seen);
    }
    for (size_t i = 0; i < s->queue_len; i++)
        free(s->queue[i].data);
    free(s->queue);
    memset(s, 0, sizeof *s);
}

void sim_start(sim *s, uint64_t start_gap_ms)
{
    note(s, secureio_engine_start(s->ep[0].engine, s->now));
    flush(s, 0);
    if (start_gap_ms == 0) {
        note(s, secureio_engine_start(s->ep[1].engine, s->now));
        flush(s, 1);
    } else {
        s->ep[1].next_send = UINT64_MAX - 1; /* marks "start pending" via next_send below */
        s->now += start_gap_ms;
        note(s, secureio_engine_start(s->ep[1].engine, s->now));
        flush(s, 1);
    }
    for (int i = 0; i < 2; i++)
        s->ep[i].next_send = s->now + s->ep[i].interval_ms;
}

/* The earliest pending delivery (index), or -1. Stream transports deliver
 * in queue order per direction, so the earliest is also the first queued. */
static long next_delivery(const sim *s)
{
    long best = -1;
    for (size_t i = 0; i < s->queue_len; i++)
        if (best < 0 || s->queue[i].at < s->queue[best].at)
            best = (long)i;
    return best;
}

void sim_run(sim *s, uint64_t until)
{
    while (s->now < until) {
        uint64_t t = until;
        long d = next_delivery(s);
        if (d >= 0 && s->queue[d].at < t)
            t = s->queue[d].at;
        for (int i = 0; i < 2; i++) {
            uint64_t dl = secureio_engine_deadline(s->ep[i].engine);
            if (dl < t)
                t = dl;
            if (s->ep[i].interval_ms && s->ep[i].next_send < t)
                t = s->ep[i].next_send;
        }
        if (t > s->now)
            s->now = t;
        /* deliveries due now, in time order */
        while ((d = next_delivery(s)) >= 0 && s->queue[d].at <= s->now) {
            sim_packet p = s->queue[d];
            memmove(&s->queue[d], &s->queue[d + 1], (s->queue_len - (size_t)d - 1) * sizeof p);
            s->queue_len--;
            note(s, secureio_engine_recv(s->ep[p.to].engine, p.data, p.len, s->now));
            free(p.data);
            flush(s, p.to);
        }
        for (int i = 0; i < 2; i++) {
            sim_endpoint *ep = &s->ep[i];
            if (secureio_engine_deadline(ep->engine) <= s->now) {
                note(s, secureio_engine_tick(ep->engine, s->now));
                flush(s, i);
            }
            if (ep->interval_ms && ep->next_send <= s->now) {
                if (secureio_engine_state(ep->engine) == SECUREIO_STATE_ESTABLISHED)
                    app_send(s, i);
                ep->next_send = s->now + ep->interval_ms;
                flush(s, i);
            }
        }
    }
}
