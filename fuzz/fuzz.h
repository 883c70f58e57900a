
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_FUZZ_H_INCLUDED_
#define _FEED_FUZZ_H_INCLUDED_


/*
 * What the libFuzzer targets share: fixed keys (the unit tests' own, so
 * that a token made by a test or checked into the corpus verifies here),
 * and FUZZ_CHECK(), which reports a broken invariant and aborts, so that
 * libFuzzer keeps the input as a crash.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_token.h"


#define FUZZ_KEY1  "0123456789abcdef0123456789abcdef"
#define FUZZ_KEY2  "another-key-of-20-by"


#define FUZZ_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,       \
                    __LINE__, #cond);                                         \
            abort();                                                          \
        }                                                                     \
    } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* keys[0] signs, keys[1] is the previous key, still accepted */

static feed_key_t  fuzz_keys[2];


static inline void
fuzz_keys_init(void)
{
    static int  done;
    feed_err_t  err;

    if (done) {
        return;
    }

    FUZZ_CHECK(feed_key_set(&fuzz_keys[0], FUZZ_KEY1, sizeof(FUZZ_KEY1) - 1,
                            &err)
               == FEED_OK);
    FUZZ_CHECK(feed_key_set(&fuzz_keys[1], FUZZ_KEY2, sizeof(FUZZ_KEY2) - 1,
                            &err)
               == FEED_OK);

    done = 1;
}


/* a big-endian number from the input's first bytes; 0 past its end */

static inline uint64_t
fuzz_take(const uint8_t **data, size_t *size, size_t n)
{
    size_t    i;
    uint64_t  v;

    v = 0;

    for (i = 0; i < n; i++) {
        v <<= 8;

        if (*size > 0) {
            v |= **data;
            (*data)++;
            (*size)--;
        }
    }

    return v;
}


#endif /* _FEED_FUZZ_H_INCLUDED_ */
