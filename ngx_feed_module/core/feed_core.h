
/*
 * Copyright (C) the feed module developers
 */


#ifndef _FEED_CORE_H_INCLUDED_
#define _FEED_CORE_H_INCLUDED_


/*
 * The pure-C core: no nginx header is included anywhere under core/.
 * Functions return FEED_OK or FEED_ERROR and describe errors in a
 * caller-provided feed_err_t, so the nginx glue can log them with the
 * right level and the unit tests can check them.
 */

#include <stddef.h>
#include <stdint.h>


#define FEED_OK           0
#define FEED_ERROR       -1
#define FEED_DECLINED    -5

#define FEED_NONE         0xffffffffu

#define FEED_ERR_LEN      256


typedef struct {
    unsigned long   line;
    char            msg[FEED_ERR_LEN];
} feed_err_t;


void feed_err_set(feed_err_t *err, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;


#endif /* _FEED_CORE_H_INCLUDED_ */
