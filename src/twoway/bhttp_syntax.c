/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Binary HTTP (RFC 9292 §3.4-§3.6): what a method, a request target, a field
 * name and a field value may hold. RFC 9292 takes HTTP/2's rules (RFC 9113
 * §8.2.1, §8.3): field values without NUL, CR or LF and without white space
 * at their ends; no pseudo-field for what the control data carries, none in
 * a trailer section; a scheme and a path unless the request is a CONNECT,
 * which then has an authority and neither of the others. The
 * request target is held to printable ASCII without space, stricter than
 * RFC 9292 asks: a gateway replays it over HTTP/1.1, where a space or a
 * control character would split or smuggle a request.
 */
#include "twoway/bhttp_internal.h"

#include <string.h>

int tw_bhttp_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int tw_bhttp_method_ok(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!tw_bhttp_tchar(p[i]))
            return 0;
    return 1;
}

int tw_bhttp_target_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e)
            return 0;
    return 1;
}

int tw_bhttp_control_ok(const uint8_t *method, size_t method_len, const uint8_t *scheme,
                        size_t scheme_len, const uint8_t *authority, size_t authority_len,
                        const uint8_t *path, size_t path_len)
{
    if (!tw_bhttp_method_ok(method, method_len) || !tw_bhttp_target_ok(scheme, scheme_len) ||
        !tw_bhttp_target_ok(authority, authority_len) || !tw_bhttp_target_ok(path, path_len))
        return 0;
    if (path_len == 0) /* CONNECT (RFC 9113 §8.5): an authority, no scheme */
        return method_len == 7 && memcmp(method, "CONNECT", 7) == 0 && scheme_len == 0 &&
               authority_len > 0;
    return scheme_len > 0; /* everything else, extended CONNECT too (RFC 9113 §8.3.1) */
}

enum tw_bhttp_name_kind tw_bhttp_name_kind(const uint8_t *p, size_t n)
{
    static const char *const reserved[] = {":method", ":scheme", ":authority", ":path", ":status"};
    if (n == 0)
        return TW_BHTTP_NAME_BAD;
    if (p[0] != ':') {
        for (size_t i = 0; i < n; i++)
            if (!tw_bhttp_tchar(p[i]))
                return TW_BHTTP_NAME_BAD;
        return TW_BHTTP_NAME_REGULAR;
    }
    if (n == 1)
        return TW_BHTTP_NAME_BAD;
    for (size_t i = 1; i < n; i++)
        if (!tw_bhttp_tchar(p[i]) || (p[i] >= 'A' && p[i] <= 'Z'))
            return TW_BHTTP_NAME_BAD;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strlen(reserved[i]) == n && memcmp(reserved[i], p, n) == 0)
            return TW_BHTTP_NAME_BAD;
    return TW_BHTTP_NAME_PSEUDO;
}

int tw_bhttp_value_ok(const uint8_t *p, size_t n)
{
    if (n > 0 && (p[0] == ' ' || p[0] == '\t' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] == 0 || p[i] == '\r' || p[i] == '\n')
            return 0;
    return 1;
}
