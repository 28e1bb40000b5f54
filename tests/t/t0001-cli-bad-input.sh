#!/bin/bash
test_description='wardfs mount refuses bad input with one error line and mounts nothing'
. "$(dirname "$0")/../lib/test-lib.sh"

# nothing_left: no mount under the trash directory, no wardfs process
nothing_left() {
	local m p
	m=$(test_mounts_under "$TRASH_DIRECTORY" | grep -vFx "$TRASH_DIRECTORY/rohome")
	p=$(test_wardfs_pids)
	if test -n "$m" || test -n "$p"; then
		echo "left behind: mounts '$m' processes '$p'" >&2
		return 1
	fi
}

# refused CODE CMD... -> CMD exits CODE, prints nothing on stdout and one
# "wardfs: ..." line on stderr, maybe followed by "hint: " lines (CODE 1),
# or at least one line (usage errors, CODE 2, may print the usage); nothing
# is left mounted or running, and the project is unchanged.  The error
# lines are collected in errors.all; the last test checks their shape.
refused() {
	local code=$1
	shift
	test_expect_code "$code" "$@" >out 2>err || {
		cat err >&2
		return 1
	}
	test_file_is_empty out || return 1
	if test "$code" = 1; then
		grep -v "^hint: " err >err.nohint
		test_line_count "=" 1 err.nohint || return 1
		test_grep "^wardfs: " err.nohint || return 1
		cat err.nohint >>"$TRASH_DIRECTORY/errors.all"
	else
		test_grep -E "^(wardfs: |usage: )" err || return 1
	fi
	nothing_left || return 1
	tree_manifest project >project.actual &&
	test_cmp project.manifest project.actual
}

test_expect_success 'setup' '
	echo content >project/file &&
	mkdir project/sub &&
	echo nested >project/sub/nested &&
	echo not-a-dir >afile &&
	tree_manifest project >project.manifest
'

test_expect_success 'missing project' '
	test_when_finished ward_cleanup &&
	refused 1 "$WARDFS_BIN" mount no-such-project mnt &&
	test_grep no-such-project err
'

test_expect_success 'missing project (-f)' '
	test_when_finished ward_cleanup &&
	refused 1 "$WARDFS_BIN" mount -f no-such-project mnt
'

test_expect_success 'project is a file' '
	test_when_finished ward_cleanup &&
	refused 1 "$WARDFS_BIN" mount afile mnt
'

test_expect_success 'mount point not empty' '
	test_when_finished ward_cleanup &&
	mkdir full &&
	echo x >full/x &&
	refused 1 "$WARDFS_BIN" mount project full &&
	refused 1 "$WARDFS_BIN" mount -f project full &&
	echo x >expect &&
	test_cmp expect full/x
'

test_expect_success 'mount point inside the project' '
	test_when_finished ward_cleanup &&
	mkdir project/inner &&
	tree_manifest project >project.manifest &&
	refused 1 "$WARDFS_BIN" mount project project/inner &&
	refused 1 "$WARDFS_BIN" mount -f project project/inner
'

test_expect_success 'mount point inside the project through a symlink' '
	test_when_finished ward_cleanup &&
	ln -s project/inner sneaky &&
	refused 1 "$WARDFS_BIN" mount project sneaky
'

test_expect_success 'mount point is the project itself' '
	test_when_finished ward_cleanup &&
	refused 1 "$WARDFS_BIN" mount project project
'

test_expect_success 'mount point is a file' '
	test_when_finished ward_cleanup &&
	refused 1 "$WARDFS_BIN" mount project afile
'

test_expect_success 'WARDFS_HOME below a file cannot be created' '
	test_when_finished ward_cleanup &&
	refused 1 env WARDFS_HOME="$TRASH_DIRECTORY/afile/home" \
		"$WARDFS_BIN" mount project mnt
'

test_expect_success !ROOT 'WARDFS_HOME not writable' '
	test_when_finished "chmod 755 unwritable; ward_cleanup" &&
	mkdir unwritable &&
	chmod 555 unwritable &&
	refused 1 env WARDFS_HOME="$TRASH_DIRECTORY/unwritable" \
		"$WARDFS_BIN" mount project mnt
'

# a read-only filesystem for WARDFS_HOME (root may write anywhere else)
mkdir rohome
if test_have_prereq ROOT && mount -t tmpfs -o ro,size=1m tmpfs rohome 2>/dev/null
then
	test_set_prereq ROFS
fi

test_expect_success ROFS 'WARDFS_HOME on a read-only filesystem' '
	test_when_finished ward_cleanup &&
	refused 1 env WARDFS_HOME="$TRASH_DIRECTORY/rohome/home" \
		"$WARDFS_BIN" mount project mnt &&
	refused 1 env WARDFS_HOME="$TRASH_DIRECTORY/rohome" \
		"$WARDFS_BIN" mount project mnt
'
test_have_prereq ROFS && umount rohome 2>/dev/null

test_expect_success 'bad cache lifetimes and thread counts' '
	test_when_finished ward_cleanup &&
	for o in timeout=-1 timeout=86401 timeout=soon timeout= \
		threads=0 threads=65 threads=two threads=; do
		refused 2 "$WARDFS_BIN" mount -o "$o" project mnt &&
		test_grep "bad mount option .$o." err || return 1
	done &&
	! ls "$WARDFS_HOME/sessions" 2>/dev/null | grep -q .
'

test_expect_success 'unknown session id' '
	test_when_finished ward_cleanup &&
	refused 1 "$WARDFS_BIN" mount -s no-such-session mnt &&
	refused 1 "$WARDFS_BIN" mount -f -s no-such-session mnt &&
	refused 1 "$WARDFS_BIN" umount no-such-session &&
	refused 1 "$WARDFS_BIN" status no-such-session
'

test_expect_success 'a session id that is a path' '
	test_when_finished ward_cleanup &&
	refused 1 "$WARDFS_BIN" mount -s ../../project mnt &&
	refused 1 "$WARDFS_BIN" status ../sessions
'

test_expect_success 'usage errors' '
	test_when_finished ward_cleanup &&
	refused 2 "$WARDFS_BIN" mount &&
	refused 2 "$WARDFS_BIN" mount -f &&
	refused 2 "$WARDFS_BIN" mount project mnt extra &&
	refused 2 "$WARDFS_BIN" mount --bogus project mnt &&
	refused 2 "$WARDFS_BIN" mount -s &&
	refused 2 "$WARDFS_BIN" umount a b &&
	refused 2 "$WARDFS_BIN" status a b
'

test_expect_success 'a live session cannot be mounted twice' '
	test_when_finished ward_cleanup &&
	ward_mount &&
	mkdir mnt2 &&
	test_expect_code 1 "$WARDFS_BIN" mount -s "$WARD_SESSION" mnt2 \
		>out 2>err &&
	test_file_is_empty out &&
	grep -v "^hint: " err >err.nohint &&
	test_line_count = 1 err.nohint &&
	test_grep "^wardfs: " err.nohint &&
	cat err.nohint >>errors.all &&
	! ward_is_mounted "$TRASH_DIRECTORY/mnt2" &&
	test_expect_code 1 "$WARDFS_BIN" mount -f -s "$WARD_SESSION" mnt2 \
		>out 2>err &&
	! ward_is_mounted "$TRASH_DIRECTORY/mnt2" &&
	test "$(test_wardfs_pids)" = "$WARD_PID" &&
	echo content >expect &&
	test_cmp expect mnt/file &&
	test "$(ward_status_field "$WARD_SESSION" state)" = live &&
	ward_umount
'

test_expect_success 'a live session cannot be mounted twice at its own mount point' '
	test_when_finished ward_cleanup &&
	ward_mount -s "$WARD_SESSION" &&
	test_expect_code 1 "$WARDFS_BIN" mount -s "$WARD_SESSION" mnt \
		>out 2>err &&
	test_grep "^wardfs: " err &&
	test "$(test_mounts_under "$TRASH_DIRECTORY" | wc -l)" = 1 &&
	echo content >expect &&
	test_cmp expect mnt/file &&
	ward_umount
'

test_expect_success 'umount of something not mounted' '
	test_when_finished ward_cleanup &&
	refused 1 "$WARDFS_BIN" umount "$WARD_SESSION" &&
	refused 1 "$WARDFS_BIN" umount "$TRASH_DIRECTORY/mnt"
'

test_expect_success 'every error reads "wardfs: <what failed>: <why>"' '
	test_line_count -gt 10 errors.all &&
	grep -Ev "^wardfs: .+: .+" errors.all >bad-errors;
	test_file_is_empty bad-errors
'

test_expect_success 'nothing is left mounted' '
	nothing_left &&
	! grep -F "$TRASH_DIRECTORY" /proc/mounts
'

test_done
