#!/bin/bash
test_description='the base of a changed file: from the project index when clean, hashed in the background when large'
. "$(dirname "$0")/../lib/test-lib.sh"

# base_of PATH: the blob id the session recorded last as PATH's base
base_of() {
	tr '\0' '\n' <"$WARD_SDIR/store.git/wardfs-bases" |
		awk -v p="$1" '{ id = $1; m = $2; $1 = ""; $2 = "";
			sub(/^  /, ""); if ($0 == p) last = id " " m }
			END { print last }'
}

# loose PATH-ID: is the object in the store's own objects directory?
loose() {
	test -f "$WARD_SDIR/store.git/objects/${1:0:2}/${1:2}"
}

test_expect_success 'setup: a git project, one file dirty, one large file untracked' '
	(
		cd project &&
		git init -q &&
		git config user.name t && git config user.email t@example.com &&
		test_seq 1 30 >clean.txt &&
		test_seq 1 30 >dirty.txt &&
		test_seq 1 31 >touched.txt &&
		printf "#!/bin/sh\necho hi\n" >run.sh && chmod +x run.sh &&
		ln -s clean.txt link &&
		echo "/big.bin" >.gitignore &&
		git add -A && git commit -q -m base &&
		echo "dirty in the project" >>dirty.txt &&
		"$PYTHON" -c "import os,sys; sys.stdout.buffer.write(os.urandom(1 << 20))" >big.bin
	) &&
	# An index written strictly after the files (not racily clean).
	sleep 1 && git -C project reset -q &&
	# Same size, inode and mtime as the index says; only the ctime tells.
	touch -r project/touched.txt mtime.ref &&
	printf X | dd of=project/touched.txt conv=notrunc status=none &&
	touch -r mtime.ref project/touched.txt &&
	git hash-object --no-filters project/touched.txt >touched.id &&
	git hash-object --no-filters project/big.bin >big.id &&
	git hash-object --no-filters project/dirty.txt >dirty.id
'

test_expect_success 'a clean tracked file takes its base from the index, writing nothing' '
	ward_mount &&
	echo agent >>mnt/clean.txt &&
	echo agent >>mnt/run.sh &&
	id=$(git -C project rev-parse HEAD:clean.txt) &&
	test "$(base_of clean.txt)" = "$id 100644" &&
	test "$(base_of run.sh)" = "$(git -C project rev-parse HEAD:run.sh) 100755" &&
	! loose "$id" &&
	test_grep "project/.git/objects$" "$WARD_SDIR/store.git/objects/info/alternates"
'

test_expect_success 'a dirty tracked file is hashed from the project' '
	echo agent >>mnt/dirty.txt &&
	test "$(base_of dirty.txt)" = "$(cat dirty.id) 100644" &&
	loose "$(cat dirty.id)"
'

test_expect_success 'so is one changed in place with its size and mtime kept' '
	echo agent >>mnt/touched.txt &&
	test "$(base_of touched.txt)" = "$(cat touched.id) 100644" &&
	loose "$(cat touched.id)"
'

test_expect_success 'a symlink replaced by the agent has its target as base' '
	ln -sfn run.sh mnt/link &&
	test "$(base_of link)" = "$(git -C project rev-parse HEAD:link) 120000"
'

test_expect_success 'a large file: its base is hashed in the background, recorded by unmount' '
	dd if=/dev/zero of=mnt/big.bin bs=4096 count=1 seek=100 conv=notrunc status=none &&
	ward_umount &&
	test "$(base_of big.bin)" = "$(cat big.id) 100644" &&
	loose "$(cat big.id)"
'

test_expect_success 'the diff is against those bases' '
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	cat >expect <<-\EOF &&
	M	big.bin
	M	clean.txt
	M	dirty.txt
	M	link
	M	run.sh
	M	touched.txt
	EOF
	test_cmp expect ns &&
	"$WARDFS_BIN" diff "$WARD_SESSION" -- dirty.txt >d &&
	test_grep "^ dirty in the project$" d &&
	test_grep "^+agent$" d &&
	test "$(grep -c "^[-+][^-+]" d)" = 1
'

test_expect_success 'a project change meanwhile merges against the index base' '
	sed -i "s/^2$/two-project/" project/clean.txt &&
	"$WARDFS_BIN" accept "$WARD_SESSION" clean.txt >out &&
	test_grep "^merged   clean.txt" out &&
	test "$(sed -n 2p project/clean.txt)" = two-project &&
	test "$(tail -n 1 project/clean.txt)" = agent
'

test_expect_success 'the rest accepts cleanly and the large file is byte-exact' '
	ward_mount -s "$WARD_SESSION" &&
	cp mnt/big.bin big.expect &&
	ward_umount &&
	"$WARDFS_BIN" accept "$WARD_SESSION" >out &&
	cmp big.expect project/big.bin &&
	test "$(tail -n 1 project/run.sh)" = agent &&
	test "$(readlink project/link)" = run.sh
'

# The worker hashes a large base after the copy-up; if the project changes
# that file in place before it is done, the base is unknown: recorded as
# absent, so that accept reports a conflict instead of overwriting the
# project's edit.  64 MiB of random data take the worker seconds to
# deflate; the project's edit comes milliseconds after the agent's.
test_expect_success 'a large file the project edits while its base is hashed' '
	"$PYTHON" -c "import os,sys; sys.stdout.buffer.write(os.urandom(64 << 20))" >project/huge.bin &&
	ward_mount -s "$WARD_SESSION" &&
	printf agent | dd of=mnt/huge.bin bs=1 seek=10 conv=notrunc status=none &&
	printf project | dd of=project/huge.bin bs=1 seek=1000 conv=notrunc status=none &&
	ward_umount &&
	test "$(base_of huge.bin)" = "0000000000000000000000000000000000000000 000000" &&
	test_grep "huge.bin. changed in the project while its base was recorded" \
		"$WARD_OUT.err" &&
	test_expect_code 1 "$WARDFS_BIN" accept "$WARD_SESSION" huge.bin >out 2>err &&
	test_grep "^conflict huge.bin" err &&
	dd if=project/huge.bin bs=1 skip=1000 count=7 status=none >word &&
	test "$(cat word)" = project
'

test_done
