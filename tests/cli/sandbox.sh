#!/bin/bash
# sandbox.sh - the parser sandbox stops what a parser taken over would try
# (issue 13.2).  A test-only parser, compiled only into Debug builds and
# armed by $MOAT_TEST_SANDBOX_ATTACKS, reads a text file "MOAT-SANDBOX-ATTACK
# <what>" in the sandbox's child and tries it: socket(), opening a file for
# writing, execve(), and reading /etc/shadow (root's: the child runs as
# nobody) beside /etc/hostname (anyone's: reading itself works).  Each is
# blocked and becomes the file's reason, and the other files still ingest.
. "$(dirname "$0")/lib.sh"
W="$T/ws"
D="$T/docs"
mkdir -p "$D"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
victim="/tmp/moat-sandbox-attack-written"
rm -f "$victim"
attack() { printf 'MOAT-SANDBOX-ATTACK %s\n' "$2" >"$D/$1.txt"; }
attack socket socket
attack write write
attack exec exec
attack shadow "read /etc/shadow"
attack hostname "read /etc/hostname"
printf 'an ordinary file\n' >"$D/plain.txt"
MOAT_TEST_SANDBOX_ATTACKS=1 "$MOAT" -w "$W" ingest "$D" --json >"$T/out" 2>"$T/err"
expect_eq 1 "$?" "ingest exits 1: some files failed"
reason() { python3 - "$T/out" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(next((f["error"] for f in r["failures"] if f["path"].endswith("/" + sys.argv[2] + ".txt")), "(no failure)"))
PY
}
expect_eq "blocked by the sandbox: socket" "$(reason socket)" "socket()"
expect_eq "blocked by the sandbox: openat" "$(reason write)" "opening a file for writing"
expect_eq "blocked by the sandbox: execve" "$(reason exec)" "execve()"
if [ "$(id -u)" = 0 ]; then
	expect_eq "attack read: denied (Permission denied)" "$(reason shadow)" "reading root's /etc/shadow as nobody"
fi
expect_grep "attack read SUCCEEDED" <(reason hostname) "reading a file anyone may read works (the control)"
[ ! -e "$victim" ] && ok || bad "the attack wrote $victim"
expect_eq 1 "$(sqlite3 "$W/moat.db" "SELECT count(*) FROM files WHERE status = 'ok'")" "the ordinary file was ingested"
# without the test switch the same file is just text
"$MOAT" init "$T/ws2" >/dev/null
expect_rc 0 "$MOAT" -w "$T/ws2" ingest "$D/socket.txt"
# doctor says what the sandbox is here
"$MOAT" doctor --json >"$T/doc.json" 2>/dev/null
python3 - "$T/doc.json" <<'PY' && ok || bad "moat doctor reports the parser sandbox"
import json, sys
checks = json.load(open(sys.argv[1]))["checks"]
c = [c for c in checks if c["check"] == "parser sandbox"]
assert c and c[0]["status"] in ("ok", "warn"), c
print(c[0]["message"])
PY
finish
