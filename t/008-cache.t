# feed_cache: segments served from the shared memory zone.  These blocks
# fill on the request itself (feed_cache_inline_fill) so that the second
# request is a hit; t/010-cache-reload.t covers the background fill.

use strict;
use warnings;

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FeedTest;

my $fx = feed_fixtures();

our $Seg0 = read_file("$fx/media/fix-a/144p/0.m4s");
our $Seg1 = read_file("$fx/media/fix-a/144p/1.m4s");
our $Init = read_file("$fx/media/fix-a/144p/init.mp4");
our @St = stat("$fx/media/fix-a/144p/1.m4s");
our $Etag = sprintf('"%x-%x"', $St[9], $St[7]);

my $defaults = feed_defaults(
    http     => "    feed_cache_zone hot:2m;\n",
    location => "        feed_cache hot;\n"
              . "        feed_cache_inline_fill 1m;\n"
              . "        add_header X-Cache \$feed_cache_status;\n",
    no_error_log => "[error]\n[crit]\n[alert]\n");
add_block_preprocessor(sub { $defaults->(@_) });

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a miss fills the zone, the next request is a hit with the same bytes and validators
--- request eval
["GET /v/fix-a/144p/1.m4s", "GET /v/fix-a/144p/1.m4s"]
--- response_headers eval
["X-Cache: MISS\nContent-Type: video/iso.segment\nETag: $main::Etag",
 "X-Cache: HIT\nContent-Type: video/iso.segment\nETag: $main::Etag"]
--- response_body eval
[$main::Seg1, $main::Seg1]



=== TEST 2: init segments are cached too
--- request eval
["GET /v/fix-a/144p/init.mp4", "GET /v/fix-a/144p/init.mp4"]
--- response_headers eval
["X-Cache: MISS\nContent-Type: video/mp4", "X-Cache: HIT\nContent-Type: video/mp4"]
--- response_body eval
[$main::Init, $main::Init]



=== TEST 3: ranges of a cached object, single and from the end
--- request eval
["GET /v/fix-a/144p/1.m4s", "GET /v/fix-a/144p/1.m4s", "GET /v/fix-a/144p/1.m4s"]
--- more_headers eval
["", "Range: bytes=100-199", "Range: bytes=-10"]
--- error_code eval
[200, 206, 206]
--- response_headers eval
["X-Cache: MISS",
 "X-Cache: HIT\nContent-Range: bytes 100-199/" . length($main::Seg1),
 "X-Cache: HIT\nContent-Range: bytes " . (length($main::Seg1) - 10) . "-"
     . (length($main::Seg1) - 1) . "/" . length($main::Seg1)]
--- response_body eval
[$main::Seg1, substr($main::Seg1, 100, 100), substr($main::Seg1, -10)]



=== TEST 4: conditional requests on a cached object
--- request eval
["GET /v/fix-a/144p/1.m4s", "GET /v/fix-a/144p/1.m4s"]
--- more_headers eval
["", "If-None-Match: $main::Etag"]
--- error_code eval
[200, 304]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
[$main::Seg1, ""]



=== TEST 5: HEAD on a cached object: headers only, and the pin is let go
--- request eval
["GET /v/fix-a/144p/1.m4s", "HEAD /v/fix-a/144p/1.m4s", "GET /v/fix-a/144p/1.m4s"]
--- response_headers eval
["X-Cache: MISS",
 "X-Cache: HIT\nContent-Length: " . length($main::Seg1),
 "X-Cache: HIT"]
--- response_body eval
[$main::Seg1, "", $main::Seg1]



=== TEST 6: objects over max_object are sent from disk and counted as BYPASS
--- http_config
    feed_catalog $TEST_NGINX_FIXTURES/catalog.jsonl;
    feed_cache_zone hot:2m max_object=32k;
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        feed_cache hot;
        feed_cache_inline_fill 1m;
        add_header X-Cache $feed_cache_status;
    }
--- request eval
["GET /v/fix-a/144p/1.m4s", "GET /v/fix-a/144p/1.m4s", "GET /v/fix-a/144p/0.m4s", "GET /v/fix-a/144p/0.m4s"]
--- response_headers eval
["X-Cache: BYPASS", "X-Cache: BYPASS", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
[$main::Seg1, $main::Seg1, $main::Seg0, $main::Seg0]



=== TEST 7: playlists are written, not cached; "feed_cache off" turns it off in a location
--- http_config
    feed_catalog $TEST_NGINX_FIXTURES/catalog.jsonl;
    feed_cache_zone hot:2m;
    feed_cache hot;
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        feed_cache_inline_fill 1m;
        add_header X-Cache $feed_cache_status;
    }
    location /nc/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        feed_cache off;
        add_header X-Cache $feed_cache_status;
    }
--- request eval
["GET /v/fix-a/144p/index.m3u8", "GET /nc/fix-a/144p/1.m4s", "GET /nc/fix-a/144p/1.m4s", "GET /v/fix-a/144p/1.m4s"]
--- response_headers eval
["X-Cache:", "X-Cache:", "X-Cache:", "X-Cache: MISS"]



=== TEST 8: $feed_cache_status in the access log
--- http_config
    feed_catalog $TEST_NGINX_FIXTURES/catalog.jsonl;
    feed_cache_zone hot:2m;
    log_format cache '$uri cache=$feed_cache_status';
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        feed_cache hot;
        feed_cache_inline_fill 1m;
        access_log $TEST_NGINX_SERVER_ROOT/logs/cache.log cache;
    }
    location = /log {
        alias $TEST_NGINX_SERVER_ROOT/logs/cache.log;
    }
--- request eval
["GET /v/fix-b/144p/0.m4s", "GET /v/fix-b/144p/0.m4s", "GET /log"]
--- response_body_like eval
[qr/./s, qr/./s, qr{\A/v/fix-b/144p/0\.m4s cache=MISS\n/v/fix-b/144p/0\.m4s cache=HIT\n\z}]



=== TEST 9: metrics: Prometheus text with the zone's counters and the requests by kind
--- http_config
    feed_catalog $TEST_NGINX_FIXTURES/catalog.jsonl;
    feed_cache_zone hot:2m max_object=32k;
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        feed_cache hot;
        feed_cache_inline_fill 1m;
    }
    location = /metrics {
        feed_status;
    }
--- request eval
["GET /v/fix-a/144p/0.m4s", "GET /v/fix-a/144p/0.m4s", "GET /v/fix-a/144p/0.m4s",
 "GET /v/fix-a/144p/1.m4s", "GET /v/fix-a/master.m3u8", "GET /v/nope/master.m3u8",
 "GET /v/fix-a/144p/", "GET /metrics"]
--- error_code eval
[200, 200, 200, 200, 200, 404, 404, 200]
--- response_headers eval
["", "", "", "", "", "", "", "Content-Type: text/plain; version=0.0.4; charset=utf-8"]
--- response_body_like eval
[qr/./s, qr/./s, qr/./s, qr/./s, qr/./s, qr/./s, qr/./s,
 qr/\A(?=.*^\#\ TYPE\ feed_requests_total\ counter\n)
   (?=.*^feed_requests_total\{kind="master"\}\ 2\n)
   (?=.*^feed_requests_total\{kind="segment"\}\ 4\n)
   (?=.*^feed_requests_total\{kind="refused"\}\ 1\n)
   (?=.*^feed_cache_requests_total\{status="HIT"\}\ 2\n)
   (?=.*^feed_cache_requests_total\{status="MISS"\}\ 1\n)
   (?=.*^feed_cache_requests_total\{status="BYPASS"\}\ 1\n)
   (?=.*^feed_sent_bytes_total\{source="cache"\}\ [1-9]\d*\n)
   (?=.*^feed_sent_bytes_total\{source="disk"\}\ [1-9]\d*\n)
   (?=.*^feed_cache_hits_total\{zone="hot"\}\ 2\n)
   (?=.*^feed_cache_misses_total\{zone="hot"\}\ 2\n)
   (?=.*^feed_cache_admissions_total\{zone="hot"\}\ 1\n)
   (?=.*^feed_cache_bypasses_total\{zone="hot"\}\ 1\n)
   (?=.*^feed_cache_objects\{zone="hot"\}\ 1\n)
   (?=.*^\#\ HELP\ feed_cache_evictions_total\ )
   (?=.*^feed_cache_capacity_bytes\{zone="hot"\}\ [1-9]\d*\n)
   (?=.*^feed_catalog_clips\ 2\n)
 /msx]
