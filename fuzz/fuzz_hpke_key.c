/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: HPKE key import and derivation (DeserializePublicKey,
 * DeserializePrivateKey, DeriveKeyPair) for the five built-in DHKEMs.
 *
 * Input: one byte that selects the KEM (modulo 5: P-256, P-384, P-521,
 * X25519, X448), then the bytes given to twoway_hpke_key_import_public,
 * twoway_hpke_key_import_private and (when at least Nsk long)
 * twoway_hpke_key_derive.
 *
 * Every call must either fail cleanly or give a key that keeps these
 * invariants (abort() otherwise):
 *  - an imported public key exports back to exactly its input, is not private
 *    and has no private key to export;
 *  - an imported private key exports back to exactly its input, and its public
 *    key imports again as a public key (the same bytes);
 *  - a derived key pair exports a private key that imports to the same public
 *    key;
 *  - both sides of an exchange with a key that was accepted agree: the
 *    exporter secrets of a sender to its public key and of a receiver with
 *    its private key are equal (a public key may only fail as a recipient
 *    with TWOWAY_ERR_DH, for an X25519/X448 point of small order).
 */
#include <twoway/hpke.h>

#include "twoway/hpke_testing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_hpke_key"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every error code of common.h (TWOWAY_ERR_STATE is the last one). */
static int is_error(int rc)
{
    return rc < 0 && rc >= TWOWAY_ERR_STATE;
}

/* A fixed ephemeral key pair per KEM, made once, for deterministic exchanges. */
static const twoway_hpke_key *ephemeral_key(size_t kem_index)
{
    static twoway_hpke_key *keys[N_KEMS];
    if (keys[kem_index] == NULL) {
        uint8_t ikm[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
        memset(ikm, 0xE7, sizeof ikm);
        ikm[0] = (uint8_t)kem_index;
        CHECK(twoway_hpke_key_derive(twoway_hpke_kem_by_id(kem_ids[kem_index]), &keys[kem_index],
                                     ikm, sizeof ikm) == TWOWAY_OK);
    }
    return keys[kem_index];
}

/*
 * An exchange in base mode with recipient (public, or a key pair) as the
 * recipient, and, when receiver is a key pair, the receiving side: both
 * exporter secrets must be equal. Returns the sender's setup result.
 */
static int exchange(size_t kem_index, const twoway_hpke_key *recipient,
                    const twoway_hpke_key *receiver)
{
    twoway_hpke_suite suite;
    twoway_hpke_ctx *sctx = NULL, *rctx = NULL;
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    size_t enc_len = sizeof enc;
    uint8_t es[32], er[32];
    static const uint8_t info[] = "fuzz_hpke_key";

    CHECK(twoway_hpke_suite_from_ids(&suite, kem_ids[kem_index], TWOWAY_HPKE_KDF_HKDF_SHA256,
                                     TWOWAY_HPKE_AEAD_EXPORT_ONLY) == TWOWAY_OK);
    int rc = twoway_hpke_testing_setup_sender(&sctx, enc, &enc_len, &suite, recipient, info,
                                              sizeof info, NULL, ephemeral_key(kem_index));
    CHECK(rc == TWOWAY_OK || is_error(rc));
    if (rc != TWOWAY_OK) {
        CHECK(sctx == NULL);
        return rc;
    }
    CHECK(sctx != NULL && enc_len == suite.kem->enc_len);
    CHECK(twoway_hpke_export(sctx, es, sizeof es, NULL, 0) == TWOWAY_OK);
    if (receiver != NULL) {
        CHECK(twoway_hpke_setup_receiver(&rctx, &suite, enc, enc_len, receiver, info, sizeof info,
                                         NULL) == TWOWAY_OK);
        CHECK(twoway_hpke_export(rctx, er, sizeof er, NULL, 0) == TWOWAY_OK);
        CHECK(memcmp(es, er, sizeof es) == 0);
        twoway_hpke_ctx_free(rctx);
    }
    twoway_hpke_ctx_free(sctx);
    return TWOWAY_OK;
}

static void fuzz_import_public(size_t kem_index, const uint8_t *in, size_t len)
{
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(kem_ids[kem_index]);
    twoway_hpke_key *key = (twoway_hpke_key *)(uintptr_t)1; /* must be reset to NULL on failure */
    uint8_t out[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN + 1];
    size_t out_len = sizeof out;

    int rc = twoway_hpke_key_import_public(kem, &key, in, len);
    CHECK(rc == TWOWAY_OK || is_error(rc));
    if (rc != TWOWAY_OK) {
        CHECK(key == NULL);
        return;
    }
    CHECK(key != NULL && twoway_hpke_key_kem(key) == kem && !twoway_hpke_key_is_private(key));
    CHECK(len == kem->public_key_len);

    CHECK(twoway_hpke_key_export_public(key, out, &out_len) == TWOWAY_OK);
    CHECK(out_len == len && memcmp(out, in, len) == 0);
    size_t view_len = 0;
    const uint8_t *view = twoway_hpke_key_public(key, &view_len);
    CHECK(view != NULL && view_len == len && memcmp(view, in, len) == 0);
    out_len = len - 1;
    CHECK(twoway_hpke_key_export_public(key, out, &out_len) == TWOWAY_ERR_BUFFER);

    uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
    size_t sk_len = sizeof sk;
    CHECK(twoway_hpke_key_export_private(key, sk, &sk_len) == TWOWAY_ERR_STATE);

    /* A valid public key is a valid recipient; only a small-order
     * X25519/X448 point may give the all-zero DH value. */
    rc = exchange(kem_index, key, NULL);
    CHECK(rc == TWOWAY_OK || (rc == TWOWAY_ERR_DH && kem_ids[kem_index] >= 0x20));
    twoway_hpke_key_free(key);
}

static void fuzz_import_private(size_t kem_index, const uint8_t *in, size_t len)
{
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(kem_ids[kem_index]);
    twoway_hpke_key *key = (twoway_hpke_key *)(uintptr_t)1, *pub = NULL;
    uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN + 1];
    size_t sk_len = sizeof sk;
    uint8_t pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN], pk2[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    size_t pk_len = sizeof pk, pk2_len = sizeof pk2;

    int rc = twoway_hpke_key_import_private(kem, &key, in, len);
    CHECK(rc == TWOWAY_OK || is_error(rc));
    if (rc != TWOWAY_OK) {
        CHECK(key == NULL);
        return;
    }
    CHECK(key != NULL && twoway_hpke_key_kem(key) == kem && twoway_hpke_key_is_private(key));
    CHECK(len == kem->private_key_len);

    CHECK(twoway_hpke_key_export_private(key, sk, &sk_len) == TWOWAY_OK);
    CHECK(sk_len == len && memcmp(sk, in, len) == 0);
    sk_len = len - 1;
    CHECK(twoway_hpke_key_export_private(key, sk, &sk_len) == TWOWAY_ERR_BUFFER);

    CHECK(twoway_hpke_key_export_public(key, pk, &pk_len) == TWOWAY_OK);
    CHECK(pk_len == kem->public_key_len);
    CHECK(twoway_hpke_key_import_public(kem, &pub, pk, pk_len) == TWOWAY_OK);
    CHECK(twoway_hpke_key_export_public(pub, pk2, &pk2_len) == TWOWAY_OK);
    CHECK(pk2_len == pk_len && memcmp(pk, pk2, pk_len) == 0);

    /* The key pair works as a recipient, and agrees with its public half. */
    CHECK(exchange(kem_index, pub, key) == TWOWAY_OK);
    twoway_hpke_key_free(pub);
    twoway_hpke_key_free(key);
}

static void fuzz_derive(size_t kem_index, const uint8_t *in, size_t len)
{
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(kem_ids[kem_index]);
    twoway_hpke_key *key = (twoway_hpke_key *)(uintptr_t)1, *again = NULL;
    uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
    size_t sk_len = sizeof sk;
    size_t pk_len = 0, pk2_len = 0;

    int rc = twoway_hpke_key_derive(kem, &key, in, len);
    if (len < kem->private_key_len) {
        CHECK(rc == TWOWAY_ERR_ARG && key == NULL);
        return;
    }
    /* For the EC curves, 256 candidates that all miss [1, n-1] would take
     * far more luck than a fuzzer has: derivation must succeed. */
    CHECK(rc == TWOWAY_OK);
    CHECK(key != NULL && twoway_hpke_key_kem(key) == kem && twoway_hpke_key_is_private(key));

    CHECK(twoway_hpke_key_export_private(key, sk, &sk_len) == TWOWAY_OK);
    CHECK(sk_len == kem->private_key_len);
    CHECK(twoway_hpke_key_import_private(kem, &again, sk, sk_len) == TWOWAY_OK);
    const uint8_t *pk = twoway_hpke_key_public(key, &pk_len);
    const uint8_t *pk2 = twoway_hpke_key_public(again, &pk2_len);
    CHECK(pk_len == kem->public_key_len && pk2_len == pk_len && memcmp(pk, pk2, pk_len) == 0);
    twoway_hpke_key_free(again);
    twoway_hpke_key_free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t kem_index = data[0] % N_KEMS;
    const uint8_t *in = data + 1;
    size_t len = size - 1;

    fuzz_import_public(kem_index, in, len);
    fuzz_import_private(kem_index, in, len);
    /* DeriveKeyPair needs at least Nsk bytes of ikm; the refusal of a
     * shorter one is checked with the empty input. */
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(kem_ids[kem_index]);
    if (len >= kem->private_key_len || len == 0)
        fuzz_derive(kem_index, in, len);
    return 0;
}
