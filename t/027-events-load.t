# Events under load: clients in parallel fetch pages from two workers and
# post a like for every item; every item served and every event accepted
# is counted exactly once in the shared clip counters (no lost update
# between the workers).

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-load-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($catalog, $media) = feed_topic_catalog($dir, per => 100);

my $ngx = nginx_start(
    dir     => "$dir/prefix",
    port    => $port,
    workers => 2,
    http    => "    feed_catalog $catalog;\n"
               . "    feed_secret_file $fx/secret.key;\n"
               . "    feed_state_zone viewers:8m;\n",
    server  => "        location = /feed { feed_manifest; }\n"
               . "        location = /feed/events { feed_events; "
               . "feed_events_rate 10000r/s burst=10000; }\n"
               . "        location = /metrics { feed_status; }\n",
);

my $clients = 8;
my $viewers = 4;         # per client
my $pages = 5;           # per viewer
my $json = JSON::PP->new->canonical;

my @kids;

for my $c (1 .. $clients) {
    pipe(my $r, my $w) or die "pipe: $!\n";
    my $pid = fork() // die "fork: $!\n";

    if ($pid == 0) {
        close $r;
        my ($served, $posted, $accepted, $errors) = (0, 0, 0, 0);

        for my $v (1 .. $viewers) {
            my %jar;

            for my $p (1 .. $pages) {
                my ($s, $h, $b) = http_request($port, 'GET', '/feed?n=10',
                                               jar => \%jar);
                if ($s != 200) {
                    $errors++;
                    next;
                }

                my @items = @{ $json->decode($b)->{items} };
                $served += @items;
                next unless @items;

                my @ev = map { { impression => $_->{impression},
                                 watch_ms => 3000,
                                 like => JSON::PP::true } } @items;

                ($s, $h, $b) = http_request($port, 'POST', '/feed/events',
                    jar => \%jar, body => $json->encode({ events => \@ev }));
                if ($s != 200) {
                    $errors++;
                    next;
                }

                $posted += @ev;
                $accepted += $json->decode($b)->{accepted};
            }
        }

        print $w "$served $posted $accepted $errors\n";
        close $w;
        exit 0;
    }

    close $w;
    push @kids, [ $pid, $r ];
}

my ($served, $posted, $accepted, $errors) = (0, 0, 0, 0);

for my $k (@kids) {
    my $line = readline($k->[1]) // '0 0 0 1';
    waitpid($k->[0], 0);
    my @n = split ' ', $line;
    $served += $n[0];
    $posted += $n[1];
    $accepted += $n[2];
    $errors += $n[3];
}

diag("$clients clients: $served items served, $posted events posted, "
     . "$accepted accepted");

is($errors, 0, 'every request answered 200');
is($accepted, $posted, 'every event accepted');
cmp_ok($served, '>=', $clients * $viewers * $pages * 5, 'pages were full');

# the workers copy the shared counters every second

my $ok = wait_for(sub {
    my $m = metrics($port);
    ($m->{'feed_clip_counters{counter="likes"}'} // -1) == $accepted
        && ($m->{'feed_clip_counters{counter="impressions"}'} // -1)
           == $served;
}, 5);

my $m = metrics($port);

is($m->{'feed_clip_counters{counter="impressions"}'}, $served,
   "the shared counters hold every impression ($served)");
is($m->{'feed_clip_counters{counter="likes"}'}, $accepted,
   "and every like ($accepted)");
is($m->{'feed_clip_counters{counter="qualified"}'}, $accepted,
   'and every qualified view');
is($m->{'feed_events_total{result="accepted"}'}, $accepted,
   'the accepted events metric agrees');

# each worker counts on its own lines; feed_status adds them up

my $items = 0;
$items += $m->{$_} for grep { /^feed_items_total\{/ } keys %$m;

is($items, $served, "feed_items_total of every reason adds up to $served");
is($m->{'feed_requests_total{kind="manifest"}'}, $clients * $viewers * $pages,
   'every page request is counted once');
is($m->{'feed_requests_total{kind="events"}'}, $clients * $viewers * $pages,
   'and every events request');

done_testing();
