# Bad input on feed_media: a clean 4xx for every kind of nonsense, never a
# 500, never a file outside the media root, never a crashed worker.

use strict;
use warnings;

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FeedTest;

my $fx = feed_fixtures();

my $defaults = feed_defaults(
    no_error_log => "[crit]\n[alert]\n");
add_block_preprocessor(sub { $defaults->(@_) });

no_shuffle();
run_tests();

__DATA__

=== TEST 1: unknown clip
--- request
GET /v/nope/master.m3u8
--- error_code: 404
--- error_log
feed_media: unknown clip "nope"



=== TEST 2: unknown rendition
--- request
GET /v/fix-a/4320p/index.m3u8
--- error_code: 404
--- error_log
feed_media: clip "fix-a" has no rendition "4320p"



=== TEST 3: segment number past the end
--- request
GET /v/fix-a/144p/99.m4s
--- error_code: 404
--- error_log
rendition "144p" has no segment 99



=== TEST 4: non-numeric, signed, padded and overflowing segment numbers
--- pipelined_requests eval
[
    "GET /v/fix-a/144p/abc.m4s",
    "GET /v/fix-a/144p/-1.m4s",
    "GET /v/fix-a/144p/+1.m4s",
    "GET /v/fix-a/144p/00.m4s",
    "GET /v/fix-a/144p/1e3.m4s",
    "GET /v/fix-a/144p/4294967296.m4s",
    "GET /v/fix-a/144p/99999999999999999999999999999999.m4s",
    "GET /v/fix-a/144p/.m4s",
    "GET /v/fix-a/144p/0.m4s.m4s",
    "GET /v/fix-a/144p/0.mp4",
]
--- error_code eval
[404, 404, 404, 404, 404, 404, 404, 404, 404, 404]



=== TEST 5: unknown file names and shapes
--- pipelined_requests eval
[
    "GET /v/fix-a/",
    "GET /v/fix-a",
    "GET /v/",
    "GET /v/fix-a/master.m3u8x",
    "GET /v/fix-a/144p/",
    "GET /v/fix-a/144p/index.m3u8/",
    "GET /v/fix-a/144p/sub/0.m4s",
    "GET /v/fix-a/catalog.jsonl",
]
--- error_code eval
[404, 404, 404, 404, 404, 404, 404, 404]



=== TEST 6: path traversal above the root: rejected by nginx
--- request
GET /v/../../../../etc/passwd
--- error_code: 400



=== TEST 7: path traversal, percent-encoded
--- request eval
[
    "GET /v/fix-a/144p/%2e%2e%2f%2e%2e%2f0.m4s",
    "GET /v/%2e%2e%2f%2e%2e%2fetc%2fpasswd/master.m3u8",
    "GET /v/fix-a/%2e%2e%2f144p/0.m4s",
    "GET /v/fix-a/144p%2f..%2f..%2fetc%2fpasswd",
]
--- error_code eval
[404, 400, 404, 404]



=== TEST 8: path traversal, double-encoded
--- request eval
[
    "GET /v/fix-a/144p/%252e%252e/%252e%252e/etc/passwd",
    "GET /v/%252e%252e%252fetc/master.m3u8",
    "GET /v/fix-a%252f..%252f/master.m3u8",
]
--- error_code eval
[404, 404, 404]



=== TEST 9: NUL and control characters
--- request eval
[
    "GET /v/fix-a%00/master.m3u8",
    "GET /v/fix-a/144p/0.m4s%00.txt",
    "GET /v/fix-a%0d%0a/master.m3u8",
]
--- error_code eval
[400, 400, 404]



=== TEST 10: oversized clip id and rendition name
--- pipelined_requests eval
[
    "GET /v/" . ("a" x 65) . "/master.m3u8",
    "GET /v/fix-a/" . ("r" x 33) . "/index.m3u8",
    "GET /v/" . ("a" x 3000) . "/master.m3u8",
]
--- error_code eval
[404, 404, 404]



=== TEST 11: a URI too long for nginx's buffers
--- request eval
"GET /v/" . ("a" x 20000) . "/master.m3u8"
--- error_code: 414



=== TEST 12: wrong methods: 405 with Allow
--- pipelined_requests eval
[
    "POST /v/fix-a/master.m3u8",
    "PUT /v/fix-a/144p/0.m4s",
    "DELETE /v/fix-a/144p/0.m4s",
    "OPTIONS /v/fix-a/master.m3u8",
]
--- error_code eval
[405, 405, 405, 405]



=== TEST 13: 405 names the allowed methods
--- request
DELETE /v/fix-a/master.m3u8
--- error_code: 405
--- response_headers
Allow: GET, HEAD



=== TEST 14: the media root missing a file the catalog names: 404, logged
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_SERVER_ROOT/html;
    }
--- request
GET /v/fix-a/144p/0.m4s
--- error_code: 404
--- error_log eval
qr{\[error\].*feed_media: open\(\) "[^"]+/html/fix-a/144p/0\.m4s" failed}
--- no_error_log
[crit]



=== TEST 15: "location /v" does not serve "/vfix-a/..."
--- config
    location /v {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
    }
--- request eval
["GET /vfix-a/master.m3u8", "GET /v/fix-a/master.m3u8"]
--- error_code eval
[404, 200]



=== TEST 16: an "if" inside the location keeps the prefix
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        if ($arg_x) {
            add_header X-If yes;
        }
    }
--- request
GET /v/fix-a/master.m3u8?x=1
--- error_code: 200
--- response_headers
X-If: yes



=== TEST 17: a rewrite that leaves the prefix: 404, not a misparse
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        rewrite ^/v/(.*)$ /elsewhere/$1 break;
    }
--- request
GET /v/fix-a/master.m3u8
--- error_code: 404
--- error_log
feed_media: URI outside the location prefix "/v/"



=== TEST 18: with CORS on, 405 names OPTIONS too
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        feed_cors *;
    }
--- request
DELETE /v/fix-a/master.m3u8
--- error_code: 405
--- response_headers
Allow: GET, HEAD, OPTIONS



=== TEST 19: log lines cannot be forged through the URI
--- log_level: info
--- request
GET /v/fix-a%0a2026/11/26%2001:00:00%20[crit]%20forged/master.m3u8
--- error_code: 404
--- no_error_log eval
[qr{^2026/11/26 01:00:00 \[crit\] forged}, "[alert]"]
--- error_log
feed_media: no file after clip id
