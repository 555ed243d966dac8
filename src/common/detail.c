/* SPDX-License-Identifier: Apache-2.0 */
#include "common/detail.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DETAIL_MAX 512u
static _Thread_local char detail[DETAIL_MAX];

const char *util_detail_get(void)
{
    return detail;
}

void util_detail(const char *fmt, ...)
{
    va_list ap;
    int saved = errno;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    errno = saved;
}

void util_detail_errno(const char *path)
{
    int saved = errno;
    util_detail("%s: %s", path, strerror(saved));
    errno = saved;
}

void util_detail_clear(void)
{
    detail[0] = '\0';
}
