
/*
 * Copyright (C) the feed module developers
 */


/*
 * Source "fresh": clips still in their exposure stages, the least shown
 * first (the newest first among equals), so that a clip that has not
 * been shown yet is always a candidate.  The counts are refreshed every
 * second, so a new clip's first audience still spreads over viewers.
 */

#include "feed_rank.h"


static void
feed_source_fresh_propose(feed_rank_t *rk, uint32_t budget)
{
    uint32_t                   i, n, added;
    const uint32_t            *list;
    feed_index_t              *ix;
    const feed_rank_viewer_t  *v;

    ix = feed_rank_index(rk);
    v = feed_rank_viewer(rk);
    n = feed_index_fresh(ix, &list);

    if (n == 0) {
        return;
    }

    for (i = 0, added = 0; i < n && added < budget; i++) {
        uint32_t  clip = list[i];

        if (v->seen && v->seen(v->seen_data, feed_index_hash(ix, clip))) {
            continue;
        }

        feed_rank_add(rk, clip, FEED_REASON_EXPLORE);
        added++;
    }
}


const feed_plugin_t  feed_source_fresh = {
    "fresh", FEED_PLUGIN_SOURCE, FEED_REASON_EXPLORE, 0, 0.2f,
    feed_source_fresh_propose, NULL, NULL
};
