#!/bin/bash
# workspace_loss.sh - a workspace whose database is lost, emptied, replaced or
# cut short is noticed (issue 14.1): an empty moat.db is never taken for a new
# workspace, a database with no schema is refused, an empty trail is broken,
# and audit.head (the chain's end, kept beside the database and fsynced after
# each commit) finds records removed from the end, even with the database's
# own head updated to match, and an older copy of the database put back.
. "$(dirname "$0")/lib.sh"
W="$T/ws"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
printf 'one\n' >"$T/a.txt"; printf 'two\n' >"$T/b.txt"; printf 'three\n' >"$T/c.txt"
expect_rc 0 "$MOAT" -w "$W" ingest "$T/a.txt"
cp "$W/moat.db" "$T/backup.db"       # after record 2
expect_rc 0 "$MOAT" -w "$W" ingest "$T/b.txt"
expect_rc 0 "$MOAT" -w "$W" ingest "$T/c.txt"
expect_eq 4 "$(wc -l <"$W/audit.head")" "audit.head: a line per record"
expect_rc 0 "$MOAT" -w "$W" audit verify
cp "$W/moat.db" "$T/good.db"

# the last record removed, and the database's own head made to agree
sqlite3 "$W/moat.db" "DELETE FROM audit WHERE seq = 4;
	UPDATE meta SET value = '3' WHERE key = 'audit_head_seq';
	UPDATE meta SET value = (SELECT hash FROM audit WHERE seq = 3) WHERE key = 'audit_head_hash';"
expect_rc 1 "$MOAT" -w "$W" audit verify
expect_grep "trail ends at record 3 but audit.head names record 4" "$T/err" "a trail cut short at its end"

# an older copy put back (a restore, or a rollback of the evidence)
cp "$T/backup.db" "$W/moat.db"; rm -f "$W/moat.db-wal" "$W/moat.db-shm"
expect_rc 1 "$MOAT" -w "$W" audit verify
expect_grep "audit.head names record 4" "$T/err" "an older database is found"

# emptied: refused by every command, never taken for a new workspace
: >"$W/moat.db"; rm -f "$W/moat.db-wal" "$W/moat.db-shm"
for cmd in "audit verify" "ls" "ingest $T/a.txt"; do
	expect_rc 1 "$MOAT" -w "$W" $cmd
	expect_grep "moat.db' is empty: the workspace's database is lost" "$T/err" "$cmd on an empty moat.db"
done
expect_eq 0 "$(stat -c %s "$W/moat.db")" "the empty database was not made into a new one"

# replaced by an empty SQLite database: no schema, refused
rm -f "$W/moat.db"; sqlite3 "$W/moat.db" "PRAGMA user_version = 0; VACUUM;"
expect_rc 1 "$MOAT" -w "$W" ls
expect_grep "holds no workspace \(schema version 0\)" "$T/err" "a database with no schema"

# the good one back: intact again
cp "$T/good.db" "$W/moat.db"; rm -f "$W/moat.db-wal" "$W/moat.db-shm"
expect_rc 0 "$MOAT" -w "$W" audit verify
# moat.lock replaced by a link to a file of the user's: refused, the file kept
# (the writer truncates and writes its lock file; issue 13.1's last point)
printf 'precious\n' >"$T/victim"
rm -f "$W/moat.lock" && ln -s "$T/victim" "$W/moat.lock"
expect_rc 1 "$MOAT" -w "$W" ingest "$T/a.txt"
expect_grep "refusing '.*moat.lock': it is a symbolic link" "$T/err" "a linked moat.lock"
expect_eq precious "$(cat "$T/victim")" "the link's target is untouched"
rm -f "$W/moat.lock"
# a damaged audit.head is said to be damaged
printf 'garbage\n' >>"$W/audit.head"
expect_rc 1 "$MOAT" -w "$W" audit verify
expect_grep "audit.head.*is damaged" "$T/err" "a damaged audit.head"
finish
