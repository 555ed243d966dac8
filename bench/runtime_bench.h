/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime's benchmarks (runtime_bench.c), shared by the bench-runtime
 * program and `secureio bench`.
 */
#ifndef SECUREIO_RUNTIME_BENCH_H
#define SECUREIO_RUNTIME_BENCH_H

/* argv[1..]: [--quick] [NAME...]; prog names the caller in messages. The
 * exit code (2: a wrong argument). */
int runtime_bench_main(int argc, char **argv, const char *prog);

#endif /* SECUREIO_RUNTIME_BENCH_H */
