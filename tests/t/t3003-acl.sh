#!/bin/bash
test_description='POSIX ACLs: shown, enforced by the kernel, changed in the session only, inherited; file capabilities never copied up'
. "$(dirname "$0")/../lib/test-lib.sh"

test_have_prereq ROOT || skip_all "not root: no other user to run as"

# as_nobody CMD...: run CMD as the user nobody
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
}

test_expect_success 'setup: a file nobody may not read, one nobody may, a default ACL' '
	chmod 755 project . &&
	echo closed >project/closed.txt &&
	echo open >project/open.txt &&
	chmod 644 project/closed.txt project/open.txt &&
	setfacl -m u:nobody:--- project/closed.txt &&
	mkdir project/shared &&
	chmod 755 project/shared &&
	setfacl -d -m u:nobody:rw project/shared &&
	getfacl -cp project/closed.txt >closed.acl.orig
'

test_expect_success 'the view shows the ACLs' '
	ward_mount -o allow_other &&
	getfacl -c mnt/closed.txt >acl &&
	test_grep "^user:nobody:---$" acl &&
	getfacl -cd mnt/shared >dacl &&
	test_grep "^user:nobody:rw-$" dacl
'

test_expect_success 'the kernel enforces them: nobody reads one file, not the other' '
	as_nobody cat mnt/open.txt >out &&
	test "$(cat out)" = open &&
	test_must_fail as_nobody cat mnt/closed.txt 2>err &&
	test_grep -i "permission denied" err
'

test_expect_success 'an ACL changed in the view stays in the session' '
	setfacl -m u:nobody:r mnt/closed.txt &&
	getfacl -c mnt/closed.txt >acl &&
	test_grep "^user:nobody:r--$" acl &&
	as_nobody cat mnt/closed.txt >out &&
	test "$(cat out)" = closed &&
	getfacl -cp project/closed.txt >now &&
	test_cmp closed.acl.orig now &&
	test -f "$WARD_UPPER/closed.txt"
'

# The kernel applies the umask before the create reaches the daemon, so
# the inherited mask is the umask's (a native create under a default ACL
# ignores the umask): the entry is inherited, its effective rights masked.
test_expect_success 'a file created under a default ACL inherits it' '
	echo new >mnt/shared/new.txt &&
	getfacl -c mnt/shared/new.txt >acl &&
	test_grep "^user:nobody:rw-" acl &&
	test_path_is_missing project/shared/new.txt
'

test_expect_success 'removing the ACL in the view opens nothing up in the project' '
	setfacl -b mnt/closed.txt &&
	getfacl -c mnt/closed.txt >acl &&
	! grep -q nobody acl &&
	getfacl -cp project/closed.txt >now &&
	test_cmp closed.acl.orig now &&
	ward_umount
'

test_expect_success 'copy-up does not carry a file capability into the session' '
	cat >caps.py <<-\EOF &&
	import errno, os, struct, sys
	op, path = sys.argv[1], sys.argv[2]
	name = "security.capability"
	if op == "set":
	    # VFS_CAP_REVISION_2 | effective, CAP_NET_BIND_SERVICE permitted
	    os.setxattr(path, name, struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0))
	else:
	    try:
	        os.getxattr(path, name)
	    except OSError as e:
	        sys.exit(1 if e.errno == errno.ENODATA else 2)
	EOF
	printf "#!/bin/sh\necho tool\n" >project/tool &&
	chmod 755 project/tool &&
	"$PYTHON" caps.py set project/tool &&
	"$PYTHON" caps.py get project/tool &&
	ward_mount &&
	echo "# changed" >>mnt/tool &&
	test_expect_code 1 "$PYTHON" caps.py get "$WARD_UPPER/tool" &&
	test_expect_code 1 "$PYTHON" caps.py get mnt/tool &&
	"$PYTHON" caps.py get project/tool &&
	ward_umount
'

test_done
