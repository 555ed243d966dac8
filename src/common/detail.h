/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The thread's error detail: a sentence about the last failure of a
 * function that gives details (twoway_error_detail(),
 * secureio_error_detail()). Compiled into each library, so each has its
 * own. A function that gives details clears it on entry and sets it where
 * it fails. errno is kept by every function here.
 */
#ifndef COMMON_DETAIL_H
#define COMMON_DETAIL_H

void util_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "path: strerror(errno)". */
void util_detail_errno(const char *path);
void util_detail_clear(void);
/* The current detail ("" when none). */
const char *util_detail_get(void);

#endif /* COMMON_DETAIL_H */
