#!/bin/bash
test_description='[content] verdicts kept between mounts never show a file they should hide'
. "$(dirname "$0")/../lib/test-lib.sh"

# key_text: the text of a private key (the built-in [content] rule)
key_text() {
	printf -- "-----BEGIN OPENSSH PRIVATE KEY-----\nWARDCANARY\n-----END OPENSSH PRIVATE KEY-----\n"
}

# plain_text: the same size, nothing secret
plain_text() {
	key_text | tr 'A-Z' 'a-z' | sed 's/-/=/g'
}

cache_file() {
	ls "$WARDFS_HOME"/cache/content-* 2>/dev/null
}

test_expect_success 'setup: a key, a look-alike and ordinary files' '
	key_text >project/notes.txt &&
	plain_text >project/later.txt &&
	test "$(wc -c <project/notes.txt)" = "$(wc -c <project/later.txt)" &&
	echo "token SECRET-MARK-42" >project/token.txt &&
	echo hello >project/a.txt
'

test_expect_success 'the first mount hides the key and keeps its verdicts on unmount' '
	ward_mount &&
	ls mnt >listed &&
	! grep -qx notes.txt listed &&
	grep -qx later.txt listed &&
	ward_umount &&
	f=$(cache_file) &&
	test -n "$f" &&
	test "$(stat -c %a "$f")" = 600 &&
	test "$(stat -c %a "$WARDFS_HOME/cache")" = 700
'

test_expect_success 'a new session reads the kept verdicts: still hidden' '
	ward_mount &&
	test_must_fail cat mnt/notes.txt 2>err &&
	! ls mnt | grep -qx notes.txt &&
	ward_umount
'

test_expect_success 'a file made a key in place, size and mtime kept, is hidden at once' '
	touch -r project/later.txt mtime.ref &&
	key_text | dd of=project/later.txt conv=notrunc status=none &&
	touch -r mtime.ref project/later.txt &&
	ward_mount &&
	! ls mnt | grep -qx later.txt &&
	test_must_fail cat mnt/later.txt &&
	ward_umount
'

test_expect_success 'verdicts made under other patterns do not count' '
	ward_mount -o content.pattern=SECRET-MARK &&
	! ls mnt | grep -qx token.txt &&
	test_must_fail cat mnt/token.txt &&
	grep -q hello mnt/a.txt &&
	ward_umount
'

test_expect_success 'a damaged verdicts file is ignored' '
	f=$(cache_file) &&
	head -c 100 /dev/urandom >"$f" &&
	ward_mount &&
	! ls mnt | grep -qx notes.txt &&
	grep -qx a.txt <(ls mnt) &&
	ward_umount &&
	head -c 15 "$(cache_file)" | grep -q "^wardfs-content1"
'

test_expect_success 'a key the session writes itself stays visible to it' '
	ward_mount &&
	key_text >mnt/generated.txt &&
	ls mnt | grep -qx generated.txt &&
	cmp mnt/generated.txt - <<-EOF &&
	$(key_text)
	EOF
	cp mnt/generated.txt mnt/copy.txt &&
	ls mnt | grep -qx copy.txt &&
	! ls mnt | grep -qx notes.txt &&
	ward_umount
'

test_done
