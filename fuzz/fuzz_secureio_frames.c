/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-secureio_frames: the frames inside a record's plaintext
 * (sio_frame_next) and the reassembly of fragmented messages (reasm.c).
 *
 * Input: two bytes of limits (the largest message, the bytes held at once),
 * then a record's plaintext. Every frame parsed from it is written again
 * with the frame writers and must parse back to the same fields and bytes;
 * every FRAGMENT goes to a reassembler (the clock moves one step per frame,
 * and now and then far enough to expire what waits). Invariants: a parser
 * never reads past its input and rejects rather than loops; the bytes held
 * never exceed the limit; a completed message has the length its fragments
 * declared, and each of its bytes is the last byte received for that place
 * in that message (a model kept beside it); memory is given back.
 */
#define FUZZ_NAME "fuzz-secureio_frames"

#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "secureio/reasm.h"
#include "secureio/wire.h"

#define MODEL_MAX 4096u /* messages up to this are checked byte by byte */

/* The model of a message in progress: the last byte received at each place. */
typedef struct model {
    int used;
    uint32_t channel;
    uint64_t id, total;
    uint8_t bytes[MODEL_MAX];
} model;

static model models[8];

static model *model_of(uint64_t id)
{
    return &models[id % 8];
}

/* Does the reassembler hold a message of this id now? */
static int in_progress(const sio_reasm *r, uint64_t id)
{
    for (size_t i = 0; i < SIO_REASM_SLOTS; i++)
        if (r->slot[i].used && r->slot[i].id == id)
            return 1;
    return 0;
}

static void roundtrip(const sio_frame *f)
{
    uint8_t out[SIO_FRAGMENT_HEADER_MAX + SIO_REKEY_RESP_LEN + 16];
    size_t w = 0;
    switch (f->type) {
    case SIO_FRAME_DATA: w = sio_frame_data_header(out, f->channel, f->len); break;
    case SIO_FRAME_FRAGMENT:
        w = sio_frame_fragment_header(out, f->channel, f->id, f->total, f->offset, f->len);
        break;
    case SIO_FRAME_PROBE: w = sio_frame_probe(out, f->id); break;
    case SIO_FRAME_PROBE_ACK: w = sio_frame_probe_ack(out, f->id, f->size); break;
    case SIO_FRAME_REKEY_INIT:
    case SIO_FRAME_REKEY_RESP:
        w = sio_frame_rekey(out, f->type, f->epoch, f->e, f->n, f->echo);
        break;
    default: return;
    }
    /* the header again, then the frame's data (DATA, FRAGMENT) */
    buf b = {0};
    buf_append(&b, out, w);
    if (f->type == SIO_FRAME_DATA || f->type == SIO_FRAME_FRAGMENT)
        buf_append(&b, f->data, f->len);
    size_t off = 0;
    sio_frame g;
    CHECK(sio_frame_next(b.p, b.len, &off, &g) == 1);
    CHECK(off == b.len);
    CHECK(g.type == f->type);
    switch (f->type) {
    case SIO_FRAME_DATA: CHECK(g.channel == f->channel && g.len == f->len); break;
    case SIO_FRAME_FRAGMENT:
        CHECK(g.channel == f->channel && g.len == f->len && g.id == f->id && g.total == f->total &&
              g.offset == f->offset);
        break;
    case SIO_FRAME_PROBE: CHECK(g.id == f->id); break;
    case SIO_FRAME_PROBE_ACK: CHECK(g.id == f->id && g.size == f->size); break;
    default:
        CHECK(g.epoch == f->epoch && memcmp(g.e, f->e, SIO_KEY_LEN) == 0 &&
              memcmp(g.n, f->n, SIO_NONCE_LEN) == 0);
        break;
    }
    if ((f->type == SIO_FRAME_DATA || f->type == SIO_FRAME_FRAGMENT) && f->len > 0)
        CHECK(memcmp(g.data, f->data, f->len) == 0);
    free(b.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint64_t max_message = 1 + (uint64_t)data[0] * 64, max_total = 1 + (uint64_t)data[1] * 256;
    const uint8_t *pt = data + 2;
    size_t len = size - 2, off = 0, frames = 0;
    sio_reasm r;
    sio_reasm_init(&r, max_message, max_total, 100);
    memset(models, 0, sizeof models);
    sio_frame f;
    int rc;
    uint64_t now = 1000;
    while ((rc = sio_frame_next(pt, len, &off, &f)) == 1) {
        CHECK(off <= len);
        CHECK(++frames <= len); /* every frame takes at least one byte */
        if (f.type == SIO_FRAME_DATA || f.type == SIO_FRAME_FRAGMENT)
            CHECK(f.data >= pt && f.len <= len && f.data + f.len <= pt + len);
        CHECK(f.channel <= SIO_CHANNEL_LIMIT);
        roundtrip(&f);
        if (f.type != SIO_FRAME_FRAGMENT)
            continue;
        CHECK(f.len > 0 && f.offset <= f.total && f.len <= f.total - f.offset);
        model *m = model_of(f.id);
        const uint8_t *msg;
        size_t msg_len;
        now += (f.id & 7) == 7 ? 150 : 1; /* sometimes long enough to expire */
        sio_reasm_expire(&r, now);
        int fresh = !in_progress(&r, f.id);
        int ar = sio_reasm_add(&r, f.channel, f.id, f.total, f.offset, f.data, f.len, now, &msg,
                               &msg_len);
        CHECK(ar == SIO_REASM_MORE || ar == SIO_REASM_DONE || ar == SIO_REASM_BAD);
        CHECK(r.held <= max_total);
        if (ar != SIO_REASM_BAD) { /* accepted: the model takes it too */
            if (fresh) {
                m->used = f.total <= MODEL_MAX;
                m->id = f.id;
                m->total = f.total;
                m->channel = f.channel;
            }
            if (m->used && m->id == f.id)
                memcpy(m->bytes + f.offset, f.data, f.len);
        }
        if (ar == SIO_REASM_DONE) {
            CHECK(msg_len == f.total && msg_len <= max_message);
            if (m->used && m->id == f.id) {
                CHECK(m->total == f.total && m->channel == f.channel);
                CHECK(memcmp(msg, m->bytes, msg_len) == 0);
            }
            m->used = 0;
        }
    }
    CHECK(rc == 0 || rc == -1);
    sio_reasm_clear(&r);
    sio_reasm_release(&r);
    CHECK(r.held == 0 && r.done_buf == NULL);
    return 0;
}
