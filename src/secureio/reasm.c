/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reassembly (reasm.h). Received ranges are kept merged: a repeated or
 * overlapping fragment overwrites bytes already there and counts nothing
 * twice; a message is complete when one range covers it all.
 */
#include "reasm.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void sio_reasm_init(sio_reasm *r, uint64_t max_message, uint64_t max_total, uint64_t timeout)
{
    memset(r, 0, sizeof *r);
    r->max_message = max_message;
    r->max_total = max_total;
    r->timeout = timeout;
}

static void slot_free(sio_reasm *r, sio_reasm_slot *s)
{
    if (s->buf != NULL) {
        /* only what arrived holds anything: a message declared large and
         * barely begun costs little to drop (its other pages were never
         * touched) */
        for (size_t i = 0; i < s->n_ranges; i++)
            util_wipe(s->buf + s->lo[i], (size_t)(s->hi[i] - s->lo[i]));
        free(s->buf);
    }
    r->held -= s->total;
    memset(s, 0, sizeof *s);
}

void sio_reasm_release(sio_reasm *r)
{
    if (r->done_buf != NULL) {
        util_wipe(r->done_buf, r->done_len);
        free(r->done_buf);
        r->done_buf = NULL;
        r->done_len = 0;
    }
}

void sio_reasm_clear(sio_reasm *r)
{
    for (size_t i = 0; i < SIO_REASM_SLOTS; i++)
        if (r->slot[i].used)
            slot_free(r, &r->slot[i]);
}

void sio_reasm_expire(sio_reasm *r, uint64_t now)
{
    if (r->held == 0)
        return; /* (no message in progress: every total is at least 1) */
    for (size_t i = 0; i < SIO_REASM_SLOTS; i++) {
        sio_reasm_slot *s = &r->slot[i];
        if (s->used && now - s->started >= r->timeout && now >= s->started) {
            slot_free(r, s);
            r->expired++;
        }
    }
}

uint64_t sio_reasm_deadline(const sio_reasm *r)
{
    uint64_t d = UINT64_MAX;
    if (r->held == 0)
        return d;
    for (size_t i = 0; i < SIO_REASM_SLOTS; i++) {
        const sio_reasm_slot *s = &r->slot[i];
        if (s->used) {
            uint64_t at =
                s->started > UINT64_MAX - r->timeout ? UINT64_MAX : s->started + r->timeout;
            if (at < d)
                d = at;
        }
    }
    return d;
}

/* Merges [lo, hi) into the slot's ranges; 0, or -1 when it would need more
 * than SIO_REASM_RANGES ranges. Updates s->have. */
static int add_range(sio_reasm_slot *s, uint64_t lo, uint64_t hi)
{
    size_t n = s->n_ranges, i = 0;
    while (i < n && s->hi[i] < lo)
        i++;
    size_t j = i;
    uint64_t nlo = lo, nhi = hi;
    while (j < n && s->lo[j] <= hi) { /* overlapping or touching */
        if (s->lo[j] < nlo)
            nlo = s->lo[j];
        if (s->hi[j] > nhi)
            nhi = s->hi[j];
        j++;
    }
    size_t merged = j - i; /* ranges i .. j-1 become one */
    if (merged == 0 && n == SIO_REASM_RANGES)
        return -1;
    uint64_t before = 0;
    for (size_t k = i; k < j; k++)
        before += s->hi[k] - s->lo[k];
    /* replace ranges i .. j-1 with [nlo, nhi) */
    size_t new_n = n - merged + 1;
    memmove(&s->lo[i + 1], &s->lo[j], (n - j) * sizeof s->lo[0]);
    memmove(&s->hi[i + 1], &s->hi[j], (n - j) * sizeof s->hi[0]);
    s->lo[i] = nlo;
    s->hi[i] = nhi;
    s->n_ranges = new_n;
    s->have += (nhi - nlo) - before;
    return 0;
}

/* A free slot for a message of total bytes, evicting the oldest messages
 * while the limits need room; NULL when it cannot fit. */
static sio_reasm_slot *slot_new(sio_reasm *r, uint64_t total)
{
    for (;;) {
        sio_reasm_slot *free_slot = NULL, *oldest = NULL;
        for (size_t i = 0; i < SIO_REASM_SLOTS; i++) {
            sio_reasm_slot *s = &r->slot[i];
            if (!s->used && free_slot == NULL)
                free_slot = s;
            if (s->used && (oldest == NULL || s->started < oldest->started))
                oldest = s;
        }
        if (free_slot != NULL && total <= r->max_total - r->held)
            return free_slot;
        if (oldest == NULL)
            return NULL;
        slot_free(r, oldest); /* the oldest is the likeliest to be lost */
        r->expired++;
    }
}

int sio_reasm_add(sio_reasm *r, uint32_t channel, uint64_t id, uint64_t total, uint64_t offset,
                  const uint8_t *data, size_t len, uint64_t now, const uint8_t **msg,
                  size_t *msg_len)
{
    sio_reasm_release(r); /* the previous complete message goes now */
    *msg = NULL;
    *msg_len = 0;
    if (total == 0 || total > r->max_message || total > r->max_total || offset > total ||
        len > total - offset || len == 0)
        return SIO_REASM_BAD;
    sio_reasm_slot *s = NULL;
    for (size_t i = 0; i < SIO_REASM_SLOTS && s == NULL; i++)
        if (r->slot[i].used && r->slot[i].id == id)
            s = &r->slot[i];
    if (s != NULL && (s->total != total || s->channel != channel))
        return SIO_REASM_BAD; /* a fragment that disagrees with its message */
    if (s == NULL) {
        s = slot_new(r, total);
        if (s == NULL)
            return SIO_REASM_BAD;
        s->buf = malloc((size_t)total);
        if (s->buf == NULL)
            return SIO_REASM_NOMEM;
        s->used = 1;
        s->channel = channel;
        s->id = id;
        s->total = total;
        s->started = now;
        r->held += total;
    }
    if (add_range(s, offset, offset + len) != 0) {
        slot_free(r, s); /* too scattered to track: the message is lost */
        r->expired++;
        return SIO_REASM_BAD;
    }
    memcpy(s->buf + offset, data, len);
    if (s->have < s->total)
        return SIO_REASM_MORE;
    /* complete: hand the buffer out until the next call */
    r->done_buf = s->buf;
    r->done_len = (size_t)s->total;
    s->buf = NULL;
    r->held -= s->total;
    memset(s, 0, sizeof *s);
    *msg = r->done_buf;
    *msg_len = r->done_len;
    return SIO_REASM_DONE;
}
