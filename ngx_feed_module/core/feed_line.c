
/*
 * Copyright (C) the feed module developers
 */


/*
 * The fast catalog line scanner: one pass over the line, no allocation,
 * straight into the values the catalog keeps.  jansson stays the
 * authority: the scanner accepts a strict and common subset of JSON and
 * returns FEED_DECLINED for anything else, including every line that
 * breaks a catalog rule, so that the jansson path reports it with its
 * usual message and line number.
 *
 * Accepted, besides the catalog's own keys in any order:
 *   - strings in valid UTF-8 whose only escapes are \" \\ and \/;
 *   - integers of up to 18 digits, which strtoll() takes exactly;
 *   - decimals of up to 19 significant digits whose value is m * 10^e
 *     with m <= 2^53 and |e| <= 22: m and 10^|e| are exact doubles, so
 *     one IEEE multiplication or division rounds the exact value once,
 *     to nearest, which is what a correctly rounded strtod() returns;
 *   - unknown keys without escapes, not repeated, whose values are any
 *     of the above nested at most FEED_SCAN_DEPTH deep.
 * A repeated known key is declined too: jansson reports duplicates.
 */

#include <float.h>
#include <math.h>
#include <string.h>

#include "feed_line.h"


#define FEED_SCAN_WS           1
#define FEED_SCAN_PLAIN        2     /* a string byte needing no attention */
#define FEED_SCAN_NAME         4     /* A-Z a-z 0-9 _ - */
#define FEED_SCAN_DOT          8     /* . */
#define FEED_SCAN_CODECS       16    /* A-Z a-z 0-9 _ - . , */

#define FEED_SCAN_DEPTH        4     /* nesting inside an unknown value */
#define FEED_SCAN_KEYS         16    /* unknown keys in one object */

/*
 * Word-at-a-time tests: whether any byte of a 64-bit word is zero, or
 * less than n (n <= 0x80); exact as to whether there is one.
 */

#define FEED_SCAN_ONES         0x0101010101010101ULL
#define FEED_SCAN_HIGHS        0x8080808080808080ULL
#define FEED_SCAN_ZERO(w)      (((w) - FEED_SCAN_ONES) & ~(w) & FEED_SCAN_HIGHS)
#define FEED_SCAN_LESS(w, n)                                                  \
    (((w) - FEED_SCAN_ONES * (n)) & ~(w) & FEED_SCAN_HIGHS)

#define FEED_SCAN_MORE         1     /* feed_scan_next(): a "," */
#define FEED_SCAN_END          2     /* feed_scan_next(): the closing one */

#define FEED_SCAN_STRING       1
#define FEED_SCAN_NUMBER       2
#define FEED_SCAN_OTHER        3     /* true, false, null, array, object */

/*
 * The exact decimal path needs plain IEEE double arithmetic; with excess
 * precision (x87) every number with a fraction or exponent is declined.
 */

#if defined(FLT_EVAL_METHOD) && (FLT_EVAL_METHOD == 0 || FLT_EVAL_METHOD == 1)
#define FEED_SCAN_REALS        1
#else
#define FEED_SCAN_REALS        0
#endif


/* the catalog's keys, one bit each */

#define FEED_KEY_ID            0x0001
#define FEED_KEY_CREATOR       0x0002
#define FEED_KEY_SOUND         0x0004
#define FEED_KEY_CREATED       0x0008
#define FEED_KEY_DURATION      0x0010
#define FEED_KEY_CAPTION       0x0020
#define FEED_KEY_TAGS          0x0040
#define FEED_KEY_EMBEDDING     0x0080
#define FEED_KEY_RENDITIONS    0x0100
#define FEED_KEY_LINEAGE       0x0200
#define FEED_KEY_CLIP_ALL      0x01ff      /* all but lineage */

#define FEED_KEY_NAME          0x0001
#define FEED_KEY_BANDWIDTH     0x0002
#define FEED_KEY_RESOLUTION    0x0004
#define FEED_KEY_CODECS        0x0008
#define FEED_KEY_SEGMENTS      0x0010
#define FEED_KEY_RENDITION_ALL 0x001f

#define FEED_KEY_KIND          0x0001
#define FEED_KEY_PARENT        0x0002
#define FEED_KEY_PARENT_SEGS   0x0004
#define FEED_KEY_OFFSET        0x0008
#define FEED_KEY_LAYOUT        0x0010


typedef struct {
    const unsigned char   *p;
    const unsigned char   *end;
} feed_scan_t;


/* unknown keys seen in one object, to decline duplicates */

typedef struct {
    const unsigned char   *key[FEED_SCAN_KEYS];
    size_t                 len[FEED_SCAN_KEYS];
    unsigned               n;
} feed_scan_keys_t;


/* a value kept for later, when its meaning depends on another key */

typedef struct {
    const unsigned char   *str;
    size_t                 len;
    unsigned               esc;
    unsigned               type;
    feed_line_num_t        num;
} feed_scan_value_t;


/* the last "segments" array parsed: renditions usually repeat it */

typedef struct {
    const unsigned char   *text;
    size_t                 len;
    uint32_t               index;
    uint32_t               n;
    double                 sum;
} feed_scan_segs_t;


typedef struct {
    unsigned               seen;
    feed_scan_value_t      kind;
    feed_scan_value_t      parent;
    feed_scan_value_t      parent_segments;
    feed_scan_value_t      offset;
    feed_scan_value_t      layout;
} feed_scan_lineage_t;


/*
 * Keys in the order writers usually put them: the next one is guessed
 * and compared as a whole, quotes and colon included, before the key is
 * scanned as a string; a key written so has no escapes.
 */

typedef struct {
    const char            *text;
    size_t                 len;
    unsigned               bit;
} feed_scan_guess_t;


static void feed_scan_ws(feed_scan_t *s);
static int feed_scan_next(feed_scan_t *s, unsigned char close);
static int feed_scan_string(feed_scan_t *s, const unsigned char **str,
    size_t *len, unsigned *esc);
static size_t feed_scan_utf8(const unsigned char *p,
    const unsigned char *end);
static void feed_scan_unescape(char *dst, const unsigned char *src,
    size_t len);
static int feed_scan_number(feed_scan_t *s, feed_line_num_t *num);
static double feed_scan_num_value(const feed_line_num_t *num);
static int feed_scan_key(feed_scan_t *s, const unsigned char **key,
    size_t *len);
static unsigned feed_scan_guess(feed_scan_t *s,
    const feed_scan_guess_t *order, unsigned *guess);
static unsigned feed_scan_clip_key(const unsigned char *k, size_t len);
static unsigned feed_scan_rendition_key(const unsigned char *k, size_t len);
static unsigned feed_scan_lineage_key(const unsigned char *k, size_t len);
static int feed_scan_unknown(feed_scan_t *s, feed_scan_keys_t *keys,
    const unsigned char *key, size_t len, unsigned depth);
static int feed_scan_skip(feed_scan_t *s, unsigned depth);
static int feed_scan_value(feed_scan_t *s, feed_scan_value_t *v);
static int feed_scan_name(feed_scan_t *s, const char **name, size_t *len,
    size_t max, int dot);
static int feed_scan_tags(feed_scan_t *s, feed_line_t *l);
static int feed_scan_embedding(feed_scan_t *s, feed_line_t *l);
static int feed_scan_renditions(feed_scan_t *s, feed_line_t *l,
    double *sums);
static int feed_scan_rendition(feed_scan_t *s, feed_line_t *l,
    feed_line_rendition_t *r, double *sum, uint32_t *used,
    feed_scan_segs_t *prev);
static int feed_scan_segments(feed_scan_t *s, feed_line_t *l,
    feed_line_rendition_t *r, double *sum, uint32_t *used,
    feed_scan_segs_t *prev);
static int feed_scan_lineage(feed_scan_t *s, feed_scan_lineage_t *lin);
static int feed_scan_lineage_check(feed_line_t *l,
    feed_scan_lineage_t *lin);


#define W  FEED_SCAN_WS
#define P  FEED_SCAN_PLAIN
#define N  (FEED_SCAN_PLAIN|FEED_SCAN_NAME|FEED_SCAN_CODECS)
#define D  (FEED_SCAN_PLAIN|FEED_SCAN_DOT|FEED_SCAN_CODECS)
#define C  (FEED_SCAN_PLAIN|FEED_SCAN_CODECS)

static const unsigned char  feed_scan_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, W, W, 0, 0, W, 0, 0,     /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 0x10 */
    W|P, P, 0, P, P, P, P, P, P, P, P, P, C, N, D, P,   /* 0x20: " , - . */
    N, N, N, N, N, N, N, N, N, N, P, P, P, P, P, P,     /* 0x30: 0-9 */
    P, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N,     /* 0x40: A-O */
    N, N, N, N, N, N, N, N, N, N, N, P, 0, P, P, N,     /* 0x50: P-Z \ _ */
    P, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N,     /* 0x60: a-o */
    N, N, N, N, N, N, N, N, N, N, N, P, P, P, P, P,     /* 0x70: p-z */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 0x80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

#undef W
#undef P
#undef N
#undef D
#undef C


/* the usual orders of the keys */

#define feed_scan_literal(key, bit)  { "\"" key "\":", sizeof(key) + 2, bit }

static const feed_scan_guess_t  feed_scan_clip_order[] = {
    feed_scan_literal("id", FEED_KEY_ID),
    feed_scan_literal("creator", FEED_KEY_CREATOR),
    feed_scan_literal("sound", FEED_KEY_SOUND),
    feed_scan_literal("created", FEED_KEY_CREATED),
    feed_scan_literal("duration", FEED_KEY_DURATION),
    feed_scan_literal("caption", FEED_KEY_CAPTION),
    feed_scan_literal("tags", FEED_KEY_TAGS),
    feed_scan_literal("embedding", FEED_KEY_EMBEDDING),
    feed_scan_literal("renditions", FEED_KEY_RENDITIONS),
    feed_scan_literal("lineage", FEED_KEY_LINEAGE),
    { NULL, 0, 0 }
};

static const feed_scan_guess_t  feed_scan_rendition_order[] = {
    feed_scan_literal("name", FEED_KEY_NAME),
    feed_scan_literal("bandwidth", FEED_KEY_BANDWIDTH),
    feed_scan_literal("resolution", FEED_KEY_RESOLUTION),
    feed_scan_literal("codecs", FEED_KEY_CODECS),
    feed_scan_literal("segments", FEED_KEY_SEGMENTS),
    { NULL, 0, 0 }
};

#undef feed_scan_literal


static const double  feed_scan_pow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};


/* the defaults of the optional fields, shared by both parsers */

void
feed_line_reset(feed_line_t *l)
{
    l->parent = NULL;
    l->parent_len = 0;
    l->parent_idx = FEED_NONE;
    l->offset_ms = 0;
    l->parent_segments = 0;
    l->lineage = FEED_LINEAGE_NONE;
    l->layout = FEED_LAYOUT_SIDE;
    l->ntags = 0;
    l->dim = 0;
    l->nrenditions = 0;
}


int
feed_line_scan(feed_line_t *l, const char *line, size_t len)
{
    int                    rc;
    double                 duration, v, sums[FEED_RENDITIONS_MAX];
    size_t                 klen, n;
    uint32_t               i;
    unsigned               seen, bit, esc, lineage, guess;
    feed_scan_t            s;
    feed_line_num_t        num;
    feed_scan_keys_t       keys;
    feed_scan_lineage_t    lin;
    const unsigned char   *key, *str;

    feed_line_reset(l);

    s.p = (const unsigned char *) line;
    s.end = s.p + len;

    feed_scan_ws(&s);

    if (s.p == s.end || *s.p != '{') {
        return FEED_DECLINED;
    }

    s.p++;
    feed_scan_ws(&s);

    seen = 0;
    lineage = 0;
    keys.n = 0;
    duration = 0;
    guess = 0;

    do {
        bit = feed_scan_guess(&s, feed_scan_clip_order, &guess);

        if (bit == 0) {
            if (feed_scan_key(&s, &key, &klen) != FEED_OK) {
                return FEED_DECLINED;
            }

            bit = feed_scan_clip_key(key, klen);
        }

        if (bit == 0) {
            if (feed_scan_unknown(&s, &keys, key, klen, 0) != FEED_OK) {
                return FEED_DECLINED;
            }

            continue;
        }

        if (seen & bit) {
            return FEED_DECLINED;
        }

        seen |= bit;

        switch (bit) {

        case FEED_KEY_ID:
            rc = feed_scan_name(&s, &l->id, &l->id_len, FEED_ID_MAX, 0);
            break;

        case FEED_KEY_CREATOR:
            rc = feed_scan_name(&s, &l->creator, &l->creator_len,
                                FEED_ID_MAX, 1);
            break;

        case FEED_KEY_SOUND:
            rc = feed_scan_name(&s, &l->sound, &l->sound_len, FEED_ID_MAX,
                                1);
            break;

        case FEED_KEY_CREATED:
            rc = feed_scan_number(&s, &num);

            if (rc == FEED_OK) {
                v = (double) num.integer;

                if (!num.is_integer || v < 1 || v > 4102444800.0) {
                    return FEED_DECLINED;
                }

                l->created = (uint32_t) v;
            }

            break;

        case FEED_KEY_DURATION:
            rc = feed_scan_number(&s, &num);

            if (rc == FEED_OK) {
                duration = feed_scan_num_value(&num);

                if (!(duration > 0 && duration <= 3600)) {
                    return FEED_DECLINED;
                }

                l->duration_ms = feed_line_ms(duration);
            }

            break;

        case FEED_KEY_CAPTION:
            if (s.p == s.end || *s.p != '"'
                || feed_scan_string(&s, &str, &n, &esc) != FEED_OK
                || n - esc > FEED_CAPTION_MAX)
            {
                return FEED_DECLINED;
            }

            if (esc) {
                feed_scan_unescape(l->caption_buf, str, n);
                l->caption = l->caption_buf;
                l->caption_len = n - esc;

            } else {
                l->caption = (const char *) str;
                l->caption_len = n;
            }

            rc = FEED_OK;
            break;

        case FEED_KEY_TAGS:
            rc = feed_scan_tags(&s, l);
            break;

        case FEED_KEY_EMBEDDING:
            rc = feed_scan_embedding(&s, l);
            break;

        case FEED_KEY_RENDITIONS:
            rc = feed_scan_renditions(&s, l, sums);
            break;

        default: /* FEED_KEY_LINEAGE */

            /* null is no lineage, as if the key were not there */

            if ((size_t) (s.end - s.p) >= 4 && memcmp(s.p, "null", 4) == 0) {
                s.p += 4;
                rc = FEED_OK;
                break;
            }

            lineage = 1;
            rc = feed_scan_lineage(&s, &lin);
            break;
        }

        if (rc != FEED_OK) {
            return FEED_DECLINED;
        }

    } while ((rc = feed_scan_next(&s, '}')) == FEED_SCAN_MORE);

    if (rc != FEED_SCAN_END) {
        return FEED_DECLINED;
    }

    feed_scan_ws(&s);

    if (s.p != s.end || (seen & FEED_KEY_CLIP_ALL) != FEED_KEY_CLIP_ALL) {
        return FEED_DECLINED;
    }

    /* the rules that involve more than one key */

    for (i = 0; i < l->nrenditions; i++) {
        if (!feed_line_sum_ok(sums[i], duration)) {
            return FEED_DECLINED;
        }
    }

    if (lineage && feed_scan_lineage_check(l, &lin) != FEED_OK) {
        return FEED_DECLINED;
    }

    return FEED_OK;
}


int
feed_line_number(const char *s, size_t len, feed_line_num_t *num)
{
    feed_scan_t  scan;

    scan.p = (const unsigned char *) s;
    scan.end = scan.p + len;

    if (feed_scan_number(&scan, num) != FEED_OK || scan.p != scan.end) {
        return FEED_DECLINED;
    }

    return FEED_OK;
}


/* the JSON grammar's whitespace, which is what jansson skips */

static void
feed_scan_ws(feed_scan_t *s)
{
    while (s->p < s->end && (feed_scan_class[*s->p] & FEED_SCAN_WS)) {
        s->p++;
    }
}


/* after an element: a "," and the next one, or the closing bracket */

static int
feed_scan_next(feed_scan_t *s, unsigned char close)
{
    feed_scan_ws(s);

    if (s->p == s->end) {
        return FEED_DECLINED;
    }

    if (*s->p == ',') {
        s->p++;
        feed_scan_ws(s);
        return FEED_SCAN_MORE;
    }

    if (*s->p == close) {
        s->p++;
        return FEED_SCAN_END;
    }

    return FEED_DECLINED;
}


/*
 * A string at its opening quote; [*str, *str + *len) is its raw text in
 * the line, with *esc escapes, each two bytes for one.
 */

static int
feed_scan_string(feed_scan_t *s, const unsigned char **str, size_t *len,
    unsigned *esc)
{
    size_t                 n;
    uint64_t               w;
    unsigned               e;
    unsigned char          c;
    const unsigned char   *p, *end;

    p = s->p + 1;
    end = s->end;
    *str = p;
    e = 0;

    for ( ;; ) {

        /*
         * Eight bytes at a time while none is a quote, a backslash, a
         * control character or part of a UTF-8 sequence.
         */

        while (end - p >= 8) {
            memcpy(&w, p, 8);

            if (FEED_SCAN_ZERO(w ^ (FEED_SCAN_ONES * '"'))
                | FEED_SCAN_ZERO(w ^ (FEED_SCAN_ONES * '\\'))
                | FEED_SCAN_LESS(w, 0x20)
                | (w & FEED_SCAN_HIGHS))
            {
                break;
            }

            p += 8;
        }

        while (p < end && (feed_scan_class[*p] & FEED_SCAN_PLAIN)) {
            p++;
        }

        if (p == end) {
            return FEED_DECLINED;
        }

        c = *p;

        if (c == '"') {
            break;
        }

        if (c == '\\') {
            if (end - p < 2 || (p[1] != '"' && p[1] != '\\' && p[1] != '/'))
            {
                return FEED_DECLINED;
            }

            p += 2;
            e++;
            continue;
        }

        /* a control character, or the first byte of a UTF-8 sequence */

        n = c < 0x80 ? 0 : feed_scan_utf8(p, end);
        if (n == 0) {
            return FEED_DECLINED;
        }

        p += n;
    }

    *len = (size_t) (p - *str);
    *esc = e;
    s->p = p + 1;

    return FEED_OK;
}


/*
 * The length of the well-formed UTF-8 sequence at p, or 0: no overlong
 * forms, no surrogates, nothing above U+10FFFF (Unicode table 3-7, and
 * what jansson checks).
 */

static size_t
feed_scan_utf8(const unsigned char *p, const unsigned char *end)
{
    size_t         n, i;
    unsigned char  c, lo, hi;

    c = p[0];
    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;

    } else if (c == 0xe0) {
        n = 3;
        lo = 0xa0;

    } else if (c == 0xed) {
        n = 3;
        hi = 0x9f;

    } else if (c >= 0xe1 && c <= 0xef) {
        n = 3;

    } else if (c == 0xf0) {
        n = 4;
        lo = 0x90;

    } else if (c >= 0xf1 && c <= 0xf3) {
        n = 4;

    } else if (c == 0xf4) {
        n = 4;
        hi = 0x8f;

    } else {
        return 0;
    }

    if ((size_t) (end - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


/* every backslash in the raw text is followed by the byte it stands for */

static void
feed_scan_unescape(char *dst, const unsigned char *src, size_t len)
{
    const unsigned char  *end;

    end = src + len;

    while (src < end) {
        if (*src == '\\') {
            src++;
        }

        *dst++ = (char) *src++;
    }
}


static int
feed_scan_number(feed_scan_t *s, feed_line_num_t *num)
{
    int                    e, x, neg, xneg;
    double                 v;
    uint64_t               m;
    unsigned               nd;
    const unsigned char   *p, *end;

    p = s->p;
    end = s->end;
    neg = 0;

    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }

    if (p == end || (unsigned) (*p - '0') > 9) {
        return FEED_DECLINED;
    }

    /* m holds the significant digits, nd of them; e is the exponent */

    m = 0;
    nd = 0;
    e = 0;

    if (*p == '0') {
        p++;

        if (p < end && (unsigned) (*p - '0') <= 9) {
            return FEED_DECLINED;            /* a leading zero */
        }

    } else {
        do {
            if (nd == 19) {
                return FEED_DECLINED;
            }

            m = m * 10 + (unsigned) (*p++ - '0');
            nd++;

        } while (p < end && (unsigned) (*p - '0') <= 9);
    }

    if (p == end || (*p != '.' && *p != 'e' && *p != 'E')) {

        /* an integer: jansson calls strtoll(), which takes 18 digits */

        if (nd > 18) {
            return FEED_DECLINED;
        }

        num->is_integer = 1;
        num->integer = neg ? -(int64_t) m : (int64_t) m;
        num->real = 0;
        s->p = p;

        return FEED_OK;
    }

    if (*p == '.') {
        p++;

        if (p == end || (unsigned) (*p - '0') > 9) {
            return FEED_DECLINED;
        }

        do {
            if (m == 0 && *p == '0') {
                e--;                         /* zeros before the first */
                p++;                         /* significant digit */
                continue;
            }

            if (nd == 19) {
                return FEED_DECLINED;
            }

            m = m * 10 + (unsigned) (*p++ - '0');
            nd++;
            e--;

        } while (p < end && (unsigned) (*p - '0') <= 9);
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        xneg = 0;

        if (p < end && (*p == '+' || *p == '-')) {
            xneg = (*p == '-');
            p++;
        }

        if (p == end || (unsigned) (*p - '0') > 9) {
            return FEED_DECLINED;
        }

        x = 0;

        do {
            if (x < 10000) {
                x = x * 10 + (*p - '0');
            }

            p++;

        } while (p < end && (unsigned) (*p - '0') <= 9);

        e += xneg ? -x : x;
    }

    if (!FEED_SCAN_REALS) {
        return FEED_DECLINED;
    }

    if (m == 0) {
        v = 0;                               /* strtod(): no range error */

    } else if (m <= ((uint64_t) 1 << 53) && e >= -22 && e <= 22) {
        v = (double) m;
        v = e < 0 ? v / feed_scan_pow10[-e] : v * feed_scan_pow10[e];

    } else {
        return FEED_DECLINED;
    }

    num->is_integer = 0;
    num->integer = 0;
    num->real = neg ? -v : v;
    s->p = p;

    return FEED_OK;
}


/* json_number_value() */

static double
feed_scan_num_value(const feed_line_num_t *num)
{
    return num->is_integer ? (double) num->integer : num->real;
}


/* a key without escapes, its ":" and the whitespace around */

static int
feed_scan_key(feed_scan_t *s, const unsigned char **key, size_t *len)
{
    unsigned  esc;

    if (s->p == s->end || *s->p != '"'
        || feed_scan_string(s, key, len, &esc) != FEED_OK
        || esc != 0)
    {
        return FEED_DECLINED;
    }

    feed_scan_ws(s);

    if (s->p == s->end || *s->p != ':') {
        return FEED_DECLINED;
    }

    s->p++;
    feed_scan_ws(s);

    return FEED_OK;
}


/*
 * The key at s->p if it is the guessed one, with its colon and the
 * whitespace after: its bit, and the next guess; else 0.
 */

static unsigned
feed_scan_guess(feed_scan_t *s, const feed_scan_guess_t *order,
    unsigned *guess)
{
    const feed_scan_guess_t  *g;

    g = &order[*guess];

    if (g->text == NULL
        || (size_t) (s->end - s->p) < g->len
        || memcmp(s->p, g->text, g->len) != 0)
    {
        return 0;
    }

    s->p += g->len;
    feed_scan_ws(s);
    (*guess)++;

    return g->bit;
}


/* the keys of each object; comparisons of a known size are inlined */

static unsigned
feed_scan_clip_key(const unsigned char *k, size_t len)
{
    switch (len) {

    case 2:
        return memcmp(k, "id", 2) == 0 ? FEED_KEY_ID : 0;

    case 4:
        return memcmp(k, "tags", 4) == 0 ? FEED_KEY_TAGS : 0;

    case 5:
        return memcmp(k, "sound", 5) == 0 ? FEED_KEY_SOUND : 0;

    case 7:
        if (memcmp(k, "creator", 7) == 0) {
            return FEED_KEY_CREATOR;
        }

        if (memcmp(k, "created", 7) == 0) {
            return FEED_KEY_CREATED;
        }

        if (memcmp(k, "caption", 7) == 0) {
            return FEED_KEY_CAPTION;
        }

        return memcmp(k, "lineage", 7) == 0 ? FEED_KEY_LINEAGE : 0;

    case 8:
        return memcmp(k, "duration", 8) == 0 ? FEED_KEY_DURATION : 0;

    case 9:
        return memcmp(k, "embedding", 9) == 0 ? FEED_KEY_EMBEDDING : 0;

    case 10:
        return memcmp(k, "renditions", 10) == 0 ? FEED_KEY_RENDITIONS : 0;
    }

    return 0;
}


static unsigned
feed_scan_rendition_key(const unsigned char *k, size_t len)
{
    switch (len) {

    case 4:
        return memcmp(k, "name", 4) == 0 ? FEED_KEY_NAME : 0;

    case 6:
        return memcmp(k, "codecs", 6) == 0 ? FEED_KEY_CODECS : 0;

    case 8:
        return memcmp(k, "segments", 8) == 0 ? FEED_KEY_SEGMENTS : 0;

    case 9:
        return memcmp(k, "bandwidth", 9) == 0 ? FEED_KEY_BANDWIDTH : 0;

    case 10:
        return memcmp(k, "resolution", 10) == 0 ? FEED_KEY_RESOLUTION : 0;
    }

    return 0;
}


static unsigned
feed_scan_lineage_key(const unsigned char *k, size_t len)
{
    switch (len) {

    case 4:
        return memcmp(k, "kind", 4) == 0 ? FEED_KEY_KIND : 0;

    case 6:
        if (memcmp(k, "parent", 6) == 0) {
            return FEED_KEY_PARENT;
        }

        if (memcmp(k, "offset", 6) == 0) {
            return FEED_KEY_OFFSET;
        }

        return memcmp(k, "layout", 6) == 0 ? FEED_KEY_LAYOUT : 0;

    case 15:
        return memcmp(k, "parent_segments", 15) == 0 ? FEED_KEY_PARENT_SEGS
                                                     : 0;
    }

    return 0;
}


/* an unknown key: not seen before in its object, and its value skipped */

static int
feed_scan_unknown(feed_scan_t *s, feed_scan_keys_t *keys,
    const unsigned char *key, size_t len, unsigned depth)
{
    unsigned  i;

    if (keys->n == FEED_SCAN_KEYS) {
        return FEED_DECLINED;
    }

    for (i = 0; i < keys->n; i++) {
        if (keys->len[i] == len && memcmp(keys->key[i], key, len) == 0) {
            return FEED_DECLINED;
        }
    }

    keys->key[keys->n] = key;
    keys->len[keys->n] = len;
    keys->n++;

    return feed_scan_skip(s, depth);
}


static int
feed_scan_skip(feed_scan_t *s, unsigned depth)
{
    int                    rc;
    size_t                 len;
    unsigned               esc;
    feed_line_num_t        num;
    feed_scan_keys_t       keys;
    const unsigned char   *str;

    if (s->p == s->end) {
        return FEED_DECLINED;
    }

    switch (*s->p) {

    case '"':
        return feed_scan_string(s, &str, &len, &esc);

    case 't':
    case 'f':
    case 'n':
        str = (const unsigned char *) (*s->p == 't' ? "true"
                                       : *s->p == 'f' ? "false" : "null");
        len = strlen((const char *) str);

        if ((size_t) (s->end - s->p) < len || memcmp(s->p, str, len) != 0) {
            return FEED_DECLINED;
        }

        s->p += len;
        return FEED_OK;

    case '[':
        if (depth == FEED_SCAN_DEPTH) {
            return FEED_DECLINED;
        }

        s->p++;
        feed_scan_ws(s);

        if (s->p < s->end && *s->p == ']') {
            s->p++;
            return FEED_OK;
        }

        do {
            if (feed_scan_skip(s, depth + 1) != FEED_OK) {
                return FEED_DECLINED;
            }

        } while ((rc = feed_scan_next(s, ']')) == FEED_SCAN_MORE);

        return rc == FEED_SCAN_END ? FEED_OK : FEED_DECLINED;

    case '{':
        if (depth == FEED_SCAN_DEPTH) {
            return FEED_DECLINED;
        }

        s->p++;
        feed_scan_ws(s);

        if (s->p < s->end && *s->p == '}') {
            s->p++;
            return FEED_OK;
        }

        keys.n = 0;

        do {
            if (feed_scan_key(s, &str, &len) != FEED_OK
                || feed_scan_unknown(s, &keys, str, len, depth + 1)
                   != FEED_OK)
            {
                return FEED_DECLINED;
            }

        } while ((rc = feed_scan_next(s, '}')) == FEED_SCAN_MORE);

        return rc == FEED_SCAN_END ? FEED_OK : FEED_DECLINED;

    default:
        return feed_scan_number(s, &num);
    }
}


/* any value, kept as a string, a number, or just its type */

static int
feed_scan_value(feed_scan_t *s, feed_scan_value_t *v)
{
    if (s->p == s->end) {
        return FEED_DECLINED;
    }

    if (*s->p == '"') {
        v->type = FEED_SCAN_STRING;
        return feed_scan_string(s, &v->str, &v->len, &v->esc);
    }

    if (*s->p == '-' || (unsigned) (*s->p - '0') <= 9) {
        v->type = FEED_SCAN_NUMBER;
        return feed_scan_number(s, &v->num);
    }

    v->type = FEED_SCAN_OTHER;
    return feed_scan_skip(s, 0);
}


/*
 * A name: an escape can only stand for a byte that no name may contain,
 * so a name with one is declined as the bad name it is.
 */

static int
feed_scan_name(feed_scan_t *s, const char **name, size_t *len, size_t max,
    int dot)
{
    size_t                 n;
    unsigned               esc;
    const unsigned char   *str;

    if (s->p == s->end || *s->p != '"'
        || feed_scan_string(s, &str, &n, &esc) != FEED_OK
        || esc != 0
        || !feed_line_valid_name((const char *) str, n, max, dot))
    {
        return FEED_DECLINED;
    }

    *name = (const char *) str;
    *len = n;

    return FEED_OK;
}


static int
feed_scan_tags(feed_scan_t *s, feed_line_t *l)
{
    int                    rc;
    size_t                 len;
    uint32_t               n;
    unsigned               esc;
    const unsigned char   *str;

    if (s->p == s->end || *s->p != '[') {
        return FEED_DECLINED;
    }

    s->p++;
    feed_scan_ws(s);

    if (s->p < s->end && *s->p == ']') {
        s->p++;
        l->ntags = 0;
        return FEED_OK;
    }

    n = 0;

    do {
        if (n == FEED_TAGS_MAX || s->p == s->end || *s->p != '"'
            || feed_scan_string(s, &str, &len, &esc) != FEED_OK)
        {
            return FEED_DECLINED;
        }

        len -= esc;

        if (len == 0 || len > FEED_TAG_LEN_MAX) {
            return FEED_DECLINED;
        }

        if (esc) {
            feed_scan_unescape(l->tag_buf[n], str, len + esc);
            l->tags[n] = l->tag_buf[n];

        } else {
            l->tags[n] = (const char *) str;
        }

        l->tag_lens[n] = len;
        n++;

    } while ((rc = feed_scan_next(s, ']')) == FEED_SCAN_MORE);

    if (rc != FEED_SCAN_END) {
        return FEED_DECLINED;
    }

    l->ntags = n;

    return FEED_OK;
}


static int
feed_scan_embedding(feed_scan_t *s, feed_line_t *l)
{
    int              rc;
    double           v;
    uint32_t         n;
    feed_line_num_t  num;

    if (s->p == s->end || *s->p != '[') {
        return FEED_DECLINED;
    }

    s->p++;
    feed_scan_ws(s);

    n = 0;

    do {
        if (n == FEED_EMBEDDING_MAX || feed_scan_number(s, &num) != FEED_OK) {
            return FEED_DECLINED;
        }

        v = feed_scan_num_value(&num);

        if (fabs(v) > 1e6) {
            return FEED_DECLINED;
        }

        l->embedding[n++] = (float) v;

    } while ((rc = feed_scan_next(s, ']')) == FEED_SCAN_MORE);

    if (rc != FEED_SCAN_END) {
        return FEED_DECLINED;
    }

    l->dim = n;

    return FEED_OK;
}


static int
feed_scan_renditions(feed_scan_t *s, feed_line_t *l, double *sums)
{
    int                     rc;
    uint32_t                n, k, used;
    feed_scan_segs_t        prev;
    feed_line_rendition_t  *r;

    if (s->p == s->end || *s->p != '[') {
        return FEED_DECLINED;
    }

    s->p++;
    feed_scan_ws(s);

    n = 0;
    used = 0;
    prev.text = NULL;
    prev.len = 0;
    prev.index = 0;
    prev.n = 0;
    prev.sum = 0;

    do {
        if (n == FEED_RENDITIONS_MAX) {
            return FEED_DECLINED;
        }

        r = &l->renditions[n];

        if (feed_scan_rendition(s, l, r, &sums[n], &used, &prev) != FEED_OK)
        {
            return FEED_DECLINED;
        }

        for (k = 0; k < n; k++) {
            if (l->renditions[k].name_len == r->name_len
                && memcmp(l->renditions[k].name, r->name, r->name_len) == 0)
            {
                return FEED_DECLINED;
            }
        }

        n++;

    } while ((rc = feed_scan_next(s, ']')) == FEED_SCAN_MORE);

    if (rc != FEED_SCAN_END) {
        return FEED_DECLINED;
    }

    l->nrenditions = n;

    return FEED_OK;
}


static int
feed_scan_rendition(feed_scan_t *s, feed_line_t *l, feed_line_rendition_t *r,
    double *sum, uint32_t *used, feed_scan_segs_t *prev)
{
    int                    rc;
    double                 v;
    size_t                 klen, n;
    unsigned               seen, bit, esc, guess;
    feed_line_num_t        num;
    feed_scan_keys_t       keys;
    const unsigned char   *key, *str;

    if (s->p == s->end || *s->p != '{') {
        return FEED_DECLINED;
    }

    s->p++;
    feed_scan_ws(s);

    seen = 0;
    keys.n = 0;
    guess = 0;

    do {
        bit = feed_scan_guess(s, feed_scan_rendition_order, &guess);

        if (bit == 0) {
            if (feed_scan_key(s, &key, &klen) != FEED_OK) {
                return FEED_DECLINED;
            }

            bit = feed_scan_rendition_key(key, klen);
        }

        if (bit == 0) {
            if (feed_scan_unknown(s, &keys, key, klen, 0) != FEED_OK) {
                return FEED_DECLINED;
            }

            continue;
        }

        if (seen & bit) {
            return FEED_DECLINED;
        }

        seen |= bit;

        switch (bit) {

        case FEED_KEY_NAME:
            rc = feed_scan_name(s, &r->name, &r->name_len,
                                FEED_RENDITION_MAX, 0);
            break;

        case FEED_KEY_BANDWIDTH:
            rc = feed_scan_number(s, &num);

            if (rc == FEED_OK) {
                v = (double) num.integer;

                if (!num.is_integer || v < 1000 || v > 1e9) {
                    return FEED_DECLINED;
                }

                r->bandwidth = (uint32_t) v;
            }

            break;

        case FEED_KEY_RESOLUTION:
            if (s->p == s->end || *s->p != '"'
                || feed_scan_string(s, &str, &n, &esc) != FEED_OK
                || esc != 0
                || !feed_line_resolution((const char *) str, n, &r->width,
                                         &r->height))
            {
                return FEED_DECLINED;
            }

            rc = FEED_OK;
            break;

        case FEED_KEY_CODECS:
            if (s->p == s->end || *s->p != '"'
                || feed_scan_string(s, &str, &n, &esc) != FEED_OK
                || esc != 0
                || !feed_line_valid_codecs((const char *) str, n))
            {
                return FEED_DECLINED;
            }

            r->codecs = (const char *) str;
            r->codecs_len = n;
            rc = FEED_OK;
            break;

        default: /* FEED_KEY_SEGMENTS */
            rc = feed_scan_segments(s, l, r, sum, used, prev);
            break;
        }

        if (rc != FEED_OK) {
            return FEED_DECLINED;
        }

    } while ((rc = feed_scan_next(s, '}')) == FEED_SCAN_MORE);

    if (rc != FEED_SCAN_END || seen != FEED_KEY_RENDITION_ALL) {
        return FEED_DECLINED;
    }

    return FEED_OK;
}


/*
 * The renditions of a clip usually have the same segments, spelled the
 * same: the same bytes parse to the same values, so they are not parsed
 * again.
 */

static int
feed_scan_segments(feed_scan_t *s, feed_line_t *l, feed_line_rendition_t *r,
    double *sum, uint32_t *used, feed_scan_segs_t *prev)
{
    int                    rc;
    double                 v, total;
    size_t                 memo_len;
    uint32_t               n, room, us, *out;
    uint64_t               w, memo, memo_mask;
    unsigned char          bytes[8];
    feed_line_num_t        num;
    const unsigned char   *start, *tok;

    start = s->p;

    if (start == s->end || *start != '[') {
        return FEED_DECLINED;
    }

    if (prev->text != NULL
        && (size_t) (s->end - start) >= prev->len
        && memcmp(start, prev->text, prev->len) == 0)
    {
        s->p += prev->len;
        r->segments = prev->index;
        r->nsegments = prev->n;
        *sum = prev->sum;

        return FEED_OK;
    }

    s->p++;
    feed_scan_ws(s);

    out = l->segs + *used;
    room = l->segs_max - *used;
    n = 0;
    total = 0;

    /*
     * Most durations are spelled like the one before ("2.0,"): the same
     * bytes, comma included, are the same value and then a comma.  Up to
     * 8 bytes, they are compared as one word.
     */

    memo = 0;
    memo_mask = 0;
    memo_len = 0;
    v = 0;
    us = 0;

    for ( ;; ) {
        if (n == FEED_SEGMENTS_MAX || n == room) {
            return FEED_DECLINED;
        }

        if (memo_len && s->end - s->p >= 8) {
            memcpy(&w, s->p, 8);

            if ((w & memo_mask) == memo) {
                s->p += memo_len;
                feed_scan_ws(s);

                out[n++] = us;
                total += v;
                continue;
            }
        }

        tok = s->p;

        if (feed_scan_number(s, &num) != FEED_OK) {
            return FEED_DECLINED;
        }

        v = feed_scan_num_value(&num);

        if (!(v > 0 && v <= 60)) {
            return FEED_DECLINED;
        }

        us = feed_line_segment_us(v);

        out[n++] = us;
        total += v;

        memo_len = 0;

        if (s->p - tok < 8 && s->end - tok >= 8 && *s->p == ',') {
            memo_len = (size_t) (s->p - tok) + 1;
            memcpy(&memo, tok, 8);
            memset(bytes, 0, 8);
            memset(bytes, 0xff, memo_len);
            memcpy(&memo_mask, bytes, 8);
            memo &= memo_mask;
        }

        rc = feed_scan_next(s, ']');

        if (rc != FEED_SCAN_MORE) {
            break;
        }
    }

    if (rc != FEED_SCAN_END) {
        return FEED_DECLINED;
    }

    r->segments = *used;
    r->nsegments = n;
    *sum = total;
    *used += n;

    prev->text = start;
    prev->len = (size_t) (s->p - start);
    prev->index = r->segments;
    prev->n = n;
    prev->sum = total;

    return FEED_OK;
}


/*
 * Lineage values are kept as they come: which keys matter, and how,
 * depends on "kind", which may come last.
 */

static int
feed_scan_lineage(feed_scan_t *s, feed_scan_lineage_t *lin)
{
    int                    rc;
    size_t                 klen;
    unsigned               bit;
    feed_scan_keys_t       keys;
    feed_scan_value_t     *v;
    const unsigned char   *key;

    if (s->p == s->end || *s->p != '{') {
        return FEED_DECLINED;
    }

    s->p++;
    feed_scan_ws(s);

    lin->seen = 0;
    keys.n = 0;

    do {
        if (feed_scan_key(s, &key, &klen) != FEED_OK) {
            return FEED_DECLINED;
        }

        bit = feed_scan_lineage_key(key, klen);

        if (bit == 0) {
            if (feed_scan_unknown(s, &keys, key, klen, 0) != FEED_OK) {
                return FEED_DECLINED;
            }

            continue;
        }

        if (lin->seen & bit) {
            return FEED_DECLINED;
        }

        lin->seen |= bit;

        switch (bit) {

        case FEED_KEY_KIND:
            v = &lin->kind;
            break;

        case FEED_KEY_PARENT:
            v = &lin->parent;
            break;

        case FEED_KEY_PARENT_SEGS:
            v = &lin->parent_segments;
            break;

        case FEED_KEY_OFFSET:
            v = &lin->offset;
            break;

        default: /* FEED_KEY_LAYOUT */
            v = &lin->layout;
            break;
        }

        if (feed_scan_value(s, v) != FEED_OK) {
            return FEED_DECLINED;
        }

    } while ((rc = feed_scan_next(s, '}')) == FEED_SCAN_MORE);

    return rc == FEED_SCAN_END ? FEED_OK : FEED_DECLINED;
}


/* what feed_parse_lineage() checks, but the parent's existence */

static int
feed_scan_lineage_check(feed_line_t *l, feed_scan_lineage_t *lin)
{
    double              v;
    feed_scan_value_t  *kind, *parent, *layout;

    kind = &lin->kind;

    if (!(lin->seen & FEED_KEY_KIND) || kind->type != FEED_SCAN_STRING
        || kind->esc != 0)
    {
        return FEED_DECLINED;
    }

    if (kind->len == 4 && memcmp(kind->str, "duet", 4) == 0) {
        l->lineage = FEED_LINEAGE_DUET;

    } else if (kind->len == 6 && memcmp(kind->str, "stitch", 6) == 0) {
        l->lineage = FEED_LINEAGE_STITCH;

    } else {
        return FEED_DECLINED;
    }

    parent = &lin->parent;

    if (!(lin->seen & FEED_KEY_PARENT) || parent->type != FEED_SCAN_STRING
        || parent->esc != 0
        || !feed_line_valid_name((const char *) parent->str, parent->len,
                                 FEED_ID_MAX, 0)
        || (parent->len == l->id_len
            && memcmp(parent->str, l->id, parent->len) == 0))
    {
        return FEED_DECLINED;
    }

    l->parent = (const char *) parent->str;
    l->parent_len = parent->len;

    if (l->lineage == FEED_LINEAGE_STITCH) {
        if (!(lin->seen & FEED_KEY_PARENT_SEGS)
            || lin->parent_segments.type != FEED_SCAN_NUMBER
            || !lin->parent_segments.num.is_integer)
        {
            return FEED_DECLINED;
        }

        v = (double) lin->parent_segments.num.integer;

        if (v < 1 || v > FEED_SEGMENTS_MAX) {
            return FEED_DECLINED;
        }

        l->parent_segments = (uint16_t) v;

        return FEED_OK;
    }

    if (lin->seen & FEED_KEY_OFFSET) {
        if (lin->offset.type != FEED_SCAN_NUMBER) {
            return FEED_DECLINED;
        }

        v = feed_scan_num_value(&lin->offset.num);

        if (!(v >= 0 && v <= 3600)) {
            return FEED_DECLINED;
        }

        l->offset_ms = feed_line_ms(v);
    }

    if (lin->seen & FEED_KEY_LAYOUT) {
        layout = &lin->layout;

        if (layout->type != FEED_SCAN_STRING || layout->esc != 0) {
            return FEED_DECLINED;
        }

        if (layout->len == 4 && memcmp(layout->str, "side", 4) == 0) {
            l->layout = FEED_LAYOUT_SIDE;

        } else if (layout->len == 3 && memcmp(layout->str, "top", 3) == 0) {
            l->layout = FEED_LAYOUT_TOP;

        } else {
            return FEED_DECLINED;
        }
    }

    return FEED_OK;
}


/* the rules both parsers share */

/* 1 to max of A-Z a-z 0-9 _ -, and . if dot */

int
feed_line_valid_name(const char *s, size_t len, size_t max, int dot)
{
    size_t    i;
    unsigned  mask;

    if (len == 0 || len > max) {
        return 0;
    }

    mask = dot ? FEED_SCAN_NAME | FEED_SCAN_DOT : FEED_SCAN_NAME;

    for (i = 0; i < len; i++) {
        if (!(feed_scan_class[(unsigned char) s[i]] & mask)) {
            return 0;
        }
    }

    return 1;
}


/* an RFC 6381 list: 1 to 128 of A-Z a-z 0-9 . , _ - */

int
feed_line_valid_codecs(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > 128) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!(feed_scan_class[(unsigned char) s[i]] & FEED_SCAN_CODECS)) {
            return 0;
        }
    }

    return 1;
}


/*
 * WIDTHxHEIGHT, each 1 to 5 digits (leading zeros allowed) and between
 * 16 and 8192: the format once read with sscanf("%5ux%5u%n").
 */

int
feed_line_resolution(const char *s, size_t len, uint32_t *w, uint32_t *h)
{
    size_t    i, k, digits;
    uint32_t  v[2];

    i = 0;

    for (k = 0; k < 2; k++) {
        if (k == 1) {
            if (i == len || s[i] != 'x') {
                return 0;
            }

            i++;
        }

        v[k] = 0;
        digits = 0;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (++digits > 5) {
                return 0;
            }

            v[k] = v[k] * 10 + (uint32_t) (s[i++] - '0');
        }

        if (digits == 0 || v[k] < 16 || v[k] > 8192) {
            return 0;
        }
    }

    if (i != len) {
        return 0;
    }

    *w = v[0];
    *h = v[1];

    return 1;
}


uint32_t
feed_line_segment_us(double seconds)
{
    uint32_t  us;

    us = (uint32_t) llround(seconds * 1e6);

    return us ? us : 1;
}


uint32_t
feed_line_ms(double seconds)
{
    return (uint32_t) lround(seconds * 1000);
}


/* a rendition's segments add up to the duration, within 0.5 s + 1% */

int
feed_line_sum_ok(double sum, double duration)
{
    return !(fabs(sum - duration) > 0.5 + duration / 100);
}
