#!/bin/bash
# gguf_hostile.sh - crafted GGUF files handed to the embedded llama.cpp
# (`moat llm run gguf:FILE`, as `store:` does for a store's blob) get one
# clear error from moat's own validator, never a crash (issue 13.5): huge
# tensor and string counts, offsets past the end, a tensor table that does
# not fit, a truncated file, overlapping or oversized tensors.
. "$(dirname "$0")/lib.sh"
python3 - "$T" <<'PY'
import struct, sys
d = sys.argv[1]
def s(x):
    b = x.encode(); return struct.pack("<Q", len(b)) + b
def kv_str(k, v):
    return s(k) + struct.pack("<I", 8) + s(v)
hdr = lambda nt, nkv: b"GGUF" + struct.pack("<IQQ", 3, nt, nkv)
files = {
    "huge_tensors": hdr(1 << 40, 0) + b"\0" * 64,
    "huge_kv": hdr(0, 1 << 50) + b"\0" * 64,
    "huge_string": hdr(0, 1) + struct.pack("<Q", 1 << 60) + b"abc",
    "truncated_kv": hdr(0, 2) + kv_str("general.architecture", "llama")[:20],
    # one f32 tensor of 2^20 x 2^20 elements in a file of a few bytes
    "tensor_past_end": hdr(1, 1) + kv_str("general.architecture", "llama") + s("t")
        + struct.pack("<I", 2) + struct.pack("<QQ", 1 << 20, 1 << 20) + struct.pack("<IQ", 0, 0) + b"\0" * 32,
    # a tensor whose offset is far past the end
    "offset_past_end": hdr(1, 1) + kv_str("general.architecture", "llama") + s("t")
        + struct.pack("<I", 1) + struct.pack("<Q", 4) + struct.pack("<IQ", 0, 1 << 40) + b"\0" * 32,
    "dims_overflow": hdr(1, 1) + kv_str("general.architecture", "llama") + s("t")
        + struct.pack("<I", 4) + struct.pack("<QQQQ", 1 << 63, 1 << 63, 4, 4) + struct.pack("<IQ", 0, 0) + b"\0" * 32,
}
for name, data in files.items():
    open("%s/%s.gguf" % (d, name), "wb").write(data)
PY
for f in "$T"/*.gguf; do
	"$MOAT" llm run "gguf:$f" hello --max-tokens 1 >"$T/out" 2>"$T/err"
	rc=$?
	expect_eq 1 "$rc" "$(basename "$f"): exit status (a signal would be 128 or more)"
	expect_grep "^moat: cannot load '$f': " "$T/err" "$(basename "$f"): one clear error"
	[ "$(wc -l <"$T/err")" = 1 ] && ok || bad "$(basename "$f"): one line, got: $(cat "$T/err")"
done
finish
