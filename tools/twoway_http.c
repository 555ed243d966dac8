/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `twoway` commands that speak HTTP (libtwoway_ohttp, twoway/ohttp.h):
 *   twoway gateway   an Oblivious Gateway: forwards to allowed origins, or
 *                    answers itself (--echo)
 *   twoway relay     an Oblivious Relay in front of one gateway
 *   twoway ohttp     a client, curl-like: one request through a relay or a
 *                    gateway, the response on standard output
 * Servers run until SIGINT or SIGTERM; SIGHUP makes a gateway re-read its
 * key files.
 *
 * A program of its own, twoway-http, that `twoway` runs for these commands
 * (installed in libexec): the other commands need neither libcurl nor
 * libmicrohttpd, and do not load them.
 */
#define _GNU_SOURCE

#include "twoway_cli.h"

#include <twoway/ohttp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_LIST 64

static int usage(const char *cmd, const char *msg, const char *arg)
{
    fprintf(stderr, "twoway: %s: %s%s%s\nTry 'twoway %s --help'.\n", cmd, msg, arg ? " " : "",
            arg ? arg : "", cmd);
    return CLI_EXIT_USAGE;
}

static int number(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == 0 || *end != 0 || errno != 0 || v > max || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

/* The limits gateway, relay and ohttp share: --max-request (m), --timeout (t)
 * and --max-connections (c). 0 when taken, CLI_EXIT_USAGE for a bad value,
 * -1 when c is none of them (or its target is NULL). */
static int limit_option(const char *cmd, int c, const char *arg, size_t *max_request,
                        uint32_t *timeout_ms, unsigned *max_connections)
{
    unsigned long v;
    if (c == 'm' && max_request != NULL) {
        if (number(arg, (unsigned long)1 << 34, &v) != 0 || v == 0)
            return usage(cmd, "--max-request: a size in bytes, not", arg);
        *max_request = v;
        return 0;
    }
    if (c == 't' && timeout_ms != NULL) {
        if (number(arg, 3600000, &v) != 0 || v == 0)
            return usage(cmd, "--timeout: milliseconds, not", arg);
        *timeout_ms = (uint32_t)v;
        return 0;
    }
    if (c == 'c' && max_connections != NULL) {
        if (number(arg, 100000, &v) != 0 || v == 0)
            return usage(cmd, "--max-connections: a count, not", arg);
        *max_connections = (unsigned)v;
        return 0;
    }
    return -1;
}

/* One line for a failure of libtwoway_ohttp: prefix, the error's sentence
 * (left out for network and HTTP failures, which the detail says whole),
 * and the detail. */
static void ohttp_error(const char *prefix, int rc)
{
    const char *d = twoway_ohttp_error_detail();
    if (rc == TWOWAY_ERR_IO && d[0])
        cli_error("%s%s", prefix, d);
    else
        cli_error("%s%s%s%s", prefix, twoway_strerror(rc), d[0] ? ": " : "", d);
}

/* Blocks the server signals in every thread (those started later inherit
 * it) and waits for them here. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int write_port_file(const char *path, unsigned port)
{
    if (path == NULL)
        return 0;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        cli_error("cannot write the port to %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- echo */

/* --echo: the gateway's own answer: the request back, as text and body. */
static int echo_handler(void *arg, const twoway_ohttp_request *req, twoway_ohttp_response *resp)
{
    char line[8192];
    (void)arg;
    int n = snprintf(line, sizeof line, "%s %s://%s%s\n", req->method, req->scheme, req->authority,
                     req->path);
    if (n < 0 || (size_t)n >= sizeof line)
        return -1;
    if (twoway_ohttp_response_header(resp, "content-type", "application/octet-stream") != 0 ||
        twoway_ohttp_response_header(resp, "x-echo-request", "yes") != 0)
        return -1;
    /* the request line, then its body as it came */
    if (req->body_len == 0)
        return twoway_ohttp_response_body(resp, line, (size_t)n) == TWOWAY_OK ? 0 : -1;
    return twoway_ohttp_response_body(resp, req->body, req->body_len) == TWOWAY_OK ? 0 : -1;
}

/* ------------------------------------------------------------- gateway */

static const char GATEWAY_HELP[] =
    "usage: twoway gateway --key KEYFILE... (--origin URL... | --echo) [OPTIONS]\n\n"
    "An Oblivious HTTP gateway (RFC 9458). GET of the well-known path\n"
    "/.well-known/ohttp-gateway or of --keys-path gives the key configurations\n"
    "(application/ohttp-keys); POST of message/ohttp-req or message/ohttp-chunked-req\n"
    "to the well-known path or --path is opened and sent on to its target.\n\n"
    "  --listen ADDR        host:port or [v6]:port (default 127.0.0.1:8080)\n"
    "  --key KEYFILE        a private key file of twoway keygen (repeatable)\n"
    "  --origin URL         an origin requests may go to: scheme://host[:port]\n"
    "                       (repeatable); any other target is answered 403\n"
    "  --echo               answer every request here (its body back), forward none\n"
    "  --path PATH          the gateway resource (default /gateway)\n"
    "  --keys-path PATH     the key configurations (default /ohttp-keys)\n"
    "  --grace SECONDS      how long a key removed at a reload still opens (600)\n"
    "  --max-request BYTES  largest unchunked request (1048576)\n"
    "  --max-response BYTES largest unchunked response from an origin (16777216)\n"
    "  --timeout MS         toward the origin (30000)\n"
    "  --max-connections N  (256)\n"
    "  --ca-file FILE       CA certificates for https origins\n"
    "  --port-file FILE     write the port listened on to FILE once listening\n"
    "  -v                   say when keys are reloaded, and the counts at exit\n\n"
    "SIGHUP re-reads the key files; SIGINT or SIGTERM stops it.\n";

static int cmd_gateway(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"key", required_argument, NULL, 'k'},
                                         {"origin", required_argument, NULL, 'o'},
                                         {"echo", no_argument, NULL, 'e'},
                                         {"path", required_argument, NULL, 'p'},
                                         {"keys-path", required_argument, NULL, 'K'},
                                         {"grace", required_argument, NULL, 'g'},
                                         {"max-request", required_argument, NULL, 'm'},
                                         {"max-response", required_argument, NULL, 'M'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"max-connections", required_argument, NULL, 'c'},
                                         {"ca-file", required_argument, NULL, 'C'},
                                         {"port-file", required_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *keys[MAX_LIST], *origins[MAX_LIST], *port_file = NULL;
    twoway_ohttp_gateway_options o;
    int verbose = 0, c;
    unsigned long v;
    int lrc;
    memset(&o, 0, sizeof o);
    o.version = TWOWAY_OHTTP_GATEWAY_OPTIONS_VERSION;
    o.listen = "127.0.0.1:8080";
    o.key_files = keys;
    o.allowed_origins = origins;
    optind = 1;
    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (c) {
        case 'l': o.listen = optarg; break;
        case 'k':
            if (o.n_key_files == MAX_LIST)
                return usage("gateway", "too many --key", NULL);
            keys[o.n_key_files++] = optarg;
            break;
        case 'o':
            if (o.n_allowed_origins == MAX_LIST)
                return usage("gateway", "too many --origin", NULL);
            origins[o.n_allowed_origins++] = optarg;
            break;
        case 'e': o.handler = echo_handler; break;
        case 'p': o.gateway_path = optarg; break;
        case 'K': o.keys_path = optarg; break;
        case 'g':
            if (number(optarg, 86400 * 30, &v) != 0)
                return usage("gateway", "--grace: seconds, up to 30 days:", optarg);
            o.grace_seconds = (uint32_t)(v ? v : 1);
            break;
        case 'm':
        case 't':
        case 'c':
            if ((lrc = limit_option("gateway", c, optarg, &o.max_request_len, &o.timeout_ms,
                                    &o.max_connections)) != 0)
                return lrc;
            break;
        case 'M':
            if (number(optarg, (unsigned long)1 << 34, &v) != 0 || v == 0)
                return usage("gateway", "--max-response: a size in bytes, not", optarg);
            o.max_response_len = v;
            break;
        case 'C': o.ca_file = optarg; break;
        case 'P': port_file = optarg; break;
        case 'v': verbose++; break;
        case 'h': fputs(GATEWAY_HELP, stdout); return 0;
        default: return usage("gateway", "unknown option", NULL);
        }
    }
    if (optind < argc)
        return usage("gateway", "unexpected argument", argv[optind]);
    if (o.n_key_files == 0)
        return usage("gateway", "--key is required", NULL);
    if (o.handler == NULL && o.n_allowed_origins == 0)
        return usage("gateway", "give --origin (where requests may go) or --echo", NULL);
    if (o.handler != NULL && o.n_allowed_origins > 0)
        return usage("gateway", "--echo answers every request: --origin would not be used", NULL);
    sigset_t set;
    block_signals(&set);
    twoway_ohttp_gateway *gw = NULL;
    int rc = twoway_ohttp_gateway_start(&gw, &o);
    if (rc != TWOWAY_OK) {
        ohttp_error("", rc);
        return CLI_EXIT_FAIL;
    }
    unsigned port = twoway_ohttp_gateway_port(gw);
    fprintf(stderr, "twoway: gateway: listening on port %u (%zu key file%s, %s)\n", port,
            o.n_key_files, o.n_key_files == 1 ? "" : "s",
            o.handler ? "answering itself" : "forwarding to allowed origins");
    if (write_port_file(port_file, port) != 0) {
        twoway_ohttp_gateway_stop(gw);
        return CLI_EXIT_FAIL;
    }
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        rc = twoway_ohttp_gateway_reload(gw);
        if (rc != TWOWAY_OK)
            ohttp_error("reload failed, keys unchanged: ", rc);
        else if (verbose) {
            twoway_ohttp_gateway_stats st;
            twoway_ohttp_gateway_stats_get(gw, &st);
            fprintf(stderr, "twoway: gateway: keys reloaded: %zu open requests\n", st.keys);
        }
    }
    if (verbose) {
        twoway_ohttp_gateway_stats st;
        twoway_ohttp_gateway_stats_get(gw, &st);
        fprintf(stderr,
                "twoway: gateway: %llu requests, %llu opened, %llu key errors, %llu open "
                "errors, %llu forwarded, %llu origin errors, %llu refused\n",
                (unsigned long long)st.requests, (unsigned long long)st.opened,
                (unsigned long long)st.key_errors, (unsigned long long)st.open_errors,
                (unsigned long long)st.forwarded, (unsigned long long)st.origin_errors,
                (unsigned long long)st.refused);
    }
    twoway_ohttp_gateway_stop(gw);
    return 0;
}

/* --------------------------------------------------------------- relay */

static const char RELAY_HELP[] =
    "usage: twoway relay --gateway URL [OPTIONS]\n\n"
    "An Oblivious HTTP relay: every POST of message/ohttp-req or\n"
    "message/ohttp-chunked-req goes to the gateway, with nothing of the client's but\n"
    "its body and media type; the gateway's answer comes back.\n\n"
    "  --gateway URL        the gateway resource (http:// or https://)\n"
    "  --listen ADDR        host:port or [v6]:port (default 127.0.0.1:8081)\n"
    "  --path PATH          the relay resource (default: any path)\n"
    "  --max-request BYTES  largest unchunked request (1048576)\n"
    "  --timeout MS         toward the gateway (30000)\n"
    "  --max-connections N  (256)\n"
    "  --ca-file FILE       CA certificates for an https gateway\n"
    "  --port-file FILE     write the port listened on to FILE once listening\n";

static int cmd_relay(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"gateway", required_argument, NULL, 'g'},
                                         {"path", required_argument, NULL, 'p'},
                                         {"max-request", required_argument, NULL, 'm'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"max-connections", required_argument, NULL, 'c'},
                                         {"ca-file", required_argument, NULL, 'C'},
                                         {"port-file", required_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    twoway_ohttp_relay_options o;
    const char *port_file = NULL;
    int lrc;
    int c;
    memset(&o, 0, sizeof o);
    o.version = TWOWAY_OHTTP_RELAY_OPTIONS_VERSION;
    o.listen = "127.0.0.1:8081";
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': o.listen = optarg; break;
        case 'g': o.gateway = optarg; break;
        case 'p': o.path = optarg; break;
        case 'm':
        case 't':
        case 'c':
            if ((lrc = limit_option("relay", c, optarg, &o.max_request_len, &o.timeout_ms,
                                    &o.max_connections)) != 0)
                return lrc;
            break;
        case 'C': o.ca_file = optarg; break;
        case 'P': port_file = optarg; break;
        case 'h': fputs(RELAY_HELP, stdout); return 0;
        default: return usage("relay", "unknown option", NULL);
        }
    }
    if (optind < argc)
        return usage("relay", "unexpected argument", argv[optind]);
    if (o.gateway == NULL)
        return usage("relay", "--gateway is required", NULL);
    sigset_t set;
    block_signals(&set);
    twoway_ohttp_relay *r = NULL;
    int rc = twoway_ohttp_relay_start(&r, &o);
    if (rc != TWOWAY_OK) {
        ohttp_error("", rc);
        return CLI_EXIT_FAIL;
    }
    unsigned port = twoway_ohttp_relay_port(r);
    fprintf(stderr, "twoway: relay: listening on port %u, relaying to %s\n", port, o.gateway);
    if (write_port_file(port_file, port) != 0) {
        twoway_ohttp_relay_stop(r);
        return CLI_EXIT_FAIL;
    }
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) == 0 && sig != SIGHUP)
            break;
    }
    twoway_ohttp_relay_stop(r);
    return 0;
}

/* --------------------------------------------------------------- ohttp */

static const char OHTTP_HELP[] =
    "usage: twoway ohttp [OPTIONS] RELAY_OR_GATEWAY_URL TARGET_URL\n\n"
    "Sends one HTTP request to TARGET_URL through Oblivious HTTP: sealed to the\n"
    "gateway's key, posted to the relay (or the gateway itself), the response opened\n"
    "and written to standard output.\n\n"
    "  -X, --request METHOD   the method (default GET, or POST with -d)\n"
    "  -H, --header 'N: V'    a request header field (repeatable)\n"
    "  -d, --data DATA        the body: DATA, @FILE, or @- for standard input\n"
    "  -o, --output FILE      write the body to FILE instead\n"
    "  -i, --include          print the status line and header fields first\n"
    "  -f, --fail             exit 22 when the response status is 400 or more\n"
    "  --chunked              chunked OHTTP both ways: bodies of any size stream\n"
    "  --keys URL|@FILE       the gateway's application/ohttp-keys: fetched from URL\n"
    "                         or read from FILE (default: a GET of the first URL,\n"
    "                         which a gateway answers and a relay does not)\n"
    "  --timeout MS           the whole exchange (30000)\n"
    "  --ca-file FILE         CA certificates for https\n"
    "  -v, --verbose          say what happens on standard error\n\n"
    "Exit: 0 done, 1 failed, 2 usage, 3 the gateway does not know the key,\n"
    "22 with --fail and a status of 400 or more.\n";

typedef struct out_ctx {
    FILE *f;
    int include, verbose;
    unsigned status;
    int failed;
} out_ctx;

static int on_status(void *arg, unsigned status, int informational)
{
    out_ctx *o = arg;
    if (!informational)
        o->status = status;
    if (o->verbose)
        fprintf(stderr, "twoway: ohttp: < %u%s\n", status, informational ? " (informational)" : "");
    if (o->include && fprintf(o->f, "HTTP/1.1 %u\r\n", status) < 0)
        return -1;
    return 0;
}

static int on_field(void *arg, int section, const uint8_t *n, size_t nl, const uint8_t *v,
                    size_t vl)
{
    out_ctx *o = arg;
    if (o->verbose)
        fprintf(stderr, "twoway: ohttp: < %s%.*s: %.*s\n",
                section == TWOWAY_BHTTP_SECTION_TRAILER ? "(trailer) " : "", (int)nl,
                (const char *)n, (int)vl, (const char *)v);
    if (o->include && section != TWOWAY_BHTTP_SECTION_TRAILER &&
        fprintf(o->f, "%.*s: %.*s\r\n", (int)nl, (const char *)n, (int)vl, (const char *)v) < 0)
        return -1;
    return 0;
}

static int on_body(void *arg, const uint8_t *p, size_t n)
{
    out_ctx *o = arg;
    if (o->include) {
        if (fputs("\r\n", o->f) < 0)
            return -1;
        o->include = 0;
    }
    return fwrite(p, 1, n, o->f) == n ? 0 : -1;
}

static int cmd_ohttp(int argc, char **argv)
{
    static const struct option opts[] = {{"request", required_argument, NULL, 'X'},
                                         {"header", required_argument, NULL, 'H'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"include", no_argument, NULL, 'i'},
                                         {"fail", no_argument, NULL, 'f'},
                                         {"chunked", no_argument, NULL, 'c'},
                                         {"keys", required_argument, NULL, 'k'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"ca-file", required_argument, NULL, 'C'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    twoway_ohttp_client_options co;
    twoway_ohttp_fetch_request req;
    twoway_bhttp_field fields[MAX_LIST];
    const char *data = NULL, *output = NULL, *keys = NULL;
    int fail = 0, c, fd = -1, ret = CLI_EXIT_FAIL;
    int lrc;
    uint8_t *key_bytes = NULL;
    size_t key_len = 0;
    out_ctx oc = {stdout, 0, 0, 0, 0};
    memset(&co, 0, sizeof co);
    memset(&req, 0, sizeof req);
    co.version = TWOWAY_OHTTP_CLIENT_OPTIONS_VERSION;
    optind = 1;
    while ((c = getopt_long(argc, argv, "X:H:d:o:ifvh", opts, NULL)) != -1) {
        switch (c) {
        case 'X': req.method = optarg; break;
        case 'H': {
            const char *colon = strchr(optarg, ':');
            if (colon == NULL || colon == optarg)
                return usage("ohttp", "-H wants 'Name: value', not", optarg);
            if (req.n_headers == MAX_LIST)
                return usage("ohttp", "too many -H", NULL);
            const char *val = colon + 1;
            while (*val == ' ' || *val == '\t')
                val++;
            size_t vl = strlen(val);
            while (vl > 0 && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
                vl--;
            fields[req.n_headers].name = (const uint8_t *)optarg;
            fields[req.n_headers].name_len = (size_t)(colon - optarg);
            fields[req.n_headers].value = (const uint8_t *)val;
            fields[req.n_headers].value_len = vl;
            req.n_headers++;
            break;
        }
        case 'd': data = optarg; break;
        case 'o': output = optarg; break;
        case 'i': oc.include = 1; break;
        case 'f': fail = 1; break;
        case 'c': co.chunked = 1; break;
        case 'k': keys = optarg; break;
        case 't':
            if ((lrc = limit_option("ohttp", c, optarg, NULL, &co.timeout_ms, NULL)) != 0)
                return lrc;
            break;
        case 'C': co.ca_file = optarg; break;
        case 'v': oc.verbose = 1; break;
        case 'h': fputs(OHTTP_HELP, stdout); return 0;
        default: return usage("ohttp", "unknown option", NULL);
        }
    }
    if (argc - optind != 2)
        return usage("ohttp", "needs RELAY_OR_GATEWAY_URL and TARGET_URL", NULL);
    const char *url = argv[optind], *target = argv[optind + 1];
    req.url = target;
    req.headers = fields;
    signal(SIGPIPE, SIG_IGN);
    if (keys != NULL && keys[0] == '@') {
        if (cli_read_file(keys + 1, "key configurations", 65536, &key_bytes, &key_len) != 0)
            return CLI_EXIT_FAIL;
        co.key_configs = key_bytes;
        co.key_configs_len = key_len;
    } else if (keys != NULL) {
        co.keys_url = keys;
    }
    if (data != NULL && data[0] == '@') {
        fd = strcmp(data + 1, "-") == 0 ? STDIN_FILENO : open(data + 1, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            cli_error("cannot open %s: %s", data + 1, strerror(errno));
            goto out;
        }
        req.body_read = twoway_read_fd;
        req.body_src = &fd;
    } else if (data != NULL) {
        req.body = (const uint8_t *)data;
        req.body_len = strlen(data);
        if (req.body_len == 0 && req.method == NULL)
            req.method = "POST";
    }
    if (output != NULL && (oc.f = fopen(output, "wb")) == NULL) {
        cli_error("cannot write %s: %s", output, strerror(errno));
        goto out;
    }
    if (oc.verbose)
        fprintf(stderr, "twoway: ohttp: %s %s via %s%s\n",
                req.method ? req.method : (data ? "POST" : "GET"), target, url,
                co.chunked ? " (chunked)" : "");
    twoway_ohttp_fetch_sink sink = {on_status, on_field, on_body, &oc};
    unsigned http_status = 0;
    int rc = twoway_ohttp_fetch(url, &req, &sink, &co, &http_status);
    if (oc.include && rc == TWOWAY_OK)
        fputs("\r\n", oc.f); /* no body came: end the head */
    if (fflush(oc.f) != 0 || (oc.f != stdout && fclose(oc.f) != 0)) {
        cli_error("writing the response failed: %s", strerror(errno));
        oc.f = NULL;
        goto out;
    }
    oc.f = NULL;
    if (rc != TWOWAY_OK) {
        ohttp_error("", rc);
        ret = rc == TWOWAY_ERR_KEY_MISMATCH ? 3 : CLI_EXIT_FAIL;
        goto out;
    }
    ret = fail && oc.status >= 400 ? 22 : 0;
out:
    if (oc.f != NULL && oc.f != stdout)
        fclose(oc.f);
    if (fd > STDIN_FILENO)
        close(fd);
    free(key_bytes);
    return ret;
}

static int http_main(const char *name, int argc, char **argv)
{
    cli_command = name;
    if (strcmp(name, "gateway") == 0)
        return cmd_gateway(argc, argv);
    if (strcmp(name, "relay") == 0)
        return cmd_relay(argc, argv);
    if (strcmp(name, "ohttp") == 0)
        return cmd_ohttp(argc, argv);
    fprintf(stderr, "twoway: unknown command '%s'\n", name);
    return CLI_EXIT_USAGE;
}

/* TWOWAY_REPORT_RSS set: the peak resident set size on stderr (tests). */
static void report_rss(void)
{
    const char *e = getenv("TWOWAY_REPORT_RSS");
    struct rusage ru;
    if (e != NULL && *e != 0 && getrusage(RUSAGE_SELF, &ru) == 0)
        fprintf(stderr, "twoway: %s: peak RSS %ld KiB\n", cli_command, ru.ru_maxrss);
}

/* argv as `twoway` had it: argv[1] is the command. */
int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: twoway gateway|relay|ohttp [OPTIONS] (twoway-http is run by "
                        "twoway)\n");
        return CLI_EXIT_USAGE;
    }
    int rc = http_main(argv[1], argc - 1, argv + 1);
    report_rss();
    return rc;
}
