
/*
 * Copyright (C) ngx_feed_module developers
 */


#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feed_catalog.h"


/*
 * Pools grow by doubling and are trimmed to size by feed_catalog_finish(),
 * so a loaded catalog costs what it holds.  Everything a clip refers to
 * is interned: creators, sounds, tags, rendition descriptors and segment
 * lists are usually shared by many clips.
 */

typedef struct {
    void               *data;
    size_t              len;         /* elements */
    size_t              cap;         /* elements */
    size_t              size;        /* element size */
} feed_vec_t;


typedef struct {
    feed_vec_t          offs;        /* uint32_t: index -> string offset */
    uint32_t           *hash;        /* index + 1, 0 is empty */
    uint32_t            hcap;
} feed_strtab_t;


typedef struct {
    uint32_t            off;
    uint32_t            line;
    uint32_t            clip;
} feed_pending_t;


struct feed_catalog_s {
    feed_vec_t          strings;     /* char */
    feed_vec_t          u32;         /* uint32_t */
    feed_vec_t          floats;      /* float */
    feed_vec_t          clips;       /* feed_clip_t */
    feed_vec_t          pending;     /* feed_pending_t */

    feed_strtab_t       creators;
    feed_strtab_t       sounds;
    feed_strtab_t       words;       /* tags, rendition names, codecs */

    uint32_t           *ids;         /* clip index + 1, 0 is empty */
    uint32_t            ids_cap;

    uint32_t           *seqs;        /* u32 pool offset + 1, 0 is empty */
    uint32_t            seqs_cap;
    uint32_t            nseqs;

    uint32_t            dim;
};


static int feed_vec_reserve(feed_vec_t *v, size_t n);
static int feed_vec_push(feed_vec_t *v, const void *elts, size_t n);
static void feed_vec_trim(feed_vec_t *v);
static uint32_t feed_hash(const void *data, size_t len);
static int feed_str_add(feed_catalog_t *cat, const char *s, size_t len,
    uint32_t *off);
static int feed_strtab_intern(feed_catalog_t *cat, feed_strtab_t *t,
    const char *s, size_t len, uint32_t *idx);
static int feed_seq_intern(feed_catalog_t *cat, const uint32_t *seq,
    uint32_t n, uint32_t *off);
static int feed_ids_insert(feed_catalog_t *cat, uint32_t idx);
static int feed_ids_grow(feed_catalog_t *cat);
static int feed_valid_name(const char *s, size_t len, size_t max, int dot);
static int feed_get_string(json_t *obj, const char *key, const char **s,
    size_t *len, int required, feed_err_t *err);
static int feed_get_number(json_t *obj, const char *key, double *v,
    int integer, feed_err_t *err);
static int feed_parse_renditions(feed_catalog_t *cat, json_t *arr,
    double duration, uint32_t *media, feed_err_t *err);
static int feed_parse_lineage(feed_catalog_t *cat, json_t *obj,
    feed_clip_t *clip, const char *id, size_t id_len, unsigned long lineno,
    feed_err_t *err);
static uint32_t feed_segment_count(const feed_catalog_t *cat,
    const feed_clip_t *clip);


void
feed_err_set(feed_err_t *err, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, args);
    va_end(args);
}


feed_catalog_t *
feed_catalog_new(void)
{
    feed_catalog_t  *cat;

    cat = calloc(1, sizeof(feed_catalog_t));
    if (cat == NULL) {
        return NULL;
    }

    cat->strings.size = sizeof(char);
    cat->u32.size = sizeof(uint32_t);
    cat->floats.size = sizeof(float);
    cat->clips.size = sizeof(feed_clip_t);
    cat->pending.size = sizeof(feed_pending_t);
    cat->creators.offs.size = sizeof(uint32_t);
    cat->sounds.offs.size = sizeof(uint32_t);
    cat->words.offs.size = sizeof(uint32_t);

    /* offset 0 of the string pool is the empty string */

    if (feed_vec_push(&cat->strings, "", 1) != FEED_OK) {
        free(cat);
        return NULL;
    }

    return cat;
}


void
feed_catalog_free(feed_catalog_t *cat)
{
    if (cat == NULL) {
        return;
    }

    free(cat->strings.data);
    free(cat->u32.data);
    free(cat->floats.data);
    free(cat->clips.data);
    free(cat->pending.data);
    free(cat->creators.offs.data);
    free(cat->creators.hash);
    free(cat->sounds.offs.data);
    free(cat->sounds.hash);
    free(cat->words.offs.data);
    free(cat->words.hash);
    free(cat->ids);
    free(cat->seqs);
    free(cat);
}


int
feed_catalog_load(feed_catalog_t *cat, const char *path, feed_err_t *err)
{
    int             rc;
    FILE           *f;
    char           *line;
    size_t          cap;
    ssize_t         n;
    unsigned long   lineno;

    err->line = 0;

    f = fopen(path, "r");
    if (f == NULL) {
        feed_err_set(err, "cannot open: %s", strerror(errno));
        return FEED_ERROR;
    }

    line = NULL;
    cap = 0;
    lineno = 0;
    rc = FEED_OK;

    while ((n = getline(&line, &cap, f)) != -1) {
        lineno++;

        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            n--;
        }

        if (n == 0) {
            continue;
        }

        if (feed_catalog_add(cat, line, (size_t) n, lineno, err) != FEED_OK) {
            rc = FEED_ERROR;
            break;
        }
    }

    if (rc == FEED_OK && ferror(f)) {
        err->line = lineno;
        feed_err_set(err, "read error: %s", strerror(errno));
        rc = FEED_ERROR;
    }

    free(line);
    fclose(f);

    if (rc != FEED_OK) {
        return rc;
    }

    return feed_catalog_finish(cat, err);
}


int
feed_catalog_add(feed_catalog_t *cat, const char *line, size_t len,
    unsigned long lineno, feed_err_t *err)
{
    int            rc;
    json_t        *root, *v, *e;
    size_t         i, id_len, caption_len, s_len;
    double         num, duration;
    uint32_t       idx, n, tags[FEED_TAGS_MAX + 1];
    float          emb[FEED_EMBEDDING_MAX];
    const char    *id, *caption, *s;
    feed_clip_t    clip;
    json_error_t   jerr;

    err->line = lineno;

    if (len > FEED_LINE_MAX) {
        feed_err_set(err, "line longer than %d bytes", FEED_LINE_MAX);
        return FEED_ERROR;
    }

    root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        feed_err_set(err, "bad JSON at column %d: %s", jerr.column,
                     jerr.text);
        return FEED_ERROR;
    }

    rc = FEED_ERROR;
    memset(&clip, 0, sizeof(feed_clip_t));
    clip.parent = FEED_NONE;

    if (!json_is_object(root)) {
        feed_err_set(err, "a catalog line must be a JSON object");
        goto done;
    }

    /* id */

    if (feed_get_string(root, "id", &id, &id_len, 1, err) != FEED_OK) {
        goto done;
    }

    if (!feed_valid_name(id, id_len, FEED_ID_MAX, 0)) {
        feed_err_set(err, "bad \"id\": 1 to %d of A-Z a-z 0-9 _ -",
                     FEED_ID_MAX);
        goto done;
    }

    if (feed_catalog_find(cat, id, id_len) != FEED_NONE) {
        feed_err_set(err, "duplicate id \"%.*s\"", (int) id_len, id);
        goto done;
    }

    /* creator and sound */

    if (feed_get_string(root, "creator", &s, &s_len, 1, err) != FEED_OK) {
        goto done;
    }

    if (!feed_valid_name(s, s_len, FEED_ID_MAX, 1)) {
        feed_err_set(err, "bad \"creator\": 1 to %d of A-Z a-z 0-9 _ - .",
                     FEED_ID_MAX);
        goto done;
    }

    if (feed_strtab_intern(cat, &cat->creators, s, s_len, &clip.creator)
        != FEED_OK)
    {
        goto nomem;
    }

    if (feed_get_string(root, "sound", &s, &s_len, 1, err) != FEED_OK) {
        goto done;
    }

    if (!feed_valid_name(s, s_len, FEED_ID_MAX, 1)) {
        feed_err_set(err, "bad \"sound\": 1 to %d of A-Z a-z 0-9 _ - .",
                     FEED_ID_MAX);
        goto done;
    }

    if (feed_strtab_intern(cat, &cat->sounds, s, s_len, &clip.sound)
        != FEED_OK)
    {
        goto nomem;
    }

    /* created and duration */

    if (feed_get_number(root, "created", &num, 1, err) != FEED_OK) {
        goto done;
    }

    if (num < 1 || num > 4102444800.0) {
        feed_err_set(err, "absurd \"created\": %.0f is not a unix time "
                     "between 1970 and 2100", num);
        goto done;
    }

    clip.created = (uint32_t) num;

    if (feed_get_number(root, "duration", &duration, 0, err) != FEED_OK) {
        goto done;
    }

    if (!(duration > 0 && duration <= 3600)) {
        feed_err_set(err, "absurd \"duration\": %g, must be > 0 and "
                     "<= 3600 seconds", duration);
        goto done;
    }

    clip.duration_ms = (uint32_t) lround(duration * 1000);

    /* caption */

    if (feed_get_string(root, "caption", &caption, &caption_len, 1, err)
        != FEED_OK)
    {
        goto done;
    }

    if (caption_len > FEED_CAPTION_MAX) {
        feed_err_set(err, "\"caption\" longer than %d bytes",
                     FEED_CAPTION_MAX);
        goto done;
    }

    /* tags */

    v = json_object_get(root, "tags");
    if (!json_is_array(v)) {
        feed_err_set(err, v ? "\"tags\" must be an array of strings"
                            : "missing field \"tags\"");
        goto done;
    }

    n = (uint32_t) json_array_size(v);
    if (n > FEED_TAGS_MAX) {
        feed_err_set(err, "more than %d \"tags\"", FEED_TAGS_MAX);
        goto done;
    }

    for (i = 0; i < n; i++) {
        e = json_array_get(v, i);
        s = json_string_value(e);
        s_len = s ? json_string_length(e) : 0;

        if (s == NULL || s_len == 0 || s_len > FEED_TAG_LEN_MAX
            || memchr(s, '\0', s_len) != NULL)
        {
            feed_err_set(err, "bad tag #%zu: a string of 1 to %d bytes",
                         i + 1, FEED_TAG_LEN_MAX);
            goto done;
        }

        if (feed_strtab_intern(cat, &cat->words, s, s_len, &tags[i])
            != FEED_OK)
        {
            goto nomem;
        }
    }

    if (feed_seq_intern(cat, tags, n, &clip.tags) != FEED_OK) {
        goto nomem;
    }

    /* embedding */

    v = json_object_get(root, "embedding");
    if (!json_is_array(v)) {
        feed_err_set(err, v ? "\"embedding\" must be an array of numbers"
                            : "missing field \"embedding\"");
        goto done;
    }

    n = (uint32_t) json_array_size(v);
    if (n == 0 || n > FEED_EMBEDDING_MAX) {
        feed_err_set(err, "\"embedding\" must have 1 to %d numbers",
                     FEED_EMBEDDING_MAX);
        goto done;
    }

    if (cat->dim != 0 && n != cat->dim) {
        feed_err_set(err, "\"embedding\" has %u numbers, the catalog's "
                     "clips have %u", n, cat->dim);
        goto done;
    }

    for (i = 0; i < n; i++) {
        e = json_array_get(v, i);
        if (!json_is_number(e)) {
            feed_err_set(err, "\"embedding\" must be an array of numbers");
            goto done;
        }

        num = json_number_value(e);
        if (!isfinite(num) || fabs(num) > 1e6) {
            feed_err_set(err, "absurd \"embedding\" value %g", num);
            goto done;
        }

        emb[i] = (float) num;
    }

    /* renditions */

    if (feed_parse_renditions(cat, json_object_get(root, "renditions"),
                              duration, &clip.media, err)
        != FEED_OK)
    {
        goto done;
    }

    /* lineage */

    v = json_object_get(root, "lineage");
    if (v != NULL && !json_is_null(v)) {
        if (feed_parse_lineage(cat, v, &clip, id, id_len, lineno, err)
            != FEED_OK)
        {
            goto done;
        }
    }

    /* commit: nothing below can fail for a reason the line could fix */

    if (feed_str_add(cat, id, id_len, &clip.id) != FEED_OK
        || feed_str_add(cat, caption, caption_len, &clip.caption) != FEED_OK)
    {
        goto nomem;
    }

    clip.embedding = (uint32_t) cat->floats.len;

    if (feed_vec_push(&cat->floats, emb, n) != FEED_OK) {
        goto nomem;
    }

    cat->dim = n;

    idx = (uint32_t) cat->clips.len;

    if (feed_vec_push(&cat->clips, &clip, 1) != FEED_OK) {
        goto nomem;
    }

    if (feed_ids_insert(cat, idx) != FEED_OK) {
        cat->clips.len--;
        goto nomem;
    }

    if (clip.lineage != FEED_LINEAGE_NONE && clip.parent == FEED_NONE) {
        ((feed_pending_t *) cat->pending.data)[cat->pending.len - 1].clip =
                                                                          idx;
    }

    rc = FEED_OK;
    goto done;

nomem:

    feed_err_set(err, "out of memory");

done:

    json_decref(root);
    return rc;
}


int
feed_catalog_finish(feed_catalog_t *cat, feed_err_t *err)
{
    size_t           i;
    uint32_t         steps, p, nseg;
    const char      *parent;
    feed_clip_t     *clips, *c;
    feed_pending_t  *pend;

    clips = cat->clips.data;
    pend = cat->pending.data;

    /* parents that were named before they appeared in the file */

    for (i = 0; i < cat->pending.len; i++) {
        if (pend[i].clip == FEED_NONE) {
            continue;       /* the line failed after its lineage parsed */
        }

        parent = (const char *) cat->strings.data + pend[i].off;
        c = &clips[pend[i].clip];

        p = feed_catalog_find(cat, parent, strlen(parent));
        if (p == FEED_NONE) {
            err->line = pend[i].line;
            feed_err_set(err, "unknown lineage parent \"%s\"", parent);
            return FEED_ERROR;
        }

        if (c->lineage == FEED_LINEAGE_STITCH) {
            nseg = feed_segment_count(cat, &clips[p]);

            if (c->parent_segments > nseg) {
                err->line = pend[i].line;
                feed_err_set(err, "\"parent_segments\" %u is more than the "
                             "parent's %u segments", c->parent_segments,
                             nseg);
                return FEED_ERROR;
            }
        }

        c->parent = p;
    }

    /* a forward reference can close a loop: walk each chain once */

    for (i = 0; i < cat->pending.len; i++) {
        p = pend[i].clip;

        for (steps = 0; p != FEED_NONE; steps++) {
            if (steps > cat->clips.len) {
                err->line = pend[i].line;
                feed_err_set(err, "lineage loop through \"%s\"",
                             (const char *) cat->strings.data
                             + clips[pend[i].clip].id);
                return FEED_ERROR;
            }

            p = clips[p].parent;
        }
    }

    free(cat->pending.data);
    cat->pending.data = NULL;
    cat->pending.len = 0;
    cat->pending.cap = 0;

    feed_vec_trim(&cat->strings);
    feed_vec_trim(&cat->u32);
    feed_vec_trim(&cat->floats);
    feed_vec_trim(&cat->clips);
    feed_vec_trim(&cat->creators.offs);
    feed_vec_trim(&cat->sounds.offs);
    feed_vec_trim(&cat->words.offs);

    return FEED_OK;
}


uint32_t
feed_catalog_count(const feed_catalog_t *cat)
{
    return (uint32_t) cat->clips.len;
}


uint32_t
feed_catalog_dim(const feed_catalog_t *cat)
{
    return cat->dim;
}


uint32_t
feed_catalog_find(const feed_catalog_t *cat, const char *id, size_t len)
{
    uint32_t            h, mask, slot;
    const char         *s;
    const feed_clip_t  *clips;

    if (cat->ids_cap == 0) {
        return FEED_NONE;
    }

    clips = cat->clips.data;
    mask = cat->ids_cap - 1;

    for (h = feed_hash(id, len) & mask; cat->ids[h]; h = (h + 1) & mask) {
        slot = cat->ids[h] - 1;
        s = (const char *) cat->strings.data + clips[slot].id;

        if (strncmp(s, id, len) == 0 && s[len] == '\0') {
            return slot;
        }
    }

    return FEED_NONE;
}


const feed_clip_t *
feed_catalog_clip(const feed_catalog_t *cat, uint32_t idx)
{
    if (idx >= cat->clips.len) {
        return NULL;
    }

    return (const feed_clip_t *) cat->clips.data + idx;
}


size_t
feed_catalog_memory(const feed_catalog_t *cat, size_t *embeddings)
{
    size_t  total;

    total = sizeof(feed_catalog_t)
            + cat->strings.cap * cat->strings.size
            + cat->u32.cap * cat->u32.size
            + cat->clips.cap * cat->clips.size
            + cat->pending.cap * cat->pending.size
            + cat->creators.offs.cap * sizeof(uint32_t)
            + cat->creators.hcap * sizeof(uint32_t)
            + cat->sounds.offs.cap * sizeof(uint32_t)
            + cat->sounds.hcap * sizeof(uint32_t)
            + cat->words.offs.cap * sizeof(uint32_t)
            + cat->words.hcap * sizeof(uint32_t)
            + cat->ids_cap * sizeof(uint32_t)
            + cat->seqs_cap * sizeof(uint32_t);

    if (embeddings) {
        *embeddings = cat->floats.cap * cat->floats.size;
    }

    return total;
}


const char *
feed_clip_id(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    return (const char *) cat->strings.data + clip->id;
}


const char *
feed_clip_caption(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    return (const char *) cat->strings.data + clip->caption;
}


const char *
feed_clip_creator(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    const uint32_t  *offs = cat->creators.offs.data;

    return (const char *) cat->strings.data + offs[clip->creator];
}


const char *
feed_clip_sound(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    const uint32_t  *offs = cat->sounds.offs.data;

    return (const char *) cat->strings.data + offs[clip->sound];
}


uint32_t
feed_clip_ntags(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    return ((const uint32_t *) cat->u32.data)[clip->tags];
}


const char *
feed_clip_tag(const feed_catalog_t *cat, const feed_clip_t *clip, uint32_t i)
{
    const uint32_t  *seq, *offs;

    seq = (const uint32_t *) cat->u32.data + clip->tags;
    offs = cat->words.offs.data;

    return (const char *) cat->strings.data + offs[seq[1 + i]];
}


const float *
feed_clip_embedding(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    return (const float *) cat->floats.data + clip->embedding;
}


uint32_t
feed_clip_nrenditions(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    return ((const uint32_t *) cat->u32.data)[clip->media] / 2;
}


void
feed_clip_rendition(const feed_catalog_t *cat, const feed_clip_t *clip,
    uint32_t i, feed_rendition_t *r)
{
    const char      *str;
    const uint32_t  *u, *media, *desc, *segs, *offs;

    u = cat->u32.data;
    str = cat->strings.data;
    offs = cat->words.offs.data;

    media = u + clip->media;
    desc = u + media[1 + 2 * i];
    segs = u + media[2 + 2 * i];

    /* desc: 5, name, codecs, resolution, bandwidth, width << 16 | height */

    r->name = str + offs[desc[1]];
    r->name_len = strlen(r->name);
    r->codecs = str + offs[desc[2]];
    r->resolution = str + offs[desc[3]];
    r->bandwidth = desc[4];
    r->width = desc[5] >> 16;
    r->height = desc[5] & 0xffff;
    r->nsegments = segs[0];
    r->segments_us = segs + 1;
}


int
feed_clip_find_rendition(const feed_catalog_t *cat, const feed_clip_t *clip,
    const char *name, size_t len)
{
    uint32_t          i, n;
    feed_rendition_t  r;

    n = feed_clip_nrenditions(cat, clip);

    for (i = 0; i < n; i++) {
        feed_clip_rendition(cat, clip, i, &r);

        if (r.name_len == len && memcmp(r.name, name, len) == 0) {
            return (int) i;
        }
    }

    return -1;
}


static uint32_t
feed_segment_count(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    uint32_t          i, n, min;
    feed_rendition_t  r;

    n = feed_clip_nrenditions(cat, clip);
    min = FEED_NONE;

    for (i = 0; i < n; i++) {
        feed_clip_rendition(cat, clip, i, &r);

        if (r.nsegments < min) {
            min = r.nsegments;
        }
    }

    return min;
}


static int
feed_parse_renditions(feed_catalog_t *cat, json_t *arr, double duration,
    uint32_t *media, feed_err_t *err)
{
    int          used;
    char         res[32];
    json_t      *r, *v, *segs;
    size_t       i, j, k, len, nseg;
    double       num, sum;
    uint32_t     n, desc[5], list[2 * FEED_RENDITIONS_MAX], *us;
    unsigned     w, h;
    const char  *s, *names[FEED_RENDITIONS_MAX];
    size_t       name_lens[FEED_RENDITIONS_MAX];

    if (!json_is_array(arr)) {
        feed_err_set(err, arr ? "\"renditions\" must be an array"
                              : "missing field \"renditions\"");
        return FEED_ERROR;
    }

    n = (uint32_t) json_array_size(arr);
    if (n == 0 || n > FEED_RENDITIONS_MAX) {
        feed_err_set(err, "\"renditions\" must have 1 to %d entries",
                     FEED_RENDITIONS_MAX);
        return FEED_ERROR;
    }

    for (i = 0; i < n; i++) {
        r = json_array_get(arr, i);
        if (!json_is_object(r)) {
            feed_err_set(err, "rendition #%zu must be an object", i + 1);
            return FEED_ERROR;
        }

        if (feed_get_string(r, "name", &s, &len, 1, err) != FEED_OK) {
            goto field;
        }

        if (!feed_valid_name(s, len, FEED_RENDITION_MAX, 0)) {
            feed_err_set(err, "rendition #%zu: bad \"name\": 1 to %d of "
                         "A-Z a-z 0-9 _ -", i + 1, FEED_RENDITION_MAX);
            return FEED_ERROR;
        }

        for (k = 0; k < i; k++) {
            if (name_lens[k] == len && memcmp(names[k], s, len) == 0) {
                feed_err_set(err, "duplicate rendition \"%.*s\"",
                             (int) len, s);
                return FEED_ERROR;
            }
        }

        names[i] = s;
        name_lens[i] = len;

        if (feed_strtab_intern(cat, &cat->words, s, len, &desc[0])
            != FEED_OK)
        {
            goto nomem;
        }

        if (feed_get_string(r, "codecs", &s, &len, 1, err) != FEED_OK) {
            goto field;
        }

        if (len == 0 || len > 128 || strspn(s,
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789.,_-") != len)
        {
            feed_err_set(err, "rendition \"%.*s\": bad \"codecs\"",
                         (int) name_lens[i], names[i]);
            return FEED_ERROR;
        }

        if (feed_strtab_intern(cat, &cat->words, s, len, &desc[1])
            != FEED_OK)
        {
            goto nomem;
        }

        if (feed_get_string(r, "resolution", &s, &len, 1, err) != FEED_OK) {
            goto field;
        }

        w = h = 0;

        if (len >= sizeof(res)
            || strspn(s, "0123456789x") != len
            || (memcpy(res, s, len), res[len] = '\0', used = 0,
                sscanf(res, "%5ux%5u%n", &w, &h, &used) != 2)
            || (size_t) used != len
            || w < 16 || w > 8192 || h < 16 || h > 8192)
        {
            feed_err_set(err, "rendition \"%.*s\": bad \"resolution\", "
                         "want WIDTHxHEIGHT between 16 and 8192",
                         (int) name_lens[i], names[i]);
            return FEED_ERROR;
        }

        /* keep the canonical spelling: no leading zeros */

        len = (size_t) snprintf(res, sizeof(res), "%ux%u", w, h);

        if (feed_strtab_intern(cat, &cat->words, res, len, &desc[2])
            != FEED_OK)
        {
            goto nomem;
        }

        if (feed_get_number(r, "bandwidth", &num, 1, err) != FEED_OK) {
            goto field;
        }

        if (num < 1000 || num > 1e9) {
            feed_err_set(err, "rendition \"%.*s\": absurd \"bandwidth\" "
                         "%.0f, want 1000 to 1000000000 bits per second",
                         (int) name_lens[i], names[i], num);
            return FEED_ERROR;
        }

        desc[3] = (uint32_t) num;
        desc[4] = (uint32_t) (w << 16 | h);

        if (feed_seq_intern(cat, desc, 5, &list[2 * i]) != FEED_OK) {
            goto nomem;
        }

        segs = json_object_get(r, "segments");
        if (!json_is_array(segs)) {
            feed_err_set(err, "rendition \"%.*s\": %s", (int) name_lens[i],
                         names[i], segs ? "\"segments\" must be an array"
                                        : "missing field \"segments\"");
            return FEED_ERROR;
        }

        nseg = json_array_size(segs);
        if (nseg == 0 || nseg > FEED_SEGMENTS_MAX) {
            feed_err_set(err, "rendition \"%.*s\": \"segments\" must have "
                         "1 to %d durations", (int) name_lens[i], names[i],
                         FEED_SEGMENTS_MAX);
            return FEED_ERROR;
        }

        us = malloc(nseg * sizeof(uint32_t));
        if (us == NULL) {
            goto nomem;
        }

        sum = 0;

        for (j = 0; j < nseg; j++) {
            v = json_array_get(segs, j);
            num = json_is_number(v) ? json_number_value(v) : -1;

            if (!(num > 0 && num <= 60)) {
                free(us);
                feed_err_set(err, "rendition \"%.*s\": absurd segment #%zu "
                             "duration, want > 0 and <= 60 seconds",
                             (int) name_lens[i], names[i], j);
                return FEED_ERROR;
            }

            us[j] = (uint32_t) llround(num * 1e6);
            if (us[j] == 0) {
                us[j] = 1;
            }

            sum += num;
        }

        if (fabs(sum - duration) > 0.5 + duration / 100) {
            free(us);
            feed_err_set(err, "rendition \"%.*s\": segments add up to "
                         "%.3f s but \"duration\" is %.3f s",
                         (int) name_lens[i], names[i], sum, duration);
            return FEED_ERROR;
        }

        if (feed_seq_intern(cat, us, (uint32_t) nseg, &list[2 * i + 1])
            != FEED_OK)
        {
            free(us);
            goto nomem;
        }

        free(us);
    }

    if (feed_seq_intern(cat, list, 2 * n, media) != FEED_OK) {
        goto nomem;
    }

    return FEED_OK;

field:

    /* feed_get_*() wrote the reason; say which rendition it was about */

    {
        char  msg[FEED_ERR_LEN];

        memcpy(msg, err->msg, sizeof(msg));
        feed_err_set(err, "rendition #%zu: %s", i + 1, msg);
    }

    return FEED_ERROR;

nomem:

    feed_err_set(err, "out of memory");
    return FEED_ERROR;
}


static int
feed_parse_lineage(feed_catalog_t *cat, json_t *obj, feed_clip_t *clip,
    const char *id, size_t id_len, unsigned long lineno, feed_err_t *err)
{
    json_t          *v;
    size_t           len;
    double           num;
    uint32_t         p, nseg;
    const char      *kind, *parent, *s;
    feed_pending_t   pend;

    if (!json_is_object(obj)) {
        feed_err_set(err, "\"lineage\" must be an object");
        return FEED_ERROR;
    }

    if (feed_get_string(obj, "kind", &kind, &len, 1, err) != FEED_OK) {
        feed_err_set(err, "\"lineage\" needs \"kind\": duet or stitch");
        return FEED_ERROR;
    }

    if (len == 4 && memcmp(kind, "duet", 4) == 0) {
        clip->lineage = FEED_LINEAGE_DUET;

    } else if (len == 6 && memcmp(kind, "stitch", 6) == 0) {
        clip->lineage = FEED_LINEAGE_STITCH;

    } else {
        feed_err_set(err, "unknown lineage \"kind\" \"%.*s\": duet or "
                     "stitch", (int) (len > 32 ? 32 : len), kind);
        return FEED_ERROR;
    }

    if (feed_get_string(obj, "parent", &parent, &len, 1, err) != FEED_OK) {
        feed_err_set(err, "\"lineage\" needs \"parent\"");
        return FEED_ERROR;
    }

    if (!feed_valid_name(parent, len, FEED_ID_MAX, 0)) {
        feed_err_set(err, "bad lineage \"parent\"");
        return FEED_ERROR;
    }

    if (len == id_len && memcmp(parent, id, len) == 0) {
        feed_err_set(err, "a clip cannot be its own lineage parent");
        return FEED_ERROR;
    }

    if (clip->lineage == FEED_LINEAGE_STITCH) {
        v = json_object_get(obj, "parent_segments");
        num = json_is_integer(v) ? (double) json_integer_value(v) : -1;

        if (num < 1 || num > FEED_SEGMENTS_MAX) {
            feed_err_set(err, "a stitch needs \"parent_segments\", an "
                         "integer from 1 to the parent's segment count");
            return FEED_ERROR;
        }

        clip->parent_segments = (uint16_t) num;

    } else {
        v = json_object_get(obj, "offset");
        if (v != NULL) {
            num = json_is_number(v) ? json_number_value(v) : -1;

            if (!(num >= 0 && num <= 3600)) {
                feed_err_set(err, "absurd duet \"offset\", want 0 to 3600 "
                             "seconds");
                return FEED_ERROR;
            }

            clip->offset_ms = (uint32_t) lround(num * 1000);
        }

        v = json_object_get(obj, "layout");
        if (v != NULL) {
            s = json_string_value(v);

            if (s != NULL && strcmp(s, "side") == 0) {
                clip->layout = FEED_LAYOUT_SIDE;

            } else if (s != NULL && strcmp(s, "top") == 0) {
                clip->layout = FEED_LAYOUT_TOP;

            } else {
                feed_err_set(err, "duet \"layout\" must be side or top");
                return FEED_ERROR;
            }
        }
    }

    p = feed_catalog_find(cat, parent, len);

    if (p != FEED_NONE) {
        if (clip->lineage == FEED_LINEAGE_STITCH) {
            nseg = feed_segment_count(cat, feed_catalog_clip(cat, p));

            if (clip->parent_segments > nseg) {
                feed_err_set(err, "\"parent_segments\" %u is more than the "
                             "parent's %u segments", clip->parent_segments,
                             nseg);
                return FEED_ERROR;
            }
        }

        clip->parent = p;
        return FEED_OK;
    }

    /* the parent may come later in the file: resolved in finish() */

    if (feed_str_add(cat, parent, len, &pend.off) != FEED_OK) {
        feed_err_set(err, "out of memory");
        return FEED_ERROR;
    }

    pend.line = (uint32_t) lineno;
    pend.clip = FEED_NONE;

    if (feed_vec_push(&cat->pending, &pend, 1) != FEED_OK) {
        feed_err_set(err, "out of memory");
        return FEED_ERROR;
    }

    return FEED_OK;
}


static int
feed_get_string(json_t *obj, const char *key, const char **s, size_t *len,
    int required, feed_err_t *err)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL) {
        if (!required) {
            *s = "";
            *len = 0;
            return FEED_OK;
        }

        feed_err_set(err, "missing field \"%s\"", key);
        return FEED_ERROR;
    }

    if (!json_is_string(v)) {
        feed_err_set(err, "\"%s\" must be a string", key);
        return FEED_ERROR;
    }

    *s = json_string_value(v);
    *len = json_string_length(v);

    if (memchr(*s, '\0', *len) != NULL) {
        feed_err_set(err, "\"%s\" must not contain NUL", key);
        return FEED_ERROR;
    }

    return FEED_OK;
}


static int
feed_get_number(json_t *obj, const char *key, double *v, int integer,
    feed_err_t *err)
{
    json_t  *j;

    j = json_object_get(obj, key);

    if (j == NULL) {
        feed_err_set(err, "missing field \"%s\"", key);
        return FEED_ERROR;
    }

    if (integer ? !json_is_integer(j) : !json_is_number(j)) {
        feed_err_set(err, "\"%s\" must be %s", key,
                     integer ? "an integer" : "a number");
        return FEED_ERROR;
    }

    *v = json_number_value(j);
    return FEED_OK;
}


static int
feed_valid_name(const char *s, size_t len, size_t max, int dot)
{
    size_t         i;
    unsigned char  c;

    if (len == 0 || len > max) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '-'
            || (dot && c == '.'))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


static uint32_t
feed_hash(const void *data, size_t len)
{
    size_t          i;
    uint32_t        h;
    const uint8_t  *p = data;

    /* FNV-1a, then a final mix so that low bits are usable as a slot */

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }

    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;

    return h;
}


static int
feed_vec_reserve(feed_vec_t *v, size_t n)
{
    void    *p;
    size_t   cap;

    if (v->len + n <= v->cap) {
        return FEED_OK;
    }

    cap = v->cap ? v->cap : 64;

    while (cap < v->len + n) {
        cap *= 2;
    }

    p = realloc(v->data, cap * v->size);
    if (p == NULL) {
        return FEED_ERROR;
    }

    v->data = p;
    v->cap = cap;

    return FEED_OK;
}


static int
feed_vec_push(feed_vec_t *v, const void *elts, size_t n)
{
    if (feed_vec_reserve(v, n) != FEED_OK) {
        return FEED_ERROR;
    }

    if (n) {
        memcpy((char *) v->data + v->len * v->size, elts, n * v->size);
    }

    v->len += n;

    return FEED_OK;
}


static void
feed_vec_trim(feed_vec_t *v)
{
    void  *p;

    if (v->len == 0 || v->len == v->cap) {
        return;
    }

    p = realloc(v->data, v->len * v->size);
    if (p != NULL) {
        v->data = p;
        v->cap = v->len;
    }
}


static int
feed_str_add(feed_catalog_t *cat, const char *s, size_t len, uint32_t *off)
{
    if (len == 0) {
        *off = 0;
        return FEED_OK;
    }

    if (cat->strings.len + len + 1 > 0xffffffffu) {
        return FEED_ERROR;
    }

    if (feed_vec_reserve(&cat->strings, len + 1) != FEED_OK) {
        return FEED_ERROR;
    }

    *off = (uint32_t) cat->strings.len;

    memcpy((char *) cat->strings.data + cat->strings.len, s, len);
    ((char *) cat->strings.data)[cat->strings.len + len] = '\0';
    cat->strings.len += len + 1;

    return FEED_OK;
}


static int
feed_strtab_grow(feed_catalog_t *cat, feed_strtab_t *t)
{
    uint32_t   i, h, cap, mask, *hash;
    uint32_t  *offs;
    char      *s;

    cap = t->hcap ? t->hcap * 2 : 64;
    mask = cap - 1;

    hash = calloc(cap, sizeof(uint32_t));
    if (hash == NULL) {
        return FEED_ERROR;
    }

    offs = t->offs.data;

    for (i = 0; i < t->offs.len; i++) {
        s = (char *) cat->strings.data + offs[i];

        for (h = feed_hash(s, strlen(s)) & mask; hash[h]; h = (h + 1) & mask)
        {
            /* probe */
        }

        hash[h] = i + 1;
    }

    free(t->hash);
    t->hash = hash;
    t->hcap = cap;

    return FEED_OK;
}


static int
feed_strtab_intern(feed_catalog_t *cat, feed_strtab_t *t, const char *s,
    size_t len, uint32_t *idx)
{
    uint32_t   h, mask, off, *offs;
    char      *str;

    if ((t->offs.len + 1) * 2 > t->hcap) {
        if (feed_strtab_grow(cat, t) != FEED_OK) {
            return FEED_ERROR;
        }
    }

    mask = t->hcap - 1;
    offs = t->offs.data;

    for (h = feed_hash(s, len) & mask; t->hash[h]; h = (h + 1) & mask) {
        str = (char *) cat->strings.data + offs[t->hash[h] - 1];

        if (strncmp(str, s, len) == 0 && str[len] == '\0') {
            *idx = t->hash[h] - 1;
            return FEED_OK;
        }
    }

    if (feed_str_add(cat, s, len, &off) != FEED_OK) {
        return FEED_ERROR;
    }

    if (feed_vec_push(&t->offs, &off, 1) != FEED_OK) {
        return FEED_ERROR;
    }

    *idx = (uint32_t) t->offs.len - 1;
    t->hash[h] = *idx + 1;

    return FEED_OK;
}


static int
feed_seqs_grow(feed_catalog_t *cat)
{
    uint32_t   i, h, cap, mask, n, *hash, *seq, *u;

    cap = cat->seqs_cap ? cat->seqs_cap * 2 : 256;
    mask = cap - 1;

    hash = calloc(cap, sizeof(uint32_t));
    if (hash == NULL) {
        return FEED_ERROR;
    }

    u = cat->u32.data;

    for (i = 0; i < cat->seqs_cap; i++) {
        if (cat->seqs[i] == 0) {
            continue;
        }

        seq = u + cat->seqs[i] - 1;
        n = seq[0];

        for (h = feed_hash(seq, (n + 1) * sizeof(uint32_t)) & mask;
             hash[h];
             h = (h + 1) & mask)
        {
            /* probe */
        }

        hash[h] = cat->seqs[i];
    }

    free(cat->seqs);
    cat->seqs = hash;
    cat->seqs_cap = cap;

    return FEED_OK;
}


static int
feed_seq_intern(feed_catalog_t *cat, const uint32_t *seq, uint32_t n,
    uint32_t *off)
{
    uint32_t   h, mask, hv, *u, *cand;
    size_t     need;

    if ((cat->nseqs + 1) * 2 > cat->seqs_cap) {
        if (feed_seqs_grow(cat) != FEED_OK) {
            return FEED_ERROR;
        }
    }

    /* hash the sequence as it will be stored: length first */

    need = n + 1;

    if (feed_vec_reserve(&cat->u32, need) != FEED_OK) {
        return FEED_ERROR;
    }

    u = cat->u32.data;
    cand = u + cat->u32.len;
    cand[0] = n;
    memcpy(cand + 1, seq, n * sizeof(uint32_t));

    hv = feed_hash(cand, need * sizeof(uint32_t));
    mask = cat->seqs_cap - 1;

    for (h = hv & mask; cat->seqs[h]; h = (h + 1) & mask) {
        if (memcmp(u + cat->seqs[h] - 1, cand, need * sizeof(uint32_t))
            == 0)
        {
            *off = cat->seqs[h] - 1;
            return FEED_OK;
        }
    }

    if (cat->u32.len + need >= 0xffffffffu) {
        return FEED_ERROR;
    }

    *off = (uint32_t) cat->u32.len;
    cat->u32.len += need;
    cat->seqs[h] = *off + 1;
    cat->nseqs++;

    return FEED_OK;
}


static int
feed_ids_grow(feed_catalog_t *cat)
{
    uint32_t      i, h, cap, mask, *ids;
    const char   *s;
    feed_clip_t  *clips;

    cap = cat->ids_cap ? cat->ids_cap * 2 : 1024;
    mask = cap - 1;

    ids = calloc(cap, sizeof(uint32_t));
    if (ids == NULL) {
        return FEED_ERROR;
    }

    clips = cat->clips.data;

    for (i = 0; i < cat->ids_cap; i++) {
        if (cat->ids[i] == 0) {
            continue;
        }

        s = (const char *) cat->strings.data + clips[cat->ids[i] - 1].id;

        for (h = feed_hash(s, strlen(s)) & mask; ids[h]; h = (h + 1) & mask)
        {
            /* probe */
        }

        ids[h] = cat->ids[i];
    }

    free(cat->ids);
    cat->ids = ids;
    cat->ids_cap = cap;

    return FEED_OK;
}


static int
feed_ids_insert(feed_catalog_t *cat, uint32_t idx)
{
    uint32_t      h, mask;
    const char   *s;
    feed_clip_t  *clips;

    /* load factor at most 1/2 keeps probe sequences short */

    if ((size_t) (idx + 1) * 2 > cat->ids_cap) {
        if (feed_ids_grow(cat) != FEED_OK) {
            return FEED_ERROR;
        }
    }

    clips = cat->clips.data;
    s = (const char *) cat->strings.data + clips[idx].id;
    mask = cat->ids_cap - 1;

    for (h = feed_hash(s, strlen(s)) & mask; cat->ids[h]; h = (h + 1) & mask)
    {
        /* probe */
    }

    cat->ids[h] = idx + 1;

    return FEED_OK;
}
