# lib.sh - sourced by the CLI tests: where moat and the test data are, temp
# directories, and assertions that print what they expected and what they got.
set -u
MOAT=${MOAT:?run through ctest, or set MOAT to the moat binary}
SRC=${MOAT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TESTDATA=${MOAT_TESTDATA:-${MOAT_TESTDATA_DEFAULT:-$SRC/../shared}}
T=$(mktemp -d "${TMPDIR:-/tmp}/moat-cli-XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0

# need_testdata: CI=true makes missing shared data a failure, not a skip.
need_testdata() {
	if [ ! -d "$TESTDATA/$1" ]; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL: test data $TESTDATA/$1 is missing (set MOAT_TESTDATA)"; exit 1
		fi
		echo "SKIP: test data $TESTDATA/$1 is missing"; exit 77
	fi
}
ok() { passes=$((passes + 1)); }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
expect_eq() { # expected got what
	if [ "$1" = "$2" ]; then ok; else bad "$3: expected '$1', got '$2'"; fi
}
expect_rc() { # rc cmd...
	local want=$1; shift
	"$@" >"$T/out" 2>"$T/err"; local rc=$?
	if [ "$rc" = "$want" ]; then ok; else bad "'$*' exited $rc, expected $want; stderr: $(head -c 400 "$T/err")"; fi
}
expect_grep() { # pattern file what
	if grep -qE -- "$1" "$2"; then ok; else bad "$3: no /$1/ in $(head -c 400 "$2")"; fi
}
# expect_no_value json|text FILE WHAT [--full VALUE | --token VALUE]...: none
# of the values is in FILE.  json: every string (keys included) of the parsed
# document is searched; text: the file as it is.  --full VALUE is searched as
# a plain substring (use it for whole values, with their separators, which no
# digest can hold); --token VALUE only where it stands alone, with no letter
# or digit right before or after it, so that a fragment such as 4012 is found
# in "card 4012 8888" but never inside a hex digest or a random file name.
# Tokens of moat's encrypt operator (<enc:TYPE:base64url>) are ciphertext and
# are left out; a value leaked into one would break its alphabet and be seen.
expect_no_value() {
	local mode=$1 file=$2 what=$3 found rc
	shift 3
	found=$(python3 - "$mode" "$file" "$@" <<'PY'
import json, re, sys
mode, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
pats = []
for kind, v in zip(args[0::2], args[1::2]):
    if kind == "--full":
        pats.append((v, re.compile(re.escape(v))))
    elif kind == "--token":
        pats.append((v, re.compile(r"(?<![A-Za-z0-9])" + re.escape(v) + r"(?![A-Za-z0-9])")))
    else:
        sys.exit("expect_no_value: unknown option " + kind)
enc = re.compile(r"<enc:[A-Z0-9_]+:[A-Za-z0-9_-]+>")
raw = open(path, encoding="utf-8", errors="replace").read()
strings = []
def walk(x):
    if isinstance(x, str):
        strings.append(x)
    elif isinstance(x, dict):
        for k, v in x.items():
            strings.append(k)
            walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
if mode == "json":
    try:
        walk(json.loads(raw))
    except ValueError as err:
        print("(not JSON: %s)" % err)
        sys.exit(0)
else:
    strings.append(raw)
for s in strings:
    s = enc.sub("<enc>", s)
    for v, p in pats:
        m = p.search(s)
        if m:
            a = max(0, m.start() - 40)
            print("'%s' in ...%s..." % (v, s[a:m.end() + 40].replace("\n", " ")))
            sys.exit(0)
PY
)
	rc=$?
	if [ "$rc" != 0 ]; then bad "$what: the check itself failed (exit $rc): $found"
	elif [ -z "$found" ]; then ok; else bad "$what: $found"; fi
}
# kill_after DELAY_MS CMD...: runs CMD (its output thrown away) and kills it
# with SIGKILL after DELAY_MS; true if the kill landed while it was running.
# Its exit status tells: 137 is SIGKILL, anything else means it ended first
# (kill(1) alone cannot tell, it also "succeeds" on a finished child that has
# not been reaped yet); RUN_MS is then how long it took.
kill_after() {
	local ms=$1 t0 pid spid first
	shift
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))" &
	spid=$!
	# the delay, or the run if it ends sooner (then it is reaped here, and
	# its process id is not signalled again: it may be someone else's now)
	wait -n -p first "$pid" "$spid" 2>/dev/null
	RUN_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	if [ "$first" = "$pid" ]; then
		kill "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		return 1
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ $? = 137 ]
}
finish() {
	echo "$passes passed, $fails failed"
	[ "$fails" = 0 ]
}
