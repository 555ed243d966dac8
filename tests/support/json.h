/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tj: a small, strict JSON reader (RFC 8259) for the test suite.
 *
 * - tj_parse() builds a DOM tree; tj_free() releases it.  Only pass a pointer
 *   returned by tj_parse()/tj_load_file() to tj_free() (children are owned by
 *   their root).
 * - Strict: no comments, no trailing commas, no leading zeros, no NaN/Infinity,
 *   no unescaped control characters, no invalid UTF-8, no lone surrogates,
 *   no duplicate object keys, no byte-order mark, nothing after the value.
 *   Nesting depth is limited to TJ_MAX_DEPTH (64) arrays/objects.
 * - Strings are decoded to UTF-8 and NUL-terminated (a string may contain an
 *   escaped \u0000; tj_len() gives its byte length).
 * - Numbers are kept as double; when the value is integral and fits in int64
 *   it is also available exactly through tj_int() (tj_is_int() says so).
 *   Integer literals without fraction/exponent are converted exactly, not via
 *   double.  Numbers that overflow a double are rejected.
 * - All accessors accept NULL and wrong-typed nodes and then return a neutral
 *   value (NULL, 0, 0.0), so lookups can be chained.
 * - No global state; thread-compatible.
 */
#ifndef SECUREIO_TESTS_JSON_H
#define SECUREIO_TESTS_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TJ_MAX_DEPTH 64

typedef enum { TJ_NULL, TJ_BOOL, TJ_NUMBER, TJ_STRING, TJ_ARRAY, TJ_OBJECT } tj_type;

typedef struct tj_value tj_value;

/* Parses len bytes at text.  Returns NULL on error; then, if err != NULL and
 * errlen > 0, err receives a NUL-terminated message with the byte offset
 * (and line/column) of the problem.  On success err (if given) is set to "". */
tj_value *tj_parse(const char *text, size_t len, char *err, size_t errlen);

/* Reads the whole file and parses it.  Errors as for tj_parse (I/O errors
 * name the path). */
tj_value *tj_load_file(const char *path, char *err, size_t errlen);

/* Frees a tree returned by tj_parse/tj_load_file.  NULL is allowed. */
void tj_free(tj_value *v);

tj_type tj_typeof(const tj_value *v); /* TJ_NULL for a NULL pointer */

/* Number of elements (array) or members (object); byte length for a string
 * (excluding the terminating NUL); 0 otherwise. */
size_t tj_len(const tj_value *v);

/* i-th element of an array (or the value of the i-th member of an object, in
 * document order); NULL if out of range or not a container. */
const tj_value *tj_at(const tj_value *v, size_t i);

/* Key of the i-th member of an object; NULL if not an object/out of range. */
const char *tj_key(const tj_value *obj, size_t i);

/* Member value by key; NULL if missing or obj is not an object. */
const tj_value *tj_get(const tj_value *obj, const char *key);

const char *tj_str(const tj_value *v); /* NULL if not a string */
int tj_is_int(const tj_value *v);      /* 1 if number, integral, in int64 range */
int64_t tj_int(const tj_value *v);     /* 0 if !tj_is_int(v) */
double tj_num(const tj_value *v);      /* 0.0 if not a number */
int tj_bool(const tj_value *v);        /* 1 for true; 0 for false or non-bool */

/* Hex decoding (upper or lower case, even length).  On success *out is a
 * malloc'd buffer (non-NULL even for an empty string; free() it) and
 * *out_len its length (out_len may be NULL); returns 0.  On failure returns -1
 * and sets *out = NULL, *out_len = 0. */
int tj_hex(const tj_value *v, uint8_t **out, size_t *out_len);
int tj_hex_decode(const char *hex, uint8_t **out, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* SECUREIO_TESTS_JSON_H */
