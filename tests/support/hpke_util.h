/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the HPKE test programs (implementation: hpke_util.c).
 * Each counts as a CHECK and returns NULL / non-zero on failure.
 */
#ifndef SECUREIO_TESTS_HPKE_UTIL_H
#define SECUREIO_TESTS_HPKE_UTIL_H

#include <twoway/hpke.h>

/* A fresh key pair of kem. */
twoway_hpke_key *test_hpke_generate(const twoway_hpke_kem *kem);

/* The public half of k, as a separate public-key object. */
twoway_hpke_key *test_hpke_public_of(const twoway_hpke_key *k);

/* The built-in suite of these ids; returns 1 on success. */
int test_hpke_suite(twoway_hpke_suite *s, uint16_t kem_id, uint16_t kdf_id, uint16_t aead_id);

#endif /* SECUREIO_TESTS_HPKE_UTIL_H */
