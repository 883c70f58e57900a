
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

static void
feed_source_random_propose(feed_rank_t *rk, uint32_t budget)
{
    uint32_t       i, n, at, step;
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

    for (i = 0; i < budget; i++) {
        feed_rank_add(rk, at, FEED_REASON_RANDOM);
        at = (uint32_t) (((uint64_t) at + step) % n);
    }
}


const feed_plugin_t  feed_source_random = {
    "random", FEED_PLUGIN_SOURCE, FEED_REASON_RANDOM, 0, 0.05f,
    feed_source_random_propose, NULL, NULL, 1
};
