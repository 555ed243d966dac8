/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `twoway` command-line tool: what its files share. twoway.c parses
 * the command line and runs the key commands; twoway_msg.c seals and opens
 * messages; twoway_io.c keeps messages, files, sources, sinks and state
 * files.
 */
#ifndef TWOWAY_CLI_H
#define TWOWAY_CLI_H

#include <twoway/twoway.h>

#include <stddef.h>
#include <stdint.h>

#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* ------------------------------------------------------------- arguments */

#define CLI_MAX_ALGS 3
#define CLI_MAX_FILES 16 /* --config, --key, --state and --enc given at most this often */

typedef struct cli_args {
    const char *in, *out, *media, *response_media, *file;
    const char *config[CLI_MAX_FILES], *key[CLI_MAX_FILES];
    const char *state[CLI_MAX_FILES], *enc[CLI_MAX_FILES];
    size_t n_config, n_key, n_state, n_enc;
    uint16_t kem, kdf[CLI_MAX_ALGS], aead[CLI_MAX_ALGS];
    size_t n_kem, n_kdf, n_aead;
    int key_id;       /* -1: not given */
    int chunked;      /* -1: not given (the default or inferred), 0 --no-chunked, 1 --chunked */
    size_t max_chunk; /* 0: not given */
    int verbose;
} cli_args;

/* The subcommands (twoway_msg.c). */
int cli_seal_request(const cli_args *a);
int cli_open_request(const cli_args *a);
int cli_seal_response(const cli_args *a);
int cli_open_response(const cli_args *a);

/* ------------------------------------------------------------- messages */

/* The subcommand running, for messages ("twoway: <command>: ..."). */
extern const char *cli_command;

/* One line on stderr: "twoway: <command>: <message>". */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_error with the library's detail when it has one ("...: <detail>"),
 * else its sentence for rc. */
void cli_lib_error(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Overwrites n bytes at p in a way the compiler keeps. */
void cli_wipe(void *p, size_t n);

/* "-" (or NULL where a default stream is meant): standard input/output. */
int cli_is_std(const char *path);

/* ---------------------------------------------------------------- files */

/* Reads the whole of path ("-": stdin; at most max bytes) into a new buffer
 * with a NUL after the data. Reports its errors; returns 0 or -1. Free with
 * cli_free_secret when the file may hold a secret. */
int cli_read_file(const char *path, const char *what, size_t max, uint8_t **out, size_t *out_len);
void cli_free_secret(uint8_t *p, size_t n);

/* Where a message is read from: a file or stdin. The first read may be
 * taken early (cli_source_prefetch) and is then served first. */
typedef struct cli_source {
    int fd;
    const char *name;
    int err;        /* errno of a failed read */
    uint64_t count; /* bytes read */
    uint8_t *pre;   /* prefetched bytes */
    size_t pre_len, pre_off;
    /* Called once when the source ends, before the end is reported: a
     * non-zero result turns the end into a read error (refused set). */
    int (*at_end)(void *arg);
    void *at_end_arg;
    int ended, refused;
} cli_source;

int cli_source_open(cli_source *s, const char *path); /* NULL or "-": stdin; reports errors */
void cli_source_close(cli_source *s);
/* Waits for the first bytes of the source (or its end) and keeps them:
 * returns 0, or -1 on a read error (reported). */
int cli_source_prefetch(cli_source *s);
/* A twoway_read_fn (the prefetched bytes first; counting and keeping errno). */
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
    int direct;     /* path is not a regular file: written in place */
    char *real;     /* path was a symbolic link: its target */
} cli_sink;

/* An existing path that is not a regular file (a FIFO, a device) is written
 * directly, without a temporary file; a symbolic link's target is written
 * (atomically, beside it). */
int cli_sink_open(cli_sink *s, const char *path, int secret); /* NULL or "-": stdout */
int cli_sink_write(cli_sink *s, const uint8_t *p, size_t n);
/* no_replace: an existing path is kept (reported as an error). */
int cli_sink_commit(cli_sink *s, int no_replace);
void cli_sink_abort(cli_sink *s);
/* The whole of data into path ("-": stdout), atomically. Returns 0 or -1. */
int cli_write_file(const char *path, int secret, const uint8_t *data, size_t len);
/* The same, never replacing an existing path. */
int cli_write_new_file(const char *path, int secret, const uint8_t *data, size_t len);

/* Installs the signal handlers that remove temporary files. */
void cli_signals_init(void);

/* Binary output is not for a terminal: 1 (reported) when path is stdout
 * and stdout is one. */
int cli_refuse_terminal(const char *path, const char *what);

/* ----------------------------------------------------------- state files */

/*
 * What a request command leaves for the response command of its side:
 *
 *   "TWS1" || flags(1) || twoway_context_save blob
 *   flags: bit 0 the response is chunked; bit 1 the request is complete;
 *          bit 2 the server's (open-request's) state
 *
 * A request command writes its state before the first byte of the request
 * leaves it (bit 1 clear, unless the request is already whole), and again
 * with bit 1 once the whole request went through; a failure removes it. A
 * response command that loaded a state without bit 1 confirms, at the end
 * of its input and before the end of its message, that the same state now
 * has it (cli_state_confirm). A bare twoway_context_save blob ("TWC1...", a
 * library user's) is read too: complete, and chunked when its media type is
 * chunked OHTTP's.
 */
typedef struct cli_state {
    twoway_context *ctx;
    int chunked, complete;
    unsigned flags_role; /* the server bit its file must have */
    const char *path;
    size_t blob_len;
    uint8_t blob[TWOWAY_CONTEXT_BLOB_MAX];
} cli_state;

/* Removes path (a stale state file) unless it is "-"; refuses (reported,
 * -1) a file that is not a state file. Returns 0 or -1. */
int cli_state_remove(const char *path);
/* Saves ctx for media, the framing and whether the request is complete.
 * Returns 0 or -1 (reported). */
int cli_state_save(const char *path, const twoway_context *ctx, const char *media, int chunked,
                   int complete, int server);
/* server: the state must be open-request's (else seal-request's). */
int cli_state_load(cli_state *st, const char *path, int server);
/*
 * At the end of a response command's input: 0 if the request of st is
 * complete and still the one its state file names: the file holds the same
 * state, marked complete; or (used_up: the file was removed when loaded,
 * complete) no file is there. -1 otherwise (not reported): the request did
 * not go through whole, or a newer request took the file.
 */
int cli_state_confirm(const cli_state *st, int used_up);
void cli_state_free(cli_state *st);

#endif /* TWOWAY_CLI_H */
