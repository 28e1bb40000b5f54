# wardfs — one non-recursive Makefile.
#
#   make            build ./wardfs
#   make test       install missing Debian packages, build, run every test
#   make check      unit tests, header and layering checks (no mount, no root)
#   make asan       the test suite on an ASan+UBSan build
#   make demo       guard a demo project and show what the agent sees
#   make bench      benchmarks (not part of the tests)

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
DOCDIR = $(PREFIX)/share/doc/wardfs

CC ?= cc
PKGS = fuse3 libgit2 libpcre2-8 inih
SANITIZE ?=

ifeq ($(SANITIZE),)
BUILD = build
WARDFS = wardfs
else
BUILD = build-asan
WARDFS = $(BUILD)/wardfs
endif

WARNINGS = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wold-style-definition -Wpointer-arith \
	-Wwrite-strings -Wvla -Wswitch-enum -Wundef -fno-common

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -MMD -MP \
	$(WARNINGS) $(CFLAGS) $(PKG_CFLAGS) -I.
ALL_LDFLAGS = $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread

ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

RULES_SRC = $(wildcard rules/*.c)
FS_SRC = $(wildcard fs/*.c)
SNAPSHOT_SRC = $(wildcard snapshot/*.c)
CLI_SRC = $(wildcard cli/*.c)
LIB_SRC = $(RULES_SRC) $(FS_SRC) $(SNAPSHOT_SRC)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_T = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.t)

HEADERS = $(wildcard fs/fs.h rules/rules.h snapshot/snapshot.h cli/cli.h)

DEPS = $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_SRC:%.c=$(BUILD)/%.d)

.PHONY: all test check asan lint check-headers unit bench demo deps \
	install uninstall clean

all: $(WARDFS)

$(WARDFS): $(CLI_OBJ) $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%.t: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_OBJ) $(LIBS)

-include $(DEPS)

# Debian packages the build, the tests and the demo need.
deps:
	@sh tests/lib/deps.sh

unit: $(UNIT_T)

# Integration tests find the binary through WARDFS_BIN.
test: deps
	@$(MAKE) --no-print-directory all unit
	WARDFS_BIN=$(CURDIR)/$(WARDFS) WARDFS_UNIT_DIR=$(CURDIR)/$(BUILD)/tests/unit \
		prove -j2 --exec '' $(UNIT_T:%=./%) tests/t/t[0-9]*.sh

check: all unit check-headers lint
	prove --exec '' $(UNIT_T:%=./%)

asan:
	$(MAKE) --no-print-directory test SANITIZE=address,undefined

# Every public header compiles on its own.
check-headers:
	@for h in $(HEADERS); do \
		printf '#include "%s"\n' $$h | \
		$(CC) $(ALL_CFLAGS) -x c -fsyntax-only - || exit 1; \
	done; echo "headers ok"

# Nobody includes another module's internals; fs/ and snapshot/ stay apart.
lint:
	@sh tests/lib/lint.sh

bench: all
	@sh tests/bench/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh $(CURDIR)/$(WARDFS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions \
		$(DESTDIR)$(DOCDIR)/examples
	install -m 755 $(WARDFS) $(DESTDIR)$(BINDIR)/wardfs
	install -m 644 cli/wardfs.1 $(DESTDIR)$(MANDIR)/man1/wardfs.1
	install -m 644 cli/wardfs.ini.5 $(DESTDIR)$(MANDIR)/man5/wardfs.ini.5
	install -m 644 cli/completion/wardfs.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/wardfs
	install -m 644 cli/completion/_wardfs \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_wardfs
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 644 examples/*.ini $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/wardfs \
		$(DESTDIR)$(MANDIR)/man1/wardfs.1 \
		$(DESTDIR)$(MANDIR)/man5/wardfs.ini.5 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/wardfs \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_wardfs
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build build-asan wardfs

# The rules micro-benchmark: decisions per second for 100,000 paths
# against 200 rules (not part of the tests).
RULES_OBJ = $(RULES_SRC:%.c=$(BUILD)/%.o)

$(BUILD)/tests/bench/rules-bench: tests/bench/rules-bench.c $(RULES_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(RULES_OBJ) $(LIBS)

-include $(BUILD)/tests/bench/rules-bench.d

.PHONY: bench-rules
bench-rules: $(BUILD)/tests/bench/rules-bench
	./$(BUILD)/tests/bench/rules-bench
