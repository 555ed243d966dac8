/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request header (key id and algorithm ids) and the HPKE info string.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "message_internal.h"

void twoway_header_encode(const twoway_header *hdr, uint8_t out[TWOWAY_HEADER_LEN])
{
    out[0] = hdr->key_id;
    util_store16_be(out + 1, hdr->kem_id);
    util_store16_be(out + 3, hdr->kdf_id);
    util_store16_be(out + 5, hdr->aead_id);
}

int twoway_header_parse(twoway_header *hdr, const uint8_t *in, size_t in_len)
{
    if (hdr == NULL || (in == NULL && in_len > 0))
        return TWOWAY_ERR_ARG;
    if (in_len < TWOWAY_HEADER_LEN)
        return TWOWAY_ERR_HEADER;
    twoway_header h = {in[0], util_load16_be(in + 1), util_load16_be(in + 3),
                       util_load16_be(in + 5)};
    if (twoway_hpke_kem_by_id(h.kem_id) == NULL || twoway_hpke_kdf_by_id(h.kdf_id) == NULL ||
        twoway_hpke_aead_by_id(h.aead_id) == NULL || h.aead_id == TWOWAY_HPKE_AEAD_EXPORT_ONLY)
        return TWOWAY_ERR_HEADER;
    *hdr = h;
    return TWOWAY_OK;
}

int tw_info_new(uint8_t **info, size_t *info_len, const uint8_t *media, size_t media_len,
                const uint8_t hdr[TWOWAY_HEADER_LEN])
{
    *info = NULL;
    /* HPKE takes at most TWOWAY_HPKE_MAX_INPUT_LEN bytes of info. */
    if (media_len > TWOWAY_HPKE_MAX_INPUT_LEN - 1 - TWOWAY_HEADER_LEN)
        return TWOWAY_ERR_ARG;
    size_t n = media_len + 1 + TWOWAY_HEADER_LEN;
    uint8_t *p = malloc(n);
    if (p == NULL)
        return TWOWAY_ERR_NOMEM;
    if (media_len > 0)
        memcpy(p, media, media_len);
    p[media_len] = 0x00;
    memcpy(p + media_len + 1, hdr, TWOWAY_HEADER_LEN);
    *info = p;
    *info_len = n;
    return TWOWAY_OK;
}

int tw_media_check(const uint8_t *media, size_t media_len, int chunked)
{
    /* OHTTP ties the framing to the media type: refuse the other framing
     * under these names, so that a relay cannot re-frame a message and have
     * it read under the same label. */
    static const char *const plain[] = {TWOWAY_OHTTP_REQUEST, TWOWAY_OHTTP_RESPONSE};
    static const char *const chunky[] = {TWOWAY_OHTTP_CHUNKED_REQUEST,
                                         TWOWAY_OHTTP_CHUNKED_RESPONSE};
    for (int i = 0; i < 2; i++) {
        const char *p = chunked ? plain[i] : chunky[i];
        if (media_len == strlen(p) && memcmp(media, p, media_len) == 0)
            return TWOWAY_ERR_ARG;
    }
    return TWOWAY_OK;
}
