/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the Binary HTTP decoder (twoway/bhttp.h).
 *
 * Input: byte 0 selects request or response (bit 0), whether the end comes
 * with the last piece or on a call of its own (bit 1), and the piece size
 * ((byte >> 2) + 1); the rest is the message, any bytes.
 *
 * Invariants (abort() otherwise):
 *  - every call consumes only what it was given, makes progress or asks for
 *    more, and content events point into the input just handed in;
 *  - the same bytes fed whole and in pieces give the same events and the
 *    same result; after an error every call repeats it;
 *  - a message that decodes is re-encoded (in both forms) from its events
 *    by twoway_bhttp_encode, which must accept it, and that decodes to the
 *    same events.
 */
#include <twoway/bhttp.h>

#include <stdint.h>
#include <string.h>

#define FUZZ_NAME "fuzz_twoway_bhttp"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXF 64

/* A decoded message, kept to re-encode it: strings are copied into arena. */
typedef struct decoded {
    buf log; /* every event, serialized (form left out) */
    buf arena;
    int rc, response;
    size_t ctrl[4][2]; /* arena offset, length */
    uint16_t status;
    size_t n_info;
    uint16_t info_status[16];
    size_t info_nf[16];
    size_t nf[5];
    size_t f[5][MAXF][4]; /* per section: name off/len, value off/len */
    int too_many;
    buf content;
} decoded;

static void logv(buf *b, const void *p, size_t n)
{
    uint8_t len[8];
    memcpy(len, &n, sizeof n < 8 ? sizeof n : 8);
    buf_append(b, len, 8);
    buf_append(b, p, n);
}

static size_t keep(decoded *o, const uint8_t *p, size_t n)
{
    size_t off = o->arena.len;
    buf_append(&o->arena, p, n);
    return off;
}

static void decode(const uint8_t *msg, size_t len, int response, size_t piece, int end_apart,
                   decoded *o)
{
    twoway_bhttp_decoder *d = NULL;
    twoway_bhttp_event ev;
    memset(o, 0, sizeof *o);
    o->response = response;
    buf_append(&o->arena, (const uint8_t *)"", 1); /* never a NULL base */
    CHECK(twoway_bhttp_decoder_new(&d, response, NULL) == TWOWAY_OK);
    size_t off = 0, section_info = 0;
    int done = 0;
    while (!done) {
        size_t n = len - off < piece ? len - off : piece;
        int last = end_apart ? (off == len) : (off + n == len);
        size_t used = 99;
        int rc = twoway_bhttp_decode(d, msg + off, n, last, &used, &ev);
        if (rc != TWOWAY_OK) {
            CHECK(rc < 0 && used == 0);
            size_t u2;
            CHECK(twoway_bhttp_decode(d, msg + off, n, last, &u2, &ev) == rc);
            o->rc = rc;
            break;
        }
        CHECK(used <= n);
        if (ev.type == TWOWAY_BHTTP_NEED_MORE) {
            CHECK(used == n && !last);
            off += used;
            continue;
        }
        off += used;
        uint8_t t = (uint8_t)ev.type;
        if (ev.type != TWOWAY_BHTTP_CONTENT) /* content may come in any pieces */
            buf_append(&o->log, &t, 1);
        switch (ev.type) {
        case TWOWAY_BHTTP_REQUEST:
            logv(&o->log, ev.method, ev.method_len);
            logv(&o->log, ev.scheme, ev.scheme_len);
            logv(&o->log, ev.authority, ev.authority_len);
            logv(&o->log, ev.path, ev.path_len);
            o->ctrl[0][1] = ev.method_len;
            o->ctrl[0][0] = keep(o, ev.method, ev.method_len);
            o->ctrl[1][1] = ev.scheme_len;
            o->ctrl[1][0] = keep(o, ev.scheme, ev.scheme_len);
            o->ctrl[2][1] = ev.authority_len;
            o->ctrl[2][0] = keep(o, ev.authority, ev.authority_len);
            o->ctrl[3][1] = ev.path_len;
            o->ctrl[3][0] = keep(o, ev.path, ev.path_len);
            break;
        case TWOWAY_BHTTP_INFORMATIONAL:
        case TWOWAY_BHTTP_STATUS:
            logv(&o->log, &ev.status, sizeof ev.status);
            if (ev.type == TWOWAY_BHTTP_STATUS) {
                o->status = ev.status;
            } else {
                CHECK(o->n_info < 16);
                o->info_status[o->n_info++] = ev.status;
            }
            break;
        case TWOWAY_BHTTP_FIELD: {
            logv(&o->log, ev.name, ev.name_len);
            logv(&o->log, ev.value, ev.value_len);
            size_t s = (size_t)ev.section;
            if (s == TWOWAY_BHTTP_SECTION_INFORMATIONAL) {
                /* informational fields: kept only for the latest one */
                if (o->info_nf[o->n_info - 1] >= MAXF) {
                    o->too_many = 1;
                    break;
                }
                o->info_nf[o->n_info - 1]++;
                section_info++;
                o->too_many = 1; /* re-encoding informational fields is not kept */
                break;
            }
            if (o->nf[s] >= MAXF) {
                o->too_many = 1;
                break;
            }
            size_t *f = o->f[s][o->nf[s]++];
            f[1] = ev.name_len;
            f[0] = keep(o, ev.name, ev.name_len);
            f[3] = ev.value_len;
            f[2] = keep(o, ev.value, ev.value_len);
            break;
        }
        case TWOWAY_BHTTP_SECTION_END: logv(&o->log, &ev.section, sizeof ev.section); break;
        case TWOWAY_BHTTP_CONTENT:
            CHECK(ev.data >= msg + off - used && ev.data + ev.data_len <= msg + off);
            CHECK(ev.data_len > 0);
            buf_append(&o->content, ev.data, ev.data_len);
            break;
        case TWOWAY_BHTTP_END:
            CHECK(off == len);
            o->rc = TWOWAY_OK;
            done = 1;
            break;
        default: CHECK(0);
        }
        CHECK(used > 0 || ev.type != TWOWAY_BHTTP_NEED_MORE);
    }
    if (o->content.len > 0) {
        uint8_t t = 0xcc;
        buf_append(&o->log, &t, 1);
        logv(&o->log, o->content.p, o->content.len);
    }
    (void)section_info;
    twoway_bhttp_decoder_free(d);
}

static void decoded_free(decoded *o)
{
    free(o->log.p);
    free(o->arena.p);
    free(o->content.p);
}

static void fields_of(const decoded *o, size_t s, twoway_bhttp_field *out)
{
    for (size_t i = 0; i < o->nf[s]; i++) {
        out[i].name = o->arena.p + o->f[s][i][0];
        out[i].name_len = o->f[s][i][1];
        out[i].value = o->arena.p + o->f[s][i][2];
        out[i].value_len = o->f[s][i][3];
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int response = data[0] & 1, end_apart = (data[0] >> 1) & 1;
    size_t piece = (size_t)(data[0] >> 2) + 1;
    const uint8_t *msg = data + 1;
    size_t len = size - 1;

    decoded whole, pieces;
    decode(msg, len, response, len > 0 ? len : 1, 0, &whole);
    decode(msg, len, response, piece, end_apart, &pieces);
    CHECK(whole.rc == pieces.rc);
    CHECK(whole.log.len == pieces.log.len &&
          (whole.log.len == 0 || memcmp(whole.log.p, pieces.log.p, whole.log.len) == 0));

    if (whole.rc == TWOWAY_OK && !whole.too_many && whole.n_info == 0) {
        twoway_bhttp_field h[MAXF], t[MAXF];
        fields_of(&whole, TWOWAY_BHTTP_SECTION_HEADER, h);
        fields_of(&whole, TWOWAY_BHTTP_SECTION_TRAILER, t);
        twoway_bhttp_message m;
        memset(&m, 0, sizeof m);
        m.version = TWOWAY_BHTTP_MESSAGE_VERSION;
        m.response = response;
        m.status = whole.status;
        m.method = whole.arena.p + whole.ctrl[0][0];
        m.method_len = whole.ctrl[0][1];
        m.scheme = whole.arena.p + whole.ctrl[1][0];
        m.scheme_len = whole.ctrl[1][1];
        m.authority = whole.arena.p + whole.ctrl[2][0];
        m.authority_len = whole.ctrl[2][1];
        m.path = whole.arena.p + whole.ctrl[3][0];
        m.path_len = whole.ctrl[3][1];
        m.headers = h;
        m.n_headers = whole.nf[TWOWAY_BHTTP_SECTION_HEADER];
        m.trailers = t;
        m.n_trailers = whole.nf[TWOWAY_BHTTP_SECTION_TRAILER];
        m.content = whole.content.p;
        m.content_len = whole.content.len;
        for (int form = 0; form < 2; form++) {
            size_t n = 0;
            CHECK(twoway_bhttp_encode(&m, form, NULL, &n) == TWOWAY_ERR_BUFFER);
            uint8_t *out = xmalloc(n);
            size_t n2 = n;
            CHECK(twoway_bhttp_encode(&m, form, out, &n2) == TWOWAY_OK && n2 == n);
            decoded again;
            decode(out, n, response, 7, 0, &again);
            CHECK(again.rc == TWOWAY_OK);
            CHECK(again.log.len == whole.log.len &&
                  memcmp(again.log.p, whole.log.p, whole.log.len) == 0);
            decoded_free(&again);
            free(out);
        }
    }
    decoded_free(&whole);
    decoded_free(&pieces);
    return 0;
}
