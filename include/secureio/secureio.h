/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secureio — authenticated encrypted sessions over any transport.
 *
 * This header holds what the whole library shares: visibility, error codes
 * and version. Identities are in <secureio/identity.h>, the session engine
 * in <secureio/engine.h> (which includes both).
 */
#ifndef SECUREIO_SECUREIO_H
#define SECUREIO_SECUREIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SECUREIO_API __attribute__((visibility("default")))
#define SECUREIO_MUST_CHECK __attribute__((warn_unused_result))
#else
#define SECUREIO_API
#define SECUREIO_MUST_CHECK
#endif

#define SECUREIO_VERSION_MAJOR 0
#define SECUREIO_VERSION_MINOR 1
#define SECUREIO_VERSION_PATCH 0

/* Every function that can fail returns SECUREIO_OK (0) or a negative code. */
enum secureio_error {
    SECUREIO_OK = 0,
    SECUREIO_ERR_ARG = -1,           /* invalid argument */
    SECUREIO_ERR_NOMEM = -2,         /* out of memory */
    SECUREIO_ERR_CRYPTO = -3,        /* a cryptographic primitive failed */
    SECUREIO_ERR_BUFFER = -4,        /* an output buffer is too small */
    SECUREIO_ERR_FORMAT = -5,        /* malformed input: a key file, a packet, a record */
    SECUREIO_ERR_ENCRYPTED_KEY = -6, /* the private key file is protected by a passphrase */
    SECUREIO_ERR_IO = -7,            /* reading or writing a file failed (errno tells why) */
    SECUREIO_ERR_AUTH = -8,          /* authentication failed: forged, altered or replayed */
    SECUREIO_ERR_PEER = -9,          /* the peer's identity is not authorized */
    SECUREIO_ERR_STATE = -10,        /* not allowed in this state (e.g. send before established) */
    SECUREIO_ERR_LIMIT = -11,        /* a counter or size limit was reached */
    SECUREIO_ERR_TIMEOUT = -12,      /* the handshake did not complete, or the peer fell silent */
    SECUREIO_ERR_UNSUPPORTED = -13,  /* a key type, version or option this library does not know */
    SECUREIO_ERR_CLOSED = -14,       /* the session is closed */
    SECUREIO_ERR_AGAIN = -15,        /* would block: the send queue is full (try after poll) */
    SECUREIO_ERR_KEY_EXPIRED = -16,  /* the session's keys outlived their lifetime: no rekey */
    SECUREIO_ERR_PERMISSIONS = -17,  /* a private key file others may read (chmod 600) */
    SECUREIO_ERR_TRANSPORT = -18     /* the transport ended or failed before the peer's
                                        authenticated close (a cut connection) */
};

/* A static English sentence for an error code (never NULL). */
SECUREIO_API const char *secureio_strerror(int err);

/*
 * More about the last failure, in this thread, of a function that gives
 * details: which file and why (errno's text), which line of a key list,
 * what a key file is instead of the one expected, which field of a
 * configuration is wrong. "" when there is nothing more to say than
 * secureio_strerror(). The functions that give details (the file functions
 * of <secureio/identity.h>, secureio_engine_new, secureio_acceptor_new, and
 * those of <secureio/session.h> that make sessions and listeners: a bad
 * address or option, a socket that could not be made) clear it when they
 * start; others leave it alone. The text stays valid until this thread's
 * next call to one of them.
 */
SECUREIO_API const char *secureio_error_detail(void);

/* The library's version as "MAJOR.MINOR.PATCH". */
SECUREIO_API const char *secureio_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SECUREIO_SECUREIO_H */
