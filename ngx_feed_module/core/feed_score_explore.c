
/*
 * Copyright (C) the feed module developers
 */


/*
 * Scorer "explore": for a clip in the fresh pool, a draw from the Beta
 * posterior of its qualified-view rate (Thompson sampling): a clip with
 * few impressions draws widely, so it gets its chance, and one that holds
 * its audience draws high more and more often.  0 for other clips.  The
 * draw chooses the clips of the reserved exploration slots; its weight
 * in the score is 0 by default.
 */

#include "feed_rank.h"


static float
feed_score_explore_score(feed_rank_t *rk, const feed_cand_t *c)
{
    uint64_t                 rng;
    uint32_t                 q, imp;
    const feed_clip_stat_t  *st;

    if (!c->fresh) {
        return 0;
    }

    st = &c->rec->st;
    imp = st->impressions;
    q = st->qualified < imp ? st->qualified : imp;
    rng = feed_rank_random(rk);

    return (float) feed_beta_sample(&rng, (double) q + 1,
                                    (double) (imp - q) + 1);
}


const feed_plugin_t  feed_score_explore = {
    "explore", FEED_PLUGIN_SCORER, 0, FEED_PART_EXPLORE, 0.0f,
    NULL, NULL, feed_score_explore_score, 0
};
