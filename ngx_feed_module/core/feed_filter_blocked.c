
/*
 * Copyright (C) the feed module developers
 */


/*
 * Filter "blocked": clips the operator's feed_block rules matched when
 * the catalog was loaded.
 */

#include "feed_rank.h"


static int
feed_filter_blocked_keep(feed_rank_t *rk, const feed_cand_t *c)
{
    (void) rk;

    return !c->rec->blocked;
}


const feed_plugin_t  feed_filter_blocked = {
    "blocked", FEED_PLUGIN_FILTER, 0, 0, 0,
    NULL, feed_filter_blocked_keep, NULL, 0
};
