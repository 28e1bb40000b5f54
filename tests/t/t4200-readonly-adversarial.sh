#!/bin/bash
test_description='read-only paths refuse every write syscall'
. "$(dirname "$0")/../lib/test-lib.sh"

# The default read-only paths (.git and what is inside, .git/hooks/,
# .github/workflows/, .gitlab-ci.yml, .wardfs.ini) and those of the
# project's own [readonly] section get every write the kernel has; each
# must fail with EROFS (EACCES and EPERM accepted too), and neither the
# view nor the project may change.
P=project
M=mnt

RO_FILES="
.git/config
.git/HEAD
.git/description
.git/refs/heads/main
.git/hooks/pre-commit
.github/workflows/x.yml
.gitlab-ci.yml
sub/.gitlab-ci.yml
.wardfs.ini
vendor/lib/.git
docs/guide.md
sub/docs/api.md
Makefile
"
RO_DIRS="
.git
.git/hooks
.git/refs
.git/refs/heads
.github/workflows
docs
sub/docs
"
# empty, so that rmdir could succeed
RO_EMPTY_DIRS="
.git/refs/tags
.github/workflows/empty
docs/empty
"

# ro.py ROOT [--root] [--xattr]: reads "file PATH", "dir PATH" and "empty
# PATH" lines from stdin and tries every write on each, in ROOT; prints
# each try that did not fail with EROFS, EACCES or EPERM.  Sources of
# renames and links are fresh visible files, one per try.
cat >ro.py <<'EOF'
import ctypes, errno, os, stat, sys
root = sys.argv[1]
as_root = "--root" in sys.argv
xattr = "--xattr" in sys.argv
os.chdir(root)
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
AT_FDCWD, RENAME_EXCHANGE, SYS_renameat2 = -100, 2, 316
DENIED = (errno.EROFS, errno.EACCES, errno.EPERM)
bad = []
n = 0

def fresh(is_dir=False):
    global n
    n += 1
    name = "fresh.%d" % n
    if is_dir:
        os.mkdir(name)
    else:
        with open(name, "w") as f:
            f.write("fresh\n")
    return name

def renameat2(a, b, flags):
    if libc.syscall(SYS_renameat2, AT_FDCWD, a.encode(), AT_FDCWD,
                    b.encode(), flags) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

def opened(p, flags):
    os.close(os.open(p, flags, 0o644))

def reopen(p):
    fd = os.open(p, os.O_RDONLY)
    try:
        os.close(os.open("/proc/self/fd/%d" % fd, os.O_WRONLY))
    finally:
        os.close(fd)

def refused(what, fn):
    try:
        fn()
    except OSError as e:
        if e.errno not in DENIED:
            bad.append("%s: %s" % (what, errno.errorcode.get(e.errno, e.errno)))
        return
    bad.append("%s: succeeded" % what)

def file_ops(p):
    W, C = os.O_WRONLY, os.O_CREAT
    ops = [
        ("open O_WRONLY", lambda: opened(p, W)),
        ("open O_RDWR", lambda: opened(p, os.O_RDWR)),
        ("open O_WRONLY|O_TRUNC", lambda: opened(p, W | os.O_TRUNC)),
        ("open O_WRONLY|O_APPEND", lambda: opened(p, W | os.O_APPEND)),
        ("open O_RDONLY|O_TRUNC", lambda: opened(p, os.O_RDONLY | os.O_TRUNC)),
        ("open O_WRONLY|O_CREAT", lambda: opened(p, W | C)),
        ("reopen /proc/self/fd O_WRONLY", lambda: reopen(p)),
        ("truncate 0", lambda: os.truncate(p, 0)),
        ("truncate 1M", lambda: os.truncate(p, 1 << 20)),
        ("chmod", lambda: os.chmod(p, 0o777)),
        ("utime", lambda: os.utime(p, (0, 0))),
        ("utime now", lambda: os.utime(p)),
        ("unlink", lambda: os.unlink(p)),
        ("rename from", lambda: os.rename(p, "moved.%d" % n)),
        ("rename to", lambda: os.rename(fresh(), p)),
        ("rename exchange", lambda: renameat2(fresh(), p, RENAME_EXCHANGE)),
    ]
    if as_root:
        ops.append(("chown", lambda: os.chown(p, 4242, 4242)))
    if xattr:
        ops.append(("setxattr", lambda: os.setxattr(p, "user.new", b"1")))
        ops.append(("replace xattr", lambda: os.setxattr(p, "user.orig", b"2")))
        ops.append(("removexattr", lambda: os.removexattr(p, "user.orig")))
    for what, fn in ops:
        refused("%s %s" % (what, p), fn)

def dir_ops(d):
    ops = [
        ("create in", lambda: opened(d + "/new.%d" % n, os.O_WRONLY | os.O_CREAT)),
        ("create O_EXCL in", lambda: opened(d + "/new.x",
                                            os.O_WRONLY | os.O_CREAT | os.O_EXCL)),
        ("mkdir in", lambda: os.mkdir(d + "/newdir")),
        ("mkfifo in", lambda: os.mkfifo(d + "/fifo")),
        ("mknod in", lambda: os.mknod(d + "/node", stat.S_IFREG | 0o644)),
        ("symlink in", lambda: os.symlink("../evil", d + "/sym")),
        ("link in", lambda: os.link(fresh(), d + "/hl")),
        ("rename into", lambda: os.rename(fresh(), d + "/moved")),
        ("rename dir into", lambda: os.rename(fresh(True), d + "/moveddir")),
        ("rename from", lambda: os.rename(d, "moved.%d" % n)),
        ("rename dir to", lambda: os.rename(fresh(True), d)),
        ("chmod", lambda: os.chmod(d, 0o700)),
        ("utime", lambda: os.utime(d, (0, 0))),
    ]
    if as_root:
        ops.append(("chown", lambda: os.chown(d, 4242, 4242)))
    if xattr:
        ops.append(("setxattr", lambda: os.setxattr(d, "user.new", b"1")))
        ops.append(("removexattr", lambda: os.removexattr(d, "user.orig")))
    for what, fn in ops:
        refused("%s %s" % (what, d), fn)

for line in sys.stdin:
    kind, p = line.split()
    if kind == "file":
        file_ops(p)
    elif kind == "dir":
        dir_ops(p)
    elif kind == "empty":
        refused("rmdir " + p, lambda: os.rmdir(p))
        refused("rename over " + p, lambda: os.rename(fresh(True), p))
for b in bad:
    print(b)
EOF

# ro_manifest DIR: the manifest of the read-only part of DIR
ro_manifest() {
	tree_manifest "$1" |
		grep -e "^\.git" -e "^\.github" -e "^\.gitlab-ci" -e "^\.wardfs" \
			-e "^vendor" -e "^docs" -e "^sub/docs" -e "^sub/\.gitlab" \
			-e "^Makefile "
}

test_expect_success 'setup' '
	mkdir -p $P/.git/hooks $P/.git/refs/heads $P/.git/refs/tags \
		$P/.git/objects $P/.github/workflows/empty $P/docs/empty \
		$P/sub/docs $P/vendor/lib &&
	echo "[core]" >$P/.git/config &&
	echo "ref: refs/heads/main" >$P/.git/HEAD &&
	echo "the description" >$P/.git/description &&
	echo 0123456789012345678901234567890123456789 >$P/.git/refs/heads/main &&
	printf "#!/bin/sh\nexit 0\n" >$P/.git/hooks/pre-commit &&
	chmod 755 $P/.git/hooks/pre-commit &&
	echo "on: push" >$P/.github/workflows/x.yml &&
	echo "stages: [test]" >$P/.gitlab-ci.yml &&
	echo "stages: [sub]" >$P/sub/.gitlab-ci.yml &&
	echo "gitdir: ../../.git/modules/lib" >$P/vendor/lib/.git &&
	echo "# Guide" >$P/docs/guide.md &&
	echo "# API" >$P/sub/docs/api.md &&
	printf "all:\n\ttrue\n" >$P/Makefile &&
	echo "a visible file" >$P/a.txt &&
	echo "readme" >$P/.github/README.md &&
	cat >$P/.wardfs.ini <<-\EOF &&
	[readonly]
	path = docs/
	path = Makefile
	; a project file may not lift a restriction: ignored
	[allow]
	path = .gitlab-ci.yml
	path = .git/config
	EOF
	ln $P/.gitlab-ci.yml $P/ci-link.txt &&
	if test_have_prereq XATTR; then
		for f in $RO_FILES $RO_DIRS; do
			"$PYTHON" -c "import os, sys; os.setxattr(sys.argv[1], \"user.orig\", b\"o\")" \
				"$P/$f" || return 1
		done
	fi &&
	touch -d "2001-01-01 00:00:00" $(for f in $RO_FILES $RO_DIRS; do echo $P/$f; done) &&
	project_checksum $P >project.sum &&
	ward_mount
'

test_expect_success 'rules check: read-only by default and by the project' '
	(cd $P && "$WARDFS_BIN" rules check .git/config .git/hooks/pre-commit \
		.github/workflows/x.yml .gitlab-ci.yml .wardfs.ini docs/guide.md \
		Makefile .github/README.md) >actual &&
	cut -f2,3 actual >decisions &&
	cat >expect <<-\EOF &&
	readonly	.git/config
	readonly	.git/hooks/pre-commit
	readonly	.github/workflows/x.yml
	readonly	.gitlab-ci.yml
	readonly	.wardfs.ini
	readonly	docs/guide.md
	readonly	Makefile
	allow	.github/README.md
	EOF
	test_cmp expect decisions
'

test_expect_success 'read-only paths are visible and readable' '
	ro_manifest $P >expect &&
	ro_manifest $M >actual &&
	test_cmp expect actual &&
	for f in $RO_FILES; do
		test_cmp "$P/$f" "$M/$f" || return 1
	done
'

test_expect_success 'every write syscall on a read-only file or directory fails' '
	ro_manifest $M >before &&
	{
		for f in $RO_FILES; do echo "file $f"; done &&
		for d in $RO_DIRS; do echo "dir $d"; done &&
		for d in $RO_EMPTY_DIRS; do echo "empty $d"; done
	} >paths &&
	opts= &&
	if test_have_prereq ROOT; then opts="$opts --root"; fi &&
	if test_have_prereq XATTR; then opts="$opts --xattr"; fi &&
	"$PYTHON" ro.py "$TRASH_DIRECTORY/$M" $opts <paths >bad &&
	test_file_is_empty bad &&
	ro_manifest $M >after &&
	test_cmp before after
'

test_expect_success 'new paths that read-only rules cover cannot be created' '
	mkdir -p $M/newdir &&
	cat >calls <<-\EOF &&
	open("newdir/.gitlab-ci.yml", "w")
	open(".github/workflows/evil.yml", "w")
	open(".git/hooks/post-checkout", "w")
	open("newdir/Makefile", "w")
	os.mkdir("newdir/.git")
	open("newdir/.git", "w")
	os.mkdir("newdir/docs")
	os.symlink("a.txt", "newdir/Makefile")
	os.rename("a.txt", "newdir/.gitlab-ci.yml")
	EOF
	"$PYTHON" -c "
import errno, os, sys
os.chdir(sys.argv[1])
for c in sys.stdin.read().splitlines():
    try:
        exec(c)
        print(c, \"OK\")
    except OSError as e:
        print(c, errno.errorcode.get(e.errno, e.errno))
" "$TRASH_DIRECTORY/$M" <calls >actual &&
	test_line_count = 9 actual &&
	grep -v -E " (EROFS|EACCES|EPERM)\$" actual >bad;
	test_file_is_empty bad &&
	test_path_is_file $M/a.txt
'

test_expect_success 'shell tools: the writes fail as read-only, nothing changes' '
	test_must_fail sh -c "echo x >>$M/.git/config" 2>err &&
	test_grep -e "Read-only file system" -e "Permission denied" err &&
	test_must_fail sed -i s/push/pull/ $M/.github/workflows/x.yml &&
	test_must_fail rm -rf $M/.git &&
	test_must_fail rm -rf $M/docs &&
	test_must_fail chmod -x $M/.git/hooks/pre-commit &&
	test_must_fail touch $M/.gitlab-ci.yml &&
	test_must_fail cp $M/a.txt $M/.git/hooks/pre-commit &&
	test_must_fail cp $M/a.txt $M/.git/hooks/post-merge &&
	test_must_fail ln -s ../../a.txt $M/.git/hooks/post-checkout &&
	test_must_fail mv $M/.git $M/.git.bak &&
	test_must_fail mv $M/a.txt $M/.wardfs.ini &&
	test_must_fail sh -c ": >$M/Makefile" &&
	test_must_fail mkdir $M/.github/workflows/new &&
	test_path_is_file $M/a.txt &&
	ro_manifest $P >expect &&
	ro_manifest $M >actual &&
	test_cmp expect actual
'

test_expect_success GIT 'git config cannot write .git/config' '
	test_must_fail git -C $M config user.name evil &&
	test_cmp $P/.git/config $M/.git/config
'

test_expect_success 'a symlink the agent makes does not open a write path' '
	ln -s .git/config $M/cfg-link &&
	ln -s "$TRASH_DIRECTORY/$M/.github/workflows/x.yml" $M/wf-link &&
	ln -s .git/hooks $M/hooks-link &&
	test_must_fail sh -c "echo x >>$M/cfg-link" &&
	test_must_fail sh -c ": >$M/wf-link" &&
	test_must_fail sh -c "echo x >$M/hooks-link/post-commit" &&
	test_errno EROFS "os.truncate(sys.argv[1], 0)" $M/cfg-link &&
	test_cmp $P/.git/config $M/.git/config &&
	test_cmp $P/.github/workflows/x.yml $M/.github/workflows/x.yml
'

# ci-link.txt is another name (a hard link in the project) of the
# read-only .gitlab-ci.yml: writing it must not change .gitlab-ci.yml.
test_expect_success 'writing a project hard link of a read-only file' '
	echo changed >>$M/ci-link.txt &&
	test_cmp $P/.gitlab-ci.yml $M/.gitlab-ci.yml
'

test_expect_success 'a hard link the agent makes of a read-only file' '
	{ ln $M/Makefile $M/my-makefile 2>/dev/null || true; } &&
	if test -e $M/my-makefile; then
		echo changed >>$M/my-makefile
	fi &&
	test_cmp $P/Makefile $M/Makefile &&
	{ ln $M/.git/config $M/my-config 2>/dev/null || true; } &&
	if test -e $M/my-config; then
		echo changed >>$M/my-config
	fi &&
	test_cmp $P/.git/config $M/.git/config
'

test_expect_success 'unmount; the project is unchanged' '
	ward_umount &&
	project_checksum $P >actual &&
	test_cmp project.sum actual
'

# .github/workflows/ is anchored at the root: moving .github away must not
# let the agent put a workflow of its own at .github/workflows/, neither
# by creating it anew nor by editing it under the new name and moving it
# back.  (Fresh sessions: nothing below a renamed directory is cached.)
test_expect_success 'moving .github away, then recreating .github/workflows/' '
	ward_mount &&
	{ ward_guard mv $M/.github $M/gh2; true; } &&
	{ mkdir -p $M/.github/workflows 2>/dev/null; true; } &&
	{ echo "on: evil" >$M/.github/workflows/x.yml 2>/dev/null; true; } &&
	{ echo "on: evil" >$M/.github/workflows/new.yml 2>/dev/null; true; } &&
	test_path_is_missing $M/.github/workflows/new.yml &&
	if test -e $M/.github/workflows/x.yml; then
		test_cmp $P/.github/workflows/x.yml $M/.github/workflows/x.yml
	fi
'

test_expect_success 'editing .github/workflows/ under another name, moving it back' '
	{ echo "on: evil" >$M/gh2/workflows/x.yml 2>/dev/null; true; } &&
	ward_umount &&
	ward_mount -s $WARD_SESSION &&
	{ rm -rf $M/.github 2>/dev/null; true; } &&
	{ ward_guard mv -T $M/gh2 $M/.github 2>/dev/null; true; } &&
	ward_is_mounted "$TRASH_DIRECTORY/$M" &&
	test_cmp $P/.github/workflows/x.yml $M/.github/workflows/x.yml
'

test_expect_success 'unmount; the project is unchanged after the moves' '
	if ward_is_mounted "$TRASH_DIRECTORY/$M"; then
		ward_umount
	fi &&
	project_checksum $P >actual &&
	test_cmp project.sum actual
'

test_expect_success 'a user [readonly] rule from -o works too' '
	ward_mount -o readonly.path=a.txt &&
	test_errno EROFS "os.open(sys.argv[1], os.O_WRONLY)" $M/a.txt &&
	test_errno EROFS "os.unlink(sys.argv[1])" $M/a.txt
'

test_expect_success 'unmount; the project is still unchanged' '
	ward_umount &&
	project_checksum $P >actual &&
	test_cmp project.sum actual
'

test_done
