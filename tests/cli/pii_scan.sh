#!/bin/bash
# pii_scan.sh - `moat pii scan`: JSON lines with code-point offsets, standard
# input and files, invalid UTF-8, --entities, --redact, bad usage; --country,
# --language and a policy's country; --redact with a policy's operators and
# pii restore of its output.
. "$(dirname "$0")/lib.sh"

# code points: "Ünal Şahin" has non-ASCII letters before the e-mail
printf 'Ünal Şahin <unal.sahin@example.com.tr> paid with 4012 8888 8888 1881 on 2023-04-05.\n' >"$T/in.txt"
expect_rc 0 "$MOAT" pii scan --json "$T/in.txt"
cp "$T/out" "$T/scan.json"
python3 - "$T/in.txt" "$T/scan.json" >"$T/check" 2>&1 <<'PY'
import json, sys
text = open(sys.argv[1], encoding='utf-8').read()
found = {}
for line in open(sys.argv[2]):
    f = json.loads(line)
    assert set(f) == {'type', 'start', 'end', 'score', 'text'}, f
    assert text[f['start']:f['end']] == f['text'], (f, text[f['start']:f['end']])
    assert 0 <= f['score'] <= 1
    found[f['type']] = f['text']
assert found.get('EMAIL_ADDRESS') == 'unal.sahin@example.com.tr', found
assert found.get('CREDIT_CARD') == '4012 8888 8888 1881', found
assert found.get('DATE_TIME') == '2023-04-05', found
print('ok')
PY
expect_grep '^ok$' "$T/check" "offsets are code points of the input"

# standard input, and the same findings
expect_rc 0 sh -c "\"$MOAT\" pii scan --json - <\"$T/in.txt\""
expect_eq "$(cat "$T/scan.json")" "$(cat "$T/out")" "stdin and file give the same findings"

# --entities keeps to the types asked for
expect_rc 0 "$MOAT" pii scan --json --entities EMAIL_ADDRESS "$T/in.txt"
expect_eq 1 "$(wc -l <"$T/out")" "one e-mail only"
expect_grep '"EMAIL_ADDRESS"' "$T/out" "the e-mail"

# invalid UTF-8: each bad byte counts as one replaced code point
printf '\xff\xfe mail bob@example.org now\n' >"$T/bad.txt"
expect_rc 0 "$MOAT" pii scan --json "$T/bad.txt"
expect_grep '"start": 8, "end": 23' "$T/out" "offsets after two invalid bytes"

# --redact writes the text with <TYPE> in place of each finding
expect_rc 0 "$MOAT" pii scan --redact "$T/in.txt"
expect_grep '<EMAIL_ADDRESS>' "$T/out" "redacted e-mail"
if grep -q '4012 8888' "$T/out"; then bad "the card number is still there"; else ok; fi

# a Luhn-invalid number is not a card
printf 'card 1234 5678 8765 4321 please\n' | "$MOAT" pii scan --json - >"$T/luhn" 2>&1
if grep -q CREDIT_CARD "$T/luhn"; then bad "a Luhn-invalid card was reported"; else ok; fi

# bad usage
expect_rc 2 "$MOAT" pii scan --entities NOT_A_TYPE "$T/in.txt"
expect_grep "unknown entity type 'NOT_A_TYPE'" "$T/err" "names the unknown type"
expect_rc 2 "$MOAT" pii scan --threshold 3 "$T/in.txt"
expect_rc 1 "$MOAT" pii scan "$T/missing.txt"
expect_grep "cannot open '$T/missing.txt'" "$T/err" "names the missing file"
mkdir -p "$T/adir"
expect_rc 1 "$MOAT" pii scan "$T/adir"
expect_grep "^moat: cannot read '$T/adir': Is a directory$" "$T/err" "names the unreadable input"
expect_eq 1 "$(wc -l <"$T/err")" "one line"
expect_rc 0 "$MOAT" pii scan --engine
expect_grep 'pcre2' "$T/out" "names the engine"

# country and language pick the country recognizers (issue 19): a US phone
# number that passes the UK NHS check is a phone number, and with --country us
# no UK recognizer runs at all
expect_rc 0 sh -c "echo 'call 212-555-0199' | \"$MOAT\" pii scan -"
expect_grep 'PHONE_NUMBER	0.75	212-555-0199$' "$T/out" "a phone number after 'call'"
if grep -q UK_NHS "$T/out"; then bad "reported as an NHS number"; else ok; fi
expect_rc 0 sh -c "echo '212-555-0199' | \"$MOAT\" pii scan --country us --all -"
if grep -q UK_NHS "$T/out"; then bad "a UK recognizer ran for --country us"; else ok; fi
expect_grep 'PHONE_NUMBER' "$T/out" "the phone number, for --country us"
expect_rc 0 sh -c "echo 'NHS number 401 023 2137' | \"$MOAT\" pii scan --country uk -"
expect_grep 'UK_NHS	0.85	401 023 2137$' "$T/out" "an NHS number with its context word"
# --country turns on every recognizer of the country, off by default
expect_rc 0 sh -c "echo 'Kennzeichen B AB 1234' | \"$MOAT\" pii scan -"
if grep -q DE_KFZ "$T/out"; then bad "DE_KFZ is not in the default set"; else ok; fi
expect_rc 0 sh -c "echo 'Kennzeichen B AB 1234' | \"$MOAT\" pii scan --country de -"
expect_grep 'DE_KFZ	0.65	B AB 1234$' "$T/out" "a German plate with --country de"
# --language without --country: the country recognizers Presidio registers for it
expect_rc 0 sh -c "echo 'ssn 078-05-1123' | \"$MOAT\" pii scan --language de -"
if grep -q US_SSN "$T/out"; then bad "a US recognizer ran for German text"; else ok; fi
expect_rc 0 sh -c "echo 'ssn 078-05-1123' | \"$MOAT\" pii scan --language en-US -"
expect_grep 'US_SSN' "$T/out" "US_SSN for English text"
expect_rc 2 "$MOAT" pii scan --country xx "$T/in.txt"
expect_grep "unknown country 'xx'" "$T/err" "names the unknown country"
printf '[pii]\ncountry = us, atlantis\n' >"$T/badpol.ini"
expect_rc 1 "$MOAT" pii scan --policy "$T/badpol.ini" "$T/in.txt"
expect_grep "badpol.ini:2: unknown country 'atlantis'" "$T/err" "the policy's bad country, with its line"
# a policy's country applies as --country does
printf '[pii]\ncountry = us\n' >"$T/us.ini"
expect_rc 0 sh -c "echo '212-555-0199' | \"$MOAT\" pii scan --policy \"$T/us.ini\" --all -"
if grep -q UK_NHS "$T/out"; then bad "the policy's country was not applied"; else ok; fi

# --redact with --policy applies the policy's operators as clean does, and
# pii restore reverses what encrypt wrote
expect_rc 0 "$MOAT" pii keygen "$T/pii.key"
printf '[pii]\nkey_file = %s\nsalt = a test salt\n[operators]\nDEFAULT = replace\nEMAIL_ADDRESS = encrypt\nCREDIT_CARD = mask keep=4 char=*\nUS_SSN = hash\nDATE_TIME = keep\n' \
	"$T/pii.key" >"$T/ops.ini"
printf 'Mail bob@example.org, card 4012 8888 8888 1881 on 2023-04-05, ssn 078-05-1123.\n' >"$T/ops.txt"
expect_rc 0 "$MOAT" pii scan --policy "$T/ops.ini" --redact "$T/ops.txt"
cp "$T/out" "$T/ops.red"
expect_grep 'card \*\*\*\* \*\*\*\* \*\*\*\* 1881 on 2023-04-05, ssn [0-9a-f]{16,}\.$' "$T/ops.red" \
	"masked card, the date kept, the SSN hashed"
expect_grep '^Mail <enc:EMAIL_ADDRESS:[A-Za-z0-9_-]+>, ' "$T/ops.red" "the e-mail encrypted"
if grep -q 'bob@example.org\|078-05-1123' "$T/ops.red"; then bad "a value is still there"; else ok; fi
expect_rc 0 "$MOAT" pii scan --policy "$T/ops.ini" --redact "$T/ops.txt"
expect_eq "$(cat "$T/ops.red")" "$(cat "$T/out")" "the same output on a second run"
expect_rc 0 "$MOAT" pii restore --key "$T/pii.key" "$T/ops.red"
expect_grep '^Mail bob@example.org, card \*\*\*\* ' "$T/out" "restore puts the e-mail back"
expect_grep 'restored 1 encrypted values' "$T/err" "one value restored"
# without --policy, --redact writes <TYPE>; encrypt without a key is refused
expect_rc 0 "$MOAT" pii scan --redact "$T/ops.txt"
expect_grep '^Mail <EMAIL_ADDRESS>, ' "$T/out" "<TYPE> without a policy"
printf '[operators]\nDEFAULT = encrypt\n' >"$T/nokey.ini"
expect_rc 2 "$MOAT" pii scan --policy "$T/nokey.ini" --redact "$T/ops.txt"
expect_grep "the encrypt operator needs key_file" "$T/err" "encrypt needs a key"
expect_eq 0 "$(wc -c <"$T/out")" "nothing written"

# the compiled Hyperscan database's cache: kept with its digest, and a damaged
# or planted file (a byte flipped, group-writable) is compiled again, never
# deserialized (issue 13.7)
if grep -q hyperscan "$T/out"; then
	C="$T/cache"
	MOAT_CACHE=$C "$MOAT" pii scan --json "$T/in.txt" >"$T/first.json" || bad "scan with a fresh cache"
	db=$(ls "$C"/pii/*.hsdb 2>/dev/null | head -1)
	[ -n "$db" ] && head -c 12 "$db" | grep -q '^moat-hsdb 1 ' && ok || bad "the cache file carries its digest"
	check_db() { python3 - "$db" <<'PY'
import hashlib, sys
b = open(sys.argv[1], "rb").read()
head, body = b[:77], b[77:]
sys.exit(0 if head[12:76].decode() == hashlib.sha256(body).hexdigest() else 1)
PY
	}
	python3 - "$db" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-100] ^= 0x40; open(p, "wb").write(b)
PY
	check_db && bad "the flip did not land" || ok
	MOAT_CACHE=$C "$MOAT" pii scan --json "$T/in.txt" >"$T/second.json" || bad "scan with a damaged cache"
	cmp -s "$T/first.json" "$T/second.json" && ok || bad "a damaged cache changes nothing of the scan"
	check_db && ok || bad "a damaged cache file is replaced"
	chmod 0664 "$db"
	MOAT_CACHE=$C "$MOAT" pii scan --json "$T/in.txt" >/dev/null
	expect_eq 644 "$(stat -c %a "$db")" "a group-writable cache file is not trusted (compiled and written again)"
fi
finish
