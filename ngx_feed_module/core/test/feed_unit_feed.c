
/*
 * Copyright (C) the feed module developers
 */


/*
 * The feed's JSON: a page that jansson reads back field for field, with
 * hostile captions escaped; event batches, good, partly bad and broken.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feed_unit.h"
#include "feed_feed.h"


static const char  catalog[] =
    "{\"id\":\"p1\",\"creator\":\"ana\",\"sound\":\"s1\",\"created\":"
    "1764000000,\"duration\":3.0,\"caption\":\"say \\\"hi\\\"\\n\\u0001\","
    "\"tags\":[\"a\\\\b\",\"x\"],\"embedding\":[1,0],\"renditions\":[{"
    "\"name\":\"r\",\"bandwidth\":1000,\"resolution\":\"16x16\",\"codecs\":"
    "\"avc1\",\"segments\":[1.0,2.0]}]}\n"
    "{\"id\":\"d1\",\"creator\":\"bo\",\"sound\":\"s2\",\"created\":"
    "1764000000,\"duration\":3.0,\"caption\":\"\",\"tags\":[],\"embedding\":"
    "[0,1],\"renditions\":[{\"name\":\"r\",\"bandwidth\":1000,\"resolution\":"
    "\"16x16\",\"codecs\":\"avc1\",\"segments\":[1.0,2.0]}],\"lineage\":{"
    "\"kind\":\"duet\",\"parent\":\"p1\",\"offset\":1.5,\"layout\":\"top\"}}\n";


static void
test_feed_manifest(void)
{
    char               *buf, *root_text;
    size_t              len, n, room;
    json_t             *root, *it;
    feed_err_t          err;
    feed_item_t         items[2];
    json_error_t        jerr;
    feed_catalog_t     *cat;
    feed_item_urls_t    u;

    CHECK_INT(feed_unit_load(catalog, &cat, &err), FEED_OK);

    memset(items, 0, sizeof(items));
    items[0].clip = 0;
    items[0].reason = FEED_REASON_EXPLORE;
    items[0].score = 0.25f;
    items[0].parts[FEED_PART_EXPLORE] = 0.75f;
    items[1].clip = 1;
    items[1].reason = FEED_REASON_REMIX;

    memset(&u, 0, sizeof(u));
    u.master = "/v/p1/master.m3u8?token=1.x";
    u.master_len = strlen(u.master);
    u.init = "/v/p1/r/init.mp4?token=1.x";
    u.init_len = strlen(u.init);
    u.first = "/v/p1/r/0.m4s?token=1.x";
    u.first_len = strlen(u.first);
    u.impression = "imp.tok";
    u.impression_len = 7;
    u.position = 12;

    len = feed_manifest_head(NULL, 2, 2)
          + feed_manifest_item(NULL, cat, &items[0], &u, 0);

    u.parent_master = "/v/p1/master.m3u8?token=1.y";
    u.parent_master_len = strlen(u.parent_master);
    u.position = 13;

    len += feed_manifest_item(NULL, cat, &items[1], &u, 1)
           + feed_manifest_tail(NULL);

    buf = malloc(len + 1);
    CHECK(buf != NULL);

    u.parent_master = NULL;
    u.position = 12;
    n = feed_manifest_head(buf, 2, 2);
    n += feed_manifest_item(buf + n, cat, &items[0], &u, 0);
    u.parent_master = "/v/p1/master.m3u8?token=1.y";
    u.position = 13;
    n += feed_manifest_item(buf + n, cat, &items[1], &u, 1);
    n += feed_manifest_tail(buf + n);
    CHECK_UINT(n, len);

    root_text = malloc(n);
    CHECK(root_text != NULL);
    memcpy(root_text, buf, n);

    root = json_loadb(buf, n, 0, &jerr);
    CHECK(root != NULL);

    if (root == NULL) {
        printf("%.*s\n%s\n", (int) n, buf, jerr.text);
        free(root_text);
        free(buf);
        feed_catalog_free(cat);
        return;
    }

    CHECK_INT(json_integer_value(json_object_get(root, "page")), 2);
    CHECK_UINT(json_array_size(json_object_get(root, "items")), 2);

    it = json_array_get(json_object_get(root, "items"), 0);
    CHECK_STR(json_string_value(json_object_get(it, "id")), "p1");
    CHECK_STR(json_string_value(json_object_get(it, "caption")),
              "say \"hi\"\n\001");
    CHECK_STR(json_string_value(json_array_get(json_object_get(it, "tags"),
                                               0)), "a\\b");
    CHECK_STR(json_string_value(json_object_get(it, "reason")), "explore");
    CHECK(json_is_null(json_object_get(it, "lineage")));
    CHECK(json_real_value(json_object_get(json_object_get(it, "parts"),
                                          "explore")) == 0.75);
    CHECK_INT(json_integer_value(json_object_get(it, "position")), 12);
    CHECK_UINT(json_array_size(json_object_get(it, "prefetch")), 2);

    it = json_array_get(json_object_get(root, "items"), 1);
    CHECK_STR(json_string_value(json_object_get(it, "reason")), "remix");
    CHECK_STR(json_string_value(json_object_get(json_object_get(it,
              "lineage"), "kind")), "duet");
    CHECK_STR(json_string_value(json_object_get(json_object_get(it,
              "lineage"), "layout")), "top");
    CHECK(json_real_value(json_object_get(json_object_get(it, "lineage"),
                                          "offset")) == 1.5);
    CHECK_STR(json_string_value(json_object_get(json_object_get(it,
              "lineage"), "parent_master")), "/v/p1/master.m3u8?token=1.y");

    json_decref(root);

    /*
     * Into a bounded room: too little, and the length is still told and
     * nothing is written past the room; exactly enough, the same bytes.
     */

    u.parent_master = NULL;
    u.position = 12;
    len = feed_manifest_item(NULL, cat, &items[0], &u, 0);
    memset(buf, 'x', n);

    for (room = 0; room < len; room += 7) {
        CHECK_UINT(feed_manifest_item_room(buf, room, cat, &items[0], &u, 0),
                   len);
        CHECK(room == 0 || buf[room] == 'x');
    }

    CHECK_UINT(feed_manifest_item_room(buf, len, cat, &items[0], &u, 0),
               len);
    n = feed_manifest_head(NULL, 2, 2);
    CHECK(memcmp(buf, root_text + n, len) == 0);

    free(root_text);
    free(buf);
    feed_catalog_free(cat);
}


static void test_feed_events_fast(void);


static void
test_feed_events(void)
{
    char           json[6 * FEED_ERR_LEN + 2];
    size_t         i, n, len;
    json_t        *root;
    feed_err_t     err;
    json_error_t   jerr;
    feed_event_t   ev[FEED_EVENTS_MAX + 1];
    const char    *b;

    b = "{\"events\":[{\"impression\":\"abc.def\",\"watch_ms\":5300,"
        "\"loops\":1,\"like\":true,\"share\":false,\"skip\":false},"
        "{\"impression\":\"x\",\"watch_ms\":-5},"
        "{\"watch_ms\":1},"
        "{\"impression\":\"y\",\"like\":1},"
        "{\"impression\":\"z\",\"watch_ms\":1e300,\"loops\":1e9},"
        "7]}";

    CHECK_INT(feed_events_parse(b, strlen(b), ev, FEED_EVENTS_MAX, &n, &err),
              FEED_OK);
    CHECK_UINT(n, 6);
    CHECK(ev[0].error == NULL);
    CHECK_STR(ev[0].impression, "abc.def");
    CHECK(ev[0].watch_ms == 5300);
    CHECK_UINT(ev[0].loops, 1);
    CHECK_UINT(ev[0].like, 1);
    CHECK_UINT(ev[0].skip, 0);
    CHECK_STR(ev[1].error, "watch_ms must be zero or more");
    CHECK_STR(ev[2].error, "no impression token");
    CHECK_STR(ev[3].error, "like must be true or false");
    CHECK(ev[4].error == NULL);
    CHECK(ev[4].watch_ms == 1e300);
    CHECK_UINT(ev[4].loops, 1000);
    CHECK_STR(ev[5].error, "an event must be an object");

    b = "[{\"impression\":\"a\"}]";
    CHECK_INT(feed_events_parse(b, strlen(b), ev, FEED_EVENTS_MAX, &n, &err),
              FEED_OK);
    CHECK_UINT(n, 1);

    b = "{\"events\":[{\"impression\":\"a\"}";
    CHECK_INT(feed_events_parse(b, strlen(b), ev, FEED_EVENTS_MAX, &n, &err),
              FEED_ERROR);
    CHECK(strstr(err.msg, "malformed JSON") != NULL);

    /*
     * Found by fuzz_events: jansson's text near the error held half an
     * "\xc3\xa9", and the 400 answer, {"error": msg}, was not UTF-8.
     */

    b = "[\"\\u\xc3\xa9\"]";
    CHECK_INT(feed_events_parse(b, strlen(b), ev, FEED_EVENTS_MAX, &n, &err),
              FEED_ERROR);
    CHECK(strstr(err.msg, "invalid escape") != NULL);

    for (i = 0; err.msg[i]; i++) {
        CHECK((unsigned char) err.msg[i] < 0x80);
    }

    len = feed_json_string(NULL, err.msg, strlen(err.msg));
    CHECK(len < sizeof(json));
    CHECK_UINT(feed_json_string(json, err.msg, strlen(err.msg)), len);
    root = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
    CHECK(root != NULL && json_is_string(root)
          && strcmp(json_string_value(root), err.msg) == 0);
    json_decref(root);

    b = "{\"events\":{}}";
    CHECK_INT(feed_events_parse(b, strlen(b), ev, FEED_EVENTS_MAX, &n, &err),
              FEED_ERROR);

    b = "{\"events\":[],\"events\":[]}";
    CHECK_INT(feed_events_parse(b, strlen(b), ev, FEED_EVENTS_MAX, &n, &err),
              FEED_ERROR);

    b = "{\"events\":[{\"impression\":\"a\",\"watch_ms\":NaN}]}";
    CHECK_INT(feed_events_parse(b, strlen(b), ev, FEED_EVENTS_MAX, &n, &err),
              FEED_ERROR);

    b = "[{},{},{}]";
    CHECK_INT(feed_events_parse(b, strlen(b), ev, 2, &n, &err), FEED_ERROR);
    CHECK(strstr(err.msg, "at most 2") != NULL);

    test_feed_events_fast();
}


/*
 * The fast path takes the plain batches and reads them as jansson does;
 * it leaves anything else to jansson.
 */

static void
test_feed_events_fast(void)
{
    size_t         i, k, n, m;
    feed_err_t     err;
    feed_event_t   a[4], b[4];

    static const struct {
        const char  *body;
        int          fast;
    } cases[] = {
        { "{\"events\":[{\"impression\":\"abc.def\",\"watch_ms\":5300,"
          "\"loops\":1,\"like\":true,\"share\":false,\"skip\":true}]}", 1 },
        { " [ {\"watch_ms\" : 12.25 , \"impression\":\"q-_.9\"} ,"
          "\n\t{\"impression\":\"r\",\"loops\":5000} ] \r\n", 1 },
        { "[]", 1 },
        { "{\"events\":[]}", 1 },
        { "[{\"impression\":\"a\",\"watch_ms\":0.000001}]", 1 },
        { "[{\"impression\":\"a\",\"watch_ms\":999999999999999}]", 1 },
        /* declined: jansson's to read, or to refuse */
        { "[{\"impression\":\"a\",\"watch_ms\":1e3}]", 0 },
        { "[{\"impression\":\"a\",\"watch_ms\":-0}]", 0 },
        { "[{\"impression\":\"a\",\"watch_ms\":0123}]", 0 },
        { "[{\"impression\":\"a\",\"watch_ms\":1.}]", 0 },
        { "[{\"impression\":\"a\",\"watch_ms\":1234567890123456}]", 0 },
        { "[{\"impression\":\"a\\u0062\"}]", 0 },
        { "[{\"impression\":\"a\",\"impression\":\"b\"}]", 0 },
        { "[{\"impression\":\"a\",\"other\":1}]", 0 },
        { "[{\"impression\":\"a\",\"like\":null}]", 0 },
        { "[{\"impression\":\"a\",\"like\":truex}]", 0 },
        { "[{\"impression\":\"\"}]", 0 },
        { "[{\"watch_ms\":1}]", 0 },
        { "[{}]", 0 },
        { "[{\"impression\":\"a\"},]", 0 },
        { "[{\"impression\":\"a\"}] x", 0 },
        { "{\"events\":[{\"impression\":\"a\"}],\"n\":1}", 0 },
        { "{\"events\":[{\"impression\":\"a\"}]", 0 },
        { "[{\"impression\":\"\xc3\xa9\"}]", 0 },
        { "[{\"impression\":\"a\"},{\"impression\":\"b\"},"
          "{\"impression\":\"c\"},{\"impression\":\"d\"}]", 0 },
        { "", 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        k = strlen(cases[i].body);

        CHECK_INT(feed_events_parse_fast(cases[i].body, k, a, 3, &n)
                  == FEED_OK, cases[i].fast);

        if (!cases[i].fast) {
            continue;
        }

        CHECK_INT(feed_events_parse_json(cases[i].body, k, b, 3, &m, &err),
                  FEED_OK);
        CHECK_UINT(n, m);

        for (k = 0; k < n && k < m; k++) {
            CHECK(b[k].error == NULL);
            CHECK_STR(a[k].impression, b[k].impression);
            CHECK_UINT(a[k].impression_len, b[k].impression_len);
            CHECK(a[k].watch_ms == b[k].watch_ms);
            CHECK_UINT(a[k].loops, b[k].loops);
            CHECK_UINT(a[k].like, b[k].like);
            CHECK_UINT(a[k].share, b[k].share);
            CHECK_UINT(a[k].skip, b[k].skip);
        }
    }
}


static void
test_feed_effect(void)
{
    float                emb[2] = { 1, 0 };
    feed_clip_t          clip;
    feed_event_t         ev;
    feed_effect_t        fx;
    feed_viewer_t        v;
    feed_clip_stats_t    cs;
    feed_sound_stats_t   ss;
    feed_rank_params_t   p;

    feed_rank_default_params(&p);
    memset(&clip, 0, sizeof(clip));
    clip.duration_ms = 10000;

    /* a full watch with a like */

    memset(&ev, 0, sizeof(ev));
    ev.watch_ms = 9500;
    ev.like = 1;
    feed_event_effect(&ev, NULL, &clip, &p, &fx);
    CHECK(fx.qualified && fx.completed && !fx.fast_skip);
    CHECK(fx.trend == 3);
    CHECK(fx.learn > 0.9f);

    /* half of it: a qualified view, which does not make a clip rise */

    ev.watch_ms = 5000;
    ev.like = 0;
    feed_event_effect(&ev, NULL, &clip, &p, &fx);
    CHECK(fx.qualified && !fx.completed && !fx.fast_skip);
    CHECK(fx.trend == 0);

    /* absurd watch time: clamped to (loops + 2) durations */

    ev.watch_ms = 1e300;
    ev.loops = 1;
    ev.like = 0;
    feed_event_effect(&ev, NULL, &clip, &p, &fx);
    CHECK(fx.watch_ms == 30000);

    ev.loops = 1000;
    feed_event_effect(&ev, NULL, &clip, &p, &fx);
    CHECK(fx.watch_ms == 200000);

    /* a fast skip pushes away and counts no view */

    memset(&ev, 0, sizeof(ev));
    ev.watch_ms = 800;
    ev.skip = 1;
    feed_event_effect(&ev, NULL, &clip, &p, &fx);
    CHECK(!fx.qualified && !fx.completed && fx.fast_skip);
    CHECK(fx.trend == 0);
    CHECK(fx.learn < -0.9f);

    /* a short clip: half of it is a qualified view */

    clip.duration_ms = 4000;
    ev.watch_ms = 2000;
    ev.skip = 0;
    feed_event_effect(&ev, NULL, &clip, &p, &fx);
    CHECK(fx.qualified && !fx.completed);

    /* applied */

    memset(&v, 0, sizeof(v));
    memset(&cs, 0, sizeof(cs));
    memset(&ss, 0, sizeof(ss));

    ev.watch_ms = 4000;
    ev.share = 1;
    feed_event_effect(&ev, NULL, &clip, &p, &fx);
    feed_event_apply(&ev, &fx, &v, emb, 2, 77, 5, &cs, &ss, 1000, 3600);

    CHECK_UINT(cs.views, 1);
    CHECK_UINT(cs.completions, 1);
    CHECK_UINT(cs.shares, 1);
    CHECK_UINT(cs.watch_ms, 4000);
    CHECK(cs.score > 0);
    CHECK(ss.score > 0);
    CHECK_UINT(ss.uses, 1);
    CHECK(v.interest[0] > 0);
    CHECK(v.weight > 0);
}


void
feed_unit_feed_tests(void)
{
    RUN(test_feed_manifest);
    RUN(test_feed_events);
    RUN(test_feed_effect);
}
