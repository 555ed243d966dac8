/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small internal helpers shared by both libraries: wiping secrets,
 * constant-time comparison, big-endian integers, checked arithmetic.
 * Not installed; nothing here is part of either public API.
 */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Overwrite n bytes with zeros in a way the compiler may not remove. */
void util_wipe(void *p, size_t n);

/* 1 if the n bytes of a and b are equal, else 0; time depends only on n. */
int util_ct_equal(const void *a, const void *b, size_t n);

/* 1 if the n bytes are all zero, else 0; time depends only on n. */
int util_ct_is_zero(const void *p, size_t n);

/* r = a + b; returns 1 (and leaves *r unspecified) on overflow. */
static inline int util_add_overflow(size_t a, size_t b, size_t *r)
{
    return __builtin_add_overflow(a, b, r);
}

static inline void util_store16_be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline uint16_t util_load16_be(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline void util_store64_be(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static inline uint64_t util_load64_be(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static inline void util_store32_le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t util_load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void util_store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t util_load64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

#define UTIL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif /* COMMON_UTIL_H */
