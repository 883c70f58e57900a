# feed_catalog: a bad catalog fails `nginx -t` with the file, the line and
# the reason; a good one loads.

use strict;
use warnings;

use lib 't/lib';
use File::Temp ();
use JSON::PP;
use Test::More;
use FeedTest;

my $fx = feed_fixtures();

my $good = '{"id":"a1","creator":"ana","sound":"s1","created":1764100000,'
    . '"duration":3.0,"caption":"hi","tags":["x"],"embedding":[0.1,0.2],'
    . '"renditions":[{"name":"360p","bandwidth":600000,'
    . '"resolution":"360x640","codecs":"avc1.64001e,mp4a.40.2",'
    . '"segments":[1.0,2.0]}]}';

# the good line with some fields replaced (undef removes the field)

sub line {
    my (%set) = @_;

    my $clip = JSON::PP->new->decode($good);

    for my $k (keys %set) {
        if (defined $set{$k}) {
            $clip->{$k} = JSON::PP->new->allow_nonref->decode($set{$k});
        } else {
            delete $clip->{$k};
        }
    }

    return JSON::PP->new->canonical->encode($clip);
}

sub check_catalog {
    my ($name, $catalog, $line, $reason) = @_;

    my $dir = File::Temp::tempdir('feed-cat-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 1);
    write_file("$dir/catalog.jsonl", $catalog);

    my ($rc, $out) = nginx_test(
        dir  => $dir,
        http => "    feed_catalog $dir/catalog.jsonl;\n",
    );

    isnt($rc, 0, "$name: nginx -t fails");
    like($out, qr/\[emerg\].*feed_catalog "\Q$dir\E\/catalog\.jsonl", line $line: .*\Q$reason\E/,
         "$name: error names the file, line $line and the reason")
        or diag($out);
}

# a good catalog, with blank lines and CRLF, and a stitch whose parent
# comes later in the file

{
    my $dir = File::Temp::tempdir('feed-cat-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 1);
    my $stitch = line(id => '"b1"', lineage =>
        '{"kind":"stitch","parent":"a1","parent_segments":1}');

    write_file("$dir/catalog.jsonl", "$stitch\r\n\n" . line() . "\n");

    my ($rc, $out) = nginx_test(
        dir  => $dir,
        http => "    feed_catalog $dir/catalog.jsonl;\n",
    );

    is($rc, 0, 'good catalog: nginx -t passes') or diag($out);
    like($out, qr/feed_catalog "[^"]+": 2 clips/, 'good catalog: clips counted');
}

# the fixtures made by the ingest tool load too

{
    my ($rc, $out) = nginx_test(
        http => "    feed_catalog $fx/catalog.jsonl;\n",
    );

    is($rc, 0, 'ingest tool output loads') or diag($out);
}

my @bad = (
    [ 'bad JSON', line() . "\n{\"id\":\n", 2, 'bad JSON' ],
    [ 'not an object', "[1,2]\n", 1, 'must be a JSON object' ],
    [ 'missing id', line(id => undef) . "\n", 1, 'missing field "id"' ],
    [ 'missing creator', line(creator => undef), 1,
      'missing field "creator"' ],
    [ 'missing renditions', line(renditions => undef), 1,
      'missing field "renditions"' ],
    [ 'missing embedding', line(embedding => undef), 1,
      'missing field "embedding"' ],
    [ 'wrong type', line(created => '"yesterday"'), 1,
      '"created" must be an integer' ],
    [ 'duplicate id', line() . "\n" . line() . "\n", 2,
      'duplicate id "a1"' ],
    [ 'unknown parent', line(lineage =>
          '{"kind":"duet","parent":"nope"}') . "\n", 1,
      'unknown lineage parent "nope"' ],
    [ 'own parent', line(lineage => '{"kind":"duet","parent":"a1"}'), 1,
      'its own lineage parent' ],
    [ 'lineage loop',
      line(id => '"x1"', lineage => '{"kind":"duet","parent":"x2"}') . "\n"
      . line(id => '"x2"', lineage => '{"kind":"duet","parent":"x1"}'),
      1, 'lineage loop' ],
    [ 'stitch beyond parent',
      line() . "\n" . line(id => '"b1"', lineage =>
          '{"kind":"stitch","parent":"a1","parent_segments":3}'),
      2, 'more than the parent' ],
    [ 'absurd duration', line(duration => '-1'), 1, 'absurd "duration"' ],
    [ 'absurd created', line(created => '99999999999'), 1,
      'absurd "created"' ],
    [ 'segments do not add up', line(duration => '30'), 1,
      'segments add up to' ],
    [ 'bad id characters', line(id => '"../etc"'), 1, 'bad "id"' ],
    [ 'embedding dimension',
      line() . "\n" . line(id => '"a2"', embedding => '[1,2,3]'), 2,
      'has 3 numbers, the catalog' ],
);

for my $t (@bad) {
    check_catalog(@$t);
}

# a missing file

{
    my ($rc, $out) = nginx_test(
        http => "    feed_catalog /nonexistent/catalog.jsonl;\n",
    );

    isnt($rc, 0, 'missing catalog: nginx -t fails');
    like($out, qr/feed_catalog "\/nonexistent\/catalog.jsonl": cannot open/,
         'missing catalog: error names the file');
}

# directives that need each other

{
    my ($rc, $out) = nginx_test(
        server => "        location /v/ { feed_media; "
                  . "feed_media_root /tmp; }\n",
    );

    isnt($rc, 0, 'feed_media without feed_catalog fails');
    like($out, qr/"feed_media" in location "\/v\/" needs "feed_catalog"/,
         'feed_media without feed_catalog: clear message');

    ($rc, $out) = nginx_test(
        http   => "    feed_catalog $fx/catalog.jsonl;\n",
        server => "        location /v/ { feed_media; }\n",
    );

    isnt($rc, 0, 'feed_media without feed_media_root fails');
    like($out, qr/needs "feed_media_root"/,
         'feed_media without feed_media_root: clear message');

    ($rc, $out) = nginx_test(
        http   => "    feed_catalog $fx/catalog.jsonl;\n",
        server => "        location ~ /v/ { feed_media; "
                  . "feed_media_root /tmp; }\n",
    );

    isnt($rc, 0, 'feed_media in a regex location fails');
    like($out, qr/"feed_media" directive needs a prefix location/,
         'feed_media in a regex location: clear message');
}

# operator mistakes in feed_media locations, each named by nginx -t

{
    my @cases = (
        [ 'media root missing', "location /v/ { feed_media; "
          . "feed_media_root /nonexistent/media; }",
          qr/"feed_media_root" "\/nonexistent\/media" of location "\/v\/" cannot be used/ ],
        [ 'media root is a file', "location /v/ { feed_media; "
          . "feed_media_root $fx/catalog.jsonl; }",
          qr/"feed_media_root" "[^"]+catalog.jsonl" of location "\/v\/" is not a directory/ ],
        [ 'named location', "location /x { try_files \$uri \@f; } "
          . "location \@f { feed_media; feed_media_root $fx/media; }",
          qr/"feed_media" directive needs a prefix location, not a named one/ ],
        [ 'exact location', "location = /v { feed_media; "
          . "feed_media_root $fx/media; }",
          qr/"feed_media" directive needs a prefix location, not an exact one/ ],
        [ 'another content handler', "location /v/ { feed_media; "
          . "feed_media_root $fx/media; proxy_pass http://127.0.0.1:9; }",
          qr/"feed_media" in location "\/v\/" conflicts with another content handler/ ],
        [ 'duplicate feed_media', "location /v/ { feed_media; feed_media; "
          . "feed_media_root $fx/media; }",
          qr/"feed_media" directive is duplicate/ ],
        [ 'zero ttl', "location /v/ { feed_media; feed_url_ttl 0; "
          . "feed_media_root $fx/media; }",
          qr/"feed_url_ttl" directive must be between 1 second and 10 years/ ],
        [ 'ttl past the token range', "location /v/ { feed_media; "
          . "feed_url_ttl 300y; feed_media_root $fx/media; }",
          qr/"feed_url_ttl" directive must be between 1 second and 10 years/ ],
        [ 'two CORS origins', "location /v/ { feed_media; "
          . "feed_cors 'https://a.example https://b.example'; "
          . "feed_media_root $fx/media; }",
          qr/"feed_cors" directive must be one origin/ ],
        [ 'CORS origin without scheme', "location /v/ { feed_media; "
          . "feed_cors app.example; feed_media_root $fx/media; }",
          qr/"feed_cors" directive must be "\*", "null", "off" or one origin/ ],
    );

    for my $c (@cases) {
        my ($name, $server, $re) = @$c;

        my ($rc, $out) = nginx_test(
            http   => "    feed_catalog $fx/catalog.jsonl;\n",
            server => "        $server\n",
        );

        isnt($rc, 0, "$name: nginx -t fails");
        like($out, $re, "$name: clear message") or diag($out);
    }

    my ($rc, $out) = nginx_test(
        http   => "    feed_catalog $fx/catalog.jsonl;\n",
        server => "        location /v/ { feed_media; "
                  . "feed_cors https://app.example:8443; feed_url_ttl 10m; "
                  . "feed_media_root $fx/media; }\n",
    );

    is($rc, 0, 'a good feed_media location passes') or diag($out);
}

# key files

{
    my $dir = File::Temp::tempdir('feed-key-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 1);
    write_file("$dir/short.key", "tooshort\n");

    my ($rc, $out) = nginx_test(
        http => "    feed_secret_file $dir/short.key;\n",
    );

    isnt($rc, 0, 'short key fails');
    like($out, qr/feed_secret_file: "[^"]+short.key": key is 8 bytes, at least 16/,
         'short key: clear message');

    ($rc, $out) = nginx_test(
        http => "    feed_secret_file $dir/none.key;\n",
    );

    isnt($rc, 0, 'missing key file fails');
    like($out, qr/feed_secret_file: cannot open "[^"]+none.key"/,
         'missing key file: clear message');
}

done_testing();
