#!/bin/bash
test_description='wardfs review: accept hunk by hunk, file by file, from scripted stdin'
. "$(dirname "$0")/../lib/test-lib.sh"

# Edit a file in place.
edit() {
	sed "$1" "$2" >"$2.tmp" && cat "$2.tmp" >"$2" && rm "$2.tmp"
}

# review ANSWERS [ARGS...]: run "wardfs review" with ANSWERS (printf
# format) on stdin, output to out and err.
review() {
	local answers=$1
	shift
	# shellcheck disable=SC2059
	printf "$answers" | "$WARDFS_BIN" review "$WARD_SESSION" "$@" \
		>out 2>err
}

test_expect_success 'setup: two files, one with two separated hunks' '
	test_seq 1 20 >project/a.txt &&
	echo b >project/b.txt &&
	ward_mount &&
	edit "s/^2$/two/;s/^18$/eighteen/" mnt/a.txt &&
	echo more >>mnt/b.txt &&
	sed "s/^2$/two/;s/^18$/eighteen/" project/a.txt >a.session &&
	printf "b\nmore\n" >b.session
'

test_expect_success 'y, n for the hunks of a.txt and y for b.txt' '
	review "y\nn\ny\n" &&
	test_grep "^@@ -1,5 +1,5 @@" out &&
	test_grep "^@@ -15,6 +15,6 @@" out &&
	grep -c "^Accept this hunk \[y,n,q,a,d,?\]? " out >count &&
	echo 3 >expect &&
	test_cmp expect count &&
	test_grep "^accepted a.txt (1 of 2 hunks)$" out &&
	test_grep "^accepted b.txt$" out &&
	test_seq 1 20 | sed "s/^2$/two/" >expect &&
	test_cmp expect project/a.txt &&
	test_cmp b.session project/b.txt
'

test_expect_success 'wardfs diff shows only the hunk left' '
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff &&
	test_grep "^-18$" diff &&
	test_grep "^+eighteen$" diff &&
	test_grep -v "^+two$" diff &&
	test_grep -v "b.txt" diff &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	printf "M\ta.txt\n" >expect &&
	test_cmp expect ns
'

test_expect_success 'the mount still shows the whole session content' '
	test_cmp a.session mnt/a.txt &&
	test_cmp b.session mnt/b.txt &&
	test_path_is_missing "$WARD_UPPER/b.txt"
'

test_expect_success GIT 'the patch left applies to the project and gives the session' '
	"$WARDFS_BIN" diff "$WARD_SESSION" >left.patch &&
	mkdir apply &&
	cp project/a.txt apply/a.txt &&
	(cd apply && GIT_CEILING_DIRECTORIES=$TRASH_DIRECTORY \
		git apply ../left.patch) &&
	test_cmp a.session apply/a.txt
'

test_expect_success '? prints help and asks again; EOF quits' '
	review "?\n" &&
	test_grep "^y - accept this hunk" out &&
	test_grep "^d - leave this hunk and all later hunks in the file" out &&
	grep -c "^Accept this hunk" out >count &&
	echo 2 >expect &&
	test_cmp expect count &&
	test_grep "^nothing accepted$" out &&
	test_cmp a.session mnt/a.txt &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	printf "M\ta.txt\n" >expect &&
	test_cmp expect ns
'

test_expect_success 'an unknown answer prints help too; empty input quits' '
	review "x\nn\n" &&
	test_grep "^? - print help" out &&
	test_grep "^nothing accepted$" out &&
	"$WARDFS_BIN" review "$WARD_SESSION" </dev/null >out 2>err &&
	test_grep "^nothing accepted$" out
'

test_expect_success 'q: nothing more is accepted, what was chosen is applied' '
	echo c >project/c.txt &&
	echo more-c >>mnt/c.txt &&
	review "y\nq\n" &&
	test_grep "^accepted a.txt$" out &&
	test_grep -v "^accepted c.txt" out &&
	test_cmp a.session project/a.txt &&
	echo c >expect &&
	test_cmp expect project/c.txt &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	printf "M\tc.txt\n" >expect &&
	test_cmp expect ns
'

test_expect_success 'EOF in the middle applies what was chosen' '
	echo d >project/d.txt &&
	echo more-d >>mnt/d.txt &&
	review "n\ny\n" &&
	test_grep "^accepted d.txt$" out &&
	printf "d\nmore-d\n" >expect &&
	test_cmp expect project/d.txt &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	printf "M\tc.txt\n" >expect &&
	test_cmp expect ns
'

test_expect_success 'setup: files of three hunks' '
	"$WARDFS_BIN" discard "$WARD_SESSION" c.txt &&
	test_seq 1 30 >project/e.txt &&
	test_seq 1 30 >project/f.txt &&
	edit "s/^1$/one/;s/^15$/fifteen/;s/^30$/thirty/" mnt/e.txt &&
	edit "s/^1$/one/;s/^15$/fifteen/;s/^30$/thirty/" mnt/f.txt &&
	cp mnt/e.txt e.session
'

test_expect_success 'a: this hunk and the rest of the file; d: none of the rest' '
	review "n\na\ny\nd\n" &&
	test_grep "^accepted e.txt (2 of 3 hunks)$" out &&
	test_grep "^accepted f.txt (1 of 3 hunks)$" out &&
	test_seq 1 30 | sed "s/^15$/fifteen/;s/^30$/thirty/" >expect &&
	test_cmp expect project/e.txt &&
	test_seq 1 30 | sed "s/^1$/one/" >expect &&
	test_cmp expect project/f.txt &&
	test_cmp e.session mnt/e.txt &&
	"$WARDFS_BIN" diff "$WARD_SESSION" e.txt >diff &&
	test_grep "^+one$" diff &&
	test_grep -v "fifteen" diff &&
	"$WARDFS_BIN" diff "$WARD_SESSION" f.txt >diff &&
	test_grep "^+fifteen$" diff &&
	test_grep "^+thirty$" diff &&
	test_grep -v "^+one$" diff
'

test_expect_success 'd on the first hunk leaves the whole file' '
	review "d\na\n" &&
	test_grep "^accepted f.txt$" out &&
	test_grep -v "^accepted e.txt" out &&
	test_cmp mnt/f.txt project/f.txt
'

test_expect_success 'files without a final newline are split line by line' '
	"$WARDFS_BIN" discard "$WARD_SESSION" e.txt &&
	printf "1\n2\n3\n4\n5\n6\n7\n8\n9\nlast" >project/g.txt &&
	printf "one\n2\n3\n4\n5\n6\n7\n8\n9\nLAST" >mnt/g.txt &&
	printf "1\n2\n3\n4\n5\n6\n7\n8\n9\nlast\n" >project/h.txt &&
	printf "one\n2\n3\n4\n5\n6\n7\n8\n9\nLAST" >mnt/h.txt &&
	cp mnt/g.txt g.session && cp mnt/h.txt h.session &&
	review "y\nn\nn\ny\n" &&
	test_grep "^accepted g.txt (1 of 2 hunks)$" out &&
	test_grep "^accepted h.txt (1 of 2 hunks)$" out &&
	printf "one\n2\n3\n4\n5\n6\n7\n8\n9\nlast" >expect &&
	test_cmp expect project/g.txt &&
	printf "1\n2\n3\n4\n5\n6\n7\n8\n9\nLAST" >expect &&
	test_cmp expect project/h.txt &&
	test_cmp g.session mnt/g.txt &&
	test_cmp h.session mnt/h.txt &&
	review "a\na\n" &&
	test_cmp g.session project/g.txt &&
	test_cmp h.session project/h.txt &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	test_file_is_empty ns
'

test_expect_success 'new, deleted, symlink, binary and mode-only files: one prompt each' '
	echo gone >project/gone.txt &&
	echo x >project/mode.sh &&
	echo new >mnt/new.txt &&
	rm mnt/gone.txt &&
	ln -s a.txt mnt/link &&
	printf "\000\001\002" >mnt/bin.dat &&
	chmod +x mnt/mode.sh &&
	review "y\nn\ny\nn\ny\n" &&
	grep -c "^Accept this file \[y,n,q,a,d,?\]? " out >count &&
	echo 5 >expect &&
	test_cmp expect count &&
	test_grep -v "Accept this hunk" out &&
	test_grep "^accepted bin.dat$" out &&
	test_grep "^accepted link$" out &&
	test_grep "^accepted new.txt$" out &&
	test_path_is_file project/gone.txt &&
	test "$(readlink project/link)" = a.txt &&
	printf "\000\001\002" >expect &&
	test_cmp expect project/bin.dat &&
	test_path_is_file project/new.txt &&
	! test -x project/mode.sh &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	printf "D\tgone.txt\nM\tmode.sh\n" >expect &&
	test_cmp expect ns
'

test_expect_success 'a mode change and hunks: the mode is asked first' '
	"$WARDFS_BIN" discard "$WARD_SESSION" gone.txt mode.sh &&
	printf "1\n2\n" >project/both.sh &&
	chmod +x mnt/both.sh &&
	echo 3 >>mnt/both.sh &&
	review "n\ny\n" &&
	test_grep "^Accept this mode change \[y,n,q,a,d,?\]? n$" out &&
	test_grep "^accepted both.sh (1 of 2 hunks)$" out &&
	printf "1\n2\n3\n" >expect &&
	test_cmp expect project/both.sh &&
	! test -x project/both.sh &&
	test -x mnt/both.sh &&
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff &&
	test_grep "^new mode 100755$" diff &&
	test_grep -v "^+3$" diff
'

test_expect_success 'the review gates refuse what was chosen unless --force' '
	test_must_fail review "y\n" both.sh &&
	test_grep "executable: file made executable" err &&
	test_grep "refusing to accept" err &&
	test_grep "hint: .*wardfs review --force" err &&
	! test -x project/both.sh &&
	review "y\n" --force both.sh &&
	test -x project/both.sh &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	test_file_is_empty ns
'

test_expect_success 'a secret in a hunk left behind does not stop the hunk chosen' '
	test_seq 1 20 >project/s.txt &&
	edit "s/^1$/one/;s/^20$/password = \"hunter22-secret\"/" mnt/s.txt &&
	review "y\nn\n" &&
	test_grep "^accepted s.txt (1 of 2 hunks)$" out &&
	test_grep -v "hunter22" project/s.txt &&
	test_must_fail review "y\n" &&
	test_grep "^s.txt:20: secret" err &&
	test_grep -v "hunter22" project/s.txt
'

test_expect_success 'the project changed meanwhile: merged, or a conflict' '
	"$WARDFS_BIN" discard "$WARD_SESSION" s.txt &&
	test_seq 1 20 >project/m.txt &&
	edit "s/^2$/two/;s/^18$/eighteen/" mnt/m.txt &&
	sed -i "s/^10$/ten/" project/m.txt &&
	review "n\ny\n" &&
	test_grep "^merged   m.txt (1 of 2 hunks)$" out &&
	test_seq 1 20 | sed "s/^10$/ten/;s/^18$/eighteen/" >expect &&
	test_cmp expect project/m.txt &&
	sed -i "s/^2$/TWO/" project/m.txt &&
	cp project/m.txt m.before &&
	test_expect_code 1 review "y\n" &&
	test_grep "^conflict m.txt" err &&
	test_cmp m.before project/m.txt
'

test_expect_success 'the project changes while the questions are asked: merged, not overwritten' '
	"$WARDFS_BIN" discard "$WARD_SESSION" m.txt &&
	test_seq 1 20 >project/r.txt &&
	edit "s/^2$/two/;s/^18$/eighteen/" mnt/r.txt &&
	mkfifo answers &&
	{ "$WARDFS_BIN" review "$WARD_SESSION" <answers >out 2>err & } &&
	pid=$! &&
	exec 8>answers &&
	i=0 &&
	until grep -q "^Accept this hunk" out; do
		i=$((i + 1)) &&
		test $i -lt 200 &&
		sleep 0.05 || { exec 8>&-; return 1; }
	done &&
	sed -i "s/^10$/ten/" project/r.txt &&
	printf "y\nn\n" >&8 &&
	exec 8>&- &&
	wait $pid &&
	test_grep "^merged   r.txt (1 of 2 hunks)$" out &&
	test_seq 1 20 | sed "s/^2$/two/;s/^10$/ten/" >expect &&
	test_cmp expect project/r.txt
'

test_expect_success 'review of an unmounted session' '
	"$WARDFS_BIN" discard "$WARD_SESSION" r.txt &&
	test_seq 1 20 >project/u.txt &&
	edit "s/^2$/two/;s/^18$/eighteen/" mnt/u.txt &&
	ward_umount &&
	review "y\nn\n" &&
	test_seq 1 20 | sed "s/^2$/two/" >expect &&
	test_cmp expect project/u.txt &&
	"$WARDFS_BIN" diff "$WARD_SESSION" >diff &&
	test_grep "^+eighteen$" diff &&
	test_grep -v "^+two$" diff &&
	ward_mount -s "$WARD_SESSION" &&
	test_seq 1 20 | sed "s/^2$/two/;s/^18$/eighteen/" >expect &&
	test_cmp expect mnt/u.txt &&
	ward_umount
'

test_expect_success 'nothing to review' '
	"$WARDFS_BIN" discard "$WARD_SESSION" u.txt &&
	"$WARDFS_BIN" review "$WARD_SESSION" </dev/null >out &&
	test_grep "^nothing to review$" out
'

test_expect_success 'colours only when asked, or on a terminal without NO_COLOR' '
	ward_mount -s "$WARD_SESSION" &&
	test_seq 1 5 >project/col.txt &&
	edit "s/^3$/three/" mnt/col.txt &&
	printf "n\n" | "$WARDFS_BIN" review "$WARD_SESSION" >out &&
	test_grep -v "$(printf "\033")" out &&
	printf "n\n" | "$WARDFS_BIN" review --color=always "$WARD_SESSION" >out &&
	test_grep "$(printf "\033\\[32m")+three" out &&
	ward_umount
'

test_done
