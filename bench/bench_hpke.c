/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-hpke: single-shot HPKE seal and open, base mode, 1 KiB messages, for
 * every built-in KEM, beside the raw OpenSSL operations that HPKE cannot
 * avoid, measured in the same run:
 *   sender:   one ephemeral key generation + one DH derive
 *   receiver: one import of the sender's enc (a public key) + one DH derive
 * The ratio (HPKE time / raw time) is the cost of everything else: the
 * labeled HKDF calls of the KEM and key schedule, the AEAD and the checks.
 * The raw side uses the fastest way we found to do those operations.
 *
 * Usage: bench-hpke [seconds-per-measurement]   (default 0.3)
 */
#define _POSIX_C_SOURCE 200809L

#include <twoway/hpke.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define MSG_LEN 1024

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench-hpke: %s failed (%d: %s)\n", what, rc, twoway_strerror(rc));
    exit(1);
}

typedef struct bench_case {
    const char *name;
    uint16_t kem_id, kdf_id, aead_id;
    const char *ossl_type; /* "X25519", "X448", "EC" */
    const char *group;     /* EC group or NULL */
    size_t nsk;
} bench_case;

typedef struct fixture {
    const bench_case *bc;
    twoway_hpke_suite suite;
    twoway_hpke_key *skR, *pkR;
    uint8_t pt[MSG_LEN], ct[MSG_LEN + TWOWAY_HPKE_TAG_LEN], back[MSG_LEN];
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN], raw_enc[TWOWAY_HPKE_MAX_ENC_LEN];
    size_t enc_len;
    /* raw OpenSSL objects */
    EVP_PKEY *raw_skR, *raw_pkR;
    EVP_PKEY_CTX *raw_keygen; /* EC only */
} fixture;

/* The benchmark functions take the fixture as their argument. */
typedef void (*op_fn)(void *arg);

static void op_seal(void *arg)
{
    fixture *f = arg;
    size_t enc_len = sizeof f->enc, ct_len = sizeof f->ct;
    int rc = twoway_hpke_seal_once(&f->suite, f->pkR, (const uint8_t *)"info", 4, NULL, NULL, 0,
                                   f->pt, MSG_LEN, f->enc, &enc_len, f->ct, &ct_len);
    if (rc != TWOWAY_OK)
        die("seal", rc);
    f->enc_len = enc_len;
}

static void op_open(void *arg)
{
    fixture *f = arg;
    size_t back_len = sizeof f->back;
    int rc = twoway_hpke_open_once(&f->suite, f->skR, (const uint8_t *)"info", 4, NULL, f->enc,
                                   f->enc_len, NULL, 0, f->ct, sizeof f->ct, f->back, &back_len);
    if (rc != TWOWAY_OK)
        die("open", rc);
}

/* Raw sender: a fresh ephemeral key pair, its encoded public key, one DH. */
static void op_raw_sender(void *arg)
{
    fixture *f = arg;
    EVP_PKEY *eph = NULL;
    if (f->bc->group == NULL) {
        uint8_t sk[56];
        size_t len = sizeof f->raw_enc;
        if (RAND_priv_bytes(sk, (int)f->bc->nsk) != 1)
            die("raw rand", -1);
        eph = EVP_PKEY_new_raw_private_key_ex(NULL, f->bc->ossl_type, NULL, sk, f->bc->nsk);
        if (eph == NULL || !EVP_PKEY_get_raw_public_key(eph, f->raw_enc, &len))
            die("raw keygen", -1);
    } else {
        size_t len;
        if (EVP_PKEY_keygen(f->raw_keygen, &eph) <= 0 ||
            !EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, f->raw_enc,
                                             sizeof f->raw_enc, &len))
            die("raw keygen", -1);
    }
    bench_raw_derive(eph, f->raw_pkR);
    EVP_PKEY_free(eph);
}

/* Raw receiver: import the enc public key, one DH. */
static void op_raw_receiver(void *arg)
{
    fixture *f = arg;
    EVP_PKEY *pke = NULL;
    if (f->bc->group == NULL) {
        pke = EVP_PKEY_new_raw_public_key_ex(NULL, f->bc->ossl_type, NULL, f->enc, f->enc_len);
    } else {
        OSSL_PARAM params[3];
        char group[16];
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        snprintf(group, sizeof group, "%s", f->bc->group);
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, f->enc, f->enc_len);
        params[2] = OSSL_PARAM_construct_end();
        if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
            EVP_PKEY_fromdata(pctx, &pke, EVP_PKEY_PUBLIC_KEY, params) <= 0)
            pke = NULL;
        EVP_PKEY_CTX_free(pctx);
    }
    if (pke == NULL)
        die("raw import", -1);
    bench_raw_derive(f->raw_skR, pke);
    EVP_PKEY_free(pke);
}

/* Interleaves the two measurements so both see the same machine load. */
static void compare(const char *label, op_fn ours, op_fn raw, fixture *f, double seconds,
                    double target)
{
    double a, b;
    bench_pair(ours, raw, f, seconds, &a, &b);
    double ratio = b / a; /* time(ours) / time(raw) */
    printf("%-34s %9.0f op/s   raw %9.0f op/s   ratio %.3fx", label, a, b, ratio);
    if (target > 0)
        printf("   (target <= %.2fx: %s)", target, ratio <= target ? "met" : "MISSED");
    printf("\n");
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.3;
    static const bench_case cases[] = {
        {"X25519, HKDF-SHA256, AES-128-GCM", TWOWAY_HPKE_KEM_X25519_SHA256,
         TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_AEAD_AES_128_GCM, "X25519", NULL, 32},
        {"X448, HKDF-SHA512, AES-256-GCM", TWOWAY_HPKE_KEM_X448_SHA512, TWOWAY_HPKE_KDF_HKDF_SHA512,
         TWOWAY_HPKE_AEAD_AES_256_GCM, "X448", NULL, 56},
        {"P-256, HKDF-SHA256, AES-128-GCM", TWOWAY_HPKE_KEM_P256_SHA256,
         TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_AEAD_AES_128_GCM, "EC", "P-256", 32},
        {"P-384, HKDF-SHA384, AES-256-GCM", TWOWAY_HPKE_KEM_P384_SHA384,
         TWOWAY_HPKE_KDF_HKDF_SHA384, TWOWAY_HPKE_AEAD_AES_256_GCM, "EC", "P-384", 48},
        {"P-521, HKDF-SHA512, AES-256-GCM", TWOWAY_HPKE_KEM_P521_SHA512,
         TWOWAY_HPKE_KDF_HKDF_SHA512, TWOWAY_HPKE_AEAD_AES_256_GCM, "EC", "P-521", 66},
    };
    printf("bench-hpke: base mode, single-shot, %d-byte message, best of rounds\n", MSG_LEN);
    printf("ratio = HPKE time / raw OpenSSL time of the same DH work (1.00 = no overhead)\n\n");

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static fixture f;
        const bench_case *bc = &cases[i];
        int rc;
        memset(&f, 0, sizeof f);
        f.bc = bc;
        memset(f.pt, 0x5a, sizeof f.pt);
        if ((rc = twoway_hpke_suite_from_ids(&f.suite, bc->kem_id, bc->kdf_id, bc->aead_id)))
            die("suite", rc);
        if ((rc = twoway_hpke_key_generate(f.suite.kem, &f.skR)))
            die("keygen", rc);
        size_t pk_len;
        const uint8_t *pk = twoway_hpke_key_public(f.skR, &pk_len);
        if ((rc = twoway_hpke_key_import_public(f.suite.kem, &f.pkR, pk, pk_len)))
            die("import", rc);
        /* the same keys, as plain OpenSSL objects, for the raw side */
        uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
        size_t sk_len = sizeof sk;
        if ((rc = twoway_hpke_key_export_private(f.skR, sk, &sk_len)))
            die("export", rc);
        if (bc->group == NULL) {
            f.raw_skR = EVP_PKEY_new_raw_private_key_ex(NULL, bc->ossl_type, NULL, sk, sk_len);
            f.raw_pkR = EVP_PKEY_new_raw_public_key_ex(NULL, bc->ossl_type, NULL, pk, pk_len);
        } else {
            f.raw_keygen = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
            if (f.raw_keygen == NULL || EVP_PKEY_keygen_init(f.raw_keygen) <= 0 ||
                EVP_PKEY_CTX_set_group_name(f.raw_keygen, bc->group) <= 0)
                die("raw keygen ctx", -1);
            /* any key of the curve does for the raw DH cost */
            if (EVP_PKEY_keygen(f.raw_keygen, &f.raw_skR) <= 0)
                die("raw keygen", -1);
            f.raw_pkR = f.raw_skR;
            EVP_PKEY_up_ref(f.raw_pkR);
        }
        if (f.raw_skR == NULL || f.raw_pkR == NULL)
            die("raw keys", -1);
        op_seal(&f); /* a valid enc/ct for the open side */

        char label[96];
        snprintf(label, sizeof label, "%s seal", bc->name);
        compare(label, op_seal, op_raw_sender, &f, seconds, i == 0 ? 1.15 : 0);
        snprintf(label, sizeof label, "%s open", bc->name);
        compare(label, op_open, op_raw_receiver, &f, seconds, i == 0 ? 1.15 : 0);

        twoway_hpke_key_free(f.skR);
        twoway_hpke_key_free(f.pkR);
        EVP_PKEY_free(f.raw_skR);
        EVP_PKEY_free(f.raw_pkR);
        EVP_PKEY_CTX_free(f.raw_keygen);
    }
    return 0;
}
