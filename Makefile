# mmsim - GNU Make build.
#
#   make run        build, then run the built-in demo on the built-in machine
#   make test       build, then run every test (TAP, then "N passed, N failed")
#   make bench      mmsim's fault rates against the host kernel's
#   make SAN=asan test   the tests under AddressSanitizer + UBSan
#   make SAN=tsan test   the tests under ThreadSanitizer
#   make CC=clang   any of the above with clang
#
# Each flavour builds into its own directory (build/, build-asan/, ...), so
# switching flavours never mixes objects.

CC      ?= cc
SAN     ?=
O       ?= 2
PREFIX  ?= /usr/local

ifeq ($(SAN),)
  B := build
  SANFLAGS :=
else ifeq ($(SAN),asan)
  B := build-asan
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else ifeq ($(SAN),tsan)
  B := build-tsan
  SANFLAGS := -fsanitize=thread
else
  $(error SAN must be empty, asan or tsan)
endif

LUA_CFLAGS := $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
LUA_LIBS   := $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)
FDT_LIBS   := -lfdt

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wvla
CFLAGS  := -std=c11 -D_GNU_SOURCE -O$(O) -g $(WARN) $(SANFLAGS) -fPIC \
           -Iinclude -Isrc -I$(B)/gen $(LUA_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(EXTRA_LDFLAGS)
LIBS    := $(FDT_LIBS) -lpthread -lm

LIB_SRCS := $(sort $(shell find src -name '*.c'))
LIB_OBJS := $(patsubst %.c,$(B)/%.o,$(LIB_SRCS))
GEN_SRCS :=
GEN_OBJS  =

.PHONY: all run test bench deps clean install check-deps
all: $(B)/libmmsim.a $(B)/libmmsim.so $(B)/mmsim $(B)/mmsim.pc

# Subsystems add their generated sources, programs and targets here.
-include src/boot/boot.mk
-include tools/tools.mk
-include tests/tests.mk
-include bench/bench.mk

DEPS_STAMP := $(B)/.deps-ok
$(DEPS_STAMP):
	@sh tools/install-deps.sh
	@mkdir -p $(B) && touch $@
deps: $(DEPS_STAMP)

$(B)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/libmmsim.a: $(LIB_OBJS) $(GEN_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/libmmsim.so: $(LIB_OBJS) $(GEN_OBJS)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/mmsim.pc: mmsim.pc.in
	@mkdir -p $(B)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|0.1.0|' $< > $@

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/mmsim $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(B)/libmmsim.a $(B)/libmmsim.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(B)/mmsim.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 644 include/mmsim.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/mmsim/*.h $(DESTDIR)$(PREFIX)/include/mmsim/
	install -m 755 $(B)/mmsim $(DESTDIR)$(PREFIX)/bin/

run: $(B)/mmsim
	./$(B)/mmsim run

clean:
	rm -rf build build-asan build-tsan

-include $(shell find $(B) -name '*.d' 2>/dev/null)
