/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's chunked path (chunked OHTTP): a request of any size is
 * opened chunk by chunk as it arrives, decoded as indeterminate-length
 * Binary HTTP, and its content streamed to the origin (tw_xfer: curl on a
 * thread of its own, fed through a bounded pipe); the origin's answer is
 * encoded and sealed chunk by chunk into a second pipe, which the HTTP
 * response body reads. Memory stays constant whatever the sizes.
 *
 * Only authenticated plaintext reaches the origin. A request whose later
 * chunk fails, or that ends without its final chunk, aborts the upload to
 * the origin (which then sees an incomplete body) and is answered 400.
 * libmicrohttpd answers a request once its body is in, so an origin that
 * answers before it has read the whole request is buffered until then, but
 * only up to EARLY_LIMIT: then the download is paused (the upload goes on)
 * until the answer can be sent.
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway/ohttp_gateway_internal.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define PIECE 16384u
/* What the answer may hold in memory before the HTTP response body reads it
 * (the client has not finished sending its request yet). It used to be
 * max_response_len (16 MiB): a client that sent the head of a request for a
 * large resource and then held its request open pinned that much per
 * connection for a few bytes of its own. Past EARLY_LIMIT - EARLY_SLACK the
 * download pauses instead; the slack leaves room for the head and the tail,
 * which cannot wait. */
#define EARLY_LIMIT ((size_t)1 << 20)
#define EARLY_SLACK ((size_t)128 << 10)

struct gw_stream {
    twoway_ohttp_gateway *gw;
    twoway_opener *o;
    twoway_bhttp_decoder *d;
    uint8_t *pt;
    size_t pt_cap;
    gw_target t;
    unsigned inner_status; /* answer this instead of forwarding */
    tw_xfer *x;
    char url[8192];
    /* response side (the exchange's thread, then the reader) */
    tw_pipe out;
    int out_ok;
    twoway_sealer *s;
    uint8_t *ct, *scratch;
    size_t ct_cap;
    int head_sent;
    int counted; /* st_opened counted */
};

int gw_stream_new(gw_stream **out, twoway_ohttp_gateway *gw)
{
    gw_stream *s = calloc(1, sizeof *s);
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    int rc;
    *out = NULL;
    if (s == NULL)
        return TWOWAY_ERR_NOMEM;
    s->gw = gw;
    gw_target_init(&s->t);
    opt.chunked = 1;
    opt.max_chunk_len = 65536;
    rc = twoway_request_opener_new(&s->o, gw->ring, (const uint8_t *)TWOWAY_OHTTP_CHUNKED_REQUEST,
                                   strlen(TWOWAY_OHTTP_CHUNKED_REQUEST), &opt);
    if (rc == TWOWAY_OK)
        rc = twoway_bhttp_decoder_new(&s->d, 0, NULL);
    if (rc == TWOWAY_OK && tw_pipe_init(&s->out, 65536) != 0)
        rc = TWOWAY_ERR_NOMEM;
    else if (rc == TWOWAY_OK)
        s->out_ok = 1;
    if (rc != TWOWAY_OK) {
        gw_stream_free(s);
        return rc;
    }
    tw_pipe_grow_until_reader(&s->out, EARLY_LIMIT);
    *out = s;
    return TWOWAY_OK;
}

/* ------------------------------------------------------- response side */

/* Seals pt and writes it to the out pipe. */
static int seal_out(gw_stream *s, const uint8_t *pt, size_t len, int final)
{
    while (len > 0 || final) {
        size_t n = len < PIECE ? len : PIECE;
        size_t out_len = s->ct_cap;
        int rc = final && n == len ? twoway_sealer_final(s->s, s->ct, &out_len, pt, n)
                                   : twoway_sealer_update(s->s, s->ct, &out_len, pt, n);
        if (rc != TWOWAY_OK)
            return -1;
        if (out_len > 0 && tw_pipe_write(&s->out, s->ct, out_len, s->gw->opt.timeout_ms) != 0)
            return -1;
        if (final && n == len)
            return 0;
        pt += n;
        len -= n;
    }
    return 0;
}

static int start_response(gw_stream *s)
{
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    opt.chunked = 1;
    opt.max_chunk_len = PIECE;
    if (twoway_response_sealer_new(&s->s, twoway_opener_context(s->o),
                                   (const uint8_t *)TWOWAY_OHTTP_CHUNKED_RESPONSE,
                                   strlen(TWOWAY_OHTTP_CHUNKED_RESPONSE), &opt) != TWOWAY_OK)
        return -1;
    s->ct_cap = twoway_sealer_max_output(s->s, PIECE);
    s->ct = malloc(s->ct_cap);
    s->scratch = malloc(PIECE + TWOWAY_BHTTP_MAX_PREFIX_LEN);
    return s->ct != NULL && s->scratch != NULL ? 0 : -1;
}

static int on_head(void *arg, unsigned status, const twoway_bhttp_field *f, size_t n)
{
    gw_stream *s = arg;
    twoway_bhttp_message m;
    uint8_t *head = NULL;
    size_t len = 0;
    /* curl takes any three digits; Binary HTTP only 200-599. Refused here,
     * before anything is sealed, it is the origin's failure (502), not a
     * head that cannot be encoded and a stream without one. */
    if (status < 200 || status > 599)
        return -1;
    if (start_response(s) != 0)
        return -1;
    memset(&m, 0, sizeof m);
    m.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    m.response = 1;
    m.status = (uint16_t)status;
    m.headers = f;
    m.n_headers = n;
    int rc = twoway_bhttp_encode_head(&m, TWOWAY_BHTTP_INDETERMINATE, NULL, &len);
    if (rc == TWOWAY_ERR_BUFFER && (head = malloc(len)) != NULL)
        rc = twoway_bhttp_encode_head(&m, TWOWAY_BHTTP_INDETERMINATE, head, &len);
    if (rc == TWOWAY_OK)
        rc = seal_out(s, head, len, 0) == 0 ? TWOWAY_OK : TWOWAY_ERR_IO;
    free(head);
    s->head_sent = rc == TWOWAY_OK;
    return rc == TWOWAY_OK ? 0 : -1;
}

/* The most a piece of n bytes becomes once framed and sealed. */
static size_t sealed_bound(size_t n)
{
    return n + (n / PIECE + 1) * (TWOWAY_BHTTP_MAX_PREFIX_LEN + 64);
}

static int on_data(void *arg, const uint8_t *p, size_t n)
{
    gw_stream *s = arg;
    /* nobody reads the answer yet: do not buffer past EARLY_LIMIT */
    if (tw_pipe_unread_over(&s->out, sealed_bound(n), EARLY_LIMIT - EARLY_SLACK))
        return TW_XFER_PAUSE;
    while (n > 0) {
        size_t k = n < PIECE ? n : PIECE;
        size_t pre = twoway_bhttp_chunk_prefix(k, s->scratch);
        memcpy(s->scratch + pre, p, k);
        if (seal_out(s, s->scratch, pre + k, 0) != 0)
            return -1;
        p += k;
        n -= k;
    }
    return 0;
}

static int on_resume(void *arg)
{
    gw_stream *s = arg;
    return !tw_pipe_unread_over(&s->out, sealed_bound(CURL_MAX_WRITE_SIZE),
                                EARLY_LIMIT - EARLY_SLACK);
}

static void on_end(void *arg, CURLcode rc)
{
    gw_stream *s = arg;
    twoway_bhttp_message m;
    uint8_t tail[8];
    size_t len = sizeof tail;
    if (!s->head_sent) {
        /* the origin failed before it answered: the answer is ours */
        GW_STAT(s->gw, st_origin_errors);
        const char *text =
            rc == CURLE_OPERATION_TIMEDOUT ? "origin timed out\n" : "origin unreachable\n";
        twoway_bhttp_field ct = {(const uint8_t *)"content-type", 12, (const uint8_t *)"text/plain",
                                 10};
        if (s->s == NULL && on_head(s, rc == CURLE_OPERATION_TIMEDOUT ? 504 : 502, &ct, 1) != 0) {
            tw_pipe_close_write(&s->out, 1);
            return;
        }
        if (on_data(s, (const uint8_t *)text, strlen(text)) != 0) {
            tw_pipe_close_write(&s->out, 1);
            return;
        }
    } else if (rc != CURLE_OK) {
        /* cut short after the head: the client sees a truncated response */
        GW_STAT(s->gw, st_origin_errors);
        tw_pipe_close_write(&s->out, 1);
        return;
    }
    memset(&m, 0, sizeof m);
    m.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    m.response = 1;
    m.status = 200;
    m.truncate = 1;
    if (twoway_bhttp_encode_tail(&m, TWOWAY_BHTTP_INDETERMINATE, tail, &len) != TWOWAY_OK ||
        seal_out(s, tail, len, 1) != 0) {
        tw_pipe_close_write(&s->out, 1);
        return;
    }
    tw_pipe_close_write(&s->out, 0);
}

/* -------------------------------------------------------- request side */

static int start_xfer(gw_stream *s, int with_body)
{
    struct curl_slist *h = gw_target_headers(&s->t);
    tw_xfer_sink sink = {on_head, on_data, on_resume, on_end, s};
    if (h == NULL)
        return TWOWAY_ERR_NOMEM;
    GW_STAT(s->gw, st_forwarded);
    int rc = tw_xfer_start(&s->x, s->t.method, s->url, h, with_body, -1, &sink,
                           s->gw->opt.timeout_ms, s->gw->opt.connect_timeout_ms, s->gw->ca_file);
    if (rc != TWOWAY_OK)
        curl_slist_free_all(h);
    return rc;
}

/* Feeds plaintext to the Binary HTTP decoder and acts on its events. */
static int feed(gw_stream *s, const uint8_t *pt, size_t len, int last)
{
    size_t off = 0;
    for (;;) {
        twoway_bhttp_event ev;
        size_t used;
        int rc = twoway_bhttp_decode(s->d, pt + off, len - off, last, &used, &ev);
        if (rc != TWOWAY_OK) {
            if (s->inner_status == 0)
                s->inner_status = 400;
            if (s->x != NULL)
                tw_pipe_close_write(tw_xfer_body(s->x), 1); /* abort the upload */
            return TWOWAY_OK;                               /* answered inside the encapsulation */
        }
        off += used;
        switch (ev.type) {
        case TWOWAY_BHTTP_NEED_MORE:
        case TWOWAY_BHTTP_END: return TWOWAY_OK;
        case TWOWAY_BHTTP_REQUEST:
            if (gw_target_request(&s->t, &ev) != TWOWAY_OK)
                s->inner_status = 400;
            break;
        case TWOWAY_BHTTP_FIELD:
            if (ev.section == TWOWAY_BHTTP_SECTION_HEADER) {
                int frc = gw_target_field(&s->t, &ev);
                if (frc == TWOWAY_ERR_NOMEM)
                    return frc;
                if (frc != TWOWAY_OK && s->inner_status == 0)
                    s->inner_status = 400; /* a value HTTP/1.1 cannot carry */
            }
            break;
        case TWOWAY_BHTTP_SECTION_END:
            if (ev.section == TWOWAY_BHTTP_SECTION_HEADER && s->inner_status == 0) {
                unsigned st;
                if (gw_target_url(s->gw, &s->t, s->url, sizeof s->url, &st) != 0) {
                    if (st == 403)
                        GW_STAT(s->gw, st_refused);
                    s->inner_status = st;
                }
            } else if (ev.section == TWOWAY_BHTTP_SECTION_CONTENT && s->inner_status == 0) {
                if (s->x == NULL) {
                    if (start_xfer(s, 0) != TWOWAY_OK)
                        s->inner_status = 500;
                } else {
                    tw_pipe_close_write(tw_xfer_body(s->x), 0);
                }
            }
            break;
        case TWOWAY_BHTTP_CONTENT:
            /* HEAD's content is dropped (RFC 9110 §9.3.2): sent as an upload,
             * curl would also wait for the answer's content, until timeout_ms;
             * the exchange starts without a body at the content's end */
            if (s->inner_status != 0 || strcmp(s->t.method, "HEAD") == 0)
                break;
            if (s->x == NULL && start_xfer(s, 1) != TWOWAY_OK) {
                s->inner_status = 500;
                break;
            }
            /* waits while the origin is slower than the client */
            if (tw_pipe_write(tw_xfer_body(s->x), ev.data, ev.data_len, s->gw->opt.timeout_ms) !=
                0) {
                /* the origin stopped reading (it answered, failed or timed
                 * out): the rest of the body goes nowhere */
            }
            break;
        default: break;
        }
    }
}

int gw_stream_push(gw_stream *s, const uint8_t *in, size_t len)
{
    size_t need = twoway_opener_max_output(s->o, len);
    if (need > s->pt_cap) {
        uint8_t *p = realloc(s->pt, need);
        if (p == NULL)
            return TWOWAY_ERR_NOMEM;
        s->pt = p;
        s->pt_cap = need;
    }
    size_t n = s->pt_cap;
    int rc = twoway_opener_update(s->o, s->pt, &n, in, len);
    if (rc != TWOWAY_OK) {
        if (s->x != NULL)
            tw_pipe_close_write(tw_xfer_body(s->x), 1);
        return rc;
    }
    if (!s->counted && twoway_opener_context(s->o) != NULL) {
        s->counted = 1;
        GW_STAT(s->gw, st_opened);
    }
    return feed(s, s->pt, n, 0);
}

enum MHD_Result gw_stream_finish(gw_stream *s, struct MHD_Connection *c)
{
    size_t n = s->pt_cap;
    int rc = twoway_opener_final(s->o, s->pt, &n, NULL, 0);
    rc = gw_open_error(s->o, rc);
    if (rc != TWOWAY_OK) {
        if (s->x != NULL)
            tw_pipe_close_write(tw_xfer_body(s->x), 1);
        return gw_reply_open_error(s->gw, c, rc);
    }
    if ((rc = feed(s, s->pt, n, 1)) != TWOWAY_OK)
        return tw_server_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, 0);
    if (s->inner_status != 0) {
        /* answered here: stop the exchange if one began, and seal the error */
        if (s->x != NULL) {
            tw_pipe_close_read(&s->out);
            tw_xfer_join(s->x);
            s->x = NULL;
        }
        twoway_ohttp_response r;
        uint8_t *sealed = NULL;
        size_t sealed_len = 0;
        gw_response_init(&r, 4096);
        (void)gw_response_error(&r, s->inner_status,
                                s->inner_status == 403   ? "target not allowed\n"
                                : s->inner_status == 400 ? "not a valid Binary HTTP request\n"
                                                         : "gateway error\n");
        if (s->inner_status == 400)
            GW_STAT(s->gw, st_open_errors);
        rc = gw_response_seal(&r, twoway_opener_context(s->o), 1, &sealed, &sealed_len);
        gw_response_free(&r);
        enum MHD_Result ret =
            rc == TWOWAY_OK ? tw_server_reply(c, MHD_HTTP_OK, TWOWAY_OHTTP_CHUNKED_RES_MEDIA_TYPE,
                                              sealed, sealed_len)
                            : tw_server_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, 0);
        free(sealed);
        return ret;
    }
    /* the exchange ends within timeout_ms (curl's limit), and then closes
     * the pipe, a 504 written into it when the origin was too slow: the
     * reader waits a little longer, not to cut that answer short */
    uint32_t t = s->gw->opt.timeout_ms;
    return tw_server_reply_pipe(c, MHD_HTTP_OK, TWOWAY_OHTTP_CHUNKED_RES_MEDIA_TYPE, 1, &s->out,
                                t < UINT32_MAX - 2000 ? t + 2000 : UINT32_MAX);
}

void gw_stream_free(gw_stream *s)
{
    if (s == NULL)
        return;
    if (s->out_ok)
        tw_pipe_close_read(&s->out);
    tw_xfer_join(s->x);
    twoway_sealer_free(s->s);
    twoway_opener_free(s->o);
    twoway_bhttp_decoder_free(s->d);
    if (s->pt != NULL)
        util_wipe(s->pt, s->pt_cap);
    free(s->pt);
    free(s->ct);
    free(s->scratch);
    gw_target_free(&s->t);
    if (s->out_ok)
        tw_pipe_destroy(&s->out);
    free(s);
}
