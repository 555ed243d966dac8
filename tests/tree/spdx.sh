#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every source file of the tree carries its license line:
#
#   tests/tree/spdx.sh SOURCE_DIR
#
# Source files: C sources and headers, CMake files, shell scripts, the
# Makefile and the CI script (the files git tracks when SOURCE_DIR is a git
# checkout; otherwise the same kinds found on disk). Vectors, corpora and
# Markdown are data or prose and are not checked. The line must be among
# the first three of the file.
set -euo pipefail
src=$(cd "${1:?usage: $0 SOURCE_DIR}" && pwd)
cd "$src"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files)
else
    mapfile -t files < <(find . -path ./.git -prune -o -type f -print | sed 's|^\./||')
fi
passed=0
failed=0
for f in "${files[@]}"; do
    case "$f" in
    tests/vectors/* | fuzz/corpus/* | build*/* | *.md | LICENSE | NOTICE | .gitignore) continue ;;
    *.c | *.h | *.in | *.cmake | CMakeLists.txt | */CMakeLists.txt | *.sh | Makefile | .ci/* | \
        .clang-format | docs/man/*) ;;
    *) continue ;;
    esac
    [ -f "$f" ] || continue
    if head -n 3 "$f" | grep -q 'SPDX-License-Identifier: Apache-2\.0'; then
        passed=$((passed + 1))
    else
        echo "    FAIL: $f has no 'SPDX-License-Identifier: Apache-2.0' line at its top"
        failed=$((failed + 1))
    fi
done
echo "spdx: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
