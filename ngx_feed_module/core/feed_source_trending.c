
/*
 * Copyright (C) the feed module developers
 */


/*
 * Source "trending": the clips rising most right now over the whole
 * platform (decayed engagement), which the page then offers by personal
 * fit: the zeitgeist, without a trending page.
 */

#include "feed_rank.h"


static void
feed_source_trending_propose(feed_rank_t *rk, uint32_t budget)
{
    uint32_t                   i, n, added, start, top;
    const uint32_t            *list;
    feed_index_t              *ix;
    const feed_rank_viewer_t  *v;

    ix = feed_rank_index(rk);
    v = feed_rank_viewer(rk);
    n = feed_index_trending(ix, &list);

    if (n == 0) {
        return;
    }

    /*
     * Half of the budget from the top of the rising list, and at least
     * the FEED_RISING_TOP unseen a zeitgeist slot picks from; the rest
     * from anywhere in it, so that viewers do not all get the same few
     * clips; the page picks among them by personal fit.
     */

    top = budget / 2 > FEED_RISING_TOP ? budget / 2 : FEED_RISING_TOP;

    if (top > budget) {
        top = budget;
    }

    for (i = 0, added = 0; i < n && added < top; i++) {
        if (v->seen && v->seen(v->seen_data, feed_index_hash(ix, list[i]))) {
            continue;
        }

        feed_rank_add_unseen(rk, list[i], FEED_REASON_ZEITGEIST);
        added++;
    }

    start = n > budget ? (uint32_t) (feed_rank_random(rk) % n) : 0;

    for (i = 0; i < n && added < budget; i++) {
        uint32_t  clip = list[(start + i) % n];

        if (v->seen && v->seen(v->seen_data, feed_index_hash(ix, clip))) {
            continue;
        }

        feed_rank_add_unseen(rk, clip, FEED_REASON_ZEITGEIST);
        added++;
    }
}


const feed_plugin_t  feed_source_trending = {
    "trending", FEED_PLUGIN_SOURCE, FEED_REASON_ZEITGEIST, 0, 0.15f,
    feed_source_trending_propose, NULL, NULL, 0
};
