
/*
 * Copyright (C) ngx_feed_module developers
 */


/*
 * rank-bench: the ranking alone, without nginx: pages ranked per second
 * for returning viewers over a JSON Lines catalog.
 *
 *     rank-bench catalog.jsonl [pages] [viewers]
 *
 * Builds the index the way a worker does, gives each viewer a taste (the
 * embedding of a random clip), four liked clips and the sounds of four
 * clips it watched to the end (random clips' sounds), then ranks pages of
 * 10 for the viewers in turn, each remembering what it was shown, and
 * prints the microseconds a page took, the candidates a page looked at
 * and a checksum of the pages (the same build ranks the same pages: a
 * faster ranking that should rank alike can be checked against the one
 * before it); then
 * the same for viewers not known yet (no taste: what bench/feed.sh's
 * viewers get unless TASTE=1).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feed_catalog.h"
#include "feed_rank.h"


#define BENCH_SEEN  4096
#define BENCH_NOW   1795000000   /* fixed: the same pages every run */
#define BENCH_LIKED 4            /* liked clips, finished sounds */


typedef struct {
    uint64_t            seen[BENCH_SEEN];
    uint32_t            nseen;
    feed_rank_viewer_t  rv;
} bench_viewer_t;


static double
bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static int
bench_seen(void *data, uint64_t h)
{
    uint32_t         i;
    bench_viewer_t  *bv = data;

    i = (uint32_t) (h % BENCH_SEEN);

    while (bv->seen[i]) {
        if (bv->seen[i] == h) {
            return 1;
        }

        i = (i + 1) % BENCH_SEEN;
    }

    return 0;
}


static void
bench_seen_add(bench_viewer_t *bv, uint64_t h)
{
    uint32_t  i;

    if (bv->nseen >= BENCH_SEEN / 2) {
        memset(bv->seen, 0, sizeof(bv->seen));
        bv->nseen = 0;
    }

    i = (uint32_t) (h % BENCH_SEEN);

    while (bv->seen[i] && bv->seen[i] != h) {
        i = (i + 1) % BENCH_SEEN;
    }

    if (bv->seen[i] == 0) {
        bv->seen[i] = h;
        bv->nseen++;
    }
}


static uint32_t  bench_candidates;


static int
bench_hook(void *data, const feed_catalog_t *cat, feed_cand_t *c, uint32_t n)
{
    (void) data;
    (void) cat;
    (void) c;

    bench_candidates += n;

    return 0;
}


int
main(int argc, char **argv)
{
    double               start, elapsed;
    uint32_t             i, k, c, n, pages, nviewers, clips, dim, shown;
    uint32_t             round;
    uint64_t             sum;
    feed_err_t           err;
    feed_item_t          it[10];
    const float         *e;
    feed_index_t        *ix;
    bench_viewer_t      *bv, *viewers;
    feed_catalog_t      *cat;
    feed_rank_params_t   p;

    if (argc < 2) {
        fprintf(stderr, "usage: %s catalog.jsonl [pages] [viewers]\n",
                argv[0]);
        return 2;
    }

    pages = argc > 2 ? (uint32_t) atoi(argv[2]) : 20000;
    nviewers = argc > 3 ? (uint32_t) atoi(argv[3]) : 64;

    if (nviewers == 0) {
        nviewers = 1;
    }

    cat = feed_catalog_new();
    if (cat == NULL || feed_catalog_load(cat, argv[1], &err) != FEED_OK) {
        fprintf(stderr, "rank-bench: %s\n", cat ? err.msg : "no memory");
        return 1;
    }

    ix = feed_index_new(cat, 0, 0x5eed, &err);
    if (ix == NULL) {
        fprintf(stderr, "rank-bench: %s\n", err.msg);
        return 1;
    }

    feed_index_refresh(ix, BENCH_NOW, 0);
    feed_rank_default_params(&p);

    clips = feed_index_count(ix);
    dim = feed_index_dim(ix);

    viewers = calloc(nviewers, sizeof(bench_viewer_t));
    if (viewers == NULL || clips == 0) {
        fprintf(stderr, "rank-bench: no memory or no clips\n");
        return 1;
    }

    printf("clips %u, dim %u, clusters %u, viewers %u, pages %u\n",
           clips, dim, feed_index_clusters(ix), nviewers, pages);

    /* viewers with a taste, then as many not known yet (no events) */

    for (round = 0; round < 2; round++) {
        srand(7);
        memset(viewers, 0, nviewers * sizeof(bench_viewer_t));

        for (i = 0; i < nviewers; i++) {
            bv = &viewers[i];
            e = feed_index_embedding(ix, (uint32_t) rand() % clips);

            for (k = 0; round == 0 && k < dim && k < FEED_DIM_MAX; k++) {
                bv->rv.interest[k] = e[k];
            }

            bv->rv.ninterests = 1;
            bv->rv.confidence = round == 0 ? 1 : 0;

            /*
             * and, as a viewer who has watched a while, clips it liked
             * and sounds of clips it watched to the end (the lineage and
             * sound sources)
             */

            for (k = 0; round == 0 && k < BENCH_LIKED; k++) {
                c = (uint32_t) rand() % clips;
                bv->rv.liked[bv->rv.nliked++] = c;
                bv->rv.sounds[bv->rv.nsounds++] = feed_index_sound(ix, c);
            }
            bv->rv.seen = bench_seen;
            bv->rv.seen_data = bv;
        }

        shown = 0;
        sum = 0;
        bench_candidates = 0;
        start = bench_now();

        for (i = 0; i < pages; i++) {
            bv = &viewers[i % nviewers];

            n = feed_rank_page(cat, ix, &p, &bv->rv, BENCH_NOW,
                               i + 1, bench_hook, NULL, it, 10);

            for (k = 0; k < n; k++) {
                bench_seen_add(bv, feed_index_hash(ix, it[k].clip));
                sum = sum * 31 + it[k].clip * 7 + it[k].reason;
            }

            bv->rv.position += n;

            if (n) {
                bv->rv.last_creator = feed_index_creator(ix,
                                                         it[n - 1].clip);
                bv->rv.last_sound = feed_index_sound(ix, it[n - 1].clip);
            }

            shown += n;
        }

        elapsed = bench_now() - start;

        printf("%s: %.2f us a page, %.0f pages/s, %.1f candidates a page, "
               "%.2f items a page, pages' checksum %016llx\n",
               round == 0 ? "viewers with a taste" : "viewers not known yet",
               elapsed * 1e6 / pages, pages / elapsed,
               (double) bench_candidates / pages, (double) shown / pages,
               (unsigned long long) sum);
    }

    feed_index_free(ix);
    feed_catalog_free(cat);
    free(viewers);

    return 0;
}
