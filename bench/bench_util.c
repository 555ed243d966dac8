/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "bench_util.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 5

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_rate(bench_fn fn, void *arg, double seconds)
{
    double best = 0;
    for (int r = 0; r < ROUNDS; r++) {
        long n = 0;
        double t0 = bench_now(), t;
        do {
            for (int i = 0; i < 4; i++)
                fn(arg);
            n += 4;
            t = bench_now() - t0;
        } while (t < seconds);
        double rate = (double)n / t;
        if (rate > best)
            best = rate;
    }
    return best;
}

void bench_pair(bench_fn ours, bench_fn raw, void *arg, double seconds, double *ours_rate,
                double *raw_rate)
{
    double a = 0, b = 0;
    for (int i = 0; i < 3; i++) {
        double x = bench_rate(ours, arg, seconds / 3), y = bench_rate(raw, arg, seconds / 3);
        if (x > a)
            a = x;
        if (y > b)
            b = y;
    }
    *ours_rate = a;
    *raw_rate = b;
}

void bench_raw_derive(EVP_PKEY *sk, EVP_PKEY *pk)
{
    uint8_t out[66];
    size_t len = sizeof out;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, sk, NULL);
    if (ctx == NULL || EVP_PKEY_derive_init(ctx) <= 0 ||
        EVP_PKEY_derive_set_peer_ex(ctx, pk, 0) <= 0 || EVP_PKEY_derive(ctx, out, &len) <= 0) {
        fprintf(stderr, "bench: raw DH derive failed\n");
        exit(1);
    }
    EVP_PKEY_CTX_free(ctx);
}
