/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the gateway: its state (ohttp_gateway.c), what a decoded
 * request becomes (ohttp_target.c) and the chunked path
 * (ohttp_gateway_stream.c).
 */
#ifndef TWOWAY_OHTTP_GATEWAY_INTERNAL_H
#define TWOWAY_OHTTP_GATEWAY_INTERNAL_H

#include "twoway/ohttp_internal.h"

#include <time.h>

typedef struct gw_key {
    twoway_key_config cfg;
    twoway_hpke_key *key;
    int current;    /* in the key files now (published) */
    time_t expires; /* not current: removed after this */
} gw_key;

struct twoway_ohttp_gateway {
    twoway_ohttp_gateway_options opt; /* strings and arrays below are copies */
    char **key_files, **origins;
    char *listen, *gateway_path, *keys_path, *ca_file;
    struct MHD_Daemon *daemon;
    unsigned port;
    twoway_keyring *ring;
    pthread_mutex_t keys_mu;
    gw_key *keys;
    size_t n_keys;
    uint8_t *configs;
    size_t configs_len;
    /* stats, updated with atomics */
    uint64_t st_requests, st_opened, st_key_errors, st_open_errors, st_forwarded, st_origin_errors,
        st_refused;
};

#define GW_STAT(gw, field) __atomic_add_fetch(&(gw)->field, 1, __ATOMIC_RELAXED)

/* The request inside an encapsulation, as decoded so far. */
typedef struct gw_target {
    char *method, *scheme, *authority, *path; /* NUL-terminated, in ctrl */
    char ctrl[TWOWAY_BHTTP_DEFAULT_MAX_CONTROL_LEN + 8];
    twoway_bhttp_field *fields;
    size_t n_fields, cap_fields;
    uint8_t *arena; /* names and values */
    size_t arena_len, arena_cap;
    char host[512]; /* the authority, or else the Host field */
} gw_target;

void gw_target_init(gw_target *t);
void gw_target_free(gw_target *t);
/* From a REQUEST event. */
int gw_target_request(gw_target *t, const twoway_bhttp_event *ev);
/* From a header FIELD event: TWOWAY_ERR_FORMAT for a value HTTP/1.1 cannot
 * carry (a control character), TWOWAY_ERR_NOMEM. */
int gw_target_field(gw_target *t, const twoway_bhttp_event *ev);
/* After the header section: the URL to fetch if its origin is allowed,
 * else 403 (off the list) or 400 (no authority, odd scheme). */
int gw_target_url(const twoway_ohttp_gateway *gw, gw_target *t, char *url, size_t cap,
                  unsigned *status);
/* The fields to forward, as curl header lines. NULL on no memory. */
struct curl_slist *gw_target_headers(const gw_target *t);

/* A buffered response: what a callback builds, or an origin's answer. */
struct twoway_ohttp_response {
    unsigned status;
    size_t max_body;
    twoway_bhttp_field *fields;
    size_t n_fields, cap_fields;
    uint8_t *arena;
    size_t arena_len, arena_cap;
    uint8_t *body;
    size_t body_len, body_cap;
    int too_big;
};
void gw_response_init(twoway_ohttp_response *r, size_t max_body);
void gw_response_free(twoway_ohttp_response *r);
/* Encodes r as Binary HTTP (form), sealed as the response to ctx in the
 * media type's framing: *out (malloc'd), *out_len. */
int gw_response_seal(const twoway_ohttp_response *r, const twoway_context *ctx, int chunked,
                     uint8_t **out, size_t *out_len);
/* A short error answer (inside the encapsulation). */
int gw_response_error(twoway_ohttp_response *r, unsigned status, const char *text);

/* Forwards t (body in memory) to url and fills r, on this thread. The
 * status is 502 or 504 (origin down, timed out) when it failed. */
void gw_forward_buffered(twoway_ohttp_gateway *gw, gw_target *t, const char *url,
                         const uint8_t *body, size_t body_len, twoway_ohttp_response *r);
/* Calls the application's handler. */
void gw_call_handler(twoway_ohttp_gateway *gw, gw_target *t, const uint8_t *body, size_t len,
                     int chunked, twoway_ohttp_response *r);

/* The chunked path (ohttp_gateway_stream.c). */
typedef struct gw_stream gw_stream;
int gw_stream_new(gw_stream **out, twoway_ohttp_gateway *gw);
/* Feeds encapsulated bytes; TWOWAY_OK or the error that decides the outer
 * status. */
int gw_stream_push(gw_stream *s, const uint8_t *in, size_t len);
/* The end of the request: queues the response on c. */
enum MHD_Result gw_stream_finish(gw_stream *s, struct MHD_Connection *c);
void gw_stream_free(gw_stream *s);

/* The error an opener's failure rc is answered as (a message cut before
 * its header is TRUNCATED, not a key problem). */
int gw_open_error(const twoway_opener *o, int rc);
/* The outer error responses. */
enum MHD_Result gw_reply_open_error(twoway_ohttp_gateway *gw, struct MHD_Connection *c, int err);

#endif /* TWOWAY_OHTTP_GATEWAY_INTERNAL_H */
