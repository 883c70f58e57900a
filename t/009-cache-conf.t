# feed_cache_zone and feed_cache: what nginx -t refuses, and why.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use FeedTest;

my $fx = feed_fixtures();

sub conf_test {
    my ($name, $http, $location, $expect) = @_;

    my ($rc, $out) = nginx_test(
        http   => "    feed_catalog $fx/catalog.jsonl;\n$http",
        server => "        location /v/ { feed_media; "
                  . "feed_media_root $fx/media; $location }\n"
                  . "        location = /metrics { feed_status; }\n",
    );

    if (defined $expect) {
        isnt($rc, 0, "$name: nginx -t fails");
        like($out, $expect, "$name: the message says why");

    } else {
        is($rc, 0, "$name: nginx -t passes") or diag($out);
    }
}

conf_test('a good zone', "    feed_cache_zone hot:8m max_object=1m;\n",
          'feed_cache hot;', undef);

conf_test('every parameter',
          "    feed_cache_zone hot:8m max_object=1m objects=256 pins=512 "
          . "window=10000 second_chance=5% move_budget=2 "
          . "admission=tinylfu;\n    feed_cache_thread_pool default;\n",
          'feed_cache hot; feed_cache_send copy; feed_cache_warm 2; '
          . 'feed_cache_inline_fill 64k;', undef);

conf_test('a zone too small', "    feed_cache_zone hot:512k;\n",
          'feed_cache hot;',
          qr/\[emerg\] \d+#\d+: feed_cache_zone "hot": size 512k is too small, the least useful size is 1m/);

conf_test('max_object larger than the zone',
          "    feed_cache_zone hot:2m max_object=4m;\n", 'feed_cache hot;',
          qr/\[emerg\] \d+#\d+: feed_cache_zone "hot": max_object=4m is larger than the zone/);

conf_test('max_object leaving no room to turn over',
          "    feed_cache_zone hot:2m max_object=1500k;\n", 'feed_cache hot;',
          qr/\[emerg\] \d+#\d+: feed_cache_zone "hot": max_object=1500k leaves no room to turn objects over; at most \d+k with this size/);

conf_test('an unknown zone', "    feed_cache_zone hot:2m;\n",
          'feed_cache cold;',
          qr/\[emerg\] \d+#\d+: feed_cache "cold" names no zone: declare it with "feed_cache_zone cold:SIZE;" at the http level in \S+nginx\.conf:\d+/);

conf_test('no NAME:SIZE', "    feed_cache_zone hot;\n", 'feed_cache hot;',
          qr/\[emerg\] \d+#\d+: feed_cache_zone "hot": expected NAME:SIZE/);

conf_test('a bad size', "    feed_cache_zone hot:lots;\n", 'feed_cache hot;',
          qr/\[emerg\] \d+#\d+: feed_cache_zone "hot": invalid size "lots"/);

conf_test('an unknown parameter',
          "    feed_cache_zone hot:2m colour=blue;\n", 'feed_cache hot;',
          qr/\[emerg\] \d+#\d+: feed_cache_zone "hot": invalid parameter "colour=blue"/);

conf_test('a bad admission policy',
          "    feed_cache_zone hot:2m admission=lru;\n", 'feed_cache hot;',
          qr/\[emerg\] \d+#\d+: feed_cache_zone "hot": invalid parameter "admission=lru"/);

conf_test('a duplicate zone',
          "    feed_cache_zone hot:2m;\n    feed_cache_zone hot:4m;\n",
          'feed_cache hot;',
          qr/\[emerg\] \d+#\d+: feed_cache_zone "hot" is duplicate/);

conf_test('too many warmed segments', "    feed_cache_zone hot:2m;\n",
          'feed_cache hot; feed_cache_warm 100;',
          qr/\[emerg\] \d+#\d+: "feed_cache_warm" directive must be between 0 and 8 segments/);

conf_test('a bad send mode', "    feed_cache_zone hot:2m;\n",
          'feed_cache hot; feed_cache_send mmap;',
          qr/\[emerg\] \d+#\d+: invalid value "mmap"/);

conf_test('an unknown thread pool',
          "    feed_cache_zone hot:2m;\n    feed_cache_thread_pool nope;\n",
          'feed_cache hot;',
          qr/\[emerg\] \d+#\d+: unknown thread pool "nope"/);

done_testing();
