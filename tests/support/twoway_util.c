/* SPDX-License-Identifier: Apache-2.0 */
#include "twoway_util.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "hpke_util.h"
#include "test.h"

int test_stream_rng_fn(void *ctx, uint8_t *out, size_t len)
{
    test_stream_rng *r = ctx;
    if (len > r->len - r->off) {
        r->overrun = 1;
        return -1;
    }
    memcpy(out, r->data + r->off, len);
    r->off += len;
    return 0;
}

int test_counter_rng_fn(void *ctx, uint8_t *out, size_t len)
{
    uint64_t *state = ctx;
    while (len > 0) {
        uint8_t in[8], md[SHA256_DIGEST_LENGTH];
        for (int i = 0; i < 8; i++)
            in[i] = (uint8_t)(*state >> (8 * i));
        (*state)++;
        SHA256(in, sizeof in, md);
        size_t n = len < sizeof md ? len : sizeof md;
        memcpy(out, md, n);
        out += n;
        len -= n;
    }
    return 0;
}

int test_receiver_init(test_receiver *r, uint16_t kem_id, uint16_t kdf_id, uint16_t aead_id,
                       uint8_t key_id)
{
    memset(r, 0, sizeof *r);
    if (!test_hpke_suite(&r->suite, kem_id, kdf_id, aead_id))
        return 0;
    r->sk = test_hpke_generate(r->suite.kem);
    r->pk = r->sk != NULL ? test_hpke_public_of(r->sk) : NULL;
    if (r->pk == NULL)
        return 0;
    return CHECK_EQ_INT(twoway_keyring_new(&r->ring), TWOWAY_OK) &&
           CHECK_EQ_INT(twoway_keyring_add(r->ring, key_id, &r->suite, r->sk), TWOWAY_OK);
}

void test_receiver_free(test_receiver *r)
{
    twoway_keyring_free(r->ring);
    twoway_hpke_key_free(r->sk);
    twoway_hpke_key_free(r->pk);
    memset(r, 0, sizeof *r);
}

void test_buf_reserve(test_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL)
        abort();
    b->p = p;
    b->cap = cap;
}

void test_buf_append(test_buf *b, const uint8_t *p, size_t n)
{
    test_buf_reserve(b, n + 1);
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void test_buf_free(test_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int test_seal_all(twoway_sealer *s, const uint8_t *pt, size_t pt_len, const size_t *chunk_lens,
                  size_t n_chunks, test_buf *out)
{
    size_t off = 0, n;
    int rc;
    if (chunk_lens == NULL) {
        n = twoway_sealer_max_output(s, pt_len);
        test_buf_reserve(out, n);
        n = out->cap - out->len;
        rc = twoway_sealer_final(s, out->p + out->len, &n, pt, pt_len);
        if (rc == TWOWAY_OK)
            out->len += n;
        return rc;
    }
    for (size_t i = 0; i < n_chunks; i++) {
        n = twoway_sealer_max_output(s, chunk_lens[i]);
        test_buf_reserve(out, n);
        n = out->cap - out->len;
        rc = twoway_sealer_update(s, out->p + out->len, &n, pt + off, chunk_lens[i]);
        if (rc != TWOWAY_OK)
            return rc;
        out->len += n;
        off += chunk_lens[i];
    }
    if (off != pt_len)
        return TWOWAY_ERR_ARG;
    n = twoway_sealer_max_output(s, 0);
    test_buf_reserve(out, n);
    n = out->cap - out->len;
    rc = twoway_sealer_final(s, out->p + out->len, &n, NULL, 0);
    if (rc == TWOWAY_OK)
        out->len += n;
    return rc;
}

int test_open_all(twoway_opener *o, const uint8_t *msg, size_t msg_len, size_t step, test_buf *out)
{
    size_t off = 0, n;
    int rc;
    if (step == 0)
        step = msg_len;
    while (msg_len - off > step) {
        n = twoway_opener_max_output(o, step);
        test_buf_reserve(out, n + 1);
        n = out->cap - out->len;
        rc = twoway_opener_update(o, out->p + out->len, &n, msg + off, step);
        if (rc != TWOWAY_OK)
            return rc;
        out->len += n;
        off += step;
    }
    n = twoway_opener_max_output(o, msg_len - off);
    test_buf_reserve(out, n + 1);
    n = out->cap - out->len;
    rc = twoway_opener_final(o, out->p + out->len, &n, msg + off, msg_len - off);
    if (rc == TWOWAY_OK)
        out->len += n;
    return rc;
}
