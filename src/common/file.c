/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* mkostemp */

#include "common/file.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads fd to its end (closing it). */
static int read_fd(int fd, size_t max, char **out, size_t *out_len)
{
    /* room for max + 1 bytes (to tell a file that is too long) and a NUL */
    size_t cap = max < 4096 ? max + 2 : 4096, len = 0;
    char *buf = malloc(cap);
    int rc = 0, saved = 0;
    if (buf == NULL) {
        close(fd);
        return UTIL_FILE_NOMEM;
    }
    for (;;) {
        if (len == cap - 1) {
            if (len > max) {
                rc = UTIL_FILE_TOO_BIG;
                break;
            }
            size_t ncap = cap > (max + 2) / 2 ? max + 2 : cap * 2;
            char *nbuf = malloc(ncap);
            if (nbuf == NULL) {
                rc = UTIL_FILE_NOMEM;
                break;
            }
            memcpy(nbuf, buf, len);
            util_wipe(buf, len);
            free(buf);
            buf = nbuf;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            saved = errno;
            rc = UTIL_FILE_IO;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (rc == 0 && len > max)
        rc = UTIL_FILE_TOO_BIG;
    if (rc != 0) {
        util_wipe(buf, len);
        free(buf);
        if (saved != 0)
            errno = saved;
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

int util_read_file(const char *path, size_t max, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (max > SIZE_MAX - 2)
        max = SIZE_MAX - 2;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return UTIL_FILE_IO;
    return read_fd(fd, max, out, out_len);
}

int util_read_private_file(const char *path, size_t max, char **out, size_t *out_len,
                           unsigned *mode)
{
    struct stat st;
    *out = NULL;
    *out_len = 0;
    *mode = 0;
    if (max > SIZE_MAX - 2)
        max = SIZE_MAX - 2;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return UTIL_FILE_IO;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return UTIL_FILE_IO;
    }
    /* a file of ours that others may read is no private key (as ssh
     * judges it); a file of another owner is the kernel's to guard */
    if (st.st_uid == getuid() && (st.st_mode & 077) != 0)
        *mode = (unsigned)(st.st_mode & 07777);
    return read_fd(fd, max, out, out_len);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int util_write_temp(const char *path, const void *data, size_t len, mode_t mode, char **tmp)
{
    *tmp = NULL;
    size_t plen = strlen(path);
    char *name = malloc(plen + sizeof ".XXXXXX");
    if (name == NULL)
        return UTIL_FILE_NOMEM;
    memcpy(name, path, plen);
    memcpy(name + plen, ".XXXXXX", sizeof ".XXXXXX");
    int fd = mkostemp(name, O_CLOEXEC); /* O_EXCL, mode 0600 */
    if (fd < 0) {
        int saved = errno;
        free(name);
        errno = saved;
        return UTIL_FILE_IO;
    }
    int ok = fchmod(fd, mode) == 0 && write_all(fd, data, len) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(name);
        free(name);
        errno = saved;
        return UTIL_FILE_IO;
    }
    *tmp = name;
    return 0;
}

int util_place_file(const char *tmp, const char *path, int no_replace)
{
    int rc = 0;
    if (no_replace) {
        if (link(tmp, path) == 0) {
            unlink(tmp);
            return 0;
        }
        if (errno == EEXIST)
            rc = UTIL_FILE_EXISTS;
        else if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS && errno != EMLINK)
            rc = UTIL_FILE_IO;
        else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
            return 0; /* no hard links on this file system */
        else
            rc = errno == EEXIST ? UTIL_FILE_EXISTS : UTIL_FILE_IO;
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return rc;
    }
    if (rc == 0 && rename(tmp, path) == 0)
        return 0;
    if (rc == 0)
        rc = UTIL_FILE_IO;
    int saved = errno;
    unlink(tmp);
    errno = saved;
    return rc;
}

void util_sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir == NULL)
        return;
    if (slash == NULL)
        memcpy(dir, ".", 1);
    else if (slash == path)
        memcpy(dir, "/", 1);
    else
        memcpy(dir, path, n);
    dir[n] = '\0';
    int saved = errno;
    int fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    errno = saved;
    free(dir);
}

int util_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                           int no_replace)
{
    char *tmp;
    int rc = util_write_temp(path, data, len, mode, &tmp);
    if (rc != 0)
        return rc;
    rc = util_place_file(tmp, path, no_replace);
    int saved = errno;
    free(tmp);
    if (rc == 0)
        util_sync_dir_of(path);
    errno = saved;
    return rc;
}
