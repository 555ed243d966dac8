/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: OHTTP key configurations (RFC 9458 §3) and
 * application/ohttp-keys lists (twoway_key_config_decode,
 * twoway_key_configs_decode, and the encoders on what they accept).
 *
 * Input: the bytes, read once as one configuration and once as a list.
 *
 * Every call must either fail with an error code or give results that keep
 * these invariants (abort() otherwise):
 *  - one configuration: *consumed <= size; it has a built-in KEM, a key of
 *    that KEM's length and 1..TWOWAY_KEY_CONFIG_MAX_SUITES distinct known
 *    pairs; it encodes to exactly 5 + Npk + 4 * pairs bytes, which decode to
 *    the same configuration; when nothing was skipped, those bytes are the
 *    input's first *consumed bytes; an encoder given one byte less reports
 *    TWOWAY_ERR_BUFFER and the size it needs;
 *  - a failed decode reports *consumed 0, except TWOWAY_ERR_UNSUPPORTED for
 *    a configuration without a known pair, which reports its length;
 *  - a list: 1 <= n; more than the room gives TWOWAY_ERR_BUFFER with the
 *    count, and a decode with that much room gives the same configurations;
 *    the list re-encodes to bytes that decode to the same configurations,
 *    and re-encode to the same bytes.
 */
#include <twoway/keyring.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_key_config"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The decoder's errors for bad input (NOMEM and CRYPTO: the environment). */
static int is_decode_error(int rc)
{
    return rc == TWOWAY_ERR_FORMAT || rc == TWOWAY_ERR_UNSUPPORTED || rc == TWOWAY_ERR_KEY ||
           rc == TWOWAY_ERR_NOMEM || rc == TWOWAY_ERR_CRYPTO;
}

static int config_equal(const twoway_key_config *a, const twoway_key_config *b)
{
    if (a->key_id != b->key_id || a->kem_id != b->kem_id ||
        a->public_key_len != b->public_key_len || a->n_suites != b->n_suites ||
        memcmp(a->public_key, b->public_key, a->public_key_len) != 0)
        return 0;
    for (size_t i = 0; i < a->n_suites; i++)
        if (a->suites[i].kdf_id != b->suites[i].kdf_id ||
            a->suites[i].aead_id != b->suites[i].aead_id)
            return 0;
    return 1;
}

/* The shape every decoded configuration has. */
static void check_config(const twoway_key_config *cfg)
{
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(cfg->kem_id);
    CHECK(kem != NULL);
    CHECK(cfg->public_key_len == kem->public_key_len);
    CHECK(cfg->n_suites >= 1 && cfg->n_suites <= TWOWAY_KEY_CONFIG_MAX_SUITES);
    for (size_t i = 0; i < cfg->n_suites; i++) {
        CHECK(twoway_hpke_kdf_by_id(cfg->suites[i].kdf_id) != NULL);
        CHECK(twoway_hpke_aead_by_id(cfg->suites[i].aead_id) != NULL);
        CHECK(cfg->suites[i].aead_id != TWOWAY_HPKE_AEAD_EXPORT_ONLY);
        for (size_t j = 0; j < i; j++)
            CHECK(cfg->suites[i].kdf_id != cfg->suites[j].kdf_id ||
                  cfg->suites[i].aead_id != cfg->suites[j].aead_id);
    }
}

static void fuzz_one(const uint8_t *data, size_t size)
{
    twoway_key_config cfg, again;
    size_t consumed = 12345;
    uint8_t out[5 + TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN + 4 * TWOWAY_KEY_CONFIG_MAX_SUITES];
    uint8_t out2[sizeof out];

    int rc = twoway_key_config_decode(&cfg, data, size, &consumed);
    CHECK(rc == TWOWAY_OK || is_decode_error(rc));
    if (rc != TWOWAY_OK) {
        CHECK(consumed == 0 || (rc == TWOWAY_ERR_UNSUPPORTED && consumed <= size));
        return;
    }
    CHECK(consumed <= size);
    check_config(&cfg);

    size_t out_len = sizeof out;
    CHECK(twoway_key_config_encode(&cfg, out, &out_len) == TWOWAY_OK);
    CHECK(out_len == 5 + cfg.public_key_len + 4 * cfg.n_suites);
    CHECK(out_len <= consumed);
    if (out_len == consumed)
        CHECK(memcmp(out, data, consumed) == 0); /* nothing was skipped */

    size_t consumed2 = 0;
    CHECK(twoway_key_config_decode(&again, out, out_len, &consumed2) == TWOWAY_OK);
    CHECK(consumed2 == out_len && config_equal(&cfg, &again));
    size_t out2_len = sizeof out2;
    CHECK(twoway_key_config_encode(&again, out2, &out2_len) == TWOWAY_OK);
    CHECK(out2_len == out_len && memcmp(out, out2, out_len) == 0);

    size_t short_len = out_len - 1;
    CHECK(twoway_key_config_encode(&cfg, out2, &short_len) == TWOWAY_ERR_BUFFER);
    CHECK(short_len == out_len);
}

#define ROOM 4

static void fuzz_list(const uint8_t *data, size_t size)
{
    twoway_key_config cfgs[ROOM];
    size_t n = 12345;

    int rc = twoway_key_configs_decode(cfgs, ROOM, &n, data, size);
    CHECK(rc == TWOWAY_OK || rc == TWOWAY_ERR_BUFFER || is_decode_error(rc));
    if (rc != TWOWAY_OK && rc != TWOWAY_ERR_BUFFER) {
        CHECK(n == 0);
        return;
    }
    CHECK(n >= 1);
    twoway_key_config *all = cfgs;
    if (rc == TWOWAY_ERR_BUFFER) {
        CHECK(n > ROOM);
        /* every kept entry takes at least 2 + 5 + 32 + 4 bytes of input */
        CHECK(n <= size / 43);
        all = calloc(n, sizeof *all);
        CHECK(all != NULL);
        size_t n2 = 0;
        CHECK(twoway_key_configs_decode(all, n, &n2, data, size) == TWOWAY_OK);
        CHECK(n2 == n);
        for (size_t i = 0; i < ROOM; i++)
            CHECK(config_equal(&cfgs[i], &all[i]));
    } else {
        CHECK(n <= ROOM);
    }
    for (size_t i = 0; i < n; i++)
        check_config(&all[i]);

    /* Re-encode: the bytes decode to the same configurations and encode
     * again to the same bytes. */
    size_t len = 0;
    CHECK(twoway_key_configs_encode(all, n, NULL, &len) == TWOWAY_ERR_BUFFER);
    CHECK(len > 0 && len <= size);
    uint8_t *enc = malloc(len), *enc2 = malloc(len);
    twoway_key_config *back = calloc(n, sizeof *back);
    CHECK(enc != NULL && enc2 != NULL && back != NULL);
    size_t enc_len = len;
    CHECK(twoway_key_configs_encode(all, n, enc, &enc_len) == TWOWAY_OK && enc_len == len);
    size_t n3 = 0;
    CHECK(twoway_key_configs_decode(back, n, &n3, enc, enc_len) == TWOWAY_OK);
    CHECK(n3 == n);
    for (size_t i = 0; i < n; i++)
        CHECK(config_equal(&all[i], &back[i]));
    size_t enc2_len = len;
    CHECK(twoway_key_configs_encode(back, n, enc2, &enc2_len) == TWOWAY_OK);
    CHECK(enc2_len == len && memcmp(enc, enc2, len) == 0);
    /* Nothing skipped anywhere: the same bytes as the input. */
    if (len == size)
        CHECK(memcmp(enc, data, size) == 0);

    free(enc);
    free(enc2);
    free(back);
    if (all != cfgs)
        free(all);
}

/* A client's choice from the list (twoway_key_configs_select): it agrees
 * with the list decoder, and what it picks is in the list and matches. */
static void fuzz_select(const uint8_t *data, size_t size)
{
    twoway_key_config cfgs[ROOM], pick;
    twoway_hpke_suite suite;
    size_t n = 0;
    int key_id = size > 0 ? (data[0] & 1 ? TWOWAY_ANY_KEY_ID : data[size - 1]) : 0;
    uint16_t aead_id = size > 1 && (data[1] & 1) ? TWOWAY_HPKE_AEAD_CHACHA20_POLY1305 : 0;
    int lrc = twoway_key_configs_decode(cfgs, ROOM, &n, data, size);
    int rc = twoway_key_configs_select(&pick, &suite, data, size, key_id, 0, aead_id);
    if (lrc != TWOWAY_OK && lrc != TWOWAY_ERR_BUFFER) {
        CHECK(rc == lrc);
        return;
    }
    CHECK(rc == TWOWAY_OK || rc == TWOWAY_ERR_KEY_MISMATCH || rc == TWOWAY_ERR_UNSUPPORTED);
    if (rc != TWOWAY_OK)
        return;
    CHECK(key_id == TWOWAY_ANY_KEY_ID || pick.key_id == key_id);
    CHECK(suite.kem->id == pick.kem_id && (aead_id == 0 || suite.aead->id == aead_id));
    int listed = 0;
    for (size_t i = 0; i < pick.n_suites; i++)
        listed |=
            pick.suites[i].kdf_id == suite.kdf->id && pick.suites[i].aead_id == suite.aead->id;
    CHECK(listed);
    if (key_id == TWOWAY_ANY_KEY_ID && aead_id == 0 && n <= ROOM)
        CHECK(config_equal(&pick, &cfgs[0]) && suite.kdf->id == cfgs[0].suites[0].kdf_id &&
              suite.aead->id == cfgs[0].suites[0].aead_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libFuzzer's data is a heap block of exactly size bytes: ASan sees any
     * read past it. */
    fuzz_one(data, size);
    fuzz_list(data, size);
    fuzz_select(data, size);
    return 0;
}
