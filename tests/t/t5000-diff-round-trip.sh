#!/bin/bash
test_description='wardfs diff: the same workload natively and in a mount gives one patch, which git apply takes'
. "$(dirname "$0")/../lib/test-lib.sh"

# The agent's workload, run in directory $1: creates, edits, appends,
# truncations, chmod +x, symlinks, deletes, file and directory renames, a
# tar extraction.
cat >work.sh <<'WORK'
set -e
cd "$1"
echo new >new.txt
echo more >>a.txt
printf 'rewritten\n' >b.txt
truncate -s 2 c.txt
: >emptied.txt
chmod +x script.sh
chmod -x tool.sh
ln -s a.txt link-new
ln -sfn b.txt link-old
rm gone.txt
mv moveme.txt moved.txt
mv dir1 dir2
mkdir -p deep/x/y
echo z >deep/x/y/z
tar -xf "$2"
rm -rf rmdir
sed -i s/foo/bar/ sub/file.c
rm sub/other.c
mkdir sub/other.c
echo inside >sub/other.c/f
rm -r replaced
echo file >replaced
printf '\000\001\002binary' >bin.dat
printf 'no newline' >nonl.txt
WORK

test_expect_success 'setup' '
	(
		cd project &&
		printf "one\ntwo\nthree\n" >a.txt &&
		echo b >b.txt &&
		echo cccccc >c.txt &&
		echo e >emptied.txt &&
		printf "#!/bin/sh\necho hi\n" >script.sh &&
		printf "#!/bin/sh\n" >tool.sh && chmod +x tool.sh &&
		ln -s a.txt link-old &&
		echo gone >gone.txt &&
		echo move me >moveme.txt &&
		mkdir -p dir1/sub rmdir/deeper sub replaced &&
		echo d1 >dir1/f && echo d2 >dir1/sub/g &&
		echo r >rmdir/r && echo rr >rmdir/deeper/rr &&
		printf "int foo;\nint baz;\n" >sub/file.c &&
		echo other >sub/other.c &&
		echo in >replaced/in
	) &&
	mkdir tarsrc && (
		cd tarsrc && mkdir -p tarred/a tarred/b &&
		for i in $(test_seq 1 30); do echo "$i" >tarred/a/$i.txt; done &&
		echo top >tarred/top && ln -s top tarred/top.link &&
		echo b >tarred/b/b &&
		tar -cf ../tree.tar tarred
	) &&
	cp -a project base &&
	cp -a project native &&
	bash work.sh native "$PWD/tree.tar"
'

test_expect_success 'the workload runs in the mount' '
	ward_mount &&
	bash work.sh mnt "$PWD/tree.tar" &&
	diff -r native mnt
'

test_expect_success 'git apply of wardfs diff onto the base reproduces it' '
	"$WARDFS_BIN" diff "$WARD_SESSION" >patch &&
	cp -a base applied &&
	git -C applied init -q &&
	(cd applied && git apply --whitespace=nowarn ../patch) &&
	rm -rf applied/.git &&
	diff -r native applied &&
	test -x applied/script.sh &&
	! test -x applied/tool.sh &&
	test "$(readlink applied/link-new)" = a.txt
'

test_expect_success 'the patch has what git prints: modes, renames, binary, symlinks' '
	test_grep "^rename from moveme.txt" patch &&
	test_grep "^rename to moved.txt" patch &&
	test_grep "^old mode 100644" patch &&
	test_grep "^new mode 100755" patch &&
	test_grep "^new file mode 120000" patch &&
	test_grep "^GIT binary patch" patch &&
	test_grep "^deleted file mode 100644" patch &&
	test_grep "^diff --git a/nonl.txt b/nonl.txt" patch
'

test_expect_success 'diff from inside the mount and from the project finds the session' '
	(cd mnt && "$WARDFS_BIN" diff) >from-mnt &&
	test_cmp patch from-mnt &&
	(cd project/sub && "$WARDFS_BIN" diff) >from-project &&
	test_cmp patch from-project
'

test_expect_success 'PATH arguments limit the diff' '
	"$WARDFS_BIN" diff "$WARD_SESSION" --name-status sub >actual &&
	printf "M\tsub/file.c\nD\tsub/other.c\nA\tsub/other.c/f\n" >expect &&
	test_cmp expect actual &&
	(cd mnt/sub && "$WARDFS_BIN" diff --name-status file.c) >actual &&
	printf "M\tsub/file.c\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--name-status and --stat' '
	"$WARDFS_BIN" diff "$WARD_SESSION" --name-status >ns &&
	test_grep "^R100	moveme.txt	moved.txt$" ns &&
	test_grep "^D	gone.txt$" ns &&
	test_grep "^A	new.txt$" ns &&
	test_grep "^M	a.txt$" ns &&
	test_grep "^D	rmdir/deeper/rr$" ns &&
	"$WARDFS_BIN" diff "$WARD_SESSION" --stat >stat &&
	test_grep "files changed" stat
'

test_expect_success '--json is a stable array' '
	"$WARDFS_BIN" diff "$WARD_SESSION" --json >json &&
	"$PYTHON" -c "
import json, sys
d = json.load(open(\"json\"))
by = {e[\"path\"]: e for e in d}
assert by[\"moved.txt\"][\"status\"] == \"renamed\", by[\"moved.txt\"]
assert by[\"moved.txt\"][\"old_path\"] == \"moveme.txt\"
assert by[\"bin.dat\"][\"binary\"] is True
assert by[\"gone.txt\"][\"status\"] == \"deleted\"
assert by[\"a.txt\"] == {\"path\": \"a.txt\", \"status\": \"modified\", \"binary\": False, \"additions\": 1, \"deletions\": 0}, by[\"a.txt\"]
for e in d:
    assert set(e) <= {\"path\", \"status\", \"old_path\", \"binary\", \"additions\", \"deletions\"}
"
'

test_expect_success 'no colour and no pager when not a terminal; --color=always colours' '
	! grep -q "$(printf "\033")" patch &&
	"$WARDFS_BIN" diff "$WARD_SESSION" --color=always >colored &&
	grep -q "$(printf "\033\\[32m")+new" colored
'

test_expect_success 'the base is the content when the session first changed it' '
	sed -i "1i changed under the session" project/a.txt &&
	"$WARDFS_BIN" diff "$WARD_SESSION" a.txt >actual &&
	test_grep "^ three$" actual &&
	test_grep "^+more$" actual &&
	! grep "changed under" actual
'

test_expect_success 'diff wrote nothing into the project' '
	sed -i "1i changed under the session" base/a.txt &&
	diff -r base project
'

test_expect_success 'accept after umount makes the project equal the native run' '
	ward_umount &&
	"$WARDFS_BIN" accept --force "$WARD_SESSION" >out &&
	test_grep "^merged   a.txt$" out &&
	sed -i "1i changed under the session" native/a.txt &&
	diff -r native project &&
	tree_manifest --no-times --no-nlink --no-owner native >expect &&
	tree_manifest --no-times --no-nlink --no-owner project >actual &&
	test_cmp expect actual
'

test_expect_success 'the session is empty afterwards and the view unchanged' '
	"$WARDFS_BIN" diff "$WARD_SESSION" >after &&
	test_file_is_empty after &&
	ward_mount -s "$WARD_SESSION" &&
	diff -r native mnt &&
	ward_umount
'

test_done
