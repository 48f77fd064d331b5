#!/bin/bash
# airgap_install_slow.sh - a bundle made with `moat models bundle --include-self`
# installed on a bare Debian 12 (debootstrap --variant=minbase, nothing else:
# no Tesseract, no libmagic, no llama.cpp), and used there in a network
# namespace with only `lo`: moat version, ingest of a born-digital PDF, a
# scanned PDF, a TIFF, a DOCX and an e-mail (OCR from the bundled language
# files), pii scan, clean, models verify and install, llm run gguf: and store:,
# and the bundled llama-server answering `moat llm run openai://`.
# The root is unpacked from the tarball scripts/build-debroot caches (make check
# builds it); every check reads what the commands inside left in /out.
. "$(dirname "$0")/lib.sh"
need_testdata corpus
need_testdata models
ROOTTAR=${MOAT_CACHE:-$HOME/.cache/moat}/debian12-minbase.tar
skip_or_fail() {
	if [ "${CI:-}" = true ]; then echo "FAIL: $*"; exit 1; fi
	echo "SKIP: $*"; exit 77
}
[ -f "$ROOTTAR" ] || skip_or_fail "no bare Debian root at $ROOTTAR (scripts/build-debroot makes it)"
[ "$(id -u)" = 0 ] || skip_or_fail "chroot into a bare root needs root"
C=$TESTDATA/corpus

# staging: a store with the tiny model, then the bundle with moat inside
S=$T/staging
expect_rc 0 "$MOAT" models import "$TESTDATA/models/llama-2-tiny-random.gguf" --name tiny:air --models-dir "$S"
expect_rc 0 "$MOAT" models bundle tiny:air --models-dir "$S" --to "$T/usb" --include-self --json
python3 - "$T/out" "$T/usb" >"$T/check" 2>&1 <<'PY'
import json, os, sys
b, usb = json.load(open(sys.argv[1])), sys.argv[2]
paths = {f['path'] for f in b['self']['files']}
need = ['moat/bin/moat', 'moat/install.sh', 'moat/share/magic.mgc',
        'moat/share/tessdata/eng.traineddata', 'moat/share/tessdata/osd.traineddata',
        'moat/bin/llama-server']
missing = [p for p in need if p not in paths or not os.path.isfile(os.path.join(usb, p))]
assert not missing, missing
assert any(p.startswith('moat/lib/libllama') for p in paths), 'libllama not carried'
# loaded on first need (dlopen), not linked: carried all the same
for lib in ('libtesseract.so.5', 'liblept.so.5'):
    assert 'moat/lib/' + lib in paths, lib + ' not carried'
assert not any(os.path.basename(p).startswith('libc.so') for p in paths), 'glibc carried'
sums = {l.split('  ', 1)[1].strip() for l in open(os.path.join(usb, 'SHA256SUMS'))}
assert paths <= sums, sorted(paths - sums)
print('ok')
PY
expect_grep '^ok$' "$T/check" "the bundle carries moat, its data files and llama-server"
# --ocr-lang picks the languages (and osd); one that is not there is refused
expect_rc 0 "$MOAT" models bundle tiny:air --models-dir "$S" --to "$T/usb-deu" --include-self --ocr-lang deu
expect_eq "deu.traineddata osd.traineddata" "$(ls "$T/usb-deu/moat/share/tessdata" | tr '\n' ' ' | sed 's/ $//')" "--ocr-lang deu carries deu and osd"
expect_rc 1 "$MOAT" models bundle tiny:air --models-dir "$S" --to "$T/usb-xx" --include-self --ocr-lang xxq
expect_grep "OCR language 'xxq' is not installed" "$T/err" "a language the staging machine lacks"
expect_rc 2 "$MOAT" models bundle tiny:air --models-dir "$S" --to "$T/usb-yy" --ocr-lang eng

# the target: a fresh bare root, the bundle on "removable media", the files
R=$T/root
mkdir -p "$R"
tar -C "$R" -xf "$ROOTTAR" || { bad "cannot unpack $ROOTTAR"; finish; exit 1; }
for p in tesseract llama-server moat; do
	[ -e "$R/usr/bin/$p" ] && bad "the bare root already has $p"
done
[ -d "$R/usr/share/tesseract-ocr" ] && bad "the bare root already has Tesseract's data"
[ -e "$R/usr/lib/x86_64-linux-gnu/libmagic.so.1" ] && bad "the bare root already has libmagic"
cp -a "$T/usb" "$R/media/usb"
mkdir -p "$R/data/docs" "$R/out"
for f in multi-column-2p.pdf ocr_test.pdf phototest.tif handbook-1p.docx fake-email.eml; do
	cp "$C/$f" "$R/data/docs/"
done
cp "$TESTDATA/models/llama-2-tiny-random.gguf" "$R/data/tiny.gguf"
cat >"$R/run.sh" <<'EOF'
#!/bin/sh
# Runs inside the bare root: each command's output and exit status go to /out.
export HOME=/root PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8
cd /tmp
run() { # NAME COMMAND...: stdout to /out/NAME, stderr to /out/NAME.err, status to /out/NAME.rc
	n=$1; shift
	"$@" >"/out/$n" 2>"/out/$n.err"; echo $? >"/out/$n.rc"
}
awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev >/out/ifaces
run install sh /media/usb/moat/install.sh
run version moat version --json
run version-text moat version
run init moat init /ws
run ingest moat -w /ws ingest /data/docs --json
run ls moat -w /ws ls --json
for f in multi-column-2p.pdf ocr_test.pdf phototest.tif handbook-1p.docx fake-email.eml; do
	run "show-$f" moat -w /ws show "/data/docs/$f" --json
done
printf 'Call Jane Roe at jane.roe@example.org or +1 415-555-0132.\n' >/tmp/pii.txt
run pii moat pii scan /tmp/pii.txt --json
run keygen moat pii keygen /root/pii.key
printf '[pii]\nentities = ALL\nkey_file = /root/pii.key\n[operators]\nDEFAULT = replace\n' >/root/policy.ini
run clean moat -w /ws clean --normalize --dedup near --pii /root/policy.ini --json
run audit moat -w /ws audit verify
run verify moat models verify /media/usb --json
run models-install moat models install /media/usb --models-dir /models --json
run models-list moat models list --models-dir /models --json
run gguf moat llm run gguf:/data/tiny.gguf "Hello" --max-tokens 8 --seed 1
OLLAMA_MODELS=/models run store moat llm run store:tiny:air "Hello" --max-tokens 8 --seed 1
llama-server -m /data/tiny.gguf --host 127.0.0.1 --port 18080 -c 512 >/out/server.log 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ]; do
	run openai moat llm run openai://127.0.0.1:18080/v1/tiny "Hello" --max-tokens 8 --seed 1
	[ "$(cat /out/openai.rc)" = 0 ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.2
	i=$((i + 1))
done
kill $pid
wait $pid
command -v tesseract >/out/has-tesseract
ls /usr/share/tesseract-ocr >/out/has-tessdata 2>/dev/null
echo done >/out/done
EOF
unshare --mount --pid --fork --net sh -c '
	R=$1
	ip link set lo up || exit 1
	mount -t proc proc "$R/proc" || exit 1
	mount --rbind /dev "$R/dev" || exit 1
	exec chroot "$R" /bin/sh /run.sh' airgap "$R" >"$T/inside.log" 2>&1
rc=$?
expect_eq 0 "$rc" "the commands inside the bare root ran ($(tail -c 300 "$T/inside.log"))"
[ -f "$R/out/done" ] || { bad "the script inside did not finish: $(tail -c 400 "$T/inside.log")"; finish; exit 1; }

O=$R/out
rc_of() { cat "$O/$1.rc" 2>/dev/null || echo missing; }
must() { # NAME: exited 0
	expect_eq 0 "$(rc_of "$1")" "'$1' inside the bare root (stderr: $(head -c 300 "$O/$1.err" 2>/dev/null))"
}
expect_eq lo "$(tr -d '\n' <"$O/ifaces")" "only lo inside"
for n in install version init ingest ls pii keygen clean audit verify models-install models-list gguf store openai; do
	must "$n"
done
[ -s "$O/has-tesseract" ] && bad "tesseract is installed in the bare root" || ok
[ -s "$O/has-tessdata" ] && bad "Debian's Tesseract data is in the bare root" || ok
expect_grep 'bundle' "$O/version-text" "moat version names the bundle's data files"
python3 - "$O" >"$T/check" 2>&1 <<'PY'
import json, os, sys
o = sys.argv[1]
def j(n): return json.load(open(os.path.join(o, n)))
v = j('version')['data']
assert v['tessdata']['source'] == 'bundle' and v['tessdata']['path'] == '/usr/local/lib/moat/share/tessdata', v
assert 'eng' in v['tessdata']['languages'].split('+'), v
assert v['magic']['source'] == 'bundle' and v['magic']['path'] == '/usr/local/lib/moat/share/magic.mgc', v
assert v['llama-server']['source'] == 'bundle', v
ing = j('ingest')
assert ing['counts']['added'] == 5 and ing['counts']['failed'] == 0, ing
def text(name):
    d = j('show-' + name)
    return ' '.join(e['text'] for e in d['elements'])
t = text('multi-column-2p.pdf')
assert 'Dense Passage Retrieval' in t and len(t.split()) > 500, t[:300]   # the born-digital PDF's text layer
t = text('phototest.tif')
assert 'quick brown dog' in t, t[:300]              # OCR with the bundled eng
t = text('ocr_test.pdf')
assert 'Docling bundles PDF document conversion' in t, t[:300]   # a scanned PDF read by OCR
t = text('handbook-1p.docx')
assert len(t.split()) > 50, t[:300]
t = text('fake-email.eml')
assert 'This is a test email' in t, t[:300]
p = [json.loads(l) for l in open(os.path.join(o, 'pii')) if l.strip()]
types = {f['type'] for f in p}
assert {'PERSON', 'EMAIL_ADDRESS', 'PHONE_NUMBER'} <= types, types
c = j('clean')
assert c['counts']['documents'] == 5 and c['counts']['findings'] >= 1, c
ver = j('verify')
assert ver['ok'] is True and ver['status'] == 'ok' and ver['models'] == ['tiny:air'], ver
assert ver['files'] > 10 and not ver['problems'], ver   # the moat/ files are verified too
ml = j('models-list')
assert [m['name'] for m in ml] == ['tiny:air'], ml
for n in ('gguf', 'store', 'openai'):
    assert open(os.path.join(o, n), 'rb').read().strip(), n + ': no text generated'
print('ok')
PY
expect_grep '^ok$' "$T/check" "what the commands inside the bare root gave"
finish
