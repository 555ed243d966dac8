/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A user's program against the installed libtwoway_ohttp (pkg-config
 * twoway_ohttp): a key file, a gateway that answers itself on a port of its
 * own, and one request through it. Prints one line and exits 0 when the
 * answer came back whole.
 */
#define _POSIX_C_SOURCE 200809L

#include <twoway/keyfile.h>
#include <twoway/ohttp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int hello(void *arg, const twoway_ohttp_request *req, twoway_ohttp_response *resp)
{
    (void)arg;
    char body[256];
    int n = snprintf(body, sizeof body, "hello, %s %s", req->method, req->path);
    return twoway_ohttp_response_body(resp, body, (size_t)n) == TWOWAY_OK ? 0 : -1;
}

static int collect(void *arg, const uint8_t *p, size_t n)
{
    char *out = arg;
    size_t have = strlen(out);
    if (have + n >= 256)
        return -1;
    memcpy(out + have, p, n);
    out[have + n] = 0;
    return 0;
}

int main(void)
{
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(TWOWAY_HPKE_KEM_X25519_SHA256);
    twoway_symmetric_suite sym = {TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_AEAD_AES_128_GCM};
    twoway_hpke_key *key = NULL;
    twoway_key_config cfg;
    char dir[] = "/tmp/ohttp-consumer.XXXXXX", path[64];
    if (mkdtemp(dir) == NULL || twoway_hpke_key_generate(kem, &key) != TWOWAY_OK ||
        twoway_key_config_of_key(&cfg, 7, key, &sym, 1) != TWOWAY_OK)
        return 1;
    snprintf(path, sizeof path, "%s/gateway.key", dir);
    if (twoway_key_file_save(path, &cfg, key) != TWOWAY_OK)
        return 1;
    twoway_hpke_key_free(key);

    const char *files[] = {path};
    twoway_ohttp_gateway_options go;
    memset(&go, 0, sizeof go);
    go.version = TWOWAY_OHTTP_GATEWAY_OPTIONS_VERSION;
    go.key_files = files;
    go.n_key_files = 1;
    go.handler = hello;
    twoway_ohttp_gateway *gw = NULL;
    int rc = twoway_ohttp_gateway_start(&gw, &go);
    unlink(path);
    rmdir(dir);
    if (rc != TWOWAY_OK) {
        fprintf(stderr, "gateway: %s (%s)\n", twoway_strerror(rc), twoway_ohttp_error_detail());
        return 1;
    }
    char url[64], got[256] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%u/gateway", twoway_ohttp_gateway_port(gw));
    twoway_ohttp_fetch_request req;
    memset(&req, 0, sizeof req);
    req.url = "https://example.com/hi";
    twoway_ohttp_fetch_sink sink = {NULL, NULL, collect, got};
    rc = twoway_ohttp_fetch(url, &req, &sink, NULL, NULL);
    twoway_ohttp_gateway_stop(gw);
    if (rc != TWOWAY_OK || strcmp(got, "hello, GET /hi") != 0) {
        fprintf(stderr, "fetch: %s (%s), got '%s'\n", twoway_strerror(rc),
                twoway_ohttp_error_detail(), got);
        return 1;
    }
    printf("ohttp_consumer: a gateway and a client of the installed libtwoway_ohttp: '%s'\n", got);
    return 0;
}
