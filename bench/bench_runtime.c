/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-runtime: the runtime's benchmarks (runtime_bench.c says what each
 * measures and beside what). `secureio bench` runs the same code.
 *
 * Usage: bench-runtime [--quick] [NAME...]
 */
#include "runtime_bench.h"

int main(int argc, char **argv)
{
    return runtime_bench_main(argc, argv, "bench-runtime");
}
