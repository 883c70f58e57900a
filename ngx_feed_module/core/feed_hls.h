
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_HLS_H_INCLUDED_
#define _FEED_HLS_H_INCLUDED_


#include "feed_catalog.h"


#define FEED_PATH_MASTER    1
#define FEED_PATH_MEDIA     2
#define FEED_PATH_INIT      3
#define FEED_PATH_SEGMENT   4

#define FEED_SEGMENT_DIGITS 5


/*
 * One run of segments of one rendition in a media playlist: a clip's own,
 * or a stitch's parent's first segments, or one clip of a lean-back feed
 * playlist.  base is written before "init.mp4" and "N.m4s" (empty: the
 * playlist's own directory), query after them.
 */

typedef struct {
    const char         *base;
    size_t              base_len;
    const char         *query;
    size_t              query_len;
    feed_rendition_t    r;
    uint32_t            first;          /* first segment */
    uint32_t            n;              /* segments */
} feed_hls_part_t;


typedef struct {
    int                 type;
    const char         *clip;
    size_t              clip_len;
    const char         *rendition;
    size_t              rendition_len;
    uint32_t            segment;
} feed_path_t;


int feed_path_parse(const char *p, size_t len, feed_path_t *path,
    const char **reason);

/*
 * Playlist writers follow nginx's two-pass habit: called with buf NULL
 * they return the exact length, then they write that many bytes.  query
 * ("?token=...", or empty) is appended to every URI in the playlist.
 */

size_t feed_hls_master(const feed_catalog_t *cat, const feed_clip_t *clip,
    const char *query, size_t query_len, char *buf);
size_t feed_hls_media(const feed_catalog_t *cat, const feed_clip_t *clip,
    uint32_t rendition, const char *query, size_t query_len, char *buf);
uint32_t feed_hls_target_duration(const uint32_t *segments_us, uint32_t n);

/*
 * Parts, each after an EXT-X-DISCONTINUITY and with its own EXT-X-MAP;
 * target is the EXT-X-TARGETDURATION, the same for every rendition.
 */

size_t feed_hls_parts(const feed_hls_part_t *parts, uint32_t nparts,
    uint32_t target, char *buf);

/*
 * A clip's parts in one of its renditions: a stitch's parent's first
 * segments in the parent's matching rendition, then its own; any other
 * clip, its own.  Returns the number of parts (1 or 2); base and query
 * are left empty.
 */

uint32_t feed_hls_clip_parts(const feed_catalog_t *cat,
    const feed_clip_t *clip, uint32_t rendition, feed_hls_part_t *parts);

/* the target duration every rendition of the clip agrees on */

uint32_t feed_hls_clip_target(const feed_catalog_t *cat,
    const feed_clip_t *clip);

/* a rendition of clip: the one named name, else the nearest bandwidth */

uint32_t feed_hls_match_rendition(const feed_catalog_t *cat,
    const feed_clip_t *clip, const char *name, size_t len,
    uint32_t bandwidth);


#endif /* _FEED_HLS_H_INCLUDED_ */
