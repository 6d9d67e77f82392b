# mtcert -- build, run, test, bench.  The two commands a new user needs:
#   make run    build, install what is missing, start everything under var/
#   make test   the whole suite in a throwaway directory, torn down after
# Other targets: all stop status bench clean unit asan fuzz scale-test.
# SANITIZER=address,undefined builds an instrumented tree under build-asan/.

CC       ?= cc
SANITIZER ?=
BUILD    ?= build
PKGS      = libpq json-c hiredis libsodium libqrencode
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Wstrict-prototypes -Werror
CPPFLAGS += -Ishared -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi -ldl
ifneq ($(SANITIZER),)
CFLAGS   += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SANITIZER)
endif
ALL_CFLAGS = $(CFLAGS) $(WARN) -fPIC -MMD -MP

SHARED_SRC = $(filter-out shared/mt_host.c,$(wildcard shared/*.c))
SHARED_OBJ = $(SHARED_SRC:%.c=$(BUILD)/obj/%.o)
MODULES    = catalog auth agency apply review benefit hospital
MODULE_SO  = $(MODULES:%=$(BUILD)/modules/%.so)
BINS       = $(BUILD)/bin/mtcert-host $(BUILD)/bin/mtcertctl \
             $(BUILD)/bin/mtcert-dispatcher
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BIN  = $(BUILD)/bench/bench-responder

.PHONY: all deps run stop status test unit asan fuzz bench clean scale-test
all: $(BINS) $(MODULE_SO) $(UNIT_BIN) $(BENCH_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libmtshared.a: $(SHARED_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/bin/mtcert-host: $(BUILD)/obj/shared/mt_host.o $(BUILD)/libmtshared.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(BUILD)/obj/shared/mt_host.o \
	    -Wl,--whole-archive $(BUILD)/libmtshared.a -Wl,--no-whole-archive \
	    -Wl,--no-as-needed $(LDLIBS)

$(BUILD)/bin/mtcertctl: $(BUILD)/obj/modules/ctl/mtcertctl.o $(BUILD)/libmtshared.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

DISPATCHER_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard modules/dispatcher/*.c))
$(BUILD)/bin/mtcert-dispatcher: $(DISPATCHER_OBJ) $(BUILD)/libmtshared.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Modules resolve the shared symbols from the host (-rdynamic above), so
# every worker holds one copy of the shared library's state.
define MODULE_RULE
$(BUILD)/modules/$(1).so: $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard modules/$(1)/*.c))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -shared -o $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call MODULE_RULE,$(m))))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libmtshared.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/bench-responder: $(BUILD)/obj/tests/bench/bench_responder.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@shared/stack.sh deps

run: deps
	@$(MAKE) --no-print-directory all
	@shared/stack.sh start

stop:
	@shared/stack.sh stop

status:
	@shared/stack.sh status

unit: $(UNIT_BIN)
	@tests/unit/run.sh $(UNIT_BIN)

test: deps
	@shared/stack.sh browser-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build-asan SANITIZER=address,undefined all
	@tests/run.sh

fuzz: deps
	@tests/fuzz/run.sh

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SANITIZER=address,undefined all

bench: deps
	@shared/stack.sh browser-deps
	@$(MAKE) --no-print-directory all
	@tests/bench/all.sh

# The failovers of docs/scale.md, each on a stack of its own with its own
# ports, each bounded (SCALE_TIMEOUT seconds, default 1200): Redis
# Sentinel (tests/sentinel.sh), a host killed of two (tests/hosts.sh) and
# the PostgreSQL primary stopped mid-submissions (tests/replica.sh).
# Each prints its figures; make test runs the quick versions.
SCALE_TIMEOUT ?= 1200
SCALE_TESTS = tests/sentinel.sh tests/hosts.sh tests/replica.sh
scale-test: deps
	@$(MAKE) --no-print-directory all
	@status=0; for t in $(SCALE_TESTS); do \
	    echo "== $$t"; start=$$(date +%s); \
	    if timeout $(SCALE_TIMEOUT) bash $$t; then r=PASS; \
	    else r=FAIL; status=1; fi; \
	    echo "== $$t: $$r in $$(( $$(date +%s) - start )) s"; \
	done; exit $$status

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
