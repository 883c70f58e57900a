
/*
 * Copyright (C) the feed module developers
 */


/*
 * A media URI, after the location prefix: feed_path_parse().  What it
 * accepts must be exactly one of the four shapes, with names of
 * [A-Za-z0-9_-] inside the input, so that nothing else can reach a file
 * name; the path rebuilt from the parts must be the input itself.
 */

#include "fuzz.h"
#include "feed_hls.h"


static int
fuzz_name_ok(const char *s, size_t len, size_t max, const uint8_t *data,
    size_t size)
{
    size_t         i;
    unsigned char  c;

    if (len == 0 || len > max || s < (const char *) data
        || s + len > (const char *) data + size)
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           rc, n;
    char          again[256];
    const char   *reason;
    feed_path_t   path;

    reason = NULL;
    rc = feed_path_parse((const char *) data, size, &path, &reason);

    if (rc != FEED_OK) {
        FUZZ_CHECK(rc == FEED_DECLINED);
        FUZZ_CHECK(reason != NULL);
        return 0;
    }

    FUZZ_CHECK(fuzz_name_ok(path.clip, path.clip_len, 64, data, size));

    switch (path.type) {

    case FEED_PATH_MASTER:
        n = snprintf(again, sizeof(again), "%.*s/master.m3u8",
                     (int) path.clip_len, path.clip);
        break;

    case FEED_PATH_MEDIA:
    case FEED_PATH_INIT:
    case FEED_PATH_SEGMENT:
        FUZZ_CHECK(fuzz_name_ok(path.rendition, path.rendition_len, 32,
                                data, size));

        if (path.type == FEED_PATH_SEGMENT) {
            FUZZ_CHECK(path.segment < 100000);

            n = snprintf(again, sizeof(again), "%.*s/%.*s/%u.m4s",
                         (int) path.clip_len, path.clip,
                         (int) path.rendition_len, path.rendition,
                         (unsigned) path.segment);

        } else {
            n = snprintf(again, sizeof(again), "%.*s/%.*s/%s",
                         (int) path.clip_len, path.clip,
                         (int) path.rendition_len, path.rendition,
                         path.type == FEED_PATH_MEDIA ? "index.m3u8"
                                                      : "init.mp4");
        }

        break;

    default:
        FUZZ_CHECK(0);
        return 0;
    }

    /* one spelling per path: no leading zeros, nothing left over */

    FUZZ_CHECK(n > 0 && (size_t) n == size
               && memcmp(again, data, size) == 0);

    return 0;
}
