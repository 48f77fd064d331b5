#!/bin/bash
# store_pg.sh - a workspace whose tables live in PostgreSQL (issue 15) gives
# the same outputs as a SQLite one, command for command, and never keeps a
# password.  Runs only with MOAT_STORE=postgres://... (ctest -L pg, through
# tests/with-pg); skipped (77) otherwise.
. "$(dirname "$0")/lib.sh"
case "${MOAT_STORE:-}" in
postgres://*) ;;
*) echo "SKIP: needs MOAT_STORE=postgres://... (ctest -L pg starts a server)"; exit 77 ;;
esac
need_testdata corpus
C=$T/corpus
mkdir -p "$C"
for f in csv-comma.csv docx-hdrftr.docx habibi.pdf handbook-1p.docx multi_page.pdf password.pdf; do
	cp "$TESTDATA/corpus/$f" "$C/"
done

# a password in the URI is refused, and nothing is created
expect_rc 1 "$MOAT" init --store "postgres://moat:secret@127.0.0.1:1/moat" "$T/pw"
expect_grep 'pgpass' "$T/err" "the refusal names where passwords go"
expect_eq "" "$(ls "$T/pw" 2>/dev/null)" "nothing made for a URI with a password"

expect_rc 0 env MOAT_STORE= "$MOAT" init "$T/s"
expect_rc 0 "$MOAT" init "$T/p"
expect_grep '^moat-store postgres$' "$T/p/moat.db" "moat.db is the server's marker"
expect_grep '^id [0-9a-f]{32}$' "$T/p/moat.db" "the marker holds the workspace id"
expect_rc 0 "$MOAT" init --store "$MOAT_STORE" "$T/p2"
expect_rc 1 "$MOAT" init "$T/p"

# outputs with times, hashes and the workspace's own name taken out
norm() {
	sed -E -e 's/[0-9a-f]{64}/HASH/g' -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' \
		-e "s#$T/[sp](/|\"|\\b)#WS\\1#g" -e "s#out-[sp]#out-X#g" "$1"
}
same() { # what cmd... (@OUT@ becomes $T/out-s or $T/out-p)
	local what=$1
	shift
	"$MOAT" -w "$T/s" "${@//@OUT@/$T/out-s}" >"$T/s.out" 2>"$T/s.err"
	local rs=$?
	"$MOAT" -w "$T/p" "${@//@OUT@/$T/out-p}" >"$T/p.out" 2>"$T/p.err"
	local rp=$?
	expect_eq "$rs" "$rp" "$what: exit status"
	if [ "$(norm "$T/s.out")" = "$(norm "$T/p.out")" ] && [ "$(norm "$T/s.err")" = "$(norm "$T/p.err")" ]; then
		ok
	else
		bad "$what: SQLite and PostgreSQL differ: $(diff <(norm "$T/s.out"; norm "$T/s.err") <(norm "$T/p.out"; norm "$T/p.err") | head -10)"
	fi
}
same ingest ingest -j 1 "$C"  # one worker: documents in the same order
same "ingest again" ingest -j 1 "$C"
same ls ls
same "ls --json" ls --json
same show show habibi.pdf
id=$("$MOAT" -w "$T/p" ls --json | python3 -c 'import json,sys; print([d["id"] for d in json.load(sys.stdin) if d["path"].endswith("multi_page.pdf")][0])')
same "show by id prefix" show "${id:0:8}"
same "show --json" show --json "$id"
same clean clean
same "clean again" clean
same "pii review" pii review
same chunk chunk
same "chunk again" chunk
same export export --format jsonl --out @OUT@
same "audit verify" audit verify
same "audit log" audit log
same "audit log --json" audit log --json
# what the exports hold, file for file, but for times and hashes
expect_eq "$(cd "$T/out-s" && find . -type f | sort)" "$(cd "$T/out-p" && find . -type f | sort)" \
	"the exports hold the same files"
for f in $(cd "$T/out-s" && find . -type f -name '*.jsonl' | sort); do
	expect_eq "$(norm "$T/out-s/$f")" "$(norm "$T/out-p/$f")" "exported $f"
done
expect_no_value text "$T/p/moat.db" "the marker" --full secret
"$MOAT" -w "$T/p" audit log --json >"$T/log.json"
expect_no_value json "$T/log.json" "the audit trail" --full secret
echo "store_pg: $passes passed, $fails failed"
[ "$fails" = 0 ]
