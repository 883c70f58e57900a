# A clip's reach part is minus the share of the viewers in the state zone
# it has been shown to (the zone counting as 100 viewers at least): 0 for
# a clip nobody has seen, lower the more viewers have; weighted, it puts
# the clips others have seen after those they have not, so that viewers'
# feeds differ.

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
my $dir = tempdir('feed-reach-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->canonical;

# six clips out of the fresh pool, each its own creator and sound

feed_small_catalog($dir, 'r', 6, 3);

# reach alone decides the order: the other scorers and the reserved
# slots are off

my $only_reach = join '', map { "            feed_score $_ off;\n" }
                 qw(similarity quality freshness creator lineage);

my $ngx = nginx_start(
    dir     => "$dir/prefix",
    port    => $port,
    workers => 2,
    http    => "    feed_catalog $dir/catalog.jsonl;\n"
               . "    feed_secret_file $fx/secret.key;\n"
               . "    feed_state_zone viewers:1m;\n",
    server  => "        location = /feed {\n"
               . "            feed_manifest;\n"
               . "            feed_score reach 5;\n"
               . $only_reach
               . "            feed_explore_share 0;\n"
               . "            feed_zeitgeist_share 0;\n"
               . "        }\n",
);

sub page {
    my ($jar, $n) = @_;

    my ($s, $h, $b) = http_request($port, 'GET', "/feed?n=$n", jar => $jar);
    die "manifest: $s $b\n" unless $s == 200;

    return $json->decode($b)->{items};
}

# two viewers are shown two and three clips

my (%one, %two, %shown);

$shown{ $_->{id} }++ for @{ page(\%one, 2) }, @{ page(\%two, 3) };

my @twice = grep { $shown{$_} == 2 } keys %shown;
my @once = grep { $shown{$_} == 1 } keys %shown;
my @never = grep { !$shown{$_} } map { "r$_" } 0 .. 5;

cmp_ok(scalar @never, '>=', 1, 'some clips were shown to nobody');

sleep 1.5;     # the workers copy the counters every second

# a third viewer is shown all six

my %three;
my $items = page(\%three, 6);
my %reach = map { $_->{id} => $_->{parts}{reach} } @$items;

is(scalar @$items, 6, 'the third viewer is shown the six clips');

$shown{"r$_"} //= 0 for 0 .. 5;

diag(join ', ', map { sprintf '%s: shown %d, reach %s', $_->{id},
                              $shown{ $_->{id} }, $_->{parts}{reach} }
                @$items);

# three viewers: under the floor, the audience counts as 100

ok(!grep({ abs(($reach{$_} // 1) + $shown{$_} / 100) > 0.001 } keys %reach),
   'each clip\'s reach part is -shown / 100 with three viewers')
    or diag(explain(\%reach));

is($reach{$_}, 0, "$_, shown to nobody, has nothing taken off") for @never;

# the page: the clips shown to fewer viewers first

my @order = map { $shown{ $_->{id} } } @$items;

is_deeply(\@order, [sort { $a <=> $b } @order],
          'clips seen by fewer viewers come first')
    or diag("times shown, in page order: @order");

# 120 more viewers, one clip each: then the share is of the viewers
# the zone holds (123, or 124 if the last came before the copy)

$shown{ $_->{id} }++ for @$items;

for (1 .. 120) {
    my %jar;
    $shown{ $_->{id} }++ for @{ page(\%jar, 1) };
}

sleep 1.5;

my %last;
$items = page(\%last, 6);
%reach = map { $_->{id} => $_->{parts}{reach} } @$items;

my $audience;

for my $n (123, 124) {
    $audience = $n
        if !grep { abs(($reach{$_} // 1) + $shown{$_} / $n) > 0.001 }
                keys %reach;
}

ok(defined $audience, 'with 123 viewers, the reach part is -shown / viewers')
    or diag(explain({ reach => \%reach, shown => \%shown }));

done_testing();
