#!/bin/bash
# users.sh - `moat users add|ls|passwd|rm`:
#  - a password comes from --password-file (first line) or the terminal, never
#    argv (--password is refused and nothing is written); short ones refused;
#  - only an scrypt hash is stored (scrypt$32768$8$1$salt$hash, a fresh salt
#    each time), and neither the password nor the hash is in the audit trail;
#  - each change is one audit record; a duplicate add and changes to a
#    missing user fail and write nothing; the trail still verifies;
#  - without a terminal and without --password-file it says what to do.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_common.sh"

W="$T/ws"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
printf 'correct horse battery\nsecond line ignored\n' >"$T/pw"
printf 'short\n' >"$T/short"
n0=$(audit_count "$W")

expect_rc 0 "$MOAT" -w "$W" users add alice --role annotator --password-file "$T/pw"
expect_grep "added user 'alice'" "$T/out" "add says what it did"
expect_rc 0 "$MOAT" -w "$W" users add bob --role reviewer --password-file - <"$T/pw"
expect_rc 0 "$MOAT" -w "$W" users add carol --role admin --password-file "$T/pw"
expect_eq "$((n0 + 3))" "$(audit_count "$W")" "one audit record per user added"
expect_eq "alice:annotator
bob:reviewer
carol:admin" "$(users_of "$W")" "users ls --json"
expect_rc 0 "$MOAT" -w "$W" users ls
expect_grep "^bob +reviewer" "$T/out" "users ls lists names and roles"

# refused, and nothing written
expect_rc 2 "$MOAT" -w "$W" users add dave --role annotator --password "correct horse battery"
expect_grep "never given on the command line" "$T/err" "--password on argv is refused"
expect_rc 2 "$MOAT" -w "$W" users add dave --role annotator --password=xyzxyzxyz
expect_rc 2 "$MOAT" -w "$W" users add dave --role annotator --password-file "$T/short"
expect_grep "at least 8" "$T/err" "a short password is refused"
expect_rc 2 "$MOAT" -w "$W" users add dave --role boss --password-file "$T/pw"
expect_rc 2 "$MOAT" -w "$W" users add ../dave --role annotator --password-file "$T/pw"
expect_rc 1 "$MOAT" -w "$W" users add alice --role admin --password-file "$T/pw"
expect_grep "already exists" "$T/err" "a duplicate add"
expect_rc 1 "$MOAT" -w "$W" users passwd nobody --password-file "$T/pw"
expect_rc 1 "$MOAT" -w "$W" users rm nobody
# no terminal (setsid: no controlling terminal) and no --password-file
expect_rc 2 setsid "$MOAT" -w "$W" users add erin --role annotator </dev/null
expect_grep "password-file" "$T/err" "no terminal: the message names --password-file"
expect_eq "$((n0 + 3))" "$(audit_count "$W")" "refused changes write no audit record"
expect_eq "alice:annotator
bob:reviewer
carol:admin" "$(users_of "$W")" "refused changes leave the users as they were"

# the stored hash: scrypt with the documented parameters, a salt of its own
if [ -f "$W/moat.db" ] && head -c 15 "$W/moat.db" | grep -q 'SQLite format'; then
	h1=$(sqlite3 "$W/moat.db" "SELECT pw_hash FROM users WHERE name='alice'")
	h2=$(sqlite3 "$W/moat.db" "SELECT pw_hash FROM users WHERE name='bob'")
	expect_grep '^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$' <(echo "$h1") "the stored hash's form"
	[ "$h1" != "$h2" ] && ok || bad "two users with one password have the same hash (no salt?)"
	expect_rc 0 "$MOAT" -w "$W" users passwd alice --password-file "$T/pw"
	h3=$(sqlite3 "$W/moat.db" "SELECT pw_hash FROM users WHERE name='alice'")
	[ "$h3" != "$h1" ] && ok || bad "passwd did not change the hash"
	"$MOAT" -w "$W" audit log --json >"$T/log.json"
	expect_no_value text "$T/log.json" "audit trail holds no password or hash" \
		--full "correct horse" --full "${h1##*\$}" --full "${h3##*\$}" --full 'scrypt$'
else
	expect_rc 0 "$MOAT" -w "$W" users passwd alice --password-file "$T/pw"
	"$MOAT" -w "$W" audit log --json >"$T/log.json"
	expect_no_value text "$T/log.json" "audit trail holds no password or hash" \
		--full "correct horse" --full 'scrypt$'
fi

expect_rc 0 "$MOAT" -w "$W" users rm bob
expect_eq "alice:annotator
carol:admin" "$(users_of "$W")" "rm removes the user"
expect_eq "$((n0 + 5))" "$(audit_count "$W")" "passwd and rm are audited"
expect_rc 0 "$MOAT" -w "$W" audit verify
finish
