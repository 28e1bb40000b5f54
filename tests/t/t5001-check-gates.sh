#!/bin/bash
test_description='wardfs check: each review gate fires on a planted example, not on a harmless one'
. "$(dirname "$0")/../lib/test-lib.sh"

test_expect_success 'setup' '
	mkdir -p project/src project/.github/workflows &&
	echo "print(1)" >project/src/app.py &&
	echo "on: push" >project/.github/workflows/ci.yml &&
	for i in $(test_seq 1 60); do echo "$i" >project/src/f$i.txt; done &&
	ward_mount
'

test_expect_success 'harmless changes find nothing' '
	echo "x = 1  # token count" >>mnt/src/app.py &&
	echo "password = input()" >>mnt/src/app.py &&
	echo "# notes" >mnt/README.md &&
	echo "EXAMPLE=" >mnt/.env.example &&
	ln -s src/app.py mnt/app-link &&
	"$WARDFS_BIN" check "$WARD_SESSION" >out &&
	test_file_is_empty out
'

check_finds() {
	test_expect_code 1 "$WARDFS_BIN" check "$WARD_SESSION" >out &&
	test_grep "$1" out
}

test_expect_success 'secrets in added lines' '
	echo "aws = AKIAABCDEFGHIJKLMNOP" >mnt/src/aws.py &&
	check_finds "^src/aws.py:1: secret: added line holds an AWS access key id$" &&
	printf "a\n-----BEGIN OPENSSH PRIVATE KEY-----\n" >mnt/src/k.txt &&
	check_finds "^src/k.txt:2: secret: added line holds a private key block$" &&
	echo "api_key: \"abcdef123456\"" >mnt/src/conf.yml &&
	check_finds "^src/conf.yml:1: secret: .*password or token" &&
	echo "t = ghp_abcdefghijklmnopqrstuvwxyz0123456789" >mnt/src/gh.py &&
	check_finds "^src/gh.py:1: secret: added line holds a GitHub token$" &&
	! grep -q "AKIAABCDEFGHIJKLMNOP" out &&
	rm mnt/src/aws.py mnt/src/k.txt mnt/src/conf.yml mnt/src/gh.py
'

test_expect_success 'a [gates] secret pattern from the user config' '
	mkdir -p .config/wardfs &&
	printf "[gates]\nsecret = CORP-[0-9]{6}\n" >.config/wardfs/config.ini &&
	echo "id CORP-123456" >mnt/src/corp.txt &&
	check_finds "^src/corp.txt:1: secret: .*\\[gates\\] secret" &&
	rm mnt/src/corp.txt .config/wardfs/config.ini
'

test_expect_success 'new .env-like files' '
	echo "X=1" >mnt/src/.env.local 2>/dev/null ||
	echo "X=1" >mnt/src/prod.env &&
	test_expect_code 1 "$WARDFS_BIN" check "$WARD_SESSION" >out &&
	grep -E ": env-file: a new .env-like file" out &&
	rm -f mnt/src/.env.local mnt/src/prod.env
'

test_expect_success 'files that run code or steer agents' '
	for f in AGENTS.md CLAUDE.md .envrc .mcp.json .vscode/tasks.json \
		.claude/settings.json .gitmodules .bashrc; do
		mkdir -p "mnt/$(dirname "$f")" &&
		echo x >"mnt/$f" &&
		check_finds "^$f:0: exec-config: " &&
		rm "mnt/$f" || return 1
	done
'

test_expect_success 'new executable files and files made executable' '
	printf "#!/bin/sh\n" >mnt/run.sh && chmod +x mnt/run.sh &&
	check_finds "^run.sh:0: executable: new executable file$" &&
	rm mnt/run.sh &&
	chmod +x mnt/src/app.py &&
	check_finds "^src/app.py:0: executable: file made executable$" &&
	chmod -x mnt/src/app.py
'

test_expect_success 'symlinks pointing outside the project' '
	ln -s /etc/passwd mnt/abs &&
	check_finds "^abs:0: symlink: symlink to the absolute path ./etc/passwd." &&
	rm mnt/abs &&
	ln -s ../../outside mnt/src/up &&
	check_finds "^src/up:0: symlink: symlink to .../../outside., outside" &&
	rm mnt/src/up
'

test_expect_success 'mass deletions' '
	rm mnt/src/f1.txt mnt/src/f2.txt &&
	"$WARDFS_BIN" check "$WARD_SESSION" >out &&
	rm mnt/src/f*.txt &&
	check_finds "^\\.:0: mass-deletion: 60 files deleted"
'

test_expect_success 'accept refuses with the findings, --force goes on' '
	ward_umount &&
	test_expect_code 1 "$WARDFS_BIN" accept "$WARD_SESSION" >out 2>err &&
	test_grep "mass-deletion" err &&
	test_grep "refusing to accept" err &&
	test_path_is_file project/src/f1.txt &&
	"$WARDFS_BIN" accept --force "$WARD_SESSION" >out &&
	test_path_is_missing project/src/f1.txt
'

test_done
