
/*
 * Copyright (C) the feed module developers
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feed_feed.h"


typedef struct {
    char    *p;         /* NULL on the length pass, or once out of room */
    size_t   len;
    size_t   room;      /* what p holds */
} feed_json_t;


static void feed_json(feed_json_t *o, const char *s, size_t len);
static void feed_json_str(feed_json_t *o, const char *s);

/* a string literal: its length known at compile time */
#define feed_json_lit(o, s)  feed_json(o, s, sizeof(s) - 1)
static void feed_json_quoted(feed_json_t *o, const char *s, size_t len);
static void feed_json_safe(feed_json_t *o, const char *s, size_t len);
static void feed_json_pool(feed_json_t *o, const feed_catalog_t *cat,
    const char *s);
static void feed_json_num(feed_json_t *o, double v);
static void feed_json_uint(feed_json_t *o, uint64_t v);
static const char *feed_event_field(json_t *ev, feed_event_t *out);


static const char  *feed_reasons[FEED_REASONS] = {
    "personal", "zeitgeist", "explore", "remix", "random", "sound"
};


/* the parts, in their order (feed_rank.h) */

#define feed_part_list(part)                                                  \
    part("similarity") part("quality") part("freshness") part("trending")   \
    part("explore") part("lineage") part("creator") part("reach")

#define feed_part_name_(name)  name,
#define feed_part_key_(name)   { ",\"" name "\":", sizeof(name) + 3 },

static const char  *feed_parts[FEED_PARTS] = {
    feed_part_list(feed_part_name_)
};


/* their keys in an item, each after a comma */

static const struct {
    const char  *s;
    size_t       len;
} feed_part_keys[FEED_PARTS] = {
    feed_part_list(feed_part_key_)
};


const char *
feed_reason_name(unsigned reason)
{
    return reason < FEED_REASONS ? feed_reasons[reason] : "unknown";
}


const char *
feed_part_name(unsigned part)
{
    return part < FEED_PARTS ? feed_parts[part] : "unknown";
}


static void
feed_json(feed_json_t *o, const char *s, size_t len)
{
    if (o->p && len > o->room - o->len) {
        o->p = NULL;
    }

    if (o->p) {
        memcpy(o->p + o->len, s, len);
    }

    o->len += len;
}


static void
feed_json_str(feed_json_t *o, const char *s)
{
    feed_json(o, s, strlen(s));
}


/* a string known to need no escaping: URLs and tokens we made */

static void
feed_json_safe(feed_json_t *o, const char *s, size_t len)
{
    if (o->p && len + 2 > o->room - o->len) {
        o->p = NULL;
    }

    if (o->p) {
        o->p[o->len] = '"';
        memcpy(o->p + o->len + 1, s, len);
        o->p[o->len + 1 + len] = '"';
    }

    o->len += len + 2;
}


/* a string of the catalog's pool: copied as it is unless it needs escapes */

static void
feed_json_pool(feed_json_t *o, const feed_catalog_t *cat, const char *s)
{
    int     escape;
    size_t  len;

    len = feed_catalog_str_len(cat, s, &escape);

    if (escape) {
        feed_json_quoted(o, s, len);

    } else {
        feed_json_safe(o, s, len);
    }
}


/* a JSON string: quotes, backslashes and control characters escaped */

static void
feed_json_quoted(feed_json_t *o, const char *s, size_t len)
{
    char           esc[8];
    size_t         i, start;
    unsigned char  c;

    /* most strings need nothing escaped: one quick look first */

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) {
            break;
        }
    }

    if (i == len) {
        feed_json_safe(o, s, len);
        return;
    }

    feed_json(o, "\"", 1);

    for (i = 0, start = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
            continue;
        }

        feed_json(o, s + start, i - start);
        start = i + 1;

        switch (c) {
        case '"':
            feed_json(o, "\\\"", 2);
            break;
        case '\\':
            feed_json(o, "\\\\", 2);
            break;
        case '\n':
            feed_json(o, "\\n", 2);
            break;
        case '\t':
            feed_json(o, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            feed_json(o, esc, 6);
        }
    }

    feed_json(o, s + start, len - start);
    feed_json(o, "\"", 1);
}


size_t
feed_json_string(char *out, const char *s, size_t len)
{
    feed_json_t  o;

    o.p = out;
    o.len = 0;
    o.room = (size_t) -1;
    feed_json_quoted(&o, s, len);

    return o.len;
}


/* a finite number with up to 4 decimals, trailing zeros dropped */

static void
feed_json_num(feed_json_t *o, double v)
{
    int        n, neg;
    char       buf[48], *p;
    uint64_t   x, ip, fp;

    /* whole parts, most often 0: no digits to work out */

    if (v == 0) {
        feed_json(o, "0", 1);
        return;
    }

    if (v == 1) {
        feed_json(o, "1", 1);
        return;
    }

    if (!isfinite(v) || v > 1e15 || v < -1e15) {
        v = 0;
    }

    neg = v < 0;
    x = (uint64_t) ((neg ? -v : v) * 10000 + 0.5);

    ip = x / 10000;
    fp = x % 10000;

    p = buf + sizeof(buf);

    if (fp) {
        n = 4;

        while (fp % 10 == 0) {
            fp /= 10;
            n--;
        }

        while (n-- > 0) {
            *--p = (char) ('0' + fp % 10);
            fp /= 10;
        }

        *--p = '.';
    }

    do {
        *--p = (char) ('0' + ip % 10);
        ip /= 10;
    } while (ip);

    if (neg && x) {
        *--p = '-';
    }

    feed_json(o, p, (size_t) (buf + sizeof(buf) - p));
}


static void
feed_json_uint(feed_json_t *o, uint64_t v)
{
    char  buf[24], *p;

    p = buf + sizeof(buf);

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    feed_json(o, p, (size_t) (buf + sizeof(buf) - p));
}


size_t
feed_manifest_head(char *out, uint32_t page, uint32_t n)
{
    feed_json_t  o;

    o.p = out;
    o.len = 0;
    o.room = (size_t) -1;

    feed_json_lit(&o, "{\"page\":");
    feed_json_uint(&o, page);
    feed_json_lit(&o, ",\"count\":");
    feed_json_uint(&o, n);
    feed_json_lit(&o, ",\"items\":[");

    return o.len;
}


size_t
feed_manifest_tail(char *out)
{
    feed_json_t  o;

    o.p = out;
    o.len = 0;
    o.room = (size_t) -1;

    feed_json_lit(&o, "]}\n");

    return o.len;
}


size_t
feed_manifest_item(char *out, const feed_catalog_t *cat,
    const feed_item_t *it, const feed_item_urls_t *u, int last)
{
    return feed_manifest_item_room(out, (size_t) -1, cat, it, u, last);
}


/*
 * The same into "room" bytes at most: the item is written only if its
 * length, returned either way, is no more than "room" (one pass where
 * the room is known to be enough, as it nearly always is).
 */

size_t
feed_manifest_item_room(char *out, size_t room, const feed_catalog_t *cat,
    const feed_item_t *it, const feed_item_urls_t *u, int last)
{
    uint32_t            i, n;
    const char         *s;
    feed_json_t         o;
    const feed_clip_t  *clip, *parent;

    o.p = out;
    o.len = 0;
    o.room = room;

    clip = feed_catalog_clip(cat, it->clip);

    feed_json_lit(&o, "{\"id\":");
    s = feed_clip_id(cat, clip);
    feed_json_pool(&o, cat, s);

    feed_json_lit(&o, ",\"position\":");
    feed_json_uint(&o, u->position);

    feed_json_lit(&o, ",\"master\":");
    feed_json_safe(&o, u->master, u->master_len);

    feed_json_lit(&o, ",\"prefetch\":[");
    feed_json_safe(&o, u->init, u->init_len);
    feed_json_lit(&o, ",");
    feed_json_safe(&o, u->first, u->first_len);
    feed_json_lit(&o, "]");

    feed_json_lit(&o, ",\"duration\":");
    feed_json_num(&o, feed_clip_play_ms(cat, clip) / 1000.0);

    feed_json_lit(&o, ",\"creator\":");
    s = feed_clip_creator(cat, clip);
    feed_json_pool(&o, cat, s);

    feed_json_lit(&o, ",\"sound\":");
    s = feed_clip_sound(cat, clip);
    feed_json_pool(&o, cat, s);

    feed_json_lit(&o, ",\"caption\":");
    s = feed_clip_caption(cat, clip);
    feed_json_pool(&o, cat, s);

    feed_json_lit(&o, ",\"tags\":[");
    n = feed_clip_ntags(cat, clip);

    for (i = 0; i < n; i++) {
        if (i) {
            feed_json_lit(&o, ",");
        }

        s = feed_clip_tag(cat, clip, i);
        feed_json_pool(&o, cat, s);
    }

    feed_json_lit(&o, "],\"lineage\":");

    if (clip->lineage != FEED_LINEAGE_NONE && clip->parent != FEED_NONE) {
        parent = feed_catalog_clip(cat, clip->parent);

        feed_json_str(&o, clip->lineage == FEED_LINEAGE_DUET
                          ? "{\"kind\":\"duet\",\"parent\":"
                          : "{\"kind\":\"stitch\",\"parent\":");
        s = feed_clip_id(cat, parent);
        feed_json_pool(&o, cat, s);

        if (clip->lineage == FEED_LINEAGE_DUET) {
            feed_json_str(&o, clip->layout == FEED_LAYOUT_TOP
                              ? ",\"layout\":\"top\",\"offset\":"
                              : ",\"layout\":\"side\",\"offset\":");
            feed_json_num(&o, clip->offset_ms / 1000.0);

            if (u->parent_master) {
                feed_json_lit(&o, ",\"parent_master\":");
                feed_json_safe(&o, u->parent_master, u->parent_master_len);
            }

        } else {
            feed_json_lit(&o, ",\"parent_segments\":");
            feed_json_uint(&o, clip->parent_segments);
        }

        feed_json_lit(&o, "}");

    } else {
        feed_json_lit(&o, "null");
    }

    feed_json_lit(&o, ",\"reason\":\"");
    feed_json_str(&o, feed_reason_name(it->reason));
    feed_json_lit(&o, "\",\"score\":");
    feed_json_num(&o, it->score);
    feed_json_lit(&o, ",\"parts\":{");

    for (i = 0; i < FEED_PARTS; i++) {
        /* the first without its comma */

        feed_json(&o, feed_part_keys[i].s + (i == 0),
                  feed_part_keys[i].len - (i == 0));
        feed_json_num(&o, it->parts[i]);
    }

    feed_json_lit(&o, "},\"impression\":");
    feed_json_safe(&o, u->impression, u->impression_len);
    feed_json_str(&o, last ? "}" : "},");

    return o.len;
}


/*
 * A batch of events: {"events":[{...}, ...]} or a bare array.  A body
 * that is not JSON, or not one of these shapes, is an error as a whole;
 * an event with a bad field is kept with its error set, so that the
 * others in the batch still count.
 */

int
feed_events_parse(const char *body, size_t len, feed_event_t *ev,
    size_t max, size_t *n, feed_err_t *err)
{
    if (feed_events_parse_fast(body, len, ev, max, n) == FEED_OK) {
        return FEED_OK;
    }

    return feed_events_parse_json(body, len, ev, max, n, err);
}


/*
 * The fast path: the plain batches clients send, read in one pass with
 * no allocation.  It takes only what it is sure jansson would read the
 * same way: {"events":[...]} or a bare array of objects whose keys are
 * among the six known ones, each at most once, without escapes; tokens
 * of printable ASCII; numbers without sign or exponent and of at most 15
 * digits before the point; true and false.  Anything else, and any
 * event with an error, is FEED_DECLINED: the whole body goes to
 * feed_events_parse_json(), which answers for every case.
 */

#define FEED_EV_IMPRESSION  0x01
#define FEED_EV_WATCH       0x02
#define FEED_EV_LOOPS       0x04
#define FEED_EV_LIKE        0x08
#define FEED_EV_SHARE       0x10
#define FEED_EV_SKIP        0x20


static const char *
feed_events_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    {
        p++;
    }

    return p;
}


/*
 * After a member or an element: 1 past a comma (more follow), 0 past
 * "close" (the last), -1 for anything else.
 */

static int
feed_events_sep(const char **pp, const char *end, char close)
{
    const char  *p;

    p = feed_events_ws(*pp, end);

    if (p < end && (*p == ',' || *p == close)) {
        *pp = feed_events_ws(p + 1, end);
        return *p == ',';
    }

    return -1;
}


/* a string of printable ASCII with no escape: its start and length */

static const char *
feed_events_str(const char *p, const char *end, const char **str,
    size_t *len)
{
    const char  *q;

    if (p == end || *p != '"') {
        return NULL;
    }

    for (q = p + 1; q < end && *q != '"'; q++) {
        if (*q < 0x20 || *q > 0x7e || *q == '\\') {
            return NULL;
        }
    }

    if (q == end) {
        return NULL;
    }

    *str = p + 1;
    *len = (size_t) (q - p - 1);

    return q + 1;
}


static const char *
feed_events_num(const char *p, const char *end, double *v)
{
    char         buf[40];
    size_t       int_digits, digits;
    const char  *q;

    q = p;
    int_digits = 0;

    while (q < end && *q >= '0' && *q <= '9') {
        q++;
        int_digits++;
    }

    /* JSON: no leading zero but "0" itself */

    if (int_digits == 0 || int_digits > 15 || (*p == '0' && int_digits > 1)) {
        return NULL;
    }

    digits = int_digits;

    if (q < end && *q == '.') {
        q++;

        while (q < end && *q >= '0' && *q <= '9') {
            q++;
            digits++;
        }

        if (digits == int_digits || digits > 30) {
            return NULL;
        }
    }

    if (q < end && (*q == 'e' || *q == 'E')) {
        return NULL;
    }

    memcpy(buf, p, (size_t) (q - p));
    buf[q - p] = '\0';
    *v = strtod(buf, NULL);

    return q;
}


int
feed_events_parse_fast(const char *body, size_t len, feed_event_t *ev,
    size_t max, size_t *n)
{
    int            wrapped, sep;
    size_t         k, klen, count;
    double         v;
    unsigned       seen, bit;
    const char    *p, *end, *key, *str;
    feed_event_t  *e;

    p = body;
    end = body + len;
    count = 0;

    p = feed_events_ws(p, end);

    wrapped = (p < end && *p == '{');

    if (wrapped) {
        p = feed_events_ws(p + 1, end);
        p = feed_events_str(p, end, &key, &klen);

        if (p == NULL || klen != 6 || memcmp(key, "events", 6) != 0) {
            return FEED_DECLINED;
        }

        p = feed_events_ws(p, end);

        if (p == end || *p != ':') {
            return FEED_DECLINED;
        }

        p = feed_events_ws(p + 1, end);
    }

    if (p == end || *p != '[') {
        return FEED_DECLINED;
    }

    p = feed_events_ws(p + 1, end);

    if (p < end && *p == ']') {
        p++;
        goto done;
    }

    for ( ;; ) {

        /* one event */

        if (p == end || *p != '{' || count == max) {
            return FEED_DECLINED;
        }

        e = &ev[count];
        memset(e, 0, sizeof(feed_event_t));
        seen = 0;

        p = feed_events_ws(p + 1, end);

        if (p < end && *p == '}') {
            return FEED_DECLINED;           /* no token: an error */
        }

        for ( ;; ) {
            p = feed_events_str(p, end, &key, &klen);
            if (p == NULL) {
                return FEED_DECLINED;
            }

            p = feed_events_ws(p, end);

            if (p == end || *p != ':') {
                return FEED_DECLINED;
            }

            p = feed_events_ws(p + 1, end);

            if (klen == 10 && memcmp(key, "impression", 10) == 0) {
                bit = FEED_EV_IMPRESSION;
                p = feed_events_str(p, end, &str, &k);

                if (p == NULL || k == 0 || k > FEED_IMPRESSION_MAX) {
                    return FEED_DECLINED;
                }

                memcpy(e->impression, str, k);
                e->impression[k] = '\0';
                e->impression_len = k;

            } else if ((klen == 8 && memcmp(key, "watch_ms", 8) == 0)
                       || (klen == 5 && memcmp(key, "loops", 5) == 0))
            {
                bit = klen == 8 ? FEED_EV_WATCH : FEED_EV_LOOPS;
                p = feed_events_num(p, end, &v);

                if (p == NULL || !isfinite(v)) {
                    return FEED_DECLINED;
                }

                if (bit == FEED_EV_WATCH) {
                    e->watch_ms = v;

                } else {
                    e->loops = v > 1000 ? 1000 : (uint32_t) v;
                }

            } else if ((klen == 4 && memcmp(key, "like", 4) == 0)
                       || (klen == 5 && memcmp(key, "share", 5) == 0)
                       || (klen == 4 && memcmp(key, "skip", 4) == 0))
            {
                bit = key[1] == 'i' ? FEED_EV_LIKE
                    : key[1] == 'h' ? FEED_EV_SHARE : FEED_EV_SKIP;

                if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
                    p += 4;

                    if (bit == FEED_EV_LIKE) {
                        e->like = 1;

                    } else if (bit == FEED_EV_SHARE) {
                        e->share = 1;

                    } else {
                        e->skip = 1;
                    }

                } else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
                    p += 5;

                } else {
                    return FEED_DECLINED;
                }

            } else {
                return FEED_DECLINED;
            }

            if (seen & bit) {
                return FEED_DECLINED;       /* a duplicate key */
            }

            seen |= bit;

            sep = feed_events_sep(&p, end, '}');

            if (sep == 0) {
                break;
            }

            if (sep < 0) {
                return FEED_DECLINED;
            }
        }

        if (!(seen & FEED_EV_IMPRESSION)) {
            return FEED_DECLINED;
        }

        count++;

        sep = feed_events_sep(&p, end, ']');

        if (sep == 0) {
            break;
        }

        if (sep < 0) {
            return FEED_DECLINED;
        }
    }

done:

    p = feed_events_ws(p, end);

    if (wrapped) {
        if (p == end || *p != '}') {
            return FEED_DECLINED;
        }

        p = feed_events_ws(p + 1, end);
    }

    if (p != end) {
        return FEED_DECLINED;
    }

    *n = count;

    return FEED_OK;
}


/* the same with jansson: every body, with the error a bad one deserves */

int
feed_events_parse_json(const char *body, size_t len, feed_event_t *ev,
    size_t max, size_t *n, feed_err_t *err)
{
    char         *p;
    size_t        i;
    json_t       *root, *list;
    json_error_t  jerr;

    *n = 0;

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {

        /*
         * jansson quotes the bytes near the error and may cut a UTF-8
         * sequence short; the message goes back to the client as JSON,
         * which must be UTF-8, so it keeps to ASCII.
         */

        for (p = jerr.text; *p; p++) {
            if ((unsigned char) *p >= 0x80) {
                *p = '?';
            }
        }

        feed_err_set(err, "malformed JSON at character %d: %s",
                     jerr.position, jerr.text);
        return FEED_ERROR;
    }

    list = json_is_array(root) ? root : json_object_get(root, "events");

    if (!json_is_array(list)) {
        feed_err_set(err, "expected {\"events\": [...]} or an array");
        json_decref(root);
        return FEED_ERROR;
    }

    if (json_array_size(list) > max) {
        feed_err_set(err, "%zu events in one batch, at most %zu",
                     json_array_size(list), max);
        json_decref(root);
        return FEED_ERROR;
    }

    for (i = 0; i < json_array_size(list); i++) {
        memset(&ev[i], 0, sizeof(feed_event_t));
        ev[i].error = feed_event_field(json_array_get(list, i), &ev[i]);
    }

    *n = json_array_size(list);

    json_decref(root);

    return FEED_OK;
}


static const char *
feed_event_field(json_t *e, feed_event_t *out)
{
    size_t       k;
    double       v;
    json_t      *f;
    const char  *s;

    static const char  *flags[] = { "like", "share", "skip" };

    if (!json_is_object(e)) {
        return "an event must be an object";
    }

    f = json_object_get(e, "impression");

    if (!json_is_string(f)) {
        return "no impression token";
    }

    s = json_string_value(f);
    k = json_string_length(f);

    if (k == 0 || k > FEED_IMPRESSION_MAX) {
        return "malformed impression token";
    }

    memcpy(out->impression, s, k);
    out->impression[k] = '\0';
    out->impression_len = k;

    f = json_object_get(e, "watch_ms");

    if (f == NULL) {
        out->watch_ms = 0;

    } else if (!json_is_number(f)) {
        return "watch_ms must be a number";

    } else {
        v = json_number_value(f);

        if (!isfinite(v) || v < 0) {
            return "watch_ms must be zero or more";
        }

        out->watch_ms = v;
    }

    f = json_object_get(e, "loops");

    if (f != NULL) {
        if (!json_is_number(f)) {
            return "loops must be a number";
        }

        v = json_number_value(f);

        if (!isfinite(v) || v < 0) {
            return "loops must be zero or more";
        }

        out->loops = v > 1000 ? 1000 : (uint32_t) v;
    }

    for (k = 0; k < 3; k++) {
        f = json_object_get(e, flags[k]);

        if (f == NULL || json_is_false(f)) {
            continue;
        }

        if (!json_is_true(f)) {
            return k == 0 ? "like must be true or false"
                 : k == 1 ? "share must be true or false"
                          : "skip must be true or false";
        }

        if (k == 0) {
            out->like = 1;

        } else if (k == 1) {
            out->share = 1;

        } else {
            out->skip = 1;
        }
    }

    return NULL;
}


/*
 * What a watch event means, before anything is changed:
 *
 *   watch time   clamped to (loops + 2) x the duration, and 20 x at most;
 *   qualified    at least qualified_ms of watching, or half the clip if it
 *                is shorter;
 *   completed    90% of the clip or a loop;
 *   fast skip    a skip within 2 s (or a quarter of a short clip);
 *   trend        qualified 1, completed 1, rewatched 1, liked 2, shared 3;
 *   learn        the watch ratio (up to 1.5) less 0.5, plus 0.5 for a
 *                like and for a share, less 0.7 for a fast skip, within
 *                -1 .. 1.5: the step of the viewer's interest toward the
 *                clip (away when negative).
 */

void
feed_event_effect(const feed_event_t *ev, const feed_catalog_t *cat,
    const feed_clip_t *clip, const feed_rank_params_t *p, feed_effect_t *fx)
{
    double    dur, watch, cap, ratio, q, w;
    uint32_t  ms;

    memset(fx, 0, sizeof(feed_effect_t));

    /* what plays: for a stitch, its parent's part too (cat may be NULL) */

    ms = feed_clip_play_ms(cat, clip);
    dur = ms > 0 ? (double) ms : 1000;

    cap = dur * ((double) ev->loops + 2);
    if (cap > dur * 20) {
        cap = dur * 20;
    }

    watch = ev->watch_ms;
    if (!(watch >= 0)) {
        watch = 0;
    }

    if (watch > cap) {
        watch = cap;
    }

    fx->watch_ms = watch;

    q = (double) p->qualified_ms;
    if (q > dur / 2) {
        q = dur / 2;
    }

    fx->qualified = watch >= q;
    fx->completed = watch >= 0.9 * dur || ev->loops > 0;
    fx->fast_skip = ev->skip && watch < (dur / 4 < 2000 ? dur / 4 : 2000);

    /*
     * Rising is what viewers do with a clip, not how often it is shown:
     * a qualified view alone adds nothing, or the clips the zeitgeist
     * slots show would keep rising because they are shown.
     */

    fx->trend = fx->completed + (ev->loops > 0)
                + 2.0 * ev->like + 3.0 * ev->share;

    ratio = watch / dur;
    if (ratio > 1.5) {
        ratio = 1.5;
    }

    w = ratio - 0.5 + 0.5 * ev->like + 0.5 * ev->share
        - (fx->fast_skip ? 0.7 : 0);

    fx->learn = (float) (w < -1 ? -1 : w > 1.5 ? 1.5 : w);
}


void
feed_event_apply(const feed_event_t *ev, const feed_effect_t *fx,
    feed_viewer_t *v, const float *emb, unsigned dim, uint64_t clip_hash,
    uint32_t sound_hash, feed_clip_stats_t *cs, feed_sound_stats_t *ss,
    uint32_t now, double trend_halflife)
{
    if (cs) {
        feed_clip_add(&cs->views, fx->qualified);
        feed_clip_add(&cs->completions, fx->completed);
        feed_clip_add(&cs->rewatches, ev->loops > 0);
        feed_clip_add(&cs->likes, ev->like);
        feed_clip_add(&cs->shares, ev->share);
        feed_clip_add(&cs->skips, fx->fast_skip);
        feed_clip_watch(cs, (uint64_t) fx->watch_ms);

        if (fx->trend > 0) {
            feed_trend_add(&cs->score, &cs->score_time, fx->trend, now,
                           trend_halflife);
        }
    }

    if (ss) {
        feed_clip_add(&ss->uses, fx->qualified);

        if (fx->trend > 0) {
            feed_trend_add(&ss->score, &ss->score_time, fx->trend, now,
                           trend_halflife);
        }
    }

    if (v) {
        if (dim) {
            feed_viewer_learn(v, emb, dim, fx->learn);
        }

        if (ev->like || ev->share) {
            feed_viewer_liked_add(v, clip_hash);
        }

        /* more of a sound whose clip was watched to the end */

        if (fx->completed) {
            feed_viewer_finished_add(v, sound_hash);
        }
    }
}
