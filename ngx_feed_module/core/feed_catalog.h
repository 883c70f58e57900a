
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_CATALOG_H_INCLUDED_
#define _FEED_CATALOG_H_INCLUDED_


#include "feed_core.h"


#define FEED_ID_MAX            64
#define FEED_RENDITION_MAX     32
#define FEED_CAPTION_MAX       1024
#define FEED_TAGS_MAX          32
#define FEED_TAG_LEN_MAX       64
#define FEED_EMBEDDING_MAX     64
#define FEED_RENDITIONS_MAX    16
#define FEED_SEGMENTS_MAX      10000
#define FEED_LINE_MAX          (1024 * 1024)

#define FEED_LINEAGE_NONE      0
#define FEED_LINEAGE_DUET      1
#define FEED_LINEAGE_STITCH    2

#define FEED_LAYOUT_SIDE       0
#define FEED_LAYOUT_TOP        1


typedef struct feed_catalog_s  feed_catalog_t;


/*
 * A clip is 48 bytes of offsets and indexes into the catalog's shared
 * pools: strings, u32 sequences (tags, segment lists, rendition sets,
 * all interned) and floats (embeddings).  Pointers are never stored so
 * that the pools can grow when clips are appended.
 */

typedef struct {
    uint32_t            id;            /* string pool offset */
    uint32_t            caption;       /* string pool offset */
    uint32_t            creator;       /* creators table index */
    uint32_t            sound;         /* sounds table index */
    uint32_t            tags;          /* u32 pool: n, tag indexes */
    uint32_t            media;         /* u32 pool: n, (rendition, segs) */
    uint32_t            embedding;     /* float pool offset */
    uint32_t            parent;        /* clip index or FEED_NONE */
    uint32_t            created;       /* unix seconds */
    uint32_t            duration_ms;
    uint32_t            offset_ms;     /* duet: start offset */
    uint16_t            parent_segments;
    uint8_t             lineage;
    uint8_t             layout;
} feed_clip_t;


typedef struct {
    const char         *name;
    size_t              name_len;
    const char         *codecs;
    const char         *resolution;
    uint32_t            bandwidth;
    uint32_t            width;
    uint32_t            height;
    uint32_t            nsegments;
    const uint32_t     *segments_us;   /* durations in microseconds */
} feed_rendition_t;


feed_catalog_t *feed_catalog_new(void);
void feed_catalog_free(feed_catalog_t *cat);

int feed_catalog_load(feed_catalog_t *cat, const char *path,
    feed_err_t *err);
int feed_catalog_add(feed_catalog_t *cat, const char *line, size_t len,
    unsigned long lineno, feed_err_t *err);
int feed_catalog_finish(feed_catalog_t *cat, feed_err_t *err);
void feed_catalog_forget_pending(feed_catalog_t *cat);

/*
 * On by default: lines go through a fast scanner first, and through
 * jansson when it declines them.  Off, jansson parses every line; the
 * results are the same either way, which the unit tests check.
 */
void feed_catalog_set_fast(feed_catalog_t *cat, int on);

uint32_t feed_catalog_count(const feed_catalog_t *cat);
uint32_t feed_catalog_find(const feed_catalog_t *cat, const char *id,
    size_t len);
const feed_clip_t *feed_catalog_clip(const feed_catalog_t *cat,
    uint32_t idx);
void feed_catalog_prefetch(const feed_catalog_t *cat, const uint32_t *idx,
    uint32_t n);
size_t feed_catalog_memory(const feed_catalog_t *cat, size_t *embeddings);
uint32_t feed_catalog_dim(const feed_catalog_t *cat);

/*
 * The length of a string of the pool (as the accessors below return
 * them) without looking for its end, and whether JSON must escape some
 * of it.
 */

#define FEED_STR_ESCAPE        0x8000
#define FEED_STR_LONG          0x7fff

size_t feed_catalog_str_len(const feed_catalog_t *cat, const char *s,
    int *escape);

const char *feed_clip_id(const feed_catalog_t *cat, const feed_clip_t *clip);
const char *feed_clip_caption(const feed_catalog_t *cat,
    const feed_clip_t *clip);
const char *feed_clip_creator(const feed_catalog_t *cat,
    const feed_clip_t *clip);
const char *feed_clip_sound(const feed_catalog_t *cat,
    const feed_clip_t *clip);
uint32_t feed_clip_ntags(const feed_catalog_t *cat, const feed_clip_t *clip);
const char *feed_clip_tag(const feed_catalog_t *cat, const feed_clip_t *clip,
    uint32_t i);
/* the clip's tags as interned word numbers: ntags, then that many */
const uint32_t *feed_clip_tag_words(const feed_catalog_t *cat,
    const feed_clip_t *clip);
const char *feed_catalog_word(const feed_catalog_t *cat, uint32_t word);
const float *feed_clip_embedding(const feed_catalog_t *cat,
    const feed_clip_t *clip);

uint32_t feed_clip_nrenditions(const feed_catalog_t *cat,
    const feed_clip_t *clip);
void feed_clip_rendition(const feed_catalog_t *cat, const feed_clip_t *clip,
    uint32_t i, feed_rendition_t *r);
/* what plays: a stitch's own duration and its parent's part before it */
uint32_t feed_clip_play_ms(const feed_catalog_t *cat, const feed_clip_t *clip);
int feed_clip_find_rendition(const feed_catalog_t *cat,
    const feed_clip_t *clip, const char *name, size_t len);


#endif /* _FEED_CATALOG_H_INCLUDED_ */
