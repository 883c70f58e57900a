# Lua hooks around one nginx: a reload replaces the hook (and a reload
# with a broken hook is refused, the old one serving on); the calm feed
# lets divisive clips through for a viewer who liked some; the metrics.

use strict;
use warnings;

use lib 't/lib';
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-lua-reload-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($catalog) = feed_topic_catalog($dir);
my $lua = abs_path('lua');
my $json = JSON::PP->new->canonical;

my $lines = read_file($catalog);
$lines =~ s/"tags":\["topic1"\]/"tags":["topic1","divisive"]/g;
write_file($catalog, $lines);

sub boost_hook {
    my ($topic) = @_;
    return "feed_rank_by_lua_block {\n"
         . "    return function(c)\n"
         . "        for i = 1, c.n do\n"
         . "            if c.tags[i][1] == 'topic$topic' then\n"
         . "                c.score[i] = c.score[i] + 100\n"
         . "            end\n"
         . "        end\n"
         . "        return c.score\n"
         . "    end\n"
         . "}\n";
}

sub config {
    my ($hook) = @_;
    return (
        dir     => "$dir/prefix",
        port    => $port,
        workers => 2,
        http    => "    feed_catalog $catalog;\n"
                   . "    feed_secret_file $fx/secret.key;\n"
                   . "    feed_state_zone viewers:4m;\n"
                   . "    feed_explore_share 0;\n"
                   . "    feed_zeitgeist_share 0;\n"
                   . "    feed_candidates 1000;\n"
                   # every clip a candidate: pages that do not hang on
                   # the random source's draw
                   . "    feed_source random 1;\n"
                   . "    feed_lua_package_path \"$lua/?.lua\";\n",
        server  => "        location = /feed { feed_manifest; $hook }\n"
                   . "        location = /boost1 { feed_manifest; "
                   . boost_hook(1) . " }\n"
                   . "        location = /calm { feed_manifest;\n"
                   . "            feed_rank_by_lua_block {\n"
                   . "                return require('feed.calm').hook{"
                   . " penalty = 100 }\n"
                   . "            }\n"
                   . "        }\n"
                   . "        location = /feed/events { feed_events; "
                   . "feed_events_rate 100r/s burst=100; }\n"
                   . "        location = /metrics { feed_status; }\n",
    );
}

sub page {
    my ($uri, $jar) = @_;
    my ($s, $h, $b) = http_request($port, 'GET', $uri, jar => $jar // {});
    die "$uri: $s $b\n" unless $s == 200;
    return $json->decode($b)->{items};
}

sub first_topic {
    my ($items) = @_;
    return $items->[0]{id} =~ /^t(\d)-/ ? $1 : -1;
}

my $ngx = nginx_start(config(boost_hook(0)));

# both workers serve with the hook

is(first_topic(page('/feed')), 0, "hook A: topic0 first ($_)") for 1 .. 4;

# a reload replaces the hook

FeedTest::nginx_prefix(config(boost_hook(2)));
my $log = nginx_reload($ngx);
unlike($log, qr/\[emerg\]/, 'reload with hook B accepted');
ok(wait_for(sub {
       my $ok = 1;
       $ok &&= first_topic(page('/feed')) == 2 for 1 .. 4;
       return $ok;
   }, 10), 'after the reload, hook B: topic2 first');

# a reload with a broken hook is refused; hook B serves on

FeedTest::nginx_prefix(config("feed_rank_by_lua_block { return function(c) if end }"));
$log = nginx_reload($ngx);
like($log, qr/\[emerg\].*"feed_rank_by_lua_block": \S+nginx\.conf:\d+: .*near/,
     'a syntax error refuses the reload, naming file and line');
is(first_topic(page('/feed')), 2, "still hook B ($_)") for 1 .. 3;

# calm feed: a newcomer never sees divisive clips; one who liked some does

my $fresh = page('/calm?n=20');
is(scalar(grep { grep { $_ eq 'divisive' } @{ $_->{tags} } } @$fresh), 0,
   'calm feed: no divisive clip for a newcomer');

my %jar;
my $items = page('/boost1', \%jar);
my @liked = grep { $_->{id} =~ /^t1-/ } @$items;
ok(@liked >= 3, 'the boost shows divisive clips');

my ($s, $h, $b) = http_request($port, 'POST', '/feed/events', jar => \%jar,
    body => $json->encode({ events => [ map {
        { impression => $_->{impression}, watch_ms => 3000, loops => 1,
          like => JSON::PP::true } } @liked[0 .. 2] ] }));
is($s, 200, 'likes posted');
like($b, qr/"accepted":3/, 'three likes accepted') or diag($b);

my $calm = page('/calm?n=20', \%jar);
ok(scalar(grep { grep { $_ eq 'divisive' } @{ $_->{tags} } } @$calm) > 0,
   'calm feed: divisive clips come back for a viewer who liked them');

# the metrics count the calls

my $m = metrics($port, '/metrics');
ok(($m->{feed_lua_calls_total} // 0) >= 12, 'feed_lua_calls_total counts')
    or diag(explain($m));
is($m->{'feed_lua_failures_total{reason="error"}'}, 0, 'no failures');

nginx_stop($ngx);

done_testing();
