#!/bin/bash
test_description='a descriptor of a project file whose name was replaced or removed never writes over the new one'
. "$(dirname "$0")/../lib/test-lib.sh"

test_expect_success 'setup' '
	for f in a b c d e f; do echo "old $f" >project/$f.txt; done &&
	tree_manifest project >project.orig &&
	ward_mount
'

# stale.py OP FILE: open FILE read-only, replace it by a rename, then
# apply OP to the old descriptor.
test_expect_success 'metadata calls on the old descriptor leave the new file intact' '
	cat >stale.py <<-\EOF &&
	import os, sys
	op, name = sys.argv[1], sys.argv[2]
	fd = os.open(name, os.O_RDONLY)
	with open("tmp", "w") as f:
	    f.write("new\n")
	os.rename("tmp", name)
	try:
	    if op == "chmod":
	        os.fchmod(fd, 0o600)
	    elif op == "utime":
	        os.utime(fd, (1, 1))
	    elif op == "xattr":
	        os.setxattr(fd, "user.test", b"1")
	    elif op == "reopen":
	        os.close(os.open("/proc/self/fd/%d" % fd, os.O_WRONLY))
	    elif op == "chown":
	        os.fchown(fd, os.getuid(), os.getgid())
	except OSError as e:
	    print(op, e)
	with open(name) as f:
	    assert f.read() == "new\n", op
	EOF
	(
		cd mnt &&
		"$PYTHON" ../stale.py chmod a.txt &&
		"$PYTHON" ../stale.py utime b.txt &&
		"$PYTHON" ../stale.py xattr c.txt &&
		"$PYTHON" ../stale.py reopen d.txt &&
		"$PYTHON" ../stale.py chown e.txt
	) &&
	for f in a b c d e; do
		echo new >expect &&
		test_cmp expect mnt/$f.txt &&
		test_cmp expect "$WARD_UPPER/$f.txt" || return 1
	done
'

test_expect_success 'a removed file does not come back through its descriptor' '
	"$PYTHON" - mnt/f.txt <<-\EOF &&
	import os, sys
	fd = os.open(sys.argv[1], os.O_RDONLY)
	os.unlink(sys.argv[1])
	for call in (lambda: os.fchmod(fd, 0o600),
	             lambda: os.utime(fd, (1, 1))):
	    try:
	        call()
	    except OSError:
	        pass
	assert not os.path.exists(sys.argv[1])
	assert os.read(fd, 100) == b"old f\n"
	EOF
	test_path_is_missing mnt/f.txt
'

test_expect_success 'the project is untouched, and the diff shows only the replacements' '
	tree_manifest project >now &&
	test_cmp project.orig now &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	printf "M\t%s.txt\n" a b c d e >expect &&
	printf "D\tf.txt\n" >>expect &&
	test_cmp expect ns
'

test_expect_success 'after unmount the session still holds the new files' '
	ward_umount &&
	for f in a b c d e; do
		echo new >expect &&
		test_cmp expect "$WARD_UPPER/$f.txt" || return 1
	done
'

test_done
