// SPDX-License-Identifier: GPL-2.0
/*
 * Detaching a syscall tracepoint waits for RCU grace periods (tracepoint
 * unregistration synchronizes), about 0.1 s each here: seventy hooks took
 * seven seconds one after the other. Waiters overlap their grace periods, so
 * destroying the links from a few threads at once costs about one wait.
 */
#include <pthread.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "sensor/links.h"

#define LINK_THREADS 16

struct batch {
	struct bpf_link **links;
	size_t n;
	size_t stride;
	size_t first;
};

static void *destroy_batch(void *arg)
{
	struct batch *b = arg;

	for (size_t i = b->first; i < b->n; i += b->stride)
		bpf_link__destroy(b->links[i]);
	return NULL;
}

void vg_links_destroy(struct bpf_link **links, size_t n)
{
	pthread_t tid[LINK_THREADS];
	struct batch b[LINK_THREADS];
	size_t nthreads = n < LINK_THREADS ? n : LINK_THREADS;
	size_t started = 0;

	for (size_t t = 0; t < nthreads; t++) {
		b[t] = (struct batch){ .links = links, .n = n, .stride = nthreads, .first = t };
		if (pthread_create(&tid[t], NULL, destroy_batch, &b[t]))
			break;
		started++;
	}
	/* Whatever no thread took (none could start): do it here. */
	for (size_t t = started; t < nthreads; t++)
		destroy_batch(&b[t]);
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
}
