
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_CACHE_H_INCLUDED_
#define _FEED_CACHE_H_INCLUDED_


/*
 * A segment cache in one contiguous memory region: a header, an
 * open-addressing index, a TinyLFU admission sketch and a log-structured
 * data ring.  The region may be mapped at different addresses in
 * different processes, so it holds offsets only; nothing here allocates.
 *
 * The functions named _locked must be called under one lock per region
 * (the zone's mutex in nginx).  Bulk data never needs the lock: a hit is
 * pinned until it is released, so the reader copies it unlocked, and an
 * admitted object is reserved, filled unlocked and then committed.
 *
 * Every hit and every reservation holds a pin: a slot of a fixed table
 * that names its owner, a process id.  A pin is dropped only by its
 * owner or once the owner no longer exists (kill(pid, 0) says so), so a
 * live process may hold one as long as it needs; feed_cache_reap_locked()
 * drops every pin of a dead process at once, for a respawned worker to
 * call.  Owner 0 stands for a caller without a process of its own (tests,
 * the simulator): its pins expire pin_timeout after they were taken, in
 * the unit of "now", any monotonic clock the caller likes.  With every
 * pin slot taken, a lookup misses.
 *
 * Each operation marks the region busy while it changes it.  An
 * operation that finds the region busy knows that a process died inside
 * one (nginx then force-unlocks the zone): the ring and the index are
 * emptied, and the pins held at that moment are kept until their owners
 * let go, so that no byte still being sent is written over.  Until then
 * nothing is admitted.
 */

#include "feed_core.h"


#define FEED_CACHE_HIT          0
#define FEED_CACHE_MISS         1
#define FEED_CACHE_ADMIT        2
#define FEED_CACHE_REJECT       3
#define FEED_CACHE_BYPASS       4    /* larger than max_object */
#define FEED_CACHE_NOSPACE      5    /* eviction reached a pinned object */
#define FEED_CACHE_CORRUPT      6    /* the region was found corrupt and
                                        was reformatted */
#define FEED_CACHE_FILLING      7    /* another reservation is filling it */
#define FEED_CACHE_PRESENT      8    /* warm: already there */

#define FEED_CACHE_KEY_MAX      1024


typedef struct {
    uint64_t        objects;         /* index capacity; 0: size / 32 KiB */
    uint64_t        sketch_width;    /* counters per row; 0: 2 * objects */
    uint64_t        sample;          /* lookups between two halvings of
                                        the sketch; 0: 3 * objects */
    uint64_t        pins;            /* pins held at once; 0: size / 64 KiB,
                                        64 to 4096 */
    uint64_t        pin_timeout;     /* pins of owner 0; 0: 60 */
    uint32_t        move_max_pct;    /* second chance only for objects up
                                        to this % of the ring; 0: off */
    uint32_t        move_budget;     /* second chances per reservation, as
                                        a multiple of its size */
    uint32_t        admit_all;       /* no admission filter (benchmarks) */
    uint32_t        reserved;
} feed_cache_params_t;


typedef struct {
    uint64_t        rec;             /* offsets from the region start */
    uint64_t        id;
    uint64_t        data;
    uint64_t        len;
    uint64_t        tag;             /* the caller's, kept with the data */
    uint64_t        pin;
} feed_cache_ref_t;


typedef struct {
    uint64_t        hits;
    uint64_t        misses;
    uint64_t        admissions;
    uint64_t        rejects;
    uint64_t        bypasses;
    uint64_t        nospace;
    uint64_t        evictions;
    uint64_t        moves;           /* second chances */
    uint64_t        reclaims;        /* stale pins and reservations */
    uint64_t        corruptions;     /* resets after damage or a crash */
    uint64_t        draining;        /* admissions refused while pins
                                        from before a reset are held */
    uint64_t        objects;
    uint64_t        bytes;
    uint64_t        bytes_hit;
    uint64_t        capacity;        /* bytes in the ring */
} feed_cache_stats_t;


void feed_cache_default_params(feed_cache_params_t *p);
size_t feed_cache_min_size(void);
size_t feed_cache_meta_size(size_t size, const feed_cache_params_t *p);

int feed_cache_init(void *region, size_t size, size_t max_object,
    const feed_cache_params_t *p);
int feed_cache_check(void *region, size_t size);

int feed_cache_lookup_locked(void *region, const void *key, size_t key_len,
    uint64_t now, uint64_t owner, feed_cache_ref_t *ref);
void feed_cache_release_locked(void *region, const feed_cache_ref_t *ref);

int feed_cache_admit_locked(void *region, const void *key, size_t key_len,
    size_t size, uint64_t tag, uint64_t now, uint64_t owner,
    feed_cache_ref_t *ref);
int feed_cache_warm_locked(void *region, const void *key, size_t key_len,
    size_t size, uint64_t tag, uint64_t now, uint64_t owner,
    feed_cache_ref_t *ref);
int feed_cache_commit_locked(void *region, const feed_cache_ref_t *ref);
void feed_cache_abort_locked(void *region, const feed_cache_ref_t *ref);

int feed_cache_present_locked(void *region, const void *key,
    size_t key_len);
uint64_t feed_cache_reap_locked(void *region);
void feed_cache_purge_locked(void *region);
void feed_cache_stats_locked(void *region, feed_cache_stats_t *st);

uint64_t feed_cache_hash(const void *key, size_t len);


#define feed_cache_data(region, ref)                                          \
    ((unsigned char *) (region) + (ref)->data)


#endif /* _FEED_CACHE_H_INCLUDED_ */
