
/*
 * Copyright (C) ngx_feed_module developers
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif

#include "ngx_http_feed_module.h"


/*
 * The segment cache in nginx: a shared memory zone whose slab pool gives
 * the mutex (nginx force-unlocks it when a worker dies holding it) and
 * one allocation of nearly all its pages, which is the core's region.
 *
 * A hit is sent straight from the zone: the object is pinned by the
 * worker while the request lives and released by a pool cleanup.  A miss
 * is sent from disk as usual and, if admitted, read into its reservation
 * by a thread of the thread pool and committed there, so no request
 * waits for the fill.
 */


#define NGX_HTTP_FEED_CACHE_MIN      (1024 * 1024)
#define NGX_HTTP_FEED_MAX_OBJECT     (4 * 1024 * 1024)
#define NGX_HTTP_FEED_WARM_MAX       (2 * FEED_PAGE_MAX)


typedef struct {
    ngx_http_feed_cache_t    *cache;
    feed_cache_ref_t          ref;
} ngx_http_feed_cache_pin_t;


typedef struct {
    ngx_str_t                 name;
    uint64_t                  size;
    uint64_t                  mtime;
    feed_cache_ref_t          ref;
    ngx_uint_t                admitted;  /* else: warm, admission to do */
} ngx_http_feed_fill_item_t;


typedef struct {
    ngx_http_feed_cache_t    *cache;
    ngx_http_feed_metrics_t  *metrics;
    ngx_uint_t                nitems;
    ngx_http_feed_fill_item_t items[1];
} ngx_http_feed_fill_t;


static ngx_int_t ngx_http_feed_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_feed_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_feed_cache_unpin(void *data);
static ngx_int_t ngx_http_feed_cache_post(ngx_http_feed_main_conf_t *fmcf,
    ngx_http_feed_cache_t *cache, ngx_str_t *names,
    ngx_http_feed_fill_item_t *first, ngx_uint_t n, ngx_log_t *log);
static void ngx_http_feed_fill_thread(void *data, ngx_log_t *log);
static void ngx_http_feed_fill_done(ngx_event_t *ev);
static ngx_int_t ngx_http_feed_fill_one(ngx_http_feed_fill_t *fill,
    ngx_http_feed_fill_item_t *it, ngx_log_t *log);
static u_char *ngx_http_feed_status_caches(ngx_http_request_t *r, u_char *p,
    u_char *last, ngx_array_t *caches);


static ngx_str_t  ngx_http_feed_cache_status_names[] = {
    ngx_null_string,
    ngx_string("HIT"),
    ngx_string("MISS"),
    ngx_string("SKIP"),
    ngx_string("FILLING"),
    ngx_string("BYPASS"),
    ngx_string("BUSY"),
    ngx_string("ERROR")
};


/* feed_cache_zone NAME:SIZE [max_object=SIZE] [objects=N] ... */

char *
ngx_http_feed_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_main_conf_t *fmcf = conf;

    size_t                   meta, ring, zone;
    ssize_t                  size;
    ngx_int_t                n;
    ngx_str_t               *value, s, name;
    ngx_uint_t               i;
    ngx_http_feed_cache_t   *cache, **cachep;

    value = cf->args->elts;

    if (ngx_http_feed_zone_arg(cf, cmd, NGX_HTTP_FEED_CACHE_MIN,
                               "the least useful size is 1m", &name, &zone)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cachep = fmcf->caches.elts;

    for (i = 0; i < fmcf->caches.nelts; i++) {
        if (cachep[i]->name.len == name.len
            && ngx_strncmp(cachep[i]->name.data, name.data, name.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "feed_cache_zone \"%V\" is duplicate", &name);
            return NGX_CONF_ERROR;
        }
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_feed_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    cache->name = name;
    cache->size = zone;
    feed_cache_default_params(&cache->params);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max_object=", 11) == 0) {
            s.data = value[i].data + 11;
            s.len = value[i].len - 11;

            size = ngx_parse_size(&s);
            if (size == NGX_ERROR || size == 0) {
                goto invalid;
            }

            if ((size_t) size >= cache->size) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "feed_cache_zone \"%V\": max_object=%V "
                                   "is larger than the zone", &name, &s);
                return NGX_CONF_ERROR;
            }

            cache->max_object = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "objects=", 8) == 0) {
            n = ngx_atoi(value[i].data + 8, value[i].len - 8);
            if (n < 16) {
                goto invalid;
            }

            cache->params.objects = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "pins=", 5) == 0) {
            n = ngx_atoi(value[i].data + 5, value[i].len - 5);
            if (n < 16 || n > 1 << 20) {
                goto invalid;
            }

            cache->params.pins = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "window=", 7) == 0) {
            n = ngx_atoi(value[i].data + 7, value[i].len - 7);
            if (n < 1) {
                goto invalid;
            }

            cache->params.sample = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "second_chance=", 14) == 0) {
            s.data = value[i].data + 14;
            s.len = value[i].len - 14;

            if (s.len && s.data[s.len - 1] == '%') {
                s.len--;
            }

            n = ngx_atoi(s.data, s.len);
            if (n == NGX_ERROR || n > 25) {
                goto invalid;
            }

            cache->params.move_max_pct = (uint32_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "move_budget=", 12) == 0) {
            n = ngx_atoi(value[i].data + 12, value[i].len - 12);
            if (n == NGX_ERROR || n > 64) {
                goto invalid;
            }

            cache->params.move_budget = (uint32_t) n;
            continue;
        }

        if (ngx_strcmp(value[i].data, "admission=tinylfu") == 0) {
            cache->params.admit_all = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "admission=off") == 0) {
            cache->params.admit_all = 1;
            continue;
        }

        goto invalid;
    }

    /*
     * The region is the zone less the slab pool's own pages; the exact
     * geometry is computed again when the zone is mapped.
     */

    ring = cache->size - cache->size / 64 - 64 * 1024;
    meta = feed_cache_meta_size(ring, &cache->params);

    if (meta == 0 || meta >= ring) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "feed_cache_zone \"%V\": the size is too small "
                           "for objects=%uL pins=%uL", &name,
                           cache->params.objects, cache->params.pins);
        return NGX_CONF_ERROR;
    }

    ring -= meta;

    if (cache->max_object == 0) {
        cache->max_object = ngx_min(NGX_HTTP_FEED_MAX_OBJECT, ring / 8);

    } else if (cache->max_object + FEED_CACHE_KEY_MAX + 64 > ring / 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "feed_cache_zone \"%V\": max_object=%uzk leaves "
                           "no room to turn objects over; at most %uzk "
                           "with this size", &name, cache->max_object / 1024,
                           (ring / 2 - FEED_CACHE_KEY_MAX - 64) / 1024);
        return NGX_CONF_ERROR;
    }

    cache->shm_zone = ngx_shared_memory_add(cf, &name, cache->size,
                                            &ngx_http_feed_module);
    if (cache->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cache->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"%V\" is already used",
                           &name);
        return NGX_CONF_ERROR;
    }

    cache->shm_zone->init = ngx_http_feed_cache_init_zone;
    cache->shm_zone->data = cache;

    cachep = ngx_array_push(&fmcf->caches);
    if (cachep == NULL) {
        return NGX_CONF_ERROR;
    }

    *cachep = cache;
    fmcf->used = 1;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "feed_cache_zone \"%V\": invalid parameter \"%V\"",
                       &name, &value[i]);
    return NGX_CONF_ERROR;
}


/* the zone a location's feed_cache names, once the http block is read */

char *
ngx_http_feed_cache_resolve(ngx_conf_t *cf, ngx_http_feed_loc_conf_t *flcf)
{
    ngx_uint_t                  i;
    ngx_http_feed_cache_t     **cachep;
    ngx_http_feed_main_conf_t  *fmcf;

    if (flcf->cache_name.len == 0
        || (flcf->cache_name.len == 3
            && ngx_strncmp(flcf->cache_name.data, "off", 3) == 0))
    {
        flcf->cache = NULL;
        return NGX_CONF_OK;
    }

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_feed_module);
    cachep = fmcf->caches.elts;

    for (i = 0; i < fmcf->caches.nelts; i++) {
        if (cachep[i]->name.len == flcf->cache_name.len
            && ngx_strncmp(cachep[i]->name.data, flcf->cache_name.data,
                           flcf->cache_name.len) == 0)
        {
            flcf->cache = cachep[i];
            return NGX_CONF_OK;
        }
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "feed_cache \"%V\" names no zone: declare it with "
                  "\"feed_cache_zone %V:SIZE;\" at the http level in %s:%ui",
                  &flcf->cache_name, &flcf->cache_name,
                  flcf->cache_file ? flcf->cache_file : (u_char *) "?",
                  flcf->cache_line);

    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_feed_cache_postconf(ngx_conf_t *cf, ngx_http_feed_main_conf_t *fmcf)
{
    ngx_str_t  name;

    if (!fmcf->used && fmcf->catalog == NULL) {
        return NGX_OK;
    }

    ngx_str_set(&name, "feed_metrics");

    fmcf->metrics_zone = ngx_shared_memory_add(cf, &name, 16 * ngx_pagesize,
                                               &ngx_http_feed_module);
    if (fmcf->metrics_zone == NULL) {
        return NGX_ERROR;
    }

    fmcf->metrics_zone->init = ngx_http_feed_metrics_init_zone;

#if (NGX_THREADS)
    if (fmcf->caches.nelts) {
        fmcf->thread_pool = ngx_thread_pool_add(cf,
                                         fmcf->thread_pool_name.len
                                         ? &fmcf->thread_pool_name : NULL);
        if (fmcf->thread_pool == NULL) {
            return NGX_ERROR;
        }
    }
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_feed_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                         stride;
    u_char                        *p;
    ngx_slab_pool_t               *shpool;
    ngx_http_feed_metrics_zone_t  *mz;

    stride = ngx_align(sizeof(ngx_http_feed_metrics_t), 128);
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    /* kept across a reload, or left by the master before a binary upgrade */

    mz = data ? data : (shm_zone->shm.exists ? shpool->data : NULL);

    if (mz && mz->magic == NGX_HTTP_FEED_METRICS_MAGIC
        && mz->stride == stride && mz->slots == NGX_HTTP_FEED_METRICS_SLOTS)
    {
        shm_zone->data = mz;
        return NGX_OK;
    }

    /* a zone of another layout is left as it is: its counts start again */

    p = ngx_slab_calloc(shpool, sizeof(ngx_http_feed_metrics_zone_t) + 128
                                + stride * NGX_HTTP_FEED_METRICS_SLOTS);
    if (p == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "feed_metrics: no room for the counters");
        return NGX_ERROR;
    }

    mz = (ngx_http_feed_metrics_zone_t *) p;
    mz->stride = stride;
    mz->slots = NGX_HTTP_FEED_METRICS_SLOTS;
    mz->first = ngx_align_ptr(p + sizeof(ngx_http_feed_metrics_zone_t), 128);
    mz->magic = NGX_HTTP_FEED_METRICS_MAGIC;

    shm_zone->data = mz;
    shpool->data = mz;

    return NGX_OK;
}


/*
 * A zone kept across a reload must have been made with the same
 * parameters: the region's geometry depends on them, and workers of the
 * old configuration may still be sending from it, so it is neither
 * reformatted nor resized in place.  nginx gives a zone of another size
 * a new segment of its own.
 */

static ngx_int_t
ngx_http_feed_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_feed_cache_t  *ocache = data;

    size_t                  size;
    ngx_http_feed_cache_t  *cache;

    cache = shm_zone->data;
    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (ocache) {
        if (ocache->max_object != cache->max_object
            || ngx_memcmp(&ocache->params, &cache->params,
                          sizeof(feed_cache_params_t)) != 0)
        {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "feed_cache_zone \"%V\" is in use with other "
                          "parameters; to change them, change its size or "
                          "give it a new name", &shm_zone->shm.name);
            return NGX_ERROR;
        }

        cache->region = ocache->region;
        cache->region_size = ocache->region_size;

        ngx_shmtx_lock(&cache->shpool->mutex);

        if (feed_cache_check(cache->region, cache->region_size) != FEED_OK) {
            ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                          "feed_cache_zone \"%V\" was found damaged and "
                          "is emptied", &shm_zone->shm.name);
            feed_cache_purge_locked(cache->region);
        }

        ngx_shmtx_unlock(&cache->shpool->mutex);

        return NGX_OK;
    }

    cache->region = ngx_http_feed_zone_region(shm_zone, &size);
    if (cache->region == NULL) {
        return NGX_ERROR;
    }

    if (shm_zone->shm.exists) {
        cache->region_size = size;
        return NGX_OK;
    }

    if (feed_cache_init(cache->region, size, cache->max_object,
                        &cache->params)
        != FEED_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "feed_cache_zone \"%V\": %uz bytes cannot hold "
                      "objects of max_object=%uz", &shm_zone->shm.name,
                      size, cache->max_object);
        return NGX_ERROR;
    }

    cache->region_size = size;

    return NGX_OK;
}


/* a respawned worker drops what its dead predecessor held */

ngx_int_t
ngx_http_feed_cache_init_process(ngx_cycle_t *cycle)
{
    uint64_t                    n;
    ngx_uint_t                  i;
    ngx_http_feed_cache_t     **cachep;
    ngx_http_feed_main_conf_t  *fmcf;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_feed_module)
        == NULL)
    {
        return NGX_OK;
    }

    fmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_feed_module);
    cachep = fmcf->caches.elts;

    for (i = 0; i < fmcf->caches.nelts; i++) {
        if (cachep[i]->region == NULL) {
            continue;
        }

        ngx_shmtx_lock(&cachep[i]->shpool->mutex);
        n = feed_cache_reap_locked(cachep[i]->region);
        ngx_shmtx_unlock(&cachep[i]->shpool->mutex);

        if (n) {
            ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                          "feed_cache_zone \"%V\": %uL pins of exited "
                          "processes dropped", &cachep[i]->name, n);
        }
    }

    return NGX_OK;
}


/* this worker's counters, to add to */

ngx_http_feed_metrics_t *
ngx_http_feed_metrics(ngx_http_request_t *r)
{
    ngx_http_feed_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);

    return ngx_http_feed_metrics_own(fmcf->metrics_zone);
}


ngx_http_feed_metrics_t *
ngx_http_feed_metrics_own(ngx_shm_zone_t *zone)
{
    ngx_http_feed_metrics_zone_t  *mz;

    if (zone == NULL || zone->data == NULL) {
        return NULL;
    }

    mz = zone->data;

    /* other processes than workers count as worker 0: the adds are atomic */

    return (ngx_http_feed_metrics_t *)
               (mz->first + (ngx_worker % mz->slots) * mz->stride);
}


/* every worker's counters added up, for feed_status */

ngx_http_feed_metrics_t *
ngx_http_feed_metrics_total(ngx_http_request_t *r,
    ngx_http_feed_metrics_t *sum)
{
    ngx_uint_t                     i, k, n;
    ngx_atomic_t                  *from;
    ngx_atomic_uint_t             *to;
    ngx_http_feed_main_conf_t     *fmcf;
    ngx_http_feed_metrics_zone_t  *mz;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);

    if (fmcf->metrics_zone == NULL || fmcf->metrics_zone->data == NULL) {
        return NULL;
    }

    mz = fmcf->metrics_zone->data;

    /* the counters are all of one type: added up as an array of them */

    n = sizeof(ngx_http_feed_metrics_t) / sizeof(ngx_atomic_t);
    to = (ngx_atomic_uint_t *) sum;

    ngx_memzero(sum, sizeof(ngx_http_feed_metrics_t));

    for (i = 0; i < mz->slots; i++) {
        from = (ngx_atomic_t *) (mz->first + i * mz->stride);

        for (k = 0; k < n; k++) {
            to[k] += from[k];
        }
    }

    return sum;
}


void
ngx_http_feed_set_cache_status(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_http_feed_ctx_t      *ctx;
    ngx_http_feed_metrics_t  *m;

    ctx = ngx_http_get_module_ctx(r, ngx_http_feed_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_feed_ctx_t));
        if (ctx == NULL) {
            return;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_feed_module);
    }

    ctx->cache_status = status;

    m = ngx_http_feed_metrics(r);

    if (m) {
        (void) ngx_atomic_fetch_add(&m->cache_status[status], 1);
    }
}


ngx_int_t
ngx_http_feed_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_feed_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_feed_module);

    if (ctx == NULL || ctx->cache_status == NGX_HTTP_FEED_CACHE_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ngx_http_feed_cache_status_names[ctx->cache_status].len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ngx_http_feed_cache_status_names[ctx->cache_status].data;

    return NGX_OK;
}


/*
 * Sends a cached object, or NGX_DECLINED on a miss.  The key is the
 * file's full name, so two locations or media roots never share an entry
 * by accident; the tag kept with the data is the file's mtime, for
 * Last-Modified and the ETag, which match what a miss sends.
 */

ngx_int_t
ngx_http_feed_cache_serve(ngx_http_request_t *r, ngx_http_feed_cache_t *cache,
    ngx_str_t *name, ngx_str_t *type)
{
    u_char                     *p;
    ngx_int_t                   rc;
    ngx_buf_t                  *b;
    ngx_chain_t                 out;
    feed_cache_ref_t            ref;
    ngx_pool_cleanup_t         *cln;
    ngx_http_feed_metrics_t    *m;
    ngx_http_feed_loc_conf_t   *flcf;
    ngx_http_feed_cache_pin_t  *pin;

    if (cache->region == NULL) {
        return NGX_DECLINED;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_feed_cache_pin_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);
    rc = feed_cache_lookup_locked(cache->region, name->data, name->len,
                                  (uint64_t) ngx_time(), (uint64_t) ngx_pid,
                                  &ref);
    ngx_shmtx_unlock(&cache->shpool->mutex);

    if (rc != FEED_CACHE_HIT) {
        if (rc == FEED_CACHE_CORRUPT) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "feed_cache_zone \"%V\" is damaged",
                          &cache->name);
        }

        return NGX_DECLINED;
    }

    pin = cln->data;
    pin->cache = cache;
    pin->ref = ref;
    cln->handler = ngx_http_feed_cache_unpin;

    ngx_http_feed_set_cache_status(r, NGX_HTTP_FEED_CACHE_HIT);

    p = feed_cache_data(cache->region, &ref);

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);

    if (flcf->cache_copy && ref.len) {

        /* copy out and let go at once, instead of pinning while sending */

        p = ngx_pnalloc(r->pool, ref.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(p, feed_cache_data(cache->region, &ref), ref.len);

        ngx_http_feed_cache_unpin(pin);
        cln->handler = NULL;
    }

    r->connection->log->action = "sending cached feed media to client";

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = ref.len;
    r->headers_out.last_modified_time = (time_t) ref.tag;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_http_set_etag(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->allow_ranges = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    m = ngx_http_feed_metrics(r);

    if (m && r->headers_out.content_length_n > 0) {
        (void) ngx_atomic_fetch_add(&m->bytes_cache,
                                    r->headers_out.content_length_n);
    }

    b->pos = p;
    b->last = p + ref.len;
    b->memory = ref.len ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    b->sync = ref.len ? 0 : 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static void
ngx_http_feed_cache_unpin(void *data)
{
    ngx_http_feed_cache_pin_t  *pin = data;

    ngx_shmtx_lock(&pin->cache->shpool->mutex);
    feed_cache_release_locked(pin->cache->region, &pin->ref);
    ngx_shmtx_unlock(&pin->cache->shpool->mutex);
}


/*
 * On a miss served from disk: asks for admission and, if granted, has the
 * file read into the reservation in the background.
 */

void
ngx_http_feed_cache_fill(ngx_http_request_t *r, ngx_http_feed_cache_t *cache,
    ngx_str_t *name, ngx_open_file_info_t *of)
{
    ngx_int_t                   rc;
    ngx_uint_t                  status;
    ngx_http_feed_fill_t        fill;
    ngx_http_feed_fill_item_t   it;
    ngx_http_feed_loc_conf_t   *flcf;
    ngx_http_feed_main_conf_t  *fmcf;

    if (cache->region == NULL) {
        return;
    }

    ngx_memzero(&it, sizeof(ngx_http_feed_fill_item_t));

    ngx_shmtx_lock(&cache->shpool->mutex);
    rc = feed_cache_admit_locked(cache->region, name->data, name->len,
                                 (size_t) of->size, (uint64_t) of->mtime,
                                 (uint64_t) ngx_time(), (uint64_t) ngx_pid,
                                 &it.ref);
    ngx_shmtx_unlock(&cache->shpool->mutex);

    switch (rc) {

    case FEED_CACHE_ADMIT:
        status = NGX_HTTP_FEED_CACHE_MISS;
        break;

    case FEED_CACHE_PRESENT:
        status = NGX_HTTP_FEED_CACHE_MISS;
        break;

    case FEED_CACHE_REJECT:
        status = NGX_HTTP_FEED_CACHE_SKIP;
        break;

    case FEED_CACHE_FILLING:
        status = NGX_HTTP_FEED_CACHE_FILLING;
        break;

    case FEED_CACHE_BYPASS:
        status = NGX_HTTP_FEED_CACHE_BYPASS;
        break;

    case FEED_CACHE_NOSPACE:
        status = NGX_HTTP_FEED_CACHE_BUSY;
        break;

    default:
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "feed_cache_zone \"%V\" was damaged and is emptied",
                      &cache->name);
        status = NGX_HTTP_FEED_CACHE_ERROR;
        break;
    }

    ngx_http_feed_set_cache_status(r, status);

    if (rc != FEED_CACHE_ADMIT) {
        return;
    }

    it.size = of->size;
    it.mtime = of->mtime;
    it.admitted = 1;
    it.name = *name;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);
    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);

    if ((size_t) of->size <= flcf->cache_inline) {

        /* small enough to read now, before the response is sent */

        fill.cache = cache;
        fill.metrics = ngx_http_feed_metrics(r);
        fill.nitems = 1;

        if (ngx_http_feed_fill_one(&fill, &it, r->connection->log)
            != NGX_OK
            && fill.metrics)
        {
            (void) ngx_atomic_fetch_add(&fill.metrics->fill_errors, 1);
        }

        return;
    }

    if (ngx_http_feed_cache_post(fmcf, cache, name, &it, 1,
                                 r->connection->log)
        != NGX_OK)
    {
        ngx_shmtx_lock(&cache->shpool->mutex);
        feed_cache_abort_locked(cache->region, &it.ref);
        ngx_shmtx_unlock(&cache->shpool->mutex);
    }
}


/*
 * The warming API: files about to be asked for (the first segments of
 * the clips a feed returns) are offered for admission and read in the
 * background; the caller does not wait for any of it.
 */

ngx_int_t
ngx_http_feed_cache_warm(ngx_http_feed_main_conf_t *fmcf,
    ngx_http_feed_cache_t *cache, ngx_str_t *names, ngx_uint_t n,
    ngx_log_t *log)
{
    if (cache == NULL || cache->region == NULL || n == 0) {
        return NGX_OK;
    }

    if (n > NGX_HTTP_FEED_WARM_MAX) {
        n = NGX_HTTP_FEED_WARM_MAX;
    }

    return ngx_http_feed_cache_post(fmcf, cache, names, NULL, n, log);
}


static ngx_int_t
ngx_http_feed_cache_post(ngx_http_feed_main_conf_t *fmcf,
    ngx_http_feed_cache_t *cache, ngx_str_t *names,
    ngx_http_feed_fill_item_t *first, ngx_uint_t n, ngx_log_t *log)
{
    u_char                *p;
    size_t                 size;
    ngx_uint_t             i;
    ngx_thread_task_t     *task;
    ngx_http_feed_fill_t  *fill;

    /* one allocation, not from a request pool: it outlives the request */

    size = sizeof(ngx_thread_task_t) + sizeof(ngx_http_feed_fill_t)
           + n * sizeof(ngx_http_feed_fill_item_t);

    for (i = 0; i < n; i++) {
        size += names[i].len + 1;
    }

    task = ngx_calloc(size, log);
    if (task == NULL) {
        return NGX_ERROR;
    }

    fill = (ngx_http_feed_fill_t *) (task + 1);
    fill->cache = cache;
    fill->metrics = ngx_http_feed_metrics_own(fmcf->metrics_zone);
    fill->nitems = n;

    p = (u_char *) &fill->items[n];

    for (i = 0; i < n; i++) {
        if (first) {
            fill->items[i] = first[i];
        }

        fill->items[i].name.data = p;
        fill->items[i].name.len = names[i].len;
        p = ngx_cpymem(p, names[i].data, names[i].len);
        *p++ = '\0';
    }

    task->ctx = fill;
    task->handler = ngx_http_feed_fill_thread;
    task->event.handler = ngx_http_feed_fill_done;
    task->event.data = task;
    task->event.log = ngx_cycle->log;

#if (NGX_THREADS)

    if (fmcf->thread_pool) {
        if (ngx_thread_task_post(fmcf->thread_pool, task) != NGX_OK) {
            ngx_free(task);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

#endif

    /* no thread pool in this build: the fill is done right here */

    ngx_http_feed_fill_thread(fill, log);
    ngx_http_feed_fill_done(&task->event);

    return NGX_OK;
}


static void
ngx_http_feed_fill_thread(void *data, ngx_log_t *log)
{
    ngx_http_feed_fill_t *fill = data;

    ngx_uint_t  i;

    for (i = 0; i < fill->nitems; i++) {
        if (ngx_http_feed_fill_one(fill, &fill->items[i], log) != NGX_OK) {
            if (fill->metrics) {
                (void) ngx_atomic_fetch_add(&fill->metrics->fill_errors, 1);
            }
        }
    }
}


/* runs in a pool thread: the zone's mutex works across threads too */

static ngx_int_t
ngx_http_feed_fill_one(ngx_http_feed_fill_t *fill,
    ngx_http_feed_fill_item_t *it, ngx_log_t *log)
{
    int                     rc;
    u_char                 *dst;
    size_t                  done;
    ssize_t                 n;
    ngx_fd_t                fd;
    ngx_file_info_t         fi;
    ngx_http_feed_cache_t  *cache;

    cache = fill->cache;

    if (!it->admitted) {

        /* already there: nothing to open or read */

        ngx_shmtx_lock(&cache->shpool->mutex);
        rc = feed_cache_present_locked(cache->region, it->name.data,
                                       it->name.len);
        ngx_shmtx_unlock(&cache->shpool->mutex);

        if (rc) {
            return NGX_OK;
        }
    }

    fd = ngx_open_file(it->name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        if (!it->admitted) {
            return NGX_OK;     /* nothing to warm */
        }

        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "feed_cache fill: cannot open \"%s\"", it->name.data);
        goto abort;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi)) {
        ngx_close_file(fd);

        if (!it->admitted) {
            return NGX_OK;
        }

        goto abort;
    }

    if (!it->admitted) {
        it->size = ngx_file_size(&fi);
        it->mtime = ngx_file_mtime(&fi);

        ngx_shmtx_lock(&cache->shpool->mutex);
        rc = feed_cache_warm_locked(cache->region, it->name.data,
                                    it->name.len, (size_t) it->size,
                                    it->mtime, (uint64_t) ngx_time(),
                                    (uint64_t) ngx_pid, &it->ref);
        ngx_shmtx_unlock(&cache->shpool->mutex);

        if (rc != FEED_CACHE_ADMIT) {
            ngx_close_file(fd);
            return NGX_OK;
        }

        it->admitted = 1;

        if (fill->metrics) {
            (void) ngx_atomic_fetch_add(&fill->metrics->warms, 1);
        }
    }

    /* the file must still be the one admitted */

    if ((uint64_t) ngx_file_size(&fi) != it->size
        || (uint64_t) ngx_file_mtime(&fi) != it->mtime)
    {
        ngx_close_file(fd);
        goto abort;
    }

    dst = feed_cache_data(cache->region, &it->ref);

    for (done = 0; done < it->size; done += n) {
        n = pread(fd, dst + done, it->size - done, done);

        if (n <= 0) {
            ngx_log_error(NGX_LOG_ERR, log, n ? ngx_errno : 0,
                          "feed_cache fill: cannot read \"%s\"",
                          it->name.data);
            ngx_close_file(fd);
            goto abort;
        }
    }

    ngx_close_file(fd);

    ngx_shmtx_lock(&cache->shpool->mutex);
    rc = feed_cache_commit_locked(cache->region, &it->ref);
    ngx_shmtx_unlock(&cache->shpool->mutex);

    if (rc == FEED_OK && fill->metrics) {
        (void) ngx_atomic_fetch_add(&fill->metrics->fills, 1);
    }

    return NGX_OK;

abort:

    ngx_shmtx_lock(&cache->shpool->mutex);
    feed_cache_abort_locked(cache->region, &it->ref);
    ngx_shmtx_unlock(&cache->shpool->mutex);

    return NGX_ERROR;
}


static void
ngx_http_feed_fill_done(ngx_event_t *ev)
{
    ngx_free(ev->data);
}


/* feed_status: the metrics in Prometheus' text format */

ngx_int_t
ngx_http_feed_status_handler(ngx_http_request_t *r)
{
    u_char                     *p, *last;
    size_t                      size;
    ngx_int_t                   rc;
    ngx_buf_t                  *b;
    ngx_uint_t                  i;
    ngx_chain_t                 out;
    ngx_http_feed_metrics_t     sum, *m;
    ngx_http_feed_main_conf_t  *fmcf;

    static const char  *kinds[] = {
        "master", "playlist", "init", "segment", "refused", "status",
        "manifest", "events"
    };

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);
    m = ngx_http_feed_metrics(r);

    if (m) {
        (void) ngx_atomic_fetch_add(&m->requests[NGX_HTTP_FEED_REQ_STATUS],
                                    1);
        m = ngx_http_feed_metrics_total(r, &sum);
    }

    size = 32768 + fmcf->caches.nelts * 2048;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->pos;
    last = b->end;

    if (m) {
        p = ngx_slprintf(p, last,
                "# HELP feed_requests_total Requests by kind: master and "
                "media playlists, init and media segments, refused before "
                "a kind was known, status.\n"
                "# TYPE feed_requests_total counter\n");

        for (i = 0; i < NGX_HTTP_FEED_REQ_N; i++) {
            p = ngx_slprintf(p, last,
                             "feed_requests_total{kind=\"%s\"} %uA\n",
                             kinds[i], m->requests[i]);
        }

        p = ngx_slprintf(p, last,
                "# HELP feed_cache_requests_total Segment requests by "
                "$feed_cache_status.\n"
                "# TYPE feed_cache_requests_total counter\n");

        for (i = 1; i < NGX_HTTP_FEED_CACHE_N; i++) {
            p = ngx_slprintf(p, last,
                             "feed_cache_requests_total{status=\"%V\"} %uA\n",
                             &ngx_http_feed_cache_status_names[i],
                             m->cache_status[i]);
        }

        p = ngx_slprintf(p, last,
                "# HELP feed_sent_bytes_total Segment body bytes sent, "
                "from the cache and from disk.\n"
                "# TYPE feed_sent_bytes_total counter\n"
                "feed_sent_bytes_total{source=\"cache\"} %uA\n"
                "feed_sent_bytes_total{source=\"disk\"} %uA\n"
                "# HELP feed_cache_fills_total Objects read into the cache "
                "in the background.\n"
                "# TYPE feed_cache_fills_total counter\n"
                "feed_cache_fills_total{result=\"ok\"} %uA\n"
                "feed_cache_fills_total{result=\"error\"} %uA\n"
                "# HELP feed_cache_warms_total Objects admitted by warming "
                "before any request.\n"
                "# TYPE feed_cache_warms_total counter\n"
                "feed_cache_warms_total %uA\n",
                m->bytes_cache, m->bytes_disk, m->fills, m->fill_errors,
                m->warms);
    }

    if (fmcf->catalog) {
        p = ngx_slprintf(p, last,
                "# HELP feed_catalog_clips Clips in the catalog.\n"
                "# TYPE feed_catalog_clips gauge\n"
                "feed_catalog_clips %uD\n",
                feed_catalog_count(fmcf->catalog));
    }

    p = ngx_http_feed_status_caches(r, p, last, &fmcf->caches);
    p = ngx_http_feed_status_feed(r, p, last);
    p = ngx_http_feed_status_lua(r, p, last);

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static u_char *
ngx_http_feed_status_caches(ngx_http_request_t *r, u_char *p, u_char *last,
    ngx_array_t *caches)
{
    ngx_uint_t               i, j;
    feed_cache_stats_t      *st;
    ngx_http_feed_cache_t  **cachep;

    static const struct {
        const char  *name;
        const char  *type;
        const char  *help;
        size_t       off;
    }  metrics[] = {
        { "feed_cache_hits_total", "counter",
          "Lookups that found the object.",
          offsetof(feed_cache_stats_t, hits) },
        { "feed_cache_misses_total", "counter",
          "Lookups that did not.",
          offsetof(feed_cache_stats_t, misses) },
        { "feed_cache_admissions_total", "counter",
          "Objects admitted (space reserved for them).",
          offsetof(feed_cache_stats_t, admissions) },
        { "feed_cache_admission_rejects_total", "counter",
          "Objects the admission filter kept out.",
          offsetof(feed_cache_stats_t, rejects) },
        { "feed_cache_bypasses_total", "counter",
          "Objects larger than max_object, never cached.",
          offsetof(feed_cache_stats_t, bypasses) },
        { "feed_cache_nospace_total", "counter",
          "Admissions that found no room: the oldest object was pinned.",
          offsetof(feed_cache_stats_t, nospace) },
        { "feed_cache_draining_total", "counter",
          "Admissions refused while pins from before a reset were held.",
          offsetof(feed_cache_stats_t, draining) },
        { "feed_cache_evictions_total", "counter",
          "Objects evicted to make room.",
          offsetof(feed_cache_stats_t, evictions) },
        { "feed_cache_second_chances_total", "counter",
          "Objects hit since written, moved to the head instead of "
          "evicted.",
          offsetof(feed_cache_stats_t, moves) },
        { "feed_cache_reclaims_total", "counter",
          "Pins and reservations taken back from exited processes.",
          offsetof(feed_cache_stats_t, reclaims) },
        { "feed_cache_resets_total", "counter",
          "Times the zone was emptied after damage or a crash.",
          offsetof(feed_cache_stats_t, corruptions) },
        { "feed_cache_hit_bytes_total", "counter",
          "Bytes of the objects found by lookups.",
          offsetof(feed_cache_stats_t, bytes_hit) },
        { "feed_cache_objects", "gauge",
          "Objects in the zone.",
          offsetof(feed_cache_stats_t, objects) },
        { "feed_cache_bytes", "gauge",
          "Bytes of object data in the zone.",
          offsetof(feed_cache_stats_t, bytes) },
        { "feed_cache_capacity_bytes", "gauge",
          "Bytes the zone's ring can hold, records included.",
          offsetof(feed_cache_stats_t, capacity) },
    };

    if (caches->nelts == 0) {
        return p;
    }

    st = ngx_pcalloc(r->pool, caches->nelts * sizeof(feed_cache_stats_t));
    if (st == NULL) {
        return p;
    }

    cachep = caches->elts;

    for (j = 0; j < caches->nelts; j++) {
        if (cachep[j]->region == NULL) {
            continue;
        }

        ngx_shmtx_lock(&cachep[j]->shpool->mutex);
        feed_cache_stats_locked(cachep[j]->region, &st[j]);
        ngx_shmtx_unlock(&cachep[j]->shpool->mutex);
    }

    for (i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        p = ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                         metrics[i].name, metrics[i].help, metrics[i].name,
                         metrics[i].type);

        for (j = 0; j < caches->nelts; j++) {
            p = ngx_slprintf(p, last, "%s{zone=\"%V\"} %uL\n",
                             metrics[i].name, &cachep[j]->name,
                             *(uint64_t *) ((u_char *) &st[j]
                                            + metrics[i].off));
        }
    }

    return p;
}
