# The mmsim command: tools/*.c (CLI, Lua bindings) and bench/*.c (mmsim bench).
TOOL_SRCS := $(sort $(wildcard tools/*.c) $(wildcard bench/*.c))
TOOL_OBJS := $(patsubst %.c,$(B)/%.o,$(TOOL_SRCS))

$(B)/mmsim: $(TOOL_OBJS) $(B)/libmmsim.a
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(B)/libmmsim.a $(LUA_LIBS) $(LIBS)

# Generated headers (under $(B)/gen, which is on the include path):
# every MMSIM_ constant of the uapi header as an entry of the Lua module
# table, so a constant added there reaches scripts without another edit ...
$(B)/gen/lua_mmsim_consts.h: include/mmsim/uapi.h tools/tools.mk
	@mkdir -p $(dir $@)
	sed -n 's/^#define[[:space:]][[:space:]]*MMSIM_\([A-Za-z0-9_]*\)[[:space:]][[:space:]]*[^[:space:]].*/LMM_CONST(\1)/p' $< > $@.tmp
	mv $@.tmp $@

# ... and the built-in demo script as a byte array, so the binary runs the
# demo from any directory.
$(B)/gen/demo_lua.h: tools/demo.lua tools/tools.mk
	@mkdir -p $(dir $@)
	{ echo 'static const unsigned char demo_lua[] = {'; \
	  od -An -v -tx1 $< | sed 's/[0-9a-f][0-9a-f]/0x&,/g'; \
	  echo '};'; } > $@.tmp
	mv $@.tmp $@

$(B)/tools/lua_mmsim.o: $(B)/gen/lua_mmsim_consts.h
$(B)/tools/mmsim.o: $(B)/gen/demo_lua.h
