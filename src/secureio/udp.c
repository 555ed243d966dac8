/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Datagram batches: sendmmsg with UDP GSO, recvmmsg with UDP GRO (udp.h).
 */
#define _GNU_SOURCE

#include "udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

static int same_name(const sio_udp_batch *b, unsigned i, unsigned j)
{
    if (b->namelen[i] != b->namelen[j])
        return 0;
    return b->name[i] == b->name[j] || (b->name[i] != NULL && b->name[j] != NULL &&
                                        memcmp(b->name[i], b->name[j], b->namelen[i]) == 0);
}

void sio_udp_pack(sio_udp_batch *b, int gso)
{
    unsigned m = 0;
    for (unsigned i = 0; i < b->n;) {
        unsigned j = i + 1;
        size_t seg = b->iov[i].iov_len, total = seg;
        if (gso) {
            /* the run: equal sizes to one address; a shorter one ends it */
            while (j < b->n && j - i < SIO_GSO_MAX_SEGMENTS && same_name(b, i, j) &&
                   b->iov[j].iov_len <= seg && total + b->iov[j].iov_len <= SIO_GSO_MAX_BYTES) {
                total += b->iov[j].iov_len;
                j++;
                if (b->iov[j - 1].iov_len < seg)
                    break;
            }
        }
        struct msghdr *h = &b->msgs[m].msg_hdr;
        memset(&b->msgs[m], 0, sizeof b->msgs[m]);
        h->msg_iov = &b->iov[i];
        h->msg_iovlen = j - i;
        h->msg_name = b->name[i];
        h->msg_namelen = b->name[i] != NULL ? b->namelen[i] : 0;
        if (j - i > 1) {
            h->msg_control = b->ctl[m].buf;
            h->msg_controllen = sizeof b->ctl[m].buf;
            struct cmsghdr *c = CMSG_FIRSTHDR(h);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t size = (uint16_t)seg;
            memcpy(CMSG_DATA(c), &size, sizeof size);
        }
        b->first[m++] = i;
        i = j;
    }
    b->first[m] = b->n;
    b->nmsgs = m;
}

int sio_udp_send(int fd, sio_udp_batch *b, unsigned *next)
{
    if (*next >= b->nmsgs)
        return 0;
    int r;
    do
        r = sendmmsg(fd, b->msgs + *next, b->nmsgs - *next, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return -1;
    unsigned from = b->first[*next];
    *next += (unsigned)r;
    return (int)(b->first[*next] - from);
}

int sio_udp_enable_gro(int fd, int *was_on)
{
    int on = 0, one = 1;
    socklen_t ol = sizeof on;
    if (was_on != NULL)
        *was_on = getsockopt(fd, SOL_UDP, UDP_GRO, &on, &ol) == 0 && on != 0;
    return setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
}

void sio_udp_disable_gro(int fd)
{
    int zero = 0;
    (void)setsockopt(fd, SOL_UDP, UDP_GRO, &zero, sizeof zero);
}

int sio_udp_can_gso(int fd)
{
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    int type = 0;
    socklen_t tl = sizeof type;
    if (getsockname(fd, (struct sockaddr *)&a, &al) != 0 ||
        (a.ss_family != AF_INET && a.ss_family != AF_INET6) ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_DGRAM)
        return 0;
    /* the kernel knows the option (4.18 and later) */
    int size = 0;
    socklen_t sl = sizeof size;
    return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, &sl) == 0;
}

void sio_udp_rx_prepare(struct mmsghdr *msgs, struct iovec *iov, sio_udp_rxctl *ctl,
                        struct sockaddr_storage *addrs, uint8_t *buf, int gro)
{
    for (unsigned i = 0; i < SIO_LOOP_BATCH; i++) {
        iov[i].iov_base = buf + (size_t)i * SIO_LOOP_SLOT;
        iov[i].iov_len = SIO_LOOP_SLOT;
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (addrs != NULL) {
            msgs[i].msg_hdr.msg_name = &addrs[i];
            msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
        }
        if (gro) {
            msgs[i].msg_hdr.msg_control = ctl[i].buf;
            msgs[i].msg_hdr.msg_controllen = sizeof ctl[i].buf;
        }
    }
}

size_t sio_udp_rx_segment(struct mmsghdr *m, int gro)
{
    size_t len = m->msg_len, seg = 0;
    if (gro) {
        struct msghdr *h = &m->msg_hdr;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c))
            if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
                c->cmsg_len >= CMSG_LEN(sizeof(int))) {
                int size;
                memcpy(&size, CMSG_DATA(c), sizeof size);
                seg = size > 0 ? (size_t)size : 0;
                break;
            }
    }
    return seg == 0 || seg > len ? len : seg;
}
