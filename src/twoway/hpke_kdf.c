/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HKDF (RFC 5869) over OpenSSL's digests, as the built-in HPKE KDF tables,
 * and the labeled Extract/Expand of RFC 9180 §4.
 *
 * HMAC is computed here on a pre-fetched EVP_MD rather than through EVP_MAC:
 * the inputs are short and many, and this avoids a provider fetch and a
 * parameter parse per call.
 */
#include "twoway/hpke_internal.h"

#include "common/util.h"

#include <string.h>

#define HMAC_MAX_BLOCK 128u

static int hkdf_extract(const twoway_hpke_kdf *kdf, uint8_t *prk, const uint8_t *salt,
                        size_t salt_len, const twoway_hpke_slice *ikm, size_t n);
static int hkdf_expand(const twoway_hpke_kdf *kdf, uint8_t *out, size_t out_len, const uint8_t *prk,
                       size_t prk_len, const twoway_hpke_slice *info, size_t n);

const twoway_hpke_kdf hpke_kdf_hkdf_sha256 = {
    TWOWAY_HPKE_ABI_VERSION, TWOWAY_HPKE_KDF_HKDF_SHA256, 32, hkdf_extract, hkdf_expand, NULL};
const twoway_hpke_kdf hpke_kdf_hkdf_sha384 = {
    TWOWAY_HPKE_ABI_VERSION, TWOWAY_HPKE_KDF_HKDF_SHA384, 48, hkdf_extract, hkdf_expand, NULL};
const twoway_hpke_kdf hpke_kdf_hkdf_sha512 = {
    TWOWAY_HPKE_ABI_VERSION, TWOWAY_HPKE_KDF_HKDF_SHA512, 64, hkdf_extract, hkdf_expand, NULL};

/* HMAC(key, parts[0] || ... || parts[n-1] || tail) into out[hash_len]. */
static int hmac(EVP_MD_CTX *mc, const EVP_MD *md, uint8_t *out, const uint8_t *key, size_t key_len,
                const twoway_hpke_slice *parts, size_t n, const uint8_t *tail, size_t tail_len)
{
    uint8_t pad[HMAC_MAX_BLOCK] = {0};
    uint8_t inner[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    int block = EVP_MD_get_block_size(md);
    int ok = 0;

    if (block <= 0 || (size_t)block > sizeof pad)
        return TWOWAY_ERR_CRYPTO;
    if (key_len > (size_t)block) {
        if (!EVP_DigestInit_ex2(mc, md, NULL) || !EVP_DigestUpdate(mc, key, key_len) ||
            !EVP_DigestFinal_ex(mc, pad, &hlen))
            goto done;
    } else if (key_len > 0) {
        memcpy(pad, key, key_len);
    }
    for (int i = 0; i < block; i++)
        pad[i] ^= 0x36;
    if (!EVP_DigestInit_ex2(mc, md, NULL) || !EVP_DigestUpdate(mc, pad, (size_t)block))
        goto done;
    for (size_t i = 0; i < n; i++)
        if (parts[i].len > 0 && !EVP_DigestUpdate(mc, parts[i].data, parts[i].len))
            goto done;
    if (tail_len > 0 && !EVP_DigestUpdate(mc, tail, tail_len))
        goto done;
    if (!EVP_DigestFinal_ex(mc, inner, &hlen))
        goto done;
    for (int i = 0; i < block; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    if (!EVP_DigestInit_ex2(mc, md, NULL) || !EVP_DigestUpdate(mc, pad, (size_t)block) ||
        !EVP_DigestUpdate(mc, inner, hlen) || !EVP_DigestFinal_ex(mc, out, &hlen))
        goto done;
    ok = 1;
done:
    util_wipe(pad, sizeof pad);
    util_wipe(inner, sizeof inner);
    return ok ? TWOWAY_OK : TWOWAY_ERR_CRYPTO;
}

static int hkdf_extract(const twoway_hpke_kdf *kdf, uint8_t *prk, const uint8_t *salt,
                        size_t salt_len, const twoway_hpke_slice *ikm, size_t n)
{
    const EVP_MD *md = hpke_md(kdf->id);
    if (md == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    if (kdf->hash_len != (uint16_t)EVP_MD_get_size(md))
        return TWOWAY_ERR_ARG; /* a copied table with another size */
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    if (mc == NULL)
        return TWOWAY_ERR_NOMEM;
    /* An absent salt is Nh zero bytes, which HMAC pads to the same key as "". */
    int rc = hmac(mc, md, prk, salt, salt_len, ikm, n, NULL, 0);
    EVP_MD_CTX_free(mc);
    return rc;
}

static int hkdf_expand(const twoway_hpke_kdf *kdf, uint8_t *out, size_t out_len, const uint8_t *prk,
                       size_t prk_len, const twoway_hpke_slice *info, size_t n)
{
    const EVP_MD *md = hpke_md(kdf->id);
    size_t hlen = kdf->hash_len;
    if (md == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    if (hlen != (size_t)EVP_MD_get_size(md))
        return TWOWAY_ERR_ARG;
    if (out_len > 255 * hlen)
        return TWOWAY_ERR_ARG;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    if (mc == NULL)
        return TWOWAY_ERR_NOMEM;

    /* T(i) = HMAC(prk, T(i-1) || info || i) */
    twoway_hpke_slice parts[1 + 16];
    uint8_t t[EVP_MAX_MD_SIZE];
    size_t done = 0;
    int rc = TWOWAY_OK;
    if (n > 16) {
        rc = TWOWAY_ERR_ARG;
        goto out;
    }
    for (uint8_t i = 1; done < out_len; i++) {
        parts[0].data = t;
        parts[0].len = i == 1 ? 0 : hlen;
        for (size_t j = 0; j < n; j++)
            parts[1 + j] = info[j];
        rc = hmac(mc, md, t, prk, prk_len, parts, n + 1, &i, 1);
        if (rc != TWOWAY_OK)
            break;
        size_t take = out_len - done < hlen ? out_len - done : hlen;
        memcpy(out + done, t, take);
        done += take;
    }
out:
    util_wipe(t, sizeof t);
    EVP_MD_CTX_free(mc);
    if (rc != TWOWAY_OK)
        util_wipe(out, out_len);
    return rc;
}

/* ------------------------------------------------- several outputs, one PRK */

/* The HMAC states after the key's ipad and opad blocks: each message then
 * costs a copy and its own blocks, not the two key blocks again. */
typedef struct hmac_keyed {
    EVP_MD_CTX *inner, *outer, *tmp;
} hmac_keyed;

static void hmac_keyed_free(hmac_keyed *h)
{
    EVP_MD_CTX_free(h->inner); /* cleanses */
    EVP_MD_CTX_free(h->outer);
    EVP_MD_CTX_free(h->tmp);
}

static int hmac_keyed_init(hmac_keyed *h, const EVP_MD *md, const uint8_t *key, size_t key_len)
{
    uint8_t pad[HMAC_MAX_BLOCK] = {0};
    unsigned int hlen = 0;
    int block = EVP_MD_get_block_size(md), ok = 0;
    h->inner = EVP_MD_CTX_new();
    h->outer = EVP_MD_CTX_new();
    h->tmp = EVP_MD_CTX_new();
    if (h->inner == NULL || h->outer == NULL || h->tmp == NULL || block <= 0 ||
        (size_t)block > sizeof pad)
        goto done;
    if (key_len > (size_t)block) {
        if (!EVP_DigestInit_ex2(h->tmp, md, NULL) || !EVP_DigestUpdate(h->tmp, key, key_len) ||
            !EVP_DigestFinal_ex(h->tmp, pad, &hlen))
            goto done;
    } else if (key_len > 0) {
        memcpy(pad, key, key_len);
    }
    for (int i = 0; i < block; i++)
        pad[i] ^= 0x36;
    if (!EVP_DigestInit_ex2(h->inner, md, NULL) || !EVP_DigestUpdate(h->inner, pad, (size_t)block))
        goto done;
    for (int i = 0; i < block; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    if (!EVP_DigestInit_ex2(h->outer, md, NULL) || !EVP_DigestUpdate(h->outer, pad, (size_t)block))
        goto done;
    ok = 1;
done:
    util_wipe(pad, sizeof pad);
    return ok ? TWOWAY_OK : TWOWAY_ERR_CRYPTO;
}

/* out = HMAC(key, parts || tail) from the keyed states. */
static int hmac_keyed_mac(hmac_keyed *h, uint8_t *out, const twoway_hpke_slice *parts, size_t n,
                          const uint8_t *tail, size_t tail_len)
{
    uint8_t inner[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    int ok = EVP_MD_CTX_copy_ex(h->tmp, h->inner);
    for (size_t i = 0; ok && i < n; i++)
        if (parts[i].len > 0)
            ok = EVP_DigestUpdate(h->tmp, parts[i].data, parts[i].len);
    ok = ok && (tail_len == 0 || EVP_DigestUpdate(h->tmp, tail, tail_len)) &&
         EVP_DigestFinal_ex(h->tmp, inner, &hlen) && EVP_MD_CTX_copy_ex(h->tmp, h->outer) &&
         EVP_DigestUpdate(h->tmp, inner, hlen) && EVP_DigestFinal_ex(h->tmp, out, &hlen);
    util_wipe(inner, sizeof inner);
    return ok ? TWOWAY_OK : TWOWAY_ERR_CRYPTO;
}

int hpke_expand_many(const twoway_hpke_kdf *kdf, const uint8_t *prk, size_t prk_len,
                     const hpke_expand_job *jobs, size_t n_jobs)
{
    const EVP_MD *md;
    int rc = TWOWAY_OK;
    /* A caller's table, or a copy with another size: one call per output. */
    if (kdf->expand != hkdf_expand || (md = hpke_md(kdf->id)) == NULL ||
        kdf->hash_len != (uint16_t)EVP_MD_get_size(md)) {
        for (size_t j = 0; j < n_jobs && rc == TWOWAY_OK; j++)
            rc = kdf->expand(kdf, jobs[j].out, jobs[j].out_len, prk, prk_len, jobs[j].info,
                             jobs[j].n_info);
        return rc;
    }
    size_t hlen = kdf->hash_len;
    hmac_keyed h;
    uint8_t t[EVP_MAX_MD_SIZE];
    rc = hmac_keyed_init(&h, md, prk, prk_len);
    for (size_t j = 0; j < n_jobs && rc == TWOWAY_OK; j++) {
        const hpke_expand_job *job = &jobs[j];
        twoway_hpke_slice parts[1 + 16];
        size_t done = 0;
        if (job->n_info > 16 || job->out_len > 255 * hlen) {
            rc = TWOWAY_ERR_ARG;
            break;
        }
        /* T(i) = HMAC(prk, T(i-1) || info || i) */
        for (uint8_t i = 1; done < job->out_len && rc == TWOWAY_OK; i++) {
            parts[0] = (twoway_hpke_slice){t, i == 1 ? 0 : hlen};
            for (size_t k = 0; k < job->n_info; k++)
                parts[1 + k] = job->info[k];
            rc = hmac_keyed_mac(&h, t, parts, job->n_info + 1, &i, 1);
            size_t take = job->out_len - done < hlen ? job->out_len - done : hlen;
            if (rc == TWOWAY_OK)
                memcpy(job->out + done, t, take);
            done += take;
        }
    }
    if (rc != TWOWAY_OK)
        for (size_t j = 0; j < n_jobs; j++)
            util_wipe(jobs[j].out, jobs[j].out_len);
    util_wipe(t, sizeof t);
    hmac_keyed_free(&h);
    return rc;
}

/* ------------------------------------------------------------ labeled ops */

static const uint8_t hpke_v1[7] = {'H', 'P', 'K', 'E', '-', 'v', '1'};

void hpke_suite_id_kem(hpke_suite_id *sid, uint16_t kem_id)
{
    memcpy(sid->bytes, "KEM", 3);
    util_store16_be(sid->bytes + 3, kem_id);
    sid->len = 5;
}

void hpke_suite_id_hpke(hpke_suite_id *sid, uint16_t kem_id, uint16_t kdf_id, uint16_t aead_id)
{
    memcpy(sid->bytes, "HPKE", 4);
    util_store16_be(sid->bytes + 4, kem_id);
    util_store16_be(sid->bytes + 6, kdf_id);
    util_store16_be(sid->bytes + 8, aead_id);
    sid->len = 10;
}

#define HPKE_MAX_PIECES 8

int hpke_labeled_extract(const twoway_hpke_kdf *kdf, const hpke_suite_id *sid, uint8_t *prk,
                         const uint8_t *salt, size_t salt_len, const char *label,
                         const twoway_hpke_slice *ikm, size_t n_ikm)
{
    /* labeled_ikm = "HPKE-v1" || suite_id || label || ikm */
    twoway_hpke_slice parts[3 + HPKE_MAX_PIECES];
    if (n_ikm > HPKE_MAX_PIECES)
        return TWOWAY_ERR_ARG;
    parts[0] = (twoway_hpke_slice){hpke_v1, sizeof hpke_v1};
    parts[1] = (twoway_hpke_slice){sid->bytes, sid->len};
    parts[2] = (twoway_hpke_slice){(const uint8_t *)label, strlen(label)};
    for (size_t i = 0; i < n_ikm; i++)
        parts[3 + i] = ikm[i];
    return kdf->extract(kdf, prk, salt, salt_len, parts, 3 + n_ikm);
}

int hpke_labeled_expand_many(const twoway_hpke_kdf *kdf, const hpke_suite_id *sid,
                             const uint8_t *prk, size_t prk_len, const hpke_labeled_job *jobs,
                             size_t n_jobs)
{
    /* each labeled_info = I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info */
    enum { MAX_JOBS = 4 };
    twoway_hpke_slice parts[MAX_JOBS][4 + HPKE_MAX_PIECES];
    uint8_t len2[MAX_JOBS][2];
    hpke_expand_job plain[MAX_JOBS];
    if (n_jobs > MAX_JOBS)
        return TWOWAY_ERR_ARG;
    for (size_t j = 0; j < n_jobs; j++) {
        const hpke_labeled_job *lj = &jobs[j];
        if (lj->n_info > HPKE_MAX_PIECES || lj->out_len > 0xFFFF)
            return TWOWAY_ERR_ARG;
        util_store16_be(len2[j], (uint16_t)lj->out_len);
        parts[j][0] = (twoway_hpke_slice){len2[j], 2};
        parts[j][1] = (twoway_hpke_slice){hpke_v1, sizeof hpke_v1};
        parts[j][2] = (twoway_hpke_slice){sid->bytes, sid->len};
        parts[j][3] = (twoway_hpke_slice){(const uint8_t *)lj->label, strlen(lj->label)};
        for (size_t i = 0; i < lj->n_info; i++)
            parts[j][4 + i] = lj->info[i];
        plain[j] = (hpke_expand_job){lj->out, lj->out_len, parts[j], 4 + lj->n_info};
    }
    return hpke_expand_many(kdf, prk, prk_len, plain, n_jobs);
}

int hpke_labeled_expand(const twoway_hpke_kdf *kdf, const hpke_suite_id *sid, uint8_t *out,
                        size_t out_len, const uint8_t *prk, size_t prk_len, const char *label,
                        const twoway_hpke_slice *info, size_t n_info)
{
    /* labeled_info = I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info */
    twoway_hpke_slice parts[4 + HPKE_MAX_PIECES];
    uint8_t len2[2];
    if (n_info > HPKE_MAX_PIECES || out_len > 0xFFFF)
        return TWOWAY_ERR_ARG;
    util_store16_be(len2, (uint16_t)out_len);
    parts[0] = (twoway_hpke_slice){len2, 2};
    parts[1] = (twoway_hpke_slice){hpke_v1, sizeof hpke_v1};
    parts[2] = (twoway_hpke_slice){sid->bytes, sid->len};
    parts[3] = (twoway_hpke_slice){(const uint8_t *)label, strlen(label)};
    for (size_t i = 0; i < n_info; i++)
        parts[4 + i] = info[i];
    return kdf->expand(kdf, out, out_len, prk, prk_len, parts, 4 + n_info);
}
