/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replay window (src/secureio/replay.h) against its rule: in order, out
 * of order, duplicates, too old, the exact edges, huge jumps up to 2^64-1,
 * shuffles of 100k counters against a reference model (a set and the rule),
 * and the regression of the Go original's flaw 8 (docs/ORIGINAL.md): after a jump the
 * window still remembers the counters it had seen.
 */
#include "test.h"

#include "secureio/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W ((uint64_t)SIO_REPLAY_WINDOW)

static uint64_t rng_state = 0x0ddba11cafef00du;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* check() is pure and agrees with update(); returns update()'s answer. */
static int accept(sio_replay *r, uint64_t c)
{
    sio_replay before = *r;
    int would = sio_replay_check(r, c);
    if (!CHECK(memcmp(&before, r, sizeof before) == 0))
        return -1;
    int did = sio_replay_update(r, c);
    CHECK_EQ_INT(did, would);
    if (!did)
        CHECK(memcmp(&before, r, sizeof before) == 0); /* refused: nothing changed */
    else
        CHECK_EQ_INT(sio_replay_check(r, c), 0); /* now a replay */
    return did;
}

static void test_in_order(void)
{
    sio_replay r;
    sio_replay_init(&r);
    int ok = 1;
    for (uint64_t c = 0; c < 3 * W + 100; c++)
        ok &= accept(&r, c) == 1;
    CHECK(ok);
    /* every replay refused: the recent ones as seen, the old ones as too old */
    ok = 1;
    for (uint64_t c = 0; c < 3 * W + 100; c++)
        ok &= sio_replay_check(&r, c) == 0 && sio_replay_update(&r, c) == 0;
    CHECK(ok);
    CHECK_EQ_INT(sio_replay_check(&r, 3 * W + 100), 1);
}

static void test_start(void)
{
    sio_replay r;
    /* nothing accepted yet: 0 is acceptable, once */
    sio_replay_init(&r);
    CHECK_EQ_INT(accept(&r, 0), 1);
    CHECK_EQ_INT(accept(&r, 0), 0);
    CHECK_EQ_INT(accept(&r, 1), 1);
    /* first counter 5: 0..4 still acceptable (inside the window) */
    sio_replay_init(&r);
    CHECK_EQ_INT(accept(&r, 5), 1);
    for (uint64_t c = 0; c < 5; c++)
        CHECK_EQ_INT(accept(&r, c), 1);
    CHECK_EQ_INT(accept(&r, 5), 0);
    CHECK_EQ_INT(accept(&r, 3), 0);
    /* the first counter can be the largest */
    sio_replay_init(&r);
    CHECK_EQ_INT(accept(&r, UINT64_MAX), 1);
    CHECK_EQ_INT(accept(&r, UINT64_MAX), 0);
    CHECK_EQ_INT(accept(&r, 0), 0);
}

static void test_out_of_order(void)
{
    sio_replay r;
    sio_replay_init(&r);
    /* odd counters first, then the even ones below, backwards */
    for (uint64_t c = 1001; c < 1000 + W; c += 2)
        CHECK_EQ_INT(accept(&r, c), 1);
    uint64_t top = 1000 + W - 1; /* 9191 */
    for (uint64_t c = top - 1; c > top - W; c -= 2)
        CHECK_EQ_INT(accept(&r, c), 1);
    /* everything from top - W + 1 up is now seen */
    int ok = 1;
    for (uint64_t c = top - W + 1; c <= top; c++)
        ok &= sio_replay_check(&r, c) == 0;
    CHECK(ok);
    CHECK_EQ_INT(sio_replay_check(&r, top - W), 0); /* too old */
    CHECK_EQ_INT(sio_replay_check(&r, top + 1), 1);
}

static void test_edges(void)
{
    static const uint64_t tops[] = {W - 1,
                                    W,
                                    W + 1,
                                    100000,
                                    100000 + 63,
                                    100000 + 64,
                                    ((uint64_t)1 << 40) + 17,
                                    UINT64_MAX - 5,
                                    UINT64_MAX};
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
        uint64_t t = tops[i];
        sio_replay r;
        sio_replay_init(&r);
        CHECK_EQ_INT(accept(&r, t), 1);
        /* the oldest acceptable is t - W + 1; t - W is too old */
        CHECK_EQ_INT(sio_replay_check(&r, t - W + 1), 1);
        if (t >= W)
            CHECK_EQ_INT(sio_replay_check(&r, t - W), 0);
        if (t >= W + 1)
            CHECK_EQ_INT(sio_replay_check(&r, t - W - 1), 0);
        CHECK_EQ_INT(sio_replay_check(&r, t - 1), 1);
        CHECK_EQ_INT(sio_replay_check(&r, t), 0);
        if (t < UINT64_MAX)
            CHECK_EQ_INT(sio_replay_check(&r, t + 1), 1);
        /* accept the oldest; it is then a replay */
        CHECK_EQ_INT(accept(&r, t - W + 1), 1);
        CHECK_EQ_INT(accept(&r, t - W + 1), 0);
        if (t >= W)
            CHECK_EQ_INT(accept(&r, t - W), 0);
        /* one step forward pushes it out: it is now exactly top - W */
        if (t < UINT64_MAX) {
            CHECK_EQ_INT(accept(&r, t + 1), 1);
            CHECK_EQ_INT(sio_replay_check(&r, t - W + 1), 0);
            CHECK_EQ_INT(sio_replay_check(&r, t - W + 2), 1);
        }
    }
    /* top below W - 1: every unseen counter down to 0 is inside */
    sio_replay r;
    sio_replay_init(&r);
    CHECK_EQ_INT(accept(&r, 100), 1);
    CHECK_EQ_INT(accept(&r, 0), 1);
    CHECK_EQ_INT(accept(&r, 0), 0);
    sio_replay_init(&r);
    CHECK_EQ_INT(accept(&r, W - 1), 1);
    CHECK_EQ_INT(accept(&r, 0), 1); /* (W-1) - 0 = W - 1 < W */
    sio_replay_init(&r);
    CHECK_EQ_INT(accept(&r, W), 1);
    CHECK_EQ_INT(accept(&r, 0), 0); /* W - 0 = W: too old */
    CHECK_EQ_INT(accept(&r, 1), 1);
}

static void test_huge_jumps(void)
{
    sio_replay r;
    sio_replay_init(&r);
    for (uint64_t c = 0; c < 100; c++)
        CHECK_EQ_INT(accept(&r, c), 1);
    const uint64_t h = (uint64_t)1 << 63;
    CHECK_EQ_INT(accept(&r, h), 1);
    CHECK_EQ_INT(accept(&r, 50), 0); /* left far behind */
    CHECK_EQ_INT(accept(&r, h - 1), 1);
    CHECK_EQ_INT(accept(&r, h - W + 1), 1);
    CHECK_EQ_INT(accept(&r, h - W), 0);
    CHECK_EQ_INT(accept(&r, h - 1), 0);
    CHECK_EQ_INT(accept(&r, h + 3), 1);
    CHECK_EQ_INT(accept(&r, h + 1), 1);
    CHECK_EQ_INT(accept(&r, h), 0);
    /* to the very end */
    CHECK_EQ_INT(accept(&r, UINT64_MAX), 1);
    CHECK_EQ_INT(accept(&r, UINT64_MAX), 0);
    CHECK_EQ_INT(accept(&r, h + 3), 0);
    CHECK_EQ_INT(accept(&r, UINT64_MAX - 1), 1);
    CHECK_EQ_INT(accept(&r, UINT64_MAX - 1), 0);
    CHECK_EQ_INT(accept(&r, UINT64_MAX - W + 1), 1);
    CHECK_EQ_INT(accept(&r, UINT64_MAX - W), 0);
    int ok = 1;
    for (uint64_t c = UINT64_MAX - 2; c > UINT64_MAX - W + 1; c -= 3)
        ok &= accept(&r, c) == 1;
    CHECK(ok);
    for (uint64_t c = UINT64_MAX - 2; c > UINT64_MAX - W + 1; c -= 3)
        ok &= accept(&r, c) == 0;
    CHECK(ok);
    /* nothing acceptable is left above; 0 is far too old */
    CHECK_EQ_INT(accept(&r, 0), 0);

    /* a jump from 0 straight to 2^64-1, then counters inside its window */
    sio_replay_init(&r);
    CHECK_EQ_INT(accept(&r, 0), 1);
    CHECK_EQ_INT(accept(&r, UINT64_MAX), 1);
    CHECK_EQ_INT(accept(&r, UINT64_MAX - 100), 1);
    CHECK_EQ_INT(accept(&r, UINT64_MAX - 100), 0);
    CHECK_EQ_INT(accept(&r, 0), 0);
}

/* ------------------------------------------------------------ reference model */

/* Counters live in [base, base + span): a byte per counter for the set. */
typedef struct model {
    uint64_t base, span, top;
    int any;
    uint8_t *seen;
} model;

static int model_accept(model *m, uint64_t c, int commit)
{
    uint64_t i = c - m->base;
    if (i >= m->span) {
        fprintf(stderr, "model: counter %llu outside the range\n", (unsigned long long)c);
        abort();
    }
    int ok = !m->seen[i] && (!m->any || c > m->top || m->top - c < W);
    if (ok && commit) {
        m->seen[i] = 1;
        if (!m->any || c > m->top)
            m->top = c;
        m->any = 1;
    }
    return ok;
}

static void shuffle(uint64_t *a, size_t n)
{
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(rnd() % (i + 1));
        uint64_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* Feeds seq to the window and the model; every answer must agree, and
 * probes of check() at random counters too. */
static void run_against_model(const char *name, uint64_t base, const uint64_t *seq, size_t n,
                              uint64_t span)
{
    model m = {base, span, 0, 0, calloc(span, 1)};
    sio_replay r;
    sio_replay_init(&r);
    size_t mismatches = 0, accepted = 0;
    if (!CHECK(m.seen != NULL))
        return;
    for (size_t i = 0; i < n; i++) {
        uint64_t c = seq[i];
        int want = model_accept(&m, c, 0);
        int got_check = sio_replay_check(&r, c);
        int got = sio_replay_update(&r, c);
        model_accept(&m, c, 1);
        if (got != want || got_check != want) {
            if (mismatches++ == 0)
                fprintf(stderr,
                        "first mismatch at %zu: counter %llu, top %llu, want %d got %d/%d\n", i,
                        (unsigned long long)c, (unsigned long long)r.top, want, got_check, got);
        }
        accepted += (size_t)got;
        if (i % 16 == 0) {
            uint64_t p = base + rnd() % span;
            if (sio_replay_check(&r, p) != model_accept(&m, p, 0))
                mismatches++;
        }
    }
    /* finally every counter of the range */
    for (uint64_t c = 0; c < span; c++)
        if (sio_replay_check(&r, base + c) != model_accept(&m, base + c, 0))
            mismatches++;
    if (!CHECK_EQ_UINT(mismatches, 0))
        fprintf(stderr, "model %s: %zu mismatches\n", name, mismatches);
    printf("model %-36s %6zu counters, %6zu accepted, %s\n", name, n, accepted,
           mismatches ? "DISAGREE" : "agree");
    free(m.seen);
}

static void test_model(void)
{
    const size_t n = 100000;
    const uint64_t burst_span = 8 * (uint64_t)n;
    uint64_t *seq = malloc(2 * n * sizeof *seq);
    if (!CHECK(seq != NULL))
        return;
    /* the same runs at three places, the last ending at 2^64-1 */
    static const char *const where[] = {"from 0", "from 2^40", "up to 2^64-1"};
    char name[96];
    for (size_t b = 0; b < 3; b++) {
        uint64_t base = b == 0 ? 0 : b == 1 ? ((uint64_t)1 << 40) + 12345 : UINT64_MAX - n + 1;
        /* 1. a full random shuffle of 100k counters: most arrive too late */
        for (size_t i = 0; i < n; i++)
            seq[i] = base + i;
        shuffle(seq, n);
        snprintf(name, sizeof name, "shuffle, %s", where[b]);
        run_against_model(name, base, seq, n, n);
        /* 2. local disorder: each counter swapped with one up to ~1.5
         *    windows later, so some land just inside the edge and some
         *    just outside */
        for (size_t i = 0; i < n; i++)
            seq[i] = base + i;
        for (size_t i = 0; i < n; i++) {
            size_t j = i + (size_t)(rnd() % (3 * SIO_REPLAY_WINDOW / 2));
            if (j < n) {
                uint64_t t = seq[i];
                seq[i] = seq[j];
                seq[j] = t;
            }
        }
        snprintf(name, sizeof name, "local disorder, %s", where[b]);
        run_against_model(name, base, seq, n, n);
        /* 3. bursts and duplicates: 200k counters, a third new highest, the
         *    rest drawn from up to W + 200 below it (replays, too old);
         *    now and then a jump forward of 1..12000 */
        uint64_t bbase = b == 2 ? UINT64_MAX - burst_span + 1 : base, at = 0;
        for (size_t i = 0; i < 2 * n; i++) {
            uint64_t r = rnd();
            if (r % 1000 == 0)
                at += 1 + (r >> 8) % 12000;
            if (at > burst_span - 1)
                at = burst_span - 1;
            uint64_t back = (r >> 32) % (W + 200);
            uint64_t c = back > at ? 0 : at - back;
            if ((r >> 16) % 3 == 0 && at < burst_span - 1)
                c = at++;
            seq[i] = bbase + c;
        }
        snprintf(name, sizeof name, "bursts+duplicates, %s", where[b]);
        run_against_model(name, bbase, seq, 2 * n, burst_span);
    }
    free(seq);
}

/* ------------------------------------------------------------ flaw 8 */

static void test_jump_remembers(void)
{
    static const uint64_t jumps[] = {1,    63,   64,   65,   127,  128,  1000,
                                     8190, 8191, 8192, 8193, 8256, 8257, 20000};
    for (size_t j = 0; j < sizeof jumps / sizeof jumps[0]; j++) {
        uint64_t d = jumps[j];
        for (uint64_t start = 10000; start < 10000 + 64; start += 21) {
            sio_replay r;
            sio_replay_init(&r);
            /* the even counters of [start, start + 300) seen, the odd ones not */
            uint64_t last = start + 298;
            for (uint64_t c = start; c <= last; c += 2)
                CHECK_EQ_INT(sio_replay_update(&r, c), 1);
            uint64_t top = last + d;
            CHECK_EQ_INT(sio_replay_update(&r, top), 1);
            int ok = 1;
            for (uint64_t c = start - 5; c < start + 300; c++) {
                int inside = top - c < W;
                int seen = (c >= start && c <= last && (c - start) % 2 == 0) || c == top;
                /* inside the window: the seen ones are replays, the
                 * others acceptable; below it: all too old */
                int want = inside && !seen;
                ok &= sio_replay_check(&r, c) == want;
            }
            /* nothing between the old top and the new one was seen: those
             * inside the window are acceptable */
            for (uint64_t c = last + 1; c < top; c += 1 + c % 7)
                ok &= sio_replay_check(&r, c) == (top - c < W);
            ok &= sio_replay_check(&r, top) == 0;
            if (!CHECK(ok))
                fprintf(stderr, "jump %llu from %llu forgot or mixed up\n", (unsigned long long)d,
                        (unsigned long long)last);
            /* the replays really are refused by update too */
            for (uint64_t c = start; c <= last; c += 2)
                ok &= sio_replay_update(&r, c) == 0;
            CHECK(ok);
        }
    }
}

/* A jump costs O(SIO_REPLAY_WORDS): a million jumps of ~2^60 are instant. */
static void test_jump_cost(void)
{
    sio_replay r;
    sio_replay_init(&r);
    uint64_t c = 0;
    int ok = 1;
    for (int i = 0; i < 1000000 && ok; i++) {
        c += (rnd() >> 44) + 1; /* 1 .. 2^20 */
        ok &= sio_replay_update(&r, c) == 1;
    }
    for (int i = 0; i < 15 && ok; i++) {
        c += (rnd() >> 4) + 1; /* up to 2^60 */
        ok &= sio_replay_update(&r, c) == 1 && sio_replay_check(&r, c) == 0;
    }
    CHECK(ok);
}

int main(void)
{
    test_in_order();
    test_start();
    test_out_of_order();
    test_edges();
    test_huge_jumps();
    test_model();
    test_jump_remembers();
    test_jump_cost();
    return test_summary("replay");
}
