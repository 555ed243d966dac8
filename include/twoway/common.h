/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway — shared definitions: visibility, error codes, version.
 */
#ifndef TWOWAY_COMMON_H
#define TWOWAY_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TWOWAY_API __attribute__((visibility("default")))
#define TWOWAY_MUST_CHECK __attribute__((warn_unused_result))
#else
#define TWOWAY_API
#define TWOWAY_MUST_CHECK
#endif

#define TWOWAY_VERSION_MAJOR 0
#define TWOWAY_VERSION_MINOR 1
#define TWOWAY_VERSION_PATCH 0

/*
 * Every function that can fail returns TWOWAY_OK (0) or one of these
 * negative codes; twoway_strerror() turns a code into a sentence.
 * The values are part of the ABI and never change meaning.
 */
enum twoway_error {
    TWOWAY_OK = 0,
    TWOWAY_ERR_ARG = -1,         /* invalid argument or inconsistent options */
    TWOWAY_ERR_UNSUPPORTED = -2, /* unknown or unsupported algorithm identifier */
    TWOWAY_ERR_KEY = -3,         /* invalid key: wrong length, not on the curve, out of range */
    TWOWAY_ERR_AUTH = -4,   /* authentication failed: the message was altered or the key is wrong */
    TWOWAY_ERR_LIMIT = -5,  /* the context's message limit is reached (sequence number exhausted) */
    TWOWAY_ERR_BUFFER = -6, /* an output buffer is too small */
    TWOWAY_ERR_NOMEM = -7,  /* out of memory */
    TWOWAY_ERR_CRYPTO = -8, /* the cryptographic provider failed */
    TWOWAY_ERR_DH = -9,     /* Diffie-Hellman gave the all-zero value (small-order public key) */
    TWOWAY_ERR_DERIVE = -10, /* DeriveKeyPair found no valid private key */
    TWOWAY_ERR_STATE = -11,  /* not allowed in this state (e.g. seal with an export-only suite) */
    TWOWAY_ERR_HEADER = -12, /* malformed request header: too short, or an unknown algorithm */
    TWOWAY_ERR_KEY_MISMATCH = -13, /* no key for the request's key id and algorithms */
    TWOWAY_ERR_TRUNCATED = -14,    /* the message ended early (e.g. before its final chunk) */
    TWOWAY_ERR_TOO_BIG = -15,      /* a chunk or message is larger than the configured limit */
    TWOWAY_ERR_FORMAT = -16,       /* malformed encoding (e.g. a key configuration) */
    TWOWAY_ERR_IO = -17,           /* a read callback, file descriptor or file failed */
    TWOWAY_ERR_EMPTY_CHUNK = -18   /* a non-final chunk without data (chunked OHTTP forbids it) */
};

/* A static English sentence for an error code (never NULL). */
TWOWAY_API const char *twoway_strerror(int err);

/*
 * More about the last failure, in this thread, of a function that gives
 * details (the key file functions of <twoway/keyfile.h>): which file and
 * why (errno's text), which line and what is wrong with it. "" when there
 * is nothing more to say than twoway_strerror(). Those functions clear it
 * when they start; others leave it alone. Valid until this thread's next
 * call to one of them.
 */
TWOWAY_API const char *twoway_error_detail(void);

/* The library's version as "MAJOR.MINOR.PATCH". */
TWOWAY_API const char *twoway_version(void);

#ifdef __cplusplus
}
#endif

#endif /* TWOWAY_COMMON_H */
