# `make bench`: build the mmsim command, then run its bench (bench/bench.c).
# Pass options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--quick --csv".
BENCH_ARGS ?=

bench: $(B)/mmsim
	./$(B)/mmsim bench $(BENCH_ARGS)
