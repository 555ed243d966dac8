/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HPKE key objects: the public API over the KEM tables' key operations.
 */
#include "twoway/hpke_internal.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

twoway_hpke_key *hpke_key_alloc(const twoway_hpke_kem *kem, size_t pk_len)
{
    size_t size;
    if (util_add_overflow(sizeof(twoway_hpke_key), pk_len, &size))
        return NULL;
    twoway_hpke_key *key = calloc(1, size);
    if (key == NULL)
        return NULL;
    key->kem = kem;
    key->pk_len = pk_len;
    return key;
}

static int kem_ok(const twoway_hpke_kem *kem)
{
    return kem != NULL && kem->abi_version == TWOWAY_HPKE_ABI_VERSION;
}

int twoway_hpke_key_generate(const twoway_hpke_kem *kem, twoway_hpke_key **out)
{
    if (out == NULL || !kem_ok(kem))
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (kem->generate == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    return kem->generate(kem, out);
}

int twoway_hpke_key_derive(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *ikm,
                           size_t ikm_len)
{
    if (out == NULL || !kem_ok(kem) || (ikm == NULL && ikm_len > 0))
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (kem->derive == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    return kem->derive(kem, out, ikm, ikm_len);
}

int twoway_hpke_key_import_public(const twoway_hpke_kem *kem, twoway_hpke_key **out,
                                  const uint8_t *pk, size_t pk_len)
{
    if (out == NULL || !kem_ok(kem) || (pk == NULL && pk_len > 0))
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (kem->import_public == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    return kem->import_public(kem, out, pk, pk_len);
}

int twoway_hpke_key_import_private(const twoway_hpke_kem *kem, twoway_hpke_key **out,
                                   const uint8_t *sk, size_t sk_len)
{
    if (out == NULL || !kem_ok(kem) || (sk == NULL && sk_len > 0))
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (kem->import_private == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    return kem->import_private(kem, out, sk, sk_len);
}

int twoway_hpke_key_export_public(const twoway_hpke_key *key, uint8_t *out, size_t *out_len)
{
    if (key == NULL || out_len == NULL || (out == NULL && *out_len > 0))
        return TWOWAY_ERR_ARG;
    if (*out_len < key->pk_len) {
        *out_len = key->pk_len;
        return TWOWAY_ERR_BUFFER;
    }
    memcpy(out, key->pk, key->pk_len);
    *out_len = key->pk_len;
    return TWOWAY_OK;
}

int twoway_hpke_key_export_private(const twoway_hpke_key *key, uint8_t *out, size_t *out_len)
{
    if (key == NULL || out_len == NULL || (out == NULL && *out_len > 0))
        return TWOWAY_ERR_ARG;
    if (key->kind == HPKE_KEY_PUBLIC)
        return TWOWAY_ERR_STATE;
    if (key->kem->export_private == NULL)
        return TWOWAY_ERR_UNSUPPORTED;
    if (*out_len < key->kem->private_key_len) {
        *out_len = key->kem->private_key_len;
        return TWOWAY_ERR_BUFFER;
    }
    int rc = key->kem->export_private(key, out);
    if (rc == TWOWAY_OK)
        *out_len = key->kem->private_key_len;
    return rc;
}

int twoway_hpke_key_from_evp_pkey(const twoway_hpke_kem *kem, twoway_hpke_key **out,
                                  struct evp_pkey_st *pkey)
{
    if (out == NULL || pkey == NULL || !kem_ok(kem))
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (!hpke_kem_is_dh(kem))
        return TWOWAY_ERR_UNSUPPORTED;
    return hpke_dh_key_from_evp(kem, out, pkey);
}

int twoway_hpke_key_from_dh(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *pk,
                            size_t pk_len, twoway_hpke_dh_fn dh, void *handle,
                            void (*free_handle)(void *))
{
    if (out == NULL || dh == NULL || !kem_ok(kem) || (pk == NULL && pk_len > 0))
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (!hpke_kem_is_dh(kem))
        return TWOWAY_ERR_UNSUPPORTED;
    int rc = hpke_dh_key_from_fn(kem, out, pk, pk_len);
    if (rc != TWOWAY_OK)
        return rc;
    (*out)->dh = dh;
    (*out)->handle = handle;
    (*out)->free_handle = free_handle;
    return TWOWAY_OK;
}

int twoway_hpke_key_new_custom(const twoway_hpke_kem *kem, twoway_hpke_key **out, const uint8_t *pk,
                               size_t pk_len, void *handle, void (*free_handle)(void *))
{
    if (out == NULL || !kem_ok(kem) || (pk == NULL && pk_len > 0))
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (hpke_kem_is_dh(kem))
        return TWOWAY_ERR_ARG; /* built-in KEMs make their own keys */
    if (pk_len != kem->public_key_len)
        return TWOWAY_ERR_KEY;
    twoway_hpke_key *key = hpke_key_alloc(kem, pk_len);
    if (key == NULL)
        return TWOWAY_ERR_NOMEM;
    if (pk_len > 0)
        memcpy(key->pk, pk, pk_len);
    key->kind = handle != NULL ? HPKE_KEY_CUSTOM : HPKE_KEY_PUBLIC;
    key->handle = handle;
    key->free_handle = free_handle;
    *out = key;
    return TWOWAY_OK;
}

void *twoway_hpke_key_handle(const twoway_hpke_key *key)
{
    return key != NULL ? key->handle : NULL;
}

const uint8_t *twoway_hpke_key_public(const twoway_hpke_key *key, size_t *len)
{
    if (key == NULL)
        return NULL;
    if (len != NULL)
        *len = key->pk_len;
    return key->pk;
}

const twoway_hpke_kem *twoway_hpke_key_kem(const twoway_hpke_key *key)
{
    return key != NULL ? key->kem : NULL;
}

int twoway_hpke_key_is_private(const twoway_hpke_key *key)
{
    return key != NULL && key->kind != HPKE_KEY_PUBLIC;
}

void twoway_hpke_key_free(twoway_hpke_key *key)
{
    if (key == NULL)
        return;
    /* EVP_PKEY_free cleanses the private key it holds. */
    EVP_PKEY_free(key->pkey);
    if (key->free_handle != NULL)
        key->free_handle(key->handle);
    util_wipe(key, sizeof *key + key->pk_len);
    free(key);
}
