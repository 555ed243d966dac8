/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Path size discovery for datagram transports (docs/PROTOCOL.md §6), in the
 * manner of RFC 8899 (DPLPMTUD). Data flows at the base size (1200 bytes,
 * what every path is assumed to carry) while PROBE records padded to a
 * candidate size go out; the peer answers each one it receives with a
 * PROBE_ACK naming its size. Both are ordinary records, so nothing
 * unauthenticated moves the size.
 *
 * A search first tries the ceiling (most paths carry it: one round trip),
 * then halves the interval between the largest size confirmed and the
 * smallest one lost, to a granularity of 16 bytes. A size is lost after 3
 * probes without an answer, each given a retransmission interval. While
 * packets larger than the base go out, the current size is confirmed by a
 * probe every 15 s: when those stop getting through (a black hole), the
 * size falls back to the base and a new search starts. A new search also
 * starts every 10 minutes (the path may carry more) and when the caller
 * says the path changed. The first search is the NEGOTIATING state.
 */
#include <string.h>

#include "engine_internal.h"

#define SIO_PMTU_STEP 16u
#define SIO_PMTU_TRIES 3u
#define SIO_PMTU_RESEARCH_US (600u * 1000000ull)
#define SIO_PMTU_CONFIRM_US (15u * 1000000ull)

static void set_size(secureio_engine *e, size_t size)
{
    if (size == e->packet_size)
        return;
    e->packet_size = size;
    e->stats.packet_size = (uint32_t)size;
    secureio_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SECUREIO_EVENT_PACKET_SIZE;
    ev.packet_size = (uint32_t)size;
    sio_emit(e, &ev);
}

static void probe(secureio_engine *e, size_t size, int confirming)
{
    e->pmtu.probing = size;
    e->pmtu.confirming = confirming;
    e->pmtu.tries = 0;
    e->pmtu.first_id = e->pmtu.probe_id + 1;
    e->pmtu.send_probe = 1;
}

static void finish(secureio_engine *e, uint64_t now)
{
    e->pmtu.searching = 0;
    e->pmtu.probing = 0;
    e->pmtu.next_search = sio_after(now, SIO_PMTU_RESEARCH_US);
    e->pmtu.confirm_at = sio_after(now, SIO_PMTU_CONFIRM_US);
    e->pmtu.big_sent = 0;
    if (!e->pmtu.first_done) {
        e->pmtu.first_done = 1;
        if (e->state == SECUREIO_STATE_NEGOTIATING)
            sio_set_state(e, SECUREIO_STATE_ESTABLISHED);
    }
}

/* The next probe of a search, or its end. */
static void next_probe(secureio_engine *e, uint64_t now)
{
    size_t lo = e->pmtu.lo, hi = e->pmtu.hi;
    if (hi < lo + SIO_PMTU_STEP) {
        finish(e, now);
        return;
    }
    size_t mid = lo + (hi - lo + 1) / 2;
    mid -= mid % SIO_PMTU_STEP;
    if (mid <= lo)
        mid = hi;
    probe(e, e->pmtu.tried_hi ? mid : hi, 0);
    e->pmtu.tried_hi = 1;
}

static void search(secureio_engine *e, size_t hi, uint64_t now)
{
    e->pmtu.searching = 1;
    e->pmtu.tried_hi = 0;
    e->pmtu.lo = e->packet_size;
    e->pmtu.hi = hi;
    next_probe(e, now);
}

void sio_pmtu_start(secureio_engine *e, uint64_t now)
{
    memset(&e->pmtu, 0, sizeof e->pmtu);
    if (e->cfg.stream || e->max_packet <= SECUREIO_BASE_PACKET_LEN) {
        /* nothing to discover: streams carry any size, and a ceiling at or
         * below the base is taken as it is */
        set_size(e, e->max_packet);
        e->pmtu.first_done = 1;
        e->pmtu.next_search = UINT64_MAX;
        sio_set_state(e, SECUREIO_STATE_ESTABLISHED);
        return;
    }
    set_size(e, SECUREIO_BASE_PACKET_LEN);
    sio_set_state(e, SECUREIO_STATE_NEGOTIATING);
    search(e, e->max_packet, now);
}

void sio_pmtu_path_changed(secureio_engine *e, uint64_t now)
{
    if (e->cfg.stream || e->max_packet <= SECUREIO_BASE_PACKET_LEN || !e->established)
        return;
    set_size(e, SECUREIO_BASE_PACKET_LEN);
    search(e, e->max_packet, now);
}

int sio_pmtu_probe_due(secureio_engine *e, uint64_t now, uint64_t *id, size_t *size)
{
    if (!e->pmtu.send_probe || e->pmtu.probing == 0 || e->auth_i_unconfirmed || sio_peer_unheard(e))
        return 0;
    e->pmtu.send_probe = 0;
    e->pmtu.probe_at = sio_after(now, e->rtx_base);
    *id = ++e->pmtu.probe_id;
    *size = e->pmtu.probing;
    return 1;
}

void sio_pmtu_on_ack(secureio_engine *e, uint64_t id, uint64_t size, uint64_t now)
{
    if (e->pmtu.probing == 0 || size != e->pmtu.probing || id < e->pmtu.first_id ||
        id > e->pmtu.probe_id)
        return; /* late, or not ours */
    e->pmtu.probing = 0;
    e->pmtu.send_probe = 0;
    if (e->pmtu.confirming) {
        e->pmtu.confirming = 0;
        e->pmtu.big_sent = 0;
        e->pmtu.confirm_at = sio_after(now, SIO_PMTU_CONFIRM_US);
        return;
    }
    e->pmtu.lo = (size_t)size;
    set_size(e, (size_t)size);
    next_probe(e, now);
}

void sio_pmtu_on_probe(secureio_engine *e, uint64_t id, size_t size)
{
    if (e->pmtu.n_acks == SIO_PMTU_ACKS) { /* the oldest answer goes */
        memmove(&e->pmtu.ack_id[0], &e->pmtu.ack_id[1], (SIO_PMTU_ACKS - 1) * sizeof(uint64_t));
        memmove(&e->pmtu.ack_size[0], &e->pmtu.ack_size[1], (SIO_PMTU_ACKS - 1) * sizeof(size_t));
        e->pmtu.n_acks--;
    }
    e->pmtu.ack_id[e->pmtu.n_acks] = id;
    e->pmtu.ack_size[e->pmtu.n_acks] = size;
    e->pmtu.n_acks++;
}

void sio_pmtu_sent(secureio_engine *e, size_t len)
{
    if (len > SECUREIO_BASE_PACKET_LEN)
        e->pmtu.big_sent = 1;
}

void sio_pmtu_tick(secureio_engine *e, uint64_t now)
{
    if (e->cfg.stream || !e->established)
        return;
    if (e->pmtu.probing != 0 && !e->pmtu.send_probe && now >= e->pmtu.probe_at) {
        if (++e->pmtu.tries < SIO_PMTU_TRIES) {
            e->pmtu.send_probe = 1; /* lost (or late): again */
            return;
        }
        size_t lost = e->pmtu.probing;
        e->pmtu.probing = 0;
        if (e->pmtu.confirming) {
            /* a black hole: packets of the current size stopped arriving */
            e->pmtu.confirming = 0;
            set_size(e, SECUREIO_BASE_PACKET_LEN);
            search(e, lost - SIO_PMTU_STEP, now);
        } else {
            e->pmtu.hi = lost - 1;
            next_probe(e, now);
        }
        return;
    }
    if (e->pmtu.searching || e->pmtu.probing != 0)
        return;
    if (now >= e->pmtu.next_search && e->max_packet > e->packet_size)
        search(e, e->max_packet, now); /* the path may carry more now */
    else if (now >= e->pmtu.next_search)
        e->pmtu.next_search = sio_after(now, SIO_PMTU_RESEARCH_US);
    else if (e->pmtu.big_sent && e->packet_size > SECUREIO_BASE_PACKET_LEN &&
             now >= e->pmtu.confirm_at)
        probe(e, e->packet_size, 1);
}

uint64_t sio_pmtu_deadline(const secureio_engine *e)
{
    if (e->cfg.stream || !e->established)
        return UINT64_MAX;
    if (e->pmtu.probing != 0)
        return e->pmtu.send_probe ? UINT64_MAX : e->pmtu.probe_at; /* poll() sends it */
    uint64_t d = e->pmtu.next_search;
    if (e->pmtu.big_sent && e->packet_size > SECUREIO_BASE_PACKET_LEN && e->pmtu.confirm_at < d)
        d = e->pmtu.confirm_at;
    return d;
}
