/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pair of secureio engines driven by hand, for the engine's unit tests
 * (tests/test_engine*.c; implementation: engine_pair.c).
 *
 * A pair. Two peers, a and b, each an identity and one engine
 * (include/secureio/engine.h). make_pair() gives them the identities of
 * seeds 0x11 and 0x22 and engines that pin each other's key; its adjust
 * function changes either side's configuration first (side 0 is a, side 1
 * is b; resp_any makes b accept anyone, stream_cfg makes both stream
 * engines). Every engine draws its random bytes from det_rng, a fixed
 * generator whose state is det_state: the engines are deterministic, and a
 * test that needs the same bytes twice sets det_state. Each peer records
 * what its engine tells it: events (counts, the states in order, the drop
 * reasons, the keys of ESTABLISHED and of a DROP_PEER refusal) and every
 * message delivered (its channel, length and a hash: msg_is() and got()
 * compare). A peer can also act inside its callbacks (echo, on_established,
 * close_in_state), as engine.h allows. free_pair() frees both and checks
 * that no event came after CLOSED.
 *
 * Time. Nothing runs by itself. Each peer has a clock, p->now, in
 * microseconds; every test starts at T0 (the clocks of make_pair). The
 * functions that hand a packet to one engine (feed, send_msg, poll1,
 * drain) use that peer's now. pump() sets both clocks to the time given,
 * runs the timers due then and moves packets between the engines until
 * both are quiet; run() advances both clocks to a later time, stopping at
 * every deadline of either engine (timers, send delays) to pump there. A
 * deadline that tick() and poll() leave in the past would make a caller
 * spin: run() counts it in stuck_deadlines and moves on; each program
 * checks that it stayed 0.
 *
 * Filters. pump_f() and run_f() pass every packet through a filter before
 * delivering it: filter(arg, from, pkt, len) sees each packet of side
 * `from` (0: a, 1: b); 1 delivers it, 0 drops it. A filter may look at it,
 * count it, keep a copy (to hand in later, or reordered, with feed()) or
 * change nothing: drop_filter drops by size and side, record_filter keeps
 * every packet in a store. The tests have more of their own.
 *
 * Forgeries. make_hello(), forge_auth_r() and fake_auth_i() make the
 * handshake packets of a third party, who knows the responder's public
 * key (or not) and sees the packets on the wire.
 *
 * The driver CHECKs what must always hold (an engine takes what it is
 * handed, start succeeds, a pair is made), so those checks count in the
 * program that uses it.
 */
#ifndef SECUREIO_TESTS_ENGINE_PAIR_H
#define SECUREIO_TESTS_ENGINE_PAIR_H

#include <secureio/engine.h>

#include <stddef.h>
#include <stdint.h>

#include "secureio/wire.h"

/* Room for any packet poll() hands out (a stream's frame included). */
#define MAXP (SECUREIO_MAX_PACKET_LEN + SECUREIO_STREAM_FRAME_HEADER)
/* Room for a datagram of the default size. */
#define PKT 2048
#define MS 1000ull           /* microseconds in a millisecond */
#define T0 (5000 * MS)       /* where every test's clock starts */
#define HS SIO_HS_PACKET_LEN /* every handshake packet */
#define CTRL_LEN (SIO_RECORD_HEADER_LEN + 128u + SECUREIO_TAG_LEN) /* control records */
/* The largest message in one packet of psize bytes, on a channel whose
 * varint takes chlen bytes (the frame type, and 2 bytes of length). */
#define MSG_IN_PACKET(psize, chlen) ((psize) - (SECUREIO_RECORD_OVERHEAD + 3u + (chlen)))

/* ------------------------------------------------------------- helpers */

/* The bytes of message `seed`: a pattern of its own. */
void fill(uint8_t *buf, size_t len, uint32_t seed);

/* The state of det_rng, which every engine of make_pair() uses. */
extern uint64_t det_state;

/* A fixed generator (ctx: its uint64_t state): the engines become
 * deterministic. */
int det_rng(void *ctx, uint8_t *out, size_t len);

/* ------------------------------------------------------------ a peer */

/* A message as it was delivered. */
typedef struct rmsg {
    uint32_t channel;
    size_t len;
    uint8_t hash[16];
} rmsg;

typedef struct peer peer;
typedef void (*hook_fn)(peer *p);

struct peer {
    secureio_engine *e;
    secureio_identity *id;
    uint8_t pk[32];
    uint64_t now; /* the time of the call in progress (callbacks use it) */
    /* events */
    int established, rekeyed, closed, closed_err, bad;
    uint64_t drops[SECUREIO_DROP_REASON_COUNT];
    int refused_has_key;
    uint8_t refused_key[32];
    int established_has_key;
    uint8_t established_key[32];
    secureio_state states[32];
    size_t n_states;
    int size_events;
    uint32_t last_size;
    uint64_t closed_at;
    size_t messages_at_close;
    size_t max_at_established;     /* secureio_engine_max_message(ch 0) then */
    int events_after_close;        /* must stay 0: CLOSED is the last event */
    secureio_state close_in_state; /* close_now from the STATE event of this state */
    /* messages */
    rmsg *log;
    size_t messages, log_cap;
    uint8_t last_msg[2048];
    size_t last_len;
    uint32_t last_channel;
    /* what it does inside its callbacks */
    int echo;               /* on_message writes each message back ("bye": close) */
    hook_fn on_established; /* runs inside the ESTABLISHED event */
    int burst, burst_size;  /* for the hook: messages to write */
    int written;            /* messages written by write_next() (test_engine_attacks.c) */
};

/* The callbacks of every engine of a pair (user: its peer). on_msg logs the
 * message (and, with echo, writes it back, or closes on "bye"); on_ev
 * counts and records the event. Tests install them elsewhere too, or call
 * on_msg from a handler of their own. */
void on_msg(void *user, uint32_t channel, const uint8_t *data, size_t len);
void on_ev(void *user, const secureio_event *ev);

/* 1 if message i of p was (channel, data[len]). */
int msg_is(const peer *p, size_t i, uint32_t channel, const uint8_t *data, size_t len);

/* 1 if p's last message was the string msg. */
int got(const peer *p, const char *msg);

/* 1 if p's engine went through state s (a STATE event). */
int has_state(const peer *p, secureio_state s);

secureio_stats stats_of(const peer *p);

/* An identity from a seed byte, nothing else yet (now: T0). */
void peer_init(peer *p, uint8_t seed_byte);

/* adjust (may be NULL) changes side i's configuration before its engine is made. */
typedef void (*adjust_fn)(int i, secureio_config *cfg);

/* p's engine, as side i, pinning peer_key (NULL: none), with the callbacks
 * above and det_rng. */
void peer_engine(peer *p, int i, const uint8_t *peer_key, adjust_fn adjust);

/* Two identities (seeds 0x11 and 0x22) whose engines pin each other. */
void make_pair(peer *a, peer *b, adjust_fn adjust);

void free_peer(peer *p);
void free_pair(peer *a, peer *b);

/* Side 1 only answers (no pinned key: it accepts anyone). */
void resp_any(int i, secureio_config *cfg);
/* Both are stream engines. */
void stream_cfg(int i, secureio_config *cfg);
/* Both: resp_any and stream_cfg. */
void stream_resp_any(int i, secureio_config *cfg);

/* ------------------------------------------------------------ the driver */

/* Sees each packet from side `from` (0: a, 1: b): 1 delivers it, 0 drops it
 * (the filter may keep a copy to deliver later). */
typedef int (*filter_fn)(void *arg, int from, const uint8_t *pkt, size_t len);

/* The driver's packet buffer (MAXP bytes), which tests may use between its
 * calls. */
extern uint8_t pump_pkt[MAXP];
/* run_f found a deadline in the past that tick() and poll() left there */
extern unsigned long stuck_deadlines;

/* Hands a packet (or stream bytes) to p, which must take it (SECUREIO_OK). */
void feed(peer *p, const uint8_t *pkt, size_t len);

/* Runs the timers due at now, then moves every packet each engine has for
 * the other until both are quiet. Returns the packets moved (dropped ones
 * included). */
size_t pump_f(peer *a, peer *b, uint64_t now, filter_fn f, void *arg);
size_t pump(peer *a, peer *b, uint64_t now);

/* Advances the clock from the later of the two peers' times to until,
 * stopping at every deadline of either engine (timers, send delays). */
void run_f(peer *a, peer *b, uint64_t until, filter_fn f, void *arg);
void run(peer *a, peer *b, uint64_t until);

int both_established(const peer *a, const peer *b);

/* Starts both and moves packets at the start time: 1 if both are then
 * ESTABLISHED (a clean link finishes path size discovery at once). */
int connect_pair(peer *a, peer *b);

/* Writes msg from one peer (synchronous, copied) and hands every packet it
 * then has to the other; returns the last one's length (the message's
 * record), copied to rec_out (PKT bytes) if not NULL. */
size_t send_msg(peer *from, peer *to, uint32_t channel, const char *msg, uint8_t *rec_out);

/* Packets kept, not delivered. */
typedef struct pktcopy {
    uint8_t *data;
    size_t len;
    int from;
} pktcopy;

typedef struct store {
    pktcopy *p;
    size_t n, cap;
} store;

void store_add(store *s, int from, const uint8_t *pkt, size_t len);
void store_free(store *s);

/* Polls p until it has nothing more, keeping each packet in s (as from
 * side `from`); returns how many. */
size_t drain(peer *p, int from, store *s);

/* Polls p once: the packet's length (0: none). */
size_t poll1(peer *p, uint8_t *out, size_t room);

/* A filter that drops every packet from `from` (-1: both) whose length is
 * `len` (0: any), counting them. */
typedef struct dropper {
    int from;
    size_t len;
    size_t dropped, passed;
} dropper;

int drop_filter(void *arg, int from, const uint8_t *pkt, size_t len);

/* Records every packet in the store arg (and passes it). */
int record_filter(void *arg, int from, const uint8_t *pkt, size_t len);

/* ------------------------------------------------ handshake forgeries */

/* A third party's hello: its ephemeral key, and the packet with a mac
 * keyed with mac_pk (NULL: a zero mac). */
typedef struct fake_hello {
    uint8_t priv[32];
    sio_hs_packet h;
    uint8_t pkt[HS];
} fake_hello;

void make_hello(fake_hello *f, const uint8_t *mac_pk);

/* An AUTH_R forged for the hello h (captured on the wire) by someone who
 * knows the responder's public key: it echoes h's nonce and has the right
 * mac; its ciphertext is garbage (signer NULL), or a real one of its own
 * ephemeral exchange signed by signer (an identity nobody authorized). */
void forge_auth_r(uint8_t out[HS], const sio_hs_packet *h, const uint8_t resp_pk[32],
                  const secureio_identity *signer);

/* The AUTH_I of a third party with identity id, for its hello f answered
 * by the AUTH_R ar_pkt of the responder resp_pk (id NULL: garbage
 * ciphertext, the right mac). */
void fake_auth_i(uint8_t out[HS], const fake_hello *f, const uint8_t *ar_pkt,
                 const secureio_identity *id, const uint8_t resp_pk[32]);

#endif /* SECUREIO_TESTS_ENGINE_PAIR_H */
