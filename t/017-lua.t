# feed_rank_by_lua: hooks reorder and drop candidates, keep state per
# worker, and never take the feed down: errors, endless loops, memory
# bombs, NaN and malformed results are logged and counted, and the page
# is served with the C ranking.  Syntax errors fail nginx -t.

use strict;
use warnings;

use lib 't/lib';
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use Test::Nginx::Socket 'no_plan';
use FeedTest;

my $fx = feed_fixtures();
my $dir = tempdir('feed-lua-XXXXXX', TMPDIR => 1, CLEANUP => 1);
feed_topic_catalog($dir);

write_file("$dir/hook.lua", <<'EOF');
local boost = 50
return function(c, ctx)
    for i = 1, c.n do
        if c.tags[i][1] == "topic2" then
            c.score[i] = c.score[i] + boost
        end
    end
    return c.score
end
EOF

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
    feed_lua_memory_limit 4m;
    feed_candidates 1000;
    feed_source random 1;
EOF

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $http)
        unless defined $block->http_config;
    $block->set_value('no_error_log', "[alert]\n[crit]\n[emerg]\n")
        unless defined $block->no_error_log;
});

# a full page, served whatever the hook did
our $Page = qr/\A\{"page":1,"count":10,"items":\[\{"id":"t\d-\d+"/;

# a full page led by topic $t, mostly of it (spacing may take a few slots)
sub topic_page {
    my ($t) = @_;
    return qr/\A\{"page":1,"count":10,"items":\[\{"id":"t$t-\d+"(?:.*?"id":"t$t-){7}/s;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a hook reorders: topic0 first, with the hook's scores
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            return function(c, ctx)
                local s = {}
                for i = 1, c.n do
                    -- a } in a comment, "}" in a string: not the end
                    if string.match(c.id[i], "^t0%-") then
                        s[i] = 100 + c.score[i]
                    else
                        s[i] = c.score[i]
                    end
                end
                return s
            end
        }
    }
--- request
GET /feed
--- response_body_like eval
qr/\A\{"page":1,"count":10,"items":\[(\{"id":"t0-\d+"[^\n]*?"score":1\d\d\.\d+,[^\n]*){10}\]\}\n\z/
--- response_body_unlike
"id":"t[12]-



=== TEST 2: a hook drops candidates: false keeps a clip off the page
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            return function(c)
                for i = 1, c.n do
                    if c.tags[i][1] ~= "topic1" then
                        c.score[i] = false
                    end
                end
                return c.score
            end
        }
    }
--- request
GET /feed
--- response_body_like eval
qr/\A\{"page":1,"count":\d+,"items":\[\{"id":"t1-\d+"/
--- response_body_unlike
"id":"t[02]-



=== TEST 3: scores by clip id; unknown ids are ignored
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            return function(c)
                local r = { ["no-such-clip"] = 1000 }
                for i = 1, c.n do
                    local id = c.id[i]
                    if id:sub(1, 2) == "t1" then r[id] = 500 + c.score[i] end
                    if id:sub(1, 2) == "t2" then r[id] = false end
                end
                return r
            end
        }
    }
    location = /metrics { feed_status; }
--- request eval
["GET /feed", "GET /metrics"]
--- response_body_like eval
[qr/\A\{"page":1,"count":10,"items":\[\{"id":"t1-\d+"[^\n]*"score":5\d\d\./,
 qr/feed_lua_rejected_total\{reason="unknown_id"\} 1\n/]
--- response_body_unlike eval
[qr/"id":"t2-/, qr/^$/]



=== TEST 4a: strings continued with \z may hold a "}" on a later line
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            local s = "a\z
                       } b"
            return function(c)
                if s ~= "a} b" then error("bad string " .. s) end
                return c.score
            end
        }
    }
    location = /metrics { feed_status; }
--- request eval
["GET /feed", "GET /metrics"]
--- response_body_like eval
[qr/\A\{"page":1,"count":10,/,
 qr/feed_lua_calls_total \d+\n/]
--- response_body_unlike eval
[qr/^$/, qr/feed_lua_failures_total\{reason="error"\} [1-9]/]



=== TEST 4: module-level state persists across requests in a worker
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            local calls = 0
            return function(c, ctx)
                calls = calls + 1
                local want = "topic" .. (calls - 1) % 3
                for i = 1, c.n do
                    if c.tags[i][1] == want then
                        c.score[i] = c.score[i] + 100
                    end
                end
                return c.score
            end
        }
    }
--- request eval
["GET /feed", "GET /feed", "GET /feed"]
--- response_body_like eval
[main::topic_page(0),
 main::topic_page(1),
 main::topic_page(2)]



=== TEST 5: the candidates' fields and the request's context
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            return function(c, ctx)
                local i = 1
                print("fields: ", type(c.id[i]), " ", c.creator[i]:match("^c%d+$") ~= nil,
                      " ", c.sound[i]:match("^s%d+$") ~= nil, " ", c.tags[i][1]:match("^topic%d$") ~= nil,
                      " ", c.age[i] > 0, " ", c.duration[i], " ", c.reason[i],
                      " ", type(c.parts.similarity[i]), " ", type(c.parts.creator[i]),
                      " ", #c.id == c.n, " ", c.n > 50)
                print("ctx: ", ctx.args.who, " ", ctx.headers["x-city"], " ",
                      ctx.new_viewer, " ", #ctx.interests, " ", #ctx.liked,
                      " ", ctx.now > 1.7e9)
            end
        }
    }
--- request
GET /feed?who=bob%20jr&x=1
--- more_headers
X-City: Lisbon
--- response_body_like eval
$::Page
--- error_log
fields: string true true true true 3 personal number number true true
ctx: bob jr Lisbon true 0 0 true



=== TEST 6: a runtime error: logged with the hook's name and a traceback
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            local function helper(t) return t.missing.field end
            return function(c) local r = helper(c); return r end
        }
    }
--- request
GET /feed
--- response_body_like eval
$::Page
--- error_log eval
[qr/feed_rank_by_lua "[^"]*nginx.conf:\d+" raised an error in a call .*: [^\n]*nginx.conf:\d+: attempt to index field 'missing' \(a nil value\)/,
 qr/^stack traceback:$/,
 qr/^\t\S*nginx\.conf:\d+: in (function|upvalue) .helper/,
 "served with the C ranking"]



=== TEST 7: an endless loop is stopped at feed_lua_time_limit
--- config
    location = /feed {
        feed_manifest;
        feed_lua_time_limit 50ms;
        feed_rank_by_lua_block {
            return function(c) local x = 0 while true do x = x + 1 end end
        }
    }
--- request
GET /feed
--- response_body_like eval
$::Page
--- timeout: 2
--- error_log
ran past feed_lua_time_limit in a call
time limit of 50ms exceeded



=== TEST 8: a loop that catches its own errors is stopped too
--- config
    location = /feed {
        feed_manifest;
        feed_lua_time_limit 20ms;
        feed_rank_by_lua_block {
            return function(c)
                while true do
                    pcall(function() while true do end end)
                end
            end
        }
    }
--- request
GET /feed
--- response_body_like eval
$::Page
--- timeout: 2
--- error_log
ran past feed_lua_time_limit in a call



=== TEST 9: a memory bomb hits feed_lua_memory_limit
--- config
    location = /feed {
        feed_manifest;
        feed_lua_time_limit 5s;
        feed_rank_by_lua_block {
            return function(c)
                local t = {}
                for i = 1, 1e8 do t[i] = string.rep("x", 64) .. i end
            end
        }
    }
--- request
GET /feed
--- response_body_like eval
$::Page
--- timeout: 5
--- error_log
exhausted feed_lua_memory_limit in a call
not enough memory



=== TEST 10: after a memory bomb the VM serves on, its state kept
--- config
    location = /feed {
        feed_manifest;
        feed_lua_time_limit 5s;
        feed_rank_by_lua_block {
            local calls = 0
            return function(c)
                calls = calls + 1
                if calls == 1 then
                    local t = {}
                    for i = 1, 1e8 do t[i] = string.rep("x", 64) .. i end
                end
                for i = 1, c.n do
                    if c.tags[i][1] == "topic1" and calls == 2 then
                        c.score[i] = c.score[i] + 100
                    end
                end
                return c.score
            end
        }
    }
--- request eval
["GET /feed", "GET /feed"]
--- response_body_like eval
[$::Page, main::topic_page(1)]
--- timeout: 5



=== TEST 11: NaN and infinite scores keep the C score
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            return function(c)
                local s = {}
                for i = 1, c.n do
                    s[i] = (i % 3 == 0) and 1/0 or (i % 3 == 1) and 0/0 or 1e300
                end
                return s
            end
        }
    }
    location = /metrics { feed_status; }
--- request eval
["GET /feed", "GET /metrics"]
--- response_body_like eval
[$::Page, qr/feed_lua_rejected_total\{reason="nonfinite"\} [1-9]\d*\n/]
--- response_body_unlike eval
[qr/"score":(nan|inf|-nan|1e)/i, qr/^$/]



=== TEST 12: a result that is not a table is ignored as a whole
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block { return function(c) return "fast" end }
    }
--- request
GET /feed
--- response_body_like eval
$::Page
--- error_log
returned a string, not a table of scores



=== TEST 13: a table of the wrong length is ignored as a whole
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block { return function(c) return { 1, 2, 3 } end }
    }
--- request
GET /feed
--- response_body_like eval
$::Page
--- error_log eval
qr/returned a table of 3 entries for \d+ candidates .*result ignored/



=== TEST 14: a score of the wrong type is ignored with the whole result
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            return function(c) c.score[2] = "high"; return c.score end
        }
    }
--- request
GET /feed
--- response_body_like eval
$::Page
--- error_log
returned a string at index 2, not a number or false



=== TEST 15: the reduced library: no io, os, debug, ffi, jit, loadstring
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            return function()
                local ok = pcall(require, "ffi")
                print("sandbox: ", type(io), type(os), type(debug),
                      type(jit), type(loadstring), type(dofile), ok,
                      type(string.format))
            end
        }
    }
--- request
GET /feed
--- response_body_like eval
$::Page
--- error_log
sandbox: nilnilnilnilnilnilfalsefunction



=== TEST 16: a chunk that returns no function: the C ranking serves
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block { return 42 }
    }
    location = /metrics { feed_status; }
--- request eval
["GET /feed", "GET /metrics"]
--- response_body_like eval
[$::Page, qr/feed_lua_failures_total\{reason="unavailable"\} 1\n/]



=== TEST 17: feed_rank_by_lua_file, inherited from the server level
--- config
    feed_rank_by_lua_file $TEST_NGINX_FEED_DIR/hook.lua;
    location = /feed {
        feed_manifest;
    }
--- request
GET /feed
--- response_body_like eval
main::topic_page(2)



=== TEST 18: a syntax error fails nginx -t with the file and line
--- config
    location = /feed {
        feed_manifest;
        feed_rank_by_lua_block {
            return function(c)
                local x = = 1
            end
        }
    }
--- request
GET /feed
--- must_die
--- error_log eval
qr/\[emerg\] .*"feed_rank_by_lua_block": \S*nginx\.conf:\d+: unexpected symbol near '='/
--- no_error_log
[alert]
