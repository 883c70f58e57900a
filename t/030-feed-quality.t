# A clip's quality part is how much of it is watched per impression: two
# clips with one qualified view each, one watched to the end and one just
# past half, rank apart; a clip shown and never reported sits below
# both, under the prior.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep);
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-quality-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->canonical;

# four clips of 3 s, each its own creator and sound

feed_small_catalog($dir, 'q', 4, 2);

my $ngx = nginx_start(
    dir     => "$dir/prefix",
    port    => $port,
    workers => 2,
    http    => "    feed_catalog $dir/catalog.jsonl;\n"
               . "    feed_secret_file $fx/secret.key;\n"
               . "    feed_state_zone viewers:1m;\n",
    server  => "        location = /feed { feed_manifest; }\n"
               . "        location = /feed/events { feed_events; }\n",
);

sub page {
    my ($jar) = @_;

    my ($s, $h, $b) = http_request($port, 'GET', '/feed?n=4', jar => $jar);
    die "manifest: $s $b\n" unless $s == 200;

    return { map { $_->{id} => $_ } @{ $json->decode($b)->{items} } };
}

# the first viewer: every clip once; one watched whole, one 1.6 s of 3
# (a qualified view all the same), one never reported

my %one;
my $items = page(\%one);
my @ids = sort keys %$items;

is(scalar @ids, 4, 'the first viewer is shown the four clips');

my ($whole, $half, $silent) = @ids[0 .. 2];

my ($s, $h, $b) = http_request($port, 'POST', '/feed/events', jar => \%one,
    body => $json->encode({ events => [
        { impression => $items->{$whole}{impression}, watch_ms => 3000 },
        { impression => $items->{$half}{impression}, watch_ms => 1600 },
    ] }));

is($s, 200, 'events posted');
is($json->decode($b)->{accepted}, 2, 'both accepted');

sleep 1.5;     # the workers copy the counters every second

# a second viewer sees the same clips with their quality parts

my %two;
my $page = page(\%two);
my $q = { map { $_ => $page->{$_}{parts}{quality} } keys %$page };

for my $id ($whole, $half, $silent) {
    ok(defined $q->{$id}, "$id is on a newcomer's page");
}

diag(sprintf('quality: whole %.4f, past half %.4f, unreported %.4f',
             map { $q->{$_} // -1 } $whole, $half, $silent));

cmp_ok($q->{$whole} // 0, '>', ($q->{$half} // 1) + 0.01,
       'watched whole ranks above watched past half');
cmp_ok($q->{$half} // 0, '>', ($q->{$silent} // 1) + 0.01,
       'and that above a clip shown and never reported');
cmp_ok(abs(($q->{$whole} // 0) - 7 / 21), '<', 0.002,
       'whole: (1 + 20 x 0.3) / (1 + 20)');

done_testing();
