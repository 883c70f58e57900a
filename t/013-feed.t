# feed_manifest and feed_events, one request at a time: the session
# cookie, the page's JSON, and the answers to bad requests.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use Test::Nginx::Socket 'no_plan';
use FeedTest;

my $fx = feed_fixtures();
my $dir = tempdir('feed-manifest-XXXXXX', TMPDIR => 1, CLEANUP => 1);
feed_topic_catalog($dir);

$ENV{TEST_NGINX_FEED_DIR} = $dir;

our $Cookie = qr/feed_sid=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}; Path=\/; Max-Age=31536000; HttpOnly; SameSite=Lax/;

my $http = <<'EOF';
    feed_catalog      $TEST_NGINX_FEED_DIR/catalog.jsonl;
    feed_secret_file  $TEST_NGINX_FIXTURES/secret.key;
    feed_state_zone   viewers:4m;
EOF

my $config = <<'EOF';
    location = /feed {
        feed_manifest;
    }
    location = /feed/events {
        feed_events;
    }
EOF

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $http)
        unless defined $block->http_config;
    $block->set_value('config', $config) unless defined $block->config;
    $block->set_value('no_error_log', "[alert]\n[crit]\n[emerg]\n")
        unless defined $block->no_error_log;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a first request gets a session cookie and a page of ten
--- request
GET /feed
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- raw_response_headers_like eval
qr/Set-Cookie: $::Cookie\r\n/
--- response_body_like eval
qr/\A\{"page":1,"count":10,"items":\[\{"id":"t\d-\d+","position":0,"master":"\/v\/t\d-\d+\/master\.m3u8\?token=\d+\.[A-Za-z0-9_-]{43}","prefetch":\["\/v\/t\d-\d+\/144p\/init\.mp4\?token=[^"]+","\/v\/t\d-\d+\/144p\/0\.m4s\?token=[^"]+"\],"duration":3,"creator":"c\d+","sound":"s\d+","caption":"clip t\d-\d+","tags":\["topic\d"\],"lineage":null,"reason":"(personal|zeitgeist|explore|remix|random)","score":-?[\d.]+,"parts":\{"similarity":[-\d.]+,"quality":[\d.]+,"freshness":[\d.]+,"trending":[\d.]+,"explore":[\d.]+,"lineage":[\d.]+,"creator":[\d.]+,"reach":-?[\d.]+\},"impression":"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}"\}(,\{[^\n]+\})*\]\}\n\z/



=== TEST 2: ?n= picks the page size within feed_page_max
--- request
GET /feed?n=3
--- response_body_like eval
qr/\A\{"page":1,"count":3,"items":\[(\{"id":[^\n]*){3}\]\}\n\z/



=== TEST 3: ?n= out of range or not a number: 400 with a JSON reason
--- request eval
["GET /feed?n=0", "GET /feed?n=51", "GET /feed?n=abc", "GET /feed?n=-1", "GET /feed?n=99999999999999999999"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body eval
['{"error":"n must be a whole number from 1 to feed_page_max"}' . "\n",
 '{"error":"n must be a whole number from 1 to feed_page_max"}' . "\n",
 '{"error":"n must be a whole number from 1 to feed_page_max"}' . "\n",
 '{"error":"n must be a whole number from 1 to feed_page_max"}' . "\n",
 '{"error":"n must be a whole number from 1 to feed_page_max"}' . "\n"]



=== TEST 4: a tampered, malformed or foreign cookie yields a fresh identity, never an error
--- request eval
["GET /feed?n=1", "GET /feed?n=1", "GET /feed?n=1", "GET /feed?n=1"]
--- more_headers eval
["Cookie: feed_sid=AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
 "Cookie: feed_sid=garbage",
 "Cookie: other=1; feed_sid=",
 "Cookie: feed_sid=" . ("x" x 5000)]
--- error_code eval
[200, 200, 200, 200]
--- raw_response_headers_like eval
[qr/Set-Cookie: $::Cookie\r\n/, qr/Set-Cookie: $::Cookie\r\n/,
 qr/Set-Cookie: $::Cookie\r\n/, qr/Set-Cookie: $::Cookie\r\n/]



=== TEST 5: feed_session_secure, feed_session_cookie and feed_session_max_age
--- http_config
    feed_catalog         $TEST_NGINX_FEED_DIR/catalog.jsonl;
    feed_secret_file     $TEST_NGINX_FIXTURES/secret.key;
    feed_state_zone      viewers:4m;
    feed_session_secure  on;
    feed_session_cookie  sid;
    feed_session_max_age 1d;
--- request
GET /feed?n=1
--- raw_response_headers_like eval
qr/Set-Cookie: sid=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}; Path=\/; Max-Age=86400; HttpOnly; SameSite=Lax; Secure\r\n/



=== TEST 6: methods
--- request eval
["POST /feed\n{}", "GET /feed/events", "PUT /feed/events\n{}"]
--- error_code eval
[405, 405, 405]
--- raw_response_headers_like eval
[qr//, qr/Allow: POST\r\n/, qr/Allow: POST\r\n/]



=== TEST 7: events without a session are refused as a whole
--- request
POST /feed/events
{"events":[]}
--- error_code: 403
--- response_body
{"error":"no valid session cookie: events come from the viewer who was served the feed"}



=== TEST 8: a body over feed_events_max_body: 413
--- config
    location = /feed/events {
        feed_events;
        feed_events_max_body 100;
    }
--- request eval
"POST /feed/events\n" . '{"events":[' . CORE::join(',', ('{"impression":"x"}') x 20) . ']}'
--- error_code: 413
--- response_body
{"error":"the batch is larger than feed_events_max_body"}



=== TEST 9: the page's clips are from the catalog, with what they need to play
--- config
    location = /feed {
        feed_manifest;
        feed_media_uri /media/;
        feed_page_size 5;
    }
--- request
GET /feed
--- response_body_like eval
qr/\A\{"page":1,"count":5,"items":\[\{"id":"(t\d-\d+)","position":0,"master":"\/media\/\1\/master\.m3u8\?token=/



=== TEST 10: feed_status counts manifests, items by reason and new viewers
--- config
    location = /feed {
        feed_manifest;
    }
    location = /metrics {
        feed_status;
    }
--- request eval
["GET /feed", "GET /feed", "GET /metrics"]
--- response_body_like eval
[qr/items/, qr/items/,
 qr/\A(?=.*^feed_requests_total\{kind="manifest"\} 2\n)(?=.*^feed_new_viewers_total 2\n)(?=.*^feed_viewers 2\n)(?=.*^feed_items_total\{reason="personal"\} \d+\n)(?=.*^feed_viewer_capacity [1-9]\d*\n)/ms]
