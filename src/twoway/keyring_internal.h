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

/*
 * Adds key under key_id for each of suites[n], all or none (no entry with
 * those ids may exist, and none may repeat). owned: the ring frees key when
 * the last entry holding it goes (remove, or the ring's free).
 */
int tw_keyring_add_entries(twoway_keyring *ring, uint8_t key_id, const twoway_hpke_suite *suites,
                           size_t n, const twoway_hpke_key *key, int owned);

/* The suites of a configuration of key (TWOWAY_ERR_ARG if cfg is not key's:
 * another KEM or public key; TWOWAY_ERR_UNSUPPORTED for an algorithm that
 * is not built in). */
int tw_keyring_suites_of(const twoway_key_config *cfg, const twoway_hpke_key *key,
                         twoway_hpke_suite suites[TWOWAY_KEY_CONFIG_MAX_SUITES]);

#endif /* TWOWAY_KEYRING_INTERNAL_H */
