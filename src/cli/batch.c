/* batch.c - one function over many items, in up to N threads, each item's
 * output written whole and in order (batch.h). */
#include "config.h"
#include "cli/batch.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One item's buffers, filled by the job that ran it. */
struct slot {
	char *out, *err;
	size_t out_len, err_len;
	bool done;
	struct vf_error *fail;  /* its buffers could not be made */
};

struct run {
	const struct vf_batch *b;
	int *codes;
	struct slot *slots;
	size_t window;          /* items started ahead of the first not written */
	pthread_mutex_t mu;
	pthread_cond_t done;    /* an item is done (the writer waits) */
	pthread_cond_t room;    /* an item was written (jobs wait for the window) */
	size_t next;            /* the next item to start */
	size_t written;         /* items written so far */
	bool stop;
};

/* One item into its buffers. */
static void run_item(struct run *r, size_t i)
{
	struct slot *s = &r->slots[i];
	FILE *out = open_memstream(&s->out, &s->out_len);
	FILE *err = out ? open_memstream(&s->err, &s->err_len) : NULL;
	int code = -1;
	if (!out || !err)
		s->fail = vf_error_os(errno, NULL, "a buffer for the report of item %zu", i + 1);
	else
		code = r->b->fn(r->b->arg, i, out, err);
	/* fclose of a memstream fails only when the buffer could not grow */
	if (out && fclose(out) != 0 && !s->fail)
		s->fail = vf_error_os(errno, NULL, "the report of item %zu", i + 1);
	if (err && fclose(err) != 0 && !s->fail)
		s->fail = vf_error_os(errno, NULL, "the errors of item %zu", i + 1);
	pthread_mutex_lock(&r->mu);
	r->codes[i] = code;
	s->done = true;
	pthread_cond_signal(&r->done);
	pthread_mutex_unlock(&r->mu);
}

static void *job(void *arg)
{
	struct run *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->stop && r->next < r->b->n && r->next >= r->written + r->window)
			pthread_cond_wait(&r->room, &r->mu);
		if (r->stop || r->next >= r->b->n)
			break;
		size_t i = r->next++;
		pthread_mutex_unlock(&r->mu);
		run_item(r, i);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* One buffer to a stream in one write(2) where the stream has a file
 * descriptor (stdio would cut it at its buffer's size): the reports of
 * processes side by side on one file or pipe (xargs -P) do not mix, on a
 * pipe up to PIPE_BUF bytes.  Best effort: the caller checks the stream. */
static void put_whole(FILE *f, const char *buf, size_t len)
{
	int fd = fileno(f);
	if (!len)
		return;
	if (fd < 0 || fflush(f) != 0) {
		fwrite(buf, 1, len, f);
		return;
	}
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* the error stays the stream's, for the caller's check */
			fwrite(buf, 1, len, f);
			return;
		}
		buf += w;
		len -= (size_t)w;
	}
}

/* Item i's buffers to the streams, then freed. */
static void write_item(struct run *r, size_t i)
{
	struct slot *s = &r->slots[i];
	put_whole(r->b->err, s->err, s->err_len);
	put_whole(r->b->out, s->out, s->out_len);
	free(s->out);
	free(s->err);
	s->out = s->err = NULL;
}

/* Write the items in order as they are done; stop at the first failed one. */
static struct vf_error *write_in_order(struct run *r)
{
	struct vf_error *err = NULL;
	for (size_t i = 0; i < r->b->n && !err; i++) {
		pthread_mutex_lock(&r->mu);
		while (!r->slots[i].done)
			pthread_cond_wait(&r->done, &r->mu);
		pthread_mutex_unlock(&r->mu);
		err = r->slots[i].fail;
		r->slots[i].fail = NULL;
		if (err) {
			r->codes[i] = -1;
		} else {
			write_item(r, i);
		}
		pthread_mutex_lock(&r->mu);
		r->written = i + 1;
		r->stop = err != NULL;
		pthread_cond_broadcast(&r->room);
		pthread_mutex_unlock(&r->mu);
	}
	return err;
}

static struct vf_error *run_threads(struct run *r, unsigned jobs)
{
	pthread_t *t = calloc(jobs, sizeof(*t));
	if (!t)
		return &vf_error_nomem;
	unsigned started = 0;
	int e = 0;
	for (; started < jobs; started++)
		if ((e = pthread_create(&t[started], NULL, job, r)) != 0)
			break;
	struct vf_error *err = NULL;
	if (started == 0) {
		err = vf_error_os(e, NULL, "starting a thread");
	} else {
		/* fewer threads than asked for: the started ones take every item */
		err = write_in_order(r);
	}
	for (unsigned k = 0; k < started; k++)
		pthread_join(t[k], NULL);
	free(t);
	return err;
}

struct vf_error *vf_batch_run(const struct vf_batch *b, int *codes)
{
	for (size_t i = 0; i < b->n; i++)
		codes[i] = -1;
	unsigned jobs = b->jobs ? b->jobs : 1;
	if (jobs > b->n)
		jobs = (unsigned)b->n;
	if (!b->n)
		return NULL;
	struct run r = { .b = b, .codes = codes, .window = (size_t)jobs * VF_BATCH_AHEAD };
	r.slots = calloc(b->n, sizeof(*r.slots));
	if (!r.slots)
		return &vf_error_nomem;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.done, NULL);
	pthread_cond_init(&r.room, NULL);
	struct vf_error *err = run_threads(&r, jobs);
	for (size_t i = 0; i < b->n; i++) {
		free(r.slots[i].out);
		free(r.slots[i].err);
		vf_error_destroy(r.slots[i].fail);
		if (i >= r.written)
			codes[i] = -1;
	}
	pthread_cond_destroy(&r.room);
	pthread_cond_destroy(&r.done);
	pthread_mutex_destroy(&r.mu);
	free(r.slots);
	return err;
}
