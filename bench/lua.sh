#!/usr/bin/env bash
#
# bench/lua.sh: feed manifests per second with no Lua hook against the
# calm-feed hook (lua/feed/calm.lua, which reads every candidate's tags),
# with feed_lua_jit off and on, over 500 candidates a page.
#
# Same set-up as bench/feed.sh (a synthetic catalog of CLIPS clips, 2
# workers, VIEWERS returning viewers sent in turn by a wrk script), one
# nginx per JIT mode, each serving:
#
#     /feed   feed_manifest, feed_candidates 500, no hook
#     /calm   the same with feed_rank_by_lua_block { calm.hook{...} }
#
# The two alternate for ROUNDS rounds of DURATION seconds; medians of
# req/s, and the ratio hook / no hook, go to bench/results/lua-YYYYMMDD.md.
#
# Settings (environment):
#   CLIPS=100000  VIEWERS=64  DURATION=5  ROUNDS=3  CONNS=32  THREADS=2
#   CANDIDATES=500  PORT=18490  NGINX=/usr/sbin/nginx
#   MODULE=build/ngx_http_feed_module.so  KEEP=0

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

CLIPS=${CLIPS:-100000}
VIEWERS=${VIEWERS:-64}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
CANDIDATES=${CANDIDATES:-500}
PORT=${PORT:-18490}
NGINX=${NGINX:-/usr/sbin/nginx}
MODULE=${MODULE:-build/ngx_http_feed_module.so}
KEEP=${KEEP:-0}
BUILD=${BUILD:-build}

BENCH=lua.sh
. "$ROOT/bench/lib.sh"

for v in CLIPS VIEWERS DURATION ROUNDS CONNS THREADS CANDIDATES PORT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done

[[ -f $MODULE ]] || die "no $MODULE: run 'make build' first"
for tool in wrk curl cc; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

bench_workdir lua-bench
mkdir -p "$WORK/conf" "$WORK/logs"

if [[ ! -x $BUILD/gen-catalog || tools/gen-catalog.c -nt $BUILD/gen-catalog ]]
then
    mkdir -p "$BUILD"
    cc -O2 -o "$BUILD/gen-catalog" tools/gen-catalog.c -lm
fi

log "generating $CLIPS clips"
"$BUILD/gen-catalog" "$CLIPS" >"$WORK/catalog.jsonl"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/secret.key"

URL="http://127.0.0.1:$PORT"

start_nginx() {     # start_nginx on|off
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
    feed_candidates $CANDIDATES;
    feed_lua_package_path "$ROOT/lua/?.lua";
    feed_lua_jit $1;
    server {
        listen 127.0.0.1:$PORT backlog=4096;
        location = /feed { feed_manifest; }
        location = /calm {
            feed_manifest;
            feed_rank_by_lua_block {
                return require("feed.calm").hook{
                    tags = { "gadgets", "pizza", "dogs", "concert" } }
            }
        }
    }
}
EOF

    "$NGINX" -p "$WORK/" -c "$WORK/conf/nginx.conf" -g 'daemon off;' \
        >"$WORK/logs/stdout.log" 2>&1 &
    NGINX_PID=$!

    for ((i = 0; i < 100; i++)); do
        curl -s -o /dev/null "$URL/feed" && return 0
        sleep 0.1
    done

    die "nginx did not start: $(tail -5 "$WORK/logs/error.log")"
}

run() {     # run PATH: prints "req/s non2xx"
    local out

    out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" \
              -s "$WORK/feed.lua" "$URL$1" 2>&1)

    awk '/Requests\/sec/ { rps = $2 } /Non-2xx/ { bad = $4 }
         END { printf "%s %d\n", rps, bad }' <<<"$out"
}

declare -A RPS FAILS

for jit in off on; do
    start_nginx "$jit"

    : >"$WORK/cookies.txt"

    for ((v = 1; v <= VIEWERS; v++)); do
        curl -s -c "$WORK/jar" -o /dev/null "$URL/feed"
        awk '$6 == "feed_sid" { print $7 }' "$WORK/jar" >>"$WORK/cookies.txt"
    done

    cat >"$WORK/feed.lua" <<EOF
local cookies = {}
for line in io.lines("$WORK/cookies.txt") do cookies[#cookies + 1] = line end
local i = math.random(1, #cookies)
request = function()
    i = i % #cookies + 1
    return wrk.format("GET", nil, { Cookie = "feed_sid=" .. cookies[i] })
end
EOF

    run /feed >/dev/null
    run /calm >/dev/null

    : >"$WORK/feed-$jit.rps"
    : >"$WORK/calm-$jit.rps"

    for ((r = 1; r <= ROUNDS; r++)); do
        log "jit $jit: round $r of $ROUNDS"

        for case in feed calm; do
            read -r rps bad < <(run "/$case")
            ((bad == 0)) || die "$case: $bad responses were not 2xx"
            echo "$rps" >>"$WORK/$case-$jit.rps"
        done
    done

    RPS[feed-$jit]=$(median <"$WORK/feed-$jit.rps")
    RPS[calm-$jit]=$(median <"$WORK/calm-$jit.rps")

    # failures are counted, not fatal: a hook served with the C ranking
    # is part of what is measured

    FAILS[$jit]=$(grep -c "feed_rank_by_lua" "$WORK/logs/error.log" || true)
    ((FAILS[$jit] == 0)) || log "jit $jit: $(grep feed_rank_by_lua \
                                 "$WORK/logs/error.log" | head -2)"
    stop_nginx
done

TABLE=$(awk -v f0="${RPS[feed-off]}" -v c0="${RPS[calm-off]}" \
            -v f1="${RPS[feed-on]}" -v c1="${RPS[calm-on]}" \
            -v e0="${FAILS[off]}" -v e1="${FAILS[on]}" 'BEGIN {
    print "| feed_lua_jit | no hook req/s | calm hook req/s | ratio | hook failures logged |"
    print "| --- | ---: | ---: | ---: | ---: |"
    printf "| off | %.0f | %.0f | %.3f | %d |\n", f0, c0, c0 / f0, e0
    printf "| on | %.0f | %.0f | %.3f | %d |\n", f1, c1, c1 / f1, e1
}')

{
    echo "# Lua ranking hook cost: $(date -u +%Y-%m-%d)"
    echo
    echo "\`bench/lua.sh\`: $CLIPS clips, feed_candidates $CANDIDATES," \
         "$VIEWERS returning viewers, 2 workers, wrk $THREADS threads" \
         "$CONNS connections, $ROUNDS rounds of ${DURATION}s alternating" \
         "no hook and the calm-feed hook, medians."
    echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "$TABLE"
} | tee "bench/results/lua-$(date -u +%Y%m%d).md"
