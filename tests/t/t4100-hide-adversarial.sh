#!/bin/bash
test_description='hidden paths stay hidden whatever way the agent tries'
. "$(dirname "$0")/../lib/test-lib.sh"

# Every default [hide] rule gets a file holding a unique canary
# "WARDCANARY-<path>", at the project root and again in sub/.  Visible
# files never contain the word, so finding it anywhere in the view (or in
# the session's upper layer) is a leak.  The first session attacks by
# name; the second (fresh, so that no name below a renamed directory is
# cached yet) renames directories.
P=project
M=mnt

# Files each default rule hides, relative to a directory (the root, sub/).
HIDDEN="
.env
.env.local
.env.production
server.pem
tls.key
cert.p12
cert.pfx
id_rsa
id_rsa.pub
id_ecdsa
id_ed25519
.ssh/config
.ssh/known_hosts
.aws/credentials
.gnupg/pubring.kbx
.gnupg/private-keys-v1.d/a.key
.kube/config
.docker/config.json
.netrc
.npmrc
.pypirc
.git-credentials
credentials.json
notes.txt
backup.asc
"
# Directories hidden whole.
HIDDEN_DIRS=".ssh .aws .gnupg"
# Other names of hidden files: lower hard links under innocent names, a
# path hidden by the project's .wardfs.ini, a directory of secrets only.
HIDDEN_EXTRA="
innocent.txt
docs/aws-copy
sub/linked-key.txt
build/secrets
build/secrets/token.txt
onlyhidden/.env
onlyhidden/id_rsa
"

# The visible tree below one directory: templates and near misses that a
# sloppy pattern would also hide.
VISIBLE="
.docker
.docker/daemon.json
.env.example
.env.sample
.env.template
.envrc
.kube
.kube/other.yaml
aws
aws/credentials
credentials.json.md
env.txt
keys.txt
my.env
public.txt
ssh
ssh/config
"

# all_hidden: every hidden path, relative to the project root
all_hidden() {
	local f
	for f in $HIDDEN $HIDDEN_DIRS; do
		echo "$f"
		echo "sub/$f"
	done
	for f in $HIDDEN_EXTRA; do
		echo "$f"
	done
}

# expected_view: what find(1) must list in the view, sorted
expected_view() {
	{
		for f in $VISIBLE; do
			echo "$f"
			echo "sub/$f"
		done
		printf '%s\n' .wardfs.ini a.txt build docs docs/readme.md \
			link-to-env link-to-ssh onlyhidden src src/main.c \
			sub sub/visible.txt
	} | LC_ALL=C sort
}

# probe.py ROOT PATH...: every way to reach PATH (below ROOT) by name must
# fail with ENOENT: stat, lstat, open, O_PATH, openat from the parent,
# access, listxattr, readlink, listdir, chdir; also through "..", "./",
# "//", the absolute path and /proc/self/cwd.  Prints each way that did
# not fail so, and exits 1 if any.
cat >probe.py <<'EOF'
import errno, os, sys
root = sys.argv[1]
os.chdir(root)
bad = []

def expect_enoent(what, fn):
    try:
        r = fn()
    except OSError as e:
        if e.errno != errno.ENOENT:
            bad.append("%s: %s (wanted ENOENT)" %
                       (what, errno.errorcode.get(e.errno, e.errno)))
        return
    if r is False:
        return          # os.access said no
    bad.append("%s: succeeded (%r)" % (what, r))

def ways(p):
    d, b = os.path.split(p)
    yield p
    yield "./" + p
    yield "docs/../" + p
    yield "src/../docs/../" + p
    yield p.replace("/", "//")
    yield "/proc/self/cwd/" + p
    yield os.path.join(root, p)
    if d:
        yield d + "/./" + b

def openat(p):
    d, b = os.path.split(p)
    fd = os.open(d or ".", os.O_PATH | os.O_DIRECTORY)
    try:
        return os.open(b, os.O_RDONLY, dir_fd=fd)
    finally:
        os.close(fd)

for p in sys.argv[2:]:
    for w in ways(p):
        expect_enoent("stat " + w, lambda: os.stat(w))
        expect_enoent("lstat " + w, lambda: os.lstat(w))
        expect_enoent("open " + w, lambda: os.open(w, os.O_RDONLY))
        expect_enoent("open O_PATH " + w, lambda: os.open(w, os.O_PATH))
        expect_enoent("open O_PATH|O_NOFOLLOW " + w,
                      lambda: os.open(w, os.O_PATH | os.O_NOFOLLOW))
        expect_enoent("access " + w, lambda: os.access(w, os.F_OK))
    expect_enoent("openat " + p, lambda: openat(p))
    expect_enoent("listxattr " + p, lambda: os.listxattr(p))
    expect_enoent("readlink " + p, lambda: os.readlink(p))
    expect_enoent("listdir " + p, lambda: os.listdir(p))
    expect_enoent("chdir " + p, lambda: os.chdir(p))
    os.chdir(root)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF

# errnos.py ROOT: runs each line of stdin as a Python expression in ROOT
# and prints "EXPRESSION ERRNAME" (or OK).  Helpers: create(PATH[, FLAGS]),
# renameat2(A, B, FLAGS), linkat_follow(A, B), and mv_file(TARGET[, FLAGS])
# / mv_dir(TARGET[, FLAGS]), which rename a fresh visible file / directory
# onto TARGET, so that one wrong success cannot spoil the next call.
cat >errnos.py <<'EOF'
import ctypes, errno, os, sys
os.chdir(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
AT_FDCWD, AT_SYMLINK_FOLLOW = -100, 0x400
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
SYS_linkat, SYS_renameat2 = 265, 316

def check(r):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

def renameat2(a, b, flags=0):
    check(libc.syscall(SYS_renameat2, AT_FDCWD, a.encode(), AT_FDCWD,
                       b.encode(), flags))

def linkat_follow(a, b):
    check(libc.syscall(SYS_linkat, AT_FDCWD, a.encode(), AT_FDCWD,
                       b.encode(), AT_SYMLINK_FOLLOW))

def create(p, flags=0):
    os.close(os.open(p, os.O_WRONLY | os.O_CREAT | flags, 0o644))

n = 0
def fresh(is_dir):
    global n
    n += 1
    name = "fresh.%d" % n
    if is_dir:
        os.mkdir(name)
        create(name + "/f")
    else:
        create(name)
    return name

def mv_file(target, flags=0):
    renameat2(fresh(False), target, flags)

def mv_dir(target, flags=0):
    renameat2(fresh(True), target, flags)

for c in [line.rstrip("\n") for line in sys.stdin if line.strip()]:
    try:
        eval(c)
        r = "OK"
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    print(c, r)
EOF

# expect_errno ERRNAME: runs the calls in file "calls" through errnos.py
# in the mount and checks that each failed with ERRNAME
expect_errno() {
	"$PYTHON" errnos.py "$TRASH_DIRECTORY/$M" <calls >actual &&
	sed -e "s/\$/ $1/" calls >expect &&
	test_cmp expect actual
}

key_file() {
	printf -- '-----BEGIN %s-----\n%s\n-----END %s-----\n' "$2" \
		"WARDCANARY-$1" "$2" >"$P/$1"
}

test_expect_success 'setup: secrets of every default rule, root and sub/' '
	mkdir -p $P/sub $P/src $P/docs $P/onlyhidden $P/build/secrets &&
	for d in "" sub/; do
		for f in $HIDDEN; do
			mkdir -p "$(dirname "$P/$d$f")" &&
			echo "WARDCANARY-$d$f" >"$P/$d$f" || return 1
		done &&
		key_file ${d}notes.txt "OPENSSH PRIVATE KEY" &&
		key_file ${d}backup.asc "PGP PRIVATE KEY BLOCK" &&
		for f in $VISIBLE; do
			case $f in
			.docker | .kube | aws | ssh) mkdir -p "$P/$d$f" ;;
			*) echo "VISIBLE-$d$f" >"$P/$d$f" ;;
			esac || return 1
		done &&
		printf -- "-----BEGIN PUBLIC KEY-----\nVISIBLE\n" >$P/${d}public.txt ||
		return 1
	done &&
	key_file sub/notes.txt "RSA PRIVATE KEY" &&
	echo "alpha" >$P/a.txt &&
	echo "int main(void) { return 0; }" >$P/src/main.c &&
	echo "VISIBLE readme" >$P/docs/readme.md &&
	echo "VISIBLE sub" >$P/sub/visible.txt &&
	echo WARDCANARY-onlyhidden/.env >$P/onlyhidden/.env &&
	echo WARDCANARY-onlyhidden/id_rsa >$P/onlyhidden/id_rsa &&
	echo WARDCANARY-build/secrets/token.txt >$P/build/secrets/token.txt &&
	printf "[hide]\npath = build/secrets/\n" >$P/.wardfs.ini &&
	ln $P/.env $P/innocent.txt &&
	ln $P/.aws/credentials $P/docs/aws-copy &&
	ln $P/sub/tls.key $P/sub/linked-key.txt &&
	ln -s .env $P/link-to-env &&
	ln -s .ssh $P/link-to-ssh &&
	project_checksum $P >project.sum &&
	ward_mount
'

test_expect_success 'the fixture: every hidden path is in the project' '
	for f in $(all_hidden); do
		test -e "$P/$f" || { echo "fixture lacks $f" >&2; return 1; }
	done &&
	test $(all_hidden | wc -l) -ge 60 &&
	grep -r -l WARDCANARY $P >found &&
	test_line_count -ge 55 found
'

test_expect_success 'cat and stat of each hidden path fail' '
	for f in $(all_hidden); do
		test_must_fail cat "$M/$f" 2>err &&
		test_grep "No such file or directory" err &&
		test_must_fail stat "$M/$f" &&
		test_path_is_missing "$M/$f" || return 1
	done
'

test_expect_success 'stat, O_PATH, openat, .., ./, //, /proc/self/cwd: ENOENT' '
	"$PYTHON" probe.py "$TRASH_DIRECTORY/$M" $(all_hidden) >bad &&
	test_file_is_empty bad
'

test_expect_success 'hidden directories cannot be entered or listed' '
	for d in $HIDDEN_DIRS build/secrets; do
		test_must_fail ls "$M/$d/" &&
		test_must_fail sh -c "cd \"$M/$d\"" || return 1
	done &&
	for d in $HIDDEN_DIRS; do
		test_must_fail ls "$M/sub/$d/" || return 1
	done
'

test_expect_success 'readdir: find and ls -A list exactly the visible tree' '
	expected_view >expect &&
	(cd $M && find . -mindepth 1 | sed -e "s|^\./||" | LC_ALL=C sort) >actual &&
	test_cmp expect actual &&
	grep -v / expect >expect.root &&
	(cd $M && ls -A) >actual &&
	test_cmp expect.root actual &&
	{ echo visible.txt && printf "%s\n" $VISIBLE | grep -v /; } |
		LC_ALL=C sort >expect.sub &&
	(cd $M/sub && ls -A) >actual &&
	test_cmp expect.sub actual &&
	ls -A $M/onlyhidden $M/build $M/.kube $M/sub/.docker >actual &&
	cat >expect <<-EOF &&
	$M/.kube:
	other.yaml

	$M/build:

	$M/onlyhidden:

	$M/sub/.docker:
	daemon.json
	EOF
	test_cmp expect actual
'

test_expect_success 'templates and near misses stay visible, contents intact' '
	for f in $VISIBLE; do
		case $f in
		.docker | .kube | aws | ssh | public.txt) continue ;;
		esac
		echo "VISIBLE-$f" >expect &&
		test_cmp expect "$M/$f" &&
		echo "VISIBLE-sub/$f" >expect &&
		test_cmp expect "$M/sub/$f" || return 1
	done &&
	test_cmp $P/public.txt $M/public.txt
'

test_expect_success 'grep -r over the mount finds no canary' '
	test_expect_code 1 grep -r -a WARDCANARY $M &&
	{ grep -R -a -l WARDCANARY $M >found 2>/dev/null; true; } &&
	test_file_is_empty found
'

test_expect_success TAR 'tar of the mount holds no canary and no hidden name' '
	tar -C $M -cf view.tar . &&
	test_expect_code 1 grep -a -c WARDCANARY view.tar &&
	tar -tf view.tar | sed -e "s|^\./||" -e "s|/$||" -e "/^\.*$/d" |
		LC_ALL=C sort >listed &&
	expected_view >expect &&
	test_cmp expect listed
'

test_expect_success 'lower hard links of hidden files are hidden under any name' '
	for f in innocent.txt docs/aws-copy sub/linked-key.txt; do
		test "$(stat -c %h $P/$f)" = 2 &&
		test_must_fail cat "$M/$f" &&
		test_must_fail ln "$M/$f" "$M/relinked" || return 1
	done &&
	test_path_is_missing $M/relinked
'

# Someone (not the agent) adds to the project while it is mounted: rules
# are decided at lookup, so the new secrets are hidden at once.
test_expect_success 'secrets that appear in the project during the session' '
	echo WARDCANARY-late.pem >$P/late.pem &&
	mkdir -p $P/late/.ssh &&
	echo WARDCANARY-late/.ssh/id >$P/late/.ssh/id &&
	test_must_fail cat $M/late.pem &&
	test_must_fail cat $M/late/.ssh/id &&
	ls -A $M/late >actual &&
	test_file_is_empty actual &&
	ls -A $M >actual &&
	test_grep -v "^late\.pem$" actual &&
	test_expect_code 1 grep -r -a WARDCANARY $M
'

# The lower hard links were collected when the first was asked about
# (above); one made later must be hidden too.
test_expect_success 'a hard link made in the project during the session' '
	test_when_finished "rm -rf $P/late $P/late.pem $P/late-link.txt &&
		project_checksum $P >project.sum" &&
	ln $P/tls.key $P/late-link.txt &&
	test_must_fail cat $M/late-link.txt &&
	test_expect_code 1 grep -r -a WARDCANARY $M
'

test_expect_success 'a private-key header hides a file whatever its name' '
	test_must_fail cat $M/notes.txt &&
	test_must_fail cat $M/sub/notes.txt &&
	test_must_fail cat $M/backup.asc &&
	test_must_fail cat $M/sub/backup.asc &&
	test_cmp $P/public.txt $M/public.txt
'

test_expect_success 'lower symlinks to hidden paths do not resolve' '
	test "$(readlink $M/link-to-env)" = .env &&
	test_must_fail cat $M/link-to-env &&
	test_must_fail ls $M/link-to-ssh/ &&
	test_must_fail cat $M/link-to-ssh/config
'

test_expect_success 'symlinks the agent makes do not reach hidden paths' '
	ln -s .env $M/l-rel &&
	ln -s "$TRASH_DIRECTORY/$M/.env" $M/l-abs &&
	ln -s sub/../sub/.env $M/l-dotdot &&
	ln -s .ssh $M/l-dir &&
	ln -s l-rel $M/l-chain &&
	ln -s "../.aws/credentials" $M/sub/l-up &&
	ln -s "$TRASH_DIRECTORY/$M/sub/.env" outside-link &&
	ln -s "$TRASH_DIRECTORY/$M/.ssh" outside-dirlink &&
	for l in $M/l-rel $M/l-abs $M/l-dotdot $M/l-chain $M/sub/l-up \
		outside-link; do
		test_path_is_symlink $l &&
		test_must_fail cat $l || return 1
	done &&
	test_must_fail ls $M/l-dir/ &&
	test_must_fail cat $M/l-dir/config &&
	test_must_fail ls outside-dirlink/ &&
	cat >calls <<-\EOF &&
	os.open("l-rel", os.O_RDONLY)
	os.open("l-abs", os.O_PATH)
	os.stat("l-chain")
	os.open("l-dir/config", os.O_RDONLY)
	os.open("sub/l-up", os.O_RDONLY)
	linkat_follow("l-rel", "hl")
	linkat_follow("l-abs", "hl")
	EOF
	expect_errno ENOENT &&
	test_path_is_missing $M/hl
'

test_expect_success 'hard links of hidden files cannot be made' '
	test_must_fail ln $M/.env $M/y &&
	test_must_fail ln $M/sub/id_rsa $M/y &&
	test_must_fail ln -L $M/l-rel $M/y &&
	test_path_is_missing $M/y &&
	cat >calls <<-\EOF &&
	os.link(".env", "y")
	os.link("sub/.env.local", "y")
	os.link(".ssh/config", "y")
	os.link("innocent.txt", "y")
	os.link("notes.txt", "y")
	os.link("build/secrets/token.txt", "y")
	EOF
	expect_errno ENOENT &&
	test_path_is_missing $M/y
'

test_expect_success 'hidden names cannot be renamed away' '
	test_must_fail mv $M/.env $M/x &&
	test_must_fail mv $M/sub/.env $M/x &&
	test_must_fail mv $M/.ssh $M/x &&
	test_path_is_missing $M/x &&
	cat >calls <<-\EOF &&
	os.rename(".env", "x")
	os.rename("sub/server.pem", "x")
	os.rename(".ssh", "x")
	os.rename(".aws/credentials", "x")
	os.rename("innocent.txt", "x")
	os.rename("notes.txt", "x")
	os.rename("build/secrets", "x")
	renameat2(".env", "x", RENAME_NOREPLACE)
	renameat2(".env", "a.txt", RENAME_EXCHANGE)
	EOF
	expect_errno ENOENT &&
	test_path_is_missing $M/x
'

test_expect_success 'nothing is renamed onto a hidden name, existing or not' '
	test_must_fail mv $M/a.txt $M/.env 2>err &&
	test_grep "Permission denied" err &&
	echo alpha >expect &&
	test_cmp expect $M/a.txt &&
	cat >calls <<-\EOF &&
	mv_file(".env")
	mv_file("brand-new.pem")
	mv_file("sub/.kube/config")
	mv_file("sub/id_ecdsa")
	mv_file("onlyhidden/.env")
	mv_file("onlyhidden/.npmrc")
	mv_file(".env", RENAME_NOREPLACE)
	mv_file("fresh.p12", RENAME_NOREPLACE)
	mv_dir(".aws")
	mv_dir("sub/.gnupg")
	mv_dir("new.key")
	mv_dir(".ssh", RENAME_NOREPLACE)
	mv_dir("src/.ssh")
	EOF
	expect_errno EACCES &&
	for i in $(test_seq 13); do
		test_path_is_file $M/fresh.$i || test_path_is_dir $M/fresh.$i ||
		return 1
	done
'

test_expect_success 'exchanging with a hidden name fails' '
	cat >calls <<-\EOF &&
	renameat2("a.txt", ".env", RENAME_EXCHANGE)
	renameat2("src", "sub/.ssh", RENAME_EXCHANGE)
	renameat2("a.txt", "innocent.txt", RENAME_EXCHANGE)
	EOF
	"$PYTHON" errnos.py $M <calls >actual &&
	test_grep -v " OK$" actual &&
	echo alpha >expect &&
	test_cmp expect $M/a.txt &&
	test_path_is_file $M/src/main.c
'

test_expect_success 'hidden names cannot be created, existing or not (EACCES)' '
	mkdir -p $M/newdir/.kube $M/newdir/.docker &&
	cat >calls <<-\EOF &&
	create(".env")
	create(".env", os.O_EXCL)
	create(".env", os.O_TRUNC)
	create("new.pem")
	create("new.pem", os.O_EXCL)
	create("sub/tls.key", os.O_EXCL)
	create("sub/other.key")
	create("newdir/id_ed25519")
	create("newdir/.kube/config")
	create(".kube/config", os.O_EXCL)
	create("newdir/.docker/config.json")
	create("onlyhidden/.env.staging")
	create("onlyhidden/id_rsa")
	os.mkdir(".ssh")
	os.mkdir(".aws")
	os.mkdir("newdir/.gnupg")
	os.mkdir("newdir/.ssh")
	os.mkdir("build/secrets")
	os.mkfifo("id_rsa")
	os.mkfifo("newdir/x.pfx")
	os.symlink("a.txt", ".netrc")
	os.symlink("a.txt", "newdir/.npmrc")
	os.link("a.txt", "credentials.json")
	os.link("a.txt", "newdir/.git-credentials")
	EOF
	expect_errno EACCES
'

test_expect_success 'inside a hidden directory nothing can be created (ENOENT)' '
	cat >calls <<-\EOF &&
	create(".ssh/authorized_keys")
	create("build/secrets/new.txt")
	os.mkdir("sub/.aws/x")
	os.symlink("a.txt", ".gnupg/x")
	EOF
	expect_errno ENOENT
'

test_expect_success 'shell tools cannot create secrets during the session' '
	test_must_fail sh -c "echo leak >$M/new.pem" 2>err &&
	test_grep "Permission denied" err &&
	test_must_fail cp $M/a.txt $M/.npmrc &&
	test_must_fail touch $M/id_ed25519_new &&
	test_must_fail mkdir $M/sub/.aws &&
	test_must_fail tee $M/.pypirc </dev/null &&
	for f in new.pem .npmrc id_ed25519_new new.key fresh.p12 \
		newdir/.kube/config newdir/.gnupg newdir/x.pfx newdir/.npmrc \
		newdir/.git-credentials newdir/id_ed25519 brand-new.pem; do
		test_path_is_missing "$M/$f" &&
		test_path_is_missing "$WARD_UPPER/$f" || return 1
	done
'

test_expect_success 'a file renamed to a hidden name: refused, the file stays' '
	echo "tmp data" >$M/tmp1 &&
	test_must_fail mv $M/tmp1 $M/id_rsa &&
	test_must_fail mv $M/tmp1 $M/sub/.env.staging &&
	test_must_fail mv $M/tmp1 $M/newdir/.kube/config &&
	test_must_fail mv $M/tmp1 $M/sub/.ssh/ &&
	echo "tmp data" >expect &&
	test_cmp expect $M/tmp1 &&
	test_path_is_missing $M/sub/.env.staging &&
	test_path_is_missing $WARD_UPPER/id_rsa
'

test_expect_success 'rm -rf of a directory of secrets never brings them back' '
	{ rm -rf $M/onlyhidden; true; } &&
	mkdir -p $M/onlyhidden &&
	ls -A $M/onlyhidden >actual &&
	test_file_is_empty actual &&
	test_must_fail cat $M/onlyhidden/.env &&
	test_must_fail cat $M/onlyhidden/id_rsa
'

# A non-directory named like a directory-only rule (.ssh/, .aws/,
# .gnupg/) is not itself hidden; but where a hidden directory of that
# name exists, it must not be replaced (shadowed) by one.  (Last in
# this session: a wrong success leaves the name taken.)
test_expect_success 'no file, symlink or fifo is put over a hidden directory' '
	cat >calls <<-\EOF &&
	create(".ssh")
	create("sub/.aws", os.O_EXCL)
	os.symlink("a.txt", ".gnupg")
	os.mkfifo("sub/.ssh")
	os.link("a.txt", "sub/.gnupg")
	mv_file(".aws")
	mv_file("build/secrets")
	EOF
	expect_errno EACCES &&
	test_path_is_missing $M/.ssh &&
	test_path_is_missing $M/sub/.aws &&
	test_path_is_missing $M/.gnupg
'

test_expect_success 'no canary in the view, nor in the upper' '
	test_expect_code 1 grep -r -a WARDCANARY $M &&
	test_expect_code 1 grep -r -a WARDCANARY $WARD_UPPER
'

test_expect_success 'unmount; the real project is unchanged' '
	ward_umount &&
	project_checksum $P >actual &&
	test_cmp project.sum actual
'

# A new session: nothing below the renamed directories is cached yet.
test_expect_success 'renaming the parent of .env, .ssh/... does not uncover them' '
	ward_mount &&
	ward_guard mv $M/sub $M/sub2 &&
	test_path_is_missing $M/sub &&
	echo "VISIBLE sub" >expect &&
	test_cmp expect $M/sub2/visible.txt &&
	for f in $HIDDEN $HIDDEN_DIRS linked-key.txt; do
		test_path_is_missing "$M/sub2/$f" || return 1
	done &&
	"$PYTHON" probe.py "$TRASH_DIRECTORY/$M" \
		$(for f in $HIDDEN $HIDDEN_DIRS; do echo sub2/$f; done) >bad &&
	test_file_is_empty bad &&
	test_expect_code 1 grep -r -a WARDCANARY $M/sub2
'

test_expect_success 'renaming a directory does not uncover lower hard links' '
	ward_guard mv $M/docs $M/docs2 &&
	test_path_is_file $M/docs2/readme.md &&
	test_must_fail cat $M/docs2/aws-copy &&
	ls -A $M/docs2 >actual &&
	echo readme.md >expect &&
	test_cmp expect actual
'

test_expect_success 'renaming .kube or .docker does not uncover their config' '
	ward_guard mv $M/.kube $M/kube2 &&
	ward_guard mv $M/.docker $M/docker2 &&
	echo VISIBLE-.kube/other.yaml >expect &&
	test_cmp expect $M/kube2/other.yaml &&
	test_must_fail cat $M/kube2/config &&
	test_must_fail cat $M/docker2/config.json &&
	ls -A $M/kube2 $M/docker2 >actual &&
	cat >expect <<-EOF &&
	$M/docker2:
	daemon.json

	$M/kube2:
	other.yaml
	EOF
	test_cmp expect actual
'

test_expect_success 'renaming build/ does not uncover build/secrets/' '
	ward_guard mv $M/build $M/build2 &&
	ls -A $M/build2 >actual &&
	test_file_is_empty actual &&
	test_must_fail cat $M/build2/secrets/token.txt
'

test_expect_success 'no canary in the view or the upper after the renames' '
	ward_is_mounted "$TRASH_DIRECTORY/$M" &&
	test_expect_code 1 grep -r -a WARDCANARY $M &&
	tar -C $M -cf view2.tar . &&
	test_expect_code 1 grep -a -c WARDCANARY view2.tar &&
	test_expect_code 1 grep -r -a WARDCANARY $WARD_UPPER
'

# The agent renames a directory it has just looked into (so the daemon
# holds names below it).
test_expect_success 'renaming a directory after reading inside it works' '
	cat $M/sub2/visible.txt >/dev/null &&
	ls -A $M/sub2/.kube >/dev/null &&
	ward_guard mv $M/sub2 $M/sub3 &&
	echo "VISIBLE sub" >expect &&
	test_cmp expect $M/sub3/visible.txt &&
	test_must_fail cat $M/sub3/.env &&
	test_must_fail ls $M/sub3/.ssh/ &&
	test_must_fail cat $M/sub3/.kube/config &&
	test_expect_code 1 grep -r -a WARDCANARY $M/sub3
'

test_expect_success 'a resumed session hides as well' '
	if ward_is_mounted "$TRASH_DIRECTORY/$M"; then
		ward_umount
	fi &&
	ward_mount -s $WARD_SESSION &&
	"$PYTHON" probe.py "$TRASH_DIRECTORY/$M" .env innocent.txt notes.txt \
		sub2/.env sub2/.ssh sub3/.env sub3/.ssh kube2/config docker2/config.json \
		docs2/aws-copy build2/secrets >bad &&
	test_file_is_empty bad &&
	test_expect_code 1 grep -r -a WARDCANARY $M
'

test_expect_success 'unmount; the real project is still unchanged' '
	ward_umount &&
	project_checksum $P >actual &&
	test_cmp project.sum actual
'

test_expect_success 'rules check names the deciding rule and its source' '
	(cd $P && "$WARDFS_BIN" rules check .env sub/.env.local .ssh/config \
		sub/.kube/config .env.example src/main.c build/secrets/token.txt \
		notes.txt) >actual &&
	cat >expect <<-EOF &&
	<built-in>:0:.env	hide	.env
	<built-in>:0:.env.*	hide	sub/.env.local
	<built-in>:0:.ssh/	hide	.ssh/config
	<built-in>:0:**/.kube/config	hide	sub/.kube/config
	<built-in>:0:.env.example	allow	.env.example
	::	allow	src/main.c
	$TRASH_DIRECTORY/$P/.wardfs.ini:2:build/secrets/	hide	build/secrets/token.txt
	<built-in>:0:-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----	hide	notes.txt
	EOF
	test_cmp expect actual
'

test_done
