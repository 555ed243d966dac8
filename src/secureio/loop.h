/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event loop of the runtime (session.h): epoll over the descriptors
 * of its items (sessions, listeners), an eventfd to wake it, the engines'
 * timers, and one mutex. A loop runs on a thread of its own, or on the
 * application's (no_thread: it calls sio_loop_run_once). Loops are counted
 * references: a session or listener holds one, and so does the application
 * for a loop it made; the thread stops when the last one goes.
 *
 * Locking: the mutex guards the loop and everything on it (engines,
 * queues). It is released only around epoll_wait and while a caller waits
 * on the condition variable; it is recursive so that a callback run by the
 * loop may call back into the API (which must then not wait: see
 * sio_loop_on_thread). Internal: not installed.
 */
#ifndef SECUREIO_LOOP_H
#define SECUREIO_LOOP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sio_loop sio_loop;
typedef struct sio_item sio_item;

typedef struct sio_item_ops {
    /* One of the item's descriptors (slot 0 or 1) has events (EPOLLIN,
     * EPOLLOUT, EPOLLERR...). */
    void (*io)(sio_item *it, int slot, uint32_t events, uint64_t now);
    /* Flush output and run timers: the item is marked dirty, or its
     * deadline came. */
    void (*work)(sio_item *it, uint64_t now);
    /* The next time work() is due (UINT64_MAX: none). */
    uint64_t (*deadline)(const sio_item *it);
    /* Frees the item's memory (after sio_loop_remove, once no event of
     * the loop can point to it any more). */
    void (*destroy)(sio_item *it);
} sio_item_ops;

/* A descriptor an item watches (what epoll hands back). */
typedef struct sio_watch {
    sio_item *it;
    int slot;
} sio_watch;

struct sio_item {
    const sio_item_ops *ops;
    sio_loop *loop;
    int dirty;
    sio_item *prev, *next; /* the loop's list of items */
    sio_watch watch[2];    /* up to two descriptors (a pair of pipes) */
};

struct sio_loop {
    pthread_mutex_t mu;
    pthread_cond_t cond; /* broadcast after each turn: waiters check their condition */
    int epfd, wakefd;
    int has_thread, stop, woken;
    int destroy_on_exit; /* the last reference went on the loop's thread */
    int no_pwait2;       /* the kernel has no epoll_pwait2 */
    /* while the thread waits in epoll_wait: when it wakes by itself (0 while
     * it runs; UINT64_MAX: no timer) */
    uint64_t sleeping_until;
    /* without a thread: the time the application was last told to call
     * back by (secureio_session_timeout; 0: it never asked, so it is not
     * sleeping in a poll loop of its own but calls our blocking functions,
     * which turn the loop themselves) */
    uint64_t app_until;
    pthread_t thread;
    /* without a thread: the thread inside sio_loop_run_once (its callbacks
     * run there, so it counts as the loop's thread meanwhile) */
    int in_turn;
    pthread_t turn_thread;
    unsigned refs;
    sio_item *items;
    sio_item *graveyard; /* removed, to be destroyed after the events of this turn */
    /* buffers the loop's thread uses for every item (receive and send batches) */
    uint8_t *rxbuf, *txbuf;
};

/* Microseconds of CLOCK_MONOTONIC. */
uint64_t sio_now_us(void);

/* A loop (one reference), with its thread or without. SECUREIO_OK, or an
 * error (SECUREIO_ERR_NOMEM, SECUREIO_ERR_IO with errno). */
int sio_loop_new(sio_loop **out, int with_thread);
void sio_loop_ref(sio_loop *l);
/* Drops a reference; the last one stops the thread and frees the loop (on
 * the loop's own thread, inside a callback: the thread frees it when its
 * turn is over). */
void sio_loop_unref(sio_loop *l);

void sio_loop_lock(sio_loop *l);
void sio_loop_unlock(sio_loop *l);
/* 1 when the caller is the loop's thread (inside a callback). */
int sio_loop_on_thread(const sio_loop *l);
/* The calling thread runs the loop's callbacks from here to
 * sio_loop_leave(returned value): input the application hands in, a
 * close or a free that completes writes. Inside, sio_loop_on_thread() is 1
 * (blocking calls from a callback answer SECUREIO_ERR_STATE instead of
 * waiting for themselves). */
const sio_loop *sio_loop_enter(const sio_loop *l);
void sio_loop_leave(const sio_loop *prev);
/* Waits on the loop's condition (mutex held), until deadline_us
 * (UINT64_MAX: for ever): 0, or -1 when the time passed. A loop without a
 * thread that nobody is turning is turned by the waiter instead. */
int sio_loop_wait(sio_loop *l, uint64_t deadline_us);
void sio_loop_broadcast(sio_loop *l);

/* Items. add and remove with the mutex held. Before remove, stop watching
 * the item's descriptors; the loop destroys it (ops->destroy) once no
 * event of the turn in progress can reach it. */
void sio_loop_add(sio_loop *l, sio_item *it, const sio_item_ops *ops);
void sio_loop_remove(sio_loop *l, sio_item *it);
/* Watches fd for events (EPOLLIN, EPOLLOUT) on behalf of it, as its
 * descriptor slot (0 or 1): op EPOLL_CTL_ADD, _MOD (events 0: nothing but
 * errors), _DEL. */
int sio_loop_watch(sio_loop *l, sio_item *it, int slot, int fd, uint32_t events, int op);
/* The item has work (output, or its deadline moved): the loop runs its
 * work() soon, woken if needed. */
void sio_loop_dirty(sio_loop *l, sio_item *it);
/* The same for work due at deadline (its new deadline): the loop's thread
 * is woken only if it would sleep past it, so that a burst of writes that
 * wait for the send delay costs no wake-up each. */
void sio_loop_dirty_by(sio_loop *l, sio_item *it, uint64_t deadline);

/* One turn without a thread: the work due, then the descriptors ready
 * (waiting for them until the next deadline or until_us, whichever is
 * first: 0 does not wait), then the work they made. Not from inside a
 * turn. */
void sio_loop_run_once(sio_loop *l, uint64_t until_us);
/* Milliseconds to the next deadline of its items (-1: none, 0: now). */
int sio_loop_timeout_ms(sio_loop *l);

/* Output a descriptor did not take, kept to go first when it can: room for
 * need more bytes after the *len used of *buf (from *off on, *cap
 * allocated; a buffer all sent, *off == *len, starts over). The place to
 * write them (the caller then adds need to *len), or NULL without memory
 * (or when the sizes would overflow). */
uint8_t *sio_hold_reserve(uint8_t **buf, size_t *off, size_t *len, size_t *cap, size_t need);

/* The loop's shared buffers: a batch of SIO_LOOP_BATCH slots of
 * SIO_LOOP_SLOT bytes (a datagram each, or one stream read) to receive
 * into, and as many to send from. Allocated once (their pages are touched
 * only as they are used). */
#define SIO_LOOP_BATCH 32u
#define SIO_LOOP_SLOT (65535u + 2u)
#define SIO_LOOP_BUF ((size_t)SIO_LOOP_BATCH * SIO_LOOP_SLOT)

#endif /* SECUREIO_LOOP_H */
