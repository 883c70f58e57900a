# The demo as a newcomer sees it: nginx with conf/demo.conf (only its port
# and module path changed, a key of its own) over the demo media, and the
# For You page used in headless Chromium by t/browser/demo.js.  The page
# loads and the first clip plays; the arrow key, a touch swipe and the
# wheel each move one clip and the next clip plays; the events reach the
# server (its metrics move); and after the clips of one topic were watched
# to the end and the rest skipped, the next page of the feed holds more of
# that topic than the first, and more than chance would.

use strict;
use warnings;

use lib 't/lib';
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use FeedTest;
use FeedBrowser;

my $root = $FeedTest::ROOT;
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $media = "$root/build/demo/media";
my $hls = "$FeedBrowser::MODULES/hls.js/dist";

my $why = browser_available();
plan skip_all => "browser stack missing: $why" if $why;
plan skip_all => "no demo media in $media (make demo-media)"
    unless -f "$media/.stamp" && -s "$media/catalog.jsonl";


# --- the demo's configuration, on the test's port ---------------------------

my $conf = read_file("$root/conf/demo.conf");
my $mods = join '', map { "load_module $_;\n" }
           split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';

is(($conf =~ s/^load_module \S+;\n/$mods/mg), 1,
   'demo.conf loads the module once');
is(($conf =~ s/^(\s*listen\s+)127\.0\.0\.1:8080;/${1}127.0.0.1:$port;/mg),
   1, 'demo.conf listens on 127.0.0.1:8080');
$conf = "user root;\n$conf" if $> == 0;

# the prefix as `make run` lays it out: media, the page, hls.js, a key

my $dir = tempdir('feed-demo-XXXXXX', TMPDIR => 1, CLEANUP => 1);
make_path("$dir/vendor");
symlink($media, "$dir/media") or die "symlink: $!\n";
symlink("$root/demo/www", "$dir/www") or die "symlink: $!\n";
symlink($hls, "$dir/vendor/hls.js") or die "symlink: $!\n";
write_file("$dir/demo.key", unpack('H*', join '', map { chr rand 256 }
                                                   1 .. 32) . "\n");

my $ngx = nginx_start(dir => $dir, port => $port, conf => $conf);
my $base = "http://127.0.0.1:$port";

my ($st, $h, $body) = http_get($port, '/');
is($st, 200, 'the page is served at /');
like($body, qr/<main id="feed"/, 'it is the For You page');
($st) = http_get($port, '/vendor/hls.js/hls.min.js');
is($st, 200, 'hls.js is served from the npm install');
($st) = http_get($port, '/status.html');
is($st, 200, 'the status page is served');


# --- a viewer ---------------------------------------------------------------

my $shot = "$root/build/025-demo-failure.png";
unlink $shot;

my $before = metrics($port, '/feed/status');
my $r = browser_script('demo.js', [$base, '--catalog',
                                   "$media/catalog.jsonl", '--rate', 4,
                                   '--timeout', 100,
                                   '--screenshot', $shot],
                       timeout => 160);
my $after = metrics($port, '/feed/status');

sub story {
    my @l = ("elapsed $r->{elapsed} s, topic "
             . ($r->{topic} // '?') . ", hls.js "
             . ($r->{hls_version} // 'none'));

    push @l, step_line($_) for @{ $r->{steps} };
    for my $i (0 .. $#{ $r->{pages} }) {
        push @l, "page " . ($i + 1) . ': '
                 . join(' ', map { "$_->{id}($_->{topic},$_->{reason})" }
                             @{ $r->{pages}[$i] });
    }
    push @l, map { "page error: $_" } @{ $r->{page_errors} };
    push @l, map { "console: $_" } @{ $r->{console_errors} };
    push @l, map { "request: " . ($_->{status} // $_->{failure})
                   . " $_->{url}" } @{ $r->{failed_requests} };
    push @l, "screenshot: $r->{screenshot}" if $r->{screenshot};
    push @l, "stderr: $r->{stderr}" if $r->{stderr};

    return join "\n", @l;
}

sub step_line {
    my ($s) = @_;
    my %d = %$s;

    delete @d{qw(name ok)};

    return ($s->{ok} ? 'ok     ' : 'NOT OK ') . $s->{name}
           . (%d ? ' ' . JSON::PP->new->canonical->encode(\%d) : '');
}

my %step = map { $_->{name} => $_ } @{ $r->{steps} };
my $first = $r->{pages}[0] // [];
my $n = @$first;

for my $name ('page loads with clips', 'first clip plays',
              'key moves to clip 1', 'clip 1 plays',
              "swipe moves to clip $n",
              "clip $n (next page) plays after the swipe",
              'the swipe moved one clip',
              'wheel moves to clip ' . ($n + 1),
              'clip ' . ($n + 1) . ' plays after the wheel',
              'the wheel moved one clip',
              "the first page's events are accepted",
              'the next page has more of the topic',
              'the next page has more of the topic than chance',
              'no page errors') {
    ok($step{$name} && $step{$name}{ok}, $name)
        or diag($step{$name} ? step_line($step{$name}) : 'not reached');
}

my @bad = grep { !$_->{ok} } @{ $r->{steps} };
is(scalar @bad, 0, 'every step went as it should') or diag(story());

cmp_ok($n, '>=', 5, "the first page has $n clips");
my @watched = grep { $_->{watched} } @{ $r->{watched} };
cmp_ok(scalar @watched, '>=', 1,
       'clips of the topic were watched to the end: '
       . join(' ', map { $_->{id} } @watched));

note(sprintf('topic %s: %.0f%% of the first page, %.0f%% of the next, '
             . '%.0f%% of the clips left to show', $r->{topic},
             100 * ($r->{share_first} // 0), 100 * ($r->{share_next} // 0),
             100 * ($r->{share_unseen} // 0)));


# --- what the server saw -----------------------------------------------------

my $delta = sub {
    my ($k) = @_;
    return ($after->{$k} // 0) - ($before->{$k} // 0);
};

cmp_ok($delta->('feed_events_total{result="accepted"}'), '>=', $n,
       'the metrics count the first page\'s events as accepted');
is($delta->('feed_events_total{result="invalid"}'), 0, 'no invalid event');
is($delta->('feed_events_total{result="duplicate"}'), 0,
   'no event sent twice');
cmp_ok($delta->('feed_requests_total{kind="manifest"}'), '>=', 2,
       'two pages of the feed were asked for');
cmp_ok($delta->('feed_requests_total{kind="segment"}'), '>', $n,
       'segments were played');
cmp_ok($delta->('feed_cache_requests_total{status="HIT"}'), '>', 0,
       'some segments came from the cache');

my $log = read_file("$dir/logs/error.log");
my @alerts = $log =~ /^.*\[(?:alert|crit|emerg)\].*$/mg;
is(scalar @alerts, 0, 'no alert in the error log') or diag(join "\n", @alerts);

nginx_stop($ngx);

if (@bad && -f $shot) {
    diag("screenshot of the page: $shot");
}

done_testing();
