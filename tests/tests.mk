# Tests: every tests/test_*.c links into one TAP program; tests/run.sh runs it
# and the Lua scenarios in tests/lua/, then prints "N passed, N failed".
TEST_SRCS := $(sort $(wildcard tests/*.c))
TEST_OBJS := $(patsubst %.c,$(B)/%.o,$(TEST_SRCS))

$(B)/mmsim-tests: $(TEST_OBJS) $(B)/libmmsim.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJS) $(B)/libmmsim.a $(LIBS)

test: $(B)/mmsim-tests $(B)/mmsim
	sh tests/run.sh $(B)
