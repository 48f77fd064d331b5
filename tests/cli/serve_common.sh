# serve_common.sh - sourced by the serve_*.sh tests (after lib.sh): start
# `moat serve` on a free loopback port, make requests with curl, read JSON.
#   serve_start WS [ARGS...]  sets SPID, PORT, TOKEN, BASE (kills it at exit)
#   req METHOD PATH [BODY] [CURL ARGS...]  sets CODE; body in $T/body,
#       headers in $T/hdr; uses the cookie jar $JAR and header $CSRF_H
#   jget FILE PY-EXPR   prints a value of the JSON in FILE (j is the document)
SPIDS=""
serve_stop_all() {
	local p
	for p in $SPIDS; do kill "$p" 2>/dev/null; done
	for p in $SPIDS; do wait "$p" 2>/dev/null; done
	SPIDS=""
}
trap 'serve_stop_all; rm -rf "$T"' EXIT

serve_start() { # WS [ARGS...]
	local ws=$1 i line
	shift
	[ -f "$T/serve.err" ] && cat "$T/serve.err" >>"$T/serve.err.all"
	"$MOAT" -w "$ws" serve --port 0 "$@" >"$T/serve.out" 2>"$T/serve.err" &
	SPID=$!
	SPIDS="$SPIDS $SPID"
	SERVE_GONE_SAID=
	for i in $(seq 1 100); do
		line=$(grep -m1 '^moat serve: http' "$T/serve.out" 2>/dev/null)
		[ -n "$line" ] && break
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$line" ]; then
		bad "serve did not start: $(cat "$T/serve.err")"
		return 1
	fi
	BASE=$(echo "$line" | sed -E 's|^moat serve: (https?://[^/]+)/.*|\1|')
	PORT=${BASE##*:}
	TOKEN=${line##*token=}
	return 0
}

JAR="$T/jar"
CSRF_H=""
req() { # METHOD PATH [BODY] [CURL ARGS...]
	local m=$1 p=$2 body=${3-}
	local args=(-s -S -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X "$m" -b "$JAR" -c "$JAR"
		    --max-time 30 --path-as-is)
	shift 2
	[ $# -gt 0 ] && shift
	[ -n "$CSRF_H" ] && args+=(-H "X-CSRF-Token: $CSRF_H")
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$body")
	fi
	CODE=$(curl "${args[@]}" "$@" "${CURL_BASE:-$BASE}$p")
	# no answer: say whether the server is gone, and what it said last
	if [ "$CODE" = 000 ] && [ -z "${CURL_BASE:-}" ] && [ -z "${SERVE_GONE_SAID:-}" ] &&
	   ! kill -0 "$SPID" 2>/dev/null; then
		SERVE_GONE_SAID=1
		wait "$SPID" 2>/dev/null
		echo "serve (pid $SPID) is gone (exit status $?); its stderr: $(tail -c 1500 "$T/serve.err")"
	fi
}
expect_code() { # WANT WHAT
	if [ "$CODE" = "$1" ]; then ok; else bad "$2: HTTP $CODE, expected $1: $(head -c 300 "$T/body")"; fi
}
jget() { # FILE EXPR
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1" "$2"
}
# login_as NAME PASSWORD: a fresh cookie jar logged in as NAME; CSRF_H set
login_as() {
	rm -f "$JAR"
	CSRF_H=""
	req POST /api/login "{\"name\":\"$1\",\"password\":\"$2\"}"
	[ "$CODE" = 200 ] && CSRF_H=$(jget "$T/body" 'j["csrf"]')
}
# the security headers every response carries (in $T/hdr)
expect_security_headers() { # WHAT
	local h
	for h in "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" \
		 "X-Content-Type-Options: nosniff" "Referrer-Policy: no-referrer" "X-Frame-Options: DENY"; do
		if tr -d '\r' <"$T/hdr" | grep -qiF -- "$h"; then ok; else bad "$1: no '$h' header"; fi
	done
}
# a workspace's users as "name:role" lines, sorted, and its audit records' count
users_of() { "$MOAT" -w "$1" users ls --json | python3 -c 'import json,sys; print("\n".join(sorted(u["name"]+":"+u["role"] for u in json.load(sys.stdin)["users"])))'; }
audit_count() { "$MOAT" -w "$1" audit log --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
