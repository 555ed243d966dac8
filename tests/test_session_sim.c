/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two secureio engines over the simulated network (tests/sim/netsim.c):
 * clean, lossy (up to 50 %), reordering, duplicating and corrupting links,
 * partitions, staggered starts, stream transports; many channels at once,
 * messages from 24 bytes to 16 MiB (fragmented), async, copied and sync
 * writes; a path whose size drops mid-session (a black hole) and rises
 * again; an hour of virtual traffic with a rekey a minute. Every delivered
 * message must be exact, on its channel, delivered once and, on a stream,
 * in order within its channel; every accepted write completes once; the
 * engines' memory stays within its limits.
 */
#include <stdio.h>
#include <string.h>

#include "sim/netsim.h"
#include "test.h"

#define MINUTE 60000u
#define HOUR (60u * MINUTE)

struct scenario {
    const char *name;
    uint64_t seed;
    int stream;
    sim_link_params link;
    uint64_t duration_ms, start_gap_ms, partition_from_ms, partition_len_ms;
    sim_traffic traffic;
    uint64_t rekey_ms;
    uint32_t max_packet;
    /* the path's size changes: to mtu2 at change_at_ms, back at restore_at_ms */
    size_t mtu2;
    uint64_t change_at_ms, restore_at_ms;
    /* expectations */
    int lossless;        /* every message written is delivered */
    uint64_t min_rekeys; /* per side */
    double min_delivery; /* fraction of written messages delivered */
    int silent0;         /* endpoint 0 writes nothing */
    uint32_t want_size;  /* the packet size at the end (0: not checked) */
};

static void adjust(int i, secureio_config *cfg, void *arg)
{
    const struct scenario *sc = arg;
    (void)i;
    cfg->rekey_interval_ms = sc->rekey_ms;
    cfg->max_packet_len = sc->max_packet;
}

static void run(const struct scenario *sc)
{
    sim s;
    struct scenario copy = *sc;
    unsigned long failed = test_failed_count();
    if (!CHECK(sim_init(&s, sc->seed, sc->stream, adjust, &copy) == 0))
        return;
    s.link[0] = s.link[1] = sc->link;
    for (int i = 0; i < 2; i++) {
        s.ep[i].tx = sc->traffic;
        if (sc->traffic.interval_us)
            s.ep[i].tx.interval_us += (uint64_t)i * 7000; /* not in lockstep */
        if (i == 0 && sc->silent0)
            s.ep[i].tx.interval_us = 0;
    }
    sim_start(&s, sc->start_gap_ms);
    if (sc->partition_len_ms) {
        s.partition_from = s.now + sc->partition_from_ms * SIM_MS;
        s.partition_to = s.partition_from + sc->partition_len_ms * SIM_MS;
    }
    uint64_t t0 = s.now, end = t0 + sc->duration_ms * SIM_MS;
    uint32_t size_before = 0, size_during = 0;
    if (sc->mtu2) {
        sim_run(&s, t0 + sc->change_at_ms * SIM_MS);
        size_before = s.ep[0].packet_size;
        s.link[0].mtu = s.link[1].mtu = sc->mtu2;
        sim_run(&s, t0 + sc->restore_at_ms * SIM_MS);
        size_during = s.ep[0].packet_size;
        s.link[0].mtu = s.link[1].mtu = sc->link.mtu;
    }
    sim_run(&s, end);
    /* stop writing, and let what is queued and in flight arrive */
    s.ep[0].tx.interval_us = s.ep[1].tx.interval_us = 0;
    sim_run(&s, s.now + 10 * SIM_SEC);

    for (int i = 0; i < 2; i++) {
        sim_endpoint *me = &s.ep[i], *peer = &s.ep[1 - i];
        secureio_state st = secureio_engine_state(me->engine);
        CHECK(st == SECUREIO_STATE_ESTABLISHED);
        CHECK(me->established_events >= 1);
        CHECK_EQ_UINT(me->closed_events, 0);
        CHECK_EQ_UINT(me->corrupt_msgs, 0);
        CHECK_EQ_UINT(me->wrong_channel, 0);
        CHECK_EQ_UINT(me->duplicates, 0);
        CHECK_EQ_UINT(me->limit_breaches, 0);
        if (sc->stream)
            CHECK_EQ_UINT(me->out_of_order, 0);
        CHECK(me->rekey_events >= sc->min_rekeys);
        /* every accepted write completed once (nothing is left queued) */
        CHECK_EQ_UINT(me->done_ok + me->done_err, me->sent);
        CHECK_EQ_UINT(me->done_err, 0);
        CHECK(sc->traffic.interval_us == 0 || peer->sent > 0 || (sc->silent0 && i == 1));
        if (sc->lossless)
            CHECK_EQ_UINT(me->delivered, peer->sent);
        else
            CHECK((double)me->delivered >= sc->min_delivery * (double)peer->sent);
        secureio_stats mst;
        secureio_engine_stats(me->engine, &mst);
        if (sc->want_size)
            CHECK_EQ_UINT(mst.packet_size, sc->want_size);
    }
    if (sc->mtu2) {
        /* found the ceiling, fell back below the black hole, found it again */
        CHECK_EQ_UINT(size_before, sc->max_packet ? sc->max_packet : 1452);
        CHECK(size_during <= sc->mtu2 && size_during + 16 > sc->mtu2);
    }
    CHECK_EQ_UINT(s.api_errors, 0);
    secureio_stats st;
    secureio_engine_stats(s.ep[0].engine, &st);
    printf("%-38s sent %7llu/%7llu delivered %7llu/%7llu (%llu MiB) rekeys %3llu/%3llu "
           "bad %llu/%llu size %u link drops %llu/%llu peak reasm %llu KiB%s\n",
           sc->name, (unsigned long long)s.ep[0].sent, (unsigned long long)s.ep[1].sent,
           (unsigned long long)s.ep[1].delivered, (unsigned long long)s.ep[0].delivered,
           (unsigned long long)((s.ep[0].bytes_delivered + s.ep[1].bytes_delivered) >> 20),
           (unsigned long long)s.ep[0].rekey_events, (unsigned long long)s.ep[1].rekey_events,
           (unsigned long long)s.ep[0].bad_packets, (unsigned long long)s.ep[1].bad_packets,
           st.packet_size, (unsigned long long)s.packets_dropped,
           (unsigned long long)s.packets_sent,
           (unsigned long long)((s.ep[0].peak_reassembly > s.ep[1].peak_reassembly
                                     ? s.ep[0].peak_reassembly
                                     : s.ep[1].peak_reassembly) >>
                                10),
           test_failed_count() != failed ? "  FAILED" : "");
    sim_free(&s);
}

int main(void)
{
    const sim_link_params clean = {0, 0, 0, 0, 5, 0, 0, 0};
    const sim_link_params lossy = {0.20, 0.05, 0.02, 0.10, 20, 10, 50, 0};
    const sim_link_params loss30 = {0.30, 0.05, 0.02, 0.20, 20, 10, 50, 0};
    const sim_link_params awful = {0.50, 0.10, 0.05, 0.20, 40, 30, 200, 0};
    /* traffic: interval (us), burst, sizes, channels, sync every, copy every */
    const sim_traffic small = {100 * SIM_MS, 1, 24, 200, 0, 0, 0};
    const sim_traffic mixed = {50 * SIM_MS, 4, 24, 20000, 16, 5, 3};
    const sim_traffic bulk = {20 * SIM_MS, 2, 24, 65536, 8, 7, 4};
    const sim_traffic burst = {10 * SIM_MS, 40, 24, 64, 4, 0, 2};
    const struct scenario scenarios[] = {
        {.name = "clean, 1 h, rekey every 60 s",
         .seed = 1,
         .link = clean,
         .duration_ms = HOUR,
         .traffic = small,
         .rekey_ms = MINUTE,
         .lossless = 1,
         .min_rekeys = 59,
         .want_size = 1452},
        {.name = "stream, 1 h, 16 channels, fragments",
         .seed = 2,
         .stream = 1,
         .link = clean,
         .duration_ms = HOUR,
         .traffic = {250 * SIM_MS, 2, 24, 40000, 16, 5, 3},
         .rekey_ms = MINUTE,
         .lossless = 1,
         .min_rekeys = 59},
        {.name = "clean, bursts of 40 small, batched",
         .seed = 12,
         .link = clean,
         .duration_ms = 5 * MINUTE,
         .traffic = burst,
         .rekey_ms = MINUTE,
         .lossless = 1,
         .min_rekeys = 4},
        {.name = "clean, 8 channels, up to 64 KiB",
         .seed = 13,
         .link = clean,
         .duration_ms = 5 * MINUTE,
         .traffic = bulk,
         .rekey_ms = MINUTE,
         .lossless = 1,
         .min_rekeys = 4},
        {.name = "clean, messages up to 16 MiB",
         .seed = 16,
         .link = clean,
         .duration_ms = 2 * MINUTE,
         .traffic = {3 * SIM_SEC, 1, 24, 16u << 20, 2, 0, 0},
         .rekey_ms = MINUTE,
         .lossless = 1,
         .min_rekeys = 1},
        {.name = "stream, messages up to 16 MiB",
         .seed = 17,
         .stream = 1,
         .link = clean,
         .duration_ms = 2 * MINUTE,
         .traffic = {3 * SIM_SEC, 1, 24, 16u << 20, 2, 0, 0},
         .rekey_ms = MINUTE,
         .lossless = 1,
         .min_rekeys = 1},
        {.name = "lossy 20 %, 1 h, 16 channels",
         .seed = 3,
         .link = lossy,
         .duration_ms = HOUR,
         .traffic = mixed,
         .rekey_ms = MINUTE,
         .min_rekeys = 50,
         .min_delivery = 0.50},
        {.name = "loss 30 %, reorder, dup, corrupt",
         .seed = 14,
         .link = loss30,
         .duration_ms = 20 * MINUTE,
         .traffic = mixed,
         .rekey_ms = MINUTE,
         .min_rekeys = 15,
         .min_delivery = 0.35},
        {.name = "loss 50 %, 20 min",
         .seed = 4,
         .link = awful,
         .duration_ms = 20 * MINUTE,
         .traffic = {200 * SIM_MS, 1, 24, 100, 0, 0, 0},
         .rekey_ms = MINUTE,
         .min_rekeys = 10,
         .min_delivery = 0.40},
        {.name = "staggered start, lossy, 10 min",
         .seed = 5,
         .link = lossy,
         .duration_ms = 10 * MINUTE,
         .start_gap_ms = 5000,
         .traffic = small,
         .rekey_ms = MINUTE,
         .min_rekeys = 8,
         .min_delivery = 0.70},
        {.name = "partition 30 s, 10 min",
         .seed = 6,
         .link = clean,
         .duration_ms = 10 * MINUTE,
         .partition_from_ms = 4 * MINUTE,
         .partition_len_ms = 30000,
         .traffic = small,
         .rekey_ms = MINUTE,
         .min_rekeys = 8,
         .min_delivery = 0.90},
        {.name = "ceiling 576 on a 600 link",
         .seed = 8,
         .link = {0, 0, 0, 0, 5, 0, 0, 600},
         .duration_ms = 10 * MINUTE,
         .traffic = {100 * SIM_MS, 1, 24, 3000, 4, 0, 2},
         .rekey_ms = MINUTE,
         .max_packet = 576,
         .lossless = 1,
         .min_rekeys = 9,
         .want_size = 576},
        {.name = "path 1400: search settles below",
         .seed = 9,
         .link = {0, 0, 0, 0, 5, 0, 0, 1400},
         .duration_ms = 10 * MINUTE,
         .traffic = {100 * SIM_MS, 1, 24, 3000, 4, 0, 2},
         .rekey_ms = MINUTE,
         .min_rekeys = 9,
         .min_delivery = 1.0,
         .want_size = 1392},
        {.name = "black hole 1280 at 3 min, back at 8",
         .seed = 15,
         .link = clean,
         .duration_ms = 25 * MINUTE,
         .traffic = {100 * SIM_MS, 2, 24, 5000, 4, 0, 2},
         .rekey_ms = MINUTE,
         .mtu2 = 1280,
         .change_at_ms = 3 * MINUTE,
         .restore_at_ms = 8 * MINUTE,
         .min_rekeys = 20,
         .min_delivery = 0.90,
         .want_size = 1452},
        {.name = "idle, lossy, 10 min",
         .seed = 10,
         .link = lossy,
         .duration_ms = 10 * MINUTE,
         .rekey_ms = MINUTE,
         .lossless = 1,
         .min_rekeys = 9},
        {.name = "silent side, 12 s outage at a rekey",
         .seed = 11,
         .link = clean,
         .duration_ms = 10 * MINUTE,
         .partition_from_ms = MINUTE + 500,
         .partition_len_ms = 12000,
         .traffic = {100 * SIM_MS, 1, 24, 200, 0, 0, 0},
         .rekey_ms = MINUTE,
         .min_rekeys = 8,
         .min_delivery = 0.90,
         .silent0 = 1},
        {.name = "rekey every 2 s, lossy, 10 min",
         .seed = 7,
         .link = lossy,
         .duration_ms = 10 * MINUTE,
         .traffic = {20 * SIM_MS, 1, 24, 100, 0, 0, 0},
         .rekey_ms = 2000,
         .min_rekeys = 150,
         .min_delivery = 0.70},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        run(&scenarios[i]);
    /* more seeds of the lossy link, shorter */
    for (uint64_t seed = 100; seed < 110; seed++) {
        struct scenario sc = {.name = "lossy, 5 min, seed",
                              .seed = seed,
                              .link = lossy,
                              .duration_ms = 5 * MINUTE,
                              .traffic = mixed,
                              .rekey_ms = 20000,
                              .min_rekeys = 10,
                              .min_delivery = 0.50};
        run(&sc);
    }
    return test_summary("session-sim");
}
