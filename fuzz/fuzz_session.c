
/*
 * Copyright (C) the feed module developers
 */


/*
 * The session cookie's value: feed_session_parse(), and the strict
 * base64url decoder under it.
 *
 *   - a cookie accepted is one feed_session_cookie() makes for the id it
 *     gave, with one of the keys: one spelling per viewer;
 *   - whatever the decoder takes, the encoder spells the same way back;
 *   - a cookie made for an id from the input parses back to that id,
 *     with the previous key too, and not once a byte of it changes.
 */

#include "fuzz.h"
#include "feed_ident.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               rc;
    char              c[FEED_SESSION_LEN + 1], *again;
    size_t            i, k, n, len;
    unsigned char    *raw;
    feed_viewer_id_t  id, got;

    fuzz_keys_init();

    rc = feed_session_parse(fuzz_keys, 2, (const char *) data, size, &got);

    if (rc == FEED_OK) {
        for (k = 0; k < 2; k++) {
            n = feed_session_cookie(&fuzz_keys[k], &got, c);

            if (n == size && memcmp(c, data, size) == 0) {
                break;
            }
        }

        FUZZ_CHECK(k < 2);

    } else {
        FUZZ_CHECK(rc == FEED_ERROR);
    }

    /* the decoder: exactly the bytes it says, and one spelling each */

    raw = malloc(size * 3 / 4 + 1);
    again = malloc(size + 1);
    FUZZ_CHECK(raw != NULL && again != NULL);

    len = feed_base64url_decode((const char *) data, size, raw);
    FUZZ_CHECK(len <= size * 3 / 4);

    if (len > 0) {
        n = feed_base64url(raw, len, again);
        FUZZ_CHECK(n == size && memcmp(again, data, size) == 0);
    }

    free(raw);
    free(again);

    /* a round trip for an id taken from the input */

    memset(&id, 0, sizeof(feed_viewer_id_t));
    memcpy(id.id, data, size < FEED_VIEWER_ID_LEN ? size
                                                  : FEED_VIEWER_ID_LEN);

    for (k = 0; k < 2; k++) {
        n = feed_session_cookie(&fuzz_keys[k], &id, c);
        FUZZ_CHECK(n == FEED_SESSION_LEN);

        memset(&got, 0, sizeof(feed_viewer_id_t));
        FUZZ_CHECK(feed_session_parse(fuzz_keys, 2, c, n, &got) == FEED_OK);
        FUZZ_CHECK(memcmp(&got, &id, sizeof(feed_viewer_id_t)) == 0);

        FUZZ_CHECK(feed_session_parse(&fuzz_keys[k], 1, c, n, &got)
                   == FEED_OK);
        FUZZ_CHECK(feed_session_parse(&fuzz_keys[1 - k], 1, c, n, &got)
                   == FEED_ERROR);

        /* one byte changed, where and to what the input says */

        if (size > FEED_VIEWER_ID_LEN + 1) {
            i = data[FEED_VIEWER_ID_LEN] % FEED_SESSION_LEN;

            if (c[i] != (char) data[FEED_VIEWER_ID_LEN + 1]) {
                c[i] = (char) data[FEED_VIEWER_ID_LEN + 1];
                FUZZ_CHECK(feed_session_parse(fuzz_keys, 2, c, n, &got)
                           == FEED_ERROR);
            }
        }

        FUZZ_CHECK(feed_session_parse(fuzz_keys, 2, c, n - 1, &got)
                   == FEED_ERROR);
    }

    return 0;
}
