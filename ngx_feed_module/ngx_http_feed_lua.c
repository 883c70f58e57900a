
/*
 * Copyright (C) ngx_feed_module developers
 */


/*
 * Lua ranking hooks: feed_rank_by_lua_block and feed_rank_by_lua_file.
 *
 * A hook's chunk is compiled to bytecode at configuration time (a syntax
 * error fails nginx -t).  Each worker has one LuaJIT VM, created when it
 * starts: a reduced standard library, an allocator capped by
 * feed_lua_memory_limit, a count hook that enforces feed_lua_time_limit.
 * Every chunk runs once there and returns the hook function; per
 * request the function gets the scored candidates and a read-only
 * request context, and returns scores.  Whatever goes wrong (an error,
 * a timeout, memory, a malformed result) is logged and counted, and the
 * page is served with the C ranking.  Every Lua call that may allocate
 * runs under lua_cpcall: a VM never panics.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <time.h>

#include <luajit.h>
#include <lauxlib.h>
#include <lualib.h>

#include "ngx_http_feed_module.h"


#define NGX_HTTP_FEED_LUA_COUNT       1000      /* instructions a check */
#define NGX_HTTP_FEED_LUA_START_MS    1000      /* a chunk at start */
#define NGX_HTTP_FEED_LUA_RESERVE     (256 * 1024)   /* for tracebacks */
#define NGX_HTTP_FEED_LUA_CACHE_BYTES 512       /* of the limit, each */
#define NGX_HTTP_FEED_LUA_MAP         4096      /* > 2 * FEED_CAND_MAX */
#define NGX_HTTP_FEED_LUA_INTERESTS   16


struct ngx_http_feed_lua_vm_s {
    lua_State                  *L;
    ngx_http_feed_main_conf_t  *fmcf;
    ngx_log_t                  *log;
    size_t                      used;
    size_t                      used_gc;     /* after the last collection */
    size_t                      limit;
    size_t                      reserve;
    uint64_t                    deadline;       /* ns, 0: none */
    uint64_t                    cpu_start;      /* ns of thread CPU */
    ngx_msec_t                  time_limit;
    int                         count;          /* of the count hook */
    unsigned                    timed_out:1;
    unsigned                    oom:1;

    int                         handler;        /* registry refs */
    int                         cands_mt;
    int                         ctx_mt;
    int                         ids;
    int                         creators;
    int                         sounds;
    int                         tags;
    int                         tagsets;     /* by interned tag list */
    int                         reasons;
    ngx_uint_t                  cached;

    /* the call in progress */
    ngx_http_feed_lua_call_t   *call;
    ngx_http_feed_lua_hook_t   *hook;
    lua_Integer                 serial;
    const feed_catalog_t       *cat;
    feed_cand_t                *cands;
    uint32_t                    n;
    ngx_int_t                   failure;        /* -1: none */
    ngx_uint_t                  nonfinite;
    ngx_uint_t                  unknown;
    ngx_uint_t                  dropped;

    uint32_t                    pos[FEED_CAND_MAX];   /* Lua i -> cand */
    float                       value[FEED_CAND_MAX];
    uint8_t                     action[FEED_CAND_MAX];
    uint32_t                    ntags[FEED_CAND_MAX];
    uint32_t                    map_clip[NGX_HTTP_FEED_LUA_MAP];
    uint32_t                    map_pos[NGX_HTTP_FEED_LUA_MAP];
    uint32_t                    map_stamp[NGX_HTTP_FEED_LUA_MAP];
    uint32_t                    stamp;
    ngx_uint_t                  mapped;
    uint32_t                    clips;          /* when cached */
};


#define NGX_HTTP_FEED_LUA_KEEP  0
#define NGX_HTTP_FEED_LUA_SET   1
#define NGX_HTTP_FEED_LUA_DROP  2


static char *ngx_http_feed_lua_read_block(ngx_conf_t *cf, ngx_str_t *code);
static char *ngx_http_feed_lua_compile(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_feed_loc_conf_t *flcf, ngx_str_t *code, ngx_str_t *path,
    ngx_str_t *name);
static int ngx_http_feed_lua_writer(lua_State *L, const void *p, size_t size,
    void *ud);
static void ngx_http_feed_lua_start(ngx_http_feed_lua_vm_t *vm);
static void ngx_http_feed_lua_stop(ngx_http_feed_lua_vm_t *vm);
static void *ngx_http_feed_lua_alloc(void *ud, void *ptr, size_t osize,
    size_t nsize);
static uint64_t ngx_http_feed_lua_clock(clockid_t id);
static void ngx_http_feed_lua_count(lua_State *L, lua_Debug *ar);
static int ngx_http_feed_lua_traceback(lua_State *L);
static int ngx_http_feed_lua_setup(lua_State *L);
static int ngx_http_feed_lua_print(lua_State *L);
static int ngx_http_feed_lua_load(lua_State *L);
static int ngx_http_feed_lua_run(lua_State *L);
static int ngx_http_feed_lua_collect(lua_State *L);
static void ngx_http_feed_lua_failed(ngx_http_feed_lua_vm_t *vm,
    ngx_http_feed_lua_hook_t *hook, int rc, const char *what);
static int ngx_http_feed_lua_result(lua_State *L,
    ngx_http_feed_lua_vm_t *vm);
static ngx_int_t ngx_http_feed_lua_value(lua_State *L,
    ngx_http_feed_lua_vm_t *vm, uint32_t i);
static uint32_t ngx_http_feed_lua_find(ngx_http_feed_lua_vm_t *vm,
    const char *id, size_t len);
static int ngx_http_feed_lua_cands_index(lua_State *L);
static int ngx_http_feed_lua_tagged(lua_State *L);
static int ngx_http_feed_lua_ctx_index(lua_State *L);
static int ngx_http_feed_lua_readonly(lua_State *L);
static void ngx_http_feed_lua_cached(lua_State *L, ngx_http_feed_lua_vm_t *vm,
    int ref, uint32_t key, const char *s);
static void ngx_http_feed_lua_clip_tags(lua_State *L,
    ngx_http_feed_lua_vm_t *vm, uint32_t clip, uint32_t n);
static void ngx_http_feed_lua_interests(lua_State *L,
    ngx_http_feed_lua_vm_t *vm);
static void ngx_http_feed_lua_args(lua_State *L, ngx_http_request_t *r);
static void ngx_http_feed_lua_headers(lua_State *L, ngx_http_request_t *r);


static char  ngx_http_feed_lua_serial_key;


/* configuration: the block, the file, the VM's settings */

char *
ngx_http_feed_lua_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_loc_conf_t *flcf = conf;

    char       *rv;
    ngx_str_t   code, name;
    ngx_uint_t  line;

    if (flcf->lua_hook != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    line = cf->conf_file->line;

    rv = ngx_http_feed_lua_read_block(cf, &code);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /*
     * The code is preceded by as many newlines as the block's first line
     * has predecessors, so Lua's line numbers are the file's.
     */

    name.data = ngx_pnalloc(cf->pool, cf->conf_file->file.name.len
                                      + NGX_INT_T_LEN + 2);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    name.len = ngx_sprintf(name.data, "%V:%ui", &cf->conf_file->file.name,
                           line)
               - name.data;

    return ngx_http_feed_lua_compile(cf, cmd, flcf, &code, NULL, &name);
}


char *
ngx_http_feed_lua_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_feed_loc_conf_t *flcf = conf;

    ngx_str_t  *value, path;

    if (flcf->lua_hook != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_feed_lua_compile(cf, cmd, flcf, NULL, &path, &path);
}


/*
 * The block's text, read from the configuration file as it is: nginx's
 * tokenizer would mangle Lua.  Strings, long brackets and comments are
 * followed so that only the braces of code count.
 */

#define LB_CODE       0
#define LB_DASH       1     /* "-" */
#define LB_COMMENT    2     /* "--" */
#define LB_CBRACKET   3     /* "--[" "="* */
#define LB_LINE       4     /* a line comment */
#define LB_BRACKET    5     /* "[" "="* */
#define LB_LONG       6     /* a long string or comment */
#define LB_CLOSE      7     /* "]" "="* inside one */
#define LB_STRING     8
#define LB_ESCAPE     9
#define LB_SKIPWS     10    /* after "\z": white space, new lines too */
#define LB_ESCAPE_CR  11    /* "\" CR: an LF may follow */

static char *
ngx_http_feed_lua_read_block(ngx_conf_t *cf, ngx_str_t *code)
{
    u_char        ch, quote, *p;
    off_t         file_size;
    size_t        size;
    ssize_t       n;
    ngx_buf_t    *b, *dump;
    ngx_uint_t    state, depth, level, eq, line, i;
    ngx_array_t  *a;

    b = cf->conf_file->buffer;
    dump = cf->conf_file->dump;
    file_size = ngx_file_size(&cf->conf_file->file.info);
    line = cf->conf_file->line;

    a = ngx_array_create(cf->pool, 4096, 1);
    if (a == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_array_push_n(a, line - 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i + 1 < line; i++) {
        p[i] = '\n';
    }

    state = LB_CODE;
    depth = 0;
    level = 0;
    eq = 0;
    quote = 0;

    for ( ;; ) {

        if (b->pos >= b->last) {

            if (cf->conf_file->file.fd == NGX_INVALID_FILE
                || cf->conf_file->file.offset >= file_size)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unexpected end of file in the Lua "
                                   "block, expecting \"}\"");
                return NGX_CONF_ERROR;
            }

            size = (size_t) (file_size - cf->conf_file->file.offset);

            if (size > (size_t) (b->end - b->start)) {
                size = b->end - b->start;
            }

            n = ngx_read_file(&cf->conf_file->file, b->start, size,
                              cf->conf_file->file.offset);

            if (n == NGX_ERROR) {
                return NGX_CONF_ERROR;
            }

            if ((size_t) n != size) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   ngx_read_file_n " returned "
                                   "only %z bytes instead of %uz", n, size);
                return NGX_CONF_ERROR;
            }

            b->pos = b->start;
            b->last = b->start + n;

            if (dump) {
                dump->last = ngx_cpymem(dump->last, b->pos, size);
            }
        }

        ch = *b->pos++;

        if (ch == LF) {
            cf->conf_file->line++;
        }

    again:

        switch (state) {

        case LB_CODE:
            switch (ch) {
            case '-':
                state = LB_DASH;
                break;
            case '[':
                state = LB_BRACKET;
                eq = 0;
                break;
            case '"':
            case '\'':
                state = LB_STRING;
                quote = ch;
                break;
            case '{':
                depth++;
                break;
            case '}':
                if (depth == 0) {
                    code->data = a->elts;
                    code->len = a->nelts;
                    return NGX_CONF_OK;
                }
                depth--;
                break;
            }
            break;

        case LB_DASH:
            if (ch == '-') {
                state = LB_COMMENT;
                break;
            }
            state = LB_CODE;
            goto again;

        case LB_COMMENT:
            if (ch == '[') {
                state = LB_CBRACKET;
                eq = 0;
                break;
            }
            state = LB_LINE;
            goto again;

        case LB_CBRACKET:
            if (ch == '=') {
                eq++;
                break;
            }
            if (ch == '[') {
                state = LB_LONG;
                level = eq;
                break;
            }
            state = LB_LINE;
            goto again;

        case LB_LINE:
            if (ch == LF) {
                state = LB_CODE;
            }
            break;

        case LB_BRACKET:
            if (ch == '=') {
                eq++;
                break;
            }
            if (ch == '[') {
                state = LB_LONG;
                level = eq;
                break;
            }
            state = LB_CODE;
            goto again;

        case LB_LONG:
            if (ch == ']') {
                state = LB_CLOSE;
                eq = 0;
            }
            break;

        case LB_CLOSE:
            if (ch == '=') {
                eq++;
                break;
            }
            if (ch == ']' && eq == level) {
                state = LB_CODE;
                break;
            }
            state = LB_LONG;
            goto again;

        case LB_STRING:
            if (ch == '\\') {
                state = LB_ESCAPE;
            } else if (ch == quote || ch == LF) {
                state = LB_CODE;
            }
            break;

        case LB_ESCAPE:
            state = (ch == 'z') ? LB_SKIPWS
                    : (ch == CR) ? LB_ESCAPE_CR : LB_STRING;
            break;

        case LB_SKIPWS:
            if (ch == ' ' || ch == '\t' || ch == CR || ch == LF
                || ch == '\f' || ch == '\v')
            {
                break;
            }

            state = LB_STRING;
            goto again;

        case LB_ESCAPE_CR:
            state = LB_STRING;

            if (ch != LF) {
                goto again;
            }

            break;
        }

        p = ngx_array_push(a);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        *p = ch;
    }
}


static char *
ngx_http_feed_lua_compile(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_feed_loc_conf_t *flcf, ngx_str_t *code, ngx_str_t *path,
    ngx_str_t *name)
{
    int                          rc;
    u_char                      *chunk;
    lua_State                   *L;
    ngx_array_t                 *out;
    ngx_http_feed_lua_hook_t    *hook, **hp;
    ngx_http_feed_main_conf_t   *fmcf;

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_feed_module);

    out = ngx_array_create(cf->pool, 4096, 1);
    if (out == NULL) {
        return NGX_CONF_ERROR;
    }

    L = luaL_newstate();
    if (L == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": cannot create a Lua VM", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (path) {
        chunk = ngx_pnalloc(cf->temp_pool, path->len + 1);
        if (chunk == NULL) {
            lua_close(L);
            return NGX_CONF_ERROR;
        }

        (void) ngx_cpystrn(chunk, path->data, path->len + 1);
        rc = luaL_loadfile(L, (char *) chunk);

    } else {
        chunk = ngx_pnalloc(cf->temp_pool,
                            cf->conf_file->file.name.len + 2);
        if (chunk == NULL) {
            lua_close(L);
            return NGX_CONF_ERROR;
        }

        *chunk = '@';
        (void) ngx_cpystrn(chunk + 1, cf->conf_file->file.name.data,
                           cf->conf_file->file.name.len + 1);
        rc = luaL_loadbuffer(L, (char *) code->data, code->len,
                             (char *) chunk);
    }

    if (rc != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": %s", &cmd->name,
                           lua_tostring(L, -1));
        lua_close(L);
        return NGX_CONF_ERROR;
    }

    rc = lua_dump(L, ngx_http_feed_lua_writer, out);
    lua_close(L);

    if (rc != 0) {
        return NGX_CONF_ERROR;
    }

    hook = ngx_pcalloc(cf->pool, sizeof(ngx_http_feed_lua_hook_t));
    if (hook == NULL) {
        return NGX_CONF_ERROR;
    }

    hook->name.len = name->len;
    hook->name.data = ngx_pnalloc(cf->pool, name->len + 1);
    if (hook->name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    (void) ngx_cpystrn(hook->name.data, name->data, name->len + 1);
    hook->code = out->elts;
    hook->len = out->nelts;
    hook->ref = LUA_NOREF;

    if (fmcf->lua_hooks == NULL) {
        fmcf->lua_hooks = ngx_array_create(cf->pool, 4,
                                          sizeof(ngx_http_feed_lua_hook_t *));
        if (fmcf->lua_hooks == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    hp = ngx_array_push(fmcf->lua_hooks);
    if (hp == NULL) {
        return NGX_CONF_ERROR;
    }

    *hp = hook;
    flcf->lua_hook = hook;

    return NGX_CONF_OK;
}


static int
ngx_http_feed_lua_writer(lua_State *L, const void *p, size_t size, void *ud)
{
    ngx_array_t  *out = ud;

    u_char  *dst;

    if (size == 0) {
        return 0;
    }

    dst = ngx_array_push_n(out, size);
    if (dst == NULL) {
        return 1;
    }

    ngx_memcpy(dst, p, size);

    return 0;
}


char *
ngx_http_feed_lua_init_main_conf(ngx_conf_t *cf,
    ngx_http_feed_main_conf_t *fmcf)
{
    ngx_conf_init_size_value(fmcf->lua_memory_limit, 16 * 1024 * 1024);
    ngx_conf_init_value(fmcf->lua_jit, 0);

    if (fmcf->lua_memory_limit < 1024 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"feed_lua_memory_limit\" must be at least 1m");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the worker's VM */

ngx_int_t
ngx_http_feed_lua_init_process(ngx_cycle_t *cycle)
{
    ngx_http_feed_lua_vm_t     *vm;
    ngx_http_feed_main_conf_t  *fmcf;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_feed_module)
        == NULL)
    {
        return NGX_OK;
    }

    fmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_feed_module);

    if (fmcf->lua_hooks == NULL) {
        return NGX_OK;
    }

    vm = ngx_pcalloc(cycle->pool, sizeof(ngx_http_feed_lua_vm_t));
    if (vm == NULL) {
        return NGX_ERROR;
    }

    vm->fmcf = fmcf;
    vm->log = cycle->log;
    vm->limit = fmcf->lua_memory_limit;
    fmcf->lua_vm = vm;

    /* a VM that fails to start leaves the feed to the C ranking */

    ngx_http_feed_lua_start(vm);

    return NGX_OK;
}


void
ngx_http_feed_lua_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_feed_main_conf_t  *fmcf;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_feed_module)
        == NULL)
    {
        return;
    }

    fmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_feed_module);

    if (fmcf->lua_vm) {
        ngx_http_feed_lua_stop(fmcf->lua_vm);
    }
}


static void
ngx_http_feed_lua_start(ngx_http_feed_lua_vm_t *vm)
{
    int                         rc;
    lua_State                  *L;
    ngx_uint_t                  i;
    ngx_http_feed_lua_hook_t  **hooks;

    vm->used = 0;
    vm->used_gc = 0;
    vm->reserve = 0;
    vm->deadline = 0;
    vm->timed_out = 0;
    vm->oom = 0;
    vm->cached = 0;

    hooks = vm->fmcf->lua_hooks->elts;

    for (i = 0; i < vm->fmcf->lua_hooks->nelts; i++) {
        hooks[i]->ref = LUA_NOREF;
    }

    L = lua_newstate(ngx_http_feed_lua_alloc, vm);
    if (L == NULL) {
        ngx_log_error(NGX_LOG_ERR, vm->log, 0,
                      "feed_rank_by_lua: cannot create a Lua VM within "
                      "feed_lua_memory_limit %uz, hooks disabled",
                      vm->limit);
        return;
    }

    vm->L = L;

    (void) luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE
                                | (vm->fmcf->lua_jit ? LUAJIT_MODE_ON
                                                     : LUAJIT_MODE_OFF));

    vm->count = NGX_HTTP_FEED_LUA_COUNT;
    lua_sethook(L, ngx_http_feed_lua_count, LUA_MASKCOUNT, vm->count);

    rc = lua_cpcall(L, ngx_http_feed_lua_setup, vm);

    if (rc != 0) {
        ngx_log_error(NGX_LOG_ERR, vm->log, 0,
                      "feed_rank_by_lua: cannot set up the Lua VM: %s, "
                      "hooks disabled", lua_tostring(L, -1));
        ngx_http_feed_lua_stop(vm);
        return;
    }

    for (i = 0; i < vm->fmcf->lua_hooks->nelts; i++) {
        vm->hook = hooks[i];
        vm->failure = -1;
        vm->timed_out = 0;
        vm->oom = 0;
        vm->time_limit = NGX_HTTP_FEED_LUA_START_MS;
        vm->cpu_start = ngx_http_feed_lua_clock(CLOCK_THREAD_CPUTIME_ID);
        vm->deadline = ngx_http_feed_lua_clock(CLOCK_MONOTONIC)
                       + (uint64_t) NGX_HTTP_FEED_LUA_START_MS * 1000000;

        rc = lua_cpcall(L, ngx_http_feed_lua_load, vm);

        vm->deadline = 0;

        if (rc != 0) {
            ngx_http_feed_lua_failed(vm, hooks[i], rc, "at worker start");
        }

        lua_settop(L, 0);
    }

    vm->hook = NULL;
}


static void
ngx_http_feed_lua_stop(ngx_http_feed_lua_vm_t *vm)
{
    if (vm->L) {
        lua_close(vm->L);
        vm->L = NULL;
    }
}


static void *
ngx_http_feed_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    ngx_http_feed_lua_vm_t *vm = ud;

    void  *p;

    if (ptr == NULL) {
        osize = 0;
    }

    if (nsize == 0) {
        free(ptr);
        vm->used -= osize;
        return NULL;
    }

    if (nsize > osize
        && vm->used + (nsize - osize) > vm->limit + vm->reserve)
    {
        vm->oom = 1;
        return NULL;
    }

    p = realloc(ptr, nsize);

    if (p == NULL) {
        if (nsize <= osize) {
            vm->used = vm->used - osize + nsize;
            return ptr;         /* a shrink must not fail: keep it */
        }

        vm->oom = 1;
        return NULL;
    }

    vm->used = vm->used - osize + nsize;

    return p;
}


static uint64_t
ngx_http_feed_lua_clock(clockid_t id)
{
    struct timespec  ts;

    (void) clock_gettime(id, &ts);

    return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}


/*
 * Called every NGX_HTTP_FEED_LUA_COUNT instructions of interpreted code.
 * The limit is on the CPU time the worker spent in the call: the cheap
 * monotonic clock is read here, the thread's CPU clock (a system call)
 * only when the deadline has passed, so that a worker descheduled on a
 * busy machine is given back the time it lost.  Past the limit it raises
 * an error at every instruction, so that a hook's own pcall cannot catch
 * it for long: the error reaches the top.
 */

static void
ngx_http_feed_lua_count(lua_State *L, lua_Debug *ar)
{
    void                    *ud;
    uint64_t                 now, cpu, limit;
    ngx_http_feed_lua_vm_t  *vm;

    (void) lua_getallocf(L, &ud);
    vm = ud;

    if (vm->deadline == 0) {
        return;
    }

    if (!vm->timed_out) {
        now = ngx_http_feed_lua_clock(CLOCK_MONOTONIC);

        if (now < vm->deadline) {
            return;
        }

        cpu = ngx_http_feed_lua_clock(CLOCK_THREAD_CPUTIME_ID)
              - vm->cpu_start;
        limit = (uint64_t) vm->time_limit * 1000000;

        if (cpu < limit) {
            vm->deadline = now + (limit - cpu);
            return;
        }

        vm->timed_out = 1;
        vm->count = 1;
        lua_sethook(L, ngx_http_feed_lua_count, LUA_MASKCOUNT, 1);
    }

    lua_pushfstring(L, "time limit of %dms exceeded", (int) vm->time_limit);
    lua_error(L);
}


static int
ngx_http_feed_lua_traceback(lua_State *L)
{
    void                    *ud;
    const char              *msg;
    ngx_http_feed_lua_vm_t  *vm;

    (void) lua_getallocf(L, &ud);
    vm = ud;

    /* the error reaches the top: no more checks, room to describe it */

    vm->deadline = 0;
    vm->reserve = NGX_HTTP_FEED_LUA_RESERVE;

    msg = lua_tostring(L, 1);

    if (msg == NULL) {
        msg = lua_pushfstring(L, "(error object is a %s value)",
                              luaL_typename(L, 1));
    }

    luaL_traceback(L, L, msg, 1);

    return 1;
}


/*
 * The reduced library: base (without dofile, loadfile, load, loadstring,
 * newproxy; print logs), table, string, math, bit, and require limited
 * to Lua files on feed_lua_package_path.  No io, os, debug, ffi, jit.
 */

static int
ngx_http_feed_lua_setup(lua_State *L)
{
    ngx_uint_t               i;
    ngx_http_feed_lua_vm_t  *vm;

    static const luaL_Reg  libs[] = {
        { "", luaopen_base },
        { LUA_TABLIBNAME, luaopen_table },
        { LUA_STRLIBNAME, luaopen_string },
        { LUA_MATHLIBNAME, luaopen_math },
        { LUA_BITLIBNAME, luaopen_bit },
        { LUA_LOADLIBNAME, luaopen_package },
        { NULL, NULL }
    };

    static const char  *removed[] = {
        "dofile", "loadfile", "load", "loadstring", "newproxy", "module",
        NULL
    };

    static const char  *reasons[] = {
        "personal", "zeitgeist", "explore", "remix", "random", "sound"
    };

    vm = lua_touserdata(L, 1);

    for (i = 0; libs[i].func; i++) {
        lua_pushcfunction(L, libs[i].func);
        lua_pushstring(L, libs[i].name);
        lua_call(L, 1, 0);
    }

    for (i = 0; removed[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }

    lua_pushcfunction(L, ngx_http_feed_lua_print);
    lua_setglobal(L, "print");

    /* require: preloaded modules and Lua files, nothing native */

    lua_getglobal(L, "package");

    lua_getfield(L, -1, "loaders");
    lua_pushnil(L);
    lua_rawseti(L, -2, 4);
    lua_pushnil(L);
    lua_rawseti(L, -2, 3);
    lua_pop(L, 1);

    lua_getfield(L, -1, "preload");
    lua_pushnil(L);
    lua_setfield(L, -2, "ffi");
    lua_pop(L, 1);

    lua_pushnil(L);
    lua_setfield(L, -2, "loadlib");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pushlstring(L, (char *) vm->fmcf->lua_package_path.data,
                    vm->fmcf->lua_package_path.len);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);

    /* the candidates' and the context's metatables */

    lua_createtable(L, 0, 2);
    lua_pushlightuserdata(L, vm);
    lua_pushcclosure(L, ngx_http_feed_lua_cands_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    vm->cands_mt = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_createtable(L, 0, 3);
    lua_pushlightuserdata(L, vm);
    lua_pushcclosure(L, ngx_http_feed_lua_ctx_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ngx_http_feed_lua_readonly);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    vm->ctx_mt = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_pushcfunction(L, ngx_http_feed_lua_traceback);
    vm->handler = luaL_ref(L, LUA_REGISTRYINDEX);

    /* strings of the catalog, interned once, by index */

    lua_newtable(L);
    vm->ids = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    vm->creators = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    vm->sounds = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    vm->tags = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    vm->tagsets = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_createtable(L, FEED_REASONS, 0);

    for (i = 0; i < FEED_REASONS; i++) {
        lua_pushstring(L, reasons[i]);
        lua_rawseti(L, -2, (int) i + 1);
    }

    vm->reasons = luaL_ref(L, LUA_REGISTRYINDEX);

    return 0;
}


static int
ngx_http_feed_lua_print(lua_State *L)
{
    int                      i, n;
    void                    *ud;
    u_char                   buf[2048], *p, *last;
    size_t                   len;
    const char              *s;
    ngx_http_feed_lua_vm_t  *vm;

    (void) lua_getallocf(L, &ud);
    vm = ud;

    p = buf;
    last = buf + sizeof(buf);
    n = lua_gettop(L);

    /* like ngx.log: the arguments back to back, no separator */

    for (i = 1; i <= n; i++) {
        switch (lua_type(L, i)) {

        case LUA_TSTRING:
        case LUA_TNUMBER:
            lua_pushvalue(L, i);
            s = lua_tolstring(L, -1, &len);
            p = ngx_slprintf(p, last, "%*s", len, s);
            lua_pop(L, 1);
            break;

        case LUA_TBOOLEAN:
            p = ngx_slprintf(p, last, "%s",
                             lua_toboolean(L, i) ? "true" : "false");
            break;

        default:
            p = ngx_slprintf(p, last, "%s", luaL_typename(L, i));
        }
    }

    ngx_log_error(NGX_LOG_NOTICE, vm->log, 0, "feed_rank_by_lua \"%s\": %*s",
                  vm->hook ? (char *) vm->hook->name.data : "", p - buf, buf);

    return 0;
}


/* a hook's chunk, run once per VM: it returns the hook function */

static int
ngx_http_feed_lua_load(lua_State *L)
{
    int                        rc;
    ngx_http_feed_lua_vm_t    *vm;
    ngx_http_feed_lua_hook_t  *hook;

    vm = lua_touserdata(L, 1);
    hook = vm->hook;

    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->handler);

    if (luaL_loadbuffer(L, (char *) hook->code, hook->len,
                        (char *) hook->name.data)
        != 0)
    {
        return lua_error(L);
    }

    /* its own globals, falling back to the shared ones */

    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfenv(L, -2);

    rc = lua_pcall(L, 0, 1, 1);

    vm->reserve = 0;

    if (rc != 0) {
        ngx_http_feed_lua_failed(vm, hook, rc, "at worker start");
        return 0;
    }

    if (lua_type(L, -1) != LUA_TFUNCTION) {
        ngx_log_error(NGX_LOG_ERR, vm->log, 0,
                      "feed_rank_by_lua \"%V\": the chunk returned a %s "
                      "instead of the hook function, hook disabled",
                      &hook->name, luaL_typename(L, -1));
        return 0;
    }

    hook->ref = luaL_ref(L, LUA_REGISTRYINDEX);

    return 0;
}


/* the hook: called by feed_rank_page() between scoring and assembly */

int
ngx_http_feed_lua_rank(void *data, const feed_catalog_t *cat,
    feed_cand_t *cands, uint32_t n)
{
    ngx_http_feed_lua_call_t *call = data;

    int                         rc;
    uint32_t                    i, live;
    ngx_http_feed_lua_vm_t     *vm;
    ngx_http_feed_metrics_t    *m;
    ngx_http_feed_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(call->r, ngx_http_feed_module);
    vm = fmcf->lua_vm;
    m = ngx_http_feed_metrics(call->r);

    if (m) {
        (void) ngx_atomic_fetch_add(&m->lua_calls, 1);
    }

    if (vm == NULL || vm->L == NULL || call->hook->ref == LUA_NOREF) {
        if (m) {
            (void) ngx_atomic_fetch_add(
                            &m->lua_failures[NGX_HTTP_FEED_LUA_NOHOOK], 1);
        }

        return 0;
    }

    live = 0;

    for (i = 0; i < n && live < FEED_CAND_MAX; i++) {
        if (!cands[i].dropped) {
            vm->pos[live++] = i;
        }
    }

    /*
     * LuaJIT has no emergency collection: an allocation refused by the
     * cap fails even if garbage would make room.  Past half the limit
     * the garbage is collected before the call, and the string caches
     * are bounded by the limit.
     */

    if (feed_catalog_count(cat) != vm->clips) {
        vm->clips = feed_catalog_count(cat);
        vm->cached = (ngx_uint_t) -1;       /* empty the caches */
    }

    /*
     * ... but only once the heap has grown by an eighth of the limit
     * since the last collection: a hook that keeps much state does not
     * make every call collect.
     */

    if ((vm->used > vm->limit / 2
         && vm->used > vm->used_gc + vm->limit / 8)
        || vm->cached > vm->limit / NGX_HTTP_FEED_LUA_CACHE_BYTES)
    {
        (void) lua_cpcall(vm->L, ngx_http_feed_lua_collect, vm);
        lua_settop(vm->L, 0);
        vm->used_gc = vm->used;
    }

    vm->call = call;
    vm->hook = call->hook;
    vm->cat = cat;
    vm->cands = cands;
    vm->n = live;
    vm->serial++;
    vm->failure = -1;
    vm->nonfinite = 0;
    vm->unknown = 0;
    vm->dropped = 0;
    vm->timed_out = 0;
    vm->oom = 0;
    vm->time_limit = call->time_limit;

    if (vm->count != NGX_HTTP_FEED_LUA_COUNT) {
        vm->count = NGX_HTTP_FEED_LUA_COUNT;
        lua_sethook(vm->L, ngx_http_feed_lua_count, LUA_MASKCOUNT,
                    vm->count);
    }

    vm->cpu_start = ngx_http_feed_lua_clock(CLOCK_THREAD_CPUTIME_ID);
    vm->deadline = ngx_http_feed_lua_clock(CLOCK_MONOTONIC)
                   + (uint64_t) call->time_limit * 1000000;

    rc = lua_cpcall(vm->L, ngx_http_feed_lua_run, vm);

    vm->deadline = 0;
    vm->reserve = 0;
    vm->call = NULL;

    if (rc != 0) {
        ngx_http_feed_lua_failed(vm, call->hook, rc, "preparing a call");
    }

    lua_settop(vm->L, 0);

    if (m) {
        if (vm->failure >= 0) {
            (void) ngx_atomic_fetch_add(&m->lua_failures[vm->failure], 1);
        }

        if (vm->nonfinite) {
            (void) ngx_atomic_fetch_add(&m->lua_nonfinite, vm->nonfinite);
        }

        if (vm->unknown) {
            (void) ngx_atomic_fetch_add(&m->lua_unknown_ids, vm->unknown);
        }

        if (vm->dropped) {
            (void) ngx_atomic_fetch_add(&m->lua_dropped, vm->dropped);
        }
    }

    /*
     * After a memory failure, what the hook keeps between calls may
     * still fill the VM: past three quarters of the limit it is made
     * anew, module state lost, rather than failing every call.
     */

    if (vm->failure == NGX_HTTP_FEED_LUA_MEMORY) {
        vm->reserve = NGX_HTTP_FEED_LUA_RESERVE;   /* room to collect */
        (void) lua_cpcall(vm->L, ngx_http_feed_lua_collect, NULL);
        lua_settop(vm->L, 0);
        vm->reserve = 0;

        if (vm->used > vm->limit / 4 * 3) {
            ngx_log_error(NGX_LOG_ERR, vm->log, 0,
                          "feed_rank_by_lua: %uz bytes of %uz still in use "
                          "after a collection, Lua VM restarted",
                          vm->used, vm->limit);

            ngx_http_feed_lua_stop(vm);
            ngx_http_feed_lua_start(vm);

            if (m) {
                (void) ngx_atomic_fetch_add(&m->lua_restarts, 1);
            }
        }
    }

    vm->hook = NULL;

    return vm->failure < 0;
}


static int
ngx_http_feed_lua_collect(lua_State *L)
{
    ngx_http_feed_lua_vm_t  *vm;

    vm = lua_touserdata(L, 1);

    if (vm) {
        lua_gc(L, LUA_GCCOLLECT, 0);

        /* the string caches are emptied only when they are what is big */

        if (vm->cached <= vm->limit / NGX_HTTP_FEED_LUA_CACHE_BYTES) {
            return 0;
        }

        /* the string caches take too much: start them again */

        vm->cached = 0;

        lua_newtable(L);
        lua_rawseti(L, LUA_REGISTRYINDEX, vm->ids);
        lua_newtable(L);
        lua_rawseti(L, LUA_REGISTRYINDEX, vm->creators);
        lua_newtable(L);
        lua_rawseti(L, LUA_REGISTRYINDEX, vm->sounds);
        lua_newtable(L);
        lua_rawseti(L, LUA_REGISTRYINDEX, vm->tags);
        lua_newtable(L);
        lua_rawseti(L, LUA_REGISTRYINDEX, vm->tagsets);
    }

    lua_gc(L, LUA_GCCOLLECT, 0);

    return 0;
}


static int
ngx_http_feed_lua_run(lua_State *L)
{
    int                      rc;
    uint32_t                 i;
    ngx_time_t              *tp;
    ngx_http_feed_lua_vm_t  *vm;

    vm = lua_touserdata(L, 1);
    lua_settop(L, 0);

    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->handler);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->hook->ref);

    /* the candidates: n and the scores now, the rest when first read */

    lua_createtable(L, 0, 8);

    lua_pushinteger(L, (lua_Integer) vm->n);
    lua_setfield(L, -2, "n");

    lua_createtable(L, (int) vm->n, 0);

    for (i = 0; i < vm->n; i++) {
        lua_pushnumber(L, vm->cands[vm->pos[i]].score);
        lua_rawseti(L, -2, (int) i + 1);
    }

    lua_setfield(L, -2, "score");

    lua_pushlightuserdata(L, &ngx_http_feed_lua_serial_key);
    lua_pushinteger(L, vm->serial);
    lua_rawset(L, -3);

    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->cands_mt);
    lua_setmetatable(L, -2);

    /* the request's context */

    lua_createtable(L, 0, 8);

    tp = ngx_timeofday();
    lua_pushnumber(L, (lua_Number) tp->sec + (lua_Number) tp->msec / 1000);
    lua_setfield(L, -2, "now");

    lua_pushboolean(L, !(vm->call->viewer->confidence > 0));
    lua_setfield(L, -2, "new_viewer");

    lua_pushlightuserdata(L, &ngx_http_feed_lua_serial_key);
    lua_pushinteger(L, vm->serial);
    lua_rawset(L, -3);

    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->ctx_mt);
    lua_setmetatable(L, -2);

    rc = lua_pcall(L, 2, 1, 1);

    vm->deadline = 0;
    vm->reserve = 0;

    if (rc != 0) {
        ngx_http_feed_lua_failed(vm, vm->hook, rc, "in a call");
        return 0;
    }

    return ngx_http_feed_lua_result(L, vm);
}


static void
ngx_http_feed_lua_failed(ngx_http_feed_lua_vm_t *vm,
    ngx_http_feed_lua_hook_t *hook, int rc, const char *what)
{
    time_t       now;
    ngx_uint_t   quiet;
    const char  *msg, *kind;

    if (vm->timed_out) {
        vm->failure = NGX_HTTP_FEED_LUA_TIMEOUT;
        kind = "ran past feed_lua_time_limit";

    } else if (rc == LUA_ERRMEM) {
        vm->failure = NGX_HTTP_FEED_LUA_MEMORY;
        kind = "exhausted feed_lua_memory_limit";

    } else {
        vm->failure = NGX_HTTP_FEED_LUA_ERROR;
        kind = "raised an error";
    }

    /* at most one line a second per hook and worker */

    now = ngx_time();

    if (hook->logged == now) {
        hook->quiet++;
        return;
    }

    quiet = hook->quiet;
    hook->logged = now;
    hook->quiet = 0;

    msg = (vm->L && lua_type(vm->L, -1) == LUA_TSTRING)
          ? lua_tostring(vm->L, -1) : "(no message)";

    ngx_log_error(NGX_LOG_ERR, vm->log, 0,
                  "feed_rank_by_lua \"%V\" %s %s (Lua memory: %uz of %uz "
                  "bytes; %ui failures not logged in the last second): %s"
                  "\nserved with the C ranking",
                  &hook->name, kind, what, vm->used, vm->limit, quiet, msg);
}


/*
 * The hook's result, checked before anything is applied: nil keeps the
 * C scores; a table of n entries gives each candidate in order a number
 * (its new score) or false (dropped); a table with string keys only
 * gives scores or false by clip id.  A non-finite number leaves that
 * candidate its C score; an unknown id is ignored; anything else makes
 * the whole result ignored.
 */

static int
ngx_http_feed_lua_result(lua_State *L, ngx_http_feed_lua_vm_t *vm)
{
    size_t        len, size;
    uint32_t      i, k;
    ngx_int_t     rc;
    feed_cand_t  *c;
    const char   *id, *why;

    why = NULL;

    if (lua_isnil(L, -1)) {
        return 0;
    }

    if (!lua_istable(L, -1)) {
        why = lua_pushfstring(L, "returned a %s, not a table of scores",
                              luaL_typename(L, -1));
        goto garbage;
    }

    ngx_memzero(vm->action, vm->n);
    len = lua_objlen(L, -1);

    if (len == vm->n && len > 0) {

        for (i = 0; i < vm->n; i++) {
            lua_rawgeti(L, -1, (int) i + 1);
            rc = ngx_http_feed_lua_value(L, vm, i);
            lua_pop(L, 1);

            if (rc != NGX_OK) {
                why = lua_pushfstring(L, "returned a %s at index %d, "
                                      "not a number or false",
                                      lua_typename(L, (int) rc), (int) i + 1);
                goto garbage;
            }
        }

    } else if (len == 0) {

        vm->mapped = 0;
        lua_pushnil(L);

        while (lua_next(L, -2)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                why = lua_pushfstring(L, "returned a table with a %s key: "
                                      "scores go in order (%d of them) "
                                      "or by clip id",
                                      luaL_typename(L, -2), (int) vm->n);
                goto garbage;
            }

            id = lua_tolstring(L, -2, &size);
            k = ngx_http_feed_lua_find(vm, id, size);

            if (k == FEED_NONE) {
                vm->unknown++;
                lua_pop(L, 1);
                continue;
            }

            rc = ngx_http_feed_lua_value(L, vm, k);

            if (rc != NGX_OK) {
                why = lua_pushfstring(L, "returned a %s for clip \"%s\", "
                                      "not a number or false",
                                      lua_typename(L, (int) rc), id);
                goto garbage;
            }

            lua_pop(L, 1);
        }

    } else {
        why = lua_pushfstring(L, "returned a table of %d entries for %d "
                              "candidates", (int) len, (int) vm->n);
        goto garbage;
    }

    for (i = 0; i < vm->n; i++) {
        c = &vm->cands[vm->pos[i]];

        if (vm->action[i] == NGX_HTTP_FEED_LUA_SET) {
            c->score = vm->value[i];

        } else if (vm->action[i] == NGX_HTTP_FEED_LUA_DROP) {
            c->dropped = 1;
            vm->dropped++;
        }
    }

    return 0;

garbage:

    vm->failure = NGX_HTTP_FEED_LUA_RESULT;
    vm->nonfinite = 0;
    vm->unknown = 0;

    if (vm->hook->logged != ngx_time()) {
        vm->hook->logged = ngx_time();
        ngx_log_error(NGX_LOG_ERR, vm->log, 0,
                      "feed_rank_by_lua \"%V\" %s (%ui failures not logged "
                      "in the last second); result ignored, served with the "
                      "C ranking",
                      &vm->hook->name, why, vm->hook->quiet);
        vm->hook->quiet = 0;

    } else {
        vm->hook->quiet++;
    }

    return 0;
}


/* NGX_OK, or the Lua type of a value that is neither number nor false */

static ngx_int_t
ngx_http_feed_lua_value(lua_State *L, ngx_http_feed_lua_vm_t *vm, uint32_t i)
{
    int    type;
    float  f;

    type = lua_type(L, -1);

    if (type == LUA_TNUMBER) {
        f = (float) lua_tonumber(L, -1);

        if (isfinite(f)) {
            vm->value[i] = f;
            vm->action[i] = NGX_HTTP_FEED_LUA_SET;

        } else {
            vm->nonfinite++;
            vm->action[i] = NGX_HTTP_FEED_LUA_KEEP;
        }

        return NGX_OK;
    }

    if (type == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
        vm->action[i] = NGX_HTTP_FEED_LUA_DROP;
        return NGX_OK;
    }

    return type;
}


/* a clip id to its position among the candidates, or FEED_NONE */

static uint32_t
ngx_http_feed_lua_find(ngx_http_feed_lua_vm_t *vm, const char *id,
    size_t len)
{
    uint32_t  clip, h, i;

    clip = feed_catalog_find(vm->cat, id, len);

    if (clip == FEED_NONE) {
        return FEED_NONE;
    }

    /* a map of this call's candidates, built on the first id */

    if (!vm->mapped) {
        vm->mapped = 1;

        if (++vm->stamp == 0) {
            ngx_memzero(vm->map_stamp, sizeof(vm->map_stamp));
            vm->stamp = 1;
        }

        for (i = 0; i < vm->n; i++) {
            h = (vm->cands[vm->pos[i]].clip * 2654435761u)
                & (NGX_HTTP_FEED_LUA_MAP - 1);

            while (vm->map_stamp[h] == vm->stamp) {
                h = (h + 1) & (NGX_HTTP_FEED_LUA_MAP - 1);
            }

            vm->map_stamp[h] = vm->stamp;
            vm->map_clip[h] = vm->cands[vm->pos[i]].clip;
            vm->map_pos[h] = i;
        }
    }

    h = (clip * 2654435761u) & (NGX_HTTP_FEED_LUA_MAP - 1);

    while (vm->map_stamp[h] == vm->stamp) {
        if (vm->map_clip[h] == clip) {
            return vm->map_pos[h];
        }

        h = (h + 1) & (NGX_HTTP_FEED_LUA_MAP - 1);
    }

    return FEED_NONE;
}


/*
 * c.id, c.creator ... built on first read and kept in c, so a hook pays
 * only for the fields it reads.
 */

/*
 * c.tagged{ "a", "b", ... }: for each candidate the first of its tags
 * found in the list, or false; matched in C, each distinct tag string of
 * the catalog compared once a call, so that a guardrail on a few tags
 * need not walk every candidate's tag list in Lua.
 */

#define NGX_HTTP_FEED_LUA_TAGGED_MAX   32
#define NGX_HTTP_FEED_LUA_MEMO         1024

static const uint32_t  ngx_http_feed_lua_none[1];   /* no tags */

static int
ngx_http_feed_lua_tagged(lua_State *L)
{
    int                      m;
    size_t                   len[NGX_HTTP_FEED_LUA_TAGGED_MAX];
    uint32_t                 i, t, h, n, nt, used, probe;
    uint16_t                 mask;
    uintptr_t                key;
    const char              *name[NGX_HTTP_FEED_LUA_TAGGED_MAX], *tag;
    const feed_catalog_t    *cat;
    ngx_http_feed_lua_vm_t  *vm;

    static const uint32_t   *words[FEED_CAND_MAX];
    static uintptr_t         memo_key[NGX_HTTP_FEED_LUA_MEMO];
    static int               memo_val[NGX_HTTP_FEED_LUA_MEMO];

    vm = lua_touserdata(L, lua_upvalueindex(1));

    if (vm->call == NULL
        || lua_tointeger(L, lua_upvalueindex(2)) != vm->serial)
    {
        return luaL_error(L, "c.tagged called after its hook returned");
    }

    luaL_checktype(L, 1, LUA_TTABLE);

    n = (uint32_t) lua_objlen(L, 1);
    mask = 0;

    if (n > NGX_HTTP_FEED_LUA_TAGGED_MAX) {
        return luaL_error(L, "c.tagged takes at most %d tags",
                          NGX_HTTP_FEED_LUA_TAGGED_MAX);
    }

    for (i = 0; i < n; i++) {
        lua_rawgeti(L, 1, (int) i + 1);

        if (lua_type(L, -1) != LUA_TSTRING) {
            return luaL_error(L, "c.tagged takes a list of strings");
        }

        name[i] = lua_tolstring(L, -1, &len[i]);
        lua_pop(L, 1);      /* still referenced by the list */

        mask |= feed_index_tag_bit(name[i], len[i]);
    }

    ngx_memzero(memo_key, sizeof(memo_key));
    used = 0;

    cat = vm->cat;

    /*
     * A clip none of whose tags' bits (in its index record, at hand) is
     * among the list's carries none of the tags.  The others' clips and
     * tag lists are spread over the catalog: each asked for ahead, then
     * read in a tight loop, so that the cache misses overlap; a tag is
     * its interned word's number, compared as a string once a call and
     * then found by number.
     */

    for (i = 0; i < vm->n; i++) {
        words[i] = NULL;

        if (vm->cands[vm->pos[i]].rec->tags & mask) {
            words[i] = ngx_http_feed_lua_none;
#if defined(__GNUC__)
            __builtin_prefetch(feed_catalog_clip(cat,
                                                 vm->cands[vm->pos[i]].clip));
#endif
        }
    }

    for (i = 0; i < vm->n; i++) {
        if (words[i]) {
            words[i] = feed_clip_tag_words(cat, feed_catalog_clip(cat,
                                               vm->cands[vm->pos[i]].clip));
#if defined(__GNUC__)
            __builtin_prefetch(words[i]);
#endif
        }
    }

    lua_createtable(L, (int) vm->n, 0);

    for (i = 0; i < vm->n; i++) {
        nt = words[i] ? words[i][0] : 0;
        m = -1;

        for (t = 0; t < nt && m < 0; t++) {
            key = (uintptr_t) words[i][1 + t] + 1;

            /*
             * Memoized by word while the memo is at most three quarters
             * full; past that, tags are compared every time.
             */

            for (h = (uint32_t) (key * 2654435761u) % NGX_HTTP_FEED_LUA_MEMO,
                 probe = 0;
                 memo_key[h] && memo_key[h] != key
                 && probe < NGX_HTTP_FEED_LUA_MEMO;
                 h = (h + 1) % NGX_HTTP_FEED_LUA_MEMO, probe++)
            {
                /* void */
            }

            if (memo_key[h] == key) {
                m = memo_val[h];
                continue;
            }

            tag = feed_catalog_word(cat, (uint32_t) key - 1);

            for (m = (int) n - 1; m >= 0; m--) {
                if (ngx_strlen(tag) == len[m]
                    && ngx_strncmp(tag, name[m], len[m]) == 0)
                {
                    break;
                }
            }

            if (memo_key[h] == 0 && used < NGX_HTTP_FEED_LUA_MEMO / 4 * 3) {
                memo_key[h] = key;
                memo_val[h] = m;
                used++;
            }
        }

        if (m >= 0) {
            lua_rawgeti(L, 1, m + 1);

        } else {
            lua_pushboolean(L, 0);
        }

        lua_rawseti(L, -2, (int) i + 1);
    }

    return 1;
}


static int
ngx_http_feed_lua_cands_index(lua_State *L)
{
    size_t                   len;
    uint32_t                 i, k, now;
    const char              *key;
    const feed_clip_t       *clip;
    const feed_catalog_t    *cat;
    ngx_http_feed_lua_vm_t  *vm;

    vm = lua_touserdata(L, lua_upvalueindex(1));

    if (lua_type(L, 2) != LUA_TSTRING) {
        return 0;
    }

    lua_pushlightuserdata(L, &ngx_http_feed_lua_serial_key);
    lua_rawget(L, 1);

    if (vm->call == NULL || lua_tointeger(L, -1) != vm->serial) {
        return luaL_error(L, "candidates read after their hook returned");
    }

    lua_pop(L, 1);

    key = lua_tolstring(L, 2, &len);
    cat = vm->cat;
    now = vm->call->now;

    lua_createtable(L, (int) vm->n, 0);

    if (len == 2 && ngx_strncmp(key, "id", 2) == 0) {
        for (i = 0; i < vm->n; i++) {
            k = vm->cands[vm->pos[i]].clip;
            ngx_http_feed_lua_cached(L, vm, vm->ids, k,
                        feed_clip_id(cat, feed_catalog_clip(cat, k)));
            lua_rawseti(L, -2, (int) i + 1);
        }

    } else if (len == 7 && ngx_strncmp(key, "creator", 7) == 0) {
        for (i = 0; i < vm->n; i++) {
            clip = feed_catalog_clip(cat, vm->cands[vm->pos[i]].clip);
            ngx_http_feed_lua_cached(L, vm, vm->creators, clip->creator,
                                     feed_clip_creator(cat, clip));
            lua_rawseti(L, -2, (int) i + 1);
        }

    } else if (len == 5 && ngx_strncmp(key, "sound", 5) == 0) {
        for (i = 0; i < vm->n; i++) {
            clip = feed_catalog_clip(cat, vm->cands[vm->pos[i]].clip);
            ngx_http_feed_lua_cached(L, vm, vm->sounds, clip->sound,
                                     feed_clip_sound(cat, clip));
            lua_rawseti(L, -2, (int) i + 1);
        }

    } else if (len == 4 && ngx_strncmp(key, "tags", 4) == 0) {

        /*
         * The clips' tag lists are spread over the catalog: one cache
         * miss each.  Loaded first in a tight loop, the misses overlap;
         * interleaved with the Lua calls they would not.
         */

        for (i = 0; i < vm->n; i++) {
            vm->ntags[i] = feed_clip_ntags(cat, feed_catalog_clip(cat,
                                               vm->cands[vm->pos[i]].clip));
        }

        /*
         * The catalog interns tag lists: clips with the same tags share
         * one list, and here one (read-only) table, cached by the list.
         */

        lua_rawgeti(L, LUA_REGISTRYINDEX, vm->tagsets);

        for (i = 0; i < vm->n; i++) {
            clip = feed_catalog_clip(cat, vm->cands[vm->pos[i]].clip);

            lua_rawgeti(L, -1, (int) clip->tags + 1);

            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                ngx_http_feed_lua_clip_tags(L, vm,
                                            vm->cands[vm->pos[i]].clip,
                                            vm->ntags[i]);
                lua_pushvalue(L, -1);
                lua_rawseti(L, -3, (int) clip->tags + 1);
                vm->cached++;
            }

            lua_rawseti(L, -3, (int) i + 1);
        }

        lua_pop(L, 1);

    } else if (len == 3 && ngx_strncmp(key, "age", 3) == 0) {
        for (i = 0; i < vm->n; i++) {
            clip = feed_catalog_clip(cat, vm->cands[vm->pos[i]].clip);
            lua_pushnumber(L, clip->created < now
                              ? (lua_Number) (now - clip->created) : 0);
            lua_rawseti(L, -2, (int) i + 1);
        }

    } else if (len == 8 && ngx_strncmp(key, "duration", 8) == 0) {
        for (i = 0; i < vm->n; i++) {
            clip = feed_catalog_clip(cat, vm->cands[vm->pos[i]].clip);
            lua_pushnumber(L, (lua_Number) clip->duration_ms / 1000);
            lua_rawseti(L, -2, (int) i + 1);
        }

    } else if (len == 6 && ngx_strncmp(key, "reason", 6) == 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, vm->reasons);

        for (i = 0; i < vm->n; i++) {
            lua_rawgeti(L, -1, vm->cands[vm->pos[i]].reason % FEED_REASONS
                               + 1);
            lua_rawseti(L, -3, (int) i + 1);
        }

        lua_pop(L, 1);

    } else if (len == 6 && ngx_strncmp(key, "tagged", 6) == 0) {
        lua_pop(L, 1);
        lua_pushlightuserdata(L, vm);
        lua_pushinteger(L, vm->serial);
        lua_pushcclosure(L, ngx_http_feed_lua_tagged, 2);

    } else if (len == 5 && ngx_strncmp(key, "parts", 5) == 0) {
        lua_pop(L, 1);
        lua_createtable(L, 0, FEED_PARTS);

        for (k = 0; k < FEED_PARTS; k++) {
            lua_createtable(L, (int) vm->n, 0);

            for (i = 0; i < vm->n; i++) {
                lua_pushnumber(L, vm->cands[vm->pos[i]].parts[k]);
                lua_rawseti(L, -2, (int) i + 1);
            }

            lua_setfield(L, -2, feed_part_name(k));
        }

    } else {
        return 0;
    }

    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);

    return 1;
}


static int
ngx_http_feed_lua_ctx_index(lua_State *L)
{
    size_t                   len;
    uint32_t                 i;
    const char              *key;
    ngx_http_feed_lua_vm_t  *vm;

    vm = lua_touserdata(L, lua_upvalueindex(1));

    if (lua_type(L, 2) != LUA_TSTRING) {
        return 0;
    }

    lua_pushlightuserdata(L, &ngx_http_feed_lua_serial_key);
    lua_rawget(L, 1);

    if (vm->call == NULL || lua_tointeger(L, -1) != vm->serial) {
        return luaL_error(L, "context read after its hook returned");
    }

    lua_pop(L, 1);

    key = lua_tolstring(L, 2, &len);

    if ((len == 9 && ngx_strncmp(key, "interests", 9) == 0)
        || (len == 10 && ngx_strncmp(key, "liked_tags", 10) == 0))
    {
        ngx_http_feed_lua_interests(L, vm);
        lua_rawget(L, 1);
        return 1;
    }

    if (len == 5 && ngx_strncmp(key, "liked", 5) == 0) {
        lua_createtable(L, (int) vm->call->viewer->nliked, 0);

        for (i = 0; i < vm->call->viewer->nliked; i++) {
            ngx_http_feed_lua_cached(L, vm, vm->ids,
                         vm->call->viewer->liked[i],
                         feed_clip_id(vm->cat,
                             feed_catalog_clip(vm->cat,
                                               vm->call->viewer->liked[i])));
            lua_rawseti(L, -2, (int) i + 1);
        }

    } else if (len == 4 && ngx_strncmp(key, "args", 4) == 0) {
        ngx_http_feed_lua_args(L, vm->call->r);

    } else if (len == 7 && ngx_strncmp(key, "headers", 7) == 0) {
        ngx_http_feed_lua_headers(L, vm->call->r);

    } else {
        return 0;
    }

    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);

    return 1;
}


static int
ngx_http_feed_lua_readonly(lua_State *L)
{
    return luaL_error(L, "the request context is read-only");
}


/* a catalog string from a cache table by index, interned once */

static void
ngx_http_feed_lua_cached(lua_State *L, ngx_http_feed_lua_vm_t *vm, int ref,
    uint32_t key, const char *s)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_rawgeti(L, -1, (int) key + 1);

    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushstring(L, s);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, (int) key + 1);
        vm->cached++;
    }

    lua_remove(L, -2);
}


/*
 * A clip's tags, a new array each time; the strings come from a cache
 * keyed by their address in the catalog (a small vocabulary), which is
 * emptied whenever the catalog grows, since its pools may then move.
 */

static void
ngx_http_feed_lua_clip_tags(lua_State *L, ngx_http_feed_lua_vm_t *vm,
    uint32_t clip, uint32_t n)
{
    uint32_t            i;
    const char         *t;
    const feed_clip_t  *c;

    c = feed_catalog_clip(vm->cat, clip);

    lua_createtable(L, (int) n, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->tags);

    for (i = 0; i < n; i++) {
        t = feed_clip_tag(vm->cat, c, i);

        lua_pushlightuserdata(L, (void *) t);
        lua_rawget(L, -2);

        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushstring(L, t);
            lua_pushlightuserdata(L, (void *) t);
            lua_pushvalue(L, -2);
            lua_rawset(L, -4);
            vm->cached++;
        }

        lua_rawseti(L, -3, (int) i + 1);
    }

    lua_pop(L, 1);
}


/*
 * The viewer's top interests: the tags of the clips they liked last (up
 * to FEED_LIKED_MAX), most frequent first; ctx.liked_tags counts them.
 */

static void
ngx_http_feed_lua_interests(lua_State *L, ngx_http_feed_lua_vm_t *vm)
{
    uint32_t                   i, j, k, t, ntags, count[256], tmp_c;
    const char                *tag[256], *tmp_t;
    const feed_clip_t         *c;
    const feed_rank_viewer_t  *v;

    v = vm->call->viewer;
    ntags = 0;

    for (i = 0; i < v->nliked; i++) {
        c = feed_catalog_clip(vm->cat, v->liked[i]);
        k = feed_clip_ntags(vm->cat, c);

        for (t = 0; t < k; t++) {
            tmp_t = feed_clip_tag(vm->cat, c, t);

            for (j = 0; j < ntags; j++) {
                if (ngx_strcmp(tag[j], tmp_t) == 0) {
                    break;
                }
            }

            if (j < ntags) {
                count[j]++;

            } else if (ntags < 256) {
                tag[ntags] = tmp_t;
                count[ntags++] = 1;
            }
        }
    }

    /* stable: among equals, the tags of the latest likes first */

    for (i = 1; i < ntags; i++) {
        tmp_t = tag[i];
        tmp_c = count[i];

        for (j = i; j > 0 && count[j - 1] < tmp_c; j--) {
            tag[j] = tag[j - 1];
            count[j] = count[j - 1];
        }

        tag[j] = tmp_t;
        count[j] = tmp_c;
    }

    lua_createtable(L, 0, (int) ntags);

    for (i = 0; i < ntags; i++) {
        lua_pushnumber(L, count[i]);
        lua_setfield(L, -2, tag[i]);
    }

    lua_pushliteral(L, "liked_tags");
    lua_insert(L, -2);
    lua_rawset(L, 1);

    k = ngx_min(ntags, NGX_HTTP_FEED_LUA_INTERESTS);
    lua_createtable(L, (int) k, 0);

    for (i = 0; i < k; i++) {
        lua_pushstring(L, tag[i]);
        lua_rawseti(L, -2, (int) i + 1);
    }

    lua_pushliteral(L, "interests");
    lua_insert(L, -2);
    lua_rawset(L, 1);

    lua_pushvalue(L, 2);
}


/* the query's arguments, decoded; the first of a name wins */

static void
ngx_http_feed_lua_args(lua_State *L, ngx_http_request_t *r)
{
    u_char  *p, *end, *amp, *eq, *dst, *src, buf[1024];
    size_t   nlen, vlen;

    lua_createtable(L, 0, 4);

    p = r->args.data;
    end = p + r->args.len;

    while (p < end) {
        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        eq = ngx_strlchr(p, amp, '=');

        nlen = (eq ? eq : amp) - p;

        if (nlen && nlen < sizeof(buf)) {
            dst = buf;
            src = p;
            ngx_unescape_uri(&dst, &src, nlen, 0);
            lua_pushlstring(L, (char *) buf, dst - buf);
            lua_pushvalue(L, -1);
            lua_rawget(L, -3);

            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);

                vlen = eq ? (size_t) (amp - eq - 1) : 0;

                if (vlen < sizeof(buf)) {
                    dst = buf;
                    src = eq ? eq + 1 : amp;
                    ngx_unescape_uri(&dst, &src, vlen, 0);
                    lua_pushlstring(L, (char *) buf, dst - buf);
                    lua_rawset(L, -3);

                } else {
                    lua_pop(L, 1);
                }

            } else {
                lua_pop(L, 2);
            }
        }

        p = amp + 1;
    }
}


/* the request's headers by lowercase name; the first of a name wins */

static void
ngx_http_feed_lua_headers(lua_State *L, ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    lua_createtable(L, 0, 8);

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].lowcase_key == NULL) {
            continue;
        }

        lua_pushlstring(L, (char *) h[i].lowcase_key, h[i].key.len);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);

        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushlstring(L, (char *) h[i].value.data, h[i].value.len);
            lua_rawset(L, -3);

        } else {
            lua_pop(L, 2);
        }
    }
}


/* the hooks' part of feed_status */

u_char *
ngx_http_feed_status_lua(ngx_http_request_t *r, u_char *p, u_char *last)
{
    ngx_uint_t                i;
    ngx_http_feed_metrics_t   sum, *m;

    static const char  *reasons[] = {
        "error", "timeout", "memory", "result", "unavailable"
    };

    m = ngx_http_feed_metrics_total(r, &sum);

    if (m == NULL) {
        return p;
    }

    p = ngx_slprintf(p, last,
            "# HELP feed_lua_calls_total Calls of Lua ranking hooks.\n"
            "# TYPE feed_lua_calls_total counter\n"
            "feed_lua_calls_total %uA\n"
            "# HELP feed_lua_failures_total Hook calls served with the C "
            "ranking, by reason.\n"
            "# TYPE feed_lua_failures_total counter\n",
            m->lua_calls);

    for (i = 0; i < NGX_HTTP_FEED_LUA_FAIL_N; i++) {
        p = ngx_slprintf(p, last,
                         "feed_lua_failures_total{reason=\"%s\"} %uA\n",
                         reasons[i], m->lua_failures[i]);
    }

    p = ngx_slprintf(p, last,
            "# HELP feed_lua_rejected_total Values of hook results "
            "ignored: non-finite scores, unknown clip ids.\n"
            "# TYPE feed_lua_rejected_total counter\n"
            "feed_lua_rejected_total{reason=\"nonfinite\"} %uA\n"
            "feed_lua_rejected_total{reason=\"unknown_id\"} %uA\n"
            "# HELP feed_lua_dropped_total Candidates dropped by hooks.\n"
            "# TYPE feed_lua_dropped_total counter\n"
            "feed_lua_dropped_total %uA\n"
            "# HELP feed_lua_restarts_total Lua VMs made anew after "
            "exhausting their memory.\n"
            "# TYPE feed_lua_restarts_total counter\n"
            "feed_lua_restarts_total %uA\n",
            m->lua_nonfinite, m->lua_unknown_ids, m->lua_dropped,
            m->lua_restarts);

    return p;
}
