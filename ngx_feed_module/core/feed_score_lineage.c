
/*
 * Copyright (C) the feed module developers
 */


/*
 * Scorer "lineage": 1 for a remix of a clip the viewer liked (or what
 * such a clip remixed), 0.6 for one of the best clips of a sound whose
 * clip the viewer watched to the end, 0 otherwise.  The relation is the
 * signal: the viewer liked the original, or the sound.
 */

#include "feed_rank.h"


static float
feed_score_lineage_score(feed_rank_t *rk, const feed_cand_t *c)
{
    (void) rk;

    if (c->sources & (1 << FEED_REASON_REMIX)) {
        return 1.0f;
    }

    return (c->sources & (1 << FEED_REASON_SOUND)) ? 0.6f : 0.0f;
}


const feed_plugin_t  feed_score_lineage = {
    "lineage", FEED_PLUGIN_SCORER, 0, FEED_PART_LINEAGE, 0.8f,
    NULL, NULL, feed_score_lineage_score
};
