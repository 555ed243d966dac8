/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A deterministic network simulator for two secureio engines: a seeded link
 * per direction (loss, duplication, reordering, corruption, delay, a size
 * limit that may change, partitions) and simulated time, in microseconds.
 * It drives both engines through their sans-I/O interface as a runtime
 * would (write, poll, recv, tick, deadline), so an hour of traffic runs in
 * seconds.
 *
 * Each side writes messages on a set of channels, of sizes drawn between a
 * minimum and a maximum (log-uniform, so large fragmented ones come among
 * many small ones), asynchronously (borrowed buffers, freed at their
 * completion), copied, or synchronously. Every message carries its
 * sequence number, its channel's sequence number, its length and a pattern
 * derived from them; the receiver checks that each delivered message is
 * exact, on its channel, delivered once, and (where the transport keeps
 * order) in order within its channel. Every accepted write must complete
 * exactly once. The engines' memory (send queue, reassembly) is checked
 * against its limits after every call.
 */
#ifndef SECUREIO_TESTS_NETSIM_H
#define SECUREIO_TESTS_NETSIM_H

#include <secureio/engine.h>

/* The smallest message the simulator checks: seq, channel seq, length. */
#define SIM_MSG_HEADER 24u

typedef struct sim_link_params {
    double loss;    /* probability a packet is dropped */
    double dup;     /* probability a packet is delivered twice */
    double corrupt; /* probability one random bit is flipped */
    double reorder; /* probability a packet gets an extra delay of up to reorder_ms */
    uint64_t delay_ms, jitter_ms, reorder_ms;
    size_t mtu; /* packets larger than this are dropped (0: no limit) */
} sim_link_params;

typedef struct sim_traffic {
    uint64_t interval_us;      /* a burst every interval (0: no traffic) */
    unsigned burst;            /* messages per burst (0: 1) */
    size_t min_size, max_size; /* sizes (at least SIM_MSG_HEADER) */
    uint32_t channels;         /* channels 0 .. channels-1 (at most 64); 0: the default one */
    unsigned sync_every;       /* every n-th write is synchronous (0: none) */
    unsigned copy_every;       /* every n-th write is copied (0: none) */
} sim_traffic;

typedef struct sim_endpoint {
    secureio_engine *engine;
    secureio_identity *id;
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
    int index;
    /* sending */
    sim_traffic tx;
    uint64_t next_send;
    uint64_t sent, refused;     /* writes accepted; refused as "would block" */
    uint64_t done_ok, done_err; /* completions */
    uint64_t bytes_sent;        /* of accepted writes */
    uint64_t *chan_sent;        /* per channel: messages written */
    /* receiving */
    uint64_t delivered, bytes_delivered, corrupt_msgs, duplicates, out_of_order, wrong_channel;
    uint64_t *chan_next;    /* per channel: the next channel seq expected */
    uint32_t peer_channels; /* the peer's tx.channels */
    uint8_t *seen;          /* one byte per sequence number of the peer */
    size_t seen_cap;
    /* events */
    uint64_t established_events, rekey_events, closed_events, bad_packets, size_events;
    uint64_t drops[SECUREIO_DROP_REASON_COUNT];
    int closed_err;
    uint32_t packet_size; /* the last PACKET_SIZE event's */
    /* memory, checked after every call */
    uint64_t peak_reassembly, peak_queued, limit_breaches;
    uint64_t max_reassembly, max_queue_len; /* the configured limits */
} sim_endpoint;

typedef struct sim {
    sim_endpoint ep[2];
    sim_link_params link[2]; /* link[i]: from endpoint i to the other */
    uint64_t now, seed;      /* now: microseconds */
    int stream;              /* a stream transport: lossless, in order, random splits */
    uint64_t partition_from, partition_to; /* both links drop everything in between */
    struct sim_packet *queue;
    size_t queue_len, queue_cap;
    uint64_t packets_sent, packets_dropped, packets_too_big;
    uint64_t api_errors; /* engine calls that returned an error */
    uint8_t *msgbuf;     /* scratch for building copied messages */
} sim;

/* Sets up two engines (the caller may adjust each configuration before it
 * is used: i is 0 or 1). Both pin the other's key. 0 on success. */
typedef void (*sim_config_fn)(int i, secureio_config *cfg, void *arg);
int sim_init(sim *s, uint64_t seed, int stream, sim_config_fn adjust, void *arg);
void sim_free(sim *s);

/* Starts the engines (endpoint 1 start_gap_ms later) and runs until
 * `until` (virtual microseconds). */
void sim_start(sim *s, uint64_t start_gap_ms);
void sim_run(sim *s, uint64_t until);

/* The deterministic generator of the simulation (also the engines' rng). */
uint64_t sim_rand(sim *s);

#define SIM_MS 1000ull
#define SIM_SEC 1000000ull
#define SIM_MIN (60ull * SIM_SEC)

#endif /* SECUREIO_TESTS_NETSIM_H */
