
/*
 * Copyright (C) the feed module developers
 */


/*
 * The feed's per-process index over the catalog: clip hashes (the keys
 * of the shared counters), creator and sound hashes, topic clusters of
 * the embeddings (k-means on a sample, every clip assigned to its
 * nearest centroid), remixes by parent, a copy of each clip's counters,
 * and the trending and fresh lists derived from them.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "feed_rank.h"
#include "feed_cache.h"


#define FEED_SAMPLE_MAX      20000
#define FEED_KMEANS_ROUNDS   8
#define FEED_TRENDING_MAX    256
#define FEED_FRESH_KEYS      4096    /* impressions ordered exactly below */
#define FEED_INDEX_COSINES   64      /* clusters a time in nearest() */


/* a sound's clips: a run of the sorted keys */

typedef struct {
    uint32_t            hash;
    uint32_t            first;
    uint32_t            n;           /* 0: a free slot */
} feed_index_sound_t;


typedef char feed_ix_clip_is_one_line[
    sizeof(feed_index_clip_t) == 64 ? 1 : -1];


struct feed_index_s {
    uint32_t            n;
    uint32_t            cap;
    uint32_t            dim;
    uint32_t            nclusters;
    uint64_t            rng;

    feed_index_clip_t     *clip;
    float              *emb;         /* dim floats a clip, contiguous */
    uint16_t            gen;

    uint32_t           *slots;       /* hash map: clip index + 1, 0 free */
    uint32_t            nslots;

    float              *centroids;
    float              *centroid_inv;    /* 1 / a centroid's length, 0;
                                            ncols, the last ones 0 */
    float              *centroid_cols;   /* the same by dimension: dim
                                            columns of ncols, for
                                            feed_index_nearest() */
    uint32_t            ncols;           /* nclusters rounded up to 4 */
    uint32_t           *assign;
    uint32_t           *members;     /* clips by cluster */
    uint64_t           *member_hash; /* their hashes, alongside */
    uint32_t           *member_off;  /* nclusters + 1 */

    uint32_t           *remixes;     /* clips by parent */
    uint32_t           *remix_off;   /* n + 1 */

    uint64_t           *sound_keys;  /* sound hash << 32 | clip, sorted */
    uint32_t           *sound_clips; /* the clips in the same order */
    feed_index_sound_t *sound_dir;   /* each sound's run of them, by a
                                        hash of its hash: NULL, search
                                        the keys */
    uint32_t            sound_mask;  /* its slots - 1 */
    uint32_t            lists_n;     /* clips the lists were built for */

    uint32_t            ntrending;
    uint32_t            trending[FEED_TRENDING_MAX];
    uint32_t           *fresh;
    uint32_t           *fresh_tmp;
    uint32_t            nfresh;
    uint32_t            count[FEED_FRESH_KEYS + 1];
    uint32_t            audience;    /* viewers in the state zone */
};


static int feed_index_alloc(feed_index_t *ix, uint32_t cap);
static void feed_index_add(feed_index_t *ix, const feed_catalog_t *cat,
    uint32_t i);
static int feed_index_map(feed_index_t *ix);
static int feed_index_kmeans(feed_index_t *ix, const feed_catalog_t *cat);
static void feed_index_centroid_inv(feed_index_t *ix);
static void feed_index_cosines(const feed_index_t *ix, const float *v,
    uint32_t dim, uint32_t from, uint32_t n, float *out);
static uint32_t feed_index_closest(const feed_index_t *ix, const float *v,
    float norm);
static int feed_index_lists(feed_index_t *ix, const feed_catalog_t *cat);
static void feed_index_sounds(feed_index_t *ix);
static uint32_t feed_index_sound_slot(uint32_t hash, uint32_t mask);
static int feed_index_cmp_u64(const void *a, const void *b);


uint64_t
feed_clip_hash(const char *id, size_t len)
{
    return feed_cache_hash(id, len);
}


uint32_t
feed_name_hash(const char *s)
{
    uint32_t  h;

    h = (uint32_t) feed_cache_hash(s, strlen(s));

    return h ? h : 1;
}


feed_index_t *
feed_index_new(const feed_catalog_t *cat, uint32_t clusters, uint64_t seed,
    feed_err_t *err)
{
    uint32_t       i, n;
    feed_index_t  *ix;

    ix = calloc(1, sizeof(feed_index_t));
    if (ix == NULL) {
        goto nomem;
    }

    n = feed_catalog_count(cat);

    ix->dim = feed_catalog_dim(cat);
    if (ix->dim > FEED_DIM_MAX) {
        ix->dim = FEED_DIM_MAX;
    }

    ix->rng = seed ? seed : 1;

    if (clusters == 0) {
        clusters = (uint32_t) sqrt((double) n / 4);
    }

    if (clusters < 1) {
        clusters = 1;
    }

    if (clusters > 256) {
        clusters = 256;
    }

    if (clusters > n && n > 0) {
        clusters = n;
    }

    if (ix->dim == 0) {
        clusters = 1;
    }

    ix->nclusters = clusters;

    if (feed_index_alloc(ix, n + n / 4 + 64) != FEED_OK) {
        goto nomem;
    }

    for (i = 0; i < n; i++) {
        feed_index_add(ix, cat, i);
    }

    if (feed_index_map(ix) != FEED_OK
        || feed_index_kmeans(ix, cat) != FEED_OK
        || feed_index_lists(ix, cat) != FEED_OK)
    {
        goto nomem;
    }

    return ix;

nomem:

    feed_index_free(ix);
    feed_err_set(err, "out of memory building the feed index");

    return NULL;
}


void
feed_index_free(feed_index_t *ix)
{
    if (ix == NULL) {
        return;
    }

    free(ix->clip);
    free(ix->emb);
    free(ix->slots);
    free(ix->centroids);
    free(ix->centroid_inv);
    free(ix->centroid_cols);
    free(ix->assign);
    free(ix->members);
    free(ix->member_hash);
    free(ix->member_off);
    free(ix->remixes);
    free(ix->remix_off);
    free(ix->sound_keys);
    free(ix->sound_clips);
    free(ix->sound_dir);
    free(ix->fresh);
    free(ix->fresh_tmp);
    free(ix);
}


/*
 * An array the ranking reads a record of at a time, grown, on a cache
 * line boundary: malloc() gives 16 bytes, so that a 64-byte record
 * would straddle two lines and cost two misses where one would do.
 */

static void *
feed_index_realloc64(void *old, size_t old_size, size_t size)
{
    void  *p;

    if (posix_memalign(&p, 64, size) != 0) {
        return NULL;
    }

    if (old) {
        memcpy(p, old, old_size < size ? old_size : size);
        free(old);
    }

    return p;
}


/* the per-clip arrays, grown to "cap" clips; new entries are zero */

static int
feed_index_alloc(feed_index_t *ix, uint32_t cap)
{
    void    *p;
    size_t   esize;

#define feed_index_grow_array(field, type)                                    \
    p = realloc(ix->field, (size_t) cap * sizeof(type));                      \
    if (p == NULL) {                                                          \
        return FEED_ERROR;                                                    \
    }                                                                         \
    memset((type *) p + ix->cap, 0, (size_t) (cap - ix->cap) * sizeof(type)); \
    ix->field = p

    feed_index_grow_array(assign, uint32_t);
    feed_index_grow_array(fresh, uint32_t);
    feed_index_grow_array(fresh_tmp, uint32_t);

#undef feed_index_grow_array

    p = feed_index_realloc64(ix->clip,
                             (size_t) ix->cap * sizeof(feed_index_clip_t),
                             (size_t) cap * sizeof(feed_index_clip_t));
    if (p == NULL) {
        return FEED_ERROR;
    }

    memset((feed_index_clip_t *) p + ix->cap, 0,
           (size_t) (cap - ix->cap) * sizeof(feed_index_clip_t));
    ix->clip = p;

    esize = (ix->dim ? ix->dim : 1) * sizeof(float);

    p = feed_index_realloc64(ix->emb, (size_t) ix->cap * esize,
                             (size_t) cap * esize);
    if (p == NULL) {
        return FEED_ERROR;
    }

    ix->emb = p;

    ix->cap = cap;

    return FEED_OK;
}


static void
feed_index_add(feed_index_t *ix, const feed_catalog_t *cat, uint32_t i)
{
    uint32_t            d;
    double              s;
    const char         *id, *tag;
    const float        *e;
    const feed_clip_t  *clip;

    clip = feed_catalog_clip(cat, i);
    id = feed_clip_id(cat, clip);

    ix->clip[i].hash = feed_clip_hash(id, strlen(id));
    ix->clip[i].creator = feed_name_hash(feed_clip_creator(cat, clip));
    ix->clip[i].sound = feed_name_hash(feed_clip_sound(cat, clip));
    ix->clip[i].created = clip->created;
    ix->clip[i].st.stage = 0;
    ix->clip[i].tags = 0;

    for (d = 0; d < feed_clip_ntags(cat, clip); d++) {
        tag = feed_clip_tag(cat, clip, d);
        ix->clip[i].tags |= feed_index_tag_bit(tag, strlen(tag));
    }

    s = 0;

    if (ix->dim) {
        e = feed_clip_embedding(cat, clip);

        for (d = 0; d < ix->dim; d++) {
            s += (double) e[d] * e[d];
            ix->emb[(size_t) i * ix->dim + d] = e[d];
        }
    }

    ix->clip[i].norm = (float) sqrt(s);
    ix->n = i + 1;
}


static int
feed_index_map(feed_index_t *ix)
{
    uint32_t  i, h, mask, want;

    want = 16;

    while (want < ix->n * 2) {
        want <<= 1;
    }

    if (want != ix->nslots) {
        free(ix->slots);

        ix->slots = calloc(want, sizeof(uint32_t));
        if (ix->slots == NULL) {
            ix->nslots = 0;
            return FEED_ERROR;
        }

        ix->nslots = want;

    } else {
        memset(ix->slots, 0, want * sizeof(uint32_t));
    }

    mask = ix->nslots - 1;

    for (i = 0; i < ix->n; i++) {
        for (h = (uint32_t) ix->clip[i].hash & mask; ix->slots[h];
             h = (h + 1) & mask)
        {
            /* void */
        }

        ix->slots[h] = i + 1;
    }

    return FEED_OK;
}


uint32_t
feed_index_find(const feed_index_t *ix, uint64_t hash)
{
    uint32_t  h, mask;

    if (ix->nslots == 0) {
        return FEED_NONE;
    }

    mask = ix->nslots - 1;

    for (h = (uint32_t) hash & mask; ix->slots[h]; h = (h + 1) & mask) {
        if (ix->clip[ix->slots[h] - 1].hash == hash) {
            return ix->slots[h] - 1;
        }
    }

    return FEED_NONE;
}


/*
 * Spherical k-means (cosine similarity) on a sample: centroids start at
 * distinct random sample points, then a few rounds of assign and average.
 * Every clip is then assigned to its closest centroid.
 */

static int
feed_index_kmeans(feed_index_t *ix, const feed_catalog_t *cat)
{
    float         *sum, len;
    uint32_t       i, j, d, c, ns, round, *sample, *count;
    const float   *e;

    ix->ncols = (ix->nclusters + 3) & ~3u;
    ix->centroids = calloc((size_t) ix->nclusters * (ix->dim + 1),
                           sizeof(float));
    ix->centroid_inv = calloc(ix->ncols, sizeof(float));
    ix->centroid_cols = calloc((size_t) ix->ncols * ix->dim, sizeof(float));

    if (ix->centroids == NULL || ix->centroid_inv == NULL
        || ix->centroid_cols == NULL)
    {
        return FEED_ERROR;
    }

    if (ix->n == 0 || ix->dim == 0 || ix->nclusters == 1) {
        if (ix->dim && ix->n) {
            e = feed_clip_embedding(cat, feed_catalog_clip(cat, 0));
            memcpy(ix->centroids, e, ix->dim * sizeof(float));
        }

        feed_index_centroid_inv(ix);

        return FEED_OK;
    }

    ns = ix->n < FEED_SAMPLE_MAX ? ix->n : FEED_SAMPLE_MAX;

    sample = malloc((size_t) ns * sizeof(uint32_t));
    sum = calloc((size_t) ix->nclusters * ix->dim, sizeof(float));
    count = calloc(ix->nclusters, sizeof(uint32_t));

    if (sample == NULL || sum == NULL || count == NULL) {
        free(sample);
        free(sum);
        free(count);
        return FEED_ERROR;
    }

    /* a partial Fisher-Yates shuffle of the clip indexes */

    for (i = 0; i < ns; i++) {
        sample[i] = i;
    }

    if (ix->n > ns) {
        for (i = ns; i < ix->n; i++) {
            j = (uint32_t) (feed_next64(&ix->rng) % (i + 1));
            if (j < ns) {
                sample[j] = i;
            }
        }
    }

    for (i = ns; i > 1; i--) {
        j = (uint32_t) (feed_next64(&ix->rng) % i);
        c = sample[i - 1];
        sample[i - 1] = sample[j];
        sample[j] = c;
    }

    for (c = 0; c < ix->nclusters; c++) {
        e = feed_clip_embedding(cat, feed_catalog_clip(cat, sample[c]));
        memcpy(&ix->centroids[c * ix->dim], e, ix->dim * sizeof(float));
    }

    for (round = 0; round < FEED_KMEANS_ROUNDS; round++) {
        memset(sum, 0, (size_t) ix->nclusters * ix->dim * sizeof(float));
        memset(count, 0, ix->nclusters * sizeof(uint32_t));

        for (i = 0; i < ns; i++) {
            e = feed_clip_embedding(cat, feed_catalog_clip(cat, sample[i]));
            c = feed_index_closest(ix, e, ix->clip[sample[i]].norm);
            count[c]++;

            len = ix->clip[sample[i]].norm > 0 ? ix->clip[sample[i]].norm : 1;

            for (d = 0; d < ix->dim; d++) {
                sum[c * ix->dim + d] += e[d] / len;
            }
        }

        for (c = 0; c < ix->nclusters; c++) {
            if (count[c] == 0) {
                continue;       /* keeps its place */
            }

            for (d = 0; d < ix->dim; d++) {
                ix->centroids[c * ix->dim + d] = sum[c * ix->dim + d]
                                                 / (float) count[c];
            }
        }
    }

    free(sample);
    free(sum);
    free(count);

    feed_index_centroid_inv(ix);

    return FEED_OK;
}


/* the centroids' lengths and columns, for feed_index_nearest() */

static void
feed_index_centroid_inv(feed_index_t *ix)
{
    float         cn;
    uint32_t      c, d;
    const float  *m;

    for (c = 0; c < ix->nclusters; c++) {
        m = &ix->centroids[c * ix->dim];
        cn = 0;

        for (d = 0; d < ix->dim; d++) {
            cn += m[d] * m[d];
            ix->centroid_cols[d * ix->ncols + c] = m[d];
        }

        ix->centroid_inv[c] = cn > 0 ? 1 / sqrtf(cn) : 0;
    }
}


static uint32_t
feed_index_closest(const feed_index_t *ix, const float *v, float norm)
{
    float        best, s, cn;
    uint32_t     c, d, bc;
    const float  *m;

    bc = 0;
    best = -2;

    if (norm <= 0) {
        return 0;
    }

    for (c = 0; c < ix->nclusters; c++) {
        m = &ix->centroids[c * ix->dim];
        s = 0;
        cn = 0;

        for (d = 0; d < ix->dim; d++) {
            s += v[d] * m[d];
            cn += m[d] * m[d];
        }

        s = cn > 0 ? s / (sqrtf(cn) * norm) : -1;

        if (s > best) {
            best = s;
            bc = c;
        }
    }

    return bc;
}


/*
 * Member lists by cluster, remix lists by parent and clips by sound,
 * rebuilt whole
 */

static int
feed_index_lists(feed_index_t *ix, const feed_catalog_t *cat)
{
    uint32_t            i, c, p, *fill, *members, *member_off, *remixes;
    uint32_t           *remix_off, *sound_clips;
    uint64_t           *member_hash, *sound_keys;
    const feed_clip_t  *clip;

    /*
     * All or nothing: the lists of the last build stay (for the clips
     * they knew, lists_n) until every new one is allocated.
     */

    members = malloc(((size_t) ix->n + 1) * sizeof(uint32_t));
    member_hash = malloc(((size_t) ix->n + 1) * sizeof(uint64_t));
    member_off = calloc((size_t) ix->nclusters + 1, sizeof(uint32_t));
    remixes = malloc(((size_t) ix->n + 1) * sizeof(uint32_t));
    remix_off = calloc((size_t) ix->n + 2, sizeof(uint32_t));
    sound_keys = malloc(((size_t) ix->n + 1) * sizeof(uint64_t));
    sound_clips = malloc(((size_t) ix->n + 1) * sizeof(uint32_t));
    fill = calloc((size_t) ix->n + ix->nclusters + 1, sizeof(uint32_t));

    if (members == NULL || member_hash == NULL || member_off == NULL
        || remixes == NULL || remix_off == NULL || sound_keys == NULL
        || sound_clips == NULL || fill == NULL)
    {
        free(members);
        free(member_hash);
        free(member_off);
        free(remixes);
        free(remix_off);
        free(sound_keys);
        free(sound_clips);
        free(fill);
        return FEED_ERROR;
    }

    free(ix->members);
    free(ix->member_hash);
    free(ix->member_off);
    free(ix->remixes);
    free(ix->remix_off);
    free(ix->sound_keys);
    free(ix->sound_clips);

    ix->members = members;
    ix->member_hash = member_hash;
    ix->member_off = member_off;
    ix->remixes = remixes;
    ix->remix_off = remix_off;
    ix->sound_keys = sound_keys;
    ix->sound_clips = sound_clips;
    ix->lists_n = ix->n;

    for (i = 0; i < ix->n; i++) {
        ix->sound_keys[i] = (uint64_t) ix->clip[i].sound << 32 | i;
    }

    qsort(ix->sound_keys, ix->n, sizeof(uint64_t), feed_index_cmp_u64);

    for (i = 0; i < ix->n; i++) {
        ix->sound_clips[i] = (uint32_t) ix->sound_keys[i];
    }

    feed_index_sounds(ix);

    for (i = 0; i < ix->n; i++) {
        clip = feed_catalog_clip(cat, i);

        ix->assign[i] = ix->dim
                        ? feed_index_closest(ix, feed_clip_embedding(cat,
                                                                    clip),
                                             ix->clip[i].norm)
                        : 0;
        ix->member_off[ix->assign[i] + 1]++;

        if (clip->parent != FEED_NONE && clip->parent < ix->n) {
            ix->remix_off[clip->parent + 1]++;
        }
    }

    for (c = 0; c < ix->nclusters; c++) {
        ix->member_off[c + 1] += ix->member_off[c];
    }

    for (i = 0; i < ix->n; i++) {
        ix->remix_off[i + 1] += ix->remix_off[i];
    }

    for (i = 0; i < ix->n; i++) {
        c = ix->assign[i];
        ix->member_hash[ix->member_off[c] + fill[c]] = ix->clip[i].hash;
        ix->members[ix->member_off[c] + fill[c]++] = i;

        p = feed_catalog_clip(cat, i)->parent;

        if (p != FEED_NONE && p < ix->n) {
            ix->remixes[ix->remix_off[p] + fill[ix->nclusters + p]++] = i;
        }
    }

    free(fill);

    return FEED_OK;
}


/* clips appended to the catalog since the index was built or grown */

int
feed_index_grow(feed_index_t *ix, const feed_catalog_t *cat)
{
    uint32_t  i, n;

    n = feed_catalog_count(cat);

    if (n <= ix->n) {
        return FEED_OK;
    }

    if (n > ix->cap && feed_index_alloc(ix, n + n / 4 + 64) != FEED_OK) {
        return FEED_ERROR;
    }

    for (i = ix->n; i < n; i++) {
        feed_index_add(ix, cat, i);
    }

    if (feed_index_map(ix) != FEED_OK || feed_index_lists(ix, cat) != FEED_OK)
    {
        return FEED_ERROR;
    }

    return FEED_OK;
}


uint32_t
feed_index_count(const feed_index_t *ix)
{
    return ix->n;
}


uint64_t
feed_index_hash(const feed_index_t *ix, uint32_t clip)
{
    return ix->clip[clip].hash;
}


uint32_t
feed_index_creator(const feed_index_t *ix, uint32_t clip)
{
    return ix->clip[clip].creator;
}


uint32_t
feed_index_sound(const feed_index_t *ix, uint32_t clip)
{
    return ix->clip[clip].sound;
}


uint32_t
feed_index_created(const feed_index_t *ix, uint32_t clip)
{
    return ix->clip[clip].created;
}


feed_clip_stat_t *
feed_index_stat(feed_index_t *ix, uint32_t clip)
{
    return &ix->clip[clip].st;
}


feed_index_clip_t *
feed_index_rec(feed_index_t *ix, uint32_t clip)
{
    return &ix->clip[clip];
}


/*
 * A clip a source is about to look at: its record and embedding asked
 * for ahead, so that the misses of a run of clips overlap rather than
 * come one after another.
 */

void
feed_index_prefetch(const feed_index_t *ix, uint32_t clip)
{
#if defined(__GNUC__)
    if (clip < ix->n) {
        __builtin_prefetch(&ix->clip[clip]);
        __builtin_prefetch(ix->emb + (size_t) clip * ix->dim);
    }
#else
    (void) ix;
    (void) clip;
#endif
}


/* one bit of 16 for a tag: a record's tags are the OR of its tags' */

uint16_t
feed_index_tag_bit(const char *tag, size_t len)
{
    return (uint16_t) (1u << ((feed_cache_hash(tag, len) >> 17) & 15));
}


const float *
feed_index_embedding(const feed_index_t *ix, uint32_t clip)
{
    return ix->emb + (size_t) clip * ix->dim;
}


void
feed_index_block(feed_index_t *ix, uint32_t clip)
{
    if (clip < ix->n) {
        ix->clip[clip].blocked = 1;
    }
}


uint32_t
feed_index_clusters(const feed_index_t *ix)
{
    return ix->nclusters;
}


/*
 * After the counters were copied in: the clips rising most (decayed
 * engagement), and the clips still in the fresh pool, by fewest
 * impressions first so that the least seen are offered first.
 */

void
feed_index_refresh(feed_index_t *ix, uint32_t now, uint32_t fresh_window)
{
    uint32_t         i, k, key, sum, t, h, mask, nslots, ncreators;
    uint32_t        *slot;
    uint64_t        *imps, total;
    float            tr;
    feed_index_clip_t  *c;

    ix->ntrending = 0;
    ix->nfresh = 0;
    memset(ix->count, 0, sizeof(ix->count));

    /* creators' impressions, for their load: a map of creator hashes */

    for (nslots = 64; nslots < 2 * ix->n; nslots <<= 1) { /* void */ }

    slot = calloc(nslots, sizeof(uint32_t));
    imps = calloc(nslots, sizeof(uint64_t));
    mask = nslots - 1;
    total = 0;
    ncreators = 0;

    for (i = 0; slot && imps && i < ix->n; i++) {
        c = &ix->clip[i];

        for (h = c->creator & mask; slot[h] && slot[h] != c->creator;
             h = (h + 1) & mask)
        {
            /* void */
        }

        if (slot[h] == 0) {
            slot[h] = c->creator;
            ncreators++;
        }

        imps[h] += c->st.impressions;
        total += c->st.impressions;
    }

    /*
     * The fresh pool: clips still in their exposure stages and created
     * within the window (0: any age), fewest impressions first and the
     * newest first among equals, by a counting sort in linear time.
     */

    for (k = ix->n; k > 0; k--) {
        i = k - 1;
        c = &ix->clip[i];

        c->load = 0;

        if (slot && imps && total && ncreators) {
            for (h = c->creator & mask; slot[h] != c->creator;
                 h = (h + 1) & mask)
            {
                /* void */
            }

            sum = (uint32_t) ((double) imps[h] * ncreators / total * 1000);
            c->load = (uint16_t) (sum > 65535 ? 65535 : sum);
        }

        c->fresh = c->st.stage != FEED_STAGE_DONE
                   && (fresh_window == 0 || c->created + fresh_window >= now);

        if (c->blocked) {
            continue;
        }

        if (c->fresh) {
            ix->fresh_tmp[ix->nfresh++] = i;
            key = c->st.impressions;
            ix->count[key < FEED_FRESH_KEYS ? key : FEED_FRESH_KEYS]++;
        }

        tr = c->st.trend;

        if (!(tr > 0)) {
            continue;
        }

        /* insertion into the sorted top list */

        t = ix->ntrending;

        if (t == FEED_TRENDING_MAX) {
            if (ix->clip[ix->trending[t - 1]].st.trend >= tr) {
                continue;
            }

            t--;

        } else {
            ix->ntrending++;
        }

        while (t > 0 && ix->clip[ix->trending[t - 1]].st.trend < tr) {
            ix->trending[t] = ix->trending[t - 1];
            t--;
        }

        ix->trending[t] = i;
    }

    free(slot);
    free(imps);

    for (k = 0, sum = 0; k <= FEED_FRESH_KEYS; k++) {
        t = ix->count[k];
        ix->count[k] = sum;
        sum += t;
    }

    for (i = 0; i < ix->nfresh; i++) {
        t = ix->fresh_tmp[i];
        key = ix->clip[t].st.impressions;
        ix->fresh[ix->count[key < FEED_FRESH_KEYS ? key : FEED_FRESH_KEYS]++]
            = t;
    }
}


uint32_t
feed_index_trending(const feed_index_t *ix, const uint32_t **list)
{
    *list = ix->trending;
    return ix->ntrending;
}


uint32_t
feed_index_fresh(const feed_index_t *ix, const uint32_t **list)
{
    *list = ix->fresh;
    return ix->nfresh;
}


/*
 * The cosines of v (without v's length, the same for every cluster: the
 * order is the cosine's) with clusters "from" to "from" + n, n a multiple
 * of 4: four clusters at a time, down the columns, each sum in the order
 * feed_dot() adds it, so that the values are feed_dot()'s to the bit.
 */

static void
feed_index_cosines(const feed_index_t *ix, const float *v, uint32_t dim,
    uint32_t from, uint32_t n, float *out)
{
    float     w[4];
    uint32_t  c, i;

    for (c = from; c < from + n; c += 4) {
        feed_dot4(v, ix->centroid_cols + c, ix->ncols, dim, w);

        for (i = 0; i < 4; i++) {
            out[c - from + i] = w[i] * ix->centroid_inv[c + i];
        }
    }
}


/* the n clusters whose centroids are closest to v, best first */

uint32_t
feed_index_nearest(const feed_index_t *ix, const float *v, uint32_t dim,
    uint32_t *out, uint32_t n)
{
    float         vn, best[16], cos[FEED_INDEX_COSINES];
    uint32_t      c, d, m, from, len;

    if (n > 16) {
        n = 16;
    }

    if (dim > ix->dim) {
        dim = ix->dim;
    }

    vn = 0;

    for (d = 0; d < dim; d++) {
        vn += v[d] * v[d];
    }

    m = 0;

    for (from = 0; from < ix->nclusters; from += FEED_INDEX_COSINES) {
        len = ix->nclusters - from;
        len = len < FEED_INDEX_COSINES ? len : FEED_INDEX_COSINES;

        if (vn > 0) {
            feed_index_cosines(ix, v, dim, from, (len + 3) & ~3u, cos);

        } else {
            memset(cos, 0, sizeof(cos));
        }

        for (c = from; c < from + len; c++) {
            feed_top_add(best, out, &m, n, cos[c - from], c);
        }
    }

    return m;
}


uint32_t
feed_index_members(const feed_index_t *ix, uint32_t cluster,
    const uint32_t **list, const uint64_t **hashes)
{
    if (cluster >= ix->nclusters) {
        return 0;
    }

    *list = ix->members + ix->member_off[cluster];
    *hashes = ix->member_hash + ix->member_off[cluster];

    return ix->member_off[cluster + 1] - ix->member_off[cluster];
}


/* the clips with a sound (by its feed_name_hash()), in catalog order */

uint32_t
feed_index_sound_clips(const feed_index_t *ix, uint32_t sound_hash,
    const uint32_t **list)
{
    size_t                     lo, hi, mid, first;
    uint32_t                   h;
    uint64_t                   key;
    const feed_index_sound_t  *e;

    if (ix->sound_keys == NULL) {
        return 0;
    }

    if (ix->sound_dir) {
        for (h = feed_index_sound_slot(sound_hash, ix->sound_mask);
             ix->sound_dir[h].n;
             h = (h + 1) & ix->sound_mask)
        {
            e = &ix->sound_dir[h];

            if (e->hash == sound_hash) {
                *list = ix->sound_clips + e->first;
                return e->n;
            }
        }

        *list = ix->sound_clips;
        return 0;
    }

    key = (uint64_t) sound_hash << 32;
    lo = 0;
    hi = ix->lists_n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (ix->sound_keys[mid] < key) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    first = lo;
    key |= 0xffffffff;
    hi = ix->lists_n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (ix->sound_keys[mid] <= key) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    *list = ix->sound_clips + first;

    return (uint32_t) (lo - first);
}


/*
 * The sounds' directory: where each sound's run of the sorted keys
 * starts and how long it is, in a table by the sound's hash, so that a
 * sound's clips are found in a probe or two instead of two binary
 * searches of the keys (some 34 reads, most of them cache misses in a
 * large catalog).  Without memory for it, the searches do.
 */

static void
feed_index_sounds(feed_index_t *ix)
{
    uint32_t             i, j, nsounds, nslots, h, hash;
    feed_index_sound_t  *dir;

    free(ix->sound_dir);
    ix->sound_dir = NULL;
    ix->sound_mask = 0;

    nsounds = 0;

    for (i = 0; i < ix->n; i++) {
        nsounds += i == 0
                   || ix->sound_keys[i] >> 32 != ix->sound_keys[i - 1] >> 32;
    }

    for (nslots = 16; nslots < 2 * nsounds; nslots <<= 1) { /* void */ }

    dir = calloc(nslots, sizeof(feed_index_sound_t));
    if (dir == NULL) {
        return;
    }

    for (i = 0; i < ix->n; i = j) {
        hash = (uint32_t) (ix->sound_keys[i] >> 32);

        for (j = i + 1;
             j < ix->n && (uint32_t) (ix->sound_keys[j] >> 32) == hash;
             j++)
        {
            /* void */
        }

        for (h = feed_index_sound_slot(hash, nslots - 1); dir[h].n;
             h = (h + 1) & (nslots - 1))
        {
            /* void */
        }

        dir[h].hash = hash;
        dir[h].first = i;
        dir[h].n = j - i;
    }

    ix->sound_dir = dir;
    ix->sound_mask = nslots - 1;
}


static uint32_t
feed_index_sound_slot(uint32_t hash, uint32_t mask)
{
    return (hash ^ hash >> 16) * 0x45d9f3bu >> 8 & mask;
}


static int
feed_index_cmp_u64(const void *a, const void *b)
{
    uint64_t  x, y;

    x = *(const uint64_t *) a;
    y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}


uint32_t
feed_index_remixes(const feed_index_t *ix, uint32_t clip,
    const uint32_t **list)
{
    if (clip >= ix->lists_n) {
        return 0;
    }

    *list = ix->remixes + ix->remix_off[clip];

    return ix->remix_off[clip + 1] - ix->remix_off[clip];
}


/* the viewers the state zone holds, as of the last copy of the counters */

void
feed_index_set_audience(feed_index_t *ix, uint32_t viewers)
{
    ix->audience = viewers;
}


uint32_t
feed_index_audience(const feed_index_t *ix)
{
    return ix->audience;
}


/* the dedup marks of one ranking: a new generation per page */

uint32_t
feed_index_generation(feed_index_t *ix)
{
    uint32_t  i;

    if (++ix->gen == 0) {
        for (i = 0; i < ix->n; i++) {
            ix->clip[i].mark = 0;
        }

        ix->gen = 1;
    }

    return ix->gen;
}


float
feed_index_norm(const feed_index_t *ix, uint32_t clip)
{
    return ix->clip[clip].norm;
}


uint32_t
feed_index_dim(const feed_index_t *ix)
{
    return ix->dim;
}
