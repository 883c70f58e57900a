
/*
 * Copyright (C) the feed module developers
 */


/*
 * Scorer "creator": breadth over reach.  1 for a clip whose creator has
 * had no impressions, 1/2 at an even share of impressions over creators,
 * less the more the creator already has: popular creators do not crowd
 * out the rest, and follower counts do not exist.
 */

#include "feed_rank.h"


static float
feed_score_creator_score(feed_rank_t *rk, const feed_cand_t *c)
{
    (void) rk;

    return 1.0f / (1.0f + (float) c->rec->load / 1000);
}


const feed_plugin_t  feed_score_creator = {
    "creator", FEED_PLUGIN_SCORER, 0, FEED_PART_CREATOR, 0.3f,
    NULL, NULL, feed_score_creator_score, 0
};
