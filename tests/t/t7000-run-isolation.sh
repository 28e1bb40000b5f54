#!/bin/bash
test_description='wardfs run: the guarded view is the only view'
. "$(dirname "$0")/../lib/test-lib.sh"

# CMD runs with a fake HOME holding secrets.  run gives CMD a private
# /tmp, so the fake home, the project and every fixture live under the
# trash directory.  Secrets are canaries "WARDCANARY-<what>".
P=$WARD_PROJECT
FAKEHOME=$TRASH_DIRECTORY/fakehome

# ward_run ARGS...: wardfs run with the fake HOME
ward_run() {
	env HOME="$FAKEHOME" "$WARDFS_BIN" run "$@"
}

# errno.py WANT PATH...: tries to create each PATH; prints the ones whose
# creation did not fail with errno WANT, exits 1 if any
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

# cmdlines.sh: the command line of every process CMD can see
cat >cmdlines.sh <<'EOF'
for f in /proc/[0-9]*/cmdline; do
	tr '\0' ' ' <"$f"
	echo
done
EOF

# server.py PORTFILE: a loopback TCP server answering "hello"
cat >server.py <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()
EOF

# client.py PORT: prints what the server says
cat >client.py <<'EOF'
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
print(c.recv(100).decode().strip())
EOF

test_expect_success 'setup: a project and a home with secrets' '
	mkdir -p $P/src "$FAKEHOME/.ssh" "$FAKEHOME/.aws" "$FAKEHOME/.gnupg" \
		"$FAKEHOME/.kube" "$FAKEHOME/.docker" "$FAKEHOME/.config/gcloud" &&
	echo WARDCANARY-ssh >"$FAKEHOME/.ssh/id_rsa" &&
	echo WARDCANARY-aws >"$FAKEHOME/.aws/credentials" &&
	echo WARDCANARY-gnupg >"$FAKEHOME/.gnupg/secring.gpg" &&
	echo WARDCANARY-kube >"$FAKEHOME/.kube/config" &&
	echo WARDCANARY-docker >"$FAKEHOME/.docker/config.json" &&
	echo WARDCANARY-gcloud >"$FAKEHOME/.config/gcloud/credentials.db" &&
	echo WARDCANARY-netrc >"$FAKEHOME/.netrc" &&
	echo WARDCANARY-gitcred >"$FAKEHOME/.git-credentials" &&
	echo "not a secret" >"$FAKEHOME/notes.txt" &&
	echo WARDCANARY-env >$P/.env &&
	echo alpha >$P/a.txt &&
	echo "int main(void) { return 0; }" >$P/src/main.c &&
	ln -s "$P/.env" $P/abs-env-link &&
	echo "outside the project" >outside.txt &&
	printf "#!/bin/sh\necho never\n" >not-executable &&
	chmod 644 not-executable &&
	project_checksum $P >project.sum &&
	project_checksum "$FAKEHOME" >home.sum
'

test_expect_success 'run mounts a session, runs CMD, unmounts, summarizes' '
	ward_run "$P" -- sh -c "echo first >\"$P/first.txt\"" >out 2>err &&
	sed -n -e "s/.*exited with status 0; session \([^ ]*\) holds.*/\1/p" \
		err >sid &&
	test_line_count = 1 sid &&
	SID=$(cat sid) &&
	test_grep "wardfs diff $SID" err &&
	test_grep "wardfs accept $SID" err &&
	test_grep "wardfs discard $SID" err &&
	test_path_is_missing $P/first.txt &&
	echo first >expect &&
	test_cmp expect "$WARDFS_HOME/sessions/$SID/upper/first.txt" &&
	test "$(ward_status_field $SID state)" = unmounted &&
	test -z "$(test_mounts_under "$TRASH_DIRECTORY")" &&
	test -z "$(test_wardfs_pids)"
'

test_expect_success 'the session mounted; run uses it and leaves it mounted' '
	ward_mount -s $SID &&
	ward_run "$P" -- cat "$P/first.txt" >out &&
	echo first >expect &&
	test_cmp expect out &&
	ward_is_mounted "$WARD_MNT" &&
	test_pid_alive $WARD_PID
'

test_expect_success 'the project path shows the view; writes land in the upper' '
	ward_run "$P" -- sh -c "cat \"$P/a.txt\" && echo new >\"$P/written.txt\" &&
		mkdir \"$P/newdir\" && echo more >>\"$P/a.txt\"" >out &&
	echo alpha >expect &&
	test_cmp expect out &&
	test_path_is_missing $P/written.txt &&
	test_path_is_missing $P/newdir &&
	echo alpha >expect &&
	test_cmp expect $P/a.txt &&
	echo new >expect &&
	test_cmp expect $WARD_UPPER/written.txt &&
	test_cmp expect $WARD_MNT/written.txt &&
	printf "alpha\nmore\n" >expect &&
	test_cmp expect $WARD_MNT/a.txt
'

test_expect_success 'CMD starts in the working directory, else the project' '
	ward_run "$P" -- pwd >out &&
	echo "$P" >expect &&
	test_cmp expect out &&
	(cd $P/src && ward_run "$P" -- pwd) >out &&
	echo "$P/src" >expect &&
	test_cmp expect out &&
	ward_run -s $SID -- cat a.txt >out &&
	printf "alpha\nmore\n" >expect &&
	test_cmp expect out
'

test_expect_success 'hidden files stay hidden at the project path' '
	test_must_fail ward_run "$P" -- cat "$P/.env" &&
	test_must_fail ward_run "$P" -- cat "$P/abs-env-link" &&
	test_must_fail ward_run "$P" -- cat "$WARD_MNT/.env" &&
	ward_run "$P" -- ls -A "$P" >out &&
	test_grep -v "^\.env$" out &&
	test_grep "^a\.txt$" out &&
	ward_run "$P" -- sh -c "grep -r -s WARDCANARY \"$P\" /proc/self/cwd/; true" \
		>out &&
	test_file_is_empty out
'

test_expect_success 'home secrets are masked' '
	for f in .ssh/id_rsa .aws/credentials .gnupg/secring.gpg .kube/config \
		.docker/config.json .config/gcloud/credentials.db; do
		test_must_fail ward_run "$P" -- cat "$FAKEHOME/$f" || return 1
	done &&
	ward_run "$P" -- sh -c "cat \"$FAKEHOME/.netrc\" \"$FAKEHOME/.git-credentials\";
		grep -r -s WARDCANARY \"$FAKEHOME\"; true" >out &&
	test_file_is_empty out &&
	ward_run "$P" -- cat "$FAKEHOME/notes.txt" >out &&
	echo "not a secret" >expect &&
	test_cmp expect out &&
	test_must_fail ward_run "$P" -- sh -c "echo key >\"$FAKEHOME/.ssh/authorized_keys\""
'

test_expect_success 'outside the project, the filesystem is read-only (EROFS)' '
	ward_run "$P" -- "$PYTHON" "$TRASH_DIRECTORY/errno.py" EROFS \
		"$FAKEHOME/x" "$FAKEHOME/.bashrc" /etc/wardfs-t7000 \
		"$TRASH_DIRECTORY/outside-x" "$TRASH_DIRECTORY/outside.txt" \
		/usr/wardfs-t7000 /var/wardfs-t7000 >bad &&
	test_file_is_empty bad &&
	test_must_fail ward_run "$P" -- sh -c "echo x >\"$WARD_UPPER/injected\"" &&
	test_path_is_missing "$WARD_UPPER/injected" &&
	test_path_is_missing "$FAKEHOME/x" &&
	test_path_is_missing /etc/wardfs-t7000 &&
	test_path_is_missing outside-x
'

test_expect_success '/tmp is writable and private' '
	host=/tmp/wardfs-t7000-host.$$ &&
	inside=/tmp/wardfs-t7000-inside.$$ &&
	test_when_finished "rm -f $host $inside" &&
	echo host >$host &&
	ward_run "$P" -- sh -c "test ! -e $host && echo in >$inside && cat $inside" \
		>out &&
	echo in >expect &&
	test_cmp expect out &&
	test_path_is_missing $inside
'

# SPEC 8: read-only but for a private /tmp and the [run] writable paths.
test_expect_success '/dev/shm is not shared with the host' '
	shm=/dev/shm/wardfs-t7000.$$ &&
	test_when_finished "rm -f $shm" &&
	{ ward_run "$P" -- sh -c "echo x >$shm" 2>/dev/null; true; } &&
	test_path_is_missing $shm
'

test_expect_success 'the session state is masked: no upper, no wardfs accept' '
	# a copy outside /tmp, which is private inside run
	cp "$WARDFS_BIN" wardfs-inside &&
	W_IN=$TRASH_DIRECTORY/wardfs-inside &&
	ward_run "$P" -- sh -c "ls -A \"$WARDFS_HOME\"" >out &&
	test_file_is_empty out &&
	test_must_fail ward_run "$P" -- "$W_IN" accept --force $SID &&
	test_must_fail ward_run "$P" -- sh -c "cd \"$P\" && \"$W_IN\" accept --force" &&
	test_path_is_missing $P/written.txt &&
	project_checksum $P >actual &&
	test_cmp project.sum actual
'

test_expect_success 'other processes, the daemon among them, are invisible' '
	ward_run "$P" -- sh -c "ls -d /proc/[0-9]*; ! test -e /proc/$WARD_PID &&
		! kill -0 $WARD_PID" >pids &&
	test_line_count -le 8 pids &&
	ward_run "$P" -- sh "$TRASH_DIRECTORY/cmdlines.sh" >cmdlines &&
	test_grep "cmdlines.sh" cmdlines &&
	test_grep -v "mount -f" cmdlines &&
	test_pid_alive $WARD_PID
'

test_expect_success 'CMD cannot unmount the view to reach the project' '
	ward_run "$P" -- sh -c "! umount \"$P\" 2>/dev/null &&
		! umount -l \"$P\" 2>/dev/null &&
		! cat \"$P/.env\" 2>/dev/null && cat \"$P/a.txt\"" >out &&
	printf "alpha\nmore\n" >expect &&
	test_cmp expect out &&
	test_must_fail ward_run "$P" -- sh -c "umount -l \"$P\" 2>/dev/null;
		cat \"$P/.env\""
'

test_expect_success PYTHON '--net=none: no connection to a host listener' '
	{ "$PYTHON" server.py port >/dev/null 2>&1 </dev/null 9>&- & } &&
	server_pid=$! &&
	test_when_finished "kill $server_pid && wait $server_pid; true" &&
	i=0 &&
	while ! test -s port && test $i -lt 100; do
		sleep 0.05 && i=$((i + 1))
	done &&
	port=$(cat port) &&
	"$PYTHON" client.py $port >out &&
	echo hello >expect &&
	test_cmp expect out &&
	ward_run "$P" -- "$PYTHON" "$TRASH_DIRECTORY/client.py" $port >out &&
	test_cmp expect out &&
	ward_run --net=host "$P" -- "$PYTHON" "$TRASH_DIRECTORY/client.py" $port >out &&
	test_cmp expect out &&
	test_must_fail ward_run --net=none "$P" -- \
		"$PYTHON" "$TRASH_DIRECTORY/client.py" $port >out 2>err &&
	test_file_is_empty out &&
	ward_run --net=none "$P" -- cat /proc/net/dev >dev &&
	sed -n -e "s/^ *\([^ :]*\):.*/\1/p" dev >links &&
	echo lo >expect &&
	test_cmp expect links
'

test_expect_success 'CMD status is run status; 128+signal; 127, 126' '
	test_expect_code 3 ward_run "$P" -- sh -c "exit 3" &&
	test_expect_code 0 ward_run "$P" -- true &&
	test_expect_code 143 ward_run "$P" -- sh -c "kill -TERM \$\$" &&
	test_expect_code 137 ward_run "$P" -- sh -c "kill -KILL \$\$" &&
	test_expect_code 127 ward_run "$P" -- no-such-command-wardfs 2>err &&
	test_grep "no-such-command-wardfs" err &&
	test_expect_code 126 ward_run "$P" -- "$TRASH_DIRECTORY/not-executable" &&
	test_expect_code 2 ward_run --net=bogus "$P" -- true &&
	test_expect_code 2 ward_run "$P"
'

test_expect_success 'secret environment variables are not passed; HOME, PATH are' '
	env MY_TOKEN=WARDCANARY-t1 AWS_SECRET_ACCESS_KEY=WARDCANARY-t2 \
		AWS_ACCESS_KEY_ID=WARDCANARY-t3 GITHUB_TOKEN=WARDCANARY-t4 \
		DB_PASSWORD=WARDCANARY-t5 SSH_AUTH_SOCK=/tmp/agent.sock \
		MY_VAR=kept \
		"$WARDFS_BIN" run "$P" -- env >env.out 2>env.err &&
	test_grep -v -e WARDCANARY -e "^MY_TOKEN=" -e "^AWS_" -e "^GITHUB_TOKEN=" \
		-e "^DB_PASSWORD=" -e "^SSH_AUTH_SOCK=" env.out &&
	test_grep "^MY_VAR=kept$" env.out &&
	test_grep "^HOME=$TRASH_DIRECTORY$" env.out &&
	test_grep "^PATH=." env.out &&
	test_grep -v WARDCANARY env.err &&
	test_grep "MY_TOKEN" env.err
'

test_expect_success 'the project and the home are unchanged' '
	ward_umount &&
	project_checksum $P >actual &&
	test_cmp project.sum actual &&
	project_checksum "$FAKEHOME" >actual &&
	test_cmp home.sum actual
'

test_done
