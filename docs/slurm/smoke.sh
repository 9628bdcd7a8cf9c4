#!/usr/bin/env bash
# docs/slurm/smoke.sh: run docs/sweeps/grid.toml as a job array on a real,
# throwaway, single-node Slurm and check that the merged shards are
# byte-identical (runs.csv, steps.parquet, agg.csv) to the same sweep run locally.
#
#   sudo bash docs/slurm/smoke.sh    # from any folder; 6-10 s, plus ~10 s to install the packages
#
# Needs root and Debian's packages (installed when missing):
# slurmctld slurmd slurm-client munge. There is no systemd here: munged,
# slurmctld and slurmd are started by hand on loopback, on free ports, with
# everything (munge key and socket, slurm.conf, state, spool, pid and log files,
# the binary, the outputs) in one temporary folder that is removed at the end;
# the daemons are stopped by pid whatever happens. Nothing outside that folder
# is touched besides the package install, so it can run twice in a row, or next
# to another copy of itself. Ends with "slurm smoke: ok", or exits non-zero with
# the reason and the tail of the daemon logs.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.."
repo=$(pwd)
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# Run even from inside a Slurm job or a Kubernetes Job: settings of an outer
# cluster must not reach this one's commands or the sweep's shard choice.
for v in $(compgen -e); do
	case $v in
	SLURM_* | SBATCH_* | SQUEUE_* | SINFO_* | SCONTROL_* | JOB_COMPLETION_INDEX | JOB_COMPLETIONS) unset "$v" ;;
	esac
done

SWEEP=docs/sweeps/grid.toml
SHARDS=4                # array tasks, hence shards
START=$SECONDS

say() { printf 'slurm smoke: %s (%ds)\n' "$*" $((SECONDS - START)); }
fail() {
	printf 'slurm smoke: FAILED: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || fail "must run as root (it installs packages and starts munged, slurmctld and slurmd)"

# (a) Packages. Try the install first; refresh the package lists only if it fails.
pkgs=(slurmctld slurmd slurm-client munge)
missing=0
for cmd in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
	command -v "$cmd" >/dev/null || missing=1
done
if [ "$missing" -eq 1 ]; then
	say "installing ${pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	aptlog=$(mktemp)
	if ! apt-get install -y --no-install-recommends "${pkgs[@]}" >"$aptlog" 2>&1; then
		say "install failed; apt-get update and retry"
		if ! { apt-get update && apt-get install -y --no-install-recommends "${pkgs[@]}"; } >>"$aptlog" 2>&1; then
			tail -n 20 "$aptlog" >&2
			rm -f "$aptlog"
			fail "could not install ${pkgs[*]}"
		fi
	fi
	rm -f "$aptlog"
fi
command -v go >/dev/null || fail "go is not on PATH (needed to build rewardmix)"

# Everything lives here. 0755: munged refuses a socket folder that others
# cannot traverse. Under /tmp rather than $TMPDIR: the munge socket's path must
# stay short (a Unix socket path has at most 107 bytes).
tmp=$(mktemp -d /tmp/rewardmix-slurm-smoke.XXXXXX)
chmod 0755 "$tmp"
mkdir -p "$tmp"/{munge,state,spool,log,jobs,bin,out,local}
chmod 0755 "$tmp/munge"

munged_pid="" ctld_pid="" slurmd_pid="" jobid=""

# pid_alive PID: the process exists and is not a zombie (a stopped daemon
# whose parent does not reap it stays as a zombie for a while).
pid_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# stop NAME PID: SIGTERM, wait up to 10 s for the exit, then SIGKILL.
stop() {
	local name=$1 pid=$2 i
	[ -n "$pid" ] || return 0
	pid_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	echo "slurm smoke: $name (pid $pid) did not stop on SIGTERM; killing it" >&2
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	echo "slurm smoke: $name (pid $pid) still running" >&2
}

show_logs() {
	local f
	for f in "$tmp"/log/*.log "$tmp"/jobs/*.out; do
		[ -s "$f" ] || continue
		echo "---- tail of ${f#"$tmp"/}" >&2
		tail -n 25 "$f" >&2
	done
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [ "$rc" -ne 0 ]; then
		show_logs
	fi
	if [ -n "$jobid" ] && [ -n "$ctld_pid" ] && pid_alive "$ctld_pid"; then
		# Leave no job steps behind writing into the folder we remove.
		timeout 5 scancel "$jobid" >/dev/null 2>&1
		for ((i = 0; i < 50; i++)); do
			[ -z "$(timeout 5 squeue -h -j "$jobid" -o %i 2>/dev/null)" ] && break
			sleep 0.1
		done
	fi
	stop slurmd "$slurmd_pid"
	stop slurmctld "$ctld_pid"
	stop munged "$munged_pid"
	rm -rf "$tmp"
	if [ "$rc" -ne 0 ]; then
		echo "slurm smoke: failed (exit $rc)" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "slurm smoke: interrupted" >&2; exit 130' INT
trap 'echo "slurm smoke: terminated" >&2; exit 143' TERM
trap 'echo "slurm smoke: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR

# wait_for SECONDS WHAT COMMAND...: retry COMMAND every 0.2 s until it
# succeeds; fail after SECONDS.
wait_for() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${secs}s waiting for $what"
		sleep 0.2
	done
}

# free_port: a TCP port nobody listens on, so that a second copy of this script
# (or a lingering socket of the previous one) cannot collide with this one.
free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 40000))
		[ "$p" != "${1:-}" ] || continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# (b) The binary, built into the temporary folder.
say "building rewardmix"
bin=$tmp/bin/rewardmix
go build -o "$bin" ./cmd/rewardmix

# (c) munged, slurmctld and slurmd on loopback.
say "starting munged"
sock=$tmp/munge/munge.socket
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 0400 "$tmp/munge/munge.key"
munged --socket="$sock" --key-file="$tmp/munge/munge.key" \
	--pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" \
	--seed-file="$tmp/munge/munged.seed" ||
	fail "munged did not start"
wait_for 10 "munged's pid file" test -s "$tmp/munge/munged.pid"
munged_pid=$(cat "$tmp/munge/munged.pid")
wait_for 10 "munge to answer" sh -c "munge -S '$sock' -n | unmunge -S '$sock'"

node=$(hostname -s)
ctld_port=$(free_port) || fail "no free port"
slurmd_port=$(free_port "$ctld_port") || fail "no free port"
# The node's layout as slurmd sees it (avoids a reconfiguration warning).
hw=$(slurmd -C | head -n 1)
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$hw"; }
cpus=$(field CPUs)
layout="CPUs=${cpus:-1}"
for k in Boards SocketsPerBoard CoresPerSocket ThreadsPerCore; do
	v=$(field "$k")
	[ -z "$v" ] || layout+=" $k=$v"
done

export SLURM_CONF=$tmp/slurm.conf
: >"$tmp/plugstack.conf" # ignore /etc/slurm/plugstack.conf
cat >"$SLURM_CONF" <<EOF
# Written by docs/slurm/smoke.sh: a throwaway single-node cluster on loopback.
ClusterName=rmxsmoke
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
PlugStackConfig=$tmp/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node NodeAddr=127.0.0.1 $layout State=UNKNOWN
PartitionName=smoke Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

say "starting slurmctld (port $ctld_port) and slurmd (port $slurmd_port) for node $node"
slurmctld || fail "slurmctld did not start"
wait_for 10 "slurmctld's pid file" test -s "$tmp/slurmctld.pid"
ctld_pid=$(cat "$tmp/slurmctld.pid")
wait_for 20 "slurmctld to answer" scontrol ping
slurmd || fail "slurmd did not start"
wait_for 10 "slurmd's pid file" test -s "$tmp/slurmd.pid"
slurmd_pid=$(cat "$tmp/slurmd.pid")

# (d) The node must be idle before jobs are submitted.
node_idle() { [ "$(sinfo -h -N -n "$node" -o %T 2>/dev/null)" = idle ]; }
deadline=$((SECONDS + 30))
until node_idle; do
	[ "$SECONDS" -lt "$deadline" ] ||
		fail "node $node is not idle after 30s: $(sinfo -h -N -o '%T %E' 2>&1 || true)"
	sleep 0.2
done
say "node $node idle"

# (e) The sweep as a job array, one shard per task, with docs/slurm/sweep.sbatch.
# The script's settings travel in sbatch's environment (--export=ALL): naming
# variables in --export makes slurmd build the user's login environment first
# (su - root), which costs seconds per task.
jobid=$(REWARDMIX=$bin SWEEP=$SWEEP OUT=$tmp/out/grid \
	sbatch --parsable --export=ALL --array=0-$((SHARDS - 1)) --chdir="$repo" \
	--output="$tmp/jobs/%A_%a.out" docs/slurm/sweep.sbatch)
jobid=${jobid%%;*}
[[ $jobid =~ ^[0-9]+$ ]] || fail "sbatch printed no job id: $jobid"
say "submitted job array $jobid ($SHARDS tasks)"
array_done() {
	local q
	q=$(squeue -h -j "$jobid" -o %i) || return 1 # an error is not "done"
	[ -z "$q" ]
}
wait_for 60 "job array $jobid to finish" array_done

# Every task must have completed with exit code 0 (no accounting database
# here, so no sacct: scontrol keeps finished jobs for MinJobAge, 300 s).
jobs=$(scontrol -o show job "$jobid")
ntasks=0
bad=""
while read -r line; do
	[ -n "$line" ] || continue
	task=$(grep -o 'ArrayTaskId=[^ ]*' <<<"$line" | cut -d= -f2)
	state=$(grep -o 'JobState=[^ ]*' <<<"$line" | cut -d= -f2)
	code=$(grep -o ' ExitCode=[^ ]*' <<<"$line" | cut -d= -f2)
	ntasks=$((ntasks + 1))
	if [ "$state" != COMPLETED ] || [ "$code" != 0:0 ]; then
		bad+=" task $task: $state exit $code;"
	fi
done <<<"$jobs"
[ "$ntasks" -eq "$SHARDS" ] || fail "scontrol shows $ntasks tasks of job $jobid, want $SHARDS"
[ -z "$bad" ] || fail "job array $jobid:$bad"
say "all $SHARDS tasks completed with exit code 0"

# (f) Merge the shards.
"$bin" merge "$tmp"/out/grid-shard-* -o "$tmp/out/grid"

# (g) The same sweep on this machine, unsharded (the array-job environment
# this script may itself run in was cleared above), then byte-for-byte
# comparison.
say "running the same sweep locally"
"$bin" sweep "$SWEEP" -o "$tmp/local/grid" --quiet
for f in runs.csv steps.parquet agg.csv; do
	[ -s "$tmp/local/grid/$f" ] || fail "local run wrote no $f"
	cmp "$tmp/out/grid/$f" "$tmp/local/grid/$f" || fail "$f differs between the Slurm shards, merged, and the local run"
done
runs=$(($(wc -l <"$tmp/local/grid/runs.csv") - 1))
say "merged runs.csv, steps.parquet and agg.csv ($runs runs) are identical to the local run"

# (h) happens in cleanup, on EXIT.
echo "slurm smoke: ok"
