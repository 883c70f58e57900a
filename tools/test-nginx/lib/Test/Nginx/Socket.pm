package Test::Nginx::Socket;

# A from-scratch implementation of the commonly used subset of
# Test::Nginx::Socket (https://github.com/openresty/test-nginx), for
# machines where the real one cannot be installed.  Test files written for
# the real module run unchanged; see README.md next to lib/ for the exact
# subset and the differences.
#
# Like the real one it is a Test::Base subclass: Test::Base parses the
# __DATA__ blocks and runs the section filters (eval, chomp, ...), and
# "use Test::Nginx::Socket 'no_plan'" / "tests => N" go through
# Test::Base's import.

use strict;
use warnings;

use Test::Base -base;

use Digest::MD5 ();
use File::Basename qw(dirname);
use File::Spec ();
use HTTP::Response ();
use Digest::SHA ();
use List::Util qw(shuffle);
use Scalar::Util qw(looks_like_number);
use Test::LongString;
use Time::HiRes qw(sleep time);

use Test::Nginx::Util qw(:all);
use Test::Nginx::Process qw(spawn_nginx wait_nginx_ready stop_nginx
                            kill_stale_nginx nginx_pid describe_status);
use Test::Nginx::Request qw(build_requests send_request parse_response);

our $VERSION = '0.01';

our @EXPORT = qw(
    env_to_nginx is_str run_tests repeat_each config_preamble
    worker_connections master_process_enabled no_long_string workers
    master_on master_off log_level no_shuffle no_root_location server_name
    server_addr server_root html_dir server_port server_port_for_client
    timeout check_accum_error_log add_block_preprocessor bail_out
    add_test_cleanup_handler add_cleanup_handler add_response_body_check
    use_hup no_nginx_manager
);

our @ResponseBodyChecks;

sub add_response_body_check { push @ResponseBodyChecks, shift }

# Accepted so that test files written for the real runner still compile;
# the modes themselves are not implemented.
sub use_hup { bail_out("use_hup() is not supported by this runner") }

sub no_nginx_manager {
    bail_out("no_nginx_manager() is not supported by this runner");
}

sub is_str {
    my ($got, $expected, $desc) = @_;

    return Test::More::like($got, $expected, $desc)
        if ref $expected eq 'Regexp';
    return Test::More::is($got, $expected, $desc) if $NoLongString;
    return is_string($got, $expected, $desc);
}

# Sections of the real runner that this one does not implement.  A block
# using one of them is refused rather than silently half-run.
my @Unsupported = qw(
    http2 http3 curl_protocol curl_options curl_error
    stap stap_out stap_out_like stap_out_unlike
    tcp_listen tcp_reply tcp_reply_delay tcp_query tcp_query_len
    tcp_query_auto_timeout tcp_shutdown tcp_shutdown_delay tcp_no_close
    udp_listen udp_reply udp_reply_delay udp_query
    shutdown_error_log no_shutdown_error_log access_log no_access_log
    reload_fails error_log_file skip_nginx2 skip_openssl todo_nginx
    request_eval response_body_eval response_body_json_sort charset
    write_resp_body_file
);

# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

my $Started;

sub init_run {
    return if $Started++;

    nginx_binary();
    nginx_version();

    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;

    # valgrind mode: nginx runs under tools/valgrind-nginx (memcheck, one
    # log per process); everything takes longer

    if ($ENV{TEST_NGINX_USE_VALGRIND}) {
        $ENV{FEED_VALGRIND_NGINX} //= nginx_binary();
        $Test::Nginx::Util::Timeout = 30 unless $ENV{TEST_NGINX_TIMEOUT};
    }

    $Test::Nginx::Util::BeforeBailOut = \&stop_nginx;

    # An interrupted run must not leave nginx holding the port.
    for my $sig (qw(INT TERM HUP)) {
        $SIG{$sig} = sub {
            stop_nginx(grace => 0.2);
            $SIG{$sig} = 'DEFAULT';
            kill $sig, $$;
        };
    }
}

sub run_tests {
    init_run();

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;

        # The real runner prefixes every test name with the script name.
        $block->set_value(name => "$0 " . $block->name);

        run_block($block);

        $_->($block) for @TestCleanupHandlers;
    }
}

sub run_block {
    my $block = shift;

    my $name = $block->name;

    for my $sec (@Unsupported) {
        bail_out("$name - the --- $sec section is not supported by this "
                 . "runner") if defined $block->$sec;
    }

    new_rand_ports();

    my $config = $block->config;
    $config = '' if !defined $config
                    && (defined $block->http_config
                        || defined $block->main_config);
    $config = expand_env_in_text($config, $name);

    my ($ntests, $why, $todo) = skip_spec($block);

    if (defined $ntests) {
        skip_block($block, $ntests, $why, $todo);
        return;
    }

    if (defined $block->must_die) {
        run_must_die($block, $config);
        return;
    }

    if (defined $config) {
        restart_server($block, $config);

    } elsif (!defined nginx_pid()) {
        bail_out("$name - No '--- config' section specified and could not "
                 . "get previous one.");
    }

    if (defined(my $init = $block->init)) {
        eval $init;
        bail_out("$name - init failed: $@") if $@;
    }

    reset_error_log_pos();

    for my $i (0 .. $RepeatEach - 1) {
        write_user_files($block) if $i > 0;
        run_requests($block, $i);
    }
}

# --- skip_nginx: N: < 1.21.0 [: reason]
# --- skip_eval: N: perl expression
# --- todo: N: reason
# Returns (number of tests, reason, is_todo) when the block is not run.
sub skip_spec {
    my $block = shift;

    my $name = $block->name;

    if (defined(my $spec = $block->todo)) {
        $spec =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$name - Invalid --- todo spec: $spec");
        return ($1, $2, 1);
    }

    if (defined(my $spec = $block->skip_eval)) {
        if ($spec =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            my ($n, $code) = ($1, $2);
            my $skip = eval $code;
            bail_out("$name - skip_eval - failed to eval the Perl code "
                     . "\"$code\": $@") if $@;
            return ($n, 'skip_eval') if $skip;
        }
    }

    if (defined(my $spec = $block->skip_nginx)) {
        $spec =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
                  (?:\s*:\s*(.*))?\s*$/x
            or bail_out("$name - Invalid --- skip_nginx spec: $spec");

        my ($n, $op, $reason) = ($1, $2, $6);
        my $ver = get_canon_version($3, $4, $5);
        my $have = nginx_version();

        my $skip = $op eq '<'  ? $have <  $ver
                 : $op eq '<=' ? $have <= $ver
                 : $op eq '>'  ? $have >  $ver
                 :               $have >= $ver;

        return ($n, $reason || "nginx version $op $3.$4.$5") if $skip;
    }

    return ();
}

sub skip_block {
    my ($block, $n, $why, $todo) = @_;

    my $name = $block->name;

    for (1 .. $RepeatEach) {
        if ($todo) {
            TODO: { todo_skip("$name - $why", $n) }

        } else {
            SKIP: { skip("$name - $why", $n) }
        }
    }
}

# ---------------------------------------------------------------------------
# nginx process
# ---------------------------------------------------------------------------

sub prepare_server_root {
    my ($block, $config) = @_;

    my $name = $block->name;

    kill_stale_nginx($PidFile);
    setup_server_root();

    if (defined(my $code = $block->post_setup_server_root)) {
        eval $code;
        bail_out("$name - post_setup_server_root failed: $@") if $@;
    }

    write_user_files($block);
    write_config_file($block, $config);
}

sub start_nginx {
    return spawn_nginx(
        binary      => $ENV{TEST_NGINX_USE_VALGRIND} ? valgrind_wrapper()
                                                      : nginx_binary(),
        prefix      => $ServRoot,
        conf_file   => $ConfFile,
        pid_file    => $PidFile,
        stderr_file => $StderrFile,
    );
}

sub ready_timeout { $Timeout > 5 ? $Timeout : 5 }

sub valgrind_wrapper {
    my $dir = File::Spec->rel2abs(dirname(__FILE__));
    return "$dir/../../../../valgrind-nginx";
}

sub nginx_command {
    return nginx_binary() . " -p $ServRoot/ -c $ConfFile";
}

sub slurp {
    my $file = shift;
    open my $in, '<', $file or return '';
    local $/;
    return scalar <$in>;
}

sub restart_server {
    my ($block, $config) = @_;

    my $name = $block->name;

    stop_nginx();
    prepare_server_root($block, $config);

    # The port can still be held for a moment by a server that is going
    # away; nginx itself already retries bind() for a while.
    my $deadline = time + 5;

    while (1) {
        my $pid = start_nginx();
        my ($state, $status) = wait_nginx_ready($pid, $PidFile,
                                                ready_timeout());
        return if $state eq 'ready';

        if ($state eq 'timeout') {
            stop_nginx(grace => 0.2);
            bail_out("$name - nginx did not get ready within "
                     . ready_timeout() . "s (\"" . nginx_command() . "\")");
        }

        my $err = slurp($StderrFile);

        if ($err =~ /Address already in use/ && time < $deadline) {
            unlink $StderrFile;
            sleep 0.1;
            next;
        }

        diag("nginx output:\n$err") if $err ne '';
        bail_out("$name - Cannot start nginx using command \""
                 . nginx_command() . "\" (" . describe_status($status) . ").");
    }
}

# --- must_die: nginx has to fail to start, with the given exit code if
# one is specified.  The error_log checks then run against what nginx
# printed and logged.
sub run_must_die {
    my ($block, $config) = @_;

    my $name = $block->name;
    my $want = $block->must_die;

    bail_out("$name - --- must_die needs a --- config section")
        unless defined $config;

    stop_nginx();
    prepare_server_root($block, $config);
    reset_error_log_pos();

    for my $i (0 .. $RepeatEach - 1) {
        my $pid = start_nginx();
        my ($state, $status) = wait_nginx_ready($pid, $PidFile,
                                                ready_timeout());
        my $died = $state eq 'exited';
        $status = 0 unless $died;

        if ($died && $status == -1) {
            fail("$name - failed to execute the nginx command line");

        } elsif ($died && $status & 128) {
            fail("$name - nginx core dumped");

        } elsif (looks_like_number($want)) {
            is($want, $status >> 8, "$name - die with the expected exit code");

        } else {
            isnt($status, 0, "$name - die as expected");
        }

        check_error_log($block, undef, $i, 0);

        if (!$died) {
            warn "WARNING: $name - nginx must die but it does not; "
                 . "killing it (req $i)\n";
            stop_nginx(grace => 0.2);
        }
    }
}

END {
    # Keep the exit status Test::Builder is about to report.
    local $?;

    return unless $Started;

    run_cleanup_handlers();

    # TEST_NGINX_NO_CLEAN leaves the last server running for inspection.
    stop_nginx() unless $ENV{TEST_NGINX_NO_CLEAN};
}

# ---------------------------------------------------------------------------
# Requests and checks
# ---------------------------------------------------------------------------

sub no_ending {
    Test::More->builder->no_ending(1);
}

sub run_requests {
    my ($block, $repeated) = @_;

    my $name  = $block->name;
    my $conns = build_requests($block);

    my $timeout = parse_time(scalar $block->timeout) // $Timeout;
    my $ignore  = defined $block->ignore_response;

    my $total = 0;
    $total += $_->{responses} for @$conns;

    my $need_array = defined $block->pipelined_requests || $total > 1;
    my $req_idx = 0;
    my $res;

    for my $conn (@$conns) {
        my $raw = send_one($block, $conn, $timeout);

        for my $n (1 .. $conn->{responses}) {
            if (!$ignore) {
                my ($raw_headers, $left);
                ($res, $raw_headers, $left) = read_response($block, $raw,
                                                            $conn);

                if ($conn->{responses} == 1) {
                    warn_leftover($name, $left);
                } else {
                    $raw = $left // '';
                }

                check_error_code($block, $res, $req_idx, $need_array);
                check_raw_response_headers($block, $raw_headers, $req_idx,
                                           $need_array);
                check_response_headers($block, $res, $raw_headers, $req_idx,
                                       $need_array);
                transform_response_body($block, $res, $req_idx);
                check_response_body($block, $res, $req_idx, $repeated,
                                     $need_array);
            }

            # Every response but the last gets its own error log check
            # here; the last one gets it below, after --- wait.
            if (++$req_idx < $total) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $res, $repeated, $need_array);
            }
        }
    }

    sleep $block->wait if $block->wait;
    check_error_log($block, $res, $repeated, $need_array);
}

sub send_one {
    my ($block, $conn, $timeout) = @_;

    my $name = $block->name;
    my $addr = $block->server_addr_for_client // $ServerAddr;

    my $shutdown = $block->shutdown;
    $shutdown = 1 if defined $shutdown && $shutdown !~ /\S/;

    my ($raw, $err) = send_request(
        name         => $name,
        addr         => $addr,
        port         => $ServerPortForClient,
        packets      => $conn->{packets},
        middle_delay => scalar $block->raw_request_middle_delay,
        timeout      => $timeout,
        shutdown     => $shutdown,
    );

    if (defined $err && $err =~ /^connect: (.*)/) {
        no_ending();
        fail("$name - Can't connect to $addr:$ServerPortForClient: $1 "
             . "(aborted)\n");

    } elsif (defined $err && !defined $block->abort) {
        no_ending();
        fail("ERROR: client socket timed out - $name\n");
    }

    return $raw // '';
}

sub read_response {
    my ($block, $raw, $conn) = @_;

    return (HTTP::Response->new(200, 'OK', [], $raw), '')
        if defined $block->http09;

    my ($res, $raw_headers, $left, $err) =
        parse_response($raw, $conn->{head}, $block->name);

    if (defined $err) {
        no_ending();
        fail($block->name . " - $err");
    }

    return ($res, $raw_headers, $left);
}

sub warn_leftover {
    my ($name, $left) = @_;
    return unless defined $left && length $left;

    $left =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
    warn "WARNING: $name - unexpected extra bytes after last chunk in "
         . "response: \"$left\"\n";
}

# With several requests per block, expectations are arrays with one entry
# per request.
sub get_indexed_value {
    my ($name, $value, $req_idx, $need_array) = @_;

    if (ref $value eq 'ARRAY') {
        return $value->[$req_idx] if $need_array || $req_idx == 0;
        bail_out("$name - SHOULD NOT HAPPEN: idx != 0 and don't need array.");
    }

    bail_out("$name - You asked for many requests, the expected results "
             . "should be arrays as well.") if $need_array;

    return $value;
}

sub check_error_code {
    my ($block, $res, $req_idx, $need_array) = @_;

    my $name = $block->name;
    my $code = ($res && $res->code) || '';

    if (defined $block->error_code_like) {
        my $val = get_indexed_value($name, scalar $block->error_code_like,
                                    $req_idx, $need_array);
        like($code, qr/$val/sm, "$name - status code ok");

    } elsif (defined $block->error_code) {
        is($code, get_indexed_value($name, scalar $block->error_code, $req_idx,
                                    $need_array), "$name - status code ok");

    } else {
        is($code, 200, "$name - status code ok");
    }
}

sub check_raw_response_headers {
    my ($block, $raw_headers, $req_idx, $need_array) = @_;

    my $name = $block->name;

    if (defined $block->raw_response_headers_like) {
        my $pat = get_indexed_value($name,
                                    scalar $block->raw_response_headers_like,
                                    $req_idx, $need_array);
        like($raw_headers, qr/$pat/s, "$name - raw resp headers like");
    }

    if (defined $block->raw_response_headers_unlike) {
        my $pat = get_indexed_value($name,
                                    scalar $block->raw_response_headers_unlike,
                                    $req_idx, $need_array);
        unlike($raw_headers, qr/$pat/s, "$name - raw resp headers unlike");
    }
}

# "Name: value" lines; "!Name" means the header must be absent.  A name
# given twice counts once, the last value winning (the real one keeps them
# in a hash).
sub parse_header_spec {
    my $text = shift;

    my (@order, %val);

    for my $line (split /\n/, $text) {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';

        my ($key, $val);
        if ($line =~ s/^!\s*//) {
            $key = $line;

        } else {
            ($key, $val) = split /\s*:\s*/, $line, 2;
            $val //= '';
        }

        push @order, $key unless exists $val{$key};
        $val{$key} = $val;
    }

    return map { [$_, $val{$_}] } @order;
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $req_idx, $need_array) = @_;

    my $name = $block->name;

    if (defined $block->response_headers) {
        my $spec = get_indexed_value($name, scalar $block->response_headers,
                                     $req_idx, $need_array);

        for my $h (parse_header_spec($spec)) {
            my ($key, $val) = @$h;

            if (!defined $val) {
                unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                       "$name - header $key not present in the raw headers");
                next;
            }

            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;

            my $got = $res ? $res->header($key) : undef;
            is($got // '', $val, "$name - header $key ok");
        }

    } elsif (defined $block->response_headers_like) {
        my $spec = get_indexed_value($name,
                                     scalar $block->response_headers_like,
                                     $req_idx, $need_array);

        for my $h (parse_header_spec($spec)) {
            my ($key, $val) = @$h;
            $val //= '';
            my $got = $res ? $res->header($key) : undef;
            like($got // '', qr/^$val$/, "$name - header $key like ok");
        }
    }
}

my %BodyFilters = (
    md5_hex  => \&Digest::MD5::md5_hex,
    sha1_hex => \&Digest::SHA::sha1_hex,
    uc       => sub { uc $_[0] },
    lc       => sub { lc $_[0] },
    ucfirst  => sub { ucfirst $_[0] },
    lcfirst  => sub { lcfirst $_[0] },
    length   => sub { length $_[0] },
);

sub apply_body_filter {
    my ($name, $filter, $content) = @_;

    return $filter->($content) if ref $filter eq 'CODE';

    my $f = !ref $filter && $BodyFilters{$filter}
        or bail_out("$name - unknown filter, \"$filter\", specified in the "
                    . "--- response_body_filters section");
    return $f->($content);
}

# --- response_body_filters: names (md5_hex, uc, length, ...) or code refs,
# applied to the body before it is compared; a list of lists gives one
# list per request.
sub transform_response_body {
    my ($block, $res, $req_idx) = @_;

    my $filters = $block->response_body_filters;
    return unless defined $filters && $res && defined $res->content;

    my $name = $block->name;

    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//g;
        $filters = [ split /\s+/, $filters ];

    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }

    if (ref $filters->[0] eq 'ARRAY') {
        $filters = $filters->[$req_idx]
            // bail_out("$name - the --- response_body_filters "
                        . "two-dimensional array unmatch the specified "
                        . "request($req_idx)");
    }

    my $content = $res->content;
    $content = apply_body_filter($name, $_, $content) for @$filters;
    $res->content($content);
}

sub check_response_body {
    my ($block, $res, $req_idx, $repeated, $need_array) = @_;

    my $name    = $block->name;
    my $content = $res ? $res->content : undef;

    if (defined $block->response_body) {
        my $expected = get_indexed_value($name, scalar $block->response_body,
                                         $req_idx, $need_array);

        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            $expected = expand_env_in_text($expected, $name);
        }

        my $what = "(repeated req $repeated, req $req_idx)";

        if (ref $expected) {
            like($content, $expected, "$name - response_body - like $what");

        } elsif ($NoLongString) {
            is($content, $expected,
               "$name - response_body - response is expected $what");

        } else {
            is_string($content, $expected,
                      "$name - response_body - response is expected $what");
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my $like = defined $block->response_body_like;
        my $type = $like ? 'like' : 'unlike';
        my $pats = $like ? $block->response_body_like
                         : $block->response_body_unlike;

        my $pat = get_indexed_value($name, $pats, $req_idx, $need_array);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;

        my $summary = one_line($content);
        my $desc = "$name - response_body_$type - response is expected "
                   . "($summary)";

        if ($like) {
            like($content, qr/$pat/s, $desc);
        } else {
            unlike($content, qr/$pat/s, $desc);
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $req_idx, $repeated, 0);
    }
}

sub one_line {
    my $s = shift;
    return '' unless defined $s;

    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /g;
    $s =~ s/\s{2,}/ /g;
    return $s;
}

sub fmt_str {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

# ---------------------------------------------------------------------------
# Error log checks
# ---------------------------------------------------------------------------

# Scalar patterns are literal substrings, one per line; eval'd sections
# may give qr// objects or an array of both.
sub pattern_list {
    my $pats = shift;

    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats] if ref $pats eq 'ARRAY';

    chomp $pats;
    return [ split /\n+/, $pats ];
}

sub line_matches {
    my ($line, $pat) = @_;
    return (ref $pat && $line =~ /$pat/) || $line =~ /\Q$pat\E/;
}

sub value_contains {
    my ($val, $str) = @_;

    return scalar grep { defined && /\Q$str\E/ } ref $val eq 'ARRAY'
                                                ? @$val : ($val);
}

sub check_error_log {
    my ($block, $res, $repeated, $need_array) = @_;

    my $name  = $block->name;
    my $lines = error_log_data(defined $block->error_log
                               || defined $block->no_error_log
                               || defined $block->grep_error_log);

    check_grep_error_log($block, $lines, $repeated);

    # A message level the block looks for is not worth a warning.
    my %quiet;
    for my $sec (qw(error_log no_error_log)) {
        my $v = $block->$sec;
        next unless defined $v;
        for my $lvl (qw(alert crit emerg)) {
            $quiet{$lvl} = 1 if value_contains($v, "[$lvl");
        }
    }

    check_error_log_present($block, $lines, $repeated)
        if defined $block->error_log;
    check_error_log_absent($block, $lines, $repeated)
        if defined $block->no_error_log;

    for my $line (@$lines) {
        for my $lvl (qw(alert crit emerg)) {
            next if $quiet{$lvl} || $line !~ /\[$lvl\]/;
            warn "WARNING: $name - " . fmt_str($line) . "\n";
        }

        if ($line =~ /\bAssertion .*?failed\b/) {
            no_ending();
            (my $l = $line) =~ s/\n\z//;
            fail("$name - $l\n");
        }
    }
}

sub check_error_log_present {
    my ($block, $lines, $repeated) = @_;

    my $name = $block->name;
    my $pats = pattern_list(scalar $block->error_log);

    for my $line (@$lines) {
        for my $pat (@$pats) {
            next unless defined $pat && line_matches($line, $pat);
            pass("$name - pattern \"$pat\" matches a line in error.log "
                 . "(req $repeated)");
            undef $pat;
        }
    }

    for my $pat (grep { defined } @$pats) {
        fail("$name - pattern \"$pat\" should match a line in error.log "
             . "(req $repeated)");
    }
}

# One failure per matching line, one pass per pattern that matched nothing.
sub check_error_log_absent {
    my ($block, $lines, $repeated) = @_;

    my $name = $block->name;
    my $pats = pattern_list(scalar $block->no_error_log);
    my %found;

    for my $i (0 .. $#$lines) {
        my $line = $lines->[$i];

        for my $pat (@$pats) {
            next unless defined $pat && line_matches($line, $pat);

            # More failures than the plan has room for.
            no_ending() if $found{$pat}++;

            my $last = $i + 9 < $#$lines ? $i + 9 : $#$lines - 1;
            my $more = join '', @$lines[ $i + 1 .. $last ];

            fail("$name - pattern \"" . fmt_str($pat) . "\" should not match "
                 . "any line in error.log but matches line \""
                 . fmt_str($line) . "\" (req $repeated)\n" . $more);
        }
    }

    for my $pat (@$pats) {
        next if !defined $pat || $found{$pat};
        pass("$name - pattern \"" . fmt_str($pat) . "\" does not match a line "
             . "in error.log (req $repeated)");
    }
}

# --- grep_error_log: what to pick out of the log (substring or qr//)
# --- grep_error_log_out: the expected picks, one per line
sub check_grep_error_log {
    my ($block, $lines, $repeated) = @_;

    my $name     = $block->name;
    my $grep     = $block->grep_error_log;
    my $expected = $block->grep_error_log_out;

    if (!defined $grep) {
        bail_out("$name - No --- grep_error_log defined but "
                 . "--- grep_error_log_out is defined") if defined $expected;
        return;
    }

    bail_out("$name - No --- grep_error_log_out defined but "
             . "--- grep_error_log is defined") unless defined $expected;

    $grep = $grep->[$repeated] if ref $grep eq 'ARRAY';
    $expected = expand_env_in_text($expected, $name) unless ref $expected;
    $expected = $expected->[$repeated] if ref $expected eq 'ARRAY';

    my $out = '';
    for my $line (@$lines) {
        if ((ref $grep && $line =~ /$grep/) || $line =~ /\Q$grep\E/) {
            $out .= "$&\n" if $& !~ /\n/;
        }
    }

    my $desc = "$name - grep_error_log_out (req $repeated)";

    if (ref $expected eq 'Regexp') {
        like($out, $expected, $desc);
    } elsif ($NoLongString) {
        is($out, $expected, $desc);
    } else {
        is_string($out, $expected, $desc);
    }
}

1;
