/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The acceptor (include/secureio/acceptor.h): one stateless responder
 * (responder.c) for every hello that reaches the socket, and a table of
 * sessions by receiver index for the records.
 *
 * Sessions are engines made from a verified AUTH_I (sio_engine_adopt_begin,
 * the application's on_session, sio_engine_adopt_finish).
 * The index table is open addressing with linear probing (deletion shifts
 * entries back, so no tombstones), at most half full. Sessions with
 * something to send wait in a FIFO, each at most once: the acceptor puts a
 * session there after handing it input or ticking it, and the engine tells
 * the acceptor when the application writes to it (ready_fn). A closed
 * session is freed when the FIFO reaches it with nothing left to send.
 */
#include <secureio/acceptor.h>

#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/detail.h"
#include "common/util.h"
#include "engine_internal.h"

#define SIO_ACC_ANSWERS 64u
#define SIO_ACC_CACHE 64u
/* Token buckets per source (a table indexed by a keyed hash of the source:
 * a collision shares a bucket; a new source in a slot starts with one
 * token, not a full bucket, so that taking slots over gains nothing). A
 * source is an IPv4 address or an IPv6 /64 when the address is a
 * struct sockaddr_in or sockaddr_in6 (its port aside: one host is one
 * source, whatever its ports), else the whole address. */
#define SIO_ACC_SOURCES 4096u
#define SIO_ACC_DEFAULT_SESSIONS 1024u
#define SIO_ACC_DEFAULT_RATE 200u
/* Records for no session yet, kept a moment: they may have overtaken the
 * AUTH_I that makes their session (the engine does the same, engine_record.c). */
#define SIO_ACC_EARLY 64u
#define SIO_ACC_EARLY_US 2000000u

typedef struct sio_session {
    struct secureio_acceptor *acc;
    secureio_engine *e;
    uint32_t index;
    size_t pos;    /* in the acceptor's list */
    int confirmed; /* an authentic record came from the peer: its address is known */
    uint8_t hello_id[16];
    uint8_t addr[SECUREIO_ADDR_MAX];
    size_t addr_len;
    int ready;
    struct sio_session *next_ready;
} sio_session;

typedef struct sio_acc_early {
    uint32_t index;
    uint64_t at;
    size_t len, addr_len;
    uint8_t *data; /* max_packet bytes, made once */
    uint8_t addr[SECUREIO_ADDR_MAX];
} sio_acc_early;

/* A packet to send that belongs to no session's queue: an answer to a
 * hello, or a CONFIRM to the source of a copy of a session's AUTH_I. */
typedef struct sio_acc_answer {
    uint8_t pkt[SIO_HS_PACKET_LEN];
    size_t len;
    uint8_t addr[SECUREIO_ADDR_MAX];
    size_t addr_len;
} sio_acc_answer;

typedef struct sio_acc_source {
    uint8_t id[16];
    sio_bucket bucket;
} sio_acc_source;

/* A table of sessions with open addressing and linear probing, at most
 * half full; a deletion shifts the entries after it back (no tombstones).
 * Keyed by the receiver index, or by the (secretly keyed) hash of the
 * hello that made the session. */
typedef struct sio_table {
    sio_session **slot;
    size_t cap; /* a power of two */
    int by_hello;
} sio_table;

struct secureio_acceptor {
    secureio_acceptor_config cfg;
    secureio_config session_cfg;
    secureio_acceptor_counters stats;
    sio_responder resp;
    sio_policy policy;
    size_t max_packet;
    sio_session **list; /* every session */
    size_t n;
    sio_table by_index; /* records find their session */
    sio_table by_hello; /* copies of an AUTH_I find the session it made */
    sio_session *ready_head, *ready_tail;
    sio_acc_answer answers[SIO_ACC_ANSWERS];
    size_t answers_head, answers_count;
    sio_acc_early early[SIO_ACC_EARLY]; /* the first n_early are in use, oldest first */
    size_t n_early;
    int closing; /* secureio_acceptor_close(): no new sessions */
    uint8_t source_key[32];
    sio_acc_source *sources; /* SIO_ACC_SOURCES */
};

/* ------------------------------------------------------------- helpers */

static void acc_drop(secureio_acceptor *a, int why, const uint8_t *pk)
{
    secureio_event ev;
    a->stats.dropped[why]++;
    if (a->cfg.on_event == NULL)
        return;
    memset(&ev, 0, sizeof ev);
    ev.type = SECUREIO_EVENT_BAD_PACKET;
    ev.drop_reason = why;
    if (pk != NULL) {
        ev.has_peer_key = 1;
        memcpy(ev.peer_key, pk, 32);
    }
    a->cfg.on_event(a->cfg.user, &ev);
}

static size_t home_of(const sio_table *t, uint32_t index, const uint8_t *hello_id)
{
    uint32_t h = t->by_hello ? util_load32_le(hello_id) : index * 2654435761u;
    return (size_t)(h & (uint32_t)(t->cap - 1));
}

static size_t home_of_session(const sio_table *t, const sio_session *s)
{
    return home_of(t, s->index, s->hello_id);
}

static sio_session *table_find(const sio_table *t, uint32_t index, const uint8_t *hello_id)
{
    for (size_t i = home_of(t, index, hello_id);; i = (i + 1) & (t->cap - 1)) {
        const sio_session *s = t->slot[i];
        if (s == NULL)
            return NULL;
        if (t->by_hello ? memcmp(s->hello_id, hello_id, 16) == 0 : s->index == index)
            return t->slot[i];
    }
}

static void table_put(sio_table *t, sio_session *s)
{
    size_t i = home_of_session(t, s);
    while (t->slot[i] != NULL)
        i = (i + 1) & (t->cap - 1);
    t->slot[i] = s;
}

static void table_del(sio_table *t, const sio_session *s)
{
    size_t mask = t->cap - 1, i = home_of_session(t, s);
    while (t->slot[i] != s)
        i = (i + 1) & mask;
    t->slot[i] = NULL;
    /* shift back the entries after it that probed past the hole */
    for (size_t j = (i + 1) & mask; t->slot[j] != NULL; j = (j + 1) & mask) {
        size_t home = home_of_session(t, t->slot[j]);
        /* j's entry may move to i when its home is not within (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            t->slot[i] = t->slot[j];
            t->slot[j] = NULL;
            i = j;
        }
    }
}

static void make_ready(secureio_acceptor *a, sio_session *s)
{
    if (s->ready)
        return;
    s->ready = 1;
    s->next_ready = NULL;
    if (a->ready_tail != NULL)
        a->ready_tail->next_ready = s;
    else
        a->ready_head = s;
    a->ready_tail = s;
}

static void engine_ready(void *ctx, secureio_engine *e)
{
    sio_session *s = ctx;
    (void)e;
    make_ready(s->acc, s);
}

static void end_session(secureio_acceptor *a, sio_session *s)
{
    if (s->ready) { /* out of the FIFO first */
        sio_session **p = &a->ready_head, *prev = NULL;
        while (*p != s) {
            prev = *p;
            p = &(*p)->next_ready;
        }
        *p = s->next_ready;
        if (a->ready_tail == s)
            a->ready_tail = prev;
    }
    if (a->cfg.on_session_end != NULL)
        a->cfg.on_session_end(a->cfg.user, s->e);
    table_del(&a->by_index, s);
    table_del(&a->by_hello, s);
    a->list[s->pos] = a->list[a->n - 1];
    a->list[s->pos]->pos = s->pos;
    a->n--;
    s->e->ready_fn = NULL;
    secureio_engine_free(s->e);
    util_wipe(s, sizeof *s);
    free(s);
    a->stats.sessions_ended++;
    a->stats.sessions = a->n;
}

/* --------------------------------------------------------------- public */

static const char *config_problem(const secureio_acceptor_config *cfg)
{
    if (cfg == NULL)
        return "cfg is NULL";
    if (cfg->version != SECUREIO_ACCEPTOR_CONFIG_VERSION)
        return "cfg->version is not SECUREIO_ACCEPTOR_CONFIG_VERSION (start from "
               "SECUREIO_ACCEPTOR_CONFIG_INIT)";
    if (cfg->identity == NULL)
        return "cfg->identity is NULL";
    if (cfg->accept_any_peer != 0 && cfg->accept_any_peer != 1)
        return "cfg->accept_any_peer is neither 0 nor 1";
    if (cfg->allowed_peers == NULL && cfg->accept_any_peer != 1)
        return "no peer is allowed: set cfg->allowed_peers or cfg->accept_any_peer = 1";
    if (cfg->psk == NULL && cfg->psk_len > 0)
        return "cfg->psk is NULL but cfg->psk_len is not 0";
    if (cfg->psk_len > 0 && cfg->psk_len < SECUREIO_MIN_PSK_LEN)
        return "cfg->psk_len is below SECUREIO_MIN_PSK_LEN (32 bytes)";
    if (cfg->max_sessions > (1u << 24))
        return "cfg->max_sessions is over 2^24";
    if (cfg->session != NULL && cfg->session->version != SECUREIO_CONFIG_VERSION)
        return "cfg->session->version is not SECUREIO_CONFIG_VERSION";
    return NULL;
}

int secureio_acceptor_new(secureio_acceptor **out, const secureio_acceptor_config *cfg,
                          uint64_t now)
{
    util_detail_clear();
    if (out == NULL) {
        util_detail("secureio_acceptor_new: out is NULL");
        return SECUREIO_ERR_ARG;
    }
    *out = NULL;
    const char *problem = config_problem(cfg);
    if (problem != NULL) {
        util_detail("secureio_acceptor_new: %s", problem);
        return SECUREIO_ERR_ARG;
    }
    if (sodium_init() < 0)
        return SECUREIO_ERR_CRYPTO;
    secureio_acceptor *a = calloc(1, sizeof *a);
    if (a == NULL)
        return SECUREIO_ERR_NOMEM;
    a->cfg = *cfg;
    a->cfg.psk = NULL;
    a->cfg.psk_len = 0;
    if (a->cfg.max_sessions == 0)
        a->cfg.max_sessions = SIO_ACC_DEFAULT_SESSIONS;
    if (a->cfg.handshake_rate == 0)
        a->cfg.handshake_rate = SIO_ACC_DEFAULT_RATE;
    if (a->cfg.source_rate == 0)
        a->cfg.source_rate = a->cfg.handshake_rate / 8 > 0 ? a->cfg.handshake_rate / 8 : 1;
    secureio_config base = SECUREIO_CONFIG_INIT;
    a->session_cfg = cfg->session != NULL ? *cfg->session : base;
    secureio_config *sc = &a->session_cfg;
    sc->identity = cfg->identity;
    sc->peer_key = NULL;
    sc->allowed_peers = NULL;
    sc->accept_any_peer = 1; /* the acceptor decided who may be the peer */
    sc->psk = NULL;
    sc->psk_len = 0;
    sc->stream = 0;
    if (sc->rng == NULL) {
        sc->rng = cfg->rng;
        sc->rng_ctx = cfg->rng_ctx;
    }
    const char *bad = sio_config_problem(sc);
    if (bad != NULL) {
        util_detail("secureio_acceptor_new: cfg->session, as each session's configuration: %s",
                    bad);
        free(a);
        return SECUREIO_ERR_ARG;
    }
    a->max_packet = sc->max_packet_len ? sc->max_packet_len : SECUREIO_DEFAULT_PACKET_LEN;
    a->policy.allowed = cfg->allowed_peers;
    a->policy.any = cfg->accept_any_peer;
    size_t cap = 16;
    while (cap < 2 * (size_t)a->cfg.max_sessions)
        cap *= 2;
    a->by_index.cap = a->by_hello.cap = cap;
    a->by_hello.by_hello = 1;
    a->by_index.slot = calloc(cap, sizeof *a->by_index.slot);
    a->by_hello.slot = calloc(cap, sizeof *a->by_hello.slot);
    a->list = calloc(a->cfg.max_sessions, sizeof *a->list);
    a->sources = calloc(SIO_ACC_SOURCES, sizeof *a->sources);
    randombytes_buf(a->source_key, sizeof a->source_key);
    uint8_t kpsk[SIO_SECRET_LEN];
    sio_psk_key(kpsk, cfg->psk, cfg->psk_len);
    int rc =
        a->by_index.slot == NULL || a->by_hello.slot == NULL || a->list == NULL ||
                a->sources == NULL
            ? SECUREIO_ERR_NOMEM
            : sio_responder_init(
                  &a->resp, cfg->identity, kpsk, cfg->psk_len > 0 ? SIO_OPT_PSK : 0,
                  a->cfg.handshake_rate, SIO_ROTATE_MAX_US, cfg->rng, cfg->rng_ctx, SIO_ACC_CACHE,
                  sio_responder_memory(a->cfg.handshake_rate, SIO_ROTATE_MAX_US), now);
    util_wipe(kpsk, sizeof kpsk);
    if (rc != SECUREIO_OK) {
        secureio_acceptor_free(a);
        return rc;
    }
    *out = a;
    return SECUREIO_OK;
}

/* The bytes that name the source of an address (see SIO_ACC_SOURCES). */
static size_t source_of(const void *addr, size_t addr_len, const uint8_t **out)
{
    sa_family_t family;
    if (addr_len >= sizeof(struct sockaddr_in) && addr_len <= sizeof(struct sockaddr_storage)) {
        memcpy(&family, (const uint8_t *)addr + offsetof(struct sockaddr, sa_family),
               sizeof family);
        if (family == AF_INET) {
            *out = (const uint8_t *)addr + offsetof(struct sockaddr_in, sin_addr);
            return 4;
        }
        if (family == AF_INET6 && addr_len >= sizeof(struct sockaddr_in6)) {
            *out = (const uint8_t *)addr + offsetof(struct sockaddr_in6, sin6_addr);
            return 8; /* the /64 */
        }
    }
    *out = addr;
    return addr_len;
}

/* The token bucket of a packet's source. */
static sio_bucket *source_bucket(secureio_acceptor *a, const void *addr, size_t addr_len,
                                 uint64_t now)
{
    uint8_t id[16];
    const uint8_t *src_bytes;
    size_t n = source_of(addr, addr_len, &src_bytes);
    crypto_generichash(id, sizeof id, n > 0 ? src_bytes : NULL, n, a->source_key,
                       sizeof a->source_key);
    sio_acc_source *src = &a->sources[util_load32_le(id) % SIO_ACC_SOURCES];
    if (memcmp(src->id, id, sizeof id) != 0) {
        memcpy(src->id, id, sizeof id);
        src->bucket.tokens = 1000000u; /* one token (millionths): see SIO_ACC_SOURCES */
        src->bucket.at = now;
    }
    return &src->bucket;
}

static void queue_answer(secureio_acceptor *a, const uint8_t *pkt, size_t len, const void *addr,
                         size_t addr_len)
{
    if (a->answers_count == SIO_ACC_ANSWERS) {
        a->stats.answers_dropped++;
        return;
    }
    sio_acc_answer *ans = &a->answers[(a->answers_head + a->answers_count) % SIO_ACC_ANSWERS];
    memcpy(ans->pkt, pkt, len);
    ans->len = len;
    if (addr_len > 0)
        memcpy(ans->addr, addr, addr_len);
    ans->addr_len = addr_len;
    a->answers_count++;
}

/* Keeps a record for no session (unauthenticated: it changes nothing but
 * this bounded buffer, whose oldest entry goes when it is full). */
static void early_keep(secureio_acceptor *a, uint32_t index, const uint8_t *pkt, size_t len,
                       const void *addr, size_t addr_len, uint64_t now)
{
    if (!sio_responder_answered(&a->resp, index)) {
        /* not the index of a hello we answered lately: nobody's early record
         * (an attacker without our key cannot guess one) */
        acc_drop(a, SECUREIO_DROP_NOT_FOR_US, NULL);
        return;
    }
    if (a->n_early == SIO_ACC_EARLY) {
        sio_acc_early first = a->early[0];
        memmove(&a->early[0], &a->early[1], (SIO_ACC_EARLY - 1) * sizeof a->early[0]);
        a->early[SIO_ACC_EARLY - 1] = first;
        a->n_early--;
        acc_drop(a, SECUREIO_DROP_NOT_FOR_US, NULL);
    }
    sio_acc_early *r = &a->early[a->n_early];
    if (r->data == NULL && (r->data = malloc(a->max_packet)) == NULL) {
        acc_drop(a, SECUREIO_DROP_NOT_FOR_US, NULL);
        return;
    }
    r->index = index;
    r->at = now;
    r->len = len;
    memcpy(r->data, pkt, len);
    if (addr_len > 0)
        memcpy(r->addr, addr, addr_len);
    r->addr_len = addr_len;
    a->n_early++;
}

/* Removes early record i (its buffer goes to the end, for reuse). */
static void early_remove(secureio_acceptor *a, size_t i)
{
    sio_acc_early r = a->early[i];
    memmove(&a->early[i], &a->early[i + 1], (a->n_early - i - 1) * sizeof a->early[0]);
    a->early[--a->n_early] = r;
}

static void early_expire(secureio_acceptor *a, uint64_t now)
{
    while (a->n_early > 0 && now >= a->early[0].at && now - a->early[0].at >= SIO_ACC_EARLY_US) {
        early_remove(a, 0);
        acc_drop(a, SECUREIO_DROP_NOT_FOR_US, NULL);
    }
}

static void record_in(secureio_acceptor *a, sio_session *s, const uint8_t *pkt, size_t len,
                      const void *addr, size_t addr_len, uint64_t now);

/* A new session takes the records that came before it. */
static void early_replay(secureio_acceptor *a, sio_session *s, uint64_t now)
{
    for (size_t i = 0; i < a->n_early;) {
        if (a->early[i].index != s->index) {
            i++;
            continue;
        }
        sio_acc_early r = a->early[i];
        early_remove(a, i);
        record_in(a, s, r.data, r.len, r.addr, r.addr_len, now);
        if (secureio_engine_state(s->e) == SECUREIO_STATE_CLOSED)
            return;
    }
}

/* A verified AUTH_I: a new session. */
static void new_session(secureio_acceptor *a, sio_hs_result *res, const uint8_t *pkt,
                        const void *addr, size_t addr_len, uint64_t now)
{
    if (a->n >= a->cfg.max_sessions) {
        a->stats.sessions_refused++;
        acc_drop(a, SECUREIO_DROP_RATE, NULL);
        return;
    }
    if (table_find(&a->by_index, res->index_r, NULL) != NULL) {
        acc_drop(a, SECUREIO_DROP_STALE, NULL); /* an index in use: the peer starts again */
        return;
    }
    sio_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return;
    int rc = secureio_engine_new(&s->e, &a->session_cfg);
    if (rc != SECUREIO_OK) {
        secureio_engine_free(s->e);
        free(s);
        return;
    }
    s->acc = a;
    s->index = res->index_r;
    memcpy(s->hello_id, res->hello_id, 16);
    if (addr_len > 0)
        memcpy(s->addr, addr, addr_len);
    s->addr_len = addr_len;
    s->pos = a->n;
    a->list[a->n++] = s;
    table_put(&a->by_index, s);
    table_put(&a->by_hello, s);
    s->e->ready_fn = engine_ready;
    s->e->ready_ctx = s;
    a->stats.sessions_made++;
    a->stats.sessions = a->n;
    make_ready(a, s);
    /* the application sets the session's callbacks (and may write) before
     * its first event */
    sio_engine_adopt_begin(s->e, now);
    if (a->cfg.on_session != NULL)
        a->cfg.on_session(a->cfg.user, s->e, res->peer, s->addr, s->addr_len);
    if (sio_engine_adopt_finish(s->e, res, pkt, now) != SECUREIO_OK) {
        secureio_engine_close_now(s->e, now); /* ends at the next poll(), on_session_end */
        return;
    }
    early_replay(a, s, now);
}

static void handshake_in(secureio_acceptor *a, const uint8_t *pkt, size_t len, const void *addr,
                         size_t addr_len, uint64_t now)
{
    sio_hs_packet p;
    uint8_t out[SIO_HS_PACKET_LEN];
    if (sio_hs_decode(&p, pkt, len) != 0) {
        acc_drop(a, SECUREIO_DROP_MALFORMED, NULL);
        return;
    }
    if (a->closing) {
        acc_drop(a, SECUREIO_DROP_STALE, NULL); /* no new session after close() */
        return;
    }
    sio_source src = {addr, addr_len, NULL, a->cfg.source_rate};
    if (p.type == SIO_PKT_HELLO) {
        int cookie;
        a->stats.hellos++;
        src.bucket = source_bucket(a, addr, addr_len, now);
        int r = sio_responder_hello(&a->resp, &p, pkt, &src, now, out, &cookie);
        a->stats.cookies_sent = a->resp.cookies_sent;
        if (r < 0)
            acc_drop(a, -r, NULL);
        else
            queue_answer(a, out, SIO_HS_PACKET_LEN, addr, addr_len);
        return;
    }
    if (p.type != SIO_PKT_AUTH_I) {
        acc_drop(a, SECUREIO_DROP_STALE, NULL); /* an acceptor never initiates */
        return;
    }
    sio_hs_result res;
    int why = sio_responder_auth_i(&a->resp, &p, pkt, &a->policy, &res);
    if (why == SECUREIO_DROP_REPLAY) {
        /* the AUTH_I of a session we made: its CONFIRM was lost */
        sio_session *s = table_find(&a->by_hello, 0, res.hello_id);
        if (s == NULL) {
            acc_drop(a, why, NULL);
        } else if (!s->confirmed) {
            /* Nothing authentic came from the peer yet, so where it is
             * cannot be told: a copy of its AUTH_I from another address may
             * be the real one (the first may have been a copy an attacker
             * raced ahead). Each source gets a CONFIRM, within its rate. */
            uint8_t rec[SIO_FINAL_LEN];
            size_t n;
            if (sodium_memcmp(pkt, s->e->sess_auth_i, SIO_HS_PACKET_LEN) == 0 &&
                sio_bucket_take(source_bucket(a, addr, addr_len, now), a->cfg.source_rate, now) &&
                sio_record_single(s->e, SIO_FRAME_CONFIRM, rec, &n) == SECUREIO_OK)
                queue_answer(a, rec, n, addr, addr_len);
        } else {
            (void)sio_packet_in(s->e, pkt, len, now); /* CONFIRM to its address */
            make_ready(a, s);
        }
    } else if (why < 0) {
        acc_drop(a, SECUREIO_DROP_RATE, NULL); /* the secret could not be replaced */
    } else if (why != 0) {
        acc_drop(a, why, why == SECUREIO_DROP_PEER ? res.peer : NULL);
    } else {
        new_session(a, &res, pkt, addr, addr_len, now);
    }
    util_wipe(&res, sizeof res);
}

int secureio_acceptor_recv(secureio_acceptor *a, const uint8_t *pkt, size_t len, const void *addr,
                           size_t addr_len, uint64_t now)
{
    if (a == NULL || (pkt == NULL && len > 0) || (addr == NULL && addr_len > 0) ||
        addr_len > SECUREIO_ADDR_MAX)
        return SECUREIO_ERR_ARG;
    a->stats.packets_in++;
    if (len == 0 || len > a->max_packet) {
        acc_drop(a, SECUREIO_DROP_MALFORMED, NULL);
        return SECUREIO_OK;
    }
    if (pkt[0] != SIO_PKT_RECORD) {
        handshake_in(a, pkt, len, addr, addr_len, now);
        return SECUREIO_OK;
    }
    sio_record_header h;
    sio_session *s;
    if (sio_record_header_decode(&h, pkt, len) != 0) {
        acc_drop(a, SECUREIO_DROP_MALFORMED, NULL);
        return SECUREIO_OK;
    }
    if ((s = table_find(&a->by_index, h.index, NULL)) == NULL) {
        early_keep(a, h.index, pkt, len, addr, addr_len, now);
        return SECUREIO_OK;
    }
    record_in(a, s, pkt, len, addr, addr_len, now);
    return SECUREIO_OK;
}

static void record_in(secureio_acceptor *a, sio_session *s, const uint8_t *pkt, size_t len,
                      const void *addr, size_t addr_len, uint64_t now)
{
    int authentic = sio_packet_in(s->e, pkt, len, now);
    if (authentic)
        s->confirmed = 1;
    if (authentic == 2 &&
        (addr_len != s->addr_len || (addr_len > 0 && memcmp(addr, s->addr, addr_len) != 0))) {
        /* the peer moved (its newest record comes from elsewhere; a late or
         * re-sent older one moves nothing): its records go there now */
        if (addr_len > 0)
            memcpy(s->addr, addr, addr_len);
        s->addr_len = addr_len;
        a->stats.address_changes++;
        secureio_engine_path_changed(s->e, now);
        if (a->cfg.on_address != NULL)
            a->cfg.on_address(a->cfg.user, s->e, s->addr, s->addr_len);
    }
    make_ready(a, s);
}

int secureio_acceptor_poll(secureio_acceptor *a, uint8_t *out, size_t *out_len, void *addr,
                           size_t *addr_len, uint64_t now)
{
    if (a == NULL || out == NULL || out_len == NULL || addr == NULL || addr_len == NULL)
        return SECUREIO_ERR_ARG;
    size_t room = *out_len, aroom = *addr_len;
    *out_len = 0;
    if (room < a->max_packet || aroom < SECUREIO_ADDR_MAX) {
        *out_len = a->max_packet;
        *addr_len = SECUREIO_ADDR_MAX;
        return SECUREIO_ERR_BUFFER;
    }
    *addr_len = 0;
    if (a->answers_count > 0) {
        sio_acc_answer *ans = &a->answers[a->answers_head];
        memcpy(out, ans->pkt, ans->len);
        memcpy(addr, ans->addr, ans->addr_len);
        *out_len = ans->len;
        *addr_len = ans->addr_len;
        a->answers_head = (a->answers_head + 1) % SIO_ACC_ANSWERS;
        a->answers_count--;
        a->stats.packets_out++;
        return SECUREIO_OK;
    }
    while (a->ready_head != NULL) {
        sio_session *s = a->ready_head;
        size_t n = room;
        int rc = secureio_engine_poll(s->e, out, &n, now);
        if (rc == SECUREIO_OK && n > 0) {
            memcpy(addr, s->addr, s->addr_len);
            *out_len = n;
            *addr_len = s->addr_len;
            a->stats.packets_out++;
            return SECUREIO_OK; /* it stays at the head: it may have more */
        }
        a->ready_head = s->next_ready;
        if (a->ready_head == NULL)
            a->ready_tail = NULL;
        s->ready = 0;
        s->next_ready = NULL;
        if (secureio_engine_state(s->e) == SECUREIO_STATE_CLOSED)
            end_session(a, s);
    }
    return SECUREIO_OK;
}

int secureio_acceptor_tick(secureio_acceptor *a, uint64_t now)
{
    if (a == NULL)
        return SECUREIO_ERR_ARG;
    int rc = sio_responder_tick(&a->resp, now);
    if (rc != SECUREIO_OK)
        return rc;
    early_expire(a, now);
    for (size_t i = 0; i < a->n; i++) {
        sio_session *s = a->list[i];
        if (secureio_engine_deadline(s->e) <= now) {
            int trc = secureio_engine_tick(s->e, now); /* a failure closes it */
            (void)trc;
            make_ready(a, s);
        }
    }
    return SECUREIO_OK;
}

uint64_t secureio_acceptor_deadline(const secureio_acceptor *a)
{
    if (a == NULL)
        return UINT64_MAX;
    if (a->answers_count > 0 || a->ready_head != NULL)
        return 0; /* poll() has work now */
    uint64_t d = sio_responder_deadline(&a->resp);
    if (a->n_early > 0 && sio_after(a->early[0].at, SIO_ACC_EARLY_US) < d)
        d = sio_after(a->early[0].at, SIO_ACC_EARLY_US);
    for (size_t i = 0; i < a->n; i++) {
        uint64_t t = secureio_engine_deadline(a->list[i]->e);
        if (t < d)
            d = t;
    }
    return d;
}

void secureio_acceptor_stats(const secureio_acceptor *a, secureio_acceptor_counters *stats)
{
    if (a == NULL || stats == NULL)
        return;
    *stats = a->stats;
    stats->cookies_sent = a->resp.cookies_sent;
    stats->sessions = a->n;
}

void secureio_acceptor_close(secureio_acceptor *a, uint64_t now)
{
    if (a == NULL)
        return;
    a->closing = 1;
    /* each session's CLOSE goes out through poll(), which then ends it */
    for (size_t i = 0; i < a->n; i++)
        secureio_engine_close_now(a->list[i]->e, now);
}

void secureio_acceptor_free(secureio_acceptor *a)
{
    if (a == NULL)
        return;
    while (a->n > 0) {
        sio_session *s = a->list[a->n - 1];
        s->e->ready_fn = NULL;
        secureio_engine_close_now(s->e, 0);
        end_session(a, s);
    }
    sio_responder_clear(&a->resp);
    for (size_t i = 0; i < SIO_ACC_EARLY; i++)
        free(a->early[i].data);
    free(a->by_index.slot);
    free(a->by_hello.slot);
    free(a->list);
    free(a->sources);
    util_wipe(a, sizeof *a);
    free(a);
}
