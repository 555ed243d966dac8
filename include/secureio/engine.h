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
 * Messages go through a bounded send queue: secureio_engine_write() queues
 * a message on a channel, secureio_engine_poll() packs queued messages into
 * records (several small ones per packet, a large one cut into fragments)
 * and hands out the packets to send. A loop around it:
 *
 *   secureio_engine_start(e, now);
 *   for (;;) {
 *       while (secureio_engine_poll(e, pkt, &len, now) == SECUREIO_OK && len > 0)
 *           transport_send(pkt, len);
 *       wait for input or until secureio_engine_deadline(e);
 *       secureio_engine_recv(e, input, input_len, now);   (calls the handlers)
 *       secureio_engine_tick(e, now);                       (timers)
 *   }
 *
 * Times are microseconds of a monotonic clock (any origin; they must never
 * go back); configured intervals are in milliseconds unless their name
 * says otherwise. An engine is used by one thread at a time.
 */
#ifndef SECUREIO_ENGINE_H
#define SECUREIO_ENGINE_H

#include <secureio/identity.h>
#include <secureio/secureio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- sizes */

#define SECUREIO_PROTOCOL_VERSION 2u
/* Record overhead: header (type, epoch, receiver index, counter) and tag. */
#define SECUREIO_RECORD_HEADER_LEN 14u
#define SECUREIO_TAG_LEN 16u
#define SECUREIO_RECORD_OVERHEAD (SECUREIO_RECORD_HEADER_LEN + SECUREIO_TAG_LEN)
/* Stream transports prefix each packet with its 2-byte length. */
#define SECUREIO_STREAM_FRAME_HEADER 2u
#define SECUREIO_MIN_PACKET_LEN 512u
#define SECUREIO_MAX_PACKET_LEN 65535u
/* Datagrams: the size every path is assumed to carry (RFC 8899's base,
 * QUIC's minimum), where path size discovery starts; its default ceiling
 * (a 1500-byte link under IPv6 and UDP). Streams: the default packet size. */
#define SECUREIO_BASE_PACKET_LEN 1200u
#define SECUREIO_DEFAULT_PACKET_LEN 1452u
#define SECUREIO_DEFAULT_STREAM_PACKET_LEN 16384u
#define SECUREIO_MIN_PSK_LEN 32u

/* Channels 0 .. SECUREIO_CHANNEL_MAX, and the default read/write channel. */
#define SECUREIO_CHANNEL_MAX 0x7fffffffu
#define SECUREIO_CHANNEL_DEFAULT 0x80000000u
/* The largest message (fragmented across packets), and the default limit. */
#define SECUREIO_MAX_MESSAGE_LEN 0xffffffffu
#define SECUREIO_DEFAULT_MAX_MESSAGE_LEN (16u << 20)

/* --------------------------------------------------------------- events */

typedef enum secureio_state {
    SECUREIO_STATE_NEW = 0,     /* made, not started */
    SECUREIO_STATE_HANDSHAKE,   /* key exchange in progress (writes are queued) */
    SECUREIO_STATE_NEGOTIATING, /* established; the first path size search runs (data flows) */
    SECUREIO_STATE_ESTABLISHED, /* messages flow (rekeys happen inside this state) */
    SECUREIO_STATE_CLOSING,     /* a graceful close: what is queued goes out, then CLOSE */
    SECUREIO_STATE_CLOSED
} secureio_state;

typedef enum secureio_event_type {
    /* The peer proved its identity; messages flow. */
    SECUREIO_EVENT_ESTABLISHED = 1,
    /* New keys from a fresh ephemeral exchange are in use (epoch in the event). */
    SECUREIO_EVENT_REKEYED,
    /* A packet was dropped: malformed, unauthentic, replayed, from an
     * unauthorized identity, or over a rate limit. The session goes on. */
    SECUREIO_EVENT_BAD_PACKET,
    /* The session ended: err says why (SECUREIO_OK for a close, or
     * SECUREIO_ERR_TIMEOUT, _CLOSED, _KEY_EXPIRED, ...). */
    SECUREIO_EVENT_CLOSED,
    /* The state changed (state in the event). */
    SECUREIO_EVENT_STATE,
    /* The packet size changed (path size discovery; packet_size in the event). */
    SECUREIO_EVENT_PACKET_SIZE
} secureio_event_type;

/* Why a packet was dropped (SECUREIO_EVENT_BAD_PACKET). */
typedef enum secureio_drop_reason {
    SECUREIO_DROP_MALFORMED = 1, /* cannot be parsed, or an unknown type or version */
    SECUREIO_DROP_AUTH,          /* failed authentication (forged, corrupted, wrong key) */
    SECUREIO_DROP_REPLAY,        /* a counter already seen, or older than the window; an
                                    AUTH_I whose hello made a session already */
    SECUREIO_DROP_STALE,         /* a handshake packet for no handshake in progress */
    SECUREIO_DROP_PEER,          /* a valid signature from an identity not authorized (or ours) */
    SECUREIO_DROP_RATE,          /* an expensive check refused by the rate limit */
    SECUREIO_DROP_NO_KEY,        /* a record for a key epoch we do not (or no longer) have */
    SECUREIO_DROP_OPTIONS,       /* the peer's options do not agree with ours (e.g. PSK) */
    SECUREIO_DROP_NOT_FOR_US,    /* a hello without proof it knows our public key, a record
                                    for another receiver index */
    SECUREIO_DROP_FRAGMENT,      /* an authentic message over max_message_len, or a
                                    fragment that breaks the limits or its message */
    SECUREIO_DROP_REASON_COUNT
} secureio_drop_reason;

/* A short static English phrase for a drop reason (never NULL). */
SECUREIO_API const char *secureio_drop_reason_str(int reason);

typedef struct secureio_event {
    secureio_event_type type;
    int err;              /* CLOSED: the reason */
    int drop_reason;      /* BAD_PACKET: a secureio_drop_reason */
    uint32_t epoch;       /* ESTABLISHED, REKEYED: the key epoch now in use */
    secureio_state state; /* STATE: the new state */
    uint32_t packet_size; /* PACKET_SIZE: the new size */
    /* ESTABLISHED: the peer's authenticated identity; BAD_PACKET with
     * SECUREIO_DROP_PEER: the identity that was refused (has_peer_key) */
    int has_peer_key;
    uint8_t peer_key[SECUREIO_PUBLIC_KEY_LEN];
} secureio_event;

/* --------------------------------------------------------------- config */

/* Random bytes: returns 0, or non-zero on failure. */
typedef int (*secureio_rng_fn)(void *ctx, uint8_t *out, size_t len);
/*
 * A message: data is valid only during the call. Callbacks run inside the
 * engine's calls, on the calling thread; inside one, the application may
 * call secureio_engine_write, _set_handler, _set_callbacks, _max_message,
 * _close, _close_now, _path_changed, _deadline, _state, _stats and
 * _peer_key on the same engine, and none of the others (recv, poll, tick,
 * start, rekey, free). After a CLOSED event no other event comes.
 */
typedef void (*secureio_message_fn)(void *user, uint32_t channel, const uint8_t *data, size_t len);
typedef void (*secureio_event_fn)(void *user, const secureio_event *ev);
/* A write is done: err SECUREIO_OK once the message is sealed and handed
 * out by poll() (len bytes), or why it never will be (SECUREIO_ERR_CLOSED:
 * the session closed first). Called exactly once per accepted write, from
 * inside the engine call that decided it: poll(), or whatever closed the
 * session (recv, tick, close, close_now, free; for an acceptor's session,
 * the acceptor's calls). The callback rules above apply; from free() the
 * engine is already closed (a new write answers SECUREIO_ERR_CLOSED). */
typedef void (*secureio_done_fn)(void *arg, int err, size_t len);

#define SECUREIO_CONFIG_VERSION 2u

typedef struct secureio_config {
    uint32_t version; /* SECUREIO_CONFIG_VERSION */
    /* Our identity (borrowed: it must outlive the engine). */
    const secureio_identity *identity;
    /* Who may be the peer: a pinned key, a key list (borrowed), or, only
     * when accept_any_peer is 1, anyone. At least one must be set. Only an
     * engine with a pinned peer_key starts handshakes: a hello must prove it
     * knows the responder's public key (so that an engine's identity is
     * hidden from anyone who does not know it already); the others answer. */
    const uint8_t *peer_key;
    const secureio_keylist *allowed_peers;
    int accept_any_peer;
    /* Optional pre-shared key, at least SECUREIO_MIN_PSK_LEN bytes, mixed
     * into the key schedule; both sides must have the same one. Only a key
     * derived from it is kept: the caller's buffer may go once
     * secureio_engine_new() returns. */
    const uint8_t *psk;
    size_t psk_len;
    /* 1: a stream transport (length-framed packets, no path size search). */
    int stream;
    /* Largest packet written and read, SECUREIO_MIN_PACKET_LEN..65535; 0: 1452
     * for datagrams (path size discovery searches up to it), 16384 for
     * streams. */
    uint32_t max_packet_len;
    /* Timers, in milliseconds; 0 takes the default. */
    uint64_t rekey_interval_ms;    /* 60000: a fresh ephemeral exchange */
    uint64_t key_lifetime_ms;      /* rekey_interval + the longer of 2 x rekey_interval and
                                      handshake_timeout (180 s): no rekey by then closes
                                      the session (SECUREIO_ERR_KEY_EXPIRED) */
    uint64_t handshake_timeout_ms; /* 60000: give up (CLOSED, SECUREIO_ERR_TIMEOUT) */
    uint64_t retransmit_ms;        /* 1000: first handshake retransmission, doubling to 8x */
    uint64_t key_grace_ms;         /* 10000: how long an old receive key stays valid */
    uint64_t idle_timeout_ms;      /* 0: off; else nothing received for this long closes */
    uint64_t keepalive_ms;         /* 0: off; else a record after this long without sending */
    /* Expensive handshake operations (DH with a signature or its check)
     * allowed per second for packets not yet authenticated; 0: 50. */
    uint32_t handshake_rate;
    /* The send queue: at most send_queue_len messages (0: 1024), and for
     * copied writes at most send_queue_bytes of copies (0: 1 MiB). A full
     * queue answers SECUREIO_ERR_AGAIN: nothing grows. */
    uint32_t send_queue_len;
    uint64_t send_queue_bytes;
    /* How long asynchronous writes may wait to share a packet, in
     * microseconds (default 50; SECUREIO_SEND_DELAY_OFF: none). A full
     * packet and a synchronous write go at once. */
    uint64_t send_delay_us;
    /* Messages: the largest one sent or received (0: 16 MiB; up to
     * SECUREIO_MAX_MESSAGE_LEN), the bytes of partial messages held at once
     * (0: 64 MiB), and how long a partial message may wait for its
     * fragments (0: 30000 ms). */
    uint64_t max_message_len;
    uint64_t max_reassembly_bytes;
    uint64_t fragment_timeout_ms;
    /* Randomness; NULL: the system's (libsodium). A fixed generator makes
     * the engine deterministic (test vectors, simulations). */
    secureio_rng_fn rng;
    void *rng_ctx;
    /* Callbacks (either may be NULL) and their argument: on_message gets
     * the messages of channels without a handler of their own. */
    secureio_message_fn on_message;
    secureio_event_fn on_event;
    void *user;
} secureio_config;

#define SECUREIO_SEND_DELAY_OFF UINT64_MAX

#define SECUREIO_CONFIG_INIT                                                                       \
    {                                                                                              \
        SECUREIO_CONFIG_VERSION, NULL, NULL, NULL, 0, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
            0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL                                               \
    }

/* ------------------------------------------------------------- engine */

typedef struct secureio_engine secureio_engine;

/* Counters, for monitoring. */
typedef struct secureio_stats {
    uint64_t packets_in, packets_out, bytes_in, bytes_out;
    uint64_t messages_in, messages_out, fragments_in, fragments_out;
    uint64_t dropped[SECUREIO_DROP_REASON_COUNT]; /* by secureio_drop_reason */
    uint64_t handshakes, rekeys;
    uint64_t cookies_sent;                  /* hellos answered with a cookie (under load) */
    uint64_t messages_expired;              /* partial messages whose fragments did not all come */
    uint64_t queued_messages, queued_bytes; /* in the send queue now */
    uint64_t reassembly_bytes;              /* held for partial messages now */
    uint64_t stream_bytes_buffered;         /* stream transports: a partial packet */
    uint32_t packet_size;                   /* the current packet size */
} secureio_stats;

/*
 * A new engine (state NEW) for cfg, which is copied (the objects it points
 * to are borrowed). SECUREIO_ERR_ARG names the first wrong field in
 * secureio_error_detail(), checked in this order: out, cfg, version,
 * identity, accept_any_peer (0 or 1), some peer allowed (peer_key,
 * allowed_peers or accept_any_peer), psk with psk_len, psk_len at least
 * SECUREIO_MIN_PSK_LEN, stream (0 or 1), max_packet_len in range,
 * max_message_len in range, max_reassembly_bytes not below
 * max_message_len, key_lifetime_ms (when set) above rekey_interval_ms.
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_new(secureio_engine **out,
                                                         const secureio_config *cfg);
/* Begins the session: an engine with a pinned peer sends its hello (both
 * sides may start at once); the others wait for one. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_start(secureio_engine *e, uint64_t now_us);

/*
 * Received input: one datagram, or (stream transports) the next bytes of
 * the stream in any split. Messages go to the handlers and events to
 * on_event before it returns. A bad packet is dropped, counted and reported
 * as an event; the result is still SECUREIO_OK. Errors are for misuse, or a
 * stream whose framing is broken (the session is then closed).
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_recv(secureio_engine *e, const uint8_t *in,
                                                          size_t in_len, uint64_t now_us);

/* Write flags. */
#define SECUREIO_WRITE_SYNC 0x1u /* flush at once: the packet goes at the next poll() */
#define SECUREIO_WRITE_COPY 0x2u /* copy msg now (else it is borrowed until done) */

/*
 * Queues a message on a channel (0 .. SECUREIO_CHANNEL_MAX, or
 * SECUREIO_CHANNEL_DEFAULT). Without SECUREIO_WRITE_COPY the engine
 * borrows msg until done is called: keep it unchanged until then. done
 * (may be NULL) is called exactly once for an accepted write. Writes made
 * during the handshake wait for it. Messages of one channel leave in the
 * order they were written; a message larger than a packet is fragmented.
 * SECUREIO_ERR_AGAIN: the queue is full (nothing was queued; poll() empties
 * it); SECUREIO_ERR_LIMIT: len is over max_message_len, or a copied write
 * over send_queue_bytes; SECUREIO_ERR_ARG: msg NULL with len, an unknown
 * flag, a channel out of range; SECUREIO_ERR_STATE: not started, or
 * closing; SECUREIO_ERR_CLOSED.
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_write(secureio_engine *e, uint32_t channel,
                                                           const uint8_t *msg, size_t len,
                                                           unsigned flags, secureio_done_fn done,
                                                           void *done_arg, uint64_t now_us);

/* The handler of one channel (fn NULL: back to cfg->on_message). The table
 * grows here, never per message. SECUREIO_ERR_ARG for a channel out of
 * range, SECUREIO_ERR_NOMEM. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_set_handler(secureio_engine *e,
                                                                 uint32_t channel,
                                                                 secureio_message_fn fn,
                                                                 void *user);

/* Replaces the engine's on_message, on_event and user (an acceptor's
 * sessions are made from one configuration: each gets its own here). */
SECUREIO_API void secureio_engine_set_callbacks(secureio_engine *e, secureio_message_fn on_message,
                                                secureio_event_fn on_event, void *user);

/* The largest message that goes in one packet now, on this channel (larger
 * ones are fragmented, up to max_message_len). */
SECUREIO_API size_t secureio_engine_max_message(const secureio_engine *e, uint32_t channel);

/*
 * The next packet to send: handshake packets, control records, and records
 * packed with queued messages. *out_len: room on entry, the packet's length
 * on return, 0 when there is none now (secureio_engine_deadline() says when
 * to ask again). With too little room: SECUREIO_ERR_BUFFER and *out_len the
 * room needed (max_packet_len, plus 2 on streams: the largest packet it may
 * hand out). Completions of writes run inside it.
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_poll(secureio_engine *e, uint8_t *out,
                                                          size_t *out_len, uint64_t now_us);

/* Runs the timers due at now (retransmission, rekey, timeouts, expiry). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_tick(secureio_engine *e, uint64_t now_us);
/* The next time tick() or poll() has work to do; UINT64_MAX when none. */
SECUREIO_API uint64_t secureio_engine_deadline(const secureio_engine *e);

/* Starts a rekey now (it also happens by itself on the rekey interval). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_rekey(secureio_engine *e, uint64_t now_us);
/* A graceful close: state CLOSING; what is queued goes out, then an
 * authenticated CLOSE; then CLOSED. Before the session is established, or
 * with nothing queued, it is as secureio_engine_close_now(). */
SECUREIO_API void secureio_engine_close(secureio_engine *e, uint64_t now_us);
/* An immediate close: the queue is dropped (its writes complete with
 * SECUREIO_ERR_CLOSED), a CLOSE record is sent when established, CLOSED. */
SECUREIO_API void secureio_engine_close_now(secureio_engine *e, uint64_t now_us);
/* The path to the peer changed (a new address): search its size again. */
SECUREIO_API void secureio_engine_path_changed(secureio_engine *e, uint64_t now_us);

SECUREIO_API secureio_state secureio_engine_state(const secureio_engine *e);
SECUREIO_API void secureio_engine_stats(const secureio_engine *e, secureio_stats *stats);
/* The peer's identity while the session is up (SECUREIO_ERR_STATE before it
 * is established and after it closed). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_engine_peer_key(const secureio_engine *e,
                                                              uint8_t pk[SECUREIO_PUBLIC_KEY_LEN]);
/* Wipes every key; writes still queued complete with SECUREIO_ERR_CLOSED. */
SECUREIO_API void secureio_engine_free(secureio_engine *e);

#ifdef __cplusplus
}
#endif

#endif /* SECUREIO_ENGINE_H */
