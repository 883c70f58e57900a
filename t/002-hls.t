# feed_media: playlists written from the catalog, segments from disk.

use strict;
use warnings;

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FeedTest;

my $fx = feed_fixtures();

our $Init = read_file("$fx/media/fix-a/144p/init.mp4");
our $Seg0 = read_file("$fx/media/fix-a/144p/0.m4s");
our @St = stat("$fx/media/fix-a/144p/0.m4s");
our $Etag = sprintf('"%x-%x"', $St[9], $St[7]);

my $defaults = feed_defaults(
    no_error_log => "[error]\n[crit]\n[alert]\n");
add_block_preprocessor(sub { $defaults->(@_) });

no_shuffle();
run_tests();

__DATA__

=== TEST 1: master playlist: one stream per rendition, from the catalog
--- request
GET /v/fix-a/master.m3u8
--- response_headers
Content-Type: application/vnd.apple.mpegurl
--- response_body_like eval
qr{\A#EXTM3U
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=\d+,RESOLUTION=144x256,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"
144p/index\.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=\d+,RESOLUTION=180x320,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"
180p/index\.m3u8
\z}



=== TEST 2: media playlist: version 7, VOD, map, exact durations, endlist
--- request
GET /v/fix-a/144p/index.m3u8
--- response_headers
Content-Type: application/vnd.apple.mpegurl
--- response_body_like eval
qr{\A#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init\.mp4"
#EXTINF:1\.\d{6},
0\.m4s
(#EXTINF:\d\.\d{6},
\d+\.m4s
)+#EXT-X-ENDLIST
\z}



=== TEST 3: media playlist durations are the catalog's, to the microsecond
--- request
GET /v/fix-b/180p/index.m3u8
--- response_body_like eval
use JSON::PP;
my ($line) = grep { /"id":"fix-b"/ }
    split /\n/, FeedTest::read_file("$ENV{TEST_NGINX_FIXTURES}/catalog.jsonl");
my $clip = JSON::PP->new->decode($line);
my ($r) = grep { $_->{name} eq '180p' } @{ $clip->{renditions} };
my $i = 0;
my $re = CORE::join '', map {
    sprintf("#EXTINF:%.6f,\n%d\\.m4s\n", $_, $i++)
} @{ $r->{segments} };
qr{\Q#EXT-X-MAP:URI="init.mp4"\E\n$re#EXT-X-ENDLIST\n\z};



=== TEST 4: init segment from disk, with its type and validators
--- request
GET /v/fix-a/144p/init.mp4
--- response_headers_like
Content-Type: video/mp4
Last-Modified: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT
ETag: "[0-9a-f]+-[0-9a-f]+"
Accept-Ranges: bytes
--- response_body eval
$main::Init



=== TEST 5: media segment, byte for byte
--- request
GET /v/fix-a/144p/0.m4s
--- response_headers
Content-Type: video/iso.segment
--- response_body eval
$main::Seg0



=== TEST 6: byte range
--- request
GET /v/fix-a/144p/0.m4s
--- more_headers
Range: bytes=0-99
--- error_code: 206
--- response_headers eval
"Content-Range: bytes 0-99/" . length($main::Seg0)
--- response_body eval
substr($main::Seg0, 0, 100)



=== TEST 7: suffix range
--- request
GET /v/fix-a/144p/0.m4s
--- more_headers
Range: bytes=-10
--- error_code: 206
--- response_body eval
substr($main::Seg0, -10)



=== TEST 8: unsatisfiable range
--- request
GET /v/fix-a/144p/0.m4s
--- more_headers
Range: bytes=99999999-
--- error_code: 416



=== TEST 9: conditional GET with the ETag
--- request
GET /v/fix-a/144p/0.m4s
--- more_headers eval
"If-None-Match: $main::Etag"
--- error_code: 304
--- response_body



=== TEST 10: HEAD sends headers only
--- request
HEAD /v/fix-a/144p/0.m4s
--- response_headers eval
"Content-Length: " . length($main::Seg0)
--- response_body



=== TEST 11: CORS header when configured
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        feed_cors *;
    }
--- request
GET /v/fix-a/master.m3u8
--- response_headers
Access-Control-Allow-Origin: *



=== TEST 12: CORS preflight
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        feed_cors https://app.example;
    }
--- request
OPTIONS /v/fix-a/144p/0.m4s
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example
Access-Control-Allow-Methods: GET, HEAD, OPTIONS
Access-Control-Allow-Headers: Range



=== TEST 13: no CORS header by default
--- request
GET /v/fix-a/master.m3u8
--- response_headers
!Access-Control-Allow-Origin



=== TEST 14: a location without a trailing slash
--- config
    location /media {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
    }
--- request
GET /media/fix-b/master.m3u8
--- response_body_like
^#EXTM3U



=== TEST 15: feed_media_root inherited from the server level
--- config
    feed_media_root $TEST_NGINX_FIXTURES/media;
    location /v/ {
        feed_media;
    }
--- request
GET /v/fix-b/180p/init.mp4
--- error_code: 200



=== TEST 16: HEAD on a playlist: headers with the length, no body
--- request
HEAD /v/fix-a/master.m3u8
--- response_headers
Content-Type: application/vnd.apple.mpegurl
--- response_headers_like
Content-Length: [1-9]\d*
--- response_body
