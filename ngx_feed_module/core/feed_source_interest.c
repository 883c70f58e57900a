
/*
 * Copyright (C) the feed module developers
 */


/*
 * Source "interest": clips from the topic clusters nearest to what the
 * viewer has watched; for a viewer the feed knows nothing of yet, from a
 * few clusters at random, so that a first page already spans topics.
 */

#include "feed_rank.h"


#define FEED_INTEREST_CLUSTERS  4


static void
feed_source_interest_propose(feed_rank_t *rk, uint32_t budget)
{
    uint32_t                   i, k, n, nc, added, each, start;
    uint32_t                   near[FEED_INTEREST_CLUSTERS];
    const uint32_t            *list;
    feed_index_t              *ix;
    const feed_rank_viewer_t  *v;

    ix = feed_rank_index(rk);
    v = feed_rank_viewer(rk);

    if (v->confidence > 0) {
        nc = feed_index_nearest(ix, v->interest, feed_index_dim(ix), near,
                                FEED_INTEREST_CLUSTERS);

    } else {
        nc = feed_index_clusters(ix);
        nc = nc < FEED_INTEREST_CLUSTERS ? nc : FEED_INTEREST_CLUSTERS;

        for (k = 0; k < nc; k++) {
            near[k] = (uint32_t) (feed_rank_random(rk)
                                  % feed_index_clusters(ix));
        }
    }

    for (k = 0; k < nc; k++) {
        n = feed_index_members(ix, near[k], &list);
        if (n == 0) {
            continue;
        }

        /* the nearest cluster gets the largest share */

        each = budget / (k + 2) + 1;
        start = (uint32_t) (feed_rank_random(rk) % n);
        added = 0;

        for (i = 0; i < n && added < each; i++) {
            uint32_t  clip = list[(start + i) % n];

            if (v->seen && v->seen(v->seen_data, feed_index_hash(ix, clip))) {
                continue;
            }

            feed_rank_add(rk, clip, FEED_REASON_PERSONAL);
            added++;
        }
    }
}


const feed_plugin_t  feed_source_interest = {
    "interest", FEED_PLUGIN_SOURCE, FEED_REASON_PERSONAL, 0, 0.5f,
    feed_source_interest_propose, NULL, NULL
};
