
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_TOKEN_H_INCLUDED_
#define _FEED_TOKEN_H_INCLUDED_


#include "feed_core.h"


#define FEED_KEY_MIN          16
#define FEED_KEY_MAX          256

/* "EXPIRES.SIGNATURE": up to 10 digits, a dot, 43 base64url characters */
#define FEED_URL_TOKEN_LEN    (10 + 1 + 43)

#define FEED_TOKEN_OK         0
#define FEED_TOKEN_MISSING    1
#define FEED_TOKEN_MALFORMED  2
#define FEED_TOKEN_BAD_SIG    3
#define FEED_TOKEN_EXPIRED    4


/* "inner" and "outer" hold OpenSSL SHA256_CTX states (112 bytes) */

#define FEED_SHA256_STATE     128

/*
 * "sip" is the key's SipHash key for impression tokens: the first 16
 * bytes of HMAC-SHA256(key, "k1\nimpression"), made with the rest.
 */

typedef struct {
    size_t          len;
    unsigned char   data[FEED_KEY_MAX];
    uint64_t        inner[FEED_SHA256_STATE / 8];
    uint64_t        outer[FEED_SHA256_STATE / 8];
    unsigned char   sip[16];
    unsigned        prepared;
} feed_key_t;


/*
 * A small direct-mapped cache per worker in front of HMAC: a playlist's
 * tokens stay the same for a minute, and a player sends the same token
 * with every segment of a clip, so most requests need no HMAC at all.
 * A hit is an exact, constant-time match of a token computed or verified
 * before, so the cache never accepts what the full check would refuse.
 * A cache belongs to one set of keys: the configuration that made it.
 */

#define FEED_TOKEN_CACHE_SIZE  256

typedef struct {
    uint64_t        expires;
    uint8_t         clip_len;
    uint8_t         token_len;
    char            clip[64];
    char            token[FEED_URL_TOKEN_LEN];
} feed_token_entry_t;


/*
 * The tokens a feed signs, by the clip's index in the catalog: a slot per
 * clip, up to FEED_TOKEN_SLOTS_MAX clips (direct-mapped past that), so a
 * clip shown to many viewers within a minute is signed once.  Indexes
 * name the same clips for as long as a catalog lives (clips are only
 * appended), and the slots belong to one catalog and one set of keys.
 */

#define FEED_TOKEN_SLOTS_MAX   131072

typedef struct {
    uint32_t        idx;                /* the clip's index + 1; 0: empty */
    uint32_t        expires;
    uint8_t         len;
    char            token[FEED_URL_TOKEN_LEN];
} feed_token_slot_t;


typedef struct {
    feed_token_entry_t  signed_[FEED_TOKEN_CACHE_SIZE];
    feed_token_entry_t  checked[FEED_TOKEN_CACHE_SIZE];
    feed_token_slot_t  *slots;          /* NULL: none */
    uint32_t            mask;           /* slots - 1, a power of two */
    uint64_t            hits;
    uint64_t            misses;
} feed_token_cache_t;


int feed_key_set(feed_key_t *key, const char *text, size_t len,
    feed_err_t *err);

void feed_key_prepare(feed_key_t *key);
void feed_hmac(const feed_key_t *key, const void *msg, size_t len,
    unsigned char out[32]);
size_t feed_base64url(const unsigned char *in, size_t len, char *out);
/* SipHash-2-4 with its 128-bit output */
void feed_siphash128(const unsigned char key[16], const void *msg, size_t len,
    unsigned char out[16]);
/* a key's SipHash key (see above), prepared or not */
void feed_key_sip(const feed_key_t *key, unsigned char out[16]);

size_t feed_url_token(const feed_key_t *key, const char *clip,
    size_t clip_len, uint64_t expires, char *out);
/* what feed_url_token() makes, from the slots when clip idx has one */
size_t feed_url_token_indexed(feed_token_cache_t *cache,
    const feed_key_t *key, uint32_t idx, const char *clip, size_t clip_len,
    uint64_t expires, char *out);
/* asks for the slots of n clips ahead of feed_url_token_indexed() */
void feed_url_token_prefetch(const feed_token_cache_t *cache,
    const uint32_t *idx, uint32_t n);
/* the number of slots for a catalog of n clips: 0 for none */
uint32_t feed_token_slots(uint32_t n);
int feed_url_token_check(const feed_key_t *keys, size_t nkeys,
    const char *clip, size_t clip_len, const char *token, size_t len,
    uint64_t now);
const char *feed_token_strerror(int rc);

/*
 * A page of a lean-back playlist: any text (its clip list) signed with an
 * expiry, as a URL token of a name no clip can have ("page:" and the
 * text's HMAC), so that a page's token never opens a clip's media.
 */

size_t feed_page_token(const feed_key_t *key, const char *page, size_t len,
    uint64_t expires, char *out);
int feed_page_token_check(const feed_key_t *keys, size_t nkeys,
    const char *page, size_t len, const char *token, size_t tlen,
    uint64_t now);
uint64_t feed_url_token_expires(const char *token, size_t len);

size_t feed_url_token_cached(feed_token_cache_t *cache, const feed_key_t *key,
    const char *clip, size_t clip_len, uint64_t expires, char *out);
int feed_url_token_check_cached(feed_token_cache_t *cache,
    const feed_key_t *keys, size_t nkeys, const char *clip, size_t clip_len,
    const char *token, size_t len, uint64_t now);


#endif /* _FEED_TOKEN_H_INCLUDED_ */
