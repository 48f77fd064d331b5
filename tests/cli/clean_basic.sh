#!/bin/bash
# clean_basic.sh - `moat clean` on a workspace made by `moat init` and
# `moat ingest` of files written here: normalisation, exact and near
# duplicates at document and element level, filters with reasons, PII with
# every operator kind, the audit record (findings without values), a second
# run that changes nothing, review (reject puts a value back), and restore of
# encrypted values with the key file.
. "$(dirname "$0")/lib.sh"

W="$T/ws"
D="$T/docs"
mkdir -p "$D"
para() { # N: a distinct 60-word paragraph
	python3 -c "
import random, sys
random.seed(int(sys.argv[1]))
w = 'river stone garden window silver market bridge candle forest harbor lantern meadow orchard pepper quartz saddle tunnel velvet walnut yellow anchor basket copper desert engine feather glacier hammer island jacket'.split()
print(' '.join(random.choice(w) for _ in range(60)))" "$1"
}
P1=$(para 1); P2=$(para 2); P3=$(para 3); P4=$(para 4); P5=$(para 5)
FOOT="Confidential - internal use only"
printf '%s\n\n%s\n\n%s\n\n%s\n' "$P1" "$P2" "$P3" "$FOOT" >"$D/a.txt"
# near duplicate of a: one word changed
printf '%s\n\n%s\n\n%s\n\n%s\n' "$P1" "${P2/river/RIVERBANK}" "$P3" "$FOOT" >"$D/b.txt"
# exact duplicate of a once normalised: fullwidth letters and doubled spaces
printf '%s\n\n%s\n\n%s\n\n%s\n' "$P1" "$P2" "${P3// /  }" "$FOOT" >"$D/c.txt"
# distinct, sharing one paragraph with a (an element duplicate)
printf '%s\n\n%s\n\n%s\n' "$P4" "$P1" "$FOOT" >"$D/d.txt"
# PII, with a word hyphenated across a line break
cat >"$D/e.txt" <<'EOF'
Patient record

Dear Jane Roe, the infor-
mation you asked for: card 4012 8888 8888 1881, e-mail jane.roe@example.org,
phone +1 415-555-0132, SSN 536-90-4399.

Confidential - internal use only
EOF
# dropped by the filters: too short
printf 'ok\n' >"$D/f.txt"
printf '%s\n' "$P5" >"$D/g.txt"

"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
# a first: the first ingested document of a cluster is the one kept
expect_rc 0 "$MOAT" -w "$W" ingest "$D/a.txt"
expect_rc 0 "$MOAT" -w "$W" ingest "$D"

cat >"$T/filters.ini" <<'EOF'
# drop tiny documents and symbol soup
[document]
min_chars = 20
max_symbol_ratio = 0.3
[element]
max_digit_ratio = 0.9
EOF
expect_rc 0 "$MOAT" pii keygen "$T/pii.key"
expect_rc 1 "$MOAT" pii keygen "$T/pii.key"
cat >"$T/policy.ini" <<EOF
[pii]
threshold = 0.4
salt = test-salt
key_file = pii.key
[operators]
DEFAULT = replace
CREDIT_CARD = mask keep=4
EMAIL_ADDRESS = pseudonymize
PHONE_NUMBER = encrypt
US_SSN = hash
DATE_TIME = keep
EOF

expect_rc 0 "$MOAT" -w "$W" clean --normalize --dedup near --filters "$T/filters.ini" --pii "$T/policy.ini" -j 2 --json
cp "$T/out" "$T/run1.json"
j() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
expect_eq 7 "$(j "$T/run1.json" "d['counts']['documents']")" "documents"
expect_eq 1 "$(j "$T/run1.json" "d['counts']['duplicates']")" "exact duplicates"
expect_eq 1 "$(j "$T/run1.json" "d['counts']['near_duplicates']")" "near duplicates"
expect_eq 1 "$(j "$T/run1.json" "d['counts']['dropped']")" "dropped by a filter"
expect_eq 1 "$(j "$T/run1.json" "d['drop_reasons'].get('too short', 0)")" "the reason is recorded"
expect_eq True "$(j "$T/run1.json" "d['counts']['elements_duplicate'] >= 1")" "element duplicates"
expect_eq True "$(j "$T/run1.json" "d['counts']['findings'] >= 5")" "PII findings"

id_of() { "$MOAT" -w "$W" ls --json | python3 -c "import json,sys; print([x['id'] for x in json.load(sys.stdin) if x['path'].endswith(sys.argv[1])][0])" "$1"; }
A=$(id_of /a.txt); B=$(id_of /b.txt); C=$(id_of /c.txt); DD=$(id_of /d.txt); E=$(id_of /e.txt); F=$(id_of /f.txt)

expect_rc 0 "$MOAT" -w "$W" clean show "$B" --json
expect_grep '"status": "near_duplicate"' "$T/out" "b is a near duplicate"
expect_grep "near duplicate of ${A:0:12}" "$T/out" "of a, which is kept"
expect_rc 0 "$MOAT" -w "$W" clean show "$C" --json
expect_grep '"status": "duplicate"' "$T/out" "c is an exact duplicate once normalised"
expect_rc 0 "$MOAT" -w "$W" clean show "$F" --json
expect_grep '"status": "dropped"' "$T/out" "f is dropped"
expect_grep 'too short' "$T/out" "with its reason"
expect_rc 0 "$MOAT" -w "$W" clean show "$A" --json
expect_grep '"status": "kept"' "$T/out" "a is kept"
if grep -q 'Confidential' "$T/out"; then bad "the boilerplate line is still in a"; else ok; fi
expect_rc 0 "$MOAT" -w "$W" clean show "$DD" --json
expect_grep 'same text as element' "$T/out" "d's copy of a paragraph is an element duplicate"

# the cleaned text: operators applied, offsets consistent
expect_rc 0 "$MOAT" -w "$W" clean show "$E" --json
cp "$T/out" "$T/e.json"
expect_grep 'information you asked' "$T/e.json" "hyphenation joined"
expect_grep '\*\*\*\* \*\*\*\* \*\*\*\* 1881' "$T/e.json" "card masked, last four kept"
expect_grep '<enc:PHONE_NUMBER:' "$T/e.json" "phone encrypted"
j "$T/e.json" "d['text']" >"$T/e.txt"
expect_grep '(^|[^a-z.])[a-z]+\.[a-z]+[0-9]*@example\.(org|com)' "$T/e.txt" "e-mail pseudonymised"
# The cleaned text holds a salted SHA-256 (hex) and AES-GCM ciphertext
# (base64url): whole values are looked for as they are, their fragments only
# as tokens standing alone, so that no digest or ciphertext can match by chance.
PII_FULL=(--full "4012 8888 8888 1881" --full 4012888888881881 --full jane.roe@example.org
	--full 415-555-0132 --full 4155550132 --full 536-90-4399 --full 536904399)
PII_TOKENS=(--token 4012 --token jane.roe --token 415-555 --token 0132 --token 536-90 --token 4399)
expect_no_value text "$T/e.txt" "the cleaned text holds a PII value" "${PII_FULL[@]}" "${PII_TOKENS[@]}"
python3 - "$T/e.json" >"$T/check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
text, norm = d['text'], d['normalized']
for el in d['elements']:
    if el['status'] == 'empty':
        continue
    s = text[el['start']:el['end']]
    assert s and not s.startswith('\n') and not s.endswith('\n'), (el, s)
for f in d['findings']:
    assert 0 <= f['start'] < f['end'] <= len(norm), f
print('ok')
PY
expect_grep '^ok$' "$T/check" "element and finding offsets"

# the audit record lists findings and operators, never the values
expect_rc 0 "$MOAT" -w "$W" audit log --json
cp "$T/out" "$T/audit.json"
expect_grep '"findings_columns"' "$T/audit.json" "findings in the audit record"
expect_grep '"mask"' "$T/audit.json" "operators in the audit record"
expect_no_value json "$T/audit.json" "the audit trail holds a PII value" "${PII_FULL[@]}" "${PII_TOKENS[@]}" \
	--full "Jane Roe" --token 1881

# a second run changes nothing
expect_rc 0 "$MOAT" -w "$W" clean --normalize --dedup near --filters "$T/filters.ini" --pii "$T/policy.ini"
expect_grep 'nothing changed' "$T/out" "second run"
expect_grep '0 processed, 7 unchanged' "$T/out" "nothing processed again"
expect_rc 0 "$MOAT" -w "$W" audit verify

# review: list, reject the e-mail finding, and the value is back
expect_rc 0 "$MOAT" -w "$W" pii review --json --type EMAIL_ADDRESS
FID=$(j "$T/out" "d[0]['id']")
expect_no_value json "$T/out" "review lists values" "${PII_FULL[@]}" "${PII_TOKENS[@]}"
expect_rc 0 "$MOAT" -w "$W" pii review --reject "$FID"
expect_rc 0 "$MOAT" -w "$W" clean show "$E" --json
j "$T/out" "d['text']" >"$T/e2.txt"
expect_grep '(^|[^A-Za-z0-9.])jane\.roe@example\.org([^A-Za-z0-9]|$)' "$T/e2.txt" "a rejected finding is put back"
expect_rc 0 "$MOAT" -w "$W" pii review --json --status rejected
expect_eq True "$(j "$T/out" "any(x['id'] == $FID for x in d)")" "the decision is stored"
expect_rc 0 "$MOAT" -w "$W" audit log --json
expect_grep '"rejected"' "$T/out" "the decision is audited"

# restore: the encrypted phone number comes back with the key only
j "$T/e.json" "d['text']" >"$T/export.txt"
expect_rc 0 "$MOAT" -w "$W" pii restore --key "$T/pii.key" "$T/export.txt"
expect_grep '\+1 415-555-0132' "$T/out" "decrypted with the key"
"$MOAT" pii keygen "$T/other.key" >/dev/null
expect_rc 1 "$MOAT" pii restore --key "$T/other.key" "$T/export.txt"
expect_no_value text "$T/out" "decrypted with the wrong key" --full 415-555-0132 --token 415-555
expect_rc 0 "$MOAT" -w "$W" audit verify

# a bad policy or filter file: one line naming the file and the line, nothing changed
n_audit=$("$MOAT" -w "$W" audit log --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
printf '[document]\nmin_chars = 10\nmax_digit_ratio = lots\n' >"$T/badf.ini"
expect_rc 1 "$MOAT" -w "$W" clean --filters "$T/badf.ini"
expect_grep "^moat: $T/badf.ini:3: max_digit_ratio needs a ratio from 0 to 1$" "$T/err" "filters: file and line"
printf '[pii]\nthreshold = high\n' >"$T/badp.ini"
expect_rc 1 "$MOAT" -w "$W" clean --pii "$T/badp.ini"
expect_grep "^moat: $T/badp.ini:2: threshold must be from 0 to 1$" "$T/err" "policy: file and line"
expect_eq "$n_audit" "$("$MOAT" -w "$W" audit log --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "no run recorded"

# the clean stage needs a workspace; pii review too
expect_rc 1 sh -c "cd '$T' && MOAT_WORKSPACE= '$(realpath "$MOAT")' clean"
finish
