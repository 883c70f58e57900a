# A real browser: headless Chromium plays signed master and media
# playlists through hls.js to the end, with no stall and no error, and
# fetches every segment.  A playlist with a missing segment must fail, so
# that the harness is shown able to fail.

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

# playback at four times real time keeps the test short; hls.js still has
# to fetch and append every segment to reach the end

my $rate = 4;

my $bad_token = feed_token('fix-a');
my $broken = join '\n',
    '#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    qq{#EXT-X-MAP:URI=\\"/v/fix-a/144p/init.mp4?token=$bad_token\\"},
    '#EXTINF:1.0,', "/v/fix-a/144p/0.m4s?token=$bad_token",
    '#EXTINF:2.0,', '/missing/1.m4s',
    '#EXT-X-ENDLIST', '';

my $ngx = nginx_start(
    port   => $port,
    http   => "    feed_catalog $fx/catalog.jsonl;\n"
              . "    feed_secret_file $fx/secret.key;\n",
    server => "        location /v/ { feed_media; "
              . "feed_media_root $fx/media; }\n"
              . "        location = /broken.m3u8 {\n"
              . "            default_type application/vnd.apple.mpegurl;\n"
              . "            return 200 \"$broken\";\n"
              . "        }\n"
              . "        location /missing/ { return 404; }\n",
);

my $base = "http://127.0.0.1:$port";


# Plays $url and checks what any good playback shows; returns the report.

sub plays_to_end {
    my ($url, $name, $duration) = @_;

    (my $shot = "$ngx->{dir}/$name.png") =~ s{/(?=[^/]*$)}{-};
    my $r = browser_play($url, rate => $rate, timeout => 30,
                         screenshot => $shot);
    my $why = browser_explain($r);

    ok($r->{ended}, "$name: playback reaches the end") or diag($why);
    ok(!$r->{timed_out}, "$name: within the timeout") or diag($why);
    SKIP: {
        skip "$name: under valgrind the server is too slow to judge stalls",
            1 if $ENV{TEST_NGINX_USE_VALGRIND};
        is($r->{stalls}, 0, "$name: no stall") or diag($why);
    }
    is_deeply($r->{errors}, [], "$name: no hls.js or media error")
        or diag($why);
    cmp_ok(abs(($r->{currentTime} // 0) - $duration), '<', 0.1,
           "$name: ends at $r->{currentTime}, the catalog's $duration")
        or diag($why);
    cmp_ok($r->{decoded_frames} // 0, '>', 0, "$name: frames decoded")
        or diag($why);

    my @bad = grep { $_->{status} != 200 } @{ $r->{requests} };
    is(scalar @bad, 0, "$name: every request answered 200") or diag($why);

    return $r;
}


# The segment numbers a report loaded from rendition $rend of clip $id.

sub loaded {
    my ($r, $id, $rend) = @_;

    my %n;

    for my $s (@{ $r->{segments} }) {
        $n{$1} = 1 if $s->{url} =~ m{/v/\Q$id\E/\Q$rend\E/(\d+)\.m4s\?};
    }

    return join ',', sort { $a <=> $b } keys %n;
}


for my $line (grep { length } split /\n/, read_file("$fx/catalog.jsonl")) {
    my $clip = decode_json($line);
    my $id = $clip->{id};
    my $token = feed_token($id);
    my %rend = map { $_->{name} => $_ } @{ $clip->{renditions} };

    # the master: hls.js picks a variant and plays all of its segments

    my $r = plays_to_end("$base/v/$id/master.m3u8?token=$token",
                         "$id/master", $clip->{duration});

    is(scalar @{ $r->{levels} }, scalar @{ $clip->{renditions} },
       "$id/master: hls.js sees every variant");

    my %by_sn;
    $by_sn{ $_->{sn} } = 1 for @{ $r->{segments} };
    my $n = @{ $clip->{renditions}[0]{segments} };
    is(join(',', sort { $a <=> $b } keys %by_sn),
       join(',', 0 .. $n - 1), "$id/master: every segment number loaded");

    # each rendition's media playlist: every one of its segments

    for my $name (sort keys %rend) {
        my $segs = $rend{$name}{segments};
        my $sum = 0;
        $sum += $_ for @$segs;

        my $m = plays_to_end("$base/v/$id/$name/index.m3u8?token=$token",
                             "$id/$name", $sum);

        is(loaded($m, $id, $name), join(',', 0 .. $#$segs),
           "$id/$name: all " . @$segs . ' segments loaded');
        ok((grep { $_->{url} =~ m{/v/\Q$id/$name\E/init\.mp4\?} }
            @{ $m->{requests} }), "$id/$name: init segment fetched");
    }
}

# a segment that 404s: the harness reports it and playback does not end

{
    my $r = browser_play("$base/broken.m3u8", rate => $rate, timeout => 8);
    my $why = browser_explain($r);

    ok(!$r->{ended}, 'missing segment: playback does not end') or diag($why);
    cmp_ok($r->{stalls}, '>', 0, 'missing segment: the stall is counted')
        or diag($why);
    ok(!$r->{ok}, 'missing segment: reported as a failure') or diag($why);
    ok((grep { ($_->{details} // '') eq 'fragLoadError'
               && ($_->{code} // 0) == 404
               && ($_->{url} // '') =~ m{/missing/1\.m4s$} }
        @{ $r->{errors} }),
       'missing segment: the 404 is among the errors') or diag($why);
    is(loaded($r, 'fix-a', '144p'), '0',
       'missing segment: the segment before it was played') or diag($why);
}

nginx_stop($ngx);

my $errors = read_file("$ngx->{dir}/logs/error.log");
unlike($errors, qr/\[(error|alert|crit)\]/, 'no errors in the error log')
    or diag($errors);

done_testing();
