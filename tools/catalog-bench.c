
/*
 * Copyright (C) ngx_feed_module developers
 */


/*
 * catalog-bench: loads a JSON Lines catalog the way nginx does at
 * startup and reports what it cost.
 *
 *     catalog-bench catalog.jsonl
 *
 * Prints the clip count, the wall time of feed_catalog_load(), the
 * catalog's own memory (feed_catalog_memory(): total, per clip, and
 * embeddings apart) and the process's peak RSS, which also counts the
 * allocator's overhead and the parser's transient memory.
 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

#include "feed_catalog.h"


static double
feed_bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


int
main(int argc, char **argv)
{
    double           start, elapsed, n;
    size_t           total, embeddings;
    uint32_t         clips;
    feed_err_t       err;
    struct rusage    ru;
    feed_catalog_t  *cat;

    if (argc != 2) {
        fprintf(stderr, "usage: %s catalog.jsonl\n", argv[0]);
        return 2;
    }

    cat = feed_catalog_new();
    if (cat == NULL) {
        fprintf(stderr, "catalog-bench: out of memory\n");
        return 1;
    }

    start = feed_bench_now();

    if (feed_catalog_load(cat, argv[1], &err) != FEED_OK) {
        fprintf(stderr, "catalog-bench: %s:%lu: %s\n", argv[1], err.line,
                err.msg);
        feed_catalog_free(cat);
        return 1;
    }

    elapsed = feed_bench_now() - start;

    clips = feed_catalog_count(cat);
    total = feed_catalog_memory(cat, &embeddings);
    n = clips ? (double) clips : 1.0;

    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        ru.ru_maxrss = 0;
    }

    printf("clips:            %u\n", clips);
    printf("load time:        %.3f s (%.2f us a clip)\n", elapsed,
           elapsed * 1e6 / n);
    printf("catalog memory:   %zu bytes (%.1f bytes a clip)\n", total,
           (double) total / n);
    printf("embeddings:       %zu bytes (%.1f bytes a clip, dimension %u)\n",
           embeddings, (double) embeddings / n, feed_catalog_dim(cat));
    printf("total:            %zu bytes (%.1f bytes a clip)\n",
           total + embeddings, (double) (total + embeddings) / n);
    printf("peak RSS:         %ld KiB\n", ru.ru_maxrss);

    feed_catalog_free(cat);

    return 0;
}
