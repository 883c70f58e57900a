
/*
 * Copyright (C) the feed module developers
 */


/*
 * Source "lineage": the remixes (duets, stitches) of clips the viewer
 * liked, and what those clips remixed: building on each other's work.
 */

#include "feed_rank.h"


static void
feed_source_lineage_propose(feed_rank_t *rk, uint32_t budget)
{
    uint32_t                   i, k, n, added, parent;
    const uint32_t            *list;
    feed_index_t              *ix;
    const feed_catalog_t      *cat;
    const feed_rank_viewer_t  *v;

    ix = feed_rank_index(rk);
    v = feed_rank_viewer(rk);
    cat = feed_rank_catalog(rk);
    added = 0;

    for (k = 0; k < v->nliked && added < budget; k++) {
        if (v->liked[k] >= feed_index_count(ix)) {
            continue;
        }

        n = feed_index_remixes(ix, v->liked[k], &list);

        for (i = 0; i < n && added < budget; i++) {
            feed_rank_add(rk, list[i], FEED_REASON_REMIX);
            added++;
        }

        parent = feed_catalog_clip(cat, v->liked[k])->parent;

        if (parent != FEED_NONE && added < budget) {
            feed_rank_add(rk, parent, FEED_REASON_REMIX);
            added++;
        }
    }
}


const feed_plugin_t  feed_source_lineage = {
    "lineage", FEED_PLUGIN_SOURCE, FEED_REASON_REMIX, 0, 0.1f,
    feed_source_lineage_propose, NULL, NULL, 0
};
