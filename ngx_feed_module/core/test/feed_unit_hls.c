
/*
 * Copyright (C) the feed module developers
 */


/*
 * HLS: the URI path parser and the playlist writers.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_unit.h"


#define CHECK_PATH(s, type, clip, rendition, segment)                         \
    path_ok(__FILE__, __LINE__, s, sizeof(s) - 1, type, clip, rendition,      \
            segment)

#define CHECK_PATH_REJECTED(s)                                                \
    path_rejected(__FILE__, __LINE__, s, sizeof(s) - 1)


#define A64  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define R32  "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"

#define QUERY  "?token=1700000000.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA"


static void
path_ok(const char *file, int line, const char *s, size_t len, int type,
    const char *clip, const char *rendition, uint32_t segment)
{
    int          rc;
    const char  *reason;
    feed_path_t  path;

    reason = NULL;
    rc = feed_path_parse(s, len, &path, &reason);

    if (!feed_unit_check(rc == FEED_OK, file, line, "\"%.*s\" rejected: %s",
                         (int) len, s, reason ? reason : "(no reason)"))
    {
        return;
    }

    feed_unit_check(path.type == type, file, line, "\"%s\": type %d, want %d",
                    s, path.type, type);
    feed_unit_check(path.clip_len == strlen(clip)
                    && memcmp(path.clip, clip, path.clip_len) == 0,
                    file, line, "\"%s\": clip \"%.*s\", want \"%s\"", s,
                    (int) path.clip_len, path.clip, clip);
    feed_unit_check(path.rendition_len == strlen(rendition)
                    && (path.rendition_len == 0
                        || memcmp(path.rendition, rendition,
                                  path.rendition_len) == 0),
                    file, line, "\"%s\": rendition \"%.*s\", want \"%s\"", s,
                    (int) path.rendition_len,
                    path.rendition ? path.rendition : "", rendition);
    feed_unit_check(path.segment == segment, file, line,
                    "\"%s\": segment %u, want %u", s, path.segment, segment);
}


static void
path_rejected(const char *file, int line, const char *s, size_t len)
{
    int          rc;
    const char  *reason;
    feed_path_t  path;

    reason = NULL;
    rc = feed_path_parse(s, len, &path, &reason);

    feed_unit_check(rc == FEED_DECLINED && reason != NULL && *reason != '\0',
                    file, line, "\"%.*s\" accepted (type %d)", (int) len, s,
                    path.type);
}


static void
test_path_kinds(void)
{
    CHECK_PATH("fox-001/master.m3u8", FEED_PATH_MASTER, "fox-001", "", 0);
    CHECK_PATH("fox-001/360p/index.m3u8", FEED_PATH_MEDIA, "fox-001",
               "360p", 0);
    CHECK_PATH("fox-001/360p/init.mp4", FEED_PATH_INIT, "fox-001", "360p",
               0);
    CHECK_PATH("fox-001/360p/0.m4s", FEED_PATH_SEGMENT, "fox-001", "360p",
               0);
    CHECK_PATH("fox-001/360p/7.m4s", FEED_PATH_SEGMENT, "fox-001", "360p",
               7);
    CHECK_PATH("fox-001/360p/10.m4s", FEED_PATH_SEGMENT, "fox-001", "360p",
               10);
    CHECK_PATH("fox-001/360p/99999.m4s", FEED_PATH_SEGMENT, "fox-001",
               "360p", 99999);
    CHECK_PATH("A_z-9/R_0-x/12345.m4s", FEED_PATH_SEGMENT, "A_z-9", "R_0-x",
               12345);

    /* a rendition may be called master or index */

    CHECK_PATH("a/master/index.m3u8", FEED_PATH_MEDIA, "a", "master", 0);
    CHECK_PATH("a/index/init.mp4", FEED_PATH_INIT, "a", "index", 0);

    /* the longest names */

    CHECK_PATH(A64 "/master.m3u8", FEED_PATH_MASTER, A64, "", 0);
    CHECK_PATH(A64 "/" R32 "/1.m4s", FEED_PATH_SEGMENT, A64, R32, 1);
}


/* the path is taken by length, nothing after it is looked at */

static void
test_path_length(void)
{
    static const char  s[] = "fox-001/360p/12.m4sXYZ";

    path_ok(__FILE__, __LINE__, s, sizeof(s) - 4, FEED_PATH_SEGMENT,
            "fox-001", "360p", 12);
    path_ok(__FILE__, __LINE__, "fox-001/master.m3u8/x", 19,
            FEED_PATH_MASTER, "fox-001", "", 0);
    path_rejected(__FILE__, __LINE__, s, sizeof(s) - 5);
    path_rejected(__FILE__, __LINE__, s, 0);
}


static void
test_path_rejects(void)
{
    /* traversal, encoded or not */

    CHECK_PATH_REJECTED("../master.m3u8");
    CHECK_PATH_REJECTED("..");
    CHECK_PATH_REJECTED("fox-001/../index.m3u8");
    CHECK_PATH_REJECTED("fox-001/360p/../init.mp4");
    CHECK_PATH_REJECTED("fox-001/360p/../../etc/passwd");
    CHECK_PATH_REJECTED("%2e%2e/master.m3u8");
    CHECK_PATH_REJECTED("fox-001/%2e%2e/index.m3u8");
    CHECK_PATH_REJECTED("fox-001/360p/%2e%2e");
    CHECK_PATH_REJECTED("fox%2d001/master.m3u8");
    CHECK_PATH_REJECTED("fox-001/360p%2finit.mp4");
    CHECK_PATH_REJECTED("fox-001\\360p\\init.mp4");
    CHECK_PATH_REJECTED("./fox-001/master.m3u8");
    CHECK_PATH_REJECTED("fox-001/./master.m3u8");

    /* empty parts and slashes */

    CHECK_PATH_REJECTED("");
    CHECK_PATH_REJECTED("/");
    CHECK_PATH_REJECTED("/fox-001/master.m3u8");
    CHECK_PATH_REJECTED("/master.m3u8");
    CHECK_PATH_REJECTED("fox-001");
    CHECK_PATH_REJECTED("fox-001/");
    CHECK_PATH_REJECTED("fox-001//index.m3u8");
    CHECK_PATH_REJECTED("fox-001//360p/index.m3u8");
    CHECK_PATH_REJECTED("fox-001/360p");
    CHECK_PATH_REJECTED("fox-001/360p/");
    CHECK_PATH_REJECTED("fox-001/360p//init.mp4");
    CHECK_PATH_REJECTED("fox-001/master.m3u8/");
    CHECK_PATH_REJECTED("fox-001/360p/index.m3u8/");
    CHECK_PATH_REJECTED("fox-001/360p/init.mp4/");
    CHECK_PATH_REJECTED("fox-001/360p/1.m4s/");
    CHECK_PATH_REJECTED("fox-001/360p/a/init.mp4");

    /* segment numbers: decimal, no leading zero, at most 5 digits */

    CHECK_PATH_REJECTED("fox-001/360p/01.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/00.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/00000.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/100000.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/000001.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/4294967296.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/99999999999999999999.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/-1.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/+1.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/1a.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/0x1.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/1.5.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/ 1.m4s");

    /* overlong names */

    CHECK_PATH_REJECTED(A64 "A/master.m3u8");
    CHECK_PATH_REJECTED(A64 "A/360p/index.m3u8");
    CHECK_PATH_REJECTED("fox-001/" R32 "r/index.m3u8");
    CHECK_PATH_REJECTED("fox-001/" R32 "r/0.m4s");

    /* unknown file names */

    CHECK_PATH_REJECTED("fox-001/index.m3u8");
    CHECK_PATH_REJECTED("fox-001/init.mp4");
    CHECK_PATH_REJECTED("fox-001/0.m4s");
    CHECK_PATH_REJECTED("fox-001/Master.m3u8");
    CHECK_PATH_REJECTED("fox-001/master.m3u");
    CHECK_PATH_REJECTED("fox-001/master.m3u8x");
    CHECK_PATH_REJECTED("fox-001/360p/master.m3u8");
    CHECK_PATH_REJECTED("fox-001/360p/index.m3u");
    CHECK_PATH_REJECTED("fox-001/360p/index.m3u8x");
    CHECK_PATH_REJECTED("fox-001/360p/INDEX.m3u8");
    CHECK_PATH_REJECTED("fox-001/360p/init.mp");
    CHECK_PATH_REJECTED("fox-001/360p/init.mp4.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/1.m4");
    CHECK_PATH_REJECTED("fox-001/360p/1.M4S");
    CHECK_PATH_REJECTED("fox-001/360p/1.mp4");
    CHECK_PATH_REJECTED("fox-001/360p/1");
    CHECK_PATH_REJECTED("fox-001/360p/m4s");
    CHECK_PATH_REJECTED("fox-001/360p/1.m4s?x");
    CHECK_PATH_REJECTED("fox-001/360p/1.m4s;x");

    /* characters that are not in names */

    CHECK_PATH_REJECTED("fox 001/master.m3u8");
    CHECK_PATH_REJECTED("fox.001/master.m3u8");
    CHECK_PATH_REJECTED("fox-001/36 0p/init.mp4");
    CHECK_PATH_REJECTED("fox-\xc3\xa9/master.m3u8");
    CHECK_PATH_REJECTED(" fox-001/master.m3u8");

    /* NUL anywhere */

    CHECK_PATH_REJECTED("\0");
    CHECK_PATH_REJECTED("fox-001\0/master.m3u8");
    CHECK_PATH_REJECTED("fox-001/\0master.m3u8");
    CHECK_PATH_REJECTED("fox-001/master.m3u8\0");
    CHECK_PATH_REJECTED("fox-001/360p\0/init.mp4");
    CHECK_PATH_REJECTED("fox-001/360p/init.mp4\0");
    CHECK_PATH_REJECTED("fox-001/360p/1\0.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/\0.m4s");
    CHECK_PATH_REJECTED("fox-001/360p/1.m4s\0");
}


/* the clip the playlists are written for */

static const char  clip_line[] =
    "{\"id\":\"fox-001\",\"creator\":\"ana\",\"sound\":\"lofi-1\","
    "\"created\":1764100000,\"duration\":7.0,\"caption\":\"Fox\","
    "\"tags\":[],\"embedding\":[0],"
    "\"renditions\":[{\"name\":\"360p\",\"bandwidth\":600000,"
    "\"resolution\":\"360x640\",\"codecs\":\"avc1.64001e,mp4a.40.2\","
    "\"segments\":[1.0,2.0,2.5,1.466633,0.033367]},"
    "{\"name\":\"540p\",\"bandwidth\":1200000,\"resolution\":\"540x960\","
    "\"codecs\":\"avc1.64001f,mp4a.40.2\",\"segments\":[2.499999,4.5]}]}\n"
    "{\"id\":\"one\",\"creator\":\"ana\",\"sound\":\"lofi-1\","
    "\"created\":1764100000,\"duration\":0.2,\"caption\":\"\","
    "\"tags\":[],\"embedding\":[0],"
    "\"renditions\":[{\"name\":\"r\",\"bandwidth\":1000,"
    "\"resolution\":\"16x16\",\"codecs\":\"c\",\"segments\":[0.2]}]}\n";


/*
 * Writes a playlist twice: the length pass, then into a buffer with a
 * guard byte after it.  Returns scratch memory, NUL-terminated.
 */

static const char *
playlist(const char *file, int line, const feed_catalog_t *cat,
    const feed_clip_t *clip, int rendition, const char *query)
{
    char    *buf;
    size_t   len, written, qlen;

    qlen = strlen(query);

    len = rendition < 0
          ? feed_hls_master(cat, clip, query, qlen, NULL)
          : feed_hls_media(cat, clip, (uint32_t) rendition, query, qlen,
                           NULL);

    buf = feed_unit_alloc(len + 2);
    memset(buf, '#', len + 2);

    written = rendition < 0
              ? feed_hls_master(cat, clip, query, qlen, buf)
              : feed_hls_media(cat, clip, (uint32_t) rendition, query, qlen,
                               buf);

    feed_unit_check(written == len, file, line,
                    "length pass said %zu bytes, %zu were written", len,
                    written);
    feed_unit_check(buf[len] == '#' && buf[len + 1] == '#', file, line,
                    "wrote past the length it returned");

    buf[len] = '\0';

    return buf;
}


#define PLAYLIST(cat, clip, rendition, query)                                 \
    playlist(__FILE__, __LINE__, cat, clip, rendition, query)


static int
load_playlist_clips(feed_catalog_t **cat, const feed_clip_t **fox,
    const feed_clip_t **one)
{
    int         rc;
    feed_err_t  err;

    rc = feed_unit_load(clip_line, cat, &err);

    if (!feed_unit_check(rc == FEED_OK, __FILE__, __LINE__,
                         "load failed on line %lu: %s", err.line, err.msg))
    {
        return FEED_ERROR;
    }

    *fox = feed_catalog_clip(*cat, feed_catalog_find(*cat, "fox-001", 7));
    *one = feed_catalog_clip(*cat, feed_catalog_find(*cat, "one", 3));

    return FEED_OK;
}


static void
test_hls_master(void)
{
    feed_catalog_t     *cat;
    const feed_clip_t  *fox, *one;

    if (load_playlist_clips(&cat, &fox, &one) == FEED_OK) {

        CHECK_STR(PLAYLIST(cat, fox, -1, ""),
                  "#EXTM3U\n"
                  "#EXT-X-INDEPENDENT-SEGMENTS\n"
                  "#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=360x640,"
                  "CODECS=\"avc1.64001e,mp4a.40.2\"\n"
                  "360p/index.m3u8\n"
                  "#EXT-X-STREAM-INF:BANDWIDTH=1200000,RESOLUTION=540x960,"
                  "CODECS=\"avc1.64001f,mp4a.40.2\"\n"
                  "540p/index.m3u8\n");

        CHECK_STR(PLAYLIST(cat, fox, -1, QUERY),
                  "#EXTM3U\n"
                  "#EXT-X-INDEPENDENT-SEGMENTS\n"
                  "#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=360x640,"
                  "CODECS=\"avc1.64001e,mp4a.40.2\"\n"
                  "360p/index.m3u8" QUERY "\n"
                  "#EXT-X-STREAM-INF:BANDWIDTH=1200000,RESOLUTION=540x960,"
                  "CODECS=\"avc1.64001f,mp4a.40.2\"\n"
                  "540p/index.m3u8" QUERY "\n");

        CHECK_STR(PLAYLIST(cat, one, -1, ""),
                  "#EXTM3U\n"
                  "#EXT-X-INDEPENDENT-SEGMENTS\n"
                  "#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=16x16,"
                  "CODECS=\"c\"\n"
                  "r/index.m3u8\n");
    }

    feed_catalog_free(cat);
}


static void
test_hls_media(void)
{
    feed_catalog_t     *cat;
    const feed_clip_t  *fox, *one;

    if (load_playlist_clips(&cat, &fox, &one) == FEED_OK) {

        /*
         * EXTINF is exactly the catalog's duration, six decimals; the
         * target duration is the clip's (4.5 s in 540p rounds to 5), the
         * same in every rendition (RFC 8216 6.2.4)
         */

        CHECK_STR(PLAYLIST(cat, fox, 0, ""),
                  "#EXTM3U\n"
                  "#EXT-X-VERSION:7\n"
                  "#EXT-X-TARGETDURATION:5\n"
                  "#EXT-X-MEDIA-SEQUENCE:0\n"
                  "#EXT-X-PLAYLIST-TYPE:VOD\n"
                  "#EXT-X-INDEPENDENT-SEGMENTS\n"
                  "#EXT-X-MAP:URI=\"init.mp4\"\n"
                  "#EXTINF:1.000000,\n"
                  "0.m4s\n"
                  "#EXTINF:2.000000,\n"
                  "1.m4s\n"
                  "#EXTINF:2.500000,\n"
                  "2.m4s\n"
                  "#EXTINF:1.466633,\n"
                  "3.m4s\n"
                  "#EXTINF:0.033367,\n"
                  "4.m4s\n"
                  "#EXT-X-ENDLIST\n");

        CHECK_STR(PLAYLIST(cat, fox, 0, QUERY),
                  "#EXTM3U\n"
                  "#EXT-X-VERSION:7\n"
                  "#EXT-X-TARGETDURATION:5\n"
                  "#EXT-X-MEDIA-SEQUENCE:0\n"
                  "#EXT-X-PLAYLIST-TYPE:VOD\n"
                  "#EXT-X-INDEPENDENT-SEGMENTS\n"
                  "#EXT-X-MAP:URI=\"init.mp4" QUERY "\"\n"
                  "#EXTINF:1.000000,\n"
                  "0.m4s" QUERY "\n"
                  "#EXTINF:2.000000,\n"
                  "1.m4s" QUERY "\n"
                  "#EXTINF:2.500000,\n"
                  "2.m4s" QUERY "\n"
                  "#EXTINF:1.466633,\n"
                  "3.m4s" QUERY "\n"
                  "#EXTINF:0.033367,\n"
                  "4.m4s" QUERY "\n"
                  "#EXT-X-ENDLIST\n");

        /* 2.499999 s rounds to 2, 4.5 s to 5 */

        CHECK_STR(PLAYLIST(cat, fox, 1, ""),
                  "#EXTM3U\n"
                  "#EXT-X-VERSION:7\n"
                  "#EXT-X-TARGETDURATION:5\n"
                  "#EXT-X-MEDIA-SEQUENCE:0\n"
                  "#EXT-X-PLAYLIST-TYPE:VOD\n"
                  "#EXT-X-INDEPENDENT-SEGMENTS\n"
                  "#EXT-X-MAP:URI=\"init.mp4\"\n"
                  "#EXTINF:2.499999,\n"
                  "0.m4s\n"
                  "#EXTINF:4.500000,\n"
                  "1.m4s\n"
                  "#EXT-X-ENDLIST\n");

        /* 0.2 s: the target duration is still 1 */

        CHECK_STR(PLAYLIST(cat, one, 0, "?t=1"),
                  "#EXTM3U\n"
                  "#EXT-X-VERSION:7\n"
                  "#EXT-X-TARGETDURATION:1\n"
                  "#EXT-X-MEDIA-SEQUENCE:0\n"
                  "#EXT-X-PLAYLIST-TYPE:VOD\n"
                  "#EXT-X-INDEPENDENT-SEGMENTS\n"
                  "#EXT-X-MAP:URI=\"init.mp4?t=1\"\n"
                  "#EXTINF:0.200000,\n"
                  "0.m4s?t=1\n"
                  "#EXT-X-ENDLIST\n");
    }

    feed_catalog_free(cat);
}


/* a long playlist: the two passes agree, segment numbers count up */

static void
test_hls_media_long(void)
{
    int                 rc;
    char               *text, *p, want[64];
    size_t              cap;
    unsigned            i;
    feed_err_t          err;
    const char         *pl;
    feed_catalog_t     *cat;
    const feed_clip_t  *c;

    cap = 100000;
    text = feed_unit_alloc(cap);

    p = text + snprintf(text, cap,
        "{\"id\":\"long\",\"creator\":\"a\",\"sound\":\"s\",\"created\":1,"
        "\"duration\":3559.65,\"caption\":\"\",\"tags\":[],"
        "\"embedding\":[0],\"renditions\":[{\"name\":\"r\","
        "\"bandwidth\":1000,\"resolution\":\"16x16\",\"codecs\":\"c\","
        "\"segments\":[");

    for (i = 0; i < 10000; i++) {
        p += snprintf(p, cap - (size_t) (p - text), "%s%s", i ? "," : "",
                      i == 9999 ? "60" : "0.35");
    }

    snprintf(p, cap - (size_t) (p - text), "]}]}\n");

    rc = feed_unit_load(text, &cat, &err);

    if (feed_unit_check(rc == FEED_OK, __FILE__, __LINE__,
                        "load failed on line %lu: %s", err.line, err.msg))
    {
        c = feed_catalog_clip(cat, 0);
        pl = PLAYLIST(cat, c, 0, QUERY);

        CHECK(strstr(pl, "#EXT-X-TARGETDURATION:60\n") != NULL);
        CHECK(strstr(pl, "#EXTINF:0.350000,\n0.m4s" QUERY "\n") != NULL);

        snprintf(want, sizeof(want), "#EXTINF:60.000000,\n9999.m4s");
        CHECK(strstr(pl, want) != NULL);

        CHECK(strstr(pl, "10000.m4s") == NULL);
        CHECK(strlen(pl) > 10000 * (sizeof(QUERY) - 1));
    }

    feed_catalog_free(cat);
}


/*
 * RFC 8216 4.3.3.1: each EXTINF duration rounded to the nearest integer
 * is at most the target duration.
 */

static void
test_hls_target_duration(void)
{
    static const uint32_t  a[] = { 2499999 };
    static const uint32_t  b[] = { 2500000 };
    static const uint32_t  c[] = { 200000 };
    static const uint32_t  d[] = { 1000000, 2499999, 1500000 };
    static const uint32_t  e[] = { 1500000, 1499999 };
    static const uint32_t  f[] = { 60000000, 1 };
    static const uint32_t  g[] = { 1, 1 };
    static const uint32_t  h[] = { 3499999, 3500000, 1 };

    CHECK_UINT(feed_hls_target_duration(a, 1), 2);
    CHECK_UINT(feed_hls_target_duration(b, 1), 3);
    CHECK_UINT(feed_hls_target_duration(c, 1), 1);
    CHECK_UINT(feed_hls_target_duration(d, 3), 2);
    CHECK_UINT(feed_hls_target_duration(e, 2), 2);
    CHECK_UINT(feed_hls_target_duration(f, 2), 60);
    CHECK_UINT(feed_hls_target_duration(g, 2), 1);
    CHECK_UINT(feed_hls_target_duration(h, 3), 4);
    CHECK_UINT(feed_hls_target_duration(h, 1), 3);
    CHECK_UINT(feed_hls_target_duration(a, 0), 1);
}


/*
 * A stitch: its 540p plays the parent's 540p first segments, its 720p
 * (which the parent lacks) the parent's nearest bandwidth, 540p too; the
 * target duration is the same in both renditions.
 */

static const char  stitch_lines[] =
    "{\"id\":\"st\",\"creator\":\"bo\",\"sound\":\"s\","
    "\"created\":1764100000,\"duration\":3.0,\"caption\":\"\","
    "\"tags\":[],\"embedding\":[0],"
    "\"lineage\":{\"kind\":\"stitch\",\"parent\":\"pa\","
    "\"parent_segments\":2},"
    "\"renditions\":[{\"name\":\"540p\",\"bandwidth\":1000000,"
    "\"resolution\":\"540x960\",\"codecs\":\"avc1.64001f,mp4a.40.2\","
    "\"segments\":[1.0,2.0]},"
    "{\"name\":\"720p\",\"bandwidth\":2000000,\"resolution\":\"720x1280\","
    "\"codecs\":\"avc1.640020,mp4a.40.2\",\"segments\":[1.0,2.0]}]}\n"
    "{\"id\":\"pa\",\"creator\":\"ana\",\"sound\":\"s\","
    "\"created\":1764100000,\"duration\":7.0,\"caption\":\"\","
    "\"tags\":[],\"embedding\":[0],"
    "\"renditions\":[{\"name\":\"360p\",\"bandwidth\":600000,"
    "\"resolution\":\"360x640\",\"codecs\":\"avc1.64001e,mp4a.40.2\","
    "\"segments\":[1.0,4.4,1.6]},"
    "{\"name\":\"540p\",\"bandwidth\":1500000,\"resolution\":\"540x960\","
    "\"codecs\":\"avc1.64001f,mp4a.40.2\",\"segments\":[1.0,4.4,1.6]}]}\n";


static const char *
stitch_playlist(const feed_catalog_t *cat, const feed_clip_t *clip,
    uint32_t rendition)
{
    char             *buf;
    size_t            len;
    feed_hls_part_t   parts[2];
    uint32_t          n;

    n = feed_hls_clip_parts(cat, clip, rendition, parts);

    if (n == 2) {
        parts[0].base = "../../pa/540p/";
        parts[0].base_len = strlen(parts[0].base);
        parts[0].query = "?token=P";
        parts[0].query_len = 8;
    }

    parts[n - 1].query = "?token=S";
    parts[n - 1].query_len = 8;

    len = feed_hls_parts(parts, n, feed_hls_clip_target(cat, clip), NULL);
    buf = feed_unit_alloc(len + 1);
    feed_unit_check(feed_hls_parts(parts, n, feed_hls_clip_target(cat, clip),
                                   buf)
                    == len, __FILE__, __LINE__, "length pass differs");
    buf[len] = '\0';

    return buf;
}


static void
test_hls_stitch(void)
{
    int                 rc;
    feed_err_t          err;
    feed_catalog_t     *cat;
    feed_hls_part_t     parts[2];
    const feed_clip_t  *st, *pa;

    rc = feed_unit_load(stitch_lines, &cat, &err);

    if (!feed_unit_check(rc == FEED_OK, __FILE__, __LINE__,
                         "load failed on line %lu: %s", err.line, err.msg))
    {
        return;
    }

    st = feed_catalog_clip(cat, feed_catalog_find(cat, "st", 2));
    pa = feed_catalog_clip(cat, feed_catalog_find(cat, "pa", 2));

    CHECK_UINT(feed_hls_clip_parts(cat, pa, 0, parts), 1);
    CHECK_UINT(feed_hls_clip_parts(cat, st, 0, parts), 2);
    CHECK_UINT(parts[0].n, 2);
    CHECK_UINT(parts[0].r.name_len, 4);
    CHECK_UINT(parts[0].r.bandwidth, 1500000);
    CHECK_UINT(parts[1].n, 2);

    /* 720p: no such parent rendition, the nearest bandwidth is 540p's */

    CHECK_UINT(feed_hls_clip_parts(cat, st, 1, parts), 2);
    CHECK_UINT(parts[0].r.bandwidth, 1500000);
    CHECK_UINT(feed_hls_match_rendition(cat, pa, "x", 1, 700000), 0);
    CHECK_UINT(feed_hls_match_rendition(cat, pa, "540p", 4, 0), 1);

    /* 4.4 s rounds to 4: the same target in every rendition */

    CHECK_UINT(feed_hls_clip_target(cat, st), 4);

    CHECK_STR(stitch_playlist(cat, st, 0),
              "#EXTM3U\n"
              "#EXT-X-VERSION:7\n"
              "#EXT-X-TARGETDURATION:4\n"
              "#EXT-X-MEDIA-SEQUENCE:0\n"
              "#EXT-X-DISCONTINUITY-SEQUENCE:0\n"
              "#EXT-X-PLAYLIST-TYPE:VOD\n"
              "#EXT-X-INDEPENDENT-SEGMENTS\n"
              "#EXT-X-MAP:URI=\"../../pa/540p/init.mp4?token=P\"\n"
              "#EXTINF:1.000000,\n"
              "../../pa/540p/0.m4s?token=P\n"
              "#EXTINF:4.400000,\n"
              "../../pa/540p/1.m4s?token=P\n"
              "#EXT-X-DISCONTINUITY\n"
              "#EXT-X-MAP:URI=\"init.mp4?token=S\"\n"
              "#EXTINF:1.000000,\n"
              "0.m4s?token=S\n"
              "#EXTINF:2.000000,\n"
              "1.m4s?token=S\n"
              "#EXT-X-ENDLIST\n");

    /* the master: the parent's peak rate and codecs are the variant's */

    CHECK_STR(PLAYLIST(cat, st, -1, ""),
              "#EXTM3U\n"
              "#EXT-X-INDEPENDENT-SEGMENTS\n"
              "#EXT-X-STREAM-INF:BANDWIDTH=1500000,RESOLUTION=540x960,"
              "CODECS=\"avc1.64001f,mp4a.40.2\"\n"
              "540p/index.m3u8\n"
              "#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=720x1280,"
              "CODECS=\"avc1.640020,mp4a.40.2,avc1.64001f\"\n"
              "720p/index.m3u8\n");

    feed_catalog_free(cat);
}


void
feed_unit_hls_tests(void)
{
    RUN(test_path_kinds);
    RUN(test_path_length);
    RUN(test_path_rejects);
    RUN(test_hls_master);
    RUN(test_hls_media);
    RUN(test_hls_media_long);
    RUN(test_hls_stitch);
    RUN(test_hls_target_duration);
}
