
/*
 * Copyright (C) the feed module developers
 */


/*
 * The fast line scanner against jansson.  Every line, valid or broken on
 * purpose, goes into two catalogs that hold the same clips: one reads it
 * the normal way, scanner first, the other with the scanner off, through
 * jansson alone.  Both must accept or refuse it alike, with the same
 * message, and then hold the very same clip, byte for byte.  Lines come
 * from a generator with a fixed seed, so a failure can be replayed; its
 * report shows the case number and the line.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feed_unit.h"
#include "feed_line.h"


#define FP_LINE_MAX      (64 * 1024)
#define FP_DIM           4
#define FP_BASE          4           /* clips every pair of catalogs has */
#define FP_BATCH         16          /* lines per pair of catalogs */
#define FP_BATCHES       250
#define FP_FILE_LINES    3000


typedef struct {
    feed_catalog_t  *fast;
    feed_catalog_t  *slow;
    unsigned long    lineno;
    unsigned         next_id;       /* ids made so far */
} fp_pair_t;


typedef struct {
    char            *data;
    size_t           len;
    size_t           cap;
} fp_buf_t;


static uint64_t     fp_state;
static unsigned     fp_case;
static unsigned     fp_fast_taken;  /* valid lines the scanner took */
static unsigned     fp_valid_lines;


/* the spellings the generator picks from */

static const char  *fp_seg_spellings[] = {
    "2.0", "2", "1.5", "0.5", "1.001", "2.002", "0.033367", "1e0", "0.25",
    "1.0", "1", "0.9", "10.010", "60", "2.00", "0.1e1", "20E-1", "1.466633",
    "0.000001", "0.0000001", "59.9999999", "3.3333333333333335",
};

static const char  *fp_emb_spellings[] = {
    "0.5", "-0.25", "0.125", "0", "-0", "-0.0", "0.0", "1", "-1", "0.75",
    "2", "0.3361", "-0.532", "1e-3", "1E+2", "0.1e1", "2.5e-05", "-1e6",
    "1e6", "1000000.0", "123456.789", "0.30000000000000004", "1e-22",
    "9007199254740993", "-0.1e-10", "0.7071067811865476", "1e-45",
    "3.4028234663852886e38", "1.17549435e-38", "0.333333333333333314829616256",
};

static const char  *fp_odd_numbers[] = {
    "1e400", "-1e400", "1e-400", "-0", "0.1e1", "1E+2", "1e+2", "1e-2",
    "123456789012345678901234", "2.2250738585072014e-308", "4.9e-324",
    "1.7976931348623157e308", "9007199254740993", "9007199254740992",
    "9007199254740992e-22", "9007199254740993e-22", "1e22", "1e23",
    "123e-22", "0.30000000000000004", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "999999999999999999", "1000000000000000000", "1.0000000000000000000001",
    "0.000000000000000000000000001", "00", "01", "1.", ".5", "+1", "-",
    "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "1.5e", "--1",
    "1.5.3", "1e5.5", "0e999999", "-0e-999999", "60.0000001", "0.0",
    "3600", "3600.0000001", "4102444800", "4102444801", "1000", "999",
    "1000000000", "1000000001", "7.0", "7", "7e0", "70e-1", "0.07e2",
    "12345678901234567890", "1234567890123456789", "-1", "1e-7",
    "0.0000005", "0.0000004999999", "1e2", "1.00", "2e0", "16", "10000",
    "10001", "0.5e-0", "5E-1", "4.99999999999999999999", "true", "null",
    "\"1\"", "[1]", "{}",
};

static const char  *fp_snippets[] = {
    "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u0041", "\\u00e9", "\\u0000",
    "\\ud83e\\udd8a", "\\x", "\\", ",", "\"", ":", "}", "]", "{", "[", " ",
    "\t", "\r", "\n", "0", "-", ".", "e", "1e400", "\xc3\xa9", "\xff",
    "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\xe2\x82", "\x7f",
    "\x01", "\"id\":\"dup\",", "\"k\":1,", "null", "true", ",,", "[]", "{}",
    "\"\"", "\xef\xbb\xbf", "\xf0\x9f\xa6\x8a",
};

static const char  *fp_unknown_values[] = {
    "1", "\"s\"", "true", "false", "null", "[]", "{}", "[1,\"a\",[true]]",
    "{\"a\":{\"b\":[1,2]}}", "-0.5e3", "\"\\u00e9\"", "\"\\/x\"",
    "[[[[[1]]]]]", "{\"a\":1,\"a\":2}", "{\"a\":1,\"b\":{\"a\":2}}",
    "1e400", "[1,]", "{\"k\\\"\":1}", "\"caf\xc3\xa9\"",
    "123456789012345678901",
};

static const char  *fp_words[] = {
    "nature", "animals", "food", "a", "t", "lofi", "caf\xc3\xa9",
    "\xe6\x97\xa5\xe6\x9c\xac", "x\\\"y", "a\\/b", "back\\\\slash",
    "\xf0\x9f\xa6\x8a", "sixty-four-bytes-are-the-most-a-tag-may-have-"
    "0123456789abcdefghi",
};

static const char  *fp_caption_parts[] = {
    "Fox at dawn", " ", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
    "\xf0\x9f\xa6\x8a", "#tag", "\\\"quoted\\\"", "a\\/b", "\\\\",
    "\x7f", "~!@#$%^&*()", "\\n", "\\u00e9", "\\t", "x",
};

static const char  *fp_names[] = {
    "ana", "bo.b", "c_y-1", "zoe.trail3", "Az09_-", "x", "a.b.c",
};

static const char  *fp_ladders[][3] = {
    { "360p", "360x640", "avc1.64001e,mp4a.40.2" },
    { "540p", "540x960", "avc1.64001f,mp4a.40.2" },
    { "720p", "720x1280", "avc1.64001f,mp4a.40.2" },
    { "r", "16x16", "c" },
    { "A_z-9", "0360x0640", "hvc1.1.6.L93.B0" },
    { "big", "8192x16", "a.b,c_d-e" },
};


static uint32_t
fp_rand(void)
{
    /* xorshift64* */

    fp_state ^= fp_state >> 12;
    fp_state ^= fp_state << 25;
    fp_state ^= fp_state >> 27;

    return (uint32_t) ((fp_state * 2685821657736338717ULL) >> 32);
}


static uint32_t
fp_below(uint32_t n)
{
    return fp_rand() % n;
}


#define fp_pick(a)  (a)[fp_below(sizeof(a) / sizeof((a)[0]))]


/* appending stops quietly at the buffer's end: the line is just odd */

static void
fp_putc(fp_buf_t *b, char c)
{
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = c;
    }

    b->data[b->len] = '\0';
}


static void
fp_put(fp_buf_t *b, const char *s)
{
    size_t  n;

    n = strlen(s);

    if (b->len + n < b->cap) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    }

    b->data[b->len] = '\0';
}


static void
fp_printf(fp_buf_t *b, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void
fp_printf(fp_buf_t *b, const char *fmt, ...)
{
    int      n;
    va_list  args;

    va_start(args, fmt);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, args);
    va_end(args);

    if (n > 0) {
        b->len += (size_t) n;

        if (b->len >= b->cap) {
            b->len = b->cap - 1;
        }
    }
}


/* JSON whitespace, mostly none */

static void
fp_ws(fp_buf_t *b)
{
    static const char  *ws[] = { " ", "\t", "  ", "\r\n", "\n" };

    if (fp_below(12) == 0) {
        fp_put(b, fp_pick(ws));
    }
}


static void
fp_name(fp_buf_t *b, int dot)
{
    unsigned     i, n;
    const char  *alnum;

    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";

    if (fp_below(2)) {
        fp_put(b, fp_pick(fp_names));
        return;
    }

    n = fp_below(20) == 0 ? 64 : 1 + fp_below(12);

    for (i = 0; i < n; i++) {
        fp_putc(b, (dot && fp_below(8) == 0) ? '.' : alnum[fp_below(64)]);
    }
}


static void
fp_caption(fp_buf_t *b)
{
    unsigned  i, n;

    switch (fp_below(30)) {

    case 0:
        for (i = 0; i < 1024; i++) {
            fp_putc(b, 'c');
        }

        return;

    case 1:
        for (i = 0; i < 512; i++) {
            fp_put(b, "\xc3\xa9");
        }

        return;

    case 2:
        return;                          /* empty */
    }

    n = fp_below(6);

    for (i = 0; i < n; i++) {
        fp_put(b, fp_below(4) ? "Fox at dawn " : fp_pick(fp_caption_parts));
    }
}


/* a number array's elements, whose sum (as jansson reads it) is *sum */

static void
fp_segments(fp_buf_t *b, double *sum)
{
    unsigned     i, n;
    const char  *s;

    n = 1 + fp_below(fp_below(10) == 0 ? 40 : 6);
    *sum = 0;

    fp_put(b, "[");

    for (i = 0; i < n; i++) {
        s = fp_pick(fp_seg_spellings);

        if (i) {
            fp_put(b, ",");
        }

        fp_ws(b);
        fp_put(b, s);
        fp_ws(b);

        *sum += strtod(s, NULL);
    }

    fp_put(b, "]");
}


/*
 * A line, valid unless the dice say otherwise; a lineage parent is a
 * base clip or one of the ids made so far, or, if forward, of the next
 * ones.
 */

static void
fp_line(fp_buf_t *out, const char *id, fp_pair_t *p, int forward)
{
    char         kv[12][FP_LINE_MAX / 8];
    double       sum;
    fp_buf_t     b, segs;
    unsigned     i, n, k, nkv, order[12], t;
    const char  *(*ladder)[3];

    static char  segs_data[FP_LINE_MAX / 8];

    nkv = 0;

#define FP_KV_BEGIN                                                           \
    b.data = kv[nkv]; b.len = 0; b.cap = sizeof(kv[0]); b.data[0] = '\0'

#define FP_KV_END                                                             \
    nkv++

    FP_KV_BEGIN;
    fp_printf(&b, "\"id\":");
    fp_ws(&b);
    fp_printf(&b, "\"%s\"", id);
    FP_KV_END;

    FP_KV_BEGIN;
    fp_put(&b, "\"creator\":\"");
    fp_name(&b, 1);
    fp_put(&b, "\"");
    FP_KV_END;

    FP_KV_BEGIN;
    fp_put(&b, "\"sound\":\"");
    fp_name(&b, 1);
    fp_put(&b, "\"");
    FP_KV_END;

    FP_KV_BEGIN;
    fp_printf(&b, "\"created\":%lu",
              fp_below(10) == 0 ? 4102444800UL
              : 1UL + fp_rand() % 4102444800UL);
    FP_KV_END;

    FP_KV_BEGIN;
    fp_put(&b, "\"caption\":\"");
    fp_caption(&b);
    fp_put(&b, "\"");
    FP_KV_END;

    FP_KV_BEGIN;
    fp_put(&b, "\"tags\":[");
    n = fp_below(5);

    for (i = 0; i < n; i++) {
        fp_printf(&b, "%s\"%s\"", i ? "," : "", fp_pick(fp_words));
    }

    fp_put(&b, "]");
    FP_KV_END;

    FP_KV_BEGIN;
    fp_put(&b, "\"embedding\":[");

    for (i = 0; i < FP_DIM; i++) {
        if (i) {
            fp_put(&b, ",");
        }

        fp_ws(&b);

        if (fp_below(3) == 0) {
            fp_printf(&b, "%.*f", (int) fp_below(12),
                      (double) (int32_t) fp_rand() / 1e9);

        } else {
            fp_put(&b, fp_pick(fp_emb_spellings));
        }
    }

    fp_put(&b, "]");
    FP_KV_END;

    /* renditions: usually one segment list spelled once, repeated */

    segs.data = segs_data;
    segs.len = 0;
    segs.cap = sizeof(segs_data);
    fp_segments(&segs, &sum);

    FP_KV_BEGIN;
    fp_put(&b, "\"renditions\":[");
    n = 1 + fp_below(3);
    k = fp_below(sizeof(fp_ladders) / sizeof(fp_ladders[0]));

    for (i = 0; i < n; i++) {
        ladder = &fp_ladders[(k + i) % (sizeof(fp_ladders)
                                        / sizeof(fp_ladders[0]))];

        fp_printf(&b, "%s{\"name\":\"%s\",\"bandwidth\":%u,"
                  "\"resolution\":\"%s\",\"codecs\":\"%s\",", i ? "," : "",
                  (*ladder)[0], 1000 + fp_rand() % 999999001u, (*ladder)[1],
                  (*ladder)[2]);

        if (fp_below(8) == 0) {
            fp_printf(&b, "\"x-%u\":%s,", i, fp_pick(fp_unknown_values));
        }

        fp_put(&b, "\"segments\":");

        if (i > 0 && fp_below(6) == 0) {
            /* the same durations, spelled otherwise */
            fp_put(&b, "[");

            for (t = 0; t < segs.len; t++) {
                if (strchr(" \t\r\n[]", segs.data[t]) == NULL) {
                    fp_putc(&b, segs.data[t]);
                }

                if (segs.data[t] == ',') {
                    fp_putc(&b, ' ');
                }
            }

            fp_put(&b, "]}");

        } else {
            fp_put(&b, segs.data);
            fp_put(&b, "}");
        }
    }

    fp_put(&b, "]");
    FP_KV_END;

    FP_KV_BEGIN;
    fp_printf(&b, "\"duration\":%.*f", (int) fp_below(8), sum);
    FP_KV_END;

    /* lineage: mostly none, else a duet or a stitch of a known clip */

    switch (fp_below(8)) {

    case 0:
    case 1:
        FP_KV_BEGIN;
        k = p->next_id + (forward ? 3 : 0);

        if (k == 0 || fp_below(3)) {
            fp_printf(&b, "\"lineage\":{\"kind\":\"duet\","
                      "\"parent\":\"base%u\"", fp_below(FP_BASE));

        } else {
            fp_printf(&b, "\"lineage\":{\"kind\":\"duet\","
                      "\"parent\":\"fp%u\"", fp_below(k));
        }

        if (fp_below(2)) {
            fp_printf(&b, ",\"offset\":%s", fp_pick(fp_emb_spellings));
        }

        if (fp_below(2)) {
            fp_printf(&b, ",\"layout\":\"%s\"", fp_below(2) ? "side" : "top");
        }

        if (fp_below(4) == 0) {
            fp_printf(&b, ",\"parent_segments\":%s", fp_pick(fp_odd_numbers));
        }

        fp_put(&b, "}");
        FP_KV_END;
        break;

    case 2:
        FP_KV_BEGIN;
        fp_printf(&b, "\"lineage\":{\"parent_segments\":%u,\"parent\":"
                  "\"base%u\",\"kind\":\"stitch\"", 1 + fp_below(3),
                  fp_below(FP_BASE));

        if (fp_below(4) == 0) {
            fp_printf(&b, ",\"offset\":%s,\"layout\":%s",
                      fp_pick(fp_odd_numbers), fp_pick(fp_unknown_values));
        }

        fp_put(&b, "}");
        FP_KV_END;
        break;

    case 3:
        FP_KV_BEGIN;
        fp_put(&b, "\"lineage\":null");
        FP_KV_END;
        break;
    }

    if (fp_below(6) == 0) {
        FP_KV_BEGIN;
        fp_printf(&b, "\"meta%u\":%s", fp_below(3), fp_pick(fp_unknown_values));
        FP_KV_END;
    }

#undef FP_KV_BEGIN
#undef FP_KV_END

    /* the keys in any order */

    for (i = 0; i < nkv; i++) {
        order[i] = i;
    }

    if (fp_below(2)) {
        for (i = nkv - 1; i > 0; i--) {
            k = fp_below(i + 1);
            t = order[i];
            order[i] = order[k];
            order[k] = t;
        }
    }

    out->len = 0;
    out->data[0] = '\0';

    fp_ws(out);
    fp_put(out, "{");

    for (i = 0; i < nkv; i++) {
        if (i) {
            fp_put(out, ",");
        }

        fp_ws(out);
        fp_put(out, kv[order[i]]);
        fp_ws(out);
    }

    fp_put(out, "}");
    fp_ws(out);
}


/* where number tokens start: after ":", "[" or ",", with a digit or "-" */

static size_t
fp_number_at(const fp_buf_t *b, size_t *end)
{
    size_t  i, j, n, pick, found;

    n = 0;

    for (i = 1; i < b->len; i++) {
        if ((b->data[i] == '-' || (b->data[i] >= '0' && b->data[i] <= '9'))
            && (b->data[i - 1] == ':' || b->data[i - 1] == '['
                || b->data[i - 1] == ','))
        {
            n++;
        }
    }

    if (n == 0) {
        return 0;
    }

    pick = fp_below((uint32_t) n);
    found = 0;

    for (i = 1; i < b->len; i++) {
        if ((b->data[i] == '-' || (b->data[i] >= '0' && b->data[i] <= '9'))
            && (b->data[i - 1] == ':' || b->data[i - 1] == '['
                || b->data[i - 1] == ','))
        {
            if (found++ == pick) {
                for (j = i; j < b->len && strchr("0123456789+-.eE",
                                                 b->data[j]) != NULL;
                     j++)
                {
                    /* void */
                }

                *end = j;
                return i;
            }
        }
    }

    return 0;
}


static void
fp_replace(fp_buf_t *b, size_t from, size_t to, const char *with)
{
    size_t  n;

    n = strlen(with);

    if (b->len - (to - from) + n >= FP_LINE_MAX) {
        return;
    }

    memmove(b->data + from + n, b->data + to, b->len - to + 1);
    memcpy(b->data + from, with, n);
    b->len = b->len - (to - from) + n;
}


static void
fp_mutate(fp_buf_t *b)
{
    char         one[2];
    size_t       pos, end;
    const char  *p;

    static const char  *keys[] = {
        "id", "creator", "sound", "created", "duration", "caption", "tags",
        "embedding", "renditions", "lineage", "name", "bandwidth",
        "resolution", "codecs", "segments", "kind", "parent",
        "parent_segments", "offset", "layout",
    };

    static const char  *values[] = {
        "\"x\"", "1", "1.5", "[]", "{}", "null", "true", "[\"a\"]",
        "\"360x640\"", "\"duet\"", "[1.0]",
    };

    if (b->len == 0) {
        return;
    }

    pos = fp_below((uint32_t) b->len + 1);

    switch (fp_below(9)) {

    case 0:
        if (pos < b->len) {
            b->data[pos] = (char) (fp_below(2) ? fp_rand()
                                   : (uint32_t) fp_pick(fp_snippets)[0]);
        }

        break;

    case 1:
        b->len = pos;
        b->data[b->len] = '\0';
        break;

    case 2:
        fp_replace(b, pos, pos, fp_pick(fp_snippets));
        break;

    case 3:
    case 4:
        pos = fp_number_at(b, &end);

        if (pos) {
            fp_replace(b, pos, end, fp_pick(fp_odd_numbers));
        }

        break;

    case 5:
        /* a key again, or a known key somewhere else */

        p = memchr(b->data + pos, '{', b->len - pos);

        if (p != NULL) {
            char  kv[128];

            snprintf(kv, sizeof(kv), "\"%s\":%s,", fp_pick(keys),
                     fp_pick(values));
            pos = (size_t) (p - b->data) + 1;
            fp_replace(b, pos, pos, kv);
        }

        break;

    case 6:
        end = pos + fp_below(8);
        fp_replace(b, pos, end < b->len ? end : b->len, "");
        break;

    case 7:
        p = memchr(b->data + pos, '{', b->len - pos);

        if (p != NULL) {
            char  kv[256];

            snprintf(kv, sizeof(kv), "\"junk%u\":%s,", fp_below(2),
                     fp_pick(fp_unknown_values));
            pos = (size_t) (p - b->data) + 1;
            fp_replace(b, pos, pos, kv);
        }

        break;

    default:
        /* a string's content replaced by something odd */

        p = memchr(b->data + pos, '"', b->len - pos);

        if (p != NULL) {
            pos = (size_t) (p - b->data) + 1;
            p = memchr(b->data + pos, '"', b->len - pos);

            if (p != NULL) {
                one[0] = (char) fp_rand();
                one[1] = '\0';
                fp_replace(b, pos, (size_t) (p - b->data),
                           fp_below(2) ? fp_pick(fp_snippets) : one);
            }
        }

        break;
    }
}


/* two clips, one per catalog, are the same: every field, every byte */

static void
fp_same_clip(const feed_catalog_t *a, uint32_t ia, const feed_catalog_t *b,
    uint32_t ib, const char *what)
{
    uint32_t            i, n;
    const float        *ea, *eb;
    feed_rendition_t    ra, rb;
    const feed_clip_t  *ca, *cb;

    ca = feed_catalog_clip(a, ia);
    cb = feed_catalog_clip(b, ib);

    if (!feed_unit_check(ca != NULL && cb != NULL, __FILE__, __LINE__,
                         "case %u %s: clip %u missing", fp_case, what, ia))
    {
        return;
    }

#define FP_SAME(cond)                                                         \
    feed_unit_check(cond, __FILE__, __LINE__, "case %u %s, clip %s: %s",     \
                    fp_case, what, feed_clip_id(a, ca), #cond)

    FP_SAME(memcmp(ca, cb, sizeof(feed_clip_t)) == 0);
    FP_SAME(strcmp(feed_clip_id(a, ca), feed_clip_id(b, cb)) == 0);
    FP_SAME(strcmp(feed_clip_caption(a, ca), feed_clip_caption(b, cb)) == 0);
    FP_SAME(strcmp(feed_clip_creator(a, ca), feed_clip_creator(b, cb)) == 0);
    FP_SAME(strcmp(feed_clip_sound(a, ca), feed_clip_sound(b, cb)) == 0);

    n = feed_clip_ntags(a, ca);
    FP_SAME(n == feed_clip_ntags(b, cb));

    for (i = 0; i < n && n == feed_clip_ntags(b, cb); i++) {
        FP_SAME(strcmp(feed_clip_tag(a, ca, i), feed_clip_tag(b, cb, i)) == 0);
    }

    ea = feed_clip_embedding(a, ca);
    eb = feed_clip_embedding(b, cb);
    FP_SAME(feed_catalog_dim(a) == feed_catalog_dim(b));
    FP_SAME(memcmp(ea, eb, feed_catalog_dim(a) * sizeof(float)) == 0);

    n = feed_clip_nrenditions(a, ca);
    FP_SAME(n == feed_clip_nrenditions(b, cb));

    for (i = 0; i < n && n == feed_clip_nrenditions(b, cb); i++) {
        feed_clip_rendition(a, ca, i, &ra);
        feed_clip_rendition(b, cb, i, &rb);

        FP_SAME(ra.name_len == rb.name_len
                && memcmp(ra.name, rb.name, ra.name_len) == 0);
        FP_SAME(strcmp(ra.codecs, rb.codecs) == 0);
        FP_SAME(strcmp(ra.resolution, rb.resolution) == 0);
        FP_SAME(ra.bandwidth == rb.bandwidth);
        FP_SAME(ra.width == rb.width && ra.height == rb.height);
        FP_SAME(ra.nsegments == rb.nsegments);
        FP_SAME(ra.nsegments != rb.nsegments
                || memcmp(ra.segments_us, rb.segments_us,
                          ra.nsegments * sizeof(uint32_t)) == 0);
        FP_SAME(feed_clip_find_rendition(a, ca, ra.name, ra.name_len)
                == (int) i);
    }

#undef FP_SAME
}


static void
fp_same_catalog(const feed_catalog_t *a, const feed_catalog_t *b,
    const char *what)
{
    uint32_t  i, n;

    n = feed_catalog_count(a);

    if (!feed_unit_check(n == feed_catalog_count(b), __FILE__, __LINE__,
                         "case %u %s: %u clips and %u", fp_case, what, n,
                         feed_catalog_count(b)))
    {
        return;
    }

    feed_unit_check(feed_catalog_memory(a, NULL) == feed_catalog_memory(b,
                                                                     NULL),
                    __FILE__, __LINE__, "case %u %s: %zu bytes and %zu",
                    fp_case, what, feed_catalog_memory(a, NULL),
                    feed_catalog_memory(b, NULL));

    for (i = 0; i < n; i++) {
        fp_same_clip(a, i, b, i, what);
    }
}


/* the same result, the same message, the same line */

static int
fp_same_result(int rc1, const feed_err_t *e1, int rc2, const feed_err_t *e2,
    const char *what, const fp_buf_t *line)
{
    char           shown[1024];
    size_t         i, n;
    unsigned char  c;

    if (rc1 == rc2 && e1->line == e2->line
        && (rc1 == FEED_OK || strcmp(e1->msg, e2->msg) == 0))
    {
        return 1;
    }

    /* the line as C would spell it, to replay the case */

    n = 0;

    for (i = 0; line != NULL && i < line->len && n + 8 < sizeof(shown); i++) {
        c = (unsigned char) line->data[i];
        n += (size_t) snprintf(shown + n, sizeof(shown) - n,
                               (c < 0x20 || c >= 0x7f) ? "\\x%02x" : "%c",
                               c);
    }

    shown[n] = '\0';

    return feed_unit_check(0, __FILE__, __LINE__,
                           "case %u %s: fast %d line %lu \"%s\", jansson %d "
                           "line %lu \"%s\"; the line: %s", fp_case, what,
                           rc1, e1->line, rc1 ? e1->msg : "", rc2, e2->line,
                           rc2 ? e2->msg : "", line ? shown : "(a file)");
}


static int
fp_pair_add(fp_pair_t *p, const fp_buf_t *line, const char *what)
{
    int         rc1, rc2;
    feed_err_t  e1, e2;

    p->lineno++;

    memset(&e1, 0, sizeof(feed_err_t));
    memset(&e2, 0, sizeof(feed_err_t));

    rc1 = feed_catalog_add(p->fast, line->data, line->len, p->lineno, &e1);
    rc2 = feed_catalog_add(p->slow, line->data, line->len, p->lineno, &e2);

    if (!fp_same_result(rc1, &e1, rc2, &e2, what, line)) {
        return FEED_ERROR;
    }

    if (rc1 == FEED_OK) {
        fp_same_clip(p->fast, feed_catalog_count(p->fast) - 1,
                     p->slow, feed_catalog_count(p->slow) - 1, what);
    }

    return rc1;
}


static int
fp_pair_open(fp_pair_t *p)
{
    char      id[32], data[FP_LINE_MAX];
    unsigned  i;
    fp_buf_t  line;

    line.data = data;
    line.cap = sizeof(data);

    p->fast = feed_catalog_new();
    p->slow = feed_catalog_new();
    p->lineno = 0;
    p->next_id = 0;

    if (!CHECK(p->fast != NULL && p->slow != NULL)) {
        return FEED_ERROR;
    }

    feed_catalog_set_fast(p->slow, 0);

    for (i = 0; i < FP_BASE; i++) {
        snprintf(id, sizeof(id), "base%u", i);

        do {
            fp_line(&line, id, p, 0);

            /* a base clip has no lineage, so that every batch can start */

        } while (strstr(line.data, "\"lineage\":{") != NULL
                 || feed_catalog_find(p->fast, id, strlen(id)) != FEED_NONE
                 || fp_pair_add(p, &line, "base") != FEED_OK);
    }

    return FEED_OK;
}


static void
fp_pair_close(fp_pair_t *p, const char *what)
{
    int         rc1, rc2;
    feed_err_t  e1, e2;

    memset(&e1, 0, sizeof(feed_err_t));
    memset(&e2, 0, sizeof(feed_err_t));

    rc1 = feed_catalog_finish(p->fast, &e1);
    rc2 = feed_catalog_finish(p->slow, &e2);

    if (fp_same_result(rc1, &e1, rc2, &e2, what, NULL) && rc1 == FEED_OK) {
        fp_same_catalog(p->fast, p->slow, what);
    }

    feed_catalog_free(p->fast);
    feed_catalog_free(p->slow);
}


/*
 * Numbers: whatever the scanner converts, jansson reads the same, to the
 * bit; and the common spellings are the scanner's to convert.
 */

static int
fp_number_matches(const char *s, size_t len)
{
    char             text[128];
    json_t          *root, *v;
    uint64_t         a, b;
    feed_line_num_t  num;

    if (feed_line_number(s, len, &num) != FEED_OK) {
        return 1;
    }

    snprintf(text, sizeof(text), "[%.*s]", (int) len, s);
    root = json_loads(text, 0, NULL);

    if (!feed_unit_check(root != NULL, __FILE__, __LINE__,
                         "\"%.*s\": the scanner took what jansson refuses",
                         (int) len, s))
    {
        return 0;
    }

    v = json_array_get(root, 0);

    if (num.is_integer) {
        feed_unit_check(json_is_integer(v)
                        && json_integer_value(v) == num.integer,
                        __FILE__, __LINE__, "\"%.*s\": integer %lld",
                        (int) len, s, (long long) num.integer);

    } else {
        b = 0;

        if (json_is_real(v)) {
            double  d = json_real_value(v);
            memcpy(&b, &d, sizeof(double));
        }

        memcpy(&a, &num.real, sizeof(double));

        feed_unit_check(json_is_real(v) && a == b, __FILE__, __LINE__,
                        "\"%.*s\": %.17g, jansson %.17g", (int) len, s,
                        num.real, json_is_real(v) ? json_real_value(v) : 0);
    }

    json_decref(root);

    return 1;
}


static void
test_fastpath_numbers(void)
{
    char             s[96];
    size_t           i, n, len;
    unsigned         k;
    feed_line_num_t  num;

    static const char  *taken[] = {
        "0", "-0", "7", "1764100000", "4102444800", "-123456789012345678",
        "0.0", "-0.0", "2.0", "35.9", "0.3361", "-0.532", "1e2", "1E+2",
        "0.1e1", "1e-3", "2.5e-05", "0.7071067811865476", "123e-22",
        "9007199254740992e-22", "1e22", "0e999999", "1.466633", "60",
    };

    static const char  *refused[] = {
        "", "-", "+1", "01", "-01", "1.", ".5", "1e", "1e+", "0x10", "NaN",
        "1 ", " 1", "1,", "--1", "1.5.3", "1e5.5", "Infinity", "true",
    };

    fp_state = 0x9e3779b97f4a7c15ULL;

    for (i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        feed_unit_check(feed_line_number(taken[i], strlen(taken[i]), &num)
                        == FEED_OK, __FILE__, __LINE__,
                        "\"%s\" is not taken", taken[i]);
        fp_number_matches(taken[i], strlen(taken[i]));
    }

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        feed_unit_check(feed_line_number(refused[i], strlen(refused[i]),
                                         &num)
                        == FEED_DECLINED, __FILE__, __LINE__,
                        "\"%s\" is taken", refused[i]);
    }

    for (i = 0; i < sizeof(fp_odd_numbers) / sizeof(fp_odd_numbers[0]); i++)
    {
        fp_number_matches(fp_odd_numbers[i], strlen(fp_odd_numbers[i]));
    }

    for (i = 0; i < sizeof(fp_emb_spellings) / sizeof(fp_emb_spellings[0]);
         i++)
    {
        fp_number_matches(fp_emb_spellings[i], strlen(fp_emb_spellings[i]));
    }

    /* random spellings: digits, a fraction, an exponent */

    for (k = 0; k < 30000; k++) {
        len = 0;

        if (fp_below(3) == 0) {
            s[len++] = '-';
        }

        n = 1 + fp_below(fp_below(4) ? 8 : 24);

        for (i = 0; i < n; i++) {
            s[len++] = (char) ('0' + (i == 0 && n > 1 ? 1 + fp_below(9)
                                                      : fp_below(10)));
        }

        if (fp_below(2)) {
            s[len++] = '.';
            n = fp_below(fp_below(4) ? 8 : 24);

            for (i = 0; i < n; i++) {
                s[len++] = (char) ('0' + fp_below(10));
            }
        }

        if (fp_below(3) == 0) {
            s[len++] = fp_below(2) ? 'e' : 'E';

            if (fp_below(2)) {
                s[len++] = fp_below(2) ? '-' : '+';
            }

            len += (size_t) snprintf(s + len, sizeof(s) - len, "%u",
                                     fp_below(2) ? fp_below(30)
                                                 : fp_below(400));
        }

        fp_number_matches(s, len);
    }
}


/* the shared rules, against what they replaced */

static int
fp_old_resolution(const char *s, size_t len, unsigned *w, unsigned *h)
{
    int   used;
    char  res[32];

    *w = *h = 0;

    if (len >= sizeof(res) || strspn(s, "0123456789x") < len) {
        return 0;
    }

    memcpy(res, s, len);
    res[len] = '\0';
    used = 0;

    return sscanf(res, "%5ux%5u%n", w, h, &used) == 2 && (size_t) used == len
           && *w >= 16 && *w <= 8192 && *h >= 16 && *h <= 8192;
}


static void
test_fastpath_rules(void)
{
    int        ok, name, dotted, codecs;
    char       s[16];
    size_t     i, len;
    unsigned   c, k, ow, oh;
    uint32_t   w, h;

    for (c = 0; c < 256; c++) {
        s[0] = (char) c;

        name = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
               || (c >= '0' && c <= '9') || c == '_' || c == '-';
        dotted = name || c == '.';
        codecs = dotted || c == ',';

        CHECK_INT(feed_line_valid_name(s, 1, 1, 0), name);
        CHECK_INT(feed_line_valid_name(s, 1, 1, 1), dotted);
        CHECK_INT(feed_line_valid_codecs(s, 1), codecs);
    }

    CHECK(!feed_line_valid_name("", 0, 64, 0));
    CHECK(!feed_line_valid_name("abc", 3, 2, 0));
    CHECK(!feed_line_valid_codecs("", 0));

    fp_state = 12345;

    for (k = 0; k < 20000; k++) {
        len = 1 + fp_below(12);

        for (i = 0; i < len; i++) {
            s[i] = "0123456789xx0169"[fp_below(fp_below(3) ? 16 : 13)];
        }

        s[len] = '\0';

        ok = feed_line_resolution(s, len, &w, &h);

        if (feed_unit_check(ok == fp_old_resolution(s, len, &ow, &oh),
                            __FILE__, __LINE__, "resolution \"%s\": %d", s,
                            ok)
            && ok)
        {
            feed_unit_check(w == ow && h == oh, __FILE__, __LINE__,
                            "resolution \"%s\": %ux%u, want %ux%u", s, w, h,
                            ow, oh);
        }
    }
}


/*
 * Generated lines, valid and mutated, into pairs of catalogs; each batch
 * ends with feed_catalog_finish() on both, which must agree too.
 */

static void
test_fastpath_lines(void)
{
    int         taken;
    char        id[32], data[FP_LINE_MAX];
    unsigned    batch, i, mutations;
    fp_pair_t   p;
    fp_buf_t    line;
    feed_line_t *l;

    l = feed_unit_alloc(sizeof(feed_line_t));
    l->segs = feed_unit_alloc(FEED_LINE_SEGS_MAX * sizeof(uint32_t));
    l->segs_max = FEED_LINE_SEGS_MAX;

    line.data = data;
    line.cap = sizeof(data);
    fp_state = 0x2545f4914f6cdd1dULL;

    for (batch = 0; batch < FP_BATCHES; batch++) {
        if (fp_pair_open(&p) != FEED_OK) {
            return;
        }

        for (i = 0; i < FP_BATCH; i++) {
            fp_case = batch * FP_BATCH + i;

            snprintf(id, sizeof(id), "fp%u", p.next_id++);
            fp_line(&line, id, &p, 1);

            /* a third of the lines stay as made, the rest are broken */

            if (fp_below(3) == 0) {
                taken = feed_line_scan(l, line.data, line.len) == FEED_OK;

                if (fp_pair_add(&p, &line, "valid") == FEED_OK) {
                    fp_valid_lines++;
                    fp_fast_taken += taken;
                }

                continue;
            }

            for (mutations = 1 + fp_below(2); mutations; mutations--) {
                fp_mutate(&line);
            }

            fp_pair_add(&p, &line, "mutated");
        }

        fp_case = batch;
        fp_pair_close(&p, "finish");
    }

    /*
     * The scanner is not just declining everything: the generator spells
     * half of the lines in ways it leaves to jansson (\n and \u escapes,
     * numbers of 17 digits and more, deep nesting, escaped keys).
     */

    feed_unit_check(fp_fast_taken * 10 >= fp_valid_lines * 3, __FILE__,
                    __LINE__, "the scanner took %u of %u valid lines",
                    fp_fast_taken, fp_valid_lines);
}


/*
 * Whole files through feed_catalog_load(), which reads ahead: files of
 * lines that a jansson-only catalog took one by one, and the same with
 * one line broken.
 */

static void
test_fastpath_files(void)
{
    int              rc1, rc2;
    char             id[32], data[FP_LINE_MAX], *text;
    size_t           len, cap;
    unsigned         round, i, bad;
    fp_pair_t        p;
    fp_buf_t         line;
    feed_err_t       e1, e2;
    const char      *path;
    feed_catalog_t  *fast, *slow, *probe;

    cap = (size_t) FP_FILE_LINES * 2048;
    text = feed_unit_alloc(cap);
    line.data = data;
    line.cap = sizeof(data);
    fp_state = 0xdeadbeefcafef00dULL;

    for (round = 0; round < 4; round++) {
        fp_case = round;

        probe = feed_catalog_new();
        if (!CHECK(probe != NULL)) {
            return;
        }

        feed_catalog_set_fast(probe, 0);

        p.next_id = 0;
        len = 0;
        bad = round ? 1 + fp_below(FP_FILE_LINES - 1) : FP_FILE_LINES;

        for (i = 0; i < FP_FILE_LINES; i++) {
            if (i < FP_BASE) {
                snprintf(id, sizeof(id), "base%u", i);

            } else {
                snprintf(id, sizeof(id), "fp%u", p.next_id++);
            }

            do {
                fp_line(&line, id, &p, i + 8 < FP_FILE_LINES);

            } while (strchr(line.data, '\n') != NULL
                     || (i < FP_BASE
                         && strstr(line.data, "\"lineage\":{") != NULL)
                     || feed_catalog_add(probe, line.data, line.len, i + 1,
                                         &e1)
                        != FEED_OK);

            if (i == bad) {
                fp_mutate(&line);
            }

            if (len + line.len + 4 > cap) {
                break;
            }

            memcpy(text + len, line.data, line.len);
            len += line.len;
            text[len++] = '\n';

            if (fp_below(50) == 0) {
                text[len++] = '\n';
            }
        }

        feed_catalog_free(probe);

        path = feed_unit_write("fastpath.jsonl", text, len);

        fast = feed_catalog_new();
        slow = feed_catalog_new();

        if (!CHECK(fast != NULL && slow != NULL)) {
            feed_catalog_free(fast);
            feed_catalog_free(slow);
            return;
        }

        feed_catalog_set_fast(slow, 0);

        memset(&e1, 0, sizeof(feed_err_t));
        memset(&e2, 0, sizeof(feed_err_t));

        rc1 = feed_catalog_load(fast, path, &e1);
        rc2 = feed_catalog_load(slow, path, &e2);

        if (fp_same_result(rc1, &e1, rc2, &e2, "file", NULL)
            && rc1 == FEED_OK)
        {
            fp_same_catalog(fast, slow, "file");
        }

        if (round == 0) {
            feed_unit_check(rc1 == FEED_OK, __FILE__, __LINE__,
                            "a good file: line %lu: %s", e1.line, e1.msg);
        }

        feed_catalog_free(fast);
        feed_catalog_free(slow);
    }
}


/*
 * Lineage loops, found in one pass: random duets, forward and backward,
 * against the quadratic walk that feed_catalog_finish() once did.
 */

static void
test_fastpath_loops(void)
{
    int              rc;
    char            *text, *p;
    size_t           cap;
    uint32_t         i, k, n, parent[64], steps, c;
    unsigned         round, loops;
    feed_err_t       err;
    unsigned long    want_line;
    feed_catalog_t  *cat;

    n = 64;
    cap = (size_t) n * 1024;
    text = feed_unit_alloc(cap);
    fp_state = 777;
    loops = 0;

    for (round = 0; round < 300; round++) {
        fp_case = round;
        p = text;

        for (i = 0; i < n; i++) {
            parent[i] = fp_below(3) == 0 ? FEED_NONE : fp_below(n);

            if (parent[i] == i) {
                parent[i] = FEED_NONE;
            }

            p += snprintf(p, cap - (size_t) (p - text),
                          "{\"id\":\"c%u\",\"creator\":\"a\",\"sound\":\"s\","
                          "\"created\":1,\"duration\":1,\"caption\":\"\","
                          "\"tags\":[],\"embedding\":[1],\"renditions\":"
                          "[{\"name\":\"r\",\"bandwidth\":1000,\"resolution\":"
                          "\"16x16\",\"codecs\":\"c\",\"segments\":[1]}]",
                          i);

            if (parent[i] != FEED_NONE) {
                p += snprintf(p, cap - (size_t) (p - text),
                              ",\"lineage\":{\"kind\":\"duet\","
                              "\"parent\":\"c%u\"}", parent[i]);
            }

            p += snprintf(p, cap - (size_t) (p - text), "}\n");
        }

        /* the first clip with a forward parent whose chain never ends */

        want_line = 0;

        for (i = 0; i < n && want_line == 0; i++) {
            if (parent[i] == FEED_NONE || parent[i] < i) {
                continue;
            }

            for (c = i, steps = 0; c != FEED_NONE && steps <= n; steps++) {
                c = parent[c];
            }

            if (c != FEED_NONE) {
                want_line = i + 1;
            }
        }

        rc = feed_unit_load(text, &cat, &err);

        if (want_line) {
            loops++;

            if (feed_unit_check(rc == FEED_ERROR, __FILE__, __LINE__,
                                "round %u: a loop loaded", round))
            {
                char  msg[64];

                k = (uint32_t) want_line - 1;
                snprintf(msg, sizeof(msg), "lineage loop through \"c%u\"", k);

                feed_unit_check(err.line == want_line
                                && strcmp(err.msg, msg) == 0,
                                __FILE__, __LINE__, "round %u: line %lu "
                                "\"%s\", want line %lu \"%s\"", round,
                                err.line, err.msg, want_line, msg);
            }

        } else {
            feed_unit_check(rc == FEED_OK, __FILE__, __LINE__,
                            "round %u: line %lu: %s", round, err.line,
                            err.msg);
        }

        feed_catalog_free(cat);
    }

    CHECK(loops > 50);
}


/*
 * base with its first "at" replaced by "to", then its placeholders by
 * ordinary values and its id by a new one; "@" stands for a NUL byte.
 */

static void
fp_fill(fp_buf_t *line, const char *base, const char *at, const char *to)
{
    char         id[32];
    size_t       i, k;
    const char  *p;

    static const char  *defaults[][2] = {
        { "ID", NULL }, { "CREATED", "1764100000" }, { "DURATION", "3" },
        { "BANDWIDTH", "600000" }, { "EMB", "0.5" }, { "SEG", "1.0" },
    };

    line->len = 0;
    line->data[0] = '\0';

    p = strstr(base, at);

    if (p == NULL) {
        fp_put(line, base);

    } else {
        fp_printf(line, "%.*s%s%s", (int) (p - base), base, to,
                  p + strlen(at));
    }

    snprintf(id, sizeof(id), "e%u", fp_case);
    defaults[0][1] = id;

    for (k = 0; k < sizeof(defaults) / sizeof(defaults[0]); k++) {
        p = strstr(line->data, defaults[k][0]);

        if (p != NULL) {
            i = (size_t) (p - line->data);
            fp_replace(line, i, i + strlen(defaults[k][0]), defaults[k][1]);
        }
    }

    for (i = 0; i < line->len; i++) {
        if (line->data[i] == '@') {
            line->data[i] = '\0';
        }
    }
}


/* edges, one at a time: each edit of a good line is loaded both ways */

static void
test_fastpath_edges(void)
{
    char         base[2048], *to;
    size_t       i, k, n;
    fp_pair_t    p;
    fp_buf_t     line;
    const char  *at;

    static char  data[FP_LINE_MAX];

    static const char  *strings[] = {
        "\xed\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xee\x80\x80",
        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\x8f\xbf\xbf",
        "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xe0\x9f\xbf", "\xe0\xa0\x80",
        "\xc2\x80", "\xc1\xbf", "\xc0\x80", "\xc2", "\xe2\x82", "\xf0\x9f\xa6",
        "\x80", "\xbf", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xfe",
        "\xff", "\x7f", "\x1f", "\x01", "\t", "@", "a@b", "\\\"", "\\\\", "\\/",
        "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u0000", "\\ud800",
        "\\udc00", "\\ud83e\\udd8a", "\\ud83e", "\\x", "\\", "\\u12", "\\U0041",
        "\\'", "\\0", "\"", "",
    };

    static const char  *numbers[] = {
        "CREATED", "DURATION", "BANDWIDTH", "EMB", "SEG",
    };

    static const struct {
        const char  *from;
        const char  *to;
    } edits[] = {
        { "{\"id\"", "{\"i\\u0064\":\"x\",\"id\"" },
        { "{\"id\"", "{\"i\\/d\":\"x\",\"id\"" },
        { "{\"id\"", "{\"\":1,\"id\"" },
        { "{\"id\"", "{\"\":1,\"\":2,\"id\"" },
        { "{\"id\"", "{\"x\":1,\"x\":2,\"id\"" },
        { "{\"id\"", "{\"x\":{\"a\":1,\"a\":2},\"id\"" },
        { "{\"id\"", "{\"x\":{\"a\":{\"a\":1}},\"id\"" },
        { "{\"id\"", "\xef\xbb\xbf{\"id\"" },
        { "{\"id\"", " \t\r\n{ \t\r\n\"id\" \t\r\n: \t\r\n" },
        { "{\"id\"", "\f{\"id\"" },
        { "{\"id\"", "{\"id\"\v" },
        { "]}]}", "]}]} \t" },
        { "]}]}", "]}]}@" },
        { "]}]}", "]}]},{}" },
        { "]}]}", "]}],}" },
        { "]}]}", "]}]}}" },
        { "\"tags\":[\"nature\",\"animals\"]", "\"tags\":[]" },
        { "\"tags\":[\"nature\",\"animals\"]", "\"tags\":[ ]" },
        { "\"tags\":[\"nature\",\"animals\"]", "\"tags\":[\"\"]" },
        { "\"tags\":[\"nature\",\"animals\"]", "\"tags\":[\"a\",]" },
        { "\"tags\":[\"nature\",\"animals\"]", "\"tags\":[,\"a\"]" },
        { "\"tags\":[\"nature\",\"animals\"]", "\"tags\":null" },
        { "\"caption\":\"Fox\"", "\"caption\":null" },
        { "\"caption\":\"Fox\"", "\"caption\":\"\"" },
        { "\"lineage\":null", "\"lineage\":nul" },
        { "\"lineage\":null", "\"lineage\":null,\"x\":nul" },
        { "\"lineage\":null", "\"lineage\":null,\"x\":tru}" },
        { "\"lineage\":null", "\"lineage\":null,\"x\":fals" },
        { "\"lineage\":null", "\"lineage\":null,\"x\":[nul]" },
        { "\"lineage\":null", "\"lineage\":null,\"x\":True" },
        { "\"lineage\":null", "\"lineage\":null,\"x\":nulls" },
        { "\"lineage\":null", "\"lineage\":nulll" },
        { "\"lineage\":null", "\"lineage\":null,\"lineage\":null" },
        { "\"lineage\":null", "\"lineage\":{}" },
        { "\"lineage\":null", "\"lineage\":[]" },
        { "\"lineage\":null", "\"lineage\":false" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"duet\","
          "\"parent\":\"base0\",\"offset\":null}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"duet\","
          "\"parent\":\"base0\",\"layout\":\"top\",\"layout\":\"side\"}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"stitch\","
          "\"parent\":\"base0\",\"parent_segments\":1,\"layout\":7,"
          "\"offset\":\"x\"}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"stitch\","
          "\"parent\":\"base0\",\"parent_segments\":1.0}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"stitch\","
          "\"parent\":\"base0\",\"parent_segments\":-0}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"stitch\","
          "\"parent\":\"base0\",\"parent_segments\":1e0}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"stitch\","
          "\"parent\":\"base0\",\"parent_segments\":10001}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"stitch\","
          "\"parent\":\"base0\",\"parent_segments\":99999}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"duet\","
          "\"parent\":\"e0\"}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"duet\","
          "\"parent\":\"later\"}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"duet\","
          "\"parent\":\"base0\",\"offset\":-0.0,\"layout\":\"top\"}" },
        { "\"lineage\":null", "\"lineage\":{\"kind\":\"duet\\u0000\","
          "\"parent\":\"base0\"}" },
        { "\"resolution\":\"360x640\"", "\"resolution\":\"00360x00640\"" },
        { "\"resolution\":\"360x640\"", "\"resolution\":\"000360x640\"" },
        { "\"resolution\":\"360x640\"", "\"resolution\":\"360x\\u0036\"" },
        { "\"resolution\":\"360x640\"", "\"resolution\":\"360X640\"" },
        { "\"name\":\"360p\"", "\"name\":\"540p\"" },
        { "\"name\":\"360p\"", "\"name\":\"360p\",\"name\":\"360p\"" },
        { "\"codecs\":\"c1\"", "\"codecs\":\"c1\\/c2\"" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.0,2.0],\"x\":"
          "[[[[[[[[1]]]]]]]]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.0,2.0,]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.0 2.0]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.0,2.0 ]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.0,2.0]]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.0,2.0e]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.0,2.0-]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[2.0,1.0]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.0,2.0,1.0,2.0]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.0,1.0,1.0]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.0,2.0,true]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[0.0000004,3]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[0.0000005,3]}" },
        { "\"segments\":[1.0,2.0]}", "\"segments\":[1.00000050,2]}" },
    };

    fp_state = 4242;
    line.data = data;
    line.cap = sizeof(data);

    if (fp_pair_open(&p) != FEED_OK) {
        return;
    }

    snprintf(base, sizeof(base), "%s",
             "{\"id\":\"ID\",\"creator\":\"ana\",\"sound\":\"s\","
             "\"created\":CREATED,\"duration\":DURATION,"
             "\"caption\":\"Fox\",\"tags\":[\"nature\",\"animals\"],"
             "\"embedding\":[EMB,0.5,0.25,1],\"lineage\":null,"
             "\"renditions\":[{\"name\":\"360p\",\"bandwidth\":BANDWIDTH,"
             "\"resolution\":\"360x640\",\"codecs\":\"c1\","
             "\"segments\":[1.0,2.0]},{\"name\":\"r2\",\"bandwidth\":1000,"
             "\"resolution\":\"16x16\",\"codecs\":\"c2\","
             "\"segments\":[SEG,2.0]}]}");

    /* the plain line: the placeholders take ordinary values */

    /* a string in a caption, as a tag, as an unknown key and value */

    to = feed_unit_alloc(8192);
    fp_case = 100000;

    for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        for (k = 0; k < 3; k++) {
            if (k == 0) {
                at = "\"caption\":\"Fox\"";
                snprintf(to, 8192, "\"caption\":\"Fox%s\"", strings[i]);

            } else if (k == 1) {
                at = "\"nature\"";
                snprintf(to, 8192, "\"%s\"", strings[i]);

            } else {
                at = "\"lineage\":null";
                snprintf(to, 8192, "\"lineage\":null,\"x%s\":\"%s\"",
                         strings[i], strings[i]);
            }

            fp_fill(&line, base, at, to);
            fp_pair_add(&p, &line, "string");
            fp_case++;
        }
    }

    for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        fp_fill(&line, base, edits[i].from, edits[i].to);
        fp_pair_add(&p, &line, "edit");
        fp_case++;
    }

    /* odd numbers wherever a number goes */

    for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        for (k = 0; k < sizeof(fp_odd_numbers) / sizeof(fp_odd_numbers[0]);
             k++)
        {
            fp_fill(&line, base, numbers[i], fp_odd_numbers[k]);
            fp_pair_add(&p, &line, "number");
            fp_case++;
        }
    }

    /* nested deeper than jansson's limit (2048) */

    n = 3000;
    memcpy(to, "\"deep\":", 7);
    memset(to + 7, '[', n);
    to[7 + n] = '1';
    memset(to + 8 + n, ']', n);
    memcpy(to + 8 + 2 * n, ",\"id\"", 6);
    to[14 + 2 * n] = '\0';

    fp_fill(&line, base, "\"id\"", to);
    fp_pair_add(&p, &line, "deep");

    fp_pair_close(&p, "edges");
}


/* the common lines are the scanner's, and it reads them right */

static void
test_fastpath_taken(void)
{
    size_t        i;
    feed_line_t  *l;

    static const char  *lines[] = {

        /* README's example */

        "{\"id\":\"fox-001\",\"creator\":\"ana\",\"sound\":\"lofi-1\","
        "\"created\":1764100000,\"duration\":7.0,"
        "\"caption\":\"Fox at dawn\",\"tags\":[\"nature\",\"animals\"],"
        "\"embedding\":[0.12,-0.5,0.3,0.0,0.9,-0.1,0.2,0.4],"
        "\"renditions\":["
        "{\"name\":\"360p\",\"bandwidth\":600000,\"resolution\":\"360x640\","
        "\"codecs\":\"avc1.64001e,mp4a.40.2\",\"segments\":[1.0,2.0,2.0,2.0]},"
        "{\"name\":\"540p\",\"bandwidth\":1200000,\"resolution\":\"540x960\","
        "\"codecs\":\"avc1.64001f,mp4a.40.2\",\"segments\":[1.0,2.0,2.0,2.0]}],"
        "\"lineage\":{\"kind\":\"stitch\",\"parent\":\"fox-000\","
        "\"parent_segments\":2}}",

        /* tools/gen-catalog's */

        "{\"id\":\"22g2cdsb6\",\"creator\":\"otto_river4\","
        "\"sound\":\"remix-72\",\"created\":1735690077,\"duration\":9.2,"
        "\"caption\":\"Day 12 of tiny coding this week #robots\","
        "\"tags\":[\"coding\",\"robots\",\"smartphone\"],"
        "\"embedding\":[0.2461,-0.1986,-0.3861,-0.6131,0.5622,-0.1148,0.1158,"
        "0.18],\"renditions\":[{\"name\":\"360p\",\"bandwidth\":582766,"
        "\"resolution\":\"360x640\",\"codecs\":\"avc1.64001e,mp4a.40.2\","
        "\"segments\":[1.0,2.0,2.0,2.0,2.0,0.2]},{\"name\":\"540p\","
        "\"bandwidth\":1165533,\"resolution\":\"540x960\","
        "\"codecs\":\"avc1.64001f,mp4a.40.2\","
        "\"segments\":[1.0,2.0,2.0,2.0,2.0,0.2]},{\"name\":\"720p\","
        "\"bandwidth\":2331066,\"resolution\":\"720x1280\","
        "\"codecs\":\"avc1.64001f,mp4a.40.2\","
        "\"segments\":[1.0,2.0,2.0,2.0,2.0,0.2]}],"
        "\"lineage\":{\"kind\":\"duet\",\"parent\":\"b09ge1iw1\","
        "\"offset\":1.5,\"layout\":\"top\"}}",
    };

    l = feed_unit_alloc(sizeof(feed_line_t));
    l->segs = feed_unit_alloc(FEED_LINE_SEGS_MAX * sizeof(uint32_t));
    l->segs_max = FEED_LINE_SEGS_MAX;

    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        CHECK_INT(feed_line_scan(l, lines[i], strlen(lines[i])), FEED_OK);
    }

    /* the last one's values */

    CHECK_MEM(l->id, l->id_len, "22g2cdsb6");
    CHECK_MEM(l->creator, l->creator_len, "otto_river4");
    CHECK_MEM(l->sound, l->sound_len, "remix-72");
    CHECK_MEM(l->caption, l->caption_len,
              "Day 12 of tiny coding this week #robots");
    CHECK_UINT(l->created, 1735690077);
    CHECK_UINT(l->duration_ms, 9200);
    CHECK_UINT(l->ntags, 3);
    CHECK_MEM(l->tags[2], l->tag_lens[2], "smartphone");
    CHECK_UINT(l->dim, 8);
    CHECK(l->embedding[0] == (float) 0.2461 && l->embedding[7] == 0.18f);
    CHECK_UINT(l->nrenditions, 3);
    CHECK_MEM(l->renditions[2].name, l->renditions[2].name_len, "720p");
    CHECK_UINT(l->renditions[2].bandwidth, 2331066);
    CHECK_UINT(l->renditions[2].width, 720);
    CHECK_UINT(l->renditions[2].height, 1280);
    CHECK_UINT(l->renditions[1].nsegments, 6);
    CHECK_UINT(l->segs[l->renditions[1].segments + 5], 200000);
    CHECK_UINT(l->lineage, FEED_LINEAGE_DUET);
    CHECK_MEM(l->parent, l->parent_len, "b09ge1iw1");
    CHECK_UINT(l->offset_ms, 1500);
    CHECK_UINT(l->layout, FEED_LAYOUT_TOP);

    /* the scanner reads nothing past the line's length */

    CHECK_INT(feed_line_scan(l, lines[0], strlen(lines[0]) - 1),
              FEED_DECLINED);
    CHECK_INT(feed_line_scan(l, lines[0], 0), FEED_DECLINED);
}


void
feed_unit_fastpath_tests(void)
{
    RUN(test_fastpath_taken);
    RUN(test_fastpath_edges);
    RUN(test_fastpath_numbers);
    RUN(test_fastpath_rules);
    RUN(test_fastpath_lines);
    RUN(test_fastpath_files);
    RUN(test_fastpath_loops);
}
