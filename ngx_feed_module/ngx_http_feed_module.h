
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
#include "feed_ident.h"
#include "feed_rank.h"
#include "feed_state.h"
#include "feed_feed.h"


/* request kinds, as counted in the metrics */

#define NGX_HTTP_FEED_REQ_MASTER     0
#define NGX_HTTP_FEED_REQ_PLAYLIST   1
#define NGX_HTTP_FEED_REQ_INIT       2
#define NGX_HTTP_FEED_REQ_SEGMENT    3
#define NGX_HTTP_FEED_REQ_OTHER      4     /* refused before a kind */
#define NGX_HTTP_FEED_REQ_STATUS     5
#define NGX_HTTP_FEED_REQ_MANIFEST   6
#define NGX_HTTP_FEED_REQ_EVENTS     7
#define NGX_HTTP_FEED_REQ_N          8

/* events, by outcome */

#define NGX_HTTP_FEED_EV_ACCEPTED    0
#define NGX_HTTP_FEED_EV_INVALID     1
#define NGX_HTTP_FEED_EV_FORGED      2
#define NGX_HTTP_FEED_EV_OTHER       3     /* another viewer's */
#define NGX_HTTP_FEED_EV_EXPIRED     4
#define NGX_HTTP_FEED_EV_DUPLICATE   5
#define NGX_HTTP_FEED_EV_UNKNOWN     6
#define NGX_HTTP_FEED_EV_N           7

#define NGX_HTTP_FEED_WEIGHT_UNSET   -1e30f

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

/* Lua ranking hooks: why a call was served with the C ranking */

#define NGX_HTTP_FEED_LUA_ERROR      0     /* raised an error */
#define NGX_HTTP_FEED_LUA_TIMEOUT    1     /* ran past feed_lua_time_limit */
#define NGX_HTTP_FEED_LUA_MEMORY     2     /* feed_lua_memory_limit */
#define NGX_HTTP_FEED_LUA_RESULT     3     /* returned a malformed result */
#define NGX_HTTP_FEED_LUA_NOHOOK     4     /* failed to load at start */
#define NGX_HTTP_FEED_LUA_FAIL_N     5


typedef struct {
    ngx_atomic_t              requests[NGX_HTTP_FEED_REQ_N];
    ngx_atomic_t              cache_status[NGX_HTTP_FEED_CACHE_N];
    ngx_atomic_t              bytes_cache;
    ngx_atomic_t              bytes_disk;
    ngx_atomic_t              fills;
    ngx_atomic_t              fill_errors;
    ngx_atomic_t              warms;
    ngx_atomic_t              items[FEED_REASONS];
    ngx_atomic_t              events[NGX_HTTP_FEED_EV_N];
    ngx_atomic_t              new_viewers;
    ngx_atomic_t              rate_limited;
    ngx_atomic_t              catalog_appended;
    ngx_atomic_t              batch_pages;
    ngx_atomic_t              batch_sends;
    ngx_atomic_t              state_full;
    ngx_atomic_t              lua_calls;
    ngx_atomic_t              lua_failures[NGX_HTTP_FEED_LUA_FAIL_N];
    ngx_atomic_t              lua_nonfinite;
    ngx_atomic_t              lua_unknown_ids;
    ngx_atomic_t              lua_dropped;
    ngx_atomic_t              lua_restarts;
} ngx_http_feed_metrics_t;


/*
 * The metrics zone holds a copy of the counters per worker (by worker
 * number, modulo NGX_HTTP_FEED_METRICS_SLOTS), each on cache lines of
 * its own, so that a worker's counts never bounce a line between cores;
 * feed_status adds the copies up.  The header tells a zone of this
 * layout from one an older module left behind in a reload.
 */

#define NGX_HTTP_FEED_METRICS_SLOTS  32
#define NGX_HTTP_FEED_METRICS_MAGIC  0x66656564736c6f74   /* "feedslot" */

typedef struct {
    uint64_t                  magic;
    size_t                    stride;
    ngx_uint_t                slots;
    u_char                   *first;
} ngx_http_feed_metrics_zone_t;


typedef struct ngx_http_feed_lua_vm_s  ngx_http_feed_lua_vm_t;


/* a ranking hook: compiled at configuration time, loaded per worker */

typedef struct {
    ngx_str_t                 name;         /* file, or conf file:line */
    u_char                   *code;         /* LuaJIT bytecode */
    size_t                    len;
    int                       ref;          /* per worker: its function */
    time_t                    logged;       /* per worker: errors logged */
    ngx_uint_t                quiet;        /*   at most once a second */
} ngx_http_feed_lua_hook_t;


/* one call of a hook: what the manifest handler knows of the request */

typedef struct {
    ngx_http_request_t              *r;
    ngx_http_feed_lua_hook_t        *hook;
    ngx_msec_t                       time_limit;
    const feed_rank_viewer_t        *viewer;
    uint32_t                         now;
} ngx_http_feed_lua_call_t;


typedef struct {
    ngx_str_t                 name;
    size_t                    size;
    ngx_shm_zone_t           *shm_zone;
    ngx_slab_pool_t          *shpool;
    void                     *region;
    size_t                    region_size;
} ngx_http_feed_state_t;


#define NGX_HTTP_FEED_BLOCK_CAPTION  0
#define NGX_HTTP_FEED_BLOCK_TAGS     1
#define NGX_HTTP_FEED_BLOCK_CREATOR  2
#define NGX_HTTP_FEED_BLOCK_SOUND    3

typedef struct {
    ngx_uint_t                field;
    ngx_str_t                 pattern;
    ngx_regex_t              *regex;
} ngx_http_feed_block_t;


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


/*
 * What a worker knows of a record of the state zone's clip table: the
 * clip's catalog index + 1 (0: not known), to be checked against the
 * record's hash, and its length
 */

typedef struct {
    uint32_t                  idx;
    uint32_t                  play_ms;
} ngx_http_feed_rec_t;


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

    ngx_http_feed_state_t    *state;
    ngx_http_feed_rec_t      *recs;         /* per worker: by clip record */
    uint32_t                  nrecs;
    ngx_str_t                 cookie_name;
    ngx_flag_t                cookie_secure;
    time_t                    cookie_max_age;
    ngx_array_t               blocks;       /* ngx_http_feed_block_t */
    ngx_msec_t                catalog_watch;
    time_t                    trend_half_life;
    ngx_uint_t                clusters;
    time_t                    fresh_window;
    feed_index_t             *index;
    off_t                     catalog_offset;
    ngx_flag_t                feed;         /* a feed location exists */

    ngx_array_t              *lua_hooks;    /* ngx_http_feed_lua_hook_t * */
    ngx_str_t                 lua_package_path;
    size_t                    lua_memory_limit;
    ngx_flag_t                lua_jit;
    ngx_http_feed_lua_vm_t   *lua_vm;       /* per worker */
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

    ngx_uint_t                page_size;
    ngx_uint_t                page_max;
    ngx_flag_t                batch_send;
    ngx_uint_t                candidates;
    float                     explore_share;
    float                     zeitgeist_share;
    float                     diversity;
    float                     promote;
    time_t                    freshness_half_life;
    ngx_msec_t                qualified_view;
    ngx_array_t              *stages;       /* ngx_uint_t x 3 */
    float                     weight[32];
    ngx_str_t                 media_uri;
    ngx_uint_t                playlist_bandwidth;
    ngx_uint_t                events_rate;  /* per second x 1000 */
    ngx_uint_t                events_burst;
    size_t                    events_max_body;
    feed_rank_params_t        rank;         /* merged from the above */

    ngx_http_feed_lua_hook_t *lua_hook;     /* NULL: none */
    ngx_msec_t                lua_time_limit;
} ngx_http_feed_loc_conf_t;


typedef struct {
    ngx_uint_t                cache_status;
} ngx_http_feed_ctx_t;


typedef struct {
    feed_viewer_id_t          id;
    ngx_uint_t                fresh;        /* no valid cookie came */
} ngx_http_feed_who_t;


#define NGX_HTTP_FEED_PAGE_SIZE_ERROR                                        \
    "n must be a whole number from 1 to feed_page_max"


/* a page of the feed or of a listing, ranked and recorded as served */
typedef struct {
    uint32_t                  only;         /* 0 or FEED_ONLY_* */
    uint32_t                  only_key;
    const char               *only_name;
    ngx_uint_t                lean;         /* no clip impressions */
    ngx_uint_t                want;
    uint32_t                  n;
    uint32_t                  first;        /* the viewer's position */
    uint32_t                  now;
    ngx_http_feed_who_t       who;
    feed_item_t               items[FEED_PAGE_MAX];
} ngx_http_feed_page_t;


ngx_int_t ngx_http_feed_media_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_feed_send_playlist(ngx_http_request_t *r, ngx_buf_t *b);
ngx_int_t ngx_http_feed_sign(ngx_http_request_t *r, ngx_str_t *clip,
    uint32_t idx, uint64_t limit, ngx_str_t *query);

ngx_int_t ngx_http_feed_zone_arg(ngx_conf_t *cf, ngx_command_t *cmd,
    size_t min, const char *least, ngx_str_t *name, size_t *size);
void *ngx_http_feed_zone_region(ngx_shm_zone_t *shm_zone, size_t *size);
ngx_int_t ngx_http_feed_add_header(ngx_http_request_t *r, char *name,
    ngx_str_t *value);
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
ngx_http_feed_metrics_t *ngx_http_feed_metrics_own(ngx_shm_zone_t *zone);
ngx_http_feed_metrics_t *ngx_http_feed_metrics_total(ngx_http_request_t *r,
    ngx_http_feed_metrics_t *sum);
void ngx_http_feed_count(ngx_http_request_t *r, ngx_uint_t kind);
ngx_int_t ngx_http_feed_playlist_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_feed_status_handler(ngx_http_request_t *r);

char *ngx_http_feed_state_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_feed_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_feed_plugin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_feed_float(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_feed_events_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_feed_location(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_feed_page_size(ngx_http_request_t *r, ngx_uint_t *want);
ngx_int_t ngx_http_feed_page(ngx_http_request_t *r, ngx_http_feed_page_t *pg);
ngx_int_t ngx_http_feed_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *msg);
ngx_int_t ngx_http_feed_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *p, size_t len);
char *ngx_http_feed_merge_rank(ngx_conf_t *cf,
    ngx_http_feed_loc_conf_t *prev, ngx_http_feed_loc_conf_t *conf);
ngx_int_t ngx_http_feed_feed_postconf(ngx_conf_t *cf,
    ngx_http_feed_main_conf_t *fmcf);
ngx_int_t ngx_http_feed_feed_init_process(ngx_cycle_t *cycle);
u_char *ngx_http_feed_status_feed(ngx_http_request_t *r, u_char *p,
    u_char *last);

char *ngx_http_feed_lua_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_feed_lua_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_feed_lua_init_main_conf(ngx_conf_t *cf,
    ngx_http_feed_main_conf_t *fmcf);
ngx_int_t ngx_http_feed_lua_init_process(ngx_cycle_t *cycle);
void ngx_http_feed_lua_exit_process(ngx_cycle_t *cycle);
int ngx_http_feed_lua_rank(void *data, const feed_catalog_t *cat,
    feed_cand_t *cands, uint32_t n);
u_char *ngx_http_feed_status_lua(ngx_http_request_t *r, u_char *p,
    u_char *last);


extern ngx_module_t  ngx_http_feed_module;


#endif /* _NGX_HTTP_FEED_MODULE_H_INCLUDED_ */
