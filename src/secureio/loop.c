/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime's event loop (loop.h): epoll, an eventfd, a thread or none.
 */
#define _GNU_SOURCE

#include "loop.h"

#include <secureio/secureio.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define SIO_LOOP_EVENTS 64

uint64_t sio_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void sio_loop_lock(sio_loop *l)
{
    pthread_mutex_lock(&l->mu);
}

void sio_loop_unlock(sio_loop *l)
{
    pthread_mutex_unlock(&l->mu);
}

/* The loop whose callbacks this thread is running outside the loop's own
 * thread (sio_loop_enter). */
static __thread const sio_loop *inside;

const sio_loop *sio_loop_enter(const sio_loop *l)
{
    const sio_loop *prev = inside;
    inside = l;
    return prev;
}

void sio_loop_leave(const sio_loop *prev)
{
    inside = prev;
}

int sio_loop_on_thread(const sio_loop *l)
{
    if (inside == l)
        return 1;
    if (l->has_thread)
        return pthread_equal(pthread_self(), l->thread);
    return l->in_turn && pthread_equal(pthread_self(), l->turn_thread);
}

void sio_loop_broadcast(sio_loop *l)
{
    pthread_cond_broadcast(&l->cond);
}

int sio_loop_wait(sio_loop *l, uint64_t deadline_us)
{
    if (!l->has_thread && !l->in_turn) {
        /* no thread and nobody in a turn: the waiter runs one */
        sio_loop_run_once(l, deadline_us);
        return deadline_us != UINT64_MAX && sio_now_us() >= deadline_us ? -1 : 0;
    }
    if (deadline_us == UINT64_MAX) {
        pthread_cond_wait(&l->cond, &l->mu);
        return 0;
    }
    uint64_t now = sio_now_us();
    if (now >= deadline_us)
        return -1;
    /* the condition variable runs on CLOCK_MONOTONIC (sio_loop_new) */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (deadline_us - now) % 1000000u * 1000u;
    ts.tv_sec += (time_t)((deadline_us - now) / 1000000u + ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return pthread_cond_timedwait(&l->cond, &l->mu, &ts) == ETIMEDOUT ? -1 : 0;
}

static void wake(sio_loop *l)
{
    if (l->woken)
        return; /* a wake is pending: one is enough */
    l->woken = 1;
    uint64_t one = 1;
    ssize_t n = write(l->wakefd, &one, sizeof one);
    (void)n; /* a full eventfd is awake anyway */
}

void sio_loop_dirty(sio_loop *l, sio_item *it)
{
    it->dirty = 1;
    if (!sio_loop_on_thread(l))
        wake(l);
}

void sio_loop_dirty_by(sio_loop *l, sio_item *it, uint64_t deadline)
{
    it->dirty = 1; /* (its work runs at the loop's next turn, whenever) */
    if (sio_loop_on_thread(l))
        return;
    /* a loop without a thread sleeps in its application's poll, until the
     * time it was told (or in one of our blocking calls) */
    uint64_t until = l->has_thread || l->sleeping_until != 0 ? l->sleeping_until : l->app_until;
    if (deadline < until)
        wake(l);
}

void sio_loop_add(sio_loop *l, sio_item *it, const sio_item_ops *ops)
{
    it->ops = ops;
    it->loop = l;
    it->dirty = 1;
    it->prev = NULL;
    it->next = l->items;
    if (l->items != NULL)
        l->items->prev = it;
    l->items = it;
    if (!sio_loop_on_thread(l))
        wake(l);
}

void sio_loop_remove(sio_loop *l, sio_item *it)
{
    if (it->prev != NULL)
        it->prev->next = it->next;
    else if (l->items == it)
        l->items = it->next;
    if (it->next != NULL)
        it->next->prev = it->prev;
    it->loop = NULL;
    it->prev = NULL;
    it->next = l->graveyard;
    l->graveyard = it;
}

static void bury(sio_loop *l)
{
    while (l->graveyard != NULL) {
        sio_item *it = l->graveyard;
        l->graveyard = it->next;
        it->ops->destroy(it);
    }
}

int sio_loop_watch(sio_loop *l, sio_item *it, int slot, int fd, uint32_t events, int op)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    it->watch[slot].it = it;
    it->watch[slot].slot = slot;
    ev.events = events;
    ev.data.ptr = &it->watch[slot];
    if (epoll_ctl(l->epfd, op, fd, op == EPOLL_CTL_DEL ? NULL : &ev) != 0)
        return SECUREIO_ERR_IO;
    return SECUREIO_OK;
}

/* The work due or asked for, on every item. */
static void run_work(sio_loop *l, uint64_t now)
{
    sio_item *it = l->items;
    while (it != NULL) {
        sio_item *next = it->next; /* work() may remove it */
        if (it->dirty || it->ops->deadline(it) <= now) {
            it->dirty = 0;
            it->ops->work(it, now);
            if (next != NULL && next->loop != l)
                break; /* (work() removed the next one too: the others' turn
                        * is the next pass, which comes at once) */
        }
        it = next;
    }
}

static uint64_t next_deadline(const sio_loop *l)
{
    uint64_t d = UINT64_MAX;
    for (const sio_item *it = l->items; it != NULL; it = it->next) {
        if (it->dirty)
            return 0;
        uint64_t t = it->ops->deadline(it);
        if (t < d)
            d = t;
    }
    return d;
}

int sio_loop_timeout_ms(sio_loop *l)
{
    uint64_t d = next_deadline(l), now = sio_now_us();
    l->app_until = d;
    if (d == UINT64_MAX)
        return -1;
    if (d <= now)
        return 0;
    uint64_t ms = (d - now + 999u) / 1000u;
    return ms > 60000u ? 60000 : (int)ms;
}

/* Waits in epoll until until_us at the latest (UINT64_MAX: no limit; 0 or
 * past: not at all), to the microsecond where the kernel has
 * epoll_pwait2 (a send delay of 50 us must not become a millisecond). */
static int wait_events(sio_loop *l, struct epoll_event *evs, uint64_t until_us)
{
    if (until_us == UINT64_MAX)
        return epoll_wait(l->epfd, evs, SIO_LOOP_EVENTS, -1);
    uint64_t now = sio_now_us(), left = until_us > now ? until_us - now : 0;
    if (left > 60000000u)
        left = 60000000u;
    if (!l->no_pwait2) {
        struct timespec ts = {(time_t)(left / 1000000u), (long)(left % 1000000u) * 1000L};
        int n = epoll_pwait2(l->epfd, evs, SIO_LOOP_EVENTS, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        l->no_pwait2 = 1; /* an older kernel: milliseconds, rounded up */
    }
    return epoll_wait(l->epfd, evs, SIO_LOOP_EVENTS, (int)((left + 999u) / 1000u));
}

/* The descriptors ready by until_us (mutex held; released while
 * waiting). */
static void run_io(sio_loop *l, uint64_t until_us)
{
    struct epoll_event evs[SIO_LOOP_EVENTS];
    l->sleeping_until = until_us;
    sio_loop_unlock(l);
    int n = wait_events(l, evs, until_us);
    sio_loop_lock(l);
    l->sleeping_until = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.ptr == NULL) { /* the eventfd */
            uint64_t v;
            ssize_t r = read(l->wakefd, &v, sizeof v);
            (void)r;
            l->woken = 0;
            continue;
        }
        sio_watch *w = evs[i].data.ptr;
        sio_item *it = w->it;
        if (it->loop == l) /* (not removed since epoll_wait returned) */
            it->ops->io(it, w->slot, evs[i].events, sio_now_us());
    }
    bury(l); /* no event of this turn is left to reach them */
}

static void loop_destroy(sio_loop *l);

static void *loop_thread(void *arg)
{
    sio_loop *l = arg;
    /* writes to a pipe whose reader is gone: EPIPE, not a signal that would
     * end the application (sockets use MSG_NOSIGNAL) */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sio_loop_lock(l);
    while (!l->stop) {
        run_work(l, sio_now_us());
        sio_loop_broadcast(l);
        if (l->stop)
            break;
        run_io(l, next_deadline(l));
    }
    int destroy = l->destroy_on_exit;
    sio_loop_unlock(l);
    if (destroy)
        loop_destroy(l);
    return NULL;
}

void sio_loop_run_once(sio_loop *l, uint64_t until_us)
{
    l->in_turn = 1;
    l->turn_thread = pthread_self();
    run_work(l, sio_now_us());
    uint64_t d = next_deadline(l);
    run_io(l, d < until_us ? d : until_us);
    run_work(l, sio_now_us());
    l->in_turn = 0;
    sio_loop_broadcast(l);
}

int sio_loop_new(sio_loop **out, int with_thread)
{
    *out = NULL;
    sio_loop *l = calloc(1, sizeof *l);
    if (l == NULL)
        return SECUREIO_ERR_NOMEM;
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&l->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cond, &ca);
    pthread_condattr_destroy(&ca);
    l->refs = 1;
    l->app_until = 0; /* (the application has not asked when to call back yet) */
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    l->rxbuf = malloc(SIO_LOOP_BUF);
    l->txbuf = malloc(SIO_LOOP_BUF);
    int rc = SECUREIO_OK;
    if (l->rxbuf == NULL || l->txbuf == NULL)
        rc = SECUREIO_ERR_NOMEM;
    else if (l->epfd < 0 || l->wakefd < 0)
        rc = SECUREIO_ERR_IO;
    if (rc == SECUREIO_OK) {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.ptr = NULL;
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) != 0)
            rc = SECUREIO_ERR_IO;
    }
    if (rc == SECUREIO_OK && with_thread) {
        if (pthread_create(&l->thread, NULL, loop_thread, l) != 0)
            rc = SECUREIO_ERR_NOMEM;
        else
            l->has_thread = 1;
    }
    if (rc != SECUREIO_OK) {
        int saved = errno;
        l->refs = 0;
        sio_loop_unref(l);
        errno = saved;
        return rc;
    }
    *out = l;
    return SECUREIO_OK;
}

void sio_loop_ref(sio_loop *l)
{
    sio_loop_lock(l);
    l->refs++;
    sio_loop_unlock(l);
}

void sio_loop_unref(sio_loop *l)
{
    if (l == NULL)
        return;
    sio_loop_lock(l);
    if (l->refs > 0 && --l->refs > 0) {
        sio_loop_unlock(l);
        return;
    }
    l->stop = 1;
    wake(l);
    if (l->has_thread && pthread_equal(pthread_self(), l->thread)) {
        /* the last reference went inside a callback, on the loop's own
         * thread: the thread ends its turn, then frees the loop */
        l->destroy_on_exit = 1;
        pthread_detach(l->thread);
        sio_loop_unlock(l);
        return;
    }
    sio_loop_unlock(l);
    if (l->has_thread)
        pthread_join(l->thread, NULL);
    loop_destroy(l);
}

static void loop_destroy(sio_loop *l)
{
    bury(l);
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->wakefd >= 0)
        close(l->wakefd);
    free(l->rxbuf);
    free(l->txbuf);
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

uint8_t *sio_hold_reserve(uint8_t **buf, size_t *off, size_t *len, size_t *cap, size_t need)
{
    if (*off > 0 && *off == *len)
        *off = *len = 0;
    if (*cap - *len < need) {
        size_t c = *cap ? *cap : 4096;
        while (c - *len < need) {
            if (c > SIZE_MAX / 2)
                return NULL;
            c *= 2;
        }
        uint8_t *n = realloc(*buf, c);
        if (n == NULL)
            return NULL;
        *buf = n;
        *cap = c;
    }
    return *buf + *len;
}
