# libFuzzer targets for the core's parsers of untrusted and operator
# input; included at the end of the main Makefile, after the BUILD,
# CORE_SRCS, CORE_HDRS and UNIT_LIBS it uses (its rules need them when
# they are read, and its first rule must not become the default goal).
#
#   make fuzz          every target for FUZZ_TIME seconds (default 60)
#   make fuzz-smoke    every target for FUZZ_SMOKE seconds (default 10)
#   make fuzz-build    build them only, into build/fuzz/
#   make fuzz-merge    fold the new inputs of past runs into fuzz/corpus/,
#                      minimized (the only rule that writes there; it
#                      adds hundreds of files, so review before a commit)
#
# FUZZ_TARGETS picks some of them: make fuzz FUZZ_TARGETS="path token".
# The runs are niced (FUZZ_NICE="" to not); clang and Debian's
# libclang-rt-dev are needed.

FUZZ_CC      ?= clang
FUZZ_TIME    ?= 60
FUZZ_SMOKE   ?= 10
FUZZ_NICE    ?= nice -n 19
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_ALL     := path token session impression events catalog playlist
FUZZ_TARGETS ?= $(FUZZ_ALL)

FUZZ_CFLAGS  := -std=gnu99 -g -O1 -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -Wall -Wextra -Werror -Wdeclaration-after-statement \
                -Ingx_feed_module/core

# the longest input per target, and its dictionary if it has one

FUZZ_SPEC_path       := path:256:fuzz/path.dict
FUZZ_SPEC_token      := token:1024:
FUZZ_SPEC_session    := session:256:
FUZZ_SPEC_impression := impression:512:
FUZZ_SPEC_events     := events:16384:fuzz/events.dict
FUZZ_SPEC_catalog    := catalog:32768:fuzz/catalog.dict
FUZZ_SPEC_playlist   := playlist:16384:fuzz/catalog.dict

FUZZ_BINS    := $(FUZZ_ALL:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_OBJS    := $(CORE_SRCS:ngx_feed_module/core/%.c=$(FUZZ_DIR)/obj/%.o)

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-merge
.SECONDARY: $(FUZZ_OBJS)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

# the core once, with coverage but without libFuzzer's main()

$(FUZZ_DIR)/obj/%.o: ngx_feed_module/core/%.c $(CORE_HDRS) \
        | $(BUILD)/.deps
	@mkdir -p $(FUZZ_DIR)/obj
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_OBJS) $(CORE_HDRS) \
        | $(BUILD)/.deps
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) \
	    $(UNIT_LIBS)
	@echo "built $@"

fuzz: fuzz-build
	@FUZZ_NICE="$(FUZZ_NICE)" fuzz/run $(FUZZ_DIR) $(FUZZ_DIR) \
	    $(FUZZ_TIME) $(foreach t,$(FUZZ_TARGETS),$(FUZZ_SPEC_$(t)))

fuzz-smoke: fuzz-build
	@FUZZ_NICE="$(FUZZ_NICE)" fuzz/run $(FUZZ_DIR) $(FUZZ_DIR) \
	    $(FUZZ_SMOKE) $(foreach t,$(FUZZ_TARGETS),$(FUZZ_SPEC_$(t)))

fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t; \
	    $(FUZZ_DIR)/fuzz_$$t -merge=1 -timeout=5 fuzz/corpus/$$t \
	        $(FUZZ_DIR)/corpus/$$t >$(FUZZ_DIR)/$$t-merge.log 2>&1 \
	    || { tail -20 $(FUZZ_DIR)/$$t-merge.log; exit 1; }; \
	    echo "fuzz-merge: $$t: $$(ls fuzz/corpus/$$t | wc -l) inputs"; \
	done
