
/*
 * Copyright (C) the feed module developers
 */


/*
 * Scorer "freshness": 1 for a clip made now, halving every
 * freshness_halflife.
 */

#include <math.h>

#include "feed_rank.h"


static float
feed_score_freshness_score(feed_rank_t *rk, const feed_cand_t *c)
{
    float                      age;
    uint32_t                   created;
    const feed_rank_params_t  *p;

    p = feed_rank_params(rk);
    created = c->rec->created;

    if (created >= feed_rank_now(rk) || !(p->freshness_halflife > 0)) {
        return 1;
    }

    /* in float: a part needs no more, and expf() costs half of exp() */

    age = (float) (feed_rank_now(rk) - created);

    return expf(-0.6931472f * age / (float) p->freshness_halflife);
}


const feed_plugin_t  feed_score_freshness = {
    "freshness", FEED_PLUGIN_SCORER, 0, FEED_PART_FRESHNESS, 0.2f,
    NULL, NULL, feed_score_freshness_score, 0
};
