# error_log / no_error_log / grep_error_log, must_die, log levels, wait.

use Test::Nginx::Socket;

repeat_each(2);

plan tests => repeat_each() * 21;

run_tests();

__DATA__

=== TEST 1: error_log substrings, one per line; no_error_log
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- error_log
http request line: "GET /t HTTP/1.1"
http uri: "/t"
--- no_error_log
[error]
[alert]



=== TEST 2: eval'd patterns: qr// and an array of both kinds
--- config
    location /missing {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
--- request
GET /missing/nothing.html
--- error_code: 404
--- error_log eval
[qr/\[error\] \d+#\d+: \*\d+ open\(\) "[^"]+nothing\.html" failed/,
 "No such file or directory"]
--- no_error_log eval
qr/\[(alert|crit|emerg)\]/



=== TEST 3: log_level per block keeps debug lines out
--- config
    location = /t {
        return 200 "ok\n";
    }
--- log_level: info
--- request
GET /t
--- no_error_log
[debug]



=== TEST 4: grep_error_log picks matches out of the log
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t?x=1
--- grep_error_log eval: qr/http args: "[^"]*"/
--- grep_error_log_out
http args: "x=1"



=== TEST 5: must_die: config error reported on stderr is matched
--- config
    location = /t {
        return a b c;
    }
--- must_die
--- error_log
[emerg]
invalid number of arguments in "return" directive
--- no_error_log
[alert]



=== TEST 6: must_die with an exit code
--- config
    no_such_directive on;
--- must_die: 1
--- error_log eval
qr/\[emerg\] .*unknown directive "no_such_directive"/



=== TEST 7: wait, then the error log is read
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- wait: 0.05
--- error_log
http finalize request: 0, "/t?" a:1, c:1
