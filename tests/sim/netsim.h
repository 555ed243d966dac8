/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A deterministic network simulator for secureio engines: two endpoints, a
 * seeded link per direction (loss, duplication, reordering, corruption,
 * delay, a size limit, partitions) and simulated time. It drives both
 * engines through their sans-I/O interface exactly as a runtime would, so an
 * hour of traffic runs in a second or two.
 *
 * Every message an endpoint sends carries its sequence number and a pattern
 * derived from it; the receiving side checks each delivered message is
 * exact and never delivered twice.
 */
#ifndef SECUREIO_TESTS_NETSIM_H
#define SECUREIO_TESTS_NETSIM_H

#include <secureio/engine.h>

typedef struct sim_link_params {
    double loss;    /* probability a packet is dropped */
    double dup;     /* probability a packet is delivered twice */
    double corrupt; /* probability one random bit is flipped */
    double reorder; /* probability a packet gets an extra delay of up to reorder_ms */
    uint64_t delay_ms, jitter_ms, reorder_ms;
    size_t mtu; /* packets larger than this are dropped (0: no limit) */
} sim_link_params;

typedef struct sim_endpoint {
    secureio_engine *engine;
    secureio_identity *id;
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
    /* traffic this side sends: one message every interval_ms of size bytes */
    uint64_t interval_ms, next_send;
    size_t msg_size;
    uint64_t sent, send_refused;
    /* what it received */
    uint64_t delivered, corrupt_msgs, duplicates, established_events, rekey_events, closed_events,
        bad_packets;
    int closed_err;
    uint8_t *seen; /* one byte per sequence number of the peer */
    size_t seen_cap;
    int index;
} sim_endpoint;

typedef struct sim {
    sim_endpoint ep[2];
    sim_link_params link[2]; /* link[i]: from endpoint i to the other */
    uint64_t now, seed;
    int stream;                            /* stream transport: lossless, in order, random splits */
    uint64_t partition_from, partition_to; /* both links drop everything in between */
    struct sim_packet *queue;
    size_t queue_len, queue_cap;
    uint64_t packets_sent, packets_dropped;
    uint64_t api_errors; /* engine calls that returned an error */
} sim;

/* Sets up two engines (the caller may adjust cfg through the callback
 * before each engine is made: i is 0 or 1). Returns 0 on success. */
typedef void (*sim_config_fn)(int i, secureio_config *cfg, void *arg);
int sim_init(sim *s, uint64_t seed, int stream, sim_config_fn adjust, void *arg);
void sim_free(sim *s);

/* Starts the engines (ep 1 after start_gap_ms) and runs until `until` (virtual ms). */
void sim_start(sim *s, uint64_t start_gap_ms);
void sim_run(sim *s, uint64_t until);

/* The deterministic generator of the simulation (also the engines' rng). */
uint64_t sim_rand(sim *s);

#endif /* SECUREIO_TESTS_NETSIM_H */
