/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-secureio_url: the runtime's addresses (src/secureio/url.c):
 * "udp://host:port", "tcp://…", "unix:///path", "unixgram:///path".
 *
 * Input: byte 0 bit 0 asks for a listening address (passive); the rest is
 * the text. Hosts are taken numeric only (no name lookups while fuzzing).
 * Invariants: only OK, ARG (with a detail) or IO; an address parsed is of
 * a family and type the scheme names, fits its storage, and a unix path
 * fits sun_path with its terminator; an address formatted back to text
 * parses again to the same family, type and bytes.
 */
#define _GNU_SOURCE
#define FUZZ_NAME "fuzz-secureio_url"

#include <secureio/identity.h>

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fuzz_common.h"
#include "secureio/session_internal.h"

static void check_parsed(const sio_url *u, const char *text)
{
    CHECK(u->type == SOCK_DGRAM || u->type == SOCK_STREAM);
    CHECK(u->addr_len > 0 && (size_t)u->addr_len <= sizeof u->addr);
    CHECK(u->addr.ss_family == u->family);
    if (u->family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)&u->addr;
        size_t n = strnlen(sun->sun_path, sizeof sun->sun_path);
        CHECK(n < sizeof sun->sun_path && sun->sun_path[0] == '/');
        CHECK(u->addr_len == offsetof(struct sockaddr_un, sun_path) + n + 1);
        CHECK(strncmp(text, u->type == SOCK_DGRAM ? "unixgram://" : "unix://",
                      u->type == SOCK_DGRAM ? 11 : 7) == 0);
    } else {
        CHECK(u->family == AF_INET || u->family == AF_INET6);
        CHECK(strncmp(text, u->type == SOCK_DGRAM ? "udp://" : "tcp://", 6) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 512)
        return 0;
    int flags = SIO_URL_NUMERIC | ((data[0] & 1) ? SIO_URL_PASSIVE : 0);
    char text[512];
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    sio_url u;
    int rc = sio_url_parse(&u, text, flags);
    CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_ARG || rc == SECUREIO_ERR_IO);
    if (rc == SECUREIO_ERR_ARG)
        CHECK(secureio_error_detail()[0] != '\0');
    if (rc != SECUREIO_OK)
        return 0;
    check_parsed(&u, text);

    char again[600];
    size_t len = sizeof again;
    rc = sio_url_format(again, &len, u.type, (const struct sockaddr *)&u.addr, u.addr_len);
    CHECK(rc == SECUREIO_OK);
    CHECK(len == strlen(again) + 1);
    sio_url v;
    CHECK(sio_url_parse(&v, again, flags) == SECUREIO_OK);
    check_parsed(&v, again);
    CHECK(v.family == u.family && v.type == u.type && v.addr_len == u.addr_len);
    CHECK(memcmp(&v.addr, &u.addr, u.addr_len) == 0);

    /* a buffer one byte short says how much it needs */
    size_t short_len = len - 1;
    CHECK(sio_url_format(again, &short_len, u.type, (const struct sockaddr *)&u.addr, u.addr_len) ==
          SECUREIO_ERR_BUFFER);
    CHECK(short_len == len);
    return 0;
}
