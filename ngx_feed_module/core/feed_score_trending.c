
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
    float            top, tr;
    uint32_t         n;
    const uint32_t  *list;
    feed_index_t    *ix;

    ix = feed_rank_index(rk);
    n = feed_index_trending(ix, &list);
    tr = c->rec->st.trend;

    if (n == 0 || !(tr > 0)) {
        return 0;
    }

    top = feed_index_stat(ix, list[0])->trend;

    return (tr >= top || !(top > 0)) ? 1 : tr / top;
}


const feed_plugin_t  feed_score_trending = {
    "trending", FEED_PLUGIN_SCORER, 0, FEED_PART_TRENDING, 0.0f,
    NULL, NULL, feed_score_trending_score, 0
};
