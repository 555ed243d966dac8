/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the twoway request header (twoway_header_parse).
 *
 * Input: any bytes, parsed as a header (only the first 7 count).
 *
 * Invariants (abort() when broken):
 *  - fewer than 7 bytes: TWOWAY_ERR_HEADER, and *hdr untouched;
 *  - otherwise TWOWAY_OK exactly when the KEM, KDF and AEAD ids are
 *    built-in algorithms and the AEAD is not export-only, else
 *    TWOWAY_ERR_HEADER with *hdr untouched;
 *  - on success the fields are the big-endian ids, encoding them gives back
 *    the first 7 bytes, and the ids make a suite (twoway_hpke_suite_from_ids);
 *  - the bytes after the 7th change nothing (parsing just 7 gives the same).
 */
#include <twoway/message.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_twoway_header"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const twoway_header *a, const twoway_header *b)
{
    return a->key_id == b->key_id && a->kem_id == b->kem_id && a->kdf_id == b->kdf_id &&
           a->aead_id == b->aead_id;
}

static int is_built_in(uint16_t kem, uint16_t kdf, uint16_t aead)
{
    return twoway_hpke_kem_by_id(kem) != NULL && twoway_hpke_kdf_by_id(kdf) != NULL &&
           twoway_hpke_aead_by_id(aead) != NULL && aead != TWOWAY_HPKE_AEAD_EXPORT_ONLY;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const twoway_header poison = {0xA5, 0xA5A5, 0xA5A5, 0xA5A5};
    twoway_header h = poison, h7;
    int rc = twoway_header_parse(&h, data, size);
    if (size < TWOWAY_HEADER_LEN) {
        CHECK(rc == TWOWAY_ERR_HEADER);
        CHECK(same(&h, &poison));
        return 0;
    }
    uint16_t kem = (uint16_t)(data[1] << 8 | data[2]);
    uint16_t kdf = (uint16_t)(data[3] << 8 | data[4]);
    uint16_t aead = (uint16_t)(data[5] << 8 | data[6]);
    if (!is_built_in(kem, kdf, aead)) {
        CHECK(rc == TWOWAY_ERR_HEADER);
        CHECK(same(&h, &poison));
        return 0;
    }
    CHECK(rc == TWOWAY_OK);
    CHECK(h.key_id == data[0] && h.kem_id == kem && h.kdf_id == kdf && h.aead_id == aead);
    uint8_t enc[TWOWAY_HEADER_LEN];
    twoway_header_encode(&h, enc);
    CHECK(memcmp(enc, data, TWOWAY_HEADER_LEN) == 0);
    twoway_hpke_suite suite;
    CHECK(twoway_hpke_suite_from_ids(&suite, h.kem_id, h.kdf_id, h.aead_id) == TWOWAY_OK);
    CHECK(suite.aead->seal != NULL);
    /* the later bytes are ignored */
    CHECK(twoway_header_parse(&h7, data, TWOWAY_HEADER_LEN) == TWOWAY_OK);
    CHECK(same(&h, &h7));
    return 0;
}
