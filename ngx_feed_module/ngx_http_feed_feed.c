
/*
 * Copyright (C) ngx_feed_module developers
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_feed_module.h"

#if (NGX_LINUX)
#include <sys/mman.h>
#endif


#define NGX_HTTP_FEED_HUGE_PAGE  (2 * 1024 * 1024)


/* a page waiting for the end of the pass (feed_batch_send) */

typedef struct {
    ngx_event_t          ev;
    ngx_http_request_t  *r;
    u_char              *body;
    size_t               len;
} ngx_http_feed_send_t;


/* a state batch holds a page */

typedef char ngx_http_feed_batch_holds_a_page[
    FEED_PAGE_MAX <= FEED_STATE_BATCH ? 1 : -1];


/*
 * The feed: feed_manifest answers GET with the viewer's next page as
 * JSON, feed_events takes POSTed watch events.  A viewer is a signed
 * cookie; what the feed knows of viewers and clips is in the state zone.
 * Ranking runs on per-worker copies (the catalog, the index and its
 * counters, refreshed from the zone every second), so the zone's mutex
 * is held only to read and update records, never while ranking.
 */


#define NGX_HTTP_FEED_IMPRESSION_TTL   86400
#define NGX_HTTP_FEED_REFRESH          1000
#define NGX_HTTP_FEED_COPY             256


static ngx_int_t ngx_http_feed_state_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_feed_manifest_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_feed_remixes_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_feed_sound_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_feed_list(ngx_http_request_t *r, ngx_uint_t only);
static ngx_int_t ngx_http_feed_send_later(ngx_http_request_t *r, u_char *body,
    size_t len);
static void ngx_http_feed_send_posted(ngx_event_t *ev);
static void ngx_http_feed_send_cleanup(void *data);
static ngx_int_t ngx_http_feed_name_arg(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_feed_events_handler(ngx_http_request_t *r);
static void ngx_http_feed_events_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_feed_events_process(ngx_http_request_t *r);
static ngx_int_t ngx_http_feed_identify(ngx_http_request_t *r,
    ngx_http_feed_who_t *who, ngx_uint_t create);
static u_char *ngx_http_feed_status_counters(
    ngx_http_feed_main_conf_t *fmcf, u_char *p, u_char *last);
static u_char *ngx_http_feed_status_rising(ngx_http_feed_main_conf_t *fmcf,
    u_char *p, u_char *last);
static int ngx_http_feed_seen(void *data, uint64_t hash);
static ngx_int_t ngx_http_feed_item_urls(ngx_http_request_t *r,
    const feed_catalog_t *cat, uint32_t idx, feed_item_urls_t *u,
    ngx_str_t *warm);
static ngx_int_t ngx_http_feed_clip_url(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *dir, const char *file, size_t flen, ngx_str_t *query,
    ngx_str_t *out);
static void ngx_http_feed_apply_blocks(ngx_http_feed_main_conf_t *fmcf,
    const feed_catalog_t *cat, feed_index_t *ix, uint32_t from,
    ngx_log_t *log);
static void ngx_http_feed_timer(ngx_event_t *ev);
static uint16_t ngx_http_feed_watched(uint32_t play_ms,
    const feed_clip_stats_t *cs);
static void ngx_http_feed_refresh(ngx_http_feed_main_conf_t *fmcf,
    ngx_log_t *log);
static void ngx_http_feed_watch(ngx_http_feed_main_conf_t *fmcf,
    ngx_log_t *log);
static void ngx_http_feed_index_cleanup(void *data);
static void *ngx_http_feed_alloc_huge(ngx_cycle_t *cycle, size_t size);
static void ngx_http_feed_free(void *data);


/* a manifest item's JSON beyond its URLs and token, as a rule */
#define NGX_HTTP_FEED_ITEM_ROOM  2048


static ngx_event_t   ngx_http_feed_timer_event;
static ngx_msec_t    ngx_http_feed_last_watch;
static ngx_uint_t    ngx_http_feed_send_pending;    /* pages posted */

static const char  *ngx_http_feed_event_results[NGX_HTTP_FEED_EV_N] = {
    "accepted", "invalid", "forged", "other_viewer", "expired",
    "duplicate", "unknown_clip"
};


/* feed_state_zone NAME:SIZE */

char *
ngx_http_feed_state_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_main_conf_t *fmcf = conf;

    ngx_http_feed_state_t  *st;

    if (fmcf->state) {
        return "is duplicate";
    }

    st = ngx_pcalloc(cf->pool, sizeof(ngx_http_feed_state_t));
    if (st == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_feed_zone_arg(cf, cmd, 1024 * 1024, "at least 1m",
                               &st->name, &st->size)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    st->shm_zone = ngx_shared_memory_add(cf, &st->name, st->size,
                                         &ngx_http_feed_module);
    if (st->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (st->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"%V\" is already used",
                           &st->name);
        return NGX_CONF_ERROR;
    }

    st->shm_zone->init = ngx_http_feed_state_init_zone;
    st->shm_zone->data = st;

    fmcf->state = st;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_feed_state_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_feed_state_t  *ost = data;

    size_t                  size;
    ngx_http_feed_state_t  *st;

    st = shm_zone->data;
    st->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (ost) {
        st->region = ost->region;
        st->region_size = ost->region_size;

        ngx_shmtx_lock(&st->shpool->mutex);

        if (feed_state_check(st->region, st->region_size) != FEED_OK) {
            ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                          "feed_state_zone \"%V\" was found damaged and "
                          "is emptied", &shm_zone->shm.name);
            (void) feed_state_init(st->region, st->region_size, NULL);
        }

        ngx_shmtx_unlock(&st->shpool->mutex);

        return NGX_OK;
    }

    st->region = ngx_http_feed_zone_region(shm_zone, &size);
    if (st->region == NULL) {
        return NGX_ERROR;
    }

    if (shm_zone->shm.exists) {
        st->region_size = size;
        return NGX_OK;
    }

    if (feed_state_init(st->region, size, NULL) != FEED_OK) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "feed_state_zone \"%V\": cannot lay out %uz bytes",
                      &shm_zone->shm.name, size);
        return NGX_ERROR;
    }

    st->region_size = size;

    return NGX_OK;
}


/* feed_block caption|tags|creator|sound REGEX */

char *
ngx_http_feed_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
#if (NGX_PCRE)
    ngx_http_feed_main_conf_t *fmcf = conf;

    u_char                  errstr[NGX_MAX_CONF_ERRSTR];
    ngx_str_t              *value;
    ngx_uint_t              field;
    ngx_regex_compile_t     rc;
    ngx_http_feed_block_t  *b;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "caption") == 0) {
        field = NGX_HTTP_FEED_BLOCK_CAPTION;

    } else if (ngx_strcmp(value[1].data, "tags") == 0) {
        field = NGX_HTTP_FEED_BLOCK_TAGS;

    } else if (ngx_strcmp(value[1].data, "creator") == 0) {
        field = NGX_HTTP_FEED_BLOCK_CREATOR;

    } else if (ngx_strcmp(value[1].data, "sound") == 0) {
        field = NGX_HTTP_FEED_BLOCK_SOUND;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "feed_block: unknown field \"%V\", expected "
                           "caption, tags, creator or sound", &value[1]);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

    rc.pattern = value[2];
    rc.pool = cf->pool;
    rc.err.len = NGX_MAX_CONF_ERRSTR;
    rc.err.data = errstr;

    if (ngx_regex_compile(&rc) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "feed_block: %V", &rc.err);
        return NGX_CONF_ERROR;
    }

    b = ngx_array_push(&fmcf->blocks);
    if (b == NULL) {
        return NGX_CONF_ERROR;
    }

    b->field = field;
    b->pattern = value[2];
    b->regex = rc.regex;

    return NGX_CONF_OK;

#else

    return "needs nginx built with PCRE";

#endif
}


/* feed_source | feed_score NAME WEIGHT|off, feed_filter NAME on|off */

char *
ngx_http_feed_plugin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_loc_conf_t *flcf = conf;

    int          i;
    double       w;
    ngx_str_t   *value;
    ngx_uint_t   type;

    value = cf->args->elts;
    type = cmd->offset;

    i = feed_plugin_find((const char *) value[1].data, value[1].len,
                         (unsigned) type);

    if (i < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V: unknown %s \"%V\"", &cmd->name,
                           type == FEED_PLUGIN_SOURCE ? "source"
                           : type == FEED_PLUGIN_SCORER ? "scorer"
                                                        : "filter",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_strcmp(value[2].data, "off") == 0) {
        flcf->weight[i] = -1;
        return NGX_CONF_OK;
    }

    if (type == FEED_PLUGIN_FILTER) {
        if (ngx_strcmp(value[2].data, "on") == 0) {
            flcf->weight[i] = 0;
            return NGX_CONF_OK;
        }

        return "takes \"on\" or \"off\"";
    }

    w = ngx_atofp(value[2].data, value[2].len, 4);

    if (w == NGX_ERROR || w > 1000000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V %V: invalid weight \"%V\", expected a number "
                           "from 0 to 100 or \"off\"", &cmd->name,
                           &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

    flcf->weight[i] = (float) w / 10000;

    return NGX_CONF_OK;
}


/* a share or a rate, 0 to 1 */

char *
ngx_http_feed_float(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    float       *f;
    ngx_int_t    v;
    ngx_str_t   *value;

    f = (float *) ((u_char *) conf + cmd->offset);

    if (*f != NGX_HTTP_FEED_WEIGHT_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    v = ngx_atofp(value[1].data, value[1].len, 4);

    if (v == NGX_ERROR || v > 10000) {
        return "must be a number from 0 to 1";
    }

    *f = (float) v / 10000;

    return NGX_CONF_OK;
}


/* feed_events_rate RATEr/s [burst=N] */

char *
ngx_http_feed_events_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_loc_conf_t *flcf = conf;

    size_t      len;
    ngx_int_t   n;
    ngx_str_t  *value;

    if (flcf->events_rate != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    len = value[1].len;

    if (len < 4 || ngx_strncmp(value[1].data + len - 3, "r/s", 3) != 0) {
        return "expects a rate like \"5r/s\"";
    }

    n = ngx_atofp(value[1].data, len - 3, 3);
    if (n <= 0) {
        return "expects a rate like \"5r/s\"";
    }

    flcf->events_rate = n;
    flcf->events_burst = 0;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "burst=", 6) != 0) {
            return "expects \"burst=N\"";
        }

        n = ngx_atoi(value[2].data + 6, value[2].len - 6);
        if (n <= 0) {
            return "expects \"burst=N\" with N at least 1";
        }

        flcf->events_burst = n;
    }

    return NGX_CONF_OK;
}


/*
 * feed_manifest, feed_events, feed_remixes, feed_sound, feed_playlist:
 * the location's content handler, by the directive's name.
 */

char *
ngx_http_feed_location(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_uint_t                  i;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_feed_main_conf_t  *fmcf;

    static struct {
        const char              *name;
        ngx_http_handler_pt      handler;
    } handlers[] = {
        { "feed_manifest", ngx_http_feed_manifest_handler },
        { "feed_events", ngx_http_feed_events_handler },
        { "feed_remixes", ngx_http_feed_remixes_handler },
        { "feed_sound", ngx_http_feed_sound_handler },
        { "feed_playlist", ngx_http_feed_playlist_handler },
        { NULL, NULL }
    };

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    for (i = 0; handlers[i].name; i++) {
        if (ngx_strcmp(cmd->name.data, handlers[i].name) == 0) {
            clcf->handler = handlers[i].handler;
            break;
        }
    }

    if (clcf->handler == NULL) {
        return "is not a feed location";
    }

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_feed_module);
    fmcf->feed = 1;
    fmcf->used = 1;

    return NGX_CONF_OK;
}


char *
ngx_http_feed_merge_rank(ngx_conf_t *cf, ngx_http_feed_loc_conf_t *prev,
    ngx_http_feed_loc_conf_t *conf)
{
    ngx_uint_t           i, *stage;
    feed_rank_params_t  *p;

    p = &conf->rank;
    feed_rank_default_params(p);

    ngx_conf_merge_uint_value(conf->page_size, prev->page_size, p->page);
    ngx_conf_merge_uint_value(conf->page_max, prev->page_max, FEED_PAGE_MAX);
    ngx_conf_merge_value(conf->batch_send, prev->batch_send, 1);
    ngx_conf_merge_uint_value(conf->playlist_bandwidth,
                              prev->playlist_bandwidth, 1500000);

    if (conf->playlist_bandwidth < 1
        || conf->playlist_bandwidth > 1000000000)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_playlist_bandwidth\" must be from 1 to "
                           "1000000000 bits per second");
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_uint_value(conf->candidates, prev->candidates,
                              p->candidates);
    ngx_conf_merge_sec_value(conf->freshness_half_life,
                             prev->freshness_half_life,
                             (time_t) p->freshness_halflife);
    ngx_conf_merge_msec_value(conf->qualified_view, prev->qualified_view,
                              p->qualified_ms);
    ngx_conf_merge_ptr_value(conf->stages, prev->stages, NULL);
    ngx_conf_merge_str_value(conf->media_uri, prev->media_uri, "/v/");
    ngx_conf_merge_uint_value(conf->events_rate, prev->events_rate, 5000);
    ngx_conf_merge_uint_value(conf->events_burst, prev->events_burst, 20);
    ngx_conf_merge_size_value(conf->events_max_body, prev->events_max_body,
                              64 * 1024);

#define ngx_http_feed_merge_float(field, dflt)                                \
    if (conf->field == NGX_HTTP_FEED_WEIGHT_UNSET) {                          \
        conf->field = prev->field;                                            \
    }                                                                         \
    if (conf->field == NGX_HTTP_FEED_WEIGHT_UNSET) {                          \
        conf->field = dflt;                                                   \
    }

    ngx_http_feed_merge_float(explore_share, p->explore_share);
    ngx_http_feed_merge_float(zeitgeist_share, p->zeitgeist_share);
    ngx_http_feed_merge_float(diversity, p->diversity);
    ngx_http_feed_merge_float(promote, p->promote);

    for (i = 0; i < 32; i++) {
        ngx_http_feed_merge_float(weight[i], p->weight[i]);
    }

#undef ngx_http_feed_merge_float

    if (conf->page_size < 1 || conf->page_size > FEED_PAGE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_page_size\" must be from 1 to %d",
                           FEED_PAGE_MAX);
        return NGX_CONF_ERROR;
    }

    if (conf->page_max < conf->page_size || conf->page_max > FEED_PAGE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_page_max\" must be from feed_page_size "
                           "(%ui) to %d", conf->page_size, FEED_PAGE_MAX);
        return NGX_CONF_ERROR;
    }

    if (conf->candidates < conf->page_max
        || conf->candidates > FEED_CAND_MAX / 2)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_candidates\" must be from feed_page_max "
                           "(%ui) to %d", conf->page_max, FEED_CAND_MAX / 2);
        return NGX_CONF_ERROR;
    }

    p->page = conf->page_size;
    p->candidates = conf->candidates;
    p->explore_share = conf->explore_share;
    p->zeitgeist_share = conf->zeitgeist_share;
    p->diversity = conf->diversity;
    p->promote = conf->promote;
    p->freshness_halflife = (float) conf->freshness_half_life;
    p->qualified_ms = (uint32_t) conf->qualified_view;

    if (conf->stages) {
        stage = conf->stages->elts;

        for (i = 0; i < FEED_STAGES; i++) {
            p->stage_cap[i] = (uint32_t) stage[i];
        }
    }

    for (i = 0; i < 32; i++) {
        p->weight[i] = conf->weight[i];
    }

    return NGX_CONF_OK;
}


/*
 * After the http block: the feed needs the catalog, the keys and the
 * state zone; the index is built here, once, in the master process, and
 * feed_block rules are applied to it.
 */

ngx_int_t
ngx_http_feed_feed_postconf(ngx_conf_t *cf, ngx_http_feed_main_conf_t *fmcf)
{
    ngx_msec_t           start;
    feed_err_t           err;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (!fmcf->feed) {
        return NGX_OK;
    }

    if (fmcf->catalog == NULL || fmcf->nkeys == 0 || fmcf->state == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_manifest\" and \"feed_events\" need "
                           "\"feed_catalog\", \"feed_secret_file\" and "
                           "\"feed_state_zone\" at the http level");
        return NGX_ERROR;
    }

    ngx_time_update();
    start = ngx_current_msec;

    fmcf->index = feed_index_new(fmcf->catalog, (uint32_t) fmcf->clusters,
                                 0x5eed, &err);
    if (fmcf->index == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "feed: %s", err.msg);
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        feed_index_free(fmcf->index);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_feed_index_cleanup;
    cln->data = fmcf->index;

    ngx_http_feed_apply_blocks(fmcf, fmcf->catalog, fmcf->index, 0, cf->log);

    if (ngx_file_info(fmcf->catalog_path.data, &fi) != NGX_FILE_ERROR) {
        fmcf->catalog_offset = ngx_file_size(&fi);
    }

    ngx_time_update();

    ngx_log_error(NGX_LOG_INFO, cf->log, 0,
                  "feed: index of %uD clips in %uD topic clusters in %M ms",
                  feed_index_count(fmcf->index),
                  feed_index_clusters(fmcf->index),
                  ngx_current_msec - start);

    return NGX_OK;
}


static void
ngx_http_feed_index_cleanup(void *data)
{
    feed_index_free(data);
}


static void
ngx_http_feed_apply_blocks(ngx_http_feed_main_conf_t *fmcf,
    const feed_catalog_t *cat, feed_index_t *ix, uint32_t from,
    ngx_log_t *log)
{
#if (NGX_PCRE)
    uint32_t                i, t, n, blocked;
    ngx_str_t               s;
    ngx_uint_t              k;
    const char             *v;
    const feed_clip_t      *clip;
    ngx_http_feed_block_t  *b;

    b = fmcf->blocks.elts;
    blocked = 0;

    if (fmcf->blocks.nelts == 0) {
        return;
    }

    n = feed_index_count(ix);

    for (i = from; i < n; i++) {
        clip = feed_catalog_clip(cat, i);

        for (k = 0; k < fmcf->blocks.nelts; k++) {

            if (b[k].field == NGX_HTTP_FEED_BLOCK_TAGS) {
                for (t = 0; t < feed_clip_ntags(cat, clip); t++) {
                    v = feed_clip_tag(cat, clip, t);
                    s.data = (u_char *) v;
                    s.len = ngx_strlen(v);

                    if (ngx_regex_exec(b[k].regex, &s, NULL, 0) >= 0) {
                        break;
                    }
                }

                if (t == feed_clip_ntags(cat, clip)) {
                    continue;
                }

            } else {
                v = b[k].field == NGX_HTTP_FEED_BLOCK_CAPTION
                    ? feed_clip_caption(cat, clip)
                    : b[k].field == NGX_HTTP_FEED_BLOCK_CREATOR
                    ? feed_clip_creator(cat, clip)
                    : feed_clip_sound(cat, clip);

                s.data = (u_char *) v;
                s.len = ngx_strlen(v);

                if (ngx_regex_exec(b[k].regex, &s, NULL, 0) < 0) {
                    continue;
                }
            }

            feed_index_block(ix, i);
            blocked++;
            break;
        }
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "feed_block: %uD of %uD clips blocked", blocked, n - from);
#endif
}


/*
 * Zeroed memory for the life of the cycle, on huge pages where the
 * kernel has them to give (transparent huge pages, "madvise"): for a
 * table read at random, where a miss of the TLB costs as much as one of
 * the cache.
 */

static void *
ngx_http_feed_alloc_huge(ngx_cycle_t *cycle, size_t size)
{
    void                *p;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    p = ngx_memalign(size >= NGX_HTTP_FEED_HUGE_PAGE
                     ? NGX_HTTP_FEED_HUGE_PAGE : NGX_ALIGNMENT,
                     size, cycle->log);
    if (p == NULL) {
        return NULL;
    }

#if (NGX_LINUX && defined MADV_HUGEPAGE)
    (void) madvise(p, size, MADV_HUGEPAGE);
#endif

    ngx_memzero(p, size);

    cln->handler = ngx_http_feed_free;
    cln->data = p;

    return p;
}


static void
ngx_http_feed_free(void *data)
{
    ngx_free(data);
}


ngx_int_t
ngx_http_feed_feed_init_process(ngx_cycle_t *cycle)
{
    uint32_t                    n;
    ngx_http_feed_main_conf_t  *fmcf;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_feed_module)
        == NULL)
    {
        return NGX_OK;
    }

    fmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_feed_module);

    if (fmcf->index == NULL || fmcf->state == NULL) {
        return NGX_OK;
    }

    ngx_http_feed_refresh(fmcf, cycle->log);

    /* a URL token slot per clip, for the manifests */

    n = feed_token_slots(feed_catalog_count(fmcf->catalog));

    if (fmcf->token_cache && fmcf->nkeys && n) {
        fmcf->token_cache->slots = ngx_http_feed_alloc_huge(cycle,
                                              n * sizeof(feed_token_slot_t));
        fmcf->token_cache->mask = n - 1;

        if (fmcf->token_cache->slots == NULL) {
            ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                          "feed: no memory for %uD URL token slots, "
                          "manifests sign every URL", n);
        }
    }

    ngx_http_feed_timer_event.handler = ngx_http_feed_timer;
    ngx_http_feed_timer_event.data = fmcf;
    ngx_http_feed_timer_event.log = cycle->log;
    ngx_http_feed_timer_event.cancelable = 1;

    ngx_add_timer(&ngx_http_feed_timer_event, NGX_HTTP_FEED_REFRESH);

    return NGX_OK;
}


static void
ngx_http_feed_timer(ngx_event_t *ev)
{
    ngx_http_feed_main_conf_t  *fmcf = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (fmcf->catalog_watch
        && ngx_current_msec - ngx_http_feed_last_watch >= fmcf->catalog_watch)
    {
        ngx_http_feed_last_watch = ngx_current_msec;
        ngx_http_feed_watch(fmcf, ev->log);
    }

    ngx_http_feed_refresh(fmcf, ev->log);

    ngx_add_timer(ev, NGX_HTTP_FEED_REFRESH);
}


/*
 * The time a clip was watched per impression, in 1/10000 of its length
 * (1.5 at most: loops count, but not without end).
 */

static uint16_t
ngx_http_feed_watched(uint32_t play_ms, const feed_clip_stats_t *cs)
{
    double  ms, w;

    ms = play_ms;

    if (cs->impressions == 0 || ms <= 0) {
        return 0;
    }

    w = (double) cs->watch_ms / ms / cs->impressions;

    return (uint16_t) (w > 1.5 ? 15000 : w * 10000 + 0.5);
}


/* the shared counters, copied into this worker's index */

static void
ngx_http_feed_refresh(ngx_http_feed_main_conf_t *fmcf, ngx_log_t *log)
{
    time_t                  now;
    uint32_t                cursor, from, i, n, idx, ms;
    feed_clip_stat_t       *st;
    feed_clip_stats_t       buf[NGX_HTTP_FEED_COPY];
    feed_state_stats_t      zs;
    ngx_http_feed_rec_t    *rec;
    ngx_http_feed_state_t  *state;

    state = fmcf->state;
    now = ngx_time();
    cursor = 0;

    ngx_shmtx_lock(&state->shpool->mutex);
    feed_state_stats_locked(state->region, &zs);
    ngx_shmtx_unlock(&state->shpool->mutex);

    feed_index_set_audience(fmcf->index, (uint32_t) zs.viewers);

    /*
     * Which clip each record holds, kept from one refresh to the next: a
     * record's clip is then checked by its hash, in the clip's own index
     * record, which the copy writes anyway, instead of looked up in the
     * index's table; without the memory, every clip is looked up.
     */

    if (fmcf->recs == NULL && zs.clip_capacity
        && zs.clip_capacity <= NGX_MAX_UINT32_VALUE)
    {
        fmcf->recs = ngx_calloc(zs.clip_capacity * sizeof(ngx_http_feed_rec_t),
                                log);
        fmcf->nrecs = fmcf->recs ? (uint32_t) zs.clip_capacity : 0;
    }

    do {
        from = cursor;

        ngx_shmtx_lock(&state->shpool->mutex);
        n = feed_state_clip_next_locked(state->region, &cursor, buf,
                                        NGX_HTTP_FEED_COPY);
        ngx_shmtx_unlock(&state->shpool->mutex);

        for (i = 0; i < n; i++) {
            rec = from + i < fmcf->nrecs ? &fmcf->recs[from + i] : NULL;

            if (rec && rec->idx
                && rec->idx - 1 < feed_index_count(fmcf->index)
                && feed_index_hash(fmcf->index, rec->idx - 1) == buf[i].hash)
            {
                idx = rec->idx - 1;
                ms = rec->play_ms;

            } else {
                idx = feed_index_find(fmcf->index, buf[i].hash);

                if (idx == FEED_NONE) {
                    if (rec) {
                        rec->idx = 0;
                    }

                    continue;
                }

                ms = feed_clip_play_ms(fmcf->catalog,
                                       feed_catalog_clip(fmcf->catalog, idx));

                if (rec) {
                    rec->idx = idx + 1;
                    rec->play_ms = ms;
                }
            }

            st = feed_index_stat(fmcf->index, idx);
            st->impressions = buf[i].impressions;
            st->qualified = buf[i].views;
            st->completions = buf[i].completions;
            st->likes = buf[i].likes;
            st->shares = buf[i].shares;
            st->skips = buf[i].skips;
            st->stage = buf[i].stage;
            st->watched = ngx_http_feed_watched(ms, &buf[i]);
            st->trend = (float) feed_trend_value(buf[i].score,
                                                     buf[i].score_time,
                                                     (uint32_t) now,
                                           (double) fmcf->trend_half_life);
        }

    } while (n == NGX_HTTP_FEED_COPY);

    feed_index_refresh(fmcf->index, (uint32_t) now,
                       (uint32_t) fmcf->fresh_window);

    (void) log;
}


/*
 * Clips appended to the catalog file since it was loaded: complete lines
 * only; a line that fails, or names a parent not yet in the catalog, is
 * logged and skipped, and the rest are taken.
 */

static void
ngx_http_feed_watch(ngx_http_feed_main_conf_t *fmcf, ngx_log_t *log)
{
    u_char                   *buf, *p, *last, *nl;
    off_t                     size;
    ssize_t                   n;
    ngx_fd_t                  fd;
    uint32_t                  before;
    feed_err_t                err;
    ngx_file_info_t           fi;
    ngx_http_feed_metrics_t  *m;

    if (ngx_file_info(fmcf->catalog_path.data, &fi) == NGX_FILE_ERROR) {
        return;
    }

    size = ngx_file_size(&fi);

    if (size <= fmcf->catalog_offset) {
        if (size < fmcf->catalog_offset) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "feed_catalog \"%V\" shrank: nginx -s reload "
                          "loads it again", &fmcf->catalog_path);
            fmcf->catalog_offset = size;
        }

        return;
    }

    if (size - fmcf->catalog_offset > 64 * 1024 * 1024) {
        size = fmcf->catalog_offset + 64 * 1024 * 1024;
    }

    buf = ngx_alloc((size_t) (size - fmcf->catalog_offset), log);
    if (buf == NULL) {
        return;
    }

    fd = ngx_open_file(fmcf->catalog_path.data, NGX_FILE_RDONLY,
                       NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_free(buf);
        return;
    }

    n = pread(fd, buf, (size_t) (size - fmcf->catalog_offset),
              fmcf->catalog_offset);
    ngx_close_file(fd);

    if (n <= 0) {
        ngx_free(buf);
        return;
    }

    before = feed_catalog_count(fmcf->catalog);
    p = buf;
    last = buf + n;

    while ((nl = ngx_strlchr(p, last, '\n')) != NULL) {
        fmcf->catalog_offset += nl + 1 - p;

        if (nl > p && !(nl - p == 1 && *p == '\r')) {
            if (feed_catalog_add(fmcf->catalog, (const char *) p, nl - p,
                                 0, &err)
                != FEED_OK)
            {
                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "feed_catalog \"%V\": an appended line is "
                              "skipped: %s", &fmcf->catalog_path, err.msg);

            } else if (feed_catalog_finish(fmcf->catalog, &err) != FEED_OK) {
                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "feed_catalog \"%V\": an appended clip is "
                              "taken without its lineage: %s",
                              &fmcf->catalog_path, err.msg);

                feed_catalog_forget_pending(fmcf->catalog);
                (void) feed_catalog_finish(fmcf->catalog, &err);
            }
        }

        p = nl + 1;
    }

    ngx_free(buf);

    if (feed_catalog_count(fmcf->catalog) == before) {
        return;
    }

    if (feed_index_grow(fmcf->index, fmcf->catalog) != FEED_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "feed: cannot grow the index for appended clips");
        return;
    }

    ngx_http_feed_apply_blocks(fmcf, fmcf->catalog, fmcf->index, before, log);

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "feed_catalog \"%V\": %uD clips appended",
                  &fmcf->catalog_path,
                  feed_catalog_count(fmcf->catalog) - before);

    m = ngx_http_feed_metrics_own(fmcf->metrics_zone);

    if (m) {
        (void) ngx_atomic_fetch_add(&m->catalog_appended,
                                    feed_catalog_count(fmcf->catalog)
                                    - before);
    }
}


/* the viewer: a valid cookie, or (create) a new id and its Set-Cookie */

static ngx_int_t
ngx_http_feed_identify(ngx_http_request_t *r, ngx_http_feed_who_t *who,
    ngx_uint_t create)
{
    u_char                     *p;
    size_t                      len;
    ngx_str_t                   value;
    ngx_uint_t                  found;
    ngx_http_feed_metrics_t    *m;
    ngx_http_feed_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);

#if (nginx_version >= 1023000)
    found = ngx_http_parse_multi_header_lines(r, r->headers_in.cookie,
                                              &fmcf->cookie_name, &value)
            != NULL;
#else
    found = ngx_http_parse_multi_header_lines(&r->headers_in.cookies,
                                              &fmcf->cookie_name, &value)
            != NGX_DECLINED;
#endif

    if (found
        && feed_session_parse(fmcf->keys, fmcf->nkeys,
                              (const char *) value.data, value.len,
                              &who->id)
           == FEED_OK)
    {
        who->fresh = 0;
        return NGX_OK;
    }

    who->fresh = 1;

    if (!create) {
        return NGX_DECLINED;
    }

    if (feed_viewer_new(&who->id) != FEED_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "feed: no random bytes for a viewer id");
        return NGX_ERROR;
    }

    len = fmcf->cookie_name.len + 1 + FEED_SESSION_LEN
          + sizeof("; Path=/; Max-Age=; HttpOnly; SameSite=Lax; Secure")
          + NGX_TIME_T_LEN;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;

    p = ngx_cpymem(p, fmcf->cookie_name.data, fmcf->cookie_name.len);
    *p++ = '=';
    p += feed_session_cookie(&fmcf->keys[0], &who->id, (char *) p);
    p = ngx_sprintf(p, "; Path=/; Max-Age=%T; HttpOnly; SameSite=Lax",
                    fmcf->cookie_max_age);

    if (fmcf->cookie_secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    value.len = p - value.data;

    if (ngx_http_feed_add_header(r, "Set-Cookie", &value) != NGX_OK) {
        return NGX_ERROR;
    }

    m = ngx_http_feed_metrics(r);

    if (m) {
        (void) ngx_atomic_fetch_add(&m->new_viewers, 1);
    }

    return NGX_OK;
}


static int
ngx_http_feed_seen(void *data, uint64_t hash)
{
    return feed_viewer_seen(data, hash);
}


static ngx_int_t
ngx_http_feed_manifest_handler(ngx_http_request_t *r)
{
    return ngx_http_feed_list(r, 0);
}


static ngx_int_t
ngx_http_feed_remixes_handler(ngx_http_request_t *r)
{
    return ngx_http_feed_list(r, FEED_ONLY_REMIXES);
}


static ngx_int_t
ngx_http_feed_sound_handler(ngx_http_request_t *r)
{
    return ngx_http_feed_list(r, FEED_ONLY_SOUND);
}


/*
 * GET: a page of the feed (only 0), a clip's remixes (?clip=ID) or a
 * sound's clips (?sound=NAME), ranked for the viewer, as JSON.
 */

static ngx_int_t
ngx_http_feed_list(ngx_http_request_t *r, ngx_uint_t only)
{
    int                         esc;
    u_char                     *p, *body, *last;
    size_t                      len, k;
    uint32_t                    i, n;
    ngx_int_t                   rc;
    ngx_str_t                   arg, warm[2 * FEED_PAGE_MAX];
    ngx_uint_t                  nwarm;
    feed_item_urls_t            urls[FEED_PAGE_MAX];
    feed_impression_t           imp;
    const uint32_t             *list;
    const feed_clip_t          *clip;
    ngx_http_feed_page_t        pg;
    ngx_http_feed_metrics_t    *m;
    ngx_http_feed_loc_conf_t   *flcf;
    ngx_http_feed_main_conf_t  *fmcf;

    ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_MANIFEST);

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        ngx_str_set(&arg, "GET, HEAD");

        if (ngx_http_feed_add_header(r, "Allow", &arg) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);
    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);

    ngx_memzero(&pg, sizeof(ngx_http_feed_page_t));

    if (ngx_http_feed_page_size(r, &pg.want) != NGX_OK) {
        return ngx_http_feed_error(r, NGX_HTTP_BAD_REQUEST,
                                   NGX_HTTP_FEED_PAGE_SIZE_ERROR);
    }

    if (only) {
        if (ngx_http_feed_name_arg(r, only == FEED_ONLY_SOUND ? "sound"
                                                              : "clip",
                                   &arg)
            != NGX_OK)
        {
            return ngx_http_feed_error(r, NGX_HTTP_BAD_REQUEST,
                                       only == FEED_ONLY_SOUND
                                       ? "sound=NAME is required"
                                       : "clip=ID is required");
        }
    }

    if (only == FEED_ONLY_REMIXES) {
        pg.only_key = arg.len <= FEED_ID_MAX
                      ? feed_catalog_find(fmcf->catalog,
                                          (const char *) arg.data, arg.len)
                      : FEED_NONE;

        if (pg.only_key == FEED_NONE
            || pg.only_key >= feed_index_count(fmcf->index))
        {
            return ngx_http_feed_error(r, NGX_HTTP_NOT_FOUND,
                                       "unknown clip");
        }

    } else if (only == FEED_ONLY_SOUND) {

        /* two names may share a hash: one of the clips has the name */

        pg.only_key = feed_name_hash((const char *) arg.data);
        pg.only_name = (const char *) arg.data;
        n = feed_index_sound_clips(fmcf->index, pg.only_key, &list);

        for (i = 0; i < n; i++) {
            clip = feed_catalog_clip(fmcf->catalog, list[i]);
            p = (u_char *) feed_clip_sound(fmcf->catalog, clip);

            /* the length too: a name with a decoded NUL matches none */

            if (ngx_strlen(p) == arg.len && ngx_strcmp(p, arg.data) == 0) {
                break;
            }
        }

        if (i == n) {
            return ngx_http_feed_error(r, NGX_HTTP_NOT_FOUND,
                                       "unknown sound");
        }
    }

    pg.only = (uint32_t) only;

    rc = ngx_http_feed_page(r, &pg);
    if (rc != NGX_OK) {
        return rc;
    }

    n = pg.n;
    m = ngx_http_feed_metrics(r);

    /* the items' URLs and impression tokens */

    len = feed_manifest_head(NULL, pg.first / (uint32_t) pg.want + 1, n)
          + feed_manifest_tail(NULL);
    nwarm = 0;

    for (i = 0; i < n; i++) {
        if (ngx_http_feed_item_urls(r, fmcf->catalog, pg.items[i].clip,
                                    &urls[i], &warm[nwarm])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (warm[nwarm].len) {
            nwarm += 2;
        }

        clip = feed_catalog_clip(fmcf->catalog, pg.items[i].clip);

        ngx_memzero(&imp, sizeof(feed_impression_t));
        imp.viewer = pg.who.id;
        imp.time = pg.now;
        imp.position = pg.first + i;
        p = (u_char *) feed_clip_id(fmcf->catalog, clip);
        imp.clip_len = feed_catalog_str_len(fmcf->catalog, (char *) p, &esc);
        ngx_memcpy(imp.clip, p, imp.clip_len);

        urls[i].impression = ngx_pnalloc(r->pool, FEED_IMPRESSION_MAX);
        if (urls[i].impression == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        urls[i].impression_len = feed_impression_token(&fmcf->keys[0], &imp,
                                                   (char *) urls[i].impression);
        urls[i].position = pg.first + i;

        len += urls[i].master_len + urls[i].init_len + urls[i].first_len
               + urls[i].parent_master_len + urls[i].impression_len
               + NGX_HTTP_FEED_ITEM_ROOM;

        if (m) {
            (void) ngx_atomic_fetch_add(&m->items[pg.items[i].reason], 1);
        }
    }

    /*
     * One pass into room enough for any usual item; only a catalog of
     * very long captions or many long tags takes a second, measured one.
     */

    for ( ;; ) {
        body = ngx_pnalloc(r->pool, len);
        if (body == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        last = body + len - feed_manifest_tail(NULL);
        p = body;
        p += feed_manifest_head((char *) p, pg.first / (uint32_t) pg.want + 1,
                                n);

        for (i = 0; i < n; i++) {
            k = feed_manifest_item_room((char *) p, last - p, fmcf->catalog,
                                        &pg.items[i], &urls[i], i + 1 == n);
            if (k > (size_t) (last - p)) {
                break;
            }

            p += k;
        }

        if (i == n) {
            break;
        }

        len = feed_manifest_head(NULL, pg.first / (uint32_t) pg.want + 1, n)
              + feed_manifest_tail(NULL);

        for (i = 0; i < n; i++) {
            len += feed_manifest_item(NULL, fmcf->catalog, &pg.items[i],
                                      &urls[i], i + 1 == n);
        }
    }

    p += feed_manifest_tail((char *) p);

    /* the first segments, into the cache, in the background */

    if (flcf->cache && nwarm && r->method == NGX_HTTP_GET) {
        (void) ngx_http_feed_cache_warm(fmcf, flcf->cache, warm, nwarm,
                                        r->connection->log);
    }

    if (flcf->batch_send && r == r->main) {
        return ngx_http_feed_send_later(r, body, p - body);
    }

    return ngx_http_feed_json(r, NGX_HTTP_OK, body, p - body);
}


/*
 * feed_batch_send: a page is sent once the worker has handled all the
 * events of this pass of its loop (a posted event), so that the pages
 * ranked in one pass leave together.  A client woken by a response does
 * not then interrupt the ranking of the next page, nor sleep and wake
 * again for each one.
 */

static ngx_int_t
ngx_http_feed_send_later(ngx_http_request_t *r, u_char *body, size_t len)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_feed_send_t     *s;
    ngx_http_feed_metrics_t  *m;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_feed_send_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s = cln->data;
    ngx_memzero(s, sizeof(ngx_http_feed_send_t));

    s->r = r;
    s->body = body;
    s->len = len;
    s->ev.data = s;
    s->ev.handler = ngx_http_feed_send_posted;
    s->ev.log = r->connection->log;

    cln->handler = ngx_http_feed_send_cleanup;

    m = ngx_http_feed_metrics(r);

    if (m) {
        (void) ngx_atomic_fetch_add(&m->batch_pages, 1);

        if (ngx_http_feed_send_pending == 0) {
            (void) ngx_atomic_fetch_add(&m->batch_sends, 1);
        }
    }

    ngx_http_feed_send_pending++;

    r->main->count++;
    ngx_post_event(&s->ev, &ngx_posted_events);

    return NGX_DONE;
}


static void
ngx_http_feed_send_posted(ngx_event_t *ev)
{
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    ngx_http_feed_send_t  *s;

    s = ev->data;
    r = s->r;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_http_finalize_request(r, ngx_http_feed_json(r, NGX_HTTP_OK, s->body,
                                                    s->len));
    ngx_http_run_posted_requests(c);

    /* the pass's batch ends with the last of its pages sent */

    ngx_http_feed_send_pending--;
}


/*
 * A request freed before its page was sent (terminated by another event
 * of the same pass): the posted event must not run.
 */

static void
ngx_http_feed_send_cleanup(void *data)
{
    ngx_http_feed_send_t  *s = data;

    if (s->ev.posted) {
        ngx_delete_posted_event(&s->ev);
        ngx_http_feed_send_pending--;
    }
}


/*
 * A name argument (clip=, sound=), percent-decoded and NUL-terminated;
 * NGX_DECLINED when it is missing or empty.
 */

static ngx_int_t
ngx_http_feed_name_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    u_char     *dst, *src;
    ngx_str_t   arg;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &arg) != NGX_OK
        || arg.len == 0)
    {
        return NGX_DECLINED;
    }

    value->data = ngx_pnalloc(r->pool, arg.len + 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    dst = value->data;
    src = arg.data;
    ngx_unescape_uri(&dst, &src, arg.len, NGX_UNESCAPE_URI);
    *dst = '\0';
    value->len = dst - value->data;

    return value->len ? NGX_OK : NGX_DECLINED;
}


/* ?n=: the page size, bounded by feed_page_max; NGX_DECLINED: bad */

ngx_int_t
ngx_http_feed_page_size(ngx_http_request_t *r, ngx_uint_t *want)
{
    ngx_int_t                  n;
    ngx_str_t                  arg;
    ngx_http_feed_loc_conf_t  *flcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);

    *want = flcf->page_size;

    if (ngx_http_arg(r, (u_char *) "n", 1, &arg) == NGX_OK) {
        n = ngx_atoi(arg.data, arg.len);

        if (n < 1 || n > (ngx_int_t) flcf->page_max) {
            return NGX_DECLINED;
        }

        *want = (ngx_uint_t) n;
    }

    return NGX_OK;
}


/*
 * A page for the viewer (a new one gets its cookie), ranked without the
 * lock from a copy of the viewer's record, then recorded as served: the
 * seen set, recent creators and sounds, impression positions, the
 * clips' impressions and exposure stages.
 */

ngx_int_t
ngx_http_feed_page(ngx_http_request_t *r, ngx_http_feed_page_t *pg)
{
    uint32_t                    i, n, k, now, first, shown;
    uint32_t                    creators[FEED_STATE_RECENT];
    uint32_t                    sounds[FEED_STATE_RECENT];
    uint64_t                    liked[FEED_STATE_LIKED];
    uint32_t                    clips[FEED_PAGE_MAX];
    uint64_t                    hashes[FEED_PAGE_MAX];
    feed_item_t                *items;
    feed_clip_stats_t          *stats[FEED_PAGE_MAX];
    feed_viewer_t               snap, *v;
    feed_clip_stats_t          *cs;
    feed_rank_viewer_t          rv;
    ngx_http_feed_state_t      *state;
    feed_rank_hook_pt           hook;
    ngx_http_feed_loc_conf_t   *flcf;
    ngx_http_feed_main_conf_t  *fmcf;
    ngx_http_feed_lua_call_t    lua;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);
    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);
    state = fmcf->state;
    items = pg->items;

    if (ngx_http_feed_identify(r, &pg->who, 1) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    now = (uint32_t) ngx_time();
    pg->now = now;

    /* a copy of the viewer, to rank without the lock */

    ngx_shmtx_lock(&state->shpool->mutex);

    v = feed_state_viewer_locked(state->region, pg->who.id.id, now, 1, NULL);

    if (v) {
        ngx_memcpy(&snap, v, sizeof(feed_viewer_t));

    } else {
        ngx_memzero(&snap, sizeof(feed_viewer_t));
    }

    ngx_shmtx_unlock(&state->shpool->mutex);

    ngx_memzero(&rv, sizeof(feed_rank_viewer_t));
    k = feed_index_dim(fmcf->index);
    ngx_memcpy(rv.interest, snap.interest,
               ngx_min(FEED_STATE_DIM, FEED_DIM_MAX) * sizeof(float));
    rv.confidence = snap.weight;
    rv.ninterests = feed_viewer_interests(k);

    if (feed_viewer_recent(&snap, creators, sounds)) {
        rv.last_creator = creators[0];      /* newest first */
        rv.last_sound = sounds[0];
    }

    n = feed_viewer_liked(&snap, liked);

    for (i = 0; i < n && rv.nliked < FEED_LIKED_MAX; i++) {
        k = feed_index_find(fmcf->index, liked[i]);

        if (k != FEED_NONE) {
            rv.liked[rv.nliked++] = k;
        }
    }

    rv.nsounds = feed_viewer_finished(&snap, rv.sounds);
    rv.position = snap.page;
    rv.only = pg->only;
    rv.only_key = pg->only_key;
    rv.only_name = pg->only_name;
    rv.seen = ngx_http_feed_seen;
    rv.seen_data = &snap;

    hook = NULL;

    if (flcf->lua_hook) {
        lua.r = r;
        lua.hook = flcf->lua_hook;
        lua.time_limit = flcf->lua_time_limit;
        lua.viewer = &rv;
        lua.now = now;
        hook = ngx_http_feed_lua_rank;
    }

    n = feed_rank_page(fmcf->catalog, fmcf->index, &flcf->rank, &rv, now,
                       (uint64_t) ngx_random() << 31 ^ ngx_current_msec,
                       hook, &lua, items, (uint32_t) pg->want);

    /* what the page's JSON reads, asked for while the state is updated */

    for (i = 0; i < n; i++) {
        clips[i] = items[i].clip;
    }

    feed_url_token_prefetch(fmcf->token_cache, clips, n);
    feed_catalog_prefetch(fmcf->catalog, clips, n);

    /*
     * What was shown: the viewer's seen set, the clips' impressions (not
     * for a lean-back page: its plays can never be reported, and views
     * never counted would sink the clips' rates).  A HEAD shows nothing.
     */

    for (i = 0; i < n; i++) {
        hashes[i] = feed_index_hash(fmcf->index, items[i].clip);
    }

    shown = (r->method != NGX_HTTP_HEAD && !pg->lean) ? n : 0;

    ngx_shmtx_lock(&state->shpool->mutex);

    v = feed_state_viewer_locked(state->region, pg->who.id.id, now, 1, NULL);
    first = v ? v->page : 0;

    feed_state_clips_locked(state->region, hashes, shown, now, 1, stats);

    for (i = 0; i < n && r->method != NGX_HTTP_HEAD; i++) {
        if (v) {
            feed_viewer_seen_add(v, hashes[i]);
            feed_viewer_recent_add(v, feed_index_creator(fmcf->index,
                                                         items[i].clip),
                                   feed_index_sound(fmcf->index,
                                                    items[i].clip));
            feed_viewer_served(v, v->page);
            v->page++;
        }

        if (i >= shown) {
            continue;
        }

        cs = stats[i];

        if (cs) {
            feed_clip_add(&cs->impressions, 1);
            cs->stage = feed_stage_next(cs->stage, cs->impressions,
                                        cs->views, &flcf->rank);
        }
    }

    ngx_shmtx_unlock(&state->shpool->mutex);

    pg->n = n;
    pg->first = first;

    return NGX_OK;
}


/*
 * A clip's signed master playlist URL and prefetch URLs (init and first
 * segment of the first rendition, where a player starts: for a stitch,
 * its parent's); a duet's
 * parent's master URL.  "warm" gets the two files' names on disk, for
 * the cache, when this location has feed_cache and feed_media_root.
 */

static ngx_int_t
ngx_http_feed_item_urls(ngx_http_request_t *r, const feed_catalog_t *cat,
    uint32_t idx, feed_item_urls_t *u, ngx_str_t *warm)
{
    int                        esc;
    size_t                     len;
    ngx_str_t                  s, id, dir, query, start;
    feed_hls_part_t            parts[2];
    feed_rendition_t           rend;
    const feed_clip_t         *clip;
    ngx_http_feed_loc_conf_t  *flcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);
    clip = feed_catalog_clip(cat, idx);

    ngx_memzero(u, sizeof(feed_item_urls_t));
    warm[0].len = 0;

    id.data = (u_char *) feed_clip_id(cat, clip);
    id.len = feed_catalog_str_len(cat, (char *) id.data, &esc);

    if (ngx_http_feed_sign(r, &id, idx, 0, &query) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_feed_clip_url(r, &id, NULL, "master.m3u8",
                               sizeof("master.m3u8") - 1, &query, &s)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    u->master = (const char *) s.data;
    u->master_len = s.len;

    /* a stitch starts with its parent's segments: those are prefetched */

    start = id;

    if (feed_hls_clip_parts(cat, clip, 0, parts) == 2) {
        start.data = (u_char *) feed_clip_id(cat,
                                    feed_catalog_clip(cat, clip->parent));
        start.len = feed_catalog_str_len(cat, (char *) start.data, &esc);

        if (ngx_http_feed_sign(r, &start, clip->parent, 0, &query)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    rend = parts[0].r;
    dir.data = (u_char *) rend.name;
    dir.len = rend.name_len;

    if (ngx_http_feed_clip_url(r, &start, &dir, "init.mp4",
                               sizeof("init.mp4") - 1, &query, &s)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    u->init = (const char *) s.data;
    u->init_len = s.len;

    if (ngx_http_feed_clip_url(r, &start, &dir, "0.m4s",
                               sizeof("0.m4s") - 1, &query, &s)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    u->first = (const char *) s.data;
    u->first_len = s.len;

    if (clip->lineage == FEED_LINEAGE_DUET && clip->parent != FEED_NONE) {
        id.data = (u_char *) feed_clip_id(cat,
                                    feed_catalog_clip(cat, clip->parent));
        id.len = feed_catalog_str_len(cat, (char *) id.data, &esc);

        if (ngx_http_feed_sign(r, &id, clip->parent, 0, &query) != NGX_OK
            || ngx_http_feed_clip_url(r, &id, NULL, "master.m3u8",
                                      sizeof("master.m3u8") - 1, &query, &s)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        u->parent_master = (const char *) s.data;
        u->parent_master_len = s.len;
    }

    if (flcf->cache && flcf->media_root.len) {
        len = flcf->media_root.len + start.len + rend.name_len
              + sizeof("///init.mp4");

        warm[0].data = ngx_pnalloc(r->pool, len);
        warm[1].data = ngx_pnalloc(r->pool, len);

        if (warm[0].data == NULL || warm[1].data == NULL) {
            return NGX_ERROR;
        }

        warm[0].len = ngx_sprintf(warm[0].data, "%V/%V/%*s/init.mp4",
                                  &flcf->media_root, &start, rend.name_len,
                                  rend.name)
                      - warm[0].data;
        warm[1].len = ngx_sprintf(warm[1].data, "%V/%V/%*s/0.m4s",
                                  &flcf->media_root, &start, rend.name_len,
                                  rend.name)
                      - warm[1].data;
    }

    return NGX_OK;
}


/* media_uri, the clip's id, "/", a directory and "/" if any, the file */

static ngx_int_t
ngx_http_feed_clip_url(ngx_http_request_t *r, ngx_str_t *id, ngx_str_t *dir,
    const char *file, size_t flen, ngx_str_t *query, ngx_str_t *out)
{
    u_char                    *p;
    ngx_http_feed_loc_conf_t  *flcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);

    p = ngx_pnalloc(r->pool, flcf->media_uri.len + id->len + 1
                             + (dir ? dir->len + 1 : 0) + flen + query->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, flcf->media_uri.data, flcf->media_uri.len);
    p = ngx_cpymem(p, id->data, id->len);
    *p++ = '/';

    if (dir) {
        p = ngx_cpymem(p, dir->data, dir->len);
        *p++ = '/';
    }

    p = ngx_cpymem(p, file, flen);
    p = ngx_cpymem(p, query->data, query->len);
    out->len = p - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_feed_events_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_str_t                  allow;
    ngx_http_feed_loc_conf_t  *flcf;

    ngx_http_feed_count(r, NGX_HTTP_FEED_REQ_EVENTS);

    if (r->method != NGX_HTTP_POST) {
        ngx_str_set(&allow, "POST");

        if (ngx_http_feed_add_header(r, "Allow", &allow) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);

    if (r->headers_in.content_length_n > (off_t) flcf->events_max_body) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "feed_events: body of %O bytes, at most %uz",
                      r->headers_in.content_length_n,
                      flcf->events_max_body);

        /* unread, the body would be taken for the next request */

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_feed_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                   "the batch is larger than "
                                   "feed_events_max_body");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_feed_events_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_feed_events_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_feed_events_process(r));
}


static ngx_int_t
ngx_http_feed_events_process(ngx_http_request_t *r)
{
    u_char                     *body, *p;
    size_t                      len, size;
    ssize_t                     rd;
    uint32_t                    now, idx;
    ngx_buf_t                  *b;
    ngx_uint_t                  i, result[FEED_EVENTS_MAX], accepted;
    ngx_chain_t                *cl;
    feed_err_t                  err;
    feed_event_t               *ev;
    feed_effect_t               fx;
    feed_viewer_t              *v;
    const feed_clip_t          *clip;
    feed_impression_t          *imp;
    feed_clip_stats_t          *cs;
    feed_sound_stats_t         *ss;
    ngx_http_feed_who_t         who;
    ngx_http_feed_state_t      *state;
    ngx_http_feed_metrics_t    *m;
    ngx_http_feed_loc_conf_t   *flcf;
    ngx_http_feed_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);
    flcf = ngx_http_get_module_loc_conf(r, ngx_http_feed_module);
    state = fmcf->state;
    m = ngx_http_feed_metrics(r);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return ngx_http_feed_error(r, NGX_HTTP_BAD_REQUEST,
                                   "no body: expected a JSON batch");
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
    }

    if (len > flcf->events_max_body) {
        return ngx_http_feed_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                   "the batch is larger than "
                                   "feed_events_max_body");
    }

    body = ngx_pnalloc(r->pool, len + 1);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            size = (size_t) (b->file_last - b->file_pos);

            if (size == 0) {
                continue;
            }

            rd = ngx_read_file(b->file, p, size, b->file_pos);

            if (rd != (ssize_t) size) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p += size;

        } else if (b->last != b->pos) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    if (len == 0) {
        return ngx_http_feed_error(r, NGX_HTTP_BAD_REQUEST,
                                   "empty body: expected a JSON batch");
    }

    /* only the viewer an impression was served to may report on it */

    if (ngx_http_feed_identify(r, &who, 0) != NGX_OK) {
        return ngx_http_feed_error(r, NGX_HTTP_FORBIDDEN,
                                   "no valid session cookie: events come "
                                   "from the viewer who was served the "
                                   "feed");
    }

    now = (uint32_t) ngx_time();

    ngx_shmtx_lock(&state->shpool->mutex);

    v = feed_state_viewer_locked(state->region, who.id.id, now, 1, NULL);

    i = v == NULL
        || feed_viewer_allow(v, (uint64_t) ngx_current_msec,
                             (double) flcf->events_rate / 1000,
                             (double) flcf->events_burst);

    ngx_shmtx_unlock(&state->shpool->mutex);

    if (!i) {
        if (m) {
            (void) ngx_atomic_fetch_add(&m->rate_limited, 1);
        }

        return ngx_http_feed_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                   "too many batches: see feed_events_rate");
    }

    ev = ngx_palloc(r->pool, FEED_EVENTS_MAX * sizeof(feed_event_t));
    imp = ngx_palloc(r->pool, FEED_EVENTS_MAX * sizeof(feed_impression_t));

    if (ev == NULL || imp == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (feed_events_parse((const char *) body, len, ev, FEED_EVENTS_MAX,
                          &size, &err)
        != FEED_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "feed_events: %s", err.msg);
        return ngx_http_feed_error(r, NGX_HTTP_BAD_REQUEST, err.msg);
    }

    /* everything that needs no lock first */

    for (i = 0; i < size; i++) {
        if (ev[i].error) {
            result[i] = NGX_HTTP_FEED_EV_INVALID;
            continue;
        }

        if (feed_impression_parse(fmcf->keys, fmcf->nkeys, ev[i].impression,
                                  ev[i].impression_len, &imp[i])
            != FEED_OK)
        {
            result[i] = NGX_HTTP_FEED_EV_FORGED;
            ev[i].error = "bad impression token";
            continue;
        }

        if (ngx_memcmp(imp[i].viewer.id, who.id.id, FEED_VIEWER_ID_LEN) != 0)
        {
            result[i] = NGX_HTTP_FEED_EV_OTHER;
            ev[i].error = "not your impression";
            continue;
        }

        if (imp[i].time > now + 60
            || now - imp[i].time > NGX_HTTP_FEED_IMPRESSION_TTL)
        {
            result[i] = NGX_HTTP_FEED_EV_EXPIRED;
            ev[i].error = "impression expired";
            continue;
        }

        if (feed_catalog_find(fmcf->catalog, imp[i].clip, imp[i].clip_len)
            == FEED_NONE)
        {
            result[i] = NGX_HTTP_FEED_EV_UNKNOWN;
            ev[i].error = "unknown clip";
            continue;
        }

        result[i] = NGX_HTTP_FEED_EV_ACCEPTED;
    }

    accepted = 0;

    ngx_shmtx_lock(&state->shpool->mutex);

    v = feed_state_viewer_locked(state->region, who.id.id, now, 1, NULL);

    for (i = 0; i < size; i++) {
        if (result[i] != NGX_HTTP_FEED_EV_ACCEPTED) {
            continue;
        }

        switch (v ? feed_viewer_report(v, imp[i].position) : FEED_ERROR) {

        case FEED_OK:
            break;

        case FEED_DECLINED:
            result[i] = NGX_HTTP_FEED_EV_DUPLICATE;
            ev[i].error = "duplicate";
            continue;

        default:

            /* older than the viewer's window, or the viewer's record is
             * new (evicted since): its reports cannot be told apart */

            result[i] = NGX_HTTP_FEED_EV_EXPIRED;
            ev[i].error = "impression expired";
            continue;
        }

        idx = feed_catalog_find(fmcf->catalog, imp[i].clip,
                                imp[i].clip_len);
        clip = feed_catalog_clip(fmcf->catalog, idx);

        feed_event_effect(&ev[i], fmcf->catalog, clip, &flcf->rank, &fx);

        cs = feed_state_clip_locked(state->region,
                                    feed_clip_hash(imp[i].clip,
                                                   imp[i].clip_len),
                                    now, 1);

        p = (u_char *) feed_clip_sound(fmcf->catalog, clip);
        ss = feed_state_sound_locked(state->region,
                                     feed_clip_hash((const char *) p,
                                                    ngx_strlen(p)),
                                     now, 1);

        feed_event_apply(&ev[i], &fx, v,
                         feed_clip_embedding(fmcf->catalog, clip),
                         ngx_min(feed_catalog_dim(fmcf->catalog),
                                 FEED_STATE_DIM),
                         feed_clip_hash(imp[i].clip, imp[i].clip_len),
                         feed_name_hash((const char *) p),
                         cs, ss, now, (double) fmcf->trend_half_life);

        accepted++;
    }

    ngx_shmtx_unlock(&state->shpool->mutex);

    /* the answer: one result per event, in order */

    len = sizeof("{\"accepted\":,\"rejected\":,\"results\":[]}\n")
          + 2 * NGX_INT_T_LEN;

    for (i = 0; i < size; i++) {
        len += sizeof("{\"index\":,\"status\":\"rejected\",\"reason\":},")
               + NGX_INT_T_LEN
               + (ev[i].error ? feed_json_string(NULL, ev[i].error,
                                                 ngx_strlen(ev[i].error))
                              : 0);

        if (m) {
            (void) ngx_atomic_fetch_add(&m->events[result[i]], 1);
        }
    }

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(body, "{\"accepted\":%ui,\"rejected\":%ui,\"results\":[",
                    accepted, (ngx_uint_t) size - accepted);

    for (i = 0; i < size; i++) {
        if (result[i] == NGX_HTTP_FEED_EV_ACCEPTED) {
            p = ngx_sprintf(p, "%s{\"index\":%ui,\"status\":\"accepted\"}",
                            i ? "," : "", i);
            continue;
        }

        p = ngx_sprintf(p, "%s{\"index\":%ui,\"status\":\"rejected\","
                        "\"reason\":", i ? "," : "", i);
        p += feed_json_string((char *) p, ev[i].error,
                              ngx_strlen(ev[i].error));
        *p++ = '}';
    }

    p = ngx_cpymem(p, "]}\n", 3);

    (void) ngx_http_feed_event_results;

    return ngx_http_feed_json(r, NGX_HTTP_OK, body, p - body);
}


ngx_int_t
ngx_http_feed_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *msg)
{
    u_char  *p, *body;
    size_t   len;

    len = sizeof("{\"error\":}\n") + feed_json_string(NULL, msg,
                                                      ngx_strlen(msg));

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body, "{\"error\":", sizeof("{\"error\":") - 1);
    p += feed_json_string((char *) p, msg, ngx_strlen(msg));
    p = ngx_cpymem(p, "}\n", 2);

    return ngx_http_feed_json(r, status, body, p - body);
}


ngx_int_t
ngx_http_feed_json(ngx_http_request_t *r, ngx_uint_t status, u_char *p,
    size_t len)
{
    ngx_int_t     rc;
    ngx_str_t     cc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    ngx_str_set(&cc, "no-store");

    if (ngx_http_feed_add_header(r, "Cache-Control", &cc) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = p;
    b->last = p + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* the feed's part of feed_status */

u_char *
ngx_http_feed_status_feed(ngx_http_request_t *r, u_char *p, u_char *last)
{
    ngx_uint_t                  i;
    feed_state_stats_t          st;
    ngx_http_feed_metrics_t     sum, *m;
    ngx_http_feed_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_feed_module);
    m = ngx_http_feed_metrics_total(r, &sum);

    if (m == NULL || fmcf->state == NULL || fmcf->state->region == NULL) {
        return p;
    }

    p = ngx_slprintf(p, last,
            "# HELP feed_items_total Feed items served, by reason.\n"
            "# TYPE feed_items_total counter\n");

    for (i = 0; i < FEED_REASONS; i++) {
        p = ngx_slprintf(p, last, "feed_items_total{reason=\"%s\"} %uA\n",
                         feed_reason_name((unsigned) i), m->items[i]);
    }

    p = ngx_slprintf(p, last,
            "# HELP feed_events_total Watch events, by result.\n"
            "# TYPE feed_events_total counter\n");

    for (i = 0; i < NGX_HTTP_FEED_EV_N; i++) {
        p = ngx_slprintf(p, last, "feed_events_total{result=\"%s\"} %uA\n",
                         ngx_http_feed_event_results[i], m->events[i]);
    }

    ngx_shmtx_lock(&fmcf->state->shpool->mutex);
    feed_state_stats_locked(fmcf->state->region, &st);
    ngx_shmtx_unlock(&fmcf->state->shpool->mutex);

    p = ngx_slprintf(p, last,
            "# HELP feed_new_viewers_total Viewers given a new session.\n"
            "# TYPE feed_new_viewers_total counter\n"
            "feed_new_viewers_total %uA\n"
            "# HELP feed_events_rate_limited_total Event batches refused "
            "by feed_events_rate.\n"
            "# TYPE feed_events_rate_limited_total counter\n"
            "feed_events_rate_limited_total %uA\n"
            "# HELP feed_catalog_appended_total Clips appended to the "
            "catalog file and taken without a reload (per worker).\n"
            "# TYPE feed_catalog_appended_total counter\n"
            "feed_catalog_appended_total %uA\n"
            "# HELP feed_batch_pages_total Pages sent at the end of an "
            "event loop pass (feed_batch_send).\n"
            "# TYPE feed_batch_pages_total counter\n"
            "feed_batch_pages_total %uA\n"
            "# HELP feed_batch_sends_total Passes that sent pages: "
            "pages / sends is the mean batch.\n"
            "# TYPE feed_batch_sends_total counter\n"
            "feed_batch_sends_total %uA\n"
            "# HELP feed_viewers Viewers in the state zone.\n"
            "# TYPE feed_viewers gauge\n"
            "feed_viewers %uL\n"
            "# HELP feed_viewer_capacity Viewers the state zone holds.\n"
            "# TYPE feed_viewer_capacity gauge\n"
            "feed_viewer_capacity %uL\n"
            "# HELP feed_viewer_evictions_total Viewers evicted, least "
            "recently seen first, to make room.\n"
            "# TYPE feed_viewer_evictions_total counter\n"
            "feed_viewer_evictions_total %uL\n"
            "# HELP feed_state_clips Clips with counters.\n"
            "# TYPE feed_state_clips gauge\n"
            "feed_state_clips %uL\n"
            "# HELP feed_state_clips_refused_total Clips refused "
            "counters: the table was full.\n"
            "# TYPE feed_state_clips_refused_total counter\n"
            "feed_state_clips_refused_total %uL\n"
            "# HELP feed_state_resets_total State tables emptied after "
            "damage or a crash.\n"
            "# TYPE feed_state_resets_total counter\n"
            "feed_state_resets_total %uL\n",
            m->new_viewers, m->rate_limited, m->catalog_appended,
            m->batch_pages, m->batch_sends,
            st.viewers, st.viewer_capacity, st.evictions, st.clips,
            st.clips_refused, st.resets);

    if (fmcf->index) {
        p = ngx_http_feed_status_counters(fmcf, p, last);
        p = ngx_http_feed_status_rising(fmcf, p, last);
    }

    return p;
}


/*
 * The clips' shared counters summed, as this worker last copied them
 * (every second): every accepted event and every item served is in
 * them exactly once, whichever worker took it.
 */

static u_char *
ngx_http_feed_status_counters(ngx_http_feed_main_conf_t *fmcf, u_char *p,
    u_char *last)
{
    uint32_t           i, n;
    uint64_t           sum[6];
    feed_clip_stat_t  *st;

    ngx_memzero(sum, sizeof(sum));
    n = feed_index_count(fmcf->index);

    for (i = 0; i < n; i++) {
        st = feed_index_stat(fmcf->index, i);
        sum[0] += st->impressions;
        sum[1] += st->qualified;
        sum[2] += st->completions;
        sum[3] += st->likes;
        sum[4] += st->shares;
        sum[5] += st->skips;
    }

    return ngx_slprintf(p, last,
                        "# HELP feed_clip_counters The clips' shared "
                        "counters summed over the catalog (copied every "
                        "second).\n"
                        "# TYPE feed_clip_counters gauge\n"
                        "feed_clip_counters{counter=\"impressions\"} %uL\n"
                        "feed_clip_counters{counter=\"qualified\"} %uL\n"
                        "feed_clip_counters{counter=\"completions\"} %uL\n"
                        "feed_clip_counters{counter=\"likes\"} %uL\n"
                        "feed_clip_counters{counter=\"shares\"} %uL\n"
                        "feed_clip_counters{counter=\"skips\"} %uL\n",
                        sum[0], sum[1], sum[2], sum[3], sum[4], sum[5]);
}


/*
 * What is happening now, as this worker last copied the counters: the
 * clips and sounds rising most, and the clips in their exposure stages.
 * Clip ids and sound names need no escaping in a label: the catalog
 * allows only [A-Za-z0-9_.-] in them.
 */

#define NGX_HTTP_FEED_STATUS_RISING  10
#define NGX_HTTP_FEED_STATUS_SOUNDS  64
#define NGX_HTTP_FEED_STATUS_FRESH   20

static u_char *
ngx_http_feed_status_rising(ngx_http_feed_main_conf_t *fmcf, u_char *p,
    u_char *last)
{
    float                  t, score[NGX_HTTP_FEED_STATUS_SOUNDS];
    uint32_t               i, k, n, ns, h, rank;
    uint32_t               hash[NGX_HTTP_FEED_STATUS_SOUNDS];
    const char            *s, *name[NGX_HTTP_FEED_STATUS_SOUNDS];
    const uint32_t        *list;
    feed_clip_stat_t      *cs;
    const feed_clip_t     *clip;
    const feed_catalog_t  *cat;

    cat = fmcf->catalog;
    n = feed_index_trending(fmcf->index, &list);
    ns = 0;
    rank = 0;

    p = ngx_slprintf(p, last,
                     "# HELP feed_rising_clip The clips rising most now: "
                     "their decayed engagement.\n"
                     "# TYPE feed_rising_clip gauge\n");

    for (i = 0; i < n; i++) {
        if (list[i] >= feed_index_count(fmcf->index)) {
            continue;
        }

        clip = feed_catalog_clip(cat, list[i]);
        t = feed_index_stat(fmcf->index, list[i])->trend;

        if (!(t > 0)) {
            continue;
        }

        if (rank < NGX_HTTP_FEED_STATUS_RISING) {
            p = ngx_slprintf(p, last,
                             "feed_rising_clip{rank=\"%uD\",clip=\"%s\","
                             "sound=\"%s\"} %.3f\n", ++rank,
                             feed_clip_id(cat, clip),
                             feed_clip_sound(cat, clip), (double) t);
        }

        /* a sound rises with its clips */

        h = feed_index_sound(fmcf->index, list[i]);

        for (k = 0; k < ns && hash[k] != h; k++) { /* void */ }

        if (k == ns) {
            if (ns == NGX_HTTP_FEED_STATUS_SOUNDS) {
                continue;
            }

            hash[ns] = h;
            name[ns] = feed_clip_sound(cat, clip);
            score[ns++] = 0;
        }

        score[k] += t;
    }

    p = ngx_slprintf(p, last,
                     "# HELP feed_rising_sound The sounds rising most now: "
                     "the decayed engagement of their rising clips.\n"
                     "# TYPE feed_rising_sound gauge\n");

    for (i = 0; i < NGX_HTTP_FEED_STATUS_RISING && i < ns; i++) {
        for (k = i + 1; k < ns; k++) {
            if (score[k] > score[i]) {
                t = score[i];
                score[i] = score[k];
                score[k] = t;
                s = name[i];
                name[i] = name[k];
                name[k] = s;
            }
        }

        p = ngx_slprintf(p, last,
                         "feed_rising_sound{rank=\"%uD\",sound=\"%s\"} "
                         "%.3f\n", i + 1, name[i], (double) score[i]);
    }

    n = feed_index_fresh(fmcf->index, &list);

    p = ngx_slprintf(p, last,
                     "# HELP feed_fresh_clips Clips in their exposure "
                     "stages (the fresh pool).\n"
                     "# TYPE feed_fresh_clips gauge\n"
                     "feed_fresh_clips %uD\n"
                     "# HELP feed_fresh_clip_impressions The least shown "
                     "clips of the fresh pool: impressions, by exposure "
                     "stage.\n"
                     "# TYPE feed_fresh_clip_impressions gauge\n", n);

    for (i = 0; i < n && i < NGX_HTTP_FEED_STATUS_FRESH; i++) {
        if (list[i] >= feed_index_count(fmcf->index)) {
            continue;
        }

        cs = feed_index_stat(fmcf->index, list[i]);
        p = ngx_slprintf(p, last,
                         "feed_fresh_clip_impressions{clip=\"%s\","
                         "stage=\"%uD\"} %uD\n",
                         feed_clip_id(cat, feed_catalog_clip(cat, list[i])),
                         (uint32_t) cs->stage, cs->impressions);
    }

    return p;
}
