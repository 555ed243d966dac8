#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages that building and testing libtwoway/libsecureio
# need, and only those that are missing. Safe to run again: when everything is
# present it only checks (no apt-get update) and returns at once.
#
#   scripts/install-deps.sh              build + test dependencies
#   scripts/install-deps.sh --with-fuzz  also clang and its fuzzer/sanitizer runtimes
#
# Needs root to install; otherwise it prints the command to run and fails.
# Target: Debian 12 (bookworm) or newer.
set -euo pipefail

with_fuzz=0
for arg in "$@"; do
    case "$arg" in
    --with-fuzz) with_fuzz=1 ;;
    -h | --help)
        sed -n '2,10s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    *)
        echo "install-deps: unknown option '$arg' (try --help)" >&2
        exit 2
        ;;
    esac
done

# package:why. gcc only recommends libc6-dev, and --no-install-recommends
# skips recommendations, so the C library headers are listed on their own.
deps=(
    "gcc:C compiler"
    "libc6-dev:C library headers"
    "make:build tool"
    "cmake:build system"
    "pkg-config:dependency lookup"
    "libssl-dev:OpenSSL libcrypto"
    "libsodium-dev:libsodium"
    "librust-blake3-dev:BLAKE3 C sources"
    "libmicrohttpd-dev:the OHTTP gateway and relay listen with it"
    "libcurl4-openssl-dev:the OHTTP gateway, relay and client send with it"
    "openssh-client:ssh-keygen for tests"
    "python3:the web server (http.server) that make demo puts behind the OHTTP gateway"
    "mandoc:man page checks"
)
if [ "$with_fuzz" = 1 ]; then
    deps+=(
        "clang:libFuzzer targets"
        "libclang-rt-14-dev:fuzzer and sanitizer runtimes"
    )
fi

missing=()
reasons=()
for entry in "${deps[@]}"; do
    pkg=${entry%%:*}
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$pkg")
        reasons+=("$pkg (${entry#*:})")
    fi
done

apt_args=(-y --no-install-recommends)
printf -v list '%s, ' "${reasons[@]}"
list=${list%, }

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all build dependencies present"
elif [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing $list" >&2
    echo "install-deps: not root, so not installing; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install ${apt_args[*]} ${missing[*]}" >&2
    exit 1
else
    echo "install-deps: installing $list"
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    if ! { apt-get update -q && apt-get install -q "${apt_args[@]}" "${missing[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "install-deps: apt-get failed (output above)" >&2
        exit 1
    fi
    echo "install-deps: installed ${missing[*]}"
fi

# Debian 12 ships cmake 3.25.1; older releases are too old for this project.
need_cmake=3.25
have_cmake=$(cmake --version 2>/dev/null | sed -n '1s/^cmake version \([0-9][0-9.]*\).*/\1/p')
if [ -z "$have_cmake" ]; then
    echo "install-deps: cmake not found on PATH although installed" >&2
    exit 1
fi
if [ "$(printf '%s\n%s\n' "$need_cmake" "$have_cmake" | sort -V | head -n1)" != "$need_cmake" ]; then
    echo "install-deps: cmake $have_cmake is too old: this project needs cmake >= $need_cmake" \
        "(Debian 12 or newer, or a newer cmake first on PATH)" >&2
    exit 1
fi
