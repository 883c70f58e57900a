# The runner must report failures, not only pass good tests: run the
# fixtures in a child perl (its own server root and port) and check the
# TAP it prints.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use FindBin qw($Bin);
use IO::Socket::INET;

my $lib = "$Bin/../lib";
my $tmp = tempdir(CLEANUP => 1);

sub free_port {
    my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                      Proto => 'tcp', Listen => 1)
        or die "cannot find a free port: $!";
    return $sock->sockport;
}

# Runs one fixture; returns its exit code, stdout and stderr, and a map
# from test name (without the script name prefix) to 1 (ok) or 0 (not ok).
sub run_fixture {
    my $name = shift;

    local $ENV{TEST_NGINX_SERVROOT}    = "$tmp/servroot";
    local $ENV{TEST_NGINX_SERVER_PORT} = free_port();
    local $ENV{TEST_NGINX_NO_CLEAN};
    delete local $ENV{TEST_NGINX_HTML_DIR};
    delete local $ENV{TEST_NGINX_SERVER_ROOT};

    my $file = "$Bin/fixtures/$name";
    my $out  = `'$^X' -I'$lib' '$file' 2>'$tmp/stderr'`;
    my $exit = $? >> 8;

    open my $in, '<', "$tmp/stderr" or die $!;
    my $err = do { local $/; <$in> };

    my %res;
    for my $line (split /\n/, $out) {
        next unless $line =~ /^(not )?ok \d+ - \S+ (TEST \d+: .*)$/;
        $res{$2} = $1 ? 0 : 1;
    }

    return ($exit, $out, $err, \%res);
}

sub expect {
    my ($res, $name, $want) = @_;
    ok(exists $res->{$name} && $res->{$name} == $want,
       ($want ? 'passes: ' : 'fails: ') . $name);
}

{
    my ($exit, $out, $err, $res) = run_fixture('failing.tn');

    expect($res, 'TEST 1: control, passes - status code ok', 1);
    expect($res, 'TEST 1: control, passes - response_body - response is '
                 . 'expected (repeated req 0, req 0)', 1);

    expect($res, 'TEST 2: wrong status - status code ok', 0);
    ok((grep { /^TEST 2: wrong status - response_body_like - / && $res->{$_} }
        keys %$res), 'passes: TEST 2: wrong status - response_body_like');

    expect($res, 'TEST 3: wrong body - response_body - response is expected '
                 . '(repeated req 0, req 0)', 0);
    like($err, qr/strings begin to differ at char 1/,
         'body mismatch diagnostics come from Test::LongString');

    expect($res, 'TEST 4: wrong and unexpected headers - header X-Foo ok', 0);
    expect($res, 'TEST 4: wrong and unexpected headers - header Server not '
                 . 'present in the raw headers', 0);
    expect($res, 'TEST 4: wrong and unexpected headers - header Content-Type '
                 . 'ok', 1);

    expect($res, 'TEST 5: error log expectations that do not hold - pattern '
                 . '"this text is never logged" should match a line in '
                 . 'error.log (req 0)', 0);
    ok((grep { /^TEST 5: .* - pattern "http request line" should not match /
               && !$res->{$_} } keys %$res),
       'fails: TEST 5: no_error_log pattern found in the log');

    expect($res, 'TEST 6: must_die, but nginx starts - die as expected', 0);
    like($err, qr/nginx must die but it does not/, 'must_die warning');

    expect($res, 'TEST 7: body does not match the pattern - response_body_like '
                 . '- response is expected (abc)', 0);

    my $failed = grep { !$_ } values %$res;
    is($failed, 8, 'eight failures reported');
    is($exit, 8, 'exit code is the number of failures');
    like($out, qr/^1\.\.\d+$/m, 'no_plan prints a plan at the end');
}

{
    my ($exit, $out, $err, $res) = run_fixture('timeout.tn');

    like($out, qr/^not ok \d+ - ERROR: client socket timed out - \S+ TEST 1: /m,
         'unanswered request times out as a failure');
    unlike($out, qr/timed out - \S+ TEST 2: /, 'no failure with --- abort');
    expect($res, 'TEST 2: same, but the timeout is expected - pattern "[error]" '
                 . 'does not match a line in error.log (req 0)', 1);
}

{
    my ($exit, $out, $err, $res) = run_fixture('bailout.tn');

    like($out, qr/^Bail out!\s+\S+ TEST 1: bad directive - Cannot start nginx/m,
         'nginx failing to start bails out');
    like($out . $err, qr/unknown directive "no_such_directive_here"/,
         'nginx output is shown');
    isnt($exit, 0, 'bail out exits non-zero');
}

done_testing();
