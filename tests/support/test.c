/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tiny test harness; see test.h.
 */
#include "test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long g_passed;
static unsigned long g_failed;

static int test_record(int ok)
{
    if (ok)
        g_passed++;
    else
        g_failed++;
    return ok;
}

int test_check_(int ok, const char *file, int line, const char *expr)
{
    if (!ok)
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, expr);
    return test_record(ok);
}

int test_check_eq_int_(intmax_t a, intmax_t b, const char *file, int line, const char *ea,
                       const char *eb)
{
    int ok = a == b;
    if (!ok)
        fprintf(stderr, "%s:%d: CHECK_EQ_INT failed: %s == %s (%" PRIdMAX " != %" PRIdMAX ")\n",
                file, line, ea, eb, a, b);
    return test_record(ok);
}

int test_check_eq_uint_(uintmax_t a, uintmax_t b, const char *file, int line, const char *ea,
                        const char *eb)
{
    int ok = a == b;
    if (!ok)
        fprintf(stderr, "%s:%d: CHECK_EQ_UINT failed: %s == %s (%" PRIuMAX " != %" PRIuMAX ")\n",
                file, line, ea, eb, a, b);
    return test_record(ok);
}

int test_check_eq_str_(const char *a, const char *b, const char *file, int line, const char *ea,
                       const char *eb)
{
    int ok = (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
    if (!ok)
        fprintf(stderr, "%s:%d: CHECK_EQ_STR failed: %s == %s (%s%s%s != %s%s%s)\n", file, line, ea,
                eb, a ? "\"" : "", a ? a : "NULL", a ? "\"" : "", b ? "\"" : "", b ? b : "NULL",
                b ? "\"" : "");
    return test_record(ok);
}

static void test_hex_line(const char *label, const unsigned char *p, size_t n, size_t max_bytes)
{
    size_t i, shown = (max_bytes != 0 && n > max_bytes) ? max_bytes : n;

    fprintf(stderr, "  %s (%zu bytes): ", label, n);
    if (p == NULL && n != 0) {
        fputs("(null)\n", stderr);
        return;
    }
    for (i = 0; i < shown; i++)
        fprintf(stderr, "%02x", p[i]);
    if (shown < n)
        fputs("...", stderr);
    fputc('\n', stderr);
}

void test_hexdump(const char *label, const void *p, size_t n, size_t max_bytes)
{
    test_hex_line(label ? label : "data", (const unsigned char *)p, n, max_bytes);
}

int test_check_mem_(const void *a, const void *b, size_t n, const char *file, int line,
                    const char *ea, const char *eb, const char *en)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    size_t i;
    int ok;

    if (n == 0)
        ok = 1;
    else if (x == NULL || y == NULL)
        ok = 0;
    else
        ok = memcmp(x, y, n) == 0;
    if (!ok) {
        fprintf(stderr, "%s:%d: CHECK_MEM failed: %s == %s (%s = %zu bytes)\n", file, line, ea, eb,
                en, n);
        if (x != NULL && y != NULL) {
            for (i = 0; i < n && x[i] == y[i]; i++)
                ;
            fprintf(stderr, "  first difference at offset %zu\n", i);
        }
        test_hex_line(ea, x, n, 64);
        test_hex_line(eb, y, n, 64);
    }
    return test_record(ok);
}

#define TEST_PATH_BUFS 8
#define TEST_PATH_MAX 4096

const char *test_vector_path(const char *name)
{
    static char bufs[TEST_PATH_BUFS][TEST_PATH_MAX];
    static unsigned next;
    const char *dir = getenv("SECUREIO_VECTORS_DIR");
    char *buf;
    size_t dl;
    int n;

    if (dir == NULL || dir[0] == '\0') {
#ifdef TEST_VECTORS_DIR
        dir = TEST_VECTORS_DIR;
#else
        dir = NULL;
#endif
    }
    if (dir == NULL || dir[0] == '\0') {
        fprintf(stderr, "test_vector_path: no vectors folder: set SECUREIO_VECTORS_DIR "
                        "(or build with -DTEST_VECTORS_DIR=\"...\")\n");
        exit(1);
    }
    if (name == NULL)
        name = "";
    buf = bufs[next];
    next = (next + 1) % TEST_PATH_BUFS;
    dl = strlen(dir);
    n = snprintf(buf, TEST_PATH_MAX, "%s%s%s", dir, (dl > 0 && dir[dl - 1] == '/') ? "" : "/",
                 name);
    if (n < 0 || n >= TEST_PATH_MAX) {
        fprintf(stderr, "test_vector_path: path too long for %s\n", name);
        exit(1);
    }
    return buf;
}

int test_summary(const char *suite_name)
{
    fflush(stderr);
    printf("%s: %lu passed, %lu failed\n", suite_name ? suite_name : "tests", g_passed, g_failed);
    fflush(stdout);
    return g_failed == 0 ? 0 : 1;
}

unsigned long test_passed_count(void)
{
    return g_passed;
}

unsigned long test_failed_count(void)
{
    return g_failed;
}
