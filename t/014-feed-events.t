# A viewer's session across requests: pages never repeat a clip nor put
# a creator or a sound twice in a row, feed_block keeps clips out, and
# watch events are taken only from the viewer who was served them, once,
# with every bad one rejected for a stated reason while the good ones in
# the same batch still count.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time);
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-events-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{KEEP});
my ($catalog, $media, $ids) = feed_topic_catalog($dir, per => 30);
my $json = JSON::PP->new->canonical;

my $ngx = nginx_start(
    dir     => "$dir/prefix",
    port    => $port,
    workers => 2,
    http    => "    feed_catalog $catalog;\n"
               . "    feed_secret_file $fx/secret.key;\n"
               . "    feed_state_zone viewers:4m;\n"
               . "    feed_block caption \"^clip t2-1[0-9]\$\";\n"
               . "    feed_block creator ^c7\$;\n",
    server  => "        location = /feed { feed_manifest; }\n"
               . "        location = /feed/events { feed_events; "
               . "feed_events_rate 50r/s burst=50; }\n"
               . "        location = /metrics { feed_status; }\n",
);

my %clip = map { my $l = $_; my $c = $json->decode($l); ($c->{id} => $c) }
           grep { length } split /\n/, read_file($catalog);

sub page {
    my ($jar, $n) = @_;

    my ($s, $h, $b) = http_request($port, 'GET', '/feed' . ($n ? "?n=$n" : ''),
                                   jar => $jar);
    die "manifest: $s $b\n" unless $s == 200;

    return $json->decode($b);
}

sub post {
    my ($jar, $events) = @_;

    my ($s, $h, $b) = http_request($port, 'POST', '/feed/events', jar => $jar,
                                   body => ref $events
                                           ? $json->encode({ events => $events })
                                           : $events);

    return ($s, $b =~ /^\{/ ? $json->decode($b) : $b);
}

# pages until the catalog runs out: no repeat, no neighbours alike

my %jar_a;
my (%shown, $repeats, $alike, $blocked, $prev, @items);

for my $p (1 .. 20) {
    my $page = page(\%jar_a, 10);
    last unless $page->{count};

    for my $it (@{ $page->{items} }) {
        $repeats++ if $shown{ $it->{id} }++;
        $blocked++ if $it->{caption} =~ /^clip t2-1\d$/ || $it->{creator} eq 'c7';

        if ($prev) {
            $alike++ if $prev->{creator} eq $it->{creator}
                        || $prev->{sound} eq $it->{sound};
        }

        $prev = $it;
        push @items, $it;
    }
}

my $blockable = grep { $clip{$_}{caption} =~ /^clip t2-1\d$/
                       || $clip{$_}{creator} eq 'c7' } keys %clip;

# a viewer's candidates are topped up from anywhere once few are left, so
# nearly all of a small catalog is shown before the pages run out

ok(keys(%shown) >= 0.9 * (keys(%clip) - $blockable),
   scalar(keys %shown) . ' clips shown before the catalog ran out');
ok(!$repeats, 'no clip shown twice to one viewer');
ok(!$alike, 'never the same creator or sound twice in a row');
ok(!$blocked, "feed_block: none of the $blockable blocked clips shown");
ok(exists $jar_a{feed_sid}, 'viewer A has a session');

# events: a good one, and every kind of bad one beside it

my %jar_b;
my $page_b = page(\%jar_b, 2);
my $other = $page_b->{items}[0]{impression};

my ($viewer) = $jar_a{feed_sid} =~ /^([^.]+)/;
(my $vid = $viewer) =~ tr{-_}{+/};
$vid = MIME::Base64::decode_base64($vid);

my @ev = (
    { impression => $items[0]{impression}, watch_ms => 3000, like => JSON::PP::true },
    { impression => $items[1]{impression}, watch_ms => 200, skip => JSON::PP::true },
    { impression => $other, watch_ms => 3000 },
    { impression => substr($items[2]{impression}, 0, -2) . 'AA', watch_ms => 1 },
    { impression => feed_impression(viewer => $vid, clip => $items[3]{id},
                                    time => time() - 2 * 86400), watch_ms => 1 },
    { impression => feed_impression(viewer => $vid, clip => 'no-such-clip',
                                    time => time()), watch_ms => 1 },
    { impression => $items[4]{impression}, watch_ms => -5 },
    { impression => $items[5]{impression}, watch_ms => 1e300, loops => 3 },
    { impression => $items[6]{impression}, like => 'yes' },
    { watch_ms => 1 },
    7,
);

my ($s, $r) = post(\%jar_a, \@ev);
is($s, 200, 'a mixed batch: 200');
is($r->{accepted}, 3, 'a mixed batch: the 3 good events accepted');
is($r->{rejected}, 8, 'a mixed batch: 8 rejected');

my @why = map { $_->{reason} // $_->{status} } @{ $r->{results} };
is_deeply(\@why, [
    'accepted', 'accepted', 'not your impression', 'bad impression token',
    'impression expired', 'unknown clip', 'watch_ms must be zero or more',
    'accepted', 'like must be true or false', 'no impression token',
    'an event must be an object',
], 'each rejection says why, in order') or diag(explain(\@why));

# the same events again: duplicates, and nothing counted twice

my $m0 = metrics($port);
($s, $r) = post(\%jar_a, [ @ev[0, 1, 7] ]);
is_deeply([ map { $_->{reason} } @{ $r->{results} } ],
          [ 'duplicate', 'duplicate', 'duplicate' ],
          'replayed events are duplicates');

my $m1 = metrics($port);
is($m1->{'feed_events_total{result="accepted"}'},
   $m0->{'feed_events_total{result="accepted"}'}, 'nothing counted twice');
is($m1->{'feed_events_total{result="duplicate"}'}, 3, 'duplicates counted');
is($m1->{'feed_events_total{result="other_viewer"}'}, 1, 'other viewer counted');
is($m1->{'feed_events_total{result="forged"}'}, 1, 'forgery counted');

# a token of the HMAC kind servers made before SipHash: still accepted

{
    my %jar_v;
    my $item = page(\%jar_v, 1)->{items}[0];
    my ($sid) = $jar_v{feed_sid} =~ /^([^.]+)/;
    $sid =~ tr{-_}{+/};

    my $legacy = feed_impression(viewer => MIME::Base64::decode_base64($sid),
                                 clip => $item->{id}, time => time(),
                                 position => $item->{position}, version => 1);

    my ($st, $res) = post(\%jar_v, [ { impression => $legacy,
                                        watch_ms => 1000 } ]);
    is($st, 200, 'a version 1 token: 200');
    is($res->{accepted}, 1, 'a version 1 token is accepted')
        or diag(explain($res));

    ($st, $res) = post(\%jar_v, [ { impression => $item->{impression},
                                    watch_ms => 1000 } ]);
    is_deeply([ map { $_->{reason} } @{ $res->{results} } ], ['duplicate'],
              'the served token of the same impression: a duplicate')
        or diag(explain($res));
}

# bodies that are not a batch

for my $bad ('{"events":[', 'NaN', '{"events":[{"impression":"a","watch_ms":NaN}]}',
             '{"events":{}}', '{"events":[],"events":[]}', '', '[' . ('{},' x 100) . '{}]')
{
    my ($st, $res) = post(\%jar_a, $bad);
    is($st, 400, "malformed body '" . substr($bad, 0, 30) . "': 400")
        or diag(explain($res));
    like(ref $res ? $res->{error} : $res, qr/./, '... with a reason');
}

# more impressions than any ring would hold: a replay is still a duplicate

my %jar_d;
my (@imps, $taken);

while (@imps < 70) {
    my $items = page(\%jar_d, 10)->{items};
    last unless @$items;
    push @imps, map { $_->{impression} } @$items;
}

for (my $i = 0; $i < @imps; $i += 10) {
    my $last = $i + 9 < $#imps ? $i + 9 : $#imps;
    my ($st, $res) = post(\%jar_d, [ map { { impression => $_, watch_ms => 1000 } }
                                     @imps[$i .. $last] ]);
    $taken += $res->{accepted} if $st == 200;
}

is($taken, scalar(@imps), scalar(@imps) . ' impressions, all taken once');
ok(@imps > 64, 'more than 64 of them');

($s, $r) = post(\%jar_d, [ map { { impression => $_, watch_ms => 1000 } }
                            @imps[0 .. 9] ]);
is($r->{accepted}, 0, 'the first 10 again: none taken');
is_deeply([ map { $_->{reason} } @{ $r->{results} } ],
          [ ('duplicate') x 10 ], '... all duplicates');

# a body over feed_events_max_body is refused, and its bytes are never
# read as a request of their own on the same connection

{
    my $smuggled = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    my $body = $smuggled . (' ' x 70000);
    my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                     Timeout => 5) or die;

    print $sock "POST /feed/events HTTP/1.1\r\nHost: x\r\n"
              . "Content-Length: " . length($body) . "\r\n\r\n" . $body;

    my $got = '';
    my $end = time() + 2;

    while (time() < $end) {
        my $rin = '';
        vec($rin, fileno($sock), 1) = 1;
        last unless select(my $rout = $rin, undef, undef, 0.3);
        last unless sysread($sock, my $buf, 65536);
        $got .= $buf;
    }

    close $sock;

    my @status = $got =~ m{^HTTP/1\.1 (\d+)}mg;
    is_deeply(\@status, [413], 'an oversized body: one 413, nothing more');
}

# a viewer posting too fast

my %jar_c;
page(\%jar_c, 1);
my @codes;

for (1 .. 60) {
    my ($st) = post(\%jar_c, []);
    push @codes, $st;
}

SKIP: {
    skip 'under valgrind the posts are slower than the bucket refills', 1
        if $ENV{TEST_NGINX_USE_VALGRIND};
    ok((grep { $_ == 429 } @codes), 'over feed_events_rate: 429');
}
ok((grep { $_ == 200 } @codes) >= 50, 'the burst went through');

nginx_stop($ngx);

my $errors = read_file("$dir/prefix/logs/error.log");
unlike($errors, qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');
unlike($errors, qr/exited with code [1-9]/,
       'no worker exited with an error (a sanitizer report, say)');
like(read_file("$dir/prefix/logs/stderr.log") . $errors,
     qr/feed_block: \d+ of \d+ clips blocked/, 'blocks logged at start');

done_testing();
