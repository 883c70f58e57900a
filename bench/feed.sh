#!/usr/bin/env bash
#
# bench/feed.sh: feed manifests and watch events per second, against
# nginx sending a static body of the same size from the same server.
#
# One nginx (2 workers) on loopback with a synthetic catalog of CLIPS
# clips (tools/gen-catalog), a state zone, and:
#
#     /feed          feed_manifest, 10 items a page
#     /feed/events   feed_events (rate limit out of the way)
#     /static        a manifest saved to a file, sent by nginx itself
#
# VIEWERS sessions are opened first; wrk then sends each request with one
# of their cookies in turn (a Lua script), so the feed ranks for returning
# viewers whose seen sets grow.  Events: each POST carries one page of a
# viewer's impressions (10 events); the pages were fetched beforehand, so
# the first use of a page is accepted and later ones are duplicates (both
# are parsed, verified and looked up; the table says how many of each).
#
# The viewers post no events of their own, so the feed knows nothing of
# them and ranks without a taste, the cheaper kind of page.  TASTE=1 has
# each viewer watch a second page first, five clips to the end and
# liked, so that the pages measured are ranked for a taste.
#
# Cases alternate A/B for ROUNDS rounds of DURATION seconds; medians of
# req/s and p99 latency, and the ratio to static, are printed as Markdown
# and written to bench/results/feed-YYYYMMDD.md (feed-batch-, feed-taste-
# or feed-batch-taste-YYYYMMDD.md with CLIENT=batch, TASTE=1).
#
# wrk shares the cores with the workers.  A server slower than its client
# wakes the client for every response, and the woken client preempts a
# worker in mid-page; CLIENT=batch runs wrk as SCHED_BATCH (chrt -b), whose
# wakeups do not preempt, for every case alike, to see how much of a
# ratio is that.
#
# Settings (environment):
#   CLIPS=100000  VIEWERS=64  DURATION=5  ROUNDS=3  CONNS=32  THREADS=2
#   PORT=18480    NGINX=/usr/sbin/nginx  MODULE=build/ngx_http_feed_module.so
#   KEEP=0        1 keeps the work directory
#   CLIENT=normal or batch: wrk's scheduling policy
#   TASTE=0       1: viewers with a taste (above)
#
# Needs: nginx, wrk, curl, cc (for tools/gen-catalog).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

CLIPS=${CLIPS:-100000}
VIEWERS=${VIEWERS:-64}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18480}
NGINX=${NGINX:-/usr/sbin/nginx}
MODULE=${MODULE:-build/ngx_http_feed_module.so}
KEEP=${KEEP:-0}
CLIENT=${CLIENT:-normal}
TASTE=${TASTE:-0}
BUILD=${BUILD:-build}

BENCH=feed.sh
. "$ROOT/bench/lib.sh"

for v in CLIPS VIEWERS DURATION ROUNDS CONNS THREADS PORT TASTE; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done

[[ $CLIENT == normal || $CLIENT == batch ]] \
    || die "CLIENT must be normal or batch"

WRK=(wrk)
[[ $CLIENT == batch ]] && WRK=(chrt -b 0 wrk)

[[ -f $MODULE ]] || die "no $MODULE: run 'make build' first"
for tool in wrk curl cc; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

bench_workdir feed-bench
mkdir -p "$WORK/conf" "$WORK/logs"

# the catalog

if [[ ! -x $BUILD/gen-catalog || tools/gen-catalog.c -nt $BUILD/gen-catalog ]]
then
    mkdir -p "$BUILD"
    cc -O2 -o "$BUILD/gen-catalog" tools/gen-catalog.c -lm
fi

log "generating $CLIPS clips"
"$BUILD/gen-catalog" "$CLIPS" >"$WORK/catalog.jsonl"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/secret.key"

cat >"$WORK/conf/nginx.conf" <<EOF
load_module $WORK/module.so;
$( [[ $(id -u) == 0 ]] && echo "user root;" )
worker_processes 2;
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    feed_catalog $WORK/catalog.jsonl;
    feed_secret_file $WORK/secret.key;
    feed_state_zone viewers:64m;
    server {
        listen 127.0.0.1:$PORT backlog=4096;
        location = /feed { feed_manifest; }
        location = /feed/events {
            feed_events;
            feed_events_rate 1000000r/s burst=1000000;
        }
        location = /static {
            alias $WORK/static.json;
            default_type application/json;
        }
        location = /static-post {
            alias $WORK/events.json;
            default_type application/json;
            error_page 405 =200 /events-body;
        }
        location = /events-body {
            internal;
            alias $WORK/events.json;
            default_type application/json;
        }
    }
}
EOF

"$NGINX" -p "$WORK/" -c "$WORK/conf/nginx.conf" -g 'daemon off;' \
    >"$WORK/logs/stdout.log" 2>&1 &
NGINX_PID=$!

for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/static" && break
    sleep 0.1
done

URL="http://127.0.0.1:$PORT"

# events_body N FIELDS: a batch answering the first N impressions of the
# page on stdin, each event with FIELDS (JSON members)

events_body() {
    grep -o '"impression":"[^"]*"' \
    | awk -v n="$1" -v fields="$2" '
          BEGIN { printf "{\"events\":[" }
          NR <= n {
              sub(/^"impression":/, "")
              printf "%s{\"impression\":%s,%s}", (NR > 1 ? "," : ""), $0, fields
          }
          END { printf "]}\n" }'
}

# sessions, one page of impressions each, a static body of each size

log "opening $VIEWERS sessions"
: >"$WORK/cookies.txt"
: >"$WORK/batches.txt"

for ((v = 1; v <= VIEWERS; v++)); do
    curl -s -c "$WORK/jar" -o "$WORK/page.json" "$URL/feed"
    sid=$(awk '$6 == "feed_sid" { print $7 }' "$WORK/jar")
    echo "$sid" >>"$WORK/cookies.txt"
    printf '%s\t%s\n' "$sid" \
           "$(events_body 10 '"watch_ms":4000' <"$WORK/page.json")" \
           >>"$WORK/batches.txt"
done

cp "$WORK/page.json" "$WORK/static.json"
curl -s -b "feed_sid=$(head -1 "$WORK/cookies.txt")" \
     --data-binary "$(head -1 "$WORK/batches.txt" | cut -f2)" \
     -o "$WORK/events.json" "$URL/feed/events"

if ((TASTE)); then
    log "giving the $VIEWERS viewers a taste"

    while read -r sid; do
        body=$(curl -s -b "feed_sid=$sid" "$URL/feed" \
               | events_body 5 '"watch_ms":60000,"like":true')
        curl -s -b "feed_sid=$sid" -H 'Content-Type: application/json' \
             --data-binary "$body" "$URL/feed/events" \
        | grep -q '"accepted":5,' || die "a viewer's events were refused"
    done <"$WORK/cookies.txt"
fi

cat >"$WORK/feed.lua" <<EOF
local cookies = {}
for line in io.lines("$WORK/cookies.txt") do cookies[#cookies + 1] = line end
local i = math.random(1, #cookies)
request = function()
    i = i % #cookies + 1
    return wrk.format("GET", nil, { Cookie = "feed_sid=" .. cookies[i] })
end
EOF

cat >"$WORK/events.lua" <<EOF
local batches = {}
for line in io.lines("$WORK/batches.txt") do
    local sid, body = line:match("^([^\t]+)\t(.*)$")
    batches[#batches + 1] = { sid, body }
end
local i = math.random(1, #batches)
request = function()
    i = i % #batches + 1
    return wrk.format("POST", nil,
        { Cookie = "feed_sid=" .. batches[i][1],
          ["Content-Type"] = "application/json" }, batches[i][2])
end
EOF

cat >"$WORK/static-post.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"events":[]}'
EOF

run() {     # run SCRIPT PATH: prints "req/s p99_ms non2xx"
    local script=$1 path=$2 out

    out=$("${WRK[@]}" -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
              ${script:+-s "$script"} "$URL$path" 2>&1)

    awk '
        /Requests\/sec/ { rps = $2 }
        /^ +99%/ {
            v = $2
            if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
            else if (v ~ /ms$/) { sub(/ms/, "", v) }
            else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }
            p99 = v
        }
        /Non-2xx/ { bad = $4 }
        END { printf "%s %s %d\n", rps, p99, bad }' <<<"$out"
}

declare -A RPS P99

for case in feed static events static-post; do
    : >"$WORK/$case.rps"
    : >"$WORK/$case.p99"
done

# warm-up: the index refresh and the sessions' first pages

run "$WORK/feed.lua" /feed >/dev/null

for ((r = 1; r <= ROUNDS; r++)); do
    log "round $r of $ROUNDS"

    for pair in "feed.lua /feed feed" ": /static static" \
                "events.lua /feed/events events" \
                "static-post.lua /static-post static-post"
    do
        read -r script path case <<<"$pair"
        [[ $script == : ]] && script= || script="$WORK/$script"
        read -r rps p99 bad < <(run "$script" "$path")
        ((bad == 0)) || die "$case: $bad responses were not 2xx"
        echo "$rps" >>"$WORK/$case.rps"
        echo "$p99" >>"$WORK/$case.p99"
    done
done

for case in feed static events static-post; do
    RPS[$case]=$(median <"$WORK/$case.rps")
    P99[$case]=$(median <"$WORK/$case.p99")
done

EVENTS_OK=$(grep -c . "$WORK/batches.txt")
RESULT=bench/results/feed-
[[ $CLIENT == normal ]] || RESULT+=$CLIENT-
((TASTE == 0)) || RESULT+=taste-
RESULT+=$(date -u +%Y%m%d).md

TABLE=$(awk -v fr="${RPS[feed]}" -v sr="${RPS[static]}" \
            -v fp="${P99[feed]}" -v sp="${P99[static]}" \
            -v er="${RPS[events]}" -v pr="${RPS[static-post]}" \
            -v ep="${P99[events]}" -v pp="${P99[static-post]}" 'BEGIN {
    print "| case | req/s | p99 ms | static req/s | static p99 ms | ratio | target |"
    print "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
    printf "| feed manifest, 10 items | %.0f | %.2f | %.0f | %.2f | %.3f | >= 0.5 |\n", fr, fp, sr, sp, fr / sr
    printf "| events, batches of 10 | %.0f | %.2f | %.0f | %.2f | %.3f | |\n", er, ep, pr, pp, er / pr
}')

{
    echo "# Feed requests and events per second: $(date -u +%Y-%m-%d)"
    echo
    echo "\`bench/feed.sh\`: $CLIPS clips, $VIEWERS returning viewers," \
         "2 workers, wrk $THREADS threads $CONNS connections" \
         "($CLIENT scheduling)," \
         "$ROUNDS rounds of ${DURATION}s, medians; static bodies of the" \
         "same size ($(wc -c <"$WORK/static.json") bytes for the manifest)."
    if ((TASTE)); then
        echo "Viewers with a taste: each watched five clips of a page to" \
             "the end and liked them before the runs."
    else
        echo "Viewers not known yet: they post no events of their own."
    fi
    echo "Events: $EVENTS_OK batches of 10 were fresh at the start, the" \
         "rest of each run were duplicates (verified, looked up, refused)."
    echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "$TABLE"
} | tee "$RESULT"
