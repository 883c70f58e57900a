
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
 * the jansson path): the target aborts and prints the line.  Then the
 * input, as a file, goes through feed_catalog_load() (lines read ahead on
 * a thread), which must stop at the same line with the same message, or
 * hold the same clips (one input in four: a load is slow).
 */

#define _GNU_SOURCE

#include <sys/mman.h>
#include <unistd.h>

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


/*
 * The same lines from a file, through feed_catalog_load(): read ahead and
 * scanned on a thread of its own, blank lines skipped, stopping at the
 * first line refused.  It must end as the lines added one by one did.
 */

static void
fuzz_load(const uint8_t *data, size_t size, const feed_catalog_t *added,
    int rc, const feed_err_t *err)
{
    int              fd, rc2;
    char             path[64];
    uint32_t         i;
    feed_err_t       e2;
    feed_catalog_t  *cat;

    fd = memfd_create("catalog", 0);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, data, size) == (ssize_t) size);

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    cat = feed_catalog_new();
    FUZZ_CHECK(cat != NULL);

    memset(&e2, 0, sizeof(feed_err_t));
    rc2 = feed_catalog_load(cat, path, &e2);

    close(fd);

    fuzz_line_start = NULL;
    fuzz_line_len = 0;

    if (rc2 != rc
        || (rc != FEED_OK
            && (e2.line != err->line || strcmp(e2.msg, err->msg) != 0)))
    {
        fprintf(stderr, "added %d line %lu \"%s\", loaded %d line %lu "
                "\"%s\"\n", rc, err->line, rc ? err->msg : "", rc2,
                e2.line, rc2 ? e2.msg : "");
        FUZZ_CHECK(0);
    }

    if (rc == FEED_OK) {
        FUZZ_CHECK(feed_catalog_count(cat) == feed_catalog_count(added));

        for (i = 0; i < feed_catalog_count(cat); i++) {
            fuzz_same_clip(added, cat, i);
        }
    }

    feed_catalog_free(cat);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              rc1, rc2, first_rc;
    size_t           len, next;
    uint32_t         i;
    feed_err_t       e1, e2, first;
    const char      *p, *end, *nl;
    unsigned long    lineno;
    feed_catalog_t  *fast, *slow;

    fast = feed_catalog_new();
    slow = feed_catalog_new();
    FUZZ_CHECK(fast != NULL && slow != NULL);

    feed_catalog_set_fast(slow, 0);

    p = (const char *) data;
    end = p + size;

    first_rc = FEED_OK;
    memset(&first, 0, sizeof(feed_err_t));

    /* lines as feed_catalog_load() reads them: no CR or LF, none blank */

    for (lineno = 1; lineno <= FUZZ_LINES && p < end; lineno++, p += next) {
        nl = memchr(p, '\n', (size_t) (end - p));
        len = (size_t) ((nl ? nl : end) - p);
        next = len + (nl != NULL);

        while (len > 0 && p[len - 1] == '\r') {
            len--;
        }

        if (len == 0) {
            continue;
        }

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

        } else if (first_rc == FEED_OK) {
            first_rc = rc1;
            first = e1;
        }
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

    /*
     * A file ends where its first bad line is, or as finish() does.  A
     * load costs two reads of the lines (a 3 MB ring, a thread): one
     * input in four, by its length, so that the rest keeps its pace.
     */

    if (p == end && size % 4 == 0) {
        if (first_rc != FEED_OK) {
            fuzz_load(data, size, fast, first_rc, &first);

        } else {
            fuzz_load(data, size, fast, rc1, &e1);
        }
    }

    feed_catalog_free(fast);
    feed_catalog_free(slow);

    return 0;
}
