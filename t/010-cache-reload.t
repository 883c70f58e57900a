# The cache zone across nginx -s reload, with two workers and the fill in
# the thread pool: a zone of the same name, size and parameters is kept
# with its objects and counters; other parameters under the same name and
# size are refused and the old configuration keeps serving; another size
# gives a new, empty zone.  Warming on a playlist request fills segments
# before they are asked for.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-cache-reload-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $seg = read_file("$fx/media/fix-a/144p/1.m4s");

sub http_conf {
    my ($zone) = @_;

    return "    feed_catalog $fx/catalog.jsonl;\n"
         . "    feed_cache_zone $zone;\n";
}

sub server_conf {
    my ($name, $extra) = @_;

    return "        location /v/ { feed_media; feed_media_root $fx/media; "
         . "feed_cache $name; feed_cache_warm 2; "
         . "add_header X-Cache \$feed_cache_status; }\n"
         . "        location = /metrics { feed_status; }\n"
         . ($extra // '');
}

sub write_conf {
    my ($zone, $name, $extra) = @_;

    # rewrite only the http block's contents of the running prefix

    my $conf = read_file("$dir/prefix/conf/nginx.conf");
    $conf =~ s/    feed_catalog .*?(?=    server \{)/http_conf($zone)/se;
    $conf =~ s/(listen [^\n]+\n).*?(?=    \}\n\}\n\z)/$1 . server_conf($name, $extra)/se;
    write_file("$dir/prefix/conf/nginx.conf", $conf);
}

sub get_seg {
    my ($uri) = @_;

    my ($status, $h, $body) = http_get($port, $uri // '/v/fix-a/144p/1.m4s');

    return ($status, $h->{'x-cache'} // '', $body);
}

my $ngx = nginx_start(
    dir     => "$dir/prefix",
    port    => $port,
    workers => 2,
    http    => http_conf('hot:4m'),
    server  => server_conf('hot'),
);

my ($status, $xc, $body) = get_seg();
is($status, 200, 'first request served');
is($xc, 'MISS', 'first request: MISS, filled in the background');
ok($body eq $seg, 'first request: the file\'s bytes');

my $hit = wait_for(sub { (get_seg())[1] eq 'HIT' }, 5);
ok($hit, 'a later request is a HIT once the thread pool has filled it');

($status, $xc, $body) = get_seg();
ok($status == 200 && $xc eq 'HIT' && $body eq $seg,
   'the hit has the file\'s bytes');

my $m = metrics($port);
is($m->{'feed_cache_fills_total{result="ok"}'}, 1, 'one background fill');
is($m->{'feed_cache_objects{zone="hot"}'}, 1, 'one object in the zone');
my $segments = $m->{'feed_requests_total{kind="segment"}'};
ok($segments >= 3, "segment requests counted ($segments)");

# the same zone: kept, objects and counters

write_conf('hot:4m', 'hot', "        location = /other { return 204; }\n");
my $log = nginx_reload($ngx);
unlike($log, qr/\[emerg\]/, 'reload with the same zone accepted');

($status, $xc) = get_seg();
is($xc, 'HIT', 'after reload: the object is still there (HIT)');

$m = metrics($port);
ok($m->{'feed_requests_total{kind="segment"}'} > $segments,
   'after reload: request counters went on from where they were');
is($m->{'feed_cache_objects{zone="hot"}'}, 1, 'after reload: one object');

# the same name and size with another max_object: refused

write_conf('hot:4m max_object=256k', 'hot');
$log = nginx_reload($ngx);
like($log, qr/\[emerg\].*feed_cache_zone "hot" is in use with other parameters; to change them, change its size or give it a new name/,
     'other parameters under the same name and size: refused');

($status, $xc) = get_seg();
ok($status == 200 && $xc eq 'HIT',
   'refused reload: the running configuration still serves hits');

# another size: a new zone

write_conf('hot:8m max_object=256k', 'hot');
$log = nginx_reload($ngx);
unlike($log, qr/\[emerg\]/, 'another size: accepted');

($status, $xc) = get_seg();
is($xc, 'MISS', 'another size: a new, empty zone (MISS)');

$m = metrics($port);
ok($m->{'feed_cache_capacity_bytes{zone="hot"}'} > 7 * 1024 * 1024,
   'another size: the capacity is the new one');

# warming: a media playlist offers its init and first two segments

my $fills = $m->{'feed_cache_fills_total{result="ok"}'};

($status) = http_get($port, '/v/fix-a/180p/index.m3u8');
is($status, 200, 'media playlist served');

ok(wait_for(sub {
       metrics($port)->{'feed_cache_fills_total{result="ok"}'}
           >= $fills + 3 }, 5),
   'warming filled three objects in the background');

for my $f (qw(init.mp4 0.m4s 1.m4s)) {
    my ($s, $x, $b) = get_seg("/v/fix-a/180p/$f");
    ok($s == 200 && $x eq 'HIT'
       && $b eq read_file("$fx/media/fix-a/180p/$f"),
       "warmed $f: first request is a HIT with the file's bytes");
}

$m = metrics($port);
ok($m->{'feed_cache_warms_total'} >= 3, 'warms counted');

nginx_stop($ngx);

my $errors = read_file("$dir/prefix/logs/error.log");
unlike($errors, qr/\[(alert|crit)\]/, 'no alert or crit in the error log');
unlike($errors, qr/exited with code [1-9]/,
       'no worker exited with an error (a sanitizer report, say)');
unlike($errors, qr/feed_cache fill: /, 'no failed fill');

done_testing();
