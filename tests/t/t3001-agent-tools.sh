#!/bin/bash
test_description='the tools an agent runs work inside the mount: git, tar, cp, sed, make, cc, python'
. "$(dirname "$0")/../lib/test-lib.sh"

P=project

project_unchanged() {
	tree_manifest $P >project.actual &&
	test_cmp project.manifest project.actual
}

# in_both 'SNIPPET' -> runs SNIPPET in a subshell inside plain/ (a copy of
# the project) and inside mnt/; both must succeed alike and print alike.
in_both() {
	local rp rm
	(cd plain && eval "$1") >both.plain 2>&1
	rp=$?
	(cd mnt && eval "$1") >both.mnt 2>&1
	rm=$?
	if test "$rp" != "$rm" || ! cmp -s both.plain both.mnt; then
		echo "in_both: exit $rp in a plain copy, $rm in the mount: $1" >&2
		diff -u both.plain both.mnt >&2
		return 1
	fi
	cat both.mnt
	return "$rm"
}

test_expect_success GIT 'setup: a git repository with a C program' '
	mkdir -p $P/src $P/lib/util $P/docs $P/cproj &&
	printf "# Demo\n\nA demo project.\n" >$P/README.md &&
	printf "line one\nline two\nline three\n" >$P/src/text.txt &&
	printf "def f():\n    return 1\n" >$P/src/mod.py &&
	echo "util" >$P/lib/util/u.c &&
	echo "helper" >$P/lib/helper.c &&
	echo "guide" >$P/docs/guide.md &&
	echo "api" >$P/docs/api.md &&
	ln -s README.md $P/readme-link &&
	cat >$P/cproj/hello.c <<-\EOF &&
	#include <stdio.h>
	int main(void) { puts("hello from the mount"); return 0; }
	EOF
	printf "hello: hello.c\n\tcc -O0 -o hello hello.c\n" >$P/cproj/Makefile &&
	# old mtimes: no "racily clean" index entries
	find $P -exec touch -h -d "2020-01-01 00:00:00" {} + &&
	git -C $P init -q -b main &&
	git -C $P add -A &&
	git -C $P commit -q -m initial &&
	git -C $P status --porcelain >status &&
	test_file_is_empty status &&
	cp -a $P plain &&
	tree_manifest $P >project.manifest &&
	ward_mount
'

test_expect_success GIT 'git status, log and diff of a clean tree' '
	(cd mnt && git status --porcelain) >out &&
	test_file_is_empty out &&
	(cd mnt && git log --oneline) >out &&
	test_line_count = 1 out &&
	test_grep initial out &&
	(cd mnt && git diff --exit-code) &&
	(cd mnt && git rev-parse HEAD) >head &&
	git -C $P rev-parse HEAD >expect &&
	test_cmp expect head
'

test_expect_success GIT 'the stat data in the project index is valid in the view' '
	# git diff-files does not refresh the index: it lists every file
	# whose cached stat data (inode, times, size, owner) does not match,
	# i.e. every file a git status in the mount would have to rehash
	git -C $P diff-files --name-only >expect &&
	test_file_is_empty expect &&
	(cd mnt && git diff-files --name-only) >actual &&
	test_cmp expect actual
'

test_expect_success GIT 'edit with sed -i; git diff shows the change' '
	in_both "sed -i s/two/TWO/ src/text.txt && git diff" >out &&
	test_grep "^-line two" out &&
	test_grep "^+line TWO" out &&
	in_both "git status --porcelain" >out &&
	echo " M src/text.txt" >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success GIT 'new and deleted files in git status' '
	in_both "echo new >src/new.txt && rm docs/api.md && git status --porcelain" >out &&
	printf "%s\n" " D docs/api.md" " M src/text.txt" "?? src/new.txt" >expect &&
	test_cmp expect out &&
	in_both "git diff --stat" &&
	project_unchanged
'

test_expect_success GIT 'git show HEAD:FILE >FILE reverts an edit' '
	in_both "git show HEAD:src/text.txt >src/text.txt &&
		git show HEAD:docs/api.md >docs/api.md &&
		git status --porcelain" >out &&
	echo "?? src/new.txt" >expect &&
	test_cmp expect out &&
	printf "line one\nline two\nline three\n" >expect &&
	test_cmp expect mnt/src/text.txt &&
	project_unchanged
'

test_expect_success TAR 'tar x of a tarball into the mount' '
	mkdir -p src-tree/a/b src-tree/c &&
	echo one >src-tree/a/one &&
	echo two >src-tree/a/b/two &&
	printf "#!/bin/sh\n" >src-tree/c/run.sh &&
	chmod 755 src-tree/c/run.sh &&
	ln -s ../a/one src-tree/c/link &&
	ln src-tree/a/one src-tree/a/hardlink &&
	head -c 200000 /dev/urandom >src-tree/a/blob &&
	"$PYTHON" -c "
for i in range(300):
    open(\"src-tree/c/f%03d\" % i, \"w\").write(\"file %d\\n\" % i)
" &&
	touch -d "2003-04-05 06:07:08" src-tree/a/one &&
	tar -cf tree.tar src-tree &&
	in_both "tar -xf ../tree.tar && ls src-tree" &&
	tree_manifest plain/src-tree >expect &&
	tree_manifest mnt/src-tree >actual &&
	test_cmp expect actual &&
	test_path_is_missing $P/src-tree
'

test_expect_success 'cp -a into the mount keeps modes, times and links' '
	cp -a src-tree mnt/copied &&
	cp -a src-tree plain/copied &&
	tree_manifest src-tree >expect &&
	tree_manifest mnt/copied >actual &&
	test_cmp expect actual
'

test_expect_success 'cp -a of a lower tree inside the mount' '
	in_both "cp -a lib lib-copy && ls -R lib-copy" &&
	tree_manifest $P/lib >expect &&
	tree_manifest mnt/lib-copy >actual &&
	test_cmp expect actual
'

test_expect_success CC 'make and cc build and run a program' '
	in_both "cd cproj && make && ./hello" >out &&
	printf "cc -O0 -o hello hello.c\nhello from the mount\n" >expect &&
	test_cmp expect out &&
	test_path_is_missing $P/cproj/hello &&
	test_path_is_file "$WARD_UPPER/cproj/hello"
'

test_expect_success CC 'make sees the target up to date, and rebuilds after an edit' '
	in_both "cd cproj && make -q hello && sleep 1 &&
		sed -i \"s/from the mount/after an edit/\" hello.c &&
		! make -q hello && make >/dev/null && ./hello && make -q hello" >out &&
	echo "hello after an edit" >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success 'python atomic save: write a temp file, fsync, os.replace' '
	cat >save.py <<-\EOF &&
	import os, sys
	path = sys.argv[1]
	for i in range(100):
	    tmp = path + ".tmp"
	    with open(tmp, "w") as f:
	        f.write("version %d\n" % i)
	        f.flush()
	        os.fsync(f.fileno())
	    os.replace(tmp, path)
	print(open(path).read(), end="")
	print(" ".join(sorted(os.listdir(os.path.dirname(path)))))
	EOF
	in_both "\"$PYTHON\" ../save.py src/mod.py" >out &&
	printf "version 99\nmod.py new.txt text.txt\n" >expect &&
	test_cmp expect out &&
	test_path_is_file "$WARD_UPPER/src/mod.py" &&
	project_unchanged
'

test_expect_success 'python writes, renames and removes files' '
	cat >gen.py <<-\EOF &&
	import os, shutil
	os.makedirs("gen/a/b")
	for i in range(20):
	    with open("gen/a/b/f%d" % i, "w") as f:
	        f.write(str(i))
	os.rename("gen/a", "gen/renamed")
	print(len(os.listdir("gen/renamed/b")))
	shutil.rmtree("gen/renamed/b")
	print(os.listdir("gen"), os.listdir("gen/renamed"))
	EOF
	in_both "\"$PYTHON\" ../gen.py" >out &&
	printf "20\n[%s] []\n" "\x27renamed\x27" >expect.raw &&
	printf "$(cat expect.raw)\n" >expect &&
	test_cmp expect out
'

test_expect_success 'rm -rf of a lower tree' '
	in_both "rm -rf lib && ! test -e lib && ls" >out &&
	! grep -x lib out &&
	test_is_whiteout "$WARD_UPPER/lib" &&
	test_path_is_file $P/lib/util/u.c &&
	project_unchanged
'

test_expect_success 'mv of a lower directory' '
	in_both "mv docs documentation && cat documentation/guide.md && ! test -e docs" >out &&
	echo guide >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success GIT 'git status after the tree moved' '
	in_both "git status --porcelain --untracked-files=all" >out &&
	test_grep "^ D docs/guide.md" out &&
	test_grep "^ D lib/helper.c" out &&
	test_grep "^?? documentation/guide.md" out
'

test_expect_success 'symlinks: create, replace, follow' '
	in_both "ln -s ../README.md documentation/readme && cat documentation/readme &&
		ln -sfn src/text.txt readme-link && readlink readme-link &&
		cat readme-link" >out &&
	test_grep "A demo project" out &&
	test_grep "^src/text.txt$" out &&
	test "$(readlink $P/readme-link)" = README.md
'

test_expect_success 'a read-only fd opened before copy-up sees later writes' '
	cat >twofd.py <<-\EOF &&
	import os, sys
	path = sys.argv[1]
	ro = os.open(path, os.O_RDONLY)
	before = os.pread(ro, 100, 0)
	rw = os.open(path, os.O_WRONLY | os.O_TRUNC)
	os.write(rw, b"rewritten through another fd\n")
	os.close(rw)
	after = os.pread(ro, 100, 0)
	print(before.decode(), end="")
	print(after.decode(), end="")
	EOF
	in_both "\"$PYTHON\" ../twofd.py README.md" >out &&
	printf "# Demo\n\nA demo project.\nrewritten through another fd\n" >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success 'mmap of a file opened before copy-up sees later writes' '
	cat >twomap.py <<-\EOF &&
	import mmap, os, sys
	path = sys.argv[1]
	fd = os.open(path, os.O_RDONLY)
	m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
	with open(path, "r+b") as f:
	    f.write(b"LINE")
	print(m[:14].decode(), end="")
	EOF
	in_both "\"$PYTHON\" ../twomap.py src/mod.py" >out &&
	echo "LINEion 99" >expect &&
	test_cmp expect out
'

test_expect_success 'the view equals the plain copy (but for the git index)' '
	tree_manifest --no-times plain | grep -v "^\.git/index " >expect &&
	tree_manifest --no-times mnt | grep -v "^\.git/index " >actual &&
	test_cmp expect actual
'

test_expect_success 'the project is unchanged, its .git too' '
	project_unchanged &&
	git -C $P status --porcelain >out &&
	test_file_is_empty out
'

test_expect_success 'unmount' '
	ward_umount
'

test_done
