/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pull interface: sealers and openers driven by a read callback, with
 * their own bounded buffers (one chunk of plaintext, one of output).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "message_internal.h"

long twoway_read_fd(void *src, uint8_t *buf, size_t len)
{
    int fd = *(const int *)src;
    if (len > (size_t)LONG_MAX)
        len = (size_t)LONG_MAX;
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return -1;
    }
}

void tw_pull_clear(tw_pull *p)
{
    if (p->in != NULL) {
        util_wipe(p->in, p->in_cap);
        free(p->in);
    }
    if (p->out != NULL) {
        util_wipe(p->out, p->out_cap);
        free(p->out);
    }
    memset(p, 0, sizeof *p);
}

/* Reads until len bytes or the end; *got is what was read. */
static int read_full(twoway_read_fn read, void *src, uint8_t *buf, size_t len, size_t *got)
{
    size_t n = 0;
    while (n < len) {
        long r = read(src, buf + n, len - n);
        if (r < 0 || (size_t)r > len - n)
            return TWOWAY_ERR_IO;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *got = n;
    return TWOWAY_OK;
}

/* Copies pending output; returns 1 if there was some. */
static int drain(uint8_t *pending, size_t *len, size_t *off, uint8_t *out, size_t cap,
                 size_t *out_len)
{
    size_t n = *len - *off;
    if (n == 0)
        return 0;
    if (n > cap)
        n = cap;
    memcpy(out, pending + *off, n);
    util_wipe(pending + *off, n);
    *off += n;
    if (*off == *len)
        *off = *len = 0;
    *out_len = n;
    return 1;
}

/* The next piece of sealed output into s->pull.out. */
static int seal_next(twoway_sealer *s, twoway_read_fn read, void *src)
{
    size_t got = 0, n;
    int rc, final;
    if (s->body.chunked) {
        /* one chunk of plaintext (twoway: one source read, one chunk) */
        rc = tw_grow(&s->pull.in, &s->pull.in_cap, s->body.max_chunk_len, s->body.max_chunk_len, 0);
        if (rc == TWOWAY_OK)
            rc = read_full(read, src, s->pull.in, s->body.max_chunk_len, &got);
        final = got < s->body.max_chunk_len;
    } else {
        /* one AEAD over everything: read the whole source */
        size_t limit = s->opts.max_message_len;
        rc = TWOWAY_OK;
        for (;;) {
            size_t want = TW_PULL_INPUT_LEN, r;
            if (got >= limit) {
                uint8_t probe = 0;
                rc = read_full(read, src, &probe, 1, &r);
                util_wipe(&probe, 1);
                if (rc == TWOWAY_OK && r > 0)
                    rc = TWOWAY_ERR_TOO_BIG;
                break;
            }
            if (want > limit - got)
                want = limit - got;
            rc = tw_grow(&s->pull.in, &s->pull.in_cap, got + want, limit, got);
            if (rc == TWOWAY_OK)
                rc = read_full(read, src, s->pull.in + got, want, &r);
            if (rc != TWOWAY_OK)
                break;
            got += r;
            if (r < want)
                break;
        }
        final = 1;
    }
    if (rc == TWOWAY_OK) {
        n = twoway_sealer_max_output(s, got);
        rc = n == SIZE_MAX ? TWOWAY_ERR_TOO_BIG : tw_grow(&s->pull.out, &s->pull.out_cap, n, n, 0);
    }
    if (rc == TWOWAY_OK) {
        n = s->pull.out_cap;
        rc = final ? twoway_sealer_final(s, s->pull.out, &n, s->pull.in, got)
                   : twoway_sealer_update(s, s->pull.out, &n, s->pull.in, got);
    }
    if (s->pull.in != NULL)
        util_wipe(s->pull.in, rc == TWOWAY_OK ? got : s->pull.in_cap); /* all of it on failure */
    if (rc != TWOWAY_OK) {
        s->failed = 1;
        return rc;
    }
    s->pull.out_len = n;
    s->pull.out_off = 0;
    return TWOWAY_OK;
}

int twoway_sealer_read(twoway_sealer *s, twoway_read_fn read, void *src, uint8_t *out, size_t cap,
                       size_t *out_len)
{
    if (s == NULL || read == NULL || out_len == NULL || (out == NULL && cap > 0))
        return TWOWAY_ERR_ARG;
    *out_len = 0;
    if (cap == 0)
        return TWOWAY_ERR_BUFFER;
    for (;;) {
        if (drain(s->pull.out, &s->pull.out_len, &s->pull.out_off, out, cap, out_len))
            return TWOWAY_OK;
        if (s->finished)
            return TWOWAY_OK;
        if (s->failed)
            return TWOWAY_ERR_STATE;
        int rc = seal_next(s, read, src);
        if (rc != TWOWAY_OK)
            return rc;
    }
}

int twoway_opener_read(twoway_opener *o, twoway_read_fn read, void *src, uint8_t *out, size_t cap,
                       size_t *out_len)
{
    if (o == NULL || read == NULL || out_len == NULL || (out == NULL && cap > 0))
        return TWOWAY_ERR_ARG;
    *out_len = 0;
    if (cap == 0)
        return TWOWAY_ERR_BUFFER;
    for (;;) {
        if (drain(o->pull.out, &o->pull.out_len, &o->pull.out_off, out, cap, out_len))
            return TWOWAY_OK;
        if (o->finished)
            return TWOWAY_OK;
        if (o->failed)
            return TWOWAY_ERR_STATE;
        int rc = tw_grow(&o->pull.in, &o->pull.in_cap, TW_PULL_INPUT_LEN, TW_PULL_INPUT_LEN, 0);
        size_t got = 0, n;
        if (rc == TWOWAY_OK)
            rc = read_full(read, src, o->pull.in, TW_PULL_INPUT_LEN, &got);
        if (rc == TWOWAY_OK) {
            n = twoway_opener_max_output(o, got);
            rc = tw_grow(&o->pull.out, &o->pull.out_cap, n > 0 ? n : 1, n > 0 ? n : 1, 0);
        }
        if (rc == TWOWAY_OK) {
            n = o->pull.out_cap;
            /* a short read is the end of the source (read_full loops) */
            rc = got < TW_PULL_INPUT_LEN
                     ? twoway_opener_final(o, o->pull.out, &n, o->pull.in, got)
                     : twoway_opener_update(o, o->pull.out, &n, o->pull.in, got);
        }
        if (rc != TWOWAY_OK) {
            o->failed = 1;
            if (o->ctx != NULL)
                o->ctx->usable = 0; /* no response to a request not read whole */
            return rc;
        }
        o->pull.out_len = n;
        o->pull.out_off = 0;
    }
}
