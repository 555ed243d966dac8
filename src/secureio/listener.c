/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listeners (include/secureio/session.h). A datagram listener is an
 * acceptor (acceptor.h) on one socket: its sessions' engines are the
 * acceptor's, and the listener's socket receives and sends for all of them
 * in batches (recvmmsg and sendmmsg, each datagram with its address). A
 * stream listener accepts connections and makes a session of each on the
 * same loop; a session waits, unseen, until its handshake is done, then
 * goes to secureio_accept() or to on_accept. Both run on the loop of the
 * options (or a thread of the listener's own).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/detail.h"
#include "common/util.h"
#include "engine_internal.h"
#include "session_internal.h"
#include "udp.h"

struct secureio_listener {
    sio_item item;
    sio_loop *loop;
    int fd, type;
    secureio_acceptor *acc; /* datagram listeners */
    secureio_session_options opts;
    secureio_accept_fn on_accept;
    void *user;
    secureio_session *ready_head, *ready_tail; /* established, not yet accepted */
    size_t nready;
    /* opts.peer_key given: the one peer allowed (a listener only answers) */
    secureio_keylist *pinned;
    uint8_t pinned_pk[SECUREIO_PUBLIC_KEY_LEN];
    size_t pending;                          /* stream sessions still in their handshake */
    secureio_session *pend_head, *pend_tail; /* those, oldest first */
    int accept_paused;                       /* out of descriptors or memory: not accepting */
    uint64_t retry_at;                       /* when to try accepting again */
    int closing;                             /* secureio_listener_free has begun */
    unsigned waiters;                        /* threads in secureio_accept */
    /* datagrams the socket did not take: [LE16 len][u8 addr_len][addr][packet]... */
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    int out_blocked;
    int gso, gro; /* UDP: segmented sends, coalesced receives (udp.h) */
};

/* Stream connections whose handshake is not done yet, at most: a new one
 * beyond ends the oldest, so that connections that never speak take no
 * more than this, and cannot keep a real peer out for longer than it
 * takes that peer's handshake to be overtaken by this many new
 * connections (a real handshake takes a round trip or two). */
#define SIO_LISTENER_MAX_PENDING 256u
/* Sessions ready (authenticated) that the application has not taken with
 * secureio_accept, at most: one more is ended at once. */
#define SIO_LISTENER_MAX_READY 256u
/* A pending stream connection's handshake time, unless the options give
 * one: the engine's default (60 s) is for a peer that may be slow to come;
 * a connection that is already there speaks at once or not at all. */
#define SIO_LISTENER_HANDSHAKE_MS 10000u
/* Out of descriptors or memory (accept4: EMFILE, ENFILE, ENOBUFS, ENOMEM):
 * the connection stays in the backlog, and accepting waits this long
 * rather than spin on a socket that stays readable. */
#define SIO_LISTENER_RETRY_US 100000u

/* ------------------------------------------------------------- accepting */

static void drop_unseen(struct secureio_listener *l, secureio_session *s);

static void not_pending(struct secureio_listener *l, secureio_session *s)
{
    if (s->pending) {
        s->pending = 0;
        l->pending--;
        if (s->pend_prev != NULL)
            s->pend_prev->pend_next = s->pend_next;
        else
            l->pend_head = s->pend_next;
        if (s->pend_next != NULL)
            s->pend_next->pend_prev = s->pend_prev;
        else
            l->pend_tail = s->pend_prev;
        s->pend_prev = s->pend_next = NULL;
    }
}

static void add_pending(struct secureio_listener *l, secureio_session *s)
{
    s->pending = 1;
    s->pend_next = NULL;
    s->pend_prev = l->pend_tail;
    if (l->pend_tail != NULL)
        l->pend_tail->pend_next = s;
    else
        l->pend_head = s;
    l->pend_tail = s;
    l->pending++;
}

static void ready_push(struct secureio_listener *l, secureio_session *s)
{
    s->ready = 1;
    l->nready++;
    s->next_accept = NULL;
    if (l->ready_tail != NULL)
        l->ready_tail->next_accept = s;
    else
        l->ready_head = s;
    l->ready_tail = s;
}

static void ready_remove(struct secureio_listener *l, secureio_session *s)
{
    secureio_session **p = &l->ready_head, *prev = NULL;
    while (*p != NULL && *p != s) {
        prev = *p;
        p = &(*p)->next_accept;
    }
    if (*p == NULL)
        return;
    *p = s->next_accept;
    if (l->ready_tail == s)
        l->ready_tail = prev;
    s->ready = 0;
    l->nready--;
}

/* A session is ready (its peer authenticated: pk): the application's
 * (on_accept), or queued. */
static void deliver(struct secureio_listener *l, secureio_session *s,
                    const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    not_pending(l, s);
    memcpy(s->accepted_pk, pk, SECUREIO_PUBLIC_KEY_LEN);
    if (l->on_accept != NULL) {
        s->accepted = 1;
        l->on_accept(l->user, s, pk);
    } else if (l->nready >= SIO_LISTENER_MAX_READY) {
        /* the application does not accept as fast as peers come: this
         * one is refused (its peer sees the session end), as a full
         * backlog refuses */
        if (s->kind == SIO_T_CHILD) {
            /* (being adopted by the acceptor: its engine ends, detached) */
            secureio_engine_set_callbacks(s->e, NULL, NULL, NULL);
            secureio_engine_close_now(s->e, sio_now_us());
            s->e = NULL;
            drop_unseen(l, s);
            sio_loop_dirty(l->loop, &l->item);
            return;
        }
        if (s->e != NULL && s->e->state != SECUREIO_STATE_CLOSED)
            secureio_engine_close_now(s->e, sio_now_us());
        else
            s->free_pending = 1;
        sio_loop_dirty(l->loop, &l->item);
    } else {
        ready_push(l, s);
    }
    sio_loop_broadcast(l->loop);
}

void sio_listener_event(secureio_session *s, const secureio_event *ev)
{
    struct secureio_listener *l = s->listener;
    if (ev->type == SECUREIO_EVENT_ESTABLISHED && s->kind != SIO_T_CHILD && ev->has_peer_key)
        deliver(l, s, ev->peer_key);
    else if (ev->type == SECUREIO_EVENT_CLOSED && s->kind != SIO_T_CHILD && !s->ready) {
        /* ended in its handshake (or refused): never seen by the
         * application, the listener frees it; one that was ready stays
         * queued, ended, with what it received, for secureio_accept */
        s->free_pending = 1;
        sio_loop_dirty(l->loop, &l->item);
    }
}

void sio_listener_forget(secureio_session *s)
{
    if (s->listener != NULL)
        ready_remove(s->listener, s);
    s->listener = NULL;
}

int sio_listener_fd(const struct secureio_listener *l)
{
    return l->fd;
}

void sio_listener_dirty_by(struct secureio_listener *l, uint64_t deadline)
{
    sio_loop_dirty_by(l->loop, &l->item, deadline);
}

void sio_listener_dirty(struct secureio_listener *l)
{
    sio_loop_dirty(l->loop, &l->item);
}

/* ------------------------------------------------------ datagram sessions */

static void on_session(void *user, secureio_engine *e, const uint8_t pk[32], const void *addr,
                       size_t addr_len)
{
    struct secureio_listener *l = user;
    (void)addr;
    (void)addr_len;
    secureio_session *s = sio_session_alloc(l->loop, &l->opts);
    if (s == NULL) {
        secureio_engine_close_now(e, sio_now_us()); /* no memory: it ends */
        return;
    }
    s->kind = SIO_T_CHILD;
    s->e = e;
    s->listener = l;
    s->state = SECUREIO_STATE_HANDSHAKE;
    secureio_engine_set_callbacks(e, sio_session_on_message, sio_session_on_event, s);
    deliver(l, s, pk); /* (its ESTABLISHED event comes right after this) */
}

/* A session that was never the application's goes (with its loop reference). */
static void drop_unseen(struct secureio_listener *l, secureio_session *s)
{
    ready_remove(l, s);
    not_pending(l, s);
    s->listener = NULL;
    if (s->kind == SIO_T_CHILD) {
        sio_session_destroy(s);
    } else {
        secureio_engine_free(s->e);
        s->e = NULL;
        sio_session_unwatch(s);
        sio_loop_remove(l->loop, &s->item);
    }
    sio_loop_unref(l->loop); /* (the listener's reference keeps the loop) */
}

static void on_session_end(void *user, secureio_engine *e)
{
    struct secureio_listener *l = user;
    secureio_session *s = e->cfg.user;
    if (s == NULL)
        return;                                /* freed by the application already */
    secureio_engine_stats(e, &s->last_engine); /* (the acceptor frees the engine) */
    s->have_last_engine = 1;
    s->e = NULL;
    sio_session_closed(s, s->closed ? s->closed_err : SECUREIO_ERR_CLOSED);
    if (!s->accepted && !s->ready)
        drop_unseen(l, s);
    else if (s->accepted)
        s->listener = NULL; /* the application's: it frees it */
    /* (a ready one stays queued, ended, with what it received) */
}

static int hold(struct secureio_listener *l, const uint8_t *p, size_t len, const void *addr,
                size_t addr_len)
{
    size_t need = 3 + addr_len + len;
    uint8_t *o = sio_hold_reserve(&l->out, &l->out_off, &l->out_len, &l->out_cap, need);
    if (o == NULL)
        return -1;
    o[0] = (uint8_t)len;
    o[1] = (uint8_t)(len >> 8);
    o[2] = (uint8_t)addr_len;
    memcpy(o + 3, addr, addr_len);
    memcpy(o + 3 + addr_len, p, len);
    l->out_len += need;
    return 0;
}

static void set_blocked(struct secureio_listener *l, int blocked)
{
    if (l->out_blocked == blocked)
        return;
    l->out_blocked = blocked;
    (void)sio_loop_watch(l->loop, &l->item, 0, l->fd, EPOLLIN | (blocked ? EPOLLOUT : 0),
                         EPOLL_CTL_MOD);
}

static int send_held(struct secureio_listener *l)
{
    while (l->out_off < l->out_len) {
        const uint8_t *o = l->out + l->out_off;
        size_t len = (size_t)o[0] | (size_t)o[1] << 8, al = o[2];
        ssize_t n = sendto(l->fd, o + 3 + al, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                           (const struct sockaddr *)(o + 3), (socklen_t)al);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        l->out_off += 3 + al + len; /* sent, or lost as on the wire */
    }
    l->out_off = l->out_len = 0;
    return 1;
}

static void flush_datagrams(struct secureio_listener *l, uint64_t now)
{
    if (l->out_len > l->out_off && !send_held(l))
        return;
    set_blocked(l, 0);
    uint8_t *buf = l->loop->txbuf;
    sio_udp_batch b;
    struct sockaddr_storage addrs[SIO_LOOP_BATCH];
    for (int round = 0; round < 8; round++) {
        b.n = 0;
        while (b.n < SIO_LOOP_BATCH) {
            size_t len = SIO_LOOP_SLOT, al = sizeof addrs[b.n];
            uint8_t *p = buf + (size_t)b.n * SIO_LOOP_SLOT;
            if (secureio_acceptor_poll(l->acc, p, &len, &addrs[b.n], &al, now) != SECUREIO_OK ||
                len == 0)
                break;
            b.iov[b.n].iov_base = p;
            b.iov[b.n].iov_len = len;
            b.name[b.n] = &addrs[b.n];
            b.namelen[b.n] = (socklen_t)al;
            b.n++;
        }
        unsigned n = b.n, sent = 0, next = 0;
        if (n == 0)
            return;
        /* runs of full packets to one peer go as one GSO send */
        sio_udp_pack(&b, l->gso);
        while (next < b.nmsgs) {
            int r = sio_udp_send(l->fd, &b, &next);
            if (r > 0) {
                sent += (unsigned)r;
            } else if (l->gso && (errno == EIO || errno == EINVAL)) {
                l->gso = 0; /* plain datagrams from now on */
                unsigned from = b.first[next];
                sio_udp_pack(&b, 0);
                next = from;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
                sent += b.first[next + 1] - b.first[next]; /* lost (an unreachable peer) */
                next++;
            } else {
                break;
            }
        }
        if (sent < n) {
            for (unsigned i = sent; i < n; i++)
                (void)hold(l, b.iov[i].iov_base, b.iov[i].iov_len, b.name[i], b.namelen[i]);
            set_blocked(l, 1);
            return;
        }
        if (n < SIO_LOOP_BATCH)
            return;
    }
    sio_loop_dirty(l->loop, &l->item);
}

static void read_datagrams(struct secureio_listener *l, uint64_t now)
{
    uint8_t *buf = l->loop->rxbuf;
    struct mmsghdr msgs[SIO_LOOP_BATCH];
    struct iovec iov[SIO_LOOP_BATCH];
    struct sockaddr_storage addrs[SIO_LOOP_BATCH];
    sio_udp_rxctl ctl[SIO_LOOP_BATCH];
    for (int round = 0; round < 8; round++) {
        sio_udp_rx_prepare(msgs, iov, ctl, addrs, buf, l->gro);
        int n = recvmmsg(l->fd, msgs, SIO_LOOP_BATCH, MSG_DONTWAIT, NULL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
                continue; /* larger than any packet: not ours */
            /* one datagram, or (GRO) several of one sender and one size */
            const uint8_t *p = iov[i].iov_base;
            size_t left = msgs[i].msg_len, seg = sio_udp_rx_segment(&msgs[i], l->gro);
            while (left > 0) {
                size_t len = left < seg ? left : seg;
                int rc = secureio_acceptor_recv(l->acc, p, len, &addrs[i],
                                                msgs[i].msg_hdr.msg_namelen, now);
                (void)rc; /* (bad packets are dropped and counted by the acceptor) */
                p += len;
                left -= len;
            }
        }
        if (n < (int)SIO_LOOP_BATCH)
            return;
    }
}

/* ------------------------------------------------------ stream sessions */

/* The oldest pending connection ends, for a new one (its CLOSED event
 * makes it free_pending: freed at the listener's next turn). */
static void evict_oldest(struct secureio_listener *l, uint64_t now)
{
    secureio_session *s = l->pend_head;
    not_pending(l, s);
    if (s->e != NULL && s->e->state != SECUREIO_STATE_CLOSED)
        secureio_engine_close_now(s->e, now);
    else
        s->free_pending = 1;
    sio_loop_dirty(l->loop, &l->item);
}

static void accept_connections(struct secureio_listener *l, uint64_t now)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* the socket stays readable: stop watching it for a while */
                if (sio_loop_watch(l->loop, &l->item, 0, l->fd, 0, EPOLL_CTL_MOD) == SECUREIO_OK) {
                    l->accept_paused = 1;
                    l->retry_at = now + SIO_LISTENER_RETRY_US;
                }
            }
            return; /* or EAGAIN, or a connection gone before we took it */
        }
        if (l->pending >= SIO_LISTENER_MAX_PENDING)
            evict_oldest(l, now);
        secureio_session_options o = l->opts;
        o.loop = (secureio_loop *)l->loop;
        o.no_thread = 0;
        o.on_event = NULL; /* (set below, once it is known as the listener's) */
        if (o.handshake_timeout_ms == 0 &&
            (o.engine == NULL || o.engine->handshake_timeout_ms == 0))
            o.handshake_timeout_ms = SIO_LISTENER_HANDSHAKE_MS;
        /* a pinned peer: this session's own list of it (the engine borrows
         * it, and the session may outlive the listener) */
        secureio_keylist *own = NULL;
        if (l->pinned != NULL) {
            if (secureio_keylist_new(&own) != SECUREIO_OK ||
                secureio_keylist_add(own, l->pinned_pk) != SECUREIO_OK) {
                secureio_keylist_free(own);
                close(fd);
                continue;
            }
            o.allowed_peers = own;
        }
        secureio_session *s;
        if (secureio_session_new_fd(&s, fd, NULL, 0, &o) != SECUREIO_OK) {
            secureio_keylist_free(own);
            close(fd);
            continue;
        }
        s->own_peers = own;
        s->owns_fd = 1;
        s->listener = l;
        s->on_event = l->opts.on_event;
        add_pending(l, s);
    }
}

/* After a pause for descriptors or memory: accept again. */
static void accept_resume(struct secureio_listener *l, uint64_t now)
{
    if (l->accept_paused && now >= l->retry_at &&
        sio_loop_watch(l->loop, &l->item, 0, l->fd, EPOLLIN, EPOLL_CTL_MOD) == SECUREIO_OK)
        l->accept_paused = 0;
}

/* The acceptor's own events (packets for no session, refused peers) go to
 * the options' on_event. */
static void listener_on_event(void *user, const secureio_event *ev)
{
    struct secureio_listener *l = user;
    if (l->opts.on_event != NULL)
        l->opts.on_event(l->opts.user, ev);
}

/* Sessions that closed before the application saw them. */
static void free_unseen(struct secureio_listener *l)
{
    for (sio_item *it = l->loop->items; it != NULL;) {
        sio_item *next = it->next;
        if (it->ops == &sio_session_ops) {
            secureio_session *s = (secureio_session *)it;
            if (s->listener == l && s->free_pending && !s->accepted)
                drop_unseen(l, s);
        }
        it = next;
    }
}

/* ------------------------------------------------------------ the item */

static void listener_io(sio_item *it, int slot, uint32_t events, uint64_t now)
{
    struct secureio_listener *l = (struct secureio_listener *)it;
    (void)slot;
    if (l->acc != NULL) {
        if (events & (EPOLLIN | EPOLLERR))
            read_datagrams(l, now);
        flush_datagrams(l, now);
    } else if (events & EPOLLIN) {
        accept_connections(l, now);
    }
}

static void listener_work(sio_item *it, uint64_t now)
{
    struct secureio_listener *l = (struct secureio_listener *)it;
    if (l->acc != NULL) {
        if (secureio_acceptor_deadline(l->acc) <= now) {
            int rc = secureio_acceptor_tick(l->acc, now); /* (only rng failures) */
            (void)rc;
        }
        flush_datagrams(l, now);
    } else {
        free_unseen(l);
        accept_resume(l, now);
    }
}

static uint64_t listener_deadline(const sio_item *it)
{
    const struct secureio_listener *l = (const struct secureio_listener *)it;
    if (l->acc == NULL)
        return l->accept_paused ? l->retry_at : UINT64_MAX;
    if (l->out_blocked)
        return UINT64_MAX;
    return secureio_acceptor_deadline(l->acc);
}

static void listener_destroy(sio_item *it)
{
    struct secureio_listener *l = (struct secureio_listener *)it;
    free(l->out);
    secureio_keylist_free(l->pinned); /* (the acceptor that borrowed it is gone) */
    free(l);
}

static const sio_item_ops listener_ops = {listener_io, listener_work, listener_deadline,
                                          listener_destroy};

/* --------------------------------------------------------------- public */

int secureio_listen(secureio_listener **out, const char *url, const secureio_session_options *opts,
                    secureio_accept_fn on_accept, void *user)
{
    sio_url u;
    util_detail_clear();
    if (out == NULL || url == NULL || opts == NULL)
        return SECUREIO_ERR_ARG;
    *out = NULL;
    if (opts->version != SECUREIO_SESSION_OPTIONS_VERSION || opts->no_thread) {
        util_detail("secureio_listen: opts->version is wrong, or no_thread is set (a listener "
                    "runs on a loop thread)");
        return SECUREIO_ERR_ARG;
    }
    if (opts->identity == NULL ||
        (opts->peer_key == NULL && opts->allowed_peers == NULL && opts->accept_any_peer != 1)) {
        util_detail("secureio_listen: opts->identity is NULL, or no peer is allowed (set "
                    "opts->peer_key, opts->allowed_peers or opts->accept_any_peer)");
        return SECUREIO_ERR_ARG;
    }
    int rc = sio_url_parse(&u, url, SIO_URL_PASSIVE);
    if (rc != SECUREIO_OK)
        return rc;
    struct secureio_listener *l = calloc(1, sizeof *l);
    if (l == NULL)
        return SECUREIO_ERR_NOMEM;
    l->opts = *opts;
    if (opts->peer_key != NULL) {
        /* a listener answers: its one allowed peer goes in a list */
        if (opts->allowed_peers != NULL || opts->accept_any_peer) {
            util_detail("secureio_listen: give opts->peer_key, opts->allowed_peers or "
                        "opts->accept_any_peer, not several");
            free(l);
            return SECUREIO_ERR_ARG;
        }
        memcpy(l->pinned_pk, opts->peer_key, SECUREIO_PUBLIC_KEY_LEN);
        if (secureio_keylist_new(&l->pinned) != SECUREIO_OK ||
            secureio_keylist_add(l->pinned, l->pinned_pk) != SECUREIO_OK) {
            secureio_keylist_free(l->pinned);
            free(l);
            return SECUREIO_ERR_NOMEM;
        }
        l->opts.peer_key = NULL;
        l->opts.allowed_peers = l->pinned;
    }
    l->on_accept = on_accept;
    l->user = user;
    l->type = u.type;
    l->fd = sio_url_socket(&u, 1);
    if (l->fd < 0) {
        util_detail_errno(url);
        secureio_keylist_free(l->pinned);
        free(l);
        return SECUREIO_ERR_IO;
    }
    if (opts->loop != NULL) {
        l->loop = (sio_loop *)opts->loop;
        sio_loop_ref(l->loop);
    } else if ((rc = sio_loop_new(&l->loop, 1)) != SECUREIO_OK) {
        close(l->fd);
        secureio_keylist_free(l->pinned);
        free(l);
        return rc;
    }
    if (u.type == SOCK_DGRAM) {
        secureio_config sc;
        sio_session_config(&sc, &l->opts, 0, NULL);
        secureio_acceptor_config ac = SECUREIO_ACCEPTOR_CONFIG_INIT;
        ac.identity = l->opts.identity;
        ac.allowed_peers = l->opts.allowed_peers;
        ac.accept_any_peer = l->opts.accept_any_peer;
        ac.psk = opts->psk;
        ac.psk_len = opts->psk_len;
        ac.session = &sc;
        ac.on_session = on_session;
        ac.on_session_end = on_session_end;
        ac.on_event = listener_on_event;
        ac.user = l;
        rc = secureio_acceptor_new(&l->acc, &ac, sio_now_us());
        if (rc == SECUREIO_OK && !opts->no_udp_offload && sio_udp_can_gso(l->fd)) {
            l->gso = 1;
            l->gro = sio_udp_enable_gro(l->fd, NULL);
        }
    }
    if (rc == SECUREIO_OK) {
        sio_loop_lock(l->loop);
        sio_loop_add(l->loop, &l->item, &listener_ops);
        rc = sio_loop_watch(l->loop, &l->item, 0, l->fd, EPOLLIN, EPOLL_CTL_ADD);
        if (rc != SECUREIO_OK)
            sio_loop_remove(l->loop, &l->item);
        sio_loop_unlock(l->loop);
        if (rc != SECUREIO_OK) {
            secureio_acceptor_free(l->acc);
            close(l->fd);
            sio_loop_unref(l->loop);
            return rc;
        }
    } else {
        close(l->fd);
        sio_loop_unref(l->loop);
        secureio_keylist_free(l->pinned);
        free(l);
        return rc;
    }
    *out = l;
    return SECUREIO_OK;
}

int secureio_accept(secureio_listener *l, secureio_session **out,
                    uint8_t peer_key[SECUREIO_PUBLIC_KEY_LEN], int timeout_ms)
{
    if (l == NULL || out == NULL)
        return SECUREIO_ERR_ARG;
    *out = NULL;
    sio_loop *loop = l->loop;
    sio_loop_lock(loop);
    uint64_t until = timeout_ms < 0 ? UINT64_MAX : sio_now_us() + (uint64_t)timeout_ms * 1000u;
    int rc = SECUREIO_OK;
    l->waiters++;
    while (l->ready_head == NULL) {
        if (l->closing) {
            rc = SECUREIO_ERR_CLOSED; /* secureio_listener_free, on another thread */
            break;
        }
        if (timeout_ms == 0) {
            rc = SECUREIO_ERR_AGAIN;
            break;
        }
        if (sio_loop_on_thread(l->loop)) {
            rc = SECUREIO_ERR_STATE;
            break;
        }
        if (sio_loop_wait(l->loop, until) != 0 && l->ready_head == NULL) {
            rc = SECUREIO_ERR_TIMEOUT;
            break;
        }
    }
    if (l->ready_head != NULL && !l->closing) {
        secureio_session *s = l->ready_head;
        ready_remove(l, s);
        s->accepted = 1;
        if (s->kind == SIO_T_CHILD && s->e == NULL)
            s->listener = NULL; /* (ended while it waited: the listener is done with it) */
        if (peer_key != NULL)
            memcpy(peer_key, s->accepted_pk, SECUREIO_PUBLIC_KEY_LEN);
        *out = s;
        rc = SECUREIO_OK;
    }
    if (--l->waiters == 0 && l->closing) {
        /* listener_free waits for it: on the condition variable, or (a loop
         * without a thread) running a turn of the loop */
        sio_loop_broadcast(loop);
        sio_loop_dirty(loop, &l->item);
    }
    sio_loop_unlock(loop);
    return rc;
}

int secureio_listener_addr(const secureio_listener *l, char *out, size_t *out_len)
{
    if (l == NULL || out_len == NULL || (out == NULL && *out_len > 0))
        return SECUREIO_ERR_ARG;
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    if (getsockname(l->fd, (struct sockaddr *)&a, &al) != 0)
        return SECUREIO_ERR_IO;
    return sio_url_format(out, out_len, l->type, (const struct sockaddr *)&a, al);
}

void secureio_listener_free(secureio_listener *l)
{
    if (l == NULL)
        return;
    sio_loop *loop = l->loop;
    sio_loop_lock(loop);
    /* threads waiting in secureio_accept leave first (SECUREIO_ERR_CLOSED) */
    l->closing = 1;
    sio_loop_broadcast(loop);
    sio_loop_dirty(loop, &l->item); /* (a waiter running a turn of a loop without a thread) */
    while (l->waiters > 0)
        (void)sio_loop_wait(loop, UINT64_MAX);
    const sio_loop *prev = sio_loop_enter(loop); /* (sessions' events run here) */
    (void)sio_loop_watch(loop, &l->item, 0, l->fd, 0, EPOLL_CTL_DEL);
    /* datagram sessions end with the acceptor: each peer is sent its CLOSE
     * (as far as the socket takes them now), then on_session_end: the
     * sessions the application has stay, closed, until it frees them; the
     * others go */
    if (l->acc != NULL) {
        uint64_t now = sio_now_us();
        secureio_acceptor_close(l->acc, now);
        flush_datagrams(l, now);
    }
    secureio_acceptor_free(l->acc);
    l->acc = NULL;
    /* stream sessions the application has not seen go; the others are its own */
    while (l->ready_head != NULL)
        drop_unseen(l, l->ready_head);
    for (sio_item *it = loop->items; it != NULL;) {
        sio_item *next = it->next;
        if (it->ops == &sio_session_ops && ((secureio_session *)it)->listener == l) {
            secureio_session *s = (secureio_session *)it;
            if (!s->accepted)
                drop_unseen(l, s);
            else
                s->listener = NULL;
        }
        it = next;
    }
    close(l->fd);
    sio_loop_remove(loop, &l->item);
    sio_loop_leave(prev);
    sio_loop_unlock(loop);
    sio_loop_unref(loop);
}
