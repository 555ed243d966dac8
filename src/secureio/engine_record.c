/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records (docs/PROTOCOL.md §4): the keys of each direction and epoch, a
 * session's installation, opening a received record and acting on its
 * frames, and making the next record to send: control frames, then queued
 * messages packed whole or cut into fragments, sealed in place in the
 * caller's buffer.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "engine_internal.h"

/* ------------------------------------------------------------------ keys */

void sio_send_key_clear(send_key *k)
{
    sio_record_key_clear(&k->k);
    util_wipe(k, sizeof *k);
}

void sio_recv_key_clear(recv_key *k)
{
    sio_record_key_clear(&k->k);
    util_wipe(k, sizeof *k);
}

int sio_send_key_set(send_key *k, const uint8_t *keymat, uint32_t epoch)
{
    sio_send_key_clear(k);
    int rc = sio_record_key_init(&k->k, keymat, keymat + 32);
    if (rc != SECUREIO_OK)
        return rc;
    k->set = 1;
    k->epoch = epoch;
    return SECUREIO_OK;
}

int sio_recv_key_set(recv_key *k, const uint8_t *keymat, uint32_t epoch)
{
    sio_recv_key_clear(k);
    int rc = sio_record_key_init(&k->k, keymat, keymat + 32);
    if (rc != SECUREIO_OK)
        return rc;
    k->set = 1;
    k->epoch = epoch;
    k->expires = UINT64_MAX;
    sio_replay_init(&k->replay);
    return SECUREIO_OK;
}

void sio_recv_key_move(recv_key *dst, recv_key *src)
{
    sio_recv_key_clear(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

/* -------------------------------------------------------------- session */

/* Both sides hold the session keys: a responder once it verified the
 * AUTH_I, an initiator once the responder's first record proves it did. */
static void session_up(secureio_engine *e, uint64_t now)
{
    if (e->state == SECUREIO_STATE_HANDSHAKE)
        sio_pmtu_start(e, now); /* NEGOTIATING while it searches, or ESTABLISHED */
    if (e->state == SECUREIO_STATE_CLOSED)
        return; /* closed from a callback of the state change: nothing after CLOSED */
    secureio_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SECUREIO_EVENT_ESTABLISHED;
    ev.has_peer_key = 1;
    memcpy(ev.peer_key, e->peer_pk, 32);
    sio_emit(e, &ev);
}

int sio_install_session(secureio_engine *e, int initiator, const uint8_t hs[SIO_SECRET_LEN],
                        const uint8_t th[SIO_SECRET_LEN], const uint8_t peer[32], uint32_t my_index,
                        uint32_t peer_index, uint64_t now)
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
    rc = sio_send_key_set(&tx, km, 0);
    if (rc == SECUREIO_OK) {
        sio_traffic_keymat(km, master, 0, !initiator);
        rc = sio_recv_key_set(&rx, km, 0);
    }
    util_wipe(km, sizeof km);
    if (rc != SECUREIO_OK) {
        sio_send_key_clear(&tx);
        sio_recv_key_clear(&rx);
        util_wipe(master, sizeof master);
        return rc;
    }
    sio_send_key_clear(&e->tx);
    e->tx = tx;
    sio_recv_key_clear(&e->rx_cur);
    e->rx_cur = rx;
    memcpy(e->master, master, sizeof master);
    util_wipe(master, sizeof master);
    /* a new session replaces the old one entirely */
    sio_recv_key_clear(&e->rx_prev);
    sio_recv_key_clear(&e->rx_next);
    sio_send_key_clear(&e->tx_next);
    e->rk = REKEY_NONE;
    e->rk_confirm_pending = 0;
    util_wipe(e->rk_priv, sizeof e->rk_priv);
    e->send_rekey_init = e->send_rekey_resp = 0;
    e->epoch = 0;
    e->initiator = initiator;
    e->my_index = my_index;
    e->peer_index = peer_index;
    memcpy(e->peer_pk, peer, 32);
    memcpy(e->th, th, SIO_SECRET_LEN);
    sio_reasm_clear(&e->ra); /* messages in progress belong to an old session */
    sio_sendq_rewind(&e->q); /* and so do the pieces of ours sent in it */
    e->q_held = 0;
    e->peer_heard = 0;
    e->established = 1;
    e->rekey_at = sio_after(now, e->rekey_interval);
    e->key_expires = sio_after(now, e->key_lifetime);
    e->stats.handshakes++;
    e->initiating = 0; /* our hello is answered or moot */
    e->send_hello = e->send_hello_cookie = 0;
    /* an initiator's AUTH_I goes out now, and is sent again until the
     * responder's first record confirms it */
    e->auth_i_unconfirmed = initiator;
    e->send_auth_i = initiator;
    e->early_sent = 0;
    e->last_rx = e->last_tx = now;
    util_wipe(e->ei_priv, sizeof e->ei_priv);
    if (!initiator)
        session_up(e, now);
    return SECUREIO_OK;
}

void sio_session_drop(secureio_engine *e)
{
    sio_send_key_clear(&e->tx);
    sio_send_key_clear(&e->tx_next);
    sio_recv_key_clear(&e->rx_cur);
    sio_recv_key_clear(&e->rx_prev);
    sio_recv_key_clear(&e->rx_next);
    util_wipe(e->master, sizeof e->master);
    util_wipe(e->th, sizeof e->th);
    util_wipe(e->auth_i_pkt, sizeof e->auth_i_pkt);
    util_wipe(e->peer_pk, sizeof e->peer_pk);
    sio_reasm_clear(&e->ra);
    sio_sendq_rewind(&e->q); /* what was sent in the dropped session goes again */
    e->q_held = 0;
    e->established = 0;
    e->peer_heard = 0;
    e->auth_i_unconfirmed = 0;
    e->send_auth_i = 0;
    e->send_confirm = 0;
    e->early_sent = 0;
    e->epoch = 0;
}

static void complete(secureio_engine *e, size_t done);

/* --------------------------------------------------------------- receive */

static recv_key *find_recv_key(secureio_engine *e, uint8_t epoch_byte, uint64_t now)
{
    recv_key *c[3] = {&e->rx_cur, &e->rx_next, &e->rx_prev};
    for (int i = 0; i < 3; i++)
        if (c[i]->set && (uint8_t)c[i]->epoch == epoch_byte &&
            (c[i]->expires == UINT64_MAX || now < c[i]->expires))
            return c[i];
    return NULL;
}

/* The handler of a channel (binary search), or NULL. */
static const handler *find_handler(const secureio_engine *e, uint32_t channel)
{
    size_t lo = 0, hi = e->n_handlers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->handlers[mid].channel == channel)
            return &e->handlers[mid];
        if (e->handlers[mid].channel < channel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void deliver(secureio_engine *e, uint32_t channel, const uint8_t *data, size_t len)
{
    const handler *h = find_handler(e, channel);
    e->stats.messages_in++;
    if (h != NULL)
        h->fn(h->user, channel, data, len);
    else if (e->cfg.on_message != NULL)
        e->cfg.on_message(e->cfg.user, channel, data, len);
}

static void on_fragment(secureio_engine *e, const sio_frame *f, uint64_t now)
{
    const uint8_t *msg;
    size_t len;
    e->stats.fragments_in++;
    int r = sio_reasm_add(&e->ra, f->channel, f->id, f->total, f->offset, f->data, f->len, now,
                          &msg, &len);
    e->stats.messages_expired = e->ra.expired;
    e->stats.reassembly_bytes = e->ra.held;
    if (r == SIO_REASM_DONE) {
        deliver(e, f->channel, msg, len);
        sio_reasm_release(&e->ra); /* after the handler (which may have closed us) */
    } else if (r == SIO_REASM_BAD)
        sio_drop(e, SECUREIO_DROP_FRAGMENT);
    else if (r == SIO_REASM_NOMEM)
        sio_close_with(e, SECUREIO_ERR_NOMEM);
}

int sio_record_in(secureio_engine *e, const uint8_t *pkt, size_t len, uint64_t now)
{
    sio_record_header h;
    if (sio_record_header_decode(&h, pkt, len) != 0 ||
        len < SIO_RECORD_HEADER_LEN + SIO_RECORD_TAG_LEN) {
        sio_drop(e, SECUREIO_DROP_MALFORMED);
        return 0;
    }
    if (!e->established) {
        /* a responder gets its keys from the AUTH_I this may have overtaken */
        sio_early_keep(e, pkt, len);
        return 0;
    }
    if (h.index != e->my_index) {
        sio_drop(e, SECUREIO_DROP_NOT_FOR_US);
        return 0;
    }
    recv_key *k = find_recv_key(e, h.epoch, now);
    if (k == NULL) {
        sio_drop(e, SECUREIO_DROP_NO_KEY);
        return 0;
    }
    if (!sio_replay_check(&k->replay, h.counter)) {
        sio_drop(e, SECUREIO_DROP_REPLAY);
        return 0;
    }
    size_t ct_len = len - SIO_RECORD_HEADER_LEN, pt_len = ct_len - SIO_RECORD_TAG_LEN;
    if (sio_record_open(&k->k, e->scratch, h.counter, pkt, SIO_RECORD_HEADER_LEN,
                        pkt + SIO_RECORD_HEADER_LEN, ct_len) != SECUREIO_OK) {
        sio_drop(e, SECUREIO_DROP_AUTH);
        return 0;
    }
    /* the newest record of its key so far (not a late one let through by
     * the window): only such a record may move an acceptor's peer address */
    int result = h.counter >= k->replay.top ? 2 : 1;
    (void)sio_replay_update(&k->replay, h.counter);
    /* authentic from here on */
    e->last_rx = now;
    if (k == &e->rx_next) {
        sio_rekey_switch(e, now); /* the rekey initiator switched: so do we */
        k = &e->rx_cur;
    }
    if (e->rk_confirm_pending && k == &e->rx_cur) {
        e->rk_confirm_pending = 0; /* the responder uses the new keys */
        e->rx_prev.expires = sio_after(now, e->key_grace);
    }
    if (!e->initiator)
        e->peer_heard = 1; /* a datagram responder may send messages now */
    if (e->auth_i_unconfirmed && k == &e->rx_cur) {
        e->auth_i_unconfirmed = 0; /* the responder holds the session keys */
        e->send_auth_i = 0;
        if (!e->cfg.stream)
            e->send_confirm = 1; /* an authentic record at once: the responder learns
                                    where we are, and may send */
        session_up(e, now);
        if (e->state != SECUREIO_STATE_CLOSED && e->q_held > 0) {
            size_t held = e->q_held; /* what went in early records arrived now */
            e->q_held = 0;
            complete(e, held);
        }
        if (e->state == SECUREIO_STATE_CLOSED)
            return result;
    }
    size_t off = 0;
    sio_frame f;
    int r;
    while (e->state != SECUREIO_STATE_CLOSED &&
           (r = sio_frame_next(e->scratch, pt_len, &off, &f)) == 1) {
        switch (f.type) {
        case SIO_FRAME_DATA:
            if ((uint64_t)f.len > e->cfg.max_message_len)
                sio_drop(e, SECUREIO_DROP_FRAGMENT); /* over our limit, as a fragmented one */
            else
                deliver(e, f.channel, f.data, f.len);
            break;
        case SIO_FRAME_FRAGMENT: on_fragment(e, &f, now); break;
        case SIO_FRAME_REKEY_INIT: sio_rekey_on_init(e, &f, now); break;
        case SIO_FRAME_REKEY_RESP: sio_rekey_on_resp(e, &f, now); break;
        case SIO_FRAME_CLOSE:
            util_wipe(e->scratch, pt_len);
            sio_close_with(e, SECUREIO_ERR_CLOSED);
            return result;
        case SIO_FRAME_CONFIRM:
            if (f.flags & SIO_CONFIRM_ASK)
                e->send_confirm = 1; /* answered without the flag: no ping-pong */
            break;
        case SIO_FRAME_PROBE: sio_pmtu_on_probe(e, f.id, len); break;
        case SIO_FRAME_PROBE_ACK: sio_pmtu_on_ack(e, f.id, f.size, now); break;
        default: break;
        }
    }
    if (e->state != SECUREIO_STATE_CLOSED && r < 0)
        sio_drop(e, SECUREIO_DROP_MALFORMED); /* authentic but malformed: the rest is ignored */
    util_wipe(e->scratch, pt_len);
    return result;
}

void sio_early_keep(secureio_engine *e, const uint8_t *pkt, size_t len)
{
    /* Only while a handshake we answered may complete, and bounded: the
     * oldest goes when the buffer is full. Nothing is decrypted here. */
    if (e->state != SECUREIO_STATE_HANDSHAKE || len > e->recv_max) {
        sio_drop(e, SECUREIO_DROP_NO_KEY);
        return;
    }
    early_record *r;
    if (e->n_early == SIO_EARLY_RECORDS) {
        early_record first = e->early[0];
        memmove(&e->early[0], &e->early[1], (SIO_EARLY_RECORDS - 1) * sizeof e->early[0]);
        e->early[SIO_EARLY_RECORDS - 1] = first;
        e->n_early--;
        e->stats.dropped[SECUREIO_DROP_NO_KEY]++;
    }
    r = &e->early[e->n_early];
    if (r->data == NULL && (r->data = malloc(e->recv_max)) == NULL)
        return;
    memcpy(r->data, pkt, len);
    r->len = len;
    e->n_early++;
}

void sio_early_replay(secureio_engine *e, uint64_t now)
{
    size_t n = e->n_early;
    e->n_early = 0;
    for (size_t i = 0; i < n && e->state != SECUREIO_STATE_CLOSED; i++)
        (void)sio_record_in(e, e->early[i].data, e->early[i].len, now);
}

/* ------------------------------------------------------------------ send */

/*
 * A record is sealed as it is written: small pieces (frame headers, small
 * messages, control frames) are written as plaintext into the packet and
 * encrypted there in one pass; a large piece of a message is encrypted
 * straight from the caller's buffer into the packet, never copied first.
 */
#define SIO_SEAL_DIRECT 128u /* pieces at least this long are sealed from where they are */

typedef struct sealer {
    sio_record_key *k;
    uint8_t *pt; /* the plaintext area of the packet */
    size_t enc;  /* bytes of it already encrypted */
    int rc;
} sealer;

/* Encrypts what was written as plaintext up to w. */
static void seal_upto(sealer *s, size_t w)
{
    if (s->rc == SECUREIO_OK && w > s->enc)
        s->rc = sio_record_seal_update(s->k, s->pt + s->enc, s->pt + s->enc, w - s->enc);
    s->enc = w;
}

/* Puts n bytes of src at w: copied when small, else encrypted from src. */
static size_t seal_put(sealer *s, size_t w, const uint8_t *src, size_t n)
{
    if (n < SIO_SEAL_DIRECT) {
        if (n > 0)
            memcpy(s->pt + w, src, n);
        return w + n;
    }
    seal_upto(s, w);
    if (s->rc == SECUREIO_OK)
        s->rc = sio_record_seal_update(s->k, s->pt + w, src, n);
    s->enc = w + n;
    return w + n;
}

size_t sio_max_message(const secureio_engine *e, uint32_t channel)
{
    size_t room =
        e->packet_size - SIO_RECORD_HEADER_LEN - SIO_RECORD_TAG_LEN - 1 - sio_varint_len(channel);
    return room - sio_varint_len(room);
}

int sio_records_blocked(const secureio_engine *e)
{
    return e->auth_i_unconfirmed && !e->cfg.stream && e->early_sent >= SIO_EARLY_RECORDS;
}

int sio_peer_unheard(const secureio_engine *e)
{
    return e->established && !e->initiator && !e->cfg.stream && !e->peer_heard;
}

uint64_t sio_messages_due(const secureio_engine *e)
{
    const sio_msg *m = sio_sendq_at(&e->q, e->q_held);
    if (m == NULL || !e->established || sio_records_blocked(e) || sio_peer_unheard(e))
        return UINT64_MAX;
    if (e->state == SECUREIO_STATE_CLOSING || e->q.syncs > 0 || e->send_delay == 0 ||
        e->q.bytes >= e->packet_size - SIO_RECORD_HEADER_LEN - SIO_RECORD_TAG_LEN)
        return 0; /* now */
    return sio_after(m->at, e->send_delay);
}

/* Packs queued messages after the w bytes of frames at s->pt (room cap).
 * Returns the bytes written; *done gets how many messages at the head of
 * the queue are now sent whole (the held ones included). */
static size_t pack_messages(secureio_engine *e, sealer *s, size_t cap, size_t w, size_t *done)
{
    size_t i = e->q_held; /* (held messages were sent already) */
    *done = i;
    for (;;) {
        sio_msg *m = sio_sendq_at(&e->q, i);
        if (m == NULL)
            break;
        uint64_t left = m->len - m->sent;
        if (m->sent == 0) {
            size_t dh = 1 + sio_varint_len(m->channel) + sio_varint_len(m->len);
            if (m->len <= cap && dh + m->len <= cap - w) {
                w += sio_frame_data_header(s->pt + w, m->channel, (size_t)m->len);
                w = seal_put(s, w, m->data, (size_t)m->len);
                e->q.bytes -= m->len;
                m->sent = m->len;
                *done = ++i;
                continue;
            }
            if (m->len <= cap && dh + m->len <= cap && w > 0)
                break; /* it fits a record of its own: the next one */
        }
        /* a fragment: as much as fits, never tiny unless it ends the message */
        size_t fh = 1 + sio_varint_len(m->channel) + sio_varint_len(m->id) +
                    2 * sio_varint_len(m->len) + sio_varint_len(cap);
        if (cap - w <= fh)
            break;
        size_t room = cap - w - fh;
        size_t n = left < room ? (size_t)left : room;
        if (n < left && n < SIO_MIN_FRAGMENT && w > 0)
            break;
        w += sio_frame_fragment_header(s->pt + w, m->channel, m->id, m->len, m->sent, n);
        w = seal_put(s, w, m->data + m->sent, n);
        m->sent += n;
        e->q.bytes -= n;
        e->stats.fragments_out++;
        if (m->sent < m->len)
            break; /* the record is full */
        *done = ++i;
    }
    return w;
}

/* Completes the messages sent whole (at the head of the queue). A
 * completion may close the engine: the queue is then failed only after the
 * messages this record carried completed with SECUREIO_OK. */
static void complete(secureio_engine *e, size_t done)
{
    e->completing = 1;
    for (size_t i = 0; i < done; i++) {
        sio_msg m;
        sio_sendq_pop(&e->q, &m);
        e->stats.messages_out++;
        if (m.done != NULL)
            m.done(m.arg, SECUREIO_OK, (size_t)m.len);
    }
    e->completing = 0;
    if (e->state == SECUREIO_STATE_CLOSED)
        sio_sendq_fail(&e->q, SECUREIO_ERR_CLOSED);
}

/* The control frames due now, at pt (room cap): the bytes written. */
static size_t control_frames(secureio_engine *e, uint8_t *pt, size_t cap)
{
    size_t w = 0;
    if (e->send_confirm) {
        e->send_confirm = 0;
        pt[w++] = SIO_FRAME_CONFIRM;
        /* a rekey initiator waiting for the responder's first new record asks for one */
        pt[w++] = e->rk_confirm_pending ? SIO_CONFIRM_ASK : 0;
    }
    if (e->send_rekey_resp && e->rk == REKEY_RESPONDED) {
        e->send_rekey_resp = 0;
        w += sio_frame_rekey(pt + w, SIO_FRAME_REKEY_RESP, e->rk_epoch, e->rk_e, e->rk_n,
                             e->rk_peer_n);
    }
    if (e->send_rekey_init && e->rk == REKEY_INITIATED) {
        e->send_rekey_init = 0;
        w += sio_frame_rekey(pt + w, SIO_FRAME_REKEY_INIT, e->rk_epoch, e->rk_e, e->rk_n, NULL);
    }
    while (e->pmtu.n_acks > 0 && cap - w >= 1 + 8 + 8) {
        e->pmtu.n_acks--;
        w += sio_frame_probe_ack(pt + w, e->pmtu.ack_id[e->pmtu.n_acks],
                                 e->pmtu.ack_size[e->pmtu.n_acks]);
    }
    return w;
}

int sio_record_next(secureio_engine *e, uint8_t *out, size_t *out_len, uint64_t now)
{
    uint8_t *pt = out + SIO_RECORD_HEADER_LEN;
    size_t cap = e->packet_size - SIO_RECORD_HEADER_LEN - SIO_RECORD_TAG_LEN, w = 0;
    size_t done = 0, probe_size = 0;
    int close_after = 0;
    uint64_t probe_id;
    send_key *k = &e->tx;
    *out_len = 0;
    if (sio_records_blocked(e))
        return 0;

    int probing = sio_pmtu_probe_due(e, now, &probe_id, &probe_size);
    if (probing) {
        /* a probe goes alone, padded to the size it probes */
        w = sio_frame_probe(pt, probe_id);
        cap = probe_size - SIO_RECORD_HEADER_LEN - SIO_RECORD_TAG_LEN;
    } else {
        w = control_frames(e, pt, cap);
    }
    int control = w > 0;
    int messages = !probing && e->q.count > e->q_held && !sio_peer_unheard(e) &&
                   (control || sio_messages_due(e) <= now);
    int closing = !probing && e->send_close;
    int keepalive = !control && !messages && e->keepalive != 0 && now >= e->last_tx &&
                    now - e->last_tx >= e->keepalive;
    if (!control && !messages && !closing && !keepalive)
        return 0;
    if (k->counter >= SIO_COUNTER_LIMIT) {
        sio_close_with(e, SECUREIO_ERR_LIMIT); /* a key at its end */
        return 0;
    }
    sio_record_header h = {(uint8_t)k->epoch, e->peer_index, k->counter};
    sio_record_header_encode(&h, out);
    sealer s = {&k->k, pt, 0, sio_record_seal_begin(&k->k, k->counter, out, SIO_RECORD_HEADER_LEN)};
    k->counter++; /* a nonce is never used twice, even after a failure */
    size_t w_control = w;
    if (messages)
        w = pack_messages(e, &s, cap, w, &done);
    int carried = w > w_control; /* message bytes went in */
    /* CLOSE: once the queue is empty (a graceful close) */
    if (closing && e->q.count == 0 && cap - w >= 3) {
        pt[w++] = SIO_FRAME_CLOSE;
        util_store16_be(pt + w, e->close_code);
        w += 2;
        close_after = 1;
    }
    if (probing || !carried) {
        /* a probe fills its size; control alone is padded to one size for
         * all, so that the length does not say what it carries */
        size_t want = probing ? cap : SIO_CONTROL_PAD < cap ? SIO_CONTROL_PAD : cap;
        if (w < want) {
            memset(pt + w, SIO_FRAME_PADDING, want - w);
            w = want;
        }
    }
    seal_upto(&s, w);
    if (s.rc == SECUREIO_OK)
        s.rc = sio_record_seal_end(&k->k, pt + w);
    if (s.rc != SECUREIO_OK) {
        sio_close_with(e, s.rc); /* the cipher failed */
        return 0;
    }
    size_t rec_len = SIO_RECORD_HEADER_LEN + w + SIO_RECORD_TAG_LEN;
    *out_len = rec_len;
    e->last_tx = now;
    e->stats.packets_out++;
    e->stats.bytes_out += rec_len;
    if (e->auth_i_unconfirmed)
        e->early_sent++;
    sio_pmtu_sent(e, rec_len);
    if (e->auth_i_unconfirmed)
        e->q_held = done; /* completed once the responder confirms the session */
    else
        complete(e, done);
    if (e->tx.counter >= SIO_REKEY_AFTER_PACKETS && e->rk == REKEY_NONE)
        (void)sio_rekey_start(e, now);
    if (close_after)
        sio_close_with(e, SECUREIO_OK);
    return 1;
}

int sio_record_single(secureio_engine *e, uint8_t frame_type, uint8_t *out, size_t *out_len)
{
    uint8_t *pt = out + SIO_RECORD_HEADER_LEN;
    send_key *k = &e->tx;
    if (!e->established || k->counter >= SIO_COUNTER_LIMIT)
        return SECUREIO_ERR_STATE;
    sio_record_header h = {(uint8_t)k->epoch, e->peer_index, k->counter};
    sio_record_header_encode(&h, out);
    memset(pt, SIO_FRAME_PADDING, SIO_CONTROL_PAD);
    pt[0] = frame_type;
    if (frame_type == SIO_FRAME_CLOSE)
        util_store16_be(pt + 1, e->close_code); /* CONFIRM: flags 0 */
    int rc =
        sio_record_seal(&k->k, pt, k->counter, out, SIO_RECORD_HEADER_LEN, pt, SIO_CONTROL_PAD);
    k->counter++;
    if (rc != SECUREIO_OK)
        return rc;
    *out_len = SIO_RECORD_HEADER_LEN + SIO_CONTROL_PAD + SIO_RECORD_TAG_LEN;
    e->stats.packets_out++;
    e->stats.bytes_out += *out_len;
    return SECUREIO_OK;
}
