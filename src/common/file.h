/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole-file reads and atomic writes, shared by both libraries' key files.
 * Internal: not installed.
 */
#ifndef COMMON_FILE_H
#define COMMON_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Results besides 0; errno tells why for UTIL_FILE_IO. */
#define UTIL_FILE_IO (-1)      /* open, read, write, rename failed */
#define UTIL_FILE_TOO_BIG (-2) /* longer than max */
#define UTIL_FILE_NOMEM (-3)
#define UTIL_FILE_EXISTS (-4) /* no_replace, and path exists */

/*
 * Reads the whole of path (at most max bytes) into a new malloc'd buffer
 * with a NUL after the data (*out, *out_len without the NUL). Buffers that
 * are let go on the way are wiped: the file may hold a secret. The caller
 * wipes (when secret) and frees *out.
 */
int util_read_file(const char *path, size_t max, char **out, size_t *out_len);
/* The same for a private key; *mode gets the file's mode when the file is
 * ours and its group or others may read or write it (ssh refuses such a
 * key), else 0; a file owned by someone else is the kernel's to guard. */
int util_read_private_file(const char *path, size_t max, char **out, size_t *out_len,
                           unsigned *mode);

/*
 * Writes data to path through a temporary file in the same folder (mode
 * set exactly, whatever the umask; flushed to disk), then renames it into
 * place and flushes the folder: never a half-written file. With no_replace,
 * an existing path is kept (UTIL_FILE_EXISTS) and of two writers racing,
 * one wins whole. errno is kept across the clean-up of a failure.
 */
int util_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                           int no_replace);

/* The first steps of util_write_file_atomic, for callers that place several
 * files together: the temporary file (its malloc'd name in *tmp), written,
 * flushed and closed; nothing is left behind on failure. */
int util_write_temp(const char *path, const void *data, size_t len, mode_t mode, char **tmp);
/* Moves tmp to path (link() when no_replace: UTIL_FILE_EXISTS if path
 * exists). tmp is removed either way. */
int util_place_file(const char *tmp, const char *path, int no_replace);
/* Flushes the folder holding path, so that a rename survives a crash
 * (best effort). */
void util_sync_dir_of(const char *path);

#endif /* COMMON_FILE_H */
