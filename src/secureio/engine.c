/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session engine's public API (include/secureio/engine.h): the
 * configuration, the states and events, the timers, the send queue's entry
 * (write) and exit (poll), and closing. The protocol's parts are in the
 * engine_*.c files beside it (engine_internal.h lists them).
 */
#include <secureio/engine.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/detail.h"
#include "common/util.h"
#include "engine_internal.h"

#define SIO_DEFAULT_QUEUE_LEN 1024u
#define SIO_DEFAULT_QUEUE_BYTES ((uint64_t)1 << 20)
#define SIO_DEFAULT_SEND_DELAY_US 50u
#define SIO_DEFAULT_REASSEMBLY ((uint64_t)64 << 20)

/* ------------------------------------------------------------- helpers */

uint64_t sio_after(uint64_t now, uint64_t d)
{
    return now > UINT64_MAX - d ? UINT64_MAX : now + d; /* the clock may start anywhere */
}

static uint64_t ms_to_us(uint64_t ms)
{
    return ms > UINT64_MAX / SIO_US_PER_MS ? UINT64_MAX : ms * SIO_US_PER_MS;
}

int sio_rng(secureio_engine *e, uint8_t *out, size_t len)
{
    if (e->cfg.rng != NULL)
        return e->cfg.rng(e->cfg.rng_ctx, out, len) == 0 ? SECUREIO_OK : SECUREIO_ERR_CRYPTO;
    randombytes_buf(out, len);
    return SECUREIO_OK;
}

void sio_emit(secureio_engine *e, const secureio_event *ev)
{
    if (e->cfg.on_event != NULL)
        e->cfg.on_event(e->cfg.user, ev);
}

void sio_drop(secureio_engine *e, secureio_drop_reason why)
{
    secureio_event ev;
    memset(&ev, 0, sizeof ev);
    e->stats.dropped[why]++;
    ev.type = SECUREIO_EVENT_BAD_PACKET;
    ev.drop_reason = why;
    sio_emit(e, &ev);
}

void sio_drop_peer(secureio_engine *e, const uint8_t pk[32])
{
    secureio_event ev;
    memset(&ev, 0, sizeof ev);
    e->stats.dropped[SECUREIO_DROP_PEER]++;
    ev.type = SECUREIO_EVENT_BAD_PACKET;
    ev.drop_reason = SECUREIO_DROP_PEER;
    ev.has_peer_key = 1;
    memcpy(ev.peer_key, pk, 32);
    sio_emit(e, &ev);
}

void sio_set_state(secureio_engine *e, secureio_state state)
{
    if (e->state == state || e->state == SECUREIO_STATE_CLOSED)
        return; /* nothing comes after CLOSED (a callback may have closed us) */
    e->state = state;
    secureio_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SECUREIO_EVENT_STATE;
    ev.state = state;
    sio_emit(e, &ev);
}

static void wipe_secrets(secureio_engine *e)
{
    sio_session_drop(e); /* the session's keys and state */
    util_wipe(e->rk_priv, sizeof e->rk_priv);
    util_wipe(e->rk_master, sizeof e->rk_master);
    util_wipe(e->ei_priv, sizeof e->ei_priv);
    util_wipe(e->kpsk, sizeof e->kpsk);
    sio_responder_clear(&e->resp);
    for (size_t i = 0; i < SIO_EARLY_RECORDS; i++)
        if (e->early[i].data != NULL)
            util_wipe(e->early[i].data, e->recv_max);
    e->n_early = 0;
    e->answers_count = 0;
}

void sio_close_with(secureio_engine *e, int err)
{
    if (e->state == SECUREIO_STATE_CLOSED)
        return;
    wipe_secrets(e); /* nothing of a closed session is kept */
    sio_set_state(e, SECUREIO_STATE_CLOSED);
    if (!e->completing) /* else complete() finishes its record's messages first */
        sio_sendq_fail(&e->q, SECUREIO_ERR_CLOSED);
    secureio_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SECUREIO_EVENT_CLOSED;
    ev.err = err;
    sio_emit(e, &ev);
}

void sio_arm_rtx(secureio_engine *e, uint64_t now, int first)
{
    if (first)
        e->rtx_interval = e->rtx_base;
    else if (e->rtx_interval < e->rtx_base * SIO_RTX_MAX_FACTOR)
        e->rtx_interval *= 2;
    e->rtx_at = sio_after(now, e->rtx_interval);
}

int sio_packet_in(secureio_engine *e, const uint8_t *pkt, size_t len, uint64_t now)
{
    e->stats.packets_in++;
    e->stats.bytes_in += len;
    if (len == 0 || len > e->recv_max) {
        sio_drop(e, SECUREIO_DROP_MALFORMED);
        return 0;
    }
    if (pkt[0] == SIO_PKT_RECORD)
        return sio_record_in(e, pkt, len, now);
    sio_hs_packet_in(e, pkt, len, now);
    return 0;
}

/* The application gave the engine something to send (an acceptor polls it). */
static void mark_ready(secureio_engine *e)
{
    if (e->ready_fn != NULL)
        e->ready_fn(e->ready_ctx, e);
}

/* ------------------------------------------------------------- config */

const char *sio_config_problem(const secureio_config *cfg)
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
    if (cfg->max_message_len > SECUREIO_MAX_MESSAGE_LEN)
        return "cfg->max_message_len is over SECUREIO_MAX_MESSAGE_LEN";
    uint64_t msg = cfg->max_message_len ? cfg->max_message_len : SECUREIO_DEFAULT_MAX_MESSAGE_LEN;
    uint64_t ra = cfg->max_reassembly_bytes ? cfg->max_reassembly_bytes : SIO_DEFAULT_REASSEMBLY;
    if (ra < msg)
        return "cfg->max_reassembly_bytes is below max_message_len (such messages could never "
               "be received)";
    uint64_t rekey = cfg->rekey_interval_ms ? cfg->rekey_interval_ms : 60000;
    if (cfg->key_lifetime_ms != 0 && cfg->key_lifetime_ms <= rekey)
        return "cfg->key_lifetime_ms is not above rekey_interval_ms";
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
    const char *problem = sio_config_problem(cfg);
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
    secureio_config *c = &e->cfg;
    if (c->rekey_interval_ms == 0)
        c->rekey_interval_ms = 60000;
    if (c->handshake_timeout_ms == 0)
        c->handshake_timeout_ms = 60000;
    if (c->key_lifetime_ms == 0) {
        /* a rekey gets the longer of two intervals and the handshake timeout */
        uint64_t two =
            c->rekey_interval_ms > UINT64_MAX / 2 ? UINT64_MAX : 2 * c->rekey_interval_ms;
        uint64_t extra = two > c->handshake_timeout_ms ? two : c->handshake_timeout_ms;
        c->key_lifetime_ms = sio_after(c->rekey_interval_ms, extra);
    }
    if (c->retransmit_ms == 0)
        c->retransmit_ms = 1000;
    if (c->key_grace_ms == 0)
        c->key_grace_ms = 10000;
    if (c->handshake_rate == 0)
        c->handshake_rate = 50;
    if (c->send_queue_len == 0)
        c->send_queue_len = SIO_DEFAULT_QUEUE_LEN;
    if (c->send_queue_bytes == 0)
        c->send_queue_bytes = SIO_DEFAULT_QUEUE_BYTES;
    if (c->max_message_len == 0)
        c->max_message_len = SECUREIO_DEFAULT_MAX_MESSAGE_LEN;
    if (c->max_reassembly_bytes == 0)
        c->max_reassembly_bytes = SIO_DEFAULT_REASSEMBLY;
    if (c->fragment_timeout_ms == 0)
        c->fragment_timeout_ms = 30000;
    e->rekey_interval = ms_to_us(c->rekey_interval_ms);
    e->key_lifetime = ms_to_us(c->key_lifetime_ms);
    e->hs_timeout = ms_to_us(c->handshake_timeout_ms);
    e->rtx_base = ms_to_us(c->retransmit_ms);
    e->key_grace = ms_to_us(c->key_grace_ms);
    e->idle_timeout = ms_to_us(c->idle_timeout_ms);
    e->keepalive = ms_to_us(c->keepalive_ms);
    e->send_delay = c->send_delay_us == 0                         ? SIO_DEFAULT_SEND_DELAY_US
                    : c->send_delay_us == SECUREIO_SEND_DELAY_OFF ? 0
                                                                  : c->send_delay_us;
    e->max_packet = cfg->max_packet_len ? cfg->max_packet_len
                    : cfg->stream       ? SECUREIO_DEFAULT_STREAM_PACKET_LEN
                                        : SECUREIO_DEFAULT_PACKET_LEN;
    /* a stream peer may send packets up to the format's limit; a datagram
     * larger than our ceiling is refused (and so is never acknowledged as
     * a probe: path size discovery settles on what both sides take) */
    e->recv_max = cfg->stream ? SECUREIO_MAX_PACKET_LEN : e->max_packet;
    e->packet_size = cfg->stream || e->max_packet < SECUREIO_BASE_PACKET_LEN
                         ? e->max_packet
                         : SECUREIO_BASE_PACKET_LEN;
    e->stats.packet_size = (uint32_t)e->packet_size;
    e->opts = cfg->psk_len > 0 ? SIO_OPT_PSK : 0;
    sio_psk_key(e->kpsk, cfg->psk, cfg->psk_len);
    secureio_identity_public_key(cfg->identity, e->my_pk);
    e->can_initiate = cfg->peer_key != NULL;
    if (cfg->peer_key != NULL)
        sio_mac_key(e->mac_peer, cfg->peer_key);
    e->policy.peer_key = cfg->peer_key;
    e->policy.allowed = cfg->allowed_peers;
    e->policy.any = cfg->accept_any_peer;
    e->policy_pinned.peer_key = cfg->peer_key;
    sio_reasm_init(&e->ra, c->max_message_len, c->max_reassembly_bytes,
                   ms_to_us(c->fragment_timeout_ms));
    int rc = sio_sendq_init(&e->q, c->send_queue_len, (size_t)c->send_queue_bytes);
    e->scratch = malloc(e->recv_max);
    e->sbuf = cfg->stream ? malloc(e->recv_max + SECUREIO_STREAM_FRAME_HEADER) : NULL;
    if (rc == SECUREIO_OK && (e->scratch == NULL || (cfg->stream && e->sbuf == NULL)))
        rc = SECUREIO_ERR_NOMEM;
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
    /* the responder's secret rotates with the rekey interval, at least every
     * minute (it can open the tickets of the hellos it answered) */
    uint64_t rotate = e->rekey_interval < SIO_ROTATE_MAX_US ? e->rekey_interval : SIO_ROTATE_MAX_US;
    int rc = sio_responder_init(&e->resp, e->cfg.identity, e->kpsk, e->opts, e->cfg.handshake_rate,
                                rotate, e->cfg.rng, e->cfg.rng_ctx, SIO_HS_CACHE,
                                sio_responder_memory(e->cfg.handshake_rate, rotate), now);
    if (rc != SECUREIO_OK)
        return rc;
    e->hs_deadline = sio_after(now, e->hs_timeout);
    e->last_rx = e->last_tx = now;
    rc = sio_hs_start(e, now);
    if (rc != SECUREIO_OK) {
        sio_responder_clear(&e->resp);
        return rc;
    }
    sio_set_state(e, SECUREIO_STATE_HANDSHAKE);
    return SECUREIO_OK;
}

/* --------------------------------------------------------------- input */

int secureio_engine_recv(secureio_engine *e, const uint8_t *in, size_t in_len, uint64_t now)
{
    if (e == NULL || (in == NULL && in_len > 0))
        return SECUREIO_ERR_ARG;
    if (e->state == SECUREIO_STATE_CLOSED)
        return SECUREIO_ERR_CLOSED;
    if (e->state == SECUREIO_STATE_NEW)
        return SECUREIO_ERR_STATE;
    if (e->cfg.stream)
        return sio_stream_recv(e, in, in_len, now);
    (void)sio_packet_in(e, in, in_len, now);
    return SECUREIO_OK;
}

/* ------------------------------------------------------------- messages */

int secureio_engine_write(secureio_engine *e, uint32_t channel, const uint8_t *msg, size_t len,
                          unsigned flags, secureio_done_fn done, void *done_arg, uint64_t now)
{
    if (e == NULL || (msg == NULL && len > 0) ||
        (flags & ~(SECUREIO_WRITE_SYNC | SECUREIO_WRITE_COPY)) != 0 ||
        (channel > SECUREIO_CHANNEL_MAX && channel != SECUREIO_CHANNEL_DEFAULT))
        return SECUREIO_ERR_ARG;
    if (e->state == SECUREIO_STATE_CLOSED)
        return SECUREIO_ERR_CLOSED;
    if (e->state == SECUREIO_STATE_NEW || e->state == SECUREIO_STATE_CLOSING)
        return SECUREIO_ERR_STATE;
    if ((uint64_t)len > e->cfg.max_message_len ||
        ((flags & SECUREIO_WRITE_COPY) && (uint64_t)len > e->cfg.send_queue_bytes))
        return SECUREIO_ERR_LIMIT;
    int rc = sio_sendq_push(&e->q, channel, msg, len, flags, done, done_arg, now);
    if (rc == SECUREIO_OK)
        mark_ready(e);
    return rc;
}

int secureio_engine_set_handler(secureio_engine *e, uint32_t channel, secureio_message_fn fn,
                                void *user)
{
    if (e == NULL || (channel > SECUREIO_CHANNEL_MAX && channel != SECUREIO_CHANNEL_DEFAULT))
        return SECUREIO_ERR_ARG;
    size_t i = 0;
    while (i < e->n_handlers && e->handlers[i].channel < channel)
        i++;
    int found = i < e->n_handlers && e->handlers[i].channel == channel;
    if (fn == NULL) {
        if (found) {
            memmove(&e->handlers[i], &e->handlers[i + 1],
                    (e->n_handlers - i - 1) * sizeof e->handlers[0]);
            e->n_handlers--;
        }
        return SECUREIO_OK;
    }
    if (!found) {
        if (e->n_handlers == e->cap_handlers) {
            size_t cap = e->cap_handlers ? e->cap_handlers * 2 : 8;
            handler *h = realloc(e->handlers, cap * sizeof *h);
            if (h == NULL)
                return SECUREIO_ERR_NOMEM;
            e->handlers = h;
            e->cap_handlers = cap;
        }
        memmove(&e->handlers[i + 1], &e->handlers[i], (e->n_handlers - i) * sizeof e->handlers[0]);
        e->n_handlers++;
        e->handlers[i].channel = channel;
    }
    e->handlers[i].fn = fn;
    e->handlers[i].user = user;
    return SECUREIO_OK;
}

void secureio_engine_set_callbacks(secureio_engine *e, secureio_message_fn on_message,
                                   secureio_event_fn on_event, void *user)
{
    if (e == NULL)
        return;
    e->cfg.on_message = on_message;
    e->cfg.on_event = on_event;
    e->cfg.user = user;
}

size_t secureio_engine_max_message(const secureio_engine *e, uint32_t channel)
{
    if (e == NULL || (channel > SECUREIO_CHANNEL_MAX && channel != SECUREIO_CHANNEL_DEFAULT))
        return 0;
    return sio_max_message(e, channel);
}

/* -------------------------------------------------------------- output */

int secureio_engine_poll(secureio_engine *e, uint8_t *out, size_t *out_len, uint64_t now)
{
    if (e == NULL || out == NULL || out_len == NULL)
        return SECUREIO_ERR_ARG;
    size_t pre = e->cfg.stream ? SECUREIO_STREAM_FRAME_HEADER : 0, len = 0;
    size_t room = *out_len, need = pre + e->max_packet;
    *out_len = 0;
    if (room < need) {
        *out_len = need;
        return SECUREIO_ERR_BUFFER;
    }
    if (e->final_len > 0) { /* an immediate close's CLOSE record */
        memcpy(out, e->final_pkt, e->final_len);
        *out_len = e->final_len;
        util_wipe(e->final_pkt, sizeof e->final_pkt);
        e->final_len = 0;
        return SECUREIO_OK;
    }
    if (e->state == SECUREIO_STATE_NEW || e->state == SECUREIO_STATE_CLOSED)
        return SECUREIO_OK;
    if (sio_hs_next(e, out + pre)) {
        len = SIO_HS_PACKET_LEN;
        e->stats.packets_out++;
        e->stats.bytes_out += len;
    } else if (!e->established || !sio_record_next(e, out + pre, &len, now)) {
        return SECUREIO_OK;
    }
    if (pre)
        util_store16_be(out, (uint16_t)len);
    *out_len = pre + len;
    return SECUREIO_OK;
}

/* -------------------------------------------------------------- timers */

int secureio_engine_tick(secureio_engine *e, uint64_t now)
{
    if (e == NULL)
        return SECUREIO_ERR_ARG;
    if (e->state == SECUREIO_STATE_NEW || e->state == SECUREIO_STATE_CLOSED)
        return SECUREIO_OK;
    /* the handshake, confirmation included, has handshake_timeout_ms */
    if ((!e->established || e->auth_i_unconfirmed) && now >= e->hs_deadline) {
        sio_close_with(e, SECUREIO_ERR_TIMEOUT);
        return SECUREIO_OK;
    }
    if (e->established && now >= e->key_expires) {
        /* no rekey got through in the keys' lifetime (as WireGuard's
         * REJECT_AFTER_TIME): the session ends rather than keep old keys */
        sio_close_with(e, SECUREIO_ERR_KEY_EXPIRED);
        return SECUREIO_OK;
    }
    if (e->idle_timeout != 0 && now >= e->last_rx && now - e->last_rx >= e->idle_timeout) {
        sio_close_with(e, SECUREIO_ERR_TIMEOUT);
        return SECUREIO_OK;
    }
    if (e->state == SECUREIO_STATE_CLOSING && now >= e->close_deadline) {
        secureio_engine_close_now(e, now); /* what is queued could not go out */
        return SECUREIO_OK;
    }
    if ((e->rk != REKEY_NONE || e->rk_confirm_pending) && now >= e->rekey_deadline) {
        /* A rekey that takes long on a lossy link is retried as long as the
         * peer is heard from (the current keys stay valid until they
         * expire); silence for the whole timeout means the peer is gone. */
        if (now >= e->last_rx && now - e->last_rx >= e->hs_timeout) {
            sio_close_with(e, SECUREIO_ERR_TIMEOUT);
            return SECUREIO_OK;
        }
        e->rekey_deadline = sio_after(e->last_rx, e->hs_timeout);
    }
    int rc = sio_responder_tick(&e->resp, now);
    if (rc != SECUREIO_OK) {
        sio_close_with(e, rc);
        return rc;
    }
    if (e->rx_prev.set && now >= e->rx_prev.expires)
        sio_recv_key_clear(&e->rx_prev);
    if (now >= e->rtx_at) {
        sio_arm_rtx(e, now, 0); /* (a new hello arms it again from the start) */
        if (e->initiating || e->auth_i_unconfirmed)
            sio_hs_retransmit(e, now);
        else
            sio_rekey_retransmit(e);
        if (e->state == SECUREIO_STATE_CLOSED)
            return SECUREIO_OK;
    }
    if (e->established && !e->auth_i_unconfirmed && e->rk == REKEY_NONE && !e->rk_confirm_pending &&
        now >= e->rekey_at) {
        rc = sio_rekey_start(e, now);
        if (rc != SECUREIO_OK && rc != SECUREIO_ERR_STATE) {
            sio_close_with(e, rc); /* no randomness: no new keys */
            return rc;
        }
    }
    sio_pmtu_tick(e, now);
    sio_reasm_expire(&e->ra, now);
    return SECUREIO_OK;
}

uint64_t secureio_engine_deadline(const secureio_engine *e)
{
    uint64_t d = UINT64_MAX;
    if (e == NULL)
        return d;
    if (e->final_len > 0)
        return 0;
    if (e->state == SECUREIO_STATE_NEW || e->state == SECUREIO_STATE_CLOSED)
        return d;
#define SIO_MIN(x)                                                                                 \
    do {                                                                                           \
        uint64_t x_ = (x);                                                                         \
        if (x_ < d)                                                                                \
            d = x_;                                                                                \
    } while (0)
    if (!e->established || e->auth_i_unconfirmed)
        SIO_MIN(e->hs_deadline);
    if (e->initiating || e->auth_i_unconfirmed || e->rk != REKEY_NONE || e->rk_confirm_pending)
        SIO_MIN(e->rtx_at);
    if (e->rk != REKEY_NONE || e->rk_confirm_pending)
        SIO_MIN(e->rekey_deadline);
    else if (e->established && !e->auth_i_unconfirmed)
        SIO_MIN(e->rekey_at);
    if (e->established)
        SIO_MIN(e->key_expires);
    if (e->rx_prev.set)
        SIO_MIN(e->rx_prev.expires);
    if (e->idle_timeout != 0)
        SIO_MIN(sio_after(e->last_rx, e->idle_timeout));
    if (e->keepalive != 0 && e->established && !sio_records_blocked(e))
        SIO_MIN(sio_after(e->last_tx, e->keepalive));
    if (e->state == SECUREIO_STATE_CLOSING)
        SIO_MIN(e->close_deadline);
    SIO_MIN(sio_responder_deadline(&e->resp));
    SIO_MIN(sio_messages_due(e));
    SIO_MIN(sio_pmtu_deadline(e));
    SIO_MIN(sio_reasm_deadline(&e->ra));
#undef SIO_MIN
    return d;
}

int secureio_engine_rekey(secureio_engine *e, uint64_t now)
{
    if (e == NULL)
        return SECUREIO_ERR_ARG;
    if (e->state == SECUREIO_STATE_CLOSED)
        return SECUREIO_ERR_CLOSED;
    int rc = sio_rekey_start(e, now);
    if (rc == SECUREIO_OK)
        mark_ready(e);
    return rc;
}

void secureio_engine_path_changed(secureio_engine *e, uint64_t now)
{
    if (e != NULL && e->state != SECUREIO_STATE_CLOSED) {
        sio_pmtu_path_changed(e, now);
        mark_ready(e);
    }
}

/* --------------------------------------------------------------- close */

void secureio_engine_close(secureio_engine *e, uint64_t now)
{
    if (e == NULL || e->state == SECUREIO_STATE_CLOSED || e->state == SECUREIO_STATE_CLOSING)
        return;
    if (!e->established || e->q.count == 0) {
        secureio_engine_close_now(e, now);
        return;
    }
    e->send_close = 1; /* after the queue: engine_record.c */
    e->close_deadline = sio_after(now, e->hs_timeout);
    sio_set_state(e, SECUREIO_STATE_CLOSING);
    mark_ready(e);
}

void secureio_engine_close_now(secureio_engine *e, uint64_t now)
{
    (void)now;
    if (e == NULL || e->state == SECUREIO_STATE_CLOSED)
        return;
    if (e->established) {
        /* sealed now, handed out by the next poll(); the keys go at once */
        size_t pre = e->cfg.stream ? SECUREIO_STREAM_FRAME_HEADER : 0, len = 0;
        if (sio_record_single(e, SIO_FRAME_CLOSE, e->final_pkt + pre, &len) == SECUREIO_OK) {
            if (pre)
                util_store16_be(e->final_pkt, (uint16_t)len);
            e->final_len = pre + len;
        }
    }
    sio_close_with(e, SECUREIO_OK);
    mark_ready(e);
}

/* ------------------------------------------------------------ accessors */

secureio_state secureio_engine_state(const secureio_engine *e)
{
    return e == NULL ? SECUREIO_STATE_CLOSED : e->state;
}

void secureio_engine_stats(const secureio_engine *e, secureio_stats *stats)
{
    if (e == NULL || stats == NULL)
        return;
    *stats = e->stats;
    stats->queued_messages = e->q.count;
    stats->queued_bytes = e->q.bytes;
    stats->reassembly_bytes = e->ra.held;
    stats->messages_expired = e->ra.expired;
    stats->cookies_sent = e->resp.cookies_sent;
    stats->packet_size = (uint32_t)e->packet_size;
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
    e->state = SECUREIO_STATE_CLOSED; /* a write from a completion is refused */
    sio_sendq_fail(&e->q, SECUREIO_ERR_CLOSED);
    wipe_secrets(e);
    sio_reasm_release(&e->ra);
    sio_sendq_free(&e->q);
    for (size_t i = 0; i < SIO_EARLY_RECORDS; i++)
        free(e->early[i].data);
    free(e->handlers);
    if (e->scratch != NULL) {
        util_wipe(e->scratch, e->recv_max);
        free(e->scratch);
    }
    if (e->sbuf != NULL) {
        util_wipe(e->sbuf, e->recv_max + SECUREIO_STREAM_FRAME_HEADER);
        free(e->sbuf);
    }
    util_wipe(e, sizeof *e);
    free(e);
}
