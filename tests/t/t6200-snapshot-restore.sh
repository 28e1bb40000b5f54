#!/bin/bash
test_description='wardfs snapshot: take, list, diff, restore, drop'
. "$(dirname "$0")/../lib/test-lib.sh"

# snap MSG: take a snapshot of the session; sets $id to its number
snap() {
	"$WARDFS_BIN" snapshot "$WARD_SESSION" -m "$1" >snap.out &&
	id=$(sed -n -e 's/^snapshot \([0-9][0-9]*\)$/\1/p' snap.out) &&
	test -n "$id"
}

# The first workload: edits, creates, deletes, binary files, symlinks.
work1() {
	echo changed >>mnt/a.txt &&
	printf 'new\n' >mnt/new.txt &&
	rm mnt/gone.txt &&
	printf '\000\001\002\377binary' >mnt/bin.dat &&
	printf '\377\376' >>mnt/old.bin &&
	ln -s a.txt mnt/link-new &&
	ln -sfn new.txt mnt/link-old &&
	chmod +x mnt/script.sh &&
	echo deep >mnt/d/sub/deep.txt &&
	rm mnt/d/y &&
	mkdir -p mnt/created/inner &&
	echo c >mnt/created/inner/c
}

# The second workload: more edits, creates, deletes and renames, and a
# directory deleted and made again.
work2() {
	echo again >>mnt/a.txt &&
	echo later >mnt/later.txt &&
	rm mnt/new.txt mnt/b.txt &&
	mv mnt/c.txt mnt/c-renamed.txt &&
	mv mnt/created mnt/moved &&
	printf 'other\000' >mnt/bin.dat &&
	ln -sfn b.txt mnt/link-new &&
	chmod -x mnt/script.sh &&
	rm -rf mnt/d &&
	mkdir mnt/d &&
	echo fresh >mnt/d/fresh &&
	mkdir -p mnt/e/f && echo g >mnt/e/f/g
}

test_expect_success 'setup' '
	(
		cd project &&
		printf "one\ntwo\n" >a.txt &&
		echo b >b.txt &&
		echo c >c.txt &&
		echo gone >gone.txt &&
		printf "\000\001old" >old.bin &&
		printf "#!/bin/sh\necho hi\n" >script.sh &&
		ln -s b.txt link-old &&
		mkdir -p d/sub &&
		echo x >d/x && echo y >d/y && echo s >d/sub/s
	) &&
	tree_manifest project >project.manifest &&
	ward_mount
'

test_expect_success 'snapshot records the session; list shows it' '
	work1 &&
	snap "first" &&
	test "$id" = 1 &&
	tree_manifest mnt >view.1 &&
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff.1 &&
	test -s diff.1 &&
	"$WARDFS_BIN" snapshot list -s "$WARD_SESSION" >list &&
	test_line_count = 1 list &&
	test_grep "^ *1  .*  first$" list
'

test_expect_success 'snapshot diff: between snapshots and to now, as git apply takes it' '
	cp -a mnt copy.1 &&
	work2 &&
	snap "second" &&
	test "$id" = 2 &&
	tree_manifest mnt >view.2 &&
	cp -a mnt copy.2 &&
	"$WARDFS_BIN" snapshot diff -s "$WARD_SESSION" 1 2 >patch.12 &&
	"$WARDFS_BIN" snapshot diff -s "$WARD_SESSION" 1 >patch.1now &&
	test_cmp patch.12 patch.1now &&
	test_grep "^rename from c.txt" patch.12 &&
	test_grep "^GIT binary patch" patch.12 &&
	cp -a copy.1 applied &&
	git -C applied init -q &&
	(cd applied && git apply --binary --whitespace=nowarn ../patch.12) &&
	rm -rf applied/.git &&
	diff -r --no-dereference copy.2 applied &&
	"$WARDFS_BIN" snapshot diff -s "$WARD_SESSION" 2 >empty &&
	test_file_is_empty empty &&
	"$WARDFS_BIN" snapshot diff -s "$WARD_SESSION" --name-status \
		1 2 -- d >ns &&
	printf "D\td/x\nA\td/fresh\nD\td/sub/deep.txt\nD\td/sub/s\n" | sort >expect &&
	sort ns >actual &&
	test_cmp expect actual
'

test_expect_success 'restore while mounted: the view is the snapshot at once' '
	ls -R mnt >/dev/null &&
	test_path_is_missing mnt/new.txt &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" 1 >out 2>err &&
	test_grep "^restored snapshot 1$" out &&
	test_grep "^wardfs: snapshot 3 before restoring snapshot 1$" err &&
	tree_manifest mnt >actual &&
	test_cmp view.1 actual &&
	echo new >expect &&
	test_cmp expect mnt/new.txt &&
	"$WARDFS_BIN" diff "$WARD_SESSION" >actual &&
	test_cmp diff.1 actual &&
	tree_manifest project >actual &&
	test_cmp project.manifest actual &&
	test_pid_alive "$WARD_PID"
'

test_expect_success 'an open descriptor of a replaced file reads as after a rename over it' '
	exec 3<mnt/a.txt &&
	test_when_finished "exec 3<&-" &&
	cat mnt/a.txt >before &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" 2 2>err &&
	cat <&3 >actual &&
	test_cmp before actual &&
	tree_manifest mnt >actual &&
	test_cmp view.2 actual
'

test_expect_success 'the restore before it can be undone' '
	"$WARDFS_BIN" snapshot list -s "$WARD_SESSION" >list &&
	test_grep "^ *3  .*before restoring snapshot 1$" list &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" 3 2>err &&
	tree_manifest mnt >actual &&
	test_cmp view.2 actual
'

test_expect_success 'restore some paths only' '
	echo edited >>mnt/a.txt &&
	echo edited >>mnt/later.txt &&
	echo created >mnt/extra.txt &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" 1 \
		a.txt new.txt extra.txt d >out 2>err &&
	test_grep "^restored a.txt from snapshot 1$" out &&
	printf "one\ntwo\nchanged\n" >expect &&
	test_cmp expect mnt/a.txt &&
	echo new >expect &&
	test_cmp expect mnt/new.txt &&
	test_path_is_missing mnt/extra.txt &&
	printf "later\nedited\n" >expect &&
	test_cmp expect mnt/later.txt &&
	echo x >expect && test_cmp expect mnt/d/x &&
	echo deep >expect && test_cmp expect mnt/d/sub/deep.txt &&
	echo s >expect && test_cmp expect mnt/d/sub/s &&
	test_path_is_missing mnt/d/y &&
	test_path_is_missing mnt/d/fresh &&
	test_path_is_dir mnt/moved &&
	test_path_is_missing mnt/created &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" 1 created 2>err &&
	echo c >expect && test_cmp expect mnt/created/inner/c &&
	test_path_is_dir mnt/moved
'

test_expect_success 'restore beneath a deleted, then recreated directory' '
	snap "before rm" &&
	keep=$id &&
	rm -rf mnt/d &&
	mkdir mnt/d &&
	echo other >mnt/d/other &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" "$keep" d/x 2>err &&
	echo x >expect && test_cmp expect mnt/d/x &&
	echo other >expect && test_cmp expect mnt/d/other &&
	test_path_is_missing mnt/d/sub &&
	rm -rf mnt/d &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" "$keep" d/sub/s 2>err &&
	echo s >expect && test_cmp expect mnt/d/sub/s &&
	test_path_is_missing mnt/d/x &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" "$keep" 2>err &&
	ls mnt/d >actual &&
	printf "sub\nx\n" >expect &&
	test_cmp expect actual &&
	ls mnt/d/sub >actual &&
	printf "deep.txt\ns\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'restore refuses a path below a file' '
	echo file >mnt/created/inner2 &&
	rm -rf mnt/created &&
	echo now-a-file >mnt/created &&
	"$WARDFS_BIN" snapshot list -s "$WARD_SESSION" >before &&
	test_expect_code 1 "$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" \
		1 created/inner/c 2>err &&
	test_grep "cannot restore .created/inner/c. alone: .created. is not a directory" err &&
	"$WARDFS_BIN" snapshot list -s "$WARD_SESSION" >after &&
	test_cmp before after &&
	echo now-a-file >expect &&
	test_cmp expect mnt/created
'

test_expect_success 'restore of an unmounted session exchanges the layer' '
	ward_umount &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" 2 2>err &&
	ls "$WARD_SDIR/work" >leftover &&
	test_grep -v "^snap\\." leftover &&
	ward_mount -s "$WARD_SESSION" &&
	tree_manifest mnt >actual &&
	test_cmp view.2 actual
'

test_expect_success 'snapshot of a session with binary files and symlinks' '
	rm -f mnt/link-old &&
	ln -s "/outside/target with spaces" mnt/abs-link &&
	ln -s dangling mnt/dangling &&
	head -c 70000 /dev/urandom >mnt/random.bin &&
	snap "binary" &&
	bin=$id &&
	tree_manifest mnt >view.bin &&
	rm mnt/random.bin mnt/abs-link mnt/dangling mnt/bin.dat &&
	echo text >mnt/link-old &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" "$bin" 2>err &&
	tree_manifest mnt >actual &&
	test_cmp view.bin actual &&
	test "$(readlink mnt/abs-link)" = "/outside/target with spaces"
'

test_expect_success 'drop forgets a snapshot; numbers are not given again' '
	"$WARDFS_BIN" snapshot list -s "$WARD_SESSION" >before &&
	last=$(tail -n 1 before | awk "{print \$1}") &&
	"$WARDFS_BIN" snapshot drop -s "$WARD_SESSION" 2 "$last" >out &&
	test_grep "^dropped snapshot 2$" out &&
	"$WARDFS_BIN" snapshot list -s "$WARD_SESSION" >after &&
	test_line_count = $(($(wc -l <before) - 2)) after &&
	test_grep -v "^ *2  " after &&
	snap "after drop" &&
	test "$id" = $((last + 1)) &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" 1 2>err &&
	tree_manifest mnt >actual &&
	test_cmp view.1 actual
'

test_expect_success 'bad snapshots are refused' '
	"$WARDFS_BIN" snapshot list -s "$WARD_SESSION" >before &&
	test_expect_code 1 "$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" 2 2>err &&
	test_grep "^wardfs: there is no snapshot 2$" err &&
	"$WARDFS_BIN" snapshot list -s "$WARD_SESSION" >after &&
	test_cmp before after &&
	test_expect_code 1 "$WARDFS_BIN" snapshot diff -s "$WARD_SESSION" 99 2>err &&
	test_grep "there is no snapshot 99" err &&
	test_expect_code 2 "$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" x 2>err &&
	test_grep "bad snapshot .x." err &&
	test_expect_code 2 "$WARDFS_BIN" snapshot drop -s "$WARD_SESSION" 2>err &&
	test_expect_code 2 "$WARDFS_BIN" snapshot "$WARD_SESSION" extra 2>err &&
	"$WARDFS_BIN" snapshot --help >out &&
	test_grep "^usage: wardfs snapshot" out
'

test_expect_success 'a session argument before the sub-command' '
	"$WARDFS_BIN" snapshot "$WARD_SESSION" list >list &&
	test_grep "after drop" list &&
	(cd mnt && "$WARDFS_BIN" snapshot list) >list2 &&
	test_cmp list list2
'

test_expect_success 'discard prunes the snapshots with the session' '
	"$WARDFS_BIN" discard "$WARD_SESSION" &&
	ward_daemon_exited_ok "$WARD_PID" &&
	test_path_is_missing "$WARD_SDIR" &&
	tree_manifest project >actual &&
	test_cmp project.manifest actual
'

test_done
