/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway: seal and open HPKE requests and responses (the twoway format,
 * Oblivious HTTP and chunked OHTTP) from the command line. docs/CLI.md.
 *
 *   twoway keygen        a key pair: private key file + key configuration
 *   twoway seal-request  client: a request to a key configuration
 *   twoway open-request  server: opens it with the private key
 *   twoway seal-response server: the response, bound to the request
 *   twoway open-response client: opens it
 *
 * Messages stream through the library's pull interface, so chunked ones of
 * any size go through in constant memory. Between the request and the
 * response each side keeps a state file (twoway_context_save).
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ------------------------------------------------------------- options */

enum {
    OPT_IN = 1u << 0,
    OPT_OUT = 1u << 1,
    OPT_KEM = 1u << 2,
    OPT_KDF = 1u << 3,
    OPT_AEAD = 1u << 4,
    OPT_KEY_ID = 1u << 5,
    OPT_CONFIG = 1u << 6,
    OPT_KEY = 1u << 7,
    OPT_STATE = 1u << 8,
    OPT_MEDIA = 1u << 9,
    OPT_RESPONSE_MEDIA = 1u << 10,
    OPT_CHUNKED = 1u << 11,
};

static const struct option long_options[] = {
    {"in", required_argument, NULL, OPT_IN},
    {"out", required_argument, NULL, OPT_OUT},
    {"kem", required_argument, NULL, OPT_KEM},
    {"kdf", required_argument, NULL, OPT_KDF},
    {"aead", required_argument, NULL, OPT_AEAD},
    {"key-id", required_argument, NULL, OPT_KEY_ID},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"key", required_argument, NULL, OPT_KEY},
    {"state", required_argument, NULL, OPT_STATE},
    {"media-type", required_argument, NULL, OPT_MEDIA},
    {"response-media-type", required_argument, NULL, OPT_RESPONSE_MEDIA},
    {"chunked", no_argument, NULL, OPT_CHUNKED},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

#define MAX_ALGS 3

typedef struct cli_args {
    const char *in, *out, *config, *key, *state, *media, *response_media;
    uint16_t kem, kdf[MAX_ALGS], aead[MAX_ALGS];
    size_t n_kem, n_kdf, n_aead;
    int key_id; /* -1: not given */
    int chunked;
} cli_args;

typedef struct command {
    const char *name;
    unsigned allowed, repeatable, required;
    int (*run)(const cli_args *a);
    const char *synopsis, *help;
} command;

static const char *option_name(unsigned flag)
{
    static char name[32];
    if (flag == OPT_IN || flag == OPT_OUT)
        return flag == OPT_IN ? "-i/--in" : "-o/--out";
    for (const struct option *o = long_options; o->name != NULL; o++)
        if ((unsigned)o->val == flag)
            snprintf(name, sizeof name, "--%s", o->name);
    return name;
}

__attribute__((format(printf, 2, 3))) static int usage_error(const command *cmd, const char *fmt,
                                                             ...)
{
    va_list ap;
    fputs("twoway: ", stderr);
    if (cmd != NULL)
        fprintf(stderr, "%s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd != NULL)
        fprintf(stderr, "\nusage: twoway %s %s\nTry 'twoway %s --help'.\n", cmd->name,
                cmd->synopsis, cmd->name);
    else
        fputs("\nTry 'twoway --help'.\n", stderr);
    return CLI_EXIT_USAGE;
}

/* Adds an algorithm to list (once). */
static int add_alg(const command *cmd, enum cli_alg_kind kind, const char *arg, uint16_t *list,
                   size_t *n)
{
    uint16_t id;
    if (cli_alg_parse(kind, arg, &id) != 0) {
        static const char *const what[] = {"KEM", "KDF", "AEAD"};
        return usage_error(cmd, "unknown %s '%s' (one of %s)", what[kind], arg,
                           cli_alg_choices(kind));
    }
    for (size_t i = 0; i < *n; i++)
        if (list[i] == id)
            return 0;
    list[(*n)++] = id;
    return 0;
}

/* Returns 0, -1 after --help, or CLI_EXIT_USAGE. */
static int parse_args(const command *cmd, int argc, char **argv, cli_args *a)
{
    unsigned seen = 0;
    memset(a, 0, sizeof *a);
    a->key_id = -1;
    opterr = 0;
    optind = 1;
    for (;;) {
        int prev = optind;
        int c = getopt_long(argc, argv, ":i:o:h", long_options, NULL);
        if (c == -1)
            break;
        if (c == 'i' || c == 'o')
            c = c == 'i' ? OPT_IN : OPT_OUT;
        if (c == 'h') {
            printf("usage: twoway %s %s\n\n%s", cmd->name, cmd->synopsis, cmd->help);
            return -1;
        }
        if (c == '?' || c == ':') {
            const char *opt = argv[prev];
            return usage_error(cmd, c == '?' ? "unknown option '%s'" : "option '%s' needs a value",
                               opt);
        }
        unsigned flag = (unsigned)c;
        if (!(cmd->allowed & flag))
            return usage_error(cmd, "%s is not an option of this command", option_name(flag));
        if ((seen & flag) && !(cmd->repeatable & flag))
            return usage_error(cmd, "%s may be given only once", option_name(flag));
        seen |= flag;
        int rc = 0;
        switch (flag) {
        case OPT_IN: a->in = optarg; break;
        case OPT_OUT: a->out = optarg; break;
        case OPT_CONFIG: a->config = optarg; break;
        case OPT_KEY: a->key = optarg; break;
        case OPT_STATE: a->state = optarg; break;
        case OPT_MEDIA: a->media = optarg; break;
        case OPT_RESPONSE_MEDIA: a->response_media = optarg; break;
        case OPT_CHUNKED: a->chunked = 1; break;
        case OPT_KEM: rc = add_alg(cmd, CLI_KEM, optarg, &a->kem, &a->n_kem); break;
        case OPT_KDF: rc = add_alg(cmd, CLI_KDF, optarg, a->kdf, &a->n_kdf); break;
        case OPT_AEAD: rc = add_alg(cmd, CLI_AEAD, optarg, a->aead, &a->n_aead); break;
        case OPT_KEY_ID: {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 0);
            if (errno != 0 || *end != 0 || end == optarg || *optarg == '-' || v > 255)
                return usage_error(cmd, "invalid key id '%s' (0 to 255)", optarg);
            a->key_id = (int)v;
            break;
        }
        default: break;
        }
        if (rc != 0)
            return rc;
    }
    if (optind < argc)
        return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    unsigned missing = cmd->required & ~seen;
    if (missing != 0)
        return usage_error(cmd, "%s is required", option_name(missing & -missing));
    return 0;
}

/* ----------------------------------------------------------- streaming */

typedef int (*pull_fn)(void *obj, cli_source *src, uint8_t *out, size_t cap, size_t *out_len);

static int pull_sealer(void *obj, cli_source *src, uint8_t *out, size_t cap, size_t *out_len)
{
    return twoway_sealer_read(obj, cli_source_read, src, out, cap, out_len);
}

static int pull_opener(void *obj, cli_source *src, uint8_t *out, size_t cap, size_t *out_len)
{
    return twoway_opener_read(obj, cli_source_read, src, out, cap, out_len);
}

#define PUMP_WRITE_FAILED 1 /* (reported by the sink) */

/* The whole message from src through obj into dst: TWOWAY_OK, the library's
 * error, or PUMP_WRITE_FAILED. */
static int pump(pull_fn pull, void *obj, cli_source *src, cli_sink *dst)
{
    static uint8_t buf[1u << 16];
    size_t used = 0;
    int rc;
    for (;;) {
        size_t n = 0;
        rc = pull(obj, src, buf, sizeof buf, &n);
        if (rc != TWOWAY_OK || n == 0)
            break;
        used = n > used ? n : used;
        if (cli_sink_write(dst, buf, n) != 0) {
            rc = PUMP_WRITE_FAILED;
            break;
        }
    }
    cli_wipe(buf, used);
    return rc;
}

/* Reports a failed pump. noun: "request" or "response". */
static void stream_error(int rc, const cli_source *src, const cli_sink *dst, int opening,
                         const char *noun, int chunked)
{
    char partial[160] = "";
    if (dst->path == NULL && dst->count > 0)
        snprintf(partial, sizeof partial,
                 opening ? " (the %llu bytes written to stdout before the error are not "
                           "trustworthy)"
                         : " (the %llu bytes written to stdout are not a whole message)",
                 (unsigned long long)dst->count);
    if (rc == PUMP_WRITE_FAILED)
        return;
    if (rc == TWOWAY_ERR_IO && src->err != 0)
        cli_error("reading %s: %s%s", src->name, strerror(src->err), partial);
    else if (rc == TWOWAY_ERR_TOO_BIG && !chunked)
        cli_error("%s the %s: %s: an unchunked message is processed whole and may be at most "
                  "%zu MiB (chunked messages have no limit: --chunked, on both sides)%s",
                  opening ? "opening" : "sealing", noun, twoway_strerror(rc),
                  TWOWAY_DEFAULT_MAX_MESSAGE_LEN >> 20, partial);
    else if (opening && (rc == TWOWAY_ERR_AUTH || rc == TWOWAY_ERR_TRUNCATED ||
                         rc == TWOWAY_ERR_TOO_BIG || rc == TWOWAY_ERR_FORMAT))
        cli_error("the %s is incomplete or corrupt: %s%s%s", noun, twoway_strerror(rc),
                  rc == TWOWAY_ERR_AUTH
                      ? (strcmp(noun, "request") == 0
                             ? " (or it was sealed to another key than the one in --key, or "
                               "--media-type or --chunked differ from the sender's)"
                             : " (or --media-type or --chunked differ from the sender's)")
                      : "",
                  partial);
    else
        cli_error("%s the %s: %s%s", opening ? "opening" : "sealing", noun, twoway_strerror(rc),
                  partial);
}

/* Streams a sealer or opener from a->in to a->out. With state_path (obj is
 * then a request sealer or opener), saves its context there for the response
 * media type, once the whole message went through. */
static int run_stream(const cli_args *a, pull_fn pull, void *obj, int opening, const char *noun,
                      const char *state_path, const char *response_media)
{
    cli_source src;
    cli_sink dst;
    int status = CLI_EXIT_FAIL;
    if (cli_source_open(&src, a->in) != 0)
        return CLI_EXIT_FAIL;
    if (cli_sink_open(&dst, a->out, 0) != 0) {
        cli_source_close(&src);
        return CLI_EXIT_FAIL;
    }
    int rc = pump(pull, obj, &src, &dst);
    if (rc != TWOWAY_OK) {
        stream_error(rc, &src, &dst, opening, noun, a->chunked);
        goto done;
    }
    if (state_path != NULL) {
        const twoway_context *ctx =
            opening ? twoway_opener_context(obj) : twoway_sealer_context(obj);
        uint8_t blob[TWOWAY_CONTEXT_BLOB_MAX];
        size_t blob_len = sizeof blob;
        rc = twoway_context_save(ctx, (const uint8_t *)response_media, strlen(response_media), blob,
                                 &blob_len);
        if (rc != TWOWAY_OK)
            cli_error("saving the state: %s", twoway_strerror(rc));
        else if (cli_write_file(state_path, 1, blob, blob_len) != 0)
            rc = TWOWAY_ERR_IO;
        cli_wipe(blob, sizeof blob);
        if (rc != TWOWAY_OK)
            goto done;
    }
    if (cli_sink_commit(&dst) == 0)
        status = 0;
done:
    cli_sink_abort(&dst);
    cli_source_close(&src);
    return status;
}

/* Sealed messages are binary: not for a terminal. */
static int refuse_terminal(const cli_args *a)
{
    if (a->out == NULL && isatty(STDOUT_FILENO)) {
        cli_error(
            "refusing to write a binary message to a terminal (use -o FILE or a redirection)");
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------- subcommands */

static int cmd_keygen(const cli_args *a)
{
    twoway_key_config cfg;
    cli_keyfile kf;
    twoway_hpke_key *key = NULL;
    uint8_t
        configs[2 + 1 + 2 + TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN + 2 + 4 * TWOWAY_KEY_CONFIG_MAX_SUITES];
    char text[CLI_KEYFILE_MAX];
    size_t configs_len = sizeof configs, text_len = 0;
    char *pub_path = NULL;
    int status = CLI_EXIT_FAIL;

    /* a private key is never replaced silently */
    if (access(a->out, F_OK) == 0) {
        fprintf(stderr,
                "twoway: keygen: %s exists: refusing to replace a private key (remove it first)\n",
                a->out);
        return CLI_EXIT_FAIL;
    }
    memset(&cfg, 0, sizeof cfg);
    memset(&kf, 0, sizeof kf);
    kf.key_id = cfg.key_id = (uint8_t)(a->key_id < 0 ? 0 : a->key_id);
    kf.kem_id = cfg.kem_id = a->n_kem ? a->kem : TWOWAY_HPKE_KEM_X25519_SHA256;
    for (size_t i = 0; i < (a->n_kdf ? a->n_kdf : 1); i++) {
        for (size_t j = 0; j < (a->n_aead ? a->n_aead : 1); j++) {
            twoway_symmetric_suite s = {a->n_kdf ? a->kdf[i] : TWOWAY_HPKE_KDF_HKDF_SHA256,
                                        a->n_aead ? a->aead[j] : TWOWAY_HPKE_AEAD_AES_128_GCM};
            kf.suites[kf.n_suites++] = cfg.suites[cfg.n_suites++] = s;
        }
    }
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(cfg.kem_id);
    int rc = kem == NULL ? TWOWAY_ERR_UNSUPPORTED : twoway_hpke_key_generate(kem, &key);
    if (rc != TWOWAY_OK) {
        cli_error("generating the key pair: %s", twoway_strerror(rc));
        goto done;
    }
    cfg.public_key_len = kf.pk_len = sizeof kf.pk;
    kf.sk_len = sizeof kf.sk;
    rc = twoway_hpke_key_export_public(key, kf.pk, &kf.pk_len);
    if (rc == TWOWAY_OK)
        rc = twoway_hpke_key_export_private(key, kf.sk, &kf.sk_len);
    if (rc == TWOWAY_OK) {
        cfg.public_key_len = kf.pk_len;
        memcpy(cfg.public_key, kf.pk, kf.pk_len);
        rc = twoway_key_configs_encode(&cfg, 1, configs, &configs_len);
    }
    if (rc != TWOWAY_OK) {
        cli_error("encoding the key: %s", twoway_strerror(rc));
        goto done;
    }
    text_len = cli_keyfile_format(&kf, text);
    if (text_len == 0) {
        cli_error("encoding the key file: it does not fit");
        goto done;
    }
    const char *config_path = a->config;
    if (config_path == NULL) {
        size_t n = strlen(a->out);
        pub_path = malloc(n + sizeof ".pub");
        if (pub_path == NULL) {
            cli_error("%s", strerror(ENOMEM));
            goto done;
        }
        memcpy(pub_path, a->out, n);
        memcpy(pub_path + n, ".pub", sizeof ".pub");
        config_path = pub_path;
    }
    if (cli_write_file(a->out, 1, (const uint8_t *)text, text_len) == 0 &&
        cli_write_file(config_path, 0, configs, configs_len) == 0)
        status = 0;
done:
    cli_wipe(text, sizeof text);
    cli_wipe(&kf, sizeof kf);
    free(pub_path);
    twoway_hpke_key_free(key);
    return status;
}

/* The configuration to use (by key id, else the first) and its suite (the
 * requested KDF/AEAD, else the first listed). */
static int pick_config(const cli_args *a, const twoway_key_config *cfgs, size_t n,
                       const twoway_key_config **cfg, twoway_symmetric_suite *suite)
{
    *cfg = NULL;
    for (size_t i = 0; i < n && *cfg == NULL; i++)
        if (a->key_id < 0 || cfgs[i].key_id == a->key_id)
            *cfg = &cfgs[i];
    if (*cfg == NULL) {
        cli_error("%s has no key configuration with key id %d", a->config, a->key_id);
        return -1;
    }
    for (size_t i = 0; i < (*cfg)->n_suites; i++) {
        const twoway_symmetric_suite *s = &(*cfg)->suites[i];
        if ((!a->n_kdf || s->kdf_id == a->kdf[0]) && (!a->n_aead || s->aead_id == a->aead[0])) {
            *suite = *s;
            return 0;
        }
    }
    cli_error("key configuration %u of %s accepts no suite with%s%s%s%s", (unsigned)(*cfg)->key_id,
              a->config, a->n_kdf ? " KDF " : "", a->n_kdf ? cli_alg_name(CLI_KDF, a->kdf[0]) : "",
              a->n_aead ? " AEAD " : "", a->n_aead ? cli_alg_name(CLI_AEAD, a->aead[0]) : "");
    return -1;
}

static const char *media_or(const char *given, int chunked, const char *plain, const char *chunky)
{
    return given != NULL ? given : chunked ? chunky : plain;
}

static int cmd_seal_request(const cli_args *a)
{
    uint8_t *file = NULL;
    size_t file_len = 0, n = 0;
    twoway_key_config *cfgs = NULL;
    const twoway_key_config *cfg;
    twoway_symmetric_suite sym;
    twoway_hpke_suite suite;
    twoway_hpke_key *pub = NULL;
    twoway_sealer *sealer = NULL;
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    int status = CLI_EXIT_FAIL, rc;
    const char *media =
        media_or(a->media, a->chunked, TWOWAY_OHTTP_REQUEST, TWOWAY_OHTTP_CHUNKED_REQUEST);
    const char *rmedia = media_or(a->response_media, a->chunked, TWOWAY_OHTTP_RESPONSE,
                                  TWOWAY_OHTTP_CHUNKED_RESPONSE);

    if (refuse_terminal(a) ||
        cli_read_file(a->config, "key configuration", 1u << 16, &file, &file_len) != 0)
        return CLI_EXIT_FAIL;
    cfgs = calloc(256, sizeof *cfgs);
    rc = cfgs == NULL ? TWOWAY_ERR_NOMEM : twoway_key_configs_decode(cfgs, 256, &n, file, file_len);
    if (rc == TWOWAY_OK && n == 0)
        rc = TWOWAY_ERR_UNSUPPORTED;
    if (rc != TWOWAY_OK) {
        /* the likely mix-up: the private key file instead of its configuration */
        int is_private = 0;
        for (size_t i = 0; i + 18 <= file_len && !is_private; i++)
            is_private = memcmp(file + i, "twoway-private-key", 18) == 0;
        cli_error("reading the key configuration %s: %s%s", a->config, twoway_strerror(rc),
                  is_private ? " (this is a private key file: --config wants the key "
                               "configuration, the KEYFILE.pub that keygen wrote)"
                             : "");
        goto done;
    }
    if (pick_config(a, cfgs, n, &cfg, &sym) != 0)
        goto done;
    rc = twoway_hpke_suite_from_ids(&suite, cfg->kem_id, sym.kdf_id, sym.aead_id);
    if (rc == TWOWAY_OK)
        rc = twoway_hpke_key_import_public(suite.kem, &pub, cfg->public_key, cfg->public_key_len);
    opt.chunked = a->chunked;
    if (rc == TWOWAY_OK)
        rc = twoway_request_sealer_new(&sealer, &suite, cfg->key_id, pub, (const uint8_t *)media,
                                       strlen(media), &opt);
    if (rc != TWOWAY_OK) {
        cli_error("sealing the request: %s", twoway_strerror(rc));
        goto done;
    }
    status = run_stream(a, pull_sealer, sealer, 0, "request",
                        a->state ? a->state : "twoway-client.state", rmedia);
done:
    twoway_sealer_free(sealer);
    twoway_hpke_key_free(pub);
    free(cfgs);
    free(file);
    return status;
}

static int cmd_open_request(const cli_args *a)
{
    uint8_t *file = NULL;
    size_t file_len = 0;
    cli_keyfile kf;
    twoway_hpke_key *key = NULL;
    twoway_keyring *ring = NULL;
    twoway_opener *opener = NULL;
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    int status = CLI_EXIT_FAIL, rc;
    const char *media =
        media_or(a->media, a->chunked, TWOWAY_OHTTP_REQUEST, TWOWAY_OHTTP_CHUNKED_REQUEST);
    const char *rmedia = media_or(a->response_media, a->chunked, TWOWAY_OHTTP_RESPONSE,
                                  TWOWAY_OHTTP_CHUNKED_RESPONSE);

    if (cli_read_file(a->key, "key file", CLI_KEYFILE_MAX, &file, &file_len) != 0)
        return CLI_EXIT_FAIL;
    rc = cli_keyfile_parse(&kf, (const char *)file, file_len, a->key);
    cli_free_secret(file, file_len);
    if (rc != 0)
        return CLI_EXIT_FAIL;
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(kf.kem_id);
    rc = kem == NULL ? TWOWAY_ERR_UNSUPPORTED
                     : twoway_hpke_key_import_private(kem, &key, kf.sk, kf.sk_len);
    if (rc == TWOWAY_OK) {
        size_t pk_len;
        const uint8_t *pk = twoway_hpke_key_public(key, &pk_len);
        if (pk == NULL || pk_len != kf.pk_len || memcmp(pk, kf.pk, pk_len) != 0) {
            cli_error("%s: its public key does not match its private key", a->key);
            goto done;
        }
    }
    if (rc == TWOWAY_OK)
        rc = twoway_keyring_new(&ring);
    for (size_t i = 0; rc == TWOWAY_OK && i < kf.n_suites; i++) {
        twoway_hpke_suite suite;
        rc = twoway_hpke_suite_from_ids(&suite, kf.kem_id, kf.suites[i].kdf_id,
                                        kf.suites[i].aead_id);
        if (rc == TWOWAY_OK)
            rc = twoway_keyring_add(ring, kf.key_id, &suite, key);
    }
    if (rc != TWOWAY_OK) {
        cli_error("loading the key from %s: %s", a->key, twoway_strerror(rc));
        goto done;
    }
    opt.chunked = a->chunked;
    rc = twoway_request_opener_new(&opener, ring, (const uint8_t *)media, strlen(media), &opt);
    if (rc != TWOWAY_OK) {
        cli_error("opening the request: %s", twoway_strerror(rc));
        goto done;
    }
    status = run_stream(a, pull_opener, opener, 1, "request",
                        a->state ? a->state : "twoway-server.state", rmedia);
done:
    twoway_opener_free(opener);
    twoway_keyring_free(ring);
    twoway_hpke_key_free(key);
    cli_wipe(&kf, sizeof kf);
    return status;
}

/* seal-response and open-response: the saved context, then the stream. */
static int response(const cli_args *a, int opening)
{
    uint8_t *file = NULL;
    size_t file_len = 0;
    twoway_context *ctx = NULL;
    twoway_opener *opener = NULL;
    twoway_sealer *sealer = NULL;
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    int status = CLI_EXIT_FAIL, rc;
    const char *media =
        media_or(a->media, a->chunked, TWOWAY_OHTTP_RESPONSE, TWOWAY_OHTTP_CHUNKED_RESPONSE);

    if ((!opening && refuse_terminal(a)) ||
        cli_read_file(a->state, "state file", TWOWAY_CONTEXT_BLOB_MAX, &file, &file_len) != 0)
        return CLI_EXIT_FAIL;
    rc = twoway_context_load(&ctx, file, file_len);
    cli_free_secret(file, file_len);
    if (rc != TWOWAY_OK) {
        cli_error("%s is not a usable state file: %s", a->state, twoway_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    opt.chunked = a->chunked;
    if (opening)
        rc = twoway_response_opener_new(&opener, ctx, (const uint8_t *)media, strlen(media), &opt);
    else
        rc = twoway_response_sealer_new(&sealer, ctx, (const uint8_t *)media, strlen(media), &opt);
    if (rc == TWOWAY_ERR_ARG)
        cli_error("%s was saved for another response media type than '%s' (give the same "
                  "--response-media-type, or --chunked, as to %s)",
                  a->state, media, opening ? "seal-request" : "open-request");
    else if (rc != TWOWAY_OK)
        cli_error("%s the response: %s", opening ? "opening" : "sealing", twoway_strerror(rc));
    else if (opening)
        status = run_stream(a, pull_opener, opener, 1, "response", NULL, NULL);
    else
        status = run_stream(a, pull_sealer, sealer, 0, "response", NULL, NULL);
    twoway_opener_free(opener);
    twoway_sealer_free(sealer);
    twoway_context_free(ctx);
    return status;
}

static int cmd_seal_response(const cli_args *a)
{
    return response(a, 0);
}

static int cmd_open_response(const cli_args *a)
{
    return response(a, 1);
}

/* ---------------------------------------------------------------- main */

#define IO_HELP                                                                                    \
    "  -i, --in FILE        read FILE instead of stdin\n"                                          \
    "  -o, --out FILE       write FILE (complete, or not at all) instead of stdout\n"
#define MEDIA_HELP(KIND, kind)                                                                     \
    "  --media-type T       the " kind "'s media type (default '" TWOWAY_OHTTP_##KIND              \
        "',\n"                                                                                     \
        "                       with --chunked '" TWOWAY_OHTTP_CHUNKED_##KIND "')\n"
#define RMEDIA_HELP                                                                                \
    "  --response-media-type T  the response's media type, kept in the state file\n"               \
    "                       (default '" TWOWAY_OHTTP_RESPONSE "', with --chunked\n"                \
    "                       '" TWOWAY_OHTTP_CHUNKED_RESPONSE "')\n"

static const command commands[] = {
    {"keygen", OPT_OUT | OPT_KEM | OPT_KDF | OPT_AEAD | OPT_KEY_ID | OPT_CONFIG, OPT_KDF | OPT_AEAD,
     OPT_OUT, cmd_keygen,
     "[--kem KEM] [--kdf KDF]... [--aead AEAD]... [--key-id N] -o KEYFILE [--config FILE]",
     "Generates a key pair. Writes the private key to KEYFILE (mode 0600) and its\n"
     "public key configuration (RFC 9458 application/ohttp-keys) to FILE\n"
     "(default KEYFILE.pub), accepting every (KDF, AEAD) pair given.\n\n"
     "  --kem KEM            x25519 (default), p256, p384, p521, x448\n"
     "  --kdf KDF            sha256 (default), sha384, sha512 (repeatable)\n"
     "  --aead AEAD          aes128gcm (default), aes256gcm, chacha20poly1305 (repeatable)\n"
     "  --key-id N           the key id, 0 to 255 (default 0)\n"
     "  -o, --out KEYFILE    the private key file (required)\n"
     "  --config FILE        the key configuration file\n"},
    {"seal-request",
     OPT_IN | OPT_OUT | OPT_CONFIG | OPT_KEY_ID | OPT_KDF | OPT_AEAD | OPT_MEDIA |
         OPT_RESPONSE_MEDIA | OPT_CHUNKED | OPT_STATE,
     0, OPT_CONFIG, cmd_seal_request,
     "--config FILE [--key-id N] [--kdf KDF] [--aead AEAD] [--chunked] [--state STATEFILE]\n"
     "       [--media-type T] [--response-media-type T] [-i IN] [-o OUT]",
     "Client: seals a request to a key configuration (application/ohttp-keys) and\n"
     "saves what opening its response needs to STATEFILE (a secret, mode 0600).\n\n"
     "  --config FILE        the receiver's key configuration list (required)\n"
     "  --key-id N           use the configuration with this key id (default: the first)\n"
     "  --kdf, --aead        use this suite (default: the first the configuration lists)\n"
     "  --chunked            chunked framing (any size, constant memory)\n"
     "  --state STATEFILE    default twoway-client.state\n" MEDIA_HELP(REQUEST, "request")
         RMEDIA_HELP IO_HELP},
    {"open-request",
     OPT_IN | OPT_OUT | OPT_KEY | OPT_MEDIA | OPT_RESPONSE_MEDIA | OPT_CHUNKED | OPT_STATE, 0,
     OPT_KEY, cmd_open_request,
     "--key KEYFILE [--chunked] [--state STATEFILE] [--media-type T]\n"
     "       [--response-media-type T] [-i IN] [-o OUT]",
     "Server: opens a request with the private key in KEYFILE and saves what\n"
     "sealing its response needs to STATEFILE (a secret, mode 0600).\n\n"
     "  --key KEYFILE        the private key file of keygen (required)\n"
     "  --chunked            the request is chunked\n"
     "  --state STATEFILE    default twoway-server.state\n" MEDIA_HELP(REQUEST, "request")
         RMEDIA_HELP IO_HELP},
    {"seal-response", OPT_IN | OPT_OUT | OPT_STATE | OPT_MEDIA | OPT_CHUNKED, 0, OPT_STATE,
     cmd_seal_response, "--state STATEFILE [--chunked] [--media-type T] [-i IN] [-o OUT]",
     "Server: seals the response to the request open-request opened.\n\n"
     "  --state STATEFILE    the state file of open-request (required)\n"
     "  --chunked            chunked framing\n" MEDIA_HELP(RESPONSE, "response") IO_HELP},
    {"open-response", OPT_IN | OPT_OUT | OPT_STATE | OPT_MEDIA | OPT_CHUNKED, 0, OPT_STATE,
     cmd_open_response, "--state STATEFILE [--chunked] [--media-type T] [-i IN] [-o OUT]",
     "Client: opens the response to the request seal-request sealed.\n\n"
     "  --state STATEFILE    the state file of seal-request (required)\n"
     "  --chunked            the response is chunked\n" MEDIA_HELP(RESPONSE, "response") IO_HELP},
};

static void print_usage(FILE *f)
{
    fputs("usage: twoway COMMAND [OPTIONS]   (twoway COMMAND --help for its options)\n\n"
          "HPKE requests and responses in the twoway format (Oblivious HTTP, RFC 9458,\n"
          "and chunked OHTTP).\n\n"
          "  keygen         generate a key pair and its key configuration\n"
          "  seal-request   client: seal a request to a key configuration\n"
          "  open-request   server: open a request with the private key\n"
          "  seal-response  server: seal the response to that request\n"
          "  open-response  client: open the response\n\n"
          "  twoway --version | --help\n",
          f);
}

/* TWOWAY_REPORT_RSS set: the peak resident set size on stderr (tests). */
static void report_rss(void)
{
    const char *e = getenv("TWOWAY_REPORT_RSS");
    struct rusage ru;
    if (e != NULL && *e != 0 && getrusage(RUSAGE_SELF, &ru) == 0)
        fprintf(stderr, "twoway: %s: peak RSS %ld KiB\n", cli_command, ru.ru_maxrss);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("twoway %s\n", twoway_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const command *cmd = &commands[i];
        cli_args a;
        if (strcmp(name, cmd->name) != 0)
            continue;
        cli_command = cmd->name;
        int rc = parse_args(cmd, argc - 1, argv + 1, &a);
        if (rc != 0)
            return rc < 0 ? 0 : rc;
        cli_signals_init();
        rc = cmd->run(&a);
        report_rss();
        return rc;
    }
    return usage_error(NULL, "unknown command '%s'", name);
}
