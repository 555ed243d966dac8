/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secureio/acceptor.h — many peers on one datagram socket, sans-I/O.
 *
 * An acceptor answers the hellos that reach one socket, as a WireGuard
 * interface does: statelessly, with one secret and one rate limiter for
 * all, so the cost of unauthenticated packets is bounded per process and
 * not per session (under load every hello gets a cookie). It makes a
 * session - an ordinary secureio_engine - only for an AUTH_I it has
 * verified, and routes each record to its session by the receiver index in
 * the record's header, chosen in the handshake. A peer therefore keeps its
 * session when its address changes (NAT rebinding, roaming): the acceptor
 * learns the new address from the first authenticated record that comes
 * from it, sends there from then on, tells the caller (on_address) and
 * starts a new path size search.
 *
 * Addresses are opaque bytes to the acceptor (a struct sockaddr_storage,
 * say), at most SECUREIO_ADDR_MAX of them, compared byte for byte.
 *
 *   secureio_acceptor_recv(a, datagram, len, &from, fromlen, now);
 *   while (secureio_acceptor_poll(a, pkt, &len, &to, &tolen, now) == SECUREIO_OK && len > 0)
 *       sendto(fd, pkt, len, 0, &to, tolen);
 *   ... wait for input or until secureio_acceptor_deadline(a); secureio_acceptor_tick(a, now);
 *
 * Sessions are engines: write to them, set their handlers and callbacks
 * (secureio_engine_set_callbacks), read their state and counters. Do not
 * call their recv, poll, tick, start or free: the acceptor does. A session
 * that closes (either side, a timeout) is freed by the acceptor once its
 * last packet is out, after on_session_end. An acceptor and its sessions
 * are used by one thread at a time. Acceptors only answer: a client uses an
 * engine with the server's key pinned (engine.h).
 */
#ifndef SECUREIO_ACCEPTOR_H
#define SECUREIO_ACCEPTOR_H

#include <secureio/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SECUREIO_ADDR_MAX 128u /* sizeof(struct sockaddr_storage) */

typedef struct secureio_acceptor secureio_acceptor;

/* A new session with the peer whose identity is peer_key (verified), at
 * addr: set its callbacks (secureio_engine_set_callbacks) and handlers
 * here, before its first event (ESTABLISHED comes right after this call);
 * it may be written to at once (the messages leave once it is up). */
typedef void (*secureio_session_fn)(void *user, secureio_engine *session,
                                    const uint8_t peer_key[SECUREIO_PUBLIC_KEY_LEN],
                                    const void *addr, size_t addr_len);
/* A session is about to be freed (it closed: secureio_engine_stats and its
 * CLOSED event say why). The pointer is invalid after the call. */
typedef void (*secureio_session_end_fn)(void *user, secureio_engine *session);
/* A session's peer sends from a new address (the acceptor sends there now). */
typedef void (*secureio_address_fn)(void *user, secureio_engine *session, const void *addr,
                                    size_t addr_len);

#define SECUREIO_ACCEPTOR_CONFIG_VERSION 1u

typedef struct secureio_acceptor_config {
    uint32_t version; /* SECUREIO_ACCEPTOR_CONFIG_VERSION */
    /* Our identity (borrowed: it must outlive the acceptor). */
    const secureio_identity *identity;
    /* Who may connect: a key list (borrowed), or anyone (accept_any_peer 1). */
    const secureio_keylist *allowed_peers;
    int accept_any_peer;
    /* Optional pre-shared key (at least SECUREIO_MIN_PSK_LEN bytes), the
     * same for every peer; only a key derived from it is kept. */
    const uint8_t *psk;
    size_t psk_len;
    /* At most this many sessions at once (0: 1024; at most 2^24); an AUTH_I
     * beyond is dropped (SECUREIO_DROP_RATE). Sessions of one identity may
     * coexist: a peer that restarts gets a new session, and the old one
     * ends by its own timers (or close it in on_session). */
    uint32_t max_sessions;
    /* Handshakes answered per second, for all peers (0: 200), and for each
     * source once the server is under load (0: handshake_rate / 8, at least
     * 1): one source cannot take the others' share. A source is the IPv4
     * address or IPv6 /64 of a struct sockaddr_in or sockaddr_in6 address
     * (whatever its port), else the whole address. */
    uint32_t handshake_rate;
    uint32_t source_rate;
    /* Each session's configuration (NULL: the defaults): timers, limits,
     * callbacks and user. Its identity, peers, psk and stream fields are
     * ignored (sessions are datagram responders); the rest is checked as
     * secureio_engine_new() checks it. Copied. Its callbacks, if set, serve
     * every session with the same user and cannot tell sessions apart: set
     * each session's own in on_session. */
    const secureio_config *session;
    /* Randomness; NULL: the system's. */
    secureio_rng_fn rng;
    void *rng_ctx;
    /* Callbacks (any may be NULL) and their argument. on_event gets the
     * acceptor's own events: BAD_PACKET for handshake packets and records
     * for no session. */
    secureio_session_fn on_session;
    secureio_session_end_fn on_session_end;
    secureio_address_fn on_address;
    secureio_event_fn on_event;
    void *user;
} secureio_acceptor_config;

#define SECUREIO_ACCEPTOR_CONFIG_INIT                                                              \
    {                                                                                              \
        SECUREIO_ACCEPTOR_CONFIG_VERSION, NULL, NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, \
            NULL, NULL, NULL, NULL                                                                 \
    }

typedef struct secureio_acceptor_counters {
    uint64_t packets_in, packets_out;
    uint64_t hellos, cookies_sent, answers_dropped;
    uint64_t sessions_made, sessions_ended, sessions_refused; /* refused: over max_sessions */
    uint64_t address_changes;
    uint64_t dropped[SECUREIO_DROP_REASON_COUNT]; /* by the acceptor itself */
    uint64_t sessions;                            /* now */
} secureio_acceptor_counters;

/* SECUREIO_ERR_ARG names the first wrong field in secureio_error_detail(). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_acceptor_new(secureio_acceptor **out,
                                                           const secureio_acceptor_config *cfg,
                                                           uint64_t now_us);
/* One datagram from addr. Bad packets are dropped and counted (SECUREIO_OK). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_acceptor_recv(secureio_acceptor *a,
                                                            const uint8_t *pkt, size_t len,
                                                            const void *addr, size_t addr_len,
                                                            uint64_t now_us);
/* The next datagram to send and where: *out_len room on entry (at least
 * the sessions' max_packet_len), the length on return (0: none now);
 * *addr_len room on entry (at least SECUREIO_ADDR_MAX), the address's
 * length on return. SECUREIO_ERR_BUFFER: *out_len or *addr_len too small
 * (they then say what is needed). Sessions that closed are freed here,
 * once their last packet is out (on_session_end first). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_acceptor_poll(secureio_acceptor *a, uint8_t *out,
                                                            size_t *out_len, void *addr,
                                                            size_t *addr_len, uint64_t now_us);
SECUREIO_API SECUREIO_MUST_CHECK int secureio_acceptor_tick(secureio_acceptor *a, uint64_t now_us);
/* The next time tick() has work, or 0 when poll() has packets now
 * (UINT64_MAX: nothing). Scans the sessions. */
SECUREIO_API uint64_t secureio_acceptor_deadline(const secureio_acceptor *a);
SECUREIO_API void secureio_acceptor_stats(const secureio_acceptor *a,
                                          secureio_acceptor_counters *stats);
/* Closes every session at once (their CLOSE records come out of poll(),
 * which then ends them) and makes no new one. */
SECUREIO_API void secureio_acceptor_close(secureio_acceptor *a, uint64_t now_us);
/* Frees the acceptor and every session left (on_session_end for each; no
 * packet goes out: call secureio_acceptor_close and poll first to say
 * goodbye). Inside the acceptor's callbacks, the application may use the
 * session it is given (as an engine's callback rules allow) and must not
 * call the acceptor's recv, poll, tick, close or free. */
SECUREIO_API void secureio_acceptor_free(secureio_acceptor *a);

#ifdef __cplusplus
}
#endif

#endif /* SECUREIO_ACCEPTOR_H */
