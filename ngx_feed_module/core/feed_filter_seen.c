
/*
 * Copyright (C) the feed module developers
 */


/*
 * Filter "seen": never a clip the viewer was already shown (as far as
 * the viewer's seen set remembers).
 */

#include "feed_rank.h"


static int
feed_filter_seen_keep(feed_rank_t *rk, const feed_cand_t *c)
{
    const feed_rank_viewer_t  *v;

    v = feed_rank_viewer(rk);

    /* most sources have looked already */

    return c->unseen || v->seen == NULL
           || !v->seen(v->seen_data, c->rec->hash);
}


const feed_plugin_t  feed_filter_seen = {
    "seen", FEED_PLUGIN_FILTER, 0, 0, 0,
    NULL, feed_filter_seen_keep, NULL, 0
};
