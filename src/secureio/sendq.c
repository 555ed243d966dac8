/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The send queue (sendq.h). The arena is a ring: a copy takes the bytes
 * after the newest copy, wrapping to the start when the end has no room
 * (the skipped tail is given back when the copies before it leave).
 */
#include "sendq.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int sio_sendq_init(sio_sendq *q, size_t cap, size_t arena_cap)
{
    memset(q, 0, sizeof *q);
    q->max = cap;
    q->arena_max = arena_cap;
    return SECUREIO_OK;
}

/* The ring doubles (from 16 entries) up to its limit, and the arena is made
 * at its full size on the first copy: a queue costs nothing until it is
 * used, and after the first burst a write allocates nothing. */
static int ring_grow(sio_sendq *q)
{
    size_t n = q->cap == 0 ? 16 : q->cap * 2; /* a power of two: indices are masked */
    sio_msg *r = calloc(n, sizeof *r);
    if (r == NULL)
        return SECUREIO_ERR_NOMEM;
    for (size_t i = 0; i < q->count; i++)
        r[i] = q->ring[(q->head + i) & (q->cap - 1)];
    free(q->ring);
    q->ring = r;
    q->cap = n;
    q->head = 0;
    return SECUREIO_OK;
}

void sio_sendq_free(sio_sendq *q)
{
    if (q->arena != NULL) {
        util_wipe(q->arena, q->arena_cap);
        free(q->arena);
    }
    free(q->ring);
    memset(q, 0, sizeof *q);
}

/* Room for n bytes of copy: the offset in the arena and the bytes of the
 * end skipped to get there (*waste), or SIZE_MAX. In use: the ring region
 * of arena_used bytes from arena_tail; arena_head is where it ends. */
static size_t arena_take(const sio_sendq *q, size_t n, size_t *waste)
{
    size_t cap = q->arena_cap, head = q->arena_head, tail = q->arena_tail;
    *waste = 0;
    if (q->arena_used == 0)
        head = tail = 0;
    else if (q->arena_used == cap)
        return SIZE_MAX;
    if (q->arena_used == 0 || tail < head) { /* free: [head, cap) and [0, tail) */
        if (cap - head >= n)
            return head;
        if (tail >= n) {
            *waste = cap - head; /* the end is skipped */
            return 0;
        }
        return SIZE_MAX;
    }
    return tail - head >= n ? head : SIZE_MAX; /* free: [head, tail) */
}

int sio_sendq_push(sio_sendq *q, uint32_t channel, const uint8_t *data, size_t len, unsigned flags,
                   secureio_done_fn done, void *arg, uint64_t now)
{
    if (q->count == q->max)
        return SECUREIO_ERR_AGAIN;
    if (q->count == q->cap && ring_grow(q) != SECUREIO_OK)
        return SECUREIO_ERR_NOMEM;
    if ((flags & SECUREIO_WRITE_COPY) && len > 0 && q->arena == NULL) {
        if (len > q->arena_max)
            return SECUREIO_ERR_AGAIN;
        if ((q->arena = malloc(q->arena_max)) == NULL)
            return SECUREIO_ERR_NOMEM;
        q->arena_cap = q->arena_max;
    }
    sio_msg *m = &q->ring[(q->head + q->count) & (q->cap - 1)];
    m->copy_len = 0;
    m->sent = 0;
    if ((flags & SECUREIO_WRITE_COPY) && len > 0) {
        size_t waste, at = arena_take(q, len, &waste);
        if (at == SIZE_MAX)
            return SECUREIO_ERR_AGAIN;
        if (q->arena_used == 0)
            q->arena_tail = 0;
        memcpy(q->arena + at, data, len);
        q->arena_used += len + waste;
        q->arena_head = at + len;
        m->copy_len = len + waste; /* given back together when it leaves */
        data = q->arena + at;
    }
    m->data = data;
    m->len = len;
    m->id = q->next_id++;
    m->at = now;
    m->channel = channel;
    m->flags = flags;
    m->done = done;
    m->arg = arg;
    q->count++;
    q->bytes += len;
    if (flags & SECUREIO_WRITE_SYNC)
        q->syncs++;
    return SECUREIO_OK;
}

void sio_sendq_pop(sio_sendq *q, sio_msg *out)
{
    sio_msg *m = &q->ring[q->head];
    out->done = m->done;
    out->arg = m->arg;
    out->len = m->len;
    if (m->copy_len > 0) {
        /* the oldest copy leaves: its bytes (and a skipped end before it,
         * counted with it) are free again; the copy itself is wiped */
        util_wipe((void *)(uintptr_t)m->data, (size_t)m->len);
        q->arena_used -= m->copy_len;
        q->arena_tail = (q->arena_tail + m->copy_len) % q->arena_cap;
    }
    q->bytes -= m->len - m->sent;
    if (m->flags & SECUREIO_WRITE_SYNC)
        q->syncs--;
    m->data = NULL;
    q->head = (q->head + 1) & (q->cap - 1);
    q->count--;
}

void sio_sendq_rewind(sio_sendq *q)
{
    for (size_t i = 0; i < q->count; i++) {
        sio_msg *m = &q->ring[(q->head + i) & (q->cap - 1)];
        q->bytes += m->sent;
        m->sent = 0;
    }
}

void sio_sendq_fail(sio_sendq *q, int err)
{
    while (q->count > 0) {
        sio_msg m;
        sio_sendq_pop(q, &m);
        if (m.done != NULL)
            m.done(m.arg, err, 0);
    }
}
