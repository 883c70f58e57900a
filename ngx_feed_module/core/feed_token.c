
/*
 * Copyright (C) the feed module developers
 */


#include <string.h>

/*
 * SHA256_Init() and friends are deprecated in OpenSSL 3 but still there;
 * they let a key's inner and outer HMAC states be computed once and kept
 * in the key as plain structs, which makes an HMAC of a short message
 * about seven times faster than the one-shot HMAC().
 */

#define OPENSSL_SUPPRESS_DEPRECATED  1

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "feed_token.h"


/*
 * URL tokens bind a clip id to an expiry time:
 *
 *     token = EXPIRES "." base64url(HMAC-SHA256(key, "u1\n" clip "\n"
 *                                                EXPIRES))
 *
 * The rendition and file are deliberately not signed, so one token in
 * the query string covers every playlist and segment of a clip, and the
 * URL path (the cache key) stays the same for every viewer.
 */

#define FEED_URL_MSG_MAX  (3 + 64 + 1 + 20)

/* what a key's SipHash key is derived from */
#define FEED_SIP_KEY_MSG  "k1\nimpression"


typedef char feed_sha256_state_fits[
    sizeof(SHA256_CTX) <= FEED_SHA256_STATE ? 1 : -1];


static uint32_t feed_token_hash(const char *a, size_t alen, const char *b,
    size_t blen);
static size_t feed_url_message(const char *clip, size_t clip_len,
    const char *expires, size_t expires_len, char *msg);
static uint64_t feed_le64(const unsigned char *p);


int
feed_key_set(feed_key_t *key, const char *text, size_t len, feed_err_t *err)
{
    /* a key file may end with a newline or other whitespace */

    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'
                       || text[len - 1] == ' ' || text[len - 1] == '\t'))
    {
        len--;
    }

    if (len < FEED_KEY_MIN) {
        feed_err_set(err, "key is %zu bytes, at least %d are needed", len,
                     FEED_KEY_MIN);
        return FEED_ERROR;
    }

    if (len > FEED_KEY_MAX) {
        feed_err_set(err, "key is longer than %d bytes", FEED_KEY_MAX);
        return FEED_ERROR;
    }

    memcpy(key->data, text, len);
    key->len = len;

    feed_key_prepare(key);

    return FEED_OK;
}


/* HMAC's key schedule: the states after the inner and outer pads */

void
feed_key_prepare(feed_key_t *key)
{
    size_t         i, klen;
    SHA256_CTX     c;
    unsigned char  k[64], pad[64];

    memset(k, 0, sizeof(k));

    if (key->len > 64) {
        SHA256_Init(&c);
        SHA256_Update(&c, key->data, key->len);
        SHA256_Final(k, &c);
        klen = 32;

    } else {
        memcpy(k, key->data, key->len);
        klen = key->len;
    }

    (void) klen;

    for (i = 0; i < 64; i++) {
        pad[i] = k[i] ^ 0x36;
    }

    SHA256_Init((SHA256_CTX *) key->inner);
    SHA256_Update((SHA256_CTX *) key->inner, pad, 64);

    for (i = 0; i < 64; i++) {
        pad[i] = k[i] ^ 0x5c;
    }

    SHA256_Init((SHA256_CTX *) key->outer);
    SHA256_Update((SHA256_CTX *) key->outer, pad, 64);

    key->prepared = 1;

    feed_hmac(key, FEED_SIP_KEY_MSG, sizeof(FEED_SIP_KEY_MSG) - 1, k);
    memcpy(key->sip, k, 16);

    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
}


void
feed_hmac(const feed_key_t *key, const void *msg, size_t len,
    unsigned char out[32])
{
    unsigned int   n;
    SHA256_CTX     c;
    unsigned char  inner[32];

    if (key->prepared) {
        memcpy(&c, key->inner, sizeof(SHA256_CTX));
        SHA256_Update(&c, msg, len);
        SHA256_Final(inner, &c);

        memcpy(&c, key->outer, sizeof(SHA256_CTX));
        SHA256_Update(&c, inner, 32);
        SHA256_Final(out, &c);

        return;
    }

    n = 32;

    if (HMAC(EVP_sha256(), key->data, (int) key->len, msg, len, out, &n)
        == NULL)
    {
        /* cannot happen with a valid digest; never sign with garbage */
        memset(out, 0, 32);
    }
}


void
feed_key_sip(const feed_key_t *key, unsigned char out[16])
{
    unsigned char  mac[32];

    if (key->prepared) {
        memcpy(out, key->sip, 16);
        return;
    }

    feed_hmac(key, FEED_SIP_KEY_MSG, sizeof(FEED_SIP_KEY_MSG) - 1, mac);
    memcpy(out, mac, 16);
    OPENSSL_cleanse(mac, sizeof(mac));
}


/*
 * SipHash-2-4 (Aumasson and Bernstein), the variant with a 128-bit
 * output: a keyed function made for short inputs, some ten times faster
 * than HMAC-SHA256 for an impression token's 40 bytes.
 */

#define feed_rotl64(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define feed_sip_round(v0, v1, v2, v3)                                        \
    do {                                                                      \
        v0 += v1; v1 = feed_rotl64(v1, 13); v1 ^= v0;                         \
        v0 = feed_rotl64(v0, 32);                                             \
        v2 += v3; v3 = feed_rotl64(v3, 16); v3 ^= v2;                         \
        v0 += v3; v3 = feed_rotl64(v3, 21); v3 ^= v0;                         \
        v2 += v1; v1 = feed_rotl64(v1, 17); v1 ^= v2;                         \
        v2 = feed_rotl64(v2, 32);                                             \
    } while (0)


static uint64_t
feed_le64(const unsigned char *p)
{
    return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16
           | (uint64_t) p[3] << 24 | (uint64_t) p[4] << 32
           | (uint64_t) p[5] << 40 | (uint64_t) p[6] << 48
           | (uint64_t) p[7] << 56;
}


void
feed_siphash128(const unsigned char key[16], const void *msg, size_t len,
    unsigned char out[16])
{
    size_t                i, j;
    uint64_t              k0, k1, v0, v1, v2, v3, m, h;
    const unsigned char  *p;

    k0 = feed_le64(key);
    k1 = feed_le64(key + 8);

    v0 = k0 ^ 0x736f6d6570736575ULL;
    v1 = k1 ^ 0x646f72616e646f6dULL ^ 0xee;
    v2 = k0 ^ 0x6c7967656e657261ULL;
    v3 = k1 ^ 0x7465646279746573ULL;

    p = msg;

    for (i = 0; i + 8 <= len; i += 8) {
        m = feed_le64(p + i);
        v3 ^= m;
        feed_sip_round(v0, v1, v2, v3);
        feed_sip_round(v0, v1, v2, v3);
        v0 ^= m;
    }

    m = (uint64_t) len << 56;

    for (j = 0; i + j < len; j++) {
        m |= (uint64_t) p[i + j] << (8 * j);
    }

    v3 ^= m;
    feed_sip_round(v0, v1, v2, v3);
    feed_sip_round(v0, v1, v2, v3);
    v0 ^= m;

    v2 ^= 0xee;

    for (i = 0; i < 4; i++) {
        feed_sip_round(v0, v1, v2, v3);
    }

    h = v0 ^ v1 ^ v2 ^ v3;

    for (i = 0; i < 8; i++) {
        out[i] = (unsigned char) (h >> (8 * i));
    }

    v1 ^= 0xdd;

    for (i = 0; i < 4; i++) {
        feed_sip_round(v0, v1, v2, v3);
    }

    h = v0 ^ v1 ^ v2 ^ v3;

    for (i = 0; i < 8; i++) {
        out[8 + i] = (unsigned char) (h >> (8 * i));
    }
}


size_t
feed_base64url(const unsigned char *in, size_t len, char *out)
{
    char               *p;
    size_t              i;
    uint32_t            v;
    static const char   tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    p = out;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        *p++ = tab[v >> 18 & 63];
        *p++ = tab[v >> 12 & 63];
        *p++ = tab[v >> 6 & 63];
        *p++ = tab[v & 63];
    }

    if (len - i == 1) {
        v = (uint32_t) in[i] << 16;
        *p++ = tab[v >> 18 & 63];
        *p++ = tab[v >> 12 & 63];

    } else if (len - i == 2) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
        *p++ = tab[v >> 18 & 63];
        *p++ = tab[v >> 12 & 63];
        *p++ = tab[v >> 6 & 63];
    }

    return (size_t) (p - out);
}


size_t
feed_url_token(const feed_key_t *key, const char *clip, size_t clip_len,
    uint64_t expires, char *out)
{
    char           digits[21], msg[FEED_URL_MSG_MAX];
    size_t         n, len;
    unsigned char  mac[32];

    /* the check takes 1 to 10 digits without a leading zero: not "0" */

    if (clip_len > 64 || expires == 0 || expires > 9999999999ULL) {
        return 0;
    }

    n = 0;

    do {
        digits[sizeof(digits) - 1 - n++] = (char) ('0' + expires % 10);
        expires /= 10;
    } while (expires);

    memcpy(out, digits + sizeof(digits) - n, n);
    out[n] = '.';

    len = feed_url_message(clip, clip_len, out, n, msg);
    feed_hmac(key, msg, len, mac);

    return n + 1 + feed_base64url(mac, 32, out + n + 1);
}


int
feed_url_token_check(const feed_key_t *keys, size_t nkeys, const char *clip,
    size_t clip_len, const char *token, size_t len, uint64_t now)
{
    char           sig[43], msg[FEED_URL_MSG_MAX];
    size_t         i, n, mlen;
    uint64_t       expires;
    unsigned char  mac[32];

    if (len == 0) {
        return FEED_TOKEN_MISSING;
    }

    if (clip_len > 64) {
        return FEED_TOKEN_MALFORMED;
    }

    /* the expiry: 1 to 10 digits, no leading zero, then a dot */

    expires = 0;

    for (n = 0; n < len && n < 11 && token[n] >= '0' && token[n] <= '9'; n++)
    {
        expires = expires * 10 + (uint64_t) (token[n] - '0');
    }

    if (n == 0 || n > 10 || token[0] == '0' || len != n + 1 + 43
        || token[n] != '.')
    {
        return FEED_TOKEN_MALFORMED;
    }

    mlen = feed_url_message(clip, clip_len, token, n, msg);

    for (i = 0; i < nkeys; i++) {
        feed_hmac(&keys[i], msg, mlen, mac);
        feed_base64url(mac, 32, sig);

        if (CRYPTO_memcmp(sig, token + n + 1, 43) == 0) {
            return expires < now ? FEED_TOKEN_EXPIRED : FEED_TOKEN_OK;
        }
    }

    return FEED_TOKEN_BAD_SIG;
}


static size_t
feed_page_name(const feed_key_t *key, const char *page, size_t len,
    char *name)
{
    unsigned char  mac[32];

    memcpy(name, "page:", 5);
    feed_hmac(key, page, len, mac);

    return 5 + feed_base64url(mac, 32, name + 5);
}


size_t
feed_page_token(const feed_key_t *key, const char *page, size_t len,
    uint64_t expires, char *out)
{
    char    name[5 + 43];
    size_t  n;

    n = feed_page_name(key, page, len, name);

    return feed_url_token(key, name, n, expires, out);
}


int
feed_page_token_check(const feed_key_t *keys, size_t nkeys, const char *page,
    size_t len, const char *token, size_t tlen, uint64_t now)
{
    int     rc;
    char    name[5 + 43];
    size_t  i, n;

    rc = FEED_TOKEN_BAD_SIG;

    for (i = 0; i < nkeys; i++) {
        n = feed_page_name(&keys[i], page, len, name);
        rc = feed_url_token_check(&keys[i], 1, name, n, token, tlen, now);

        if (rc != FEED_TOKEN_BAD_SIG) {
            return rc;
        }
    }

    return rc;
}


uint64_t
feed_url_token_expires(const char *token, size_t len)
{
    size_t    i;
    uint64_t  expires;

    /* the digits before the dot; 0 if there are none or too many */

    expires = 0;

    for (i = 0; i < len && i < 11 && token[i] >= '0' && token[i] <= '9'; i++)
    {
        expires = expires * 10 + (uint64_t) (token[i] - '0');
    }

    if (i == 0 || i > 10 || i == len || token[i] != '.') {
        return 0;
    }

    return expires;
}


const char *
feed_token_strerror(int rc)
{
    switch (rc) {

    case FEED_TOKEN_OK:
        return "valid";

    case FEED_TOKEN_MISSING:
        return "missing token";

    case FEED_TOKEN_MALFORMED:
        return "malformed token";

    case FEED_TOKEN_BAD_SIG:
        return "bad token signature";

    case FEED_TOKEN_EXPIRED:
        return "expired token";

    default:
        return "unknown token error";
    }
}


size_t
feed_url_token_cached(feed_token_cache_t *cache, const feed_key_t *key,
    const char *clip, size_t clip_len, uint64_t expires, char *out)
{
    size_t               n;
    feed_token_entry_t  *e;

    if (clip_len > sizeof(e->clip)) {
        return 0;
    }

    e = &cache->signed_[feed_token_hash(clip, clip_len, NULL, 0)
                        % FEED_TOKEN_CACHE_SIZE];

    if (e->expires == expires && e->clip_len == clip_len
        && memcmp(e->clip, clip, clip_len) == 0)
    {
        cache->hits++;
        memcpy(out, e->token, e->token_len);
        return e->token_len;
    }

    cache->misses++;

    n = feed_url_token(key, clip, clip_len, expires, out);
    if (n == 0) {
        return 0;
    }

    e->expires = expires;
    e->clip_len = (uint8_t) clip_len;
    e->token_len = (uint8_t) n;
    memcpy(e->clip, clip, clip_len);
    memcpy(e->token, out, n);

    return n;
}


size_t
feed_url_token_indexed(feed_token_cache_t *cache, const feed_key_t *key,
    uint32_t idx, const char *clip, size_t clip_len, uint64_t expires,
    char *out)
{
    size_t              n;
    feed_token_slot_t  *t;

    if (cache->slots == NULL || idx == UINT32_MAX
        || expires > UINT32_MAX)
    {
        return feed_url_token_cached(cache, key, clip, clip_len, expires,
                                     out);
    }

    t = &cache->slots[idx & cache->mask];

    if (t->idx == idx + 1 && t->expires == (uint32_t) expires) {
        cache->hits++;
        memcpy(out, t->token, t->len);
        return t->len;
    }

    cache->misses++;

    n = feed_url_token(key, clip, clip_len, expires, out);
    if (n == 0) {
        return 0;
    }

    t->idx = idx + 1;
    t->expires = (uint32_t) expires;
    t->len = (uint8_t) n;
    memcpy(t->token, out, n);

    return n;
}


void
feed_url_token_prefetch(const feed_token_cache_t *cache, const uint32_t *idx,
    uint32_t n)
{
#if defined(__GNUC__)
    uint32_t  i;

    for (i = 0; cache->slots && i < n; i++) {
        __builtin_prefetch(&cache->slots[idx[i] & cache->mask]);
    }
#else
    (void) cache;
    (void) idx;
    (void) n;
#endif
}


uint32_t
feed_token_slots(uint32_t n)
{
    uint32_t  k;

    if (n == 0) {
        return 0;
    }

    for (k = 1024; k < n && k < FEED_TOKEN_SLOTS_MAX; k *= 2) {
        /* void */
    }

    return k;
}


int
feed_url_token_check_cached(feed_token_cache_t *cache, const feed_key_t *keys,
    size_t nkeys, const char *clip, size_t clip_len, const char *token,
    size_t len, uint64_t now)
{
    int                  rc;
    feed_token_entry_t  *e;

    if (len == 0 || len > FEED_URL_TOKEN_LEN || clip_len > sizeof(e->clip)) {
        /* not a shape the cache holds: the full check says why */
        return feed_url_token_check(keys, nkeys, clip, clip_len, token, len,
                                    now);
    }

    e = &cache->checked[feed_token_hash(clip, clip_len, token, len)
                        % FEED_TOKEN_CACHE_SIZE];

    if (e->token_len == len && e->clip_len == clip_len
        && memcmp(e->clip, clip, clip_len) == 0
        && CRYPTO_memcmp(e->token, token, len) == 0)
    {
        cache->hits++;
        return e->expires < now ? FEED_TOKEN_EXPIRED : FEED_TOKEN_OK;
    }

    cache->misses++;

    rc = feed_url_token_check(keys, nkeys, clip, clip_len, token, len, now);
    if (rc != FEED_TOKEN_OK) {
        return rc;
    }

    e->expires = feed_url_token_expires(token, len);
    e->clip_len = (uint8_t) clip_len;
    e->token_len = (uint8_t) len;
    memcpy(e->clip, clip, clip_len);
    memcpy(e->token, token, len);

    return rc;
}


static uint32_t
feed_token_hash(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t    i;
    uint32_t  h;

    /* FNV-1a: slot choice only, the entry is always compared in full */

    h = 2166136261u;

    for (i = 0; i < alen; i++) {
        h = (h ^ (unsigned char) a[i]) * 16777619u;
    }

    for (i = 0; i < blen; i++) {
        h = (h ^ (unsigned char) b[i]) * 16777619u;
    }

    return h;
}


static size_t
feed_url_message(const char *clip, size_t clip_len, const char *expires,
    size_t expires_len, char *msg)
{
    char  *p;

    p = msg;
    memcpy(p, "u1\n", 3);
    p += 3;
    memcpy(p, clip, clip_len);
    p += clip_len;
    *p++ = '\n';
    memcpy(p, expires, expires_len);
    p += expires_len;

    return (size_t) (p - msg);
}
