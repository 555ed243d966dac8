/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A program of a library user: it sees only the installed headers and
 * libraries (tests/install/run.sh builds it through pkg-config and through
 * CMake's find_package). Exits 0 when the libraries work.
 */
#include <twoway/twoway.h>
#include <secureio/secureio.h>

#include <stdio.h>
#include <string.h>

static int fail(const char *what, int err)
{
    fprintf(stderr, "consumer: %s failed: %d (%s)\n", what, err, twoway_strerror(err));
    return 1;
}

int main(void)
{
    static const uint8_t info[] = "install test info";
    static const uint8_t aad[] = "install test aad";
    static const uint8_t pt[] = "a message through the installed libtwoway";
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    uint8_t ct[sizeof pt + TWOWAY_HPKE_TAG_LEN];
    uint8_t out[sizeof pt];
    size_t enc_len = sizeof enc, ct_len = sizeof ct, out_len = sizeof out;
    twoway_hpke_suite suite;
    twoway_hpke_key *key = NULL;
    const char *auth_msg = twoway_strerror(TWOWAY_ERR_AUTH);
    int err;

    printf("consumer: twoway %s, secureio %s\n", twoway_version(), secureio_version());
    if (strcmp(twoway_version(), "") == 0 || strcmp(secureio_version(), "") == 0) {
        fprintf(stderr, "consumer: empty version string\n");
        return 1;
    }
    if (auth_msg == NULL || strcmp(auth_msg, twoway_strerror(-12345)) == 0) {
        fprintf(stderr, "consumer: twoway_strerror(TWOWAY_ERR_AUTH) has no message\n");
        return 1;
    }

    err = twoway_hpke_suite_from_ids(&suite, TWOWAY_HPKE_KEM_X25519_SHA256,
                                     TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_AEAD_AES_128_GCM);
    if (err != TWOWAY_OK)
        return fail("twoway_hpke_suite_from_ids", err);
    err = twoway_hpke_key_generate(suite.kem, &key);
    if (err != TWOWAY_OK)
        return fail("twoway_hpke_key_generate", err);

    err = twoway_hpke_seal_once(&suite, key, info, sizeof info, NULL, aad, sizeof aad, pt,
                                sizeof pt, enc, &enc_len, ct, &ct_len);
    if (err != TWOWAY_OK) {
        twoway_hpke_key_free(key);
        return fail("twoway_hpke_seal_once", err);
    }
    err = twoway_hpke_open_once(&suite, key, info, sizeof info, NULL, enc, enc_len, aad, sizeof aad,
                                ct, ct_len, out, &out_len);
    if (err != TWOWAY_OK) {
        twoway_hpke_key_free(key);
        return fail("twoway_hpke_open_once", err);
    }
    if (enc_len != 32 || ct_len != sizeof pt + TWOWAY_HPKE_TAG_LEN || out_len != sizeof pt ||
        memcmp(out, pt, sizeof pt) != 0) {
        twoway_hpke_key_free(key);
        fprintf(stderr, "consumer: HPKE round trip gave different bytes\n");
        return 1;
    }

    /* A changed byte must not open. */
    ct[0] ^= 1;
    out_len = sizeof out;
    err = twoway_hpke_open_once(&suite, key, info, sizeof info, NULL, enc, enc_len, aad, sizeof aad,
                                ct, ct_len, out, &out_len);
    twoway_hpke_key_free(key);
    if (err != TWOWAY_ERR_AUTH) {
        fprintf(stderr, "consumer: altered ciphertext gave %d, not TWOWAY_ERR_AUTH\n", err);
        return 1;
    }

    printf("consumer: HPKE X25519/HKDF-SHA256/AES-128-GCM round trip ok\n");
    return 0;
}
