/* SPDX-License-Identifier: Apache-2.0 */
#include "secureio/kdf.h"

#include "common/util.h"

#include <blake3.h>

static void finish(blake3_hasher *h, const sio_bytes *in, size_t n, uint8_t *out, size_t out_len)
{
    for (size_t i = 0; i < n; i++)
        if (in[i].len > 0)
            blake3_hasher_update(h, in[i].data, in[i].len);
    blake3_hasher_finalize(h, out, out_len);
    util_wipe(h, sizeof *h);
}

void sio_kdf_derive(const char *context, const sio_bytes *in, size_t n, uint8_t *out,
                    size_t out_len)
{
    blake3_hasher h;
    blake3_hasher_init_derive_key(&h, context);
    finish(&h, in, n, out, out_len);
}

void sio_kdf_keyed(const uint8_t key[SIO_KDF_KEY_LEN], const sio_bytes *in, size_t n, uint8_t *out,
                   size_t out_len)
{
    blake3_hasher h;
    blake3_hasher_init_keyed(&h, key);
    finish(&h, in, n, out, out_len);
}

void sio_kdf_hash(const sio_bytes *in, size_t n, uint8_t *out, size_t out_len)
{
    blake3_hasher h;
    blake3_hasher_init(&h);
    finish(&h, in, n, out, out_len);
}
