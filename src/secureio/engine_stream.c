/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stream transports (docs/PROTOCOL.md §2): each packet is prefixed with its
 * 2-byte big-endian length. Input comes in any split; a packet that arrives
 * whole in one input is handled where it lies, a split one is gathered in
 * the engine's buffer first. A length of 0 or over 65535 - nothing can be
 * trusted to line up after it - closes the session (SECUREIO_ERR_FORMAT).
 */
#include <string.h>

#include "common/util.h"
#include "engine_internal.h"

int sio_stream_recv(secureio_engine *e, const uint8_t *in, size_t len, uint64_t now)
{
    while (len > 0 && e->state != SECUREIO_STATE_CLOSED) {
        if (e->shave < SECUREIO_STREAM_FRAME_HEADER) {
            size_t n = SECUREIO_STREAM_FRAME_HEADER - e->shave;
            if (n > len)
                n = len;
            memcpy(e->sbuf + e->shave, in, n);
            e->shave += n;
            in += n;
            len -= n;
            if (e->shave < SECUREIO_STREAM_FRAME_HEADER)
                break;
            size_t plen = util_load16_be(e->sbuf);
            if (plen == 0 || plen > e->recv_max) {
                e->stats.dropped[SECUREIO_DROP_MALFORMED]++;
                sio_close_with(e, SECUREIO_ERR_FORMAT);
                return SECUREIO_ERR_FORMAT;
            }
        }
        size_t need = SECUREIO_STREAM_FRAME_HEADER + util_load16_be(e->sbuf) - e->shave;
        if (e->shave == SECUREIO_STREAM_FRAME_HEADER && len >= need) {
            (void)sio_packet_in(e, in, need, now); /* whole in the input: no copy */
        } else {
            size_t n = need < len ? need : len;
            memcpy(e->sbuf + e->shave, in, n);
            e->shave += n;
            if (n < need)
                break;
            (void)sio_packet_in(e, e->sbuf + SECUREIO_STREAM_FRAME_HEADER,
                                e->shave - SECUREIO_STREAM_FRAME_HEADER, now);
        }
        in += need;
        len -= need;
        e->shave = 0;
    }
    e->stats.stream_bytes_buffered = e->shave;
    return SECUREIO_OK;
}
