
/*
 * Copyright (C) the feed module developers
 */


/*
 * Catalog loader: what a valid file gives back through the accessors,
 * and for each kind of bad line, that loading fails on that line with a
 * message naming the problem.  Bad lines are made by editing one field
 * of a good line, so each test shows exactly what is wrong.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_unit.h"


#define LADDER                                                                \
    "[{\"name\":\"360p\",\"bandwidth\":600000,\"resolution\":\"360x640\","    \
    "\"codecs\":\"avc1.64001e,mp4a.40.2\",\"segments\":[1.0,2.0,2.0,2.0]},"   \
    "{\"name\":\"540p\",\"bandwidth\":1200000,\"resolution\":\"540x960\","    \
    "\"codecs\":\"avc1.64001f,mp4a.40.2\",\"segments\":[1.0,2.0,2.0,2.0]}]"

#define EMBEDDING  "[0.5,-0.25,0.125,0,1,-1,0.75,2]"

#define CLIP_FMT                                                              \
    "{\"id\":\"%s\",\"creator\":\"ana\",\"sound\":\"lofi-1\","                \
    "\"created\":1764100000,\"duration\":7.0,\"caption\":\"Fox at dawn\","    \
    "\"tags\":[\"nature\",\"animals\"],\"embedding\":" EMBEDDING ","          \
    "\"renditions\":" LADDER "%s%s}"

#define CHECK_LOADS(text, nclips)                                             \
    load_ok(__FILE__, __LINE__, text, nclips)

#define CHECK_LOAD_FAILS(text, line, needle)                                  \
    load_fails(__FILE__, __LINE__, text, line, needle)

#define DUET(parent)  "{\"kind\":\"duet\",\"parent\":\"" parent "\"}"

#define STITCH(parent, n)                                                     \
    "{\"kind\":\"stitch\",\"parent\":\"" parent "\",\"parent_segments\":"    \
    #n "}"


/* table-driven tests say which case failed */

static const char  *load_case;


typedef struct {
    const char  *from;
    const char  *to;
    const char  *needle;
} edit_case_t;


/* the helpers below return scratch memory, freed when the test ends */

static char *
fmt(const char *f, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static char *
fmt(const char *f, ...)
{
    int       n;
    char     *buf;
    va_list   args;

    va_start(args, f);
    n = vsnprintf(NULL, 0, f, args);
    va_end(args);

    buf = feed_unit_alloc((size_t) n + 1);

    va_start(args, f);
    vsnprintf(buf, (size_t) n + 1, f, args);
    va_end(args);

    return buf;
}


/* a good line with id; lineage is a JSON value or NULL */

static const char *
clip_lin(const char *id, const char *lineage)
{
    return fmt(CLIP_FMT, id, lineage ? ",\"lineage\":" : "",
               lineage ? lineage : "");
}


static const char *
clip(const char *id)
{
    return clip_lin(id, NULL);
}


/* s with its only occurrence of from replaced by to */

static const char *
edit(const char *s, const char *from, const char *to)
{
    const char  *p;

    p = strstr(s, from);

    if (!feed_unit_check(p != NULL && strstr(p + 1, from) == NULL,
                         __FILE__, __LINE__,
                         "edit: \"%s\" is not in the line exactly once", from))
    {
        return s;
    }

    return fmt("%.*s%s%s", (int) (p - s), s, to, p + strlen(from));
}


/* a good line with its renditions and duration replaced */

static const char *
clip_ladder(const char *id, const char *duration, const char *ladder)
{
    return edit(edit(clip(id), "\"duration\":7.0",
                     fmt("\"duration\":%s", duration)),
                LADDER, ladder);
}


/* the lines, each ended by "\n"; the list ends with NULL */

static const char *
lines(const char *first, ...)
{
    char        *buf;
    size_t       len, n;
    va_list      args;
    const char  *s;

    len = 0;

    va_start(args, first);

    for (s = first; s != NULL; s = va_arg(args, const char *)) {
        len += strlen(s) + 1;
    }

    va_end(args);

    buf = feed_unit_alloc(len + 1);
    len = 0;

    va_start(args, first);

    for (s = first; s != NULL; s = va_arg(args, const char *)) {
        n = strlen(s);
        memcpy(buf + len, s, n);
        buf[len + n] = '\n';
        len += n + 1;
    }

    va_end(args);

    buf[len] = '\0';

    return buf;
}


/* "[" n copies of item joined by "," "]" */

static const char *
repeat(const char *item, unsigned n)
{
    char      *buf;
    size_t     len, ilen;
    unsigned   i;

    ilen = strlen(item);
    buf = feed_unit_alloc((ilen + 1) * n + 3);
    len = 0;
    buf[len++] = '[';

    for (i = 0; i < n; i++) {
        if (i) {
            buf[len++] = ',';
        }

        memcpy(buf + len, item, ilen);
        len += ilen;
    }

    buf[len++] = ']';
    buf[len] = '\0';

    return buf;
}


static const char *
chars(char c, unsigned n)
{
    char  *buf;

    buf = feed_unit_alloc(n + 1);
    memset(buf, c, n);
    buf[n] = '\0';

    return buf;
}


static void
load_ok(const char *file, int fline, const char *text, uint32_t nclips)
{
    int              rc;
    feed_err_t       err;
    feed_catalog_t  *cat;

    rc = feed_unit_load(text, &cat, &err);

    if (feed_unit_check(rc == FEED_OK, file, fline,
                        "load failed on line %lu: %s", err.line, err.msg))
    {
        feed_unit_check(feed_catalog_count(cat) == nclips, file, fline,
                        "loaded %u clips, want %u", feed_catalog_count(cat),
                        nclips);
    }

    feed_catalog_free(cat);
}


static void
load_fails(const char *file, int fline, const char *text, unsigned long line,
    const char *needle)
{
    int              rc;
    feed_err_t       err;
    feed_catalog_t  *cat;

    rc = feed_unit_load(text, &cat, &err);

    if (feed_unit_check(rc == FEED_ERROR, file, fline,
                        "%s%s%sload succeeded, want an error saying \"%s\"",
                        load_case ? "[" : "", load_case ? load_case : "",
                        load_case ? "] " : "", needle))
    {
        feed_unit_check(err.line == line, file, fline,
                        "error on line %lu, want line %lu: %s", err.line,
                        line, err.msg);
        feed_unit_check(strstr(err.msg, needle) != NULL, file, fline,
                        "error \"%s\" does not say \"%s\"", err.msg, needle);
    }

    feed_catalog_free(cat);
}


/* each case edits line 2 of a two-line catalog and must fail there */

static void
edit_cases_fail(const char *file, int fline, const char *base,
    const edit_case_t *cases, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        load_case = cases[i].to;
        load_fails(file, fline,
                   lines(clip("a"), edit(base, cases[i].from, cases[i].to),
                         NULL),
                   2, cases[i].needle);
    }

    load_case = NULL;
}


#define EDIT_CASES_FAIL(base, cases)                                          \
    edit_cases_fail(__FILE__, __LINE__, base, cases,                          \
                    sizeof(cases) / sizeof(cases[0]))


static uint32_t
find(const feed_catalog_t *cat, const char *id)
{
    return feed_catalog_find(cat, id, strlen(id));
}


/* a valid catalog: every accessor returns what the line said */

static void
test_catalog_valid(void)
{
    int                 rc;
    uint32_t            fox1, fox0, duet1, duet2;
    feed_err_t          err;
    const float        *emb;
    feed_catalog_t     *cat;
    const feed_clip_t  *c;
    feed_rendition_t    r;

    rc = feed_unit_load(lines(
        "{\"id\":\"fox-001\",\"creator\":\"ana\",\"sound\":\"lofi-1\","
        "\"created\":1764100000,\"duration\":7.0,"
        "\"caption\":\"Fox at dawn \\u00e9\",\"tags\":[\"nature\",\"animals\"],"
        "\"embedding\":[0.5,-0.25,0.125,0,1,-1,0.75,2],"
        "\"renditions\":[{\"name\":\"360p\",\"bandwidth\":600000,"
        "\"resolution\":\"360x640\",\"codecs\":\"avc1.64001e,mp4a.40.2\","
        "\"segments\":[1.0,2.0,2.5,1.466633,0.033367]},"
        "{\"name\":\"540p\",\"bandwidth\":1200000,\"resolution\":\"540x960\","
        "\"codecs\":\"avc1.64001f,mp4a.40.2\",\"segments\":[1,2,2,2]}],"
        "\"lineage\":{\"kind\":\"stitch\",\"parent\":\"fox-000\","
        "\"parent_segments\":2}}",
        "",
        "{\"id\":\"fox-000\",\"creator\":\"bo.b\",\"sound\":\"rain_2\","
        "\"created\":1,\"duration\":4.5,\"caption\":\"\",\"tags\":[],"
        "\"embedding\":[1,2,3,4,5,6,7,8],"
        "\"renditions\":[{\"name\":\"720p\",\"bandwidth\":2500000,"
        "\"resolution\":\"720x1280\",\"codecs\":\"hvc1.1.6.L93.B0\","
        "\"segments\":[2.0,2.5]}]}",
        "{\"id\":\"duet-1\",\"creator\":\"ana\",\"sound\":\"lofi-1\","
        "\"created\":4102444800,\"duration\":2,\"caption\":\"duet\","
        "\"tags\":[\"animals\"],\"embedding\":[0,0,0,0,0,0,0,-0.5],"
        "\"renditions\":[{\"name\":\"360p\",\"bandwidth\":600000,"
        "\"resolution\":\"360x640\",\"codecs\":\"avc1.64001e,mp4a.40.2\","
        "\"segments\":[0.033367,1.966633]}],"
        "\"lineage\":{\"kind\":\"duet\",\"parent\":\"fox-001\","
        "\"offset\":1.5,\"layout\":\"top\"}}",
        "{\"id\":\"duet-2\",\"creator\":\"cy\",\"sound\":\"s\","
        "\"created\":1764100001,\"duration\":1,\"caption\":\"x\","
        "\"tags\":[\"t\"],\"embedding\":[0,0,0,0,0,0,0,0],"
        "\"renditions\":[{\"name\":\"r\",\"bandwidth\":1000,"
        "\"resolution\":\"16x16\",\"codecs\":\"c\",\"segments\":[1]}],"
        "\"lineage\":{\"kind\":\"duet\",\"parent\":\"fox-000\"}}",
        NULL), &cat, &err);

    if (!feed_unit_check(rc == FEED_OK, __FILE__, __LINE__,
                         "load failed on line %lu: %s", err.line, err.msg))
    {
        feed_catalog_free(cat);
        return;
    }

    CHECK_UINT(feed_catalog_count(cat), 4);
    CHECK_UINT(feed_catalog_dim(cat), 8);

    fox1 = find(cat, "fox-001");
    fox0 = find(cat, "fox-000");
    duet1 = find(cat, "duet-1");
    duet2 = find(cat, "duet-2");

    CHECK(fox1 < 4 && fox0 < 4 && duet1 < 4 && duet2 < 4);
    CHECK(fox1 != fox0 && fox1 != duet1 && fox1 != duet2);
    CHECK(fox0 != duet1 && fox0 != duet2 && duet1 != duet2);
    CHECK(feed_catalog_clip(cat, 4) == NULL);
    CHECK(feed_catalog_clip(cat, FEED_NONE) == NULL);

    /* fox-001: a stitch of fox-000, which comes later in the file */

    c = feed_catalog_clip(cat, fox1);
    CHECK_STR(feed_clip_id(cat, c), "fox-001");
    CHECK_STR(feed_clip_creator(cat, c), "ana");
    CHECK_STR(feed_clip_sound(cat, c), "lofi-1");
    CHECK_STR(feed_clip_caption(cat, c), "Fox at dawn \xc3\xa9");
    CHECK_UINT(c->created, 1764100000);
    CHECK_UINT(c->duration_ms, 7000);
    CHECK_UINT(feed_clip_ntags(cat, c), 2);
    CHECK_STR(feed_clip_tag(cat, c, 0), "nature");
    CHECK_STR(feed_clip_tag(cat, c, 1), "animals");

    emb = feed_clip_embedding(cat, c);
    CHECK(emb[0] == 0.5f && emb[1] == -0.25f && emb[2] == 0.125f);
    CHECK(emb[3] == 0.0f && emb[4] == 1.0f && emb[5] == -1.0f);
    CHECK(emb[6] == 0.75f && emb[7] == 2.0f);

    CHECK_UINT(feed_clip_nrenditions(cat, c), 2);

    feed_clip_rendition(cat, c, 0, &r);
    CHECK_MEM(r.name, r.name_len, "360p");
    CHECK_STR(r.codecs, "avc1.64001e,mp4a.40.2");
    CHECK_STR(r.resolution, "360x640");
    CHECK_UINT(r.bandwidth, 600000);
    CHECK_UINT(r.width, 360);
    CHECK_UINT(r.height, 640);
    CHECK_UINT(r.nsegments, 5);

    if (r.nsegments == 5) {
        CHECK_UINT(r.segments_us[0], 1000000);
        CHECK_UINT(r.segments_us[1], 2000000);
        CHECK_UINT(r.segments_us[2], 2500000);
        CHECK_UINT(r.segments_us[3], 1466633);
        CHECK_UINT(r.segments_us[4], 33367);
    }

    feed_clip_rendition(cat, c, 1, &r);
    CHECK_MEM(r.name, r.name_len, "540p");
    CHECK_STR(r.codecs, "avc1.64001f,mp4a.40.2");
    CHECK_STR(r.resolution, "540x960");
    CHECK_UINT(r.bandwidth, 1200000);
    CHECK_UINT(r.width, 540);
    CHECK_UINT(r.height, 960);
    CHECK_UINT(r.nsegments, 4);

    if (r.nsegments == 4) {
        CHECK_UINT(r.segments_us[0], 1000000);
        CHECK_UINT(r.segments_us[3], 2000000);
    }

    CHECK_INT(feed_clip_find_rendition(cat, c, "360p", 4), 0);
    CHECK_INT(feed_clip_find_rendition(cat, c, "540p", 4), 1);
    CHECK_INT(feed_clip_find_rendition(cat, c, "540pX", 4), 1);
    CHECK_INT(feed_clip_find_rendition(cat, c, "360", 3), -1);
    CHECK_INT(feed_clip_find_rendition(cat, c, "360px", 5), -1);
    CHECK_INT(feed_clip_find_rendition(cat, c, "720p", 4), -1);
    CHECK_INT(feed_clip_find_rendition(cat, c, "", 0), -1);

    CHECK_UINT(c->lineage, FEED_LINEAGE_STITCH);
    CHECK_UINT(c->parent, fox0);
    CHECK_UINT(c->parent_segments, 2);

    /* fox-000: empty caption, no tags, one rendition, no lineage */

    c = feed_catalog_clip(cat, fox0);
    CHECK_STR(feed_clip_id(cat, c), "fox-000");
    CHECK_STR(feed_clip_creator(cat, c), "bo.b");
    CHECK_STR(feed_clip_sound(cat, c), "rain_2");
    CHECK_STR(feed_clip_caption(cat, c), "");
    CHECK_UINT(c->created, 1);
    CHECK_UINT(c->duration_ms, 4500);
    CHECK_UINT(feed_clip_ntags(cat, c), 0);
    CHECK(feed_clip_embedding(cat, c)[0] == 1.0f);
    CHECK(feed_clip_embedding(cat, c)[7] == 8.0f);
    CHECK_UINT(feed_clip_nrenditions(cat, c), 1);

    feed_clip_rendition(cat, c, 0, &r);
    CHECK_MEM(r.name, r.name_len, "720p");
    CHECK_STR(r.codecs, "hvc1.1.6.L93.B0");
    CHECK_STR(r.resolution, "720x1280");
    CHECK_UINT(r.bandwidth, 2500000);
    CHECK_UINT(r.width, 720);
    CHECK_UINT(r.height, 1280);
    CHECK_UINT(r.nsegments, 2);

    if (r.nsegments == 2) {
        CHECK_UINT(r.segments_us[0], 2000000);
        CHECK_UINT(r.segments_us[1], 2500000);
    }

    CHECK_UINT(c->lineage, FEED_LINEAGE_NONE);
    CHECK_UINT(c->parent, FEED_NONE);

    /* duet-1: a duet of an earlier clip, with offset and layout */

    c = feed_catalog_clip(cat, duet1);
    CHECK_STR(feed_clip_id(cat, c), "duet-1");
    CHECK_STR(feed_clip_caption(cat, c), "duet");
    CHECK_UINT(c->created, 4102444800u);
    CHECK_UINT(c->duration_ms, 2000);
    CHECK_UINT(feed_clip_ntags(cat, c), 1);
    CHECK_STR(feed_clip_tag(cat, c, 0), "animals");
    CHECK(feed_clip_embedding(cat, c)[7] == -0.5f);
    CHECK_UINT(c->lineage, FEED_LINEAGE_DUET);
    CHECK_UINT(c->parent, fox1);
    CHECK_UINT(c->offset_ms, 1500);
    CHECK_UINT(c->layout, FEED_LAYOUT_TOP);

    feed_clip_rendition(cat, c, 0, &r);
    CHECK_MEM(r.name, r.name_len, "360p");
    CHECK_UINT(r.nsegments, 2);

    if (r.nsegments == 2) {
        CHECK_UINT(r.segments_us[0], 33367);
        CHECK_UINT(r.segments_us[1], 1966633);
    }

    /* duet-2: a duet with the defaults */

    c = feed_catalog_clip(cat, duet2);
    CHECK_STR(feed_clip_creator(cat, c), "cy");
    CHECK_STR(feed_clip_sound(cat, c), "s");
    CHECK_UINT(c->lineage, FEED_LINEAGE_DUET);
    CHECK_UINT(c->parent, fox0);
    CHECK_UINT(c->offset_ms, 0);
    CHECK_UINT(c->layout, FEED_LAYOUT_SIDE);

    feed_clip_rendition(cat, c, 0, &r);
    CHECK_UINT(r.bandwidth, 1000);
    CHECK_STR(r.resolution, "16x16");
    CHECK_UINT(r.width, 16);
    CHECK_UINT(r.height, 16);

    feed_catalog_free(cat);
}


/*
 * The pool's strings know their lengths, and whether JSON must escape
 * them: quotes, backslashes, control characters; not UTF-8.
 */

static void
test_catalog_str_len(void)
{
    int                 rc, esc;
    size_t              i;
    uint32_t            k;
    feed_err_t          err;
    feed_catalog_t     *cat;
    const char         *s;
    const feed_clip_t  *c;

    rc = feed_unit_load(lines(
        edit(edit(clip("plain"), "Fox at dawn", "caf\u00e9 \u00e0 deux"),
             "\"animals\"", "\"a\\\"b\""),
        edit(edit(clip("qx"), "Fox at dawn", "line\\none \\\"q\\\""),
             "\"nature\"", "\"back\\\\slash\""),
        edit(clip("empty"), "Fox at dawn", ""),
        NULL), &cat, &err);

    if (!CHECK(rc == FEED_OK)) {
        printf("     %s\n", err.msg);
        feed_catalog_free(cat);
        return;
    }

    for (k = 0; k < feed_catalog_count(cat); k++) {
        c = feed_catalog_clip(cat, k);

        for (i = 0; i < 6; i++) {
            s = i == 0 ? feed_clip_id(cat, c)
                : i == 1 ? feed_clip_caption(cat, c)
                : i == 2 ? feed_clip_creator(cat, c)
                : i == 3 ? feed_clip_sound(cat, c)
                : feed_clip_tag(cat, c, (uint32_t) (i - 4));

            CHECK_UINT(feed_catalog_str_len(cat, s, &esc), strlen(s));
            CHECK_INT(esc, strpbrk(s, "\"\\\n") != NULL);
        }
    }

    c = feed_catalog_clip(cat, find(cat, "plain"));
    CHECK(feed_catalog_str_len(cat, feed_clip_caption(cat, c), &esc) == 13
          && esc == 0);
    CHECK(feed_catalog_str_len(cat, feed_clip_tag(cat, c, 1), &esc) == 3
          && esc == 1);

    c = feed_catalog_clip(cat, find(cat, "qx"));
    CHECK(feed_catalog_str_len(cat, feed_clip_id(cat, c), &esc) == 2
          && esc == 0);
    CHECK(feed_catalog_str_len(cat, feed_clip_caption(cat, c), &esc) == 12
          && esc == 1);
    CHECK(feed_catalog_str_len(cat, feed_clip_tag(cat, c, 0), &esc) == 10
          && esc == 1);
    CHECK(feed_catalog_str_len(cat, feed_clip_sound(cat, c), &esc) == 6
          && esc == 0);

    c = feed_catalog_clip(cat, find(cat, "empty"));
    CHECK(feed_catalog_str_len(cat, feed_clip_caption(cat, c), &esc) == 0
          && esc == 0);

    feed_catalog_free(cat);
}


/* lookups match whole ids only, and do not need a NUL-terminated key */

static void
test_catalog_find(void)
{
    int              rc;
    uint32_t         a;
    feed_err_t       err;
    feed_catalog_t  *cat;

    cat = feed_catalog_new();
    CHECK(cat != NULL);
    CHECK_UINT(feed_catalog_find(cat, "a", 1), FEED_NONE);
    CHECK_UINT(feed_catalog_count(cat), 0);
    feed_catalog_free(cat);

    rc = feed_unit_load(lines(clip("fox-001"), clip("fox-0011"), NULL),
                        &cat, &err);
    CHECK(rc == FEED_OK);

    a = find(cat, "fox-001");
    CHECK(a != FEED_NONE);
    CHECK(find(cat, "fox-0011") != FEED_NONE);
    CHECK(find(cat, "fox-0011") != a);
    CHECK_UINT(feed_catalog_find(cat, "fox-001/360p", 7), a);
    CHECK_UINT(find(cat, "fox-00"), FEED_NONE);
    CHECK_UINT(find(cat, "fox-0012"), FEED_NONE);
    CHECK_UINT(find(cat, "FOX-001"), FEED_NONE);
    CHECK_UINT(find(cat, ""), FEED_NONE);

    feed_catalog_free(cat);
}


/*
 * Many clips: the hash tables grow and every id is still found.  Every
 * 7th clip is a duet of an earlier one, every 11th of a later one.
 */

static void
test_catalog_many(void)
{
    int              rc;
    char             id[32], *text, *p;
    size_t           cap;
    uint32_t         i, n, idx, misses;
    feed_err_t       err;
    const char      *line;
    feed_catalog_t  *cat;

    n = 5000;
    cap = (size_t) n * 1024;
    text = feed_unit_alloc(cap);
    p = text;

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "c%u", i);

        if (i && i % 7 == 0) {
            line = clip_lin(id, fmt("{\"kind\":\"duet\",\"parent\":\"c%u\"}",
                                    i / 2));

        } else if (i % 11 == 0 && i + 3 < n) {
            line = clip_lin(id, fmt("{\"kind\":\"stitch\",\"parent\":"
                                    "\"c%u\",\"parent_segments\":4}", i + 3));

        } else {
            line = clip(id);
        }

        p += snprintf(p, cap - (size_t) (p - text), "%s\n", line);
    }

    rc = feed_unit_load(text, &cat, &err);

    if (!feed_unit_check(rc == FEED_OK, __FILE__, __LINE__,
                         "load failed on line %lu: %s", err.line, err.msg))
    {
        feed_catalog_free(cat);
        return;
    }

    CHECK_UINT(feed_catalog_count(cat), n);

    misses = 0;

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "c%u", i);
        idx = find(cat, id);

        if (idx == FEED_NONE
            || strcmp(feed_clip_id(cat, feed_catalog_clip(cat, idx)), id)
               != 0)
        {
            misses++;
        }
    }

    CHECK_UINT(misses, 0);

    idx = find(cat, "c14");
    CHECK(idx != FEED_NONE);

    if (idx != FEED_NONE) {
        CHECK_UINT(feed_catalog_clip(cat, idx)->parent, find(cat, "c7"));
    }

    idx = find(cat, "c22");
    CHECK(idx != FEED_NONE);

    if (idx != FEED_NONE) {
        CHECK_UINT(feed_catalog_clip(cat, idx)->parent, find(cat, "c25"));
    }

    CHECK_UINT(find(cat, "c5000"), FEED_NONE);

    feed_catalog_free(cat);
}


/* CRLF line endings, blank CRLF lines and no newline at the end */

static void
test_catalog_crlf(void)
{
    int              rc;
    char            *text;
    uint32_t         b;
    feed_err_t       err;
    feed_catalog_t  *cat;
    feed_rendition_t r;

    text = fmt("%s\r\n\r\n%s\r\n%s", clip("a"), clip_lin("b", DUET("c")),
               clip("c"));

    rc = feed_unit_load(text, &cat, &err);

    if (feed_unit_check(rc == FEED_OK, __FILE__, __LINE__,
                        "load failed on line %lu: %s", err.line, err.msg))
    {
        CHECK_UINT(feed_catalog_count(cat), 3);
        CHECK(find(cat, "c") != FEED_NONE);

        b = find(cat, "b");
        CHECK(b != FEED_NONE);

        if (b != FEED_NONE) {
            CHECK_UINT(feed_catalog_clip(cat, b)->parent, find(cat, "c"));
            feed_clip_rendition(cat, feed_catalog_clip(cat, b), 1, &r);
            CHECK_MEM(r.name, r.name_len, "540p");
        }
    }

    feed_catalog_free(cat);

    /* line numbers count CRLF lines and blank lines */

    CHECK_LOAD_FAILS(fmt("%s\r\n\r\n\r\n%s\r\n", clip("a"), clip("a")), 4,
                     "duplicate id \"a\"");
}


static void
test_catalog_blank_lines(void)
{
    CHECK_LOADS("", 0);
    CHECK_LOADS("\n", 0);
    CHECK_LOADS("\n\n\r\n\n", 0);
    CHECK_LOADS(lines("", clip("a"), "", "", clip("b"), "", NULL), 2);

    /* line numbers count blank lines */

    CHECK_LOAD_FAILS(lines("", clip("a"), "", "{", NULL), 4, "bad JSON");
}


static void
test_catalog_missing_file(void)
{
    feed_err_t       err;
    feed_catalog_t  *cat;

    cat = feed_catalog_new();
    CHECK(cat != NULL);

    CHECK(feed_catalog_load(cat, "/nonexistent/feed/catalog.jsonl", &err)
          == FEED_ERROR);
    CHECK(strstr(err.msg, "cannot open") != NULL);
    CHECK_UINT(err.line, 0);

    feed_catalog_free(cat);
}


static void
test_catalog_bad_json(void)
{
    char        *text;
    size_t       n;
    const char  *good, *path;
    feed_err_t   err;
    feed_catalog_t  *cat;

    good = clip("b");

    CHECK_LOAD_FAILS(lines(clip("a"), "{\"id\":", NULL), 2, "bad JSON");
    CHECK_LOAD_FAILS(lines(clip("a"), "{", NULL), 2, "bad JSON");
    CHECK_LOAD_FAILS(lines(clip("a"), "}", NULL), 2, "bad JSON");
    CHECK_LOAD_FAILS(lines(clip("a"), "id=b", NULL), 2, "bad JSON");
    CHECK_LOAD_FAILS(lines("{\"id\":\"a\",}", NULL), 1, "bad JSON");

    /* two objects on one line, or trailing garbage */

    CHECK_LOAD_FAILS(fmt("%s%s\n", good, good), 1, "bad JSON");
    CHECK_LOAD_FAILS(lines(clip("a"), edit(good, "]}]}", "]}]}x"), NULL), 2,
                     "bad JSON");

    /* a scalar at the top level */

    CHECK_LOAD_FAILS(lines(clip("a"), "42", NULL), 2, "bad JSON");
    CHECK_LOAD_FAILS(lines(clip("a"), "\"b\"", NULL), 2, "bad JSON");

    /* invalid UTF-8 in a string */

    CHECK_LOAD_FAILS(lines(clip("a"), edit(good, "Fox at dawn",
                                           "Fox \xc3\x28 dawn"), NULL),
                     2, "bad JSON");
    CHECK_LOAD_FAILS(lines(clip("a"), edit(good, "Fox at dawn",
                                           "Fox \xff dawn"), NULL),
                     2, "bad JSON");

    /* a raw NUL byte inside the line */

    text = fmt("%s\n%s\n", clip("a"), good);
    n = strlen(text);
    text[strlen(clip("a")) + 1 + 20] = '\0';

    path = feed_unit_write("nul.jsonl", text, n);
    cat = feed_catalog_new();
    CHECK(feed_catalog_load(cat, path, &err) == FEED_ERROR);
    CHECK_UINT(err.line, 2);
    CHECK(strstr(err.msg, "bad JSON") != NULL);
    feed_catalog_free(cat);

    /* and right after the object */

    text = fmt("%s\n%s_\n", clip("a"), good);
    n = strlen(text);
    text[n - 2] = '\0';

    path = feed_unit_write("nul.jsonl", text, n);
    cat = feed_catalog_new();
    CHECK(feed_catalog_load(cat, path, &err) == FEED_ERROR);
    CHECK_UINT(err.line, 2);
    feed_catalog_free(cat);
}


static void
test_catalog_not_object(void)
{
    CHECK_LOAD_FAILS(lines(clip("a"), "[1,2]", NULL), 2,
                     "must be a JSON object");
    CHECK_LOAD_FAILS(lines(clip("a"), "[]", NULL), 2,
                     "must be a JSON object");
    CHECK_LOAD_FAILS(lines("[" LADDER "]", NULL), 1,
                     "must be a JSON object");
}


static void
test_catalog_missing_fields(void)
{
    static const edit_case_t  cases[] = {
        { "\"id\":\"b\",", "", "missing field \"id\"" },
        { "\"creator\":\"ana\",", "", "missing field \"creator\"" },
        { "\"sound\":\"lofi-1\",", "", "missing field \"sound\"" },
        { "\"created\":1764100000,", "", "missing field \"created\"" },
        { "\"duration\":7.0,", "", "missing field \"duration\"" },
        { "\"caption\":\"Fox at dawn\",", "", "missing field \"caption\"" },
        { "\"tags\":[\"nature\",\"animals\"],", "",
          "missing field \"tags\"" },
        { "\"embedding\":" EMBEDDING ",", "", "missing field \"embedding\"" },
        { ",\"renditions\":" LADDER, "", "missing field \"renditions\"" },
        { "{\"id\"", "{\"ID\"", "missing field \"id\"" },
    };

    EDIT_CASES_FAIL(clip("b"), cases);

    CHECK_LOAD_FAILS(lines(clip("a"), "{}", NULL), 2,
                     "missing field \"id\"");
}


static void
test_catalog_missing_rendition_fields(void)
{
    static const edit_case_t  cases[] = {
        { "\"name\":\"540p\",", "", "rendition #2: missing field \"name\"" },
        { "\"bandwidth\":1200000,", "",
          "rendition #2: missing field \"bandwidth\"" },
        { "\"resolution\":\"540x960\",", "",
          "rendition #2: missing field \"resolution\"" },
        { "\"codecs\":\"avc1.64001f,mp4a.40.2\",", "",
          "rendition #2: missing field \"codecs\"" },
        { ",\"segments\":[1.0,2.0,2.0,2.0]}]", "}]",
          "rendition \"540p\": missing field \"segments\"" },
        { "\"name\":\"360p\",", "", "rendition #1: missing field \"name\"" },
    };

    EDIT_CASES_FAIL(clip("b"), cases);
}


static void
test_catalog_missing_lineage_fields(void)
{
    CHECK_LOAD_FAILS(lines(clip("a"),
                           clip_lin("b", "{\"parent\":\"a\"}"), NULL),
                     2, "\"lineage\" needs \"kind\"");
    CHECK_LOAD_FAILS(lines(clip("a"),
                           clip_lin("b", "{\"kind\":\"duet\"}"), NULL),
                     2, "\"lineage\" needs \"parent\"");
    CHECK_LOAD_FAILS(lines(clip("a"),
                           clip_lin("b", "{\"kind\":\"stitch\","
                                         "\"parent\":\"a\"}"), NULL),
                     2, "a stitch needs \"parent_segments\"");
    CHECK_LOAD_FAILS(lines(clip("a"), clip_lin("b", "{}"), NULL),
                     2, "\"lineage\" needs \"kind\"");

    /* null is no lineage */

    CHECK_LOADS(lines(clip("a"), clip_lin("b", "null"), NULL), 2);
}


static void
test_catalog_wrong_types(void)
{
    static const edit_case_t  cases[] = {
        { "\"id\":\"b\"", "\"id\":2", "\"id\" must be a string" },
        { "\"creator\":\"ana\"", "\"creator\":[\"ana\"]",
          "\"creator\" must be a string" },
        { "\"sound\":\"lofi-1\"", "\"sound\":null",
          "\"sound\" must be a string" },
        { "\"created\":1764100000", "\"created\":\"1764100000\"",
          "\"created\" must be an integer" },
        { "\"created\":1764100000", "\"created\":1764100000.0",
          "\"created\" must be an integer" },
        { "\"created\":1764100000", "\"created\":1e9",
          "\"created\" must be an integer" },
        { "\"duration\":7.0", "\"duration\":\"7\"",
          "\"duration\" must be a number" },
        { "\"duration\":7.0", "\"duration\":true",
          "\"duration\" must be a number" },
        { "\"caption\":\"Fox at dawn\"", "\"caption\":7",
          "\"caption\" must be a string" },
        { "\"tags\":[\"nature\",\"animals\"]", "\"tags\":\"nature\"",
          "\"tags\" must be an array of strings" },
        { "\"tags\":[\"nature\",\"animals\"]", "\"tags\":{}",
          "\"tags\" must be an array of strings" },
        { "[\"nature\",\"animals\"]", "[\"nature\",7]", "bad tag #2" },
        { "[\"nature\",\"animals\"]", "[[\"nature\"]]", "bad tag #1" },
        { EMBEDDING, "{\"x\":1}", "\"embedding\" must be an array" },
        { EMBEDDING, "0.5", "\"embedding\" must be an array" },
        { "[0.5,", "[\"0.5\",", "\"embedding\" must be an array of numbers" },
        { "[0.5,", "[null,", "\"embedding\" must be an array of numbers" },
        { LADDER, "{}", "\"renditions\" must be an array" },
        { LADDER, "[7]", "rendition #1 must be an object" },
        { LADDER, "[[]]", "rendition #1 must be an object" },
        { "\"bandwidth\":600000", "\"bandwidth\":600000.0",
          "rendition #1: \"bandwidth\" must be an integer" },
        { "\"bandwidth\":1200000", "\"bandwidth\":\"1200000\"",
          "rendition #2: \"bandwidth\" must be an integer" },
        { "\"resolution\":\"360x640\"", "\"resolution\":[360,640]",
          "rendition #1: \"resolution\" must be a string" },
        { "\"name\":\"360p\"", "\"name\":360",
          "rendition #1: \"name\" must be a string" },
        { "\"codecs\":\"avc1.64001e,mp4a.40.2\"", "\"codecs\":1",
          "rendition #1: \"codecs\" must be a string" },
        { "\"segments\":[1.0,2.0,2.0,2.0]}]", "\"segments\":\"1,2,2,2\"}]",
          "rendition \"540p\": \"segments\" must be an array" },
        { "\"segments\":[1.0,2.0,2.0,2.0]}]",
          "\"segments\":[1.0,\"2.0\",2.0,2.0]}]",
          "rendition \"540p\": absurd segment" },
        { "\"segments\":[1.0,2.0,2.0,2.0]}]",
          "\"segments\":[1.0,2.0,null,2.0]}]",
          "rendition \"540p\": absurd segment" },
    };

    EDIT_CASES_FAIL(clip("b"), cases);
}


static void
test_catalog_wrong_lineage_types(void)
{
    static const struct {
        const char  *lineage;
        const char  *needle;
    } cases[] = {
        { "\"a\"", "\"lineage\" must be an object" },
        { "[\"duet\",\"a\"]", "\"lineage\" must be an object" },
        { "{\"kind\":\"clone\",\"parent\":\"a\"}",
          "unknown lineage \"kind\" \"clone\"" },
        { "{\"kind\":\"Duet\",\"parent\":\"a\"}", "unknown lineage \"kind\"" },
        { "{\"kind\":7,\"parent\":\"a\"}", "\"lineage\" needs \"kind\"" },
        { "{\"kind\":\"duet\",\"parent\":7}", "\"lineage\" needs \"parent\"" },
        { "{\"kind\":\"stitch\",\"parent\":\"a\",\"parent_segments\":\"2\"}",
          "a stitch needs \"parent_segments\"" },
        { "{\"kind\":\"stitch\",\"parent\":\"a\",\"parent_segments\":2.0}",
          "a stitch needs \"parent_segments\"" },
        { "{\"kind\":\"stitch\",\"parent\":\"a\",\"parent_segments\":0}",
          "a stitch needs \"parent_segments\"" },
        { "{\"kind\":\"stitch\",\"parent\":\"a\",\"parent_segments\":-1}",
          "a stitch needs \"parent_segments\"" },
        { "{\"kind\":\"stitch\",\"parent\":\"a\","
          "\"parent_segments\":10001}",
          "a stitch needs \"parent_segments\"" },
        { "{\"kind\":\"duet\",\"parent\":\"a\",\"offset\":\"1\"}",
          "absurd duet \"offset\"" },
        { "{\"kind\":\"duet\",\"parent\":\"a\",\"offset\":-0.001}",
          "absurd duet \"offset\"" },
        { "{\"kind\":\"duet\",\"parent\":\"a\",\"offset\":3600.5}",
          "absurd duet \"offset\"" },
        { "{\"kind\":\"duet\",\"parent\":\"a\",\"offset\":null}",
          "absurd duet \"offset\"" },
        { "{\"kind\":\"duet\",\"parent\":\"a\",\"layout\":\"diagonal\"}",
          "duet \"layout\" must be side or top" },
        { "{\"kind\":\"duet\",\"parent\":\"a\",\"layout\":1}",
          "duet \"layout\" must be side or top" },
    };

    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        load_case = cases[i].lineage;
        CHECK_LOAD_FAILS(lines(clip("a"), clip_lin("b", cases[i].lineage),
                               NULL),
                         2, cases[i].needle);
    }

    load_case = NULL;

    CHECK_LOADS(lines(clip("a"),
                      clip_lin("b", "{\"kind\":\"duet\",\"parent\":\"a\","
                                    "\"offset\":0,\"layout\":\"side\"}"),
                      clip_lin("c", "{\"kind\":\"duet\",\"parent\":\"a\","
                                    "\"offset\":3600}"),
                      NULL), 3);
}


static void
test_catalog_duplicate_id(void)
{
    CHECK_LOAD_FAILS(lines(clip("a"), clip("b"), clip("a"), NULL), 3,
                     "duplicate id \"a\"");

    /* ids are case-sensitive */

    CHECK_LOADS(lines(clip("a"), clip("A"), NULL), 2);
}


static void
test_catalog_unknown_parent(void)
{
    /* reported on the line that names it, though found at the end */

    CHECK_LOAD_FAILS(lines(clip("a"),
                           clip_lin("b", "{\"kind\":\"stitch\","
                                         "\"parent\":\"ghost\","
                                         "\"parent_segments\":1}"),
                           clip("c"), NULL),
                     2, "unknown lineage parent \"ghost\"");

    CHECK_LOAD_FAILS(lines(clip_lin("b", "{\"kind\":\"duet\","
                                         "\"parent\":\"a-\"}"),
                           clip("a"), NULL),
                     1, "unknown lineage parent \"a-\"");
}


static void
test_catalog_self_parent(void)
{
    CHECK_LOAD_FAILS(lines(clip("a"),
                           clip_lin("b", "{\"kind\":\"duet\","
                                         "\"parent\":\"b\"}"), NULL),
                     2, "its own lineage parent");
    CHECK_LOAD_FAILS(lines(clip("a"),
                           clip_lin("b", "{\"kind\":\"stitch\","
                                         "\"parent\":\"b\","
                                         "\"parent_segments\":1}"), NULL),
                     2, "its own lineage parent");
}


static void
load_fails_loop(const char *file, int fline, const char *text,
    unsigned long first, unsigned long last)
{
    int              rc;
    feed_err_t       err;
    feed_catalog_t  *cat;

    rc = feed_unit_load(text, &cat, &err);

    if (feed_unit_check(rc == FEED_ERROR, file, fline,
                        "a lineage loop loaded"))
    {
        feed_unit_check(err.line >= first && err.line <= last, file, fline,
                        "error on line %lu, want a line of the loop, "
                        "%lu to %lu: %s", err.line, first, last, err.msg);
        feed_unit_check(strstr(err.msg, "lineage loop") != NULL, file,
                        fline, "error \"%s\" does not say \"lineage loop\"",
                        err.msg);
    }

    feed_catalog_free(cat);
}


static void
test_catalog_lineage_loop(void)
{
    int              rc;
    feed_err_t       err;
    feed_catalog_t  *cat;

    /* a -> b forward, b -> a backward */

    load_fails_loop(__FILE__, __LINE__,
                    lines(clip_lin("a", DUET("b")), clip_lin("b", DUET("a")),
                          NULL), 1, 2);

    /* a three-clip loop after an unrelated clip, only forward refs */

    load_fails_loop(__FILE__, __LINE__,
                    lines(clip("root"), clip_lin("a", DUET("b")),
                          clip_lin("b", DUET("c")), clip_lin("c", DUET("a")),
                          NULL), 2, 4);

    /* a clip hanging off a loop, named before it */

    load_fails_loop(__FILE__, __LINE__,
                    lines(clip_lin("x", DUET("a")), clip_lin("a", DUET("b")),
                          clip_lin("b", DUET("a")), NULL), 1, 3);

    /* a long chain of forward references is not a loop */

    rc = feed_unit_load(lines(clip_lin("a", DUET("b")),
                              clip_lin("b", DUET("c")),
                              clip_lin("c", DUET("d")),
                              clip_lin("e", DUET("d")),
                              clip("d"), NULL), &cat, &err);

    if (feed_unit_check(rc == FEED_OK, __FILE__, __LINE__,
                        "load failed on line %lu: %s", err.line, err.msg))
    {
        CHECK_UINT(feed_catalog_clip(cat, find(cat, "a"))->parent,
                   find(cat, "b"));
        CHECK_UINT(feed_catalog_clip(cat, find(cat, "b"))->parent,
                   find(cat, "c"));
        CHECK_UINT(feed_catalog_clip(cat, find(cat, "c"))->parent,
                   find(cat, "d"));
        CHECK_UINT(feed_catalog_clip(cat, find(cat, "e"))->parent,
                   find(cat, "d"));
        CHECK_UINT(feed_catalog_clip(cat, find(cat, "d"))->parent,
                   FEED_NONE);
    }

    feed_catalog_free(cat);
}


static void
test_catalog_parent_segments(void)
{
    const char  *uneven;

    /* the parent has 4 segments in each rendition */

    CHECK_LOADS(lines(clip("p"), clip_lin("s", STITCH("p", 4)), NULL), 2);
    CHECK_LOADS(lines(clip_lin("s", STITCH("p", 4)), clip("p"), NULL), 2);
    CHECK_LOADS(lines(clip("p"), clip_lin("s", STITCH("p", 1)), NULL), 2);

    CHECK_LOAD_FAILS(lines(clip("p"), clip_lin("s", STITCH("p", 5)), NULL),
                     2, "\"parent_segments\" 5 is more than the parent's 4 "
                        "segments");

    /* the parent comes later: still reported on the stitch's line */

    CHECK_LOAD_FAILS(lines(clip("x"), clip_lin("s", STITCH("p", 5)),
                           clip("y"), clip("p"), NULL),
                     2, "\"parent_segments\" 5 is more than the parent's 4 "
                        "segments");

    /* renditions with 4 and 3 segments: the stitch must fit both */

    uneven = edit(clip("p"), "\"segments\":[1.0,2.0,2.0,2.0]}]",
                  "\"segments\":[1.0,2.0,4.0]}]");

    CHECK_LOADS(lines(uneven, clip_lin("s", STITCH("p", 3)), NULL), 2);
    CHECK_LOAD_FAILS(lines(uneven, clip_lin("s", STITCH("p", 4)), NULL),
                     2, "more than the parent's 3 segments");
    CHECK_LOAD_FAILS(lines(clip_lin("s", STITCH("p", 4)), uneven, NULL),
                     1, "more than the parent's 3 segments");
}


static void
test_catalog_absurd_created(void)
{
    static const edit_case_t  cases[] = {
        { "1764100000", "0", "absurd \"created\"" },
        { "1764100000", "-1", "absurd \"created\"" },
        { "1764100000", "4102444801", "absurd \"created\"" },
        { "1764100000", "9223372036854775807", "absurd \"created\"" },
    };

    EDIT_CASES_FAIL(clip("b"), cases);

    CHECK_LOADS(lines(edit(clip("a"), "1764100000", "1"),
                      edit(clip("b"), "1764100000", "4102444800"), NULL), 2);
}


static void
test_catalog_absurd_duration(void)
{
    static const edit_case_t  cases[] = {
        { "\"duration\":7.0", "\"duration\":0", "absurd \"duration\"" },
        { "\"duration\":7.0", "\"duration\":-7", "absurd \"duration\"" },
        { "\"duration\":7.0", "\"duration\":-0.0", "absurd \"duration\"" },
        { "\"duration\":7.0", "\"duration\":3600.001",
          "absurd \"duration\"" },
        { "\"duration\":7.0", "\"duration\":1e300", "absurd \"duration\"" },
    };

    EDIT_CASES_FAIL(clip("b"), cases);
}


/* 3600 s in 60 segments of 60 s, 0.05 s in one segment */

static void
test_catalog_boundary_durations(void)
{
    const char  *long_ladder;

    long_ladder =
        "[{\"name\":\"r\",\"bandwidth\":1000,\"resolution\":\"16x16\","
        "\"codecs\":\"c\",\"segments\":SEGS}]";

    CHECK_LOADS(lines(clip_ladder("a", "3600",
                                  edit(long_ladder, "SEGS",
                                       repeat("60", 60))),
                      clip_ladder("b", "0.05",
                                  edit(long_ladder, "SEGS", "[0.05]")),
                      clip_ladder("c", "60",
                                  edit(long_ladder, "SEGS", "[60]")),
                      NULL), 3);
}


static void
test_catalog_absurd_bandwidth(void)
{
    static const edit_case_t  cases[] = {
        { "600000", "999", "rendition \"360p\": absurd \"bandwidth\"" },
        { "600000", "0", "rendition \"360p\": absurd \"bandwidth\"" },
        { "600000", "-600000", "rendition \"360p\": absurd \"bandwidth\"" },
        { "1200000", "1000000001",
          "rendition \"540p\": absurd \"bandwidth\"" },
        { "1200000", "4294967296",
          "rendition \"540p\": absurd \"bandwidth\"" },
    };

    EDIT_CASES_FAIL(clip("b"), cases);

    CHECK_LOADS(lines(edit(edit(clip("a"), "600000", "1000"),
                           "1200000", "1000000000"), NULL), 1);
}


static void
test_catalog_absurd_resolution(void)
{
    static const char  *bad[] = {
        "15x640", "360x15", "8193x640", "360x8193", "0x0", "360", "360x",
        "x640", "x", "", "360X640", "360*640", "360 x640", " 360x640",
        "360x640 ", "-360x640", "+360x640", "360x640x", "360x640x5",
        "360x006400", "99999x640", "4294967312x640", "360x4294967936",
        "3.6x640", "360xx640",
    };

    char        res[64];
    size_t      i;
    uint32_t    idx;
    feed_err_t  err;
    feed_catalog_t    *cat;
    feed_rendition_t   r;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(res, sizeof(res), "\"resolution\":\"%s\"", bad[i]);

        load_case = bad[i];
        CHECK_LOAD_FAILS(lines(clip("a"),
                               edit(clip("b"), "\"resolution\":\"360x640\"",
                                    res), NULL),
                         2, "rendition \"360p\": bad \"resolution\"");
    }

    load_case = NULL;

    /* the limits are accepted; leading zeros are dropped */

    if (feed_unit_load(lines(
            edit(edit(clip("a"), "360x640", "16x8192"), "540x960",
                 "8192x16"),
            edit(edit(clip("b"), "360x640", "0360x0640"), "540x960",
                 "00540x0960"), NULL), &cat, &err)
        != FEED_OK)
    {
        feed_unit_check(0, __FILE__, __LINE__, "load failed on line %lu: %s",
                        err.line, err.msg);
        feed_catalog_free(cat);
        return;
    }

    idx = find(cat, "a");
    feed_clip_rendition(cat, feed_catalog_clip(cat, idx), 0, &r);
    CHECK_STR(r.resolution, "16x8192");
    CHECK_UINT(r.width, 16);
    CHECK_UINT(r.height, 8192);
    feed_clip_rendition(cat, feed_catalog_clip(cat, idx), 1, &r);
    CHECK_STR(r.resolution, "8192x16");

    idx = find(cat, "b");
    feed_clip_rendition(cat, feed_catalog_clip(cat, idx), 0, &r);
    CHECK_STR(r.resolution, "360x640");
    CHECK_UINT(r.width, 360);
    CHECK_UINT(r.height, 640);
    feed_clip_rendition(cat, feed_catalog_clip(cat, idx), 1, &r);
    CHECK_STR(r.resolution, "540x960");

    feed_catalog_free(cat);
}


static void
test_catalog_absurd_segments(void)
{
    static const edit_case_t  cases[] = {
        { "[1.0,2.0,2.0,2.0]}]", "[1.0,2.0,2.0,0]}]",
          "rendition \"540p\": absurd segment" },
        { "[1.0,2.0,2.0,2.0]}]", "[1.0,2.0,2.0,-2.0]}]",
          "rendition \"540p\": absurd segment" },
        { "[1.0,2.0,2.0,2.0]}]", "[1.0,2.0,2.0,60.000001]}]",
          "rendition \"540p\": absurd segment" },
        { "[1.0,2.0,2.0,2.0]}]", "[1.0,2.0,2.0,61]}]",
          "rendition \"540p\": absurd segment" },
        { "[1.0,2.0,2.0,2.0]}]", "[1.0,2.0,2.0,1e300]}]",
          "rendition \"540p\": absurd segment" },
        { "[1.0,2.0,2.0,2.0]}]", "[]}]",
          "rendition \"540p\": \"segments\" must have 1 to 10000" },
    };

    EDIT_CASES_FAIL(clip("b"), cases);
}


static void
test_catalog_segments_sum(void)
{
    const char  *ladder;

    ladder = "[{\"name\":\"r\",\"bandwidth\":1000,\"resolution\":\"16x16\","
             "\"codecs\":\"c\",\"segments\":SEGS}]";

    /* within 0.5 s + 1% of the duration: 100 s allows 1.5 s either way */

    CHECK_LOADS(lines(clip_ladder("a", "100",
                                  edit(ladder, "SEGS", "[50,51.4]")),
                      clip_ladder("b", "100",
                                  edit(ladder, "SEGS", "[48.6,50]")),
                      clip_ladder("c", "1",
                                  edit(ladder, "SEGS", "[0.5,0.5,0.49]")),
                      NULL), 3);

    CHECK_LOAD_FAILS(lines(clip("x"),
                           clip_ladder("a", "100",
                                       edit(ladder, "SEGS", "[50,51.6]")),
                           NULL),
                     2, "rendition \"r\": segments add up to 101.600 s but "
                        "\"duration\" is 100.000 s");
    CHECK_LOAD_FAILS(lines(clip("x"),
                           clip_ladder("a", "100",
                                       edit(ladder, "SEGS", "[48.4,50]")),
                           NULL),
                     2, "segments add up to 98.400 s");

    /* every rendition is checked, not only the first */

    CHECK_LOAD_FAILS(lines(clip("x"),
                           edit(clip("b"), "[1.0,2.0,2.0,2.0]}]",
                                "[1.0,2.0,2.0]}]"), NULL),
                     2, "rendition \"540p\": segments add up to 5.000 s "
                        "but \"duration\" is 7.000 s");
}


static void
test_catalog_embedding(void)
{
    size_t           emb;
    feed_err_t       err;
    feed_catalog_t  *cat;

    /* every clip has the dimension of the first */

    CHECK_LOAD_FAILS(lines(clip("a"),
                           edit(clip("b"), EMBEDDING, "[1,2,3,4,5,6,7]"),
                           NULL),
                     2, "\"embedding\" has 7 numbers, the catalog's clips "
                        "have 8");
    CHECK_LOAD_FAILS(lines(clip("a"), clip("b"),
                           edit(clip("c"), EMBEDDING, "[1,2,3,4,5,6,7,8,9]"),
                           NULL),
                     3, "\"embedding\" has 9 numbers, the catalog's clips "
                        "have 8");

    CHECK_LOAD_FAILS(lines(clip("a"), edit(clip("b"), EMBEDDING, "[]"),
                           NULL),
                     2, "\"embedding\" must have 1 to 64 numbers");
    CHECK_LOAD_FAILS(lines(edit(clip("b"), EMBEDDING, repeat("0.5", 65)),
                           NULL),
                     1, "\"embedding\" must have 1 to 64 numbers");

    CHECK_LOADS(lines(edit(clip("a"), EMBEDDING, repeat("0.5", 64)),
                      edit(clip("b"), EMBEDDING, repeat("-1", 64)), NULL),
                2);
    CHECK_LOADS(lines(edit(clip("a"), EMBEDDING, "[3]"),
                      edit(clip("b"), EMBEDDING, "[-3]"), NULL), 2);

    /* embeddings are reported apart: 4 bytes a number */

    if (feed_unit_load(lines(clip("a"), clip("b"), clip("c"), NULL), &cat,
                       &err)
        == FEED_OK)
    {
        CHECK(feed_catalog_memory(cat, &emb) > 0);
        CHECK_UINT(emb, 3 * 8 * sizeof(float));
        CHECK(feed_catalog_memory(cat, NULL) > 0);

    } else {
        feed_unit_check(0, __FILE__, __LINE__, "load failed: %s", err.msg);
    }

    feed_catalog_free(cat);
}


/* NaN and infinities are not JSON; numbers too big for their field */

static void
test_catalog_nan_huge(void)
{
    static const edit_case_t  cases[] = {
        { "\"duration\":7.0", "\"duration\":NaN", "bad JSON" },
        { "\"duration\":7.0", "\"duration\":nan", "bad JSON" },
        { "\"duration\":7.0", "\"duration\":Infinity", "bad JSON" },
        { "\"duration\":7.0", "\"duration\":-Infinity", "bad JSON" },
        { "\"duration\":7.0", "\"duration\":1e999", "bad JSON" },
        { "\"created\":1764100000",
          "\"created\":99999999999999999999", "bad JSON" },
        { "\"bandwidth\":600000", "\"bandwidth\":1e9",
          "\"bandwidth\" must be an integer" },
        { "[0.5,", "[NaN,", "bad JSON" },
        { "[0.5,", "[1e999,", "bad JSON" },
        { "[0.5,", "[1e7,", "absurd \"embedding\" value" },
        { "[0.5,", "[-1e300,", "absurd \"embedding\" value" },
        { "[0.5,", "[1e39,", "absurd \"embedding\" value" },
        { "[1.0,2.0,2.0,2.0]}]", "[1.0,2.0,2.0,1e999]}]", "bad JSON" },
    };

    EDIT_CASES_FAIL(clip("b"), cases);
}


static void
test_catalog_too_many(void)
{
    char        *ladder, *p;
    unsigned     i;
    const char  *item;

    /* tags: at most 32 of 1 to 64 bytes */

    CHECK_LOAD_FAILS(lines(clip("a"),
                           edit(clip("b"), "[\"nature\",\"animals\"]",
                                repeat("\"t\"", 33)), NULL),
                     2, "more than 32 \"tags\"");
    CHECK_LOAD_FAILS(lines(clip("a"),
                           edit(clip("b"), "\"nature\"", "\"\""), NULL),
                     2, "bad tag #1");

    item = fmt("\"%s\"", chars('t', 65));
    CHECK_LOAD_FAILS(lines(clip("a"), edit(clip("b"), "\"animals\"", item),
                           NULL),
                     2, "bad tag #2");

    item = fmt("\"%s\"", chars('t', 64));
    CHECK_LOADS(lines(edit(clip("a"), "[\"nature\",\"animals\"]",
                           repeat("\"t\"", 32)),
                      edit(clip("b"), "\"animals\"", item), NULL), 2);

    /* renditions: 1 to 16 */

    ladder = feed_unit_alloc(4096);
    p = ladder;
    *p++ = '[';

    for (i = 0; i < 17; i++) {
        p += snprintf(p, 4096 - (size_t) (p - ladder), "%s"
                      "{\"name\":\"r%u\",\"bandwidth\":1000,"
                      "\"resolution\":\"16x16\",\"codecs\":\"c\","
                      "\"segments\":[7]}", i ? "," : "", i);
    }

    *p++ = ']';
    *p = '\0';

    CHECK_LOAD_FAILS(lines(clip("x"), clip_ladder("a", "7", ladder), NULL),
                     2, "\"renditions\" must have 1 to 16 entries");
    CHECK_LOAD_FAILS(lines(clip("x"), clip_ladder("a", "7", "[]"), NULL),
                     2, "\"renditions\" must have 1 to 16 entries");

    /* drop the last one: 16 are fine */

    p = strrchr(ladder, '{');
    p[-1] = ']';
    p[0] = '\0';

    CHECK_LOADS(lines(clip_ladder("a", "7", ladder), NULL), 1);

    /* segments: 1 to 10000 */

    CHECK_LOAD_FAILS(lines(clip("x"),
                           clip_ladder("a", "1000.1",
                               edit("[{\"name\":\"r\",\"bandwidth\":1000,"
                                    "\"resolution\":\"16x16\","
                                    "\"codecs\":\"c\",\"segments\":SEGS}]",
                                    "SEGS", repeat("0.1", 10001))),
                           NULL),
                     2, "rendition \"r\": \"segments\" must have 1 to 10000 "
                        "durations");

    CHECK_LOADS(lines(clip_ladder("a", "1000",
                          edit("[{\"name\":\"r\",\"bandwidth\":1000,"
                               "\"resolution\":\"16x16\","
                               "\"codecs\":\"c\",\"segments\":SEGS}]",
                               "SEGS", repeat("0.1", 10000))),
                      clip_lin("s", STITCH("a", 10000)), NULL), 2);
}


static void
test_catalog_bad_characters(void)
{
    static const edit_case_t  cases[] = {
        { "\"id\":\"b\"", "\"id\":\"a/b\"", "bad \"id\"" },
        { "\"id\":\"b\"", "\"id\":\"a.b\"", "bad \"id\"" },
        { "\"id\":\"b\"", "\"id\":\"..\"", "bad \"id\"" },
        { "\"id\":\"b\"", "\"id\":\"a b\"", "bad \"id\"" },
        { "\"id\":\"b\"", "\"id\":\"a%2e\"", "bad \"id\"" },
        { "\"id\":\"b\"", "\"id\":\"\\u00e9\"", "bad \"id\"" },
        { "\"id\":\"b\"", "\"id\":\"\"", "bad \"id\"" },
        { "\"creator\":\"ana\"", "\"creator\":\"ana smith\"",
          "bad \"creator\"" },
        { "\"creator\":\"ana\"", "\"creator\":\"ana/x\"", "bad \"creator\"" },
        { "\"creator\":\"ana\"", "\"creator\":\"\"", "bad \"creator\"" },
        { "\"sound\":\"lofi-1\"", "\"sound\":\"lofi 1\"", "bad \"sound\"" },
        { "\"sound\":\"lofi-1\"", "\"sound\":\"\"", "bad \"sound\"" },
        { "\"name\":\"360p\"", "\"name\":\"360.p\"",
          "rendition #1: bad \"name\"" },
        { "\"name\":\"540p\"", "\"name\":\"540/p\"",
          "rendition #2: bad \"name\"" },
        { "\"name\":\"540p\"", "\"name\":\"..\"",
          "rendition #2: bad \"name\"" },
        { "\"name\":\"540p\"", "\"name\":\"\"",
          "rendition #2: bad \"name\"" },
        { "avc1.64001e,mp4a.40.2", "avc1.64001e, mp4a.40.2",
          "rendition \"360p\": bad \"codecs\"" },
        { "avc1.64001e,mp4a.40.2", "avc1.64001e\\\"",
          "rendition \"360p\": bad \"codecs\"" },
        { "avc1.64001f,mp4a.40.2", "avc1;mp4a",
          "rendition \"540p\": bad \"codecs\"" },
        { "avc1.64001f,mp4a.40.2", "",
          "rendition \"540p\": bad \"codecs\"" },
    };

    char  id[128], name[128], codecs[256];

    EDIT_CASES_FAIL(clip("b"), cases);

    CHECK_LOAD_FAILS(lines(clip("a"),
                           clip_lin("b", DUET("../a")), NULL),
                     2, "bad lineage \"parent\"");

    /* lengths: id 64, creator and sound 64, rendition 32, codecs 128 */

    CHECK_LOAD_FAILS(lines(clip("a"), clip(chars('i', 65)), NULL), 2,
                     "bad \"id\"");

    snprintf(name, sizeof(name), "\"creator\":\"%s\"", chars('c', 65));
    CHECK_LOAD_FAILS(lines(clip("a"), edit(clip("b"), "\"creator\":\"ana\"",
                                           name), NULL),
                     2, "bad \"creator\"");

    snprintf(name, sizeof(name), "\"name\":\"%s\"", chars('r', 33));
    CHECK_LOAD_FAILS(lines(clip("a"), edit(clip("b"), "\"name\":\"540p\"",
                                           name), NULL),
                     2, "rendition #2: bad \"name\"");

    snprintf(codecs, sizeof(codecs), "\"codecs\":\"%s\"", chars('c', 129));
    CHECK_LOAD_FAILS(lines(clip("a"),
                           edit(clip("b"),
                                "\"codecs\":\"avc1.64001e,mp4a.40.2\"",
                                codecs), NULL),
                     2, "rendition \"360p\": bad \"codecs\"");

    /* the longest and the oddest allowed */

    snprintf(id, sizeof(id), "%s", chars('i', 64));
    snprintf(name, sizeof(name), "\"name\":\"%s\"", chars('r', 32));
    snprintf(codecs, sizeof(codecs), "\"codecs\":\"%s\"", chars('c', 128));

    CHECK_LOADS(lines(edit(edit(clip(id), "\"name\":\"540p\"", name),
                           "\"codecs\":\"avc1.64001e,mp4a.40.2\"", codecs),
                      edit(edit(edit(clip("Az09_-"), "\"creator\":\"ana\"",
                                     "\"creator\":\"a.n_a-1\""),
                                "\"name\":\"540p\"", "\"name\":\"A_z-9\""),
                           "avc1.64001f,mp4a.40.2", "a.b,c_d-e"),
                      clip_lin("c", DUET("Az09_-")), NULL), 3);
}


static void
test_catalog_caption(void)
{
    char   cap[4096];
    int    i;

    snprintf(cap, sizeof(cap), "\"caption\":\"%s\"", chars('c', 1025));
    CHECK_LOAD_FAILS(lines(clip("a"), edit(clip("b"),
                                           "\"caption\":\"Fox at dawn\"",
                                           cap), NULL),
                     2, "\"caption\" longer than 1024 bytes");

    snprintf(cap, sizeof(cap), "\"caption\":\"%s\"", chars('c', 1024));
    CHECK_LOADS(lines(edit(clip("b"), "\"caption\":\"Fox at dawn\"", cap),
                      edit(clip("c"), "Fox at dawn", ""), NULL), 2);

    /* bytes, not characters: 512 two-byte characters fit, 513 do not */

    strcpy(cap, "\"caption\":\"");

    for (i = 0; i < 512; i++) {
        strcat(cap, "\xc3\xa9");
    }

    strcat(cap, "\"");
    CHECK_LOADS(lines(edit(clip("b"), "\"caption\":\"Fox at dawn\"", cap),
                      NULL), 1);

    strcpy(cap, "\"caption\":\"");

    for (i = 0; i < 512; i++) {
        strcat(cap, "\\u00e9");
    }

    strcat(cap, "x\"");
    CHECK_LOAD_FAILS(lines(clip("a"), edit(clip("b"),
                                           "\"caption\":\"Fox at dawn\"",
                                           cap), NULL),
                     2, "\"caption\" longer than 1024 bytes");
}


/*
 * \u0000 is valid JSON but never allowed in a catalog string: jansson
 * refuses it (JSON_ALLOW_NUL is not used) and the message names it.
 */

static void
test_catalog_nul_in_strings(void)
{
    static const edit_case_t  cases[] = {
        { "\"id\":\"b\"", "\"id\":\"b\\u0000c\"", "\\u0000" },
        { "\"creator\":\"ana\"", "\"creator\":\"ana\\u0000\"", "\\u0000" },
        { "\"sound\":\"lofi-1\"", "\"sound\":\"\\u0000\"", "\\u0000" },
        { "Fox at dawn", "Fox\\u0000at dawn", "\\u0000" },
        { "\"animals\"", "\"ani\\u0000mals\"", "\\u0000" },
        { "\"name\":\"540p\"", "\"name\":\"540p\\u0000\"", "\\u0000" },
        { "avc1.64001e,mp4a.40.2", "avc1\\u0000", "\\u0000" },
        { "\"resolution\":\"360x640\"", "\"resolution\":\"360x640\\u0000\"",
          "\\u0000" },
        { "\"id\":\"b\"", "\"id\":\"b\",\"x\\u0000\":1", "\\u0000" },
    };

    EDIT_CASES_FAIL(clip("b"), cases);

    CHECK_LOAD_FAILS(lines(clip("a"), clip_lin("b", DUET("a\\u0000")), NULL),
                     2, "\\u0000");
    CHECK_LOAD_FAILS(lines(clip("a"),
                           clip_lin("b", "{\"kind\":\"duet\\u0000\","
                                         "\"parent\":\"a\"}"), NULL),
                     2, "\\u0000");
}


static void
test_catalog_duplicate_keys(void)
{
    static const edit_case_t  cases[] = {
        { "\"id\":\"b\"", "\"id\":\"b\",\"id\":\"c\"", "duplicate" },
        { "\"id\":\"b\"", "\"id\":\"b\",\"id\":\"b\"", "duplicate" },
        { "\"caption\":\"Fox at dawn\"",
          "\"caption\":\"Fox at dawn\",\"caption\":\"Fox\"", "duplicate" },
        { "\"name\":\"540p\"", "\"name\":\"540p\",\"name\":\"541p\"",
          "duplicate" },
        { "\"bandwidth\":600000", "\"bandwidth\":600000,\"bandwidth\":1000",
          "duplicate" },
    };

    EDIT_CASES_FAIL(clip("b"), cases);

    CHECK_LOAD_FAILS(lines(clip("a"),
                           clip_lin("b", "{\"kind\":\"duet\",\"parent\":\"a\","
                                         "\"parent\":\"b\"}"), NULL),
                     2, "duplicate");
}


static void
test_catalog_duplicate_renditions(void)
{
    CHECK_LOAD_FAILS(lines(clip("a"),
                           edit(clip("b"), "\"name\":\"540p\"",
                                "\"name\":\"360p\""), NULL),
                     2, "duplicate rendition \"360p\"");

    /* names are case-sensitive */

    CHECK_LOADS(lines(edit(clip("b"), "\"name\":\"540p\"",
                           "\"name\":\"360P\""), NULL), 1);
}


static void
test_catalog_line_too_long(void)
{
    char        *text, *p;
    size_t       n, base;
    const char  *path, *good;
    feed_err_t   err;
    feed_catalog_t  *cat;

    text = malloc(FEED_LINE_MAX + 64);
    if (!CHECK(text != NULL)) {
        return;
    }

    /* a good line padded with spaces to exactly FEED_LINE_MAX bytes */

    good = clip("b");
    base = strlen(good);
    p = text;
    *p++ = '{';
    n = FEED_LINE_MAX - base;
    memset(p, ' ', n);
    p += n;
    memcpy(p, good + 1, base - 1);
    p += base - 1;
    *p++ = '\r';
    *p++ = '\n';

    path = feed_unit_write("long.jsonl", text, (size_t) (p - text));
    cat = feed_catalog_new();
    CHECK(feed_catalog_load(cat, path, &err) == FEED_OK);
    CHECK_UINT(feed_catalog_count(cat), 1);
    feed_catalog_free(cat);

    /* one byte more */

    memmove(text + 1, text, (size_t) (p - text));
    text[0] = ' ';
    p++;

    path = feed_unit_write("long.jsonl", text, (size_t) (p - text));
    cat = feed_catalog_new();
    CHECK(feed_catalog_load(cat, path, &err) == FEED_ERROR);
    CHECK_UINT(err.line, 1);
    CHECK(strstr(err.msg, "line longer than") != NULL);
    feed_catalog_free(cat);

    free(text);
}


/*
 * Interning: a clip whose creator, sound, tags and rendition ladder were
 * seen before costs much less than one whose ladder is new.
 */

static void
test_catalog_interning(void)
{
    int                 rc1, rc2, rc3;
    size_t              m1, m2, m3;
    feed_err_t          err;
    const char         *other;
    feed_catalog_t     *one, *same, *diff;
    feed_rendition_t    ra, rb;
    const feed_clip_t  *a, *b;

    other = edit(edit(edit(edit(clip("b"), "360p", "361p"), "540p", "541p"),
                      "\"segments\":[1.0,2.0,2.0,2.0]},",
                      "\"segments\":[2.0,2.0,2.0,1.0]},"),
                 "\"segments\":[1.0,2.0,2.0,2.0]}]",
                 "\"segments\":[2.0,1.0,2.0,2.0]}]");

    rc1 = feed_unit_load(lines(clip("a"), NULL), &one, &err);
    rc2 = feed_unit_load(lines(clip("a"), clip("b"), NULL), &same, &err);
    rc3 = feed_unit_load(lines(clip("a"), other, NULL), &diff, &err);

    if (CHECK(rc1 == FEED_OK && rc2 == FEED_OK && rc3 == FEED_OK)) {
        m1 = feed_catalog_memory(one, NULL);
        m2 = feed_catalog_memory(same, NULL);
        m3 = feed_catalog_memory(diff, NULL);

        feed_unit_check(m2 > m1 && m2 - m1 < m3 - m1, __FILE__, __LINE__,
                        "second clip: %zu bytes with the same ladder, "
                        "%zu with a new one", m2 - m1, m3 - m1);

        /* well under the 300 bytes a clip budget */

        feed_unit_check(m2 - m1 <= 128, __FILE__, __LINE__,
                        "a clip with a known ladder costs %zu bytes",
                        m2 - m1);

        a = feed_catalog_clip(same, find(same, "a"));
        b = feed_catalog_clip(same, find(same, "b"));

        feed_clip_rendition(same, a, 1, &ra);
        feed_clip_rendition(same, b, 1, &rb);

        CHECK(ra.segments_us == rb.segments_us);
        CHECK(ra.name == rb.name);
        CHECK(ra.codecs == rb.codecs);
        CHECK(feed_clip_creator(same, a) == feed_clip_creator(same, b));
        CHECK(feed_clip_tag(same, a, 1) == feed_clip_tag(same, b, 1));

        /* the two renditions of one clip share their segment list */

        feed_clip_rendition(same, a, 0, &rb);
        CHECK(ra.segments_us == rb.segments_us);
    }

    feed_catalog_free(one);
    feed_catalog_free(same);
    feed_catalog_free(diff);
}


/* feed_catalog_add() reports the line number it is given */

static void
test_catalog_add(void)
{
    const char      *line;
    feed_err_t       err;
    feed_catalog_t  *cat;

    cat = feed_catalog_new();
    if (!CHECK(cat != NULL)) {
        return;
    }

    line = clip("a");
    CHECK(feed_catalog_add(cat, line, strlen(line), 41, &err) == FEED_OK);
    CHECK(feed_catalog_add(cat, line, strlen(line), 42, &err)
          == FEED_ERROR);
    CHECK_UINT(err.line, 42);
    CHECK(strstr(err.msg, "duplicate id") != NULL);

    /* the length is honoured: no NUL needed, nothing read past it */

    line = lines(clip("b"), "garbage", NULL);
    CHECK(feed_catalog_add(cat, line, strlen(clip("b")), 43, &err)
          == FEED_OK);

    CHECK(feed_catalog_finish(cat, &err) == FEED_OK);
    CHECK_UINT(feed_catalog_count(cat), 2);

    feed_catalog_free(cat);
}


void
feed_unit_catalog_tests(void)
{
    RUN(test_catalog_valid);
    RUN(test_catalog_find);
    RUN(test_catalog_str_len);
    RUN(test_catalog_many);
    RUN(test_catalog_crlf);
    RUN(test_catalog_blank_lines);
    RUN(test_catalog_missing_file);
    RUN(test_catalog_bad_json);
    RUN(test_catalog_not_object);
    RUN(test_catalog_missing_fields);
    RUN(test_catalog_missing_rendition_fields);
    RUN(test_catalog_missing_lineage_fields);
    RUN(test_catalog_wrong_types);
    RUN(test_catalog_wrong_lineage_types);
    RUN(test_catalog_duplicate_id);
    RUN(test_catalog_unknown_parent);
    RUN(test_catalog_self_parent);
    RUN(test_catalog_lineage_loop);
    RUN(test_catalog_parent_segments);
    RUN(test_catalog_absurd_created);
    RUN(test_catalog_absurd_duration);
    RUN(test_catalog_boundary_durations);
    RUN(test_catalog_absurd_bandwidth);
    RUN(test_catalog_absurd_resolution);
    RUN(test_catalog_absurd_segments);
    RUN(test_catalog_segments_sum);
    RUN(test_catalog_embedding);
    RUN(test_catalog_nan_huge);
    RUN(test_catalog_too_many);
    RUN(test_catalog_bad_characters);
    RUN(test_catalog_caption);
    RUN(test_catalog_nul_in_strings);
    RUN(test_catalog_duplicate_keys);
    RUN(test_catalog_duplicate_renditions);
    RUN(test_catalog_line_too_long);
    RUN(test_catalog_interning);
    RUN(test_catalog_add);
}
