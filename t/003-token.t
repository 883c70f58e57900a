# Signed URLs: every feed_media request carries ?token=EXPIRES.SIG bound to
# the clip; playlists hand out valid tokens; the previous key still works.

use strict;
use warnings;

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FeedTest;

my $fx = feed_fixtures();
my $prev = feed_key("$fx/previous.key");

$ENV{TEST_NGINX_TOKEN_A} = feed_token('fix-a');
$ENV{TEST_NGINX_TOKEN_LONG} = feed_token('fix-a', expires => time() + 86400);
$ENV{TEST_NGINX_TOKEN_B} = feed_token('fix-b');
$ENV{TEST_NGINX_TOKEN_OLD} = feed_token('fix-a', key => $prev,
                                        expires => time() + 86400);
$ENV{TEST_NGINX_TOKEN_EXPIRED} = feed_token('fix-a',
                                            expires => time() - 1);
$ENV{TEST_NGINX_TOKEN_WRONG_KEY} = feed_token('fix-a',
    key => 'an attacker guessed this key!');

# short-lived tokens, of the current and of the previous key

our $ShortExp = time() + 30;
$ENV{TEST_NGINX_TOKEN_SHORT} = feed_token('fix-a', expires => $ShortExp);
$ENV{TEST_NGINX_TOKEN_SHORT_OLD} = feed_token('fix-a', expires => $ShortExp,
                                              key => $prev);

# a valid token with one signature character changed, and one whose
# expiry was pushed out without re-signing

($ENV{TEST_NGINX_TOKEN_TAMPERED} = $ENV{TEST_NGINX_TOKEN_A})
    =~ s/(.)\z/$1 eq 'A' ? 'B' : 'A'/e;
($ENV{TEST_NGINX_TOKEN_EXTENDED} = $ENV{TEST_NGINX_TOKEN_EXPIRED})
    =~ s/^(\d+)/$1 + 86400/e;

my $defaults = feed_defaults(
    http     => "    feed_secret_file $fx/secret.key $fx/previous.key;\n",
    location => "        feed_url_ttl 120s;\n");
add_block_preprocessor(sub { $defaults->(@_) });

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no token: 403
--- request
GET /v/fix-a/master.m3u8
--- error_code: 403
--- error_log
feed_media: missing token for clip "fix-a"



=== TEST 2: valid token: the master playlist, its URIs signed
--- request eval
"GET /v/fix-a/master.m3u8?token=$ENV{TEST_NGINX_TOKEN_A}"
--- error_code: 200
--- response_body_like eval
qr{^144p/index\.m3u8\?token=\d{10}\.[A-Za-z0-9_-]{43}$}m



=== TEST 3: media playlist: map and segments signed
--- request eval
"GET /v/fix-a/144p/index.m3u8?token=$ENV{TEST_NGINX_TOKEN_A}"
--- response_body_like eval
qr{#EXT-X-MAP:URI="init\.mp4\?token=\d{10}\.[A-Za-z0-9_-]{43}"\n#EXTINF:[\d.]+,\n0\.m4s\?token=\d{10}\.[A-Za-z0-9_-]{43}\n}



=== TEST 4: segment with a valid token
--- request eval
"GET /v/fix-a/144p/0.m4s?token=$ENV{TEST_NGINX_TOKEN_A}"
--- error_code: 200



=== TEST 5: expired token: 403
--- request eval
"GET /v/fix-a/144p/0.m4s?token=$ENV{TEST_NGINX_TOKEN_EXPIRED}"
--- error_code: 403
--- error_log
feed_media: expired token for clip "fix-a"



=== TEST 6: tampered signature: 403
--- request eval
"GET /v/fix-a/144p/0.m4s?token=$ENV{TEST_NGINX_TOKEN_TAMPERED}"
--- error_code: 403
--- error_log
feed_media: bad token signature for clip "fix-a"



=== TEST 7: expiry pushed out without re-signing: 403
--- request eval
"GET /v/fix-a/144p/0.m4s?token=$ENV{TEST_NGINX_TOKEN_EXTENDED}"
--- error_code: 403
--- error_log
bad token signature



=== TEST 8: signed with an unknown key: 403
--- request eval
"GET /v/fix-a/master.m3u8?token=$ENV{TEST_NGINX_TOKEN_WRONG_KEY}"
--- error_code: 403
--- error_log
bad token signature for clip "fix-a"



=== TEST 9: a token for another clip: 403
--- request eval
"GET /v/fix-a/master.m3u8?token=$ENV{TEST_NGINX_TOKEN_B}"
--- error_code: 403
--- error_log
bad token signature for clip "fix-a"



=== TEST 10: malformed tokens: 403, never 500
--- pipelined_requests eval
[
    "GET /v/fix-a/master.m3u8?token=",
    "GET /v/fix-a/master.m3u8?token=abc",
    "GET /v/fix-a/master.m3u8?token=0123456789.x",
    "GET /v/fix-a/master.m3u8?token=99999999999999999999999.aaaa",
    "GET /v/fix-a/master.m3u8?token=" . ("9" x 4000),
    "GET /v/fix-a/master.m3u8?token=%00%00",
]
--- error_code eval
[403, 403, 403, 403, 403, 403]
--- no_error_log
[crit]
[alert]



=== TEST 11: key rotation: a URL signed with the previous key still works
--- request eval
"GET /v/fix-a/144p/0.m4s?token=$ENV{TEST_NGINX_TOKEN_OLD}"
--- error_code: 200



=== TEST 12: without the previous key, the old URL is refused
--- http_config
    feed_catalog $TEST_NGINX_FIXTURES/catalog.jsonl;
    feed_secret_file $TEST_NGINX_FIXTURES/secret.key;
--- request eval
"GET /v/fix-a/144p/0.m4s?token=$ENV{TEST_NGINX_TOKEN_OLD}"
--- error_code: 403
--- error_log
bad token signature for clip "fix-a"



=== TEST 13: a playlist hands out tokens signed with the current key
--- request eval
"GET /v/fix-a/master.m3u8?token=$ENV{TEST_NGINX_TOKEN_OLD}"
--- response_body_like eval
my $t = time();
my $alt = CORE::join '|', map { quotemeta FeedTest::feed_token('fix-a', expires => $_) }
    grep { $_ % 60 == 0 } $t + 110 .. $t + 900;
qr{^144p/index\.m3u8\?token=(?:$alt)$}m



=== TEST 14: the token's expiry is feed_url_ttl from now, rounded up to a minute
--- request eval
"GET /v/fix-a/master.m3u8?token=$ENV{TEST_NGINX_TOKEN_LONG}"
--- response_body_like eval
# the expectation may be computed a while before the request is sent:
# allow for that, not for a ttl other than 120 s
my $t = time();
my $alt = CORE::join '|', map { quotemeta FeedTest::feed_token('fix-a', expires => $_) }
    grep { $_ % 60 == 0 } $t + 120 .. $t + 900;
qr{^144p/index\.m3u8\?token=(?:$alt)$}m



=== TEST 15: a playlist never hands out a token that outlives its own
--- request eval
"GET /v/fix-a/master.m3u8?token=$ENV{TEST_NGINX_TOKEN_SHORT}"
--- response_body_like eval
my $t = quotemeta FeedTest::feed_token('fix-a', expires => $main::ShortExp);
qr{^144p/index\.m3u8\?token=$t$}m



=== TEST 16: a token of the previous key is re-signed, not extended
--- request eval
"GET /v/fix-a/144p/index.m3u8?token=$ENV{TEST_NGINX_TOKEN_SHORT_OLD}"
--- response_body_like eval
my $t = quotemeta FeedTest::feed_token('fix-a', expires => $main::ShortExp);
qr{^0\.m4s\?token=$t$}m



=== TEST 17: without a token, an unknown clip looks like a known one
--- request
GET /v/no-such-clip/master.m3u8
--- error_code: 403
--- error_log
feed_media: missing token for clip "no-such-clip"



=== TEST 18: CORS headers on a refusal too, so the player can read it
--- config
    location /v/ {
        feed_media;
        feed_media_root $TEST_NGINX_FIXTURES/media;
        feed_cors *;
    }
--- request
GET /v/fix-a/master.m3u8
--- error_code: 403
--- response_headers
Access-Control-Allow-Origin: *
