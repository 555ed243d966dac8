#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every public function has exactly one manual page, and the pages are clean:
#
#   tests/tree/man.sh SOURCE_DIR
#
# The public functions are those declared with TWOWAY_API or SECUREIO_API in
# SOURCE_DIR/include/*/*.h: each header is preprocessed (cc -E) and the
# declarations that carry visibility("default") are kept. Without a C
# compiler, the headers are read as text instead.
#
# The pages are SOURCE_DIR/docs/man/*.3 and *.1. A section-3 page documents
# the functions its NAME section lists with .Nm; each function must be listed
# by exactly one page, and a page may list only public functions, except the
# overview pages twoway.3 and secureio.3. Each section-3 page must also carry
# the license line first, be named after one of its functions (the file name
# is what man finds), have a .Dt that matches its file name, and refer with
# .Xr only to pages of this project that exist. Every page of sections 1
# and 3 must pass `mandoc -Tlint -W warning` when mandoc is installed.
set -euo pipefail
src=$(cd "${1:?usage: $0 SOURCE_DIR}" && pwd)
inc=$src/include
mandir=$src/docs/man
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    echo "    FAIL: $*"
    failed=$((failed + 1))
}

# Statements on one line each: lines joined, cut at ; { }.
# shellcheck disable=SC2020 # three characters, each to a newline
statements() { tr '\n' ' ' | tr ';{}' '\n\n\n'; }

# The function a declaration declares: attributes removed, the identifier
# before the first parenthesis that is not a declarator's "(*".
function_name() {
    awk '{
        s = $0
        while (gsub(/__attribute__ *\(\(([^()]|\([^()]*\))*\)\)/, " ", s) > 0) {}
        while ((i = index(s, "(")) > 0) {
            head = substr(s, 1, i - 1)
            rest = substr(s, i + 1)
            if (rest ~ /^[ \t]*\*/) {          # a declarator: look further
                sub(/^[ \t]*\*/, "", rest)
                s = head " " rest
                continue
            }
            if (match(head, /[A-Za-z_][A-Za-z0-9_]*[ \t]*$/)) {
                name = substr(head, RSTART, RLENGTH)
                sub(/[ \t]+$/, "", name)
                print name
            }
            break
        }
    }'
}

# (a) the public functions, from the preprocessed headers ...
from_preprocessor() {
    local h
    for h in "$inc"/*/*.h; do
        if ! cc -E -I "$inc" -x c "$h" >"$tmp/pp" 2>"$tmp/pp.err"; then
            sed 's/^/    | /' "$tmp/pp.err"
            bad "cc -E failed on ${h#"$src/"}"
            continue
        fi
        # keep the text of the project's headers, not of the system's
        awk -v dir="$inc/" '
            /^# [0-9]+ "/ { f = $3; gsub(/"/, "", f); keep = index(f, dir) == 1; next }
            /^#/ { next }
            keep { print }' "$tmp/pp" | statements |
            grep 'visibility *( *"default" *)' | function_name || true
    done
}

# ... or from their text: comments and preprocessor lines removed, the
# statements that carry one of the two macros.
from_text() {
    local h
    for h in "$inc"/*/*.h; do
        # comments go, then preprocessor lines with their continuation lines
        awk '{ text = text $0 "\n" }
            END {
                gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, " ", text)
                gsub(/\/\/[^\n]*/, " ", text)
                printf "%s", text
            }' "$h" |
            awk '/^[ \t]*#/ || cont { cont = /\\$/; next } { print }' | statements |
            grep -E '(^|[^A-Za-z0-9_])(TWOWAY|SECUREIO)_API([^A-Za-z0-9_]|$)' | function_name || true
    done
}

if ! compgen -G "$inc/*/*.h" >/dev/null; then
    bad "no public headers in ${inc#"$src/"}/*/"
fi
from_text | sort -u >"$tmp/text"
if command -v cc >/dev/null 2>&1; then
    from_preprocessor | sort -u >"$tmp/functions"
    # the two readings should agree; a difference is worth a look
    comm -23 "$tmp/functions" "$tmp/text" | sed 's/^/    note: found only by the preprocessor: /'
    comm -13 "$tmp/functions" "$tmp/text" | sed 's/^/    note: found only in the text: /'
else
    echo "    note: no cc: the functions are read from the headers' text"
    cp "$tmp/text" "$tmp/functions"
fi
n_functions=$(wc -l <"$tmp/functions")
echo "man: $n_functions public functions in ${inc#"$src/"}/*/*.h"
if [ "$n_functions" -eq 0 ]; then
    bad "no public function found"
fi

# (b) the names of the NAME sections of the section-3 pages: "page name" lines
pages3=()
pages=()
if [ -d "$mandir" ]; then
    mapfile -t pages3 < <(find "$mandir" -maxdepth 1 -type f -name '*.3' | sort)
    mapfile -t pages < <(find "$mandir" -maxdepth 1 -type f \( -name '*.1' -o -name '*.3' \) | sort)
fi
if [ "${#pages3[@]}" -eq 0 ]; then
    bad "no section-3 pages in ${mandir#"$src/"}"
fi
: >"$tmp/names"
for page in "${pages3[@]}"; do
    awk -v page="$(basename "$page")" '
        /^\.Sh[ \t]/ { in_name = ($2 == "NAME"); next }
        in_name && /^\.Nm[ \t]/ { name = $2; sub(/[,.;:]+$/, "", name); print page, name }
    ' "$page" >>"$tmp/names"
done

# (c) each function documented once; each name a function
while read -r fn; do
    where=$(awk -v fn="$fn" '$2 == fn { printf "%s%s", sep, $1; sep = ", " }' "$tmp/names")
    if [ -z "$where" ]; then
        bad "$fn has no manual page (no .Nm $fn in a NAME section)"
    elif [[ "$where" == *", "* ]]; then
        bad "$fn is documented by several pages: $where"
    else
        ok
    fi
done <"$tmp/functions"
while read -r page name; do
    case "$page" in twoway.3 | secureio.3) continue ;; esac
    if ! grep -qxF "$name" "$tmp/functions"; then
        bad "$page names $name, which is not a public function"
    fi
done <"$tmp/names"

# The structure of each section-3 page.
for page in "${pages3[@]}"; do
    file=$(basename "$page")
    base=${file%.3}
    problems=()
    head -n 1 "$page" | grep -q 'SPDX-License-Identifier: Apache-2\.0' ||
        problems+=("its first line is not the SPDX license line")
    names=$(awk -v p="$file" '$1 == p { print $2 }' "$tmp/names")
    if [ -z "$names" ]; then
        problems+=("no .Nm in its NAME section")
    elif ! grep -qxF "$base" <<<"$names"; then
        problems+=("its file name is none of its names ($(tr '\n' ' ' <<<"$names"))")
    fi
    dt=$(awk '/^\.Dt[ \t]/ { print $2, $3; exit }' "$page")
    upper=$(tr '[:lower:]' '[:upper:]' <<<"$base")
    [ "$dt" = "$upper 3" ] || problems+=(".Dt is '$dt', expected '$upper 3'")
    while read -r target section; do
        [ -f "$mandir/$target.$section" ] || problems+=("refers to $target($section), which has no page")
    done < <(awk '/^\.Xr[ \t]/ && $2 ~ /^(twoway|secureio)/ { print $2, $3 }' "$page" | tr -d ',')
    if [ "${#problems[@]}" -eq 0 ]; then
        ok
    else
        for p in "${problems[@]}"; do bad "$file: $p"; done
    fi
done

# (d) mandoc's lint, warnings and worse
if command -v mandoc >/dev/null 2>&1; then
    for page in "${pages[@]}"; do
        if out=$(mandoc -Tlint -W warning "$page" 2>&1) && [ -z "$out" ]; then
            ok
        else
            while IFS= read -r line; do echo "    | $line"; done <<<"$out"
            bad "$(basename "$page"): mandoc -Tlint -W warning"
        fi
    done
else
    echo "man: mandoc is not installed: lint skipped"
fi

echo "man: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
