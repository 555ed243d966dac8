/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An OpenSSL cipher update over lengths of any size: EVP takes int lengths,
 * so long inputs go in pieces. Shared by both libraries' AEADs.
 */
#ifndef COMMON_CIPHER_H
#define COMMON_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* EVP_CipherUpdate of in[len] into out (NULL: associated data), in pieces
 * of at most 2^30 bytes. 1 on success, 0 on failure. */
int util_cipher_update(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *in, size_t len);

#endif /* COMMON_CIPHER_H */
