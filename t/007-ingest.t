# The ingest tool: a clip it makes loads in nginx and plays, its catalog
# line is exact, and a failed run leaves neither files nor a line.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use FeedTest;

plan skip_all => 'ffmpeg is not installed'
    unless `ffmpeg -version 2>/dev/null` =~ /ffmpeg version/;

my $ingest = "$FeedTest::ROOT/tools/feed-ingest";
my $dir = tempdir('feed-ingest-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;

sub ingest {
    my (@args) = @_;

    my $out = `$ingest --media-root $dir/media --catalog $dir/catalog.jsonl @args 2>&1`;
    return ($? >> 8, $out);
}

# a 5 s synthetic clip: a 1 s first segment, then 2 s segments

my ($rc, $out) = ingest(split ' ', '--id ing-1 --creator ana --sound s1 --caption Hello --tags a,b --renditions 144p,180p --deterministic --source-testsrc 5:testsrc2:440:Hello');
is($rc, 0, 'ingest of a synthetic clip succeeds') or diag($out);
like($out, qr/144p/, 'progress names each rendition');

my @lines = grep { length } split /\n/, read_file("$dir/catalog.jsonl");
is(scalar @lines, 1, 'one catalog line appended');

my $clip = decode_json($lines[0]);
is($clip->{id}, 'ing-1', 'the line names the clip');
is_deeply([ map { $_->{name} } @{ $clip->{renditions} } ], [qw(144p 180p)],
          'both renditions listed');

for my $r (@{ $clip->{renditions} }) {
    my @segs = @{ $r->{segments} };
    cmp_ok(abs($segs[0] - 1), '<', 0.05, "$r->{name}: short first segment");
    is(scalar(@segs), 3, "$r->{name}: 1 + 2 + 2 seconds");
    like($r->{codecs}, qr/^avc1\.64[0-9a-f]{4},mp4a\.40\.2$/,
         "$r->{name}: codecs from the stream");

    for my $i (0 .. $#segs) {
        ok(-s "$dir/media/ing-1/$r->{name}/$i.m4s",
           "$r->{name}: segment $i on disk");
    }

    ok(!-e "$dir/media/ing-1/$r->{name}/" . scalar(@segs) . ".m4s",
       "$r->{name}: no extra segment");
}

# the segments of both renditions start at the same instants

my @starts = map {
    my $r = $_;
    [ map {
        my $f = "$dir/media/ing-1/$r/$_.m4s";
        my $t = `cat $dir/media/ing-1/$r/init.mp4 $f | ffprobe -v error -select_streams v -show_entries packet=pts_time -of csv=p=0 - 2>/dev/null`;
        (split /\n/, $t)[0] + 0;
    } 0 .. 2 ]
} qw(144p 180p);
is_deeply($starts[0], $starts[1], 'keyframes aligned across renditions');
cmp_ok($starts[0][0], '<', 0.05, 'timestamps start at zero');

# a duplicate id, a bad source and a bad argument: nothing is left behind

($rc, $out) = ingest(split ' ', '--id ing-1 --creator ana --sound s1 --renditions 144p --source-testsrc 2:testsrc2:440:x');
isnt($rc, 0, 'duplicate id refused');

($rc, $out) = ingest((split ' ', '--id ing-2 --creator ana --sound s1 --renditions 144p'), "$dir/no-such-video.mp4");
isnt($rc, 0, 'missing source refused');
ok(!-e "$dir/media/ing-2", 'failed ingest leaves no media');

write_file("$dir/garbage.mp4", "this is not a video\n" x 100);
($rc, $out) = ingest((split ' ', '--id ing-3 --creator ana --sound s1 --renditions 144p'), "$dir/garbage.mp4");
isnt($rc, 0, 'undecodable source refused');
ok(!-e "$dir/media/ing-3", 'undecodable source leaves no media');

($rc, $out) = ingest(split ' ', '--id ../x --creator ana --sound s1 --source-testsrc 2:testsrc2:440:x');
isnt($rc, 0, 'bad id refused');

@lines = grep { length } split /\n/, read_file("$dir/catalog.jsonl");
is(scalar @lines, 1, 'still exactly one catalog line');

# what it made loads and plays through nginx

my $ngx = nginx_start(
    port   => $port,
    http   => "    feed_catalog $dir/catalog.jsonl;\n",
    server => "        location /v/ { feed_media; "
              . "feed_media_root $dir/media; }\n",
);

$out = `ffmpeg -nostdin -v error -i http://127.0.0.1:$port/v/ing-1/180p/index.m3u8 -map 0 -f null - 2>&1`;
is($?, 0, 'the ingested clip plays through nginx');
is($out, '', 'without a decoder message') or diag($out);

nginx_stop($ngx);

done_testing();
