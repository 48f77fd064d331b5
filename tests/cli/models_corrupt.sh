#!/bin/bash
# models_corrupt.sh - damage every kind of file of a bundle and of a store,
# one way at a time (flip one byte, truncate, delete, rename, add a stray
# file): verify (exit 3) and fsck (exit 1) must notice and name the file.
# A tampered signature or another key gives verify's exit 4.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/models_common.sh"
need_testdata fixtures/ollama
need_testdata models

S=$T/store; mk_healthy_store "$S"
"$MOAT" keys generate --out "$T/key" >/dev/null
"$MOAT" keys generate --out "$T/other" >/dev/null
"$MOAT" models bundle tiny:latest tiny:chat --models-dir "$S" --to "$T/pristine" --sign "$T/key" >/dev/null || bad "bundle"
"$MOAT" models bundle tiny:latest --models-dir "$S" --to "$T/pristine-split" --split-size 400k >/dev/null || bad "split bundle"

flip() { python3 -c '
import os,sys
p=sys.argv[1]; n=os.path.getsize(p); f=open(p,"r+b"); f.seek(n//2); c=f.read(1); f.seek(n//2); f.write(bytes([c[0]^0xff]))' "$1"; }
shorten() { truncate -s "-$(( $(stat -c %s "$1") > 4 ? 4 : 1 ))" "$1"; }

# kind -> file, from bundle.json
kinds() { python3 -c '
import json,sys
b=json.load(open(sys.argv[1]+"/bundle.json"))
for x in b["blobs"]:
    t=x["mediaType"].split(".")[-1] if "ollama" in x["mediaType"] else "config"
    print(t, x["files"][-1]["path"])
print("manifest", b["models"][0]["manifest"])
print("index", "bundle.json")
print("checksums", "SHA256SUMS")' "$1" | sort -u -k1,1; }

check_bundle() { # pristine op kind rel
	local W=$T/work; rm -rf "$W"; cp -r "$1" "$W"
	local f="$W/$4" name; name=$(basename "$4")
	case $2 in
	flip) flip "$f" ;;
	truncate) shorten "$f" ;;
	delete) rm "$f" ;;
	rename) mv "$f" "$f.renamed" ;;
	esac
	"$MOAT" models verify "$W" >"$T/vout" 2>&1; local rc=$?
	if [ "$rc" = 3 ] && grep -qF -- "$name" "$T/vout"; then ok
	else bad "bundle: $2 of the $3 file '$4': verify exited $rc, expected 3 naming it: $(head -c 300 "$T/vout")"; fi
	if [ "$2" = rename ] && ! grep -qF "$name.renamed: unexpected file" "$T/vout"; then
		bad "bundle: renamed $3 file not named as unexpected"; fi
}

n=0
while read -r kind rel; do
	for op in flip truncate delete rename; do check_bundle "$T/pristine" $op "$kind" "$rel"; done
	n=$((n + 1))
done < <(kinds "$T/pristine")
expect_eq 9 "$n" "kinds of bundle file covered (config, model, template, license, params, system, manifest, bundle.json, SHA256SUMS)"
part=$(cd "$T/pristine-split" && ls blobs/*.part-0003)
for op in flip truncate delete rename; do check_bundle "$T/pristine-split" $op "split part" "$part"; done

# a flipped byte in the model blob names what was expected and what was found
W=$T/work; rm -rf "$W"; cp -r "$T/pristine" "$W"
model=$(kinds "$T/pristine" | awk '$1=="model"{print $2}')
flip "$W/$model"
expect_rc 3 "$MOAT" models verify "$W" --json
python3 -c '
import json,sys
d=json.load(open(sys.argv[1])); p=d["problems"][0]
assert d["status"]=="corrupt" and p["path"]==sys.argv[2] and p["expected"].startswith("sha256:") and p["found"]!=p["expected"], d' "$T/out" "$model" && ok || bad "verify --json: problem lacks path/expected/found"

# a wrong line in SHA256SUMS while the file is intact: SHA256SUMS is named
rm -rf "$W"; cp -r "$T/pristine" "$W"
python3 -c '
import sys
p=sys.argv[1]; t=open(p).read(); c="1" if t[0]!="1" else "2"; open(p,"w").write(c+t[1:])' "$W/SHA256SUMS"
expect_rc 3 "$MOAT" models verify "$W"
expect_grep '^CORRUPT  SHA256SUMS: wrong checksum line' "$T/out" "bad checksum line blamed on SHA256SUMS"

# stray files anywhere
for where in blobs/stray.bin manifests/registry.ollama.ai/library/tiny/extra notes.txt blobs/._sha256-x; do
	rm -rf "$W"; cp -r "$T/pristine" "$W"; mkdir -p "$(dirname "$W/$where")"; echo junk > "$W/$where"
	expect_rc 3 "$MOAT" models verify "$W"
	expect_grep "$where: unexpected file" "$T/out" "stray $where named"
done

# signatures: tampered, deleted, another key, no key asked
rm -rf "$W"; cp -r "$T/pristine" "$W"
expect_rc 0 "$MOAT" models verify "$W" --trust "$T/key.pub"
expect_rc 4 "$MOAT" models verify "$W" --trust "$T/other.pub"
expect_grep 'signed by key [0-9a-f]{16}, not by the trusted key' "$T/out" "wrong key named"
python3 -c '
import json,sys
p=sys.argv[1]; s=json.load(open(p)); sig=s["signature"]; s["signature"]=("B" if sig[0]!="B" else "C")+sig[1:]
open(p,"w").write(json.dumps(s))' "$W/bundle.sig"
expect_rc 4 "$MOAT" models verify "$W" --trust "$T/key.pub"
expect_grep 'signature does not match' "$T/out" "tampered signature"
rm "$W/bundle.sig"
expect_rc 4 "$MOAT" models verify "$W" --trust "$T/key.pub"
expect_grep 'bundle.sig is missing' "$T/out" "missing signature"
expect_rc 0 "$MOAT" models verify "$W"
# bundle.json changed and SHA256SUMS recomputed to match: only the signature sees it
rm -rf "$W"; cp -r "$T/pristine" "$W"
sed -i 's/"total_size": /"total_size": 1/' "$W/bundle.json"
(cd "$W" && grep -v ' bundle.json$' SHA256SUMS > S && sha256sum bundle.json >> S && sort -k2 S > SHA256SUMS && rm S)
expect_rc 0 "$MOAT" models verify "$W"
expect_rc 4 "$MOAT" models verify "$W" --trust "$T/key.pub"
# corrupt and badly signed: corrupt wins
flip "$W/$model"
expect_rc 3 "$MOAT" models verify "$W" --trust "$T/key.pub"
# install refuses what does not verify, and installs nothing
expect_rc 3 "$MOAT" models install "$W" --models-dir "$T/never"
[ -d "$T/never/manifests" ] && bad "install wrote manifests from a corrupt bundle" || ok

# ---- the store: fsck ----
check_store() { # op kind path-in-store
	local W=$T/wstore; rm -rf "$W"; cp -r "$S" "$W"
	local f="$W/$3" name; name=$(basename "$3")
	case $1 in
	flip) flip "$f" ;;
	truncate) shorten "$f" ;;
	delete) rm "$f" ;;
	rename) mv "$f" "$(dirname "$f")/._$name" ;;
	esac
	"$MOAT" models fsck --models-dir "$W" >"$T/fout" 2>&1; local rc=$?
	if [ "$1/$2" = delete/manifest ]; then
		# removing a manifest removes a model (as 'ollama rm' does first): what
		# is left to see is its blobs, now unreferenced
		if [ "$rc" = 0 ] && [ "$(grep -c 'unreferenced blob' "$T/fout")" = 2 ]; then ok
		else bad "store: deleted manifest: expected its 2 own blobs reported unreferenced: $(head -c 300 "$T/fout")"; fi
		return
	fi
	if [ "$rc" = 1 ] && grep -qF -- "$name" "$T/fout" && grep -q '^ERROR' "$T/fout"; then ok
	else bad "store: $1 of the $2 file '$3': fsck exited $rc, expected 1 naming it: $(head -c 300 "$T/fout")"; fi
}
storekinds() { python3 -c '
import json,sys
m=json.load(open(sys.argv[1]+"/manifests/registry.ollama.ai/library/tiny/chat"))
print("config", "blobs/sha256-"+m["config"]["digest"][7:])
for l in m["layers"]: print(l["mediaType"].split(".")[-1], "blobs/sha256-"+l["digest"][7:])
print("manifest", "manifests/registry.ollama.ai/library/tiny/chat")' "$S"; }
n=0
while read -r kind rel; do
	for op in flip truncate delete rename; do check_store $op "$kind" "$rel"; done
	n=$((n + 1))
done < <(storekinds)
expect_eq 7 "$n" "kinds of store file covered (config, model, template, license, params, system, manifest)"
# --quick sees truncation but not a flipped byte in tensor data
W=$T/wstore; rm -rf "$W"; cp -r "$S" "$W"
blob=$(storekinds | awk '$1=="model"{print $2}')
python3 -c '
import sys; f=open(sys.argv[1],"r+b"); f.seek(1700000); c=f.read(1); f.seek(1700000); f.write(bytes([c[0]^0xff]))' "$W/$blob"
expect_rc 0 "$MOAT" models fsck --models-dir "$W" --quick
expect_rc 1 "$MOAT" models fsck --models-dir "$W"
expect_grep 'content does not match its name' "$T/out" "flipped tensor byte found by hashing"
# stray files, dangling symlinks, old names, unfinished downloads, orphans
rm -rf "$W"; cp -r "$S" "$W"
echo x > "$W/blobs/notes.txt"
echo x > "$W/manifests/registry.ollama.ai/README"
ln -s /nonexistent "$W/manifests/registry.ollama.ai/library/tiny/dangling"
cfg=$(storekinds | awk '$1=="config"{print $2}')
mv "$W/$cfg" "$W/blobs/sha256:${cfg#blobs/sha256-}"
echo x > "$W/blobs/sha256-$(printf '%064d' 7)"
echo x > "$W/blobs/sha256-$(printf '%064d' 8)-partial"
expect_rc 1 "$MOAT" models fsck --models-dir "$W"
expect_grep 'notes.txt: stray file in blobs/' "$T/out" "stray blob file"
expect_grep 'registry.ollama.ai/README: stray file at depth 2' "$T/out" "stray manifest-tree file"
expect_grep '^ERROR +.*tiny/dangling: dangling symlink' "$T/out" "dangling symlink is an error"
expect_grep 'old blob name' "$T/out" "old sha256: name"
expect_grep '0000007: unreferenced blob' "$T/out" "unreferenced blob"
expect_grep 'partial: unfinished ollama download' "$T/out" "unfinished download"
expect_rc 0 "$MOAT" models list --models-dir "$W"
expect_grep 'dangling symlink' "$T/out" "list shows the broken entry"
rm "$W/manifests/registry.ollama.ai/library/tiny/dangling"
expect_rc 0 "$MOAT" models fsck --models-dir "$W" --prune
expect_grep 'pruned +.*0000007$' "$T/out" "--prune removes the unreferenced blob"
[ -f "$W/blobs/sha256:${cfg#blobs/sha256-}" ] && ok || bad "--prune removed a referenced (old-name) blob"
expect_rc 0 "$MOAT" models fsck --models-dir "$W" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["models"]==2 and all(p["severity"]=="warning" for p in d["problems"]), d' "$T/out" && ok || bad "fsck --json after prune"
finish
