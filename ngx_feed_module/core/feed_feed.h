
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_FEED_H_INCLUDED_
#define _FEED_FEED_H_INCLUDED_


/*
 * The feed's wire formats: the JSON page a manifest request gets, and the
 * JSON batch of watch events a viewer posts back.
 */

#include "feed_core.h"
#include "feed_catalog.h"
#include "feed_rank.h"
#include "feed_ident.h"
#include "feed_state.h"


#define FEED_EVENTS_MAX        100

/* what a page item needs besides the catalog and the ranking */

typedef struct {
    const char         *master;         /* signed master playlist URL */
    size_t              master_len;
    const char         *init;           /* prefetch: init segment */
    size_t              init_len;
    const char         *first;          /* prefetch: first segment */
    size_t              first_len;
    const char         *parent_master;  /* duet: the parent's, or NULL */
    size_t              parent_master_len;
    const char         *impression;
    size_t              impression_len;
    uint32_t            position;
} feed_item_urls_t;


typedef struct {
    char                impression[FEED_IMPRESSION_MAX + 1];
    size_t              impression_len;
    double              watch_ms;
    uint32_t            loops;
    uint8_t             like;
    uint8_t             share;
    uint8_t             skip;
    const char         *error;          /* NULL: well-formed */
} feed_event_t;


const char *feed_reason_name(unsigned reason);
const char *feed_part_name(unsigned part);

/* JSON; with out == NULL, only the length */

size_t feed_manifest_head(char *out, uint32_t page, uint32_t n);
size_t feed_manifest_item(char *out, const feed_catalog_t *cat,
    const feed_item_t *it, const feed_item_urls_t *u, int last);
size_t feed_manifest_item_room(char *out, size_t room,
    const feed_catalog_t *cat, const feed_item_t *it,
    const feed_item_urls_t *u, int last);
size_t feed_manifest_tail(char *out);
size_t feed_json_string(char *out, const char *s, size_t len);

int feed_events_parse(const char *body, size_t len, feed_event_t *ev,
    size_t max, size_t *n, feed_err_t *err);
int feed_events_parse_json(const char *body, size_t len, feed_event_t *ev,
    size_t max, size_t *n, feed_err_t *err);
/* FEED_OK, or FEED_DECLINED for a body only the above may read */
int feed_events_parse_fast(const char *body, size_t len, feed_event_t *ev,
    size_t max, size_t *n);

/* what an accepted event tells: its effect on the counters */

typedef struct {
    double              watch_ms;       /* after clamping */
    double              trend;          /* the weight added */
    float               learn;          /* the viewer's step */
    uint8_t             qualified;
    uint8_t             completed;
    uint8_t             fast_skip;
} feed_effect_t;

void feed_event_effect(const feed_event_t *ev, const feed_catalog_t *cat,
    const feed_clip_t *clip,
    const feed_rank_params_t *p, feed_effect_t *fx);
void feed_event_apply(const feed_event_t *ev, const feed_effect_t *fx,
    feed_viewer_t *v, const float *emb, unsigned dim, uint64_t clip_hash,
    uint32_t sound_hash, feed_clip_stats_t *cs, feed_sound_stats_t *ss,
    uint32_t now, double trend_halflife);


#endif /* _FEED_FEED_H_INCLUDED_ */
