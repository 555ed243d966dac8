/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encoding and parsing of secureio packets and frames (wire.h).
 */
#include "wire.h"

#include <string.h>

#include "common/util.h"

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void sio_hs_encode(const sio_hs_packet *p, uint8_t out[SIO_HS_PACKET_LEN])
{
    memset(out, 0, SIO_HS_PACKET_LEN);
    out[0] = p->type;
    out[1] = p->version;
    util_store16_be(out + 2, p->options);
    memcpy(out + 4, p->e, SIO_KEY_LEN);
    memcpy(out + 4 + SIO_KEY_LEN, p->n, SIO_NONCE_LEN);
    memcpy(out + 4 + SIO_KEY_LEN + SIO_NONCE_LEN, p->echo, SIO_NONCE_LEN);
    if (p->type == SIO_PKT_HELLO || p->type == SIO_PKT_COOKIE)
        return; /* the rest is zero padding */
    memcpy(out + SIO_HS_HEADER_LEN, p->ct, SIO_AUTH_CT_LEN);
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
    memcpy(p->e, in + 4, SIO_KEY_LEN);
    memcpy(p->n, in + 4 + SIO_KEY_LEN, SIO_NONCE_LEN);
    memcpy(p->echo, in + 4 + SIO_KEY_LEN + SIO_NONCE_LEN, SIO_NONCE_LEN);
    if (p->type == SIO_PKT_HELLO || p->type == SIO_PKT_COOKIE)
        return util_ct_is_zero(in + SIO_HS_HEADER_LEN, SIO_AUTH_CT_LEN) ? 0 : -1;
    memcpy(p->ct, in + SIO_HS_HEADER_LEN, SIO_AUTH_CT_LEN);
    return 0;
}

void sio_record_header_encode(const sio_record_header *h, uint8_t out[SIO_RECORD_HEADER_LEN])
{
    out[0] = SIO_PKT_RECORD;
    out[1] = h->epoch;
    put_le64(out + 2, h->counter);
}

int sio_record_header_decode(sio_record_header *h, const uint8_t *in, size_t len)
{
    if (len < SIO_RECORD_HEADER_LEN || in[0] != SIO_PKT_RECORD)
        return -1;
    h->epoch = in[1];
    h->counter = get_le64(in + 2);
    return 0;
}

size_t sio_varint_len(uint64_t v)
{
    return v < 64 ? 1 : v < 16384 ? 2 : v < ((uint64_t)1 << 30) ? 4 : 8;
}

size_t sio_varint_put(uint8_t *out, uint64_t v)
{
    static const uint8_t tag[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
    size_t n = sio_varint_len(v);
    for (size_t i = 0; i < n; i++)
        out[n - 1 - i] = (uint8_t)(v >> (8 * i));
    out[0] |= tag[n];
    return n;
}

size_t sio_varint_get(const uint8_t *in, size_t len, uint64_t *v)
{
    if (len == 0)
        return 0;
    size_t n = (size_t)1 << (in[0] >> 6);
    if (n > len)
        return 0;
    uint64_t x = in[0] & 0x3f;
    for (size_t i = 1; i < n; i++)
        x = x << 8 | in[i];
    *v = x;
    return n;
}

int sio_frame_next(const uint8_t *pt, size_t len, size_t *off, sio_frame *f)
{
    size_t o = *off, k;
    uint64_t a, b;
    memset(f, 0, sizeof *f);
    if (o >= len || pt[o] == SIO_FRAME_PADDING)
        return 0;
    f->type = pt[o++];
    switch (f->type) {
    case SIO_FRAME_DATA:
        if ((k = sio_varint_get(pt + o, len - o, &a)) == 0 || a > UINT32_MAX)
            return -1;
        o += k;
        if ((k = sio_varint_get(pt + o, len - o, &b)) == 0)
            return -1;
        o += k;
        if (b > len - o)
            return -1;
        f->channel = (uint32_t)a;
        f->data = pt + o;
        f->len = (size_t)b;
        o += (size_t)b;
        break;
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
        f->epoch = get_le32(pt + o);
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

size_t sio_frame_rekey(uint8_t *out, uint8_t type, uint32_t epoch, const uint8_t *e,
                       const uint8_t *n, const uint8_t *echo)
{
    size_t w = 0;
    out[w++] = type;
    put_le32(out + w, epoch);
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
