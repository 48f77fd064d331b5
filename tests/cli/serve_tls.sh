#!/bin/bash
# serve_tls.sh - where `moat serve` listens, and TLS:
#  - a non-loopback --bind is refused (exit 2, saying why and what to do)
#    without --tls-cert/--tls-key or --insecure; --insecure serves and warns;
#  - --tls-cert without --tls-key is refused, and a key that is not a key fails;
#  - with a self-signed certificate made here by openssl, it serves HTTPS
#    (curl --cacert checks it), the start line says https, the session
#    cookie is Secure, and plain HTTP to that port gets no answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_common.sh"
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }

W="$T/ws"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
printf 'annotator-pass\n' >"$T/pa"
"$MOAT" -w "$W" users add ann --role annotator --password-file "$T/pa" >/dev/null

expect_rc 2 timeout 10 "$MOAT" -w "$W" serve --bind 0.0.0.0 --port 0
expect_grep "not a loopback address.*--tls-cert.*--insecure" "$T/err" "a non-loopback bind is refused and says why"
expect_rc 2 timeout 10 "$MOAT" -w "$W" serve --bind :: --port 0
expect_rc 2 timeout 10 "$MOAT" -w "$W" serve --bind 127.0.0.1 --port 0 --tls-cert "$T/none.pem"
expect_rc 2 timeout 10 "$MOAT" -w "$W" serve --bind example.org --port 0

serve_start "$W" --bind 0.0.0.0 --insecure || { finish; exit 1; }
expect_grep "warning: --insecure" "$T/serve.err" "--insecure warns"
CURL_BASE="http://127.0.0.1:$PORT"
req GET /api/session; expect_code 401 "--insecure serves"
unset CURL_BASE
serve_stop_all

# a self-signed certificate for 127.0.0.1
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null \
	|| { bad "openssl req failed"; finish; exit 1; }
echo "not a key" >"$T/bad.pem"
expect_rc 1 timeout 10 "$MOAT" -w "$W" serve --port 0 --tls-cert "$T/cert.pem" --tls-key "$T/bad.pem"

serve_start "$W" --bind 0.0.0.0 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || { finish; exit 1; }
expect_grep "^moat serve: https://0\.0\.0\.0:[0-9]+/\?token=" "$T/serve.out" "the start line says https"
CURL_BASE="https://127.0.0.1:$PORT"
req GET /api/session "" --cacert "$T/cert.pem"; expect_code 401 "HTTPS with the certificate checked"
expect_security_headers "over TLS"
req POST /api/login "{\"token\":\"$TOKEN\"}" --cacert "$T/cert.pem"
expect_code 200 "the token over TLS"
cookie=$(tr -d '\r' <"$T/hdr" | grep -i '^Set-Cookie: moat_session=')
case "$cookie" in *"; Secure"*) ok ;; *) bad "the cookie is not Secure under TLS: $cookie" ;; esac
req GET /api/session "" --cacert "$T/cert.pem"; expect_code 200 "the session over TLS"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/api/session")
[ "$code" != 200 ] && [ "$code" != 401 ] && ok || bad "plain HTTP answered on the TLS port: $code"
curl -s -o /dev/null --max-time 5 "https://127.0.0.1:$PORT/api/session" && bad "an unchecked certificate was accepted by curl" || ok
unset CURL_BASE
finish
