/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to libtwoway's HPKE: the key object, the context, the cached
 * OpenSSL algorithm handles and the labeled KDF helpers of RFC 9180 §4.
 */
#ifndef TWOWAY_HPKE_INTERNAL_H
#define TWOWAY_HPKE_INTERNAL_H

#include <twoway/hpke.h>

#include <openssl/evp.h>

/* How a key holds its private half. */
enum hpke_key_kind {
    HPKE_KEY_PUBLIC = 0, /* no private half */
    HPKE_KEY_EVP,        /* an EVP_PKEY with the private key */
    HPKE_KEY_DH_FN,      /* a caller's DH callback */
    HPKE_KEY_CUSTOM      /* a custom KEM's handle */
};

struct twoway_hpke_key {
    const twoway_hpke_kem *kem;
    enum hpke_key_kind kind;
    EVP_PKEY *pkey; /* built-in KEMs: the public key, and the private one for HPKE_KEY_EVP */
    int exportable; /* the private key may be serialized */
    twoway_hpke_dh_fn dh;
    void *handle;
    void (*free_handle)(void *);
    size_t pk_len;
    uint8_t pk[]; /* serialized public key */
};

enum hpke_role { HPKE_ROLE_SENDER = 1, HPKE_ROLE_RECEIVER = 2 };

struct twoway_hpke_ctx {
    twoway_hpke_suite suite;
    enum hpke_role role;
    void *aead_state; /* NULL for export-only */
    uint64_t seq;
    uint64_t seq_limit; /* seq may not reach this value */
    uint8_t base_nonce[TWOWAY_HPKE_MAX_NONCE_LEN];
    uint8_t exporter_secret[TWOWAY_HPKE_MAX_SECRET_LEN];
};

/* The built-in tables (hpke_kdf.c, hpke_aead.c, hpke_kem_dh.c). */
extern const twoway_hpke_kdf hpke_kdf_hkdf_sha256, hpke_kdf_hkdf_sha384, hpke_kdf_hkdf_sha512;
extern const twoway_hpke_aead hpke_aead_aes128gcm, hpke_aead_aes256gcm, hpke_aead_chacha20poly1305,
    hpke_aead_export_only;
extern const twoway_hpke_kem hpke_kem_p256, hpke_kem_p384, hpke_kem_p521, hpke_kem_x25519,
    hpke_kem_x448;

/* The RFC 9180 suite_id: "KEM" || kem_id, or "HPKE" || kem || kdf || aead. */
typedef struct hpke_suite_id {
    uint8_t bytes[10];
    size_t len;
} hpke_suite_id;

void hpke_suite_id_kem(hpke_suite_id *sid, uint16_t kem_id);
void hpke_suite_id_hpke(hpke_suite_id *sid, uint16_t kem_id, uint16_t kdf_id, uint16_t aead_id);

/* LabeledExtract(salt, label, ikm) with ikm given in pieces. */
int hpke_labeled_extract(const twoway_hpke_kdf *kdf, const hpke_suite_id *sid, uint8_t *prk,
                         const uint8_t *salt, size_t salt_len, const char *label,
                         const twoway_hpke_slice *ikm, size_t n_ikm);
/* LabeledExpand(prk, label, info, L) with info given in pieces. */
int hpke_labeled_expand(const twoway_hpke_kdf *kdf, const hpke_suite_id *sid, uint8_t *out,
                        size_t out_len, const uint8_t *prk, size_t prk_len, const char *label,
                        const twoway_hpke_slice *info, size_t n_info);

/* Several HKDF-Expand outputs from one PRK. For the built-in KDFs the HMAC
 * key blocks are hashed once for all of them; other tables get one expand
 * call per output. On failure every output is wiped. */
typedef struct hpke_expand_job {
    uint8_t *out;
    size_t out_len;
    const twoway_hpke_slice *info;
    size_t n_info;
} hpke_expand_job;
int hpke_expand_many(const twoway_hpke_kdf *kdf, const uint8_t *prk, size_t prk_len,
                     const hpke_expand_job *jobs, size_t n_jobs);

/* The same with RFC 9180 labels (at most 4 outputs). */
typedef struct hpke_labeled_job {
    uint8_t *out;
    size_t out_len;
    const char *label;
    const twoway_hpke_slice *info;
    size_t n_info;
} hpke_labeled_job;
int hpke_labeled_expand_many(const twoway_hpke_kdf *kdf, const hpke_suite_id *sid,
                             const uint8_t *prk, size_t prk_len, const hpke_labeled_job *jobs,
                             size_t n_jobs);

/* Cached, pre-fetched OpenSSL handles (fetched once per process). */
const EVP_MD *hpke_md(uint16_t kdf_id);
const EVP_CIPHER *hpke_cipher(uint16_t aead_id);

/* Allocates a key of kem with room for pk_len public bytes, zeroed. */
twoway_hpke_key *hpke_key_alloc(const twoway_hpke_kem *kem, size_t pk_len);

/* The built-in DHKEMs (hpke_kem_dh.c): whether kem is one, and keys from an
 * EVP_PKEY (a new reference is taken) or behind a DH callback (kind and
 * callback are filled in by the caller). */
int hpke_kem_is_dh(const twoway_hpke_kem *kem);
int hpke_dh_key_from_evp(const twoway_hpke_kem *kem, twoway_hpke_key **out, EVP_PKEY *pkey);
int hpke_dh_key_from_fn(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *pk,
                        size_t pk_len);

/* Validates the fields every table must have. */
int hpke_suite_check(const twoway_hpke_suite *suite);

/*
 * Sets up a context. ephemeral is the sender's ephemeral key pair for
 * deterministic tests, NULL in normal use. Normal callers reach this only
 * through twoway_hpke_setup_sender(); tests through hpke_testing.h.
 */
int hpke_setup_sender_with(twoway_hpke_ctx **out, uint8_t *enc, size_t *enc_len,
                           const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                           const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                           const twoway_hpke_key *ephemeral);

#endif /* TWOWAY_HPKE_INTERNAL_H */
