/* SPDX-License-Identifier: Apache-2.0 */
#include "common/util.h"

#include <openssl/crypto.h>

void util_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        OPENSSL_cleanse(p, n);
}

int util_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int util_ct_is_zero(const void *p, size_t n)
{
    const volatile uint8_t *b = p;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    /* 1 when acc == 0, without a data-dependent branch */
    return (int)(1 & (((unsigned)acc - 1) >> 8));
}
