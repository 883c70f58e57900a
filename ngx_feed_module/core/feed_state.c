
/*
 * Copyright (C) the feed module developers
 */


/*
 * Viewer, clip and sound state in one region.  Three tables share the
 * same code: an index of 8-byte slots (a record number and 32 bits of
 * the key's hash, from which the home slot follows), twice as many
 * slots as records, probed linearly, and an array of fixed-size records
 * whose key comes first (a viewer's 16-byte id, a clip's or sound's
 * 64-bit hash).  The index hash is keyed with a seed chosen at init, so
 * that nobody can choose viewer ids that pile up in one cluster.
 *
 * The viewers' LRU list runs from the most recently seen (head) to the
 * least (tail) through prev/next record numbers kept in the records;
 * every link is checked against its neighbour before it is followed.
 *
 * The seen set is two generations of a Bloom filter of
 * FEED_STATE_SEEN_BITS bits and FEED_STATE_SEEN_K bits per clip.  Adds
 * go to the current generation; once it holds FEED_STATE_SEEN_GEN clips
 * the other one is cleared and becomes current.  A clip is forgotten only
 * when its generation is cleared, which takes FEED_STATE_SEEN_GEN newer
 * clips at least: no false negatives before that.
 */

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "feed_state.h"


#define FEED_STATE_MAGIC        0x4653544154453031ULL   /* "FSTATE01" */
#define FEED_STATE_VERSION      1

#define FEED_STATE_ALIGN        64
#define FEED_STATE_MAX_RECORDS  ((uint64_t) 1 << 30)

#define FEED_STATE_VIEWERS      0
#define FEED_STATE_CLIPS        1
#define FEED_STATE_SOUNDS       2
#define FEED_STATE_TABLES       3

/*
 * Stores to the region must not be moved across the busy mark: a process
 * may be killed between any two of them.
 */

#if defined(__GNUC__)
#define feed_state_barrier()  __asm__ __volatile__ ("" ::: "memory")
#else
#define feed_state_barrier()
#endif

#define feed_state_align(n)                                                   \
    (((n) + FEED_STATE_ALIGN - 1) & ~((uint64_t) FEED_STATE_ALIGN - 1))


typedef struct {
    uint64_t            cap;         /* records */
    uint64_t            nslots;      /* 2 * cap */
    uint64_t            index;       /* offsets from the region start */
    uint64_t            recs;
    uint64_t            rec_size;
    uint64_t            key_len;
} feed_state_table_t;


typedef struct {
    uint64_t            magic;
    uint64_t            version;

    /* geometry: fixed by init, covered by "sum" */

    uint64_t            size;
    uint64_t            seed;
    feed_state_table_t  tab[FEED_STATE_TABLES];
    uint64_t            sum;

    /* state */

    uint64_t            busy;        /* a bit per table being changed */
    uint64_t            used[FEED_STATE_TABLES];
    uint64_t            head;        /* the viewers' LRU list */
    uint64_t            tail;
    uint64_t            evictions;
    uint64_t            refused[FEED_STATE_TABLES];
    uint64_t            resets;
} feed_state_hdr_t;


/* from "size" to "sum", both included */

#define FEED_STATE_GEOMETRY_WORDS                                             \
    ((offsetof(feed_state_hdr_t, sum) - offsetof(feed_state_hdr_t, size))    \
     / sizeof(uint64_t) + 1)


typedef struct {
    uint32_t            rec;         /* FEED_NONE: empty */
    uint32_t            tag;         /* 32 bits of the keyed hash */
} feed_state_slot_t;


/* the record sizes the header promises */

typedef char feed_state_viewer_size_is_1880[
    sizeof(feed_viewer_t) == 1880 ? 1 : -1];
typedef char feed_state_clip_size_is_64[
    sizeof(feed_clip_stats_t) == 64 ? 1 : -1];
typedef char feed_state_sound_size_is_24[
    sizeof(feed_sound_stats_t) == 24 ? 1 : -1];


static uint64_t feed_state_table_bytes(uint64_t cap, uint64_t rec_size);
static int feed_state_layout(feed_state_hdr_t *h, size_t size,
    const feed_state_params_t *p);
static uint64_t feed_state_sum(feed_state_hdr_t *h);
static feed_state_hdr_t *feed_state_hdr(void *region);
static int feed_state_sane(feed_state_hdr_t *h, unsigned t);
static feed_state_hdr_t *feed_state_enter(void *region, unsigned t);
static void feed_state_leave(feed_state_hdr_t *h);
static void feed_state_reset(feed_state_hdr_t *h, unsigned t);
static feed_state_slot_t *feed_state_slots(feed_state_hdr_t *h, unsigned t);
static unsigned char *feed_state_rec(feed_state_hdr_t *h, unsigned t,
    uint64_t i);
static feed_viewer_t *feed_state_viewer(feed_state_hdr_t *h, uint64_t i);
static uint32_t feed_state_tag(feed_state_hdr_t *h, unsigned t,
    const void *key);
static int feed_state_find(feed_state_hdr_t *h, unsigned t, const void *key,
    uint32_t tag, uint64_t *slot);
static int feed_state_key_eq(const void *a, const void *b, uint64_t len);
static int feed_state_slot_of(feed_state_hdr_t *h, unsigned t, uint32_t tag,
    uint64_t rec, uint64_t *slot);
static int feed_state_insert(feed_state_hdr_t *h, unsigned t, uint32_t tag,
    uint64_t rec);
static void feed_state_remove(feed_state_hdr_t *h, unsigned t, uint64_t i);
static int feed_state_unlink(feed_state_hdr_t *h, uint64_t i);
static void feed_state_push(feed_state_hdr_t *h, uint64_t i);
static int feed_state_evict(feed_state_hdr_t *h, uint64_t *i);
static void *feed_state_keyed(feed_state_hdr_t *h, unsigned t, uint64_t hash,
    uint32_t tag, int create, int *created);
static void *feed_state_keyed_locked(void *region, unsigned t, uint64_t hash,
    int create, int *created);
static uint32_t feed_state_copy_locked(void *region, unsigned t,
    uint32_t *cursor, void *out, uint32_t n);
static int feed_state_check_table(feed_state_hdr_t *h, unsigned t);
static int feed_state_check_lru(feed_state_hdr_t *h);
static int feed_state_check_viewer(const feed_viewer_t *v);
static void feed_viewer_bits(uint64_t clip_hash,
    uint32_t bit[FEED_STATE_SEEN_K]);


size_t
feed_state_min_size(void)
{
    return 64 * 1024;
}


size_t
feed_state_viewer_size(void)
{
    return sizeof(feed_viewer_t) + 2 * sizeof(feed_state_slot_t);
}


uint64_t
feed_state_hash(const void *p, size_t len)
{
    return feed_hash64(p, len);
}


static uint64_t
feed_state_table_bytes(uint64_t cap, uint64_t rec_size)
{
    return feed_state_align(2 * cap * sizeof(feed_state_slot_t))
           + feed_state_align(cap * rec_size);
}


/* computes the geometry of a region; FEED_ERROR if it does not fit */

static int
feed_state_layout(feed_state_hdr_t *h, size_t size,
    const feed_state_params_t *p)
{
    unsigned             t;
    uint64_t             cap[FEED_STATE_TABLES], rec[FEED_STATE_TABLES];
    uint64_t             off, rest, fixed;
    feed_state_table_t  *tab;

    if (size < feed_state_min_size()) {
        return FEED_ERROR;
    }

    rec[FEED_STATE_VIEWERS] = sizeof(feed_viewer_t);
    rec[FEED_STATE_CLIPS] = sizeof(feed_clip_stats_t);
    rec[FEED_STATE_SOUNDS] = sizeof(feed_sound_stats_t);

    cap[FEED_STATE_CLIPS] = p->clips
        ? p->clips
        : size / 16 / (rec[FEED_STATE_CLIPS] + 2 * sizeof(feed_state_slot_t));

    cap[FEED_STATE_SOUNDS] = p->sounds
        ? p->sounds
        : size / 64 / (rec[FEED_STATE_SOUNDS]
                       + 2 * sizeof(feed_state_slot_t));

    for (t = FEED_STATE_CLIPS; t <= FEED_STATE_SOUNDS; t++) {
        if (cap[t] < 64 && (t == FEED_STATE_CLIPS ? !p->clips : !p->sounds)) {
            cap[t] = 64;
        }

        if (cap[t] > FEED_STATE_MAX_RECORDS) {
            return FEED_ERROR;
        }
    }

    fixed = feed_state_align(sizeof(feed_state_hdr_t))
            + feed_state_table_bytes(cap[FEED_STATE_CLIPS],
                                     rec[FEED_STATE_CLIPS])
            + feed_state_table_bytes(cap[FEED_STATE_SOUNDS],
                                     rec[FEED_STATE_SOUNDS]);

    if (fixed >= size) {
        return FEED_ERROR;
    }

    rest = size - fixed;

    if (p->viewers) {
        cap[FEED_STATE_VIEWERS] = p->viewers;

    } else {
        cap[FEED_STATE_VIEWERS] = rest / feed_state_viewer_size();

        while (cap[FEED_STATE_VIEWERS] > 0
               && feed_state_table_bytes(cap[FEED_STATE_VIEWERS],
                                         rec[FEED_STATE_VIEWERS]) > rest)
        {
            cap[FEED_STATE_VIEWERS]--;
        }

        if (cap[FEED_STATE_VIEWERS] < 16) {
            return FEED_ERROR;
        }
    }

    if (cap[FEED_STATE_VIEWERS] > FEED_STATE_MAX_RECORDS) {
        return FEED_ERROR;
    }

    h->size = size;
    off = feed_state_align(sizeof(feed_state_hdr_t));

    for (t = 0; t < FEED_STATE_TABLES; t++) {
        tab = &h->tab[t];

        tab->cap = cap[t];
        tab->nslots = 2 * cap[t];
        tab->rec_size = rec[t];
        tab->key_len = (t == FEED_STATE_VIEWERS) ? 16 : 8;
        tab->index = off;
        off += feed_state_align(tab->nslots * sizeof(feed_state_slot_t));
        tab->recs = off;
        off += feed_state_align(tab->cap * tab->rec_size);
    }

    if (off > size) {
        return FEED_ERROR;
    }

    return FEED_OK;
}


static uint64_t
feed_state_sum(feed_state_hdr_t *h)
{
    uint64_t   s, *w, *end;

    s = 0x5bd1e995;

    for (w = &h->size, end = &h->sum; w < end; w++) {
        s = feed_mix64(s ^ *w);
    }

    return s;
}


int
feed_state_init(void *region, size_t size, const feed_state_params_t *p)
{
    unsigned             t;
    uint64_t             seed;
    struct timespec      ts;
    feed_state_hdr_t    *h;
    feed_state_params_t  dflt;

    if (p == NULL) {
        memset(&dflt, 0, sizeof(feed_state_params_t));
        p = &dflt;
    }

    if (region == NULL || ((uintptr_t) region & 7) != 0) {
        return FEED_ERROR;
    }

    h = region;

    memset(h, 0, sizeof(feed_state_hdr_t));

    if (feed_state_layout(h, size, p) != FEED_OK) {
        return FEED_ERROR;
    }

    /* the index seed: anything a client cannot guess */

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    seed = feed_mix64((uint64_t) ts.tv_sec * 1000000000ULL
                          + (uint64_t) ts.tv_nsec);
    seed = feed_mix64(seed ^ (uint64_t) getpid()
                          ^ (uint64_t) (uintptr_t) region);

    h->seed = seed;
    h->version = FEED_STATE_VERSION;
    h->sum = feed_state_sum(h);

    for (t = 0; t < FEED_STATE_TABLES; t++) {
        feed_state_reset(h, t);
    }

    h->resets = 0;

    /* the magic last: a half-formatted region is never taken for one */

    h->magic = FEED_STATE_MAGIC;

    return FEED_OK;
}


/*
 * The header, if its geometry is intact.  The geometry and its sum last
 * found intact are kept: while they are the same, word for word, the
 * sum holds without working it out again (some twenty dependent
 * multiplications, on every call into the zone).
 */

static feed_state_hdr_t *
feed_state_hdr(void *region)
{
    feed_state_hdr_t   *h;
    static void        *known_region;
    static uint64_t     known[FEED_STATE_GEOMETRY_WORDS];

    h = region;

    if (h == NULL
        || h->magic != FEED_STATE_MAGIC
        || h->version != FEED_STATE_VERSION)
    {
        return NULL;
    }

    if (region == known_region
        && memcmp(known, &h->size, sizeof(known)) == 0)
    {
        return h;
    }

    if (h->sum != feed_state_sum(h)) {
        return NULL;
    }

    memcpy(known, &h->size, sizeof(known));
    known_region = region;

    return h;
}


/* whether the state fields of a table can be used */

static int
feed_state_sane(feed_state_hdr_t *h, unsigned t)
{
    uint64_t  used;

    used = h->used[t];

    if (used > h->tab[t].cap) {
        return 0;
    }

    if (t != FEED_STATE_VIEWERS) {
        return 1;
    }

    if (used == 0) {
        return h->head == FEED_NONE && h->tail == FEED_NONE;
    }

    return h->head < used && h->tail < used;
}


/*
 * The header of a region an operation is about to use, table t marked
 * busy.  A table left busy was being changed by a process that died, so
 * it is emptied; so is a table whose state fields are out of range.
 */

static feed_state_hdr_t *
feed_state_enter(void *region, unsigned t)
{
    unsigned           u;
    feed_state_hdr_t  *h;

    h = feed_state_hdr(region);

    if (h == NULL) {
        return NULL;
    }

    for (u = 0; u < FEED_STATE_TABLES; u++) {
        if ((h->busy & ((uint64_t) 1 << u)) || !feed_state_sane(h, u)) {
            feed_state_reset(h, u);
        }
    }

    h->busy = (uint64_t) 1 << t;
    feed_state_barrier();

    return h;
}


static void
feed_state_leave(feed_state_hdr_t *h)
{
    feed_state_barrier();
    h->busy = 0;
}


/* forgets every record of a table */

static void
feed_state_reset(feed_state_hdr_t *h, unsigned t)
{
    uint64_t            i;
    feed_state_slot_t  *s;

    s = feed_state_slots(h, t);

    for (i = 0; i < h->tab[t].nslots; i++) {
        s[i].rec = FEED_NONE;
        s[i].tag = 0;
    }

    h->used[t] = 0;

    if (t == FEED_STATE_VIEWERS) {
        h->head = FEED_NONE;
        h->tail = FEED_NONE;
    }

    h->resets++;
}


static feed_state_slot_t *
feed_state_slots(feed_state_hdr_t *h, unsigned t)
{
    return (feed_state_slot_t *) ((unsigned char *) h + h->tab[t].index);
}


static unsigned char *
feed_state_rec(feed_state_hdr_t *h, unsigned t, uint64_t i)
{
    return (unsigned char *) h + h->tab[t].recs + i * h->tab[t].rec_size;
}


static feed_viewer_t *
feed_state_viewer(feed_state_hdr_t *h, uint64_t i)
{
    return (feed_viewer_t *) feed_state_rec(h, FEED_STATE_VIEWERS, i);
}


static uint32_t
feed_state_tag(feed_state_hdr_t *h, unsigned t, const void *key)
{
    uint64_t  k;

    if (t == FEED_STATE_VIEWERS) {
        k = feed_state_hash(key, 16);

    } else {
        memcpy(&k, key, 8);
    }

    return (uint32_t) feed_mix64(k ^ h->seed ^ t);
}


/*
 * Index: linear probing from slot tag % nslots, confirmed by the key in
 * the record.  FEED_OK with *slot, FEED_DECLINED when absent, FEED_ERROR
 * when a slot names a record out of range.
 */

static int
feed_state_find(feed_state_hdr_t *h, unsigned t, const void *key,
    uint32_t tag, uint64_t *slot)
{
    uint64_t            i, n, nslots;
    feed_state_slot_t  *s;

    s = feed_state_slots(h, t);
    nslots = h->tab[t].nslots;

    for (i = tag % nslots, n = 0; n < nslots; i = i + 1 < nslots ? i + 1 : 0,
                                              n++)
    {
        if (s[i].rec == FEED_NONE) {
            return FEED_DECLINED;
        }

        if (s[i].rec >= h->used[t]) {
            return FEED_ERROR;
        }

        if (s[i].tag == tag
            && feed_state_key_eq(feed_state_rec(h, t, s[i].rec), key,
                                 h->tab[t].key_len))
        {
            *slot = i;
            return FEED_OK;
        }
    }

    return FEED_DECLINED;
}


/* keys are of 8 or 16 bytes: compared as words, not by a call */

static int
feed_state_key_eq(const void *a, const void *b, uint64_t len)
{
    uint64_t  x[2], y[2];

    if (len == 8) {
        memcpy(x, a, 8);
        memcpy(y, b, 8);
        return x[0] == y[0];
    }

    if (len == 16) {
        memcpy(x, a, 16);
        memcpy(y, b, 16);
        return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
    }

    return memcmp(a, b, len) == 0;
}


static int
feed_state_slot_of(feed_state_hdr_t *h, unsigned t, uint32_t tag,
    uint64_t rec, uint64_t *slot)
{
    uint64_t            i, n, nslots;
    feed_state_slot_t  *s;

    s = feed_state_slots(h, t);
    nslots = h->tab[t].nslots;

    for (i = tag % nslots, n = 0; n < nslots; i = i + 1 < nslots ? i + 1 : 0,
                                              n++)
    {
        if (s[i].rec == FEED_NONE) {
            break;
        }

        if (s[i].rec == rec && s[i].tag == tag) {
            *slot = i;
            return FEED_OK;
        }
    }

    return FEED_ERROR;
}


static int
feed_state_insert(feed_state_hdr_t *h, unsigned t, uint32_t tag,
    uint64_t rec)
{
    uint64_t            i, n, nslots;
    feed_state_slot_t  *s;

    s = feed_state_slots(h, t);
    nslots = h->tab[t].nslots;

    for (i = tag % nslots, n = 0; n < nslots; i = i + 1 < nslots ? i + 1 : 0,
                                              n++)
    {
        if (s[i].rec == FEED_NONE) {
            s[i].rec = (uint32_t) rec;
            s[i].tag = tag;
            return FEED_OK;
        }
    }

    return FEED_ERROR;
}


/* empties slot i, shifting the rest of its cluster back */

static void
feed_state_remove(feed_state_hdr_t *h, unsigned t, uint64_t i)
{
    uint64_t            j, k, n, nslots;
    feed_state_slot_t  *s;

    s = feed_state_slots(h, t);
    nslots = h->tab[t].nslots;

    for (j = (i + 1) % nslots, n = 0;
         s[j].rec != FEED_NONE && n < nslots;
         j = (j + 1) % nslots, n++)
    {
        /* the entry at j may move to i if its home is not in (i, j] */

        k = s[j].tag % nslots;

        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            s[i] = s[j];
            i = j;
        }
    }

    s[i].rec = FEED_NONE;
    s[i].tag = 0;
}


/* takes viewer i out of the LRU list, its links checked first */

static int
feed_state_unlink(feed_state_hdr_t *h, uint64_t i)
{
    uint64_t        used;
    uint32_t        p, n;
    feed_viewer_t  *v;

    used = h->used[FEED_STATE_VIEWERS];
    v = feed_state_viewer(h, i);
    p = v->prev;
    n = v->next;

    if (p == FEED_NONE) {
        if (h->head != i) {
            return FEED_ERROR;
        }

    } else if (p >= used || p == i || feed_state_viewer(h, p)->next != i) {
        return FEED_ERROR;
    }

    if (n == FEED_NONE) {
        if (h->tail != i) {
            return FEED_ERROR;
        }

    } else if (n >= used || n == i || feed_state_viewer(h, n)->prev != i) {
        return FEED_ERROR;
    }

    if (p == FEED_NONE) {
        h->head = n;

    } else {
        feed_state_viewer(h, p)->next = n;
    }

    if (n == FEED_NONE) {
        h->tail = p;

    } else {
        feed_state_viewer(h, n)->prev = p;
    }

    v->prev = FEED_NONE;
    v->next = FEED_NONE;

    return FEED_OK;
}


/* puts viewer i, linked nowhere, at the head */

static void
feed_state_push(feed_state_hdr_t *h, uint64_t i)
{
    feed_viewer_t  *v;

    v = feed_state_viewer(h, i);
    v->prev = FEED_NONE;
    v->next = (uint32_t) h->head;

    if (h->head == FEED_NONE) {
        h->tail = i;

    } else {
        feed_state_viewer(h, h->head)->prev = (uint32_t) i;
    }

    h->head = i;
}


/* unindexes and unlinks the least recently seen viewer, for reuse */

static int
feed_state_evict(feed_state_hdr_t *h, uint64_t *i)
{
    uint64_t        slot;
    feed_viewer_t  *v;

    *i = h->tail;
    v = feed_state_viewer(h, *i);

    if (v->next != FEED_NONE
        || feed_state_slot_of(h, FEED_STATE_VIEWERS,
                              feed_state_tag(h, FEED_STATE_VIEWERS, v->id),
                              *i, &slot)
           != FEED_OK)
    {
        return FEED_ERROR;
    }

    if (feed_state_unlink(h, *i) != FEED_OK) {
        return FEED_ERROR;
    }

    feed_state_remove(h, FEED_STATE_VIEWERS, slot);

    h->evictions++;

    return FEED_OK;
}


feed_viewer_t *
feed_state_viewer_locked(void *region, const unsigned char id[16],
    uint32_t now, int create, int *created)
{
    int                rc, again;
    uint32_t           tag;
    uint64_t           i, slot;
    feed_viewer_t     *v;
    feed_state_hdr_t  *h;

    if (created) {
        *created = 0;
    }

    h = feed_state_enter(region, FEED_STATE_VIEWERS);
    if (h == NULL) {
        return NULL;
    }

    tag = feed_state_tag(h, FEED_STATE_VIEWERS, id);
    v = NULL;

    for (again = 0; again < 2; again++) {

        rc = feed_state_find(h, FEED_STATE_VIEWERS, id, tag, &slot);

        if (rc == FEED_ERROR) {
            goto corrupt;
        }

        if (rc == FEED_OK) {
            i = feed_state_slots(h, FEED_STATE_VIEWERS)[slot].rec;

            if (feed_state_unlink(h, i) != FEED_OK) {
                goto corrupt;
            }

            feed_state_push(h, i);

            v = feed_state_viewer(h, i);
            v->last_seen = now;

            break;
        }

        if (!create) {
            break;
        }

        if (h->used[FEED_STATE_VIEWERS] < h->tab[FEED_STATE_VIEWERS].cap) {
            i = h->used[FEED_STATE_VIEWERS];

        } else if (feed_state_evict(h, &i) != FEED_OK) {
            goto corrupt;
        }

        v = feed_state_viewer(h, i);
        memset(v, 0, sizeof(feed_viewer_t));
        memcpy(v->id, id, 16);
        v->created = now;
        v->last_seen = now;

        if (feed_state_insert(h, FEED_STATE_VIEWERS, tag, i) != FEED_OK) {
            v = NULL;
            goto corrupt;
        }

        if (i == h->used[FEED_STATE_VIEWERS]) {
            h->used[FEED_STATE_VIEWERS]++;
        }

        feed_state_push(h, i);

        if (created) {
            *created = 1;
        }

        break;

    corrupt:

        /* the table is emptied, and the lookup done again in it */

        feed_state_reset(h, FEED_STATE_VIEWERS);
    }

    feed_state_leave(h);

    return v;
}


/* a clip or sound; the record's first_seen is the caller's to set */

static void *
feed_state_keyed_locked(void *region, unsigned t, uint64_t hash,
    int create, int *created)
{
    unsigned char     *r;
    feed_state_hdr_t  *h;

    *created = 0;

    h = feed_state_enter(region, t);
    if (h == NULL) {
        return NULL;
    }

    r = feed_state_keyed(h, t, hash, feed_state_tag(h, t, &hash), create,
                         created);

    feed_state_leave(h);

    return r;
}


/* the same within an operation: the table entered, the tag known */

static void *
feed_state_keyed(feed_state_hdr_t *h, unsigned t, uint64_t hash,
    uint32_t tag, int create, int *created)
{
    int                rc, again;
    uint64_t           i, slot;
    unsigned char     *r;

    *created = 0;
    r = NULL;

    for (again = 0; again < 2; again++) {

        rc = feed_state_find(h, t, &hash, tag, &slot);

        if (rc == FEED_ERROR) {
            feed_state_reset(h, t);
            continue;
        }

        if (rc == FEED_OK) {
            r = feed_state_rec(h, t, feed_state_slots(h, t)[slot].rec);
            break;
        }

        if (!create) {
            break;
        }

        if (h->used[t] == h->tab[t].cap) {
            h->refused[t]++;
            break;
        }

        i = h->used[t];

        if (feed_state_insert(h, t, tag, i) != FEED_OK) {
            feed_state_reset(h, t);
            continue;
        }

        r = feed_state_rec(h, t, i);
        memset(r, 0, h->tab[t].rec_size);
        memcpy(r, &hash, 8);

        h->used[t]++;
        *created = 1;

        break;
    }

    return r;
}


feed_clip_stats_t *
feed_state_clip_locked(void *region, uint64_t hash, uint32_t now,
    int create)
{
    int                 created;
    feed_clip_stats_t  *c;

    c = feed_state_keyed_locked(region, FEED_STATE_CLIPS, hash, create,
                                &created);

    if (created) {
        c->first_seen = now;
        c->score_time = now;
    }

    return c;
}


/*
 * A page's clips in one operation: their slots asked for ahead, so that
 * the lookups' misses overlap.
 */

void
feed_state_clips_locked(void *region, const uint64_t *hash, uint32_t n,
    uint32_t now, int create, feed_clip_stats_t **out)
{
    int                 created, pass;
    uint32_t            i, tag[FEED_STATE_BATCH];
    uint64_t            resets;
    feed_state_hdr_t   *h;
    feed_state_slot_t  *s;
    feed_clip_stats_t  *c;

    for (i = 0; i < n; i++) {
        out[i] = NULL;
    }

    if (n > FEED_STATE_BATCH) {
        n = FEED_STATE_BATCH;
    }

    h = feed_state_enter(region, FEED_STATE_CLIPS);
    if (h == NULL) {
        return;
    }

    s = feed_state_slots(h, FEED_STATE_CLIPS);

    for (i = 0; i < n; i++) {
        tag[i] = feed_state_tag(h, FEED_STATE_CLIPS, &hash[i]);

#if defined(__GNUC__)
        __builtin_prefetch(&s[tag[i] % h->tab[FEED_STATE_CLIPS].nslots]);
#endif
    }

    /*
     * A table found damaged and emptied midway frees the records found
     * before: the batch is looked up again, and given up if it happens
     * twice.
     */

    for (pass = 0; pass < 2; pass++) {
        resets = h->resets;

        for (i = 0; i < n; i++) {
            c = feed_state_keyed(h, FEED_STATE_CLIPS, hash[i], tag[i],
                                 create, &created);

            if (created) {
                c->first_seen = now;
                c->score_time = now;
            }

            out[i] = c;
        }

        if (h->resets == resets) {
            break;
        }

        for (i = 0; i < n; i++) {
            out[i] = NULL;
        }
    }

    feed_state_leave(h);
}


feed_sound_stats_t *
feed_state_sound_locked(void *region, uint64_t hash, uint32_t now,
    int create)
{
    int                  created;
    feed_sound_stats_t  *s;

    s = feed_state_keyed_locked(region, FEED_STATE_SOUNDS, hash, create,
                                &created);

    if (created) {
        s->first_seen = now;
        s->score_time = now;
    }

    return s;
}


static uint32_t
feed_state_copy_locked(void *region, unsigned t, uint32_t *cursor,
    void *out, uint32_t n)
{
    uint64_t           from, k;
    feed_state_hdr_t  *h;

    h = feed_state_enter(region, t);
    if (h == NULL) {
        return 0;
    }

    from = *cursor;
    k = 0;

    if (from < h->used[t]) {
        k = h->used[t] - from;

        if (k > n) {
            k = n;
        }

        memcpy(out, feed_state_rec(h, t, from), k * h->tab[t].rec_size);
        *cursor = (uint32_t) (from + k);
    }

    feed_state_leave(h);

    return (uint32_t) k;
}


uint32_t
feed_state_clip_next_locked(void *region, uint32_t *cursor,
    feed_clip_stats_t *out, uint32_t n)
{
    return feed_state_copy_locked(region, FEED_STATE_CLIPS, cursor, out, n);
}


uint32_t
feed_state_sound_next_locked(void *region, uint32_t *cursor,
    feed_sound_stats_t *out, uint32_t n)
{
    return feed_state_copy_locked(region, FEED_STATE_SOUNDS, cursor, out, n);
}


void
feed_state_stats_locked(void *region, feed_state_stats_t *st)
{
    feed_state_hdr_t  *h;

    memset(st, 0, sizeof(feed_state_stats_t));

    h = feed_state_hdr(region);

    if (h == NULL) {
        return;
    }

    st->viewers = h->used[FEED_STATE_VIEWERS];
    st->viewer_capacity = h->tab[FEED_STATE_VIEWERS].cap;
    st->evictions = h->evictions;
    st->clips = h->used[FEED_STATE_CLIPS];
    st->clip_capacity = h->tab[FEED_STATE_CLIPS].cap;
    st->clips_refused = h->refused[FEED_STATE_CLIPS];
    st->sounds = h->used[FEED_STATE_SOUNDS];
    st->sound_capacity = h->tab[FEED_STATE_SOUNDS].cap;
    st->sounds_refused = h->refused[FEED_STATE_SOUNDS];
    st->resets = h->resets;
}


/*
 * The full check: the geometry is the one the sizes give, every table's
 * index holds each record in use exactly once where a lookup finds it,
 * the LRU list links every viewer once, in both directions, and every
 * viewer's small fields are in range.  A table left busy is not checked:
 * the next operation empties it.
 */

int
feed_state_check(void *region, size_t size)
{
    unsigned             t;
    uint64_t             i;
    feed_state_hdr_t    *h, geo;
    feed_state_params_t  p;

    h = feed_state_hdr(region);

    if (h == NULL || h->size != size) {
        return FEED_ERROR;
    }

    p.viewers = (uint32_t) h->tab[FEED_STATE_VIEWERS].cap;
    p.clips = (uint32_t) h->tab[FEED_STATE_CLIPS].cap;
    p.sounds = (uint32_t) h->tab[FEED_STATE_SOUNDS].cap;

    memset(&geo, 0, sizeof(feed_state_hdr_t));

    if (feed_state_layout(&geo, size, &p) != FEED_OK
        || memcmp(geo.tab, h->tab, sizeof(geo.tab)) != 0)
    {
        return FEED_ERROR;
    }

    if (h->busy >= ((uint64_t) 1 << FEED_STATE_TABLES)) {
        return FEED_ERROR;
    }

    for (t = 0; t < FEED_STATE_TABLES; t++) {
        if (h->busy & ((uint64_t) 1 << t)) {
            continue;
        }

        if (!feed_state_sane(h, t) || feed_state_check_table(h, t) != FEED_OK)
        {
            return FEED_ERROR;
        }
    }

    if (h->busy & ((uint64_t) 1 << FEED_STATE_VIEWERS)) {
        return FEED_OK;
    }

    if (feed_state_check_lru(h) != FEED_OK) {
        return FEED_ERROR;
    }

    for (i = 0; i < h->used[FEED_STATE_VIEWERS]; i++) {
        if (feed_state_check_viewer(feed_state_viewer(h, i)) != FEED_OK) {
            return FEED_ERROR;
        }
    }

    return FEED_OK;
}


static int
feed_state_check_table(feed_state_hdr_t *h, unsigned t)
{
    uint64_t            i, slot, entries;
    unsigned char      *r;
    feed_state_slot_t  *s;

    s = feed_state_slots(h, t);
    entries = 0;

    for (i = 0; i < h->tab[t].nslots; i++) {
        if (s[i].rec == FEED_NONE) {
            continue;
        }

        if (s[i].rec >= h->used[t]) {
            return FEED_ERROR;
        }

        r = feed_state_rec(h, t, s[i].rec);

        /* a lookup of its key must find this very slot */

        if (s[i].tag != feed_state_tag(h, t, r)
            || feed_state_find(h, t, r, s[i].tag, &slot) != FEED_OK
            || slot != i)
        {
            return FEED_ERROR;
        }

        entries++;
    }

    /* as many slots as records, no two with the same key: one each */

    return entries == h->used[t] ? FEED_OK : FEED_ERROR;
}


static int
feed_state_check_lru(feed_state_hdr_t *h)
{
    uint64_t        i, prev, n, used;
    feed_viewer_t  *v;

    used = h->used[FEED_STATE_VIEWERS];
    prev = FEED_NONE;
    n = 0;

    for (i = h->head; i != FEED_NONE; i = v->next) {
        if (i >= used || n == used) {
            return FEED_ERROR;
        }

        v = feed_state_viewer(h, i);

        if (v->prev != prev) {
            return FEED_ERROR;
        }

        prev = i;
        n++;
    }

    return (n == used && h->tail == prev) ? FEED_OK : FEED_ERROR;
}


static int
feed_state_check_viewer(const feed_viewer_t *v)
{
    unsigned  i;

    if (v->seen_cur > 1
        || v->recent_pos >= FEED_STATE_RECENT
        || v->recent_n > FEED_STATE_RECENT
        || v->liked_pos >= FEED_STATE_LIKED
        || v->liked_n > FEED_STATE_LIKED
        || v->reported_pos >= FEED_STATE_REPORTED
        || v->reported_n > FEED_STATE_REPORTED
        || !(v->weight >= 0 && v->weight <= 1)
        || !(v->tokens >= 0 && v->tokens <= 1e9))
    {
        return FEED_ERROR;
    }

    for (i = 0; i < FEED_STATE_DIM; i++) {
        if (!(fabsf(v->interest[i]) <= FEED_STATE_EMB_MAX)) {
            return FEED_ERROR;
        }
    }

    return FEED_OK;
}


/*
 * The viewer's record.  These accept any bytes in it: ring positions are
 * taken modulo the ring, counts are clamped, and floats out of range are
 * reset, so a record a dead process left half updated, or a damaged one,
 * is only ever wrong, never dangerous.
 */

static void
feed_viewer_bits(uint64_t clip_hash, uint32_t bit[FEED_STATE_SEEN_K])
{
    unsigned  i;
    uint64_t  x;

    x = feed_mix64(clip_hash ^ 0x9e3779b97f4a7c15ULL);

    for (i = 0; i < FEED_STATE_SEEN_K; i++) {
        bit[i] = (uint32_t) (x >> (i * 21)) % FEED_STATE_SEEN_BITS;
    }
}


void
feed_viewer_seen_add(feed_viewer_t *v, uint64_t clip_hash)
{
    unsigned  i, cur, have;
    uint32_t  bit[FEED_STATE_SEEN_K];
    uint64_t  *g;

    feed_viewer_bits(clip_hash, bit);

    cur = v->seen_cur & 1;
    v->seen_cur = (uint8_t) cur;
    g = v->seen[cur];

    for (have = 0, i = 0; i < FEED_STATE_SEEN_K; i++) {
        have += (g[bit[i] / 64] >> (bit[i] % 64)) & 1;
    }

    /* already in the current generation: adding changes nothing */

    if (have == FEED_STATE_SEEN_K) {
        return;
    }

    if (v->seen_n >= FEED_STATE_SEEN_GEN) {
        cur ^= 1;
        g = v->seen[cur];
        memset(g, 0, sizeof(v->seen[0]));
        v->seen_cur = (uint8_t) cur;
        v->seen_n = 0;
    }

    for (i = 0; i < FEED_STATE_SEEN_K; i++) {
        g[bit[i] / 64] |= (uint64_t) 1 << (bit[i] % 64);
    }

    v->seen_n++;
}


int
feed_viewer_seen(const feed_viewer_t *v, uint64_t clip_hash)
{
    unsigned  i, g, have;
    uint32_t  bit[FEED_STATE_SEEN_K];

    feed_viewer_bits(clip_hash, bit);

    for (g = 0; g < 2; g++) {
        for (have = 0, i = 0; i < FEED_STATE_SEEN_K; i++) {
            have += (v->seen[g][bit[i] / 64] >> (bit[i] % 64)) & 1;
        }

        if (have == FEED_STATE_SEEN_K) {
            return 1;
        }
    }

    return 0;
}


void
feed_viewer_recent_add(feed_viewer_t *v, uint32_t creator_hash,
    uint32_t sound_hash)
{
    unsigned  pos;

    pos = v->recent_pos % FEED_STATE_RECENT;

    v->creators[pos] = creator_hash;
    v->sounds[pos] = sound_hash;
    v->recent_pos = (uint8_t) ((pos + 1) % FEED_STATE_RECENT);

    if (v->recent_n < FEED_STATE_RECENT) {
        v->recent_n++;

    } else {
        v->recent_n = FEED_STATE_RECENT;
    }
}


/* the recent creators and sounds, newest first; either array may be NULL */

unsigned
feed_viewer_recent(const feed_viewer_t *v,
    uint32_t creators[FEED_STATE_RECENT], uint32_t sounds[FEED_STATE_RECENT])
{
    unsigned  i, j, n;

    n = v->recent_n < FEED_STATE_RECENT ? v->recent_n : FEED_STATE_RECENT;

    for (i = 0; i < n; i++) {
        j = (v->recent_pos % FEED_STATE_RECENT + FEED_STATE_RECENT - 1 - i)
            % FEED_STATE_RECENT;

        if (creators) {
            creators[i] = v->creators[j];
        }

        if (sounds) {
            sounds[i] = v->sounds[j];
        }
    }

    return n;
}


/* a clip liked again is not added twice */

void
feed_viewer_liked_add(feed_viewer_t *v, uint64_t clip_hash)
{
    unsigned  i, n, pos;

    n = v->liked_n < FEED_STATE_LIKED ? v->liked_n : FEED_STATE_LIKED;
    pos = v->liked_pos % FEED_STATE_LIKED;

    for (i = 0; i < n; i++) {
        if (v->liked[(pos + FEED_STATE_LIKED - 1 - i) % FEED_STATE_LIKED]
            == clip_hash)
        {
            return;
        }
    }

    v->liked[pos] = clip_hash;
    v->liked_pos = (uint8_t) ((pos + 1) % FEED_STATE_LIKED);
    v->liked_n = (uint8_t) (n < FEED_STATE_LIKED ? n + 1 : n);
}


/* the liked clips, newest first */

unsigned
feed_viewer_liked(const feed_viewer_t *v, uint64_t clips[FEED_STATE_LIKED])
{
    unsigned  i, n;

    n = v->liked_n < FEED_STATE_LIKED ? v->liked_n : FEED_STATE_LIKED;

    for (i = 0; i < n; i++) {
        clips[i] = v->liked[(v->liked_pos % FEED_STATE_LIKED
                             + FEED_STATE_LIKED - 1 - i)
                            % FEED_STATE_LIKED];
    }

    return n;
}


/* a sound whose clip the viewer watched to the end: newest kept */

void
feed_viewer_finished_add(feed_viewer_t *v, uint32_t sound_hash)
{
    unsigned  i, pos;

    if (sound_hash == 0) {
        return;
    }

    for (i = 0; i < FEED_STATE_FINISHED; i++) {
        if (v->finished[i] == sound_hash) {
            return;
        }
    }

    pos = v->finished_pos % FEED_STATE_FINISHED;
    v->finished[pos] = sound_hash;
    v->finished_pos = (uint8_t) ((pos + 1) % FEED_STATE_FINISHED);
}


/* the finished sounds, newest first */

unsigned
feed_viewer_finished(const feed_viewer_t *v,
    uint32_t sounds[FEED_STATE_FINISHED])
{
    unsigned  i, n, h;

    n = 0;

    for (i = 0; i < FEED_STATE_FINISHED; i++) {
        h = v->finished[(v->finished_pos % FEED_STATE_FINISHED
                         + FEED_STATE_FINISHED - 1 - i) % FEED_STATE_FINISHED];
        if (h) {
            sounds[n++] = h;
        }
    }

    return n;
}


/*
 * Reports are kept by position: "reported" is a bitmap of the last
 * FEED_STATE_WINDOW positions handed out to the viewer (v->page counts
 * them), so a duplicate is found however many impressions came between,
 * and an impression older than the window, or never served to this
 * record (a viewer evicted and back), is refused rather than counted.
 */

void
feed_viewer_served(feed_viewer_t *v, uint32_t position)
{
    uint32_t  bit;

    bit = position % FEED_STATE_WINDOW;
    v->reported[bit / 64] &= ~((uint64_t) 1 << (bit % 64));
}


int
feed_viewer_report(feed_viewer_t *v, uint32_t position)
{
    uint32_t  bit;
    uint64_t  mask;

    if (position >= v->page || v->page - position > FEED_STATE_WINDOW) {
        return FEED_ERROR;
    }

    bit = position % FEED_STATE_WINDOW;
    mask = (uint64_t) 1 << (bit % 64);

    if (v->reported[bit / 64] & mask) {
        return FEED_DECLINED;
    }

    v->reported[bit / 64] |= mask;

    if (v->events < UINT32_MAX) {
        v->events++;
    }

    return FEED_OK;
}


/*
 * A token bucket: "burst" tokens at most (at least 1), refilled at
 * "rate_per_s"; a request takes one.  now_ms is any millisecond clock
 * but 0; a new record starts full, and a clock that goes back refills
 * nothing.  1: allowed, 0: over the limit.
 */

int
feed_viewer_allow(feed_viewer_t *v, uint64_t now_ms, double rate_per_s,
    double burst)
{
    double  tokens;

    if (!(burst >= 1)) {
        burst = 1;

    } else if (burst > 1e9) {
        burst = 1e9;
    }

    if (!(rate_per_s >= 0)) {
        rate_per_s = 0;

    } else if (rate_per_s > 1e9) {
        rate_per_s = 1e9;
    }

    tokens = v->tokens;

    if (v->token_ms == 0 || !(tokens >= 0)) {
        tokens = burst;

    } else if (now_ms > v->token_ms) {
        tokens += (double) (now_ms - v->token_ms) * rate_per_s / 1000;
    }

    if (tokens > burst) {
        tokens = burst;
    }

    v->token_ms = now_ms;

    /* a whole token, give or take the rounding of many small refills */

    if (tokens >= 1 - 1e-9) {
        v->tokens = (tokens > 1) ? tokens - 1 : 0;
        return 1;
    }

    v->tokens = tokens;

    return 0;
}


/*
 * Learning, an exponential moving average toward a target:
 *
 *     a = min(FEED_STATE_LEARN_RATE * |weight|, FEED_STATE_LEARN_MAX)
 *     t = sign(weight) * clamp(emb[i], -FEED_STATE_EMB_MAX, EMB_MAX)
 *     interest[i] += a * (t - interest[i])       for i < min(dim, 32)
 *     confidence  += a * (1 - confidence)
 *
 * so a positive weight moves the vector toward the clip and a negative
 * one toward its opposite, never by more than half the way.  Every
 * value is a convex combination of values within +-FEED_STATE_EMB_MAX,
 * so it stays there; an embedding or weight with a NaN or infinity is
 * ignored whole, and a stored value out of range (damage) restarts at 0.
 */

unsigned
feed_viewer_interests(unsigned dim)
{
    unsigned  k;

    if (dim == 0) {
        return 1;
    }

    k = FEED_STATE_DIM / dim;

    return k < 1 ? 1 : k > FEED_STATE_INTERESTS ? FEED_STATE_INTERESTS : k;
}


/*
 * A viewer's tastes: the FEED_STATE_DIM floats hold as many interest
 * vectors of the embeddings' dimension as fit (at most
 * FEED_STATE_INTERESTS).  A clip watched moves the vector closest to it;
 * a clip unlike every taste so far takes an empty vector, or the weakest
 * (smallest) one once all are used; a clip skipped pushes away only the
 * vector it resembles.  A vector's length is its strength.
 */

void
feed_viewer_learn(feed_viewer_t *v, const float *emb, unsigned dim,
    float weight)
{
    float     x, c, *w;
    double    a, t, dot, nw, ne, cs, best, weakest;
    unsigned  i, n, k, nk, bk, wk;

    n = dim < FEED_STATE_DIM ? dim : FEED_STATE_DIM;

    if (emb == NULL || n == 0 || !isfinite(weight) || weight == 0) {
        return;
    }

    ne = 0;

    for (i = 0; i < n; i++) {
        if (!isfinite(emb[i])) {
            return;
        }

        t = emb[i];
        t = t > FEED_STATE_EMB_MAX ? FEED_STATE_EMB_MAX
            : t < -FEED_STATE_EMB_MAX ? -FEED_STATE_EMB_MAX : t;
        ne += t * t;
    }

    for (i = 0; i < FEED_STATE_DIM; i++) {
        if (!(fabsf(v->interest[i]) <= FEED_STATE_EMB_MAX)) {
            v->interest[i] = 0;
        }
    }

    a = FEED_STATE_LEARN_RATE * fabs((double) weight);

    if (a > FEED_STATE_LEARN_MAX) {
        a = FEED_STATE_LEARN_MAX;
    }

    nk = feed_viewer_interests(n);

    if (nk > 1) {
        n = FEED_STATE_DIM / nk < n ? FEED_STATE_DIM / nk : n;
    }

    /* the closest vector, and the weakest */

    bk = 0;
    wk = 0;
    best = -2;
    weakest = -1;

    for (k = 0; k < nk; k++) {
        w = &v->interest[k * (FEED_STATE_DIM / nk)];
        dot = 0;
        nw = 0;

        for (i = 0; i < n; i++) {
            t = emb[i];
            t = t > FEED_STATE_EMB_MAX ? FEED_STATE_EMB_MAX
                : t < -FEED_STATE_EMB_MAX ? -FEED_STATE_EMB_MAX : t;
            dot += w[i] * t;
            nw += (double) w[i] * w[i];
        }

        cs = (nw > 1e-6 && ne > 0) ? dot / sqrt(nw * ne) : -1;

        if (cs > best) {
            best = cs;
            bk = k;
        }

        if (weakest < 0 || nw < weakest) {
            weakest = nw;
            wk = k;
        }
    }

    if (weight < 0) {
        if (!(best > 0)) {
            return;             /* like no taste: nothing to push away */
        }

    } else if (best < FEED_STATE_NEW_TASTE) {
        bk = wk;                /* a new taste: the empty or weakest */
    }

    w = &v->interest[bk * (FEED_STATE_DIM / nk)];

    for (i = 0; i < n; i++) {
        x = w[i];
        t = emb[i];
        t = t > FEED_STATE_EMB_MAX ? FEED_STATE_EMB_MAX
            : t < -FEED_STATE_EMB_MAX ? -FEED_STATE_EMB_MAX : t;

        if (weight < 0) {
            t = -t;
        }

        w[i] = (float) (x + a * (t - x));
    }

    c = v->weight;

    if (!(c >= 0 && c <= 1)) {
        c = 0;
    }

    v->weight = (float) (c + a * (1 - c));
}


void
feed_clip_add(uint32_t *counter, uint32_t n)
{
    *counter = (*counter > UINT32_MAX - n) ? UINT32_MAX : *counter + n;
}


void
feed_clip_watch(feed_clip_stats_t *c, uint64_t ms)
{
    c->watch_ms = (c->watch_ms > UINT64_MAX - ms) ? UINT64_MAX
                                                  : c->watch_ms + ms;
}


/*
 * A trending score decays by half every half_life_s seconds: its value
 * at "now" is score * 2^(-(now - t) / half_life_s).  Adding w decays the
 * stored score to now first.  A clock that goes back decays nothing, and
 * a half-life that is not positive means no decay.
 */

double
feed_trend_value(float score, uint32_t t, uint32_t now, double half_life_s)
{
    if (!isfinite(score)) {
        return 0;
    }

    if (now <= t || !(half_life_s > 0)) {
        return score;
    }

    return score * exp2(-(double) (now - t) / half_life_s);
}


void
feed_trend_add(float *score, uint32_t *t, double w, uint32_t now,
    double half_life_s)
{
    double  s;

    s = feed_trend_value(*score, *t, now, half_life_s);

    if (isfinite(w)) {
        s += w;
    }

    if (s > FLT_MAX) {
        s = FLT_MAX;

    } else if (s < -FLT_MAX) {
        s = -FLT_MAX;
    }

    *score = (float) s;

    if (now > *t) {
        *t = now;
    }
}
