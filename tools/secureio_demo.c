/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secureio-demo: what `make demo` runs first. Two endpoints of libsecureio
 * in one process, on loopback UDP, through the public session API
 * (secureio/session.h): two fresh identities; a listener and a client that
 * connects to it; the events as they happen (states, the handshake, the
 * peer's fingerprint, rekeys, the packet size); messages on several
 * channels, each with its own handler; a rekey every 300 ms while messages
 * keep flowing; a throughput measurement of about a second; a graceful
 * close. Exits 0 when everything arrived as it should, 1 otherwise.
 */
#define _GNU_SOURCE

#include <secureio/session.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REKEY_MS 300 /* the default is 60000: short here to see rekeys */
#define CH_CHAT 1
#define CH_METRICS 2
#define CH_BULK 3
#define CH_FLOW 4
#define CH_SPEED 5

/* One endpoint: its name (the events' user), its session, what its
 * handlers counted (they run on the session's loop thread). */
typedef struct side {
    const char *name;
    secureio_session *s;
    atomic_uint_fast64_t chat, flow, speed_msgs, speed_bytes, bulk_ok;
} side;

static side server = {.name = "server"}, client = {.name = "client"};
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static double t0;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, int rc)
{
    const char *detail = secureio_error_detail();
    fprintf(stderr, "secureio-demo: %s: %s%s%s\n", what, secureio_strerror(rc),
            detail[0] ? ": " : "", detail);
    return 1;
}

static const char *state_name(secureio_state st)
{
    static const char *const names[] = {"NEW",         "HANDSHAKE", "NEGOTIATING",
                                        "ESTABLISHED", "CLOSING",   "CLOSED"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

static const char *fingerprint(const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    static _Thread_local char fp[SECUREIO_FINGERPRINT_LEN];
    secureio_public_key_fingerprint(pk, fp);
    return fp;
}

/* ------------------------------------------------------------- events */

/* Both sides' events, on their loop threads, as they happen. */
static void on_event(void *user, const secureio_event *ev)
{
    const side *sd = user;
    printf("  %6.3f s  [%s] ", now_s() - t0, sd->name);
    switch (ev->type) {
    case SECUREIO_EVENT_STATE: printf("state %s\n", state_name(ev->state)); break;
    case SECUREIO_EVENT_ESTABLISHED:
        printf("established: peer %s, key epoch %u\n", fingerprint(ev->peer_key), ev->epoch);
        break;
    case SECUREIO_EVENT_REKEYED: printf("rekeyed: key epoch %u\n", ev->epoch); break;
    case SECUREIO_EVENT_PACKET_SIZE: printf("packet size %u bytes\n", ev->packet_size); break;
    case SECUREIO_EVENT_BAD_PACKET:
        printf("packet dropped: %s\n", secureio_drop_reason_str(ev->drop_reason));
        break;
    case SECUREIO_EVENT_CLOSED:
        printf("closed: %s\n", ev->err == SECUREIO_OK           ? "we closed it"
                               : ev->err == SECUREIO_ERR_CLOSED ? "the peer closed it"
                                                                : secureio_strerror(ev->err));
        break;
    default: printf("event %d\n", (int)ev->type);
    }
}

/* ----------------------------------------------------------- handlers */

/* Channel 1, chat: print it; the server answers on the same channel (an
 * asynchronous, copied write: a handler must not wait). */
static void on_chat(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    side *sd = user;
    char answer[256];
    printf("           [%s] channel %u (chat): \"%.*s\"\n", sd->name, channel, (int)len,
           (const char *)data);
    if (sd == &server) {
        int n = snprintf(answer, sizeof answer, "ok: %.*s", (int)len, (const char *)data);
        int rc = secureio_write_message_cb(sd->s, channel, answer, (size_t)n, SECUREIO_WRITE_COPY,
                                           NULL, NULL);
        if (rc != SECUREIO_OK)
            fail("the server's answer", rc);
    }
    atomic_fetch_add(&sd->chat, 1);
}

/* Channel 2, metrics: a small binary record. */
static void on_metrics(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    side *sd = user;
    uint32_t v[3];
    if (len != sizeof v)
        return;
    memcpy(v, data, sizeof v);
    printf("           [%s] channel %u (metrics): cpu %u%%, rss %u MiB, conns %u\n", sd->name,
           channel, v[0], v[1], v[2]);
}

/* Channel 3, bulk: a large message, fragmented and reassembled. */
static void on_bulk(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    side *sd = user;
    int ok = len == 256 * 1024;
    for (size_t i = 0; ok && i < len; i++)
        ok = data[i] == (uint8_t)(i * 7 + 3);
    printf("           [%s] channel %u (bulk): one message of %zu bytes, content %s\n", sd->name,
           channel, len, ok ? "intact" : "WRONG");
    if (ok)
        atomic_fetch_add(&sd->bulk_ok, 1);
}

/* Channel 4 (a steady flow across rekeys) and 5 (throughput): counted. */
static void on_flow(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    (void)channel, (void)data, (void)len;
    atomic_fetch_add(&((side *)user)->flow, 1);
}

static void on_speed(void *user, uint32_t channel, const uint8_t *data, size_t len)
{
    side *sd = user;
    (void)channel, (void)data;
    atomic_fetch_add(&sd->speed_msgs, 1);
    atomic_fetch_add(&sd->speed_bytes, len);
}

/* The listener hands over an authenticated session: set its handlers here,
 * on the loop's thread, before its first message can arrive (a session
 * taken later with secureio_accept may already have dropped messages for
 * channels without a handler). */
static void on_accept(void *user, secureio_session *s, const uint8_t peer_key[32])
{
    (void)user;
    printf("  %6.3f s  [server] session accepted: peer %s\n", now_s() - t0, fingerprint(peer_key));
    server.s = s;
    if (secureio_session_set_handler(s, CH_CHAT, on_chat, &server) != 0 ||
        secureio_session_set_handler(s, CH_METRICS, on_metrics, &server) != 0 ||
        secureio_session_set_handler(s, CH_BULK, on_bulk, &server) != 0 ||
        secureio_session_set_handler(s, CH_FLOW, on_flow, &server) != 0 ||
        secureio_session_set_handler(s, CH_SPEED, on_speed, &server) != 0)
        fprintf(stderr, "secureio-demo: setting the server's handlers failed\n");
    pthread_mutex_lock(&mu);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Waits until *counter reaches want, at most secs. */
static int wait_count(atomic_uint_fast64_t *counter, uint64_t want, double secs)
{
    double end = now_s() + secs;
    while (atomic_load(counter) < want) {
        if (now_s() > end)
            return -1;
        usleep(1000);
    }
    return 0;
}

/* ------------------------------------------------------------ phases */

static int exchange(void)
{
    static const char *const lines[] = {"hello, server", "three channels, one session",
                                        "each with its handler"};
    uint32_t metrics[3] = {12, 48, 3};
    static uint8_t bulk[256 * 1024];
    int rc;

    printf("\n3. messages on three channels, each with its own handler\n");
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if ((rc = secureio_write_message(client.s, CH_CHAT, lines[i], strlen(lines[i]))) != 0)
            return fail("chat", rc);
    if ((rc = secureio_write_message(client.s, CH_METRICS, metrics, sizeof metrics)) != 0)
        return fail("metrics", rc);
    for (size_t i = 0; i < sizeof bulk; i++)
        bulk[i] = (uint8_t)(i * 7 + 3);
    if ((rc = secureio_write_message(client.s, CH_BULK, bulk, sizeof bulk)) != 0)
        return fail("bulk", rc);
    if (wait_count(&client.chat, 3, 5) != 0 || wait_count(&server.bulk_ok, 1, 5) != 0) {
        fprintf(stderr, "secureio-demo: messages or answers missing\n");
        return 1;
    }
    return 0;
}

static int flow_across_rekeys(void)
{
    secureio_session_stats a, b;
    const int n = 150;
    int rc;

    secureio_session_stats_get(client.s, &a);
    printf("\n4. %d messages over 1.5 s on channel %d while the keys change every %d ms\n", n,
           CH_FLOW, REKEY_MS);
    for (int i = 0; i < n; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "flow %d", i);
        if ((rc = secureio_write_message(client.s, CH_FLOW, msg, (size_t)len)) != 0)
            return fail("flow", rc);
        usleep(10000);
    }
    if (wait_count(&server.flow, (uint64_t)n, 3) != 0) {
        fprintf(stderr, "secureio-demo: %d of %d messages arrived across the rekeys\n",
                (int)atomic_load(&server.flow), n);
        return 1;
    }
    secureio_session_stats_get(client.s, &b);
    printf("   %d sent, %d received, none lost; the client's rekeys meanwhile: %llu\n", n,
           (int)atomic_load(&server.flow), (unsigned long long)(b.engine.rekeys - a.engine.rekeys));
    if (b.engine.rekeys == a.engine.rekeys) {
        fprintf(stderr, "secureio-demo: no rekey happened\n");
        return 1;
    }
    return 0;
}

/* As many one-packet messages as the receiver takes, for about a second.
 * UDP has no flow control of its own: the sender keeps at most WINDOW
 * messages ahead of what the receiver has counted (both are in this
 * process; a real sender would pace itself by the peer's answers). */
static int throughput(void)
{
    enum { WINDOW = 128 };
    size_t len = secureio_session_max_message(client.s, CH_SPEED);
    static uint8_t msg[SECUREIO_MAX_PACKET_LEN];
    uint64_t sent = 0;
    int rc;

    if (len == 0 || len > sizeof msg)
        return fail("max_message", SECUREIO_ERR_STATE);
    memset(msg, 0x5a, len);
    printf("\n5. throughput: %zu-byte messages (one per packet) for 1 s\n", len);
    double start = now_s(), end = start + 1.0, stall = 0;
    while (now_s() < end) {
        uint64_t got = atomic_load(&server.speed_msgs);
        if (sent - got >= WINDOW) { /* wait for the receiver, or call it lost after 5 ms */
            if (stall == 0)
                stall = now_s();
            if (now_s() - stall < 0.005) {
                sched_yield();
                continue;
            }
        }
        stall = 0;
        /* asynchronous, borrowed: msg never changes */
        rc = secureio_write_message_cb(client.s, CH_SPEED, msg, len, 0, NULL, NULL);
        if (rc == SECUREIO_ERR_AGAIN) { /* the send queue is full */
            sched_yield();
            continue;
        }
        if (rc != SECUREIO_OK)
            return fail("throughput write", rc);
        sent++;
    }
    double secs = now_s() - start;
    uint64_t msgs = atomic_load(&server.speed_msgs), bytes = atomic_load(&server.speed_bytes);
    usleep(200000); /* what is still on its way */
    uint64_t late = atomic_load(&server.speed_msgs);
    printf("   received %llu messages in %.2f s: %.1f MB/s, %.0f messages/s (%llu sent, %llu "
           "lost: UDP does not resend)\n",
           (unsigned long long)msgs, secs, (double)bytes / secs / 1e6, (double)msgs / secs,
           (unsigned long long)sent, (unsigned long long)(sent - late));
    return msgs > 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

int main(void)
{
    secureio_identity *sid = NULL, *cid = NULL;
    secureio_listener *l = NULL;
    uint8_t spk[SECUREIO_PUBLIC_KEY_LEN], cpk[SECUREIO_PUBLIC_KEY_LEN];
    char url[128];
    size_t url_len = sizeof url;
    int rc, status = 1;

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order with the events' */
    t0 = now_s();
    printf("secureio %s: two endpoints on loopback UDP\n", secureio_version());

    printf("\n1. two fresh Ed25519 identities\n");
    if ((rc = secureio_identity_generate(&sid)) != 0 ||
        (rc = secureio_identity_generate(&cid)) != 0) {
        fail("identities", rc);
        goto out;
    }
    secureio_identity_public_key(sid, spk);
    secureio_identity_public_key(cid, cpk);
    printf("   server %s\n", fingerprint(spk));
    printf("   client %s\n", fingerprint(cpk));

    printf("\n2. the server listens; the client, which knows its key, connects\n");
    secureio_session_options so = SECUREIO_SESSION_OPTIONS_INIT;
    so.identity = sid;
    so.peer_key = cpk; /* the one peer it accepts (or allowed_peers, accept_any_peer) */
    so.rekey_interval_ms = REKEY_MS;
    so.on_event = on_event;
    so.user = &server;
    if ((rc = secureio_listen(&l, "udp://127.0.0.1:0", &so, on_accept, NULL)) != 0 ||
        (rc = secureio_listener_addr(l, url, &url_len)) != 0) {
        fail("secureio_listen", rc);
        goto out;
    }
    printf("   server listening on %s\n", url);
    secureio_session_options co = SECUREIO_SESSION_OPTIONS_INIT;
    co.identity = cid;
    co.peer_key = spk; /* pinned: the client starts the handshake */
    co.rekey_interval_ms = REKEY_MS;
    co.handshake_timeout_ms = 10000;
    co.on_event = on_event;
    co.user = &client;
    if ((rc = secureio_session_connect(&client.s, url, &co)) != 0) {
        fail("secureio_session_connect", rc);
        goto out;
    }
    if ((rc = secureio_session_set_handler(client.s, CH_CHAT, on_chat, &client)) != 0 ||
        (rc = secureio_session_wait_state(client.s, SECUREIO_STATE_ESTABLISHED, 10000)) != 0) {
        fail("the handshake", rc);
        goto out;
    }
    pthread_mutex_lock(&mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    while (server.s == NULL) /* on_accept sets it */
        if (pthread_cond_timedwait(&cv, &mu, &until) != 0)
            break;
    pthread_mutex_unlock(&mu);
    if (server.s == NULL) {
        fprintf(stderr, "secureio-demo: the server accepted no session\n");
        goto out;
    }

    if (exchange() != 0 || flow_across_rekeys() != 0 || throughput() != 0)
        goto out;

    printf("\n6. a graceful close: the client's queue goes out, then an authenticated CLOSE\n");
    /* the server's counters now: once a listener's UDP session has ended,
     * its engine is gone and its counters read 0 */
    secureio_session_stats cs, ss;
    secureio_session_stats_get(server.s, &ss);
    int rc_client = secureio_session_close_wait(client.s, 5000);
    /* the server waits for the client's CLOSE (close_wait would close it
     * from this side too), then asks how it ended */
    int rc_server = secureio_session_wait_state(server.s, SECUREIO_STATE_CLOSED, 5000);
    if (rc_server == SECUREIO_OK)
        rc_server = secureio_session_close_wait(server.s, 0);
    secureio_session_stats_get(client.s, &cs);
    printf("   client: %s (%s); %llu packets out, %llu in; %llu rekeys\n",
           state_name(secureio_session_state(client.s)),
           rc_client == SECUREIO_OK ? "closed it" : secureio_strerror(rc_client),
           (unsigned long long)cs.engine.packets_out, (unsigned long long)cs.engine.packets_in,
           (unsigned long long)cs.engine.rekeys);
    printf(
        "   server: %s (%s); %llu packets in, %llu messages in; %llu rekeys (before the close)\n",
        state_name(secureio_session_state(server.s)),
        rc_server == SECUREIO_ERR_CLOSED ? "the peer closed it" : secureio_strerror(rc_server),
        (unsigned long long)ss.engine.packets_in, (unsigned long long)ss.engine.messages_in,
        (unsigned long long)ss.engine.rekeys);
    if (rc_client != SECUREIO_OK || rc_server != SECUREIO_ERR_CLOSED)
        goto out;
    status = 0;
out:
    secureio_session_free(client.s);
    secureio_session_free(server.s);
    secureio_listener_free(l);
    secureio_identity_free(cid);
    secureio_identity_free(sid);
    printf("\nsecureio-demo: %s\n", status == 0 ? "all steps succeeded" : "FAILED");
    return status;
}
