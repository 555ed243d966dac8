/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: what the OHTTP gateway makes of an opened request
 * (src/twoway/ohttp_target.c) and of an origin's header lines
 * (src/twoway/ohttp_origin.c).
 *
 * Input: a Binary HTTP request (any bytes; decoded as the gateway decodes
 * it), then, after the message, header lines as curl hands them over.
 *
 * Invariants (abort() otherwise):
 *  - a request the gateway would forward has a URL that is exactly one of
 *    the allowed origins followed by a path starting with '/', with no
 *    byte outside 0x21-0x7e: no other host, no userinfo, nothing that
 *    splits the request line;
 *  - the header lines sent on hold only printable bytes and tabs, and
 *    none of the fields that must not cross (Host, Connection,
 *    Transfer-Encoding, Content-Length, ...);
 *  - header-line parsing never reads outside the line and gives back a
 *    name without ':' and a value without leading or trailing blanks.
 */
#include "twoway/ohttp_gateway_internal.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#define FUZZ_NAME "fuzz_twoway_ohttp_target"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const origins[] = {"http://127.0.0.1:8000", "https://api.example",
                                      "http://[::1]:9"};

static void check_line(const uint8_t *data, size_t size)
{
    const char *name, *value;
    size_t nl = 0, vl = 0;
    unsigned status = 0;
    char *copy = xmalloc(size);
    memcpy(copy, data, size);
    int k = tw_http_header_line(copy, size, &name, &nl, &value, &vl, &status);
    if (k == 1) {
        CHECK(name >= copy && name + nl <= copy + size && nl > 0);
        CHECK(memchr(name, ':', nl) == NULL);
        CHECK(value >= copy && value + vl <= copy + size);
        CHECK(vl == 0 || (value[0] != ' ' && value[0] != '\t' && value[vl - 1] != ' ' &&
                          value[vl - 1] != '\t'));
    } else if (k == 2) {
        CHECK(status <= 999);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    twoway_ohttp_gateway gw;
    memset(&gw, 0, sizeof gw);
    gw.origins = (char **)(uintptr_t)origins;
    gw.opt.n_allowed_origins = sizeof origins / sizeof origins[0];

    twoway_bhttp_decoder *d = NULL;
    CHECK(twoway_bhttp_decoder_new(&d, 0, NULL) == TWOWAY_OK);
    gw_target t;
    gw_target_init(&t);
    size_t off = 0;
    int have_request = 0, headers_done = 0, bad = 0;
    while (!headers_done && !bad) {
        twoway_bhttp_event ev;
        size_t used;
        if (twoway_bhttp_decode(d, data + off, size - off, 1, &used, &ev) != TWOWAY_OK)
            break;
        off += used;
        if (ev.type == TWOWAY_BHTTP_REQUEST) {
            bad = gw_target_request(&t, &ev) != TWOWAY_OK;
            have_request = !bad;
        } else if (ev.type == TWOWAY_BHTTP_FIELD && ev.section == TWOWAY_BHTTP_SECTION_HEADER) {
            bad = gw_target_field(&t, &ev) != TWOWAY_OK;
        } else if (ev.type == TWOWAY_BHTTP_SECTION_END) {
            headers_done = 1;
        } else if (ev.type == TWOWAY_BHTTP_END || ev.type == TWOWAY_BHTTP_NEED_MORE) {
            break;
        }
    }
    if (have_request && headers_done && !bad) {
        char url[8192];
        unsigned status;
        if (gw_target_url(&gw, &t, url, sizeof url, &status) == 0) {
            size_t ul = strlen(url);
            int matched = 0;
            for (size_t i = 0; i < gw.opt.n_allowed_origins; i++) {
                size_t ol = strlen(origins[i]);
                if (ul > ol && strncasecmp(url, origins[i], ol) == 0 && url[ol] == '/')
                    matched = 1;
            }
            CHECK(matched);
            for (size_t i = 0; i < ul; i++)
                CHECK(url[i] >= 0x21 && url[i] <= 0x7e);
            struct curl_slist *h = gw_target_headers(&t);
            for (struct curl_slist *l = h; l != NULL; l = l->next) {
                const char *line = l->data;
                size_t nl = strcspn(line, ":;");
                CHECK(nl > 0 && !tw_http_hop_by_hop(line, nl));
                for (const char *p = line; *p; p++)
                    CHECK((*p >= 0x20 && *p <= 0x7e) || *p == '\t' || (uint8_t)*p >= 0x80);
            }
            curl_slist_free_all(h);
        } else {
            CHECK(status == 400 || status == 403 || status == 414);
        }
    }
    gw_target_free(&t);
    twoway_bhttp_decoder_free(d);
    /* the rest, as header lines of an origin's answer */
    if (off < size)
        check_line(data + off, size - off);
    return 0;
}
