/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records (src/secureio/record.h): XChaCha20-Poly1305 byte for byte against
 * libsodium's crypto_aead_xchacha20poly1305_ietf_* and the
 * draft-irtf-cfrg-xchacha-03 vector; records with counters; every forgery
 * refused with the plaintext wiped; in place; the argument checks.
 *
 * SECUREIO_TEST_HUGE=1 in the environment adds a record over INT_MAX bytes
 * (about 2 GiB, several seconds): the path that feeds OpenSSL in pieces.
 */
#include "test.h"

#include "secureio/record.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG SIO_RECORD_TAG_LEN

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state = 0x5eed5eed12345678u;

/* splitmix64: reproducible inputs */
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

static void store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void from_hex(const char *hex, uint8_t *out, size_t n)
{
    size_t bin_len = 0;
    if (!CHECK(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &bin_len, NULL) == 0 && bin_len == n))
        memset(out, 0, n);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* Both ways between us and libsodium on one input: our one-shot seal equals
 * libsodium's, each opens the other's, and a key with prefix = nonce[0..16]
 * sealing counter LE64(nonce[16..24]) gives the same bytes. */
static void compare_with_sodium(const uint8_t key[32], const uint8_t nonce[24], const uint8_t *ad,
                                size_t ad_len, const uint8_t *pt, size_t pt_len)
{
    uint8_t *ours = malloc(pt_len + TAG), *theirs = malloc(pt_len + TAG);
    uint8_t *back = malloc(pt_len + 1);
    if (!CHECK(ours != NULL && theirs != NULL && back != NULL))
        goto done;
    unsigned long long clen = 0, mlen = 0;
    CHECK_EQ_INT(sio_xchacha20poly1305_seal(ours, key, nonce, ad, ad_len, pt, pt_len), SECUREIO_OK);
    CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(theirs, &clen, pt, pt_len, ad, ad_len, NULL,
                                                     nonce, key) == 0 &&
          clen == pt_len + TAG);
    CHECK_MEM(ours, theirs, pt_len + TAG);
    /* libsodium opens ours */
    CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(back, &mlen, NULL, ours, pt_len + TAG, ad,
                                                     ad_len, nonce, key) == 0 &&
          mlen == pt_len);
    CHECK_MEM(back, pt, pt_len);
    /* we open libsodium's */
    memset(back, 0xee, pt_len + 1);
    CHECK_EQ_INT(sio_xchacha20poly1305_open(back, key, nonce, ad, ad_len, theirs, pt_len + TAG),
                 SECUREIO_OK);
    CHECK_MEM(back, pt, pt_len);
    CHECK_EQ_UINT(back[pt_len], 0xee); /* nothing written past the plaintext */
    /* the record form */
    sio_record_key k;
    uint64_t counter = 0;
    for (int i = 7; i >= 0; i--)
        counter = counter << 8 | nonce[16 + i];
    if (CHECK_EQ_INT(sio_record_key_init(&k, key, nonce), SECUREIO_OK)) {
        memset(ours, 0, pt_len + TAG);
        CHECK_EQ_INT(sio_record_seal(&k, ours, counter, ad, ad_len, pt, pt_len), SECUREIO_OK);
        CHECK_MEM(ours, theirs, pt_len + TAG);
        memset(back, 0xee, pt_len + 1);
        CHECK_EQ_INT(sio_record_open(&k, back, counter, ad, ad_len, theirs, pt_len + TAG),
                     SECUREIO_OK);
        CHECK_MEM(back, pt, pt_len);
        sio_record_key_clear(&k);
    }
done:
    free(ours);
    free(theirs);
    free(back);
}

/* ------------------------------------------------------------ the draft vector */

/* draft-irtf-cfrg-xchacha-03, A.3.1 (AEAD_XChaCha20_Poly1305). */
static const char *const kat_pt = "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
                                  "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
                                  "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
                                  "637265656e20776f756c642062652069742e";
static const char *const kat_ad = "50515253c0c1c2c3c4c5c6c7";
static const char *const kat_key =
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char *const kat_nonce = "404142434445464748494a4b4c4d4e4f5051525354555657";
static const char *const kat_ct = "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
                                  "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
                                  "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
                                  "21f9664c97637da9768812f615c68b13b52e";
static const char *const kat_tag = "c0875924c1c7987947deafd8780acf49";

static void test_draft_vector(void)
{
    uint8_t pt[114], ad[12], key[32], nonce[24], want[114 + TAG], got[114 + TAG], back[114];
    from_hex(kat_pt, pt, sizeof pt);
    from_hex(kat_ad, ad, sizeof ad);
    from_hex(kat_key, key, sizeof key);
    from_hex(kat_nonce, nonce, sizeof nonce);
    from_hex(kat_ct, want, sizeof pt);
    from_hex(kat_tag, want + sizeof pt, TAG);

    CHECK_EQ_INT(sio_xchacha20poly1305_seal(got, key, nonce, ad, sizeof ad, pt, sizeof pt),
                 SECUREIO_OK);
    CHECK_MEM(got, want, sizeof got);
    CHECK_EQ_INT(sio_xchacha20poly1305_open(back, key, nonce, ad, sizeof ad, want, sizeof want),
                 SECUREIO_OK);
    CHECK_MEM(back, pt, sizeof pt);
    /* as a record: prefix = nonce[0..16], counter = LE64(nonce[16..24]) */
    sio_record_key k;
    if (CHECK_EQ_INT(sio_record_key_init(&k, key, nonce), SECUREIO_OK)) {
        memset(got, 0, sizeof got);
        CHECK_EQ_INT(sio_record_seal(&k, got, 0x5756555453525150u, ad, sizeof ad, pt, sizeof pt),
                     SECUREIO_OK);
        CHECK_MEM(got, want, sizeof got);
        memset(back, 0, sizeof back);
        CHECK_EQ_INT(
            sio_record_open(&k, back, 0x5756555453525150u, ad, sizeof ad, want, sizeof want),
            SECUREIO_OK);
        CHECK_MEM(back, pt, sizeof pt);
        sio_record_key_clear(&k);
    }
    /* and libsodium agrees with the draft */
    unsigned long long clen;
    CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(got, &clen, pt, sizeof pt, ad, sizeof ad, NULL,
                                                     nonce, key) == 0);
    CHECK_MEM(got, want, sizeof got);
}

/* ------------------------------------------------------------ random inputs */

static void test_random_small(void)
{
    uint8_t key[32], nonce[24], ad[300], pt[300];
    for (int i = 0; i < 4000; i++) {
        size_t ad_len = (size_t)(rnd() % 301), pt_len = (size_t)(rnd() % 301);
        /* some edge lengths more often */
        if (i % 7 == 0)
            ad_len = 0;
        if (i % 11 == 0)
            pt_len = 0;
        rnd_bytes(key, sizeof key);
        rnd_bytes(nonce, sizeof nonce);
        rnd_bytes(ad, ad_len);
        rnd_bytes(pt, pt_len);
        compare_with_sodium(key, nonce, ad_len ? ad : NULL, ad_len, pt_len ? pt : NULL, pt_len);
    }
}

static void test_random_large(void)
{
    static const size_t pt_lens[] = {(1u << 20), (1u << 20) + 1, (1u << 20) + 4097, (3u << 20) + 63,
                                     64,         65536};
    static const size_t ad_lens[] = {0, 13, 70000, 1u << 20, 1u << 20, 65536};
    size_t max = (4u << 20);
    uint8_t *pt = malloc(max), *ad = malloc(max), key[32], nonce[24];
    if (!CHECK(pt != NULL && ad != NULL))
        goto done;
    for (size_t i = 0; i < sizeof pt_lens / sizeof pt_lens[0]; i++) {
        rnd_bytes(key, sizeof key);
        rnd_bytes(nonce, sizeof nonce);
        rnd_bytes(pt, pt_lens[i]);
        rnd_bytes(ad, ad_lens[i]);
        compare_with_sodium(key, nonce, ad, ad_lens[i], pt, pt_lens[i]);
    }
done:
    free(pt);
    free(ad);
}

/* ------------------------------------------------------------ counters */

static void test_counters(void)
{
    static const uint64_t counters[] = {0,
                                        1,
                                        2,
                                        (uint64_t)1 << 32,
                                        ((uint64_t)1 << 32) - 1,
                                        (uint64_t)1 << 63,
                                        UINT64_MAX - 1,
                                        UINT64_MAX};
    uint8_t key[32], prefix[16], nonce[24], ad[21], pt[200];
    uint8_t ours[200 + TAG], theirs[200 + TAG], back[200];
    rnd_bytes(key, sizeof key);
    rnd_bytes(prefix, sizeof prefix);
    rnd_bytes(ad, sizeof ad);
    rnd_bytes(pt, sizeof pt);
    memcpy(nonce, prefix, 16);
    sio_record_key k;
    if (!CHECK_EQ_INT(sio_record_key_init(&k, key, prefix), SECUREIO_OK))
        return;
    /* one key sealing and opening in turns (the direction changes each call) */
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        uint64_t c = counters[i];
        unsigned long long clen, mlen;
        store64_le(nonce + 16, c);
        CHECK_EQ_INT(sio_record_seal(&k, ours, c, ad, sizeof ad, pt, sizeof pt), SECUREIO_OK);
        CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(theirs, &clen, pt, sizeof pt, ad,
                                                         sizeof ad, NULL, nonce, key) == 0);
        CHECK_MEM(ours, theirs, sizeof ours);
        CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(back, &mlen, NULL, ours, sizeof ours, ad,
                                                         sizeof ad, nonce, key) == 0);
        CHECK_MEM(back, pt, sizeof pt);
        memset(back, 0, sizeof back);
        CHECK_EQ_INT(sio_record_open(&k, back, c, ad, sizeof ad, theirs, sizeof theirs),
                     SECUREIO_OK);
        CHECK_MEM(back, pt, sizeof pt);
        /* a second open, then a seal, on the same key: no state leaks */
        CHECK_EQ_INT(sio_record_open(&k, back, c, ad, sizeof ad, theirs, sizeof theirs),
                     SECUREIO_OK);
    }
    /* distinct counters give distinct records */
    uint8_t a[16 + TAG], b[16 + TAG];
    CHECK_EQ_INT(sio_record_seal(&k, a, 0, NULL, 0, pt, 16), SECUREIO_OK);
    CHECK_EQ_INT(sio_record_seal(&k, b, (uint64_t)1 << 32, NULL, 0, pt, 16), SECUREIO_OK);
    CHECK(memcmp(a, b, sizeof a) != 0);
    sio_record_key_clear(&k);
}

/* ------------------------------------------------------------ forgeries */

#define F_PT 40u
#define F_AD 20u

static int open_is_refused(sio_record_key *k, uint64_t counter, const uint8_t *ad, size_t ad_len,
                           const uint8_t *ct, size_t ct_len)
{
    uint8_t pt[F_PT + 8];
    memset(pt, 0xaa, sizeof pt);
    int rc = sio_record_open(k, pt, counter, ad, ad_len, ct, ct_len);
    size_t pt_len = ct_len >= TAG ? ct_len - TAG : 0;
    /* refused, the plaintext wiped, nothing written past it */
    return rc == SECUREIO_ERR_AUTH && all_zero(pt, pt_len) && pt[pt_len] == 0xaa &&
           pt[F_PT + 7] == 0xaa;
}

static void test_forgeries(void)
{
    uint8_t key[32], prefix[16], ad[F_AD], pt[F_PT], ct[F_PT + TAG], back[F_PT];
    const uint64_t counter = 0x0123456789abcdefu;
    rnd_bytes(key, sizeof key);
    rnd_bytes(prefix, sizeof prefix);
    rnd_bytes(ad, sizeof ad);
    rnd_bytes(pt, sizeof pt);
    sio_record_key k;
    if (!CHECK_EQ_INT(sio_record_key_init(&k, key, prefix), SECUREIO_OK))
        return;
    CHECK_EQ_INT(sio_record_seal(&k, ct, counter, ad, sizeof ad, pt, sizeof pt), SECUREIO_OK);
    CHECK_EQ_INT(sio_record_open(&k, back, counter, ad, sizeof ad, ct, sizeof ct), SECUREIO_OK);
    CHECK_MEM(back, pt, sizeof pt);

    int refused = 0, total = 0;
    /* every bit of the ciphertext and the tag */
    for (size_t i = 0; i < sizeof ct * 8; i++, total++) {
        ct[i / 8] ^= (uint8_t)(1u << (i % 8));
        refused += open_is_refused(&k, counter, ad, sizeof ad, ct, sizeof ct);
        ct[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    /* every bit of the associated data */
    for (size_t i = 0; i < sizeof ad * 8; i++, total++) {
        ad[i / 8] ^= (uint8_t)(1u << (i % 8));
        refused += open_is_refused(&k, counter, ad, sizeof ad, ct, sizeof ct);
        ad[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    /* wrong counters: each bit flipped, neighbours, the extremes */
    for (int b = 0; b < 64; b++, total++)
        refused += open_is_refused(&k, counter ^ ((uint64_t)1 << b), ad, sizeof ad, ct, sizeof ct);
    static const uint64_t others[] = {counter - 1, counter + 1, 0, 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++, total++)
        refused += open_is_refused(&k, others[i], ad, sizeof ad, ct, sizeof ct);
    /* associated data dropped, shortened, lengthened; ciphertext truncated */
    refused += open_is_refused(&k, counter, NULL, 0, ct, sizeof ct);
    refused += open_is_refused(&k, counter, ad, sizeof ad - 1, ct, sizeof ct);
    uint8_t ad2[F_AD + 1];
    memcpy(ad2, ad, sizeof ad);
    ad2[F_AD] = 0;
    refused += open_is_refused(&k, counter, ad2, sizeof ad2, ct, sizeof ct);
    refused += open_is_refused(&k, counter, ad, sizeof ad, ct, sizeof ct - 1);
    refused += open_is_refused(&k, counter, ad, sizeof ad, ct + 1, sizeof ct - 1);
    refused += open_is_refused(&k, counter, ad, sizeof ad, ct, TAG);
    refused += open_is_refused(&k, counter, ad, sizeof ad, ct, TAG - 1);
    refused += open_is_refused(&k, counter, ad, sizeof ad, ct, 0);
    total += 8;
    CHECK_EQ_INT(refused, total);

    /* another prefix, another key: refused */
    sio_record_key other;
    prefix[0] ^= 1;
    if (CHECK_EQ_INT(sio_record_key_init(&other, key, prefix), SECUREIO_OK)) {
        CHECK(open_is_refused(&other, counter, ad, sizeof ad, ct, sizeof ct));
        sio_record_key_clear(&other);
    }
    prefix[0] ^= 1;
    key[31] ^= 0x80;
    if (CHECK_EQ_INT(sio_record_key_init(&other, key, prefix), SECUREIO_OK)) {
        CHECK(open_is_refused(&other, counter, ad, sizeof ad, ct, sizeof ct));
        sio_record_key_clear(&other);
    }
    key[31] ^= 0x80;

    /* a forgery opened in place: the buffer is wiped */
    uint8_t buf[F_PT + TAG];
    memcpy(buf, ct, sizeof buf);
    buf[F_PT] ^= 1;
    CHECK_EQ_INT(sio_record_open(&k, buf, counter, ad, sizeof ad, buf, sizeof buf),
                 SECUREIO_ERR_AUTH);
    CHECK(all_zero(buf, F_PT));
    /* the one-shot open refuses and wipes too */
    uint8_t nonce[24];
    memcpy(nonce, prefix, 16);
    store64_le(nonce + 16, counter);
    memset(back, 0xaa, sizeof back);
    CHECK_EQ_INT(sio_xchacha20poly1305_open(back, key, nonce, ad, sizeof ad, buf, sizeof buf),
                 SECUREIO_ERR_AUTH);
    CHECK(all_zero(back, sizeof back));
    /* and the key still works after all that */
    CHECK_EQ_INT(sio_record_open(&k, back, counter, ad, sizeof ad, ct, sizeof ct), SECUREIO_OK);
    CHECK_MEM(back, pt, sizeof pt);
    sio_record_key_clear(&k);
}

/* ------------------------------------------------------------ in place */

static void test_in_place(void)
{
    static const size_t lens[] = {0, 1, 63, 64, 65, 1400, 16384, 100000};
    uint8_t key[32], prefix[16], ad[16];
    rnd_bytes(key, sizeof key);
    rnd_bytes(prefix, sizeof prefix);
    rnd_bytes(ad, sizeof ad);
    sio_record_key k;
    if (!CHECK_EQ_INT(sio_record_key_init(&k, key, prefix), SECUREIO_OK))
        return;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i];
        uint8_t *pt = malloc(n + 1), *want = malloc(n + TAG), *buf = malloc(n + TAG);
        if (!CHECK(pt != NULL && want != NULL && buf != NULL))
            break;
        rnd_bytes(pt, n);
        CHECK_EQ_INT(sio_record_seal(&k, want, 77 + i, ad, sizeof ad, pt, n), SECUREIO_OK);
        memcpy(buf, pt, n);
        CHECK_EQ_INT(sio_record_seal(&k, buf, 77 + i, ad, sizeof ad, buf, n), SECUREIO_OK);
        CHECK_MEM(buf, want, n + TAG);
        CHECK_EQ_INT(sio_record_open(&k, buf, 77 + i, ad, sizeof ad, buf, n + TAG), SECUREIO_OK);
        CHECK_MEM(buf, pt, n);
        /* the one-shot functions in place */
        uint8_t nonce[24];
        memcpy(nonce, prefix, 16);
        store64_le(nonce + 16, 77 + i);
        memcpy(buf, pt, n);
        CHECK_EQ_INT(sio_xchacha20poly1305_seal(buf, key, nonce, ad, sizeof ad, buf, n),
                     SECUREIO_OK);
        CHECK_MEM(buf, want, n + TAG);
        CHECK_EQ_INT(sio_xchacha20poly1305_open(buf, key, nonce, ad, sizeof ad, buf, n + TAG),
                     SECUREIO_OK);
        CHECK_MEM(buf, pt, n);
        free(pt);
        free(want);
        free(buf);
    }
    sio_record_key_clear(&k);
}

/* ------------------------------------------------------------ arguments */

static void test_arguments(void)
{
    uint8_t key[32] = {1}, prefix[16] = {2}, buf[64];
    sio_record_key k = {NULL}, unset = {NULL};
    CHECK_EQ_INT(sio_record_key_init(NULL, key, prefix), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_record_key_init(&k, NULL, prefix), SECUREIO_ERR_ARG);
    CHECK(k.ctx == NULL);
    CHECK_EQ_INT(sio_record_key_init(&k, key, NULL), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_record_seal(&unset, buf, 0, NULL, 0, buf, 8), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_record_open(&unset, buf, 0, NULL, 0, buf, 24), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_record_seal(NULL, buf, 0, NULL, 0, buf, 8), SECUREIO_ERR_ARG);
    if (!CHECK_EQ_INT(sio_record_key_init(&k, key, prefix), SECUREIO_OK))
        return;
    CHECK_EQ_INT(sio_record_seal(&k, NULL, 0, NULL, 0, buf, 8), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_record_seal(&k, buf, 0, NULL, 0, NULL, 8), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_record_seal(&k, buf, 0, NULL, 5, buf, 8), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_record_open(&k, NULL, 0, NULL, 0, buf, 24), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_record_open(&k, buf, 0, NULL, 0, NULL, 24), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_record_open(&k, buf, 0, NULL, 3, buf, 24), SECUREIO_ERR_ARG);
    /* empty plaintext and NULL buffers of length 0 */
    uint8_t tag[TAG];
    CHECK_EQ_INT(sio_record_seal(&k, tag, 9, NULL, 0, NULL, 0), SECUREIO_OK);
    CHECK_EQ_INT(sio_record_open(&k, NULL, 9, NULL, 0, tag, TAG), SECUREIO_OK);
    tag[0] ^= 1;
    CHECK_EQ_INT(sio_record_open(&k, NULL, 9, NULL, 0, tag, TAG), SECUREIO_ERR_AUTH);
    /* a size beyond the record limit (not read: refused first) */
    if (sizeof(size_t) > 4) {
        size_t huge = (size_t)SIO_RECORD_MAX_PT + 1;
        CHECK_EQ_INT(sio_record_seal(&k, buf, 0, NULL, 0, buf, huge), SECUREIO_ERR_LIMIT);
        CHECK_EQ_INT(sio_record_open(&k, buf, 0, NULL, 0, buf, huge + TAG), SECUREIO_ERR_AUTH);
    }
    /* clear is idempotent; a cleared key refuses */
    sio_record_key_clear(&k);
    CHECK(k.ctx == NULL);
    sio_record_key_clear(&k);
    sio_record_key_clear(NULL);
    CHECK_EQ_INT(sio_record_seal(&k, buf, 0, NULL, 0, buf, 8), SECUREIO_ERR_ARG);
    /* one-shot argument checks */
    uint8_t nonce[24] = {0};
    CHECK_EQ_INT(sio_xchacha20poly1305_seal(buf, key, NULL, NULL, 0, buf, 8), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_xchacha20poly1305_seal(buf, NULL, nonce, NULL, 0, buf, 8), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_xchacha20poly1305_open(buf, key, NULL, NULL, 0, buf, 24), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(sio_xchacha20poly1305_open(buf, key, nonce, NULL, 0, buf, 15), SECUREIO_ERR_AUTH);
}

/* ------------------------------------------------------------ over INT_MAX */

static void test_huge(void)
{
    const char *env = getenv("SECUREIO_TEST_HUGE");
    if (env == NULL || strcmp(env, "1") != 0 || sizeof(size_t) <= 4)
        return;
    size_t n = ((size_t)1 << 31) + 4099; /* > INT_MAX, pieces of 2^30 */
    uint8_t *buf = malloc(n + TAG), *theirs = malloc(n + TAG), key[32], nonce[24];
    if (!CHECK(buf != NULL && theirs != NULL))
        goto done;
    rnd_bytes(key, sizeof key);
    rnd_bytes(nonce, sizeof nonce);
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 131u >> 3);
    unsigned long long clen;
    CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(theirs, &clen, buf, n, NULL, 0, NULL, nonce,
                                                     key) == 0);
    CHECK_EQ_INT(sio_xchacha20poly1305_seal(buf, key, nonce, NULL, 0, buf, n), SECUREIO_OK);
    CHECK(memcmp(buf, theirs, n + TAG) == 0);
    CHECK_EQ_INT(sio_xchacha20poly1305_open(buf, key, nonce, NULL, 0, buf, n + TAG), SECUREIO_OK);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++)
        ok = buf[i] == (uint8_t)(i * 131u >> 3);
    CHECK(ok);
    /* associated data over INT_MAX too: the ciphertext as AD of an empty record */
    uint8_t tag[TAG], tag2[TAG];
    CHECK_EQ_INT(sio_xchacha20poly1305_seal(tag, key, nonce, theirs, n, NULL, 0), SECUREIO_OK);
    CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(tag2, &clen, NULL, 0, theirs, n, NULL, nonce,
                                                     key) == 0);
    CHECK_MEM(tag, tag2, TAG);
    printf("huge record (%zu bytes) checked\n", n);
done:
    free(buf);
    free(theirs);
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    test_draft_vector();
    test_random_small();
    test_random_large();
    test_counters();
    test_forgeries();
    test_in_place();
    test_arguments();
    test_huge();
    return test_summary("record");
}
