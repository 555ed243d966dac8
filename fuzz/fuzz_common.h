/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the HPKE fuzz targets share: an invariant check that aborts (so
 * libFuzzer records the input), and the built-in algorithm identifiers.
 */
#ifndef SECUREIO_FUZZ_COMMON_H
#define SECUREIO_FUZZ_COMMON_H

#include <twoway/hpke.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s: invariant broken at %s:%d: %s\n", FUZZ_NAME, __FILE__, __LINE__,  \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const uint16_t kem_ids[] = {TWOWAY_HPKE_KEM_P256_SHA256, TWOWAY_HPKE_KEM_P384_SHA384,
                                   TWOWAY_HPKE_KEM_P521_SHA512, TWOWAY_HPKE_KEM_X25519_SHA256,
                                   TWOWAY_HPKE_KEM_X448_SHA512};
#define N_KEMS (sizeof kem_ids / sizeof kem_ids[0])

/* malloc that never returns NULL (an out-of-memory is a fuzzer failure),
 * and a growable byte buffer. */
static inline void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    CHECK(p != NULL);
    return p;
}

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static inline void buf_append(buf *b, const uint8_t *p, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        CHECK(q != NULL);
        b->p = q;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

#endif /* SECUREIO_FUZZ_COMMON_H */
