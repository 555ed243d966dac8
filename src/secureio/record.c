/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records: XChaCha20-Poly1305 as HChaCha20 (libsodium) once per key and
 * OpenSSL's ChaCha20-Poly1305 per record (the construction: record.h).
 *
 * One EVP_CIPHER_CTX per key, keyed once with the subkey; each record
 * re-initialises it with a NULL key, its nonce and its direction, which only
 * resets the nonce and the Poly1305 state (the same pattern as
 * src/twoway/hpke_aead.c). Measured on OpenSSL 3.0.19 with 64-byte records,
 * where the per-record overhead shows most (about 0.5 us a record, nearly
 * all inside OpenSSL): switching direction on one context costs nothing
 * measurable against a context per direction, nor does the legacy
 * EVP_EncryptInit_ex, nor passing the tag as an init parameter instead of
 * EVP_CTRL_AEAD_SET_TAG (within 3%, below the noise). So: one context, and
 * the same calls as hpke_aead.c. bench/bench_record.c compares with raw EVP.
 */
#include "secureio/record.h"

#include "common/cipher.h"
#include "common/util.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

/* EVP lengths are ints: feed long inputs in pieces of this size. */
#define RECORD_IV_LEN 12u

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *chacha_poly;

static void fetch_cipher(void)
{
    /* Fetched once per process: EVP_chacha20_poly1305() would fetch again
     * at every key (and the one-shot functions make a key per call). Kept
     * for the life of the process. */
    chacha_poly = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
}

static const EVP_CIPHER *record_cipher(void)
{
    if (pthread_once(&fetch_once, fetch_cipher) != 0)
        return NULL;
    return chacha_poly;
}

/* The IETF nonce of a record: 0^4 || LE64(counter). */
static void record_iv(uint8_t iv[RECORD_IV_LEN], uint64_t counter)
{
    iv[0] = iv[1] = iv[2] = iv[3] = 0;
    for (unsigned i = 0; i < 8; i++)
        iv[4 + i] = (uint8_t)(counter >> (8 * i));
}

int sio_record_key_init(sio_record_key *k, const uint8_t key[SIO_RECORD_KEY_LEN],
                        const uint8_t prefix[SIO_RECORD_PREFIX_LEN])
{
    if (k == NULL)
        return SECUREIO_ERR_ARG;
    k->ctx = NULL;
    if (key == NULL || prefix == NULL)
        return SECUREIO_ERR_ARG;
    const EVP_CIPHER *cipher = record_cipher();
    if (cipher == NULL)
        return SECUREIO_ERR_CRYPTO;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c == NULL)
        return SECUREIO_ERR_NOMEM;
    uint8_t subkey[SIO_RECORD_KEY_LEN];
    int rc = SECUREIO_OK;
    if (crypto_core_hchacha20(subkey, prefix, key, NULL) != 0 ||
        !EVP_CipherInit_ex2(c, cipher, subkey, NULL, 1, NULL)) {
        EVP_CIPHER_CTX_free(c);
        rc = SECUREIO_ERR_CRYPTO;
    } else {
        k->ctx = c;
    }
    util_wipe(subkey, sizeof subkey);
    return rc;
}

int sio_record_seal(sio_record_key *k, uint8_t *ct, uint64_t counter, const uint8_t *ad,
                    size_t ad_len, const uint8_t *pt, size_t pt_len)
{
    if (k == NULL || k->ctx == NULL || ct == NULL || (pt == NULL && pt_len > 0) ||
        (ad == NULL && ad_len > 0))
        return SECUREIO_ERR_ARG;
    if ((unsigned long long)pt_len > SIO_RECORD_MAX_PT)
        return SECUREIO_ERR_LIMIT;
    EVP_CIPHER_CTX *c = k->ctx;
    uint8_t iv[RECORD_IV_LEN], scratch[SIO_RECORD_TAG_LEN];
    int outl = 0;
    record_iv(iv, counter);
    /* ChaCha20-Poly1305's final step only computes the tag: its output
     * (none) goes to a scratch buffer, never past the caller's. */
    if (!EVP_CipherInit_ex2(c, NULL, NULL, iv, 1, NULL) ||
        !util_cipher_update(c, NULL, ad, ad_len) || !util_cipher_update(c, ct, pt, pt_len) ||
        !EVP_CipherFinal_ex(c, scratch, &outl) || outl != 0 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, SIO_RECORD_TAG_LEN, ct + pt_len) <= 0)
        return SECUREIO_ERR_CRYPTO;
    return SECUREIO_OK;
}

int sio_record_seal_begin(sio_record_key *k, uint64_t counter, const uint8_t *ad, size_t ad_len)
{
    if (k == NULL || k->ctx == NULL || (ad == NULL && ad_len > 0))
        return SECUREIO_ERR_ARG;
    uint8_t iv[RECORD_IV_LEN];
    record_iv(iv, counter);
    if (!EVP_CipherInit_ex2(k->ctx, NULL, NULL, iv, 1, NULL) ||
        !util_cipher_update(k->ctx, NULL, ad, ad_len))
        return SECUREIO_ERR_CRYPTO;
    return SECUREIO_OK;
}

int sio_record_seal_update(sio_record_key *k, uint8_t *out, const uint8_t *in, size_t len)
{
    if (k == NULL || k->ctx == NULL || ((out == NULL || in == NULL) && len > 0))
        return SECUREIO_ERR_ARG;
    return util_cipher_update(k->ctx, out, in, len) ? SECUREIO_OK : SECUREIO_ERR_CRYPTO;
}

int sio_record_seal_end(sio_record_key *k, uint8_t tag[SIO_RECORD_TAG_LEN])
{
    uint8_t scratch[SIO_RECORD_TAG_LEN];
    int outl = 0;
    if (k == NULL || k->ctx == NULL || tag == NULL)
        return SECUREIO_ERR_ARG;
    if (!EVP_CipherFinal_ex(k->ctx, scratch, &outl) || outl != 0 ||
        EVP_CIPHER_CTX_ctrl(k->ctx, EVP_CTRL_AEAD_GET_TAG, SIO_RECORD_TAG_LEN, tag) <= 0)
        return SECUREIO_ERR_CRYPTO;
    return SECUREIO_OK;
}

int sio_record_open(sio_record_key *k, uint8_t *pt, uint64_t counter, const uint8_t *ad,
                    size_t ad_len, const uint8_t *ct, size_t ct_len)
{
    if (k == NULL || k->ctx == NULL || ct == NULL || (pt == NULL && ct_len > SIO_RECORD_TAG_LEN) ||
        (ad == NULL && ad_len > 0))
        return SECUREIO_ERR_ARG;
    if (ct_len < SIO_RECORD_TAG_LEN ||
        (unsigned long long)(ct_len - SIO_RECORD_TAG_LEN) > SIO_RECORD_MAX_PT)
        return SECUREIO_ERR_AUTH;
    EVP_CIPHER_CTX *c = k->ctx;
    size_t pt_len = ct_len - SIO_RECORD_TAG_LEN;
    uint8_t iv[RECORD_IV_LEN], tag[SIO_RECORD_TAG_LEN], scratch[SIO_RECORD_TAG_LEN];
    int outl = 0;
    record_iv(iv, counter);
    /* Copied first: pt may be ct. */
    memcpy(tag, ct + pt_len, SIO_RECORD_TAG_LEN);
    if (!EVP_CipherInit_ex2(c, NULL, NULL, iv, 0, NULL) ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, SIO_RECORD_TAG_LEN, tag) <= 0 ||
        !util_cipher_update(c, NULL, ad, ad_len))
        return SECUREIO_ERR_CRYPTO; /* nothing written yet */
    if (!util_cipher_update(c, pt, ct, pt_len)) {
        if (pt_len > 0)
            util_wipe(pt, pt_len);
        return SECUREIO_ERR_CRYPTO;
    }
    if (!EVP_CipherFinal_ex(c, scratch, &outl) || outl != 0) {
        /* The tag did not verify: take back the plaintext. */
        if (pt_len > 0)
            util_wipe(pt, pt_len);
        return SECUREIO_ERR_AUTH;
    }
    return SECUREIO_OK;
}

void sio_record_key_clear(sio_record_key *k)
{
    if (k == NULL)
        return;
    /* EVP_CIPHER_CTX_free cleanses the key schedule. */
    EVP_CIPHER_CTX_free(k->ctx);
    k->ctx = NULL;
}

int sio_xchacha20poly1305_seal(uint8_t *ct, const uint8_t key[SIO_RECORD_KEY_LEN],
                               const uint8_t nonce[SIO_XNONCE_LEN], const uint8_t *ad,
                               size_t ad_len, const uint8_t *pt, size_t pt_len)
{
    if (nonce == NULL)
        return SECUREIO_ERR_ARG;
    sio_record_key k;
    int rc = sio_record_key_init(&k, key, nonce);
    if (rc == SECUREIO_OK)
        rc = sio_record_seal(&k, ct, util_load64_le(nonce + SIO_RECORD_PREFIX_LEN), ad, ad_len, pt,
                             pt_len);
    sio_record_key_clear(&k);
    return rc;
}

int sio_xchacha20poly1305_open(uint8_t *pt, const uint8_t key[SIO_RECORD_KEY_LEN],
                               const uint8_t nonce[SIO_XNONCE_LEN], const uint8_t *ad,
                               size_t ad_len, const uint8_t *ct, size_t ct_len)
{
    if (nonce == NULL)
        return SECUREIO_ERR_ARG;
    sio_record_key k;
    int rc = sio_record_key_init(&k, key, nonce);
    if (rc == SECUREIO_OK)
        rc = sio_record_open(&k, pt, util_load64_le(nonce + SIO_RECORD_PREFIX_LEN), ad, ad_len, ct,
                             ct_len);
    sio_record_key_clear(&k);
    return rc;
}
