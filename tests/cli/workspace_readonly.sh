#!/bin/bash
# workspace_readonly.sh - a workspace the user may only read can be listed,
# shown and verified (issue 14.7: SQLite is opened read-only, and immutable
# where even that would need to write its WAL index), and a command that
# would change it says why it cannot.  Run as root (CI does); the reader is
# nobody, the workspace root's with modes 0755/0644.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	[ "${CI:-}" = true ] && { echo "FAIL: needs root under CI"; exit 1; }
	echo "SKIP: needs root to read as another user"; exit 77
fi
chmod 0755 "$T"
W="$T/ws"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
printf 'some text\n' >"$T/a.txt"
expect_rc 0 "$MOAT" -w "$W" ingest "$T/a.txt"
chmod -R a+rX "$W"
# nobody needs moat's shared libraries where it can read them
lib=""
if [ -n "${MOAT_LLAMA_DIR:-}" ] && [ -d "$MOAT_LLAMA_DIR/lib" ]; then
	cp -r "$MOAT_LLAMA_DIR/lib" "$T/lib" && chmod -R a+rX "$T/lib" && lib="$T/lib"
fi
cp "$MOAT" "$T/moat" && chmod 0755 "$T/moat"
as_nobody() { LD_LIBRARY_PATH=$lib setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/moat" -w "$W" "$@"; }
expect_rc 0 as_nobody ls
expect_grep "/a.txt" "$T/out" "ls lists a read-only workspace"
expect_rc 0 as_nobody show "$T/a.txt"
expect_grep "some text" "$T/out" "show reads it"
expect_rc 0 as_nobody audit verify
expect_grep "audit trail intact: 2 records" "$T/out" "audit verify checks it"
expect_rc 1 as_nobody ingest "$T/a.txt"
expect_grep "moat.lock': Permission denied" "$T/err" "a writer says why it cannot"
# and the workspace is as it was for its owner
expect_rc 0 "$MOAT" -w "$W" audit verify
finish
