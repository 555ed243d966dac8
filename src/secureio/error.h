/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The thread's error detail (secureio_error_detail()): internal setters.
 * A function that gives details clears it on entry and sets it where it
 * fails.
 */
#ifndef SECUREIO_ERROR_H
#define SECUREIO_ERROR_H

void sio_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "path: strerror(errno)" (errno is kept). */
void sio_detail_errno(const char *path);
void sio_detail_clear(void);

#endif /* SECUREIO_ERROR_H */
