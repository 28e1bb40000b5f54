#!/bin/bash
test_description='wardfs accept: three-way merges, conflicts, hidden and read-only paths'
. "$(dirname "$0")/../lib/test-lib.sh"

# Edit a file in place (no rename over it: see the known breakage below).
edit() {
	sed "$1" "$2" >"$2.tmp" && cat "$2.tmp" >"$2" && rm "$2.tmp"
}

test_expect_success 'setup' '
	(
		cd project &&
		test_seq 1 20 >merge.txt &&
		test_seq 1 20 >clash.txt &&
		echo keep >deleted-there.txt &&
		echo edit >edited-there.txt &&
		mkdir -p app/conf &&
		echo code >app/main.c &&
		echo "API_KEY=real" >app/.env &&
		echo "key" >app/conf/server.pem &&
		echo visible >app/conf/settings.ini
	) &&
	tree_manifest project >project.orig
'

test_expect_success 'the agent changes files the project changes too' '
	ward_mount &&
	edit "s/^2$/two/" mnt/merge.txt &&
	edit "s/^10$/ten-session/" mnt/clash.txt &&
	echo session >>mnt/edited-there.txt &&
	rm mnt/deleted-there.txt &&
	echo "session version" >mnt/both-new.txt &&
	ward_umount &&
	sed -i "s/^19$/nineteen/" project/merge.txt &&
	sed -i "s/^10$/ten-project/" project/clash.txt &&
	echo project >>project/deleted-there.txt &&
	rm project/edited-there.txt &&
	echo "project version" >project/both-new.txt &&
	tree_manifest project >before-accept
'

test_expect_success 'conflicts are listed per path and nothing is applied' '
	test_expect_code 1 "$WARDFS_BIN" accept "$WARD_SESSION" >out 2>err &&
	test_grep "^conflict clash.txt: changed in the project and in the session" err &&
	test_grep "^conflict deleted-there.txt: deleted in the session, changed in the project" err &&
	test_grep "^conflict edited-there.txt: changed in the session, deleted in the project" err &&
	test_grep "^conflict both-new.txt: created in the project and in the session" err &&
	test_grep "nothing applied" err &&
	tree_manifest project >actual &&
	test_cmp before-accept actual
'

test_expect_success 'a clean merge applies when accepted alone' '
	"$WARDFS_BIN" accept "$WARD_SESSION" merge.txt >out &&
	test_grep "^merged   merge.txt" out &&
	sed -n "2p;19p" project/merge.txt >actual &&
	printf "two\nnineteen\n" >expect &&
	test_cmp expect actual &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	! grep -q "merge.txt" ns
'

test_expect_success '--force writes conflict markers and takes the session side' '
	"$WARDFS_BIN" accept --force "$WARD_SESSION" >out &&
	test_grep "^<<<<<<< project" project/clash.txt &&
	test_grep "^ten-session" project/clash.txt &&
	test_grep "^ten-project" project/clash.txt &&
	test_path_is_missing project/deleted-there.txt &&
	test_grep "^session" project/edited-there.txt &&
	test_grep "^<<<<<<< project" project/both-new.txt
'

test_expect_success 'the agent deletes a directory holding hidden files' '
	ward_mount -s "$WARD_SESSION" &&
	test_path_is_missing mnt/app/.env &&
	rm -rf mnt/app &&
	test_path_is_missing mnt/app &&
	ward_umount &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	printf "D\tapp/conf/settings.ini\nD\tapp/main.c\n" >expect &&
	test_cmp expect ns
'

test_expect_success 'accept deletes the visible files; hidden files and their directories survive' '
	"$WARDFS_BIN" accept "$WARD_SESSION" &&
	test_path_is_missing project/app/main.c &&
	test_path_is_missing project/app/conf/settings.ini &&
	echo "API_KEY=real" >expect &&
	test_cmp expect project/app/.env &&
	echo key >expect &&
	test_cmp expect project/app/conf/server.pem
'

test_expect_success 'the view still hides them and shows no app/' '
	ward_mount -s "$WARD_SESSION" &&
	test_path_is_missing mnt/app &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	test_file_is_empty ns &&
	ward_umount
'

test_expect_success 'a file replaced by rename (sed -i) and changed in the project conflicts' '
	echo original >project/renamed-over.txt &&
	ward_mount -s "$WARD_SESSION" &&
	sed -i "s/original/session/" mnt/renamed-over.txt &&
	ward_umount &&
	echo "project edit" >project/renamed-over.txt &&
	test_must_fail "$WARDFS_BIN" accept "$WARD_SESSION" renamed-over.txt &&
	echo "project edit" >expect &&
	test_cmp expect project/renamed-over.txt
'

test_expect_success 'read-only paths are never changed by accept' '
	mkdir -p project/.github/workflows &&
	echo "on: push" >project/.github/workflows/ci.yml &&
	ward_mount -s "$WARD_SESSION" &&
	test_must_fail sh -c "echo evil >>mnt/.github/workflows/ci.yml" &&
	ward_umount &&
	mkdir -p "$WARD_UPPER/.github/workflows" &&
	echo evil >"$WARD_UPPER/.github/workflows/ci.yml" &&
	"$WARDFS_BIN" accept --force "$WARD_SESSION" >out &&
	test_grep "^skipped  .github/workflows/ci.yml (read-only path)" out &&
	echo "on: push" >expect &&
	test_cmp expect project/.github/workflows/ci.yml
'

test_expect_success 'accept while mounted applies the change; the view keeps it' '
	ward_mount -s "$WARD_SESSION" &&
	echo more >mnt/new-file &&
	"$WARDFS_BIN" accept "$WARD_SESSION" new-file >out &&
	test_grep "^accepted new-file$" out &&
	echo more >expect &&
	test_cmp expect project/new-file &&
	test_cmp expect mnt/new-file &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" new-file >ns &&
	test_file_is_empty ns &&
	ward_umount
'

test_expect_success 'accept PATH accepts only that path; the rest stays' '
	ward_mount -s "$WARD_SESSION" &&
	echo one >mnt/one &&
	echo two >mnt/two &&
	ward_umount &&
	"$WARDFS_BIN" accept "$WARD_SESSION" one &&
	test_path_is_file project/one &&
	test_path_is_missing project/two &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	test_grep "two" ns &&
	! grep -q "one" ns
'

test_done
