
/*
 * Copyright (C) the feed module developers
 */


/*
 * Catalog lines: feed_catalog_add() on each line of the input, then
 * feed_catalog_finish(), in two catalogs at once: one reads the lines
 * the normal way, the fast scanner first, the other through jansson
 * alone (feed_catalog_set_fast(cat, 0)).  They must accept and refuse
 * the same lines with the same message, hold the same clips field for
 * field, and finish alike.  A difference is a bug in the scanner (or in
 * the jansson path): the target aborts and prints the line.
 */

#include "fuzz.h"
#include "feed_catalog.h"


#define FUZZ_LINES  64


static const char  *fuzz_line_start;
static size_t       fuzz_line_len;


static void
fuzz_differ(const char *what)
{
    size_t         i;
    unsigned char  c;

    fprintf(stderr, "fast scanner and jansson differ: %s; the line: ",
            what);

    for (i = 0; fuzz_line_start != NULL && i < fuzz_line_len; i++) {
        c = (unsigned char) fuzz_line_start[i];
        fprintf(stderr, (c < 0x20 || c >= 0x7f || c == '\\') ? "\\x%02x"
                                                             : "%c", c);
    }

    fprintf(stderr, "\n");
    abort();
}


#define FUZZ_SAME(cond)                                                       \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fuzz_differ(#cond);                                               \
        }                                                                     \
    } while (0)


static void
fuzz_same_clip(const feed_catalog_t *a, const feed_catalog_t *b, uint32_t i)
{
    uint32_t            k, n;
    feed_rendition_t    ra, rb;
    const feed_clip_t  *ca, *cb;

    ca = feed_catalog_clip(a, i);
    cb = feed_catalog_clip(b, i);

    FUZZ_SAME(ca != NULL && cb != NULL);

    FUZZ_SAME(memcmp(ca, cb, sizeof(feed_clip_t)) == 0);
    FUZZ_SAME(strcmp(feed_clip_id(a, ca), feed_clip_id(b, cb)) == 0);
    FUZZ_SAME(strcmp(feed_clip_caption(a, ca), feed_clip_caption(b, cb))
              == 0);
    FUZZ_SAME(strcmp(feed_clip_creator(a, ca), feed_clip_creator(b, cb))
              == 0);
    FUZZ_SAME(strcmp(feed_clip_sound(a, ca), feed_clip_sound(b, cb)) == 0);

    n = feed_clip_ntags(a, ca);
    FUZZ_SAME(n == feed_clip_ntags(b, cb));

    for (k = 0; k < n; k++) {
        FUZZ_SAME(strcmp(feed_clip_tag(a, ca, k), feed_clip_tag(b, cb, k))
                  == 0);
    }

    FUZZ_SAME(feed_catalog_dim(a) == feed_catalog_dim(b));
    FUZZ_SAME(memcmp(feed_clip_embedding(a, ca), feed_clip_embedding(b, cb),
                     feed_catalog_dim(a) * sizeof(float))
              == 0);

    n = feed_clip_nrenditions(a, ca);
    FUZZ_SAME(n == feed_clip_nrenditions(b, cb));

    for (k = 0; k < n; k++) {
        feed_clip_rendition(a, ca, k, &ra);
        feed_clip_rendition(b, cb, k, &rb);

        FUZZ_SAME(ra.name_len == rb.name_len
                  && memcmp(ra.name, rb.name, ra.name_len) == 0);
        FUZZ_SAME(strcmp(ra.codecs, rb.codecs) == 0);
        FUZZ_SAME(strcmp(ra.resolution, rb.resolution) == 0);
        FUZZ_SAME(ra.bandwidth == rb.bandwidth);
        FUZZ_SAME(ra.width == rb.width && ra.height == rb.height);
        FUZZ_SAME(ra.nsegments == rb.nsegments);
        FUZZ_SAME(memcmp(ra.segments_us, rb.segments_us,
                         ra.nsegments * sizeof(uint32_t))
                  == 0);
        FUZZ_SAME(feed_clip_find_rendition(a, ca, ra.name, ra.name_len)
                  == (int) k);
    }
}


static void
fuzz_same_result(int rc1, const feed_err_t *e1, int rc2,
    const feed_err_t *e2)
{
    if (rc1 != rc2 || e1->line != e2->line
        || (rc1 != FEED_OK && strcmp(e1->msg, e2->msg) != 0))
    {
        fprintf(stderr, "fast %d line %lu \"%s\", jansson %d line %lu "
                "\"%s\"\n", rc1, e1->line, rc1 ? e1->msg : "", rc2,
                e2->line, rc2 ? e2->msg : "");
        fuzz_differ("the result");
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              rc1, rc2;
    size_t           len;
    uint32_t         i;
    feed_err_t       e1, e2;
    const char      *p, *end, *nl;
    unsigned long    lineno;
    feed_catalog_t  *fast, *slow;

    fast = feed_catalog_new();
    slow = feed_catalog_new();
    FUZZ_CHECK(fast != NULL && slow != NULL);

    feed_catalog_set_fast(slow, 0);

    p = (const char *) data;
    end = p + size;

    for (lineno = 1; lineno <= FUZZ_LINES && p < end; lineno++) {
        nl = memchr(p, '\n', (size_t) (end - p));
        len = (size_t) ((nl ? nl : end) - p);

        fuzz_line_start = p;
        fuzz_line_len = len;

        memset(&e1, 0, sizeof(feed_err_t));
        memset(&e2, 0, sizeof(feed_err_t));

        rc1 = feed_catalog_add(fast, p, len, lineno, &e1);
        rc2 = feed_catalog_add(slow, p, len, lineno, &e2);

        FUZZ_CHECK(rc1 == FEED_OK || rc1 == FEED_ERROR);
        fuzz_same_result(rc1, &e1, rc2, &e2);

        if (rc1 == FEED_OK) {
            FUZZ_SAME(feed_catalog_count(fast) == feed_catalog_count(slow));
            fuzz_same_clip(fast, slow, feed_catalog_count(fast) - 1);
        }

        p += len + (nl != NULL);
    }

    fuzz_line_start = NULL;
    fuzz_line_len = 0;

    memset(&e1, 0, sizeof(feed_err_t));
    memset(&e2, 0, sizeof(feed_err_t));

    rc1 = feed_catalog_finish(fast, &e1);
    rc2 = feed_catalog_finish(slow, &e2);

    fuzz_same_result(rc1, &e1, rc2, &e2);

    if (rc1 == FEED_OK) {
        FUZZ_SAME(feed_catalog_count(fast) == feed_catalog_count(slow));
        FUZZ_SAME(feed_catalog_memory(fast, NULL)
                  == feed_catalog_memory(slow, NULL));

        for (i = 0; i < feed_catalog_count(fast); i++) {
            fuzz_same_clip(fast, slow, i);
        }
    }

    feed_catalog_free(fast);
    feed_catalog_free(slow);

    return 0;
}
