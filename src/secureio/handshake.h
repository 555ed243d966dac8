/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secureio key schedule and handshake cryptography (docs/PROTOCOL.md):
 * the transcript hash, the handshake secret (with the optional PSK mixed in
 * by the KDF), the AUTH keys and signatures, the session master secret, the
 * traffic keys of each epoch and direction, the rekey chain, and the
 * stateless responder's ephemeral key. Everything is BLAKE3 (kdf.h) with its
 * own context string; X25519 is libsodium's.
 */
#ifndef SECUREIO_HANDSHAKE_H
#define SECUREIO_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define SIO_SECRET_LEN 32u
/* Key material of one record key: key(32) || nonce prefix(16). */
#define SIO_KEYMAT_LEN 48u

/* K_psk = derive_key("secureio v1 psk", psk) (psk may be empty). */
void sio_psk_key(uint8_t kpsk[SIO_SECRET_LEN], const uint8_t *psk, size_t psk_len);

/* TH over the protocol version and both hellos' options, ephemerals and
 * nonces, initiator first. */
void sio_transcript(uint8_t th[SIO_SECRET_LEN], uint16_t opts_i, const uint8_t e_i[32],
                    const uint8_t n_i[32], uint16_t opts_r, const uint8_t e_r[32],
                    const uint8_t n_r[32]);

/* HS = keyed(K_psk, "hs" || dh || TH). */
void sio_handshake_secret(uint8_t hs[SIO_SECRET_LEN], const uint8_t kpsk[SIO_SECRET_LEN],
                          const uint8_t dh[32], const uint8_t th[SIO_SECRET_LEN]);

/* The AUTH record key of the initiator (initiator != 0) or the responder. */
void sio_auth_keymat(uint8_t out[SIO_KEYMAT_LEN], const uint8_t hs[SIO_SECRET_LEN], int initiator);

/* The message each side signs:
 *   responder: "secureio v1 responder signature" || TH || id_R
 *   initiator: "secureio v1 initiator signature" || TH || id_R || id_I
 * out has room for SIO_SIGNED_MAX bytes; returns the length. */
#define SIO_SIGNED_MAX 160u
size_t sio_signed_message(uint8_t *out, int initiator, const uint8_t th[SIO_SECRET_LEN],
                          const uint8_t id_r[32], const uint8_t id_i[32]);

/* M_0 = keyed(HS, "master" || derive_key("secureio v1 session", TH || id_I || id_R)). */
void sio_session_master(uint8_t m[SIO_SECRET_LEN], const uint8_t hs[SIO_SECRET_LEN],
                        const uint8_t th[SIO_SECRET_LEN], const uint8_t id_i[32],
                        const uint8_t id_r[32]);

/* Traffic key of an epoch and direction (from_initiator: initiator → responder). */
void sio_traffic_keymat(uint8_t out[SIO_KEYMAT_LEN], const uint8_t m[SIO_SECRET_LEN],
                        uint32_t epoch, int from_initiator);

/* M_{k+1} = keyed(M_k, "rekey" || dh || LE32(k+1) || e_I || n_I || e_R || n_R). */
void sio_rekey_master(uint8_t next[SIO_SECRET_LEN], const uint8_t m[SIO_SECRET_LEN],
                      const uint8_t dh[32], uint32_t next_epoch, const uint8_t e_i[32],
                      const uint8_t n_i[32], const uint8_t e_r[32], const uint8_t n_r[32]);

/* The stateless responder's ephemeral private key and nonce for a hello:
 * derive_key("secureio v1 responder", S || opts_I || e_I || n_I). */
void sio_responder_ephemeral(uint8_t e_priv[32], uint8_t n[32], const uint8_t secret[32],
                             uint16_t opts_i, const uint8_t e_i[32], const uint8_t n_i[32]);

/* The cookie a responder under load gives for a hello:
 * keyed(S, "cookie" || opts_I || e_I || n_I). */
void sio_cookie(uint8_t cookie[32], const uint8_t secret[32], uint16_t opts_i,
                const uint8_t e_i[32], const uint8_t n_i[32]);

/* X25519: 0, or -1 when the result is all zero (a low-order point). */
int sio_x25519(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32]);
void sio_x25519_public(uint8_t pub[32], const uint8_t priv[32]);

#endif /* SECUREIO_HANDSHAKE_H */
