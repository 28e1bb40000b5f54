#!/bin/bash
test_description='wardfs accept and discard PATH while the session is mounted: the view stays right'
. "$(dirname "$0")/../lib/test-lib.sh"

# Edit a file in place.
edit() {
	sed "$1" "$2" >"$2.tmp" && cat "$2.tmp" >"$2" && rm "$2.tmp"
}

test_expect_success 'setup' '
	echo a >project/a.txt &&
	echo b >project/b.txt &&
	mkdir project/dir &&
	echo c >project/dir/c.txt &&
	echo keep >project/keep.txt &&
	test_seq 1 20 >project/m.txt &&
	ward_mount
'

test_expect_success 'the agent changes files; accept while mounted applies them' '
	echo more >>mnt/a.txt &&
	rm mnt/b.txt &&
	echo new >mnt/dir/new.txt &&
	edit "s/^2$/two/" mnt/m.txt &&
	sed -i "s/^19$/nineteen/" project/m.txt &&
	cat mnt/a.txt mnt/m.txt mnt/dir/new.txt >/dev/null &&
	"$WARDFS_BIN" accept "$WARD_SESSION" >out &&
	test_grep "^accepted a.txt$" out &&
	test_grep "^merged   m.txt$" out &&
	printf "a\nmore\n" >a.expect &&
	test_cmp a.expect project/a.txt &&
	test_path_is_missing project/b.txt &&
	echo new >expect &&
	test_cmp expect project/dir/new.txt &&
	test_seq 1 20 | sed "s/^2$/two/;s/^19$/nineteen/" >m.expect &&
	test_cmp m.expect project/m.txt
'

test_expect_success 'the mount shows the same content at once (merges included)' '
	test_cmp a.expect mnt/a.txt &&
	test_path_is_missing mnt/b.txt &&
	echo new >expect &&
	test_cmp expect mnt/dir/new.txt &&
	test_cmp m.expect mnt/m.txt &&
	ls mnt >ls &&
	printf "a.txt\ndir\nkeep.txt\nm.txt\n" >expect &&
	test_cmp expect ls
'

test_expect_success 'wardfs diff is empty: the accepted paths left the session' '
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff &&
	test_file_is_empty diff &&
	test_path_is_missing "$WARD_UPPER/a.txt" &&
	test_path_is_missing "$WARD_UPPER/b.txt" &&
	test_path_is_missing "$WARD_UPPER/dir/new.txt" &&
	test_path_is_missing "$WARD_UPPER/m.txt"
'

test_expect_success 'edits in the mount after the accept work and show in wardfs diff' '
	echo again >>mnt/a.txt &&
	echo back >mnt/b.txt &&
	rm mnt/dir/new.txt &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	printf "M\ta.txt\nA\tb.txt\nD\tdir/new.txt\n" >expect &&
	test_cmp expect ns &&
	"$WARDFS_BIN" diff "$WARD_SESSION" a.txt >diff &&
	test_grep "^+again$" diff &&
	test_grep -v "^+more$" diff &&
	"$WARDFS_BIN" accept "$WARD_SESSION" &&
	printf "a\nmore\nagain\n" >expect &&
	test_cmp expect project/a.txt &&
	test_cmp expect mnt/a.txt &&
	echo back >expect &&
	test_cmp expect project/b.txt &&
	test_cmp expect mnt/b.txt &&
	test_path_is_missing project/dir/new.txt &&
	test_path_is_missing mnt/dir/new.txt &&
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff &&
	test_file_is_empty diff
'

test_expect_success 'a file the agent holds open stays in the session; no write is lost' '
	exec 7>>mnt/open.txt &&
	echo one >&7 &&
	"$WARDFS_BIN" accept "$WARD_SESSION" >out &&
	test_grep "^accepted open.txt$" out &&
	echo one >expect &&
	test_cmp expect project/open.txt &&
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff &&
	test_file_is_empty diff &&
	echo two >&7 &&
	exec 7>&- &&
	printf "one\ntwo\n" >expect &&
	test_cmp expect mnt/open.txt &&
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff &&
	test_grep "^ one$" diff &&
	test_grep "^+two$" diff &&
	"$WARDFS_BIN" accept "$WARD_SESSION" &&
	test_cmp expect project/open.txt &&
	test_cmp expect mnt/open.txt
'

test_expect_success 'a shell working in a new directory still sees its files' '
	mkdir -p mnt/nd/sub &&
	echo deep >mnt/nd/sub/f &&
	(
		cd mnt/nd/sub &&
		"$WARDFS_BIN" accept >../../../out &&
		cat f &&
		ls &&
		echo deeper >>f
	) >seen &&
	printf "deep\nf\n" >expect &&
	test_cmp expect seen &&
	test_grep "^accepted nd/sub/f$" out &&
	echo deep >expect &&
	test_cmp expect project/nd/sub/f &&
	printf "deep\ndeeper\n" >expect &&
	test_cmp expect mnt/nd/sub/f &&
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff &&
	test_grep "^+deeper$" diff &&
	test_grep -v "^+deep$" diff
'

test_expect_success 'discard PATH while mounted shows the project at once' '
	"$WARDFS_BIN" accept "$WARD_SESSION" >/dev/null &&
	echo session >mnt/keep.txt &&
	echo fresh >mnt/fresh.txt &&
	rm mnt/dir/c.txt &&
	cat mnt/keep.txt >/dev/null &&
	"$WARDFS_BIN" discard "$WARD_SESSION" keep.txt fresh.txt dir/c.txt \
		>out &&
	test_grep "^discarded keep.txt$" out &&
	echo keep >expect &&
	test_cmp expect mnt/keep.txt &&
	test_path_is_missing mnt/fresh.txt &&
	echo c >expect &&
	test_cmp expect mnt/dir/c.txt &&
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff &&
	test_file_is_empty diff &&
	echo keep >expect &&
	test_cmp expect project/keep.txt &&
	test_path_is_missing project/fresh.txt
'

test_expect_success 'discard PATH from inside the mount' '
	echo session >mnt/keep.txt &&
	(cd mnt && "$WARDFS_BIN" discard keep.txt) &&
	echo keep >expect &&
	test_cmp expect mnt/keep.txt
'

test_expect_success 'when the daemon cannot be told, accept warns with a hint' '
	mv "$WARD_SDIR/control.sock" "$WARD_SDIR/control.away" &&
	test_when_finished "mv \"\$WARD_SDIR/control.away\" \"\$WARD_SDIR/control.sock\"" &&
	echo late >>mnt/a.txt &&
	"$WARDFS_BIN" accept "$WARD_SESSION" >out 2>err &&
	test_grep "^accepted a.txt$" out &&
	test_grep "^wardfs: cannot reach the daemon" err &&
	test_grep "^hint: the mounted view may show stale files until .wardfs umount $WARD_SESSION" err &&
	test_grep "^late$" project/a.txt
'

test_expect_success 'the daemon is told again once reachable' '
	echo later >>mnt/keep.txt &&
	"$WARDFS_BIN" accept "$WARD_SESSION" >out 2>err &&
	test_file_is_empty err &&
	printf "keep\nlater\n" >expect &&
	test_cmp expect mnt/keep.txt
'

test_expect_success 'unmount; the project holds every accepted change' '
	ward_umount &&
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff &&
	test_file_is_empty diff &&
	printf "keep\nlater\n" >expect &&
	test_cmp expect project/keep.txt
'

test_done
