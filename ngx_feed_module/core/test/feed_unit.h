
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_UNIT_H_INCLUDED_
#define _FEED_UNIT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "feed_catalog.h"
#include "feed_token.h"
#include "feed_hls.h"


/*
 * A test is a function of CHECKs; it passes when every check does.  A
 * failed check prints where and why, and the test goes on, so one run
 * shows every failure.
 */

typedef void (*feed_unit_test_pt)(void);


void feed_unit_run(const char *name, feed_unit_test_pt test);
int feed_unit_check(int ok, const char *file, int line, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 4, 5)))
#endif
    ;

void *feed_unit_alloc(size_t size);
const char *feed_unit_write(const char *name, const void *data, size_t len);
int feed_unit_load(const char *text, feed_catalog_t **cat, feed_err_t *err);

void feed_unit_catalog_tests(void);
void feed_unit_token_tests(void);
void feed_unit_hls_tests(void);
void feed_unit_fastpath_tests(void);
void feed_unit_cache_tests(void);
void feed_unit_state_tests(void);
void feed_unit_ident_tests(void);
void feed_unit_rank_tests(void);
void feed_unit_feed_tests(void);


#define RUN(test)  feed_unit_run(#test, test)

#define CHECK(cond)                                                           \
    feed_unit_check((cond) != 0, __FILE__, __LINE__, "%s", #cond)

#define CHECK_UINT(a, b)                                                      \
    do {                                                                      \
        unsigned long long  a_ = (a), b_ = (b);                               \
        feed_unit_check(a_ == b_, __FILE__, __LINE__,                         \
                        "%s == %s: %llu != %llu", #a, #b, a_, b_);            \
    } while (0)

#define CHECK_INT(a, b)                                                       \
    do {                                                                      \
        long long  a_ = (a), b_ = (b);                                        \
        feed_unit_check(a_ == b_, __FILE__, __LINE__,                         \
                        "%s == %s: %lld != %lld", #a, #b, a_, b_);            \
    } while (0)

#define CHECK_STR(a, b)                                                       \
    do {                                                                      \
        const char  *a_ = (a), *b_ = (b);                                     \
        feed_unit_check(a_ != NULL && b_ != NULL && strcmp(a_, b_) == 0,     \
                        __FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"",     \
                        #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");      \
    } while (0)

/* a (not NUL-terminated, alen bytes) equals the C string b */

#define CHECK_MEM(a, alen, b)                                                 \
    do {                                                                      \
        const char  *a_ = (a), *b_ = (b);                                     \
        size_t       alen_ = (alen);                                          \
        feed_unit_check(a_ != NULL && alen_ == strlen(b_)                     \
                        && memcmp(a_, b_, alen_) == 0,                        \
                        __FILE__, __LINE__, "%s == %s: \"%.*s\" != \"%s\"",   \
                        #a, #b, a_ ? (int) alen_ : 6, a_ ? a_ : "(null)",     \
                        b_);                                                  \
    } while (0)


#endif /* _FEED_UNIT_H_INCLUDED_ */
