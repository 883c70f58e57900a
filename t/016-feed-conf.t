# The feed's directives: what nginx -t refuses, and why.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use FeedTest;

my $fx = feed_fixtures();
my $dir = tempdir('feed-conf-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($catalog) = feed_topic_catalog($dir, per => 5);

my $base = "    feed_catalog $catalog;\n"
         . "    feed_secret_file $fx/secret.key;\n"
         . "    feed_state_zone viewers:4m;\n";

sub conf_test {
    my ($name, $http, $location, $expect) = @_;

    my ($rc, $out) = nginx_test(
        http   => $http,
        server => "        location = /feed { feed_manifest; $location }\n"
                  . "        location = /feed/events { feed_events; }\n",
    );

    if (defined $expect) {
        isnt($rc, 0, "$name: nginx -t fails");
        like($out, $expect, "$name: the message says why");

    } else {
        is($rc, 0, "$name: nginx -t passes") or diag($out);
    }
}

conf_test('the defaults', $base, '', undef);

conf_test('every knob', $base
          . "    feed_session_cookie sid;\n    feed_session_secure on;\n"
          . "    feed_session_max_age 30d;\n    feed_catalog_watch 2s;\n"
          . "    feed_trend_half_life 30m;\n    feed_clusters 4;\n"
          . "    feed_block tags ^topic1\$;\n    feed_block caption (?i)spoiler;\n"
          . "    feed_block creator ^c3\$;\n    feed_block sound ^s9\$;\n",
          'feed_page_size 12; feed_page_max 40; feed_candidates 600; '
          . 'feed_source trending 0.3; feed_source random off; '
          . 'feed_score freshness 0.5; feed_score explore off; '
          . 'feed_filter seen on; feed_explore_share 0.25; '
          . 'feed_zeitgeist_share 0.1; feed_diversity 0.5; '
          . 'feed_promote 0.35; feed_exposure_stages 50 500 5000; '
          . 'feed_freshness_half_life 12h; feed_qualified_view 2s; '
          . 'feed_media_uri /media/; feed_events_rate 10r/s burst=30; '
          . 'feed_events_max_body 16k;', undef);

conf_test('no state zone',
          "    feed_catalog $catalog;\n    feed_secret_file $fx/secret.key;\n",
          '', qr/\[emerg\] .*"feed_manifest" and "feed_events" need "feed_catalog", "feed_secret_file" and "feed_state_zone" at the http level/);

conf_test('no keys',
          "    feed_catalog $catalog;\n    feed_state_zone viewers:4m;\n",
          '', qr/need "feed_catalog", "feed_secret_file" and "feed_state_zone"/);

conf_test('a bad regex', $base . "    feed_block caption \"(unclosed\";\n", '',
          qr/\[emerg\] .*feed_block: pcre2_compile\(\) failed: missing closing parenthesis in "\(unclosed"/);

conf_test('an unknown block field', $base . "    feed_block title x;\n", '',
          qr/\[emerg\] .*feed_block: unknown field "title", expected caption, tags, creator or sound/);

conf_test('an unknown source', $base, 'feed_source followers 1;',
          qr/\[emerg\] .*feed_source: unknown source "followers"/);

conf_test('an unknown scorer', $base, 'feed_score popularity 1;',
          qr/\[emerg\] .*feed_score: unknown scorer "popularity"/);

conf_test('a bad weight', $base, 'feed_source trending lots;',
          qr/\[emerg\] .*feed_source trending: invalid weight "lots"/);

conf_test('a share over 1', $base, 'feed_explore_share 1.5;',
          qr/\[emerg\] .*"feed_explore_share" directive must be a number from 0 to 1/);

conf_test('a filter weight', $base, 'feed_filter seen 0.5;',
          qr/\[emerg\] .*"feed_filter" directive takes "on" or "off"/);

conf_test('stages that do not grow', $base, 'feed_exposure_stages 100 100 1000;',
          qr/\[emerg\] .*"feed_exposure_stages" directive takes three growing impression counts/);

conf_test('a page too large', $base, 'feed_page_size 60;',
          qr/\[emerg\] .*"feed_page_size" must be from 1 to 50/);

conf_test('a rate without unit', $base, 'feed_events_rate 5;',
          qr/\[emerg\] .*"feed_events_rate" directive expects a rate like "5r\/s"/);

conf_test('a state zone too small', "    feed_catalog $catalog;\n"
          . "    feed_secret_file $fx/secret.key;\n"
          . "    feed_state_zone viewers:100k;\n", '',
          qr/\[emerg\] .*feed_state_zone "viewers": size 100k is too small, at least 1m/);

conf_test('too many clusters', $base . "    feed_clusters 1000;\n", '',
          qr/\[emerg\] .*"feed_clusters" must be from 0 \(automatic\) to 256/);

done_testing();
