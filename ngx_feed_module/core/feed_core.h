
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_CORE_H_INCLUDED_
#define _FEED_CORE_H_INCLUDED_


/*
 * The pure-C core: no nginx header is included anywhere under core/.
 * Functions return FEED_OK or FEED_ERROR and describe errors in a
 * caller-provided feed_err_t, so the nginx glue can log them with the
 * right level and the unit tests can check them.
 */

#include <stddef.h>
#include <stdint.h>


#define FEED_OK           0
#define FEED_ERROR       -1
#define FEED_DECLINED    -5

#define FEED_NONE         0xffffffffu

#define FEED_ERR_LEN      256


typedef struct {
    unsigned long   line;
    char            msg[FEED_ERR_LEN];
} feed_err_t;


void feed_err_set(feed_err_t *err, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;


/*
 * 64-bit mixing, for hash tables and draws that need no secrecy:
 * feed_mix64() spreads every bit of x over the whole result (the
 * splitmix64 finalizer), feed_next64() steps a splitmix64 sequence, and
 * feed_hash64() is FNV-1a over bytes, then mixed.
 */

static inline uint64_t
feed_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;

    return x;
}


static inline uint64_t
feed_next64(uint64_t *state)
{
    return feed_mix64(*state += 0x9e3779b97f4a7c15ULL);
}


static inline uint64_t
feed_hash64(const void *p, size_t len)
{
    uint64_t              h;
    const unsigned char  *c, *end;

    h = 0xcbf29ce484222325ULL;

    for (c = p, end = c + len; c < end; c++) {
        h = (h ^ *c) * 0x100000001b3ULL;
    }

    return feed_mix64(h ^ len);
}


#endif /* _FEED_CORE_H_INCLUDED_ */
