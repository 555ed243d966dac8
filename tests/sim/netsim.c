/* SPDX-License-Identifier: Apache-2.0 */
#include "netsim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_MAX_PACKET (65535u + 2u)
#define SIM_CHANNELS_MAX 64u

typedef struct sim_packet {
    uint64_t at;
    int to;
    size_t len;
    uint8_t *data;
} sim_packet;

/* What an asynchronous write borrows: freed at its completion. */
typedef struct sim_borrowed {
    sim_endpoint *ep;
    size_t len;
    uint8_t data[];
} sim_borrowed;

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

/* The body of message seq from endpoint `from`. */
static void pattern(uint8_t *p, size_t len, uint64_t seq, int from)
{
    uint64_t x = seq * 0x9e3779b97f4a7c15ULL + (uint64_t)from + 1;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
    for (; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

static int check_pattern(const uint8_t *p, size_t len, uint64_t seq, int from)
{
    uint8_t buf[4096];
    uint64_t x = seq * 0x9e3779b97f4a7c15ULL + (uint64_t)from + 1;
    /* the same generator, in pieces */
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof buf ? len - done : sizeof buf;
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(buf + i, &x, 8);
        }
        for (; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        if (memcmp(buf, p + done, n) != 0)
            return 0;
        done += n;
    }
    return 1;
}

/* An engine call that failed (misuse, or a broken stream): counted. */
static void note(sim *s, int rc)
{
    if (rc != SECUREIO_OK && rc != SECUREIO_ERR_CLOSED) {
        s->api_errors++;
        if (getenv("SIM_DEBUG") != NULL)
            fprintf(stderr, "sim: engine call failed: %s\n", secureio_strerror(rc));
    }
}

static void check_memory(sim_endpoint *ep)
{
    secureio_stats st;
    secureio_engine_stats(ep->engine, &st);
    if (st.reassembly_bytes > ep->peak_reassembly)
        ep->peak_reassembly = st.reassembly_bytes;
    if (st.queued_messages > ep->peak_queued)
        ep->peak_queued = st.queued_messages;
    if (st.reassembly_bytes > ep->max_reassembly || st.queued_messages > ep->max_queue_len)
        ep->limit_breaches++;
}

/* ------------------------------------------------------------- callbacks */

static void on_message(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    sim_endpoint *ep = user;
    uint64_t seq, cseq, mlen;
    int from = 1 - ep->index;
    if (len < SIM_MSG_HEADER) {
        ep->corrupt_msgs++;
        return;
    }
    memcpy(&seq, data, 8);
    memcpy(&cseq, data + 8, 8);
    memcpy(&mlen, data + 16, 8);
    if (mlen != len || seq >= ep->seen_cap ||
        !check_pattern(data + SIM_MSG_HEADER, len - SIM_MSG_HEADER, seq, from)) {
        ep->corrupt_msgs++;
        return;
    }
    /* the channel is a function of the sequence number (see app_write) */
    uint32_t nch = ep->peer_channels ? ep->peer_channels : 1;
    uint32_t slot = (uint32_t)(seq % nch);
    if (channel != (ep->peer_channels ? slot : SECUREIO_CHANNEL_DEFAULT)) {
        ep->wrong_channel++;
        return;
    }
    if (ep->seen[seq]) {
        ep->duplicates++;
        return;
    }
    ep->seen[seq] = 1;
    ep->delivered++;
    ep->bytes_delivered += len;
    if (cseq != ep->chan_next[slot])
        ep->out_of_order++;
    ep->chan_next[slot] = cseq + 1;
}

static void on_event(void *user, const secureio_event *ev)
{
    sim_endpoint *ep = user;
    switch (ev->type) {
    case SECUREIO_EVENT_ESTABLISHED: ep->established_events++; break;
    case SECUREIO_EVENT_REKEYED: ep->rekey_events++; break;
    case SECUREIO_EVENT_BAD_PACKET:
        ep->bad_packets++;
        if (ev->drop_reason > 0 && ev->drop_reason < SECUREIO_DROP_REASON_COUNT)
            ep->drops[ev->drop_reason]++;
        if (getenv("SIM_DEBUG") != NULL)
            fprintf(stderr, "sim: endpoint %d dropped a packet (%s)\n", ep->index,
                    secureio_drop_reason_str(ev->drop_reason));
        break;
    case SECUREIO_EVENT_CLOSED:
        ep->closed_events++;
        ep->closed_err = ev->err;
        if (getenv("SIM_DEBUG") != NULL)
            fprintf(stderr, "sim: endpoint %d closed: %s\n", ep->index, secureio_strerror(ev->err));
        break;
    case SECUREIO_EVENT_PACKET_SIZE:
        ep->size_events++;
        ep->packet_size = ev->packet_size;
        if (getenv("SIM_DEBUG") != NULL)
            fprintf(stderr, "sim: endpoint %d packet size %u\n", ep->index, ev->packet_size);
        break;
    case SECUREIO_EVENT_STATE: break;
    }
}

static void on_done_borrowed(void *arg, int err, size_t len)
{
    sim_borrowed *b = arg;
    if (err == SECUREIO_OK && len == b->len)
        b->ep->done_ok++;
    else
        b->ep->done_err++;
    free(b);
}

static void on_done_copied(void *arg, int err, size_t len)
{
    sim_endpoint *ep = arg;
    (void)len;
    if (err == SECUREIO_OK)
        ep->done_ok++;
    else
        ep->done_err++;
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
            enqueue(s, 1 - from, data + off, n, s->now + l->delay_ms * SIM_MS);
            off += n;
        }
        return;
    }
    if (l->mtu != 0 && len > l->mtu) {
        s->packets_too_big++;
        s->packets_dropped++;
        return;
    }
    if ((s->now >= s->partition_from && s->now < s->partition_to) || unit(s) < l->loss) {
        s->packets_dropped++;
        return;
    }
    int copies = unit(s) < l->dup ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        uint64_t at = s->now + l->delay_ms * SIM_MS +
                      (l->jitter_ms ? sim_rand(s) % (l->jitter_ms * SIM_MS + 1) : 0);
        if (l->reorder_ms && unit(s) < l->reorder)
            at += 1 + sim_rand(s) % (l->reorder_ms * SIM_MS);
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
        int rc = secureio_engine_poll(ep->engine, buf, &n, s->now);
        note(s, rc);
        check_memory(ep);
        if (rc != SECUREIO_OK || n == 0)
            break;
        transmit(s, i, buf, n);
    }
}

/* A size between min and max, log-uniform. */
static size_t draw_size(sim *s, size_t min, size_t max)
{
    if (max <= min)
        return min;
    double lo = log((double)min), hi = log((double)max + 1);
    size_t n = (size_t)exp(lo + (hi - lo) * unit(s));
    return n < min ? min : n > max ? max : n;
}

/* One write of endpoint i; 0 if the queue refused it. */
static int app_write(sim *s, int i)
{
    sim_endpoint *ep = &s->ep[i];
    sim_traffic *t = &ep->tx;
    uint64_t seq = ep->sent;
    uint32_t nch = t->channels ? t->channels : 1;
    uint32_t slot = (uint32_t)(seq % nch);
    uint32_t channel = t->channels ? slot : SECUREIO_CHANNEL_DEFAULT;
    size_t min = t->min_size < SIM_MSG_HEADER ? SIM_MSG_HEADER : t->min_size;
    size_t max = t->max_size < min ? min : t->max_size;
    /* the size is drawn once per sequence number (a refused write is retried as it was) */
    uint64_t keep = s->seed;
    s->seed = seq * 0x2545f4914f6cdd1dULL + (uint64_t)i;
    size_t len = draw_size(s, min, max);
    s->seed = keep;
    unsigned n = (unsigned)(seq + 1);
    unsigned flags = 0;
    if (t->sync_every && n % t->sync_every == 0)
        flags |= SECUREIO_WRITE_SYNC;
    int copy = t->copy_every && n % t->copy_every == 0;
    uint64_t cseq = ep->chan_sent[slot], mlen = len;
    uint8_t *p;
    sim_borrowed *b = NULL;
    if (copy) {
        p = s->msgbuf;
        flags |= SECUREIO_WRITE_COPY;
    } else {
        b = malloc(sizeof *b + len);
        if (b == NULL)
            abort();
        b->ep = ep;
        b->len = len;
        p = b->data;
    }
    memcpy(p, &seq, 8);
    memcpy(p + 8, &cseq, 8);
    memcpy(p + 16, &mlen, 8);
    pattern(p + SIM_MSG_HEADER, len - SIM_MSG_HEADER, seq, i);
    int rc =
        copy ? secureio_engine_write(ep->engine, channel, p, len, flags, on_done_copied, ep, s->now)
             : secureio_engine_write(ep->engine, channel, p, len, flags, on_done_borrowed, b,
                                     s->now);
    if (copy)
        memset(p, 0xee, len); /* the engine copied it: the buffer is ours again */
    if (rc != SECUREIO_OK) {
        free(b);
        if (rc == SECUREIO_ERR_AGAIN)
            ep->refused++;
        else
            note(s, rc);
        return 0;
    }
    ep->sent++;
    ep->bytes_sent += len;
    ep->chan_sent[slot]++;
    return 1;
}

static void app_send(sim *s, int i)
{
    sim_endpoint *ep = &s->ep[i];
    unsigned burst = ep->tx.burst ? ep->tx.burst : 1;
    for (unsigned k = 0; k < burst; k++) {
        if (!app_write(s, i))
            break;
        check_memory(ep);
    }
}

/* ------------------------------------------------------------------ setup */

int sim_init(sim *s, uint64_t seed, int stream, sim_config_fn adjust, void *arg)
{
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->stream = stream;
    s->now = 1000 * SIM_SEC;
    s->msgbuf = malloc(SECUREIO_DEFAULT_MAX_MESSAGE_LEN);
    if (s->msgbuf == NULL)
        return -1;
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
        ep->chan_sent = calloc(SIM_CHANNELS_MAX, sizeof *ep->chan_sent);
        ep->chan_next = calloc(SIM_CHANNELS_MAX, sizeof *ep->chan_next);
        if (ep->seen == NULL || ep->chan_sent == NULL || ep->chan_next == NULL)
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
        ep->max_reassembly = cfg.max_reassembly_bytes ? cfg.max_reassembly_bytes : 64u << 20;
        ep->max_queue_len = cfg.send_queue_len ? cfg.send_queue_len : 1024;
        if (secureio_engine_new(&ep->engine, &cfg) != SECUREIO_OK)
            return -1;
    }
    return 0;
}

void sim_free(sim *s)
{
    for (int i = 0; i < 2; i++) {
        secureio_engine_free(s->ep[i].engine); /* completes (and frees) what it borrowed */
        secureio_identity_free(s->ep[i].id);
        free(s->ep[i].seen);
        free(s->ep[i].chan_sent);
        free(s->ep[i].chan_next);
    }
    for (size_t i = 0; i < s->queue_len; i++)
        free(s->queue[i].data);
    free(s->queue);
    free(s->msgbuf);
    memset(s, 0, sizeof *s);
}

void sim_start(sim *s, uint64_t start_gap_ms)
{
    note(s, secureio_engine_start(s->ep[0].engine, s->now));
    flush(s, 0);
    s->now += start_gap_ms * SIM_MS;
    note(s, secureio_engine_start(s->ep[1].engine, s->now));
    flush(s, 1);
    for (int i = 0; i < 2; i++) {
        s->ep[i].next_send = s->now + s->ep[i].tx.interval_us;
        s->ep[i].peer_channels = s->ep[1 - i].tx.channels;
    }
}

/* The earliest pending delivery (index), or -1; of equal times the first
 * queued (streams keep their order). */
static long next_delivery(const sim *s)
{
    long best = -1;
    for (size_t i = 0; i < s->queue_len; i++)
        if (best < 0 || s->queue[i].at < s->queue[best].at)
            best = (long)i;
    return best;
}

static int can_write(const sim_endpoint *ep)
{
    secureio_state st = secureio_engine_state(ep->engine);
    return st == SECUREIO_STATE_HANDSHAKE || st == SECUREIO_STATE_NEGOTIATING ||
           st == SECUREIO_STATE_ESTABLISHED;
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
            if (s->ep[i].tx.interval_us && s->ep[i].next_send < t)
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
            check_memory(&s->ep[p.to]);
            free(p.data);
            flush(s, p.to);
        }
        for (int i = 0; i < 2; i++) {
            sim_endpoint *ep = &s->ep[i];
            if (secureio_engine_deadline(ep->engine) <= s->now) {
                note(s, secureio_engine_tick(ep->engine, s->now));
                flush(s, i);
            }
            if (ep->tx.interval_us && ep->next_send <= s->now) {
                if (can_write(ep))
                    app_send(s, i);
                ep->next_send = s->now + ep->tx.interval_us;
                flush(s, i);
            }
        }
    }
}
