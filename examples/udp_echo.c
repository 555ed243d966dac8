/* SPDX-License-Identifier: Apache-2.0 */
/*
 * udp_echo: an echo server and its client over UDP, with libsecureio's
 * session API (secureio/session.h).
 *
 *   udp_echo server PORT KEYFILE AUTHKEYS    answers the peers listed in AUTHKEYS
 *   udp_echo client HOST:PORT KEYFILE PEERPUB
 *                                            sends each line of standard input,
 *                                            prints what comes back
 *   udp_echo                                 a self-check: both ends in this
 *                                            process on 127.0.0.1, with fresh
 *                                            identities in a temporary folder;
 *                                            exits 0 when every echo came back
 *
 * KEYFILE is an Ed25519 identity in OpenSSH's format (made on the first
 * run, with KEYFILE.pub beside it; `ssh-keygen -t ed25519 -N ''` makes
 * the same files). AUTHKEYS is an authorized_keys-style file: the clients'
 * .pub lines. PEERPUB is the server's .pub file.
 *
 * Over UDP a message may be lost (never changed, cut or repeated): the
 * client waits for each echo at most 5 s.
 */
#define _POSIX_C_SOURCE 200809L

#include <secureio/session.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Prints why a call failed: the error's sentence, and the detail some
 * functions leave (which file, which option). Returns 1. */
static int fail(const char *what, int rc)
{
    const char *detail = secureio_error_detail();
    fprintf(stderr, "udp_echo: %s: %s%s%s\n", what, secureio_strerror(rc), detail[0] ? ": " : "",
            detail);
    return 1;
}

/* ------------------------------------------------------------- server */

typedef struct server {
    secureio_identity *me;
    secureio_keylist *peers;
    secureio_listener *listener;
} server;

static void server_free(server *srv)
{
    secureio_listener_free(srv->listener); /* NULL is fine everywhere here */
    secureio_keylist_free(srv->peers);
    secureio_identity_free(srv->me);
}

/* Loads (or makes) the identity and the authorized keys, and listens. */
static int server_open(server *srv, const char *url, const char *keyfile, const char *authkeys)
{
    secureio_session_options opts = SECUREIO_SESSION_OPTIONS_INIT;
    char addr[128];
    size_t addr_len = sizeof addr;
    int rc;

    memset(srv, 0, sizeof *srv);
    if ((rc = secureio_identity_load_or_create(&srv->me, keyfile, "udp_echo server", NULL)) != 0)
        return fail(keyfile, rc);
    if ((rc = secureio_keylist_new(&srv->peers)) != 0 ||
        (rc = secureio_keylist_load(srv->peers, authkeys, NULL)) != 0)
        return fail(authkeys, rc);
    opts.identity = srv->me;         /* borrowed: both must outlive the listener */
    opts.allowed_peers = srv->peers; /* only these clients get a session */
    opts.idle_timeout_ms = 30000;    /* a client that vanishes ends after 30 s */
    if ((rc = secureio_listen(&srv->listener, url, &opts, NULL, NULL)) != 0)
        return fail(url, rc);
    if ((rc = secureio_listener_addr(srv->listener, addr, &addr_len)) != 0)
        return fail("secureio_listener_addr", rc);
    printf("server: listening on %s\n", addr);
    return 0;
}

/* Echoes every message of one session until the peer closes it. */
static void echo_session(secureio_session *s)
{
    char buf[65536];
    size_t n;
    int rc;

    /* secureio_read waits for the next message of the default channel */
    while ((rc = secureio_read(s, buf, sizeof buf, &n)) == SECUREIO_OK) {
        /* secureio_write returns once the message is sealed and sent */
        if ((rc = secureio_write(s, buf, n)) != SECUREIO_OK)
            break;
    }
    /* SECUREIO_ERR_CLOSED: the peer closed the session (or it timed out) */
    printf("server: session ended (%s)\n", secureio_strerror(rc));
    secureio_session_free(s);
}

/* Serves sessions one after the other; max 0: for ever. Waits at most
 * wait_ms for each (-1: no limit). (A server for many peers at once gives
 * each session a thread: secureio_listen(3).) */
static int server_run(server *srv, int max, int wait_ms)
{
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
    char fp[SECUREIO_FINGERPRINT_LEN];
    secureio_session *s;
    int rc;

    for (int i = 0; max == 0 || i < max; i++) {
        /* the next session whose peer is authenticated */
        if ((rc = secureio_accept(srv->listener, &s, pk, wait_ms)) != SECUREIO_OK)
            return fail("secureio_accept", rc);
        secureio_public_key_fingerprint(pk, fp);
        printf("server: session with %s\n", fp);
        echo_session(s);
    }
    return 0;
}

/* ------------------------------------------------------------- client */

/* Sends msg and waits for its echo; 0 when it came back unchanged. */
static int echo_once(secureio_session *s, const char *msg, size_t len)
{
    char buf[65536];
    size_t n;
    int rc;

    if ((rc = secureio_write(s, msg, len)) != SECUREIO_OK)
        return fail("secureio_write", rc);
    if ((rc = secureio_read_timeout(s, buf, sizeof buf, &n, 5000)) != SECUREIO_OK)
        return fail("secureio_read_timeout", rc);
    printf("client: echo: %.*s\n", (int)n, buf);
    if (n != len || memcmp(buf, msg, len) != 0) {
        fprintf(stderr, "udp_echo: the echo differs from what was sent\n");
        return 1;
    }
    return 0;
}

/* Connects to url, then echoes the lines of in, or (in NULL) a few
 * messages of its own. */
static int client_run(const char *url, const char *keyfile, const char *peerpub, FILE *in)
{
    static const char *const fixed[] = {"hello", "over UDP", "encrypted and authenticated",
                                        "goodbye"};
    secureio_session_options opts = SECUREIO_SESSION_OPTIONS_INIT;
    secureio_identity *me = NULL;
    secureio_session *s = NULL;
    uint8_t server_pk[SECUREIO_PUBLIC_KEY_LEN];
    char line[4096];
    int rc, status = 1;

    if ((rc = secureio_identity_load_or_create(&me, keyfile, "udp_echo client", NULL)) != 0) {
        fail(keyfile, rc);
        goto out;
    }
    /* the server's key, pinned: the side that knows its peer's key connects */
    if ((rc = secureio_public_key_load(server_pk, peerpub)) != 0) {
        fail(peerpub, rc);
        goto out;
    }
    opts.identity = me;
    opts.peer_key = server_pk;
    opts.handshake_timeout_ms = 10000;
    /* starts the handshake and returns; the first write waits for it */
    if ((rc = secureio_session_connect(&s, url, &opts)) != SECUREIO_OK) {
        fail(url, rc);
        goto out;
    }
    if (in == NULL) {
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            if (echo_once(s, fixed[i], strlen(fixed[i])) != 0)
                goto out;
    } else {
        while (fgets(line, sizeof line, in) != NULL) {
            line[strcspn(line, "\n")] = 0;
            if (echo_once(s, line, strlen(line)) != 0)
                goto out;
        }
    }
    /* a graceful close: the peer is told, and SECUREIO_OK says it went well */
    if ((rc = secureio_session_close_wait(s, 5000)) != SECUREIO_OK) {
        fail("secureio_session_close_wait", rc);
        goto out;
    }
    status = 0;
out:
    secureio_session_free(s);
    secureio_identity_free(me);
    return status;
}

/* ---------------------------------------------------------- self-check */

static void *server_thread(void *arg)
{
    static int rc;
    rc = server_run(arg, 1, 20000); /* one session, then return */
    return &rc;
}

static int self_check(void)
{
    char dir[] = "/tmp/udp_echo.XXXXXX", skey[64], spub[64], ckey[64], cpub[64], url[128];
    size_t url_len = sizeof url;
    secureio_identity *id = NULL;
    server srv = {0};
    pthread_t t;
    void *srv_rc;
    int rc, status = 1;

    if (mkdtemp(dir) == NULL) {
        perror("udp_echo: mkdtemp");
        return 1;
    }
    snprintf(skey, sizeof skey, "%s/server", dir);
    snprintf(spub, sizeof spub, "%s/server.pub", dir);
    snprintf(ckey, sizeof ckey, "%s/client", dir);
    snprintf(cpub, sizeof cpub, "%s/client.pub", dir);
    /* the client's identity first: its .pub file is the server's AUTHKEYS */
    if ((rc = secureio_identity_load_or_create(&id, ckey, "udp_echo client", NULL)) != 0) {
        fail(ckey, rc);
        goto out;
    }
    secureio_identity_free(id);
    /* port 0: the system picks a free one; secureio_listener_addr says it */
    if (server_open(&srv, "udp://127.0.0.1:0", skey, cpub) != 0)
        goto out;
    if ((rc = secureio_listener_addr(srv.listener, url, &url_len)) != 0) {
        fail("secureio_listener_addr", rc);
        goto out;
    }
    if (pthread_create(&t, NULL, server_thread, &srv) != 0) {
        fprintf(stderr, "udp_echo: pthread_create failed\n");
        goto out;
    }
    status = client_run(url, ckey, spub, NULL);
    pthread_join(t, &srv_rc);
    if (*(int *)srv_rc != 0)
        status = 1;
out:
    server_free(&srv);
    unlink(skey), unlink(spub), unlink(ckey), unlink(cpub), rmdir(dir);
    printf("udp_echo: %s\n", status == 0 ? "self-check passed" : "self-check FAILED");
    return status;
}

int main(int argc, char *argv[])
{
    char url[300];

    setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time, also into a file */
    if (argc == 1)
        return self_check();
    if (argc == 5 && strcmp(argv[1], "server") == 0) {
        server srv;
        snprintf(url, sizeof url, "udp://:%s", argv[2]); /* every address */
        int status = server_open(&srv, url, argv[3], argv[4]);
        if (status == 0)
            status = server_run(&srv, 0, -1);
        server_free(&srv);
        return status;
    }
    if (argc == 5 && strcmp(argv[1], "client") == 0) {
        snprintf(url, sizeof url, "udp://%s", argv[2]);
        return client_run(url, argv[3], argv[4], stdin);
    }
    fprintf(stderr, "usage: udp_echo server PORT KEYFILE AUTHKEYS\n"
                    "       udp_echo client HOST:PORT KEYFILE PEERPUB\n"
                    "       udp_echo                (self-check: both ends here)\n");
    return 2;
}
