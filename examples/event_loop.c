/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event_loop: secure sessions inside the application's own epoll loop,
 * without any thread of the library's (options.no_thread; see
 * secureio_session_fd(3)).
 *
 *   event_loop        runs, then exits 0 when every message came back
 *
 * One thread, one epoll set. It holds the application's own descriptor (a
 * timerfd that ticks every 20 ms) and the descriptor of each session
 * (secureio_session_fd). The wait is bounded by each session's next timer
 * (secureio_session_timeout); after it, secureio_session_process does the
 * session's work — reads, timers, sends — and runs its callbacks, here, on
 * this thread.
 *
 * Both ends are in this process, over two UDP sockets that the application
 * made itself on 127.0.0.1 (secureio_session_new_fd): "alice" knows bob's
 * key and starts the handshake; "bob" accepts the keys of a key list. On
 * each tick alice sends a message on channel 1; bob's handler for channel 1
 * answers on channel 2; alice's handler for channel 2 counts the answers.
 * After 10 answers alice closes the session gracefully; the loop ends when
 * both sessions are closed.
 */
#define _POSIX_C_SOURCE 200809L

#include <secureio/session.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 10

static int fail(const char *what, int rc)
{
    const char *detail = secureio_error_detail();
    fprintf(stderr, "event_loop: %s: %s%s%s\n", what, secureio_strerror(rc), detail[0] ? ": " : "",
            detail);
    return 1;
}

typedef struct app {
    secureio_session *alice, *bob;
    int sent, answered, failed;
} app;

/* ---------------------------------------------------------- callbacks */
/* They run inside secureio_session_process, on this thread: they must not
 * wait, so they write with the asynchronous calls. */

/* bob, channel 1: answer on channel 2 (the data is valid only during the
 * call: SECUREIO_WRITE_COPY copies it into the send queue). */
static void bob_on_ping(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    app *a = user;
    (void)channel;
    int rc = secureio_write_message_cb(a->bob, 2, data, len, SECUREIO_WRITE_COPY, NULL, NULL);
    if (rc != SECUREIO_OK)
        a->failed = fail("bob's answer", rc);
}

/* alice, channel 2: an answer came back. */
static void alice_on_pong(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    app *a = user;
    printf("alice: answer on channel %u: %.*s\n", channel, (int)len, (const char *)data);
    if (++a->answered == ROUNDS) {
        printf("alice: %d answers; closing\n", ROUNDS);
        secureio_session_close(a->alice); /* graceful: the queue goes out, then CLOSE */
    }
}

/* Events of both sessions (opts.user says whose). */
static void on_event(void *user, const secureio_event *ev)
{
    const char *who = user;
    char fp[SECUREIO_FINGERPRINT_LEN];

    if (ev->type == SECUREIO_EVENT_ESTABLISHED) {
        secureio_public_key_fingerprint(ev->peer_key, fp);
        printf("%s: established with %s\n", who, fp);
    } else if (ev->type == SECUREIO_EVENT_CLOSED) {
        printf("%s: closed (%s)\n", who, secureio_strerror(ev->err));
    }
}

/* ------------------------------------------------------------ sockets */

/* Two UDP sockets on 127.0.0.1, each connected to the other. */
static int udp_pair(int fd[2])
{
    struct sockaddr_in sin[2];
    socklen_t len = sizeof sin[0];

    for (int i = 0; i < 2; i++) {
        memset(&sin[i], 0, sizeof sin[i]);
        sin[i].sin_family = AF_INET;
        sin[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd[i] = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd[i] < 0 || bind(fd[i], (struct sockaddr *)&sin[i], sizeof sin[i]) != 0 ||
            getsockname(fd[i], (struct sockaddr *)&sin[i], &len) != 0)
            return -1;
    }
    if (connect(fd[0], (struct sockaddr *)&sin[1], sizeof sin[1]) != 0 ||
        connect(fd[1], (struct sockaddr *)&sin[0], sizeof sin[0]) != 0)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- main */

int main(void)
{
    secureio_identity *alice_id = NULL, *bob_id = NULL;
    secureio_keylist *bob_peers = NULL;
    uint8_t alice_pk[SECUREIO_PUBLIC_KEY_LEN], bob_pk[SECUREIO_PUBLIC_KEY_LEN];
    int fd[2] = {-1, -1}, ep = -1, tfd = -1, rc, status = 1;
    int alice_open = 1, bob_open = 1;
    app a = {0};

    /* Identities (fresh ones here; secureio_identity_load_or_create reads
     * or makes a key file), and bob's list of who may connect. */
    if ((rc = secureio_identity_generate(&alice_id)) != 0 ||
        (rc = secureio_identity_generate(&bob_id)) != 0 ||
        (rc = secureio_keylist_new(&bob_peers)) != 0) {
        fail("identities", rc);
        goto out;
    }
    secureio_identity_public_key(alice_id, alice_pk);
    secureio_identity_public_key(bob_id, bob_pk);
    if ((rc = secureio_keylist_add(bob_peers, alice_pk)) != 0) {
        fail("secureio_keylist_add", rc);
        goto out;
    }
    if (udp_pair(fd) != 0) {
        perror("event_loop: sockets");
        goto out;
    }

    /* The sessions: no_thread, over the sockets made above (they stay
     * ours: closed after secureio_session_free). */
    secureio_session_options ob = SECUREIO_SESSION_OPTIONS_INIT;
    ob.identity = bob_id;
    ob.allowed_peers = bob_peers; /* bob answers whoever is in the list */
    ob.no_thread = 1;
    ob.on_event = on_event;
    ob.user = "bob";
    if ((rc = secureio_session_new_fd(&a.bob, fd[1], NULL, 0, &ob)) != 0 ||
        (rc = secureio_session_set_handler(a.bob, 1, bob_on_ping, &a)) != 0) {
        fail("bob's session", rc);
        goto out;
    }
    secureio_session_options oa = SECUREIO_SESSION_OPTIONS_INIT;
    oa.identity = alice_id;
    oa.peer_key = bob_pk; /* pinned: alice starts the handshake */
    oa.no_thread = 1;
    oa.on_event = on_event;
    oa.user = "alice";
    if ((rc = secureio_session_new_fd(&a.alice, fd[0], NULL, 0, &oa)) != 0 ||
        (rc = secureio_session_set_handler(a.alice, 2, alice_on_pong, &a)) != 0) {
        fail("alice's session", rc);
        goto out;
    }

    /* The application's epoll set: its timer and the two sessions. */
    struct itimerspec every = {{0, 20000000}, {0, 20000000}}; /* 20 ms */
    ep = epoll_create1(0);
    tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    if (ep < 0 || tfd < 0 || timerfd_settime(tfd, 0, &every, NULL) != 0) {
        perror("event_loop: epoll/timerfd");
        goto out;
    }
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.fd = tfd;
    int add = epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    ev.data.ptr = a.alice;
    add |= epoll_ctl(ep, EPOLL_CTL_ADD, secureio_session_fd(a.alice), &ev);
    ev.data.ptr = a.bob;
    add |= epoll_ctl(ep, EPOLL_CTL_ADD, secureio_session_fd(a.bob), &ev);
    if (add != 0) {
        perror("event_loop: epoll_ctl");
        goto out;
    }

    time_t give_up = time(NULL) + 20;
    while ((alice_open || bob_open) && !a.failed) {
        if (time(NULL) > give_up) {
            fprintf(stderr, "event_loop: not done after 20 s\n");
            goto out;
        }
        /* Wait for a descriptor, at most until the sooner session timer. */
        int ta = alice_open ? secureio_session_timeout(a.alice) : -1;
        int tb = bob_open ? secureio_session_timeout(a.bob) : -1;
        int timeout = ta < 0 ? tb : tb < 0 ? ta : ta < tb ? ta : tb;
        struct epoll_event evs[4];
        int n = epoll_wait(ep, evs, 4, timeout);
        if (n < 0 && errno != EINTR) {
            perror("event_loop: epoll_wait");
            goto out;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd != tfd)
                continue;
            uint64_t ticks;
            if (read(tfd, &ticks, sizeof ticks) < 0)
                continue;
            /* The application's own work: a message per tick, once the
             * session is up, until enough were sent. */
            secureio_state st = secureio_session_state(a.alice);
            if (a.sent < ROUNDS &&
                (st == SECUREIO_STATE_ESTABLISHED || st == SECUREIO_STATE_NEGOTIATING)) {
                char msg[32];
                int len = snprintf(msg, sizeof msg, "ping %d", a.sent);
                rc = secureio_write_message_cb(a.alice, 1, msg, (size_t)len, SECUREIO_WRITE_COPY,
                                               NULL, NULL);
                if (rc == SECUREIO_OK)
                    a.sent++;
                else if (rc != SECUREIO_ERR_AGAIN) /* AGAIN: the queue is full, next tick */
                    a.failed = fail("alice's write", rc);
            }
        }
        /* Each session's turn: cheap when it has nothing to do. Calling it
         * after any wakeup is simpler than sorting out which was ready. */
        if (alice_open && (rc = secureio_session_process(a.alice)) != SECUREIO_OK) {
            alice_open = 0; /* SECUREIO_ERR_CLOSED: ended */
            epoll_ctl(ep, EPOLL_CTL_DEL, secureio_session_fd(a.alice), NULL);
        }
        if (bob_open && (rc = secureio_session_process(a.bob)) != SECUREIO_OK) {
            bob_open = 0;
            epoll_ctl(ep, EPOLL_CTL_DEL, secureio_session_fd(a.bob), NULL);
        }
    }
    /* How each ended: SECUREIO_OK for alice (she closed), and
     * SECUREIO_ERR_CLOSED for bob (the peer closed). */
    int ra = secureio_session_close_wait(a.alice, 0), rb = secureio_session_close_wait(a.bob, 0);
    if (!a.failed && a.answered == ROUNDS && ra == SECUREIO_OK && rb == SECUREIO_ERR_CLOSED)
        status = 0;
    else
        fprintf(stderr, "event_loop: %d of %d answers; alice: %s; bob: %s\n", a.answered, ROUNDS,
                secureio_strerror(ra), secureio_strerror(rb));
out:
    /* free the sessions (which closes their descriptors from
     * secureio_session_fd), then our own descriptors */
    secureio_session_free(a.alice);
    secureio_session_free(a.bob);
    if (tfd >= 0)
        close(tfd);
    if (ep >= 0)
        close(ep);
    for (int i = 0; i < 2; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    secureio_keylist_free(bob_peers);
    secureio_identity_free(alice_id);
    secureio_identity_free(bob_id);
    printf("event_loop: %s\n", status == 0 ? "self-check passed" : "self-check FAILED");
    return status;
}
