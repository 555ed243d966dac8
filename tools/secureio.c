/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secureio: secure sessions from the shell (secureio(1), docs/CLI.md).
 *
 *   secureio keygen   an Ed25519 identity (the files ssh-keygen writes)
 *   secureio pubkey   its public key line and SHA256 fingerprint
 *   secureio listen   wait for a peer, then standard input <-> the peer
 *   secureio connect  connect to a peer, the same
 *   secureio bench    the runtime's benchmarks
 *
 * This file reads the command line, the keys and the PSK; the data pump is
 * secureio_pipe.c.
 */
#define _GNU_SOURCE

#include "secureio_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define PSK_MAX 4096u

static const char usage_text[] =
    "usage: secureio COMMAND [OPTIONS]\n"
    "\n"
    "  keygen  [-f FILE] [-C COMMENT]     make an Ed25519 identity (FILE, FILE.pub)\n"
    "  pubkey  [-f FILE]                  print its public key line and fingerprint\n"
    "  listen  URL [PEER OPTIONS]         wait for a peer at URL, then pipe\n"
    "  connect URL --peer KEY|FILE        connect to the peer at URL, then pipe\n"
    "  bench   [--quick] [NAME...]        run the benchmarks\n"
    "\n"
    "URL: udp://HOST:PORT, tcp://HOST:PORT, unix:///PATH, unixgram:///PATH\n"
    "     (HOST a name, an IPv4 address or [IPv6]; listen on port 0 and -v\n"
    "     prints the port taken).\n"
    "\n"
    "listen and connect send standard input to the peer and write what the\n"
    "peer sends to standard output; at the end of input they tell the peer,\n"
    "and the session closes once both sides are done (give </dev/null to only\n"
    "receive). Over udp:// and unixgram:// each read of the input is one\n"
    "message, a lost datagram loses its message (never corrupts or repeats\n"
    "one), the sender paces itself to what the receiver acknowledges, and the\n"
    "receiver says at the end how many messages were lost.\n"
    "\n"
    "options:\n"
    "  -i, --identity FILE        our private key (default: $SECUREIO_IDENTITY,\n"
    "                             else ~/.ssh/id_ed25519; ssh-keygen's work)\n"
    "  -p, --peer KEY|FILE        the peer's public key: an 'ssh-ed25519 AAAA...'\n"
    "                             line, or a file holding one (a .pub file)\n"
    "  -a, --authorized-keys FILE listen: accept the keys of this file\n"
    "      --any-peer             listen: accept any peer (its key is printed)\n"
    "      --psk-file FILE        a pre-shared key (32 to 4096 bytes), mixed in\n"
    "  -t, --timeout SECONDS      connect: give up the handshake after (10)\n"
    "      --idle SECONDS         end the session when the peer is silent so long\n"
    "  -v, --verbose              states, key changes, progress on stderr;\n"
    "                             twice: the session's counters at the end\n"
    "  -h, --help                 this text;  --version  the version\n"
    "\n"
    "exit: 0 done, 1 failure, 2 usage, 3 key problem or peer refused,\n"
    "      4 connection refused or dropped, 5 timeout, 6 messages lost.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("secureio: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'secureio --help'.\n", stderr);
    return CLI_EXIT_USAGE;
}

void cli_fingerprint(const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN], char out[SECUREIO_FINGERPRINT_LEN])
{
    secureio_public_key_fingerprint(pk, out);
}

/* ~/.ssh/id_ed25519, or $SECUREIO_IDENTITY. */
static const char *default_identity(char *buf, size_t cap)
{
    const char *env = getenv("SECUREIO_IDENTITY");
    if (env != NULL && env[0] != 0)
        return env;
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == 0)
        return NULL;
    if ((size_t)snprintf(buf, cap, "%s/.ssh/id_ed25519", home) >= cap)
        return NULL;
    return buf;
}

/* What went wrong with a key file, in words, and the exit code. */
static int key_error(const char *what, const char *path, int rc)
{
    const char *detail = secureio_error_detail();
    fprintf(stderr, "secureio: %s %s: ", what, path);
    switch (rc) {
    case SECUREIO_ERR_ENCRYPTED_KEY:
        fputs("it is protected by a passphrase; secureio reads unencrypted keys "
              "(remove it with ssh-keygen -p -N '' -f FILE, or make a key of its own)\n",
              stderr);
        break;
    case SECUREIO_ERR_PERMISSIONS: fputs("others may read it (chmod 600 it)\n", stderr); break;
    case SECUREIO_ERR_UNSUPPORTED: fputs("not an Ed25519 key\n", stderr); break;
    default:
        if (detail != NULL && detail[0] != 0)
            fprintf(stderr, "%s\n", detail);
        else
            fprintf(stderr, "%s\n", secureio_strerror(rc));
    }
    return CLI_EXIT_KEY;
}

static int load_identity(secureio_identity **id, const char *path)
{
    char buf[PATH_MAX];
    if (path == NULL && (path = default_identity(buf, sizeof buf)) == NULL) {
        fputs("secureio: no identity: give --identity FILE (HOME is not set)\n", stderr);
        return CLI_EXIT_KEY;
    }
    int rc = secureio_identity_load(id, path);
    if (rc == SECUREIO_ERR_IO && errno == ENOENT) {
        fprintf(stderr,
                "secureio: no identity at %s: make one with 'secureio keygen -f %s' (or "
                "ssh-keygen -t ed25519), or give --identity FILE\n",
                path, path);
        return CLI_EXIT_KEY;
    }
    return rc == SECUREIO_OK ? 0 : key_error("cannot use the identity", path, rc);
}

/* --peer: a key line (the first line that is not blank or a '#' comment,
 * so that `secureio pubkey` output works as it is), or a file. */
static int load_peer(uint8_t pk[SECUREIO_PUBLIC_KEY_LEN], const char *arg)
{
    const char *p = arg;
    while (*p == ' ' || *p == '\t' || *p == '\n' || (*p == '#' && (p = strchr(p, '\n')) != NULL))
        p++;
    if (p != NULL && strncmp(p, "ssh-", 4) == 0) {
        size_t len = strcspn(p, "\n");
        int rc = secureio_public_key_parse(pk, p, len, NULL, 0);
        if (rc != SECUREIO_OK) {
            fprintf(stderr, "secureio: --peer: not a valid ssh-ed25519 key line (%s)\n",
                    secureio_strerror(rc));
            return CLI_EXIT_KEY;
        }
        return 0;
    }
    int rc = secureio_public_key_load(pk, arg);
    return rc == SECUREIO_OK ? 0 : key_error("cannot read the --peer key", arg, rc);
}

static int load_psk(uint8_t **psk, size_t *len, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "secureio: --psk-file %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CLI_EXIT_KEY;
    }
    /* ours: for us alone (as ssh wants of a private key); anyone's: at
     * least not for everyone (a group may share a PSK file it owns) */
    if (S_ISREG(st.st_mode) && (st.st_mode & (st.st_uid == geteuid() ? 077 : 007)) != 0) {
        fprintf(stderr, "secureio: --psk-file %s: others may read it (chmod 600 it)\n", path);
        close(fd);
        return CLI_EXIT_KEY;
    }
    *psk = sodium_malloc(PSK_MAX + 1);
    size_t n = 0;
    ssize_t r = 1;
    while (*psk != NULL && n <= PSK_MAX && (r = read(fd, *psk + n, PSK_MAX + 1 - n)) > 0)
        n += (size_t)r;
    int saved = errno;
    close(fd);
    if (*psk == NULL || r < 0 || n < SECUREIO_MIN_PSK_LEN || n > PSK_MAX) {
        if (*psk == NULL)
            fputs("secureio: out of memory\n", stderr);
        else if (r < 0)
            fprintf(stderr, "secureio: --psk-file %s: %s\n", path, strerror(saved));
        else
            fprintf(stderr,
                    "secureio: --psk-file %s: %zu bytes; a PSK has %u to %u (make one with "
                    "'head -c 32 /dev/urandom > FILE')\n",
                    path, n, SECUREIO_MIN_PSK_LEN, PSK_MAX);
        sodium_free(*psk);
        *psk = NULL;
        return CLI_EXIT_KEY;
    }
    *len = n;
    return 0;
}

/* Seconds (a decimal number, fractions allowed) into milliseconds. */
static int parse_seconds(const char *opt, const char *arg, uint64_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno != 0 || end == arg || *end != 0 || !(v > 0) || v > 86400.0 * 365)
        return usage_error("invalid %s '%s' (seconds)", opt, arg);
    *ms = (uint64_t)(v * 1000.0 + 0.5);
    if (*ms == 0)
        *ms = 1;
    return 0;
}

/* ---------------------------------------------------------------- keygen */

static int print_public(const secureio_identity *id)
{
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
    secureio_identity_public_key(id, pk);
    char line[SECUREIO_MAX_COMMENT_LEN + 128], fp[SECUREIO_FINGERPRINT_LEN];
    size_t len = sizeof line - 1;
    if (secureio_public_key_format(pk, secureio_identity_comment(id), line, &len) != SECUREIO_OK)
        return CLI_EXIT_FAIL;
    line[len] = 0;
    cli_fingerprint(pk, fp);
    printf("%s# %s\n", line, fp);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int cmd_keygen(const char *file, const char *comment)
{
    char buf[PATH_MAX];
    if (file == NULL && (file = default_identity(buf, sizeof buf)) == NULL)
        return usage_error("keygen: give -f FILE (HOME is not set)");
    if (access(file, F_OK) == 0) {
        fprintf(stderr, "secureio: %s exists; not replaced (remove it first, or give -f FILE)\n",
                file);
        return CLI_EXIT_FAIL;
    }
    /* ~/.ssh may not exist yet: make it as ssh does (0700) */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = 0;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "secureio: %s: %s\n", dir, strerror(errno));
            return CLI_EXIT_FAIL;
        }
    }
    secureio_identity *id = NULL;
    int rc = secureio_identity_generate(&id);
    if (rc == SECUREIO_OK)
        rc = secureio_identity_save(id, file, comment);
    if (rc != SECUREIO_OK) {
        const char *d = secureio_error_detail();
        fprintf(stderr, "secureio: cannot write %s: %s\n", file,
                d != NULL && d[0] ? d : secureio_strerror(rc));
        secureio_identity_free(id);
        return rc == SECUREIO_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    secureio_identity_free(id);
    fprintf(stderr, "secureio: wrote %s (private, 0600) and %s.pub\n", file, file);
    /* the line as read back from the file, with its comment */
    if ((rc = secureio_identity_load(&id, file)) != SECUREIO_OK)
        return key_error("cannot read back", file, rc);
    rc = print_public(id);
    secureio_identity_free(id);
    return rc;
}

/* pubkey: a private key file, or a public one (a .pub line). */
static int cmd_pubkey(const char *file)
{
    char buf[PATH_MAX];
    if (file == NULL && (file = default_identity(buf, sizeof buf)) == NULL)
        return usage_error("pubkey: give -f FILE (HOME is not set)");
    secureio_identity *id = NULL;
    int rc = secureio_identity_load(&id, file);
    if (rc == SECUREIO_OK) {
        rc = print_public(id);
        secureio_identity_free(id);
        return rc;
    }
    if (rc == SECUREIO_ERR_FORMAT || rc == SECUREIO_ERR_UNSUPPORTED) {
        uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
        int prc = secureio_public_key_load(pk, file);
        if (prc == SECUREIO_OK) {
            char line[128], fp[SECUREIO_FINGERPRINT_LEN];
            size_t len = sizeof line - 1;
            if (secureio_public_key_format(pk, NULL, line, &len) != SECUREIO_OK)
                return CLI_EXIT_FAIL;
            line[len] = 0;
            cli_fingerprint(pk, fp);
            printf("%s# %s\n", line, fp);
            return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        }
    }
    if (rc == SECUREIO_ERR_IO && errno == ENOENT) {
        fprintf(stderr, "secureio: %s: no such file (make one with 'secureio keygen')\n", file);
        return CLI_EXIT_KEY;
    }
    return key_error("cannot read", file, rc);
}

/* ------------------------------------------------------------------ main */

enum { OPT_ANY = 256, OPT_PSK, OPT_IDLE, OPT_VERSION, OPT_QUICK };

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("secureio %s (protocol %u)\n", secureio_version(), SECUREIO_PROTOCOL_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "bench") == 0)
        return runtime_bench_main(argc - 1, argv + 1, "secureio bench");
    int is_keygen = strcmp(cmd, "keygen") == 0, is_pubkey = strcmp(cmd, "pubkey") == 0;
    int is_listen = strcmp(cmd, "listen") == 0, is_connect = strcmp(cmd, "connect") == 0;
    if (!is_keygen && !is_pubkey && !is_listen && !is_connect)
        return usage_error("unknown command '%s'", cmd);

    static const struct option longs[] = {
        {"identity", required_argument, NULL, 'i'},
        {"file", required_argument, NULL, 'f'},
        {"comment", required_argument, NULL, 'C'},
        {"peer", required_argument, NULL, 'p'},
        {"authorized-keys", required_argument, NULL, 'a'},
        {"any-peer", no_argument, NULL, OPT_ANY},
        {"psk-file", required_argument, NULL, OPT_PSK},
        {"timeout", required_argument, NULL, 't'},
        {"idle", required_argument, NULL, OPT_IDLE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *identity = NULL, *file = NULL, *comment = NULL, *peer = NULL, *authorized = NULL,
               *psk_file = NULL;
    cli_pipe_opts po;
    memset(&po, 0, sizeof po);
    optind = 2;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":i:f:C:p:a:t:vh", longs, NULL)) != -1) {
        int key_cmd = is_keygen || is_pubkey;
        switch (c) {
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        case 'f':
            if (!key_cmd)
                return usage_error("-f is for keygen and pubkey (listen and connect take "
                                   "--identity)");
            file = optarg;
            break;
        case 'C':
            if (!is_keygen)
                return usage_error("-C is for keygen");
            comment = optarg;
            break;
        case 'i':
            if (key_cmd)
                file = optarg; /* the same file */
            else
                identity = optarg;
            break;
        case 'p': peer = optarg; break;
        case 'a': authorized = optarg; break;
        case OPT_ANY: po.any_peer = 1; break;
        case OPT_PSK: psk_file = optarg; break;
        case 't':
            if (parse_seconds("--timeout", optarg, &po.timeout_ms))
                return CLI_EXIT_USAGE;
            break;
        case OPT_IDLE:
            if (parse_seconds("--idle", optarg, &po.idle_ms))
                return CLI_EXIT_USAGE;
            break;
        case 'v': po.verbose++; break;
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
        if (key_cmd &&
            (c == 'p' || c == 'a' || c == OPT_ANY || c == OPT_PSK || c == 't' || c == OPT_IDLE))
            return usage_error("%s takes -f FILE (and keygen -C COMMENT) only", cmd);
    }
    if (sodium_init() < 0) {
        fputs("secureio: libsodium failed to start\n", stderr);
        return CLI_EXIT_FAIL;
    }
    if (is_keygen || is_pubkey) {
        if (optind != argc)
            return usage_error("unexpected argument '%s'", argv[optind]);
        return is_keygen ? cmd_keygen(file, comment) : cmd_pubkey(file);
    }
    if (optind != argc - 1)
        return optind == argc
                   ? usage_error("%s needs a URL (udp://HOST:PORT, tcp://HOST:PORT, "
                                 "unix:///PATH)",
                                 cmd)
                   : usage_error("unexpected argument '%s' after the URL", argv[optind + 1]);
    po.url = argv[optind];
    po.listen = is_listen;
    int who = (peer != NULL) + (authorized != NULL) + po.any_peer;
    if (is_connect && peer == NULL)
        return usage_error("connect needs the peer's key: --peer KEY|FILE");
    if (is_connect && (authorized != NULL || po.any_peer))
        return usage_error("connect takes --peer only (one key)");
    if (is_listen && who != 1)
        return who == 0 ? usage_error("listen: say who may connect: --peer KEY|FILE, "
                                      "--authorized-keys FILE or --any-peer")
                        : usage_error("listen: give one of --peer, --authorized-keys and "
                                      "--any-peer");

    signal(SIGPIPE, SIG_IGN); /* a closed standard output is an error, not a signal */
    secureio_identity *id = NULL;
    secureio_keylist *list = NULL;
    uint8_t peer_pk[SECUREIO_PUBLIC_KEY_LEN];
    uint8_t *psk = NULL;
    int rc = load_identity(&id, identity);
    if (rc == 0 && peer != NULL && (rc = load_peer(peer_pk, peer)) == 0) {
        po.peer = peer_pk;
        po.peer_source = peer;
        /* the library never takes our own identity as a peer: say so now */
        uint8_t own[SECUREIO_PUBLIC_KEY_LEN];
        secureio_identity_public_key(id, own);
        if (memcmp(own, peer_pk, sizeof own) == 0) {
            fprintf(stderr,
                    "secureio: --peer %s is our own key: each side needs an identity of its "
                    "own (secureio keygen -f FILE)\n",
                    peer);
            rc = CLI_EXIT_KEY;
        }
    }
    if (rc == 0 && authorized != NULL) {
        size_t bad = 0;
        int lrc = secureio_keylist_new(&list);
        if (lrc == SECUREIO_OK)
            lrc = secureio_keylist_load(list, authorized, &bad);
        if (lrc != SECUREIO_OK) {
            if (bad != 0)
                fprintf(stderr, "secureio: --authorized-keys %s: line %zu is not a valid key\n",
                        authorized, bad);
            else
                rc = key_error("cannot read --authorized-keys", authorized, lrc);
            rc = CLI_EXIT_KEY;
        } else if (secureio_keylist_count(list) == 0) {
            fprintf(stderr, "secureio: --authorized-keys %s: no ssh-ed25519 key in it\n",
                    authorized);
            rc = CLI_EXIT_KEY;
        }
        po.authorized = list;
        po.authorized_source = authorized;
    }
    if (rc == 0 && psk_file != NULL)
        rc = load_psk(&psk, &po.psk_len, psk_file);
    po.psk = psk;
    po.id = id;
    if (rc == 0)
        rc = cli_pipe(&po);
    sodium_free(psk);
    secureio_keylist_free(list);
    secureio_identity_free(id);
    return rc;
}
