/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `twoway` command-line tool: messages, files read whole or written
 * atomically, message sources and sinks, and state files (twoway_cli.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------- messages */

const char *cli_command = NULL;

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cli_command != NULL)
        fprintf(stderr, "twoway: %s: ", cli_command);
    else
        fputs("twoway: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_lib_error(int rc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *detail = twoway_error_detail();
    cli_error("%s: %s", msg, detail[0] != '\0' ? detail : twoway_strerror(rc));
}

int cli_is_std(const char *path)
{
    return path == NULL || strcmp(path, "-") == 0;
}

void cli_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

/* ------------------------------------------------------ temporary files */

/* Temporary files to remove if a signal ends the program. */
#define CLI_MAX_TEMPS 4
static char *volatile temps[CLI_MAX_TEMPS];
static mode_t file_mode = 0644;

static void temp_register(char *path)
{
    for (int i = 0; i < CLI_MAX_TEMPS; i++) {
        if (temps[i] == NULL) {
            temps[i] = path;
            return;
        }
    }
}

static void temp_unregister(const char *path)
{
    for (int i = 0; i < CLI_MAX_TEMPS; i++)
        if (temps[i] == path)
            temps[i] = NULL;
}

static void on_signal(int sig)
{
    for (int i = 0; i < CLI_MAX_TEMPS; i++)
        if (temps[i] != NULL)
            unlink(temps[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_signals_init(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&sa.sa_mask, sigs[i]);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    mode_t m = umask(0);
    umask(m);
    file_mode = 0666 & ~m;
}

/* ---------------------------------------------------------------- files */

int cli_read_file(const char *path, const char *what, size_t max, uint8_t **out, size_t *out_len)
{
    int fd = cli_is_std(path) ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (cli_is_std(path))
        path = "(standard input)";
    if (fd < 0) {
        cli_error("cannot open %s %s: %s", what, path, strerror(errno));
        return -1;
    }
    uint8_t *buf = malloc(max + 1);
    size_t len = 0;
    int err = 0;
    if (buf == NULL)
        err = ENOMEM;
    while (err == 0) {
        /* one byte more than max, to tell a file that is too long */
        ssize_t r = read(fd, buf + len, max + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            err = errno;
        else if (r == 0)
            break;
        else if ((len += (size_t)r) > max)
            break;
    }
    if (fd != STDIN_FILENO)
        close(fd);
    if (err != 0 || len > max) {
        if (err != 0)
            cli_error("cannot read %s %s: %s", what, path, strerror(err));
        else
            cli_error("%s %s is too large (more than %zu bytes)", what, path, max);
        cli_free_secret(buf, len);
        return -1;
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    return 0;
}

void cli_free_secret(uint8_t *p, size_t n)
{
    if (p != NULL) {
        cli_wipe(p, n);
        free(p);
    }
}

int cli_source_open(cli_source *s, const char *path)
{
    memset(s, 0, sizeof *s);
    if (cli_is_std(path)) {
        s->fd = STDIN_FILENO;
        s->name = "stdin";
        return 0;
    }
    s->name = path;
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        cli_error("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void cli_source_close(cli_source *s)
{
    if (s->fd > STDERR_FILENO)
        close(s->fd);
    s->fd = -1;
    cli_free_secret(s->pre, s->pre_len);
    s->pre = NULL;
}

#define CLI_PREFETCH_LEN 65536u

int cli_source_prefetch(cli_source *s)
{
    if (s->pre != NULL)
        return 0;
    s->pre = malloc(CLI_PREFETCH_LEN);
    if (s->pre == NULL) {
        cli_error("reading %s: %s", s->name, strerror(ENOMEM));
        return -1;
    }
    long r = twoway_read_fd(&s->fd, s->pre, CLI_PREFETCH_LEN);
    if (r < 0) {
        s->err = errno;
        cli_error("reading %s: %s", s->name, strerror(s->err));
        return -1;
    }
    s->pre_len = (size_t)r;
    s->count += (uint64_t)r;
    return 0;
}

long cli_source_read(void *src, uint8_t *buf, size_t len)
{
    cli_source *s = src;
    if (s->pre_off < s->pre_len) {
        size_t n = s->pre_len - s->pre_off < len ? s->pre_len - s->pre_off : len;
        memcpy(buf, s->pre + s->pre_off, n);
        s->pre_off += n;
        return (long)n;
    }
    long r = twoway_read_fd(&s->fd, buf, len);
    if (r < 0)
        s->err = errno;
    else
        s->count += (uint64_t)r;
    return r;
}

int cli_sink_open(cli_sink *s, const char *path, int secret)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    if (cli_is_std(path)) {
        s->fd = STDOUT_FILENO;
        s->name = "stdout";
        return 0;
    }
    s->path = s->name = path;
    size_t n = strlen(path);
    s->tmp = malloc(n + sizeof ".XXXXXX");
    if (s->tmp == NULL) {
        cli_error("cannot create %s: %s", path, strerror(ENOMEM));
        return -1;
    }
    memcpy(s->tmp, path, n);
    memcpy(s->tmp + n, ".XXXXXX", sizeof ".XXXXXX");
    s->fd = mkstemp(s->tmp); /* mode 0600 */
    if (s->fd < 0) {
        cli_error("cannot create %s: %s", path, strerror(errno));
        free(s->tmp);
        s->tmp = NULL;
        return -1;
    }
    temp_register(s->tmp);
    if (fchmod(s->fd, secret ? 0600 : file_mode) != 0) {
        cli_error("cannot create %s: %s", path, strerror(errno));
        cli_sink_abort(s);
        return -1;
    }
    return 0;
}

int cli_sink_write(cli_sink *s, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(s->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            cli_error("writing %s: %s", s->name, strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
        s->count += (uint64_t)w;
    }
    return 0;
}

int cli_sink_commit(cli_sink *s)
{
    if (s->path == NULL)
        return 0;
    int rc = fsync(s->fd);
    if (close(s->fd) != 0)
        rc = -1;
    s->fd = -1;
    if (rc == 0)
        rc = rename(s->tmp, s->path);
    if (rc != 0) {
        cli_error("writing %s: %s", s->path, strerror(errno));
        cli_sink_abort(s);
        return -1;
    }
    temp_unregister(s->tmp);
    free(s->tmp);
    s->tmp = NULL;
    return 0;
}

void cli_sink_abort(cli_sink *s)
{
    if (s->path == NULL || s->tmp == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    unlink(s->tmp);
    temp_unregister(s->tmp);
    free(s->tmp);
    s->tmp = NULL;
}

int cli_write_file(const char *path, int secret, const uint8_t *data, size_t len)
{
    cli_sink s;
    if (cli_sink_open(&s, path, secret) != 0)
        return -1;
    if (cli_sink_write(&s, data, len) != 0) {
        cli_sink_abort(&s);
        return -1;
    }
    return cli_sink_commit(&s);
}


int cli_refuse_terminal(const char *path, const char *what)
{
    if (cli_is_std(path) && isatty(STDOUT_FILENO)) {
        cli_error("refusing to write %s to a terminal (use -o FILE or a redirection)", what);
        return 1;
    }
    return 0;
}

/* ----------------------------------------------------------- state files */

static const uint8_t state_magic[4] = {'T', 'W', 'S', '1'};
#define STATE_CHUNKED 0x01u

int cli_state_remove(const char *path)
{
    if (cli_is_std(path) || unlink(path) == 0 || errno == ENOENT)
        return 0;
    cli_error("cannot remove the old state file %s: %s", path, strerror(errno));
    return -1;
}

int cli_state_save(const char *path, const twoway_context *ctx, const char *media, int chunked)
{
    uint8_t blob[5 + TWOWAY_CONTEXT_BLOB_MAX];
    size_t len = sizeof blob - 5;
    memcpy(blob, state_magic, 4);
    blob[4] = chunked ? STATE_CHUNKED : 0;
    int rc = twoway_context_save(ctx, (const uint8_t *)media, strlen(media), blob + 5, &len);
    if (rc != TWOWAY_OK) {
        cli_error("saving the state to %s: %s", path, twoway_strerror(rc));
        return -1;
    }
    rc = cli_write_file(path, 1, blob, 5 + len);
    cli_wipe(blob, sizeof blob);
    return rc;
}

/* Whether media is one of the chunked OHTTP names. */
static int media_is_chunked(const uint8_t *media, size_t len)
{
    static const char *const names[] = {TWOWAY_OHTTP_CHUNKED_REQUEST,
                                        TWOWAY_OHTTP_CHUNKED_RESPONSE};
    for (size_t i = 0; i < 2; i++)
        if (len == strlen(names[i]) && memcmp(media, names[i], len) == 0)
            return 1;
    return 0;
}

int cli_state_load(cli_state *st, const char *path)
{
    uint8_t *file;
    size_t len;
    memset(st, 0, sizeof *st);
    if (cli_read_file(path, "state file", 5 + TWOWAY_CONTEXT_BLOB_MAX, &file, &len) != 0)
        return -1;
    const uint8_t *blob = file;
    size_t blob_len = len;
    int wrapped = len >= 5 && memcmp(file, state_magic, 4) == 0;
    if (wrapped) {
        blob += 5;
        blob_len -= 5;
    }
    int rc = twoway_context_load(&st->ctx, blob, blob_len);
    if (rc == TWOWAY_OK && wrapped && (file[4] & ~STATE_CHUNKED) != 0)
        rc = TWOWAY_ERR_FORMAT;
    if (rc == TWOWAY_OK) {
        size_t mlen;
        const uint8_t *media = twoway_context_response_media_type(st->ctx, &mlen);
        st->chunked = wrapped ? (file[4] & STATE_CHUNKED) != 0 : media_is_chunked(media, mlen);
    }
    cli_free_secret(file, len);
    if (rc != TWOWAY_OK) {
        cli_state_free(st);
        cli_error("%s is not a usable state file: %s%s", cli_is_std(path) ? "stdin" : path,
                  twoway_strerror(rc),
                  rc == TWOWAY_ERR_FORMAT ? " (it is not what seal-request or open-request saved)"
                                          : "");
        return -1;
    }
    return 0;
}

void cli_state_free(cli_state *st)
{
    twoway_context_free(st->ctx);
    st->ctx = NULL;
}
