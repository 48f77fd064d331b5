# slurm_cluster.sh - sourced by a CLI test (after lib.sh): a single-node
# Slurm cluster on loopback, built from Debian's slurmctld, slurmd and munge,
# that lives in a temporary directory and dies with the test.
#
#   slurm_start DIR [--accounting]
#                       writes DIR/slurm.conf and a munge key, starts munged,
#                       slurmctld and slurmd in the foreground (-D) in the
#                       background, waits until the node is idle; exports
#                       SLURM_CONF so sbatch, squeue, scontrol and sacct find
#                       the cluster.  Returns 77 (skip) when a part is missing
#                       and 1 when the cluster does not come up (with the
#                       daemons' logs on stdout).
#   slurm_stop          stops what slurm_start started, by its process ids,
#                       the last started first, and removes the database's
#                       data directory.
#
# The node is this machine: NodeName=localhost with 2 CPUs (RealMemory left
# out: the node's own is taken), proctrack/linuxproc and task/none (no
# cgroups: they are not delegated to a container), state and spool in DIR.
#
# Without --accounting (the default) there is no accounting database:
# AccountingStorageType=accounting_storage/none, so `sacct` has no records
# (moat slurm falls back to squeue and the files each task writes; see
# docs/cluster.md).
#
# With --accounting, a throw-away MariaDB (Debian's mariadb-server) and
# slurmdbd (Debian's slurmdbd) keep the job records, as on a cluster with
# accounting: MariaDB is initialised into DIR/db/data (mariadb-install-db,
# root by unix_socket only), listens on DIR/db/mysql.sock and on a port of
# 127.0.0.1, and gets a user `slurm` with a random password and the rights
# on slurm_acct_db alone; DIR/slurmdbd.conf (mode 0600, beside slurm.conf,
# where slurmdbd looks for it) points slurmdbd at it; slurm.conf says
# AccountingStorageType=accounting_storage/slurmdbd; the cluster is added
# with sacctmgr before slurmctld starts.  Returns 77 when slurmdbd,
# mariadb-server or sacctmgr is missing.
#
# Slurm's connections to slurmdbd do not take AuthInfo's socket: for them
# AccountingStoragePass names the munge socket.  The partition lets 4 jobs
# share a core (OverSubscribe=FORCE:4), so that a 4-task array starts in one
# scheduling pass: Slurm 22.05 can store a task split off a pending array
# later (seen after an scancel of a task) without its array, as a job of its
# own that `sacct -j JOB` does not list.
#
# Ports are picked at random; the test runs in its own network namespace
# (tests/run-offline) anyway.  sacct here (Slurm 22.05) has no --array
# option: array tasks are listed as JOB_TASK without it.

SLURM_PIDS=""
SLURM_DB_DATA=""

slurm_log() { # prints the daemons' logs, for a failure
	local f
	for f in "$SLURM_DIR"/munged.log "$SLURM_DIR"/db/mariadbd.log "$SLURM_DIR"/slurmdbd.log \
		"$SLURM_DIR"/slurmdbd.out "$SLURM_DIR"/slurmctld.log "$SLURM_DIR"/slurmd.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
	done
}

# slurm_need CMD...: 0 when every command is installed (on PATH or in /usr/sbin)
slurm_need() {
	local b
	for b in "$@"; do
		if ! command -v "$b" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$b" ]; then
			echo "slurm_start: '$b' is not installed"
			return 1
		fi
	done
}

# slurm_db_start DIR PORT: MariaDB in DIR/db, on DIR/db/mysql.sock and
# 127.0.0.1:PORT, with a user slurm@127.0.0.1 whose random password goes to
# DIR/db/slurm.pw (mode 0600) and who may use slurm_acct_db only.
slurm_db_start() {
	local dir=$1 port=$2 db=$1/db i pw
	mkdir -p "$db/data" "$db/tmp" || return 1
	chmod 700 "$db"
	SLURM_DB_DATA=$db/data
	# --no-defaults everywhere: nothing of /etc/mysql applies
	if ! mariadb-install-db --no-defaults --user=root --datadir="$db/data" \
		--auth-root-authentication-method=socket --skip-test-db \
		>"$db/install.log" 2>&1; then
		echo "slurm_start: mariadb-install-db failed"
		tail -n 20 "$db/install.log"
		return 1
	fi
	mariadbd --no-defaults --user=root --datadir="$db/data" --tmpdir="$db/tmp" \
		--socket="$db/mysql.sock" --pid-file="$db/mariadbd.pid" --port="$port" \
		--bind-address=127.0.0.1 --skip-name-resolve --log-error="$db/mariadbd.log" \
		--innodb-buffer-pool-size=32M --skip-log-bin \
		>>"$db/mariadbd.out" 2>&1 &
	SLURM_PIDS="$SLURM_PIDS $!"
	for i in $(seq 150); do
		mariadb-admin --no-defaults --socket="$db/mysql.sock" -u root ping >/dev/null 2>&1 && break
		sleep 0.2
	done
	# random hex: nothing in it needs quoting in SQL or slurmdbd.conf
	pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	(umask 077 && printf '%s\n' "$pw" >"$db/slurm.pw") || return 1
	# root over the socket (unix_socket authentication: this runs as root)
	if ! printf "CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '%s';
		GRANT ALL PRIVILEGES ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';\n" "$pw" |
		mariadb --no-defaults --socket="$db/mysql.sock" -u root >"$db/grant.log" 2>&1; then
		echo "slurm_start: cannot create the database user"
		cat "$db/grant.log"
		return 1
	fi
}

# slurm_dbd_start DIR DB_PORT DBD_PORT: slurmdbd on 127.0.0.1:DBD_PORT,
# storing into the MariaDB of slurm_db_start; waits until sacctmgr reaches it.
slurm_dbd_start() {
	local dir=$1 db_port=$2 dbd_port=$3 i
	(umask 077 && cat >"$dir/slurmdbd.conf") <<EOF || return 1
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbd_port
SlurmUser=root
PidFile=$dir/slurmdbd.pid
LogFile=$dir/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=slurm
StoragePass=$(cat "$dir/db/slurm.pw")
StorageLoc=slurm_acct_db
EOF
	chmod 600 "$dir/slurmdbd.conf"
	# slurmdbd reads slurmdbd.conf from SLURM_CONF's directory
	slurmdbd -D >>"$dir/slurmdbd.out" 2>&1 &
	SLURM_PIDS="$SLURM_PIDS $!"
	for i in $(seq 150); do
		sacctmgr -n -P list cluster format=cluster >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "slurm_start: slurmdbd did not answer sacctmgr in 30 s"
	return 1
}

slurm_start() {
	local dir=$1 acct=0 i
	[ "${2:-}" = --accounting ] && acct=1
	SLURM_DIR=$dir
	SLURM_PIDS=""
	SLURM_DB_DATA=""
	if ! slurm_need munged slurmctld slurmd sbatch squeue scontrol; then
		echo "slurm_start: Debian: slurmctld slurmd munge slurm-client"
		return 77
	fi
	if [ "$acct" = 1 ] &&
		! slurm_need slurmdbd sacctmgr mariadbd mariadb-install-db mariadb mariadb-admin; then
		echo "slurm_start: --accounting needs Debian's slurmdbd and mariadb-server"
		return 77
	fi
	mkdir -p "$dir/state" "$dir/spool" "$dir/munge" || return 1
	if [ "${MOAT_OFFLINE:-}" = 1 ] && ! ip -4 addr show dev lo | grep -q '127\.0\.0\.2/'; then
		# Slurm resolves with AF_INET and AI_ADDRCONFIG, which glibc answers
		# only when an IPv4 address other than 127.0.0.1 is configured: in
		# the test's own network namespace (tests/run-offline), lo gets a
		# second loopback address, which reaches nothing beyond this machine
		ip addr add 127.0.0.2/8 dev lo || return 1
	fi
	chmod 700 "$dir/munge"
	# munged wants its key and directories owned by the user it runs as
	# (root here) and not writable by others
	dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none || return 1
	chmod 400 "$dir/munge/munge.key"
	local ctl_port=$((20000 + RANDOM % 20000)) d_port dbd_port db_port storage share
	d_port=$((ctl_port + 1))
	dbd_port=$((ctl_port + 2))
	db_port=$((ctl_port + 3))
	storage="AccountingStorageType=accounting_storage/none" share=""
	# with accounting, up to 4 tasks share a core: a 4-task array starts
	# whole, and no task is split off the array's pending record later
	# (see the header)
	[ "$acct" = 1 ] && share=" OverSubscribe=FORCE:4"
	[ "$acct" = 1 ] && storage="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$dbd_port
AccountingStoragePass=$dir/munge/munge.socket"
	cat >"$dir/slurm.conf" <<EOF
ClusterName=moattest
SlurmctldHost=localhost
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
$storage
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP$share
EOF
	: >"$dir/cgroup.conf"
	export SLURM_CONF=$dir/slurm.conf
	munged -F --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
		--pid-file="$dir/munge/munged.pid" --log-file="$dir/munged.log" \
		--seed-file="$dir/munge/munge.seed" >>"$dir/munged.log" 2>&1 &
	SLURM_PIDS="$!"
	for i in $(seq 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
	if [ "$acct" = 1 ]; then
		if ! slurm_db_start "$dir" "$db_port" || ! slurm_dbd_start "$dir" "$db_port" "$dbd_port"; then
			slurm_log
			return 1
		fi
		# job records need their cluster; adding it adds the root account
		# and root's association too
		if ! sacctmgr -n -P list cluster format=cluster | grep -qx moattest &&
			! sacctmgr -i add cluster moattest >"$dir/sacctmgr.out" 2>&1; then
			echo "slurm_start: sacctmgr cannot add the cluster"
			cat "$dir/sacctmgr.out"
			slurm_log
			return 1
		fi
	fi
	slurmctld -D -i -f "$dir/slurm.conf" >>"$dir/slurmctld.out" 2>&1 &
	SLURM_PIDS="$SLURM_PIDS $!"
	slurmd -D -N localhost -f "$dir/slurm.conf" >>"$dir/slurmd.out" 2>&1 &
	SLURM_PIDS="$SLURM_PIDS $!"
	for i in $(seq 150); do
		if sinfo -h -N -o '%T' 2>/dev/null | grep -qx 'idle'; then
			return 0
		fi
		sleep 0.2
	done
	echo "slurm_start: the node did not become idle in 30 s"
	sinfo -N 2>&1
	slurm_log
	return 1
}

slurm_stop() {
	local p pids=""
	# jobs first: scancel everything this cluster still runs
	[ -n "${SLURM_CONF:-}" ] && scancel --quiet -u "$(id -un)" 2>/dev/null
	# the last started first: slurmd and slurmctld before slurmdbd, slurmdbd
	# before its database, munged last
	for p in $SLURM_PIDS; do pids="$p $pids"; done
	for p in $pids; do
		kill "$p" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	SLURM_PIDS=""
	[ -n "$SLURM_DB_DATA" ] && rm -rf "$SLURM_DB_DATA"
	SLURM_DB_DATA=""
}
