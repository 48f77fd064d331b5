#!/bin/bash
# ingest_docs.sh - documents (issue 5) through the moat CLI, on the shared corpus
# (read in place) and on PDFs written at test time by tests/data/docs/mkpdf.py:
#  - every corpus document ingests (password.pdf with its password, and fails
#    without it for the README's reason), with the type its content calls for;
#  - word-level F1 against each .gt.txt, each threshold justified beside it;
#  - character error rate of phototest.tif and eurotext.tif equal to the
#    tesseract command's (OMP_THREAD_LIMIT=1) on the same image within one
#    percentage point, both computed here;
#  - header/footer typing, two-column order, table cells, heading levels, lists,
#    captions, de-hyphenation, right-to-left order, /Rotate, a scanned page
#    stored sideways, e-mail attachments as child documents;
#  - malformed inputs (truncated, zero-length, wrong extension, zip bomb, XML
#    bomb, deeply nested MIME): each a clear failure, and nothing stored.
. "$(dirname "$0")/lib.sh"
need_testdata corpus

C=$TESTDATA/corpus
METRICS="$SRC/tests/data/docs/metrics.py"
W=$T/ws
export MOAT_WORKSPACE=$W
"$MOAT" init "$W" >/dev/null || { echo "FAIL: init"; exit 1; }
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# --- the corpus ------------------------------------------------------------------
# The ground-truth side files and the README are not corpus documents.
SKIP=(--exclude '*.gt.*' --exclude '*.source.tex' --exclude README.md)
expect_rc 1 "$MOAT" ingest -j 2 "${SKIP[@]}" "$C/password.pdf" --json
expect_grep "password-protected PDF \(give the password with --password\)" "$T/out" \
	"password.pdf without its password fails for the README's reason"
expect_rc 0 "$MOAT" ingest -j 2 "${SKIP[@]}" --password password "$C" --json
expect_eq "0 26" "$(jget "$T/out" "'%d %d' % (d['counts']['failed'], d['counts']['files'])")" \
	"all 26 corpus documents ingest"
"$MOAT" ls --json > "$T/ls.json"
expect_eq "csv:1 docx:3 email:2 html:2 image:4 markdown:1 pdf:8 pptx:2 text:1 xlsx:2" \
	"$(jget "$T/ls.json" "' '.join('%s:%d' % (t, n) for t, n in sorted(__import__('collections').Counter(x['type'] for x in d).items()))")" \
	"types by content (science-exploration-1p.pptx is 'Microsoft OOXML' to libmagic)"
expect_rc 0 "$MOAT" ingest -j 2 "${SKIP[@]}" --password password "$C"
expect_grep "nothing changed" "$T/out" "a second run changes nothing"

# --- word-level F1 against the ground truth -----------------------------------------
# Thresholds sit a few points under what was measured here (in parentheses), so a
# regression fails while OCR or layout noise does not.  Text is all elements,
# headers and footers included (some ground truths consist of them).
f1_at_least() { # file threshold why
	python3 "$METRICS" text "$MOAT" "$C/$1" > "$T/text.txt"
	local f; f=$(python3 "$METRICS" f1 "$C/$1.gt.txt" "$T/text.txt")
	if python3 -c "import sys; sys.exit(0 if float('$f') >= $2 else 1)"; then ok
	else bad "$1: F1 $f under $2 ($3)"; fi
}
f1_at_least multi_page.pdf 0.97 "measured 0.999; Docling's Markdown"
f1_at_least 2305.03393v1-pg9.pdf 0.95 "0.975; Docling keeps table cells apart that we stack"
f1_at_least multi-column-2p.pdf 0.90 "0.941; the reference keeps hyphen splits, ligatures and the side stamp we drop"
f1_at_least habibi.pdf 1.0 "1.0; two words"
f1_at_least password.pdf 1.0 "1.0; one line"
f1_at_least ocr_test.pdf 0.95 "1.0; a clean scan read by OCR"
f1_at_least phototest.tif 0.97 "1.0; the classic clean page"
f1_at_least eurotext.tif 0.88 "0.918 with eng alone; accents need the language packs"
f1_at_least layout-parser-paper-with-table.jpg 0.70 "0.737, the tesseract command 0.741; the reference is hi_res layout + table output"
f1_at_least handbook-1p.docx 0.97 "1.0"
f1_at_least word_sample.docx 0.94 "0.977; the reference has an image placeholder"
f1_at_least docx-hdrftr.docx 0.90 "0.95; the reference holds only the header and footer"
f1_at_least stanley-cups.xlsx 0.88 "0.919"
f1_at_least xlsx_01.xlsx 0.72 "0.772; Docling adds the data behind two charts"
f1_at_least powerpoint_sample.pptx 0.80 "0.842; Docling repeats merged cells, we add the speaker notes"
f1_at_least science-exploration-1p.pptx 0.97 "1.0"
f1_at_least fake-email.eml 0.95 "1.0"

# --- OCR: character error rate against the tesseract command --------------------------
cer_vs_tesseract() { # image langs
	local ws=$T/ws-$1
	"$MOAT" init "$ws" >/dev/null
	"$MOAT" -w "$ws" ingest --ocr-lang "$2" "$C/$1" >/dev/null 2>&1
	MOAT_WORKSPACE=$ws python3 "$METRICS" text "$MOAT" "$C/$1" > "$T/moat.txt"
	OMP_THREAD_LIMIT=1 tesseract "$C/$1" "$T/tess" -l "$2" >/dev/null 2>&1
	local a b
	a=$(python3 "$METRICS" cer "$C/$1.gt.txt" "$T/moat.txt")
	b=$(python3 "$METRICS" cer "$C/$1.gt.txt" "$T/tess.txt")
	if python3 -c "import sys; sys.exit(0 if abs($a - $b) <= 0.01 else 1)"; then ok
	else bad "$1 ($2): CER $a, the tesseract command $b: more than a point apart"; fi
	echo "CER $1 ($2): moat $a, tesseract $b"
}
if command -v tesseract >/dev/null; then
	cer_vs_tesseract phototest.tif eng
	cer_vs_tesseract eurotext.tif eng+deu+fra+ita+spa+por
else
	bad "the tesseract command is missing (Debian package tesseract-ocr)"
fi
# (a fresh workspace: in $W the TIFF is already in, unchanged, and needs no OCR)
"$MOAT" init "$T/ws-xyz" >/dev/null
expect_rc 1 "$MOAT" -w "$T/ws-xyz" ingest --ocr-lang eng+xyz "$C/phototest.tif"
expect_grep "cannot ingest '.*phototest.tif': OCR language 'xyz' is not installed .*install the Debian package tesseract-ocr-xyz" \
	"$T/err" "a missing language pack names its Debian package"

# --- structure on corpus files ----------------------------------------------------------
python3 - "$MOAT" "$C" <<'PY' && ok || bad "structure of corpus documents (see above)"
import json, subprocess, sys
moat, c = sys.argv[1], sys.argv[2]
errors = []
def show(name):
    return json.loads(subprocess.run([moat, "show", c + "/" + name, "--json"], capture_output=True,
                                     text=True, check=True).stdout)
def check(cond, what):
    if not cond:
        errors.append(what)
def els(d, t=None):
    return [e for e in d["elements"] if t is None or e["type"] == t]
def first(d, s):
    for e in d["elements"]:
        if s in e["text"]:
            return e
    errors.append("no element with %r" % s)
    return {"type": None, "start": -1, "level": None, "meta": {}, "page": None}

d = show("multicolumn.pdf")   # LaTeX twocolumn
full = "\n\n".join(e["text"] for e in d["elements"])
check(first(d, "Two-Column Document")["type"] == "title", "multicolumn: title")
check(first(d, "Nulla malesuada porttitor")["start"] < first(d, "Phasellus adipiscing semper")["start"],
      "multicolumn: the left column is read before the right one")
check("adipiscing elit" in full and "adip- iscing" not in full, "multicolumn: hyphenation undone")
check(first(d, "Table 1: EU Countries")["type"] == "caption", "multicolumn: caption")
t = [e for e in els(d, "table") if "Austria" in e["text"]]
check(len(t) == 1, "multicolumn: one table with Austria")
if t:
    rows = t[0]["meta"]["rows"]
    check(rows[0] == ["Country", "Population (millions)", "Area (km2)", "Capital", "Official Language"],
          "multicolumn: table header cells %r" % rows[0])
    check(["Belgium", "11.5", "30,689", "Brussels", "Dutch, French, German"] in rows, "multicolumn: Belgium row")
    check(t[0]["page"] == 3, "multicolumn: the table is on page 3")
check([e["text"] for e in els(d, "footer")] == ["1", "2", "3"], "multicolumn: page numbers are footers")

d = show("tracemonkey.pdf")   # 14 pages, ACM two columns
check(first(d, "Dynamic languages such as JavaScript are more difficult")["start"] <
      first(d, "and is used for the application logic")["start"], "tracemonkey: column order on page 1")
h = first(d, "1. Introduction"); check(h["type"] == "heading" and h["level"] == 1, "tracemonkey: 1. Introduction")
h = first(d, "3.1 Traces"); check(h["type"] == "heading" and h["level"] == 2, "tracemonkey: 3.1 Traces")
check(len(els(d, "page_break")) == 13 and max(e.get("page", 0) for e in d["elements"]) == 14,
      "tracemonkey: 14 pages, 13 page breaks")
check(all(len(e["meta"]["bbox"]) == 4 for e in d["elements"] if e["type"] != "page_break"),
      "tracemonkey: every element has a box")

d = show("multi-column-2p.pdf")
check(d["meta"].get("rotated_chars_dropped", 0) > 0, "multi-column-2p: the arXiv side stamp is dropped")
check("0202 peS" not in "".join(e["text"] for e in d["elements"]), "multi-column-2p: no side stamp text")

d = show("2305.03393v1-pg9.pdf")
check(first(d, "9")["type"] == "header", "2305: the page number at the top is a header")
check(first(d, "Optimized Table Tokenization")["type"] == "header", "2305: the running title is a header")
h = first(d, "5.1 Hyper Parameter Optimization"); check(h["type"] == "heading" and h["level"] == 2, "2305: heading 5.1")
t = els(d, "table")
check(len(t) == 1 and t[0]["meta"]["ruled"] and t[0]["meta"]["n_cols"] == 8, "2305: one ruled 8-column table")
if t:
    check(["6", "6", "OTSL HTML", "0.965 0.969", "0.934 0.927", "0.955 0.955", "0.88 0.857", "2.73 5.39"]
          in t[0]["meta"]["rows"], "2305: a row of the grid")

d = show("multi_page.pdf")
check(first(d, "Pre-Digital Era")["type"] == "heading", "multi_page: section heading")
check(len(els(d, "list_item")) >= 20, "multi_page: list items")
check(first(d, "Undo/Redo")["type"] == "list_item", "multi_page: numbered item")
check(sorted(set(e["page"] for e in d["elements"])) == [1, 2, 3, 4, 5], "multi_page: pages 1-5")

d = show("habibi.pdf")
check([e["text"] for e in d["elements"]] == ["حَبيبي habibi"], "habibi: logical order %r" % [e["text"] for e in d["elements"]])
d = show("ocr_test.pdf")
check(d["meta"].get("ocr_pages") == [1] and "confidence" in d["elements"][0]["meta"], "ocr_test: page 1 read by OCR")
d = show("password.pdf")
check(d["meta"].get("encrypted") is True, "password.pdf: encrypted, opened with the password")

for name, w, h in (("phototest.tif", 640, 480), ("eurotext.tif", 1024, 800),
                   ("layout-parser-paper-with-table.jpg", 791, 1024),
                   ("table-multi-row-column-cells.png", 1377, 648)):
    d = show(name)
    check((d["meta"].get("width"), d["meta"].get("height")) == (w, h), "%s: width and height" % name)
    check(all("bbox" in e["meta"] and "confidence" in e["meta"] for e in d["elements"]), "%s: boxes, confidence" % name)

d = show("docx-hdrftr.docx")
gt = json.load(open(c + "/docx-hdrftr.docx.gt.json"))
check([e["text"] for e in els(d, "header")] == [gt[0]["text"]], "docx-hdrftr: header %r" % [e["text"] for e in els(d, "header")])
check([e["text"] for e in els(d, "footer")] == [gt[1]["text"]], "docx-hdrftr: footer %r" % [e["text"] for e in els(d, "footer")])
check(d["elements"][0]["type"] == "header" and d["elements"][-1]["type"] == "footer", "docx-hdrftr: header first, footer last")
d = show("handbook-1p.docx")
check([e["text"] for e in els(d, "header")] == ["US Trustee Handbook"], "handbook: header")
check([e["text"] for e in els(d, "footer")] == ["Copyright"], "handbook: footer")
d = show("word_sample.docx")
check(first(d, "Swimming in the lake")["type"] == "title", "word_sample: title")
h = first(d, "Let’s swim!"); check(h["type"] == "heading" and h["level"] == 1, "word_sample: heading 1")
h = first(d, "Let’s eat"); check(h["type"] == "heading" and h["level"] == 2, "word_sample: heading 2")
check(first(d, "Figure 1: This is a cute duckling")["type"] == "caption", "word_sample: caption")
check(len(els(d, "list_item")) == 9, "word_sample: nine list items, not %d" % len(els(d, "list_item")))
t = els(d, "table")
check(len(t) == 1 and t[0]["meta"]["rows"][2] == ["Berries", "Blueberry, Strawberry, Cranberry", "150"], "word_sample: table cells")
d = show("stanley-cups.xlsx")
t = els(d, "table")
check(len(t) == 2 and [e["page"] for e in t] == [1, 2], "stanley-cups: a table per sheet")
check(t and ["Maple Leafs", "TOR", "13"] in t[0]["meta"]["rows"], "stanley-cups: cells")
d = show("xlsx_01.xlsx")
check(len(els(d, "table")) >= 5, "xlsx_01: tables split at empty rows and columns")
d = show("powerpoint_sample.pptx")
check(first(d, "Test Table Slide")["type"] == "title" and first(d, "Second slide title")["page"] == 2,
      "powerpoint_sample: slide titles and pages")
check(first(d, "And baz things")["type"] == "list_item", "powerpoint_sample: bullets")
check(len(els(d, "table")) == 1 and els(d, "table")[0]["meta"]["rows"][2][0] == "R1", "powerpoint_sample: table")
d = show("fake-email-attachment.eml")
check(d["meta"]["subject"] == "Fake email with attachment" and d["meta"]["from"].startswith("Mallori"), "eml: headers")
check(len(d.get("children", [])) == 1, "eml: one child document")
if d.get("children"):
    k = json.loads(subprocess.run([moat, "show", d["children"][0], "--json"], capture_output=True, text=True).stdout)
    check(k.get("parent_id") == d["id"] and k["elements"][0]["text"] == "Hey this is a fake attachment!",
          "eml: the attachment, with its parent")
for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
PY

# --- PDFs made here ---------------------------------------------------------------------
G=$T/gen
python3 "$SRC/tests/data/docs/mkpdf.py" "$G" "$C/layout-parser-paper-with-table.jpg" || bad "mkpdf.py failed"
expect_rc 0 "$MOAT" ingest -j 2 "$G"
python3 - "$MOAT" "$G" <<'PY' && ok || bad "structure of generated PDFs (see above)"
import json, subprocess, sys
moat, g = sys.argv[1], sys.argv[2]
errors = []
def show(name):
    return json.loads(subprocess.run([moat, "show", g + "/" + name, "--json"], capture_output=True,
                                     text=True, check=True).stdout)
def check(cond, what):
    if not cond:
        errors.append(what)

d = show("twocol.pdf")   # lines drawn interleaved left, right, left, ...
types = [e["type"] for e in d["elements"]]
check(types == ["header", "title", "paragraph", "paragraph", "footer", "page_break",
                "header", "paragraph", "paragraph", "footer"], "twocol: element types %r" % types)
for p in (1, 2):
    body = [e["text"] for e in d["elements"] if e.get("page") == p and e["type"] == "paragraph"]
    want = [" ".join("%s column sentence number %d of page %d here." % (side, i, p) for i in range(1, 25))
            for side in ("Left", "Right")]
    check(body == want, "twocol page %d: each column whole and in order" % p)
check([e["text"] for e in d["elements"] if e["type"] == "header"] == ["Journal of Layout Tests, Volume 7"] * 2,
      "twocol: running header typed header on both pages")
check([e["text"] for e in d["elements"] if e["type"] == "footer"] == ["1", "2"], "twocol: page numbers typed footer")

d = show("struct.pdf")
def el(s):
    for e in d["elements"]:
        if e["text"] == s:
            return e
    errors.append("struct: no element %r" % s)
    return {"type": None, "level": None, "meta": {}}
check(el("Quarterly Report")["type"] == "title", "struct: title")
e = el("1 Introduction"); check((e["type"], e.get("level")) == ("heading", 1), "struct: heading level 1")
e = el("1.1 Background"); check((e["type"], e.get("level")) == ("heading", 2), "struct: heading level 2")
check(el("This paragraph explains the purpose of the report and gives an example of a word broken "
         "across two lines, which must come out whole. It ends here.")["type"] == "paragraph", "struct: paragraph, de-hyphenated")
check(el("first bullet item of the list")["type"] == "list_item" and
      el("second bullet item of the list")["type"] == "list_item", "struct: bullets")
check(el("Table 1: Results of the ruled test")["type"] == "caption", "struct: table caption")
check(el("Figure 1: A figure caption under nothing")["type"] == "caption", "struct: figure caption")
t = el("Name | Score | Rank\nAlpha | 91 | 1\nBeta | 85 | 2")
check(t["type"] == "table" and t["meta"].get("ruled") is True and
      t["meta"]["rows"] == [["Name", "Score", "Rank"], ["Alpha", "91", "1"], ["Beta", "85", "2"]], "struct: ruled grid")
t = el("City | Population | Area\nSpringfield | 30720 | 115\nShelbyville | 27400 | 98\nCapital City | 120500 | 330")
check(t["type"] == "table" and t["meta"].get("ruled") is False and t["meta"]["n_cols"] == 3, "struct: aligned table")
check(all(len(e["meta"]["bbox"]) == 4 and e.get("page") == 1 for e in d["elements"]), "struct: page and box everywhere")

d = show("rtl.pdf")
check([e["text"] for e in d["elements"]] == ["שלום עולם", "שנת 2024 טובה", "Plain English line."],
      "rtl: logical order %r" % [e["text"] for e in d["elements"]])
d = show("rotated.pdf")
check([e["text"] for e in d["elements"]] == ["Rotated page text reads upright"], "rotated: /Rotate 90 text")
d = show("scans.pdf")   # read by two OCR helper processes (-j 2)
check(d["meta"].get("ocr_pages") == [1, 2], "scans: both pages read by OCR")
pages = [e["page"] for e in d["elements"]]
check(pages == sorted(pages) and pages[0] == 1 and pages[-1] == 2, "scans: elements in page order")
for p in (1, 2):
    text = " ".join(e["text"] for e in d["elements"] if e.get("page") == p)
    check("LayoutParser" in text and "layout detection models" in text,
          "scans page %d: reads (page 1 is stored sideways, /Rotate turns it upright)" % p)
for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
PY

# --- --ocr never and --ocr always ------------------------------------------------------------
W2=$T/ws-ocr
"$MOAT" init "$W2" >/dev/null
expect_rc 1 "$MOAT" -w "$W2" ingest --ocr never "$C/ocr_test.pdf" "$C/phototest.tif" --json
expect_grep "no text layer \(scanned pages\) and --ocr never" "$T/out" "a scan without OCR fails, saying why"
"$MOAT" -w "$W2" show "$C/phototest.tif" --json > "$T/s.json"
expect_eq "0 640 480" "$(jget "$T/s.json" "'%d %d %d' % (len(d['elements']), d['meta']['width'], d['meta']['height'])")" \
	"an image without OCR: no elements, its size recorded"
expect_rc 0 "$MOAT" -w "$W2" ingest --ocr always "$G/struct.pdf"
"$MOAT" -w "$W2" show "$G/struct.pdf" --json > "$T/s.json"
expect_eq "True [1]" "$(jget "$T/s.json" "'%s %s' % (all(e['meta'].get('ocr') for e in d['elements']), d['meta']['ocr_pages'])")" \
	"--ocr always reads a page with a text layer by OCR"
expect_grep "Quarterly Report" "$T/s.json" "and reads it"

# --- malformed inputs: a clear failure each, nothing stored -------------------------------
B=$T/bad
mkdir -p "$B"
head -c 40000 "$C/multicolumn.pdf" > "$B/truncated.pdf"
head -c 5000 "$C/word_sample.docx" > "$B/truncated.docx"
head -c 20000 "$C/table-multi-row-column-cells.png" > "$B/truncated.png"
: > "$B/zero.pdf"
: > "$B/zero.docx"
echo "this is plain text, not a PDF" > "$B/wrong.pdf"
printf '\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1%0512d' 0 > "$B/legacy.doc"
python3 - "$B" <<'PY'
import io, sys, zipfile
b = sys.argv[1]
ct = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
      'officedocument.wordprocessingml.document.main+xml"/></Types>')
def docx(path, document):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("word/document.xml", document)
# zip bomb: 64 MiB of zeros in one part, about 64 KiB packed
docx(b + "/zipbomb.docx", b"\0" * (64 << 20))
lol = '<!ENTITY lol "lol">' + "".join(
    '<!ENTITY lol%d "%s">' % (i, ("&lol%s;" % (i - 1 if i > 1 else "")) * 10) for i in range(1, 10))
docx(b + "/xmlbomb.docx", '<?xml version="1.0"?><!DOCTYPE lolz [%s]><document>&lol9;</document>' % lol)
mime = "From: a@example.org\nSubject: deep\n"
for i in range(60):
    mime += "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i)
mime += "Content-Type: text/plain\n\nbottom\n"
open(b + "/deep.eml", "w").write(mime)
PY
"$MOAT" ls --json > "$T/before.json"
expect_rc 1 "$MOAT" ingest -j 2 "$B" --json
cp "$T/out" "$T/bad.json"
expect_eq 10 "$(jget "$T/bad.json" "d['counts']['failed']")" "every malformed file fails"
reason() { jget "$T/bad.json" "[f['error'] for f in d['failures'] if f['path'].endswith('/$1')][0]"; }
expect_grep "truncated PDF" <(reason truncated.pdf) "truncated PDF"
expect_grep "damaged zip archive" <(reason truncated.docx) "truncated DOCX"
expect_grep "truncated png image" <(reason truncated.png) "truncated PNG"
expect_grep "^empty file \(0 bytes" <(reason zero.pdf) "zero-length PDF"
expect_grep "^empty file \(0 bytes" <(reason zero.docx) "zero-length DOCX"
expect_grep "not a PDF file: the extension says .pdf but the content is text/plain" <(reason wrong.pdf) "wrong extension"
expect_grep "legacy Word \(.doc\) files are not supported" <(reason legacy.doc) "legacy .doc"
expect_grep "expands more than 200 times \(zip bomb\?\)" <(reason zipbomb.docx) "zip bomb"
expect_grep "declares a DTD \(refused: entity expansion and external entities are off\)" <(reason xmlbomb.docx) "XML bomb"
expect_grep "MIME parts nested more than 16 deep" <(reason deep.eml) "deeply nested MIME"
# Nothing half-stored: the failed files have no document and no elements.
python3 - "$W/moat.db" "$T/bad.json" <<'PY' && ok || bad "a failed file left rows behind"
import hashlib, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for f in json.load(open(sys.argv[2]))["failures"]:
    h = hashlib.sha256(open(f["path"], "rb").read()).hexdigest()
    n = db.execute("SELECT (SELECT count(*) FROM documents WHERE id = ?) + "
                   "(SELECT count(*) FROM elements WHERE doc_id = ?)", (h, h)).fetchone()[0]
    if n:
        print("  %s: %d rows" % (f["path"], n)); sys.exit(1)
    st = db.execute("SELECT status FROM files WHERE path = ? ORDER BY version DESC", (f["path"],)).fetchone()
    if not st or st[0] != "failed":
        print("  %s: not recorded as failed" % f["path"]); sys.exit(1)
PY
expect_rc 0 "$MOAT" audit verify
finish
