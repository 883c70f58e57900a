# Workers killed with SIGKILL under load, in the middle of whatever cache
# operation they were in: no response may ever carry wrong bytes, the zone
# must not stay locked, and once the killing stops every file is served
# again, from a zone whose accounting still adds up.
#
# The zone is four times too small and has no admission filter, so that
# nearly every request changes it (evictions, second-chance moves under
# the lock, reservations filled by the thread pool): a kill lands inside
# a cache operation as often as this load can make it.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-cache-kill-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{KEEP});
my ($catalog, $media) = feed_many_clips($dir, 30);

my $seconds = $ENV{FEED_KILL_SECONDS} || 6;
my $clients = 4;

my @files = map { my $r = $_; map { "$r/$_" } qw(init.mp4 0.m4s 1.m4s) }
            qw(144p 180p);
my %bytes = map { $_ => read_file("$fx/media/fix-a/$_") } @files;

my $ngx = nginx_start(
    dir     => "$dir/prefix",
    port    => $port,
    workers => 2,
    http    => "    feed_catalog $catalog;\n"
               . "    feed_cache_zone hot:1m objects=512 admission=off "
               . "second_chance=20% move_budget=8;\n",
    server  => "        location /v/ { feed_media; "
               . "feed_media_root $media; feed_cache hot; }\n"
               . "        location = /metrics { feed_status; }\n",
);

sub workers {
    my @pids;

    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // '';
        close $fh;

        # pid (comm) state ppid ...
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $ngx->{pid};
    }

    return @pids;
}

# one GET: 'ok', 'bad' (complete but wrong bytes), 'cut' (connection
# closed early: its worker was killed) or 'status NNN'

sub fetch {
    my ($uri, $file) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5)
        or return 'cut';

    print $s "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n";

    my $resp = '';
    while (1) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $resp .= $buf;
    }

    close $s;

    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    return 'cut' unless defined $body;

    my ($status) = $head =~ m{^HTTP/1\.\d (\d+)};
    return 'cut' unless $status;
    return "status $status" unless $status == 200;

    my ($len) = $head =~ /^Content-Length: (\d+)/mi;
    return 'cut' if defined $len && length($body) < $len;

    return $body eq $bytes{$file} ? 'ok' : 'bad';
}

# clients, each in its own process, for $seconds

my @kids;

for my $k (1 .. $clients) {
    my $pid = fork() // die "fork: $!\n";

    if ($pid == 0) {
        my %count;
        my $end = time() + $seconds;
        srand($k * 7919 + $$);

        while (time() < $end) {
            my $clip = 1 + int(rand(30));
            my $file = $files[int(rand(@files))];
            $count{fetch("/v/clip-$clip/$file", $file)}++;
        }

        write_file("$dir/client-$k",
                   join('', map { "$_\t$count{$_}\n" } sort keys %count));
        exit 0;
    }

    push @kids, $pid;
}

# the killer: one worker every 200 ms, whichever it is

my $kills = 0;
my $end = time() + $seconds - 0.5;

sleep 0.5;

while (time() < $end) {
    my @w = workers();

    if (@w) {
        kill 'KILL', $w[int(rand(@w))] and $kills++;
    }

    sleep 0.2;
}

waitpid($_, 0) for @kids;

my %total;

for my $k (1 .. $clients) {
    for (split /\n/, read_file("$dir/client-$k")) {
        my ($what, $n) = split /\t/;
        $total{$what} += $n;
    }
}

diag(join ', ', "$kills kills", map { "$_: $total{$_}" } sort keys %total);

ok($kills >= 10, "workers were killed under load ($kills times)");
# under valgrind a new worker takes seconds to start: fewer responses

ok(($total{ok} // 0) > ($ENV{TEST_NGINX_USE_VALGRIND} ? 0 : 500),
   'the load went on between kills (' . ($total{ok} // 0)
   . ' good responses)');
ok(!$total{bad}, 'no response carried wrong bytes');
is(scalar(grep { /^status/ } keys %total), 0, 'no error status');

# no deadlock: everything is served again, promptly, twice over (the
# second time largely from the zone)

sleep 0.5;

my $t0 = time();
my %after;

for my $pass (1 .. 2) {
    for my $c (1 .. 30) {
        for my $f (@files) {
            $after{fetch("/v/clip-$c/$f", $f)}++;
        }
    }
}

is($after{ok}, 360, 'after the kills: all 360 requests served with the '
   . 'right bytes');
ok(time() - $t0 < 30, 'after the kills: promptly ('
   . sprintf('%.1f s', time() - $t0) . ')');

my $m = metrics($port);
ok($m->{'feed_cache_hits_total{zone="hot"}'} > 0, 'the zone serves hits');
ok($m->{'feed_cache_bytes{zone="hot"}'}
   <= $m->{'feed_cache_capacity_bytes{zone="hot"}'},
   'the zone\'s accounting holds');
diag('reclaims: ' . $m->{'feed_cache_reclaims_total{zone="hot"}'}
     . ', resets: ' . $m->{'feed_cache_resets_total{zone="hot"}'}
     . ', draining: ' . $m->{'feed_cache_draining_total{zone="hot"}'});

nginx_stop($ngx);

my $errors = read_file("$dir/prefix/logs/error.log");
my @signals = $errors =~ /exited on signal 9/g;
ok(@signals >= 10, 'the master saw the workers die (' . @signals . ')');
unlike($errors, qr/\[crit\]/, 'no crit in the error log');
unlike($errors, qr/feed_cache_zone "hot" (is|was) damaged/,
       'the zone was never found damaged');

done_testing();
