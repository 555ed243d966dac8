/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Binary HTTP (RFC 9292): the syntax rules that the encoder and the decoder
 * share (bhttp_syntax.c), so that an encoder never writes what the decoder
 * refuses.
 */
#ifndef TWOWAY_BHTTP_INTERNAL_H
#define TWOWAY_BHTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The framing indicators (RFC 9292 §3.3). */
#define TW_BHTTP_FRAMING(form, response) ((uint64_t)(2 * (form) + (response)))

/* A token character (RFC 9110 §5.6.2). */
int tw_bhttp_tchar(uint8_t c);
/* A request method: a non-empty token. */
int tw_bhttp_method_ok(const uint8_t *p, size_t n);
/* Scheme, authority, path: printable ASCII without space (0x21-0x7e). */
int tw_bhttp_target_ok(const uint8_t *p, size_t n);
/* Path: as above, and empty only for CONNECT (RFC 9113 §8.3.1, §8.5). */
int tw_bhttp_path_ok(const uint8_t *method, size_t method_len, const uint8_t *p, size_t n);

enum tw_bhttp_name_kind { TW_BHTTP_NAME_BAD = 0, TW_BHTTP_NAME_REGULAR, TW_BHTTP_NAME_PSEUDO };
/* A field name: a token (either case), or ":" and a lower-case token that is
 * not one of the five the control data carries. */
enum tw_bhttp_name_kind tw_bhttp_name_kind(const uint8_t *p, size_t n);
/* A field value: no NUL, CR or LF; no SP or HTAB at either end. */
int tw_bhttp_value_ok(const uint8_t *p, size_t n);

static inline uint8_t tw_bhttp_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

#endif /* TWOWAY_BHTTP_INTERNAL_H */
