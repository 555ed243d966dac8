/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `twoway` command-line tool: helpers shared by its subcommands
 * (twoway.c) and kept in twoway_io.c: messages, algorithm names, files
 * written atomically, the private key file.
 */
#ifndef TWOWAY_CLI_H
#define TWOWAY_CLI_H

#include <twoway/twoway.h>

#include <stdint.h>
#include <stddef.h>

#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* ------------------------------------------------------------- messages */

/* The subcommand running, for messages ("twoway: <command>: ..."). */
extern const char *cli_command;

/* One line on stderr: "twoway: <command>: <message>". */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Overwrites n bytes at p in a way the compiler keeps. */
void cli_wipe(void *p, size_t n);

/* ------------------------------------------------------ algorithm names */

enum cli_alg_kind { CLI_KEM, CLI_KDF, CLI_AEAD };

/* Parses a name ("x25519", "sha384", "chacha20poly1305", ...; a few spellings
 * are accepted, case does not matter). Returns 0, or -1 if unknown. */
int cli_alg_parse(enum cli_alg_kind kind, const char *name, uint16_t *id);
/* The short name of a built-in algorithm, or NULL. */
const char *cli_alg_name(enum cli_alg_kind kind, uint16_t id);
/* The names accepted, for help and error messages ("x25519|p256|..."). */
const char *cli_alg_choices(enum cli_alg_kind kind);

/* ---------------------------------------------------------------- files */

/* Reads the whole of path (at most max bytes) into a new buffer with a NUL
 * after the data. Reports its errors; returns 0 or -1. Free with
 * cli_free_secret when the file may hold a secret. */
int cli_read_file(const char *path, const char *what, size_t max, uint8_t **out, size_t *out_len);
void cli_free_secret(uint8_t *p, size_t n);

/* Where a message is read from: a file or stdin. */
typedef struct cli_source {
    int fd;
    const char *name;
    int err;        /* errno of a failed read */
    uint64_t count; /* bytes read */
} cli_source;

int cli_source_open(cli_source *s, const char *path); /* NULL: stdin; reports errors */
void cli_source_close(cli_source *s);
/* A twoway_read_fn (twoway_read_fd, counting and keeping errno). */
long cli_source_read(void *src, uint8_t *buf, size_t len);

/*
 * Where output goes: stdout, or a file written as a temporary file in the
 * same folder and renamed into place by cli_sink_commit only (removed by
 * cli_sink_abort, or by SIGINT/SIGTERM/SIGHUP). Secret files get mode 0600,
 * the others 0666 less the umask. Every function reports its own errors.
 */
typedef struct cli_sink {
    int fd;
    const char *path; /* NULL: stdout */
    char *tmp;
    const char *name;
    uint64_t count; /* bytes written */
} cli_sink;

int cli_sink_open(cli_sink *s, const char *path, int secret);
int cli_sink_write(cli_sink *s, const uint8_t *p, size_t n);
int cli_sink_commit(cli_sink *s);
void cli_sink_abort(cli_sink *s);
/* The whole of data into path, atomically. Returns 0 or -1. */
int cli_write_file(const char *path, int secret, const uint8_t *data, size_t len);

/* Installs the signal handlers that remove temporary files. */
void cli_signals_init(void);

/* ------------------------------------------------------------- key file */

/*
 * The private key file (text, mode 0600):
 *
 *   # twoway private key: keep it secret
 *   twoway-private-key 1
 *   key-id 0
 *   kem x25519
 *   suite sha256 aes128gcm          (one line per accepted (KDF, AEAD) pair)
 *   public-key <hex>
 *   private-key <hex>
 */
typedef struct cli_keyfile {
    uint8_t key_id;
    uint16_t kem_id;
    size_t n_suites;
    twoway_symmetric_suite suites[TWOWAY_KEY_CONFIG_MAX_SUITES];
    size_t pk_len, sk_len;
    uint8_t pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
} cli_keyfile;

#define CLI_KEYFILE_MAX 4096u

/* The file's text into out[CLI_KEYFILE_MAX]; returns its length (0 if it
 * does not fit). */
size_t cli_keyfile_format(const cli_keyfile *kf, char *out);
/* Parses text[len] (followed by a NUL); reports errors as "path:line: ...";
 * returns 0 or -1. */
int cli_keyfile_parse(cli_keyfile *kf, const char *text, size_t len, const char *path);

#endif /* TWOWAY_CLI_H */
