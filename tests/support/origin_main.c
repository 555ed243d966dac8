/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ohttp-test-origin: the tests' origin server (origin.c) as a program, for
 * the shell tests of the twoway OHTTP commands (tests/cli/twoway_ohttp.sh).
 *
 *   ohttp-test-origin PORT-FILE     listens on 127.0.0.1 (a port of its
 *                                   own), writes the port to PORT-FILE,
 *                                   runs until SIGINT or SIGTERM
 */
#define _POSIX_C_SOURCE 200809L

#include "origin.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ohttp-test-origin PORT-FILE\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    origin *o = NULL;
    unsigned port = 0;
    if (origin_start(&o, &port) != 0) {
        fprintf(stderr, "ohttp-test-origin: cannot start\n");
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, argv[1]) != 0) {
        fprintf(stderr, "ohttp-test-origin: cannot write %s\n", argv[1]);
        origin_stop(o);
        return 1;
    }
    int sig;
    sigwait(&set, &sig);
    origin_stop(o);
    return 0;
}
