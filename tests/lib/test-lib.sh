# test-lib.sh - library of the wardfs integration tests (bash).
#
# shellcheck shell=bash disable=SC2034
# (variables set here are used by the test scripts)
#
# Sourced by every tests/t/tNNNN-<area>-<what>.sh; see tests/README.md.
# Modelled on git's t/test-lib.sh: each test is a title and a body of
# &&-chained commands, evaluated in the test script's own shell (no
# subshell, no set -e), and reported as TAP for prove(1).
#
#	#!/bin/bash
#	test_description='what this script covers'
#	. "$(dirname "$0")/../lib/test-lib.sh"
#
#	test_expect_success 'setup' '
#		echo hello >project/a &&
#		ward_mount
#	'
#	test_expect_success 'read through the mount' '
#		echo hello >expect &&
#		cat mnt/a >actual &&
#		test_cmp expect actual
#	'
#	test_done
#
# Options of a test script: -v (show every body's output), -i (stop at
# the first failure), -d (keep the trash directory), --root=DIR (put the
# trash directory under DIR).  Environment: WARDFS_BIN (the binary, default
# the repository's ./wardfs), WARDFS_TEST_ROOT (as --root), CI (a missing
# /dev/fuse is a failure, not a skip), WARD_TIMEOUT (seconds to wait for a
# mount or an exit, default 60), WARD_TEST_TIMEOUT (seconds a test body may
# run before the watchdog kills the daemons, default 600), WARD_NO_FUSE=t
# before sourcing (script needs no mount).

# ---------------------------------------------------------------------
# Locations, options, environment

TEST_NAME=$(basename "$0" .sh)
TEST_DIRECTORY=$(cd "$(dirname "$0")/.." && pwd -P) || exit 1
WARDFS_SRC=$(cd "$TEST_DIRECTORY/.." && pwd -P) || exit 1
: "${WARDFS_BIN:=$WARDFS_SRC/wardfs}"
case $WARDFS_BIN in
/*) ;;
*) WARDFS_BIN=$(pwd -P)/$WARDFS_BIN ;;
esac
export WARDFS_BIN

test_verbose_=
test_immediate_=
test_debug_=
test_root_=${WARDFS_TEST_ROOT:-}
while test $# -gt 0; do
	case $1 in
	-v | --verbose) test_verbose_=t ;;
	-i | --immediate) test_immediate_=t ;;
	-d | --debug) test_debug_=t ;;
	--root=*) test_root_=${1#--root=} ;;
	-h | --help)
		echo "usage: $0 [-v] [-i] [-d] [--root=DIR]"
		exit 0
		;;
	*)
		echo "Bail out! unknown test option '$1'"
		exit 1
		;;
	esac
	shift
done

# One timeout for every bounded wait (mount ready, daemon exit).
: "${WARD_TIMEOUT:=60}"
# A test body running longer than this is stuck (a deadlocked daemon):
# the watchdog kills the script's daemons, so that the hung calls fail.
: "${WARD_TEST_TIMEOUT:=600}"

# A predictable environment: no user configuration, no pager, no colour.
export LC_ALL=C LANG=C TZ=UTC
export NO_COLOR=1 PAGER=cat GIT_PAGER=cat EDITOR=: VISUAL=:
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME='A U Thor' GIT_AUTHOR_EMAIL=author@example.com
export GIT_COMMITTER_NAME='C O Mitter' GIT_COMMITTER_EMAIL=committer@example.com
export GIT_AUTHOR_DATE='1112911993 -0700' GIT_COMMITTER_DATE='1112912053 -0700'
unset XDG_STATE_HOME XDG_CONFIG_HOME CDPATH GREP_OPTIONS
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY

# The distribution's python3: a version-manager shim would search the
# working directory (often the mount) for its configuration.
if test -z "${PYTHON:-}"; then
	if test -x /usr/bin/python3; then
		PYTHON=/usr/bin/python3
	else
		PYTHON=$(command -v python3)
	fi
fi
export PYTHON

# TAP goes to fd 5, so that it reaches prove whatever a body redirects.
exec 5>&1

# `make test` runs us: a make in a test must not inherit its settings.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS

# ---------------------------------------------------------------------
# Trash directory

if test -z "$test_root_"; then
	test_root_=$TEST_DIRECTORY/trash
	if ! mkdir -p "$test_root_" 2>/dev/null || ! test -w "$test_root_"; then
		test_root_=${TMPDIR:-/tmp}/wardfs-tests
	fi
fi
mkdir -p "$test_root_" || {
	echo "Bail out! cannot create '$test_root_'"
	exit 1
}
# 'wardfs run' gives its command a private /tmp: a trash directory under
# /tmp (a checkout there) would vanish inside it.  Use /var/tmp instead.
case $(cd "$test_root_" && pwd -P)/ in
/tmp/*)
	# keyed by checkout: two checkouts may run their suites at once
	test_root_=/var/tmp/wardfs-tests-$(id -u)-$(printf '%s' "$TEST_DIRECTORY" |
		cksum | cut -d' ' -f1)
	mkdir -p "$test_root_" || {
		echo "Bail out! cannot create '$test_root_'"
		exit 1
	}
	;;
esac
TRASH_DIRECTORY=$(cd "$test_root_" && pwd -P)/$TEST_NAME
WARDFS_HOME=$TRASH_DIRECTORY/home
WARD_PROJECT=$TRASH_DIRECTORY/project
WARD_MNT=$TRASH_DIRECTORY/mnt
WARD_LOGS=$TRASH_DIRECTORY/logs
export WARDFS_HOME

# ---------------------------------------------------------------------
# Cleaning up mounts and daemons (also from the EXIT trap)

# (Forks are slow on some machines: the helpers polled in loops use bash
# builtins only.)

# Mount points at or below $1 listed in /proc/mounts, last mounted first
# (so nested mounts come before the mounts they are on).
test_mounts_under() {
	local dev m rest list=()
	while read -r dev m rest; do
		m=${m//\\040/ }
		m=${m//\\011/$'\t'}
		m=${m//\\012/$'\n'}
		m=${m//\\134/\\}
		if test "$m" = "$1" || test "${m#"$1"/}" != "$m"; then
			list=("$m" "${list[@]}")
		fi
	done </proc/mounts
	test ${#list[@]} = 0 || printf '%s\n' "${list[@]}"
}

# True when process $1 has WARDFS_HOME=$WARDFS_HOME in its environment.
test_pid_ours_() {
	local vars v
	mapfile -d "" vars 2>/dev/null <"/proc/$1/environ" || return 1
	for v in "${vars[@]}"; do
		test "$v" = "WARDFS_HOME=$WARDFS_HOME" && return 0
	done
	return 1
}

# Pids of wardfs processes that serve this script's $WARDFS_HOME (daemons
# started by a background "wardfs mount" are not children of this shell).
test_wardfs_pids() {
	local e p
	while read -r e; do
		p=${e#/proc/}
		p=${p%/exe}
		test "$p" = "$$" && continue
		test_pid_alive "$p" && test_pid_ours_ "$p" && echo "$p"
	done < <(find /proc -mindepth 2 -maxdepth 2 -path '/proc/[0-9]*/exe' \
		-lname "$WARDFS_BIN" 2>/dev/null)
	return 0
}

# True while process $1 runs (zombies count as gone).
test_pid_alive() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	case ${st%% *} in
	Z | X | '') return 1 ;;
	esac
	return 0
}

# Our daemons: those found by test_wardfs_pids, and the pids ward_mount
# started that still run with this script's WARDFS_HOME (so never a pid
# reused by someone else).
test_our_pids_() {
	local p
	{
		test_wardfs_pids
		for p in "${ward_pids_[@]}"; do
			test_pid_alive "$p" && test_pid_ours_ "$p" && echo "$p"
		done
	} | sort -u
}

# Lazily unmount everything under the trash directory and kill every daemon
# of this script.  Prints what it had to clean up; returns 1 if anything.
test_cleanup_mounts() {
	local m p found=0 i
	for p in $(test_our_pids_); do
		echo "wardfs process $p still running: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"
		kill -TERM "$p" 2>/dev/null
		found=1
	done
	for m in $(test_mounts_under "$TRASH_DIRECTORY"); do
		echo "still mounted: $m"
		fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		found=1
	done
	for p in $(test_our_pids_); do
		i=0
		while test_pid_alive "$p" && test $i -lt 20; do
			sleep 0.1
			i=$((i + 1))
		done
		test_pid_alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	# a second pass: a daemon killed above may have left its mount dead
	for m in $(test_mounts_under "$TRASH_DIRECTORY"); do
		fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	return $found
}

# Start from a fresh trash directory (after a crashed run: unmount first).
ward_pids_=()
if test -d "$TRASH_DIRECTORY"; then
	test_cleanup_mounts >/dev/null
	rm -rf --one-file-system "$TRASH_DIRECTORY"
fi
if test -e "$TRASH_DIRECTORY"; then
	echo "Bail out! cannot remove old '$TRASH_DIRECTORY'"
	exit 1
fi
mkdir -p "$TRASH_DIRECTORY" "$WARD_PROJECT" "$WARD_MNT" "$WARD_LOGS" \
	"$TRASH_DIRECTORY/.test" || {
	echo "Bail out! cannot create '$TRASH_DIRECTORY'"
	exit 1
}
export HOME=$TRASH_DIRECTORY
cd "$TRASH_DIRECTORY" || exit 1

# ---------------------------------------------------------------------
# TAP bookkeeping

test_count=0
test_success=0
test_failure=0
test_fixed=0
test_broken=0
test_skipped=0
test_done_called_=
test_in_body_=
test_cleanup_=

say_tap_() {
	printf '%s\n' "$*" >&5
}

# Print file $2 to the TAP stream as "# " comment lines, at most $3 lines
# (its tail), with heading $1.
say_file_() {
	local n
	test -s "$2" || return 0
	n=$(wc -l <"$2")
	if test "$n" -gt "$3"; then
		say_tap_ "# $1 (last $3 of $n lines):"
	else
		say_tap_ "# $1:"
	fi
	tail -n "$3" "$2" | sed -e 's/^/#   /' >&5
}

test_lib_exit_() {
	local code=$1
	trap - EXIT
	# A subshell (a watchdog stopped just after its fork, say) that runs
	# the inherited trap must leave the mounts and daemons alone.
	test "$BASHPID" = "$test_main_pid_" || exit "$code"
	if test -z "$test_done_called_"; then
		test_cleanup_mounts | sed -e 's/^/# /' >&5
		say_tap_ "# FATAL: unexpected exit with code $code"
		exit 1
	fi
	exit "$code"
}
test_main_pid_=$BASHPID
trap 'test_lib_exit_ $?' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------
# Prerequisites

test_prereq_cache_=' '

# Usage: test_set_prereq NAME
test_set_prereq() {
	test_prereq_cache_="$test_prereq_cache_$1=1 "
}

test_prereq_check_() {
	case $1 in
	ROOT) test "$(id -u)" = 0 ;;
	PYTHON) test -n "$PYTHON" && test -x "$PYTHON" ;;
	GIT) command -v git >/dev/null ;;
	CC) command -v cc >/dev/null && command -v make >/dev/null ;;
	TAR) command -v tar >/dev/null ;;
	XATTR)
		# the lower filesystem (the trash directory) stores user xattrs
		"$PYTHON" -c '
import os, sys
p = sys.argv[1]
open(p, "w").close()
try:
    os.setxattr(p, "user.wardfs-probe", b"1")
finally:
    os.unlink(p)
' "$TRASH_DIRECTORY/.test/xattr-probe" 2>/dev/null
		;;
	*)
		echo "BUG: unknown prerequisite '$1'" >&2
		return 1
		;;
	esac
}

# Usage: test_have_prereq NAME[,NAME...]; !NAME negates.
test_have_prereq() {
	local p want neg ok
	local IFS=,
	for p in $1; do
		want=${p#!}
		neg=
		test "$want" != "$p" && neg=t
		case $test_prereq_cache_ in
		*" $want=1 "*) ok=t ;;
		*" $want=0 "*) ok= ;;
		*)
			if (unset IFS; test_prereq_check_ "$want") >/dev/null 2>&1; then
				ok=t
				test_prereq_cache_="$test_prereq_cache_$want=1 "
			else
				ok=
				test_prereq_cache_="$test_prereq_cache_$want=0 "
			fi
			;;
		esac
		if test -n "$neg"; then
			test -z "$ok" || return 1
		else
			test -n "$ok" || return 1
		fi
	done
	return 0
}

# ---------------------------------------------------------------------
# Running tests

# A body may "return 1" (from a loop, say): it returns from here.
test_eval_inner_() {
	eval "set -x
$1"
}

# Evaluate body $1 with output to $2/$3 and an xtrace to $4.  Sets
# test_eval_ret_.
test_eval_() {
	exec 9>"$4"
	BASH_XTRACEFD=9
	# fd 5 (TAP, a pipe to prove) is closed: a daemon started in the
	# body must not keep prove waiting.
	test_eval_inner_ "$1" >"$2" 2>"$3" </dev/null 5>&-
	test_eval_ret_=$?
	{ set +x; } 2>/dev/null
	exec 9>&-
}

# The watchdog of one test: after $1 seconds, note it in $2 and SIGKILL
# the daemons of this script (a hung FUSE call then fails with ENOTCONN).
test_watchdog_() {
	local sp
	# A subshell: the script's EXIT trap (which unmounts everything and
	# kills the daemons) must not run when the watchdog is stopped.
	trap - EXIT
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$1" &
	sp=$!
	wait "$sp"
	echo "timed out after $1 s: killed the daemons $(test_our_pids_ | tr '\n' ' ')" >"$2"
	for sp in $(test_our_pids_); do
		kill -KILL "$sp" 2>/dev/null
	done
}

# After the watchdog fired: remount the last session, so that the tests
# after a deadlock still run.
test_recover_() {
	test -n "$WARD_SESSION" || return 0
	echo "remounting session $WARD_SESSION at $WARD_MNT for the next tests"
	ward_mount -s "$WARD_SESSION" "$WARD_MNT" ||
		echo "remount failed: the next tests will fail too"
}

test_run_() {
	local body=$1 base=$TRASH_DIRECTORY/.test/$test_count
	local out=$base.out err=$base.err trace=$base.trace wd
	test_cleanup_=:
	test_in_body_=t
	test_watchdog_ "$WARD_TEST_TIMEOUT" "$base.timeout" \
		</dev/null >/dev/null 2>&1 5>&- &
	wd=$!
	test_eval_ "$body" "$out" "$err" "$trace"
	eval_ret=$test_eval_ret_
	kill -TERM "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	if test -s "$base.timeout"; then
		cat "$base.timeout" >>"$err"
		eval_ret=1
		test_recover_ >>"$err" 2>&1
	fi
	test_in_body_=
	if test "$test_cleanup_" != :; then
		# cleanups see eval_ret and keep it failing once it failed
		test_eval_ "$test_cleanup_" "$out.cleanup" "$err.cleanup" \
			"$trace.cleanup"
		cat "$out.cleanup" >>"$out"
		cat "$err.cleanup" >>"$err"
		cat "$trace.cleanup" >>"$trace"
		# the cleanup commands updated eval_ret
	fi
	cd "$TRASH_DIRECTORY" || exit 1
	test_last_out_=$out
	test_last_err_=$err
	test_last_trace_=$trace
	return "$eval_ret"
}

# Show a body's output: always on failure, also with -v.
test_report_() {
	local what=$1
	if test "$what" = fail || test -n "$test_verbose_"; then
		say_file_ "stderr" "$test_last_err_" 60
		if test -n "$test_verbose_"; then
			say_file_ "stdout" "$test_last_out_" 60
		fi
	fi
	if test "$what" = fail; then
		grep -v -e '^+* *set +x$' -e '^+* *test_eval_ret_=' \
			-e "^+* *eval_ret=" "$test_last_trace_" \
			>"$test_last_trace_.f" 2>/dev/null
		say_file_ "commands run" "$test_last_trace_.f" 15
	fi
}

test_skip_() {
	local prereq=$1 title=$2
	if test -n "$prereq" && ! test_have_prereq "$prereq"; then
		test_count=$((test_count + 1))
		test_skipped=$((test_skipped + 1))
		say_tap_ "ok $test_count # skip $title (missing $prereq)"
		return 0
	fi
	return 1
}

test_failed_() {
	test_failure=$((test_failure + 1))
	say_tap_ "not ok $test_count - $1"
	test_report_ fail
	# show the body, as git does
	printf '%s\n' "$2" | sed -e 's/^/#	/' >&5
	if test -n "$test_immediate_"; then
		say_tap_ "# stopping at the first failure (-i)"
		test_done
	fi
}

# Usage: test_expect_success [PREREQ] TITLE BODY
test_expect_success() {
	local prereq=
	test $# = 3 && {
		prereq=$1
		shift
	}
	test $# = 2 || {
		echo "BUG: not 2 or 3 parameters to test_expect_success" >&2
		exit 1
	}
	test_skip_ "$prereq" "$1" && return 0
	test_count=$((test_count + 1))
	if test_run_ "$2"; then
		test_success=$((test_success + 1))
		say_tap_ "ok $test_count - $1"
		test_report_ ok
	else
		test_failed_ "$1" "$2"
	fi
	return 0
}

# Usage: test_expect_failure [PREREQ] TITLE BODY
# A known breakage: reported as TODO, does not fail the script.
test_expect_failure() {
	local prereq=
	test $# = 3 && {
		prereq=$1
		shift
	}
	test $# = 2 || {
		echo "BUG: not 2 or 3 parameters to test_expect_failure" >&2
		exit 1
	}
	test_skip_ "$prereq" "$1" && return 0
	test_count=$((test_count + 1))
	if test_run_ "$2"; then
		test_fixed=$((test_fixed + 1))
		say_tap_ "ok $test_count - $1 # TODO known breakage vanished"
	else
		test_broken=$((test_broken + 1))
		say_tap_ "not ok $test_count - $1 # TODO known breakage"
		test_report_ ok
	fi
	return 0
}

# Usage: test_when_finished CMD...   (inside a body)
# Runs CMD after the body, whether it failed or not; last registered runs
# first.  A failing CMD fails the test.
test_when_finished() {
	if test -z "$test_in_body_"; then
		echo "BUG: test_when_finished outside a test body" >&2
		return 1
	fi
	test_cleanup_="{ $*
	} && (exit \"\$eval_ret\"); eval_ret=\$?; $test_cleanup_"
}

# Report the end of the script: a last check that nothing is left mounted
# or running, the plan, and the trash directory removed on success.
test_done() {
	local leftovers=$TRASH_DIRECTORY/.test/leftovers
	test_done_called_=t
	if test -z "${WARD_NO_FUSE:-}"; then
		test_count=$((test_count + 1))
		if test_cleanup_mounts >"$leftovers"; then
			test_success=$((test_success + 1))
			say_tap_ "ok $test_count - no mount or daemon left behind"
		else
			test_failure=$((test_failure + 1))
			say_tap_ "not ok $test_count - no mount or daemon left behind"
			sed -e 's/^/#   /' "$leftovers" >&5
		fi
	fi
	if test "$test_fixed" -gt 0; then
		say_tap_ "# $test_fixed known breakage(s) vanished; please update test(s)"
	fi
	if test "$test_broken" -gt 0; then
		say_tap_ "# still have $test_broken known breakage(s)"
	fi
	if test "$test_failure" -gt 0; then
		say_tap_ "# failed $test_failure among $test_count test(s)"
		say_tap_ "# trash directory kept: $TRASH_DIRECTORY"
	fi
	say_tap_ "1..$test_count"
	if test "$test_failure" -gt 0; then
		exit 1
	fi
	if test -z "$test_debug_"; then
		cd "$TEST_DIRECTORY" &&
			rm -rf --one-file-system "$TRASH_DIRECTORY"
	fi
	exit 0
}

# ---------------------------------------------------------------------
# Assertions (all print why to stderr and return non-zero)

# Usage: test_must_fail CMD...  succeeds when CMD exits 1..125: a clean
# failure, not a crash (signal), nor "command not found".
test_must_fail() {
	"$@"
	local code=$?
	if test $code = 0; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif test $code -gt 128 && test $code -le 192; then
		echo "test_must_fail: died by signal $((code - 128)): $*" >&2
		return 1
	elif test $code = 127 || test $code = 126; then
		echo "test_must_fail: command not run ($code): $*" >&2
		return 1
	fi
	return 0
}

# Usage: test_expect_code CODE CMD...
test_expect_code() {
	local want=$1 code
	shift
	"$@"
	code=$?
	if test "$code" != "$want"; then
		echo "test_expect_code: command exited $code, wanted $want: $*" >&2
		return 1
	fi
	return 0
}

# Usage: test_cmp EXPECTED ACTUAL
test_cmp() {
	test $# = 2 || {
		echo "BUG: test_cmp takes 2 files" >&2
		return 1
	}
	diff -u "$1" "$2" >&2
}

test_path_is_file() {
	test -f "$1" || {
		echo "File $1 doesn't exist${2:+: $2}" >&2
		ls -ld "$1" >&2 2>/dev/null
		return 1
	}
}

test_path_is_dir() {
	test -d "$1" || {
		echo "Directory $1 doesn't exist${2:+: $2}" >&2
		ls -ld "$1" >&2 2>/dev/null
		return 1
	}
}

test_path_is_symlink() {
	test -h "$1" || {
		echo "Symbolic link $1 doesn't exist${2:+: $2}" >&2
		return 1
	}
}

# Neither a name nor a dangling symlink.
test_path_is_missing() {
	if test -e "$1" || test -h "$1"; then
		echo "Path exists: $1${2:+: $2}" >&2
		ls -ld "$1" >&2
		return 1
	fi
	return 0
}

# Usage: test_line_count OP N FILE   (e.g. test_line_count = 3 out)
test_line_count() {
	local n
	n=$(wc -l <"$3") || return 1
	test "$n" "$1" "$2" || {
		echo "test_line_count: line count of $3 is $n, wanted $1 $2:" >&2
		head -n 20 "$3" >&2
		return 1
	}
}

# Usage: test_file_is_empty FILE
test_file_is_empty() {
	if ! test -f "$1" || test -s "$1"; then
		echo "'$1' is not an empty file:" >&2
		head -n 20 "$1" >&2
		return 1
	fi
}

# Usage: test_grep [-v] [GREP OPTS] PATTERN FILE  (shows the file when not)
test_grep() {
	local last=${*: -1}
	if test "$1" = "-v"; then
		shift
		! grep "$@" && return 0
	else
		grep "$@" >/dev/null && return 0
	fi
	echo "test_grep: unexpected result for grep $*; '$last' is:" >&2
	head -n 40 "$last" >&2
	return 1
}

# Usage: test_errno ERRNAME PYTHON-STATEMENTS [ARG...]
# Runs the statements (os, sys, errno, stat imported; extra ARGs in
# sys.argv[1:]) and checks that they raise OSError with that errno (OK:
# that they do not raise).
test_errno() {
	local want=$1 code=$2 got
	shift 2
	got=$("$PYTHON" -c '
import errno, os, stat, sys
code = sys.argv[1]
sys.argv = sys.argv[1:]
try:
    exec(code)
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
else:
    print("OK")
' "$code" "$@") || return 1
	if test "$got" != "$want"; then
		echo "test_errno: got $got, wanted $want from: $code" >&2
		return 1
	fi
}

# The name test_seq for portability with git's tests.
test_seq() {
	seq "$@"
}

# ---------------------------------------------------------------------
# Trees: manifests and checksums

# Usage: tree_manifest [--no-times] [--no-owner] [--no-nlink] DIR
# One sorted line per entry below DIR: relative path, type, mode, owner,
# size, nlink, mtime (ns), symlink target or content sha256, user/trusted
# xattrs.  Comparing two manifests with test_cmp shows what differs.
tree_manifest() {
	"$PYTHON" - "$@" <<'EOF'
import hashlib, os, stat, sys
args = sys.argv[1:]
times = "--no-times" not in args
owner = "--no-owner" not in args
nlink = "--no-nlink" not in args
root = [a for a in args if not a.startswith("--")][0]
out = []
# *at() calls from directory fds: paths may be longer than PATH_MAX
def entry(rel, name, dirfd):
    st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    m = st.st_mode
    f = [rel, stat.filemode(m)]
    if owner:
        f.append("%d:%d" % (st.st_uid, st.st_gid))
    if stat.S_ISREG(m):
        f.append("size=%d" % st.st_size)
        h = hashlib.sha256()
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dirfd)
        with os.fdopen(fd, "rb") as fp:
            for chunk in iter(lambda: fp.read(1 << 20), b""):
                h.update(chunk)
        f.append(h.hexdigest())
    elif stat.S_ISLNK(m):
        f.append("-> " + os.readlink(name, dir_fd=dirfd))
    elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
        f.append("dev=%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
    if nlink and not stat.S_ISDIR(m):
        f.append("nlink=%d" % st.st_nlink)
    if times and not stat.S_ISLNK(m):
        f.append("mtime=%d" % st.st_mtime_ns)
    try:
        p = "/proc/self/fd/%d/%s" % (dirfd, name)
        for x in sorted(os.listxattr(p, follow_symlinks=False)):
            if x.startswith(("user.", "trusted.")):
                v = os.getxattr(p, x, follow_symlinks=False)
                f.append("xattr:%s=%s" % (x, v.hex()))
    except OSError:
        pass
    out.append(" ".join(f))
rootfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
entry(".", ".", rootfd)
os.close(rootfd)
for d, dirs, files, dirfd in os.fwalk(root):
    rel = os.path.relpath(d, root)
    for n in dirs + files:
        entry(n if rel == "." else rel + "/" + n, n, dirfd)
for line in sorted(out):
    print(line)
EOF
}

# Usage: project_checksum DIR -> one sha256 over the manifest of DIR
# (contents, modes, owners, sizes, mtimes, symlink targets, xattrs).
project_checksum() {
	local sum
	sum=$(tree_manifest "$1" | sha256sum) || return 1
	echo "${sum%% *}"
}

# Usage: test_is_whiteout PATH  (a character device 0/0 in the upper)
test_is_whiteout() {
	if ! test -c "$1" || test "$(stat -c '%t:%T' "$1")" != 0:0; then
		echo "not a whiteout (char device 0/0): $1" >&2
		ls -ld "$1" >&2 2>/dev/null
		return 1
	fi
}

# Usage: test_is_opaque DIR  (DIR holds the opaque marker)
test_is_opaque() {
	if ! test -d "$1" || ! test_is_whiteout "$1/.wh..wh..opq"; then
		echo "not an opaque directory: $1" >&2
		return 1
	fi
}

# ---------------------------------------------------------------------
# wardfs: mounting and unmounting

# Variables set by ward_mount:
#	WARD_PID	the daemon ("wardfs mount -f") serving the mount
#	WARD_SESSION	the session id it printed
#	WARD_MNT	the mount point it printed (absolute)
#	WARD_SDIR	$WARDFS_HOME/sessions/$WARD_SESSION
#	WARD_UPPER	$WARD_SDIR/upper
#	WARD_OUT	its stdout and stderr logs: $WARD_OUT.out, $WARD_OUT.err
declare -A ward_pid_by_mnt_=() ward_pid_by_session_=() ward_log_by_pid_=()
ward_mount_n_=0
WARD_PID=
WARD_SESSION=

# Usage: ward_mount [-s ID] [-o OPTS] [--project DIR] [MOUNTPOINT]
# Starts "wardfs mount -f" in the background over DIR (default project/;
# none with -s) at MOUNTPOINT (default mnt/), waits until the mount is
# ready and sets the WARD_ variables.  Fails (and leaves nothing running)
# when the daemon exits or the mount is not ready within WARD_TIMEOUT.
ward_mount() {
	local opts=() project=$WARD_PROJECT mnt='' resume='' pid out line i limit
	while test $# -gt 0; do
		case $1 in
		-s)
			opts+=("$1" "$2")
			resume=$2
			shift
			;;
		-o)
			opts+=("$1" "$2")
			shift
			;;
		--project)
			project=$2
			shift
			;;
		-*)
			opts+=("$1")
			;;
		*)
			test -z "$mnt" || {
				echo "BUG: ward_mount: two mount points" >&2
				return 1
			}
			mnt=$1
			;;
		esac
		shift
	done
	test -n "$mnt" || mnt=$TRASH_DIRECTORY/mnt
	case $mnt in
	/*) ;;
	*) mnt=$PWD/$mnt ;;
	esac
	ward_mount_n_=$((ward_mount_n_ + 1))
	out=$WARD_LOGS/mount.$ward_mount_n_
	test -n "$resume" && project=
	# bash starts background jobs with SIGINT ignored; env restores it
	# (and execs, so $! is the daemon)
	env --default-signal=INT,QUIT \
		"$WARDFS_BIN" mount -f "${opts[@]}" ${project:+"$project"} "$mnt" \
		>"$out.out" 2>"$out.err" </dev/null 5>&- 9>&- &
	pid=$!
	ward_pids_+=("$pid")
	ward_log_by_pid_[$pid]=$out
	limit=$((WARD_TIMEOUT * 20))
	i=0
	while :; do
		if ! test_pid_alive "$pid"; then
			wait "$pid"
			echo "ward_mount: 'wardfs mount -f' exited with status $?" \
				"before the mount was ready; its stderr:" >&2
			sed -e 's/^/  /' "$out.err" >&2
			return 1
		fi
		if ward_out_ready_ "$out.out" && ward_is_mounted "$mnt"; then
			break
		fi
		i=$((i + 1))
		if test $i -ge "$limit"; then
			echo "ward_mount: mount not ready after ${WARD_TIMEOUT}s" \
				"(stdout: $(cat "$out.out"); stderr: $(cat "$out.err"))" >&2
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			fusermount3 -uz "$mnt" 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
	WARD_PID=$pid
	WARD_SESSION=
	while read -r line; do
		case $line in
		"session "*) WARD_SESSION=${line#session } ;;
		"mountpoint "*) WARD_MNT=${line#mountpoint } ;;
		esac
	done <"$out.out"
	WARD_OUT=$out
	if test -z "$WARD_SESSION"; then
		echo "ward_mount: no 'session ID' line in the output:" >&2
		cat "$out.out" >&2
		return 1
	fi
	if test "$WARD_MNT" != "$mnt"; then
		echo "ward_mount: printed mountpoint '$WARD_MNT', wanted '$mnt'" >&2
		return 1
	fi
	if test -n "$resume" && test "$WARD_SESSION" != "$resume"; then
		echo "ward_mount: resumed session '$WARD_SESSION', wanted '$resume'" >&2
		return 1
	fi
	WARD_SDIR=$WARDFS_HOME/sessions/$WARD_SESSION
	WARD_UPPER=$WARD_SDIR/upper
	ward_pid_by_mnt_[$WARD_MNT]=$pid
	ward_pid_by_session_[$WARD_SESSION]=$pid
	return 0
}

# Usage: ward_wait_exit PID -> waits (bounded) for a daemon started by
# ward_mount to exit and sets ward_exit_status.
ward_wait_exit() {
	local pid=$1 i=0 limit=$((WARD_TIMEOUT * 20))
	while test_pid_alive "$pid"; do
		i=$((i + 1))
		if test $i -ge $limit; then
			echo "daemon $pid still alive ${WARD_TIMEOUT}s after unmount" >&2
			return 1
		fi
		sleep 0.05
	done
	wait "$pid"
	ward_exit_status=$?
	return 0
}

# Usage: ward_umount [ID|MOUNTPOINT]   (default: the last ward_mount)
# Runs "wardfs umount", then checks that the daemon exits with status 0
# and that the mount point is no longer mounted.
ward_umount() {
	local target=${1:-$WARD_MNT} pid mnt=
	pid=${ward_pid_by_mnt_[$target]:-${ward_pid_by_session_[$target]:-}}
	test -n "$pid" || pid=$WARD_PID
	"$WARDFS_BIN" umount "$target" || {
		echo "ward_umount: 'wardfs umount $target' failed" >&2
		return 1
	}
	ward_daemon_exited_ok "$pid" || return 1
	for mnt in "${!ward_pid_by_mnt_[@]}"; do
		test "${ward_pid_by_mnt_[$mnt]}" = "$pid" || continue
		if grep -qF " $mnt " /proc/mounts; then
			echo "ward_umount: $mnt still in /proc/mounts" >&2
			return 1
		fi
	done
	return 0
}

# Usage: ward_daemon_exited_ok PID   (waits; exit status must be 0)
ward_daemon_exited_ok() {
	local pid=$1
	ward_wait_exit "$pid" || return 1
	if test "$ward_exit_status" != 0; then
		echo "daemon $pid exited with status $ward_exit_status; its stderr:" >&2
		sed -e 's/^/  /' "${ward_log_by_pid_[$pid]}.err" >&2
		return 1
	fi
	return 0
}

# Usage: ward_guard CMD... -> runs CMD, but when it has not returned after
# 5 seconds (a deadlocked daemon), kills the daemon, which unblocks CMD,
# removes the dead mount and fails; so that a hang is one failed test, not
# a stuck test run.
ward_guard() {
	local pid end=$((SECONDS + 5))
	"$@" &
	pid=$!
	while test_pid_alive $pid; do
		if test $SECONDS -ge $end; then
			echo "ward_guard: '$*' hangs; killing the daemon" >&2
			kill -KILL "$WARD_PID"
			ward_wait_exit "$WARD_PID"
			wait $pid
			fusermount3 -uz "$WARD_MNT" 2>/dev/null ||
				umount -l "$WARD_MNT"
			return 1
		fi
		sleep 0.05
	done
	wait $pid
}

# Usage: ward_kill [SIGNAL]  (default KILL) the last ward_mount's daemon,
# and reap it; the mount is left as the signal leaves it (stale for KILL).
ward_kill() {
	local sig=${1:-KILL}
	kill -"$sig" "$WARD_PID" || return 1
	ward_wait_exit "$WARD_PID"
}

# Usage: ward_cleanup [MOUNTPOINT]  (e.g. test_when_finished ward_cleanup)
# Lazily unmounts everything of this script and kills its daemons; with
# MOUNTPOINT, only that mount and the daemon ward_mount started for it.
ward_cleanup() {
	local pid
	if test $# = 0; then
		test_cleanup_mounts >/dev/null
		return 0
	fi
	case $1 in
	/*) set -- "$1" ;;
	*) set -- "$PWD/$1" ;;
	esac
	pid=${ward_pid_by_mnt_[$1]:-}
	if test -n "$pid" && test_pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		ward_wait_exit "$pid" >/dev/null 2>&1 || kill -KILL "$pid" 2>/dev/null
	fi
	if ward_is_mounted "$1"; then
		fusermount3 -uz "$1" 2>/dev/null || umount -l "$1" 2>/dev/null
	fi
	return 0
}

# Usage: ward_status_field ID KEY -> the value of "KEY: value" printed
# by "wardfs status ID".
ward_status_field() {
	"$WARDFS_BIN" status "$1" >"$TRASH_DIRECTORY/.test/status" || return 1
	sed -n -e "s/^$2: *//p" "$TRASH_DIRECTORY/.test/status"
}

# Usage: ward_is_mounted DIR  (listed in /proc/mounts)
ward_is_mounted() {
	local m
	while read -r m; do
		test "$m" = "$1" && return 0
	done < <(test_mounts_under "$1")
	return 1
}

# True when file $1 holds a "mountpoint " line
ward_out_ready_() {
	local line
	while read -r line; do
		case $line in
		"mountpoint "*) return 0 ;;
		esac
	done 2>/dev/null <"$1"
	return 1
}

# ---------------------------------------------------------------------
# The binary and /dev/fuse

if ! test -x "$WARDFS_BIN"; then
	echo "Bail out! no wardfs binary at '$WARDFS_BIN' (run make, or set WARDFS_BIN)"
	test_done_called_=t
	exit 1
fi

if test -z "${WARD_NO_FUSE:-}" && ! { test -c /dev/fuse && : <>/dev/fuse; } 2>/dev/null; then
	test_done_called_=t
	if test -n "${CI:-}"; then
		say_tap_ "not ok 1 - /dev/fuse available"
		say_tap_ "1..1"
		exit 1
	fi
	say_tap_ "1..0 # SKIP no /dev/fuse"
	exit 0
fi
