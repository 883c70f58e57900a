
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


#endif /* _FEED_HLS_H_INCLUDED_ */
