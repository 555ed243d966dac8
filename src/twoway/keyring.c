/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receiver's key ring: (key id, suite, borrowed private key) entries
 * behind a read-write lock. Lookups, receiver setups and exports take the
 * read lock; additions and removals the write lock, so a removal waits for
 * every setup still using the key and, once it returns, the ring no longer
 * touches that key.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* glibc: writer-preferring read-write locks */
#endif
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* pthread_rwlock_t under -std=c11 */
#endif

#include "twoway/keyring_internal.h"
#include "twoway/hpke_internal.h"

#include "common/util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct ring_entry {
    uint8_t key_id;
    twoway_hpke_suite suite;
    const twoway_hpke_key *key; /* borrowed, or owned (freed with its last entry) */
    int owned;
} ring_entry;

struct twoway_keyring {
    /* The lock lives beside the ring but is reached through a pointer, so
     * that const functions (lookups) can take it without casting. */
    pthread_rwlock_t *lock;
    pthread_rwlock_t lock_storage;
    ring_entry *entries;
    size_t n, cap;
};

/* The largest application/ohttp-keys entry: its length prefix is 16 bits. */
#define RING_MAX_CONFIG_LEN 65535u

int twoway_keyring_new(twoway_keyring **out)
{
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    twoway_keyring *ring = calloc(1, sizeof *ring);
    if (ring == NULL)
        return TWOWAY_ERR_NOMEM;
    pthread_rwlockattr_t attr;
    if (pthread_rwlockattr_init(&attr) != 0) {
        free(ring);
        return TWOWAY_ERR_NOMEM;
    }
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    /* glibc prefers readers by default: a steady flow of requests could then
     * hold off a rotation forever. Readers never lock recursively here. */
    (void)pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    int err = pthread_rwlock_init(&ring->lock_storage, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (err != 0) {
        free(ring);
        return TWOWAY_ERR_NOMEM;
    }
    ring->lock = &ring->lock_storage;
    *out = ring;
    return TWOWAY_OK;
}

/* 1 if an entry other than skip holds key. Under a lock (or alone). */
static int key_used_elsewhere(const twoway_keyring *ring, size_t skip, const twoway_hpke_key *key)
{
    for (size_t j = 0; j < ring->n; j++)
        if (j != skip && ring->entries[j].key == key)
            return 1;
    return 0;
}

void twoway_keyring_free(twoway_keyring *ring)
{
    if (ring == NULL)
        return;
    /* each owned key once: with the last entry that holds it */
    for (size_t i = ring->n; i-- > 0;) {
        ring->n = i + 1;
        if (ring->entries[i].owned && !key_used_elsewhere(ring, i, ring->entries[i].key))
            twoway_hpke_key_free((twoway_hpke_key *)(uintptr_t)ring->entries[i].key);
    }
    pthread_rwlock_destroy(ring->lock);
    free(ring->entries);
    free(ring);
}

static int read_lock(const twoway_keyring *ring)
{
    return pthread_rwlock_rdlock(ring->lock) == 0 ? TWOWAY_OK : TWOWAY_ERR_STATE;
}

static int write_lock(twoway_keyring *ring)
{
    return pthread_rwlock_wrlock(ring->lock) == 0 ? TWOWAY_OK : TWOWAY_ERR_STATE;
}

static void unlock(const twoway_keyring *ring)
{
    pthread_rwlock_unlock(ring->lock);
}

static int entry_is(const ring_entry *e, uint8_t key_id, uint16_t kem_id, uint16_t kdf_id,
                    uint16_t aead_id)
{
    return e->key_id == key_id && e->suite.kem->id == kem_id && e->suite.kdf->id == kdf_id &&
           e->suite.aead->id == aead_id;
}

/* Index of the entry with these ids, or ring->n. Under a lock. */
static size_t find(const twoway_keyring *ring, uint8_t key_id, uint16_t kem_id, uint16_t kdf_id,
                   uint16_t aead_id)
{
    size_t i = 0;
    while (i < ring->n && !entry_is(&ring->entries[i], key_id, kem_id, kdf_id, aead_id))
        i++;
    return i;
}

/* Whether key may be added under suite. */
static int entry_check(const twoway_hpke_suite *suite, const twoway_hpke_key *key)
{
    if (suite == NULL || key == NULL)
        return TWOWAY_ERR_ARG;
    int rc = hpke_suite_check(suite);
    if (rc != TWOWAY_OK)
        return rc;
    /* Requests must be sealed: an export-only suite cannot carry one. */
    if (suite->aead->id == TWOWAY_HPKE_AEAD_EXPORT_ONLY || suite->aead->seal == NULL ||
        suite->aead->open == NULL)
        return TWOWAY_ERR_ARG;
    if (twoway_hpke_key_kem(key) != suite->kem || !twoway_hpke_key_is_private(key))
        return TWOWAY_ERR_ARG;
    size_t pk_len = 0;
    if (twoway_hpke_key_public(key, &pk_len) == NULL || pk_len != suite->kem->public_key_len)
        return TWOWAY_ERR_ARG;
    return TWOWAY_OK;
}

/* Room for n more entries. Under the write lock. */
static int reserve(twoway_keyring *ring, size_t n)
{
    size_t need;
    if (util_add_overflow(ring->n, n, &need))
        return TWOWAY_ERR_NOMEM;
    if (need <= ring->cap)
        return TWOWAY_OK;
    size_t cap = ring->cap == 0 ? 4 : ring->cap;
    while (cap < need)
        if (__builtin_mul_overflow(cap, (size_t)2, &cap))
            return TWOWAY_ERR_NOMEM;
    size_t bytes;
    if (__builtin_mul_overflow(cap, sizeof(ring_entry), &bytes))
        return TWOWAY_ERR_NOMEM;
    ring_entry *grown = realloc(ring->entries, bytes);
    if (grown == NULL)
        return TWOWAY_ERR_NOMEM;
    ring->entries = grown;
    ring->cap = cap;
    return TWOWAY_OK;
}

int tw_keyring_add_entries(twoway_keyring *ring, uint8_t key_id, const twoway_hpke_suite *suites,
                           size_t n, const twoway_hpke_key *key, int owned)
{
    if (ring == NULL || suites == NULL || n == 0)
        return TWOWAY_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        int rc = entry_check(&suites[i], key);
        if (rc != TWOWAY_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (suites[j].kdf->id == suites[i].kdf->id &&
                suites[j].aead->id == suites[i].aead->id && suites[j].kem->id == suites[i].kem->id)
                return TWOWAY_ERR_ARG; /* twice in one call */
    }
    int rc = write_lock(ring);
    if (rc != TWOWAY_OK)
        return rc;
    for (size_t i = 0; i < n && rc == TWOWAY_OK; i++)
        if (find(ring, key_id, suites[i].kem->id, suites[i].kdf->id, suites[i].aead->id) < ring->n)
            rc = TWOWAY_ERR_ARG;
    if (rc == TWOWAY_OK)
        rc = reserve(ring, n);
    for (size_t i = 0; i < n && rc == TWOWAY_OK; i++) {
        ring_entry *e = &ring->entries[ring->n++];
        e->key_id = key_id;
        e->suite = suites[i];
        e->key = key;
        e->owned = owned;
    }
    unlock(ring);
    return rc;
}

int twoway_keyring_add(twoway_keyring *ring, uint8_t key_id, const twoway_hpke_suite *suite,
                       const twoway_hpke_key *key)
{
    if (suite == NULL)
        return TWOWAY_ERR_ARG;
    return tw_keyring_add_entries(ring, key_id, suite, 1, key, 0);
}

int tw_keyring_suites_of(const twoway_key_config *cfg, const twoway_hpke_key *key,
                         twoway_hpke_suite suites[TWOWAY_KEY_CONFIG_MAX_SUITES])
{
    if (cfg == NULL || key == NULL || cfg->n_suites == 0 ||
        cfg->n_suites > TWOWAY_KEY_CONFIG_MAX_SUITES)
        return TWOWAY_ERR_ARG;
    const twoway_hpke_kem *kem = twoway_hpke_key_kem(key);
    size_t pk_len = 0;
    const uint8_t *pk = twoway_hpke_key_public(key, &pk_len);
    /* the configuration must be this key's */
    if (kem == NULL || kem->id != cfg->kem_id || pk == NULL || pk_len != cfg->public_key_len ||
        memcmp(pk, cfg->public_key, pk_len) != 0)
        return TWOWAY_ERR_ARG;
    for (size_t i = 0; i < cfg->n_suites; i++) {
        suites[i].kem = kem;
        suites[i].kdf = twoway_hpke_kdf_by_id(cfg->suites[i].kdf_id);
        suites[i].aead = twoway_hpke_aead_by_id(cfg->suites[i].aead_id);
        if (suites[i].kdf == NULL || suites[i].aead == NULL)
            return TWOWAY_ERR_UNSUPPORTED;
    }
    return TWOWAY_OK;
}

int twoway_keyring_add_config(twoway_keyring *ring, const twoway_key_config *cfg,
                              const twoway_hpke_key *key)
{
    twoway_hpke_suite suites[TWOWAY_KEY_CONFIG_MAX_SUITES];
    if (ring == NULL)
        return TWOWAY_ERR_ARG;
    int rc = tw_keyring_suites_of(cfg, key, suites);
    if (rc != TWOWAY_OK)
        return rc;
    return tw_keyring_add_entries(ring, cfg->key_id, suites, cfg->n_suites, key, 0);
}

int twoway_keyring_remove(twoway_keyring *ring, uint8_t key_id, uint16_t kem_id, uint16_t kdf_id,
                          uint16_t aead_id)
{
    if (ring == NULL)
        return TWOWAY_ERR_ARG;
    int rc = write_lock(ring);
    if (rc != TWOWAY_OK)
        return rc;
    size_t i = find(ring, key_id, kem_id, kdf_id, aead_id);
    twoway_hpke_key *drop = NULL;
    if (i == ring->n) {
        rc = TWOWAY_ERR_KEY_MISMATCH;
    } else {
        if (ring->entries[i].owned && !key_used_elsewhere(ring, i, ring->entries[i].key))
            drop = (twoway_hpke_key *)(uintptr_t)ring->entries[i].key;
        memmove(&ring->entries[i], &ring->entries[i + 1], (ring->n - i - 1) * sizeof(ring_entry));
        ring->n--;
        rc = TWOWAY_OK;
    }
    unlock(ring);
    /* no setup can be using it: they run under the read lock */
    twoway_hpke_key_free(drop);
    return rc;
}

size_t twoway_keyring_count(const twoway_keyring *ring)
{
    if (ring == NULL || read_lock(ring) != TWOWAY_OK)
        return 0;
    size_t n = ring->n;
    unlock(ring);
    return n;
}

/* ------------------------------------------------------------------ export */

/* 1 if an entry before i has the same key id and key (its configuration is
 * written already). */
static int config_written(const twoway_keyring *ring, size_t i)
{
    const ring_entry *e = &ring->entries[i];
    for (size_t j = 0; j < i; j++)
        if (ring->entries[j].key_id == e->key_id && ring->entries[j].key == e->key)
            return 1;
    return 0;
}

/* Length of the configuration that starts with entry i (without the prefix). */
static size_t config_len(const twoway_keyring *ring, size_t i)
{
    const ring_entry *e = &ring->entries[i];
    size_t pairs = 0;
    for (size_t k = i; k < ring->n; k++)
        pairs += ring->entries[k].key_id == e->key_id && ring->entries[k].key == e->key;
    /* public_key_len <= 65535 and pairs <= n: no overflow on any size_t this
     * library supports that could hold n entries. */
    return 1 + 2 + (size_t)e->suite.kem->public_key_len + 2 + 4 * pairs;
}

/* Writes len(2) || the configuration that starts with entry i (len bytes,
 * from config_len) to out. */
static void config_write(const twoway_keyring *ring, size_t i, uint8_t *out, size_t len)
{
    const ring_entry *e = &ring->entries[i];
    size_t pk_len = 0, off = 0;
    const uint8_t *pk = twoway_hpke_key_public(e->key, &pk_len);
    util_store16_be(out, (uint16_t)len);
    off += 2;
    out[off++] = e->key_id;
    util_store16_be(out + off, e->suite.kem->id);
    off += 2;
    memcpy(out + off, pk, pk_len);
    off += pk_len;
    size_t sym_at = off; /* the algorithms' length, written once they are */
    off += 2;
    for (size_t k = i; k < ring->n; k++) {
        const ring_entry *x = &ring->entries[k];
        if (x->key_id != e->key_id || x->key != e->key)
            continue;
        util_store16_be(out + off, x->suite.kdf->id);
        util_store16_be(out + off + 2, x->suite.aead->id);
        off += 4;
    }
    util_store16_be(out + sym_at, (uint16_t)(off - sym_at - 2));
}

int twoway_keyring_export_configs(const twoway_keyring *ring, uint8_t *out, size_t *out_len)
{
    if (ring == NULL || out_len == NULL || (out == NULL && *out_len > 0))
        return TWOWAY_ERR_ARG;
    int rc = read_lock(ring);
    if (rc != TWOWAY_OK)
        return rc;
    size_t total = 0;
    if (ring->n == 0) {
        rc = TWOWAY_ERR_STATE;
        goto out;
    }
    for (size_t i = 0; i < ring->n; i++) {
        if (config_written(ring, i))
            continue;
        size_t len = config_len(ring, i);
        if (len > RING_MAX_CONFIG_LEN) {
            rc = TWOWAY_ERR_TOO_BIG;
            goto out;
        }
        if (util_add_overflow(total, 2 + len, &total)) {
            rc = TWOWAY_ERR_TOO_BIG;
            goto out;
        }
    }
    if (*out_len < total) {
        *out_len = total;
        rc = TWOWAY_ERR_BUFFER;
        goto out;
    }
    size_t off = 0;
    for (size_t i = 0; i < ring->n; i++) {
        if (config_written(ring, i))
            continue;
        size_t len = config_len(ring, i);
        config_write(ring, i, out + off, len);
        off += 2 + len;
    }
    *out_len = total;
    rc = TWOWAY_OK;
out:
    unlock(ring);
    return rc;
}

/* ----------------------------------------------------------------- lookups */

/* Index of the entry for hdr, or ring->n. Under the read lock. */
static size_t find_header(const twoway_keyring *ring, const uint8_t *hdr)
{
    return find(ring, hdr[0], util_load16_be(hdr + 1), util_load16_be(hdr + 3),
                util_load16_be(hdr + 5));
}

/* The error for a header no entry matches. */
static int no_match(const uint8_t *hdr)
{
    uint16_t aead_id = util_load16_be(hdr + 5);
    if (twoway_hpke_kem_by_id(util_load16_be(hdr + 1)) == NULL ||
        twoway_hpke_kdf_by_id(util_load16_be(hdr + 3)) == NULL ||
        twoway_hpke_aead_by_id(aead_id) == NULL || aead_id == TWOWAY_HPKE_AEAD_EXPORT_ONLY)
        return TWOWAY_ERR_HEADER;
    return TWOWAY_ERR_KEY_MISMATCH;
}

int tw_keyring_lookup(const twoway_keyring *ring, const uint8_t *hdr, twoway_hpke_suite *suite)
{
    if (ring == NULL || hdr == NULL || suite == NULL)
        return TWOWAY_ERR_ARG;
    int rc = read_lock(ring);
    if (rc != TWOWAY_OK)
        return rc;
    size_t i = find_header(ring, hdr);
    if (i < ring->n) {
        *suite = ring->entries[i].suite;
        rc = TWOWAY_OK;
    } else {
        rc = no_match(hdr);
    }
    unlock(ring);
    return rc;
}

int tw_keyring_setup_receiver(const twoway_keyring *ring, const uint8_t *hdr, const uint8_t *enc,
                              size_t enc_len, const uint8_t *info, size_t info_len,
                              twoway_hpke_ctx **ctx, twoway_hpke_suite *suite)
{
    if (ctx != NULL)
        *ctx = NULL;
    if (ring == NULL || hdr == NULL || ctx == NULL)
        return TWOWAY_ERR_ARG;
    int rc = read_lock(ring);
    if (rc != TWOWAY_OK)
        return rc;
    size_t i = find_header(ring, hdr);
    if (i < ring->n) {
        /* A copy: the entry may move once the lock is released. */
        const ring_entry e = ring->entries[i];
        if (suite != NULL)
            *suite = e.suite;
        rc = twoway_hpke_setup_receiver(ctx, &e.suite, enc, enc_len, e.key, info, info_len, NULL);
    } else {
        rc = no_match(hdr);
    }
    unlock(ring);
    return rc;
}
