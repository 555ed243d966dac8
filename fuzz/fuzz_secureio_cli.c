/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-secureio_cli: the receiving side of the secureio CLI's protocol
 * (tools/secureio_pipe.c, compiled in here): the data messages (a big-endian
 * sequence number and offset, then the data) and the control messages
 * (ACK, MARK) that an authenticated but hostile peer may send, in any
 * order, with gaps given up as the reader gives them up.
 *
 * Input: byte 0 bit 0: a datagram session (else a stream); then records of
 * [kind][len: 2 bytes BE][len bytes]: kind 0 a data message, 1 a control
 * message, 2 the reader's wait for a gap running out (held messages given
 * up, as when they waited too long).
 * Invariants: at most HOLD_MAX messages held, distinct, each after the
 * next expected one, their bytes counted exactly and within HOLD_BYTES
 * (or a single message); the next expected sequence number never goes
 * back; on a stream nothing is ever held, and the first gap marks the
 * peer as broken; sequence numbers beyond SEQ_MAX are ignored (no wrap);
 * what is delivered is counted once.
 */
#define _GNU_SOURCE /* (before any header, as secureio_pipe.c asks) */
#define FUZZ_NAME "fuzz-secureio_cli"

#include <fcntl.h>
#include <unistd.h>

static int fuzz_out = -1; /* /dev/null: what the CLI writes to its standard output */
#undef STDOUT_FILENO
#define STDOUT_FILENO fuzz_out

#include "../tools/secureio_pipe.c"

#include "fuzz_common.h"

void cli_fingerprint(const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN], char out[SECUREIO_FINGERPRINT_LEN])
{
    (void)pk;
    snprintf(out, SECUREIO_FINGERPRINT_LEN, "SHA256:fuzz");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    CHECK(fuzz_out >= 0);
    return 0;
}

static void check_state(const pipe_state *st, uint64_t prev_next)
{
    CHECK(st->next_seq >= prev_next);
    CHECK(st->nheld <= HOLD_MAX);
    size_t bytes = 0;
    for (unsigned i = 0; i < st->nheld; i++) {
        CHECK(st->hold[i].seq > st->next_seq);
        for (unsigned j = 0; j < i; j++)
            CHECK(st->hold[j].seq != st->hold[i].seq);
        bytes += st->hold[i].len;
    }
    CHECK(bytes == st->held_bytes);
    CHECK(st->held_bytes <= HOLD_BYTES || st->nheld == 1);
    if (!st->datagram)
        CHECK(st->nheld == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const cli_pipe_opts o = {0};
    pipe_state *st = calloc(1, sizeof *st);
    CHECK(st != NULL);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    st->o = &o;
    st->datagram = data[0] & 1;
    st->window = WINDOW_START;
    st->cwnd = WINDOW_START;
    st->ssthresh = UINT64_MAX;
    uint64_t now = 1000000, gaps = 0;
    size_t i = 1;
    while (i + 3 <= size) {
        unsigned kind = data[i] % 3;
        size_t len = (size_t)data[i + 1] << 8 | data[i + 2];
        i += 3;
        if (len > size - i)
            len = size - i;
        const uint8_t *m = data + i;
        i += len;
        uint64_t prev_next = st->next_seq, prev_delivered = st->delivered_msgs;
        int was_broken = st->broken;
        now += 1000;
        if (kind == 0) {
            on_data(st, m, len, now);
            if (!st->datagram && len >= DATA_HDR && get_be64(m) > prev_next &&
                get_be64(m) <= SEQ_MAX)
                CHECK(st->broken); /* a gap on a stream (beyond SEQ_MAX: ignored) */
            if (was_broken)
                CHECK(st->broken);
        } else if (kind == 1) {
            on_control(st, CTL_CHANNEL, m, len);
            CHECK(st->cwnd >= CWND_MIN && st->cwnd <= WINDOW_MAX + WINDOW_START);
        } else if (st->datagram && st->nheld > 0) {
            skip_gap(st, UINT64_MAX, 0);
            CHECK(st->next_seq > prev_next); /* (a gap given up moves on) */
            gaps++;
        }
        check_state(st, prev_next);
        CHECK(st->delivered_msgs >= prev_delivered);
    }
    for (unsigned k = 0; k < st->nheld; k++)
        free(st->hold[k].data);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
    (void)gaps;
    return 0;
}
