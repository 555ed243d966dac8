/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secureio/engine.h — the secure session engine, sans-I/O.
 *
 * One engine is one session with one peer over one transport. It never
 * touches sockets, threads or clocks: the caller hands in what it received
 * and the current time, and takes out packets to send, messages and events,
 * and the time of the next deadline. The protocol: secureio(3), and
 * PROTOCOL.md in the package's documentation folder (share/doc/secureio/docs).
 *
 *   datagram transports (UDP): one packet per datagram; packets may be lost,
 *     reordered, duplicated or corrupted;
 *   stream transports (TCP, unix stream sockets, pipes): packets are framed
 *     with a 2-byte length; received bytes are handed in as they come.
 *
 * A loop around it:
 *
 *   secureio_engine_start(e, now);
 *   for (;;) {
 *       while (secureio_engine_poll(e, pkt, &len, now) == SECUREIO_OK && len > 0)
 *           transport_send(pkt, len);
 *       wait for input or until secureio_engine_deadline(e);
 *       secureio_engine_recv(e, input, input_len, now);   (calls on_message / on_event)
 *       secureio_engine_tick(e, now);                       (timers)
 *   }
 *
 * Times are milliseconds of a monotonic clock (any origin; they must never
 * go back). Messages are sent with secureio_engine_send(), which seals one record
 * straight into the caller's buffer. An engine is used by one thread at a
 * time.
 */
#ifndef SECUREIO_ENGINE_H
#define SECUREIO_ENGINE_H

#include <secureio/identity.h>
#include <secureio/secureio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- sizes */

#define SECUREIO_PROTOCOL_VERSION 1u
/* Record overhead: header (type, epoch, counter) and tag. */
#define SECUREIO_RECORD_HEADER_LEN 10u
#define SECUREIO_TAG_LEN 16u
/* A DATA frame's header: type, channel and length (varints), at most. */
#define SECUREIO_DATA_FRAME_MAX_HEADER 13u
#define SECUREIO_RECORD_OVERHEAD (SECUREIO_RECORD_HEADER_LEN + SECUREIO_TAG_LEN)
/* Stream transports prefix each packet with its 2-byte length. */
#define SECUREIO_STREAM_FRAME_HEADER 2u
#define SECUREIO_MIN_PACKET_LEN 256u
#define SECUREIO_MAX_PACKET_LEN 65535u
/* Defaults: a UDP datagram that fits 1500-byte links over IPv6. */
#define SECUREIO_DEFAULT_PACKET_LEN 1452u
#define SECUREIO_MIN_PSK_LEN 32u

/* --------------------------------------------------------------- events */

typedef enum secureio_event_type {
    /* The peer proved its identity; messages may be sent. */
    SECUREIO_EVENT_ESTABLISHED = 1,
    /* New keys from a fresh ephemeral exchange are in use (epoch in the event). */
    SECUREIO_EVENT_REKEYED,
    /* A packet was dropped: malformed, unauthentic, replayed, from an
     * unauthorized identity, or over a rate limit. The session goes on. */
    SECUREIO_EVENT_BAD_PACKET,
    /* The session ended: err says why (SECUREIO_ERR_TIMEOUT, _CLOSED, …). */
    SECUREIO_EVENT_CLOSED
} secureio_event_type;

/* Why a packet was dropped (SECUREIO_EVENT_BAD_PACKET). */
typedef enum secureio_drop_reason {
    SECUREIO_DROP_MALFORMED = 1, /* cannot be parsed, or an unknown type or version */
    SECUREIO_DROP_AUTH,          /* failed authentication (forged, corrupted, wrong key) */
    SECUREIO_DROP_REPLAY,        /* a counter already seen, or older than the window */
    SECUREIO_DROP_STALE,         /* a handshake packet for no handshake in progress */
    SECUREIO_DROP_PEER,          /* a valid signature from an identity not authorized */
    SECUREIO_DROP_RATE,          /* an expensive check refused by the rate limit */
    SECUREIO_DROP_NO_KEY,        /* a record for a key epoch we do not (or no longer) have */
    SECUREIO_DROP_OPTIONS        /* the peer's options do not agree with ours (e.g. PSK) */
} secureio_drop_reason;

/* A short static English phrase for a drop reason (never NULL). */
SECUREIO_API const char *secureio_drop_reason_str(int reason);

typedef struct secureio_event {
    secureio_event_type type;
    int err;         /* CLOSED: the reason */
    int drop_reason; /* BAD_PACKET: a secureio_drop_reason */
    uint32_t epoch;  /* ESTABLISHED, REKEYED: the key epoch now in use */
    /* ESTABLISHED: the peer's authenticated identity */
    uint8_t peer_key[SECUREIO_PUBLIC_KEY_LEN];
} secureio_event;

/* --------------------------------------------------------------- config */

/* Random bytes: returns 0, or non-zero on failure. */
typedef int (*secureio_rng_fn)(void *ctx, uint8_t *out, size_t len);
/*
 * A message: data is valid only during the call. Callbacks run inside the
 * engine's calls, on the calling thread; inside one, the application may
 * call secureio_engine_send, _max_message, _close, _state, _stats and
 * _peer_key on the same engine, and none of the others (recv, poll, tick,
 * start, rekey, free).
 */
typedef void (*secureio_message_fn)(void *user, uint32_t channel, const uint8_t *data, size_t len);
typedef void (*secureio_event_fn)(void *user, const secureio_event *ev);

#define SECUREIO_CONFIG_VERSION 1u

typedef struct secureio_config {
    uint32_t version; /* SECUREIO_CONFIG_VERSION */
    /* Our identity (borrowed: it must outlive the engine). */
    const secureio_identity *identity;
    /* Who may be the peer: a pinned key, a key list (borrowed), or, only
     * when accept_any_peer is 1, anyone. At least one must be set. */
    const uint8_t *peer_key;
    const secureio_keylist *allowed_peers;
    int accept_any_peer;
    /* Optional pre-shared key, at least SECUREIO_MIN_PSK_LEN bytes, mixed
     * into the key schedule; both sides must have the same one. Only a key
     * derived from it is kept: the caller's buffer may go once
     * secureio_engine_new() returns. */
    const uint8_t *psk;
    size_t psk_len;
    /* 1: a stream transport (length-framed packets). */
    int stream;
    /* Largest packet written (and read), 256..65535; 0: 1452. */
    uint32_t max_packet_len;
    /* Timers, in milliseconds; 0 takes the default. */
    uint64_t rekey_interval_ms;    /* 60000: a fresh ephemeral exchange */
    uint64_t handshake_timeout_ms; /* 60000: give up (CLOSED, SECUREIO_ERR_TIMEOUT) */
    uint64_t retransmit_ms;        /* 1000: first handshake retransmission, doubling to 8x */
    uint64_t key_grace_ms;         /* 10000: how long an old receive key stays valid */
    /* Expensive handshake operations (DH with a signature or its check)
     * allowed per second for packets not yet authenticated; 0: 50. */
    uint32_t handshake_rate;
    /* Randomness; NULL: the system's (libsodium). A fixed generator makes
     * the engine deterministic (test vectors, simulations). */
    secureio_rng_fn rng;
    void *rng_ctx;
    /* Callbacks (either may be NULL) and their argument. */
    secureio_message_fn on_message;
    secureio_event_fn on_event;
    void *user;
} secureio_config;

#define SECUREIO_CONFIG_INIT                                                                       \
    {                                                                                              \
        SECUREIO_CONFIG_VERSION, NULL, NULL, NULL, 0, NULL, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,    \
            NULL, NULL, NULL                                                                       \
    }

/* ------------------------------------------------------------- engine */

typedef struct secureio_engine secureio_engine;

typedef enum secureio_state {
    SECUREIO_STATE_NEW = 0,     /* made, not started */
    SECUREIO_STATE_HANDSHAKE,   /* key exchange in progress */
    SECUREIO_STATE_ESTABLISHED, /* messages flow (rekeys happen inside this state) */
    SECUREIO_STATE_CLOSED
} secureio_state;

/* Counters, for monitoring. */
typedef struct secureio_stats {
    uint64_t packets_in, packets_out, messages_in, messages_out;
    uint64_t dropped[9]; /* by secureio_drop_reason */
    uint64_t handshakes, rekeys;
    uint64_t cookies_sent;          /* hellos answered with a cookie (under load) */
    uint64_t stream_bytes_buffered; /* stream transports: a partial packet */
} secureio_stats;

/*
 * A new engine (state NEW) for cfg, which is copied (the objects it points
 * to are borrowed). SECUREIO_ERR_ARG names the first wrong field in
 * secureio_error_detail(), checked in this order: out, cfg, version,
 * identity, accept_any_peer (0 or 1), some peer allowed (peer_key,
 * allowed_peers or accept_any_peer), psk with psk_len, psk_len at least
 * SECUREIO_MIN_PSK_LEN, stream (0 or 1), max_packet_len in range.
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_new(secureio_engine **out,
                                                         const secureio_config *cfg);
/* Begins the key exchange (both sides may start at once). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_start(secureio_engine *e, uint64_t now_ms);

/*
 * Received input: one datagram, or (stream transports) the next bytes of
 * the stream in any split. Messages go to on_message and events to on_event
 * before it returns. A bad packet is dropped, counted and reported as an
 * event; the result is still SECUREIO_OK. Errors are for misuse, or a
 * stream whose framing is broken (the session is then closed).
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_recv(secureio_engine *e, const uint8_t *in,
                                                          size_t in_len, uint64_t now_ms);

/*
 * Seals one message on a channel into out as one packet, ready for the
 * transport (with the stream length prefix on stream transports).
 * *out_len: room on entry, packet length on return. SECUREIO_ERR_STATE
 * before the session is established, SECUREIO_ERR_LIMIT if the message does
 * not fit a packet (secureio_engine_max_message()).
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_send(secureio_engine *e, uint32_t channel,
                                                          const uint8_t *msg, size_t msg_len,
                                                          uint8_t *out, size_t *out_len,
                                                          uint64_t now_ms);
/* The largest message one packet carries on this channel. */
SECUREIO_API size_t secureio_engine_max_message(const secureio_engine *e, uint32_t channel);

/*
 * The next packet the engine wants sent (handshake, rekey, confirmation,
 * close): *out_len 0 when there is none. out needs the max packet length
 * (+2 on streams).
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_poll(secureio_engine *e, uint8_t *out,
                                                          size_t *out_len, uint64_t now_ms);

/* Runs the timers due at now_ms (retransmission, rekey, timeouts). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_tick(secureio_engine *e, uint64_t now_ms);
/* The next time tick() has work to do; UINT64_MAX when none. */
SECUREIO_API uint64_t secureio_engine_deadline(const secureio_engine *e);

/* Starts a rekey now (it also happens by itself on the rekey interval). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_rekey(secureio_engine *e, uint64_t now_ms);
/* Closes the session: a CLOSE record is queued for poll() when established. */
SECUREIO_API void secureio_engine_close(secureio_engine *e, uint64_t now_ms);

SECUREIO_API secureio_state secureio_engine_state(const secureio_engine *e);
SECUREIO_API void secureio_engine_stats(const secureio_engine *e, secureio_stats *stats);
/* The peer's identity once established (SECUREIO_ERR_STATE before). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_peer_key(const secureio_engine *e,
                                                              uint8_t pk[SECUREIO_PUBLIC_KEY_LEN]);
/* Wipes every key. */
SECUREIO_API void secureio_engine_free(secureio_engine *e);

#ifdef __cplusplus
}
#endif

#endif /* SECUREIO_ENGINE_H */
