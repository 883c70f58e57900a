# File-wide settings: no_root_location, master_off, check_accum_error_log,
# timeout, and the getters.

use Test::Nginx::Socket;

master_on();
master_off();
no_root_location();
check_accum_error_log();
timeout(2);

plan tests => repeat_each() * (blocks() * 2 + 4) + 5;

is(master_process_enabled(), 'off', 'master_off() wins over master_on()');
is(timeout(), 2, 'timeout() getter');
is(server_port(), $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984,
   'server_port() default');
like(html_dir(), qr{/html$}, 'html_dir() is under the server root');
is($ENV{TEST_NGINX_SERVER_ROOT}, server_root(), 'TEST_NGINX_SERVER_ROOT set');

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no root location, so the block may define its own
--- config
    location / {
        return 200 "mine\n";
    }
--- request
GET /
--- response_body
mine



=== TEST 2: accumulated error log: each pipelined check sees all lines
--- config
    location = /a { return 200 "a\n"; }
--- pipelined_requests eval
["GET /a", "GET /a?second"]
--- response_body eval
["a\n", "a\n"]
--- error_log
http request line: "GET /a HTTP/1.1"
