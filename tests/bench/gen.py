#!/usr/bin/env python3
"""gen.py - fixtures for tests/bench/run.sh (not a test).

    gen.py tree DIR NFILES        a synthetic source tree (--quick)
    gen.py cbuild DIR NTU         NTU translation units, a header, a Makefile
    gen.py lists LOWER OUT NEDIT NAPPEND NCHMOD NEXTRACT
                                  path lists picked from LOWER's git index
    gen.py stat LIST N            lstat N paths of LIST (cycling); a missing
                                  path (hidden by the policy) is counted

Everything is deterministic (fixed seed), so two runs of the bench see the
same fixtures.
"""
import os
import random
import subprocess
import sys

WORDS = ["core", "net", "fs", "mm", "io", "dev", "bus", "irq", "dma", "pci",
         "usb", "phy", "clk", "gpio", "spi", "i2c", "tty", "crypto", "lib",
         "sched", "time", "power", "sound", "video", "block", "init"]


def c_body(rnd, name, nfuncs):
    out = ["/* SPDX-License-Identifier: GPL-2.0 */",
           "/* %s - generated for the wardfs bench */" % name,
           "#include <linux/types.h>", ""]
    for i in range(nfuncs):
        w = rnd.choice(WORDS)
        if rnd.random() < 0.3:
            out.append("static inline int %s_%s_%d(int x)" % (name, w, i))
        else:
            out.append("int %s_%s_%d(int x, const char *s)" % (name, w, i))
        out.append("{")
        for j in range(rnd.randint(2, 12)):
            out.append("\tx = x * %d + %d; /* %s step %d */" %
                       (rnd.randint(2, 97), j, w, j))
        out.append("\treturn x;")
        out.append("}")
        out.append("")
    return "\n".join(out) + "\n"


def cmd_tree(root, nfiles):
    rnd = random.Random(6100)
    made = 0
    top = ["kernel", "lib", "mm", "fs", "net", "drivers", "include",
           "crypto", "block", "sound"]
    while made < nfiles:
        t = top[made % len(top)]
        sub = "%s/%s%d" % (t, rnd.choice(WORDS), rnd.randint(0, 24))
        d = os.path.join(root, sub)
        os.makedirs(d, exist_ok=True)
        for _ in range(rnd.randint(5, 40)):
            if made >= nfiles:
                break
            ext = ".h" if rnd.random() < 0.2 else ".c"
            name = "%s_%d" % (rnd.choice(WORDS), made)
            with open(os.path.join(d, name + ext), "w") as f:
                f.write(c_body(rnd, name, rnd.randint(2, 40)))
            made += 1
    with open(os.path.join(root, "README"), "w") as f:
        f.write("synthetic tree for the wardfs bench (--quick)\n")


TU = """/* tu%(i)d.c - generated for the wardfs bench C build */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

%(funcs)s
int tu%(i)d_main(int argc, char **argv)
{
	long acc = 0;
%(calls)s
	return (int)(acc & 0x7f);
}
"""

FUNC = """static long tu%(i)d_f%(j)d(const char *s, long n)
{
	struct bench_item items[16];
	long acc = n;
	size_t k;

	memset(items, 0, sizeof(items));
	for (k = 0; k < 16; k++) {
		items[k].id = (int)(k * %(m)d + n);
		snprintf(items[k].name, sizeof(items[k].name), "%%s-%%zu", s, k);
		acc += bench_mix(items[k].id, (long)strlen(items[k].name));
	}
	qsort(items, 16, sizeof(items[0]), bench_cmp);
	for (k = 0; k < 16; k++)
		acc ^= items[k].id << (k %% 7);
	return acc;
}
"""

COMMON = """#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
struct bench_item {
	int id;
	char name[32];
};

static inline long bench_mix(long a, long b)
{
	a ^= b + 0x9e3779b97f4a7c15L + (a << 6) + (a >> 2);
	return a;
}

static inline int bench_cmp(const void *a, const void *b)
{
	const struct bench_item *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}
#endif
"""

MAKEFILE = """# generated for the wardfs bench: objects only, no link
CFLAGS = -O2 -g -Wall
SRCS = $(wildcard tu*.c)
OBJS = $(SRCS:.c=.o)

all: $(OBJS)

%.o: %.c common.h
\t$(CC) $(CFLAGS) -c -o $@ $<

clean:
\trm -f $(OBJS)
"""


def cmd_cbuild(root, ntu):
    os.makedirs(root, exist_ok=True)
    for i in range(ntu):
        funcs = "".join(FUNC % {"i": i, "j": j, "m": j + 3}
                        for j in range(4))
        calls = "".join('\tacc += tu%d_f%d(argc ? argv[0] : "x", %d);\n' %
                        (i, j, j) for j in range(4))
        with open(os.path.join(root, "tu%d.c" % i), "w") as f:
            f.write(TU % {"i": i, "funcs": funcs, "calls": calls})
    with open(os.path.join(root, "common.h"), "w") as f:
        f.write(COMMON)
    with open(os.path.join(root, "Makefile"), "w") as f:
        f.write(MAKEFILE)


def spread(paths, n):
    """n paths spread evenly over the sorted list (every k-th)."""
    if n >= len(paths):
        return list(paths)
    step = len(paths) / n
    return [paths[int(i * step)] for i in range(n)]


def cmd_lists(lower, out, nedit, nappend, nchmod, nextract):
    ls = subprocess.run(["git", "-C", lower, "ls-files", "-s", "-z"],
                        check=True, stdout=subprocess.PIPE).stdout
    files = []
    for rec in ls.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        if meta.split()[0] != b"100644":
            continue
        p = path.decode("utf-8", "surrogateescape")
        if "\n" in p or not os.path.getsize(os.path.join(lower, p)):
            continue
        files.append(p)
    files.sort()
    os.makedirs(out, exist_ok=True)

    def write(name, paths):
        with open(os.path.join(out, name), "w") as f:
            f.write("".join(p + "\n" for p in paths))

    write("edit.list", spread(files, nedit))
    write("append.list", spread(files, nappend))
    write("chmod.list", spread(files, nchmod))
    write("extract.list", files[:nextract])
    allpaths = []
    for d, dirs, fs in os.walk(lower):
        if d == lower and ".git" in dirs:
            dirs.remove(".git")
        dirs.sort()
        rel = os.path.relpath(d, lower)
        for name in sorted(dirs) + sorted(fs):
            allpaths.append(os.path.normpath(os.path.join(rel, name)))
    write("stat.list", allpaths)


def cmd_stat(listfile, n):
    with open(listfile) as f:
        paths = f.read().splitlines()
    if not paths:
        sys.exit("gen.py stat: empty path list")
    lstat = os.lstat
    done = missing = 0
    while done < n:
        for p in paths[:n - done]:
            try:
                lstat(p)
            except FileNotFoundError:  # hidden by the policy
                missing += 1
        done += min(len(paths), n - done)
    print("%d paths, %d missing" % (done, missing))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "tree" and len(args) == 2:
        cmd_tree(args[0], int(args[1]))
    elif cmd == "cbuild" and len(args) == 2:
        cmd_cbuild(args[0], int(args[1]))
    elif cmd == "lists" and len(args) == 6:
        cmd_lists(args[0], args[1], *map(int, args[2:]))
    elif cmd == "stat" and len(args) == 2:
        cmd_stat(args[0], int(args[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
