
/*
 * Copyright (C) the feed module developers
 */


/*
 * Scorer "reach": breadth over saturation.  Minus the share of the
 * viewers in the state zone a clip has been shown to (its impressions
 * over the viewers the zone holds: a viewer is shown a clip once): 0 for
 * a clip nobody has seen, -1 for one everybody has.  Weighted, the clips
 * most viewers have seen give way to as good ones fewer have, so that
 * viewers' feeds differ; the reserved slots read it too (feed_rank.c).
 * The audience counts as FEED_REACH_AUDIENCE_MIN viewers at least, so
 * that a handful of viewers do not steer each other's feeds; a clip in
 * its first exposure stage counts as unseen: it is still being given its
 * first audience.
 */

#include "feed_rank.h"


#define FEED_REACH_AUDIENCE_MIN  100


static float
feed_score_reach_score(feed_rank_t *rk, const feed_cand_t *c)
{
    uint32_t  audience, shown;

    if (c->rec->fresh && c->rec->st.stage == 0) {
        return 0;
    }

    audience = feed_index_audience(feed_rank_index(rk));
    shown = c->rec->st.impressions;

    if (audience < FEED_REACH_AUDIENCE_MIN) {
        audience = FEED_REACH_AUDIENCE_MIN;
    }

    if (shown >= audience) {
        return -1;
    }

    return -(float) shown / (float) audience;
}


const feed_plugin_t  feed_score_reach = {
    "reach", FEED_PLUGIN_SCORER, 0, FEED_PART_REACH, 5.0f,
    NULL, NULL, feed_score_reach_score, 0
};
