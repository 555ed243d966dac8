/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The thread's error detail (twoway_error_detail()): internal setters. A
 * function that gives details clears it on entry and sets it where it
 * fails.
 */
#ifndef TWOWAY_ERROR_H
#define TWOWAY_ERROR_H

void tw_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "path: strerror(errno)" (errno is kept). */
void tw_detail_errno(const char *path);
void tw_detail_clear(void);

#endif /* TWOWAY_ERROR_H */
