/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths of key files: "~/" and a missing ~/.ssh (keypath.h).
 */
#define _GNU_SOURCE

#include "keypath.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/detail.h"

/* The user's home folder, or NULL. */
static const char *home_dir(char *buf, size_t cap)
{
    const char *h = getenv("HOME");
    if (h != NULL && h[0] == '/')
        return h;
    struct passwd pw, *res = NULL;
    if (getpwuid_r(getuid(), &pw, buf, cap, &res) != 0 || res == NULL || res->pw_dir == NULL ||
        res->pw_dir[0] != '/')
        return NULL;
    return res->pw_dir;
}

const char *sio_path_expand(sio_path *p, const char *path)
{
    if (path[0] != '~' || path[1] != '/')
        return path; /* ("~user/" is not expanded) */
    char pwbuf[1024];
    const char *home = home_dir(pwbuf, sizeof pwbuf);
    if (home == NULL) {
        util_detail("%s: no home folder for '~' (HOME is not set)", path);
        errno = ENOENT;
        return NULL;
    }
    size_t h = strlen(home), r = strlen(path + 1);
    while (h > 1 && home[h - 1] == '/')
        h--; /* ("/home/u/" + "/x") */
    if (h + r >= sizeof p->buf) {
        util_detail("%s: the path is too long once '~' is %s", path, home);
        errno = ENAMETOOLONG;
        return NULL;
    }
    memcpy(p->buf, home, h);
    memcpy(p->buf + h, path + 1, r + 1);
    return p->buf;
}

int sio_path_make_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
        return 0; /* the current folder, or / */
    size_t n = (size_t)(slash - path);
    char dir[SIO_PATH_MAX];
    if (n >= sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    struct stat st;
    if (stat(dir, &st) == 0 || errno != ENOENT)
        return 0; /* there (or not ours to make: the save says why) */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}
