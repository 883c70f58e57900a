# The feed learns from watching: a viewer who finishes one topic and
# skips the rest is shown more of it; clips many viewers engage with rise
# into other viewers' feeds as zeitgeist; a clip appended to the catalog
# file reaches feeds without a reload; the manifest warms the cache with
# the clips' first segments; a full state zone evicts viewers, never
# fails a request.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-learn-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($catalog, $media, $ids) = feed_topic_catalog($dir, per => 120);
my $json = JSON::PP->new->canonical;

my $ngx = nginx_start(
    dir     => "$dir/prefix",
    port    => $port,
    workers => 2,
    http    => "    feed_catalog $catalog;\n"
               . "    feed_secret_file $fx/secret.key;\n"
               . "    feed_state_zone viewers:1m;\n"
               . "    feed_catalog_watch 1s;\n"
               . "    feed_cache_zone hot:8m;\n",
    server  => "        location /v/ { feed_media; feed_media_root $media; "
               . "feed_cache hot; add_header X-Cache \$feed_cache_status; }\n"
               . "        location = /feed { feed_manifest; feed_cache hot; "
               . "feed_media_root $media; }\n"
               . "        location = /feed/events { feed_events; "
               . "feed_events_rate 100r/s burst=100; }\n"
               . "        location = /metrics { feed_status; }\n",
);

sub page {
    my ($jar, $n) = @_;

    my ($s, $h, $b) = http_request($port, 'GET', '/feed?n=' . ($n // 10),
                                   jar => $jar);
    die "manifest: $s $b\n" unless $s == 200;

    return $json->decode($b)->{items};
}

sub post {
    my ($jar, @events) = @_;

    my ($s, $h, $b) = http_request($port, 'POST', '/feed/events', jar => $jar,
                                   body => $json->encode({ events => \@events }));
    die "events: $s $b\n" unless $s == 200;

    return $json->decode($b);
}

sub topic { ($_[0]{tags}[0] =~ /topic(\d)/)[0] }

# a viewer who loves topic 0 and skips everything else

my %jar;
my ($first, $later, $n_first, $n_later) = (0, 0, 0, 0);

for my $round (1 .. 5) {
    my $items = page(\%jar);
    my @ev;

    for my $it (@$items) {
        my $love = topic($it) == 0;

        if ($round == 1) {
            $n_first++;
            $first++ if $love;
        }

        if ($round >= 4) {
            $n_later++;
            $later++ if $love;
        }

        push @ev, $love
            ? { impression => $it->{impression}, watch_ms => 3000,
                loops => 1, like => JSON::PP::true }
            : { impression => $it->{impression}, watch_ms => 300,
                skip => JSON::PP::true };
    }

    my $r = post(\%jar, @ev);
    is($r->{accepted}, scalar(@ev), "round $round: every event accepted")
        if $round <= 2;
}

my $share_first = $first / ($n_first || 1);
my $share_later = $later / ($n_later || 1);

diag(sprintf('topic 0: %.0f%% of the first page, %.0f%% of pages 4-5',
             100 * $share_first, 100 * $share_later));
ok($share_later >= 0.6, 'after 3 pages, most of the feed is the loved topic');
ok($share_later > $share_first + 0.2 || $share_later >= 0.9,
   'the feed moved toward it (or was there by chance from the start)');

# zeitgeist: five viewers love whatever they see; a newcomer then gets
# rising clips, marked as such, by personal fit

for my $v (1 .. 5) {
    my %j;
    my $items = page(\%j);
    post(\%j, map { { impression => $_->{impression}, watch_ms => 3000,
                      loops => 2, like => JSON::PP::true,
                      share => JSON::PP::true } } @$items);
}

sleep 1.5;     # the workers copy the counters every second

my $m = metrics($port);
my ($zg, $pages) = (0, 0);

for my $v (1 .. 10) {
    my %j;
    my $items = page(\%j);
    $pages++;
    $zg++ if grep { $_->{reason} eq 'zeitgeist' && $_->{parts}{trending} > 0 }
             @$items;
}

ok($zg >= 8, "newcomers see rising clips ($zg of $pages first pages)");

# the metrics name what is rising: clips with their sound, and sounds

my (undef, undef, $text) = http_get($port, '/metrics');
my @rising = $text =~ /^feed_rising_clip\{rank="\d+",clip="([^"]+)",sound="[^"]+"\} [\d.]+$/mg;
my @sounds = $text =~ /^feed_rising_sound\{rank="\d+",sound="([^"]+)"\} [\d.]+$/mg;
cmp_ok(scalar @rising, '>=', 5, 'the metrics list the rising clips');
ok(@rising <= 10, 'ten at most');
cmp_ok(scalar @sounds, '>=', 1, 'and the rising sounds');
like($text, qr/^feed_fresh_clips \d+$/m, 'and the size of the fresh pool');

# a clip appended to the catalog file: in feeds within 10 s, no reload

symlink("$fx/media/fix-a", "$media/late-1");
open my $fh, '>>', $catalog or die;
print $fh feed_clip_line(id => 'late-1', topic => 1, creator => 'newcomer',
                         sound => 'fresh-sound', created => time()) . "\n";
close $fh;

my $t0 = time();
ok(wait_for(sub { metrics($port)->{'feed_catalog_appended_total'} >= 2 }, 10),
   'both workers took the appended clip');

my %jn;
my $found;

for my $p (1 .. 20) {
    my $items = page(\%jn, 10);
    last unless @$items;
    if (my ($it) = grep { $_->{id} eq 'late-1' } @$items) {
        $found = $it;
        last;
    }
}

ok($found, sprintf('the appended clip is in a feed %.1f s after the append',
                   time() - $t0));
ok(time() - $t0 < 10, 'within 10 s');

if ($found) {
    my ($s) = http_get($port, $found->{master});
    is($s, 200, 'its signed master playlist plays');
}

# the manifest warmed the first segments of the clips it returned

my %jw;
my $items = page(\%jw, 3);

ok(wait_for(sub { metrics($port)->{'feed_cache_warms_total'} >= 1 }, 5),
   'the manifest warmed the cache');

my ($s, $h) = http_get($port, $items->[0]{prefetch}[0]);
is($s, 200, 'prefetch URL served');

# a state zone far too small for its viewers: evictions, no failure

my $fail = 0;

for (1 .. 900) {
    my %j;
    my ($st) = http_request($port, 'GET', '/feed?n=1', jar => \%j);
    $fail++ unless $st == 200;
}

$m = metrics($port);
is($fail, 0, '900 new viewers: every request served');
ok($m->{'feed_viewer_evictions_total'} > 0,
   "the state zone evicted the least recent ($m->{feed_viewer_evictions_total})");
ok($m->{'feed_viewers'} <= $m->{'feed_viewer_capacity'},
   "viewers within capacity ($m->{feed_viewers} of $m->{feed_viewer_capacity})");

nginx_stop($ngx);

my $errors = read_file("$dir/prefix/logs/error.log");
unlike($errors, qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');
unlike($errors, qr/exited with code [1-9]/,
       'no worker exited with an error (a sanitizer report, say)');

done_testing();
