/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry of built-in HPKE algorithms, and the OpenSSL digests and
 * ciphers they use, fetched once per process.
 */
#include "twoway/hpke_internal.h"

#include <pthread.h>

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256, *md_sha384, *md_sha512;
static EVP_CIPHER *c_aes128gcm, *c_aes256gcm, *c_chacha;

static void fetch_all(void)
{
    /* Explicit fetches: EVP_sha256() and friends would fetch on every use. */
    md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    md_sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
    c_aes128gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    c_aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    c_chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
}

const EVP_MD *hpke_md(uint16_t kdf_id)
{
    if (pthread_once(&fetch_once, fetch_all) != 0)
        return NULL;
    switch (kdf_id) {
    case TWOWAY_HPKE_KDF_HKDF_SHA256: return md_sha256;
    case TWOWAY_HPKE_KDF_HKDF_SHA384: return md_sha384;
    case TWOWAY_HPKE_KDF_HKDF_SHA512: return md_sha512;
    default: return NULL;
    }
}

const EVP_CIPHER *hpke_cipher(uint16_t aead_id)
{
    if (pthread_once(&fetch_once, fetch_all) != 0)
        return NULL;
    switch (aead_id) {
    case TWOWAY_HPKE_AEAD_AES_128_GCM: return c_aes128gcm;
    case TWOWAY_HPKE_AEAD_AES_256_GCM: return c_aes256gcm;
    case TWOWAY_HPKE_AEAD_CHACHA20_POLY1305: return c_chacha;
    default: return NULL;
    }
}

const twoway_hpke_kem *twoway_hpke_kem_by_id(uint16_t kem_id)
{
    switch (kem_id) {
    case TWOWAY_HPKE_KEM_P256_SHA256: return &hpke_kem_p256;
    case TWOWAY_HPKE_KEM_P384_SHA384: return &hpke_kem_p384;
    case TWOWAY_HPKE_KEM_P521_SHA512: return &hpke_kem_p521;
    case TWOWAY_HPKE_KEM_X25519_SHA256: return &hpke_kem_x25519;
    case TWOWAY_HPKE_KEM_X448_SHA512: return &hpke_kem_x448;
    default: return NULL;
    }
}

const twoway_hpke_kdf *twoway_hpke_kdf_by_id(uint16_t kdf_id)
{
    switch (kdf_id) {
    case TWOWAY_HPKE_KDF_HKDF_SHA256: return &hpke_kdf_hkdf_sha256;
    case TWOWAY_HPKE_KDF_HKDF_SHA384: return &hpke_kdf_hkdf_sha384;
    case TWOWAY_HPKE_KDF_HKDF_SHA512: return &hpke_kdf_hkdf_sha512;
    default: return NULL;
    }
}

const twoway_hpke_aead *twoway_hpke_aead_by_id(uint16_t aead_id)
{
    switch (aead_id) {
    case TWOWAY_HPKE_AEAD_AES_128_GCM: return &hpke_aead_aes128gcm;
    case TWOWAY_HPKE_AEAD_AES_256_GCM: return &hpke_aead_aes256gcm;
    case TWOWAY_HPKE_AEAD_CHACHA20_POLY1305: return &hpke_aead_chacha20poly1305;
    case TWOWAY_HPKE_AEAD_EXPORT_ONLY: return &hpke_aead_export_only;
    default: return NULL;
    }
}

int twoway_hpke_suite_from_ids(twoway_hpke_suite *suite, uint16_t kem_id, uint16_t kdf_id,
                               uint16_t aead_id)
{
    if (suite == NULL)
        return TWOWAY_ERR_ARG;
    suite->kem = twoway_hpke_kem_by_id(kem_id);
    suite->kdf = twoway_hpke_kdf_by_id(kdf_id);
    suite->aead = twoway_hpke_aead_by_id(aead_id);
    if (suite->kem == NULL || suite->kdf == NULL || suite->aead == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    return TWOWAY_OK;
}

int hpke_suite_check(const twoway_hpke_suite *suite)
{
    if (suite == NULL || suite->kem == NULL || suite->kdf == NULL || suite->aead == NULL)
        return TWOWAY_ERR_ARG;
    const twoway_hpke_kem *kem = suite->kem;
    const twoway_hpke_kdf *kdf = suite->kdf;
    const twoway_hpke_aead *aead = suite->aead;
    if (kem->abi_version != TWOWAY_HPKE_ABI_VERSION ||
        kdf->abi_version != TWOWAY_HPKE_ABI_VERSION || aead->abi_version != TWOWAY_HPKE_ABI_VERSION)
        return TWOWAY_ERR_UNSUPPORTED;
    if (kem->encap == NULL || kem->decap == NULL || kem->secret_len == 0 ||
        kem->secret_len > TWOWAY_HPKE_MAX_SECRET_LEN || kem->enc_len == 0)
        return TWOWAY_ERR_ARG;
    if (kdf->extract == NULL || kdf->expand == NULL || kdf->hash_len == 0 ||
        kdf->hash_len > TWOWAY_HPKE_MAX_SECRET_LEN)
        return TWOWAY_ERR_ARG;
    if (aead->id == TWOWAY_HPKE_AEAD_EXPORT_ONLY)
        return TWOWAY_OK;
    if (aead->init == NULL || aead->seal == NULL || aead->open == NULL || aead->free == NULL ||
        aead->key_len == 0 || aead->key_len > TWOWAY_HPKE_MAX_AEAD_KEY_LEN ||
        aead->nonce_len == 0 || aead->nonce_len > TWOWAY_HPKE_MAX_NONCE_LEN || aead->tag_len == 0 ||
        aead->tag_len > TWOWAY_HPKE_MAX_TAG_LEN)
        return TWOWAY_ERR_ARG;
    return TWOWAY_OK;
}
