#!/bin/bash
# workspace_owner.sh - a moat.db planted in a shared parent directory by
# another user is not picked up by walking up from the current directory
# (issue 13.6, git's safe.directory): refused with a message naming the ways
# to use it (-w, MOAT_WORKSPACE, MOAT_SAFE_WORKSPACES), which all work.  Runs
# as root (CI does), with the planted workspace owned by nobody.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	[ "${CI:-}" = true ] && { echo "FAIL: needs root under CI"; exit 1; }
	echo "SKIP: needs root to plant another user's workspace"; exit 77
fi
S="$T/shared"
"$MOAT" init "$S" >/dev/null || { bad "init"; finish; exit 1; }
mkdir -p "$S/projects/mine"
chown -R nobody "$S"
chown root "$S/projects/mine"
printf 'my notes\n' >"$S/projects/mine/notes.txt"
cd "$S/projects/mine" || exit 1
expect_rc 1 "$MOAT" ingest notes.txt
expect_grep "belongs to another user.*-w .*MOAT_SAFE_WORKSPACES" "$T/err" "the planted workspace is refused, naming the ways"
expect_eq 0 "$(sqlite3 "$S/moat.db" 'SELECT count(*) FROM files')" "nothing was ingested into it"
expect_rc 0 "$MOAT" -w "$S" ls
MOAT_WORKSPACE=$S expect_rc 0 "$MOAT" ls
MOAT_SAFE_WORKSPACES="/nonexistent:$S" expect_rc 0 "$MOAT" ls
# a workspace of one's own is found by walking up as before
"$MOAT" init "$T/own" >/dev/null && mkdir -p "$T/own/sub" && cd "$T/own/sub" || exit 1
expect_rc 0 "$MOAT" ls
finish
