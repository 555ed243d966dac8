/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Binary HTTP (twoway/bhttp.h): RFC 9292's own example messages and RFC
 * 9458's, decoded and encoded byte for byte; the decoder fed at every split
 * and one byte at a time; every place a message may and may not be
 * truncated; padding; every syntax rule the decoder enforces, each with a
 * message that breaks it; the limits, at them and one past; the encoder's
 * streaming parts; and content of 64 MiB through the decoder in constant
 * memory.
 */
#include "test.h"

#include <twoway/twoway.h>

#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 9292 §5.1 Figure 8: the known-length request; Figure 9: the same
 * request in the indeterminate-length form with 10 bytes of padding. */
static const char FIG8[] =
    "0003474554056874747073000a2f68656c6c6f2e747874406c0a757365722d6167656e74346375726c2f"
    "372e31362e33206c69626375726c2f372e31362e33204f70656e53534c2f302e392e376c207a6c69622f"
    "312e322e3304686f73740f7777772e6578616d706c652e636f6d0f6163636570742d6c616e6775616765"
    "06656e2c206d690000";
static const char FIG9[] =
    "0203474554056874747073000a2f68656c6c6f2e7478740a757365722d6167656e74346375726c2f372e"
    "31362e33206c69626375726c2f372e31362e33204f70656e53534c2f302e392e376c207a6c69622f312e"
    "322e3304686f73740f7777772e6578616d706c652e636f6d0f6163636570742d6c616e67756167650665"
    "6e2c206d6900000000000000000000000000";
/* §5.2 Figure 11: an indeterminate-length response with two informational
 * responses (102, 103); Figure 13: a known-length response with a trailer. */
static const char FIG11[] =
    "0340660772756e6e696e670a22736c65657020313522004067046c696e6b233c2f7374796c652e637373"
    "3e3b2072656c3d7072656c6f61643b2061733d7374796c65046c696e6b243c2f7363726970742e6a733e"
    "3b2072656c3d7072656c6f61643b2061733d7363726970740040c804646174651d4d6f6e2c203237204a"
    "756c20323030392031323a32383a353320474d5406736572766572064170616368650d6c6173742d6d6f"
    "6469666965641d5765642c203232204a756c20323030392031393a31353a353620474d54046574616714"
    "22333461613338372d642d3135363865623030220d6163636570742d72616e6765730562797465730e63"
    "6f6e74656e742d6c656e67746802353104766172790f4163636570742d456e636f64696e670c636f6e74"
    "656e742d747970650a746578742f706c61696e003348656c6c6f20576f726c6421204d7920636f6e7465"
    "6e7420696e636c75646573206120747261696c696e672043524c462e0d0a0000";
static const char FIG13[] = "0140c8001d5468697320636f6e74656e7420636f6e7461696e732043524c462e0d0a0d"
                            "07747261696c65720474657874";
/* RFC 9458 Appendix A: the request and the response inside its example. */
static const char OHTTP_REQ[] = "00034745540568747470730b6578616d706c652e636f6d012f";
static const char OHTTP_RESP[] = "0140c8";

static uint8_t *unhex(const char *h, size_t *n)
{
    uint8_t *p = NULL;
    if (tj_hex_decode(h, &p, n) != 0) {
        fprintf(stderr, "bad hex\n");
        exit(2);
    }
    return p;
}

/* ------------------------------------------------------------ transcript */

/* What a decoder reported, as text: one line an event, content joined. */
typedef struct log {
    char *p;
    size_t len, cap;
} log_t;

static void logf_(log_t *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void logf_(log_t *l, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(l->p ? l->p + l->len : NULL, l->p ? l->cap - l->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if (l->p && l->len + (size_t)n < l->cap) {
            l->len += (size_t)n;
            return;
        }
        l->cap = (l->cap + (size_t)n) * 2 + 256;
        l->p = realloc(l->p, l->cap);
        if (l->p == NULL)
            abort();
    }
}

static void log_bytes(log_t *l, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        logf_(l, (p[i] >= 0x20 && p[i] < 0x7f) ? "%c" : "\\x%02x", p[i]);
}

static void log_event(log_t *l, const twoway_bhttp_event *ev, int *in_content)
{
    if (ev->type != TWOWAY_BHTTP_CONTENT && *in_content) {
        logf_(l, "\n");
        *in_content = 0;
    }
    switch (ev->type) {
    case TWOWAY_BHTTP_REQUEST:
        logf_(l, "request form=%d ", ev->form);
        log_bytes(l, ev->method, ev->method_len);
        logf_(l, " ");
        log_bytes(l, ev->scheme, ev->scheme_len);
        logf_(l, " [");
        log_bytes(l, ev->authority, ev->authority_len);
        logf_(l, "] ");
        log_bytes(l, ev->path, ev->path_len);
        logf_(l, "\n");
        break;
    case TWOWAY_BHTTP_INFORMATIONAL: logf_(l, "informational %u\n", ev->status); break;
    case TWOWAY_BHTTP_STATUS: logf_(l, "status %u form=%d\n", ev->status, ev->form); break;
    case TWOWAY_BHTTP_FIELD:
        logf_(l, "field %d ", ev->section);
        log_bytes(l, ev->name, ev->name_len);
        logf_(l, ": ");
        log_bytes(l, ev->value, ev->value_len);
        logf_(l, "\n");
        break;
    case TWOWAY_BHTTP_SECTION_END: logf_(l, "end %d\n", ev->section); break;
    case TWOWAY_BHTTP_CONTENT:
        if (!*in_content)
            logf_(l, "content ");
        *in_content = 1;
        log_bytes(l, ev->data, ev->data_len);
        break;
    case TWOWAY_BHTTP_END: logf_(l, "END\n"); break;
    default: logf_(l, "?\n");
    }
}

/* Decodes msg fed step bytes at a time (0: all at once) into a transcript;
 * returns the decoder's result. Ends the message with last = 1 on its own
 * call after the data (split_last = 0) or with the last piece (1). */
static int decode_log(int response, const uint8_t *msg, size_t len, size_t step, int split_last,
                      const twoway_bhttp_limits *lim, log_t *l)
{
    twoway_bhttp_decoder *d = NULL;
    twoway_bhttp_event ev;
    int in_content = 0, rc;
    memset(l, 0, sizeof *l);
    logf_(l, "%s", "");
    if ((rc = twoway_bhttp_decoder_new(&d, response, lim)) != TWOWAY_OK)
        return rc;
    size_t off = 0;
    for (;;) {
        size_t piece = step == 0 ? len - off : (len - off < step ? len - off : step);
        int last = split_last ? off + piece == len : 0;
        size_t used = 0;
        rc = twoway_bhttp_decode(d, msg + off, piece, last, &used, &ev);
        if (rc != TWOWAY_OK)
            break;
        off += used;
        if (ev.type == TWOWAY_BHTTP_NEED_MORE) {
            if (off == len && !split_last) {
                /* the end of the input, on its own call */
                for (;;) {
                    rc = twoway_bhttp_decode(d, NULL, 0, 1, &used, &ev);
                    if (rc != TWOWAY_OK)
                        goto out;
                    log_event(l, &ev, &in_content);
                    if (ev.type == TWOWAY_BHTTP_END)
                        goto out;
                }
            }
            if (off == len && split_last) { /* cannot: last was set */
                rc = -1000;
                break;
            }
            continue;
        }
        log_event(l, &ev, &in_content);
        if (ev.type == TWOWAY_BHTTP_END)
            break;
    }
out:
    twoway_bhttp_decoder_free(d);
    return rc;
}

/* Decodes hex at every way of feeding it; all must agree; returns the log. */
static int decode_all_ways(int response, const uint8_t *msg, size_t len, log_t *first)
{
    int rc = decode_log(response, msg, len, 0, 0, NULL, first);
    size_t steps[] = {1, 2, 3, 7, 64};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++)
        for (int sl = 0; sl < 2; sl++) {
            log_t l;
            int rc2 = decode_log(response, msg, len, steps[s], sl, NULL, &l);
            CHECK_EQ_INT(rc2, rc);
            if (rc == TWOWAY_OK && rc2 == TWOWAY_OK)
                CHECK(l.len == first->len && memcmp(l.p, first->p, l.len) == 0);
            free(l.p);
        }
    return rc;
}

static const char FIG8_LOG[] = "request form=0 GET https [] /hello.txt\n"
                               "field 2 user-agent: curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l "
                               "zlib/1.2.3\n"
                               "field 2 host: www.example.com\n"
                               "field 2 accept-language: en, mi\n"
                               "end 2\nend 3\nend 4\nEND\n";

static const char FIG9_LOG[] = "request form=1 GET https [] /hello.txt\n"
                               "field 2 user-agent: curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l "
                               "zlib/1.2.3\n"
                               "field 2 host: www.example.com\n"
                               "field 2 accept-language: en, mi\n"
                               "end 2\nend 3\nend 4\nEND\n";

static void expect_log(const char *hex, int response, const char *want)
{
    size_t n;
    uint8_t *m = unhex(hex, &n);
    log_t l;
    CHECK_EQ_INT(decode_all_ways(response, m, n, &l), TWOWAY_OK);
    if (!CHECK_EQ_STR(l.p, want))
        fprintf(stderr, "got:\n%s\n", l.p);
    free(l.p);
    free(m);
}

static twoway_bhttp_field F(const char *n, const char *v)
{
    twoway_bhttp_field f = {(const uint8_t *)n, strlen(n), (const uint8_t *)v, strlen(v)};
    return f;
}

#define S(x) (const uint8_t *)(x), strlen(x)

static void expect_encode(const twoway_bhttp_message *m, int form, const char *hex)
{
    size_t n, out_len = 0;
    uint8_t *want = unhex(hex, &n);
    CHECK_EQ_INT(twoway_bhttp_encode(m, form, NULL, &out_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(out_len, n);
    uint8_t *out = malloc(n + 1);
    out_len = n;
    if (CHECK_EQ_INT(twoway_bhttp_encode(m, form, out, &out_len), TWOWAY_OK))
        CHECK(out_len == n && CHECK_MEM(out, want, n));
    /* one byte short: nothing half-written counts */
    out_len = n - 1;
    CHECK_EQ_INT(twoway_bhttp_encode(m, form, out, &out_len), TWOWAY_ERR_BUFFER);
    CHECK_EQ_UINT(out_len, n);
    free(out);
    free(want);
}

static twoway_bhttp_field hello_fields[3];

static twoway_bhttp_message hello_request(void)
{
    twoway_bhttp_message m;
    memset(&m, 0, sizeof m);
    hello_fields[0] = F("user-agent", "curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3");
    hello_fields[1] = F("Host", "www.example.com"); /* written in lower case */
    hello_fields[2] = F("accept-language", "en, mi");
    m.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    m.method = (const uint8_t *)"GET";
    m.method_len = 3;
    m.scheme = (const uint8_t *)"https";
    m.scheme_len = 5;
    m.path = (const uint8_t *)"/hello.txt";
    m.path_len = 10;
    m.headers = hello_fields;
    m.n_headers = 3;
    return m;
}

static void test_rfc_examples(void)
{
    expect_log(FIG8, 0, FIG8_LOG);
    expect_log(FIG9, 0, FIG9_LOG);
    expect_log(OHTTP_REQ, 0,
               "request form=0 GET https [example.com] /\nend 2\nend 3\nend 4\nEND\n");
    expect_log(OHTTP_RESP, 1, "status 200 form=0\nend 2\nend 3\nend 4\nEND\n");
    expect_log(FIG13, 1,
               "status 200 form=0\nend 2\ncontent This content contains CRLF.\\x0d\\x0a\nend 3\n"
               "field 4 trailer: text\nend 4\nEND\n");
    expect_log(FIG11, 1,
               "informational 102\nfield 1 running: \"sleep 15\"\nend 1\n"
               "informational 103\n"
               "field 1 link: </style.css>; rel=preload; as=style\n"
               "field 1 link: </script.js>; rel=preload; as=script\nend 1\n"
               "status 200 form=1\n"
               "field 2 date: Mon, 27 Jul 2009 12:28:53 GMT\n"
               "field 2 server: Apache\n"
               "field 2 last-modified: Wed, 22 Jul 2009 19:15:56 GMT\n"
               "field 2 etag: \"34aa387-d-1568eb00\"\n"
               "field 2 accept-ranges: bytes\n"
               "field 2 content-length: 51\n"
               "field 2 vary: Accept-Encoding\n"
               "field 2 content-type: text/plain\nend 2\n"
               "content Hello World! My content includes a trailing CRLF.\\x0d\\x0a\nend 3\n"
               "end 4\nEND\n");

    /* and the encoder writes the same bytes */
    twoway_bhttp_message m = hello_request();
    expect_encode(&m, TWOWAY_BHTTP_KNOWN_LENGTH, FIG8);
    m.padding = 10;
    expect_encode(&m, TWOWAY_BHTTP_INDETERMINATE, FIG9);

    twoway_bhttp_message r;
    memset(&r, 0, sizeof r);
    r.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    r.response = 1;
    r.status = 200;
    twoway_bhttp_field tr = F("trailer", "text");
    r.trailers = &tr;
    r.n_trailers = 1;
    r.content = (const uint8_t *)"This content contains CRLF.\r\n";
    r.content_len = 29;
    expect_encode(&r, TWOWAY_BHTTP_KNOWN_LENGTH, FIG13);

    twoway_bhttp_field f102[] = {F("running", "\"sleep 15\"")};
    twoway_bhttp_field f103[] = {F("link", "</style.css>; rel=preload; as=style"),
                                 F("link", "</script.js>; rel=preload; as=script")};
    twoway_bhttp_informational inf[] = {{102, f102, 1}, {103, f103, 2}};
    twoway_bhttp_field f200[] = {F("date", "Mon, 27 Jul 2009 12:28:53 GMT"),
                                 F("server", "Apache"),
                                 F("last-modified", "Wed, 22 Jul 2009 19:15:56 GMT"),
                                 F("etag", "\"34aa387-d-1568eb00\""),
                                 F("accept-ranges", "bytes"),
                                 F("content-length", "51"),
                                 F("vary", "Accept-Encoding"),
                                 F("content-type", "text/plain")};
    memset(&r, 0, sizeof r);
    r.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    r.response = 1;
    r.status = 200;
    r.informational = inf;
    r.n_informational = 2;
    r.headers = f200;
    r.n_headers = 8;
    r.content = (const uint8_t *)"Hello World! My content includes a trailing CRLF.\r\n";
    r.content_len = 51;
    expect_encode(&r, TWOWAY_BHTTP_INDETERMINATE, FIG11);

    /* RFC 9458's request: authority, no fields, truncated after control data */
    memset(&m, 0, sizeof m);
    m.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    m.method = (const uint8_t *)"GET";
    m.method_len = 3;
    m.scheme = (const uint8_t *)"https";
    m.scheme_len = 5;
    m.authority = (const uint8_t *)"example.com";
    m.authority_len = 11;
    m.path = (const uint8_t *)"/";
    m.path_len = 1;
    m.truncate = 1;
    expect_encode(&m, TWOWAY_BHTTP_KNOWN_LENGTH, OHTTP_REQ);
    memset(&r, 0, sizeof r);
    r.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    r.response = 1;
    r.status = 200;
    r.truncate = 1;
    expect_encode(&r, TWOWAY_BHTTP_KNOWN_LENGTH, OHTTP_RESP);
    r.truncate = 0;
    expect_encode(&r, TWOWAY_BHTTP_KNOWN_LENGTH, "0140c8000000");
    expect_encode(&r, TWOWAY_BHTTP_INDETERMINATE, "0340c8000000");

    /* a framing indicator in two bytes (0x4000) is the same message */
    size_t n;
    uint8_t *fig8 = unhex(FIG8, &n);
    uint8_t *wide = malloc(n + 1);
    wide[0] = 0x40;
    wide[1] = 0x00;
    memcpy(wide + 2, fig8 + 1, n - 1);
    log_t l;
    CHECK_EQ_INT(decode_all_ways(0, wide, n + 1, &l), TWOWAY_OK);
    CHECK_EQ_STR(l.p, FIG8_LOG);
    free(l.p);
    free(wide);
    free(fig8);
}

/* Every prefix of a message: valid exactly where RFC 9292 lets it end. */
static void test_truncation(void)
{
    struct {
        const char *hex;
        int response;
        size_t n_ok;
        size_t ok[4]; /* bytes cut from the end that still decode */
    } cases[] = {
        /* Figure 8: without the trailer, the content, the header section */
        {FIG8, 0, 4, {0, 1, 2, 112}},
        /* Figure 13: without the trailer; then the content; then the headers */
        {FIG13, 1, 4, {0, 14, 44, 45}},
        {OHTTP_RESP, 1, 1, {0}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n;
        uint8_t *m = unhex(cases[c].hex, &n);
        for (size_t cut = 0; cut <= n; cut++) {
            log_t l;
            int rc = decode_log(cases[c].response, m, n - cut, 0, 0, NULL, &l);
            int ok = 0;
            for (size_t i = 0; i < cases[c].n_ok; i++)
                ok |= cases[c].ok[i] == cut;
            if (!CHECK_EQ_INT(rc, ok ? TWOWAY_OK : TWOWAY_ERR_TRUNCATED))
                fprintf(stderr, "case %zu cut %zu\n", c, cut);
            free(l.p);
        }
        free(m);
    }
    /* Figure 9 (indeterminate, 10 bytes padding): cuts into the padding and
     * its last two terminators are fine; the header terminator is not (a
     * truncated indeterminate section with fields is not empty). */
    size_t n;
    uint8_t *m = unhex(FIG9, &n);
    for (size_t cut = 0; cut <= 16; cut++) {
        log_t l;
        int rc = decode_log(0, m, n - cut, 1, 1, NULL, &l);
        CHECK_EQ_INT(rc, cut <= 12 ? TWOWAY_OK : TWOWAY_ERR_TRUNCATED);
        if (rc == TWOWAY_OK)
            CHECK_EQ_STR(l.p, FIG9_LOG);
        free(l.p);
    }
    free(m);
    /* a truncated informational response has no final status */
    log_t l;
    const uint8_t info_only[] = {0x01, 0x40, 0x66, 0x00};
    CHECK_EQ_INT(decode_log(1, info_only, sizeof info_only, 0, 0, NULL, &l), TWOWAY_ERR_TRUNCATED);
    free(l.p);
    const uint8_t info_cut[] = {0x01, 0x40, 0x66};
    CHECK_EQ_INT(decode_log(1, info_cut, sizeof info_cut, 0, 0, NULL, &l), TWOWAY_ERR_TRUNCATED);
    free(l.p);
    /* an indeterminate content cut after a chunk but before its terminator */
    const uint8_t chunk_cut[] = {0x03, 0x40, 0xc8, 0x00, 0x02, 'h', 'i'};
    CHECK_EQ_INT(decode_log(1, chunk_cut, sizeof chunk_cut, 0, 0, NULL, &l), TWOWAY_ERR_TRUNCATED);
    free(l.p);
    CHECK_EQ_INT(decode_log(1, NULL, 0, 0, 0, NULL, &l), TWOWAY_ERR_TRUNCATED);
    free(l.p);
}

/* A known-length request with the given header fields, content and tail. */
static size_t raw_request(uint8_t *out, const char *method, const char *path, const char *name,
                          const char *value, const uint8_t *tail, size_t tail_len)
{
    size_t o = 0, ml = strlen(method), pl = strlen(path);
    out[o++] = 0;
    out[o++] = (uint8_t)ml;
    memcpy(out + o, method, ml);
    o += ml;
    out[o++] = 5;
    memcpy(out + o, "https", 5);
    o += 5;
    out[o++] = 0;
    out[o++] = (uint8_t)pl;
    memcpy(out + o, path, pl);
    o += pl;
    if (name != NULL) {
        size_t nl = strlen(name), vl = strlen(value);
        out[o++] = (uint8_t)(2 + nl + vl);
        out[o++] = (uint8_t)nl;
        memcpy(out + o, name, nl);
        o += nl;
        out[o++] = (uint8_t)vl;
        memcpy(out + o, value, vl);
        o += vl;
    } else {
        out[o++] = 0;
    }
    memcpy(out + o, tail, tail_len);
    return o + tail_len;
}

static int decode_rc(int response, const uint8_t *m, size_t n)
{
    log_t l;
    int rc = decode_all_ways(response, m, n, &l);
    free(l.p);
    return rc;
}

static void test_invalid(void)
{
    uint8_t m[256];
    const uint8_t tail[] = {0, 0};
    size_t n;
#define REQ(method, path, name, value) raw_request(m, method, path, name, value, tail, sizeof tail)
    n = REQ("GET", "/x", "accept", "*/*");
    CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_OK);
    CHECK_EQ_INT(decode_rc(1, m, n), TWOWAY_ERR_FORMAT); /* a request to a response decoder */
    n = REQ("GET", "/x", "Accept", "*/*");               /* upper case: read as lower case */
    CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_OK);
    const char *bad_names[] = {":method", ":path", ":status", ":authority", ":scheme", "bad name",
                               "a:b",     ":",     ":Up",     "x\x01",      "(x)"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        n = REQ("GET", "/x", bad_names[i], "v");
        if (!CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_ERR_FORMAT))
            fprintf(stderr, "name %s\n", bad_names[i]);
    }
    n = REQ("GET", "/x", ":protocol", "websocket"); /* an extension pseudo-field */
    CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_OK);
    const char *bad_values[] = {"a\r\nb: c", "a\nb", " a", "a ", "\ta", "a\t", "a\rb"};
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        n = REQ("GET", "/x", "x", bad_values[i]);
        CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_ERR_FORMAT);
    }
    n = REQ("GET", "/x", "x", "");
    CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_OK); /* an empty value is fine */
    /* a NUL in a value */
    n = REQ("GET", "/x", "x", "ab");
    m[n - 3] = 0;
    CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_ERR_FORMAT);
    const char *bad_methods[] = {"GE T", "", "G\x7f", "GET\n"};
    for (size_t i = 0; i < sizeof bad_methods / sizeof bad_methods[0]; i++) {
        n = REQ(bad_methods[i], "/x", NULL, NULL);
        CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_ERR_FORMAT);
    }
    const char *bad_paths[] = {"/a b", "/\xc3\xa9", "", "/x\r\n", "/\x7f"};
    for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
        n = REQ("GET", bad_paths[i], NULL, NULL);
        CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_ERR_FORMAT);
    }
    n = REQ("CONNECT", "", NULL, NULL); /* no path, but a scheme and no authority */
    CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_ERR_FORMAT); /* see test_review_findings */
    n = REQ("OPTIONS", "*", NULL, NULL);
    CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_OK);
    /* padding of zeros only */
    const uint8_t pad_bad[] = {0, 0, 0, 1};
    n = raw_request(m, "GET", "/x", NULL, NULL, pad_bad, sizeof pad_bad);
    CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_ERR_FORMAT);
    const uint8_t pad_ok[] = {0, 0, 0, 0, 0, 0};
    n = raw_request(m, "GET", "/x", NULL, NULL, pad_ok, sizeof pad_ok);
    CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_OK);
    /* a pseudo-field after a regular one */
    const uint8_t two[] = {0x00, 0x03, 'G', 'E', 'T', 0x00, 0x00, 0x01, '/', 0x0f, 0x01, 'a', 0x01,
                           'b',  0x09, ':', 'p', 'r', 'o',  't',  'o',  'c', 'o',  'l',  0x00};
    CHECK_EQ_INT(decode_rc(0, two, sizeof two), TWOWAY_ERR_FORMAT);
    /* framing indicators 4 and up, and a response's */
    const uint8_t fr4[] = {0x04};
    CHECK_EQ_INT(decode_rc(0, fr4, 1), TWOWAY_ERR_FORMAT);
    CHECK_EQ_INT(decode_rc(1, fr4, 1), TWOWAY_ERR_FORMAT);
    /* statuses outside 100-599 */
    const uint16_t bad_status[] = {0, 99, 600, 1000};
    for (size_t i = 0; i < 4; i++) {
        uint8_t r[] = {0x01, (uint8_t)(0x40 | (bad_status[i] >> 8)), (uint8_t)bad_status[i]};
        CHECK_EQ_INT(decode_rc(1, r, sizeof r), TWOWAY_ERR_FORMAT);
    }
    /* a field line that runs past its known-length section */
    const uint8_t over[] = {0x01, 0x40, 0xc8, 0x03, 0x01, 'a', 0x01, 'b', 0x00, 0x00};
    CHECK_EQ_INT(decode_rc(1, over, sizeof over), TWOWAY_ERR_FORMAT);
    /* a section length that ends inside a name */
    const uint8_t inside[] = {0x01, 0x40, 0xc8, 0x02, 0x02, 'a', 'b', 0x00, 0x00, 0x00};
    CHECK_EQ_INT(decode_rc(1, inside, sizeof inside), TWOWAY_ERR_FORMAT);
    /* a zero name length inside a known-length section */
    const uint8_t zname[] = {0x01, 0x40, 0xc8, 0x02, 0x00, 0x00, 0x00, 0x00};
    CHECK_EQ_INT(decode_rc(1, zname, sizeof zname), TWOWAY_ERR_FORMAT);
    /* a content length beyond what is there never allocates: truncated */
    const uint8_t big[] = {0x01, 0x40, 0xc8, 0x00, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK_EQ_INT(decode_rc(1, big, sizeof big), TWOWAY_ERR_TRUNCATED);
    /* after an error, the decoder keeps saying it */
    twoway_bhttp_decoder *d = NULL;
    twoway_bhttp_event ev;
    size_t used;
    if (CHECK_EQ_INT(twoway_bhttp_decoder_new(&d, 1, NULL), TWOWAY_OK)) {
        CHECK_EQ_INT(twoway_bhttp_decode(d, fr4, 1, 0, &used, &ev), TWOWAY_ERR_FORMAT);
        CHECK_EQ_INT(twoway_bhttp_decode(d, (const uint8_t *)"\x01", 1, 0, &used, &ev),
                     TWOWAY_ERR_FORMAT);
        twoway_bhttp_decoder_reset(d); /* and reset makes it new */
        size_t rn;
        uint8_t *rr = unhex(OHTTP_RESP, &rn);
        CHECK_EQ_INT(twoway_bhttp_decode(d, rr, rn, 1, &used, &ev), TWOWAY_OK);
        CHECK_EQ_INT(ev.type, TWOWAY_BHTTP_STATUS);
        free(rr);
        twoway_bhttp_decoder_free(d);
    }
    /* misuse */
    CHECK_EQ_INT(twoway_bhttp_decoder_new(NULL, 0, NULL), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_bhttp_decoder_new(&d, 2, NULL), TWOWAY_ERR_ARG);
    twoway_bhttp_limits badv = TWOWAY_BHTTP_LIMITS_INIT;
    badv.version = 99;
    CHECK_EQ_INT(twoway_bhttp_decoder_new(&d, 0, &badv), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_bhttp_decode(NULL, m, 1, 0, &used, &ev), TWOWAY_ERR_ARG);
#undef REQ
}

static void test_limits(void)
{
    /* a request with k fields of value length vl, indeterminate */
    uint8_t *m = malloc(1 << 20);
    twoway_bhttp_field *f = calloc(300, sizeof *f);
    char names[300][8];
    static char value[70000];
    memset(value, 'v', sizeof value);
    twoway_bhttp_message msg = hello_request();
    for (int form = 0; form < 2; form++) {
        for (size_t k = 255; k <= 257; k++) {
            for (size_t i = 0; i < k; i++) {
                snprintf(names[i], sizeof names[i], "x-%zu", i);
                f[i] = F(names[i], "1");
            }
            msg.headers = f;
            msg.n_headers = k;
            size_t n = 1 << 20;
            CHECK_EQ_INT(twoway_bhttp_encode(&msg, form, m, &n), TWOWAY_OK);
            CHECK_EQ_INT(decode_rc(0, m, n), k <= 256 ? TWOWAY_OK : TWOWAY_ERR_TOO_BIG);
        }
        /* one field of name + value = 16384, and one byte more */
        for (size_t vl = 16382; vl <= 16383; vl++) {
            value[vl] = 0;
            f[0] = F("ab", value);
            value[vl] = 'v';
            msg.n_headers = 1;
            size_t n = 1 << 20;
            CHECK_EQ_INT(twoway_bhttp_encode(&msg, form, m, &n), TWOWAY_OK);
            CHECK_EQ_INT(decode_rc(0, m, n), vl == 16382 ? TWOWAY_OK : TWOWAY_ERR_TOO_BIG);
        }
        /* a section over 64 KiB made of small fields */
        for (size_t i = 0; i < 5; i++) {
            value[15000] = 0;
            snprintf(names[i], sizeof names[i], "x-%zu", i);
            f[i] = F(names[i], value);
            value[15000] = 'v';
        }
        msg.n_headers = 5;
        size_t n = 1 << 20;
        CHECK_EQ_INT(twoway_bhttp_encode(&msg, form, m, &n), TWOWAY_OK);
        CHECK_EQ_INT(decode_rc(0, m, n), TWOWAY_ERR_TOO_BIG);
        twoway_bhttp_limits lim = TWOWAY_BHTTP_LIMITS_INIT;
        lim.max_section_len = 200000;
        log_t l;
        CHECK_EQ_INT(decode_log(0, m, n, 0, 0, &lim, &l), TWOWAY_OK);
        free(l.p);
        /* content limit */
        msg.n_headers = 0;
        msg.content = (const uint8_t *)value;
        msg.content_len = 1000;
        n = 1 << 20;
        CHECK_EQ_INT(twoway_bhttp_encode(&msg, form, m, &n), TWOWAY_OK);
        lim = (twoway_bhttp_limits)TWOWAY_BHTTP_LIMITS_INIT;
        lim.max_content_len = 1000;
        CHECK_EQ_INT(decode_log(0, m, n, 0, 0, &lim, &l), TWOWAY_OK);
        free(l.p);
        lim.max_content_len = 999;
        CHECK_EQ_INT(decode_log(0, m, n, 3, 0, &lim, &l), TWOWAY_ERR_TOO_BIG);
        free(l.p);
        msg.content = NULL;
        msg.content_len = 0;
    }
    /* control data limit */
    twoway_bhttp_limits lim = TWOWAY_BHTTP_LIMITS_INIT;
    lim.max_control_len = 3 + 5 + 10;
    size_t n;
    uint8_t *fig8 = unhex(FIG8, &n);
    log_t l;
    CHECK_EQ_INT(decode_log(0, fig8, n, 1, 0, &lim, &l), TWOWAY_OK);
    free(l.p);
    lim.max_control_len--;
    CHECK_EQ_INT(decode_log(0, fig8, n, 1, 0, &lim, &l), TWOWAY_ERR_TOO_BIG);
    free(l.p);
    free(fig8);
    /* informational responses: 16 fine, 17 not */
    for (size_t k = 16; k <= 17; k++) {
        size_t o = 0;
        m[o++] = 1;
        for (size_t i = 0; i < k; i++) {
            m[o++] = 0x40;
            m[o++] = 100;
            m[o++] = 0;
        }
        m[o++] = 0x40;
        m[o++] = 200;
        CHECK_EQ_INT(decode_rc(1, m, o), k <= 16 ? TWOWAY_OK : TWOWAY_ERR_TOO_BIG);
    }
    /* padding limit */
    memset(m, 0, 1 << 20);
    m[0] = 1;
    m[1] = 0x40;
    m[2] = 200;
    CHECK_EQ_INT(decode_log(1, m, 6 + (1 << 20) - 16, 0, 0, NULL, &l), TWOWAY_OK);
    free(l.p);
    lim = (twoway_bhttp_limits)TWOWAY_BHTTP_LIMITS_INIT;
    lim.max_padding = 100;
    CHECK_EQ_INT(decode_log(1, m, 6 + 100, 0, 0, &lim, &l), TWOWAY_OK);
    free(l.p);
    CHECK_EQ_INT(decode_log(1, m, 6 + 101, 0, 0, &lim, &l), TWOWAY_ERR_TOO_BIG);
    free(l.p);
    free(f);
    free(m);
}

/* What the encoder refuses. */
static void test_encoder_refuses(void)
{
    uint8_t out[512];
    size_t n;
    twoway_bhttp_message m = hello_request();
    twoway_bhttp_field f[2];
    const char *bad_names[] = {":path", "a b", "", ":"};
    for (size_t i = 0; i < 4; i++) {
        f[0] = F(bad_names[i], "v");
        m.headers = f;
        m.n_headers = 1;
        n = sizeof out;
        CHECK_EQ_INT(twoway_bhttp_encode(&m, 0, out, &n), TWOWAY_ERR_ARG);
    }
    f[0] = F("a", "b");
    f[1] = F(":protocol", "x"); /* pseudo after regular */
    m.n_headers = 2;
    n = sizeof out;
    CHECK_EQ_INT(twoway_bhttp_encode(&m, 1, out, &n), TWOWAY_ERR_ARG);
    f[0] = F("a", "b\r\nc: d");
    m.n_headers = 1;
    n = sizeof out;
    CHECK_EQ_INT(twoway_bhttp_encode(&m, 1, out, &n), TWOWAY_ERR_ARG);
    m = hello_request();
    m.method = (const uint8_t *)"G T";
    n = sizeof out;
    CHECK_EQ_INT(twoway_bhttp_encode(&m, 0, out, &n), TWOWAY_ERR_ARG);
    m = hello_request();
    m.path_len = 0;
    n = sizeof out;
    CHECK_EQ_INT(twoway_bhttp_encode(&m, 0, out, &n), TWOWAY_ERR_ARG);
    m = hello_request();
    n = sizeof out;
    CHECK_EQ_INT(twoway_bhttp_encode(&m, 2, out, &n), TWOWAY_ERR_ARG);
    m.version = 2;
    CHECK_EQ_INT(twoway_bhttp_encode(&m, 0, out, &n), TWOWAY_ERR_ARG);
    twoway_bhttp_message r;
    memset(&r, 0, sizeof r);
    r.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    r.response = 1;
    r.status = 199;
    n = sizeof out;
    CHECK_EQ_INT(twoway_bhttp_encode(&r, 0, out, &n), TWOWAY_ERR_ARG);
    r.status = 600;
    CHECK_EQ_INT(twoway_bhttp_encode(&r, 0, out, &n), TWOWAY_ERR_ARG);
    twoway_bhttp_informational inf = {200, NULL, 0};
    r.status = 200;
    r.informational = &inf;
    r.n_informational = 1;
    CHECK_EQ_INT(twoway_bhttp_encode(&r, 0, out, &n), TWOWAY_ERR_ARG);
    uint8_t pre[8];
    CHECK_EQ_UINT(twoway_bhttp_chunk_prefix(0, pre), 0);
    CHECK_EQ_UINT(twoway_bhttp_chunk_prefix(TWOWAY_BHTTP_MAX_VARINT + 1, pre), 0);
    CHECK_EQ_UINT(twoway_bhttp_chunk_prefix(TWOWAY_BHTTP_MAX_VARINT, pre), 8);
    CHECK_EQ_UINT(twoway_bhttp_chunk_prefix(63, pre), 1);
    CHECK_EQ_UINT(twoway_bhttp_chunk_prefix(64, pre), 2);
}

/* Streaming both ways: head, 64 MiB of chunks, tail, decoded in pieces,
 * with the decoder's memory fixed at its creation. */
static void test_streaming(void)
{
    for (int form = 0; form < 2; form++) {
        twoway_bhttp_message m;
        memset(&m, 0, sizeof m);
        m.version = TWOWAY_BHTTP_MESSAGE_VERSION;
        m.method = (const uint8_t *)"POST";
        m.method_len = 4;
        m.scheme = (const uint8_t *)"https";
        m.scheme_len = 5;
        m.authority = (const uint8_t *)"example.com";
        m.authority_len = 11;
        m.path = (const uint8_t *)"/upload";
        m.path_len = 7;
        twoway_bhttp_field h = F("content-type", "application/octet-stream");
        twoway_bhttp_field t = F("digest", "sha-256=abc");
        m.headers = &h;
        m.n_headers = 1;
        m.trailers = &t;
        m.n_trailers = 1;
        const uint64_t total = (uint64_t)64 << 20;
        m.content_len = total;
        uint8_t head[256], tail[64], piece[8 + 65536];
        size_t hl = sizeof head, tl = sizeof tail;
        if (!CHECK_EQ_INT(twoway_bhttp_encode_head(&m, form, head, &hl), TWOWAY_OK) ||
            !CHECK_EQ_INT(twoway_bhttp_encode_tail(&m, form, tail, &tl), TWOWAY_OK))
            continue;
        twoway_bhttp_decoder *d = NULL;
        if (!CHECK_EQ_INT(twoway_bhttp_decoder_new(&d, 0, NULL), TWOWAY_OK))
            continue;
        twoway_bhttp_event ev;
        int fields = 0, ended = 0, rc = TWOWAY_OK;
        uint64_t got = 0, sum_in = 0, sum_out = 0;
        /* feed: head, then 1024 pieces of 65536 (chunk prefix + bytes), then tail */
        for (size_t part = 0; part < 1026 && rc == TWOWAY_OK; part++) {
            const uint8_t *p;
            size_t len;
            if (part == 0) {
                p = head;
                len = hl;
            } else if (part == 1025) {
                p = tail;
                len = tl;
            } else {
                size_t pre = 0;
                if (form == TWOWAY_BHTTP_INDETERMINATE)
                    pre = twoway_bhttp_chunk_prefix(65536, piece);
                for (size_t i = 0; i < 65536; i++)
                    piece[pre + i] = (uint8_t)((part * 65536 + i) * 2654435761u >> 13);
                for (size_t i = 0; i < 65536; i++)
                    sum_in += piece[pre + i] * (uint64_t)(i + 1);
                p = piece;
                len = pre + 65536;
            }
            size_t off = 0;
            for (;;) {
                size_t used;
                rc = twoway_bhttp_decode(d, p + off, len - off, part == 1025, &used, &ev);
                if (rc != TWOWAY_OK)
                    break;
                off += used;
                if (ev.type == TWOWAY_BHTTP_NEED_MORE)
                    break;
                if (ev.type == TWOWAY_BHTTP_FIELD)
                    fields++;
                if (ev.type == TWOWAY_BHTTP_CONTENT) {
                    for (size_t i = 0; i < ev.data_len; i++)
                        sum_out += ev.data[i] * (uint64_t)(((got + i) % 65536) + 1);
                    got += ev.data_len;
                }
                if (ev.type == TWOWAY_BHTTP_END) {
                    ended = 1;
                    break;
                }
            }
        }
        CHECK_EQ_INT(rc, TWOWAY_OK);
        CHECK(ended);
        CHECK_EQ_INT(fields, 2);
        CHECK_EQ_UINT(got, total);
        CHECK_EQ_UINT(twoway_bhttp_decoder_content_len(d), total);
        CHECK(sum_in == sum_out);
        twoway_bhttp_decoder_free(d);
    }
}

/* Random messages: encode in both forms, decode at random splits, compare. */
static void test_round_trips(void)
{
    uint32_t seed = 12345;
#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 8))
    static uint8_t out[1 << 16];
    static char text[12][64];
    for (int iter = 0; iter < 300; iter++) {
        twoway_bhttp_field f[8], t[4];
        size_t nf = RND() % 8, nt = RND() % 4;
        for (size_t i = 0; i < nf + nt; i++) {
            snprintf(text[i], sizeof text[0], "v%u-%u", (unsigned)RND(), (unsigned)i);
            twoway_bhttp_field x = F(i % 3 ? "x-some" : "Content-Type", text[i]);
            if (i < nf)
                f[i] = x;
            else
                t[i - nf] = x;
        }
        twoway_bhttp_message m;
        memset(&m, 0, sizeof m);
        m.version = TWOWAY_BHTTP_MESSAGE_VERSION;
        m.response = (int)(RND() & 1);
        m.status = (uint16_t)(200 + RND() % 400);
        m.method = (const uint8_t *)"PUT";
        m.method_len = 3;
        m.scheme = (const uint8_t *)"https";
        m.scheme_len = 5;
        m.path = (const uint8_t *)"/p?q=1";
        m.path_len = 6;
        m.headers = f;
        m.n_headers = nf;
        m.trailers = t;
        m.n_trailers = nt;
        uint8_t content[300];
        for (size_t i = 0; i < sizeof content; i++)
            content[i] = (uint8_t)RND();
        m.content = content;
        m.content_len = RND() % sizeof content;
        m.truncate = (int)(RND() & 1);
        m.padding = RND() % 3 == 0 ? RND() % 40 : 0;
        log_t ref = {0};
        for (int form = 0; form < 2; form++) {
            size_t n = sizeof out;
            if (!CHECK_EQ_INT(twoway_bhttp_encode(&m, form, out, &n), TWOWAY_OK)) {
                fprintf(stderr, "iter %d: resp %d status %u nf %zu nt %zu\n", iter, m.response,
                        m.status, nf, nt);
                continue;
            }
            log_t l;
            size_t step = 1 + RND() % 20;
            if (!CHECK_EQ_INT(decode_log(m.response, out, n, step, (int)(RND() & 1), NULL, &l),
                              TWOWAY_OK)) {
                free(l.p);
                continue;
            }
            /* the form shows in the first line only */
            char *body = strchr(l.p, '\n');
            if (form == 0) {
                ref.p = malloc(strlen(body) + 1);
                memcpy(ref.p, body, strlen(body) + 1);
            } else if (ref.p != NULL) {
                CHECK_EQ_STR(body, ref.p);
            }
            free(l.p);
        }
        free(ref.p);
    }
#undef RND
}

/* Review findings: each was accepted (or refused) against RFC 9292. */
static void test_review_findings(void)
{
    /* RFC 9292 §3.6: pseudo-fields cannot be included in trailers */
    const uint8_t ptrail[] = {0x01, 0x40, 0xc8, 0x00, 0x00, 0x0c, 0x09, ':',  'p',
                              'r',  'o',  't',  'o',  'c',  'o',  'l',  0x01, 'x'};
    CHECK_EQ_INT(decode_rc(1, ptrail, sizeof ptrail), TWOWAY_ERR_FORMAT);
    const uint8_t ptrail_i[] = {0x03, 0x40, 0xc8, 0x00, 0x00, 0x09, ':',  'p', 'r',
                                'o',  't',  'o',  'c',  'o',  'l',  0x01, 'x', 0x00};
    CHECK_EQ_INT(decode_rc(1, ptrail_i, sizeof ptrail_i), TWOWAY_ERR_FORMAT);
    /* ... and the encoder does not write them there */
    twoway_bhttp_message r;
    memset(&r, 0, sizeof r);
    r.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    r.response = 1;
    r.status = 200;
    twoway_bhttp_field pt = F(":protocol", "x");
    r.trailers = &pt;
    r.n_trailers = 1;
    uint8_t out[64];
    size_t n = sizeof out;
    CHECK_EQ_INT(twoway_bhttp_encode(&r, 0, out, &n), TWOWAY_ERR_ARG);
    n = sizeof out;
    CHECK_EQ_INT(twoway_bhttp_encode_tail(&r, 1, out, &n), TWOWAY_ERR_ARG);
    /* but a pseudo-field in the header section is fine */
    r.headers = &pt;
    r.n_headers = 1;
    r.n_trailers = 0;
    n = sizeof out;
    CHECK_EQ_INT(twoway_bhttp_encode(&r, 0, out, &n), TWOWAY_OK);
    CHECK_EQ_INT(decode_rc(1, out, n), TWOWAY_OK);

    /* RFC 9113 §8.3.1, which RFC 9292 §3.4 applies to the control data: a
     * request other than CONNECT has a scheme; a CONNECT without a path
     * (not extended CONNECT) has no scheme and has an authority */
    uint8_t m[64];
    const uint8_t tail[] = {0, 0, 0};
    struct {
        const char *method, *scheme, *authority, *path;
        int ok;
    } ctl[] = {
        {"GET", "https", "", "/", 1},
        {"GET", "", "example.com", "/", 0},
        {"CONNECT", "", "example.com:443", "", 1},
        {"CONNECT", "https", "example.com:443", "", 0},
        {"CONNECT", "", "", "", 0},
        {"CONNECT", "https", "example.com", "/chat", 1}, /* extended CONNECT */
        {"CONNECT", "", "example.com", "/chat", 0},
    };
    for (size_t i = 0; i < sizeof ctl / sizeof ctl[0]; i++) {
        size_t o = 0;
        const char *s[4] = {ctl[i].method, ctl[i].scheme, ctl[i].authority, ctl[i].path};
        m[o++] = 0;
        for (size_t k = 0; k < 4; k++) {
            m[o++] = (uint8_t)strlen(s[k]);
            memcpy(m + o, s[k], strlen(s[k]));
            o += strlen(s[k]);
        }
        memcpy(m + o, tail, sizeof tail);
        o += sizeof tail;
        if (!CHECK_EQ_INT(decode_rc(0, m, o), ctl[i].ok ? TWOWAY_OK : TWOWAY_ERR_FORMAT))
            fprintf(stderr, "control %zu\n", i);
        twoway_bhttp_message q;
        memset(&q, 0, sizeof q);
        q.version = TWOWAY_BHTTP_MESSAGE_VERSION;
        q.method = (const uint8_t *)s[0];
        q.method_len = strlen(s[0]);
        q.scheme = (const uint8_t *)s[1];
        q.scheme_len = strlen(s[1]);
        q.authority = (const uint8_t *)s[2];
        q.authority_len = strlen(s[2]);
        q.path = (const uint8_t *)s[3];
        q.path_len = strlen(s[3]);
        n = sizeof out;
        CHECK_EQ_INT(twoway_bhttp_encode(&q, 0, out, &n), ctl[i].ok ? TWOWAY_OK : TWOWAY_ERR_ARG);
    }

    /* a size past SIZE_MAX is TOO_BIG, as bhttp.h says, not a wrap */
    memset(&r, 0, sizeof r);
    r.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    r.response = 1;
    r.status = 200;
    r.padding = SIZE_MAX - 2;
    n = 0;
    CHECK_EQ_INT(twoway_bhttp_encode(&r, 0, NULL, &n), TWOWAY_ERR_TOO_BIG);
    n = 0; /* two bytes and SIZE_MAX - 2 fit exactly */
    CHECK_EQ_INT(twoway_bhttp_encode_tail(&r, 1, NULL, &n), TWOWAY_ERR_BUFFER);
    CHECK(n == SIZE_MAX);
    r.padding = SIZE_MAX - 1;
    n = 0;
    CHECK_EQ_INT(twoway_bhttp_encode_tail(&r, 1, NULL, &n), TWOWAY_ERR_TOO_BIG);

    /* Once the end of the message was given (last = 1) and the decoder
     * read the parts it left out as zeros, bytes handed in afterwards are
     * after the message: padding, never a content length or a field. */
    twoway_bhttp_decoder *d = NULL;
    twoway_bhttp_event ev;
    size_t used;
    const uint8_t resp[] = {0x01, 0x40, 0xc8};
    const uint8_t later[] = {0x05, 'h', 'e', 'l', 'l', 'o'};
    if (CHECK_EQ_INT(twoway_bhttp_decoder_new(&d, 1, NULL), TWOWAY_OK)) {
        CHECK_EQ_INT(twoway_bhttp_decode(d, resp, sizeof resp, 1, &used, &ev), TWOWAY_OK);
        CHECK_EQ_INT(ev.type, TWOWAY_BHTTP_STATUS);
        CHECK_EQ_INT(twoway_bhttp_decode(d, NULL, 0, 1, &used, &ev), TWOWAY_OK);
        CHECK(ev.type == TWOWAY_BHTTP_SECTION_END && ev.section == TWOWAY_BHTTP_SECTION_HEADER);
        int rc = twoway_bhttp_decode(d, later, sizeof later, 0, &used, &ev);
        CHECK(rc == TWOWAY_ERR_FORMAT || ev.type != TWOWAY_BHTTP_CONTENT);
        for (int i = 0; i < 8 && rc == TWOWAY_OK && ev.type != TWOWAY_BHTTP_END; i++) {
            rc = twoway_bhttp_decode(d, later + used, sizeof later - used, 0, &used, &ev);
            CHECK(ev.type != TWOWAY_BHTTP_CONTENT);
        }
        CHECK_EQ_INT(rc, TWOWAY_ERR_FORMAT);
        /* zeros after it are padding */
        twoway_bhttp_decoder_reset(d);
        const uint8_t zeros[4] = {0};
        CHECK_EQ_INT(twoway_bhttp_decode(d, resp, sizeof resp, 1, &used, &ev), TWOWAY_OK);
        CHECK_EQ_INT(twoway_bhttp_decode(d, NULL, 0, 1, &used, &ev), TWOWAY_OK);
        rc = TWOWAY_OK;
        size_t off = 0;
        for (int i = 0; i < 8 && rc == TWOWAY_OK && ev.type != TWOWAY_BHTTP_END; i++) {
            rc = twoway_bhttp_decode(d, zeros + off, sizeof zeros - off, 1, &used, &ev);
            off += used;
        }
        CHECK_EQ_INT(rc, TWOWAY_OK);
        CHECK_EQ_INT(ev.type, TWOWAY_BHTTP_END);
        twoway_bhttp_decoder_free(d);
    }
}

int main(void)
{
    test_rfc_examples();
    test_truncation();
    test_invalid();
    test_limits();
    test_encoder_refuses();
    test_streaming();
    test_round_trips();
    test_review_findings();
    return test_summary("test_bhttp");
}
