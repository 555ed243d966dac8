/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replay window: a ring of SIO_REPLAY_WORDS words (the rule and the
 * layout: replay.h).
 */
#include "secureio/replay.h"

#include <string.h>

/* The word of the ring that holds counter c. */
static inline size_t replay_index(uint64_t c)
{
    return (size_t)((c / 64u) % SIO_REPLAY_WORDS);
}

void sio_replay_init(sio_replay *r)
{
    memset(r, 0, sizeof *r);
}

int sio_replay_check(const sio_replay *r, uint64_t counter)
{
    if (counter > r->top)
        return 1;
    if (r->top - counter >= SIO_REPLAY_WINDOW)
        return 0;
    return (int)(~r->bits[replay_index(counter)] >> (counter % 64u) & 1u);
}

int sio_replay_update(sio_replay *r, uint64_t counter)
{
    if (counter > r->top) {
        /* Clear the words after the old top's, up to the new top's (at
         * most the whole ring, whatever the jump). A counter they held is
         * from an earlier turn of the ring: at least SIO_REPLAY_WORDS * 64
         * - 63 > SIO_REPLAY_WINDOW below the new top. The words from the
         * old top's back keep their bits: what the new window still
         * covers is remembered. */
        uint64_t from = r->top / 64u, to = counter / 64u;
        uint64_t n = to - from;
        if (n > SIO_REPLAY_WORDS)
            n = SIO_REPLAY_WORDS;
        for (uint64_t i = 1; i <= n; i++)
            r->bits[(from + i) % SIO_REPLAY_WORDS] = 0;
        r->top = counter;
    } else if (r->top - counter >= SIO_REPLAY_WINDOW) {
        return 0;
    }
    uint64_t *w = &r->bits[replay_index(counter)], bit = (uint64_t)1 << (counter % 64u);
    if (*w & bit)
        return 0;
    *w |= bit;
    return 1;
}
