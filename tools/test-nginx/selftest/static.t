# Static files from --- user_files, chunked responses, HEAD, raw requests.

use Test::Nginx::Socket;

repeat_each(1);

plan tests => repeat_each() * (blocks() * 2 + 6);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: user file served by the default root location
--- config
--- user_files
>>> hello.txt
Hello, world
--- request
GET /hello.txt
--- response_body
Hello, world
--- response_headers
Content-Length: 13



=== TEST 2: user files in subdirectories, several files, mtime
--- config
--- user_files
>>> a/b/c.txt 201001020304.05
deep
>>> top.txt
top
--- request
GET /a/b/c.txt
--- response_headers
Last-Modified: Sat, 02 Jan 2010 03:04:05 GMT
--- response_body
deep



=== TEST 3: the default index page
--- config
--- request
GET /
--- response_body_like: It works!



=== TEST 4: chunked response (sub_filter drops the Content-Length)
--- config
    location /sub/ {
        alias $TEST_NGINX_SERVER_ROOT/html/;
        sub_filter 'foo' 'bar';
        sub_filter_once off;
        sub_filter_types text/plain;
    }
--- user_files
>>> f.txt
foo foo
foo
--- request
GET /sub/f.txt
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
bar bar
bar



=== TEST 5: HEAD has headers but no body
--- config
--- user_files
>>> h.txt
some content
--- request
HEAD /h.txt
--- response_headers
Content-Length: 13
--- response_body



=== TEST 6: HTTP/1.0 request line is kept
--- config
    location = /t {
        return 200 "$server_protocol $request_method $request_uri\n";
    }
--- request
GET /t?a=1 HTTP/1.0
--- response_body
HTTP/1.0 GET /t?a=1



=== TEST 7: raw_request is sent as is
--- config
    location = /t {
        return 200 "host=$host\n";
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: raw.example\r\nConnection: close\r\n\r\n"
--- response_body
host=raw.example



=== TEST 8: raw_request in packets with a delay in between
--- config
    location = /t {
        return 200 "ok\n";
    }
--- raw_request eval
["GET /t HTTP/1.1\r\n", "Host: localhost\r\nConnection: close\r\n\r\n"]
--- raw_request_middle_delay: 0.01
--- response_body
ok



=== TEST 9: redirect, response_headers_like, multi-line response_body_like
--- config
    location = /t {
        return 302 /elsewhere;
    }
--- request
GET /t
--- error_code: 302
--- response_headers_like
Location: http://localhost(:\d+)?/elsewhere
--- response_body_like chomp
^<html>.*302 Found.*</html>\s*$
