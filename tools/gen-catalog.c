/*
 * Copyright (C) ngx_feed_module developers
 */


/*
 * gen-catalog: writes a synthetic clip catalog (JSON Lines, one clip a
 * line, valid per the catalog schema) to stdout.
 *
 *     gen-catalog N [--seed S]
 *
 * The output depends only on N and S.  Clips have:
 *   - unique 9-character ids (a keyed permutation of the line number);
 *   - one of 50,000 creators and 5,000 sounds, both Zipf-distributed;
 *   - 2..4 tags from a vocabulary of 200 in 20 topic groups, and an
 *     8-dimensional unit embedding built from the tags' directions, so
 *     that clips sharing tags or topics are similar;
 *   - a 30..60 character caption;
 *   - 5..180 s of 30 fps media cut as 1 s + 2 s + 2 s ... segments, the
 *     same list in three renditions (360p, 540p, 720p);
 *   - about 5% are remixes of an earlier clip: stitches (parent_segments
 *     1..2, every clip has at least 3 segments) or duets.
 */


#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define GC_MAX_CLIPS       100000000
#define GC_CREATORS        50000
#define GC_SOUNDS          5000
#define GC_GROUPS          20
#define GC_GROUP_TAGS      10
#define GC_TAGS            (GC_GROUPS * GC_GROUP_TAGS)
#define GC_MAX_CLIP_TAGS   4
#define GC_DIM             8
#define GC_FPS             30
#define GC_ID_LEN          9
#define GC_RING            65536          /* recent clips a remix can use */
#define GC_LINE_SIZE       8192
#define GC_CREATED_START   1735689600     /* 2025-01-01 */
#define GC_CREATED_SPAN    (365 * 86400)
#define GC_PI              3.14159265358979323846

#define GC_ORIGINAL        0
#define GC_DUET            1
#define GC_STITCH          2


typedef struct {
    uint64_t     state;
} gc_rng_t;


typedef struct {
    double      *cdf;
    size_t       n;
} gc_zipf_t;


typedef struct {
    char        *pos;
    char        *end;
    char         data[GC_LINE_SIZE];
} gc_buf_t;


typedef struct {
    const char  *name;
    unsigned     base_kbps;
    const char  *resolution;
    const char  *codecs;
} gc_rendition_t;


static uint64_t gc_rng_next(gc_rng_t *rng);
static double gc_rng_double(gc_rng_t *rng);
static uint64_t gc_rng_below(gc_rng_t *rng, uint64_t n);
static double gc_rng_gauss(gc_rng_t *rng);
static int gc_zipf_init(gc_zipf_t *z, size_t n, double s, double q);
static size_t gc_zipf_pick(gc_zipf_t *z, gc_rng_t *rng);
static void gc_clip_id(char *dst, uint64_t n, uint64_t key);
static void gc_put(gc_buf_t *b, const char *s, size_t len);
static void gc_put_str(gc_buf_t *b, const char *s);
static void gc_put_uint(gc_buf_t *b, uint64_t v);
static void gc_put_fixed(gc_buf_t *b, int64_t v, unsigned decimals);
static void gc_put_creator(gc_buf_t *b, size_t rank);
static void gc_put_sound(gc_buf_t *b, size_t rank);
static size_t gc_caption(char *dst, size_t size, gc_rng_t *rng,
    const unsigned *tags, unsigned ntags);
static int gc_parse_uint(const char *s, uint64_t max, uint64_t *v);
static void gc_usage(FILE *f);


static const char  *gc_tags[GC_TAGS] = {
    /* nature */
    "nature", "forest", "mountains", "hiking", "sunset",
    "flowers", "rain", "camping", "wildlife", "trees",
    /* animals */
    "animals", "dogs", "cats", "birds", "puppy",
    "kitten", "horses", "foxes", "owls", "pets",
    /* food */
    "food", "cooking", "baking", "recipe", "ramen",
    "tacos", "pizza", "coffee", "dessert", "streetfood",
    /* travel */
    "travel", "roadtrip", "beach", "island", "citybreak",
    "backpacking", "airport", "hotel", "vanlife", "wanderlust",
    /* music */
    "music", "guitar", "piano", "drums", "singing",
    "cover", "lofi", "synth", "concert", "producer",
    /* dance */
    "dance", "choreo", "hiphop", "ballet", "salsa",
    "kpop", "breakdance", "tapdance", "dancechallenge", "swing",
    /* sports */
    "sports", "football", "basketball", "tennis", "skate",
    "surfing", "climbing", "running", "cycling", "boxing",
    /* fitness */
    "fitness", "gym", "yoga", "workout", "hiit",
    "stretching", "pilates", "calisthenics", "mealprep", "wellness",
    /* tech */
    "tech", "gadgets", "coding", "ai", "robots",
    "smartphone", "pcbuild", "keyboard", "desksetup", "unboxing",
    /* gaming */
    "gaming", "speedrun", "retrogaming", "esports", "indiegame",
    "boardgames", "pixelart", "rpg", "cosplay", "arcade",
    /* art */
    "art", "painting", "drawing", "sketch", "pottery",
    "calligraphy", "sculpture", "mural", "watercolor", "digitalart",
    /* diy */
    "diy", "woodworking", "crafts", "sewing", "knitting",
    "homedecor", "repair", "upcycling", "gardening", "tools",
    /* comedy */
    "comedy", "funny", "prank", "skit", "parody",
    "memes", "standup", "fail", "relatable", "pov",
    /* science */
    "science", "physics", "chemistry", "biology", "space",
    "astronomy", "experiment", "math", "engineering", "facts",
    /* fashion */
    "fashion", "outfit", "ootd", "streetwear", "vintage",
    "thrift", "makeup", "skincare", "hair", "nails",
    /* city */
    "city", "architecture", "nightlife", "subway", "skyline",
    "streets", "cafe", "market", "urban", "rooftop",
    /* water */
    "ocean", "diving", "snorkeling", "sailing", "fishing",
    "whales", "coral", "waves", "boats", "lake",
    /* family */
    "family", "kids", "parenting", "baby", "wedding",
    "grandma", "siblings", "holiday", "birthday", "friends",
    /* learning */
    "learning", "language", "history", "books", "study",
    "tips", "howto", "lifehacks", "finance", "career",
    /* vehicles */
    "cars", "motorcycles", "trains", "planes", "bikes",
    "drift", "restoration", "garage", "electric", "offroad"
};


static const char  *gc_first[64] = {
    "ana", "bruno", "chen", "dara", "elif", "femi", "gus", "hana",
    "ivo", "jules", "kai", "lena", "mika", "nora", "omar", "pia",
    "quinn", "rosa", "sami", "tara", "uma", "vik", "wen", "xavi",
    "yara", "zoe", "alex", "bea", "cleo", "dani", "eli", "fay",
    "gio", "hugo", "iris", "jon", "kira", "leo", "maya", "nico",
    "otto", "paz", "rafa", "sol", "tom", "ugo", "vera", "will",
    "yuki", "zain", "aria", "ben", "cora", "dev", "emma", "finn",
    "greta", "hiro", "ines", "jade", "koa", "luca", "mina", "noah"
};


static const char  *gc_second[64] = {
    "rojo", "sky", "bakes", "moves", "draws", "films", "plays", "cooks",
    "lee", "kim", "silva", "novak", "berg", "moon", "fox", "wolf",
    "river", "stone", "north", "west", "vibes", "daily", "irl", "tv",
    "studio", "lab", "crew", "hq", "world", "life", "club", "zone",
    "jr", "official", "real", "the1", "xo", "ok", "now", "go",
    "art", "fit", "eats", "tech", "travels", "sings", "dances", "builds",
    "kitchen", "garage", "garden", "beats", "clips", "shorts", "cam",
    "pixel", "wave", "loop", "spark", "dash", "nest", "orbit", "bloom",
    "trail"
};


static const char  *gc_genres[20] = {
    "lofi", "synthwave", "house", "phonk", "jazz", "piano", "acoustic",
    "trap", "funk", "disco", "ambient", "drill", "kpop", "afrobeat",
    "reggaeton", "indie", "classical", "chiptune", "orig", "remix"
};


static const char  *gc_openers[] = {
    "POV:", "Day 12 of", "Wait for it:", "Quick", "Trying", "My first",
    "Nobody talks about", "How to make", "Late night", "Weekend",
    "Tiny", "The best", "Rating", "Behind the scenes:", "Part 2:",
    "Learning", "Testing", "Finally,", "Honest review:", "Morning"
};


static const char  *gc_adjectives[] = {
    "cozy", "chaotic", "perfect", "tiny", "secret", "easy", "golden",
    "wild", "calm", "spicy", "neon", "rainy", "lazy", "epic", "simple",
    "weird"
};


static const char  *gc_endings[] = {
    "in 10 seconds", "at sunrise", "with friends", "on a budget",
    "you need to see", "gone wrong", "that actually works",
    "for beginners", "no talking", "at 3am", "again", "from scratch",
    "in one take", "in the rain", "this week", "ever"
};


static const char  *gc_emoji[] = {
    "\xe2\x9c\xa8",                     /* sparkles */
    "\xf0\x9f\x94\xa5",                 /* fire */
    "\xf0\x9f\x98\x82",                 /* tears of joy */
    "\xf0\x9f\x8c\x8a"                  /* wave */
};


static const gc_rendition_t  gc_renditions[] = {
    { "360p", 650, "360x640", "avc1.64001e,mp4a.40.2" },
    { "540p", 1300, "540x960", "avc1.64001f,mp4a.40.2" },
    { "720p", 2600, "720x1280", "avc1.64001f,mp4a.40.2" }
};


#define GC_NELTS(a)  (sizeof(a) / sizeof((a)[0]))


int
main(int argc, char **argv)
{
    int              i, k, j;
    char             id[GC_ID_LEN + 1], caption[256];
    double           v, norm, emb[GC_DIM], bw_factor;
    size_t           caption_len;
    uint64_t         n, seed, clip, key, created, parent, frames, rest, seg;
    unsigned         ntags, tags[GC_MAX_CLIP_TAGS], group, nsegs, remix;
    uint16_t        *ring;
    gc_rng_t         rng, trng;
    gc_buf_t         line, segs;
    gc_zipf_t        creators, sounds, tag_zipf;
    const char      *arg;
    static double    tag_vec[GC_TAGS][GC_DIM];

    n = 0;
    seed = 1;
    arg = NULL;

    for (i = 1; i < argc; i++) {

        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            gc_usage(stdout);
            return 0;
        }

        if (strcmp(argv[i], "--seed") == 0) {
            if (i + 1 == argc) {
                fprintf(stderr, "gen-catalog: --seed needs a value\n");
                return 2;
            }

            if (gc_parse_uint(argv[++i], UINT64_MAX, &seed) != 0) {
                fprintf(stderr, "gen-catalog: invalid seed \"%s\"\n",
                        argv[i]);
                return 2;
            }
            continue;
        }

        if (strncmp(argv[i], "--seed=", 7) == 0) {
            if (gc_parse_uint(argv[i] + 7, UINT64_MAX, &seed) != 0) {
                fprintf(stderr, "gen-catalog: invalid seed \"%s\"\n",
                        argv[i] + 7);
                return 2;
            }
            continue;
        }

        if (argv[i][0] == '-' || arg != NULL) {
            fprintf(stderr, "gen-catalog: unexpected argument \"%s\"\n",
                    argv[i]);
            gc_usage(stderr);
            return 2;
        }

        arg = argv[i];
    }

    if (arg == NULL) {
        gc_usage(stderr);
        return 2;
    }

    if (gc_parse_uint(arg, GC_MAX_CLIPS, &n) != 0) {
        fprintf(stderr, "gen-catalog: N must be an integer 0 .. %d, "
                "not \"%s\"\n", GC_MAX_CLIPS, arg);
        return 2;
    }

    if (gc_zipf_init(&creators, GC_CREATORS, 1.0, 20) != 0
        || gc_zipf_init(&sounds, GC_SOUNDS, 1.0, 5) != 0
        || gc_zipf_init(&tag_zipf, GC_TAGS, 0.8, 0) != 0)
    {
        fprintf(stderr, "gen-catalog: out of memory\n");
        return 1;
    }

    ring = calloc(GC_RING, sizeof(uint16_t));
    if (ring == NULL) {
        fprintf(stderr, "gen-catalog: out of memory\n");
        return 1;
    }

    /*
     * tag directions: a shared direction per topic group plus a
     * tag-specific part, from a fixed seed so that embeddings mean the
     * same across catalogs
     */

    trng.state = 0x7461677365656473ULL;

    for (k = 0; k < GC_GROUPS; k++) {
        double  g[GC_DIM];

        for (j = 0; j < GC_DIM; j++) {
            g[j] = gc_rng_gauss(&trng);
        }

        for (i = 0; i < GC_GROUP_TAGS; i++) {
            for (j = 0; j < GC_DIM; j++) {
                tag_vec[k * GC_GROUP_TAGS + i][j] =
                    g[j] + 0.6 * gc_rng_gauss(&trng);
            }
        }
    }

    rng.state = seed ^ 0x9e3779b97f4a7c15ULL;
    key = gc_rng_next(&rng);

    if (setvbuf(stdout, NULL, _IOFBF, 1 << 20) != 0) {
        fprintf(stderr, "gen-catalog: setvbuf() failed\n");
        return 1;
    }

    for (clip = 0; clip < n; clip++) {

        line.pos = line.data;
        line.end = line.data + sizeof(line.data);

        /* id, creator */

        gc_clip_id(id, clip, key);
        gc_put_str(&line, "{\"id\":\"");
        gc_put(&line, id, GC_ID_LEN);
        gc_put_str(&line, "\",\"creator\":\"");
        gc_put_creator(&line, gc_zipf_pick(&creators, &rng));

        /* remix of a recent clip? it usually keeps the parent's sound */

        remix = GC_ORIGINAL;
        parent = 0;

        if (clip > 0 && gc_rng_below(&rng, 100) < 5) {
            remix = gc_rng_below(&rng, 100) < 60 ? GC_STITCH : GC_DUET;
            parent = clip - 1 - gc_rng_below(&rng,
                                   clip < GC_RING ? clip : GC_RING);
        }

        if (remix != GC_ORIGINAL && gc_rng_below(&rng, 100) < 80) {
            ring[clip % GC_RING] = ring[parent % GC_RING];

        } else {
            ring[clip % GC_RING] = (uint16_t) gc_zipf_pick(&sounds, &rng);
        }

        gc_put_str(&line, "\",\"sound\":\"");
        gc_put_sound(&line, ring[clip % GC_RING]);

        /* created: spread over a year, in line order */

        created = GC_CREATED_START + clip * GC_CREATED_SPAN / n
                  + gc_rng_below(&rng, 600);
        gc_put_str(&line, "\",\"created\":");
        gc_put_uint(&line, created);

        /* media: 5..20 s mostly, some up to 60 s, a few up to 180 s */

        k = (int) gc_rng_below(&rng, 100);
        if (k < 70) {
            frames = 5 * GC_FPS + gc_rng_below(&rng, 15 * GC_FPS + 1);

        } else if (k < 95) {
            frames = 20 * GC_FPS + gc_rng_below(&rng, 40 * GC_FPS + 1);

        } else {
            frames = 60 * GC_FPS + gc_rng_below(&rng, 120 * GC_FPS + 1);
        }

        gc_put_str(&line, ",\"duration\":");
        gc_put_fixed(&line, (int64_t) ((frames * 1000 + GC_FPS / 2)
                                       / GC_FPS), 3);

        /* tags: a primary one, then mostly from the same topic group */

        ntags = 2 + (unsigned) gc_rng_below(&rng, 3);
        tags[0] = (unsigned) gc_zipf_pick(&tag_zipf, &rng);
        group = tags[0] / GC_GROUP_TAGS;

        for (i = 1; i < (int) ntags; /* void */ ) {
            unsigned  t;

            if (gc_rng_below(&rng, 100) < 70) {
                t = group * GC_GROUP_TAGS
                    + (unsigned) gc_rng_below(&rng, GC_GROUP_TAGS);

            } else {
                t = (unsigned) gc_zipf_pick(&tag_zipf, &rng);
            }

            for (j = 0; j < i; j++) {
                if (tags[j] == t) {
                    break;
                }
            }

            if (j == i) {
                tags[i++] = t;
            }
        }

        caption_len = gc_caption(caption, sizeof(caption), &rng, tags,
                                 ntags);

        gc_put_str(&line, ",\"caption\":\"");
        gc_put(&line, caption, caption_len);
        gc_put_str(&line, "\",\"tags\":[");

        for (i = 0; i < (int) ntags; i++) {
            gc_put_str(&line, i ? ",\"" : "\"");
            gc_put_str(&line, gc_tags[tags[i]]);
            gc_put_str(&line, "\"");
        }

        /* embedding: tag directions (the primary counts twice) + noise */

        for (j = 0; j < GC_DIM; j++) {
            emb[j] = tag_vec[tags[0]][j] + 0.35 * gc_rng_gauss(&rng);

            for (i = 0; i < (int) ntags; i++) {
                emb[j] += tag_vec[tags[i]][j];
            }
        }

        norm = 0;
        for (j = 0; j < GC_DIM; j++) {
            norm += emb[j] * emb[j];
        }

        norm = sqrt(norm);
        if (norm == 0) {
            norm = 1;
        }

        gc_put_str(&line, "],\"embedding\":[");

        for (j = 0; j < GC_DIM; j++) {
            if (j) {
                gc_put_str(&line, ",");
            }

            v = emb[j] / norm * 10000;
            gc_put_fixed(&line, (int64_t) (v < 0 ? v - 0.5 : v + 0.5), 4);
        }

        /* segments: 1 s, then 2 s, the rest last; same in all renditions */

        segs.pos = segs.data;
        segs.end = segs.data + sizeof(segs.data);
        nsegs = 0;

        for (rest = frames; rest > 0; rest -= seg) {
            seg = nsegs == 0 ? GC_FPS : 2 * GC_FPS;
            if (seg > rest) {
                seg = rest;
            }

            if (nsegs++) {
                gc_put_str(&segs, ",");
            }

            gc_put_fixed(&segs, (int64_t) ((seg * 1000000 + GC_FPS / 2)
                                           / GC_FPS), 6);
        }

        /* renditions: bit rates scaled by the clip's "complexity" */

        bw_factor = 0.75 + 0.6 * gc_rng_double(&rng);

        gc_put_str(&line, "],\"renditions\":[");

        for (i = 0; i < (int) GC_NELTS(gc_renditions); i++) {
            gc_put_str(&line, i ? ",{\"name\":\"" : "{\"name\":\"");
            gc_put_str(&line, gc_renditions[i].name);
            gc_put_str(&line, "\",\"bandwidth\":");
            gc_put_uint(&line, (uint64_t) (gc_renditions[i].base_kbps
                                           * 1000 * bw_factor));
            gc_put_str(&line, ",\"resolution\":\"");
            gc_put_str(&line, gc_renditions[i].resolution);
            gc_put_str(&line, "\",\"codecs\":\"");
            gc_put_str(&line, gc_renditions[i].codecs);
            gc_put_str(&line, "\",\"segments\":[");
            gc_put(&line, segs.data, (size_t) (segs.pos - segs.data));
            gc_put_str(&line, "]}");
        }

        gc_put_str(&line, "]");

        /* lineage */

        if (remix != GC_ORIGINAL) {
            gc_clip_id(id, parent, key);

            gc_put_str(&line, remix == GC_STITCH
                              ? ",\"lineage\":{\"kind\":\"stitch\""
                              : ",\"lineage\":{\"kind\":\"duet\"");
            gc_put_str(&line, ",\"parent\":\"");
            gc_put(&line, id, GC_ID_LEN);
            gc_put_str(&line, "\"");

            if (remix == GC_STITCH) {
                gc_put_str(&line, ",\"parent_segments\":");
                gc_put_uint(&line, 1 + gc_rng_below(&rng, 2));

            } else {
                if (gc_rng_below(&rng, 2)) {
                    gc_put_str(&line, ",\"offset\":");
                    gc_put_fixed(&line,
                                 (int64_t) gc_rng_below(&rng, 46), 1);
                }

                k = (int) gc_rng_below(&rng, 3);
                if (k < 2) {
                    gc_put_str(&line, k ? ",\"layout\":\"top\""
                                        : ",\"layout\":\"side\"");
                }
            }

            gc_put_str(&line, "}");
        }

        gc_put_str(&line, "}\n");

        if (fwrite(line.data, 1, (size_t) (line.pos - line.data), stdout)
            != (size_t) (line.pos - line.data))
        {
            break;
        }
    }

    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "gen-catalog: write error: %s\n", strerror(errno));
        return 1;
    }

    free(ring);
    free(creators.cdf);
    free(sounds.cdf);
    free(tag_zipf.cdf);

    return 0;
}


/* splitmix64 */

static uint64_t
gc_rng_next(gc_rng_t *rng)
{
    uint64_t  z;

    z = (rng->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


/* uniform in [0, 1) */

static double
gc_rng_double(gc_rng_t *rng)
{
    return (double) (gc_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}


/* uniform in [0, n), n > 0; the bias for small n is negligible here */

static uint64_t
gc_rng_below(gc_rng_t *rng, uint64_t n)
{
    return gc_rng_next(rng) % n;
}


/* standard normal, Box-Muller */

static double
gc_rng_gauss(gc_rng_t *rng)
{
    double  u1, u2;

    do {
        u1 = gc_rng_double(rng);
    } while (u1 <= 0);

    u2 = gc_rng_double(rng);

    return sqrt(-2 * log(u1)) * cos(2 * GC_PI * u2);
}


/* Zipf-Mandelbrot: P(rank k) ~ 1 / (k + 1 + q)^s, k = 0 .. n - 1 */

static int
gc_zipf_init(gc_zipf_t *z, size_t n, double s, double q)
{
    size_t  k;
    double  sum;

    z->cdf = malloc(n * sizeof(double));
    if (z->cdf == NULL) {
        return -1;
    }

    z->n = n;
    sum = 0;

    for (k = 0; k < n; k++) {
        sum += 1 / pow((double) k + 1 + q, s);
        z->cdf[k] = sum;
    }

    for (k = 0; k < n; k++) {
        z->cdf[k] /= sum;
    }

    return 0;
}


static size_t
gc_zipf_pick(gc_zipf_t *z, gc_rng_t *rng)
{
    size_t  lo, hi, mid;
    double  u;

    u = gc_rng_double(rng);
    lo = 0;
    hi = z->n - 1;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (z->cdf[mid] > u) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return lo;
}


/*
 * A keyed permutation of the 45-bit numbers (invertible multiplications,
 * additions and xor-shifts modulo 2^45), written as 9 base-36 digits, so
 * ids are unique and look random.
 */

static void
gc_clip_id(char *dst, uint64_t n, uint64_t key)
{
    int                 i;
    uint64_t            x;
    const uint64_t      mask = (1ULL << 45) - 1;
    static const char   digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";

    x = n & mask;

    for (i = 0; i < 3; i++) {
        x = (x * 0x5deece66dULL + (key >> (i * 16))) & mask;
        x ^= x >> 17;
        x = (x * (0x2545f4914f6cdd1dULL | 1)) & mask;
        x ^= x >> 23;
    }

    for (i = GC_ID_LEN - 1; i >= 0; i--) {
        dst[i] = digits[x % 36];
        x /= 36;
    }

    dst[GC_ID_LEN] = '\0';
}


static void
gc_put(gc_buf_t *b, const char *s, size_t len)
{
    if ((size_t) (b->end - b->pos) < len) {
        fprintf(stderr, "gen-catalog: line buffer overflow\n");
        exit(1);
    }

    memcpy(b->pos, s, len);
    b->pos += len;
}


static void
gc_put_str(gc_buf_t *b, const char *s)
{
    gc_put(b, s, strlen(s));
}


static void
gc_put_uint(gc_buf_t *b, uint64_t v)
{
    char   tmp[24], *p;

    p = tmp + sizeof(tmp);

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    gc_put(b, p, (size_t) (tmp + sizeof(tmp) - p));
}


/*
 * v / 10^decimals with trailing zeros removed, but at least one decimal:
 * (15000, 4) -> "1.5", (20000, 4) -> "2.0", (-7, 4) -> "-0.0007"
 */

static void
gc_put_fixed(gc_buf_t *b, int64_t v, unsigned decimals)
{
    char       frac[24];
    unsigned   i, len;
    uint64_t   u, scale;

    scale = 1;
    for (i = 0; i < decimals; i++) {
        scale *= 10;
    }

    if (v < 0) {
        gc_put_str(b, "-");
        u = (uint64_t) -v;

    } else {
        u = (uint64_t) v;
    }

    gc_put_uint(b, u / scale);
    gc_put_str(b, ".");

    u %= scale;

    for (i = decimals; i > 0; i--) {
        frac[i - 1] = (char) ('0' + u % 10);
        u /= 10;
    }

    len = decimals;
    while (len > 1 && frac[len - 1] == '0') {
        len--;
    }

    gc_put(b, frac, len);
}


/*
 * rank -> unique handle "first{.|_}second[number]"; the rank is first
 * shuffled (a multiplication by a number prime to GC_CREATORS) so that
 * the most popular creators do not all share a name part
 */

static void
gc_put_creator(gc_buf_t *b, size_t rank)
{
    size_t  k;

    k = rank * 7919 % GC_CREATORS;

    gc_put_str(b, gc_first[k % 64]);
    gc_put_str(b, (k / 64 + k) % 3 ? "." : "_");
    gc_put_str(b, gc_second[(k / 64) % 64]);

    if (k >= 64 * 64) {
        gc_put_uint(b, k / (64 * 64) + 1);
    }
}


/* rank -> unique "genre-number", shuffled like the creators */

static void
gc_put_sound(gc_buf_t *b, size_t rank)
{
    size_t  k;

    k = rank * 7919 % GC_SOUNDS;

    gc_put_str(b, gc_genres[k % GC_NELTS(gc_genres)]);
    gc_put_str(b, "-");
    gc_put_uint(b, k / GC_NELTS(gc_genres) + 1);
}


/*
 * "Opener adjective tag ending #tag #tag", 30..60 bytes plus, rarely, an
 * emoji; sometimes the tag is quoted, which JSON escapes as \"
 */

static size_t
gc_caption(char *dst, size_t size, gc_rng_t *rng, const unsigned *tags,
    unsigned ntags)
{
    int          n, quote;
    size_t       len, add, target;
    unsigned     i;
    const char  *ending;

    quote = gc_rng_below(rng, 100) == 0;
    ending = gc_endings[gc_rng_below(rng, GC_NELTS(gc_endings))];

    n = snprintf(dst, size, "%s %s %s%s%s",
                 gc_openers[gc_rng_below(rng, GC_NELTS(gc_openers))],
                 gc_adjectives[gc_rng_below(rng, GC_NELTS(gc_adjectives))],
                 quote ? "\\\"" : "", gc_tags[tags[0]], quote ? "\\\"" : "");
    len = (size_t) n;

    target = 30 + gc_rng_below(rng, 31);

    if (len + 1 + strlen(ending) <= 60) {
        n = snprintf(dst + len, size - len, " %s", ending);
        len += (size_t) n;
    }

    for (i = 1; i < ntags && len < target; i++) {
        add = 2 + strlen(gc_tags[tags[i]]);

        if (len + add > 60) {
            break;
        }

        n = snprintf(dst + len, size - len, " #%s", gc_tags[tags[i]]);
        len += (size_t) n;
    }

    if (len < 30) {
        n = snprintf(dst + len, size - len, " #fyp #%s", gc_tags[tags[0]]);
        len += (size_t) n;
    }

    if (gc_rng_below(rng, 100) < 4) {
        n = snprintf(dst + len, size - len, " %s",
                     gc_emoji[gc_rng_below(rng, GC_NELTS(gc_emoji))]);
        len += (size_t) n;
    }

    return len;
}


static int
gc_parse_uint(const char *s, uint64_t max, uint64_t *v)
{
    char                *end;
    unsigned long long   n;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    errno = 0;
    n = strtoull(s, &end, 10);

    if (errno != 0 || *end != '\0' || n > max) {
        return -1;
    }

    *v = (uint64_t) n;

    return 0;
}


static void
gc_usage(FILE *f)
{
    fprintf(f,
        "Usage: gen-catalog N [--seed S]\n"
        "Writes N synthetic catalog lines (JSON Lines) to stdout; the same\n"
        "N and S (default 1) give the same output.\n");
}
