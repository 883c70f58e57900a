
/*
 * Copyright (C) the feed module developers
 */


/*
 * Scorer "lineage": 1 for a remix of a clip the viewer liked (or what
 * such a clip remixed), up to 0.6 for one of the best clips of a sound
 * whose clip the viewer watched to the end (0.6 times its similarity to
 * the viewer), 0 otherwise.  The relation is the signal: the viewer liked
 * the original, or the sound.
 */

#include "feed_rank.h"


static float
feed_score_lineage_score(feed_rank_t *rk, const feed_cand_t *c)
{
    float  sim;

    if (c->sources & (1 << FEED_REASON_REMIX)) {
        return 1.0f;
    }

    if (!(c->sources & (1 << FEED_REASON_SOUND))) {
        return 0.0f;
    }

    /*
     * A sound is a reason to look, not to watch: its clips are lifted as
     * far as they also fit the viewer, so that a popular sound does not
     * fill the page with clips of every topic.
     */

    sim = feed_rank_cand_similarity(rk, c);

    return sim > 0 ? 0.6f * sim : 0.0f;
}


const feed_plugin_t  feed_score_lineage = {
    "lineage", FEED_PLUGIN_SCORER, 0, FEED_PART_LINEAGE, 0.8f,
    NULL, NULL, feed_score_lineage_score, 0
};
