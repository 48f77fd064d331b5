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
finish() {
	echo "$passes passed, $fails failed"
	[ "$fails" = 0 ]
}
