package FeedTest;

# Helpers shared by the test files: fixtures, URL tokens, and an nginx
# started by hand for the tests that need more than one request per
# configuration (reloads, real players).  Works the same under the real
# Test::Nginx and under the bundled runner.

use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(hmac_sha256);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use Exporter 'import';
our @EXPORT = qw(feed_fixtures feed_token feed_key feed_defaults http_get
                 nginx_test nginx_start nginx_stop nginx_reload write_file
                 read_file feed_many_clips metrics wait_for
                 feed_topic_catalog feed_clip_line feed_small_catalog
                 http_request feed_impression);

our $ROOT = abs_path(dirname(__FILE__) . '/../..');

# every nginx started and not yet stopped, stopped if the test dies

my %RUNNING;


sub feed_fixtures {
    my $dir = "$ROOT/t/fixtures";

    system("$ROOT/tools/make-fixtures", $dir) == 0
        or die "tools/make-fixtures failed\n";

    $ENV{TEST_NGINX_FIXTURES} = $dir;

    return $dir;
}


# A Test::Nginx block preprocessor that gives every block without its own
# http_config, config or no_error_log the fixtures' catalog and a
# feed_media location on /v/.  Options: http (more http lines), location
# (more lines in the location), no_error_log.

sub feed_defaults {
    my (%opt) = @_;

    my $fx = $ENV{TEST_NGINX_FIXTURES} // feed_fixtures();
    my $http = "    feed_catalog $fx/catalog.jsonl;\n" . ($opt{http} // '');
    my $config = "    location /v/ {\n"
               . "        feed_media;\n"
               . "        feed_media_root $fx/media;\n"
               . ($opt{location} // '')
               . "    }\n";

    return sub {
        my $block = shift;

        $block->set_value('http_config', $http)
            unless defined $block->http_config;
        $block->set_value('config', $config)
            unless defined $block->config;
        $block->set_value('no_error_log', $opt{no_error_log})
            if defined $opt{no_error_log} && !defined $block->no_error_log;
    };
}


# N clips "clip-1" .. "clip-N" in $dir: a catalog of fix-a's line under
# new ids, and a media root of symbolic links to fix-a's files, so that
# every clip has its own file names (and cache keys).

sub feed_many_clips {
    my ($dir, $n) = @_;

    my $fx = $ENV{TEST_NGINX_FIXTURES} // feed_fixtures();
    my ($line) = grep { /"id":"fix-a"/ } split /\n/,
                 read_file("$fx/catalog.jsonl");
    my $catalog = '';

    make_path("$dir/media");

    for my $i (1 .. $n) {
        (my $l = $line) =~ s/"id":"fix-a"/"id":"clip-$i"/;
        $catalog .= "$l\n";
        symlink("$fx/media/fix-a", "$dir/media/clip-$i")
            or die "symlink: $!\n" unless -e "$dir/media/clip-$i";
    }

    write_file("$dir/catalog.jsonl", $catalog);

    return ("$dir/catalog.jsonl", "$dir/media");
}


# One catalog line: clip $c{id} by $c{creator} with $c{sound}, 3 s, its
# embedding along topic $c{topic}'s axis (plus $c{wobble} on the next),
# fix-a's renditions; a duet of $c{parent} if given.

sub feed_clip_line {
    my (%c) = @_;

    my $fx = $ENV{TEST_NGINX_FIXTURES} // feed_fixtures();
    my ($line) = grep { /"id":"fix-a"/ } split /\n/,
                 read_file("$fx/catalog.jsonl");
    my ($rend) = $line =~ /("renditions":\[.*\])\}$/;
    my @emb = (0) x 8;
    $emb[$c{topic} % 8] = 1;
    $emb[($c{topic} + 1) % 8] = $c{wobble} // 0;

    my $l = sprintf('{"id":"%s","creator":"%s","sound":"%s",'
                    . '"created":%d,"duration":3.0,"caption":"%s",'
                    . '"tags":["topic%d"],"embedding":[%s],%s',
                    $c{id}, $c{creator}, $c{sound},
                    $c{created} // 1764100000, $c{caption} // "clip $c{id}",
                    $c{topic}, join(',', @emb), $rend);

    $l .= sprintf(',"lineage":{"kind":"duet","parent":"%s"}', $c{parent})
        if $c{parent};

    return "$l}";
}

# $dir/catalog.jsonl of $n clips "${prefix}0" .. on $topics topics (clip
# i on topic i % $topics), each its own creator "c{i}" and sound "s{i}",
# created at feed_clip_line's default time (out of the fresh pool).

sub feed_small_catalog {
    my ($dir, $prefix, $n, $topics) = @_;

    my $catalog = '';

    for my $i (0 .. $n - 1) {
        $catalog .= feed_clip_line(id => "$prefix$i", topic => $i % $topics,
                                   creator => "c$i", sound => "s$i") . "\n";
    }

    write_file("$dir/catalog.jsonl", $catalog);

    return "$dir/catalog.jsonl";
}

# A catalog of clips on $opt{topics} topics (default 3), $opt{per} clips
# each (default 40): ids "t{topic}-{n}", tag "topic{topic}", an
# embedding pointing along the topic's axis; creators and sounds cycle
# through $opt{creators} and $opt{sounds} (default 25 and 15) so that
# neighbours differ.  Every clip has fix-a's renditions and, through
# symbolic links, its media.  Returns (catalog file, media root, ids).

sub feed_topic_catalog {
    my ($dir, %opt) = @_;

    my $fx = $ENV{TEST_NGINX_FIXTURES} // feed_fixtures();
    my $topics = $opt{topics} // 3;
    my $per = $opt{per} // 40;
    my $creators = $opt{creators} // 25;
    my $sounds = $opt{sounds} // 15;
    my ($catalog, @ids, $k) = ('');

    make_path("$dir/media");

    for my $i (0 .. $per - 1) {
        for my $t (0 .. $topics - 1) {
            my $id = "t$t-$i";
            $k++;
            $catalog .= feed_clip_line(
                id => $id, topic => $t, creator => 'c' . ($k % $creators),
                sound => 's' . (($k * 7) % $sounds),
                wobble => ($i % 5) / 10) . "\n";
            push @ids, $id;
            symlink("$fx/media/fix-a", "$dir/media/$id")
                unless -e "$dir/media/$id";
        }
    }

    write_file("$dir/catalog.jsonl", $catalog);

    return ("$dir/catalog.jsonl", "$dir/media", \@ids);
}


# Any request, with a cookie jar: returns (status, headers, body); the
# jar (a hashref) takes the Set-Cookie values.

sub http_request {
    my ($port, $method, $uri, %opt) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 10)
        or die "connect: $!\n";

    my $req = "$method $uri HTTP/1.0\r\nHost: localhost\r\n";
    my $jar = $opt{jar};

    if ($jar && %$jar) {
        $req .= 'Cookie: '
              . join('; ', map { "$_=$jar->{$_}" } sort keys %$jar)
              . "\r\n";
    }

    $req .= "$_: $opt{headers}{$_}\r\n" for sort keys %{ $opt{headers} };

    if (defined $opt{body}) {
        $req .= 'Content-Length: ' . length($opt{body}) . "\r\n";
        $req .= "Content-Type: application/json\r\n";
    }

    print $s "$req\r\n" . ($opt{body} // '');

    local $/;
    my $resp = <$s> // '';
    close $s;

    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\d\.\d (\d+)};
    my %h;

    for my $line (split /\r\n/, $head // '') {
        next unless $line =~ /^([^:]+):\s*(.*)$/;
        my ($k, $v) = (lc $1, $2);

        if ($k eq 'set-cookie' && $jar && $v =~ /^([^=;]+)=([^;]*)/) {
            $jar->{$1} = $2;
        }

        $h{$k} = exists $h{$k} ? "$h{$k}\n$v" : $v;
    }

    return ($status // 0, \%h, $body // '');
}


# An impression token made here with the key, as the module makes them:
# for tests of expiry, unknown clips and other viewers.  version => 1
# makes the HMAC kind of earlier servers, which are still accepted.

sub feed_impression {
    my (%o) = @_;

    my $key = $o{key} // feed_key("$ROOT/t/fixtures/secret.key");
    my $version = $o{version} // 2;
    my $payload = pack('C N N a16 C', $version, $o{time}, $o{position} // 0,
                       $o{viewer}, length $o{clip}) . $o{clip};
    my $tag = $version == 1
              ? substr(hmac_sha256("i1\n$payload", $key), 0, 16)
              : siphash128(substr(hmac_sha256("k1\nimpression", $key), 0, 16),
                           $payload);

    my $b64 = sub {
        my $x = encode_base64($_[0], '');
        $x =~ tr{+/}{-_};
        $x =~ s/=+\z//;
        return $x;
    };

    return $b64->($payload) . '.' . $b64->($tag);
}


# SipHash-2-4 with its 128-bit output, in 64-bit Perl: sums wrap under
# "use integer", shifts and xors work on the unsigned values.

sub siphash128 {
    my ($key, $msg) = @_;

    no warnings 'portable';

    my $add = sub { use integer; return $_[0] + $_[1]; };
    my $rotl = sub {
        my ($x, $b) = @_;
        return (($x << $b) | ($x >> (64 - $b))) & 0xffffffffffffffff;
    };

    my ($k0, $k1) = unpack('Q< Q<', $key);
    my @v = ($k0 ^ 0x736f6d6570736575, $k1 ^ 0x646f72616e646f6d ^ 0xee,
             $k0 ^ 0x6c7967656e657261, $k1 ^ 0x7465646279746573);

    my $round = sub {
        $v[0] = $add->($v[0], $v[1]); $v[1] = $rotl->($v[1], 13);
        $v[1] ^= $v[0]; $v[0] = $rotl->($v[0], 32);
        $v[2] = $add->($v[2], $v[3]); $v[3] = $rotl->($v[3], 16);
        $v[3] ^= $v[2];
        $v[0] = $add->($v[0], $v[3]); $v[3] = $rotl->($v[3], 21);
        $v[3] ^= $v[0];
        $v[2] = $add->($v[2], $v[1]); $v[1] = $rotl->($v[1], 17);
        $v[1] ^= $v[2]; $v[2] = $rotl->($v[2], 32);
    };

    my $len = length $msg;
    my $full = $len - $len % 8;
    my $last = substr($msg, $full) . "\0" x (7 - $len % 8) . chr($len & 0xff);

    for my $m (unpack('Q<*', substr($msg, 0, $full)), unpack('Q<', $last)) {
        $v[3] ^= $m;
        $round->() for 1 .. 2;
        $v[0] ^= $m;
    }

    $v[2] ^= 0xee;
    $round->() for 1 .. 4;
    my $h0 = $v[0] ^ $v[1] ^ $v[2] ^ $v[3];

    $v[1] ^= 0xdd;
    $round->() for 1 .. 4;
    my $h1 = $v[0] ^ $v[1] ^ $v[2] ^ $v[3];

    return pack('Q< Q<', $h0, $h1);
}


# The metrics of a feed_status location as { "name{labels}" => value }.

sub metrics {
    my ($port, $uri) = @_;

    my ($status, $h, $body) = http_get($port, $uri // '/metrics');
    my %m;

    for (split /\n/, $body) {
        $m{$1} = $2 if /^([a-z_]+(?:\{[^}]*\})?) (\d+)$/;
    }

    return \%m;
}


# Polls $cond until it is true or $secs have passed; returns its value.

sub wait_for {
    my ($cond, $secs) = @_;

    my $deadline = time() + ($secs // 5);
    my $v;

    until (($v = $cond->()) || time() > $deadline) {
        sleep 0.02;
    }

    return $v;
}


sub feed_key {
    my ($file) = @_;

    my $key = read_file($file);
    $key =~ s/[\r\n\t ]+\z//;

    return $key;
}


# EXPIRES "." base64url(HMAC-SHA256(key, "u1\n" clip "\n" EXPIRES))

sub feed_token {
    my ($clip, %opt) = @_;

    my $key = $opt{key} // feed_key("$ROOT/t/fixtures/secret.key");
    my $expires = $opt{expires} // (time() + 600);
    $expires = int($expires);

    my $sig = encode_base64(hmac_sha256("u1\n$clip\n$expires", $key), '');
    $sig =~ tr{+/}{-_};
    $sig =~ s/=+\z//;

    return "$expires.$sig";
}


sub write_file {
    my ($file, $data) = @_;

    make_path(dirname($file));
    open my $fh, '>', $file or die "cannot write $file: $!\n";
    print $fh $data;
    close $fh;
}


sub read_file {
    my ($file) = @_;

    open my $fh, '<', $file or die "cannot read $file: $!\n";
    local $/;
    my $data = <$fh>;
    close $fh;

    return $data;
}


# In valgrind mode (TEST_NGINX_USE_VALGRIND), nginx runs under
# tools/valgrind-nginx, as the test runner's own servers do.

sub nginx_binary {
    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';

    return $bin unless $ENV{TEST_NGINX_USE_VALGRIND};

    $ENV{FEED_VALGRIND_NGINX} //= $bin;

    return "$ROOT/tools/valgrind-nginx";
}


sub load_modules {
    my $mods = $ENV{TEST_NGINX_LOAD_MODULES} // '';

    return join '', map { "load_module $_;\n" } split ' ', $mods;
}


# A prefix directory with conf/nginx.conf and logs/; $http goes inside
# http {}, and a server on $port is added around $server; or $conf is the
# whole configuration.

sub nginx_prefix {
    my (%opt) = @_;

    my $dir = $opt{dir} // tempdir('feed-test-XXXXXX', TMPDIR => 1,
                                   CLEANUP => 1);
    make_path("$dir/conf", "$dir/logs");

    # as root, workers would run as nobody, which may not reach a
    # checkout under a private home directory

    my $conf = load_modules()
        . ($> == 0 ? "user root;\n" : '')
        . "worker_processes " . ($opt{workers} // 1) . ";\n"
        . "error_log logs/error.log " . ($opt{log_level} // 'info') . ";\n"
        . "pid logs/nginx.pid;\n"
        . "events { worker_connections 64; }\n"
        . "http {\n"
        . "    access_log off;\n"
        . ($opt{http} // '')
        . "    server {\n"
        . "        listen 127.0.0.1:" . ($opt{port} // 1984) . ";\n"
        . ($opt{server} // '')
        . "    }\n"
        . "}\n";

    # or a whole configuration of the test's own (listening on its port)
    $conf = $opt{conf} if defined $opt{conf};

    write_file("$dir/conf/nginx.conf", $conf);

    return $dir;
}


# nginx -t: returns (exit status, everything nginx printed).

sub nginx_test {
    my (%opt) = @_;

    my $dir = nginx_prefix(%opt);
    my $bin = nginx_binary();
    my $out = `$bin -t -p $dir/ -c $dir/conf/nginx.conf 2>&1`;

    return ($? >> 8, $out, $dir);
}


# Starts nginx in the foreground as our child (so that we reap it), with a
# master process; waits until the port answers.

sub nginx_start {
    my (%opt) = @_;

    $opt{port} //= 1984;

    my $dir = nginx_prefix(%opt);
    my $bin = nginx_binary();

    my $pid = fork() // die "fork: $!\n";

    if ($pid == 0) {
        open STDOUT, '>', "$dir/logs/stdout.log";
        open STDERR, '>', "$dir/logs/stderr.log";
        exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf",
             '-g', 'daemon off; master_process on;';
        exit 127;
    }

    my $deadline = time() + ($ENV{TEST_NGINX_USE_VALGRIND} ? 60 : 10);

    while (time() < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            die "nginx exited at start:\n"
                . read_file("$dir/logs/stderr.log") . "\n";
        }

        # our own master is up once it wrote its pid file; only then does
        # a listener on the port mean it is ours

        my $s = -s "$dir/logs/nginx.pid"
                && IO::Socket::INET->new(PeerAddr => "127.0.0.1:$opt{port}");
        if ($s) {
            close $s;
            $RUNNING{$pid} = { pid => $pid, dir => $dir, port => $opt{port},
                               owner => $$ };
            return $RUNNING{$pid};
        }

        sleep 0.02;
    }

    kill 'KILL', $pid;
    waitpid($pid, 0);
    die "nginx did not start listening on $opt{port}\n";
}


END {
    my $status = $?;

    # only in the process that started them: not in forked clients

    nginx_stop($_) for grep { $_->{owner} == $$ } values %RUNNING;
    $? = $status;
}

sub nginx_stop {
    my ($ngx) = @_;

    return unless $ngx && $ngx->{pid};

    delete $RUNNING{ $ngx->{pid} };

    kill 'QUIT', $ngx->{pid};

    my $deadline = time() + ($ENV{TEST_NGINX_USE_VALGRIND} ? 20 : 5);

    while (time() < $deadline) {
        return if waitpid($ngx->{pid}, WNOHANG) == $ngx->{pid};
        sleep 0.02;
    }

    kill 'KILL', $ngx->{pid};
    waitpid($ngx->{pid}, 0);
}


# Sends HUP and waits until the master has finished with it: the master
# logs "reconfiguring" first, then either starts new workers or logs why
# the new configuration was refused.

sub nginx_reload {
    my ($ngx) = @_;

    my $log = "$ngx->{dir}/logs/error.log";
    my $before = -s $log // 0;
    my @old = children($ngx->{pid});

    kill 'HUP', $ngx->{pid};

    my $deadline = time() + 10;

    while (time() < $deadline) {
        my $data = read_file($log);
        my $new = substr($data, $before);

        if ($new =~ /\[emerg\]/) {
            sleep 0.2;
            return substr(read_file($log), $before);
        }

        if ($new =~ /start worker process/) {

            # the old workers, told to finish, still hold the listening
            # socket for a moment (longer under valgrind): a request sent
            # now could reach the old configuration

            my $gone = time() + ($ENV{TEST_NGINX_USE_VALGRIND} ? 60 : 10);

            while (time() < $gone && grep { alive($_) } @old) {
                sleep 0.05;
            }

            sleep 0.2;
            return substr(read_file($log), $before);
        }

        sleep 0.05;
    }

    die "nginx did not act on HUP\n";
}


# the live child processes of a process, from /proc

sub children {
    my ($ppid) = @_;

    my @pids;

    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $in, '<', $stat or next;
        my $line = <$in> // '';
        close $in;

        push @pids, $1 if $line =~ /^(\d+) \(.*\) [^Z] (\d+) /s && $2 == $ppid;
    }

    return @pids;
}


sub alive {
    my ($pid) = @_;

    open my $in, '<', "/proc/$pid/stat" or return 0;
    my $line = <$in> // '';
    close $in;

    return $line !~ /^\d+ \(.*\) Z /s;
}


# A minimal HTTP/1.0 GET: returns (status, headers hashref, body).

sub http_get {
    my ($port, $uri, %hdr) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5)
        or die "connect: $!\n";

    my $req = "GET $uri HTTP/1.0\r\nHost: localhost\r\n";
    $req .= "$_: $hdr{$_}\r\n" for sort keys %hdr;
    print $s "$req\r\n";

    local $/;
    my $resp = <$s> // '';
    close $s;

    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\d\.\d (\d+)};
    my %h;

    for my $line (split /\r\n/, $head // '') {
        $h{lc $1} = $2 if $line =~ /^([^:]+):\s*(.*)$/;
    }

    return ($status // 0, \%h, $body // '');
}


1;
