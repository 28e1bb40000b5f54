#!/bin/bash
test_description='reads of unmodified files and directories pass through to the lower'
. "$(dirname "$0")/../lib/test-lib.sh"

P=project
M=mnt

# view_of: the project manifest without the hidden paths, i.e. what the
# merged view must show
view_of() {
	tree_manifest "$@" | grep -v -e '^\.env ' -e '^secret\.pem '
}

# stat_fields DIR PATH... -> the stat fields that must pass through
stat_fields() {
	local d=$1
	shift
	(cd "$d" && stat -c '%n %s %f %a %h %u %g %Y %.9Y %t:%T' -- "$@")
}

# A chain of directories of NAME_MAX-long names, built with *at() calls
# because its full path is longer than PATH_MAX.
cat >deep.py <<'EOF'
import os, sys
root, depth = sys.argv[1], int(sys.argv[2])
fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
for i in range(depth):
    name = ("d%03d" % i) + "x" * 251
    os.mkdir(name, dir_fd=fd)
    nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
    f = os.open("file", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(f, b"depth %d\n" % i)
    os.close(f)
    if i == 30:
        f = os.open("F" * 255, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(f, b"at PATH_MAX\n")
        os.close(f)
EOF

test_expect_success 'setup' '
	echo hello >$P/file.txt &&
	: >$P/empty &&
	printf "#!/bin/sh\necho run\n" >$P/script.sh &&
	chmod 755 $P/script.sh &&
	echo private >$P/private &&
	chmod 600 $P/private &&
	echo ro >$P/readonly &&
	chmod 444 $P/readonly &&
	mkdir -p $P/dir/sub/subsub $P/emptydir &&
	echo nested >$P/dir/sub/nested.txt &&
	echo deeper >$P/dir/sub/subsub/deeper.txt &&
	ln -s file.txt $P/link &&
	ln -s dir/sub $P/dirlink &&
	ln -s no-such-target $P/dangling &&
	ln -s "$TRASH_DIRECTORY/outside" $P/abslink &&
	echo outside >outside &&
	echo linked >$P/hard1 &&
	ln $P/hard1 $P/hard2 &&
	mkfifo $P/fifo &&
	echo spaced >"$P/name with spaces" &&
	echo unicode >"$P/$(printf "caf\303\251")" &&
	echo "SECRET=canary" >$P/.env &&
	echo "-----BEGIN" >$P/secret.pem &&
	head -c 8M /dev/urandom >$P/big &&
	"$PYTHON" -c "
import os
fd = os.open(\"$P/sparse\", os.O_WRONLY | os.O_CREAT, 0o644)
os.pwrite(fd, b\"a\" * 65536, 0)
os.pwrite(fd, b\"b\" * 65536, 1 << 20)
os.ftruncate(fd, 4 << 20)
os.close(fd)
" &&
	mkdir $P/many &&
	"$PYTHON" -c "
for i in range(3000):
    open(\"$P/many/entry-%05d\" % i, \"w\").close()
" &&
	touch -h -d "2001-02-03 04:05:06.123456789" $P/link &&
	touch -d "2002-03-04 05:06:07.987654321" $P/file.txt $P/dir &&
	"$PYTHON" deep.py $P 32 &&
	echo attrs >$P/xattrs &&
	if test_have_prereq XATTR; then
		"$PYTHON" -c "
import os
os.setxattr(\"$P/xattrs\", \"user.comment\", b\"a comment\")
os.setxattr(\"$P/xattrs\", \"user.empty\", b\"\")
os.setxattr(\"$P/dir\", \"user.dirattr\", b\"on a dir\")
"
	fi &&
	tree_manifest $P >project.manifest &&
	ward_mount
'

test_expect_success 'the view equals the project, minus hidden paths' '
	view_of $P >expect &&
	tree_manifest $M >actual &&
	test_cmp expect actual
'

test_expect_success 'file contents are identical' '
	for f in file.txt empty script.sh private readonly dir/sub/nested.txt \
		hard1 hard2 "name with spaces" big sparse; do
		cmp $P/"$f" $M/"$f" || return 1
	done
'

test_expect_success 'stat fields pass through (size, mode, nlink, owner, mtime)' '
	paths="file.txt empty script.sh private readonly dir dir/sub emptydir
		link dirlink dangling abslink hard1 hard2 fifo big sparse many" &&
	stat_fields $P $paths >expect &&
	stat_fields $M $paths >actual &&
	test_cmp expect actual
'

test_expect_success 'stat of the root directory' '
	stat_fields $P . >expect &&
	stat_fields $M . >actual &&
	test_cmp expect actual
'

test_expect_success 'hard links share one inode number in the view' '
	test "$(stat -c %i $M/hard1)" = "$(stat -c %i $M/hard2)" &&
	test "$(stat -c %h $M/hard1)" = 2
'

test_expect_success 'inode numbers are stable between lookups' '
	stat -c "%n %i" $M/file.txt $M/dir $M/big $M/link >first &&
	ls -laR $M/dir >/dev/null &&
	cat $M/file.txt >/dev/null &&
	stat -c "%n %i" $M/file.txt $M/dir $M/big $M/link >second &&
	test_cmp first second
'

test_expect_success 'readdir lists the same names and types' '
	for d in . dir dir/sub emptydir many; do
		"$PYTHON" -c "
import os, sys
for e in sorted(os.scandir(sys.argv[1]), key=lambda e: e.name):
    t = \"d\" if e.is_dir(follow_symlinks=False) else \"l\" if e.is_symlink() else \"f\" if e.is_file(follow_symlinks=False) else \"o\"
    print(e.name, t)
" $P/$d | sed -e "/^\.env /d" -e "/^secret\.pem /d" >expect &&
		"$PYTHON" -c "
import os, sys
for e in sorted(os.scandir(sys.argv[1]), key=lambda e: e.name):
    t = \"d\" if e.is_dir(follow_symlinks=False) else \"l\" if e.is_symlink() else \"f\" if e.is_file(follow_symlinks=False) else \"o\"
    print(e.name, t)
" $M/$d >actual &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'ls -a lists . and .. and no extra names' '
	(cd $P && ls -a) | grep -v -e "^\.env$" -e "^secret\.pem$" >expect &&
	(cd $M && ls -a) >actual &&
	test_cmp expect actual
'

test_expect_success 'a directory of 3000 entries is listed whole' '
	ls $M/many >actual &&
	test_line_count = 3000 actual &&
	ls $P/many >expect &&
	test_cmp expect actual
'

test_expect_success 'symlinks read and resolve like the lower' '
	for l in link dirlink dangling abslink; do
		echo "$(readlink $P/$l)" >expect &&
		echo "$(readlink $M/$l)" >actual &&
		test_cmp expect actual || return 1
	done &&
	echo hello >expect &&
	test_cmp expect $M/link &&
	echo nested >expect &&
	test_cmp expect $M/dirlink/nested.txt &&
	test_must_fail cat $M/dangling
'

test_expect_success 'the fifo is a fifo' '
	test -p $M/fifo
'

test_expect_success 'executables run from the view' '
	echo run >expect &&
	$M/script.sh >actual &&
	test_cmp expect actual
'

test_expect_success 'reads at random offsets of a big file' '
	"$PYTHON" -c "
import os, random, sys
random.seed(7)
a = os.open(\"$P/big\", os.O_RDONLY)
b = os.open(\"$M/big\", os.O_RDONLY)
size = os.fstat(a).st_size
for i in range(500):
    off = random.randrange(0, size)
    n = random.choice([1, 7, 4096, 65536, 200000])
    if os.pread(a, n, off) != os.pread(b, n, off):
        sys.exit(\"mismatch at %d+%d\" % (off, n))
if os.pread(b, 10, size) != b\"\":
    sys.exit(\"read past EOF returned data\")
"
'

test_expect_success 'lseek SEEK_DATA/SEEK_HOLE maps a sparse file like the lower' '
	cat >seek.py <<-\EOF &&
	import os, sys
	fd = os.open(sys.argv[1], os.O_RDONLY)
	size = os.fstat(fd).st_size
	off, out = 0, []
	while off < size:
	    try:
	        data = os.lseek(fd, off, os.SEEK_DATA)
	    except OSError:
	        break
	    hole = os.lseek(fd, data, os.SEEK_HOLE)
	    out.append("data %d-%d" % (data, hole))
	    off = hole
	print("\n".join(out))
	print("size", size)
	EOF
	"$PYTHON" seek.py $P/sparse >expect &&
	"$PYTHON" seek.py $M/sparse >actual &&
	test_cmp expect actual &&
	test_line_count = 3 actual
'

test_expect_success 'SEEK_HOLE past the data of a dense file is EOF' '
	"$PYTHON" -c "
import os
fd = os.open(\"$M/file.txt\", os.O_RDONLY)
assert os.lseek(fd, 0, os.SEEK_HOLE) == 6, os.lseek(fd, 0, os.SEEK_HOLE)
assert os.lseek(fd, 0, os.SEEK_DATA) == 0
" &&
	test_errno ENXIO "os.lseek(os.open(\"$M/file.txt\", os.O_RDONLY), 6, os.SEEK_DATA)"
'

test_expect_success 'mmap reads the same bytes' '
	"$PYTHON" -c "
import hashlib, mmap, sys
for name in (\"big\", \"file.txt\", \"sparse\"):
    with open(\"$P/\" + name, \"rb\") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    with open(\"$M/\" + name, \"rb\") as f:
        m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        got = hashlib.sha256(m[:]).hexdigest()
        m.close()
    if got != want:
        sys.exit(\"mmap of %s differs\" % name)
"
'

test_expect_success XATTR 'xattrs read like the lower' '
	cat >xattrs.py <<-\EOF &&
	import os, sys
	for p in sys.argv[1:]:
	    for x in sorted(os.listxattr(p)):
	        if x.startswith("user."):
	            print(os.path.basename(p), x, os.getxattr(p, x))
	EOF
	"$PYTHON" xattrs.py $P/xattrs $P/dir $P/file.txt >expect &&
	"$PYTHON" xattrs.py $M/xattrs $M/dir $M/file.txt >actual &&
	test_cmp expect actual &&
	test_line_count = 3 actual &&
	test_errno ENODATA "os.getxattr(\"$M/xattrs\", \"user.nosuch\")"
'

test_expect_success XATTR 'a too small xattr buffer gives ERANGE' '
	"$PYTHON" -c "
import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(2)
r = libc.getxattr(b\"$M/xattrs\", b\"user.comment\", buf, 2)
if r != -1 or ctypes.get_errno() != errno.ERANGE:
    sys.exit(\"getxattr into 2 bytes: %d errno %d\" % (r, ctypes.get_errno()))
r = libc.getxattr(b\"$M/xattrs\", b\"user.comment\", None, 0)
if r != 9:
    sys.exit(\"size query returned %d\" % r)
"
'

test_expect_success 'a 255-byte name is found' '
	name=$(printf "d000%0251d" 0 | tr 0 x | sed "s/^dxxx/d000/") &&
	test_path_is_dir "$M/$name" &&
	echo "depth 0" >expect &&
	test_cmp expect "$M/$name/file"
'

test_expect_success 'a name longer than NAME_MAX gives ENAMETOOLONG' '
	long=$(printf "%0256d" 0) &&
	test_errno ENAMETOOLONG "os.stat(sys.argv[1])" "$M/$long" &&
	test_errno ENAMETOOLONG "os.open(sys.argv[1], os.O_RDONLY)" "$M/$long" &&
	test_errno ENAMETOOLONG "os.lstat(sys.argv[1])" "$M/dir/$long"
'

test_expect_success 'a path of nearly PATH_MAX bytes relative to a deep cwd' '
	"$PYTHON" -c "
import os, sys
root = sys.argv[1]
os.chdir(root)
names = sorted(n for n in os.listdir(\".\") if n.startswith(\"d000\"))
# walk down 16 levels one component at a time (the absolute path of the
# working directory is then longer than 4096 bytes)
for i in range(16):
    d = [n for n in os.listdir(\".\") if n.startswith(\"d%03d\" % i)]
    assert len(d) == 1, d
    os.chdir(d[0])
    assert os.read(os.open(\"file\", os.O_RDONLY), 100) == b\"depth %d\\n\" % i
# one relative path of 15 more components and a 255-byte name: 4095 bytes
rel = \"/\".join((\"d%03d\" % i) + \"x\" * 251 for i in range(16, 31)) + \"/\" + \"F\" * 255
assert len(rel) == 4095, len(rel)
with open(rel, \"rb\") as f:
    data = f.read()
assert data == b\"at PATH_MAX\\n\", data
st = os.stat(rel)
assert st.st_size == 12, st
assert \"F\" * 255 in os.listdir(os.path.dirname(rel))
print(\"ok\")
" $M
'

test_expect_success 'the deep tree equals the lower' '
	d=$(cd $P && ls -d d000*) &&
	tree_manifest "$P/$d" >expect &&
	tree_manifest "$M/$d" >actual &&
	test_cmp expect actual &&
	test_line_count = 65 actual
'

test_expect_success 'statfs works and reports the backing filesystem' '
	stat -f $M >/dev/null &&
	"$PYTHON" -c "
import os, sys
a = os.statvfs(\"$P\")
b = os.statvfs(\"$M\")
assert b.f_blocks > 0 and b.f_bsize > 0, b
assert b.f_namemax == 255, b.f_namemax
assert (a.f_blocks * a.f_frsize) == (b.f_blocks * b.f_frsize), (a, b)
"
'

test_expect_success 'reading changed nothing in the upper nor the project' '
	(cd "$WARD_UPPER" && find . -mindepth 1) >upper.list &&
	test_file_is_empty upper.list &&
	test "$(ward_status_field "$WARD_SESSION" changes)" = 0 &&
	tree_manifest $P >actual &&
	test_cmp project.manifest actual
'

test_expect_success 'unmount' '
	ward_umount
'

test_done
