/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For tests/cli/twoway_cli.sh: writes a chunked OHTTP request to the first
 * configuration of an application/ohttp-keys file whose first chunk is
 * empty (chunked OHTTP forbids it; no sender of ours writes one), then
 * "abc" and the final chunk, so that the CLI's message for it is tested.
 *
 *   empty_chunk CONFIG_FILE OUT_FILE
 */
#include <twoway/twoway.h>

#include "twoway/message_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const uint8_t media[] = TWOWAY_OHTTP_CHUNKED_REQUEST;
    uint8_t cfg[4096], out[4096];
    if (argc != 3) {
        fprintf(stderr, "usage: empty_chunk CONFIG_FILE OUT_FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    size_t cfg_len = f != NULL ? fread(cfg, 1, sizeof cfg, f) : 0;
    if (f != NULL)
        fclose(f);
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    opt.chunked = 1;
    twoway_sealer *s = NULL;
    int rc = twoway_request_sealer_new_for_configs(&s, cfg, cfg_len, TWOWAY_ANY_KEY_ID, 0, 0, media,
                                                   sizeof media - 1, &opt);
    if (rc != TWOWAY_OK) {
        fprintf(stderr, "empty_chunk: %s\n", twoway_strerror(rc));
        return 1;
    }
    /* the prefix, an empty non-final chunk (its length is the tag's), then
     * "abc" and the final chunk through the sealer's own body */
    size_t off = s->prefix_len, tag = tw_aead_tag_len(&s->body.aead), w = 0;
    memcpy(out, s->prefix, off);
    off += tw_varint_put(out + off, tag);
    rc = tw_aead_seal(&s->body.aead, out + off, NULL, 0, NULL, 0);
    off += tag;
    if (rc == TWOWAY_OK)
        rc = tw_body_seal(&s->body, out + off, &w, (const uint8_t *)"abc", 3, 1);
    off += w;
    twoway_sealer_free(s);
    f = rc == TWOWAY_OK ? fopen(argv[2], "wb") : NULL;
    if (f == NULL || fwrite(out, 1, off, f) != off || fclose(f) != 0) {
        fprintf(stderr, "empty_chunk: cannot write %s\n", argv[2]);
        return 1;
    }
    return 0;
}
