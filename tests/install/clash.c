/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A library user's program that happens to define functions with the names
 * of the libraries' internal helpers (util_*, hpke_*, tw_*, sio_*, and those
 * of the embedded BLAKE3). Linked statically against libtwoway.a and
 * libsecureio.a, it must build (no duplicate symbol) and both its own
 * functions and the libraries must work: the archives export only their
 * public API (tests/install/run.sh).
 */
#include <secureio/identity.h>
#include <twoway/twoway.h>

#include <stdio.h>

/* The application's own functions, other signatures on purpose. */
int util_wipe(int x);
int util_ct_equal(int x);
int util_read_file(int x);
int hpke_expand_many(int x);
int hpke_suite_check(int x);
int tw_context_new(int x);
int util_detail(int x);
int sio_read_file(int x);
int util_detail_get(int x);
int blake3_hasher_init(int x);
int blake3_hash_many(int x);
int blake3_compress_in_place(int x);

int util_wipe(int x)
{
    return x + 1;
}
int util_ct_equal(int x)
{
    return x + 2;
}
int util_read_file(int x)
{
    return x + 3;
}
int hpke_expand_many(int x)
{
    return x + 4;
}
int hpke_suite_check(int x)
{
    return x + 5;
}
int tw_context_new(int x)
{
    return x + 6;
}
int util_detail(int x)
{
    return x + 7;
}
int sio_read_file(int x)
{
    return x + 8;
}
int util_detail_get(int x)
{
    return x + 9;
}
int blake3_hasher_init(int x)
{
    return x + 10;
}
int blake3_hash_many(int x)
{
    return x + 11;
}
int blake3_compress_in_place(int x)
{
    return x + 12;
}

int main(void)
{
    int sum = util_wipe(0) + util_ct_equal(0) + util_read_file(0) + hpke_expand_many(0) +
              hpke_suite_check(0) + tw_context_new(0) + util_detail(0) + sio_read_file(0) +
              util_detail_get(0) + blake3_hasher_init(0) + blake3_hash_many(0) +
              blake3_compress_in_place(0);
    if (sum != 78) {
        fprintf(stderr, "clash: the program's own functions were not called (%d)\n", sum);
        return 1;
    }
    /* the libraries, through paths that use those internal names */
    twoway_hpke_suite suite;
    twoway_hpke_key *sk = NULL;
    static const uint8_t msg[] = "clash";
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN], ct[sizeof msg + TWOWAY_HPKE_TAG_LEN], pt[sizeof msg];
    size_t enc_len = sizeof enc, ct_len = sizeof ct, pt_len = sizeof pt;
    int rc =
        twoway_hpke_suite_from_ids(&suite, TWOWAY_HPKE_KEM_X25519_SHA256,
                                   TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_AEAD_CHACHA20_POLY1305);
    if (rc == TWOWAY_OK)
        rc = twoway_hpke_key_generate(suite.kem, &sk);
    if (rc == TWOWAY_OK)
        rc = twoway_hpke_seal_once(&suite, sk, NULL, 0, NULL, NULL, 0, msg, sizeof msg, enc,
                                   &enc_len, ct, &ct_len);
    if (rc == TWOWAY_OK)
        rc = twoway_hpke_open_once(&suite, sk, NULL, 0, NULL, enc, enc_len, NULL, 0, ct, ct_len, pt,
                                   &pt_len);
    twoway_hpke_key_free(sk);
    if (rc != TWOWAY_OK) {
        fprintf(stderr, "clash: libtwoway: %s\n", twoway_strerror(rc));
        return 1;
    }
    secureio_identity *id = NULL;
    uint8_t sig[SECUREIO_SIGNATURE_LEN], pk[SECUREIO_PUBLIC_KEY_LEN];
    int src = secureio_identity_generate(&id);
    if (src == SECUREIO_OK)
        src = secureio_identity_sign(id, sig, msg, sizeof msg);
    if (src == SECUREIO_OK) {
        secureio_identity_public_key(id, pk);
        src = secureio_signature_verify(pk, sig, msg, sizeof msg);
    }
    secureio_identity_free(id);
    /* a missing file: libsecureio's own file reader and detail */
    if (src == SECUREIO_OK &&
        secureio_identity_load(&id, "/nonexistent/clash-test-key") != SECUREIO_ERR_IO)
        src = SECUREIO_ERR_STATE;
    if (src != SECUREIO_OK) {
        fprintf(stderr, "clash: libsecureio: %s\n", secureio_strerror(src));
        return 1;
    }
    printf("clash: own helpers and both libraries work side by side\n");
    return 0;
}
