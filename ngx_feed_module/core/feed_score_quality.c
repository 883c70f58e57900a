
/*
 * Copyright (C) the feed module developers
 */


/*
 * Scorer "quality": how the clip holds the people it is shown to, over
 * everyone: the share of it watched per impression (loops count, 1.5 at
 * most on average), with likes and shares counted extra and fast skips
 * against, smoothed toward a prior of 0.3 by quality_prior
 * pseudo-impressions so that a clip with three views is not judged on
 * them.  Follower counts do not exist.
 */

#include "feed_rank.h"


static float
feed_score_quality_score(feed_rank_t *rk, const feed_cand_t *c)
{
    double                     q, w, prior;
    const feed_clip_stat_t    *st;
    const feed_rank_params_t  *p;

    p = feed_rank_params(rk);
    st = &c->rec->st;
    prior = p->quality_prior > 0 ? p->quality_prior : 1;

    w = (double) st->watched / 10000 * st->impressions;

    q = (w + 0.5 * st->likes + 1.0 * st->shares - 0.5 * st->skips
         + prior * 0.3)
        / ((double) st->impressions + prior);

    return (float) (q < 0 ? 0 : q > 1 ? 1 : q);
}


const feed_plugin_t  feed_score_quality = {
    "quality", FEED_PLUGIN_SCORER, 0, FEED_PART_QUALITY, 0.2f,
    NULL, NULL, feed_score_quality_score, 0
};
