package Test::Nginx::Request;

# The HTTP side of the runner: turning "--- request" and friends into bytes
# on the wire, sending them over a plain TCP socket and splitting what comes
# back into responses.  The request format is the real Test::Nginx's:
#
#     --- request
#     POST /path HTTP/1.1
#     the body, everything after the first line
#
# The method line may omit the URI (/) and the version (HTTP/1.1); "Host"
# and "Connection: close" are added unless --- more_headers has them, and a
# Content-Length for a non-empty body unless the body is chunked or the
# length is given.

use strict;
use warnings;

use base 'Exporter';

use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use Time::HiRes qw(sleep);

use Test::Nginx::Util qw(bail_out expand_env_in_text
                         $ServerName);

our @EXPORT_OK = qw(build_requests send_request parse_response);

# ---------------------------------------------------------------------------
# Building requests
# ---------------------------------------------------------------------------

# "Name: value" lines to CRLF-terminated header lines; '#' lines are
# comments.  Also tells whether the request body is chunked.
sub format_more_headers {
    my $text = shift;

    my ($out, $chunked) = ('', 0);

    for my $line (split /\n+/, $text) {
        next if $line =~ /^\s*#/;

        my ($key, $val) = split /:\s*/, $line, 2;
        $val //= '';
        $chunked = 1 if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }

    return ($out, $chunked);
}

sub build_one {
    my ($name, $request, $more_headers, $conn) = @_;

    bail_out("$name - Request line should be non-empty")
        unless defined $request && length $request;

    my ($first, $body) = split /\n/, $request, 2;
    $body //= '';

    my ($method, $uri, $version) =
        $first =~ /^\s*(\S+) *(?:(\S+) *)?(?:(\S+) *)?\s*$/
        or bail_out("$name - Request line is not valid. Should be "
                    . "'meth [url [version]]' but got \"$first\".");

    $uri     //= '/';
    $version //= 'HTTP/1.1';

    my ($hdrs, $chunked) = format_more_headers($more_headers);

    my $len = '';
    if (!$chunked && $body ne '' && $hdrs !~ /(?:^|\n)Content-Length:/) {
        # The trailing newline of the section is not part of the body.
        $body =~ s/^\s+|\s+$//gs;
        $len = 'Content-Length: ' . length($body) . "\r\n";
    }

    my $head = "$method $uri $version\r\n";
    $head .= "Host: $ServerName\r\n" unless $hdrs =~ /(?:^|\n)Host:/msi;
    $head .= "Connection: $conn\r\n" unless $hdrs =~ /(?:^|\n)Connection/msi;

    return "$head$hdrs$len\r\n$body";
}

# Leading comment lines and blank space before the request line go away.
sub strip_request_prefix {
    my $req = shift;
    1 while $req =~ s/^\s*#[^\n]+\s+|^\s+//gs;
    return $req;
}

sub headers_for {
    my ($name, $more_headers, $i) = @_;

    return $more_headers unless ref $more_headers eq 'ARRAY';

    my $hdr = $more_headers->[$i];
    bail_out("$name - --- more_headers lacks data for request $i")
        unless defined $hdr;
    return $hdr;
}

# Returns a list of connections to make; each one is
# { packets => [...], head => bool, responses => N }.
sub build_requests {
    my $block = shift;

    my $name = $block->name;

    if (defined(my $raw = $block->raw_request)) {
        my @packets = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        return [ conn(\@packets, 1) ];
    }

    my $more = $block->more_headers // '';

    if (defined(my $reqs = $block->pipelined_requests)) {
        bail_out("$name - invalid entries in --- pipelined_requests")
            unless ref $reqs eq 'ARRAY';

        my $data = '';
        for my $i (0 .. $#$reqs) {
            my $conn = $i == $#$reqs ? 'close' : 'keep-alive';
            my $req  = expand_env_in_text($reqs->[$i], $name);
            $data .= build_one($name, strip_request_prefix($req),
                               headers_for($name, $more, $i), $conn);
        }

        return [ conn([$data], scalar @$reqs) ];
    }

    my $request = $block->request;

    if (ref $request eq 'ARRAY') {
        my @conns;
        for my $i (0 .. $#$request) {
            bail_out("$name - requests split into packets are not "
                     . "supported by this runner") if ref $request->[$i];
            my $req = $request->[$i];
            push @conns, conn([ build_one($name, strip_request_prefix($req),
                                          headers_for($name, $more, $i),
                                          'close') ], 1);
        }
        return \@conns;
    }

    bail_out("$name - invalid --- request: MUST be string or array of "
             . "requests") if ref $request;

    $request = strip_request_prefix($request // '');
    return [ conn([ build_one($name, $request, headers_for($name, $more, 0),
                              'close') ], 1) ];
}

sub conn {
    my ($packets, $responses) = @_;

    return {
        packets   => $packets,
        head      => (join('', @$packets) =~ /^\s*HEAD\s+/) ? 1 : 0,
        responses => $responses,
    };
}

# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------

sub connect_server {
    my ($addr, $port, $timeout) = @_;

    # nginx is known to be listening before the first request is sent, so a
    # refused connection is retried only briefly.
    for (1 .. 20) {
        my $sock = IO::Socket::INET->new(
            PeerAddr => $addr,
            PeerPort => $port,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        return $sock if $sock;
        sleep 0.01;
    }

    return undef;
}

# Sends the packets (sleeping $args{middle_delay} between them) and reads
# until the server closes the connection.  Returns ($raw_response, $error)
# where $error is "connect: <reason>" or "timeout".
sub send_request {
    my (%args) = @_;

    my $sock = connect_server($args{addr}, $args{port}, $args{timeout})
        or return (undef, "connect: $!");

    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my @packets = @{ $args{packets} };
    my $wbuf = shift @packets;
    my $resp = '';

    my $rsel = IO::Select->new($sock);
    my $wsel = IO::Select->new($sock);
    my $error;

    while ($rsel->count) {
        # select() returns nothing both on timeout and on a signal; only
        # the latter sets errno.
        $! = 0;
        my ($r, $w) = IO::Select->select($rsel, $wsel->count ? $wsel : undef,
                                         undef, $args{timeout});
        if (!$r && !$w) {
            next if $! == EINTR;
            $error = 'timeout';
            last;
        }

        if ($w && @$w) {
            my $done = write_some($sock, \$wbuf, \@packets,
                                  $args{middle_delay});
            if ($done) {
                $wsel->remove($sock);
                shutdown($sock, $args{shutdown}) if defined $args{shutdown};
            }
        }

        if ($r && @$r) {
            my $n = sysread($sock, my $buf, 65536);
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                warn "WARNING: $args{name} - HTTP response read failure: $!\n";
                last;
            }
            last if $n == 0;
            $resp .= $buf;
        }
    }

    close $sock;
    return ($resp, $error);
}

# Writes what the socket takes; returns true once everything is sent (or
# writing failed: nginx may answer and close before reading a whole
# request body, and that answer is still read).
sub write_some {
    my ($sock, $wbuf, $packets, $delay) = @_;

    while (1) {
        if (!defined $$wbuf || $$wbuf eq '') {
            return 1 unless @$packets;
            sleep $delay if $delay;
            $$wbuf = shift @$packets;
            next;
        }

        my $n = syswrite($sock, $$wbuf);
        if (!defined $n) {
            return 0 if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            return 1;
        }

        substr($$wbuf, 0, $n, '');
    }
}

# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

# Returns ($response, $raw_headers, $leftover, $error).  $leftover holds
# the bytes after this response (the next pipelined one); $error is set
# when a chunked body is malformed.
sub parse_response {
    my ($raw, $head_req, $name) = @_;

    my $raw_headers = $raw =~ /(.*?\r\n)\r\n/s ? $1 : '';

    my $res  = HTTP::Response->parse($raw);
    my $code = $res->code;

    if (defined $code && $code !~ /^\d+$/) {
        $res->code(undef);
        undef $code;
    }

    # Neither carries a body that could be delimited.
    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $enc = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if (defined $enc && $enc eq 'chunked') {
        my ($body, $left, $err) =
            decode_chunked($res->content // '', [ $res->header('Trailer') ]);
        return (undef, $raw_headers, undef, $err) if defined $err;
        $res->content($body);
        return ($res, $raw_headers, $left);
    }

    if (defined $len && $len =~ /^\d+$/) {
        my $body = $res->content // '';

        if (length $body > $len) {
            $res->content(substr $body, 0, $len);
            return ($res, $raw_headers, substr($body, $len));
        }

        if (length $body < $len && !$head_req) {
            warn "WARNING: $name - response body truncated: $len expected, ",
                 "but got ", length $body, "\n";
        }
    }

    return ($res, $raw_headers);
}

sub decode_chunked {
    my ($raw, $trailers) = @_;

    my $decoded = '';
    pos($raw) = 0;

    while (1) {
        if ($raw =~ /\G0[ \t]*\r\n/gc) {
            for my $t (@$trailers) {
                return (undef, undef, "invalid trailer data received "
                        . "(expected $t).")
                    unless $raw =~ /\G\Q$t\E: [^\n]*\r\n/gc;
            }

            return (undef, undef, 'invalid chunked data received '
                    . '(expected CRLF).') unless $raw =~ /\G\r\n/gc;

            my $left = $raw =~ /\G(.+)/gcs ? $1 : undef;
            return ($decoded, $left);
        }

        if ($raw =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*\r\n/gc) {
            my $size = hex $1;
            my $at   = pos $raw;

            return (undef, undef, 'invalid chunked data received (not '
                    . 'enough octets for the data section)')
                if length($raw) - $at < $size;

            $decoded .= substr $raw, $at, $size;
            pos($raw) = $at + $size;

            return (undef, undef, 'invalid chunked data received '
                    . '(expected CRLF).') unless $raw =~ /\G\r\n/gc;
            next;
        }

        return (undef, undef, "invalid chunked body received: $1")
            if $raw =~ /\G(.+)/gcs;

        return (undef, undef, "no last chunk found - $raw");
    }
}

1;
