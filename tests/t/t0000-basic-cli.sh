#!/bin/bash
test_description='wardfs CLI basics: version, help, mount/umount/status round trip'
. "$(dirname "$0")/../lib/test-lib.sh"

# status_line ID -> the "wardfs status" line of session ID
status_line() {
	"$WARDFS_BIN" status >status.all || return 1
	awk -v id="$1" '$1 == id' status.all
}

test_expect_success '--version prints one line and exits 0' '
	"$WARDFS_BIN" --version >out 2>err &&
	test_line_count = 1 out &&
	test_grep "^wardfs " out &&
	test_file_is_empty err
'

test_expect_success '--help lists the commands and exits 0' '
	"$WARDFS_BIN" --help >out 2>err &&
	test_grep "usage: wardfs" out &&
	test_grep mount out &&
	test_grep umount out &&
	test_grep status out
'

test_expect_success 'every command has --help' '
	for cmd in mount umount status; do
		"$WARDFS_BIN" $cmd --help >out 2>err &&
		test_grep "usage: wardfs $cmd" out || return 1
	done
'

test_expect_success 'unknown command is a usage error' '
	test_expect_code 2 "$WARDFS_BIN" no-such-command >out 2>err &&
	test_file_is_empty out &&
	test_grep "^wardfs: " err &&
	test_grep no-such-command err
'

test_expect_success 'unknown option is a usage error' '
	test_expect_code 2 "$WARDFS_BIN" mount --no-such-option project mnt \
		>out 2>err &&
	test_file_is_empty out
'

test_expect_success 'setup project' '
	echo one >project/one &&
	echo two >project/two &&
	echo three >project/three &&
	mkdir project/dir &&
	echo nested >project/dir/nested &&
	tree_manifest project >project.manifest
'

test_expect_success 'mount -f prints the session and the mount point, then serves' '
	ward_mount &&
	test_line_count = 2 "$WARD_OUT.out" &&
	printf "session %s\nmountpoint %s\n" "$WARD_SESSION" "$TRASH_DIRECTORY/mnt" >expect &&
	test_cmp expect "$WARD_OUT.out" &&
	echo one >expect &&
	cat mnt/one >actual &&
	test_cmp expect actual &&
	test_pid_alive "$WARD_PID"
'

test_expect_success 'the session id is a plain name' '
	case $WARD_SESSION in
	"" | *[!A-Za-z0-9._-]* | .*) false ;;
	esac
'

test_expect_success 'the session directory holds its state' '
	test_path_is_dir "$WARD_SDIR" &&
	test_path_is_file "$WARD_SDIR/session.ini" &&
	test_path_is_dir "$WARD_SDIR/upper" &&
	test_path_is_dir "$WARD_SDIR/work" &&
	test_path_is_file "$WARD_SDIR/lock"
'

test_expect_success 'the mount is a FUSE mount with nosuid,nodev' '
	awk -v m="$WARD_MNT" "\$2 == m" /proc/mounts >mnt.line &&
	test_line_count = 1 mnt.line &&
	read -r _ _ type options _ <mnt.line &&
	case $type in fuse | fuse.*) ;; *) false ;; esac &&
	case ,$options, in *,nosuid,*) ;; *) false ;; esac &&
	case ,$options, in *,nodev,*) ;; *) false ;; esac
'

test_expect_success 'status ID of a fresh session' '
	"$WARDFS_BIN" status "$WARD_SESSION" >out &&
	test_grep -x "session: $WARD_SESSION" out &&
	test_grep -x "project: $WARD_PROJECT" out &&
	test_grep -x "mountpoint: $WARD_MNT" out &&
	test_grep -x "state: live" out &&
	test_grep -x "changes: 0" out
'

test_expect_success 'status lists the session as live' '
	status_line "$WARD_SESSION" >line &&
	test_line_count = 1 line &&
	read -r id state changes proj mnt rest <line &&
	test "$id" = "$WARD_SESSION" &&
	test "$state" = live &&
	test "$changes" = 0 &&
	test "$proj" = "$WARD_PROJECT" &&
	test "$mnt" = "$WARD_MNT" &&
	test -z "$rest"
'

test_expect_success 'changes counts new, modified and deleted paths' '
	echo new >mnt/new &&
	test "$(ward_status_field "$WARD_SESSION" changes)" = 1 &&
	echo more >>mnt/one &&
	test "$(ward_status_field "$WARD_SESSION" changes)" = 2 &&
	rm mnt/two &&
	test "$(ward_status_field "$WARD_SESSION" changes)" = 3 &&
	status_line "$WARD_SESSION" >line &&
	read -r _ _ changes _ <line &&
	test "$changes" = 3
'

test_expect_success 'umount: the daemon exits 0, the session stays' '
	ward_umount &&
	! mountpoint -q mnt &&
	test_path_is_missing mnt/one &&
	test "$(ward_status_field "$WARD_SESSION" state)" = unmounted &&
	test "$(ward_status_field "$WARD_SESSION" changes)" = 3 &&
	status_line "$WARD_SESSION" >line &&
	read -r id state changes proj _ <line &&
	test "$state" = unmounted &&
	test "$changes" = 3 &&
	test "$proj" = "$WARD_PROJECT" &&
	test_path_is_file "$WARD_UPPER/new"
'

test_expect_success 'the project was not changed' '
	tree_manifest project >actual &&
	test_cmp project.manifest actual
'

test_expect_success 'mount without -f returns once the mount is ready' '
	first=$WARD_SESSION &&
	test_when_finished ward_cleanup &&
	"$WARDFS_BIN" mount -s "$first" "$TRASH_DIRECTORY/mnt" >out 2>err &&
	printf "session %s\nmountpoint %s\n" "$first" "$TRASH_DIRECTORY/mnt" >expect &&
	test_cmp expect out &&
	mountpoint -q mnt &&
	echo new >expect &&
	test_cmp expect mnt/new &&
	test_path_is_missing mnt/two &&
	test -n "$(test_wardfs_pids)" &&
	test "$(ward_status_field "$first" state)" = live &&
	test_path_is_file "$WARDFS_HOME/sessions/$first/daemon.log"
'

test_expect_success 'umount ID stops a background daemon' '
	test_when_finished ward_cleanup &&
	"$WARDFS_BIN" mount -s "$first" "$TRASH_DIRECTORY/mnt" >out 2>err &&
	"$WARDFS_BIN" umount "$first" &&
	! mountpoint -q mnt &&
	i=0 &&
	while test -n "$(test_wardfs_pids)" && test $i -lt 100; do
		sleep 0.1 && i=$((i + 1)) || return 1
	done &&
	test -z "$(test_wardfs_pids)" &&
	test "$(ward_status_field "$first" state)" = unmounted
'

test_expect_success 'umount MOUNTPOINT of a -f daemon' '
	ward_mount -s "$first" &&
	ward_umount "$WARD_MNT"
'

test_expect_success 'umount ID of a -f daemon' '
	ward_mount -s "$first" &&
	ward_umount "$first"
'

test_expect_success 'SIGTERM makes a -f daemon unmount and exit 0' '
	ward_mount -s "$first" &&
	ward_kill TERM &&
	test "$ward_exit_status" = 0 &&
	! ward_is_mounted "$WARD_MNT" &&
	test "$(ward_status_field "$first" state)" = unmounted
'

test_expect_success 'SIGINT makes a -f daemon unmount and exit 0' '
	ward_mount -s "$first" &&
	ward_kill INT &&
	test "$ward_exit_status" = 0 &&
	! ward_is_mounted "$WARD_MNT"
'

test_expect_success 'the default mount point is in the session directory' '
	test_when_finished ward_cleanup &&
	"$WARDFS_BIN" mount project >out 2>err &&
	test_line_count = 2 out &&
	second=$(sed -n "s/^session //p" out) &&
	test -n "$second" &&
	test "$second" != "$first" &&
	echo "mountpoint $WARDFS_HOME/sessions/$second/mnt" >expect &&
	sed -n 2p out >actual &&
	test_cmp expect actual &&
	echo one >expect &&
	test_cmp expect "$WARDFS_HOME/sessions/$second/mnt/one" &&
	"$WARDFS_BIN" umount "$WARDFS_HOME/sessions/$second/mnt" &&
	! mountpoint -q "$WARDFS_HOME/sessions/$second/mnt"
'

test_expect_success 'two sessions over one project, each with its own upper' '
	test_when_finished ward_cleanup &&
	mkdir mnt2 &&
	ward_mount -s "$first" mnt &&
	ward_mount mnt2 &&
	third=$WARD_SESSION &&
	test "$third" != "$first" &&
	echo only-in-third >mnt2/three &&
	echo three >expect &&
	test_cmp expect mnt/three &&
	echo only-in-third >expect &&
	test_cmp expect mnt2/three &&
	test_path_is_file mnt/new &&
	test_path_is_missing mnt2/new &&
	test "$(status_line "$first" | awk "{ print \$2 }")" = live &&
	test "$(status_line "$third" | awk "{ print \$2 }")" = live &&
	ward_umount mnt2 &&
	ward_umount "$TRASH_DIRECTORY/mnt"
'

test_expect_success 'the project is still unchanged' '
	tree_manifest project >actual &&
	test_cmp project.manifest actual
'

test_done
