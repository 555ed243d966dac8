/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The send queue of an engine: a ring of messages written and not yet sent
 * whole, and an arena for the copies of copied writes, both bounded. The
 * ring doubles up to its limit as the queue first fills, the arena is made
 * whole at the first copy; past that a write never allocates, and a full
 * queue refuses (SECUREIO_ERR_AGAIN) instead of growing. Messages leave in the
 * order they were written (so each channel keeps its order); poll() packs
 * them into records (engine_record.c).
 */
#ifndef SECUREIO_SENDQ_H
#define SECUREIO_SENDQ_H

#include <secureio/engine.h>

#include <stddef.h>
#include <stdint.h>

typedef struct sio_msg {
    const uint8_t *data;
    uint64_t len, sent; /* bytes sealed into records so far (fragments) */
    uint64_t id;        /* the message id of its fragments */
    uint64_t at;        /* when it was written */
    uint32_t channel;
    unsigned flags;
    secureio_done_fn done;
    void *arg;
    size_t copy_len; /* arena bytes it holds (SECUREIO_WRITE_COPY) */
} sio_msg;

typedef struct sio_sendq {
    sio_msg *ring;
    size_t cap, head, count, max; /* the ring's size now (a power of two), and the limit */
    uint8_t *arena;               /* a ring of bytes; copies leave in the order they came */
    size_t arena_cap, arena_head, arena_tail, arena_used, arena_max;
    uint64_t bytes; /* message bytes still to send */
    uint64_t next_id;
    size_t syncs; /* queued synchronous writes */
} sio_sendq;

/* An empty queue of at most cap messages and arena_cap bytes of copies
 * (nothing is allocated yet). */
int sio_sendq_init(sio_sendq *q, size_t cap, size_t arena_cap);
/* Frees (completing nothing: see sio_sendq_fail). */
void sio_sendq_free(sio_sendq *q);

/* Queues a message; SECUREIO_OK, SECUREIO_ERR_AGAIN when the ring (or, for
 * a copy, the arena) is full, SECUREIO_ERR_NOMEM. */
int sio_sendq_push(sio_sendq *q, uint32_t channel, const uint8_t *data, size_t len, unsigned flags,
                   secureio_done_fn done, void *arg, uint64_t now);

/* The oldest message (NULL when empty), and the i-th after it. */
static inline sio_msg *sio_sendq_at(const sio_sendq *q, size_t i)
{
    return i < q->count ? &q->ring[(q->head + i) & (q->cap - 1)] : NULL;
}

/* Removes the oldest message, giving back its arena bytes. Its completion
 * is the caller's to call: *out gets its done, arg and len. */
void sio_sendq_pop(sio_sendq *q, sio_msg *out);

/* Every message goes again from its start (a new session): what was sealed
 * of it before counts for nothing. */
void sio_sendq_rewind(sio_sendq *q);

/* Removes every message, completing each with err. */
void sio_sendq_fail(sio_sendq *q, int err);

#endif /* SECUREIO_SENDQ_H */
