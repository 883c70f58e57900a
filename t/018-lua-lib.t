# The lua/ library's example hooks: a freshness boost, the calm feed
# guardrail, a local-creator boost keyed on a request header.

use strict;
use warnings;

use lib 't/lib';
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use Test::Nginx::Socket 'no_plan';
use FeedTest;

my $fx = feed_fixtures();
my $dir = tempdir('feed-lua-lib-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($catalog) = feed_topic_catalog($dir);

# topic1 is divisive; topic2 was uploaded ten minutes ago

my $now = time();
my $lines = read_file($catalog);
$lines =~ s/"tags":\["topic1"\]/"tags":["topic1","divisive"]/g;
$lines =~ s/("created":)\d+(,[^\n]*"tags":\["topic2"\])/$1 . ($now - 600) . $2/ge;
write_file($catalog, $lines);

$ENV{TEST_NGINX_FEED_DIR} = $dir;
$ENV{TEST_NGINX_LUA_DIR} = abs_path('lua');

# under valgrind a hook runs tens of times slower: the default limit
# would stop healthy hooks (the tests of the limit set their own)

$ENV{TEST_NGINX_LUA_TIME_LIMIT} = $ENV{TEST_NGINX_USE_VALGRIND} ? '5s' : '10ms';

# the random source's share of 1000 candidates covers the whole catalog:
# a hook sees every clip, so its page does not depend on the draw

my $http = <<'EOF';
    feed_lua_time_limit $TEST_NGINX_LUA_TIME_LIMIT;
    feed_catalog      $TEST_NGINX_FEED_DIR/catalog.jsonl;
    feed_secret_file  $TEST_NGINX_FIXTURES/secret.key;
    feed_state_zone   viewers:4m;
    feed_explore_share 0;
    feed_zeitgeist_share 0;
    feed_candidates 1000;
    feed_source random 1;
    feed_score freshness off;
    feed_lua_package_path "$TEST_NGINX_LUA_DIR/?.lua";
EOF

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $http)
        unless defined $block->http_config;
    $block->set_value('no_error_log', "[alert]\n[crit]\n[emerg]\n[error]\n")
        unless defined $block->no_error_log;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: freshness: the new clips lead, boosted by up to the weight
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            return require("feed.freshness").hook{ weight = 5,
                                                   half_life = 3600 }
        }
    }
--- request
GET /feed
--- response_body_like eval
qr/\A\{"page":1,"count":10,"items":\[\{"id":"t2-\d+"[^\n]*?"score":[45]\.\d+,/



=== TEST 2: freshness: clips older than max_age get nothing
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            local fresh = require("feed.freshness").hook{ weight = 5,
                                                          max_age = 60 }
            return function(c, ctx)
                local before = c.score[1]
                fresh(c, ctx)
                print("unchanged: ", c.score[1] == before)
                return c.score
            end
        }
    }
--- request
GET /feed
--- response_body_like eval
qr/"count":10,/
--- error_log
unchanged: true
--- no_error_log
unchanged: false
[error]



=== TEST 3: calm feed: divisive clips sink for a viewer who never engaged
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            local util = require "feed.util"
            local calm = require("feed.calm").hook{ tags = { "divisive" },
                                                    penalty = 1.0 }
            -- a competing boost that would put topic1 first without it
            local function boost(c)
                for i = 1, c.n do
                    if c.tags[i][1] == "topic1" then
                        c.score[i] = c.score[i] + 0.5
                    end
                end
                return c.score
            end
            return util.chain(boost, calm)
        }
    }
--- request
GET /feed
--- response_body_like eval
qr/\A\{"page":1,"count":10,"items":\[\{"id":"t[02]-/
--- response_body_unlike
"divisive"



=== TEST 4: calm feed with drop = true: none on the page at all
--- config
    location = /feed {
        feed_manifest;
        feed_candidates 60;
        feed_rank_by_lua_block {
            return require("feed.calm").hook{ drop = true }
        }
    }
--- request
GET /feed?n=50
--- response_body_like eval
qr/"count":\d+,/
--- response_body_unlike
"divisive"



=== TEST 5: local creators: the header's city boosts its creators
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            return require("feed.local_creator").hook{
                header = "x-feed-city",
                creators = { Lisbon = { "c3", "c7" } },
                boost = 10 }
        }
    }
--- request
GET /feed
--- more_headers
X-Feed-City: LISBON
--- response_body_like eval
qr/\A\{"page":1,"count":10,"items":\[\{"id":"t\d-\d+"[^\n]*?"creator":"c[37]"[^\n]*?"score":1\d\.\d+,/



=== TEST 6: local creators: by tag, and no header means no opinion
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            local hook = require("feed.local_creator").hook{
                tag_prefix = "topic", boost = 10 }
            return function(c, ctx)
                local r = hook(c, ctx)
                print("local: ", r == nil and "none" or "boosted")
                return r
            end
        }
    }
--- request eval
["GET /feed"]
--- more_headers
X-Feed-City: 0
--- response_body_like eval
[qr/\A\{"page":1,"count":10,"items":\[\{"id":"t0-\d+"[^\n]*?"score":1\d\.\d+,/]
--- error_log
local: boosted



=== TEST 7: local creators: without the header the C scores stand
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            local hook = require("feed.local_creator").hook{
                tag_prefix = "topic", boost = 10 }
            return function(c, ctx)
                local r = hook(c, ctx)
                print("local: ", r == nil and "none" or "boosted")
                return r
            end
        }
    }
--- request
GET /feed
--- response_body_unlike
"score":1\d\.
--- error_log
local: none
