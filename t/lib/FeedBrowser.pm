package FeedBrowser;

# Plays an HLS URL to the end in headless Chromium through hls.js, by
# running t/browser/play.js, and returns what it reported.  `make test`
# (its browser-deps step) installs Chromium, Node.js when missing, and the
# pinned npm packages under build/node/.
#
#   plan skip_all => $why if my $why = browser_available();
#   my $r = browser_play($url, rate => 4, timeout => 30);
#   ok($r->{ok}) or diag(browser_explain($r));
#
# browser_script runs another script of t/browser/ the same way (the demo
# page's test, demo.js).

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempfile);
use JSON::PP qw(decode_json);
use POSIX qw(WNOHANG);

use Exporter 'import';
our @EXPORT = qw(browser_available browser_play browser_explain
                 browser_script);

our $ROOT = abs_path(dirname(__FILE__) . '/../..');

our $CHROMIUM = $ENV{FEED_CHROMIUM} || '/usr/bin/chromium';
our $MODULES = $ENV{FEED_NODE_MODULES} || "$ROOT/build/node/node_modules";


# '' when the stack is there, else why not, for plan skip_all.

sub browser_available {
    return "no Chromium at $CHROMIUM (make browser-deps)"
        unless -x $CHROMIUM;

    my $v = `node --version 2>/dev/null` // '';

    return 'no node on PATH (make browser-deps)'
        unless $v =~ /^v(\d+)\./;
    return "node $v is older than 18" if $1 < 18;

    for my $pkg ('playwright-core', 'hls.js') {
        return "no $pkg in $MODULES (make browser-deps)"
            unless -f "$MODULES/$pkg/package.json";
    }

    return '';
}


# Options: rate (default 1), timeout in seconds (default 60), screenshot
# (a PNG written when playback did not succeed).  Returns play.js's JSON
# as a hash; dies when the harness itself could not run.

sub browser_play {
    my ($url, %opt) = @_;

    my $timeout = $opt{timeout} // 60;
    my @args = ($url, '--rate', $opt{rate} // 1, '--timeout', $timeout);

    push @args, '--screenshot', $opt{screenshot} if $opt{screenshot};

    # play.js enforces the timeout itself and kills a hung browser after
    # 30 s more; this is only the last resort

    return browser_script('play.js', \@args, timeout => $timeout + 60);
}


# Runs another script of t/browser/ (say demo.js) with @$args, which
# prints one JSON object and exits 0 when it ran: returns that object as a
# hash; dies when the script itself could not run.  Options: timeout in
# seconds (default 120), after which the script is killed.

sub browser_script {
    my ($script, $args, %opt) = @_;

    my $timeout = $opt{timeout} // 120;
    my @cmd = ('node', "$ROOT/t/browser/$script", @$args);

    local $ENV{FEED_CHROMIUM} = $CHROMIUM;
    local $ENV{FEED_NODE_MODULES} = $MODULES;

    my ($efh, $efile) = tempfile('feed-browser-XXXXXX', TMPDIR => 1,
                                 UNLINK => 1);

    my $pid = open(my $out, '-|') // die "fork: $!\n";

    if ($pid == 0) {
        open STDERR, '>&', $efh or POSIX::_exit(127);
        { exec @cmd }
        print STDERR "exec node: $!\n";
        POSIX::_exit(127);
    }

    my $json = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($timeout);
        local $/;
        my $data = <$out>;
        alarm(0);
        $data;
    };

    if (!defined $json) {
        kill 'KILL', $pid;
    }

    close $out;
    my $status = $?;
    my $stderr = do { local (@ARGV, $/) = ($efile); <> } // '';

    die "$script did not finish in $timeout s\n$stderr"
        unless defined $json;
    die "$script failed (exit " . ($status >> 8) . ")\n$stderr"
        if $status != 0;

    my $r = eval { decode_json($json) }
        or die "$script printed no JSON: $@\n$json\n$stderr";

    $r->{stderr} = $stderr if length $stderr;

    return $r;
}


# A few lines for diag() when a playback did not go as it should.

sub browser_explain {
    my ($r) = @_;

    my @l = (sprintf('%s: ended=%s timed_out=%s currentTime=%s duration=%s'
                     . ' stalls=%d segments=%d elapsed=%.1fs',
                     $r->{url} // '?', $r->{ended} ? 1 : 0,
                     $r->{timed_out} ? 1 : 0, $r->{currentTime} // '?',
                     $r->{duration} // '?', $r->{stalls} // 0,
                     $r->{segments_loaded} // 0, $r->{elapsed} // 0));

    for my $e (@{ $r->{errors} // [] }) {
        push @l, sprintf('error: %s %s%s%s%s', $e->{type} // '?',
                         $e->{details} // '?', $e->{fatal} ? ' (fatal)' : '',
                         $e->{url} ? " $e->{url}" : '',
                         $e->{reason} ? " $e->{reason}" : '');
    }

    for my $s (@{ $r->{stall_events} // [] }) {
        push @l, "stall: $s->{type} at $s->{time}";
    }

    for my $q (@{ $r->{requests} // [] }) {
        push @l, "request: $q->{status} $q->{url}"
            . ($q->{failure} ? " $q->{failure}" : '');
    }

    push @l, "screenshot: $r->{screenshot}" if $r->{screenshot};
    push @l, "stderr: $r->{stderr}" if $r->{stderr};

    return join "\n", @l;
}


1;
