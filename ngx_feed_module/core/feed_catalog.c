
/*
 * Copyright (C) the feed module developers
 */


#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feed_catalog.h"
#include "feed_line.h"


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


/*
 * The hash tables are open addressing with linear probing, at most half
 * full, and their slots hold an index + 1 (0 is empty) in the bits below
 * FEED_TAG(); the bits above hold the same bits of the entry's hash, so
 * that most slots of a probe are passed over without reading the entry
 * itself, a cache miss in a large catalog.  An index + 1 is at most half
 * the capacity, which the low bits hold; the sequence table keeps its own
 * bound, seqs_low, as offsets in the u32 pool grow faster than the table.
 */

#define FEED_TAG(e, low)   ((e) & ~(low))


#if defined(__GNUC__)
#define feed_prefetch(p)   __builtin_prefetch(p)
#else
#define feed_prefetch(p)
#endif


typedef struct {
    feed_vec_t          offs;        /* uint32_t: index -> string offset */
    uint32_t           *hash;        /* tag | index + 1, 0 is empty */
    uint32_t            hcap;
} feed_strtab_t;


typedef struct {
    uint32_t            off;
    uint32_t            line;
    uint32_t            clip;
} feed_pending_t;


/* the strings of the last rendition seen at a place in the ladder */

typedef struct {
    uint32_t            name;        /* words index */
    uint32_t            codecs;      /* words index */
    uint32_t            res;         /* words index */
    uint32_t            width;
    uint32_t            height;
    unsigned            valid;
} feed_memo_t;


/* feed_catalog_finish(): where the lineage loop check has been */

#define FEED_MARK_NONE     0
#define FEED_MARK_WALK     1
#define FEED_MARK_DONE     2


struct feed_catalog_s {
    feed_vec_t          strings;     /* char */
    feed_vec_t          u32;         /* uint32_t */
    feed_vec_t          floats;      /* float */
    feed_vec_t          clips;       /* feed_clip_t */
    feed_vec_t          pending;     /* feed_pending_t */

    feed_strtab_t       creators;
    feed_strtab_t       sounds;
    feed_strtab_t       words;       /* tags, rendition names, codecs */

    uint32_t           *ids;         /* tag | clip index + 1 */
    uint32_t            ids_cap;

    uint32_t           *seqs;        /* tag | u32 pool offset + 1 */
    uint32_t            seqs_cap;
    uint32_t            seqs_low;    /* the bits of offset + 1 */
    uint32_t            nseqs;

    uint32_t            dim;

    feed_memo_t         memo[FEED_RENDITIONS_MAX];

    uint32_t           *segs;        /* FEED_LINE_SEGS_MAX, for jansson */
    unsigned            fast;        /* feed_line_scan() first */
};


/* hashes that depend on a line alone: the reader works them out */

typedef struct {
    uint32_t            id;
    uint32_t            creator;
    uint32_t            segs[FEED_RENDITIONS_MAX];
} feed_hints_t;


/*
 * feed_catalog_load() reads and scans lines ahead, into a ring of
 * FEED_LOAD_RING lines; a line read ahead has room for FEED_LOAD_SEGS
 * distinct segment durations, and jansson parses one that has more.
 */

#define FEED_LOAD_RING     256
#define FEED_LOAD_SEGS     2048
#define FEED_LOAD_BATCH    64        /* lines between two handovers */
#define FEED_LOAD_READS    16        /* lines read under one lock */


typedef struct {
    char               *buf;
    size_t              cap;
    size_t              len;
    unsigned long       lineno;
    int                 scanned;     /* l is the scanner's */
    feed_hints_t        hints;
    feed_line_t         l;
} feed_load_line_t;


typedef struct {
    FILE               *file;
    unsigned            fast;
    unsigned            threaded;

    /* the reader's */

    unsigned long       lineno;      /* lines read */
    int                 error;       /* errno of a read error */

    /* under mutex, when threaded */

    pthread_mutex_t     mutex;
    pthread_cond_t      cond;
    size_t              head;        /* lines read */
    size_t              tail;        /* lines done */
    size_t              main_want;   /* head that main_waits for */
    unsigned            main_waits;
    unsigned            reader_waits;
    unsigned            eof;
    unsigned            stop;

    feed_load_line_t    lines[FEED_LOAD_RING];
    uint32_t            segs[FEED_LOAD_RING][FEED_LOAD_SEGS];
    char                iobuf[1024 * 1024];
} feed_load_t;


static int feed_vec_reserve(feed_vec_t *v, size_t n);
static int feed_vec_push(feed_vec_t *v, const void *elts, size_t n);
static void feed_vec_trim(feed_vec_t *v);
static uint32_t feed_hash(const void *data, size_t len);
static int feed_str_eq(const feed_catalog_t *cat, uint32_t off,
    const char *s, size_t len);
static int feed_str_add(feed_catalog_t *cat, const char *s, size_t len,
    uint32_t *off);
static int feed_strtab_intern(feed_catalog_t *cat, feed_strtab_t *t,
    const char *s, size_t len, uint32_t *idx);
static int feed_strtab_intern_hash(feed_catalog_t *cat, feed_strtab_t *t,
    const char *s, size_t len, uint32_t hv, uint32_t *idx);
static int feed_seq_intern_hash(feed_catalog_t *cat, const uint32_t *seq,
    uint32_t n, uint32_t hash, uint32_t *off);
static int feed_ids_insert(feed_catalog_t *cat, uint32_t idx, uint32_t hv);
static int feed_ids_grow(feed_catalog_t *cat, uint32_t nclips);
static int feed_load_run(feed_catalog_t *cat, feed_load_t *ld,
    feed_err_t *err);
static size_t feed_load_wait(feed_load_t *ld, size_t k);
static size_t feed_load_done(feed_load_t *ld, size_t k);
static void *feed_load_reader(void *data);
static int feed_load_read(feed_load_t *ld, feed_load_line_t *ll);
static int feed_catalog_segs(feed_catalog_t *cat, feed_err_t *err);
static int feed_catalog_add_line(feed_catalog_t *cat, feed_line_t *l,
    feed_hints_t *hints, int scanned, const char *line, size_t len,
    unsigned long lineno, feed_err_t *err);
static void feed_hints_make(feed_line_t *l, feed_hints_t *hints);
static uint32_t feed_catalog_find_hash(const feed_catalog_t *cat,
    const char *id, size_t len, uint32_t hv);
static uint32_t feed_strtab_probe(feed_catalog_t *cat, feed_strtab_t *t,
    const char *s, size_t len, uint32_t hv, uint32_t *idx);
static int feed_seqs_grow(feed_catalog_t *cat, int grow);
static void feed_rehash(uint32_t *hash, uint32_t mask, const uint32_t *hv,
    const uint32_t *e, uint32_t n);
static uint32_t feed_seq_hash(const uint32_t *seq, uint32_t n);
static int feed_catalog_check(feed_catalog_t *cat, feed_line_t *l,
    feed_hints_t *hints);
static int feed_catalog_commit(feed_catalog_t *cat, feed_line_t *l,
    feed_hints_t *hints, unsigned long lineno, feed_err_t *err);
static int feed_memo_match(feed_catalog_t *cat, feed_memo_t *m,
    feed_line_rendition_t *r);
static size_t feed_resolution_format(char *buf, uint32_t w, uint32_t h);
static int feed_catalog_add_json(feed_catalog_t *cat, feed_line_t *l,
    feed_hints_t *hints, const char *line, size_t len, unsigned long lineno,
    feed_err_t *err);
static int feed_parse_line(feed_catalog_t *cat, json_t *root,
    feed_line_t *l, feed_err_t *err);
static int feed_get_string(json_t *obj, const char *key, const char **s,
    size_t *len, int required, feed_err_t *err);
static int feed_get_number(json_t *obj, const char *key, double *v,
    int integer, feed_err_t *err);
static int feed_parse_renditions(json_t *arr, double duration,
    feed_line_t *l, feed_err_t *err);
static int feed_parse_lineage(feed_catalog_t *cat, json_t *obj,
    feed_line_t *l, feed_err_t *err);
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
    cat->fast = 1;

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
    free(cat->segs);
    free(cat);
}


void
feed_catalog_set_fast(feed_catalog_t *cat, int on)
{
    cat->fast = on ? 1 : 0;
}


int
feed_catalog_load(feed_catalog_t *cat, const char *path, feed_err_t *err)
{
    int           rc;
    size_t        i;
    feed_load_t  *ld;

    err->line = 0;

    ld = calloc(1, sizeof(feed_load_t));
    if (ld == NULL) {
        feed_err_set(err, "out of memory");
        return FEED_ERROR;
    }

    ld->file = fopen(path, "r");
    if (ld->file == NULL) {
        feed_err_set(err, "cannot open: %s", strerror(errno));
        free(ld);
        return FEED_ERROR;
    }

    /* large reads: stdio's default buffer makes a read() every 4K */

    (void) setvbuf(ld->file, ld->iobuf, _IOFBF, sizeof(ld->iobuf));

    ld->fast = cat->fast;

    rc = feed_load_run(cat, ld, err);

    for (i = 0; i < FEED_LOAD_RING; i++) {
        free(ld->lines[i].buf);
    }

    fclose(ld->file);
    free(ld);

    if (rc != FEED_OK) {
        return rc;
    }

    return feed_catalog_finish(cat, err);
}


/*
 * Lines are read and scanned ahead, on a thread of their own when one
 * can be had: that work is a pure function of the file.  This thread
 * checks and commits them one by one in file order, as feed_catalog_add()
 * would.
 */

static int
feed_load_run(feed_catalog_t *cat, feed_load_t *ld, feed_err_t *err)
{
    int                rc;
    size_t             k, avail;
    pthread_t          reader;
    sigset_t           all, old;
    feed_load_line_t  *ll;

    rc = FEED_OK;

    /* jansson alone gains nothing from reading ahead on a thread */

    if (ld->fast && pthread_mutex_init(&ld->mutex, NULL) == 0) {
        if (pthread_cond_init(&ld->cond, NULL) == 0) {

            /* signals are for the main thread, as if the reader were not */

            sigfillset(&all);
            pthread_sigmask(SIG_SETMASK, &all, &old);

            ld->threaded = (pthread_create(&reader, NULL, feed_load_reader,
                                           ld)
                            == 0);

            pthread_sigmask(SIG_SETMASK, &old, NULL);

            if (!ld->threaded) {
                pthread_cond_destroy(&ld->cond);
            }
        }

        if (!ld->threaded) {
            pthread_mutex_destroy(&ld->mutex);
        }
    }

    avail = 0;

    for (k = 0; /* void */; k++) {

        if (k == avail) {
            avail = feed_load_wait(ld, k);

            if (k == avail) {
                break;
            }
        }

        ll = &ld->lines[k % FEED_LOAD_RING];

        if (feed_catalog_add_line(cat, &ll->l, &ll->hints, ll->scanned,
                                  ll->buf, ll->len, ll->lineno, err)
            != FEED_OK)
        {
            rc = FEED_ERROR;
            break;
        }

        if (ld->threaded && k % FEED_LOAD_BATCH == 0) {
            avail = feed_load_done(ld, k);
        }
    }

    if (ld->threaded) {
        pthread_mutex_lock(&ld->mutex);
        ld->stop = 1;
        pthread_cond_signal(&ld->cond);
        pthread_mutex_unlock(&ld->mutex);

        pthread_join(reader, NULL);
        pthread_cond_destroy(&ld->cond);
        pthread_mutex_destroy(&ld->mutex);
    }

    if (rc == FEED_OK && ld->error) {
        err->line = ld->lineno;
        feed_err_set(err, "read error: %s", strerror(ld->error));
        rc = FEED_ERROR;
    }

    return rc;
}


/*
 * Line k read if the file has it, and the next ones if they are there:
 * returns how many lines have been read in all (k at the end).
 */

static size_t
feed_load_wait(feed_load_t *ld, size_t k)
{
    size_t  avail;

    if (!ld->threaded) {

        /* lines before k are done: their slots are free again */

        while (ld->head < k + FEED_LOAD_READS && !ld->eof) {
            if (feed_load_read(ld, &ld->lines[ld->head % FEED_LOAD_RING])) {
                ld->head++;

            } else {
                ld->eof = 1;
            }
        }

        return ld->head;
    }

    pthread_mutex_lock(&ld->mutex);

    ld->tail = k;

    if (ld->reader_waits
        && ld->head - ld->tail <= FEED_LOAD_RING - FEED_LOAD_BATCH)
    {
        pthread_cond_signal(&ld->cond);
    }

    /* wait for a batch of lines, not for each */

    while (ld->head < k + 1 && !ld->eof) {
        ld->main_want = k + FEED_LOAD_BATCH;
        ld->main_waits = 1;
        pthread_cond_wait(&ld->cond, &ld->mutex);
    }

    ld->main_waits = 0;
    avail = ld->head;

    pthread_mutex_unlock(&ld->mutex);

    return avail;
}


/* lines before k are done, their slots are the reader's again */

static size_t
feed_load_done(feed_load_t *ld, size_t k)
{
    size_t  avail;

    pthread_mutex_lock(&ld->mutex);

    ld->tail = k;

    if (ld->reader_waits
        && ld->head - ld->tail <= FEED_LOAD_RING - FEED_LOAD_BATCH)
    {
        pthread_cond_signal(&ld->cond);
    }

    avail = ld->head;

    pthread_mutex_unlock(&ld->mutex);

    return avail;
}


static void *
feed_load_reader(void *data)
{
    int           more;
    size_t        head, n, i;
    feed_load_t  *ld;

    ld = data;
    more = 1;

    pthread_mutex_lock(&ld->mutex);

    for ( ;; ) {
        if (ld->head - ld->tail == FEED_LOAD_RING) {

            /* the ring is full: wait for a batch of free slots */

            ld->reader_waits = 1;

            while (ld->head - ld->tail > FEED_LOAD_RING - FEED_LOAD_BATCH
                   && !ld->stop)
            {
                pthread_cond_wait(&ld->cond, &ld->mutex);
            }

            ld->reader_waits = 0;
        }

        if (ld->stop) {
            break;
        }

        /* a few lines into the free slots, the lock released */

        head = ld->head;
        n = FEED_LOAD_RING - (head - ld->tail);

        if (n > FEED_LOAD_READS) {
            n = FEED_LOAD_READS;
        }

        pthread_mutex_unlock(&ld->mutex);

        for (i = 0; i < n; i++) {
            more = feed_load_read(ld, &ld->lines[(head + i) % FEED_LOAD_RING]);

            if (!more) {
                break;
            }
        }

        pthread_mutex_lock(&ld->mutex);

        ld->head = head + i;

        if (!more) {
            ld->eof = 1;
            pthread_cond_signal(&ld->cond);
            break;
        }

        if (ld->main_waits && ld->head >= ld->main_want) {
            pthread_cond_signal(&ld->cond);
        }
    }

    pthread_mutex_unlock(&ld->mutex);

    return NULL;
}


/*
 * The next line that is not blank, scanned: 0 at the end of the file.
 * Only the reader's fields of ld are touched, and the slot.
 */

static int
feed_load_read(feed_load_t *ld, feed_load_line_t *ll)
{
    ssize_t  n;

    do {
        n = getline(&ll->buf, &ll->cap, ld->file);

        if (n == -1) {
            if (ferror(ld->file)) {
                ld->error = errno ? errno : EIO;
            }

            return 0;
        }

        ld->lineno++;

        while (n > 0 && (ll->buf[n - 1] == '\n' || ll->buf[n - 1] == '\r')) {
            n--;
        }

    } while (n == 0);

    ll->len = (size_t) n;
    ll->lineno = ld->lineno;

    /* the jansson path lent the slot another buffer */

    ll->l.segs = ld->segs[ll - ld->lines];
    ll->l.segs_max = FEED_LOAD_SEGS;

    ll->scanned = ld->fast && ll->len <= FEED_LINE_MAX
                  && feed_line_scan(&ll->l, ll->buf, ll->len) == FEED_OK;

    if (ll->scanned) {
        feed_hints_make(&ll->l, &ll->hints);
    }

    return 1;
}


int
feed_catalog_add(feed_catalog_t *cat, const char *line, size_t len,
    unsigned long lineno, feed_err_t *err)
{
    int           scanned;
    feed_line_t   l;
    feed_hints_t  hints;

    err->line = lineno;

    if (feed_catalog_segs(cat, err) != FEED_OK) {
        return FEED_ERROR;
    }

    l.segs = cat->segs;
    l.segs_max = FEED_LINE_SEGS_MAX;

    scanned = cat->fast && len <= FEED_LINE_MAX
              && feed_line_scan(&l, line, len) == FEED_OK;

    if (scanned) {
        feed_hints_make(&l, &hints);
    }

    return feed_catalog_add_line(cat, &l, &hints, scanned, line, len, lineno,
                                 err);
}


static void
feed_hints_make(feed_line_t *l, feed_hints_t *hints)
{
    uint32_t                i;
    feed_line_rendition_t  *r;

    hints->id = feed_hash(l->id, l->id_len);
    hints->creator = feed_hash(l->creator, l->creator_len);

    for (i = 0; i < l->nrenditions; i++) {
        r = &l->renditions[i];

        hints->segs[i] = (i > 0 && r->segments == r[-1].segments)
                         ? hints->segs[i - 1]
                         : feed_seq_hash(l->segs + r->segments,
                                         r->nsegments);
    }
}


/* the segments of a line that jansson parses wait here */

static int
feed_catalog_segs(feed_catalog_t *cat, feed_err_t *err)
{
    if (cat->segs != NULL) {
        return FEED_OK;
    }

    cat->segs = malloc(FEED_LINE_SEGS_MAX * sizeof(uint32_t));
    if (cat->segs == NULL) {
        feed_err_set(err, "out of memory");
        return FEED_ERROR;
    }

    return FEED_OK;
}


/*
 * The scanner takes the common lines, scanned says whether it took this
 * one; whatever it declined, jansson parses, and so reports every error
 * as it always has.
 */

static int
feed_catalog_add_line(feed_catalog_t *cat, feed_line_t *l,
    feed_hints_t *hints, int scanned, const char *line, size_t len,
    unsigned long lineno, feed_err_t *err)
{
    err->line = lineno;

    if (len > FEED_LINE_MAX) {
        feed_err_set(err, "line longer than %d bytes", FEED_LINE_MAX);
        return FEED_ERROR;
    }

    if (scanned && feed_catalog_check(cat, l, hints) == FEED_OK) {
        return feed_catalog_commit(cat, l, hints, lineno, err);
    }

    if (feed_catalog_segs(cat, err) != FEED_OK) {
        return FEED_ERROR;
    }

    l->segs = cat->segs;
    l->segs_max = FEED_LINE_SEGS_MAX;

    return feed_catalog_add_json(cat, l, hints, line, len, lineno, err);
}


static int
feed_memo_match(feed_catalog_t *cat, feed_memo_t *m, feed_line_rendition_t *r)
{
    const uint32_t  *offs;

    offs = cat->words.offs.data;

    return m->valid
           && m->width == r->width
           && m->height == r->height
           && feed_str_eq(cat, offs[m->name], r->name, r->name_len)
           && feed_str_eq(cat, offs[m->codecs], r->codecs, r->codecs_len);
}


/* what the scanner left to check: the rules that involve other clips */

static int
feed_catalog_check(feed_catalog_t *cat, feed_line_t *l, feed_hints_t *hints)
{
    uint32_t  p;

    if (feed_catalog_find_hash(cat, l->id, l->id_len, hints->id)
        != FEED_NONE)
    {
        return FEED_DECLINED;
    }

    if (cat->dim != 0 && l->dim != cat->dim) {
        return FEED_DECLINED;
    }

    l->parent_idx = FEED_NONE;

    if (l->lineage == FEED_LINEAGE_NONE) {
        return FEED_OK;
    }

    p = feed_catalog_find(cat, l->parent, l->parent_len);

    if (p != FEED_NONE) {
        if (l->lineage == FEED_LINEAGE_STITCH
            && l->parent_segments
               > feed_segment_count(cat, feed_catalog_clip(cat, p)))
        {
            return FEED_DECLINED;
        }

        l->parent_idx = p;
    }

    return FEED_OK;
}


/*
 * A checked line joins the catalog.  Nothing here can fail for a reason
 * the line could fix, and a line that failed a check has left nothing
 * behind.
 */

static int
feed_catalog_commit(feed_catalog_t *cat, feed_line_t *l, feed_hints_t *hints,
    unsigned long lineno, feed_err_t *err)
{
    char                    res[32];
    size_t                  len;
    uint32_t                i, idx, hv, tags_hash, tags[FEED_TAGS_MAX];
    uint32_t                desc[FEED_RENDITIONS_MAX][5];
    uint32_t                desc_hash[FEED_RENDITIONS_MAX];
    uint32_t                list[2 * FEED_RENDITIONS_MAX];
    feed_clip_t             clip;
    feed_memo_t            *m;
    feed_pending_t          pend;
    feed_line_rendition_t  *r;

    memset(&clip, 0, sizeof(feed_clip_t));
    clip.parent = l->parent_idx;
    clip.created = l->created;
    clip.duration_ms = l->duration_ms;
    clip.offset_ms = l->offset_ms;
    clip.parent_segments = l->parent_segments;
    clip.lineage = l->lineage;
    clip.layout = l->layout;

    if (feed_strtab_intern_hash(cat, &cat->creators, l->creator,
                                l->creator_len, hints->creator, &clip.creator)
        != FEED_OK
        || feed_strtab_intern(cat, &cat->sounds, l->sound, l->sound_len,
                              &clip.sound)
           != FEED_OK)
    {
        goto nomem;
    }

    for (i = 0; i < l->ntags; i++) {
        if (feed_strtab_intern(cat, &cat->words, l->tags[i], l->tag_lens[i],
                               &tags[i])
            != FEED_OK)
        {
            goto nomem;
        }
    }

    /* desc: name, codecs, resolution, bandwidth, width << 16 | height */

    for (i = 0; i < l->nrenditions; i++) {
        r = &l->renditions[i];
        m = &cat->memo[i];

        /* a clip's ladder is usually the one before's: known strings */

        if (feed_memo_match(cat, m, r)) {
            desc[i][0] = m->name;
            desc[i][1] = m->codecs;
            desc[i][2] = m->res;

        } else {
            len = feed_resolution_format(res, r->width, r->height);

            if (feed_strtab_intern(cat, &cat->words, r->name, r->name_len,
                                   &desc[i][0])
                != FEED_OK
                || feed_strtab_intern(cat, &cat->words, r->codecs,
                                      r->codecs_len, &desc[i][1])
                   != FEED_OK
                || feed_strtab_intern(cat, &cat->words, res, len,
                                      &desc[i][2])
                   != FEED_OK)
            {
                goto nomem;
            }

            m->name = desc[i][0];
            m->codecs = desc[i][1];
            m->res = desc[i][2];
            m->width = r->width;
            m->height = r->height;
            m->valid = 1;
        }

        desc[i][3] = r->bandwidth;
        desc[i][4] = r->width << 16 | r->height;
    }

    /*
     * Sequences next (another pool, so this order of the two changes
     * nothing): their slots are likely cache misses, prefetched all at
     * once so that they overlap.
     */

    tags_hash = feed_seq_hash(tags, l->ntags);

    for (i = 0; i < l->nrenditions; i++) {
        desc_hash[i] = feed_seq_hash(desc[i], 5);
    }

    if (cat->seqs_cap) {
        feed_prefetch(&cat->seqs[tags_hash & (cat->seqs_cap - 1)]);

        for (i = 0; i < l->nrenditions; i++) {
            feed_prefetch(&cat->seqs[desc_hash[i] & (cat->seqs_cap - 1)]);
        }
    }

    if (feed_seq_intern_hash(cat, tags, l->ntags, tags_hash, &clip.tags)
        != FEED_OK)
    {
        goto nomem;
    }

    for (i = 0; i < l->nrenditions; i++) {
        r = &l->renditions[i];

        if (feed_seq_intern_hash(cat, desc[i], 5, desc_hash[i], &list[2 * i])
            != FEED_OK)
        {
            goto nomem;
        }

        /* renditions usually share their segments: intern them once */

        if (i > 0
            && r[-1].nsegments == r->nsegments
            && (r[-1].segments == r->segments
                || memcmp(l->segs + r[-1].segments, l->segs + r->segments,
                          r->nsegments * sizeof(uint32_t))
                   == 0))
        {
            list[2 * i + 1] = list[2 * i - 1];
            continue;
        }

        if (feed_seq_intern_hash(cat, l->segs + r->segments, r->nsegments,
                                 hints->segs[i], &list[2 * i + 1])
            != FEED_OK)
        {
            goto nomem;
        }
    }

    /*
     * The ladder's slot is a likely cache miss: it is prefetched, and
     * the strings are appended meanwhile (another pool, so the order of
     * the two does not matter).
     */

    hv = feed_seq_hash(list, 2 * l->nrenditions);
    feed_prefetch(&cat->seqs[hv & (cat->seqs_cap - 1)]);

    /* the parent may come later in the file: resolved in finish() */

    if (clip.lineage != FEED_LINEAGE_NONE && clip.parent == FEED_NONE) {
        if (feed_str_add(cat, l->parent, l->parent_len, &pend.off)
            != FEED_OK)
        {
            goto nomem;
        }

        pend.line = (uint32_t) lineno;
        pend.clip = FEED_NONE;

        if (feed_vec_push(&cat->pending, &pend, 1) != FEED_OK) {
            goto nomem;
        }
    }

    if (feed_str_add(cat, l->id, l->id_len, &clip.id) != FEED_OK
        || feed_str_add(cat, l->caption, l->caption_len, &clip.caption)
           != FEED_OK)
    {
        goto nomem;
    }

    if (feed_seq_intern_hash(cat, list, 2 * l->nrenditions, hv, &clip.media)
        != FEED_OK)
    {
        goto nomem;
    }

    clip.embedding = (uint32_t) cat->floats.len;

    if (feed_vec_push(&cat->floats, l->embedding, l->dim) != FEED_OK) {
        goto nomem;
    }

    cat->dim = l->dim;

    idx = (uint32_t) cat->clips.len;

    if (feed_vec_push(&cat->clips, &clip, 1) != FEED_OK) {
        goto nomem;
    }

    if (feed_ids_insert(cat, idx, hints->id) != FEED_OK) {
        cat->clips.len--;
        goto nomem;
    }

    if (clip.lineage != FEED_LINEAGE_NONE && clip.parent == FEED_NONE) {
        ((feed_pending_t *) cat->pending.data)[cat->pending.len - 1].clip =
                                                                          idx;
    }

    return FEED_OK;

nomem:

    feed_err_set(err, "out of memory");
    return FEED_ERROR;
}


/* the canonical spelling, without the leading zeros the line may have */

static size_t
feed_resolution_format(char *buf, uint32_t w, uint32_t h)
{
    char      digits[10];
    size_t    len, n;
    uint32_t  v, k;

    len = 0;

    for (k = 0; k < 2; k++) {
        if (k == 1) {
            buf[len++] = 'x';
        }

        v = k ? h : w;
        n = 0;

        do {
            digits[n++] = (char) ('0' + v % 10);
            v /= 10;
        } while (v);

        while (n) {
            buf[len++] = digits[--n];
        }
    }

    return len;
}


static int
feed_catalog_add_json(feed_catalog_t *cat, feed_line_t *l,
    feed_hints_t *hints, const char *line, size_t len, unsigned long lineno,
    feed_err_t *err)
{
    int            rc;
    json_t        *root;
    json_error_t   jerr;

    root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        feed_err_set(err, "bad JSON at column %d: %s", jerr.column,
                     jerr.text);
        return FEED_ERROR;
    }

    /* l points into root's strings until the line is committed */

    rc = feed_parse_line(cat, root, l, err);

    if (rc == FEED_OK) {
        feed_hints_make(l, hints);
        rc = feed_catalog_commit(cat, l, hints, lineno, err);
    }

    json_decref(root);
    return rc;
}


/*
 * The jansson path: the same rules as the scanner, checked in a fixed
 * order so that a line with several problems always gets the same
 * message.
 */

static int
feed_parse_line(feed_catalog_t *cat, json_t *root, feed_line_t *l,
    feed_err_t *err)
{
    json_t       *v, *e;
    size_t        i, s_len;
    double        num, duration;
    uint32_t      n;
    const char   *s;

    feed_line_reset(l);

    if (!json_is_object(root)) {
        feed_err_set(err, "a catalog line must be a JSON object");
        return FEED_ERROR;
    }

    /* id */

    if (feed_get_string(root, "id", &l->id, &l->id_len, 1, err) != FEED_OK) {
        return FEED_ERROR;
    }

    if (!feed_line_valid_name(l->id, l->id_len, FEED_ID_MAX, 0)) {
        feed_err_set(err, "bad \"id\": 1 to %d of A-Z a-z 0-9 _ -",
                     FEED_ID_MAX);
        return FEED_ERROR;
    }

    if (feed_catalog_find(cat, l->id, l->id_len) != FEED_NONE) {
        feed_err_set(err, "duplicate id \"%.*s\"", (int) l->id_len, l->id);
        return FEED_ERROR;
    }

    /* creator and sound */

    if (feed_get_string(root, "creator", &l->creator, &l->creator_len, 1,
                        err)
        != FEED_OK)
    {
        return FEED_ERROR;
    }

    if (!feed_line_valid_name(l->creator, l->creator_len, FEED_ID_MAX, 1)) {
        feed_err_set(err, "bad \"creator\": 1 to %d of A-Z a-z 0-9 _ - .",
                     FEED_ID_MAX);
        return FEED_ERROR;
    }

    if (feed_get_string(root, "sound", &l->sound, &l->sound_len, 1, err)
        != FEED_OK)
    {
        return FEED_ERROR;
    }

    if (!feed_line_valid_name(l->sound, l->sound_len, FEED_ID_MAX, 1)) {
        feed_err_set(err, "bad \"sound\": 1 to %d of A-Z a-z 0-9 _ - .",
                     FEED_ID_MAX);
        return FEED_ERROR;
    }

    /* created and duration */

    if (feed_get_number(root, "created", &num, 1, err) != FEED_OK) {
        return FEED_ERROR;
    }

    if (num < 1 || num > 4102444800.0) {
        feed_err_set(err, "absurd \"created\": %.0f is not a unix time "
                     "between 1970 and 2100", num);
        return FEED_ERROR;
    }

    l->created = (uint32_t) num;

    if (feed_get_number(root, "duration", &duration, 0, err) != FEED_OK) {
        return FEED_ERROR;
    }

    if (!(duration > 0 && duration <= 3600)) {
        feed_err_set(err, "absurd \"duration\": %g, must be > 0 and "
                     "<= 3600 seconds", duration);
        return FEED_ERROR;
    }

    l->duration_ms = feed_line_ms(duration);

    /* caption */

    if (feed_get_string(root, "caption", &l->caption, &l->caption_len, 1,
                        err)
        != FEED_OK)
    {
        return FEED_ERROR;
    }

    if (l->caption_len > FEED_CAPTION_MAX) {
        feed_err_set(err, "\"caption\" longer than %d bytes",
                     FEED_CAPTION_MAX);
        return FEED_ERROR;
    }

    /* tags */

    v = json_object_get(root, "tags");
    if (!json_is_array(v)) {
        feed_err_set(err, v ? "\"tags\" must be an array of strings"
                            : "missing field \"tags\"");
        return FEED_ERROR;
    }

    n = (uint32_t) json_array_size(v);
    if (n > FEED_TAGS_MAX) {
        feed_err_set(err, "more than %d \"tags\"", FEED_TAGS_MAX);
        return FEED_ERROR;
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
            return FEED_ERROR;
        }

        l->tags[i] = s;
        l->tag_lens[i] = s_len;
    }

    l->ntags = n;

    /* embedding */

    v = json_object_get(root, "embedding");
    if (!json_is_array(v)) {
        feed_err_set(err, v ? "\"embedding\" must be an array of numbers"
                            : "missing field \"embedding\"");
        return FEED_ERROR;
    }

    n = (uint32_t) json_array_size(v);
    if (n == 0 || n > FEED_EMBEDDING_MAX) {
        feed_err_set(err, "\"embedding\" must have 1 to %d numbers",
                     FEED_EMBEDDING_MAX);
        return FEED_ERROR;
    }

    if (cat->dim != 0 && n != cat->dim) {
        feed_err_set(err, "\"embedding\" has %u numbers, the catalog's "
                     "clips have %u", n, cat->dim);
        return FEED_ERROR;
    }

    for (i = 0; i < n; i++) {
        e = json_array_get(v, i);
        if (!json_is_number(e)) {
            feed_err_set(err, "\"embedding\" must be an array of numbers");
            return FEED_ERROR;
        }

        num = json_number_value(e);
        if (!isfinite(num) || fabs(num) > 1e6) {
            feed_err_set(err, "absurd \"embedding\" value %g", num);
            return FEED_ERROR;
        }

        l->embedding[i] = (float) num;
    }

    l->dim = n;

    /* renditions */

    if (feed_parse_renditions(json_object_get(root, "renditions"), duration,
                              l, err)
        != FEED_OK)
    {
        return FEED_ERROR;
    }

    /* lineage */

    v = json_object_get(root, "lineage");
    if (v != NULL && !json_is_null(v)) {
        if (feed_parse_lineage(cat, v, l, err) != FEED_OK) {
            return FEED_ERROR;
        }
    }

    return FEED_OK;
}


int
feed_catalog_finish(feed_catalog_t *cat, feed_err_t *err)
{
    size_t           i;
    uint8_t         *mark;
    uint32_t         p, nseg;
    const char      *parent;
    feed_clip_t     *clips, *c;
    feed_pending_t  *pend;

    free(cat->segs);
    cat->segs = NULL;

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

    /*
     * A forward reference can close a loop.  Each chain is followed from
     * a clip that had one until it ends, meets a clip of an earlier chain
     * (which ended: FEED_MARK_DONE), or meets itself (FEED_MARK_WALK): a
     * loop.  A clip is walked at most twice in all.
     */

    if (cat->pending.len) {
        mark = calloc(cat->clips.len, 1);
        if (mark == NULL) {
            err->line = 0;
            feed_err_set(err, "out of memory");
            return FEED_ERROR;
        }

        for (i = 0; i < cat->pending.len; i++) {
            p = pend[i].clip;

            while (p != FEED_NONE && mark[p] == FEED_MARK_NONE) {
                mark[p] = FEED_MARK_WALK;
                p = clips[p].parent;
            }

            if (p != FEED_NONE && mark[p] == FEED_MARK_WALK) {
                free(mark);
                err->line = pend[i].line;
                feed_err_set(err, "lineage loop through \"%s\"",
                             (const char *) cat->strings.data
                             + clips[pend[i].clip].id);
                return FEED_ERROR;
            }

            for (p = pend[i].clip;
                 p != FEED_NONE && mark[p] == FEED_MARK_WALK;
                 p = clips[p].parent)
            {
                mark[p] = FEED_MARK_DONE;
            }
        }

        free(mark);
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


/*
 * For clips appended after the load: lineage parents that are still
 * unknown (a forward reference never resolved) are dropped, so that
 * feed_catalog_finish() can succeed; those clips keep no lineage.
 */

void
feed_catalog_forget_pending(feed_catalog_t *cat)
{
    size_t           i;
    feed_clip_t     *clips;
    feed_pending_t  *pend;

    clips = cat->clips.data;
    pend = cat->pending.data;

    for (i = 0; i < cat->pending.len; i++) {
        if (pend[i].clip != FEED_NONE) {
            clips[pend[i].clip].lineage = FEED_LINEAGE_NONE;
            clips[pend[i].clip].parent = FEED_NONE;
            clips[pend[i].clip].parent_segments = 0;
        }
    }

    cat->pending.len = 0;
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
    return feed_catalog_find_hash(cat, id, len, feed_hash(id, len));
}


static uint32_t
feed_catalog_find_hash(const feed_catalog_t *cat, const char *id, size_t len,
    uint32_t hv)
{
    uint32_t            h, e, mask, slot;
    const feed_clip_t  *clips;

    if (cat->ids_cap == 0) {
        return FEED_NONE;
    }

    clips = cat->clips.data;
    mask = cat->ids_cap - 1;

    for (h = hv & mask; (e = cat->ids[h]); h = (h + 1) & mask) {
        if (FEED_TAG(e ^ hv, mask) != 0) {
            continue;
        }

        slot = (e & mask) - 1;

        if (feed_str_eq(cat, clips[slot].id, id, len)) {
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


/*
 * The data a manifest reads of n clips, asked for ahead, a level at a
 * time: the clips, then what they point at (id, caption, tag and
 * rendition lists), then the names those hold.  Each level waits for
 * the one before, but the clips' misses within a level overlap, where
 * writing the items one by one would take them one after another.
 */

void
feed_catalog_prefetch(const feed_catalog_t *cat, const uint32_t *idx,
    uint32_t n)
{
#if defined(__GNUC__)
    uint32_t            i, k, nt;
    const char         *str;
    const uint32_t     *u, *seq, *media, *desc, *words, *creators, *sounds;
    const feed_clip_t  *clip;

    str = cat->strings.data;
    u = cat->u32.data;
    words = cat->words.offs.data;
    creators = cat->creators.offs.data;
    sounds = cat->sounds.offs.data;

    for (i = 0; i < n; i++) {
        if (idx[i] < cat->clips.len) {
            __builtin_prefetch((const feed_clip_t *) cat->clips.data
                               + idx[i]);
        }
    }

    for (i = 0; i < n; i++) {
        if (idx[i] >= cat->clips.len) {
            continue;
        }

        clip = (const feed_clip_t *) cat->clips.data + idx[i];

        __builtin_prefetch(str + clip->id);
        __builtin_prefetch(str + clip->caption);

        if (clip->caption + 64 < cat->strings.len) {
            __builtin_prefetch(str + clip->caption + 64);
        }

        __builtin_prefetch(u + clip->tags);
        __builtin_prefetch(u + clip->media);
        __builtin_prefetch(creators + clip->creator);
        __builtin_prefetch(sounds + clip->sound);
    }

    for (i = 0; i < n; i++) {
        if (idx[i] >= cat->clips.len) {
            continue;
        }

        clip = (const feed_clip_t *) cat->clips.data + idx[i];
        seq = u + clip->tags;
        media = u + clip->media;
        nt = seq[0];

        for (k = 0; k < nt && k < 4; k++) {
            __builtin_prefetch(words + seq[1 + k]);
        }

        if (media[0] >= 2) {
            __builtin_prefetch(u + media[1]);
            __builtin_prefetch(u + media[2]);
        }
    }

    for (i = 0; i < n; i++) {
        if (idx[i] >= cat->clips.len) {
            continue;
        }

        clip = (const feed_clip_t *) cat->clips.data + idx[i];
        media = u + clip->media;

        if (media[0] >= 2) {
            desc = u + media[1];
            __builtin_prefetch(words + desc[1]);
        }

        /* the names: many creators, each met seldom */

        __builtin_prefetch(str + creators[clip->creator]);
        __builtin_prefetch(str + sounds[clip->sound]);
    }
#else
    (void) cat;
    (void) idx;
    (void) n;
#endif
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


const uint32_t *
feed_clip_tag_words(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    return (const uint32_t *) cat->u32.data + clip->tags;
}


const char *
feed_catalog_word(const feed_catalog_t *cat, uint32_t word)
{
    const uint32_t  *offs = cat->words.offs.data;

    return (const char *) cat->strings.data + offs[word];
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


uint32_t
feed_clip_play_ms(const feed_catalog_t *cat, const feed_clip_t *clip)
{
    uint32_t          i, ms;
    feed_rendition_t  r;

    ms = clip->duration_ms;

    if (cat == NULL || clip->lineage != FEED_LINEAGE_STITCH
        || clip->parent == FEED_NONE)
    {
        return ms;
    }

    /* every rendition is cut at the same instants: the first says it */

    feed_clip_rendition(cat, feed_catalog_clip(cat, clip->parent), 0, &r);

    for (i = 0; i < clip->parent_segments && i < r.nsegments; i++) {
        ms += (r.segments_us[i] + 500) / 1000;
    }

    return ms;
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
feed_parse_renditions(json_t *arr, double duration, feed_line_t *l,
    feed_err_t *err)
{
    json_t                 *r, *v, *segs;
    size_t                  i, j, k, len, nseg;
    double                  num, sum;
    uint32_t                n, w, h, used, *us;
    const char             *s;
    feed_line_rendition_t  *lr;

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

    used = 0;

    for (i = 0; i < n; i++) {
        lr = &l->renditions[i];

        r = json_array_get(arr, i);
        if (!json_is_object(r)) {
            feed_err_set(err, "rendition #%zu must be an object", i + 1);
            return FEED_ERROR;
        }

        if (feed_get_string(r, "name", &s, &len, 1, err) != FEED_OK) {
            goto field;
        }

        if (!feed_line_valid_name(s, len, FEED_RENDITION_MAX, 0)) {
            feed_err_set(err, "rendition #%zu: bad \"name\": 1 to %d of "
                         "A-Z a-z 0-9 _ -", i + 1, FEED_RENDITION_MAX);
            return FEED_ERROR;
        }

        for (k = 0; k < i; k++) {
            if (l->renditions[k].name_len == len
                && memcmp(l->renditions[k].name, s, len) == 0)
            {
                feed_err_set(err, "duplicate rendition \"%.*s\"",
                             (int) len, s);
                return FEED_ERROR;
            }
        }

        lr->name = s;
        lr->name_len = len;

        if (feed_get_string(r, "codecs", &s, &len, 1, err) != FEED_OK) {
            goto field;
        }

        if (!feed_line_valid_codecs(s, len)) {
            feed_err_set(err, "rendition \"%.*s\": bad \"codecs\"",
                         (int) lr->name_len, lr->name);
            return FEED_ERROR;
        }

        lr->codecs = s;
        lr->codecs_len = len;

        if (feed_get_string(r, "resolution", &s, &len, 1, err) != FEED_OK) {
            goto field;
        }

        if (!feed_line_resolution(s, len, &w, &h)) {
            feed_err_set(err, "rendition \"%.*s\": bad \"resolution\", "
                         "want WIDTHxHEIGHT between 16 and 8192",
                         (int) lr->name_len, lr->name);
            return FEED_ERROR;
        }

        lr->width = w;
        lr->height = h;

        if (feed_get_number(r, "bandwidth", &num, 1, err) != FEED_OK) {
            goto field;
        }

        if (num < 1000 || num > 1e9) {
            feed_err_set(err, "rendition \"%.*s\": absurd \"bandwidth\" "
                         "%.0f, want 1000 to 1000000000 bits per second",
                         (int) lr->name_len, lr->name, num);
            return FEED_ERROR;
        }

        lr->bandwidth = (uint32_t) num;

        segs = json_object_get(r, "segments");
        if (!json_is_array(segs)) {
            feed_err_set(err, "rendition \"%.*s\": %s", (int) lr->name_len,
                         lr->name, segs ? "\"segments\" must be an array"
                                        : "missing field \"segments\"");
            return FEED_ERROR;
        }

        nseg = json_array_size(segs);
        if (nseg == 0 || nseg > FEED_SEGMENTS_MAX) {
            feed_err_set(err, "rendition \"%.*s\": \"segments\" must have "
                         "1 to %d durations", (int) lr->name_len, lr->name,
                         FEED_SEGMENTS_MAX);
            return FEED_ERROR;
        }

        us = l->segs + used;
        sum = 0;

        for (j = 0; j < nseg; j++) {
            v = json_array_get(segs, j);
            num = json_is_number(v) ? json_number_value(v) : -1;

            if (!(num > 0 && num <= 60)) {
                feed_err_set(err, "rendition \"%.*s\": absurd segment #%zu "
                             "duration, want > 0 and <= 60 seconds",
                             (int) lr->name_len, lr->name, j);
                return FEED_ERROR;
            }

            us[j] = feed_line_segment_us(num);
            sum += num;
        }

        if (!feed_line_sum_ok(sum, duration)) {
            feed_err_set(err, "rendition \"%.*s\": segments add up to "
                         "%.3f s but \"duration\" is %.3f s",
                         (int) lr->name_len, lr->name, sum, duration);
            return FEED_ERROR;
        }

        lr->segments = used;
        lr->nsegments = (uint32_t) nseg;
        used += (uint32_t) nseg;
    }

    l->nrenditions = n;

    return FEED_OK;

field:

    /* feed_get_*() wrote the reason; say which rendition it was about */

    {
        char  msg[FEED_ERR_LEN];

        memcpy(msg, err->msg, sizeof(msg));
        feed_err_set(err, "rendition #%zu: %s", i + 1, msg);
    }

    return FEED_ERROR;
}


static int
feed_parse_lineage(feed_catalog_t *cat, json_t *obj, feed_line_t *l,
    feed_err_t *err)
{
    json_t       *v;
    size_t        len;
    double        num;
    uint32_t      p, nseg;
    const char   *kind, *parent, *s;

    if (!json_is_object(obj)) {
        feed_err_set(err, "\"lineage\" must be an object");
        return FEED_ERROR;
    }

    if (feed_get_string(obj, "kind", &kind, &len, 1, err) != FEED_OK) {
        feed_err_set(err, "\"lineage\" needs \"kind\": duet or stitch");
        return FEED_ERROR;
    }

    if (len == 4 && memcmp(kind, "duet", 4) == 0) {
        l->lineage = FEED_LINEAGE_DUET;

    } else if (len == 6 && memcmp(kind, "stitch", 6) == 0) {
        l->lineage = FEED_LINEAGE_STITCH;

    } else {
        feed_err_set(err, "unknown lineage \"kind\" \"%.*s\": duet or "
                     "stitch", (int) (len > 32 ? 32 : len), kind);
        return FEED_ERROR;
    }

    if (feed_get_string(obj, "parent", &parent, &len, 1, err) != FEED_OK) {
        feed_err_set(err, "\"lineage\" needs \"parent\"");
        return FEED_ERROR;
    }

    if (!feed_line_valid_name(parent, len, FEED_ID_MAX, 0)) {
        feed_err_set(err, "bad lineage \"parent\"");
        return FEED_ERROR;
    }

    if (len == l->id_len && memcmp(parent, l->id, len) == 0) {
        feed_err_set(err, "a clip cannot be its own lineage parent");
        return FEED_ERROR;
    }

    l->parent = parent;
    l->parent_len = len;

    if (l->lineage == FEED_LINEAGE_STITCH) {
        v = json_object_get(obj, "parent_segments");
        num = json_is_integer(v) ? (double) json_integer_value(v) : -1;

        if (num < 1 || num > FEED_SEGMENTS_MAX) {
            feed_err_set(err, "a stitch needs \"parent_segments\", an "
                         "integer from 1 to the parent's segment count");
            return FEED_ERROR;
        }

        l->parent_segments = (uint16_t) num;

    } else {
        v = json_object_get(obj, "offset");
        if (v != NULL) {
            num = json_is_number(v) ? json_number_value(v) : -1;

            if (!(num >= 0 && num <= 3600)) {
                feed_err_set(err, "absurd duet \"offset\", want 0 to 3600 "
                             "seconds");
                return FEED_ERROR;
            }

            l->offset_ms = feed_line_ms(num);
        }

        v = json_object_get(obj, "layout");
        if (v != NULL) {
            s = json_string_value(v);

            if (s != NULL && strcmp(s, "side") == 0) {
                l->layout = FEED_LAYOUT_SIDE;

            } else if (s != NULL && strcmp(s, "top") == 0) {
                l->layout = FEED_LAYOUT_TOP;

            } else {
                feed_err_set(err, "duet \"layout\" must be side or top");
                return FEED_ERROR;
            }
        }
    }

    /* a parent that comes later in the file is looked up by finish() */

    p = feed_catalog_find(cat, parent, len);

    if (p != FEED_NONE && l->lineage == FEED_LINEAGE_STITCH) {
        nseg = feed_segment_count(cat, feed_catalog_clip(cat, p));

        if (l->parent_segments > nseg) {
            feed_err_set(err, "\"parent_segments\" %u is more than the "
                         "parent's %u segments", l->parent_segments, nseg);
            return FEED_ERROR;
        }
    }

    l->parent_idx = p;

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


static uint32_t
feed_hash(const void *data, size_t len)
{
    size_t          i, n;
    uint64_t        h, k;
    const uint8_t  *p = data;

    /*
     * Eight bytes at a time, then splitmix64's finalizer so that the low
     * bits are usable as a slot.
     */

    h = 0x9e3779b97f4a7c15ULL ^ len;

    for (n = len; n >= 8; n -= 8, p += 8) {
        memcpy(&k, p, 8);
        h = (h ^ k) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
    }

    k = 0;

    for (i = 0; i < n; i++) {
        k |= (uint64_t) p[i] << (8 * i);
    }

    h = (h ^ k) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;

    return (uint32_t) h;
}


/*
 * Whether the pool string at off is s: memcmp() may read past the
 * string's end, but not past the pool's, and s has no NUL.
 */

static int
feed_str_eq(const feed_catalog_t *cat, uint32_t off, const char *s,
    size_t len)
{
    const char  *str;

    str = (const char *) cat->strings.data + off;

    return cat->strings.len - off > len
           && memcmp(str, s, len) == 0
           && str[len] == '\0';
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


/*
 * A string into the pool: two bytes before it (native order) hold its
 * length and FEED_STR_ESCAPE if JSON must escape some of it, a NUL after
 * it; the length is FEED_STR_LONG for one too long to say.
 */

static int
feed_str_add(feed_catalog_t *cat, const char *s, size_t len, uint32_t *off)
{
    char      *p;
    size_t     i;
    uint16_t   hdr;

    if (len == 0) {
        *off = 0;
        return FEED_OK;
    }

    if (cat->strings.len + len + 3 > 0xffffffffu) {
        return FEED_ERROR;
    }

    if (feed_vec_reserve(&cat->strings, len + 3) != FEED_OK) {
        return FEED_ERROR;
    }

    hdr = (uint16_t) (len < FEED_STR_LONG ? len : FEED_STR_LONG);

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == '"' || s[i] == '\\'
            || s[i] == 0x7f)
        {
            hdr |= FEED_STR_ESCAPE;
            break;
        }
    }

    p = (char *) cat->strings.data + cat->strings.len;

    memcpy(p, &hdr, sizeof(uint16_t));
    memcpy(p + 2, s, len);
    p[2 + len] = '\0';

    *off = (uint32_t) cat->strings.len + 2;
    cat->strings.len += len + 3;

    return FEED_OK;
}


size_t
feed_catalog_str_len(const feed_catalog_t *cat, const char *s, int *escape)
{
    uint16_t  hdr;

    if (s == (const char *) cat->strings.data) {
        *escape = 0;
        return 0;                       /* the empty string */
    }

    memcpy(&hdr, s - 2, sizeof(uint16_t));
    *escape = (hdr & FEED_STR_ESCAPE) != 0;
    hdr &= ~FEED_STR_ESCAPE;

    return hdr < FEED_STR_LONG ? hdr : strlen(s);
}


static int
feed_strtab_grow(feed_catalog_t *cat, feed_strtab_t *t)
{
    uint32_t   i, h, hv, cap, mask, *hash;
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
        hv = feed_hash(s, strlen(s));

        for (h = hv & mask; hash[h]; h = (h + 1) & mask) {
            /* probe */
        }

        hash[h] = FEED_TAG(hv, mask) | (i + 1);
    }

    free(t->hash);
    t->hash = hash;
    t->hcap = cap;

    return FEED_OK;
}


/*
 * The slot of s in t: where it is, or the empty one where it would go;
 * *idx is its index, or FEED_NONE.
 */

static uint32_t
feed_strtab_probe(feed_catalog_t *cat, feed_strtab_t *t, const char *s,
    size_t len, uint32_t hv, uint32_t *idx)
{
    uint32_t   h, e, mask, *offs;

    mask = t->hcap - 1;
    offs = t->offs.data;

    for (h = hv & mask; (e = t->hash[h]); h = (h + 1) & mask) {
        if (FEED_TAG(e ^ hv, mask) == 0
            && feed_str_eq(cat, offs[(e & mask) - 1], s, len))
        {
            *idx = (e & mask) - 1;
            return h;
        }
    }

    *idx = FEED_NONE;
    return h;
}


static int
feed_strtab_intern(feed_catalog_t *cat, feed_strtab_t *t, const char *s,
    size_t len, uint32_t *idx)
{
    return feed_strtab_intern_hash(cat, t, s, len, feed_hash(s, len), idx);
}


static int
feed_strtab_intern_hash(feed_catalog_t *cat, feed_strtab_t *t,
    const char *s, size_t len, uint32_t hv, uint32_t *idx)
{
    uint32_t  h, off;

    if ((t->offs.len + 1) * 2 > t->hcap) {
        if (feed_strtab_grow(cat, t) != FEED_OK) {
            return FEED_ERROR;
        }
    }

    h = feed_strtab_probe(cat, t, s, len, hv, idx);

    if (*idx != FEED_NONE) {
        return FEED_OK;
    }

    if (feed_str_add(cat, s, len, &off) != FEED_OK) {
        return FEED_ERROR;
    }

    if (feed_vec_push(&t->offs, &off, 1) != FEED_OK) {
        return FEED_ERROR;
    }

    *idx = (uint32_t) t->offs.len - 1;
    t->hash[h] = FEED_TAG(hv, t->hcap - 1) | (*idx + 1);

    return FEED_OK;
}


/*
 * Sequences are hashed a word at a time (murmur3's block step and
 * finalizer): segment lists are a few hundred bytes, and every clip
 * interns several sequences.  The length comes first, as it is stored.
 */

static uint32_t
feed_seq_hash(const uint32_t *seq, uint32_t n)
{
    uint32_t  i, h, k;

    h = 0x9747b28cu;

    for (i = 0; i <= n; i++) {
        k = i ? seq[i - 1] : n;
        k *= 0xcc9e2d51u;
        k = k << 15 | k >> 17;
        k *= 0x1b873593u;

        h ^= k;
        h = h << 13 | h >> 19;
        h = h * 5 + 0xe6546b64u;
    }

    h ^= (n + 1) * 4;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;

    return h;
}


/*
 * Entries into a table being rebuilt, none of them there yet: their
 * slots are prefetched a batch at a time, so that the cache misses of a
 * large table overlap instead of following one another.
 */

#define FEED_REHASH_BATCH  16

static void
feed_rehash(uint32_t *hash, uint32_t mask, const uint32_t *hv,
    const uint32_t *e, uint32_t n)
{
    uint32_t  i, h;

    for (i = 0; i < n; i++) {
        feed_prefetch(&hash[hv[i] & mask]);
    }

    for (i = 0; i < n; i++) {
        for (h = hv[i] & mask; hash[h]; h = (h + 1) & mask) {
            /* probe */
        }

        hash[h] = e[i];
    }
}


/*
 * A new table, twice as large if grow, else as large, with room in the
 * low bits for the offsets of a pool twice as large as now: the table
 * usually grows again before the pool gets there.
 */

static int
feed_seqs_grow(feed_catalog_t *cat, int grow)
{
    size_t     off;
    uint32_t   k, cap, mask, low, n, *hash, *u;
    uint32_t   hv[FEED_REHASH_BATCH], e[FEED_REHASH_BATCH];

    cap = cat->seqs_cap == 0 ? 256
          : grow ? cat->seqs_cap * 2 : cat->seqs_cap;
    mask = cap - 1;

    for (low = 0xff;
         low < 0xffffffffu && low < (cat->u32.len + 1) * 2;
         low = low << 1 | 1)
    {
        /* void */
    }

    hash = calloc(cap, sizeof(uint32_t));
    if (hash == NULL) {
        return FEED_ERROR;
    }

    /*
     * The pool holds the interned sequences back to back and nothing
     * else: reading it in order is much faster than following the old
     * table around it.
     */

    u = cat->u32.data;
    k = 0;

    for (off = 0; off < cat->u32.len; off += n + 1) {
        n = u[off];
        hv[k] = feed_seq_hash(u + off + 1, n);
        e[k] = FEED_TAG(hv[k], low) | (uint32_t) (off + 1);

        if (++k == FEED_REHASH_BATCH) {
            feed_rehash(hash, mask, hv, e, k);
            k = 0;
        }
    }

    feed_rehash(hash, mask, hv, e, k);

    free(cat->seqs);
    cat->seqs = hash;
    cat->seqs_cap = cap;
    cat->seqs_low = low;

    return FEED_OK;
}


static int
feed_seq_intern_hash(feed_catalog_t *cat, const uint32_t *seq, uint32_t n,
    uint32_t hv, uint32_t *off)
{
    uint32_t   h, e, mask, low, *u, *old;
    size_t     need;

    need = n + 1;

    if (cat->u32.len + need >= 0xffffffffu) {
        return FEED_ERROR;
    }

    /* a new sequence's offset + 1 must fit below the tag */

    if ((cat->nseqs + 1) * 2 > cat->seqs_cap
        || cat->u32.len + 1 > cat->seqs_low)
    {
        if (feed_seqs_grow(cat, (cat->nseqs + 1) * 2 > cat->seqs_cap)
            != FEED_OK)
        {
            return FEED_ERROR;
        }
    }

    mask = cat->seqs_cap - 1;
    low = cat->seqs_low;
    u = cat->u32.data;

    for (h = hv & mask; (e = cat->seqs[h]); h = (h + 1) & mask) {
        if (FEED_TAG(e ^ hv, low) != 0) {
            continue;
        }

        old = u + (e & low) - 1;

        if (old[0] == n
            && memcmp(old + 1, seq, n * sizeof(uint32_t)) == 0)
        {
            *off = (e & low) - 1;
            return FEED_OK;
        }
    }

    if (feed_vec_reserve(&cat->u32, need) != FEED_OK) {
        return FEED_ERROR;
    }

    u = (uint32_t *) cat->u32.data + cat->u32.len;
    u[0] = n;
    memcpy(u + 1, seq, n * sizeof(uint32_t));

    *off = (uint32_t) cat->u32.len;
    cat->u32.len += need;
    cat->seqs[h] = FEED_TAG(hv, low) | (*off + 1);
    cat->nseqs++;

    return FEED_OK;
}


static int
feed_ids_grow(feed_catalog_t *cat, uint32_t nclips)
{
    uint32_t      i, k, cap, mask, *ids;
    uint32_t      hv[FEED_REHASH_BATCH], e[FEED_REHASH_BATCH];
    const char   *s;
    feed_clip_t  *clips;

    cap = cat->ids_cap ? cat->ids_cap * 2 : 1024;
    mask = cap - 1;

    ids = calloc(cap, sizeof(uint32_t));
    if (ids == NULL) {
        return FEED_ERROR;
    }

    /* clips in file order read their ids from the pool nearly in order */

    clips = cat->clips.data;
    k = 0;

    for (i = 0; i < nclips; i++) {
        s = (const char *) cat->strings.data + clips[i].id;
        hv[k] = feed_hash(s, strlen(s));
        e[k] = FEED_TAG(hv[k], mask) | (i + 1);

        if (++k == FEED_REHASH_BATCH) {
            feed_rehash(ids, mask, hv, e, k);
            k = 0;
        }
    }

    feed_rehash(ids, mask, hv, e, k);

    free(cat->ids);
    cat->ids = ids;
    cat->ids_cap = cap;

    return FEED_OK;
}


static int
feed_ids_insert(feed_catalog_t *cat, uint32_t idx, uint32_t hv)
{
    uint32_t  h, mask;

    /* load factor at most 1/2 keeps probe sequences short */

    if ((size_t) (idx + 1) * 2 > cat->ids_cap) {
        if (feed_ids_grow(cat, idx) != FEED_OK) {
            return FEED_ERROR;
        }
    }

    mask = cat->ids_cap - 1;

    for (h = hv & mask; cat->ids[h]; h = (h + 1) & mask) {
        /* probe */
    }

    cat->ids[h] = FEED_TAG(hv, mask) | (idx + 1);

    return FEED_OK;
}
