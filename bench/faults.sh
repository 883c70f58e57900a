#!/usr/bin/env bash
#
# bench/faults.sh: the module under faults while wrk keeps it busy with
# segments (through the shared cache), master playlists and feed pages,
# on loopback, each phase bounded in time:
#
#   reload    RELOADS reloads (SIGHUP to the master, what `nginx -s
#             reload` sends) during the run: no request may
#             fail, and the cache and state zones are kept (objects and
#             viewers before and after, from the metrics)
#   corrupt   a reload with a catalog that does not parse, during the
#             run: refused, the old catalog keeps serving, no request
#             may fail
#   kill      SIGKILL to a worker every second for KILL_SECS seconds:
#             the master starts a new one each time, the service goes
#             on (a request on the killed worker's connections fails:
#             the error rate is reported), and no zone is left locked
#             (a request after the run answers within a second)
#
# Requests use "Connection: close" so that a worker leaving after a
# reload cannot take a kept-alive request with it: any failure is real.
# Prints a Markdown table and writes bench/results/faults-YYYYMMDD.md;
# exits non-zero when a reload or corrupt phase lost a request.
#
# Settings (environment):
#   RELOADS=20  RELOAD_SECS=15  KILL_SECS=30  CONNS=16  THREADS=2
#   PORT=18490  NGINX=/usr/sbin/nginx  MODULE=build/ngx_http_feed_module.so
#   KEEP=0 (1 keeps the work directory)
#
# Needs: nginx, wrk, curl, and the fixtures (make fixtures).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RELOADS=${RELOADS:-20}
RELOAD_SECS=${RELOAD_SECS:-15}
KILL_SECS=${KILL_SECS:-30}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
PORT=${PORT:-18490}
NGINX=${NGINX:-/usr/sbin/nginx}
MODULE=${MODULE:-build/ngx_http_feed_module.so}
KEEP=${KEEP:-0}
FX=$ROOT/t/fixtures

BENCH=faults.sh
. "$ROOT/bench/lib.sh"

for v in RELOADS RELOAD_SECS KILL_SECS CONNS THREADS PORT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done

[[ -f $MODULE ]] || die "no $MODULE: run 'make build' first"
[[ -s $FX/remix.jsonl ]] || die "no fixtures: run 'make fixtures' first"
for tool in wrk curl perl; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

bench_workdir feed-faults
mkdir -p "$WORK/conf" "$WORK/logs"
cp "$FX/remix.jsonl" "$WORK/catalog.jsonl"

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
    feed_secret_file $FX/secret.key;
    feed_state_zone viewers:8m;
    feed_cache_zone hot:16m;
    server {
        listen 127.0.0.1:$PORT backlog=4096;
        location /v/ {
            feed_media;
            feed_media_root $FX/media;
            feed_cache hot;
        }
        location = /feed { feed_manifest; }
        location = /metrics { feed_status; }
    }
}
EOF

# the master in the foreground as our child, so that we reap it

"$NGINX" -p "$WORK/" -c "$WORK/conf/nginx.conf" -g 'daemon off;' \
    >"$WORK/logs/stdout.log" 2>&1 &
NGINX_PID=$!

URL="http://127.0.0.1:$PORT"

for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null "$URL/metrics" && break
    sleep 0.1
done

# signed URLs of every segment and master playlist of the fixtures

perl -I"$ROOT/t/lib" -MFeedTest -MJSON::PP -e '
    for my $line (split /\n/, FeedTest::read_file($ARGV[0])) {
        next unless $line =~ /\S/;
        my $c = decode_json($line);
        my $t = FeedTest::feed_token($c->{id}, expires => time() + 7200);
        print "/v/$c->{id}/master.m3u8?token=$t\n";
        for my $r (@{ $c->{renditions} }) {
            print "/v/$c->{id}/$r->{name}/init.mp4?token=$t\n";
            print "/v/$c->{id}/$r->{name}/$_.m4s?token=$t\n"
                for 0 .. $#{ $r->{segments} };
        }
    }' "$WORK/catalog.jsonl" >"$WORK/paths.txt"

# 32 viewers, and one feed page in five for one of them in turn

: >"$WORK/cookies.txt"

for ((v = 0; v < 32; v++)); do
    curl -s -c "$WORK/jar" -o /dev/null "$URL/feed"
    awk '$6 == "feed_sid" { print $7 }' "$WORK/jar" >>"$WORK/cookies.txt"
done

cat >"$WORK/mix.lua" <<EOF
local paths, cookies = {}, {}
for line in io.lines("$WORK/paths.txt") do paths[#paths + 1] = line end
for line in io.lines("$WORK/cookies.txt") do cookies[#cookies + 1] = line end
local i = 0
request = function()
    i = i + 1
    if i % 5 == 0 then
        return wrk.format("GET", "/feed", { Connection = "close",
            Cookie = "feed_sid=" .. cookies[i % #cookies + 1] })
    end
    return wrk.format("GET", paths[i % #paths + 1],
                      { Connection = "close" })
end
EOF

# a viewer of our own, not in the load: its second page is page 2 only
# if the state zone kept it across the reloads

probe() {
    curl -s -b "$WORK/probe.jar" -c "$WORK/probe.jar" "$URL/feed?n=1" \
    | sed -n 's/^{"page":\([0-9]*\).*/\1/p'
}

# wrk for SECS seconds in the background; its report in FILE

wrk_start() {   # wrk_start SECS FILE
    wrk -t"$THREADS" -c"$CONNS" -d"$1s" -s "$WORK/mix.lua" "$URL" \
        >"$2" 2>&1 &
    WRK_PID=$!
}

# "requests failed" from a wrk report: non-2xx plus socket errors

wrk_result() {  # wrk_result FILE: prints "requests failed"
    awk '
        / requests in / { n = $1 }
        /Non-2xx/ { bad += $NF }
        /Socket errors/ {
            gsub(/,/, "")
            for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) bad += $i
        }
        END { printf "%d %d\n", n, bad }' "$1"
}

metric() {      # metric NAME: its value from the metrics, 0 if absent
    curl -s "$URL/metrics" | awk -v m="$1" '$1 == m { print $2; f = 1 }
        END { if (!f) print 0 }'
}

workers() {
    ps -eo pid,ppid,args | awk -v m="$NGINX_PID" \
        '$2 == m && /worker process/ { print $1 }'
}

# warm: the cache and some viewers

wrk_start 3 "$WORK/warm.txt"
wait "$WRK_PID"
WRK_PID=

RESULTS=()
FAILED=0

# --- reloads ---------------------------------------------------------------

log "phase reload: $RELOADS reloads in ${RELOAD_SECS}s of load"
objects0=$(metric 'feed_cache_objects{zone="hot"}')
viewers0=$(metric feed_viewers)
page0=$(probe)

wrk_start "$RELOAD_SECS" "$WORK/reload.txt"
sleep 1
step=$(awk -v s="$RELOAD_SECS" -v n="$RELOADS" 'BEGIN { printf "%.2f", (s - 3) / n }')
done_reloads=0

for ((i = 0; i < RELOADS; i++)); do
    kill -HUP "$NGINX_PID" && done_reloads=$((done_reloads + 1))
    sleep "$step"
done

wait "$WRK_PID"
WRK_PID=
read -r total bad < <(wrk_result "$WORK/reload.txt")
objects1=$(metric 'feed_cache_objects{zone="hot"}')
viewers1=$(metric feed_viewers)
page1=$(probe)
reloaded=$(grep -c 'reconfiguring' "$WORK/logs/error.log" || true)

kept=yes
(( objects1 >= objects0 && objects0 > 0 && viewers1 >= viewers0 \
   && page1 > page0 )) || kept=no
RESULTS+=("| $done_reloads reloads under load ($((reloaded / 2)) taken) | $total | $bad | cache objects $objects0 -> $objects1, viewers $viewers0 -> $viewers1, a viewer's page $page0 -> $page1: zones kept: $kept |")
(( bad == 0 )) && [[ $kept == yes ]] || FAILED=1

# --- a corrupt catalog -----------------------------------------------------

log "phase corrupt: a reload with a broken catalog under load"
cp "$WORK/catalog.jsonl" "$WORK/catalog.good"
wrk_start 6 "$WORK/corrupt.txt"
sleep 1
before=$(grep -c emerg "$WORK/logs/error.log" || true)
printf '{"id":"broken", "renditions": [\n' >"$WORK/catalog.jsonl"
kill -HUP "$NGINX_PID"
sleep 2
after=$(grep -c emerg "$WORK/logs/error.log" || true)
code=$(curl -s -o /dev/null -w '%{http_code}' \
       "$URL$(head -1 "$WORK/paths.txt")")
wait "$WRK_PID"
WRK_PID=
cp "$WORK/catalog.good" "$WORK/catalog.jsonl"
read -r total bad < <(wrk_result "$WORK/corrupt.txt")

refused=no
(( after > before )) && refused=yes
RESULTS+=("| reload with a corrupt catalog | $total | $bad | refused: $refused; the old catalog serves: $code |")
(( bad == 0 )) && [[ $refused == yes && $code == 200 ]] || FAILED=1

# --- SIGKILL a worker every second -----------------------------------------

log "phase kill: SIGKILL to a worker every second for ${KILL_SECS}s"
wrk_start "$KILL_SECS" "$WORK/kill.txt"
kills=0
respawned=0

for ((i = 0; i < KILL_SECS - 1; i++)); do
    sleep 1
    victim=$(workers | head -1)
    [[ -n $victim ]] || continue
    kill -KILL "$victim" 2>/dev/null && kills=$((kills + 1))
done

wait "$WRK_PID"
WRK_PID=
sleep 0.5
respawned=$(grep -c 'exited on signal 9' "$WORK/logs/error.log" || true)
nworkers=$(workers | wc -l)

t0=$(date +%s.%N)
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/feed")
code2=$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
        "$URL$(sed -n 2p "$WORK/paths.txt")")
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
read -r total bad < <(wrk_result "$WORK/kill.txt")
rate=$(awk -v b="$bad" -v t="$total" 'BEGIN { printf "%.3f%%", t ? 100 * b / t : 0 }')

RESULTS+=("| $kills SIGKILLs, one a second | $total | $bad ($rate) | workers exited on SIGKILL: $respawned, running after: $nworkers; then feed $code and segment $code2 in ${secs}s |")
(( nworkers == 2 )) && [[ $code == 200 && $code2 == 200 ]] || FAILED=1

alerts=$(grep -cE '\[(alert|crit)\]' "$WORK/logs/error.log" || true)

TABLE=$(
    echo "| phase | requests | failed | outcome |"
    echo "| --- | ---: | ---: | --- |"
    printf '%s\n' "${RESULTS[@]}"
)

{
    echo "# Faults under load: $(date -u +%Y-%m-%d)"
    echo
    echo "\`bench/faults.sh\`: 2 workers, wrk $THREADS threads $CONNS" \
         "connections, one request per connection; segments (through" \
         "the cache), master playlists and one feed page in five."
    echo "Alert or crit lines in the error log: $alerts (the kill phase" \
         "logs the workers' exits at alert)."
    echo
    echo "$TABLE"
} | tee "bench/results/faults-$(date -u +%Y%m%d).md"

exit "$FAILED"
