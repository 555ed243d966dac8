#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Does an installed libtwoway/libsecureio work for a library user?
#
#   tests/install/run.sh BUILD_DIR
#
# Installs BUILD_DIR (already built) into a temporary prefix, then checks:
# the SONAMEs; that each shared library exports exactly the functions its
# public headers declare (nothing internal, no twoway_hpke_testing_*); a
# consumer program built through pkg-config against the shared and the static
# libraries; and a consumer CMake project using find_package(). Writes only in
# a mktemp folder, which it removes (KEEP_TMP=1 keeps it).
#
# Environment: CC (default cc); CFLAGS and LDFLAGS, added to every consumer
# build (a sanitizer build passes its -fsanitize=... here); SOVERSION, the
# expected ABI version (default 0: bump it together with PROJECT_SOVERSION).
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
    echo "usage: $0 BUILD_DIR (a configured and built CMake build folder)" >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "$1" && pwd)
cc=${CC:-cc}
read -r -a cflags <<<"${CFLAGS:-}"
read -r -a ldflags <<<"${LDFLAGS:-}"
soversion=${SOVERSION:-0}
strict=(-std=c11 -Wall -Wextra -Wpedantic -Werror)
unset DESTDIR PKG_CONFIG_SYSROOT_DIR CMAKE_PREFIX_PATH

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secureio-install-test.XXXXXX")
cleanup()
{
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "install: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
prefix=$tmp/prefix
log=$tmp/log

passed=0
failed=0
ok()
{
    echo "    ok: $*"
    passed=$((passed + 1))
}
bad()
{
    echo "    FAIL: $*"
    failed=$((failed + 1))
}
# quiet CMD...: runs CMD, showing its output only when it fails.
quiet()
{
    if "$@" >"$log" 2>&1; then return 0; fi
    sed 's/^/    | /' "$log"
    return 1
}

# ---------------------------------------------------------------- install
echo "install: cmake --install $build --prefix <tmp>/prefix"
if ! quiet cmake --install "$build" --prefix "$prefix"; then
    bad "cmake --install failed"
    echo "install: $passed passed, $failed failed"
    exit 1
fi
libdir=$(find "$prefix" -name libtwoway.so -path "$prefix/lib*" -printf '%h\n' | head -n1)
if [ -z "$libdir" ]; then
    bad "no libtwoway.so under $prefix/lib*"
    echo "install: $passed passed, $failed failed"
    exit 1
fi
ok "installed into ${libdir#"$tmp/"}"

# ---------------------------------------------------------- shared objects
# The functions a public header declares with TWOWAY_API / SECUREIO_API:
# preprocess every installed header, keep what comes from include/<lib>/, and
# take the name of each declaration carrying visibility("default").
# libtwoway_ohttp's functions are those of include/twoway/ohttp.h; libtwoway
# has the rest of include/twoway/.
public_api()
{
    local dir=$1 only="" skip=""
    case $1 in
    twoway) skip=/ohttp.h ;;
    twoway_ohttp) dir=twoway only=/ohttp.h ;;
    esac
    : >"$tmp/api.c"
    for h in "$prefix"/include/twoway/*.h "$prefix"/include/secureio/*.h; do
        printf '#include <%s>\n' "${h#"$prefix/include/"}" >>"$tmp/api.c"
    done
    "$cc" -E -I "$prefix/include" "$tmp/api.c" |
        awk -v dir="/include/$dir/" -v only="$only" -v skip="$skip" \
            '/^# [0-9]+ "/ { f = $3; next }
             index(f, dir) && (only == "" || index(f, only)) && (skip == "" || !index(f, skip)) { print }' |
        tr '\n' ' ' | tr ';' '\n' | grep 'visibility *( *"default" *)' |
        sed -E 's/.*(__attribute__ *\(\( *visibility)/\1/' |
        sed -E 's/__attribute__ *\(\(([^()]|\([^()]*\))*\)\)//g; s/\[[^]]*\]//g' |
        sed -E 's/^[^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*) *\(.*/\1/; t
                s/.*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*) *$/\1/' | sort -u
}

ohttp_lib=""
if [ -e "$libdir/libtwoway_ohttp.so" ]; then ohttp_lib=twoway_ohttp; fi
for lib in twoway secureio $ohttp_lib; do
    so=$libdir/lib$lib.so
    echo "install: lib$lib.so: SONAME, symlinks and exported symbols"
    for f in "$so" "$so.$soversion" "$libdir/lib$lib.a"; do
        [ -e "$f" ] || bad "missing ${f#"$libdir/"}"
    done
    soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
    if [ "$soname" = "lib$lib.so.$soversion" ]; then
        ok "SONAME $soname"
    else
        bad "SONAME is '${soname}', expected lib$lib.so.$soversion"
    fi

    # Defined dynamic symbols, less version nodes (type A) and the linker's own.
    nm -D --defined-only "$so" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' |
        grep -Ev '^(_init|_fini|_edata|_end|__bss_start)$' | sort -u >"$tmp/$lib.exported"
    public_api "$lib" >"$tmp/$lib.declared"

    leaked=$(grep -Ev "^${lib}_" "$tmp/$lib.exported" | tr '\n' ' ' || true)
    testing=$(grep -E '^twoway_hpke_testing_' "$tmp/$lib.exported" | tr '\n' ' ' || true)
    extra=$(comm -23 "$tmp/$lib.exported" "$tmp/$lib.declared" | tr '\n' ' ')
    absent=$(comm -13 "$tmp/$lib.exported" "$tmp/$lib.declared" | tr '\n' ' ')
    n=$(wc -l <"$tmp/$lib.exported")
    if [ ! -s "$tmp/$lib.declared" ]; then
        bad "found no ${lib^^}_API declaration in include/$lib/"
    elif [ -n "$leaked" ]; then
        bad "exports symbols without the ${lib}_ prefix: $leaked"
    elif [ -n "$testing" ]; then
        bad "exports test-only entry points: $testing"
    elif [ -n "$extra" ]; then
        bad "exports symbols no public header declares: $extra"
    else
        ok "exports only the public API ($n symbols)"
    fi
    if [ -n "$absent" ]; then
        bad "declared in its headers but not exported by lib$lib: $absent"
    else
        ok "every public function of lib$lib's headers is exported"
    fi
done

# -------------------------------------------------------------- pkg-config
export PKG_CONFIG_PATH=$libdir/pkgconfig
pc=(pkg-config)
echo "install: pkg-config twoway secureio (PKG_CONFIG_PATH=<prefix>/${libdir#"$prefix/"}/pkgconfig)"
if ! quiet pkg-config --exists --print-errors twoway secureio; then
    bad "pkg-config cannot resolve twoway secureio"
else
    ok "twoway $(pkg-config --modversion twoway), secureio $(pkg-config --modversion secureio)"
    # libdir and includedir must name the folders the files were installed
    # to, whatever prefix the build was configured with.
    for lib in twoway secureio; do
        pc_libdir=$(pkg-config --variable=libdir "$lib")
        pc_incdir=$(pkg-config --variable=includedir "$lib")
        if [ "$(realpath -m "$pc_libdir")" = "$(realpath "$libdir")" ] &&
            [ "$(realpath -m "$pc_incdir")" = "$(realpath "$prefix/include")" ]; then
            ok "$lib.pc points into the install prefix"
        else
            # Go on with the prefix forced, to test the rest of the file.
            bad "$lib.pc has libdir=$pc_libdir includedir=$pc_incdir, but was installed" \
                "under $prefix (cmake --install --prefix): paths fixed at configure time?"
            pc=(pkg-config "--define-variable=prefix=$prefix")
        fi
    done

    echo "install: consumer.c through pkg-config, shared libraries"
    read -r -a pc_cflags <<<"$("${pc[@]}" --cflags twoway secureio)"
    read -r -a pc_libs <<<"$("${pc[@]}" --libs twoway secureio)"
    exe=$tmp/consumer-shared
    if quiet "$cc" "${strict[@]}" "${cflags[@]}" "${pc_cflags[@]}" "$here/consumer.c" \
        -o "$exe" "${ldflags[@]}" "${pc_libs[@]}"; then
        needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' ')
        if [[ " $needed " == *" libtwoway.so.$soversion "* &&
            " $needed " == *" libsecureio.so.$soversion "* ]]; then
            ok "links to libtwoway.so.$soversion and libsecureio.so.$soversion"
        else
            bad "consumer needs '$needed', expected libtwoway.so.$soversion libsecureio.so.$soversion"
        fi
        if LD_LIBRARY_PATH=$libdir quiet "$exe"; then
            ok "runs: $(tail -n1 "$log")"
        else
            bad "consumer (shared) failed"
        fi
    else
        bad "cannot build consumer.c with: $cc ${pc_cflags[*]} ... ${pc_libs[*]}"
    fi

    echo "install: consumer.c through pkg-config --static, static libraries"
    read -r -a pc_cflags <<<"$("${pc[@]}" --static --cflags twoway secureio)"
    read -r -a pc_libs <<<"$("${pc[@]}" --static --libs twoway secureio)"
    # Take libtwoway.a and libsecureio.a; the system libraries stay shared.
    libs=()
    for a in "${pc_libs[@]}"; do
        case "$a" in
        -ltwoway | -lsecureio) libs+=("-Wl,-Bstatic" "$a" "-Wl,-Bdynamic") ;;
        *) libs+=("$a") ;;
        esac
    done
    exe=$tmp/consumer-static
    if quiet "$cc" "${strict[@]}" "${cflags[@]}" "${pc_cflags[@]}" "$here/consumer.c" \
        -o "$exe" "${ldflags[@]}" "${libs[@]}"; then
        if readelf -d "$exe" | grep -Eq 'NEEDED.*lib(twoway|secureio)\.so'; then
            bad "the static consumer still needs a shared libtwoway/libsecureio"
        else
            ok "links libtwoway.a and libsecureio.a (${pc_libs[*]})"
        fi
        if env -u LD_LIBRARY_PATH "$exe" >"$log" 2>&1; then
            ok "runs: $(tail -n1 "$log")"
        else
            sed 's/^/    | /' "$log"
            bad "consumer (static) failed"
        fi
    else
        bad "cannot build consumer.c with: $cc ${pc_cflags[*]} ... ${libs[*]}"
    fi
fi

# ------------------------------------------------------- libtwoway_ohttp
if [ -n "$ohttp_lib" ]; then
    echo "install: ohttp_consumer.c through pkg-config twoway_ohttp"
    if ! quiet pkg-config --exists --print-errors twoway_ohttp; then
        bad "pkg-config cannot resolve twoway_ohttp"
    else
        read -r -a pc_cflags <<<"$("${pc[@]}" --cflags twoway_ohttp)"
        read -r -a pc_libs <<<"$("${pc[@]}" --libs twoway_ohttp)"
        exe=$tmp/ohttp-consumer
        if quiet "$cc" "${strict[@]}" "${cflags[@]}" "${pc_cflags[@]}" "$here/ohttp_consumer.c" \
            -o "$exe" "${ldflags[@]}" "${pc_libs[@]}"; then
            ok "builds with $(pkg-config --libs twoway_ohttp | sed "s|$prefix|<prefix>|g")"
            if LD_LIBRARY_PATH=$libdir quiet "$exe"; then
                ok "runs: $(tail -n1 "$log")"
            else
                bad "ohttp_consumer failed"
            fi
        else
            bad "cannot build ohttp_consumer.c with: $cc ${pc_cflags[*]} ... ${pc_libs[*]}"
        fi
    fi
fi

# ------------------------------------------------------- static archives
# Only the public API is global in the archives: internal helpers cannot
# clash with an application's names (clash.c defines them and links both).
for lib in twoway secureio $ohttp_lib; do
    a=$libdir/lib$lib.a
    leaked=$(nm -g --defined-only "$a" 2>/dev/null | awk 'NF == 3 { print $3 }' |
        grep -Ev "^${lib}_" | grep -Ev '^twoway_hpke_testing_' | tr '\n' ' ' || true)
    testing=$(nm -g --defined-only "$a" 2>/dev/null | awk 'NF == 3 { print $3 }' |
        grep -E "^twoway_hpke_testing_" | tr '\n' ' ' || true)
    if [ -n "$leaked$testing" ]; then
        bad "lib$lib.a defines global symbols outside its API: $leaked$testing"
    else
        ok "lib$lib.a defines only ${lib}_* globals"
    fi
done
echo "install: clash.c (defines util_wipe, hpke_*, tw_*, sio_*, blake3_*) linked statically"
read -r -a st_libs <<<"$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --static --libs-only-l twoway secureio |
    sed 's/-ltwoway//; s/-lsecureio//')"
exe=$tmp/clash
if quiet "$cc" "${strict[@]}" "${cflags[@]}" -I "$prefix/include" "$here/clash.c" -o "$exe" \
    "${ldflags[@]}" "$libdir/libtwoway.a" "$libdir/libsecureio.a" "${st_libs[@]}"; then
    if env -u LD_LIBRARY_PATH "$exe" >"$log" 2>&1; then
        ok "links and runs: $(tail -n1 "$log")"
    else
        sed 's/^/    | /' "$log"
        bad "clash failed"
    fi
else
    bad "a program defining the internal names does not link statically"
fi

# ------------------------------------------------- programs, manuals, docs
echo "install: programs, manual pages and documentation"
if [ -e "$prefix/bin/hpke-demo" ]; then bad "hpke-demo (an example) is installed as a command"; else
    ok "no hpke-demo in bin/"
fi
if [ -x "$prefix/bin/twoway" ]; then
    # moved elsewhere, without LD_LIBRARY_PATH: RUNPATH $ORIGIN finds the libraries
    cp -a "$prefix" "$tmp/moved"
    if env -u LD_LIBRARY_PATH "$tmp/moved/bin/twoway" --version >"$log" 2>&1 &&
        ldd "$tmp/moved/bin/twoway" | grep -q "$tmp/moved/.*libtwoway.so"; then
        ok "bin/twoway runs from a moved prefix: $(head -n1 "$log")"
    else
        sed 's/^/    | /' "$log"
        bad "bin/twoway does not run from a moved prefix without LD_LIBRARY_PATH"
    fi
    # its HTTP commands are twoway-http in libexec, found from bin/twoway
    if [ -n "$ohttp_lib" ]; then
        if env -u LD_LIBRARY_PATH "$tmp/moved/bin/twoway" ohttp --help >"$log" 2>&1 &&
            grep -q 'usage: twoway ohttp' "$log"; then
            ok "twoway ohttp runs from a moved prefix (libexec/secureio/twoway-http)"
        else
            sed 's/^/    | /' "$log"
            bad "twoway ohttp does not run from a moved prefix"
        fi
        if ! ldd "$tmp/moved/bin/twoway" | grep -Eq 'libcurl|libmicrohttpd'; then
            ok "bin/twoway itself loads neither libcurl nor libmicrohttpd"
        else
            bad "bin/twoway links libcurl or libmicrohttpd"
        fi
    fi
    rm -rf "$tmp/moved"
fi
mandir=$prefix/share/man
if [ -d "$here/../../docs/man" ]; then
    missing=""
    while read -r fn; do
        [ -e "$mandir/man3/$fn.3" ] || missing="$missing $fn"
    done < <(cat "$tmp/twoway.declared" "$tmp/secureio.declared")
    if [ -n "$missing" ]; then bad "functions without an installed man page:$missing"; else
        ok "every public function has an installed man page ($(cat "$tmp/twoway.declared" \
            "$tmp/secureio.declared" | wc -l) names)"
    fi
    for page in man1/twoway.1 man3/twoway.3 man3/secureio.3; do
        if [ -f "$mandir/$page" ]; then ok "$page installed"; else bad "$page not installed"; fi
    done
    if MANPATH=$mandir man -w twoway_sealer_final >/dev/null 2>&1 &&
        MANPATH=$mandir man twoway_sealer_final 2>/dev/null | grep -q twoway_sealer_final; then
        ok "man twoway_sealer_final finds its page"
    else
        bad "man twoway_sealer_final does not work with MANPATH=<prefix>/share/man"
    fi
fi
docdir=$prefix/share/doc/secureio
for f in README.md LICENSE NOTICE docs/TWOWAY.md docs/PROTOCOL.md docs/CLI.md examples/hpke_demo.c \
    examples/secureio_demo.c examples/README.md examples/CMakeLists.txt examples/udp_echo.c \
    examples/tcp_client_server.c examples/event_loop.c; do
    if [ -f "$docdir/$f" ]; then ok "doc $f installed"; else bad "doc $f not installed in $docdir"; fi
done
if grep -rn 'docs/' "$prefix/include" >"$log"; then
    sed 's/^/    | /' "$log"
    bad "installed headers point to repository paths (docs/...)"
else
    ok "installed headers point to installed documentation"
fi
export PKG_CONFIG_PATH=$libdir/pkgconfig
if [ -z "$(pkg-config --print-requires twoway)" ] &&
    pkg-config --print-requires-private twoway | grep -q libcrypto; then
    ok "twoway.pc: libcrypto in Requires.private"
else
    bad "twoway.pc: libcrypto should be in Requires.private only"
fi

# ------------------------------------------------------------------- CMake
echo "install: CMake project with find_package(twoway), find_package(secureio)"
cbuild=$tmp/cmake-consumer
if quiet cmake -S "$here" -B "$cbuild" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_EXE_LINKER_FLAGS="${LDFLAGS:-}"; then
    found=$(sed -n 's/^\(twoway\|secureio\)_DIR:PATH=//p' "$cbuild/CMakeCache.txt")
    if grep -qv "^$prefix/" <<<"$found"; then
        bad "find_package found a copy outside the test prefix: $(tr '\n' ' ' <<<"$found")"
    else
        ok "configured; packages found in <prefix>/${libdir#"$prefix/"}/cmake"
    fi
    if quiet cmake --build "$cbuild"; then
        ok "built consumer (twoway::twoway secureio::secureio) and consumer_static"
        for exe in consumer consumer_static; do
            # No LD_LIBRARY_PATH: the imported targets must give CMake the
            # libraries' real location, for the build tree's RUNPATH.
            if env -u LD_LIBRARY_PATH "$cbuild/$exe" >"$log" 2>&1; then
                ok "$exe runs: $(tail -n1 "$log")"
            else
                sed 's/^/    | /' "$log"
                bad "$exe failed"
            fi
        done
    else
        bad "the CMake consumer does not build"
    fi
else
    bad "the CMake consumer does not configure"
fi

# ---------------------------------------------------------------- examples
# examples/ (what the README's quick start is taken from), the copy the
# package installs, built against the installed package as a user would
# build them, then each run: with no arguments each example runs both of
# its ends and exits 0 when they agree.
examples=$docdir/examples
if [ -e "$prefix/bin/secureio-demo" ]; then bad "secureio-demo (a demo) is installed as a command"; else
    ok "no secureio-demo in bin/"
fi
if [ ! -f "$examples/CMakeLists.txt" ]; then
    bad "examples/ not installed in $docdir"
else
    echo "install: examples/ built with find_package(secureio), each self-check run"
    ebuild=$tmp/examples
    if quiet cmake -S "$examples" -B "$ebuild" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_C_FLAGS="-Werror ${CFLAGS:-}" \
        -DCMAKE_EXE_LINKER_FLAGS="${LDFLAGS:-}" && quiet cmake --build "$ebuild"; then
        ok "examples build against the installed package"
        for ex in udp_echo tcp_client_server event_loop; do
            if env -u LD_LIBRARY_PATH timeout 60 "$ebuild/$ex" >"$log" 2>&1; then
                ok "example $ex: $(tail -n1 "$log")"
            else
                sed 's/^/    | /' "$log"
                bad "example $ex failed (or took over 60 s)"
            fi
        done
    else
        bad "examples/ does not build against the installed package"
    fi
fi

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
