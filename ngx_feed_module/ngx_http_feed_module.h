
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
#include "feed_cache.h"


/* request kinds, as counted in the metrics */

#define NGX_HTTP_FEED_REQ_MASTER     0
#define NGX_HTTP_FEED_REQ_PLAYLIST   1
#define NGX_HTTP_FEED_REQ_INIT       2
#define NGX_HTTP_FEED_REQ_SEGMENT    3
#define NGX_HTTP_FEED_REQ_OTHER      4     /* refused before a kind */
#define NGX_HTTP_FEED_REQ_STATUS     5
#define NGX_HTTP_FEED_REQ_N          6

/* $feed_cache_status */

#define NGX_HTTP_FEED_CACHE_NONE     0
#define NGX_HTTP_FEED_CACHE_HIT      1
#define NGX_HTTP_FEED_CACHE_MISS     2
#define NGX_HTTP_FEED_CACHE_SKIP     3
#define NGX_HTTP_FEED_CACHE_FILLING  4
#define NGX_HTTP_FEED_CACHE_BYPASS   5
#define NGX_HTTP_FEED_CACHE_BUSY     6
#define NGX_HTTP_FEED_CACHE_ERROR    7
#define NGX_HTTP_FEED_CACHE_N        8


typedef struct {
    ngx_atomic_t              requests[NGX_HTTP_FEED_REQ_N];
    ngx_atomic_t              cache_status[NGX_HTTP_FEED_CACHE_N];
    ngx_atomic_t              bytes_cache;
    ngx_atomic_t              bytes_disk;
    ngx_atomic_t              fills;
    ngx_atomic_t              fill_errors;
    ngx_atomic_t              warms;
} ngx_http_feed_metrics_t;


typedef struct {
    ngx_str_t                 name;
    size_t                    size;
    size_t                    max_object;
    feed_cache_params_t       params;
    ngx_shm_zone_t           *shm_zone;
    ngx_slab_pool_t          *shpool;
    void                     *region;
    size_t                    region_size;
} ngx_http_feed_cache_t;


typedef struct {
    ngx_str_t                 catalog_path;
    feed_catalog_t           *catalog;

    ngx_str_t                 secret_file;
    feed_key_t                keys[2];      /* current, previous */
    ngx_uint_t                nkeys;
    feed_token_cache_t       *token_cache;  /* per worker after fork */

    ngx_array_t               caches;       /* ngx_http_feed_cache_t * */
    ngx_str_t                 thread_pool_name;
    void                     *thread_pool;
    ngx_shm_zone_t           *metrics_zone;
    ngx_flag_t                used;
} ngx_http_feed_main_conf_t;


typedef struct {
    ngx_flag_t                media;
    ngx_str_t                 media_root;
    time_t                    url_ttl;
    ngx_str_t                 cors;
    ngx_str_t                 prefix;

    ngx_http_feed_cache_t    *cache;
    ngx_str_t                 cache_name;   /* "off": none */
    u_char                   *cache_file;
    ngx_uint_t                cache_line;
    ngx_uint_t                cache_copy;
    ngx_uint_t                cache_warm;
    size_t                    cache_inline;
} ngx_http_feed_loc_conf_t;


typedef struct {
    ngx_uint_t                cache_status;
} ngx_http_feed_ctx_t;


ngx_int_t ngx_http_feed_media_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_feed_sign(ngx_http_request_t *r, ngx_str_t *clip,
    uint64_t limit, ngx_str_t *query);

char *ngx_http_feed_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_feed_cache_resolve(ngx_conf_t *cf,
    ngx_http_feed_loc_conf_t *flcf);
ngx_int_t ngx_http_feed_cache_postconf(ngx_conf_t *cf,
    ngx_http_feed_main_conf_t *fmcf);
ngx_int_t ngx_http_feed_cache_init_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_feed_cache_serve(ngx_http_request_t *r,
    ngx_http_feed_cache_t *cache, ngx_str_t *name, ngx_str_t *type);
void ngx_http_feed_cache_fill(ngx_http_request_t *r,
    ngx_http_feed_cache_t *cache, ngx_str_t *name, ngx_open_file_info_t *of);
ngx_int_t ngx_http_feed_cache_warm(ngx_http_feed_main_conf_t *fmcf,
    ngx_http_feed_cache_t *cache, ngx_str_t *names, ngx_uint_t n,
    ngx_log_t *log);
void ngx_http_feed_set_cache_status(ngx_http_request_t *r,
    ngx_uint_t status);
ngx_int_t ngx_http_feed_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
ngx_http_feed_metrics_t *ngx_http_feed_metrics(ngx_http_request_t *r);
ngx_int_t ngx_http_feed_status_handler(ngx_http_request_t *r);


extern ngx_module_t  ngx_http_feed_module;


#endif /* _NGX_HTTP_FEED_MODULE_H_INCLUDED_ */
