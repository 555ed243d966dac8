/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime's session (include/secureio/session.h): an engine driven by a
 * loop over a transport. Split by concern:
 *
 *   session.c     the API: making sessions, writes and their waits, the
 *                 read queue, handlers, states, close, free
 *   session_io.c  the transports: reading into the engine and sending what
 *                 it gives, in batches (recvmmsg/sendmmsg, stream reads and
 *                 writes), output held while a socket is full
 *   url.c         parsing "udp://host:port"… and making sockets
 *   listener.c    listeners: many UDP peers on an acceptor, one session per
 *                 TCP or unix stream connection
 *   loop.c        the event loop
 *
 * Internal: not installed.
 */
#ifndef SECUREIO_SESSION_INTERNAL_H
#define SECUREIO_SESSION_INTERNAL_H

#include <secureio/acceptor.h>
#include <secureio/session.h>

#include <sys/socket.h>

#include "loop.h"

enum sio_transport {
    SIO_T_DGRAM = 1, /* a datagram socket (connected, or sendto a peer address) */
    SIO_T_STREAM,    /* a stream descriptor (socket, or read fd and write fd) */
    SIO_T_IO,        /* the caller's write callback; input by secureio_session_input */
    SIO_T_CHILD      /* a UDP listener's session: its engine is the acceptor's */
};

struct secureio_write_handle {
    secureio_session *s;
    int done, err, released;
    size_t bytes;
    secureio_write_handle *next_free;
};

struct secureio_session {
    sio_item item;
    sio_loop *loop;
    secureio_engine *e; /* NULL once a listener's session is gone */
    enum sio_transport kind;
    int fd, fd_out;     /* the same descriptor but for a pair of pipes */
    int out_socket;     /* fd_out is a socket: send(MSG_NOSIGNAL), never SIGPIPE */
    int gso, gro;       /* UDP: segmented sends, coalesced receives (udp.h) */
    int gro_restore;    /* GRO turned on here on a caller's socket: off again at the end */
    int no_udp_offload; /* options.no_udp_offload */
    int owns_fd;        /* made by secureio_session_connect: closed with it */
    int stream;
    struct sockaddr_storage peer;
    socklen_t peer_len; /* 0: a connected socket */
    secureio_write_fn write_fn;
    void *write_ctx;
    struct secureio_listener *listener;      /* a listener's session (UDP or stream) */
    int accepted;                            /* handed to the application */
    int pending;                             /* a stream listener's, not yet established */
    secureio_session *pend_prev, *pend_next; /* the listener's pending ones, oldest first */
    secureio_session *next_accept;
    uint8_t accepted_pk[SECUREIO_PUBLIC_KEY_LEN]; /* a listener's session: its peer */
    secureio_keylist *own_peers; /* a listener's pinned peer, for this session's engine */

    /* output the transport did not take yet: stream bytes, or datagrams as
     * [LE16 length][packet]... */
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    int out_blocked; /* waiting until the descriptor can take more */
    int in_paused;   /* stream: not reading while the read queue is full */
    int dead;        /* the transport failed or ended */

    /* default-channel messages for secureio_read: [LE32 length][bytes]... */
    uint8_t *rq;
    size_t rq_cap, rq_head, rq_used, rq_count, rq_limit;

    /* the state as the application sees it */
    secureio_state state;
    int closed, closed_err, free_pending;
    secureio_event_fn on_event;
    void *user;
    secureio_write_handle *free_handles;
    uint64_t write_now;         /* the clock at the last write that found no queue */
    secureio_stats last_engine; /* the engine's counters when an acceptor ended it */
    secureio_engine *zombie;    /* freed inside one of its callbacks: freed with the session */
    int ready;                  /* in its listener's queue for secureio_accept */
    int have_last_engine;
    uint64_t read_dropped, unhandled, syscalls_in, syscalls_out, unreachable;
};

/* session.c: the engine's callbacks, and making a session around an engine. */
void sio_session_on_message(void *user, uint32_t channel, const uint8_t *data, size_t len);
void sio_session_on_event(void *user, const secureio_event *ev);
/* A session object (no transport yet) on loop l (a reference is taken). */
secureio_session *sio_session_alloc(sio_loop *l, const secureio_session_options *opts);
/* The engine configuration of opts (stream: the transport's kind). */
int sio_session_config(secureio_config *cfg, const secureio_session_options *opts, int stream,
                       void *user);
/* The session is closed (the engine said so, or the transport ended). */
void sio_session_closed(secureio_session *s, int err);
/* The session has output: its loop item (or its listener's) works soon. */
void sio_session_dirty(secureio_session *s);

/* session_io.c */
extern const sio_item_ops sio_session_ops;
/* Starts watching the session's descriptors. */
int sio_session_watch(secureio_session *s);
/* Sends what the engine has (and what was held), as far as the transport
 * takes it. */
void sio_session_flush(secureio_session *s, uint64_t now);
/* The read queue is over its limit: a stream stops reading (its peer's
 * writes block); below it again, it reads again. */
void sio_session_pause(secureio_session *s);
void sio_session_resume(secureio_session *s);
/* Stops watching, closes what the session owns. */
void sio_session_unwatch(secureio_session *s);
/* Frees a session's memory (not its engine). */
void sio_session_destroy(secureio_session *s);

/* listener.c */
/* A listener's session is freed by the application: forget it. */
void sio_listener_forget(secureio_session *s);
/* A listener's session not yet accepted had an event (ESTABLISHED: it is
 * ready to accept; CLOSED: it goes). */
void sio_listener_event(secureio_session *s, const secureio_event *ev);
/* The listener's socket. */
int sio_listener_fd(const struct secureio_listener *l);
/* Output for the listener's socket (its UDP sessions'). */
void sio_listener_dirty(struct secureio_listener *l);
/* The same, for work due by deadline (sio_loop_dirty_by). */
void sio_listener_dirty_by(struct secureio_listener *l, uint64_t deadline);

/* url.c: "scheme://…" into a socket address. */
typedef struct sio_url {
    int family, type; /* AF_INET/AF_INET6/AF_UNIX, SOCK_DGRAM/SOCK_STREAM */
    struct sockaddr_storage addr;
    socklen_t addr_len;
} sio_url;
/* Resolves url (SECUREIO_ERR_ARG with a detail, SECUREIO_ERR_IO). Flags:
 * SIO_URL_PASSIVE for listening (an empty host is every address, port 0
 * any port), SIO_URL_NUMERIC to take only numeric hosts (no name lookup:
 * the fuzz target). */
#define SIO_URL_PASSIVE 1
#define SIO_URL_NUMERIC 2
int sio_url_parse(sio_url *u, const char *url, int flags);
/* A socket for u, connected (passive 0) or bound and listening; non-blocking
 * and close-on-exec. The descriptor, or a negative error code. */
int sio_url_socket(const sio_url *u, int passive);
/* "udp://1.2.3.4:5" of an address. */
int sio_url_format(char *out, size_t *out_len, int type, const struct sockaddr *a, socklen_t len);

#endif /* SECUREIO_SESSION_INTERNAL_H */
