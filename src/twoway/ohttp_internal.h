/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to libtwoway_ohttp: what the gateway, relay and client share.
 *   ohttp_pipe.c    a bounded byte pipe between two threads
 *   ohttp_server.c  the listening side (libmicrohttpd): address, daemon
 *   ohttp_origin.c  the outgoing side (libcurl): handles, header filtering,
 *                   and a streaming exchange run on a thread of its own
 */
#ifndef TWOWAY_OHTTP_INTERNAL_H
#define TWOWAY_OHTTP_INTERNAL_H

#include <twoway/ohttp.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------- the pipe */

/* Bytes from one thread to another, at most cap held: a writer waits while
 * it is full, a reader while it is empty, each at most timeout_ms. */
typedef struct tw_pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf;
    size_t cap, head, len;
    int eof;                    /* the writer is done */
    int error;                  /* the writer failed (non-zero) */
    int gone;                   /* the reader is gone: writes are dropped */
    int unbounded_until_reader; /* see tw_pipe_grow_until_reader */
    int reader;                 /* a reader has started */
    size_t hard_cap;            /* growth limit while no reader */
    uint32_t read_timeout_ms;   /* tw_server_reply_pipe's reads */
} tw_pipe;

int tw_pipe_init(tw_pipe *p, size_t cap);
void tw_pipe_destroy(tw_pipe *p);
/* 0, or -1 when the reader is gone, the wait timed out, or the pipe could
 * not grow. */
int tw_pipe_write(tw_pipe *p, const void *data, size_t len, uint32_t timeout_ms);
/* Bytes read (> 0), 0 at the end, -1 on the writer's error or a timeout. */
long tw_pipe_read(tw_pipe *p, void *out, size_t len, uint32_t timeout_ms);
void tw_pipe_close_write(tw_pipe *p, int error);
void tw_pipe_close_read(tw_pipe *p);
/* Until a reader starts, writes grow the pipe up to hard_cap instead of
 * waiting (a response that arrives while the request is still coming in,
 * and that nobody reads before it has). */
void tw_pipe_grow_until_reader(tw_pipe *p, size_t hard_cap);
/* 1 when no reader has started yet and len more bytes would take what the
 * pipe holds past limit: a writer that must not buffer more before the
 * reader comes should wait (tw_xfer: pause) instead. */
int tw_pipe_unread_over(tw_pipe *p, size_t len, size_t limit);

/* ------------------------------------------------------------ listening */

typedef struct tw_server_config {
    const char *listen;
    unsigned max_connections;
    unsigned idle_timeout_s;
    MHD_AccessHandlerCallback handler;
    void *handler_arg;
    MHD_RequestCompletedCallback completed;
    void *completed_arg;
} tw_server_config;

/* Starts a daemon (a thread per connection); *port gets its port. Errors:
 * TWOWAY_ERR_ARG (address), TWOWAY_ERR_IO (bind). */
int tw_server_start(struct MHD_Daemon **out, unsigned *port, const tw_server_config *cfg);
/* Queues a response of status with an optional body copy and media type. */
enum MHD_Result tw_server_reply(struct MHD_Connection *c, unsigned status, const char *media_type,
                                const void *body, size_t len);
/* 405 with the methods the resource allows. */
enum MHD_Result tw_server_reply_allow(struct MHD_Connection *c, const char *allow);
/* Queues status with a body that is read from p as it is written (chunked
 * transfer coding), each read waiting at most read_timeout_ms; media type
 * (NULL: none), no-store, and Incremental: ?1 when incremental is set. p
 * must live until the response is done (the request's completion). */
enum MHD_Result tw_server_reply_pipe(struct MHD_Connection *c, unsigned status,
                                     const char *media_type, int incremental, tw_pipe *p,
                                     uint32_t read_timeout_ms);
/* The request's media type without parameters, compared without case. */
int tw_server_media_is(struct MHD_Connection *c, const char *media_type);

/* A copy of s (NULL for NULL or no memory). */
char *tw_strdup(const char *s);
/* Makes room for need elements of elem bytes in *p (capacity *cap,
 * doubling); 0, or -1 on overflow or no memory (*p unchanged). libtwoway's
 * tw_grow (byte buffers that are wiped as they move) is internal to that
 * library. */
int tw_array_grow(void **p, size_t *cap, size_t need, size_t elem);

/* -------------------------------------------------------------- outgoing */

/* curl_global_init, once. 0 or -1. */
int tw_curl_init(void);
/* Common options: timeouts, no signals, protocols http/https only, no
 * redirects, no proxy from the environment unless asked, CA file. */
void tw_curl_common(CURL *h, uint32_t timeout_ms, uint32_t connect_timeout_ms, const char *ca_file);
/* Connection-specific fields (RFC 9110 §7.6.1) and those the transfer sets
 * itself: never forwarded. */
int tw_http_hop_by_hop(const char *name, size_t len);

/* A response header line from curl: "Name: value\r\n" split and trimmed;
 * 1 for a field, 2 for a status line (*status set), 3 for the blank line,
 * 0 for anything else. */
int tw_http_header_line(const char *line, size_t len, const char **name, size_t *name_len,
                        const char **value, size_t *value_len, unsigned *status);

/* A streaming exchange: the request body comes through req_body (written
 * by another thread), the response goes to the callbacks, on the
 * exchange's own thread. */
typedef struct tw_xfer tw_xfer;
#define TW_XFER_PAUSE 1
typedef struct tw_xfer_sink {
    /* the final response's status and fields are all known */
    int (*head)(void *arg, unsigned status, const twoway_bhttp_field *fields, size_t n);
    /* 0, -1 to fail, or TW_XFER_PAUSE: not taken now, the exchange stops
     * reading from the server (its upload goes on) until resume says so,
     * and then offers the same bytes again */
    int (*data)(void *arg, const uint8_t *p, size_t n);
    /* may be NULL (data never pauses); non-zero: data may be offered again.
     * Asked on the exchange's thread, about once a second while paused. */
    int (*resume)(void *arg);
    /* the end: CURLE_OK, or why it failed (head may not have come) */
    void (*end)(void *arg, CURLcode rc);
    void *arg;
} tw_xfer_sink;

/* method, url, header lines ("Name: value"); with_body: the body is read
 * from tw_xfer_body(); body_len -1 for unknown (chunked upload). */
int tw_xfer_start(tw_xfer **out, const char *method, const char *url, struct curl_slist *headers,
                  int with_body, int64_t body_len, const tw_xfer_sink *sink, uint32_t timeout_ms,
                  uint32_t connect_timeout_ms, const char *ca_file);
tw_pipe *tw_xfer_body(tw_xfer *x);
/* Waits for the exchange's thread and frees it (the headers list too). */
void tw_xfer_join(tw_xfer *x);

#endif /* TWOWAY_OHTTP_INTERNAL_H */
