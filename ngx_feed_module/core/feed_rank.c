
/*
 * Copyright (C) the feed module developers
 */


#include <math.h>
#include <string.h>

#include "feed_rank.h"


#define FEED_SHORTLIST       64      /* candidates the page is chosen from */
#define FEED_TOP_UP_LOOK     4096    /* clips a short pool's top-up walks */
#define FEED_SLOT_PERSONAL   0
#define FEED_SLOT_EXPLORE    1
#define FEED_SLOT_ZEITGEIST  2


struct feed_rank_s {
    const feed_catalog_t       *cat;
    feed_index_t               *ix;
    const feed_rank_params_t   *p;
    const feed_rank_viewer_t   *v;
    uint32_t                    now;
    uint64_t                    rng;
    uint32_t                    gen;
    float                       vn[FEED_INTERESTS_MAX];
    uint32_t                    nvec;
    uint32_t                    stride;
    uint32_t                    dim;
    uint32_t                    n;
    uint32_t                    reach;      /* the reach scorer is on */
    feed_cand_t                 c[FEED_CAND_MAX];

    /*
     * The shortlist in columns, for the personal slots: the embeddings
     * over their lengths (a column of FEED_SHORTLIST per dimension) and
     * each clip's likeness to the page so far, brought up to date for
     * all of them at once as each item is placed.
     */
    float                       unit[FEED_DIM_MAX][FEED_SHORTLIST];
    float                       likeness[FEED_SHORTLIST];
    float                       score[FEED_SHORTLIST];
    uint32_t                    creator[FEED_SHORTLIST];
    uint32_t                    sound[FEED_SHORTLIST];
    uint8_t                     picked[FEED_SHORTLIST];
};


extern const feed_plugin_t  feed_source_interest;
extern const feed_plugin_t  feed_source_trending;
extern const feed_plugin_t  feed_source_fresh;
extern const feed_plugin_t  feed_source_lineage;
extern const feed_plugin_t  feed_source_random;
extern const feed_plugin_t  feed_source_sound;
extern const feed_plugin_t  feed_filter_seen;
extern const feed_plugin_t  feed_filter_blocked;
extern const feed_plugin_t  feed_score_similarity;
extern const feed_plugin_t  feed_score_quality;
extern const feed_plugin_t  feed_score_freshness;
extern const feed_plugin_t  feed_score_trending;
extern const feed_plugin_t  feed_score_explore;
extern const feed_plugin_t  feed_score_lineage;
extern const feed_plugin_t  feed_score_creator;
extern const feed_plugin_t  feed_score_reach;


/* the registry: a new source, filter or scorer is one file and one line */

static const feed_plugin_t *const  feed_registry[] = {
    &feed_source_interest,
    &feed_source_trending,
    &feed_source_fresh,
    &feed_source_lineage,
    &feed_source_random,
    &feed_source_sound,
    &feed_filter_seen,
    &feed_filter_blocked,
    &feed_score_similarity,
    &feed_score_quality,
    &feed_score_freshness,
    &feed_score_trending,
    &feed_score_explore,
    &feed_score_lineage,
    &feed_score_creator,
    &feed_score_reach,
};

#define FEED_NPLUGINS  (sizeof(feed_registry) / sizeof(feed_registry[0]))


static float feed_rank_fit(feed_rank_t *rk, const float *e, float cn);
static void feed_rank_unit(feed_rank_t *rk, const feed_cand_t *c,
    float *out);
static void feed_rank_only(feed_rank_t *rk);
static uint64_t feed_rank_key(float score, uint32_t j);
static void feed_rank_top_up(feed_rank_t *rk, uint32_t need);
static uint32_t feed_rank_filter(feed_rank_t *rk, uint32_t from,
    const uint32_t *filters, uint32_t nfilters);
static void feed_rank_score(feed_rank_t *rk, uint32_t from,
    const feed_plugin_t **scorer, const float *weight, uint32_t nscorers);
static uint32_t feed_rank_gcd(uint32_t a, uint32_t b);
static void feed_rank_heap_up(uint64_t *h, uint32_t i);
static void feed_rank_heap_down(uint64_t *h, uint32_t n);
static int feed_rank_spaced(feed_rank_t *rk, const feed_cand_t *c,
    uint32_t creator, uint32_t sound);
static feed_cand_t *feed_rank_fitting(feed_rank_t *rk, uint32_t from,
    uint32_t creator, uint32_t sound);
static void feed_rank_liken(feed_rank_t *rk, const float *unit,
    uint32_t n);
static float feed_rank_spread(feed_rank_t *rk, const feed_cand_t *c);
static void feed_rank_rising(feed_rank_t *rk);
static double feed_gamma_sample(uint64_t *rng, double a);
static double feed_normal_sample(uint64_t *rng);
static double feed_uniform_sample(uint64_t *rng);


uint32_t
feed_plugins(const feed_plugin_t *const **list)
{
    *list = feed_registry;
    return FEED_NPLUGINS;
}


int
feed_plugin_find(const char *name, size_t len, unsigned type)
{
    size_t  i;

    for (i = 0; i < FEED_NPLUGINS; i++) {
        if (feed_registry[i]->type == type
            && strlen(feed_registry[i]->name) == len
            && memcmp(feed_registry[i]->name, name, len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


void
feed_rank_default_params(feed_rank_params_t *p)
{
    size_t  i;

    memset(p, 0, sizeof(feed_rank_params_t));

    p->page = 10;
    p->candidates = 60;
    p->explore_share = 0.04f;
    p->zeitgeist_share = 0.04f;
    p->diversity = 0.3f;
    p->freshness_halflife = 2 * 86400;
    p->trend_halflife = 3600;
    p->quality_prior = 20;
    p->promote = 0.4f;
    p->stage_cap[0] = 100;
    p->stage_cap[1] = 1000;
    p->stage_cap[2] = 10000;
    p->qualified_ms = 3000;

    for (i = 0; i < FEED_NPLUGINS; i++) {
        p->weight[i] = feed_registry[i]->weight;
    }
}


/* plugin helpers */

void
feed_rank_add(feed_rank_t *rk, uint32_t clip, unsigned reason)
{
    feed_cand_t        *c;
    feed_index_clip_t  *rec;

    if (rk->n == FEED_CAND_MAX || clip >= feed_index_count(rk->ix)) {
        return;
    }

    rec = feed_index_rec(rk->ix, clip);

    if (rec->mark == (uint16_t) rk->gen) {

        /* proposed again by another source: it counts for both */

        rk->c[rec->pos].sources |= (uint8_t) (1 << reason);
        return;
    }

    rec->mark = (uint16_t) rk->gen;
    rec->pos = (uint16_t) rk->n;

    c = &rk->c[rk->n++];
    memset(c, 0, sizeof(feed_cand_t));
    c->clip = clip;
    c->reason = (uint8_t) reason;
    c->sources = (uint8_t) (1 << reason);
    c->fresh = rec->fresh;
    c->rec = rec;
    c->emb = feed_index_embedding(rk->ix, clip);

#if defined(__GNUC__)
    /* the similarity scorer reads it soon; the memory is far */
    __builtin_prefetch(c->emb);
#endif
}


void
feed_rank_add_unseen(feed_rank_t *rk, uint32_t clip, unsigned reason)
{
    feed_index_clip_t  *rec;

    feed_rank_add(rk, clip, reason);

    if (clip < feed_index_count(rk->ix)) {
        rec = feed_index_rec(rk->ix, clip);

        if (rec->mark == (uint16_t) rk->gen) {
            rk->c[rec->pos].unseen = 1;
        }
    }
}


const feed_catalog_t *
feed_rank_catalog(feed_rank_t *rk)
{
    return rk->cat;
}


feed_index_t *
feed_rank_index(feed_rank_t *rk)
{
    return rk->ix;
}


const feed_rank_viewer_t *
feed_rank_viewer(feed_rank_t *rk)
{
    return rk->v;
}


const feed_rank_params_t *
feed_rank_params(feed_rank_t *rk)
{
    return rk->p;
}


uint32_t
feed_rank_now(feed_rank_t *rk)
{
    return rk->now;
}


uint64_t
feed_rank_random(feed_rank_t *rk)
{
    return feed_next64(&rk->rng);
}


double
feed_rank_uniform(feed_rank_t *rk)
{
    return feed_uniform_sample(&rk->rng);
}


/*
 * The viewer's interest against a clip: the cosine with the taste it fits
 * best, in [-1, 1]; 0 while nothing is known.
 */

static float
feed_rank_fit(feed_rank_t *rk, const float *e, float cn)
{
    float         s, best;
    uint32_t      k, dim, any;
    const float  *w;

    dim = rk->dim;

    if (cn <= 0 || dim == 0) {
        return 0;
    }

    best = -1;
    any = 0;

    for (k = 0; k < rk->nvec; k++) {
        if (rk->vn[k] <= 0) {
            continue;
        }

        w = rk->v->interest + k * rk->stride;
        s = feed_dot(w, e, dim) / (rk->vn[k] * cn);
        any = 1;

        if (s > best) {
            best = s;
        }
    }

    return any ? best : 0;
}


float
feed_rank_similarity(feed_rank_t *rk, uint32_t clip)
{
    return feed_rank_fit(rk, feed_index_embedding(rk->ix, clip),
                         feed_index_norm(rk->ix, clip));
}


/* the same for a candidate, from what it holds */

float
feed_rank_cand_similarity(feed_rank_t *rk, const feed_cand_t *c)
{
    return feed_rank_fit(rk, c->emb, c->rec->norm);
}


uint32_t
feed_rank_interests(feed_rank_t *rk)
{
    return rk->nvec;
}


/* a taste vector and its strength (its length); NULL if empty */

const float *
feed_rank_interest(feed_rank_t *rk, uint32_t k, float *strength)
{
    if (k >= rk->nvec || rk->vn[k] <= 0) {
        return NULL;
    }

    *strength = rk->vn[k];

    return rk->v->interest + k * rk->stride;
}


/*
 * A candidate's embedding over its length, so that the likeness of two
 * clips, the cosine, is a dot product; 0 for a clip without one.
 */

static void
feed_rank_unit(feed_rank_t *rk, const feed_cand_t *c, float *out)
{
    float     r;
    uint32_t  d;

    r = c->rec->norm > 0 ? 1 / c->rec->norm : 0;

    for (d = 0; d < rk->dim; d++) {
        out[d] = c->emb[d] * r;
    }
}


/*
 * An item placed on the page: the likeness to it of the first n
 * shortlisted clips (n a multiple of 4: the shortlist's length rounded
 * up), the cosine, kept where it is the closest so far.  Column by
 * column, the sums in the order feed_dot() adds them.
 */

static void
feed_rank_liken(feed_rank_t *rk, const float *unit, uint32_t n)
{
    float     w[4];
    uint32_t  k, i;

    for (k = 0; k < n; k += 4) {
        feed_dot4(unit, &rk->unit[0][k], FEED_SHORTLIST, rk->dim, w);

        /* a select, not a branch: which is closer cannot be predicted */

        for (i = 0; i < 4; i++) {
            rk->likeness[k + i] = w[i] > rk->likeness[k + i]
                                  ? w[i] : rk->likeness[k + i];
        }
    }
}


static int
feed_rank_spaced(feed_rank_t *rk, const feed_cand_t *c, uint32_t creator,
    uint32_t sound)
{
    /* a listing of one sound or one clip's remixes is not a feed */

    if (rk->v->only) {
        return 1;
    }

    return c->rec->creator != creator && c->rec->sound != sound;
}


/*
 * What a reserved slot makes of a clip's reach: the share of viewers not
 * shown it yet, squared (a clip half the viewers have seen counts a
 * quarter), so that the slots' clips, which every viewer's feed offers
 * alike, are spread over viewers; 1 while the reach scorer is off.
 */

/*
 * The best score from the candidates from "from" on that are neither
 * dropped nor picked and may follow the last item; NULL if none may
 */

static feed_cand_t *
feed_rank_fitting(feed_rank_t *rk, uint32_t from, uint32_t creator,
    uint32_t sound)
{
    float         best_u;
    uint32_t      j;
    feed_cand_t  *c, *best;

    best = NULL;
    best_u = -1e30f;

    for (j = from; j < rk->n; j++) {
        c = &rk->c[j];

        if (!c->dropped && !c->picked
            && feed_rank_spaced(rk, c, creator, sound)
            && c->score > best_u)
        {
            best_u = c->score;
            best = c;
        }
    }

    return best;
}


static float
feed_rank_spread(feed_rank_t *rk, const feed_cand_t *c)
{
    float  r;

    if (!rk->reach) {
        return 1;
    }

    r = 1 + c->parts[FEED_PART_REACH];

    return r * r;
}


/*
 * The clips rising most that the viewer has not been shown: the first
 * FEED_RISING_TOP of the trending list still candidates after the
 * filters (the trending source proposes the top of the list first).
 */

static void
feed_rank_rising(feed_rank_t *rk)
{
    uint32_t            i, n, k;
    const uint32_t     *list;
    feed_index_clip_t  *rec;

    n = feed_index_trending(rk->ix, &list);

    for (i = 0, k = 0; i < n && k < FEED_RISING_TOP; i++) {
        rec = feed_index_rec(rk->ix, list[i]);

        if (rec->mark == (uint16_t) rk->gen && !rk->c[rec->pos].dropped) {
            rk->c[rec->pos].rising = 1;
            k++;
        }
    }
}


/*
 * A listing's candidates: every clip with the sound (by name: two names
 * may share a hash), or every remix of the clip, the newest first, as
 * many as a ranking holds.
 */

static void
feed_rank_only(feed_rank_t *rk)
{
    uint32_t         i, n, clip;
    unsigned         reason;
    const char      *name;
    const uint32_t  *list;

    name = NULL;

    if (rk->v->only == FEED_ONLY_SOUND) {
        n = feed_index_sound_clips(rk->ix, rk->v->only_key, &list);
        name = rk->v->only_name;
        reason = FEED_REASON_SOUND;

    } else {
        n = feed_index_remixes(rk->ix, rk->v->only_key, &list);
        reason = FEED_REASON_REMIX;
    }

    for (i = n; i > 0 && rk->n < FEED_CAND_MAX; i--) {
        clip = list[i - 1];

        if (name
            && strcmp(feed_clip_sound(rk->cat,
                                      feed_catalog_clip(rk->cat, clip)),
                      name)
               != 0)
        {
            continue;
        }

        feed_rank_add(rk, clip, reason);
    }
}


/*
 * Up to "need" more clips neither seen nor blocked, from a walk over the
 * catalog like the random source's, looking at FEED_TOP_UP_LOOK clips at
 * most.
 */

static void
feed_rank_top_up(feed_rank_t *rk, uint32_t need)
{
    uint32_t                   i, n, at, step, look, added, before;
    feed_index_clip_t         *rec;
    const feed_rank_viewer_t  *v;

    v = rk->v;
    n = feed_index_count(rk->ix);

    if (n == 0) {
        return;
    }

    feed_rank_walk(rk, n, &at, &step);

    look = n < FEED_TOP_UP_LOOK ? n : FEED_TOP_UP_LOOK;
    added = 0;

    for (i = 0; i < look && added < need && rk->n < FEED_CAND_MAX; i++) {
        rec = feed_index_rec(rk->ix, at);

        if (!rec->blocked && rec->mark != (uint16_t) rk->gen
            && !(v->seen && v->seen(v->seen_data, rec->hash)))
        {
            before = rk->n;
            feed_rank_add_unseen(rk, at, FEED_REASON_RANDOM);
            added += rk->n > before;
        }

        at = (uint32_t) (((uint64_t) at + step) % n);
    }
}


/* the filters on the candidates from "from" on: how many they keep */

static uint32_t
feed_rank_filter(feed_rank_t *rk, uint32_t from, const uint32_t *filters,
    uint32_t nfilters)
{
    uint32_t      j, k, alive;
    feed_cand_t  *c;

    alive = 0;

    for (j = from; j < rk->n; j++) {
        c = &rk->c[j];

        for (k = 0; k < nfilters; k++) {
            if (!feed_registry[filters[k]]->keep(rk, c)) {
                c->dropped = 1;
                break;
            }
        }

        alive += !c->dropped;
    }

    return alive;
}


/* the scorers' parts and the weighted sum, for the candidates kept */

static void
feed_rank_score(feed_rank_t *rk, uint32_t from, const feed_plugin_t **scorer,
    const float *weight, uint32_t nscorers)
{
    float         score, part;
    uint32_t      j, k;
    feed_cand_t  *c;

    for (j = from; j < rk->n; j++) {
        c = &rk->c[j];

        if (c->dropped) {
            continue;
        }

        /* the sum in a register: a store to c would have to wait */

        score = 0;

        for (k = 0; k < nscorers; k++) {
            part = scorer[k]->score(rk, c);
            c->parts[scorer[k]->part] = part;
            score += weight[k] * part;
        }

        c->score = score;

        c->sample = c->parts[FEED_PART_EXPLORE];
    }
}


/*
 * A walk over n clips that visits each once before it repeats: a random
 * start and a random step prime to n (at = (at + step) % n each time).
 */

void
feed_rank_walk(feed_rank_t *rk, uint32_t n, uint32_t *at, uint32_t *step)
{
    *at = (uint32_t) (feed_rank_random(rk) % n);
    *step = 1;

    if (n > 2) {
        *step = 1 + (uint32_t) (feed_rank_random(rk) % (n - 1));

        while (feed_rank_gcd(n, *step) != 1) {
            *step = (*step == n - 1) ? 1 : *step + 1;
        }
    }
}


static uint32_t
feed_rank_gcd(uint32_t a, uint32_t b)
{
    uint32_t  t;

    while (b) {
        t = a % b;
        a = b;
        b = t;
    }

    return a;
}


/*
 * A candidate's rank as one number, the greater the better: its score
 * in the high half (the float's bits made to order as unsigned, the two
 * zeros as one), and in the low half its index reversed, so that of
 * equal scores the earlier candidate ranks first.
 */

static uint64_t
feed_rank_key(float score, uint32_t j)
{
    uint32_t  u;

    if (score == 0) {
        score = 0;              /* -0 ranks as 0 */
    }

    memcpy(&u, &score, sizeof(uint32_t));
    u = (u & 0x80000000) ? ~u : u | 0x80000000;

    return (uint64_t) u << 32 | (uint32_t) ~j;
}


/* the shortlist's heap: each parent ranks after its children */

static void
feed_rank_heap_up(uint64_t *h, uint32_t i)
{
    uint64_t  t;

    while (i > 0 && h[(i - 1) / 2] > h[i]) {
        t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}


static void
feed_rank_heap_down(uint64_t *h, uint32_t n)
{
    uint32_t  i, l, w;
    uint64_t  t;

    i = 0;

    for ( ;; ) {
        l = 2 * i + 1;

        if (l >= n) {
            break;
        }

        w = (l + 1 < n && h[l + 1] < h[l]) ? l + 1 : l;

        if (h[i] <= h[w]) {
            break;
        }

        t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}


/*
 * One page: candidates, filters, scores, the hook, then the slots.
 * Returns the number of items written to "out" (fewer than n when the
 * candidates run out, never a repeat, never a creator or sound twice in
 * a row).
 */

uint32_t
feed_rank_page(const feed_catalog_t *cat, feed_index_t *ix,
    const feed_rank_params_t *p, const feed_rank_viewer_t *v, uint32_t now,
    uint64_t seed, feed_rank_hook_pt hook, void *hook_data,
    feed_item_t *out, uint32_t n)
{
    float                 w, u, best_u, sim, total, share;
    uint32_t              i, j, k, m, budget, slot, nslots[3], nexp;
    uint64_t              zs, at;
    uint32_t              creator, sound, short_n, shortlist[FEED_SHORTLIST];
    uint32_t              d, best_k;
    uint64_t              key, heap[FEED_SHORTLIST];
    float                 unit[FEED_DIM_MAX];
    float                 weight[FEED_NPLUGINS];
    uint32_t              filters[FEED_NPLUGINS];
    uint32_t              nfilters, nscorers, alive;
    uint8_t               kind[FEED_PAGE_MAX];
    uint32_t              pass, npass;
    feed_cand_t          *c, *best;
    feed_rank_t          *rk;
    static feed_rank_t    rank;     /* one ranking at a time per process */
    const feed_plugin_t  *pl, *scorer[FEED_NPLUGINS];

    if (n > FEED_PAGE_MAX) {
        n = FEED_PAGE_MAX;
    }

    rk = &rank;
    rk->cat = cat;
    rk->ix = ix;
    rk->p = p;
    rk->v = v;
    rk->now = now;
    rk->rng = seed ? seed : 1;
    rk->n = 0;
    rk->gen = feed_index_generation(ix);
    rk->dim = feed_index_dim(ix);
    rk->nvec = v->ninterests ? v->ninterests : 1;

    if (rk->nvec > FEED_INTERESTS_MAX) {
        rk->nvec = FEED_INTERESTS_MAX;
    }

    rk->stride = FEED_DIM_MAX / rk->nvec;

    if (feed_index_dim(ix) > rk->stride) {
        rk->nvec = 1;           /* the vectors would overlap */
        rk->stride = FEED_DIM_MAX;
    }

    for (k = 0; k < rk->nvec; k++) {
        rk->vn[k] = 0;

        for (i = 0; v->confidence > 0 && i < feed_index_dim(ix); i++) {
            rk->vn[k] += v->interest[k * rk->stride + i]
                         * v->interest[k * rk->stride + i];
        }

        rk->vn[k] = (rk->vn[k] > 1e-8f) ? sqrtf(rk->vn[k]) : 0;
    }

    /* sources, each its share of the budget */

    total = 0;

    for (i = 0; i < FEED_NPLUGINS; i++) {
        if (feed_registry[i]->type == FEED_PLUGIN_SOURCE && p->weight[i] > 0) {
            total += p->weight[i];
        }
    }

    if (v->only) {
        feed_rank_only(rk);
        total = 0;
    }

    for (i = 0; i < FEED_NPLUGINS && total > 0; i++) {
        pl = feed_registry[i];

        if (pl->type != FEED_PLUGIN_SOURCE || !(p->weight[i] > 0)) {
            continue;
        }

        share = p->weight[i] / total;
        budget = (uint32_t) (share * (float) p->candidates + 0.5f);

        if (budget < n && !pl->at_share) {
            budget = n;
        }

        if (budget < 1) {
            budget = 1;
        }

        pl->propose(rk, budget);
    }

    /* the filters and scorers in use */

    nfilters = 0;
    nscorers = 0;

    for (i = 0; i < FEED_NPLUGINS; i++) {
        if (feed_registry[i]->type == FEED_PLUGIN_FILTER
            && p->weight[i] >= 0
            && !(v->only && feed_registry[i] == &feed_filter_seen))
        {
            filters[nfilters++] = i;

        } else if (feed_registry[i]->type == FEED_PLUGIN_SCORER
                   && p->weight[i] >= 0)
        {
            scorer[nscorers] = feed_registry[i];
            weight[nscorers++] = p->weight[i];
        }

        if (feed_registry[i] == &feed_score_reach) {
            rk->reach = p->weight[i] >= 0;
        }
    }

    /*
     * Filters; then, if fewer candidates are left than the page needs
     * (a viewer who has seen most of a small catalog), more clips from
     * anywhere, so that a page comes out short only when the catalog has
     * nothing left to show.
     */

    alive = feed_rank_filter(rk, 0, filters, nfilters);

    if (alive < n && !v->only) {
        j = rk->n;
        feed_rank_top_up(rk, n - alive);
        alive += feed_rank_filter(rk, j, filters, nfilters);
    }

    feed_rank_score(rk, 0, scorer, weight, nscorers);

    if (hook) {
        (void) hook(hook_data, cat, rk->c, rk->n);
    }

    /*
     * A shortlist of the best scores for the personal slots, the earlier
     * candidate first among equal scores, as their keys say; past
     * FEED_SHORTLIST, the best are kept in a heap whose root is the worst
     * of them; then sorted by key, the best first.
     */

    short_n = 0;

    for (j = 0; j < rk->n; j++) {
        c = &rk->c[j];

        if (c->dropped || !(c->score == c->score)) {
            c->dropped = 1;
            continue;
        }

        key = feed_rank_key(c->score, j);

        if (short_n < FEED_SHORTLIST) {
            heap[short_n++] = key;

            if (short_n == FEED_SHORTLIST) {
                for (k = 1; k < short_n; k++) {
                    feed_rank_heap_up(heap, k);
                }
            }

        } else if (key > heap[0]) {
            heap[0] = key;
            feed_rank_heap_down(heap, short_n);
        }
    }

    /* the best first: a slot's search stops where no score can win */

    for (k = 1; k < short_n; k++) {
        key = heap[k];

        for (j = k; j > 0 && heap[j - 1] < key; j--) {
            heap[j] = heap[j - 1];
        }

        heap[j] = key;
    }

    for (k = 0; k < short_n; k++) {
        shortlist[k] = ~(uint32_t) heap[k];
        c = &rk->c[shortlist[k]];

        rk->score[k] = c->score;
        rk->creator[k] = c->rec->creator;
        rk->sound[k] = c->rec->sound;
        rk->picked[k] = 0;
        rk->likeness[k] = 0;
        c->short_k = (uint8_t) (k + 1);

        if (p->diversity > 0) {
            feed_rank_unit(rk, c, unit);

            for (d = 0; d < rk->dim; d++) {
                rk->unit[d][k] = unit[d];
            }
        }
    }

    /* the slots: exploration and zeitgeist spread over the page */

    /*
     * share x n slots on average: the whole part on every page, one more
     * with the fraction's chance, so that small shares of small pages
     * still come out right over many pages
     */

    w = p->explore_share * (float) n;
    nexp = (uint32_t) w;
    nexp += feed_rank_uniform(rk) < (double) (w - (float) nexp);

    if (v->only) {
        nexp = 0;
    }

    memset(kind, FEED_SLOT_PERSONAL, sizeof(kind));

    /*
     * Rising clips evenly along the viewer's feed rather than by chance
     * on each page: a slot wherever share x (items served before it + 1)
     * + 0.8 passes a whole number, so one every 1/share items however
     * the pages fall, the first early on a newcomer's first page (at
     * 0.04: items 5, 30, 55 and so on: every session of three pages of
     * 10 has one or two), never a page's first slot.
     */

    zs = (uint64_t) ((double) p->zeitgeist_share * 1000000 + 0.5);

    for (i = 0; i < n && !v->only && zs > 0; i++) {
        at = (uint64_t) v->position + i;

        if (((at + 1) * zs + 800000) / 1000000 > (at * zs + 800000) / 1000000)
        {
            j = (i == 0 && n > 1) ? 1 : i;
            kind[j] = FEED_SLOT_ZEITGEIST;
        }
    }

    for (k = 0; k < nexp && k < n; k++) {
        i = 2 + k * n / nexp;
        while (i < n && kind[i] != FEED_SLOT_PERSONAL) {
            i++;
        }

        if (i < n) {
            kind[i] = FEED_SLOT_EXPLORE;
        }
    }

    nslots[0] = nslots[1] = nslots[2] = 0;

    creator = v->last_creator;
    sound = v->last_sound;
    m = 0;

    if (!v->only) {
        feed_rank_rising(rk);
    }

    for (i = 0; i < n; i++) {
        best = NULL;
        best_u = -1e30f;
        slot = kind[i];

        /*
         * Reserved slots: a fresh clip; a rising clip, of the top of the
         * list first, then of any of it
         */

        npass = slot == FEED_SLOT_EXPLORE ? 1
                : slot == FEED_SLOT_ZEITGEIST ? 2 : 0;

        for (pass = 0; pass < npass && best == NULL; pass++) {

            for (j = 0; j < rk->n; j++) {
                c = &rk->c[j];

                if (c->dropped || c->picked
                    || (slot == FEED_SLOT_EXPLORE
                        ? !c->fresh
                        : !(c->sources & (1 << FEED_REASON_ZEITGEIST)))
                    || !feed_rank_spaced(rk, c, creator, sound))
                {
                    continue;
                }

                if (slot == FEED_SLOT_ZEITGEIST && pass == 0 && !c->rising) {
                    continue;
                }

                sim = 0.5f + 0.5f * c->parts[FEED_PART_SIMILARITY];

                if (slot == FEED_SLOT_EXPLORE) {

                    u = c->sample * (0.1f + sim * sim)
                        * feed_rank_spread(rk, c);

                } else {

                    /* rising clips by personal fit: not any of them */

                    if (v->confidence > 0.2f
                        && c->parts[FEED_PART_SIMILARITY] < 0.1f)
                    {
                        continue;
                    }

                    u = sim * (0.5f + c->parts[FEED_PART_TRENDING])
                        * feed_rank_spread(rk, c);
                }

                if (u > best_u) {
                    best_u = u;
                    best = c;
                }
            }

            if (best) {
                best->reason = slot == FEED_SLOT_EXPLORE
                               ? FEED_REASON_EXPLORE : FEED_REASON_ZEITGEIST;
            }
        }

        if (best == NULL) {

            /*
             * personal: score less a penalty for likeness to the page,
             * the closest clip on it; the best of the shortlist that may
             * follow the last item, of equals the better score, then the
             * earlier candidate (the greater key)
             */

            best_k = short_n;

            /*
             * The shortlist is in the order of the keys, the best first:
             * of equal values the first met wins.  The penalty is never
             * below 0, so a value is at most its score: past a score no
             * better than the best value, none can win.
             */

            for (k = 0; k < short_n; k++) {
                if (rk->score[k] <= best_u && p->diversity >= 0) {
                    break;
                }

                if (rk->picked[k]
                    || (!v->only
                        && (rk->creator[k] == creator
                            || rk->sound[k] == sound)))
                {
                    continue;
                }

                u = rk->score[k] - p->diversity * rk->likeness[k];

                if (u > best_u) {
                    best_u = u;
                    best_k = k;
                }
            }

            if (best_k < short_n) {
                best = &rk->c[shortlist[best_k]];
            }
        }

        if (best && slot == FEED_SLOT_PERSONAL) {
            if (best->sources & (1 << FEED_REASON_REMIX)) {
                best->reason = FEED_REASON_REMIX;

            } else if (best->sources & (1 << FEED_REASON_SOUND)) {
                best->reason = FEED_REASON_SOUND;

            } else if (best->sources & (1 << FEED_REASON_PERSONAL)) {
                best->reason = FEED_REASON_PERSONAL;
            }
        }

        if (best == NULL) {

            /* the shortlist is spent: anything left that fits */

            best = feed_rank_fitting(rk, 0, creator, sound);
        }

        if (best == NULL && !v->only) {

            /*
             * Nothing left may follow the last item (a small catalog of
             * few creators or sounds): a page's worth more from anywhere,
             * filtered, scored and shown to the hook like the others, as
             * long as any are left
             */

            j = rk->n;

            feed_rank_top_up(rk, n);
            (void) feed_rank_filter(rk, j, filters, nfilters);
            feed_rank_score(rk, j, scorer, weight, nscorers);

            if (hook && rk->n > j) {
                (void) hook(hook_data, cat, rk->c + j, rk->n - j);
            }

            best = feed_rank_fitting(rk, j, creator, sound);
        }

        if (best == NULL) {
            break;
        }

        best->picked = 1;
        nslots[slot]++;

        out[m].clip = best->clip;
        out[m].reason = best->reason;
        out[m].score = best->score;
        memcpy(out[m].parts, best->parts, sizeof(best->parts));
        m++;

        creator = best->rec->creator;
        sound = best->rec->sound;

        if (best->short_k) {
            rk->picked[best->short_k - 1] = 1;
        }

        if (p->diversity > 0 && i + 1 < n) {     /* not after the last */
            feed_rank_unit(rk, best, unit);
            feed_rank_liken(rk, unit, (short_n + 3) & ~3u);
        }
    }

    return m;
}


/*
 * Exposure stages: a fresh clip is shown in stage 0 until it has had
 * stage_cap[0] impressions; then, if its smoothed qualified-view rate
 * reaches "promote", it moves to stage 1 and a larger audience, and so
 * on; otherwise it leaves the fresh pool and competes on its score.
 */

uint8_t
feed_stage_next(uint8_t stage, uint32_t impressions, uint32_t qualified,
    const feed_rank_params_t *p)
{
    double  rate;

    if (stage >= FEED_STAGES || impressions < p->stage_cap[stage]) {
        return stage;
    }

    rate = ((double) qualified + 1) / ((double) impressions + 2);

    if (rate >= p->promote && stage + 1 < FEED_STAGES) {
        return (uint8_t) (stage + 1);
    }

    return FEED_STAGE_DONE;
}


static double
feed_uniform_sample(uint64_t *rng)
{
    return ((double) (feed_next64(rng) >> 11) + 0.5) / 9007199254740992.0;
}


static double
feed_normal_sample(uint64_t *rng)
{
    double  u1, u2;

    u1 = feed_uniform_sample(rng);
    u2 = feed_uniform_sample(rng);

    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}


/* Marsaglia and Tsang; a < 1 through the boost a + 1 */

static double
feed_gamma_sample(uint64_t *rng, double a)
{
    double  d, c, x, v, u;

    if (a < 1) {
        u = feed_uniform_sample(rng);
        return feed_gamma_sample(rng, a + 1) * pow(u, 1 / a);
    }

    d = a - 1.0 / 3;
    c = 1 / sqrt(9 * d);

    for ( ;; ) {
        do {
            x = feed_normal_sample(rng);
            v = 1 + c * x;
        } while (v <= 0);

        v = v * v * v;
        u = feed_uniform_sample(rng);

        if (u < 1 - 0.0331 * x * x * x * x
            || log(u) < 0.5 * x * x + d * (1 - v + log(v)))
        {
            return d * v;
        }
    }
}


/*
 * Beta(a, b): exact and cheap where a fresh clip's counts usually are
 * (a or b is 1: an inverse transform; no impressions: uniform), a normal
 * approximation once a + b > 60 (its error is far below what the
 * sampling needs), Gamma ratios otherwise.
 */

double
feed_beta_sample(uint64_t *rng, double a, double b)
{
    double  x, y, m, sd;

    if (a == 1 && b == 1) {
        return feed_uniform_sample(rng);
    }

    if (a == 1) {
        return 1 - pow(feed_uniform_sample(rng), 1 / b);
    }

    if (b == 1) {
        return pow(feed_uniform_sample(rng), 1 / a);
    }

    if (a + b > 60) {
        m = a / (a + b);
        sd = sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)));
        x = m + sd * feed_normal_sample(rng);

        return x < 0 ? 0 : x > 1 ? 1 : x;
    }

    x = feed_gamma_sample(rng, a);
    y = feed_gamma_sample(rng, b);

    return (x + y > 0) ? x / (x + y) : 0.5;
}
