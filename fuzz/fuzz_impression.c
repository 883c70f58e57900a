
/*
 * Copyright (C) the feed module developers
 */


/*
 * Impression tokens, as a watch event sends them back:
 * feed_impression_parse().
 *
 *   - a token accepted is one feed_impression_token() makes from what
 *     the parse returned, with one of the keys, and names the same
 *     impression (hash); or one of version 1 (HMAC, as servers made
 *     before), whose fields make a token of today's kind that parses
 *     back to them;
 *   - a token made from fields taken from the input (time, position,
 *     viewer, a clip of any bytes) fits FEED_IMPRESSION_MAX, parses back
 *     to the very same fields with either key accepted, and is refused
 *     once cut short or signed by a key not configured.
 */

#include "fuzz.h"
#include "feed_ident.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                rc;
    char               t[FEED_IMPRESSION_MAX + 1];
    size_t             k, n;
    feed_impression_t  imp, got, again;
    const uint8_t     *dot;
    unsigned char      p[FEED_IMPRESSION_MAX];

    fuzz_keys_init();

    memset(&got, 0, sizeof(feed_impression_t));
    rc = feed_impression_parse(fuzz_keys, 2, (const char *) data, size,
                               &got);

    if (rc == FEED_OK) {
        FUZZ_CHECK(got.clip_len >= 1 && got.clip_len <= 64);

        for (k = 0; k < 2; k++) {
            again = got;
            n = feed_impression_token(&fuzz_keys[k], &again, t);

            if (n == size && memcmp(t, data, size) == 0) {
                FUZZ_CHECK(again.hash == got.hash);
                break;
            }
        }

        if (k == 2) {
            dot = memchr(data, '.', size);
            FUZZ_CHECK(dot != NULL
                       && feed_base64url_decode((const char *) data,
                                                (size_t) (dot - data), p)
                          > 0
                       && p[0] == 1);

            again = got;
            n = feed_impression_token(&fuzz_keys[0], &again, t);
            FUZZ_CHECK(feed_impression_parse(fuzz_keys, 2, t, n, &imp)
                       == FEED_OK);
            FUZZ_CHECK(imp.time == got.time && imp.position == got.position
                       && imp.clip_len == got.clip_len
                       && memcmp(imp.clip, got.clip, got.clip_len) == 0
                       && memcmp(imp.viewer.id, got.viewer.id,
                                 FEED_VIEWER_ID_LEN) == 0);
        }

    } else {
        FUZZ_CHECK(rc == FEED_ERROR);
    }

    /* a round trip: fields from the input */

    memset(&imp, 0, sizeof(feed_impression_t));
    imp.time = (uint32_t) fuzz_take(&data, &size, 4);
    imp.position = (uint32_t) fuzz_take(&data, &size, 4);

    for (k = 0; k < FEED_VIEWER_ID_LEN; k++) {
        imp.viewer.id[k] = (unsigned char) fuzz_take(&data, &size, 1);
    }

    imp.clip_len = size < sizeof(imp.clip) ? size : sizeof(imp.clip);
    memcpy(imp.clip, data, imp.clip_len);

    for (k = 0; k < 2; k++) {
        n = feed_impression_token(&fuzz_keys[k], &imp, t);

        if (imp.clip_len == 0) {
            FUZZ_CHECK(n == 0);
            return 0;
        }

        FUZZ_CHECK(n > 0 && n <= FEED_IMPRESSION_MAX);

        memset(&got, 0, sizeof(feed_impression_t));
        FUZZ_CHECK(feed_impression_parse(fuzz_keys, 2, t, n, &got)
                   == FEED_OK);

        FUZZ_CHECK(got.time == imp.time && got.position == imp.position
                   && memcmp(&got.viewer, &imp.viewer,
                             sizeof(feed_viewer_id_t)) == 0
                   && got.clip_len == imp.clip_len
                   && memcmp(got.clip, imp.clip, imp.clip_len) == 0
                   && got.hash == imp.hash);

        FUZZ_CHECK(feed_impression_parse(&fuzz_keys[k], 1, t, n, &got)
                   == FEED_OK);
        FUZZ_CHECK(feed_impression_parse(&fuzz_keys[1 - k], 1, t, n, &got)
                   == FEED_ERROR);
        FUZZ_CHECK(feed_impression_parse(fuzz_keys, 2, t, n - 1, &got)
                   == FEED_ERROR);
    }

    return 0;
}
