# Plain responses, headers and request building against stock nginx.

use Test::Nginx::Socket;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 2 + 4);

run_tests();

__DATA__

=== TEST 1: return with a body
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request
GET /t
--- response_body
hello



=== TEST 2: status code and no body check
--- config
    location = /t {
        return 404;
    }
--- request
GET /t
--- error_code: 404
--- response_body_like: 404 Not Found



=== TEST 3: response headers, absent and empty
--- config
    location = /t {
        add_header X-Foo "bar" always;
        return 200 "ok";
    }
--- request
GET /t
--- response_headers
X-Foo: bar
!X-Missing
X-Empty:
--- response_body chomp
ok



=== TEST 4: request body gets a Content-Length
--- config
    location = /t {
        return 200 "len=$http_content_length ct=$http_content_type\n";
    }
--- request
POST /t
hello world
--- more_headers
Content-Type: text/x-test
--- response_body
len=11 ct=text/x-test



=== TEST 5: request eval; Host from more_headers replaces the default
--- config
    location = /t {
        return 200 "$host $request_method $content_length\n";
    }
    location = /echo {
        # proxy_pass reads the body first, so it is known when
        # add_header runs
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t;
        proxy_set_header Host $host;
        add_header X-Body "[$request_body]";
    }
--- more_headers
Host: example.test
--- request eval
"PUT /echo\n" . "x" x 10
--- response_headers
X-Body: [xxxxxxxxxx]
--- response_body
example.test PUT 10
