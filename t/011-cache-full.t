# A zone smaller than the working set: it evicts and never errors, every
# response has the file's bytes, and the admission filter keeps clips
# that are watched again and again from being pushed out by a stream of
# clips asked for once.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-cache-full-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($catalog, $media) = feed_many_clips($dir, 30);

my @files = map { my $r = $_; map { "$r/$_" } qw(init.mp4 0.m4s 1.m4s) }
            qw(144p 180p);
my %bytes = map { $_ => read_file("$fx/media/fix-a/$_") } @files;

sub run_zone {
    my ($params, $workers) = @_;

    return nginx_start(
        dir     => "$dir/prefix-" . ($params =~ /off/ ? 'off' : 'lfu'),
        port    => $port,
        workers => $workers // 2,
        http    => "    feed_catalog $catalog;\n"
                   . "    feed_cache_zone hot:1m $params;\n",
        server  => "        location /v/ { feed_media; "
                   . "feed_media_root $media; feed_cache hot; "
                   . "feed_cache_inline_fill 1m; "
                   . "add_header X-Cache \$feed_cache_status; }\n"
                   . "        location = /metrics { feed_status; }\n",
    );
}

# requests every file of the clips; returns the count of each status

sub sweep {
    my ($clips, $what) = @_;

    my (%seen, $bad);

    for my $c (@$clips) {
        for my $f (@files) {
            my ($s, $h, $b) = http_get($port, "/v/clip-$c/$f");
            $seen{$h->{'x-cache'} // 'none'}++;
            $bad++ unless $s == 200 && $b eq $bytes{$f};
        }
    }

    ok(!$bad, "$what: every response is 200 with the file's bytes");

    return \%seen;
}

# admission off: plain FIFO turnover of a zone 4 times too small

my $ngx = run_zone('objects=512 admission=off');

my $seen = sweep([1 .. 30], 'admission off, first pass');
is($seen->{MISS}, 180, 'admission off: 180 misses, all admitted');

$seen = sweep([1 .. 30], 'admission off, second pass');
my $m = metrics($port);
ok($m->{'feed_cache_evictions_total{zone="hot"}'} > 100,
   'admission off: the zone turned over ('
   . $m->{'feed_cache_evictions_total{zone="hot"}'} . ' evictions)');
ok($m->{'feed_cache_bytes{zone="hot"}'}
   <= $m->{'feed_cache_capacity_bytes{zone="hot"}'},
   'admission off: never more bytes than the capacity');
is($m->{'feed_cache_requests_total{status="ERROR"}'}, 0, 'no ERROR');
is($m->{'feed_cache_nospace_total{zone="hot"}'}, 0,
   'no admission failed for want of space');

nginx_stop($ngx);

# TinyLFU: two clips watched over and over, then 28 clips once each,
# on two workers.  (A one-off clip that a doorkeeper false positive made
# look "seen before" used to be admitted whatever it evicted: hot objects
# were lost in about one run in six, whatever the number of workers.)

$ngx = run_zone('objects=512');

sweep([1, 2], "hot clips, pass $_") for 1 .. 5;

$seen = sweep([3 .. 30], 'one-off clips');
ok($seen->{SKIP} && $seen->{SKIP} > 50,
   'one-off clips: most are kept out (' . ($seen->{SKIP} // 0)
   . ' SKIP, ' . ($seen->{MISS} // 0) . ' admitted while there was room)');

$seen = sweep([1, 2], 'hot clips after the one-off stream');
is($seen->{HIT}, 12, 'hot clips: all 12 objects are still hits');

$m = metrics($port);
ok($m->{'feed_cache_admission_rejects_total{zone="hot"}'} > 50,
   'admission rejects counted');
is($m->{'feed_cache_requests_total{status="ERROR"}'}, 0, 'no ERROR');

nginx_stop($ngx);

for my $p (qw(off lfu)) {
    my $errors = read_file("$dir/prefix-$p/logs/error.log");
    unlike($errors, qr/\[(alert|crit|error)\]/, "$p: no error in the log");
    unlike($errors, qr/exited with code [1-9]/, "$p: no worker exited badly");
}

done_testing();
