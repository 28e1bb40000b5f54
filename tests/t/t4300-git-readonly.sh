#!/bin/bash
test_description='git works in the view while .git is read-only'
. "$(dirname "$0")/../lib/test-lib.sh"

# The agent's read-only git commands must work and say nothing alarming;
# the ones that would write .git must fail cleanly and change nothing.
# Oracle: the same command in the project itself.
P=project
M=mnt

if ! test_have_prereq GIT; then
	test_done_called_=t
	say_tap_ "1..0 # SKIP no git"
	exit 0
fi

# in_both NAME GIT-ARGS...: runs git in the project (not letting it
# refresh the index there) and in the view; the outputs go to
# NAME.project, NAME.view (stdout) and NAME.view.err
in_both() {
	local name=$1
	shift
	GIT_OPTIONAL_LOCKS=0 git -C "$TRASH_DIRECTORY/$P" "$@" \
		>$name.project 2>$name.project.err &&
	git -C "$TRASH_DIRECTORY/$M" "$@" >$name.view 2>$name.view.err
}

# quiet FILE: nothing alarming in a git command's stderr
quiet() {
	if grep -i -E "fatal|error|unable|warning|denied|read-only" "$1" >&2; then
		echo "alarming stderr above, in $1" >&2
		return 1
	fi
}

test_expect_success 'setup: a repository with history, a branch, a tag' '
	git init -q -b main $P &&
	(
		cd $P &&
		printf ".env\n*.log\n" >.gitignore &&
		echo "SECRET=hunter2" >.env &&
		printf "one\ntwo\nthree\n" >file.txt &&
		mkdir -p src &&
		echo "int main(void) { return 0; }" >src/main.c &&
		git add . &&
		git commit -q -m "first" &&
		echo four >>file.txt &&
		git commit -q -a -m "second" &&
		git tag -a v1 -m "version 1" &&
		git checkout -q -b topic &&
		echo topic >topic.txt &&
		git add topic.txt &&
		git commit -q -m "on topic" &&
		git checkout -q main &&
		git repack -q -a -d &&
		echo five >>file.txt &&
		git commit -q -a -m "third, loose" &&
		echo "build output" >build.log
	) &&
	git -C $P status --porcelain >status &&
	test_file_is_empty status &&
	tree_manifest $P >project.manifest &&
	ward_mount
'

test_expect_success '.git is read-only in the view' '
	test_must_fail sh -c ": >$M/.git/index" 2>err &&
	test_grep -e "Read-only file system" -e "Permission denied" err
'

test_expect_success 'git status: clean, as in the project, nothing alarming' '
	in_both status status &&
	test_cmp status.project status.view &&
	quiet status.view.err &&
	test_grep "nothing to commit" status.view &&
	in_both porcelain status --porcelain --ignored &&
	quiet porcelain.view.err &&
	printf "!! build.log\n" >expect &&
	test_cmp expect porcelain.view
'

test_expect_success 'git log, show, diff, branch, tag, describe, ls-files, grep, blame' '
	for cmd in "log --oneline --decorate --all" "log -p --stat" \
		"show HEAD" "show v1" "show topic:topic.txt" \
		"diff" "diff --cached" "diff HEAD~2 HEAD" "diff main topic" \
		"branch -a -v" "tag -l -n" "describe --tags" "ls-files -s" \
		"grep -n two" "blame file.txt" "rev-parse HEAD HEAD^{tree}" \
		"cat-file -p HEAD" "count-objects" "stash list" \
		"for-each-ref" "reflog -n 3" "shortlog -s HEAD"; do
		in_both out $cmd || { echo "failed: git $cmd" >&2; return 1; }
		test_cmp out.project out.view &&
		quiet out.view.err || { echo "in: git $cmd" >&2; return 1; }
	done
'

test_expect_success 'git fsck finds the repository sound' '
	git -C $M fsck --no-dangling >out 2>err &&
	test_grep -v -i -E "error|fatal|missing|broken" err
'

test_expect_success 'an edit shows in git status and git diff' '
	echo "six" >>$M/file.txt &&
	echo "new" >$M/untracked.txt &&
	git -C $M status --porcelain >actual 2>err &&
	quiet err &&
	printf " M file.txt\n?? untracked.txt\n" >expect &&
	test_cmp expect actual &&
	git -C $M diff >actual 2>err &&
	quiet err &&
	cat >expect <<-\EOF &&
	diff --git a/file.txt b/file.txt
	index 3f2c36f..a7fb5d4 100644
	--- a/file.txt
	+++ b/file.txt
	@@ -3,3 +3,4 @@ two
	 three
	 four
	 five
	+six
	EOF
	sed -e "s/^index [0-9a-f]*\.\.[0-9a-f]* /index X..Y /" expect >expect.x &&
	sed -e "s/^index [0-9a-f]*\.\.[0-9a-f]* /index X..Y /" actual >actual.x &&
	test_cmp expect.x actual.x &&
	git -C $M diff --stat >actual &&
	test_grep "1 insertion" actual
'

test_expect_success 'the hidden .env is neither shown nor reported deleted' '
	test_path_is_missing $M/.env &&
	git -C $M status --porcelain --ignored >actual &&
	test_grep -v "\.env" actual
'

test_expect_success 'git add and git commit fail cleanly, nothing changes' '
	git -C $M rev-parse HEAD >head.before &&
	test_must_fail git -C $M add file.txt 2>err &&
	test_grep -i -e "read-only" -e "permission" -e "unable" err &&
	test_must_fail git -C $M commit -q -a -m "agent commit" 2>err &&
	test_grep -i -e "read-only" -e "permission" -e "unable" err &&
	test_must_fail git -C $M commit -q --allow-empty -m "empty" &&
	git -C $M rev-parse HEAD >head.after &&
	test_cmp head.before head.after &&
	git -C $M status --porcelain >actual &&
	printf " M file.txt\n?? untracked.txt\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'other writing git commands fail cleanly' '
	test_must_fail git -C $M branch agent-branch &&
	test_must_fail git -C $M tag agent-tag &&
	test_must_fail git -C $M checkout -q topic &&
	test_must_fail git -C $M stash &&
	test_must_fail git -C $M config user.name agent &&
	test_must_fail git -C $M gc -q &&
	git -C $M branch --list >actual &&
	printf "* main\n  topic\n" >expect &&
	test_cmp expect actual &&
	echo six >expect &&
	tail -n 1 $M/file.txt >actual &&
	test_cmp expect actual
'

test_expect_success 'unmount; the project and its .git are unchanged' '
	ward_umount &&
	tree_manifest $P >actual &&
	test_cmp project.manifest actual &&
	git -C $P status --porcelain >actual &&
	test_file_is_empty actual
'

test_done
