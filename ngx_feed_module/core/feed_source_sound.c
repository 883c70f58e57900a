
/*
 * Copyright (C) the feed module developers
 */


/*
 * Source "sound": a sound is a collaboration too (many people dancing to
 * one song).  A viewer who watched clips with a sound to the end is
 * offered that sound's best clips: those that most held their audience,
 * by the smoothed rate the quality scorer uses, of a random sample of the
 * sound's clips.
 */

#include "feed_rank.h"


#define FEED_SOUND_SCAN   32      /* clips looked at per clip kept */
#define FEED_SOUND_KEEP   16      /* clips kept per sound, at most */


static double feed_source_sound_rate(feed_rank_t *rk, uint32_t clip);


static void
feed_source_sound_propose(feed_rank_t *rk, uint32_t budget)
{
    double                     q, best_q[FEED_SOUND_KEEP];
    uint32_t                   i, j, k, n, share, start, kept, clip, scan;
    uint32_t                   best[FEED_SOUND_KEEP];
    const uint32_t            *list;
    feed_index_t              *ix;
    const feed_rank_viewer_t  *v;

    ix = feed_rank_index(rk);
    v = feed_rank_viewer(rk);

    if (v->nsounds == 0) {
        return;
    }

    share = budget / v->nsounds;

    if (share == 0) {
        share = 1;
    }

    if (share > FEED_SOUND_KEEP) {
        share = FEED_SOUND_KEEP;
    }

    /*
     * The best of a sample, FEED_SOUND_SCAN clips for each one kept: each
     * look is a clip's record and a seen-set lookup, and a popular sound
     * has thousands of clips where a page keeps one or two.
     */

    scan = share * FEED_SOUND_SCAN;

    for (k = 0; k < v->nsounds && k < FEED_SOUNDS_MAX; k++) {
        n = feed_index_sound_clips(ix, v->sounds[k], &list);

        /* a long list is sampled from a random place, not read whole */

        start = n > scan ? (uint32_t) (feed_rank_random(rk) % n) : 0;
        kept = 0;

        /* the records asked for at once, not one miss after another */

        for (i = 0; i < n && i < scan; i++) {
            feed_index_prefetch(ix, list[(start + i) % n]);
        }

        for (i = 0; i < n && i < scan; i++) {
            clip = list[(start + i) % n];

            if (v->seen && v->seen(v->seen_data, feed_index_hash(ix, clip))) {
                continue;
            }

            q = feed_source_sound_rate(rk, clip);

            if (kept == share) {
                if (best_q[kept - 1] >= q) {
                    continue;
                }

                kept--;
            }

            j = kept++;

            while (j > 0 && best_q[j - 1] < q) {
                best[j] = best[j - 1];
                best_q[j] = best_q[j - 1];
                j--;
            }

            best[j] = clip;
            best_q[j] = q;
        }

        for (i = 0; i < kept; i++) {
            feed_rank_add_unseen(rk, best[i], FEED_REASON_SOUND);
        }
    }
}


static double
feed_source_sound_rate(feed_rank_t *rk, uint32_t clip)
{
    double                   prior;
    const feed_clip_stat_t  *st;

    st = feed_index_stat(feed_rank_index(rk), clip);
    prior = feed_rank_params(rk)->quality_prior;

    if (!(prior > 0)) {
        prior = 1;
    }

    return ((double) st->completions + 0.5 * st->qualified + prior * 0.3)
           / ((double) st->impressions + prior);
}


const feed_plugin_t  feed_source_sound = {
    "sound", FEED_PLUGIN_SOURCE, FEED_REASON_SOUND, 0, 0.05f,
    feed_source_sound_propose, NULL, NULL, 0
};
