package Test::Nginx::Process;

# Starting and stopping the nginx under test.
#
# Unlike the real Test::Nginx, which lets nginx daemonize and then finds it
# again through the pid file, nginx runs here in the foreground as a direct
# child of the test process ("daemon off" in the generated config):
#
#   - readiness is known without sending a probe request (which would leave
#     "client closed connection" lines in error.log): nginx writes its pid
#     file only after it has bound the listening sockets;
#   - an early exit (bad config, port in use) is seen at once through
#     waitpid(), together with what nginx printed on stderr;
#   - the process is always reaped, so no zombie is left to be mistaken for
#     a running server.

use strict;
use warnings;

use base 'Exporter';

use POSIX qw(:sys_wait_h SIGQUIT SIGTERM SIGKILL);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(
    spawn_nginx wait_nginx_ready stop_nginx kill_stale_nginx nginx_pid
    describe_status
);

# Polling step while waiting for nginx to come up or go away.
my $Step = 0.005;

# The pid of the running nginx (our child), if any, and its pid file.
my ($Pid, $PidFile);

sub nginx_pid { $Pid }

# Forks and execs nginx with stdout and stderr appended to $stderr_file.
# The child gets its own process group so that a forced kill also reaches
# the workers of a master process that did not shut down.
sub spawn_nginx {
    my (%args) = @_;

    unlink $args{pid_file};

    my $pid = fork;
    die "fork() failed: $!\n" unless defined $pid;

    if ($pid == 0) {
        setpgrp(0, 0);

        open STDIN, '<', '/dev/null';
        if (open my $err, '>>', $args{stderr_file}) {
            open STDOUT, '>&', $err;
            open STDERR, '>&', $err;
        }

        my @cmd = ($args{binary}, '-p', "$args{prefix}/",
                   '-c', $args{conf_file});
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }

    ($Pid, $PidFile) = ($pid, $args{pid_file});
    return $pid;
}

# Returns ('ready') once nginx has written its pid file, ('exited', $status)
# if it exited first, or ('timeout') if neither happened in time.
sub wait_nginx_ready {
    my ($pid, $pid_file, $timeout) = @_;

    my $deadline = time + $timeout;

    while (1) {
        my $res = waitpid($pid, WNOHANG);
        if ($res == $pid || $res == -1) {
            my $status = $res == $pid ? $? : -1;
            undef $Pid if defined $Pid && $Pid == $pid;
            return ('exited', $status);
        }

        return ('ready') if pid_file_matches($pid_file, $pid);
        return ('timeout') if time > $deadline;

        sleep $Step;
    }
}

# nginx writes "<pid>\n" with one write(), so a partial read just means
# "not yet".
sub pid_file_matches {
    my ($pid_file, $pid) = @_;

    open my $in, '<', $pid_file or return 0;
    my $got = <$in> // '';
    close $in;

    return $got =~ /^(\d+)\n\z/ && $1 == $pid;
}

# Waits for our child to exit, for at most $secs seconds.
sub reap_within {
    my ($pid, $secs) = @_;

    my $deadline = time + $secs;

    while (1) {
        my $res = waitpid($pid, WNOHANG);
        return 1 if $res == $pid || $res == -1;
        return 0 if time > $deadline;
        sleep $Step;
    }
}

# Graceful stop (QUIT, or TERM with TEST_NGINX_FAST_SHUTDOWN), then TERM,
# then KILL to the whole process group; always reaps.
sub stop_nginx {
    my (%args) = @_;

    my $pid = $Pid // return;
    undef $Pid;

    # under valgrind the leak check at exit takes seconds

    my $grace = $args{grace} // ($ENV{TEST_NGINX_USE_VALGRIND} ? 15 : 1);

    kill($ENV{TEST_NGINX_FAST_SHUTDOWN} ? SIGTERM : SIGQUIT, $pid);

    if (!reap_within($pid, $grace)) {
        warn "WARNING: nginx $pid did not exit within ${grace}s after "
             . "SIGQUIT, sending SIGTERM\n";
        kill SIGTERM, $pid;

        if (!reap_within($pid, 0.5)) {
            warn "WARNING: killing nginx $pid with SIGKILL\n";
            kill SIGKILL, -$pid;
            kill SIGKILL, $pid;
            waitpid($pid, 0);
        }
    }

    # A killed nginx leaves its pid file behind; once the pid is reaped it
    # may be reused by an unrelated process, which kill_stale_nginx() must
    # never signal.
    unlink $PidFile if pid_file_matches($PidFile, $pid);
}

# A zombie still answers kill(0); look at its state where /proc has it.
sub is_alive {
    my $pid = shift;

    return 0 unless kill 0, $pid;

    if (open my $in, '<', "/proc/$pid/stat") {
        my $stat = <$in> // '';
        close $in;
        return 0 if $stat =~ /^\d+ \(.*\) Z /s;
    }

    return 1;
}

# An nginx left running by an earlier run (TEST_NGINX_NO_CLEAN, a killed
# test process) holds the port; it is not our child, so it can only be
# polled, not reaped.
sub kill_stale_nginx {
    my $pid_file = shift;

    open my $in, '<', $pid_file or return;
    my $pid = <$in> // '';
    close $in;

    return unless $pid =~ /^(\d+)\s*$/;
    $pid = $1;

    return if defined $Pid && $pid == $Pid;
    return unless is_alive($pid);

    kill SIGQUIT, $pid;

    for my $sig (SIGQUIT, SIGTERM, SIGKILL) {
        kill $sig, $pid if $sig != SIGQUIT;

        my $deadline = time + 1;
        while (time < $deadline) {
            return unless is_alive($pid);
            sleep $Step;
        }
    }

    warn "WARNING: could not stop the stale nginx process $pid\n";
}

sub describe_status {
    my $status = shift;

    return 'could not be executed' if $status == -1;
    return 'killed by signal ' . ($status & 127) if $status & 127;
    return 'exit code ' . ($status >> 8);
}

1;
