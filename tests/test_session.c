/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime (include/secureio/session.h) over real descriptors: unix
 * socketpairs (stream and datagram), UDP, TCP and unix sockets through
 * listeners, a pair of pipes, the caller's callbacks, a shared loop and no
 * thread at all. Blocking and asynchronous writes, reads (a buffer too
 * small loses nothing), channels and handlers, states, close, a wrong key.
 */
#define _GNU_SOURCE

#include <secureio/session.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static secureio_identity *id_a, *id_b, *id_c;
static uint8_t pk_a[32], pk_b[32], pk_c[32];

static void options(secureio_session_options *o, int side)
{
    secureio_session_options init = SECUREIO_SESSION_OPTIONS_INIT;
    *o = init;
    o->identity = side == 0 ? id_a : id_b;
    if (side == 0)
        o->peer_key = pk_b; /* a starts */
    else
        o->accept_any_peer = 1;
    o->handshake_timeout_ms = 5000;
}

/* One message each way on the default channel, and a few on channels. */
typedef struct counter {
    pthread_mutex_t mu;
    int n;
    size_t bytes;
    uint32_t channel;
} counter;

static void on_channel(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    counter *c = user;
    (void)data;
    pthread_mutex_lock(&c->mu);
    c->n++;
    c->bytes += len;
    c->channel = channel;
    pthread_mutex_unlock(&c->mu);
}

/* a completion: counted in n, its bytes in bytes */
static void on_written(void *arg, int err, size_t len)
{
    counter *c = arg;
    pthread_mutex_lock(&c->mu);
    c->n += err == SECUREIO_OK;
    c->bytes += len;
    pthread_mutex_unlock(&c->mu);
}

static int count(counter *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static void exchange(secureio_session *a, secureio_session *b, const char *what)
{
    unsigned long failed = test_failed_count();
    CHECK_EQ_INT(secureio_session_wait_state(a, SECUREIO_STATE_ESTABLISHED, 5000), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_wait_state(b, SECUREIO_STATE_ESTABLISHED, 5000), SECUREIO_OK);
    uint8_t pk[32];
    CHECK_EQ_INT(secureio_session_peer_key(a, pk), SECUREIO_OK);
    CHECK_MEM(pk, pk_b, 32);
    CHECK_EQ_INT(secureio_session_peer_key(b, pk), SECUREIO_OK);
    CHECK_MEM(pk, pk_a, 32);
    /* the default channel, both ways */
    char buf[64];
    size_t n;
    CHECK_EQ_INT(secureio_write(a, "ping", 4), SECUREIO_OK);
    CHECK_EQ_INT(secureio_read_timeout(b, buf, sizeof buf, &n, 5000), SECUREIO_OK);
    CHECK(n == 4 && memcmp(buf, "ping", 4) == 0);
    CHECK_EQ_INT(secureio_write(b, "pong!", 5), SECUREIO_OK);
    /* a buffer too small: the size it needs, and nothing is lost */
    CHECK_EQ_INT(secureio_read_timeout(a, buf, 3, &n, 5000), SECUREIO_ERR_BUFFER);
    CHECK_EQ_UINT(n, 5);
    CHECK_EQ_INT(secureio_read_timeout(a, buf, sizeof buf, &n, 5000), SECUREIO_OK);
    CHECK(n == 5 && memcmp(buf, "pong!", 5) == 0);
    CHECK_EQ_INT(secureio_read_timeout(a, buf, sizeof buf, &n, 0), SECUREIO_ERR_AGAIN);
    /* channels: handlers, sync and async writes, a large message */
    counter c = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    CHECK_EQ_INT(secureio_session_set_handler(b, 7, on_channel, &c), SECUREIO_OK);
    CHECK_EQ_INT(secureio_write_message(a, 7, "seven", 5), SECUREIO_OK);
    secureio_write_handle *h[20];
    static uint8_t big[200000];
    memset(big, 0x5a, sizeof big);
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(secureio_write_message_async(a, 7, i == 19 ? big : (const uint8_t *)"x",
                                                  i == 19 ? sizeof big : 1, 0, &h[i]),
                     SECUREIO_OK);
    for (int i = 0; i < 20; i++) {
        CHECK_EQ_INT(secureio_write_wait(h[i], 5000), SECUREIO_OK);
        int err = -99;
        size_t bytes = 0;
        CHECK(secureio_write_done(h[i], &err, &bytes));
        CHECK(err == SECUREIO_OK && bytes == (i == 19 ? sizeof big : 1));
        secureio_write_release(h[i]);
    }
    for (int i = 0; i < 500 && count(&c) < 21; i++)
        usleep(10000);
    CHECK_EQ_INT(count(&c), 21);
    CHECK_EQ_UINT(c.bytes, 5 + 19 + sizeof big);
    /* many at once: in order, each completed once */
    secureio_message many[40];
    static const char digits[] = "0123456789";
    for (int i = 0; i < 40; i++)
        many[i] = (secureio_message){7, digits, (size_t)(i % 10) + 1};
    size_t queued = 99, total = 0;
    counter done = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    CHECK_EQ_INT(
        secureio_write_messages(a, many, 40, SECUREIO_WRITE_COPY, on_written, &done, &queued),
        SECUREIO_OK);
    CHECK_EQ_UINT(queued, 40);
    for (int i = 0; i < 40; i++)
        total += many[i].len;
    for (int i = 0; i < 500 && (count(&c) < 61 || count(&done) < 40); i++)
        usleep(10000);
    CHECK_EQ_INT(count(&c), 61);
    CHECK_EQ_UINT(c.bytes, 5 + 19 + sizeof big + total);
    CHECK_EQ_INT(count(&done), 40);
    CHECK_EQ_UINT(done.bytes, total);
    /* a wrong one stops it there; what came before is queued */
    many[3].data = NULL;
    CHECK_EQ_INT(secureio_write_messages(a, many, 10, 0, NULL, NULL, &queued), SECUREIO_ERR_ARG);
    CHECK_EQ_UINT(queued, 3);
    CHECK_EQ_INT(secureio_write_messages(a, many, 1, 0, NULL, NULL, NULL), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(secureio_write_messages(a, NULL, 0, 0, NULL, NULL, &queued), SECUREIO_OK);
    CHECK_EQ_UINT(queued, 0);
    for (int i = 0; i < 500 && count(&c) < 64; i++)
        usleep(10000);
    CHECK_EQ_INT(count(&c), 64);
    CHECK_EQ_UINT(c.channel, 7);
    /* close: the peer learns it */
    CHECK_EQ_INT(secureio_session_close_wait(a, 5000), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_wait_state(b, SECUREIO_STATE_CLOSED, 5000), SECUREIO_OK);
    CHECK_EQ_INT(secureio_read_timeout(b, buf, sizeof buf, &n, 100), SECUREIO_ERR_CLOSED);
    CHECK_EQ_INT(secureio_write(b, "late", 4), SECUREIO_ERR_CLOSED);
    printf("%-34s %s\n", what, test_failed_count() == failed ? "ok" : "FAILED");
}

static void over_socketpair(int type, const char *what)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) == 0);
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    secureio_session *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_session_new_fd(&b, sv[1], NULL, 0, &ob), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_new_fd(&a, sv[0], NULL, 0, &oa), SECUREIO_OK);
    if (a != NULL && b != NULL)
        exchange(a, b, what);
    secureio_session_free(a);
    secureio_session_free(b);
    close(sv[0]);
    close(sv[1]);
}

static void over_pipes(void)
{
    int ab[2], ba[2];
    CHECK(pipe(ab) == 0 && pipe(ba) == 0);
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    secureio_session *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_session_new_fds(&a, ba[0], ab[1], &oa), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_new_fds(&b, ab[0], ba[1], &ob), SECUREIO_OK);
    if (a != NULL && b != NULL)
        exchange(a, b, "a pair of pipes");
    secureio_session_free(a);
    secureio_session_free(b);
    for (int i = 0; i < 2; i++) {
        close(ab[i]);
        close(ba[i]);
    }
}

static void over_listener(const char *url, const char *what)
{
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    secureio_listener *l = NULL;
    CHECK_EQ_INT(secureio_listen(&l, url, &ob, NULL, NULL), SECUREIO_OK);
    if (l == NULL)
        return;
    char addr[128];
    size_t al = sizeof addr;
    CHECK_EQ_INT(secureio_listener_addr(l, addr, &al), SECUREIO_OK);
    secureio_session *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_session_connect(&a, addr, &oa), SECUREIO_OK);
    uint8_t pk[32];
    CHECK_EQ_INT(secureio_accept(l, &b, pk, 5000), SECUREIO_OK);
    CHECK_MEM(pk, pk_a, 32);
    if (a != NULL && b != NULL)
        exchange(a, b, what);
    secureio_session_free(a);
    secureio_session_free(b);
    secureio_listener_free(l);
}

/* A listener that pins one peer (opts.peer_key): that peer gets in, another
 * is refused, and the listener's on_event names the refused key. */
typedef struct refusals {
    pthread_mutex_t mu;
    int n, closed;
    uint8_t key[32];
} refusals;

static void on_listener_event(void *user, const secureio_event *ev)
{
    refusals *r = user;
    if (ev->type == SECUREIO_EVENT_CLOSED) {
        pthread_mutex_lock(&r->mu);
        r->closed++;
        pthread_mutex_unlock(&r->mu);
    }
    if (ev->type == SECUREIO_EVENT_BAD_PACKET && ev->drop_reason == SECUREIO_DROP_PEER &&
        ev->has_peer_key) {
        pthread_mutex_lock(&r->mu);
        r->n++;
        memcpy(r->key, ev->peer_key, 32);
        pthread_mutex_unlock(&r->mu);
    }
}

static void pinned_listener(const char *url, const char *what)
{
    unsigned long failed = test_failed_count();
    refusals r = {PTHREAD_MUTEX_INITIALIZER, 0, 0, {0}};
    refusals own = {PTHREAD_MUTEX_INITIALIZER, 0, 0, {0}};
    secureio_session_options ol, oa, oc;
    options(&ol, 1);
    ol.accept_any_peer = 0;
    ol.peer_key = pk_a; /* only a */
    ol.on_event = on_listener_event;
    ol.user = &r;
    options(&oa, 0);
    oc = oa;
    oc.identity = id_c;
    oc.handshake_timeout_ms = 1500;
    secureio_listener *l = NULL;
    CHECK_EQ_INT(secureio_listen(&l, url, &ol, NULL, NULL), SECUREIO_OK);
    if (l == NULL)
        return;
    char addr[128];
    size_t al = sizeof addr;
    CHECK_EQ_INT(secureio_listener_addr(l, addr, &al), SECUREIO_OK);
    secureio_session *a = NULL, *b = NULL, *c = NULL;
    /* c is refused: it never gets in, and the listener says who it was */
    CHECK_EQ_INT(secureio_session_connect(&c, addr, &oc), SECUREIO_OK);
    CHECK(secureio_session_wait_state(c, SECUREIO_STATE_ESTABLISHED, 5000) != SECUREIO_OK);
    CHECK_EQ_INT(secureio_accept(l, &b, NULL, 0), SECUREIO_ERR_AGAIN);
    pthread_mutex_lock(&r.mu);
    CHECK(r.n >= 1);
    CHECK_MEM(r.key, pk_c, 32);
    pthread_mutex_unlock(&r.mu);
    /* a gets in */
    CHECK_EQ_INT(secureio_session_connect(&a, addr, &oa), SECUREIO_OK);
    uint8_t pk[32];
    CHECK_EQ_INT(secureio_accept(l, &b, pk, 5000), SECUREIO_OK);
    CHECK_MEM(pk, pk_a, 32);
    char buf[8];
    size_t n;
    CHECK_EQ_INT(secureio_write(a, "in", 2), SECUREIO_OK);
    CHECK_EQ_INT(secureio_read_timeout(b, buf, sizeof buf, &n, 5000), SECUREIO_OK);
    CHECK(n == 2 && memcmp(buf, "in", 2) == 0);
    /* a stream session outlives its listener (its pinned key with it) */
    if (strncmp(url, "tcp", 3) == 0) {
        secureio_listener_free(l);
        l = NULL;
        CHECK_EQ_INT(secureio_write(b, "still", 5), SECUREIO_OK);
        CHECK_EQ_INT(secureio_read_timeout(a, buf, sizeof buf, &n, 5000), SECUREIO_OK);
        CHECK(n == 5 && memcmp(buf, "still", 5) == 0);
    }
    /* b's events, once it has its own callback, go there alone */
    CHECK_EQ_INT(secureio_session_set_event_handler(b, on_listener_event, &own), SECUREIO_OK);
    secureio_session_close(a);
    CHECK_EQ_INT(secureio_session_wait_state(b, SECUREIO_STATE_CLOSED, 5000), SECUREIO_OK);
    secureio_session_stats st;
    secureio_session_stats_get(b, &st); /* (an ended session keeps its counters) */
    CHECK(st.engine.packets_in > 0 && st.engine.messages_in > 0);
    pthread_mutex_lock(&own.mu);
    CHECK_EQ_INT(own.closed, 1);
    pthread_mutex_unlock(&own.mu);
    pthread_mutex_lock(&r.mu);
    CHECK_EQ_INT(r.closed, 0);
    pthread_mutex_unlock(&r.mu);
    CHECK_EQ_INT(secureio_session_set_event_handler(NULL, NULL, NULL), SECUREIO_ERR_ARG);
    secureio_session_free(a);
    secureio_session_free(b);
    secureio_session_free(c);
    secureio_listener_free(l);
    /* both a key and a list: refused */
    ol.allowed_peers = NULL;
    ol.accept_any_peer = 1;
    CHECK_EQ_INT(secureio_listen(&l, url, &ol, NULL, NULL), SECUREIO_ERR_ARG);
    printf("%-34s %s\n", what, test_failed_count() == failed ? "ok" : "FAILED");
}

/* The caller's transport: each side's write goes into the other's input. */
typedef struct io_pair {
    secureio_session *peer;
} io_pair;

static int io_write(void *ctx, const uint8_t *data, size_t len)
{
    io_pair *p = ctx;
    if (p->peer == NULL)
        return SECUREIO_ERR_AGAIN; /* not made yet */
    int rc = secureio_session_input(p->peer, data, len);
    return rc == SECUREIO_ERR_CLOSED ? SECUREIO_OK : rc;
}

static void over_callbacks(void)
{
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    /* one loop for both: a write of one is handed to the other on the same thread */
    secureio_loop *loop = NULL;
    CHECK_EQ_INT(secureio_loop_new(&loop), SECUREIO_OK);
    oa.loop = ob.loop = loop;
    io_pair pa = {NULL}, pb = {NULL};
    secureio_session *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_session_new_io(&b, 0, io_write, &pb, &ob), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_new_io(&a, 0, io_write, &pa, &oa), SECUREIO_OK);
    pa.peer = b;
    pb.peer = a;
    secureio_session_wake(a);
    if (a != NULL && b != NULL)
        exchange(a, b, "callbacks, one shared loop");
    pa.peer = pb.peer = NULL;
    secureio_session_free(a);
    secureio_session_free(b);
    secureio_loop_free(loop);
}

/* No thread: the application's loop polls the session's descriptor. */
static void without_thread(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0);
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    oa.no_thread = 1;
    secureio_session *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_session_new_fd(&b, sv[1], NULL, 0, &ob), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_new_fd(&a, sv[0], NULL, 0, &oa), SECUREIO_OK);
    char buf[16];
    size_t n = 0;
    int got = 0;
    CHECK(secureio_session_fd(a) >= 0);
    /* b's write waits for the handshake, which a's caller drives: async */
    secureio_write_handle *h = NULL;
    CHECK_EQ_INT(
        secureio_write_message_async(b, SECUREIO_CHANNEL_DEFAULT, "hi", 2, SECUREIO_WRITE_COPY, &h),
        SECUREIO_OK);
    for (int i = 0; i < 500 && !got; i++) {
        struct pollfd p = {secureio_session_fd(a), POLLIN, 0};
        int t = secureio_session_timeout(a);
        (void)poll(&p, 1, t < 0 || t > 10 ? 10 : t);
        CHECK_EQ_INT(secureio_session_process(a), SECUREIO_OK);
        got = secureio_read_timeout(a, buf, sizeof buf, &n, 0) == SECUREIO_OK;
    }
    CHECK(got && n == 2 && memcmp(buf, "hi", 2) == 0);
    CHECK_EQ_INT(secureio_write_wait(h, 5000), SECUREIO_OK);
    secureio_write_release(h);
    /* a blocking write runs the loop itself */
    CHECK_EQ_INT(secureio_write(a, "back", 4), SECUREIO_OK);
    CHECK_EQ_INT(secureio_read_timeout(b, buf, sizeof buf, &n, 5000), SECUREIO_OK);
    CHECK(n == 4 && memcmp(buf, "back", 4) == 0);
    secureio_session_free(a);
    secureio_session_free(b);
    close(sv[0]);
    close(sv[1]);
    printf("%-34s ok\n", "no thread (the caller's loop)");
}

/* A peer with the wrong key: never established, the reason said. */
static void wrong_key(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    secureio_session_options oa, ob;
    options(&oa, 0);
    options(&ob, 1);
    oa.peer_key = pk_c; /* a expects c; b is b */
    oa.handshake_timeout_ms = ob.handshake_timeout_ms = 1500;
    secureio_session *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_session_new_fd(&b, sv[1], NULL, 0, &ob), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_new_fd(&a, sv[0], NULL, 0, &oa), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_wait_state(a, SECUREIO_STATE_ESTABLISHED, 5000),
                 SECUREIO_ERR_CLOSED);
    CHECK_EQ_INT(secureio_write(a, "x", 1), SECUREIO_ERR_CLOSED);
    secureio_session_stats st;
    secureio_session_stats_get(b, &st);
    CHECK(st.engine.dropped[SECUREIO_DROP_NOT_FOR_US] >= 1); /* a's hello was for c */
    secureio_session_free(a);
    secureio_session_free(b);
    close(sv[0]);
    close(sv[1]);
    printf("%-34s ok\n", "a wrong key");
}

int main(void)
{
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
    over_socketpair(SOCK_STREAM, "unix stream socketpair");
    over_socketpair(SOCK_DGRAM, "unix datagram socketpair");
    over_pipes();
    over_listener("udp://127.0.0.1:0", "UDP through a listener");
    over_listener("tcp://127.0.0.1:0", "TCP through a listener");
    char path[64];
    snprintf(path, sizeof path, "unix:///tmp/secureio-test-%d.sock", (int)getpid());
    unlink(path + 7);
    over_listener(path, "unix stream through a listener");
    unlink(path + 7);
    pinned_listener("udp://127.0.0.1:0", "UDP listener, one pinned peer");
    pinned_listener("tcp://127.0.0.1:0", "TCP listener, one pinned peer");
    over_callbacks();
    without_thread();
    wrong_key();
    secureio_identity_free(id_a);
    secureio_identity_free(id_b);
    secureio_identity_free(id_c);
    return test_summary("session");
}
