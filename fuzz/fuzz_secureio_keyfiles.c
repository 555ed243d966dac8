/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-secureio_keyfiles: the key file loaders of libsecureio
 * (secureio_identity_load, secureio_public_key_load, secureio_keylist_load)
 * on a file made of the input, against the in-memory parsers.
 *
 * Input: one byte picks the file's mode (0600, 0400, 0640 or 0644), the
 * rest is the file. Invariants: each loader gives one of its documented
 * codes and agrees with its parser on the same bytes: the identity loads
 * exactly when the text decodes and the mode lets nobody else read it
 * (else SECUREIO_ERR_PERMISSIONS for a key, the parser's error otherwise),
 * to the same public key; the key list holds exactly what parsing the text
 * gives; a public key file gives the key of its first key line. A detail is
 * set for every failure.
 */
#define _GNU_SOURCE /* O_CLOEXEC, fchmod */
#define FUZZ_NAME "fuzz-secureio_keyfiles"

#include <secureio/identity.h>

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(sodium_init() >= 0);
    snprintf(path, sizeof path, "/tmp/fuzz-secureio-keyfiles.%ld", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const mode_t modes[] = {0600, 0400, 0640, 0644};
    if (size < 1 || size > SECUREIO_MAX_KEY_FILE_LEN)
        return 0;
    mode_t mode = modes[data[0] % 4];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK(len == 0 || write(fd, text, len) == (ssize_t)len);
    CHECK(fchmod(fd, mode) == 0);
    CHECK(close(fd) == 0);

    /* the private key */
    secureio_identity *a = NULL, *b = NULL;
    int ra = secureio_identity_load(&a, path);
    int rb = secureio_identity_decode(&b, text, len);
    CHECK(ra == SECUREIO_OK || ra == SECUREIO_ERR_FORMAT || ra == SECUREIO_ERR_UNSUPPORTED ||
          ra == SECUREIO_ERR_ENCRYPTED_KEY || ra == SECUREIO_ERR_PERMISSIONS);
    int exposed = (mode & 077) != 0 && getuid() == geteuid();
    if (rb == SECUREIO_OK && exposed)
        CHECK(ra == SECUREIO_ERR_PERMISSIONS && a == NULL);
    else
        CHECK(ra == rb);
    if (ra != SECUREIO_OK)
        CHECK(secureio_error_detail()[0] != '\0');
    if (ra == SECUREIO_OK) {
        uint8_t pa[32], pb[32];
        secureio_identity_public_key(a, pa);
        secureio_identity_public_key(b, pb);
        CHECK(memcmp(pa, pb, 32) == 0);
    }
    secureio_identity_free(a);
    secureio_identity_free(b);

    /* the public key file */
    uint8_t pk[32];
    int rp = secureio_public_key_load(pk, path);
    CHECK(rp == SECUREIO_OK || rp == SECUREIO_ERR_FORMAT || rp == SECUREIO_ERR_UNSUPPORTED);
    if (rp != SECUREIO_OK)
        CHECK(secureio_error_detail()[0] != '\0');

    /* the key list */
    secureio_keylist *la = NULL, *lb = NULL;
    CHECK(secureio_keylist_new(&la) == SECUREIO_OK && secureio_keylist_new(&lb) == SECUREIO_OK);
    size_t bad_a = 0, bad_b = 0;
    int rla = secureio_keylist_load(la, path, &bad_a);
    int rlb = secureio_keylist_parse(lb, text, len, &bad_b);
    CHECK(rla == rlb && bad_a == bad_b);
    CHECK(rla == SECUREIO_OK || rla == SECUREIO_ERR_FORMAT);
    CHECK(secureio_keylist_count(la) == secureio_keylist_count(lb));
    secureio_keylist_free(la);
    secureio_keylist_free(lb);
    return 0;
}
