# The mmsim command: tools/*.c (CLI, Lua bindings) and bench/*.c (mmsim bench).
TOOL_SRCS := $(sort $(wildcard tools/*.c) $(wildcard bench/*.c))
TOOL_OBJS := $(patsubst %.c,$(B)/%.o,$(TOOL_SRCS))

$(B)/mmsim: $(TOOL_OBJS) $(B)/libmmsim.a
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(B)/libmmsim.a $(LUA_LIBS) $(LIBS)
