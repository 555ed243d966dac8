/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replay window of one receive key: a sliding bitmap of the last
 * SIO_REPLAY_WINDOW counters (WireGuard's size, RFC 6479's scheme). Only
 * authenticated packets move it: check before decrypting, update after.
 *
 * The rule. Let T be the highest counter accepted so far. A counter c is
 * accepted (once) if and only if
 *   - nothing was accepted yet (every counter, 0 and 2^64-1 included), or
 *   - c > T (any jump forward, up to 2^64-1), or
 *   - T - SIO_REPLAY_WINDOW < c <= T and c was not accepted before.
 * So the window is the SIO_REPLAY_WINDOW counters T-8191 ... T: T-8191 is
 * the oldest still accepted, T-8192 = T - SIO_REPLAY_WINDOW the newest
 * rejected as too old. While T < SIO_REPLAY_WINDOW, every unseen counter
 * from 0 to T is inside.
 *
 * The window never forgets: after a jump forward of any size, every counter
 * accepted before that is still inside the new window (above
 * T - SIO_REPLAY_WINDOW) stays rejected, and the unseen ones there stay
 * acceptable (the Go original cleared everything after a jump of 64 or
 * more, flaw 8 of the Go original: docs/ORIGINAL.md). A jump costs at most SIO_REPLAY_WORDS word
 * writes, whatever its size.
 *
 * How: a ring of SIO_REPLAY_WORDS 64-bit words; counter c is bit c % 64 of
 * word (c / 64) % SIO_REPLAY_WORDS. The word holding T is partly in the
 * future, hence one word more than the window needs. Moving T forward
 * clears the words between the old T's word and the new one (all of them
 * at most once), which only ever held counters now older than the window.
 */
#ifndef SECUREIO_REPLAY_H
#define SECUREIO_REPLAY_H

#include <secureio/secureio.h>

#include <stdint.h>

#define SIO_REPLAY_WINDOW 8192u
#define SIO_REPLAY_WORDS (SIO_REPLAY_WINDOW / 64u + 1u)

typedef struct sio_replay {
    /* The highest counter accepted, T. 0 also before anything is accepted:
     * bit 0 is then clear, so 0 (and all above) are acceptable; no "+ 1",
     * which would overflow at 2^64-1. */
    uint64_t top;
    uint64_t bits[SIO_REPLAY_WORDS];
} sio_replay;

/* An empty window: every counter acceptable. */
void sio_replay_init(sio_replay *r);
/* 1 if counter may be accepted (the rule above), else 0. Changes nothing. */
SECUREIO_MUST_CHECK int sio_replay_check(const sio_replay *r, uint64_t counter);
/* Marks counter seen (after the packet authenticated) and slides the window
 * if it is a new highest; returns 1, or 0 if it was a replay or too old
 * (then nothing changes). Always the same answer as sio_replay_check. */
int sio_replay_update(sio_replay *r, uint64_t counter);

#endif /* SECUREIO_REPLAY_H */
