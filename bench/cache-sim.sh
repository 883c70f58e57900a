#!/usr/bin/env bash
#
# bench/cache-sim.sh: the segment cache's policy against LRU and
# Belady's furthest-next-use, by trace replay (tools/cache-sim.c).
#
# For each Zipf exponent a short-video trace is generated (clips arrive,
# rise and fade all through it) and replayed at capacities of 1%, 3% and
# 10% of its working set.  Printed as a Markdown table: object hit ratio
# (OHR) and byte hit ratio (BHR) of each policy, the feed policy's points
# above LRU and its distance to OPT, in points of OHR.
#
# Settings (environment):
#   ALPHAS="0.8 0.9 1.0"   PCTS=1,3,10   REQUESTS=2000000   SEED=1
#   SIM_FLAGS=             extra cache-sim options (policy knobs)
#   CC=cc

set -euo pipefail

cd "$(dirname "$0")/.."

ALPHAS=${ALPHAS:-"0.8 0.9 1.0"}
PCTS=${PCTS:-1,3,10}
REQUESTS=${REQUESTS:-2000000}
SEED=${SEED:-1}
SIM_FLAGS=${SIM_FLAGS:-}
CC=${CC:-cc}
BUILD=${BUILD:-build}

mkdir -p "$BUILD"

$CC -std=gnu99 -O2 -Wall -Wextra -Werror -Wdeclaration-after-statement \
    -Ingx_feed_module/core -o "$BUILD/cache-sim" tools/cache-sim.c \
    ngx_feed_module/core/*.c -ljansson -lcrypto -lm -lpthread

echo "| alpha | capacity | feed OHR | LRU OHR | OPT OHR | above LRU" \
     "| to OPT | feed BHR | LRU BHR | OPT BHR |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"

for a in $ALPHAS; do
    # shellcheck disable=SC2086
    "$BUILD/cache-sim" -q -a "$a" -n "$REQUESTS" -s "$SEED" -p "$PCTS" \
        $SIM_FLAGS \
    | while read -r pct fo fb lo lb oo ob; do
        awk -v a="$a" -v p="$pct" -v fo="$fo" -v fb="$fb" -v lo="$lo" \
            -v lb="$lb" -v oo="$oo" -v ob="$ob" 'BEGIN {
            printf "| %s | %s%% | %.1f | %.1f | %.1f | %+.1f | %.1f" \
                   " | %.1f | %.1f | %.1f |\n",
                   a, p, fo, lo, oo, fo - lo, oo - fo, fb, lb, ob
        }'
    done
done
