/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: saved request contexts (twoway_context_load, the blob
 * the CLI's state files carry).
 *
 * Input: the blob, any bytes.
 *
 * Invariants (abort() otherwise):
 *  - only FORMAT, UNSUPPORTED (NOMEM: the environment); no context on
 *    failure;
 *  - a loaded context saves back to exactly the input for its own media
 *    type and refuses any other (ARG); its suite is built in and not
 *    export-only;
 *  - it seals a response (chunked and not) that a response opener made
 *    from it opens to the plaintext, and a response with one flipped bit
 *    does not open.
 */
#include <twoway/twoway.h>

#include <stdint.h>
#include <string.h>

#define FUZZ_NAME "fuzz_twoway_context"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The framing an OHTTP media type fixes: 1 chunked, 0 not, -1 none. */
static int ohttp_chunked(const uint8_t *m, size_t len)
{
    static const char *const names[4] = {TWOWAY_OHTTP_REQUEST, TWOWAY_OHTTP_RESPONSE,
                                         TWOWAY_OHTTP_CHUNKED_REQUEST,
                                         TWOWAY_OHTTP_CHUNKED_RESPONSE};
    for (int i = 0; i < 4; i++)
        if (len == strlen(names[i]) && memcmp(m, names[i], len) == 0)
            return i >= 2;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    twoway_context *ctx = (twoway_context *)&ctx;
    int rc = twoway_context_load(&ctx, data, size);
    if (rc != TWOWAY_OK) {
        CHECK(rc == TWOWAY_ERR_FORMAT || rc == TWOWAY_ERR_UNSUPPORTED || rc == TWOWAY_ERR_NOMEM);
        CHECK(ctx == NULL);
        return 0;
    }
    size_t mlen = 0;
    const uint8_t *media = twoway_context_response_media_type(ctx, &mlen);
    CHECK(media != NULL || mlen == 0);
    const twoway_hpke_suite *suite = twoway_context_suite(ctx);
    CHECK(suite != NULL && suite->aead->id != TWOWAY_HPKE_AEAD_EXPORT_ONLY);
    CHECK(twoway_hpke_kem_by_id(suite->kem->id) == suite->kem);

    uint8_t blob[TWOWAY_CONTEXT_BLOB_MAX];
    size_t blen = sizeof blob;
    CHECK(twoway_context_save(ctx, media, mlen, blob, &blen) == TWOWAY_OK);
    CHECK(blen == size && memcmp(blob, data, size) == 0);
    blen = sizeof blob;
    CHECK(twoway_context_save(ctx, (const uint8_t *)"other", 5, blob, &blen) == TWOWAY_ERR_ARG ||
          (mlen == 5 && memcmp(media, "other", 5) == 0));

    for (int chunked = 0; chunked < 2; chunked++) {
        int fixed = ohttp_chunked(media, mlen);
        if (fixed >= 0 && fixed != chunked)
            continue; /* the OHTTP names fix the framing */
        twoway_options opt = TWOWAY_OPTIONS_INIT;
        opt.chunked = chunked;
        opt.max_chunk_len = 5;
        twoway_sealer *s = NULL;
        CHECK(twoway_response_sealer_new(&s, ctx, media, mlen, &opt) == TWOWAY_OK);
        static const uint8_t pt[] = "a response from a loaded context";
        uint8_t msg[512], out[512];
        size_t n = sizeof msg, on = sizeof out;
        CHECK(twoway_sealer_final(s, msg, &n, pt, sizeof pt) == TWOWAY_OK);
        twoway_sealer_free(s);
        for (int flip = 0; flip < 2; flip++) {
            twoway_opener *o = NULL;
            CHECK(twoway_response_opener_new(&o, ctx, media, mlen, &opt) == TWOWAY_OK);
            if (flip)
                msg[n / 2] ^= 0x10;
            on = sizeof out;
            rc = twoway_opener_final(o, out, &on, msg, n);
            if (flip)
                CHECK(rc != TWOWAY_OK);
            else
                CHECK(rc == TWOWAY_OK && on == sizeof pt && memcmp(out, pt, on) == 0);
            twoway_opener_free(o);
        }
    }
    twoway_context_free(ctx);
    return 0;
}
