
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_IDENT_H_INCLUDED_
#define _FEED_IDENT_H_INCLUDED_


/*
 * Who is watching, without a login: a viewer is 16 random bytes carried
 * in a signed cookie, and each clip a feed hands out comes with a signed
 * impression token, which the viewer's watch events must send back.
 *
 *     session cookie:    base64url(id) "." base64url(tag)         45 bytes
 *     impression token:  base64url(payload) "." base64url(tag)
 *
 * A cookie's tag is the first 16 bytes of HMAC-SHA256 over "s1\n" id.
 * An impression token's is SipHash-2-4 (128-bit output) of its payload
 * under a key of its own, derived from the secret (feed_key_sip()), so
 * a cookie can never pass for a token or a URL signature; a page signs
 * ten of them, and SipHash costs a tenth of an HMAC.  The payload is a
 * version byte (2; 1 for the HMAC over "i1\n" payload of earlier
 * servers, still accepted), the time (uint32), the position in the feed
 * (uint32), the viewer id and the clip id (length byte, bytes),
 * big-endian.
 */

#include "feed_core.h"
#include "feed_token.h"


#define FEED_VIEWER_ID_LEN      16
#define FEED_TAG_LEN            16

#define FEED_SESSION_LEN        (22 + 1 + 22)

#define FEED_IMPRESSION_MAX                                                   \
    ((1 + 4 + 4 + FEED_VIEWER_ID_LEN + 1 + 64 + 2) / 3 * 4 + 1 + 22)


typedef struct {
    unsigned char       id[FEED_VIEWER_ID_LEN];
} feed_viewer_id_t;


typedef struct {
    feed_viewer_id_t    viewer;
    uint32_t            time;
    uint32_t            position;
    size_t              clip_len;
    char                clip[64];
    uint64_t            hash;        /* of the tag: names the impression */
} feed_impression_t;


int feed_viewer_new(feed_viewer_id_t *id);

size_t feed_session_cookie(const feed_key_t *key, const feed_viewer_id_t *id,
    char *out);
int feed_session_parse(const feed_key_t *keys, size_t nkeys, const char *s,
    size_t len, feed_viewer_id_t *id);

size_t feed_impression_token(const feed_key_t *key, feed_impression_t *imp,
    char *out);
int feed_impression_parse(const feed_key_t *keys, size_t nkeys,
    const char *s, size_t len, feed_impression_t *imp);

size_t feed_base64url_decode(const char *in, size_t len, unsigned char *out);


#endif /* _FEED_IDENT_H_INCLUDED_ */
