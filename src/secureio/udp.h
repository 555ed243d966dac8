/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Datagram batches for the runtime (session_io.c, listener.c): packets out
 * with one sendmmsg, those of one size to one address joined into one
 * segmented send (UDP GSO: the kernel cuts it into datagrams, the cost of
 * one); packets in with one recvmmsg, a coalesced receive (UDP GRO: many
 * datagrams of one sender in one buffer) cut back into datagrams. The
 * batching of syscalls, not the cryptography, is what makes UDP fast.
 * Linux; a kernel or a device without GSO gets plain datagrams (the caller
 * turns it off on the first EIO or EINVAL). Internal: not installed.
 */
#ifndef SECUREIO_UDP_H
#define SECUREIO_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"

/* Segments in one GSO send at most (the kernel takes 64 on older
 * versions), and its bytes (a UDP datagram's payload over IPv4). */
#define SIO_GSO_MAX_SEGMENTS 64u
#define SIO_GSO_MAX_BYTES 65000u

/* A batch of packets to send: iov[i] the i-th packet, to name[i] (NULL:
 * the connected peer). */
typedef struct sio_udp_batch {
    struct iovec iov[SIO_LOOP_BATCH];
    void *name[SIO_LOOP_BATCH];
    socklen_t namelen[SIO_LOOP_BATCH];
    unsigned n;
    /* built by sio_udp_pack: one message per run of packets */
    struct mmsghdr msgs[SIO_LOOP_BATCH];
    unsigned first[SIO_LOOP_BATCH + 1]; /* message j: packets first[j] .. first[j+1]-1 */
    unsigned nmsgs;
    union {
        size_t align; /* (a cmsghdr's alignment) */
        uint8_t buf[CMSG_SPACE(sizeof(uint16_t))];
    } ctl[SIO_LOOP_BATCH];
} sio_udp_batch;

/* Groups the batch's packets into messages: with gso, runs of packets of
 * one size to one address (the last of a run may be shorter) become one
 * segmented message; else one message each. */
void sio_udp_pack(sio_udp_batch *b, int gso);

/* Sends the batch's messages from message *next on: the number of packets
 * sent (whole messages), and *next moved past them. -1 with errno when the
 * first message failed (the caller decides: EAGAIN, a lost datagram, GSO
 * refused, the socket gone). */
int sio_udp_send(int fd, sio_udp_batch *b, unsigned *next);

/* Asks the kernel to coalesce received datagrams (UDP_GRO): 1 if it will;
 * *was_on (may be NULL) says whether it already did (a caller's socket is
 * left as it was found: sio_udp_disable_gro). */
int sio_udp_enable_gro(int fd, int *was_on);
void sio_udp_disable_gro(int fd);
/* Turns GSO sends on for a socket that can (an IPv4 or IPv6 UDP socket): 1
 * if they may be tried. */
int sio_udp_can_gso(int fd);

/* Receive side: control buffers for a recvmmsg batch, the batch over a
 * loop's receive buffer, and the size of the datagrams in each message. */
typedef union sio_udp_rxctl {
    size_t align; /* (a cmsghdr's alignment) */
    /* the segment size, and room for what else a caller's socket may have
     * asked for (timestamps, packet info), so that it is not cut off */
    uint8_t buf[CMSG_SPACE(sizeof(int)) + 128];
} sio_udp_rxctl;
/* SIO_LOOP_BATCH messages, one SIO_LOOP_SLOT of buf each; addrs NULL for a
 * connected socket; ctl for the segment sizes when gro. */
void sio_udp_rx_prepare(struct mmsghdr *msgs, struct iovec *iov, sio_udp_rxctl *ctl,
                        struct sockaddr_storage *addrs, uint8_t *buf, int gro);
/* The size of each datagram in received message m: its whole length, or,
 * coalesced (GRO), the segment size the kernel reports (the last may be
 * shorter). At least 1 when the message is not empty. */
size_t sio_udp_rx_segment(struct mmsghdr *m, int gro);

#endif /* SECUREIO_UDP_H */
