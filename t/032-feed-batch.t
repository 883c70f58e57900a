# feed_batch_send: the pages a worker ranks in one pass of its event loop
# are sent together at the end of the pass.  Many viewers asking at once
# each get their own page; pipelined requests, HEAD and a page included
# by SSI (a subrequest, sent at once) are answered as before; with the
# directive off nothing waits; feed_status counts the batches.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(sleep);
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-batch-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($catalog) = feed_topic_catalog($dir, per => 50);
my $json = JSON::PP->new;

mkdir "$dir/html";
write_file("$dir/html/inc.html",
           "<p><!--# include virtual=\"/feed?n=1\" --></p>\n");

my $ngx = nginx_start(
    dir    => "$dir/prefix",
    port   => $port,
    http   => "    feed_catalog $catalog;\n"
              . "    feed_secret_file $fx/secret.key;\n"
              . "    feed_state_zone viewers:4m;\n",
    server => "        location = /feed { feed_manifest; }\n"
              . "        location = /feed-now { feed_manifest; "
              . "feed_batch_send off; }\n"
              . "        location = /inc.html { root $dir/html; ssi on; }\n"
              . "        location = /metrics { feed_status; }\n",
);

sub b64url {
    my ($s) = @_;

    $s =~ tr{-_}{+/};
    $s .= '=' x ((4 - length($s) % 4) % 4);

    return decode_base64($s);
}

# an impression token's viewer (16 bytes) and position

sub impression {
    my ($token) = @_;

    my ($payload) = split /\./, $token;
    my (undef, undef, $position, $viewer) = unpack('C N N a16',
                                                   b64url($payload));

    return ($viewer, $position);
}

sub batch {
    my $m = metrics($port);

    return ($m->{feed_batch_pages_total}, $m->{feed_batch_sends_total});
}

# responses on one connection: (status, headers, body) each

sub responses {
    my ($raw) = @_;
    my @out;

    while ($raw =~ s{\AHTTP/1\.1 (\d+)[^\r]*\r\n((?:[^\r]+\r\n)*)\r\n}{}) {
        my ($status, $head) = ($1, $2);
        my ($len) = $head =~ /^Content-Length: (\d+)\r$/mi;
        my $body = substr($raw, 0, $len // 0, '');
        push @out, [$status, $head, $body];
    }

    return @out;
}

# sixteen viewers, each with a first page of one clip

my (@jars, @first);

for my $v (0 .. 15) {
    my %jar;
    my ($s, $h, $b) = http_request($port, 'GET', '/feed?n=1', jar => \%jar);

    is($s, 200, "viewer $v: a first page");
    push @jars, \%jar;
    push @first, $json->decode($b)->{items}[0]{id};
}

my ($pages, $sends) = batch();
is($pages, 16, 'the first pages were sent after their pass');
is($sends, 16, 'one at a time: a pass each');

# all sixteen ask at once: every request but its last byte is sent
# first, then the last bytes one after the other, so that the worker
# finds several complete in a pass

my @socks;

for my $v (0 .. 15) {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 10)
        or die "connect: $!\n";
    push @socks, $s;
}

for my $v (0 .. 15) {
    $socks[$v]->syswrite("GET /feed HTTP/1.0\r\nHost: localhost\r\n"
                         . "Cookie: feed_sid=$jars[$v]{feed_sid}\r\n\r");
}

sleep 0.2;
$socks[$_]->syswrite("\n") for 0 .. 15;

for my $v (0 .. 15) {
    local $/;
    my $raw = readline($socks[$v]) // '';
    close $socks[$v];

    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    like($head, qr{\AHTTP/1\.[01] 200 }, "at once, viewer $v: 200");

    my $page = eval { $json->decode($body) } // {};
    is($page->{count}, 10, "at once, viewer $v: a page of ten");

    my ($sid) = split /\./, $jars[$v]{feed_sid};
    my $id = b64url($sid);
    my @items = @{ $page->{items} // [] };
    my @own = grep { (impression($_->{impression}))[0] eq $id } @items;
    my @pos = map { (impression($_->{impression}))[1] } @items;

    is(scalar @own, 10, "at once, viewer $v: every impression is its own");
    is("@pos", join(' ', 1 .. 10), "at once, viewer $v: positions 1 to 10");
    ok(!grep({ $_->{id} eq $first[$v] } @items),
       "at once, viewer $v: not the clip it was shown first");
}

my ($pages2, $sends2) = batch();
is($pages2 - $pages, 16, 'sixteen more pages sent after their pass');
ok($sends2 - $sends < 16,
   'in fewer passes than pages: ' . ($sends2 - $sends) . ' for 16');

# pipelined on one connection: each page after the one before

{
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 10)
        or die "connect: $!\n";
    my $cookie = "Cookie: feed_sid=$jars[0]{feed_sid}\r\n";

    $s->syswrite("GET /feed?n=2 HTTP/1.1\r\nHost: localhost\r\n$cookie\r\n"
                 . "GET /feed?n=3 HTTP/1.1\r\nHost: localhost\r\n$cookie\r\n"
                 . "GET /feed?n=4 HTTP/1.1\r\nHost: localhost\r\n$cookie"
                 . "Connection: close\r\n\r\n");

    local $/;
    my @r = responses(readline($s) // '');
    close $s;

    is(scalar @r, 3, 'pipelined: three responses');
    is(join(' ', map { $_->[0] } @r), '200 200 200', 'pipelined: all 200');
    is(join(' ', map { scalar @{ $json->decode($_->[2])->{items} } } @r),
       '2 3 4', 'pipelined: pages of 2, 3 and 4, in order');

    my @pos = map { (impression($_->{impression}))[1] }
              map { @{ $json->decode($_->[2])->{items} } } @r;
    is("@pos", join(' ', 11 .. 19), 'pipelined: positions 11 to 19');
}

# HEAD: the headers of a page, no body, nothing shown (the next page
# starts where the last one ended)

{
    my ($s, $h, $b) = http_request($port, 'HEAD', '/feed',
                                   jar => { %{ $jars[1] } });
    is($s, 200, 'HEAD: 200');
    like($h->{'content-length'} // '', qr/^\d+$/, 'HEAD: a Content-Length');
    is($b, '', 'HEAD: no body');

    ($s, $h, $b) = http_request($port, 'GET', '/feed?n=1',
                                jar => { %{ $jars[1] } });
    my $item = $json->decode($b)->{items}[0];
    is((impression($item->{impression}))[1], 11,
       'HEAD: the next page starts at position 11, after the last shown');
}

($pages) = batch();
is($pages, 37, 'the pipelined pages, the HEAD and the page after batched');

# a subrequest is sent at once

{
    my ($s, $h, $b) = http_request($port, 'GET', '/inc.html');
    is($s, 200, 'SSI: 200');
    like($b, qr{\A<p>\{"page":1,"count":1,"items":\[\{"id":"[^"]+"}s,
         'SSI: the included page');
}

($pages) = batch();
is($pages, 37, 'SSI: the subrequest was not batched');

# feed_batch_send off: pages as before, none counted

for my $i (1 .. 3) {
    my ($s, $h, $b) = http_request($port, 'GET', '/feed-now',
                                   jar => $jars[2]);
    is($s, 200, "off, request $i: 200");
    is($json->decode($b)->{count}, 10, "off, request $i: a page of ten");
}

($pages) = batch();
is($pages, 37, 'off: nothing batched');

nginx_stop($ngx);

unlike(read_file("$dir/prefix/logs/error.log"), qr/\[(alert|crit|emerg)\]/,
       'no alert in the error log');

# nginx -t names the directive

my ($rc, $out) = nginx_test(
    http   => "    feed_catalog $catalog;\n"
              . "    feed_secret_file $fx/secret.key;\n"
              . "    feed_state_zone viewers:4m;\n",
    server => "        location = /feed { feed_manifest; "
              . "feed_batch_send maybe; }\n",
);

isnt($rc, 0, 'nginx -t refuses feed_batch_send maybe');
like($out, qr/invalid value "maybe" in "feed_batch_send" directive/,
     'and names the directive');

done_testing();
