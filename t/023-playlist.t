# The lean-back feed playlist: a page of the viewer's feed as one HLS
# media playlist (clips back to back, each after a discontinuity, a
# stitch with its parent's first segments), at a URL of its own that
# returns the same bytes on every fetch, with signed segment URLs.

use strict;
use warnings;

use lib 't/lib';
use Digest::SHA qw(hmac_sha256);
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $have_ffmpeg = `ffmpeg -version 2>/dev/null` =~ /ffmpeg version/;

my %clip = map { my $c = decode_json($_); ($c->{id} => $c) }
           grep { length } split /\n/, read_file("$fx/remix.jsonl");

my $ngx = nginx_start(
    port   => $port,
    http   => "    feed_catalog $fx/remix.jsonl;\n"
              . "    feed_secret_file $fx/secret.key;\n"
              . "    feed_state_zone viewers:4m;\n",
    server => "        location /v/ { feed_media; "
              . "feed_media_root $fx/media; }\n"
              . "        location = /lean.m3u8 { feed_playlist; }\n"
              . "        location = /low.m3u8 { feed_playlist; "
              . "feed_playlist_bandwidth 1; }\n"
              . "        location /prefix { feed_playlist; }\n"
              . "        location = /metrics { feed_status; }\n",
);

my $base = "http://127.0.0.1:$port";


# --- a new page: a redirect to its own URL -------------------------------

my %jar;
my ($st, $h, $body) = http_request($port, 'GET', '/lean.m3u8', jar => \%jar);
is($st, 302, 'a new page: 302');
like($h->{location}, qr{^http://[^/]+/lean\.m3u8\?page=1500000\.[^&]+&token=\d+\.[\w-]{43}$},
     'to the page\'s own URL (bandwidth, clips, token)');
ok($jar{feed_sid}, 'the viewer gets a session cookie');
is($h->{'cache-control'}, 'no-store', 'the redirect is not cached');

(my $page_uri = $h->{location}) =~ s{^http://[^/]+}{};
my ($page) = $page_uri =~ /page=([^&]+)/;
my ($bw, @ids) = split /\./, $page;
is(scalar @ids, 4, 'the page holds the catalog\'s four clips (fewer than '
   . 'feed_page_size)');
is_deeply([ sort @ids ], [ sort keys %clip ], 'each once');

my ($st1, $h1, $pl1) = http_get($port, $page_uri);
my ($st2, $h2, $pl2) = http_get($port, $page_uri);
is($st1, 200, 'the page: 200');
is($h1->{'content-type'}, 'application/vnd.apple.mpegurl', 'a playlist');
like($h1->{'cache-control'}, qr/^private, max-age=\d+$/,
     'cacheable by the viewer until it expires');
is($pl2, $pl1, 'the same bytes on a second fetch');

sleep 1.1;
my (undef, undef, $pl3) = http_get($port, $page_uri);
is($pl3, $pl1, 'and a second later (the segment tokens expire with the '
   . 'page, not with the fetch)');


# --- what the page holds ------------------------------------------------

my @lines = split /\n/, $pl1;
my @maps = $pl1 =~ /#EXT-X-MAP:URI="([^"]+)"/g;
my @uris = grep { !/^#/ } @lines;
my $ndisc = grep { $_ eq '#EXT-X-DISCONTINUITY' } @lines;

like($pl1, qr/\A#EXTM3U\n/, 'an HLS playlist');
like($pl1, qr/^#EXT-X-PLAYLIST-TYPE:VOD$/m, 'VOD');
like($pl1, qr/#EXT-X-ENDLIST\n\z/, 'complete');

my $nstitch = grep { ($clip{$_}{lineage}{kind} // '') eq 'stitch' } @ids;
is(scalar @maps, @ids + $nstitch, 'one EXT-X-MAP per clip, two for a '
   . 'stitch');
is($ndisc, @maps - 1, 'a discontinuity before each but the first');

# the clips in page order, a stitch after its parent's first segments

my @want;
my %rend_of;

for my $id (@ids) {
    my $c = $clip{$id};

    # nearest bandwidth to 1,500,000: the largest here
    my ($r) = sort { abs($a->{bandwidth} - $bw) <=> abs($b->{bandwidth} - $bw) }
              @{ $c->{renditions} };
    $rend_of{$id} = $r->{name};

    if (($c->{lineage}{kind} // '') eq 'stitch') {
        my $p = $c->{lineage}{parent};
        my ($pr) = grep { $_->{name} eq $r->{name} }
                   @{ $clip{$p}{renditions} };
        push @want, map { "/v/$p/$pr->{name}/$_.m4s" }
                    0 .. $c->{lineage}{parent_segments} - 1;
    }

    push @want, map { "/v/$id/$r->{name}/$_.m4s" } 0 .. $#{ $r->{segments} };
}

is_deeply([ map { (split /\?/)[0] } @uris ], \@want,
          'every clip\'s segments in page order, a stitch\'s parent\'s first');

my $ok = 0;

for my $u (@maps, @uris) {
    my ($code) = http_get($port, $u);
    $ok++ if $code == 200;
}

is($ok, @maps + @uris, 'every init and segment URI is served (signed)');

SKIP: {
    skip 'ffmpeg is not installed', 3 unless $have_ffmpeg;

    my $url = "$base$page_uri";
    my $out = `ffmpeg -nostdin -v error -i "$url" -map 0 -f null - 2>&1`;
    is($?, 0, 'ffmpeg decodes the whole page');
    is($out, '', 'without an error or warning') or diag($out);

    # ffmpeg's HLS reader skips EXT-X-DISCONTINUITY (its timestamps start
    # again with each clip), so its decoded length says little here: what
    # it must do is read every segment of every clip, in order

    my $log = `ffmpeg -nostdin -v verbose -i "$url" -map 0 -f null - 2>&1`;
    my @read = map { (split /\?/)[0] }
               $log =~ /HLS request for url '([^']+\.m4s[^']*)'/g;
    s{^http://[^/]+}{} for @read;
    is_deeply(\@read, \@want, 'ffmpeg reads every segment of the page, '
              . 'in order') or diag($log);
}


# --- the next page, bandwidth, size --------------------------------------

($st, $h) = http_request($port, 'GET', '/lean.m3u8', jar => \%jar);
is($st, 404, 'the viewer has seen every clip: 404');

my %j2;
($st, $h) = http_request($port, 'GET', '/lean.m3u8?n=2', jar => \%j2);
is($st, 302, '?n=2');
my (undef, @two) = split /\./, ($h->{location} =~ /page=([^&]+)/)[0];
is(scalar @two, 2, 'a page of two clips');

($st, $h) = http_request($port, 'GET', '/lean.m3u8?n=2', jar => \%j2);
my (undef, @next) = split /\./, ($h->{location} =~ /page=([^&]+)/)[0];
is(scalar(grep { my $x = $_; grep { $_ eq $x } @two } @next), 0,
   'the next page repeats none of them');

($st, $h) = http_request($port, 'GET', '/lean.m3u8?bandwidth=1');
(my $low = $h->{location}) =~ s{^http://[^/]+}{};
my (undef, undef, $lowpl) = http_get($port, $low);
my @low = grep { !/^#/ } split /\n/, $lowpl;
my @other = grep { !m{^/v/[^/]+/144p/} } @low;
ok(@low && !@other, '?bandwidth=1: every clip in its lowest rendition');

($st, $h) = http_request($port, 'GET', '/low.m3u8');
(my $low2 = $h->{location}) =~ s{^http://[^/]+}{};
like($low2, qr/page=1\./, 'feed_playlist_bandwidth sets the default');

for my $bad ('bandwidth=0', 'bandwidth=abc', 'bandwidth=1000000001', 'n=0',
             'n=51')
{
    ($st, $h, $body) = http_request($port, 'GET', "/lean.m3u8?$bad");
    is($st, 400, "?$bad: 400");
    like($body, qr/"error":"(bandwidth|n) must be/, "?$bad: with a reason");
}

($st) = http_request($port, 'POST', '/lean.m3u8', body => '{}');
is($st, 405, 'POST: 405');


# --- the redirect carries nothing a client put in the URI -----------------

($st, $h) = http_request($port, 'GET', '/prefix%0d%0aX-Injected:%20yes%3F');
is($st, 302, 'a prefix location: 302');
ok(!exists $h->{'x-injected'}, 'no header injected through the URI');
like($h->{location}, qr{/prefix%0D%0AX-Injected:%20yes%3F\?page=},
     'the URI is escaped in the Location');

# --- a lean-back page counts no clip impressions --------------------------

sleep 1.2;    # the counters are copied every second
my $m0 = metrics($port);
is($m0->{'feed_clip_counters{counter="impressions"}'}, 0,
   'lean-back pages count no clip impressions (their plays cannot be '
   . 'reported)');
cmp_ok($m0->{'feed_items_total{reason="personal"}'}
       + $m0->{'feed_items_total{reason="explore"}'}
       + $m0->{'feed_items_total{reason="zeitgeist"}'}
       + $m0->{'feed_items_total{reason="random"}'}
       + $m0->{'feed_items_total{reason="remix"}'}
       + $m0->{'feed_items_total{reason="sound"}'}, '>=', 4,
       'but their items are in feed_items_total');

($st, $h) = http_request($port, 'POST', '/lean.m3u8', body => '{}');
is($h->{allow}, 'GET, HEAD', '405 with Allow');

# --- forged, tampered and expired pages ----------------------------------

(my $tampered = $page_uri) =~ s/page=1500000/page=1500001/;
($st, $h, $body) = http_get($port, $tampered);
is($st, 403, 'a tampered page: 403');
like($body, qr/bad page token/, 'with a reason');

(my $swapped = $page_uri) =~ s/\.(fix-[a-z])\.(fix-[a-z])/.$2.$1/;
($st) = http_get($port, $swapped);
is($st, 403, 'clips reordered: 403');

(my $notoken = $page_uri) =~ s/&token=.*//;
($st) = http_get($port, $notoken);
is($st, 403, 'no token: 403');

my $b64 = sub {
    my $x = encode_base64($_[0], '');
    $x =~ tr{+/}{-_};
    $x =~ s/=+\z//;
    return $x;
};

my $key = feed_key("$fx/secret.key");
my $name = 'page:' . $b64->(hmac_sha256($page, $key));
my $old = feed_token($name, expires => time() - 120);
($st, $h, $body) = http_get($port, "/lean.m3u8?page=$page&token=$old");
is($st, 403, 'an expired page: 403');
like($body, qr/expired/, 'saying so');

my $fresh = feed_token($name, expires => time() + 300);
($st) = http_get($port, "/lean.m3u8?page=$page&token=$fresh");
is($st, 200, 'the same page under a token made with the key: 200 (the '
   . 'check is the signature, nothing else)');

my $clip_token = feed_token('fix-a');
($st) = http_get($port, "/lean.m3u8?page=$page&token=$clip_token");
is($st, 403, 'a clip\'s token is not a page\'s');

(my $page_token = $page_uri) =~ s/.*token=//;
($st) = http_get($port, "/v/fix-a/master.m3u8?token=$page_token");
is($st, 403, 'a page\'s token does not open a clip');


# --- nginx -t ----------------------------------------------------------

my ($rc, $out) = nginx_test(
    http   => "    feed_catalog $fx/remix.jsonl;\n"
              . "    feed_secret_file $fx/secret.key;\n"
              . "    feed_state_zone viewers:4m;\n",
    server => "        location = /lean { feed_playlist; "
              . "feed_playlist_bandwidth 0; }\n",
);
isnt($rc, 0, 'feed_playlist_bandwidth 0: nginx -t fails');
like($out, qr/"feed_playlist_bandwidth" must be from 1/,
     'naming the directive');

my $m = metrics($port);
cmp_ok($m->{'feed_requests_total{kind="manifest"}'} // 0, '>=', 5,
       'new pages count as manifests in the metrics');

done_testing();
