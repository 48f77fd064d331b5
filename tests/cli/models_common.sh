# models_common.sh - what the model-kit CLI tests share: building Ollama
# stores in temporary directories from the real fixture manifests
# ($TESTDATA/fixtures/ollama) and the real tiny GGUF
# ($TESTDATA/models/llama-2-tiny-random.gguf), read in place, plus synthetic
# GGUF files of any size.  Sourced by tests/cli/models*.sh; run on its own it
# checks that the stores it builds are what the other tests expect.

# mk_gguf PATH MB [CHAT_TEMPLATE]: a valid GGUF v3 (llama, one F32 tensor of
# about MB megabytes of pseudo-random data, final padding included).  The data
# comes from a generator seeded with the file's name, size and template, so a
# run makes the same bytes (and digests) as every other run.
mk_gguf() {
	python3 - "$1" "$2" "${3:-}" <<'PY'
import hashlib, os, random, struct, sys
path, mb, tmpl = sys.argv[1], float(sys.argv[2]), sys.argv[3]
def s(x):
    b = x.encode()
    return struct.pack('<Q', len(b)) + b
kv = [(b'general.architecture', 8, s('llama')), (b'llama.context_length', 4, struct.pack('<I', 2048)),
      (b'general.file_type', 4, struct.pack('<I', 0))]
if tmpl:
    kv.append((b'tokenizer.chat_template', 8, s(tmpl)))
n = max(8, int(mb * 1e6 / 4) // 32 * 32)
hdr = b'GGUF' + struct.pack('<IQQ', 3, 1, len(kv))
for k, t, v in kv:
    hdr += struct.pack('<Q', len(k)) + k + struct.pack('<I', t) + v
hdr += s('w') + struct.pack('<I', 1) + struct.pack('<Q', n) + struct.pack('<IQ', 0, 0)
hdr += b'\0' * ((32 - len(hdr) % 32) % 32)
seed = hashlib.sha256(("%s|%s|%s" % (os.path.basename(path), sys.argv[2], tmpl)).encode()).digest()
rnd = random.Random(seed)
with open(path, 'wb') as f:
    f.write(hdr)
    left = n * 4
    while left:
        k = min(left, 1 << 22)
        f.write(rnd.randbytes(k))
        left -= k
PY
}

# add_model STORE HOST/NS/MODEL/TAG MODEL_FILE [SYSTEM_TEXT]: writes a pulled-
# style model (compact manifest, no final newline) with config, template,
# params, license (and system) layers; the model layer is MODEL_FILE's bytes.
add_model() {
	python3 - "$@" <<'PY'
import hashlib, json, os, shutil, sys
store, rel, model = sys.argv[1], sys.argv[2], sys.argv[3]
system = sys.argv[4] if len(sys.argv) > 4 else None
os.makedirs(os.path.join(store, 'blobs'), exist_ok=True)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    p = os.path.join(store, 'blobs', 'sha256-' + d)
    if not os.path.exists(p):
        with open(p, 'wb') as f:
            f.write(data)
    return 'sha256:' + d, len(data)
h = hashlib.sha256()
with open(model, 'rb') as f:
    for chunk in iter(lambda: f.read(1 << 20), b''):
        h.update(chunk)
md = h.hexdigest()
mp = os.path.join(store, 'blobs', 'sha256-' + md)
if not os.path.exists(mp):
    shutil.copyfile(model, mp)
layers = [{'mediaType': 'application/vnd.ollama.image.model', 'digest': 'sha256:' + md,
           'size': os.path.getsize(model)}]
for mt, data in [('template', b'{{ .Prompt }}'), ('license', b'LICENSE TEXT for ' + rel.encode()),
                 ('params', b'{"stop":["</s>"]}')] + ([('system', system.encode())] if system else []):
    d, n = put(data)
    layers.append({'mediaType': 'application/vnd.ollama.image.' + mt, 'digest': d, 'size': n})
cfg = json.dumps({'model_format': 'gguf', 'model_family': 'llama', 'model_type': '1M',
                  'file_type': 'F32', 'architecture': 'amd64', 'os': 'linux'}).encode()
cd, cn = put(cfg)
man = {'schemaVersion': 2, 'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',
       'config': {'mediaType': 'application/vnd.docker.container.image.v1+json', 'digest': cd, 'size': cn},
       'layers': layers}
p = os.path.join(store, 'manifests', *rel.split('/'))
os.makedirs(os.path.dirname(p), exist_ok=True)
with open(p, 'wb') as f:
    f.write(json.dumps(man, separators=(',', ':')).encode())
PY
}

# mk_store DIR: the fixture manifests and blobs (broken on purpose: their
# blobs are not in the fixtures) plus healthy tiny:latest and tiny:chat
# (sharing their model blob, the real tiny GGUF).
mk_fixture_store() {
	mkdir -p "$1/manifests" "$1/blobs"
	cp -r "$TESTDATA/fixtures/ollama/manifests/." "$1/manifests/"
	cp "$TESTDATA/fixtures/ollama/blobs/"* "$1/blobs/"
	chmod -R u+w "$1"
	rm -f "$1/manifests/README.md"
}
mk_healthy_store() {
	mkdir -p "$1"
	add_model "$1" registry.ollama.ai/library/tiny/latest "$TESTDATA/models/llama-2-tiny-random.gguf"
	add_model "$1" registry.ollama.ai/library/tiny/chat "$TESTDATA/models/llama-2-tiny-random.gguf" "You are terse."
}

# list_sig STORE: `moat models list --json` reduced to what must survive a
# transfer (name, id, size, modified, GGUF facts), one line per model.
list_sig() {
	"$MOAT" models list --models-dir "$1" --json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    print(m["name"], m["id"], m["size"], m["modified"], m["architecture"], m["parameters"],
          m["quantization"], m["context_length"], len(m["problems"]))'
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	. "$(dirname "$0")/lib.sh"
	need_testdata fixtures/ollama
	need_testdata models
	mk_fixture_store "$T/s"
	mk_healthy_store "$T/s"
	expect_rc 0 "$MOAT" models list --models-dir "$T/s"
	expect_grep '^tiny:latest +[0-9a-f]{12} ' "$T/out" "healthy model listed"
	expect_grep '^qwen2:0.5b +6f48b936a09f +352 MB ' "$T/out" "qwen2 fixture: ID and SIZE as ollama list"
	expect_grep '^gemma:2b +b50d6c999e59 +1.7 GB ' "$T/out" "gemma fixture: ID and SIZE as ollama list"
	expect_grep '^example.com/library/smol:latest +ecfb1acfca9c +291 B ' "$T/out" "smol fixture"
	expect_grep 'config blob sha256:ca239d7bd8ea is missing' "$T/out" "smol's missing config named"
	mk_gguf "$T/g.gguf" 1
	expect_rc 0 "$MOAT" models import "$T/g.gguf" --name synth --models-dir "$T/s2"
	finish
fi
