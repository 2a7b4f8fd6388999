/* test_batch.c - the batch runner: items written whole and in order whatever
 * finishes first, at most `jobs` at once, no more than the window ahead. */
#include "config.h"

#include <stdatomic.h>
#include <time.h>

#include "cli/batch.h"
#include "cli/exitcodes.h"
#include "tap.h"

struct probe {
	atomic_int running, most;     /* items running now, most at once */
	atomic_size_t ahead_max;      /* most items started past the first not done */
	atomic_int done[64];
};

static void nap(size_t i)
{
	/* the early items are the slow ones, so later ones finish first */
	struct timespec ts = { 0, (long)((i % 5 == 0 ? 4 : 1) * 1000000L) };
	nanosleep(&ts, NULL);
}

static int item(void *arg, size_t i, FILE *out, FILE *err)
{
	struct probe *p = arg;
	int now = atomic_fetch_add(&p->running, 1) + 1;
	for (int m = atomic_load(&p->most); now > m && !atomic_compare_exchange_weak(&p->most, &m, now);)
		;
	size_t low = 0;
	while (low < 64 && atomic_load(&p->done[low]))
		low++;
	size_t ahead = i >= low ? i - low : 0;
	for (size_t m = atomic_load(&p->ahead_max);
	     ahead > m && !atomic_compare_exchange_weak(&p->ahead_max, &m, ahead);)
		;
	/* a report in several writes, with a pause between: interleaving would show */
	fprintf(out, "item %zu: ", i);
	nap(i);
	fprintf(out, "done\n");
	fprintf(err, "note %zu\n", i);
	atomic_fetch_sub(&p->running, 1);
	atomic_store(&p->done[i], 1);
	return (int)(i % 7);
}

/* Run n items in jobs threads; out and err come back as strings. */
static struct vf_error *run(size_t n, unsigned jobs, struct probe *p, int *codes,
			    char **out, char **err)
{
	size_t ol, el;
	FILE *o = open_memstream(out, &ol), *e = open_memstream(err, &el);
	struct vf_batch b = { .n = n, .jobs = jobs, .fn = item, .arg = p, .out = o, .err = e };
	struct vf_error *r = vf_batch_run(&b, codes);
	fclose(o);
	fclose(e);
	return r;
}

static void test_order(unsigned jobs)
{
	enum { N = 40 };
	struct probe p = { 0 };
	int codes[N];
	char *out, *err;
	struct vf_error *e = run(N, jobs, &p, codes, &out, &err);
	TAP_OK(e == NULL, "jobs %u: the run succeeds", jobs);
	char want_out[N * 20] = "", want_err[N * 12] = "";
	for (size_t i = 0; i < N; i++) {
		sprintf(want_out + strlen(want_out), "item %zu: done\n", i);
		sprintf(want_err + strlen(want_err), "note %zu\n", i);
	}
	TAP_EQ_STR(out, want_out, "jobs %u: every report whole, in the items' order", jobs);
	TAP_EQ_STR(err, want_err, "jobs %u: every item's errors whole, in order", jobs);
	int same = 1;
	for (size_t i = 0; i < N; i++)
		same &= codes[i] == (int)(i % 7);
	TAP_OK(same, "jobs %u: each item's status", jobs);
	TAP_OK(atomic_load(&p.most) <= (int)jobs, "jobs %u: at most %u items at once (%d)", jobs,
	       jobs, atomic_load(&p.most));
	if (jobs > 1)
		TAP_OK(atomic_load(&p.most) > 1, "jobs %u: items did run at once (%d)", jobs,
		       atomic_load(&p.most));
	/* the window: an item starts only within jobs * VF_BATCH_AHEAD of the
	 * first not written (and so of the first not done, plus the running) */
	TAP_OK(atomic_load(&p.ahead_max) <= (size_t)jobs * VF_BATCH_AHEAD,
	       "jobs %u: no item starts more than %u past the first not done (%zu)", jobs,
	       jobs * VF_BATCH_AHEAD, atomic_load(&p.ahead_max));
	free(out);
	free(err);
}

static void test_few_items(void)
{
	struct probe p = { 0 };
	int codes[2];
	char *out, *err;
	struct vf_error *e = run(2, 16, &p, codes, &out, &err);
	TAP_OK(e == NULL && codes[0] == 0 && codes[1] == 1, "more jobs than items: both run");
	TAP_EQ_STR(out, "item 0: done\nitem 1: done\n", "more jobs than items: in order");
	free(out);
	free(err);
	e = run(0, 4, &p, codes, &out, &err);
	TAP_OK(e == NULL && strcmp(out, "") == 0, "no items: nothing written");
	free(out);
	free(err);
}

static void test_worst(void)
{
	TAP_EQ_U64(vf_exit_worst(VF_EXIT_OK, VF_EXIT_PROBLEMS), VF_EXIT_PROBLEMS,
		   "worst of 0 and 1 is 1");
	TAP_EQ_U64(vf_exit_worst(VF_EXIT_IO, VF_EXIT_CORRUPT), VF_EXIT_IO, "worst of 6 and 4 is 6");
	TAP_EQ_U64(vf_exit_worst(VF_EXIT_CORRUPT, VF_EXIT_UNSUPPORTED), VF_EXIT_UNSUPPORTED,
		   "worst of 4 and 5 is 5 (the higher number)");
	TAP_EQ_U64(vf_exit_worst(VF_EXIT_UNFIXABLE, VF_EXIT_PROBLEMS), VF_EXIT_UNFIXABLE,
		   "worst of 3 and 1 is 3");
	int codes[] = { 0, 1, 0, 4, 3, 1 }, w = VF_EXIT_OK;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		w = vf_exit_worst(w, codes[i]);
	TAP_EQ_U64(w, VF_EXIT_CORRUPT, "worst over a run: 4");
}

int main(void)
{
	test_order(1);
	test_order(2);
	test_order(4);
	test_order(8);
	test_few_items();
	test_worst();
	return tap_done();
}
