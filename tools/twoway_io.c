/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `twoway` command-line tool: messages, algorithm names, files written
 * atomically, and the private key file (see twoway_cli.h).
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

void cli_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

/* ------------------------------------------------------ algorithm names */

typedef struct cli_alg {
    const char *name, *alias;
    uint16_t id;
} cli_alg;

static const cli_alg kems[] = {
    {"x25519", "dhkem-x25519", TWOWAY_HPKE_KEM_X25519_SHA256},
    {"p256", "p-256", TWOWAY_HPKE_KEM_P256_SHA256},
    {"p384", "p-384", TWOWAY_HPKE_KEM_P384_SHA384},
    {"p521", "p-521", TWOWAY_HPKE_KEM_P521_SHA512},
    {"x448", "dhkem-x448", TWOWAY_HPKE_KEM_X448_SHA512},
};
static const cli_alg kdfs[] = {
    {"sha256", "hkdf-sha256", TWOWAY_HPKE_KDF_HKDF_SHA256},
    {"sha384", "hkdf-sha384", TWOWAY_HPKE_KDF_HKDF_SHA384},
    {"sha512", "hkdf-sha512", TWOWAY_HPKE_KDF_HKDF_SHA512},
};
static const cli_alg aeads[] = {
    {"aes128gcm", "aes-128-gcm", TWOWAY_HPKE_AEAD_AES_128_GCM},
    {"aes256gcm", "aes-256-gcm", TWOWAY_HPKE_AEAD_AES_256_GCM},
    {"chacha20poly1305", "chacha20-poly1305", TWOWAY_HPKE_AEAD_CHACHA20_POLY1305},
};

static const cli_alg *alg_table(enum cli_alg_kind kind, size_t *n)
{
    switch (kind) {
    case CLI_KEM: *n = sizeof kems / sizeof kems[0]; return kems;
    case CLI_KDF: *n = sizeof kdfs / sizeof kdfs[0]; return kdfs;
    default: *n = sizeof aeads / sizeof aeads[0]; return aeads;
    }
}

int cli_alg_parse(enum cli_alg_kind kind, const char *name, uint16_t *id)
{
    size_t n;
    const cli_alg *t = alg_table(kind, &n);
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(name, t[i].name) == 0 || strcasecmp(name, t[i].alias) == 0) {
            *id = t[i].id;
            return 0;
        }
    }
    return -1;
}

const char *cli_alg_name(enum cli_alg_kind kind, uint16_t id)
{
    size_t n;
    const cli_alg *t = alg_table(kind, &n);
    for (size_t i = 0; i < n; i++)
        if (t[i].id == id)
            return t[i].name;
    return NULL;
}

const char *cli_alg_choices(enum cli_alg_kind kind)
{
    switch (kind) {
    case CLI_KEM: return "x25519|p256|p384|p521|x448";
    case CLI_KDF: return "sha256|sha384|sha512";
    default: return "aes128gcm|aes256gcm|chacha20poly1305";
    }
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
    int fd = open(path, O_RDONLY | O_CLOEXEC);
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
    if (path == NULL) {
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
}

long cli_source_read(void *src, uint8_t *buf, size_t len)
{
    cli_source *s = src;
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
    if (path == NULL) {
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

/* ------------------------------------------------------------- key file */

#define KEYFILE_MAGIC "twoway-private-key 1"

static void hex_put(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes hex into out[max]; returns the length or -1. */
static long hex_get(const char *s, uint8_t *out, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 != 0 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

/* Appends to out[CLI_KEYFILE_MAX] at *len; returns 0, or -1 if it does not fit. */
__attribute__((format(printf, 3, 4))) static int append(char *out, size_t *len, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, CLI_KEYFILE_MAX - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= CLI_KEYFILE_MAX - *len)
        return -1;
    *len += (size_t)n;
    return 0;
}

size_t cli_keyfile_format(const cli_keyfile *kf, char *out)
{
    char pk[2 * TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN + 1], sk[2 * TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN + 1];
    const char *kem = cli_alg_name(CLI_KEM, kf->kem_id);
    size_t len = 0;
    if (kem == NULL || kf->pk_len > TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN ||
        kf->sk_len > TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN)
        return 0;
    int rc = append(out, &len,
                    "# twoway private key: keep it secret. Its public key configuration\n"
                    "# (application/ohttp-keys) is a separate file.\n" KEYFILE_MAGIC "\n"
                    "key-id %u\nkem %s\n",
                    (unsigned)kf->key_id, kem);
    for (size_t i = 0; rc == 0 && i < kf->n_suites; i++) {
        const char *kdf = cli_alg_name(CLI_KDF, kf->suites[i].kdf_id);
        const char *aead = cli_alg_name(CLI_AEAD, kf->suites[i].aead_id);
        rc = kdf == NULL || aead == NULL ? -1 : append(out, &len, "suite %s %s\n", kdf, aead);
    }
    hex_put(pk, kf->pk, kf->pk_len);
    hex_put(sk, kf->sk, kf->sk_len);
    if (rc == 0)
        rc = append(out, &len, "public-key %s\nprivate-key %s\n", pk, sk);
    cli_wipe(sk, sizeof sk);
    return rc == 0 ? len : 0;
}

/* The next space-separated word of *p (NUL-terminated in place), or NULL. */
static char *next_word(char **p)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == 0)
        return NULL;
    char *w = s;
    while (*s != 0 && *s != ' ' && *s != '\t')
        s++;
    if (*s != 0)
        *s++ = 0;
    *p = s;
    return w;
}

/* One "field value..." line into kf; seen: bit per field. Returns 0, or -1
 * with *why set. */
static int keyfile_line(cli_keyfile *kf, char *line, unsigned *seen, const char **why)
{
    char *p = line, *field = next_word(&p), *a = next_word(&p), *b = next_word(&p);
    char *extra = next_word(&p);
    if (strcmp(field, "suite") == 0) {
        twoway_symmetric_suite s;
        *why = "expected: suite KDF AEAD";
        if (a == NULL || b == NULL || extra != NULL)
            return -1;
        *why = "unknown KDF or AEAD";
        if (cli_alg_parse(CLI_KDF, a, &s.kdf_id) != 0 ||
            cli_alg_parse(CLI_AEAD, b, &s.aead_id) != 0)
            return -1;
        *why = "too many suites";
        if (kf->n_suites == TWOWAY_KEY_CONFIG_MAX_SUITES)
            return -1;
        kf->suites[kf->n_suites++] = s;
        return 0;
    }
    static const char *const fields[] = {"key-id", "kem", "public-key", "private-key"};
    unsigned i = 0;
    while (i < 4 && strcmp(field, fields[i]) != 0)
        i++;
    *why = i == 4                   ? "unknown field"
           : a == NULL || b != NULL ? "one value expected"
                                    : "a field given twice";
    if (i == 4 || a == NULL || b != NULL || (*seen & (1u << i)))
        return -1;
    *seen |= 1u << i;
    *why = "invalid value";
    if (i == 0) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(a, &end, 10);
        if (errno != 0 || *end != 0 || *a == '-' || v > 255)
            return -1;
        kf->key_id = (uint8_t)v;
        return 0;
    }
    if (i == 1)
        return cli_alg_parse(CLI_KEM, a, &kf->kem_id);
    long n = i == 2 ? hex_get(a, kf->pk, sizeof kf->pk) : hex_get(a, kf->sk, sizeof kf->sk);
    if (n < 0)
        return -1;
    if (i == 2)
        kf->pk_len = (size_t)n;
    else
        kf->sk_len = (size_t)n;
    cli_wipe(a, strlen(a));
    return 0;
}

int cli_keyfile_parse(cli_keyfile *kf, const char *text, size_t len, const char *path)
{
    memset(kf, 0, sizeof *kf);
    if (strlen(text) != len) {
        cli_error("%s: not a twoway private key file (it is binary)", path);
        return -1;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        cli_error("reading %s: %s", path, strerror(ENOMEM));
        return -1;
    }
    memcpy(copy, text, len + 1);
    unsigned seen = 0, lineno = 0;
    int magic = 0, rc = 0;
    const char *why = NULL;
    for (char *line = copy, *next; rc == 0 && line != NULL; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = 0;
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == 0 || *p == '#')
            continue;
        if (!magic) {
            magic = 1;
            why = "not a twoway private key file (the first line is not \"" KEYFILE_MAGIC "\")";
            rc = strcmp(p, KEYFILE_MAGIC) == 0 ? 0 : -1;
        } else {
            rc = keyfile_line(kf, p, &seen, &why);
        }
    }
    cli_wipe(copy, len);
    free(copy);
    if (rc == 0 && (!magic || seen != 15 || kf->n_suites == 0)) {
        lineno = 0;
        why = !magic ? "empty: not a twoway private key file"
                     : "incomplete: key-id, kem, suite, public-key and private-key are needed";
        rc = -1;
    }
    if (rc != 0) {
        if (lineno > 0)
            cli_error("%s:%u: %s", path, lineno, why);
        else
            cli_error("%s: %s", path, why);
        cli_wipe(kf, sizeof *kf);
    }
    return rc;
}
