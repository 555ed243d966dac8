/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime (include/secureio/session.h) over real sockets, under real
 * trouble:
 *   - UDP on loopback through a relay thread of our own that drops,
 *     duplicates, reorders, delays and corrupts datagrams: every message
 *     delivered is exact and delivered once, corrupted datagrams are
 *     counted as dropped, some messages are lost, the session survives;
 *   - TCP, unix stream and unix datagram sockets through listeners:
 *     everything arrives, exact, in order on the streams;
 *   - a peer process killed mid-session (UDP, TCP, unix), and a peer cut
 *     off by the relay: the other side ends with a sensible reason;
 *   - a peer with the wrong key, either way: no session, ever;
 *   - a client whose UDP source address changes (the relay's socket toward
 *     the listener is replaced): the listener's session follows it;
 *   - identities made by the real ssh-keygen.
 * Every message carries its channel, a sequence number, its length and a
 * pattern derived from them, so the receiver checks each byte.
 *
 * The same program also serves tests/net/netns.sh: "--child URL" is the
 * peer process that gets killed, "--check-pieces IN OUT" checks that OUT is
 * IN with whole pieces left out (what the secureio CLI delivers over a
 * lossy datagram link).
 */
#define _GNU_SOURCE

#include <secureio/session.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

extern char **environ;

static secureio_identity *id_a, *id_b, *id_c;
static uint8_t pk_a[32], pk_b[32], pk_c[32];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t rnd(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ull;
    return mix64(*state);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void options(secureio_session_options *o, int side)
{
    secureio_session_options init = SECUREIO_SESSION_OPTIONS_INIT;
    *o = init;
    o->identity = side == 0 ? id_a : id_b;
    if (side == 0)
        o->peer_key = pk_b; /* a connects to b */
    else
        o->accept_any_peer = 1;
    o->handshake_timeout_ms = 10000;
}

/* ------------------------------------------------------------ messages */

/* Channels used: the default one, 1, 2, 3, and TINY_CH for messages of 1
 * to 7 bytes (too short for a header: their bytes say which they are). */
#define NIDX 5
#define TINY_CH 9u
#define TINY_IDX 4
#define HDR 16u
#define MAX_MSG 65536u
#define MAX_SEQ 16384u

static const uint32_t channels[NIDX] = {SECUREIO_CHANNEL_DEFAULT, 1, 2, 3, TINY_CH};

static int ch_index(uint32_t ch)
{
    for (int i = 0; i < NIDX; i++)
        if (channels[i] == ch)
            return i;
    return -1;
}

static uint32_t msg_check(uint32_t ch, uint32_t seq, uint32_t len)
{
    return (uint32_t)mix64(((uint64_t)ch << 32 | seq) ^ ((uint64_t)len << 7));
}

/* The i-th 8-byte word of a message's pattern. */
static uint64_t pattern_word(uint32_t ch, uint32_t seq, size_t i)
{
    return mix64(((uint64_t)ch << 40) ^ ((uint64_t)seq << 20) ^ (uint64_t)i ^ 0x5ec5e10ull);
}

static void make_msg(uint8_t *buf, uint32_t ch, uint32_t seq, uint32_t len)
{
    if (ch == TINY_CH) {
        /* seq = 7 * k + (len - 1): the first byte is k */
        uint32_t k = seq / 7u;
        for (uint32_t i = 0; i < len; i++)
            buf[i] = (uint8_t)(i == 0 ? k : k * 31u + i * 7u);
        return;
    }
    put32(buf, ch);
    put32(buf + 4, seq);
    put32(buf + 8, len);
    put32(buf + 12, msg_check(ch, seq, len));
    for (size_t i = HDR; i < len; i += 8) {
        uint64_t w = pattern_word(ch, seq, i / 8);
        for (size_t j = 0; j < 8 && i + j < len; j++)
            buf[i + j] = (uint8_t)(w >> (8 * j));
    }
}

/* The sequence number of an exact message of ch, or -1. */
static int64_t check_msg(uint32_t ch, const uint8_t *d, size_t len)
{
    if (ch == TINY_CH) {
        if (len < 1 || len > 7)
            return -1;
        uint32_t k = d[0];
        for (uint32_t i = 1; i < len; i++)
            if (d[i] != (uint8_t)(k * 31u + i * 7u))
                return -1;
        return (int64_t)(k * 7u + (uint32_t)len - 1u);
    }
    if (len < HDR || len > MAX_MSG)
        return -1;
    uint32_t seq = get32(d + 4);
    if (get32(d) != ch || get32(d + 8) != len || get32(d + 12) != msg_check(ch, seq, (uint32_t)len))
        return -1;
    for (size_t i = HDR; i < len; i += 8) {
        uint64_t w = pattern_word(ch, seq, i / 8);
        for (size_t j = 0; j < 8 && i + j < len; j++)
            if (d[i + j] != (uint8_t)(w >> (8 * j)))
                return -1;
    }
    return seq;
}

/* What one side received. */
typedef struct tracker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t seen[NIDX][MAX_SEQ];
    int64_t last[NIDX];
    uint64_t got[NIDX];
    uint64_t delivered, bad, dup, out_of_order, bytes;
} tracker;

static tracker *tracker_new(void)
{
    tracker *t = calloc(1, sizeof *t);
    if (t == NULL)
        abort();
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    for (int i = 0; i < NIDX; i++)
        t->last[i] = -1;
    return t;
}

static void tracker_free(tracker *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

static void tracker_take(tracker *t, uint32_t ch, const uint8_t *d, size_t len)
{
    int idx = ch_index(ch);
    int64_t seq = idx < 0 ? -1 : check_msg(ch, d, len);
    pthread_mutex_lock(&t->mu);
    if (seq < 0 || seq >= (int64_t)MAX_SEQ) {
        t->bad++;
        if (t->bad <= 3)
            fprintf(stderr, "bad message: channel %" PRIu32 ", %zu bytes\n", ch, len);
    } else if (t->seen[idx][seq]) {
        t->dup++;
    } else {
        t->seen[idx][seq] = 1;
        if (seq < t->last[idx])
            t->out_of_order++;
        else
            t->last[idx] = seq;
        t->got[idx]++;
        t->delivered++;
        t->bytes += len;
    }
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static uint64_t tracker_delivered(tracker *t)
{
    pthread_mutex_lock(&t->mu);
    uint64_t n = t->delivered;
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* Waits until want messages arrived, or (quiet_ms > 0) nothing arrived for
 * quiet_ms, or the deadline. The count. */
static uint64_t tracker_wait(tracker *t, uint64_t want, unsigned quiet_ms, unsigned deadline_ms)
{
    uint64_t end = now_ms() + deadline_ms;
    pthread_mutex_lock(&t->mu);
    uint64_t last_n = t->delivered, last_t = now_ms();
    while (t->delivered < want) {
        uint64_t now = now_ms();
        if (now >= end)
            break;
        if (t->delivered != last_n) {
            last_n = t->delivered;
            last_t = now;
        } else if (quiet_ms > 0 && now - last_t >= quiet_ms) {
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
    }
    uint64_t n = t->delivered;
    pthread_mutex_unlock(&t->mu);
    return n;
}

static void on_msg(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    tracker_take(user, channel, data, len);
}

/* One end of a session: handlers on the channels, a reader thread on the
 * default channel. */
typedef struct endpoint {
    secureio_session *s;
    tracker *t;
    pthread_t reader;
    int reading;
    atomic_int stop;
    int read_err; /* how the reader ended (SECUREIO_ERR_CLOSED: the session did) */
} endpoint;

static void *reader_main(void *arg)
{
    endpoint *e = arg;
    uint8_t *buf = malloc(MAX_MSG);
    if (buf == NULL)
        abort();
    e->read_err = SECUREIO_OK;
    while (!atomic_load(&e->stop)) {
        size_t n = 0;
        int rc = secureio_read_timeout(e->s, buf, MAX_MSG, &n, 100);
        if (rc == SECUREIO_OK)
            tracker_take(e->t, SECUREIO_CHANNEL_DEFAULT, buf, n);
        else if (rc != SECUREIO_ERR_TIMEOUT && rc != SECUREIO_ERR_AGAIN) {
            e->read_err = rc;
            break;
        }
    }
    free(buf);
    return NULL;
}

static int endpoint_start(endpoint *e, secureio_session *s)
{
    memset(e, 0, sizeof *e);
    e->s = s;
    e->t = tracker_new();
    for (int i = 1; i < NIDX; i++)
        if (secureio_session_set_handler(s, channels[i], on_msg, e->t) != SECUREIO_OK)
            return 0;
    if (pthread_create(&e->reader, NULL, reader_main, e) != 0)
        return 0;
    e->reading = 1;
    return 1;
}

static void endpoint_stop(endpoint *e)
{
    atomic_store(&e->stop, 1);
    if (e->reading)
        pthread_join(e->reader, NULL);
    e->reading = 0;
}

static void endpoint_free(endpoint *e)
{
    endpoint_stop(e);
    secureio_session_free(e->s);
    e->s = NULL;
    tracker_free(e->t);
    e->t = NULL;
}

/* A sender thread: n messages of sizes 1 B .. 64 KiB on all channels. */
typedef struct sender {
    secureio_session *s;
    uint64_t seed;
    unsigned n;
    unsigned pace_every; /* a millisecond's pause after this many messages (0: none) */
    uint32_t sent[NIDX];
    uint64_t bytes;
    int err;
    pthread_t th;
} sender;

static uint32_t pick_len(uint64_t *r, unsigned i)
{
    if (i == 0)
        return MAX_MSG; /* the extremes, early */
    if (i == 1)
        return HDR;
    uint64_t x = rnd(r), p = x % 100;
    x >>= 8;
    if (p < 55)
        return HDR + (uint32_t)(x % 1200);
    if (p < 85)
        return 1200 + (uint32_t)(x % 8000);
    if (p < 97)
        return 9200 + (uint32_t)(x % 23569);
    return 32768 + (uint32_t)(x % 32769);
}

static void *sender_main(void *arg)
{
    sender *sd = arg;
    uint8_t *buf = malloc(MAX_MSG);
    if (buf == NULL)
        abort();
    uint64_t r = sd->seed;
    sd->err = SECUREIO_OK;
    for (unsigned i = 0; i < sd->n; i++) {
        int idx;
        uint32_t len;
        if (i % 8 == 7) {
            idx = TINY_IDX;
            len = 1 + sd->sent[idx] % 7u;
        } else {
            idx = (int)(rnd(&r) % (NIDX - 1));
            len = pick_len(&r, i);
        }
        if (sd->sent[idx] >= MAX_SEQ)
            continue;
        uint32_t ch = channels[idx];
        make_msg(buf, ch, sd->sent[idx], len);
        int rc = ch == SECUREIO_CHANNEL_DEFAULT ? secureio_write(sd->s, buf, len)
                                                : secureio_write_message(sd->s, ch, buf, len);
        if (rc != SECUREIO_OK) {
            sd->err = rc;
            break;
        }
        sd->sent[idx]++;
        sd->bytes += len;
        if (sd->pace_every > 0 && i % sd->pace_every == sd->pace_every - 1)
            sleep_ms(1);
    }
    free(buf);
    return NULL;
}

static void sender_start(sender *sd, secureio_session *s, uint64_t seed, unsigned n,
                         unsigned pace_every)
{
    memset(sd, 0, sizeof *sd);
    sd->s = s;
    sd->seed = seed;
    sd->n = n;
    sd->pace_every = pace_every;
    if (pthread_create(&sd->th, NULL, sender_main, sd) != 0)
        abort();
}

static uint64_t sender_total(const sender *sd)
{
    uint64_t n = 0;
    for (int i = 0; i < NIDX; i++)
        n += sd->sent[i];
    return n;
}

/* ------------------------------------------------------------ the relay */

typedef struct rpkt {
    uint64_t at_us, order;
    int dir; /* 0: client to listener, 1: listener to client */
    size_t len;
    uint8_t data[];
} rpkt;

#define RELAY_QUEUE 8192

typedef struct relay {
    int cfd; /* the client talks to this one */
    int lfd; /* toward the listener (replaced by a rebind) */
    struct sockaddr_in caddr, laddr;
    int have_caddr;
    pthread_t th;
    atomic_int stop;
    pthread_mutex_t mu;
    /* impairments, in per cent and microseconds */
    unsigned drop, dup, reorder, corrupt;
    unsigned delay_us, jitter_us, reorder_us;
    int blackhole;
    int rebind_req;
    uint64_t rng, order;
    uint64_t fwd[2], dropped[2], dups[2], reordered[2], corrupted[2], tag_corrupted[2], overflow;
    uint64_t rebinds, from_old_lfd;
    rpkt *q[RELAY_QUEUE];
    unsigned nq;
} relay;

static int udp_socket(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int size = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return fd;
}

static int relay_connect_listener(relay *r)
{
    int fd = udp_socket();
    if (fd < 0)
        return -1;
    struct sockaddr_in any = {0};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&any, sizeof any) != 0 ||
        connect(fd, (struct sockaddr *)&r->laddr, sizeof r->laddr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Queues a datagram (under r->mu), with the impairments. */
static void relay_queue(relay *r, int dir, const uint8_t *d, size_t len, uint64_t now)
{
    if (r->blackhole || rnd(&r->rng) % 1000 < r->drop * 10u) {
        r->dropped[dir]++;
        return;
    }
    int copies = rnd(&r->rng) % 100 < r->dup ? 2 : 1;
    if (copies == 2)
        r->dups[dir]++;
    int corrupt = len > 0 && rnd(&r->rng) % 100 < r->corrupt;
    for (int c = 0; c < copies; c++) {
        if (r->nq >= RELAY_QUEUE) {
            r->overflow++;
            return;
        }
        rpkt *p = malloc(sizeof *p + len);
        if (p == NULL)
            abort();
        memcpy(p->data, d, len);
        p->len = len;
        p->dir = dir;
        p->order = r->order++;
        uint64_t at = now + r->delay_us;
        if (r->jitter_us > 0)
            at += rnd(&r->rng) % r->jitter_us;
        if (r->reorder > 0 && rnd(&r->rng) % 100 < r->reorder) {
            at += r->reorder_us; /* held back: later ones overtake it */
            r->reordered[dir]++;
        }
        if (c == 1)
            at += rnd(&r->rng) % 3000; /* the copy comes a little later */
        p->at_us = at;
        if (corrupt && c == 0) {
            /* half of them in the last 16 bytes (the record's tag), the
             * others anywhere */
            uint64_t x = rnd(&r->rng);
            size_t i =
                (x & 1) && len > 16 ? len - 16 + (size_t)((x >> 8) % 16) : (size_t)((x >> 8) % len);
            p->data[i] ^= (uint8_t)(1u << ((x >> 40) % 8));
            r->corrupted[dir]++;
            if ((x & 1) && len > 16)
                r->tag_corrupted[dir]++;
            /* the copy, if any, is sent as it came */
        }
        /* sorted by (at, order) */
        unsigned k = r->nq;
        while (k > 0 && (r->q[k - 1]->at_us > p->at_us ||
                         (r->q[k - 1]->at_us == p->at_us && r->q[k - 1]->order > p->order))) {
            r->q[k] = r->q[k - 1];
            k--;
        }
        r->q[k] = p;
        r->nq++;
    }
}

static void *relay_main(void *arg)
{
    relay *r = arg;
    uint8_t *buf = malloc(65536);
    if (buf == NULL)
        abort();
    int old_lfd = -1;
    uint64_t old_until = 0;
    while (!atomic_load(&r->stop)) {
        pthread_mutex_lock(&r->mu);
        if (r->rebind_req) {
            int fd = relay_connect_listener(r);
            if (fd >= 0) {
                /* the old socket is kept open a moment (what the listener
                 * sent it meanwhile is counted, and dropped), then closed */
                if (old_lfd >= 0)
                    close(old_lfd);
                old_lfd = r->lfd;
                old_until = now_ms() + 1000;
                r->lfd = fd;
                r->rebinds++;
            }
            r->rebind_req = 0;
        }
        if (old_lfd >= 0 && now_ms() >= old_until) {
            close(old_lfd);
            old_lfd = -1;
        }
        uint64_t now = now_us();
        int timeout = 5;
        if (r->nq > 0) {
            uint64_t at = r->q[0]->at_us;
            timeout = at <= now ? 0 : (int)((at - now + 999) / 1000);
            if (timeout > 5)
                timeout = 5;
        }
        struct pollfd pf[3] = {{r->cfd, POLLIN, 0}, {r->lfd, POLLIN, 0}, {old_lfd, POLLIN, 0}};
        pthread_mutex_unlock(&r->mu);
        (void)poll(pf, old_lfd >= 0 ? 3 : 2, timeout);
        pthread_mutex_lock(&r->mu);
        now = now_us();
        for (int burst = 0; burst < 256; burst++) {
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(r->cfd, buf, 65536, 0, (struct sockaddr *)&from, &fl);
            if (n < 0)
                break;
            r->caddr = from;
            r->have_caddr = 1;
            relay_queue(r, 0, buf, (size_t)n, now);
        }
        for (int burst = 0; burst < 256; burst++) {
            ssize_t n = recv(r->lfd, buf, 65536, 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                continue; /* ECONNREFUSED and the like: go on */
            }
            relay_queue(r, 1, buf, (size_t)n, now);
        }
        if (old_lfd >= 0)
            while (recv(old_lfd, buf, 65536, 0) >= 0)
                r->from_old_lfd++;
        while (r->nq > 0 && r->q[0]->at_us <= now) {
            rpkt *p = r->q[0];
            memmove(r->q, r->q + 1, (r->nq - 1) * sizeof r->q[0]);
            r->nq--;
            if (p->dir == 0)
                (void)send(r->lfd, p->data, p->len, MSG_NOSIGNAL);
            else if (r->have_caddr)
                (void)sendto(r->cfd, p->data, p->len, MSG_NOSIGNAL, (struct sockaddr *)&r->caddr,
                             sizeof r->caddr);
            r->fwd[p->dir]++;
            free(p);
        }
        pthread_mutex_unlock(&r->mu);
    }
    if (old_lfd >= 0)
        close(old_lfd);
    free(buf);
    return NULL;
}

/* A relay in front of the UDP listener at laddr_url ("udp://127.0.0.1:P");
 * its own address for the client in url_out. */
static relay *relay_new(const char *laddr_url, char *url_out, size_t url_cap)
{
    relay *r = calloc(1, sizeof *r);
    if (r == NULL)
        abort();
    pthread_mutex_init(&r->mu, NULL);
    r->rng = 0x12345678u;
    r->laddr.sin_family = AF_INET;
    r->laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char *colon = strrchr(laddr_url, ':');
    r->laddr.sin_port = htons((uint16_t)atoi(colon + 1));
    r->cfd = udp_socket();
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (r->cfd < 0 || bind(r->cfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(r->cfd, (struct sockaddr *)&a, &al) != 0)
        abort();
    r->lfd = relay_connect_listener(r);
    if (r->lfd < 0)
        abort();
    snprintf(url_out, url_cap, "udp://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    if (pthread_create(&r->th, NULL, relay_main, r) != 0)
        abort();
    return r;
}

static void relay_free(relay *r)
{
    if (r == NULL)
        return;
    atomic_store(&r->stop, 1);
    pthread_join(r->th, NULL);
    for (unsigned i = 0; i < r->nq; i++)
        free(r->q[i]);
    close(r->cfd);
    close(r->lfd);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void relay_set(relay *r, unsigned drop, unsigned dup, unsigned reorder, unsigned corrupt,
                      unsigned delay_us, unsigned jitter_us)
{
    pthread_mutex_lock(&r->mu);
    r->drop = drop;
    r->dup = dup;
    r->reorder = reorder;
    r->corrupt = corrupt;
    r->delay_us = delay_us;
    r->jitter_us = jitter_us;
    r->reorder_us = 4000;
    pthread_mutex_unlock(&r->mu);
}

/* ------------------------------------------------------------ listeners */

typedef struct lev {
    pthread_mutex_t mu;
    uint64_t bad[SECUREIO_DROP_REASON_COUNT];
    int refused_c; /* DROP_PEER events naming pk_c */
    int closed, closed_err;
} lev;

static void on_lev(void *user, const secureio_event *ev)
{
    lev *e = user;
    pthread_mutex_lock(&e->mu);
    if (ev->type == SECUREIO_EVENT_BAD_PACKET && ev->drop_reason > 0 &&
        ev->drop_reason < SECUREIO_DROP_REASON_COUNT) {
        e->bad[ev->drop_reason]++;
        if (ev->drop_reason == SECUREIO_DROP_PEER && ev->has_peer_key &&
            memcmp(ev->peer_key, pk_c, 32) == 0)
            e->refused_c++;
    }
    if (ev->type == SECUREIO_EVENT_CLOSED) {
        e->closed++;
        e->closed_err = ev->err;
    }
    pthread_mutex_unlock(&e->mu);
}

static secureio_listener *listen_on(const char *url, secureio_session_options *o, char *addr,
                                    size_t cap)
{
    secureio_listener *l = NULL;
    if (!CHECK_EQ_INT(secureio_listen(&l, url, o, NULL, NULL), SECUREIO_OK))
        return NULL;
    size_t al = cap;
    CHECK_EQ_INT(secureio_listener_addr(l, addr, &al), SECUREIO_OK);
    return l;
}

static uint64_t drops_total(const secureio_session_stats *st)
{
    uint64_t n = 0;
    for (int i = 0; i < SECUREIO_DROP_REASON_COUNT; i++)
        n += st->engine.dropped[i];
    return n;
}

static void report(const char *what, unsigned long failed_before, const char *extra)
{
    printf("%-40s %s%s%s\n", what, test_failed_count() == failed_before ? "ok" : "FAILED",
           extra != NULL && *extra ? "  " : "", extra != NULL ? extra : "");
    fflush(stdout);
}

/* ------------------------------------------------- a: the lossy relay */

static void lossy_udp(unsigned drop, unsigned dup, unsigned reorder, unsigned corrupt,
                      unsigned n_msgs, const char *what)
{
    unsigned long failed = test_failed_count();
    lev ev = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0, 0};
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    oa.idle_timeout_ms = ob.idle_timeout_ms = 8000;
    oa.keepalive_ms = ob.keepalive_ms = 500;
    ob.on_event = on_lev;
    ob.user = &ev;
    char laddr[128], raddr[128];
    secureio_listener *l = listen_on("udp://127.0.0.1:0", &ob, laddr, sizeof laddr);
    if (l == NULL)
        return;
    relay *r = relay_new(laddr, raddr, sizeof raddr);
    /* the handshake goes through trouble too (no corruption until it is
     * done: a corrupted handshake packet only costs a retransmission) */
    relay_set(r, drop, dup, reorder, 0, 1000, 1000);
    endpoint ca, lb;
    memset(&ca, 0, sizeof ca);
    memset(&lb, 0, sizeof lb);
    secureio_session *a = NULL, *b = NULL;
    uint64_t t0 = now_ms();
    CHECK_EQ_INT(secureio_session_connect(&a, raddr, &oa), SECUREIO_OK);
    CHECK_EQ_INT(secureio_accept(l, &b, NULL, 15000), SECUREIO_OK);
    if (a == NULL || b == NULL ||
        !CHECK_EQ_INT(secureio_session_wait_state(a, SECUREIO_STATE_ESTABLISHED, 15000),
                      SECUREIO_OK)) {
        secureio_session_free(a);
        secureio_session_free(b);
        relay_free(r);
        secureio_listener_free(l);
        report(what, failed, "no handshake");
        return;
    }
    uint64_t t_hs = now_ms() - t0;
    CHECK(endpoint_start(&ca, a));
    CHECK(endpoint_start(&lb, b));
    relay_set(r, drop, dup, reorder, corrupt, 1000, 1000);
    /* both ways at once */
    sender sa, sb;
    sender_start(&sa, a, 0xa11ce, n_msgs, 16);
    sender_start(&sb, b, 0xb0b, n_msgs, 16);
    pthread_join(sa.th, NULL);
    pthread_join(sb.th, NULL);
    CHECK_EQ_INT(sa.err, SECUREIO_OK);
    CHECK_EQ_INT(sb.err, SECUREIO_OK);
    uint64_t na = sender_total(&sa), nb = sender_total(&sb);
    uint64_t got_b = tracker_wait(lb.t, na, 1500, 30000);
    uint64_t got_a = tracker_wait(ca.t, nb, 1500, 30000);
    /* nothing wrong, nothing twice */
    CHECK_EQ_UINT(lb.t->bad, 0);
    CHECK_EQ_UINT(ca.t->bad, 0);
    CHECK_EQ_UINT(lb.t->dup, 0);
    CHECK_EQ_UINT(ca.t->dup, 0);
    CHECK(got_b <= na && got_a <= nb);
    if (drop > 0) {
        CHECK(got_b < na); /* some lost ... */
        CHECK(got_a < nb);
    }
    CHECK(got_b * 10 >= na * 4); /* ... but most arrive */
    CHECK(got_a * 10 >= nb * 4);
    for (int i = 0; i < NIDX; i++) {
        CHECK(lb.t->got[i] <= sa.sent[i]);
        CHECK(ca.t->got[i] <= sb.sent[i]);
        CHECK(lb.t->got[i] > 0); /* every channel works */
        CHECK(ca.t->got[i] > 0);
    }
    /* the session survives: still up, and a fresh round gets through */
    CHECK(secureio_session_state(a) == SECUREIO_STATE_ESTABLISHED ||
          secureio_session_state(a) == SECUREIO_STATE_NEGOTIATING);
    CHECK(secureio_session_state(b) == SECUREIO_STATE_ESTABLISHED ||
          secureio_session_state(b) == SECUREIO_STATE_NEGOTIATING);
    relay_set(r, 0, 0, 0, 0, 1000, 1000);
    uint64_t before = tracker_delivered(lb.t);
    uint8_t m[200];
    for (uint32_t i = 0; i < 50; i++) {
        make_msg(m, 1, sa.sent[1] + i, sizeof m);
        CHECK_EQ_INT(secureio_write_message(a, 1, m, sizeof m), SECUREIO_OK);
    }
    CHECK_EQ_UINT(tracker_wait(lb.t, before + 50, 0, 10000), before + 50);
    /* corrupted datagrams: dropped and counted, never delivered */
    secureio_session_stats sta, stb;
    secureio_session_stats_get(a, &sta);
    secureio_session_stats_get(b, &stb);
    pthread_mutex_lock(&r->mu);
    uint64_t corr0 = r->corrupted[0], corr1 = r->corrupted[1], tag0 = r->tag_corrupted[0],
             tag1 = r->tag_corrupted[1], dups1 = r->dups[1], dropped0 = r->dropped[0],
             dropped1 = r->dropped[1], reord = r->reordered[0] + r->reordered[1],
             fwd = r->fwd[0] + r->fwd[1], overflow = r->overflow;
    pthread_mutex_unlock(&r->mu);
    if (corrupt > 0) {
        CHECK(corr0 > 0 && corr1 > 0);
        CHECK(sta.engine.dropped[SECUREIO_DROP_AUTH] >= tag1);
        CHECK(stb.engine.dropped[SECUREIO_DROP_AUTH] >= tag0);
        CHECK(drops_total(&sta) >= corr1); /* the client's socket sees all of them */
        CHECK(sta.engine.dropped[SECUREIO_DROP_AUTH] > 0);
    }
    if (dup > 0)
        CHECK(sta.engine.dropped[SECUREIO_DROP_REPLAY] > 0 || dups1 == 0);
    char extra[600];
    snprintf(extra, sizeof extra,
             "(hs %" PRIu64 " ms; a->b %" PRIu64 "/%" PRIu64 ", b->a %" PRIu64 "/%" PRIu64
             " delivered, %" PRIu64 "+%" PRIu64 " out of order; relay %" PRIu64 " fwd, %" PRIu64
             " dropped, %" PRIu64 " reordered, %" PRIu64 "+%" PRIu64 " corrupted, %" PRIu64
             " over its queue; a dropped auth %" PRIu64 " replay %" PRIu64
             "; read queues dropped %" PRIu64 "+%" PRIu64 ")",
             t_hs, got_b, na, got_a, nb, lb.t->out_of_order, ca.t->out_of_order, fwd,
             dropped0 + dropped1, reord, corr0, corr1, overflow,
             sta.engine.dropped[SECUREIO_DROP_AUTH], sta.engine.dropped[SECUREIO_DROP_REPLAY],
             stb.read_dropped, sta.read_dropped);
    CHECK_EQ_INT(secureio_session_close_wait(a, 5000), SECUREIO_OK);
    endpoint_free(&ca);
    endpoint_free(&lb);
    relay_free(r);
    secureio_listener_free(l);
    report(what, failed, extra);
}

/* ------------------------------------------ b: streams and unixgram */

static void exact_transport(const char *url, int stream, unsigned n_msgs, const char *what)
{
    unsigned long failed = test_failed_count();
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    char addr[256];
    secureio_listener *l = listen_on(url, &ob, addr, sizeof addr);
    if (l == NULL)
        return;
    secureio_session *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_session_connect(&a, addr, &oa), SECUREIO_OK);
    CHECK_EQ_INT(secureio_accept(l, &b, NULL, 10000), SECUREIO_OK);
    if (a == NULL || b == NULL) {
        secureio_session_free(a);
        secureio_session_free(b);
        secureio_listener_free(l);
        report(what, failed, "no session");
        return;
    }
    uint64_t t0 = now_ms();
    endpoint ca, lb;
    CHECK(endpoint_start(&ca, a));
    CHECK(endpoint_start(&lb, b));
    sender sa, sb;
    /* unix datagrams: the kernel loses none, but the receiving session
     * may (its queue); pace a little so that it keeps up */
    sender_start(&sa, a, 0xa11ce5, n_msgs, stream ? 0 : 16);
    sender_start(&sb, b, 0xb0b5, n_msgs, stream ? 0 : 16);
    pthread_join(sa.th, NULL);
    pthread_join(sb.th, NULL);
    CHECK_EQ_INT(sa.err, SECUREIO_OK);
    CHECK_EQ_INT(sb.err, SECUREIO_OK);
    uint64_t na = sender_total(&sa), nb = sender_total(&sb);
    uint64_t got_b = tracker_wait(lb.t, na, 0, 60000);
    uint64_t got_a = tracker_wait(ca.t, nb, 0, 60000);
    uint64_t ms = now_ms() - t0;
    CHECK_EQ_UINT(got_b, na);
    CHECK_EQ_UINT(got_a, nb);
    for (int i = 0; i < NIDX; i++) {
        CHECK_EQ_UINT(lb.t->got[i], sa.sent[i]);
        CHECK_EQ_UINT(ca.t->got[i], sb.sent[i]);
    }
    CHECK_EQ_UINT(lb.t->bad + ca.t->bad, 0);
    CHECK_EQ_UINT(lb.t->dup + ca.t->dup, 0);
    if (stream) {
        /* a stream keeps each channel's order */
        CHECK_EQ_UINT(lb.t->out_of_order, 0);
        CHECK_EQ_UINT(ca.t->out_of_order, 0);
    }
    secureio_session_stats sta, stb;
    secureio_session_stats_get(a, &sta);
    secureio_session_stats_get(b, &stb);
    CHECK_EQ_UINT(sta.read_dropped + stb.read_dropped, 0);
    CHECK_EQ_UINT(drops_total(&sta) + drops_total(&stb), 0);
    /* a graceful close: the peer learns it, and the reader ends */
    CHECK_EQ_INT(secureio_session_close_wait(a, 5000), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_wait_state(b, SECUREIO_STATE_CLOSED, 5000), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_close_wait(b, 0), SECUREIO_ERR_CLOSED);
    /* the reader sees the end by itself (no stop asked) */
    if (lb.reading)
        pthread_join(lb.reader, NULL);
    lb.reading = 0;
    CHECK_EQ_INT(lb.read_err, SECUREIO_ERR_CLOSED);
    char extra[200];
    snprintf(extra, sizeof extra,
             "(%" PRIu64 "+%" PRIu64 " messages, %.1f+%.1f MB, exact, in %" PRIu64 " ms)", na, nb,
             (double)sa.bytes / 1e6, (double)sb.bytes / 1e6, ms);
    endpoint_free(&ca);
    endpoint_free(&lb);
    secureio_listener_free(l);
    report(what, failed, extra);
}

/* ------------------------------------------- c: a peer that disappears */

static char self_exe[4096];

/* The peer process: connects as a to url, says "up", then writes until it
 * is killed. */
static int child_main(const char *url)
{
    uint8_t seed[32];
    memset(seed, 0xa1, 32);
    secureio_identity *ia = NULL, *ib = NULL;
    if (secureio_identity_from_seed(&ia, seed) != SECUREIO_OK)
        return 1;
    memset(seed, 0xb2, 32);
    if (secureio_identity_from_seed(&ib, seed) != SECUREIO_OK)
        return 1;
    uint8_t pkb[32];
    secureio_identity_public_key(ib, pkb);
    secureio_session_options o = SECUREIO_SESSION_OPTIONS_INIT;
    o.identity = ia;
    o.peer_key = pkb;
    o.handshake_timeout_ms = 10000;
    o.keepalive_ms = 200;
    secureio_session *s = NULL;
    if (secureio_session_connect(&s, url, &o) != SECUREIO_OK ||
        secureio_session_wait_state(s, SECUREIO_STATE_ESTABLISHED, 10000) != SECUREIO_OK)
        return 1;
    (void)!write(STDOUT_FILENO, "up\n", 3);
    uint8_t m[512];
    for (uint32_t i = 0;; i++) {
        make_msg(m, SECUREIO_CHANNEL_DEFAULT, i % MAX_SEQ, sizeof m);
        if (secureio_write(s, m, sizeof m) != SECUREIO_OK)
            break;
        sleep_ms(2);
    }
    secureio_session_free(s);
    return 1;
}

static pid_t spawn_child(const char *url, int *out_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    char child_url[256];
    snprintf(child_url, sizeof child_url, "%s", url);
    char *argv[] = {self_exe, (char *)"--child", child_url, NULL};
    pid_t pid = -1;
    int rc = posix_spawn(&pid, self_exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return -1;
    }
    *out_fd = p[0];
    return pid;
}

static int wait_line(int fd, int timeout_ms)
{
    struct pollfd pf = {fd, POLLIN, 0};
    char buf[8];
    return poll(&pf, 1, timeout_ms) == 1 && read(fd, buf, sizeof buf) >= 2;
}

static void peer_killed(const char *url, int want_err, const char *what)
{
    unsigned long failed = test_failed_count();
    secureio_session_options ob;
    options(&ob, 1);
    ob.idle_timeout_ms = 1500;
    ob.keepalive_ms = 300;
    char addr[256];
    secureio_listener *l = listen_on(url, &ob, addr, sizeof addr);
    if (l == NULL)
        return;
    int fd = -1;
    pid_t pid = spawn_child(addr, &fd);
    if (!CHECK(pid > 0)) {
        secureio_listener_free(l);
        return;
    }
    secureio_session *b = NULL;
    CHECK_EQ_INT(secureio_accept(l, &b, NULL, 15000), SECUREIO_OK);
    CHECK(wait_line(fd, 15000));
    char extra[160] = "";
    if (b != NULL) {
        /* some of its messages arrive, exact */
        uint8_t buf[1024];
        size_t n = 0;
        for (int i = 0; i < 5; i++) {
            CHECK_EQ_INT(secureio_read_timeout(b, buf, sizeof buf, &n, 5000), SECUREIO_OK);
            CHECK(check_msg(SECUREIO_CHANNEL_DEFAULT, buf, n) >= 0);
        }
        /* gone: no CLOSE, no FIN from the library */
        kill(pid, SIGKILL);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        pid = -1;
        uint64_t t0 = now_ms();
        CHECK_EQ_INT(secureio_session_wait_state(b, SECUREIO_STATE_CLOSED, 20000), SECUREIO_OK);
        uint64_t took = now_ms() - t0;
        int err = secureio_session_close_wait(b, 0);
        CHECK_EQ_INT(err, want_err);
        /* what came before the end can still be read; then CLOSED */
        int rc;
        unsigned left = 0;
        while ((rc = secureio_read_timeout(b, buf, sizeof buf, &n, 1000)) == SECUREIO_OK)
            left++;
        CHECK_EQ_INT(rc, SECUREIO_ERR_CLOSED);
        CHECK_EQ_INT(secureio_write(b, "x", 1), SECUREIO_ERR_CLOSED);
        snprintf(extra, sizeof extra, "(closed %" PRIu64 " ms after the kill: %s)", took,
                 secureio_strerror(err));
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    close(fd);
    secureio_session_free(b);
    secureio_listener_free(l);
    report(what, failed, extra);
}

/* The relay stops passing anything: both sides go silent, both time out. */
static void peer_cut_off(void)
{
    unsigned long failed = test_failed_count();
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    oa.idle_timeout_ms = ob.idle_timeout_ms = 1500;
    oa.keepalive_ms = ob.keepalive_ms = 300;
    char laddr[128], raddr[128];
    secureio_listener *l = listen_on("udp://127.0.0.1:0", &ob, laddr, sizeof laddr);
    if (l == NULL)
        return;
    relay *r = relay_new(laddr, raddr, sizeof raddr);
    secureio_session *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_session_connect(&a, raddr, &oa), SECUREIO_OK);
    CHECK_EQ_INT(secureio_accept(l, &b, NULL, 10000), SECUREIO_OK);
    char extra[160] = "";
    if (a != NULL && b != NULL) {
        CHECK_EQ_INT(secureio_session_wait_state(a, SECUREIO_STATE_ESTABLISHED, 10000),
                     SECUREIO_OK);
        uint8_t buf[64];
        size_t n;
        CHECK_EQ_INT(secureio_write(a, "before", 6), SECUREIO_OK);
        CHECK_EQ_INT(secureio_read_timeout(b, buf, sizeof buf, &n, 5000), SECUREIO_OK);
        /* keepalives keep an idle but reachable session up */
        sleep_ms(2000);
        CHECK(secureio_session_state(a) != SECUREIO_STATE_CLOSED);
        CHECK(secureio_session_state(b) != SECUREIO_STATE_CLOSED);
        pthread_mutex_lock(&r->mu);
        r->blackhole = 1;
        pthread_mutex_unlock(&r->mu);
        uint64_t t0 = now_ms();
        CHECK_EQ_INT(secureio_session_wait_state(a, SECUREIO_STATE_CLOSED, 10000), SECUREIO_OK);
        CHECK_EQ_INT(secureio_session_wait_state(b, SECUREIO_STATE_CLOSED, 10000), SECUREIO_OK);
        uint64_t took = now_ms() - t0;
        CHECK_EQ_INT(secureio_session_close_wait(a, 0), SECUREIO_ERR_TIMEOUT);
        CHECK_EQ_INT(secureio_session_close_wait(b, 0), SECUREIO_ERR_TIMEOUT);
        CHECK(took >= 1000);
        CHECK_EQ_INT(secureio_read_timeout(a, buf, sizeof buf, &n, 100), SECUREIO_ERR_CLOSED);
        CHECK_EQ_INT(secureio_write(a, "after", 5), SECUREIO_ERR_CLOSED);
        snprintf(extra, sizeof extra, "(both timed out %" PRIu64 " ms after the cut)", took);
    }
    secureio_session_free(a);
    secureio_session_free(b);
    relay_free(r);
    secureio_listener_free(l);
    report("UDP peer cut off: idle timeout", failed, extra);
}

/* ------------------------------------------------ d: the wrong key */

static void wrong_key(const char *url, int client_pins_wrong, const char *what)
{
    unsigned long failed = test_failed_count();
    lev ev = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0, 0};
    secureio_keylist *kl = NULL;
    CHECK_EQ_INT(secureio_keylist_new(&kl), SECUREIO_OK);
    CHECK_EQ_INT(secureio_keylist_add(kl, pk_a), SECUREIO_OK);
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    ob.accept_any_peer = 0;
    ob.allowed_peers = kl; /* only a */
    ob.on_event = on_lev;
    ob.user = &ev;
    oa.handshake_timeout_ms = 2000;
    if (client_pins_wrong)
        oa.peer_key = pk_c; /* a thinks the listener is c */
    else
        oa.identity = id_c; /* c, whom the listener does not know */
    char addr[256];
    secureio_listener *l = listen_on(url, &ob, addr, sizeof addr);
    if (l == NULL) {
        secureio_keylist_free(kl);
        return;
    }
    secureio_session *a = NULL, *b = NULL;
    uint64_t t0 = now_ms();
    CHECK_EQ_INT(secureio_session_connect(&a, addr, &oa), SECUREIO_OK);
    char extra[160] = "";
    if (a != NULL) {
        CHECK_EQ_INT(secureio_session_wait_state(a, SECUREIO_STATE_ESTABLISHED, 10000),
                     SECUREIO_ERR_CLOSED);
        uint64_t took = now_ms() - t0;
        int err = secureio_session_close_wait(a, 0);
        /* the handshake did not complete (or, on a stream, the listener
         * hung up on it first) */
        CHECK(err == SECUREIO_ERR_TIMEOUT || err == SECUREIO_ERR_TRANSPORT);
        CHECK_EQ_INT(secureio_write(a, "x", 1), SECUREIO_ERR_CLOSED);
        uint8_t pk[32];
        CHECK_EQ_INT(secureio_session_peer_key(a, pk), SECUREIO_ERR_STATE);
        snprintf(extra, sizeof extra, "(the client: %s after %" PRIu64 " ms)",
                 secureio_strerror(err), took);
    }
    /* the listener never yields a session for it */
    CHECK_EQ_INT(secureio_accept(l, &b, NULL, 300), SECUREIO_ERR_TIMEOUT);
    CHECK(b == NULL);
    pthread_mutex_lock(&ev.mu);
    if (client_pins_wrong)
        CHECK(ev.bad[SECUREIO_DROP_NOT_FOR_US] >= 1); /* a hello for c */
    else
        CHECK(ev.refused_c >= 1); /* c, named */
    pthread_mutex_unlock(&ev.mu);
    secureio_session_free(a);
    secureio_session_free(b);
    secureio_listener_free(l);
    secureio_keylist_free(kl);
    report(what, failed, extra);
}

/* ------------------------------------------------------- e: rebinding */

static void rebinding(void)
{
    unsigned long failed = test_failed_count();
    lev ev = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0, 0};
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    oa.idle_timeout_ms = ob.idle_timeout_ms = 10000;
    ob.on_event = on_lev;
    ob.user = &ev;
    char laddr[128], raddr[128];
    secureio_listener *l = listen_on("udp://127.0.0.1:0", &ob, laddr, sizeof laddr);
    if (l == NULL)
        return;
    relay *r = relay_new(laddr, raddr, sizeof raddr);
    secureio_session *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_session_connect(&a, raddr, &oa), SECUREIO_OK);
    CHECK_EQ_INT(secureio_accept(l, &b, NULL, 10000), SECUREIO_OK);
    endpoint ca, lb;
    memset(&ca, 0, sizeof ca);
    memset(&lb, 0, sizeof lb);
    char extra[160] = "";
    if (a != NULL && b != NULL &&
        CHECK_EQ_INT(secureio_session_wait_state(a, SECUREIO_STATE_ESTABLISHED, 10000),
                     SECUREIO_OK)) {
        CHECK(endpoint_start(&ca, a));
        CHECK(endpoint_start(&lb, b));
        uint8_t m[1000];
        uint32_t seq_a = 0, seq_b = 0;
        const int rounds = 4, per = 30;
        for (int round = 0; round < rounds; round++) {
            if (round > 0) {
                pthread_mutex_lock(&r->mu);
                r->rebind_req = 1;
                uint64_t want = r->rebinds + 1;
                pthread_mutex_unlock(&r->mu);
                uint64_t end = now_ms() + 5000;
                for (;;) {
                    pthread_mutex_lock(&r->mu);
                    int done = r->rebinds >= want;
                    pthread_mutex_unlock(&r->mu);
                    if (done || !CHECK(now_ms() < end))
                        break;
                    sleep_ms(1);
                }
            }
            /* the client speaks first from its new address ... */
            uint64_t before = tracker_delivered(lb.t);
            for (int i = 0; i < per; i++) {
                make_msg(m, 2, seq_a++, sizeof m);
                CHECK_EQ_INT(secureio_write_message(a, 2, m, sizeof m), SECUREIO_OK);
            }
            CHECK_EQ_UINT(tracker_wait(lb.t, before + per, 0, 5000), before + per);
            /* ... and the listener's session answers it there */
            before = tracker_delivered(ca.t);
            for (int i = 0; i < per; i++) {
                make_msg(m, 3, seq_b++, sizeof m);
                CHECK_EQ_INT(secureio_write_message(b, 3, m, sizeof m), SECUREIO_OK);
            }
            CHECK_EQ_UINT(tracker_wait(ca.t, before + per, 0, 5000), before + per);
        }
        /* the same session all along: the listener made no other */
        secureio_session *other = NULL;
        CHECK_EQ_INT(secureio_accept(l, &other, NULL, 0), SECUREIO_ERR_AGAIN);
        secureio_session_free(other);
        CHECK(secureio_session_state(b) != SECUREIO_STATE_CLOSED);
        CHECK_EQ_UINT(lb.t->bad + ca.t->bad + lb.t->dup + ca.t->dup, 0);
        pthread_mutex_lock(&r->mu);
        snprintf(extra, sizeof extra,
                 "(%" PRIu64 " new source ports, %d messages each way, %" PRIu64
                 " datagrams still sent to an old one)",
                 r->rebinds, rounds * per, r->from_old_lfd);
        CHECK_EQ_UINT(r->rebinds, (uint64_t)(rounds - 1));
        pthread_mutex_unlock(&r->mu);
    }
    if (ca.s == NULL)
        secureio_session_free(a);
    if (lb.s == NULL)
        secureio_session_free(b);
    endpoint_free(&ca);
    endpoint_free(&lb);
    relay_free(r);
    secureio_listener_free(l);
    report("UDP client changes address (rebinding)", failed, extra);
}

/* ------------------------------------------------- f: ssh-keygen keys */

static int run_quiet(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void ssh_keygen_keys(void)
{
    unsigned long failed = test_failed_count();
    char *probe[] = {(char *)"ssh-keygen", (char *)"-?", NULL};
    if (run_quiet(probe) < 0) {
        printf("%-40s skipped: ssh-keygen is not installed\n", "keys made by ssh-keygen");
        return;
    }
    char dir[] = "/tmp/secureio-net-XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL))
        return;
    char ka[128], kb[128], kap[140], kbp[140], auth[140];
    snprintf(ka, sizeof ka, "%s/client", dir);
    snprintf(kb, sizeof kb, "%s/server", dir);
    snprintf(kap, sizeof kap, "%s.pub", ka);
    snprintf(kbp, sizeof kbp, "%s.pub", kb);
    snprintf(auth, sizeof auth, "%s/authorized_keys", dir);
    char *gen_a[] = {(char *)"ssh-keygen", (char *)"-q", (char *)"-t", (char *)"ed25519",
                     (char *)"-N",         (char *)"",   (char *)"-C", (char *)"client@test",
                     (char *)"-f",         ka,           NULL};
    char *gen_b[] = {(char *)"ssh-keygen", (char *)"-q", (char *)"-t", (char *)"ed25519",
                     (char *)"-N",         (char *)"",   (char *)"-C", (char *)"server@test",
                     (char *)"-f",         kb,           NULL};
    CHECK_EQ_INT(run_quiet(gen_a), 0);
    CHECK_EQ_INT(run_quiet(gen_b), 0);
    secureio_identity *ia = NULL, *ib = NULL;
    CHECK_EQ_INT(secureio_identity_load(&ia, ka), SECUREIO_OK);
    CHECK_EQ_INT(secureio_identity_load(&ib, kb), SECUREIO_OK);
    uint8_t pka[32], pkb[32], pub_a[32], pub_b[32];
    char extra[200] = "";
    if (ia != NULL && ib != NULL) {
        CHECK_EQ_STR(secureio_identity_comment(ia), "client@test");
        secureio_identity_public_key(ia, pka);
        secureio_identity_public_key(ib, pkb);
        CHECK_EQ_INT(secureio_public_key_load(pub_a, kap), SECUREIO_OK);
        CHECK_EQ_INT(secureio_public_key_load(pub_b, kbp), SECUREIO_OK);
        CHECK_MEM(pub_a, pka, 32);
        CHECK_MEM(pub_b, pkb, 32);
        /* ssh-keygen's fingerprint is ours */
        char cmd[300], line[300] = "", fp[SECUREIO_FINGERPRINT_LEN];
        snprintf(cmd, sizeof cmd, "ssh-keygen -l -f %s", kap);
        FILE *f = popen(cmd, "r");
        if (CHECK(f != NULL)) {
            CHECK(fgets(line, sizeof line, f) != NULL);
            pclose(f);
        }
        secureio_public_key_fingerprint(pka, fp);
        CHECK(strstr(line, fp) != NULL);
        /* the listener takes the client's .pub as its authorized_keys */
        FILE *in = fopen(kap, "r"), *out = fopen(auth, "w");
        if (CHECK(in != NULL && out != NULL)) {
            char buf[512];
            size_t n = fread(buf, 1, sizeof buf, in);
            CHECK(fwrite(buf, 1, n, out) == n);
        }
        if (in != NULL)
            fclose(in);
        if (out != NULL)
            fclose(out);
        secureio_keylist *kl = NULL;
        CHECK_EQ_INT(secureio_keylist_new(&kl), SECUREIO_OK);
        CHECK_EQ_INT(secureio_keylist_load(kl, auth, NULL), SECUREIO_OK);
        CHECK_EQ_UINT(secureio_keylist_count(kl), 1);
        const char *urls[] = {"udp://127.0.0.1:0", "tcp://127.0.0.1:0"};
        for (int u = 0; u < 2; u++) {
            secureio_session_options oa = SECUREIO_SESSION_OPTIONS_INIT,
                                     ob = SECUREIO_SESSION_OPTIONS_INIT;
            oa.identity = ia;
            oa.peer_key = pub_b; /* from server.pub */
            oa.handshake_timeout_ms = ob.handshake_timeout_ms = 10000;
            ob.identity = ib;
            ob.allowed_peers = kl;
            char addr[128];
            secureio_listener *l = listen_on(urls[u], &ob, addr, sizeof addr);
            if (l == NULL)
                continue;
            secureio_session *a = NULL, *b = NULL;
            uint8_t pk[32];
            CHECK_EQ_INT(secureio_session_connect(&a, addr, &oa), SECUREIO_OK);
            CHECK_EQ_INT(secureio_accept(l, &b, pk, 10000), SECUREIO_OK);
            CHECK_MEM(pk, pka, 32);
            if (a != NULL && b != NULL) {
                uint8_t m[3000], got[4000];
                size_t n = 0;
                make_msg(m, SECUREIO_CHANNEL_DEFAULT, 1, sizeof m);
                CHECK_EQ_INT(secureio_write(a, m, sizeof m), SECUREIO_OK);
                CHECK_EQ_INT(secureio_read_timeout(b, got, sizeof got, &n, 5000), SECUREIO_OK);
                CHECK(n == sizeof m && memcmp(got, m, n) == 0);
                make_msg(m, SECUREIO_CHANNEL_DEFAULT, 2, sizeof m);
                CHECK_EQ_INT(secureio_write(b, m, sizeof m), SECUREIO_OK);
                CHECK_EQ_INT(secureio_read_timeout(a, got, sizeof got, &n, 5000), SECUREIO_OK);
                CHECK(n == sizeof m && memcmp(got, m, n) == 0);
                CHECK_EQ_INT(secureio_session_peer_key(a, pk), SECUREIO_OK);
                CHECK_MEM(pk, pkb, 32);
                CHECK_EQ_INT(secureio_session_close_wait(a, 5000), SECUREIO_OK);
            }
            secureio_session_free(a);
            secureio_session_free(b);
            secureio_listener_free(l);
        }
        snprintf(extra, sizeof extra, "(%s, over UDP and TCP)", fp);
        secureio_keylist_free(kl);
    }
    secureio_identity_free(ia);
    secureio_identity_free(ib);
    unlink(ka);
    unlink(kb);
    unlink(kap);
    unlink(kbp);
    unlink(auth);
    rmdir(dir);
    report("keys made by ssh-keygen", failed, extra);
}

/* --------------------------------------- netns.sh: the output checker */

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
        }
        size_t k = fread(b + n, 1, cap - n, f);
        if (k == 0)
            break;
        n += k;
    }
    fclose(f);
    *len = n;
    return b;
}

/* OUT must be IN with pieces left out: OUT = IN[a1,b1) IN[a2,b2) ... with
 * b1 < a2 (nothing repeated, reordered or changed). IN must not repeat any
 * 64-byte window (netns.sh makes it of numbered lines). Prints
 * "pieces N gaps G smallest-gap S lost-bytes L tail T" (S: the smallest
 * gap but the tail) and exits 0, or says where
 * it went wrong and exits 1. */
static int check_pieces(const char *in_path, const char *out_path)
{
    size_t il = 0, ol = 0;
    uint8_t *in = read_all(in_path, &il), *out = read_all(out_path, &ol);
    if (in == NULL || out == NULL) {
        fprintf(stderr, "check-pieces: cannot read the files\n");
        return 2;
    }
    size_t p = 0, q = 0, gaps = 0, pieces = 0, smallest = SIZE_MAX, lost = 0;
    int ok = 1;
    while (q < ol) {
        if (p < il && in[p] == out[q]) {
            p++;
            q++;
            continue;
        }
        /* a gap: where does out[q..] go on in in[p+1..]? */
        size_t k = ol - q < 64 ? ol - q : 64;
        const uint8_t *at = p + 1 < il ? memmem(in + p + 1, il - p - 1, out + q, k) : NULL;
        if (at == NULL) {
            fprintf(stderr,
                    "check-pieces: output byte %zu (input byte %zu) is not in the input "
                    "after what came before\n",
                    q, p);
            ok = 0;
            break;
        }
        size_t np = (size_t)(at - in);
        if (np - p < smallest)
            smallest = np - p;
        lost += np - p;
        gaps++;
        p = np;
    }
    pieces = ol > 0 ? gaps + 1 : 0;
    size_t tail = ok && p < il ? il - p : 0; /* a lost tail (its last read may be short) */
    if (tail > 0) {
        lost += tail;
        gaps++;
    }
    printf("pieces %zu gaps %zu smallest-gap %zu lost-bytes %zu tail %zu\n", pieces, gaps,
           smallest == SIZE_MAX ? 0 : smallest, lost, tail);
    free(in);
    free(out);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    if (argc == 4 && strcmp(argv[1], "--check-pieces") == 0)
        return check_pieces(argv[2], argv[3]);
    signal(SIGPIPE, SIG_IGN);
    ssize_t sl = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (sl <= 0)
        snprintf(self_exe, sizeof self_exe, "%s", argv[0]);
    else
        self_exe[sl] = 0;
    uint64_t t0 = now_ms();
    uint8_t seed[32];
    memset(seed, 0xa1, 32);
    CHECK_EQ_INT(secureio_identity_from_seed(&id_a, seed), SECUREIO_OK);
    memset(seed, 0xb2, 32);
    CHECK_EQ_INT(secureio_identity_from_seed(&id_b, seed), SECUREIO_OK);
    memset(seed, 0xc3, 32);
    CHECK_EQ_INT(secureio_identity_from_seed(&id_c, seed), SECUREIO_OK);
    secureio_identity_public_key(id_a, pk_a);
    secureio_identity_public_key(id_b, pk_b);
    secureio_identity_public_key(id_c, pk_c);

    /* a */
    lossy_udp(0, 0, 0, 0, 2000, "UDP relay, clean (delay, jitter)");
    lossy_udp(3, 2, 5, 2, 3000, "UDP relay: drop dup reorder corrupt");
    lossy_udp(0, 5, 10, 5, 2000, "UDP relay: dup reorder corrupt, no drop");
    /* b */
    exact_transport("tcp://127.0.0.1:0", 1, 3000, "TCP: exact, in order");
    char path[96];
    snprintf(path, sizeof path, "unix:///tmp/secureio-net-%d.sock", (int)getpid());
    unlink(path + 7);
    exact_transport(path, 1, 3000, "unix stream: exact, in order");
    unlink(path + 7);
    snprintf(path, sizeof path, "unixgram:///tmp/secureio-net-%d.dgram", (int)getpid());
    unlink(path + 11);
    exact_transport(path, 0, 2000, "unix datagram: exact");
    unlink(path + 11);
    /* c */
    peer_killed("udp://127.0.0.1:0", SECUREIO_ERR_TIMEOUT, "UDP peer process killed");
    peer_killed("tcp://127.0.0.1:0", SECUREIO_ERR_TRANSPORT, "TCP peer process killed");
    snprintf(path, sizeof path, "unix:///tmp/secureio-net-%d.sock", (int)getpid());
    unlink(path + 7);
    peer_killed(path, SECUREIO_ERR_TRANSPORT, "unix stream peer process killed");
    unlink(path + 7);
    peer_cut_off();
    /* d */
    wrong_key("udp://127.0.0.1:0", 1, "UDP: client pins the wrong key");
    wrong_key("udp://127.0.0.1:0", 0, "UDP: client not authorized");
    wrong_key("tcp://127.0.0.1:0", 1, "TCP: client pins the wrong key");
    wrong_key("tcp://127.0.0.1:0", 0, "TCP: client not authorized");
    /* e */
    rebinding();
    /* f */
    ssh_keygen_keys();

    secureio_identity_free(id_a);
    secureio_identity_free(id_b);
    secureio_identity_free(id_c);
    printf("(%.1f s)\n", (double)(now_ms() - t0) / 1000.0);
    return test_summary("session_net");
}
