/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway: seal and open HPKE requests and responses (the twoway format,
 * Oblivious HTTP and chunked OHTTP) from the command line. twoway(1),
 * docs/CLI.md.
 *
 *   twoway keygen        a key pair: private key file + key configuration
 *   twoway pubkey        the key configuration of a private key file
 *   twoway show          a key file or key configuration, in words
 *   twoway seal-request  client: a request to key configurations
 *   twoway open-request  server: opens it with private keys
 *   twoway seal-response server: the response, bound to the request
 *   twoway open-response client: opens it
 *
 * This file parses the command line and runs the key commands; the message
 * commands are in twoway_msg.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway_cli.h"

#include <ctype.h>
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
    OPT_NO_CHUNKED = 1u << 12,
    OPT_MAX_CHUNK = 1u << 13,
    OPT_ENC = 1u << 14,
    OPT_VERBOSE = 1u << 15,
    OPT_FILE = 1u << 16, /* the positional argument of show */
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
    {"enc", required_argument, NULL, OPT_ENC},
    {"media-type", required_argument, NULL, OPT_MEDIA},
    {"response-media-type", required_argument, NULL, OPT_RESPONSE_MEDIA},
    {"chunked", no_argument, NULL, OPT_CHUNKED},
    {"no-chunked", no_argument, NULL, OPT_NO_CHUNKED},
    {"max-chunk", required_argument, NULL, OPT_MAX_CHUNK},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct command {
    const char *name;
    unsigned allowed, repeatable, required;
    int (*run)(const cli_args *a);
    const char *synopsis, *help;
} command;

static const char *option_name(unsigned flag)
{
    static char name[32];
    if (flag == OPT_IN || flag == OPT_OUT || flag == OPT_VERBOSE)
        return flag == OPT_IN ? "-i/--in" : flag == OPT_OUT ? "-o/--out" : "-v/--verbose";
    if (flag == OPT_FILE)
        return "FILE";
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

static const char *alg_choices(twoway_hpke_alg kind)
{
    switch (kind) {
    case TWOWAY_HPKE_ALG_KEM: return "x25519, p256, p384, p521, x448";
    case TWOWAY_HPKE_ALG_KDF: return "sha256, sha384, sha512";
    default: return "aes128gcm, aes256gcm, chacha20poly1305";
    }
}

/* Adds an algorithm to list (once). */
static int add_alg(const command *cmd, twoway_hpke_alg kind, const char *arg, uint16_t *list,
                   size_t *n)
{
    uint16_t id;
    if (twoway_hpke_alg_from_name(kind, arg, &id) != TWOWAY_OK ||
        (kind == TWOWAY_HPKE_ALG_AEAD && id == TWOWAY_HPKE_AEAD_EXPORT_ONLY)) {
        static const char *const what[] = {"KEM", "KDF", "AEAD"};
        return usage_error(cmd, "unknown %s '%s' (one of %s)", what[kind], arg, alg_choices(kind));
    }
    for (size_t i = 0; i < *n; i++)
        if (list[i] == id)
            return 0;
    list[(*n)++] = id;
    return 0;
}

/* A file option that may be repeated: into list[*n]. */
static int add_file(const command *cmd, unsigned flag, const char *arg, const char **list,
                    size_t *n)
{
    if (*n == CLI_MAX_FILES)
        return usage_error(cmd, "%s may be given at most %d times", option_name(flag),
                           CLI_MAX_FILES);
    list[(*n)++] = arg;
    return 0;
}

/* A decimal number, or hexadecimal after 0x (never octal: "010" is ten, as
 * in key files). Digits only: no sign, no blank. */
static int parse_number(const command *cmd, const char *what, const char *arg, unsigned long min,
                        unsigned long max, unsigned long *v)
{
    int hex = arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X');
    const char *p = hex ? arg + 2 : arg;
    char *end;
    int digit = hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p);
    errno = 0;
    *v = digit ? strtoul(p, &end, hex ? 16 : 10) : 0;
    if (!digit || errno != 0 || *end != 0 || *v < min || *v > max)
        return usage_error(cmd, "invalid %s '%s' (%lu to %lu)", what, arg, min, max);
    return 0;
}

/* Which streams each file-valued option uses: "-" (or the message default)
 * is stdin or stdout; two uses of one stream are an error. */
static int check_std_streams(const command *cmd, const cli_args *a)
{
    const char *in_user = NULL, *out_user = NULL;
    int response =
        strcmp(cmd->name, "seal-response") == 0 || strcmp(cmd->name, "open-response") == 0;
    struct use {
        unsigned flag;
        const char *const *paths;
        size_t n;
        int out;
        const char *name;
    } uses[] = {
        {OPT_IN, &a->in, 1, 0, "the input (-i)"},
        {OPT_OUT, &a->out, 1, 1, "the output (-o)"},
        {OPT_CONFIG, a->config, a->n_config, strcmp(cmd->name, "keygen") == 0, "--config"},
        {OPT_KEY, a->key, a->n_key, 0, "--key"},
        {OPT_STATE, a->state, a->n_state, !response, "--state"},
        {OPT_ENC, a->enc, a->n_enc, strcmp(cmd->name, "seal-request") == 0, "--enc"},
        {OPT_FILE, &a->file, 1, 0, "FILE"},
    };
    for (size_t u = 0; u < sizeof uses / sizeof uses[0]; u++) {
        if (!(cmd->allowed & uses[u].flag))
            continue;
        /* keygen's -o names the key file: "-" only when said */
        int dflt = uses[u].flag == OPT_IN || uses[u].flag == OPT_FILE ||
                   (uses[u].flag == OPT_OUT && strcmp(cmd->name, "keygen") != 0);
        for (size_t i = 0; i < uses[u].n; i++) {
            const char *p = uses[u].paths[i];
            if (!(p == NULL ? dflt : strcmp(p, "-") == 0))
                continue;
            const char **user = uses[u].out ? &out_user : &in_user;
            if (*user != NULL)
                return usage_error(cmd, "standard %s is taken twice: by %s and by %s",
                                   uses[u].out ? "output" : "input", *user, uses[u].name);
            *user = uses[u].name;
        }
    }
    return 0;
}

/* Returns 0, -1 after --help, or CLI_EXIT_USAGE. */
static int parse_args(const command *cmd, int argc, char **argv, cli_args *a)
{
    unsigned seen = 0;
    memset(a, 0, sizeof *a);
    a->key_id = -1;
    a->chunked = -1;
    opterr = 0;
    optind = 1;
    for (;;) {
        int prev = optind;
        int c = getopt_long(argc, argv, ":i:o:hv", long_options, NULL);
        if (c == -1)
            break;
        if (c == 'i' || c == 'o')
            c = c == 'i' ? OPT_IN : OPT_OUT;
        if (c == 'v')
            c = OPT_VERBOSE;
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
        unsigned long v;
        switch (flag) {
        case OPT_IN: a->in = optarg; break;
        case OPT_OUT: a->out = optarg; break;
        case OPT_CONFIG: rc = add_file(cmd, flag, optarg, a->config, &a->n_config); break;
        case OPT_KEY: rc = add_file(cmd, flag, optarg, a->key, &a->n_key); break;
        case OPT_STATE: rc = add_file(cmd, flag, optarg, a->state, &a->n_state); break;
        case OPT_ENC: rc = add_file(cmd, flag, optarg, a->enc, &a->n_enc); break;
        case OPT_MEDIA: a->media = optarg; break;
        case OPT_RESPONSE_MEDIA: a->response_media = optarg; break;
        case OPT_CHUNKED:
        case OPT_NO_CHUNKED:
            if (seen & (OPT_CHUNKED | OPT_NO_CHUNKED) & ~flag)
                return usage_error(cmd, "--chunked and --no-chunked contradict each other");
            a->chunked = flag == OPT_CHUNKED;
            break;
        case OPT_VERBOSE: a->verbose = 1; break;
        case OPT_KEM: rc = add_alg(cmd, TWOWAY_HPKE_ALG_KEM, optarg, &a->kem, &a->n_kem); break;
        case OPT_KDF: rc = add_alg(cmd, TWOWAY_HPKE_ALG_KDF, optarg, a->kdf, &a->n_kdf); break;
        case OPT_AEAD: rc = add_alg(cmd, TWOWAY_HPKE_ALG_AEAD, optarg, a->aead, &a->n_aead); break;
        case OPT_KEY_ID:
            rc = parse_number(cmd, "key id", optarg, 0, 255, &v);
            a->key_id = (int)v;
            break;
        case OPT_MAX_CHUNK:
            rc = parse_number(cmd, "chunk size", optarg, 1, TWOWAY_MAX_CHUNK_LEN, &v);
            a->max_chunk = (size_t)v;
            break;
        default: break;
        }
        if (rc != 0)
            return rc;
    }
    if (optind < argc && (cmd->allowed & OPT_FILE) && optind + 1 == argc) {
        a->file = argv[optind++];
        seen |= OPT_FILE;
    }
    if (optind < argc)
        return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    unsigned missing = cmd->required & ~seen;
    if (missing != 0)
        return usage_error(cmd, "%s is required", option_name(missing & -missing));
    if ((seen & OPT_MAX_CHUNK) && strcmp(cmd->name, "seal-request") == 0 && a->chunked != 1)
        return usage_error(cmd, "--max-chunk sets the chunk size of a chunked request: give "
                                "--chunked too");
    return check_std_streams(cmd, a);
}

/* ---------------------------------------------------------- key commands */

/* The configuration list (application/ohttp-keys) of one configuration. */
static int encode_list(const twoway_key_config *cfg, uint8_t *out, size_t *len)
{
    int rc = twoway_key_configs_encode(cfg, 1, out, len);
    if (rc != TWOWAY_OK)
        cli_error("encoding the key configuration: %s", twoway_strerror(rc));
    return rc == TWOWAY_OK ? 0 : -1;
}

#define LIST_MAX (2 + 1 + 2 + TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN + 2 + 4 * TWOWAY_KEY_CONFIG_MAX_SUITES)

static int cmd_keygen(const cli_args *a)
{
    twoway_key_config cfg;
    twoway_symmetric_suite suites[CLI_MAX_ALGS * CLI_MAX_ALGS];
    size_t n = 0;
    twoway_hpke_key *key = NULL;
    uint8_t list[LIST_MAX];
    char text[TWOWAY_KEY_FILE_MAX_LEN];
    size_t list_len = sizeof list, text_len = sizeof text;
    char *pub_path = NULL;
    int status = CLI_EXIT_FAIL;

    /* a private key is never replaced silently */
    if (!cli_is_std(a->out) && access(a->out, F_OK) == 0) {
        cli_error("%s exists: refusing to replace a private key (remove it first)", a->out);
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < (a->n_kdf ? a->n_kdf : 1); i++)
        for (size_t j = 0; j < (a->n_aead ? a->n_aead : 1); j++)
            suites[n++] =
                (twoway_symmetric_suite){a->n_kdf ? a->kdf[i] : TWOWAY_HPKE_KDF_HKDF_SHA256,
                                         a->n_aead ? a->aead[j] : TWOWAY_HPKE_AEAD_AES_128_GCM};
    const twoway_hpke_kem *kem =
        twoway_hpke_kem_by_id(a->n_kem ? a->kem : TWOWAY_HPKE_KEM_X25519_SHA256);
    int rc = twoway_hpke_key_generate(kem, &key);
    if (rc == TWOWAY_OK)
        rc = twoway_key_config_of_key(&cfg, (uint8_t)(a->key_id < 0 ? 0 : a->key_id), key, suites,
                                      n);
    if (rc == TWOWAY_OK)
        rc = twoway_key_file_encode(&cfg, key, text, &text_len);
    if (rc != TWOWAY_OK) {
        cli_error("generating the key pair: %s", twoway_strerror(rc));
        goto done;
    }
    if (encode_list(&cfg, list, &list_len) != 0)
        goto done;
    /* the configuration: --config, else KEYFILE.pub (none for a key on stdout) */
    const char *config_path = a->n_config ? a->config[0] : NULL;
    if (config_path == NULL && !cli_is_std(a->out)) {
        size_t len = strlen(a->out);
        pub_path = malloc(len + sizeof ".pub");
        if (pub_path == NULL) {
            cli_error("%s", strerror(ENOMEM));
            goto done;
        }
        memcpy(pub_path, a->out, len);
        memcpy(pub_path + len, ".pub", sizeof ".pub");
        config_path = pub_path;
    }
    if (config_path != NULL && cli_refuse_terminal(config_path, "a key configuration"))
        goto done;
    /* the key never replaces a file, even one made meanwhile */
    if (cli_write_new_file(a->out, 1, (const uint8_t *)text, text_len) == 0 &&
        (config_path == NULL || cli_write_file(config_path, 0, list, list_len) == 0))
        status = 0;
done:
    cli_wipe(text, sizeof text);
    free(pub_path);
    twoway_hpke_key_free(key);
    return status;
}

/* A key file from path ("-": stdin); reported. */
static int load_key_file(const char *path, twoway_key_config *cfg)
{
    uint8_t *text;
    size_t len;
    twoway_hpke_key *key = NULL;
    if (cli_read_file(path, "key file", TWOWAY_KEY_FILE_MAX_LEN, &text, &len) != 0)
        return -1;
    int rc = twoway_key_file_decode(cfg, &key, (const char *)text, len);
    cli_free_secret(text, len);
    twoway_hpke_key_free(key);
    if (rc != TWOWAY_OK) {
        cli_lib_error(rc, "%s", cli_is_std(path) ? "stdin" : path);
        return -1;
    }
    return 0;
}

static int cmd_pubkey(const cli_args *a)
{
    twoway_key_config cfg;
    uint8_t list[LIST_MAX];
    size_t len = sizeof list;
    if (cli_refuse_terminal(a->out, "a key configuration") || load_key_file(a->in, &cfg) != 0 ||
        encode_list(&cfg, list, &len) != 0)
        return CLI_EXIT_FAIL;
    return cli_write_file(a->out, 0, list, len) == 0 ? 0 : CLI_EXIT_FAIL;
}

static void show_config(const twoway_key_config *cfg)
{
    printf("key id %u\n", (unsigned)cfg->key_id);
    printf("  kem         0x%04x %s (%s)\n", cfg->kem_id,
           twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KEM, cfg->kem_id),
           twoway_hpke_alg_rfc_name(TWOWAY_HPKE_ALG_KEM, cfg->kem_id));
    for (size_t i = 0; i < cfg->n_suites; i++) {
        uint16_t kdf = cfg->suites[i].kdf_id, aead = cfg->suites[i].aead_id;
        printf("  suite       kdf 0x%04x %s (%s), aead 0x%04x %s (%s)\n", kdf,
               twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KDF, kdf),
               twoway_hpke_alg_rfc_name(TWOWAY_HPKE_ALG_KDF, kdf), aead,
               twoway_hpke_alg_name(TWOWAY_HPKE_ALG_AEAD, aead),
               twoway_hpke_alg_rfc_name(TWOWAY_HPKE_ALG_AEAD, aead));
    }
    printf("  public key  ");
    for (size_t i = 0; i < cfg->public_key_len; i++)
        printf("%02x", cfg->public_key[i]);
    printf("\n");
}

static int cmd_show(const cli_args *a)
{
    uint8_t *file;
    size_t len, n = 0;
    const char *name = cli_is_std(a->file) ? "stdin" : a->file;
    if (cli_read_file(a->file, "file", 1u << 16, &file, &len) != 0)
        return CLI_EXIT_FAIL;
    int status = CLI_EXIT_FAIL;
    if (len == 0) {
        cli_error("%s is empty", name);
        cli_free_secret(file, len);
        return CLI_EXIT_FAIL;
    }
    twoway_key_config *cfgs = calloc(256, sizeof *cfgs);
    if (cfgs == NULL) {
        cli_error("%s", strerror(ENOMEM));
        goto done;
    }
    if (len >= 18 && memchr(file, '\0', len) == NULL &&
        strstr((const char *)file, "twoway-private-key") != NULL) {
        twoway_hpke_key *key = NULL;
        int rc = twoway_key_file_decode(&cfgs[0], &key, (const char *)file, len);
        twoway_hpke_key_free(key);
        if (rc != TWOWAY_OK) {
            cli_lib_error(rc, "%s", name);
            goto done;
        }
        printf("%s: twoway private key file (keep it secret; the private key is not shown)\n",
               name);
        show_config(&cfgs[0]);
        status = 0;
        goto done;
    }
    int rc = twoway_key_configs_decode(cfgs, 256, &n, file, len);
    if (rc == TWOWAY_OK) {
        printf("%s: application/ohttp-keys, %zu key configuration%s this tool knows\n", name, n,
               n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++)
            show_config(&cfgs[i]);
        status = 0;
        goto done;
    }
    size_t used = 0;
    if (twoway_key_config_decode(&cfgs[0], file, len, &used) == TWOWAY_OK && used == len) {
        printf("%s: one key configuration (RFC 9458 §3, without the list's length prefix)\n", name);
        show_config(&cfgs[0]);
        status = 0;
        goto done;
    }
    cli_error("%s is neither a twoway private key file nor a key configuration: %s", name,
              twoway_strerror(rc));
done:
    free(cfgs);
    cli_free_secret(file, len);
    return status;
}

/* ---------------------------------------------------------------- main */

#define IO_HELP                                                                                    \
    "  -i, --in FILE        read FILE instead of stdin ('-': stdin)\n"                             \
    "  -o, --out FILE       write FILE (complete, or not at all) instead of stdout\n"
#define MEDIA_HELP(KIND, kind)                                                                     \
    "  --media-type T       the " kind "'s media type (default '" TWOWAY_OHTTP_##KIND              \
        "',\n"                                                                                     \
        "                       chunked '" TWOWAY_OHTTP_CHUNKED_##KIND "')\n"
#define RMEDIA_HELP                                                                                \
    "  --response-media-type T  the response's media type, kept in the state file\n"               \
    "                       (default: OHTTP's, chunked when the request is)\n"
#define MAX_CHUNK_HELP(what) "  --max-chunk N        " what " (1 to 16777216)\n"

static const command commands[] = {
    {"keygen", OPT_OUT | OPT_KEM | OPT_KDF | OPT_AEAD | OPT_KEY_ID | OPT_CONFIG, OPT_KDF | OPT_AEAD,
     OPT_OUT, cmd_keygen,
     "[--kem KEM] [--kdf KDF]... [--aead AEAD]... [--key-id N] -o KEYFILE [--config FILE]",
     "Generates a key pair. Writes the private key to KEYFILE (mode 0600; '-' for\n"
     "stdout) and its public key configuration (RFC 9458 application/ohttp-keys) to\n"
     "FILE (default KEYFILE.pub; none when KEYFILE is '-': see pubkey), accepting\n"
     "every (KDF, AEAD) pair given. An existing KEYFILE is never replaced.\n\n"
     "  --kem KEM            x25519 (default), p256, p384, p521, x448\n"
     "  --kdf KDF            sha256 (default), sha384, sha512 (repeatable)\n"
     "  --aead AEAD          aes128gcm (default), aes256gcm, chacha20poly1305 (repeatable)\n"
     "  --key-id N           the key id, 0 to 255 (default 0)\n"
     "  -o, --out KEYFILE    the private key file (required)\n"
     "  --config FILE        the key configuration file\n"},
    {"pubkey", OPT_IN | OPT_OUT, 0, 0, cmd_pubkey, "[-i KEYFILE] [-o CONFIG]",
     "Writes the key configuration (application/ohttp-keys) of a private key file:\n"
     "what clients need, made again from the key file.\n\n" IO_HELP},
    {"show", OPT_FILE, 0, 0, cmd_show, "[FILE]",
     "Describes a private key file or a key configuration (a list or one) in words:\n"
     "key ids, algorithms and public keys. FILE '-' or none: stdin.\n"},
    {"seal-request",
     OPT_IN | OPT_OUT | OPT_CONFIG | OPT_KEY_ID | OPT_KDF | OPT_AEAD | OPT_MEDIA |
         OPT_RESPONSE_MEDIA | OPT_CHUNKED | OPT_NO_CHUNKED | OPT_MAX_CHUNK | OPT_STATE | OPT_ENC |
         OPT_VERBOSE,
     OPT_CONFIG | OPT_STATE | OPT_ENC, OPT_CONFIG, cli_seal_request,
     "--config FILE... [--key-id N] [--kdf KDF] [--aead AEAD] [--chunked [--max-chunk N]]\n"
     "       [--state STATEFILE]... [--enc FILE]... [--media-type T] [--response-media-type T]\n"
     "       [-v] [-i IN] [-o OUT]",
     "Client: seals a request to a key configuration list (application/ohttp-keys)\n"
     "and saves what opening its response needs to STATEFILE (a secret, mode 0600),\n"
     "before the first byte of the request goes out.\n"
     "With several --config: one request for all (one-to-many; not OHTTP): each\n"
     "receiver gets the request and its encapsulated key (--enc), and the client one\n"
     "state file per receiver.\n\n"
     "  --config FILE        the receiver's key configurations (repeatable)\n"
     "  --key-id N           use the configuration with this key id (default: the first)\n"
     "  --kdf, --aead        use this suite (default: the first the configuration lists)\n"
     "  --chunked            chunked framing (any size, constant memory)\n" MAX_CHUNK_HELP(
         "plaintext bytes per chunk (default 4096)") "  --state STATEFILE    default "
                                                     "twoway-client.state (several receivers:\n"
                                                     "                       "
                                                     "twoway-client-N.state)\n"
                                                     "  --enc FILE           several "
                                                     "receivers: the encapsulated key of each\n"
                                                     "                       (default "
                                                     "twoway-request-N.enc)\n"
                                                     "  -v, --verbose        say which key, "
                                                     "suite and files are used\n" MEDIA_HELP(
                                                         REQUEST, "request") RMEDIA_HELP IO_HELP},
    {"open-request",
     OPT_IN | OPT_OUT | OPT_KEY | OPT_ENC | OPT_MEDIA | OPT_RESPONSE_MEDIA | OPT_CHUNKED |
         OPT_NO_CHUNKED | OPT_MAX_CHUNK | OPT_STATE | OPT_VERBOSE,
     OPT_KEY, OPT_KEY, cli_open_request,
     "--key KEYFILE... [--enc FILE] [--chunked|--no-chunked] [--max-chunk N]\n"
     "       [--state STATEFILE] [--media-type T] [--response-media-type T] [-v] [-i IN] "
     "[-o OUT]",
     "Server: opens a request with the private keys of the key files (a key ring:\n"
     "the request's key id and suite pick the key) and saves what sealing its\n"
     "response needs to STATEFILE (a secret, mode 0600) before writing the request.\n"
     "Chunked or unchunked requests are both accepted unless one is asked for.\n\n"
     "  --key KEYFILE        a private key file of keygen (repeatable)\n"
     "  --enc FILE           a one-to-many request: this receiver's encapsulated key\n"
     "  --chunked, --no-chunked  accept only this framing\n" MAX_CHUNK_HELP(
         "the largest chunk accepted (default 16384)") "  --state STATEFILE    default "
                                                       "twoway-server.state\n"
                                                       "  -v, --verbose        say which key "
                                                       "and framing the request has\n" MEDIA_HELP(
                                                           REQUEST, "request") RMEDIA_HELP IO_HELP},
    {"seal-response",
     OPT_IN | OPT_OUT | OPT_STATE | OPT_MEDIA | OPT_CHUNKED | OPT_NO_CHUNKED | OPT_MAX_CHUNK, 0, 0,
     cli_seal_response,
     "[--state STATEFILE] [--chunked|--no-chunked] [--max-chunk N] [--media-type T]\n"
     "       [-i IN] [-o OUT]",
     "Server: seals the response to the request open-request opened. The state file\n"
     "is read once the input begins (so that the command works in a pipeline after\n"
     "open-request); it gives the media type and the framing (a chunked request\n"
     "gets a chunked response).\n\n"
     "  --state STATEFILE    the state file of open-request (default twoway-server.state)\n"
     "  --chunked, --no-chunked  this framing instead of the request's\n" MAX_CHUNK_HELP(
         "plaintext bytes per chunk (default 4096)") MEDIA_HELP(RESPONSE, "response") IO_HELP},
    {"open-response",
     OPT_IN | OPT_OUT | OPT_STATE | OPT_MEDIA | OPT_CHUNKED | OPT_NO_CHUNKED | OPT_MAX_CHUNK, 0, 0,
     cli_open_response,
     "[--state STATEFILE] [--chunked|--no-chunked] [--max-chunk N] [--media-type T]\n"
     "       [-i IN] [-o OUT]",
     "Client: opens the response to the request seal-request sealed. The state file\n"
     "is read once the input begins; it gives the media type and the framing.\n\n"
     "  --state STATEFILE    the state file of seal-request (default twoway-client.state)\n"
     "  --chunked, --no-chunked  accept only this framing\n" MAX_CHUNK_HELP(
         "the largest chunk accepted (default 16384)") MEDIA_HELP(RESPONSE, "response") IO_HELP},
};

static void print_usage(FILE *f)
{
    fputs("usage: twoway COMMAND [OPTIONS]   (twoway COMMAND --help for its options)\n\n"
          "HPKE requests and responses in the twoway format (Oblivious HTTP, RFC 9458,\n"
          "and chunked OHTTP).\n\n"
          "  keygen         generate a key pair and its key configuration\n"
          "  pubkey         the key configuration of a private key file\n"
          "  show           describe a key file or key configuration\n"
          "  seal-request   client: seal a request to key configurations\n"
          "  open-request   server: open a request with private keys\n"
          "  seal-response  server: seal the response to that request\n"
          "  open-response  client: open the response\n"
#ifdef TWOWAY_WITH_OHTTP
          "  gateway        an Oblivious HTTP gateway (listens; forwards or answers)\n"
          "  relay          an Oblivious HTTP relay in front of one gateway\n"
          "  ohttp          a client: one request through a relay or gateway, curl-like\n"
#endif
          "\n"
          "A client and a server in one line (the state files pass between them):\n"
          "  echo hi | twoway seal-request --config k.pub | twoway open-request --key k |\n"
          "      tr a-z A-Z | twoway seal-response | twoway open-response\n\n"
          "  twoway --version | --help            (manual: man twoway)\n",
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

#ifdef TWOWAY_WITH_OHTTP
/* Runs twoway-http with the same arguments: beside this program (the build
 * tree), else in TWOWAY_HTTP_DIR relative to it (an installed prefix,
 * wherever it was moved). */
static int cli_exec_http(char **argv)
{
    char self[4096], path[4200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        cli_error("cannot find where this program is: %s", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    *slash = 0;
    const char *tries[] = {"", "/" TWOWAY_HTTP_DIR};
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        snprintf(path, sizeof path, "%s%s/twoway-http", self, tries[i]);
        if (access(path, X_OK) == 0) {
            execv(path, argv);
            cli_error("cannot run %s: %s", path, strerror(errno));
            return CLI_EXIT_FAIL;
        }
    }
    cli_error("the HTTP commands need twoway-http, which is not installed beside this program");
    return CLI_EXIT_FAIL;
}
#endif

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
#ifdef TWOWAY_WITH_OHTTP
    /* the HTTP commands are a program of their own (twoway-http), so that
     * this one loads neither libcurl nor libmicrohttpd */
    if (strcmp(name, "gateway") == 0 || strcmp(name, "relay") == 0 || strcmp(name, "ohttp") == 0)
        return cli_exec_http(argv);
#endif
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
