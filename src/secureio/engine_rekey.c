/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rekeys (docs/PROTOCOL.md §5): a fresh ephemeral X25519 exchange in
 * REKEY_INIT and REKEY_RESP frames inside records, chained into the master
 * secret. The initiator of a rekey switches its sending first (when the
 * answer comes), the responder when the first record under the new key
 * arrives; old receive keys stay valid for a grace period, so no record is
 * lost across the switch. Every epoch has a hard lifetime: a session whose
 * rekeys do not get through closes (SECUREIO_ERR_KEY_EXPIRED, engine.c).
 */
#include <string.h>

#include "common/util.h"
#include "engine_internal.h"

int sio_rekey_start(secureio_engine *e, uint64_t now)
{
    if (!e->established || e->auth_i_unconfirmed || e->rk != REKEY_NONE || e->rk_confirm_pending ||
        e->epoch == UINT32_MAX)
        return SECUREIO_ERR_STATE;
    int rc = sio_rng(e, e->rk_priv, 32);
    if (rc == SECUREIO_OK)
        rc = sio_rng(e, e->rk_n, 32);
    if (rc != SECUREIO_OK)
        return rc;
    sio_x25519_public(e->rk_e, e->rk_priv);
    e->rk = REKEY_INITIATED;
    e->rk_epoch = e->epoch + 1;
    e->send_rekey_init = 1;
    e->rekey_deadline = sio_after(now, e->hs_timeout);
    sio_arm_rtx(e, now, 1);
    return SECUREIO_OK;
}

void sio_rekey_on_init(secureio_engine *e, const sio_frame *f, uint64_t now)
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
    if (sio_rng(e, e->rk_priv, 32) != SECUREIO_OK || sio_rng(e, e->rk_n, 32) != SECUREIO_OK)
        return;
    sio_x25519_public(e->rk_e, e->rk_priv);
    int bad = sio_x25519(dh, e->rk_priv, f->e);
    util_wipe(e->rk_priv, sizeof e->rk_priv);
    if (bad) {
        sio_drop(e, SECUREIO_DROP_AUTH);
        return;
    }
    e->rk_epoch = f->epoch;
    memcpy(e->rk_peer_n, f->n, 32);
    sio_rekey_master(e->rk_master, e->master, dh, e->rk_epoch, f->e, f->n, e->rk_e, e->rk_n);
    util_wipe(dh, sizeof dh);
    /* the new receive key now; the new send key once the initiator uses it */
    sio_traffic_keymat(km, e->rk_master, e->rk_epoch, !e->initiator);
    int rc = sio_recv_key_set(&e->rx_next, km, e->rk_epoch);
    if (rc == SECUREIO_OK) {
        sio_traffic_keymat(km, e->rk_master, e->rk_epoch, e->initiator);
        rc = sio_send_key_set(&e->tx_next, km, e->rk_epoch);
    }
    util_wipe(km, sizeof km);
    if (rc != SECUREIO_OK) {
        sio_recv_key_clear(&e->rx_next);
        sio_send_key_clear(&e->tx_next);
        util_wipe(e->rk_master, sizeof e->rk_master);
        return;
    }
    e->rk = REKEY_RESPONDED;
    e->send_rekey_resp = 1;
    e->rekey_deadline = sio_after(now, e->hs_timeout);
    sio_arm_rtx(e, now, 1);
}

/* Both sides: the new epoch is in use. */
static void rekeyed(secureio_engine *e, uint64_t now)
{
    secureio_event ev;
    memcpy(e->master, e->rk_master, SIO_SECRET_LEN);
    util_wipe(e->rk_master, sizeof e->rk_master);
    e->epoch = e->rk_epoch;
    e->rk = REKEY_NONE;
    e->rekey_at = sio_after(now, e->rekey_interval);
    e->key_expires = sio_after(now, e->key_lifetime);
    e->rx_prev.expires = sio_after(now, e->key_grace);
    e->stats.rekeys++;
    memset(&ev, 0, sizeof ev);
    ev.type = SECUREIO_EVENT_REKEYED;
    ev.epoch = e->epoch;
    sio_emit(e, &ev);
}

void sio_rekey_on_resp(secureio_engine *e, const sio_frame *f, uint64_t now)
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
    if (sio_x25519(dh, e->rk_priv, f->e) != 0) {
        sio_drop(e, SECUREIO_DROP_AUTH);
        return;
    }
    util_wipe(e->rk_priv, sizeof e->rk_priv);
    sio_rekey_master(e->rk_master, e->master, dh, e->rk_epoch, e->rk_e, e->rk_n, f->e, f->n);
    util_wipe(dh, sizeof dh);
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    sio_traffic_keymat(km, e->rk_master, e->rk_epoch, e->initiator);
    int rc = sio_send_key_set(&tx, km, e->rk_epoch);
    if (rc == SECUREIO_OK) {
        sio_traffic_keymat(km, e->rk_master, e->rk_epoch, !e->initiator);
        rc = sio_recv_key_set(&rx, km, e->rk_epoch);
    }
    util_wipe(km, sizeof km);
    if (rc != SECUREIO_OK) {
        sio_send_key_clear(&tx);
        sio_recv_key_clear(&rx);
        return;
    }
    /* switch now: the responder already holds the new receive key */
    sio_send_key_clear(&e->tx);
    e->tx = tx;
    sio_recv_key_move(&e->rx_prev, &e->rx_cur);
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
    e->rekey_deadline = sio_after(now, e->hs_timeout);
    sio_arm_rtx(e, now, 1);
}

void sio_rekey_switch(secureio_engine *e, uint64_t now)
{
    /* the rekey initiator sent under the new key: so do we now */
    sio_send_key_clear(&e->tx);
    e->tx = e->tx_next;
    memset(&e->tx_next, 0, sizeof e->tx_next);
    sio_recv_key_move(&e->rx_prev, &e->rx_cur);
    sio_recv_key_move(&e->rx_cur, &e->rx_next);
    e->send_rekey_resp = 0;
    e->send_confirm = 1; /* tell the initiator we switched too */
    rekeyed(e, now);
}

void sio_rekey_retransmit(secureio_engine *e)
{
    if (e->rk == REKEY_INITIATED)
        e->send_rekey_init = 1;
    else if (e->rk == REKEY_RESPONDED)
        e->send_rekey_resp = 1; /* until the initiator's first new record */
    else if (e->rk_confirm_pending)
        e->send_confirm = 1; /* until the responder's first new record */
}
