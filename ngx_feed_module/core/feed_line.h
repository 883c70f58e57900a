
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_LINE_H_INCLUDED_
#define _FEED_LINE_H_INCLUDED_


#include "feed_catalog.h"


/*
 * One catalog line, parsed and checked against every rule that does not
 * depend on the rest of the catalog.  Both parsers fill it: the fast
 * scanner below and the jansson one in feed_catalog.c; the catalog then
 * checks what needs the other clips and interns it.  Strings point into
 * the line, into jansson's values or into the buffers at the end.
 */

#define FEED_LINE_SEGS_MAX     (FEED_RENDITIONS_MAX * FEED_SEGMENTS_MAX)


typedef struct {
    const char         *name;
    size_t              name_len;
    const char         *codecs;
    size_t              codecs_len;
    uint32_t            bandwidth;
    uint32_t            width;
    uint32_t            height;
    uint32_t            segments;      /* index of the first in segs */
    uint32_t            nsegments;
} feed_line_rendition_t;


typedef struct {
    uint32_t           *segs;          /* set by the caller: room for */
    uint32_t            segs_max;      /* segs_max durations */

    const char         *id;
    size_t              id_len;
    const char         *creator;
    size_t              creator_len;
    const char         *sound;
    size_t              sound_len;
    const char         *caption;
    size_t              caption_len;
    const char         *parent;        /* lineage parent id */
    size_t              parent_len;
    uint32_t            parent_idx;    /* set by the catalog */

    uint32_t            created;
    uint32_t            duration_ms;
    uint32_t            offset_ms;
    uint16_t            parent_segments;
    uint8_t             lineage;
    uint8_t             layout;

    uint32_t            ntags;
    uint32_t            dim;
    uint32_t            nrenditions;

    const char         *tags[FEED_TAGS_MAX];
    size_t              tag_lens[FEED_TAGS_MAX];
    float               embedding[FEED_EMBEDDING_MAX];
    feed_line_rendition_t  renditions[FEED_RENDITIONS_MAX];

    /* the scanner's copies of strings that had escapes in the line */

    char                caption_buf[FEED_CAPTION_MAX];
    char                tag_buf[FEED_TAGS_MAX][FEED_TAG_LEN_MAX];
} feed_line_t;


typedef struct {
    int64_t             integer;
    double              real;
    unsigned            is_integer;
} feed_line_num_t;


/*
 * The fast scanner: a pure function of the line's bytes, which it never
 * reads past.  FEED_OK means that jansson would accept the line and that
 * l holds what the jansson path would have built from it; FEED_DECLINED
 * means anything else (bad JSON, a rule broken, a spelling the scanner
 * does not handle, or more distinct segments than l->segs_max), and the
 * caller must ask jansson.  The jansson path needs FEED_LINE_SEGS_MAX.
 */

void feed_line_reset(feed_line_t *l);
int feed_line_scan(feed_line_t *l, const char *line, size_t len);

/* a whole string as one JSON number: FEED_OK, or FEED_DECLINED if unsure */
int feed_line_number(const char *s, size_t len, feed_line_num_t *num);


/* rules shared by both parsers */

int feed_line_valid_name(const char *s, size_t len, size_t max, int dot);
int feed_line_valid_codecs(const char *s, size_t len);
int feed_line_resolution(const char *s, size_t len, uint32_t *w,
    uint32_t *h);
uint32_t feed_line_segment_us(double seconds);
uint32_t feed_line_ms(double seconds);
int feed_line_sum_ok(double sum, double duration);


#endif /* _FEED_LINE_H_INCLUDED_ */
