/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Message options and randomness.
 */
#include <limits.h>
#include <stdint.h>

#include <openssl/rand.h>

#include "message_internal.h"

int tw_opts_resolve(tw_opts *o, const twoway_options *opt, int sealing)
{
    static const twoway_options defaults = TWOWAY_OPTIONS_INIT;
    if (opt == NULL)
        opt = &defaults;
    if (opt->version != TWOWAY_OPTIONS_VERSION || (opt->chunked != 0 && opt->chunked != 1))
        return TWOWAY_ERR_ARG;
    if (opt->max_chunk_len > TWOWAY_MAX_CHUNK_LEN)
        return TWOWAY_ERR_ARG;
    o->chunked = opt->chunked;
    o->max_chunk_len = opt->max_chunk_len;
    if (o->max_chunk_len == 0)
        o->max_chunk_len = sealing ? TWOWAY_DEFAULT_SEAL_CHUNK_LEN : TWOWAY_DEFAULT_OPEN_CHUNK_LEN;
    o->max_message_len = opt->max_message_len;
    if (o->max_message_len == 0)
        o->max_message_len = TWOWAY_DEFAULT_MAX_MESSAGE_LEN;
    o->rng = opt->rng;
    o->rng_ctx = opt->rng_ctx;
    return TWOWAY_OK;
}

int tw_random(const tw_opts *o, uint8_t *out, size_t len)
{
    if (len == 0)
        return TWOWAY_OK;
    if (o->rng != NULL)
        return o->rng(o->rng_ctx, out, len) == 0 ? TWOWAY_OK : TWOWAY_ERR_CRYPTO;
    if (len > INT_MAX)
        return TWOWAY_ERR_ARG;
    return RAND_bytes(out, (int)len) == 1 ? TWOWAY_OK : TWOWAY_ERR_CRYPTO;
}

int tw_overlap(const void *a, size_t an, const void *b, size_t bn)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    if (an == 0 || bn == 0)
        return 0;
    return x < y ? y - x < an : x - y < bn;
}
