
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_RANK_H_INCLUDED_
#define _FEED_RANK_H_INCLUDED_


/*
 * The feed's ranking: one page of clips for one viewer.
 *
 *   sources   propose candidates (interest clusters, trending, the fresh
 *             pool, remixes of liked clips, random), each a share of the
 *             candidate budget;
 *   filters   drop candidates (already seen, blocked);
 *   scorers   add their part of the score (similarity, quality,
 *             freshness, trending, exploration);
 *   hook      the caller's last word on the scores (the Lua hook);
 *   assembly  fills the page slot by slot: reserved slots for fresh clips
 *             chosen by Thompson sampling times personal fit, a bounded
 *             share of rising clips chosen by personal fit, the rest by
 *             score with a diversity penalty, never the same creator or
 *             sound twice in a row.
 *
 * Sources, filters and scorers are plugins: a feed_plugin_t each, in a
 * file of its own, listed in the registry in feed_rank.c.  Everything
 * the ranking reads is per process (the catalog and a feed_index_t, whose
 * statistics the caller refreshes from shared memory), so no lock is
 * held while a page is ranked.
 */

#include "feed_core.h"
#include "feed_catalog.h"


#define FEED_DIM_MAX            32
#define FEED_PAGE_MAX           50
#define FEED_CAND_MAX           2048    /* < 4096: a record's "pos" */
#define FEED_LIKED_MAX          8
#define FEED_INTERESTS_MAX      4

#define FEED_REASON_PERSONAL    0
#define FEED_REASON_ZEITGEIST   1
#define FEED_REASON_EXPLORE     2
#define FEED_REASON_REMIX       3
#define FEED_REASON_RANDOM      4
#define FEED_REASON_SOUND       5
#define FEED_REASONS            6

#define FEED_SOUNDS_MAX         4

/* a listing instead of a feed page: only one sound's, one clip's remixes */
#define FEED_ONLY_SOUND         1
#define FEED_ONLY_REMIXES       2

#define FEED_PART_SIMILARITY    0
#define FEED_PART_QUALITY       1
#define FEED_PART_FRESHNESS     2
#define FEED_PART_TRENDING      3
#define FEED_PART_EXPLORE       4
#define FEED_PART_LINEAGE       5
#define FEED_PART_CREATOR       6
#define FEED_PART_REACH         7
#define FEED_PARTS              8

#define FEED_PLUGIN_SOURCE      1
#define FEED_PLUGIN_FILTER      2
#define FEED_PLUGIN_SCORER      3

#define FEED_RISING_TOP         10    /* what a zeitgeist slot takes first */
#define FEED_STAGES             3
#define FEED_STAGE_DONE         255   /* out of the fresh pool */


typedef struct feed_index_s  feed_index_t;
typedef struct feed_rank_s   feed_rank_t;


/* what the shared counters say of a clip, copied per process */

typedef struct {
    uint32_t            impressions;
    uint32_t            qualified;
    uint32_t            completions;
    uint32_t            likes;
    uint32_t            shares;
    uint32_t            skips;
    float               trend;
    uint8_t             stage;
    uint16_t            watched;          /* time watched per impression,
                                             x 10000 of the clip's length */
} feed_clip_stat_t;


typedef struct {
    float               interest[FEED_DIM_MAX];   /* ninterests vectors,
                                                     FEED_DIM_MAX /
                                                     ninterests apart */
    uint32_t            ninterests;       /* 0 or 1: one vector */
    float               confidence;       /* 0: nothing known yet */
    uint32_t            last_creator;     /* hashes of the last clip */
    uint32_t            last_sound;       /*   shown, 0: none */
    uint32_t            liked[FEED_LIKED_MAX];  /* catalog indexes */
    uint32_t            nliked;
    uint32_t            sounds[FEED_SOUNDS_MAX];  /* hashes of sounds of
                                                     clips watched to the
                                                     end, newest first */
    uint32_t            nsounds;
    uint32_t            position;         /* items served before this
                                             page: where the zeitgeist
                                             slots fall */
    uint32_t            only;             /* 0, or FEED_ONLY_* */
    uint32_t            only_key;         /* the sound's hash, the clip */
    const char         *only_name;        /* the sound's name */
    int               (*seen)(void *data, uint64_t clip_hash);
    void               *seen_data;
} feed_rank_viewer_t;


/*
 * What the ranking reads of a clip, in one cache line: a page looks at
 * hundreds of clips spread over the catalog, and each separate array
 * would cost a cache miss of its own.  The index owns these records; a
 * candidate points at its clip's.
 */

typedef struct {
    feed_clip_stat_t    st;          /* 32 */
    uint64_t            hash;
    uint32_t            creator;
    uint32_t            sound;
    uint32_t            mark:16;     /* the ranking generation */
    uint32_t            pos:12;      /* and the candidate's place in it */
    uint32_t            blocked:1;
    uint32_t            fresh:1;     /* in the fresh pool */
    uint16_t            tags;        /* a bit for each of its tags
                                        (feed_index_tag_bit()): none in
                                        common, no tag in common */
    uint16_t            load;        /* its creator's share of
                                        impressions, x 1000 of an even
                                        share */
    float               norm;
    uint32_t            created;
} feed_index_clip_t;


typedef struct {
    uint32_t            clip;
    uint8_t             reason;
    uint8_t             dropped;
    uint8_t             picked;
    uint8_t             fresh;
    uint8_t             sources;          /* 1 << reason, every source */
    uint8_t             rising;           /* of the top of the trending
                                             list, unseen */
    uint8_t             unseen;           /* a source found it unseen */
    uint8_t             short_k;          /* 1 + its place on the
                                             shortlist; 0: not on it */
    float               score;
    float               parts[FEED_PARTS];
    float               sample;           /* Thompson draw, fresh clips */
    feed_index_clip_t  *rec;              /* the clip's record */
    const float        *emb;              /* and its embedding */
} feed_cand_t;


typedef struct {
    uint32_t            clip;
    uint8_t             reason;
    float               score;
    float               parts[FEED_PARTS];
} feed_item_t;


typedef struct {
    const char         *name;
    unsigned            type;
    unsigned            reason;           /* sources: their reason */
    unsigned            part;             /* scorers: their part */
    float               weight;           /* the default */

    /*
     * sources: propose up to "budget" candidates with feed_rank_add(),
     * or feed_rank_add_unseen() for a clip the source has found not in
     * the viewer's seen set (the "seen" filter then need not look again)
     */
    void              (*propose)(feed_rank_t *rk, uint32_t budget);

    /* filters: 0 drops the candidate */
    int               (*keep)(feed_rank_t *rk, const feed_cand_t *c);

    /* scorers: the candidate's part, about 0 to 1 */
    float             (*score)(feed_rank_t *rk, const feed_cand_t *c);

    /*
     * sources: 1, just the source's share of the candidate budget; 0, a
     * page's worth at least, so that it can fill the slots kept for it
     */
    unsigned            at_share;
} feed_plugin_t;


typedef struct {
    uint32_t            page;             /* items per page */
    uint32_t            candidates;       /* candidate budget */
    float               explore_share;    /* reserved for fresh clips */
    float               zeitgeist_share;  /* at most, rising clips */
    float               diversity;        /* 0..1: weight of novelty */
    float               freshness_halflife;   /* seconds */
    float               trend_halflife;       /* seconds */
    float               quality_prior;    /* pseudo-impressions */
    float               promote;          /* qualified rate to move up */
    uint32_t            stage_cap[FEED_STAGES];
    uint32_t            qualified_ms;     /* watch time of a qualified view */

    /* per plugin, in registry order: < 0 disabled, else the weight */
    float               weight[32];
} feed_rank_params_t;


/* the caller's last word on scored candidates, e.g. a Lua hook */

typedef int (*feed_rank_hook_pt)(void *data, const feed_catalog_t *cat,
    feed_cand_t *cands, uint32_t n);


/*
 * A dot product in four running sums: one sum would make each step wait
 * for the last, and a page takes hundreds of these.
 */

static inline float
feed_dot(const float *a, const float *b, uint32_t dim)
{
    float     s0, s1, s2, s3;
    uint32_t  d;

    s0 = 0;
    s1 = 0;
    s2 = 0;
    s3 = 0;

    for (d = 0; d + 4 <= dim; d += 4) {
        s0 += a[d] * b[d];
        s1 += a[d + 1] * b[d + 1];
        s2 += a[d + 2] * b[d + 2];
        s3 += a[d + 3] * b[d + 3];
    }

    for ( /* void */ ; d < dim; d++) {
        s0 += a[d] * b[d];
    }

    return (s0 + s2) + (s1 + s3);
}


/*
 * The n best scores met so far, best first, with their ids; *m is how
 * many are kept.  A score goes in where it belongs, the worst falling
 * off once n are kept; of equal scores, the one met first stays ahead.
 */

static inline void
feed_top_add(float *best, uint32_t *id, uint32_t *m, uint32_t n, float s,
    uint32_t who)
{
    uint32_t  k;

    if (n == 0 || (*m == n && s <= best[n - 1])) {
        return;
    }

    k = (*m < n) ? (*m)++ : n - 1;

    while (k > 0 && best[k - 1] < s) {
        best[k] = best[k - 1];
        id[k] = id[k - 1];
        k--;
    }

    best[k] = s;
    id[k] = who;
}


/*
 * Four dot products at once, of v with four columns of a table kept by
 * dimension: dimension d's four values at col + d * stride.  Each sum is
 * in the order feed_dot() adds it, so each is feed_dot()'s value to the
 * bit; the compiler makes one vector of each running sum.
 */

static inline void
feed_dot4(const float *v, const float *col, size_t stride, uint32_t dim,
    float *out)
{
    float         s0[4], s1[4], s2[4], s3[4];
    uint32_t      d, i;
    const float  *r0, *r1, *r2, *r3;

    for (i = 0; i < 4; i++) {
        s0[i] = 0;
        s1[i] = 0;
        s2[i] = 0;
        s3[i] = 0;
    }

    for (d = 0; d + 4 <= dim; d += 4) {
        r0 = col + d * stride;
        r1 = r0 + stride;
        r2 = r1 + stride;
        r3 = r2 + stride;

        for (i = 0; i < 4; i++) {
            s0[i] += v[d] * r0[i];
            s1[i] += v[d + 1] * r1[i];
            s2[i] += v[d + 2] * r2[i];
            s3[i] += v[d + 3] * r3[i];
        }
    }

    for ( /* void */ ; d < dim; d++) {
        r0 = col + d * stride;

        for (i = 0; i < 4; i++) {
            s0[i] += v[d] * r0[i];
        }
    }

    for (i = 0; i < 4; i++) {
        out[i] = (s0[i] + s2[i]) + (s1[i] + s3[i]);
    }
}


/* the registry */

uint32_t feed_plugins(const feed_plugin_t *const **list);
int feed_plugin_find(const char *name, size_t len, unsigned type);
void feed_rank_default_params(feed_rank_params_t *p);

/* the index: clusters, remixes, statistics, trending and fresh lists */

feed_index_t *feed_index_new(const feed_catalog_t *cat, uint32_t clusters,
    uint64_t seed, feed_err_t *err);
void feed_index_free(feed_index_t *ix);
int feed_index_grow(feed_index_t *ix, const feed_catalog_t *cat);
uint32_t feed_index_count(const feed_index_t *ix);
uint64_t feed_index_hash(const feed_index_t *ix, uint32_t clip);
uint32_t feed_index_find(const feed_index_t *ix, uint64_t hash);
uint32_t feed_index_creator(const feed_index_t *ix, uint32_t clip);
uint32_t feed_index_sound(const feed_index_t *ix, uint32_t clip);
feed_clip_stat_t *feed_index_stat(feed_index_t *ix, uint32_t clip);
feed_index_clip_t *feed_index_rec(feed_index_t *ix, uint32_t clip);
void feed_index_prefetch(const feed_index_t *ix, uint32_t clip);
uint16_t feed_index_tag_bit(const char *tag, size_t len);
uint32_t feed_index_created(const feed_index_t *ix, uint32_t clip);
const float *feed_index_embedding(const feed_index_t *ix, uint32_t clip);
void feed_index_block(feed_index_t *ix, uint32_t clip);
void feed_index_refresh(feed_index_t *ix, uint32_t now,
    uint32_t fresh_window);
uint32_t feed_index_trending(const feed_index_t *ix, const uint32_t **list);
uint32_t feed_index_fresh(const feed_index_t *ix, const uint32_t **list);
uint32_t feed_index_clusters(const feed_index_t *ix);

uint64_t feed_clip_hash(const char *id, size_t len);
uint32_t feed_name_hash(const char *s);

/* ranking */

uint32_t feed_rank_page(const feed_catalog_t *cat, feed_index_t *ix,
    const feed_rank_params_t *p, const feed_rank_viewer_t *v, uint32_t now,
    uint64_t seed, feed_rank_hook_pt hook, void *hook_data,
    feed_item_t *out, uint32_t n);

/* for plugins */

void feed_rank_add(feed_rank_t *rk, uint32_t clip, unsigned reason);
void feed_rank_add_unseen(feed_rank_t *rk, uint32_t clip, unsigned reason);
const feed_catalog_t *feed_rank_catalog(feed_rank_t *rk);
feed_index_t *feed_rank_index(feed_rank_t *rk);
const feed_rank_viewer_t *feed_rank_viewer(feed_rank_t *rk);
const feed_rank_params_t *feed_rank_params(feed_rank_t *rk);
uint32_t feed_rank_now(feed_rank_t *rk);
uint64_t feed_rank_random(feed_rank_t *rk);
void feed_rank_walk(feed_rank_t *rk, uint32_t n, uint32_t *at,
    uint32_t *step);
double feed_rank_uniform(feed_rank_t *rk);
float feed_rank_similarity(feed_rank_t *rk, uint32_t clip);
float feed_rank_cand_similarity(feed_rank_t *rk, const feed_cand_t *c);
uint32_t feed_rank_interests(feed_rank_t *rk);
const float *feed_rank_interest(feed_rank_t *rk, uint32_t k, float *strength);
uint32_t feed_index_nearest(const feed_index_t *ix, const float *v,
    uint32_t dim, uint32_t *out, uint32_t n);
uint32_t feed_index_members(const feed_index_t *ix, uint32_t cluster,
    const uint32_t **list, const uint64_t **hashes);
uint32_t feed_index_sound_clips(const feed_index_t *ix, uint32_t sound_hash,
    const uint32_t **list);
uint32_t feed_index_remixes(const feed_index_t *ix, uint32_t clip,
    const uint32_t **list);
uint32_t feed_index_generation(feed_index_t *ix);
void feed_index_set_audience(feed_index_t *ix, uint32_t viewers);
uint32_t feed_index_audience(const feed_index_t *ix);
float feed_index_norm(const feed_index_t *ix, uint32_t clip);
uint32_t feed_index_dim(const feed_index_t *ix);

/* exposure stages: what an impression does to a fresh clip */

uint8_t feed_stage_next(uint8_t stage, uint32_t impressions,
    uint32_t qualified, const feed_rank_params_t *p);
double feed_beta_sample(uint64_t *rng, double a, double b);


#endif /* _FEED_RANK_H_INCLUDED_ */
