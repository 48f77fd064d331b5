#!/bin/bash
# import.sh - `moat import` and the annotation exports, through the commands:
#  - round trips on every sample in fixtures/annotation: import, export in
#    the same format, import the export, and compare the two projects by
#    meaning (labels and spans equal, boxes within 0.5 px);
#  - cross-format: COCO -> YOLO -> COCO, and doccano spans -> spaCy -> CoNLL
#    -> spaCy agree;
#  - non-ASCII, emoji, combining marks and right-to-left text keep exact
#    spans;
#  - a malformed file is named with its line and field, and nothing of it is
#    imported; --status submitted is not exported unless asked for;
#  - images are ingested as documents; imported text needs --raw to leave.
. "$(dirname "$0")/lib.sh"
need_testdata fixtures/annotation
F="$TESTDATA/fixtures/annotation"
W="$T/ws"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
m() { "$MOAT" -w "$W" "$@"; }

# same P1 P2: the projects hold the same items with the same annotations
same() {
	python3 - "$W/moat.db" "$1" "$2" <<'PY'
import json, os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def load(project):
    items = {}
    rows = db.execute(
        "SELECT t.id, t.kind, t.text, t.image, t.name, a.value FROM tasks t JOIN projects p"
        " ON p.id = t.project_id LEFT JOIN annotations a ON a.task_id = t.id WHERE p.name = ?"
        " ORDER BY t.id, a.id", (project,))
    for tid, kind, text, image, name, value in rows:
        key = text if kind == "text" else os.path.basename(image or name or "")
        v = json.loads(value) if value else {}
        boxes = sorted(tuple(b[:5]) for b in v.get("boxes", []))
        spans = sorted(tuple(s) for s in v.get("spans", []))
        labels = sorted(v.get("labels", []))
        items.setdefault(key, []).append((labels, spans, boxes))
    return items
a, b = load(sys.argv[2]), load(sys.argv[3])
if not a:
    sys.exit("project %s is empty" % sys.argv[2])
if set(a) != set(b):
    sys.exit("items differ: only in %s: %s; only in %s: %s" % (
        sys.argv[2], sorted(set(a) - set(b))[:3], sys.argv[3], sorted(set(b) - set(a))[:3]))
for k in a:
    # one annotation per item is what most formats carry: compare the first
    la, sa, ba = a[k][0]
    lb, sb, bb = b[k][0]
    if la != lb or sa != sb:
        sys.exit("%r: labels/spans %r %r != %r %r" % (k, la, sa, lb, sb))
    if len(ba) != len(bb):
        sys.exit("%r: %d boxes != %d" % (k, len(ba), len(bb)))
    for x, y in zip(ba, bb):
        if x[4] != y[4] or any(abs(p - q) > 0.5 for p, q in zip(x[:4], y[:4])):
            sys.exit("%r: box %r != %r" % (k, x, y))
print("%d items agree" % len(a))
PY
}
# data DIR: the data files of an export (not its card, MANIFEST or audit/)
data() { find "$1" -type f ! -name MANIFEST ! -name README.md ! -path '*/audit/*' | sort; }

# --- round trips: import, export in the same format, import again, compare ---
roundtrip() { # name format path... (paths: what to import)
	local name=$1 fmt=$2; shift 2
	expect_rc 0 m import --format "$fmt" --project "$name" "$@"
	expect_rc 0 m export --format "$fmt" --project "$name" --out "$T/rt-$name" --raw
	expect_rc 0 "$MOAT" exports verify "$T/rt-$name"
	case $fmt in
	coco|yolo|voc) expect_rc 0 m import --format "$fmt" --project "$name-back" "$T/rt-$name" ;;
	*) expect_rc 0 m import --format "$fmt" --project "$name-back" $(data "$T/rt-$name") ;;
	esac
	if out=$(same "$name" "$name-back" 2>&1); then ok; else bad "$name round trip: $out"; fi
}
roundtrip coco coco "$F/coco/datumaro_instances"
roundtrip yolo8 yolo "$F/yolo/datumaro_yolov8_detection"
roundtrip yolols yolo "$F/yolo/lssdk_unif_dims"
roundtrip voc voc "$F/voc/datumaro_voc3"
roundtrip conll conll "$F/conll/flair_fashion"
roundtrip dccls doccano "$F/doccano/text_classification_example.jsonl"
roundtrip dcrel doccano "$F/doccano/relation_extraction_example.jsonl"
roundtrip ls label-studio "$F/labelstudio/lssdk_export_yolo/data.json"

# images became documents (objects in the workspace)
n=$(sqlite3 "$W/moat.db" "SELECT count(*) FROM tasks t JOIN documents d ON d.id = t.doc_id WHERE t.kind = 'image'")
[ "$n" -gt 0 ] && ok || bad "image tasks name their ingested documents"

# --- cross-format -----------------------------------------------------------
expect_rc 0 m export --format yolo --project coco --out "$T/c2y"
expect_rc 0 m import --format yolo --project c2y "$T/c2y"
expect_rc 0 m export --format coco --project c2y --out "$T/y2c"
expect_rc 0 m import --format coco --project y2c "$T/y2c"
if out=$(same coco y2c 2>&1); then ok; else bad "COCO -> YOLO -> COCO: $out"; fi

# --- exact spans in any script; doccano -> spaCy -> CoNLL -> spaCy ------------
python3 - "$T/multi.jsonl" <<'PY'
import json, sys
rows = [("Zoë Ångström met José in Köln 😀 then left.", [("Zoë Ångström", "PER"), ("José", "PER"), ("Köln", "LOC")]),
        ("שלום Dana, ברוכה הבאה ל תל אביב", [("Dana", "PER"), ("תל אביב", "LOC")]),
        ("👩‍💻 Ana Lucía works at Ñandú 🇪🇸 Labs", [("Ana Lucía", "PER"), ("Ñandú 🇪🇸 Labs", "ORG")]),
        ("e\u0301te\u0301 by Rene\u0301 in Montre\u0301al", [("Rene\u0301", "PER"), ("Montre\u0301al", "LOC")])]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i, (text, ents) in enumerate(rows):
        label = [[text.index(w), text.index(w) + len(w), lab] for w, lab in ents]
        f.write(json.dumps({"id": i + 1, "text": text, "label": label}, ensure_ascii=False) + "\n")
PY
expect_rc 0 m import --format doccano --project multi "$T/multi.jsonl"
expect_rc 0 m export --format spacy --project multi --out "$T/m-spacy" --raw
python3 - "$T/multi.jsonl" $(data "$T/m-spacy") <<'PY' && ok || bad "spans in the spaCy export are exact"
import json, sys
want = {}
for l in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(l)
    want[r["text"]] = sorted((s, e, r["text"][s:e], lab) for s, e, lab in r["label"])
got = {}
for p in sys.argv[2:]:
    for l in open(p, encoding="utf-8"):
        r = json.loads(l)
        got[r["text"]] = sorted((s, e, r["text"][s:e], lab) for s, e, lab in r["spans"])
assert got == want, (got, want)
PY
expect_rc 0 m import --format spacy --project m-spacy $(data "$T/m-spacy")
if out=$(same multi m-spacy 2>&1); then ok; else bad "doccano -> spaCy: $out"; fi
expect_rc 0 m export --format conll --project m-spacy --out "$T/m-conll" --raw
expect_rc 0 m import --format conll --project m-conll $(data "$T/m-conll")
expect_rc 0 m export --format spacy --project m-conll --out "$T/m-spacy2" --raw
# CoNLL keeps tokens, not the spaces between them: compare the labelled words
python3 - $(data "$T/m-spacy") -- $(data "$T/m-spacy2") <<'PY' && ok || bad "spaCy -> CoNLL -> spaCy keeps every labelled span"
import json, sys
i = sys.argv.index("--")
def words(paths):
    out = set()
    for p in paths:
        for l in open(p, encoding="utf-8"):
            r = json.loads(l)
            for s, e, lab in r["spans"]:
                out.add((" ".join(r["text"][s:e].split()), lab))
    return out
a, b = words(sys.argv[1:i]), words(sys.argv[i + 1:])
assert a == b, (a ^ b)
PY

# Label Studio spans -> spaCy -> CoNLL: the same labelled words
python3 - "$T/multi.jsonl" "$T/ls-spans.json" <<'PY'
import json, sys
tasks = []
for i, l in enumerate(open(sys.argv[1], encoding="utf-8")):
    r = json.loads(l)
    res = [{"id": "r%d" % k, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": s, "end": e, "text": r["text"][s:e], "labels": [lab]}}
           for k, (s, e, lab) in enumerate(r["label"])]
    tasks.append({"id": i + 1, "data": {"text": r["text"]},
                  "annotations": [{"id": i + 1, "completed_by": 7, "result": res}]})
json.dump(tasks, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
expect_rc 0 m import --format label-studio --project ls-spans "$T/ls-spans.json"
if out=$(same multi ls-spans 2>&1); then ok; else bad "Label Studio spans import: $out"; fi
expect_rc 0 m export --format spacy --project ls-spans --out "$T/ls-spacy" --raw
expect_rc 0 m import --format spacy --project ls-spacy $(data "$T/ls-spacy")
expect_rc 0 m export --format conll --project ls-spacy --out "$T/ls-conll" --raw
expect_rc 0 m import --format conll --project ls-conll $(data "$T/ls-conll")
expect_rc 0 m export --format spacy --project ls-conll --out "$T/ls-spacy2" --raw
python3 - $(data "$T/ls-spacy") -- $(data "$T/ls-spacy2") <<'PY' && ok || bad "Label Studio -> spaCy -> CoNLL keeps every labelled span"
import json, sys
i = sys.argv.index("--")
def words(paths):
    out = set()
    for p in paths:
        for l in open(p, encoding="utf-8"):
            r = json.loads(l)
            for s, e, lab in r["spans"]:
                out.add((" ".join(r["text"][s:e].split()), lab))
    return out
a, b = words(sys.argv[1:i]), words(sys.argv[i + 1:])
assert a == b and len(a) >= 9, (a ^ b)
PY

# --- stratified splits: each label's share within one record of its target ----
python3 - "$T/cls.jsonl" <<'PY'
import json, random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    for i in range(157):
        lab = random.choice(["spam"] * 6 + ["ham"] * 3 + ["rare"])
        f.write(json.dumps({"id": i, "text": "message %d about %s" % (i, random.random()), "label": [lab]}) + "\n")
PY
expect_rc 0 m import --format doccano --project cls "$T/cls.jsonl"
expect_rc 0 m export --format jsonl --project cls --out "$T/cls-split" --raw --split 80/10/10 --seed x
python3 - "$T/cls-split" <<'PY' && ok || bad "each label within one record of its target in each split"
import json, os, sys
ratio = {"train": 0.8, "val": 0.1, "test": 0.1}
count, total = {}, {}
for s in ratio:
    for l in open(os.path.join(sys.argv[1], s + ".jsonl")):
        lab = json.loads(l)["labels"][0]
        count[(lab, s)] = count.get((lab, s), 0) + 1
        total[lab] = total.get(lab, 0) + 1
for lab, n in total.items():
    for s, r in ratio.items():
        assert abs(count.get((lab, s), 0) - n * r) < 1, (lab, s, count.get((lab, s), 0), n * r)
PY

# --- imported text needs --raw; statuses ---------------------------------------
expect_rc 2 m export --format spacy --project multi --out "$T/needs-raw"
expect_grep "not cleaned.*--raw" "$T/err" "imported text is refused without --raw"
[ ! -e "$T/needs-raw" ] && ok || bad "a refused export left its directory"
expect_rc 0 m import --format doccano --project pending --status submitted "$T/multi.jsonl"
expect_rc 0 m export --format jsonl --project pending --out "$T/p-acc" --raw --json
expect_eq 0 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$T/out")" \
	"submitted annotations are not exported by default"
expect_rc 0 m export --format jsonl --project pending --out "$T/p-sub" --raw --status submitted --json
expect_eq 4 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$T/out")" \
	"--status submitted exports them"
ann=$(sqlite3 "$W/moat.db" "SELECT DISTINCT annotator FROM annotations a JOIN tasks t ON t.id = a.task_id JOIN projects p ON p.id = t.project_id WHERE p.name = 'ls'" | head -1)
expect_eq "$(id -un)" "${ann%%:*}" "an imported annotation's annotator starts with the importing user"

# --- malformed input: one line naming file, record and field; nothing imported --
before=$(sqlite3 "$W/moat.db" "SELECT count(*) FROM tasks")
python3 - "$F/labelstudio/lssdk_export_yolo/data.json" "$T/bad.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d[-1]["annotations"][0]["result"][0]["value"]["x"] = "left"
json.dump(d, open(sys.argv[2], "w"))
PY
expect_rc 1 m import --format label-studio "$T/bad.json"
expect_grep "bad.json: record [0-9]+: field '[^']*value.x'" "$T/err" "the malformed file, record and field"
[ "$(wc -l <"$T/err")" = 1 ] && ok || bad "one line of error, got: $(cat "$T/err")"
after=$(sqlite3 "$W/moat.db" "SELECT count(*) FROM tasks")
expect_eq "$before" "$after" "nothing of a malformed file is imported"
expect_rc 0 m audit verify
finish
