/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded byte pipe between two threads (a ring buffer under a mutex):
 * what carries a streamed body from the thread that receives it to the one
 * that sends it on, in constant memory. Waits are bounded by a timeout, so
 * that a peer that stops reading or writing cannot hold a thread forever.
 * Also the two small buffer helpers the OHTTP files share.
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway/ohttp_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int tw_pipe_init(tw_pipe *p, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->buf = malloc(cap);
    if (p->buf == NULL)
        return -1;
    p->cap = cap;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&p->mu, NULL) != 0 || pthread_cond_init(&p->cv, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        free(p->buf);
        return -1;
    }
    pthread_condattr_destroy(&ca);
    return 0;
}

void tw_pipe_destroy(tw_pipe *p)
{
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->buf);
    p->buf = NULL;
}

static struct timespec deadline_of(uint32_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Makes the ring contiguous in a buffer of new_cap (>= len). */
static int regrow(tw_pipe *p, size_t new_cap)
{
    uint8_t *nb = malloc(new_cap);
    if (nb == NULL)
        return -1;
    size_t first = p->cap - p->head < p->len ? p->cap - p->head : p->len;
    memcpy(nb, p->buf + p->head, first);
    memcpy(nb + first, p->buf, p->len - first);
    free(p->buf);
    p->buf = nb;
    p->cap = new_cap;
    p->head = 0;
    return 0;
}

int tw_pipe_write(tw_pipe *p, const void *data, size_t len, uint32_t timeout_ms)
{
    const uint8_t *d = data;
    struct timespec dl = deadline_of(timeout_ms);
    pthread_mutex_lock(&p->mu);
    while (len > 0) {
        if (p->gone) {
            pthread_mutex_unlock(&p->mu);
            return -1;
        }
        if (p->len == p->cap && p->unbounded_until_reader && !p->reader) {
            size_t want = p->cap * 2;
            if (want > p->hard_cap || regrow(p, want) != 0) {
                pthread_mutex_unlock(&p->mu);
                return -1;
            }
        }
        if (p->len == p->cap) {
            if (pthread_cond_timedwait(&p->cv, &p->mu, &dl) == ETIMEDOUT) {
                pthread_mutex_unlock(&p->mu);
                return -1;
            }
            continue;
        }
        size_t tail = (p->head + p->len) % p->cap;
        size_t room = p->cap - p->len;
        size_t run = p->cap - tail < room ? p->cap - tail : room;
        size_t n = len < run ? len : run;
        memcpy(p->buf + tail, d, n);
        p->len += n;
        d += n;
        len -= n;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return 0;
}

long tw_pipe_read(tw_pipe *p, void *out, size_t len, uint32_t timeout_ms)
{
    struct timespec dl = deadline_of(timeout_ms);
    long got;
    pthread_mutex_lock(&p->mu);
    p->reader = 1;
    for (;;) {
        if (p->len > 0) {
            size_t run = p->cap - p->head < p->len ? p->cap - p->head : p->len;
            size_t n = len < run ? len : run;
            memcpy(out, p->buf + p->head, n);
            p->head = (p->head + n) % p->cap;
            p->len -= n;
            if (p->len == 0)
                p->head = 0;
            pthread_cond_broadcast(&p->cv);
            got = (long)n;
            break;
        }
        if (p->error) {
            got = -1;
            break;
        }
        if (p->eof) {
            got = 0;
            break;
        }
        if (pthread_cond_timedwait(&p->cv, &p->mu, &dl) == ETIMEDOUT) {
            got = -1;
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return got;
}

void tw_pipe_close_write(tw_pipe *p, int error)
{
    pthread_mutex_lock(&p->mu);
    p->eof = 1;
    if (error)
        p->error = error;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void tw_pipe_close_read(tw_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->gone = 1;
    p->len = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void tw_pipe_grow_until_reader(tw_pipe *p, size_t hard_cap)
{
    pthread_mutex_lock(&p->mu);
    p->unbounded_until_reader = 1;
    p->hard_cap = hard_cap;
    pthread_mutex_unlock(&p->mu);
}

int tw_pipe_unread_over(tw_pipe *p, size_t len, size_t limit)
{
    pthread_mutex_lock(&p->mu);
    int over = !p->reader && !p->gone && (p->len > limit || len > limit - p->len);
    pthread_mutex_unlock(&p->mu);
    return over;
}

/* ------------------------------------------------------------- helpers */

char *tw_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

int tw_array_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return -1;
        n *= 2;
    }
    void *q = realloc(*p, n * elem);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}
