#!/bin/bash
test_description='the audit log and wardfs log'
. "$(dirname "$0")/../lib/test-lib.sh"

P=project
M=mnt

# wait_log PATTERN [ARGS...]: waits (bounded) until "wardfs log ARGS"
# prints a line matching PATTERN (the daemon writes the log off the
# request threads); leaves the output in log.out
wait_log() {
	local pattern=$1 i=0
	shift
	while :; do
		"$WARDFS_BIN" log "$@" $WARD_SESSION >log.out 2>log.err || return 1
		grep -q -e "$pattern" log.out && return 0
		i=$((i + 1))
		if test $i -ge $((WARD_TIMEOUT * 10)); then
			echo "wait_log: no line matching '$pattern' in:" >&2
			cat log.out >&2
			return 1
		fi
		sleep 0.1
	done
}

# wait_file_grep PATTERN FILE: waits (bounded) until FILE has a line
# matching PATTERN
wait_file_grep() {
	local i=0
	until grep -q -e "$1" "$2" 2>/dev/null; do
		i=$((i + 1))
		if test $i -ge $((WARD_TIMEOUT * 20)); then
			echo "no line matching '$1' in $2:" >&2
			cat "$2" >&2
			return 1
		fi
		sleep 0.05
	done
}

TIME='[0-2][0-9]:[0-5][0-9]:[0-6][0-9]'

test_expect_success 'setup' '
	mkdir -p $P/.git $P/src &&
	echo "SECRET=1" >$P/.env &&
	echo "SECRET=2" >$P/.env.follow &&
	echo "key" >$P/id_rsa.follow &&
	echo "[core]" >$P/.git/config &&
	echo "hello" >$P/a.txt &&
	echo "int x;" >$P/src/x.c &&
	ward_mount
'

test_expect_success 'wardfs log --help; bad arguments' '
	"$WARDFS_BIN" log --help >out &&
	test_grep "^usage: wardfs log" out &&
	test_grep -e "--denied" out &&
	test_grep -e "--follow" out &&
	test_expect_code 2 "$WARDFS_BIN" log --bogus 2>err &&
	test_grep "usage: wardfs log" err &&
	test_expect_code 2 "$WARDFS_BIN" log $WARD_SESSION extra &&
	test_expect_code 1 "$WARDFS_BIN" log no-such-session 2>err &&
	test_grep "^wardfs: .*no-such-session" err
'

# The process stays alive until its event is logged (names are looked up
# when the event is written; see the last test for short-lived ones).
test_expect_success 'a denied read of a hidden file is logged with pid and name' '
	mkfifo hold &&
	{
		(cd $M && exec sh -c "echo \$\$ >\"\$0\"; exec cat .env - <\"\$1\"" \
			"$TRASH_DIRECTORY/pid.cat" "$TRASH_DIRECTORY/hold" \
			>/dev/null 2>&1) &
	} &&
	cat_pid=$! &&
	exec 8>hold &&
	wait_log " cat\[[0-9]*\] lookup \.env: hidden$" &&
	exec 8>&- &&
	test_expect_code 1 wait $cat_pid &&
	pid=$(cat pid.cat) &&
	test $pid = $cat_pid &&
	grep " lookup \.env: hidden$" log.out >line &&
	test_line_count = 1 line &&
	test_grep "^$TIME cat\[$pid\] lookup \.env: hidden$" line
'

test_expect_success 'a write is logged with pid and name' '
	{
		(cd $M && exec sh -c "echo \$\$ >\"\$0\"; echo hello >new.txt; read x <\"\$1\"" \
			"$TRASH_DIRECTORY/pid.sh" "$TRASH_DIRECTORY/hold") &
	} &&
	sh_pid=$! &&
	exec 8>hold &&
	wait_log " create new\.txt: ok$" &&
	echo go >&8 &&
	exec 8>&- &&
	wait $sh_pid &&
	pid=$(cat pid.sh) &&
	test $pid = $sh_pid &&
	test_grep "^$TIME sh\[$pid\] create new\.txt: ok$" log.out
'

test_expect_success 'a refused write to a read-only path is logged' '
	test_must_fail sh -c "echo x >>$M/.git/config" &&
	wait_log " open \.git/config: " &&
	test_grep -E " open \.git/config: (denied|EROFS|EACCES|EPERM)$" log.out
'

test_expect_success 'changes: mkdir, rename, unlink, symlink, setattr' '
	mkdir $M/d &&
	mv $M/new.txt $M/d/moved.txt &&
	ln -s a.txt $M/sym &&
	chmod 600 $M/a.txt &&
	rm $M/d/moved.txt &&
	rmdir $M/d &&
	wait_log " rmdir d: ok$" &&
	for l in " mkdir d: ok" " rename new\.txt -> d/moved\.txt: ok" \
		" symlink sym: ok" " setattr a\.txt: ok" \
		" unlink d/moved\.txt: ok" " rmdir d: ok"; do
		test_grep "^$TIME [^ ]*\[[0-9]*\]$l$" log.out || return 1
	done
'

test_expect_success 'the order of the log is the order of the events' '
	grep -n -e " mkdir d: ok" -e " rmdir d: ok" log.out | cut -d: -f1 >lines &&
	test_line_count = 2 lines &&
	test $(head -n 1 lines) -lt $(tail -n 1 lines)
'

test_expect_success '--json prints the log lines, with the right fields' '
	"$WARDFS_BIN" log --json $WARD_SESSION >json &&
	"$WARDFS_BIN" log $WARD_SESSION >text &&
	test_line_count -ge 8 json &&
	test $(wc -l <json) = $(wc -l <text) &&
	cat >check.py <<-\EOF &&
	import json, re, sys
	cat, sh = int(sys.argv[1]), int(sys.argv[2])
	seen = set()
	for line in sys.stdin:
	    e = json.loads(line)
	    assert set(e) == {"time", "pid", "comm", "op", "path", "result"}, e
	    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]), e
	    assert isinstance(e["pid"], int), e
	    if (e["op"], e["path"], e["result"]) == ("lookup", ".env", "hidden"):
	        assert (e["pid"], e["comm"]) == (cat, "cat"), e
	        seen.add("denied")
	    if (e["op"], e["path"], e["result"]) == ("create", "new.txt", "ok"):
	        assert (e["pid"], e["comm"]) == (sh, "sh"), e
	        seen.add("write")
	print(" ".join(sorted(seen)))
	EOF
	"$PYTHON" check.py "$(cat pid.cat)" "$(cat pid.sh)" <json >check &&
	echo "denied write" >expect &&
	test_cmp expect check &&
	cp "$WARD_SDIR/audit.jsonl" raw &&
	test_cmp raw json
'

test_expect_success '--denied: only refusals' '
	"$WARDFS_BIN" log --denied $WARD_SESSION >denied &&
	test_grep " lookup \.env: hidden$" denied &&
	test_grep " open \.git/config: " denied &&
	test_grep -v -e ": ok$" denied &&
	"$WARDFS_BIN" log --denied --json $WARD_SESSION >denied.json &&
	test $(wc -l <denied) = $(wc -l <denied.json) &&
	test_grep -v "\"result\":\"ok\"" denied.json
'

test_expect_success '--writes: only changes that succeeded' '
	"$WARDFS_BIN" log --writes $WARD_SESSION >writes &&
	test_grep " create new\.txt: ok$" writes &&
	test_grep " rmdir d: ok$" writes &&
	test_grep -v -e " lookup " -e "hidden$" -e "denied$" -e "E[A-Z]*$" writes &&
	test_grep -v "\.git/config" writes &&
	"$WARDFS_BIN" log --writes --denied $WARD_SESSION >both &&
	cat writes denied | sort >expect &&
	sort both >actual &&
	test_cmp expect actual
'

test_expect_success 'without ID: the session of the working directory' '
	(cd $M && "$WARDFS_BIN" log) >actual &&
	"$WARDFS_BIN" log $WARD_SESSION >expect &&
	test_cmp expect actual &&
	(cd $P/src && "$WARDFS_BIN" log --denied) >actual &&
	test_cmp denied actual &&
	"$WARDFS_BIN" log "$TRASH_DIRECTORY/$M" >actual &&
	test_cmp expect actual
'

test_expect_success 'names with control characters are quoted' '
	name=$(printf "evil\033]0;x\007name") &&
	: >"$M/$name" &&
	wait_log "create \"evil" &&
	test_grep -F " create \"evil\\033]0;x\\007name\": ok" log.out &&
	"$WARDFS_BIN" log $WARD_SESSION >out &&
	test_grep -v "$(printf "\033")" out
'

test_expect_success '--follow prints what is appended after it started' '
	{ "$WARDFS_BIN" log --follow $WARD_SESSION >follow.out 2>follow.err & } &&
	follow_pid=$! &&
	test_when_finished "kill $follow_pid 2>/dev/null; wait $follow_pid; true" &&
	wait_file_grep " rmdir d: ok$" follow.out &&
	test_must_fail cat $M/.env.follow &&
	echo x >$M/after-follow.txt &&
	wait_file_grep " create after-follow\.txt: ok$" follow.out &&
	wait_file_grep " lookup \.env\.follow: hidden$" follow.out &&
	kill -INT $follow_pid &&
	wait $follow_pid &&
	"$WARDFS_BIN" log $WARD_SESSION >all &&
	test_cmp all follow.out &&
	test_file_is_empty follow.err
'

test_expect_success '--follow --denied --json filters the new lines too' '
	{ "$WARDFS_BIN" log -f --denied --json $WARD_SESSION >follow.out & } &&
	follow_pid=$! &&
	test_when_finished "kill $follow_pid 2>/dev/null; wait $follow_pid; true" &&
	sleep 0.3 &&
	echo y >$M/ok-write.txt &&
	test_must_fail cat $M/id_rsa.follow &&
	wait_file_grep "\"path\":\"id_rsa.follow\"" follow.out &&
	kill -TERM $follow_pid &&
	wait $follow_pid &&
	test_grep -v "ok-write" follow.out &&
	test_grep -v "\"result\":\"ok\"" follow.out
'

test_expect_success '--follow dies with its reader (SIGPIPE)' '
	mkfifo fifo &&
	{ "$WARDFS_BIN" log -f --writes $WARD_SESSION >fifo & } &&
	follow_pid=$! &&
	test_when_finished "kill $follow_pid 2>/dev/null; wait $follow_pid; true" &&
	head -n 1 <fifo >first &&
	test_line_count = 1 first &&
	i=0 &&
	while test_pid_alive $follow_pid && test $i -lt $((WARD_TIMEOUT * 20)); do
		sleep 0.05 && i=$((i + 1))
	done &&
	! test_pid_alive $follow_pid
'

test_expect_success 'reads are logged only with [audit] reads = true' '
	cat $M/a.txt >/dev/null &&
	ward_umount &&
	"$WARDFS_BIN" log $WARD_SESSION >out &&
	test_grep -v " read " out &&
	ward_mount -s $WARD_SESSION -o audit.reads=true &&
	cat $M/src/x.c >/dev/null &&
	wait_log " read src/x\.c: ok$" &&
	"$WARDFS_BIN" log --writes $WARD_SESSION >out &&
	test_grep -v " read " out &&
	"$WARDFS_BIN" log --denied $WARD_SESSION >out &&
	test_grep -v " read " out
'

test_expect_success 'the log survives a resume; bad lines are skipped' '
	ward_umount &&
	"$WARDFS_BIN" log $WARD_SESSION >before &&
	echo "not json" >>"$WARD_SDIR/audit.jsonl" &&
	echo "{\"op\":\"lookup\"}" >>"$WARD_SDIR/audit.jsonl" &&
	printf "{\"time\":\"2026-01-01T00:00:00.000Z\",\"pid\":1" >>"$WARD_SDIR/audit.jsonl" &&
	"$WARDFS_BIN" log $WARD_SESSION >after 2>err &&
	test_cmp before after &&
	test_grep "skipped 2 lines" err
'

test_expect_success 'no log yet: nothing printed, exit 0' '
	rm "$WARD_SDIR/audit.jsonl" &&
	"$WARDFS_BIN" log $WARD_SESSION >out 2>err &&
	test_file_is_empty out &&
	test_file_is_empty err &&
	"$WARDFS_BIN" log --json --denied $WARD_SESSION >out &&
	test_file_is_empty out
'

test_expect_success '--follow, nothing to print: stops when its reader goes away' '
	mkfifo fifo2 &&
	{ "$WARDFS_BIN" log -f $WARD_SESSION >fifo2 & } &&
	follow_pid=$! &&
	test_when_finished "kill $follow_pid 2>/dev/null; wait $follow_pid; true" &&
	true <fifo2 &&
	i=0 &&
	while test_pid_alive $follow_pid && test $i -lt $((WARD_TIMEOUT * 20)); do
		sleep 0.05 && i=$((i + 1))
	done &&
	! test_pid_alive $follow_pid &&
	wait $follow_pid
'

test_expect_success '--follow waits for a log to appear' '
	{ "$WARDFS_BIN" log -f $WARD_SESSION >follow.out & } &&
	follow_pid=$! &&
	test_when_finished "kill $follow_pid 2>/dev/null; wait $follow_pid; true" &&
	sleep 0.3 &&
	ward_mount -s $WARD_SESSION &&
	test_must_fail cat $M/.env &&
	wait_file_grep " lookup \.env: hidden$" follow.out &&
	ward_umount
'

# The process name is read from /proc when the event is written, off the
# request thread; by then a short-lived process may be gone (and is logged
# as "?").  100 mkdirs, 25 at a time, to be sure to catch that.
test_expect_success 'short-lived processes are named too' '
	ward_mount -s $WARD_SESSION &&
	for r in 1 2 3 4; do
		pids= &&
		for i in $(test_seq 25); do
			{ mkdir $M/short$r-$i & } &&
			pids="$pids $!" || return 1
		done &&
		wait $pids || return 1
	done &&
	wait_log "" &&
	i=0 &&
	while test $(grep -c " mkdir short[0-9-]*: ok$" log.out) -lt 100 &&
		test $i -lt 100; do
		sleep 0.1 &&
		"$WARDFS_BIN" log $WARD_SESSION >log.out &&
		i=$((i + 1))
	done &&
	grep " mkdir short[0-9-]*: ok$" log.out >short &&
	test_line_count = 100 short &&
	grep -v "^$TIME mkdir\[[0-9]*\] mkdir short" short >unnamed;
	test_file_is_empty unnamed
'

test_expect_success 'unmount' '
	ward_umount
'

test_done
