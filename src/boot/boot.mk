# The built-in machine.  src/boot/default.dts is compiled with dtc at build
# time and embedded in the library twice: as source text (so it can be shown
# and copied) and as the blob the parser reads, so the library needs no files
# at run time.  od and sed do the embedding because xxd is not always there.
#
# Included by the top Makefile: B, CC and CFLAGS are already set, and the
# order-only $(B)/.deps-ok makes sure dtc is installed before it is run.

DT_GEN := $(B)/gen

$(DT_GEN)/default.dtb: src/boot/default.dts | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	dtc -q -I dts -O dtb -o $@.tmp $< && mv -f $@.tmp $@

# The source becomes one string literal, a line at a time: backslashes and
# quotes are escaped, and so is '?' since C11 would read "??x" as a trigraph.
$(DT_GEN)/default_dt.c: src/boot/default.dts $(DT_GEN)/default.dtb src/boot/boot.mk
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	@{ \
	  echo '/* Generated from src/boot/default.dts by src/boot/boot.mk: do not edit. */'; \
	  echo '#include "boot/default_dt.h"'; \
	  echo; \
	  echo 'const char mmsim_dt_default_dts[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
	      -e 's/^/\t"/' -e 's/$$/\\n"/' src/boot/default.dts; \
	  echo '	"";'; \
	  echo; \
	  echo 'const unsigned char mmsim_dt_default_dtb[] __attribute__((aligned(8))) = {'; \
	  od -An -v -tx1 $(DT_GEN)/default.dtb | \
	    sed -e 's/ *\([0-9a-f][0-9a-f]\)/ 0x\1,/g' -e 's/^ /\t/'; \
	  echo '};'; \
	  echo; \
	  echo 'const size_t mmsim_dt_default_dtb_size = sizeof(mmsim_dt_default_dtb);'; \
	} > $@.tmp && mv -f $@.tmp $@

$(DT_GEN)/default_dt.o: $(DT_GEN)/default_dt.c src/boot/default_dt.h
	$(CC) $(CFLAGS) -c $< -o $@

GEN_SRCS += $(DT_GEN)/default_dt.c
GEN_OBJS += $(DT_GEN)/default_dt.o
