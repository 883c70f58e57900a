
/*
 * Copyright (C) the feed module developers
 */


/*
 * The playlist and manifest writers on whatever clips a fuzzed catalog
 * holds.  The input's lines are loaded as a catalog (feed_catalog_add(),
 * feed_catalog_finish(), or, as for clips appended later, with unknown
 * lineage parents forgotten); then for every clip:
 *
 *   - feed_hls_master(), feed_hls_media(), feed_hls_clip_parts() with
 *     feed_hls_parts() at feed_hls_clip_target(), a lean-back page of
 *     every clip, and feed_manifest_head/item/tail(): each writer's
 *     length pass (buf NULL) and its write into a buffer of exactly
 *     that length plus guard bytes agree, and the guard is untouched;
 *   - every EXTINF, rounded, is within the playlist's target duration
 *     (RFC 8216 4.3.3.1), and a playlist ends with EXT-X-ENDLIST;
 *   - the manifest is JSON that jansson reads back, with the clip's id,
 *     caption and tags as the catalog holds them.
 */

#include <jansson.h>

#include "fuzz.h"
#include "feed_hls.h"
#include "feed_feed.h"


#define FUZZ_LINES   32
#define FUZZ_GUARD   16


typedef size_t (*fuzz_writer_pt)(void *ctx, char *buf);


typedef struct {
    const feed_catalog_t   *cat;
    const feed_clip_t      *clip;
    uint32_t                rendition;
    const char             *query;
    size_t                  query_len;
    const feed_hls_part_t  *parts;
    uint32_t                nparts;
    uint32_t                target;
    const feed_item_t      *item;
    const feed_item_urls_t *urls;
} fuzz_ctx_t;


static size_t
fuzz_master(void *data, char *buf)
{
    fuzz_ctx_t  *c = data;

    return feed_hls_master(c->cat, c->clip, c->query, c->query_len, buf);
}


static size_t
fuzz_media(void *data, char *buf)
{
    fuzz_ctx_t  *c = data;

    return feed_hls_media(c->cat, c->clip, c->rendition, c->query,
                          c->query_len, buf);
}


static size_t
fuzz_parts(void *data, char *buf)
{
    fuzz_ctx_t  *c = data;

    return feed_hls_parts(c->parts, c->nparts, c->target, buf);
}


static size_t
fuzz_manifest(void *data, char *buf)
{
    size_t       n;
    fuzz_ctx_t  *c = data;

    n = feed_manifest_head(buf, 1, 1);
    n += feed_manifest_item(buf ? buf + n : NULL, c->cat, c->item, c->urls,
                            1);
    n += feed_manifest_tail(buf ? buf + n : NULL);

    return n;
}


/* the length pass, then the write pass into exactly that much room */

static void fuzz_item_room(fuzz_ctx_t *c, uint32_t idx);


static char *
fuzz_write(fuzz_writer_pt writer, fuzz_ctx_t *ctx, size_t *len)
{
    char    *buf;
    size_t   i, n;

    *len = writer(ctx, NULL);

    buf = malloc(*len + FUZZ_GUARD);
    FUZZ_CHECK(buf != NULL);

    memset(buf, 0xa5, *len + FUZZ_GUARD);

    n = writer(ctx, buf);
    FUZZ_CHECK(n == *len);

    for (i = 0; i < FUZZ_GUARD; i++) {
        FUZZ_CHECK((unsigned char) buf[*len + i] == 0xa5);
    }

    return buf;
}


static uint64_t
fuzz_uint(const char **p, const char *end)
{
    uint64_t  v;

    v = 0;

    while (*p < end && **p >= '0' && **p <= '9' && v < 1000000000000ULL) {
        v = v * 10 + (uint64_t) (**p - '0');
        (*p)++;
    }

    return v;
}


/*
 * A media playlist: every rounded EXTINF within the target duration,
 * which is want_target unless that is 0.
 */

static void
fuzz_media_ok(const char *buf, size_t len, uint32_t want_target)
{
    uint64_t     target, s, us;
    const char  *p, *end, *nl;

    FUZZ_CHECK(len > 30 && memcmp(buf, "#EXTM3U\n", 8) == 0);
    FUZZ_CHECK(memcmp(buf + len - 15, "#EXT-X-ENDLIST\n", 15) == 0);

    target = 0;
    end = buf + len;

    for (p = buf; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t) (end - p));
        FUZZ_CHECK(nl != NULL);

        if ((size_t) (nl - p) > 22
            && memcmp(p, "#EXT-X-TARGETDURATION:", 22) == 0)
        {
            p += 22;
            target = fuzz_uint(&p, nl);
            FUZZ_CHECK(p == nl && target >= 1);
            FUZZ_CHECK(want_target == 0 || target == want_target);
            continue;
        }

        if ((size_t) (nl - p) > 8 && memcmp(p, "#EXTINF:", 8) == 0) {
            p += 8;
            s = fuzz_uint(&p, nl);
            FUZZ_CHECK(p + 8 == nl && *p == '.' && p[7] == ',');
            p++;
            us = fuzz_uint(&p, nl);

            FUZZ_CHECK(s * 1000000 + us > 0);
            FUZZ_CHECK(s + (us >= 500000) <= target);
        }
    }

    FUZZ_CHECK(target > 0);
}


static void
fuzz_manifest_ok(const feed_catalog_t *cat, const feed_clip_t *clip,
    const char *buf, size_t len)
{
    json_t        *root, *it, *tags;
    uint32_t       i, n;
    const char    *s;
    json_error_t   jerr;

    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        fprintf(stderr, "manifest is not JSON: %s\n%.*s\n", jerr.text,
                (int) len, buf);
        FUZZ_CHECK(root != NULL);
    }

    it = json_array_get(json_object_get(root, "items"), 0);

    s = json_string_value(json_object_get(it, "id"));
    FUZZ_CHECK(s != NULL && strcmp(s, feed_clip_id(cat, clip)) == 0);

    s = json_string_value(json_object_get(it, "caption"));
    FUZZ_CHECK(s != NULL && strcmp(s, feed_clip_caption(cat, clip)) == 0);

    s = json_string_value(json_object_get(it, "creator"));
    FUZZ_CHECK(s != NULL && strcmp(s, feed_clip_creator(cat, clip)) == 0);

    tags = json_object_get(it, "tags");
    n = feed_clip_ntags(cat, clip);
    FUZZ_CHECK(json_array_size(tags) == n);

    for (i = 0; i < n; i++) {
        s = json_string_value(json_array_get(tags, i));
        FUZZ_CHECK(s != NULL && strcmp(s, feed_clip_tag(cat, clip, i)) == 0);
    }

    json_decref(root);
}


static void
fuzz_clip(const feed_catalog_t *cat, uint32_t idx, const char *query,
    size_t query_len)
{
    char                   *buf;
    size_t                  len;
    uint32_t                i, k, n, nparts, target;
    fuzz_ctx_t              ctx;
    feed_item_t             item;
    feed_hls_part_t         parts[2];
    feed_rendition_t        r;
    feed_item_urls_t        urls;
    const feed_clip_t      *clip, *parent;

    clip = feed_catalog_clip(cat, idx);
    FUZZ_CHECK(clip != NULL);

    /* lineage: a parent in the catalog, and no loop back */

    if (clip->lineage == FEED_LINEAGE_NONE) {
        FUZZ_CHECK(clip->parent == FEED_NONE);

    } else {
        FUZZ_CHECK(clip->parent < feed_catalog_count(cat)
                   && clip->parent != idx);
    }

    parent = clip;

    for (i = 0; parent->parent != FEED_NONE; i++) {
        FUZZ_CHECK(i < feed_catalog_count(cat));
        parent = feed_catalog_clip(cat, parent->parent);
        FUZZ_CHECK(parent != NULL);
    }

    memset(&ctx, 0, sizeof(fuzz_ctx_t));
    ctx.cat = cat;
    ctx.clip = clip;
    ctx.query = query;
    ctx.query_len = query_len;

    buf = fuzz_write(fuzz_master, &ctx, &len);
    FUZZ_CHECK(len > 0 && memcmp(buf, "#EXTM3U\n", 8) == 0);
    free(buf);

    n = feed_clip_nrenditions(cat, clip);
    FUZZ_CHECK(n >= 1 && n <= FEED_RENDITIONS_MAX);

    target = feed_hls_clip_target(cat, clip);

    for (i = 0; i < n; i++) {
        feed_clip_rendition(cat, clip, i, &r);

        FUZZ_CHECK(r.nsegments >= 1 && r.nsegments <= FEED_SEGMENTS_MAX);
        FUZZ_CHECK(feed_hls_match_rendition(cat, clip, r.name, r.name_len,
                                            0)
                   == i);
        FUZZ_CHECK(feed_hls_match_rendition(cat, clip, NULL, 0,
                                            r.bandwidth)
                   < n);

        ctx.rendition = i;
        buf = fuzz_write(fuzz_media, &ctx, &len);
        fuzz_media_ok(buf, len, 0);
        free(buf);

        /* the stitch's playlist, as the media handler writes it */

        nparts = feed_hls_clip_parts(cat, clip, i, parts);
        FUZZ_CHECK(nparts == 1 || nparts == 2);

        for (k = 0; k < nparts; k++) {
            FUZZ_CHECK(parts[k].n >= 1 && parts[k].n <= parts[k].r.nsegments);
        }

        if (nparts == 2) {
            FUZZ_CHECK(clip->lineage == FEED_LINEAGE_STITCH);

            parent = feed_catalog_clip(cat, clip->parent);
            FUZZ_CHECK(parent != NULL && parent != clip);
            FUZZ_CHECK(parts[0].n == clip->parent_segments);

            parts[0].base = "../../parent/r/";
            parts[0].base_len = sizeof("../../parent/r/") - 1;
            parts[0].query = "?token=2.y";
            parts[0].query_len = sizeof("?token=2.y") - 1;
        }

        parts[nparts - 1].query = query;
        parts[nparts - 1].query_len = query_len;

        ctx.parts = parts;
        ctx.nparts = nparts;
        ctx.target = target;

        buf = fuzz_write(fuzz_parts, &ctx, &len);
        fuzz_media_ok(buf, len, target);
        free(buf);
    }

    /* the clip as a manifest item */

    memset(&item, 0, sizeof(feed_item_t));
    item.clip = idx;
    item.reason = (uint8_t) (idx % (FEED_REASONS + 1));
    item.score = (float) idx / 3;

    for (i = 0; i < FEED_PARTS; i++) {
        item.parts[i] = (float) i - (float) idx;
    }

    memset(&urls, 0, sizeof(feed_item_urls_t));
    urls.master = "/v/a/master.m3u8?token=1.x";
    urls.master_len = strlen(urls.master);
    urls.init = "/v/a/r/init.mp4?token=1.x";
    urls.init_len = strlen(urls.init);
    urls.first = "/v/a/r/0.m4s?token=1.x";
    urls.first_len = strlen(urls.first);
    urls.impression = "imp.tag";
    urls.impression_len = 7;
    urls.position = idx;

    if (clip->lineage == FEED_LINEAGE_DUET && idx % 2) {
        urls.parent_master = "/v/p/master.m3u8?token=1.y";
        urls.parent_master_len = strlen(urls.parent_master);
    }

    ctx.item = &item;
    ctx.urls = &urls;

    buf = fuzz_write(fuzz_manifest, &ctx, &len);
    fuzz_manifest_ok(cat, clip, buf, len);
    free(buf);

    fuzz_item_room(&ctx, idx);
}


/*
 * The item into a bounded room (the one-pass manifest): its length told
 * whatever the room, nothing written past the room, and the same bytes
 * as the unbounded writer when it fits.
 */

static void
fuzz_item_room(fuzz_ctx_t *c, uint32_t idx)
{
    char    *full, *buf;
    size_t   i, len, room, n;

    len = feed_manifest_item(NULL, c->cat, c->item, c->urls, 1);

    full = malloc(len + 1);
    buf = malloc(len + FUZZ_GUARD);
    FUZZ_CHECK(full != NULL && buf != NULL);

    FUZZ_CHECK(feed_manifest_item(full, c->cat, c->item, c->urls, 1) == len);

    for (room = len > 3 * (idx % 7) ? len - 3 * (idx % 7) : 0;
         room <= len;
         room++)
    {
        memset(buf, 0xa5, len + FUZZ_GUARD);

        n = feed_manifest_item_room(buf, room, c->cat, c->item, c->urls, 1);
        FUZZ_CHECK(n == len);

        for (i = room; i < len + FUZZ_GUARD; i++) {
            FUZZ_CHECK((unsigned char) buf[i] == 0xa5);
        }

        if (room == len) {
            FUZZ_CHECK(memcmp(buf, full, len) == 0);
        }
    }

    free(full);
    free(buf);
}


/* a lean-back page: every clip in turn, nearest a bandwidth */

static void
fuzz_page(const feed_catalog_t *cat, uint32_t bandwidth)
{
    char               *buf;
    size_t              len;
    uint32_t            i, k, n, t, nparts, target;
    fuzz_ctx_t          ctx;
    feed_hls_part_t    *parts;
    const feed_clip_t  *clip;

    n = feed_catalog_count(cat);

    parts = malloc(2 * (n + 1) * sizeof(feed_hls_part_t));
    FUZZ_CHECK(parts != NULL);

    nparts = 0;
    target = 1;

    for (i = 0; i < n; i++) {
        clip = feed_catalog_clip(cat, i);
        k = feed_hls_match_rendition(cat, clip, NULL, 0, bandwidth);
        nparts += feed_hls_clip_parts(cat, clip, k, &parts[nparts]);
    }

    for (i = 0; i < nparts; i++) {
        parts[i].base = "../../c/r/";
        parts[i].base_len = sizeof("../../c/r/") - 1;
        parts[i].query = "?token=3.z";
        parts[i].query_len = sizeof("?token=3.z") - 1;

        t = feed_hls_target_duration(parts[i].r.segments_us, parts[i].n);
        if (t > target) {
            target = t;
        }
    }

    if (nparts > 0) {
        memset(&ctx, 0, sizeof(fuzz_ctx_t));
        ctx.parts = parts;
        ctx.nparts = nparts;
        ctx.target = target;

        buf = fuzz_write(fuzz_parts, &ctx, &len);
        fuzz_media_ok(buf, len, target);
        free(buf);
    }

    free(parts);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              rc;
    size_t           len;
    uint32_t         i, n;
    feed_err_t       err;
    const char      *p, *end, *nl;
    unsigned long    lineno;
    feed_catalog_t  *cat;

    cat = feed_catalog_new();
    FUZZ_CHECK(cat != NULL);

    p = (const char *) data;
    end = p + size;

    for (lineno = 1; lineno <= FUZZ_LINES && p < end; lineno++) {
        nl = memchr(p, '\n', (size_t) (end - p));
        len = (size_t) ((nl ? nl : end) - p);

        (void) feed_catalog_add(cat, p, len, lineno, &err);

        p += len + (nl != NULL);
    }

    rc = feed_catalog_finish(cat, &err);

    if (rc != FEED_OK) {

        /* what an append does: parents still unknown are forgotten */

        feed_catalog_forget_pending(cat);
        rc = feed_catalog_finish(cat, &err);
    }

    if (rc != FEED_OK) {
        feed_catalog_free(cat);
        return 0;
    }

    n = feed_catalog_count(cat);

    for (i = 0; i < n; i++) {
        if (i % 2) {
            fuzz_clip(cat, i, "?token=1700000000.abc", 21);

        } else {
            fuzz_clip(cat, i, NULL, 0);
        }
    }

    fuzz_page(cat, 0);
    fuzz_page(cat, 400000);
    fuzz_page(cat, UINT32_MAX);

    feed_catalog_free(cat);

    return 0;
}
