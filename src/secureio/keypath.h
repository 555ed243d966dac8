/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths of key files (identity.h): "~/" at the start is the user's home
 * ($HOME, else the password database), as in ssh's own configuration; and
 * the folder a new identity goes to (~/.ssh on a fresh account) is made
 * when it is missing. Internal: not installed.
 */
#ifndef SECUREIO_KEYPATH_H
#define SECUREIO_KEYPATH_H

#define SIO_PATH_MAX 4096u

typedef struct sio_path {
    char buf[SIO_PATH_MAX];
} sio_path;

/* path itself, or its expansion in p->buf; NULL (errno, a detail set) when
 * "~/" cannot be expanded or the result is too long. */
const char *sio_path_expand(sio_path *p, const char *path);

/* Makes the folder that holds path, one level only and mode 0700, when it
 * does not exist. 0, or -1 (errno) when it could not be made. */
int sio_path_make_parent(const char *path);

#endif
