/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listeners and sessions against what a stranger, or a careless thread,
 * can do to them (each a finding of a review, with its attack):
 *  - connections that never speak cannot keep a real peer out;
 *  - a stranger's connection that ends tells the application nothing
 *    (its events are not the application's until it is accepted);
 *  - out of descriptors, a listener waits instead of spinning on accept;
 *  - a session paused on a full read queue whose peer hangs up does not
 *    spin either;
 *  - secureio_listener_free while another thread waits in
 *    secureio_accept: the waiter returns SECUREIO_ERR_CLOSED, no hang,
 *    nothing used after it is freed;
 *  - a peer that writes and closes before it is accepted loses nothing;
 *  - secureio_session_free inside on_accept (the one callback where it is
 *    allowed: refusing the session);
 *  - an ended UDP session accepted after its listener is freed;
 *  - at most 256 sessions wait for secureio_accept.
 */
#define _GNU_SOURCE

#include <secureio/session.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static secureio_identity *id_srv, *id_cli;
static uint8_t pk_srv[32], pk_cli[32];

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void server_options(secureio_session_options *o)
{
    secureio_session_options init = SECUREIO_SESSION_OPTIONS_INIT;
    *o = init;
    o->identity = id_srv;
    o->peer_key = pk_cli; /* only the real client */
}

static void client_options(secureio_session_options *o)
{
    secureio_session_options init = SECUREIO_SESSION_OPTIONS_INIT;
    *o = init;
    o->identity = id_cli;
    o->peer_key = pk_srv;
    o->handshake_timeout_ms = 5000;
}

/* A TCP connection to url's port on 127.0.0.1 that says nothing. */
static int raw_connect(const char *url)
{
    const char *colon = strrchr(url, ':');
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(colon + 1));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* --------------------------------------------- idle connections, events */

typedef struct seen {
    pthread_mutex_t mu;
    int state, closed, bad;
} seen;

static void on_listener_event(void *user, const secureio_event *ev)
{
    seen *s = user;
    pthread_mutex_lock(&s->mu);
    if (ev->type == SECUREIO_EVENT_STATE)
        s->state++;
    else if (ev->type == SECUREIO_EVENT_CLOSED)
        s->closed++;
    else if (ev->type == SECUREIO_EVENT_BAD_PACKET)
        s->bad++;
    pthread_mutex_unlock(&s->mu);
}

static void idle_connections(void)
{
    unsigned long failed = test_failed_count();
    seen ev = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    secureio_session_options so, co;
    server_options(&so);
    so.on_event = on_listener_event;
    so.user = &ev;
    client_options(&co);
    secureio_listener *l = NULL;
    CHECK_EQ_INT(secureio_listen(&l, "tcp://127.0.0.1:0", &so, NULL, NULL), SECUREIO_OK);
    if (l == NULL)
        return;
    char url[128];
    size_t ul = sizeof url;
    CHECK_EQ_INT(secureio_listener_addr(l, url, &ul), SECUREIO_OK);

    /* 300 connections that never speak (the listener keeps 256 pending) */
    enum { IDLE = 300 };
    int idle[IDLE], opened = 0;
    for (int i = 0; i < IDLE; i++)
        if ((idle[i] = raw_connect(url)) >= 0)
            opened++;
    CHECK_EQ_INT(opened, IDLE);
    sleep_ms(300);
    /* the real client gets in at once all the same */
    secureio_session *c = NULL, *s = NULL;
    CHECK_EQ_INT(secureio_session_connect(&c, url, &co), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_wait_state(c, SECUREIO_STATE_ESTABLISHED, 5000), SECUREIO_OK);
    uint8_t pk[32];
    CHECK_EQ_INT(secureio_accept(l, &s, pk, 5000), SECUREIO_OK);
    CHECK_MEM(pk, pk_cli, 32);

    /* the strangers hang up: nothing of theirs reaches on_event (a
     * stranger's end taken for the real session's was how a CLI was cut) */
    for (int i = 0; i < IDLE; i++)
        if (idle[i] >= 0)
            close(idle[i]);
    int fd = raw_connect(url);
    if (fd >= 0) {
        static const char junk[] = "\x00\x10 not a secureio hello at all";
        CHECK(write(fd, junk, sizeof junk) == (ssize_t)sizeof junk);
        sleep_ms(100);
        close(fd);
    }
    sleep_ms(300);
    pthread_mutex_lock(&ev.mu);
    CHECK_EQ_INT(ev.closed, 0);
    CHECK_EQ_INT(ev.state, 0);
    pthread_mutex_unlock(&ev.mu);
    /* and the real session is untouched */
    char buf[16];
    size_t n = 0;
    if (s != NULL) {
        CHECK_EQ_INT(secureio_session_state(s), SECUREIO_STATE_ESTABLISHED);
        CHECK_EQ_INT(secureio_write(c, "still", 5), SECUREIO_OK);
        CHECK_EQ_INT(secureio_read_timeout(s, buf, sizeof buf, &n, 5000), SECUREIO_OK);
        CHECK(n == 5 && memcmp(buf, "still", 5) == 0);
    }
    /* the accepted session's own events do reach it */
    secureio_session_close(c);
    if (s != NULL)
        CHECK_EQ_INT(secureio_session_wait_state(s, SECUREIO_STATE_CLOSED, 5000), SECUREIO_OK);
    pthread_mutex_lock(&ev.mu);
    CHECK_EQ_INT(ev.closed, 1);
    pthread_mutex_unlock(&ev.mu);
    secureio_session_free(c);
    secureio_session_free(s);
    secureio_listener_free(l);
    printf("%-44s %s\n", "300 idle connections, strangers hang up",
           test_failed_count() == failed ? "ok" : "FAILED");
}

/* ------------------------------------------------- out of descriptors */

/* In a child with few descriptors: a listener flooded with connections
 * it cannot accept. Exit status 0 when its loop stayed idle. */
static int emfile_child(int report)
{
    secureio_session_options so;
    server_options(&so);
    so.accept_any_peer = 1;
    so.peer_key = NULL;
    secureio_listener *l = NULL;
    if (secureio_listen(&l, "tcp://127.0.0.1:0", &so, NULL, NULL) != SECUREIO_OK)
        return 2;
    char url[128];
    size_t ul = sizeof url;
    if (secureio_listener_addr(l, url, &ul) != SECUREIO_OK)
        return 2;
    /* a few descriptors more than now */
    int top = dup(0);
    close(top);
    struct rlimit r = {(rlim_t)top + 6, (rlim_t)top + 6};
    if (setrlimit(RLIMIT_NOFILE, &r) != 0)
        return 2;
    if (write(report, url, ul) != (ssize_t)ul)
        return 2;
    sleep_ms(500); /* (the parent connects meanwhile) */
    double c0 = cpu_s();
    sleep_ms(1500);
    double used = cpu_s() - c0;
    secureio_listener_free(l);
    printf("  (a listener out of descriptors: %.2f s of CPU in 1.5 s)\n", used);
    return used < 0.5 ? 0 : 1;
}

static void out_of_descriptors(void)
{
    unsigned long failed = test_failed_count();
    int p[2];
    CHECK(pipe(p) == 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        _exit(emfile_child(p[1]));
    }
    close(p[1]);
    char url[128] = {0};
    ssize_t n = read(p[0], url, sizeof url - 1);
    close(p[0]);
    CHECK(n > 0);
    enum { FLOOD = 40 };
    int fds[FLOOD];
    for (int i = 0; i < FLOOD; i++)
        fds[i] = n > 0 ? raw_connect(url) : -1;
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < FLOOD; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    printf("%-44s %s\n", "out of descriptors: no spin",
           test_failed_count() == failed ? "ok" : "FAILED");
}

/* ------------------------------------------- a paused session's hang-up */

static void paused_hangup(void)
{
    unsigned long failed = test_failed_count();
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    secureio_session_options oa, ob;
    client_options(&oa);
    server_options(&ob);
    ob.read_queue_bytes = 256 * 1024; /* filled at once */
    secureio_session *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_session_new_fd(&b, sv[1], NULL, 0, &ob), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_new_fd(&a, sv[0], NULL, 0, &oa), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_wait_state(a, SECUREIO_STATE_ESTABLISHED, 5000), SECUREIO_OK);
    static uint8_t m[60000];
    for (int i = 0; i < 12; i++) {
        secureio_write_handle *h = NULL;
        if (secureio_write_message_async(a, SECUREIO_CHANNEL_DEFAULT, m, sizeof m,
                                         SECUREIO_WRITE_COPY, &h) == SECUREIO_OK)
            secureio_write_release(h);
    }
    sleep_ms(500);
    secureio_session_stats st;
    secureio_session_stats_get(b, &st);
    CHECK(st.read_queue_bytes > 128 * 1024); /* b is paused: its queue is full */
    /* a goes without a word: b's socket hangs up while b reads nothing */
    secureio_session_free(a);
    close(sv[0]);
    double c0 = cpu_s();
    sleep_ms(1500);
    double used = cpu_s() - c0;
    printf("  (a paused session whose peer hung up: %.2f s of CPU in 1.5 s)\n", used);
    CHECK(used < 0.5);
    /* reading again, b reads what it holds, then finds the end */
    uint8_t *buf = malloc(sizeof m);
    size_t n;
    int got = 0, rc;
    while ((rc = secureio_read_timeout(b, buf, sizeof m, &n, 2000)) == SECUREIO_OK)
        got++;
    CHECK(got >= 2);
    CHECK(rc == SECUREIO_ERR_TRANSPORT || rc == SECUREIO_ERR_CLOSED);
    free(buf);
    secureio_session_free(b);
    close(sv[1]);
    printf("%-44s %s\n", "a paused session's peer hangs up: no spin",
           test_failed_count() == failed ? "ok" : "FAILED");
}

/* ------------------------------------------- accept vs listener_free */

typedef struct waiter {
    secureio_listener *l;
    int rc, done;
    pthread_mutex_t mu;
} waiter;

static void *accept_thread(void *arg)
{
    waiter *w = arg;
    secureio_session *s = NULL;
    int rc = secureio_accept(w->l, &s, NULL, -1);
    secureio_session_free(s);
    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    w->done = 1;
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void free_while_accepting(int shared, const char *url)
{
    unsigned long failed = test_failed_count();
    secureio_loop *loop = NULL;
    if (shared)
        CHECK_EQ_INT(secureio_loop_new(&loop), SECUREIO_OK);
    secureio_session_options so;
    server_options(&so);
    so.loop = loop;
    waiter w = {NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER};
    CHECK_EQ_INT(secureio_listen(&w.l, url, &so, NULL, NULL), SECUREIO_OK);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, accept_thread, &w) == 0);
    sleep_ms(200); /* (both are waiting) */
    secureio_listener_free(w.l);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(w.done, 1);
    CHECK_EQ_INT(w.rc, SECUREIO_ERR_CLOSED);
    secureio_loop_free(loop);
    char what[80];
    snprintf(what, sizeof what, "listener_free during accept (%s, %s)",
             url[0] == 'u' ? "udp" : "tcp", shared ? "shared loop" : "own loop");
    printf("%-44s %s\n", what, test_failed_count() == failed ? "ok" : "FAILED");
}

/* ------------------------------------- a peer done before it is accepted */

/* The peer writes and closes gracefully before the application accepts:
 * the session waits, ended, with what it received. */
static void done_before_accept(const char *url)
{
    unsigned long failed = test_failed_count();
    secureio_session_options so, co;
    server_options(&so);
    client_options(&co);
    secureio_listener *l = NULL;
    CHECK_EQ_INT(secureio_listen(&l, url, &so, NULL, NULL), SECUREIO_OK);
    if (l == NULL)
        return;
    char addr[128];
    size_t al = sizeof addr;
    CHECK_EQ_INT(secureio_listener_addr(l, addr, &al), SECUREIO_OK);
    secureio_session *c = NULL, *s = NULL;
    CHECK_EQ_INT(secureio_session_connect(&c, addr, &co), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_wait_state(c, SECUREIO_STATE_ESTABLISHED, 5000), SECUREIO_OK);
    CHECK_EQ_INT(secureio_write(c, "late", 4), SECUREIO_OK);
    CHECK_EQ_INT(secureio_session_close_wait(c, 5000), SECUREIO_OK);
    sleep_ms(200);
    /* it waits, ended, without costing the loop anything */
    double c0 = cpu_s();
    sleep_ms(700);
    double used = cpu_s() - c0;
    CHECK(used < 0.3);
    CHECK_EQ_INT(secureio_accept(l, &s, NULL, 2000), SECUREIO_OK);
    char buf[16];
    size_t n = 0;
    if (s != NULL) {
        CHECK_EQ_INT(secureio_read_timeout(s, buf, sizeof buf, &n, 2000), SECUREIO_OK);
        CHECK(n == 4 && memcmp(buf, "late", 4) == 0);
        CHECK_EQ_INT(secureio_read_timeout(s, buf, sizeof buf, &n, 2000), SECUREIO_ERR_CLOSED);
    }
    /* the listener goes first: the session, ended, is the application's */
    secureio_listener_free(l);
    sleep_ms(100);
    secureio_session_stats st;
    secureio_session_stats_get(s, &st);
    CHECK_EQ_INT(secureio_session_state(s), SECUREIO_STATE_CLOSED);
    secureio_session_free(s);
    secureio_session_free(c);
    char what[80];
    snprintf(what, sizeof what, "done before accepted (%.3s)", url);
    printf("%-44s %s\n", what, test_failed_count() == failed ? "ok" : "FAILED");
}

/* --------------------------------------------- free inside callbacks */

typedef struct freer {
    pthread_mutex_t mu;
    int accepted;
} freer;

static void free_on_accept(void *user, secureio_session *s, const uint8_t pk[32])
{
    freer *f = user;
    (void)pk;
    secureio_session_free(s); /* refused here: the natural way to write it */
    pthread_mutex_lock(&f->mu);
    f->accepted++;
    pthread_mutex_unlock(&f->mu);
}

static void free_in_on_accept(const char *url)
{
    unsigned long failed = test_failed_count();
    freer f = {PTHREAD_MUTEX_INITIALIZER, 0};
    secureio_session_options so, co;
    server_options(&so);
    client_options(&co);
    co.handshake_timeout_ms = 2000;
    secureio_listener *l = NULL;
    CHECK_EQ_INT(secureio_listen(&l, url, &so, free_on_accept, &f), SECUREIO_OK);
    if (l == NULL)
        return;
    char addr[128];
    size_t al = sizeof addr;
    CHECK_EQ_INT(secureio_listener_addr(l, addr, &al), SECUREIO_OK);
    enum { N = 10 };
    for (int i = 0; i < N; i++) {
        secureio_session *c = NULL;
        CHECK_EQ_INT(secureio_session_connect(&c, addr, &co), SECUREIO_OK);
        CHECK_EQ_INT(secureio_session_wait_state(c, SECUREIO_STATE_CLOSED, 5000), SECUREIO_OK);
        secureio_session_free(c);
    }
    pthread_mutex_lock(&f.mu);
    CHECK_EQ_INT(f.accepted, N);
    pthread_mutex_unlock(&f.mu);
    secureio_listener_free(l);
    char what[80];
    snprintf(what, sizeof what, "sessions freed in on_accept (%.3s)", url);
    printf("%-44s %s\n", what, test_failed_count() == failed ? "ok" : "FAILED");
}

/* ---------------------------------------------- the ready queue's limit */

static void ready_limit(void)
{
    unsigned long failed = test_failed_count();
    secureio_loop *loop = NULL;
    CHECK_EQ_INT(secureio_loop_new(&loop), SECUREIO_OK);
    secureio_session_options so, co;
    server_options(&so);
    so.peer_key = NULL;
    so.accept_any_peer = 1;
    client_options(&co);
    co.loop = loop; /* (the clients share one thread) */
    secureio_listener *l = NULL;
    CHECK_EQ_INT(secureio_listen(&l, "tcp://127.0.0.1:0", &so, NULL, NULL), SECUREIO_OK);
    if (l == NULL)
        return;
    char addr[128];
    size_t al = sizeof addr;
    CHECK_EQ_INT(secureio_listener_addr(l, addr, &al), SECUREIO_OK);
    enum { N = 270 };
    secureio_session **c = calloc(N, sizeof *c);
    int up = 0;
    for (int i = 0; i < N; i++)
        if (secureio_session_connect(&c[i], addr, &co) == SECUREIO_OK)
            up++;
    CHECK_EQ_INT(up, N);
    sleep_ms(2000); /* (all handshakes done; nobody accepts meanwhile) */
    int accepted = 0;
    secureio_session *s;
    while (secureio_accept(l, &s, NULL, 0) == SECUREIO_OK) {
        accepted++;
        secureio_session_free(s);
    }
    printf("  (%d clients, %d waited to be accepted)\n", N, accepted);
    CHECK(accepted <= 256 && accepted >= 200);
    int closed = 0;
    for (int i = 0; i < N; i++)
        if (c[i] != NULL && secureio_session_state(c[i]) == SECUREIO_STATE_CLOSED)
            closed++;
    CHECK(closed >= N - 256); /* the ones refused were told */
    for (int i = 0; i < N; i++)
        secureio_session_free(c[i]);
    free(c);
    secureio_listener_free(l);
    secureio_loop_free(loop);
    printf("%-44s %s\n", "at most 256 sessions wait for accept",
           test_failed_count() == failed ? "ok" : "FAILED");
}

int main(void)
{
    if (secureio_identity_generate(&id_srv) != SECUREIO_OK ||
        secureio_identity_generate(&id_cli) != SECUREIO_OK)
        return 1;
    secureio_identity_public_key(id_srv, pk_srv);
    secureio_identity_public_key(id_cli, pk_cli);
    idle_connections();
    out_of_descriptors();
    paused_hangup();
    free_while_accepting(0, "tcp://127.0.0.1:0");
    free_while_accepting(1, "tcp://127.0.0.1:0");
    free_while_accepting(0, "udp://127.0.0.1:0");
    free_while_accepting(1, "udp://127.0.0.1:0");
    done_before_accept("tcp://127.0.0.1:0");
    done_before_accept("udp://127.0.0.1:0");
    free_in_on_accept("tcp://127.0.0.1:0");
    free_in_on_accept("udp://127.0.0.1:0");
    ready_limit();
    secureio_identity_free(id_srv);
    secureio_identity_free(id_cli);
    return test_summary("listener-abuse");
}
