/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the twoway message tests (implementation: twoway_util.c).
 */
#ifndef SECUREIO_TESTS_TWOWAY_UTIL_H
#define SECUREIO_TESTS_TWOWAY_UTIL_H

#include <twoway/message.h>

/* A twoway_rng_fn that hands out a fixed byte stream, and fails (and
 * counts an error) when asked for more than is left. */
typedef struct test_stream_rng {
    const uint8_t *data;
    size_t len, off;
    int overrun;
} test_stream_rng;
int test_stream_rng_fn(void *ctx, uint8_t *out, size_t len);

/* A deterministic twoway_rng_fn (a counter run through SHA-256), for tests
 * that need many distinct values. ctx points to a uint64_t state. */
int test_counter_rng_fn(void *ctx, uint8_t *out, size_t len);

/* A receiver: a fresh key pair of a built-in suite in a key ring of one. */
typedef struct test_receiver {
    twoway_hpke_suite suite;
    twoway_hpke_key *sk, *pk;
    twoway_keyring *ring;
} test_receiver;
/* Returns 1 on success (each step counts as a CHECK). */
int test_receiver_init(test_receiver *r, uint16_t kem_id, uint16_t kdf_id, uint16_t aead_id,
                       uint8_t key_id);
void test_receiver_free(test_receiver *r);

/* A growable byte buffer. */
typedef struct test_buf {
    uint8_t *p;
    size_t len, cap;
} test_buf;
void test_buf_reserve(test_buf *b, size_t extra);
void test_buf_append(test_buf *b, const uint8_t *p, size_t n);
void test_buf_free(test_buf *b);

/*
 * Seals a whole message with s: chunked, each chunk_lens[i] bytes of pt as
 * one update (n_chunks of them; NULL: all of pt in one update) and an empty
 * final; unchunked, one final. Appends to out. Returns the first error.
 */
int test_seal_all(twoway_sealer *s, const uint8_t *pt, size_t pt_len, const size_t *chunk_lens,
                  size_t n_chunks, test_buf *out);

/* Opens msg with o in pieces of `step` bytes (0: all at once, as final).
 * Appends the plaintext to out. Returns the first error. */
int test_open_all(twoway_opener *o, const uint8_t *msg, size_t msg_len, size_t step, test_buf *out);

#endif /* SECUREIO_TESTS_TWOWAY_UTIL_H */
