# ngx_feed_module
#
#   make run     install packages (hls.js from npm), build, make demo
#                media, start nginx with the For You page
#   make test    install packages and the browser stack, build, make demo
#                media, run the unit and Test::Nginx suites
#
# Everything is built under build/; nothing is written elsewhere except
# the Debian packages that `make deps`, `make node-deps` and
# `make browser-deps` install (and npm's own cache).

SHELL        := /bin/bash
NGINX_BIN    ?= /usr/sbin/nginx
NGINX_SRC    ?= /usr/share/nginx/src
BUILD        := $(CURDIR)/build
CC           ?= cc

PACKAGES     := build-essential nginx nginx-dev libjansson-dev \
                libluajit2-5.1-dev libssl-dev libpcre2-dev zlib1g-dev \
                ffmpeg fonts-dejavu-core wrk curl python3 \
                clang libclang-rt-14-dev \
                libtest-base-perl libtest-longstring-perl libtext-diff-perl \
                liblist-moreutils-perl libhttp-message-perl libwww-perl

MODULE_CFLAGS := -g -O2 -fPIC -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
                 -Wformat -Werror=format-security -Wdeclaration-after-statement
ASAN_CFLAGS   := -g -O1 -fPIC -fno-omit-frame-pointer \
                 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                 -Wdeclaration-after-statement

CORE_SRCS    := $(wildcard ngx_feed_module/core/*.c)
CORE_HDRS    := $(wildcard ngx_feed_module/core/*.h)
GLUE_SRCS    := $(wildcard ngx_feed_module/*.c ngx_feed_module/*.h)
UNIT_SRCS    := $(wildcard ngx_feed_module/core/test/*.c)
UNIT_HDRS    := $(wildcard ngx_feed_module/core/test/*.h)
UNIT_CFLAGS  := -std=gnu99 -g -O2 -Wall -Wextra -Werror \
                -Wdeclaration-after-statement -Ingx_feed_module/core
UNIT_LIBS    := -ljansson -lcrypto -lm -lpthread

PROVE_INC    := $(shell perl -MTest::Nginx::Socket -e1 2>/dev/null \
                    || echo "-I tools/test-nginx/lib")

.PHONY: all deps node-deps browser-deps build build-asan unit unit-asan \
        fixtures test test-asan test-nginx test-runner run demo-media \
        demo-prefix bench bench-media bench-catalog bench-cache bench-rank \
        clean

all: build

# Packages: installed once, skipped when already there (CI starts fresh).

deps: $(BUILD)/.deps

$(BUILD)/.deps: Makefile
	@mkdir -p $(BUILD)
	@if ! dpkg -s $(PACKAGES) >/dev/null 2>&1; then \
	    echo "installing packages: $(PACKAGES)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && \
	    apt-get install -y -qq --no-install-recommends $(PACKAGES) \
	        >$(BUILD)/apt.log 2>&1 \
	    || { tail -20 $(BUILD)/apt.log; exit 1; }; \
	fi
	@touch $@

# The npm packages, the exact versions locked in t/browser/ (hls.js for
# the demo page and the browser tests, playwright-core for the tests)
# installed under build/node/, with Debian's Node.js and npm only when no
# node and npm are on PATH (a Node.js from elsewhere brings its own npm,
# which Debian's would conflict with).  The browser tests also need
# Debian's Chromium.

BROWSER_PACKAGES := chromium
NODE_DIR         := $(BUILD)/node

node-deps: $(BUILD)/.node-deps

$(BUILD)/.node-deps: Makefile t/browser/package.json \
        t/browser/package-lock.json | $(BUILD)/.deps
	@mkdir -p $(NODE_DIR)
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	    echo "installing packages: nodejs npm"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && \
	    apt-get install -y -qq --no-install-recommends nodejs npm \
	        >$(BUILD)/apt-node.log 2>&1 \
	    || { tail -20 $(BUILD)/apt-node.log; exit 1; }; \
	fi
	@cp t/browser/package.json t/browser/package-lock.json $(NODE_DIR)/
	@cd $(NODE_DIR) && npm ci --ignore-scripts --no-audit --no-fund \
	    >$(NODE_DIR)/npm.log 2>&1 \
	    || { tail -20 $(NODE_DIR)/npm.log; exit 1; }
	@touch $@

browser-deps: $(BUILD)/.browser-deps

$(BUILD)/.browser-deps: Makefile $(BUILD)/.node-deps
	@if ! dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1; then \
	    echo "installing packages: $(BROWSER_PACKAGES)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && \
	    apt-get install -y -qq --no-install-recommends \
	        $(BROWSER_PACKAGES) >$(BUILD)/apt-browser.log 2>&1 \
	    || { tail -20 $(BUILD)/apt-browser.log; exit 1; }; \
	fi
	@touch $@

# The module: configured once against Debian's nginx-dev, rebuilt when a
# source changes.  The nginx source tree is copied so that configure
# writes nothing outside build/.  The .so is renamed into place, never
# rewritten, so a running nginx that has it mapped does not crash.

build: deps $(BUILD)/ngx_http_feed_module.so

build-asan: deps $(BUILD)/asan/ngx_http_feed_module.so

define nginx_module
$(1)/ngx_http_feed_module.so: $(BUILD)/.deps config $(CORE_SRCS) \
        $(CORE_HDRS) $(GLUE_SRCS)
	@mkdir -p $(1)
	@if [ ! -f $(1)/nginx/Makefile ] || [ config -nt $(1)/nginx/Makefile ] \
	    || [ "$$$$(cat $(1)/cc-opt 2>/dev/null)" != "$(2)" ]; \
	then \
	    rm -rf $(1)/src && cp -r $(NGINX_SRC) $(1)/src && \
	    cd $(1)/src && . ./conf_flags && \
	    ./configure --with-cc-opt="$(2)" --with-ld-opt="$(3)" \
	        "$$$${NGX_CONF_FLAGS[@]}" \
	        --add-dynamic-module=$(CURDIR) --builddir=$(1)/nginx \
	        >$(1)/configure.log 2>&1 \
	    || { tail -30 $(1)/configure.log; exit 1; }; \
	    echo "$(2)" >$(1)/cc-opt; \
	fi
	$$(MAKE) -s -f $(1)/nginx/Makefile -C $(1)/src modules
	@cp $(1)/nginx/ngx_http_feed_module.so $$@.tmp && mv -f $$@.tmp $$@
	@echo "built $$@"
endef

$(eval $(call nginx_module,$(BUILD),$(MODULE_CFLAGS),-fPIC))
$(eval $(call nginx_module,$(BUILD)/asan,$(ASAN_CFLAGS),-fPIC -fsanitize=address,undefined))

# Unit tests of the pure-C core: no nginx involved.

$(BUILD)/unit: $(CORE_SRCS) $(CORE_HDRS) $(UNIT_SRCS) $(UNIT_HDRS) \
        | $(BUILD)/.deps
	$(CC) $(UNIT_CFLAGS) -o $@ $(UNIT_SRCS) $(CORE_SRCS) $(UNIT_LIBS)

$(BUILD)/unit-asan: $(CORE_SRCS) $(CORE_HDRS) $(UNIT_SRCS) $(UNIT_HDRS) \
        | $(BUILD)/.deps
	$(CC) $(UNIT_CFLAGS) -O1 -fno-omit-frame-pointer \
	    -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $(UNIT_SRCS) $(CORE_SRCS) $(UNIT_LIBS)

unit: $(BUILD)/unit
	@$(BUILD)/unit | tee $(BUILD)/unit.log; exit $${PIPESTATUS[0]}

unit-asan: $(BUILD)/unit-asan
	@$(BUILD)/unit-asan | tee $(BUILD)/unit.log; exit $${PIPESTATUS[0]}

fixtures: deps
	@tools/make-fixtures t/fixtures

# Test::Nginx: the real one when installed, else the bundled runner.

test-nginx:
	@TEST_NGINX_BINARY=$(NGINX_BIN) \
	 TEST_NGINX_LOAD_MODULES=$(TEST_MODULE) \
	 prove $(PROVE_INC) -r t 2>&1 | tee $(BUILD)/prove.log; \
	 exit $${PIPESTATUS[0]}

# The bundled runner's own tests, when it is the one in use.

test-runner:
	@rm -f $(BUILD)/prove-runner.log
	@if [ -n "$(PROVE_INC)" ]; then \
	    TEST_NGINX_BINARY=$(NGINX_BIN) prove $(PROVE_INC) \
	        tools/test-nginx/selftest 2>&1 | tee $(BUILD)/prove-runner.log; \
	    exit $${PIPESTATUS[0]}; \
	fi

# One closing line for the whole run: every count comes from a log of
# this run, so a step that ran no test shows as 0.

test: build unit fixtures browser-deps demo-media
	@$(MAKE) -s fuzz-smoke 2>&1 | tee $(BUILD)/fuzz.log; \
	    exit $${PIPESTATUS[0]}
	@$(MAKE) -s test-runner
	@$(MAKE) -s test-nginx TEST_MODULE=$(BUILD)/ngx_http_feed_module.so
	@tools/test-summary $(BUILD)/unit.log $(BUILD)/fuzz.log \
	    $(BUILD)/prove-runner.log $(BUILD)/prove.log

# nginx itself is not instrumented: a wrapper preloads the sanitizer
# runtime into nginx alone, not into the test runner.

$(BUILD)/asan/nginx-asan: | $(BUILD)/.deps
	@mkdir -p $(BUILD)/asan
	@printf '%s\n' '#!/bin/sh' \
	    'export ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}' \
	    'export UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}' \
	    'export LD_PRELOAD="$(shell $(CC) -print-file-name=libasan.so) $(shell $(CC) -print-file-name=libubsan.so)"' \
	    'exec $(NGINX_BIN) "$$@"' >$@
	@chmod +x $@

test-asan: build-asan unit-asan fixtures browser-deps demo-media \
        $(BUILD)/asan/nginx-asan
	@$(MAKE) -s test-nginx NGINX_BIN=$(BUILD)/asan/nginx-asan \
	     TEST_MODULE=$(BUILD)/asan/ngx_http_feed_module.so
	@tools/test-summary $(BUILD)/unit.log $(BUILD)/prove.log

# The suite with nginx under valgrind's memcheck (TEST_NGINX_USE_VALGRIND,
# which the real Test::Nginx knows too): every nginx process writes a log
# under build/valgrind/, and tools/valgrind-report fails the run on any
# error or definite leak whose stack passes through the module.  Slow:
# about half an hour.

.PHONY: test-valgrind

test-valgrind: build fixtures browser-deps demo-media
	@command -v valgrind >/dev/null || { \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq --no-install-recommends valgrind \
	        >$(BUILD)/apt-valgrind.log 2>&1 \
	    || { tail -20 $(BUILD)/apt-valgrind.log; exit 1; }; }
	@rm -rf $(BUILD)/valgrind && mkdir -p $(BUILD)/valgrind
	@TEST_NGINX_USE_VALGRIND=1 FEED_VALGRIND_LOGS=$(BUILD)/valgrind \
	    $(MAKE) -s test-nginx TEST_MODULE=$(BUILD)/ngx_http_feed_module.so; \
	    rc=$$?; tools/valgrind-report $(BUILD)/valgrind \
	        >$(BUILD)/valgrind-report.txt; vrc=$$?; \
	    tail -1 $(BUILD)/valgrind-report.txt; \
	    tools/test-summary $(BUILD)/prove.log; \
	    [ $$rc = 0 ] && [ $$vrc = 0 ]

# The demo: media made once and cached under build/demo/, the prefix of
# conf/demo.conf, where the page (demo/www/), hls.js and conf/ are linked
# in (so that `nginx -p build/demo/ -c conf/demo.conf` works too).  As
# root, the workers run as root too: nobody may not reach a checkout
# under /root.

DEMO := $(BUILD)/demo

demo-media: deps
	@tools/make-demo-media $(DEMO)/media

demo-prefix: node-deps
	@mkdir -p $(DEMO)/logs $(DEMO)/vendor
	@ln -sfn $(CURDIR)/conf $(DEMO)/conf
	@ln -sfn $(CURDIR)/demo/www $(DEMO)/www
	@ln -sfn $(NODE_DIR)/node_modules/hls.js/dist $(DEMO)/vendor/hls.js

run: build demo-media demo-prefix
	@tools/demo-urls $(DEMO)
	@exec $(NGINX_BIN) -p $(BUILD)/demo/ -c $(CURDIR)/conf/demo.conf \
	     -g "daemon off; $$([ $$(id -u) = 0 ] && echo 'user root;')"

# Benchmarks: ratios against a baseline measured in the same run.

bench: bench-catalog bench-media bench-cache

# The segment cache policy against LRU and OPT, by trace replay.

bench-cache: | $(BUILD)/.deps
	@BUILD=$(BUILD) bench/cache-sim.sh

bench-media: build
	@bench/media.sh

# Segment cache hits (feed_cache_send pin and copy) against static
# sendfile, and the zone's bytes per cached object.

.PHONY: bench-cache-hit

bench-cache-hit: build
	@bench/cache.sh

# The feed's ranking against random and most-popular baselines and an
# oracle, by a simulated population with hidden tastes over HTTP.

.PHONY: bench-feed-quality bench-feed

bench-feed-quality: build
	@bench/feed-quality.sh

# Feed manifests and events per second against a static body.

bench-feed: build
	@bench/feed.sh

# Feed manifests per second with no Lua hook against the calm-feed hook,
# JIT off and on.

.PHONY: bench-lua

bench-lua: build
	@bench/lua.sh

$(BUILD)/catalog-bench: tools/catalog-bench.c $(CORE_SRCS) $(CORE_HDRS) \
        | $(BUILD)/.deps
	$(CC) $(UNIT_CFLAGS) -o $@ tools/catalog-bench.c $(CORE_SRCS) \
	    $(UNIT_LIBS)

CLIPS ?= 1000000

bench-catalog: $(BUILD)/catalog-bench
	@if [ ! -s $(BUILD)/catalog-$(CLIPS).jsonl ]; then \
	    echo "generating a $(CLIPS)-clip catalog"; \
	    FEED_BUILD_DIR=$(BUILD) tools/gen-catalog $(CLIPS) \
	        >$(BUILD)/catalog-$(CLIPS).jsonl; \
	fi
	$(BUILD)/catalog-bench $(BUILD)/catalog-$(CLIPS).jsonl

$(BUILD)/rank-bench: tools/rank-bench.c $(CORE_SRCS) $(CORE_HDRS) \
        | $(BUILD)/.deps
	$(CC) $(UNIT_CFLAGS) -o $@ tools/rank-bench.c $(CORE_SRCS) \
	    $(UNIT_LIBS)

RANK_CLIPS ?= 100000

bench-rank: $(BUILD)/rank-bench
	@if [ ! -s $(BUILD)/catalog-$(RANK_CLIPS).jsonl ]; then \
	    echo "generating a $(RANK_CLIPS)-clip catalog"; \
	    FEED_BUILD_DIR=$(BUILD) tools/gen-catalog $(RANK_CLIPS) \
	        >$(BUILD)/catalog-$(RANK_CLIPS).jsonl; \
	fi
	$(BUILD)/rank-bench $(BUILD)/catalog-$(RANK_CLIPS).jsonl

clean:
	rm -rf $(BUILD) t/servroot

# Fuzzing (make fuzz, make fuzz-smoke): last, so that it sees the
# variables above and gives no default goal.

include fuzz/fuzz.mk
