# The ingest tool: a clip it makes loads in nginx and plays, its catalog
# line is exact, and a failed run leaves neither files nor a line.

use strict;
use warnings;

use lib 't/lib';
use File::Path qw(make_path);
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

# remixes.  A stitch plays as its parent's first segments, a
# discontinuity, a new init segment, then its own segments: it takes the
# parent's renditions and is encoded to match the parent's streams.

sub lines {
    return map { decode_json($_) } grep { length }
           split /\n/, read_file("$dir/catalog.jsonl");
}

sub line_of {
    my ($id) = @_;
    my ($l) = grep { $_->{id} eq $id } lines();
    return $l;
}

# what a player's decoder sees in init.mp4 and the first segment
sub streams {
    my ($clip, $r) = @_;
    my $d = "$dir/media/$clip/$r";
    my %p;
    for (split /\n/, `cat $d/init.mp4 $d/0.m4s | ffprobe -v error -show_entries stream=codec_type,codec_name,profile,level,width,height,pix_fmt,r_frame_rate,time_base,sample_rate,channels -of compact=p=0 - 2>/dev/null`) {
        my %f = map { split /=/, $_, 2 } split /\|/;
        my $t = $f{codec_type} // '';
        $p{"$t $_"} = $f{$_} for grep { $_ ne 'codec_type' } keys %f;
    }
    my @keys = ((map { "video $_" } qw(codec_name profile level width
                 height pix_fmt r_frame_rate time_base)),
                (map { "audio $_" } qw(codec_name profile sample_rate
                 channels)));
    return { map { $_ => $p{$_} } @keys };
}

# the parent's first N segments, EXT-X-DISCONTINUITY, the stitch, decoded
# by ffmpeg (whose HLS reader keeps the parent's decoder configuration
# across the new init segment); returns the decoder's messages and the
# number of video frames read
sub spliced {
    my ($parent, $n, $stitch, $r) = @_;
    my $m = "$dir/media";
    my ($p) = grep { $_->{name} eq $r } @{ line_of($parent)->{renditions} };
    my ($s) = grep { $_->{name} eq $r } @{ line_of($stitch)->{renditions} };
    my @segs = ((map { [ "$parent/$r/$_.m4s", $p->{segments}[$_] ] }
                 0 .. $n - 1),
                (map { [ "$stitch/$r/$_.m4s", $s->{segments}[$_] ] }
                 0 .. $#{ $s->{segments} }));
    my $pl = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n"
           . "#EXT-X-PLAYLIST-TYPE:VOD\n"
           . "#EXT-X-MAP:URI=\"$m/$parent/$r/init.mp4\"\n";
    for my $i (0 .. $#segs) {
        $pl .= "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"$m/$stitch/$r/init.mp4\"\n"
            if $i == $n;
        $pl .= "#EXTINF:$segs[$i][1],\n$m/$segs[$i][0]\n";
    }
    $pl .= "#EXT-X-ENDLIST\n";
    write_file("$dir/splice.m3u8", $pl);

    my $err = `ffmpeg -nostdin -v error -allowed_extensions ALL -i $dir/splice.m3u8 -map 0 -f null - 2>&1`;
    my @pts = `ffprobe -v error -allowed_extensions ALL -select_streams v -show_entries packet=pts -of csv=p=0 $dir/splice.m3u8 2>/dev/null`;
    return ($err, scalar @pts);
}

# a parent at 25 frames/s in 144p and 270p (not the defaults)

($rc, $out) = ingest(split ' ', '--id ing-p --creator ana --sound s1 --fps 25 --renditions 144p,270p --deterministic --source-testsrc 3:testsrc2:440:Parent');
is($rc, 0, 'parent ingested') or diag($out);

($rc, $out) = ingest(split ' ', '--id ing-s --creator ben --sound s2 --lineage-kind stitch --parent ing-p --parent-segments 1 --deterministic --source-testsrc 2:testsrc:880:Stitch');
is($rc, 0, 'stitch ingested') or diag($out);

my $stitch = line_of('ing-s');
my $parent = line_of('ing-p');
is_deeply($stitch->{lineage},
          { kind => 'stitch', parent => 'ing-p', parent_segments => 1 },
          'stitch: lineage in the line');
is_deeply([ map { [ @$_{qw(name resolution codecs)} ] }
            @{ $stitch->{renditions} } ],
          [ map { [ @$_{qw(name resolution codecs)} ] }
            @{ $parent->{renditions} } ],
          "stitch: the parent's renditions, sizes and codecs");

for my $r (qw(144p 270p)) {
    is_deeply(streams('ing-s', $r), streams('ing-p', $r),
              "stitch $r: codec, profile, level, size, frame rate, "
              . "timescale, sample rate and channels of the parent");
    my ($err, $frames) = spliced('ing-p', 1, 'ing-s', $r);
    is($err, '', "stitch $r: parent segment + stitch decode cleanly");
    cmp_ok(abs($frames - 75), '<=', 1,
           "stitch $r: all of it read, 1 s + 2 s at 25/s") or diag($frames);
}
is(streams('ing-s', '270p')->{'video r_frame_rate'}, '25/1',
   'stitch: at the parent\'s frame rate, not the default');

# a parent made elsewhere: Main profile, 24 frames/s, a 90 kHz video
# timescale, 44.1 kHz mono, a rendition name the ingest does not know

SKIP: {
    make_path("$dir/media/ext-p/small");
    my $ff = `cd $dir/media/ext-p/small && ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=160x288:rate=24 -f lavfi -i sine=f=300:sample_rate=44100 -t 3 -c:v libx264 -profile:v main -pix_fmt yuv420p -b:v 100k -bf 0 -g 24 -c:a aac -ar 44100 -ac 1 -b:a 32k -hls_segment_options video_track_timescale=90000 -f hls -hls_segment_type fmp4 -hls_time 1 -hls_playlist_type vod -hls_fmp4_init_filename init.mp4 -hls_segment_filename %d.m4s index.m3u8 2>&1`;
    skip "cannot make the external parent: $ff", 5 if $?;

    my @segs = `sed -n 's/^#EXTINF:\\([0-9.]*\\),.*/\\1/p' $dir/media/ext-p/small/index.m3u8`;
    chomp @segs;
    my $sum = 0;
    $sum += $_ for @segs;
    my $init = read_file("$dir/media/ext-p/small/init.mp4");
    my $avcc = index($init, 'avcC');
    my $codecs = sprintf('avc1.%02x%02x%02x,mp4a.40.2',
                         unpack('C3', substr($init, $avcc + 5, 3)));
    open(my $cat, '>>', "$dir/catalog.jsonl") or die "$!\n";
    print {$cat} encode_json({
        id => 'ext-p', creator => 'x', sound => 'y', created => 1764100000,
        duration => $sum + 0, caption => '', tags => [],
        embedding => $clip->{embedding},
        renditions => [ { name => 'small', bandwidth => 150000,
                          resolution => '160x288', codecs => $codecs,
                          segments => [ map { $_ + 0 } @segs ] } ] }), "\n";
    close $cat;

    ($rc, $out) = ingest(split ' ', '--id ext-s --creator ben --sound s2 --lineage-kind stitch --parent ext-p --parent-segments 2 --preset ultrafast --deterministic --source-testsrc 2:testsrc:880:Stitch');
    is($rc, 0, 'stitch of an external parent ingested') or diag($out);
    is_deeply([ map { $_->{name} } @{ line_of('ext-s')->{renditions} } ],
              [ 'small' ], 'its rendition names');
    my $s = streams('ext-s', 'small');
    is_deeply($s, streams('ext-p', 'small'),
              'its streams match (even with a fast preset)');
    is("@$s{'video profile', 'audio sample_rate', 'audio channels'}",
       'Main 44100 1', 'so: Main, 44.1 kHz, mono');
    my ($err) = spliced('ext-p', 2, 'ext-s', 'small');
    is($err, '', 'parent segments + stitch decode cleanly');
}

# what a stitch refuses; nothing is appended or left behind

my $count = () = lines();

($rc, $out) = ingest(split ' ', '--id ing-x1 --creator ben --sound s2 --lineage-kind stitch --parent ing-p --parent-segments 1 --renditions 360p --source-testsrc 2:testsrc:880:x');
isnt($rc, 0, 'stitch: renditions the parent lacks refused');
like($out, qr/--renditions 360p conflicts with parent 'ing-p' \(renditions 144p 270p\)/,
     'and the message says why');

($rc, $out) = ingest(split ' ', '--id ing-x2 --creator ben --sound s2 --lineage-kind stitch --parent no-such --parent-segments 1 --source-testsrc 2:testsrc:880:x');
isnt($rc, 0, 'stitch: a parent not in the catalog refused');
like($out, qr/parent 'no-such' is not in catalog/, 'and the message says so');

($rc, $out) = ingest(split ' ', '--id ing-x3 --creator ben --sound s2 --lineage-kind stitch --parent ing-p --parent-segments 3 --source-testsrc 2:testsrc:880:x');
isnt($rc, 0, 'stitch: more segments than the parent has refused');
like($out, qr/--parent-segments 3 exceeds the parent's 2 segments/,
     'and the message says so');

($rc, $out) = ingest(split ' ', '--id ing-x4 --creator ben --sound s2 --lineage-kind stitch --parent ing-p --parent-segments 1 --fps 30 --source-testsrc 2:testsrc:880:x');
isnt($rc, 0, 'stitch: another frame rate refused');

rename("$dir/media/ing-p/270p/0.m4s", "$dir/0.m4s") or die "$!\n";
($rc, $out) = ingest(split ' ', '--id ing-x5 --creator ben --sound s2 --lineage-kind stitch --parent ing-p --parent-segments 1 --source-testsrc 2:testsrc:880:x');
rename("$dir/0.m4s", "$dir/media/ing-p/270p/0.m4s") or die "$!\n";
isnt($rc, 0, "stitch: a parent segment missing on disk refused");
like($out, qr{ing-p/270p/0\.m4s' is missing}, 'and the message names it');

is(scalar(() = lines()), $count, 'no line appended by the refused stitches');
ok(!grep({ -e "$dir/media/ing-x$_" } 1 .. 5), 'and no media left');

# duets: offset and layout in the line, the parent's renditions

($rc, $out) = ingest(split ' ', '--id ing-d --creator ben --sound s2 --lineage-kind duet --parent ing-1 --offset 0.5 --layout top --deterministic --source-testsrc 2:rgbtestsrc:330:Duet');
is($rc, 0, 'duet ingested') or diag($out);
is_deeply(line_of('ing-d')->{lineage},
          { kind => 'duet', parent => 'ing-1', offset => 0.5,
            layout => 'top' }, 'duet: offset and layout in the line');
is_deeply([ map { $_->{name} } @{ line_of('ing-d')->{renditions} } ],
          [ qw(144p 180p) ], "duet: the parent's renditions");

($rc, $out) = ingest(split ' ', '--id ing-d2 --creator ben --sound s2 --lineage-kind duet --parent ing-1 --renditions 144p --deterministic --source-testsrc 2:rgbtestsrc:330:Duet');
is($rc, 0, 'duet with its own renditions ingested') or diag($out);
is_deeply(line_of('ing-d2')->{lineage},
          { kind => 'duet', parent => 'ing-1', offset => 0,
            layout => 'side' }, 'duet: offset 0 and side by default');
like(read_file("$dir/catalog.jsonl"),
     qr/"lineage":\{"kind":"duet","parent":"ing-1","offset":0\.0,"layout":"side"\}/,
     'written out');

($rc, $out) = ingest(split ' ', '--id ing-x6 --creator ben --sound s2 --lineage-kind duet --parent ing-1 --offset 5 --source-testsrc 2:testsrc:880:x');
isnt($rc, 0, 'duet: an offset past the parent\'s end refused');

done_testing();
