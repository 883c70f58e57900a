# Manifest items far larger than usual (long captions and tags that
# escape to twice their length): written in a second, measured pass,
# whole and valid, next to ordinary items on the same page.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-json-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# 30 clips: every third with a 1,000-quote caption and 32 tags of 62
# backslashes (about 6.5 KB of JSON an item), the rest ordinary

my $caption = '\\"' x 1000;
my $tag = '\\\\' x 62;
my $catalog = '';
my %big;

for my $i (0 .. 29) {
    my $l = feed_clip_line(id => "j$i", topic => $i % 3,
                           creator => "c$i", sound => "s$i");

    if ($i % 3 == 0) {
        my $tags = join ',', map { "\"$tag$_\"" } 1 .. 32;
        $l =~ s/"caption":"[^"]*"/"caption":"$caption"/;
        $l =~ s/"tags":\["topic\d"\]/"tags":[$tags]/;
        $big{"j$i"} = 1;
    }

    $catalog .= "$l\n";
}

write_file("$dir/catalog.jsonl", $catalog);

my $ngx = nginx_start(
    dir     => "$dir/prefix",
    port    => $port,
    http    => "    feed_catalog $dir/catalog.jsonl;\n"
               . "    feed_secret_file $fx/secret.key;\n"
               . "    feed_state_zone viewers:4m;\n",
    server  => "        location = /feed { feed_manifest; }\n",
);

my ($s, $h, $b) = http_request($port, 'GET', '/feed?n=30', jar => {});

is($s, 200, 'a page of large and ordinary items');

my $page = eval { JSON::PP->new->decode($b) } // { items => [] };
my @items = @{ $page->{items} };
my @large = grep { $big{ $_->{id} } } @items;

ok(length($b) > 50_000, 'the body is large (' . length($b) . ' bytes)');
is(scalar(@items), 30, 'every clip on the page, valid JSON');
is(scalar(@large), 10, 'the ten large items among them');
is(scalar(grep { $_->{caption} eq '"' x 1000 } @large), 10,
   'their captions whole');
is(scalar(grep { @{ $_->{tags} } == 32 && $_->{tags}[31] eq '\\' x 62 . '32' }
          @large), 10, 'their tags whole');
is(scalar(grep { $_->{impression} =~ /^[\w-]+\.[\w-]+$/ } @items), 30,
   'each item its impression token');

nginx_stop($ngx);

my $errors = read_file("$dir/prefix/logs/error.log");
unlike($errors, qr/\[(alert|crit|emerg)\]/, 'no alert in the log');

done_testing();
