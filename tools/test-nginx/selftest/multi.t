# Several requests per block: pipelined_requests, request arrays,
# per-request expectations; SKIP and LAST blocks.

use Test::Nginx::Socket 'no_plan';

repeat_each(2);

run_tests();

__DATA__

=== TEST 1: pipelined requests on one connection
--- config
    location = /a { return 200 "a:$connection_requests\n"; }
    location = /b { return 404; }
    location = /c { return 200 "c:$connection_requests\n"; }
--- pipelined_requests eval
["GET /a", "GET /b", "GET /c"]
--- error_code eval
[200, 404, 200]
--- response_body_like eval
["^a:1\n\\z", "404 Not Found", "^c:3\n\\z"]



=== TEST 2: pipelined, exact bodies, per-request more_headers
--- config
    location = /h { return 200 "[$http_x_n]\n"; }
--- pipelined_requests eval
["GET /h", "GET /h"]
--- more_headers eval
["X-N: one", "X-N: two"]
--- response_body eval
["[one]\n", "[two]\n"]
--- no_error_log
[error]



=== TEST 3: an array of requests uses one connection each
--- config
    location = /n { return 200 "$connection_requests $request_method\n"; }
--- request eval
["GET /n", "POST /n\nbody"]
--- response_body eval
["1 GET\n", "1 POST\n"]
--- response_headers eval
["Content-Type: text/plain", "Content-Type: text/plain"]



=== TEST 4: keep-alive on request: the client still reads to EOF
--- config
    keepalive_timeout 0;
    location = /k { return 200 "k\n"; }
--- request
GET /k
--- more_headers
Connection: keep-alive
--- response_body
k



=== TEST 5: timeout given in ms
--- config
    location = /t { return 200 "t\n"; }
--- timeout: 500ms
--- request
GET /t
--- response_body
t



=== TEST 6: skipped entirely
--- SKIP
--- config
    this would not even start;
--- request
GET /t



=== TEST 7: the last one run
--- LAST
--- config
    location = /t { return 200 "last\n"; }
--- request
GET /t
--- response_body
last



=== TEST 8: after LAST, never run
--- config
    this would not even start;
--- request
GET /t
