/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway/ohttp.h — Oblivious HTTP (RFC 9458, chunked OHTTP) over real HTTP:
 * a gateway, a relay and a client. Library libtwoway_ohttp (pkg-config
 * twoway_ohttp), built on libtwoway, libmicrohttpd (the listening side) and
 * libcurl (the outgoing side).
 *
 *   client ──message/ohttp-req──▶ relay ──▶ gateway ──HTTP──▶ target origin
 *
 * The client seals a Binary HTTP request (twoway/bhttp.h) to one of the
 * gateway's keys and posts it to a relay; the relay forwards it to its one
 * gateway without anything that identifies the client; the gateway opens
 * it, sends the request to the target (only to origins on its allow-list)
 * or to an application callback, and seals the answer back. The relay sees
 * who asks but not what; the gateway sees what but not who.
 *
 * Gateway and relay run their own threads (one per connection, at most
 * max_connections) and return from start at once; the calls here are
 * thread-safe. Nothing here prints or aborts: errors are twoway error codes,
 * and twoway_ohttp_error_detail() says more after a failed start or fetch.
 *
 * The gateway keeps no state between requests: any number of gateway
 * processes given the same key files serve the same clients behind a load
 * balancer (OHTTP.md, in the package's documentation folder
 * share/doc/secureio/docs, says how to share and rotate the keys).
 */
#ifndef TWOWAY_OHTTP_H
#define TWOWAY_OHTTP_H

#include <twoway/bhttp.h>
#include <twoway/message.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- names */

#define TWOWAY_OHTTP_KEYS_MEDIA_TYPE "application/ohttp-keys"
#define TWOWAY_OHTTP_REQ_MEDIA_TYPE "message/ohttp-req"
#define TWOWAY_OHTTP_RES_MEDIA_TYPE "message/ohttp-res"
#define TWOWAY_OHTTP_CHUNKED_REQ_MEDIA_TYPE "message/ohttp-chunked-req"
#define TWOWAY_OHTTP_CHUNKED_RES_MEDIA_TYPE "message/ohttp-chunked-res"
/* RFC 9540 §4: the gateway's well-known resource; a GET of it gives the key
 * configurations, a POST to it is a request. */
#define TWOWAY_OHTTP_WELL_KNOWN_PATH "/.well-known/ohttp-gateway"

/* Defaults (0 in an option takes these). */
#define TWOWAY_OHTTP_DEFAULT_GATEWAY_PATH "/gateway"
#define TWOWAY_OHTTP_DEFAULT_KEYS_PATH "/ohttp-keys"
#define TWOWAY_OHTTP_DEFAULT_MAX_REQUEST_LEN ((size_t)1 << 20)   /* unchunked, sealed */
#define TWOWAY_OHTTP_DEFAULT_MAX_RESPONSE_LEN ((size_t)16 << 20) /* unchunked, from the origin */
#define TWOWAY_OHTTP_DEFAULT_TIMEOUT_MS 30000u
#define TWOWAY_OHTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define TWOWAY_OHTTP_DEFAULT_MAX_CONNECTIONS 256u
#define TWOWAY_OHTTP_DEFAULT_GRACE_SECONDS 600u

/* ---------------------------------------------- the application callback */

/* A request as the gateway opened it, for a callback that answers it. The
 * strings are NUL-terminated; headers point into the gateway's buffers;
 * everything is valid during the callback only. */
typedef struct twoway_ohttp_request {
    const char *method, *scheme, *authority, *path;
    const twoway_bhttp_field *headers;
    size_t n_headers;
    const uint8_t *body;
    size_t body_len;
    int chunked; /* it came as a chunked OHTTP request */
} twoway_ohttp_request;

/* The answer a callback builds; the gateway copies what it is given. */
typedef struct twoway_ohttp_response twoway_ohttp_response;

/* 200-599 (default 200). TWOWAY_ERR_ARG otherwise. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_ohttp_response_status(twoway_ohttp_response *r,
                                                              unsigned status);
/* A header field; names and values as Binary HTTP allows (TWOWAY_ERR_ARG). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_ohttp_response_header(twoway_ohttp_response *r,
                                                              const char *name, const char *value);
/* Appends to the body (TWOWAY_ERR_TOO_BIG past the gateway's
 * max_response_len). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_ohttp_response_body(twoway_ohttp_response *r,
                                                            const void *data, size_t len);

/* Answers req into resp; returns 0, or non-zero for the gateway to answer
 * 500 (inside the encapsulation) instead. Runs on the connection's thread:
 * callbacks of several requests run at once. */
typedef int (*twoway_ohttp_handler_fn)(void *arg, const twoway_ohttp_request *req,
                                       twoway_ohttp_response *resp);

/* ------------------------------------------------------------ gateway */

#define TWOWAY_OHTTP_GATEWAY_OPTIONS_VERSION 1u

typedef struct twoway_ohttp_gateway_options {
    uint32_t version; /* TWOWAY_OHTTP_GATEWAY_OPTIONS_VERSION */
    /* "host:port" or "[v6]:port" to listen on; port 0 picks one
     * (twoway_ohttp_gateway_port). NULL: "127.0.0.1:0". */
    const char *listen;
    /* The key files (twoway keygen) to serve; at least one. Re-read by
     * twoway_ohttp_gateway_reload(). */
    const char *const *key_files;
    size_t n_key_files;
    /* How long a key dropped from the files at a reload still opens
     * requests (clients may hold its configuration). */
    uint32_t grace_seconds;
    /* Paths of the gateway resource and of the key configurations, besides
     * TWOWAY_OHTTP_WELL_KNOWN_PATH, which serves both. */
    const char *gateway_path;
    const char *keys_path;
    /* Forwarding: the origins requests may go to, as "scheme://host[:port]"
     * (http or https; compared without case, the port as written). A
     * request to any other is answered 403 inside the encapsulation. */
    const char *const *allowed_origins;
    size_t n_allowed_origins;
    /* Or: answer every request with this callback, forwarding nothing. */
    twoway_ohttp_handler_fn handler;
    void *handler_arg;
    size_t max_request_len;  /* an unchunked request (sealed); also a buffered chunked one */
    size_t max_response_len; /* an unchunked response, or a callback's body */
    uint32_t timeout_ms;     /* toward the origin: the whole exchange */
    uint32_t connect_timeout_ms;
    unsigned max_connections;
    /* CA bundle for https origins (NULL: the system's); tests may point it
     * at their own CA. */
    const char *ca_file;
} twoway_ohttp_gateway_options;

typedef struct twoway_ohttp_gateway twoway_ohttp_gateway;

/* Loads the keys, binds and starts serving. TWOWAY_ERR_ARG (options),
 * TWOWAY_ERR_IO (a key file, or the address: errno), the key file errors,
 * TWOWAY_ERR_NOMEM. */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_ohttp_gateway_start(twoway_ohttp_gateway **out, const twoway_ohttp_gateway_options *opt);
/* The port it listens on. */
TWOWAY_API unsigned twoway_ohttp_gateway_port(const twoway_ohttp_gateway *gw);
/* Re-reads the key files: new keys are served at once, keys no longer in
 * the files open requests for grace_seconds more. On an error nothing
 * changes. Safe from any thread (not from a signal handler). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_ohttp_gateway_reload(twoway_ohttp_gateway *gw);

typedef struct twoway_ohttp_gateway_stats {
    uint64_t requests;      /* encapsulated requests received */
    uint64_t opened;        /* of them, opened (authentic) */
    uint64_t key_errors;    /* unknown key id or algorithms */
    uint64_t open_errors;   /* failed to open, or malformed */
    uint64_t forwarded;     /* sent to an origin (or the callback) */
    uint64_t origin_errors; /* origin down, timed out, or refused */
    uint64_t refused;       /* origins off the allow-list */
    size_t keys;            /* keys that open requests now */
} twoway_ohttp_gateway_stats;
TWOWAY_API void twoway_ohttp_gateway_stats_get(const twoway_ohttp_gateway *gw,
                                               twoway_ohttp_gateway_stats *st);

/* Stops serving (waits for the requests in progress) and frees. */
TWOWAY_API void twoway_ohttp_gateway_stop(twoway_ohttp_gateway *gw);

/* -------------------------------------------------------------- relay */

#define TWOWAY_OHTTP_RELAY_OPTIONS_VERSION 1u

typedef struct twoway_ohttp_relay_options {
    uint32_t version;       /* TWOWAY_OHTTP_RELAY_OPTIONS_VERSION */
    const char *listen;     /* as for the gateway */
    const char *gateway;    /* the gateway resource's URL: every request goes there */
    const char *path;       /* the relay resource (NULL: any path) */
    size_t max_request_len; /* unchunked requests */
    uint32_t timeout_ms;
    uint32_t connect_timeout_ms;
    unsigned max_connections;
    const char *ca_file;
} twoway_ohttp_relay_options;

typedef struct twoway_ohttp_relay twoway_ohttp_relay;

/* Starts a relay. It forwards POSTs of message/ohttp-req and
 * message/ohttp-chunked-req (chunked ones streamed both ways) with nothing
 * of the client's but the body and its media type, and gives back the
 * gateway's status, media type and body. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_ohttp_relay_start(twoway_ohttp_relay **out,
                                                          const twoway_ohttp_relay_options *opt);
TWOWAY_API unsigned twoway_ohttp_relay_port(const twoway_ohttp_relay *relay);
TWOWAY_API void twoway_ohttp_relay_stop(twoway_ohttp_relay *relay);

/* ------------------------------------------------------------- client */

#define TWOWAY_OHTTP_CLIENT_OPTIONS_VERSION 1u

typedef struct twoway_ohttp_client_options {
    uint32_t version; /* TWOWAY_OHTTP_CLIENT_OPTIONS_VERSION */
    int chunked;      /* chunked OHTTP both ways: bodies of any size stream */
    /* The gateway's application/ohttp-keys: given here, or fetched from
     * keys_url, or else (NULL, NULL) by a GET of the URL posted to (a
     * gateway answers it; a relay does not). */
    const uint8_t *key_configs;
    size_t key_configs_len;
    const char *keys_url;
    uint32_t timeout_ms;
    uint32_t connect_timeout_ms;
    size_t max_response_len; /* unchunked responses */
    const char *ca_file;
} twoway_ohttp_client_options;

/* The request to send inside the encapsulation. */
typedef struct twoway_ohttp_fetch_request {
    const char *method; /* NULL: GET, or POST when there is a body */
    const char *url;    /* the target: scheme://authority/path */
    const twoway_bhttp_field *headers;
    size_t n_headers;
    const uint8_t *body; /* a body in memory, or: */
    size_t body_len;
    twoway_read_fn body_read; /* one read as needed (chunked: streamed) */
    void *body_src;
} twoway_ohttp_fetch_request;

/* Where the answer goes, as it is opened. Each callback returns 0, or
 * non-zero to stop (the fetch then returns TWOWAY_ERR_IO). Any may be NULL.
 * Nothing is delivered before it is authenticated: a chunked response
 * delivers each chunk once its tag checked, and only a TWOWAY_OK return
 * says the response was whole. */
typedef struct twoway_ohttp_fetch_sink {
    int (*status)(void *arg, unsigned status, int informational);
    int (*field)(void *arg, int section, const uint8_t *name, size_t name_len, const uint8_t *value,
                 size_t value_len);
    int (*body)(void *arg, const uint8_t *data, size_t len);
    void *arg;
} twoway_ohttp_fetch_sink;

/*
 * One round trip: seals req to the gateway's key, posts it to url (a relay
 * or the gateway itself), opens the response and hands it to sink.
 * *http_status (may be NULL) gets the status of the outer HTTP response;
 * a gateway that refuses the key answers 400 with the problem type of
 * RFC 9458 §5.3: TWOWAY_ERR_KEY_MISMATCH (fetch fresh keys). Other errors:
 * TWOWAY_ERR_IO (network, or a status other than 200; twoway_ohttp_error_detail()
 * says which), TWOWAY_ERR_AUTH and the opener's errors, TWOWAY_ERR_FORMAT
 * (not Binary HTTP), TWOWAY_ERR_ARG.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_ohttp_fetch(const char *url,
                                                    const twoway_ohttp_fetch_request *req,
                                                    const twoway_ohttp_fetch_sink *sink,
                                                    const twoway_ohttp_client_options *opt,
                                                    unsigned *http_status);

/* Fetches a gateway's application/ohttp-keys (GET) into out (*out_len: room
 * on entry, length on return; TWOWAY_ERR_BUFFER with the size needed). The
 * list is checked (twoway_key_configs_decode). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_ohttp_fetch_keys(const char *url,
                                                         const twoway_ohttp_client_options *opt,
                                                         uint8_t *out, size_t *out_len);

/* More about this thread's last failed start, reload or fetch ("" when
 * there is nothing more than the error code says). */
TWOWAY_API const char *twoway_ohttp_error_detail(void);

#ifdef __cplusplus
}
#endif

#endif /* TWOWAY_OHTTP_H */
