/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secureio wire format, version 2 (docs/PROTOCOL.md): handshake
 * packets, record headers and the frames inside records. Pure encoding and
 * parsing; the parsers reject anything malformed and never read past their
 * input.
 */
#ifndef SECUREIO_WIRE_H
#define SECUREIO_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Packet types (first byte). */
#define SIO_PKT_HELLO 0x01u
#define SIO_PKT_AUTH_R 0x02u
#define SIO_PKT_AUTH_I 0x03u
#define SIO_PKT_RECORD 0x04u
#define SIO_PKT_COOKIE 0x05u /* a responder under load: "come back with this" */

#define SIO_VERSION 0x02u

/* Option bits that must agree (part of the transcript). */
#define SIO_OPT_PSK 0x0001u
#define SIO_OPT_KNOWN SIO_OPT_PSK

#define SIO_KEY_LEN 32u
#define SIO_NONCE_LEN 32u
#define SIO_SIG_LEN 64u
#define SIO_MAC_LEN 16u

/* AUTH ciphertext: identity(32) || signature(64) || tag(16). */
#define SIO_AUTH_PT_LEN (SIO_KEY_LEN + SIO_SIG_LEN)
#define SIO_AUTH_CT_LEN (SIO_AUTH_PT_LEN + 16u)
/* type(1) version(1) options(2) index(4) e(32) n(32) echo(32): what AUTH's
 * AEAD covers as associated data. */
#define SIO_HS_HEADER_LEN (8u + SIO_KEY_LEN + 2u * SIO_NONCE_LEN)
/* The responder's ticket, in AUTH_R and echoed by AUTH_I: HS(32) || TH(32)
 * || LE32(index_R), sealed under a key of the responder's secret (so that
 * checking an AUTH_I needs no Diffie-Hellman: handshake.h). */
#define SIO_TICKET_PT_LEN (2u * 32u + 4u)
#define SIO_TICKET_LEN (SIO_TICKET_PT_LEN + 16u)
/* header, AUTH ciphertext and ticket (zeros in HELLO and COOKIE), mac.
 * Every handshake packet has this length (HELLO is padded to it, so that an
 * answer is never larger than what provoked it). */
#define SIO_HS_TICKET_OFF (SIO_HS_HEADER_LEN + SIO_AUTH_CT_LEN)
#define SIO_HS_MAC_OFF (SIO_HS_TICKET_OFF + SIO_TICKET_LEN)
#define SIO_HS_PACKET_LEN (SIO_HS_MAC_OFF + SIO_MAC_LEN)

/* A handshake packet. HELLO has no echo and no ciphertext. */
typedef struct sio_hs_packet {
    uint8_t type, version;
    uint16_t options;
    uint32_t index;           /* the sender's receiver index (COOKIE: the hello's) */
    uint8_t e[SIO_KEY_LEN];   /* the sender's ephemeral X25519 public key */
    uint8_t n[SIO_NONCE_LEN]; /* the sender's fresh random nonce */
    /* AUTH: the nonce of the hello it answers; HELLO: a cookie, or zero;
     * COOKIE: the cookie (e and n then repeat the initiator's) */
    uint8_t echo[SIO_NONCE_LEN];
    uint8_t ct[SIO_AUTH_CT_LEN];    /* AUTH: the sealed identity and signature */
    uint8_t ticket[SIO_TICKET_LEN]; /* AUTH: the responder's ticket */
    uint8_t mac[SIO_MAC_LEN];       /* keyed with the responder's public key */
} sio_hs_packet;

/* Writes SIO_HS_PACKET_LEN bytes (the mac as it is in p). */
void sio_hs_encode(const sio_hs_packet *p, uint8_t out[SIO_HS_PACKET_LEN]);
/* 0, or -1 when in is not a well-formed handshake packet of a known type
 * and version (the padding of HELLO and COOKIE, where AUTH has its
 * ciphertext and ticket, must be zero). */
int sio_hs_decode(sio_hs_packet *p, const uint8_t *in, size_t len);

/* Record: type(1) epoch(1) receiver index(4, LE) counter(8, LE) ciphertext tag(16). */
#define SIO_RECORD_HEADER_LEN 14u

typedef struct sio_record_header {
    uint8_t epoch;
    uint32_t index;
    uint64_t counter;
} sio_record_header;

void sio_record_header_encode(const sio_record_header *h, uint8_t out[SIO_RECORD_HEADER_LEN]);
/* 0, or -1 if in is too short or not a record. */
int sio_record_header_decode(sio_record_header *h, const uint8_t *in, size_t len);

/* Frames inside a record's plaintext. */
#define SIO_FRAME_PADDING 0x00u /* the rest of the record is padding */
#define SIO_FRAME_DATA 0x01u    /* varint channel, varint length, bytes: a whole message */
#define SIO_FRAME_CONFIRM 0x02u /* key confirmation: u8 flags */
#define SIO_CONFIRM_ASK 0x01u   /* flag: answer with a CONFIRM */
#define SIO_FRAME_REKEY_INIT 0x03u
#define SIO_FRAME_REKEY_RESP 0x04u
#define SIO_FRAME_CLOSE 0x05u     /* u16 code */
#define SIO_FRAME_FRAGMENT 0x06u  /* varint channel, id, total, offset, length, bytes */
#define SIO_FRAME_PROBE 0x07u     /* varint probe id (the record is padded to the size probed) */
#define SIO_FRAME_PROBE_ACK 0x08u /* varint probe id, varint size received */

/* The channel value of the default read/write channel on the wire. */
#define SIO_CHANNEL_LIMIT 0x80000000u /* channels are 0 .. this (the default) */

typedef struct sio_frame {
    uint8_t type;
    uint32_t channel;    /* DATA, FRAGMENT */
    const uint8_t *data; /* DATA, FRAGMENT: points into the record */
    size_t len;          /* DATA, FRAGMENT */
    uint64_t id;         /* FRAGMENT: message id; PROBE, PROBE_ACK: probe id */
    uint64_t total;      /* FRAGMENT: the message's length */
    uint64_t offset;     /* FRAGMENT: where data goes in it */
    uint64_t size;       /* PROBE_ACK: the size of the probe received */
    uint32_t epoch;      /* REKEY_*: the epoch being made */
    const uint8_t *e;    /* REKEY_*: ephemeral public key */
    const uint8_t *n;    /* REKEY_*: nonce */
    const uint8_t *echo; /* REKEY_RESP: the initiator's nonce */
    uint16_t code;       /* CLOSE */
    uint8_t flags;       /* CONFIRM */
} sio_frame;

#define SIO_REKEY_INIT_LEN (1u + 4u + SIO_KEY_LEN + SIO_NONCE_LEN)
#define SIO_REKEY_RESP_LEN (SIO_REKEY_INIT_LEN + SIO_NONCE_LEN)
/* The largest header a DATA frame and a FRAGMENT frame take. */
#define SIO_DATA_HEADER_MAX (1u + 8u + 8u)
#define SIO_FRAGMENT_HEADER_MAX (1u + 8u * 5u)

/*
 * Reads the frame at *off in pt[len]: 1 and the frame (advancing *off), 0 at
 * the end (or at padding), -1 if malformed (unknown type, a length past the
 * end, a channel over SIO_CHANNEL_LIMIT, a fragment past its total). Only
 * the fields of the frame's type are set.
 */
int sio_frame_next(const uint8_t *pt, size_t len, size_t *off, sio_frame *f);

/* Frame writers; each returns the bytes written (out has room). */
size_t sio_frame_data_header(uint8_t *out, uint32_t channel, size_t len);
size_t sio_frame_fragment_header(uint8_t *out, uint32_t channel, uint64_t id, uint64_t total,
                                 uint64_t offset, size_t len);
size_t sio_frame_rekey(uint8_t *out, uint8_t type, uint32_t epoch, const uint8_t *e,
                       const uint8_t *n, const uint8_t *echo);
size_t sio_frame_probe(uint8_t *out, uint64_t id);
size_t sio_frame_probe_ack(uint8_t *out, uint64_t id, uint64_t size);

/* QUIC varints (RFC 9000 §16): length of v's encoding, write, read (0 on
 * a short input). Inline: a frame header is a few of them, per message. */
static inline size_t sio_varint_len(uint64_t v)
{
    return v < 64 ? 1 : v < 16384 ? 2 : v < ((uint64_t)1 << 30) ? 4 : 8;
}

static inline size_t sio_varint_put(uint8_t *out, uint64_t v)
{
    if (v < 64) {
        out[0] = (uint8_t)v;
        return 1;
    }
    size_t n = sio_varint_len(v);
    for (size_t i = 0; i < n; i++)
        out[n - 1 - i] = (uint8_t)(v >> (8 * i));
    out[0] |= (uint8_t)((n == 2 ? 1 : n == 4 ? 2 : 3) << 6);
    return n;
}

static inline size_t sio_varint_get(const uint8_t *in, size_t len, uint64_t *v)
{
    if (len == 0)
        return 0;
    if (in[0] < 64) {
        *v = in[0];
        return 1;
    }
    size_t n = (size_t)1 << (in[0] >> 6);
    if (n > len)
        return 0;
    uint64_t x = in[0] & 0x3f;
    for (size_t i = 1; i < n; i++)
        x = x << 8 | in[i];
    *v = x;
    return n;
}

#endif /* SECUREIO_WIRE_H */
