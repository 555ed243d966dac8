/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key schedule (handshake.h). Context strings are distinct per use, so
 * no key can stand for another.
 */
#include "handshake.h"

#include <sodium.h>
#include <string.h>

#include "common/util.h"
#include "kdf.h"
#include "record.h"

void sio_psk_key(uint8_t kpsk[SIO_SECRET_LEN], const uint8_t *psk, size_t psk_len)
{
    sio_bytes in = {psk, psk_len};
    sio_kdf_derive("secureio v2 psk", &in, 1, kpsk, SIO_SECRET_LEN);
}

void sio_transcript(uint8_t th[SIO_SECRET_LEN], uint16_t opts_i, uint32_t idx_i,
                    const uint8_t e_i[32], const uint8_t n_i[32], uint16_t opts_r, uint32_t idx_r,
                    const uint8_t e_r[32], const uint8_t n_r[32])
{
    uint8_t ver = SIO_VERSION, oi[2], or_[2], ii[4], ir[4];
    util_store16_be(oi, opts_i);
    util_store16_be(or_, opts_r);
    util_store32_le(ii, idx_i);
    util_store32_le(ir, idx_r);
    sio_bytes in[] = {{&ver, 1}, {oi, 2}, {ii, 4},   {e_i, 32}, {n_i, 32},
                      {or_, 2},  {ir, 4}, {e_r, 32}, {n_r, 32}};
    sio_kdf_derive("secureio v2 transcript", in, UTIL_ARRAY_LEN(in), th, SIO_SECRET_LEN);
}

void sio_handshake_secret(uint8_t hs[SIO_SECRET_LEN], const uint8_t kpsk[SIO_SECRET_LEN],
                          const uint8_t dh[32], const uint8_t th[SIO_SECRET_LEN])
{
    static const uint8_t label[] = {'h', 's'};
    sio_bytes in[] = {{label, sizeof label}, {dh, 32}, {th, SIO_SECRET_LEN}};
    sio_kdf_keyed(kpsk, in, UTIL_ARRAY_LEN(in), hs, SIO_SECRET_LEN);
}

void sio_auth_keymat(uint8_t out[SIO_KEYMAT_LEN], const uint8_t hs[SIO_SECRET_LEN], int initiator)
{
    sio_bytes in = {hs, SIO_SECRET_LEN};
    sio_kdf_derive(initiator ? "secureio v2 auth initiator" : "secureio v2 auth responder", &in, 1,
                   out, SIO_KEYMAT_LEN);
}

size_t sio_signed_message(uint8_t *out, int initiator, const uint8_t th[SIO_SECRET_LEN],
                          const uint8_t id_r[32], const uint8_t id_i[32])
{
    static const char ri[] = "secureio v2 initiator signature";
    static const char rr[] = "secureio v2 responder signature";
    const char *label = initiator ? ri : rr;
    size_t n = strlen(label) + 1; /* with its NUL: the label is delimited */
    memcpy(out, label, n);
    memcpy(out + n, th, SIO_SECRET_LEN);
    n += SIO_SECRET_LEN;
    memcpy(out + n, id_r, 32);
    n += 32;
    if (initiator) {
        memcpy(out + n, id_i, 32);
        n += 32;
    }
    return n;
}

void sio_session_master(uint8_t m[SIO_SECRET_LEN], const uint8_t hs[SIO_SECRET_LEN],
                        const uint8_t th[SIO_SECRET_LEN], const uint8_t id_i[32],
                        const uint8_t id_r[32])
{
    static const uint8_t label[] = {'m', 'a', 's', 't', 'e', 'r'};
    uint8_t th2[SIO_SECRET_LEN];
    sio_bytes t[] = {{th, SIO_SECRET_LEN}, {id_i, 32}, {id_r, 32}};
    sio_kdf_derive("secureio v2 session", t, UTIL_ARRAY_LEN(t), th2, sizeof th2);
    sio_bytes in[] = {{label, sizeof label}, {th2, sizeof th2}};
    sio_kdf_keyed(hs, in, UTIL_ARRAY_LEN(in), m, SIO_SECRET_LEN);
}

void sio_traffic_keymat(uint8_t out[SIO_KEYMAT_LEN], const uint8_t m[SIO_SECRET_LEN],
                        uint32_t epoch, int from_initiator)
{
    uint8_t ep[4], dir = from_initiator ? 0x00 : 0x01;
    util_store32_le(ep, epoch);
    sio_bytes in[] = {{m, SIO_SECRET_LEN}, {&dir, 1}, {ep, 4}};
    sio_kdf_derive("secureio v2 traffic", in, UTIL_ARRAY_LEN(in), out, SIO_KEYMAT_LEN);
}

void sio_rekey_master(uint8_t next[SIO_SECRET_LEN], const uint8_t m[SIO_SECRET_LEN],
                      const uint8_t dh[32], uint32_t next_epoch, const uint8_t e_i[32],
                      const uint8_t n_i[32], const uint8_t e_r[32], const uint8_t n_r[32])
{
    static const uint8_t label[] = {'r', 'e', 'k', 'e', 'y'};
    uint8_t ep[4];
    util_store32_le(ep, next_epoch);
    sio_bytes in[] = {
        {label, sizeof label}, {dh, 32}, {ep, 4}, {e_i, 32}, {n_i, 32}, {e_r, 32}, {n_r, 32}};
    sio_kdf_keyed(m, in, UTIL_ARRAY_LEN(in), next, SIO_SECRET_LEN);
}

void sio_responder_ephemeral(uint8_t e_priv[32], uint8_t n[32], uint32_t *index,
                             const uint8_t secret[32], uint16_t opts_i, uint32_t idx_i,
                             const uint8_t e_i[32], const uint8_t n_i[32])
{
    uint8_t oi[2], ii[4], out[68];
    util_store16_be(oi, opts_i);
    util_store32_le(ii, idx_i);
    sio_bytes in[] = {{secret, 32}, {oi, 2}, {ii, 4}, {e_i, 32}, {n_i, 32}};
    sio_kdf_derive("secureio v2 responder", in, UTIL_ARRAY_LEN(in), out, sizeof out);
    memcpy(e_priv, out, 32);
    memcpy(n, out + 32, 32);
    *index = util_load32_le(out + 64);
    util_wipe(out, sizeof out);
}

void sio_mac_key(uint8_t key[32], const uint8_t pk[32])
{
    sio_bytes in = {pk, 32};
    sio_kdf_derive("secureio v2 mac", &in, 1, key, 32);
}

void sio_mac(uint8_t mac[SIO_MAC_LEN], const uint8_t key[32], const uint8_t *data, size_t len)
{
    sio_bytes in = {data, len};
    sio_kdf_keyed(key, &in, 1, mac, SIO_MAC_LEN);
}

void sio_cookie(uint8_t cookie[32], const uint8_t secret[32], const uint8_t *addr, size_t addr_len,
                uint16_t opts_i, uint32_t idx_i, const uint8_t e_i[32], const uint8_t n_i[32])
{
    static const uint8_t label[] = {'c', 'o', 'o', 'k', 'i', 'e'};
    uint8_t al = (uint8_t)(addr_len > 255 ? 255 : addr_len), oi[2], ii[4];
    util_store16_be(oi, opts_i);
    util_store32_le(ii, idx_i);
    sio_bytes in[] = {
        {label, sizeof label}, {&al, 1}, {addr, al}, {oi, 2}, {ii, 4}, {e_i, 32}, {n_i, 32}};
    sio_kdf_keyed(secret, in, UTIL_ARRAY_LEN(in), cookie, 32);
}

/* The ticket's key and its nonce for a hello (each from its own key). */
static void ticket_key(uint8_t key[32], uint8_t nonce[SIO_XNONCE_LEN], const uint8_t secret[32],
                       const uint8_t hello[70])
{
    uint8_t nk[32];
    sio_bytes s = {secret, 32}, h = {hello, 70};
    sio_kdf_derive("secureio v2 ticket", &s, 1, key, 32);
    sio_kdf_derive("secureio v2 ticket nonce", &s, 1, nk, 32);
    sio_kdf_keyed(nk, &h, 1, nonce, SIO_XNONCE_LEN);
    util_wipe(nk, sizeof nk);
}

void sio_ticket_seal(uint8_t ticket[SIO_TICKET_LEN], const uint8_t secret[32],
                     const uint8_t hello[70], const uint8_t hs[SIO_SECRET_LEN],
                     const uint8_t th[SIO_SECRET_LEN], uint32_t idx_r)
{
    uint8_t key[32], nonce[SIO_XNONCE_LEN], pt[SIO_TICKET_PT_LEN];
    ticket_key(key, nonce, secret, hello);
    memcpy(pt, hs, 32);
    memcpy(pt + 32, th, 32);
    util_store32_le(pt + 64, idx_r);
    if (sio_xchacha20poly1305_seal(ticket, key, nonce, hello, 70, pt, sizeof pt) != SECUREIO_OK)
        memset(ticket, 0, SIO_TICKET_LEN); /* never opens */
    util_wipe(pt, sizeof pt);
    util_wipe(key, sizeof key);
}

int sio_ticket_open(const uint8_t ticket[SIO_TICKET_LEN], const uint8_t secret[32],
                    const uint8_t hello[70], uint8_t hs[SIO_SECRET_LEN], uint8_t th[SIO_SECRET_LEN],
                    uint32_t *idx_r)
{
    uint8_t key[32], nonce[SIO_XNONCE_LEN], pt[SIO_TICKET_PT_LEN];
    ticket_key(key, nonce, secret, hello);
    int ok = sio_xchacha20poly1305_open(pt, key, nonce, hello, 70, ticket, SIO_TICKET_LEN) ==
             SECUREIO_OK;
    util_wipe(key, sizeof key);
    if (!ok) {
        memset(hs, 0, SIO_SECRET_LEN);
        memset(th, 0, SIO_SECRET_LEN);
        *idx_r = 0;
        util_wipe(pt, sizeof pt);
        return -1;
    }
    memcpy(hs, pt, 32);
    memcpy(th, pt + 32, 32);
    *idx_r = util_load32_le(pt + 64);
    util_wipe(pt, sizeof pt);
    return 0;
}

int sio_x25519(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32])
{
    /* libsodium refuses (-1) when the result is all zero: a low-order point */
    if (crypto_scalarmult(out, priv, pub) != 0) {
        util_wipe(out, 32);
        return -1;
    }
    return 0;
}

void sio_x25519_public(uint8_t pub[32], const uint8_t priv[32])
{
    crypto_scalarmult_base(pub, priv);
}
