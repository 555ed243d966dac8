/*
 * What the HPKE fuzz targets share: an invariant check that aborts (so
 * libFuzzer records the input), and the built-in algorithm identifiers.
 */
#ifndef SECUREIO_FUZZ_COMMON_H
#define SECUREIO_FUZZ_COMMON_H

#include <twoway/hpke.h>

#include <stdio.h>
#include <stdlib.h>

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

#endif /* SECUREIO_FUZZ_COMMON_H */
