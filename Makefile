# SPDX-License-Identifier: GPL-2.0
#
# prr top-level Makefile.
#
#   make                 module (against KDIR) + prrctl + selftest programs
#   make KDIR=/lib/modules/<release>/build
#   make test            everything, then the selftests in a VM per kernel
#                        and the seed testbed (make testbed) beside them
#   make demo            the testbed demonstration in a VM
#   make test-debug      the selftests and a kmemleak scan on a KASAN/lockdep
#                        kernel built from linux-source (docs/debug-kernel.md)
#   make testbed         the seed draft's twelve BitTorrent tests through prr
#                        in a VM (6.1), both configurations; prints the
#                        tables, writes docs/seed-reproduction.md
#                        (PRR_LOCAL_KO=1: this checkout's module, no dkms)
#   make unit            userspace unit tests of the table and classifier
#   make fuzz            libFuzzer run of the classifier (FUZZ_SECONDS=60)
#   make bench           benchmarks: the table's lookup (userspace), then
#                        forwarding in a VM; report in docs/benchmarks.md
#   make check           checkpatch --strict, sparse (C=2) on both kernels,
#                        the YNL spec and the man page/completion checks
#   make install         prrctl, its man page and bash completion
#   make dkms-install    install the sources into dkms and build for every
#                        kernel whose headers are installed

VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
# The running kernel's headers when present, else the newest installed ones.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
		    $(lastword $(sort $(wildcard /lib/modules/*/build))))
# Every kernel with headers installed (tests and checks cover each).
KRELEASES := $(notdir $(patsubst %/build,%,$(sort $(wildcard /lib/modules/*/build))))
BUILD := $(CURDIR)/build
KSRC_TAR := $(lastword $(sort $(wildcard /usr/src/linux-source-*.tar.xz)))
KSELFTEST := $(BUILD)/kselftest

KMOD_SRCS := $(wildcard kmod/*.c kmod/*.h kmod/compat/*) Kbuild dkms.conf \
	     include/uapi/linux/prr.h

.PHONY: all module prrctl selftests unit fuzz bench bench-lookup bench-fwd \
	test demo check checkpatch sparse spec docs install testbed \
	testbed-settings dkms-install dkms-uninstall modules-all clean \
	kselftest-headers test-debug

all: module prrctl selftests

module:
	@test -n "$(KDIR)" || { echo "no kernel headers found: apt-get install linux-headers-amd64, or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

prrctl:
	$(MAKE) -C tools/prrctl

# kselftest.h and kselftest_harness.h come from Debian's linux-source package
# at build time; they are not part of this repository.
$(KSELFTEST)/kselftest_harness.h:
	@test -n "$(KSRC_TAR)" || { echo "linux-source-6.1 is not installed: run tools/setup.sh" >&2; exit 1; }
	mkdir -p $(KSELFTEST)
	tar -xJf $(KSRC_TAR) -C $(KSELFTEST) --strip-components=4 --wildcards \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h'
	touch $@

kselftest-headers: $(KSELFTEST)/kselftest_harness.h

selftests: kselftest-headers
	$(MAKE) -C selftests KSELFTEST=$(KSELFTEST)

unit:
	$(MAKE) -C tests/unit run

FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -C tests/fuzz run FUZZ_SECONDS=$(FUZZ_SECONDS)

# Ratios measured side by side in one run; not part of the tests' verdict
# (the machines are noisy), but a smoke run of each is.  One after the other,
# never in parallel.
bench:
	$(MAKE) bench-lookup
	$(MAKE) bench-fwd

bench-lookup:
	$(MAKE) -C tests/bench run

# pktgen in a VM (this checkout's module, never the dkms one), about 15 min;
# PRR_BENCH_* (tests/bench/fwd/guest.sh) sets rounds, durations and sizes.
bench-fwd: modules-all prrctl
	tests/bench/fwd/fwd_bench.sh

# Builds the module for every installed kernel, each in its own copy of the
# tree so that objects of one kernel never leak into another's build.
# MODULES_KDIR: the kernel tree of release $r (test-debug overrides it).
MODULES_KDIR = /lib/modules/$$r/build
modules-all:
	@for r in $(KRELEASES); do \
		d=$(BUILD)/kmod/$$r; mkdir -p $$d; \
		tar -cf - $(KMOD_SRCS) | tar -xf - -C $$d || exit 1; \
		$(MAKE) -C $(MODULES_KDIR) M=$$d modules $(KBUILD_EXTRA) || exit 1; \
	done

dkms-install:
	rm -rf /usr/src/prr-$(VERSION)
	mkdir -p /usr/src/prr-$(VERSION)
	tar -cf - $(KMOD_SRCS) | tar -xf - -C /usr/src/prr-$(VERSION)
	-dkms remove prr/$(VERSION) --all >/dev/null 2>&1
	dkms add prr/$(VERSION)
	@for r in $(KRELEASES); do \
		dkms install prr/$(VERSION) -k $$r || exit 1; \
	done

dkms-uninstall:
	-dkms remove prr/$(VERSION) --all
	rm -rf /usr/src/prr-$(VERSION)

test: all dkms-install
	selftests/run-all.sh

# The debug kernel (KASAN, kmemleak, lockdep; selftests/debug.config) is
# built once into DEBUG_CACHE, outside the repository (long on 2 cores: see
# docs/debug-kernel.md); prr is built against it into build/kmod/KREL and
# loaded from there, the dkms module is not touched.
DEBUG_CACHE ?= /var/cache/prr-debug-kernel
test-debug: prrctl selftests
	selftests/debug/build-kernel.sh $(DEBUG_CACHE)
	$(MAKE) modules-all KRELEASES="$$(cat $(DEBUG_CACHE)/krel)" \
		MODULES_KDIR=$(DEBUG_CACHE)/linux-source-6.1
	selftests/debug/run-debug.sh $(DEBUG_CACHE)

demo: all dkms-install
	selftests/vm/run.sh $(firstword $(KRELEASES)) tools/demo.sh

# The seed draft's BitTorrent tests (selftests/testbed/) on the 6.1 kernel.
# The guest writes build/testbed/ and docs/seed-reproduction.md.
TESTBED_KREL ?= $(firstword $(filter 6.1.%,$(KRELEASES)) $(KRELEASES))
testbed: testbed-settings all \
	 $(if $(filter 1,$(PRR_LOCAL_KO)),modules-all,dkms-install)
	@rm -f $(BUILD)/testbed/tables.txt; mkdir -p $(BUILD)/testbed
	@rc=0; log=$(BUILD)/testbed/run.log; selftests/vm/run.sh $(TESTBED_KREL) \
		selftests/testbed/guest-testbed.sh > $$log 2>&1 || rc=$$?; \
	grep -E '^(not )?ok |^# (rate|retried|agent restarted|campaign)' $$log; \
	echo; cat $(BUILD)/testbed/tables.txt 2>/dev/null || \
		{ echo "no tables: see build/testbed/run.log" >&2; tail -n 30 $$log; }; \
	echo "(KTAP: build/testbed/results.ktap; report: docs/seed-reproduction.md)"; \
	exit $$rc

# PRR_BT_* refused before anything is built or installed.
testbed-settings:
	@bash selftests/testbed/guest-testbed.sh --check-settings

# checkpatch.pl and its data files also come from linux-source.
CHECKPATCH := $(BUILD)/checkpatch/scripts/checkpatch.pl
$(CHECKPATCH):
	mkdir -p $(BUILD)/checkpatch
	tar -xJf $(KSRC_TAR) -C $(BUILD)/checkpatch --strip-components=1 \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	touch $@

checkpatch: $(CHECKPATCH)
	$(CHECKPATCH) --no-tree --strict --quiet --show-types \
		-f \
		$(wildcard kmod/*.c kmod/*.h kmod/compat/*.h include/uapi/linux/*.h \
			   tools/prrctl/*.c tools/prrctl/*.h selftests/*.c tests/unit/*.c \
			   tests/fuzz/*.c tests/bench/*.c)

# Every file checked on every kernel; any warning in our sources fails.
sparse:
	@mkdir -p $(BUILD)
	@$(MAKE) modules-all KBUILD_EXTRA="C=2 CHECK=sparse" > $(BUILD)/sparse.log 2>&1 || \
		{ cat $(BUILD)/sparse.log; exit 1; }
	@! grep -E '(kmod|include)/.*: (warning|error):' $(BUILD)/sparse.log
	@echo "sparse: $$(grep -c ' CHECK ' $(BUILD)/sparse.log) files checked, no warnings"

# spec/prr.yaml (YNL) against include/uapi/linux/prr.h and kmod/netlink.c.
spec:
	@mkdir -p $(BUILD)
	@python3 tests/spec/check_spec.py $(CURDIR) > $(BUILD)/spec.ktap || \
		{ cat $(BUILD)/spec.ktap; exit 1; }
	@tail -n 1 $(BUILD)/spec.ktap

# The man page and the completion know every command of "prrctl help".
docs: prrctl
	@mkdir -p $(BUILD)
	@tests/spec/check_docs.sh $(CURDIR) > $(BUILD)/docs.ktap || \
		{ cat $(BUILD)/docs.ktap; exit 1; }
	@tail -n 1 $(BUILD)/docs.ktap

check: checkpatch sparse spec docs

# prrctl, its man page and bash completion (DESTDIR and PREFIX as usual).
PREFIX ?= /usr/local
install: prrctl
	install -D -m 0755 tools/prrctl/prrctl $(DESTDIR)$(PREFIX)/sbin/prrctl
	install -D -m 0644 tools/man/prrctl.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/prrctl.8
	install -D -m 0644 tools/completion/prrctl \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/prrctl

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C tools/prrctl clean
	-$(MAKE) -C selftests clean
	-$(MAKE) -C tests/unit clean
	rm -rf $(BUILD)
