
/*
 * Copyright (C) the feed module developers
 */


/*
 * The segment cache, seen as its callers see it: lookups, admissions,
 * pins, timeouts and damaged regions.  Object contents are a pattern of
 * the key and a version, so a hit that returns somebody else's bytes, or
 * bytes overwritten while pinned, is caught.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "feed_unit.h"
#include "feed_cache.h"


#define REGION  (256 * 1024)


static uint64_t  rng_state;


static uint64_t
rng(void)
{
    return feed_next64(&rng_state);
}


static void *
make_cache(size_t size, size_t max_object, int admit_all, int move)
{
    void                 *region;
    feed_cache_params_t   p;

    feed_cache_default_params(&p);
    p.objects = 256;
    p.pin_timeout = 10;
    p.admit_all = admit_all;
    p.move_max_pct = move ? 10 : 0;

    region = feed_unit_alloc(size);

    CHECK_INT(feed_cache_init(region, size, max_object, &p), FEED_OK);

    return region;
}


static size_t
key_of(unsigned n, char *buf)
{
    return (size_t) sprintf(buf, "/v/clip-%u/720p/%u.m4s", n / 8, n % 8);
}


static void
fill(unsigned char *p, size_t len, unsigned n, unsigned version)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        p[i] = (unsigned char) (n * 31 + version * 7 + i * 13 + (i >> 8));
    }
}


static int
same(const unsigned char *p, size_t len, unsigned n, unsigned version)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] != (unsigned char) (n * 31 + version * 7 + i * 13
                                     + (i >> 8)))
        {
            return 0;
        }
    }

    return 1;
}


/* admits, fills and commits object n; returns the admission result */

static int
put(void *c, unsigned n, size_t len, uint64_t now)
{
    int               rc;
    char              key[64];
    size_t            klen;
    feed_cache_ref_t  ref;

    klen = key_of(n, key);

    rc = feed_cache_admit_locked(c, key, klen, len, 0, now, 0, &ref);

    if (rc == FEED_CACHE_ADMIT) {
        fill(feed_cache_data(c, &ref), len, n, 0);
        CHECK_INT(feed_cache_commit_locked(c, &ref), FEED_OK);
    }

    return rc;
}


static int
get(void *c, unsigned n, uint64_t now, feed_cache_ref_t *ref)
{
    char    key[64];
    size_t  klen;

    klen = key_of(n, key);

    return feed_cache_lookup_locked(c, key, klen, now, 0, ref);
}


/* a hit with the right bytes, released */

static int
hit(void *c, unsigned n, uint64_t now)
{
    int               ok;
    feed_cache_ref_t  ref;

    if (get(c, n, now, &ref) != FEED_CACHE_HIT) {
        return 0;
    }

    ok = same(feed_cache_data(c, &ref), ref.len, n, 0);
    feed_cache_release_locked(c, &ref);

    return ok;
}


static void
test_cache_hit_miss(void)
{
    void               *c;
    feed_cache_ref_t    ref;
    feed_cache_stats_t  st;

    c = make_cache(REGION, 16384, 1, 0);

    CHECK_INT(get(c, 1, 0, &ref), FEED_CACHE_MISS);
    CHECK_INT(put(c, 1, 5000, 0), FEED_CACHE_ADMIT);
    CHECK(hit(c, 1, 0));
    CHECK(hit(c, 1, 0));
    CHECK_INT(get(c, 2, 0, &ref), FEED_CACHE_MISS);

    /* a reservation is invisible until committed, and a second one for
     * the same key is refused while the first is being filled */

    CHECK_INT(feed_cache_admit_locked(c, "k", 1, 10, 0, 0, 0, &ref),
              FEED_CACHE_ADMIT);
    CHECK_INT(feed_cache_lookup_locked(c, "k", 1, 0, 0, &ref),
              FEED_CACHE_MISS);
    CHECK_INT(feed_cache_admit_locked(c, "k", 1, 10, 0, 0, 0, &ref),
              FEED_CACHE_FILLING);

    /* too large, or no key: served, never cached */

    CHECK_INT(put(c, 3, 16385, 0), FEED_CACHE_BYPASS);
    CHECK_INT(feed_cache_admit_locked(c, "", 0, 10, 0, 0, 0, &ref),
              FEED_CACHE_BYPASS);

    feed_cache_stats_locked(c, &st);
    CHECK_UINT(st.hits, 2);
    CHECK_UINT(st.misses, 3);
    CHECK_UINT(st.admissions, 2);
    CHECK_UINT(st.rejects, 0);
    CHECK_UINT(st.bypasses, 2);
    CHECK_UINT(st.objects, 1);
    CHECK_UINT(st.bytes, 5000);
    CHECK_UINT(st.bytes_hit, 10000);
    CHECK(st.capacity > 128 * 1024 && st.capacity < REGION);

    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
}


static void
test_cache_abort(void)
{
    void               *c;
    feed_cache_ref_t    ref;
    feed_cache_stats_t  st;

    c = make_cache(REGION, 16384, 1, 0);

    CHECK_INT(feed_cache_admit_locked(c, "k", 1, 100, 0, 0, 0, &ref),
              FEED_CACHE_ADMIT);
    feed_cache_abort_locked(c, &ref);

    /* an aborted reservation is gone: it cannot be committed later */

    CHECK_INT(feed_cache_commit_locked(c, &ref), FEED_ERROR);
    CHECK_INT(feed_cache_lookup_locked(c, "k", 1, 0, 0, &ref),
              FEED_CACHE_MISS);
    CHECK_INT(feed_cache_admit_locked(c, "k", 1, 100, 0, 0, 0, &ref),
              FEED_CACHE_ADMIT);
    CHECK_INT(feed_cache_commit_locked(c, &ref), FEED_OK);

    feed_cache_stats_locked(c, &st);
    CHECK_UINT(st.objects, 1);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
}


/* plain FIFO: after many wraps, exactly the newest objects remain */

static void
test_cache_fifo_wrap(void)
{
    void      *c;
    unsigned   n, first;

    c = make_cache(REGION, 16384, 1, 0);

    for (n = 0; n < 400; n++) {
        CHECK_INT(put(c, n, 1000 + (n * 977) % 7000, n), FEED_CACHE_ADMIT);
    }

    /* a prefix misses, the rest hits with intact data */

    for (first = 0; first < 400 && !hit(c, first, 400); first++) {
        /* void */
    }

    CHECK(first > 100 && first < 399);

    for (n = first; n < 400; n++) {
        CHECK(hit(c, n, 400));
    }

    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
}


/* an object hit since it was written survives a turn of the ring */

static void
test_cache_second_chance(void)
{
    void               *c;
    unsigned            n;
    feed_cache_stats_t  st;

    c = make_cache(REGION, 16384, 1, 1);

    for (n = 0; n < 20; n++) {
        CHECK_INT(put(c, n, 4000, 0), FEED_CACHE_ADMIT);
    }

    CHECK(hit(c, 0, 0));

    for (n = 20; n < 200; n++) {
        CHECK_INT(put(c, n, 4000, 0), FEED_CACHE_ADMIT);

        /* kept warm */

        if (n % 10 == 0) {
            CHECK(hit(c, 0, 0));
        }
    }

    CHECK(hit(c, 0, 0));
    CHECK(!hit(c, 1, 0));
    CHECK(!hit(c, 19, 0));
    CHECK(hit(c, 199, 0));

    feed_cache_stats_locked(c, &st);
    CHECK(st.moves > 0);
    CHECK(st.evictions > 100);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
}


/* TinyLFU: under pressure a one-hit wonder does not displace hot data */

static void
test_cache_admission(void)
{
    void               *c;
    unsigned            n, i, hot;
    feed_cache_ref_t    ref;
    feed_cache_stats_t  st;

    c = make_cache(REGION, 16384, 0, 0);

    /* hot objects, asked for several times each, fill the cache */

    for (n = 0; n < 60; n++) {
        for (i = 0; i < 4; i++) {
            if (get(c, n, 0, &ref) == FEED_CACHE_HIT) {
                feed_cache_release_locked(c, &ref);

            } else {
                put(c, n, 4000, 0);
            }
        }
    }

    for (hot = 0, n = 0; n < 60; n++) {
        hot += hit(c, n, 0);
    }

    CHECK(hot > 40);

    /* a scan of new keys, each asked for once, is refused */

    for (i = 0, n = 1000; n < 1200; n++) {
        CHECK_INT(get(c, n, 0, &ref), FEED_CACHE_MISS);
        i += (put(c, n, 4000, 0) == FEED_CACHE_REJECT);
    }

    /* (a few may fit in free space, or be doorkeeper false positives) */

    CHECK(i >= 190);

    for (i = 0, n = 0; n < 60; n++) {
        i += hit(c, n, 0);
    }

    CHECK(i + 5 >= hot);

    /* a key that keeps coming back gets in */

    for (i = 0; i < 6; i++) {
        if (get(c, 2000, 0, &ref) == FEED_CACHE_HIT) {
            feed_cache_release_locked(c, &ref);
            break;
        }

        put(c, 2000, 4000, 0);
    }

    CHECK(hit(c, 2000, 0));

    feed_cache_stats_locked(c, &st);
    CHECK(st.rejects >= 190);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
}


/* a pinned object is never overwritten; the insert fails instead */

static void
test_cache_pinned(void)
{
    void               *c;
    unsigned            n;
    feed_cache_ref_t    pin;
    feed_cache_stats_t  st;

    c = make_cache(REGION, 16384, 1, 0);

    CHECK_INT(put(c, 0, 8000, 0), FEED_CACHE_ADMIT);
    CHECK_INT(get(c, 0, 0, &pin), FEED_CACHE_HIT);

    for (n = 1; n < 100; n++) {
        if (put(c, n, 8000, 1) != FEED_CACHE_ADMIT) {
            break;
        }
    }

    CHECK(n > 20 && n < 40);
    CHECK_INT(put(c, 500, 8000, 2), FEED_CACHE_NOSPACE);
    CHECK(same(feed_cache_data(c, &pin), pin.len, 0, 0));

    /* released, it goes the FIFO way */

    feed_cache_release_locked(c, &pin);
    CHECK_INT(put(c, 500, 8000, 3), FEED_CACHE_ADMIT);
    CHECK(!hit(c, 0, 3));
    CHECK(hit(c, 500, 3));

    feed_cache_stats_locked(c, &st);
    CHECK_UINT(st.nospace, 2);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
}


/* a pin or a reservation older than pin_timeout belongs to the dead */

static void
test_cache_stale(void)
{
    void               *c;
    unsigned            n;
    feed_cache_ref_t    pin, res;
    feed_cache_stats_t  st;

    c = make_cache(REGION, 16384, 1, 0);

    CHECK_INT(put(c, 0, 8000, 100), FEED_CACHE_ADMIT);
    CHECK_INT(get(c, 0, 100, &pin), FEED_CACHE_HIT);

    for (n = 1; n < 100 && put(c, n, 8000, 100) == FEED_CACHE_ADMIT; n++) {
        /* void */
    }

    /* hits by live holders do not make the dead one's pin younger */

    CHECK(hit(c, 0, 109));
    CHECK_INT(put(c, 500, 8000, 110), FEED_CACHE_NOSPACE);
    CHECK_INT(put(c, 500, 8000, 111), FEED_CACHE_ADMIT);
    CHECK(!hit(c, 0, 111));

    /* the late release of a reclaimed pin touches nothing */

    feed_cache_release_locked(c, &pin);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);

    /* the same for a reservation that is never committed */

    c = make_cache(REGION, 16384, 1, 0);

    CHECK_INT(feed_cache_admit_locked(c, "dead", 4, 8000, 0, 100, 0, &res),
              FEED_CACHE_ADMIT);

    for (n = 1; n < 100 && put(c, n, 8000, 100) == FEED_CACHE_ADMIT; n++) {
        /* void */
    }

    CHECK_INT(put(c, 500, 8000, 105), FEED_CACHE_NOSPACE);
    CHECK_INT(put(c, 500, 8000, 200), FEED_CACHE_ADMIT);
    CHECK_INT(feed_cache_commit_locked(c, &res), FEED_ERROR);
    CHECK_INT(feed_cache_lookup_locked(c, "dead", 4, 200, 0, &res),
              FEED_CACHE_MISS);

    /* a stale reservation does not block its key either */

    CHECK_INT(feed_cache_admit_locked(c, "slow", 4, 100, 0, 200, 0, &res),
              FEED_CACHE_ADMIT);
    CHECK_INT(feed_cache_admit_locked(c, "slow", 4, 100, 0, 205, 0, &res),
              FEED_CACHE_FILLING);
    CHECK_INT(feed_cache_admit_locked(c, "slow", 4, 100, 0, 211, 0, &res),
              FEED_CACHE_ADMIT);
    CHECK_INT(feed_cache_commit_locked(c, &res), FEED_OK);

    feed_cache_stats_locked(c, &st);
    CHECK_UINT(st.reclaims, 2);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
}


/* a process id that no process has now */

static uint64_t
dead_pid(void)
{
    pid_t  pid;

    pid = fork();

    if (pid == 0) {
        _exit(0);
    }

    CHECK(pid > 0);
    waitpid(pid, NULL, 0);

    return (uint64_t) pid;
}


static int
get_as(void *c, unsigned n, uint64_t now, uint64_t owner,
    feed_cache_ref_t *ref)
{
    char    key[64];
    size_t  klen;

    klen = key_of(n, key);

    return feed_cache_lookup_locked(c, key, klen, now, owner, ref);
}


/*
 * A pin or a reservation of a live process is never taken away, however
 * old; one of a process that is gone is, at once.
 */

static void
test_cache_owners(void)
{
    void               *c;
    unsigned            n;
    uint64_t            me, dead;
    feed_cache_ref_t    pin, res;
    feed_cache_stats_t  st;

    me = (uint64_t) getpid();
    dead = dead_pid();

    c = make_cache(REGION, 16384, 1, 0);

    CHECK_INT(put(c, 0, 8000, 100), FEED_CACHE_ADMIT);
    CHECK_INT(get_as(c, 0, 100, me, &pin), FEED_CACHE_HIT);

    for (n = 1; n < 100 && put(c, n, 8000, 100) == FEED_CACHE_ADMIT; n++) {
        /* void */
    }

    CHECK_INT(put(c, 500, 8000, 100000), FEED_CACHE_NOSPACE);
    CHECK(same(feed_cache_data(c, &pin), pin.len, 0, 0));
    feed_cache_release_locked(c, &pin);
    CHECK_INT(put(c, 500, 8000, 100000), FEED_CACHE_ADMIT);

    /* the same object pinned by a process that is gone */

    c = make_cache(REGION, 16384, 1, 0);

    CHECK_INT(put(c, 0, 8000, 100), FEED_CACHE_ADMIT);
    CHECK_INT(get_as(c, 0, 100, dead, &pin), FEED_CACHE_HIT);

    for (n = 1; n < 100 && put(c, n, 8000, 100) == FEED_CACHE_ADMIT; n++) {
        /* void */
    }

    CHECK_INT(put(c, 500, 8000, 101), FEED_CACHE_ADMIT);
    CHECK(!hit(c, 0, 101));
    feed_cache_release_locked(c, &pin);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);

    /* reservations: a live filler keeps its key, a dead one does not */

    CHECK_INT(feed_cache_admit_locked(c, "live", 4, 100, 7, 100, me, &res),
              FEED_CACHE_ADMIT);
    CHECK_INT(feed_cache_admit_locked(c, "live", 4, 100, 7, 90000, 0, &pin),
              FEED_CACHE_FILLING);
    CHECK_INT(feed_cache_commit_locked(c, &res), FEED_OK);
    CHECK_INT(feed_cache_lookup_locked(c, "live", 4, 90000, 0, &pin),
              FEED_CACHE_HIT);
    CHECK_UINT(pin.tag, 7);
    feed_cache_release_locked(c, &pin);

    CHECK_INT(feed_cache_admit_locked(c, "gone", 4, 100, 0, 100, dead, &res),
              FEED_CACHE_ADMIT);
    CHECK_INT(feed_cache_admit_locked(c, "gone", 4, 100, 0, 100, me, &pin),
              FEED_CACHE_ADMIT);
    CHECK_INT(feed_cache_commit_locked(c, &res), FEED_ERROR);
    CHECK_INT(feed_cache_commit_locked(c, &pin), FEED_OK);

    /* reaping drops every pin of the dead, and only those */

    CHECK_INT(get_as(c, 500, 100, dead, &res), FEED_CACHE_HIT);
    CHECK_INT(get_as(c, 500, 100, me, &pin), FEED_CACHE_HIT);
    CHECK_UINT(feed_cache_reap_locked(c), 1);
    CHECK_UINT(feed_cache_reap_locked(c), 0);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
    feed_cache_release_locked(c, &res);
    feed_cache_release_locked(c, &pin);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);

    feed_cache_stats_locked(c, &st);
    CHECK(st.reclaims >= 3);
}


/*
 * After a reset (a purge here; a crash or damage does the same) nothing
 * is written into the ring while a pin taken before it is held, so
 * bytes being sent are never overwritten; pins of the dead do not count.
 */

static void
test_cache_drain(void)
{
    void               *c;
    unsigned            n;
    uint64_t            me;
    feed_cache_ref_t    pin, res, gone, tmp;
    feed_cache_stats_t  st;

    me = (uint64_t) getpid();

    c = make_cache(REGION, 16384, 1, 0);

    for (n = 0; n < 10; n++) {
        CHECK_INT(put(c, n, 8000, 0), FEED_CACHE_ADMIT);
    }

    CHECK_INT(get_as(c, 3, 0, me, &pin), FEED_CACHE_HIT);
    CHECK_INT(get_as(c, 4, 0, dead_pid(), &gone), FEED_CACHE_HIT);
    CHECK_INT(feed_cache_admit_locked(c, "res", 3, 100, 0, 0, me, &res),
              FEED_CACHE_ADMIT);

    feed_cache_purge_locked(c);

    CHECK_INT(get(c, 5, 0, &tmp), FEED_CACHE_MISS);
    CHECK_INT(put(c, 50, 8000, 0), FEED_CACHE_NOSPACE);
    CHECK_INT(feed_cache_commit_locked(c, &res), FEED_ERROR);
    CHECK_INT(put(c, 50, 8000, 0), FEED_CACHE_NOSPACE);
    CHECK(same(feed_cache_data(c, &pin), pin.len, 3, 0));
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);

    feed_cache_release_locked(c, &pin);

    CHECK_INT(put(c, 50, 8000, 0), FEED_CACHE_ADMIT);
    CHECK(hit(c, 50, 0));
    CHECK(!hit(c, 3, 0));
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);

    feed_cache_stats_locked(c, &st);
    CHECK_UINT(st.draining, 2);
    CHECK_UINT(st.corruptions, 0);
    CHECK_UINT(st.objects, 1);
}


/*
 * A process killed at a random point of its cache operations, over and
 * over: the next operation finds the region as the dead one left it (the
 * lock is presumed force-released), must not crash, and must leave a
 * region that passes the full check; the bytes of an object pinned by a
 * live process are never touched, and the children never saw wrong bytes.
 */

static void
test_cache_kill(void)
{
    int                  status;
    pid_t                pid;
    unsigned             round, n, start, *bad;
    volatile unsigned   *ops;
    uint64_t             me;
    unsigned char       *c;
    struct timespec      ts;
    feed_cache_ref_t     ref, pin;
    feed_cache_stats_t   st;
    feed_cache_params_t  p;

    c = mmap(NULL, REGION + 4096, PROT_READ|PROT_WRITE,
             MAP_SHARED|MAP_ANONYMOUS, -1, 0);
    CHECK(c != MAP_FAILED);
    if (c == MAP_FAILED) {
        return;
    }

    bad = (unsigned *) (c + REGION);
    *bad = 0;
    ops = bad + 1;
    *ops = 0;
    me = (uint64_t) getpid();

    feed_cache_default_params(&p);
    p.objects = 512;
    p.admit_all = 1;
    p.move_max_pct = 20;
    p.move_budget = 8;

    CHECK_INT(feed_cache_init(c, REGION, 16384, &p), FEED_OK);

    rng_state = 7;

    /*
     * 300 rounds, and more (up to 3000) until a kill has landed inside an
     * operation at least once: on a loaded machine most kills can fall
     * between operations.
     */

    st.corruptions = 0;

    for (round = 0;
         round < 300 || (st.corruptions == 0 && round < 3000);
         round++)
    {

        /* every third round, this process holds a pin all through it */

        pin.len = 0;

        if (round % 3 == 0) {
            put(c, 1000 + round, 3000, 0);

            if (get_as(c, 1000 + round, 0, me, &pin) != FEED_CACHE_HIT) {
                pin.len = 0;
            }
        }

        start = *ops;
        pid = fork();

        if (pid == 0) {
            srand(round);

            for ( ;; (*ops)++) {
                n = (unsigned) rand() % 300;

                if (get_as(c, n, 0, (uint64_t) getpid(), &ref)
                    == FEED_CACHE_HIT)
                {
                    if (!same(feed_cache_data(c, &ref), ref.len, n, 0)) {
                        (*bad)++;
                    }

                    feed_cache_release_locked(c, &ref);

                } else {
                    put(c, n, 200 + n * 13, 0);
                }
            }
        }

        CHECK(pid > 0);

        /* once the child is well under way, at a random moment */

        ts.tv_sec = 0;
        ts.tv_nsec = 20000;

        for (n = 0; *ops - start < 64 && n < 100000; n++) {
            nanosleep(&ts, NULL);
        }

        ts.tv_nsec = (long) (rng() % 500000);
        nanosleep(&ts, NULL);

        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);

        /* the next operation, then a full check */

        if (get(c, 0, 0, &ref) == FEED_CACHE_HIT) {
            feed_cache_release_locked(c, &ref);
        }

        CHECK_INT(feed_cache_check(c, REGION), FEED_OK);

        if (pin.len) {
            CHECK(same(feed_cache_data(c, &pin), pin.len, 1000 + round, 0));
            feed_cache_release_locked(c, &pin);
        }

        CHECK_INT(put(c, 2000 + round, 500, 0) == FEED_CACHE_CORRUPT, 0);

        feed_cache_stats_locked(c, &st);
    }

    CHECK_UINT(*bad, 0);

    feed_cache_stats_locked(c, &st);
    CHECK(st.corruptions > 0);

    printf("     kill: %llu resets, %llu reclaims in %u rounds\n",
           (unsigned long long) st.corruptions,
           (unsigned long long) st.reclaims, round);

    munmap(c, REGION + 4096);
}


static void
test_cache_check(void)
{
    unsigned char        *c;
    size_t                i;
    feed_cache_params_t   p;

    feed_cache_default_params(&p);

    c = feed_unit_alloc(REGION);
    memset(c, 0, REGION);

    CHECK_INT(feed_cache_check(c, REGION), FEED_ERROR);
    CHECK_INT(feed_cache_init(c, 1024, 0, &p), FEED_ERROR);
    CHECK_INT(feed_cache_init(c, feed_cache_min_size() - 1, 0, &p),
              FEED_ERROR);
    CHECK_INT(feed_cache_init(c, REGION, REGION, &p), FEED_ERROR);
    CHECK_INT(feed_cache_init(c, REGION, 0, NULL), FEED_OK);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
    CHECK_INT(feed_cache_check(c, REGION - 4096), FEED_ERROR);

    for (i = 0; i < 50; i++) {
        CHECK_INT(put(c, (unsigned) i, 3000, 0), FEED_CACHE_ADMIT);
    }

    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);

    /* a damaged header is refused, and every call reports it */

    c[20] ^= 1;
    CHECK_INT(feed_cache_check(c, REGION), FEED_ERROR);
    CHECK_INT(put(c, 100, 3000, 0), FEED_CACHE_CORRUPT);
    c[20] ^= 1;
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
    CHECK(hit(c, 49, 0));
}


/* random damage must never crash; a damaged region is found out */

static void
test_cache_corrupt(void)
{
    int                  rc;
    unsigned char       *c, *good;
    unsigned             round, i, n;
    size_t               meta;
    feed_cache_ref_t     ref;
    feed_cache_params_t  p;
    feed_cache_stats_t   st;

    rng_state = 42;
    good = make_cache(REGION, 16384, 1, 1);

    for (n = 0; n < 100; n++) {
        put(good, n, 1000 + n * 37, 0);
        hit(good, n / 2, 0);
    }

    c = feed_unit_alloc(REGION);
    feed_cache_default_params(&p);
    p.objects = 256;
    meta = feed_cache_meta_size(REGION, &p);
    CHECK(meta > 0 && meta < REGION / 2);

    for (round = 0; round < 200; round++) {
        memcpy(c, good, REGION);

        /* a few words of the index or the ring, never the header */

        for (i = 0; i < 8; i++) {
            n = 512 + (unsigned) (rng() % (REGION - 520));
            c[n] = (unsigned char) rng();
        }

        for (i = 0; i < 40; i++) {
            n = (unsigned) (rng() % 120);
            rc = get(c, n, 1, &ref);

            if (rc == FEED_CACHE_HIT) {
                CHECK(ref.data + ref.len <= REGION);
                feed_cache_release_locked(c, &ref);
            }

            rc = put(c, 200 + n, 500 + n * 50, 1);
            CHECK(rc != FEED_CACHE_BYPASS);
        }

        feed_cache_stats_locked(c, &st);

        if (feed_cache_check(c, REGION) != FEED_OK) {
            CHECK_INT(feed_cache_init(c, REGION, 16384, &p), FEED_OK);
            CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
        }
    }
}


/*
 * The model: random lookups, admissions, commits, aborts, pins held
 * for a while and pins leaked, against a map of what each key last
 * committed.  A hit must return that version's bytes, a pin must keep
 * its bytes until released, and the region must stay consistent.
 */

#define MODEL_KEYS   300
#define MODEL_PINS   8

static void
model_run(int admit_all)
{
    int                 rc, model[MODEL_KEYS];
    void               *c;
    unsigned            op, n, i, version, npins, writing_n;
    unsigned            pin_n[MODEL_PINS], pin_v[MODEL_PINS];
    uint64_t            now, pin_t[MODEL_PINS];
    char                key[64];
    size_t              klen, len;
    feed_cache_ref_t    ref, pins[MODEL_PINS], writing;
    feed_cache_stats_t  st;

    rng_state = 7 + admit_all;
    c = make_cache(REGION, 16384, admit_all, 1);

    for (n = 0; n < MODEL_KEYS; n++) {
        model[n] = -1;
    }

    npins = 0;
    writing_n = MODEL_KEYS;
    version = 0;
    now = 0;

    for (op = 0; op < 20000; op++) {

        if (rng() % 10 == 0) {
            now++;
        }

        /* skewed keys so that the sketch has something to learn */

        n = (unsigned) (rng() % (1 + rng() % MODEL_KEYS));
        klen = key_of(n, key);

        switch (rng() % 8) {

        case 0:
            if (npins == 0) {
                break;
            }

            i = (unsigned) (rng() % npins);

            /* a pin younger than the timeout kept its bytes */

            if (now - pin_t[i] <= 10) {
                CHECK(same(feed_cache_data(c, &pins[i]), pins[i].len,
                           pin_n[i], pin_v[i]));
            }

            /* now and then a holder "dies" without releasing */

            if (rng() % 50) {
                feed_cache_release_locked(c, &pins[i]);
            }

            pins[i] = pins[--npins];
            pin_n[i] = pin_n[npins];
            pin_v[i] = pin_v[npins];
            pin_t[i] = pin_t[npins];
            break;

        case 1:
            if (writing_n == MODEL_KEYS) {
                break;
            }

            if (rng() % 4 == 0) {
                feed_cache_abort_locked(c, &writing);

            } else if (feed_cache_commit_locked(c, &writing) == FEED_OK) {
                model[writing_n] = (int) version;
            }

            writing_n = MODEL_KEYS;
            break;

        default:
            rc = feed_cache_lookup_locked(c, key, klen, now, 0, &ref);

            if (rc == FEED_CACHE_HIT) {
                CHECK(model[n] >= 0);
                CHECK(same(feed_cache_data(c, &ref), ref.len, n,
                           (unsigned) model[n]));

                if (npins < MODEL_PINS && rng() % 3 == 0) {
                    pins[npins] = ref;
                    pin_n[npins] = n;
                    pin_v[npins] = (unsigned) model[n];
                    pin_t[npins] = now;
                    npins++;

                } else {
                    feed_cache_release_locked(c, &ref);
                }

                break;
            }

            CHECK_INT(rc, FEED_CACHE_MISS);

            if (writing_n != MODEL_KEYS) {
                break;
            }

            len = 64 + (size_t) (rng() % 12000);
            rc = feed_cache_admit_locked(c, key, klen, len, 0, now, 0, &ref);

            CHECK(rc == FEED_CACHE_ADMIT || rc == FEED_CACHE_REJECT
                  || rc == FEED_CACHE_NOSPACE);

            if (rc == FEED_CACHE_ADMIT) {
                version++;
                fill(feed_cache_data(c, &ref), len, n, version);
                writing = ref;
                writing_n = n;
            }

            break;
        }

        if (op % 500 == 0) {
            CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
        }
    }

    feed_cache_stats_locked(c, &st);
    CHECK(st.hits > 1000);
    CHECK(admit_all ? st.evictions > 1000 : st.rejects > 100);
    CHECK_UINT(st.corruptions, 0);
    CHECK_INT(feed_cache_check(c, REGION), FEED_OK);
}


static void
test_cache_model(void)
{
    model_run(0);
}


static void
test_cache_model_admit_all(void)
{
    model_run(1);
}


void
feed_unit_cache_tests(void)
{
    RUN(test_cache_hit_miss);
    RUN(test_cache_abort);
    RUN(test_cache_fifo_wrap);
    RUN(test_cache_second_chance);
    RUN(test_cache_admission);
    RUN(test_cache_pinned);
    RUN(test_cache_stale);
    RUN(test_cache_owners);
    RUN(test_cache_drain);
    RUN(test_cache_kill);
    RUN(test_cache_check);
    RUN(test_cache_corrupt);
    RUN(test_cache_model);
    RUN(test_cache_model_admit_all);
}
