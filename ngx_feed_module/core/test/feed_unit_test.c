
/*
 * Copyright (C) the feed module developers
 */


/*
 * Unit tests of the pure-C core, no framework: every .c file in this
 * directory is linked with the core, main() runs each file's tests, and
 * the last line printed is the summary that CI parses:
 *
 *     unit: N passed, M failed
 *
 * N and M count tests.  The exit status is 1 when anything failed.
 * Catalog files are written to a private directory made with mkdtemp()
 * under $TMPDIR and removed at the end.  feed_unit_alloc() gives scratch
 * memory that is freed when the test that asked for it ends.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed_unit.h"


#define FEED_UNIT_FILES_MAX  16


typedef struct feed_unit_block_s  feed_unit_block_t;

struct feed_unit_block_s {
    feed_unit_block_t  *next;
    size_t              pad;         /* keeps the data 16-byte aligned */
};


static const char  *feed_unit_current;
static unsigned     feed_unit_failures;
static unsigned     feed_unit_passed;
static unsigned     feed_unit_failed;

static char         feed_unit_dir[1024];
static char        *feed_unit_files[FEED_UNIT_FILES_MAX];
static unsigned     feed_unit_nfiles;

static feed_unit_block_t  *feed_unit_blocks;


static int feed_unit_setup(void);
static void feed_unit_cleanup(void);


int
main(void)
{
    if (feed_unit_setup() != 0) {
        printf("unit: 0 passed, 1 failed\n");
        return 1;
    }

    feed_unit_catalog_tests();
    feed_unit_token_tests();
    feed_unit_hls_tests();
    feed_unit_fastpath_tests();
    feed_unit_cache_tests();
    feed_unit_state_tests();
    feed_unit_ident_tests();
    feed_unit_rank_tests();
    feed_unit_feed_tests();

    feed_unit_cleanup();

    printf("unit: %u passed, %u failed\n", feed_unit_passed,
           feed_unit_failed);

    return feed_unit_failed ? 1 : 0;
}


void
feed_unit_run(const char *name, feed_unit_test_pt test)
{
    feed_unit_block_t  *b;

    feed_unit_current = name;
    feed_unit_failures = 0;

    test();

    while (feed_unit_blocks) {
        b = feed_unit_blocks;
        feed_unit_blocks = b->next;
        free(b);
    }

    if (feed_unit_failures) {
        feed_unit_failed++;

    } else {
        feed_unit_passed++;
    }

    feed_unit_current = NULL;
}


int
feed_unit_check(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list  args;

    if (ok) {
        return 1;
    }

    feed_unit_failures++;

    printf("FAIL %s: %s:%d: ",
           feed_unit_current ? feed_unit_current : "(setup)", file, line);

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);

    printf("\n");
    fflush(stdout);

    return 0;
}


void *
feed_unit_alloc(size_t size)
{
    feed_unit_block_t  *b;

    b = malloc(sizeof(feed_unit_block_t) + size);
    if (b == NULL) {
        printf("FAIL %s: out of memory\nunit: %u passed, %u failed\n",
               feed_unit_current, feed_unit_passed, feed_unit_failed + 1);
        exit(1);
    }

    b->next = feed_unit_blocks;
    feed_unit_blocks = b;

    return b + 1;
}


const char *
feed_unit_write(const char *name, const void *data, size_t len)
{
    char      path[sizeof(feed_unit_dir) + 64];
    FILE     *f;
    unsigned  i;

    snprintf(path, sizeof(path), "%s/%s", feed_unit_dir, name);

    for (i = 0; i < feed_unit_nfiles; i++) {
        if (strcmp(feed_unit_files[i], path) == 0) {
            break;
        }
    }

    if (i == feed_unit_nfiles) {
        if (i == FEED_UNIT_FILES_MAX) {
            feed_unit_check(0, __FILE__, __LINE__, "too many test files");
            return "";
        }

        feed_unit_files[i] = strdup(path);
        if (feed_unit_files[i] == NULL) {
            feed_unit_check(0, __FILE__, __LINE__, "out of memory");
            return "";
        }

        feed_unit_nfiles++;
    }

    f = fopen(path, "wb");

    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        feed_unit_check(0, __FILE__, __LINE__, "cannot write %s", path);
    }

    return feed_unit_files[i];
}


/* writes text to a catalog file and loads it into a new catalog */

int
feed_unit_load(const char *text, feed_catalog_t **cat, feed_err_t *err)
{
    const char  *path;

    memset(err, 0, sizeof(feed_err_t));

    path = feed_unit_write("catalog.jsonl", text, strlen(text));

    *cat = feed_catalog_new();
    if (*cat == NULL) {
        feed_unit_check(0, __FILE__, __LINE__, "out of memory");
        return FEED_ERROR;
    }

    return feed_catalog_load(*cat, path, err);
}


static int
feed_unit_setup(void)
{
    const char  *tmp;

    tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0') {
        tmp = "/tmp";
    }

    snprintf(feed_unit_dir, sizeof(feed_unit_dir), "%s/feed-unit.XXXXXX",
             tmp);

    if (mkdtemp(feed_unit_dir) == NULL) {
        perror("unit: mkdtemp");
        return -1;
    }

    return 0;
}


static void
feed_unit_cleanup(void)
{
    unsigned  i;

    for (i = 0; i < feed_unit_nfiles; i++) {
        unlink(feed_unit_files[i]);
        free(feed_unit_files[i]);
    }

    rmdir(feed_unit_dir);
}
