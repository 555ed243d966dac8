/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP origin server for the OHTTP tests and benchmarks
 * (implementation: origin.c; libmicrohttpd, a thread per connection, on
 * 127.0.0.1 and a port of its own choosing). Resources:
 *
 *   GET  /bytes/N       N bytes of origin_fill() (streamed: any N costs no memory)
 *   POST|PUT /sum       reads the body as it comes; answers text/plain
 *                       "len=<n> sum=<16 hex digits of FNV-1a 64>"
 *   POST /echo          echoes a body of at most 1 MiB (413 above) with its
 *                       content-type, and each request header as x-echo-<name>
 *   GET  /slow[?ms=N]   answers after N ms (default 3000), "slow\n"
 *   GET  /status/NNN    answers status NNN (200-599) with "status NNN\n"
 *   *    /headers/...   answers text/plain: the request's header lines
 *   anything else       404
 *
 * For every request the header lines it came with ("name: value\n", names
 * in lower case, in the order received) are kept by path (without the
 * query), the latest request's only: origin_headers_seen().
 */
#ifndef SECUREIO_TESTS_ORIGIN_H
#define SECUREIO_TESTS_ORIGIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct origin origin;

typedef struct origin_stats {
    uint64_t requests;  /* requests begun */
    uint64_t bytes_in;  /* request body bytes read */
    uint64_t bytes_out; /* body bytes of /bytes/N sent */
} origin_stats;

/* Starts the server on 127.0.0.1 (port 0: any); *port gets the port.
 * 0, or -1 when it could not start. */
int origin_start(origin **out, unsigned *port);
/* Stops it (a /slow request in progress ends at once) and frees. */
void origin_stop(origin *o);
void origin_stats_get(origin *o, origin_stats *st);

/* Copies the header lines of the latest request to path into buf (NUL
 * terminated, cut to cap); returns their length, or -1 if no request to
 * path was seen. */
long origin_headers_seen(origin *o, const char *path, char *buf, size_t cap);

/* The bytes of /bytes/N: byte i of the stream, for off <= i < off + n. */
void origin_fill(uint8_t *buf, uint64_t off, size_t n);

/* FNV-1a, 64 bits: start with ORIGIN_FNV_INIT, update with each piece. */
#define ORIGIN_FNV_INIT 0xcbf29ce484222325ULL
uint64_t origin_fnv(uint64_t h, const uint8_t *p, size_t n);

#endif /* SECUREIO_TESTS_ORIGIN_H */
