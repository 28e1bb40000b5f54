#!/bin/bash
test_description='secrets are hidden: .env, .env.*, *.pem, *.key, id_rsa*, .ssh/'
. "$(dirname "$0")/../lib/test-lib.sh"

P=project
CANARY=wardfs-canary-7f3a91

# the paths that must be hidden, relative to the project
hidden='.env
.env.local
.env.production
server.pem
sub/dir/deep.key
id_rsa
id_rsa.pub
keys/id_rsa_backup
.ssh
.ssh/config
.ssh/id_ed25519
sub/.ssh
sub/.ssh/known_hosts
sub/.env'

# visible look-alikes, with their content
visible='.env.example
.env.sample
.env.template
notes.env
env
server.pem.txt
pem
sub/keyring
.sshx/file
ssh/file
other/.ssh
README'

test_expect_success 'setup' '
	mkdir -p $P/sub/dir $P/keys $P/.ssh $P/sub/.ssh $P/.sshx $P/ssh $P/other &&
	echo "$hidden" | while read -r f; do
		test -d "$P/$f" || echo "SECRET=$CANARY $f" >"$P/$f" || exit 1
	done &&
	echo "$visible" | while read -r f; do
		echo "visible $f" >"$P/$f" || exit 1
	done &&
	tree_manifest $P >project.manifest &&
	ward_mount
'

test_expect_success 'hidden paths are ENOENT to stat, lstat and open' '
	echo "$hidden" | while read -r f; do
		test_errno ENOENT "os.stat(sys.argv[1])" "mnt/$f" &&
		test_errno ENOENT "os.lstat(sys.argv[1])" "mnt/$f" &&
		test_errno ENOENT "os.open(sys.argv[1], os.O_RDONLY)" "mnt/$f" ||
		exit 1
	done
'

test_expect_success 'cat of a hidden file: No such file or directory' '
	test_must_fail cat mnt/.env 2>err &&
	test_grep "No such file or directory" err &&
	test_must_fail cat mnt/.ssh/config 2>err &&
	test_grep "No such file or directory" err &&
	test_must_fail cd mnt/.ssh
'

test_expect_success 'look-alikes stay visible' '
	echo "$visible" | while read -r f; do
		echo "visible $f" >expect &&
		test_cmp expect "mnt/$f" || exit 1
	done
'

test_expect_success 'ls -a lists no hidden name' '
	(cd mnt && ls -a . sub sub/dir keys) >actual &&
	cat >expect <<-\EOF &&
	.:
	.
	..
	.env.example
	.env.sample
	.env.template
	.sshx
	README
	env
	keys
	notes.env
	other
	pem
	server.pem.txt
	ssh
	sub

	keys:
	.
	..

	sub:
	.
	..
	dir
	keyring

	sub/dir:
	.
	..
	EOF
	test_cmp expect actual
'

test_expect_success 'find lists exactly the visible paths' '
	{
		echo . &&
		echo "$visible" | sed "s|^|./|" &&
		printf "%s\n" ./.sshx ./ssh ./other ./sub ./sub/dir ./keys
	} | sort >expect &&
	(cd mnt && find .) | sort >actual &&
	test_cmp expect actual
'

test_expect_success 'grep -r finds no canary in the mount (but does in the project)' '
	grep -r -l "$CANARY" $P >in-project &&
	test_line_count = 12 in-project &&
	test_expect_code 1 grep -r -l "$CANARY" mnt >in-mount &&
	test_file_is_empty in-mount
'

test_expect_success 'creating a hidden name fails with EACCES' '
	test_errno EACCES "os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)" mnt/.env &&
	test_errno EACCES "os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)" mnt/.env.new &&
	test_errno EACCES "os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)" mnt/sub/new.pem &&
	test_errno EACCES "os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)" mnt/new.key &&
	test_errno EACCES "os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)" mnt/id_rsa2 &&
	test_errno EACCES "os.mkdir(sys.argv[1])" mnt/sub/dir/.ssh &&
	test_must_fail sh -c "echo x >mnt/.env" &&
	test_path_is_missing mnt/.env.new &&
	test_path_is_missing mnt/new.key
'

test_expect_success 'a hidden name cannot be created in a new directory either' '
	mkdir mnt/fresh &&
	test_errno EACCES "os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)" mnt/fresh/.env &&
	test_errno EACCES "os.mkdir(sys.argv[1])" mnt/fresh/.ssh &&
	ls -A mnt/fresh >out &&
	test_file_is_empty out
'

test_expect_success 'hidden paths cannot be deleted or changed' '
	test_must_fail rm mnt/.env &&
	test_must_fail rm -r mnt/.ssh &&
	test_errno ENOENT "os.chmod(sys.argv[1], 0o644)" mnt/server.pem &&
	test_errno ENOENT "os.truncate(sys.argv[1], 0)" mnt/id_rsa
'

test_expect_success 'a visible .env.example can be edited' '
	echo "KEY=changed" >mnt/.env.example &&
	echo "KEY=changed" >expect &&
	test_cmp expect mnt/.env.example
'

test_expect_success 'nothing hidden reached the upper, the project is unchanged' '
	(cd "$WARD_UPPER" && find . -mindepth 1 | sort) >upper.list &&
	printf "%s\n" ./.env.example ./fresh >expect &&
	test_cmp expect upper.list &&
	tree_manifest $P >actual &&
	test_cmp project.manifest actual
'

test_expect_success 'unmount' '
	ward_umount
'

test_done
