# Real clients: ffprobe and ffmpeg fetch signed playlists through nginx,
# follow the URIs they hand out, and decode every segment of every
# rendition without an error.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;

plan skip_all => 'ffmpeg is not installed'
    unless `ffmpeg -version 2>/dev/null` =~ /ffmpeg version/;

my $ngx = nginx_start(
    port   => $port,
    http   => "    feed_catalog $fx/catalog.jsonl;\n"
              . "    feed_secret_file $fx/secret.key;\n",
    server => "        location /v/ { feed_media; "
              . "feed_media_root $fx/media; }\n",
);

for my $line (grep { length } split /\n/, read_file("$fx/catalog.jsonl")) {
    my $clip = decode_json($line);
    my $id = $clip->{id};
    my $token = feed_token($id);
    my $master = "http://127.0.0.1:$port/v/$id/master.m3u8?token=$token";

    my $probe = `ffprobe -v error -show_entries stream=codec_type,width,height -of compact "$master" 2>&1`;
    is($?, 0, "$id: ffprobe reads the master playlist") or diag($probe);

    for my $r (@{ $clip->{renditions} }) {
        my ($w, $h) = split /x/, $r->{resolution};
        like($probe, qr/codec_type=video\|width=$w\|height=$h/,
             "$id: ffprobe sees the $r->{name} variant at $r->{resolution}");
    }

    like($probe, qr/codec_type=audio/, "$id: ffprobe sees audio");

    for my $r (@{ $clip->{renditions} }) {
        my $url = "http://127.0.0.1:$port/v/$id/$r->{name}/index.m3u8"
                  . "?token=$token";

        my $out = `ffmpeg -nostdin -v error -i "$url" -map 0 -f framemd5 - 2>&1 >/dev/null`;
        is($?, 0, "$id/$r->{name}: ffmpeg decodes every segment");
        is($out, '', "$id/$r->{name}: no decoder error or warning")
            or diag($out);

        # the decoded length matches the catalog's durations

        my $json = `ffprobe -v error -show_entries format=duration -of json "$url" 2>/dev/null`;
        my $d = eval { decode_json($json)->{format}{duration} } // 0;
        my $sum = 0;
        $sum += $_ for @{ $r->{segments} };
        cmp_ok(abs($d - $sum), '<', 0.1,
               "$id/$r->{name}: duration $d matches the catalog's $sum");
    }
}

nginx_stop($ngx);

my $errors = read_file("$ngx->{dir}/logs/error.log");
unlike($errors, qr/\[(error|alert|crit)\]/, 'no errors in the error log')
    or diag($errors);

done_testing();
