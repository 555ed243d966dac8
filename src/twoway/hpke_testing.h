/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test-only entry points of libtwoway's HPKE. They are not exported from the
 * shared library and no public header declares them: only programs that link
 * the static library and include this internal header reach them.
 *
 * NEVER use them outside tests: a fixed ephemeral key destroys the security
 * of every message sealed with it.
 */
#ifndef TWOWAY_HPKE_TESTING_H
#define TWOWAY_HPKE_TESTING_H

#include <twoway/hpke.h>

/* Like twoway_hpke_setup_sender(), with the ephemeral key pair given (for
 * example made by twoway_hpke_key_derive(kem, ikmE) or imported from skEm). */
int twoway_hpke_testing_setup_sender(twoway_hpke_ctx **out, uint8_t *enc, size_t *enc_len,
                                     const twoway_hpke_suite *suite,
                                     const twoway_hpke_key *recipient, const uint8_t *info,
                                     size_t info_len, const twoway_hpke_params *params,
                                     const twoway_hpke_key *ephemeral);

/* Moves a context's sequence number, to test exhaustion. */
void twoway_hpke_testing_set_seq(twoway_hpke_ctx *ctx, uint64_t seq);

/* The sequence limit of a context (the first value that may not be used). */
uint64_t twoway_hpke_testing_seq_limit(const twoway_hpke_ctx *ctx);

#endif /* TWOWAY_HPKE_TESTING_H */
