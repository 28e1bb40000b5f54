#!/bin/bash
test_description='a snapshot of 3 changed files over 20,000 writes 3 blobs'
. "$(dirname "$0")/../lib/test-lib.sh"

# objects: how many objects the session's store holds
objects() {
	find "$WARD_SDIR/store.git/objects" -type f \
		! -path "*/info/*" ! -name "*.idx" ! -name "*.tmp*" | wc -l
}

test_expect_success 'setup: a project of 20,000 files, three of them changed' '
	"$PYTHON" - project <<-\PY &&
	import os, sys
	root = sys.argv[1]
	for d in range(200):
	    p = os.path.join(root, "dir%03d" % d)
	    os.mkdir(p)
	    for f in range(100):
	        with open(os.path.join(p, "f%03d.txt" % f), "w") as fp:
	            fp.write("file %d/%d\n" % (d, f))
	PY
	test "$(find project -type f | wc -l)" = 20000 &&
	ward_mount &&
	echo one >>mnt/dir007/f042.txt &&
	echo two >>mnt/dir100/f000.txt &&
	echo three >mnt/dir199/new.txt
'

test_expect_success 'the snapshot writes only the three files and its own records' '
	before=$(objects) &&
	"$WARDFS_BIN" snapshot "$WARD_SESSION" -m first >out &&
	after=$(objects) &&
	echo "objects: $before before, $after after" &&
	# 3 blobs, the meta and info blobs, the blobs tree, the root tree,
	# the commit: 8 at most (a blob the store holds is not written again)
	test $((after - before)) -ge 5 &&
	test $((after - before)) -le 8 &&
	"$WARDFS_BIN" snapshot list "$WARD_SESSION" >list &&
	test_grep "^ *1  .*  3 paths  first$" list
'

test_expect_success 'a second snapshot of the same session writes no blob again' '
	before=$(objects) &&
	"$WARDFS_BIN" snapshot "$WARD_SESSION" -m second >out &&
	after=$(objects) &&
	echo "objects: $before before, $after after" &&
	# the info blob, the root tree and the commit
	test $((after - before)) -le 3 &&
	echo four >>mnt/dir007/f042.txt &&
	before=$(objects) &&
	"$WARDFS_BIN" snapshot "$WARD_SESSION" -m third >out &&
	after=$(objects) &&
	test $((after - before)) -le 6 &&
	"$WARDFS_BIN" snapshot list "$WARD_SESSION" >list &&
	test_grep "^ *3  .*  1 path   third$" list
'

test_expect_success 'restore and diff stay within the change too' '
	before=$(objects) &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" 1 2>err &&
	"$WARDFS_BIN" snapshot diff -s "$WARD_SESSION" --name-status 1 3 >ns &&
	after=$(objects) &&
	printf "M\tdir007/f042.txt\n" >expect &&
	test_cmp expect ns &&
	test $((after - before)) -le 20 &&
	printf "file 7/42\none\n" >expect &&
	test_cmp expect mnt/dir007/f042.txt
'

test_expect_success 'unmount' '
	ward_umount
'

test_done
