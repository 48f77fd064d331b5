# slurm_cluster.sh - sourced by a CLI test (after lib.sh): a single-node
# Slurm cluster on loopback, built from Debian's slurmctld, slurmd and munge,
# that lives in a temporary directory and dies with the test.
#
#   slurm_start DIR     writes DIR/slurm.conf and a munge key, starts munged,
#                       slurmctld and slurmd in the foreground (-D) in the
#                       background, waits until the node is idle; exports
#                       SLURM_CONF so sbatch, squeue, scontrol and sacct find
#                       the cluster.  Returns 77 (skip) when a part is missing
#                       and 1 when the cluster does not come up (with the
#                       daemons' logs on stdout).
#   slurm_stop          stops what slurm_start started, by its process ids.
#
# The node is this machine: NodeName=localhost with 2 CPUs (RealMemory left
# out: the node's own is taken), proctrack/linuxproc and task/none (no
# cgroups: they are not delegated to a container), state and spool in DIR.
# No accounting database: AccountingStorageType=accounting_storage/none, so
# `sacct` has no records (moat slurm falls back to squeue and the files each
# task writes; see docs/cluster.md).  Ports are picked at random; the test
# runs in its own network namespace (tests/run-offline) anyway.  sacct
# here (Slurm 22.05) has no --array option: array tasks are listed as
# JOB_TASK without it.

SLURM_PIDS=""

slurm_log() { # prints the daemons' logs, for a failure
	local f
	for f in "$SLURM_DIR"/munged.log "$SLURM_DIR"/slurmctld.log "$SLURM_DIR"/slurmd.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
	done
}

slurm_start() {
	local dir=$1 b i
	SLURM_DIR=$dir
	for b in munged slurmctld slurmd sbatch squeue scontrol; do
		if ! command -v "$b" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$b" ]; then
			echo "slurm_start: '$b' is not installed (Debian: slurmctld slurmd munge slurm-client)"
			return 77
		fi
	done
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
	local ctl_port=$((20000 + RANDOM % 20000)) d_port
	d_port=$((ctl_port + 1))
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
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
	: >"$dir/cgroup.conf"
	export SLURM_CONF=$dir/slurm.conf
	munged -F --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
		--pid-file="$dir/munge/munged.pid" --log-file="$dir/munged.log" \
		--seed-file="$dir/munge/munge.seed" >>"$dir/munged.log" 2>&1 &
	SLURM_PIDS="$!"
	for i in $(seq 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
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
	local p
	# jobs first: scancel everything this cluster still runs
	[ -n "${SLURM_CONF:-}" ] && scancel --quiet -u "$(id -un)" 2>/dev/null
	for p in $SLURM_PIDS; do kill "$p" 2>/dev/null; done
	for p in $SLURM_PIDS; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	SLURM_PIDS=""
}
