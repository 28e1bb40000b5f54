#!/bin/bash
test_description='every write operation copies up into the upper and leaves the project alone'
. "$(dirname "$0")/../lib/test-lib.sh"

# The oracle: each operation runs on a plain copy of the project and in the
# mount; exit status and output must agree, and at the end both trees must
# be equal.  The upper and the real project are checked after each test.

# on_both 'SNIPPET' -> runs SNIPPET (in a subshell) with D=plain, then with
# D=mnt; fails when the two exit statuses or outputs differ, else returns
# the status in the mount.  Expected failures go inside: '! cmd'.
on_both() {
	local rp rm
	(D=plain && eval "$1") >both.plain 2>&1
	rp=$?
	(D=mnt && eval "$1") >both.mnt 2>&1
	rm=$?
	sed -i -e "s|plain/|D/|g" both.plain
	sed -i -e "s|mnt/|D/|g" both.mnt
	if test "$rp" != "$rm"; then
		echo "on_both: exit $rp on a plain directory, $rm in the mount: $1" >&2
		echo "plain:" >&2 && cat both.plain >&2
		echo "mount:" >&2 && cat both.mnt >&2
		return 1
	fi
	if ! cmp -s both.plain both.mnt; then
		echo "on_both: output differs (plain vs mount): $1" >&2
		diff -u both.plain both.mnt >&2
		return 1
	fi
	cat both.mnt
	return "$rm"
}

project_unchanged() {
	tree_manifest project >project.actual &&
	test_cmp project.manifest project.actual
}

# Operations the shell cannot do, by name; an OSError prints its errno
# name and exits 1.
cat >ops.py <<'EOF'
import ctypes, errno, fcntl, os, socket, stat, sys, time

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100

def check(r):
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r

class timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2

def ts(v):
    if v == "now":
        return timespec(0, UTIME_NOW)
    if v == "omit":
        return timespec(0, UTIME_OMIT)
    v = int(v)
    return timespec(v // 10**9, v % 10**9)

def main(op, *a):
    if op == "create":
        os.close(os.open(a[0], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    elif op == "rename":
        os.rename(a[0], a[1])
    elif op == "renameat2":
        flags = {"noreplace": 1, "exchange": 2, "0": 0}[a[2]]
        check(libc.renameat2(AT_FDCWD, a[0].encode(), AT_FDCWD,
                             a[1].encode(), flags))
    elif op == "rmdir":
        os.rmdir(a[0])
    elif op == "unlink":
        os.unlink(a[0])
    elif op == "utimens":
        t = (timespec * 2)(ts(a[1]), ts(a[2]))
        check(libc.utimensat(AT_FDCWD, a[0].encode(), t, 0))
    elif op == "times":
        st = os.stat(a[0])
        print(st.st_atime_ns, st.st_mtime_ns)
    elif op == "setxattr":
        os.setxattr(a[0], a[1], a[2].encode())
    elif op == "getxattr":
        print(os.getxattr(a[0], a[1]).decode())
    elif op == "listxattr":
        print(" ".join(sorted(x for x in os.listxattr(a[0])
                              if x.startswith("user."))))
    elif op == "removexattr":
        os.removexattr(a[0], a[1])
    elif op == "fallocate":
        fd = os.open(a[0], os.O_RDWR)
        mode = {"0": 0, "keep": 1, "punch": 3}[a[1]]
        check(libc.fallocate(fd, mode, ctypes.c_long(int(a[2])),
                             ctypes.c_long(int(a[3]))))
        os.close(fd)
    elif op == "cfr":
        src = os.open(a[0], os.O_RDONLY)
        dst = os.open(a[1], os.O_WRONLY | os.O_CREAT, 0o644)
        n, off_in, off_out = int(a[2]), int(a[3]), int(a[4])
        while n > 0:
            c = os.copy_file_range(src, dst, n, off_in, off_out)
            if c == 0:
                break
            n, off_in, off_out = n - c, off_in + c, off_out + c
        os.close(src)
        os.close(dst)
    elif op == "flock":
        f1 = os.open(a[0], os.O_RDWR)
        f2 = os.open(a[0], os.O_RDWR)
        fcntl.flock(f1, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            fcntl.flock(f2, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("second flock granted")
        except OSError as e:
            print("second flock:", errno.errorcode[e.errno])
        fcntl.flock(f1, fcntl.LOCK_UN)
        fcntl.flock(f2, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("after unlock: granted")
    elif op == "posixlock":
        fd = os.open(a[0], os.O_RDWR)
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            fd2 = os.open(a[0], os.O_RDWR)
            try:
                fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
                msg = b"child: granted"
            except OSError as e:
                msg = b"child: " + errno.errorcode[e.errno].encode()
            try:
                fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 20)
                msg += b", other range granted"
            except OSError as e:
                msg += b", other range " + errno.errorcode[e.errno].encode()
            os.write(w, msg)
            os._exit(0)
        os.waitpid(pid, 0)
        os.close(w)
        print(os.read(r, 200).decode().replace("EACCES", "EAGAIN"))
    elif op == "mknod":
        kind = {"chr": stat.S_IFCHR, "blk": stat.S_IFBLK,
                "fifo": stat.S_IFIFO, "reg": stat.S_IFREG}[a[1]]
        os.mknod(a[0], kind | 0o600, os.makedev(1, 3))
    elif op == "socket":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(a[0])
        s.listen(1)
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(a[0])
        conn, _ = s.accept()
        c.sendall(b"through the socket")
        print(conn.recv(100).decode())
        print("is socket:", stat.S_ISSOCK(os.lstat(a[0]).st_mode))
    elif op == "nlink":
        print(" ".join(str(os.lstat(p).st_nlink) for p in a))
    elif op == "ino":
        print(os.lstat(a[0]).st_ino)
    else:
        sys.exit("ops.py: unknown op " + op)

try:
    main(*sys.argv[1:])
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
    sys.exit(1)
EOF

ops() {
	"$PYTHON" "$TRASH_DIRECTORY/ops.py" "$@"
}

test_expect_success 'setup' '
	P=project &&
	echo hello >$P/w.txt &&
	echo first >$P/ap.txt &&
	echo 0123456789 >$P/tr.txt &&
	echo short >$P/tr2.txt &&
	echo "truncate me" >$P/otr.txt &&
	echo chmod >$P/ch.txt &&
	echo chown >$P/own.txt &&
	echo times >$P/ut.txt &&
	echo times >$P/ut2.txt &&
	echo gone >$P/rm.txt &&
	echo old >$P/recreate.txt &&
	echo "rename me" >$P/ren.txt &&
	echo "rename me too" >$P/ren2.txt &&
	echo "replacement" >$P/w2.txt &&
	echo "to be replaced" >$P/target.txt &&
	echo one >$P/ex1 &&
	echo two >$P/ex2 &&
	echo nr1 >$P/nr1 &&
	echo nr2 >$P/nr2 &&
	echo "link me" >$P/lnk.txt &&
	echo pair >$P/hard1 &&
	ln $P/hard1 $P/hard2 &&
	echo pair2 >$P/pair2a &&
	ln $P/pair2a $P/pair2b &&
	echo xattrs >$P/xa.txt &&
	echo xattrs2 >$P/xa2.txt &&
	chmod 640 $P/xa2.txt &&
	echo abcdefgh >$P/fa.txt &&
	head -c 300000 /dev/urandom >$P/fa2.bin &&
	head -c 1000000 /dev/urandom >$P/cfr.bin &&
	head -c 1000 /dev/urandom >$P/cfr-dst.bin &&
	echo lock >$P/lk.txt &&
	echo ino >$P/ino.txt &&
	echo untouched >$P/untouched.txt &&
	ln -s w.txt $P/sym &&
	ln -s ex1 $P/sym2 &&
	mkdir $P/emptydir $P/emptydir2 $P/inodir $P/untouched-dir &&
	mkdir -p $P/fulldir $P/rmtree/y $P/reborn/sub $P/movedir/sub \
		$P/xdir1 $P/xdir2 $P/parent/child $P/dirtarget $P/exdir &&
	echo a >$P/fulldir/a && echo b >$P/fulldir/b &&
	echo x >$P/rmtree/x && echo z >$P/rmtree/y/z &&
	echo old1 >$P/reborn/old1 && echo old2 >$P/reborn/sub/old2 &&
	echo a >$P/movedir/a && echo b >$P/movedir/sub/b &&
	echo c >$P/movedir/sub/c && ln -s a $P/movedir/alink &&
	echo one >$P/xdir1/one && echo two >$P/xdir2/two &&
	echo in-exdir >$P/exdir/file &&
	echo grandchild >$P/parent/child/g &&
	echo keep >$P/untouched-dir/keep &&
	touch -d "2001-01-01 00:00:00" $P/ch.txt $P/ut.txt $P/ut2.txt &&
	if test_have_prereq XATTR; then
		ops setxattr $P/xa.txt user.lower L &&
		ops setxattr $P/xa2.txt user.lower L2
	fi &&
	cp -a project plain &&
	tree_manifest project >project.manifest &&
	ward_mount &&
	tree_manifest --no-times plain >expect &&
	tree_manifest --no-times mnt >actual &&
	test_cmp expect actual
'

test_expect_success 'create a new file' '
	on_both "echo new >\$D/new.txt && cat \$D/new.txt" &&
	test_path_is_file "$WARD_UPPER/new.txt" &&
	test_path_is_missing project/new.txt &&
	project_unchanged
'

test_expect_success 'create O_EXCL over a lower file: EEXIST' '
	on_both "! ops create \$D/w.txt" >out &&
	echo EEXIST >expect &&
	test_cmp expect out
'

test_expect_success 'create a name longer than NAME_MAX: ENAMETOOLONG' '
	long=$(printf "%0256d" 0) &&
	on_both "! ops create \$D/$long" >out &&
	echo ENAMETOOLONG >expect &&
	test_cmp expect out
'

test_expect_success 'create in a lower subdirectory keeps its lower entries' '
	on_both "echo new >\$D/fulldir/new && ls -a \$D/fulldir" >out &&
	printf "%s\n" . .. a b new >expect &&
	test_cmp expect out &&
	test_path_is_file "$WARD_UPPER/fulldir/new" &&
	test_path_is_missing "$WARD_UPPER/fulldir/.wh..wh..opq" &&
	test_path_is_missing "$WARD_UPPER/fulldir/a" &&
	project_unchanged
'

test_expect_success 'write into the middle of a lower file' '
	on_both "printf X | dd of=\$D/w.txt bs=1 seek=1 conv=notrunc status=none &&
		cat \$D/w.txt" >out &&
	echo hXllo >expect &&
	test_cmp expect out &&
	test_cmp expect "$WARD_UPPER/w.txt" &&
	project_unchanged
'

test_expect_success 'append to a lower file' '
	on_both "echo more >>\$D/ap.txt && cat \$D/ap.txt" >out &&
	printf "first\nmore\n" >expect &&
	test_cmp expect out &&
	test_cmp expect "$WARD_UPPER/ap.txt" &&
	project_unchanged
'

test_expect_success 'truncate a lower file: shorter, longer, O_TRUNC' '
	on_both "truncate -s 4 \$D/tr.txt && cat \$D/tr.txt &&
		truncate -s 100 \$D/tr2.txt && stat -c %s \$D/tr2.txt &&
		od -An -c \$D/tr2.txt | tail -n 2 &&
		: >\$D/otr.txt && stat -c %s \$D/otr.txt" >out &&
	test "$(head -c 4 out)" = 0123 &&
	test "$(stat -c %s "$WARD_UPPER/tr.txt")" = 4 &&
	test "$(stat -c %s "$WARD_UPPER/tr2.txt")" = 100 &&
	test_file_is_empty "$WARD_UPPER/otr.txt" &&
	project_unchanged
'

test_expect_success 'chmod of a lower file changes only metadata' '
	on_both "chmod 600 \$D/ch.txt && stat -c %a \$D/ch.txt && cat \$D/ch.txt" >out &&
	printf "600\nchmod\n" >expect &&
	test_cmp expect out &&
	test "$(stat -c %a "$WARD_UPPER/ch.txt")" = 600 &&
	test "$(stat -c %Y mnt/ch.txt)" = "$(stat -c %Y project/ch.txt)" &&
	test "$(stat -c %a project/ch.txt)" = 644 &&
	project_unchanged
'

test_expect_success 'chmod of a lower directory' '
	on_both "chmod 700 \$D/parent && stat -c %a \$D/parent && cat \$D/parent/child/g" >out &&
	printf "700\ngrandchild\n" >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success ROOT 'chown of a lower file and of a symlink' '
	on_both "chown 1234:5678 \$D/own.txt && stat -c %u:%g \$D/own.txt &&
		chown -h 4321:8765 \$D/sym2 && stat -c %u:%g \$D/sym2 && cat \$D/sym2" >out &&
	printf "1234:5678\n4321:8765\none\n" >expect &&
	test_cmp expect out &&
	test "$(stat -c %u:%g "$WARD_UPPER/own.txt")" = 1234:5678 &&
	project_unchanged
'

test_expect_success 'utimens: explicit times with nanoseconds' '
	on_both "ops utimens \$D/ut.txt 1000000000123456789 1100000000987654321 &&
		ops times \$D/ut.txt" >out &&
	echo "1000000000123456789 1100000000987654321" >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success 'utimens: UTIME_OMIT keeps a time' '
	on_both "ops utimens \$D/ut.txt omit 1200000000000000001 &&
		ops times \$D/ut.txt &&
		ops utimens \$D/ut.txt 1300000000000000002 omit &&
		ops times \$D/ut.txt" >out &&
	printf "%s\n" "1000000000123456789 1200000000000000001" \
		"1300000000000000002 1200000000000000001" >expect &&
	test_cmp expect out
'

test_expect_success 'utimens: UTIME_NOW sets the current time' '
	before=$(date +%s) &&
	ops utimens mnt/ut.txt now omit &&
	after=$(date +%s) &&
	ops times mnt/ut.txt >out &&
	read -r atime mtime <out &&
	test "$mtime" = 1200000000000000001 &&
	test $((atime / 1000000000)) -ge "$before" &&
	test $((atime / 1000000000)) -le "$after" &&
	ops utimens mnt/ut.txt omit now &&
	ops times mnt/ut.txt >out &&
	read -r atime2 mtime <out &&
	test "$atime2" = "$atime" &&
	test $((mtime / 1000000000)) -ge "$before"
'

test_expect_success 'touch -m -d of a lower file leaves its atime' '
	on_both "ops utimens \$D/ut2.txt 1000000000000000000 omit &&
		touch -m -d @1500000000.25 \$D/ut2.txt && ops times \$D/ut2.txt" >out &&
	echo "1000000000000000000 1500000000250000000" >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success 'mkdir, and mkdir -p of a new tree' '
	on_both "mkdir \$D/newdir && mkdir -p \$D/fulldir/n1/n2 &&
		test -d \$D/newdir && test -d \$D/fulldir/n1/n2" &&
	test_path_is_dir "$WARD_UPPER/newdir" &&
	test_path_is_dir "$WARD_UPPER/fulldir/n1/n2" &&
	on_both "! ops rmdir \$D/fulldir/no-such" &&
	on_both "! mkdir \$D/fulldir" &&
	project_unchanged
'

test_expect_success 'rmdir of an empty lower directory leaves a whiteout' '
	on_both "rmdir \$D/emptydir && ! test -e \$D/emptydir && ls \$D" >out &&
	! grep -x emptydir out &&
	test_is_whiteout "$WARD_UPPER/emptydir" &&
	project_unchanged
'

test_expect_success 'rmdir of a populated lower directory: ENOTEMPTY' '
	on_both "! ops rmdir \$D/fulldir" >out &&
	echo ENOTEMPTY >expect &&
	test_cmp expect out &&
	test_path_is_file mnt/fulldir/a
'

test_expect_success 'rmdir of a lower directory emptied in the session' '
	on_both "rm \$D/rmtree/x && rm -r \$D/rmtree/y && ls -A \$D/rmtree && rmdir \$D/rmtree" >out &&
	test_file_is_empty out &&
	test_path_is_missing mnt/rmtree &&
	test_is_whiteout "$WARD_UPPER/rmtree" &&
	project_unchanged
'

test_expect_success 'unlink of a lower file leaves a whiteout' '
	on_both "rm \$D/rm.txt && ! cat \$D/rm.txt" &&
	on_both "! ops unlink \$D/rm.txt" >out &&
	echo ENOENT >expect &&
	test_cmp expect out &&
	ls -a mnt >out &&
	! grep -x rm.txt out &&
	test_is_whiteout "$WARD_UPPER/rm.txt" &&
	project_unchanged
'

test_expect_success 'unlink then re-create the same name' '
	on_both "rm \$D/recreate.txt && echo new >\$D/recreate.txt &&
		cat \$D/recreate.txt && ls \$D | grep -c -x recreate.txt" >out &&
	printf "new\n1\n" >expect &&
	test_cmp expect out &&
	test_path_is_file "$WARD_UPPER/recreate.txt" &&
	echo new >expect &&
	test_cmp expect "$WARD_UPPER/recreate.txt" &&
	project_unchanged
'

test_expect_success 'unlink and re-create 50 times, and delete again' '
	on_both "for i in \$(seq 50); do
			rm -f \$D/recreate.txt && echo \$i >\$D/recreate.txt || exit 1
		done && cat \$D/recreate.txt && rm \$D/recreate.txt &&
		! test -e \$D/recreate.txt && { ls \$D | grep -c -x recreate.txt || :; }" >out &&
	printf "50\n0\n" >expect &&
	test_cmp expect out &&
	test_is_whiteout "$WARD_UPPER/recreate.txt" &&
	on_both "echo back >\$D/recreate.txt && cat \$D/recreate.txt"
'

test_expect_success 'rmdir a lower tree and mkdir it again: opaque' '
	on_both "rm -r \$D/reborn && mkdir \$D/reborn && ls -A \$D/reborn &&
		! test -e \$D/reborn/old1 && echo fresh >\$D/reborn/fresh &&
		ls -A \$D/reborn" >out &&
	echo fresh >expect &&
	test_cmp expect out &&
	test_is_opaque "$WARD_UPPER/reborn" &&
	ls -a mnt/reborn >out &&
	printf "%s\n" . .. fresh >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success 'rename a lower file' '
	ino=$(ops ino mnt/ren.txt) &&
	on_both "ops rename \$D/ren.txt \$D/renamed.txt && cat \$D/renamed.txt &&
		! test -e \$D/ren.txt" >out &&
	echo "rename me" >expect &&
	test_cmp expect out &&
	test "$(ops ino mnt/renamed.txt)" = "$ino" &&
	test_is_whiteout "$WARD_UPPER/ren.txt" &&
	test_cmp expect "$WARD_UPPER/renamed.txt" &&
	project_unchanged
'

test_expect_success 'rename a lower file over another lower file' '
	on_both "ops rename \$D/w2.txt \$D/target.txt && cat \$D/target.txt &&
		! test -e \$D/w2.txt && ls \$D | grep -c -x target.txt" >out &&
	printf "replacement\n1\n" >expect &&
	test_cmp expect out &&
	test_is_whiteout "$WARD_UPPER/w2.txt" &&
	project_unchanged
'

test_expect_success 'rename a new file, and a new directory' '
	on_both "echo n >\$D/n1 && ops rename \$D/n1 \$D/n2 && cat \$D/n2 &&
		mkdir -p \$D/nd1/in && ops rename \$D/nd1 \$D/nd2 && ls \$D/nd2 &&
		! test -e \$D/nd1" >out &&
	printf "n\nin\n" >expect &&
	test_cmp expect out
'

test_expect_success 'rename a populated lower directory (no EXDEV)' '
	on_both "ops rename \$D/movedir \$D/moved && ! test -e \$D/movedir &&
		cat \$D/moved/a \$D/moved/sub/b \$D/moved/sub/c \$D/moved/alink &&
		ls -A \$D/moved \$D/moved/sub" >out &&
	cat >expect <<-\EOF &&
	a
	b
	c
	a
	$D/moved:
	a
	alink
	sub

	$D/moved/sub:
	b
	c
	EOF
	sed "s/\\\$D/D/" expect >expect.D &&
	test_cmp expect.D out &&
	test_is_whiteout "$WARD_UPPER/movedir" &&
	test_is_opaque "$WARD_UPPER/moved" &&
	project_unchanged
'

test_expect_success 'rename a lower directory into another lower directory' '
	on_both "ops rename \$D/xdir1 \$D/parent/child/xdir1 &&
		cat \$D/parent/child/xdir1/one \$D/parent/child/g" >out &&
	printf "one\ngrandchild\n" >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success 'rename a lower directory over an empty lower directory' '
	on_both "ops rename \$D/xdir2 \$D/dirtarget && cat \$D/dirtarget/two &&
		! test -e \$D/xdir2" >out &&
	echo two >expect &&
	test_cmp expect out &&
	on_both "! ops rename \$D/parent \$D/fulldir" >out &&
	echo ENOTEMPTY >expect &&
	test_cmp expect out
'

test_expect_success 'RENAME_NOREPLACE' '
	on_both "! ops renameat2 \$D/nr1 \$D/nr2 noreplace" >out &&
	echo EEXIST >expect &&
	test_cmp expect out &&
	on_both "cat \$D/nr1 \$D/nr2 &&
		ops renameat2 \$D/nr1 \$D/nr3 noreplace && cat \$D/nr3 &&
		! test -e \$D/nr1" >out &&
	printf "nr1\nnr2\nnr1\n" >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success 'RENAME_EXCHANGE of two lower files' '
	on_both "ops renameat2 \$D/ex1 \$D/ex2 exchange && cat \$D/ex1 \$D/ex2" >out &&
	printf "two\none\n" >expect &&
	test_cmp expect out &&
	printf "two\n" >expect &&
	test_cmp expect "$WARD_UPPER/ex1" &&
	project_unchanged
'

test_expect_success 'RENAME_EXCHANGE of a lower file and a lower directory' '
	on_both "ops renameat2 \$D/lk.txt \$D/exdir exchange &&
		cat \$D/exdir \$D/lk.txt/file && test -d \$D/lk.txt" >out &&
	printf "lock\nin-exdir\n" >expect &&
	test_cmp expect out &&
	on_both "ops renameat2 \$D/lk.txt \$D/exdir exchange && cat \$D/lk.txt"
'

test_expect_success 'RENAME_EXCHANGE of two lower directories, and of a new file' '
	on_both "ops renameat2 \$D/fulldir \$D/parent exchange &&
		ls \$D/fulldir \$D/parent" >out &&
	on_both "echo newer >\$D/xnew && ops renameat2 \$D/xnew \$D/ex1 exchange &&
		cat \$D/xnew \$D/ex1" >out &&
	printf "two\nnewer\n" >expect &&
	test_cmp expect out &&
	on_both "! ops renameat2 \$D/ex1 \$D/no-such exchange" >out &&
	echo ENOENT >expect &&
	test_cmp expect out &&
	on_both "ops renameat2 \$D/fulldir \$D/parent exchange" &&
	project_unchanged
'

test_expect_success 'symlink and readlink' '
	on_both "ln -s w.txt \$D/newsym && readlink \$D/newsym && cat \$D/newsym &&
		ln -s fulldir \$D/dirsym && ls \$D/dirsym/ | head -n 1 &&
		readlink \$D/sym" >out &&
	printf "w.txt\nhXllo\na\nw.txt\n" >expect &&
	test_cmp expect out &&
	test_path_is_symlink "$WARD_UPPER/newsym" &&
	test "$(readlink "$WARD_UPPER/newsym")" = w.txt &&
	project_unchanged
'

test_expect_success 'replace a lower symlink (ln -sfn)' '
	on_both "ln -sfn ap.txt \$D/sym && readlink \$D/sym && cat \$D/sym" >out &&
	printf "ap.txt\nfirst\nmore\n" >expect &&
	test_cmp expect out &&
	test "$(readlink project/sym)" = w.txt
'

test_expect_success 'link a lower file: both names right' '
	ino=$(ops ino mnt/lnk.txt) &&
	on_both "ln \$D/lnk.txt \$D/lnk2.txt && ops nlink \$D/lnk.txt \$D/lnk2.txt &&
		echo through >>\$D/lnk2.txt && cat \$D/lnk.txt" >out &&
	printf "2 2\nlink me\nthrough\n" >expect &&
	test_cmp expect out &&
	test "$(ops ino mnt/lnk.txt)" = "$ino" &&
	test "$(ops ino mnt/lnk2.txt)" = "$ino" &&
	test_path_is_file "$WARD_UPPER/lnk2.txt" &&
	on_both "rm \$D/lnk2.txt && ops nlink \$D/lnk.txt" >out &&
	echo 1 >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success 'link of a new file' '
	on_both "echo fresh >\$D/fresh && ln \$D/fresh \$D/fresh2 &&
		ops nlink \$D/fresh \$D/fresh2" >out &&
	echo "2 2" >expect &&
	test_cmp expect out &&
	test "$(ops ino mnt/fresh)" = "$(ops ino mnt/fresh2)"
'

test_expect_success 'link to a lower file that already has two names' '
	on_both "ln \$D/hard1 \$D/hard3 && ops nlink \$D/hard1 \$D/hard2 \$D/hard3" >out &&
	echo "3 3 3" >expect &&
	test_cmp expect out &&
	test "$(ops ino mnt/hard2)" = "$(ops ino mnt/hard3)" &&
	on_both "echo via3 >>\$D/hard3 && cat \$D/hard2"
'

test_expect_success 'unlink one name of a lower hard-linked pair' '
	on_both "rm \$D/pair2a && ops nlink \$D/pair2b && cat \$D/pair2b" >out &&
	printf "1\npair2\n" >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success XATTR 'setxattr and removexattr on lower files' '
	on_both "ops setxattr \$D/xa.txt user.new N && ops getxattr \$D/xa.txt user.new &&
		ops listxattr \$D/xa.txt && ops removexattr \$D/xa.txt user.lower &&
		ops listxattr \$D/xa.txt && ! ops getxattr \$D/xa.txt user.lower" >out &&
	printf "N\nuser.lower user.new\nuser.new\nENODATA\n" >expect &&
	test_cmp expect out &&
	"$PYTHON" -c "import os; print(os.getxattr(\"$WARD_UPPER/xa.txt\", \"user.new\").decode())" >out &&
	echo N >expect &&
	test_cmp expect out &&
	on_both "! ops removexattr \$D/ap.txt user.nosuch" >out &&
	echo ENODATA >expect &&
	test_cmp expect out &&
	project_unchanged
'

test_expect_success XATTR 'copy-up by a write keeps mode, owner and xattrs' '
	on_both "echo more >>\$D/xa2.txt && ops getxattr \$D/xa2.txt user.lower &&
		stat -c %a \$D/xa2.txt" >out &&
	printf "L2\n640\n" >expect &&
	test_cmp expect out
'

test_expect_success 'fallocate: extend, keep size, punch a hole' '
	on_both "ops fallocate \$D/fa.txt 0 0 65536 && stat -c %s \$D/fa.txt &&
		head -c 9 \$D/fa.txt &&
		ops fallocate \$D/fa2.bin keep 300000 100000 && stat -c %s \$D/fa2.bin &&
		ops fallocate \$D/fa2.bin punch 4096 8192 &&
		stat -c %s \$D/fa2.bin && cmp -n 8192 -i 4096:0 \$D/fa2.bin /dev/zero" >out &&
	printf "65536\nabcdefgh\n300000\n300000\n" >expect &&
	test_cmp expect out &&
	cmp -n 4096 project/fa2.bin mnt/fa2.bin &&
	project_unchanged
'

test_expect_success 'copy_file_range from a lower file' '
	on_both "ops cfr \$D/cfr.bin \$D/cfr-new.bin 1000000 0 0 &&
		cmp \$D/cfr.bin \$D/cfr-new.bin &&
		ops cfr \$D/cfr.bin \$D/cfr-dst.bin 100 5000 500 &&
		sha256sum <\$D/cfr-dst.bin" &&
	test_path_is_file "$WARD_UPPER/cfr-new.bin" &&
	project_unchanged
'

test_expect_success 'flock' '
	on_both "ops flock \$D/lk.txt" >out &&
	printf "second flock: EWOULDBLOCK\nafter unlock: granted\n" >expect &&
	sed "s/EAGAIN/EWOULDBLOCK/" out >out2 &&
	test_cmp expect out2
'

test_expect_success 'fcntl byte-range locks' '
	on_both "ops posixlock \$D/lk.txt" >out &&
	echo "child: EAGAIN, other range granted" >expect &&
	test_cmp expect out
'

test_expect_success 'mkfifo, and data through the fifo' '
	on_both "mkfifo \$D/fifo && test -p \$D/fifo" &&
	test -p "$WARD_UPPER/fifo" &&
	{ echo "through the fifo" >mnt/fifo & } &&
	writer=$! &&
	cat mnt/fifo >out &&
	wait $writer &&
	echo "through the fifo" >expect &&
	test_cmp expect out
'

test_expect_success 'unix domain socket' '
	on_both "ops socket \$D/sock" >out &&
	printf "through the socket\nis socket: True\n" >expect &&
	test_cmp expect out &&
	test -S mnt/sock &&
	on_both "rm \$D/sock"
'

test_expect_success 'device nodes cannot be created' '
	test_must_fail ops mknod mnt/dev-null chr >out &&
	echo EPERM >expect &&
	test_cmp expect out &&
	test_must_fail ops mknod mnt/dev-blk blk >out &&
	test_cmp expect out &&
	test_path_is_missing mnt/dev-null &&
	test_path_is_missing mnt/dev-blk &&
	test_path_is_missing "$WARD_UPPER/dev-null" &&
	on_both "ops mknod \$D/viamknod fifo && test -p \$D/viamknod"
'

test_expect_success 'st_ino is stable across copy-up' '
	ino=$(ops ino mnt/ino.txt) &&
	dino=$(ops ino mnt/inodir) &&
	echo changed >>mnt/ino.txt &&
	test "$(ops ino mnt/ino.txt)" = "$ino" &&
	chmod 600 mnt/ino.txt &&
	test "$(ops ino mnt/ino.txt)" = "$ino" &&
	echo child >mnt/inodir/child &&
	test "$(ops ino mnt/inodir)" = "$dino" &&
	test_path_is_file "$WARD_UPPER/ino.txt" &&
	stat -c %i mnt/ino.txt >first &&
	ls -laR mnt >/dev/null &&
	stat -c %i mnt/ino.txt >second &&
	test_cmp first second &&
	echo changed >>plain/ino.txt && chmod 600 plain/ino.txt &&
	echo child >plain/inodir/child
'

test_expect_success ROOT 'setuid and setgid bits are not honoured' '
	saved_session=$WARD_SESSION saved_mnt=$WARD_MNT saved_pid=$WARD_PID &&
	test_when_finished "ward_cleanup mnt2; WARD_SESSION=$saved_session WARD_MNT=$saved_mnt WARD_PID=$saved_pid" &&
	mkdir mnt2 &&
	ward_mount -o allow_other mnt2 &&
	cp /usr/bin/id mnt2/suid-id &&
	chmod 6755 mnt2/suid-id &&
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		mnt2/suid-id -u >uid &&
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		mnt2/suid-id -g >gid &&
	echo 65534 >expect &&
	test_cmp expect uid &&
	test_cmp expect gid &&
	ward_umount mnt2
'

test_expect_success 'no whiteout or marker is visible in the view' '
	(cd mnt && find . -name ".wh.*") >out &&
	test_file_is_empty out &&
	ls -a mnt mnt/reborn mnt/moved >out &&
	! grep "^\.wh\." out
'

test_expect_success 'the view equals the plain copy the same operations ran on' '
	tree_manifest --no-times plain >expect &&
	tree_manifest --no-times mnt >actual &&
	test_cmp expect actual
'

test_expect_success 'untouched paths are not in the upper' '
	test_path_is_missing "$WARD_UPPER/untouched.txt" &&
	test_path_is_missing "$WARD_UPPER/untouched-dir" &&
	test_path_is_missing "$WARD_UPPER/cfr.bin"
'

test_expect_success 'the project is unchanged' '
	project_unchanged &&
	test "$(project_checksum project)" = "$(tree_manifest project | sha256sum | cut -d" " -f1)"
'

test_expect_success 'the changes survive a remount' '
	tree_manifest mnt >before &&
	ward_umount &&
	ward_mount -s "$WARD_SESSION" &&
	tree_manifest mnt >after &&
	test_cmp before after &&
	ward_umount
'

test_done
