#!/bin/bash
# models_hostile.sh - the model kit under a hostile store or bundle (issue 13,
# items 1, 4, 8, 9, 10).  As root (CI is), into a store owned by nobody whose
# owner planted symlinks: install never follows them (.moat-lock, manifests/
# directories, blobs/, a blob), rm deletes nothing outside the store, list and
# fsck read nothing outside it; a bundle whose name and store path disagree,
# whose store path leaves the store, or whose SHA256SUMS is a link is refused
# by verify as by install; install reads bundle.json and the manifests once
# (in verify) and never again.  Each attack checks that nothing outside the
# store changed owner, mode or content.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/models_common.sh"
need_testdata models
if [ "$(id -u)" != 0 ]; then
	[ "${CI:-}" = true ] && { echo "FAIL: needs root under CI"; exit 1; }
	echo "SKIP: needs root to attack a store owned by another user"; exit 77
fi

SRC_STORE=$T/src; mk_healthy_store "$SRC_STORE"
"$MOAT" models bundle tiny:latest tiny:chat --models-dir "$SRC_STORE" --to "$T/bundle" >/dev/null || bad "bundle"
V=$T/victim
# root's files the store's owner would like: a 0600 file, a root-only directory
mk_victim() {
	rm -rf "$V"; mkdir -p "$V/dir"; chmod 0700 "$V" "$V/dir"
	printf 'root:x:0:0:root:/root:/bin/bash\n' >"$V/secret"; chmod 0600 "$V/secret"
	cp "$V/secret" "$V/dir/x"
}
snap() { (cd "$V" && find . -printf '%p %u %g %m %s\n' | sort && find . -type f -exec sha256sum {} + | sort); }
# fresh_store: the source store's models, owned by nobody
fresh_store() { rm -rf "$T/s"; mkdir -p "$T/s"; cp -a "$SRC_STORE/." "$T/s/"; chown -R nobody:nogroup "$T/s"; mk_victim; snap >"$T/before"; }
victim_same() { snap >"$T/after"; if cmp -s "$T/before" "$T/after"; then ok; else bad "$1: outside the store changed: $(diff "$T/before" "$T/after" | head -5)"; fi; }
S=$T/s
ML=$S/manifests/registry.ollama.ai/library

# an honest root install into a nobody store leaves nothing to root
fresh_store; rm -rf "$S/manifests" "$S/blobs"
expect_rc 0 "$MOAT" models install "$T/bundle" --models-dir "$S"
expect_eq "" "$(find "$S" ! -user nobody)" "everything moat made in the store belongs to its owner"

# 1. .moat-lock -> a root file: refused, the file keeps owner root and its bytes
fresh_store; ln -s "$V/secret" "$S/.moat-lock"; chown -h nobody "$S/.moat-lock"
expect_rc 1 "$MOAT" models install "$T/bundle" --models-dir "$S"
expect_grep "refusing '.*/\.moat-lock': it is a symlink" "$T/err" "lock symlink refused, naming it"
victim_same "lock symlink"
expect_rc 1 "$MOAT" models import "$TESTDATA/models/llama-2-tiny-random.gguf" --name imp --models-dir "$S"
victim_same "lock symlink (import)"

# 1/9. a symlinked directory under manifests/ (at each level) or blobs/: refused, nothing written there
for link in "$S/manifests/registry.ollama.ai" "$ML" "$ML/tiny" "$S/blobs"; do
	fresh_store; rm -rf "$link"; ln -s "$V/dir" "$link"
	expect_rc 1 "$MOAT" models install "$T/bundle" --models-dir "$S"
	expect_grep "refusing '$link': it is a symlink" "$T/err" "install refuses ${link#"$S"/}, naming it"
	victim_same "install through ${link#"$S"/}"
	expect_rc 1 "$MOAT" models install "$T/bundle" --models-dir "$S" --force
	victim_same "install --force through ${link#"$S"/}"
done
fresh_store; rm -rf "$ML/tiny"; ln -s "$V/dir" "$ML/tiny"
expect_rc 1 "$MOAT" models import "$TESTDATA/models/llama-2-tiny-random.gguf" --name tiny --models-dir "$S"
expect_grep "refusing '$ML/tiny': it is a symlink" "$T/err" "import refuses a symlinked model directory"
victim_same "import through a symlinked model directory"

# 1. a blob that is a symlink to a root file: refused, never hashed into place nor chowned
fresh_store
blob=$(cd "$S/blobs" && ls -S | head -1)
rm "$S/blobs/$blob"; ln -s "$V/secret" "$S/blobs/$blob"
expect_rc 1 "$MOAT" models install "$T/bundle" --models-dir "$S" --force
expect_grep "refusing '$S/blobs/$blob': it is a symlink" "$T/err" "blob symlink refused"
victim_same "blob symlink"

# 8. rm never deletes outside the store
fresh_store; ln -s "$V/dir" "$ML/dd"; cp "$V/secret" "$V/dir/victim"; snap >"$T/before"
expect_rc 1 "$MOAT" models rm dd:victim --models-dir "$S"
expect_grep "refusing '$ML/dd': it is a symlink" "$T/err" "rm refuses a symlinked model directory"
victim_same "rm through a symlinked model directory"
fresh_store; ln -s "$V/secret" "$ML/tiny/evil"
expect_rc 1 "$MOAT" models rm tiny:evil --models-dir "$S"
victim_same "rm of a symlinked manifest"
expect_rc 0 "$MOAT" models rm tiny:chat --models-dir "$S"
expect_eq "" "$(ls "$ML/tiny" | grep -x chat)" "rm of an honest model still works"

# 9. list and fsck follow no directory link out of the store, and quote nothing of foreign files
fresh_store; ln -s "$V/dir" "$ML/evil"; ln -s "$V/secret" "$ML/tiny/passwd"
expect_rc 0 "$MOAT" models list --models-dir "$S"
cp "$T/out" "$T/list"
expect_grep "^tiny:latest" "$T/list" "list still shows the honest models"
expect_grep "symlink \(moat follows no link" "$T/list" "list names the symlinked manifest"
expect_no_value text "$T/list" "list quotes no foreign bytes" --full "root:x" --full "near 'root" --full "evil/x"
expect_rc 1 "$MOAT" models fsck --models-dir "$S" --json
cp "$T/out" "$T/fsck"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert any(p["path"].endswith("library/evil") and p["problem"].startswith("symlink (moat follows no link")
           and p["severity"] == "error" for p in d["problems"]), d' "$T/fsck" && ok || bad "fsck names the symlinked directory as an error"
expect_no_value json "$T/fsck" "fsck quotes no foreign bytes" --full "root:x" --full "near 'root" --full "evil/x"
expect_rc 1 "$MOAT" models fsck --models-dir "$S" --prune
victim_same "list and fsck"
fresh_store; cp -a "$S/blobs/." "$V/dir/"; snap >"$T/before"; rm -rf "$S/blobs"; ln -s "$V/dir" "$S/blobs"
expect_rc 1 "$MOAT" models fsck --models-dir "$S" --prune
expect_grep "/blobs: symlink \(moat follows no link" "$T/out" "fsck names a symlinked blobs/"
expect_rc 0 "$MOAT" models list --models-dir "$S"
expect_rc 0 "$MOAT" models rm tiny:chat --models-dir "$S" --json
expect_grep "blobs kept: refusing '$S/blobs': it is a symlink" "$T/out" "rm keeps the blobs behind a symlinked blobs/, saying why"
victim_same "a symlinked blobs/ under list, fsck --prune and rm"

# 10. a bundle's name must be its store path's; a store path stays in the store; SHA256SUMS is no link
edit_bundle() { # python code on b (bundle.json), then SHA256SUMS is fixed for the new bundle.json
	rm -rf "$T/b2"; cp -r "$T/bundle" "$T/b2"
	python3 - "$T/b2" "$1" <<'PY'
import hashlib, json, os, sys
d, code = sys.argv[1], sys.argv[2]
b = json.load(open(os.path.join(d, "bundle.json")))
exec(code)
raw = json.dumps(b, indent=2).encode()
open(os.path.join(d, "bundle.json"), "wb").write(raw)
lines = open(os.path.join(d, "SHA256SUMS")).read().splitlines()
out = [hashlib.sha256(raw).hexdigest() + "  bundle.json" if l.endswith("  bundle.json") else l for l in lines]
open(os.path.join(d, "SHA256SUMS"), "w").write("\n".join(out) + "\n")
PY
}
refused_by_both() { # what
	expect_rc 3 "$MOAT" models verify "$T/b2"
	expect_grep "bundle.json" "$T/out" "verify names bundle.json ($1)"
	fresh_store; rm -rf "$S/manifests" "$S/blobs"
	expect_rc 3 "$MOAT" models install "$T/b2" --models-dir "$S" --force
	expect_eq "" "$(ls "$S/manifests" 2>/dev/null)" "install wrote no manifest ($1)"
	victim_same "$1"
}
edit_bundle 'b["models"][0]["name"] = "safe-model:latest"'
refused_by_both "a name that is not its store path's"
expect_grep "names another manifest or model \('safe-model:latest'\)" "$T/out" "the mismatch is named"
edit_bundle 'm = b["models"][0]; m["store_path"] = "registry.ollama.ai/library/../../../x"'
refused_by_both "a store path with .."
edit_bundle 'm = b["models"][0]; m["store_path"] = "/etc/x/y/z"'
refused_by_both "an absolute store path"
rm -rf "$T/b2"; cp -r "$T/bundle" "$T/b2"; mv "$T/b2/SHA256SUMS" "$V/SUMS"; ln -s "$V/SUMS" "$T/b2/SHA256SUMS"
expect_rc 3 "$MOAT" models verify "$T/b2"
expect_grep "SHA256SUMS.*is a symlink" "$T/out" "a SHA256SUMS symlink is refused"
for f in bundle.json "$(cd "$T/bundle" && ls manifests/*/*/*/* | head -1)"; do
	rm -rf "$T/b2"; cp -r "$T/bundle" "$T/b2"; mv "$T/b2/$f" "$T/outside"; ln -s "$T/outside" "$T/b2/$f"
	expect_rc 3 "$MOAT" models verify "$T/b2"
	expect_grep "$(basename "$f").*(symlink|not a regular file)" "$T/out" "a symlinked $f is refused"
done

# 4. install reads bundle.json and the manifests once, in verify: after the
# store is locked, no small file of the bundle is opened again
if command -v strace >/dev/null; then
	fresh_store; rm -rf "$S/manifests" "$S/blobs"
	# (LeakSanitizer cannot run under a tracer: leaks are checked by the runs above)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=open,openat -o "$T/trace" "$MOAT" models install "$T/bundle" --models-dir "$S" >/dev/null 2>&1 || bad "install under strace"
	after=$(sed -n '/\.moat-lock/,$p' "$T/trace" | grep -F "$T/bundle/" | grep -v '/blobs/')
	expect_eq "" "$after" "no bundle.json or manifest read after verify"
	expect_grep '\.moat-lock' "$T/trace" "the trace saw the lock"
fi
finish
