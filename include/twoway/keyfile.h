/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway/keyfile.h — the receiver's private key file: what `twoway keygen`
 * writes and a server loads into its key ring.
 *
 * Text, mode 0600, at most TWOWAY_KEY_FILE_MAX_LEN bytes:
 *
 *   # twoway private key: keep it secret. ...     ('#' lines and blank lines anywhere)
 *   twoway-private-key 1                          (the first other line)
 *   key-id 1                                      (0 to 255)
 *   kem x25519                                    (an algorithm name, twoway_hpke_alg_name)
 *   suite sha256 aes128gcm                        (one line per accepted (KDF, AEAD) pair)
 *   public-key <hex>
 *   private-key <hex>
 *
 * Each field once (suite 1 to TWOWAY_KEY_CONFIG_MAX_SUITES times, no pair
 * twice), in any order; the public key must be the private key's. Its
 * public half is the key configuration (twoway_key_config) that clients
 * seal requests to. Reading refuses anything else, and says where
 * (twoway_error_detail(): "line 5: unknown KDF 'sha1'").
 */
#ifndef TWOWAY_KEYFILE_H
#define TWOWAY_KEYFILE_H

#include <twoway/hpke.h>
#include <twoway/keyring.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest key file read or written. */
#define TWOWAY_KEY_FILE_MAX_LEN 4096u

/*
 * The text of the key file of key (a private key of a built-in KEM) with
 * its configuration cfg (twoway_key_config_of_key: its key id, KEM, public
 * key and pairs; TWOWAY_ERR_ARG if cfg is not key's or names an algorithm
 * that is not built in). No NUL is added. *out_len: the room on entry, the
 * length on return (the size needed with TWOWAY_ERR_BUFFER; out may be NULL
 * to ask). The text holds the private key: wipe it when done.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_key_file_encode(const twoway_key_config *cfg,
                                                        const twoway_hpke_key *key, char *out,
                                                        size_t *out_len);

/*
 * Parses key file text: *key gets the private key (free it with
 * twoway_hpke_key_free) and *cfg its configuration (cfg may be NULL).
 * TWOWAY_ERR_FORMAT for text that is not a key file or breaks a rule
 * above, TWOWAY_ERR_UNSUPPORTED for an unknown algorithm name,
 * TWOWAY_ERR_KEY for a private key that is not valid or a public key that
 * is not its own; twoway_error_detail() names the line.
 */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_key_file_decode(twoway_key_config *cfg, twoway_hpke_key **key, const char *text, size_t len);

/* Writes the key file to path (mode 0600 whatever the umask) through a
 * temporary file renamed into place: never a half-written file. An
 * existing file is replaced. TWOWAY_ERR_IO (errno set) on a file error. */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_key_file_save(const char *path, const twoway_key_config *cfg, const twoway_hpke_key *key);

/* Reads and parses path (at most TWOWAY_KEY_FILE_MAX_LEN bytes, else
 * TWOWAY_ERR_TOO_BIG; TWOWAY_ERR_IO with errno when it cannot be read),
 * then as twoway_key_file_decode(). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_key_file_load(twoway_key_config *cfg, twoway_hpke_key **key,
                                                      const char *path);

/*
 * Loads a key file into ring: one entry per pair of the file, all or none
 * (TWOWAY_ERR_ARG if one of them is in the ring already). The ring owns
 * the key: it frees it when the last of those entries is removed, or with
 * the ring. A server with rotating keys loads each of its key files.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_keyring_load_key_file(twoway_keyring *ring,
                                                              const char *path);
/* The same from key file text in memory (a key from a secret store). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_keyring_add_key_file(twoway_keyring *ring, const char *text,
                                                             size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TWOWAY_KEYFILE_H */
