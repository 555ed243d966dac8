/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stateless responder (docs/PROTOCOL.md §2): what answers HELLOs and
 * checks AUTH_Is, for one engine or for an acceptor's many sessions.
 *
 * A hello is answered from a secret S and the hello alone (the responder's
 * ephemeral key, nonce and receiver index are derived from them), so an
 * unauthenticated packet makes no state but a bounded cache of answers
 * (kept only to answer a copy without signing again). The AUTH_R carries a
 * ticket, HS, TH and the index sealed under a key of S, which the AUTH_I
 * echoes: checking an AUTH_I costs two AEAD opens and no Diffie-Hellman, so
 * it needs no rate limit, and no forged AUTH_I can use up what the real one
 * needs. Answering a hello is limited by two token buckets: hellos without
 * a cookie (under load they get a cookie instead), and hellos with one; an
 * acceptor adds a bucket per source address, and binds cookies to the
 * address.
 *
 * S is replaced every rotation interval (answers to older hellos stay valid
 * one more period). A hello whose AUTH_I opened (authentic, whatever its
 * signature and identity) is remembered until its secret is gone: it never
 * makes a second session, nor costs a second signature check.
 *
 * Also here: sealing and opening AUTH packets (both roles), the mac of
 * handshake packets, and the peer policy. Times are microseconds.
 */
#ifndef SECUREIO_RESPONDER_H
#define SECUREIO_RESPONDER_H

#include <secureio/engine.h>

#include "handshake.h"
#include "wire.h"

/* ----------------------------------------------------------- rate limit */

/* A token bucket of `rate` tokens a second, holding at most one second's. */
typedef struct sio_bucket {
    uint64_t tokens, at; /* millionths of a token, and when they were counted */
} sio_bucket;

void sio_bucket_init(sio_bucket *b, uint32_t rate, uint64_t now);
/* Takes a token: 1, or 0 when there is none. */
int sio_bucket_take(sio_bucket *b, uint32_t rate, uint64_t now);

/* ---------------------------------------------------------- peer policy */

typedef struct sio_policy {
    const uint8_t *peer_key;         /* a pinned key, or NULL */
    const secureio_keylist *allowed; /* or NULL */
    int any;                         /* anyone */
} sio_policy;

int sio_policy_allows(const sio_policy *p, const uint8_t pk[32]);

/* ---------------------------------------------------------------- AUTH */

/* The mac of a handshake packet (its first SIO_HS_MAC_OFF bytes), written
 * into it; and its check (constant time): 1 if it is right. */
void sio_hs_mac_put(uint8_t pkt[SIO_HS_PACKET_LEN], const uint8_t mac_key[32]);
int sio_hs_mac_ok(const uint8_t pkt[SIO_HS_PACKET_LEN], const uint8_t mac_key[32]);

/* Seals our identity and signature into p (AUTH_R: initiator 0; AUTH_I:
 * initiator 1, peer_id the responder's) and encodes it into out with its
 * mac. */
int sio_auth_seal(const secureio_identity *id, const uint8_t my_pk[32], sio_hs_packet *p,
                  const uint8_t hs[SIO_SECRET_LEN], int initiator, const uint8_t th[SIO_SECRET_LEN],
                  const uint8_t *peer_id, const uint8_t mac_key[32],
                  uint8_t out[SIO_HS_PACKET_LEN]);

/* Opens an AUTH packet sent by the other role (from_initiator: AUTH_I),
 * checks its signature, that the identity is not ours, and the policy.
 * 0 and the identity in peer, or a drop reason; SECUREIO_DROP_PEER leaves
 * the refused (signed) identity in peer. *opened (may be NULL): 1 when its
 * AEAD opened (whoever sent it knew HS). */
int sio_auth_open(const uint8_t pkt[SIO_HS_PACKET_LEN], const uint8_t hs[SIO_SECRET_LEN],
                  int from_initiator, const uint8_t th[SIO_SECRET_LEN], const uint8_t my_pk[32],
                  const sio_policy *pol, uint8_t peer[32], int *opened);

/* ------------------------------------------------------------ responder */

/* The fields of a hello that name it: options, index, e, n. */
#define SIO_HELLO_ID_LEN (2u + 4u + SIO_KEY_LEN + SIO_NONCE_LEN)

typedef struct sio_answer_cache {
    int used;
    uint64_t gen; /* the secret's generation */
    uint8_t hello[SIO_HELLO_ID_LEN];
    uint32_t index_r;
    uint8_t auth_r[SIO_HS_PACKET_LEN];
} sio_answer_cache;

typedef struct sio_accepted {
    int in_use;
    uint64_t gen;
    uint8_t id[16]; /* keyed hash of the hello (a secret key) */
} sio_accepted;

typedef struct sio_responder {
    const secureio_identity *identity;
    uint8_t my_pk[32], mac_key[32], kpsk[SIO_SECRET_LEN];
    uint16_t opts;
    uint32_t rate;
    uint64_t rotate_interval;
    secureio_rng_fn rng;
    void *rng_ctx;
    uint8_t secret[32], secret_prev[32];
    uint64_t gen; /* generation of secret; secret_prev is gen - 1 when gen > 0 */
    uint64_t rotate_at;
    sio_bucket tb_hello, tb_cookie;
    sio_answer_cache *cache;
    size_t n_cache, cache_next;
    uint8_t id_key[32];      /* keys the hashes of used hellos */
    sio_accepted *used;      /* a hash set of used hellos */
    size_t n_used, used_cap; /* entries; slots (a power of two) */
    size_t max_accepted;     /* the most entries it may hold */
    uint64_t cookies_sent;
} sio_responder;

/* The responder of an identity, with n_cache cached answers and room to
 * remember up to cap_accepted used hellos (allocated as they come; size it
 * from the rate: sio_responder_memory). SECUREIO_OK, _ERR_NOMEM,
 * _ERR_CRYPTO. */
int sio_responder_init(sio_responder *r, const secureio_identity *id,
                       const uint8_t kpsk[SIO_SECRET_LEN], uint16_t opts, uint32_t rate,
                       uint64_t rotate_interval, secureio_rng_fn rng, void *rng_ctx, size_t n_cache,
                       size_t cap_accepted, uint64_t now);
void sio_responder_clear(sio_responder *r);
/* How many used hellos a responder answering `rate` hellos a second (and
 * as many with cookies) over a secret's life (two rotations, and a
 * second's burst) may have to remember: sized so that it cannot fill. */
#define SIO_ROTATE_MAX_US (60u * 1000000ull)
static inline size_t sio_responder_memory(uint32_t rate, uint64_t rotate_interval_us)
{
    uint64_t s = rotate_interval_us / 1000000u;
    return (size_t)(2u * (uint64_t)rate * (2u * s + 2u));
}
/* 1 once initialised (an acceptor's sessions have none of their own). */
int sio_responder_ready(const sio_responder *r);
/* Replaces the secret when its interval is over. */
int sio_responder_tick(sio_responder *r, uint64_t now);
uint64_t sio_responder_deadline(const sio_responder *r);
/* 1 if index is the receiver index of a hello answered recently (a record
 * for it may come before its AUTH_I). */
int sio_responder_answered(const sio_responder *r, uint32_t index);

/* Where a packet came from: its address (bound into cookies; none for an
 * engine) and, for an acceptor, the token bucket of that address. */
typedef struct sio_source {
    const uint8_t *addr;
    size_t addr_len;
    sio_bucket *bucket; /* NULL: no limit per source */
    uint32_t rate;      /* the bucket's rate */
} sio_source;

/* A hello's answer: 1 and out (AUTH_R, or COOKIE when *cookie), or a
 * negative drop reason. The caller checked that p is a HELLO. */
int sio_responder_hello(sio_responder *r, const sio_hs_packet *p,
                        const uint8_t pkt[SIO_HS_PACKET_LEN], const sio_source *src, uint64_t now,
                        uint8_t out[SIO_HS_PACKET_LEN], int *cookie);

/* What a verified AUTH_I gives. */
typedef struct sio_hs_result {
    uint8_t hs[SIO_SECRET_LEN], th[SIO_SECRET_LEN], peer[32];
    uint32_t index_i, index_r;
    uint8_t hello_id[16]; /* names its hello among the remembered ones */
} sio_hs_result;

/* Checks an AUTH_I: 0 and res (wipe it after use), or a drop reason
 * (SECUREIO_DROP_PEER: the refused identity in res->peer;
 * SECUREIO_DROP_REPLAY: its hello was used already, res->hello_id says
 * which; SECUREIO_DROP_RATE: the memory of used hellos is full). An AUTH_I
 * that opens uses its hello up, accepted or not. */
int sio_responder_auth_i(sio_responder *r, const sio_hs_packet *p,
                         const uint8_t pkt[SIO_HS_PACKET_LEN], const sio_policy *pol,
                         sio_hs_result *res);

#endif /* SECUREIO_RESPONDER_H */
