/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry of built-in HPKE algorithms, and the OpenSSL digests and
 * ciphers they use, fetched once per process.
 */
#include "twoway/hpke_internal.h"

#include "common/util.h"

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

/* ------------------------------------------------------------------ names */

typedef struct alg_name {
    uint16_t id;
    const char *name, *alias, *rfc;
} alg_name;

static const alg_name kem_names[] = {
    {TWOWAY_HPKE_KEM_X25519_SHA256, "x25519", "dhkem-x25519", "DHKEM(X25519, HKDF-SHA256)"},
    {TWOWAY_HPKE_KEM_P256_SHA256, "p256", "p-256", "DHKEM(P-256, HKDF-SHA256)"},
    {TWOWAY_HPKE_KEM_P384_SHA384, "p384", "p-384", "DHKEM(P-384, HKDF-SHA384)"},
    {TWOWAY_HPKE_KEM_P521_SHA512, "p521", "p-521", "DHKEM(P-521, HKDF-SHA512)"},
    {TWOWAY_HPKE_KEM_X448_SHA512, "x448", "dhkem-x448", "DHKEM(X448, HKDF-SHA512)"},
};
static const alg_name kdf_names[] = {
    {TWOWAY_HPKE_KDF_HKDF_SHA256, "sha256", "hkdf-sha256", "HKDF-SHA256"},
    {TWOWAY_HPKE_KDF_HKDF_SHA384, "sha384", "hkdf-sha384", "HKDF-SHA384"},
    {TWOWAY_HPKE_KDF_HKDF_SHA512, "sha512", "hkdf-sha512", "HKDF-SHA512"},
};
static const alg_name aead_names[] = {
    {TWOWAY_HPKE_AEAD_AES_128_GCM, "aes128gcm", "aes-128-gcm", "AES-128-GCM"},
    {TWOWAY_HPKE_AEAD_AES_256_GCM, "aes256gcm", "aes-256-gcm", "AES-256-GCM"},
    {TWOWAY_HPKE_AEAD_CHACHA20_POLY1305, "chacha20poly1305", "chacha20-poly1305",
     "ChaCha20Poly1305"},
    {TWOWAY_HPKE_AEAD_EXPORT_ONLY, "export-only", "export-only", "Export-only"},
};

static const alg_name *names_of(twoway_hpke_alg kind, size_t *n)
{
    switch (kind) {
    case TWOWAY_HPKE_ALG_KEM: *n = UTIL_ARRAY_LEN(kem_names); return kem_names;
    case TWOWAY_HPKE_ALG_KDF: *n = UTIL_ARRAY_LEN(kdf_names); return kdf_names;
    case TWOWAY_HPKE_ALG_AEAD: *n = UTIL_ARRAY_LEN(aead_names); return aead_names;
    default: *n = 0; return NULL;
    }
}

static const alg_name *name_entry(twoway_hpke_alg kind, uint16_t id)
{
    size_t n;
    const alg_name *t = names_of(kind, &n);
    for (size_t i = 0; i < n; i++)
        if (t[i].id == id)
            return &t[i];
    return NULL;
}

/* ASCII case-insensitive equality (no locale). */
static int same_name(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
        if (x == 0)
            return 1;
    }
}

const char *twoway_hpke_alg_name(twoway_hpke_alg kind, uint16_t id)
{
    const alg_name *e = name_entry(kind, id);
    return e == NULL ? NULL : e->name;
}

const char *twoway_hpke_alg_rfc_name(twoway_hpke_alg kind, uint16_t id)
{
    const alg_name *e = name_entry(kind, id);
    return e == NULL ? NULL : e->rfc;
}

int twoway_hpke_alg_from_name(twoway_hpke_alg kind, const char *name, uint16_t *id)
{
    size_t n;
    const alg_name *t = names_of(kind, &n);
    if (name == NULL || id == NULL || t == NULL)
        return TWOWAY_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        if (same_name(name, t[i].name) || same_name(name, t[i].alias) ||
            same_name(name, t[i].rfc)) {
            *id = t[i].id;
            return TWOWAY_OK;
        }
    }
    return TWOWAY_ERR_UNSUPPORTED;
}
