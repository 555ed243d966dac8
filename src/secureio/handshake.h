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

/* K_psk = derive_key("secureio v2 psk", psk) (psk may be empty). */
void sio_psk_key(uint8_t kpsk[SIO_SECRET_LEN], const uint8_t *psk, size_t psk_len);

/* TH over the protocol version and both hellos' options, receiver indices,
 * ephemerals and nonces, initiator first. */
void sio_transcript(uint8_t th[SIO_SECRET_LEN], uint16_t opts_i, uint32_t idx_i,
                    const uint8_t e_i[32], const uint8_t n_i[32], uint16_t opts_r, uint32_t idx_r,
                    const uint8_t e_r[32], const uint8_t n_r[32]);

/* HS = keyed(K_psk, "hs" || dh || TH). */
void sio_handshake_secret(uint8_t hs[SIO_SECRET_LEN], const uint8_t kpsk[SIO_SECRET_LEN],
                          const uint8_t dh[32], const uint8_t th[SIO_SECRET_LEN]);

/* The AUTH record key of the initiator (initiator != 0) or the responder. */
void sio_auth_keymat(uint8_t out[SIO_KEYMAT_LEN], const uint8_t hs[SIO_SECRET_LEN], int initiator);

/* The message each side signs:
 *   responder: "secureio v2 responder signature" || TH || id_R
 *   initiator: "secureio v2 initiator signature" || TH || id_R || id_I
 * out has room for SIO_SIGNED_MAX bytes; returns the length. */
#define SIO_SIGNED_MAX 160u
size_t sio_signed_message(uint8_t *out, int initiator, const uint8_t th[SIO_SECRET_LEN],
                          const uint8_t id_r[32], const uint8_t id_i[32]);

/* M_0 = keyed(HS, "master" || derive_key("secureio v2 session", TH || id_I || id_R)). */
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

/* The stateless responder's ephemeral private key, nonce and receiver
 * index for a hello: derive_key("secureio v2 responder",
 * S || opts_I || LE32(idx_I) || e_I || n_I), 68 bytes. */
void sio_responder_ephemeral(uint8_t e_priv[32], uint8_t n[32], uint32_t *index,
                             const uint8_t secret[32], uint16_t opts_i, uint32_t idx_i,
                             const uint8_t e_i[32], const uint8_t n_i[32]);

/* The cookie a responder under load gives for a hello from an address
 * (addr_len at most 255 bytes; none for an engine):
 * keyed(S, "cookie" || u8(addr_len) || addr || BE16(opts_I) || LE32(idx_I)
 * || e_I || n_I). */
void sio_cookie(uint8_t cookie[32], const uint8_t secret[32], const uint8_t *addr, size_t addr_len,
                uint16_t opts_i, uint32_t idx_i, const uint8_t e_i[32], const uint8_t n_i[32]);

/* The responder's ticket for a hello (hello: the 70 bytes options, index,
 * e, n that name it): XChaCha20-Poly1305 with the key
 * derive("secureio v2 ticket", S), the nonce
 * keyed(derive("secureio v2 ticket nonce", S), hello)[0..24), associated
 * data the hello, plaintext HS || TH || LE32(idx_R). Open: 0, or -1 when it does
 * not open under that secret (the outputs are then zero). */
void sio_ticket_seal(uint8_t ticket[SIO_TICKET_LEN], const uint8_t secret[32],
                     const uint8_t hello[70], const uint8_t hs[SIO_SECRET_LEN],
                     const uint8_t th[SIO_SECRET_LEN], uint32_t idx_r);
int sio_ticket_open(const uint8_t ticket[SIO_TICKET_LEN], const uint8_t secret[32],
                    const uint8_t hello[70], uint8_t hs[SIO_SECRET_LEN], uint8_t th[SIO_SECRET_LEN],
                    uint32_t *idx_r);

/* The mac key of a responder's public key, derive_key("secureio v2 mac",
 * pk), and the mac of a handshake packet's first SIO_HS_MAC_OFF bytes:
 * keyed(key, data), 16 bytes. */
void sio_mac_key(uint8_t key[32], const uint8_t pk[32]);
void sio_mac(uint8_t mac[SIO_MAC_LEN], const uint8_t key[32], const uint8_t *data, size_t len);

/* X25519: 0, or -1 when the result is all zero (a low-order point). */
int sio_x25519(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32]);
void sio_x25519_public(uint8_t pub[32], const uint8_t priv[32]);

#endif /* SECUREIO_HANDSHAKE_H */
