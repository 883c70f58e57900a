
/*
 * Copyright (C) the feed module developers
 */


/*
 * URL tokens: "EXPIRES.BASE64URL(HMAC-SHA256(key, "u1\n" clip "\n"
 * EXPIRES))".  The known answers were computed independently with
 *
 *     perl -MDigest::SHA=hmac_sha256 -MMIME::Base64 -e '...'
 *
 * (base64 with +/ turned into -_ and the padding dropped).
 */

#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "feed_unit.h"


#define KEY1  "0123456789abcdef0123456789abcdef"
#define KEY2  "another-key-of-20-by"
#define KEY3  "a third key, never configured"

#define A64  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

#define FOX_TOKEN                                                             \
    "1700000000.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA"


static void
make_key(feed_key_t *key, const char *text)
{
    feed_err_t  err;

    feed_unit_check(feed_key_set(key, text, strlen(text), &err) == FEED_OK,
                    __FILE__, __LINE__, "feed_key_set(\"%s\"): %s", text,
                    err.msg);
}


static int
check(const feed_key_t *keys, size_t nkeys, const char *clip,
    const char *token, uint64_t now)
{
    return feed_url_token_check(keys, nkeys, clip, strlen(clip), token,
                                strlen(token), now);
}


static void
test_token_known_answer(void)
{
    char        out[FEED_URL_TOKEN_LEN + 1];
    size_t      n;
    feed_key_t  key;

    make_key(&key, KEY1);

    n = feed_url_token(&key, "fox-001", 7, 1700000000, out);
    CHECK_MEM(out, n, FOX_TOKEN);

    CHECK_INT(check(&key, 1, "fox-001", FOX_TOKEN, 1700000000),
              FEED_TOKEN_OK);

    make_key(&key, KEY2);
    n = feed_url_token(&key, "fox-001", 7, 1700000000, out);
    CHECK_MEM(out, n,
              "1700000000.GY6A1T7oRL4gGR5S7Pstb3fRl2MKai7Gfk4sObHeDjk");

    /* the longest: a 64-byte clip id and a 10-digit expiry */

    make_key(&key, KEY1);
    n = feed_url_token(&key, A64, 64, 9999999999ULL, out);
    CHECK_UINT(n, FEED_URL_TOKEN_LEN);
    CHECK_MEM(out, n,
              "9999999999.RnkK9G_4yntkq9-76k3Bae8P-WGSyQNkbhlW8pIUXbI");

    /* the shortest */

    n = feed_url_token(&key, "x", 1, 1, out);
    CHECK_MEM(out, n, "1.DQg-TIkv7lwA3RmYuON9oQO6YYlGkZViJd_0bFTsmNY");
}


/* RFC 4231 test case 2 and RFC 4648 test vectors, URL alphabet */

static void
test_token_primitives(void)
{
    char           out[64];
    size_t         i;
    feed_key_t     key;
    unsigned char  mac[32];

    static const unsigned char  expect[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e,
        0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
        0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
        0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43
    };

    static const struct {
        const char  *in;
        const char  *out;
    } b64[] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
        { "foobar", "Zm9vYmFy" }, { "\xfb\xff", "-_8" },
        { "\xff\xff\xfe", "___-" },
    };

    memcpy(key.data, "Jefe", 4);
    key.len = 4;
    key.prepared = 0;

    feed_hmac(&key, "what do ya want for nothing?", 28, mac);
    CHECK(memcmp(mac, expect, 32) == 0);

    feed_key_prepare(&key);
    memset(mac, 0, sizeof(mac));
    feed_hmac(&key, "what do ya want for nothing?", 28, mac);
    CHECK(memcmp(mac, expect, 32) == 0);

    for (i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
        CHECK_MEM(out, feed_base64url((const unsigned char *) b64[i].in,
                                      strlen(b64[i].in), out),
                  b64[i].out);
    }
}


static void
test_token_round_trip(void)
{
    char        out[FEED_URL_TOKEN_LEN + 1];
    size_t      n;
    feed_key_t  key;

    make_key(&key, KEY1);

    n = feed_url_token(&key, "fox-001", 7, 1764100060, out);
    CHECK_UINT(n, FEED_URL_TOKEN_LEN);
    out[n] = '\0';

    CHECK_INT(check(&key, 1, "fox-001", out, 1764100000), FEED_TOKEN_OK);
    CHECK_INT(check(&key, 1, "fox-001", out, 0), FEED_TOKEN_OK);

    /* the clip is signed, the rendition and file are not */

    CHECK_INT(check(&key, 1, "fox-002", out, 1764100000),
              FEED_TOKEN_BAD_SIG);
    CHECK_INT(check(&key, 1, "fox-00", out, 1764100000), FEED_TOKEN_BAD_SIG);
    CHECK_INT(check(&key, 1, "fox-0011", out, 1764100000),
              FEED_TOKEN_BAD_SIG);
    CHECK_INT(check(&key, 1, "", out, 1764100000), FEED_TOKEN_BAD_SIG);

    /* the clip id is taken by length */

    CHECK_INT(feed_url_token_check(&key, 1, "fox-001/360p", 7, out,
                                   strlen(out), 1764100000),
              FEED_TOKEN_OK);
}


static void
test_token_expiry(void)
{
    feed_key_t  key;

    make_key(&key, KEY1);

    /* valid up to and including the expiry second */

    CHECK_INT(check(&key, 1, "fox-001", FOX_TOKEN, 1699999999),
              FEED_TOKEN_OK);
    CHECK_INT(check(&key, 1, "fox-001", FOX_TOKEN, 1700000000),
              FEED_TOKEN_OK);
    CHECK_INT(check(&key, 1, "fox-001", FOX_TOKEN, 1700000001),
              FEED_TOKEN_EXPIRED);
    CHECK_INT(check(&key, 1, "fox-001", FOX_TOKEN, UINT64_MAX),
              FEED_TOKEN_EXPIRED);

    /* an expired token with a bad signature is a bad signature */

    CHECK_INT(check(&key, 1, "fox-002", FOX_TOKEN, 1700000001),
              FEED_TOKEN_BAD_SIG);
}


static void
test_token_tampered(void)
{
    char        t[FEED_URL_TOKEN_LEN + 1];
    size_t      i;
    feed_key_t  key;

    make_key(&key, KEY1);

    /* every single-character change of the signature is caught */

    for (i = 11; i < FEED_URL_TOKEN_LEN; i++) {
        strcpy(t, FOX_TOKEN);
        t[i] = t[i] == 'A' ? 'B' : 'A';

        feed_unit_check(check(&key, 1, "fox-001", t, 1) == FEED_TOKEN_BAD_SIG,
                        __FILE__, __LINE__, "signature changed at %zu", i);
    }

    /* a later expiry with the old signature */

    strcpy(t, FOX_TOKEN);
    t[9] = '1';
    CHECK_INT(check(&key, 1, "fox-001", t, 1), FEED_TOKEN_BAD_SIG);

    strcpy(t, FOX_TOKEN);
    t[0] = '9';
    CHECK_INT(check(&key, 1, "fox-001", t, 1), FEED_TOKEN_BAD_SIG);

    /* another key's signature for the same clip and expiry */

    CHECK_INT(check(&key, 1, "fox-001",
                    "1700000000.GY6A1T7oRL4gGR5S7Pstb3fRl2MKai7Gfk4sObHeDjk",
                    1), FEED_TOKEN_BAD_SIG);
}


static void
test_token_key_rotation(void)
{
    char        old[FEED_URL_TOKEN_LEN + 1], cur[FEED_URL_TOKEN_LEN + 1];
    char        other[FEED_URL_TOKEN_LEN + 1];
    feed_key_t  keys[2], third;

    make_key(&keys[0], KEY2);     /* the new key signs */
    make_key(&keys[1], KEY1);     /* the old one is still accepted */
    make_key(&third, KEY3);

    old[feed_url_token(&keys[1], "fox-001", 7, 1700000000, old)] = '\0';
    cur[feed_url_token(&keys[0], "fox-001", 7, 1700000000, cur)] = '\0';
    other[feed_url_token(&third, "fox-001", 7, 1700000000, other)] = '\0';

    CHECK_STR(old, FOX_TOKEN);
    CHECK(strcmp(old, cur) != 0);

    CHECK_INT(check(keys, 2, "fox-001", cur, 1), FEED_TOKEN_OK);
    CHECK_INT(check(keys, 2, "fox-001", old, 1), FEED_TOKEN_OK);
    CHECK_INT(check(keys, 2, "fox-001", other, 1), FEED_TOKEN_BAD_SIG);
    CHECK_INT(check(keys, 2, "fox-001", old, 1700000001),
              FEED_TOKEN_EXPIRED);

    /* once the old key is dropped, its tokens fail */

    CHECK_INT(check(keys, 1, "fox-001", old, 1), FEED_TOKEN_BAD_SIG);
    CHECK_INT(check(keys, 1, "fox-001", cur, 1), FEED_TOKEN_OK);
    CHECK_INT(check(keys, 0, "fox-001", cur, 1), FEED_TOKEN_BAD_SIG);
}


static void
test_token_malformed(void)
{
    static const char  *bad[] = {
        /* leading zero */
        "01700000000.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        "0.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        "01.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        /* 11 digits */
        "17000000000.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        "99999999999.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        /* signature one character short or long */
        "1700000000.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnh",
        "1700000000.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhAA",
        "1700000000.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA=",
        /* no dot, another separator, no digits */
        "1700000000VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        "1700000000VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhAx",
        "1700000000-VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        ".VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        "x.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        "-1.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        "+1700000000.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        " 1700000000.VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
        "1700000000",
        "1700000000.",
        "1",
        ".",
        "much too long: VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA"
        "VJY0h1wSSpULmBT84RdCtffakxN8gA4CaPUCH56wnhA",
    };

    size_t      i;
    feed_key_t  key;

    make_key(&key, KEY1);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        feed_unit_check(check(&key, 1, "fox-001", bad[i], 1)
                        == FEED_TOKEN_MALFORMED,
                        __FILE__, __LINE__, "\"%s\" is not malformed",
                        bad[i]);
    }

    CHECK_INT(check(&key, 1, "fox-001", "", 1), FEED_TOKEN_MISSING);

    /* the token is taken by length */

    CHECK_INT(feed_url_token_check(&key, 1, "fox-001", 7, FOX_TOKEN "&x=1",
                                   strlen(FOX_TOKEN), 1),
              FEED_TOKEN_OK);
    CHECK_INT(feed_url_token_check(&key, 1, "fox-001", 7, FOX_TOKEN,
                                   strlen(FOX_TOKEN) - 1, 1),
              FEED_TOKEN_MALFORMED);

    /* clip ids longer than the catalog allows */

    CHECK_INT(check(&key, 1, A64 "A", FOX_TOKEN, 1), FEED_TOKEN_MALFORMED);
}


static void
test_token_limits(void)
{
    char        out[FEED_URL_TOKEN_LEN + 1];
    feed_key_t  key;

    make_key(&key, KEY1);

    CHECK_UINT(feed_url_token(&key, A64 "A", 65, 1700000000, out), 0);
    CHECK_UINT(feed_url_token(&key, "fox-001", 7, 10000000000ULL, out), 0);

    /*
     * Found by fuzz_token: an expiry of 0 made "0.SIG", which the check
     * refuses as malformed; no token is made that could never verify.
     */

    CHECK_UINT(feed_url_token(&key, "fox-001", 7, 0, out), 0);
    CHECK_UINT(feed_page_token(&key, "1.fox-001", 9, 0, out), 0);
    CHECK_INT(check(&key, 1, "fox-001",
                    "0.DQg-TIkv7lwA3RmYuON9oQO6YYlGkZViJd_0bFTsmNY", 0),
              FEED_TOKEN_MALFORMED);
}


static void
test_token_key_set(void)
{
    char         big[FEED_KEY_MAX + 2];
    feed_key_t   a, b;
    feed_err_t   err;

    /* trailing newline and blanks of a key file are not part of it */

    CHECK(feed_key_set(&a, KEY1 "\r\n", strlen(KEY1) + 2, &err) == FEED_OK);
    CHECK(feed_key_set(&b, KEY1 " \t\n", strlen(KEY1) + 3, &err)
          == FEED_OK);
    CHECK_UINT(a.len, strlen(KEY1));
    CHECK_UINT(b.len, strlen(KEY1));
    CHECK_INT(check(&a, 1, "fox-001", FOX_TOKEN, 1), FEED_TOKEN_OK);

    /* at least 16 and at most 256 bytes */

    CHECK(feed_key_set(&a, "0123456789abcde", 15, &err) == FEED_ERROR);
    CHECK(strstr(err.msg, "at least 16") != NULL);
    CHECK(feed_key_set(&a, "0123456789abcde\n\n", 17, &err) == FEED_ERROR);
    CHECK(feed_key_set(&a, "0123456789abcdef", 16, &err) == FEED_OK);

    memset(big, 'k', sizeof(big));
    CHECK(feed_key_set(&a, big, FEED_KEY_MAX, &err) == FEED_OK);
    CHECK(feed_key_set(&a, big, FEED_KEY_MAX + 1, &err) == FEED_ERROR);
    CHECK(strstr(err.msg, "longer than 256") != NULL);

    CHECK(feed_key_set(&a, "", 0, &err) == FEED_ERROR);
}


static void
test_token_strerror(void)
{
    int          i, j;
    const char  *s[5];

    for (i = 0; i < 5; i++) {
        s[i] = feed_token_strerror(i);
        CHECK(s[i] != NULL && s[i][0] != '\0');

        for (j = 0; j < i; j++) {
            CHECK(strcmp(s[i], s[j]) != 0);
        }
    }

    CHECK(feed_token_strerror(99) != NULL);
    CHECK(feed_token_strerror(-1) != NULL);
}


/*
 * Tokens by catalog index: each the uncached token of its clip and
 * expiry, a repeat a hit; an index sharing a slot, a new expiry, an
 * expiry past 32 bits and no slots at all still give the right token.
 */

static void
test_token_indexed(void)
{
    char                 a[FEED_URL_TOKEN_LEN + 1], b[FEED_URL_TOKEN_LEN + 1];
    size_t               n, i;
    uint32_t             idx[4] = { 5, 5 + 1024, 7, 5 };
    uint64_t             exp[4] = { 1700000000, 1700000000, 1700000000,
                                    1700000060 };
    const char          *ids[4] = { "fox-005", "fox-1029", "fox-007",
                                    "fox-005" };
    feed_key_t           key;
    feed_token_cache_t  *cache;

    make_key(&key, KEY1);

    cache = feed_unit_alloc(sizeof(feed_token_cache_t));
    memset(cache, 0, sizeof(feed_token_cache_t));

    CHECK_UINT(feed_token_slots(0), 0);
    CHECK_UINT(feed_token_slots(1), 1024);
    CHECK_UINT(feed_token_slots(100000), 131072);
    CHECK_UINT(feed_token_slots(4000000), FEED_TOKEN_SLOTS_MAX);

    /* no slots: the small cache answers */

    n = feed_url_token_indexed(cache, &key, 5, "fox-001", 7, 1700000000, a);
    a[n] = '\0';
    CHECK(strcmp(a, FOX_TOKEN) == 0);

    cache->slots = feed_unit_alloc(1024 * sizeof(feed_token_slot_t));
    memset(cache->slots, 0, 1024 * sizeof(feed_token_slot_t));
    cache->mask = 1023;
    cache->hits = 0;
    cache->misses = 0;

    for (i = 0; i < 8; i++) {
        n = feed_url_token_indexed(cache, &key, idx[i % 4], ids[i % 4],
                                   strlen(ids[i % 4]), exp[i % 4], a);
        a[n] = '\0';

        n = feed_url_token(&key, ids[i % 4], strlen(ids[i % 4]), exp[i % 4],
                           b);
        b[n] = '\0';

        CHECK(strcmp(a, b) == 0);
    }

    /* 5 and 1029 share a slot, as do 5's two expiries: only 7 hits */

    CHECK_UINT(cache->hits, 1);
    CHECK_UINT(cache->misses, 7);

    n = feed_url_token_indexed(cache, &key, 7, "fox-007", 7, 1700000000, a);
    CHECK_UINT(cache->hits, 2);

    /* an expiry past 32 bits is not kept in a slot */

    n = feed_url_token_indexed(cache, &key, 9, "fox-009", 7,
                               (uint64_t) UINT32_MAX + 60, a);
    a[n] = '\0';
    n = feed_url_token(&key, "fox-009", 7, (uint64_t) UINT32_MAX + 60, b);
    b[n] = '\0';
    CHECK(strcmp(a, b) == 0);
    CHECK_UINT(cache->slots[9].idx, 0);
}


static void
test_token_cache(void)
{
    char                 a[FEED_URL_TOKEN_LEN + 1], b[FEED_URL_TOKEN_LEN + 1];
    char                 bad[FEED_URL_TOKEN_LEN + 1];
    size_t               na, nb;
    feed_key_t           keys[2];
    feed_token_cache_t  *cache;

    make_key(&keys[0], KEY1);
    make_key(&keys[1], "another key, 16+ bytes");

    cache = feed_unit_alloc(sizeof(feed_token_cache_t));
    memset(cache, 0, sizeof(feed_token_cache_t));

    /* signing: the cached token is the uncached one, and a repeat hits */

    na = feed_url_token_cached(cache, &keys[0], "fox-001", 7, 1700000000, a);
    a[na] = '\0';
    CHECK(strcmp(a, FOX_TOKEN) == 0);
    CHECK_UINT(cache->misses, 1);

    nb = feed_url_token_cached(cache, &keys[0], "fox-001", 7, 1700000000, b);
    b[nb] = '\0';
    CHECK(strcmp(a, b) == 0);
    CHECK_UINT(cache->hits, 1);

    /* a new expiry is a new token, not the cached one */

    nb = feed_url_token_cached(cache, &keys[0], "fox-001", 7, 1700000060, b);
    b[nb] = '\0';
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(check(keys, 1, "fox-001", b, 1700000000), FEED_TOKEN_OK);

    /* checking: valid, then valid again from the cache */

    memset(cache, 0, sizeof(feed_token_cache_t));

    CHECK_INT(feed_url_token_check_cached(cache, keys, 1, "fox-001", 7, a, na,
                                          1699999999), FEED_TOKEN_OK);
    CHECK_INT(feed_url_token_check_cached(cache, keys, 1, "fox-001", 7, a, na,
                                          1699999999), FEED_TOKEN_OK);
    CHECK_UINT(cache->hits, 1);

    /* the cached token expires like any other */

    CHECK_INT(feed_url_token_check_cached(cache, keys, 1, "fox-001", 7, a, na,
                                          1700000001), FEED_TOKEN_EXPIRED);

    /* a cached token does not open another clip */

    CHECK_INT(feed_url_token_check_cached(cache, keys, 1, "fox-002", 7, a, na,
                                          1699999999), FEED_TOKEN_BAD_SIG);

    /* a tampered copy of a cached token is refused */

    memcpy(bad, a, na);
    bad[na - 1] = (char) (bad[na - 1] == 'A' ? 'B' : 'A');
    CHECK_INT(feed_url_token_check_cached(cache, keys, 1, "fox-001", 7, bad,
                                          na, 1699999999),
              FEED_TOKEN_BAD_SIG);

    /* failures are not cached: the same bad token fails again */

    CHECK_INT(feed_url_token_check_cached(cache, keys, 1, "fox-001", 7, bad,
                                          na, 1699999999),
              FEED_TOKEN_BAD_SIG);

    /* tokens of the previous key are cached too */

    nb = feed_url_token(&keys[1], "fox-001", 7, 1700000000, b);
    CHECK_INT(feed_url_token_check_cached(cache, keys, 2, "fox-001", 7, b, nb,
                                          1699999999), FEED_TOKEN_OK);

    /* odd shapes go to the full check */

    CHECK_INT(feed_url_token_check_cached(cache, keys, 1, "fox-001", 7, "", 0,
                                          1699999999), FEED_TOKEN_MISSING);
}


/* the prepared key schedule gives what the one-shot HMAC() gives */

static void
test_token_hmac_prepared(void)
{
    size_t         i, klen, mlen, j;
    feed_err_t     err;
    feed_key_t     key, raw;
    unsigned int   n;
    unsigned char  text[300], msg[300], a[32], b[32];

    srand(11);

    /* every length about a block's edges, then random ones */

    for (i = 0; i < 300 + 200; i++) {
        klen = 16 + (size_t) rand() % 241;
        mlen = i < 200 ? i : (size_t) rand() % 300;

        for (j = 0; j < klen; j++) {
            text[j] = (unsigned char) ('!' + rand() % 90);
        }

        for (j = 0; j < mlen; j++) {
            msg[j] = (unsigned char) rand();
        }

        CHECK_INT(feed_key_set(&key, (const char *) text, klen, &err),
                  FEED_OK);
        CHECK(key.prepared);

        raw = key;
        raw.prepared = 0;

        feed_hmac(&key, msg, mlen, a);
        feed_hmac(&raw, msg, mlen, b);
        CHECK(memcmp(a, b, 32) == 0);

        n = 32;
        HMAC(EVP_sha256(), text, (int) key.len, msg, mlen, b, &n);
        CHECK(memcmp(a, b, 32) == 0);
    }
}


/*
 * SipHash-2-4-128: the reference's first vector (key 00..0f, the empty
 * message), and OpenSSL's SIPHASH at every length to 100 bytes.
 */

static void
test_token_siphash(void)
{
    int                          size;
    size_t                       i, n, outl;
    EVP_MAC                     *mac;
    OSSL_PARAM                   params[2];
    EVP_MAC_CTX                 *ctx;
    unsigned char                key[16], msg[100], a[16], b[16];
    static const unsigned char   empty[16] = {
        0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6,
        0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93
    };

    for (i = 0; i < 16; i++) {
        key[i] = (unsigned char) i;
    }

    feed_siphash128(key, "", 0, a);
    CHECK(memcmp(a, empty, 16) == 0);

    mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    if (!CHECK(mac != NULL)) {
        return;
    }

    size = 16;
    params[0] = OSSL_PARAM_construct_int(OSSL_MAC_PARAM_SIZE, &size);
    params[1] = OSSL_PARAM_construct_end();

    srand(5);

    for (n = 0; n < sizeof(msg); n++) {
        for (i = 0; i < 16; i++) {
            key[i] = (unsigned char) rand();
        }

        for (i = 0; i < n; i++) {
            msg[i] = (unsigned char) rand();
        }

        ctx = EVP_MAC_CTX_new(mac);
        CHECK(ctx != NULL
              && EVP_MAC_init(ctx, key, 16, params) == 1
              && EVP_MAC_update(ctx, msg, n) == 1
              && EVP_MAC_final(ctx, b, &outl, sizeof(b)) == 1
              && outl == 16);
        EVP_MAC_CTX_free(ctx);

        feed_siphash128(key, msg, n, a);
        CHECK(memcmp(a, b, 16) == 0);
    }

    EVP_MAC_free(mac);
}


void
feed_unit_token_tests(void)
{
    RUN(test_token_hmac_prepared);
    RUN(test_token_known_answer);
    RUN(test_token_primitives);
    RUN(test_token_round_trip);
    RUN(test_token_expiry);
    RUN(test_token_tampered);
    RUN(test_token_key_rotation);
    RUN(test_token_malformed);
    RUN(test_token_limits);
    RUN(test_token_key_set);
    RUN(test_token_strerror);
    RUN(test_token_cache);
    RUN(test_token_indexed);
    RUN(test_token_siphash);
}
