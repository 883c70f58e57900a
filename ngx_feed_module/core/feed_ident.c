
/*
 * Copyright (C) the feed module developers
 */


#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "feed_ident.h"


#define FEED_IMP_VERSION     2        /* SipHash; 1: HMAC, still read */
#define FEED_IMP_FIXED       (1 + 4 + 4 + FEED_VIEWER_ID_LEN + 1)
#define FEED_IMP_PAYLOAD_MAX (FEED_IMP_FIXED + 64)


static void feed_ident_tag(const feed_key_t *key, const char *domain,
    const unsigned char *msg, size_t len, unsigned char tag[FEED_TAG_LEN]);
static int feed_ident_verify(const feed_key_t *keys, size_t nkeys,
    const char *domain, const unsigned char *msg, size_t len,
    const unsigned char tag[FEED_TAG_LEN]);


int
feed_viewer_new(feed_viewer_id_t *id)
{
    if (RAND_bytes(id->id, FEED_VIEWER_ID_LEN) != 1) {
        return FEED_ERROR;
    }

    return FEED_OK;
}


static void
feed_ident_tag(const feed_key_t *key, const char *domain,
    const unsigned char *msg, size_t len, unsigned char tag[FEED_TAG_LEN])
{
    unsigned char  buf[3 + FEED_IMP_PAYLOAD_MAX], mac[32];

    memcpy(buf, domain, 3);
    memcpy(buf + 3, msg, len);

    feed_hmac(key, buf, 3 + len, mac);
    memcpy(tag, mac, FEED_TAG_LEN);
}


static int
feed_ident_verify(const feed_key_t *keys, size_t nkeys, const char *domain,
    const unsigned char *msg, size_t len,
    const unsigned char tag[FEED_TAG_LEN])
{
    size_t         i;
    unsigned char  want[FEED_TAG_LEN];

    for (i = 0; i < nkeys; i++) {
        feed_ident_tag(&keys[i], domain, msg, len, want);

        if (CRYPTO_memcmp(want, tag, FEED_TAG_LEN) == 0) {
            return FEED_OK;
        }
    }

    return FEED_ERROR;
}


size_t
feed_session_cookie(const feed_key_t *key, const feed_viewer_id_t *id,
    char *out)
{
    size_t         n;
    unsigned char  tag[FEED_TAG_LEN];

    feed_ident_tag(key, "s1\n", id->id, FEED_VIEWER_ID_LEN, tag);

    n = feed_base64url(id->id, FEED_VIEWER_ID_LEN, out);
    out[n++] = '.';
    n += feed_base64url(tag, FEED_TAG_LEN, out + n);

    return n;
}


int
feed_session_parse(const feed_key_t *keys, size_t nkeys, const char *s,
    size_t len, feed_viewer_id_t *id)
{
    unsigned char  raw[FEED_VIEWER_ID_LEN], tag[FEED_TAG_LEN];

    if (len != FEED_SESSION_LEN || s[22] != '.') {
        return FEED_ERROR;
    }

    if (feed_base64url_decode(s, 22, raw) != FEED_VIEWER_ID_LEN
        || feed_base64url_decode(s + 23, 22, tag) != FEED_TAG_LEN)
    {
        return FEED_ERROR;
    }

    if (feed_ident_verify(keys, nkeys, "s1\n", raw, FEED_VIEWER_ID_LEN, tag)
        != FEED_OK)
    {
        return FEED_ERROR;
    }

    memcpy(id->id, raw, FEED_VIEWER_ID_LEN);

    return FEED_OK;
}


size_t
feed_impression_token(const feed_key_t *key, feed_impression_t *imp,
    char *out)
{
    size_t         n, len;
    unsigned char  p[FEED_IMP_PAYLOAD_MAX], tag[FEED_TAG_LEN], sip[16];

    if (imp->clip_len == 0 || imp->clip_len > 64) {
        return 0;
    }

    p[0] = FEED_IMP_VERSION;
    p[1] = (unsigned char) (imp->time >> 24);
    p[2] = (unsigned char) (imp->time >> 16);
    p[3] = (unsigned char) (imp->time >> 8);
    p[4] = (unsigned char) imp->time;
    p[5] = (unsigned char) (imp->position >> 24);
    p[6] = (unsigned char) (imp->position >> 16);
    p[7] = (unsigned char) (imp->position >> 8);
    p[8] = (unsigned char) imp->position;
    memcpy(p + 9, imp->viewer.id, FEED_VIEWER_ID_LEN);
    p[9 + FEED_VIEWER_ID_LEN] = (unsigned char) imp->clip_len;
    memcpy(p + FEED_IMP_FIXED, imp->clip, imp->clip_len);

    len = FEED_IMP_FIXED + imp->clip_len;

    feed_key_sip(key, sip);
    feed_siphash128(sip, p, len, tag);
    memcpy(&imp->hash, tag, sizeof(uint64_t));

    n = feed_base64url(p, len, out);
    out[n++] = '.';
    n += feed_base64url(tag, FEED_TAG_LEN, out + n);

    return n;
}


int
feed_impression_parse(const feed_key_t *keys, size_t nkeys, const char *s,
    size_t len, feed_impression_t *imp)
{
    size_t         i, n, plen;
    const char    *dot;
    unsigned char  p[FEED_IMP_PAYLOAD_MAX + 3], tag[FEED_TAG_LEN + 3];
    unsigned char  want[FEED_TAG_LEN], sip[16];

    if (len > FEED_IMPRESSION_MAX || len < 23) {
        return FEED_ERROR;
    }

    dot = memchr(s, '.', len);
    if (dot == NULL) {
        return FEED_ERROR;
    }

    n = (size_t) (dot - s);

    if (len - n - 1 != 22) {
        return FEED_ERROR;
    }

    plen = feed_base64url_decode(s, n, p);

    if (plen < FEED_IMP_FIXED + 1 || plen > FEED_IMP_PAYLOAD_MAX
        || feed_base64url_decode(dot + 1, 22, tag) != FEED_TAG_LEN)
    {
        return FEED_ERROR;
    }

    /*
     * The version byte picks the tag's function; either way the tag
     * covers it.  Version 1, HMAC, is what servers made before: tokens
     * handed out just before an upgrade still count.
     */

    if (p[0] == FEED_IMP_VERSION) {
        for (i = 0; i < nkeys; i++) {
            feed_key_sip(&keys[i], sip);
            feed_siphash128(sip, p, plen, want);

            if (CRYPTO_memcmp(want, tag, FEED_TAG_LEN) == 0) {
                break;
            }
        }

        if (i == nkeys) {
            return FEED_ERROR;
        }

    } else if (p[0] != 1
               || feed_ident_verify(keys, nkeys, "i1\n", p, plen, tag)
                  != FEED_OK)
    {
        return FEED_ERROR;
    }

    /* signed by us: still, nothing is taken on trust */

    if (p[9 + FEED_VIEWER_ID_LEN] != plen - FEED_IMP_FIXED) {
        return FEED_ERROR;
    }

    imp->time = (uint32_t) p[1] << 24 | (uint32_t) p[2] << 16
                | (uint32_t) p[3] << 8 | p[4];
    imp->position = (uint32_t) p[5] << 24 | (uint32_t) p[6] << 16
                    | (uint32_t) p[7] << 8 | p[8];
    memcpy(imp->viewer.id, p + 9, FEED_VIEWER_ID_LEN);
    imp->clip_len = plen - FEED_IMP_FIXED;

    for (i = 0; i < imp->clip_len; i++) {
        imp->clip[i] = (char) p[FEED_IMP_FIXED + i];
    }

    memcpy(&imp->hash, tag, sizeof(uint64_t));

    return FEED_OK;
}


/* base64url digits by byte, 255 for a byte outside the alphabet */

static const unsigned char  feed_base64url_digit[256] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255,
    255, 255, 255, 255, 255,   0,   1,   2,   3,   4,   5,   6,
      7,   8,   9,  10,  11,  12,  13,  14,  15,  16,  17,  18,
     19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255,  63,
    255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,
     37,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,
     49,  50,  51, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255
};


/*
 * Strict base64url without padding: returns the decoded length, or 0 for
 * a character outside the alphabet, a length of 1 mod 4, or bits left
 * over in the last character (so that each value has one encoding).
 */

size_t
feed_base64url_decode(const char *in, size_t len, unsigned char *out)
{
    size_t         i, n;
    uint32_t       v, bits;
    unsigned char  d;

    if (len % 4 == 1) {
        return 0;
    }

    v = 0;
    bits = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        d = feed_base64url_digit[(unsigned char) in[i]];

        if (d == 255) {
            return 0;
        }

        v = (v << 6) | (uint32_t) d;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char) (v >> bits);
            v &= (1u << bits) - 1;
        }
    }

    if (v != 0) {
        return 0;
    }

    return n;
}
