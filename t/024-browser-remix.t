# The strict judge: headless Chromium plays a stitch (its parent's first
# segments, a discontinuity, a new init segment, its own) and a lean-back
# feed playlist (every clip after a discontinuity) through hls.js to the
# end, with no stall and no error.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use FeedTest;
use FeedBrowser;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;

my $why = browser_available();
plan skip_all => "browser stack missing: $why" if $why;

my %clip = map { my $c = decode_json($_); ($c->{id} => $c) }
           grep { length } split /\n/, read_file("$fx/remix.jsonl");

my $ngx = nginx_start(
    port   => $port,
    http   => "    feed_catalog $fx/remix.jsonl;\n"
              . "    feed_secret_file $fx/secret.key;\n"
              . "    feed_state_zone viewers:4m;\n",
    server => "        location /v/ { feed_media; "
              . "feed_media_root $fx/media; }\n"
              . "        location = /lean.m3u8 { feed_playlist; }\n",
);

my $base = "http://127.0.0.1:$port";

sub plays_to_end {
    my ($url, $name, $duration) = @_;

    (my $shot = "$ngx->{dir}/$name.png") =~ s{[^\w./-]}{_}g;
    my $r = browser_play($url, rate => 4, timeout => 40,
                         screenshot => $shot);
    my $why = browser_explain($r);

    ok($r->{ended}, "$name: playback reaches the end") or diag($why);
    SKIP: {
        skip "$name: under valgrind the server is too slow to judge stalls",
            1 if $ENV{TEST_NGINX_USE_VALGRIND};
        is($r->{stalls}, 0, "$name: no stall") or diag($why);
    }
    is_deeply($r->{errors}, [], "$name: no hls.js or media error")
        or diag($why);
    cmp_ok(abs(($r->{currentTime} // 0) - $duration), '<', 0.15,
           "$name: ends at " . ($r->{currentTime} // 'undef')
           . " s, the playlist's $duration s") or diag($why);
    cmp_ok($r->{decoded_frames} // 0, '>', 0, "$name: frames decoded");

    my @bad = grep { $_->{status} != 200 } @{ $r->{requests} };
    is(scalar @bad, 0, "$name: every request answered 200") or diag($why);

    return $r;
}

sub total { my $t = 0; $t += $_ for @_; return $t }


# --- the stitch ------------------------------------------------------------

my $s = $clip{'fix-s'};
my $p = $clip{ $s->{lineage}{parent} };
my $n = $s->{lineage}{parent_segments};
my $token = feed_token('fix-s');

for my $r (@{ $s->{renditions} }) {
    my ($pr) = grep { $_->{name} eq $r->{name} } @{ $p->{renditions} };
    my $d = total(@{ $pr->{segments} }[0 .. $n - 1], @{ $r->{segments} });

    my $rep = plays_to_end("$base/v/fix-s/$r->{name}/index.m3u8?token=$token",
                           "stitch $r->{name}", $d);

    my @inits = grep { m{/init\.mp4} } map { $_->{url} } @{ $rep->{requests} };
    ok((grep { m{/v/$p->{id}/} } @inits) && (grep { m{/v/fix-s/} } @inits),
       "stitch $r->{name}: both init segments were loaded");
}

{
    my $r = $s->{renditions}[0];
    my ($pr) = grep { $_->{name} eq $r->{name} } @{ $p->{renditions} };
    plays_to_end("$base/v/fix-s/master.m3u8?token=$token", 'stitch master',
                 total(@{ $pr->{segments} }[0 .. $n - 1],
                       @{ $r->{segments} }));
}


# --- the duet's two sides play on their own --------------------------------

my $d = $clip{'fix-d'};
my $parent = $d->{lineage}{parent};

plays_to_end("$base/v/fix-d/master.m3u8?token=" . feed_token('fix-d'),
             'duet', total(@{ $d->{renditions}[0]{segments} }));
plays_to_end("$base/v/$parent/master.m3u8?token=" . feed_token($parent),
             'duet parent',
             total(@{ $clip{$parent}{renditions}[0]{segments} }));


# --- a lean-back feed playlist ---------------------------------------------

my %jar;
my ($st, $h) = http_request($port, 'GET', '/lean.m3u8', jar => \%jar);
is($st, 302, 'a lean-back page');

(my $page = $h->{location}) =~ s{^http://[^/]+}{};
my (undef, undef, $pl) = http_get($port, $page);
my $sum = 0;
$sum += $_ for $pl =~ /#EXTINF:([\d.]+),/g;
my $clips = () = $pl =~ /#EXT-X-MAP/g;

cmp_ok($clips, '>=', 4, "the page has $clips parts (a stitch is two)");

my $rep = plays_to_end("$base$page", 'feed playlist', $sum);

my %seen;
$seen{$_}++ for map { $_->{url} =~ m{/v/([^/]+)/[^/]+/\d+\.m4s} ? $1 : () }
                @{ $rep->{segments} };
is(scalar keys %seen, scalar(() = $page =~ /\.fix-/g),
   'segments of every clip of the page were played');

done_testing();
