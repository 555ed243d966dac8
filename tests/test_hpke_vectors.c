/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every entry of the official RFC 9180 test vectors
 * (tests/vectors/hpke-rfc9180.json): DeriveKeyPair for every key, the
 * encapsulation, the key schedule (base_nonce, exporter_secret), every
 * encryption in both directions and every export, through the public API
 * plus the test-only ephemeral-key entry point.
 */
#include "json.h"
#include "test.h"

#include "twoway/hpke_internal.h"
#include "twoway/hpke_testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes;

static bytes hex_field(const tj_value *obj, const char *name)
{
    bytes b = {NULL, 0};
    const tj_value *v = tj_get(obj, name);
    if (v != NULL && tj_hex(v, &b.p, &b.n) != 0) {
        fprintf(stderr, "bad hex in field %s\n", name);
        b.p = NULL;
        b.n = 0;
    }
    return b;
}

static unsigned long n_entries, n_encryptions, n_exports;

/* Checks DeriveKeyPair(ikm) against (skm, pkm) and returns the key. */
static twoway_hpke_key *derive_and_check(const twoway_hpke_kem *kem, const tj_value *e,
                                         const char *ikm_name, const char *sk_name,
                                         const char *pk_name)
{
    bytes ikm = hex_field(e, ikm_name), skm = hex_field(e, sk_name), pkm = hex_field(e, pk_name);
    twoway_hpke_key *key = NULL, *again = NULL;
    uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN], pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    size_t sk_len = sizeof sk, pk_len = sizeof pk;

    if (CHECK_EQ_INT(twoway_hpke_key_derive(kem, &key, ikm.p, ikm.n), TWOWAY_OK)) {
        CHECK_EQ_INT(twoway_hpke_key_export_private(key, sk, &sk_len), TWOWAY_OK);
        CHECK_EQ_UINT(sk_len, skm.n);
        CHECK_MEM(sk, skm.p, skm.n);
        CHECK_EQ_INT(twoway_hpke_key_export_public(key, pk, &pk_len), TWOWAY_OK);
        CHECK_EQ_UINT(pk_len, pkm.n);
        CHECK_MEM(pk, pkm.p, pkm.n);
    }
    /* DeserializePrivateKey gives the same public key. */
    if (CHECK_EQ_INT(twoway_hpke_key_import_private(kem, &again, skm.p, skm.n), TWOWAY_OK)) {
        size_t len;
        const uint8_t *pub = twoway_hpke_key_public(again, &len);
        CHECK_EQ_UINT(len, pkm.n);
        CHECK_MEM(pub, pkm.p, pkm.n);
    }
    twoway_hpke_key_free(again);
    free(ikm.p);
    free(skm.p);
    free(pkm.p);
    return key;
}

static void run_entry(const tj_value *e)
{
    uint16_t kem_id = (uint16_t)tj_int(tj_get(e, "kem_id"));
    uint16_t kdf_id = (uint16_t)tj_int(tj_get(e, "kdf_id"));
    uint16_t aead_id = (uint16_t)tj_int(tj_get(e, "aead_id"));
    int mode = (int)tj_int(tj_get(e, "mode"));
    twoway_hpke_suite suite;
    twoway_hpke_key *skR = NULL, *skE = NULL, *skS = NULL, *pkR = NULL, *pkS = NULL;
    twoway_hpke_ctx *sctx = NULL, *rctx = NULL;
    bytes info = hex_field(e, "info"), psk = hex_field(e, "psk"), psk_id = hex_field(e, "psk_id");
    bytes enc_x = hex_field(e, "enc"), base_nonce = hex_field(e, "base_nonce");
    bytes exporter_secret = hex_field(e, "exporter_secret");
    uint8_t enc[TWOWAY_HPKE_MAX_ENC_LEN];
    size_t enc_len = sizeof enc;

    n_entries++;
    if (!CHECK_EQ_INT(twoway_hpke_suite_from_ids(&suite, kem_id, kdf_id, aead_id), TWOWAY_OK))
        goto done;
    skR = derive_and_check(suite.kem, e, "ikmR", "skRm", "pkRm");
    skE = derive_and_check(suite.kem, e, "ikmE", "skEm", "pkEm");
    if (mode == TWOWAY_HPKE_MODE_AUTH || mode == TWOWAY_HPKE_MODE_AUTH_PSK)
        skS = derive_and_check(suite.kem, e, "ikmS", "skSm", "pkSm");
    if (skR == NULL || skE == NULL)
        goto done;

    {
        size_t len;
        const uint8_t *p = twoway_hpke_key_public(skR, &len);
        if (!CHECK_EQ_INT(twoway_hpke_key_import_public(suite.kem, &pkR, p, len), TWOWAY_OK))
            goto done;
        if (skS != NULL) {
            p = twoway_hpke_key_public(skS, &len);
            if (!CHECK_EQ_INT(twoway_hpke_key_import_public(suite.kem, &pkS, p, len), TWOWAY_OK))
                goto done;
        }
    }

    twoway_hpke_params sp = TWOWAY_HPKE_PARAMS_INIT, rp = TWOWAY_HPKE_PARAMS_INIT;
    sp.mode = rp.mode = (twoway_hpke_mode)mode;
    sp.psk = rp.psk = psk.p;
    sp.psk_len = rp.psk_len = psk.n;
    sp.psk_id = rp.psk_id = psk_id.p;
    sp.psk_id_len = rp.psk_id_len = psk_id.n;
    sp.sender_key = skS;
    rp.sender_key = pkS;

    if (!CHECK_EQ_INT(twoway_hpke_testing_setup_sender(&sctx, enc, &enc_len, &suite, pkR, info.p,
                                                       info.n, &sp, skE),
                      TWOWAY_OK))
        goto done;
    CHECK_EQ_UINT(enc_len, enc_x.n);
    CHECK_MEM(enc, enc_x.p, enc_x.n);
    if (!CHECK_EQ_INT(
            twoway_hpke_setup_receiver(&rctx, &suite, enc, enc_len, skR, info.p, info.n, &rp),
            TWOWAY_OK))
        goto done;

    /* The key schedule's outputs, read from the (internal) context. */
    CHECK_MEM(sctx->base_nonce, base_nonce.p, base_nonce.n);
    CHECK_MEM(rctx->base_nonce, base_nonce.p, base_nonce.n);
    CHECK_MEM(sctx->exporter_secret, exporter_secret.p, exporter_secret.n);
    CHECK_MEM(rctx->exporter_secret, exporter_secret.p, exporter_secret.n);

    const tj_value *encs = tj_get(e, "encryptions");
    for (size_t i = 0; i < tj_len(encs); i++) {
        const tj_value *x = tj_at(encs, i);
        bytes aad = hex_field(x, "aad"), pt = hex_field(x, "pt"), ct = hex_field(x, "ct");
        uint8_t *buf = malloc(ct.n + 1), *back = malloc(pt.n + 1);
        size_t buf_len = ct.n, back_len = pt.n;
        CHECK_EQ_UINT(twoway_hpke_ctx_seq(sctx), i);
        if (CHECK_EQ_INT(twoway_hpke_seal(sctx, buf, &buf_len, aad.p, aad.n, pt.p, pt.n),
                         TWOWAY_OK)) {
            CHECK_EQ_UINT(buf_len, ct.n);
            CHECK_MEM(buf, ct.p, ct.n);
        }
        if (CHECK_EQ_INT(twoway_hpke_open(rctx, back, &back_len, aad.p, aad.n, ct.p, ct.n),
                         TWOWAY_OK)) {
            CHECK_EQ_UINT(back_len, pt.n);
            CHECK_MEM(back, pt.p, pt.n);
        }
        n_encryptions++;
        free(buf);
        free(back);
        free(aad.p);
        free(pt.p);
        free(ct.p);
    }
    if (tj_len(encs) == 0) {
        /* export-only: no Seal/Open */
        uint8_t buf[64];
        size_t buf_len = sizeof buf;
        CHECK_EQ_INT(twoway_hpke_seal(sctx, buf, &buf_len, NULL, 0, NULL, 0), TWOWAY_ERR_STATE);
        CHECK_EQ_INT(twoway_hpke_open(rctx, buf, &buf_len, NULL, 0, buf, 16), TWOWAY_ERR_STATE);
    }

    const tj_value *exps = tj_get(e, "exports");
    for (size_t i = 0; i < tj_len(exps); i++) {
        const tj_value *x = tj_at(exps, i);
        bytes ectx = hex_field(x, "exporter_context"), val = hex_field(x, "exported_value");
        size_t L = (size_t)tj_int(tj_get(x, "L"));
        uint8_t *a = malloc(L + 1), *b = malloc(L + 1);
        CHECK_EQ_UINT(L, val.n);
        CHECK_EQ_INT(twoway_hpke_export(sctx, a, L, ectx.p, ectx.n), TWOWAY_OK);
        CHECK_EQ_INT(twoway_hpke_export(rctx, b, L, ectx.p, ectx.n), TWOWAY_OK);
        CHECK_MEM(a, val.p, val.n);
        CHECK_MEM(b, val.p, val.n);
        n_exports++;
        free(a);
        free(b);
        free(ectx.p);
        free(val.p);
    }

done:
    twoway_hpke_ctx_free(sctx);
    twoway_hpke_ctx_free(rctx);
    twoway_hpke_key_free(skR);
    twoway_hpke_key_free(skE);
    twoway_hpke_key_free(skS);
    twoway_hpke_key_free(pkR);
    twoway_hpke_key_free(pkS);
    free(info.p);
    free(psk.p);
    free(psk_id.p);
    free(enc_x.p);
    free(base_nonce.p);
    free(exporter_secret.p);
}

int main(void)
{
    char err[256];
    tj_value *doc = tj_load_file(test_vector_path("hpke-rfc9180.json"), err, sizeof err);
    if (!CHECK(doc != NULL)) {
        fprintf(stderr, "cannot load the RFC 9180 vectors: %s\n", err);
        return test_summary("hpke-vectors");
    }
    CHECK_EQ_UINT(tj_len(doc), 128);
    unsigned long failed_before = 0, entries_failed = 0;
    for (size_t i = 0; i < tj_len(doc); i++) {
        failed_before = test_failed_count();
        run_entry(tj_at(doc, i));
        if (test_failed_count() != failed_before) {
            entries_failed++;
            fprintf(stderr, "entry %zu failed\n", i);
        }
    }
    tj_free(doc);
    printf("RFC 9180 vectors: %lu entries (%lu failed), %lu encryptions, %lu exports\n", n_entries,
           entries_failed, n_encryptions, n_exports);
    return test_summary("hpke-vectors");
}
