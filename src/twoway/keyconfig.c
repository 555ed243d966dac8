/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OHTTP key configurations (RFC 9458 §3) and application/ohttp-keys lists.
 *
 *   Key Config {
 *     Key Identifier (8),
 *     HPKE KEM ID (16),
 *     HPKE Public Key (Npk * 8),
 *     HPKE Symmetric Algorithms Length (16) = 4..65532,
 *     HPKE Symmetric Algorithms (32) = 1..,     -- KDF ID (16), AEAD ID (16)
 *   }
 *   application/ohttp-keys = 1*( Length (16) || Key Config )
 *
 * Npk is only known for the built-in KEMs, so a configuration of another KEM
 * cannot be decoded on its own; inside a list its length prefix lets it be
 * skipped. Every length is checked before it is used; nothing here reads past
 * in_len or writes past *out_len.
 */
#include <twoway/keyring.h>

#include "common/util.h"

#include <string.h>

/* key_id(1) || kem_id(2) */
#define KC_HEAD_LEN 3u
/* the symmetric algorithms length field */
#define KC_SYM_LEN_LEN 2u
#define KC_PAIR_LEN 4u
/* largest Symmetric Algorithms Length a 16-bit field can hold as a multiple of 4 */
#define KC_MAX_SYM_LEN 65532u
#define KC_LIST_PREFIX_LEN 2u

/* A (KDF, AEAD) pair a configuration may keep: both built in, AEAD not export-only. */
static int pair_known(uint16_t kdf_id, uint16_t aead_id)
{
    return twoway_hpke_kdf_by_id(kdf_id) != NULL && aead_id != TWOWAY_HPKE_AEAD_EXPORT_ONLY &&
           twoway_hpke_aead_by_id(aead_id) != NULL;
}

/* The encoded size of cfg, after checking it can be encoded. */
static int config_size(const twoway_key_config *cfg, size_t *size)
{
    if (cfg == NULL || cfg->n_suites == 0 || cfg->n_suites > TWOWAY_KEY_CONFIG_MAX_SUITES ||
        cfg->public_key_len == 0 || cfg->public_key_len > TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN)
        return TWOWAY_ERR_ARG;
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(cfg->kem_id);
    if (kem != NULL && cfg->public_key_len != kem->public_key_len)
        return TWOWAY_ERR_ARG;
    /* All terms are small (bounded by the two limits above): no overflow. */
    *size = KC_HEAD_LEN + cfg->public_key_len + KC_SYM_LEN_LEN + KC_PAIR_LEN * cfg->n_suites;
    return TWOWAY_OK;
}

/* Writes cfg (already checked by config_size) to out, which has room for it. */
static void config_write(const twoway_key_config *cfg, uint8_t *out)
{
    size_t off = 0;
    out[off++] = cfg->key_id;
    util_store16_be(out + off, cfg->kem_id);
    off += 2;
    memcpy(out + off, cfg->public_key, cfg->public_key_len);
    off += cfg->public_key_len;
    util_store16_be(out + off, (uint16_t)(KC_PAIR_LEN * cfg->n_suites));
    off += 2;
    for (size_t i = 0; i < cfg->n_suites; i++) {
        util_store16_be(out + off, cfg->suites[i].kdf_id);
        util_store16_be(out + off + 2, cfg->suites[i].aead_id);
        off += KC_PAIR_LEN;
    }
}

int twoway_key_config_encode(const twoway_key_config *cfg, uint8_t *out, size_t *out_len)
{
    size_t size;
    if (out_len == NULL || (out == NULL && *out_len > 0))
        return TWOWAY_ERR_ARG;
    int rc = config_size(cfg, &size);
    if (rc != TWOWAY_OK)
        return rc;
    if (*out_len < size) {
        *out_len = size;
        return TWOWAY_ERR_BUFFER;
    }
    config_write(cfg, out);
    *out_len = size;
    return TWOWAY_OK;
}

/*
 * Decodes one configuration from in[0..in_len). On TWOWAY_OK, and on
 * TWOWAY_ERR_UNSUPPORTED because no (KDF, AEAD) pair is known, *len is the
 * configuration's length; it is 0 on every other error. An unknown KEM is
 * TWOWAY_ERR_UNSUPPORTED with *len 0 (its length cannot be known).
 */
static int config_parse(twoway_key_config *cfg, const uint8_t *in, size_t in_len, size_t *len)
{
    *len = 0;
    if (in_len < KC_HEAD_LEN)
        return TWOWAY_ERR_FORMAT;
    uint16_t kem_id = util_load16_be(in + 1);
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(kem_id);
    if (kem == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    size_t npk = kem->public_key_len;
    if (npk == 0 || npk > TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN)
        return TWOWAY_ERR_UNSUPPORTED; /* cannot happen with the built-in table */

    size_t off = KC_HEAD_LEN;
    /* in_len >= off here; compare against what is left, never add to off first. */
    if (in_len - off < npk || in_len - off - npk < KC_SYM_LEN_LEN)
        return TWOWAY_ERR_FORMAT;
    const uint8_t *pk = in + off;
    off += npk;
    size_t sym_len = util_load16_be(in + off);
    off += KC_SYM_LEN_LEN;
    if (sym_len == 0 || sym_len % KC_PAIR_LEN != 0 || sym_len > KC_MAX_SYM_LEN)
        return TWOWAY_ERR_FORMAT;
    if (in_len - off < sym_len)
        return TWOWAY_ERR_FORMAT;

    /* The public key must be a valid point of the KEM. */
    twoway_hpke_key *key = NULL;
    int rc = twoway_hpke_key_import_public(kem, &key, pk, npk);
    twoway_hpke_key_free(key);
    if (rc == TWOWAY_ERR_NOMEM || rc == TWOWAY_ERR_CRYPTO)
        return rc;
    if (rc != TWOWAY_OK)
        return TWOWAY_ERR_KEY;

    cfg->key_id = in[0];
    cfg->kem_id = kem_id;
    cfg->public_key_len = npk;
    memcpy(cfg->public_key, pk, npk);
    cfg->n_suites = 0;
    for (size_t i = 0; i < sym_len; i += KC_PAIR_LEN) {
        uint16_t kdf_id = util_load16_be(in + off + i);
        uint16_t aead_id = util_load16_be(in + off + i + 2);
        if (!pair_known(kdf_id, aead_id))
            continue;
        int seen = 0;
        for (size_t j = 0; j < cfg->n_suites && !seen; j++)
            seen = cfg->suites[j].kdf_id == kdf_id && cfg->suites[j].aead_id == aead_id;
        if (seen || cfg->n_suites == TWOWAY_KEY_CONFIG_MAX_SUITES)
            continue; /* the built-in pairs are fewer than the limit */
        cfg->suites[cfg->n_suites].kdf_id = kdf_id;
        cfg->suites[cfg->n_suites].aead_id = aead_id;
        cfg->n_suites++;
    }
    *len = off + sym_len;
    return cfg->n_suites > 0 ? TWOWAY_OK : TWOWAY_ERR_UNSUPPORTED;
}

int twoway_key_config_decode(twoway_key_config *cfg, const uint8_t *in, size_t in_len,
                             size_t *consumed)
{
    if (consumed != NULL)
        *consumed = 0;
    if (cfg == NULL || (in == NULL && in_len > 0))
        return TWOWAY_ERR_ARG;
    twoway_key_config tmp;
    size_t len;
    int rc = config_parse(&tmp, in, in_len, &len);
    if (rc == TWOWAY_ERR_UNSUPPORTED && consumed != NULL)
        *consumed = len; /* 0 for an unknown KEM */
    if (rc != TWOWAY_OK)
        return rc;
    *cfg = tmp;
    if (consumed != NULL)
        *consumed = len;
    return TWOWAY_OK;
}

int twoway_key_configs_encode(const twoway_key_config *cfgs, size_t n, uint8_t *out,
                              size_t *out_len)
{
    if (cfgs == NULL || n == 0 || out_len == NULL || (out == NULL && *out_len > 0))
        return TWOWAY_ERR_ARG;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t size;
        int rc = config_size(&cfgs[i], &size);
        if (rc != TWOWAY_OK)
            return rc;
        if (util_add_overflow(total, KC_LIST_PREFIX_LEN + size, &total))
            return TWOWAY_ERR_ARG;
    }
    if (*out_len < total) {
        *out_len = total;
        return TWOWAY_ERR_BUFFER;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t size;
        (void)config_size(&cfgs[i], &size); /* checked above */
        util_store16_be(out + off, (uint16_t)size);
        config_write(&cfgs[i], out + off + KC_LIST_PREFIX_LEN);
        off += KC_LIST_PREFIX_LEN + size;
    }
    *out_len = total;
    return TWOWAY_OK;
}

int twoway_key_configs_decode(twoway_key_config *cfgs, size_t max, size_t *n, const uint8_t *in,
                              size_t in_len)
{
    if (n != NULL)
        *n = 0;
    if (n == NULL || (cfgs == NULL && max > 0) || (in == NULL && in_len > 0))
        return TWOWAY_ERR_ARG;
    if (in_len == 0)
        return TWOWAY_ERR_FORMAT;

    size_t kept = 0, off = 0;
    while (off < in_len) {
        if (in_len - off < KC_LIST_PREFIX_LEN)
            return TWOWAY_ERR_FORMAT;
        size_t entry_len = util_load16_be(in + off);
        off += KC_LIST_PREFIX_LEN;
        if (entry_len == 0 || in_len - off < entry_len)
            return TWOWAY_ERR_FORMAT;
        const uint8_t *entry = in + off;
        off += entry_len;

        /* Past max, keep parsing (into scratch) so that a malformed list is
         * still reported as such, and count what would be kept. */
        twoway_key_config scratch;
        twoway_key_config *dst = kept < max ? &cfgs[kept] : &scratch;
        size_t len;
        int rc = config_parse(dst, entry, entry_len, &len);
        if (rc == TWOWAY_ERR_UNSUPPORTED) {
            /* An unknown KEM (len 0: not checked further), or no known pair
             * (len known: it must still fill its entry exactly). */
            if (len != 0 && len != entry_len)
                return TWOWAY_ERR_FORMAT;
            continue;
        }
        if (rc != TWOWAY_OK)
            return rc;
        if (len != entry_len)
            return TWOWAY_ERR_FORMAT;
        kept++;
    }
    if (kept == 0)
        return TWOWAY_ERR_UNSUPPORTED;
    *n = kept;
    return kept > max ? TWOWAY_ERR_BUFFER : TWOWAY_OK;
}

int twoway_key_config_of_key(twoway_key_config *cfg, uint8_t key_id, const twoway_hpke_key *key,
                             const twoway_symmetric_suite *suites, size_t n_suites)
{
    if (cfg == NULL || key == NULL || (suites == NULL && n_suites > 0) || n_suites == 0 ||
        n_suites > TWOWAY_KEY_CONFIG_MAX_SUITES)
        return TWOWAY_ERR_ARG;
    const twoway_hpke_kem *kem = twoway_hpke_key_kem(key);
    size_t pk_len = 0;
    const uint8_t *pk = twoway_hpke_key_public(key, &pk_len);
    if (kem == NULL || pk == NULL || pk_len == 0 || pk_len > TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN)
        return TWOWAY_ERR_ARG;
    for (size_t i = 0; i < n_suites; i++) {
        for (size_t j = 0; j < i; j++)
            if (suites[j].kdf_id == suites[i].kdf_id && suites[j].aead_id == suites[i].aead_id)
                return TWOWAY_ERR_ARG;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->key_id = key_id;
    cfg->kem_id = kem->id;
    cfg->public_key_len = pk_len;
    memcpy(cfg->public_key, pk, pk_len);
    cfg->n_suites = n_suites;
    memcpy(cfg->suites, suites, n_suites * sizeof *suites);
    return TWOWAY_OK;
}

int twoway_key_configs_select(twoway_key_config *cfg, twoway_hpke_suite *suite, const uint8_t *list,
                              size_t list_len, int key_id, uint16_t kdf_id, uint16_t aead_id)
{
    size_t n = 0;
    if (cfg == NULL || suite == NULL || (list == NULL && list_len > 0) ||
        key_id < TWOWAY_ANY_KEY_ID || key_id > 255)
        return TWOWAY_ERR_ARG;
    /* the whole list first: a malformed one is refused whole */
    int rc = twoway_key_configs_decode(NULL, 0, &n, list, list_len);
    if (rc != TWOWAY_OK && rc != TWOWAY_ERR_BUFFER)
        return rc;
    int found_id = 0;
    for (size_t off = 0; off < list_len;) {
        size_t entry_len = util_load16_be(list + off); /* checked by the decode above */
        const uint8_t *entry = list + off + KC_LIST_PREFIX_LEN;
        off += KC_LIST_PREFIX_LEN + entry_len;
        twoway_key_config c;
        size_t len;
        if (config_parse(&c, entry, entry_len, &len) != TWOWAY_OK)
            continue; /* skipped by the decode too */
        if (key_id != TWOWAY_ANY_KEY_ID && c.key_id != key_id)
            continue;
        found_id = 1;
        for (size_t i = 0; i < c.n_suites; i++) {
            if ((kdf_id != 0 && c.suites[i].kdf_id != kdf_id) ||
                (aead_id != 0 && c.suites[i].aead_id != aead_id))
                continue;
            rc = twoway_hpke_suite_from_ids(suite, c.kem_id, c.suites[i].kdf_id,
                                            c.suites[i].aead_id);
            if (rc != TWOWAY_OK)
                return rc;
            *cfg = c;
            return TWOWAY_OK;
        }
    }
    return found_id ? TWOWAY_ERR_UNSUPPORTED : TWOWAY_ERR_KEY_MISMATCH;
}
