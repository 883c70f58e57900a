
/*
 * Copyright (C) the feed module developers
 */


/*
 * Source "interest": clips from the topic clusters nearest to each of the
 * viewer's tastes, the stronger tastes getting more; for a viewer the
 * feed knows nothing of yet, from a few clusters at random, so that a
 * first page already spans topics, with half the share: with no taste
 * to be near they are picks by chance, and more of them buy little.
 */

#include "feed_rank.h"


#define FEED_INTEREST_CLUSTERS  4
#define FEED_INTEREST_COLD      0.5f


static void
feed_source_interest_propose(feed_rank_t *rk, uint32_t budget)
{
    float                      strength, total, sum, share[16];
    uint32_t                   i, k, t, n, nc, m, added, each, start;
    uint32_t                   near[16], got[FEED_INTEREST_CLUSTERS];
    const float               *w;
    const uint32_t            *list;
    const uint64_t            *hash;
    feed_index_t              *ix;
    const feed_rank_viewer_t  *v;

    ix = feed_rank_index(rk);
    v = feed_rank_viewer(rk);
    nc = 0;
    total = 0;

    for (t = 0; t < feed_rank_interests(rk); t++) {
        if (feed_rank_interest(rk, t, &strength)) {
            total += strength;
        }
    }

    /* each taste's nearest clusters, shares by strength and nearness */

    for (t = 0; v->confidence > 0 && t < feed_rank_interests(rk); t++) {
        w = feed_rank_interest(rk, t, &strength);
        if (w == NULL) {
            continue;
        }

        m = feed_index_nearest(ix, w, feed_index_dim(ix), got,
                               FEED_INTEREST_CLUSTERS);

        for (k = 0; k < m && nc < 16; k++) {
            near[nc] = got[k];
            share[nc] = strength / total / (float) (k + 2);
            nc++;
        }
    }

    if (nc == 0) {
        m = feed_index_clusters(ix);
        m = m < FEED_INTEREST_CLUSTERS ? m : FEED_INTEREST_CLUSTERS;
        sum = 0;

        for (k = 0; k < m; k++) {
            near[nc] = (uint32_t) (feed_rank_random(rk)
                                   % feed_index_clusters(ix));
            share[nc] = 1.0f / (float) (k + 2);
            sum += share[nc];
            nc++;
        }

        for (k = 0; k < nc; k++) {
            share[k] *= FEED_INTEREST_COLD / sum;
        }
    }

    for (k = 0; k < nc; k++) {
        n = feed_index_members(ix, near[k], &list, &hash);
        if (n == 0) {
            continue;
        }

        each = (uint32_t) (share[k] * (float) budget) + 1;
        start = (uint32_t) (feed_rank_random(rk) % n);
        added = 0;

        /* from "start" round the list: m wraps without a division */

        for (i = 0, m = start; i < n && i < each + each / 4; i++) {
            feed_index_prefetch(ix, list[m]);
            m = m + 1 < n ? m + 1 : 0;
        }

        for (i = 0, m = start; i < n && added < each;
             i++, m = m + 1 < n ? m + 1 : 0)
        {
            /* the hashes are in the member list: no clip is touched */

            if (v->seen && v->seen(v->seen_data, hash[m])) {
                continue;
            }

            feed_rank_add_unseen(rk, list[m], FEED_REASON_PERSONAL);
            added++;
        }
    }
}


const feed_plugin_t  feed_source_interest = {
    "interest", FEED_PLUGIN_SOURCE, FEED_REASON_PERSONAL, 0, 0.5f,
    feed_source_interest_propose, NULL, NULL, 0
};
