# Hostile clients: a scripted battery of malformed requests against every
# location the module serves (bad methods, huge headers, invalid UTF-8,
# percent-encoding tricks, oversized and truncated bodies, slow clients,
# forged tokens).  Every answer is a clean 4xx (or, for a client that
# stops sending, a closed connection), no worker dies, and the error log
# has no alert, crit or emerg line.

use strict;
use warnings;

use lib 't/lib';
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;

my $ngx = nginx_start(
    port    => $port,
    workers => 2,
    http    => "    feed_catalog $fx/remix.jsonl;\n"
               . "    feed_secret_file $fx/secret.key;\n"
               . "    feed_state_zone viewers:4m;\n"
               . "    feed_cache_zone hot:4m;\n"
               . "    client_header_timeout 1s;\n"
               . "    client_body_timeout 1s;\n",
    server  => "        location /v/ { feed_media; "
               . "feed_media_root $fx/media; feed_cache hot; }\n"
               . "        location = /feed { feed_manifest; }\n"
               . "        location = /feed/events { feed_events; "
               . "feed_events_max_body 4k; }\n"
               . "        location = /feed/status { feed_status; }\n"
               . "        location = /feed/remixes { feed_remixes; }\n"
               . "        location = /feed/sound { feed_sound; }\n"
               . "        location = /feed/playlist.m3u8 { feed_playlist; }\n",
);

sub workers {
    my $master = $ngx->{pid};
    my @w = map { /^\s*(\d+)\s+(\d+)/ && $2 == $master ? $1 : () }
            `ps -eo pid,ppid`;
    return join ',', sort @w;
}

# Sends raw bytes (in pieces with pauses when given an array), returns
# the status of the answer, or 'closed' when the server closed without
# one.

sub raw {
    my ($data, %opt) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5)
        or die "connect: $!\n";
    $s->autoflush(1);

    for my $piece (ref $data ? @$data : ($data)) {
        if ($piece =~ /^SLEEP (\S+)$/) {
            sleep $1;
            next;
        }

        local $SIG{PIPE} = 'IGNORE';
        last unless print $s $piece;
    }

    shutdown($s, 1) if $opt{half_close};

    my $resp = '';
    my $deadline = time() + 5;

    while (time() < $deadline) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $resp .= $buf;
        last if $resp =~ /\r\n\r\n/ && !$opt{whole};
    }

    close $s;

    return $resp =~ m{^HTTP/1\.[01] (\d{3})} ? $1 : 'closed';
}

my @cases;     # [ name, request, allowed statuses (regex) ]

sub req {
    my ($method, $uri, %h) = @_;

    my $body = delete $h{_body};
    my $version = delete $h{_version} // 'HTTP/1.1';
    my $r = "$method $uri $version\r\n";
    $r .= "Host: localhost\r\n" unless exists $h{Host};
    $r .= "Connection: close\r\n";
    $r .= "$_: $h{$_}\r\n" for grep { defined $h{$_} } sort keys %h;
    $r .= "Content-Length: " . length($body) . "\r\n"
        if defined $body && !exists $h{'Content-Length'}
           && !exists $h{'Transfer-Encoding'};
    $r .= "\r\n";
    $r .= $body if defined $body;

    return $r;
}

my $token = feed_token('fix-a');
my $expired = feed_token('fix-a', expires => time() - 60);
my $other = feed_token('fix-b');
(my $flipped = $token) =~ s/.$/$& eq 'A' ? 'B' : 'A'/e;

my %get = (
    '/v/fix-a/master.m3u8'           => 'media',
    '/v/fix-a/180p/index.m3u8'       => 'media',
    '/v/fix-a/180p/0.m4s'            => 'media',
    '/feed'                          => 'feed',
    '/feed/remixes'                  => 'feed',
    '/feed/sound'                    => 'feed',
    '/feed/playlist.m3u8'            => 'feed',
    '/feed/status'                   => 'status',
);

# 1. methods: every location, every method it does not take

for my $uri (sort keys %get, '/feed/events') {
    for my $m (qw(PUT DELETE PATCH TRACE PROPFIND MKCOL LOCK)) {
        push @cases, [ "$m $uri", req($m, $uri), qr/^4\d\d$/ ];
    }

    push @cases, [ "POST $uri", req('POST', $uri, _body => '{}'),
                   qr/^4\d\d$/ ] unless $uri eq '/feed/events';
    push @cases, [ "GET $uri", req('GET', $uri), qr/^4\d\d$/ ]
        if $uri eq '/feed/events';
    push @cases, [ "lower-case get $uri", req('get', $uri), qr/^400$/ ];
    push @cases, [ "no Host, HTTP/1.1, $uri", req('GET', $uri, Host => undef),
                   qr/^400$/ ];
    push @cases, [ "bad version $uri", req('GET', $uri, _version => 'HTTP/9.9'),
                   qr/^(400|505)$/ ];
}

# 2. media URIs: traversal, encodings, bad names, bad tokens (double
#    slashes are not here: nginx merges them, and the clip is served)

for my $u ('/v/..%2f..%2fetc/passwd', '/v/%2e%2e/%2e%2e/etc/passwd',
           '/v/fix-a/%2e%2e/fix-b/master.m3u8', '/v/fix-a/../../x',
           '/v/fix-a%00/master.m3u8', '/v/fix-a/master.m3u8%00.txt',
           '/v/fix-a/180p/0.m4s%2500', '/v/%c0%ae%c0%ae/x', '/v/%ZZ/x',
           '/v/fix-a/180p/00.m4s', '/v/fix-a/180p/-1.m4s',
           '/v/fix-a/180p/99999.m4s', '/v/fix-a/180p/1.m4s.bak',
           '/v/fix-a/180p/init.mp4/', '/v/fix-a/1080p/index.m3u8',
           '/v/fix-\xff\xfe/master.m3u8', '/v/' . ('a' x 65) . '/master.m3u8',
           '/v/fix-a/' . ('r' x 33) . '/index.m3u8', '/v/fix-a/180p/1e3.m4s',
           '/v/fix-a/180p/+1.m4s', '/v/fix-a/Master.m3u8')
{
    push @cases, [ "media URI $u", req('GET', "$u?token=$token"),
                   qr/^4\d\d$/ ];
}

for my $t ('', 'x', $expired, $other, $flipped, "$token$token",
           '0.AAAA', '99999999999.' . ('A' x 43), '-1.' . ('A' x 43),
           ('9' x 30) . '.x', "$token%00", "%00$token",
           '1700000000.' . ('_' x 43))
{
    for my $f ('master.m3u8', '180p/index.m3u8', '180p/0.m4s',
               '180p/init.mp4')
    {
        push @cases, [ "token '$t' on $f",
                       req('GET', "/v/fix-a/$f?token=$t"), qr/^403$/ ];
    }
}

# 3. query arguments of the feed locations

for my $q ('n=0', 'n=-1', 'n=51', 'n=abc', 'n=1e3', 'n=99999999999999999999',
           'n=%31', 'n=')
{
    for my $uri ('/feed', '/feed/playlist.m3u8') {
        push @cases, [ "$uri?$q", req('GET', "$uri?$q"), qr/^400$/ ];
    }
}

push @cases,
    [ 'remixes without clip', req('GET', '/feed/remixes'), qr/^400$/ ],
    [ 'remixes empty clip', req('GET', '/feed/remixes?clip='), qr/^400$/ ],
    [ 'remixes unknown clip', req('GET', '/feed/remixes?clip=nope'),
      qr/^404$/ ],
    [ 'remixes traversal', req('GET', '/feed/remixes?clip=../fix-a'),
      qr/^404$/ ],
    [ 'remixes NUL', req('GET', '/feed/remixes?clip=fix-a%00'), qr/^404$/ ],
    [ 'remixes long', req('GET', '/feed/remixes?clip=' . ('x' x 3000)),
      qr/^404$/ ],
    [ 'sound without name', req('GET', '/feed/sound'), qr/^400$/ ],
    [ 'sound long', req('GET', '/feed/sound?sound=' . ('s' x 65)),
      qr/^404$/ ],
    [ 'sound unknown', req('GET', '/feed/sound?sound=%ff%fe'), qr/^404$/ ],
    [ 'sound n=0', req('GET', '/feed/sound?sound=tone-440&n=0'), qr/^400$/ ];

for my $p ('x', '', '1500000', '0.fix-a', '1500000.fix-a',
           '1500000..fix-a', ('1.' . join('.', ('fix-a') x 600)),
           '1500000.fix-a%00', '%ff%fe')
{
    for my $t ('', 'junk', $token, '1700000000.' . ('A' x 43)) {
        push @cases, [ "playlist page '" . substr($p, 0, 20) . "' token '"
                       . substr($t, 0, 12) . "'",
                       req('GET', "/feed/playlist.m3u8?page=$p&token=$t"),
                       qr/^4\d\d$/ ];
    }
}

# 4. headers: huge, many, broken cookies

for my $uri ('/feed', '/v/fix-a/master.m3u8', '/feed/events') {
    push @cases,
        [ "huge header $uri", req('GET', $uri, 'X-Big' => 'x' x 20000),
          qr/^4\d\d$/ ],
        [ "huge cookie $uri", req('GET', $uri, Cookie => 'feed_sid=' . 'a' x 20000),
          qr/^4\d\d$/ ],
        [ "header without colon $uri",
          "GET $uri HTTP/1.1\r\nHost: localhost\r\nBroken header\r\n\r\n",
          qr/^400$/ ],
        [ "header with NUL $uri",
          "GET $uri HTTP/1.1\r\nHost: localhost\r\nX-A: a\0b\r\n\r\n",
          qr/^400$/ ],
        [ "request line with raw 0xff $uri",
          "GET $uri\xff HTTP/1.1\r\nHost: localhost\r\n\r\n", qr/^4\d\d$/ ];
}

# 5. bodies of the events location

my $jar = {};
my ($st) = http_request($port, 'GET', '/feed', jar => $jar);
my $cookie = "feed_sid=$jar->{feed_sid}";

my @bodies = (
    [ 'not JSON', 'hello' ],
    [ 'truncated JSON', '{"events":[{"impression":"x"' ],
    [ 'JSON number', '42' ],
    [ 'JSON string', '"events"' ],
    [ 'null', 'null' ],
    [ 'events not an array', '{"events":{}}' ],
    [ 'invalid UTF-8', qq({"events":[{"impression":"\xff\xfe","watch_ms":1}]}) ],
    [ 'overlong UTF-8', qq({"events":[{"impression":"\xc0\xaf"}]}) ],
    [ 'NUL byte', qq({"events":[{"impression":"a\0b"}]}) ],
    [ 'deep nesting', ('[' x 5000) . (']' x 5000) ],
    [ 'NaN', '{"events":[{"impression":"x","watch_ms":NaN}]}' ],
    [ 'Infinity', '{"events":[{"impression":"x","watch_ms":Infinity}]}' ],
    [ 'trailing garbage', '{"events":[]} xyz' ],
    [ 'two documents', '{"events":[]}{"events":[]}' ],
    [ 'too many events', '{"events":[' . join(',', ('{}') x 101) . ']}' ],
    [ 'BOM', "\xef\xbb\xbf{\"events\":[]}" ],
);

for my $b (@bodies) {
    push @cases, [ "events body: $b->[0]",
                   req('POST', '/feed/events', Cookie => $cookie,
                       'Content-Type' => 'application/json',
                       _body => $b->[1]),
                   qr/^4\d\d$/ ];
}

push @cases,
    [ 'events: oversized body',
      req('POST', '/feed/events', Cookie => $cookie,
          _body => '{"events":[' . ('{},' x 3000) . '{}]}'), qr/^413$/ ],
    [ 'events: Content-Length past the limit, no body sent',
      req('POST', '/feed/events', Cookie => $cookie,
          'Content-Length' => 100000000), qr/^413$/ ],
    [ 'events: negative Content-Length',
      req('POST', '/feed/events', Cookie => $cookie,
          'Content-Length' => -1), qr/^400$/ ],
    [ 'events: Content-Length not a number',
      req('POST', '/feed/events', Cookie => $cookie,
          'Content-Length' => 'ten'), qr/^400$/ ],
    [ 'events: two Content-Lengths',
      "POST /feed/events HTTP/1.1\r\nHost: localhost\r\nCookie: $cookie\r\n"
      . "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", qr/^400$/ ],
    [ 'events: bad chunked body',
      req('POST', '/feed/events', Cookie => $cookie,
          'Transfer-Encoding' => 'chunked', _body => "zz\r\n{}\r\n0\r\n\r\n"),
      qr/^400$/ ],
    [ 'events: chunked and Content-Length',
      "POST /feed/events HTTP/1.1\r\nHost: localhost\r\nCookie: $cookie\r\n"
      . "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
      . "2\r\n{}\r\n0\r\n\r\n", qr/^400$/ ],
    [ 'events: unknown Transfer-Encoding',
      req('POST', '/feed/events', Cookie => $cookie,
          'Transfer-Encoding' => 'gzip', _body => '{}'), qr/^(400|501)$/ ],
    [ 'events: no cookie',
      req('POST', '/feed/events', _body => '{"events":[]}'), qr/^403$/ ],
    [ 'events: tampered cookie',
      req('POST', '/feed/events', Cookie => $cookie . 'x',
          _body => '{"events":[]}'), qr/^403$/ ],
    [ 'events: cookie of another key',
      req('POST', '/feed/events',
          Cookie => 'feed_sid=AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA',
          _body => '{"events":[]}'), qr/^403$/ ];

# 6. slow and truncated clients: an answer of 4xx, or the connection
#    closed by the server's timeouts; never a hang past them

my @slow = (
    [ 'slow request line', [ 'GET /fe', 'SLEEP 2' ] ],
    [ 'slow headers', [ "GET /feed HTTP/1.1\r\nHost: loc", 'SLEEP 2' ] ],
    [ 'truncated events body',
      [ "POST /feed/events HTTP/1.1\r\nHost: localhost\r\nCookie: $cookie\r\n"
        . "Content-Length: 100\r\n\r\n{\"events\":[", 'SLEEP 2' ] ],
    [ 'events body cut by the client',
      [ "POST /feed/events HTTP/1.1\r\nHost: localhost\r\nCookie: $cookie\r\n"
        . "Content-Length: 100\r\n\r\n{\"ev" ], half_close => 1 ],
    [ 'request line cut by the client', [ 'GET /v/fix-a/mas' ],
      half_close => 1 ],
);

# --- run ------------------------------------------------------------------

my $before = workers();
my $log = "$ngx->{dir}/logs/error.log";
my $log_start = -s $log;

cmp_ok(scalar @cases + @slow, '>=', 200,
       'at least 200 hostile requests (' . (@cases + @slow) . ')');

for my $c (@cases) {
    my ($name, $req, $want) = @$c;
    my $got = raw($req);
    like($got, $want, "$name: $got");
}

for my $c (@slow) {
    my ($name, $pieces, %opt) = @$c;
    my $t0 = time();
    my $got = raw($pieces, %opt);
    like($got, qr/^(4\d\d|closed)$/, "$name: $got");
    cmp_ok(time() - $t0, '<', 5, "$name: answered or closed in time");
}

# forged impressions with a good cookie: a clean 200 that rejects each

my $events = encode_json({ events => [
    { impression => 'AAAA.BBBB', watch_ms => 1 },
    { impression => feed_impression(viewer => 'x' x 16, clip => 'fix-a',
                                    time => time()), watch_ms => 1 },
    { impression => feed_impression(viewer => 'x' x 16, clip => 'fix-a',
                                    time => time() - 90000), watch_ms => 1 },
] });
my ($code, $h, $body) = http_request($port, 'POST', '/feed/events',
                                     jar => $jar, body => $events);
is($code, 200, 'forged, foreign and expired impressions: 200');
is(eval { decode_json($body)->{accepted} }, 0, 'none accepted');

# the server is whole

is(workers(), $before, 'no worker died (the same worker processes)');

($code) = http_get($port, "/v/fix-a/master.m3u8?token=$token");
is($code, 200, 'media still served');
($code) = http_request($port, 'GET', '/feed', jar => $jar);
is($code, 200, 'the feed still served');

my $tail = substr(read_file($log), $log_start);
my @bad = grep { /\[(alert|crit|emerg)\]|exited on signal/ }
          split /\n/, $tail;
is(scalar @bad, 0, 'no alert, crit or emerg line in the error log')
    or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

done_testing();
