
/*
 * Copyright (C) the feed module developers
 */


/*
 * Scorer "trending": the clip's decayed engagement against the top
 * clip's, 0 to 1.
 */

#include "feed_rank.h"


static float
feed_score_trending_score(feed_rank_t *rk, const feed_cand_t *c)
{
    float                    top;
    uint32_t                 n;
    const uint32_t          *list;
    feed_index_t            *ix;
    const feed_clip_stat_t  *st;

    ix = feed_rank_index(rk);
    st = feed_index_stats(ix);
    n = feed_index_trending(ix, &list);

    if (n == 0 || !(st[list[0]].trend > 0) || !(st[c->clip].trend > 0)) {
        return 0;
    }

    top = st[list[0]].trend;

    return st[c->clip].trend >= top ? 1 : st[c->clip].trend / top;
}


const feed_plugin_t  feed_score_trending = {
    "trending", FEED_PLUGIN_SCORER, 0, FEED_PART_TRENDING, 0.3f,
    NULL, NULL, feed_score_trending_score
};
