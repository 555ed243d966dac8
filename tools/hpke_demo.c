/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hpke-demo: what `make demo` runs. Walks through HPKE (RFC 9180) with
 * libtwoway's public API: key generation, serialization, a context that
 * seals several messages, opening them, a replay refused, and a secret
 * exported on both sides. Prints every step.
 */
#include <twoway/twoway.h>

#include <stdio.h>
#include <string.h>

static void hex(const char *label, const uint8_t *p, size_t n)
{
    printf("  %-22s ", label);
    for (size_t i = 0; i < n && i < 40; i++)
        printf("%02x", p[i]);
    printf(n > 40 ? "... (%zu bytes)\n" : " (%zu bytes)\n", n);
}

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != TWOWAY_OK) {                                                                    \
            fprintf(stderr, "hpke-demo: %s: %s\n", #call, twoway_strerror(rc_));                   \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

int main(void)
{
    twoway_hpke_suite suite;
    twoway_hpke_key *receiver = NULL, *receiver_pub = NULL;
    twoway_hpke_ctx *sender_ctx = NULL, *receiver_ctx = NULL;
    uint8_t pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN], enc[TWOWAY_HPKE_MAX_ENC_LEN];
    size_t pk_len = sizeof pk, enc_len = sizeof enc;
    static const uint8_t info[] = "hpke-demo v1";
    static const char *const messages[] = {"GET /weather?city=Paris", "GET /weather?city=Oslo", ""};
    uint8_t ct[3][64 + TWOWAY_HPKE_TAG_LEN];
    size_t ct_len[3];
    int status = 1;

    printf("twoway %s: HPKE (RFC 9180) demo\n\n", twoway_version());
    TRY(twoway_hpke_suite_from_ids(&suite, TWOWAY_HPKE_KEM_X25519_SHA256,
                                   TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_AEAD_AES_128_GCM));
    printf("suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode\n\n");

    printf("1. the receiver generates a key pair and publishes its public key\n");
    TRY(twoway_hpke_key_generate(suite.kem, &receiver));
    TRY(twoway_hpke_key_export_public(receiver, pk, &pk_len));
    hex("public key", pk, pk_len);

    printf("2. the sender reads that public key (validated) and sets up a context\n");
    TRY(twoway_hpke_key_import_public(suite.kem, &receiver_pub, pk, pk_len));
    TRY(twoway_hpke_setup_sender(&sender_ctx, enc, &enc_len, &suite, receiver_pub, info,
                                 sizeof info - 1, NULL));
    hex("enc (sent once)", enc, enc_len);

    printf("3. the sender seals three messages (sequence numbers 0, 1, 2)\n");
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(messages[i]);
        ct_len[i] = sizeof ct[i];
        TRY(twoway_hpke_seal(sender_ctx, ct[i], &ct_len[i], NULL, 0, (const uint8_t *)messages[i],
                             n));
        char label[32];
        snprintf(label, sizeof label, "ciphertext %d", i);
        hex(label, ct[i], ct_len[i]);
    }

    printf("4. the receiver sets up its context from enc and opens them in order\n");
    TRY(twoway_hpke_setup_receiver(&receiver_ctx, &suite, enc, enc_len, receiver, info,
                                   sizeof info - 1, NULL));
    for (int i = 0; i < 3; i++) {
        uint8_t pt[64];
        size_t pt_len = sizeof pt;
        TRY(twoway_hpke_open(receiver_ctx, pt, &pt_len, NULL, 0, ct[i], ct_len[i]));
        printf("  opened %d: \"%.*s\"\n", i, (int)pt_len, (const char *)pt);
    }

    printf("5. a replayed or altered message is refused\n");
    {
        uint8_t pt[64];
        size_t pt_len = sizeof pt;
        int rc = twoway_hpke_open(receiver_ctx, pt, &pt_len, NULL, 0, ct[0], ct_len[0]);
        printf("  replay of message 0: %s\n", twoway_strerror(rc));
        if (rc == TWOWAY_OK)
            goto fail;
    }

    printf("6. both sides export the same secret (e.g. to key a response)\n");
    {
        uint8_t a[32], b[32];
        static const uint8_t label[] = "response key";
        TRY(twoway_hpke_export(sender_ctx, a, sizeof a, label, sizeof label - 1));
        TRY(twoway_hpke_export(receiver_ctx, b, sizeof b, label, sizeof label - 1));
        hex("sender's export", a, sizeof a);
        hex("receiver's export", b, sizeof b);
        if (memcmp(a, b, sizeof a) != 0)
            goto fail;
    }
    printf("\nall steps succeeded\n");
    status = 0;
fail:
    twoway_hpke_ctx_free(sender_ctx);
    twoway_hpke_ctx_free(receiver_ctx);
    twoway_hpke_key_free(receiver);
    twoway_hpke_key_free(receiver_pub);
    return status;
}
