/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What sshkey.c shares with the rest of libsecureio (keylist.c) and with the
 * tests. Internal: not installed, not exported from the shared library (the
 * names do not start with secureio_, and the library is built with hidden
 * visibility); only programs that link the static library reach them.
 */
#ifndef SECUREIO_SSHKEY_H
#define SECUREIO_SSHKEY_H

#include <secureio/identity.h>

#include <stddef.h>
#include <stdint.h>

/* sodium_init(), once per process (thread-safe): SECUREIO_OK, or
 * SECUREIO_ERR_CRYPTO when libsodium cannot be initialized. */
int sio_sodium_ready(void);

/*
 * Reads a whole file of at most max bytes into a new malloc'd buffer
 * (*out, *out_len; *out is not NUL-terminated and is never NULL on success).
 * SECUREIO_ERR_IO (errno tells why), SECUREIO_ERR_LIMIT when the file is
 * longer than max, SECUREIO_ERR_NOMEM. The caller wipes (if the content is
 * secret) and frees *out.
 */
int sio_read_file(const char *path, size_t max, char **out, size_t *out_len);
/* A util_read_file() result as a secureio code, with its detail. */
int sio_file_result(int rc, const char *path, size_t max);

/*
 * Test-only entry points. NEVER use them outside tests: the check integer of
 * a private key file is meant to be random.
 */

/* secureio_identity_encode() with the check integer given instead of drawn
 * at random: with a file's own check integer, re-encoding a key decoded from
 * an ssh-keygen file must give that file back byte for byte. */
int sio_sshkey_testing_encode(const secureio_identity *id, const char *comment, uint32_t check,
                              char *out, size_t *out_len);

/* The check integer of the file an identity was decoded from (0 for an
 * identity that was generated or made from a seed). */
uint32_t sio_sshkey_testing_check(const secureio_identity *id);

#endif /* SECUREIO_SSHKEY_H */
