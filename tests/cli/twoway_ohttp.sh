#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The `twoway` OHTTP commands end to end on loopback (docs/OHTTP.md):
#
#   tests/cli/twoway_ohttp.sh PATH/TO/twoway PATH/TO/ohttp-test-origin [--big]
#
# Real processes: an origin (the tests' origin server), a gateway that may
# forward only to it, a second gateway answering itself (--echo), a relay
# in front of the first; `twoway ohttp` through the relay and directly.
# GET and POST, unchunked and chunked, bodies of 0 B to 16 MiB (--big: 100
# MiB each way, with the client's peak RSS bounded), -i/-o/-H/-X/-f, keys
# from a URL, a file and the gateway's own URL; the refusals: an unknown
# key (exit 3), a target off the allow-list (403), an origin that is down
# (502), a slow one (504), usage errors (exit 2); a key rotation with
# SIGHUP; and the relay's and gateway's refusals of wrong requests.
# Ends with "twoway_ohttp: N passed, N failed".
set -euo pipefail

if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
    echo "usage: $0 PATH/TO/twoway PATH/TO/ohttp-test-origin [--big]" >&2
    exit 2
fi
tw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
origin_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
big=0
if [ "${3:-}" = --big ]; then big=1; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/twoway-ohttp-test.XXXXXX")
pids=()
cleanup()
{
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad()
{
    echo "FAIL: $*"
    failed=$((failed + 1))
}
# expect CODE NAME CMD...: CMD exits with CODE.
expect()
{
    local want=$1 name=$2 rc=0
    shift 2
    "$@" >out.txt 2>err.txt || rc=$?
    if [ "$rc" = "$want" ]; then
        ok
    else
        bad "$name: exit $rc, expected $want"
        sed 's/^/    | /' err.txt | head -5
    fi
}
wait_port()
{
    for _ in $(seq 200); do
        if [ -s "$1" ]; then
            cat "$1"
            return
        fi
        sleep 0.05
    done
    echo "no server wrote $1" >&2
    exit 1
}
"$tw" keygen --key-id 1 -o gw.key >/dev/null
"$tw" keygen --key-id 2 -o other.key >/dev/null
"$tw" keygen --key-id 3 -o stranger.key >/dev/null

"$origin_bin" origin.port &
pids+=($!)
oport=$(wait_port origin.port)
origin=http://127.0.0.1:$oport

"$tw" gateway --listen 127.0.0.1:0 --key gw.key --origin "$origin" --timeout 1500 \
    --port-file gw.port -v 2>gw.log &
pids+=($!)
gw_pid=$!
gport=$(wait_port gw.port)
gw=http://127.0.0.1:$gport/gateway
keys=http://127.0.0.1:$gport/ohttp-keys

"$tw" relay --listen 127.0.0.1:0 --gateway "$gw" --port-file relay.port 2>relay.log &
pids+=($!)
relay_pid=$!
rport=$(wait_port relay.port)
relay=http://127.0.0.1:$rport/

"$tw" gateway --listen 127.0.0.1:0 --key gw.key --echo --max-request $((32 << 20)) \
    --port-file echo.port 2>echo.log &
pids+=($!)
eport=$(wait_port echo.port)
echo_gw=http://127.0.0.1:$eport/gateway

echo "twoway_ohttp: origin :$oport, gateway :$gport, relay :$rport, echo gateway :$eport"

# ------------------------------------------------------------------ GET
expect 0 "GET through the relay" "$tw" ohttp --keys "$keys" "$relay" "$origin/bytes/1000" -o got.bin
if [ "$(stat -c %s got.bin 2>/dev/null)" = 1000 ]; then ok; else bad "GET: not 1000 bytes"; fi
expect 0 "GET -i" "$tw" ohttp -i --keys "$keys" "$relay" "$origin/bytes/3"
if head -n1 out.txt | grep -q '^HTTP/1.1 200'; then ok; else bad "-i: no status line"; fi
if grep -qi '^content-type: application/octet-stream' out.txt; then ok; else bad "-i: no content-type"; fi
expect 0 "keys from the gateway's own URL" "$tw" ohttp "$gw" "$origin/bytes/10" -o g2.bin
expect 0 "keys from the well-known URL" \
    "$tw" ohttp --keys "http://127.0.0.1:$gport/.well-known/ohttp-gateway" "$relay" "$origin/bytes/10"
expect 0 "keys from a file" "$tw" ohttp --keys @gw.key.pub "$relay" "$origin/bytes/10"
expect 0 "chunked GET of 1 MiB" "$tw" ohttp --chunked --keys @gw.key.pub "$relay" "$origin/bytes/1048576" -o c1.bin
if [ "$(stat -c %s c1.bin)" = 1048576 ] && cmp -s c1.bin <("$tw" ohttp --keys @gw.key.pub "$relay" "$origin/bytes/1048576"); then
    ok
else
    bad "chunked and unchunked GETs of 1 MiB differ"
fi
expect 0 "GET of 0 bytes" "$tw" ohttp --chunked --keys @gw.key.pub "$relay" "$origin/bytes/0" -o zero.bin
if [ -e zero.bin ] && [ ! -s zero.bin ]; then ok; else bad "0 bytes: not an empty file"; fi

# ----------------------------------------------------------------- POST
for size in 0 1 1024 1048576; do
    head -c "$size" /dev/urandom >body.bin
    for mode in "" --chunked; do
        expect 0 "POST $size $mode to the echo gateway" \
            "$tw" ohttp $mode -d @body.bin -o echoed.bin --keys @gw.key.pub "$echo_gw" https://app.example/up
        if [ "$size" = 0 ]; then
            if grep -q '^POST https://app.example/up' echoed.bin; then ok; else bad "POST 0 $mode: echo"; fi
        elif cmp -s body.bin echoed.bin; then
            ok
        else
            bad "POST $size $mode: the echo differs"
        fi
    done
done
expect 0 "-d DATA" "$tw" ohttp -d 'hello there' --keys @gw.key.pub "$echo_gw" https://app.example/x
if [ "$(cat out.txt)" = "hello there" ]; then ok; else bad "-d DATA echoed '$(cat out.txt)'"; fi
echo "from stdin" | "$tw" ohttp -d @- --keys @gw.key.pub "$echo_gw" https://app.example/x >stdin.out 2>err.txt
if [ "$(cat stdin.out)" = "from stdin" ]; then ok; else bad "-d @- echoed '$(cat stdin.out)'"; fi
expect 0 "-X PUT" "$tw" ohttp -X DELETE --keys @gw.key.pub "$echo_gw" https://app.example/item/7
if grep -q '^DELETE https://app.example/item/7' out.txt; then ok; else bad "-X: $(cat out.txt)"; fi
head -c 65536 /dev/urandom >body.bin
expect 0 "POST to the origin through the relay" \
    "$tw" ohttp -d @body.bin --keys @gw.key.pub "$relay" "$origin/sum"
if grep -q '^len=65536 sum=' out.txt; then ok; else bad "POST /sum: $(cat out.txt)"; fi
# an unchunked request over the relay's limit (1 MiB) is refused there
head -c $((1024 * 1024)) /dev/urandom >body.bin
expect 1 "an unchunked request over 1 MiB" \
    "$tw" ohttp -d @body.bin --keys @gw.key.pub "$relay" "$origin/sum"
if grep -q 'HTTP status 413' err.txt; then ok; else bad "over 1 MiB: $(cat err.txt)"; fi
expect 0 "the same chunked" "$tw" ohttp --chunked -d @body.bin --keys @gw.key.pub "$relay" "$origin/sum"
if grep -q '^len=1048576 sum=' out.txt; then ok; else bad "chunked 1 MiB /sum: $(cat out.txt)"; fi
expect 0 "-H reaches the origin" \
    "$tw" ohttp -H 'X-Probe: yes please' -H 'Cookie: a=b' --keys @gw.key.pub "$relay" "$origin/headers/h"
if grep -qi '^x-probe: yes please' out.txt && grep -qi '^cookie: a=b' out.txt; then ok; else bad "-H: $(cat out.txt)"; fi
if ! grep -qi '^connection:.*close\|^x-forwarded-for' out.txt; then ok; else bad "the origin saw hop fields"; fi

# a field value Binary HTTP carries but HTTP/1.1 does not (a control
# character): refused inside the encapsulation, never sent to the origin
for mode in "" --chunked; do
    expect 22 "a control character in a field value $mode" \
        "$tw" ohttp $mode -f -i -H "$(printf 'X-Bad: a\001b')" --keys @gw.key.pub "$relay" "$origin/headers/ctl"
    if head -n1 out.txt | grep -q '^HTTP/1.1 400'; then ok; else bad "control character $mode: $(head -n1 out.txt)"; fi
done

# ----------------------------------------------------------- refusals
expect 3 "an unknown key" "$tw" ohttp --keys @stranger.key.pub "$relay" "$origin/bytes/1"
expect 22 "a target off the allow-list (-f)" "$tw" ohttp -f -i --keys @gw.key.pub "$relay" https://example.com/
if head -n1 out.txt | grep -q '^HTTP/1.1 403'; then ok; else bad "off the list: $(head -n1 out.txt)"; fi
expect 0 "a target off the allow-list (no -f)" "$tw" ohttp --keys @gw.key.pub "$relay" "http://127.0.0.1:1/"
expect 22 "an origin status passes through" "$tw" ohttp -f -i --keys @gw.key.pub "$relay" "$origin/status/418"
if head -n1 out.txt | grep -q '^HTTP/1.1 418'; then ok; else bad "418: $(head -n1 out.txt)"; fi
expect 22 "a slow origin: 504" "$tw" ohttp -f -i --keys @gw.key.pub "$relay" "$origin/slow?ms=4000"
if head -n1 out.txt | grep -q '^HTTP/1.1 504'; then ok; else bad "slow: $(head -n1 out.txt)"; fi
expect 1 "no keys through a relay" "$tw" ohttp "$relay" "$origin/bytes/1"
expect 1 "nothing listening" "$tw" ohttp --keys @gw.key.pub http://127.0.0.1:1/ "$origin/bytes/1"
expect 2 "usage: one URL" "$tw" ohttp "$relay"
expect 2 "usage: a bad -H" "$tw" ohttp -H nocolon "$relay" "$origin/"
expect 2 "gateway without --key" "$tw" gateway --origin "$origin"
expect 2 "gateway with neither --origin nor --echo" "$tw" gateway --key gw.key
expect 2 "relay without --gateway" "$tw" relay
expect 1 "gateway with a missing key file" "$tw" gateway --key nothere.key --echo --listen 127.0.0.1:0

# an origin that is down: a gateway allowed to go to a closed port
"$tw" gateway --listen 127.0.0.1:0 --key gw.key --origin http://127.0.0.1:9 \
    --port-file down.port 2>down.log &
pids+=($!)
dport=$(wait_port down.port)
expect 22 "an origin that is down: 502" \
    "$tw" ohttp -f -i --keys @gw.key.pub "http://127.0.0.1:$dport/gateway" http://127.0.0.1:9/
if head -n1 out.txt | grep -q '^HTTP/1.1 502'; then ok; else bad "down: $(head -n1 out.txt)"; fi

# raw HTTP to the gateway and the relay (the client would not send these)
raw()
{ # raw METHOD URL CONTENT-TYPE BODY-FILE: prints the status
    python3 - "$@" <<'PY' 2>/dev/null || echo none
import sys, urllib.request, urllib.error
m, url, ct, f = sys.argv[1:5]
data = open(f, 'rb').read() if f != '-' else None
req = urllib.request.Request(url, data=data, method=m)
if ct != '-':
    req.add_header('Content-Type', ct)
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
}
if command -v python3 >/dev/null; then
    head -c 100 /dev/urandom >junk.bin
    [ "$(raw POST "$gw" message/ohttp-req junk.bin)" = 400 ] && ok || bad "junk: not 400"
    [ "$(raw POST "$gw" text/plain junk.bin)" = 415 ] && ok || bad "text/plain: not 415"
    [ "$(raw PUT "$gw" message/ohttp-req junk.bin)" = 405 ] && ok || bad "PUT: not 405"
    [ "$(raw GET "$gw" - -)" = 200 ] && ok || bad "GET of the gateway: not 200"
    [ "$(raw GET "http://127.0.0.1:$gport/nothing" - -)" = 404 ] && ok || bad "elsewhere: not 404"
    [ "$(raw POST "$relay" text/plain junk.bin)" = 415 ] && ok || bad "relay text/plain: not 415"
    [ "$(raw GET "$relay" - -)" = 405 ] && ok || bad "relay GET: not 405"
    [ "$(raw POST "$relay" message/ohttp-req junk.bin)" = 400 ] && ok || bad "relay junk: not the gateway's 400"
else
    echo "twoway_ohttp: python3 missing: raw HTTP checks skipped"
fi

# ------------------------------------------------------- key rotation
cp gw.key.pub keys.before
cp other.key gw.key
kill -HUP "$gw_pid"
sleep 0.5
expect 0 "keys after a reload" "$tw" ohttp --keys "$keys" "$relay" "$origin/bytes/5"
expect 0 "the old key during its grace" "$tw" ohttp --keys @keys.before "$relay" "$origin/bytes/5"
expect 0 "the new key" "$tw" ohttp --keys @other.key.pub "$relay" "$origin/bytes/5"
if grep -q 'keys reloaded' gw.log; then ok; else bad "the gateway did not say it reloaded"; fi
printf 'not a key file\n' >gw.key
kill -HUP "$gw_pid"
sleep 0.5
if grep -q 'reload failed, keys unchanged' gw.log; then ok; else bad "a bad key file was not refused"; fi
expect 0 "keys unchanged after a failed reload" "$tw" ohttp --keys @other.key.pub "$relay" "$origin/bytes/5"

# ------------------------------------------------------------- big
if [ "$big" = 1 ]; then
    n=$((100 * 1024 * 1024))
    rss_of() { sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p' "$1" | tail -n1; }
    TWOWAY_REPORT_RSS=1 "$tw" ohttp --chunked --keys @other.key.pub "$relay" "$origin/bytes/$n" \
        -o big.bin 2>rss.txt && ok || bad "100 MiB chunked download"
    if [ "$(stat -c %s big.bin)" = $n ]; then ok; else bad "100 MiB: $(stat -c %s big.bin) bytes"; fi
    rss=$(rss_of rss.txt)
    if [ -n "$rss" ] && [ "$rss" -lt 32768 ]; then ok; else bad "download peak RSS ${rss:-?} KiB"; fi
    TWOWAY_REPORT_RSS=1 "$tw" ohttp --chunked -d @big.bin --keys @other.key.pub "$relay" "$origin/sum" \
        >sum.txt 2>rss.txt && ok || bad "100 MiB chunked upload"
    if grep -q "^len=$n sum=" sum.txt; then ok; else bad "upload: $(cat sum.txt)"; fi
    rss=$(rss_of rss.txt)
    if [ -n "$rss" ] && [ "$rss" -lt 32768 ]; then ok; else bad "upload peak RSS ${rss:-?} KiB"; fi
    # and the servers': their peak resident size (VmHWM) after both
    gw_hwm=$(awk '/^VmHWM/ { print $2 }' /proc/"$gw_pid"/status)
    relay_hwm=$(awk '/^VmHWM/ { print $2 }' /proc/"$relay_pid"/status)
    if [ "${gw_hwm:-999999}" -lt 65536 ] && [ "${relay_hwm:-999999}" -lt 65536 ]; then
        ok
    else
        bad "server peak RSS: gateway ${gw_hwm:-?} KiB, relay ${relay_hwm:-?} KiB"
    fi
    echo "twoway_ohttp: 100 MiB each way through relay and gateway; peak RSS: client ${rss:-?} KiB," \
        "gateway ${gw_hwm:-?} KiB, relay ${relay_hwm:-?} KiB"
fi

kill -TERM "$gw_pid"
wait "$gw_pid" 2>/dev/null || true
if grep -q 'requests,.*opened' gw.log; then ok; else bad "the gateway's counts at exit"; fi

echo "twoway_ohttp: $passed passed, $failed failed"
[ "$failed" = 0 ]
