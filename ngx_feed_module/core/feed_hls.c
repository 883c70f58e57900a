
/*
 * Copyright (C) the feed module developers
 */


#include <stdio.h>
#include <string.h>

#include "feed_hls.h"


typedef struct {
    char    *p;         /* NULL on the length pass */
    size_t   len;
} feed_out_t;


static void feed_out(feed_out_t *o, const char *s, size_t len);
static void feed_out_str(feed_out_t *o, const char *s);
static void feed_out_uint(feed_out_t *o, uint64_t v);
static void feed_out_duration(feed_out_t *o, uint32_t us);
static void feed_out_codecs(feed_out_t *o, const char *own,
    const char *other);
static int feed_path_name(const char *p, const char *end, size_t max,
    const char **name, size_t *len);


int
feed_path_parse(const char *p, size_t len, feed_path_t *path,
    const char **reason)
{
    size_t       n;
    uint32_t     seg;
    const char  *end, *file, *q;

    /*
     * {clip}/master.m3u8
     * {clip}/{rendition}/index.m3u8
     * {clip}/{rendition}/init.mp4
     * {clip}/{rendition}/{N}.m4s
     *
     * Names are [A-Za-z0-9_-]+, so no "..", "/" or "%" can get through
     * to a file name whatever the client encoded.
     */

    memset(path, 0, sizeof(feed_path_t));
    end = p + len;

    n = (size_t) feed_path_name(p, end, 64, &path->clip, &path->clip_len);
    if (n == 0) {
        *reason = "bad clip id";
        return FEED_DECLINED;
    }

    p += n;

    if (p == end || *p != '/') {
        *reason = "no file after clip id";
        return FEED_DECLINED;
    }

    p++;

    if ((size_t) (end - p) == 11 && memcmp(p, "master.m3u8", 11) == 0) {
        path->type = FEED_PATH_MASTER;
        return FEED_OK;
    }

    n = (size_t) feed_path_name(p, end, 32, &path->rendition,
                                &path->rendition_len);
    if (n == 0 || p + n == end || p[n] != '/') {
        *reason = "bad rendition name";
        return FEED_DECLINED;
    }

    file = p + n + 1;
    n = (size_t) (end - file);

    if (n == 10 && memcmp(file, "index.m3u8", 10) == 0) {
        path->type = FEED_PATH_MEDIA;
        return FEED_OK;
    }

    if (n == 8 && memcmp(file, "init.mp4", 8) == 0) {
        path->type = FEED_PATH_INIT;
        return FEED_OK;
    }

    /* N.m4s: decimal, no leading zero, bounded before it can overflow */

    if (n < 5 || memcmp(end - 4, ".m4s", 4) != 0) {
        *reason = "unknown file name";
        return FEED_DECLINED;
    }

    seg = 0;

    for (q = file; q < end - 4; q++) {
        if (*q < '0' || *q > '9' || q - file >= FEED_SEGMENT_DIGITS) {
            *reason = "bad segment number";
            return FEED_DECLINED;
        }

        seg = seg * 10 + (uint32_t) (*q - '0');
    }

    if (file[0] == '0' && end - 4 - file > 1) {
        *reason = "bad segment number";
        return FEED_DECLINED;
    }

    path->type = FEED_PATH_SEGMENT;
    path->segment = seg;

    return FEED_OK;
}


size_t
feed_hls_master(const feed_catalog_t *cat, const feed_clip_t *clip,
    const char *query, size_t query_len, char *buf)
{
    uint32_t          i, n, bandwidth;
    feed_out_t        o;
    feed_hls_part_t   parts[2];
    feed_rendition_t  r, pr;

    o.p = buf;
    o.len = 0;

    feed_out_str(&o, "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n");

    n = feed_clip_nrenditions(cat, clip);

    for (i = 0; i < n; i++) {
        feed_clip_rendition(cat, clip, i, &r);

        /*
         * A stitch's variant plays the parent's rendition first: its
         * peak rate and its codecs are the variant's too (RFC 8216
         * 4.3.4.2).
         */

        bandwidth = r.bandwidth;
        pr.codecs = "";

        if (feed_hls_clip_parts(cat, clip, i, parts) == 2) {
            pr = parts[0].r;

            if (pr.bandwidth > bandwidth) {
                bandwidth = pr.bandwidth;
            }
        }

        feed_out_str(&o, "#EXT-X-STREAM-INF:BANDWIDTH=");
        feed_out_uint(&o, bandwidth);
        feed_out_str(&o, ",RESOLUTION=");
        feed_out_str(&o, r.resolution);
        feed_out_str(&o, ",CODECS=\"");
        feed_out_str(&o, r.codecs);
        feed_out_codecs(&o, r.codecs, pr.codecs);
        feed_out_str(&o, "\"\n");
        feed_out(&o, r.name, r.name_len);
        feed_out_str(&o, "/index.m3u8");
        feed_out(&o, query, query_len);
        feed_out_str(&o, "\n");
    }

    return o.len;
}


size_t
feed_hls_media(const feed_catalog_t *cat, const feed_clip_t *clip,
    uint32_t rendition, const char *query, size_t query_len, char *buf)
{
    feed_hls_part_t  part;

    memset(&part, 0, sizeof(feed_hls_part_t));
    feed_clip_rendition(cat, clip, rendition, &part.r);
    part.query = query;
    part.query_len = query_len;
    part.n = part.r.nsegments;

    /* RFC 8216 6.2.4: the same target duration in every rendition */

    return feed_hls_parts(&part, 1, feed_hls_clip_target(cat, clip), buf);
}


size_t
feed_hls_parts(const feed_hls_part_t *parts, uint32_t nparts,
    uint32_t target, char *buf)
{
    uint32_t                i, k;
    feed_out_t              o;
    const feed_hls_part_t  *pt;

    o.p = buf;
    o.len = 0;

    feed_out_str(&o, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:");
    feed_out_uint(&o, target);
    feed_out_str(&o, "\n#EXT-X-MEDIA-SEQUENCE:0\n");

    /*
     * RFC 8216 6.2.4: every rendition's playlist has its discontinuities
     * at the same places, so they all start at the same sequence number.
     */

    if (nparts > 1) {
        feed_out_str(&o, "#EXT-X-DISCONTINUITY-SEQUENCE:0\n");
    }

    feed_out_str(&o, "#EXT-X-PLAYLIST-TYPE:VOD\n"
                     "#EXT-X-INDEPENDENT-SEGMENTS\n");

    for (k = 0; k < nparts; k++) {
        pt = &parts[k];

        if (k > 0) {
            feed_out_str(&o, "#EXT-X-DISCONTINUITY\n");
        }

        feed_out_str(&o, "#EXT-X-MAP:URI=\"");
        feed_out(&o, pt->base, pt->base_len);
        feed_out_str(&o, "init.mp4");
        feed_out(&o, pt->query, pt->query_len);
        feed_out_str(&o, "\"\n");

        for (i = pt->first; i < pt->first + pt->n && i < pt->r.nsegments;
             i++)
        {
            feed_out_str(&o, "#EXTINF:");
            feed_out_duration(&o, pt->r.segments_us[i]);
            feed_out_str(&o, ",\n");
            feed_out(&o, pt->base, pt->base_len);
            feed_out_uint(&o, i);
            feed_out_str(&o, ".m4s");
            feed_out(&o, pt->query, pt->query_len);
            feed_out_str(&o, "\n");
        }
    }

    feed_out_str(&o, "#EXT-X-ENDLIST\n");

    return o.len;
}


uint32_t
feed_hls_clip_parts(const feed_catalog_t *cat, const feed_clip_t *clip,
    uint32_t rendition, feed_hls_part_t *parts)
{
    uint32_t            k, pr;
    const feed_clip_t  *parent;

    memset(parts, 0, 2 * sizeof(feed_hls_part_t));
    k = 0;

    if (clip->lineage == FEED_LINEAGE_STITCH && clip->parent != FEED_NONE
        && clip->parent_segments > 0)
    {
        parent = feed_catalog_clip(cat, clip->parent);
        feed_clip_rendition(cat, clip, rendition, &parts[1].r);

        pr = feed_hls_match_rendition(cat, parent, parts[1].r.name,
                                      parts[1].r.name_len,
                                      parts[1].r.bandwidth);
        feed_clip_rendition(cat, parent, pr, &parts[0].r);

        parts[0].n = clip->parent_segments;

        if (parts[0].n > parts[0].r.nsegments) {
            parts[0].n = parts[0].r.nsegments;
        }

        k = 1;
    }

    feed_clip_rendition(cat, clip, rendition, &parts[k].r);
    parts[k].n = parts[k].r.nsegments;

    return k + 1;
}


uint32_t
feed_hls_clip_target(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    uint32_t          i, k, n, t, target;
    feed_hls_part_t   parts[2];

    target = 1;
    n = feed_clip_nrenditions(cat, clip);

    for (i = 0; i < n; i++) {
        for (k = feed_hls_clip_parts(cat, clip, i, parts); k > 0; k--) {
            t = feed_hls_target_duration(parts[k - 1].r.segments_us
                                         + parts[k - 1].first,
                                         parts[k - 1].n);
            if (t > target) {
                target = t;
            }
        }
    }

    return target;
}


uint32_t
feed_hls_match_rendition(const feed_catalog_t *cat, const feed_clip_t *clip,
    const char *name, size_t len, uint32_t bandwidth)
{
    uint32_t          i, n, best, d, best_d;
    feed_rendition_t  r;

    n = feed_clip_nrenditions(cat, clip);
    best = 0;
    best_d = UINT32_MAX;

    for (i = 0; i < n; i++) {
        feed_clip_rendition(cat, clip, i, &r);

        if (name && r.name_len == len && memcmp(r.name, name, len) == 0) {
            return i;
        }

        d = r.bandwidth > bandwidth ? r.bandwidth - bandwidth
                                    : bandwidth - r.bandwidth;
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }

    return best;
}


uint32_t
feed_hls_target_duration(const uint32_t *segments_us, uint32_t n)
{
    uint32_t  i, d, target;

    /*
     * RFC 8216 4.3.3.1: every EXTINF duration, rounded to the nearest
     * integer, must be less than or equal to the target duration.
     */

    target = 1;

    for (i = 0; i < n; i++) {
        d = (segments_us[i] + 500000) / 1000000;

        if (d > target) {
            target = d;
        }
    }

    return target;
}


static int
feed_path_name(const char *p, const char *end, size_t max, const char **name,
    size_t *len)
{
    size_t         n;
    unsigned char  c;

    for (n = 0; p + n < end; n++) {
        c = (unsigned char) p[n];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            break;
        }

        if (n == max) {
            return 0;
        }
    }

    *name = p;
    *len = n;

    return (int) n;
}


static void
feed_out(feed_out_t *o, const char *s, size_t len)
{
    /* an empty query may be a NULL pointer: memcpy() must not see it */

    if (o->p && len) {
        memcpy(o->p + o->len, s, len);
    }

    o->len += len;
}


static void
feed_out_str(feed_out_t *o, const char *s)
{
    feed_out(o, s, strlen(s));
}


static void
feed_out_uint(feed_out_t *o, uint64_t v)
{
    char    buf[20];
    size_t  n;

    n = 0;

    do {
        buf[sizeof(buf) - 1 - n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    feed_out(o, buf + sizeof(buf) - n, n);
}


static void
feed_out_codecs(feed_out_t *o, const char *own, const char *other)
{
    size_t       len, olen;
    const char  *p, *e, *q, *qe;

    /* the other part's codecs that the list does not name yet */

    olen = strlen(own);

    for (p = other; *p; p = *e ? e + 1 : e) {
        e = strchr(p, ',');
        if (e == NULL) {
            e = p + strlen(p);
        }

        len = (size_t) (e - p);

        if (len == 0) {
            continue;
        }

        for (q = own; q < own + olen; q = *qe ? qe + 1 : qe) {
            qe = strchr(q, ',');
            if (qe == NULL) {
                qe = q + strlen(q);
            }

            if ((size_t) (qe - q) == len && memcmp(q, p, len) == 0) {
                break;
            }
        }

        if (q < own + olen) {
            continue;
        }

        feed_out(o, ",", 1);
        feed_out(o, p, len);
    }
}


static void
feed_out_duration(feed_out_t *o, uint32_t us)
{
    char      frac[6];
    uint32_t  i, f;

    /* seconds with six decimals: exactly what the catalog said */

    feed_out_uint(o, us / 1000000);
    feed_out(o, ".", 1);

    f = us % 1000000;

    for (i = 0; i < 6; i++) {
        frac[5 - i] = (char) ('0' + f % 10);
        f /= 10;
    }

    feed_out(o, frac, 6);
}
