
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_STATE_H_INCLUDED_
#define _FEED_STATE_H_INCLUDED_


/*
 * The state of a short-video feed in one contiguous memory region: a
 * record per viewer (found by a random 16-byte id, evicted least recently
 * seen first), counters per clip and per sound (found by a 64-bit hash,
 * never evicted).  The region may be mapped at different addresses in
 * different processes, so it holds offsets and record numbers only;
 * nothing here allocates.
 *
 * Layout: a header, then for viewers, clips and sounds in turn an
 * open-addressing index (two 8-byte slots per record, linear probing,
 * backward-shift deletion, no tombstones) and a record array.  The
 * records of a table in use are always numbers 0 .. n-1: clips and
 * sounds are never deleted, and an evicted viewer's record is reused at
 * once.  The viewers' LRU list is kept as record numbers in the records.
 *
 * The functions named _locked must be called under one lock per region
 * (the zone's mutex in nginx).  A record they return may be read and
 * changed by the caller until the lock is released, with the feed_viewer_
 * and feed_clip_ helpers below or directly; after that another process
 * may evict and reuse it.
 *
 * Each _locked operation marks the table it changes busy.  An operation
 * that finds a table busy knows that a process died inside one (nginx
 * then force-unlocks the zone): that table is emptied, the others are
 * kept.  A record changed by a caller who dies halfway is only ever half
 * updated, never invalid: every helper accepts any bytes in a record.
 * Everything read from the region is checked before use, and a table
 * found inconsistent is emptied too: a damaged region never crashes the
 * process that maps it.  stats.resets counts both.
 */

#include "feed_core.h"


#define FEED_STATE_DIM          32     /* interest dimensions kept */
#define FEED_STATE_SEEN_BITS    4096   /* bits per seen generation */
#define FEED_STATE_SEEN_K       3      /* bits per clip */
#define FEED_STATE_SEEN_GEN     400    /* clips per generation: the last
                                          401 at least are remembered; a
                                          clip never shown is taken for
                                          seen 11.8% of the time (the
                                          unit test measures it) */
#define FEED_STATE_RECENT       8
#define FEED_STATE_LIKED        8
#define FEED_STATE_FINISHED     4
#define FEED_STATE_REPORTED     64
#define FEED_STATE_WINDOW       (FEED_STATE_REPORTED * 64)  /* positions
                                          whose reports are remembered */

#define FEED_STATE_INTERESTS    4      /* interest vectors at most */
#define FEED_STATE_NEW_TASTE    0.3    /* below this cosine to every
                                          taste, a clip starts a new one */
#define FEED_STATE_LEARN_RATE   0.1    /* step per unit of weight */
#define FEED_STATE_LEARN_MAX    0.5    /* the largest step */
#define FEED_STATE_EMB_MAX      16.0   /* embedding values are clamped */


/*
 * A viewer: 1880 bytes exactly, 8-byte aligned; with its two index
 * slots 1896 bytes (feed_state_viewer_size()).  Offsets in brackets.
 */

typedef struct {
    unsigned char   id[16];          /* [0] the key, first */
    uint32_t        prev;            /* [16] LRU neighbours, record */
    uint32_t        next;            /* [20] numbers; FEED_NONE: none */
    uint32_t        created;         /* [24] unix seconds */
    uint32_t        last_seen;       /* [28] set by every lookup */
    uint32_t        events;          /* [32] new reported impressions */
    uint32_t        page;            /* [36] the caller's impression
                                        counter */
    uint32_t        seen_n;          /* [40] clips in the current seen
                                        generation */
    uint8_t         seen_cur;        /* [44] the current generation */
    uint8_t         recent_pos;      /* [45] ring positions and counts */
    uint8_t         recent_n;
    uint8_t         liked_pos;
    uint8_t         liked_n;         /* [48] */
    uint8_t         reported_pos;
    uint8_t         reported_n;
    uint8_t         finished_pos;    /* [51] ring position, finished */
    float           weight;          /* [52] confidence in the interest
                                        vector, 0 .. 1 */
    float           interest[FEED_STATE_DIM];        /* [56] */
    double          tokens;          /* [184] the rate limit's bucket */
    uint64_t        token_ms;        /* [192] its last refill; 0: full */
    uint32_t        creators[FEED_STATE_RECENT];     /* [200] */
    uint32_t        sounds[FEED_STATE_RECENT];       /* [232] */
    uint64_t        liked[FEED_STATE_LIKED];         /* [264] */
    uint64_t        reported[FEED_STATE_REPORTED];   /* [328] a bitmap
                                        of positions reported */
    uint32_t        finished[FEED_STATE_FINISHED];     /* [840] sounds of
                                        clips watched to the end; 0: none */
    uint64_t        seen[2][FEED_STATE_SEEN_BITS / 64];  /* [856] */
} feed_viewer_t;


/* a clip: 64 bytes; with its two index slots 80 */

typedef struct {
    uint64_t        hash;            /* the key, first */
    uint64_t        watch_ms;        /* total watch time, saturating */
    uint32_t        impressions;     /* saturating counters */
    uint32_t        views;           /* qualified views */
    uint32_t        completions;
    uint32_t        rewatches;
    uint32_t        likes;
    uint32_t        shares;
    uint32_t        skips;           /* fast skips */
    uint32_t        first_seen;      /* unix seconds */
    float           score;           /* trending, see feed_trend_add() */
    uint32_t        score_time;
    uint8_t         stage;           /* exposure stage, the caller's */
    uint8_t         reserved[7];
} feed_clip_stats_t;


/* a sound: 24 bytes; with its two index slots 40 */

typedef struct {
    uint64_t        hash;            /* the key, first */
    float           score;           /* trending */
    uint32_t        score_time;
    uint32_t        uses;            /* saturating */
    uint32_t        first_seen;
} feed_sound_stats_t;


/*
 * Capacities; 0 means derived from the region size: clips get 1/16 of
 * it, sounds 1/64 (at least 64 of each), viewers all the rest.
 */

typedef struct {
    uint32_t        viewers;
    uint32_t        clips;
    uint32_t        sounds;
} feed_state_params_t;


typedef struct {
    uint64_t        viewers;
    uint64_t        viewer_capacity;
    uint64_t        evictions;       /* viewers evicted to make room */
    uint64_t        clips;
    uint64_t        clip_capacity;
    uint64_t        clips_refused;   /* creations refused: table full */
    uint64_t        sounds;
    uint64_t        sound_capacity;
    uint64_t        sounds_refused;
    uint64_t        resets;          /* tables emptied after a crash or
                                        damage */
} feed_state_stats_t;


size_t feed_state_min_size(void);
size_t feed_state_viewer_size(void);

int feed_state_init(void *region, size_t size, const feed_state_params_t *p);
int feed_state_check(void *region, size_t size);
void feed_state_stats_locked(void *region, feed_state_stats_t *st);

uint64_t feed_state_hash(const void *p, size_t len);

/*
 * A viewer by id; the lookup moves it to the LRU head and sets last_seen.
 * NULL when absent and !create, or when the region is unusable; with
 * create a zeroed record is inserted, evicting the least recently seen
 * viewer if the table is full, and *created (if not NULL) says so.
 */

feed_viewer_t *feed_state_viewer_locked(void *region,
    const unsigned char id[16], uint32_t now, int create, int *created);

/*
 * A clip or sound by hash.  With create, an absent one is added with
 * first_seen = now; a full table refuses (NULL, counted in stats): there
 * is no eviction, the capacity must exceed the catalog.
 */

feed_clip_stats_t *feed_state_clip_locked(void *region, uint64_t hash,
    uint32_t now, int create);

/* the same for n clips at once (at most FEED_STATE_BATCH): out[i] */

#define FEED_STATE_BATCH  64

void feed_state_clips_locked(void *region, const uint64_t *hash, uint32_t n,
    uint32_t now, int create, feed_clip_stats_t **out);

feed_sound_stats_t *feed_state_sound_locked(void *region, uint64_t hash,
    uint32_t now, int create);

/*
 * Iteration in record order, for a copy of every clip (or sound) in one
 * pass: *cursor starts at 0; each call copies up to n records into out,
 * advances *cursor and returns how many it copied, 0 at the end.  Records
 * never move, so a pass may go on under a later lock and then also sees
 * what was added meanwhile; after a reset it ends early.
 */

uint32_t feed_state_clip_next_locked(void *region, uint32_t *cursor,
    feed_clip_stats_t *out, uint32_t n);
uint32_t feed_state_sound_next_locked(void *region, uint32_t *cursor,
    feed_sound_stats_t *out, uint32_t n);


/* the viewer's record, under the lock */

void feed_viewer_seen_add(feed_viewer_t *v, uint64_t clip_hash);
int feed_viewer_seen(const feed_viewer_t *v, uint64_t clip_hash);

void feed_viewer_recent_add(feed_viewer_t *v, uint32_t creator_hash,
    uint32_t sound_hash);
unsigned feed_viewer_recent(const feed_viewer_t *v,
    uint32_t creators[FEED_STATE_RECENT], uint32_t sounds[FEED_STATE_RECENT]);

void feed_viewer_liked_add(feed_viewer_t *v, uint64_t clip_hash);
unsigned feed_viewer_liked(const feed_viewer_t *v,
    uint64_t clips[FEED_STATE_LIKED]);
void feed_viewer_finished_add(feed_viewer_t *v, uint32_t sound_hash);
unsigned feed_viewer_finished(const feed_viewer_t *v,
    uint32_t sounds[FEED_STATE_FINISHED]);

void feed_viewer_served(feed_viewer_t *v, uint32_t position);
int feed_viewer_report(feed_viewer_t *v, uint32_t position);
int feed_viewer_allow(feed_viewer_t *v, uint64_t now_ms, double rate_per_s,
    double burst);
unsigned feed_viewer_interests(unsigned dim);
void feed_viewer_learn(feed_viewer_t *v, const float *emb, unsigned dim,
    float weight);


/* counters and trending scores */

void feed_clip_add(uint32_t *counter, uint32_t n);
void feed_clip_watch(feed_clip_stats_t *c, uint64_t ms);

void feed_trend_add(float *score, uint32_t *t, double w, uint32_t now,
    double half_life_s);
double feed_trend_value(float score, uint32_t t, uint32_t now,
    double half_life_s);


#endif /* _FEED_STATE_H_INCLUDED_ */
