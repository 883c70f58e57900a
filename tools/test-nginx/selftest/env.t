# $TEST_NGINX_* substitution, settings functions, preprocessors, skips.

use Test::Nginx::Socket;

$ENV{TEST_NGINX_GREETING} = 'hi there';
$ENV{TEST_NGINX_MY_HEADER} = 'X-Selftest';

env_to_nginx('TEST_NGINX_GREETING');
master_on();
workers(2);
worker_connections(128);
log_level('info');
no_long_string();

# Every block gets a location that tells how it was preprocessed.
add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->config && !defined $block->skip_eval) {
        $block->set_value('config', <<'_EOC_');
    location = /pre {
        return 200 "preprocessed\n";
    }
_EOC_
    }
});

plan tests => repeat_each() * (blocks() * 2 + 3);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: substitution in config, http_config, main_config
--- main_config
    env TEST_NGINX_GREETING;
--- http_config
    map $uri $port_seen {
        default "$TEST_NGINX_SERVER_PORT";
    }
--- config
    location = /t {
        add_header X-Greeting "$TEST_NGINX_GREETING";
        return 200 "port=$port_seen root=$TEST_NGINX_SERVER_ROOT\n";
    }
--- request
GET /t
--- response_headers
X-Greeting: hi there
--- response_body
port=$TEST_NGINX_SERVER_PORT root=$TEST_NGINX_SERVER_ROOT



=== TEST 2: substitution in user_files, but not in request or more_headers
--- config
    location = /echo {
        return 200 "[$http_x_selftest] [$arg_p]\n";
    }
--- user_files
>>> greet.txt
$TEST_NGINX_GREETING
--- more_headers
X-Selftest: $TEST_NGINX_SERVER_PORT
--- request
GET /echo?p=$TEST_NGINX_SERVER_PORT
--- response_body_like eval
qr/^\[\x24TEST_NGINX_SERVER_PORT\] \[\x24TEST_NGINX_SERVER_PORT\]$/



=== TEST 3: proxying to ourselves and to a random free port
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            return 200 "backend on $server_port\n";
        }
    }
--- config
    location = /self {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/greet.txt;
    }
    location = /rand {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
    }
--- user_files
>>> greet.txt
$TEST_NGINX_GREETING
--- pipelined_requests eval
["GET /self", "GET /rand"]
--- response_body_like eval
["^hi there\n\\z", "^backend on \\d+\n\\z"]



=== TEST 4: add_block_preprocessor supplies the config
--- request
GET /pre
--- response_body
preprocessed



=== TEST 5: startup warnings (printed before error.log is opened) are seen
--- http_config
    types {
        text/plain sttest;
        text/html  sttest;
    }
--- config
--- request
GET /
--- error_log
duplicate extension "sttest"



=== TEST 6: skip_nginx skips on an nginx that is too old
--- skip_nginx: 2: < 999.0.0
--- config
    location = /t { return 500; }
--- request
GET /t



=== TEST 7: skip_eval
--- skip_eval: 2: 1
--- request
GET /never



=== TEST 8: master process with two workers is up
--- config
    location = /t {
        return 200 "$pid\n";
    }
--- request
GET /t
--- response_body_like: ^\d+$
