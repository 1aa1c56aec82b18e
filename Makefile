# tipstat build.
#
# One static library (libtipstat.a) holds every stage's code; cli/ links it
# into the single `tipstat` binary and every cmocka test links it too, so a
# module is testable without a process.  Sources are picked up by wildcard:
# adding a module is adding a .c/.h pair, never editing this file.
#
#   make            build build/tipstat
#   make check      unit tests (cmocka) + end-to-end tests
#   make demo       whole pipeline on the bundled datasets/
#   make asan       the same tests under ASan + UBSan (build-asan/)
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench | fuzz | lint | clean

BUILD   ?= build
B       := $(BUILD)
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
SAN     ?=
VERSION := 0.1.0

PKGS    := gsl libsodium sqlite3
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
           -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -I. -DTIPSTAT_VERSION=\"$(VERSION)\" -DTIPSTAT_SHARE=\"$(PREFIX)/share/tipstat\" -MMD -MP
ifneq ($(SAN),)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

DEPS_OK := $(B)/.deps-ok
PC_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PC_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS      = $(PC_LIBS) -lcsv -lglpk -lpthread -lm

LIB_SRC := $(sort $(wildcard core/*.c ingest/*.c aggregator/*.c privacy/*.c reports/*.c))
CLI_SRC := $(sort $(wildcard cli/*.c))
UT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
UT_BIN  := $(UT_SRC:tests/unit/%.c=$(B)/tests/%)
BIN     := $(B)/tipstat
TOOLS   := $(B)/tools/gen_synth $(B)/tools/cube_compare

.PHONY: all check unit e2e demo asan valgrind install clean bench fuzz lint deps
all: $(BIN) $(TOOLS)

$(DEPS_OK):
	@mkdir -p $(B)
	@sh scripts/deps.sh
	@touch $@

$(B)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PC_CFLAGS) -c $< -o $@

$(B)/libtipstat.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(B)/libtipstat.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libtipstat.a $(LIBS)

$(B)/tools/%: tools/%.c $(B)/libtipstat.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PC_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libtipstat.a $(LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libtipstat.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PC_CFLAGS) $(shell pkg-config --cflags cmocka) $(LDFLAGS) \
	    -o $@ $< $(B)/libtipstat.a $(shell pkg-config --libs cmocka) $(LIBS)

# test_alloc fails our allocations in turn: its malloc/calloc/realloc
# references go through counting wrappers.
$(B)/tests/test_alloc: LDFLAGS += -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc

unit: $(UT_BIN)
	@fail=0; for t in $(UT_BIN); do \
	    TIPSTAT_DATASETS=$(CURDIR)/datasets $$t || fail=1; done; \
	    test $$fail = 0

e2e: $(BIN) $(TOOLS) $(B)/tests/test_attack_release
	@bash tests/e2e/run.sh $(CURDIR)/$(BIN) $(CURDIR)/$(B)

check: unit e2e

demo: $(BIN) $(TOOLS)
	@bash scripts/demo.sh $(CURDIR)/$(BIN) $(CURDIR)/out

asan:
	$(MAKE) BUILD=build-asan SAN=1 check

# The unit and end-to-end suites under valgrind memcheck: any error or
# definite leak fails (scripts/valgrind.sh).
valgrind: $(BIN) $(TOOLS) $(UT_BIN)
	@bash scripts/valgrind.sh $(CURDIR)/$(B)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/tipstat
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tipstat
	cp -R datasets/codelists datasets/mappings datasets/reference $(DESTDIR)$(PREFIX)/share/tipstat/

bench: all
	@bash bench/run.sh $(CURDIR)/$(B)

FUZZ_SECONDS ?= 60
fuzz:
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

lint:
	@bash scripts/lint.sh

clean:
	rm -rf build build-asan build-* out

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
