/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stateless responder, AUTH packets, macs and the peer policy
 * (responder.h).
 */
#include "responder.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "kdf.h"
#include "record.h"

/* ----------------------------------------------------------- rate limit */

#define SIO_TOKEN 1000000u /* one token, in millionths */

void sio_bucket_init(sio_bucket *b, uint32_t rate, uint64_t now)
{
    b->tokens = (uint64_t)rate * SIO_TOKEN;
    b->at = now;
}

int sio_bucket_take(sio_bucket *b, uint32_t rate, uint64_t now)
{
    uint64_t cap = (uint64_t)rate * SIO_TOKEN;
    if (now > b->at) {
        uint64_t gap = now - b->at; /* microseconds: rate millionths each */
        uint64_t add = gap >= 1000000u ? cap : gap * rate;
        b->tokens = cap - b->tokens < add ? cap : b->tokens + add;
        b->at = now;
    }
    if (b->tokens < SIO_TOKEN)
        return 0;
    b->tokens -= SIO_TOKEN;
    return 1;
}

/* ---------------------------------------------------------- peer policy */

int sio_policy_allows(const sio_policy *p, const uint8_t pk[32])
{
    if (p->peer_key != NULL && sodium_memcmp(pk, p->peer_key, 32) == 0)
        return 1;
    if (p->allowed != NULL && secureio_keylist_contains(p->allowed, pk))
        return 1;
    return p->any;
}

/* ---------------------------------------------------------------- AUTH */

/* The associated data of an AUTH packet's ciphertext: its first 104 bytes
 * and its ticket (so that nobody can change the ticket an AUTH_R carries). */
#define SIO_AUTH_AD_LEN (SIO_HS_HEADER_LEN + SIO_TICKET_LEN)

static void auth_ad(uint8_t ad[SIO_AUTH_AD_LEN], const uint8_t pkt[SIO_HS_PACKET_LEN])
{
    memcpy(ad, pkt, SIO_HS_HEADER_LEN);
    memcpy(ad + SIO_HS_HEADER_LEN, pkt + SIO_HS_TICKET_OFF, SIO_TICKET_LEN);
}

void sio_hs_mac_put(uint8_t pkt[SIO_HS_PACKET_LEN], const uint8_t mac_key[32])
{
    sio_mac(pkt + SIO_HS_MAC_OFF, mac_key, pkt, SIO_HS_MAC_OFF);
}

int sio_hs_mac_ok(const uint8_t pkt[SIO_HS_PACKET_LEN], const uint8_t mac_key[32])
{
    uint8_t m[SIO_MAC_LEN];
    sio_mac(m, mac_key, pkt, SIO_HS_MAC_OFF);
    return sodium_memcmp(m, pkt + SIO_HS_MAC_OFF, SIO_MAC_LEN) == 0;
}

int sio_auth_seal(const secureio_identity *id, const uint8_t my_pk[32], sio_hs_packet *p,
                  const uint8_t hs[SIO_SECRET_LEN], int initiator, const uint8_t th[SIO_SECRET_LEN],
                  const uint8_t *peer_id, const uint8_t mac_key[32], uint8_t out[SIO_HS_PACKET_LEN])
{
    uint8_t msg[SIO_SIGNED_MAX], pt[SIO_AUTH_PT_LEN], km[SIO_KEYMAT_LEN];
    sio_record_key k = {0};
    size_t n = sio_signed_message(msg, initiator, th, initiator ? peer_id : my_pk, my_pk);
    memcpy(pt, my_pk, 32);
    int rc = secureio_identity_sign(id, pt + 32, msg, n);
    if (rc == SECUREIO_OK) {
        sio_auth_keymat(km, hs, initiator);
        rc = sio_record_key_init(&k, km, km + 32);
    }
    if (rc == SECUREIO_OK) {
        uint8_t ad[SIO_AUTH_AD_LEN];
        memset(p->ct, 0, sizeof p->ct);
        memset(p->mac, 0, sizeof p->mac);
        sio_hs_encode(p, out);
        auth_ad(ad, out);
        rc = sio_record_seal(&k, out + SIO_HS_HEADER_LEN, 0, ad, sizeof ad, pt, sizeof pt);
    }
    if (rc == SECUREIO_OK) {
        sio_hs_mac_put(out, mac_key);
        memcpy(p->ct, out + SIO_HS_HEADER_LEN, SIO_AUTH_CT_LEN);
        memcpy(p->mac, out + SIO_HS_MAC_OFF, SIO_MAC_LEN);
    }
    sio_record_key_clear(&k);
    util_wipe(km, sizeof km);
    util_wipe(pt, sizeof pt);
    return rc;
}

int sio_auth_open(const uint8_t pkt[SIO_HS_PACKET_LEN], const uint8_t hs[SIO_SECRET_LEN],
                  int from_initiator, const uint8_t th[SIO_SECRET_LEN], const uint8_t my_pk[32],
                  const sio_policy *pol, uint8_t peer[32], int *opened)
{
    uint8_t pt[SIO_AUTH_PT_LEN], km[SIO_KEYMAT_LEN], msg[SIO_SIGNED_MAX];
    sio_record_key k = {0};
    int why = 0;
    if (opened != NULL)
        *opened = 0;
    uint8_t ad[SIO_AUTH_AD_LEN];
    auth_ad(ad, pkt);
    sio_auth_keymat(km, hs, from_initiator);
    if (sio_record_key_init(&k, km, km + 32) != SECUREIO_OK ||
        sio_record_open(&k, pt, 0, ad, sizeof ad, pkt + SIO_HS_HEADER_LEN, SIO_AUTH_CT_LEN) !=
            SECUREIO_OK) {
        why = SECUREIO_DROP_AUTH;
    } else {
        if (opened != NULL)
            *opened = 1;
        /* the responder signed TH || id_R; the initiator TH || id_R || id_I.
         * The signature first: a refused identity is reported only once it
         * proved itself (an operator logs it). */
        size_t n = sio_signed_message(msg, from_initiator, th, from_initiator ? my_pk : pt, pt);
        if (secureio_signature_verify(pt, pt + 32, msg, n) != SECUREIO_OK) {
            why = SECUREIO_DROP_AUTH;
        } else {
            memcpy(peer, pt, 32);
            /* our own identity is never a peer: a packet relayed back to us,
             * or two engines sharing one key */
            if (sodium_memcmp(pt, my_pk, 32) == 0 || !sio_policy_allows(pol, pt))
                why = SECUREIO_DROP_PEER;
        }
    }
    sio_record_key_clear(&k);
    util_wipe(km, sizeof km);
    util_wipe(pt, sizeof pt);
    return why;
}

/* ------------------------------------------------------------ responder */

static int rng_fill(sio_responder *r, uint8_t *out, size_t len)
{
    if (r->rng != NULL)
        return r->rng(r->rng_ctx, out, len) == 0 ? SECUREIO_OK : SECUREIO_ERR_CRYPTO;
    randombytes_buf(out, len);
    return SECUREIO_OK;
}

int sio_responder_init(sio_responder *r, const secureio_identity *id,
                       const uint8_t kpsk[SIO_SECRET_LEN], uint16_t opts, uint32_t rate,
                       uint64_t rotate_interval, secureio_rng_fn rng, void *rng_ctx, size_t n_cache,
                       size_t cap_accepted, uint64_t now)
{
    memset(r, 0, sizeof *r);
    r->identity = id;
    secureio_identity_public_key(id, r->my_pk);
    sio_mac_key(r->mac_key, r->my_pk);
    memcpy(r->kpsk, kpsk, SIO_SECRET_LEN);
    r->opts = opts;
    r->rate = rate;
    r->rotate_interval = rotate_interval;
    r->rng = rng;
    r->rng_ctx = rng_ctx;
    r->cache = calloc(n_cache, sizeof *r->cache);
    if (r->cache == NULL) {
        sio_responder_clear(r);
        return SECUREIO_ERR_NOMEM;
    }
    r->n_cache = n_cache;
    r->max_accepted = cap_accepted; /* the table grows to it as hellos are used */
    sio_bucket_init(&r->tb_hello, rate, now);
    sio_bucket_init(&r->tb_cookie, rate, now);
    r->rotate_at = now > UINT64_MAX - rotate_interval ? UINT64_MAX : now + rotate_interval;
    int rc = rng_fill(r, r->secret, sizeof r->secret);
    if (rc == SECUREIO_OK)
        rc = rng_fill(r, r->id_key, sizeof r->id_key);
    if (rc != SECUREIO_OK)
        sio_responder_clear(r);
    return rc;
}

void sio_responder_clear(sio_responder *r)
{
    if (r->cache != NULL) {
        util_wipe(r->cache, r->n_cache * sizeof *r->cache);
        free(r->cache);
    }
    free(r->used);
    util_wipe(r, sizeof *r);
}

/* The secret of a generation still alive (the current one, or the one
 * before), or NULL. */
static const uint8_t *secret_of(const sio_responder *r, uint64_t gen)
{
    if (gen == r->gen)
        return r->secret;
    if (r->gen > 0 && gen == r->gen - 1)
        return r->secret_prev;
    return NULL;
}

/* ------------------------------------------- the memory of used hellos */

/* An open-addressing set of the keyed hashes of used hellos (the key is
 * secret: nobody can aim hellos at one slot), at most half full, grown by
 * doubling up to what max_accepted needs. */
static size_t used_slot(const sio_responder *r, const uint8_t id[16])
{
    return (size_t)util_load32_le(id) & (r->used_cap - 1);
}

static int used_find(const sio_responder *r, const uint8_t id[16])
{
    if (r->used_cap == 0)
        return 0;
    for (size_t i = used_slot(r, id);; i = (i + 1) & (r->used_cap - 1)) {
        if (!r->used[i].in_use)
            return 0;
        if (memcmp(r->used[i].id, id, 16) == 0)
            return 1;
    }
}

static void used_put(sio_responder *r, const sio_accepted *a)
{
    size_t i = used_slot(r, a->id);
    while (r->used[i].in_use)
        i = (i + 1) & (r->used_cap - 1);
    r->used[i] = *a;
}

/* Rebuilds the set with the live entries, in a table of cap slots. */
static int used_rehash(sio_responder *r, size_t cap)
{
    sio_accepted *old = r->used, *t = calloc(cap, sizeof *t);
    size_t old_cap = r->used_cap;
    if (t == NULL)
        return SECUREIO_ERR_NOMEM;
    r->used = t;
    r->used_cap = cap;
    r->n_used = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].in_use && secret_of(r, old[i].gen) != NULL) {
            used_put(r, &old[i]);
            r->n_used++;
        }
    free(old);
    return SECUREIO_OK;
}

static void used_rebuild(sio_responder *r)
{
    /* (without memory to rebuild, the dead entries stay: they only cost room) */
    if (r->used_cap > 0)
        (void)used_rehash(r, r->used_cap);
}

/* A new secret: answers made with the one before stay valid one period. */
static int rotate(sio_responder *r, uint64_t now)
{
    memcpy(r->secret_prev, r->secret, 32);
    r->gen++;
    r->rotate_at = now > UINT64_MAX - r->rotate_interval ? UINT64_MAX : now + r->rotate_interval;
    /* what only the dead secret could make goes with it */
    for (size_t i = 0; i < r->n_cache; i++)
        if (r->cache[i].used && secret_of(r, r->cache[i].gen) == NULL)
            util_wipe(&r->cache[i], sizeof r->cache[i]);
    used_rebuild(r); /* the hellos of the dead secret need no remembering */
    return rng_fill(r, r->secret, 32);
}

int sio_responder_tick(sio_responder *r, uint64_t now)
{
    return sio_responder_ready(r) && now >= r->rotate_at ? rotate(r, now) : SECUREIO_OK;
}

uint64_t sio_responder_deadline(const sio_responder *r)
{
    return sio_responder_ready(r) ? r->rotate_at : UINT64_MAX;
}

int sio_responder_ready(const sio_responder *r)
{
    return r->cache != NULL;
}

int sio_responder_answered(const sio_responder *r, uint32_t index)
{
    for (size_t i = 0; i < r->n_cache; i++)
        if (r->cache[i].used && r->cache[i].index_r == index &&
            secret_of(r, r->cache[i].gen) != NULL)
            return 1;
    return 0;
}

static void hello_id_bytes(uint8_t out[SIO_HELLO_ID_LEN], const sio_hs_packet *p)
{
    util_store16_be(out, p->options);
    util_store32_le(out + 2, p->index);
    memcpy(out + 6, p->e, 32);
    memcpy(out + 38, p->n, 32);
}

/* The cached answer to a hello, made with a secret still alive, or NULL
 * (linear: the cache is small). */
static const sio_answer_cache *cache_find(const sio_responder *r,
                                          const uint8_t id[SIO_HELLO_ID_LEN])
{
    for (size_t i = 0; i < r->n_cache; i++)
        if (r->cache[i].used && secret_of(r, r->cache[i].gen) != NULL &&
            memcmp(r->cache[i].hello, id, SIO_HELLO_ID_LEN) == 0)
            return &r->cache[i];
    return NULL;
}

/* One token of the source's bucket, if it has one. */
static int source_token(const sio_source *src, uint64_t now)
{
    return src == NULL || src->bucket == NULL || sio_bucket_take(src->bucket, src->rate, now);
}

int sio_responder_hello(sio_responder *r, const sio_hs_packet *p,
                        const uint8_t pkt[SIO_HS_PACKET_LEN], const sio_source *src, uint64_t now,
                        uint8_t out[SIO_HS_PACKET_LEN], int *cookie)
{
    uint8_t id[SIO_HELLO_ID_LEN], priv[32], dh[32], hs[SIO_SECRET_LEN], th[SIO_SECRET_LEN];
    const uint8_t *addr = src != NULL ? src->addr : NULL;
    size_t addr_len = src != NULL ? src->addr_len : 0;
    *cookie = 0;
    /* a hello must prove it knows our public key: nobody else learns who we are */
    if (!sio_hs_mac_ok(pkt, r->mac_key))
        return -SECUREIO_DROP_NOT_FOR_US;
    if (p->options != r->opts)
        return -SECUREIO_DROP_OPTIONS;
    hello_id_bytes(id, p);
    const sio_answer_cache *c = cache_find(r, id);
    if (c != NULL) {
        memcpy(out, c->auth_r, SIO_HS_PACKET_LEN); /* answered already: no new work */
        return 1;
    }
    const uint8_t *secret = r->secret;
    if (!util_ct_is_zero(p->echo, SIO_NONCE_LEN)) {
        /* it comes back with a cookie we gave to its address: it receives
         * our packets there */
        uint8_t ck[32];
        int ok = 0;
        for (uint64_t k = 0; k < 2 && !ok; k++) {
            const uint8_t *s = k <= r->gen ? secret_of(r, r->gen - k) : NULL;
            if (s == NULL)
                break;
            sio_cookie(ck, s, addr, addr_len, p->options, p->index, p->e, p->n);
            ok = sodium_memcmp(ck, p->echo, 32) == 0;
        }
        if (!ok)
            return -SECUREIO_DROP_STALE;
        /* its own address's share first: one source cannot use up the rest */
        if (!source_token(src, now) || !sio_bucket_take(&r->tb_cookie, r->rate, now))
            return -SECUREIO_DROP_RATE;
    } else if (!sio_bucket_take(&r->tb_hello, r->rate, now)) {
        /* Under load a hello without a cookie gets one (no DH, no
         * signature): a peer that receives our packets comes back with it,
         * a flood from forged addresses does not. */
        sio_hs_packet ck;
        memset(&ck, 0, sizeof ck);
        ck.type = SIO_PKT_COOKIE;
        ck.version = SIO_VERSION;
        ck.options = p->options;
        ck.index = p->index;
        memcpy(ck.e, p->e, 32);
        memcpy(ck.n, p->n, 32);
        sio_cookie(ck.echo, secret, addr, addr_len, p->options, p->index, p->e, p->n);
        sio_hs_encode(&ck, out);
        sio_hs_mac_put(out, r->mac_key);
        r->cookies_sent++;
        *cookie = 1;
        return 1;
    }
    /* the answer: AUTH_R, from the secret and the hello alone */
    sio_hs_packet a;
    memset(&a, 0, sizeof a);
    a.type = SIO_PKT_AUTH_R;
    a.version = SIO_VERSION;
    a.options = r->opts;
    sio_responder_ephemeral(priv, a.n, &a.index, secret, p->options, p->index, p->e, p->n);
    sio_x25519_public(a.e, priv);
    memcpy(a.echo, p->n, SIO_NONCE_LEN);
    int bad = sio_x25519(dh, priv, p->e);
    util_wipe(priv, sizeof priv);
    if (bad)
        return -SECUREIO_DROP_AUTH; /* a low-order point */
    sio_transcript(th, p->options, p->index, p->e, p->n, a.options, a.index, a.e, a.n);
    sio_handshake_secret(hs, r->kpsk, dh, th);
    util_wipe(dh, sizeof dh);
    /* the ticket the AUTH_I brings back: HS, TH and our index, for us only */
    sio_ticket_seal(a.ticket, secret, id, hs, th, a.index);
    sio_answer_cache *slot = &r->cache[r->cache_next];
    r->cache_next = (r->cache_next + 1) % r->n_cache;
    util_wipe(slot, sizeof *slot);
    int rc = sio_auth_seal(r->identity, r->my_pk, &a, hs, 0, th, NULL, r->mac_key, slot->auth_r);
    util_wipe(hs, sizeof hs);
    util_wipe(th, sizeof th);
    if (rc != SECUREIO_OK) {
        util_wipe(slot, sizeof *slot);
        return -SECUREIO_DROP_AUTH;
    }
    slot->used = 1;
    slot->gen = r->gen;
    memcpy(slot->hello, id, sizeof id);
    slot->index_r = a.index;
    memcpy(out, slot->auth_r, SIO_HS_PACKET_LEN);
    return 1;
}

/* Remembers a hello as used (until its secret is gone). The memory is
 * sized so that the hellos one secret period can answer fit; if it is full
 * all the same, the AUTH_I is refused (SECUREIO_DROP_RATE) rather than let
 * a hello be used twice or flush the secrets. */
static int remember(sio_responder *r, const uint8_t id[16])
{
    if (r->n_used >= r->max_accepted)
        return SECUREIO_DROP_RATE;
    if ((r->n_used + 1) * 2 > r->used_cap) {
        size_t cap = r->used_cap ? r->used_cap * 2 : 64;
        if (used_rehash(r, cap) != SECUREIO_OK)
            return SECUREIO_DROP_RATE;
    }
    sio_accepted a;
    memset(&a, 0, sizeof a);
    a.in_use = 1;
    a.gen = r->gen; /* at most as old as its secret */
    memcpy(a.id, id, 16);
    used_put(r, &a);
    r->n_used++;
    return 0;
}

int sio_responder_auth_i(sio_responder *r, const sio_hs_packet *p,
                         const uint8_t pkt[SIO_HS_PACKET_LEN], const sio_policy *pol,
                         sio_hs_result *res)
{
    uint8_t id[SIO_HELLO_ID_LEN];
    memset(res, 0, sizeof *res);
    if (!sio_hs_mac_ok(pkt, r->mac_key))
        return SECUREIO_DROP_NOT_FOR_US;
    if (p->options != r->opts)
        return SECUREIO_DROP_OPTIONS;
    hello_id_bytes(id, p);
    sio_bytes in = {id, SIO_HELLO_ID_LEN};
    sio_kdf_keyed(r->id_key, &in, 1, res->hello_id, 16);
    if (used_find(r, res->hello_id))
        return SECUREIO_DROP_REPLAY; /* that hello was used already */
    /* Our ticket gives HS, TH and our index back (current secret or the one
     * before): no Diffie-Hellman, so no rate limit, and a forgery costs two
     * AEAD opens. */
    int found = 0;
    for (uint64_t k = 0; k < 2 && !found; k++) {
        const uint8_t *s = k <= r->gen ? secret_of(r, r->gen - k) : NULL;
        if (s == NULL)
            break;
        found = sio_ticket_open(p->ticket, s, id, res->hs, res->th, &res->index_r) == 0;
    }
    if (!found)
        return SECUREIO_DROP_STALE;
    res->index_i = p->index;
    int opened;
    int why = sio_auth_open(pkt, res->hs, 1, res->th, r->my_pk, pol, res->peer, &opened);
    if (opened) {
        /* authentic: whoever sent it holds this hello's keys. It is used up,
         * whatever its signature and identity: no session twice, no second
         * signature check for one hello. */
        int full = remember(r, res->hello_id);
        if (full != 0)
            why = full;
    }
    if (why != 0) {
        util_wipe(res->hs, sizeof res->hs);
        util_wipe(res->th, sizeof res->th);
    }
    return why;
}
