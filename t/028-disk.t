# Disk faults under the media root: a segment removed or truncated while
# cached and while not, a segment that became a directory, a FIFO or a
# symbolic link loop, and a media root that is no longer a directory.
# Every answer is clean (the cached copy, or 403/404 with an error
# logged), no worker dies, no alert or crit in the log.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use POSIX qw(mkfifo);
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-disk-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $media = "$dir/media";

system('cp', '-r', "$fx/media", $media) == 0 or die "cp failed\n";

my $ngx = nginx_start(
    dir     => "$dir/prefix",
    port    => $port,
    workers => 2,
    http    => "    feed_catalog $fx/catalog.jsonl;\n"
               . "    feed_secret_file $fx/secret.key;\n"
               . "    feed_cache_zone hot:4m;\n",
    server  => "        location /v/ { feed_media; feed_media_root $media; "
               . "feed_cache hot; add_header X-Cache \$feed_cache_status "
               . "always; }\n"
               . "        location /nc/ { feed_media; "
               . "feed_media_root $media; }\n",
);

my $log = "$ngx->{dir}/logs/error.log";
my %tok = map { $_ => feed_token($_) } qw(fix-a fix-b);

sub workers {
    return join ',', sort map { /^\s*(\d+)\s+(\d+)/ && $2 == $ngx->{pid}
                                ? $1 : () } `ps -eo pid,ppid`;
}

sub get {
    my ($loc, $clip, $file) = @_;
    return http_get($port, "/$loc/$clip/$file?token=$tok{$clip}");
}

# both workers, once they are up: the port answers before they are
# (under valgrind, seconds before)

my $before = workers();

for (1 .. 600) {
    last if (my @w = split /,/, $before) == 2;
    select(undef, undef, undef, 0.1);
    $before = workers();
}
my $orig = read_file("$media/fix-a/180p/0.m4s");

# removed while cached: the cached copy is served (media are immutable)

my ($s, $h, $b);
($s, $h) = get('v', 'fix-a', '180p/0.m4s') for 1 .. 3;
is($h->{'x-cache'}, 'HIT', 'a segment in the cache');

unlink "$media/fix-a/180p/0.m4s" or die;
($s, $h, $b) = get('v', 'fix-a', '180p/0.m4s');
is($s, 200, 'removed while cached: still served from the cache');
ok($b eq $orig, 'with the bytes it had');

($s) = get('nc', 'fix-a', '180p/0.m4s');
is($s, 404, 'removed, no cache: 404');
like(read_file($log), qr/\[error\].*open\(\) "[^"]+0\.m4s" failed \(2:/,
     'logged at error');

# truncated before it was ever read: served as it now is, whole

truncate("$media/fix-a/180p/1.m4s", 100) or die;
($s, $h, $b) = get('v', 'fix-a', '180p/1.m4s');
is($s, 200, 'truncated, not cached: 200');
is(length $b, 100, 'the file as it is now');
($s, $h, $b) = get('v', 'fix-a', '180p/1.m4s') for 1 .. 2;
is(length $b, 100, 'the cache holds what the file held');

# truncated while cached: the cached copy

($s, $h) = get('v', 'fix-a', '144p/0.m4s') for 1 .. 3;
my $full = length read_file("$media/fix-a/144p/0.m4s");
truncate("$media/fix-a/144p/0.m4s", 10) or die;
($s, $h, $b) = get('v', 'fix-a', '144p/0.m4s');
is($s, 200, 'truncated while cached: 200');
is(length $b, $full, 'the cached copy, whole');

# a segment that became a directory, a FIFO, a symbolic link loop

unlink "$media/fix-b/180p/0.m4s";
mkdir "$media/fix-b/180p/0.m4s" or die;
unlink "$media/fix-b/144p/0.m4s";
mkfifo("$media/fix-b/144p/0.m4s", 0644) or die "mkfifo: $!\n";
unlink "$media/fix-b/144p/1.m4s";
symlink('loop', "$media/fix-b/144p/1.m4s") or die;
symlink('1.m4s', "$media/fix-b/144p/loop") or die;

for my $loc ('v', 'nc') {
    ($s) = get($loc, 'fix-b', '180p/0.m4s');
    is($s, 404, "/$loc/: a directory in its place: 404");
    ($s) = get($loc, 'fix-b', '144p/0.m4s');
    is($s, 404, "/$loc/: a FIFO in its place: 404 (never blocks)");
    ($s) = get($loc, 'fix-b', '144p/1.m4s');
    like($s, qr/^40[34]$/, "/$loc/: a symbolic link loop: $s");
}

like(read_file($log), qr/is not a file/, 'logged: not a file');

# the media root is no longer a directory

rename($media, "$media.gone") or die;
write_file($media, "not a directory\n");

for my $loc ('v', 'nc') {
    ($s) = get($loc, 'fix-b', '180p/1.m4s');
    is($s, 404, "/$loc/: the media root is a file: 404");
    ($s, $h, $b) = get($loc, 'fix-a', 'master.m3u8');
    is($s, 200, "/$loc/: playlists come from the catalog, still 200");
}

# the cached copy of a removed segment survives the root's loss too

($s) = get('v', 'fix-a', '180p/0.m4s');
is($s, 200, 'a cached segment is still served');

# back: everything as before

unlink $media;
rename("$media.gone", $media) or die;
($s) = get('nc', 'fix-b', '180p/1.m4s');
is($s, 200, 'the media root back: 200');

is(workers(), $before, 'no worker died');
my @bad = grep { /\[(alert|crit|emerg)\]|exited on signal/ }
          split /\n/, read_file($log);
is(scalar @bad, 0, 'no alert, crit or emerg in the log') or diag("@bad");

done_testing();
