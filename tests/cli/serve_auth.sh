#!/bin/bash
# serve_auth.sh - `moat serve`'s logins, sessions, roles and request checks,
# over HTTP on loopback with curl:
#  - the one-time token logs in once (as the OS user, an admin made for it),
#    then is refused; password logins; a wrong password and an unknown name
#    get the same answer in about the same time; failed logins are limited
#    per name (429), not for other names;
#  - a session expires (--session-hours), ends at logout, works in a second
#    serve process on the same workspace (sessions are in the database);
#  - each role is allowed and refused on each endpoint class; not logged in
#    is 401;
#  - a change without X-CSRF-Token, or with a wrong one, is 403 and writes
#    nothing (users, audit records); a foreign Origin or Host is refused;
#  - path parameters with "..%2F", encoded slashes, NUL, control characters
#    are 400 and touch nothing; bodies over 1 MiB are 413 (with and without
#    Content-Length), malformed or unexpected JSON 400, and write nothing;
#  - every response, errors and 404 included, carries the security headers;
#  - a CLI stage holding moat.lock does not block serve's writes;
#  - SIGTERM stops it cleanly (exit 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_common.sh"

W="$T/ws"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
printf 'annotator-pass\n' >"$T/pa"
printf 'reviewer-pass\n' >"$T/pr"
printf 'admin-pass-123\n' >"$T/pd"
"$MOAT" -w "$W" users add ann --role annotator --password-file "$T/pa" >/dev/null
"$MOAT" -w "$W" users add rev --role reviewer --password-file "$T/pr" >/dev/null
"$MOAT" -w "$W" users add adm --role admin --password-file "$T/pd" >/dev/null
ME=$(id -un)

serve_start "$W" --threads 4 || { finish; exit 1; }
expect_grep "^moat serve: http://127\.0\.0\.1:[0-9]+/\?token=[A-Za-z0-9_-]{43}$" "$T/serve.out" "the start line"

# --- not logged in ------------------------------------------------------------
req GET /api/session
expect_code 401 "GET /api/session before login"
expect_security_headers "a 401"
expect_grep '^Cache-Control: no-store' <(tr -d '\r' <"$T/hdr") "API responses are not stored"
for p in /api/users /api/models; do
	req GET "$p"; expect_code 401 "GET $p not logged in"
done
req POST /api/logout; expect_code 401 "logout not logged in"
req GET /api/nothing-here; expect_code 404 "an unknown endpoint"
expect_security_headers "a 404"
req GET /nothing.html; expect_code 404 "an unknown file"
expect_security_headers "a 404 outside /api"
req PATCH /api/users; expect_code 405 "a method the endpoint does not take"
expect_grep '^Allow: GET, POST' <(tr -d '\r' <"$T/hdr") "405 names the methods allowed"
expect_security_headers "a 405"
req GET /; expect_code 200 "the page"
expect_security_headers "the page"
expect_grep '^ETag: "[0-9a-f]{64}"' <(tr -d '\r' <"$T/hdr") "an embedded file's ETag is its SHA-256"
etag=$(tr -d '\r' <"$T/hdr" | sed -n 's/^ETag: //p')
req GET / "" -H "If-None-Match: $etag"; expect_code 304 "the same ETag: 304"
req GET /api/openapi.json; expect_code 200 "the OpenAPI file"
expect_security_headers "the OpenAPI file"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["openapi"].startswith("3."), d["openapi"]; assert "/api/login" in d["paths"]' "$T/body" \
	&& ok || bad "GET /api/openapi.json is not an OpenAPI 3 document"

# --- the one-time token -----------------------------------------------------------
req POST /api/login '{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'
expect_code 401 "a wrong token"
req POST /api/login "{\"token\":\"$TOKEN\"}"
expect_code 200 "the one-time token logs in"
expect_eq "$ME" "$(jget "$T/body" 'j["name"]')" "the token's session is the OS user's"
expect_eq admin "$(jget "$T/body" 'j["role"]')" "the token's user is an admin"
cookie=$(tr -d '\r' <"$T/hdr" | grep -i '^Set-Cookie: moat_session=')
for a in HttpOnly SameSite=Strict Path=/; do
	case "$cookie" in *"; $a"*) ok ;; *) bad "the session cookie lacks $a: $cookie" ;; esac
done
case "$cookie" in *Secure*) bad "a Secure cookie on plain HTTP: $cookie" ;; *) ok ;; esac
expect_grep "^$ME:admin" <(users_of "$W") "the token's admin is made"
rm -f "$JAR"
req POST /api/login "{\"token\":\"$TOKEN\"}"
expect_code 401 "the one-time token a second time"

# --- passwords ------------------------------------------------------------------
login_as ann annotator-pass; expect_code 200 "annotator logs in"
req GET /api/session; expect_code 200 "GET /api/session"
expect_eq ann "$(jget "$T/body" 'j["name"]')" "the session's user"
expect_eq "$CSRF_H" "$(jget "$T/body" 'j["csrf"]')" "the session's CSRF token is login's"
login_as ann wrong-password; expect_code 401 "a wrong password"
w1=$(cat "$T/body")
login_as nosuchuser wrong-password; expect_code 401 "an unknown name"
expect_eq "$w1" "$(cat "$T/body")" "an unknown name and a wrong password get the same answer"
login_as "$ME" "" ; expect_code 401 "the token's admin has no password"
req POST /api/login '{"name":"ann"}'; expect_code 400 "a login without password"
# the same time whether the name exists or not: medians of 5
python3 - "$BASE" <<'PY' && ok || bad "login time tells whether a name exists"
import json, statistics, sys, time, urllib.request
base = sys.argv[1]
def t(name):
    body = json.dumps({"name": name, "password": "not-the-password"}).encode()
    r = urllib.request.Request(base + "/api/login", body, {"Content-Type": "application/json"})
    t0 = time.monotonic()
    try:
        urllib.request.urlopen(r)
    except urllib.error.HTTPError as e:
        assert e.code == 401, e.code
    return time.monotonic() - t0
# four tries each: under the limit of five failures per name
# interleaved, so that both see the same load of a shared machine
k, u = [], []
for i in range(4):
    k.append(t("rev"))
    u.append(t("ghost%d" % i))
known, unknown = statistics.median(k), statistics.median(u)
print("known %.3f s, unknown %.3f s" % (known, unknown))
assert 0.4 < unknown / known < 2.5, (k, u)
assert known > 0.01  # scrypt ran
PY
# the per-name limit: five failures, then 429 even with the right password
for i in 1 2 3 4 5; do login_as adm wrong; done
expect_code 401 "the fifth failure is still 401"
login_as adm admin-pass-123; expect_code 429 "the sixth login for the name is limited"
expect_grep '^Retry-After: [0-9]+' <(tr -d '\r' <"$T/hdr") "429 says when to retry"
login_as rev reviewer-pass; expect_code 200 "another name is not limited"

# --- roles ------------------------------------------------------------------------
# (the admin logs in with the token of a second server; see below)
login_as ann annotator-pass
req GET /api/users; expect_code 403 "annotator: GET /api/users"
req GET /api/models; expect_code 403 "annotator: GET /api/models"
req POST /api/users '{"name":"x1","role":"admin","password":"xxxxxxxxxx"}'; expect_code 403 "annotator: POST /api/users"
req DELETE /api/users/rev; expect_code 403 "annotator: DELETE /api/users/rev"
login_as rev reviewer-pass
req GET /api/users; expect_code 403 "reviewer: GET /api/users"
req DELETE /api/users/ann; expect_code 403 "reviewer: DELETE /api/users/ann"

# a second serve on the same workspace: its token, then the session in both
S1_BASE=$BASE
serve_start "$W" || { finish; exit 1; }
S2_BASE=$BASE
rm -f "$JAR"; CSRF_H=""
req POST /api/login "{\"token\":\"$TOKEN\"}"; expect_code 200 "the second server's token"
CSRF_H=$(jget "$T/body" 'j["csrf"]')
BASE=$S1_BASE
req GET /api/session; expect_code 200 "a session made by one serve works in another"
req GET /api/users; expect_code 200 "admin: GET /api/users"
req GET /api/models; expect_code 200 "admin: GET /api/models"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "models" in d and "sources" in d' "$T/body" \
	&& ok || bad "GET /api/models: $(head -c 200 "$T/body")"

# --- CSRF: 403 and nothing written ----------------------------------------------
before_users=$(users_of "$W"); before_audit=$(audit_count "$W")
good=$CSRF_H
CSRF_H=""
req POST /api/users '{"name":"eve","role":"admin","password":"xxxxxxxxxx"}'
expect_code 403 "POST /api/users without X-CSRF-Token"
expect_security_headers "a 403"
req DELETE /api/users/ann; expect_code 403 "DELETE without X-CSRF-Token"
CSRF_H="${good%?}x"
req POST /api/users '{"name":"eve","role":"admin","password":"xxxxxxxxxx"}'
expect_code 403 "POST /api/users with a wrong X-CSRF-Token"
CSRF_H="$good"
req POST /api/users '{"name":"eve","role":"admin","password":"xxxxxxxxxx"}' -H "Origin: http://evil.example"
expect_code 403 "a request from another origin"
req GET /api/users "" -H "Host: evil.example:$PORT"
expect_code 403 "a Host that is not loopback (DNS rebinding)"
expect_security_headers "a 403 for Host"
# --- bad paths, bodies: 400/404/413 and nothing written ----------------------------
for p in "/api/users/..%2Fann" "/api/users/..%2f..%2fann" "/api/users/%2e%2e" "/api/users/a%00b" \
	 "/api/users/a%2Fb" "/api/users/a%0ab" "/api/users/%zz" "/api/users/a%" "/api/users/$(printf 'x%.0s' $(seq 1 70))"; do
	req DELETE "$p"; expect_code 400 "DELETE $p"
	expect_security_headers "400 for $p"
done
req DELETE "/api/users/../users/ann"; [ "$CODE" = 400 ] || [ "$CODE" = 404 ] && ok || bad "DELETE /api/users/../users/ann: $CODE"
req DELETE "/api/users//ann"; expect_code 404 "an empty path segment"
req POST /api/users '{"name":"eve","role":"admin"'; expect_code 400 "malformed JSON"
expect_grep '"error":"the body is not JSON' "$T/body" "malformed JSON says so"
req POST /api/users '[1,2]'; expect_code 400 "a JSON array body"
req POST /api/users '{"name":"eve","role":"admin","password":"xxxxxxxxxx","extra":1}'; expect_code 400 "an unknown field"
expect_grep "field 'extra'" "$T/body" "the unknown field is named"
req POST /api/users '{"name":"eve","role":"boss","password":"xxxxxxxxxx"}'; expect_code 400 "a bad role"
expect_grep "field 'role'" "$T/body" "the bad field is named"
req POST /api/users '{"name":7,"role":"admin","password":"xxxxxxxxxx"}'; expect_code 400 "a name that is not a string"
req POST /api/users '{"name":"e\u0000ve","role":"admin","password":"xxxxxxxxxx"}'; expect_code 400 "a NUL in a name"
req POST /api/users '{"name":"eve","role":"admin","password":"xxxxxxxxxx"}' -H 'Content-Type: text/plain'
expect_code 400 "a body that is not sent as JSON"
python3 -c 'import sys; sys.stdout.write("{\"name\":\"eve\",\"role\":\"admin\",\"password\":\"" + "x"*(1<<20) + "\"}")' >"$T/big.json"
req POST /api/users "@$T/big.json"; expect_code 413 "a body over 1 MiB"
expect_security_headers "a 413"
req POST /api/users "@$T/big.json" -H "Transfer-Encoding: chunked"; expect_code 413 "a chunked body over 1 MiB"
expect_eq "$before_users" "$(users_of "$W")" "refused requests changed no user"
expect_eq "$before_audit" "$(audit_count "$W")" "refused requests wrote no audit record"

# --- changes that pass --------------------------------------------------------------
req POST /api/users '{"name":"eve","role":"annotator","password":"eve-password"}'
expect_code 201 "admin: POST /api/users"
expect_grep "^eve:annotator" <(users_of "$W") "the user is made"
"$MOAT" -w "$W" audit log --json >"$T/log.json"
python3 - "$T/log.json" <<'PY' && ok || bad "the audit record of POST /api/users names the admin as actor"
import json, sys
r = json.load(open(sys.argv[1]))[-1]
assert r.get("actor"), r
assert r["outputs"] == {"user": "eve", "role": "annotator"}, r["outputs"]
PY
expect_no_value text "$T/log.json" "no password in the trail" --full "eve-password" --full 'scrypt$'
# a CLI stage holding the writer lock does not block serve
flock -x "$W/moat.lock" sleep 20 &
lockpid=$!
sleep 0.3
t0=$(date +%s%N)
req DELETE /api/users/eve; expect_code 200 "DELETE while a CLI stage holds moat.lock"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 5000 ] && ok || bad "serve waited ${ms} ms for moat.lock"
kill "$lockpid"; wait "$lockpid" 2>/dev/null
expect_rc 0 "$MOAT" -w "$W" audit verify

# --- logout, expiry -----------------------------------------------------------------
req POST /api/logout; expect_code 200 "logout"
expect_grep '^Set-Cookie: moat_session=;.*Max-Age=0' <(tr -d '\r' <"$T/hdr") "logout clears the cookie"
req GET /api/session; expect_code 401 "the session after logout"
serve_stop_all
serve_start "$W" --session-hours 0.001 || { finish; exit 1; }   # 3.6 s
login_as ann annotator-pass
req GET /api/session; expect_code 200 "a short session, at once"
sleep 4.5
req GET /api/session; expect_code 401 "a session past its expiry"

# --- --web-dir: the page's files from disk (development) -------------------------------
serve_stop_all
mkdir -p "$T/webdir/sub" "$T/webdir/.hidden"
echo '<p>dev page</p>' >"$T/webdir/index.html"
echo 'export const x = 1;' >"$T/webdir/sub/a.js"
echo secret >"$T/webdir/.hidden/f.txt"
echo secret >"$T/outside.txt"
ln -s "$T/outside.txt" "$T/webdir/link.txt"
serve_start "$W" --web-dir "$T/webdir" || { finish; exit 1; }
req GET /; expect_code 200 "--web-dir: the index from disk"
expect_grep "dev page" "$T/body" "--web-dir: the file's content"
expect_security_headers "--web-dir"
req GET /sub/a.js; expect_code 200 "--web-dir: a module"
expect_grep '^Content-Type: text/javascript' "$T/hdr" "--web-dir: a module's type"
echo '<p>changed</p>' >"$T/webdir/index.html"
req GET /; expect_grep "changed" "$T/body" "--web-dir: read at each request"
for p in /link.txt /.hidden/f.txt /sub/../../outside.txt /%2e%2e/outside.txt /sub /nothing.html; do
	req GET "$p"; expect_code 404 "--web-dir: $p"
	if grep -q secret "$T/body"; then bad "--web-dir: $p gave a file outside"; else ok; fi
done
req GET /api/openapi.json; expect_code 200 "--web-dir: the API stays"

# --- stopping -----------------------------------------------------------------------
kill -TERM "$SPID"; wait "$SPID"; rc=$?
SPIDS=""
expect_eq 0 "$rc" "SIGTERM: serve exits 0"
expect_grep "stopping" "$T/serve.err" "SIGTERM is said"
finish
