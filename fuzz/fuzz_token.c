
/*
 * Copyright (C) the feed module developers
 */


/*
 * URL and page tokens: feed_url_token_check() and its cached twin,
 * feed_url_token_expires() and feed_page_token_check().  The input is
 * lines, taken in pairs: a clip (or a page), then a token.  For each pair
 *
 *   - the cached check says what the full check says, at every "now",
 *     the first time and the second (a hit), and whatever earlier pairs
 *     left in the cache;
 *   - an accepted token is one feed_url_token() makes for one of the keys;
 *   - a token made for the clip, with an expiry read from the token's
 *     leading digits, verifies until it expires and not after, with the
 *     previous key too, and not with a key that did not make it;
 *   - a page token made for the text verifies as a page, never as a clip.
 */

#include "fuzz.h"


#define FUZZ_PAIRS  16


static const char *
fuzz_line(const char **p, const char *end, size_t *len)
{
    const char  *s, *nl;

    s = *p;
    nl = memchr(s, '\n', (size_t) (end - s));

    if (nl == NULL) {
        *len = (size_t) (end - s);
        *p = end;

    } else {
        *len = (size_t) (nl - s);
        *p = nl + 1;
    }

    return s;
}


static void
fuzz_check_pair(feed_token_cache_t *cache, const char *clip, size_t clip_len,
    const char *token, size_t len)
{
    int       rc, rc2, rc3, ok;
    char      made[FEED_URL_TOKEN_LEN + 1];
    size_t    i, k, n;
    uint64_t  e, now[5];

    e = feed_url_token_expires(token, len);

    FUZZ_CHECK(e <= 9999999999ULL);

    now[0] = 0;
    now[1] = e ? e - 1 : 0;
    now[2] = e;
    now[3] = e + 1;
    now[4] = UINT64_MAX;

    ok = 0;

    for (i = 0; i < 5; i++) {
        rc = feed_url_token_check(fuzz_keys, 2, clip, clip_len, token, len,
                                  now[i]);
        rc2 = feed_url_token_check_cached(cache, fuzz_keys, 2, clip,
                                          clip_len, token, len, now[i]);
        rc3 = feed_url_token_check_cached(cache, fuzz_keys, 2, clip,
                                          clip_len, token, len, now[i]);

        FUZZ_CHECK(rc >= FEED_TOKEN_OK && rc <= FEED_TOKEN_EXPIRED);
        FUZZ_CHECK(rc == rc2 && rc == rc3);

        if (rc == FEED_TOKEN_OK || rc == FEED_TOKEN_EXPIRED) {
            FUZZ_CHECK(e != 0);
            FUZZ_CHECK(rc == (e < now[i] ? FEED_TOKEN_EXPIRED
                                         : FEED_TOKEN_OK));
            ok = 1;
        }

        rc = feed_page_token_check(fuzz_keys, 2, clip, clip_len, token, len,
                                   now[i]);
        FUZZ_CHECK(rc >= FEED_TOKEN_OK && rc <= FEED_TOKEN_EXPIRED);
    }

    if (ok) {

        /* accepted: then one of the keys makes exactly this token */

        for (k = 0; k < 2; k++) {
            n = feed_url_token(&fuzz_keys[k], clip, clip_len, e, made);

            if (n == len && memcmp(made, token, len) == 0) {
                break;
            }
        }

        FUZZ_CHECK(k < 2);
    }
}


static void
fuzz_round_trip(feed_token_cache_t *cache, const char *clip,
    size_t clip_len, uint64_t e)
{
    int     valid;
    char    made[FEED_URL_TOKEN_LEN + 1], again[FEED_URL_TOKEN_LEN + 1];
    size_t  k, n, n2;

    /* an expiry of 1 to 10 digits, or no token at all */

    valid = e >= 1 && e <= 9999999999ULL;

    for (k = 0; k < 2; k++) {
        n = feed_url_token(&fuzz_keys[k], clip, clip_len, e, made);

        if (!valid || clip_len > 64) {
            FUZZ_CHECK(n == 0);
            goto page;
        }

        FUZZ_CHECK(n > 0 && n <= FEED_URL_TOKEN_LEN);

        if (k == 0) {
            n2 = feed_url_token_cached(cache, &fuzz_keys[0], clip, clip_len,
                                       e, again);
            FUZZ_CHECK(n2 == n && memcmp(again, made, n) == 0);

            n2 = feed_url_token_cached(cache, &fuzz_keys[0], clip, clip_len,
                                       e, again);
            FUZZ_CHECK(n2 == n && memcmp(again, made, n) == 0);
        }

        FUZZ_CHECK(feed_url_token_expires(made, n) == e);

        FUZZ_CHECK(feed_url_token_check(fuzz_keys, 2, clip, clip_len, made,
                                        n, 0)
                   == FEED_TOKEN_OK);
        FUZZ_CHECK(feed_url_token_check(fuzz_keys, 2, clip, clip_len, made,
                                        n, e)
                   == FEED_TOKEN_OK);
        FUZZ_CHECK(feed_url_token_check(fuzz_keys, 2, clip, clip_len, made,
                                        n, e + 1)
                   == FEED_TOKEN_EXPIRED);
        FUZZ_CHECK(feed_url_token_check_cached(cache, fuzz_keys, 2, clip,
                                               clip_len, made, n, e)
                   == FEED_TOKEN_OK);
        FUZZ_CHECK(feed_url_token_check_cached(cache, fuzz_keys, 2, clip,
                                               clip_len, made, n, e + 1)
                   == FEED_TOKEN_EXPIRED);

        /* only the key that made it, alone, accepts it */

        FUZZ_CHECK(feed_url_token_check(&fuzz_keys[k], 1, clip, clip_len,
                                        made, n, e)
                   == FEED_TOKEN_OK);
        FUZZ_CHECK(feed_url_token_check(&fuzz_keys[1 - k], 1, clip,
                                        clip_len, made, n, e)
                   == FEED_TOKEN_BAD_SIG);

    page:

        /* a page token, for a text of any length: a page, never a clip */

        n = feed_page_token(&fuzz_keys[k], clip, clip_len, e, made);

        if (!valid) {
            FUZZ_CHECK(n == 0);
            continue;
        }

        FUZZ_CHECK(n > 0 && n <= FEED_URL_TOKEN_LEN);

        FUZZ_CHECK(feed_page_token_check(fuzz_keys, 2, clip, clip_len, made,
                                         n, e)
                   == FEED_TOKEN_OK);
        FUZZ_CHECK(feed_page_token_check(fuzz_keys, 2, clip, clip_len, made,
                                         n, e + 1)
                   == FEED_TOKEN_EXPIRED);
        FUZZ_CHECK(feed_page_token_check(&fuzz_keys[1 - k], 1, clip,
                                         clip_len, made, n, e)
                   == FEED_TOKEN_BAD_SIG);

        if (clip_len <= 64) {
            FUZZ_CHECK(feed_url_token_check(fuzz_keys, 2, clip, clip_len,
                                            made, n, e)
                       == FEED_TOKEN_BAD_SIG);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                     i, k, clip_len, len;
    uint64_t                   e;
    const char                *p, *end, *clip, *token;
    static feed_token_cache_t  cache;

    fuzz_keys_init();

    /* a fresh cache per input, so that a crash replays alone */

    memset(&cache, 0, sizeof(feed_token_cache_t));

    p = (const char *) data;
    end = p + size;

    for (i = 0; i < FUZZ_PAIRS && p < end; i++) {
        clip = fuzz_line(&p, end, &clip_len);
        token = fuzz_line(&p, end, &len);

        fuzz_check_pair(&cache, clip, clip_len, token, len);

        /* the round trip's expiry: the token's leading digits, any */

        e = 0;

        for (k = 0; k < len && k < 19 && token[k] >= '0' && token[k] <= '9';
             k++)
        {
            e = e * 10 + (uint64_t) (token[k] - '0');
        }

        fuzz_round_trip(&cache, clip, clip_len, e);
    }

    return 0;
}
