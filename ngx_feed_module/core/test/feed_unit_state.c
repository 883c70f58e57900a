
/*
 * Copyright (C) the feed module developers
 */


/*
 * The feed state, as its callers see it: viewers found, created and
 * evicted least recently seen first, checked against a model under
 * random churn; the viewer's seen set, rings, rate limit and learning;
 * clip and sound counters; damaged regions and processes killed in the
 * middle of an operation.
 */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "feed_unit.h"
#include "feed_state.h"


#define REGION      (256 * 1024)
#define MODEL_IDS   1000


static uint64_t  rng_state;


static uint64_t
rng(void)
{
    return feed_next64(&rng_state);
}


static void *
make_state(size_t size, uint32_t viewers, uint32_t clips, uint32_t sounds)
{
    void                 *region;
    feed_state_params_t   p;

    p.viewers = viewers;
    p.clips = clips;
    p.sounds = sounds;

    region = feed_unit_alloc(size);

    CHECK_INT(feed_state_init(region, size, &p), FEED_OK);

    return region;
}


/* viewer n's id: random-looking bytes, as a client's would be */

static void
id_of(unsigned n, unsigned char id[16])
{
    uint64_t  a, b;

    a = feed_state_hash(&n, sizeof(n));
    b = a * 0x9e3779b97f4a7c15ULL + n;

    memcpy(id, &a, 8);
    memcpy(id + 8, &b, 8);
}


static feed_viewer_t *
viewer(void *s, unsigned n, uint32_t now, int create, int *created)
{
    unsigned char  id[16];

    id_of(n, id);

    return feed_state_viewer_locked(s, id, now, create, created);
}


static uint64_t
clip_hash(unsigned n)
{
    char  name[32];

    return feed_state_hash(name, (size_t) sprintf(name, "clip-%u", n));
}


static void
test_state_sizes(void)
{
    unsigned char        *s;
    size_t                size;
    feed_state_params_t   p;
    feed_state_stats_t    st;

    CHECK_UINT(sizeof(feed_viewer_t), 1880);
    CHECK_UINT(sizeof(feed_clip_stats_t), 64);
    CHECK_UINT(sizeof(feed_sound_stats_t), 24);
    CHECK_UINT(feed_state_viewer_size(), 1896);

    s = feed_unit_alloc(REGION + 8);
    memset(&p, 0, sizeof(feed_state_params_t));

    CHECK_INT(feed_state_init(s, 1024, &p), FEED_ERROR);
    CHECK_INT(feed_state_init(s, feed_state_min_size() - 1, &p), FEED_ERROR);
    CHECK_INT(feed_state_init(s + 4, REGION, &p), FEED_ERROR);
    CHECK_INT(feed_state_init(s, feed_state_min_size(), NULL), FEED_OK);
    CHECK_INT(feed_state_check(s, feed_state_min_size()), FEED_OK);

    p.viewers = 1000;
    CHECK_INT(feed_state_init(s, REGION, &p), FEED_ERROR);
    p.viewers = 100;
    CHECK_INT(feed_state_init(s, REGION, &p), FEED_OK);
    CHECK_INT(feed_state_check(s, REGION), FEED_OK);
    CHECK_INT(feed_state_check(s, REGION - 64), FEED_ERROR);

    feed_state_stats_locked(s, &st);
    CHECK_UINT(st.viewer_capacity, 100);
    CHECK_UINT(st.clip_capacity, REGION / 16 / 80);
    CHECK_UINT(st.sound_capacity, REGION / 64 / 40);

    /* 100 MB with the default shares */

    size = 100 * 1024 * 1024;
    s = feed_unit_alloc(size);

    CHECK_INT(feed_state_init(s, size, NULL), FEED_OK);
    CHECK_INT(feed_state_check(s, size), FEED_OK);

    feed_state_stats_locked(s, &st);
    CHECK(st.viewer_capacity > 50000);
    CHECK_UINT(st.viewers + st.clips + st.sounds + st.resets, 0);

    printf("     100 MB: %llu viewers (%zu bytes each), %llu clips, "
           "%llu sounds\n",
           (unsigned long long) st.viewer_capacity, feed_state_viewer_size(),
           (unsigned long long) st.clip_capacity,
           (unsigned long long) st.sound_capacity);
}


static void
test_state_viewer(void)
{
    int                 created;
    void               *s;
    feed_viewer_t      *v, *w;
    unsigned char       id[16];
    feed_state_stats_t  st;

    s = make_state(REGION, 16, 64, 64);

    CHECK(viewer(s, 1, 100, 0, &created) == NULL);
    CHECK_INT(created, 0);

    v = viewer(s, 1, 100, 1, &created);
    CHECK(v != NULL);
    CHECK_INT(created, 1);

    if (v == NULL) {
        return;
    }

    id_of(1, id);
    CHECK(memcmp(v->id, id, 16) == 0);
    CHECK_UINT(v->created, 100);
    CHECK_UINT(v->last_seen, 100);
    CHECK_UINT(v->events + v->page + v->seen_n + v->recent_n, 0);
    CHECK(v->weight == 0 && v->interest[0] == 0 && v->interest[31] == 0);

    v->page = 7;

    w = viewer(s, 1, 200, 1, &created);
    CHECK(w == v);
    CHECK_INT(created, 0);
    CHECK_UINT(w->page, 7);
    CHECK_UINT(w->created, 100);
    CHECK_UINT(w->last_seen, 200);

    w = viewer(s, 1, 300, 0, NULL);
    CHECK(w == v);
    CHECK_UINT(v->last_seen, 300);

    CHECK(viewer(s, 2, 300, 0, NULL) == NULL);
    CHECK(viewer(s, 2, 300, 1, NULL) != NULL);
    CHECK(viewer(s, 2, 300, 0, NULL) != v);

    feed_state_stats_locked(s, &st);
    CHECK_UINT(st.viewers, 2);
    CHECK_UINT(st.evictions, 0);
    CHECK_INT(feed_state_check(s, REGION), FEED_OK);
}


/* the least recently seen goes first; a lookup protects a viewer */

static void
test_state_lru(void)
{
    int                 created;
    void               *s;
    unsigned            i;
    feed_state_stats_t  st;

    static const unsigned  order[8] = { 1, 3, 4, 5, 6, 7, 0, 2 };

    s = make_state(REGION, 8, 64, 64);

    for (i = 0; i < 8; i++) {
        CHECK(viewer(s, i, 100 + i, 1, NULL) != NULL);
    }

    CHECK(viewer(s, 0, 200, 0, NULL) != NULL);
    CHECK(viewer(s, 2, 201, 0, NULL) != NULL);

    for (i = 0; i < 8; i++) {
        CHECK(viewer(s, 8 + i, 300 + i, 1, &created) != NULL);
        CHECK_INT(created, 1);

        /* a miss without create touches nothing */

        CHECK(viewer(s, order[i], 400, 0, NULL) == NULL);

        feed_state_stats_locked(s, &st);
        CHECK_UINT(st.evictions, i + 1);
        CHECK_UINT(st.viewers, 8);
        CHECK_INT(feed_state_check(s, REGION), FEED_OK);
    }

    for (i = 0; i < 8; i++) {
        CHECK(viewer(s, i, 500, 0, NULL) == NULL);
        CHECK(viewer(s, 8 + i, 500, 0, NULL) != NULL);
    }

    /* now touched in the order 8..15: 8 goes first */

    CHECK(viewer(s, 9, 600, 0, NULL) != NULL);
    CHECK(viewer(s, 100, 600, 1, NULL) != NULL);
    CHECK(viewer(s, 8, 600, 0, NULL) == NULL);
    CHECK(viewer(s, 10, 600, 0, NULL) != NULL);
    CHECK(viewer(s, 101, 600, 1, NULL) != NULL);
    CHECK(viewer(s, 11, 600, 0, NULL) == NULL);
    CHECK(viewer(s, 9, 600, 0, NULL) != NULL);
}


/*
 * Random lookups and creations against a model of an LRU cache: each
 * viewer present holds a mark the model knows, so an index that finds
 * the wrong record, loses one or evicts the wrong one is caught.
 */

static void
churn(uint32_t cap, unsigned ids, unsigned ops)
{
    int                 created, create;
    void               *s;
    unsigned            i, n, k, count, victim;
    uint32_t           *mark;
    uint64_t           *stamp, clock;
    feed_viewer_t      *v;
    unsigned char      *present;
    feed_state_stats_t  st;

    s = make_state(REGION, cap, 64, 64);

    present = feed_unit_alloc(ids);
    mark = feed_unit_alloc(ids * sizeof(uint32_t));
    stamp = feed_unit_alloc(ids * sizeof(uint64_t));
    memset(present, 0, ids);

    count = 0;
    clock = 0;

    for (i = 0; i < ops; i++) {
        n = (unsigned) (rng() % ids);
        create = rng() % 10 < 6;

        v = viewer(s, n, (uint32_t) i, create, &created);

        if (present[n]) {
            if (!CHECK(v != NULL && !created && v->page == mark[n])) {
                return;
            }

            stamp[n] = ++clock;
            continue;
        }

        if (!create) {
            if (!CHECK(v == NULL)) {
                return;
            }

            continue;
        }

        if (!CHECK(v != NULL && created && v->page == 0)) {
            return;
        }

        if (count == cap) {
            victim = ids;

            for (k = 0; k < ids; k++) {
                if (present[k]
                    && (victim == ids || stamp[k] < stamp[victim]))
                {
                    victim = k;
                }
            }

            present[victim] = 0;
            count--;
        }

        present[n] = 1;
        mark[n] = (uint32_t) rng() | 1;
        stamp[n] = ++clock;
        v->page = mark[n];
        count++;

        if (i % 997 == 0) {
            CHECK_INT(feed_state_check(s, REGION), FEED_OK);
        }
    }

    CHECK_INT(feed_state_check(s, REGION), FEED_OK);

    feed_state_stats_locked(s, &st);
    CHECK_UINT(st.viewers, count);
    CHECK_UINT(st.resets, 0);
    CHECK(st.evictions > ops / 20);

    /* every viewer the model holds is there, with its mark */

    for (n = 0; n < ids; n++) {
        if (present[n]) {
            v = viewer(s, n, 0, 0, NULL);
            CHECK(v != NULL && v->page == mark[n]);
        }
    }
}


static void
test_state_churn(void)
{
    rng_state = 1;

    churn(64, MODEL_IDS, 30000);
    churn(8, 30, 20000);
    churn(120, 400, 30000);
}


/*
 * No false negatives among the last FEED_STATE_SEEN_GEN clips, and the
 * false positive rate of clips never shown, measured at every fill.
 */

static void
test_state_seen(void)
{
    unsigned        i, j, misses, fp, asked;
    feed_viewer_t  *v;

    v = feed_unit_alloc(sizeof(feed_viewer_t));
    memset(v, 0, sizeof(feed_viewer_t));

    misses = 0;
    fp = 0;
    asked = 0;

    for (i = 0; i < 6000; i++) {
        feed_viewer_seen_add(v, clip_hash(i));

        /* the last FEED_STATE_SEEN_GEN + 1, in fact */

        for (j = i > FEED_STATE_SEEN_GEN ? i - FEED_STATE_SEEN_GEN : 0;
             j <= i; j++)
        {
            misses += !feed_viewer_seen(v, clip_hash(j));
        }

        if (i >= 2 * FEED_STATE_SEEN_GEN && i % 7 == 0) {
            for (j = 0; j < 100; j++) {
                fp += feed_viewer_seen(v, clip_hash(1000000 + asked));
                asked++;
            }
        }

        /* adding a clip twice counts it once */

        if (i % 50 == 0) {
            j = v->seen_n;
            feed_viewer_seen_add(v, clip_hash(i));
            CHECK_UINT(v->seen_n, j);
        }
    }

    CHECK_UINT(misses, 0);
    CHECK(fp < asked / 8);

    printf("     seen: last %u always found, false positives %.2f%% "
           "(%u of %u)\n", FEED_STATE_SEEN_GEN, 100.0 * fp / asked, fp,
           asked);

    /* a damaged record is wrong, not dangerous */

    v->seen_cur = 77;
    v->seen_n = 0xffffffff;
    feed_viewer_seen_add(v, 42);
    CHECK(feed_viewer_seen(v, 42));
    CHECK(v->seen_cur <= 1);
}


static void
test_state_reported(void)
{
    uint32_t        i;
    feed_viewer_t  *v;

    v = feed_unit_alloc(sizeof(feed_viewer_t));
    memset(v, 0, sizeof(feed_viewer_t));

    /* nothing served yet: nothing to report on */

    CHECK_INT(feed_viewer_report(v, 0), FEED_ERROR);

    for (i = 0; i < 100; i++) {
        feed_viewer_served(v, v->page++);
    }

    CHECK_INT(feed_viewer_report(v, 0), FEED_OK);
    CHECK_INT(feed_viewer_report(v, 0), FEED_DECLINED);
    CHECK_INT(feed_viewer_report(v, 99), FEED_OK);
    CHECK_INT(feed_viewer_report(v, 100), FEED_ERROR);
    CHECK_UINT(v->events, 2);

    /* all of them, then all again: every second report is a duplicate,
     * however many came between */

    for (i = 1; i < 99; i++) {
        CHECK_INT(feed_viewer_report(v, i), FEED_OK);
    }

    for (i = 0; i < 100; i++) {
        CHECK_INT(feed_viewer_report(v, i), FEED_DECLINED);
    }

    CHECK_UINT(v->events, 100);

    /* a window later, the old positions are refused, the new ones fresh */

    for (i = 0; i < FEED_STATE_WINDOW; i++) {
        feed_viewer_served(v, v->page++);
    }

    CHECK_INT(feed_viewer_report(v, 99), FEED_ERROR);
    CHECK_INT(feed_viewer_report(v, 100), FEED_OK);
    CHECK_INT(feed_viewer_report(v, v->page - 1), FEED_OK);
    CHECK_INT(feed_viewer_report(v, v->page - 1), FEED_DECLINED);
}


static void
test_state_rings(void)
{
    unsigned        i, n;
    uint32_t        c[FEED_STATE_RECENT], snd[FEED_STATE_RECENT];
    uint64_t        l[FEED_STATE_LIKED];
    feed_viewer_t  *v;

    v = feed_unit_alloc(sizeof(feed_viewer_t));
    memset(v, 0, sizeof(feed_viewer_t));

    CHECK_UINT(feed_viewer_recent(v, c, snd), 0);
    CHECK_UINT(feed_viewer_liked(v, l), 0);

    feed_viewer_recent_add(v, 1, 101);
    feed_viewer_recent_add(v, 2, 102);

    n = feed_viewer_recent(v, c, NULL);
    CHECK_UINT(n, 2);
    CHECK_UINT(c[0], 2);
    CHECK_UINT(c[1], 1);

    for (i = 3; i <= 11; i++) {
        feed_viewer_recent_add(v, i, 100 + i);
    }

    n = feed_viewer_recent(v, c, snd);
    CHECK_UINT(n, FEED_STATE_RECENT);

    for (i = 0; i < n; i++) {
        CHECK_UINT(c[i], 11 - i);
        CHECK_UINT(snd[i], 111 - i);
    }

    for (i = 1; i <= 10; i++) {
        feed_viewer_liked_add(v, i * 1000);
        feed_viewer_liked_add(v, i * 1000);
    }

    feed_viewer_liked_add(v, 9000);

    n = feed_viewer_liked(v, l);
    CHECK_UINT(n, FEED_STATE_LIKED);

    for (i = 0; i < n; i++) {
        CHECK_UINT(l[i], (10 - i) * 1000);
    }

    v->recent_pos = 200;
    v->recent_n = 200;
    v->liked_pos = 99;
    v->liked_n = 99;

    CHECK_UINT(feed_viewer_recent(v, c, snd), FEED_STATE_RECENT);
    CHECK_UINT(feed_viewer_liked(v, l), FEED_STATE_LIKED);
    feed_viewer_recent_add(v, 1, 1);
    feed_viewer_liked_add(v, 1);
    CHECK(v->recent_pos < FEED_STATE_RECENT);
    CHECK(v->liked_pos < FEED_STATE_LIKED);
}


static void
test_state_rate(void)
{
    unsigned        i, n;
    uint64_t        now;
    feed_viewer_t  *v;

    v = feed_unit_alloc(sizeof(feed_viewer_t));
    memset(v, 0, sizeof(feed_viewer_t));

    now = 1700000000000ULL;

    /* a burst of 3, then 2 a second */

    CHECK_INT(feed_viewer_allow(v, now, 2, 3), 1);
    CHECK_INT(feed_viewer_allow(v, now, 2, 3), 1);
    CHECK_INT(feed_viewer_allow(v, now, 2, 3), 1);
    CHECK_INT(feed_viewer_allow(v, now, 2, 3), 0);
    CHECK_INT(feed_viewer_allow(v, now + 499, 2, 3), 0);
    CHECK_INT(feed_viewer_allow(v, now + 1000, 2, 3), 1);
    CHECK_INT(feed_viewer_allow(v, now + 1000, 2, 3), 1);
    CHECK_INT(feed_viewer_allow(v, now + 1000, 2, 3), 0);

    /* a long pause refills the burst, no more */

    now += 3600 * 1000;

    for (n = 0, i = 0; i < 10; i++) {
        n += feed_viewer_allow(v, now, 2, 3);
    }

    CHECK_UINT(n, 3);

    /* over 10 s at 2 a second: 20 more */

    for (n = 0, i = 1; i <= 1000; i++) {
        n += feed_viewer_allow(v, now + i * 10, 2, 3);
    }

    CHECK_UINT(n, 20);

    /* a clock that goes back refills nothing */

    now += 10000;
    CHECK_INT(feed_viewer_allow(v, now - 100000, 2, 3), 0);
    CHECK_INT(feed_viewer_allow(v, now - 100000, 2, 3), 0);
    CHECK_INT(feed_viewer_allow(v, now - 99500, 2, 3), 1);

    /* nonsense parameters and a damaged bucket */

    CHECK_INT(feed_viewer_allow(v, now, NAN, NAN), 0);
    v->tokens = NAN;
    CHECK_INT(feed_viewer_allow(v, now, 1, 5), 1);
    CHECK(v->tokens == 4);
    v->tokens = INFINITY;
    CHECK_INT(feed_viewer_allow(v, now, INFINITY, INFINITY), 1);
    CHECK(isfinite(v->tokens));
    CHECK_INT(feed_viewer_allow(v, now, -1, -1), 1);
    CHECK_INT(feed_viewer_allow(v, now, -1, -1), 0);
}


static int
finite_vector(const feed_viewer_t *v)
{
    unsigned  i;

    for (i = 0; i < FEED_STATE_DIM; i++) {
        if (!(fabsf(v->interest[i]) <= FEED_STATE_EMB_MAX)) {
            return 0;
        }
    }

    return v->weight >= 0 && v->weight <= 1;
}


static float
random_float(void)
{
    switch (rng() % 8) {

    case 0:
        return NAN;

    case 1:
        return (rng() & 1) ? INFINITY : -INFINITY;

    case 2:
        return (rng() & 1) ? FLT_MAX : -FLT_MAX;

    case 3:
        return (float) ((double) (int64_t) rng() * 1e10);

    case 4:
        return FLT_MIN / 4;

    default:
        return (float) ((double) (int64_t) rng() / 9.2e18);
    }
}


static void
test_state_learn(void)
{
    unsigned        i, k;
    float           e[64], d, dot0, dot1;
    feed_viewer_t  *v;

    rng_state = 5;

    v = feed_unit_alloc(sizeof(feed_viewer_t));
    memset(v, 0, sizeof(feed_viewer_t));

    for (i = 0; i < 64; i++) {
        e[i] = 0.5f;
    }

    /* non-finite inputs are ignored whole */

    e[3] = NAN;
    feed_viewer_learn(v, e, 32, 1);
    CHECK(v->interest[0] == 0 && v->weight == 0);
    e[3] = INFINITY;
    feed_viewer_learn(v, e, 32, 1);
    CHECK(v->interest[0] == 0);
    e[3] = 0.5f;
    feed_viewer_learn(v, e, 32, NAN);
    feed_viewer_learn(v, e, 32, INFINITY);
    feed_viewer_learn(v, e, 32, 0);
    feed_viewer_learn(v, e, 0, 1);
    feed_viewer_learn(v, NULL, 32, 1);
    CHECK(v->interest[0] == 0 && v->weight == 0);

    /* a step: a = 0.1 * weight */

    feed_viewer_learn(v, e, 8, 2);
    CHECK(fabsf(v->interest[0] - 0.1f) < 1e-6);
    CHECK(fabsf(v->interest[7] - 0.1f) < 1e-6);
    CHECK(v->interest[8] == 0);
    CHECK(fabsf(v->weight - 0.2f) < 1e-6);

    /* random garbage, huge weights: always finite and bounded */

    for (k = 0; k < 20000; k++) {
        for (i = 0; i < 64; i++) {
            e[i] = random_float();
        }

        feed_viewer_learn(v, e, (unsigned) (rng() % 70), random_float());

        if (!CHECK(finite_vector(v))) {
            break;
        }
    }

    /* damage in the record is repaired */

    v->interest[5] = NAN;
    v->interest[30] = -INFINITY;
    v->weight = NAN;

    for (i = 0; i < 64; i++) {
        e[i] = 1;
    }

    feed_viewer_learn(v, e, 2, 1);
    CHECK(finite_vector(v));

    /* a repeated embedding is reached; a dislike moves away from it */

    for (i = 0; i < 64; i++) {
        e[i] = (float) ((double) (int64_t) rng() / 9.2e18);
    }

    for (k = 0; k < 300; k++) {
        feed_viewer_learn(v, e, 64, 1);
    }

    for (d = 0, i = 0; i < FEED_STATE_DIM; i++) {
        d = fmaxf(d, fabsf(v->interest[i] - e[i]));
    }

    CHECK(d < 1e-4);
    CHECK(v->weight > 0.99f && v->weight <= 1);

    for (dot0 = 0, i = 0; i < FEED_STATE_DIM; i++) {
        dot0 += v->interest[i] * e[i];
    }

    feed_viewer_learn(v, e, 32, -3);

    for (dot1 = 0, i = 0; i < FEED_STATE_DIM; i++) {
        dot1 += v->interest[i] * e[i];
    }

    CHECK(dot1 < dot0);
    CHECK(fabsf(dot1 - dot0 * (1 - 0.3f - 0.3f)) < 1e-3);

    for (k = 0; k < 300; k++) {
        feed_viewer_learn(v, e, 32, -1e30f);
    }

    /* dislikes push a taste away until it no longer resembles the clip;
     * they never turn it into its opposite */

    CHECK(finite_vector(v));

    for (dot1 = 0, i = 0; i < FEED_STATE_DIM; i++) {
        dot1 += v->interest[i] * e[i];
    }

    CHECK(dot1 <= 1e-3);
    CHECK(dot1 > -0.5f * dot0);

    /* two tastes of 8 dimensions: two vectors, one each */

    memset(v, 0, sizeof(feed_viewer_t));
    CHECK_UINT(feed_viewer_interests(8), FEED_STATE_INTERESTS);
    CHECK_UINT(feed_viewer_interests(32), 1);
    CHECK_UINT(feed_viewer_interests(64), 1);
    CHECK_UINT(feed_viewer_interests(16), 2);

    for (k = 0; k < 200; k++) {
        float  a8[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };
        float  b8[8] = { 0, 0, 0, 1, 0, 0, 0, 0 };

        feed_viewer_learn(v, (k & 1) ? b8 : a8, 8, 1);
    }

    CHECK(fabsf(v->interest[0] - 1) < 1e-3);       /* vector 0: a */
    CHECK(fabsf(v->interest[8 + 3] - 1) < 1e-3);   /* vector 1: b */
    CHECK(fabsf(v->interest[3]) < 1e-3);
    CHECK(fabsf(v->interest[8]) < 1e-3);
}


static void
test_state_trend(void)
{
    float     s;
    uint32_t  t;

    s = 0;
    t = 0;

    feed_trend_add(&s, &t, 10, 1000, 3600);
    CHECK(s == 10);
    CHECK_UINT(t, 1000);

    CHECK(fabs(feed_trend_value(s, t, 1000 + 3600, 3600) - 5) < 1e-4);
    CHECK(fabs(feed_trend_value(s, t, 1000 + 7200, 3600) - 2.5) < 1e-4);
    CHECK(feed_trend_value(s, t, 1000, 3600) == 10);
    CHECK(feed_trend_value(s, t, 500, 3600) == 10);
    CHECK(feed_trend_value(s, t, 5000, 0) == 10);
    CHECK(feed_trend_value(s, t, 5000, NAN) == 10);
    CHECK(feed_trend_value(NAN, t, 5000, 3600) == 0);

    feed_trend_add(&s, &t, 5, 1000 + 3600, 3600);
    CHECK(fabsf(s - 10) < 1e-4);
    CHECK_UINT(t, 4600);

    /* a clock that goes back: nothing decays, the time stays */

    feed_trend_add(&s, &t, 1, 10, 3600);
    CHECK(fabsf(s - 11) < 1e-4);
    CHECK_UINT(t, 4600);

    feed_trend_add(&s, &t, NAN, 4600, 3600);
    CHECK(fabsf(s - 11) < 1e-4);

    feed_trend_add(&s, &t, 1e300, 4600, 3600);
    CHECK(s == FLT_MAX);
    feed_trend_add(&s, &t, -INFINITY, 4600, 3600);
    CHECK(s == FLT_MAX);

    /* a long time later it is gone */

    CHECK(feed_trend_value(s, t, 4600 + 3600 * 200, 3600) < 1e-20);
}


static void
test_state_clips(void)
{
    void                *s;
    unsigned             i, n, k;
    uint32_t             cursor;
    unsigned char        found[70];
    feed_clip_stats_t   *c, out[10];
    feed_sound_stats_t  *snd, sout[7];
    feed_state_stats_t   st;

    s = make_state(REGION, 16, 64, 70);

    CHECK(feed_state_clip_locked(s, clip_hash(0), 10, 0) == NULL);

    for (i = 0; i < 64; i++) {
        c = feed_state_clip_locked(s, clip_hash(i), 10 + i, 1);

        if (!CHECK(c != NULL)) {
            return;
        }

        CHECK(c->hash == clip_hash(i));
        CHECK_UINT(c->first_seen, 10 + i);
        c->impressions = i;
    }

    CHECK(feed_state_clip_locked(s, clip_hash(64), 100, 1) == NULL);
    CHECK(feed_state_clip_locked(s, clip_hash(65), 100, 1) == NULL);
    CHECK(feed_state_clip_locked(s, clip_hash(66), 100, 0) == NULL);

    c = feed_state_clip_locked(s, clip_hash(5), 100, 1);
    CHECK(c != NULL && c->impressions == 5 && c->first_seen == 15);

    feed_state_stats_locked(s, &st);
    CHECK_UINT(st.clips, 64);
    CHECK_UINT(st.clip_capacity, 64);
    CHECK_UINT(st.clips_refused, 2);

    /* saturating counters */

    c->likes = UINT32_MAX - 2;
    feed_clip_add(&c->likes, 1);
    CHECK_UINT(c->likes, UINT32_MAX - 1);
    feed_clip_add(&c->likes, 5);
    CHECK_UINT(c->likes, UINT32_MAX);
    feed_clip_add(&c->likes, 1);
    CHECK_UINT(c->likes, UINT32_MAX);
    feed_clip_add(&c->likes, UINT32_MAX);
    CHECK_UINT(c->likes, UINT32_MAX);
    c->shares = 0;
    feed_clip_add(&c->shares, UINT32_MAX);
    CHECK_UINT(c->shares, UINT32_MAX);

    c->watch_ms = UINT64_MAX - 10;
    feed_clip_watch(c, 5);
    CHECK_UINT(c->watch_ms, UINT64_MAX - 5);
    feed_clip_watch(c, 1000);
    CHECK(c->watch_ms == UINT64_MAX);

    /* one pass copies every clip once, in chunks */

    memset(found, 0, sizeof(found));
    cursor = 0;
    k = 0;

    while ((n = feed_state_clip_next_locked(s, &cursor, out, 10)) > 0) {
        for (i = 0; i < n; i++) {
            if (!CHECK(out[i].impressions < 64)) {
                continue;
            }

            CHECK(out[i].hash == clip_hash(out[i].impressions));
            found[out[i].impressions]++;
            k++;
        }
    }

    CHECK_UINT(k, 64);
    CHECK_UINT(cursor, 64);

    for (i = 0; i < 64; i++) {
        CHECK_UINT(found[i], 1);
    }

    CHECK_UINT(feed_state_clip_next_locked(s, &cursor, out, 10), 0);

    /* sounds */

    for (i = 0; i < 75; i++) {
        snd = feed_state_sound_locked(s, 1000 + i, 50, 1);
        CHECK((snd != NULL) == (i < 70));

        if (snd) {
            snd->uses = i;
            feed_trend_add(&snd->score, &snd->score_time, 1, 60, 600);
        }
    }

    snd = feed_state_sound_locked(s, 1003, 70, 0);
    CHECK(snd != NULL && snd->uses == 3 && snd->first_seen == 50);

    memset(found, 0, sizeof(found));
    cursor = 0;
    k = 0;

    while ((n = feed_state_sound_next_locked(s, &cursor, sout, 7)) > 0) {
        for (i = 0; i < n; i++) {
            CHECK(sout[i].hash == 1000 + sout[i].uses);
            CHECK(sout[i].score == 1);
            found[sout[i].uses % 70]++;
            k++;
        }
    }

    CHECK_UINT(k, 70);

    feed_state_stats_locked(s, &st);
    CHECK_UINT(st.sounds, 70);
    CHECK_UINT(st.sounds_refused, 5);
    CHECK_INT(feed_state_check(s, REGION), FEED_OK);
}


/*
 * A page's clips at once: the same records one at a time would give,
 * found or made, a clip twice in a batch made once, what does not fit
 * refused, nothing made without create.
 */

static void
test_state_clips_batch(void)
{
    void                *s;
    unsigned             i;
    uint64_t             h[12];
    feed_clip_stats_t   *out[12], *c;
    feed_state_stats_t   st;

    s = make_state(REGION, 16, 16, 16);

    for (i = 0; i < 4; i++) {
        c = feed_state_clip_locked(s, clip_hash(i), 10, 1);
        CHECK(c != NULL);
        c->impressions = 100 + i;
    }

    for (i = 0; i < 12; i++) {
        h[i] = clip_hash(i < 10 ? i : 7);       /* 7 three times */
    }

    feed_state_clips_locked(s, h, 5, 20, 0, out);

    for (i = 0; i < 5; i++) {
        CHECK((out[i] != NULL) == (i < 4));
    }

    CHECK(out[2] != NULL && out[2]->impressions == 102);

    feed_state_clips_locked(s, h, 12, 30, 1, out);

    for (i = 0; i < 12; i++) {
        if (!CHECK(out[i] != NULL)) {
            return;
        }

        CHECK(out[i]->hash == h[i]);
        CHECK_UINT(out[i]->first_seen, i < 4 ? 10 : 30);
        CHECK(out[i] == feed_state_clip_locked(s, h[i], 40, 0));
    }

    CHECK(out[7] == out[10] && out[7] == out[11]);

    feed_state_stats_locked(s, &st);
    CHECK_UINT(st.clips, 10);

    /* six more fit, of ten */

    for (i = 0; i < 10; i++) {
        h[i] = clip_hash(100 + i);
    }

    feed_state_clips_locked(s, h, 10, 50, 1, out);

    for (i = 0; i < 10; i++) {
        CHECK((out[i] != NULL) == (i < 6));
    }

    feed_state_stats_locked(s, &st);
    CHECK_UINT(st.clips, 16);
    CHECK_UINT(st.clips_refused, 4);
    CHECK_INT(feed_state_check(s, REGION), FEED_OK);
}


/* random work on every table, as the feed would do it */

static void
work(void *s, unsigned n, uint32_t now)
{
    float                e[16];
    unsigned             i, k;
    uint32_t             cursor;
    feed_viewer_t       *v;
    feed_clip_stats_t   *c, out[32];
    feed_sound_stats_t  *snd;

    k = n / 4;

    switch (n % 4) {

    case 0:
    case 1:
        v = viewer(s, k % 300, now, 1, NULL);

        if (v == NULL) {
            break;
        }

        for (i = 0; i < 16; i++) {
            e[i] = (float) (n % (i + 3)) - 1;
        }

        feed_viewer_seen_add(v, clip_hash(n));
        feed_viewer_learn(v, e, 16, (n & 1) ? 1.0f : -0.5f);
        feed_viewer_served(v, v->page);
        (void) feed_viewer_report(v, n % (v->page + 1));
        (void) feed_viewer_allow(v, 1000 + now, 10, 20);
        feed_viewer_recent_add(v, n, n * 3);
        feed_viewer_liked_add(v, n / 5);
        v->page++;
        break;

    case 2:
        c = feed_state_clip_locked(s, clip_hash(k % 400), now, 1);

        if (c != NULL) {
            feed_clip_add(&c->impressions, 1);
            feed_clip_watch(c, n);
            feed_trend_add(&c->score, &c->score_time, 1, now, 3600);
        }

        snd = feed_state_sound_locked(s, k % 100, now, 1);

        if (snd != NULL) {
            feed_clip_add(&snd->uses, 1);
        }

        break;

    default:
        cursor = 0;

        while (feed_state_clip_next_locked(s, &cursor, out, 32) > 0) {
            /* void */
        }

        break;
    }
}


static void
test_state_check(void)
{
    unsigned char       *s, save[8];
    unsigned             i;
    feed_viewer_t       *v, *w;
    feed_state_stats_t   st;

    rng_state = 11;
    s = make_state(REGION, 64, 256, 64);

    for (i = 0; i < 5000; i++) {
        work(s, (unsigned) rng(), i);
    }

    CHECK_INT(feed_state_check(s, REGION), FEED_OK);
    CHECK_INT(feed_state_check(NULL, REGION), FEED_ERROR);

    feed_state_stats_locked(s, &st);
    CHECK_UINT(st.viewers, 64);
    CHECK_UINT(st.resets, 0);

    /* a damaged header is refused by every call */

    s[40] ^= 1;
    CHECK_INT(feed_state_check(s, REGION), FEED_ERROR);
    CHECK(viewer(s, 1, 1, 1, NULL) == NULL);
    CHECK(feed_state_clip_locked(s, 1, 1, 1) == NULL);
    feed_state_stats_locked(s, &st);
    CHECK_UINT(st.viewer_capacity, 0);
    s[40] ^= 1;
    CHECK_INT(feed_state_check(s, REGION), FEED_OK);

    /* a broken LRU link: found by the check and by the next lookup */

    v = viewer(s, 7, 1, 1, NULL);
    w = viewer(s, 8, 1, 1, NULL);
    CHECK(v != NULL && w != NULL);

    if (v == NULL || w == NULL) {
        return;
    }

    memcpy(save, &w->next, 4);
    w->next ^= 1;
    CHECK_INT(feed_state_check(s, REGION), FEED_ERROR);
    memcpy(&w->next, save, 4);
    CHECK_INT(feed_state_check(s, REGION), FEED_OK);

    v->prev = 60;
    CHECK_INT(feed_state_check(s, REGION), FEED_ERROR);
    CHECK(viewer(s, 7, 2, 0, NULL) == NULL);
    CHECK_INT(feed_state_check(s, REGION), FEED_OK);

    feed_state_stats_locked(s, &st);
    CHECK_UINT(st.resets, 1);
    CHECK_UINT(st.viewers, 0);
    CHECK(st.clips > 0);

    /* a viewer's field out of range */

    v = viewer(s, 7, 3, 1, NULL);
    CHECK_INT(feed_state_check(s, REGION), FEED_OK);

    if (v != NULL) {
        v->recent_n = 9;
        CHECK_INT(feed_state_check(s, REGION), FEED_ERROR);
        feed_viewer_recent_add(v, 1, 1);
        CHECK_INT(feed_state_check(s, REGION), FEED_OK);
        v->interest[3] = NAN;
        CHECK_INT(feed_state_check(s, REGION), FEED_ERROR);
        v->interest[3] = 0;
    }

    CHECK_INT(feed_state_check(s, REGION), FEED_OK);
}


/* random damage must never crash; a damaged region is found out */

static void
test_state_corrupt(void)
{
    unsigned char      *s, *good;
    unsigned            round, i, n, bad, reset;
    feed_viewer_t      *v;
    feed_clip_stats_t  *c;
    feed_state_stats_t  st;

    rng_state = 42;
    good = make_state(REGION, 64, 256, 64);

    for (i = 0; i < 3000; i++) {
        work(good, (unsigned) rng(), i);
    }

    CHECK_INT(feed_state_check(good, REGION), FEED_OK);

    s = feed_unit_alloc(REGION);
    bad = 0;
    reset = 0;

    for (round = 0; round < 300; round++) {
        memcpy(s, good, REGION);

        /* a few bytes anywhere, the header too, now and then */

        for (i = 0; i < 8; i++) {
            n = (round % 10 == 0) ? (unsigned) (rng() % 512)
                                  : 256 + (unsigned) (rng() % (REGION - 256));
            s[n] = (unsigned char) rng();
        }

        bad += feed_state_check(s, REGION) != FEED_OK;

        for (i = 0; i < 60; i++) {
            n = (unsigned) rng();
            work(s, n, 5000 + i);

            v = viewer(s, n % 300, 6000, n & 1, NULL);

            if (v != NULL) {
                CHECK((unsigned char *) v >= s
                      && (unsigned char *) (v + 1) <= s + REGION);
            }

            c = feed_state_clip_locked(s, clip_hash(n % 400), 6000, 1);

            if (c != NULL) {
                CHECK((unsigned char *) c >= s
                      && (unsigned char *) (c + 1) <= s + REGION);
            }
        }

        feed_state_stats_locked(s, &st);
        reset += st.resets > 0;

        if (feed_state_check(s, REGION) != FEED_OK) {
            CHECK_INT(feed_state_init(s, REGION, NULL), FEED_OK);
            CHECK_INT(feed_state_check(s, REGION), FEED_OK);
        }
    }

    CHECK(bad > 0);

    printf("     corrupt: %u of 300 damaged regions failed the check, "
           "%u saw a reset\n", bad, reset);
}


/*
 * The header's geometry damaged after it was found intact (and known
 * so): every call refuses the region, and takes it again once mended.
 */

static void
test_state_header(void)
{
    unsigned        off;
    unsigned char  *s;

    s = make_state(REGION, 64, 256, 64);

    CHECK(viewer(s, 1, 1000, 1, NULL) != NULL);
    CHECK(feed_state_clip_locked(s, clip_hash(1), 1000, 1) != NULL);

    /* the region's size and seed, bit 6 of each byte */

    for (off = 16; off < 32; off++) {
        s[off] ^= 0x40;

        CHECK(viewer(s, 1, 1000, 1, NULL) == NULL);
        CHECK(viewer(s, 2, 1000, 1, NULL) == NULL);
        CHECK(feed_state_clip_locked(s, clip_hash(1), 1000, 1) == NULL);

        s[off] ^= 0x40;

        CHECK(viewer(s, 1, 1000, 0, NULL) != NULL);
        CHECK(feed_state_clip_locked(s, clip_hash(1), 1000, 0) != NULL);
    }

    CHECK_INT(feed_state_check(s, REGION), FEED_OK);
}


/*
 * A process killed at a random point, over and over: the next operation
 * empties the table it was changing, and the region passes the check.
 */

static void
test_state_kill(void)
{
    int                  status;
    pid_t                pid;
    unsigned             round, n, *bad;
    unsigned char       *s;
    struct timespec      ts;
    feed_viewer_t       *v;
    feed_state_stats_t   st;
    feed_state_params_t  p;

    s = mmap(NULL, REGION + 4096, PROT_READ|PROT_WRITE,
             MAP_SHARED|MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED);
    if (s == MAP_FAILED) {
        return;
    }

    bad = (unsigned *) (s + REGION);
    *bad = 0;

    p.viewers = 64;
    p.clips = 256;
    p.sounds = 64;

    CHECK_INT(feed_state_init(s, REGION, &p), FEED_OK);

    rng_state = 7;
    st.resets = 0;

    /* 300 rounds, more (up to 3000) until a kill has landed mid-operation */

    for (round = 0;
         round < 300 || (st.resets == 0 && round < 3000);
         round++)
    {
        pid = fork();

        if (pid == 0) {
            srand(round);

            for ( ;; ) {
                n = (unsigned) rand();
                work(s, n, round);

                v = viewer(s, n / 4 % 300, round, 0, NULL);

                if (v != NULL && !feed_viewer_seen(v, clip_hash(n))
                    && n % 4 < 2)
                {
                    /* it was just added, and nothing evicted it since */
                    (*bad)++;
                }
            }
        }

        CHECK(pid > 0);

        ts.tv_sec = 0;
        ts.tv_nsec = (long) (rng() % 1500000);
        nanosleep(&ts, NULL);

        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);

        /* a table left busy is not checked, the others must pass */

        CHECK_INT(feed_state_check(s, REGION), FEED_OK);

        /* the next operation, then a full check */

        work(s, (unsigned) rng(), round);

        CHECK_INT(feed_state_check(s, REGION), FEED_OK);

        feed_state_stats_locked(s, &st);
    }

    CHECK_UINT(*bad, 0);

    feed_state_stats_locked(s, &st);
    CHECK(st.resets > 0);

    printf("     kill: %llu resets in %u rounds, %llu viewers, "
           "%llu clips\n", (unsigned long long) st.resets, round,
           (unsigned long long) st.viewers, (unsigned long long) st.clips);

    munmap(s, REGION + 4096);
}


void
feed_unit_state_tests(void)
{
    RUN(test_state_sizes);
    RUN(test_state_viewer);
    RUN(test_state_lru);
    RUN(test_state_churn);
    RUN(test_state_seen);
    RUN(test_state_reported);
    RUN(test_state_rings);
    RUN(test_state_rate);
    RUN(test_state_learn);
    RUN(test_state_trend);
    RUN(test_state_clips);
    RUN(test_state_clips_batch);
    RUN(test_state_check);
    RUN(test_state_header);
    RUN(test_state_corrupt);
    RUN(test_state_kill);
}
