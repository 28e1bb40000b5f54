#!/bin/bash
test_description='wardfs accept --commit/--branch keep the user'"'"'s index and refs; discard'
. "$(dirname "$0")/../lib/test-lib.sh"

git_state() {
	{
		git -C project for-each-ref --format="%(refname) %(objectname)" &&
		git -C project symbolic-ref HEAD &&
		git -C project ls-files -s &&
		git -C project diff --cached --name-status
	} >"$1"
}

test_expect_success GIT 'setup: a git project with a staged change' '
	(
		cd project &&
		git init -q -b main . &&
		echo one >a.txt && echo keep >staged.txt && echo gone >gone.txt &&
		git add . && git commit -qm init &&
		echo "staged change" >staged.txt && git add staged.txt
	) &&
	ward_mount &&
	echo two >>mnt/a.txt &&
	echo new >mnt/new.txt &&
	rm mnt/gone.txt &&
	ward_umount &&
	git_state before
'

test_expect_success GIT 'diff and check leave the repository alone' '
	"$WARDFS_BIN" diff "$WARD_SESSION" >/dev/null &&
	"$WARDFS_BIN" check "$WARD_SESSION" &&
	git_state actual &&
	test_cmp before actual
'

test_expect_success GIT '--branch commits HEAD plus the change, touching nothing else' '
	"$WARDFS_BIN" accept "$WARD_SESSION" --branch agent >out &&
	git -C project show agent:a.txt >actual &&
	printf "one\ntwo\n" >expect &&
	test_cmp expect actual &&
	git -C project show agent:new.txt &&
	test_must_fail git -C project show agent:gone.txt &&
	git -C project show agent:staged.txt >actual &&
	echo keep >expect &&
	test_cmp expect actual &&
	test "$(git -C project rev-parse agent^)" = "$(git -C project rev-parse main)" &&
	echo one >expect && test_cmp expect project/a.txt &&
	git_state actual &&
	grep -v "refs/heads/agent" actual >actual.noagent &&
	test_cmp before actual.noagent &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	test_line_count = 3 ns
'

test_expect_success GIT '--branch refuses an existing branch' '
	test_expect_code 1 "$WARDFS_BIN" accept "$WARD_SESSION" --branch agent 2>err &&
	test_grep "cannot create branch .agent." err
'

test_expect_success GIT 'accept without --commit leaves index and refs alone' '
	"$WARDFS_BIN" accept "$WARD_SESSION" a.txt &&
	printf "one\ntwo\n" >expect &&
	test_cmp expect project/a.txt &&
	git_state actual &&
	grep -v "refs/heads/agent" actual >actual.noagent &&
	test_cmp before actual.noagent
'

test_expect_success GIT '--commit commits only the accepted paths; staged stays staged' '
	"$WARDFS_BIN" accept "$WARD_SESSION" --commit -m "agent work" &&
	git -C project log -1 --format=%s >actual &&
	echo "agent work" >expect &&
	test_cmp expect actual &&
	git -C project show --name-status --format= HEAD >actual &&
	printf "D\tgone.txt\nA\tnew.txt\n" >expect &&
	test_cmp expect actual &&
	git -C project diff --cached --name-status >actual &&
	printf "M\tstaged.txt\n" >expect &&
	test_cmp expect actual &&
	git -C project status --porcelain >actual &&
	printf "M  staged.txt\n?? a.txt\n" >expect0 &&
	grep -v "^ M a.txt$" actual >actual.rest &&
	printf "M  staged.txt\n" >expect &&
	test_cmp expect actual.rest
'

test_expect_success 'discard PATH drops only that path, also while mounted' '
	ward_mount -s "$WARD_SESSION" &&
	echo x >mnt/x && echo y >mnt/y &&
	"$WARDFS_BIN" discard "$WARD_SESSION" x &&
	test_path_is_missing mnt/x &&
	echo y >expect &&
	test_cmp expect mnt/y &&
	ward_umount &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	printf "A\ty\n" >expect &&
	test_cmp expect ns &&
	test_path_is_missing project/x
'

test_expect_success 'discard deletes a mounted session and never touches the project' '
	tree_manifest project >before.manifest &&
	ward_mount -s "$WARD_SESSION" &&
	echo z >mnt/z &&
	"$WARDFS_BIN" discard "$WARD_SESSION" &&
	ward_daemon_exited_ok "$WARD_PID" &&
	test_path_is_missing "$WARD_SDIR" &&
	tree_manifest project >after.manifest &&
	test_cmp before.manifest after.manifest
'

test_done
