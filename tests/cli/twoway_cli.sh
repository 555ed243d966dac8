#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tests of the `twoway` command-line tool (docs/CLI.md):
#
#   tests/cli/twoway_cli.sh PATH/TO/twoway [--big]
#
# Round trips of every subcommand (unchunked and chunked, several suites and
# sizes, files and pipes), the RFC 9458 and chunked-OHTTP examples, and the
# failures: wrong key, altered or truncated messages, wrong media types,
# unknown key ids, usage errors (exit 2), no output file left behind.
# --big adds a 256 MiB chunked request and response whose peak RSS must stay
# under 8 MiB, and the 64 MiB limit of unchunked messages (too slow under
# sanitizers: ctest passes --big only to a plain build).
# Ends with "twoway-cli: N passed, N failed"; writes only in a mktemp folder.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH/TO/twoway [--big]" >&2
    exit 2
fi
tw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
big=0
if [ "${2:-}" = --big ]; then big=1; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/twoway-cli-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

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
    local name=$1
    shift
    if "$@" >out.log 2>err.log; then ok; else
        bad "$name (exit $?): $(head -c 300 err.log)"
    fi
}
# fails CODE NAME CMD...: CMD must exit with CODE; its stderr is kept in err.log.
fails()
{
    local code=$1 name=$2 rc=0
    shift 2
    "$@" >out.log 2>err.log || rc=$?
    if [ -n "${VERBOSE:-}" ]; then echo "[$name] exit $rc: $(cat err.log)"; fi
    if [ "$rc" -eq "$code" ]; then ok; else
        bad "$name: exit $rc, expected $code: $(head -c 300 err.log)"
    fi
}
# stderr_has TEXT NAME: err.log (of the last fails) mentions TEXT.
stderr_has()
{
    if grep -q -- "$1" err.log; then ok; else bad "$2: stderr lacks '$1': $(head -c 300 err.log)"; fi
}
mode_of()
{
    stat -c %a "$1"
}
unhex()
{
    printf '%b' "$(printf '%s' "$1" | sed 's/../\\x&/g')"
}
# Flips the bits of byte OFFSET of FILE.
flip()
{
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf '%b' "\\$(printf '%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# ------------------------------------------------------------ basics
if "$tw" --version | grep -q '^twoway [0-9]'; then ok; else bad "--version"; fi
check "--help" "$tw" --help
for c in keygen seal-request open-request seal-response open-response; do
    if "$tw" "$c" --help | grep -q "^usage: twoway $c"; then ok; else bad "$c --help"; fi
done

# ------------------------------------------------------------ keygen
check "keygen default" "$tw" keygen -o k
if [ "$(mode_of k)" = 600 ]; then ok; else bad "key file mode $(mode_of k), expected 600"; fi
if [ -s k.pub ]; then ok; else bad "keygen wrote no k.pub"; fi
check "keygen --config" "$tw" keygen -o k2 --config k2.cfg --key-id 7
cp k k.before
fails 1 "keygen over an existing key" "$tw" keygen -o k
if cmp -s k k.before; then ok; else bad "keygen replaced an existing private key"; fi
if [ -s k2.cfg ] && [ ! -e k2.pub ]; then ok; else bad "keygen --config path"; fi
if [ "$(mode_of k2)" = 600 ]; then ok; else bad "key file k2 mode $(mode_of k2)"; fi
# RFC 9458 key config layout: len(2) || key_id(1)=7 || kem(2)=0x0020 ...
if [ "$(od -An -tx1 -N5 k2.cfg | tr -d ' ')" = 0029070020 ]; then ok; else bad "k2.cfg header"; fi

# ------------------------------------------------------------ round trips
# roundtrip NAME KEYGEN_ARGS SEAL_ARGS SIZE CHUNKED(0|1) [pipe]
roundtrip()
{
    local name=$1 kargs=$2 sargs=$3 size=$4 chunked=$5 how=${6:-files} c=
    if [ "$chunked" = 1 ]; then c=--chunked; fi
    rm -rf rt && mkdir rt
    head -c "$size" /dev/urandom >rt/req.txt
    head -c "$((size / 2 + 3))" /dev/urandom >rt/resp.txt
    # shellcheck disable=SC2086
    if ! "$tw" keygen $kargs -o rt/key 2>err.log; then
        bad "$name: keygen: $(cat err.log)"
        return
    fi
    # (the || true ends each chain: the outputs are checked below)
    # shellcheck disable=SC2086,SC2015
    if [ "$how" = pipe ]; then
        "$tw" seal-request --config rt/key.pub $sargs $c --state rt/c.st <rt/req.txt |
            "$tw" open-request --key rt/key $c --state rt/s.st >rt/req.out 2>err.log &&
            "$tw" seal-response --state rt/s.st $c <rt/resp.txt |
            "$tw" open-response --state rt/c.st $c >rt/resp.out 2>>err.log ||
            true
    else
        "$tw" seal-request --config rt/key.pub $sargs $c --state rt/c.st -i rt/req.txt \
            -o rt/req.bin 2>err.log &&
            "$tw" open-request --key rt/key $c --state rt/s.st -i rt/req.bin -o rt/req.out \
                2>>err.log &&
            "$tw" seal-response --state rt/s.st $c -i rt/resp.txt -o rt/resp.bin 2>>err.log &&
            "$tw" open-response --state rt/c.st $c -i rt/resp.bin -o rt/resp.out 2>>err.log ||
            true
    fi
    if [ -f rt/req.out ] && cmp -s rt/req.txt rt/req.out && [ -f rt/resp.out ] &&
        cmp -s rt/resp.txt rt/resp.out; then
        ok
    else
        bad "$name: round trip differs: $(head -c 300 err.log)"
    fi
    # the client's state stays (mode 0600); the server's served one response
    if [ "$(mode_of rt/c.st)" = 600 ] && [ ! -e rt/s.st ]; then ok; else
        bad "$name: the client state is not 0600, or the server state was not used up"
    fi
}

for chunked in 0 1; do
    for size in 0 1 100000; do
        roundtrip "x25519 size $size chunked=$chunked" "" "" "$size" "$chunked"
    done
    roundtrip "x25519 pipes chunked=$chunked" "" "" 70000 "$chunked" pipe
    roundtrip "p256 chunked=$chunked" "--kem p256" "" 5000 "$chunked"
    roundtrip "x448/chacha20poly1305 chunked=$chunked" "--kem x448 --kdf sha512 --aead chacha20poly1305" \
        "" 5000 "$chunked"
    roundtrip "p384/sha384/aes256gcm chunked=$chunked" "--kem p384 --kdf sha384 --aead aes256gcm" \
        "" 5000 "$chunked"
    roundtrip "p521 chunked=$chunked" "--kem p521 --kdf sha512" "" 100 "$chunked"
    roundtrip "suite choice chunked=$chunked" \
        "--kdf sha256 --kdf sha384 --aead aes128gcm --aead chacha20poly1305 --key-id 9" \
        "--key-id 9 --kdf sha384 --aead chacha20poly1305" 3000 "$chunked"
done
# the chosen suite is the one on the wire: key id 9, X25519, HKDF-SHA384, ChaCha20-Poly1305
if [ "$(od -An -tx1 -N7 rt/req.bin | tr -d ' ')" = 09002000020003 ]; then ok; else bad "suite choice header"; fi

# a chunked request with an unchunked response (the response media type then given)
rm -rf mix && mkdir mix
printf 'chunked request' >mix/q
printf 'plain response' >mix/r
if "$tw" seal-request --config k.pub --chunked --response-media-type 'message/bhttp response' \
    --state mix/c -i mix/q -o mix/qb 2>err.log &&
    "$tw" open-request --key k --chunked --response-media-type 'message/bhttp response' \
        --state mix/s -i mix/qb -o mix/qo 2>>err.log &&
    "$tw" seal-response --state mix/s -i mix/r -o mix/rb 2>>err.log &&
    "$tw" open-response --state mix/c -i mix/rb -o mix/ro 2>>err.log &&
    cmp -s mix/q mix/qo && cmp -s mix/r mix/ro; then ok; else bad "mixed chunking: $(cat err.log)"; fi

# ------------------------------------------------------------ RFC examples
# RFC 9458 Appendix A and the chunked OHTTP draft's example, opened with a key
# file holding the published receiver keys; the responses with client state
# files built from the published values (the state file is the documented
# twoway_context_save blob, docs/CLI.md).
rfc_key()
{
    printf 'twoway-private-key 1\nkey-id 1\nkem x25519\nsuite sha256 aes128gcm\n'
    printf 'suite sha256 chacha20poly1305\npublic-key %s\nprivate-key %s\n' "$1" "$2"
}
rfc_key 31e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e798155 \
    3c168975674b2fa8e465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a >rfc.key
rfc_key 668eb21aace159803974a4c67f08b4152d29bed10735fd08f98ccdd6fe095708 \
    1c190d72acdbe4dbc69e680503bb781a932c70a12c8f3754434c67d8640d8698 >rfcc.key
unhex 010020000100014b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad19dec96c208b4726374e469135906992e1268c594d2a10c695d858c40a026e7965e7d86b83dd440b2c0185204b4d63525 >rfc.req
unhex 010020000100018811eb457e100811c40a0aa71340a1b81d804bb986f736f2f566a7199761a0321c2ad24942d4d692563012f2980c8fef437a336b9b2fc938ef77a5834f1d2e33d8fd25577afe31bd1c79d094f76b6250ae6549b473ecd950501311001c6c1395d0ef7c1022297966307b8a7f >rfcc.req
unhex 00034745540568747470730b6578616d706c652e636f6d012f >rfc.request
unhex c789e7151fcba46158ca84b04464910d86f9013e404feea014e7be4a441f234f857fbd >rfc.resp
unhex bcce7f4cb921309ba5d62edf1769ef091179bf1cc87fa0e2c02de4546945aa3d1e4812b348b5bd4c594c16b6170b07b475845d1f3200ed9d8a796617a5b27265f4d73247f639 >rfcc.resp
# "TWC1" || kem || kdf || aead || enc_len || enc || L || secret || media_len || media
{
    unhex 5457433100200001000100204b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad19dec96c208b472
    unhex 1062d87a6ba569ee81014c2641f52bea360016
    printf 'message/bhttp response'
} >rfc.state
{
    unhex 5457433100200001000100208811eb457e100811c40a0aa71340a1b81d804bb986f736f2f566a7199761a032
    unhex 101d4484834ae36102a6ac42a5523454d9001e
    printf 'message/bhttp chunked response'
} >rfcc.state
if "$tw" open-request --key rfc.key --state rfc.srv -i rfc.req 2>err.log | cmp -s - rfc.request; then
    ok
else bad "RFC 9458 A request: $(cat err.log)"; fi
if "$tw" open-request --chunked --key rfcc.key --state rfcc.srv -i rfcc.req 2>err.log |
    cmp -s - rfc.request; then ok; else bad "chunked OHTTP example request: $(cat err.log)"; fi
if [ "$("$tw" open-response --state rfc.state -i rfc.resp 2>err.log | od -An -tx1 | tr -d ' \n')" = 0140c8 ]; then
    ok
else bad "RFC 9458 A response: $(cat err.log)"; fi
if [ "$("$tw" open-response --chunked --state rfcc.state -i rfcc.resp 2>err.log | od -An -tx1 | tr -d ' \n')" = 0140c8 ]; then
    ok
else bad "chunked OHTTP example response: $(cat err.log)"; fi
# the server state open-request saved is the client's (same enc and secret),
# after its 5 bytes of framing ("TWS1" || flags: 1 chunked, 2 complete, 4 the server's)
if tail -c +6 rfc.srv | cmp -s - rfc.state && [ "$(od -An -tx1 -N5 rfc.srv | tr -d ' ')" = 5457533106 ]; then
    ok
else bad "RFC 9458 A: server state differs from the client's"; fi
if tail -c +6 rfcc.srv | cmp -s - rfcc.state && [ "$(od -An -tx1 -N5 rfcc.srv | tr -d ' ')" = 5457533107 ]; then
    ok
else bad "chunked example: server state differs from the client's"; fi
# without --chunked, open-request finds the framing itself; the bare library
# blob works as a state file, its framing taken from the media type
if "$tw" open-request --key rfcc.key --state rfcc.srv2 -i rfcc.req 2>err.log | cmp -s - rfc.request; then
    ok
else bad "chunked OHTTP example request, framing found: $(cat err.log)"; fi
if [ "$("$tw" open-response --state rfcc.state -i rfcc.resp 2>err.log | od -An -tx1 | tr -d ' \n')" = 0140c8 ]; then
    ok
else bad "chunked OHTTP example response, framing from the state: $(cat err.log)"; fi

# ------------------------------------------------------------ failures
printf 'hello, server' >msg
check "seal a request" "$tw" seal-request --config k.pub -i msg -o req --state c.st
check "seal a chunked request" "$tw" seal-request --config k.pub --chunked -i msg -o creq --state cc.st
"$tw" keygen -o other 2>/dev/null

# wrong key: non-zero, and -o leaves no file (nor a temporary one)
rm -rf outdir && mkdir outdir
fails 1 "wrong key file" "$tw" open-request --key other -i req -o outdir/plain --state outdir/s
if [ -z "$(ls -A outdir)" ]; then ok; else bad "wrong key left files: $(ls -A outdir)"; fi
fails 1 "wrong key file, chunked" "$tw" open-request --chunked --key other -i creq -o outdir/plain
if [ -z "$(ls -A outdir)" ]; then ok; else bad "wrong key (chunked) left files: $(ls -A outdir)"; fi
# an existing output file is left as it was
printf 'old' >outdir/keep
fails 1 "wrong key, existing output" "$tw" open-request --key other -i req -o outdir/keep
if [ "$(cat outdir/keep)" = old ] && [ "$(ls -A outdir)" = keep ]; then ok; else bad "existing output changed"; fi
rm -f outdir/keep

# altered request: one flipped byte of the header, enc or body
for off in 0 3 20 $(($(stat -c %s req) - 1)); do
    cp req bad.req
    flip bad.req "$off"
    fails 1 "request with byte $off flipped" "$tw" open-request --key k -i bad.req -o outdir/p
done
cp creq bad.creq
flip bad.creq 45
fails 1 "chunked request with a flipped byte" "$tw" open-request --chunked --key k -i bad.creq -o outdir/p
if [ -z "$(ls -A outdir)" ]; then ok; else bad "altered requests left files: $(ls -A outdir)"; fi

# a response, then cut: the chunked one is incomplete, and says so
head -c 50000 /dev/urandom >big.txt
check "open the request" "$tw" open-request --key k -i req -o req.out --state s.st
check "open the chunked request" "$tw" open-request --chunked --key k -i creq -o creq.out --state cs.st
check "seal a chunked response" "$tw" seal-response --chunked --state cs.st -i big.txt -o cresp
check "seal a response" "$tw" seal-response --state s.st -i big.txt -o resp
for cut in 17 1000 30000; do
    head -c "$(($(stat -c %s cresp) - cut))" cresp >cut.resp
    fails 1 "chunked response cut by $cut" "$tw" open-response --chunked --state cc.st -i cut.resp
    stderr_has "cut short" "chunked response cut by $cut"
done
fails 1 "chunked response cut, -o" "$tw" open-response --chunked --state cc.st -i cut.resp -o outdir/p
if [ -z "$(ls -A outdir)" ]; then ok; else bad "cut response left files: $(ls -A outdir)"; fi
head -c 100 resp >cut.resp
fails 1 "unchunked response cut" "$tw" open-response --state c.st -i cut.resp
if [ ! -s out.log ]; then ok; else bad "a cut unchunked response wrote plaintext"; fi
fails 1 "empty response" "$tw" open-response --state c.st -i /dev/null
cp resp bad.resp
flip bad.resp 30
fails 1 "altered response" "$tw" open-response --state c.st -i bad.resp
check "the good response still opens" "$tw" open-response --state c.st -i resp -o resp.out
if cmp -s big.txt resp.out; then ok; else bad "response content"; fi
fails 1 "response chunked, opened with --no-chunked" "$tw" open-response --no-chunked \
    --state cc.st -i cresp
stderr_has "drop --no-chunked" "response chunked, opened with --no-chunked"
check "a chunked response opens by its state alone" "$tw" open-response --state cc.st -i cresp

# wrong media types
fails 1 "request media type differs" "$tw" open-request --key k --media-type text/plain -i req
fails 1 "request chunked, opened with --no-chunked" "$tw" open-request --no-chunked --key k \
    -i creq --state mm.st
stderr_has "the request is chunked; --no-chunked was given" "chunked request, --no-chunked"
if [ ! -e mm.st ]; then ok; else bad "a refused request left a state file"; fi
fails 1 "request unchunked, opened with --chunked" "$tw" open-request --chunked --key k -i req
stderr_has "the request is unchunked; --chunked was given" "unchunked request, --chunked"
check "either framing opens without the option" "$tw" open-request --key k -i creq --state mm.st
fails 1 "response media type differs from the state" "$tw" open-response --state c.st \
    --media-type 'message/other' -i resp
stderr_has "response media type" "response media type differs"
check "open the request again" "$tw" open-request --key k -i req -o req.out --state s.st
fails 1 "response sealed for another media type" "$tw" seal-response --state s.st \
    --media-type 'message/other' -i msg -o outdir/p

# key ids, suites, configurations, key and state files
fails 1 "key id not in the configuration" "$tw" seal-request --config k.pub --key-id 5 -i msg -o outdir/p
stderr_has "key id 5" "key id not in the configuration"
fails 1 "suite not in the configuration" "$tw" seal-request --config k.pub --aead aes256gcm -i msg -o outdir/p
printf 'garbage' >bad.cfg
fails 1 "malformed key configuration" "$tw" seal-request --config bad.cfg -i msg -o outdir/p
fails 1 "missing key configuration" "$tw" seal-request --config nothing.cfg -i msg -o outdir/p
fails 1 "missing input" "$tw" seal-request --config k.pub -i nothing.txt -o outdir/p
fails 1 "a key configuration as key file" "$tw" open-request --key k.pub -i req
sed 's/^private-key .*/private-key 00/' k >bad.key
fails 1 "key file with a bad private key" "$tw" open-request --key bad.key -i req
grep -v '^public-key' k >bad.key
fails 1 "key file without its public key" "$tw" open-request --key bad.key -i req
sed "s/^public-key .*/$(grep '^public-key' other)/" k >bad.key
fails 1 "key file whose public key is another" "$tw" open-request --key bad.key -i req
fails 1 "a key file as state file" "$tw" open-response --state k -i resp
fails 1 "missing state file" "$tw" seal-response --state nothing.st -i msg -o outdir/p
if [ -z "$(ls -A outdir)" ]; then ok; else bad "failures left files: $(ls -A outdir)"; fi

# ------------------------------------------------------------ pipelines
# The one line of docs/CLI.md: client and server in one pipeline, the state
# files passed between the stages by their default names.
rm -rf pipe && mkdir pipe
got=$(cd pipe && echo hi | "$tw" seal-request --config ../k.pub | "$tw" open-request --key ../k |
    tr a-z A-Z | "$tw" seal-response | "$tw" open-response 2>../err.log)
if [ "$got" = HI ]; then ok; else bad "the one-line pipeline gave '$got': $(cat err.log)"; fi
# again and again: each run replaces the states (no stale state is used)
for i in 1 2 3; do
    got=$(cd pipe && printf 'round %s' "$i" |
        "$tw" seal-request --config ../k.pub --chunked --max-chunk 3 |
        "$tw" open-request --key ../k | tr a-z A-Z | "$tw" seal-response |
        "$tw" open-response 2>../err.log)
    if [ "$got" = "ROUND $i" ]; then ok; else bad "pipeline round $i (chunked) gave '$got': $(cat err.log)"; fi
done
# a big chunked pipeline: the response commands start streaming at once
head -c 3000000 /dev/urandom >pipe/big
got=$(cd pipe && "$tw" seal-request --config ../k.pub --chunked <big | "$tw" open-request --key ../k |
    "$tw" seal-response | "$tw" open-response | sha256sum | cut -d' ' -f1)
if [ "$got" = "$(sha256sum <pipe/big | cut -d' ' -f1)" ]; then ok; else bad "3 MB chunked pipeline"; fi
# an upstream failure leaves no state behind: the response stage fails,
# it does not answer an older request
rc=0
(cd pipe && echo hi | "$tw" seal-request --config ../k.pub | "$tw" open-request --key ../other 2>/dev/null |
    "$tw" seal-response >/dev/null 2>../err.log) || rc=$?
if [ "$rc" -ne 0 ] && grep -q "twoway-server.state" err.log; then ok; else
    bad "seal-response after a failed open-request: exit $rc: $(cat err.log)"
fi
if [ ! -e pipe/twoway-server.state ]; then ok; else bad "a failed open-request left its state file"; fi

# ------------------------------------------------------------ key rings
check "keygen key id 2" "$tw" keygen --key-id 2 --kem p256 --aead chacha20poly1305 -o k2b
check "a request to key id 2" "$tw" seal-request --config k2b.pub -i msg -o req2 --state c2.st
check "open-request with two keys" "$tw" open-request --key k --key k2b -i req2 -o req2.out --state s2.st
if cmp -s msg req2.out; then ok; else bad "two keys: content"; fi
fails 1 "a key ring without the request's key" "$tw" open-request --key k -i req2 -o outdir/p
stderr_has "no key given opens this request: it is sealed to key id 2 (p256, sha256, chacha20poly1305)" \
    "key mismatch names the request's key"
stderr_has "the keys given have key id 0 (x25519: sha256/aes128gcm)" "key mismatch lists the keys"
fails 1 "the same key twice" "$tw" open-request --key k --key k -i req
stderr_has "an earlier --key" "the same key twice"

# ------------------------------------------------------------ chunk sizes
head -c 200000 /dev/urandom >chunky
check "64 KiB chunks (as Go twoway may send)" "$tw" seal-request --config k.pub --chunked \
    --max-chunk 65536 -i chunky -o chunky.req --state ck.st
fails 1 "64 KiB chunks over the default limit" "$tw" open-request --key k -i chunky.req -o outdir/p
stderr_has "its first chunk is larger than --max-chunk allows" "64 KiB chunks over the default limit"
fails 1 "64 KiB chunks, --chunked" "$tw" open-request --key k --chunked -i chunky.req -o outdir/p
stderr_has "the request has a chunk larger than --max-chunk allows" "64 KiB chunks, --chunked"
check "64 KiB chunks with --max-chunk 65536" "$tw" open-request --key k --max-chunk 65536 \
    -i chunky.req -o chunky.out --state cks.st
if cmp -s chunky chunky.out; then ok; else bad "64 KiB chunks: content"; fi
check "a response in 64 KiB chunks" "$tw" seal-response --state cks.st --max-chunk 65536 \
    -i chunky -o chunky.resp
fails 1 "... over the client's limit" "$tw" open-response --state ck.st -i chunky.resp
check "... within it" "$tw" open-response --state ck.st --max-chunk 65536 -i chunky.resp -o cr.out
if cmp -s chunky cr.out; then ok; else bad "64 KiB response chunks: content"; fi
fails 2 "--max-chunk without --chunked" "$tw" seal-request --config k.pub --max-chunk 100 -i msg
fails 2 "--max-chunk 0" "$tw" open-request --key k --max-chunk 0 -i req
fails 2 "--max-chunk too large" "$tw" open-request --key k --max-chunk 16777217 -i req

# ------------------------------------------------------------ '-' for files
if "$tw" seal-request --config - -i msg -o dash.req --state dash.st <k.pub 2>err.log &&
    "$tw" open-request --key - -i dash.req --state dash.s <k 2>>err.log | cmp -s - msg; then ok; else
    bad "--config - and --key -: $(cat err.log)"
fi
if "$tw" seal-request --config k.pub -i - -o - --state dash.st <msg 2>err.log |
    "$tw" open-request --key k -i - -o - --state dash.s 2>>err.log | cmp -s - msg; then ok; else
    bad "-i - and -o -: $(cat err.log)"
fi
fails 2 "stdin twice" "$tw" seal-request --config - -i - --state dash.st
stderr_has "standard input is taken twice" "stdin twice"
fails 2 "stdin twice (the default input)" "$tw" open-request --key -
fails 2 "stdout twice" "$tw" seal-request --config k.pub --state - -i msg
stderr_has "standard output is taken twice" "stdout twice"
check "the state on stdout" sh -c "'$tw' seal-request --config k.pub --state - -i msg -o dash.req >dash.st"
check "... and from stdin" sh -c "'$tw' open-request --key k -i dash.req --state s3.st >/dev/null &&
    '$tw' seal-response --state s3.st -i msg -o dash.resp &&
    '$tw' open-response --state - -i dash.resp <dash.st | cmp -s - msg"

# ------------------------------------------------------------ show, pubkey
check "pubkey" sh -c "'$tw' pubkey -i k >k.pub2"
if cmp -s k.pub k.pub2; then ok; else bad "pubkey differs from keygen's configuration"; fi
check "pubkey from stdin" sh -c "'$tw' pubkey <k2b >k2b.pub2"
if cmp -s k2b.pub k2b.pub2; then ok; else bad "pubkey (stdin) differs"; fi
check "keygen to stdout, then pubkey" sh -c "'$tw' keygen -o - --key-id 5 | tee k5 | '$tw' pubkey >k5.pub"
check "... which works" sh -c "'$tw' seal-request --config k5.pub -i msg -o k5.req --state k5.st &&
    '$tw' open-request --key k5 -i k5.req --state k5.s | cmp -s - msg"
if [ "$(mode_of k5)" != "" ]; then ok; fi
fails 1 "pubkey of a configuration" "$tw" pubkey -i k.pub -o outdir/p
stderr_has "binary" "pubkey of a configuration"
check "show a key file" "$tw" show k2b
if grep -q "private key file" out.log && grep -q "key id 2" out.log &&
    grep -q "0x0010 p256 (DHKEM(P-256, HKDF-SHA256))" out.log &&
    grep -q "aead 0x0003 chacha20poly1305" out.log && ! grep -q "$(sed -n 's/^private-key //p' k2b)" out.log; then
    ok
else bad "show key file: $(cat out.log)"; fi
check "show a configuration list" "$tw" show k.pub
if grep -q "application/ohttp-keys, 1 key configuration" out.log &&
    grep -q "public key  $(sed -n 's/^public-key //p' k)" out.log; then ok; else bad "show list: $(cat out.log)"; fi
check "show from stdin" sh -c "'$tw' show - <k.pub"
tail -c +3 k.pub >single.cfg
check "show one configuration" "$tw" show single.cfg
if grep -q "one key configuration" out.log; then ok; else bad "show single: $(cat out.log)"; fi
fails 1 "show garbage" "$tw" show msg
fails 1 "show a missing file" "$tw" show nothing.cfg

# ------------------------------------------------------------ one-to-many
"$tw" keygen -o ra --key-id 1 2>/dev/null
"$tw" keygen -o rb --key-id 2 2>/dev/null
rm -rf multi && mkdir multi
printf 'to everyone' >multi/q
if (cd multi && "$tw" seal-request --config ../ra.pub --config ../rb.pub -i q -o body 2>../err.log); then
    ok
else bad "one-to-many seal: $(cat err.log)"; fi
for r in 1 2; do
    key=ra
    [ "$r" = 2 ] && key=rb
    if [ -f "multi/twoway-request-$r.enc" ] && [ -f "multi/twoway-client-$r.state" ] &&
        (cd multi && "$tw" open-request --key "../$key" --enc "twoway-request-$r.enc" -i body \
            --state "s$r" 2>../err.log | cmp -s - q) &&
        (cd multi && printf 'answer %s' "$r" | "$tw" seal-response --state "s$r" |
            "$tw" open-response --state "twoway-client-$r.state" 2>../err.log |
            grep -qx "answer $r"); then
        ok
    else bad "one-to-many receiver $r: $(cat err.log)"; fi
done
# a receiver's response does not open with the other receiver's state
(cd multi && "$tw" open-request --key ../ra --enc twoway-request-1.enc -i body --state s1 >/dev/null &&
    printf 'x' | "$tw" seal-response --state s1 >r1.bin)
fails 1 "one-to-many: a response with another receiver's state" \
    "$tw" open-response --state multi/twoway-client-2.state -i multi/r1.bin
stderr_has "does not belong to the request in multi/twoway-client-2.state" "another receiver's state"
fails 1 "one-to-many: the encapsulated key of another receiver" \
    "$tw" open-request --key ra --enc multi/twoway-request-2.enc -i multi/body
stderr_has "key id 2" "another receiver's encapsulated key"
"$tw" keygen --kem p256 -o rp 2>/dev/null
fails 1 "one-to-many: different KEMs" "$tw" seal-request --config ra.pub --config rp.pub -i msg -o outdir/p
stderr_has "another KEM" "one-to-many: different KEMs"
fails 2 "--enc with one --config" "$tw" seal-request --config ra.pub --enc x -i msg

# ------------------------------------------------------------ what failed, said
# an empty non-final chunk (no sender of ours writes one)
if [ -n "${TWOWAY_EMPTY_CHUNK:-}" ] && "$TWOWAY_EMPTY_CHUNK" k.pub empty.req; then
    fails 1 "a request with an empty chunk" "$tw" open-request --key k -i empty.req
    stderr_has "empty chunk before its end, which chunked OHTTP forbids" "empty chunk"
else
    echo "twoway-cli: the empty-chunk case skipped (TWOWAY_EMPTY_CHUNK not set)"
fi
# a response opened with another request's state
check "another request" "$tw" seal-request --config k.pub -i msg -o req3 --state c3.st
fails 1 "a response opened with another request's state" "$tw" open-response --state c3.st -i resp
stderr_has "this response does not belong to the request in c3.st" "another request's state"
# an altered chunk after good ones
cp cresp bad.cresp
flip bad.cresp 20000
fails 1 "a chunked response altered in its middle" "$tw" open-response --state cc.st -i bad.cresp
stderr_has "was altered: chunk" "altered chunk"
# -v says what was found
check "-v" "$tw" open-request -v --key k -i creq --state v.st -o v.out
stderr_has "a chunked request to key id 0 (x25519, sha256, aes128gcm)" "-v"

# ------------------------------------------------------------ attacks and accidents
# A chunked request cut down to its first chunk, re-framed as an unchunked
# one (hdr || enc || the first chunk's ciphertext): under OHTTP's labels the
# framings differ, so it never opens; under one custom label for both, only
# the framing asked for is accepted, and the re-framed one fails.
printf '0123456789abcdef-and-the-rest-of-it' >cutme
check "a chunked request in 16-byte chunks" "$tw" seal-request --config k.pub --chunked \
    --max-chunk 16 -i cutme -o cut16.req --state cut.st
check "... and with a custom label" "$tw" seal-request --config k.pub --chunked --max-chunk 16 \
    --media-type application/x-app -i cutme -o cut16x.req --state cutx.st
for f in cut16 cut16x; do
    head -c 39 "$f.req" >"$f.reframed"
    tail -c +41 "$f.req" | head -c 32 >>"$f.reframed"
done
fails 1 "a re-framed first chunk, OHTTP labels" "$tw" open-request --key k -i cut16.reframed
fails 1 "a re-framed first chunk, one custom label" "$tw" open-request --key k --chunked \
    --media-type application/x-app -i cut16x.reframed
check "the real one, custom label" "$tw" open-request --key k --chunked \
    --media-type application/x-app -i cut16x.req -o cut16x.out
if cmp -s cutme cut16x.out; then ok; else bad "custom label round trip"; fi
fails 1 "a custom label without the framing" "$tw" open-request --key k \
    --media-type application/x-app -i cut16x.req
stderr_has "only the one given is accepted" "a custom label without the framing"

# A chunked request cut after its first chunk, through a pipeline: the
# server answers as it reads, but no whole response comes out of it.
head -c $((39 + 1 + 32)) cut16.req >cut16.head
rm -rf cutp && mkdir cutp
(cd cutp && { cat ../cut16.head; sleep 1; } | "$tw" open-request --key ../k 2>/dev/null |
    "$tw" seal-response >resp.bin 2>../err.log) || true
stderr_has "was not read whole" "a response to a cut request"
fails 1 "... which the client cannot open" "$tw" open-response --state cut.st -i cutp/resp.bin

# A server state serves one response; a state a newer request took over
# is not answered from an older one.
check "open a request" "$tw" open-request --key k -i req -o /dev/null --state once.st
check "seal its response" "$tw" seal-response --state once.st -i msg -o once.resp
fails 1 "a second response with the same state" "$tw" seal-response --state once.st -i msg
rm -rf stale && mkdir stale
(cd stale && "$tw" open-request --key ../k -i ../req >/dev/null 2>&1) # request A, unanswered
(cd stale && { sleep 1; "$tw" open-request --key ../k -i ../creq 2>/dev/null; } |
    { echo "early header"; cat; } | "$tw" seal-response >resp.bin 2>../err.log) || true
stderr_has "no longer the last one" "a response begun from an older request's state"

# --state never deletes what is not a state file; the roles are not swapped
cp k kcopy
fails 1 "--state naming a key file" "$tw" open-request --key k --state kcopy -i req
if cmp -s k kcopy; then ok; else bad "--state deleted a key file"; fi
stderr_has "is not a state file" "--state naming a key file"
check "a client state" "$tw" seal-request --config k.pub -i msg -o role.req --state role.c
fails 1 "seal-response with the client's state" "$tw" seal-response --state role.c -i msg
stderr_has "is the client's state" "seal-response with the client's state"
fails 1 "--key naming a state file" "$tw" open-request --key role.c -i role.req
stderr_has "is a state file" "--key naming a state file"

# outputs that are not regular files are written, not replaced
mkfifo out.fifo
(cat out.fifo >fifo.got) &
check "-o a FIFO" "$tw" open-request --key k -i req -o out.fifo --state fifo.st
wait
if [ -p out.fifo ] && cmp -s fifo.got msg; then ok; else bad "-o FIFO: replaced or not written"; fi
printf 'old' >target
ln -s target link
check "-o a symbolic link" "$tw" open-request --key k -i req -o link --state link.st
if [ -L link ] && cmp -s target msg; then ok; else bad "-o symlink: the link was replaced"; fi

# a key file's error never repeats a piece of the private key
awk '/^private-key/ { print substr($0, 1, 40); print substr($0, 41); next } { print }' k >wrapped.key
fails 1 "a key file with a wrapped key line" "$tw" open-request --key wrapped.key -i req
sk_tail=$(sed -n 's/^private-key //p' k | cut -c 29-)
if grep -q "${sk_tail:0:12}" err.log; then bad "the error repeats the private key: $(cat err.log)"; else ok; fi
stderr_has "unknown field '(not shown)'" "a key file with a wrapped key line"

# key ids are decimal (or 0x hex), never octal; keygen's outputs are outputs
check "key id 010" "$tw" keygen --key-id 010 -o k010
if grep -qx "key-id 10" k010; then ok; else bad "--key-id 010 is not ten"; fi
fails 2 "key and configuration both on stdout" "$tw" keygen -o - --config -
check "a chunked one-to-many request, its framing found" sh -c "
    '$tw' seal-request --chunked --config ra.pub --config rb.pub -i msg -o multi/cbody \
        --enc multi/ce1 --enc multi/ce2 --state multi/cc1 --state multi/cc2 &&
    '$tw' open-request --key ra --enc multi/ce1 -i multi/cbody --state multi/cs1 | cmp -s - msg"

# ------------------------------------------------------------ usage errors: exit 2
fails 2 "no command" "$tw"
fails 2 "unknown command" "$tw" frobnicate
fails 2 "keygen without -o" "$tw" keygen
fails 2 "unknown KEM" "$tw" keygen --kem rsa -o x.key
fails 2 "unknown AEAD" "$tw" keygen --aead des -o x.key
fails 2 "key id 256" "$tw" keygen --key-id 256 -o x.key
fails 2 "key id -1" "$tw" seal-request --config k.pub --key-id -1
fails 2 "seal-request without --config" "$tw" seal-request -i msg
fails 2 "open-request without --key" "$tw" open-request -i req
mkdir -p nostate
fails 1 "seal-response without a state file" bash -c "cd nostate && '$tw' seal-response -i ../msg"
stderr_has "twoway-server.state" "seal-response without a state file"
fails 1 "open-response without a state file" bash -c "cd nostate && '$tw' open-response -i ../resp"
stderr_has "twoway-client.state" "open-response without a state file"
fails 2 "unknown option" "$tw" open-request --key k --frob
fails 2 "option of another command" "$tw" open-request --key k --kem x25519
fails 2 "missing option value" "$tw" open-request --key
fails 2 "extra argument" "$tw" open-request --key k req
fails 2 "--kdf twice in seal-request" "$tw" seal-request --config k.pub --kdf sha256 --kdf sha384
if [ ! -e x.key ]; then ok; else bad "a usage error wrote a key file"; fi

# ------------------------------------------------------------ big streams
if [ "$big" = 1 ]; then
    # 256 MiB each way through pipes, chunked (the framing found by the
    # openers, the response's from the state): peak RSS of each process < 8 MiB
    n=$((256 * 1024 * 1024))
    sum=$(head -c "$n" /dev/zero | sha256sum | cut -d' ' -f1)
    got=$(head -c "$n" /dev/zero |
        TWOWAY_REPORT_RSS=1 "$tw" seal-request --chunked --config k.pub --state big.c 2>rss1.log |
        TWOWAY_REPORT_RSS=1 "$tw" open-request --key k --state big.s 2>rss2.log |
        sha256sum | cut -d' ' -f1)
    if [ "$got" = "$sum" ]; then ok; else bad "256 MiB chunked request: $(cat rss1.log rss2.log)"; fi
    got=$(head -c "$n" /dev/zero |
        TWOWAY_REPORT_RSS=1 "$tw" seal-response --state big.s 2>rss3.log |
        TWOWAY_REPORT_RSS=1 "$tw" open-response --state big.c 2>rss4.log |
        sha256sum | cut -d' ' -f1)
    if [ "$got" = "$sum" ]; then ok; else bad "256 MiB chunked response: $(cat rss3.log rss4.log)"; fi
    for log in rss1.log rss2.log rss3.log rss4.log; do
        kib=$(sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p' "$log")
        echo "twoway-cli: $(sed -n 's/^twoway: \([a-z-]*\): peak RSS.*/\1/p' "$log") 256 MiB chunked: peak RSS ${kib:-?} KiB"
        if [ -n "$kib" ] && [ "$kib" -lt 8192 ]; then ok; else bad "peak RSS ${kib:-?} KiB in $log"; fi
    done
    # unchunked messages are whole, within 64 MiB: one byte more is refused
    fails 1 "unchunked request over 64 MiB" bash -c "head -c $((64 * 1024 * 1024 + 1)) /dev/zero |
        '$tw' seal-request --config k.pub -o outdir/p"
    stderr_has "64 MiB" "unchunked request over 64 MiB"
    if [ -z "$(ls -A outdir)" ]; then ok; else bad "the refused request left files: $(ls -A outdir)"; fi
else
    echo "twoway-cli: big streams skipped (no --big)"
fi

echo "twoway-cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
