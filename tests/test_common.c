/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The small shared helpers in src/common: constant-time comparisons,
 * big-endian integers, overflow checks, wiping.
 */
#include "test.h"

#include "common/util.h"

#include <string.h>

int main(void)
{
    uint8_t a[64], b[64];
    memset(a, 0x5c, sizeof a);
    memcpy(b, a, sizeof b);
    CHECK_EQ_INT(util_ct_equal(a, b, sizeof a), 1);
    CHECK_EQ_INT(util_ct_equal(a, b, 0), 1);
    for (size_t i = 0; i < sizeof a; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            CHECK_EQ_INT(util_ct_equal(a, b, sizeof a), 0);
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    uint8_t z[48] = {0};
    CHECK_EQ_INT(util_ct_is_zero(z, sizeof z), 1);
    CHECK_EQ_INT(util_ct_is_zero(z, 0), 1);
    for (size_t i = 0; i < sizeof z; i++) {
        for (int v = 1; v < 256; v <<= 1) {
            z[i] = (uint8_t)v;
            CHECK_EQ_INT(util_ct_is_zero(z, sizeof z), 0);
        }
        z[i] = 0xFF;
        CHECK_EQ_INT(util_ct_is_zero(z, sizeof z), 0);
        z[i] = 0;
    }

    uint8_t buf[8];
    util_store16_be(buf, 0xA1B2);
    CHECK(buf[0] == 0xA1 && buf[1] == 0xB2);
    CHECK_EQ_UINT(util_load16_be(buf), 0xA1B2);
    util_store64_be(buf, 0x0102030405060708ull);
    CHECK(buf[0] == 1 && buf[7] == 8);
    CHECK_EQ_UINT(util_load64_be(buf), 0x0102030405060708ull);
    util_store64_be(buf, UINT64_MAX);
    CHECK_EQ_UINT(util_load64_be(buf), UINT64_MAX);

    size_t r;
    CHECK_EQ_INT(util_add_overflow(SIZE_MAX, 1, &r), 1);
    CHECK_EQ_INT(util_add_overflow(SIZE_MAX - 1, 1, &r), 0);
    CHECK_EQ_UINT(r, SIZE_MAX);

    util_wipe(a, sizeof a);
    CHECK_EQ_INT(util_ct_is_zero(a, sizeof a), 1);
    util_wipe(NULL, 10); /* harmless */
    return test_summary("common");
}
