/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway/keyring.h — OHTTP key configurations (RFC 9458 §3,
 * application/ohttp-keys) and the receiver's key ring.
 *
 * A key configuration publishes one public key: its key id, KEM and the
 * (KDF, AEAD) pairs the receiver accepts with it. A key ring holds the
 * receiver's live private keys; request openers pick one by the request
 * header's key id and algorithms, so keys can be rotated (add the new one,
 * publish it, remove the old one later) without dropping requests.
 */
#ifndef TWOWAY_KEYRING_H
#define TWOWAY_KEYRING_H

#include <twoway/hpke.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------- key configurations */

/* The (KDF, AEAD) pairs a decoded configuration keeps (known, distinct). */
#define TWOWAY_KEY_CONFIG_MAX_SUITES 16u

typedef struct twoway_symmetric_suite {
    uint16_t kdf_id, aead_id;
} twoway_symmetric_suite;

typedef struct twoway_key_config {
    uint8_t key_id;
    uint16_t kem_id;
    size_t public_key_len;
    uint8_t public_key[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    size_t n_suites;
    twoway_symmetric_suite suites[TWOWAY_KEY_CONFIG_MAX_SUITES];
} twoway_key_config;

/*
 * One configuration:
 *   key_id(1) || kem_id(2) || public_key(Npk) || len(2) || len/4 x (kdf_id(2) || aead_id(2))
 * Encode: TWOWAY_ERR_ARG when cfg has no suite (or more than
 * TWOWAY_KEY_CONFIG_MAX_SUITES), an empty public key, or a public key of the
 * wrong length for a built-in KEM (another KEM's key is written as given).
 * The suites are written as they are, unchecked.
 * Buffers, here and in every encoder below: *out_len is the room in out on
 * entry and the bytes written on return; when the room is too small the
 * result is TWOWAY_ERR_BUFFER and *out_len is set to the size needed (out
 * may be NULL when *out_len is 0, to ask for the size).
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_key_config_encode(const twoway_key_config *cfg,
                                                          uint8_t *out, size_t *out_len);
/*
 * Decodes one configuration from the start of in; *consumed gets its length
 * (bytes after it are not read). TWOWAY_ERR_UNSUPPORTED for a KEM that is not
 * built in (its key length is unknown); TWOWAY_ERR_FORMAT when truncated or
 * the algorithm list length is not a non-zero multiple of 4 or runs past
 * in_len; TWOWAY_ERR_KEY when the public key is not valid (length, encoding,
 * point on the curve). Unknown (KDF, AEAD) pairs are skipped (the export-only
 * AEAD too), and so are repeated ones; the others keep their order. If none
 * is left, TWOWAY_ERR_UNSUPPORTED, and then *consumed still gets the
 * configuration's length (a caller may step over it); on every other error
 * *consumed is 0. consumed may be NULL. *cfg is written only on success.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_key_config_decode(twoway_key_config *cfg, const uint8_t *in,
                                                          size_t in_len, size_t *consumed);

/* application/ohttp-keys: each configuration prefixed by its 2-byte length.
 * n must be at least 1 (an empty list is not valid); errors as above. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_key_configs_encode(const twoway_key_config *cfgs, size_t n,
                                                           uint8_t *out, size_t *out_len);
/*
 * Decodes a list into cfgs[max]; *n gets the count kept. Configurations with
 * an unsupported KEM or no supported pair are skipped; any malformed entry
 * (lengths that disagree, a bad public key) rejects the whole list
 * (TWOWAY_ERR_FORMAT or TWOWAY_ERR_KEY), as does an empty list. A
 * well-formed list of which nothing is kept is TWOWAY_ERR_UNSUPPORTED.
 * TWOWAY_ERR_BUFFER if more than max are kept: the whole list is checked
 * first, *n is then the count needed and cfgs holds the first max. On every
 * other error *n is 0 and the contents of cfgs are unspecified. cfgs may be
 * NULL when max is 0.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_key_configs_decode(twoway_key_config *cfgs, size_t max,
                                                           size_t *n, const uint8_t *in,
                                                           size_t in_len);

/*
 * The configuration of key (a key pair or a public key of a built-in or
 * custom KEM) under key_id, accepting the (KDF, AEAD) pairs suites[n_suites]
 * (1 to TWOWAY_KEY_CONFIG_MAX_SUITES, none twice; written as given).
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_key_config_of_key(twoway_key_config *cfg, uint8_t key_id,
                                                          const twoway_hpke_key *key,
                                                          const twoway_symmetric_suite *suites,
                                                          size_t n_suites);

/* Any key id, for twoway_key_configs_select. */
#define TWOWAY_ANY_KEY_ID (-1)

/*
 * What a client does with a receiver's application/ohttp-keys list: picks
 * the first configuration kept by twoway_key_configs_decode() with key_id
 * (TWOWAY_ANY_KEY_ID: any) that accepts a (KDF, AEAD) pair matching kdf_id
 * and aead_id (0: any; the configuration's first matching pair is taken),
 * and gives it in *cfg with its built-in suite in *suite. A malformed list
 * is refused whole (as by twoway_key_configs_decode);
 * TWOWAY_ERR_KEY_MISMATCH when no configuration has key_id,
 * TWOWAY_ERR_UNSUPPORTED when those that have it accept no matching pair.
 * twoway_request_sealer_new_for_configs() (message.h) does this and seals.
 */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_key_configs_select(twoway_key_config *cfg, twoway_hpke_suite *suite, const uint8_t *list,
                          size_t list_len, int key_id, uint16_t kdf_id, uint16_t aead_id);

/* --------------------------------------------------------------- key ring */

/*
 * Lookups, receiver setups, exports, additions and removals may run from
 * several threads at once (a read-write lock: additions and removals wait
 * for the readers; with glibc, new readers also wait for a waiting writer,
 * so a steady flow of requests cannot hold off a rotation). A receiver
 * setup runs the suite's KEM (a key's DH callback, a custom table) under the
 * read lock: those must not call into the same ring. A NULL ring is
 * TWOWAY_ERR_ARG (count: 0).
 */
typedef struct twoway_keyring twoway_keyring;

TWOWAY_API TWOWAY_MUST_CHECK int twoway_keyring_new(twoway_keyring **out);

/*
 * Adds a private key for requests with this key id and suite. The ring
 * copies *suite (the tables it points to must outlive the ring) and borrows
 * key: keep it alive until it is removed or the ring freed. The same key may
 * be added under several suites and key ids. Entries are told apart by
 * (key id, KEM id, KDF id, AEAD id), read from the tables, so custom tables
 * with identifiers of their own work. TWOWAY_ERR_ARG if an entry with those
 * ids exists already, the key is not private or is not of suite->kem (the
 * same table), the suite is export-only (a request must be sealed) or a
 * table is incomplete; TWOWAY_ERR_UNSUPPORTED for a table of another ABI
 * version; TWOWAY_ERR_NOMEM.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_keyring_add(twoway_keyring *ring, uint8_t key_id,
                                                    const twoway_hpke_suite *suite,
                                                    const twoway_hpke_key *key);
/*
 * Adds key under cfg->key_id for every (KDF, AEAD) pair of cfg, all or none
 * (TWOWAY_ERR_ARG if any of them is in the ring already). cfg must be key's
 * configuration: its KEM and public key (TWOWAY_ERR_ARG otherwise); its
 * pairs must be built in (TWOWAY_ERR_UNSUPPORTED). The key is borrowed, as
 * by twoway_keyring_add(). Key files (<twoway/keyfile.h>) are added with
 * twoway_keyring_load_key_file(), which gives the key to the ring.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_keyring_add_config(twoway_keyring *ring,
                                                           const twoway_key_config *cfg,
                                                           const twoway_hpke_key *key);
/* Removes the entry; TWOWAY_ERR_KEY_MISMATCH if there is none. It waits for
 * the requests being set up with the key; after it returns, the ring no
 * longer touches the key, which the caller may then free (a key the ring
 * owns is freed with the last entry that holds it). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_keyring_remove(twoway_keyring *ring, uint8_t key_id,
                                                       uint16_t kem_id, uint16_t kdf_id,
                                                       uint16_t aead_id);
/* Number of entries (0 for NULL). */
TWOWAY_API size_t twoway_keyring_count(const twoway_keyring *ring);

/* The ring as application/ohttp-keys: one configuration per (key id, key),
 * in the order they were first added, listing its (KDF, AEAD) pairs in the
 * order they were added. TWOWAY_ERR_STATE for an empty ring (an empty list
 * is not valid); TWOWAY_ERR_TOO_BIG if a configuration would not fit its
 * 16-bit length (a custom KEM with a huge key); buffers as for the encoders. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_keyring_export_configs(const twoway_keyring *ring,
                                                               uint8_t *out, size_t *out_len);

/* Frees the ring, and the keys it owns (those of key files); borrowed keys
 * stay the caller's. No other call may use the ring meanwhile. */
TWOWAY_API void twoway_keyring_free(twoway_keyring *ring);

#ifdef __cplusplus
}
#endif

#endif /* TWOWAY_KEYRING_H */
