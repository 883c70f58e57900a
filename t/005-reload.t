# nginx -s reload: a good catalog is swapped in, a broken one is refused
# and the previous catalog keeps serving.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $dir = tempdir('feed-reload-XXXXXX', TMPDIR => 1, CLEANUP => 1);

my @lines = grep { length } split /\n/, read_file("$fx/catalog.jsonl");
my ($line_a) = grep { /"id":"fix-a"/ } @lines;
my ($line_b) = grep { /"id":"fix-b"/ } @lines;

write_file("$dir/catalog.jsonl", "$line_a\n");

my $ngx = nginx_start(
    dir    => "$dir/prefix",
    port   => $port,
    http   => "    feed_catalog $dir/catalog.jsonl;\n",
    server => "        location /v/ { feed_media; "
              . "feed_media_root $fx/media; }\n",
);

my ($status) = http_get($port, '/v/fix-a/master.m3u8');
is($status, 200, 'first catalog: fix-a served');

($status) = http_get($port, '/v/fix-b/master.m3u8');
is($status, 404, 'first catalog: fix-b unknown');

# a good catalog with fix-b added

write_file("$dir/catalog.jsonl", "$line_a\n$line_b\n");
my $log = nginx_reload($ngx);
unlike($log, qr/\[emerg\]/, 'good catalog: reload accepted');

($status) = http_get($port, '/v/fix-b/master.m3u8');
is($status, 200, 'after reload: fix-b served');

# a broken catalog: a truncated third line

write_file("$dir/catalog.jsonl", "$line_a\n$line_b\n{\"id\":\"fix-c\",\n");
$log = nginx_reload($ngx);
like($log, qr/\[emerg\].*feed_catalog "[^"]+catalog\.jsonl", line 3: bad JSON/,
     'broken catalog: reload refused with file, line and reason');

for my $clip (qw(fix-a fix-b)) {
    my ($s, $h, $body) = http_get($port, "/v/$clip/master.m3u8");
    is($s, 200, "broken catalog: previous catalog still serves $clip");
    like($body, qr/^#EXTM3U/, "broken catalog: $clip playlist intact");
}

# a broken catalog with a duplicate id, then a good one without fix-a

write_file("$dir/catalog.jsonl", "$line_a\n$line_a\n");
$log = nginx_reload($ngx);
like($log, qr/line 2: duplicate id "fix-a"/, 'duplicate id refused');

write_file("$dir/catalog.jsonl", "$line_b\n");
$log = nginx_reload($ngx);
unlike($log, qr/\[emerg\]/, 'catalog without fix-a accepted');

($status) = http_get($port, '/v/fix-a/master.m3u8');
is($status, 404, 'fix-a gone after reload');

($status) = http_get($port, '/v/fix-b/master.m3u8');
is($status, 200, 'fix-b still served');

nginx_stop($ngx);

my $errors = read_file("$dir/prefix/logs/error.log");
unlike($errors, qr/\[(alert|crit)\]/, 'no alert or crit in the error log');
unlike($errors, qr/exited with code [1-9]/,
       'no worker exited with an error (a sanitizer report, say)');

done_testing();
