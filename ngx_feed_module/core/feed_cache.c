
/*
 * Copyright (C) the feed module developers
 */


/*
 * The segment cache: a log-structured ring of records, each a 64-byte
 * header, the key and the data, written at the head and reclaimed at the
 * tail, so segment-sized objects never fragment the zone.  A record that
 * does not fit before the end of the ring is preceded by a PAD record
 * that fills the end, and the head wraps to 0.
 *
 * Eviction is FIFO with a bounded second chance: a record hit since it
 * was written (or last moved) is moved from the tail to the head instead
 * of being dropped, if it is small enough and the reservation has budget
 * left.  Since eviction only happens when the free gap lies between the
 * head and the tail, the move is one memmove() down into the gap and the
 * gap just travels.
 *
 * Admission is TinyLFU: every lookup counts the key in a count-min sketch
 * of 4-bit counters behind a doorkeeper bitmap; the sketch is halved
 * every "sample" lookups and the doorkeeper cleared every other time, so
 * that yesterday's hits fade.
 * A new object is admitted when it fits without eviction, when it was
 * asked for before in the window, or when its estimated frequency per
 * byte is no lower than that of the records it would evict, discounted
 * by a lenience that a ghost of refused and evicted keys adjusts.
 *
 * Everything read from the region is checked before use: a header whose
 * geometry fails its checksum is reported, a bad record or index slot
 * makes the operation reformat the ring and index in place.  A region
 * must never crash the process that maps it.
 */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>

#include "feed_cache.h"


#define FEED_CACHE_MAGIC        0x4643414348453031ULL   /* "FCACHE01" */
#define FEED_CACHE_VERSION      2
#define FEED_CACHE_REC_MAGIC    0x46524543u             /* "FREC" */

#define FEED_CACHE_ALIGN        64
#define FEED_CACHE_ROWS         4
#define FEED_CACHE_EMPTY        ((uint64_t) -1)

#define FEED_CACHE_PAD          1
#define FEED_CACHE_WRITING      2
#define FEED_CACHE_VALID        3
#define FEED_CACHE_DEAD         4

#define FEED_CACHE_VICTIMS      64   /* records weighed by one admission */
#define FEED_CACHE_HOT          4    /* an estimate no first sighting
                                        can displace */
#define FEED_CACHE_LENIENCE     256  /* lenience that admits everything */
#define FEED_CACHE_DOOR_AGE     2    /* halvings between doorkeeper resets */
#define FEED_CACHE_GHOST_REJECT 1    /* ghost tag bit: a refused key */

#define feed_cache_align(n)                                                   \
    (((n) + FEED_CACHE_ALIGN - 1) & ~((uint64_t) FEED_CACHE_ALIGN - 1))


typedef struct {
    uint64_t            magic;
    uint64_t            version;

    /* geometry and parameters: fixed by init, covered by "sum" */

    uint64_t            size;
    uint64_t            max_object;
    uint64_t            index;
    uint64_t            nslots;
    uint64_t            max_entries;
    uint64_t            sketch;
    uint64_t            width;
    uint64_t            door;
    uint64_t            door_bits;
    uint64_t            ghost;
    uint64_t            nghosts;
    uint64_t            pins;
    uint64_t            npins;
    uint64_t            ring;
    uint64_t            ring_size;
    uint64_t            sample;
    uint64_t            pin_timeout;
    uint64_t            move_max;
    uint64_t            move_budget;
    uint64_t            admit_all;
    uint64_t            sum;

    /* state */

    uint64_t            head;
    uint64_t            tail;
    uint64_t            used;
    uint64_t            entries;     /* index slots in use */
    uint64_t            seq;
    uint64_t            counted;     /* sketch increments since halving */
    uint64_t            halvings;
    uint64_t            lenience;    /* 0: strict TinyLFU admission,
                                        FEED_CACHE_LENIENCE: admit all */
    uint64_t            pin_next;    /* where to look for a free pin */
    uint64_t            busy;        /* an operation is changing it */
    uint64_t            draining;    /* pins from before a reset remain */

    feed_cache_stats_t  stats;
} feed_cache_hdr_t;


typedef struct {
    uint32_t            magic;
    uint16_t            type;
    uint16_t            key_len;
    uint32_t            refs;
    uint32_t            hits;
    uint64_t            total;       /* the record's bytes, aligned */
    uint64_t            len;         /* data bytes */
    uint64_t            hash;
    uint64_t            id;
    uint64_t            time;        /* when reserved */
    uint64_t            tag;         /* the caller's */
} feed_cache_rec_t;


typedef struct {
    uint64_t            hash;
    uint64_t            off;         /* ring offset of the record */
} feed_cache_slot_t;


typedef struct {
    uint64_t            off;         /* FEED_CACHE_EMPTY: free */
    uint64_t            id;
    uint64_t            time;
    uint32_t            owner;       /* a process id, or 0 */
    uint32_t            orphan;      /* taken before a reset */
} feed_cache_pin_t;


static uint64_t feed_cache_pow2(uint64_t n);
static int feed_cache_layout(feed_cache_hdr_t *h, size_t size,
    size_t max_object, const feed_cache_params_t *p);
static uint64_t feed_cache_sum(feed_cache_hdr_t *h);
static feed_cache_hdr_t *feed_cache_hdr(void *region);
static void feed_cache_reset(feed_cache_hdr_t *h);
static feed_cache_rec_t *feed_cache_rec(feed_cache_hdr_t *h, uint64_t off);
static feed_cache_rec_t *feed_cache_ref_rec(feed_cache_hdr_t *h,
    const feed_cache_ref_t *ref);
static int feed_cache_alive(uint64_t owner);
static int feed_cache_pin_live(feed_cache_hdr_t *h, feed_cache_pin_t *pin,
    uint64_t now);
static feed_cache_hdr_t *feed_cache_enter(void *region);
static feed_cache_slot_t *feed_cache_slots(feed_cache_hdr_t *h);
static feed_cache_pin_t *feed_cache_pins(feed_cache_hdr_t *h);
static int feed_cache_pinned(feed_cache_hdr_t *h, feed_cache_rec_t *r,
    uint64_t off, uint64_t now);
static int feed_cache_find(feed_cache_hdr_t *h, uint64_t hash,
    const void *key, size_t key_len, uint64_t *slot);
static int feed_cache_slot_of(feed_cache_hdr_t *h, uint64_t hash,
    uint64_t off, uint64_t *slot);
static int feed_cache_insert(feed_cache_hdr_t *h, uint64_t hash,
    uint64_t off);
static void feed_cache_remove(feed_cache_hdr_t *h, uint64_t i);
static int feed_cache_unindex(feed_cache_hdr_t *h, feed_cache_rec_t *r,
    uint64_t off);
static void feed_cache_count(feed_cache_hdr_t *h, uint64_t hash);
static uint64_t feed_cache_estimate(feed_cache_hdr_t *h, uint64_t hash);
static void feed_cache_ghost_add(feed_cache_hdr_t *h, uint64_t hash,
    uint32_t tag);
static void feed_cache_ghost_check(feed_cache_hdr_t *h, uint64_t hash);
static int feed_cache_movable(feed_cache_hdr_t *h, feed_cache_rec_t *r,
    uint64_t budget);
static int feed_cache_admissible(feed_cache_hdr_t *h, uint64_t hash,
    uint64_t need, uint64_t now);
static int feed_cache_evict(feed_cache_hdr_t *h, int protect, uint64_t now,
    uint64_t *budget);
static int feed_cache_reserve(feed_cache_hdr_t *h, uint64_t need, int protect,
    uint64_t now, uint64_t *off);
static int feed_cache_pin(feed_cache_hdr_t *h, feed_cache_rec_t *r,
    uint64_t off, uint64_t now, uint64_t owner, feed_cache_ref_t *ref);
static int feed_cache_drained(feed_cache_hdr_t *h, uint64_t now);
static feed_cache_pin_t *feed_cache_ref_pin(feed_cache_hdr_t *h,
    const feed_cache_ref_t *ref);
static int feed_cache_admit(feed_cache_hdr_t *h, const void *key,
    size_t key_len, size_t size, uint64_t tag, uint64_t now, uint64_t owner,
    feed_cache_ref_t *ref);


void
feed_cache_default_params(feed_cache_params_t *p)
{
    memset(p, 0, sizeof(feed_cache_params_t));

    p->pin_timeout = 60;
    p->move_max_pct = 2;
    p->move_budget = 4;
}


size_t
feed_cache_min_size(void)
{
    return 128 * 1024;
}


uint64_t
feed_cache_hash(const void *key, size_t len)
{
    return feed_hash64(key, len);
}


static uint64_t
feed_cache_pow2(uint64_t n)
{
    uint64_t  p;

    for (p = 1; p < n; p <<= 1) { /* void */ }

    return p;
}


/* computes the geometry of a region; FEED_ERROR if it does not fit */

static int
feed_cache_layout(feed_cache_hdr_t *h, size_t size, size_t max_object,
    const feed_cache_params_t *p)
{
    uint64_t  objects, off;

    if (size < feed_cache_min_size()) {
        return FEED_ERROR;
    }

    objects = p->objects ? p->objects : size / (32 * 1024);

    if (objects < 16) {
        objects = 16;
    }

    if (objects > ((uint64_t) 1 << 32)) {
        return FEED_ERROR;
    }

    h->size = size;
    h->max_entries = objects;
    h->nslots = feed_cache_pow2(objects * 2);

    h->width = feed_cache_pow2(p->sketch_width ? p->sketch_width
                                               : objects * 2);
    if (h->width < 64) {
        h->width = 64;
    }

    if (h->width > ((uint64_t) 1 << 30)) {
        return FEED_ERROR;
    }

    h->door_bits = h->width * 8;
    h->sample = p->sample ? p->sample : objects * 3;

    off = feed_cache_align(sizeof(feed_cache_hdr_t));
    h->index = off;
    off += h->nslots * sizeof(feed_cache_slot_t);
    h->sketch = off;
    off += FEED_CACHE_ROWS * h->width / 2;
    h->door = off;
    off += h->door_bits / 8;
    h->nghosts = h->nslots;
    h->ghost = off;
    off += h->nghosts * sizeof(uint32_t);
    h->npins = p->pins ? p->pins : size / (64 * 1024);

    if (!p->pins) {
        h->npins = h->npins < 64 ? 64 : h->npins > 4096 ? 4096 : h->npins;
    }

    if (h->npins > ((uint64_t) 1 << 24)) {
        return FEED_ERROR;
    }

    h->pins = off;
    off += h->npins * sizeof(feed_cache_pin_t);
    off = feed_cache_align(off);
    h->ring = off;

    if (off >= size) {
        return FEED_ERROR;
    }

    h->ring_size = (size - off) & ~((uint64_t) FEED_CACHE_ALIGN - 1);

    if (h->ring_size < 64 * 1024) {
        return FEED_ERROR;
    }

    if (max_object == 0) {
        max_object = h->ring_size / 8;
    }

    /* the largest record must leave room for others to turn over */

    if (feed_cache_align(sizeof(feed_cache_rec_t) + FEED_CACHE_KEY_MAX
                         + (uint64_t) max_object)
        > h->ring_size / 2)
    {
        return FEED_ERROR;
    }

    h->max_object = max_object;
    h->pin_timeout = p->pin_timeout ? p->pin_timeout : 60;
    h->move_max = h->ring_size / 100 * p->move_max_pct;
    h->move_budget = p->move_budget;
    h->admit_all = p->admit_all ? 1 : 0;

    return FEED_OK;
}


static uint64_t
feed_cache_sum(feed_cache_hdr_t *h)
{
    uint64_t   s, *w, *end;

    s = 0x5bd1e995;

    for (w = &h->size, end = &h->sum; w < end; w++) {
        s = feed_mix64(s ^ *w);
    }

    return s;
}


size_t
feed_cache_meta_size(size_t size, const feed_cache_params_t *p)
{
    feed_cache_hdr_t  h;

    memset(&h, 0, sizeof(feed_cache_hdr_t));

    if (feed_cache_layout(&h, size, 0, p) != FEED_OK) {
        return 0;
    }

    return h.ring;
}


int
feed_cache_init(void *region, size_t size, size_t max_object,
    const feed_cache_params_t *p)
{
    uint64_t              i;
    feed_cache_hdr_t     *h;
    feed_cache_pin_t     *pin;
    feed_cache_params_t   dflt;

    if (p == NULL) {
        feed_cache_default_params(&dflt);
        p = &dflt;
    }

    if (((uintptr_t) region & 7) != 0) {
        return FEED_ERROR;
    }

    h = region;

    memset(h, 0, sizeof(feed_cache_hdr_t));

    if (feed_cache_layout(h, size, max_object, p) != FEED_OK) {
        return FEED_ERROR;
    }

    memset((unsigned char *) region + h->sketch, 0, h->ring - h->sketch);

    pin = feed_cache_pins(h);

    for (i = 0; i < h->npins; i++) {
        pin[i].off = FEED_CACHE_EMPTY;
    }

    h->version = FEED_CACHE_VERSION;
    h->sum = feed_cache_sum(h);
    h->stats.capacity = h->ring_size;

    feed_cache_reset(h);
    h->stats.corruptions = 0;

    /* the magic last: a half-formatted region is never taken for one */

    h->magic = FEED_CACHE_MAGIC;

    return FEED_OK;
}


/* the header, if its geometry is intact */

static feed_cache_hdr_t *
feed_cache_hdr(void *region)
{
    feed_cache_hdr_t  *h;

    h = region;

    if (h == NULL
        || h->magic != FEED_CACHE_MAGIC
        || h->version != FEED_CACHE_VERSION
        || h->sum != feed_cache_sum(h))
    {
        return NULL;
    }

    return h;
}


/*
 * The header of a region an operation is about to change.  A region left
 * busy was being changed by a process that died, so nothing in its ring
 * or index can be trusted: it is emptied.
 */

static feed_cache_hdr_t *
feed_cache_enter(void *region)
{
    feed_cache_hdr_t  *h;

    h = feed_cache_hdr(region);

    if (h == NULL) {
        return NULL;
    }

    if (h->busy) {
        feed_cache_reset(h);
    }

    h->busy = 1;

    return h;
}


/*
 * Forgets every object: the ring and the index are empty again.  Pins
 * still held are kept, as orphans, and nothing is admitted (written into
 * the ring) until the last of them is released or its owner is gone.
 */

static void
feed_cache_reset(feed_cache_hdr_t *h)
{
    uint64_t            i;
    feed_cache_pin_t   *pin;
    feed_cache_slot_t  *s;

    s = feed_cache_slots(h);

    for (i = 0; i < h->nslots; i++) {
        s[i].hash = 0;
        s[i].off = FEED_CACHE_EMPTY;
    }

    pin = feed_cache_pins(h);

    for (i = 0; i < h->npins; i++) {
        if (pin[i].off != FEED_CACHE_EMPTY) {
            pin[i].orphan = 1;
            h->draining = 1;
        }
    }

    h->head = 0;
    h->tail = 0;
    h->used = 0;
    h->entries = 0;
    h->stats.objects = 0;
    h->stats.bytes = 0;
    h->stats.corruptions++;
}


static feed_cache_slot_t *
feed_cache_slots(feed_cache_hdr_t *h)
{
    return (feed_cache_slot_t *) ((unsigned char *) h + h->index);
}


static feed_cache_pin_t *
feed_cache_pins(feed_cache_hdr_t *h)
{
    return (feed_cache_pin_t *) ((unsigned char *) h + h->pins);
}


static int
feed_cache_alive(uint64_t owner)
{
    if (kill((pid_t) owner, 0) == 0) {
        return 1;
    }

    return errno != ESRCH;
}


static int
feed_cache_pin_live(feed_cache_hdr_t *h, feed_cache_pin_t *pin, uint64_t now)
{
    if (pin->owner == 0) {
        return !(now > pin->time && now - pin->time > h->pin_timeout);
    }

    return feed_cache_alive(pin->owner);
}


/*
 * Whether a record (a hit being sent, or a reservation being filled) has
 * a live pin.  Pins whose owners are gone are dropped, and the record
 * may go.  This scans the pin table, but only when the tail reaches a
 * pinned record, which is rare.
 */

static int
feed_cache_pinned(feed_cache_hdr_t *h, feed_cache_rec_t *r, uint64_t off,
    uint64_t now)
{
    uint64_t           i;
    feed_cache_pin_t  *pin;

    if (r->refs == 0) {
        return 0;
    }

    pin = feed_cache_pins(h);

    for (i = 0; i < h->npins; i++) {
        if (pin[i].off == off && pin[i].id == r->id && !pin[i].orphan
            && feed_cache_pin_live(h, &pin[i], now))
        {
            return 1;
        }
    }

    for (i = 0; i < h->npins; i++) {
        if (pin[i].off == off && pin[i].id == r->id && !pin[i].orphan) {
            pin[i].off = FEED_CACHE_EMPTY;
        }
    }

    r->refs = 0;
    h->stats.reclaims++;

    return 0;
}


/* the record at a ring offset, if it is a well-formed one */

static feed_cache_rec_t *
feed_cache_rec(feed_cache_hdr_t *h, uint64_t off)
{
    feed_cache_rec_t  *r;

    if (off % FEED_CACHE_ALIGN != 0
        || off > h->ring_size - sizeof(feed_cache_rec_t))
    {
        return NULL;
    }

    r = (feed_cache_rec_t *) ((unsigned char *) h + h->ring + off);

    if (r->magic != FEED_CACHE_REC_MAGIC) {
        return NULL;
    }

    if (r->type == FEED_CACHE_PAD) {
        return (r->total == h->ring_size - off) ? r : NULL;
    }

    if (r->type < FEED_CACHE_WRITING || r->type > FEED_CACHE_DEAD
        || r->key_len == 0 || r->key_len > FEED_CACHE_KEY_MAX
        || r->len > h->max_object
        || r->total != feed_cache_align(sizeof(feed_cache_rec_t)
                                        + r->key_len + r->len)
        || r->total > h->ring_size - off)
    {
        return NULL;
    }

    return r;
}


static feed_cache_rec_t *
feed_cache_ref_rec(feed_cache_hdr_t *h, const feed_cache_ref_t *ref)
{
    feed_cache_rec_t  *r;

    if (ref->rec < h->ring) {
        return NULL;
    }

    r = feed_cache_rec(h, ref->rec - h->ring);

    if (r == NULL || r->type == FEED_CACHE_PAD || r->id != ref->id) {
        return NULL;
    }

    return r;
}


/*
 * Index: linear probing keyed by the hash, confirmed by the key bytes
 * kept in the record; deletion shifts the cluster back, so there are no
 * tombstones to clean up.  FEED_ERROR means a corrupt slot.
 */

static int
feed_cache_find(feed_cache_hdr_t *h, uint64_t hash, const void *key,
    size_t key_len, uint64_t *slot)
{
    uint64_t            i, n, mask;
    feed_cache_rec_t   *r;
    feed_cache_slot_t  *s;

    s = feed_cache_slots(h);
    mask = h->nslots - 1;

    for (i = hash & mask, n = 0; n < h->nslots; i = (i + 1) & mask, n++) {

        if (s[i].off == FEED_CACHE_EMPTY) {
            return FEED_DECLINED;
        }

        if (s[i].hash != hash) {
            continue;
        }

        r = feed_cache_rec(h, s[i].off);

        if (r == NULL || r->hash != hash
            || (r->type != FEED_CACHE_WRITING && r->type != FEED_CACHE_VALID))
        {
            return FEED_ERROR;
        }

        if (r->key_len == key_len
            && memcmp(r + 1, key, key_len) == 0)
        {
            *slot = i;
            return FEED_OK;
        }
    }

    return FEED_DECLINED;
}


static int
feed_cache_slot_of(feed_cache_hdr_t *h, uint64_t hash, uint64_t off,
    uint64_t *slot)
{
    uint64_t            i, n, mask;
    feed_cache_slot_t  *s;

    s = feed_cache_slots(h);
    mask = h->nslots - 1;

    for (i = hash & mask, n = 0; n < h->nslots; i = (i + 1) & mask, n++) {

        if (s[i].off == FEED_CACHE_EMPTY) {
            break;
        }

        if (s[i].off == off && s[i].hash == hash) {
            *slot = i;
            return FEED_OK;
        }
    }

    return FEED_ERROR;
}


static int
feed_cache_insert(feed_cache_hdr_t *h, uint64_t hash, uint64_t off)
{
    uint64_t            i, n, mask;
    feed_cache_slot_t  *s;

    s = feed_cache_slots(h);
    mask = h->nslots - 1;

    for (i = hash & mask, n = 0; n < h->nslots; i = (i + 1) & mask, n++) {

        if (s[i].off == FEED_CACHE_EMPTY) {
            s[i].hash = hash;
            s[i].off = off;
            h->entries++;
            return FEED_OK;
        }
    }

    return FEED_ERROR;
}


static void
feed_cache_remove(feed_cache_hdr_t *h, uint64_t i)
{
    uint64_t            j, k, n, mask;
    feed_cache_slot_t  *s;

    s = feed_cache_slots(h);
    mask = h->nslots - 1;

    for (j = (i + 1) & mask, n = 0;
         s[j].off != FEED_CACHE_EMPTY && n < h->nslots;
         j = (j + 1) & mask, n++)
    {
        /* the entry at j may move to i if its home is not in (i, j] */

        k = s[j].hash & mask;

        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            s[i] = s[j];
            i = j;
        }
    }

    s[i].hash = 0;
    s[i].off = FEED_CACHE_EMPTY;
    h->entries--;
}


static int
feed_cache_unindex(feed_cache_hdr_t *h, feed_cache_rec_t *r, uint64_t off)
{
    uint64_t  i;

    if (feed_cache_slot_of(h, r->hash, off, &i) != FEED_OK) {
        return FEED_ERROR;
    }

    feed_cache_remove(h, i);

    if (r->type == FEED_CACHE_VALID) {
        h->stats.objects--;
        h->stats.bytes -= r->len;
    }

    r->type = FEED_CACHE_DEAD;

    return FEED_OK;
}


/*
 * The sketch: FEED_CACHE_ROWS rows of "width" 4-bit counters, 16 to a
 * 64-bit word, incremented conservatively (only the smallest ones), so
 * that collisions inflate estimates less.  The doorkeeper absorbs the
 * first occurrence of a key, which is most keys in a feed's long tail.
 */

static void
feed_cache_count(feed_cache_hdr_t *h, uint64_t hash)
{
    uint64_t   i, bit, b1, b2, c, min, idx[FEED_CACHE_ROWS], *w, *door;

    door = (uint64_t *) ((unsigned char *) h + h->door);
    w = (uint64_t *) ((unsigned char *) h + h->sketch);

    if (++h->counted >= h->sample) {
        h->counted = 0;

        for (i = 0; i < FEED_CACHE_ROWS * h->width / 16; i++) {
            w[i] = (w[i] >> 1) & 0x7777777777777777ULL;
        }

        /*
         * The doorkeeper outlives a halving: a clip's segment asked for
         * again a little more than a window later is still known.
         */

        if (++h->halvings % FEED_CACHE_DOOR_AGE == 0) {
            memset(door, 0, h->door_bits / 8);
        }
    }

    bit = feed_mix64(hash ^ 0x9e3779b97f4a7c15ULL);
    b1 = bit & (h->door_bits - 1);
    b2 = (bit >> 32) & (h->door_bits - 1);

    if ((door[b1 / 64] & ((uint64_t) 1 << (b1 % 64))) == 0
        || (door[b2 / 64] & ((uint64_t) 1 << (b2 % 64))) == 0)
    {
        door[b1 / 64] |= (uint64_t) 1 << (b1 % 64);
        door[b2 / 64] |= (uint64_t) 1 << (b2 % 64);
        return;
    }

    min = 15;

    for (i = 0; i < FEED_CACHE_ROWS; i++) {
        idx[i] = i * h->width
                 + (feed_mix64(hash + i * 0x9e3779b97f4a7c15ULL)
                    & (h->width - 1));
        c = (w[idx[i] / 16] >> (idx[i] % 16 * 4)) & 15;

        if (c < min) {
            min = c;
        }
    }

    if (min == 15) {
        return;
    }

    for (i = 0; i < FEED_CACHE_ROWS; i++) {
        c = (w[idx[i] / 16] >> (idx[i] % 16 * 4)) & 15;

        if (c == min) {
            w[idx[i] / 16] += (uint64_t) 1 << (idx[i] % 16 * 4);
        }
    }
}


static uint64_t
feed_cache_estimate(feed_cache_hdr_t *h, uint64_t hash)
{
    uint64_t   i, bit, b1, b2, c, min, idx, *w, *door;

    door = (uint64_t *) ((unsigned char *) h + h->door);
    w = (uint64_t *) ((unsigned char *) h + h->sketch);

    bit = feed_mix64(hash ^ 0x9e3779b97f4a7c15ULL);
    b1 = bit & (h->door_bits - 1);
    b2 = (bit >> 32) & (h->door_bits - 1);

    if ((door[b1 / 64] & ((uint64_t) 1 << (b1 % 64))) == 0
        || (door[b2 / 64] & ((uint64_t) 1 << (b2 % 64))) == 0)
    {
        return 0;
    }

    min = 15;

    for (i = 0; i < FEED_CACHE_ROWS; i++) {
        idx = i * h->width
              + (feed_mix64(hash + i * 0x9e3779b97f4a7c15ULL)
                 & (h->width - 1));
        c = (w[idx / 16] >> (idx % 16 * 4)) & 15;

        if (c < min) {
            min = c;
        }
    }

    return min + 1;
}


/*
 * The ghost: one 32-bit fingerprint a slot, direct mapped, of keys
 * recently refused by admission (tagged) or evicted (untagged).  A miss
 * on a refused key is an admission the filter should have let in; a
 * miss on an evicted key is one the filter should have kept out.  Each
 * moves the admission's lenience by one step, so the filter relaxes
 * where the cache is large enough for recency to win (as LRU does) and
 * stays strict where frequency does.
 */

static void
feed_cache_ghost_add(feed_cache_hdr_t *h, uint64_t hash, uint32_t tag)
{
    uint32_t  *g;

    g = (uint32_t *) ((unsigned char *) h + h->ghost);

    g[(hash >> 7) & (h->nghosts - 1)] =
                    ((uint32_t) (hash >> 32) & ~FEED_CACHE_GHOST_REJECT) | tag;
}


static void
feed_cache_ghost_check(feed_cache_hdr_t *h, uint64_t hash)
{
    uint32_t  *g, fp;

    g = (uint32_t *) ((unsigned char *) h + h->ghost)
        + ((hash >> 7) & (h->nghosts - 1));
    fp = (uint32_t) (hash >> 32) & ~FEED_CACHE_GHOST_REJECT;

    if (*g == 0 || (*g & ~FEED_CACHE_GHOST_REJECT) != fp) {
        return;
    }

    if (*g & FEED_CACHE_GHOST_REJECT) {
        if (h->lenience < FEED_CACHE_LENIENCE) {
            h->lenience++;
        }

    } else if (h->lenience > 0) {
        h->lenience--;
    }

    *g = 0;
}


static int
feed_cache_movable(feed_cache_hdr_t *h, feed_cache_rec_t *r,
    uint64_t budget)
{
    return r->type == FEED_CACHE_VALID && r->refs == 0 && r->hits > 0
           && r->total <= h->move_max && r->total <= budget;
}


/*
 * Whether a new object of "need" bytes beats the records that making
 * room for it would evict.  The walk follows the tail as the eviction
 * would, approximately (padding is ignored), and stops at the first
 * pinned record: the reservation would fail there anyway.
 *
 * The test is by frequency per byte, since the object hit ratio is what
 * counts: the newcomer's estimate over its size against the sum of the
 * victims' estimates over the bytes they free, the latter discounted by
 * the lenience the ghost has learnt.
 */

static int
feed_cache_admissible(feed_cache_hdr_t *h, uint64_t hash, uint64_t need,
    uint64_t now)
{
    uint64_t           gap, freed, off, n, budget, freq, walked, entries,
                       vfreq, vbytes, est;
    feed_cache_rec_t  *r;

    feed_cache_ghost_check(h, hash);

    if (h->used == 0) {
        return FEED_OK;
    }

    if (h->head > h->tail) {
        gap = (h->ring_size - h->head >= need) ? need : h->tail;

    } else {
        gap = h->head < h->tail ? h->tail - h->head : 0;
    }

    if (gap >= need && h->entries < h->max_entries) {
        return FEED_OK;
    }

    if (h->admit_all) {
        return FEED_OK;
    }

    /*
     * A key seen before in this window is let in: in a feed that churns,
     * most keys that come back are rising, and refusing them until they
     * outscore the tail cost far more (in the simulator) than the few
     * cold records they displace.  Only first sightings must beat the
     * records they would evict.  But a key seen only twice may not
     * displace a record asked for more often and again and again (scan
     * resistance): "seen once before" can be a doorkeeper's false
     * positive, and a stream of one-off keys makes a few of those.
     */

    freq = feed_cache_estimate(h, hash);

    budget = need * h->move_budget;
    entries = h->entries;
    freed = 0;
    walked = 0;
    vfreq = 0;
    vbytes = 0;
    off = h->tail;

    for (n = 0;
         n < FEED_CACHE_VICTIMS && walked < h->used
         && (gap + freed < need || entries >= h->max_entries);
         n++)
    {
        r = feed_cache_rec(h, off);
        if (r == NULL) {
            return FEED_ERROR;
        }

        walked += r->total;

        if (r->type == FEED_CACHE_PAD) {
            off = 0;
            continue;
        }

        if (feed_cache_pinned(h, r, off, now)) {
            return FEED_DECLINED;
        }

        if (feed_cache_movable(h, r, budget)) {
            budget -= r->total;

        } else {
            if (r->type == FEED_CACHE_VALID) {
                est = feed_cache_estimate(h, r->hash);

                if (est >= FEED_CACHE_HOT && est > freq && freq <= 2) {
                    feed_cache_ghost_add(h, hash, FEED_CACHE_GHOST_REJECT);
                    return FEED_DECLINED;
                }

                vfreq += est;
            }

            if (r->type != FEED_CACHE_DEAD) {
                entries--;
            }

            freed += r->total;
            vbytes += r->total;
        }

        off += r->total;
        if (off == h->ring_size) {
            off = 0;
        }
    }

    /* (sizes are below 2^40 and estimates at most 16: no overflow) */

    if (vbytes > 0 && freq < 2
        && freq * FEED_CACHE_LENIENCE * vbytes
           < vfreq * need * (FEED_CACHE_LENIENCE - h->lenience))
    {
        feed_cache_ghost_add(h, hash, FEED_CACHE_GHOST_REJECT);
        return FEED_DECLINED;
    }

    return FEED_OK;
}


/* reclaims the record at the tail: FEED_OK, FEED_DECLINED or FEED_ERROR */

static int
feed_cache_evict(feed_cache_hdr_t *h, int protect, uint64_t now,
    uint64_t *budget)
{
    uint64_t           i, off, est;
    unsigned char     *ring;
    feed_cache_rec_t  *r;

    off = h->tail;

    r = feed_cache_rec(h, off);
    if (r == NULL || r->total > h->used) {
        return FEED_ERROR;
    }

    ring = (unsigned char *) h + h->ring;

    switch (r->type) {

    case FEED_CACHE_PAD:
        break;

    case FEED_CACHE_WRITING:
        if (feed_cache_pinned(h, r, off, now)) {
            return FEED_DECLINED;
        }

        if (feed_cache_unindex(h, r, off) != FEED_OK) {
            return FEED_ERROR;
        }

        break;

    case FEED_CACHE_DEAD:
        if (feed_cache_pinned(h, r, off, now)) {
            return FEED_DECLINED;
        }

        break;

    default: /* FEED_CACHE_VALID */

        if (feed_cache_pinned(h, r, off, now)) {
            return FEED_DECLINED;
        }

        if (h->head <= h->tail && feed_cache_movable(h, r, *budget)) {

            /* the second chance: the gap lies below the tail */

            if (feed_cache_slot_of(h, r->hash, off, &i) != FEED_OK) {
                return FEED_ERROR;
            }

            memmove(ring + h->head, r, r->total);
            r = (feed_cache_rec_t *) (ring + h->head);
            r->hits = 0;
            r->id = ++h->seq;
            feed_cache_slots(h)[i].off = h->head;

            *budget -= r->total;
            h->stats.moves++;

            h->head += r->total;
            if (h->head == h->ring_size) {
                h->head = 0;
            }

            h->tail += r->total;
            if (h->tail == h->ring_size) {
                h->tail = 0;
            }

            return FEED_OK;
        }

        /*
         * Scan resistance, kept here too: the admission's walk only
         * approximates this eviction (padding, the move's condition), and
         * a newcomer seen at most twice (its estimate: "protect") must
         * never displace what is asked for more often and again and
         * again.
         */

        est = feed_cache_estimate(h, r->hash);

        if (est >= FEED_CACHE_HOT && est > (uint64_t) protect
            && protect <= 2)
        {
            return FEED_DECLINED;
        }

        if (feed_cache_unindex(h, r, off) != FEED_OK) {
            return FEED_ERROR;
        }

        feed_cache_ghost_add(h, r->hash, 0);
        h->stats.evictions++;
        break;
    }

    h->used -= r->total;
    h->tail += r->total;

    if (h->tail == h->ring_size) {
        h->tail = 0;
    }

    if (h->used == 0) {
        h->head = 0;
        h->tail = 0;
    }

    return FEED_OK;
}


/* finds "need" contiguous bytes at the head, evicting from the tail */

static int
feed_cache_reserve(feed_cache_hdr_t *h, uint64_t need, int protect,
    uint64_t now, uint64_t *off)
{
    int                rc;
    uint64_t           n, limit, budget;
    feed_cache_rec_t  *r;

    budget = need * h->move_budget;
    limit = 2 * (h->ring_size / FEED_CACHE_ALIGN) + 4;

    for (n = 0; n < limit; n++) {

        if (h->used == 0) {
            h->head = 0;
            h->tail = 0;
        }

        if (h->entries < h->max_entries) {

            if (h->head > h->tail || h->used == 0) {

                if (h->ring_size - h->head >= need) {
                    goto found;
                }

                /* the end of the ring is too short: pad it and wrap */

                r = (feed_cache_rec_t *) ((unsigned char *) h + h->ring
                                          + h->head);
                memset(r, 0, sizeof(feed_cache_rec_t));
                r->magic = FEED_CACHE_REC_MAGIC;
                r->type = FEED_CACHE_PAD;
                r->total = h->ring_size - h->head;

                h->used += r->total;
                h->head = 0;
                continue;
            }

            if (h->head < h->tail && h->tail - h->head >= need) {
                goto found;
            }
        }

        rc = feed_cache_evict(h, protect, now, &budget);
        if (rc != FEED_OK) {
            return rc;
        }
    }

    return FEED_DECLINED;

found:

    *off = h->head;
    h->head += need;
    h->used += need;

    if (h->head == h->ring_size) {
        h->head = 0;
    }

    return FEED_OK;
}


int
feed_cache_check(void *region, size_t size)
{
    uint64_t            i, off, left, n, objects, bytes, entries;
    feed_cache_hdr_t    *h, geo;
    feed_cache_rec_t    *r;
    feed_cache_pin_t    *pin;
    feed_cache_slot_t   *s;
    feed_cache_params_t  p;

    h = feed_cache_hdr(region);

    if (h == NULL || h->size != size) {
        return FEED_ERROR;
    }

    /* the geometry must be the one these sizes give */

    memset(&p, 0, sizeof(feed_cache_params_t));
    p.objects = h->max_entries;
    p.sketch_width = h->width;
    p.sample = h->sample;
    p.pins = h->npins;
    p.pin_timeout = h->pin_timeout;
    p.move_max_pct = (uint32_t) (h->move_max / (h->ring_size / 100));
    p.move_budget = (uint32_t) h->move_budget;
    p.admit_all = (uint32_t) h->admit_all;

    memset(&geo, 0, sizeof(feed_cache_hdr_t));

    if (feed_cache_layout(&geo, size, h->max_object, &p) != FEED_OK
        || geo.ring != h->ring || geo.ring_size != h->ring_size
        || geo.nslots != h->nslots || geo.index != h->index
        || geo.door != h->door || geo.sketch != h->sketch
        || geo.ghost != h->ghost || geo.nghosts != h->nghosts
        || geo.pins != h->pins)
    {
        return FEED_ERROR;
    }

    if (h->head >= h->ring_size || h->tail >= h->ring_size
        || h->used > h->ring_size || h->entries > h->max_entries
        || h->lenience > FEED_CACHE_LENIENCE)
    {
        return FEED_ERROR;
    }

    /* every record from the tail to the head, then every index slot */

    off = h->tail;
    left = h->used;
    objects = 0;
    bytes = 0;
    entries = 0;

    for (n = 0; left > 0; n++) {
        r = feed_cache_rec(h, off);

        if (r == NULL || r->total > left || n > h->ring_size) {
            return FEED_ERROR;
        }

        if (r->type == FEED_CACHE_VALID) {
            objects++;
            bytes += r->len;
        }

        if (r->type == FEED_CACHE_VALID || r->type == FEED_CACHE_WRITING) {
            if (feed_cache_slot_of(h, r->hash, off, &i) != FEED_OK) {
                return FEED_ERROR;
            }
        }

        left -= r->total;
        off += r->total;

        if (off == h->ring_size) {
            off = 0;
        }
    }

    if (off != h->head && h->used != 0) {
        return FEED_ERROR;
    }

    s = feed_cache_slots(h);

    for (i = 0; i < h->nslots; i++) {
        if (s[i].off == FEED_CACHE_EMPTY) {
            continue;
        }

        r = feed_cache_rec(h, s[i].off);

        if (r == NULL || r->hash != s[i].hash
            || (r->type != FEED_CACHE_VALID && r->type != FEED_CACHE_WRITING))
        {
            return FEED_ERROR;
        }

        entries++;
    }

    pin = feed_cache_pins(h);

    for (i = 0; i < h->npins; i++) {
        if (pin[i].off == FEED_CACHE_EMPTY || pin[i].orphan) {
            continue;
        }

        r = feed_cache_rec(h, pin[i].off);

        if (r == NULL || r->id != pin[i].id || r->refs == 0) {
            return FEED_ERROR;
        }
    }

    if (entries != h->entries || objects != h->stats.objects
        || bytes != h->stats.bytes)
    {
        return FEED_ERROR;
    }

    return FEED_OK;
}


/* takes a free pin slot; the scan starts where the last one ended */

static int
feed_cache_pin(feed_cache_hdr_t *h, feed_cache_rec_t *r, uint64_t off,
    uint64_t now, uint64_t owner, feed_cache_ref_t *ref)
{
    uint64_t           i, n;
    feed_cache_pin_t  *pin;

    pin = feed_cache_pins(h);

    for (n = 0, i = h->pin_next % h->npins; n < h->npins;
         n++, i = (i + 1) % h->npins)
    {
        if (pin[i].off == FEED_CACHE_EMPTY) {
            pin[i].off = off;
            pin[i].id = r->id;
            pin[i].time = now;
            pin[i].owner = (uint32_t) owner;
            pin[i].orphan = 0;
            h->pin_next = i + 1;

            r->refs++;
            ref->pin = i;

            return FEED_OK;
        }
    }

    return FEED_DECLINED;
}


/* whether the pins taken before the last reset are all gone */

static int
feed_cache_drained(feed_cache_hdr_t *h, uint64_t now)
{
    uint64_t           i;
    feed_cache_pin_t  *pin;

    if (!h->draining) {
        return 1;
    }

    pin = feed_cache_pins(h);

    for (i = 0; i < h->npins; i++) {
        if (pin[i].off == FEED_CACHE_EMPTY || !pin[i].orphan) {
            continue;
        }

        if (feed_cache_pin_live(h, &pin[i], now)) {
            return 0;
        }

        pin[i].off = FEED_CACHE_EMPTY;
        h->stats.reclaims++;
    }

    h->draining = 0;

    return 1;
}


int
feed_cache_lookup_locked(void *region, const void *key, size_t key_len,
    uint64_t now, uint64_t owner, feed_cache_ref_t *ref)
{
    int                rc;
    uint64_t           hash, i, off;
    feed_cache_hdr_t  *h;
    feed_cache_rec_t  *r;

    h = feed_cache_enter(region);
    if (h == NULL) {
        return FEED_CACHE_CORRUPT;
    }

    rc = FEED_CACHE_MISS;

    if (key_len == 0 || key_len > FEED_CACHE_KEY_MAX) {
        goto done;
    }

    hash = feed_cache_hash(key, key_len);

    feed_cache_count(h, hash);

    switch (feed_cache_find(h, hash, key, key_len, &i)) {

    case FEED_ERROR:
        feed_cache_reset(h);
        h->busy = 0;
        return FEED_CACHE_CORRUPT;

    case FEED_OK:
        off = feed_cache_slots(h)[i].off;
        r = feed_cache_rec(h, off);

        if (r->type == FEED_CACHE_VALID && r->refs < UINT32_MAX
            && feed_cache_pin(h, r, off, now, owner, ref) == FEED_OK)
        {
            if (r->hits < UINT32_MAX) {
                r->hits++;
            }

            ref->rec = h->ring + off;
            ref->id = r->id;
            ref->data = ref->rec + sizeof(feed_cache_rec_t) + r->key_len;
            ref->len = r->len;
            ref->tag = r->tag;

            h->stats.hits++;
            h->stats.bytes_hit += r->len;

            rc = FEED_CACHE_HIT;
            goto done;
        }

        break;

    default:
        break;
    }

done:

    if (rc == FEED_CACHE_MISS) {
        h->stats.misses++;
    }

    h->busy = 0;

    return rc;
}


void
feed_cache_release_locked(void *region, const feed_cache_ref_t *ref)
{
    feed_cache_pin_t  *pin;
    feed_cache_hdr_t  *h;
    feed_cache_rec_t  *r;

    h = feed_cache_enter(region);
    if (h == NULL) {
        return;
    }

    /* a pin reclaimed from a dead owner is simply gone */

    pin = feed_cache_ref_pin(h, ref);

    if (pin == NULL) {
        goto done;
    }

    pin->off = FEED_CACHE_EMPTY;

    if (pin->orphan) {
        goto done;
    }

    r = feed_cache_ref_rec(h, ref);

    if (r != NULL && r->refs > 0) {
        r->refs--;
    }

done:

    h->busy = 0;
}


/*
 * A reservation for a new object: FEED_CACHE_ADMIT with "ref" naming
 * where its data goes, to be filled without the lock and then committed
 * or aborted.  The reservation holds a pin, so that nothing reclaims it
 * while its owner lives.
 */

int
feed_cache_admit_locked(void *region, const void *key, size_t key_len,
    size_t size, uint64_t tag, uint64_t now, uint64_t owner,
    feed_cache_ref_t *ref)
{
    int                rc;
    feed_cache_hdr_t  *h;

    h = feed_cache_enter(region);
    if (h == NULL) {
        return FEED_CACHE_CORRUPT;
    }

    rc = feed_cache_admit(h, key, key_len, size, tag, now, owner, ref);

    h->busy = 0;

    return rc;
}


/*
 * The same for an object nobody asked for yet but somebody is about to
 * (the first segments of clips in a feed): the request to come is
 * counted now, as a lookup would count it, so the admission filter
 * weighs the prediction like a request.
 */

int
feed_cache_warm_locked(void *region, const void *key, size_t key_len,
    size_t size, uint64_t tag, uint64_t now, uint64_t owner,
    feed_cache_ref_t *ref)
{
    int                rc;
    feed_cache_hdr_t  *h;

    h = feed_cache_enter(region);
    if (h == NULL) {
        return FEED_CACHE_CORRUPT;
    }

    if (key_len > 0 && key_len <= FEED_CACHE_KEY_MAX) {
        feed_cache_count(h, feed_cache_hash(key, key_len));
    }

    rc = feed_cache_admit(h, key, key_len, size, tag, now, owner, ref);

    h->busy = 0;

    return rc;
}


static int
feed_cache_admit(feed_cache_hdr_t *h, const void *key, size_t key_len,
    size_t size, uint64_t tag, uint64_t now, uint64_t owner,
    feed_cache_ref_t *ref)
{
    int                rc;
    uint64_t           hash, need, i, off;
    feed_cache_pin_t  *pin;
    feed_cache_rec_t  *r;

    if (size > h->max_object || key_len == 0
        || key_len > FEED_CACHE_KEY_MAX)
    {
        h->stats.bypasses++;
        return FEED_CACHE_BYPASS;
    }

    hash = feed_cache_hash(key, key_len);
    need = feed_cache_align(sizeof(feed_cache_rec_t) + key_len + size);

    rc = feed_cache_find(h, hash, key, key_len, &i);

    if (rc == FEED_ERROR) {
        goto corrupt;
    }

    if (rc == FEED_OK) {
        off = feed_cache_slots(h)[i].off;
        r = feed_cache_rec(h, off);

        if (r->type == FEED_CACHE_VALID) {
            return FEED_CACHE_PRESENT;
        }

        /* another process is filling it */

        if (feed_cache_pinned(h, r, off, now)) {
            return FEED_CACHE_FILLING;
        }

        if (feed_cache_unindex(h, r, off) != FEED_OK) {
            goto corrupt;
        }
    }

    if (!feed_cache_drained(h, now)) {
        h->stats.draining++;
        return FEED_CACHE_NOSPACE;
    }

    /* the reservation's pin, before anything is evicted for it */

    pin = feed_cache_pins(h);

    for (i = 0; i < h->npins; i++) {
        if (pin[(h->pin_next + i) % h->npins].off == FEED_CACHE_EMPTY) {
            break;
        }
    }

    if (i == h->npins) {
        h->stats.nospace++;
        return FEED_CACHE_NOSPACE;
    }

    rc = feed_cache_admissible(h, hash, need, now);

    if (rc == FEED_ERROR) {
        goto corrupt;
    }

    if (rc == FEED_DECLINED) {
        h->stats.rejects++;
        return FEED_CACHE_REJECT;
    }

    rc = feed_cache_reserve(h, need,
                            h->admit_all ? INT_MAX
                                         : (int) feed_cache_estimate(h, hash),
                            now, &off);

    if (rc == FEED_ERROR) {
        goto corrupt;
    }

    if (rc == FEED_DECLINED) {
        h->stats.nospace++;
        return FEED_CACHE_NOSPACE;
    }

    r = (feed_cache_rec_t *) ((unsigned char *) h + h->ring + off);

    memset(r, 0, sizeof(feed_cache_rec_t));
    r->magic = FEED_CACHE_REC_MAGIC;
    r->type = FEED_CACHE_WRITING;
    r->key_len = (uint16_t) key_len;
    r->total = need;
    r->len = size;
    r->hash = hash;
    r->id = ++h->seq;
    r->time = now;
    r->tag = tag;
    memcpy(r + 1, key, key_len);

    if (feed_cache_insert(h, hash, off) != FEED_OK) {
        goto corrupt;
    }

    if (feed_cache_pin(h, r, off, now, owner, ref) != FEED_OK) {
        goto corrupt;
    }

    ref->rec = h->ring + off;
    ref->id = r->id;
    ref->data = ref->rec + sizeof(feed_cache_rec_t) + key_len;
    ref->len = size;
    ref->tag = tag;

    h->stats.admissions++;

    return FEED_CACHE_ADMIT;

corrupt:

    feed_cache_reset(h);

    return FEED_CACHE_CORRUPT;
}


/* the reservation's pin, if it is still the one "ref" was given */

static feed_cache_pin_t *
feed_cache_ref_pin(feed_cache_hdr_t *h, const feed_cache_ref_t *ref)
{
    feed_cache_pin_t  *pin;

    if (ref->pin >= h->npins || ref->rec < h->ring) {
        return NULL;
    }

    pin = &feed_cache_pins(h)[ref->pin];

    if (pin->off != ref->rec - h->ring || pin->id != ref->id) {
        return NULL;
    }

    return pin;
}


int
feed_cache_commit_locked(void *region, const feed_cache_ref_t *ref)
{
    int                rc;
    feed_cache_pin_t  *pin;
    feed_cache_hdr_t  *h;
    feed_cache_rec_t  *r;

    h = feed_cache_enter(region);
    if (h == NULL) {
        return FEED_ERROR;
    }

    rc = FEED_ERROR;

    /* a reservation reclaimed or orphaned is not published */

    pin = feed_cache_ref_pin(h, ref);

    if (pin == NULL) {
        goto done;
    }

    pin->off = FEED_CACHE_EMPTY;

    if (pin->orphan) {
        goto done;
    }

    r = feed_cache_ref_rec(h, ref);

    if (r == NULL || r->type != FEED_CACHE_WRITING) {
        goto done;
    }

    if (r->refs > 0) {
        r->refs--;
    }

    r->type = FEED_CACHE_VALID;

    h->stats.objects++;
    h->stats.bytes += r->len;

    rc = FEED_OK;

done:

    h->busy = 0;

    return rc;
}


void
feed_cache_abort_locked(void *region, const feed_cache_ref_t *ref)
{
    feed_cache_pin_t  *pin;
    feed_cache_hdr_t  *h;
    feed_cache_rec_t  *r;

    h = feed_cache_enter(region);
    if (h == NULL) {
        return;
    }

    pin = feed_cache_ref_pin(h, ref);

    if (pin == NULL) {
        goto done;
    }

    pin->off = FEED_CACHE_EMPTY;

    if (pin->orphan) {
        goto done;
    }

    r = feed_cache_ref_rec(h, ref);

    if (r == NULL || r->type != FEED_CACHE_WRITING) {
        goto done;
    }

    r->refs = 0;

    if (feed_cache_unindex(h, r, ref->rec - h->ring) != FEED_OK) {
        feed_cache_reset(h);
    }

done:

    h->busy = 0;
}


/* drops the pins of processes that are gone; returns how many */

uint64_t
feed_cache_reap_locked(void *region)
{
    uint64_t           i, n;
    feed_cache_pin_t  *pin;
    feed_cache_hdr_t  *h;
    feed_cache_rec_t  *r;

    h = feed_cache_enter(region);
    if (h == NULL) {
        return 0;
    }

    pin = feed_cache_pins(h);
    n = 0;

    for (i = 0; i < h->npins; i++) {
        if (pin[i].off == FEED_CACHE_EMPTY || pin[i].owner == 0
            || feed_cache_alive(pin[i].owner))
        {
            continue;
        }

        if (!pin[i].orphan) {
            r = feed_cache_rec(h, pin[i].off);

            if (r != NULL && r->type != FEED_CACHE_PAD && r->id == pin[i].id
                && r->refs > 0)
            {
                r->refs--;
            }
        }

        pin[i].off = FEED_CACHE_EMPTY;
        n++;
    }

    h->stats.reclaims += n;

    (void) feed_cache_drained(h, 0);

    h->busy = 0;

    return n;
}


/* whether a key is in the cache (valid or being filled); counts nothing */

int
feed_cache_present_locked(void *region, const void *key, size_t key_len)
{
    int                rc;
    uint64_t           i;
    feed_cache_hdr_t  *h;

    h = feed_cache_hdr(region);

    if (h == NULL || h->busy || key_len == 0
        || key_len > FEED_CACHE_KEY_MAX)
    {
        return 0;
    }

    rc = feed_cache_find(h, feed_cache_hash(key, key_len), key, key_len,
                         &i);

    return rc == FEED_OK;
}


/* forgets every object, as after a crash, but counts no corruption */

void
feed_cache_purge_locked(void *region)
{
    feed_cache_hdr_t  *h;

    h = feed_cache_enter(region);
    if (h == NULL) {
        return;
    }

    feed_cache_reset(h);
    h->stats.corruptions--;

    h->busy = 0;
}


void
feed_cache_stats_locked(void *region, feed_cache_stats_t *st)
{
    feed_cache_hdr_t  *h;

    h = feed_cache_hdr(region);

    if (h == NULL) {
        memset(st, 0, sizeof(feed_cache_stats_t));
        return;
    }

    *st = h->stats;
}
