/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secureio session engine (include/secureio/engine.h), sans-I/O.
 *
 * Handshake (docs/PROTOCOL.md §3): a SIGMA-I exchange of three packets,
 *   HELLO(e_I, n_I) → AUTH_R(e_R, n_R, {id_R, sig_R}) → AUTH_I(e_I, n_I, {id_I, sig_I})
 * then a CONFIRM record from the responder. The responder is stateless: its
 * ephemeral key and nonce are derived from a local secret and the hello, so
 * a packet that is not yet authenticated changes no state. Both sides may
 * start at once: of two crossing hellos, only the one with the smaller nonce
 * is answered.
 *
 * Records: XChaCha20-Poly1305 under a key per direction and epoch, the whole
 * header as associated data, an explicit 64-bit counter, a replay window per
 * receive key. Rekeys are an ephemeral exchange in REKEY frames inside
 * records; the initiator of a rekey switches first, the responder when the
 * first record under the new key arrives, and old receive keys stay valid
 * for a grace period, so no packet is lost across the switch.
 */
#include <secureio/engine.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/detail.h"
#include "common/util.h"
#include "handshake.h"
#include "record.h"
#include "replay.h"
#include "wire.h"

/* Rekey long before a counter could run out; refuse to send at the end. */
#define SIO_REKEY_AFTER_PACKETS ((uint64_t)1 << 60)
#define SIO_COUNTER_LIMIT (UINT64_MAX - ((uint64_t)1 << 16))
#define SIO_RTX_MAX_FACTOR 8u

typedef struct send_key {
    int set;
    uint32_t epoch;
    uint64_t counter;
    sio_record_key k;
} send_key;

typedef struct recv_key {
    int set;
    uint32_t epoch;
    uint64_t expires; /* UINT64_MAX: no expiry */
    sio_record_key k;
    sio_replay replay;
} recv_key;

enum rekey_state { REKEY_NONE = 0, REKEY_INITIATED, REKEY_RESPONDED };

typedef struct token_bucket {
    uint64_t tokens, at; /* milli-tokens, and when they were counted */
} token_bucket;

struct secureio_engine {
    secureio_config cfg; /* pointers are the caller's */
    secureio_state state;
    secureio_stats stats;
    uint8_t my_pk[32];
    uint8_t kpsk[SIO_SECRET_LEN];
    uint16_t opts;
    size_t max_packet;

    /* timers */
    uint64_t hs_deadline, rtx_at, rtx_interval, rekey_at, rekey_deadline, rotate_at;
    uint64_t last_rx; /* the last authenticated record (or the handshake) */

    /* the stateless responder's secrets (current and previous) */
    uint8_t resp_secret[32], resp_secret_prev[32];
    int have_prev_secret;

    /* our own hello, while we initiate */
    int initiating;
    uint8_t ei_priv[32];
    sio_hs_packet hello;

    /* outgoing handshake packets */
    int send_hello, send_auth_i, send_auth_r, send_confirm, send_rekey_init, send_rekey_resp,
        send_close;
    int auth_i_unconfirmed; /* retransmit AUTH_I until the peer's first record */
    uint8_t auth_i_pkt[SIO_HS_PACKET_LEN], auth_r_pkt[SIO_HS_PACKET_LEN];
    /* the hello auth_r_pkt answers (options, e, n), while the secret that
     * made it lives: a copy of that hello gets it again without new work */
    int auth_r_cached;
    uint8_t auth_r_for[2 + 32 + 32];

    /* rate limits of the expensive work unauthenticated packets can cause:
     * answering hellos without a cookie, answering hellos with one, and
     * checking AUTH packets (which prove they saw our nonce) */
    token_bucket tb_hello, tb_cookie, tb_verify;
    /* pending cheap answers: a cookie for a hello, our hello with a cookie */
    int send_cookie, send_hello_cookie;
    uint8_t cookie_pkt[SIO_HS_PACKET_LEN], hello_cookie_pkt[SIO_HS_PACKET_LEN];
    /* a rekey initiator that switched: resend CONFIRM until the responder's
     * first record of the new epoch (the old receive key lives until then) */
    int rk_confirm_pending;

    /* the session */
    int established, initiator;
    uint8_t peer_pk[32], th[SIO_SECRET_LEN], master[SIO_SECRET_LEN];
    uint8_t sess_auth_i[SIO_HS_PACKET_LEN]; /* responders: the AUTH_I that made it */
    uint64_t confirm_at;                    /* when a copy of it may be answered again */
    uint32_t epoch;
    send_key tx, tx_next;
    recv_key rx_cur, rx_prev, rx_next;

    /* rekey */
    enum rekey_state rk;
    uint32_t rk_epoch;
    uint8_t rk_priv[32], rk_e[32], rk_n[32], rk_peer_n[32], rk_master[SIO_SECRET_LEN];

    /* buffers */
    uint8_t *scratch; /* a decrypted record */
    uint8_t *sbuf;    /* stream transports: a partial packet */
    size_t shave;
};

/* ------------------------------------------------------------- helpers */

/* now + d, saturating: the caller's clock may start anywhere. */
static uint64_t after(uint64_t now, uint64_t d)
{
    return now > UINT64_MAX - d ? UINT64_MAX : now + d;
}

static int rng(secureio_engine *e, uint8_t *out, size_t len)
{
    if (e->cfg.rng != NULL)
        return e->cfg.rng(e->cfg.rng_ctx, out, len) == 0 ? SECUREIO_OK : SECUREIO_ERR_CRYPTO;
    randombytes_buf(out, len);
    return SECUREIO_OK;
}

static void emit(secureio_engine *e, const secureio_event *ev)
{
    if (e->cfg.on_event != NULL)
        e->cfg.on_event(e->cfg.user, ev);
}

static void drop(secureio_engine *e, secureio_drop_reason why)
{
    secureio_event ev;
    memset(&ev, 0, sizeof ev);
    e->stats.dropped[why]++;
    ev.type = SECUREIO_EVENT_BAD_PACKET;
    ev.drop_reason = why;
    emit(e, &ev);
}

static void send_key_clear(send_key *k);
static void recv_key_clear(recv_key *k);

static void wipe_secrets(secureio_engine *e)
{
    send_key_clear(&e->tx);
    send_key_clear(&e->tx_next);
    recv_key_clear(&e->rx_cur);
    recv_key_clear(&e->rx_prev);
    recv_key_clear(&e->rx_next);
    util_wipe(e->master, sizeof e->master);
    util_wipe(e->rk_priv, sizeof e->rk_priv);
    util_wipe(e->rk_master, sizeof e->rk_master);
    util_wipe(e->ei_priv, sizeof e->ei_priv);
    util_wipe(e->resp_secret, sizeof e->resp_secret);
    util_wipe(e->resp_secret_prev, sizeof e->resp_secret_prev);
    util_wipe(e->kpsk, sizeof e->kpsk);
    e->established = 0;
}

static void close_with(secureio_engine *e, int err)
{
    secureio_event ev;
    if (e->state == SECUREIO_STATE_CLOSED)
        return;
    e->state = SECUREIO_STATE_CLOSED;
    wipe_secrets(e); /* nothing of a closed session is kept */
    memset(&ev, 0, sizeof ev);
    ev.type = SECUREIO_EVENT_CLOSED;
    ev.err = err;
    emit(e, &ev);
}

static void send_key_clear(send_key *k)
{
    sio_record_key_clear(&k->k);
    util_wipe(k, sizeof *k);
}

static void recv_key_clear(recv_key *k)
{
    sio_record_key_clear(&k->k);
    util_wipe(k, sizeof *k);
}

static int send_key_set(send_key *k, const uint8_t *keymat, uint32_t epoch)
{
    send_key_clear(k);
    int rc = sio_record_key_init(&k->k, keymat, keymat + 32);
    if (rc != SECUREIO_OK)
        return rc;
    k->set = 1;
    k->epoch = epoch;
    return SECUREIO_OK;
}

static int recv_key_set(recv_key *k, const uint8_t *keymat, uint32_t epoch)
{
    recv_key_clear(k);
    int rc = sio_record_key_init(&k->k, keymat, keymat + 32);
    if (rc != SECUREIO_OK)
        return rc;
    k->set = 1;
    k->epoch = epoch;
    k->expires = UINT64_MAX;
    sio_replay_init(&k->replay);
    return SECUREIO_OK;
}

/* Moves a record key (its EVP context) from src to dst. */
static void recv_key_move(recv_key *dst, recv_key *src)
{
    recv_key_clear(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

/* One token per expensive operation caused by an unauthenticated packet. */
static int take_token(secureio_engine *e, token_bucket *b, uint64_t now)
{
    uint64_t rate = e->cfg.handshake_rate, cap = rate * 1000u;
    if (now > b->at) {
        uint64_t gap = now - b->at;
        uint64_t add = gap >= 1000u ? cap : gap * rate; /* a second refills it all */
        b->tokens = cap - b->tokens < add ? cap : b->tokens + add;
        b->at = now;
    }
    if (b->tokens < 1000u)
        return 0;
    b->tokens -= 1000u;
    return 1;
}

static int authorized(const secureio_engine *e, const uint8_t pk[32])
{
    if (e->cfg.peer_key != NULL && sodium_memcmp(pk, e->cfg.peer_key, 32) == 0)
        return 1;
    if (e->cfg.allowed_peers != NULL && secureio_keylist_contains(e->cfg.allowed_peers, pk))
        return 1;
    return e->cfg.accept_any_peer;
}

static void arm_rtx(secureio_engine *e, uint64_t now, int first)
{
    if (first)
        e->rtx_interval = e->cfg.retransmit_ms;
    else if (e->rtx_interval < e->cfg.retransmit_ms * SIO_RTX_MAX_FACTOR)
        e->rtx_interval *= 2;
    e->rtx_at = after(now, e->rtx_interval);
}

/* ------------------------------------------------------------- session */

/* Installs epoch 0 of a session from a completed handshake. */
static int install_session(secureio_engine *e, int initiator, const uint8_t hs[SIO_SECRET_LEN],
                           const uint8_t th[SIO_SECRET_LEN], const uint8_t peer[32], uint64_t now)
{
    uint8_t km[SIO_KEYMAT_LEN], master[SIO_SECRET_LEN];
    const uint8_t *id_i = initiator ? e->my_pk : peer, *id_r = initiator ? peer : e->my_pk;
    send_key tx;
    recv_key rx;
    int rc;
    /* both keys first, then the switch: a failure changes nothing */
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    sio_session_master(master, hs, th, id_i, id_r);
    sio_traffic_keymat(km, master, 0, initiator);
    rc = send_key_set(&tx, km, 0);
    if (rc == SECUREIO_OK) {
        sio_traffic_keymat(km, master, 0, !initiator);
        rc = recv_key_set(&rx, km, 0);
    }
    util_wipe(km, sizeof km);
    if (rc != SECUREIO_OK) {
        send_key_clear(&tx);
        recv_key_clear(&rx);
        util_wipe(master, sizeof master);
        return rc;
    }
    send_key_clear(&e->tx);
    e->tx = tx;
    recv_key_clear(&e->rx_cur);
    e->rx_cur = rx;
    memcpy(e->master, master, sizeof master);
    util_wipe(master, sizeof master);
    /* a new session replaces the old one entirely */
    recv_key_clear(&e->rx_prev);
    recv_key_clear(&e->rx_next);
    send_key_clear(&e->tx_next);
    e->rk = REKEY_NONE;
    e->rk_confirm_pending = 0;
    util_wipe(e->rk_priv, sizeof e->rk_priv);
    e->send_rekey_init = e->send_rekey_resp = 0;
    e->epoch = 0;
    e->initiator = initiator;
    memcpy(e->peer_pk, peer, 32);
    memcpy(e->th, th, SIO_SECRET_LEN);
    e->established = 1;
    e->state = SECUREIO_STATE_ESTABLISHED;
    e->rekey_at = after(now, e->cfg.rekey_interval_ms);
    e->stats.handshakes++;
    /* our hello is answered or moot; the caller sets up AUTH_I for an initiator */
    e->initiating = 0;
    e->send_hello = 0;
    e->auth_i_unconfirmed = 0;
    e->send_auth_i = 0;
    e->last_rx = now;
    util_wipe(e->ei_priv, sizeof e->ei_priv);

    secureio_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SECUREIO_EVENT_ESTABLISHED;
    memcpy(ev.peer_key, peer, 32);
    emit(e, &ev);
    return SECUREIO_OK;
}

/* ------------------------------------------------------------ handshake */

static void make_hello(secureio_engine *e, sio_hs_packet *p)
{
    memset(p, 0, sizeof *p);
    p->type = SIO_PKT_HELLO;
    p->version = SIO_VERSION;
    p->options = e->opts;
}

/* Seals id || sig under the AUTH key of a role. */
static int seal_auth(secureio_engine *e, sio_hs_packet *p, const uint8_t hs[SIO_SECRET_LEN],
                     int initiator, const uint8_t th[SIO_SECRET_LEN], const uint8_t *peer_id,
                     uint8_t out[SIO_HS_PACKET_LEN])
{
    uint8_t msg[SIO_SIGNED_MAX], pt[SIO_AUTH_PT_LEN], km[SIO_KEYMAT_LEN];
    sio_record_key k = {0};
    size_t n = sio_signed_message(msg, initiator, th, initiator ? peer_id : e->my_pk, e->my_pk);
    memcpy(pt, e->my_pk, 32);
    int rc = secureio_identity_sign(e->cfg.identity, pt + 32, msg, n);
    if (rc == SECUREIO_OK) {
        sio_auth_keymat(km, hs, initiator);
        rc = sio_record_key_init(&k, km, km + 32);
    }
    if (rc == SECUREIO_OK) {
        memset(p->ct, 0, sizeof p->ct);
        sio_hs_encode(p, out);
        rc = sio_record_seal(&k, out + SIO_HS_HEADER_LEN, 0, out, SIO_HS_HEADER_LEN, pt, sizeof pt);
        memcpy(p->ct, out + SIO_HS_HEADER_LEN, SIO_AUTH_CT_LEN);
    }
    sio_record_key_clear(&k);
    util_wipe(km, sizeof km);
    util_wipe(pt, sizeof pt);
    return rc;
}

/* Opens an AUTH packet's identity and signature, checks the signature and
 * the peer's authorization. Returns a drop reason, or 0. */
static int open_auth(secureio_engine *e, const uint8_t *pkt, const uint8_t hs[SIO_SECRET_LEN],
                     int initiator, const uint8_t th[SIO_SECRET_LEN], uint8_t peer[32])
{
    uint8_t pt[SIO_AUTH_PT_LEN], km[SIO_KEYMAT_LEN], msg[SIO_SIGNED_MAX];
    sio_record_key k = {0};
    int why = 0;
    sio_auth_keymat(km, hs, initiator);
    if (sio_record_key_init(&k, km, km + 32) != SECUREIO_OK ||
        sio_record_open(&k, pt, 0, pkt, SIO_HS_HEADER_LEN, pkt + SIO_HS_HEADER_LEN,
                        SIO_AUTH_CT_LEN) != SECUREIO_OK) {
        why = SECUREIO_DROP_AUTH;
    } else {
        /* the responder signed TH || id_R; the initiator TH || id_R || id_I */
        size_t n = sio_signed_message(msg, initiator, th, initiator ? e->my_pk : pt, pt);
        if (secureio_signature_verify(pt, pt + 32, msg, n) != SECUREIO_OK)
            why = SECUREIO_DROP_AUTH;
        else if (!authorized(e, pt))
            why = SECUREIO_DROP_PEER;
        else
            memcpy(peer, pt, 32);
    }
    sio_record_key_clear(&k);
    util_wipe(km, sizeof km);
    util_wipe(pt, sizeof pt);
    return why;
}

static int start_initiator(secureio_engine *e, uint64_t now)
{
    uint8_t seed[64];
    int rc = rng(e, seed, sizeof seed);
    if (rc != SECUREIO_OK)
        return rc;
    memcpy(e->ei_priv, seed, 32);
    make_hello(e, &e->hello);
    sio_x25519_public(e->hello.e, e->ei_priv);
    memcpy(e->hello.n, seed + 32, 32);
    util_wipe(seed, sizeof seed);
    e->initiating = 1;
    e->send_hello = 1;
    arm_rtx(e, now, 1);
    return SECUREIO_OK;
}

/* A peer's HELLO: answer it statelessly with AUTH_R (nothing is kept but
 * the packet to send). */
static void on_hello(secureio_engine *e, const sio_hs_packet *h, uint64_t now)
{
    uint8_t priv[32], dh[32], hs[SIO_SECRET_LEN], th[SIO_SECRET_LEN];
    sio_hs_packet r;
    if (h->options != e->opts) {
        drop(e, SECUREIO_DROP_OPTIONS);
        return;
    }
    /* Crossing hellos: only the one with the smaller nonce is answered. This
     * holds until our own handshake is confirmed: a peer still sending its
     * hello then has not seen our AUTH_I yet, and answering it would make a
     * second session beside ours. */
    if ((e->initiating || e->auth_i_unconfirmed) && memcmp(h->n, e->hello.n, SIO_NONCE_LEN) >= 0)
        return;
    uint8_t key[sizeof e->auth_r_for];
    util_store16_be(key, h->options);
    memcpy(key + 2, h->e, 32);
    memcpy(key + 34, h->n, 32);
    if (e->auth_r_cached && memcmp(key, e->auth_r_for, sizeof key) == 0) {
        e->send_auth_r = 1; /* answered already (AUTH_R is deterministic) */
        return;
    }
    if (!util_ct_is_zero(h->echo, SIO_NONCE_LEN)) {
        /* it comes back with a cookie we gave: it receives our packets */
        uint8_t c[32];
        int ok = 0;
        for (int k = 0; k < 2 && !ok; k++) {
            if (k == 1 && !e->have_prev_secret)
                break;
            sio_cookie(c, k == 0 ? e->resp_secret : e->resp_secret_prev, h->options, h->e, h->n);
            ok = sodium_memcmp(c, h->echo, 32) == 0;
        }
        if (!ok) {
            drop(e, SECUREIO_DROP_STALE);
            return;
        }
        if (!take_token(e, &e->tb_cookie, now)) {
            drop(e, SECUREIO_DROP_RATE);
            return;
        }
    } else if (!take_token(e, &e->tb_hello, now)) {
        /* Under load, a hello without a cookie gets one (no DH, no
         * signature): a peer that can receive our packets comes back with
         * it, a flood from forged addresses does not. */
        sio_hs_packet c;
        make_hello(e, &c);
        c.type = SIO_PKT_COOKIE;
        c.options = h->options;
        memcpy(c.e, h->e, 32);
        memcpy(c.n, h->n, 32);
        sio_cookie(c.echo, e->resp_secret, h->options, h->e, h->n);
        sio_hs_encode(&c, e->cookie_pkt);
        e->send_cookie = 1;
        e->stats.cookies_sent++;
        return;
    }
    make_hello(e, &r);
    r.type = SIO_PKT_AUTH_R;
    sio_responder_ephemeral(priv, r.n, e->resp_secret, h->options, h->e, h->n);
    sio_x25519_public(r.e, priv);
    memcpy(r.echo, h->n, SIO_NONCE_LEN);
    if (sio_x25519(dh, priv, h->e) != 0) {
        drop(e, SECUREIO_DROP_AUTH); /* a low-order point */
    } else {
        sio_transcript(th, h->options, h->e, h->n, r.options, r.e, r.n);
        sio_handshake_secret(hs, e->kpsk, dh, th);
        e->auth_r_cached = 0;
        if (seal_auth(e, &r, hs, 0, th, NULL, e->auth_r_pkt) == SECUREIO_OK) {
            e->send_auth_r = 1;
            memcpy(e->auth_r_for, key, sizeof key);
            e->auth_r_cached = 1;
        }
    }
    util_wipe(priv, sizeof priv);
    util_wipe(dh, sizeof dh);
    util_wipe(hs, sizeof hs);
}

/* A responder under load sent a cookie for our hello: send the hello again
 * with it, once (retransmissions go without: a forged cookie costs us one
 * packet and no state). */
static void on_cookie(secureio_engine *e, const sio_hs_packet *p)
{
    if (!e->initiating || memcmp(p->e, e->hello.e, 32) != 0 ||
        memcmp(p->n, e->hello.n, SIO_NONCE_LEN) != 0 || p->options != e->opts) {
        drop(e, SECUREIO_DROP_STALE);
        return;
    }
    sio_hs_packet h = e->hello;
    memcpy(h.echo, p->echo, SIO_NONCE_LEN);
    sio_hs_encode(&h, e->hello_cookie_pkt);
    e->send_hello_cookie = 1;
}

/* The responder's AUTH_R, answering our hello. */
static void on_auth_r(secureio_engine *e, const sio_hs_packet *p, const uint8_t *pkt, uint64_t now)
{
    uint8_t dh[32], hs[SIO_SECRET_LEN], th[SIO_SECRET_LEN], peer[32];
    if (!e->initiating || memcmp(p->echo, e->hello.n, SIO_NONCE_LEN) != 0) {
        drop(e, SECUREIO_DROP_STALE);
        return;
    }
    if (p->options != e->opts) {
        drop(e, SECUREIO_DROP_OPTIONS);
        return;
    }
    if (!take_token(e, &e->tb_verify, now)) {
        drop(e, SECUREIO_DROP_RATE);
        return;
    }
    if (sio_x25519(dh, e->ei_priv, p->e) != 0) {
        drop(e, SECUREIO_DROP_AUTH);
        return;
    }
    sio_transcript(th, e->hello.options, e->hello.e, e->hello.n, p->options, p->e, p->n);
    sio_handshake_secret(hs, e->kpsk, dh, th);
    util_wipe(dh, sizeof dh);
    int why = open_auth(e, pkt, hs, 0, th, peer);
    if (why != 0) {
        drop(e, (secureio_drop_reason)why);
        util_wipe(hs, sizeof hs);
        return;
    }
    /* our AUTH_I answers the responder's nonce */
    sio_hs_packet a = e->hello;
    a.type = SIO_PKT_AUTH_I;
    memcpy(a.echo, p->n, SIO_NONCE_LEN);
    if (seal_auth(e, &a, hs, 1, th, peer, e->auth_i_pkt) == SECUREIO_OK &&
        install_session(e, 1, hs, th, peer, now) == SECUREIO_OK) {
        e->send_auth_i = 1;
        e->auth_i_unconfirmed = 1;
        arm_rtx(e, now, 1);
    }
    util_wipe(hs, sizeof hs);
}

/* The initiator's AUTH_I, answering an AUTH_R we derived statelessly. */
static void on_auth_i(secureio_engine *e, const sio_hs_packet *p, const uint8_t *pkt, uint64_t now)
{
    uint8_t priv[32], n_r[32], e_r[32], dh[32], hs[SIO_SECRET_LEN], th[SIO_SECRET_LEN], peer[32];
    int found = 0;
    if (p->options != e->opts) {
        drop(e, SECUREIO_DROP_OPTIONS);
        return;
    }
    if (e->established && !e->initiator &&
        sodium_memcmp(pkt, e->sess_auth_i, SIO_HS_PACKET_LEN) == 0) {
        /* a copy of the AUTH_I that made this session (byte for byte: it is
         * sealed once): our CONFIRM was lost. At most one answer per
         * retransmission interval, so copies cannot make us talk at will. */
        if (now >= e->confirm_at) {
            e->send_confirm = 1;
            e->confirm_at = after(now, e->cfg.retransmit_ms);
        }
        return;
    }
    /* Was the AUTH_R it answers ours? Re-derive it (current or previous secret). */
    for (int k = 0; k < 2 && !found; k++) {
        if (k == 1 && !e->have_prev_secret)
            break;
        sio_responder_ephemeral(priv, n_r, k == 0 ? e->resp_secret : e->resp_secret_prev,
                                p->options, p->e, p->n);
        found = memcmp(n_r, p->echo, SIO_NONCE_LEN) == 0;
    }
    if (!found) {
        util_wipe(priv, sizeof priv);
        drop(e, SECUREIO_DROP_STALE);
        return;
    }
    if (!take_token(e, &e->tb_verify, now)) {
        util_wipe(priv, sizeof priv);
        drop(e, SECUREIO_DROP_RATE);
        return;
    }
    sio_x25519_public(e_r, priv);
    sio_transcript(th, p->options, p->e, p->n, e->opts, e_r, n_r);
    int bad = sio_x25519(dh, priv, p->e);
    util_wipe(priv, sizeof priv);
    if (bad) {
        drop(e, SECUREIO_DROP_AUTH);
        return;
    }
    sio_handshake_secret(hs, e->kpsk, dh, th);
    util_wipe(dh, sizeof dh);
    int why = open_auth(e, pkt, hs, 1, th, peer);
    if (why == 0 && e->established && sodium_memcmp(peer, e->peer_pk, 32) != 0)
        why = SECUREIO_DROP_PEER; /* a session's peer never changes */
    if (why != 0) {
        drop(e, (secureio_drop_reason)why);
        util_wipe(hs, sizeof hs);
        return;
    }
    /* Verified. Every AUTH_R given so far dies with the secret, now, whatever
     * follows: a copy of this or an older AUTH_I can never install a session
     * (and its keys, from counter 0) a second time. */
    int rc = rng(e, e->resp_secret, 32);
    util_wipe(e->resp_secret_prev, sizeof e->resp_secret_prev);
    e->have_prev_secret = 0;
    e->auth_r_cached = 0;
    e->rotate_at = after(now, e->cfg.rekey_interval_ms);
    if (rc == SECUREIO_OK)
        rc = install_session(e, 0, hs, th, peer, now);
    util_wipe(hs, sizeof hs);
    if (rc != SECUREIO_OK) {
        close_with(e, rc); /* out of memory or randomness: nothing half made stays */
        return;
    }
    memcpy(e->sess_auth_i, pkt, SIO_HS_PACKET_LEN);
    e->confirm_at = after(now, e->cfg.retransmit_ms);
    e->send_confirm = 1;
    e->auth_i_unconfirmed = 0;
}

/* --------------------------------------------------------------- rekey */

static int start_rekey(secureio_engine *e, uint64_t now)
{
    if (!e->established || e->auth_i_unconfirmed || e->rk != REKEY_NONE || e->rk_confirm_pending ||
        e->epoch == UINT32_MAX)
        return SECUREIO_ERR_STATE;
    int rc = rng(e, e->rk_priv, 32);
    if (rc == SECUREIO_OK)
        rc = rng(e, e->rk_n, 32);
    if (rc != SECUREIO_OK)
        return rc;
    sio_x25519_public(e->rk_e, e->rk_priv);
    e->rk = REKEY_INITIATED;
    e->rk_epoch = e->epoch + 1;
    e->send_rekey_init = 1;
    e->rekey_deadline = after(now, e->cfg.handshake_timeout_ms);
    arm_rtx(e, now, 1);
    return SECUREIO_OK;
}

static void on_rekey_init(secureio_engine *e, const sio_frame *f, uint64_t now)
{
    uint8_t dh[32], km[SIO_KEYMAT_LEN];
    if (e->rk == REKEY_RESPONDED && f->epoch == e->rk_epoch &&
        memcmp(f->n, e->rk_peer_n, 32) == 0) {
        e->send_rekey_resp = 1; /* our answer was lost: send it again */
        return;
    }
    if (f->epoch != e->epoch + 1 || e->rk == REKEY_RESPONDED || e->epoch == UINT32_MAX)
        return; /* stale */
    if (e->rk == REKEY_INITIATED) {
        /* both started: the smaller nonce wins */
        if (memcmp(f->n, e->rk_n, 32) >= 0)
            return;
        util_wipe(e->rk_priv, sizeof e->rk_priv);
        e->send_rekey_init = 0;
        e->rk = REKEY_NONE;
    }
    if (rng(e, e->rk_priv, 32) != SECUREIO_OK || rng(e, e->rk_n, 32) != SECUREIO_OK)
        return;
    sio_x25519_public(e->rk_e, e->rk_priv);
    int bad = sio_x25519(dh, e->rk_priv, f->e);
    util_wipe(e->rk_priv, sizeof e->rk_priv);
    if (bad) {
        drop(e, SECUREIO_DROP_AUTH);
        return;
    }
    e->rk_epoch = f->epoch;
    memcpy(e->rk_peer_n, f->n, 32);
    sio_rekey_master(e->rk_master, e->master, dh, e->rk_epoch, f->e, f->n, e->rk_e, e->rk_n);
    util_wipe(dh, sizeof dh);
    /* the new receive key now; the new send key once the initiator uses it */
    sio_traffic_keymat(km, e->rk_master, e->rk_epoch, !e->initiator);
    int rc = recv_key_set(&e->rx_next, km, e->rk_epoch);
    if (rc == SECUREIO_OK) {
        sio_traffic_keymat(km, e->rk_master, e->rk_epoch, e->initiator);
        rc = send_key_set(&e->tx_next, km, e->rk_epoch);
    }
    util_wipe(km, sizeof km);
    if (rc != SECUREIO_OK)
        return;
    e->rk = REKEY_RESPONDED;
    e->send_rekey_resp = 1;
    e->rekey_deadline = after(now, e->cfg.handshake_timeout_ms);
    arm_rtx(e, now, 1);
}

static void rekeyed(secureio_engine *e, uint64_t now)
{
    secureio_event ev;
    memcpy(e->master, e->rk_master, SIO_SECRET_LEN);
    util_wipe(e->rk_master, sizeof e->rk_master);
    e->epoch = e->rk_epoch;
    e->rk = REKEY_NONE;
    e->rekey_at = after(now, e->cfg.rekey_interval_ms);
    e->rx_prev.expires = after(now, e->cfg.key_grace_ms);
    e->stats.rekeys++;
    memset(&ev, 0, sizeof ev);
    ev.type = SECUREIO_EVENT_REKEYED;
    ev.epoch = e->epoch;
    emit(e, &ev);
}

static void on_rekey_resp(secureio_engine *e, const sio_frame *f, uint64_t now)
{
    uint8_t dh[32], km[SIO_KEYMAT_LEN];
    send_key tx;
    recv_key rx;
    if (e->rk == REKEY_NONE && f->epoch == e->epoch && e->epoch > 0 &&
        memcmp(f->echo, e->rk_n, 32) == 0) {
        /* a copy of the answer we switched on: the responder has not seen
         * a record of the new epoch yet, so confirm it again */
        e->send_confirm = 1;
        return;
    }
    if (e->rk != REKEY_INITIATED || f->epoch != e->rk_epoch || memcmp(f->echo, e->rk_n, 32) != 0)
        return; /* stale */
    int bad = sio_x25519(dh, e->rk_priv, f->e);
    if (bad) {
        drop(e, SECUREIO_DROP_AUTH);
        return;
    }
    util_wipe(e->rk_priv, sizeof e->rk_priv);
    sio_rekey_master(e->rk_master, e->master, dh, e->rk_epoch, e->rk_e, e->rk_n, f->e, f->n);
    util_wipe(dh, sizeof dh);
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    sio_traffic_keymat(km, e->rk_master, e->rk_epoch, e->initiator);
    int rc = send_key_set(&tx, km, e->rk_epoch);
    if (rc == SECUREIO_OK) {
        sio_traffic_keymat(km, e->rk_master, e->rk_epoch, !e->initiator);
        rc = recv_key_set(&rx, km, e->rk_epoch);
    }
    util_wipe(km, sizeof km);
    if (rc != SECUREIO_OK) {
        send_key_clear(&tx);
        recv_key_clear(&rx);
        return;
    }
    /* switch now: the responder already holds the new receive key */
    send_key_clear(&e->tx);
    e->tx = tx;
    recv_key_move(&e->rx_prev, &e->rx_cur);
    e->rx_cur = rx;
    e->send_rekey_init = 0;
    /* the responder switches its sending on our first record of the new
     * epoch: send one now, even with nothing else to say, and again until
     * its first record of the new epoch; until then the old receive key
     * stays (the grace period starts from that record) */
    e->send_confirm = 1;
    rekeyed(e, now);
    e->rk_confirm_pending = 1;
    e->rx_prev.expires = UINT64_MAX;
    e->rekey_deadline = after(now, e->cfg.handshake_timeout_ms);
    arm_rtx(e, now, 1);
}

/* --------------------------------------------------------------- records */

static recv_key *find_recv_key(secureio_engine *e, uint8_t epoch_byte, uint64_t now)
{
    recv_key *c[3] = {&e->rx_cur, &e->rx_next, &e->rx_prev};
    for (int i = 0; i < 3; i++)
        if (c[i]->set && (uint8_t)c[i]->epoch == epoch_byte &&
            (c[i]->expires == UINT64_MAX || now < c[i]->expires))
            return c[i];
    return NULL;
}

static void on_record(secureio_engine *e, const uint8_t *pkt, size_t len, uint64_t now)
{
    sio_record_header h;
    if (!e->established) {
        drop(e, SECUREIO_DROP_NO_KEY);
        return;
    }
    if (sio_record_header_decode(&h, pkt, len) != 0 ||
        len < SIO_RECORD_HEADER_LEN + SIO_RECORD_TAG_LEN) {
        drop(e, SECUREIO_DROP_MALFORMED);
        return;
    }
    recv_key *k = find_recv_key(e, h.epoch, now);
    if (k == NULL) {
        drop(e, SECUREIO_DROP_NO_KEY);
        return;
    }
    if (!sio_replay_check(&k->replay, h.counter)) {
        drop(e, SECUREIO_DROP_REPLAY);
        return;
    }
    size_t ct_len = len - SIO_RECORD_HEADER_LEN, pt_len = ct_len - SIO_RECORD_TAG_LEN;
    if (sio_record_open(&k->k, e->scratch, h.counter, pkt, SIO_RECORD_HEADER_LEN,
                        pkt + SIO_RECORD_HEADER_LEN, ct_len) != SECUREIO_OK) {
        drop(e, SECUREIO_DROP_AUTH);
        return;
    }
    (void)sio_replay_update(&k->replay, h.counter);
    /* authentic from here on */
    e->last_rx = now;
    if (k == &e->rx_next) {
        /* the rekey initiator switched: so do we */
        send_key_clear(&e->tx);
        e->tx = e->tx_next;
        memset(&e->tx_next, 0, sizeof e->tx_next);
        recv_key_move(&e->rx_prev, &e->rx_cur);
        recv_key_move(&e->rx_cur, &e->rx_next);
        k = &e->rx_cur;
        e->send_rekey_resp = 0;
        e->send_confirm = 1; /* tell the initiator we switched too */
        rekeyed(e, now);
    }
    if (e->rk_confirm_pending && k == &e->rx_cur) {
        e->rk_confirm_pending = 0; /* the responder uses the new keys */
        e->rx_prev.expires = after(now, e->cfg.key_grace_ms);
    }
    if (e->auth_i_unconfirmed && k == &e->rx_cur) {
        e->auth_i_unconfirmed = 0; /* the responder holds the session keys */
        e->send_auth_i = 0;
    }
    size_t off = 0;
    sio_frame f;
    int r;
    while ((r = sio_frame_next(e->scratch, pt_len, &off, &f)) == 1) {
        switch (f.type) {
        case SIO_FRAME_DATA:
            e->stats.messages_in++;
            if (e->cfg.on_message != NULL)
                e->cfg.on_message(e->cfg.user, f.channel, f.data, f.len);
            break;
        case SIO_FRAME_REKEY_INIT: on_rekey_init(e, &f, now); break;
        case SIO_FRAME_REKEY_RESP: on_rekey_resp(e, &f, now); break;
        case SIO_FRAME_CLOSE:
            util_wipe(e->scratch, pt_len);
            close_with(e, SECUREIO_ERR_CLOSED);
            return;
        case SIO_FRAME_CONFIRM:
            if (f.flags & SIO_CONFIRM_ASK)
                e->send_confirm = 1; /* answered without the flag: no ping-pong */
            break;
        default: break;
        }
        if (e->state == SECUREIO_STATE_CLOSED)
            break;
    }
    if (r < 0)
        drop(e, SECUREIO_DROP_MALFORMED); /* authentic but malformed: the rest is ignored */
    util_wipe(e->scratch, pt_len);
}

static void on_packet(secureio_engine *e, const uint8_t *pkt, size_t len, uint64_t now)
{
    sio_hs_packet p;
    e->stats.packets_in++;
    if (len == 0 || len > e->max_packet) {
        drop(e, SECUREIO_DROP_MALFORMED);
        return;
    }
    if (pkt[0] == SIO_PKT_RECORD) {
        on_record(e, pkt, len, now);
        return;
    }
    if (sio_hs_decode(&p, pkt, len) != 0) {
        drop(e, SECUREIO_DROP_MALFORMED);
        return;
    }
    switch (p.type) {
    case SIO_PKT_HELLO: on_hello(e, &p, now); break;
    case SIO_PKT_AUTH_R: on_auth_r(e, &p, pkt, now); break;
    case SIO_PKT_AUTH_I: on_auth_i(e, &p, pkt, now); break;
    default: on_cookie(e, &p); break;
    }
}

/* ------------------------------------------------------------- public */

/* The first thing wrong with cfg (in the order engine.h documents), or NULL. */
static const char *config_problem(const secureio_config *cfg)
{
    if (cfg == NULL)
        return "cfg is NULL";
    if (cfg->version != SECUREIO_CONFIG_VERSION)
        return "cfg->version is not SECUREIO_CONFIG_VERSION (start from SECUREIO_CONFIG_INIT)";
    if (cfg->identity == NULL)
        return "cfg->identity is NULL";
    if (cfg->accept_any_peer != 0 && cfg->accept_any_peer != 1)
        return "cfg->accept_any_peer is neither 0 nor 1";
    if (cfg->peer_key == NULL && cfg->allowed_peers == NULL && cfg->accept_any_peer != 1)
        return "no peer is allowed: set cfg->peer_key, cfg->allowed_peers or "
               "cfg->accept_any_peer = 1";
    if (cfg->psk == NULL && cfg->psk_len > 0)
        return "cfg->psk is NULL but cfg->psk_len is not 0";
    if (cfg->psk_len > 0 && cfg->psk_len < SECUREIO_MIN_PSK_LEN)
        return "cfg->psk_len is below SECUREIO_MIN_PSK_LEN (32 bytes)";
    if (cfg->stream != 0 && cfg->stream != 1)
        return "cfg->stream is neither 0 nor 1";
    if (cfg->max_packet_len != 0 && (cfg->max_packet_len < SECUREIO_MIN_PACKET_LEN ||
                                     cfg->max_packet_len > SECUREIO_MAX_PACKET_LEN))
        return "cfg->max_packet_len is outside SECUREIO_MIN_PACKET_LEN..SECUREIO_MAX_PACKET_LEN";
    return NULL;
}

int secureio_engine_new(secureio_engine **out, const secureio_config *cfg)
{
    util_detail_clear();
    if (out == NULL) {
        util_detail("secureio_engine_new: out is NULL");
        return SECUREIO_ERR_ARG;
    }
    *out = NULL;
    const char *problem = config_problem(cfg);
    if (problem != NULL) {
        util_detail("secureio_engine_new: %s", problem);
        return SECUREIO_ERR_ARG;
    }
    if (sodium_init() < 0)
        return SECUREIO_ERR_CRYPTO;
    secureio_engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        return SECUREIO_ERR_NOMEM;
    e->cfg = *cfg;
    e->cfg.psk = NULL; /* only its key is kept */
    e->cfg.psk_len = 0;
    if (e->cfg.rekey_interval_ms == 0)
        e->cfg.rekey_interval_ms = 60000;
    if (e->cfg.handshake_timeout_ms == 0)
        e->cfg.handshake_timeout_ms = 60000;
    if (e->cfg.retransmit_ms == 0)
        e->cfg.retransmit_ms = 1000;
    if (e->cfg.key_grace_ms == 0)
        e->cfg.key_grace_ms = 10000;
    if (e->cfg.handshake_rate == 0)
        e->cfg.handshake_rate = 50;
    e->max_packet = cfg->max_packet_len ? cfg->max_packet_len : SECUREIO_DEFAULT_PACKET_LEN;
    e->opts = cfg->psk_len > 0 ? SIO_OPT_PSK : 0;
    sio_psk_key(e->kpsk, cfg->psk, cfg->psk_len);
    secureio_identity_public_key(cfg->identity, e->my_pk);
    e->tb_hello.tokens = e->tb_cookie.tokens = e->tb_verify.tokens =
        (uint64_t)e->cfg.handshake_rate * 1000u;
    e->scratch = malloc(e->max_packet);
    e->sbuf = cfg->stream ? malloc(e->max_packet + SECUREIO_STREAM_FRAME_HEADER) : NULL;
    int rc = (e->scratch == NULL || (cfg->stream && e->sbuf == NULL)) ? SECUREIO_ERR_NOMEM
                                                                      : rng(e, e->resp_secret, 32);
    if (rc != SECUREIO_OK) {
        secureio_engine_free(e);
        return rc;
    }
    e->state = SECUREIO_STATE_NEW;
    *out = e;
    return SECUREIO_OK;
}

int secureio_engine_start(secureio_engine *e, uint64_t now)
{
    if (e == NULL)
        return SECUREIO_ERR_ARG;
    if (e->state != SECUREIO_STATE_NEW)
        return SECUREIO_ERR_STATE;
    e->state = SECUREIO_STATE_HANDSHAKE;
    e->hs_deadline = after(now, e->cfg.handshake_timeout_ms);
    e->tb_hello.at = e->tb_cookie.at = e->tb_verify.at = now;
    e->rotate_at = after(now, e->cfg.rekey_interval_ms);
    return start_initiator(e, now);
}

/* Stream transports: 2-byte big-endian length, then the packet. */
static int recv_stream(secureio_engine *e, const uint8_t *in, size_t len, uint64_t now)
{
    while (len > 0 && e->state != SECUREIO_STATE_CLOSED) {
        size_t need;
        if (e->shave < SECUREIO_STREAM_FRAME_HEADER) {
            size_t n = SECUREIO_STREAM_FRAME_HEADER - e->shave;
            if (n > len)
                n = len;
            memcpy(e->sbuf + e->shave, in, n);
            e->shave += n;
            in += n;
            len -= n;
            if (e->shave < SECUREIO_STREAM_FRAME_HEADER)
                break;
            size_t plen = util_load16_be(e->sbuf);
            if (plen == 0 || plen > e->max_packet) {
                /* the framing is lost: nothing after this can be trusted to line up */
                e->stats.dropped[SECUREIO_DROP_MALFORMED]++;
                close_with(e, SECUREIO_ERR_FORMAT);
                return SECUREIO_ERR_FORMAT;
            }
        }
        need = SECUREIO_STREAM_FRAME_HEADER + util_load16_be(e->sbuf) - e->shave;
        if (e->shave == SECUREIO_STREAM_FRAME_HEADER && len >= need) {
            on_packet(e, in, need, now); /* whole in the input: no copy */
        } else {
            size_t n = need < len ? need : len;
            memcpy(e->sbuf + e->shave, in, n);
            e->shave += n;
            if (n < need) {
                len = 0;
                break;
            }
            on_packet(e, e->sbuf + SECUREIO_STREAM_FRAME_HEADER,
                      e->shave - SECUREIO_STREAM_FRAME_HEADER, now);
        }
        in += need;
        len -= need;
        e->shave = 0;
    }
    e->stats.stream_bytes_buffered = e->shave;
    return SECUREIO_OK;
}

int secureio_engine_recv(secureio_engine *e, const uint8_t *in, size_t in_len, uint64_t now)
{
    if (e == NULL || (in == NULL && in_len > 0))
        return SECUREIO_ERR_ARG;
    if (e->state == SECUREIO_STATE_CLOSED)
        return SECUREIO_ERR_CLOSED;
    if (e->state == SECUREIO_STATE_NEW)
        return SECUREIO_ERR_STATE;
    if (e->cfg.stream)
        return recv_stream(e, in, in_len, now);
    on_packet(e, in, in_len, now);
    return SECUREIO_OK;
}

size_t secureio_engine_max_message(const secureio_engine *e, uint32_t channel)
{
    if (e == NULL)
        return 0;
    size_t room = e->max_packet - SECUREIO_RECORD_OVERHEAD - 1 - sio_varint_len(channel);
    return room - sio_varint_len(room);
}

/* Seals the frames in pt[pt_len] (already placed at out + header + prefix)
 * as one record with the current send key. */
static int seal_record(secureio_engine *e, send_key *k, uint8_t *out, size_t *out_len,
                       size_t pt_len)
{
    size_t pre = e->cfg.stream ? SECUREIO_STREAM_FRAME_HEADER : 0;
    uint8_t *rec = out + pre;
    sio_record_header h = {(uint8_t)k->epoch, k->counter};
    if (k->counter >= SIO_COUNTER_LIMIT)
        return SECUREIO_ERR_LIMIT;
    sio_record_header_encode(&h, rec);
    int rc = sio_record_seal(&k->k, rec + SIO_RECORD_HEADER_LEN, k->counter, rec,
                             SIO_RECORD_HEADER_LEN, rec + SIO_RECORD_HEADER_LEN, pt_len);
    k->counter++; /* a nonce is never used twice, even after a failure */
    if (rc != SECUREIO_OK)
        return rc;
    size_t len = SIO_RECORD_HEADER_LEN + pt_len + SIO_RECORD_TAG_LEN;
    if (pre)
        util_store16_be(out, (uint16_t)len);
    *out_len = pre + len;
    e->stats.packets_out++;
    return SECUREIO_OK;
}

int secureio_engine_send(secureio_engine *e, uint32_t channel, const uint8_t *msg, size_t msg_len,
                         uint8_t *out, size_t *out_len, uint64_t now)
{
    if (e == NULL || out == NULL || out_len == NULL || (msg == NULL && msg_len > 0))
        return SECUREIO_ERR_ARG;
    if (e->state == SECUREIO_STATE_CLOSED)
        return SECUREIO_ERR_CLOSED;
    if (!e->established || e->send_close)
        return SECUREIO_ERR_STATE;
    if (msg_len > secureio_engine_max_message(e, channel))
        return SECUREIO_ERR_LIMIT;
    size_t pre = e->cfg.stream ? SECUREIO_STREAM_FRAME_HEADER : 0;
    uint8_t fh[SECUREIO_DATA_FRAME_MAX_HEADER];
    size_t fl = sio_frame_data_header(fh, channel, msg_len);
    size_t need = pre + SIO_RECORD_HEADER_LEN + fl + msg_len + SIO_RECORD_TAG_LEN;
    if (*out_len < need) {
        *out_len = need;
        return SECUREIO_ERR_BUFFER;
    }
    uint8_t *pt = out + pre + SIO_RECORD_HEADER_LEN;
    memcpy(pt, fh, fl);
    memmove(pt + fl, msg, msg_len); /* msg may already sit there */
    int rc = seal_record(e, &e->tx, out, out_len, fl + msg_len);
    if (rc != SECUREIO_OK)
        return rc;
    e->stats.messages_out++;
    if (e->tx.counter >= SIO_REKEY_AFTER_PACKETS && e->rk == REKEY_NONE)
        (void)start_rekey(e, now);
    return SECUREIO_OK;
}

/* A record holding one control frame. */
static int control_record(secureio_engine *e, send_key *k, uint8_t *out, size_t *out_len,
                          const uint8_t *frame, size_t frame_len)
{
    size_t pre = e->cfg.stream ? SECUREIO_STREAM_FRAME_HEADER : 0;
    memcpy(out + pre + SIO_RECORD_HEADER_LEN, frame, frame_len);
    return seal_record(e, k, out, out_len, frame_len);
}

static int handshake_packet(secureio_engine *e, uint8_t *out, size_t *out_len, const uint8_t *pkt)
{
    size_t pre = e->cfg.stream ? SECUREIO_STREAM_FRAME_HEADER : 0;
    if (pre)
        util_store16_be(out, SIO_HS_PACKET_LEN);
    memcpy(out + pre, pkt, SIO_HS_PACKET_LEN);
    *out_len = pre + SIO_HS_PACKET_LEN;
    e->stats.packets_out++;
    return SECUREIO_OK;
}

int secureio_engine_poll(secureio_engine *e, uint8_t *out, size_t *out_len, uint64_t now)
{
    uint8_t frame[SIO_REKEY_RESP_LEN];
    size_t room;
    (void)now;
    if (e == NULL || out == NULL || out_len == NULL)
        return SECUREIO_ERR_ARG;
    room = *out_len;
    *out_len = 0;
    if (room < e->max_packet + (e->cfg.stream ? SECUREIO_STREAM_FRAME_HEADER : 0))
        return SECUREIO_ERR_BUFFER;
    if (e->state == SECUREIO_STATE_CLOSED)
        return SECUREIO_OK;
    if (e->send_auth_r) {
        e->send_auth_r = 0;
        return handshake_packet(e, out, out_len, e->auth_r_pkt);
    }
    if (e->send_cookie) {
        e->send_cookie = 0;
        return handshake_packet(e, out, out_len, e->cookie_pkt);
    }
    if (e->send_hello_cookie && e->initiating) {
        e->send_hello_cookie = 0;
        return handshake_packet(e, out, out_len, e->hello_cookie_pkt);
    }
    if (e->send_hello && e->initiating) {
        uint8_t pkt[SIO_HS_PACKET_LEN];
        e->send_hello = 0;
        sio_hs_encode(&e->hello, pkt);
        return handshake_packet(e, out, out_len, pkt);
    }
    if (e->send_auth_i && e->auth_i_unconfirmed) {
        e->send_auth_i = 0;
        return handshake_packet(e, out, out_len, e->auth_i_pkt);
    }
    if (!e->established)
        return SECUREIO_OK;
    if (e->send_confirm) {
        e->send_confirm = 0;
        frame[0] = SIO_FRAME_CONFIRM;
        /* a rekey initiator waiting for the responder's first new record asks for one */
        frame[1] = e->rk_confirm_pending ? SIO_CONFIRM_ASK : 0;
        return control_record(e, &e->tx, out, out_len, frame, 2);
    }
    if (e->send_rekey_resp && e->rk == REKEY_RESPONDED) {
        e->send_rekey_resp = 0;
        size_t n = sio_frame_rekey(frame, SIO_FRAME_REKEY_RESP, e->rk_epoch, e->rk_e, e->rk_n,
                                   e->rk_peer_n);
        return control_record(e, &e->tx, out, out_len, frame, n);
    }
    if (e->send_rekey_init && e->rk == REKEY_INITIATED) {
        e->send_rekey_init = 0;
        size_t n =
            sio_frame_rekey(frame, SIO_FRAME_REKEY_INIT, e->rk_epoch, e->rk_e, e->rk_n, NULL);
        return control_record(e, &e->tx, out, out_len, frame, n);
    }
    if (e->send_close) {
        e->send_close = 0;
        frame[0] = SIO_FRAME_CLOSE;
        frame[1] = frame[2] = 0;
        int rc = control_record(e, &e->tx, out, out_len, frame, 3);
        close_with(e, SECUREIO_OK);
        return rc;
    }
    return SECUREIO_OK;
}

int secureio_engine_tick(secureio_engine *e, uint64_t now)
{
    if (e == NULL)
        return SECUREIO_ERR_ARG;
    if (e->state == SECUREIO_STATE_NEW || e->state == SECUREIO_STATE_CLOSED)
        return SECUREIO_OK;
    /* the handshake, confirmation included, has handshake_timeout_ms */
    if ((!e->established || e->auth_i_unconfirmed) && now >= e->hs_deadline) {
        close_with(e, SECUREIO_ERR_TIMEOUT);
        return SECUREIO_OK;
    }
    if ((e->rk != REKEY_NONE || e->rk_confirm_pending) && now >= e->rekey_deadline) {
        /* A rekey that takes long on a lossy link is retried as long as the
         * peer is heard from (the current keys stay valid); silence for the
         * whole timeout means the peer is gone. */
        if (now >= e->last_rx && now - e->last_rx >= e->cfg.handshake_timeout_ms) {
            close_with(e, SECUREIO_ERR_TIMEOUT);
            return SECUREIO_OK;
        }
        e->rekey_deadline = after(e->last_rx, e->cfg.handshake_timeout_ms);
    }
    if (now >= e->rotate_at) {
        /* the responder's secret: answers to older hellos stay valid one period */
        memcpy(e->resp_secret_prev, e->resp_secret, 32);
        e->have_prev_secret = 1;
        e->auth_r_cached = 0; /* answers come from the new secret now */
        if (rng(e, e->resp_secret, 32) != SECUREIO_OK)
            return SECUREIO_ERR_CRYPTO;
        e->rotate_at = after(now, e->cfg.rekey_interval_ms);
    }
    if (e->rx_prev.set && now >= e->rx_prev.expires)
        recv_key_clear(&e->rx_prev);
    if (now >= e->rtx_at) {
        if (e->initiating)
            e->send_hello = 1;
        else if (e->auth_i_unconfirmed)
            e->send_auth_i = 1;
        else if (e->rk == REKEY_INITIATED)
            e->send_rekey_init = 1;
        else if (e->rk == REKEY_RESPONDED)
            e->send_rekey_resp = 1; /* until the initiator's first new record */
        else if (e->rk_confirm_pending)
            e->send_confirm = 1; /* until the responder's first new record */
        arm_rtx(e, now, 0);
    }
    if (e->established && !e->auth_i_unconfirmed && e->rk == REKEY_NONE && !e->rk_confirm_pending &&
        now >= e->rekey_at) {
        int rc = start_rekey(e, now);
        if (rc != SECUREIO_OK && rc != SECUREIO_ERR_STATE)
            return rc;
    }
    return SECUREIO_OK;
}

uint64_t secureio_engine_deadline(const secureio_engine *e)
{
    uint64_t d = UINT64_MAX;
    if (e == NULL || e->state == SECUREIO_STATE_NEW || e->state == SECUREIO_STATE_CLOSED)
        return d;
#define SIO_MIN(x)                                                                                 \
    do {                                                                                           \
        if ((x) < d)                                                                               \
            d = (x);                                                                               \
    } while (0)
    if (!e->established || e->auth_i_unconfirmed)
        SIO_MIN(e->hs_deadline);
    if (e->initiating || e->auth_i_unconfirmed || e->rk != REKEY_NONE || e->rk_confirm_pending)
        SIO_MIN(e->rtx_at);
    if (e->rk != REKEY_NONE || e->rk_confirm_pending)
        SIO_MIN(e->rekey_deadline);
    else if (e->established && !e->auth_i_unconfirmed)
        SIO_MIN(e->rekey_at);
    if (e->rx_prev.set)
        SIO_MIN(e->rx_prev.expires);
    SIO_MIN(e->rotate_at);
#undef SIO_MIN
    return d;
}

int secureio_engine_rekey(secureio_engine *e, uint64_t now)
{
    if (e == NULL)
        return SECUREIO_ERR_ARG;
    return start_rekey(e, now);
}

void secureio_engine_close(secureio_engine *e, uint64_t now)
{
    (void)now;
    if (e == NULL || e->state == SECUREIO_STATE_CLOSED)
        return;
    if (e->established)
        e->send_close = 1; /* poll() sends it, then the session is closed */
    else
        close_with(e, SECUREIO_OK);
}

secureio_state secureio_engine_state(const secureio_engine *e)
{
    return e == NULL ? SECUREIO_STATE_CLOSED : e->state;
}

void secureio_engine_stats(const secureio_engine *e, secureio_stats *stats)
{
    if (e != NULL && stats != NULL)
        *stats = e->stats;
}

int secureio_engine_peer_key(const secureio_engine *e, uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    if (e == NULL || pk == NULL)
        return SECUREIO_ERR_ARG;
    if (!e->established)
        return SECUREIO_ERR_STATE;
    memcpy(pk, e->peer_pk, 32);
    return SECUREIO_OK;
}

void secureio_engine_free(secureio_engine *e)
{
    if (e == NULL)
        return;
    send_key_clear(&e->tx);
    send_key_clear(&e->tx_next);
    recv_key_clear(&e->rx_cur);
    recv_key_clear(&e->rx_prev);
    recv_key_clear(&e->rx_next);
    if (e->scratch != NULL) {
        util_wipe(e->scratch, e->max_packet);
        free(e->scratch);
    }
    if (e->sbuf != NULL) {
        util_wipe(e->sbuf, e->max_packet + SECUREIO_STREAM_FRAME_HEADER);
        free(e->sbuf);
    }
    util_wipe(e, sizeof *e);
    free(e);
}
