/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session engine's state and what its parts share. The engine is split
 * by concern:
 *
 *   engine.c         the public API: configuration, states, timers, poll
 *   engine_hs.c      the handshake: HELLO, COOKIE, AUTH_R, AUTH_I, answers
 *   responder.c      the stateless responder (shared with the acceptor)
 *   engine_rekey.c   rekeys: REKEY_INIT, REKEY_RESP, the switch of keys
 *   engine_record.c  records: keys, opening, frames, sealing, packing
 *   engine_pmtu.c    path size discovery (datagram transports)
 *   engine_stream.c  stream transports: the length framing
 *   sendq.c          the send queue;   reasm.c  reassembly of fragments
 *
 * Internal: not installed. Times are microseconds.
 */
#ifndef SECUREIO_ENGINE_INTERNAL_H
#define SECUREIO_ENGINE_INTERNAL_H

#include <secureio/engine.h>

#include "handshake.h"
#include "reasm.h"
#include "record.h"
#include "replay.h"
#include "responder.h"
#include "sendq.h"
#include "wire.h"

/* Rekey long before a counter could run out; refuse to send at the end. */
#define SIO_REKEY_AFTER_PACKETS ((uint64_t)1 << 60)
#define SIO_COUNTER_LIMIT (UINT64_MAX - ((uint64_t)1 << 16))
#define SIO_RTX_MAX_FACTOR 8u
/* Records that carry only control frames are padded to this much plaintext,
 * so that their size does not say what they carry. */
#define SIO_CONTROL_PAD 128u
/* Handshake answers waiting for poll(); hellos answered, and hellos that
 * made a session, remembered by an engine's responder. */
#define SIO_ANSWERS 8u
#define SIO_HS_CACHE 8u
#define SIO_HS_ACCEPTED 64u
/* The size of a sealed CLOSE record kept by an immediate close. */
#define SIO_FINAL_LEN                                                                              \
    (SECUREIO_STREAM_FRAME_HEADER + SIO_RECORD_HEADER_LEN + SIO_CONTROL_PAD + SIO_RECORD_TAG_LEN)
/* Records kept (undecrypted) by a responder that has no keys yet: they may
 * have overtaken the AUTH_I that makes them. */
#define SIO_EARLY_RECORDS 4u
/* A fragment is not cut smaller than this (unless the message ends). */
#define SIO_MIN_FRAGMENT 64u
#define SIO_US_PER_MS 1000u
/* AUTH_Is sent without an answer before an initiator starts again. */
#define SIO_AUTH_I_TRIES 4u
/* Probe answers waiting to be sent. */
#define SIO_PMTU_ACKS 4u

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

typedef struct handler {
    uint32_t channel;
    secureio_message_fn fn;
    void *user;
} handler;

typedef struct early_record {
    size_t len;
    uint8_t *data; /* max_packet bytes */
} early_record;

struct secureio_engine {
    secureio_config cfg; /* pointers are the caller's */
    secureio_state state;
    secureio_stats stats;
    uint8_t my_pk[32];
    uint8_t kpsk[SIO_SECRET_LEN];
    uint8_t mac_peer[32]; /* the mac key of the pinned peer's key: packets to it */
    int can_initiate;     /* a pinned peer key */
    uint16_t opts;
    size_t max_packet;  /* the ceiling of what we send */
    size_t recv_max;    /* the largest packet received (streams: any) */
    size_t packet_size; /* what we send now */

    /* times, converted to microseconds */
    uint64_t rekey_interval, key_lifetime, hs_timeout, rtx_base, key_grace, idle_timeout, keepalive,
        send_delay;

    /* timers */
    uint64_t hs_deadline, rtx_at, rtx_interval, rekey_at, rekey_deadline, key_expires;
    uint64_t last_rx; /* the last authenticated record (or the handshake) */
    uint64_t last_tx; /* the last record sent */

    /* receiver indices: records to us carry my_index, ours carry peer_index */
    uint32_t my_index, peer_index;

    /* the stateless responder, and who may be the peer (as responder; as
     * initiator only the pinned key) */
    sio_responder resp;
    sio_policy policy, policy_pinned;

    /* our own hello, while we initiate */
    int initiating;
    uint8_t ei_priv[32];
    sio_hs_packet hello;

    /* handshake packets waiting for poll(): answers (AUTH_R, COOKIE) in order */
    uint8_t answers[SIO_ANSWERS][SIO_HS_PACKET_LEN];
    size_t answers_head, answers_count;
    int send_hello, send_hello_cookie, send_auth_i;
    uint8_t hello_cookie_pkt[SIO_HS_PACKET_LEN];
    int auth_i_unconfirmed; /* retransmit AUTH_I until the peer's first record */
    unsigned auth_i_tries;  /* AUTH_I sent again so far */
    uint8_t auth_i_pkt[SIO_HS_PACKET_LEN];
    /* control frames to send */
    int send_confirm, send_rekey_init, send_rekey_resp, send_close;
    uint16_t close_code;
    uint64_t close_deadline; /* a graceful close that cannot drain closes now */
    /* an immediate close's CLOSE record, handed out by the next poll() */
    uint8_t final_pkt[SIO_FINAL_LEN];
    size_t final_len;
    /* records sent before the responder confirmed our AUTH_I (datagrams:
     * no more than it keeps for us) */
    size_t early_sent;
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
    early_record early[SIO_EARLY_RECORDS];
    size_t n_early;

    /* rekey */
    enum rekey_state rk;
    uint32_t rk_epoch;
    uint8_t rk_priv[32], rk_e[32], rk_n[32], rk_peer_n[32], rk_master[SIO_SECRET_LEN];

    /* messages */
    sio_sendq q;
    int completing; /* inside the completions of a record (engine_record.c) */
    /* an initiator's messages sent in records before the responder confirmed
     * the session: their completions wait for it (a restart sends them
     * again) */
    size_t q_held;
    int peer_heard; /* a responder: an authentic record came from the initiator */
    sio_reasm ra;
    handler *handlers; /* sorted by channel */
    size_t n_handlers, cap_handlers;

    /* path size discovery (engine_pmtu.c) */
    struct {
        int searching;     /* a search runs */
        int first_done;    /* the first search finished (NEGOTIATING ends) */
        int tried_hi;      /* the search tried its ceiling */
        int confirming;    /* the probe in flight confirms the current size */
        int send_probe;    /* poll() sends a probe of size probing */
        int big_sent;      /* a packet over the base size went since the last check */
        size_t lo, hi;     /* the largest size confirmed; the largest still possible */
        size_t probing;    /* the size probed now (0: none) */
        unsigned tries;    /* probes of that size lost so far */
        uint64_t probe_id; /* the last probe's id */
        uint64_t first_id; /* the first probe of this size */
        uint64_t probe_at, next_search, confirm_at;
        /* answers to send: (probe id, size received) */
        uint64_t ack_id[SIO_PMTU_ACKS];
        size_t ack_size[SIO_PMTU_ACKS];
        size_t n_acks;
    } pmtu;

    /* an acceptor's session: the acceptor is told when the application
     * gives the engine something to send */
    void (*ready_fn)(void *ctx, secureio_engine *e);
    void *ready_ctx;

    /* buffers */
    uint8_t *scratch; /* a decrypted record */
    uint8_t *sbuf;    /* stream transports: a partial packet */
    size_t shave;
};

/* ------------------------------------------------------------- engine.c */

uint64_t sio_after(uint64_t now, uint64_t d);
/* The first thing wrong with cfg (in the order engine.h documents), or NULL. */
const char *sio_config_problem(const secureio_config *cfg);
int sio_rng(secureio_engine *e, uint8_t *out, size_t len);
void sio_emit(secureio_engine *e, const secureio_event *ev);
void sio_drop(secureio_engine *e, secureio_drop_reason why);
void sio_drop_peer(secureio_engine *e, const uint8_t pk[32]);
void sio_set_state(secureio_engine *e, secureio_state state);
void sio_close_with(secureio_engine *e, int err);
void sio_arm_rtx(secureio_engine *e, uint64_t now, int first);
/* One received packet (a datagram, or a stream's unframed packet): 1 if it
 * was an authentic record. */
int sio_packet_in(secureio_engine *e, const uint8_t *pkt, size_t len, uint64_t now);

/* ----------------------------------------------------- engine_stream.c */

/* Stream input in any split: unframes packets and hands them in. */
int sio_stream_recv(secureio_engine *e, const uint8_t *in, size_t len, uint64_t now);

/* --------------------------------------------------------- engine_hs.c */

int sio_hs_start(secureio_engine *e, uint64_t now);
void sio_hs_packet_in(secureio_engine *e, const uint8_t *pkt, size_t len, uint64_t now);
/* The next handshake packet to send into out (SIO_HS_PACKET_LEN bytes):
 * 1, or 0 when there is none. */
int sio_hs_next(secureio_engine *e, uint8_t *out);
/* An acceptor's session, made in two steps around the acceptor's
 * on_session: begin puts a new engine in HANDSHAKE (writes are queued; no
 * event), finish installs the session of the AUTH_I the acceptor verified
 * (ESTABLISHED, as a responder: its events go to the callbacks set then). */
void sio_engine_adopt_begin(secureio_engine *e, uint64_t now);
int sio_engine_adopt_finish(secureio_engine *e, const sio_hs_result *res,
                            const uint8_t pkt[SIO_HS_PACKET_LEN], uint64_t now);
/* Sends what is due again (hello, AUTH_I) at the retransmission time; after
 * SIO_AUTH_I_TRIES unanswered AUTH_Is, starts again with a new hello. */
void sio_hs_retransmit(secureio_engine *e, uint64_t now);

/* ------------------------------------------------------ engine_rekey.c */

int sio_rekey_start(secureio_engine *e, uint64_t now);
void sio_rekey_on_init(secureio_engine *e, const sio_frame *f, uint64_t now);
void sio_rekey_on_resp(secureio_engine *e, const sio_frame *f, uint64_t now);
/* The responder's side of the switch: the initiator used the new keys. */
void sio_rekey_switch(secureio_engine *e, uint64_t now);
/* Sends the pending rekey frame again (the retransmission timer). */
void sio_rekey_retransmit(secureio_engine *e);

/* ----------------------------------------------------- engine_record.c */

void sio_send_key_clear(send_key *k);
void sio_recv_key_clear(recv_key *k);
int sio_send_key_set(send_key *k, const uint8_t *keymat, uint32_t epoch);
int sio_recv_key_set(recv_key *k, const uint8_t *keymat, uint32_t epoch);
void sio_recv_key_move(recv_key *dst, recv_key *src);
/* Forgets an unconfirmed session (an initiator starting again). */
void sio_session_drop(secureio_engine *e);
/* Installs epoch 0 of a session from a completed handshake. */
int sio_install_session(secureio_engine *e, int initiator, const uint8_t hs[SIO_SECRET_LEN],
                        const uint8_t th[SIO_SECRET_LEN], const uint8_t peer[32], uint32_t my_index,
                        uint32_t peer_index, uint64_t now);
/* A received record: 2 if it was authentic and the newest of its key so
 * far (the acceptor learns the peer's address from it), 1 if authentic but
 * older, 0 if dropped (and counted). */
int sio_record_in(secureio_engine *e, const uint8_t *pkt, size_t len, uint64_t now);
/* Keeps a record that came before the keys that open it (responders). */
void sio_early_keep(secureio_engine *e, const uint8_t *pkt, size_t len);
void sio_early_replay(secureio_engine *e, uint64_t now);
/* The next record to send into out (at out + the stream prefix): 1 and its
 * length, or 0 when there is nothing to send now. */
int sio_record_next(secureio_engine *e, uint8_t *out, size_t *out_len, uint64_t now);
/* 1 when an initiator may send no more records until the responder
 * confirms the session (datagrams: it keeps only SIO_EARLY_RECORDS). */
int sio_records_blocked(const secureio_engine *e);
/* 1 when a datagram responder has not yet had an authentic record from the
 * initiator: it sends control records only (the initiator sends one as
 * soon as it is confirmed), so that nothing goes to an address an attacker
 * raced ahead (an acceptor learns the peer's address from that record). */
int sio_peer_unheard(const secureio_engine *e);
/* A record of one frame (SIO_FRAME_CLOSE for an immediate close,
 * SIO_FRAME_CONFIRM), padded as control records are, sealed into out
 * (SIO_FINAL_LEN bytes of room): SECUREIO_OK, or SECUREIO_ERR_STATE
 * without a session. */
int sio_record_single(secureio_engine *e, uint8_t frame_type, uint8_t *out, size_t *out_len);
/* When queued messages are due (their send delay): UINT64_MAX if never. */
uint64_t sio_messages_due(const secureio_engine *e);
size_t sio_max_message(const secureio_engine *e, uint32_t channel);

/* ------------------------------------------------------- engine_pmtu.c */

void sio_pmtu_start(secureio_engine *e, uint64_t now);
void sio_pmtu_tick(secureio_engine *e, uint64_t now);
uint64_t sio_pmtu_deadline(const secureio_engine *e);
/* A probe to send now: its id and size (1), or 0. */
int sio_pmtu_probe_due(secureio_engine *e, uint64_t now, uint64_t *id, size_t *size);
void sio_pmtu_on_ack(secureio_engine *e, uint64_t id, uint64_t size, uint64_t now);
void sio_pmtu_on_probe(secureio_engine *e, uint64_t id, size_t size);
void sio_pmtu_path_changed(secureio_engine *e, uint64_t now);
/* A record of len bytes went out. */
void sio_pmtu_sent(secureio_engine *e, size_t len);

#endif /* SECUREIO_ENGINE_INTERNAL_H */
