/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway/hpke.h — Hybrid Public Key Encryption, RFC 9180.
 *
 * All four modes (base, psk, auth, auth_psk); the five DHKEMs
 * (P-256, P-384, P-521, X25519, X448); HKDF-SHA256/384/512; AES-128-GCM,
 * AES-256-GCM, ChaCha20-Poly1305 and export-only. Built on OpenSSL libcrypto.
 *
 * A suite is three tables of operations (KEM, KDF, AEAD). The built-in ones
 * come from twoway_hpke_suite_from_ids(); a caller may supply its own table
 * for any of the three, for example a KEM whose private key lives in an HSM.
 * For the built-in DHKEMs a private key may also be an OpenSSL EVP_PKEY
 * (provider keys included) or a caller's DH callback.
 *
 * Conventions: functions return TWOWAY_OK or a negative twoway_error. Output
 * buffers are the caller's, passed as (buf, size_t *len): *len is the room in
 * buf on entry and the bytes written on return; TWOWAY_ERR_BUFFER sets *len
 * to the size needed (as every encoder, sealer and opener of the library
 * does). Objects are opaque, created by
 * a function and released by its *_free; keys are immutable once made and may
 * be shared between threads; a context must be used by one thread at a time.
 * Every secret is wiped when the object holding it is freed.
 */
#ifndef TWOWAY_HPKE_H
#define TWOWAY_HPKE_H

#include <twoway/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ identifiers */

typedef enum twoway_hpke_mode {
    TWOWAY_HPKE_MODE_BASE = 0x00,
    TWOWAY_HPKE_MODE_PSK = 0x01,
    TWOWAY_HPKE_MODE_AUTH = 0x02,
    TWOWAY_HPKE_MODE_AUTH_PSK = 0x03
} twoway_hpke_mode;

#define TWOWAY_HPKE_KEM_P256_SHA256 0x0010u
#define TWOWAY_HPKE_KEM_P384_SHA384 0x0011u
#define TWOWAY_HPKE_KEM_P521_SHA512 0x0012u
#define TWOWAY_HPKE_KEM_X25519_SHA256 0x0020u
#define TWOWAY_HPKE_KEM_X448_SHA512 0x0021u

#define TWOWAY_HPKE_KDF_HKDF_SHA256 0x0001u
#define TWOWAY_HPKE_KDF_HKDF_SHA384 0x0002u
#define TWOWAY_HPKE_KDF_HKDF_SHA512 0x0003u

#define TWOWAY_HPKE_AEAD_AES_128_GCM 0x0001u
#define TWOWAY_HPKE_AEAD_AES_256_GCM 0x0002u
#define TWOWAY_HPKE_AEAD_CHACHA20_POLY1305 0x0003u
#define TWOWAY_HPKE_AEAD_EXPORT_ONLY 0xFFFFu

/* ------------------------------------------------------------------ sizes */

/* Largest sizes of the built-in algorithms (P-521 and SHA-512). */
#define TWOWAY_HPKE_MAX_ENC_LEN 133u        /* Nenc: an uncompressed P-521 point */
#define TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN 133u /* Npk */
#define TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN 66u /* Nsk */
#define TWOWAY_HPKE_TAG_LEN 16u             /* Nt of every built-in AEAD */
/* Limits every table, built-in or custom, must respect. */
#define TWOWAY_HPKE_MAX_SECRET_LEN 64u   /* Nsecret and Nh */
#define TWOWAY_HPKE_MAX_AEAD_KEY_LEN 64u /* Nk */
#define TWOWAY_HPKE_MAX_NONCE_LEN 32u    /* Nn */
#define TWOWAY_HPKE_MAX_TAG_LEN 32u      /* Nt */
/* A PSK must carry at least 32 bytes (RFC 9180 §5.1.2: 32 bytes of entropy). */
#define TWOWAY_HPKE_MIN_PSK_LEN 32u
/* Info, PSK, PSK id and exporter contexts may be at most this long. */
#define TWOWAY_HPKE_MAX_INPUT_LEN (1u << 24)

/* Version of the operation tables and of the parameter struct below. */
#define TWOWAY_HPKE_ABI_VERSION 1u

/* ------------------------------------------------------- opaque objects */

typedef struct twoway_hpke_key twoway_hpke_key; /* a public key, or a key pair */
typedef struct twoway_hpke_ctx twoway_hpke_ctx; /* an encryption/export context */

/* A byte string that is one piece of a longer input. */
typedef struct twoway_hpke_slice {
    const uint8_t *data;
    size_t len;
} twoway_hpke_slice;

/* ------------------------------------------------------ operation tables */

typedef struct twoway_hpke_kdf twoway_hpke_kdf;
typedef struct twoway_hpke_aead twoway_hpke_aead;
typedef struct twoway_hpke_kem twoway_hpke_kem;

/* A KDF: HKDF-Extract and HKDF-Expand (RFC 5869) of some hash. */
struct twoway_hpke_kdf {
    uint32_t abi_version; /* TWOWAY_HPKE_ABI_VERSION */
    uint16_t id;
    uint16_t hash_len; /* Nh, at most TWOWAY_HPKE_MAX_SECRET_LEN */
    /* prk[hash_len] = Extract(salt, ikm[0] || ... || ikm[n-1]) */
    int (*extract)(const twoway_hpke_kdf *kdf, uint8_t *prk, const uint8_t *salt, size_t salt_len,
                   const twoway_hpke_slice *ikm, size_t n);
    /* out[out_len] = Expand(prk, info[0] || ... || info[n-1], out_len),
     * out_len <= 255 * hash_len */
    int (*expand)(const twoway_hpke_kdf *kdf, uint8_t *out, size_t out_len, const uint8_t *prk,
                  size_t prk_len, const twoway_hpke_slice *info, size_t n);
    void *userdata;
};

/* An AEAD. The export-only AEAD has key_len 0 and NULL functions. */
struct twoway_hpke_aead {
    uint32_t abi_version; /* TWOWAY_HPKE_ABI_VERSION */
    uint16_t id;
    uint16_t key_len;   /* Nk */
    uint16_t nonce_len; /* Nn */
    uint16_t tag_len;   /* Nt */
    /* Make a keyed state; *state is passed to seal/open and released by free. */
    int (*init)(const twoway_hpke_aead *aead, void **state, const uint8_t *key);
    /* ct[pt_len + tag_len]; ct may equal pt (in place). */
    int (*seal)(void *state, uint8_t *ct, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                const uint8_t *pt, size_t pt_len);
    /* pt[ct_len - tag_len]; pt may equal ct. Returns TWOWAY_ERR_AUTH on a bad
     * tag, and then must leave no plaintext in pt. */
    int (*open)(void *state, uint8_t *pt, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                const uint8_t *ct, size_t ct_len);
    void (*free)(void *state);
    void *userdata;
};

/*
 * A KEM. Keys handed to its functions belong to it (twoway_hpke_key_kem()).
 * generate, derive, import_private and export_private may be NULL
 * (TWOWAY_ERR_UNSUPPORTED). A custom KEM makes its keys with
 * twoway_hpke_key_new_custom() and finds its own handle again with
 * twoway_hpke_key_handle().
 */
struct twoway_hpke_kem {
    uint32_t abi_version; /* TWOWAY_HPKE_ABI_VERSION */
    uint16_t id;
    uint16_t secret_len;      /* Nsecret, at most TWOWAY_HPKE_MAX_SECRET_LEN */
    uint16_t enc_len;         /* Nenc */
    uint16_t public_key_len;  /* Npk */
    uint16_t private_key_len; /* Nsk */
    int (*generate)(const twoway_hpke_kem *kem, twoway_hpke_key **out);
    int (*derive)(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *ikm,
                  size_t ikm_len);
    int (*import_public)(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *pk,
                         size_t pk_len);
    int (*import_private)(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *sk,
                          size_t sk_len);
    /* out has room for private_key_len bytes */
    int (*export_private)(const twoway_hpke_key *key, uint8_t *out);
    /*
     * Encap, or AuthEncap when sender is not NULL. Writes secret_len bytes of
     * shared secret and enc_len bytes of enc. ephemeral is NULL in normal use
     * (draw a fresh key pair); only the testing entry point sets it.
     */
    int (*encap)(const twoway_hpke_kem *kem, uint8_t *shared_secret, uint8_t *enc,
                 const twoway_hpke_key *recipient, const twoway_hpke_key *sender,
                 const twoway_hpke_key *ephemeral);
    /* Decap, or AuthDecap when sender (a public key) is not NULL. */
    int (*decap)(const twoway_hpke_kem *kem, uint8_t *shared_secret, const uint8_t *enc,
                 size_t enc_len, const twoway_hpke_key *recipient, const twoway_hpke_key *sender);
    void *userdata;
};

/* A cipher suite: one of each. */
typedef struct twoway_hpke_suite {
    const twoway_hpke_kem *kem;
    const twoway_hpke_kdf *kdf;
    const twoway_hpke_aead *aead;
} twoway_hpke_suite;

/* The built-in tables (NULL for an unknown identifier). */
TWOWAY_API const twoway_hpke_kem *twoway_hpke_kem_by_id(uint16_t kem_id);
TWOWAY_API const twoway_hpke_kdf *twoway_hpke_kdf_by_id(uint16_t kdf_id);
TWOWAY_API const twoway_hpke_aead *twoway_hpke_aead_by_id(uint16_t aead_id);

/* Fills *suite with the built-in tables; TWOWAY_ERR_UNSUPPORTED if any id is unknown. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_suite_from_ids(twoway_hpke_suite *suite,
                                                            uint16_t kem_id, uint16_t kdf_id,
                                                            uint16_t aead_id);

/* ------------------------------------------------------ algorithm names */

typedef enum twoway_hpke_alg {
    TWOWAY_HPKE_ALG_KEM = 0,
    TWOWAY_HPKE_ALG_KDF = 1,
    TWOWAY_HPKE_ALG_AEAD = 2
} twoway_hpke_alg;

/*
 * Names of the built-in algorithms, as key files and the twoway CLI spell
 * them: KEMs x25519, p256, p384, p521, x448; KDFs sha256, sha384, sha512;
 * AEADs aes128gcm, aes256gcm, chacha20poly1305, export-only. The short
 * name, or RFC 9180's ("DHKEM(X25519, HKDF-SHA256)", "HKDF-SHA256",
 * "AES-128-GCM", ...); NULL for an identifier that is not built in.
 */
TWOWAY_API const char *twoway_hpke_alg_name(twoway_hpke_alg kind, uint16_t id);
TWOWAY_API const char *twoway_hpke_alg_rfc_name(twoway_hpke_alg kind, uint16_t id);
/* The identifier of a name: the short one, RFC 9180's, or a hyphenated
 * spelling (p-256, dhkem-x25519, hkdf-sha256, aes-128-gcm,
 * chacha20-poly1305); ASCII case does not matter. TWOWAY_ERR_UNSUPPORTED
 * for an unknown name. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_alg_from_name(twoway_hpke_alg kind, const char *name,
                                                           uint16_t *id);

/* ------------------------------------------------------------------- keys */

/* A fresh random key pair. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_key_generate(const twoway_hpke_kem *kem,
                                                          twoway_hpke_key **out);
/* DeriveKeyPair(ikm), RFC 9180 §7.1.3; ikm must be at least Nsk bytes. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_key_derive(const twoway_hpke_kem *kem,
                                                        twoway_hpke_key **out, const uint8_t *ikm,
                                                        size_t ikm_len);
/* DeserializePublicKey, with validation (length, point on the curve). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_key_import_public(const twoway_hpke_kem *kem,
                                                               twoway_hpke_key **out,
                                                               const uint8_t *pk, size_t pk_len);
/* DeserializePrivateKey (scalar range checked); the public key is computed. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_key_import_private(const twoway_hpke_kem *kem,
                                                                twoway_hpke_key **out,
                                                                const uint8_t *sk, size_t sk_len);
/* SerializePublicKey: Npk bytes. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_key_export_public(const twoway_hpke_key *key,
                                                               uint8_t *out, size_t *out_len);
/* SerializePrivateKey: Nsk bytes. TWOWAY_ERR_STATE for a public key or a key
 * that cannot leave its store (a DH callback, a non-exportable EVP_PKEY). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_key_export_private(const twoway_hpke_key *key,
                                                                uint8_t *out, size_t *out_len);

/* A built-in DHKEM private key held by OpenSSL (any provider). The key gets
 * its own reference to pkey; the public key is read from it. */
struct evp_pkey_st;
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_key_from_evp_pkey(const twoway_hpke_kem *kem,
                                                               twoway_hpke_key **out,
                                                               struct evp_pkey_st *pkey);

/*
 * A built-in DHKEM private key behind a callback (an HSM, a remote signer):
 * dh() writes DH(sk, peer) — the Ndh-byte x-coordinate or X25519/X448
 * output — into out and returns 0, or non-zero on failure. pk is the key's
 * public key (Npk bytes). free_handle (may be NULL) runs when the key is freed.
 */
typedef int (*twoway_hpke_dh_fn)(void *handle, uint8_t *out, size_t out_len,
                                 const uint8_t *peer_public, size_t peer_public_len);
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_key_from_dh(const twoway_hpke_kem *kem,
                                                         twoway_hpke_key **out, const uint8_t *pk,
                                                         size_t pk_len, twoway_hpke_dh_fn dh,
                                                         void *handle, void (*free_handle)(void *));

/* For custom KEMs: a key with public bytes pk and an opaque handle (NULL for
 * a public key). free_handle (may be NULL) runs when the key is freed. */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_hpke_key_new_custom(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *pk,
                           size_t pk_len, void *handle, void (*free_handle)(void *));
TWOWAY_API void *twoway_hpke_key_handle(const twoway_hpke_key *key);
TWOWAY_API const uint8_t *twoway_hpke_key_public(const twoway_hpke_key *key, size_t *len);
TWOWAY_API const twoway_hpke_kem *twoway_hpke_key_kem(const twoway_hpke_key *key);
/* 1 if the key can be used as a private key, else 0. */
TWOWAY_API int twoway_hpke_key_is_private(const twoway_hpke_key *key);
TWOWAY_API void twoway_hpke_key_free(twoway_hpke_key *key);

/* --------------------------------------------------------- mode parameters */

/*
 * The mode and its inputs. Pass NULL for base mode. psk and psk_id go
 * together (both set for the psk modes, both empty otherwise). sender_key is
 * the sender's private key on the sending side and its public key on the
 * receiving side, for the auth modes only.
 */
typedef struct twoway_hpke_params {
    uint32_t version; /* TWOWAY_HPKE_ABI_VERSION */
    twoway_hpke_mode mode;
    const uint8_t *psk;
    size_t psk_len;
    const uint8_t *psk_id;
    size_t psk_id_len;
    const twoway_hpke_key *sender_key;
} twoway_hpke_params;

#define TWOWAY_HPKE_PARAMS_INIT                                                                    \
    {                                                                                              \
        TWOWAY_HPKE_ABI_VERSION, TWOWAY_HPKE_MODE_BASE, NULL, 0, NULL, 0, NULL                     \
    }

/* --------------------------------------------------------------- contexts */

/* SetupBaseS / SetupPSKS / SetupAuthS / SetupAuthPSKS. enc gets Nenc bytes. */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_hpke_setup_sender(twoway_hpke_ctx **out, uint8_t *enc, size_t *enc_len,
                         const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                         const uint8_t *info, size_t info_len, const twoway_hpke_params *params);

/* SetupBaseR / SetupPSKR / SetupAuthR / SetupAuthPSKR. */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_hpke_setup_receiver(twoway_hpke_ctx **out, const twoway_hpke_suite *suite,
                           const uint8_t *enc, size_t enc_len, const twoway_hpke_key *recipient,
                           const uint8_t *info, size_t info_len, const twoway_hpke_params *params);

/* Seal with the next sequence number (sender contexts). ct gets pt_len + Nt
 * bytes and may equal pt. TWOWAY_ERR_LIMIT once the sequence is exhausted.
 * If the AEAD itself fails, ct is wiped and the sequence number is used up
 * anyway (its nonce may have been used). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_seal(twoway_hpke_ctx *ctx, uint8_t *ct, size_t *ct_len,
                                                  const uint8_t *aad, size_t aad_len,
                                                  const uint8_t *pt, size_t pt_len);

/* Open with the next sequence number (receiver contexts). pt gets
 * ct_len - Nt bytes and may equal ct. On failure nothing is left in pt and
 * the sequence number does not move. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_open(twoway_hpke_ctx *ctx, uint8_t *pt, size_t *pt_len,
                                                  const uint8_t *aad, size_t aad_len,
                                                  const uint8_t *ct, size_t ct_len);

/* Export(exporter_context, L): L <= 255 * Nh bytes into out. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_hpke_export(const twoway_hpke_ctx *ctx, uint8_t *out,
                                                    size_t out_len, const uint8_t *exporter_context,
                                                    size_t exporter_context_len);

/* The suite a context was made with, and its next sequence number. */
TWOWAY_API const twoway_hpke_suite *twoway_hpke_ctx_suite(const twoway_hpke_ctx *ctx);
TWOWAY_API uint64_t twoway_hpke_ctx_seq(const twoway_hpke_ctx *ctx);
TWOWAY_API void twoway_hpke_ctx_free(twoway_hpke_ctx *ctx);

/* ------------------------------------------------------------ single-shot */

/* Seal<MODE>(pkR, info, aad, pt): enc and ct in one call (RFC 9180 §6.1). */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_hpke_seal_once(const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                      const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                      const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                      uint8_t *enc, size_t *enc_len, uint8_t *ct, size_t *ct_len);

/* Open<MODE>(enc, skR, info, aad, ct). */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_hpke_open_once(const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                      const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                      const uint8_t *enc, size_t enc_len, const uint8_t *aad, size_t aad_len,
                      const uint8_t *ct, size_t ct_len, uint8_t *pt, size_t *pt_len);

/* SendExport / ReceiveExport (RFC 9180 §6.2). */
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_hpke_send_export(const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                        const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                        const uint8_t *exporter_context, size_t exporter_context_len, uint8_t *enc,
                        size_t *enc_len, uint8_t *out, size_t out_len);
TWOWAY_API TWOWAY_MUST_CHECK int
twoway_hpke_receive_export(const twoway_hpke_suite *suite, const twoway_hpke_key *recipient,
                           const uint8_t *info, size_t info_len, const twoway_hpke_params *params,
                           const uint8_t *enc, size_t enc_len, const uint8_t *exporter_context,
                           size_t exporter_context_len, uint8_t *out, size_t out_len);

#ifdef __cplusplus
}
#endif

#endif /* TWOWAY_HPKE_H */
