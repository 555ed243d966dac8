/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's handshake (docs/PROTOCOL.md §3): a SIGMA-I exchange,
 *   HELLO(idx_I, e_I, n_I, mac) → AUTH_R(idx_R, e_R, n_R, {id_R, sig_R}, mac)
 *     → AUTH_I(idx_I, e_I, n_I, {id_I, sig_I}, mac)
 * then a CONFIRM record from the responder. Every mac is keyed with the
 * responder's public key: only who knows it gets an answer. The initiator
 * is an engine with a pinned peer; the responder's side is responder.c,
 * which an acceptor shares. Both sides may start at once: of two crossing
 * hellos, only the one with the smaller nonce is answered.
 */
#include <sodium.h>
#include <string.h>

#include "common/util.h"
#include "engine_internal.h"

int sio_hs_start(secureio_engine *e, uint64_t now)
{
    uint8_t seed[68];
    if (!e->can_initiate)
        return SECUREIO_OK; /* a responder waits for a hello */
    int rc = sio_rng(e, seed, sizeof seed);
    if (rc != SECUREIO_OK)
        return rc;
    memcpy(e->ei_priv, seed, 32);
    memset(&e->hello, 0, sizeof e->hello);
    e->hello.type = SIO_PKT_HELLO;
    e->hello.version = SIO_VERSION;
    e->hello.options = e->opts;
    e->hello.index = util_load32_le(seed + 64);
    sio_x25519_public(e->hello.e, e->ei_priv);
    memcpy(e->hello.n, seed + 32, 32);
    util_wipe(seed, sizeof seed);
    e->initiating = 1;
    e->send_hello = 1;
    sio_arm_rtx(e, now, 1);
    return SECUREIO_OK;
}

void sio_hs_retransmit(secureio_engine *e, uint64_t now)
{
    if (e->initiating) {
        e->send_hello = 1;
    } else if (e->auth_i_unconfirmed) {
        if (++e->auth_i_tries < SIO_AUTH_I_TRIES) {
            e->send_auth_i = 1;
            return;
        }
        /* No confirmation for our AUTH_I (lost, refused, or a copy of it
         * took its place at the responder): start again with a new hello
         * and new keys. Nothing was confirmed; queued messages wait. */
        sio_session_drop(e);
        if (sio_hs_start(e, now) != SECUREIO_OK)
            sio_close_with(e, SECUREIO_ERR_CRYPTO);
    }
}

/* A handshake packet to send after the ones waiting (bounded: when full,
 * the new one is dropped and counted). */
static void queue_answer(secureio_engine *e, const uint8_t pkt[SIO_HS_PACKET_LEN])
{
    if (e->answers_count == SIO_ANSWERS) {
        e->stats.dropped[SECUREIO_DROP_RATE]++;
        return;
    }
    memcpy(e->answers[(e->answers_head + e->answers_count) % SIO_ANSWERS], pkt, SIO_HS_PACKET_LEN);
    e->answers_count++;
}

/* A peer's HELLO: the responder answers it (nothing is kept but the answer). */
static void on_hello(secureio_engine *e, const sio_hs_packet *h, const uint8_t *pkt, uint64_t now)
{
    uint8_t out[SIO_HS_PACKET_LEN];
    int cookie;
    /* Crossing hellos: only the one with the smaller nonce is answered, until
     * our own handshake is confirmed (a peer still sending its hello then has
     * not seen our AUTH_I, and answering it would make a second session). */
    if ((e->initiating || e->auth_i_unconfirmed) && memcmp(h->n, e->hello.n, SIO_NONCE_LEN) >= 0)
        return;
    if (!sio_responder_ready(&e->resp)) {
        sio_drop(e, SECUREIO_DROP_STALE); /* an acceptor's session: the acceptor answers */
        return;
    }
    int r = sio_responder_hello(&e->resp, h, pkt, NULL, now, out, &cookie);
    e->stats.cookies_sent = e->resp.cookies_sent;
    if (r < 0) {
        sio_drop(e, (secureio_drop_reason)-r);
        return;
    }
    queue_answer(e, out);
}

/* A responder under load sent a cookie for our hello: send the hello again
 * with it, once (retransmissions go without: a forged cookie costs us one
 * packet and no state). The cookie carries the mac of our peer's key; the
 * first one waiting for poll() stays (a later one cannot replace it). */
static void on_cookie(secureio_engine *e, const sio_hs_packet *p, const uint8_t *pkt)
{
    if (!e->initiating || p->index != e->hello.index || memcmp(p->e, e->hello.e, 32) != 0 ||
        memcmp(p->n, e->hello.n, SIO_NONCE_LEN) != 0 || p->options != e->opts) {
        sio_drop(e, SECUREIO_DROP_STALE);
        return;
    }
    if (!sio_hs_mac_ok(pkt, e->mac_peer)) {
        sio_drop(e, SECUREIO_DROP_NOT_FOR_US);
        return;
    }
    if (e->send_hello_cookie)
        return;
    sio_hs_packet h = e->hello;
    memcpy(h.echo, p->echo, SIO_NONCE_LEN);
    sio_hs_encode(&h, e->hello_cookie_pkt);
    sio_hs_mac_put(e->hello_cookie_pkt, e->mac_peer);
    e->send_hello_cookie = 1;
}

/* The responder's AUTH_R, answering our hello. Not rate limited: it must
 * echo our fresh nonce and carry the mac of our peer's key, and a forged
 * one costs a DH and an AEAD (a signature check at most), so forgeries
 * cannot starve the real answer. */
static void on_auth_r(secureio_engine *e, const sio_hs_packet *p, const uint8_t *pkt, uint64_t now)
{
    uint8_t dh[32], hs[SIO_SECRET_LEN], th[SIO_SECRET_LEN], peer[32];
    if (!e->initiating || memcmp(p->echo, e->hello.n, SIO_NONCE_LEN) != 0) {
        sio_drop(e, SECUREIO_DROP_STALE);
        return;
    }
    if (!sio_hs_mac_ok(pkt, e->mac_peer)) {
        sio_drop(e, SECUREIO_DROP_NOT_FOR_US);
        return;
    }
    if (p->options != e->opts) {
        sio_drop(e, SECUREIO_DROP_OPTIONS);
        return;
    }
    if (sio_x25519(dh, e->ei_priv, p->e) != 0) {
        sio_drop(e, SECUREIO_DROP_AUTH);
        return;
    }
    sio_transcript(th, e->hello.options, e->hello.index, e->hello.e, e->hello.n, p->options,
                   p->index, p->e, p->n);
    sio_handshake_secret(hs, e->kpsk, dh, th);
    util_wipe(dh, sizeof dh);
    /* the responder must be the peer we pinned (its key made our hello's mac) */
    int why = sio_auth_open(pkt, hs, 0, th, e->my_pk, &e->policy_pinned, peer, NULL);
    if (why != 0) {
        util_wipe(hs, sizeof hs);
        if (why == SECUREIO_DROP_PEER)
            sio_drop_peer(e, peer);
        else
            sio_drop(e, (secureio_drop_reason)why);
        return;
    }
    /* our AUTH_I answers the responder's nonce; it leaves before any record */
    sio_hs_packet a = e->hello;
    a.type = SIO_PKT_AUTH_I;
    memcpy(a.echo, p->n, SIO_NONCE_LEN);
    memcpy(a.ticket, p->ticket, SIO_TICKET_LEN); /* the responder's, back to it */
    uint32_t my_index = e->hello.index;
    if (sio_auth_seal(e->cfg.identity, e->my_pk, &a, hs, 1, th, peer, e->mac_peer, e->auth_i_pkt) ==
            SECUREIO_OK &&
        sio_install_session(e, 1, hs, th, peer, my_index, p->index, now) == SECUREIO_OK) {
        e->auth_i_tries = 0;
        sio_arm_rtx(e, now, 1); /* AUTH_I until the responder confirms */
    }
    util_wipe(hs, sizeof hs);
}

/* The initiator's AUTH_I, answering an AUTH_R the responder derived. */
static void on_auth_i(secureio_engine *e, const sio_hs_packet *p, const uint8_t *pkt, uint64_t now)
{
    sio_hs_result res;
    if (e->established && !e->initiator &&
        sodium_memcmp(pkt, e->sess_auth_i, SIO_HS_PACKET_LEN) == 0) {
        /* a copy of the AUTH_I that made this session (byte for byte: it is
         * sealed once): our CONFIRM was lost. At most one answer per
         * retransmission interval, so copies cannot make us talk at will. */
        if (now >= e->confirm_at) {
            e->send_confirm = 1;
            e->confirm_at = sio_after(now, e->rtx_base);
        }
        return;
    }
    if (!sio_responder_ready(&e->resp)) {
        sio_drop(e, SECUREIO_DROP_STALE);
        return;
    }
    int why = sio_responder_auth_i(&e->resp, p, pkt, &e->policy, &res);
    if (why == 0 && e->established && sodium_memcmp(res.peer, e->peer_pk, 32) != 0)
        why = SECUREIO_DROP_PEER; /* a session's peer never changes */
    if (why < 0) {
        util_wipe(&res, sizeof res);
        sio_close_with(e, why); /* no randomness for a new secret */
        return;
    }
    if (why != 0) {
        if (why == SECUREIO_DROP_PEER)
            sio_drop_peer(e, res.peer);
        else
            sio_drop(e, (secureio_drop_reason)why);
        util_wipe(&res, sizeof res);
        return;
    }
    int rc = sio_install_session(e, 0, res.hs, res.th, res.peer, res.index_r, res.index_i, now);
    util_wipe(&res, sizeof res);
    if (rc != SECUREIO_OK) {
        sio_close_with(e, rc); /* out of memory or randomness: nothing half made stays */
        return;
    }
    memcpy(e->sess_auth_i, pkt, SIO_HS_PACKET_LEN);
    e->confirm_at = sio_after(now, e->rtx_base);
    e->send_confirm = 1;
    sio_early_replay(e, now); /* records that overtook the AUTH_I */
}

void sio_hs_packet_in(secureio_engine *e, const uint8_t *pkt, size_t len, uint64_t now)
{
    sio_hs_packet p;
    if (sio_hs_decode(&p, pkt, len) != 0) {
        sio_drop(e, SECUREIO_DROP_MALFORMED);
        return;
    }
    switch (p.type) {
    case SIO_PKT_HELLO: on_hello(e, &p, pkt, now); break;
    case SIO_PKT_AUTH_R: on_auth_r(e, &p, pkt, now); break;
    case SIO_PKT_AUTH_I: on_auth_i(e, &p, pkt, now); break;
    default: on_cookie(e, &p, pkt); break;
    }
}

int sio_hs_next(secureio_engine *e, uint8_t *out)
{
    if (e->answers_count > 0) {
        memcpy(out, e->answers[e->answers_head], SIO_HS_PACKET_LEN);
        e->answers_head = (e->answers_head + 1) % SIO_ANSWERS;
        e->answers_count--;
        return 1;
    }
    if (e->send_hello_cookie && e->initiating) {
        e->send_hello_cookie = 0;
        memcpy(out, e->hello_cookie_pkt, SIO_HS_PACKET_LEN);
        return 1;
    }
    if (e->send_hello && e->initiating) {
        e->send_hello = 0;
        sio_hs_encode(&e->hello, out);
        sio_hs_mac_put(out, e->mac_peer);
        return 1;
    }
    if (e->send_auth_i && e->auth_i_unconfirmed) {
        e->send_auth_i = 0;
        memcpy(out, e->auth_i_pkt, SIO_HS_PACKET_LEN);
        return 1;
    }
    return 0;
}

void sio_engine_adopt_begin(secureio_engine *e, uint64_t now)
{
    e->hs_deadline = sio_after(now, e->hs_timeout);
    e->last_rx = e->last_tx = now;
    e->can_initiate = 0;
    e->state = SECUREIO_STATE_HANDSHAKE; /* born in it: no event before on_session */
}

int sio_engine_adopt_finish(secureio_engine *e, const sio_hs_result *res,
                            const uint8_t pkt[SIO_HS_PACKET_LEN], uint64_t now)
{
    if (e->state != SECUREIO_STATE_HANDSHAKE)
        return SECUREIO_ERR_STATE; /* closed from on_session */
    int rc =
        sio_install_session(e, 0, res->hs, res->th, res->peer, res->index_r, res->index_i, now);
    if (rc != SECUREIO_OK)
        return rc;
    memcpy(e->sess_auth_i, pkt, SIO_HS_PACKET_LEN);
    e->confirm_at = sio_after(now, e->rtx_base);
    e->send_confirm = 1;
    return SECUREIO_OK;
}
