
/*
 * Copyright (C) the feed module developers
 */


/*
 * Source "random": a few clips from anywhere, the feed's way out of a
 * bubble and its measure of what it does not know.
 */

#include "feed_rank.h"


static void
feed_source_random_propose(feed_rank_t *rk, uint32_t budget)
{
    uint32_t       i, n;
    feed_index_t  *ix;

    ix = feed_rank_index(rk);
    n = feed_index_count(ix);

    for (i = 0; i < budget && n > 0; i++) {
        feed_rank_add(rk, (uint32_t) (feed_rank_random(rk) % n),
                      FEED_REASON_RANDOM);
    }
}


const feed_plugin_t  feed_source_random = {
    "random", FEED_PLUGIN_SOURCE, FEED_REASON_RANDOM, 0, 0.05f,
    feed_source_random_propose, NULL, NULL
};
