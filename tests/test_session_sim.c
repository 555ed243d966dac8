/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two secureio engines over the simulated network (tests/sim/netsim.c):
 * clean, lossy (up to 50 %), reordering, duplicating and corrupting links,
 * partitions, staggered starts, stream transports; an hour of virtual
 * traffic with a rekey a minute. Every delivered message must be exact and
 * delivered once; sessions must establish, rekey and recover.
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
    uint64_t duration, start_gap, partition_from, partition_len;
    uint64_t interval_ms;
    size_t msg_size;
    uint64_t rekey_ms;
    /* expectations */
    int lossless;        /* every message sent is delivered */
    uint64_t min_rekeys; /* per side */
    double min_delivery; /* fraction of sent messages delivered */
    int silent0;         /* endpoint 0 sends no messages */
};

static void adjust(int i, secureio_config *cfg, void *arg)
{
    const struct scenario *sc = arg;
    (void)i;
    cfg->rekey_interval_ms = sc->rekey_ms;
}

static void run(const struct scenario *sc)
{
    sim s;
    struct scenario copy = *sc;
    unsigned long failed = test_failed_count();
    if (!CHECK(sim_init(&s, sc->seed, sc->stream, adjust, &copy) == 0))
        return;
    s.link[0] = s.link[1] = sc->link;
    if (sc->partition_len) {
        s.partition_from = s.now + sc->partition_from;
        s.partition_to = s.partition_from + sc->partition_len;
    }
    for (int i = 0; i < 2; i++) {
        s.ep[i].interval_ms =
            sc->interval_ms ? sc->interval_ms + (uint64_t)i * 7 : 0; /* not in lockstep */
        if (i == 0 && sc->silent0)
            s.ep[i].interval_ms = 0;
        s.ep[i].msg_size = sc->msg_size;
    }
    sim_start(&s, sc->start_gap);
    sim_run(&s, s.now + sc->duration);
    /* stop sending, and let what is in flight arrive */
    s.ep[0].interval_ms = s.ep[1].interval_ms = 0;
    sim_run(&s, s.now + 3000);

    for (int i = 0; i < 2; i++) {
        sim_endpoint *me = &s.ep[i], *peer = &s.ep[1 - i];
        CHECK(secureio_engine_state(me->engine) == SECUREIO_STATE_ESTABLISHED);
        CHECK(me->established_events >= 1);
        CHECK_EQ_UINT(me->closed_events, 0);
        CHECK_EQ_UINT(me->corrupt_msgs, 0);
        CHECK_EQ_UINT(me->duplicates, 0);
        CHECK(me->rekey_events >= sc->min_rekeys);
        CHECK(sc->interval_ms == 0 || peer->sent > 0 || (sc->silent0 && peer->index == 0));
        if (sc->lossless)
            CHECK_EQ_UINT(me->delivered, peer->sent);
        else
            CHECK((double)me->delivered >= sc->min_delivery * (double)peer->sent);
    }
    CHECK_EQ_UINT(s.api_errors, 0);
    secureio_stats st;
    secureio_engine_stats(s.ep[0].engine, &st);
    printf("%-34s sent %6llu/%6llu delivered %6llu/%6llu rekeys %3llu/%3llu handshakes %llu "
           "bad packets %llu/%llu (dropped by the link %llu of %llu)%s\n",
           sc->name, (unsigned long long)s.ep[0].sent, (unsigned long long)s.ep[1].sent,
           (unsigned long long)s.ep[1].delivered, (unsigned long long)s.ep[0].delivered,
           (unsigned long long)s.ep[0].rekey_events, (unsigned long long)s.ep[1].rekey_events,
           (unsigned long long)st.handshakes, (unsigned long long)s.ep[0].bad_packets,
           (unsigned long long)s.ep[1].bad_packets, (unsigned long long)s.packets_dropped,
           (unsigned long long)s.packets_sent, test_failed_count() != failed ? "  FAILED" : "");
    sim_free(&s);
}

int main(void)
{
    const sim_link_params clean = {0, 0, 0, 0, 5, 0, 0, 0};
    const sim_link_params lossy = {0.20, 0.05, 0.02, 0.10, 20, 10, 50, 0};
    const sim_link_params awful = {0.50, 0.10, 0.05, 0.20, 40, 30, 200, 0};
    const struct scenario scenarios[] = {
        /* an hour of clean traffic: 60 rekeys, nothing lost across them */
        {"clean, 1 h, rekey every 60 s", 1, 0, clean, HOUR, 0, 0, 0, 100, 200, MINUTE, 1, 59, 1, 0},
        /* the same over a stream transport, messages near the packet size */
        {"stream, 1 h, rekey every 60 s", 2, 1, clean, HOUR, 0, 0, 0, 250, 1400, MINUTE, 1, 59, 1,
         0},
        /* lossy: 20 % loss, duplicates, reordering, corruption */
        {"lossy 20 %, 1 h", 3, 0, lossy, HOUR, 0, 0, 0, 100, 300, MINUTE, 0, 50, 0.70, 0},
        /* awful: 50 % loss; the handshake and rekeys still get through */
        {"loss 50 %, 20 min", 4, 0, awful, 20 * MINUTE, 0, 0, 0, 200, 100, MINUTE, 0, 10, 0.40, 0},
        /* one side starts 5 s later */
        {"staggered start, lossy, 10 min", 5, 0, lossy, 10 * MINUTE, 5000, 0, 0, 100, 50, MINUTE, 0,
         8, 0.70, 0},
        /* a 30 s partition in the middle: the session recovers */
        {"partition 30 s, 10 min", 6, 0, clean, 10 * MINUTE, 0, 4 * MINUTE, 30000, 100, 64, MINUTE,
         0, 8, 0.90, 0},
        /* a link that carries at most 600 bytes: everything fits */
        {"size limit 600, 10 min",
         8,
         0,
         {0, 0, 0, 0, 5, 0, 0, 600},
         10 * MINUTE,
         0,
         0,
         0,
         100,
         400,
         MINUTE,
         1,
         9,
         1,
         0},
        /* at most 300 bytes: messages of 400 never arrive, the session and
         * its rekeys carry on */
        {"size limit 300 < messages, 10 min",
         9,
         0,
         {0, 0, 0, 0, 5, 0, 0, 300},
         10 * MINUTE,
         0,
         0,
         0,
         100,
         400,
         MINUTE,
         0,
         9,
         0,
         0},
        /* an idle session: nothing to send, the rekeys still complete */
        {"idle, lossy, 10 min", 10, 0, lossy, 10 * MINUTE, 0, 0, 0, 0, 0, MINUTE, 1, 9, 1, 0},
        /* one side silent, the link down for 12 s just after the first rekey:
         * the rekey initiator keeps confirming, the old key outlives the gap */
        {"silent side, 12 s outage at a rekey", 11, 0, clean, 10 * MINUTE, 0, MINUTE + 500, 12000,
         100, 200, MINUTE, 0, 8, 0.90, 1},
        /* fast rekeys (every 2 s) under loss */
        {"rekey every 2 s, lossy, 10 min", 7, 0, lossy, 10 * MINUTE, 0, 0, 0, 20, 100, 2000, 0, 150,
         0.70, 0},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        run(&scenarios[i]);
    /* more seeds of the lossy link, shorter */
    for (uint64_t seed = 100; seed < 110; seed++) {
        struct scenario sc = {"lossy, 5 min, seed",
                              seed,
                              0,
                              lossy,
                              5 * MINUTE,
                              0,
                              0,
                              0,
                              50,
                              120,
                              20000,
                              0,
                              10,
                              0.70,
                              0};
        run(&sc);
    }
    return test_summary("session-sim");
}
