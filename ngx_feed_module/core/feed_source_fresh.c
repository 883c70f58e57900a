
/*
 * Copyright (C) the feed module developers
 */


/*
 * Source "fresh": clips still in their exposure stages.  Of the least
 * shown (twice the budget, the newest first among equals), those
 * that fit the viewer best: every new clip is near the front of the list
 * soon, and is offered to the viewers it suits.  The counts are refreshed
 * every second, so a clip's first audience spreads over many viewers.
 */


#define FEED_FRESH_LOOK  2

#include "feed_rank.h"


static void
feed_source_fresh_propose(feed_rank_t *rk, uint32_t budget)
{
    float                      best[FEED_CAND_MAX / 4];
    uint32_t                   i, k, n, m, added, look;
    uint32_t                   pick[FEED_CAND_MAX / 4];
    const uint32_t            *list;
    feed_index_t              *ix;
    const feed_rank_viewer_t  *v;

    ix = feed_rank_index(rk);
    v = feed_rank_viewer(rk);
    n = feed_index_fresh(ix, &list);

    if (n == 0) {
        return;
    }

    if (budget > FEED_CAND_MAX / 4) {
        budget = FEED_CAND_MAX / 4;
    }

    /* the "budget" best fits among the least shown, by insertion */

    m = 0;

    /* with no taste, every fit is 0 and the first "budget" are taken */

    look = v->confidence > 0 ? FEED_FRESH_LOOK * budget : budget;

    for (i = 0, added = 0; i < n && added < look; i++) {
        uint32_t  clip = list[i];

        if (v->seen && v->seen(v->seen_data, feed_index_hash(ix, clip))) {
            continue;
        }

        added++;
        feed_top_add(best, pick, &m, budget, feed_rank_similarity(rk, clip),
                     clip);
    }

    for (k = 0; k < m; k++) {
        feed_rank_add_unseen(rk, pick[k], FEED_REASON_EXPLORE);
    }
}


const feed_plugin_t  feed_source_fresh = {
    "fresh", FEED_PLUGIN_SOURCE, FEED_REASON_EXPLORE, 0, 0.2f,
    feed_source_fresh_propose, NULL, NULL, 0
};
