/*
 * secureio — authenticated encrypted sessions over any transport.
 *
 * This header holds what the whole library shares: visibility, error codes
 * and version. The session engine lands in later headers of this folder.
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

/* Every function that can fail returns SECUREIO_OK (0) or a negative code. */
enum secureio_error {
    SECUREIO_OK = 0,
    SECUREIO_ERR_ARG = -1,    /* invalid argument */
    SECUREIO_ERR_NOMEM = -2,  /* out of memory */
    SECUREIO_ERR_CRYPTO = -3, /* a cryptographic primitive failed */
    SECUREIO_ERR_BUFFER = -4  /* an output buffer is too small */
};

/* A static English sentence for an error code (never NULL). */
SECUREIO_API const char *secureio_strerror(int err);

/* The library's version as "MAJOR.MINOR.PATCH". */
SECUREIO_API const char *secureio_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SECUREIO_SECUREIO_H */
