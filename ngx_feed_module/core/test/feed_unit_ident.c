
/*
 * Copyright (C) the feed module developers
 */


/*
 * Session cookies and impression tokens: round trips, rotation, and that
 * every change to a cookie or a token, however small, is refused.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_unit.h"
#include "feed_ident.h"


static feed_key_t  keys[2];


static void
set_keys(void)
{
    feed_err_t  err;

    CHECK_INT(feed_key_set(&keys[0], "0123456789abcdef0123456789abcdef",
                           32, &err), FEED_OK);
    CHECK_INT(feed_key_set(&keys[1], "fedcba9876543210fedcba9876543210",
                           32, &err), FEED_OK);
}


static void
test_ident_base64(void)
{
    unsigned char  out[16];

    CHECK_UINT(feed_base64url_decode("", 0, out), 0);
    CHECK_UINT(feed_base64url_decode("QQ", 2, out), 1);
    CHECK_INT(out[0], 'A');
    CHECK_UINT(feed_base64url_decode("QUI", 3, out), 2);
    CHECK_UINT(feed_base64url_decode("QUJD", 4, out), 3);
    CHECK(memcmp(out, "ABC", 3) == 0);

    /* one encoding per value, the URL alphabet only */

    CHECK_UINT(feed_base64url_decode("QR", 2, out), 0);
    CHECK_UINT(feed_base64url_decode("Q", 1, out), 0);
    CHECK_UINT(feed_base64url_decode("QU+D", 4, out), 0);
    CHECK_UINT(feed_base64url_decode("QU=D", 4, out), 0);
    CHECK_UINT(feed_base64url_decode("-_-_", 4, out), 3);
}


static void
test_ident_session(void)
{
    char              c[FEED_SESSION_LEN + 1], d[FEED_SESSION_LEN + 1];
    size_t            i, n;
    feed_viewer_id_t  id, other, got;

    set_keys();

    CHECK_INT(feed_viewer_new(&id), FEED_OK);
    CHECK_INT(feed_viewer_new(&other), FEED_OK);
    CHECK(memcmp(&id, &other, sizeof(id)) != 0);

    n = feed_session_cookie(&keys[0], &id, c);
    CHECK_UINT(n, FEED_SESSION_LEN);

    CHECK_INT(feed_session_parse(keys, 2, c, n, &got), FEED_OK);
    CHECK(memcmp(&got, &id, sizeof(id)) == 0);

    /* signed with the previous key: still accepted */

    n = feed_session_cookie(&keys[1], &id, d);
    CHECK_INT(feed_session_parse(keys, 2, d, n, &got), FEED_OK);
    CHECK_INT(feed_session_parse(keys, 1, d, n, &got), FEED_ERROR);

    /* every single-character change, truncation and extension fails */

    for (i = 0; i < FEED_SESSION_LEN; i++) {
        memcpy(d, c, FEED_SESSION_LEN);
        d[i] = (char) (d[i] == 'A' ? 'B' : 'A');
        CHECK_INT(feed_session_parse(keys, 2, d, FEED_SESSION_LEN, &got),
                  FEED_ERROR);
        CHECK_INT(feed_session_parse(keys, 2, c, i, &got), FEED_ERROR);
    }

    memcpy(d, c, FEED_SESSION_LEN);
    d[FEED_SESSION_LEN] = 'A';
    CHECK_INT(feed_session_parse(keys, 2, d, FEED_SESSION_LEN + 1, &got),
              FEED_ERROR);

    /* another viewer's id with this viewer's tag */

    n = feed_session_cookie(&keys[0], &other, d);
    memcpy(d + 23, c + 23, 22);
    CHECK_INT(feed_session_parse(keys, 2, d, n, &got), FEED_ERROR);
}


/* an impression of a new viewer, at a fixed time */

static void
make_impression(feed_impression_t *imp, uint32_t position, const char *clip)
{
    memset(imp, 0, sizeof(feed_impression_t));
    CHECK_INT(feed_viewer_new(&imp->viewer), FEED_OK);
    imp->time = 1764100000;
    imp->position = position;
    imp->clip_len = strlen(clip);
    memcpy(imp->clip, clip, imp->clip_len);
}


static void
test_ident_impression(void)
{
    char               t[FEED_IMPRESSION_MAX + 1], u[FEED_IMPRESSION_MAX + 8];
    size_t             i, n;
    feed_impression_t  imp, got;

    set_keys();
    make_impression(&imp, 70000, "fox-01");

    n = feed_impression_token(&keys[0], &imp, t);
    CHECK(n > 23 && n <= FEED_IMPRESSION_MAX);

    memset(&got, 0, sizeof(got));
    CHECK_INT(feed_impression_parse(keys, 2, t, n, &got), FEED_OK);
    CHECK_UINT(got.time, imp.time);
    CHECK_UINT(got.position, imp.position);
    CHECK_UINT(got.clip_len, 6);
    CHECK(memcmp(got.clip, "fox-01", 6) == 0);
    CHECK(memcmp(&got.viewer, &imp.viewer, sizeof(imp.viewer)) == 0);
    CHECK_UINT(got.hash, imp.hash);

    for (i = 0; i < n; i++) {
        memcpy(u, t, n);
        u[i] = (char) (u[i] == 'A' ? 'B' : 'A');
        CHECK_INT(feed_impression_parse(keys, 2, u, n, &got), FEED_ERROR);
        CHECK_INT(feed_impression_parse(keys, 2, t, i, &got), FEED_ERROR);
    }

    /* the longest clip id fits, a longer one is not signed */

    imp.clip_len = 64;
    memset(imp.clip, 'x', 64);
    n = feed_impression_token(&keys[1], &imp, t);
    CHECK_UINT(n, FEED_IMPRESSION_MAX);
    CHECK_INT(feed_impression_parse(keys, 2, t, n, &got), FEED_OK);
    CHECK_UINT(got.clip_len, 64);

    imp.clip_len = 65;
    CHECK_UINT(feed_impression_token(&keys[0], &imp, t), 0);
    imp.clip_len = 0;
    CHECK_UINT(feed_impression_token(&keys[0], &imp, t), 0);

    /* a session cookie is not a token, and garbage never parses */

    n = feed_session_cookie(&keys[0], &imp.viewer, t);
    CHECK_INT(feed_impression_parse(keys, 2, t, n, &got), FEED_ERROR);

    srand(3);

    for (i = 0; i < 20000; i++) {
        size_t  j, len;

        len = (size_t) rand() % (FEED_IMPRESSION_MAX + 8);

        for (j = 0; j < len; j++) {
            u[j] = (char) (rand() % 4 ? "AbZ09-_."[rand() % 8]
                                      : rand() % 256);
        }

        CHECK_INT(feed_impression_parse(keys, 2, u, len, &got), FEED_ERROR);
        CHECK_INT(feed_session_parse(keys, 2, u, len, &got.viewer),
                  FEED_ERROR);
    }
}


/*
 * Versions: a token of the HMAC kind earlier servers made (version 1)
 * still counts; a payload claiming the other version's tag, or a version
 * of neither kind, does not.
 */

static void
make_token(const unsigned char *p, size_t len, const unsigned char *tag,
    char *out, size_t *n)
{
    *n = feed_base64url(p, len, out);
    out[(*n)++] = '.';
    *n += feed_base64url(tag, FEED_TAG_LEN, out + *n);
}


static void
test_ident_impression_versions(void)
{
    char               t[FEED_IMPRESSION_MAX + 1];
    size_t             n, plen;
    unsigned char      p[128], buf[128], mac[32], sip[16], tag[16];
    feed_impression_t  imp, got;

    set_keys();
    make_impression(&imp, 12, "fox-02");

    n = feed_impression_token(&keys[0], &imp, t);
    plen = feed_base64url_decode(t, (size_t) (strchr(t, '.') - t), p);
    CHECK_UINT(plen, 1 + 4 + 4 + 16 + 1 + 6);
    CHECK_UINT(p[0], 2);

    /* the tag is SipHash of the payload under the key's own key */

    feed_key_sip(&keys[0], sip);
    feed_siphash128(sip, p, plen, tag);
    make_token(p, plen, tag, t, &n);
    CHECK_INT(feed_impression_parse(keys, 2, t, n, &got), FEED_OK);

    /* version 1: HMAC over "i1\n" payload */

    p[0] = 1;
    memcpy(buf, "i1\n", 3);
    memcpy(buf + 3, p, plen);
    feed_hmac(&keys[1], buf, 3 + plen, mac);
    make_token(p, plen, mac, t, &n);

    memset(&got, 0, sizeof(got));
    CHECK_INT(feed_impression_parse(keys, 2, t, n, &got), FEED_OK);
    CHECK_UINT(got.time, imp.time);
    CHECK_UINT(got.position, 12);
    CHECK(memcmp(got.clip, "fox-02", 6) == 0);
    CHECK(memcmp(&got.viewer, &imp.viewer, sizeof(imp.viewer)) == 0);

    /* each version with the other's tag; a third version with either */

    feed_siphash128(sip, p, plen, tag);
    make_token(p, plen, tag, t, &n);
    CHECK_INT(feed_impression_parse(keys, 2, t, n, &got), FEED_ERROR);

    p[0] = 2;
    memcpy(buf + 3, p, plen);
    feed_hmac(&keys[0], buf, 3 + plen, mac);
    make_token(p, plen, mac, t, &n);
    CHECK_INT(feed_impression_parse(keys, 2, t, n, &got), FEED_ERROR);

    p[0] = 3;
    feed_siphash128(sip, p, plen, tag);
    make_token(p, plen, tag, t, &n);
    CHECK_INT(feed_impression_parse(keys, 2, t, n, &got), FEED_ERROR);
    memcpy(buf + 3, p, plen);
    feed_hmac(&keys[0], buf, 3 + plen, mac);
    make_token(p, plen, mac, t, &n);
    CHECK_INT(feed_impression_parse(keys, 2, t, n, &got), FEED_ERROR);
}


void
feed_unit_ident_tests(void)
{
    RUN(test_ident_base64);
    RUN(test_ident_session);
    RUN(test_ident_impression);
    RUN(test_ident_impression_versions);
}
