#!/bin/bash
# disk_full.sh - the machine's failures are not the document's (issue 14.8):
# on a workspace whose disk fills up (an 8 MiB tmpfs), ingest stops with exit
# 5 (EXIT_ENV) and the reason, records no file as failed for it, and --json
# still prints its summary ("ok": false, "error", "exit"); on a disk that is
# full to the last byte, reading (ls, audit verify) works and verify says
# intact (exit 0), not broken (1); clean --json says why it stopped; with room
# again, the same ingest finishes and nothing was lost.  Mounting needs root
# (CI runs as root).
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	[ "${CI:-}" = true ] && { echo "FAIL: this test needs root (CI runs as root)"; exit 1; }
	echo "SKIP: mounting a small file system needs root"; exit 77
fi
DISK="$T/disk"
mkdir -p "$DISK"
mount -t tmpfs -o size=8M tmpfs "$DISK" || { echo "FAIL: cannot mount a tmpfs"; exit 1; }
trap 'umount "$DISK" 2>/dev/null; rm -rf "$T"' EXIT
W="$DISK/ws"
D="$T/docs"
mkdir -p "$D"
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
echo "a small file" >"$D/a.txt"
yes "a line of text that fills the disk" | head -c 12000000 >"$D/b.txt"   # 12 MB: more than the disk

# 1. the disk fills during ingest
expect_rc 5 "$MOAT" -w "$W" ingest "$D" --json
expect_grep 'No space left on device|disk is full|disk I/O error' "$T/err" "the reason is the disk"
expect_eq False "$(json "$T/out" "d['ok']")" "--json prints its summary: ok false"
expect_eq 5 "$(json "$T/out" "d['exit']")" "--json gives the exit status"
expect_grep 'No space left on device|disk is full|disk I/O error' "$T/out" "--json gives the reason"
expect_eq 0 "$(sqlite3 "file:$W/moat.db?mode=ro" "SELECT count(*) FROM files WHERE status = 'failed'")" \
	"no file is blamed for the full disk"

# 2. full to the last byte: reading works, verify is a verdict on the trail
dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null
expect_eq 0 "$(df --output=avail "$DISK" | tail -1 | tr -d ' ')" "the disk is full"
expect_rc 0 "$MOAT" -w "$W" audit verify
expect_grep '^audit trail intact' "$T/out" "verify on a full disk: intact"
expect_rc 0 "$MOAT" -w "$W" ls
expect_rc 5 "$MOAT" -w "$W" ingest "$D/a.txt" --json
expect_eq 5 "$(json "$T/out" "d['exit']")" "--json when the workspace cannot even be opened for writing"
expect_rc 5 "$MOAT" -w "$W" clean --json
expect_eq False "$(json "$T/out" "d['ok']")" "clean --json says it stopped"

# 3. room again: the same ingest finishes and the trail is whole
rm -f "$DISK/filler" "$D/b.txt"
expect_rc 0 "$MOAT" -w "$W" ingest "$D" --json
expect_eq 1 "$(json "$T/out" "d['counts']['added']")" "the file is ingested once there is room"
expect_rc 0 "$MOAT" -w "$W" audit verify
finish
