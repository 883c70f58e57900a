
/*
 * Copyright (C) the feed module developers
 */


/*
 * Source "random": a few clips from anywhere, the feed's way out of a
 * bubble and its measure of what it does not know.  Just its share of
 * the candidate budget (at_share): its clips are a small share of
 * chance, not a page of their own.
 */

#include "feed_rank.h"


/*
 * Distinct clips: a walk over the catalog (feed_rank_walk()) visits every
 * clip once before it repeats, so no draw of the budget is lost to a clip
 * already proposed, and a budget as large as the catalog proposes all of
 * it.
 */

#define FEED_RANDOM_AHEAD  8


static uint32_t feed_source_random_next(uint32_t at, uint32_t step,
    uint32_t n);


static void
feed_source_random_propose(feed_rank_t *rk, uint32_t budget)
{
    uint32_t       i, n, at, step, ahead;
    feed_index_t  *ix;

    ix = feed_rank_index(rk);
    n = feed_index_count(ix);

    if (n == 0) {
        return;
    }

    feed_rank_walk(rk, n, &at, &step);

    if (budget > n) {
        budget = n;
    }

    /* clips from anywhere: each record asked for a few clips ahead */

    ahead = at;

    for (i = 0; i < budget && i < FEED_RANDOM_AHEAD; i++) {
        feed_index_prefetch(ix, ahead);
        ahead = feed_source_random_next(ahead, step, n);
    }

    for (i = 0; i < budget; i++) {
        if (i + FEED_RANDOM_AHEAD < budget) {
            feed_index_prefetch(ix, ahead);
            ahead = feed_source_random_next(ahead, step, n);
        }

        feed_rank_add(rk, at, FEED_REASON_RANDOM);
        at = feed_source_random_next(at, step, n);
    }
}


/* the walk's next clip: at + step, round the catalog (step < n) */

static uint32_t
feed_source_random_next(uint32_t at, uint32_t step, uint32_t n)
{
    uint64_t  next;

    next = (uint64_t) at + step;

    return (uint32_t) (next >= n ? next - n : next);
}


const feed_plugin_t  feed_source_random = {
    "random", FEED_PLUGIN_SOURCE, FEED_REASON_RANDOM, 0, 0.05f,
    feed_source_random_propose, NULL, NULL, 1
};
