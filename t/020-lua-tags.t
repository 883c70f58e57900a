# c.tagged with more distinct tags in one page's candidates than its memo
# holds: the hook answers, and finds what it looks for.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-lua-tags-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# 400 clips, 12 tags each that no other clip has

my $catalog = '';

for my $i (0 .. 399) {
    my $l = feed_clip_line(id => "u$i", topic => $i % 3,
                           creator => 'c' . ($i % 37),
                           sound => 's' . ($i % 29));
    my $tags = join ',', map { "\"u$i-t$_\"" } 1 .. 12;
    $l =~ s/"tags":\["topic\d"\]/"tags":[$tags]/;
    $catalog .= "$l\n";
}

write_file("$dir/catalog.jsonl", $catalog);

my $ngx = nginx_start(
    dir     => "$dir/prefix",
    port    => $port,
    http    => "    feed_catalog $dir/catalog.jsonl;\n"
               . "    feed_secret_file $fx/secret.key;\n"
               . "    feed_state_zone viewers:4m;\n"
               # the memo is what is tested, not the time: room for a
               # slow build (sanitizers, valgrind) or a busy machine
               . "    feed_lua_time_limit "
               . ($ENV{TEST_NGINX_USE_VALGRIND} ? '5s' : '1s') . ";\n",
    server  => "        location = /feed { feed_manifest; feed_candidates 400;\n"
               . "            feed_rank_by_lua_block {\n"
               . "                local keep = {}\n"
               . "                for k = 0, 31 do keep[#keep + 1] = 'u' .. 2 * k .. '-t7' end\n"
               . "                return function(c)\n"
               . "                    local hit, s = c.tagged(keep), c.score\n"
               . "                    for i = 1, c.n do\n"
               . "                        if not hit[i] then s[i] = false end\n"
               . "                    end\n"
               . "                    return s\n"
               . "                end\n"
               . "            }\n"
               . "        }\n",
);

my %jar;
my ($s, $h, $b) = http_request($port, 'GET', '/feed?n=50', jar => \%jar);

is($s, 200, 'a page over 400 candidates with 4,800 distinct tags');

my $page = $s == 200 ? JSON::PP->new->decode($b) : { items => [] };
my @ids = map { $_->{id} } @{ $page->{items} };
my %even = map { ("u" . 2 * $_ => 1) } 0 .. 31;

ok(@ids > 0, 'some clips kept (' . scalar(@ids) . ')');
is(scalar(grep { !$even{$_} } @ids), 0,
   'only the clips carrying a listed tag were kept');

nginx_stop($ngx);

my $errors = read_file("$dir/prefix/logs/error.log");
unlike($errors, qr/feed_rank_by_lua.*(failed|error)/i, 'the hook did not fail');
unlike($errors, qr/exited (on signal|with code [1-9])/, 'no worker died');

done_testing();
