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
/* A request's control data (RFC 9113 §8.3.1, §8.5, as RFC 9292 §3.4 asks):
 * a method, and scheme, authority and path as above, where the path is empty
 * only for a CONNECT, whose scheme is then empty and authority not; every
 * other request (extended CONNECT too) has a scheme. */
int tw_bhttp_control_ok(const uint8_t *method, size_t method_len, const uint8_t *scheme,
                        size_t scheme_len, const uint8_t *authority, size_t authority_len,
                        const uint8_t *path, size_t path_len);

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
