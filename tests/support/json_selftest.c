/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Self-test of the tj JSON reader (tests/support/json.c).
 */
#include "json.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tj_value *parse_str(const char *s)
{
    char err[256];
    tj_value *v = tj_parse(s, strlen(s), err, sizeof(err));
    if (v == NULL)
        fprintf(stderr, "unexpected parse failure for %s: %s\n", s, err);
    return v;
}

/* ------------------------------------------------------------------------ */

static void test_scalars(void)
{
    tj_value *v;

    v = parse_str("null");
    CHECK(v != NULL && tj_typeof(v) == TJ_NULL);
    tj_free(v);

    v = parse_str(" true ");
    CHECK(tj_typeof(v) == TJ_BOOL);
    CHECK_EQ_INT(tj_bool(v), 1);
    tj_free(v);

    v = parse_str("\tfalse\r\n");
    CHECK(tj_typeof(v) == TJ_BOOL);
    CHECK_EQ_INT(tj_bool(v), 0);
    tj_free(v);

    v = parse_str("\"hello\"");
    CHECK(tj_typeof(v) == TJ_STRING);
    CHECK_EQ_STR(tj_str(v), "hello");
    CHECK_EQ_UINT(tj_len(v), 5);
    tj_free(v);

    v = parse_str("\"\"");
    CHECK(tj_typeof(v) == TJ_STRING);
    CHECK_EQ_STR(tj_str(v), "");
    CHECK_EQ_UINT(tj_len(v), 0);
    tj_free(v);
}

static void check_int(const char *text, int64_t expect)
{
    tj_value *v = parse_str(text);
    CHECK(tj_typeof(v) == TJ_NUMBER);
    if (!CHECK(tj_is_int(v)))
        fprintf(stderr, "  (for %s)\n", text);
    CHECK_EQ_INT(tj_int(v), expect);
    tj_free(v);
}

static void check_double(const char *text, double expect, int is_int)
{
    tj_value *v = parse_str(text);
    CHECK(tj_typeof(v) == TJ_NUMBER);
    if (!CHECK(tj_num(v) == expect))
        fprintf(stderr, "  (for %s: got %.17g, want %.17g)\n", text, tj_num(v), expect);
    CHECK_EQ_INT(tj_is_int(v), is_int);
    tj_free(v);
}

static void test_numbers(void)
{
    check_int("0", 0);
    check_int("-0", 0);
    check_int("7", 7);
    check_int("-42", -42);
    check_int("32", 32);
    check_int("1234567890123", INT64_C(1234567890123));
    check_int("9223372036854775807", INT64_MAX);
    check_int("-9223372036854775808", INT64_MIN);
    check_int("1.0", 1);
    check_int("1e3", 1000);
    check_int("-1.5E3", -1500);
    check_int("250e-1", 25);
    check_double("25e-1", 2.5, 0);

    check_double("3.25", 3.25, 0);
    check_double("-0.5", -0.5, 0);
    check_double("1e-2", 0.01, 0);
    check_double("1E+2", 100.0, 1);
    check_double("6.02214076e23", 6.02214076e23, 0);
    check_double("-2.5e-3", -2.5e-3, 0);
    check_double("1e308", 1e308, 0);
    check_double("1e-400", 0.0, 1); /* underflows to zero: accepted */
    check_double("9223372036854775808", 9223372036854775808.0, 0);   /* 2^63 */
    check_double("-9223372036854775809", -9223372036854775808.0, 0); /* below min */
    check_double("123456789012345678901234567890", 1.2345678901234568e29, 0);
    check_double("18446744073709551616", 18446744073709551616.0, 0); /* 2^64 */
    check_double("0.1", 0.1, 0);
}

static void check_string(const char *json, const char *expect, size_t expect_len)
{
    tj_value *v = parse_str(json);
    CHECK(tj_typeof(v) == TJ_STRING);
    CHECK_EQ_UINT(tj_len(v), expect_len);
    if (tj_str(v) != NULL && tj_len(v) == expect_len)
        CHECK_MEM(tj_str(v), expect, expect_len + 1); /* incl. NUL */
    else
        CHECK(0 && "string length mismatch");
    tj_free(v);
}

static void test_strings(void)
{
    check_string("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\" \\ / \b \f \n \r \t", 15);
    check_string("\"\\u0041\\u0062c\"", "Abc", 3);
    check_string("\"\\u00e9\"", "\xC3\xA9", 2);
    check_string("\"\\u00E9\"", "\xC3\xA9", 2);
    check_string("\"\\u07FF\"", "\xDF\xBF", 2);
    check_string("\"\\u0800\"", "\xE0\xA0\x80", 3);
    check_string("\"\\u20ac\"", "\xE2\x82\xAC", 3);
    check_string("\"\\uFFFF\"", "\xEF\xBF\xBF", 3);
    check_string("\"\\ud83d\\ude00\"", "\xF0\x9F\x98\x80", 4); /* U+1F600 */
    check_string("\"\\uD834\\uDD1E\"", "\xF0\x9D\x84\x9E", 4); /* U+1D11E */
    check_string("\"\\udbff\\udfff\"", "\xF4\x8F\xBF\xBF", 4); /* U+10FFFF */
    check_string("\"\\uD800\\uDC00\"", "\xF0\x90\x80\x80", 4); /* U+10000 */
    check_string("\"x\\u0000y\"", "x\0y", 3);                  /* embedded NUL */
    check_string("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"", "caf\xC3\xA9 \xF0\x9F\x98\x80", 10);
    check_string("\"\x7F\"", "\x7F", 1); /* DEL is not a control char for JSON */
    check_string("\"a\\\\\"", "a\\", 2);
}

static void test_containers(void)
{
    tj_value *v;
    const tj_value *a, *o;

    v = parse_str("[]");
    CHECK(tj_typeof(v) == TJ_ARRAY);
    CHECK_EQ_UINT(tj_len(v), 0);
    CHECK(tj_at(v, 0) == NULL);
    tj_free(v);

    v = parse_str("{}");
    CHECK(tj_typeof(v) == TJ_OBJECT);
    CHECK_EQ_UINT(tj_len(v), 0);
    CHECK(tj_get(v, "a") == NULL);
    tj_free(v);

    v = parse_str(" [ 1 , \"two\" , null , true , false , { } , [ ] , -3.5 ] ");
    CHECK(tj_typeof(v) == TJ_ARRAY);
    CHECK_EQ_UINT(tj_len(v), 8);
    CHECK_EQ_INT(tj_int(tj_at(v, 0)), 1);
    CHECK_EQ_STR(tj_str(tj_at(v, 1)), "two");
    CHECK(tj_typeof(tj_at(v, 2)) == TJ_NULL && tj_at(v, 2) != NULL);
    CHECK_EQ_INT(tj_bool(tj_at(v, 3)), 1);
    CHECK(tj_typeof(tj_at(v, 4)) == TJ_BOOL && tj_bool(tj_at(v, 4)) == 0);
    CHECK(tj_typeof(tj_at(v, 5)) == TJ_OBJECT);
    CHECK(tj_typeof(tj_at(v, 6)) == TJ_ARRAY);
    CHECK(tj_num(tj_at(v, 7)) == -3.5);
    CHECK(tj_at(v, 8) == NULL);
    tj_free(v);

    v = parse_str("{\"a\":1,\"b\":[true,{\"c\":\"d\"}],\"e\":{\"f\":{\"g\":null}},\"\":\"empty\"}");
    CHECK(tj_typeof(v) == TJ_OBJECT);
    CHECK_EQ_UINT(tj_len(v), 4);
    CHECK_EQ_INT(tj_int(tj_get(v, "a")), 1);
    a = tj_get(v, "b");
    CHECK(tj_typeof(a) == TJ_ARRAY);
    CHECK_EQ_UINT(tj_len(a), 2);
    CHECK_EQ_STR(tj_str(tj_get(tj_at(a, 1), "c")), "d");
    o = tj_get(tj_get(tj_get(v, "e"), "f"), "g");
    CHECK(o != NULL && tj_typeof(o) == TJ_NULL);
    CHECK_EQ_STR(tj_str(tj_get(v, "")), "empty");
    CHECK(tj_get(v, "missing") == NULL);
    CHECK(tj_get(v, "A") == NULL);
    CHECK_EQ_STR(tj_key(v, 0), "a");
    CHECK_EQ_STR(tj_key(v, 3), "");
    CHECK(tj_key(v, 4) == NULL);
    CHECK(tj_at(v, 0) == tj_get(v, "a"));
    /* wrong-type and NULL-safe accessors */
    CHECK(tj_get(a, "x") == NULL);
    CHECK(tj_get(NULL, "x") == NULL);
    CHECK(tj_str(tj_get(v, "a")) == NULL);
    CHECK_EQ_INT(tj_int(tj_get(v, "b")), 0);
    CHECK(tj_num(tj_get(v, "b")) == 0.0);
    CHECK_EQ_INT(tj_bool(tj_get(v, "a")), 0);
    CHECK(tj_at(tj_get(v, "a"), 0) == NULL);
    CHECK_EQ_UINT(tj_len(tj_get(v, "a")), 0);
    CHECK(tj_typeof(NULL) == TJ_NULL);
    CHECK_EQ_UINT(tj_len(NULL), 0);
    CHECK(tj_str(NULL) == NULL);
    CHECK(tj_key(a, 0) == NULL);
    tj_free(v);
    tj_free(NULL);

    /* keys that differ only after an embedded NUL are distinct */
    v = parse_str("{\"k\":1,\"k\\u0000x\":2}");
    CHECK(v != NULL);
    CHECK_EQ_INT(tj_int(tj_get(v, "k")), 1);
    tj_free(v);

    /* a big object exercises the sorted duplicate-key check */
    {
        char buf[4096];
        size_t pos = 0;
        int i;
        buf[pos++] = '{';
        for (i = 0; i < 200; i++)
            pos +=
                (size_t)snprintf(buf + pos, sizeof(buf) - pos, "%s\"k%d\":%d", i ? "," : "", i, i);
        buf[pos++] = '}';
        v = tj_parse(buf, pos, NULL, 0);
        CHECK(tj_typeof(v) == TJ_OBJECT);
        CHECK_EQ_UINT(tj_len(v), 200);
        CHECK_EQ_INT(tj_int(tj_get(v, "k199")), 199);
        tj_free(v);
        /* same with a duplicate at the end */
        pos--;
        pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, ",\"k17\":0}");
        v = tj_parse(buf, pos, NULL, 0);
        CHECK(v == NULL);
    }
}

static char *nested(int depth, const char *open, const char *close, const char *inner)
{
    size_t lo = strlen(open), lc = strlen(close), li = strlen(inner);
    char *s = malloc((size_t)depth * (lo + lc) + li + 1), *p = s;
    int i;
    if (s == NULL)
        return NULL;
    for (i = 0; i < depth; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, inner, li);
    p += li;
    for (i = 0; i < depth; i++, p += lc)
        memcpy(p, close, lc);
    *p = '\0';
    return s;
}

static void test_depth(void)
{
    char err[256];
    char *s;
    tj_value *v;
    const tj_value *c;
    int d;

    s = nested(64, "[", "]", "1");
    v = tj_parse(s, strlen(s), err, sizeof(err));
    CHECK(v != NULL);
    for (c = v, d = 0; tj_typeof(c) == TJ_ARRAY; c = tj_at(c, 0))
        d++;
    CHECK_EQ_INT(d, 64);
    CHECK_EQ_INT(tj_int(c), 1);
    tj_free(v);
    free(s);

    s = nested(65, "[", "]", "");
    v = tj_parse(s, strlen(s), err, sizeof(err));
    CHECK(v == NULL);
    CHECK(strstr(err, "deep") != NULL);
    free(s);

    s = nested(64, "{\"a\":", "}", "[]"); /* 64 objects + 1 array */
    v = tj_parse(s, strlen(s), err, sizeof(err));
    CHECK(v == NULL);
    free(s);

    s = nested(63, "{\"a\":", "}", "[]");
    v = tj_parse(s, strlen(s), err, sizeof(err));
    CHECK(v != NULL);
    tj_free(v);
    free(s);

    /* very deep input must fail cleanly, not overflow the stack */
    s = nested(100000, "[", "]", "");
    v = tj_parse(s, strlen(s), err, sizeof(err));
    CHECK(v == NULL);
    free(s);
}

/* ------------------------------------------------------------------------ */

typedef struct {
    const char *text;
    size_t len; /* 0: use strlen */
} bad_case;

#define BAD(s)                                                                                     \
    {                                                                                              \
        s, 0                                                                                       \
    }
#define BADN(s)                                                                                    \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

static const bad_case bad_cases[] = {
    BADN(""),        /* empty input */
    BAD("   \n\t "), /* only whitespace */
    BAD("["),        /* truncated */
    BAD("[1,2"),     /* truncated */
    BAD("{\"a\":1"), /* truncated */
    BAD("{\"a\""),   /* truncated */
    BAD("{\"a\":"),  /* truncated */
    BAD("\"abc"),    /* unterminated string */
    BAD("\"abc\\"),  /* truncated escape */
    BAD("]"),
    BAD("}"),
    BAD("[1,2,]"),     /* trailing comma */
    BAD("{\"a\":1,}"), /* trailing comma */
    BAD("[,1]"),
    BAD("[1,,2]"),
    BAD("[1 2]"),             /* missing comma */
    BAD("{\"a\":1 \"b\":2}"), /* missing comma */
    BAD("{\"a\" 1}"),         /* missing colon */
    BAD("{\"a\":}"),          /* missing value */
    BAD("{a:1}"),             /* unquoted key */
    BAD("{1:1}"),             /* non-string key */
    BAD("{'a':1}"),           /* single quotes */
    BAD("{\"a\":1,\"a\":2}"), /* duplicate key */
    BAD("01"),                /* leading zero */
    BAD("-01"),               /* leading zero */
    BAD("00"),                /* leading zero */
    BAD("[007]"),             /* leading zero */
    BAD("1."),                /* no fraction digits */
    BAD("1.e5"),
    BAD(".5"),
    BAD("-"),
    BAD("-a"),
    BAD("+1"),
    BAD("1e"),
    BAD("1e+"),
    BAD("1E-"),
    BAD("0x10"),
    BAD("1e400"), /* overflows double */
    BAD("-1e400"),
    BAD("NaN"),
    BAD("Infinity"),
    BAD("-Infinity"),
    BAD("tru"),
    BAD("nul"),
    BAD("True"),
    BAD("nulll"),
    BAD("\"a\nb\""), /* unescaped control char */
    BAD("\"\t\""),   /* unescaped tab */
    BAD("\"\x01\""), /* unescaped control char */
    BAD("\"\x1f\""),
    BAD("\"\\x41\""), /* bad escape */
    BAD("\"\\a\""),
    BAD("\"\\U0041\""), /* escape is case sensitive */
    BAD("\"\\u12\""),   /* short \u */
    BAD("\"\\u12G4\""), /* non-hex \u */
    BAD("\"\\u\""),
    BAD("\"\\ud800\""), /* lone high surrogate */
    BAD("\"\\ud800x\""),
    BAD("\"\\ud800\\u0041\""),   /* high surrogate + non-surrogate */
    BAD("\"\\ud800\\ud800\""),   /* high + high */
    BAD("\"\\udc00\""),          /* lone low surrogate */
    BAD("\"\\udfff\\ud800\""),   /* reversed pair */
    BAD("\"\\ud800\\u12\""),     /* truncated low */
    BAD("\"\xC0\xAF\""),         /* overlong UTF-8 */
    BAD("\"\xE0\x80\xAF\""),     /* overlong UTF-8 */
    BAD("\"\xED\xA0\x80\""),     /* UTF-8-encoded surrogate */
    BAD("\"\xF4\x90\x80\x80\""), /* > U+10FFFF */
    BAD("\"\xE2\x82\""),         /* truncated UTF-8 sequence */
    BAD("\"\x80\""),             /* stray continuation byte */
    BAD("\"\xFF\""),
    BAD("[1] x"), /* trailing garbage */
    BAD("1 2"),
    BAD("{} {}"),
    BAD("[1]]"),
    BAD("\"a\"\""),
    BAD("nullx"),
    BAD("/*c*/1"), /* comments */
    BAD("[1] // c"),
    BAD("'a'"),
    BAD("\xEF\xBB\xBF[]"), /* byte-order mark */
    BAD("\x0c[]"),         /* form feed is not JSON whitespace */
    BAD("[\xA0]"),
    BADN("[1]\0"), /* embedded NUL after the value */
    BADN("\0"),
    BADN("\"a\0b\""), /* raw NUL in string */
};

static void test_malformed(void)
{
    size_t i, nbad = sizeof(bad_cases) / sizeof(bad_cases[0]);
    char err[256];

    CHECK(nbad >= 25);
    for (i = 0; i < nbad; i++) {
        const char *t = bad_cases[i].text;
        size_t len = bad_cases[i].len ? bad_cases[i].len : strlen(t);
        tj_value *v;

        /* Parse from an exact-size heap copy so ASan catches over-reads. */
        char *copy = malloc(len ? len : 1);
        if (!CHECK(copy != NULL))
            return;
        memcpy(copy, t, len);
        strcpy(err, "unchanged");
        v = tj_parse(copy, len, err, sizeof(err));
        if (!CHECK(v == NULL))
            fprintf(stderr, "  malformed case %zu was accepted: %.*s\n", i, (int)len, t);
        if (!CHECK(strstr(err, "byte offset") != NULL))
            fprintf(stderr, "  case %zu: bad error message: %s\n", i, err);
        tj_free(v);
        /* also with no error buffer */
        v = tj_parse(copy, len, NULL, 0);
        CHECK(v == NULL);
        tj_free(v);
        free(copy);
    }
}

static void test_errors(void)
{
    char err[256], small[8];
    tj_value *v;

    v = tj_parse("[1,2,]", 6, err, sizeof(err));
    CHECK(v == NULL);
    CHECK(strstr(err, "byte offset 5") != NULL);
    CHECK(strstr(err, "comma") != NULL);

    v = tj_parse("{\n  \"a\": 01\n}", 13, err, sizeof(err));
    CHECK(v == NULL);
    CHECK(strstr(err, "byte offset 9") != NULL);
    CHECK(strstr(err, "line 2, column 8") != NULL);

    v = tj_parse("[1] x", 5, err, sizeof(err));
    CHECK(v == NULL);
    CHECK(strstr(err, "byte offset 4") != NULL);
    CHECK(strstr(err, "trailing") != NULL);

    /* tiny error buffer: truncated, still terminated */
    v = tj_parse("[", 1, small, sizeof(small));
    CHECK(v == NULL);
    CHECK(memchr(small, '\0', sizeof(small)) != NULL);

    /* NULL text */
    CHECK(tj_parse(NULL, 0, err, sizeof(err)) == NULL);
    CHECK(tj_parse(NULL, 5, err, sizeof(err)) == NULL);

    /* len is honoured: bytes after len are ignored */
    v = tj_parse("[1] garbage", 3, err, sizeof(err));
    CHECK(tj_typeof(v) == TJ_ARRAY);
    CHECK_EQ_STR(err, "");
    tj_free(v);
    v = tj_parse("123456", 3, err, sizeof(err));
    CHECK_EQ_INT(tj_int(v), 123);
    tj_free(v);

    /* missing file */
    v = tj_load_file("/nonexistent/dir/x.json", err, sizeof(err));
    CHECK(v == NULL);
    CHECK(strstr(err, "/nonexistent/dir/x.json") != NULL);
    CHECK(tj_load_file(NULL, err, sizeof(err)) == NULL);
}

static void test_hex(void)
{
    tj_value *v;
    uint8_t *out = NULL;
    size_t n = 99;
    static const uint8_t expect[] = {0x00, 0xff, 0x10, 0xab, 0xcd, 0xef};

    v = parse_str("[\"00ff10ABcdEF\", \"\", \"abc\", \"zz\", 5, \"0g\", \"a\\u0000\"]");
    CHECK(tj_typeof(v) == TJ_ARRAY);

    CHECK_EQ_INT(tj_hex(tj_at(v, 0), &out, &n), 0);
    CHECK_EQ_UINT(n, 6);
    CHECK_MEM(out, expect, 6);
    free(out);

    out = NULL;
    n = 99;
    CHECK_EQ_INT(tj_hex(tj_at(v, 1), &out, &n), 0);
    CHECK(out != NULL);
    CHECK_EQ_UINT(n, 0);
    free(out);

    CHECK_EQ_INT(tj_hex(tj_at(v, 2), &out, &n), -1); /* odd length */
    CHECK(out == NULL && n == 0);
    CHECK_EQ_INT(tj_hex(tj_at(v, 3), &out, &n), -1); /* not hex */
    CHECK_EQ_INT(tj_hex(tj_at(v, 4), &out, &n), -1); /* not a string */
    CHECK_EQ_INT(tj_hex(tj_at(v, 5), &out, &n), -1);
    CHECK_EQ_INT(tj_hex(tj_at(v, 6), &out, &n), -1); /* embedded NUL */
    CHECK_EQ_INT(tj_hex(NULL, &out, &n), -1);
    CHECK(out == NULL);
    tj_free(v);

    CHECK_EQ_INT(tj_hex_decode("DEADbeef", &out, &n), 0);
    CHECK_EQ_UINT(n, 4);
    CHECK_MEM(out, "\xde\xad\xbe\xef", 4);
    free(out);
    CHECK_EQ_INT(tj_hex_decode("", &out, NULL), 0);
    CHECK(out != NULL);
    free(out);
    CHECK_EQ_INT(tj_hex_decode("0", &out, &n), -1);
    CHECK_EQ_INT(tj_hex_decode("0 ", &out, &n), -1);
    CHECK_EQ_INT(tj_hex_decode("-1", &out, &n), -1);
    CHECK_EQ_INT(tj_hex_decode(NULL, &out, &n), -1);
    CHECK_EQ_INT(tj_hex_decode("00", NULL, &n), -1);
}

/* Deterministic mutation fuzzing: must never crash (run under ASan/UBSan). */
static void test_robustness(void)
{
    static const char base[] = "{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\ud83d\\ude00\\n\"],"
                               "\"b\":{\"c\":[[],{}],\"d\":\"00ff\"},\"e\":12345678901234567890}";
    size_t blen = sizeof(base) - 1, i, accepted = 0;
    uint32_t rng = 0x12345678u;
    char buf[sizeof(base) + 8];
    tj_value *v;
    int iter;

    v = tj_parse(base, blen, NULL, 0);
    CHECK(v != NULL);
    tj_free(v);

    /* every proper prefix of an object is invalid */
    for (i = 0; i < blen; i++) {
        char *copy = malloc(i ? i : 1);
        if (copy == NULL)
            break;
        memcpy(copy, base, i);
        v = tj_parse(copy, i, NULL, 0);
        if (v != NULL)
            accepted++;
        tj_free(v);
        free(copy);
    }
    CHECK_EQ_UINT(accepted, 0);

    for (iter = 0; iter < 20000; iter++) {
        size_t len = blen, k, nmut;
        char *copy;
        memcpy(buf, base, blen);
        rng = rng * 1664525u + 1013904223u;
        nmut = 1 + (rng >> 28) % 4;
        for (k = 0; k < nmut; k++) {
            rng = rng * 1664525u + 1013904223u;
            buf[(rng >> 8) % len] = (char)(rng >> 24);
        }
        rng = rng * 1664525u + 1013904223u;
        if ((rng >> 30) == 0)
            len = (rng >> 8) % len;
        copy = malloc(len ? len : 1);
        if (copy == NULL)
            break;
        memcpy(copy, buf, len);
        v = tj_parse(copy, len, NULL, 0);
        tj_free(v);
        free(copy);
    }
    CHECK(1); /* reached without crashing */
}

static void test_vector_files(void)
{
    char err[512];
    tj_value *v;
    const tj_value *e0, *enc;
    size_t i, j, k, bad_hex = 0, bad_entries = 0;
    uint8_t *info = NULL;
    size_t info_len = 0;

    v = tj_load_file(test_vector_path("hpke-rfc9180.json"), err, sizeof(err));
    if (!CHECK(v != NULL)) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK(tj_typeof(v) == TJ_ARRAY);
    CHECK_EQ_UINT(tj_len(v), 128);
    e0 = tj_at(v, 0);
    CHECK(tj_typeof(e0) == TJ_OBJECT);
    CHECK(tj_is_int(tj_get(e0, "kem_id")));
    CHECK_EQ_INT(tj_int(tj_get(e0, "kem_id")), 32);
    CHECK_EQ_INT(tj_int(tj_get(e0, "mode")), 0);
    enc = tj_get(e0, "encryptions");
    CHECK(tj_typeof(enc) == TJ_ARRAY);
    CHECK(tj_len(enc) > 0);
    CHECK(tj_typeof(tj_at(enc, 0)) == TJ_OBJECT);
    CHECK_EQ_STR(tj_str(tj_get(tj_at(enc, 0), "aad")), "436f756e742d30");
    CHECK_EQ_INT(tj_hex(tj_get(e0, "info"), &info, &info_len), 0);
    CHECK_EQ_UINT(info_len, 20);
    CHECK_MEM(info, "Ode on a Grecian Urn", 20);
    free(info);

    /* every string field of every entry (and of its encryptions/exports) is hex */
    for (i = 0; i < tj_len(v); i++) {
        const tj_value *e = tj_at(v, i);
        /* export-only suites (aead_id 0xFFFF) have an empty "encryptions" */
        if (tj_typeof(e) != TJ_OBJECT || tj_typeof(tj_get(e, "encryptions")) != TJ_ARRAY ||
            (tj_len(tj_get(e, "encryptions")) == 0) != (tj_int(tj_get(e, "aead_id")) == 0xFFFF) ||
            !tj_is_int(tj_get(e, "kem_id")))
            bad_entries++;
        for (j = 0; j < tj_len(e); j++) {
            const tj_value *f = tj_at(e, j);
            if (tj_typeof(f) == TJ_STRING) {
                uint8_t *b;
                if (tj_hex(f, &b, NULL) != 0)
                    bad_hex++;
                free(b);
            } else if (tj_typeof(f) == TJ_ARRAY) {
                for (k = 0; k < tj_len(f); k++) {
                    const tj_value *g = tj_at(f, k);
                    size_t m;
                    for (m = 0; m < tj_len(g); m++) {
                        uint8_t *b;
                        if (tj_typeof(tj_at(g, m)) != TJ_STRING)
                            continue;
                        if (tj_hex(tj_at(g, m), &b, NULL) != 0)
                            bad_hex++;
                        free(b);
                    }
                }
            }
        }
    }
    CHECK_EQ_UINT(bad_entries, 0);
    CHECK_EQ_UINT(bad_hex, 0);
    tj_free(v);

    v = tj_load_file(test_vector_path("ohttp-rfc9458.json"), err, sizeof(err));
    if (CHECK(v != NULL)) {
        CHECK(tj_typeof(v) == TJ_OBJECT);
        CHECK_EQ_INT(tj_int(tj_get(tj_get(v, "key_config_parsed"), "kem_id")), 32);
        CHECK(tj_str(tj_get(v, "receiver_pk")) != NULL);
    } else {
        fprintf(stderr, "  %s\n", err);
    }
    tj_free(v);

    v = tj_load_file(test_vector_path("twoway.json"), err, sizeof(err));
    if (CHECK(v != NULL))
        CHECK(tj_typeof(tj_get(v, "published")) != TJ_NULL);
    else
        fprintf(stderr, "  %s\n", err);
    tj_free(v);
}

int main(void)
{
    test_scalars();
    test_numbers();
    test_strings();
    test_containers();
    test_depth();
    test_malformed();
    test_errors();
    test_hex();
    test_robustness();
    test_vector_files();
    return test_summary("json_selftest");
}
