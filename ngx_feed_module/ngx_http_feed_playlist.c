
/*
 * Copyright (C) the feed module developers
 */


/*
 * feed_playlist: the viewer's next page of the feed as one HLS media
 * playlist that any player can play lean-back, clip after clip, each
 * after a discontinuity (a stitch: its parent's first segments too).
 *
 *   GET LOCATION            ranks the page, records it as served and
 *                           redirects to the page's own URL
 *   GET LOCATION?page=P&token=T
 *                           the page: the same bytes on every fetch
 *                           until the token expires (RFC 8216 6.2.1: a
 *                           VOD playlist never changes)
 *
 * P is "BANDWIDTH.ID.ID..." (ids cannot hold a dot) and T signs it with
 * an expiry; the segment tokens in the playlist carry that same expiry,
 * so nothing in the page depends on when it is fetched.
 */

#include "ngx_http_feed_module.h"


#define NGX_HTTP_FEED_PAGE_LEN  (20 + FEED_PAGE_MAX * (FEED_ID_MAX + 1))


static ngx_int_t ngx_http_feed_playlist_new(ngx_http_request_t *r);
static ngx_int_t ngx_http_feed_playlist_page(ngx_http_request_t *r,
    ngx_str_t *page, ngx_str_t *token);
static ngx_int_t ngx_http_feed_playlist_part(ngx_http_request_t *r,
    const feed_catalog_t *cat, const feed_clip_t *clip, feed_hls_part_t *pt,
    uint64_t expires);


ngx_int_t
ngx_http_feed_playlist_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;
    ngx_str_t  page, token;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        ngx_str_set(&page, "GET, HEAD");

        if (ngx_http_feed_add_header(r, "Allow", &page) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_arg(r, (u_char *) "page", 4, &page) != NGX_OK) {
        return ngx_http_feed_playlist_new(r);
    }

    if (ngx_http_arg(r, (u_char *) "token", 5, &token) != NGX_OK) {
        ngx_str_null(&token);
    }

    return ngx_http_feed_playlist_page(r, &page, &token);
}


static ngx_int_t
ngx_http_feed_playlist_new(ngx_http_request_t *r)
{
    u_char                     *p, *last;
    size_t                      len, n;
    uint32_t                    i;
    uint64_t                    expires;
    uintptr_t                   escape;
    ngx_int_t                   rc, bw;
    ngx_str_t                   arg, value;
    ngx_buf_t                  *b;
    ngx_chain_t                 out;
    const char                 *id;
    ngx_table_elt_t            *h;
    ngx_http_feed_page_t        pg;
    ngx_http_feed_metrics_t    *m;
    ngx_http_feed_loc_conf_t   *flcf;
    ngx_http_feed_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);
    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);

    ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_MANIFEST);

    ngx_memzero(&pg, sizeof(ngx_http_feed_page_t));
    pg.lean = 1;

    if (ngx_http_feed_page_size(r, &pg.want) != NGX_OK) {
        return ngx_http_feed_error(r, NGX_HTTP_BAD_REQUEST,
                                   NGX_HTTP_FEED_PAGE_SIZE_ERROR);
    }

    bw = (ngx_int_t) flcf->playlist_bandwidth;

    if (ngx_http_arg(r, (u_char *) "bandwidth", 9, &arg) == NGX_OK) {
        bw = ngx_atoi(arg.data, arg.len);

        if (bw < 1 || bw > 1000000000) {
            return ngx_http_feed_error(r, NGX_HTTP_BAD_REQUEST,
                                       "bandwidth must be a whole number "
                                       "of bits per second from 1 to "
                                       "1000000000");
        }
    }

    rc = ngx_http_feed_page(r, &pg);
    if (rc != NGX_OK) {
        return rc;
    }

    if (pg.n == 0) {
        return ngx_http_feed_error(r, NGX_HTTP_NOT_FOUND,
                                   "nothing left to show");
    }

    m = ngx_http_feed_metrics(r);

    for (i = 0; m && i < pg.n; i++) {
        (void) ngx_atomic_fetch_add(&m->items[pg.items[i].reason], 1);
    }

    /*
     * The page: "URI?page=BANDWIDTH.ID.ID...&token=T".  The URI is the
     * decoded one: escaped again, so that nothing a client put in it (a
     * CR LF, a "?") can leave the Location header.
     */

    escape = 2 * ngx_escape_uri(NULL, r->uri.data, r->uri.len,
                                NGX_ESCAPE_URI);

    len = r->uri.len + escape + sizeof("?page=&token=")
          + NGX_HTTP_FEED_PAGE_LEN + FEED_URL_TOKEN_LEN;

    value.data = ngx_pnalloc(r->pool, len);
    if (value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = value.data + len;

    if (escape) {
        p = (u_char *) ngx_escape_uri(value.data, r->uri.data, r->uri.len,
                                      NGX_ESCAPE_URI);

    } else {
        p = ngx_cpymem(value.data, r->uri.data, r->uri.len);
    }

    p = ngx_cpymem(p, "?page=", sizeof("?page=") - 1);

    arg.data = p;
    p = ngx_slprintf(p, last, "%i", bw);

    for (i = 0; i < pg.n; i++) {
        id = feed_clip_id(fmcf->catalog,
                          feed_catalog_clip(fmcf->catalog, pg.items[i].clip));
        p = ngx_slprintf(p, last, ".%s", id);
    }

    arg.len = p - arg.data;

    /* the expiry of every token in the page, to the minute */

    expires = (uint64_t) pg.now + (uint64_t) flcf->url_ttl;
    expires = (expires + 59) / 60 * 60;

    p = ngx_cpymem(p, "&token=", sizeof("&token=") - 1);
    n = feed_page_token(&fmcf->keys[0], (const char *) arg.data, arg.len,
                        expires, (char *) p);
    if (n == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "feed_playlist: cannot sign a page");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.len = p + n - value.data;

    ngx_http_clear_location(r);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value = value;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    r->headers_out.location = h;

    ngx_str_set(&arg, "no-store");

    if (ngx_http_feed_add_header(r, "Cache-Control", &arg) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_MOVED_TEMPORARILY;
    r->headers_out.content_length_n = 0;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_feed_playlist_page(ngx_http_request_t *r, ngx_str_t *page,
    ngx_str_t *token)
{
    int                         tok;
    u_char                     *p, *end, *dot;
    size_t                      len;
    uint32_t                    i, k, n, nparts, t, target;
    uint64_t                    expires;
    ngx_int_t                   bw, sent;
    ngx_buf_t                  *b;
    ngx_str_t                   cc;
    feed_hls_part_t            *parts;
    const feed_clip_t          *clip;
    ngx_http_feed_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);

    ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_PLAYLIST);

    if (page->len > NGX_HTTP_FEED_PAGE_LEN) {
        return ngx_http_feed_error(r, NGX_HTTP_BAD_REQUEST, "page too long");
    }

    tok = feed_page_token_check(fmcf->keys, fmcf->nkeys,
                                (const char *) page->data, page->len,
                                (const char *) token->data, token->len,
                                (uint64_t) ngx_time());

    if (tok != FEED_TOKEN_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "feed_playlist: %s", feed_token_strerror(tok));
        return ngx_http_feed_error(r, NGX_HTTP_FORBIDDEN,
                                   tok == FEED_TOKEN_EXPIRED
                                   ? "this page has expired: fetch the "
                                     "playlist again for a new one"
                                   : "bad page token");
    }

    expires = feed_url_token_expires((const char *) token->data, token->len);

    /* signed by us: well formed, but checked as if it were not */

    p = page->data;
    end = page->data + page->len;

    dot = ngx_strlchr(p, end, '.');
    bw = dot ? ngx_atoi(p, dot - p) : NGX_ERROR;

    if (bw < 1) {
        return ngx_http_feed_error(r, NGX_HTTP_BAD_REQUEST, "bad page");
    }

    parts = ngx_palloc(r->pool, 2 * FEED_PAGE_MAX * sizeof(feed_hls_part_t));
    if (parts == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nparts = 0;
    target = 1;
    sent = 0;

    for (p = dot + 1; p < end && sent < FEED_PAGE_MAX; p = dot + 1) {
        dot = ngx_strlchr(p, end, '.');
        if (dot == NULL) {
            dot = end;
        }

        i = feed_catalog_find(fmcf->catalog, (const char *) p, dot - p);

        if (i == FEED_NONE) {

            /* gone from the catalog since: the page goes on without it */

            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "feed_playlist: clip \"%*s\" is not in the "
                          "catalog", (size_t) (dot - p), p);
            continue;
        }

        clip = feed_catalog_clip(fmcf->catalog, i);
        k = feed_hls_match_rendition(fmcf->catalog, clip, NULL, 0,
                                     (uint32_t) bw);
        n = feed_hls_clip_parts(fmcf->catalog, clip, k, &parts[nparts]);

        for (k = 0; k < n; k++) {
            if (ngx_http_feed_playlist_part(r, fmcf->catalog,
                                            (n == 2 && k == 0)
                                            ? feed_catalog_clip(fmcf->catalog,
                                                                clip->parent)
                                            : clip,
                                            &parts[nparts + k], expires)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            t = feed_hls_target_duration(parts[nparts + k].r.segments_us,
                                         parts[nparts + k].n);
            if (t > target) {
                target = t;
            }
        }

        nparts += n;
        sent++;
    }

    if (nparts == 0) {
        return ngx_http_feed_error(r, NGX_HTTP_NOT_FOUND,
                                   "none of this page's clips is in the "
                                   "catalog any more");
    }

    len = feed_hls_parts(parts, nparts, target, NULL);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last += feed_hls_parts(parts, nparts, target, (char *) b->pos);

    /* the same bytes until the tokens expire: cacheable by the viewer */

    cc.data = ngx_pnalloc(r->pool,
                          sizeof("private, max-age=") + NGX_TIME_T_LEN);
    if (cc.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cc.len = ngx_sprintf(cc.data, "private, max-age=%T",
                         (time_t) (expires > (uint64_t) ngx_time()
                                   ? expires - (uint64_t) ngx_time() : 0))
             - cc.data;

    if (ngx_http_feed_add_header(r, "Cache-Control", &cc) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_feed_send_playlist(r, b);
}


/* a part's URIs: MEDIA_URI/ID/RENDITION/ and the clip's own token */

static ngx_int_t
ngx_http_feed_playlist_part(ngx_http_request_t *r, const feed_catalog_t *cat,
    const feed_clip_t *clip, feed_hls_part_t *pt, uint64_t expires)
{
    u_char                    *p;
    ngx_str_t                  id, query;
    ngx_http_feed_loc_conf_t  *flcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);

    id.data = (u_char *) feed_clip_id(cat, clip);
    id.len = ngx_strlen(id.data);

    if (ngx_http_feed_sign(r, &id, FEED_NONE, expires, &query) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, flcf->media_uri.len + id.len + 1
                             + pt->r.name_len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    pt->base = (const char *) p;
    p = ngx_cpymem(p, flcf->media_uri.data, flcf->media_uri.len);
    p = ngx_cpymem(p, id.data, id.len);
    *p++ = '/';
    p = ngx_cpymem(p, pt->r.name, pt->r.name_len);
    *p++ = '/';
    pt->base_len = p - (u_char *) pt->base;
    pt->query = (const char *) query.data;
    pt->query_len = query.len;

    return NGX_OK;
}
