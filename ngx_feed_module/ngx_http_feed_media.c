
/*
 * Copyright (C) ngx_feed_module developers
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_feed_module.h"


/*
 * feed_media: HLS playlists written from the catalog, and init and media
 * segments sent from disk.  Every name in the URI is checked against the
 * catalog before a file name is built, so the disk is only touched for
 * files the catalog says exist.
 */


static ngx_int_t ngx_http_feed_media_playlist(ngx_http_request_t *r,
    const feed_catalog_t *cat, const feed_clip_t *clip, feed_path_t *path,
    int rendition, uint64_t limit);
static ngx_int_t ngx_http_feed_media_file(ngx_http_request_t *r,
    feed_path_t *path);
static u_char *ngx_http_feed_media_name(u_char *p,
    ngx_http_feed_loc_conf_t *flcf, feed_path_t *path, int init,
    uint32_t segment);
static void ngx_http_feed_media_warm(ngx_http_request_t *r,
    feed_path_t *path, feed_rendition_t *rend);
static ngx_int_t ngx_http_feed_media_options(ngx_http_request_t *r);


/* what a file name adds to the root, clip and rendition, NUL included */

#define NGX_HTTP_FEED_NAME_EXTRA                                              \
    (3 + sizeof("init.mp4") + NGX_INT32_LEN + sizeof(".m4s"))


static ngx_str_t  ngx_http_feed_m3u8_type =
    ngx_string("application/vnd.apple.mpegurl");
static ngx_str_t  ngx_http_feed_mp4_type = ngx_string("video/mp4");
static ngx_str_t  ngx_http_feed_m4s_type = ngx_string("video/iso.segment");


ngx_int_t
ngx_http_feed_media_handler(ngx_http_request_t *r)
{
    int                         ri;
    u_char                     *p;
    size_t                      len;
    uint32_t                    idx;
    uint64_t                    expires;
    ngx_int_t                   rc;
    ngx_str_t                   token, allow;
    const char                 *reason;
    feed_path_t                 path, ppath;
    feed_hls_part_t             parts[2];
    feed_rendition_t            rend;
    const feed_clip_t          *clip;
    ngx_http_feed_loc_conf_t   *flcf;
    ngx_http_feed_main_conf_t  *fmcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);
    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);

    if (flcf->cors.len) {
        if (ngx_http_feed_add_header(r, "Access-Control-Allow-Origin",
                                     &flcf->cors)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (r->method == NGX_HTTP_OPTIONS) {
            ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_OTHER);
            return ngx_http_feed_media_options(r);
        }
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_OTHER);

        if (flcf->cors.len) {
            ngx_str_set(&allow, "GET, HEAD, OPTIONS");

        } else {
            ngx_str_set(&allow, "GET, HEAD");
        }

        if (ngx_http_feed_add_header(r, "Allow", &allow) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /*
     * The part of the URI after the location prefix.  A rewrite within
     * the location can leave a URI that does not start with it.
     */

    if (r->uri.len < flcf->prefix.len
        || ngx_strncmp(r->uri.data, flcf->prefix.data, flcf->prefix.len) != 0)
    {
        ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_OTHER);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "feed_media: URI outside the location prefix \"%V\"",
                      &flcf->prefix);
        return NGX_HTTP_NOT_FOUND;
    }

    p = r->uri.data + flcf->prefix.len;
    len = r->uri.len - flcf->prefix.len;

    if (flcf->prefix.len == 0 || flcf->prefix.data[flcf->prefix.len - 1] != '/')
    {
        /* "location /v" must not serve "/vfix-a/master.m3u8" */

        if (len == 0 || *p != '/') {
            ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_OTHER);
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "feed_media: no \"/\" after the location prefix");
            return NGX_HTTP_NOT_FOUND;
        }

        p++;
        len--;
    }

    /* the URI is decoded: log the reason only, nginx adds the request */

    if (feed_path_parse((const char *) p, len, &path, &reason) != FEED_OK) {
        ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_OTHER);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "feed_media: %s", reason);
        return NGX_HTTP_NOT_FOUND;
    }

    switch (path.type) {

    case FEED_PATH_MASTER:
        ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_MASTER);
        break;

    case FEED_PATH_MEDIA:
        ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_PLAYLIST);
        break;

    case FEED_PATH_INIT:
        ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_INIT);
        break;

    default:
        ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_SEGMENT);
        break;
    }

    /*
     * The token is checked before the catalog is: without one, a client
     * cannot tell a clip that exists from one that does not.
     */

    if (fmcf->nkeys) {
        if (ngx_http_arg(r, (u_char *) "token", 5, &token) != NGX_OK) {
            ngx_str_null(&token);
        }

        rc = feed_url_token_check_cached(fmcf->token_cache, fmcf->keys,
                                         fmcf->nkeys, path.clip,
                                         path.clip_len,
                                         (const char *) token.data,
                                         token.len, (uint64_t) ngx_time());

        if (rc != FEED_TOKEN_OK) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "feed_media: %s for clip \"%*s\"",
                          feed_token_strerror(rc), path.clip_len,
                          path.clip);
            return NGX_HTTP_FORBIDDEN;
        }

        expires = feed_url_token_expires((const char *) token.data,
                                         token.len);

    } else {
        expires = 0;
    }

    idx = feed_catalog_find(fmcf->catalog, path.clip, path.clip_len);
    if (idx == FEED_NONE) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "feed_media: unknown clip \"%*s\"",
                      path.clip_len, path.clip);
        return NGX_HTTP_NOT_FOUND;
    }

    clip = feed_catalog_clip(fmcf->catalog, idx);

    if (path.type == FEED_PATH_MASTER) {
        return ngx_http_feed_media_playlist(r, fmcf->catalog, clip, &path,
                                            -1, expires);
    }

    ri = feed_clip_find_rendition(fmcf->catalog, clip, path.rendition,
                                  path.rendition_len);
    if (ri < 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "feed_media: clip \"%*s\" has no rendition \"%*s\"",
                      path.clip_len, path.clip, path.rendition_len,
                      path.rendition);
        return NGX_HTTP_NOT_FOUND;
    }

    if (path.type == FEED_PATH_MEDIA) {
        if (flcf->cache && flcf->cache_warm && r->method == NGX_HTTP_GET) {

            /* a stitch plays its parent's first segments first */

            if (feed_hls_clip_parts(fmcf->catalog, clip, (uint32_t) ri,
                                    parts)
                == 2)
            {
                ppath = path;
                ppath.clip = feed_clip_id(fmcf->catalog,
                                          feed_catalog_clip(fmcf->catalog,
                                                            clip->parent));
                ppath.clip_len = ngx_strlen(ppath.clip);
                ppath.rendition = parts[0].r.name;
                ppath.rendition_len = parts[0].r.name_len;
                parts[0].r.nsegments = parts[0].n;
                ngx_http_feed_media_warm(r, &ppath, &parts[0].r);
            }

            feed_clip_rendition(fmcf->catalog, clip, (uint32_t) ri, &rend);
            ngx_http_feed_media_warm(r, &path, &rend);
        }

        return ngx_http_feed_media_playlist(r, fmcf->catalog, clip, &path,
                                            ri, expires);
    }

    if (path.type == FEED_PATH_SEGMENT) {
        feed_clip_rendition(fmcf->catalog, clip, (uint32_t) ri, &rend);

        if (path.segment >= rend.nsegments) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "feed_media: clip \"%*s\" rendition \"%*s\" has "
                          "no segment %uD", path.clip_len, path.clip,
                          path.rendition_len, path.rendition,
                          path.segment);
            return NGX_HTTP_NOT_FOUND;
        }
    }

    return ngx_http_feed_media_file(r, &path);
}


ngx_int_t
ngx_http_feed_sign(ngx_http_request_t *r, ngx_str_t *clip, uint32_t idx,
    uint64_t limit, ngx_str_t *query)
{
    u_char                     *p;
    size_t                      n;
    uint64_t                    expires;
    ngx_http_feed_loc_conf_t   *flcf;
    ngx_http_feed_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);

    if (fmcf->nkeys == 0) {
        ngx_str_null(query);
        return NGX_OK;
    }

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);

    /*
     * Expiry rounded up to the minute: every playlist written within the
     * same minute is byte-for-byte identical, which keeps them cacheable.
     * A playlist never hands out a token that outlives the one it was
     * fetched with (limit), so refetching cannot extend access, and a
     * token of a retired key is not renewed past its own expiry.
     */

    expires = (uint64_t) ngx_time() + (uint64_t) flcf->url_ttl;
    expires = (expires + 59) / 60 * 60;

    if (limit && limit < expires) {
        expires = limit;
    }

    p = ngx_pnalloc(r->pool, sizeof("?token=") - 1 + FEED_URL_TOKEN_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    query->data = p;
    p = ngx_cpymem(p, "?token=", sizeof("?token=") - 1);

    n = feed_url_token_indexed(fmcf->token_cache, &fmcf->keys[0], idx,
                               (const char *) clip->data, clip->len, expires,
                               (char *) p);
    if (n == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "feed_media: cannot sign clip \"%V\"", clip);
        return NGX_ERROR;
    }

    query->len = p + n - query->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_feed_media_playlist(ngx_http_request_t *r, const feed_catalog_t *cat,
    const feed_clip_t *clip, feed_path_t *path, int rendition, uint64_t limit)
{
    u_char             *p;
    size_t              len;
    uint32_t            nparts;
    ngx_buf_t          *b;
    ngx_str_t           id, query, pid, pquery;
    feed_hls_part_t     parts[2];
    const feed_clip_t  *parent;

    id.data = (u_char *) path->clip;
    id.len = path->clip_len;

    if (ngx_http_feed_sign(r, &id, FEED_NONE, limit, &query) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nparts = 0;

    if (rendition < 0) {
        len = feed_hls_master(cat, clip, (const char *) query.data,
                              query.len, NULL);

    } else {
        nparts = feed_hls_clip_parts(cat, clip, (uint32_t) rendition, parts);

        if (nparts == 2) {

            /*
             * A stitch: the parent's segments are the parent's files,
             * under their own token, next to the stitch's directory.
             */

            parent = feed_catalog_clip(cat, clip->parent);
            pid.data = (u_char *) feed_clip_id(cat, parent);
            pid.len = ngx_strlen(pid.data);

            if (ngx_http_feed_sign(r, &pid, FEED_NONE, limit, &pquery)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p = ngx_pnalloc(r->pool, sizeof("../../") - 1 + pid.len + 1
                                     + parts[0].r.name_len + 1);
            if (p == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            parts[0].base = (const char *) p;
            p = ngx_cpymem(p, "../../", sizeof("../../") - 1);
            p = ngx_cpymem(p, pid.data, pid.len);
            *p++ = '/';
            p = ngx_cpymem(p, parts[0].r.name, parts[0].r.name_len);
            *p++ = '/';
            parts[0].base_len = p - (u_char *) parts[0].base;
            parts[0].query = (const char *) pquery.data;
            parts[0].query_len = pquery.len;
        }

        parts[nparts - 1].query = (const char *) query.data;
        parts[nparts - 1].query_len = query.len;

        len = (nparts == 2)
              ? feed_hls_parts(parts, 2, feed_hls_clip_target(cat, clip),
                               NULL)
              : feed_hls_media(cat, clip, (uint32_t) rendition,
                               (const char *) query.data, query.len, NULL);
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rendition < 0) {
        b->last += feed_hls_master(cat, clip, (const char *) query.data,
                                   query.len, (char *) b->pos);

    } else if (nparts == 2) {
        b->last += feed_hls_parts(parts, 2, feed_hls_clip_target(cat, clip),
                                  (char *) b->pos);

    } else {
        b->last += feed_hls_media(cat, clip, (uint32_t) rendition,
                                  (const char *) query.data, query.len,
                                  (char *) b->pos);
    }

    return ngx_http_feed_send_playlist(r, b);
}


/* a playlist in one buffer: 200, its type and length, then the body */

ngx_int_t
ngx_http_feed_send_playlist(ngx_http_request_t *r, ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    r->headers_out.content_type = ngx_http_feed_m3u8_type;
    r->headers_out.content_type_len = ngx_http_feed_m3u8_type.len;
    r->headers_out.content_type_lowcase = NULL;

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
ngx_http_feed_media_file(ngx_http_request_t *r, feed_path_t *path)
{
    u_char                    *last;
    size_t                     len;
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_str_t                  name, *type;
    ngx_uint_t                 level;
    ngx_chain_t                out;
    ngx_open_file_info_t       of;
    ngx_http_feed_metrics_t   *m;
    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_feed_loc_conf_t  *flcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    len = flcf->media_root.len + path->clip_len + path->rendition_len
          + NGX_HTTP_FEED_NAME_EXTRA;

    name.data = ngx_pnalloc(r->pool, len);
    if (name.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_http_feed_media_name(name.data, flcf, path,
                                    path->type == FEED_PATH_INIT,
                                    path->segment);
    name.len = last - name.data;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "feed_media file: \"%V\"", &name);

    if (path->type == FEED_PATH_INIT) {
        type = &ngx_http_feed_mp4_type;

    } else {
        type = &ngx_http_feed_m4s_type;
    }

    if (flcf->cache) {
        rc = ngx_http_feed_cache_serve(r, flcf->cache, &name, type);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    ngx_memzero(&of, sizeof(ngx_open_file_info_t));

    of.read_ahead = clcf->read_ahead;
    of.directio = clcf->directio;
    of.valid = clcf->open_file_cache_valid;
    of.min_uses = clcf->open_file_cache_min_uses;
    of.errors = clcf->open_file_cache_errors;
    of.events = clcf->open_file_cache_events;

    if (ngx_http_set_disable_symlinks(r, clcf, &name, &of) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_open_cached_file(clcf->open_file_cache, &name, &of, r->pool)
        != NGX_OK)
    {
        switch (of.err) {

        case 0:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;

        case NGX_ENOENT:
        case NGX_ENOTDIR:
        case NGX_ENAMETOOLONG:

            /* the catalog names this file: the media root disagrees */

            level = NGX_LOG_ERR;
            rc = NGX_HTTP_NOT_FOUND;
            break;

        case NGX_EACCES:
#if (NGX_HAVE_OPENAT)
        case NGX_EMLINK:
        case NGX_ELOOP:
#endif

            level = NGX_LOG_ERR;
            rc = NGX_HTTP_FORBIDDEN;
            break;

        default:

            level = NGX_LOG_CRIT;
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        ngx_log_error(level, r->connection->log, of.err,
                      "feed_media: %s \"%s\" failed", of.failed,
                      name.data);

        return rc;
    }

    if (!of.is_file) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "feed_media: \"%s\" is not a file", name.data);
        return NGX_HTTP_NOT_FOUND;
    }

    r->root_tested = !r->error_page;
    r->connection->log->action = "sending feed media to client";

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = of.size;
    r->headers_out.last_modified_time = of.mtime;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_http_set_etag(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->allow_ranges = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->file = ngx_pcalloc(r->pool, sizeof(ngx_file_t));
    if (b->file == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (flcf->cache) {
        ngx_http_feed_cache_fill(r, flcf->cache, &name, &of);
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    m = ngx_http_feed_metrics(r);

    if (m && r->headers_out.content_length_n > 0) {
        (void) ngx_atomic_fetch_add(&m->bytes_disk,
                                    r->headers_out.content_length_n);
    }

    b->file_pos = 0;
    b->file_last = of.size;

    b->in_file = b->file_last ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    b->sync = (b->last_buf || b->in_file) ? 0 : 1;

    b->file->fd = of.fd;
    b->file->name = name;
    b->file->log = r->connection->log;
    b->file->directio = of.is_directio;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* root "/" clip "/" rendition "/" (init.mp4 | N.m4s) NUL */

static u_char *
ngx_http_feed_media_name(u_char *p, ngx_http_feed_loc_conf_t *flcf,
    feed_path_t *path, int init, uint32_t segment)
{
    p = ngx_cpymem(p, flcf->media_root.data, flcf->media_root.len);
    *p++ = '/';
    p = ngx_cpymem(p, path->clip, path->clip_len);
    *p++ = '/';
    p = ngx_cpymem(p, path->rendition, path->rendition_len);
    *p++ = '/';

    if (init) {
        p = ngx_cpymem(p, "init.mp4", sizeof("init.mp4") - 1);

    } else {
        p = ngx_sprintf(p, "%uD.m4s", segment);
    }

    *p = '\0';

    return p;
}


/*
 * A player that fetched a media playlist asks for its init segment and
 * first segments next: they are offered to the cache now, in the
 * background, so that they can be hits by then.
 */

static void
ngx_http_feed_media_warm(ngx_http_request_t *r, feed_path_t *path,
    feed_rendition_t *rend)
{
    u_char                     *p;
    size_t                      len;
    ngx_str_t                   names[9];
    ngx_uint_t                  i, n;
    ngx_http_feed_loc_conf_t   *flcf;
    ngx_http_feed_main_conf_t  *fmcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);
    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);

    n = ngx_min(flcf->cache_warm, rend->nsegments);
    len = flcf->media_root.len + path->clip_len + path->rendition_len
          + NGX_HTTP_FEED_NAME_EXTRA;

    for (i = 0; i <= n; i++) {
        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return;
        }

        names[i].data = p;
        names[i].len = ngx_http_feed_media_name(p, flcf, path, i == 0,
                                                (uint32_t) (i - 1))
                       - p;
    }

    if (ngx_http_feed_cache_warm(fmcf, flcf->cache, names, n + 1,
                                 r->connection->log)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "feed_media: cannot warm the cache");
    }
}


/* a request of a kind, in the metrics */

void
ngx_http_feed_count(ngx_http_request_t *r, ngx_uint_t kind)
{
    ngx_http_feed_metrics_t  *m;

    m = ngx_http_feed_metrics(r);

    if (m) {
        (void) ngx_atomic_fetch_add(&m->requests[kind], 1);
    }
}


static ngx_int_t
ngx_http_feed_media_options(ngx_http_request_t *r)
{
    ngx_int_t  rc;
    ngx_str_t  methods, headers;

    ngx_str_set(&methods, "GET, HEAD, OPTIONS");
    ngx_str_set(&headers, "Range");

    if (ngx_http_feed_add_header(r, "Access-Control-Allow-Methods", &methods)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_feed_add_header(r, "Access-Control-Allow-Headers", &headers)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


ngx_int_t
ngx_http_feed_add_header(ngx_http_request_t *r, char *name, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}
