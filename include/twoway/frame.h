/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway/frame.h — several messages on one stream (a TCP connection, a unix
 * stream socket, a pipe).
 *
 * A twoway message does not say where it ends: a chunked one runs to the end
 * of its stream, an unchunked one is one AEAD of any length. HTTP delimits
 * them for OHTTP; on a bare stream, frame them:
 *
 *   message = *segment last-segment
 *   segment = u32be(len) || len bytes                 (high bit clear, len > 0)
 *   last    = u32be(0x80000000 | len) || len bytes    (len may be 0)
 *
 * An unchunked message is one last segment. A chunked message streamed as
 * it is sealed is one segment per piece twoway_sealer_read() or
 * twoway_sealer_update() gives, then an empty last segment: its size need
 * not be known in advance. The segments say nothing about the chunks
 * inside: any split is valid.
 *
 * Writing is a 4-byte header before each piece (twoway_frame_header).
 * Reading is a deframer, pushed bytes as they arrive (an event loop) or
 * pulling them through a twoway_read_fn; it refuses a message over its
 * limit and never allocates per message.
 */
#ifndef TWOWAY_FRAME_H
#define TWOWAY_FRAME_H

#include <twoway/message.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TWOWAY_FRAME_HEADER_LEN 4u
#define TWOWAY_FRAME_LAST 0x80000000u
#define TWOWAY_FRAME_MAX_SEGMENT 0x7fffffffu

/* The header of a segment of len bytes (at most TWOWAY_FRAME_MAX_SEGMENT:
 * TWOWAY_ERR_ARG above); last: the message ends with it. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_frame_header(uint8_t out[TWOWAY_FRAME_HEADER_LEN],
                                                     size_t len, int last);

typedef struct twoway_deframer twoway_deframer;

/* A deframer for messages of at most max_message_len bytes (0: no limit;
 * a receiver should set one, e.g. TWOWAY_DEFAULT_MAX_MESSAGE_LEN for
 * unchunked messages). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_deframer_new(twoway_deframer **out,
                                                     uint64_t max_message_len);

/*
 * Push: reads framing from in[in_len]. Consumes *consumed bytes (at least
 * one when in_len > 0: up to the end of the current segment, or all of in)
 * and points *data at the message bytes among them (*data_len, possibly 0;
 * a span of in, no copy). *end is 1 when this call reached the end of a
 * message: the bytes after *consumed belong to the next one. Call again
 * with the rest until all of in is consumed. TWOWAY_ERR_TOO_BIG when a
 * message exceeds the limit, TWOWAY_ERR_FORMAT for an empty segment that is
 * not the last; errors are final.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_deframer_push(twoway_deframer *d, const uint8_t *in,
                                                      size_t in_len, size_t *consumed,
                                                      const uint8_t **data, size_t *data_len,
                                                      int *end);

/*
 * Pull: starts the next message from read(src): 1 when one begins (then
 * read its bytes with twoway_deframer_read until it returns 0), 0 when the
 * stream ended cleanly between messages, or TWOWAY_ERR_TRUNCATED,
 * TWOWAY_ERR_IO, TWOWAY_ERR_TOO_BIG, TWOWAY_ERR_FORMAT, TWOWAY_ERR_STATE (the previous message
 * was not read to its end). It reads only what belongs to the framing and
 * the message: never into the next one.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_deframer_next(twoway_deframer *d, twoway_read_fn read,
                                                      void *src);
/*
 * A twoway_read_fn (src is the deframer): the current message's bytes, 0 at
 * its end, -1 on an error (twoway_deframer_error says which) or for len 0
 * (which reads nothing and changes nothing). Pass it to
 * twoway_opener_read(o, twoway_deframer_read, d, ...).
 */
TWOWAY_API long twoway_deframer_read(void *d, uint8_t *buf, size_t len);
/* The error that ended the deframer (0 while none did). */
TWOWAY_API int twoway_deframer_error(const twoway_deframer *d);
TWOWAY_API void twoway_deframer_free(twoway_deframer *d);

#ifdef __cplusplus
}
#endif

#endif /* TWOWAY_FRAME_H */
