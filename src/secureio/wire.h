/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secureio wire format (docs/PROTOCOL.md): handshake packets, record
 * headers and the frames inside records. Pure encoding and parsing; the
 * parsers reject anything malformed and never read past their input.
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

#define SIO_VERSION 0x01u
/* Option bits that must agree (part of the transcript). */
#define SIO_OPT_PSK 0x0001u
#define SIO_OPT_KNOWN SIO_OPT_PSK

#define SIO_KEY_LEN 32u
#define SIO_NONCE_LEN 32u
#define SIO_SIG_LEN 64u
/* AUTH ciphertext: identity(32) || signature(64) || tag(16). */
#define SIO_AUTH_PT_LEN (SIO_KEY_LEN + SIO_SIG_LEN)
#define SIO_AUTH_CT_LEN (SIO_AUTH_PT_LEN + 16u)
/* type(1) version(1) options(2) e(32) n(32) echo(32): what AUTH's AEAD covers as AD. */
#define SIO_HS_HEADER_LEN (4u + SIO_KEY_LEN + 2u * SIO_NONCE_LEN)
/* Every handshake packet has this length (HELLO is padded to it, so that a
 * response is never larger than what provoked it). */
#define SIO_HS_PACKET_LEN (SIO_HS_HEADER_LEN + SIO_AUTH_CT_LEN)

/* A handshake packet. HELLO has no echo and no ciphertext. */
typedef struct sio_hs_packet {
    uint8_t type, version;
    uint16_t options;
    uint8_t e[SIO_KEY_LEN];   /* the sender's ephemeral X25519 public key */
    uint8_t n[SIO_NONCE_LEN]; /* the sender's fresh random nonce */
    /* AUTH: the nonce of the hello it answers; HELLO: a cookie, or zero;
     * COOKIE: the cookie (e and n then repeat the initiator's) */
    uint8_t echo[SIO_NONCE_LEN];
    uint8_t ct[SIO_AUTH_CT_LEN]; /* AUTH: the sealed identity and signature */
} sio_hs_packet;

/* Writes SIO_HS_PACKET_LEN bytes. */
void sio_hs_encode(const sio_hs_packet *p, uint8_t out[SIO_HS_PACKET_LEN]);
/* 0, or -1 when in is not a well-formed handshake packet of a known type
 * and version (HELLO padding must be zero). */
int sio_hs_decode(sio_hs_packet *p, const uint8_t *in, size_t len);

/* Record: type(1) epoch(1) counter(8, little-endian) ciphertext tag(16). */
#define SIO_RECORD_HEADER_LEN 10u
typedef struct sio_record_header {
    uint8_t epoch;
    uint64_t counter;
} sio_record_header;
void sio_record_header_encode(const sio_record_header *h, uint8_t out[SIO_RECORD_HEADER_LEN]);
/* 0, or -1 if in is too short or not a record. */
int sio_record_header_decode(sio_record_header *h, const uint8_t *in, size_t len);

/* Frames inside a record's plaintext. */
#define SIO_FRAME_PADDING 0x00u /* the rest of the record is padding */
#define SIO_FRAME_DATA 0x01u    /* varint channel, varint length, bytes */
#define SIO_FRAME_CONFIRM 0x02u /* key confirmation: u8 flags */
#define SIO_CONFIRM_ASK 0x01u   /* flag: answer with a CONFIRM */
#define SIO_FRAME_REKEY_INIT 0x03u
#define SIO_FRAME_REKEY_RESP 0x04u
#define SIO_FRAME_CLOSE 0x05u /* u16 code */

typedef struct sio_frame {
    uint8_t type;
    uint32_t channel;    /* DATA */
    const uint8_t *data; /* DATA: points into the record */
    size_t len;          /* DATA */
    uint32_t epoch;      /* REKEY_*: the epoch being made */
    const uint8_t *e;    /* REKEY_*: ephemeral public key */
    const uint8_t *n;    /* REKEY_*: nonce */
    const uint8_t *echo; /* REKEY_RESP: the initiator's nonce */
    uint16_t code;       /* CLOSE */
    uint8_t flags;       /* CONFIRM */
} sio_frame;

#define SIO_REKEY_INIT_LEN (1u + 4u + SIO_KEY_LEN + SIO_NONCE_LEN)
#define SIO_REKEY_RESP_LEN (SIO_REKEY_INIT_LEN + SIO_NONCE_LEN)

/*
 * Reads the frame at *off in pt[len]: 1 and the frame (advancing *off), 0 at
 * the end (or at padding), -1 if malformed (unknown type, a length past the
 * end, a channel over 2^32 - 1).
 */
int sio_frame_next(const uint8_t *pt, size_t len, size_t *off, sio_frame *f);

/* Frame writers; each returns the bytes written (out has room). */
size_t sio_frame_data_header(uint8_t *out, uint32_t channel, size_t len);
size_t sio_frame_rekey(uint8_t *out, uint8_t type, uint32_t epoch, const uint8_t *e,
                       const uint8_t *n, const uint8_t *echo);

/* QUIC varints (RFC 9000 §16): length of v's encoding, write, read (0 on
 * a short input). */
size_t sio_varint_len(uint64_t v);
size_t sio_varint_put(uint8_t *out, uint64_t v);
size_t sio_varint_get(const uint8_t *in, size_t len, uint64_t *v);

#endif /* SECUREIO_WIRE_H */
