
/*
 * Copyright (C) ngx_feed_module developers
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_feed_module.h"


static void *ngx_http_feed_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_feed_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_feed_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_feed_catalog(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_feed_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_feed_media(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_feed_read_key(ngx_conf_t *cf, ngx_str_t *name,
    feed_key_t *key);
static void ngx_http_feed_catalog_cleanup(void *data);
static char *ngx_http_feed_url_ttl(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_feed_cors(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_feed_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_feed_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_feed_cache_warm_check(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_feed_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_feed_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_feed_init_process(ngx_cycle_t *cycle);
static void ngx_http_feed_exit_process(ngx_cycle_t *cycle);
static char *ngx_http_feed_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_feed_stages(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_post_t  ngx_http_feed_url_ttl_post =
    { ngx_http_feed_url_ttl };

static ngx_conf_post_t  ngx_http_feed_cors_post =
    { ngx_http_feed_cors };

static ngx_conf_post_t  ngx_http_feed_cache_warm_post =
    { ngx_http_feed_cache_warm_check };


static ngx_conf_enum_t  ngx_http_feed_cache_send[] = {
    { ngx_string("pin"), 0 },
    { ngx_string("copy"), 1 },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_feed_commands[] = {

    { ngx_string("feed_catalog"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_feed_catalog,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_feed_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_media_root"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, media_root),
      NULL },

    { ngx_string("feed_media"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_feed_media,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_url_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, url_ttl),
      &ngx_http_feed_url_ttl_post },

    { ngx_string("feed_cors"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, cors),
      &ngx_http_feed_cors_post },

    { ngx_string("feed_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_feed_cache_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_feed_cache,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_cache_send"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, cache_copy),
      &ngx_http_feed_cache_send },

    { ngx_string("feed_cache_warm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, cache_warm),
      &ngx_http_feed_cache_warm_post },

    { ngx_string("feed_cache_inline_fill"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, cache_inline),
      NULL },

    { ngx_string("feed_cache_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, thread_pool_name),
      NULL },

    { ngx_string("feed_state_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_feed_state_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_session_cookie"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, cookie_name),
      NULL },

    { ngx_string("feed_session_secure"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, cookie_secure),
      NULL },

    { ngx_string("feed_session_max_age"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, cookie_max_age),
      NULL },

    { ngx_string("feed_block"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_feed_block,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_catalog_watch"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, catalog_watch),
      NULL },

    { ngx_string("feed_trend_half_life"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, trend_half_life),
      NULL },

    { ngx_string("feed_fresh_window"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, fresh_window),
      NULL },

    { ngx_string("feed_clusters"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, clusters),
      NULL },

    { ngx_string("feed_manifest"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_feed_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_remixes"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_feed_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_sound"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_feed_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_playlist"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_feed_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_playlist_bandwidth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, playlist_bandwidth),
      NULL },

    { ngx_string("feed_events"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_feed_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_page_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, page_size),
      NULL },

    { ngx_string("feed_page_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, page_max),
      NULL },

    { ngx_string("feed_batch_send"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, batch_send),
      NULL },

    { ngx_string("feed_candidates"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, candidates),
      NULL },

    { ngx_string("feed_source"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_feed_plugin,
      NGX_HTTP_LOC_CONF_OFFSET,
      FEED_PLUGIN_SOURCE,
      NULL },

    { ngx_string("feed_score"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_feed_plugin,
      NGX_HTTP_LOC_CONF_OFFSET,
      FEED_PLUGIN_SCORER,
      NULL },

    { ngx_string("feed_filter"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_feed_plugin,
      NGX_HTTP_LOC_CONF_OFFSET,
      FEED_PLUGIN_FILTER,
      NULL },

    { ngx_string("feed_explore_share"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_feed_float,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, explore_share),
      NULL },

    { ngx_string("feed_zeitgeist_share"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_feed_float,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, zeitgeist_share),
      NULL },

    { ngx_string("feed_diversity"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_feed_float,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, diversity),
      NULL },

    { ngx_string("feed_promote"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_feed_float,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, promote),
      NULL },

    { ngx_string("feed_exposure_stages"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE3,
      ngx_http_feed_stages,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_freshness_half_life"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, freshness_half_life),
      NULL },

    { ngx_string("feed_qualified_view"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, qualified_view),
      NULL },

    { ngx_string("feed_media_uri"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, media_uri),
      NULL },

    { ngx_string("feed_events_rate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_feed_events_rate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_events_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, events_max_body),
      NULL },

    { ngx_string("feed_rank_by_lua_block"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_BLOCK
                        |NGX_CONF_NOARGS,
      ngx_http_feed_lua_block,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_rank_by_lua_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_feed_lua_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("feed_lua_time_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_feed_loc_conf_t, lua_time_limit),
      NULL },

    { ngx_string("feed_lua_package_path"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, lua_package_path),
      NULL },

    { ngx_string("feed_lua_memory_limit"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, lua_memory_limit),
      NULL },

    { ngx_string("feed_lua_jit"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_feed_main_conf_t, lua_jit),
      NULL },

    { ngx_string("feed_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_feed_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_feed_module_ctx = {
    ngx_http_feed_preconfiguration,        /* preconfiguration */
    ngx_http_feed_postconfiguration,       /* postconfiguration */

    ngx_http_feed_create_main_conf,        /* create main configuration */
    ngx_http_feed_init_main_conf,          /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_feed_create_loc_conf,         /* create location configuration */
    ngx_http_feed_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_feed_module = {
    NGX_MODULE_V1,
    &ngx_http_feed_module_ctx,             /* module context */
    ngx_http_feed_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_feed_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_feed_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_feed_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_feed_main_conf_t  *fmcf;

    fmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_feed_main_conf_t));
    if (fmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     fmcf->catalog_path = { 0, NULL };
     *     fmcf->catalog = NULL;
     *     fmcf->secret_file = { 0, NULL };
     *     fmcf->nkeys = 0;
     *     fmcf->thread_pool_name = { 0, NULL };
     *     fmcf->metrics_zone = NULL;
     */

    if (ngx_array_init(&fmcf->caches, cf->pool, 2,
                       sizeof(ngx_http_feed_cache_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&fmcf->blocks, cf->pool, 2,
                       sizeof(ngx_http_feed_block_t))
        != NGX_OK)
    {
        return NULL;
    }

    fmcf->cookie_secure = NGX_CONF_UNSET;
    fmcf->cookie_max_age = NGX_CONF_UNSET;
    fmcf->catalog_watch = NGX_CONF_UNSET_MSEC;
    fmcf->trend_half_life = NGX_CONF_UNSET;
    fmcf->clusters = NGX_CONF_UNSET_UINT;
    fmcf->fresh_window = NGX_CONF_UNSET;
    fmcf->lua_memory_limit = NGX_CONF_UNSET_SIZE;
    fmcf->lua_jit = NGX_CONF_UNSET;

    return fmcf;
}


static char *
ngx_http_feed_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_feed_main_conf_t *fmcf = conf;

    if (fmcf->cookie_name.data == NULL) {
        ngx_str_set(&fmcf->cookie_name, "feed_sid");
    }

    ngx_conf_init_value(fmcf->cookie_secure, 0);
    ngx_conf_init_value(fmcf->cookie_max_age, 365 * 86400);
    ngx_conf_init_msec_value(fmcf->catalog_watch, 5000);
    ngx_conf_init_value(fmcf->trend_half_life, 3600);
    ngx_conf_init_uint_value(fmcf->clusters, 0);
    ngx_conf_init_value(fmcf->fresh_window, 7 * 86400);

    if (fmcf->trend_half_life < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_trend_half_life\" must be at least 1s");
        return NGX_CONF_ERROR;
    }

    if (fmcf->clusters > 256) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_clusters\" must be from 0 (automatic) "
                           "to 256");
        return NGX_CONF_ERROR;
    }

    return ngx_http_feed_lua_init_main_conf(cf, fmcf);
}


static void *
ngx_http_feed_create_loc_conf(ngx_conf_t *cf)
{
    ngx_uint_t                 i;
    ngx_http_feed_loc_conf_t  *flcf;

    flcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_feed_loc_conf_t));
    if (flcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     flcf->media_root = { 0, NULL };
     *     flcf->cors = { 0, NULL };
     *     flcf->prefix = { 0, NULL };
     *     flcf->cache = NULL;
     *     flcf->cache_name = { 0, NULL };
     */

    flcf->media = NGX_CONF_UNSET;
    flcf->url_ttl = NGX_CONF_UNSET;
    flcf->cache_copy = NGX_CONF_UNSET_UINT;
    flcf->cache_warm = NGX_CONF_UNSET_UINT;
    flcf->cache_inline = NGX_CONF_UNSET_SIZE;
    flcf->page_size = NGX_CONF_UNSET_UINT;
    flcf->page_max = NGX_CONF_UNSET_UINT;
    flcf->batch_send = NGX_CONF_UNSET;
    flcf->playlist_bandwidth = NGX_CONF_UNSET_UINT;
    flcf->candidates = NGX_CONF_UNSET_UINT;
    flcf->explore_share = NGX_HTTP_FEED_WEIGHT_UNSET;
    flcf->zeitgeist_share = NGX_HTTP_FEED_WEIGHT_UNSET;
    flcf->diversity = NGX_HTTP_FEED_WEIGHT_UNSET;
    flcf->promote = NGX_HTTP_FEED_WEIGHT_UNSET;
    flcf->freshness_half_life = NGX_CONF_UNSET;
    flcf->qualified_view = NGX_CONF_UNSET_MSEC;
    flcf->stages = NGX_CONF_UNSET_PTR;
    flcf->events_rate = NGX_CONF_UNSET_UINT;
    flcf->events_burst = NGX_CONF_UNSET_UINT;
    flcf->events_max_body = NGX_CONF_UNSET_SIZE;
    flcf->lua_hook = NGX_CONF_UNSET_PTR;
    flcf->lua_time_limit = NGX_CONF_UNSET_MSEC;

    for (i = 0; i < 32; i++) {
        flcf->weight[i] = NGX_HTTP_FEED_WEIGHT_UNSET;
    }

    return flcf;
}


static char *
ngx_http_feed_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_feed_loc_conf_t *prev = parent;
    ngx_http_feed_loc_conf_t *conf = child;

    ngx_file_info_t             fi;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_feed_main_conf_t  *fmcf;

    /*
     * The content handler is not inherited by nested locations, but an
     * "if" block inside a feed_media location runs it with its own
     * configuration: the prefix must be there too.
     */

    if (conf->media == NGX_CONF_UNSET) {
        conf->media = 0;
    }

    ngx_conf_merge_str_value(conf->prefix, prev->prefix, "");
    ngx_conf_merge_str_value(conf->media_root, prev->media_root, "");
    ngx_conf_merge_sec_value(conf->url_ttl, prev->url_ttl, 3600);
    ngx_conf_merge_str_value(conf->cors, prev->cors, "");
    ngx_conf_merge_uint_value(conf->cache_copy, prev->cache_copy, 0);
    ngx_conf_merge_uint_value(conf->cache_warm, prev->cache_warm, 0);
    ngx_conf_merge_size_value(conf->cache_inline, prev->cache_inline, 0);

    if (conf->cache_name.data == NULL) {
        conf->cache_name = prev->cache_name;
        conf->cache_file = prev->cache_file;
        conf->cache_line = prev->cache_line;
    }

    if (ngx_http_feed_cache_resolve(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_feed_merge_rank(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_ptr_value(conf->lua_hook, prev->lua_hook, NULL);
    ngx_conf_merge_msec_value(conf->lua_time_limit, prev->lua_time_limit,
                              10);

    if (conf->lua_time_limit == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_lua_time_limit\" must be at least 1ms");
        return NGX_CONF_ERROR;
    }

    if (conf->cors.len == 3
        && ngx_strncmp(conf->cors.data, "off", 3) == 0)
    {
        ngx_str_null(&conf->cors);
    }

    if (conf->media_root.len) {
        if (ngx_conf_full_name(cf->cycle, &conf->media_root, 0) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (!conf->media) {
        return NGX_CONF_OK;
    }

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_feed_module);

    if (fmcf->catalog == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_media\" in location \"%V\" needs "
                           "\"feed_catalog\" at the http level",
                           &conf->prefix);
        return NGX_CONF_ERROR;
    }

    if (conf->media_root.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_media\" in location \"%V\" needs "
                           "\"feed_media_root\"", &conf->prefix);
        return NGX_CONF_ERROR;
    }

    /* a typo in the media root is better found by nginx -t than by 404s */

    if (ngx_file_info(conf->media_root.data, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"feed_media_root\" \"%V\" of location \"%V\" "
                           "cannot be used", &conf->media_root,
                           &conf->prefix);
        return NGX_CONF_ERROR;
    }

    if (!ngx_is_dir(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_media_root\" \"%V\" of location \"%V\" "
                           "is not a directory", &conf->media_root,
                           &conf->prefix);
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != ngx_http_feed_media_handler) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_media\" in location \"%V\" conflicts "
                           "with another content handler (proxy_pass, "
                           "fastcgi_pass, return ...)", &conf->prefix);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_feed_catalog(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_main_conf_t *fmcf = conf;

    u_char              *path;
    ngx_str_t           *value;
    ngx_msec_t           start;
    feed_err_t           err;
    ngx_pool_cleanup_t  *cln;

    if (fmcf->catalog_path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    fmcf->catalog_path = value[1];

    if (ngx_conf_full_name(cf->cycle, &fmcf->catalog_path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* ngx_conf_full_name() leaves a NUL after the name */

    path = fmcf->catalog_path.data;

    fmcf->catalog = feed_catalog_new();
    if (fmcf->catalog == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        feed_catalog_free(fmcf->catalog);
        fmcf->catalog = NULL;
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_feed_catalog_cleanup;
    cln->data = fmcf->catalog;

    ngx_time_update();
    start = ngx_current_msec;
    err.line = 0;

    if (feed_catalog_load(fmcf->catalog, (const char *) path, &err)
        != FEED_OK)
    {
        if (err.line) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "feed_catalog \"%s\", line %ul: %s",
                               path, err.line, err.msg);
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "feed_catalog \"%s\": %s", path, err.msg);
        }

        return NGX_CONF_ERROR;
    }

    ngx_time_update();

    ngx_log_error(NGX_LOG_INFO, cf->log, 0,
                  "feed_catalog \"%s\": %uD clips in %M ms, %uz bytes",
                  path, feed_catalog_count(fmcf->catalog),
                  ngx_current_msec - start,
                  feed_catalog_memory(fmcf->catalog, NULL));

    return NGX_CONF_OK;
}


static void
ngx_http_feed_catalog_cleanup(void *data)
{
    feed_catalog_free(data);
}


static char *
ngx_http_feed_secret_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_main_conf_t *fmcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (fmcf->nkeys) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_feed_read_key(cf, &value[i], &fmcf->keys[i - 1])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    fmcf->token_cache = ngx_pcalloc(cf->pool, sizeof(feed_token_cache_t));
    if (fmcf->token_cache == NULL) {
        return NGX_CONF_ERROR;
    }

    fmcf->secret_file = value[1];
    fmcf->nkeys = cf->args->nelts - 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_feed_read_key(ngx_conf_t *cf, ngx_str_t *name, feed_key_t *key)
{
    u_char           buf[FEED_KEY_MAX + 64];
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_str_t        file;
    feed_err_t       err;
    ngx_file_info_t  fi;

    file = *name;

    if (ngx_conf_full_name(cf->cycle, &file, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "feed_secret_file: cannot open \"%V\"", &file);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "feed_secret_file: cannot stat \"%V\"", &file);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    if (!ngx_is_file(&fi) || ngx_file_size(&fi) > (off_t) sizeof(buf)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "feed_secret_file: \"%V\" is not a key file of "
                           "at most %d bytes", &file, FEED_KEY_MAX);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));
    ngx_close_file(fd);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "feed_secret_file: cannot read \"%V\"", &file);
        return NGX_ERROR;
    }

    if (feed_key_set(key, (const char *) buf, (size_t) n, &err) != FEED_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "feed_secret_file: \"%V\": %s", &file, err.msg);
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_ERROR;
    }

    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_OK;
}


static char *
ngx_http_feed_media(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_loc_conf_t *flcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (flcf->media != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

#if (NGX_PCRE)
    if (clcf->regex) {
        return "needs a prefix location, not a regex one";
    }
#endif

    if (clcf->named) {
        return "needs a prefix location, not a named one";
    }

    if (clcf->exact_match) {
        return "needs a prefix location, not an exact one";
    }

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    flcf->media = 1;
    flcf->prefix = clcf->name;
    clcf->handler = ngx_http_feed_media_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_feed_url_ttl(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *ttl = data;

    /* tokens carry at most 10 digits of expiry: keep well inside that */

    if (*ttl < 1 || *ttl > 10 * 365 * 86400) {
        return "must be between 1 second and 10 years";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_feed_cors(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *origin = data;

    u_char  *p, *last, *host;

    /* "*", "null", "off" or one scheme://host[:port] origin */

    if ((origin->len == 1 && origin->data[0] == '*')
        || (origin->len == 3 && ngx_strncmp(origin->data, "off", 3) == 0)
        || (origin->len == 4 && ngx_strncmp(origin->data, "null", 4) == 0))
    {
        return NGX_CONF_OK;
    }

    p = origin->data;
    last = p + origin->len;

    if (origin->len > 7 && ngx_strncmp(p, "http://", 7) == 0) {
        p += 7;

    } else if (origin->len > 8 && ngx_strncmp(p, "https://", 8) == 0) {
        p += 8;

    } else {
        return "must be \"*\", \"null\", \"off\" or one origin like "
               "\"https://app.example\"";
    }

    host = p;

    while (p < last
           && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
               || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
    {
        p++;
    }

    if (p == host) {
        return "has no host in the origin";
    }

    if (p < last && *p == ':') {
        for (p++; p < last && *p >= '0' && *p <= '9'; p++) {
            /* port */
        }
    }

    if (p != last) {
        return "must be one origin: scheme://host[:port], no path or list";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_feed_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_loc_conf_t *flcf = conf;

    ngx_str_t  *value;

    if (flcf->cache_name.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    flcf->cache_name = value[1];
    flcf->cache_file = cf->conf_file->file.name.data;
    flcf->cache_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static char *
ngx_http_feed_cache_warm_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *n = data;

    if (*n > 8) {
        return "must be between 0 and 8 segments";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_feed_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_feed_main_conf_t  *fmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    clcf->handler = ngx_http_feed_status_handler;

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_feed_module);
    fmcf->used = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_feed_preconfiguration(ngx_conf_t *cf)
{
    ngx_str_t             name;
    ngx_http_variable_t  *var;

    ngx_str_set(&name, "feed_cache_status");

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_feed_cache_variable;

    return NGX_OK;
}


static ngx_int_t
ngx_http_feed_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_feed_main_conf_t  *fmcf;

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_feed_module);

    if (ngx_http_feed_cache_postconf(cf, fmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_feed_feed_postconf(cf, fmcf);
}


static ngx_int_t
ngx_http_feed_init_process(ngx_cycle_t *cycle)
{
    if (ngx_http_feed_cache_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_feed_feed_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_feed_lua_init_process(cycle);
}


static void
ngx_http_feed_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_feed_lua_exit_process(cycle);
}


static char *
ngx_http_feed_stages(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_loc_conf_t *flcf = conf;

    ngx_int_t    n, last;
    ngx_str_t   *value;
    ngx_uint_t   i, *stage;

    if (flcf->stages != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    flcf->stages = ngx_array_create(cf->pool, FEED_STAGES,
                                    sizeof(ngx_uint_t));
    if (flcf->stages == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    last = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        n = ngx_atoi(value[i].data, value[i].len);

        if (n <= last) {
            return "takes three growing impression counts, e.g. "
                   "\"100 1000 10000\"";
        }

        stage = ngx_array_push(flcf->stages);
        if (stage == NULL) {
            return NGX_CONF_ERROR;
        }

        *stage = n;
        last = n;
    }

    return NGX_CONF_OK;
}


/*
 * A zone directive's first argument, NAME:SIZE, with SIZE at least "min"
 * ("least" ends the message that says it is not).
 */

ngx_int_t
ngx_http_feed_zone_arg(ngx_conf_t *cf, ngx_command_t *cmd, size_t min,
    const char *least, ngx_str_t *name, size_t *size)
{
    u_char     *p;
    ssize_t     n;
    ngx_str_t  *value, s;

    value = cf->args->elts;

    p = (u_char *) ngx_strlchr(value[1].data, value[1].data + value[1].len,
                               ':');
    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\": expected NAME:SIZE", &cmd->name,
                           &value[1]);
        return NGX_ERROR;
    }

    name->data = value[1].data;
    name->len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    n = ngx_parse_size(&s);

    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\": invalid size \"%V\"", &cmd->name,
                           name, &s);
        return NGX_ERROR;
    }

    if ((size_t) n < min) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\": size %V is too small, %s",
                           &cmd->name, name, &s, least);
        return NGX_ERROR;
    }

    *size = n;

    return NGX_OK;
}


/*
 * A zone's region for the core: one allocation of all the slab pool's
 * free pages, made when the zone is new; the pool itself is kept for its
 * mutex, which nginx force-unlocks when a worker dies holding it.
 */

void *
ngx_http_feed_zone_region(ngx_shm_zone_t *shm_zone, size_t *size)
{
    void             *region;
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        *size = shpool->end - (u_char *) shpool->data;
        return shpool->data;
    }

    *size = shpool->pfree << ngx_pagesize_shift;

    region = ngx_slab_alloc(shpool, *size);
    if (region == NULL) {
        return NULL;
    }

    shpool->data = region;
    shpool->log_nomem = 0;

    return region;
}
