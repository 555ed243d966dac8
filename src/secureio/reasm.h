/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reassembly of fragmented messages (FRAGMENT frames, docs/PROTOCOL.md).
 * Several messages may be in progress at once, their fragments interleaved
 * and (on datagrams) lost, reordered or repeated. Every fragment is checked
 * against its message's declared length (which may not change), the
 * per-message limit and the session's total; a message whose fragments do
 * not all come within the timeout is dropped. Memory: one buffer per
 * message in progress, of its declared length, within the limits.
 */
#ifndef SECUREIO_REASM_H
#define SECUREIO_REASM_H

#include <stddef.h>
#include <stdint.h>

#define SIO_REASM_SLOTS 32u  /* messages in progress at once */
#define SIO_REASM_RANGES 16u /* disjoint received ranges of one message */

typedef struct sio_reasm_slot {
    int used;
    uint32_t channel;
    uint64_t id, total, have, started;
    uint8_t *buf;
    size_t n_ranges;
    uint64_t lo[SIO_REASM_RANGES], hi[SIO_REASM_RANGES]; /* sorted, disjoint, [lo, hi) */
} sio_reasm_slot;

typedef struct sio_reasm {
    uint64_t max_message, max_total, timeout;
    uint64_t held;     /* bytes allocated for messages in progress */
    uint64_t expired;  /* messages dropped for their timeout (or evicted) */
    uint8_t *done_buf; /* the message completed last, until the next call */
    size_t done_len;
    sio_reasm_slot slot[SIO_REASM_SLOTS];
} sio_reasm;

#define SIO_REASM_MORE 0   /* kept; the message is not complete */
#define SIO_REASM_DONE 1   /* *msg, *msg_len: the complete message */
#define SIO_REASM_BAD (-1) /* refused: over a limit, or disagreeing with its message */
#define SIO_REASM_NOMEM (-2)

void sio_reasm_init(sio_reasm *r, uint64_t max_message, uint64_t max_total, uint64_t timeout);

/*
 * A fragment of message id on channel: total bytes in all, data[len] at
 * offset (offset + len <= total, len > 0: the frame parser checked). On
 * SIO_REASM_DONE the message is in *msg (valid until sio_reasm_release or
 * the next call); its memory is given back then.
 */
int sio_reasm_add(sio_reasm *r, uint32_t channel, uint64_t id, uint64_t total, uint64_t offset,
                  const uint8_t *data, size_t len, uint64_t now, const uint8_t **msg,
                  size_t *msg_len);

/* Drops the messages older than the timeout at now. */
void sio_reasm_expire(sio_reasm *r, uint64_t now);
/* When the oldest message in progress expires (UINT64_MAX: none). */
uint64_t sio_reasm_deadline(const sio_reasm *r);
/* Drops every message in progress (wiped), not the one completed last. */
void sio_reasm_clear(sio_reasm *r);
/* Wipes and frees the message completed last (the caller is done with it). */
void sio_reasm_release(sio_reasm *r);

#endif /* SECUREIO_REASM_H */
