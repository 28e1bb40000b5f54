#!/bin/bash
test_description='a session survives umount and a SIGKILLed daemon'
. "$(dirname "$0")/../lib/test-lib.sh"

# Appends "line N\n" to $1 with one write(2) per line; after each write
# returned, records N in $2 (outside the mount).  Stops at the first error
# (the mount died) or after $3 lines.
cat >appender.py <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
progress = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for n in range(1, int(sys.argv[3]) + 1):
    try:
        os.write(fd, b"line %d\n" % n)
    except OSError as e:
        print("stopped at %d: %s" % (n, e), file=sys.stderr)
        sys.exit(0)
    os.pwrite(progress, b"%12d\n" % n, 0)
EOF

# Creates files $1/f<N> holding "file N\n" (open, write, close each); after
# each close returned, records N in $2.
cat >creator.py <<'EOF'
import os, sys
progress = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for n in range(1, int(sys.argv[3]) + 1):
    try:
        fd = os.open("%s/f%d" % (sys.argv[1], n),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b"file %d\n" % n)
        os.close(fd)
    except OSError as e:
        print("stopped at %d: %s" % (n, e), file=sys.stderr)
        sys.exit(0)
    os.pwrite(progress, b"%12d\n" % n, 0)
EOF

# progress FILE -> the number recorded in FILE (0 if none yet)
progress() {
	local n
	n=$(tr -d ' \n' 2>/dev/null <"$1")
	echo "${n:-0}"
}

# wait_for CMD... -> polls CMD until it succeeds, at most WARD_TIMEOUT s
wait_for() {
	local i=0
	until "$@"; do
		i=$((i + 1))
		if test $i -ge $((WARD_TIMEOUT * 50)); then
			echo "wait_for: timed out: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# wait_pid PID -> waits (bounded) for a background job of this shell
wait_pid() {
	wait_for eval "! test_pid_alive $1" || {
		kill -KILL "$1"
		return 1
	}
	wait "$1"
}

at_least() {
	test "$(progress "$1")" -ge "$2"
}

test_expect_success 'setup' '
	echo header >project/log.txt &&
	mkdir -p project/src project/out &&
	echo "int main(void) { return 0; }" >project/src/main.c &&
	echo doc >project/README &&
	head -c 128M /dev/urandom >project/big &&
	old_big=$(sha256sum <project/big) &&
	new_big=$({ cat project/big && echo TAIL; } | sha256sum) &&
	tree_manifest project >project.manifest
'

test_expect_success 'umount then mount -s ID keeps every change' '
	test_when_finished ward_cleanup &&
	ward_mount &&
	echo changed >mnt/README &&
	echo new >mnt/src/new.c &&
	rm mnt/src/main.c &&
	mkdir mnt/newdir &&
	echo x >mnt/newdir/x &&
	ln -s README mnt/readme.link &&
	chmod 600 mnt/log.txt &&
	mv mnt/out mnt/out2 &&
	tree_manifest mnt >before &&
	changes=$(ward_status_field "$WARD_SESSION" changes) &&
	ward_umount &&
	test_path_is_missing mnt/newdir &&
	ward_mount -s "$WARD_SESSION" &&
	tree_manifest mnt >after &&
	test_cmp before after &&
	test "$(ward_status_field "$WARD_SESSION" changes)" = "$changes" &&
	ward_umount
'

test_expect_success 'a second resume still has them' '
	test_when_finished ward_cleanup &&
	ward_mount -s "$WARD_SESSION" &&
	tree_manifest mnt >again &&
	test_cmp before again &&
	ward_umount &&
	tree_manifest project >actual &&
	test_cmp project.manifest actual
'

test_expect_success 'SIGKILL the daemon during writes and a large copy-up' '
	ward_mount &&
	session=$WARD_SESSION &&
	mkdir mnt/created &&
	{ "$PYTHON" appender.py mnt/log.txt appended 1000000 \
		>appender.out 2>&1 & } &&
	appender=$! &&
	{ "$PYTHON" creator.py mnt/created created 100000 \
		>creator.out 2>&1 & } &&
	creator=$! &&
	test_when_finished "kill $appender $creator 2>/dev/null; :" &&
	wait_for at_least appended 300 &&
	wait_for at_least created 50 &&
	{ echo TAIL >>mnt/big & } &&
	big_writer=$! &&
	# kill while the copy-up of big is under way, if it can be seen
	wait_for eval "test -n \"\$(find \"$WARD_SDIR/work\" \"$WARD_UPPER/big\" -mindepth 0 2>/dev/null | sed 1d)\" || ! test_pid_alive $big_writer" &&
	ward_kill KILL &&
	test "$ward_exit_status" = 137 &&
	wait_pid $appender &&
	wait_pid $creator &&
	{ wait_pid $big_writer || :; } &&
	appended=$(progress appended) &&
	created=$(progress created) &&
	test "$appended" -ge 300 &&
	test "$created" -ge 50
'

test_expect_success 'the dead mount is still there, and status shows it stale' '
	ward_is_mounted "$WARD_MNT" &&
	test_must_fail stat mnt/log.txt &&
	test "$(ward_status_field "$session" state)" = stale &&
	"$WARDFS_BIN" status >status.all &&
	awk -v id="$session" "\$1 == id { print \$2 }" status.all >state &&
	echo stale >expect &&
	test_cmp expect state
'

test_expect_success 'mount -s ID cleans up the stale mount and remounts' '
	ward_mount -s "$session" &&
	test "$(ward_status_field "$session" state)" = live &&
	test "$(test_mounts_under "$TRASH_DIRECTORY" | wc -l)" = 1
'

test_expect_success 'every append whose write(2) returned is there' '
	"$PYTHON" -c "
import sys
n = int(sys.argv[1])
with open(\"mnt/log.txt\", \"rb\") as f:
    lines = f.read().split(b\"\\n\")
if lines[0] != b\"header\":
    sys.exit(\"first line is %r, not header\" % lines[0])
if lines[-1] != b\"\":
    sys.exit(\"last line is incomplete: %r\" % lines[-1])
got = lines[1:-1]
for i, line in enumerate(got, 1):
    if line != b\"line %d\" % i:
        sys.exit(\"line %d of the appends is %r; %d appends had returned\"
                 % (i, line, n))
if len(got) < n:
    sys.exit(\"only %d of the %d appends that returned are in the file\"
             % (len(got), n))
print(\"%d appends returned, %d in the file\" % (n, len(got)))
" "$appended"
'

test_expect_success 'every file whose close returned is there, whole' '
	"$PYTHON" -c "
import sys
bad = []
for n in range(1, int(sys.argv[1]) + 1):
    try:
        with open(\"mnt/created/f%d\" % n, \"rb\") as f:
            data = f.read()
    except OSError as e:
        data = repr(e).encode()
    if data != b\"file %d\n\" % n:
        bad.append(\"f%d: %r\" % (n, data))
if bad:
    sys.exit(\"%d bad files: %s\" % (len(bad), \", \".join(bad[:10])))
" "$created"
'

test_expect_success 'the big file is wholly old or wholly new' '
	sum=$(sha256sum <mnt/big) &&
	if test "$sum" = "$old_big"; then
		echo "# kill before the copy-up finished: old content"
	elif test "$sum" = "$new_big"; then
		echo "# copy-up finished: new content"
	else
		echo "big is neither old nor new: size $(stat -c %s mnt/big)" >&2
		false
	fi
'

test_expect_success 'no temporary or half-copied file is visible' '
	{
		echo . && echo ./README && echo ./big && echo ./log.txt &&
		echo ./out && echo ./src && echo ./src/main.c &&
		echo ./created &&
		find mnt/created -mindepth 1 -printf "./created/%P\n"
	} | sort >expect &&
	(cd mnt && find .) | sort >actual &&
	test_cmp expect actual &&
	(cd mnt && ls -a) >ls.actual &&
	test_grep -v -e "^\.wh\." -e "wardfs" ls.actual &&
	test_grep -v -e "^\.wh\." ls.actual
'

test_expect_success 'the recovered mount takes writes and unmounts cleanly' '
	echo after >>mnt/log.txt &&
	tail -n 1 mnt/log.txt >actual &&
	echo after >expect &&
	test_cmp expect actual &&
	echo TAIL2 >>mnt/big &&
	tail -c 6 mnt/big >actual &&
	echo TAIL2 >expect &&
	test_cmp expect actual &&
	ward_umount &&
	test "$(ward_status_field "$session" state)" = unmounted
'

test_expect_success 'SIGKILL of an idle daemon, then resume' '
	test_when_finished ward_cleanup &&
	ward_mount -s "$session" &&
	echo idle >mnt/idle &&
	ward_kill KILL &&
	test "$(ward_status_field "$session" state)" = stale &&
	ward_mount -s "$session" &&
	echo idle >expect &&
	test_cmp expect mnt/idle &&
	ward_umount
'

test_expect_success 'the project was never written' '
	tree_manifest project >actual &&
	test_cmp project.manifest actual
'

test_done
