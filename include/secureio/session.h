/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secureio/session.h — a secure session over a socket, a pair of file
 * descriptors or the caller's own transport, with threads and a clock:
 * the easy API on top of the sans-I/O engine (engine.h).
 *
 *   secureio_session *s;
 *   secureio_session_connect(&s, "udp://host:5000", &opts);   (opts: identity, peer_key)
 *   secureio_write(s, "hello", 5);                             (returns once it is sealed and sent)
 *   secureio_read(s, buf, sizeof buf, &n);                     (the next message)
 *   secureio_session_close(s);  secureio_session_free(s);
 *
 * Transports: UDP (connected or not), TCP, unix stream and datagram
 * sockets, socketpairs, a pair of pipes (a read fd and a write fd, as stdin
 * and stdout), or the caller's write callback with input handed in by
 * secureio_session_input(). A listener (secureio_listen) takes many peers
 * on one UDP or unixgram socket (an acceptor: a peer keeps its session when
 * its address changes), or one session per connection on TCP and unix
 * stream sockets.
 *
 * Threads. A session runs on a loop: by default its own thread; or one
 * loop thread shared by many sessions (secureio_loop_new, options.loop);
 * or no thread at all, for an application with its own event loop
 * (options.no_thread: poll secureio_session_fd(), call
 * secureio_session_process() when it is readable or when
 * secureio_session_timeout() says, from one thread). The I/O, the engine's
 * timers, the message handlers, the events and the write completions run
 * on the loop's thread, and also on the caller's thread inside
 * secureio_session_input() (a callback session's input),
 * secureio_session_close() and secureio_session_free() (completions of
 * writes that will never be sent). secureio_write*, secureio_read*,
 * _close, _state, _stats and the other calls may come from any thread,
 * several at once; secureio_session_free() only once nothing else uses the
 * session. Inside a handler, an event or a completion, a call that would
 * wait (secureio_write, secureio_write_message, secureio_read*, the _wait
 * calls, secureio_accept) answers SECUREIO_ERR_STATE at once: use the
 * asynchronous writes there.
 *
 * Descriptors given to a session are made non-blocking (O_NONBLOCK) and
 * left so: a standard input or output shared with other code sees it too.
 * Writes to sockets never raise SIGPIPE (MSG_NOSIGNAL); loop threads block
 * SIGPIPE for pipes; an application driving a no_thread session over a
 * pipe should ignore SIGPIPE.
 *
 * Messages. A message goes on a channel (0 .. SECUREIO_CHANNEL_MAX) or on
 * the default channel (SECUREIO_CHANNEL_DEFAULT: secureio_write /
 * secureio_read). On a stream transport nothing is lost and the order is
 * kept; on a datagram transport a message may be lost or come out of order
 * (never cut, changed or duplicated: reliable channels over UDP are not
 * part of this library yet). Messages of the default channel wait for
 * secureio_read() in a queue of read_queue_bytes (each costs 4 bytes more
 * there). When the queue is full, a stream transport stops reading (the
 * peer's writes block, and so do its rekeys: an application that never
 * reads lets its session time out); a callback session's
 * secureio_session_input() answers SECUREIO_ERR_AGAIN; a datagram
 * transport drops the message and counts it (stats: read_dropped) — so on
 * datagrams a message larger than the queue never arrives.
 */
#ifndef SECUREIO_SESSION_H
#define SECUREIO_SESSION_H

#include <secureio/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct secureio_session secureio_session;
typedef struct secureio_listener secureio_listener;
typedef struct secureio_loop secureio_loop;

/* ------------------------------------------------------------- options */

#define SECUREIO_SESSION_OPTIONS_VERSION 1u

typedef struct secureio_session_options {
    uint32_t version; /* SECUREIO_SESSION_OPTIONS_VERSION */
    /* Our identity (borrowed: it must outlive the session). */
    const secureio_identity *identity;
    /* Who may be the peer: its pinned key (a side that connects needs it:
     * it starts the handshake), a key list, or anyone (accept_any_peer 1).
     * Borrowed. */
    const uint8_t *peer_key;
    const secureio_keylist *allowed_peers;
    int accept_any_peer;
    /* An optional pre-shared key (at least SECUREIO_MIN_PSK_LEN bytes). */
    const uint8_t *psk;
    size_t psk_len;
    /* 0 takes the engine's default (engine.h), or, with the engine field
     * below, that configuration's value. */
    uint64_t send_delay_us;
    uint64_t rekey_interval_ms;
    uint64_t handshake_timeout_ms;
    uint64_t idle_timeout_ms;
    uint64_t keepalive_ms;
    uint32_t max_packet_len;
    uint64_t max_message_len;
    /* Default-channel messages waiting for secureio_read (0: 4 MiB). */
    size_t read_queue_bytes;
    /* The loop to run on (NULL: a thread of the session's own). */
    secureio_loop *loop;
    /* 1: no thread; the application drives the session (secureio_session_fd). */
    int no_thread;
    /* Events (state changes, packets dropped, closed), on the loop's
     * thread; may be NULL. A listener's sessions share it and user, and so
     * does the listener itself (packets for no session, refused peers). */
    secureio_event_fn on_event;
    void *user;
    /* 1: plain UDP datagrams, without segmentation offload (GSO) on send
     * and coalescing (GRO) on receive, which are used where the kernel has
     * them: for comparisons, or a path that mishandles them. */
    int no_udp_offload;
    /* Advanced: a whole engine configuration to start from (its identity,
     * peers, psk, stream and callbacks are set by the session). NULL: the
     * defaults with the fields above. Every pointer here (identity, keys,
     * psk, engine) is borrowed: it must outlive the session, and for a
     * listener the listener (a stream listener reads them again for each
     * connection). */
    const secureio_config *engine;
} secureio_session_options;

#define SECUREIO_SESSION_OPTIONS_INIT                                                              \
    {                                                                                              \
        SECUREIO_SESSION_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0,    \
            NULL, 0, NULL, NULL, 0, NULL                                                           \
    }

/* ------------------------------------------------------------- sessions */

/*
 * A session to url, "udp://host:port", "tcp://host:port" (host a name, an
 * IPv4 address or an [IPv6] one) or "unix:///path" (a stream socket) or
 * "unixgram:///path"; it makes and connects the socket (the session owns
 * it) and starts the handshake, which needs opts->peer_key. Returns once
 * the session is started; writes wait for it to be established
 * (secureio_session_wait_state to wait for that). A stream connect waits
 * for the connection (at most handshake_timeout_ms); the first address the
 * name resolves to is used. SECUREIO_ERR_ARG (a bad url or options:
 * secureio_error_detail says what), SECUREIO_ERR_IO (errno: the name did
 * not resolve, or the connection was refused).
 *
 * How a session ends (secureio_session_close_wait's answer, the CLOSED
 * event's err): SECUREIO_OK we closed it; SECUREIO_ERR_CLOSED the peer
 * closed it (an authenticated CLOSE); SECUREIO_ERR_TRANSPORT the transport
 * ended or failed first (an end of stream, a reset: a cut connection, and
 * what the peer sent last may be missing); SECUREIO_ERR_TIMEOUT the
 * handshake did not complete, or the peer fell silent (idle_timeout_ms);
 * SECUREIO_ERR_KEY_EXPIRED no rekey in time.
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_session_connect(secureio_session **out,
                                                              const char *url,
                                                              const secureio_session_options *opts);

/* A session over a socket or file descriptor the caller made (it stays the
 * caller's: close it after secureio_session_free). A socket of type
 * SOCK_DGRAM or SOCK_SEQPACKET is a datagram transport, any other
 * descriptor a stream. The side with opts->peer_key
 * starts the handshake; the other answers. For an unconnected UDP socket,
 * give the peer's address (else NULL, 0). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_session_new_fd(secureio_session **out, int fd,
                                                             const void *peer_addr,
                                                             size_t peer_addr_len,
                                                             const secureio_session_options *opts);
/* A stream session over two descriptors: one to read, one to write (two
 * pipes; stdin and stdout). They stay the caller's. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_session_new_fds(secureio_session **out, int read_fd,
                                                              int write_fd,
                                                              const secureio_session_options *opts);

/* The caller's own transport: write_fn sends a packet (datagrams) or bytes
 * (streams) and returns SECUREIO_OK when it took all of them,
 * SECUREIO_ERR_AGAIN when it took none (it is called again with the same
 * bytes after secureio_session_wake(); meanwhile the session's timers
 * wait), or an error (the session ends: SECUREIO_ERR_TRANSPORT); what
 * arrives is handed in with secureio_session_input(). */
typedef int (*secureio_write_fn)(void *ctx, const uint8_t *data, size_t len);
SECUREIO_API SECUREIO_MUST_CHECK int secureio_session_new_io(secureio_session **out, int stream,
                                                             secureio_write_fn write_fn,
                                                             void *write_ctx,
                                                             const secureio_session_options *opts);
/* Received input of a callback session: one datagram, or the next bytes of
 * the stream. The engine runs on the caller's thread (its handlers and
 * events too). SECUREIO_OK (a datagram that is not authentic is dropped
 * and counted, not an error), SECUREIO_ERR_AGAIN (a stream whose read
 * queue is full: nothing was taken; hand the same bytes in again after
 * secureio_read), SECUREIO_ERR_CLOSED, SECUREIO_ERR_ARG (not a callback
 * session). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_session_input(secureio_session *s,
                                                            const uint8_t *data, size_t len);
/* A callback session's transport can take more (after SECUREIO_ERR_AGAIN). */
SECUREIO_API void secureio_session_wake(secureio_session *s);

/* ------------------------------------------------------------- messages */

/* Writes a message on the default channel and returns once it is sealed
 * and sent: written to the transport, or (when the socket is full) in the
 * session's output buffer, which goes first. Waits while the session is
 * not yet established, and while the send queue is full.
 * SECUREIO_ERR_CLOSED when the session is closing or closed;
 * SECUREIO_ERR_LIMIT over max_message_len; SECUREIO_ERR_STATE inside a
 * callback. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_write(secureio_session *s, const void *data,
                                                    size_t len);
/* The same on a channel. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_write_message(secureio_session *s, uint32_t channel,
                                                            const void *data, size_t len);

/*
 * Reads the next message of the default channel into buf: *len its length.
 * Waits for one (timeout_ms: -1 for ever, 0 not at all: SECUREIO_ERR_AGAIN
 * when none is there). SECUREIO_ERR_BUFFER: the message does not fit cap,
 * *len is its length, and it stays first in the queue (nothing is lost).
 * SECUREIO_ERR_CLOSED: the session closed and nothing is left to read.
 * SECUREIO_ERR_TIMEOUT.
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_read(secureio_session *s, void *buf, size_t cap,
                                                   size_t *len);
SECUREIO_API SECUREIO_MUST_CHECK int secureio_read_timeout(secureio_session *s, void *buf,
                                                           size_t cap, size_t *len, int timeout_ms);

/*
 * Asynchronous writes. With a completion callback (called once, when the
 * message was sealed and sent, or why it never will be: secureio_done_fn
 * in engine.h; on the loop's thread, or inside _close, _free or _input:
 * see Threads above); flags as for
 * secureio_engine_write (SECUREIO_WRITE_COPY: data is copied at once; else
 * it is borrowed until the completion; SECUREIO_WRITE_SYNC: no send delay).
 * SECUREIO_ERR_AGAIN when the send queue is full (nothing was queued).
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_write_message_cb(secureio_session *s,
                                                               uint32_t channel, const void *data,
                                                               size_t len, unsigned flags,
                                                               secureio_done_fn done, void *arg);

/* Many at once: messages[0..count) queued in order, each as by
 * secureio_write_message_cb with these flags, done and arg (done called
 * for each message), under one lock and with one wake-up of the loop: for
 * many small messages, a fraction of the cost of a call each. *queued: how
 * many were queued; it stops at the first that fails (SECUREIO_ERR_AGAIN
 * when the send queue is full: the rest may be written again). */
typedef struct secureio_message {
    uint32_t channel; /* 0 .. SECUREIO_CHANNEL_MAX, or SECUREIO_CHANNEL_DEFAULT */
    const void *data;
    size_t len;
} secureio_message;
SECUREIO_API SECUREIO_MUST_CHECK int
secureio_write_messages(secureio_session *s, const secureio_message *messages, size_t count,
                        unsigned flags, secureio_done_fn done, void *arg, size_t *queued);

/* Or with a handle to wait on, poll and release. */
typedef struct secureio_write_handle secureio_write_handle;
SECUREIO_API SECUREIO_MUST_CHECK int
secureio_write_message_async(secureio_session *s, uint32_t channel, const void *data, size_t len,
                             unsigned flags, secureio_write_handle **handle);
/* 1 once the write is done (then err and bytes, either may be NULL). */
SECUREIO_API int secureio_write_done(secureio_write_handle *h, int *err, size_t *bytes);
/* Waits until it is done (timeout_ms -1: for ever): its result, or
 * SECUREIO_ERR_TIMEOUT. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_write_wait(secureio_write_handle *h, int timeout_ms);
/* Gives the handle back (a write not yet done completes all the same: a
 * borrowed buffer must then stay until the session is freed). Every handle
 * must be released, before the session is freed. */
SECUREIO_API void secureio_write_release(secureio_write_handle *h);

/* The handler of a channel (fn NULL: removed), called on the loop's
 * thread; messages of channels without one go to secureio_read when they
 * are on the default channel, and are dropped otherwise (counted): set
 * the handlers before messages can arrive (a listener's sessions: in
 * on_accept, which runs before any message of the session is handed on). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_session_set_handler(secureio_session *s,
                                                                  uint32_t channel,
                                                                  secureio_message_fn fn,
                                                                  void *user);

/* The largest message that goes in one packet now on channel (larger ones
 * are fragmented; on a datagram transport a fragmented message is lost when
 * any of its packets is); 0 unless the session is established. It changes
 * with the packet size that path size discovery finds (up, or down when a
 * path shrinks). */
SECUREIO_API size_t secureio_session_max_message(const secureio_session *s, uint32_t channel);

/* --------------------------------------------------------- state, close */

/* The session's own event callback and its argument, in place of the
 * options' on_event and user (fn NULL: none); the events are what the
 * options' on_event gets. A listener's sessions share the listener's
 * on_event until they are given their own here (in on_accept, or after
 * secureio_accept): the way to tell their events apart. */
SECUREIO_API SECUREIO_MUST_CHECK int
secureio_session_set_event_handler(secureio_session *s, secureio_event_fn fn, void *user);
SECUREIO_API secureio_state secureio_session_state(const secureio_session *s);
/* Waits until the session is in state: for SECUREIO_STATE_ESTABLISHED,
 * NEGOTIATING counts too (messages flow in both); for the others, any later
 * state counts (CLOSED is later than all). SECUREIO_ERR_CLOSED if it closed
 * without reaching ESTABLISHED, SECUREIO_ERR_TIMEOUT. */
SECUREIO_API SECUREIO_MUST_CHECK int
secureio_session_wait_state(secureio_session *s, secureio_state state, int timeout_ms);
/* The peer's identity (SECUREIO_ERR_STATE when the session is not up, or
 * was ended and freed by its listener). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_session_peer_key(const secureio_session *s,
                                                               uint8_t pk[SECUREIO_PUBLIC_KEY_LEN]);

typedef struct secureio_session_stats {
    secureio_stats engine;     /* the engine's counters (kept once it has ended) */
    uint64_t read_dropped;     /* default-channel messages dropped: the read queue was full */
    uint64_t unhandled;        /* messages of channels without a handler */
    uint64_t read_queue_bytes; /* waiting for secureio_read now */
    uint64_t syscalls_in, syscalls_out; /* receive and send calls (batched) */
    /* the socket's receive buffer as Linux reports it (SO_RCVBUF: twice
     * the size asked, the half beyond for its bookkeeping); 0: not a socket */
    uint64_t socket_rcvbuf;
    /* datagrams refused by the peer's host (ICMP port unreachable: nothing
     * listens there, yet); they count as lost (0 for a listener's
     * sessions: their socket is shared) */
    uint64_t unreachable;
} secureio_session_stats;
SECUREIO_API void secureio_session_stats_get(const secureio_session *s,
                                             secureio_session_stats *stats);

/* A graceful close: what is queued goes out, then an authenticated CLOSE.
 * Returns at once; secureio_session_close_wait waits for the end: how it
 * ended (see secureio_session_connect), or SECUREIO_ERR_TIMEOUT when
 * timeout_ms passed first (secureio_session_state then says CLOSING). */
SECUREIO_API void secureio_session_close(secureio_session *s);
SECUREIO_API SECUREIO_MUST_CHECK int secureio_session_close_wait(secureio_session *s,
                                                                 int timeout_ms);
/* Closes at once if needed, stops its thread, frees. Not on the loop's
 * thread (inside a callback), but for one case: inside on_accept, the
 * session given to it (refused there; what is left of it goes when the
 * loop's turn is over). Elsewhere close it in the callback, and free it
 * from another thread. */
SECUREIO_API void secureio_session_free(secureio_session *s);

/* --------------------------------------------- the application's own loop */

/* With options.no_thread: a descriptor to watch for readability (the
 * loop's epoll descriptor: readable when the session has input or output
 * to process), the time to the next timer in milliseconds (-1: none; at
 * most 60000), and the call that does the work (reads, timers, sends;
 * from one thread at a time; SECUREIO_ERR_CLOSED once the session ended,
 * SECUREIO_ERR_STATE from inside a callback). A blocking call (a
 * secureio_write, a _wait) from another thread turns the loop itself
 * meanwhile. */
SECUREIO_API int secureio_session_fd(const secureio_session *s);
SECUREIO_API int secureio_session_timeout(const secureio_session *s);
SECUREIO_API SECUREIO_MUST_CHECK int secureio_session_process(secureio_session *s);

/* ---------------------------------------------------------------- loops */

/* A loop thread that many sessions and listeners share (options.loop). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_loop_new(secureio_loop **out);
/* Gives the application's reference back; the thread stops once the last
 * session and listener on it are freed too. Not from a callback. */
SECUREIO_API void secureio_loop_free(secureio_loop *loop);

/* ------------------------------------------------------------ listeners */

/*
 * Listens on url ("udp://addr:port", "tcp://addr:port", "unix:///path",
 * "unixgram:///path"; an empty addr, "udp://:5000", is every address; port
 * 0: the system picks one, secureio_listener_addr says which). UDP and
 * unixgram take many peers on one socket (an acceptor, acceptor.h); TCP
 * and unix streams one session per connection (at most 256 of them in
 * their handshake at once: one more ends the oldest; 10 s each for it
 * unless opts say otherwise). opts: the
 * sessions' options; who may connect: one peer_key, or allowed_peers, or
 * accept_any_peer (one of them: SECUREIO_ERR_ARG otherwise). Its on_event
 * also gets the listener's own events: handshake packets dropped, and
 * refused identities (SECUREIO_DROP_PEER with the key); a session's own
 * events reach it only once the session is the application's (before,
 * only its dropped packets). A session is ready
 * once its peer is authenticated: it waits for secureio_accept(), or goes
 * to on_accept when that is set (on the loop's thread; a UDP session's
 * ESTABLISHED event follows right after); either way it is the
 * application's, to free when done.
 */
typedef void (*secureio_accept_fn)(void *user, secureio_session *session,
                                   const uint8_t peer_key[SECUREIO_PUBLIC_KEY_LEN]);
SECUREIO_API SECUREIO_MUST_CHECK int secureio_listen(secureio_listener **out, const char *url,
                                                     const secureio_session_options *opts,
                                                     secureio_accept_fn on_accept, void *user);
/* The next session (timeout_ms -1: for ever, 0: SECUREIO_ERR_AGAIN at
 * once, else SECUREIO_ERR_TIMEOUT), its peer authenticated, with its key
 * in peer_key (may be NULL). SECUREIO_ERR_STATE inside a callback. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_accept(secureio_listener *l, secureio_session **out,
                                                     uint8_t peer_key[SECUREIO_PUBLIC_KEY_LEN],
                                                     int timeout_ms);
/* The listening address, as "udp://127.0.0.1:40123" and a NUL (out_len:
 * room; on return the length written, the NUL included, or the length
 * needed on SECUREIO_ERR_BUFFER). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_listener_addr(const secureio_listener *l, char *out,
                                                            size_t *out_len);
/* Stops listening. Stream sessions already accepted go on. UDP sessions
 * share the listener's socket: each peer is sent its CLOSE and the
 * sessions end (SECUREIO_ERR_CLOSED), but the application still frees the
 * ones it has. Threads waiting in secureio_accept return
 * SECUREIO_ERR_CLOSED first. Not from a callback. */
SECUREIO_API void secureio_listener_free(secureio_listener *l);

#ifdef __cplusplus
}
#endif

#endif /* SECUREIO_SESSION_H */
