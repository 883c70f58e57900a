
/*
 * Copyright (C) ngx_feed_module developers
 */


/*
 * cache-sim: replays a request trace through the segment cache (the very
 * feed_cache code the module runs, in a malloc'd region), through LRU
 * and through Belady's furthest-next-use, all at the same byte capacity,
 * and prints the object and byte hit ratios.
 *
 *     cache-sim [options] [trace]
 *
 * A trace file has one request a line, "key size"; without one, a
 * short-video feed is generated: clips arrive all the time with a Zipf
 * intrinsic popularity, rise, then fade; a view asks for one of three
 * renditions and walks its segments from the first with drop-off.
 *
 *     -a ALPHA     Zipf exponent of the generator (0.9)
 *     -n N         requests generated (2000000)
 *     -c N         clips alive at any time (3000)
 *     -g N         generations of clips over the trace (churn, 4)
 *     -s SEED      generator seed (1)
 *     -p LIST      capacities in % of the working set ("1,3,10")
 *     -w N         sketch width per 512 KiB of capacity (4)
 *     -S N         aging sample per 512 KiB of capacity (6)
 *     -m PCT       second chance for objects up to PCT% of the ring (2)
 *     -b N         second-chance budget per reservation (4)
 *     -A           admit everything (no TinyLFU)
 *     -C           copy the data (default: reserve and commit only)
 *     -q           one line per capacity: "pct feed_ohr feed_bhr lru_ohr
 *                  lru_bhr opt_ohr opt_bhr" (for scripts)
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed_cache.h"


#define SIM_NONE      0xffffffffu
#define SIM_NEVER     ((uint64_t) -1)
#define SIM_RENDS     3
#define SIM_EPOCH     5000


typedef struct {
    uint32_t        *id;             /* per request */
    uint32_t        *next;           /* next request of the same id */
    uint64_t         n;
    uint32_t        *size;           /* per object */
    char           **key;            /* per object, NULL: generated */
    uint64_t         nobj;
    uint64_t         objcap;
    uint64_t         reqcap;
    uint64_t         wss;            /* bytes of all objects */
} sim_trace_t;


typedef struct {
    uint64_t         hits;
    uint64_t         bytes_hit;
    uint64_t         bytes;
} sim_result_t;


typedef struct {
    uint64_t         birth;
    uint64_t         life;
    double           w0;
    uint32_t         clip;
    uint32_t         nsegs;
    double           factor;
} sim_clip_t;


/* a string-keyed map to dense object ids, for trace files */

typedef struct {
    uint64_t        *hash;
    uint32_t        *id;
    uint64_t         mask;
} sim_map_t;


static uint64_t  sim_rng_state = 1;

static double    alpha = 0.9;
static uint64_t  nreq = 2000000;
static uint64_t  nclips = 3000;
static uint64_t  generations = 4;
static double    width_mult = 4;
static double    sample_mult = 6;
static uint32_t  move_pct = 2;
static uint32_t  move_budget = 4;
static int       admit_all;
static int       copy_data;
static int       quiet;


static uint64_t
sim_rng(void)
{
    uint64_t  z;

    z = (sim_rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


static double
sim_uniform(void)
{
    return (sim_rng() >> 11) * (1.0 / 9007199254740992.0);
}


static void *
sim_alloc(size_t size)
{
    void  *p;

    p = calloc(1, size);
    if (p == NULL) {
        fprintf(stderr, "cache-sim: out of memory\n");
        exit(2);
    }

    return p;
}


static void
sim_push(sim_trace_t *t, uint32_t id)
{
    if (t->n == t->reqcap) {
        t->reqcap = t->reqcap ? t->reqcap * 2 : 1 << 20;
        t->id = realloc(t->id, t->reqcap * sizeof(uint32_t));
        if (t->id == NULL) {
            fprintf(stderr, "cache-sim: out of memory\n");
            exit(2);
        }
    }

    t->id[t->n++] = id;
}


static uint32_t
sim_object(sim_trace_t *t, uint32_t size, char *key)
{
    if (t->nobj == t->objcap) {
        t->objcap = t->objcap ? t->objcap * 2 : 1 << 16;
        t->size = realloc(t->size, t->objcap * sizeof(uint32_t));
        t->key = realloc(t->key, t->objcap * sizeof(char *));
        if (t->size == NULL || t->key == NULL) {
            fprintf(stderr, "cache-sim: out of memory\n");
            exit(2);
        }
    }

    t->size[t->nobj] = size;
    t->key[t->nobj] = key;
    t->wss += size;

    return (uint32_t) t->nobj++;
}


static void
sim_new_clip(sim_clip_t *c, uint32_t clip, uint64_t now, uint64_t life)
{
    /* intrinsic popularity: Zipf over a rank drawn uniformly */

    c->clip = clip;
    c->birth = now;
    c->life = (uint64_t) (life * (0.5 + sim_uniform()));
    c->w0 = pow(1.0 + (double) (sim_rng() % nclips), -alpha);
    c->nsegs = 4 + sim_rng() % 12;
    c->factor = 0.6 + 0.8 * sim_uniform();
}


/* a clip rises over the first fifth of its life, then fades */

static double
sim_weight(sim_clip_t *c, uint64_t now)
{
    double  x;

    if (now < c->birth) {
        return 0;
    }

    x = (double) (now - c->birth) / (double) c->life;

    if (x >= 1) {
        return 0;
    }

    if (x < 0.2) {
        return c->w0 * (0.2 + 4 * x);
    }

    return c->w0 * exp(-4 * (x - 0.2));
}


static void
sim_generate(sim_trace_t *t)
{
    double       *cum, total, u, x;
    uint32_t     *ids, nclip, base, size;
    uint64_t      i, lo, hi, mid, life, next_epoch, slot, rend, seg;
    sim_clip_t   *clips, *c;
    static const double    rend_p[SIM_RENDS] = { 0.25, 0.75, 1.0 };
    static const uint32_t  rend_size[SIM_RENDS] = {
        192 * 1024, 512 * 1024, 1200 * 1024
    };

    clips = sim_alloc(nclips * sizeof(sim_clip_t));
    cum = sim_alloc(nclips * sizeof(double));

    /* ids of (clip, rendition, segment), allocated on first request */

    ids = sim_alloc((nclips * (generations + 4) + 16) * SIM_RENDS * 16
                    * sizeof(uint32_t));
    memset(ids, 0xff, (nclips * (generations + 4) + 16) * SIM_RENDS * 16
                      * sizeof(uint32_t));

    life = nreq / generations;
    nclip = 0;

    for (i = 0; i < nclips; i++) {
        sim_new_clip(&clips[i], nclip++, 0, life);

        /* the first ones start at every age */

        clips[i].birth = 0;
        x = sim_uniform() * clips[i].life;
        clips[i].life -= (uint64_t) (x * 0.8);
    }

    next_epoch = 0;
    total = 0;

    while (t->n < nreq) {

        if (t->n >= next_epoch) {
            next_epoch = t->n + SIM_EPOCH;
            total = 0;

            for (i = 0; i < nclips; i++) {
                c = &clips[i];

                if (t->n >= c->birth + c->life
                    && nclip < nclips * (generations + 4))
                {
                    sim_new_clip(c, nclip++, t->n, life);
                }

                total += sim_weight(c, t->n);
                cum[i] = total;
            }
        }

        u = sim_uniform() * total;
        lo = 0;
        hi = nclips - 1;

        while (lo < hi) {
            mid = (lo + hi) / 2;

            if (cum[mid] < u) {
                lo = mid + 1;

            } else {
                hi = mid;
            }
        }

        c = &clips[lo];

        u = sim_uniform();
        for (rend = 0; rend < SIM_RENDS - 1 && u > rend_p[rend]; rend++) {
            /* void */
        }

        /* a view: the first segment, then each next one with p = 0.7 */

        for (seg = 0; seg < c->nsegs && t->n < nreq; seg++) {
            slot = ((uint64_t) c->clip * SIM_RENDS + rend) * 16 + seg;

            if (ids[slot] == SIM_NONE) {
                base = rend_size[rend];
                x = base * c->factor * (0.8 + 0.4 * sim_uniform());

                if (seg == 0) {
                    x /= 2;          /* the short first segment */
                }

                size = x < 65536 ? 65536
                       : x > 2097152 ? 2097152 : (uint32_t) x;

                ids[slot] = sim_object(t, size, NULL);
            }

            sim_push(t, ids[slot]);

            if (sim_uniform() > 0.7) {
                break;
            }
        }
    }

    free(ids);
    free(cum);
    free(clips);
}


static uint32_t
sim_map(sim_trace_t *t, sim_map_t *m, char *key, uint32_t size)
{
    uint64_t   h, i, j, cap;
    uint32_t   id;
    sim_map_t  nm;

    if ((t->nobj + 1) * 2 > m->mask + 1) {
        cap = m->mask ? (m->mask + 1) * 2 : 1 << 16;
        nm.hash = sim_alloc(cap * sizeof(uint64_t));
        nm.id = sim_alloc(cap * sizeof(uint32_t));
        nm.mask = cap - 1;
        memset(nm.id, 0xff, cap * sizeof(uint32_t));

        for (i = 0; m->mask && i <= m->mask; i++) {
            if (m->id[i] == SIM_NONE) {
                continue;
            }

            for (j = m->hash[i] & nm.mask; nm.id[j] != SIM_NONE;
                 j = (j + 1) & nm.mask)
            {
                /* void */
            }

            nm.hash[j] = m->hash[i];
            nm.id[j] = m->id[i];
        }

        free(m->hash);
        free(m->id);
        *m = nm;
    }

    h = feed_cache_hash(key, strlen(key));

    for (i = h & m->mask; m->id[i] != SIM_NONE; i = (i + 1) & m->mask) {
        if (m->hash[i] == h && strcmp(t->key[m->id[i]], key) == 0) {
            return m->id[i];
        }
    }

    key = strdup(key);
    if (key == NULL) {
        fprintf(stderr, "cache-sim: out of memory\n");
        exit(2);
    }

    id = sim_object(t, size, key);
    m->hash[i] = h;
    m->id[i] = id;

    return id;
}


static int
sim_read(sim_trace_t *t, const char *path)
{
    FILE          *f;
    char           line[2048], *p, *end;
    uint64_t       lineno;
    unsigned long  size;
    sim_map_t      m;

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cache-sim: %s: %s\n", path, strerror(errno));
        return -1;
    }

    memset(&m, 0, sizeof(sim_map_t));
    lineno = 0;

    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;

        p = strchr(line, ' ');
        if (p == NULL || p == line) {
            fprintf(stderr, "cache-sim: %s:%llu: expected \"key size\"\n",
                    path, (unsigned long long) lineno);
            fclose(f);
            return -1;
        }

        *p++ = '\0';
        errno = 0;
        size = strtoul(p, &end, 10);

        if (errno || end == p || size == 0 || size > 0xffffffffUL) {
            fprintf(stderr, "cache-sim: %s:%llu: bad size\n",
                    path, (unsigned long long) lineno);
            fclose(f);
            return -1;
        }

        sim_push(t, sim_map(t, &m, line, (uint32_t) size));
    }

    fclose(f);
    free(m.hash);
    free(m.id);

    return 0;
}


static void
sim_next(sim_trace_t *t)
{
    uint32_t  *last;
    uint64_t   i;

    t->next = sim_alloc(t->n * sizeof(uint32_t));
    last = sim_alloc(t->nobj * sizeof(uint32_t));
    memset(last, 0xff, t->nobj * sizeof(uint32_t));

    for (i = t->n; i-- > 0; ) {
        t->next[i] = last[t->id[i]];
        last[t->id[i]] = (uint32_t) i;
    }

    free(last);
}


static size_t
sim_key(sim_trace_t *t, uint32_t id, char *buf)
{
    if (t->key[id] != NULL) {
        return strlen(strcpy(buf, t->key[id]));
    }

    return (size_t) sprintf(buf, "/v/%07u/seg.m4s", id);
}


static void
sim_feed(sim_trace_t *t, uint64_t capacity, sim_result_t *res)
{
    int                  rc;
    char                 key[2048];
    size_t               len, size, meta;
    uint64_t             i;
    unsigned char       *region;
    feed_cache_ref_t     ref;
    feed_cache_params_t  p;

    feed_cache_default_params(&p);
    p.objects = capacity / 65536 + 64;
    p.sketch_width = (uint64_t) (capacity / 524288 * width_mult);
    p.sample = (uint64_t) (capacity / 524288 * sample_mult);
    p.pin_timeout = SIM_NEVER / 2;
    p.move_max_pct = move_pct;
    p.move_budget = move_budget;
    p.admit_all = admit_all;

    meta = feed_cache_meta_size(capacity + (64 << 20), &p);
    size = meta + capacity + 64;

    region = malloc(size);
    if (region == NULL
        || feed_cache_init(region, size, 2 * 1024 * 1024, &p) != FEED_OK)
    {
        fprintf(stderr, "cache-sim: cannot make a %zu-byte cache\n", size);
        exit(2);
    }

    memset(res, 0, sizeof(sim_result_t));

    for (i = 0; i < t->n; i++) {
        len = sim_key(t, t->id[i], key);
        res->bytes += t->size[t->id[i]];

        rc = feed_cache_lookup_locked(region, key, len, i, 0, &ref);

        if (rc == FEED_CACHE_HIT) {
            res->hits++;
            res->bytes_hit += ref.len;
            feed_cache_release_locked(region, &ref);
            continue;
        }

        rc = feed_cache_admit_locked(region, key, len, t->size[t->id[i]], 0,
                                     i, 0, &ref);

        if (rc == FEED_CACHE_ADMIT) {
            if (copy_data) {
                memset(feed_cache_data(region, &ref), (int) i, ref.len);
            }

            feed_cache_commit_locked(region, &ref);
        }
    }

    if (!quiet) {
        feed_cache_stats_t  st;

        feed_cache_stats_locked(region, &st);
        fprintf(stderr, "  feed: admissions %llu rejects %llu evictions %llu "
                "moves %llu objects %llu\n",
                (unsigned long long) st.admissions,
                (unsigned long long) st.rejects,
                (unsigned long long) st.evictions,
                (unsigned long long) st.moves,
                (unsigned long long) st.objects);
    }

    free(region);
}


static void
sim_lru(sim_trace_t *t, uint64_t capacity, sim_result_t *res)
{
    uint8_t   *in;
    uint32_t  *prev, *next, id, head, tail, v;
    uint64_t   i, used;

    /* a doubly linked list over the ids: head is the most recent */

    in = sim_alloc(t->nobj);
    prev = sim_alloc(t->nobj * sizeof(uint32_t));
    next = sim_alloc(t->nobj * sizeof(uint32_t));
    head = SIM_NONE;
    tail = SIM_NONE;
    used = 0;

    memset(res, 0, sizeof(sim_result_t));

    for (i = 0; i < t->n; i++) {
        id = t->id[i];
        res->bytes += t->size[id];

        if (in[id]) {
            res->hits++;
            res->bytes_hit += t->size[id];

            if (head == id) {
                continue;
            }

            /* unlink */

            next[prev[id]] = next[id];

            if (next[id] != SIM_NONE) {
                prev[next[id]] = prev[id];

            } else {
                tail = prev[id];
            }

        } else {
            if (t->size[id] > capacity) {
                continue;
            }

            in[id] = 1;
            used += t->size[id];

            while (used > capacity) {
                v = tail;
                tail = prev[v];
                in[v] = 0;

                if (tail == SIM_NONE) {
                    head = SIM_NONE;

                } else {
                    next[tail] = SIM_NONE;
                }

                used -= t->size[v];
            }

            if (tail == SIM_NONE) {
                tail = id;
            }
        }

        prev[id] = SIM_NONE;
        next[id] = head;

        if (head != SIM_NONE) {
            prev[head] = id;
        }

        head = id;

        if (tail == SIM_NONE) {
            tail = id;
        }
    }

    free(in);
    free(prev);
    free(next);
}


/* Belady: on a miss, admit, then evict the furthest next uses */

typedef struct {
    uint32_t   next;
    uint32_t   id;
} sim_heap_t;


static void
sim_opt(sim_trace_t *t, uint64_t capacity, sim_result_t *res)
{
    uint8_t     *in;
    uint32_t    *cur, id, nx;
    uint64_t     i, used, n, k, c;
    sim_heap_t  *heap, e;

    in = sim_alloc(t->nobj);
    cur = sim_alloc(t->nobj * sizeof(uint32_t));
    heap = sim_alloc((t->n + 1) * sizeof(sim_heap_t));
    n = 0;
    used = 0;

    memset(res, 0, sizeof(sim_result_t));

    for (i = 0; i < t->n; i++) {
        id = t->id[i];
        nx = t->next[i];
        res->bytes += t->size[id];

        if (in[id]) {
            res->hits++;
            res->bytes_hit += t->size[id];

        } else {
            if (nx == SIM_NONE || t->size[id] > capacity) {
                continue;
            }

            in[id] = 1;
            used += t->size[id];
        }

        cur[id] = nx;

        if (nx == SIM_NONE) {

            /* never asked again: drop it now */

            in[id] = 0;
            used -= t->size[id];
            continue;
        }

        /* push (nx, id) onto the max-heap */

        k = n++;

        while (k > 0 && heap[(k - 1) / 2].next < nx) {
            heap[k] = heap[(k - 1) / 2];
            k = (k - 1) / 2;
        }

        heap[k].next = nx;
        heap[k].id = id;

        while (used > capacity && n > 0) {
            e = heap[0];
            n--;

            /* sift the last entry down from the root */

            k = 0;

            for ( ;; ) {
                c = 2 * k + 1;

                if (c >= n) {
                    break;
                }

                if (c + 1 < n && heap[c + 1].next > heap[c].next) {
                    c++;
                }

                if (heap[c].next <= heap[n].next) {
                    break;
                }

                heap[k] = heap[c];
                k = c;
            }

            heap[k] = heap[n];

            if (in[e.id] && cur[e.id] == e.next) {
                in[e.id] = 0;
                used -= t->size[e.id];
            }
        }
    }

    free(in);
    free(cur);
    free(heap);
}


static double
sim_ratio(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double) a / (double) b : 0;
}


int
main(int argc, char **argv)
{
    int            ch;
    char          *pcts, *p, *end;
    double         pct;
    uint64_t       capacity;
    sim_trace_t    t;
    sim_result_t   feed, lru, opt;

    pcts = "1,3,10";

    while ((ch = getopt(argc, argv, "a:n:c:g:s:p:w:S:m:b:ACq")) != -1) {
        switch (ch) {
        case 'a': alpha = atof(optarg); break;
        case 'n': nreq = strtoull(optarg, NULL, 10); break;
        case 'c': nclips = strtoull(optarg, NULL, 10); break;
        case 'g': generations = strtoull(optarg, NULL, 10); break;
        case 's': sim_rng_state = strtoull(optarg, NULL, 10); break;
        case 'p': pcts = optarg; break;
        case 'w': width_mult = atof(optarg); break;
        case 'S': sample_mult = atof(optarg); break;
        case 'm': move_pct = (uint32_t) atoi(optarg); break;
        case 'b': move_budget = (uint32_t) atoi(optarg); break;
        case 'A': admit_all = 1; break;
        case 'C': copy_data = 1; break;
        case 'q': quiet = 1; break;
        default:
            fprintf(stderr, "usage: cache-sim [-a alpha] [-n requests] "
                    "[-c clips] [-g generations] [-s seed] [-p pcts] "
                    "[-w n] [-S n] [-m pct] [-b n] [-A] [-C] [-q] "
                    "[trace]\n");
            return 2;
        }
    }

    if (nclips == 0 || generations == 0 || nreq == 0) {
        fprintf(stderr, "cache-sim: -c, -g and -n must be positive\n");
        return 2;
    }

    memset(&t, 0, sizeof(sim_trace_t));

    if (optind < argc) {
        if (sim_read(&t, argv[optind]) != 0) {
            return 1;
        }

    } else {
        sim_generate(&t);
    }

    if (t.n == 0 || t.n >= SIM_NONE) {
        fprintf(stderr, "cache-sim: %llu requests: nothing to do\n",
                (unsigned long long) t.n);
        return 1;
    }

    sim_next(&t);

    if (!quiet) {
        printf("requests %llu, objects %llu, working set %.1f MiB\n\n",
               (unsigned long long) t.n, (unsigned long long) t.nobj,
               (double) t.wss / 1048576);
        printf("| capacity | feed OHR | LRU OHR | OPT OHR "
               "| feed BHR | LRU BHR | OPT BHR |\n");
        printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    }

    for (p = pcts; *p; p = (*end == ',') ? end + 1 : end) {
        pct = strtod(p, &end);

        if (end == p || pct <= 0 || pct > 100) {
            fprintf(stderr, "cache-sim: bad capacity list \"%s\"\n", pcts);
            return 2;
        }

        capacity = (uint64_t) (t.wss * pct / 100) & ~(uint64_t) 63;

        if (capacity < 8 * 2097152) {
            capacity = 8 * 2097152;
        }

        sim_feed(&t, capacity, &feed);
        sim_lru(&t, capacity, &lru);
        sim_opt(&t, capacity, &opt);

        if (quiet) {
            printf("%g %.2f %.2f %.2f %.2f %.2f %.2f\n", pct,
                   sim_ratio(feed.hits, t.n),
                   sim_ratio(feed.bytes_hit, feed.bytes),
                   sim_ratio(lru.hits, t.n),
                   sim_ratio(lru.bytes_hit, lru.bytes),
                   sim_ratio(opt.hits, t.n),
                   sim_ratio(opt.bytes_hit, opt.bytes));

        } else {
            printf("| %g%% | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
                   pct,
                   sim_ratio(feed.hits, t.n), sim_ratio(lru.hits, t.n),
                   sim_ratio(opt.hits, t.n),
                   sim_ratio(feed.bytes_hit, feed.bytes),
                   sim_ratio(lru.bytes_hit, lru.bytes),
                   sim_ratio(opt.bytes_hit, opt.bytes));
        }

        fflush(stdout);
    }

    return 0;
}
