#!/bin/sh
# pg_server.sh - a throw-away PostgreSQL 15 server for tests, on a loopback
# TCP port, in a temporary directory.
#
#   tests/pg_server.sh start DIR   initdb into DIR/data, start it on 127.0.0.1
#                                  and a free port, create user and database
#                                  "moat" with a random password, write
#                                  DIR/pgpass (PGPASSFILE format, 0600) and
#                                  DIR/env (MOAT_STORE=postgres://moat@127.0.0.1:PORT/moat
#                                  and PGPASSFILE=DIR/pgpass, for sourcing)
#   tests/pg_server.sh stop DIR    stop that server (by its postmaster pid)
#   tests/with-pg CMD...           start, run CMD with DIR/env, stop
#
# PostgreSQL refuses to run as root: as root the server runs as the OS user
# "postgres" (Debian's package creates it; MOAT_PG_USER names another), and
# DIR/data belongs to it.  The password is only ever in DIR/pgpass, never on a
# command line.  Exit status 77 (skip) when PostgreSQL is not installed (1 under CI=true).
set -eu
cmd=${1:?usage: pg_server.sh start|stop DIR}
dir=${2:?usage: pg_server.sh start|stop DIR}
bindir=${MOAT_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
	echo "pg_server.sh: PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2
	# under CI a missing server is a failure, never a skip (scripts/bootstrap installs it)
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "${MOAT_PG_USER:-postgres}" -- "$@"
	else
		"$@"
	fi
}

case $cmd in
start)
	mkdir -p "$dir"
	data=$dir/data
	sock=$dir/sock
	mkdir -p "$data" "$sock"
	chmod 0700 "$data"
	if [ "$(id -u)" = 0 ]; then
		chmod 0755 "$dir"
		chown "${MOAT_PG_USER:-postgres}" "$data" "$sock"
	fi
	pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	umask 077
	printf '%s\n' "$pw" >"$dir/pwfile"
	[ "$(id -u)" = 0 ] && chown "${MOAT_PG_USER:-postgres}" "$dir/pwfile"
	as_pg "$bindir/initdb" -D "$data" -U moat --pwfile="$dir/pwfile" -E UTF8 --locale=C \
		--auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	rm -f "$dir/pwfile"
	tries=0
	while :; do
		port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
		if as_pg "$bindir/pg_ctl" -D "$data" -w -t 30 -l "$data/server.log" \
			-o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1; then
			break
		fi
		tries=$((tries + 1))
		if [ "$tries" -ge 5 ]; then
			echo "pg_server.sh: the server does not start:" >&2
			cat "$data/server.log" >&2
			exit 1
		fi
	done
	printf '127.0.0.1:%s:*:moat:%s\n' "$port" "$pw" >"$dir/pgpass"
	chmod 0600 "$dir/pgpass"
	PGPASSFILE=$dir/pgpass "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U moat -d postgres \
		-c 'CREATE DATABASE moat' >/dev/null
	printf 'MOAT_STORE=postgres://moat@127.0.0.1:%s/moat\nPGPASSFILE=%s\nexport MOAT_STORE PGPASSFILE\n' \
		"$port" "$dir/pgpass" >"$dir/env"
	;;
stop)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	;;
*)
	echo "usage: pg_server.sh start|stop DIR" >&2
	exit 2
	;;
esac
