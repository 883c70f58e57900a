
/*
 * Copyright (C) the feed module developers
 */


/*
 * A batch of watch events as a viewer posts it: feed_events_parse() (and
 * its fast path against jansson's reading wherever it takes a body),
 * then what the events handler does with each event it accepts: its
 * impression token through feed_impression_parse(), feed_event_effect()
 * against clips short and long, and feed_event_apply() to a viewer and
 * the clip's and sound's counters.
 *
 *   - never more events than asked for, each either with an error or
 *     with a token of 1 to FEED_IMPRESSION_MAX bytes, a finite watch
 *     time of zero or more and at most 1000 loops;
 *   - the effect's watch time is within 0 .. 20 durations, its step
 *     within -1 .. 1.5, its trend weight within 0 .. 8;
 *   - the viewer's interests and weight, and the trending scores, stay
 *     finite and in range whatever was applied.
 */

#include <math.h>

#include <jansson.h>

#include "fuzz.h"
#include "feed_feed.h"


static const uint32_t  fuzz_durations[] = { 0, 1, 999, 4000, 10000, 3600000 };



/*
 * The fast path, where it takes a body, reads it as jansson does: the
 * same events, none with an error.
 */

static void
fuzz_fast_agrees(const uint8_t *data, size_t size, size_t max)
{
    size_t         i, n, m;
    feed_err_t     err;
    feed_event_t  *a, *b;

    a = malloc(max * sizeof(feed_event_t));
    b = malloc(max * sizeof(feed_event_t));
    FUZZ_CHECK(a != NULL && b != NULL);

    if (feed_events_parse_fast((const char *) data, size, a, max, &n)
        == FEED_OK)
    {
        FUZZ_CHECK(feed_events_parse_json((const char *) data, size, b, max,
                                          &m, &err)
                   == FEED_OK);
        FUZZ_CHECK(n == m && n <= max);

        for (i = 0; i < n; i++) {
            FUZZ_CHECK(b[i].error == NULL && a[i].error == NULL);
            FUZZ_CHECK(a[i].impression_len == b[i].impression_len);
            FUZZ_CHECK(memcmp(a[i].impression, b[i].impression,
                              a[i].impression_len + 1) == 0);
            FUZZ_CHECK(a[i].watch_ms == b[i].watch_ms);
            FUZZ_CHECK(a[i].loops == b[i].loops);
            FUZZ_CHECK(a[i].like == b[i].like && a[i].share == b[i].share
                       && a[i].skip == b[i].skip);
        }
    }

    free(a);
    free(b);
}


/*
 * {"error": msg}, as the handler answers a batch it refuses: the length
 * pass and the write agree, and jansson reads msg back from it.
 */

static void
fuzz_json_message(const char *msg)
{
    char          *buf;
    size_t         len, n;
    json_t        *root;
    const char    *s;
    json_error_t   jerr;

    len = feed_json_string(NULL, msg, strlen(msg));

    buf = malloc(sizeof("{\"error\":}") + len + 1);
    FUZZ_CHECK(buf != NULL);

    memcpy(buf, "{\"error\":", 9);
    n = feed_json_string(buf + 9, msg, strlen(msg));
    FUZZ_CHECK(n == len);
    buf[9 + n] = '}';
    buf[10 + n] = (char) 0xa5;

    root = json_loadb(buf, 10 + n, 0, &jerr);

    if (root == NULL) {
        fprintf(stderr, "not JSON: %s: %.*s\n", jerr.text, (int) (10 + n),
                buf);
        FUZZ_CHECK(root != NULL);
    }

    s = json_string_value(json_object_get(root, "error"));
    FUZZ_CHECK(s != NULL && strcmp(s, msg) == 0);

    json_decref(root);
    free(buf);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc;
    float                emb[8];
    size_t               i, j, n, max;
    double               dur;
    feed_err_t           err;
    feed_clip_t          clip;
    feed_event_t        *ev;
    feed_effect_t        fx;
    feed_viewer_t        v;
    feed_impression_t    imp;
    feed_clip_stats_t    cs;
    feed_sound_stats_t   ss;
    feed_rank_params_t   p;

    fuzz_keys_init();
    feed_rank_default_params(&p);

    /* a short batch limit now and then, to reach the "too many" error */

    max = (size > 0 && data[0] == ' ') ? 2 : FEED_EVENTS_MAX;

    /* exactly max events: a write past them is an overflow */

    ev = malloc(max * sizeof(feed_event_t));
    FUZZ_CHECK(ev != NULL);

    memset(&err, 0, sizeof(feed_err_t));
    n = (size_t) -1;

    rc = feed_events_parse((const char *) data, size, ev, max, &n, &err);

    fuzz_fast_agrees(data, size, max);

    if (rc != FEED_OK) {
        FUZZ_CHECK(rc == FEED_ERROR && n == 0);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);

        /* the message goes back to the client, in JSON */

        fuzz_json_message(err.msg);

        free(ev);
        return 0;
    }

    FUZZ_CHECK(n <= max);

    memset(&v, 0, sizeof(feed_viewer_t));
    memset(&cs, 0, sizeof(feed_clip_stats_t));
    memset(&ss, 0, sizeof(feed_sound_stats_t));

    for (i = 0; i < 8; i++) {
        emb[i] = (float) (i % 3) - 1.0f;
    }

    for (i = 0; i < n; i++) {
        if (ev[i].error != NULL) {
            continue;
        }

        FUZZ_CHECK(ev[i].impression_len >= 1
                   && ev[i].impression_len <= FEED_IMPRESSION_MAX);
        FUZZ_CHECK(ev[i].impression[ev[i].impression_len] == '\0');
        FUZZ_CHECK(isfinite(ev[i].watch_ms) && ev[i].watch_ms >= 0);
        FUZZ_CHECK(ev[i].loops <= 1000);
        FUZZ_CHECK(ev[i].like <= 1 && ev[i].share <= 1 && ev[i].skip <= 1);

        /* the handler drops an event whose token does not verify */

        rc = feed_impression_parse(fuzz_keys, 2, ev[i].impression,
                                   ev[i].impression_len, &imp);
        FUZZ_CHECK(rc == FEED_OK || rc == FEED_ERROR);

        for (j = 0; j < sizeof(fuzz_durations) / sizeof(uint32_t); j++) {
            memset(&clip, 0, sizeof(feed_clip_t));
            clip.duration_ms = fuzz_durations[j];
            dur = clip.duration_ms ? clip.duration_ms : 1000;

            feed_event_effect(&ev[i], NULL, &clip, &p, &fx);

            FUZZ_CHECK(isfinite(fx.watch_ms) && fx.watch_ms >= 0
                       && fx.watch_ms <= 20 * dur);
            FUZZ_CHECK(fx.watch_ms <= ev[i].watch_ms);
            FUZZ_CHECK(isfinite(fx.learn) && fx.learn >= -1
                       && fx.learn <= 1.5);
            FUZZ_CHECK(isfinite(fx.trend) && fx.trend >= 0
                       && fx.trend <= 8);
            FUZZ_CHECK(fx.qualified <= 1 && fx.completed <= 1
                       && fx.fast_skip <= 1);

            feed_event_apply(&ev[i], &fx, &v, emb, (unsigned) (1 + j), 77,
                             5, &cs, &ss, 1000 + (uint32_t) i, 3600);
        }
    }

    for (i = 0; i < FEED_STATE_DIM; i++) {
        FUZZ_CHECK(isfinite(v.interest[i])
                   && fabsf(v.interest[i]) <= FEED_STATE_EMB_MAX);
    }

    FUZZ_CHECK(v.weight >= 0 && v.weight <= 1);
    FUZZ_CHECK(isfinite(cs.score) && cs.score >= 0);
    FUZZ_CHECK(isfinite(ss.score) && ss.score >= 0);

    free(ev);

    return 0;
}
