/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encoding and parsing of secureio packets and frames (wire.h).
 */
#include "wire.h"

#include <string.h>

#include "common/util.h"

void sio_hs_encode(const sio_hs_packet *p, uint8_t out[SIO_HS_PACKET_LEN])
{
    memset(out, 0, SIO_HS_PACKET_LEN);
    out[0] = p->type;
    out[1] = p->version;
    util_store16_be(out + 2, p->options);
    util_store32_le(out + 4, p->index);
    memcpy(out + 8, p->e, SIO_KEY_LEN);
    memcpy(out + 8 + SIO_KEY_LEN, p->n, SIO_NONCE_LEN);
    memcpy(out + 8 + SIO_KEY_LEN + SIO_NONCE_LEN, p->echo, SIO_NONCE_LEN);
    if (p->type != SIO_PKT_HELLO && p->type != SIO_PKT_COOKIE) {
        memcpy(out + SIO_HS_HEADER_LEN, p->ct, SIO_AUTH_CT_LEN);
        memcpy(out + SIO_HS_TICKET_OFF, p->ticket, SIO_TICKET_LEN);
    }
    memcpy(out + SIO_HS_MAC_OFF, p->mac, SIO_MAC_LEN);
}

int sio_hs_decode(sio_hs_packet *p, const uint8_t *in, size_t len)
{
    if (len != SIO_HS_PACKET_LEN)
        return -1;
    if (in[0] != SIO_PKT_HELLO && in[0] != SIO_PKT_AUTH_R && in[0] != SIO_PKT_AUTH_I &&
        in[0] != SIO_PKT_COOKIE)
        return -1;
    if (in[1] != SIO_VERSION)
        return -1;
    memset(p, 0, sizeof *p);
    p->type = in[0];
    p->version = in[1];
    p->options = util_load16_be(in + 2);
    p->index = util_load32_le(in + 4);
    memcpy(p->e, in + 8, SIO_KEY_LEN);
    memcpy(p->n, in + 8 + SIO_KEY_LEN, SIO_NONCE_LEN);
    memcpy(p->echo, in + 8 + SIO_KEY_LEN + SIO_NONCE_LEN, SIO_NONCE_LEN);
    if (p->type == SIO_PKT_HELLO || p->type == SIO_PKT_COOKIE) {
        if (!util_ct_is_zero(in + SIO_HS_HEADER_LEN, SIO_AUTH_CT_LEN + SIO_TICKET_LEN))
            return -1;
    } else {
        memcpy(p->ct, in + SIO_HS_HEADER_LEN, SIO_AUTH_CT_LEN);
        memcpy(p->ticket, in + SIO_HS_TICKET_OFF, SIO_TICKET_LEN);
    }
    memcpy(p->mac, in + SIO_HS_MAC_OFF, SIO_MAC_LEN);
    return 0;
}

void sio_record_header_encode(const sio_record_header *h, uint8_t out[SIO_RECORD_HEADER_LEN])
{
    out[0] = SIO_PKT_RECORD;
    out[1] = h->epoch;
    util_store32_le(out + 2, h->index);
    util_store64_le(out + 6, h->counter);
}

int sio_record_header_decode(sio_record_header *h, const uint8_t *in, size_t len)
{
    if (len < SIO_RECORD_HEADER_LEN || in[0] != SIO_PKT_RECORD)
        return -1;
    h->epoch = in[1];
    h->index = util_load32_le(in + 2);
    h->counter = util_load64_le(in + 6);
    return 0;
}

/* Reads a varint at *o into *v; 0 on a short input. */
static inline int get_var(const uint8_t *pt, size_t len, size_t *o, uint64_t *v)
{
    size_t k = sio_varint_get(pt + *o, len - *o, v);
    *o += k;
    return k != 0;
}

int sio_frame_next(const uint8_t *pt, size_t len, size_t *off, sio_frame *f)
{
    size_t o = *off;
    uint64_t a, b;
    if (o >= len || pt[o] == SIO_FRAME_PADDING)
        return 0;
    if (pt[o] == SIO_FRAME_DATA && len - o >= 3 && pt[o + 1] < 64 && pt[o + 2] < 64 &&
        pt[o + 2] <= len - o - 3) {
        /* the common case first: a small message on a small channel */
        f->type = SIO_FRAME_DATA;
        f->channel = pt[o + 1];
        f->len = pt[o + 2];
        f->data = pt + o + 3;
        *off = o + 3 + f->len;
        return 1;
    }
    memset(f, 0, sizeof *f);
    f->type = pt[o++];
    switch (f->type) {
    case SIO_FRAME_DATA:
        if (!get_var(pt, len, &o, &a) || a > SIO_CHANNEL_LIMIT || !get_var(pt, len, &o, &b) ||
            b > len - o)
            return -1;
        f->channel = (uint32_t)a;
        f->data = pt + o;
        f->len = (size_t)b;
        o += (size_t)b;
        break;
    case SIO_FRAME_FRAGMENT: {
        uint64_t id, total, offset;
        if (!get_var(pt, len, &o, &a) || a > SIO_CHANNEL_LIMIT || !get_var(pt, len, &o, &id) ||
            !get_var(pt, len, &o, &total) || !get_var(pt, len, &o, &offset) ||
            !get_var(pt, len, &o, &b) || b > len - o || offset > total || b > total - offset ||
            b == 0)
            return -1;
        f->channel = (uint32_t)a;
        f->id = id;
        f->total = total;
        f->offset = offset;
        f->data = pt + o;
        f->len = (size_t)b;
        o += (size_t)b;
        break;
    }
    case SIO_FRAME_CONFIRM:
        if (len - o < 1)
            return -1;
        f->flags = pt[o++];
        break;
    case SIO_FRAME_REKEY_INIT:
    case SIO_FRAME_REKEY_RESP: {
        size_t need =
            (f->type == SIO_FRAME_REKEY_INIT ? SIO_REKEY_INIT_LEN : SIO_REKEY_RESP_LEN) - 1;
        if (len - o < need)
            return -1;
        f->epoch = util_load32_le(pt + o);
        f->e = pt + o + 4;
        f->n = f->e + SIO_KEY_LEN;
        if (f->type == SIO_FRAME_REKEY_RESP)
            f->echo = f->n + SIO_NONCE_LEN;
        o += need;
        break;
    }
    case SIO_FRAME_CLOSE:
        if (len - o < 2)
            return -1;
        f->code = util_load16_be(pt + o);
        o += 2;
        break;
    case SIO_FRAME_PROBE:
        if (!get_var(pt, len, &o, &f->id))
            return -1;
        break;
    case SIO_FRAME_PROBE_ACK:
        if (!get_var(pt, len, &o, &f->id) || !get_var(pt, len, &o, &f->size))
            return -1;
        break;
    default: return -1;
    }
    *off = o;
    return 1;
}

size_t sio_frame_data_header(uint8_t *out, uint32_t channel, size_t len)
{
    size_t w = 0;
    out[w++] = SIO_FRAME_DATA;
    w += sio_varint_put(out + w, channel);
    w += sio_varint_put(out + w, len);
    return w;
}

size_t sio_frame_fragment_header(uint8_t *out, uint32_t channel, uint64_t id, uint64_t total,
                                 uint64_t offset, size_t len)
{
    size_t w = 0;
    out[w++] = SIO_FRAME_FRAGMENT;
    w += sio_varint_put(out + w, channel);
    w += sio_varint_put(out + w, id);
    w += sio_varint_put(out + w, total);
    w += sio_varint_put(out + w, offset);
    w += sio_varint_put(out + w, len);
    return w;
}

size_t sio_frame_probe(uint8_t *out, uint64_t id)
{
    out[0] = SIO_FRAME_PROBE;
    return 1 + sio_varint_put(out + 1, id);
}

size_t sio_frame_probe_ack(uint8_t *out, uint64_t id, uint64_t size)
{
    size_t w = 0;
    out[w++] = SIO_FRAME_PROBE_ACK;
    w += sio_varint_put(out + w, id);
    w += sio_varint_put(out + w, size);
    return w;
}

size_t sio_frame_rekey(uint8_t *out, uint8_t type, uint32_t epoch, const uint8_t *e,
                       const uint8_t *n, const uint8_t *echo)
{
    size_t w = 0;
    out[w++] = type;
    util_store32_le(out + w, epoch);
    w += 4;
    memcpy(out + w, e, SIO_KEY_LEN);
    w += SIO_KEY_LEN;
    memcpy(out + w, n, SIO_NONCE_LEN);
    w += SIO_NONCE_LEN;
    if (type == SIO_FRAME_REKEY_RESP) {
        memcpy(out + w, echo, SIO_NONCE_LEN);
        w += SIO_NONCE_LEN;
    }
    return w;
}
