#!/bin/bash
test_description='wardfs run as an ordinary user (user namespaces)'
. "$(dirname "$0")/../lib/test-lib.sh"

# As root, this creates the user wardfs-test when missing and runs wardfs
# as that user over a project the user owns.  /dev/fuse is mode 0600 on
# some machines: it is opened up for the test and its mode restored on
# exit.  Without root there is no other user to be: skipped (but as root
# under CI, every failure to set up is a failure).
RUSER=wardfs-test
U=$TRASH_DIRECTORY/u
UP=$U/project
UM=$U/mnt
UHOME=$U/home

# skip_all REASON: a TAP skip of the whole script (a failure under CI as
# root, where this must run)
skip_all() {
	test_done_called_=t
	if test -n "${CI:-}" && test "$(id -u)" = 0; then
		say_tap_ "not ok 1 - set up a user to run as: $1"
		say_tap_ "1..1"
		exit 1
	fi
	say_tap_ "1..0 # SKIP $1"
	exit 0
}

test_have_prereq ROOT || skip_all "not root: no other user to run as"
command -v runuser >/dev/null || skip_all "no runuser"
if ! id -u $RUSER >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /bin/sh $RUSER >/dev/null 2>&1 ||
		skip_all "cannot create the user $RUSER"
fi

# One instance at a time on a machine: another would see /dev/fuse opened
# up by this one as its mode to restore (or have it restored under it).
if command -v flock >/dev/null && test -d /run/lock; then
	exec 7>/run/lock/wardfs-t7001.lock &&
		flock -w 120 7 || skip_all "another t7001 holds /run/lock/wardfs-t7001.lock"
fi

fuse_mode_=$(stat -c %a /dev/fuse) || skip_all "no /dev/fuse"
restore_fuse_mode_() {
	test "$(stat -c %a /dev/fuse 2>/dev/null)" = "$fuse_mode_" ||
		chmod "$fuse_mode_" /dev/fuse
}
trap 'rc_=$?; restore_fuse_mode_; test_lib_exit_ $rc_' EXIT
case $fuse_mode_ in
*66) ;;
*) chmod 0666 /dev/fuse || skip_all "cannot open up /dev/fuse" ;;
esac

# as_user CMD...: CMD as $RUSER, in a clean environment (without the lock)
as_user() {
	runuser -u $RUSER -- env -i HOME="$UHOME" PATH=/usr/local/bin:/usr/bin:/bin \
		WARDFS_HOME="$WARDFS_HOME" LC_ALL=C TZ=UTC NO_COLOR=1 \
		${EXTRA_ENV:+$EXTRA_ENV} "$@" 7>&-
}

mkdir -p "$UP" "$UM" "$UHOME/.ssh" "$UHOME/.aws" "$WARDFS_HOME" &&
chown -R $RUSER "$U" "$WARDFS_HOME" ||
	skip_all "cannot give $RUSER its directories"
as_user test -x "$WARDFS_BIN" ||
	skip_all "$RUSER cannot reach '$WARDFS_BIN'"
as_user test -w "$UP" || skip_all "$RUSER cannot reach '$UP'"

# errno.py WANT PATH...: creating each PATH must fail with errno WANT
cat >errno.py <<'EOF'
import errno, os, sys
want, bad = sys.argv[1], []
for p in sys.argv[2:]:
    try:
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o644))
        bad.append("%s: created" % p)
    except OSError as e:
        got = errno.errorcode.get(e.errno, str(e.errno))
        if got != want:
            bad.append("%s: %s" % (p, got))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF

test_expect_success 'setup: the user owns a project and a home with secrets' '
	as_user sh -c "
		echo WARDCANARY-env >\"$UP/.env\" &&
		echo alpha >\"$UP/a.txt\" &&
		echo WARDCANARY-ssh >\"$UHOME/.ssh/id_rsa\" &&
		echo WARDCANARY-aws >\"$UHOME/.aws/credentials\" &&
		echo notes >\"$UHOME/notes.txt\"" &&
	project_checksum "$UP" >project.sum &&
	project_checksum "$UHOME" >home.sum
'

test_expect_success 'wardfs doctor as the user' '
	as_user "$WARDFS_BIN" doctor >doctor.out 2>&1;
	cat doctor.out &&
	test_grep "user namespace" doctor.out &&
	if grep -q "^ *ok *user namespace" doctor.out &&
		grep -q "^ *ok *locked mounts" doctor.out; then
		test_set_prereq USERNS
	fi &&
	if grep -q "^ *ok *fuse device" doctor.out; then
		test_set_prereq USERFUSE
	fi
'

test_expect_success USERFUSE 'the daemon of the user cannot be read through /proc' '
	as_user "$WARDFS_BIN" mount "$UP" "$UM" >out &&
	test_when_finished "as_user \"$WARDFS_BIN\" umount \"$UM\"" &&
	pid=$(test_wardfs_pids) &&
	test -n "$pid" &&
	test "$(stat -c %U /proc/$pid)" = $RUSER &&
	test_must_fail as_user ls /proc/$pid/fd/ &&
	test_must_fail as_user readlink /proc/$pid/cwd &&
	test_must_fail as_user ls /proc/$pid/root/ &&
	test_must_fail as_user cat /proc/$pid/environ &&
	test_must_fail as_user cat "$UM/.env" &&
	as_user cat "$UM/a.txt" >actual &&
	echo alpha >expect &&
	test_cmp expect actual
'

test_expect_success USERNS 'run as the user: hidden .env, masked ~/.ssh, view at the project path' '
	as_user "$WARDFS_BIN" run "$UP" -- sh -c "
		test \$(id -u) = $(id -u $RUSER) &&
		cat \"$UP/a.txt\" &&
		! cat \"$UP/.env\" 2>/dev/null &&
		! cat \"$UHOME/.ssh/id_rsa\" 2>/dev/null &&
		! cat \"$UHOME/.aws/credentials\" 2>/dev/null &&
		cat \"$UHOME/notes.txt\" &&
		echo written >\"$UP/w.txt\"" >out 2>err &&
	printf "alpha\nnotes\n" >expect &&
	test_cmp expect out &&
	test_path_is_missing "$UP/w.txt" &&
	echo written >expect &&
	test_cmp expect "$(echo "$WARDFS_HOME"/sessions/*/upper/w.txt)" &&
	test "$(stat -c %U "$(echo "$WARDFS_HOME"/sessions/*/upper/w.txt)")" = $RUSER &&
	test_grep "wardfs diff" err &&
	test -z "$(test_mounts_under "$U")" &&
	test -z "$(test_wardfs_pids)"
'

test_expect_success USERNS 'run as the user: the rest is read-only, /tmp private' '
	as_user "$WARDFS_BIN" run "$UP" -- "$PYTHON" "$TRASH_DIRECTORY/errno.py" EROFS \
		"$UHOME/x" "$UHOME/.ssh/authorized_keys" "$U/outside" \
		"$WARDFS_HOME/x" >bad 2>err;
	test_file_is_empty bad &&
	test_path_is_missing "$UHOME/x" &&
	test_path_is_missing "$U/outside" &&
	as_user "$WARDFS_BIN" run "$UP" -- sh -c "echo t >/tmp/wardfs-t7001.$$" &&
	test_path_is_missing /tmp/wardfs-t7001.$$
'

test_expect_success USERNS 'run as the user: no escape from the view' '
	as_user "$WARDFS_BIN" run "$UP" -- sh -c "
		! umount \"$UP\" 2>/dev/null &&
		! umount -l \"$UP\" 2>/dev/null &&
		! cat \"$UP/.env\" 2>/dev/null &&
		! ls \"$WARDFS_HOME/sessions\" 2>/dev/null | grep -q . &&
		test \$(ls -d /proc/[0-9]* | wc -l) -le 8" &&
	test_expect_code 3 as_user "$WARDFS_BIN" run "$UP" -- sh -c "exit 3" &&
	EXTRA_ENV="MY_TOKEN=WARDCANARY-token" as_user "$WARDFS_BIN" run "$UP" -- env >env.out &&
	test_grep -v WARDCANARY env.out &&
	test_grep "^HOME=$UHOME$" env.out
'

test_expect_success !USERNS 'no user namespaces: run refuses, naming the missing protection' '
	test_expect_code 125 as_user "$WARDFS_BIN" run "$UP" -- true 2>err &&
	test_grep -i "namespace" err &&
	test_path_is_missing "$UP/w.txt"
'

test_expect_success 'the project and the home are unchanged' '
	project_checksum "$UP" >actual &&
	test_cmp project.sum actual &&
	project_checksum "$UHOME" >actual &&
	test_cmp home.sum actual
'

test_done
