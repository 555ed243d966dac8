/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the private key file parser (twoway_key_file_decode)
 * and loading key files into a ring (twoway_keyring_add_key_file).
 *
 * Input: the file's text, any bytes.
 *
 * Invariants (abort() otherwise):
 *  - only FORMAT, UNSUPPORTED, KEY or TOO_BIG (NOMEM, CRYPTO: the
 *    environment); on failure no key comes back and the detail says why;
 *  - on success the configuration has a built-in KEM, 1 to 16 distinct
 *    built-in pairs (no export-only), and the key's public key; the key
 *    file it encodes to decodes to the same configuration and private key,
 *    and encodes to the same text again;
 *  - the ring gives the same verdict; on success it holds one entry per
 *    pair and exports exactly that configuration; a second add of the same
 *    file is refused and changes nothing.
 */
#include <twoway/twoway.h>

#include <stdint.h>
#include <string.h>

#define FUZZ_NAME "fuzz_twoway_keyfile"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_private(const twoway_hpke_key *a, const twoway_hpke_key *b)
{
    uint8_t x[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN], y[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
    size_t xl = sizeof x, yl = sizeof y;
    CHECK(twoway_hpke_key_export_private(a, x, &xl) == TWOWAY_OK);
    CHECK(twoway_hpke_key_export_private(b, y, &yl) == TWOWAY_OK);
    CHECK(xl == yl && memcmp(x, y, xl) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    twoway_key_config cfg;
    twoway_hpke_key *key = (twoway_hpke_key *)&key;
    int rc = twoway_key_file_decode(&cfg, &key, text, size);
    if (rc != TWOWAY_OK) {
        CHECK(rc == TWOWAY_ERR_FORMAT || rc == TWOWAY_ERR_UNSUPPORTED || rc == TWOWAY_ERR_KEY ||
              rc == TWOWAY_ERR_TOO_BIG || rc == TWOWAY_ERR_NOMEM || rc == TWOWAY_ERR_CRYPTO);
        CHECK(key == NULL);
        CHECK(rc == TWOWAY_ERR_NOMEM || rc == TWOWAY_ERR_CRYPTO || twoway_error_detail()[0] != 0);
    } else {
        const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(cfg.kem_id);
        CHECK(kem != NULL && twoway_hpke_key_kem(key) == kem);
        CHECK(cfg.n_suites >= 1 && cfg.n_suites <= TWOWAY_KEY_CONFIG_MAX_SUITES);
        for (size_t i = 0; i < cfg.n_suites; i++) {
            CHECK(twoway_hpke_kdf_by_id(cfg.suites[i].kdf_id) != NULL);
            CHECK(twoway_hpke_aead_by_id(cfg.suites[i].aead_id) != NULL &&
                  cfg.suites[i].aead_id != TWOWAY_HPKE_AEAD_EXPORT_ONLY);
            for (size_t j = 0; j < i; j++)
                CHECK(cfg.suites[j].kdf_id != cfg.suites[i].kdf_id ||
                      cfg.suites[j].aead_id != cfg.suites[i].aead_id);
        }
        size_t pk_len;
        const uint8_t *pk = twoway_hpke_key_public(key, &pk_len);
        CHECK(pk != NULL && pk_len == cfg.public_key_len &&
              memcmp(pk, cfg.public_key, pk_len) == 0);
        char out[TWOWAY_KEY_FILE_MAX_LEN], out2[TWOWAY_KEY_FILE_MAX_LEN];
        size_t len = sizeof out, len2 = sizeof out2;
        CHECK(twoway_key_file_encode(&cfg, key, out, &len) == TWOWAY_OK);
        twoway_key_config back;
        twoway_hpke_key *key2 = NULL;
        CHECK(twoway_key_file_decode(&back, &key2, out, len) == TWOWAY_OK);
        CHECK(memcmp(&back, &cfg, sizeof cfg) == 0);
        same_private(key, key2);
        CHECK(twoway_key_file_encode(&back, key2, out2, &len2) == TWOWAY_OK);
        CHECK(len == len2 && memcmp(out, out2, len) == 0);
        twoway_hpke_key_free(key2);
        twoway_hpke_key_free(key);
    }

    twoway_keyring *ring = NULL;
    CHECK(twoway_keyring_new(&ring) == TWOWAY_OK);
    int rc2 = twoway_keyring_add_key_file(ring, text, size);
    CHECK(rc2 == rc || rc == TWOWAY_ERR_NOMEM || rc2 == TWOWAY_ERR_NOMEM);
    if (rc2 == TWOWAY_OK) {
        CHECK(twoway_keyring_count(ring) == cfg.n_suites);
        uint8_t list[1024], want[1024];
        size_t n = sizeof list, wn = sizeof want;
        CHECK(twoway_keyring_export_configs(ring, list, &n) == TWOWAY_OK);
        CHECK(twoway_key_configs_encode(&cfg, 1, want, &wn) == TWOWAY_OK);
        CHECK(n == wn && memcmp(list, want, n) == 0);
        CHECK(twoway_keyring_add_key_file(ring, text, size) == TWOWAY_ERR_ARG);
        CHECK(twoway_keyring_count(ring) == cfg.n_suites);
    } else {
        CHECK(twoway_keyring_count(ring) == 0);
    }
    twoway_keyring_free(ring);
    return 0;
}
