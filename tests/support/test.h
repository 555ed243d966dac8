/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tiny test harness shared by all test programs (implementation: test.c).
 *
 *   CHECK(cond)            fails if cond is false
 *   CHECK_EQ_INT(a, b)     signed integer equality (values printed on failure)
 *   CHECK_EQ_UINT(a, b)    unsigned integer equality (sizes, lengths, ...)
 *   CHECK_EQ_STR(a, b)     C string equality (NULL-safe)
 *   CHECK_MEM(a, b, n)     memcmp(a, b, n) == 0; on mismatch prints the first
 *                          64 bytes of both in hex and the first differing offset
 *
 * Every CHECK* counts one check, prints "file:line: ..." to stderr on failure
 * and continues.  Each macro is an expression evaluating to 1 (pass) or 0
 * (fail), so "if (!CHECK(p != NULL)) return;" works.
 *
 * A test program ends with:   return test_summary("suite");
 * which prints exactly one line "suite: N passed, M failed" to stdout and
 * returns 0 if M == 0, else 1.
 */
#ifndef SECUREIO_TESTS_TEST_H
#define SECUREIO_TESTS_TEST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHECK(cond) test_check_((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

#define CHECK_EQ_INT(a, b)                                                                         \
    test_check_eq_int_((intmax_t)(a), (intmax_t)(b), __FILE__, __LINE__, #a, #b)

#define CHECK_EQ_UINT(a, b)                                                                        \
    test_check_eq_uint_((uintmax_t)(a), (uintmax_t)(b), __FILE__, __LINE__, #a, #b)

#define CHECK_EQ_STR(a, b) test_check_eq_str_((a), (b), __FILE__, __LINE__, #a, #b)

#define CHECK_MEM(a, b, n) test_check_mem_((a), (b), (size_t)(n), __FILE__, __LINE__, #a, #b, #n)

/* Prints "label (n bytes): hex" to stderr (at most max_bytes bytes shown;
 * 0 means all). */
void test_hexdump(const char *label, const void *p, size_t n, size_t max_bytes);

/* Path of a file in the shared test-vector folder: $SECUREIO_VECTORS_DIR if
 * set and non-empty, else the compile-time TEST_VECTORS_DIR.  The result
 * lives in one of 8 rotating static buffers (valid until 8 more calls); no
 * need to free it.  Exits the program with a message if no folder is
 * configured or the path is too long. */
const char *test_vector_path(const char *name);

/* Prints "suite_name: N passed, M failed" (one line, stdout); returns 0 if no
 * check failed, else 1. */
int test_summary(const char *suite_name);

/* Counters, for programs that want them. */
unsigned long test_passed_count(void);
unsigned long test_failed_count(void);

/* Implementation functions behind the macros. */
int test_check_(int ok, const char *file, int line, const char *expr);
int test_check_eq_int_(intmax_t a, intmax_t b, const char *file, int line, const char *ea,
                       const char *eb);
int test_check_eq_uint_(uintmax_t a, uintmax_t b, const char *file, int line, const char *ea,
                        const char *eb);
int test_check_eq_str_(const char *a, const char *b, const char *file, int line, const char *ea,
                       const char *eb);
int test_check_mem_(const void *a, const void *b, size_t n, const char *file, int line,
                    const char *ea, const char *eb, const char *en);

#ifdef __cplusplus
}
#endif

#endif /* SECUREIO_TESTS_TEST_H */
