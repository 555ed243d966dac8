#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What `make demo` runs last: the three parties of Oblivious HTTP (RFC 9458)
# on loopback, with the `twoway` commands (docs/OHTTP.md): a target origin
# (Python's http.server, a plain web server), a gateway that may forward
# only to it, a relay in front of the gateway, and the client `twoway ohttp`
# sending requests through the relay. Then a chunked download and upload,
# the refusals, and a key rotation without restart.
#
#   scripts/ohttp_demo.sh PATH/TO/twoway
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH/TO/twoway" >&2
    exit 2
fi
tw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v python3 >/dev/null || {
    echo "ohttp demo: python3 is needed for the origin (scripts/install-deps.sh installs it)" >&2
    exit 1
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ohttp-demo.XXXXXX")
pids=()
cleanup()
{
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

step()
{
    echo
    echo "== $*"
}
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
# wait_port FILE: the port a server wrote there once listening
wait_port()
{
    for _ in $(seq 100); do
        if [ -s "$1" ]; then
            cat "$1"
            return
        fi
        sleep 0.05
    done
    echo "ohttp demo: no server wrote $1" >&2
    exit 1
}
free_port()
{
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

echo "Oblivious HTTP on one machine: client -> relay -> gateway -> origin"
echo "(the relay sees who asks but not what; the gateway sees what but not who)"

step "1. the origin: a plain web server with two files"
mkdir www
echo "Hello through Oblivious HTTP" >www/hello.txt
head -c $((8 * 1024 * 1024)) /dev/urandom >www/big.bin
oport=$(free_port)
echo "\$ python3 -m http.server $oport --bind 127.0.0.1 --directory www &"
python3 -m http.server "$oport" --bind 127.0.0.1 --directory www >origin.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $oport)).close()" 2>/dev/null; then break; fi
    sleep 0.05
done

step "2. the gateway's key, and the gateway: it forwards only to that origin"
run twoway keygen --key-id 1 -o gateway.key
echo "\$ twoway gateway --listen 127.0.0.1:0 --key gateway.key --origin http://127.0.0.1:$oport --port-file gw.port &"
"$tw" gateway --listen 127.0.0.1:0 --key gateway.key --origin "http://127.0.0.1:$oport" \
    --port-file gw.port -v 2>gateway.log &
pids+=($!)
gw_pid=$!
gport=$(wait_port gw.port)
echo "   listening on port $gport: keys at /ohttp-keys and /.well-known/ohttp-gateway, requests at /gateway"

step "3. the relay, in front of the gateway"
echo "\$ twoway relay --listen 127.0.0.1:0 --gateway http://127.0.0.1:$gport/gateway --port-file relay.port &"
"$tw" relay --listen 127.0.0.1:0 --gateway "http://127.0.0.1:$gport/gateway" \
    --port-file relay.port 2>relay.log &
pids+=($!)
rport=$(wait_port relay.port)
relay=http://127.0.0.1:$rport/
keys=http://127.0.0.1:$gport/ohttp-keys
echo "   listening on port $rport"

step "4. the client fetches the gateway's keys and sends a GET through the relay"
echo "\$ twoway ohttp -i --keys $keys $relay http://127.0.0.1:$oport/hello.txt"
"$tw" ohttp -i --keys "$keys" "$relay" "http://127.0.0.1:$oport/hello.txt" | sed 's/\r$//; s/^/   /'

step "5. a chunked download of 8 MiB, streamed through relay and gateway"
run twoway ohttp --chunked --keys "$keys" "$relay" "http://127.0.0.1:$oport/big.bin" -o big.out
run cmp www/big.bin big.out
echo "   cmp: identical"

step "6. a target that is not on the gateway's allow-list is refused (inside the encapsulation)"
echo "\$ twoway ohttp -i --keys $keys $relay https://example.com/"
"$tw" ohttp -i --keys "$keys" "$relay" https://example.com/ | sed 's/\r$//; s/^/   /'

step "7. a request sealed to a key the gateway does not have"
run twoway keygen --key-id 9 -o stranger.key
echo "\$ twoway ohttp --keys @stranger.key.pub $relay http://127.0.0.1:$oport/hello.txt"
set +e
"$tw" ohttp --keys @stranger.key.pub "$relay" "http://127.0.0.1:$oport/hello.txt" 2>&1 | sed 's/^/   /'
rc=${PIPESTATUS[0]}
set -e
echo "   exit $rc (3: the gateway does not know the key; the client should fetch its keys again)"
[ "$rc" = 3 ] || { echo "ohttp demo: expected exit 3" >&2; exit 1; }

step "8. key rotation without restart: a new key, SIGHUP, the old key still served for its grace"
curl_keys()
{
    python3 -c "import urllib.request,sys; sys.stdout.buffer.write(urllib.request.urlopen('$keys').read())"
}
curl_keys >keys.before
run twoway keygen --key-id 2 -o new.key
cp new.key gateway.key
echo "\$ cp new.key gateway.key; kill -HUP <gateway>"
kill -HUP "$gw_pid"
sleep 0.3
curl_keys >keys.after
if cmp -s keys.before keys.after; then
    echo "ohttp demo: the published keys did not change" >&2
    exit 1
fi
echo "   published keys: key id $(od -An -tu1 -j2 -N1 keys.before | tr -d ' ') before, $(od -An -tu1 -j2 -N1 keys.after | tr -d ' ') now"
echo "\$ twoway ohttp --keys @keys.before $relay http://127.0.0.1:$oport/hello.txt   # the old key, in its grace"
"$tw" ohttp --keys @keys.before "$relay" "http://127.0.0.1:$oport/hello.txt" | sed 's/^/   /'
echo "\$ twoway ohttp --keys $keys $relay http://127.0.0.1:$oport/hello.txt   # the new key"
"$tw" ohttp --keys "$keys" "$relay" "http://127.0.0.1:$oport/hello.txt" | sed 's/^/   /'

step "9. a gateway that answers itself (its callback; here --echo): a chunked POST of 4 MiB comes back"
head -c $((4 * 1024 * 1024)) /dev/urandom >upload.bin
echo "\$ twoway gateway --listen 127.0.0.1:0 --key gateway.key --echo --max-request 8388608 --port-file echo.port &"
"$tw" gateway --listen 127.0.0.1:0 --key gateway.key --echo --max-request 8388608 \
    --port-file echo.port 2>echo.log &
pids+=($!)
eport=$(wait_port echo.port)
run twoway ohttp --chunked -d @upload.bin -o echoed.bin "http://127.0.0.1:$eport/gateway" https://app.example/upload
run cmp upload.bin echoed.bin
echo "   cmp: identical (no --keys: a GET of the gateway's URL gave them)"

kill -TERM "$gw_pid"
wait "$gw_pid" 2>/dev/null || true
sed 's/^/   gateway: /' gateway.log | tail -n 2

echo
echo "ohttp demo: all steps succeeded"
