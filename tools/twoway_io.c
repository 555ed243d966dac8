/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `twoway` command-line tool: messages, files read whole or written
 * atomically, message sources and sinks, and state files (twoway_cli.h).
 */
#define _GNU_SOURCE /* renameat2 */

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
    long r = s->ended ? 0 : twoway_read_fd(&s->fd, buf, len);
    if (r < 0)
        s->err = errno;
    else
        s->count += (uint64_t)r;
    if (r == 0 && !s->ended) {
        s->ended = 1;
        if (s->at_end != NULL && s->at_end(s->at_end_arg) != 0) {
            s->refused = 1;
            s->err = 0;
            return -1;
        }
    }
    return s->refused ? -1 : r;
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
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* a link: its target is what is written (atomically, beside it) */
        s->real = realpath(path, NULL);
        if (s->real != NULL)
            path = s->path = s->real;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* a FIFO, a device: written to, never replaced by a file */
        s->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (s->fd < 0) {
            cli_error("cannot open %s: %s", path, strerror(errno));
            return -1;
        }
        s->direct = 1;
        return 0;
    }
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

/* Puts tmp in place as path, never replacing it: link(), or on file
 * systems without hard links renameat2(RENAME_NOREPLACE). */
static int place_new(const char *tmp, const char *path)
{
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS && errno != EMLINK)
        return -1;
    return renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
}

int cli_sink_commit(cli_sink *s, int no_replace)
{
    if (s->path == NULL)
        return 0;
    if (s->direct) {
        int rc = close(s->fd);
        s->fd = -1;
        if (rc != 0)
            cli_error("writing %s: %s", s->path, strerror(errno));
        return rc == 0 ? 0 : -1;
    }
    int rc = fsync(s->fd);
    if (close(s->fd) != 0)
        rc = -1;
    s->fd = -1;
    if (rc == 0)
        rc = no_replace ? place_new(s->tmp, s->path) : rename(s->tmp, s->path);
    if (rc != 0) {
        if (no_replace && errno == EEXIST)
            cli_error("%s exists: refusing to replace it", s->path);
        else
            cli_error("writing %s: %s", s->path, strerror(errno));
        cli_sink_abort(s);
        return -1;
    }
    temp_unregister(s->tmp);
    free(s->tmp);
    s->tmp = NULL;
    free(s->real);
    s->real = NULL;
    return 0;
}

void cli_sink_abort(cli_sink *s)
{
    if (s->direct && s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    free(s->real);
    s->real = NULL;
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

static int write_file(const char *path, int secret, const uint8_t *data, size_t len, int no_replace)
{
    cli_sink s;
    if (cli_sink_open(&s, path, secret) != 0)
        return -1;
    if (cli_sink_write(&s, data, len) != 0) {
        cli_sink_abort(&s);
        return -1;
    }
    return cli_sink_commit(&s, no_replace);
}

int cli_write_file(const char *path, int secret, const uint8_t *data, size_t len)
{
    return write_file(path, secret, data, len, 0);
}

int cli_write_new_file(const char *path, int secret, const uint8_t *data, size_t len)
{
    return write_file(path, secret, data, len, 1);
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
static const uint8_t blob_magic[4] = {'T', 'W', 'C', '1'};
#define STATE_CHUNKED 0x01u
#define STATE_COMPLETE 0x02u
#define STATE_SERVER 0x04u
#define STATE_MAX (5 + TWOWAY_CONTEXT_BLOB_MAX)

int cli_state_remove(const char *path)
{
    uint8_t head[4];
    if (cli_is_std(path))
        return 0;
    /* only a state file (or an empty file) is removed: --state naming a key
     * file by mistake must not delete it */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT)
        return 0;
    struct stat st;
    ssize_t n = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, head, 4) : -1;
    if (fd >= 0)
        close(fd);
    if (n != 0 &&
        (n != 4 || (memcmp(head, state_magic, 4) != 0 && memcmp(head, blob_magic, 4) != 0))) {
        cli_error("%s is not a state file: refusing to replace it (give another --state)", path);
        return -1;
    }
    if (unlink(path) == 0 || errno == ENOENT)
        return 0;
    cli_error("cannot remove the old state file %s: %s", path, strerror(errno));
    return -1;
}

int cli_state_save(const char *path, const twoway_context *ctx, const char *media, int chunked,
                   int complete, int server)
{
    uint8_t blob[STATE_MAX];
    size_t len = sizeof blob - 5;
    memcpy(blob, state_magic, 4);
    blob[4] = (uint8_t)((chunked ? STATE_CHUNKED : 0) | (complete ? STATE_COMPLETE : 0) |
                        (server ? STATE_SERVER : 0));
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

/* The state file's bytes (*file, *len; the caller frees with
 * cli_free_secret), quietly: 0, or -1 when it cannot be read. */
static int read_state(const char *path, uint8_t **file, size_t *len, int quiet)
{
    if (!quiet)
        return cli_read_file(path, "state file", STATE_MAX, file, len);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t *buf = malloc(STATE_MAX + 1);
    size_t n = 0;
    long r = 1;
    while (buf != NULL && n <= STATE_MAX &&
           (r = twoway_read_fd(&fd, buf + n, STATE_MAX + 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    if (buf == NULL || r < 0 || n > STATE_MAX) {
        cli_free_secret(buf, n);
        return -1;
    }
    *file = buf;
    *len = n;
    return 0;
}

int cli_state_load(cli_state *st, const char *path, int server)
{
    uint8_t *file;
    size_t len;
    memset(st, 0, sizeof *st);
    st->path = path;
    if (read_state(path, &file, &len, 0) != 0)
        return -1;
    const uint8_t *blob = file;
    size_t blob_len = len;
    int wrapped = len >= 5 && memcmp(file, state_magic, 4) == 0;
    if (wrapped) {
        blob += 5;
        blob_len -= 5;
    }
    int rc = twoway_context_load(&st->ctx, blob, blob_len);
    if (rc == TWOWAY_OK && wrapped &&
        (file[4] & ~(STATE_CHUNKED | STATE_COMPLETE | STATE_SERVER)) != 0)
        rc = TWOWAY_ERR_FORMAT;
    if (rc == TWOWAY_OK && wrapped && !(file[4] & STATE_SERVER) != !server) {
        cli_free_secret(file, len);
        cli_state_free(st);
        cli_error("%s is the %s's state (%s wrote it): %s needs the state of %s",
                  cli_is_std(path) ? "stdin" : path, server ? "client" : "server",
                  server ? "seal-request" : "open-request", cli_command,
                  server ? "open-request" : "seal-request");
        return -1;
    }
    if (rc == TWOWAY_OK && blob_len <= sizeof st->blob) {
        size_t mlen;
        const uint8_t *media = twoway_context_response_media_type(st->ctx, &mlen);
        st->chunked = wrapped ? (file[4] & STATE_CHUNKED) != 0 : media_is_chunked(media, mlen);
        /* a library user's bare blob is taken as the whole request's */
        st->complete = wrapped ? (file[4] & STATE_COMPLETE) != 0 : 1;
        st->flags_role = server ? STATE_SERVER : 0;
        memcpy(st->blob, blob, blob_len);
        st->blob_len = blob_len;
    } else if (rc == TWOWAY_OK) {
        rc = TWOWAY_ERR_FORMAT;
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

int cli_state_confirm(const cli_state *st, int used_up)
{
    if (cli_is_std(st->path))
        return st->complete ? 0 : -1;
    uint8_t *file = NULL;
    size_t len = 0;
    int got = read_state(st->path, &file, &len, 1) == 0;
    if (used_up && st->complete) {
        /* removed when it was loaded: a state there now is a newer
         * request's, which this response would not answer */
        cli_free_secret(file, len);
        return got || errno != ENOENT ? -1 : 0;
    }
    int ok;
    if (got && len >= 4 && memcmp(file, blob_magic, 4) == 0) /* a bare blob: as loaded */
        ok = len == st->blob_len && memcmp(file, st->blob, len) == 0;
    else
        ok = got && len >= 5 && memcmp(file, state_magic, 4) == 0 &&
             (file[4] & STATE_COMPLETE) != 0 && (file[4] & STATE_SERVER) == st->flags_role &&
             len - 5 == st->blob_len && memcmp(file + 5, st->blob, st->blob_len) == 0;
    cli_free_secret(file, len);
    return ok ? 0 : -1;
}

void cli_state_free(cli_state *st)
{
    twoway_context_free(st->ctx);
    st->ctx = NULL;
    cli_wipe(st->blob, sizeof st->blob);
}
