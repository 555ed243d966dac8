/* SPDX-License-Identifier: Apache-2.0 */
#include "cipher.h"

#define CIPHER_PIECE ((size_t)1 << 30)

int util_cipher_update(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *in, size_t len)
{
    int outl;
    while (len > 0) {
        size_t piece = len < CIPHER_PIECE ? len : CIPHER_PIECE;
        if (!EVP_CipherUpdate(c, out, &outl, in, (int)piece) || (size_t)outl != piece)
            return 0;
        if (out != NULL)
            out += piece;
        in += piece;
        len -= piece;
    }
    return 1;
}
