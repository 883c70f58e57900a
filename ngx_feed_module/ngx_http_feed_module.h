
/*
 * Copyright (C) ngx_feed_module developers
 */


#ifndef _NGX_HTTP_FEED_MODULE_H_INCLUDED_
#define _NGX_HTTP_FEED_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "feed_catalog.h"
#include "feed_token.h"
#include "feed_hls.h"


typedef struct {
    ngx_str_t                 catalog_path;
    feed_catalog_t           *catalog;

    ngx_str_t                 secret_file;
    feed_key_t                keys[2];      /* current, previous */
    ngx_uint_t                nkeys;
    feed_token_cache_t       *token_cache;  /* per worker after fork */
} ngx_http_feed_main_conf_t;


typedef struct {
    ngx_flag_t                media;
    ngx_str_t                 media_root;
    time_t                    url_ttl;
    ngx_str_t                 cors;
    ngx_str_t                 prefix;
} ngx_http_feed_loc_conf_t;


ngx_int_t ngx_http_feed_media_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_feed_sign(ngx_http_request_t *r, ngx_str_t *clip,
    uint64_t limit, ngx_str_t *query);


extern ngx_module_t  ngx_http_feed_module;


#endif /* _NGX_HTTP_FEED_MODULE_H_INCLUDED_ */
