/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to libtwoway: how request openers use a key ring.
 */
#ifndef TWOWAY_KEYRING_INTERNAL_H
#define TWOWAY_KEYRING_INTERNAL_H

#include <twoway/hpke.h>
#include <twoway/keyring.h>

/*
 * Finds the entry for a request header (7 bytes) and gives its suite.
 * TWOWAY_ERR_HEADER if no entry matches and an identifier is not a built-in
 * algorithm (or the AEAD is export-only); TWOWAY_ERR_KEY_MISMATCH if no
 * entry matches otherwise.
 */
int tw_keyring_lookup(const twoway_keyring *ring, const uint8_t *hdr, twoway_hpke_suite *suite);

/*
 * Looks the header up again and sets up the receiver context with that
 * entry's key, holding the ring's lock, so that a concurrent remove cannot
 * free the key in use. Same errors as tw_keyring_lookup, then those of
 * twoway_hpke_setup_receiver (base mode). *suite gets the entry's suite.
 */
int tw_keyring_setup_receiver(const twoway_keyring *ring, const uint8_t *hdr, const uint8_t *enc,
                              size_t enc_len, const uint8_t *info, size_t info_len,
                              twoway_hpke_ctx **ctx, twoway_hpke_suite *suite);

#endif /* TWOWAY_KEYRING_INTERNAL_H */
