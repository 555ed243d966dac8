/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transports of a session (session_internal.h), run by its loop.
 *
 * Datagrams are received and sent in batches of up to SIO_LOOP_BATCH, one
 * system call each (recvmmsg, sendmmsg), into and from the loop's shared
 * buffers: an engine seals its packets straight into the send batch. A
 * stream is read in one call of up to 64 KiB, and the engine's packets are
 * gathered into one write. What the socket does not take (EAGAIN) is kept
 * in the session's output buffer, the descriptor watched until it can take
 * more, and the engine asked for nothing new meanwhile: its own queue
 * holds the rest (back-pressure reaches secureio_write).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/util.h"
#include "engine_internal.h"
#include "session_internal.h"
#include "udp.h"

/* Rounds of batches an event may take before the loop turns to the other
 * items (fairness). */
#define SIO_IO_ROUNDS 8

/* Keeps bytes the transport did not take (datagrams: each with its LE16
 * length). 0, or -1 without memory (the session closes). */
static int hold(secureio_session *s, const uint8_t *p, size_t len, int datagram)
{
    size_t need = len + (datagram ? 2u : 0u);
    if (sio_hold_reserve(&s->out, &s->out_off, &s->out_len, &s->out_cap, need) == NULL)
        return -1;
    if (datagram) {
        s->out[s->out_len] = (uint8_t)len;
        s->out[s->out_len + 1] = (uint8_t)(len >> 8);
        s->out_len += 2;
    }
    memcpy(s->out + s->out_len, p, len);
    s->out_len += len;
    return 0;
}

/* Stream output: on a socket without SIGPIPE (a peer gone is an error
 * code); on a pipe, loop threads block SIGPIPE (loop.c). */
static ssize_t out_write(secureio_session *s, const uint8_t *p, size_t n)
{
    if (s->out_socket)
        return send(s->fd_out, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    return write(s->fd_out, p, n);
}

static void set_out_blocked(secureio_session *s, int blocked)
{
    if (s->out_blocked == blocked || s->kind == SIO_T_CHILD)
        return;
    s->out_blocked = blocked;
    if (s->kind == SIO_T_IO)
        return; /* secureio_session_wake() says when to try again */
    int slot = s->fd_out != s->fd ? 1 : 0;
    uint32_t ev = blocked ? EPOLLOUT : 0;
    if (slot == 0)
        ev |= s->in_paused ? EPOLLET : EPOLLIN; /* (EPOLLET: see sio_session_pause) */
    (void)sio_loop_watch(s->loop, &s->item, slot, s->fd_out, ev, EPOLL_CTL_MOD);
}

/* The transport failed or ended: the session is over. err: NOMEM, or
 * TRANSPORT for everything else (an end of stream, a reset, an error, the
 * caller's write callback failing): only the peer's authenticated CLOSE
 * ends a session with SECUREIO_ERR_CLOSED, so a cut is never taken for a
 * close. */
static void transport_gone(secureio_session *s, int err)
{
    if (err != SECUREIO_ERR_NOMEM)
        err = SECUREIO_ERR_TRANSPORT;
    if (s->dead)
        return;
    s->dead = 1;
    /* nothing more is read or written: not watched either (a descriptor
     * at its end stays readable, and the loop would spin on it until the
     * application frees the session) */
    if (s->kind != SIO_T_IO && s->kind != SIO_T_CHILD && s->fd >= 0) {
        (void)sio_loop_watch(s->loop, &s->item, 0, s->fd, 0, EPOLL_CTL_DEL);
        if (s->fd_out != s->fd && s->fd_out >= 0)
            (void)sio_loop_watch(s->loop, &s->item, 1, s->fd_out, 0, EPOLL_CTL_DEL);
    }
    if (s->e != NULL && s->e->state != SECUREIO_STATE_CLOSED)
        sio_close_with(s->e, err);
    sio_session_closed(s, err);
}

/* The caller's write callback: 1 when it took the bytes, 0 when it could
 * not (SECUREIO_ERR_AGAIN: blocked until secureio_session_wake; another
 * error: the session ends). */
static int call_write_fn(secureio_session *s, const uint8_t *p, size_t len)
{
    int rc = s->write_fn(s->write_ctx, p, len);
    if (rc == SECUREIO_ERR_AGAIN)
        set_out_blocked(s, 1);
    else if (rc != SECUREIO_OK)
        transport_gone(s, rc);
    return rc == SECUREIO_OK;
}

/* Sends held output: 1 when all of it went, 0 when the transport is full. */
static int send_held(secureio_session *s)
{
    while (s->out_off < s->out_len) {
        ssize_t n;
        if (s->stream) {
            if (s->kind == SIO_T_IO) {
                if (!call_write_fn(s, s->out + s->out_off, s->out_len - s->out_off))
                    return 0;
                n = (ssize_t)(s->out_len - s->out_off);
            } else {
                n = out_write(s, s->out + s->out_off, s->out_len - s->out_off);
                s->syscalls_out++;
            }
        } else {
            size_t len = (size_t)s->out[s->out_off] | (size_t)s->out[s->out_off + 1] << 8;
            const uint8_t *p = s->out + s->out_off + 2;
            if (s->kind == SIO_T_IO) {
                if (!call_write_fn(s, p, len))
                    return 0;
                n = (ssize_t)len;
            } else {
                n = sendto(s->fd_out, p, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                           s->peer_len ? (const struct sockaddr *)&s->peer : NULL, s->peer_len);
                s->syscalls_out++;
            }
            if (n >= 0)
                n = (ssize_t)len + 2; /* a datagram goes whole or not at all */
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
                return 0;
            if (errno == EINTR)
                continue;
            if (!s->stream && (errno == ECONNREFUSED || errno == EMSGSIZE)) {
                /* a datagram lost (no one there yet, or too large for the
                 * path): as on the wire */
                s->unreachable += errno == ECONNREFUSED;
                size_t len = (size_t)s->out[s->out_off] | (size_t)s->out[s->out_off + 1] << 8;
                s->out_off += len + 2;
                continue;
            }
            transport_gone(s, SECUREIO_ERR_TRANSPORT);
            return 0;
        }
        s->out_off += (size_t)n;
    }
    s->out_off = s->out_len = 0;
    return 1;
}

/* Datagrams: a batch from the engine, sent with one sendmmsg (runs of
 * full packets as one GSO send each, where the socket can). */
static void flush_datagrams(secureio_session *s, uint64_t now)
{
    uint8_t *buf = s->loop->txbuf;
    sio_udp_batch b;
    for (int round = 0; round < SIO_IO_ROUNDS; round++) {
        b.n = 0;
        while (b.n < SIO_LOOP_BATCH) {
            size_t len = SIO_LOOP_SLOT;
            uint8_t *p = buf + (size_t)b.n * SIO_LOOP_SLOT;
            if (secureio_engine_poll(s->e, p, &len, now) != SECUREIO_OK || len == 0)
                break;
            b.iov[b.n].iov_base = p;
            b.iov[b.n].iov_len = len;
            b.name[b.n] = s->peer_len ? &s->peer : NULL;
            b.namelen[b.n] = s->peer_len;
            b.n++;
        }
        unsigned n = b.n, sent = 0;
        if (n == 0)
            return;
        if (s->kind == SIO_T_IO) {
            for (; sent < n; sent++)
                if (!call_write_fn(s, b.iov[sent].iov_base, b.iov[sent].iov_len)) {
                    if (s->dead)
                        return;
                    break;
                }
        } else {
            sio_udp_pack(&b, s->gso);
            unsigned next = 0;
            while (next < b.nmsgs) {
                int r = sio_udp_send(s->fd_out, &b, &next);
                s->syscalls_out++;
                if (r > 0) {
                    sent += (unsigned)r;
                } else if (s->gso && (errno == EIO || errno == EINVAL)) {
                    /* no GSO on this path (a device without checksum
                     * offload): plain datagrams from now on */
                    s->gso = 0;
                    unsigned from = b.first[next];
                    sio_udp_pack(&b, 0);
                    next = from;
                } else if (errno == ECONNREFUSED || errno == EMSGSIZE) {
                    s->unreachable += errno == ECONNREFUSED;
                    sent += b.first[next + 1] - b.first[next]; /* lost, as on the wire */
                    next++;
                } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
                    transport_gone(s, SECUREIO_ERR_TRANSPORT);
                    return;
                } else {
                    break;
                }
            }
        }
        if (sent < n) {
            for (unsigned i = sent; i < n; i++)
                if (hold(s, b.iov[i].iov_base, b.iov[i].iov_len, 1) != 0) {
                    transport_gone(s, SECUREIO_ERR_NOMEM);
                    return;
                }
            set_out_blocked(s, 1);
            return;
        }
        if (n < SIO_LOOP_BATCH)
            return; /* the engine had no more */
    }
    sio_session_dirty(s); /* more next turn: the others' turn first */
}

/* Streams: packets gathered into one write. */
static void flush_stream(secureio_session *s, uint64_t now)
{
    uint8_t *buf = s->loop->txbuf;
    for (int round = 0; round < SIO_IO_ROUNDS; round++) {
        size_t w = 0;
        while (SIO_LOOP_BUF - w >= SIO_LOOP_SLOT) {
            size_t len = SIO_LOOP_BUF - w;
            if (secureio_engine_poll(s->e, buf + w, &len, now) != SECUREIO_OK || len == 0)
                break;
            w += len;
            if (w >= 256u * 1024u)
                break; /* a write of this size is enough per call */
        }
        if (w == 0)
            return;
        size_t off = 0;
        if (s->kind == SIO_T_IO) {
            if (call_write_fn(s, buf, w))
                off = w;
            else if (s->dead)
                return;
        } else {
            while (off < w) {
                ssize_t n = out_write(s, buf + off, w - off);
                s->syscalls_out++;
                if (n > 0) {
                    off += (size_t)n;
                } else if (n < 0 && errno == EINTR) {
                    continue;
                } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                    transport_gone(s, SECUREIO_ERR_TRANSPORT);
                    return;
                } else {
                    break;
                }
            }
        }
        if (off < w) {
            if (hold(s, buf + off, w - off, 0) != 0) {
                transport_gone(s, SECUREIO_ERR_NOMEM);
                return;
            }
            set_out_blocked(s, 1);
            return;
        }
    }
    sio_session_dirty(s);
}

void sio_session_flush(secureio_session *s, uint64_t now)
{
    if (s->dead || s->e == NULL || s->kind == SIO_T_CHILD)
        return;
    if (s->out_len > s->out_off && !send_held(s)) {
        /* still full: the engine keeps the rest, and the descriptor is
         * watched again (a wake-up for room that took only a part of the
         * held bytes left it unwatched: nothing was ever sent again) */
        if (!s->dead)
            set_out_blocked(s, 1);
        return;
    }
    set_out_blocked(s, 0);
    if (s->stream)
        flush_stream(s, now);
    else
        flush_datagrams(s, now);
}

/* Datagrams in: batches of recvmmsg; a coalesced receive (UDP GRO) is cut
 * back into its datagrams. */
static void read_datagrams(secureio_session *s, uint64_t now)
{
    uint8_t *buf = s->loop->rxbuf;
    struct mmsghdr msgs[SIO_LOOP_BATCH];
    struct iovec iov[SIO_LOOP_BATCH];
    sio_udp_rxctl ctl[SIO_LOOP_BATCH];
    for (int round = 0; round < SIO_IO_ROUNDS && s->e != NULL && !s->dead; round++) {
        sio_udp_rx_prepare(msgs, iov, ctl, NULL, buf, s->gro);
        int n = recvmmsg(s->fd, msgs, SIO_LOOP_BATCH, MSG_DONTWAIT, NULL);
        s->syscalls_in++;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ECONNREFUSED) {
                s->unreachable++; /* (an earlier datagram was refused) */
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                transport_gone(s, SECUREIO_ERR_TRANSPORT);
            return;
        }
        for (int i = 0; i < n && s->e != NULL && s->e->state != SECUREIO_STATE_CLOSED; i++) {
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
                continue; /* larger than any packet: not ours */
            const uint8_t *p = iov[i].iov_base;
            size_t left = msgs[i].msg_len, seg = sio_udp_rx_segment(&msgs[i], s->gro);
            while (left > 0 && s->e != NULL) {
                size_t len = left < seg ? left : seg;
                if (secureio_engine_recv(s->e, p, len, now) == SECUREIO_ERR_CLOSED)
                    break; /* (a bad datagram is dropped and counted by the engine) */
                p += len;
                left -= len;
            }
        }
        if (n < (int)SIO_LOOP_BATCH)
            return;
    }
}

/* A stream in: one read, handed in as it came. */
static void read_stream(secureio_session *s, uint64_t now)
{
    uint8_t *buf = s->loop->rxbuf;
    for (int round = 0; round < SIO_IO_ROUNDS && !s->in_paused && !s->dead && s->e != NULL;
         round++) {
        ssize_t n = read(s->fd, buf, SIO_LOOP_SLOT);
        s->syscalls_in++;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                transport_gone(s, SECUREIO_ERR_TRANSPORT);
            return;
        }
        if (n == 0) {
            /* the peer's end of the stream: after its CLOSE, or it went away */
            transport_gone(s, SECUREIO_ERR_TRANSPORT);
            return;
        }
        int rc = secureio_engine_recv(s->e, buf, (size_t)n, now);
        if (rc == SECUREIO_ERR_FORMAT || rc == SECUREIO_ERR_CLOSED) {
            transport_gone(s, rc);
            return;
        }
        if ((size_t)n < SIO_LOOP_SLOT)
            return;
    }
}

static void session_io(sio_item *it, int slot, uint32_t events, uint64_t now)
{
    secureio_session *s = (secureio_session *)it;
    if (s->e == NULL || s->dead)
        return;
    if (slot == 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        if (s->stream)
            read_stream(s, now);
        else
            read_datagrams(s, now);
    }
    if (events & EPOLLOUT)
        set_out_blocked(s, 0);
    sio_session_flush(s, now);
}

static void session_work(sio_item *it, uint64_t now)
{
    secureio_session *s = (secureio_session *)it;
    if (s->e == NULL || s->kind == SIO_T_CHILD)
        return;
    if (secureio_engine_deadline(s->e) <= now && s->e->state != SECUREIO_STATE_CLOSED) {
        int rc = secureio_engine_tick(s->e, now); /* a failure closes the engine */
        (void)rc;
    }
    sio_session_flush(s, now);
}

static uint64_t session_deadline(const sio_item *it)
{
    const secureio_session *s = (const secureio_session *)it;
    if (s->e == NULL || s->kind == SIO_T_CHILD || s->dead)
        return UINT64_MAX;
    if (s->out_blocked)
        return UINT64_MAX; /* the descriptor says when */
    return secureio_engine_deadline(s->e);
}

static void session_destroy(sio_item *it)
{
    sio_session_destroy((secureio_session *)it);
}

void sio_session_destroy(secureio_session *s)
{
    secureio_engine_free(s->zombie);
    free(s->out);
    secureio_keylist_free(s->own_peers);
    if (s->rq != NULL) {
        util_wipe(s->rq, s->rq_cap);
        free(s->rq);
    }
    while (s->free_handles != NULL) {
        secureio_write_handle *h = s->free_handles;
        s->free_handles = h->next_free;
        free(h);
    }
    util_wipe(s, sizeof *s);
    free(s);
}

const sio_item_ops sio_session_ops = {session_io, session_work, session_deadline, session_destroy};

int sio_session_watch(secureio_session *s)
{
    if (s->kind == SIO_T_IO || s->kind == SIO_T_CHILD)
        return SECUREIO_OK;
    if (s->kind == SIO_T_DGRAM && !s->no_udp_offload && sio_udp_can_gso(s->fd)) {
        s->gso = 1;
        int was_on = 0;
        s->gro = sio_udp_enable_gro(s->fd, &was_on);
        s->gro_restore = s->gro && !was_on && !s->owns_fd; /* (the caller's socket) */
    }
    int rc = sio_loop_watch(s->loop, &s->item, 0, s->fd, EPOLLIN, EPOLL_CTL_ADD);
    if (rc == SECUREIO_OK && s->fd_out != s->fd)
        rc = sio_loop_watch(s->loop, &s->item, 1, s->fd_out, 0, EPOLL_CTL_ADD);
    return rc;
}

void sio_session_unwatch(secureio_session *s)
{
    if (s->kind == SIO_T_IO || s->kind == SIO_T_CHILD || s->fd < 0)
        return;
    (void)sio_loop_watch(s->loop, &s->item, 0, s->fd, 0, EPOLL_CTL_DEL);
    if (s->fd_out != s->fd)
        (void)sio_loop_watch(s->loop, &s->item, 1, s->fd_out, 0, EPOLL_CTL_DEL);
    if (s->gro_restore)
        sio_udp_disable_gro(s->fd); /* (left as it was found) */
    if (s->owns_fd)
        close(s->fd);
    s->fd = s->fd_out = -1;
}

void sio_session_resume(secureio_session *s)
{
    if (!s->in_paused)
        return;
    s->in_paused = 0;
    if (s->kind != SIO_T_IO && s->kind != SIO_T_CHILD && !s->dead)
        (void)sio_loop_watch(s->loop, &s->item, 0, s->fd,
                             EPOLLIN | (s->out_blocked && s->fd_out == s->fd ? EPOLLOUT : 0),
                             EPOLL_CTL_MOD);
    sio_session_dirty(s);
}

void sio_session_pause(secureio_session *s)
{
    if (s->in_paused || !s->stream || s->kind == SIO_T_CHILD)
        return;
    s->in_paused = 1;
    if (s->kind == SIO_T_IO)
        return; /* secureio_session_input answers SECUREIO_ERR_AGAIN meanwhile */
    /* Edge-triggered while paused: epoll reports a hang-up or an error
     * whatever the mask, and level-triggered that would be on every turn
     * of the loop (a spin) while nothing is read. Resuming watches the
     * level again, and the hang-up is read then. */
    (void)sio_loop_watch(s->loop, &s->item, 0, s->fd,
                         EPOLLET | (s->out_blocked && s->fd_out == s->fd ? EPOLLOUT : 0),
                         EPOLL_CTL_MOD);
}
