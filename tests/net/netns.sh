#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The secureio CLI over a real lossy link: two network namespaces joined by
# a veth pair with tc netem (loss, delay, reordering) and an MTU of 1280.
#   tcp://  over the lossy link: arrives exact (cmp)
#   udp://  over the same link, no loss (delay, reordering, small MTU): exact
#   udp://  over the lossy link: what arrives is the input with whole
#           messages (input reads) left out, nothing changed, repeated or
#           reordered; the receiver says how many were lost (exit 6) or
#           nothing was lost (exit 0, exact)
# Needs root, iproute2 (ip, tc), network namespaces, veth and netem; without
# them it says why and exits 77 (ctest: skipped).
#
# usage: netns.sh SECUREIO_CLI CHECKER
#   CHECKER: the test_session_net program (its --check-pieces IN OUT mode)
set -u

CLI=${1:?usage: netns.sh SECUREIO_CLI CHECKER}
CHECKER=${2:?usage: netns.sh SECUREIO_CLI CHECKER}
NAME=session-netns
PASSED=0
FAILED=0

skip() {
    echo "$NAME: skipped: $*"
    exit 77
}
pass() {
    PASSED=$((PASSED + 1))
    echo "ok      $*"
}
fail() {
    FAILED=$((FAILED + 1))
    echo "FAILED  $*"
}

[ "$(id -u)" = 0 ] || skip "not root (namespaces, veth and netem need root)"
command -v ip >/dev/null 2>&1 || skip "no ip command (iproute2)"
command -v tc >/dev/null 2>&1 || skip "no tc command (iproute2)"
[ -x "$CLI" ] || skip "no secureio program at $CLI"
[ -x "$CHECKER" ] || skip "no checker program at $CHECKER"

NS1=sio-l-$$
NS2=sio-c-$$
IF1=siol$$
IF2=sioc$$
ADDR1=10.77.0.1
ADDR2=10.77.0.2
WORK=$(mktemp -d /tmp/secureio-netns.XXXXXX) || skip "no temporary directory"
PIDS=""

cleanup() {
    for p in $PIDS; do
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    ip netns del "$NS1" 2>/dev/null
    ip netns del "$NS2" 2>/dev/null
    ip link del "$IF1" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS1" 2>"$WORK/err" || skip "cannot make a network namespace: $(head -c 200 "$WORK/err")"
ip netns add "$NS2" 2>"$WORK/err" || skip "cannot make a network namespace: $(head -c 200 "$WORK/err")"
ip link add "$IF1" type veth peer name "$IF2" 2>"$WORK/err" ||
    skip "cannot make a veth pair: $(head -c 200 "$WORK/err")"
ip link set "$IF1" netns "$NS1" && ip link set "$IF2" netns "$NS2" ||
    skip "cannot move the veth ends into the namespaces"
for n in 1 2; do
    ns=NS$n
    ifc=IF$n
    addr=ADDR$n
    ip -n "${!ns}" link set lo up &&
        ip -n "${!ns}" addr add "${!addr}/24" dev "${!ifc}" &&
        ip -n "${!ns}" link set "${!ifc}" mtu 1280 &&
        ip -n "${!ns}" link set "${!ifc}" up ||
        skip "cannot configure the veth pair"
done

# netem on both ends (the limit: the queue itself must not drop)
LOSSY="netem limit 100000 delay 8ms 3ms loss 2% reorder 10% 50%"
CLEAN="netem limit 100000 delay 8ms 3ms reorder 10% 50%"
LOSSY_WHAT="loss 2%, delay, reordering, MTU 1280"
CLEAN_WHAT="delay, reordering, MTU 1280, no loss"
netem() {
    for n in 1 2; do
        ns=NS$n
        ifc=IF$n
        # shellcheck disable=SC2086
        tc -n "${!ns}" qdisc replace dev "${!ifc}" root $1 2>"$WORK/err" || return 1
    done
}
if ! netem "$LOSSY"; then
    # A kernel without sch_netem (some VMs and containers): the loss comes
    # from a bottleneck instead, a token bucket with a short queue that
    # drops what overflows it; the loss-free run has only the small MTU.
    echo "(tc netem is not available here: $(head -c 120 "$WORK/err");"
    echo " loss from a 50 Mbit/s bottleneck with a 150 KB queue instead, no delay or reordering)"
    LOSSY="tbf rate 50mbit burst 32k limit 150k"
    CLEAN="pfifo limit 100000"
    LOSSY_WHAT="a 50 Mbit/s bottleneck that drops, MTU 1280"
    CLEAN_WHAT="MTU 1280, no loss"
    netem "$LOSSY" || skip "neither tc netem nor tbf is available: $(head -c 200 "$WORK/err")"
fi

# identities, made by the CLI; each side pins the other
"$CLI" keygen -f "$WORK/l" -C listener >/dev/null 2>&1 &&
    "$CLI" keygen -f "$WORK/c" -C client >/dev/null 2>&1 || {
    fail "secureio keygen"
    echo "$NAME: $PASSED passed, $FAILED failed"
    exit 1
}

# input: numbered lines (no 64-byte window repeats: the checker relies on it)
awk 'BEGIN { for (i = 0; i < 70000; i++) printf "%015d line %09d abcdefghij\n", i, (i * 7919) % 1000000007 }' \
    >"$WORK/in.big"
head -c 1000000 "$WORK/in.big" >"$WORK/in.small"

# waits (at most $2 seconds) for the listener's stderr $1 to say it listens
wait_listening() {
    local i=0
    while [ $i -lt $(($2 * 20)) ]; do
        grep -q "listening on" "$1" 2>/dev/null && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

PORT=47000
# transfer URL_SCHEME INPUT TAG: the client sends INPUT to the listener; sets
# RC_L RC_C (exit codes) and leaves $WORK/TAG.out, .lerr, .cerr
transfer() {
    local scheme=$1 input=$2 tag=$3
    PORT=$((PORT + 1))
    local url="$scheme://$ADDR1:$PORT"
    : >"$WORK/$tag.lerr"
    ip netns exec "$NS1" timeout 150 "$CLI" listen "$url" -i "$WORK/l" -p "$WORK/c.pub" -v -v \
        </dev/null >"$WORK/$tag.out" 2>"$WORK/$tag.lerr" &
    local lpid=$!
    PIDS="$PIDS $lpid"
    if ! wait_listening "$WORK/$tag.lerr" 20; then
        echo "(the listener did not start: $(head -c 300 "$WORK/$tag.lerr"))"
    fi
    ip netns exec "$NS2" timeout 150 "$CLI" connect "$url" -i "$WORK/c" -p "$WORK/l.pub" -v -v \
        <"$input" >/dev/null 2>"$WORK/$tag.cerr"
    RC_C=$?
    wait "$lpid"
    RC_L=$?
    PIDS=${PIDS% $lpid}
}

show_tail() {
    echo "  listener (exit $RC_L):"
    tail -n 8 "$WORK/$1.lerr" | sed 's/^/    /'
    echo "  client (exit $RC_C):"
    tail -n 8 "$WORK/$1.cerr" | sed 's/^/    /'
}

# 1. TCP over the lossy link: exact
T0=$(date +%s.%N)
transfer tcp "$WORK/in.big" tcp
T1=$(date +%s.%N)
if [ "$RC_L" = 0 ] && [ "$RC_C" = 0 ] && cmp -s "$WORK/in.big" "$WORK/tcp.out"; then
    pass "tcp:// over $LOSSY_WHAT: exact ($(stat -c %s "$WORK/tcp.out") bytes, $(awk "BEGIN{printf \"%.1f\", $T1 - $T0}") s)"
else
    fail "tcp:// over the lossy link: exit $RC_L/$RC_C, $(stat -c %s "$WORK/tcp.out") of $(stat -c %s "$WORK/in.big") bytes"
    show_tail tcp
fi

# 2. UDP with delay, reordering and the small MTU, no loss: exact
netem "$CLEAN" || fail "tc netem change"
T0=$(date +%s.%N)
transfer udp "$WORK/in.big" udpclean
T1=$(date +%s.%N)
if [ "$RC_L" = 0 ] && [ "$RC_C" = 0 ] && cmp -s "$WORK/in.big" "$WORK/udpclean.out"; then
    pass "udp:// over $CLEAN_WHAT: exact ($(awk "BEGIN{printf \"%.1f\", $T1 - $T0}") s)"
else
    fail "udp:// without loss: exit $RC_L/$RC_C, $(stat -c %s "$WORK/udpclean.out") of $(stat -c %s "$WORK/in.big") bytes"
    show_tail udpclean
fi
if grep -q "packet size" "$WORK/udpclean.cerr" "$WORK/udpclean.lerr"; then
    echo "        (path size discovery: $(grep -ho 'packet size [0-9]*' "$WORK/udpclean.cerr" | tail -n 1))"
fi

# 3. UDP over the lossy link: only whole messages go missing
netem "$LOSSY" || fail "tc netem change"
T0=$(date +%s.%N)
transfer udp "$WORK/in.small" udplossy
T1=$(date +%s.%N)
LOSTLINE=$(grep -o "[0-9]* of [0-9]* messages from the peer were lost" "$WORK/udplossy.lerr" | head -n 1)
LOST=${LOSTLINE%% of*}
LOST=${LOST:-0}
CHECKED=$("$CHECKER" --check-pieces "$WORK/in.small" "$WORK/udplossy.out" 2>&1)
CRC=$?
# "pieces N gaps G smallest-gap S lost-bytes L tail T" (S: gaps but the tail)
read -r _ PIECES _ GAPS _ SMALLEST _ LOSTB _ TAIL <<<"$(echo "$CHECKED" | tail -n 1)"
echo "        (udp lossy: exit $RC_L/$RC_C, $LOST messages reported lost; checker: $CHECKED)"
ok=1
case "$RC_C" in 0) ;; *) ok=0; echo "  the client failed" ;; esac
[ "$CRC" = 0 ] || { ok=0; echo "  the output is not the input with pieces left out"; }
if [ "$RC_L" = 0 ]; then
    # nothing lost: exact
    cmp -s "$WORK/in.small" "$WORK/udplossy.out" || { ok=0; echo "  exit 0 but the output differs"; }
elif [ "$RC_L" = 6 ]; then
    [ "$LOST" -gt 0 ] 2>/dev/null || { ok=0; echo "  exit 6 without a count of lost messages"; }
    # each gap is one or more whole messages: never more gaps than
    # messages lost, and no gap smaller than a datagram's payload
    [ "${GAPS:-0}" -ge 1 ] && [ "${GAPS:-0}" -le "$LOST" ] ||
        { ok=0; echo "  $GAPS gaps for $LOST lost messages"; }
    [ "${SMALLEST:-0}" -ge 512 ] || [ "${GAPS:-0}" -le 1 -a "${TAIL:-0}" -gt 0 ] ||
        { ok=0; echo "  a gap of $SMALLEST bytes: not a whole message"; }
else
    ok=0
    echo "  the listener's exit code $RC_L (0 or 6 expected)"
fi
if [ $ok = 1 ]; then
    pass "udp:// over $LOSSY_WHAT: whole messages or none ($(awk "BEGIN{printf \"%.1f\", $T1 - $T0}") s)"
else
    fail "udp:// over the lossy link"
    show_tail udplossy
fi

echo "$NAME: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
