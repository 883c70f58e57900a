package Test::Nginx::Util;

# Settings, server root layout, nginx.conf generation, $TEST_NGINX_*
# expansion and error log reading for the Test::Nginx::Socket compatible
# runner.  Nothing in here talks HTTP or emits TAP on its own, except
# bail_out().

use strict;
use warnings;

use base 'Exporter';

use Cwd ();
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Socket::INET ();
use Time::HiRes qw(sleep);
use Carp qw(croak);
use Test::More ();

our $VERSION = '0.01';

our @EXPORT_OK = qw(
    $RepeatEach $NoShuffle $Workers $WorkerConnections $LogLevel
    $MasterProcessEnabled $ServerAddr $ServerName $ServerPort
    $ServerPortForClient $Timeout $NoRootLocation $NoLongString
    $CheckAccumErrLog $ConfigPreamble $TestNginxSleep
    @EnvToNginx @BlockPreprocessors @CleanupHandlers @TestCleanupHandlers
    $ServRoot $LogDir $ErrLogFile $AccLogFile $HtmlDir $ConfDir $ConfFile
    $PidFile $StderrFile
    repeat_each no_shuffle workers worker_connections log_level
    master_on master_off master_process_enabled server_addr server_name
    server_port server_port_for_client timeout no_root_location
    no_long_string check_accum_error_log config_preamble env_to_nginx
    add_block_preprocessor add_cleanup_handler add_test_cleanup_handler
    html_dir server_root bail_out parse_time expand_env_in_text
    expand_defined_env new_rand_ports setup_server_root write_user_files
    write_config_file reset_error_log_pos error_log_data
    nginx_binary nginx_version nginx_v_output get_canon_version
    run_cleanup_handlers
);

our %EXPORT_TAGS = (all => \@EXPORT_OK);

# The defaults and the environment variables below are those documented by
# the real Test::Nginx, so that the same t/*.t files behave the same.

our $RepeatEach           = 1;
our $NoShuffle            = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $Workers              = 1;
our $WorkerConnections    = 64;
our $LogLevel             = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $ServerAddr           = '127.0.0.1';
our $ServerName           = 'localhost';
our $ServerPort           = $ENV{TEST_NGINX_SERVER_PORT}
                            || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient  = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $Timeout              = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep       = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $CheckAccumErrLog     = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $NoRootLocation       = 0;
our $NoLongString;
our $ConfigPreamble       = '';

our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our @TestCleanupHandlers;

# The server root is fixed when the module is loaded (as in the real one)
# so that test files can use server_root(), html_dir() and
# $ENV{TEST_NGINX_SERVER_ROOT} before run_tests().

our $ServRoot = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";

# nginx runs in the foreground as our child; whatever it prints before it
# switches stderr over to error.log (config errors, early warnings) lands
# here and is read together with error.log.
our $StderrFile = "$LogDir/stderr.log";

$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

sub repeat_each {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}

sub no_shuffle { $NoShuffle = 1 }

sub workers {
    $Workers = shift if @_;
    return $Workers;
}

sub worker_connections {
    $WorkerConnections = shift if @_;
    return $WorkerConnections;
}

sub log_level {
    $LogLevel = shift if @_;
    return $LogLevel;
}

sub master_on  { $MasterProcessEnabled = 'on' }
sub master_off { $MasterProcessEnabled = 'off' }

sub master_process_enabled {
    $MasterProcessEnabled = shift() ? 'on' : 'off' if @_;
    return $MasterProcessEnabled;
}

sub server_addr {
    $ServerAddr = shift if @_;
    return $ServerAddr;
}

sub server_name {
    $ServerName = shift if @_;
    return $ServerName;
}

sub server_port {
    $ServerPort = shift if @_;
    return $ServerPort;
}

sub server_port_for_client {
    $ServerPortForClient = shift if @_;
    return $ServerPortForClient;
}

sub timeout {
    $Timeout = shift if @_;
    return $Timeout;
}

sub no_root_location      { $NoRootLocation = 1 }
sub no_long_string        { $NoLongString = 1 }
sub check_accum_error_log { $CheckAccumErrLog = 1 }
sub config_preamble       { $ConfigPreamble = shift }
sub html_dir              { $HtmlDir }
sub server_root           { $ServRoot }

sub env_to_nginx {
    croak "env_to_nginx: no arguments specified" unless @_;

    for my $v (@_) {
        croak "env_to_nginx: bad argument value: $v\n"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

# Preprocessors added later run first, as in the real one.
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler         { unshift @CleanupHandlers, shift }
sub add_test_cleanup_handler    { unshift @TestCleanupHandlers, shift }

sub run_cleanup_handlers {
    $_->() for @CleanupHandlers;
}

our $BeforeBailOut;     # set by the runner to stop nginx first

sub bail_out {
    $BeforeBailOut->() if $BeforeBailOut;
    Test::More::BAIL_OUT(join '', @_);
}

# "--- timeout: 100ms" and "--- timeout: 2s" are both accepted.
sub parse_time {
    my $tm = shift;
    return undef unless defined $tm;

    if ($tm =~ s/([^_a-zA-Z])ms$/$1/) {
        return $tm / 1000;
    }

    $tm =~ s/([^_a-zA-Z])s$/$1/;
    return $tm;
}

# ---------------------------------------------------------------------------
# $TEST_NGINX_* expansion
# ---------------------------------------------------------------------------

# Per block: TEST_NGINX_RAND_PORT_N names map to a free port, the same
# port for every use of the same name within the block.
our $RandPorts = {};

sub new_rand_ports { $RandPorts = {} }

sub pick_free_port {
    my %taken = map { $_ => 1 } $ServerPort,
                                grep { defined } values %$RandPorts;

    for (1 .. 20) {
        # Let the kernel pick an unused port; closing it right away leaves a
        # small race, which the real runner has as well.
        my $sock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => 0,
            Proto     => 'tcp',
            Listen    => 1,
        ) or next;
        my $port = $sock->sockport;
        close $sock;
        return $port unless $taken{$port};
    }

    return undef;
}

sub env_value {
    my ($var, $name) = @_;

    if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
        $RandPorts->{$var} //= pick_free_port()
            // bail_out("$name - Cannot find an available listening port "
                        . "number for $var.\n");
        return $RandPorts->{$var};
    }

    return $ENV{$var};
}

# The real one's semantics: every $TEST_NGINX_FOO must be defined.
sub expand_env_in_text {
    my ($text, $name) = @_;
    return undef unless defined $text;

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        env_value($1, $name)
            // bail_out("$name - No environment $1 defined.\n")
    }ge;

    return $text;
}

# Lenient variant for the request and more_headers sections (which the real
# one leaves alone): unknown variables stay as they are.
sub expand_defined_env {
    my ($text, $name) = @_;
    return undef unless defined $text;

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        env_value($1, $name) // "\$$1"
    }ge;

    return $text;
}

# ---------------------------------------------------------------------------
# nginx binary
# ---------------------------------------------------------------------------

sub can_run {
    my $cmd = shift;

    if ($cmd =~ m{/}) {
        return -f $cmd && -x _ ? $cmd : undef;
    }

    # /usr/sbin is not always in an unprivileged user's PATH, and that is
    # where distribution packages install nginx.
    for my $dir (split(/:/, $ENV{PATH} // ''), '/usr/sbin', '/usr/local/sbin') {
        next if $dir eq '';
        my $abs = "$dir/$cmd";
        return $abs if -f $abs && -x _;
    }

    return undef;
}

my ($Binary, $NginxV);

sub nginx_binary {
    return $Binary if defined $Binary;

    my $want = $ENV{TEST_NGINX_BINARY} || 'nginx';
    $Binary = can_run($want)
        or bail_out("Cannot find the nginx executable \"$want\" "
                    . "(set TEST_NGINX_BINARY or PATH)");
    return $Binary;
}

sub nginx_v_output {
    return $NginxV if defined $NginxV;

    my $bin = nginx_binary();
    $NginxV = `'$bin' -V 2>&1`;
    bail_out("Failed to get the version of the nginx \"$bin\": $NginxV")
        if $? != 0;
    return $NginxV;
}

sub get_canon_version {
    return sprintf "%d.%03d%03d", $_[0], $_[1], $_[2];
}

sub nginx_version {
    my $out = nginx_v_output();

    return get_canon_version($1, $2, $3)
        if $out =~ m{(?:nginx|openresty)[^/]*/(\d+)\.(\d+)\.(\d+)}s
        || $out =~ m{\w+/(\d+)\.(\d+)\.(\d+)}s;

    bail_out("Failed to parse the output of \"nginx -V\": $out\n");
}

# ---------------------------------------------------------------------------
# Server root
# ---------------------------------------------------------------------------

# Removes only what the runner itself creates, and refuses to go on if the
# directory holds anything else: TEST_NGINX_SERVROOT pointed at the wrong
# place must not cost anybody their files.
sub setup_server_root {
    if (-d $ServRoot) {
        remove_tree($ConfDir, $HtmlDir, $LogDir, "$ServRoot/cache",
                    glob("$ServRoot/*_cache"), glob("$ServRoot/*_temp"));
        rmdir $ServRoot or $!{ENOENT}
            or bail_out("Can't remove $ServRoot (not empty?): $!");
    }

    for my $dir ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $dir;
        make_path($dir) or bail_out("Failed to do mkdir $dir: $!\n");
    }

    write_file("$HtmlDir/index.html",
               '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>');
}

sub write_file {
    my ($path, $body) = @_;

    open my $out, '>', $path
        or bail_out("Can't open $path for writing: $!\n");
    binmode $out;
    print $out $body;
    close $out;
}

# "--- user_files" is either text with ">>> path [mtime]" headers or an
# eval'd array of [path, body, mtime] triples.
sub parse_user_files {
    my ($files, $name) = @_;

    return $files if ref $files eq 'ARRAY';
    bail_out("$name - wrong value type: ", ref $files,
             ", only scalar or ARRAY are accepted") if ref $files;

    my @list;
    for my $line (split /^/, $files) {
        if ($line =~ />>> (\S+)(?:\s+(.+))?/) {
            push @list, [$1, undef, $2];
            next;
        }

        # Text before the first ">>>" line belongs to no file; the real one
        # drops it too.
        $list[-1][1] .= $line if @list;
    }

    return \@list;
}

sub write_user_files {
    my $block = shift;

    my $name  = $block->name;
    my $files = $block->user_files or return;

    for my $file (@{ parse_user_files($files, $name) }) {
        my ($fname, $body, $date) = @$file;

        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";

        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1)
                or bail_out("$name - Cannot create directory $1");
        }

        write_file($path, expand_env_in_text($body // '', $name));

        if ($date) {
            local $ENV{TZ} = 'GMT';
            system('touch', '-t', $date, $path) == 0
                or bail_out("$name - Failed to set mtime $date on $path\n");
        }
    }
}

# ---------------------------------------------------------------------------
# nginx.conf
# ---------------------------------------------------------------------------

# The temp path directives are emitted only for the modules nginx has, as
# an unknown directive would stop it from starting.
sub temp_path_directives {
    my $http_config = shift;

    my $v = nginx_v_output();
    my @out;

    push @out, "client_body_temp_path $ServRoot/client_body_temp;"
        unless $http_config =~ /\bclient_body_temp_path\b/;
    push @out, "proxy_temp_path $ServRoot/proxy_temp;"
        unless $http_config =~ /\bproxy_temp_path\b/;

    for my $mod (qw(fastcgi scgi uwsgi)) {
        push @out, "${mod}_temp_path $ServRoot/${mod}_temp;"
            unless $v =~ /--without-http_${mod}_module/;
    }

    return join ' ', @out;
}

sub load_module_lines {
    my $mods = $ENV{TEST_NGINX_LOAD_MODULES} or return ();
    return map { "load_module $_;" } grep { length } split /\s+/, $mods;
}

# The layout (and so the line numbers nginx reports in its messages)
# follows the configuration file the real Test::Nginx writes.  What differs
# on purpose: "daemon off" (nginx is our child process, see
# Test::Nginx::Process) and the server listens on the loopback address only.
sub write_config_file {
    my ($block, $config) = @_;

    my $name = $block->name;

    my $http_config      = expand_env_in_text($block->http_config // '', $name);
    my $main_config      = $block->main_config // '';
    my $post_main_config = expand_env_in_text($block->post_main_config // '',
                                              $name);
    my $server_name      = $block->server_name // $ServerName;
    my $log_level        = $block->log_level || $LogLevel;

    $main_config = join ' ', load_module_lines(), $main_config;
    $main_config = expand_env_in_text($main_config, $name);
    $config //= '';

    my $conf = <<"_EOC_";
worker_processes  $Workers;
daemon off;
master_process $MasterProcessEnabled;
error_log $ErrLogFile $log_level;
pid       $PidFile;
env MOCKEAGAIN_VERBOSE;
env MOCKEAGAIN;
env MOCKEAGAIN_WRITE_TIMEOUT_PATTERN;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env DYLD_INSERT_LIBRARIES;
env DYLD_FORCE_FLAT_NAMESPACE;
_EOC_

    for my $v (@EnvToNginx) {
        $conf .= $v =~ /\s/ ? "env '$v';\n" : "env $v;\n";
    }

    my $temp_paths = temp_path_directives($http_config);

    $conf .= <<"_EOC_";
#env LUA_PATH;
#env LUA_CPATH;

$main_config

http {
    access_log $AccLogFile; $temp_paths
    #access_log off;

    default_type text/plain;
    keepalive_timeout  68000ms;

$http_config
    server {
        listen          $ServerAddr:$ServerPort;
        #placeholder
        server_name     '$server_name';

        client_max_body_size 30M;
        #client_body_buffer_size 4k;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

_EOC_

    $conf .= <<"_EOC_" unless $NoRootLocation;
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    $conf .= <<"_EOC_";
    }
}

$post_main_config

#timer_resolution 100ms;

events {
    accept_mutex off;

    worker_connections  $WorkerConnections;
_EOC_

    $conf .= "    use $ENV{TEST_NGINX_EVENT_TYPE};\n"
        if $ENV{TEST_NGINX_EVENT_TYPE};

    $conf .= <<"_EOC_";
}
env ASAN_OPTIONS;
env MOCKNOEAGAIN_VERBOSE;
env MOCKNOEAGAIN;
_EOC_

    # Workers of a root master would otherwise run as "nobody" and could
    # not read the server root.
    if (defined $ENV{TEST_NGINX_WORKER_USER}) {
        $conf .= "user $ENV{TEST_NGINX_WORKER_USER};\n";

    } elsif ($> == 0) {
        $conf .= "user root;\n";
    }

    write_file($ConfFile, $conf);
}

# ---------------------------------------------------------------------------
# Error log
# ---------------------------------------------------------------------------

# Read positions, so that each check only sees what the current request
# logged (unless check_accum_error_log() was called).
my %ErrLogPos;

sub reset_error_log_pos { %ErrLogPos = () }

sub read_new_lines {
    my $file = shift;

    open my $in, '<', $file or return ();

    seek $in, $ErrLogPos{$file}, 0
        if !$CheckAccumErrLog && $ErrLogPos{$file};

    my @lines = <$in>;
    $ErrLogPos{$file} = tell $in unless $CheckAccumErrLog;
    close $in;

    return @lines;
}

# Lines nginx printed on stderr before switching to error.log come first:
# with the real runner's "-e error.log" they would be in error.log.
#
# $settle: the caller checks the log, so give nginx the time to run the log
# phase after closing the connection (the real runner always sleeps here).
sub error_log_data {
    my $settle = shift;

    sleep $TestNginxSleep * 3 if $settle;

    return [ read_new_lines($StderrFile), read_new_lines($ErrLogFile) ];
}

1;
