/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in HPKE AEAD tables: AES-128-GCM, AES-256-GCM and
 * ChaCha20-Poly1305 on OpenSSL's EVP_CIPHER, and export-only.
 *
 * A state is one EVP_CIPHER_CTX keyed once; each message only sets its
 * nonce and direction, so the key schedule is computed once per key.
 */
#include "twoway/hpke_internal.h"

#include "common/cipher.h"
#include "common/util.h"

#include <limits.h>
#include <string.h>

#define AEAD_TAG_LEN 16
/* EVP lengths are ints: feed long inputs in pieces of this size. */

static int aead_init(const twoway_hpke_aead *aead, void **state, const uint8_t *key)
{
    const EVP_CIPHER *cipher = hpke_cipher(aead->id);
    if (cipher == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    /* These functions may sit in a caller's copy of a table: its sizes must
     * be the cipher's, or buffers sized from them would be wrong. */
    if (aead->key_len != (uint16_t)EVP_CIPHER_get_key_length(cipher) ||
        aead->nonce_len != (uint16_t)EVP_CIPHER_get_iv_length(cipher) ||
        aead->tag_len != AEAD_TAG_LEN)
        return TWOWAY_ERR_ARG;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c == NULL)
        return TWOWAY_ERR_NOMEM;
    if (!EVP_CipherInit_ex2(c, cipher, key, NULL, 1, NULL)) {
        EVP_CIPHER_CTX_free(c);
        return TWOWAY_ERR_CRYPTO;
    }
    *state = c;
    return TWOWAY_OK;
}

static void aead_free(void *state)
{
    /* EVP_CIPHER_CTX_free cleanses the key schedule. */
    EVP_CIPHER_CTX_free(state);
}

static int aead_seal(void *state, uint8_t *ct, const uint8_t *nonce, const uint8_t *aad,
                     size_t aad_len, const uint8_t *pt, size_t pt_len)
{
    EVP_CIPHER_CTX *c = state;
    int outl;
    if (!EVP_CipherInit_ex2(c, NULL, NULL, nonce, 1, NULL) ||
        !util_cipher_update(c, NULL, aad, aad_len) || !util_cipher_update(c, ct, pt, pt_len) ||
        !EVP_CipherFinal_ex(c, ct + pt_len, &outl) ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, ct + pt_len) <= 0)
        return TWOWAY_ERR_CRYPTO;
    return TWOWAY_OK;
}

static int aead_open(void *state, uint8_t *pt, const uint8_t *nonce, const uint8_t *aad,
                     size_t aad_len, const uint8_t *ct, size_t ct_len)
{
    EVP_CIPHER_CTX *c = state;
    uint8_t tag[AEAD_TAG_LEN];
    int outl;
    if (ct_len < AEAD_TAG_LEN)
        return TWOWAY_ERR_AUTH;
    size_t pt_len = ct_len - AEAD_TAG_LEN;
    /* Copied first: pt may overlap ct. */
    memcpy(tag, ct + pt_len, AEAD_TAG_LEN);
    if (!EVP_CipherInit_ex2(c, NULL, NULL, nonce, 0, NULL) ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, tag) <= 0 ||
        !util_cipher_update(c, NULL, aad, aad_len) || !util_cipher_update(c, pt, ct, pt_len))
        goto fail;
    if (!EVP_CipherFinal_ex(c, pt + pt_len, &outl))
        goto fail;
    return TWOWAY_OK;
fail:
    /* The tag did not verify (or OpenSSL failed): take back the plaintext. */
    util_wipe(pt, pt_len);
    return TWOWAY_ERR_AUTH;
}

#define AEAD_TABLE(name, aead_id, nk)                                                              \
    const twoway_hpke_aead name = {                                                                \
        .abi_version = TWOWAY_HPKE_ABI_VERSION,                                                    \
        .id = aead_id,                                                                             \
        .key_len = nk,                                                                             \
        .nonce_len = 12,                                                                           \
        .tag_len = AEAD_TAG_LEN,                                                                   \
        .init = aead_init,                                                                         \
        .seal = aead_seal,                                                                         \
        .open = aead_open,                                                                         \
        .free = aead_free,                                                                         \
    }

AEAD_TABLE(hpke_aead_aes128gcm, TWOWAY_HPKE_AEAD_AES_128_GCM, 16);
AEAD_TABLE(hpke_aead_aes256gcm, TWOWAY_HPKE_AEAD_AES_256_GCM, 32);
AEAD_TABLE(hpke_aead_chacha20poly1305, TWOWAY_HPKE_AEAD_CHACHA20_POLY1305, 32);

/* Export-only: no key, no Seal/Open (RFC 9180 §5.3). */
const twoway_hpke_aead hpke_aead_export_only = {
    .abi_version = TWOWAY_HPKE_ABI_VERSION,
    .id = TWOWAY_HPKE_AEAD_EXPORT_ONLY,
};
