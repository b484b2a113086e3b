// SPDX-License-Identifier: MIT
/* tests/harness.c - registry, runner and TAP output; see harness.h. */
#include <stdarg.h>
#include <stdlib.h>

#include "harness.h"
#include "mm/internal.h"

#define MAX_TESTS 2048

struct test_case { const char *name; test_fn fn; const char *file; };

static struct test_case tests[MAX_TESTS];
static int nr_tests;
static int cur_failed, cur_skipped;
jmp_buf test_abort_jmp;

static int cmp_case(const void *a, const void *b)
{
	const struct test_case *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	return c ? c : strcmp(x->name, y->name);
}

void test_register(const char *name, test_fn fn, const char *file)
{
	if (nr_tests == MAX_TESTS) {
		fprintf(stderr, "harness: more than %d tests\n", MAX_TESTS);
		exit(2);
	}
	tests[nr_tests++] = (struct test_case){ name, fn, file };
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	cur_failed++;
}

void test_diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void test_skip(const char *why)
{
	printf("# SKIP %s\n", why);
	cur_skipped = 1;
	longjmp(test_abort_jmp, 1);
}

struct mmsim_machine *test_machine(const char *bootargs)
{
	struct mmsim_options o = { .seed = 1, .bootargs = bootargs };
	struct mmsim_machine *m = NULL;
	if (mmsim_machine_create(&o, &m) != 0) {
		test_fail(__FILE__, __LINE__, "mmsim_machine_create: %s", mmsim_strerror_last());
		longjmp(test_abort_jmp, 1);
	}
	return m;
}

int main(int argc, char **argv)
{
	/* volatile: these live across the setjmp() that catches a failed ASSERT. */
	const char *volatile pattern = NULL;
	volatile int list = 0, passed = 0, failed = 0, skipped = 0, n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l"))
			list = 1;
		else
			pattern = argv[i];
	}
	qsort(tests, nr_tests, sizeof(tests[0]), cmp_case);
	for (int i = 0; i < nr_tests; i++)
		if (!pattern || strstr(tests[i].name, pattern))
			n++;
	if (list) {
		for (int i = 0; i < nr_tests; i++)
			if (!pattern || strstr(tests[i].name, pattern))
				printf("%s\t%s\n", tests[i].file, tests[i].name);
		return 0;
	}
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
	n = 0;
	for (int i = 0; i < nr_tests; i++) {
		struct test_case *tc = &tests[i];
		if (pattern && !strstr(tc->name, pattern))
			continue;
		n++;
		cur_failed = cur_skipped = 0;
		if (!setjmp(test_abort_jmp))
			tc->fn();
		if (cur_skipped && !cur_failed) {
			printf("ok %d %s # SKIP\n", n, tc->name);
			skipped++;
		} else if (cur_failed) {
			printf("not ok %d %s\n", n, tc->name);
			failed++;
		} else {
			printf("ok %d %s\n", n, tc->name);
			passed++;
		}
		fflush(stdout);
	}
	printf("# Totals: pass:%d fail:%d skip:%d\n", passed, failed, skipped);
	return failed ? 1 : 0;
}

unsigned int fault_locked(struct mmsim_task *t, struct vm_area_struct *vma, uint64_t addr,
			  unsigned int flags)
{
	vm_fault_t ret;

	mmap_read_lock(t->mm);
	ret = handle_mm_fault(t, vma, addr, flags);
	if (!(ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)))
		mmap_read_unlock(t->mm);
	return ret;
}
