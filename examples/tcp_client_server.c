/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp_client_server: a server that echoes messages of any size, and its
 * client, over TCP with libsecureio's session API (secureio/session.h).
 *
 *   tcp_client_server server ADDR:PORT KEYFILE AUTHKEYS
 *                                  a thread per client; ADDR may be empty
 *                                  (":5000": every address)
 *   tcp_client_server client HOST:PORT KEYFILE PEERPUB
 *                                  sends each line of standard input,
 *                                  prints what comes back
 *   tcp_client_server              a self-check: both ends in this process on
 *                                  127.0.0.1, fresh identities; small messages,
 *                                  a 1 MiB one and a batch of asynchronous
 *                                  writes; exits 0 when every echo matched
 *
 * Keys as in udp_echo.c: KEYFILE an OpenSSH Ed25519 identity (made when
 * missing, KEYFILE.pub beside it), AUTHKEYS the clients' .pub lines,
 * PEERPUB the server's .pub file. Over TCP nothing is lost and the order is
 * kept; a message larger than a packet is cut into fragments and put
 * together again (up to max_message_len, 16 MiB by default).
 */
#define _POSIX_C_SOURCE 200809L

#include <secureio/session.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, int rc)
{
    const char *detail = secureio_error_detail();
    fprintf(stderr, "tcp_client_server: %s: %s%s%s\n", what, secureio_strerror(rc),
            detail[0] ? ": " : "", detail);
    return 1;
}

/* Reads the next message into *buf, which grows when a message does not
 * fit (SECUREIO_ERR_BUFFER: *n is its length, and it waits in the queue). */
static int read_any(secureio_session *s, char **buf, size_t *cap, size_t *n, int timeout_ms)
{
    for (;;) {
        int rc = secureio_read_timeout(s, *buf, *cap, n, timeout_ms);
        if (rc != SECUREIO_ERR_BUFFER)
            return rc;
        char *p = realloc(*buf, *n);
        if (p == NULL)
            return SECUREIO_ERR_NOMEM;
        *buf = p;
        *cap = *n;
    }
}

/* ------------------------------------------------------------- server */

/* A session's thread: echoes every message until the peer closes. */
static void *echo_thread(void *arg)
{
    secureio_session *s = arg;
    size_t cap = 4096, n;
    char *buf = malloc(cap);
    int rc = SECUREIO_ERR_NOMEM;

    while (buf != NULL && (rc = read_any(s, &buf, &cap, &n, -1)) == SECUREIO_OK)
        if ((rc = secureio_write(s, buf, n)) != SECUREIO_OK)
            break;
    printf("server: session ended (%s)\n", secureio_strerror(rc));
    free(buf);
    secureio_session_free(s);
    return NULL;
}

typedef struct server {
    secureio_identity *me;
    secureio_keylist *peers;
    secureio_listener *listener;
} server;

/* Stops listening (sessions already accepted go on), frees the keys. */
static void server_free(server *srv)
{
    secureio_listener_free(srv->listener);
    secureio_keylist_free(srv->peers);
    secureio_identity_free(srv->me);
}

/* Loads (or makes) the identity and the authorized keys, and listens. */
static int server_open(server *srv, const char *url, const char *keyfile, const char *authkeys,
                       char *addr, size_t addr_cap)
{
    secureio_session_options opts = SECUREIO_SESSION_OPTIONS_INIT;
    int rc;

    memset(srv, 0, sizeof *srv);
    if ((rc = secureio_identity_load_or_create(&srv->me, keyfile, "tcp server", NULL)) != 0)
        return fail(keyfile, rc);
    if ((rc = secureio_keylist_new(&srv->peers)) != 0 ||
        (rc = secureio_keylist_load(srv->peers, authkeys, NULL)) != 0)
        return fail(authkeys, rc);
    opts.identity = srv->me;
    opts.allowed_peers = srv->peers;
    /* tcp://: one session per connection; the listener's thread runs the
     * handshakes, secureio_accept hands out the authenticated sessions */
    if ((rc = secureio_listen(&srv->listener, url, &opts, NULL, NULL)) != 0 ||
        (rc = secureio_listener_addr(srv->listener, addr, &addr_cap)) != 0)
        return fail(url, rc);
    printf("server: listening on %s\n", addr);
    return 0;
}

/* Accepts max sessions (0: for ever, else waiting at most 20 s for each),
 * each served by a thread of its own. For max 1, *t is that thread, to join. */
static int server_run(server *srv, int max, pthread_t *t)
{
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
    char fp[SECUREIO_FINGERPRINT_LEN];
    secureio_session *s;
    pthread_t th;
    int rc;

    for (int i = 0; max == 0 || i < max; i++) {
        if ((rc = secureio_accept(srv->listener, &s, pk, max == 0 ? -1 : 20000)) != 0)
            return fail("secureio_accept", rc);
        secureio_public_key_fingerprint(pk, fp);
        printf("server: session with %s\n", fp);
        if (pthread_create(&th, NULL, echo_thread, s) != 0) {
            secureio_session_free(s);
            return 1;
        }
        if (max == 1)
            *t = th;
        else
            pthread_detach(th);
    }
    return 0;
}

/* ------------------------------------------------------------- client */

/* Sends msg, waits for its echo and compares. */
static int echo_once(secureio_session *s, const char *msg, size_t len, int print)
{
    size_t cap = 4096, n;
    char *buf = malloc(cap);
    int rc = buf == NULL ? SECUREIO_ERR_NOMEM : secureio_write(s, msg, len);

    if (rc == SECUREIO_OK)
        rc = read_any(s, &buf, &cap, &n, 10000);
    if (rc == SECUREIO_OK && (n != len || memcmp(buf, msg, len) != 0)) {
        fprintf(stderr, "tcp_client_server: the echo differs from what was sent\n");
        rc = SECUREIO_ERR_FORMAT;
    } else if (rc == SECUREIO_OK && print) {
        printf("client: echo: %.*s\n", (int)n, buf);
    } else if (rc == SECUREIO_OK) {
        printf("client: echo of %zu bytes matches\n", n);
    }
    free(buf);
    return rc == SECUREIO_OK ? 0 : fail("echo", rc);
}

/* Writes a batch without waiting for each write, then waits for them all,
 * then reads the echoes, which come back in order. */
static int echo_batch(secureio_session *s)
{
    enum { N = 16 };
    secureio_write_handle *h[N];
    char msg[N][32], buf[64];
    size_t n;
    int i, rc, queued = 0, status = 0;

    for (i = 0; i < N; i++) {
        snprintf(msg[i], sizeof msg[i], "async message %d", i);
        /* flags 0: msg[i] is borrowed until the write is done */
        rc = secureio_write_message_async(s, SECUREIO_CHANNEL_DEFAULT, msg[i], strlen(msg[i]), 0,
                                          &h[i]);
        if (rc != SECUREIO_OK) { /* SECUREIO_ERR_AGAIN: the send queue is full */
            status = fail("secureio_write_message_async", rc);
            break;
        }
        queued++;
    }
    for (i = 0; i < queued; i++) {
        if ((rc = secureio_write_wait(h[i], 10000)) != SECUREIO_OK)
            status = fail("secureio_write_wait", rc);
        secureio_write_release(h[i]); /* every handle is released */
    }
    for (i = 0; status == 0 && i < queued; i++) {
        if ((rc = secureio_read_timeout(s, buf, sizeof buf, &n, 10000)) != SECUREIO_OK)
            return fail("secureio_read_timeout", rc);
        if (n != strlen(msg[i]) || memcmp(buf, msg[i], n) != 0) {
            fprintf(stderr, "tcp_client_server: echo %d out of order or changed\n", i);
            return 1;
        }
    }
    if (status == 0)
        printf("client: %d asynchronous writes echoed in order\n", queued);
    return status;
}

static int client_run(const char *url, const char *keyfile, const char *peerpub, FILE *in)
{
    secureio_session_options opts = SECUREIO_SESSION_OPTIONS_INIT;
    secureio_identity *me = NULL;
    secureio_session *s = NULL;
    uint8_t server_pk[SECUREIO_PUBLIC_KEY_LEN];
    char line[4096], *big = NULL;
    int rc, status = 1;

    if ((rc = secureio_identity_load_or_create(&me, keyfile, "tcp client", NULL)) != 0) {
        fail(keyfile, rc);
        goto out;
    }
    if ((rc = secureio_public_key_load(server_pk, peerpub)) != 0) {
        fail(peerpub, rc);
        goto out;
    }
    opts.identity = me;
    opts.peer_key = server_pk;
    opts.handshake_timeout_ms = 10000; /* also bounds the TCP connect */
    if ((rc = secureio_session_connect(&s, url, &opts)) != SECUREIO_OK) {
        fail(url, rc);
        goto out;
    }
    /* optional: wait for the handshake here (writes would wait for it too) */
    if ((rc = secureio_session_wait_state(s, SECUREIO_STATE_ESTABLISHED, 10000)) != 0) {
        fail("handshake", rc);
        goto out;
    }
    if (in != NULL) {
        while (fgets(line, sizeof line, in) != NULL) {
            line[strcspn(line, "\n")] = 0;
            if (echo_once(s, line, strlen(line), 1) != 0)
                goto out;
        }
    } else {
        size_t big_len = 1u << 20; /* 1 MiB: fragmented, reassembled */
        if (echo_once(s, "hello over TCP", 14, 1) != 0 || (big = malloc(big_len)) == NULL)
            goto out;
        for (size_t i = 0; i < big_len; i++)
            big[i] = (char)(i * 31 + 7);
        if (echo_once(s, big, big_len, 0) != 0 || echo_batch(s) != 0)
            goto out;
    }
    if ((rc = secureio_session_close_wait(s, 5000)) != SECUREIO_OK) {
        fail("secureio_session_close_wait", rc);
        goto out;
    }
    status = 0;
out:
    free(big);
    secureio_session_free(s);
    secureio_identity_free(me);
    return status;
}

/* ---------------------------------------------------------- self-check */

static server srv;
static pthread_t echo_t;
static int server_status = 1;

/* The server's side of the self-check: one session. */
static void *server_thread(void *arg)
{
    (void)arg;
    server_status = server_run(&srv, 1, &echo_t);
    return NULL;
}

static int self_check(void)
{
    char dir[] = "/tmp/tcp_client_server.XXXXXX", skey[64], spub[64], ckey[64], cpub[64];
    char url[128];
    secureio_identity *id = NULL;
    pthread_t t;
    int rc, status = 1;

    if (mkdtemp(dir) == NULL) {
        perror("tcp_client_server: mkdtemp");
        return 1;
    }
    snprintf(skey, sizeof skey, "%s/server", dir);
    snprintf(spub, sizeof spub, "%s/server.pub", dir);
    snprintf(ckey, sizeof ckey, "%s/client", dir);
    snprintf(cpub, sizeof cpub, "%s/client.pub", dir);
    /* the client's identity first: its .pub file is the server's AUTHKEYS */
    if ((rc = secureio_identity_load_or_create(&id, ckey, "tcp client", NULL)) != 0) {
        fail(ckey, rc);
        goto out;
    }
    secureio_identity_free(id);
    if (server_open(&srv, "tcp://127.0.0.1:0", skey, cpub, url, sizeof url) != 0)
        goto out;
    if (pthread_create(&t, NULL, server_thread, NULL) != 0)
        goto out;
    status = client_run(url, ckey, spub, NULL);
    pthread_join(t, NULL);
    if (server_status != 0)
        status = 1;
    else
        pthread_join(echo_t, NULL); /* it ends when the client has closed */
out:
    server_free(&srv);
    unlink(skey), unlink(spub), unlink(ckey), unlink(cpub), rmdir(dir);
    printf("tcp_client_server: %s\n", status == 0 ? "self-check passed" : "self-check FAILED");
    return status;
}

int main(int argc, char *argv[])
{
    char url[300], addr[128];
    server srv_;
    int status;

    setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time, also into a file */
    signal(SIGPIPE, SIG_IGN);         /* a TCP peer that goes away */
    if (argc == 1)
        return self_check();
    if (argc == 5 && strcmp(argv[1], "server") == 0) {
        snprintf(url, sizeof url, "tcp://%s", argv[2]);
        status = server_open(&srv_, url, argv[3], argv[4], addr, sizeof addr);
        if (status == 0)
            status = server_run(&srv_, 0, NULL);
        server_free(&srv_);
        return status;
    }
    if (argc == 5 && strcmp(argv[1], "client") == 0) {
        snprintf(url, sizeof url, "tcp://%s", argv[2]);
        return client_run(url, argv[3], argv[4], stdin);
    }
    fprintf(stderr, "usage: tcp_client_server server ADDR:PORT KEYFILE AUTHKEYS\n"
                    "       tcp_client_server client HOST:PORT KEYFILE PEERPUB\n"
                    "       tcp_client_server          (self-check: both ends here)\n");
    return 2;
}
