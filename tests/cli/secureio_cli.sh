#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tests of the `secureio` command-line tool (secureio(1), docs/CLI.md):
#
#   tests/cli/secureio_cli.sh PATH/TO/secureio [--big]
#
# Real processes on loopback, in a mktemp folder: keygen and pubkey (also on
# keys of ssh-keygen, whose fingerprints must agree), listen and connect
# over udp://, tcp://, unix:// and unixgram:// with a random file each way
# at once, compared byte for byte; --authorized-keys, --any-peer, --peer as
# a key line, PSKs; and the failures with their exit codes: a peer refused
# (its fingerprint named), a wrong --peer key, no identity, a private key
# others may read, usage errors (2), nobody listening (4), a timeout (5).
# Listeners take port 0 and the port that -v prints. --big sends 20 MB each
# way over udp:// and tcp:// (3 MB without; ctest passes --big only to a
# build without sanitizers). Every process runs under timeout(1).
# Ends with "secureio-cli: N passed, N failed".
set -euo pipefail

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH/TO/secureio [--big]" >&2
    exit 2
fi
sio=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
big=0
if [ "${2:-}" = --big ]; then big=1; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secureio-cli-test.XXXXXX")
pids=()
cleanup()
{
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
unset SECUREIO_IDENTITY
export HOME=$tmp/home # the default identity is never the user's
mkdir home

T=60 # seconds any one process may take
passed=0
failed=0
ok()
{
    passed=$((passed + 1))
}
bad()
{
    echo "FAIL: $*"
    failed=$((failed + 1))
}
# check NAME CMD...: CMD must succeed.
check()
{
    local name=$1 rc=0
    shift
    timeout "$T" "$@" >out.log 2>err.log </dev/null || rc=$?
    if [ "$rc" -eq 0 ]; then ok; else bad "$name (exit $rc): $(head -c 300 err.log)"; fi
}
# fails CODE NAME CMD...: CMD must exit with CODE; its stderr is kept in err.log.
fails()
{
    local code=$1 name=$2 rc=0
    shift 2
    timeout 20 "$@" >out.log 2>err.log </dev/null || rc=$?
    if [ -n "${VERBOSE:-}" ]; then echo "[$name] exit $rc: $(cat err.log)"; fi
    if [ "$rc" -eq "$code" ]; then ok; else
        bad "$name: exit $rc, expected $code: $(head -c 300 err.log)"
    fi
}
# has FILE TEXT NAME: FILE mentions TEXT (a fixed string).
has()
{
    if grep -qF -- "$2" "$1"; then ok; else bad "$3: $1 lacks '$2': $(head -c 400 "$1")"; fi
}
stderr_has()
{
    has err.log "$1" "$2"
}
mode_of()
{
    stat -c %a "$1"
}
# The SHA256 fingerprint that pubkey prints for FILE.
fp_of()
{
    timeout "$T" "$sio" pubkey -f "$1" 2>/dev/null | sed -n 's/^# \(SHA256:.*\)$/\1/p'
}

# listen NAME URL ARGS... (stdin, stdout and stderr: $in, NAME.out,
# NAME.err): starts a listener with -v in the background; sets lpid and
# addr (the URL it listens on, from its -v line), or addr= if it did not
# start.
in=/dev/null
listen()
{
    local name=$1 url=$2
    shift 2
    : >"$name.err"
    timeout "$T" "$sio" listen "$url" -v "$@" <"$in" >"$name.out" 2>"$name.err" &
    lpid=$!
    pids+=("$lpid")
    addr=
    for _ in $(seq 100); do
        addr=$(sed -n 's/^secureio: listening on \(.*\) as SHA256:.*/\1/p' "$name.err")
        if [ -n "$addr" ] || ! kill -0 "$lpid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if [ -z "$addr" ]; then bad "$name: the listener did not start: $(head -c 300 "$name.err")"; fi
}
# lwait: the listener's exit code in lrc.
lwait()
{
    lrc=0
    wait "$lpid" || lrc=$?
}

# ------------------------------------------------------------ basics
if timeout "$T" "$sio" --help >out.log 2>err.log && grep -q '^usage: secureio' out.log; then ok; else
    bad "--help"
fi
for c in keygen pubkey listen connect bench; do
    if grep -q "^  $c " out.log; then ok; else bad "--help does not list $c"; fi
done
if timeout "$T" "$sio" --version | grep -q '^secureio [0-9]'; then ok; else bad "--version"; fi

# ------------------------------------------------------------ keygen, pubkey
for k in a b c d; do
    check "keygen $k" "$sio" keygen -f "$k"
    cp out.log "$k.printed"
done
if [ "$(mode_of a)" = 600 ]; then ok; else bad "private key mode $(mode_of a), expected 600"; fi
if grep -q '^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]*$' a.pub; then ok; else
    bad "a.pub is not an ssh-ed25519 line: $(cat a.pub)"
fi
if [ "$(head -n 1 a.printed)" = "$(cat a.pub)" ] &&
    grep -qx '# SHA256:[A-Za-z0-9+/]\{43\}' <(sed -n 2p a.printed); then ok; else
    bad "keygen's output: $(cat a.printed)"
fi
check "pubkey -f a" "$sio" pubkey -f a
if cmp -s out.log a.printed; then ok; else bad "pubkey -f a differs from keygen's output"; fi
check "pubkey -f a.pub" "$sio" pubkey -f a.pub
if cmp -s out.log a.printed; then ok; else bad "pubkey -f a.pub differs: $(cat out.log)"; fi
check "pubkey from \$SECUREIO_IDENTITY" env SECUREIO_IDENTITY=a "$sio" pubkey
if cmp -s out.log a.printed; then ok; else bad "pubkey with SECUREIO_IDENTITY=a: $(cat out.log)"; fi
check "keygen -C" "$sio" keygen -f e -C 'a comment'
if [ "$(cut -d' ' -f3- e.pub)" = "a comment" ] && [ "$(head -n 1 out.log)" = "$(cat e.pub)" ]; then
    ok
else bad "keygen -C: $(cat e.pub)"; fi
cp a a.before
fails 1 "keygen over an existing key" "$sio" keygen -f a
if cmp -s a a.before; then ok; else bad "keygen replaced an existing private key"; fi
check "keygen to the default ~/.ssh/id_ed25519" "$sio" keygen
if [ -f home/.ssh/id_ed25519 ] && [ "$(mode_of home/.ssh)" = 700 ]; then ok; else
    bad "keygen without -f: no ~/.ssh/id_ed25519 (or ~/.ssh not 0700)"
fi
fails 3 "pubkey of a missing file" "$sio" pubkey -f nothing-here
stderr_has "nothing-here" "pubkey of a missing file"

fp_a=$(fp_of a) fp_b=$(fp_of b) fp_c=$(fp_of c) fp_d=$(fp_of d)
if command -v ssh-keygen >/dev/null 2>&1; then
    # our keys, as ssh-keygen sees them; and ssh-keygen's keys, as we do
    if [ "$(ssh-keygen -lf a.pub | cut -d' ' -f2)" = "$fp_a" ]; then ok; else
        bad "fingerprint of a: ours $fp_a, ssh-keygen's $(ssh-keygen -lf a.pub)"
    fi
    if ssh-keygen -y -f a >a.ssh.pub 2>err.log && [ "$(cut -d' ' -f1-2 a.ssh.pub)" = "$(cat a.pub)" ]; then
        ok
    else bad "ssh-keygen -y does not read our private key: $(cat err.log)"; fi
    ssh-keygen -q -t ed25519 -N '' -C 'made by ssh-keygen' -f s
    check "pubkey of ssh-keygen's private key" "$sio" pubkey -f s
    if [ "$(head -n 1 out.log)" = "$(cat s.pub)" ]; then ok; else
        bad "pubkey -f s: $(head -n 1 out.log), s.pub: $(cat s.pub)"
    fi
    fp_s=$(sed -n 's/^# \(SHA256:.*\)$/\1/p' out.log)
    if [ -n "$fp_s" ] && [ "$fp_s" = "$(ssh-keygen -lf s | cut -d' ' -f2)" ]; then ok; else
        bad "fingerprint of ssh-keygen's key: ours '$fp_s', ssh-keygen's $(ssh-keygen -lf s)"
    fi
    check "pubkey of ssh-keygen's .pub" "$sio" pubkey -f s.pub
    if [ "$(sed -n 's/^# \(SHA256:.*\)$/\1/p' out.log)" = "$fp_s" ]; then ok; else
        bad "pubkey -f s.pub: $(cat out.log)"
    fi
    ssh-keygen -q -t rsa -b 1024 -N '' -f rsa 2>/dev/null || ssh-keygen -q -t ecdsa -N '' -f rsa
    fails 3 "an RSA or ECDSA key as identity" "$sio" pubkey -f rsa
    ssh-keygen -q -t ed25519 -N 'secret' -f enc
    fails 3 "a key with a passphrase" "$sio" pubkey -f enc
    stderr_has "passphrase" "a key with a passphrase"
    ssh_id=s
else
    echo "secureio-cli: ssh-keygen is not installed: the checks of its keys are skipped"
    ssh_id=b
fi

# ------------------------------------------------------------ transfers
# transfer NAME URL SIZE [LISTEN_ARGS...]: a listener (a, and LISTEN_ARGS,
# default --peer b's key) and a connector (identity $cid, default b) send a
# random file each way at once; both must exit 0 and both files arrive.
# The connector also takes the arguments in cextra.
cid=b
cextra=()
transfer()
{
    local name=$1 url=$2 size=$3 rc=0
    shift 3
    if [ $# -eq 0 ]; then set -- --peer "$cid.pub"; fi
    head -c "$size" /dev/urandom >"$name.l.in"
    head -c "$((size / 2 + 17))" /dev/urandom >"$name.c.in"
    in=$name.l.in listen "$name.l" "$url" -i a "$@"
    if [ -z "$addr" ]; then return; fi
    timeout "$T" "$sio" connect "$addr" -i "$cid" --peer a.pub -v "${cextra[@]}" <"$name.c.in" \
        >"$name.c.out" 2>"$name.c.err" || rc=$?
    lwait
    if [ "$rc" -eq 0 ] && [ "$lrc" -eq 0 ]; then ok; else
        bad "$name: connect exit $rc, listen exit $lrc: $(tail -n 3 "$name.c.err" "$name.l.err")"
    fi
    if cmp -s "$name.l.in" "$name.c.out"; then ok; else
        bad "$name: listener -> connector: $(stat -c %s "$name.c.out") of $size bytes, or not the same"
    fi
    if cmp -s "$name.c.in" "$name.l.out"; then ok; else
        bad "$name: connector -> listener: $(stat -c %s "$name.l.out") of $((size / 2 + 17)) bytes, or not the same"
    fi
    rm -f "$name.l.in" "$name.c.in" "$name.l.out" "$name.c.out"
}

size=$((3 * 1000 * 1000 + 7))
bigsize=$size
if [ "$big" = 1 ]; then bigsize=$((20 * 1000 * 1000 + 7)); fi
transfer udp udp://127.0.0.1:0 "$bigsize"
transfer tcp tcp://127.0.0.1:0 "$bigsize"
transfer unix "unix://$tmp/stream.sock" "$size"
if [ ! -e stream.sock ]; then ok; else bad "the unix listener left its socket file"; fi
transfer unixgram "unixgram://$tmp/dgram.sock" "$size"
if [ ! -e dgram.sock ]; then ok; else bad "the unixgram listener left its socket file"; fi
cid=$ssh_id transfer "tcp-ssh-keygen-identity" tcp://127.0.0.1:0 100000
transfer "udp-empty" udp://127.0.0.1:0 0

# a listener only receives (</dev/null): the connector's data arrives whole
head -c 500000 /dev/urandom >one.in
in=/dev/null listen one "tcp://127.0.0.1:0" -i a --peer b.pub
rc=0
timeout "$T" "$sio" connect "$addr" -i b --peer a.pub <one.in >one.c.out 2>one.c.err || rc=$?
lwait
if [ "$rc" -eq 0 ] && [ "$lrc" -eq 0 ] && cmp -s one.in one.out && [ ! -s one.c.out ]; then ok; else
    bad "one way: connect $rc, listen $lrc: $(cat one.c.err one.err)"
fi

# a stale unix socket (its listener killed) is replaced; a live one is not
rc=0
# (the subshell, not this shell, reports the kill)
(
    timeout -s KILL 1 "$sio" listen "unix://$tmp/stale.sock" -i a --any-peer </dev/null
    exit $?
) 2>/dev/null || rc=$?
if [ "$rc" = 137 ] && [ -S stale.sock ]; then ok; else
    bad "a listener killed (exit $rc) left no socket file (the test needs one)"
fi
transfer unix-stale "unix://$tmp/stale.sock" 1000
listen live "unix://$tmp/live.sock" -i a --any-peer
if [ -n "$addr" ]; then
    fails 1 "listen on a unix socket in use" "$sio" listen "$addr" -i a --any-peer
    stderr_has "in use" "listen on a unix socket in use"
fi
kill "$lpid" 2>/dev/null || true
lwait

# ------------------------------------------------------------ who may connect
printf '# the peers\n\n%s\n%s other\n' "$(cat c.pub)" "$(cat b.pub)" >ak
transfer authorized-keys tcp://127.0.0.1:0 20000 --authorized-keys ak
transfer authorized-keys-udp udp://127.0.0.1:0 20000 --authorized-keys ak
transfer any-peer udp://127.0.0.1:0 20000 --any-peer
has any-peer.l.err "accepted $fp_b" "--any-peer: the listener names the peer"
transfer peer-line tcp://127.0.0.1:0 20000 --peer "$(cat b.pub)"
# the output of pubkey (a key line and a comment) as --peer
timeout "$T" "$sio" pubkey -f b >b.pubkey 2>/dev/null
transfer peer-pubkey-output tcp://127.0.0.1:0 20000 --peer "$(cat b.pubkey)"

# d is in neither: refused, named by its fingerprint; the listener goes on
# and serves b (over each kind of listener)
for proto in tcp udp; do
    in=/dev/null listen "refuse-$proto" "$proto://127.0.0.1:0" -i a --authorized-keys ak
    fails 5 "$proto: a peer not in --authorized-keys" "$sio" connect "$addr" -i d --peer a.pub \
        --timeout 1
    has "refuse-$proto.err" "refused peer $fp_d" "$proto: the refused key is named"
    echo "after a refusal" >after.in
    rc=0
    timeout "$T" "$sio" connect "$addr" -i b --peer a.pub <after.in >/dev/null 2>err.log || rc=$?
    lwait
    if [ "$rc" -eq 0 ] && [ "$lrc" -eq 0 ] && cmp -s after.in "refuse-$proto.out"; then ok; else
        bad "$proto: after a refused peer, connect $rc, listen $lrc: $(cat err.log "refuse-$proto.err")"
    fi
done
in=/dev/null listen refuse-peer "udp://127.0.0.1:0" -i a --peer b.pub
fails 5 "a peer that is not --peer" "$sio" connect "$addr" -i c --peer a.pub --timeout 1
kill "$lpid" 2>/dev/null || true
lwait
has refuse-peer.err "refused peer $fp_c: not the --peer key b.pub" "a peer not --peer is named"

# a wrong --peer key on the connecting side: no handshake (the listener
# cannot prove to be c), exit 5, the expected key named by its fingerprint
for proto in tcp udp; do
    in=/dev/null listen "wrong-$proto" "$proto://127.0.0.1:0" -i a --any-peer
    fails 5 "$proto: connect with the wrong --peer key" "$sio" connect "$addr" -i b --peer c.pub \
        --timeout 1
    stderr_has "$fp_c" "$proto: connect with the wrong --peer key"
    stderr_has "no handshake" "$proto: connect with the wrong --peer key"
    kill "$lpid" 2>/dev/null || true
    lwait
done

fails 3 "--peer is our own key" "$sio" connect tcp://127.0.0.1:9 -i a --peer a.pub
stderr_has "our own key" "--peer is our own key"

# the peer killed: over tcp the connection is cut (exit 4); over udp it
# goes silent (exit 5 after --idle)
# (an input that does not end: a pipe from a sleep, which is not waited for)
exec {endless}< <(sleep "$T")
pids+=("$!")
for proto in tcp udp; do
    timeout "$T" "$sio" listen "$proto://127.0.0.1:0" -v -i a --peer b.pub --idle 1.5 \
        <&"$endless" >/dev/null 2>"killed-$proto.err" &
    lpid=$!
    pids+=("$lpid")
    addr=
    for _ in $(seq 100); do
        addr=$(sed -n 's/^secureio: listening on \(.*\) as SHA256:.*/\1/p' "killed-$proto.err")
        if [ -n "$addr" ]; then break; fi
        sleep 0.1
    done
    (
        timeout -s KILL 1 "$sio" connect "$addr" -i b --peer a.pub <&"$endless" >/dev/null 2>&1
        exit $?
    ) 2>/dev/null || true
    lrc=0
    wait "$lpid" || lrc=$?
    want=4
    if [ "$proto" = udp ]; then want=5; fi
    if [ "$lrc" = "$want" ]; then ok; else
        bad "$proto: the peer killed: listen exit $lrc, expected $want: $(cat "killed-$proto.err")"
    fi
done
exec {endless}<&-

# ------------------------------------------------------------ PSK
head -c 32 /dev/urandom >psk1
head -c 64 /dev/urandom >psk2
chmod 600 psk1 psk2
cextra=(--psk-file psk1)
transfer psk-match-tcp tcp://127.0.0.1:0 50000 --peer b.pub --psk-file psk1
transfer psk-match-unixgram "unixgram://$tmp/psk.sock" 50000 --peer b.pub --psk-file psk1
cextra=()
for proto in tcp udp; do
    in=/dev/null listen "psk-$proto" "$proto://127.0.0.1:0" -i a --peer b.pub --psk-file psk1
    fails 5 "$proto: PSK mismatch" "$sio" connect "$addr" -i b --peer a.pub --psk-file psk2 \
        --timeout 1
    fails 5 "$proto: a PSK on one side only" "$sio" connect "$addr" -i b --peer a.pub --timeout 1
    kill "$lpid" 2>/dev/null || true
    lwait
done
# (a short --timeout is kept: the mismatches above took about a second each)
head -c 16 /dev/urandom >psk.short
chmod 600 psk.short
fails 3 "a PSK of 16 bytes" "$sio" connect tcp://127.0.0.1:9 -i b --peer a.pub --psk-file psk.short
stderr_has "32 to" "a PSK of 16 bytes"
cp psk1 psk.644
chmod 644 psk.644
fails 3 "a PSK file others may read" "$sio" connect tcp://127.0.0.1:9 -i b --peer a.pub \
    --psk-file psk.644
stderr_has "chmod 600" "a PSK file others may read"
fails 3 "a missing PSK file" "$sio" connect tcp://127.0.0.1:9 -i b --peer a.pub --psk-file nopsk
stderr_has "nopsk" "a missing PSK file"

# ------------------------------------------------------------ keys refused
fails 3 "a missing identity" "$sio" connect tcp://127.0.0.1:9 -i no-such-key --peer a.pub
stderr_has "no identity at no-such-key" "a missing identity"
fails 3 "a missing identity from \$SECUREIO_IDENTITY" env SECUREIO_IDENTITY="$tmp/gone" \
    "$sio" listen tcp://127.0.0.1:0 --any-peer
stderr_has "no identity at $tmp/gone" "a missing identity from \$SECUREIO_IDENTITY"
fails 3 "no ~/.ssh/id_ed25519" env HOME="$tmp/nohome" "$sio" connect tcp://127.0.0.1:9 --peer a.pub
stderr_has "$tmp/nohome/.ssh/id_ed25519" "no ~/.ssh/id_ed25519"
cp a a.644
chmod 644 a.644
fails 3 "a private key others may read" "$sio" connect tcp://127.0.0.1:9 -i a.644 --peer b.pub
stderr_has "chmod 600" "a private key others may read"
fails 3 "pubkey of a private key others may read" "$sio" pubkey -f a.644
fails 3 "a --peer file that is missing" "$sio" connect tcp://127.0.0.1:9 -i b --peer no-such.pub
fails 3 "a --peer line that is not a key" "$sio" connect tcp://127.0.0.1:9 -i b \
    --peer 'ssh-ed25519 AAAAnot-a-key'
printf 'not a key\n' >junk.pub
fails 3 "a --peer file that is not a key" "$sio" connect tcp://127.0.0.1:9 -i b --peer junk.pub
fails 3 "--authorized-keys without a key" "$sio" listen tcp://127.0.0.1:0 -i a \
    --authorized-keys junk.pub

# ------------------------------------------------------------ nobody there
# a port nobody listens on: one a listener had, now gone
in=/dev/null listen gone-tcp tcp://127.0.0.1:0 -i a --any-peer
kill "$lpid" 2>/dev/null || true
lwait
fails 4 "tcp: nobody listens" "$sio" connect "$addr" -i b --peer a.pub --timeout 5
stderr_has "refused" "tcp: nobody listens"
in=/dev/null listen gone-udp udp://127.0.0.1:0 -i a --any-peer
kill "$lpid" 2>/dev/null || true
lwait
# over udp the host refuses the packets (ICMP): exit 4, at once
fails 4 "udp: nobody listens" "$sio" connect "$addr" -i b --peer a.pub --timeout 5
stderr_has "nothing listens there" "udp: nobody listens"
# a peer that never answers: a timeout, exit 5, after --timeout
in=/dev/null listen silent udp://127.0.0.1:0 -i a --peer c.pub
start=$(date +%s)
fails 5 "udp: the peer never answers" "$sio" connect "$addr" -i b --peer d.pub --timeout 0.5
stderr_has "in 0.5 s" "udp: the peer never answers"
if [ $(($(date +%s) - start)) -le 4 ]; then ok; else bad "--timeout 0.5 took $(($(date +%s) - start)) s"; fi
kill "$lpid" 2>/dev/null || true
lwait
fails 4 "unix: no socket" "$sio" connect "unix://$tmp/none.sock" -i b --peer a.pub
fails 4 "unixgram: no socket" "$sio" connect "unixgram://$tmp/none.sock" -i b --peer a.pub
in=/dev/null listen busy tcp://127.0.0.1:0 -i a --any-peer
if [ -n "$addr" ]; then
    fails 1 "listen on a port in use" "$sio" listen "$addr" -i a --any-peer
    stderr_has "in use" "listen on a port in use"
fi
kill "$lpid" 2>/dev/null || true
lwait

# ------------------------------------------------------------ usage errors: exit 2
fails 2 "no command" "$sio"
fails 2 "unknown command" "$sio" frobnicate
fails 2 "unknown option" "$sio" connect tcp://127.0.0.1:9 -i b --peer a.pub --frob
stderr_has "--frob" "unknown option"
fails 2 "missing option value" "$sio" connect tcp://127.0.0.1:9 -i b --peer
fails 2 "unknown URL scheme" "$sio" connect foo://127.0.0.1:9 -i b --peer a.pub
stderr_has "unknown scheme" "unknown URL scheme"
fails 2 "URL without a port" "$sio" connect tcp://127.0.0.1 -i b --peer a.pub
fails 2 "port 99999" "$sio" connect udp://127.0.0.1:99999 -i b --peer a.pub
fails 2 "a relative unix path" "$sio" listen unix://rel.sock -i a --any-peer
fails 2 "listen on a bad URL" "$sio" listen nonsense -i a --any-peer
fails 2 "connect without a URL" "$sio" connect -i b --peer a.pub
fails 2 "an argument after the URL" "$sio" connect tcp://127.0.0.1:9 extra -i b --peer a.pub
fails 2 "connect without --peer" "$sio" connect tcp://127.0.0.1:9 -i b
fails 2 "connect with --any-peer" "$sio" connect tcp://127.0.0.1:9 -i b --peer a.pub --any-peer
fails 2 "listen without who may connect" "$sio" listen tcp://127.0.0.1:0 -i a
fails 2 "listen with --peer and --any-peer" "$sio" listen tcp://127.0.0.1:0 -i a --peer b.pub \
    --any-peer
fails 2 "a --timeout that is not a number" "$sio" connect tcp://127.0.0.1:9 -i b --peer a.pub \
    --timeout soon
fails 2 "--timeout 0" "$sio" connect tcp://127.0.0.1:9 -i b --peer a.pub --timeout 0
fails 2 "keygen with --peer" "$sio" keygen -f x --peer a.pub
fails 2 "connect with -f" "$sio" connect tcp://127.0.0.1:9 -f b --peer a.pub
if [ ! -e x ]; then ok; else bad "a usage error wrote a key"; fi

echo "secureio-cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
