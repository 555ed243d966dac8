/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The timing harness of the benchmarks: best-of-rounds rates, measured
 * interleaved with the raw primitive so that both see the same load.
 */
#ifndef SECUREIO_BENCH_UTIL_H
#define SECUREIO_BENCH_UTIL_H

typedef void (*bench_fn)(void *arg);

double bench_now(void);

/* Calls of fn per second: the best of several rounds of `seconds` each. */
double bench_rate(bench_fn fn, void *arg, double seconds);

/* The best rates of ours and raw, measured alternately in three turns. */
void bench_pair(bench_fn ours, bench_fn raw, void *arg, double seconds, double *ours_rate,
                double *raw_rate);

/* One raw OpenSSL DH derive of sk with pk (exits on failure). */
struct evp_pkey_st;
void bench_raw_derive(struct evp_pkey_st *sk, struct evp_pkey_st *pk);

#endif /* SECUREIO_BENCH_UTIL_H */
