/* SPDX-License-Identifier: Apache-2.0 */
#include "hpke_util.h"

#include "test.h"

twoway_hpke_key *test_hpke_generate(const twoway_hpke_kem *kem)
{
    twoway_hpke_key *k = NULL;
    CHECK_EQ_INT(twoway_hpke_key_generate(kem, &k), TWOWAY_OK);
    return k;
}

twoway_hpke_key *test_hpke_public_of(const twoway_hpke_key *k)
{
    twoway_hpke_key *p = NULL;
    size_t len;
    const uint8_t *pk = twoway_hpke_key_public(k, &len);
    CHECK_EQ_INT(twoway_hpke_key_import_public(twoway_hpke_key_kem(k), &p, pk, len), TWOWAY_OK);
    return p;
}

int test_hpke_suite(twoway_hpke_suite *s, uint16_t kem_id, uint16_t kdf_id, uint16_t aead_id)
{
    return CHECK_EQ_INT(twoway_hpke_suite_from_ids(s, kem_id, kdf_id, aead_id), TWOWAY_OK);
}
