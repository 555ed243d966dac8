/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secureio key derivation: BLAKE3 in its derive_key and keyed modes.
 * Every key the protocol uses comes out of these two functions, each with
 * its own context string, so no two uses of a secret can collide.
 */
#ifndef SECUREIO_KDF_H
#define SECUREIO_KDF_H

#include <stddef.h>
#include <stdint.h>

#define SIO_KDF_KEY_LEN 32u

/* A piece of input; the pieces are hashed in order, as one string. */
typedef struct sio_bytes {
    const uint8_t *data;
    size_t len;
} sio_bytes;

/* out[out_len] = BLAKE3-derive_key(context, in[0] || ... || in[n-1]). */
void sio_kdf_derive(const char *context, const sio_bytes *in, size_t n, uint8_t *out,
                    size_t out_len);

/* out[out_len] = BLAKE3-keyed_hash(key, in[0] || ... || in[n-1]). */
void sio_kdf_keyed(const uint8_t key[SIO_KDF_KEY_LEN], const sio_bytes *in, size_t n, uint8_t *out,
                   size_t out_len);

/* out[out_len] = BLAKE3(in[0] || ... || in[n-1]) (the plain hash, for transcripts). */
void sio_kdf_hash(const sio_bytes *in, size_t n, uint8_t *out, size_t out_len);

#endif /* SECUREIO_KDF_H */
