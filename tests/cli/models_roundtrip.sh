#!/bin/bash
# models_roundtrip.sh - bundle -> verify -> install across a pretend air gap:
# into an empty store and into a store that already holds other models (the
# real fixture manifests), with `list` equal before and after; SHA256SUMS
# checks with coreutils; signing; split volumes; rerun, --force, rm, import,
# and --include-self with its install script.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/models_common.sh"
need_testdata fixtures/ollama
need_testdata models

S=$T/staging; mk_healthy_store "$S"
B=$T/media/bundle
"$MOAT" keys generate --out "$T/key" >/dev/null
expect_eq 600 "$(stat -c %a "$T/key")" "private key mode"

expect_rc 0 "$MOAT" models bundle tiny:latest TINY:chat --models-dir "$S" --to "$B" --sign "$T/key" -j 2
expect_grep 'bundled 2 models \(7 blobs' "$T/out" "shared model blob carried once"
expect_eq 1 "$(ls "$B/blobs" | grep -c "$(sha256sum "$TESTDATA/models/llama-2-tiny-random.gguf" | cut -c1-64)")" "model blob once"
(cd "$B" && sha256sum -c --quiet SHA256SUMS) && ok || bad "sha256sum -c fails in the bundle"
# manifests are byte-exact copies
cmp -s "$S/manifests/registry.ollama.ai/library/tiny/chat" "$B/manifests/registry.ollama.ai/library/tiny/chat" && ok || bad "manifest not byte-exact"
python3 -c '
import json,sys
b=json.load(open(sys.argv[1]))
assert b["format"]=="moat-bundle" and b["moat_version"] and b["source_store"]
m={x["name"]:x for x in b["models"]}
t=m["tiny:chat"]
assert t["gguf"]["architecture"]=="llama" and t["gguf"]["context_length"]==4096, t["gguf"]
assert t["licenses"]==["LICENSE TEXT for registry.ollama.ai/library/tiny/chat"], t["licenses"]
assert any(l["mediaType"].endswith(".system") for l in t["layers"])
' "$B/bundle.json" && ok || bad "bundle.json lacks models, layers, GGUF facts or licenses"

expect_rc 0 "$MOAT" models verify "$B" --trust "$T/key.pub" -j 2
expect_grep '^signature: valid' "$T/out" "signature checked"
expect_rc 0 "$MOAT" models verify "$B" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["status"]=="ok" and d["files"]==10, d' "$T/out" && ok || bad "verify --json"

# into an empty store
E=$T/target-empty
expect_rc 0 "$MOAT" models install "$B" --models-dir "$E" --trust "$T/key.pub"
expect_grep 'installed 2 models' "$T/out" "install summary"
expect_grep '^tiny:chat ' "$T/out" "install ends with the models now available"
expect_eq "$(list_sig "$S")" "$(list_sig "$E")" "list equal before and after (empty store)"
expect_rc 0 "$MOAT" models fsck --models-dir "$E"
cmp -s "$S/manifests/registry.ollama.ai/library/tiny/latest" "$E/manifests/registry.ollama.ai/library/tiny/latest" && ok || bad "installed manifest not byte-exact"
expect_eq 644 "$(stat -c %a "$E/manifests/registry.ollama.ai/library/tiny/latest")" "manifest mode"

# into a store that already holds other models
O=$T/target-other; mk_fixture_store "$O"
before=$(list_sig "$O")
expect_rc 0 "$MOAT" models install "$B" --models-dir "$O"
after=$(list_sig "$O")
expect_eq "$(printf '%s\n%s\n' "$before" "$(list_sig "$S")" | sort)" "$(echo "$after" | sort)" "list equal: old models untouched, new ones as on staging"

# run as root on a store owned by a service user: new files are the user's
if [ "$(id -u)" = 0 ]; then
	U=$T/target-owned; mkdir -p "$U"; chown 4242:4243 "$U"
	expect_rc 0 "$MOAT" models install "$B" --models-dir "$U"
	expect_eq "" "$(find "$U" ! -user 4242 -o ! -group 4243)" "everything installed belongs to the store's owner"
fi

# rerun: nothing copied again
expect_rc 0 "$MOAT" models install "$B" --models-dir "$E"
expect_grep '0 blobs copied, 7 already present' "$T/out" "rerun copies nothing"

# a different manifest under the same name: refused unless --force
printf '{"schemaVersion":2}' > "$E/manifests/registry.ollama.ai/library/tiny/chat"
expect_rc 1 "$MOAT" models install "$B" --models-dir "$E"
expect_grep "already holds a different 'tiny:chat'" "$T/err" "conflict named"
expect_rc 0 "$MOAT" models install "$B" --models-dir "$E" --force
expect_eq "$(list_sig "$S")" "$(list_sig "$E")" "--force restores"

# split volumes for FAT32-like media, reassembled by verify and install
expect_rc 0 "$MOAT" models bundle tiny --models-dir "$S" --to "$T/split" --split-size 400k
expect_eq 5 "$(ls "$T/split/blobs" | grep -c '\.part-')" "1.75 MB model blob cut into 5 parts of 400 kB"
big=$(stat -c %s "$T/split/blobs/"*.part-0001)
expect_eq 400000 "$big" "part size"
(cd "$T/split" && sha256sum -c --quiet SHA256SUMS) && ok || bad "sha256sum -c fails on parts"
expect_rc 0 "$MOAT" models verify "$T/split"
expect_rc 0 "$MOAT" models install "$T/split" --models-dir "$T/from-split"
blob=$(sha256sum "$TESTDATA/models/llama-2-tiny-random.gguf" | cut -c1-64)
cmp -s "$TESTDATA/models/llama-2-tiny-random.gguf" "$T/from-split/blobs/sha256-$blob" && ok || bad "reassembled blob differs"

# bundling again into the same directory resumes and re-checks
expect_rc 0 "$MOAT" models bundle tiny:latest tiny:chat --models-dir "$S" --to "$B" --sign "$T/key"
expect_grep 'resumed: 7 file' "$T/out" "rerun keeps what is already right"
# what a kill can leave: only the marker's temporary file, or an index's
mkdir -p "$T/killed"; : > "$T/killed/.moat-bundle.tmp-AbC123"
expect_rc 0 "$MOAT" models bundle tiny --models-dir "$S" --to "$T/killed"
: > "$T/killed/SHA256SUMS.tmp-XyZ789"; : > "$T/killed/blobs/.moat-tmp-sha256-x-123456"
expect_rc 0 "$MOAT" models bundle tiny --models-dir "$S" --to "$T/killed"
expect_rc 0 "$MOAT" models verify "$T/killed"
# a foreign non-empty directory is refused
mkdir -p "$T/foreign"; echo x > "$T/foreign/file"
expect_rc 1 "$MOAT" models bundle tiny --models-dir "$S" --to "$T/foreign"
expect_grep 'not a moat bundle' "$T/err" "foreign directory refused"
# an unknown model is named
expect_rc 1 "$MOAT" models bundle nothere --models-dir "$S" --to "$T/b2"
expect_grep "model 'nothere:latest' not found" "$T/err" "unknown model named"
# a model whose blobs are missing cannot be bundled
mk_fixture_store "$T/fx"
expect_rc 1 "$MOAT" models bundle qwen2:0.5b --models-dir "$T/fx" --to "$T/b3"
expect_grep 'blob sha256:2184ab82477b.* is missing' "$T/err" "missing blob named"

# rm: shared blobs stay while another model uses them
expect_rc 0 "$MOAT" models rm tiny:chat --models-dir "$E"
expect_grep "deleted 'tiny:chat'" "$T/out" "rm names the model"
expect_rc 0 "$MOAT" models fsck --models-dir "$E"
expect_rc 0 "$MOAT" models list --models-dir "$E" --json
expect_eq 1 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/out")" "one model left"

# import a GGUF with a chat template; OLLAMA_MODELS names the store
mk_gguf "$T/chat.gguf" 0.5 '{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>{{ m.content }}<|eot_id|>{% endfor %}'
OLLAMA_MODELS="$T/imp" expect_rc 0 "$MOAT" models import "$T/chat.gguf" --name mine/chat:q
expect_grep 'chat template: llama3-instruct' "$T/out" "template family recognised"
OLLAMA_MODELS="$T/imp" expect_rc 0 "$MOAT" models list
expect_grep '^mine/chat:q +[0-9a-f]{12} .* llama ' "$T/out" "imported model listed"
expect_rc 0 "$MOAT" models fsck --models-dir "$T/imp"
expect_eq 0 "$(grep -c . "$T/out" | awk '{print ($1>1)}')" "fsck of an imported store is clean"
m=$(cat "$T/imp/manifests/registry.ollama.ai/mine/chat/q")
case "$m" in *'"application/vnd.ollama.image.template"'*'"application/vnd.ollama.image.params"'*) ok;; *) bad "import: no template/params layers: $m";; esac
expect_rc 1 "$MOAT" models import "$T/key" --name bad --models-dir "$T/imp"
expect_grep 'not a GGUF' "$T/err" "import refuses a non-GGUF"

# --include-self: moat and its libraries travel, install.sh puts them in place
expect_rc 0 "$MOAT" models bundle tiny --models-dir "$S" --to "$T/self" --include-self
[ -f "$T/self/moat/bin/moat" ] && [ -f "$T/self/moat/install.sh" ] && ok || bad "moat/ missing"
ls "$T/self/moat/lib" | grep -q '^libjansson\.so' && ok || bad "libjansson not carried"
# Tesseract and Leptonica are loaded on first need, not linked: carried all
# the same, with what only they need (libtiff, libwebp)
for l in libtesseract.so.5 liblept.so.5 libtiff.so libwebp.so; do
	ls "$T/self/moat/lib" | grep -q "^${l//./\\.}" && ok || bad "$l not carried"
done
ls "$T/self/moat/lib" | grep -q '^libc\.so' && bad "glibc carried" || ok
expect_rc 0 "$MOAT" models verify "$T/self"
expect_rc 0 sh "$T/self/moat/install.sh" "$T/prefix"
expect_rc 0 "$T/prefix/bin/moat" models verify "$B"

# usage errors
expect_rc 2 "$MOAT" models bundle tiny
expect_rc 2 "$MOAT" models frobnicate
expect_rc 2 "$MOAT" models bundle tiny --to "$T/x" --split-size 4Q
expect_rc 0 "$MOAT" models --help
expect_grep '3 a file is corrupt' "$T/out" "exit statuses in --help"
expect_rc 0 "$MOAT" keys --help
finish
