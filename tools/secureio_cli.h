/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `secureio` command (secureio(1), docs/CLI.md): what its files share.
 *
 *   secureio.c       the command line, keygen, pubkey, keys and options
 *   secureio_pipe.c  listen and connect: standard input to the peer, the
 *                    peer's data to standard output
 *   bench/runtime_bench.c  `secureio bench` (also the bench-runtime program)
 */
#ifndef SECUREIO_CLI_H
#define SECUREIO_CLI_H

#include <secureio/session.h>

/* Exit codes (secureio(1) lists them). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,    /* standard input or output failed; anything else */
    CLI_EXIT_USAGE = 2,   /* a wrong command line */
    CLI_EXIT_KEY = 3,     /* a key missing, unreadable or malformed; a peer refused */
    CLI_EXIT_CONN = 4,    /* refused, dropped, or closed by the peer with an error */
    CLI_EXIT_TIMEOUT = 5, /* no handshake in time; the peer went silent */
    CLI_EXIT_LOST = 6     /* datagrams: the session ended well, but messages were lost */
};

typedef struct cli_pipe_opts {
    const char *url;
    int listen;
    int verbose;
    const secureio_identity *id;
    const uint8_t *peer;                /* a pinned peer key, or NULL */
    const char *peer_source;            /* where it came from (for messages) */
    const secureio_keylist *authorized; /* or a list */
    const char *authorized_source;
    int any_peer;
    const uint8_t *psk;
    size_t psk_len;
    uint64_t timeout_ms; /* handshake (0: the CLI's default) */
    uint64_t idle_ms;    /* nothing heard for this long ends the session (0: off) */
} cli_pipe_opts;

/* listen or connect, then pump until both directions ended: the exit code. */
int cli_pipe(const cli_pipe_opts *o);

/* `secureio bench [--quick] [NAME...]`: bench/runtime_bench.h. */
#include "runtime_bench.h"

/* "SHA256:…" of a key, for messages (a static buffer per call site is the
 * caller's). */
void cli_fingerprint(const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN], char out[SECUREIO_FINGERPRINT_LEN]);

#endif /* SECUREIO_CLI_H */
