/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `secureio listen` and `secureio connect`: standard input goes to the
 * peer, the peer's data to standard output (secureio(1), docs/CLI.md).
 *
 * Threads: the main thread reads standard input and writes it as
 * asynchronous messages straight from its read buffers (a ring of slots, a
 * slot free again once its message is on the wire); a reader thread takes
 * the peer's messages (secureio_read) and writes standard output; the
 * session's own thread runs the protocol and the control channel's
 * handler. Neither of our locks is held while calling the library.
 *
 * Between two secureio CLIs, on top of the session:
 *   data (default channel)  BE64 seq || BE64 offset || bytes
 *   control (channel 1)     ACK  1 || BE64 next seq || BE64 next offset ||
 *                                   BE32 window || u8 flags (1: end seen,
 *                                   2: messages given up since the last ACK)
 *                           MARK 2 || BE64 seq || BE64 offset || u8 flags
 *                                   (1: the end of input)
 * A MARK says everything before seq was sent; with the end flag, that
 * nothing follows. Over a datagram transport messages may be lost or come
 * out of order: the receiver writes them in order, holds one that comes
 * early for up to HOLD_MS, and then counts the ones missing as lost; it
 * acknowledges what it has written or given up (ACK) and says how much more
 * it can take (window: half its socket's receive buffer); the sender keeps
 * at most that much unacknowledged, and less while the path loses: half
 * as much after an ACK that says messages were given up, growing again
 * while none are (slow start, then a packet a round); it says where it is (MARK) when it
 * hears nothing, so that a lost tail is found. Over a stream nothing is
 * lost and the transport paces: only the end is marked and acknowledged.
 */
#ifndef _GNU_SOURCE /* (fuzz/fuzz_secureio_cli.c includes this file) */
#define _GNU_SOURCE
#endif

#include "secureio_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DATA_HDR 16u
#define CTL_CHANNEL 1u
#define CTL_ACK 1u
#define CTL_MARK 2u
#define CTL_ACK_LEN 22u
#define CTL_MARK_LEN 18u
#define FLAG_END 1u
#define FLAG_LOSS 2u /* an ACK's: messages were given up since the last one */
#define CWND_MIN (32u << 10)

#define SLOTS 32u
#define SLOT_DATA 65536u            /* a stream read; datagram reads are one packet's worth */
#define HOLD_MAX 512u               /* early messages held, at most */
#define HOLD_BYTES (8u << 20)       /* and their bytes, at most */
#define SEQ_MAX ((uint64_t)1 << 62) /* sequence numbers beyond: the peer's lie (no wrap) */
#define HOLD_MS 100u                /* how long a gap may wait for its messages */
#define ACK_MS 20u                  /* an acknowledgement at least this often while data comes */
#define MARK_MS 100u                /* the sender says where it is after this long unheard */
#define END_TRIES 50u               /* the end is said again every MARK_MS, this many times */
#define WINDOW_START (128u << 10)   /* unacknowledged bytes before the first ACK */
#define WINDOW_MIN (64u << 10)
#define WINDOW_MAX (8u << 20)
#define READ_MAX ((size_t)16 << 20) /* the largest message we take (the library's default) */
#define CLI_TIMEOUT_MS 10000u       /* connect: the handshake */
#define CLI_IDLE_MS 30000u          /* the peer silent this long: it is gone */
#define CLI_KEEPALIVE_MS 5000u

typedef struct held {
    uint64_t seq, off, at_us;
    size_t len;
    uint8_t *data;
} held;

typedef struct pipe_state pipe_state;
typedef struct slot_ref {
    pipe_state *st;
    unsigned i;
} slot_ref;

struct pipe_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    secureio_session *s;
    const cli_pipe_opts *o;
    int datagram;
    uint64_t start_us;

    /* sender (main thread; slots freed by the completions) */
    uint8_t *slots;
    slot_ref refs[SLOTS]; /* the completions' arguments */
    int busy[SLOTS];
    unsigned nbusy;
    uint64_t sent_seq, sent_off;
    uint64_t acked_seq, acked_off, ack_progress_us;
    uint64_t window;                      /* the receiver's */
    uint64_t cwnd, ssthresh, cwnd_cut_us; /* the path's, as losses say */
    int end_acked, write_err;

    /* receiver (reader thread; marks from the handler) */
    uint64_t next_seq, next_off;
    held hold[HOLD_MAX];
    unsigned nheld;
    size_t held_bytes;
    int broken; /* the peer broke this protocol: the session is closed */
    uint64_t lost_msgs, lost_bytes, late, delivered_msgs, recv_bytes;
    uint64_t mark_seq, mark_off, marks, last_arrival_us;
    int peer_end, recv_done, out_failed;

    /* the session */
    int closed, close_err;
    /* refused peers, printed once each */
    uint8_t refused[8][SECUREIO_PUBLIC_KEY_LEN];
    unsigned nrefused;
    int said_more, said_options;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void human(char *out, size_t cap, double bytes)
{
    const char *unit[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes >= 1000.0 && u < 4) {
        bytes /= 1000.0;
        u++;
    }
    snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", bytes, unit[u]);
}

static void timed_wait(pipe_state *st, unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&st->cv, &st->mu, &ts);
}

/* ------------------------------------------------------------- control */

static void send_ctl(pipe_state *st, const uint8_t *msg, size_t len)
{
    /* copied, on the control channel; lost if the queue is full (they are
     * repeated) */
    int rc =
        secureio_write_message_cb(st->s, CTL_CHANNEL, msg, len, SECUREIO_WRITE_COPY, NULL, NULL);
    (void)rc;
}

static void send_ack(pipe_state *st, uint64_t seq, uint64_t off, uint64_t window, unsigned flags)
{
    uint8_t m[CTL_ACK_LEN];
    m[0] = CTL_ACK;
    be64(m + 1, seq);
    be64(m + 9, off);
    m[17] = (uint8_t)(window >> 24);
    m[18] = (uint8_t)(window >> 16);
    m[19] = (uint8_t)(window >> 8);
    m[20] = (uint8_t)window;
    m[21] = (uint8_t)flags;
    send_ctl(st, m, sizeof m);
}

static void send_mark(pipe_state *st, uint64_t seq, uint64_t off, int end)
{
    uint8_t m[CTL_MARK_LEN];
    m[0] = CTL_MARK;
    be64(m + 1, seq);
    be64(m + 9, off);
    m[17] = end ? FLAG_END : 0;
    send_ctl(st, m, sizeof m);
}

/* The control channel's handler (the session's thread). */
static void on_control(void *user, uint32_t channel, const uint8_t *m, size_t len)
{
    pipe_state *st = user;
    (void)channel;
    int reply_end = 0;
    uint64_t seq = 0, off = 0;
    pthread_mutex_lock(&st->mu);
    if (len == CTL_ACK_LEN && m[0] == CTL_ACK) {
        uint64_t aseq = get_be64(m + 1), aoff = get_be64(m + 9);
        uint64_t win = (uint64_t)m[17] << 24 | (uint64_t)m[18] << 16 | (uint64_t)m[19] << 8 | m[20];
        uint64_t now = now_us();
        if ((m[21] & FLAG_LOSS) && now - st->cwnd_cut_us >= HOLD_MS * 1000u) {
            /* the path lost some: half as much in flight (once a round) */
            st->cwnd = st->cwnd / 2 < CWND_MIN ? CWND_MIN : st->cwnd / 2;
            st->ssthresh = st->cwnd;
            st->cwnd_cut_us = now;
        } else if (aseq <= st->sent_seq && aoff <= st->sent_off && aoff > st->acked_off) {
            /* none lost: more in flight, doubling until the first loss,
             * then a packet's worth a round */
            uint64_t acked = aoff - st->acked_off;
            st->cwnd += st->cwnd < st->ssthresh ? acked : acked * 1400u / st->cwnd + 1;
            if (st->cwnd > WINDOW_MAX)
                st->cwnd = WINDOW_MAX;
        }
        if (aseq <= st->sent_seq && aoff <= st->sent_off && aoff > st->acked_off) {
            st->acked_seq = aseq;
            st->acked_off = aoff;
            st->ack_progress_us = now;
        }
        if (win >= WINDOW_MIN && win <= WINDOW_MAX)
            st->window = win;
        if (m[21] & FLAG_END)
            st->end_acked = 1;
    } else if (len == CTL_MARK_LEN && m[0] == CTL_MARK) {
        uint64_t mseq = get_be64(m + 1), moff = get_be64(m + 9);
        if (mseq > st->mark_seq && mseq <= SEQ_MAX) {
            st->mark_seq = mseq;
            st->mark_off = moff;
        }
        st->marks++;
        if (m[17] & FLAG_END) {
            st->peer_end = 1;
            reply_end = st->recv_done; /* (else the reader answers when it is done) */
            seq = st->next_seq;
            off = st->next_off;
        }
    }
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    if (reply_end)
        send_ack(st, seq, off, WINDOW_MIN, FLAG_END);
}

/* ------------------------------------------------------------- events */

static void on_event(void *user, const secureio_event *ev)
{
    pipe_state *st = user;
    char fp[SECUREIO_FINGERPRINT_LEN];
    switch (ev->type) {
    case SECUREIO_EVENT_ESTABLISHED:
        if (st->o->verbose && ev->has_peer_key) {
            cli_fingerprint(ev->peer_key, fp);
            fprintf(stderr, "secureio: established with %s (key epoch %" PRIu32 ")\n", fp,
                    ev->epoch);
        }
        break;
    case SECUREIO_EVENT_REKEYED:
        if (st->o->verbose)
            fprintf(stderr, "secureio: new keys (epoch %" PRIu32 ")\n", ev->epoch);
        break;
    case SECUREIO_EVENT_PACKET_SIZE:
        if (st->o->verbose)
            fprintf(stderr, "secureio: packet size %" PRIu32 "\n", ev->packet_size);
        break;
    case SECUREIO_EVENT_BAD_PACKET:
        if (ev->drop_reason == SECUREIO_DROP_PEER && ev->has_peer_key) {
            /* always said: the operator needs to know who knocked */
            pthread_mutex_lock(&st->mu);
            int seen = 0;
            for (unsigned i = 0; i < st->nrefused; i++)
                seen |= memcmp(st->refused[i], ev->peer_key, SECUREIO_PUBLIC_KEY_LEN) == 0;
            int say = 0, more = 0; /* (each key once, and 8 at the most: no flood) */
            if (!seen && st->nrefused < 8) {
                memcpy(st->refused[st->nrefused++], ev->peer_key, SECUREIO_PUBLIC_KEY_LEN);
                say = 1;
            } else if (!seen && !st->said_more) {
                st->said_more = more = 1;
            }
            pthread_mutex_unlock(&st->mu);
            if (more)
                fputs("secureio: more peers refused (no more are named)\n", stderr);
            if (say) {
                /* the library never takes our own identity as a peer */
                uint8_t ours[SECUREIO_PUBLIC_KEY_LEN];
                secureio_identity_public_key(st->o->id, ours);
                cli_fingerprint(ev->peer_key, fp);
                if (memcmp(ours, ev->peer_key, sizeof ours) == 0)
                    fprintf(stderr,
                            "secureio: refused peer %s: it is our own key (each side needs an "
                            "identity of its own)\n",
                            fp);
                else if (st->o->peer != NULL || st->o->authorized != NULL)
                    fprintf(stderr, "secureio: refused peer %s: not %s %s\n", fp,
                            st->o->peer ? "the --peer key" : "in --authorized-keys",
                            st->o->peer ? st->o->peer_source : st->o->authorized_source);
                else
                    fprintf(stderr, "secureio: refused peer %s\n", fp);
            }
        } else if (ev->drop_reason == SECUREIO_DROP_OPTIONS && !st->said_options) {
            st->said_options = 1; /* (once) */
            fputs("secureio: a handshake does not agree with our options: the peer has another "
                  "--psk-file (or none)\n",
                  stderr);
        } else if (st->o->verbose) {
            fprintf(stderr, "secureio: dropped a packet: %s\n",
                    secureio_drop_reason_str(ev->drop_reason));
        }
        break;
    case SECUREIO_EVENT_CLOSED:
        /* A listener's other sessions end here too (a peer refused in its
         * handshake, a second peer turned away by on_accept): only ours
         * ends the pipe. (The loop's thread, as on_accept: st->s is set;
         * the closing session's state is CLOSED before its event.) */
        if (st->o->listen &&
            (st->s == NULL || secureio_session_state(st->s) != SECUREIO_STATE_CLOSED)) {
            if (st->o->verbose > 1)
                fprintf(stderr, "secureio: a connection that is not ours ended (%s)\n",
                        secureio_strerror(ev->err));
            break;
        }
        pthread_mutex_lock(&st->mu);
        st->closed = 1;
        st->close_err = ev->err;
        pthread_cond_broadcast(&st->cv);
        pthread_mutex_unlock(&st->mu);
        if (st->o->verbose)
            fprintf(stderr, "secureio: session closed (%s)\n",
                    ev->err == SECUREIO_OK           ? "by us"
                    : ev->err == SECUREIO_ERR_CLOSED ? "by the peer"
                                                     : secureio_strerror(ev->err));
        break;
    default: break;
    }
}

/* ------------------------------------------------------------ receiving */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes one message's data (mutex not held); counts it. */
static void deliver(pipe_state *st, uint64_t seq, uint64_t off, const uint8_t *d, size_t n)
{
    if (!st->out_failed && write_all(STDOUT_FILENO, d, n) != 0) {
        st->out_failed = 1;
        fprintf(stderr, "secureio: standard output: %s\n", strerror(errno));
    }
    st->next_seq = seq + 1;
    st->next_off = off + n;
    st->delivered_msgs++;
    pthread_mutex_lock(&st->mu);
    st->recv_bytes += n;
    pthread_mutex_unlock(&st->mu);
}

/* Delivers held messages that are next in order. */
static void drain(pipe_state *st)
{
    for (int found = 1; found && st->nheld > 0;) {
        found = 0;
        for (unsigned i = 0; i < st->nheld; i++) {
            if (st->hold[i].seq == st->next_seq) {
                held h = st->hold[i];
                st->hold[i] = st->hold[--st->nheld];
                st->held_bytes -= h.len;
                deliver(st, h.seq, h.off, h.data, h.len);
                free(h.data);
                found = 1;
                break;
            }
        }
    }
}

/* Gives up the gap before the first held message (or before seq/off when
 * nothing is held): those messages count as lost. */
static void skip_gap(pipe_state *st, uint64_t seq, uint64_t off)
{
    for (unsigned i = 0; i < st->nheld; i++)
        if (st->hold[i].seq < seq) {
            seq = st->hold[i].seq;
            off = st->hold[i].off;
        }
    if (seq <= st->next_seq)
        return;
    st->lost_msgs += seq - st->next_seq;
    st->lost_bytes += off > st->next_off ? off - st->next_off : 0;
    st->next_seq = seq;
    st->next_off = off;
    drain(st);
}

static void on_data(pipe_state *st, const uint8_t *m, size_t n, uint64_t now)
{
    if (n < DATA_HDR)
        return; /* not from a secureio CLI */
    uint64_t seq = get_be64(m), off = get_be64(m + 8);
    if (seq > SEQ_MAX)
        return; /* (146 years at a billion messages a second: never ours) */
    st->last_arrival_us = now;
    if (seq < st->next_seq) {
        st->late++; /* counted as lost already */
        return;
    }
    if (seq == st->next_seq) {
        deliver(st, seq, off, m + DATA_HDR, n - DATA_HDR);
        drain(st);
        return;
    }
    if (!st->datagram) {
        /* a stream loses and reorders nothing: a gap is the peer's doing,
         * and holding what follows it would let the peer fill our memory */
        if (!st->broken) {
            st->broken = 1;
            fprintf(stderr,
                    "secureio: the peer skipped data on a stream (message %" PRIu64 ", %" PRIu64
                    " expected): not a secureio CLI, or a broken one\n",
                    seq, st->next_seq);
            secureio_session_close(st->s);
        }
        return;
    }
    for (unsigned i = 0; i < st->nheld; i++)
        if (st->hold[i].seq == seq)
            return;
    if (st->nheld == HOLD_MAX)
        skip_gap(st, UINT64_MAX, 0); /* full: the oldest gap is lost */
    while (st->nheld > 0 && st->held_bytes + (n - DATA_HDR) > HOLD_BYTES)
        skip_gap(st, UINT64_MAX, 0); /* (and by bytes) */
    if (seq == st->next_seq) {
        deliver(st, seq, off, m + DATA_HDR, n - DATA_HDR);
        drain(st);
        return;
    }
    held *h = &st->hold[st->nheld];
    h->data = malloc(n - DATA_HDR ? n - DATA_HDR : 1);
    if (h->data == NULL) {
        skip_gap(st, seq, off); /* no memory: give the gap up now */
        deliver(st, seq, off, m + DATA_HDR, n - DATA_HDR);
        drain(st);
        return;
    }
    memcpy(h->data, m + DATA_HDR, n - DATA_HDR);
    h->seq = seq;
    h->off = off;
    h->len = n - DATA_HDR;
    h->at_us = now;
    st->nheld++;
    st->held_bytes += h->len;
}

static void progress(pipe_state *st, uint64_t now, int final)
{
    pthread_mutex_lock(&st->mu);
    uint64_t sent = st->sent_off, recv = st->recv_bytes;
    pthread_mutex_unlock(&st->mu);
    double secs = (double)(now - st->start_us) / 1e6;
    if (secs <= 0)
        secs = 1e-6;
    char a[32], b[32], ra[32], rb[32];
    human(a, sizeof a, (double)sent);
    human(b, sizeof b, (double)recv);
    human(ra, sizeof ra, (double)sent / secs);
    human(rb, sizeof rb, (double)recv / secs);
    fprintf(stderr, "secureio: %ssent %s (%s/s), received %s (%s/s) in %.1f s\n",
            final ? "done: " : "", a, ra, b, rb, secs);
}

/* Nothing of the peer's waits in the session's read queue. */
static int queue_empty(pipe_state *st)
{
    secureio_session_stats ss;
    secureio_session_stats_get(st->s, &ss);
    return ss.read_queue_bytes == 0;
}

static void *reader(void *arg)
{
    pipe_state *st = arg;
    size_t cap = DATA_HDR + SLOT_DATA;
    uint8_t *buf = malloc(cap);
    uint64_t last_ack = 0, acked_seq = 0, acked_off = 0, acked_marks = 0, acked_lost = 0;
    uint64_t last_progress = now_us();
    uint64_t window = WINDOW_START;
    if (st->datagram) {
        secureio_session_stats ss;
        secureio_session_stats_get(st->s, &ss);
        /* a quarter of what the kernel reports (twice what was asked):
         * room for each datagram's bookkeeping too */
        window = ss.socket_rcvbuf / 4;
        window = window < WINDOW_MIN ? WINDOW_MIN : window > WINDOW_MAX ? WINDOW_MAX : window;
    }
    int done = 0;
    while (buf != NULL && !done) {
        size_t n = 0;
        int rc = secureio_read_timeout(st->s, buf, cap, &n, (int)ACK_MS);
        uint64_t now = now_us();
        if (rc == SECUREIO_OK) {
            on_data(st, buf, n, now);
        } else if (rc == SECUREIO_ERR_BUFFER && n <= READ_MAX + DATA_HDR) {
            uint8_t *nb = realloc(buf, n);
            if (nb != NULL) {
                buf = nb;
                cap = n;
            }
            continue;
        } else if (rc == SECUREIO_ERR_CLOSED) {
            break;
        } else if (rc != SECUREIO_ERR_TIMEOUT && rc != SECUREIO_ERR_AGAIN) {
            break;
        }
        /* Gaps that waited long enough, and a tail the sender marked: given
         * up only over datagrams, and only when nothing is left in the read
         * queue (the control channel overtakes the data we have not read
         * yet). */
        pthread_mutex_lock(&st->mu);
        uint64_t mseq = st->mark_seq, moff = st->mark_off, marks = st->marks;
        int end = st->peer_end;
        pthread_mutex_unlock(&st->mu);
        int stale = 0;
        for (unsigned i = 0; i < st->nheld && !stale; i++)
            stale = now - st->hold[i].at_us >= HOLD_MS * 1000u;
        int tail =
            mseq > st->next_seq && st->nheld == 0 && now - st->last_arrival_us >= HOLD_MS * 1000u;
        if (st->datagram && (stale || tail) && queue_empty(st))
            skip_gap(st, stale ? UINT64_MAX : mseq, stale ? 0 : moff);
        if (end && st->next_seq >= mseq && st->nheld == 0) {
            pthread_mutex_lock(&st->mu);
            st->recv_done = 1;
            pthread_cond_broadcast(&st->cv);
            pthread_mutex_unlock(&st->mu);
            done = 1;
        }
        /* Acknowledgements: over datagrams, of new data every ACK_MS or
         * every eighth of the window, and of every mark; the end, on every
         * transport. */
        int changed = st->next_off != acked_off || st->next_seq != acked_seq;
        if (done || (st->datagram && ((changed && (now - last_ack >= ACK_MS * 1000u ||
                                                   st->next_off - acked_off >= window / 8)) ||
                                      marks != acked_marks))) {
            send_ack(st, st->next_seq, st->next_off, window,
                     (done ? FLAG_END : 0) | (st->lost_msgs > acked_lost ? FLAG_LOSS : 0));
            acked_lost = st->lost_msgs;
            acked_seq = st->next_seq;
            acked_off = st->next_off;
            acked_marks = marks;
            last_ack = now;
        }
        if (st->o->verbose && now - last_progress >= 1000000u) {
            progress(st, now, 0);
            last_progress = now;
        }
    }
    free(buf);
    for (unsigned i = 0; i < st->nheld; i++)
        free(st->hold[i].data);
    st->nheld = 0;
    st->held_bytes = 0;
    pthread_mutex_lock(&st->mu);
    st->recv_done = 1; /* (also when the session closed first) */
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

/* -------------------------------------------------------------- sending */

static void on_sent(void *arg, int err, size_t len)
{
    slot_ref *r = arg;
    pipe_state *st = r->st;
    (void)len;
    pthread_mutex_lock(&st->mu);
    st->busy[r->i] = 0;
    st->nbusy--;
    if (err != SECUREIO_OK && st->write_err == SECUREIO_OK)
        st->write_err = err;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

/* Waits until standard input has data (or ended): 1, or 0 if the session
 * closed or the peer finished and closed first. */
static int input_ready(pipe_state *st)
{
    for (;;) {
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        int r = poll(&p, 1, 200);
        if (r > 0 || (r < 0 && errno != EINTR))
            return 1;
        pthread_mutex_lock(&st->mu);
        int closed = st->closed || st->write_err != SECUREIO_OK;
        pthread_mutex_unlock(&st->mu);
        if (closed)
            return 0;
    }
}

/* Sends standard input until its end: SECUREIO_OK, or why it stopped. */
static int send_input(pipe_state *st)
{
    slot_ref *refs = st->refs;
    uint64_t last_mark = 0;
    for (;;) {
        /* a free slot, and room in the peer's window */
        unsigned slot = SLOTS;
        pthread_mutex_lock(&st->mu);
        for (;;) {
            if (st->closed || st->write_err != SECUREIO_OK)
                break;
            uint64_t now = now_us();
            int room = !st->datagram || st->sent_off - st->acked_off <
                                            (st->window < st->cwnd ? st->window : st->cwnd);
            if (room && st->nbusy < SLOTS) {
                for (slot = 0; slot < SLOTS && st->busy[slot]; slot++) {
                }
                break;
            }
            /* unheard for a while: say where we are (the receiver gives up
             * a lost tail, and acknowledges) */
            if (!room && now - st->ack_progress_us >= MARK_MS * 1000u &&
                now - last_mark >= MARK_MS * 1000u) {
                uint64_t seq = st->sent_seq, off = st->sent_off;
                last_mark = now;
                pthread_mutex_unlock(&st->mu);
                send_mark(st, seq, off, 0);
                pthread_mutex_lock(&st->mu);
                continue;
            }
            timed_wait(st, MARK_MS / 2);
        }
        int stop = st->closed ? SECUREIO_ERR_CLOSED : st->write_err;
        pthread_mutex_unlock(&st->mu);
        if (stop != SECUREIO_OK)
            return stop;
        if (!input_ready(st))
            return SECUREIO_ERR_CLOSED;
        size_t chunk = SLOT_DATA;
        if (st->datagram) {
            /* one packet's worth: a lost datagram loses one message */
            size_t m = secureio_session_max_message(st->s, SECUREIO_CHANNEL_DEFAULT);
            chunk = m > DATA_HDR + 1 ? m - DATA_HDR : 1;
            if (chunk > SLOT_DATA)
                chunk = SLOT_DATA;
        }
        uint8_t *p = st->slots + (size_t)slot * (DATA_HDR + SLOT_DATA);
        ssize_t n;
        do
            n = read(STDIN_FILENO, p + DATA_HDR, chunk);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            fprintf(stderr, "secureio: standard input: %s\n", strerror(errno));
            return SECUREIO_ERR_IO;
        }
        if (n == 0)
            return SECUREIO_OK;
        pthread_mutex_lock(&st->mu);
        be64(p, st->sent_seq);
        be64(p + 8, st->sent_off);
        st->sent_seq++;
        st->sent_off += (uint64_t)n;
        st->busy[slot] = 1;
        st->nbusy++;
        pthread_mutex_unlock(&st->mu);
        refs[slot].st = st;
        refs[slot].i = slot;
        int rc;
        while ((rc = secureio_write_message_cb(st->s, SECUREIO_CHANNEL_DEFAULT, p,
                                               DATA_HDR + (size_t)n, 0, on_sent, &refs[slot])) ==
               SECUREIO_ERR_AGAIN) {
            pthread_mutex_lock(&st->mu); /* the queue is full: wait for a completion */
            timed_wait(st, 5);
            pthread_mutex_unlock(&st->mu);
        }
        if (rc != SECUREIO_OK) {
            pthread_mutex_lock(&st->mu);
            st->busy[slot] = 0;
            st->nbusy--;
            pthread_mutex_unlock(&st->mu);
            return rc;
        }
    }
}

/* After the end of input: everything on the wire (and, over datagrams,
 * acknowledged or given up), then the end marked until the peer confirms. */
static void send_end(pipe_state *st)
{
    pthread_mutex_lock(&st->mu);
    uint64_t waited_from = now_us();
    while (!st->closed && (st->nbusy > 0 || (st->datagram && st->acked_off < st->sent_off)) &&
           now_us() - waited_from < 2000000u)
        timed_wait(st, 20);
    pthread_mutex_unlock(&st->mu);
    for (unsigned i = 0; i < END_TRIES; i++) {
        pthread_mutex_lock(&st->mu);
        int stop = st->closed || st->end_acked;
        uint64_t seq = st->sent_seq, off = st->sent_off;
        pthread_mutex_unlock(&st->mu);
        if (stop)
            return;
        send_mark(st, seq, off, 1);
        pthread_mutex_lock(&st->mu);
        uint64_t until = now_us() + MARK_MS * 1000u;
        while (!st->closed && !st->end_acked && now_us() < until)
            timed_wait(st, MARK_MS);
        pthread_mutex_unlock(&st->mu);
    }
    fputs("secureio: the peer did not confirm the end of our data\n", stderr);
}

/* -vv: the session's counters at the end. */
static void print_stats(const secureio_session *s)
{
    secureio_session_stats ss;
    secureio_session_stats_get(s, &ss);
    const secureio_stats *e = &ss.engine;
    fprintf(stderr,
            "secureio: packets in %" PRIu64 ", out %" PRIu64 "; messages in %" PRIu64
            ", out %" PRIu64 "; fragments in %" PRIu64 ", out %" PRIu64 "; rekeys %" PRIu64
            "\nsecureio: receive calls %" PRIu64 ", send calls %" PRIu64
            "; read queue drops %" PRIu64 ", unhandled %" PRIu64 "; packet size %" PRIu32 "\n",
            e->packets_in, e->packets_out, e->messages_in, e->messages_out, e->fragments_in,
            e->fragments_out, e->rekeys, ss.syscalls_in, ss.syscalls_out, ss.read_dropped,
            ss.unhandled, e->packet_size);
    for (int r = 1; r < SECUREIO_DROP_REASON_COUNT; r++)
        if (e->dropped[r] > 0)
            fprintf(stderr, "secureio: dropped %" PRIu64 ": %s\n", e->dropped[r],
                    secureio_drop_reason_str(r));
}

/* ---------------------------------------------------------- the session */

/* Sessions of peers that came after ours: closed at once, freed by the
 * reaper thread (not on the loop's thread, where on_accept runs). */
typedef struct extra {
    struct extra *next;
    secureio_session *s;
} extra;

typedef struct accepted {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    secureio_session *s;
    pipe_state *st;
    extra *extras;
    int stop;
} accepted;

/* A listener's session (the loop's thread): the first one is ours; its
 * control handler is set before any message of it can come. */
static void on_accept(void *user, secureio_session *s, const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    accepted *a = user;
    (void)pk;
    pthread_mutex_lock(&a->mu);
    if (a->s != NULL) {
        /* one peer at a time: its events are not ours */
        int rc = secureio_session_set_event_handler(s, NULL, NULL);
        (void)rc;
        secureio_session_close(s);
        extra *x = malloc(sizeof *x);
        if (x != NULL) {
            x->s = s;
            x->next = a->extras;
            a->extras = x;
            pthread_cond_broadcast(&a->cv);
        }
        pthread_mutex_unlock(&a->mu);
        return;
    }
    a->st->s = s;
    if (secureio_session_set_handler(s, CTL_CHANNEL, on_control, a->st) != SECUREIO_OK)
        secureio_session_close(s);
    a->s = s;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* Frees the extra sessions that have ended, until a->stop (then all). */
static void *reaper(void *arg)
{
    accepted *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        extra *keep = NULL, *x = a->extras;
        a->extras = NULL;
        int stop = a->stop;
        pthread_mutex_unlock(&a->mu);
        while (x != NULL) {
            extra *next = x->next;
            if (stop || secureio_session_state(x->s) == SECUREIO_STATE_CLOSED) {
                secureio_session_free(x->s);
                free(x);
            } else {
                x->next = keep;
                keep = x;
            }
            x = next;
        }
        pthread_mutex_lock(&a->mu);
        while (keep != NULL) {
            extra *next = keep->next;
            keep->next = a->extras;
            a->extras = keep;
            keep = next;
        }
        if (stop)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&a->cv, &a->mu, &ts);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static int is_datagram(const char *url)
{
    return strncmp(url, "udp://", 6) == 0 || strncmp(url, "unixgram://", 11) == 0;
}

/* The path of a unix:// or unixgram:// URL (NULL for the others), and its
 * socket type. */
static const char *unix_path(const char *url, int *type)
{
    int dgram = strncmp(url, "unixgram://", 11) == 0;
    if (!dgram && strncmp(url, "unix://", 7) != 0)
        return NULL;
    *type = dgram ? SOCK_DGRAM : SOCK_STREAM;
    const char *path = url + (dgram ? 11 : 7);
    return path[0] == '/' && strlen(path) < sizeof(((struct sockaddr_un *)0)->sun_path) ? path
                                                                                        : NULL;
}

/* The library binds a unix socket's path but never removes the file, an
 * old one nor its own (secureio_listen(3)): a socket file that nothing
 * listens on any more (connecting to it is refused: a listener that was
 * killed) is removed before listening; a file of another kind, or a live
 * socket, is left for the bind to refuse. */
static void remove_stale_socket(const char *url)
{
    int type;
    const char *path = unix_path(url, &type);
    struct stat sb;
    if (path == NULL || lstat(path, &sb) != 0 || !S_ISSOCK(sb.st_mode))
        return;
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (connect(fd, (const struct sockaddr *)&sun, sizeof sun) != 0 && errno == ECONNREFUSED)
        unlink(path);
    close(fd);
}

/* Our listener on a unix socket is freed: its file goes (when a socket is
 * still at the path). */
static void remove_own_socket(const char *url)
{
    int type;
    const char *path = unix_path(url, &type);
    struct stat sb;
    if (path != NULL && lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
        unlink(path);
}

static int exit_for(int err)
{
    switch (err) {
    case SECUREIO_OK: return CLI_EXIT_OK;
    case SECUREIO_ERR_TIMEOUT: return CLI_EXIT_TIMEOUT;
    case SECUREIO_ERR_PEER:
    case SECUREIO_ERR_AUTH: return CLI_EXIT_KEY;
    default: return CLI_EXIT_CONN;
    }
}

/* Why a connect's handshake did not finish, in words. */
static int no_handshake(pipe_state *st, int err)
{
    const cli_pipe_opts *o = st->o;
    char peer[SECUREIO_FINGERPRINT_LEN], ours[SECUREIO_FINGERPRINT_LEN];
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
    secureio_identity_public_key(o->id, pk);
    cli_fingerprint(pk, ours);
    cli_fingerprint(o->peer, peer);
    secureio_session_stats ss;
    secureio_session_stats_get(st->s, &ss);
    if (err == SECUREIO_ERR_TIMEOUT && ss.unreachable > 0) {
        fprintf(stderr, "secureio: %s: nothing listens there (the host refused our packets)\n",
                o->url);
        return CLI_EXIT_CONN;
    }
    if (err == SECUREIO_ERR_TIMEOUT) {
        /* (over a stream the connection was made: someone is there) */
        fprintf(stderr,
                "secureio: %s: no handshake with %s in %.1f s: %sits key is not %s, %sit does "
                "not accept ours (%s)%s\n",
                o->url, peer, (double)(o->timeout_ms ? o->timeout_ms : CLI_TIMEOUT_MS) / 1000.0,
                st->datagram ? "the peer is not there, " : "", peer, o->psk ? "" : "or ", ours,
                o->psk ? ", or it has another --psk-file" : "");
        return CLI_EXIT_TIMEOUT;
    }
    fprintf(stderr, "secureio: %s: %s\n", o->url,
            err == SECUREIO_ERR_TRANSPORT ? "the connection failed (refused or reset)"
                                          : secureio_strerror(err));
    return exit_for(err);
}

int cli_pipe(const cli_pipe_opts *o)
{
    pipe_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return CLI_EXIT_FAIL;
    pthread_mutex_init(&st->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->cv, &ca);
    pthread_condattr_destroy(&ca);
    st->o = o;
    st->datagram = is_datagram(o->url);
    st->window = WINDOW_START;
    st->cwnd = WINDOW_START;
    st->ssthresh = UINT64_MAX;
    st->slots = malloc((size_t)SLOTS * (DATA_HDR + SLOT_DATA));

    secureio_session_options so = SECUREIO_SESSION_OPTIONS_INIT;
    so.identity = o->id;
    so.peer_key = o->peer;
    so.allowed_peers = o->authorized;
    so.accept_any_peer = o->any_peer;
    so.psk = o->psk;
    so.psk_len = o->psk_len;
    so.handshake_timeout_ms = o->listen ? 0 : o->timeout_ms ? o->timeout_ms : CLI_TIMEOUT_MS;
    so.idle_timeout_ms = o->idle_ms ? o->idle_ms : CLI_IDLE_MS;
    so.keepalive_ms =
        CLI_KEEPALIVE_MS < so.idle_timeout_ms / 3 ? CLI_KEEPALIVE_MS : so.idle_timeout_ms / 3 + 1;
    so.on_event = on_event;
    so.user = st;

    int code = CLI_EXIT_OK, rc;
    secureio_listener *l = NULL;
    accepted acc = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, st, NULL, 0};
    pthread_t reaper_thread;
    int have_reaper = 0;
    char fp[SECUREIO_FINGERPRINT_LEN];
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
    secureio_identity_public_key(o->id, pk);
    cli_fingerprint(pk, fp);
    if (st->slots == NULL) {
        code = CLI_EXIT_FAIL;
    } else if (o->listen) {
        remove_stale_socket(o->url);
        have_reaper = pthread_create(&reaper_thread, NULL, reaper, &acc) == 0;
        rc = have_reaper ? secureio_listen(&l, o->url, &so, on_accept, &acc) : SECUREIO_ERR_NOMEM;
        if (rc != SECUREIO_OK) {
            const char *d = secureio_error_detail(); /* (it names the URL) */
            if (d != NULL && d[0])
                fprintf(stderr, "secureio: cannot listen: %s\n", d);
            else
                fprintf(stderr, "secureio: cannot listen on %s: %s\n", o->url,
                        secureio_strerror(rc));
            code = rc == SECUREIO_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        } else {
            char addr[256];
            size_t al = sizeof addr;
            if (o->verbose && secureio_listener_addr(l, addr, &al) == SECUREIO_OK)
                fprintf(stderr, "secureio: listening on %.*s as %s\n", (int)al, addr, fp);
            pthread_mutex_lock(&acc.mu);
            while (acc.s == NULL)
                pthread_cond_wait(&acc.cv, &acc.mu);
            pthread_mutex_unlock(&acc.mu);
            if (o->verbose && secureio_session_peer_key(st->s, pk) == SECUREIO_OK) {
                cli_fingerprint(pk, fp);
                fprintf(stderr, "secureio: accepted %s\n", fp);
            }
        }
    } else {
        if (o->verbose)
            fprintf(stderr, "secureio: connecting to %s as %s\n", o->url, fp);
        rc = secureio_session_connect(&st->s, o->url, &so);
        if (rc == SECUREIO_OK)
            rc = secureio_session_set_handler(st->s, CTL_CHANNEL, on_control, st);
        if (rc == SECUREIO_OK) {
            /* (over UDP, a host that refuses our hellos twice has no
             * listener there: given up then, as netcat does, rather than
             * after the whole --timeout) */
            for (;;) {
                rc = secureio_session_wait_state(st->s, SECUREIO_STATE_ESTABLISHED, 250);
                if (rc != SECUREIO_ERR_TIMEOUT ||
                    secureio_session_state(st->s) == SECUREIO_STATE_CLOSED)
                    break;
                secureio_session_stats ss;
                secureio_session_stats_get(st->s, &ss);
                if (ss.unreachable >= 2) {
                    secureio_session_close(st->s);
                    break;
                }
            }
            if (rc != SECUREIO_OK) {
                int why = secureio_session_close_wait(st->s, 0);
                code = no_handshake(st, why == SECUREIO_ERR_TIMEOUT || why == SECUREIO_OK
                                            ? SECUREIO_ERR_TIMEOUT
                                            : why);
            }
        } else {
            /* the detail names the URL and the system's reason */
            const char *d = secureio_error_detail();
            if (d != NULL && d[0])
                fprintf(stderr, "secureio: cannot connect: %s\n", d);
            else
                fprintf(stderr, "secureio: cannot connect to %s: %s\n", o->url,
                        secureio_strerror(rc));
            code = rc == SECUREIO_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_CONN;
        }
    }

    if (code == CLI_EXIT_OK) {
        st->start_us = now_us();
        st->ack_progress_us = st->start_us;
        pthread_t rt;
        int have_reader = pthread_create(&rt, NULL, reader, st) == 0;
        if (!have_reader) {
            code = CLI_EXIT_FAIL;
        } else {
            rc = send_input(st);
            if (rc == SECUREIO_OK)
                send_end(st);
            /* the peer's end (or the session's) */
            pthread_mutex_lock(&st->mu);
            while (!st->recv_done && !st->closed)
                timed_wait(st, 200);
            pthread_mutex_unlock(&st->mu);
            if (o->verbose > 1)
                print_stats(st->s); /* (before the close: a listener's session forgets) */
            int end = secureio_session_close_wait(st->s, 5000);
            pthread_join(rt, NULL);
            pthread_mutex_lock(&st->mu);
            int err = st->closed ? st->close_err : end;
            int sent_all = rc == SECUREIO_OK;
            pthread_mutex_unlock(&st->mu);
            if (o->verbose)
                progress(st, now_us(), 1);

            if (err != SECUREIO_OK && err != SECUREIO_ERR_CLOSED) {
                /* (SECUREIO_ERR_CLOSED: the peer's authenticated close) */
                fprintf(stderr, "secureio: the session ended: %s\n",
                        err == SECUREIO_ERR_TIMEOUT ? "the peer went silent"
                        : err == SECUREIO_ERR_TRANSPORT
                            ? "the connection was cut before the peer closed the session"
                            : secureio_strerror(err));
                code = exit_for(err);
            } else if (!sent_all) {
                fputs("secureio: the peer closed the session before all our input was sent\n",
                      stderr);
                code = CLI_EXIT_CONN;
            }
            if ((st->out_failed || st->broken) && code == CLI_EXIT_OK)
                code = CLI_EXIT_FAIL;
            if (st->lost_msgs > 0) {
                char b[32];
                human(b, sizeof b, (double)st->lost_bytes);
                fprintf(stderr,
                        "secureio: %" PRIu64 " of %" PRIu64 " messages from the peer were lost "
                        "(%s)%s\n",
                        st->lost_msgs, st->lost_msgs + st->delivered_msgs, b,
                        st->late ? "; some came too late, out of order" : "");
                if (code == CLI_EXIT_OK)
                    code = CLI_EXIT_LOST;
            }
        }
    }
    if (have_reaper) { /* (the extra sessions go before the listener) */
        pthread_mutex_lock(&acc.mu);
        acc.stop = 1;
        pthread_cond_broadcast(&acc.cv);
        pthread_mutex_unlock(&acc.mu);
        pthread_join(reaper_thread, NULL);
    }
    secureio_session_free(st->s);
    if (l != NULL) {
        secureio_listener_free(l);
        remove_own_socket(o->url);
    }
    while (acc.extras != NULL) { /* (any that came after the reaper stopped) */
        extra *x = acc.extras;
        acc.extras = x->next;
        secureio_session_free(x->s);
        free(x);
    }
    free(st->slots);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
    return code;
}
