#!/bin/bash
# web_page.sh - the annotation page (web/) in Debian's Chromium, headless,
# driven by playwright-core (tests/browser/web_page.mjs) against `moat serve`
# on a workspace made here: classification (with suggestions from the tiny
# model), spans, boxes on an image, question-answer and preference
# projects; an annotator, a second annotator, a reviewer and an admin.
# The browser script logs in (the one-time link, then the form), labels
# with keys, selects spans with the mouse and the keyboard, draws, moves and
# resizes boxes, accepts, edits and rejects suggestions, undoes, reviews,
# opens the agreement page, previews a prompt template through the embedded
# backend and runs suggestions to the end; after each step it reads back
# what the API holds.  It fails on any request to another host, on any
# response without the Content-Security-Policy, on any dialog, page error or
# console error: hostile task texts must show as text and run nothing.
# MOAT_SCREENSHOTS=1 saves the main views into docs/img/label-*.png.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_common.sh"

need_testdata models
need_testdata corpus
MODEL="$TESTDATA/models/llama-2-tiny-random.gguf"
[ -f "$MODEL" ] || { bad "the tiny model $MODEL is missing"; finish; exit 1; }
BROWSER_DIR="$SRC/tests/browser"
missing=""
[ -x /usr/bin/chromium ] || missing="/usr/bin/chromium (Debian's chromium)"
[ -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ] || missing="$missing playwright-core (npm ci in tests/browser)"
command -v node >/dev/null 2>&1 || missing="$missing node"
if [ -n "$missing" ]; then
	if [ "${CI:-}" = true ]; then
		echo "FAIL: missing$missing: run scripts/bootstrap"; exit 1
	fi
	echo "SKIP: missing$missing: run scripts/bootstrap"; exit 77
fi

W="$T/ws"
D="$T/docs"
mkdir -p "$D/text" "$D/img"
# plain texts, one with a character outside the BMP (offsets are code points)
printf 'Note \360\237\231\202: Alice Smith works at Acme Corporation in Paris.\n' >"$D/text/a-people.txt"
printf 'Invoice 42 from Acme Corporation: 3 boxes of apples, due in May.\n' >"$D/text/b-invoice.txt"
printf 'This contract binds Bob Jones and Globex Limited for two years.\n' >"$D/text/c-contract.txt"
# hostile texts: shown as these characters, never run
printf '<script>alert(1)</script> hostile one\n' >"$D/text/d-hostile1.txt"
printf '"><img src=x onerror=alert(1)> hostile two\n' >"$D/text/e-hostile2.txt"
printf 'javascript:alert(1) hostile three <a href="javascript:alert(3)">link</a>\n' >"$D/text/f-hostile3.txt"
# an image for boxes: 320x200 PNG drawn here (no test data needed)
python3 - "$D/img/boxes.png" <<'PY'
import struct, sys, zlib
w, h = 320, 200
rows = b"".join(b"\x00" + b"".join(
    (b"\x20\x60\xa0" if (x // 40 + y // 40) % 2 else b"\xf0\xf0\xe0") for x in range(w)) for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
      chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY

"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
"$MOAT" -w "$W" ingest "$D" >"$T/ingest.out" 2>&1 || { bad "ingest: $(cat "$T/ingest.out")"; finish; exit 1; }
# and a scanned page of a paper (JPEG) for boxes at a zoom below 100 %,
# and a PDF page, which moat draws as PNG for boxes
mkdir -p "$D/scan" && cp "$TESTDATA/corpus/layout-parser-paper-with-table.jpg" "$TESTDATA/corpus/2305.03393v1-pg9.pdf" "$D/scan/"
"$MOAT" -w "$W" ingest "$D/scan" --ocr never >"$T/ingest.out" 2>&1 || { bad "ingest: $(cat "$T/ingest.out")"; finish; exit 1; }

schema() { # NAME JSON
	printf '%s\n' "$2" >"$T/$1.json"
}
schema cls '{"kind": "classification", "multi": false,
 "labels": [{"name": "invoice", "key": "1", "description": "a bill to pay"}, {"name": "contract", "key": "2"}, {"name": "other", "key": "3"}],
 "guidelines": "# How to label\nLabel what the document *is*, not what it **mentions**.\n\n- `invoice`: a bill\n- `contract`: an agreement\n\n<img src=x onerror=alert(7)> [a link](javascript:alert(8))",
 "prompt": "Classify this document as one of {{labels}}:\n{{text}}"}'
schema multi '{"kind": "classification", "multi": true,
 "labels": [{"name": "invoice"}, {"name": "contract"}, {"name": "other"}]}'
schema spans '{"kind": "spans", "labels": [{"name": "PERSON", "key": "p"}, {"name": "ORG", "key": "o"}, {"name": "LOC", "key": "l"}],
 "guidelines": "Mark every person, organisation and place."}'
schema boxes '{"kind": "boxes", "labels": [{"name": "figure", "key": "f"}, {"name": "table", "key": "t"}, {"name": "code", "key": "c"}],
 "guidelines": "Draw a box around each figure, table and code listing, its caption left out."}'
schema pdfbox '{"kind": "boxes", "labels": [{"name": "table", "key": "t"}]}'
schema qa '{"kind": "qa", "prompt": "What does the passage say about money?\n\n{{text}}"}'
schema pref '{"kind": "preference", "guidelines": "Prefer the answer that is correct, then the shorter one."}'
mk() { # NAME ARGS...
	local n=$1
	shift
	"$MOAT" -w "$W" label create "$n" --schema "$T/$n.json" "$@" >"$T/create.out" 2>&1 \
		|| { bad "label create $n: $(cat "$T/create.out")"; finish; exit 1; }
}
mk cls --from documents --raw --where "type = 'text'" --overlap 2
mk multi --from documents --raw --where "path ~ '*b-invoice*'"
mk spans --from documents --raw --where "path ~ '*a-people*' or path ~ '*c-contract*'"
mk boxes --from images
mk pdfbox --from pages --raw --where "type = 'pdf'"
mk qa --from documents --raw --where "path ~ '*b-invoice*' or path ~ '*c-contract*'"
mk pref --from documents --raw --where "path ~ '*b-invoice*'"
# a preference task's two responses come from an import; set them as one would
sqlite3 "$W/moat.db" "UPDATE tasks SET meta = json_set(coalesce(meta, '{}'), '\$.question', 'What is due?',
  '\$.response_a', 'Three boxes of apples, in May.', '\$.response_b', 'Nothing <b>at all</b>.')
  WHERE project_id = (SELECT id FROM projects WHERE name = 'pref')" \
	|| { bad "setting the preference task's responses"; finish; exit 1; }
# suggestions from the tiny model (random weights; the output is constrained to the labels)
"$MOAT" -w "$W" label suggest cls --model "gguf:$MODEL" >"$T/suggest.out" 2>&1 \
	|| { bad "label suggest: $(cat "$T/suggest.out")"; finish; exit 1; }
for u in ann:annotator ann2:annotator rev:reviewer adm:admin; do
	printf '%s-password\n' "${u%%:*}" >"$T/pw"
	"$MOAT" -w "$W" users add "${u%%:*}" --role "${u#*:}" --password-file "$T/pw" >/dev/null \
		|| { bad "users add ${u%%:*}"; finish; exit 1; }
done

serve_start "$W" --models-dir "$(dirname "$MODEL")" || { finish; exit 1; }
shots=""
[ "${MOAT_SCREENSHOTS:-}" = 1 ] && shots="$SRC/docs/img"
if BASE="$BASE" TOKEN="$TOKEN" MODEL_URI="gguf:$MODEL" SHOTS="$shots" \
	node "$BROWSER_DIR/web_page.mjs" >"$T/browser.out" 2>&1; then
	ok
else
	bad "the browser test failed"
fi
cat "$T/browser.out"
grep -c '^ok ' "$T/browser.out" | { read -r n; echo "browser checks passed: $n"; }
expect_rc 0 "$MOAT" -w "$W" audit verify
finish
