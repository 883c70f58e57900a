
/*
 * Copyright (C) the feed module developers
 */


/*
 * The ranking on a small synthetic catalog of three topics: pages without
 * repeats or back-to-back creators and sounds, the seen set honoured,
 * interests followed, fresh clips and rising clips given their slots,
 * remixes of liked clips offered, blocked clips never shown, a hook's
 * NaN scores dropped, and the exposure stages.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_unit.h"
#include "feed_rank.h"


#define NCLIPS   90


typedef struct {
    uint64_t   hash[1024];
    uint32_t   n;
} seen_set_t;


static int
seen_has(void *data, uint64_t h)
{
    uint32_t     i;
    seen_set_t  *s = data;

    for (i = 0; i < s->n; i++) {
        if (s->hash[i] == h) {
            return 1;
        }
    }

    return 0;
}


static void
seen_add(seen_set_t *s, uint64_t h)
{
    if (s->n < 1024) {
        s->hash[s->n++] = h;
    }
}


/* clip i: topic i % 3, creator i % 7, sound i % 5; 80..89 remix 0..9 */

static char *
make_catalog(unsigned n)
{
    char      *text, *p;
    unsigned   i, t;
    float      e[3];

    text = malloc(n * 600 + 1);
    if (text == NULL) {
        return NULL;
    }

    p = text;

    for (i = 0; i < n; i++) {
        t = i % 3;
        e[0] = t == 0 ? 1.0f : 0.05f * (float) (i % 4);
        e[1] = t == 1 ? 1.0f : 0.05f * (float) (i % 5);
        e[2] = t == 2 ? 1.0f : 0.05f * (float) (i % 6);

        p += sprintf(p,
                     "{\"id\":\"c%u\",\"creator\":\"cr%u\",\"sound\":\"s%u\","
                     "\"created\":%u,\"duration\":3.0,\"caption\":\"t%u\","
                     "\"tags\":[\"topic%u\"],\"embedding\":[%.2f,%.2f,%.2f],"
                     "\"renditions\":[{\"name\":\"a\",\"bandwidth\":1000,"
                     "\"resolution\":\"16x16\",\"codecs\":\"avc1\","
                     "\"segments\":[1.0,2.0]}]",
                     i, i % 7, i % 5, 1764000000 + i, i, t, e[0], e[1],
                     e[2]);

        if (i >= 80 && i < 90) {
            p += sprintf(p, ",\"lineage\":{\"kind\":\"duet\","
                            "\"parent\":\"c%u\"}", i - 80);
        }

        p += sprintf(p, "}\n");
    }

    *p = '\0';

    return text;
}


static feed_catalog_t *
load(feed_index_t **ix)
{
    char            *text;
    feed_err_t       err;
    feed_catalog_t  *cat;

    text = make_catalog(NCLIPS);
    CHECK(text != NULL);

    CHECK_INT(feed_unit_load(text, &cat, &err), FEED_OK);
    free(text);

    *ix = feed_index_new(cat, 3, 42, &err);
    CHECK(*ix != NULL);

    return cat;
}


static void
check_page(feed_index_t *ix, const feed_rank_viewer_t *v, feed_item_t *it,
    uint32_t n)
{
    uint32_t  i, j;

    for (i = 0; i < n; i++) {
        CHECK(it[i].clip < feed_index_count(ix));
        CHECK(it[i].reason < FEED_REASONS);

        for (j = 0; j < i; j++) {
            CHECK(it[i].clip != it[j].clip);
        }

        if (i > 0) {
            CHECK(feed_index_creator(ix, it[i].clip)
                  != feed_index_creator(ix, it[i - 1].clip));
            CHECK(feed_index_sound(ix, it[i].clip)
                  != feed_index_sound(ix, it[i - 1].clip));

        } else if (v->last_creator) {
            CHECK(feed_index_creator(ix, it[0].clip) != v->last_creator);
            CHECK(feed_index_sound(ix, it[0].clip) != v->last_sound);
        }
    }
}


static void
test_rank_pages(void)
{
    uint32_t             i, n, page, total;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    static seen_set_t    seen;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;

    cat = load(&ix);
    feed_rank_default_params(&p);
    feed_index_refresh(ix, 1764100000, 0);

    memset(&v, 0, sizeof(v));
    memset(&seen, 0, sizeof(seen));
    v.seen = seen_has;
    v.seen_data = &seen;

    /* page after page: never a repeat, until the catalog runs out */

    total = 0;

    for (page = 0; page < 20; page++) {
        n = feed_rank_page(cat, ix, &p, &v, 1764100000, page + 1, NULL,
                           NULL, it, 10);
        check_page(ix, &v, it, n);

        for (i = 0; i < n; i++) {
            CHECK(!seen_has(&seen, feed_index_hash(ix, it[i].clip)));
            seen_add(&seen, feed_index_hash(ix, it[i].clip));
        }

        if (n) {
            v.last_creator = feed_index_creator(ix, it[n - 1].clip);
            v.last_sound = feed_index_sound(ix, it[n - 1].clip);
        }

        total += n;

        if (n == 0) {
            break;
        }
    }

    printf("     pages: %u clips of %u shown before the catalog ran out\n",
           total, NCLIPS);
    CHECK(total >= NCLIPS * 95 / 100);     /* a short pool is topped up */
    CHECK(total <= NCLIPS);

    feed_index_free(ix);
    feed_catalog_free(cat);
}


/*
 * The seen set is asked once about a clip a source has already found
 * unseen (the "seen" filter does not look again), and still asked by
 * the filter about a clip a source proposed without looking: a seen
 * remix of a liked clip is never shown.
 */

typedef struct {
    seen_set_t  set;
    uint32_t    asked[NCLIPS];
    uint64_t    hash[NCLIPS];
} asked_set_t;


static void
asked_reset(asked_set_t *a, feed_index_t *ix)
{
    uint32_t  i;

    memset(a, 0, sizeof(asked_set_t));

    for (i = 0; i < NCLIPS; i++) {
        a->hash[i] = feed_index_hash(ix, i);
    }
}


/* the default ranking with one source only */

static void
only_source(feed_rank_params_t *p, const char *name)
{
    uint32_t                     i, n;
    const feed_plugin_t *const  *list;

    feed_rank_default_params(p);
    n = feed_plugins(&list);

    for (i = 0; i < n; i++) {
        if (list[i]->type == FEED_PLUGIN_SOURCE
            && strcmp(list[i]->name, name) != 0)
        {
            p->weight[i] = -1;
        }
    }
}


static int
asked_has(void *data, uint64_t h)
{
    uint32_t      i;
    asked_set_t  *a = data;

    for (i = 0; i < NCLIPS; i++) {
        if (a->hash[i] == h) {
            a->asked[i]++;
        }
    }

    return seen_has(&a->set, h);
}


static void
test_rank_seen_once(void)
{
    int                  r;
    uint32_t             i, k, n, twice, proposed;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    static asked_set_t   a;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;

    cat = load(&ix);
    feed_index_refresh(ix, 1764100000, 0);
    asked_reset(&a, ix);

    memset(&v, 0, sizeof(v));
    v.seen = asked_has;
    v.seen_data = &a;
    v.interest[1] = 1;          /* its nearest clusters: each once */
    v.confidence = 1;

    /* the interest source alone: it looks at each clip it proposes */

    only_source(&p, "interest");

    n = feed_rank_page(cat, ix, &p, &v, 1764100000, 7, NULL, NULL, it, 10);
    CHECK_UINT(n, 10);

    for (i = 0, twice = 0, proposed = 0; i < NCLIPS; i++) {
        proposed += a.asked[i] > 0;
        twice += a.asked[i] > 1;
    }

    printf("     seen: %u clips looked up, %u of them twice\n",
           proposed, twice);
    CHECK(proposed >= 10);
    CHECK_UINT(twice, 0);

    /* the lineage source alone: its seen remixes are the filter's */

    only_source(&p, "lineage");

    r = feed_plugin_find("lineage", 7, FEED_PLUGIN_SOURCE);
    CHECK(r >= 0 && p.weight[r] > 0);

    asked_reset(&a, ix);

    for (i = 0; i < FEED_LIKED_MAX; i++) {
        v.liked[v.nliked++] = i;        /* 80.. remix these */
    }

    for (i = 80; i < 85; i++) {
        seen_add(&a.set, feed_index_hash(ix, i));
    }

    for (k = 1; k <= 5; k++) {
        n = feed_rank_page(cat, ix, &p, &v, 1764100000, k, NULL, NULL, it,
                           10);
        check_page(ix, &v, it, n);

        for (i = 0; i < n; i++) {
            CHECK(it[i].clip < 80 || it[i].clip >= 85);
        }
    }

    for (i = 80; i < 85; i++) {
        CHECK(a.asked[i] > 0);
    }

    feed_index_free(ix);
    feed_catalog_free(cat);
}


/*
 * The sound source looks at a sample of a sound's clips in proportion to
 * what it keeps, not at hundreds for the one or two a page takes: four
 * sounds of 120 clips each, a clip kept of each.
 */

static uint32_t  sound_lookups;


static int
sound_seen(void *data, uint64_t h)
{
    (void) data;
    (void) h;

    sound_lookups++;

    return 0;
}


static void
test_rank_sound_sample(void)
{
    char                *text, name[8];
    uint32_t             i, k, n;
    feed_err_t           err;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;

    text = make_catalog(600);
    CHECK(text != NULL);
    CHECK_INT(feed_unit_load(text, &cat, &err), FEED_OK);
    free(text);

    ix = feed_index_new(cat, 3, 42, &err);
    CHECK(ix != NULL);
    feed_index_refresh(ix, 1764100000, 0);

    only_source(&p, "sound");
    p.candidates = 4;

    memset(&v, 0, sizeof(v));
    v.seen = sound_seen;

    for (k = 0; k < 4; k++) {
        sprintf(name, "s%u", k);
        v.sounds[v.nsounds++] = feed_name_hash(name);
    }

    sound_lookups = 0;
    n = feed_rank_page(cat, ix, &p, &v, 1764100000, 3, NULL, NULL, it, 4);
    check_page(ix, &v, it, n);

    printf("     sound: %u items, %u clips looked at\n", n, sound_lookups);
    CHECK_UINT(n, 4);

    for (i = 0; i < n; i++) {
        CHECK_UINT(it[i].reason, FEED_REASON_SOUND);
        CHECK(feed_index_sound(ix, it[i].clip) != feed_name_hash("s4"));
    }

    /* 32 a clip kept (FEED_SOUND_SCAN), of the 480 */

    CHECK(sound_lookups <= 4 * 32);

    feed_index_free(ix);
    feed_catalog_free(cat);
}


static void
test_rank_interest(void)
{
    uint32_t             i, n, t, topic[3], seed;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;

    cat = load(&ix);
    feed_rank_default_params(&p);
    feed_index_refresh(ix, 1764100000, 0);

    memset(&v, 0, sizeof(v));
    memset(topic, 0, sizeof(topic));

    /* a viewer who likes topic 1 */

    v.interest[1] = 1;
    v.confidence = 1;

    for (seed = 1; seed <= 20; seed++) {
        n = feed_rank_page(cat, ix, &p, &v, 1764100000, seed, NULL, NULL,
                           it, 10);
        check_page(ix, &v, it, n);

        for (i = 0; i < n; i++) {
            if (it[i].reason == FEED_REASON_PERSONAL) {
                t = (uint32_t) (strtoul(feed_clip_id(cat,
                                  feed_catalog_clip(cat, it[i].clip)) + 1,
                                  NULL, 10) % 3);
                topic[t]++;
            }
        }
    }

    printf("     interest: personal items by topic %u %u %u\n",
           topic[0], topic[1], topic[2]);
    CHECK(topic[1] > 3 * (topic[0] + topic[2]));

    feed_index_free(ix);
    feed_catalog_free(cat);
}


static void
test_rank_slots(void)
{
    uint32_t             i, n, explore, zeitgeist, remix, blocked_seen;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    feed_clip_stat_t    *st;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;

    cat = load(&ix);
    feed_rank_default_params(&p);
    p.explore_share = 0.1f;         /* one slot a page, exactly */
    p.zeitgeist_share = 0.1f;

    /*
     * Clips 0..59 are out of the fresh pool; 30, 33, 36 (topic 0) and 31
     * (topic 1) are rising; the viewer likes topic 0, and clip 1, whose
     * remix 81 is of topic 0.
     */

    for (i = 0; i < 60; i++) {
        st = feed_index_stat(ix, i);
        st->stage = FEED_STAGE_DONE;
        st->impressions = 500;
        st->qualified = 200;
        st->watched = 4000;
    }

    feed_index_stat(ix, 30)->trend = 50;
    feed_index_stat(ix, 31)->trend = 45;
    feed_index_stat(ix, 33)->trend = 40;
    feed_index_stat(ix, 36)->trend = 30;

    for (i = 40; i < 50; i++) {
        feed_index_block(ix, i);
    }

    feed_index_refresh(ix, 1764100000, 0);

    memset(&v, 0, sizeof(v));
    v.interest[0] = 1;
    v.confidence = 1;
    v.liked[0] = 1;
    v.nliked = 1;

    explore = zeitgeist = remix = blocked_seen = 0;

    for (i = 1; i <= 30; i++) {
        uint32_t  k;

        n = feed_rank_page(cat, ix, &p, &v, 1764100000, i, NULL, NULL,
                           it, 10);
        check_page(ix, &v, it, n);
        CHECK_UINT(n, 10);

        for (k = 0; k < n; k++) {
            switch (it[k].reason) {

            case FEED_REASON_EXPLORE:
                explore++;
                CHECK(feed_index_stat(ix, it[k].clip)->stage
                      != FEED_STAGE_DONE);
                break;

            case FEED_REASON_ZEITGEIST:
                zeitgeist++;
                CHECK(feed_index_stat(ix, it[k].clip)->trend > 0);
                CHECK(it[k].clip % 3 == 0);     /* by personal fit */
                break;

            case FEED_REASON_REMIX:
                remix++;
                CHECK(it[k].clip == 81);
                break;
            }

            if (it[k].clip >= 40 && it[k].clip < 50) {
                blocked_seen++;
            }
        }
    }

    printf("     slots: %u explore, %u zeitgeist, %u remix in 300 items\n",
           explore, zeitgeist, remix);

    CHECK(explore >= 30);           /* 1 reserved slot a page */
    CHECK(zeitgeist >= 30);         /* 1 a page: feed_zeitgeist_share */
    CHECK(zeitgeist <= 30);
    CHECK(remix > 0);
    CHECK_UINT(blocked_seen, 0);

    /*
     * At 0.04, one rising clip every 25 items along the viewer's feed,
     * the first the fifth: pages of 10 have one in their fifth or last
     * slot, or none.
     */

    p.zeitgeist_share = 0.04f;

    for (i = 0; i < 8; i++) {
        uint32_t  k, slot;
        static const uint32_t  at[8] = { 4, 10, 9, 10, 10, 4, 10, 9 };

        v.position = i * 10;
        n = feed_rank_page(cat, ix, &p, &v, 1764100000, 100 + i, NULL, NULL,
                           it, 10);
        CHECK_UINT(n, 10);

        for (k = 0, zeitgeist = 0, slot = 10; k < n; k++) {
            if (it[k].reason == FEED_REASON_ZEITGEIST) {
                zeitgeist++;
                slot = k;
            }
        }

        CHECK_UINT(zeitgeist, at[i] < 10);
        CHECK_UINT(slot, at[i]);
    }

    feed_index_free(ix);
    feed_catalog_free(cat);
}


/* the rising clips out of the personal slots: only a zeitgeist slot */

static int
unrising_hook(void *data, const feed_catalog_t *cat, feed_cand_t *c,
    uint32_t n)
{
    uint32_t  i;

    (void) data;
    (void) cat;

    for (i = 0; i < n; i++) {
        if ((c[i].clip <= 30 && c[i].clip % 3 == 0) || c[i].clip == 39) {
            c[i].score = -10;
        }
    }

    return 0;
}


/*
 * Zeitgeist slots take the ten clips rising most that the viewer has not
 * seen (all ten candidates, though half the trending source's share of
 * the budget is five), those fewest viewers were shown first while the
 * reach scorer is on (27 and 30, shown to 300 of 1,000, not 3 .. 24,
 * shown to 900; without it, the top of the list: 3, or 6 when 3 may not
 * follow); the next clip down the list (39, shown to nobody) does not
 * take the slot, though it would win on its reach.
 */

static void
test_rank_rising(void)
{
    int                  r;
    uint32_t             i, k, n, page, picks, of30, of3;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    feed_clip_stat_t    *st;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;
    static seen_set_t    seen;

    cat = load(&ix);
    feed_rank_default_params(&p);
    p.explore_share = 0;
    p.zeitgeist_share = 0.1f;        /* one slot a page */
    p.candidates = 60;               /* the trending source's share: 10,
                                        all ten from the top */

    for (i = 0; i < NCLIPS; i++) {
        st = feed_index_stat(ix, i);
        st->stage = FEED_STAGE_DONE;
        st->impressions = (i >= 3 && i <= 24) ? 900
                           : (i == 27 || i == 30) ? 300 : 0;
    }

    /* 0, 3, .. 30 and 39 (topic 0) rise, in that order; 0 was seen */

    for (i = 0; i <= 30; i += 3) {
        feed_index_stat(ix, i)->trend = 100 - (float) i;
    }

    feed_index_stat(ix, 39)->trend = 67;

    feed_index_refresh(ix, 1764100000, 0);
    feed_index_set_audience(ix, 1000);

    memset(&seen, 0, sizeof(seen));
    seen_add(&seen, feed_index_hash(ix, 0));

    memset(&v, 0, sizeof(v));
    v.interest[0] = 1;
    v.confidence = 1;
    v.seen = seen_has;
    v.seen_data = &seen;

    r = feed_plugin_find("reach", 5, FEED_PLUGIN_SCORER);
    CHECK(r >= 0);

    for (k = 0; k < 2; k++) {
        picks = of30 = of3 = 0;

        /* the second time round, without the reach scorer */

        p.weight[r >= 0 ? r : 0] = k ? -1 : 4;

        for (page = 0; page < 20; page++) {
            n = feed_rank_page(cat, ix, &p, &v, 1764100000, 50 + page,
                               unrising_hook, NULL, it, 10);
            check_page(ix, &v, it, n);

            for (i = 0; i < n; i++) {
                if (it[i].reason != FEED_REASON_ZEITGEIST) {
                    continue;
                }

                picks++;
                of30 += it[i].clip == 27 || it[i].clip == 30;
                of3 += it[i].clip == 3 || it[i].clip == 6;

                /* the ten unseen at the top: 3 .. 30 */

                CHECK(it[i].clip >= 3 && it[i].clip <= 30
                      && it[i].clip % 3 == 0);
            }
        }

        printf("     rising: reach %s: %u zeitgeist items, %u of clips 27"
               " and 30, %u of clips 3 and 6\n", k ? "off" : "on", picks, of30,
               of3);

        CHECK_UINT(picks, 20);
        CHECK(k ? of3 > picks / 2 : of30 > picks / 2);
    }

    feed_index_free(ix);
    feed_catalog_free(cat);
}


static int
nan_hook(void *data, const feed_catalog_t *cat, feed_cand_t *c, uint32_t n)
{
    uint32_t  i;

    (void) data;
    (void) cat;

    for (i = 0; i < n; i++) {
        if (c[i].clip % 2 == 0) {
            c[i].score = nanf("");
        }
    }

    return 0;
}


static void
test_rank_hook(void)
{
    uint32_t             i, n;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;

    cat = load(&ix);
    feed_rank_default_params(&p);
    p.explore_share = 0;
    p.zeitgeist_share = 0;

    for (i = 0; i < NCLIPS; i++) {
        feed_index_stat(ix, i)->stage = FEED_STAGE_DONE;
    }

    feed_index_refresh(ix, 1764100000, 0);
    memset(&v, 0, sizeof(v));

    n = feed_rank_page(cat, ix, &p, &v, 1764100000, 5, nan_hook, NULL, it,
                       10);
    CHECK(n > 0);

    for (i = 0; i < n; i++) {
        CHECK(it[i].clip % 2 == 1);
        CHECK(it[i].score == it[i].score);
    }

    feed_index_free(ix);
    feed_catalog_free(cat);
}


static int
count_hook(void *data, const feed_catalog_t *cat, feed_cand_t *c, uint32_t n)
{
    uint32_t   i;
    uint32_t  *seen = data;

    (void) cat;

    for (i = 0; i < n; i++) {
        seen[c[i].clip]++;
    }

    return 0;
}


/* the default ranking with the random source alone, and no slots */

static void
random_only(feed_rank_params_t *p, uint32_t budget)
{
    int                          r;
    uint32_t                     i, np;
    const feed_plugin_t *const  *pl;

    feed_rank_default_params(p);
    p->explore_share = 0;
    p->zeitgeist_share = 0;
    p->candidates = budget;

    np = feed_plugins(&pl);

    for (i = 0; i < np; i++) {
        if (pl[i]->type == FEED_PLUGIN_SOURCE) {
            p->weight[i] = 0;
        }
    }

    r = feed_plugin_find("random", 6, FEED_PLUGIN_SOURCE);
    CHECK(r >= 0);
    p->weight[r >= 0 ? r : 0] = 1;
}


/* the random source alone: distinct clips, all of them when it may */

static void
test_rank_random(void)
{
    int                  k;
    uint32_t             i, n, distinct, budget;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;
    uint32_t             seen[NCLIPS];

    cat = load(&ix);
    feed_index_refresh(ix, 1764100000, 0);
    memset(&v, 0, sizeof(v));

    for (k = 0; k < 2; k++) {
        budget = k ? 40 : NCLIPS;

        random_only(&p, budget);

        memset(seen, 0, sizeof(seen));

        n = feed_rank_page(cat, ix, &p, &v, 1764100000, 7 + k, count_hook,
                           seen, it, 10);
        CHECK_UINT(n, 10);

        distinct = 0;

        for (i = 0; i < NCLIPS; i++) {
            CHECK(seen[i] <= 1);
            distinct += seen[i];
        }

        CHECK_UINT(distinct, budget);
    }

    feed_index_free(ix);
    feed_catalog_free(cat);
}


/*
 * A page is short only when nothing is left: ten random candidates often
 * cannot all follow one another (creator i % 7, sound i % 5), and the
 * page then takes more clips from anywhere
 */

static void
test_rank_spacing(void)
{
    uint32_t             seed, n, shorts;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;

    cat = load(&ix);
    feed_index_refresh(ix, 1764100000, 0);
    memset(&v, 0, sizeof(v));
    random_only(&p, 10);

    shorts = 0;

    for (seed = 1; seed <= 200; seed++) {
        n = feed_rank_page(cat, ix, &p, &v, 1764100000, seed, NULL, NULL,
                           it, 10);
        check_page(ix, &v, it, n);
        shorts += n < 10;
    }

    printf("     spacing: %u short pages of 200\n", shorts);
    CHECK_UINT(shorts, 0);

    feed_index_free(ix);
    feed_catalog_free(cat);
}


/* a hook that counts the candidates each source proposed */

static int
source_hook(void *data, const feed_catalog_t *cat, feed_cand_t *c,
    uint32_t n)
{
    uint32_t   i, r;
    uint32_t  *count = data;

    (void) cat;

    for (i = 0; i < n; i++) {
        for (r = 0; r < FEED_REASONS; r++) {
            count[r] += (c[i].sources >> r) & 1;
        }
    }

    return 0;
}


/*
 * The sources' budgets at the defaults (60 candidates): the random source
 * its share, 3, not a page's worth; for a viewer not known yet, the
 * interest source's random clusters half its share of 29 (and one more a
 * cluster), for a viewer with a taste its nearest clusters more
 */

static void
test_rank_budget(void)
{
    uint32_t             k, n, count[FEED_REASONS];
    feed_item_t          it[FEED_PAGE_MAX];
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;

    cat = load(&ix);
    feed_rank_default_params(&p);
    feed_index_refresh(ix, 1764100000, 0);

    for (k = 0; k < 2; k++) {
        memset(&v, 0, sizeof(v));

        if (k) {
            v.interest[1] = 1;
            v.confidence = 1;
        }

        memset(count, 0, sizeof(count));

        n = feed_rank_page(cat, ix, &p, &v, 1764100000, 11, source_hook,
                           count, it, 10);
        CHECK_UINT(n, 10);

        printf("     budget: %s: %u random, %u interest\n",
               k ? "a taste" : "not known yet",
               count[FEED_REASON_RANDOM], count[FEED_REASON_PERSONAL]);

        CHECK(count[FEED_REASON_RANDOM] >= 1);
        CHECK(count[FEED_REASON_RANDOM] <= 3);

        if (k == 0) {
            CHECK(count[FEED_REASON_PERSONAL] >= 29 / 2 - 3);
            CHECK(count[FEED_REASON_PERSONAL] <= 29 / 2 + 3);

        } else {
            CHECK(count[FEED_REASON_PERSONAL] > 29);
        }
    }

    feed_index_free(ix);
    feed_catalog_free(cat);
}


/* a hook that keeps one part of every candidate, by clip */

typedef struct {
    unsigned   part;
    float      value[NCLIPS];
} part_copy_t;


static int
part_hook(void *data, const feed_catalog_t *cat, feed_cand_t *c, uint32_t n)
{
    uint32_t      i;
    part_copy_t  *pc = data;

    (void) cat;

    for (i = 0; i < n; i++) {
        pc->value[c[i].clip] = c[i].parts[pc->part];
    }

    return 0;
}


/*
 * The test catalog with every clip out of the fresh pool, the random
 * source alone proposing all of it, and "q" ready to keep one part.
 */

static feed_catalog_t *
load_settled(feed_index_t **ix, feed_rank_params_t *p, part_copy_t *q,
    unsigned part)
{
    uint32_t         i;
    feed_catalog_t  *cat;

    cat = load(ix);
    random_only(p, NCLIPS);
    q->part = part;

    for (i = 0; i < NCLIPS; i++) {
        feed_index_stat(*ix, i)->stage = FEED_STAGE_DONE;
        q->value[i] = -1;
    }

    return cat;
}


/*
 * The quality part: how much of a clip is watched per impression, not
 * the qualified views alone; likes count extra; a clip without
 * impressions has the prior's 0.3.
 */

static void
test_rank_quality(void)
{
    uint32_t             i;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_clip_stat_t    *st;
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;
    part_copy_t          q;

    cat = load_settled(&ix, &p, &q, FEED_PART_QUALITY);

    for (i = 2; i <= 8; i += 2) {
        st = feed_index_stat(ix, i);
        st->impressions = 100;
        st->qualified = 90;
        st->watched = (i == 4) ? 2000 : 9000;
        st->likes = (i == 8) ? 20 : 0;
    }

    feed_index_stat(ix, 6)->impressions = 0;

    feed_index_refresh(ix, 1764100000, 0);
    memset(&v, 0, sizeof(v));

    (void) feed_rank_page(cat, ix, &p, &v, 1764100000, 3, part_hook, &q,
                          it, 10);

    /* (0.9 x 100 + 0.3 x 20) / (100 + 20) and (0.2 x 100 + 6) / 120 */

    CHECK(q.value[2] > 0.79f && q.value[2] < 0.81f);
    CHECK(q.value[4] > 0.21f && q.value[4] < 0.22f);
    CHECK(q.value[6] > 0.29f && q.value[6] < 0.31f);
    CHECK(q.value[8] > q.value[2]);

    feed_index_free(ix);
    feed_catalog_free(cat);
}


static void
test_rank_reach(void)
{
    int                  r;
    uint32_t             i, n;
    feed_item_t          it[FEED_PAGE_MAX];
    feed_clip_stat_t    *st;
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    feed_rank_viewer_t   v;
    feed_rank_params_t   p;
    part_copy_t          q;

    cat = load_settled(&ix, &p, &q, FEED_PART_REACH);
    memset(&v, 0, sizeof(v));

    /* no viewers known yet: the audience counts as 100 */

    feed_index_stat(ix, 2)->impressions = 50;
    feed_index_refresh(ix, 1764100000, 0);

    (void) feed_rank_page(cat, ix, &p, &v, 1764100000, 3, part_hook, &q,
                          it, 10);
    CHECK(q.value[2] > -0.501f && q.value[2] < -0.499f);

    /* 200 viewers: 50 of them shown clip 2, all of them clip 4 */

    feed_index_set_audience(ix, 200);
    CHECK_UINT(feed_index_audience(ix), 200);
    feed_index_stat(ix, 4)->impressions = 300;

    (void) feed_rank_page(cat, ix, &p, &v, 1764100000, 3, part_hook, &q,
                          it, 10);
    CHECK(q.value[2] > -0.251f && q.value[2] < -0.249f);
    CHECK(q.value[4] == -1);
    CHECK(q.value[6] == 0);

    /*
     * Weighted, it outranks quality: the first ten clips, watched whole
     * and liked by every viewer, have been shown to all of them; the
     * page is of others.
     */

    for (i = 0; i < NCLIPS; i++) {
        st = feed_index_stat(ix, i);
        st->impressions = i < 10 ? 200 : 0;
        st->watched = i < 10 ? 10000 : 0;
        st->likes = i < 10 ? 200 : 0;
    }

    feed_index_refresh(ix, 1764100000, 0);

    /* (creators' loads aside: those ten have all the impressions) */

    r = feed_plugin_find("creator", 7, FEED_PLUGIN_SCORER);
    CHECK(r >= 0);
    p.weight[r >= 0 ? r : 0] = -1;

    r = feed_plugin_find("reach", 5, FEED_PLUGIN_SCORER);
    CHECK(r >= 0);
    p.weight[r >= 0 ? r : 0] = 2;

    n = feed_rank_page(cat, ix, &p, &v, 1764100000, 3, NULL, NULL, it, 10);
    CHECK_UINT(n, 10);

    for (i = 0; i < n; i++) {
        CHECK(it[i].clip >= 10);
    }

    /* and without it the best watched come first */

    p.weight[r >= 0 ? r : 0] = 0;
    n = feed_rank_page(cat, ix, &p, &v, 1764100000, 4, NULL, NULL, it, 10);
    CHECK_UINT(n, 10);
    CHECK(it[0].clip < 10);

    feed_index_free(ix);
    feed_catalog_free(cat);
}


/*
 * Each sound's clips, as the index lists them, against a scan of the
 * clips; and the nearest clusters of an index of more clusters than
 * are scored in one pass, the first four of sixteen the same as four.
 */

static void
test_rank_index_lists(void)
{
    float            v[3];
    uint32_t         i, j, k, n, count, same, near4[4], near16[16];
    feed_err_t       err;
    const uint64_t  *hashes;
    feed_index_t    *ix, *many;
    feed_catalog_t  *cat;
    const uint32_t  *list;

    cat = load(&ix);

    for (i = 0; i < feed_index_count(ix); i++) {
        n = feed_index_sound_clips(ix, feed_index_sound(ix, i), &list);

        count = 0;

        for (j = 0; j < feed_index_count(ix); j++) {
            count += feed_index_sound(ix, j) == feed_index_sound(ix, i);
        }

        CHECK_UINT(n, count);

        for (j = 0; j < n && list[j] != i; j++) {
            CHECK_UINT(feed_index_sound(ix, list[j]), feed_index_sound(ix, i));
        }

        CHECK(j < n);
    }

    n = feed_index_sound_clips(ix, feed_name_hash("no such sound"), &list);
    CHECK_UINT(n, 0);

    many = feed_index_new(cat, 70, 42, &err);
    CHECK(many != NULL);
    CHECK_UINT(feed_index_clusters(many), 70);

    /*
     * A clip's own cluster is the nearest to its embedding, but for a
     * few: the catalog repeats its embeddings every 60 clips, so some of
     * the 70 centroids are alike and a tie may fall either way (87 of
     * 90, the same with the clusters scored one at a time)
     */

    same = 0;

    for (k = 0; k < 70; k++) {
        n = feed_index_members(many, k, &list, &hashes);

        for (i = 0; i < n; i++) {
            CHECK_UINT(feed_index_nearest(many,
                                          feed_index_embedding(many, list[i]),
                                          3, near4, 1), 1);
            same += near4[0] == k;
        }
    }

    CHECK(same * 10 >= feed_index_count(many) * 9);

    for (k = 0; k < 50; k++) {
        v[0] = (float) (k % 7) - 3;
        v[1] = (float) (k % 5) - 2;
        v[2] = (float) (k % 3) - 1;

        n = feed_index_nearest(many, v, 3, near16, 16);
        CHECK_UINT(n, 16);
        CHECK_UINT(feed_index_nearest(many, v, 3, near4, 4), 4);

        for (i = 0; i < 16; i++) {
            CHECK(near16[i] < 70);
            CHECK(i >= 4 || near4[i] == near16[i]);

            for (j = 0; j < i; j++) {
                CHECK(near16[i] != near16[j]);
            }
        }
    }

    feed_index_free(many);
    feed_index_free(ix);
    feed_catalog_free(cat);
}


static void
test_rank_index(void)
{
    char                 line[600];
    uint32_t             near[4], n, i;
    feed_err_t           err;
    const uint32_t      *list;
    const uint64_t      *hashes;
    feed_index_t        *ix;
    feed_catalog_t      *cat;
    float                v[3] = { 0, 0, 1 };

    cat = load(&ix);

    CHECK_UINT(feed_index_count(ix), NCLIPS);
    CHECK_UINT(feed_index_clusters(ix), 3);

    /* a record, an embedding: each on a cache line, none across two */

    CHECK((uintptr_t) feed_index_rec(ix, 0) % 64 == 0);
    CHECK((uintptr_t) feed_index_embedding(ix, 0) % 64 == 0);
    CHECK_UINT(feed_index_find(ix, feed_clip_hash("c17", 3)), 17);
    CHECK_UINT(feed_index_find(ix, feed_clip_hash("nope", 4)), FEED_NONE);

    /* the nearest cluster to topic 2 holds topic 2's clips */

    n = feed_index_nearest(ix, v, 3, near, 4);
    CHECK_UINT(n, 3);
    n = feed_index_members(ix, near[0], &list, &hashes);
    CHECK(n >= 25);

    for (i = 0; i < n; i++) {
        CHECK(list[i] % 3 == 2);
    }

    n = feed_index_remixes(ix, 5, &list);
    CHECK_UINT(n, 1);
    CHECK_UINT(list[0], 85);

    /* a record's tag bits: its tags' and no other tag's */

    CHECK_UINT(feed_index_rec(ix, 17)->tags,
               feed_index_tag_bit("topic2", 6));
    CHECK(feed_index_rec(ix, 18)->tags & feed_index_tag_bit("topic0", 6));

    /* a clip appended to the catalog */

    sprintf(line, "{\"id\":\"new1\",\"creator\":\"z\",\"sound\":\"z\","
                  "\"created\":1764200000,\"duration\":3.0,\"caption\":\"\","
                  "\"tags\":[],\"embedding\":[0,0,1],\"renditions\":[{"
                  "\"name\":\"a\",\"bandwidth\":1000,\"resolution\":"
                  "\"16x16\",\"codecs\":\"avc1\",\"segments\":[1.0,2.0]}],"
                  "\"lineage\":{\"kind\":\"duet\",\"parent\":\"c2\"}}");

    CHECK_INT(feed_catalog_add(cat, line, strlen(line), 91, &err), FEED_OK);
    CHECK_INT(feed_catalog_finish(cat, &err), FEED_OK);
    CHECK_INT(feed_index_grow(ix, cat), FEED_OK);

    CHECK_UINT(feed_index_count(ix), NCLIPS + 1);
    CHECK((uintptr_t) feed_index_rec(ix, 0) % 64 == 0);
    CHECK((uintptr_t) feed_index_embedding(ix, 0) % 64 == 0);
    CHECK_UINT(feed_index_find(ix, feed_clip_hash("new1", 4)), NCLIPS);
    CHECK_UINT(feed_index_find(ix, feed_clip_hash("c17", 3)), 17);
    CHECK_UINT(feed_index_stat(ix, NCLIPS)->stage, 0);

    n = feed_index_remixes(ix, 2, &list);
    CHECK_UINT(n, 2);

    feed_index_free(ix);
    feed_catalog_free(cat);
}


static void
test_rank_stages(void)
{
    double               s, sum;
    uint32_t             i;
    uint64_t             rng;
    feed_rank_params_t   p;

    feed_rank_default_params(&p);

    CHECK_UINT(feed_stage_next(0, 99, 99, &p), 0);
    CHECK_UINT(feed_stage_next(0, 100, 60, &p), 1);
    CHECK_UINT(feed_stage_next(0, 100, 10, &p), FEED_STAGE_DONE);
    CHECK_UINT(feed_stage_next(1, 999, 900, &p), 1);
    CHECK_UINT(feed_stage_next(1, 1000, 900, &p), 2);
    CHECK_UINT(feed_stage_next(2, 10000, 9000, &p), FEED_STAGE_DONE);
    CHECK_UINT(feed_stage_next(FEED_STAGE_DONE, 5, 5, &p), FEED_STAGE_DONE);

    rng = 9;
    sum = 0;

    for (i = 0; i < 20000; i++) {
        s = feed_beta_sample(&rng, 3, 7);
        CHECK(s >= 0 && s <= 1);
        sum += s;
    }

    CHECK(fabs(sum / 20000 - 0.3) < 0.01);

    sum = 0;

    for (i = 0; i < 20000; i++) {
        sum += feed_beta_sample(&rng, 0.5, 0.5);
    }

    CHECK(fabs(sum / 20000 - 0.5) < 0.02);
}


void
feed_unit_rank_tests(void)
{
    RUN(test_rank_pages);
    RUN(test_rank_interest);
    RUN(test_rank_seen_once);
    RUN(test_rank_sound_sample);
    RUN(test_rank_slots);
    RUN(test_rank_hook);
    RUN(test_rank_random);
    RUN(test_rank_budget);
    RUN(test_rank_spacing);
    RUN(test_rank_quality);
    RUN(test_rank_reach);
    RUN(test_rank_rising);
    RUN(test_rank_index);
    RUN(test_rank_index_lists);
    RUN(test_rank_stages);
}
