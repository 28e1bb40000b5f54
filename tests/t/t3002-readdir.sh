#!/bin/bash
test_description='directory reading: no entry skipped or repeated while the directory changes, telldir/seekdir, cached listings stay true'
. "$(dirname "$0")/../lib/test-lib.sh"

test_expect_success 'setup: a project directory of 3,000 files' '
	mkdir project/big &&
	"$PYTHON" - project/big <<-\PY &&
	import os, sys
	for i in range(3000):
	    with open(os.path.join(sys.argv[1], "f%04d" % i), "w") as f:
	        f.write("%d\n" % i)
	PY
	ward_mount &&
	# Half of them copied up or replaced by the session.
	for i in $(seq 0 2 40); do echo x >>mnt/big/f$(printf %04d $i); done &&
	for i in $(seq 3000 3099); do echo new >mnt/big/f$i; done
'

test_expect_success 'every name is listed once, lower and upper merged' '
	ls -f mnt/big | grep -v "^\.\.\?$" | sort >listed &&
	test_line_count = 3100 listed &&
	sort -u listed >unique &&
	test_cmp listed unique
'

test_expect_success 'deleting each entry as it is read leaves nothing behind' '
	"$PYTHON" - mnt/big <<-\PY &&
	import os, sys
	d = sys.argv[1]
	seen = 0
	with os.scandir(d) as it:
	    for e in it:
	        os.unlink(os.path.join(d, e.name))
	        seen += 1
	print(seen)
	left = os.listdir(d)
	assert not left, left[:5]
	assert seen == 3100, seen
	PY
	rmdir mnt/big &&
	test_path_is_missing mnt/big &&
	test_path_is_dir project/big
'

test_expect_success 'creating entries while reading repeats none of the others' '
	mkdir mnt/grow &&
	for i in $(seq 1 500); do : >mnt/grow/a$i; done &&
	"$PYTHON" - mnt/grow <<-\PY
	import os, sys
	d = sys.argv[1]
	names = []
	with os.scandir(d) as it:
	    for n, e in enumerate(it):
	        names.append(e.name)
	        if n % 10 == 0:
	            open(os.path.join(d, "b%d" % n), "w").close()
	olds = [x for x in names if x.startswith("a")]
	assert len(olds) == 500 and len(set(olds)) == 500, len(olds)
	assert len(names) == len(set(names))
	PY
'

test_expect_success 'telldir and seekdir return to the same place' '
	perl -e '\''
		opendir(my $d, $ARGV[0]) or die "opendir: $!";
		my @head; push @head, scalar readdir($d) for 1 .. 100;
		my $pos = telldir($d);
		my @rest1 = readdir($d);
		seekdir($d, $pos);
		my @rest2 = readdir($d);
		die "differ" unless "@rest1" eq "@rest2";
		die "short" unless @rest1 + 100 == 500 + 50 + 2;
	'\'' mnt/grow
'

test_expect_success 'a cached listing shows later changes at once' '
	ls mnt/grow >/dev/null &&
	: >mnt/grow/late &&
	ls mnt/grow | grep -qx late &&
	rm mnt/grow/a1 &&
	! ls mnt/grow | grep -qx a1 &&
	mv mnt/grow/a2 mnt/grow/renamed &&
	ls mnt/grow >after &&
	grep -qx renamed after &&
	! grep -qx a2 after
'

test_expect_success 'the merged listing is the same after unmount and resume' '
	ward_umount &&
	ward_mount -s "$WARD_SESSION" &&
	test_path_is_missing mnt/big &&
	ls mnt/grow | grep -qx renamed &&
	ward_umount
'

test_done
