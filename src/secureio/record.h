/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records: XChaCha20-Poly1305 (the IETF construction, byte-identical to
 * libsodium's crypto_aead_xchacha20poly1305_ietf_*), computed as HChaCha20
 * once per key (the first 16 nonce bytes are fixed per key and direction)
 * and OpenSSL's ChaCha20-Poly1305 for each record:
 *
 *   subkey = HChaCha20(key, prefix[16])
 *   record = ChaCha20-Poly1305-IETF(subkey, nonce = 0^4 || LE64(counter), ad, pt)
 *
 * which is XChaCha20-Poly1305(key, nonce24 = prefix || LE64(counter)).
 *
 * A sio_record_key holds one EVP_CIPHER_CTX keyed once with the subkey (the
 * subkey itself is wiped); each record only sets its nonce and direction, so
 * one key may seal and open in any order. A key is not safe for concurrent
 * use by several threads (the context is per-call state); distinct keys are.
 *
 * Buffers: the output may be exactly the input (in place) but must not
 * otherwise overlap it. ad may be NULL when ad_len is 0; pt may be NULL when
 * its length is 0. A record holds at most SIO_RECORD_MAX_PT bytes of
 * plaintext: IETF ChaCha20's 32-bit block counter, block 0 keying Poly1305
 * (libsodium's crypto_aead_chacha20poly1305_ietf limit). libsodium's XChaCha
 * variant accepts more, carrying the block counter into the 4 zero bytes of
 * the nonce; we refuse rather than depend on how OpenSSL wraps. Inputs
 * longer than INT_MAX are fed to OpenSSL in pieces.
 */
#ifndef SECUREIO_RECORD_H
#define SECUREIO_RECORD_H

#include <secureio/secureio.h>

#include <stddef.h>
#include <stdint.h>

#define SIO_RECORD_KEY_LEN 32u
#define SIO_RECORD_PREFIX_LEN 16u
#define SIO_XNONCE_LEN 24u
#define SIO_RECORD_TAG_LEN 16u
/* 64 * (2^32 - 1) bytes: 256 GiB minus one block. */
#define SIO_RECORD_MAX_PT (64ull * 0xffffffffull)

typedef struct sio_record_key {
    void *ctx; /* EVP_CIPHER_CTX keyed with the subkey; NULL when unset */
} sio_record_key;

/* Keys k for (key, prefix); returns SECUREIO_OK, or SECUREIO_ERR_ARG (a NULL
 * pointer), SECUREIO_ERR_NOMEM or SECUREIO_ERR_CRYPTO, k then unset (ctx
 * NULL). k is overwritten: clear a key that was set before keying it again. */
int sio_record_key_init(sio_record_key *k, const uint8_t key[SIO_RECORD_KEY_LEN],
                        const uint8_t prefix[SIO_RECORD_PREFIX_LEN]);
/* ct[pt_len + 16] = seal(counter, ad, pt): the ciphertext, then the tag.
 * ct may equal pt. SECUREIO_ERR_ARG on an unset key or a NULL buffer,
 * SECUREIO_ERR_LIMIT if pt_len > SIO_RECORD_MAX_PT, SECUREIO_ERR_CRYPTO if
 * OpenSSL fails (ct then holds nothing usable). The caller never seals two
 * records with the same (key, prefix, counter). */
int sio_record_seal(sio_record_key *k, uint8_t *ct, uint64_t counter, const uint8_t *ad,
                    size_t ad_len, const uint8_t *pt, size_t pt_len);
/* The same seal in pieces, for a record gathered from several buffers (a
 * packet of messages sealed straight from the caller's memory): begin with
 * the associated data, then any number of updates (out[i] = the ciphertext
 * of in[i]; out may equal in), then the tag. A key seals one record at a
 * time this way. Same return codes as sio_record_seal. */
int sio_record_seal_begin(sio_record_key *k, uint64_t counter, const uint8_t *ad, size_t ad_len);
int sio_record_seal_update(sio_record_key *k, uint8_t *out, const uint8_t *in, size_t len);
int sio_record_seal_end(sio_record_key *k, uint8_t tag[SIO_RECORD_TAG_LEN]);

/* pt[ct_len - 16] = open(counter, ad, ct); pt may equal ct. SECUREIO_OK only
 * if the tag is authentic. SECUREIO_ERR_AUTH on a bad tag: pt[ct_len - 16]
 * then holds zeros (nothing of the forged plaintext); also on a ct_len below
 * 16 or above SIO_RECORD_MAX_PT + 16 (nothing written). SECUREIO_ERR_ARG on
 * an unset key or a NULL buffer (nothing written), SECUREIO_ERR_CRYPTO if
 * OpenSSL fails (pt zeroed). */
SECUREIO_MUST_CHECK int sio_record_open(sio_record_key *k, uint8_t *pt, uint64_t counter,
                                        const uint8_t *ad, size_t ad_len, const uint8_t *ct,
                                        size_t ct_len);
/* Frees and wipes (OpenSSL cleanses the key schedule); k is then unset.
 * Safe on NULL, an unset or a cleared key. */
void sio_record_key_clear(sio_record_key *k);

/* One-shot XChaCha20-Poly1305 with a full 24-byte nonce, as libsodium's
 * crypto_aead_xchacha20poly1305_ietf_encrypt/decrypt (ct = ciphertext ||
 * tag): a key with prefix = nonce[0..16] and counter = LE64(nonce[16..24]),
 * used once. Same buffer rules and return codes as the record functions. */
int sio_xchacha20poly1305_seal(uint8_t *ct, const uint8_t key[SIO_RECORD_KEY_LEN],
                               const uint8_t nonce[SIO_XNONCE_LEN], const uint8_t *ad,
                               size_t ad_len, const uint8_t *pt, size_t pt_len);
SECUREIO_MUST_CHECK int sio_xchacha20poly1305_open(uint8_t *pt,
                                                   const uint8_t key[SIO_RECORD_KEY_LEN],
                                                   const uint8_t nonce[SIO_XNONCE_LEN],
                                                   const uint8_t *ad, size_t ad_len,
                                                   const uint8_t *ct, size_t ct_len);

#endif /* SECUREIO_RECORD_H */
