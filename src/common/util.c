/* SPDX-License-Identifier: Apache-2.0 */
#define _DEFAULT_SOURCE /* explicit_bzero */

#include "common/util.h"

#include <openssl/crypto.h>
#include <string.h>

/* explicit_bzero (glibc 2.25 and later, the BSDs) is memset that the
 * compiler may not remove, at memset's speed: a record's plaintext is wiped
 * after every record, and OPENSSL_cleanse's loop cost a few percent of the
 * bulk throughput. Elsewhere, OpenSSL's. */
void util_wipe(void *p, size_t n)
{
    if (p == NULL || n == 0)
        return;
#if (defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))) ||        \
    defined(__FreeBSD__) || defined(__OpenBSD__)
    explicit_bzero(p, n);
#else
    OPENSSL_cleanse(p, n);
#endif
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
