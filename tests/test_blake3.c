/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BLAKE3 known answers (the official test vectors, tests/support/blake3_kat.h)
 * through libsecureio's KDF wrappers: plain hash, keyed hash and derive_key,
 * with the input fed in one piece and in many.
 */
#include "blake3_kat.h"
#include "json.h"
#include "test.h"

#include "secureio/kdf.h"

#include <stdlib.h>
#include <string.h>

static void from_hex(const char *hex, uint8_t *out, size_t n)
{
    uint8_t *tmp = NULL;
    size_t len = 0;
    if (!CHECK(tj_hex_decode(hex, &tmp, &len) == 0 && len == n))
        memset(out, 0, n);
    else
        memcpy(out, tmp, n);
    free(tmp);
}

int main(void)
{
    uint8_t *input = malloc(102400);
    for (size_t i = 0; i < 102400; i++)
        input[i] = (uint8_t)(i % B3KAT_INPUT_MOD);

    for (size_t c = 0; c < B3KAT_NCASES; c++) {
        const b3kat_case *k = &b3kat_cases[c];
        uint8_t want[32], got[32];
        size_t n = k->input_len;
        /* in one piece, and in three unequal pieces */
        size_t a = n / 3, b = n / 2;
        sio_bytes one = {input, n};
        sio_bytes three[3] = {{input, a}, {input + a, b - a}, {input + b, n - b}};

        from_hex(k->hash, want, 32);
        sio_kdf_hash(&one, 1, got, 32);
        CHECK_MEM(got, want, 32);
        sio_kdf_hash(three, 3, got, 32);
        CHECK_MEM(got, want, 32);

        from_hex(k->keyed_hash, want, 32);
        sio_kdf_keyed((const uint8_t *)B3KAT_KEY, &one, 1, got, 32);
        CHECK_MEM(got, want, 32);
        sio_kdf_keyed((const uint8_t *)B3KAT_KEY, three, 3, got, 32);
        CHECK_MEM(got, want, 32);

        from_hex(k->derive_key, want, 32);
        sio_kdf_derive(B3KAT_CONTEXT, &one, 1, got, 32);
        CHECK_MEM(got, want, 32);
        sio_kdf_derive(B3KAT_CONTEXT, three, 3, got, 32);
        CHECK_MEM(got, want, 32);
    }
    /* the XOF: a longer output starts with the 32-byte one */
    {
        uint8_t short_out[32], long_out[131];
        sio_bytes in = {input, 1000};
        sio_kdf_derive(B3KAT_CONTEXT, &in, 1, short_out, sizeof short_out);
        sio_kdf_derive(B3KAT_CONTEXT, &in, 1, long_out, sizeof long_out);
        CHECK_MEM(short_out, long_out, 32);
    }
    free(input);
    return test_summary("blake3");
}
