#!/bin/bash
# display.sh - what reaches the terminal from file names and documents is
# escaped (issue 14.9): a newline in a name does not split `moat ls`'s row,
# an escape sequence in a name or a document's text does not run (shown as
# git shows such names: quoted, with C escapes), and ordinary names, UTF-8
# included, are shown as they are.  `moat clean status` prints text, not JSON
# (issue 14.11).
. "$(dirname "$0")/lib.sh"
W="$T/ws"
D="$T/docs"
mkdir -p "$D"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
printf 'first\n' >"$D/$(printf 'two\nlines.txt')"
printf 'second\n' >"$D/$(printf '\033[31mred.txt')"
printf 'third \033]0;owned\007 text\n' >"$D/plain-ünïcode.txt"
expect_rc 0 "$MOAT" -w "$W" ingest "$D"
"$MOAT" -w "$W" ls >"$T/ls" 2>&1
if grep -q $'\033' "$T/ls"; then bad "an escape character reached the terminal from ls"; else ok; fi
expect_eq 4 "$(wc -l <"$T/ls")" "a header and one row per file (no row split by a newline)"
expect_grep '"[^"]*/two\\nlines.txt"' "$T/ls" "a newline in a name is shown as \\n, quoted"
expect_grep '"[^"]*/\\033\[31mred.txt"' "$T/ls" "an escape in a name is shown as \\033, quoted"
expect_grep ' /.*/plain-ünïcode.txt$' "$T/ls" "a UTF-8 name is shown as it is, unquoted"
"$MOAT" -w "$W" show "$D/plain-ünïcode.txt" >"$T/show" 2>&1
if grep -q $'\033\|\007' "$T/show"; then bad "a control character reached the terminal from show"; else ok; fi
expect_grep 'third \\033]0;owned\\a text' "$T/show" "a document's control characters are escaped"
"$MOAT" -w "$W" clean >/dev/null
expect_rc 0 "$MOAT" -w "$W" clean status
if head -c1 "$T/out" | grep -q '{'; then bad "clean status prints JSON without --json"; else ok; fi
expect_grep "^documents: 3 kept" "$T/out" "clean status says what it counts"
expect_rc 0 "$MOAT" -w "$W" clean status --json
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" && ok || bad "clean status --json is JSON"
finish
