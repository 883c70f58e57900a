
/*
 * Copyright (C) the feed module developers
 */


/*
 * Scorer "similarity": the cosine between the viewer's interest vector
 * and the clip's embedding, -1 to 1; 0 while the viewer is unknown.
 */

#include "feed_rank.h"


static float
feed_score_similarity_score(feed_rank_t *rk, const feed_cand_t *c)
{
    return feed_rank_cand_similarity(rk, c);
}


const feed_plugin_t  feed_score_similarity = {
    "similarity", FEED_PLUGIN_SCORER, 0, FEED_PART_SIMILARITY, 1.0f,
    NULL, NULL, feed_score_similarity_score, 0
};
