/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime's sessions (include/secureio/session.h): making them, the
 * blocking and asynchronous writes, the read queue of the default channel,
 * handlers, states, close and free. Every call takes the loop's mutex; the
 * engine is only ever touched with it held.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/detail.h"
#include "common/util.h"
#include "engine_internal.h"
#include "session_internal.h"

#define SIO_DEFAULT_READ_QUEUE ((size_t)4 << 20)

/* ------------------------------------------------------------ callbacks */

/* A default-channel message into the read queue: [LE32 length][bytes]. */
static int rq_push(secureio_session *s, const uint8_t *data, size_t len)
{
    size_t need = 4 + len;
    if (s->rq_used + need > s->rq_cap) {
        size_t cap = s->rq_cap ? s->rq_cap : 4096;
        while (cap < s->rq_used + need)
            cap *= 2;
        uint8_t *n = malloc(cap);
        if (n == NULL)
            return -1;
        /* linearise: the ring's bytes from its head */
        for (size_t i = 0; i < s->rq_used; i++)
            n[i] = s->rq[(s->rq_head + i) % s->rq_cap];
        if (s->rq != NULL) {
            util_wipe(s->rq, s->rq_cap);
            free(s->rq);
        }
        s->rq = n;
        s->rq_cap = cap;
        s->rq_head = 0;
    }
    uint8_t hdr[4];
    util_store32_le(hdr, (uint32_t)len);
    for (size_t i = 0; i < 4; i++)
        s->rq[(s->rq_head + s->rq_used + i) % s->rq_cap] = hdr[i];
    size_t at = (s->rq_head + s->rq_used + 4) % s->rq_cap, first = s->rq_cap - at;
    if (first > len)
        first = len;
    if (first > 0)
        memcpy(s->rq + at, data, first);
    if (len > first)
        memcpy(s->rq, data + first, len - first);
    s->rq_used += need;
    s->rq_count++;
    return 0;
}

static void rq_peek(const secureio_session *s, size_t off, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = s->rq[(s->rq_head + off + i) % s->rq_cap];
}

static size_t rq_front_len(const secureio_session *s)
{
    uint8_t hdr[4];
    rq_peek(s, 0, hdr, 4);
    return util_load32_le(hdr);
}

static void rq_pop(secureio_session *s, uint8_t *out, size_t len)
{
    rq_peek(s, 4, out, len);
    for (size_t i = 0; i < 4 + len; i++) /* what was read is wiped */
        s->rq[(s->rq_head + i) % s->rq_cap] = 0;
    s->rq_head = (s->rq_head + 4 + len) % s->rq_cap;
    s->rq_used -= 4 + len;
    s->rq_count--;
}

void sio_session_on_message(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    secureio_session *s = user;
    if (s == NULL)
        return;
    if (channel != SECUREIO_CHANNEL_DEFAULT) {
        s->unhandled++;
        return;
    }
    if (!s->stream && s->rq_used + 4 + len > s->rq_limit) {
        s->read_dropped++; /* a datagram transport loses it, as the network would */
        return;
    }
    if (rq_push(s, data, len) != 0) {
        s->read_dropped++;
        return;
    }
    if (s->stream && s->rq_used > s->rq_limit)
        sio_session_pause(s); /* the peer waits: TCP's flow control does the rest */
}

void sio_session_dirty(secureio_session *s)
{
    if (s->kind == SIO_T_CHILD) {
        if (s->listener != NULL)
            sio_listener_dirty(s->listener); /* the listener's socket sends for it */
        return;
    }
    sio_loop_dirty(s->loop, &s->item);
}

void sio_session_closed(secureio_session *s, int err)
{
    if (!s->closed) {
        s->closed = 1;
        s->closed_err = err;
        s->state = SECUREIO_STATE_CLOSED;
    }
    sio_loop_broadcast(s->loop);
}

void sio_session_on_event(void *user, const secureio_event *ev)
{
    secureio_session *s = user;
    if (s == NULL)
        return;
    if (ev->type == SECUREIO_EVENT_STATE)
        s->state = ev->state;
    if (ev->type == SECUREIO_EVENT_CLOSED)
        sio_session_closed(s, ev->err);
    int unseen = s->listener != NULL && !s->accepted;
    if (unseen) {
        sio_listener_event(s, ev);                    /* a connection waiting to be accepted */
        unseen = s->listener != NULL && !s->accepted; /* (on_accept took it) */
    }
    sio_loop_broadcast(s->loop);
    /* A listener's session is the application's from on_accept or
     * secureio_accept on: before, only its refused packets are told (who
     * was refused), never its states or its end, which anyone who can
     * connect could cause. */
    if (s->on_event != NULL && (!unseen || ev->type == SECUREIO_EVENT_BAD_PACKET))
        s->on_event(s->user, ev);
}

/* ------------------------------------------------------------- making */

int sio_session_config(secureio_config *cfg, const secureio_session_options *o, int stream,
                       void *user)
{
    secureio_config base = SECUREIO_CONFIG_INIT;
    *cfg = o->engine != NULL ? *o->engine : base;
    cfg->identity = o->identity;
    cfg->peer_key = o->peer_key;
    cfg->allowed_peers = o->allowed_peers;
    cfg->accept_any_peer = o->accept_any_peer;
    cfg->psk = o->psk;
    cfg->psk_len = o->psk_len;
    cfg->stream = stream;
#define SIO_TAKE(f)                                                                                \
    if (o->f != 0)                                                                                 \
        cfg->f = o->f;
    SIO_TAKE(send_delay_us)
    SIO_TAKE(rekey_interval_ms)
    SIO_TAKE(handshake_timeout_ms)
    SIO_TAKE(idle_timeout_ms)
    SIO_TAKE(keepalive_ms)
    SIO_TAKE(max_packet_len)
    SIO_TAKE(max_message_len)
#undef SIO_TAKE
    cfg->on_message = sio_session_on_message;
    cfg->on_event = sio_session_on_event;
    cfg->user = user;
    return SECUREIO_OK;
}

static const char *options_problem(const secureio_session_options *o)
{
    if (o == NULL)
        return "opts is NULL";
    if (o->version != SECUREIO_SESSION_OPTIONS_VERSION)
        return "opts->version is not SECUREIO_SESSION_OPTIONS_VERSION (start from "
               "SECUREIO_SESSION_OPTIONS_INIT)";
    if (o->loop != NULL && o->no_thread)
        return "opts->loop and opts->no_thread are both set";
    return NULL;
}

secureio_session *sio_session_alloc(sio_loop *l, const secureio_session_options *o)
{
    secureio_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->loop = l;
    sio_loop_ref(l);
    s->fd = s->fd_out = -1;
    s->state = SECUREIO_STATE_NEW;
    s->rq_limit = o->read_queue_bytes ? o->read_queue_bytes : SIO_DEFAULT_READ_QUEUE;
    s->no_udp_offload = o->no_udp_offload;
    s->on_event = o->on_event;
    s->user = o->user;
    return s;
}

/* The loop a new session runs on: the options', or a new one. */
static int session_loop(sio_loop **out, const secureio_session_options *o)
{
    if (o->loop != NULL) {
        *out = (sio_loop *)o->loop;
        sio_loop_ref(*out);
        return SECUREIO_OK;
    }
    return sio_loop_new(out, !o->no_thread);
}

/* Makes the engine, starts it, puts the session on its loop. Frees s and
 * drops loop_ref on failure. */
static int session_start(secureio_session **out, secureio_session *s, sio_loop *l,
                         const secureio_session_options *o)
{
    secureio_config cfg;
    sio_session_config(&cfg, o, s->stream, s);
    int rc = secureio_engine_new(&s->e, &cfg);
    sio_loop_lock(l);
    if (rc == SECUREIO_OK)
        rc = secureio_engine_start(s->e, sio_now_us());
    if (rc == SECUREIO_OK) {
        s->state = secureio_engine_state(s->e);
        sio_loop_add(l, &s->item, &sio_session_ops);
        rc = sio_session_watch(s);
        if (rc != SECUREIO_OK)
            sio_loop_remove(l, &s->item);
    }
    if (rc != SECUREIO_OK) {
        int saved = errno;
        secureio_engine_free(s->e);
        s->e = NULL;
        if (s->item.ops == NULL)
            sio_session_destroy(s); /* else the loop destroys it (removed above) */
        sio_loop_unlock(l);
        sio_loop_unref(l); /* the session's */
        errno = saved;
        return rc;
    }
    sio_loop_unlock(l);
    *out = s;
    return SECUREIO_OK;
}

static int begin(secureio_session **out, const secureio_session_options *o, const char *fn,
                 sio_loop **l)
{
    util_detail_clear();
    if (out == NULL)
        return SECUREIO_ERR_ARG;
    *out = NULL;
    const char *problem = options_problem(o);
    if (problem != NULL) {
        util_detail("%s: %s", fn, problem);
        return SECUREIO_ERR_ARG;
    }
    return session_loop(l, o);
}

int secureio_session_new_fd(secureio_session **out, int fd, const void *peer_addr,
                            size_t peer_addr_len, const secureio_session_options *opts)
{
    sio_loop *l;
    if (fd < 0 || peer_addr_len > sizeof(struct sockaddr_storage) ||
        (peer_addr == NULL && peer_addr_len > 0))
        return SECUREIO_ERR_ARG;
    int rc = begin(out, opts, "secureio_session_new_fd", &l);
    if (rc != SECUREIO_OK)
        return rc;
    secureio_session *s = sio_session_alloc(l, opts);
    if (s == NULL) {
        sio_loop_unref(l);
        return SECUREIO_ERR_NOMEM;
    }
    int type = 0;
    socklen_t tl = sizeof type;
    s->out_socket = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0;
    s->stream = !s->out_socket || (type != SOCK_DGRAM && type != SOCK_SEQPACKET);
    s->kind = s->stream ? SIO_T_STREAM : SIO_T_DGRAM;
    s->fd = s->fd_out = fd;
    if (peer_addr_len > 0) {
        memcpy(&s->peer, peer_addr, peer_addr_len);
        s->peer_len = (socklen_t)peer_addr_len;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    sio_loop_unref(l);
    return session_start(out, s, s->loop, opts);
}

int secureio_session_new_fds(secureio_session **out, int read_fd, int write_fd,
                             const secureio_session_options *opts)
{
    sio_loop *l;
    if (read_fd < 0 || write_fd < 0)
        return SECUREIO_ERR_ARG;
    int rc = begin(out, opts, "secureio_session_new_fds", &l);
    if (rc != SECUREIO_OK)
        return rc;
    secureio_session *s = sio_session_alloc(l, opts);
    if (s == NULL) {
        sio_loop_unref(l);
        return SECUREIO_ERR_NOMEM;
    }
    s->stream = 1;
    s->kind = SIO_T_STREAM;
    s->fd = read_fd;
    s->fd_out = write_fd;
    int type;
    socklen_t tl = sizeof type;
    s->out_socket = getsockopt(write_fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0;
    int fds[2] = {read_fd, write_fd};
    for (int i = 0; i < 2; i++) {
        int flags = fcntl(fds[i], F_GETFL);
        if (flags >= 0)
            (void)fcntl(fds[i], F_SETFL, flags | O_NONBLOCK);
    }
    sio_loop_unref(l);
    return session_start(out, s, s->loop, opts);
}

int secureio_session_new_io(secureio_session **out, int stream, secureio_write_fn write_fn,
                            void *write_ctx, const secureio_session_options *opts)
{
    sio_loop *l;
    if (write_fn == NULL || (stream != 0 && stream != 1))
        return SECUREIO_ERR_ARG;
    int rc = begin(out, opts, "secureio_session_new_io", &l);
    if (rc != SECUREIO_OK)
        return rc;
    secureio_session *s = sio_session_alloc(l, opts);
    if (s == NULL) {
        sio_loop_unref(l);
        return SECUREIO_ERR_NOMEM;
    }
    s->stream = stream;
    s->kind = SIO_T_IO;
    s->write_fn = write_fn;
    s->write_ctx = write_ctx;
    sio_loop_unref(l);
    return session_start(out, s, s->loop, opts);
}

/* Waits for a non-blocking connect (up to timeout_ms): 0, or -1 and errno. */
static int connected(int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLOUT, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    int err = 0;
    socklen_t el = sizeof err;
    if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        return -1;
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

int secureio_session_connect(secureio_session **out, const char *url,
                             const secureio_session_options *opts)
{
    sio_url u;
    util_detail_clear();
    if (out == NULL || url == NULL)
        return SECUREIO_ERR_ARG;
    *out = NULL;
    if (opts != NULL && opts->version == SECUREIO_SESSION_OPTIONS_VERSION &&
        opts->peer_key == NULL) {
        util_detail("secureio_session_connect: opts->peer_key is NULL (a session that connects "
                    "starts the handshake: it needs the server's key)");
        return SECUREIO_ERR_ARG;
    }
    int rc = sio_url_parse(&u, url, 0);
    if (rc != SECUREIO_OK)
        return rc;
    int fd = sio_url_socket(&u, 0);
    if (fd < 0) {
        util_detail_errno(url);
        return SECUREIO_ERR_IO;
    }
    if (u.type == SOCK_STREAM) {
        uint64_t t =
            opts != NULL && opts->handshake_timeout_ms ? opts->handshake_timeout_ms : 60000;
        if (connected(fd, t > 600000 ? 600000 : (int)t) != 0) {
            int saved = errno;
            util_detail_errno(url);
            close(fd);
            errno = saved;
            return SECUREIO_ERR_IO;
        }
    }
    rc = secureio_session_new_fd(out, fd, NULL, 0, opts);
    if (rc != SECUREIO_OK) {
        close(fd);
        return rc;
    }
    sio_loop_lock((*out)->loop);
    (*out)->owns_fd = 1;
    sio_loop_unlock((*out)->loop);
    return SECUREIO_OK;
}

int secureio_session_input(secureio_session *s, const uint8_t *data, size_t len)
{
    if (s == NULL || (data == NULL && len > 0) || s->kind != SIO_T_IO)
        return SECUREIO_ERR_ARG;
    sio_loop_lock(s->loop);
    int rc;
    if (s->e == NULL || s->closed) {
        rc = SECUREIO_ERR_CLOSED;
    } else if (s->in_paused) {
        rc = SECUREIO_ERR_AGAIN; /* the read queue is full: nothing taken */
    } else {
        /* the handlers and events run here, on the caller's thread */
        const sio_loop *prev = sio_loop_enter(s->loop);
        rc = secureio_engine_recv(s->e, data, len, sio_now_us());
        sio_loop_leave(prev);
        sio_session_dirty(s);
    }
    sio_loop_unlock(s->loop);
    return rc;
}

void secureio_session_wake(secureio_session *s)
{
    if (s == NULL)
        return;
    sio_loop_lock(s->loop);
    sio_session_dirty(s);
    sio_loop_unlock(s->loop);
}

/* ------------------------------------------------------------- writes */

typedef struct sync_write {
    int done, err;
} sync_write;

static void sync_done(void *arg, int err, size_t len)
{
    sync_write *w = arg;
    (void)len;
    w->done = 1;
    w->err = err;
}

/* A message was queued: its packet is due by the engine's deadline (at
 * once for a full packet or a synchronous write, after the send delay
 * otherwise); the loop is woken only if it would sleep past that. */
static void wrote(secureio_session *s, unsigned flags)
{
    /* A write moves no timer of the engine but the one of its queued
     * messages: that one alone is read (the whole deadline is a dozen). */
    uint64_t d = sio_messages_due(s->e);
    if (s->kind == SIO_T_CHILD) {
        if (s->listener != NULL)
            sio_listener_dirty_by(s->listener, d);
        return;
    }
    /* A synchronous write: sent from this thread, which holds the loop's
     * lock, rather than by waking the loop's thread to do it (a context
     * switch). Asynchronous ones are left to the loop, which sends them in
     * batches. Not a callback session's: its write_fn runs on the loop's
     * thread. */
    if ((flags & SECUREIO_WRITE_SYNC) && s->kind != SIO_T_IO && !sio_loop_on_thread(s->loop)) {
        uint64_t now = sio_now_us();
        if (d <= now) {
            const sio_loop *prev = sio_loop_enter(s->loop); /* (completions run here) */
            sio_session_flush(s, now);
            sio_loop_leave(prev);
            if (s->e == NULL)
                return; /* (ended meanwhile) */
            d = secureio_engine_deadline(s->e);
        }
    }
    sio_loop_dirty_by(s->loop, &s->item, d);
}

/* Hands one message to the engine (mutex held); the loop is not told. */
static int engine_write(secureio_session *s, uint32_t channel, const void *data, size_t len,
                        unsigned flags, secureio_done_fn done, void *arg)
{
    if (s->e == NULL || s->closed)
        return SECUREIO_ERR_CLOSED;
    /* The time of a message is its queue's flush timer, which only the
     * first message of a queue starts: behind others, a write reuses the
     * time read for that one (a clock read is a fifth of a tiny write's
     * cost). */
    if (sio_sendq_at(&s->e->q, s->e->q_held) == NULL)
        s->write_now = sio_now_us();
    int rc = secureio_engine_write(s->e, channel, data, len, flags, done, arg, s->write_now);
    if (rc == SECUREIO_ERR_STATE && s->state == SECUREIO_STATE_CLOSING)
        return SECUREIO_ERR_CLOSED; /* (closing: no new writes) */
    return rc;
}

/* Queues a message, waiting while the queue is full (mutex held). */
static int queue_write(secureio_session *s, uint32_t channel, const void *data, size_t len,
                       unsigned flags, secureio_done_fn done, void *arg, int wait)
{
    for (;;) {
        int rc = engine_write(s, channel, data, len, flags, done, arg);
        if (rc == SECUREIO_ERR_CLOSED)
            return rc;
        if (rc == SECUREIO_OK)
            wrote(s, flags);
        if (rc != SECUREIO_ERR_AGAIN || !wait)
            return rc;
        sio_session_dirty(s); /* the loop drains it */
        (void)sio_loop_wait(s->loop, UINT64_MAX);
    }
}

int secureio_write_message(secureio_session *s, uint32_t channel, const void *data, size_t len)
{
    if (s == NULL || (data == NULL && len > 0))
        return SECUREIO_ERR_ARG;
    sync_write w = {0, 0};
    sio_loop_lock(s->loop);
    if (sio_loop_on_thread(s->loop)) {
        sio_loop_unlock(s->loop);
        return SECUREIO_ERR_STATE; /* it would wait for the loop it runs on */
    }
    /* borrowed: the caller's buffer lives until we return */
    int rc = queue_write(s, channel, data, len, SECUREIO_WRITE_SYNC, sync_done, &w, 1);
    if (rc == SECUREIO_OK) {
        while (!w.done)
            (void)sio_loop_wait(s->loop, UINT64_MAX); /* no thread: it runs the loop */
        rc = w.err;
    }
    sio_loop_unlock(s->loop);
    return rc;
}

int secureio_write(secureio_session *s, const void *data, size_t len)
{
    return secureio_write_message(s, SECUREIO_CHANNEL_DEFAULT, data, len);
}

int secureio_write_message_cb(secureio_session *s, uint32_t channel, const void *data, size_t len,
                              unsigned flags, secureio_done_fn done, void *arg)
{
    if (s == NULL || (data == NULL && len > 0))
        return SECUREIO_ERR_ARG;
    sio_loop_lock(s->loop);
    int rc = queue_write(s, channel, data, len, flags, done, arg, 0);
    sio_loop_unlock(s->loop);
    return rc;
}

int secureio_write_messages(secureio_session *s, const secureio_message *messages, size_t count,
                            unsigned flags, secureio_done_fn done, void *arg, size_t *queued)
{
    if (queued != NULL)
        *queued = 0;
    if (s == NULL || queued == NULL || (messages == NULL && count > 0))
        return SECUREIO_ERR_ARG;
    sio_loop_lock(s->loop);
    int rc = SECUREIO_OK;
    size_t i = 0;
    for (; i < count; i++) {
        const secureio_message *m = &messages[i];
        if (m->data == NULL && m->len > 0) {
            rc = SECUREIO_ERR_ARG;
            break;
        }
        rc = engine_write(s, m->channel, m->data, m->len, flags, done, arg);
        if (rc != SECUREIO_OK)
            break;
    }
    if (i > 0)
        wrote(s, flags); /* (once for them all) */
    *queued = i;
    sio_loop_unlock(s->loop);
    return rc;
}

static void handle_done(void *arg, int err, size_t len)
{
    secureio_write_handle *h = arg;
    h->done = 1;
    h->err = err;
    h->bytes = len;
    if (h->released) { /* nobody waits for it: back to the pool */
        h->next_free = h->s->free_handles;
        h->s->free_handles = h;
    }
}

int secureio_write_message_async(secureio_session *s, uint32_t channel, const void *data,
                                 size_t len, unsigned flags, secureio_write_handle **handle)
{
    if (s == NULL || handle == NULL || (data == NULL && len > 0))
        return SECUREIO_ERR_ARG;
    *handle = NULL;
    sio_loop_lock(s->loop);
    secureio_write_handle *h = s->free_handles;
    if (h != NULL)
        s->free_handles = h->next_free;
    else if ((h = malloc(sizeof *h)) == NULL) {
        sio_loop_unlock(s->loop);
        return SECUREIO_ERR_NOMEM;
    }
    memset(h, 0, sizeof *h);
    h->s = s;
    int rc = queue_write(s, channel, data, len, flags, handle_done, h, 0);
    if (rc != SECUREIO_OK) {
        h->next_free = s->free_handles;
        s->free_handles = h;
    } else {
        *handle = h;
    }
    sio_loop_unlock(s->loop);
    return rc;
}

int secureio_write_done(secureio_write_handle *h, int *err, size_t *bytes)
{
    if (h == NULL)
        return 0;
    sio_loop_lock(h->s->loop);
    int done = h->done;
    if (done && err != NULL)
        *err = h->err;
    if (done && bytes != NULL)
        *bytes = h->bytes;
    sio_loop_unlock(h->s->loop);
    return done;
}

int secureio_write_wait(secureio_write_handle *h, int timeout_ms)
{
    if (h == NULL)
        return SECUREIO_ERR_ARG;
    sio_loop *l = h->s->loop;
    sio_loop_lock(l);
    if (sio_loop_on_thread(l) && !h->done) {
        sio_loop_unlock(l);
        return SECUREIO_ERR_STATE;
    }
    uint64_t until = timeout_ms < 0 ? UINT64_MAX : sio_now_us() + (uint64_t)timeout_ms * 1000u;
    while (!h->done && sio_loop_wait(l, until) == 0) {
    }
    int rc = h->done ? h->err : SECUREIO_ERR_TIMEOUT;
    sio_loop_unlock(l);
    return rc;
}

void secureio_write_release(secureio_write_handle *h)
{
    if (h == NULL)
        return;
    secureio_session *s = h->s;
    sio_loop_lock(s->loop);
    if (h->done) {
        h->next_free = s->free_handles;
        s->free_handles = h;
    } else {
        h->released = 1; /* the completion gives it back */
    }
    sio_loop_unlock(s->loop);
}

/* ------------------------------------------------------------- reads */

int secureio_read_timeout(secureio_session *s, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    if (s == NULL || len == NULL || (buf == NULL && cap > 0))
        return SECUREIO_ERR_ARG;
    *len = 0;
    sio_loop *l = s->loop;
    sio_loop_lock(l);
    uint64_t until = timeout_ms < 0 ? UINT64_MAX : sio_now_us() + (uint64_t)timeout_ms * 1000u;
    int rc = SECUREIO_OK;
    while (s->rq_count == 0) {
        if (s->closed || s->e == NULL) {
            rc = SECUREIO_ERR_CLOSED;
            break;
        }
        if (timeout_ms == 0) {
            if (!l->has_thread && !l->in_turn)
                sio_loop_run_once(l, 0);
            if (s->rq_count == 0)
                rc = SECUREIO_ERR_AGAIN;
            break;
        }
        if (sio_loop_on_thread(l)) {
            rc = SECUREIO_ERR_STATE;
            break;
        }
        if (sio_loop_wait(l, until) != 0 && s->rq_count == 0) {
            rc = SECUREIO_ERR_TIMEOUT;
            break;
        }
    }
    if (s->rq_count > 0) {
        size_t n = rq_front_len(s);
        *len = n;
        if (n > cap) {
            rc = SECUREIO_ERR_BUFFER; /* it stays first in the queue */
        } else {
            rq_pop(s, buf, n);
            rc = SECUREIO_OK;
            if (s->in_paused && s->rq_used <= s->rq_limit)
                sio_session_resume(s);
        }
    }
    sio_loop_unlock(l);
    return rc;
}

int secureio_read(secureio_session *s, void *buf, size_t cap, size_t *len)
{
    return secureio_read_timeout(s, buf, cap, len, -1);
}

int secureio_session_set_handler(secureio_session *s, uint32_t channel, secureio_message_fn fn,
                                 void *user)
{
    if (s == NULL)
        return SECUREIO_ERR_ARG;
    sio_loop_lock(s->loop);
    int rc =
        s->e == NULL ? SECUREIO_ERR_CLOSED : secureio_engine_set_handler(s->e, channel, fn, user);
    sio_loop_unlock(s->loop);
    return rc;
}

int secureio_session_set_event_handler(secureio_session *s, secureio_event_fn fn, void *user)
{
    if (s == NULL)
        return SECUREIO_ERR_ARG;
    sio_loop_lock(s->loop);
    s->on_event = fn;
    s->user = user;
    sio_loop_unlock(s->loop);
    return SECUREIO_OK;
}

/* --------------------------------------------------------- state, close */

secureio_state secureio_session_state(const secureio_session *s)
{
    if (s == NULL)
        return SECUREIO_STATE_CLOSED;
    sio_loop_lock(s->loop);
    secureio_state st = s->state;
    sio_loop_unlock(s->loop);
    return st;
}

/* Has the session reached st (or passed it: the order of the enum)? */
static int reached(const secureio_session *s, secureio_state st)
{
    if (st == SECUREIO_STATE_ESTABLISHED)
        return s->state == SECUREIO_STATE_ESTABLISHED || s->state == SECUREIO_STATE_NEGOTIATING;
    return s->state >= st;
}

int secureio_session_wait_state(secureio_session *s, secureio_state st, int timeout_ms)
{
    if (s == NULL)
        return SECUREIO_ERR_ARG;
    sio_loop *l = s->loop;
    sio_loop_lock(l);
    uint64_t until = timeout_ms < 0 ? UINT64_MAX : sio_now_us() + (uint64_t)timeout_ms * 1000u;
    int rc = SECUREIO_OK;
    while (!reached(s, st)) {
        if (s->closed) {
            rc = SECUREIO_ERR_CLOSED;
            break;
        }
        if (sio_loop_on_thread(l)) {
            rc = SECUREIO_ERR_STATE;
            break;
        }
        if (sio_loop_wait(l, until) != 0 && !reached(s, st)) {
            rc = SECUREIO_ERR_TIMEOUT;
            break;
        }
    }
    if (rc == SECUREIO_ERR_CLOSED && st == SECUREIO_STATE_CLOSED)
        rc = SECUREIO_OK;
    sio_loop_unlock(l);
    return rc;
}

int secureio_session_peer_key(const secureio_session *s, uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    if (s == NULL || pk == NULL)
        return SECUREIO_ERR_ARG;
    sio_loop_lock(s->loop);
    int rc = s->e == NULL ? SECUREIO_ERR_STATE : secureio_engine_peer_key(s->e, pk);
    sio_loop_unlock(s->loop);
    return rc;
}

void secureio_session_stats_get(const secureio_session *s, secureio_session_stats *st)
{
    if (s == NULL || st == NULL)
        return;
    memset(st, 0, sizeof *st);
    sio_loop_lock(s->loop);
    if (s->e != NULL)
        secureio_engine_stats(s->e, &st->engine);
    else if (s->have_last_engine)
        st->engine = s->last_engine;
    st->read_dropped = s->read_dropped;
    st->unhandled = s->unhandled;
    st->read_queue_bytes = s->rq_used;
    st->syscalls_in = s->syscalls_in;
    st->syscalls_out = s->syscalls_out;
    st->unreachable = s->unreachable;
    int fd = s->kind == SIO_T_CHILD ? (s->listener ? sio_listener_fd(s->listener) : -1)
             : s->kind == SIO_T_IO  ? -1
                                    : s->fd;
    int size = 0;
    socklen_t sl = sizeof size;
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &sl) == 0 && size > 0)
        st->socket_rcvbuf = (uint64_t)size;
    sio_loop_unlock(s->loop);
}

size_t secureio_session_max_message(const secureio_session *s, uint32_t channel)
{
    if (s == NULL)
        return 0;
    sio_loop_lock(s->loop);
    size_t n =
        s->e != NULL && !s->closed &&
                (s->state == SECUREIO_STATE_ESTABLISHED || s->state == SECUREIO_STATE_NEGOTIATING)
            ? secureio_engine_max_message(s->e, channel)
            : 0;
    sio_loop_unlock(s->loop);
    return n;
}

void secureio_session_close(secureio_session *s)
{
    if (s == NULL)
        return;
    sio_loop_lock(s->loop);
    if (s->e != NULL && !s->closed) {
        const sio_loop *prev = sio_loop_enter(s->loop); /* (events may run here) */
        secureio_engine_close(s->e, sio_now_us());
        sio_loop_leave(prev);
        sio_session_dirty(s);
    }
    sio_loop_unlock(s->loop);
}

int secureio_session_close_wait(secureio_session *s, int timeout_ms)
{
    if (s == NULL)
        return SECUREIO_ERR_ARG;
    secureio_session_close(s);
    int rc = secureio_session_wait_state(s, SECUREIO_STATE_CLOSED, timeout_ms);
    if (rc != SECUREIO_OK)
        return rc;
    sio_loop_lock(s->loop);
    /* the last packet (the CLOSE) goes before we say it is done */
    if (s->loop->has_thread)
        while (s->e != NULL && s->e->final_len > 0 && !s->dead && !s->out_blocked)
            if (sio_loop_wait(s->loop, sio_now_us() + 100000u) != 0)
                break;
    rc = s->closed_err;
    sio_loop_unlock(s->loop);
    return rc;
}

void secureio_session_free(secureio_session *s)
{
    if (s == NULL)
        return;
    sio_loop *l = s->loop;
    sio_loop_lock(l);
    const sio_loop *prev = sio_loop_enter(l); /* (completions run here) */
    if (s->kind == SIO_T_CHILD) {
        /* the engine is the acceptor's: it ends it (its CLOSE goes at the
         * listener's next turn: woken now) */
        if (s->e != NULL) {
            secureio_engine_set_callbacks(s->e, NULL, NULL, NULL);
            secureio_engine_close_now(s->e, sio_now_us());
            s->e = NULL;
            if (s->listener != NULL)
                sio_listener_dirty(s->listener);
        }
    } else if (s->e != NULL) {
        if (!s->closed) {
            secureio_engine_close_now(s->e, sio_now_us());
            sio_session_flush(s, sio_now_us()); /* its CLOSE, if the transport takes it */
        }
        if (sio_loop_on_thread(l)) {
            /* inside a callback (on_accept, a handler): perhaps one of this
             * engine's own, which goes on after we return; it is freed
             * with the session, after this turn of the loop */
            secureio_engine_set_callbacks(s->e, NULL, NULL, NULL);
            s->e->n_handlers = 0; /* (nor do its channels' handlers run) */
            s->zombie = s->e;
        } else {
            secureio_engine_free(s->e);
        }
        s->e = NULL;
    }
    s->on_event = NULL; /* (an event being told goes no further) */
    s->dead = 1;        /* (nor is its transport read again in this turn) */
    if (s->listener != NULL)
        sio_listener_forget(s);
    sio_session_unwatch(s);
    if (s->item.ops != NULL)
        sio_loop_remove(l, &s->item); /* the loop frees it */
    else
        sio_session_destroy(s);
    sio_loop_leave(prev);
    sio_loop_broadcast(l);
    sio_loop_unlock(l);
    sio_loop_unref(l);
}

/* ------------------------------------------------ the application's loop */

int secureio_session_fd(const secureio_session *s)
{
    return s == NULL ? -1 : s->loop->epfd;
}

int secureio_session_timeout(const secureio_session *s)
{
    if (s == NULL)
        return -1;
    sio_loop_lock(s->loop);
    int t = sio_loop_timeout_ms(s->loop);
    sio_loop_unlock(s->loop);
    return t;
}

int secureio_session_process(secureio_session *s)
{
    if (s == NULL)
        return SECUREIO_ERR_ARG;
    if (s->loop->has_thread)
        return SECUREIO_ERR_STATE;
    sio_loop_lock(s->loop);
    if (sio_loop_on_thread(s->loop)) {
        sio_loop_unlock(s->loop);
        return SECUREIO_ERR_STATE; /* from inside one of its callbacks */
    }
    if (!s->loop->in_turn) /* (else a blocking call on another thread is turning it) */
        sio_loop_run_once(s->loop, 0);
    int rc = s->closed ? SECUREIO_ERR_CLOSED : SECUREIO_OK;
    sio_loop_unlock(s->loop);
    return rc;
}

/* ---------------------------------------------------------------- loops */

int secureio_loop_new(secureio_loop **out)
{
    if (out == NULL)
        return SECUREIO_ERR_ARG;
    sio_loop *l;
    int rc = sio_loop_new(&l, 1);
    *out = rc == SECUREIO_OK ? (secureio_loop *)l : NULL;
    return rc;
}

void secureio_loop_free(secureio_loop *loop)
{
    sio_loop_unref((sio_loop *)loop);
}
