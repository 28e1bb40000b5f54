#!/bin/sh
# run.sh - `make bench`: agent workloads timed natively (on a copy), in a
# wardfs mount and in a fuse-overlayfs mount over the same lower tree, with
# the upper layers on the same disk.  Not a test: nothing here is part of
# `make test`.  See --help, and SPEC.md section 10.

# The Makefile starts us with sh; the rest needs bash.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi

set -u -o pipefail
export LC_ALL=C
# `make bench` would hand its jobserver to the C-build workload.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WARDFS_BIN=${WARDFS_BIN:-$REPO/wardfs}
CACHE_ROOT=${WARDFS_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wardfs-bench}
RESULTS=${WARDFS_BENCH_RESULTS:-$HERE/results}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
KERNEL_TARBALL=/usr/src/linux-source-6.1.tar.xz
# Bump when the fixtures change, so the cached tree is rebuilt.
FIXTURE_VERSION=2

ALL_WORKLOADS="gitstatus gitdiff find rg extract build copyup seqwrite stat ls-lR chmod seqread"

usage() {
	cat <<EOF
usage: sh tests/bench/run.sh [--quick] [--runs N] [--only WORKLOAD[,...]]
                             [--stem NAME] [--prepare] [--keep]

Times what an agent runs over a large tree natively (on a copy of the
tree), in a wardfs mount and in a fuse-overlayfs mount over the same lower
layer, alternating the three, and prints medians and ratios.

The tree is the Linux 6.1 source from Debian's linux-source-6.1 (installed
when missing and root), extracted once into
$CACHE_ROOT
and committed as a git repository.  Write workloads get a fresh session
(and a fresh fuse-overlayfs upper) for every measurement; read workloads
get one session each and an untimed warm-up run.

    --quick        a synthetic tree of 5,000 files, smaller files and
                   counts, 3 runs (for developing the bench)
    --runs N       measurements per workload and mode (default 5, quick 3)
    --only LIST    comma-separated workloads (default: all):
                     gitstatus  git status, warm
                     gitdiff    git diff --stat HEAD after editing 50 files
                                (also: git status, first in a fresh session)
                     find       find . -type f | wc -l
                     rg         rg -c 'static inline'
                     extract    tar -x of a 20,000-file tarball, then rm -rf
                     build      200 translation units, gcc -c, make -j2
                     copyup     append a line to 2,000 files; rewrite 1 MiB
                                in the middle of a 200 MB file
                     seqwrite   write a 1 GiB file
                     seqread    read a 1 GiB file, cold (root) and warm
                     stat       lstat of 100,000 paths
                     ls-lR      ls -lR
                     chmod      chmod of 5,000 files
                     metadata   stat,ls-lR,chmod
    --stem NAME    add to the results named NAME (an earlier run of the
                   same tree, e.g. the workloads it did not reach) and
                   report them together
    --prepare      build the cached tree and fixtures, then stop
    --keep         keep the scratch directory (mounts are still undone)
    -h, --help     show this help

Environment: WARDFS_BIN (default ./wardfs), WARDFS_BENCH_CACHE (default
\${XDG_CACHE_HOME:-~/.cache}/wardfs-bench), WARDFS_BENCH_RESULTS (default
tests/bench/results).  Results: RESULTS/<date>-<tree>.{txt,json,summary.csv,
samples.csv,rss.csv,machine.json,load}.
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf 'bench: warning: %s\n' "$*" >&2; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

# --- options ----------------------------------------------------------------

QUICK=0 RUNS= ONLY= PREPARE=0 KEEP=0 STEM=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--runs)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		RUNS=$2
		shift
		;;
	--runs=*) RUNS=${1#--runs=} ;;
	--only)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		ONLY=$2
		shift
		;;
	--only=*) ONLY=${1#--only=} ;;
	--stem)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		STEM=$2
		shift
		;;
	--prepare) PREPARE=1 ;;
	--keep) KEEP=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	TREE=quick NFILES=5000 NEDIT=50 NAPPEND=500 NCHMOD=1000
	NEXTRACT=2000 NTU=40 BIG_MIB=32 SEQ_MIB=128 NSTAT=20000
	: "${RUNS:=3}"
else
	TREE=linux-6.1 NFILES= NEDIT=50 NAPPEND=2000 NCHMOD=5000
	NEXTRACT=20000 NTU=200 BIG_MIB=200 SEQ_MIB=1024 NSTAT=100000
	: "${RUNS:=5}"
fi
case $RUNS in
'' | *[!0-9]* | 0) die "--runs wants a positive number, not '$RUNS'" ;;
esac

WANT=
for w in $(printf '%s' "${ONLY:-$ALL_WORKLOADS}" | tr ',' ' '); do
	case " $ALL_WORKLOADS metadata " in
	*" $w "*) ;;
	*) die "unknown workload '$w' (see --help)" ;;
	esac
	[ "$w" = metadata ] && w="stat ls-lR chmod"
	WANT="$WANT $w"
done
wanted() { case " $WANT " in *" $1 "*) return 0 ;; esac; return 1; }

# --- dependencies -------------------------------------------------------------

IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1

# Install Debian packages PKG... when some COMMAND is missing and we are root.
need_packages() {
	local missing=
	while [ $# -gt 1 ]; do
		command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
		shift 2
	done
	[ -z "$missing" ] && return 0
	if [ "$IS_ROOT" != 1 ] || ! command -v apt-get >/dev/null; then
		warn "missing packages:$missing (install them, or run as root)"
		return 1
	fi
	say "installing:$missing"
	apt-get update -q >/dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $missing >/dev/null
}

need_packages git git gcc gcc make make fuse-overlayfs fuse-overlayfs \
	fusermount3 fuse3 "$PY" python3 ||
	die "cannot run without git, gcc, make, python3 and fuse-overlayfs"
if wanted rg && ! need_packages rg ripgrep; then
	warn "no ripgrep: skipping the rg workload"
	WANT=${WANT/ rg/}
fi
if [ "$QUICK" = 0 ] && [ ! -f "$KERNEL_TARBALL" ]; then
	[ "$IS_ROOT" = 1 ] || die "no $KERNEL_TARBALL: install linux-source-6.1 (or use --quick)"
	say "installing: linux-source-6.1"
	apt-get update -q >/dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends linux-source-6.1 >/dev/null ||
		die "cannot install linux-source-6.1"
	[ -f "$KERNEL_TARBALL" ] || die "linux-source-6.1 did not install $KERNEL_TARBALL"
fi
if [ "$PREPARE" = 0 ]; then
	[ -x "$WARDFS_BIN" ] || die "no wardfs binary at '$WARDFS_BIN' (make all, or set WARDFS_BIN)"
	[ -c /dev/fuse ] || die "no /dev/fuse: cannot mount"
fi

# --- the cached tree ------------------------------------------------------------

TDIR=$CACHE_ROOT/$TREE
LOWER=$TDIR/lower
LISTS=$TDIR/lists
TARBALL=$TDIR/extract.tar
STAMP="$FIXTURE_VERSION $TREE $NFILES $NEDIT $NAPPEND $NCHMOD $NEXTRACT $NTU $BIG_MIB $SEQ_MIB"

# Debian's linux-source adds "/*" to the top .gitignore (its packaging
# repository tracks only debian/); upstream tracks the whole tree.
strip_debian_ignore() {
	[ -f .gitignore ] || return 0
	sed -i -e '/^\/\*$/d' -e '/^!\/debian\/$/d' .gitignore
}

prepare_tree() {
	if [ -f "$TDIR/ready" ] && [ "$(cat "$TDIR/ready")" = "$STAMP" ]; then
		return 0
	fi
	say "preparing the $TREE tree in $TDIR (once)"
	rm -rf --one-file-system "$TDIR" || die "cannot clear '$TDIR'"
	mkdir -p "$TDIR/src" || die "cannot create '$TDIR'"
	if [ "$QUICK" = 1 ]; then
		"$PY" "$HERE/gen.py" tree "$LOWER" "$NFILES" || die "cannot generate the tree"
	else
		tar -xf "$KERNEL_TARBALL" -C "$TDIR/src" ||
			die "cannot extract '$KERNEL_TARBALL'"
		mv "$TDIR/src/linux-source-6.1" "$LOWER" ||
			die "unexpected layout in '$KERNEL_TARBALL'"
	fi
	rmdir "$TDIR/src"
	# Fixtures outside git (ignored through .git/info/exclude).
	mkdir -p "$LOWER/bench-data" &&
		"$PY" "$HERE/gen.py" cbuild "$LOWER/bench-data/cbuild" "$NTU" &&
		head -c $((BIG_MIB << 20)) /dev/urandom >"$LOWER/bench-data/big.bin" &&
		head -c $((SEQ_MIB << 20)) /dev/urandom >"$LOWER/bench-data/seq.bin" ||
		die "cannot write the fixtures"
	(
		cd "$LOWER" &&
			git init -q &&
			git config user.name bench && git config user.email bench@wardfs &&
			git config gc.auto 0 &&
			printf '/bench-data/\n' >>.git/info/exclude &&
			strip_debian_ignore &&
			git add -A -f -- . ':!bench-data' &&
			git commit -q -m "$TREE" && git gc -q &&
			git status >/dev/null
	) || die "cannot make '$LOWER' a git repository"
	"$PY" "$HERE/gen.py" lists "$LOWER" "$LISTS" "$NEDIT" "$NAPPEND" \
		"$NCHMOD" "$NEXTRACT" || die "cannot pick the path lists"
	tar -cf "$TARBALL" -C "$LOWER" -T "$LISTS/extract.list" ||
		die "cannot build the extract tarball"
	printf '%s\n' "$STAMP" >"$TDIR/ready"
}

prepare_tree
[ "$PREPARE" = 1 ] && { say "tree ready: $LOWER"; exit 0; }

# --- scratch, mounts and cleanup ----------------------------------------------------

RUN=$CACHE_ROOT/run
MW=$RUN/mnt-wardfs
MF=$RUN/mnt-fov
NATIVE=$RUN/native
W_HOME=$RUN/wardfs-home
F_DIR=$RUN/fov
LOG=$RUN/bench.log
W_PID= F_PID=

# Unmount whatever is mounted below $RUN (a crashed earlier bench too).
unmount_all() {
	local mp
	awk -v run="$RUN/" 'index($5, run) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r mp; do
		fusermount3 -u -z "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
	done
}

# Is process $1 alive?  A zombie is not: the daemons are not our children,
# and whoever reaps orphans here may be slow to.
alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Wait up to $2 tenths of a second for process $1 to be gone.
wait_gone() {
	local i=0
	while [ -n "$1" ] && alive "$1"; do
		[ "$i" -ge "$2" ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}

reap() {
	[ -n "$1" ] || return 0
	wait_gone "$1" 50 && return 0
	kill -TERM "$1" 2>/dev/null
	wait_gone "$1" 50 && return 0
	kill -KILL "$1" 2>/dev/null
	wait_gone "$1" 50
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	unmount_all
	reap "$W_PID"
	reap "$F_PID"
	if [ "$KEEP" = 1 ]; then
		say "scratch kept in $RUN"
	elif [ -d "$RUN" ]; then
		[ -f "$LOG" ] && [ "$rc" != 0 ] && cp "$LOG" "$CACHE_ROOT/last-failed.log" &&
			say "log: $CACHE_ROOT/last-failed.log"
		rm -rf --one-file-system "$RUN"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

unmount_all
rm -rf --one-file-system "$RUN" || die "cannot clear '$RUN'"
mkdir -p "$RUN" "$MW" "$MF" "$RESULTS" || die "cannot create '$RUN'"
: >"$LOG"
# A copy of the binary: other work may rebuild ./wardfs while we run.
WBIN=$RUN/wardfs
cp "$WARDFS_BIN" "$WBIN" || die "cannot copy '$WARDFS_BIN'"

w_mount() {
	local out p
	rm -rf --one-file-system "$W_HOME"
	mkdir -p "$W_HOME"
	out=$(WARDFS_HOME=$W_HOME "$WBIN" mount "$LOWER" "$MW" 2>>"$LOG") ||
		die "wardfs mount failed (see $LOG)"
	printf 'wardfs: %s\n' "$out" >>"$LOG"
	W_PID=
	for p in $(pgrep -f "wardfs mount"); do
		if grep -qzx "WARDFS_HOME=$W_HOME" "/proc/$p/environ" 2>/dev/null; then
			W_PID=$p
		fi
	done
	[ -n "$W_PID" ] || die "cannot find the wardfs daemon"
}

# Record the daemon's peak RSS for workload $2 (daemon $1, pid $3).
record_rss() {
	local kib
	kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$3/status" 2>/dev/null)
	[ -n "$kib" ] && printf '%s,%s,%s\n' "$2" "$1" "$kib" >>"$RSS"
}

w_umount() {
	record_rss wardfs "$1" "$W_PID"
	WARDFS_HOME=$W_HOME "$WBIN" umount "$MW" >>"$LOG" 2>&1 || {
		warn "wardfs umount failed (see $LOG); unmounting lazily"
		fusermount3 -u -z "$MW" 2>>"$LOG"
	}
	wait_gone "$W_PID" 200 || warn "the wardfs daemon $W_PID outlived its unmount"
	reap "$W_PID"
	W_PID=
	rm -rf --one-file-system "$W_HOME"
}

f_mount() {
	rm -rf --one-file-system "$F_DIR"
	mkdir -p "$F_DIR/upper" "$F_DIR/work"
	fuse-overlayfs -o "lowerdir=$LOWER,upperdir=$F_DIR/upper,workdir=$F_DIR/work" \
		"$MF" >>"$LOG" 2>&1 || die "fuse-overlayfs failed (see $LOG)"
	F_PID=$(pgrep -n -f -- "upperdir=$F_DIR/upper")
	[ -n "$F_PID" ] || die "cannot find the fuse-overlayfs daemon"
}

f_umount() {
	record_rss fuse-overlayfs "$1" "$F_PID"
	fusermount3 -u "$MF" 2>>"$LOG" || {
		warn "fuse-overlayfs unmount failed; unmounting lazily"
		fusermount3 -u -z "$MF" 2>>"$LOG"
	}
	wait_gone "$F_PID" 200 || warn "fuse-overlayfs $F_PID outlived its unmount"
	reap "$F_PID"
	F_PID=
	rm -rf --one-file-system "$F_DIR"
}

MODES="native wardfs fuse-overlayfs"

dir_of() {
	case $1 in
	native) printf '%s' "$NATIVE" ;;
	wardfs) printf '%s' "$MW" ;;
	fuse-overlayfs) printf '%s' "$MF" ;;
	esac
}

open_session() {
	case $1 in
	native) ;;
	wardfs) w_mount ;;
	fuse-overlayfs) f_mount ;;
	esac
}

close_session() {
	case $1 in
	native) ;;
	wardfs) w_umount "$2" ;;
	fuse-overlayfs) f_umount "$2" ;;
	esac
}

# The three modes in turn, starting with a different one each run.
order() {
	case $(($1 % 3)) in
	0) echo native wardfs fuse-overlayfs ;;
	1) echo wardfs fuse-overlayfs native ;;
	2) echo fuse-overlayfs native wardfs ;;
	esac
}

# Run shell code $2 in mode $1's tree, untimed, output to the log.
untimed() {
	(cd "$(dir_of "$1")" && eval "$2") >>"$LOG" 2>&1 ||
		die "setup step failed in $1: $2 (see $LOG)"
}

FAILED=0
# timed WORKLOAD MODE RUN CODE: time shell code in MODE's tree.
timed() {
	local wl=$1 mode=$2 run=$3 code=$4 dir t0 t1 rc secs
	dir=$(dir_of "$mode")
	t0=$EPOCHREALTIME
	(cd "$dir" && eval "$code") >/dev/null 2>>"$LOG"
	rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" != 0 ]; then
		warn "$wl failed in $mode (run $run, exit $rc): $code"
		FAILED=1
		return 1
	fi
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	printf '%s,%s,%s,%s\n' "$wl" "$mode" "$run" "$secs" >>"$SAMPLES"
	printf '  %-16s %-15s run %d  %9.3fs\n' "$wl" "$mode" "$run" "$secs"
}

# Between write measurements: nothing dirty left to write back.
settle() { sync; }

CAN_DROP=0
[ -w /proc/sys/vm/drop_caches ] && CAN_DROP=1
drop_caches() { sync && echo 3 >/proc/sys/vm/drop_caches; }

# --- workloads ------------------------------------------------------------------

# A read workload: one session per mode, an untimed warm-up, then RUNS
# alternating measurements.
read_workload() {
	local wl=$1 code=$2 r m
	say "$wl"
	for m in $MODES; do open_session "$m"; done
	for m in $MODES; do
		(cd "$(dir_of "$m")" && eval "$code") >"$RUN/warm.$wl.$m" 2>>"$LOG" ||
			die "$wl warm-up failed in $m (see $LOG)"
	done
	for r in $(seq 1 "$RUNS"); do
		for m in $(order "$r"); do timed "$wl" "$m" "$r" "$code"; done
	done
	for m in $MODES; do close_session "$m" "$wl"; done
}

APPEND_LOOP='while IFS= read -r f; do printf "/* wardfs bench */\n" >>"$f"; done'

w_gitdiff() {
	local r m
	say "gitdiff (fresh session each)"
	for r in $(seq 1 "$RUNS"); do
		for m in $(order "$r"); do
			settle
			open_session "$m"
			if [ "$m" != native ]; then
				timed gitstatus-fresh "$m" "$r" "git status"
			else
				untimed "$m" "git status"
			fi
			untimed "$m" "$APPEND_LOOP <'$LISTS/edit.list'"
			timed gitdiff "$m" "$r" "git diff --stat HEAD"
			close_session "$m" gitdiff
		done
	done
	untimed native "git checkout -q --pathspec-from-file='$LISTS/edit.list' --"
}

w_extract() {
	local r m
	say "extract, rm -rf (fresh session each)"
	for r in $(seq 1 "$RUNS"); do
		for m in $(order "$r"); do
			settle
			open_session "$m"
			untimed "$m" "mkdir bench-extract"
			timed extract "$m" "$r" \
				"tar -xf '$TARBALL' --no-same-owner -C bench-extract"
			settle
			timed rm "$m" "$r" "rm -rf bench-extract"
			close_session "$m" extract
		done
	done
}

w_build() {
	local r m
	say "build (fresh session each)"
	untimed native "make -s -C bench-data/cbuild clean"
	for r in $(seq 1 "$RUNS"); do
		for m in $(order "$r"); do
			settle
			open_session "$m"
			timed build "$m" "$r" "make -s -j2 -C bench-data/cbuild"
			close_session "$m" build
			[ "$m" = native ] && untimed native "make -s -C bench-data/cbuild clean"
		done
	done
}

w_copyup() {
	local r m
	say "copyup (fresh session each)"
	for r in $(seq 1 "$RUNS"); do
		for m in $(order "$r"); do
			settle
			open_session "$m"
			timed append "$m" "$r" "$APPEND_LOOP <'$LISTS/append.list'"
			timed rewrite "$m" "$r" "dd if=/dev/zero of=bench-data/big.bin bs=1M count=1 seek=$((BIG_MIB / 2)) conv=notrunc status=none"
			close_session "$m" copyup
		done
	done
	untimed native "git checkout -q --pathspec-from-file='$LISTS/append.list' --"
}

w_seqwrite() {
	local r m
	say "seqwrite (fresh session each)"
	for r in $(seq 1 "$RUNS"); do
		for m in $(order "$r"); do
			settle
			open_session "$m"
			timed seqwrite "$m" "$r" "dd if=/dev/zero of=bench-seq.out bs=1M count=$SEQ_MIB status=none"
			settle
			untimed "$m" "rm -f bench-seq.out"
			close_session "$m" seqwrite
		done
	done
}

w_chmod() {
	local r m
	say "chmod (fresh session each)"
	for r in $(seq 1 "$RUNS"); do
		for m in $(order "$r"); do
			settle
			open_session "$m"
			timed chmod "$m" "$r" "xargs -d '\n' -a '$LISTS/chmod.list' chmod 600"
			close_session "$m" chmod
			[ "$m" = native ] && untimed native "xargs -d '\n' -a '$LISTS/chmod.list' chmod 644"
		done
	done
}

w_seqread() {
	local r m code="dd if=bench-data/seq.bin of=/dev/null bs=1M status=none"
	say "seqread"
	[ "$CAN_DROP" = 1 ] || warn "not root: no cold sequential read"
	for m in $MODES; do open_session "$m"; done
	for r in $(seq 1 "$RUNS"); do
		for m in $(order "$r"); do
			if [ "$CAN_DROP" = 1 ]; then
				drop_caches
				timed seqread-cold "$m" "$r" "$code"
			else
				untimed "$m" "$code"
			fi
			timed seqread-warm "$m" "$r" "$code"
		done
	done
	for m in $MODES; do close_session "$m" seqread; done
}

# --- run --------------------------------------------------------------------------

# --stem: add to an earlier run's results (e.g. workloads it did not get to).
: "${STEM:=$(date +%Y%m%d-%H%M%S)-$TREE}"
SAMPLES=$RESULTS/$STEM.samples.csv
RSS=$RESULTS/$STEM.rss.csv
[ -s "$SAMPLES" ] || printf 'workload,mode,run,seconds\n' >"$SAMPLES"
[ -s "$RSS" ] || printf 'workload,daemon,vmhwm_kib\n' >"$RSS"

# Other work on the machine skews every number: keep its load beside them.
record_load() {
	printf '%s %s\n' "$1" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/$STEM.load"
}
record_load start

say "copying the $TREE tree for the native runs"
cp -a "$LOWER" "$NATIVE" || die "cannot copy '$LOWER'"
untimed native "git status"
sync

# The machine, for the record.
(
	export B_DATE=$(date -Iseconds) B_TREE=$TREE B_RUNS=$RUNS B_WANT=$WANT
	export B_NPROC=$(nproc)
	export B_MEM=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
	export B_KERNEL=$(uname -r)
	export B_CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	export B_FS=$(df -PT "$RUN" | awk 'NR == 2 { print $2 }')
	export B_DEV=$(df -PT "$RUN" | awk 'NR == 2 { print $1 }')
	export B_VERSION=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)
	export B_SHA=$(sha256sum "$WBIN" | cut -c1-16)
	export B_FOV=$(fuse-overlayfs --version 2>/dev/null | awk '/fuse-overlayfs/ { print $NF; exit }')
	export B_FILES=$(cd "$LOWER" && git ls-files | wc -l)
	export B_BYTES=$(du -sb --exclude=.git --exclude=bench-data "$LOWER" | cut -f1)
	export B_PARAMS="$NEDIT $NAPPEND $NCHMOD $NEXTRACT $NTU $BIG_MIB $SEQ_MIB $NSTAT"
	"$PY" - "$RESULTS/$STEM.machine.json" <<'EOF'
import json, os, sys
e = os.environ
if os.path.exists(sys.argv[1]):
    # --stem: the first run's record stands; note what was added, by what.
    with open(sys.argv[1]) as f:
        m = json.load(f)
    m.setdefault("continued", []).append({
        "date": e["B_DATE"], "workloads": e["B_WANT"].split(),
        "wardfs_version": e["B_VERSION"], "wardfs_sha256": e["B_SHA"]})
    with open(sys.argv[1], "w") as f:
        json.dump(m, f, indent=1)
        f.write("\n")
    sys.exit(0)
nedit, nappend, nchmod, nextract, ntu, big, seq, nstat = \
    map(int, e["B_PARAMS"].split())
gib = "%d GiB" % (seq // 1024) if seq >= 1024 else "%d MiB" % seq
m = {
    "date": e["B_DATE"], "tree": e["B_TREE"], "runs": int(e["B_RUNS"]),
    "tree_files": int(e["B_FILES"]), "tree_bytes": int(e["B_BYTES"]),
    "nproc": int(e["B_NPROC"]), "mem_mib": int(e["B_MEM"]),
    "cpu": e["B_CPU"], "kernel": e["B_KERNEL"], "disk_fs": e["B_FS"],
    "disk_dev": e["B_DEV"], "wardfs_version": e["B_VERSION"],
    "wardfs_sha256": e["B_SHA"], "wardfs_options": "defaults",
    "fuse_overlayfs_version": e["B_FOV"],
    "params": {"edited": nedit, "appended": nappend, "chmod": nchmod,
               "extract_files": nextract, "translation_units": ntu,
               "big_file_mib": big, "seq_file_mib": seq, "stat_paths": nstat},
    "labels": {
        "gitdiff": "git diff --stat HEAD (%d edited)" % nedit,
        "extract": "tar -x %d files" % nextract,
        "rm": "rm -rf %d files" % nextract,
        "build": "C build, %d TUs, make -j2" % ntu,
        "append": "copy-up: append to %d files" % nappend,
        "rewrite": "copy-up: 1 MiB into %d MB file" % big,
        "seqread-cold": "seq. read %s, cold" % gib,
        "seqread-warm": "seq. read %s, warm" % gib,
        "seqwrite": "seq. write %s" % gib,
        "stat": "lstat %d paths" % nstat,
        "chmod": "chmod %d files" % nchmod,
    },
}
with open(sys.argv[1], "w") as f:
    json.dump(m, f, indent=1)
    f.write("\n")
EOF
) || die "cannot record the machine"

say "wardfs $(cat "$RESULTS/$STEM.machine.json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["wardfs_version"])') vs fuse-overlayfs, $TREE tree, $RUNS runs"

for w in $WANT; do
	case $w in
	gitstatus) read_workload gitstatus "git status" ;;
	gitdiff) w_gitdiff ;;
	find)
		read_workload find "find . -type f | wc -l"
		say "  files found: native $(cat "$RUN/warm.find.native")," \
			"wardfs $(cat "$RUN/warm.find.wardfs")," \
			"fuse-overlayfs $(cat "$RUN/warm.find.fuse-overlayfs")"
		;;
	rg) read_workload rg "rg -c 'static inline'" ;;
	extract) w_extract ;;
	build) w_build ;;
	copyup) w_copyup ;;
	seqwrite) w_seqwrite ;;
	stat) read_workload stat "'$PY' '$HERE/gen.py' stat '$LISTS/stat.list' $NSTAT" ;;
	ls-lR) read_workload ls-lR "ls -lR" ;;
	chmod) w_chmod ;;
	seqread) w_seqread ;;
	esac
done

record_load end
say ""
"$PY" "$HERE/report.py" "$RESULTS" "$STEM" || die "cannot write the report"
say ""
say "results: $RESULTS/$STEM.{txt,json,summary.csv,samples.csv}"
[ "$FAILED" = 0 ] || die "some measurements failed (see the warnings above)"
