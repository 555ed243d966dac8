#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What `make demo` runs after hpke-demo: a request and its response through
# the `twoway` command-line tool (docs/CLI.md), in a temporary folder,
# printing each step; then a chunked round trip of a few MB, and a client
# and a server in one pipeline.
#
#   scripts/demo.sh PATH/TO/twoway
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH/TO/twoway" >&2
    exit 2
fi
tw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/twoway-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

step()
{
    echo
    echo "== $*"
}
# run CMD...: shows the command, then runs it ("twoway" is the tool given).
run()
{
    echo "\$ $*"
    if [ "$1" = twoway ]; then
        shift
        "$tw" "$@"
    else
        "$@"
    fi
}
size()
{
    stat -c %s "$1"
}
hexhead()
{
    od -An -tx1 -N "$2" "$1" | tr -d ' \n'
}

echo "$("$tw" --version): HPKE requests and responses from the command line"
echo "(twoway = Oblivious HTTP, RFC 9458, and chunked OHTTP; working in a temporary folder)"

step "1. the server generates a key pair (X25519, HKDF-SHA256, AES-128-GCM, key id 1)"
run twoway keygen --key-id 1 -o server.key --config server.ohttp-keys
echo "   server.key: $(stat -c %A server.key) (secret); server.ohttp-keys: $(size server.ohttp-keys) bytes, application/ohttp-keys, published"
run twoway show server.ohttp-keys | sed 's/^/   /'

step "2. the client seals a request to the published key configuration"
printf 'GET /weather?city=Paris' >request.txt
run twoway seal-request --config server.ohttp-keys --state client.state -i request.txt -o request.bin
echo "   request.txt: $(size request.txt) bytes -> request.bin: $(size request.bin) bytes (header $(hexhead request.bin 7), then enc, then ciphertext)"

step "3. the server opens it with its private key"
run twoway open-request --key server.key --state server.state -i request.bin -o request.out
echo "   opened: \"$(cat request.out)\""

step "4. the server seals the response, bound to that request"
printf '{"city":"Paris","temperature":18}' >response.txt
run twoway seal-response --state server.state -i response.txt -o response.bin
echo "   response.txt: $(size response.txt) bytes -> response.bin: $(size response.bin) bytes (response nonce, then ciphertext)"

step "5. the client opens the response"
run twoway open-response --state client.state -i response.bin -o response.out
echo "   opened: \"$(cat response.out)\""

step "6. an altered request (its last byte changed) is refused"
cp request.bin altered.bin
printf '\001' | dd of=altered.bin bs=1 seek=$(($(size altered.bin) - 1)) conv=notrunc status=none
echo "\$ twoway open-request --key server.key --state server2.state -i altered.bin -o altered.out"
if "$tw" open-request --key server.key --state server2.state -i altered.bin -o altered.out 2>&1 |
    sed 's/^/   /'; then
    echo "demo: the altered request was accepted" >&2
    exit 1
fi
if [ -e altered.out ]; then
    echo "demo: altered.out was written" >&2
    exit 1
fi
echo "   refused (exit 1), and no altered.out was written"

step "7. a chunked round trip of 4 MiB from /dev/urandom (the server echoes the request)"
echo "\$ head -c 4194304 /dev/urandom > big.txt"
head -c $((4 * 1024 * 1024)) /dev/urandom >big.txt
run twoway seal-request --chunked --config server.ohttp-keys --state client.state -i big.txt -o big.req
run twoway open-request --key server.key --state server.state -i big.req -o big.echo
run twoway seal-response --state server.state -i big.echo -o big.resp
run twoway open-response --state client.state -i big.resp -o big.out
echo "   $(size big.txt) bytes -> request $(size big.req) bytes -> response $(size big.resp) bytes -> $(size big.out) bytes"
run cmp big.txt big.out
echo "   cmp: identical (open-request found the framing; the response took the request's)"

step "8. client and server in one pipeline: the state files pass between the stages"
echo "\$ echo 'hello, server' | twoway seal-request --config server.ohttp-keys | twoway open-request --key server.key |"
echo "      tr a-z A-Z | twoway seal-response | twoway open-response"
answer=$(echo 'hello, server' | "$tw" seal-request --config server.ohttp-keys |
    "$tw" open-request --key server.key | tr a-z A-Z | "$tw" seal-response | "$tw" open-response)
echo "   $answer"
if [ "$answer" != "HELLO, SERVER" ]; then
    echo "demo: the pipeline answered '$answer'" >&2
    exit 1
fi

echo
echo "demo: all steps succeeded"
