#!/usr/bin/env bash
#
# bench/cache.sh: segment cache hits against nginx's own static file
# handler, and the memory a cached object costs beyond its data.
#
# One nginx (2 workers) on the loopback interface serves the same files
# three ways:
#
#     /pin/{clip}/720p/1.m4s     feed_media + feed_cache, feed_cache_send pin
#     /copy/{clip}/720p/1.m4s    feed_media + feed_cache, feed_cache_send copy
#     /static/{clip}/720p/1.m4s  plain "alias" location, sendfile
#
# /pin/ and /copy/ use the same zone (the key is the file's name), so one
# warm-up serves both.  Signing is off (no feed_secret_file).
#
# For each segment size (64 KiB, 512 KiB, 2 MiB) there are CLIPS clips
# (default 16) of one segment each, random bytes.  wrk runs a Lua script
# that rotates through the CLIPS URLs of the size, request by request, on
# every side alike, so the whole set is in use (2 MiB x 16 = 32 MiB, more
# than the CPU caches).  The three sides are run in turn, the order
# rotated every round; the median requests/s of each, the ratios
# cache/static and pin/copy, and the nginx worker CPU time per request are
# printed as a Markdown table.
#
# Every measured request must be a hit.  Before measuring, every file is
# asked for a few times and the background fills are waited for; then
# every URL of /pin/ and /copy/ must answer X-Cache: HIT with the file's
# exact bytes (and a range of one).  Around every wrk run on a cache side
# the metrics (feed_status) are read: the run must add no lookup miss,
# and as many hits and HIT statuses as segment requests, at least as many
# as wrk counted.  Any other outcome stops the script: the numbers would
# not be those of hits.
#
# Then the memory overhead: zones of OVH_ZONE MiB are filled, with
# admission off, with more objects of one size than they hold (the zone
# evicts), and feed_cache_capacity_bytes, feed_cache_bytes and
# feed_cache_objects give the bytes of zone per object beyond its data;
# see the notes printed with the table.
#
# The report is also written to bench/results/cache-YYYYMMDD.md.
#
# Settings (environment):
#   DURATION=5   seconds per wrk run        ROUNDS=6    rounds per size
#   CONNS=32     wrk connections            THREADS=2   wrk threads
#   WARMUP=1     seconds of wrk per side before each size (0: none)
#   CLIPS=16     files per size             ZONE=256m   the bench zone
#   OVH_ZONE=64  MiB per zone of the overhead measurement (8 .. 512)
#   PORT=        default: first free port from 18180
#   MODULE=build/ngx_http_feed_module.so    NGINX=/usr/sbin/nginx
#   KEEP=0       1 keeps the temporary work directory
#
# Needs: nginx with threads, wrk, curl, awk, truncate.

set -euo pipefail

ORIG_PWD=$PWD
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-6}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-1}
CLIPS=${CLIPS:-16}
ZONE=${ZONE:-256m}
OVH_ZONE=${OVH_ZONE:-64}
KEEP=${KEEP:-0}
MODULE=${MODULE:-build/ngx_http_feed_module.so}
NGINX=${NGINX:-/usr/sbin/nginx}
PORT=${PORT:-}

BENCH=cache.sh
. "$ROOT/bench/lib.sh"

for v in DURATION ROUNDS CONNS THREADS WARMUP CLIPS OVH_ZONE; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
((DURATION >= 1)) || die "DURATION must be at least 1"
((ROUNDS >= 1)) || die "ROUNDS must be at least 1"
((THREADS >= 1 && CONNS >= THREADS)) || die "need CONNS >= THREADS >= 1"
((CLIPS >= 1 && CLIPS <= 1000)) || die "CLIPS must be 1 .. 1000"
((OVH_ZONE >= 8 && OVH_ZONE <= 512)) || die "OVH_ZONE must be 8 .. 512"
[[ $ZONE =~ ^[0-9]+[mMgG]$ ]] || die "ZONE must be like 256m, not '$ZONE'"

# Relative paths: the caller's directory first, then the repository.

MODULE=$(resolve "$MODULE")
if [[ $NGINX == */* ]]; then NGINX=$(resolve "$NGINX"); fi

[[ -f $MODULE ]] || die "module not found: $MODULE (run 'make build' first)"
command -v "$NGINX" >/dev/null || die "nginx not found: $NGINX (set NGINX=)"
for tool in wrk curl awk truncate cmp; do
    command -v "$tool" >/dev/null || die "$tool is needed but not installed"
done
"$NGINX" -V 2>&1 | grep -q -- --with-threads \
    || log "nginx has no thread pools: misses are filled inline"

NGINX_VERSION=$("$NGINX" -v 2>&1 | sed -n 's|.*nginx/||p')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")

# zone sizes in bytes

case $ZONE in
*[mM]) ZONE_BYTES=$(( ${ZONE%?} * 1024 * 1024 )) ;;
*)     ZONE_BYTES=$(( ${ZONE%?} * 1024 * 1024 * 1024 )) ;;
esac
OVH_BYTES=$((OVH_ZONE * 1024 * 1024))

# the set must fit the zone with room to spare, in data and in index
# slots (objects= is left to its default, one per 256 KiB of zone)

((CLIPS * (65536 + 524288 + 2097152) * 4 <= ZONE_BYTES * 3)) \
    || die "the files of CLIPS=$CLIPS do not fit in ZONE=$ZONE"
((CLIPS * 3 * 262144 * 4 <= ZONE_BYTES * 3)) \
    || die "the $((CLIPS * 3)) files need more index slots than ZONE=$ZONE has"

# ---------------------------------------------------------------------------
# Work directory and cleanup

bench_workdir feed-cache
mkdir -p "$WORK/media" "$WORK/tmp"

# ---------------------------------------------------------------------------
# Catalog and media

# clip_line ID NSEGS SEGDUR: one catalog line, one rendition 720p

clip_line() {
    local id=$1 n=$2 d=$3 segs dur

    segs=$(awk -v n="$n" -v d="$d" 'BEGIN {
               for (i = 0; i < n; i++) printf "%s%s", (i ? "," : ""), d }')
    dur=$(awk -v n="$n" -v d="$d" 'BEGIN { printf "%.6f", n * d }')

    printf '{"id":"%s","creator":"bench","sound":"none","created":1764100000,' \
           "$id"
    printf '"duration":%s,"caption":"cache benchmark clip %s",' "$dur" "$id"
    printf '"tags":["bench"],"embedding":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8],'
    printf '"renditions":[{"name":"720p","bandwidth":2500000,'
    printf '"resolution":"720x1280","codecs":"avc1.64001f,mp4a.40.2",'
    printf '"segments":[%s]}]}\n' "$segs"
}

SIZES=(64k 512k 2m)
declare -A SIZE_BYTES=([64k]=65536 [512k]=524288 [2m]=2097152)
declare -A SIZE_LABEL=([64k]="64 KiB" [512k]="512 KiB" [2m]="2 MiB")

: >"$WORK/catalog.jsonl"

# the benchmark's clips: hit-SIZE-NN, segment 1 only, random bytes

for s in "${SIZES[@]}"; do
    for ((c = 0; c < CLIPS; c++)); do
        id=$(printf 'hit-%s-%02d' "$s" "$c")
        clip_line "$id" 4 2.0 >>"$WORK/catalog.jsonl"
        mkdir -p "$WORK/media/$id/720p"
        head -c "${SIZE_BYTES[$s]}" /dev/urandom >"$WORK/media/$id/720p/1.m4s"
    done
done

NOBJ=$((${#SIZES[@]} * CLIPS))

# the overhead measurement's clips: ovh-SIZE, segments 1000 .. 1000+N-1
# (all keys the same length), sparse files: their bytes do not matter.
# N is 15% more than the zone could hold without any overhead.

OVH_FIRST=1000
declare -A OVH_N

for s in "${SIZES[@]}"; do
    n=$((OVH_BYTES * 115 / 100 / SIZE_BYTES[$s] + 4))
    OVH_N[$s]=$n
    ((OVH_FIRST + n <= 3600)) || die "OVH_ZONE=$OVH_ZONE needs too many files"
    clip_line "ovh-$s" $((OVH_FIRST + n)) 1.0 >>"$WORK/catalog.jsonl"
    dir=$WORK/media/ovh-$s/720p
    mkdir -p "$dir"
    for ((i = OVH_FIRST; i < OVH_FIRST + n; i++)); do
        : >"$dir/$i.m4s"
    done
    (cd "$dir" && truncate -s "${SIZE_BYTES[$s]}" -- *.m4s)
done

# wrk: every request takes the next path of those given after "--"; each
# thread starts at another place in the list

cat >"$WORK/rotate.lua" <<'EOF'
local threads = 0

function setup(thread)
    thread:set("first", threads)
    threads = threads + 1
end

local reqs = {}
local n = 0

function init(args)
    for i, path in ipairs(args) do
        reqs[i] = wrk.format("GET", path)
    end
    n = (first or 0) * 7 % #reqs
end

function request()
    n = n % #reqs + 1
    return reqs[n]
end
EOF

# ---------------------------------------------------------------------------
# nginx

if [[ -z $PORT ]]; then
    for ((p = 18180; p < 18280; p++)); do
        if port_free "$p"; then PORT=$p; break; fi
    done
    [[ -n $PORT ]] || die "no free port in 18180..18279 (set PORT=)"
else
    port_free "$PORT" || die "port $PORT is in use"
fi

BASE=http://127.0.0.1:$PORT

# the overhead zones: OVH_ZONE MiB each, admission off, filled inline
#   o64k     64 KiB objects, objects=N: enough index slots for the ring
#   o64kdef  64 KiB objects, default geometry (objects = size / 256 KiB)
#   o512k    512 KiB objects, default geometry
#   o2m      2 MiB objects, default geometry

OVH_ZONES=(o64k o64kdef o512k o2m)
declare -A OVH_SIZE=([o64k]=64k [o64kdef]=64k [o512k]=512k [o2m]=2m)
declare -A OVH_OBJECTS=([o64k]=$((OVH_BYTES * 2 / 65536)) [o64kdef]=""
                        [o512k]="" [o2m]="")

write_conf() {
    local conf=$WORK/nginx.conf z obj

    {
        cat <<EOF
load_module $WORK/module.so;

worker_processes 2;
daemon off;
master_process on;
pid $WORK/nginx.pid;
lock_file $WORK/nginx.lock;
error_log $WORK/error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;

    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 60s;
    keepalive_requests 100000;

    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    open_file_cache_min_uses 1;
    open_file_cache_errors on;

$(temp_paths)

    types {
        video/iso.segment m4s;
    }
    default_type application/octet-stream;

    feed_catalog $WORK/catalog.jsonl;

    feed_cache_zone bench:$ZONE max_object=4m;
EOF
        for z in "${OVH_ZONES[@]}"; do
            obj=${OVH_OBJECTS[$z]:+ objects=${OVH_OBJECTS[$z]}}
            echo "    feed_cache_zone $z:${OVH_ZONE}m max_object=2m$obj" \
                 "admission=off;"
        done
        cat <<EOF

    server {
        listen 127.0.0.1:$PORT;
        server_name bench;

        location /pin/ {
            feed_media;
            feed_media_root $WORK/media;
            feed_cache bench;
            feed_cache_send pin;
            add_header X-Cache \$feed_cache_status;
        }

        location /copy/ {
            feed_media;
            feed_media_root $WORK/media;
            feed_cache bench;
            feed_cache_send copy;
            add_header X-Cache \$feed_cache_status;
        }

        location /static/ {
            alias $WORK/media/;
        }

        location = /metrics {
            feed_status;
        }
EOF
        for z in "${OVH_ZONES[@]}"; do
            cat <<EOF

        location /$z/ {
            feed_media;
            feed_media_root $WORK/media;
            feed_cache $z;
            feed_cache_inline_fill 4m;
            add_header X-Cache \$feed_cache_status;
        }
EOF
        done
        echo "    }"
        echo "}"
    } >"$conf"

    echo "$conf"
}

start_nginx() {
    local conf i

    conf=$(write_conf)
    : >"$WORK/error.log"

    "$NGINX" -p "$WORK/" -e "$WORK/error.log" -c "$conf" &
    NGINX_PID=$!

    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$NGINX_PID" 2>/dev/null; then
            NGINX_PID=
            tail -20 "$WORK/error.log" >&2
            die "nginx did not start"
        fi
        if ! port_free "$PORT"; then
            return 0
        fi
        sleep 0.05
    done

    tail -20 "$WORK/error.log" >&2
    die "nginx did not listen on port $PORT within 5 s"
}

nginx_alive() {
    if grep -q 'exited on signal' "$WORK/error.log" \
       || ! kill -0 "$NGINX_PID" 2>/dev/null
    then
        grep 'signal' "$WORK/error.log" | tail -5 >&2
        die "nginx crashed $1: the numbers are void"
    fi
}

# get URL BODY HEADERS [curl options...]: sets CODE and XCACHE

get() {
    local url=$1 body=$2 hdr=$3
    shift 3

    CODE=$(curl -s --max-time 10 -o "$body" -D "$hdr" -w '%{http_code}' \
                "$@" "$url") || die "cannot fetch $url"
    XCACHE=$(tr -d '\r' <"$hdr" | awk -F': *' 'tolower($1) == "x-cache" {
                                                   print $2 }')
}

# metrics: reads feed_status into the file metrics.txt; m NAME prints a
# value ("feed_cache_hits_total{zone=\"bench\"}"), or fails

metrics() {
    local code

    code=$(curl -s --max-time 10 -o "$WORK/metrics.txt" -w '%{http_code}' \
                "$BASE/metrics") || die "cannot read the metrics"
    [[ $code == 200 ]] || die "metrics: HTTP $code"
}

m() {
    awk -v k="$1" '$1 == k { print $2; found = 1 } END { exit !found }' \
        "$WORK/metrics.txt" || die "metric $1 not found"
}

# the bench zone's counters that tell hits from anything else

declare -A CNT

counters() {
    metrics
    CNT[hits]=$(m 'feed_cache_hits_total{zone="bench"}')
    CNT[misses]=$(m 'feed_cache_misses_total{zone="bench"}')
    CNT[objects]=$(m 'feed_cache_objects{zone="bench"}')
    CNT[segments]=$(m 'feed_requests_total{kind="segment"}')
    CNT[status_hit]=$(m 'feed_cache_requests_total{status="HIT"}')
    CNT[fills]=$(m 'feed_cache_fills_total{result="ok"}')
    CNT[fill_errors]=$(m 'feed_cache_fills_total{result="error"}')
}

# ---------------------------------------------------------------------------
# wrk

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# CPU time used so far by the nginx workers, in clock ticks (user + system)

# run_wrk PREFIX SIZE SECONDS: wrk rotating through the CLIPS URLs of SIZE
# under PREFIX; sets RPS, NREQ and CPU (worker CPU microseconds per
# request); fails on non-2xx responses

run_wrk() {
    local prefix=$1 size=$2 secs=$3 out rc errs t0 t1 c
    local -a paths=()

    for ((c = 0; c < CLIPS; c++)); do
        paths+=("$(printf '/%s/hit-%s-%02d/720p/1.m4s' "$prefix" "$size" "$c")")
    done

    t0=$(worker_ticks)
    timeout $((secs + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" \
        -s "$WORK/rotate.lua" "$BASE/" -- "${paths[@]}" \
        >"$WORK/wrk.out" 2>&1 &
    WRK_PID=$!
    rc=0
    wait "$WRK_PID" || rc=$?
    WRK_PID=
    t1=$(worker_ticks)
    out=$(<"$WORK/wrk.out")

    ((rc == 0)) || die "wrk failed on /$prefix/ $size (exit $rc): $out"

    if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then
        die "wrk saw errors on /$prefix/ $size:"$'\n'"$out"
    fi

    errs=$(sed -n 's/^ *Socket errors: *//p' <<<"$out")
    if [[ -n $errs ]]; then
        log "socket errors on /$prefix/ $size: $errs"
    fi

    NREQ=$(awk '/ requests in / { print $1 }' <<<"$out")
    RPS=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")

    [[ -n $RPS && -n $NREQ ]] || die "cannot read wrk output:"$'\n'"$out"
    ((NREQ > 0)) || die "no request completed on /$prefix/ $size"

    CPU=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$NREQ" \
              'BEGIN { printf "%.3f", t / hz * 1e6 / n }')
}

HITS_CHECKED=0

# run_side SIDE SIZE SECONDS: one wrk run; on a cache side, checks that
# every request of the run was a hit

run_side() {
    local side=$1 size=$2 secs=$3 k
    local -A before

    if [[ $side == static ]]; then
        run_wrk static "$size" "$secs"
        return
    fi

    counters
    for k in "${!CNT[@]}"; do before[$k]=${CNT[$k]}; done

    run_wrk "$side" "$size" "$secs"

    counters
    local dh=$((CNT[hits] - before[hits]))
    local dm=$((CNT[misses] - before[misses]))
    local ds=$((CNT[segments] - before[segments]))
    local dx=$((CNT[status_hit] - before[status_hit]))

    if ((dm != 0 || dh != ds || dx != ds || dh < NREQ \
         || CNT[objects] != NOBJ))
    then
        die "/$side/ $size: not all hits: wrk $NREQ requests; zone" \
            "hits +$dh, misses +$dm, segment requests +$ds, HIT" \
            "statuses +$dx, objects ${CNT[objects]} (expected $NOBJ)"
    fi

    ((HITS_CHECKED += dh))
}

fmt_int() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
fmt_us()  { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }
div3()    { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
range()   { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd' ' \
                | sed 's/ / - /'; }

ROWS=()

# bench_size SIZE

bench_size() {
    local size=$1 r side i verdict cheaper pm cm sm pcr pcc ccc
    local -a order=(pin copy static) sides=()
    local -a p_rps=() c_rps=() s_rps=() p_cpu=() c_cpu=() s_cpu=()
    local -a ps=() cs=() pc=()

    log "segment ${SIZE_LABEL[$size]}, $CLIPS files"

    if ((WARMUP > 0)); then
        for side in "${order[@]}"; do
            run_side "$side" "$size" "$WARMUP"
        done
    fi

    for ((r = 0; r < ROUNDS; r++)); do
        # the order rotates every round: each side runs first, second and
        # third equally often over three rounds

        sides=()
        for ((i = 0; i < 3; i++)); do
            sides+=("${order[(r + i) % 3]}")
        done

        for side in "${sides[@]}"; do
            run_side "$side" "$size" "$DURATION"

            case $side in
            pin)    p_rps+=("$RPS"); p_cpu+=("$CPU") ;;
            copy)   c_rps+=("$RPS"); c_cpu+=("$CPU") ;;
            static) s_rps+=("$RPS"); s_cpu+=("$CPU") ;;
            esac

            log "  round $((r + 1)) $side: $(fmt_int "$RPS") req/s," \
                "$(fmt_us "$CPU") us CPU/req"
        done

        ps+=("$(div3 "${p_rps[-1]}" "${s_rps[-1]}")")
        cs+=("$(div3 "${c_rps[-1]}" "${s_rps[-1]}")")
        pc+=("$(div3 "${p_rps[-1]}" "${c_rps[-1]}")")
    done

    nginx_alive "during segment ${SIZE_LABEL[$size]}"

    pm=$(median "${p_rps[@]}")
    cm=$(median "${c_rps[@]}")
    sm=$(median "${s_rps[@]}")
    pcr=$(div3 "$pm" "$cm")
    pcc=$(median "${p_cpu[@]}")
    ccc=$(median "${c_cpu[@]}")

    # by req/s only when every round agrees: on a busy machine a median
    # alone can go either way

    verdict=$(printf '%s\n' "${pc[@]}" | awk '
        { if ($1 > 1) up++; else if ($1 < 1) down++ }
        END { if (up == NR) print "pin"
              else if (down == NR) print "copy"
              else printf "unclear (%d of %d rounds pin)\n", up, NR }')

    if awk -v p="$pcc" -v c="$ccc" 'BEGIN { exit !(c >= p * 1.05) }'; then
        cheaper="pin ($(div3 "$ccc" "$pcc")x)"
    elif awk -v p="$pcc" -v c="$ccc" 'BEGIN { exit !(p >= c * 1.05) }'; then
        cheaper="copy ($(div3 "$pcc" "$ccc")x)"
    else
        cheaper="neither (within 5%)"
    fi

    ROWS+=("| ${SIZE_LABEL[$size]} | $(fmt_int "$pm") | $(fmt_int "$cm") |\
 $(fmt_int "$sm") | $(div3 "$pm" "$sm") | $(range "${ps[@]}") |\
 $(div3 "$cm" "$sm") | $(range "${cs[@]}") | $pcr | $(range "${pc[@]}") |\
 $(fmt_us "$pcc") | $(fmt_us "$ccc") | $(fmt_us "$(median "${s_cpu[@]}")") |\
 $verdict | $cheaper |")
}

# check_bodies WHAT: every URL of /pin/ and /copy/ is a HIT with the
# file's bytes; the static side sends them too

check_bodies() {
    local what=$1 s c id file side

    for s in "${SIZES[@]}"; do
        for ((c = 0; c < CLIPS; c++)); do
            id=$(printf 'hit-%s-%02d' "$s" "$c")
            file=$WORK/media/$id/720p/1.m4s

            for side in pin copy; do
                get "$BASE/$side/$id/720p/1.m4s" "$WORK/body" "$WORK/hdr"
                [[ $CODE == 200 && $XCACHE == HIT ]] \
                    || die "$what: GET /$side/$id/720p/1.m4s: HTTP $CODE," \
                           "X-Cache '$XCACHE', expected 200 HIT"
                cmp -s "$WORK/body" "$file" \
                    || die "$what: GET /$side/$id/720p/1.m4s: a HIT with" \
                           "other bytes than the file's" \
                           "($(wc -c <"$WORK/body") bytes received)"
            done
        done
    done
}

# ---------------------------------------------------------------------------
# The throughput benchmark

secs=$(( ${#SIZES[@]} * (3 * ROUNDS * DURATION + 3 * WARMUP) ))
log "${#SIZES[@]} sizes x 3 sides, $ROUNDS rounds x ${DURATION}s per side:" \
    "about $((secs / 60)) min $((secs % 60)) s of wrk"

start_nginx
log "nginx $NGINX_VERSION on $BASE"

# a first request is a miss from disk with the file's bytes

get "$BASE/pin/hit-512k-00/720p/1.m4s" "$WORK/body" "$WORK/hdr"
[[ $CODE == 200 && $XCACHE == MISS ]] \
    || die "first request: HTTP $CODE, X-Cache '$XCACHE', expected 200 MISS"
cmp -s "$WORK/body" "$WORK/media/hit-512k-00/720p/1.m4s" \
    || die "first request (a miss): other bytes than the file's"

get "$BASE/static/hit-512k-00/720p/1.m4s" "$WORK/body" "$WORK/hdr"
[[ $CODE == 200 ]] || die "static: HTTP $CODE"
cmp -s "$WORK/body" "$WORK/media/hit-512k-00/720p/1.m4s" \
    || die "static: other bytes than the file's"

# warm: every file three times, then wait for the background fills

: >"$WORK/warm.curl"
for s in "${SIZES[@]}"; do
    for ((c = 0; c < CLIPS; c++)); do
        for i in 1 2 3; do
            printf 'url = "%s/pin/hit-%s-%02d/720p/1.m4s"\noutput = "/dev/null"\n' \
                   "$BASE" "$s" "$c"
        done
    done
done >>"$WORK/warm.curl"

codes=$(curl -s --max-time 60 -K "$WORK/warm.curl" -w '%{http_code}\n') \
    || die "warming failed"
bad=$(grep -cv '^200$' <<<"$codes" || true)
((bad == 0)) || die "warming: $bad requests did not answer 200"

for ((i = 0; i < 100; i++)); do
    counters
    ((CNT[objects] == NOBJ)) && break
    sleep 0.1
done

((CNT[objects] == NOBJ)) \
    || die "after warming the zone holds ${CNT[objects]} objects, not" \
           "$NOBJ (fills ${CNT[fills]}, fill errors ${CNT[fill_errors]})"
((CNT[fill_errors] == 0)) || die "${CNT[fill_errors]} fills failed"
WARM_FILLS=${CNT[fills]}

check_bodies "after warming"

# a range of a hit, both ways (of the last clip: CLIPS may be 1)

RANGE_CLIP=$(printf 'hit-512k-%02d' $((CLIPS - 1)))

for side in pin copy; do
    get "$BASE/$side/$RANGE_CLIP/720p/1.m4s" "$WORK/body" "$WORK/hdr" \
        -r 1000-70999
    [[ $CODE == 206 && $XCACHE == HIT ]] \
        || die "range on /$side/: HTTP $CODE, X-Cache '$XCACHE'," \
               "expected 206 HIT"
    if [[ $(wc -c <"$WORK/body") != 70000 ]] \
       || ! cmp -s -i 1000:0 -n 70000 "$WORK/media/$RANGE_CLIP/720p/1.m4s" \
                "$WORK/body"
    then
        die "range on /$side/: other bytes than the file's"
    fi
done

log "zone warm: $NOBJ objects, every URL a HIT with the file's bytes"

for size in "${SIZES[@]}"; do
    bench_size "$size"
done

check_bodies "after the benchmark"
nginx_alive "in the benchmark"

counters
BENCH_OBJECTS=${CNT[objects]}
BENCH_BYTES=$(m 'feed_cache_bytes{zone="bench"}')
BENCH_CAPACITY=$(m 'feed_cache_capacity_bytes{zone="bench"}')

# ---------------------------------------------------------------------------
# Memory overhead: each overhead zone filled past full

OVH_ROWS=()

# meta_bytes OBJECTS: the region's header, index, sketch, doorkeeper and
# pin table (1024 pins), as laid out by core/feed_cache.c: a 360-byte
# header aligned to 64; 2 x OBJECTS rounded up to a power of two index
# slots of 16 bytes; a sketch of 4 rows of W 4-bit counters and a
# doorkeeper of W bits with W = that power of two (at least 64); pins of
# 32 bytes; the whole aligned to 64

meta_bytes() {
    awk -v o="$1" 'BEGIN {
        p = 1; while (p < 2 * o) p *= 2
        w = p < 64 ? 64 : p
        m = 384 + 16 * p + 2 * w + w + 32 * 1024
        print int((m + 63) / 64) * 64 }'
}

for z in "${OVH_ZONES[@]}"; do
    s=${OVH_SIZE[$z]}
    n=${OVH_N[$s]}

    log "overhead: filling zone $z ($OVH_ZONE MiB) with $n objects of" \
        "${SIZE_LABEL[$s]}"

    for ((i = OVH_FIRST; i < OVH_FIRST + n; i++)); do
        printf 'url = "%s/%s/ovh-%s/720p/%d.m4s"\noutput = "/dev/null"\n' \
               "$BASE" "$z" "$s" "$i"
    done >"$WORK/fill.curl"

    codes=$(curl -s --max-time 300 -K "$WORK/fill.curl" \
                 -w '%{http_code}\n') || die "filling $z failed"
    bad=$(grep -cv '^200$' <<<"$codes" || true)
    ((bad == 0)) || die "filling $z: $bad requests did not answer 200"

    metrics
    objs=$(m "feed_cache_objects{zone=\"$z\"}")
    bytes=$(m "feed_cache_bytes{zone=\"$z\"}")
    cap=$(m "feed_cache_capacity_bytes{zone=\"$z\"}")
    evict=$(m "feed_cache_evictions_total{zone=\"$z\"}")
    nospace=$(m "feed_cache_nospace_total{zone=\"$z\"}")
    admitted=$(m "feed_cache_admissions_total{zone=\"$z\"}")

    ((objs > 0)) || die "zone $z holds no object"
    ((evict > 0)) || die "zone $z did not fill: $objs objects, no eviction"
    ((bytes == objs * SIZE_BYTES[$s])) \
        || die "zone $z: $bytes bytes of data for $objs objects of" \
               "${SIZE_BYTES[$s]} bytes"
    ((nospace == 0 && admitted == n)) \
        || log "zone $z: $admitted of $n admitted, $nospace without room"

    # one key, one record size: the key is the file's full name

    keylen=$(printf '%s/media/ovh-%s/720p/%d.m4s' "$WORK" "$s" "$OVH_FIRST" \
             | wc -c)
    obj=${OVH_OBJECTS[$z]:-$(( (cap + 65536) / 262144 ))}
    meta=$(meta_bytes "$obj")

    OVH_ROWS+=("$(awk -v z="$z" -v label="${SIZE_LABEL[$s]}" \
        -v S="${SIZE_BYTES[$s]}" -v n="$objs" -v B="$bytes" -v C="$cap" \
        -v Z="$OVH_BYTES" -v K="$keylen" -v meta="$meta" -v o="$obj" \
        -v param="${OVH_OBJECTS[$z]:+objects=${OVH_OBJECTS[$z]}}" '
        BEGIN {
            rec = int((64 + K + S + 63) / 64) * 64
            slack = C - n * rec
            slab = Z - C - meta
            if (param == "") param = "default (" o ")"
            printf "| %s | %s | %s | %d | %.1f | %d | %d | %.0f | %.0f |" \
                   " %.0f | %.0f | %.0f | %.3f%% |\n",
                   z, label, param, n, C / 1048576, K, rec - S,
                   slack / n, meta / n, slab / n, (Z - B) / n,
                   (C - B) / n, (Z - B) / B * 100
        }')")

    rec=$(( (64 + keylen + SIZE_BYTES[$s] + 63) / 64 * 64 ))
    if ((cap < objs * rec)); then
        log "zone $z: $objs records of $rec bytes do not fit in $cap" \
            "bytes: the record layout is not the one this script assumes"
    fi
done

nginx_alive "while filling the overhead zones"

if [[ -s $WORK/error.log ]] && grep -qv '\[notice\]' "$WORK/error.log"; then
    log "nginx error log:"
    grep -v '\[notice\]' "$WORK/error.log" | tail -10 >&2
fi

stop_nginx

# ---------------------------------------------------------------------------

CPUS=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")

report() {
    echo "# feed_cache hits vs static: $(date +%Y-%m-%d)"
    echo
    echo "Module: sha256 $MODULE_SHA of $(basename "$MODULE")."
    echo
    echo "nginx $NGINX_VERSION, 2 workers, loopback, $CPUS CPUs shared by" \
         "nginx and wrk; sendfile, tcp_nopush and open_file_cache on."
    echo "URL signing off.  Cache sides: feed_media + feed_cache, zone" \
         "\`feed_cache_zone bench:$ZONE max_object=4m\` (TinyLFU), the" \
         "same zone for pin and copy; static side: an \`alias\` location" \
         "sending the same files with sendfile."
    echo "$CLIPS files per size, random bytes; wrk rotates through the" \
         "$CLIPS URLs of a size, request by request (a Lua \`request()\`," \
         "the same on every side)."
    echo "wrk: $THREADS threads, $CONNS connections, $ROUNDS rounds x" \
         "${DURATION}s per side, the order of the 3 sides rotated every" \
         "round; medians shown, ranges are the per-round ratios."
    echo "Load average before / after the run: $LOAD_BEFORE /" \
         "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")."
    echo
    echo "Every cache request measured was a hit: before the runs every" \
         "URL answered \`X-Cache: HIT\` with the file's bytes (and a range" \
         "of one), and around each wrk run the metrics showed no lookup" \
         "miss and as many hits and HIT statuses as segment requests" \
         "($HITS_CHECKED hits in all, warm-up runs included; the zone" \
         "held $BENCH_OBJECTS objects, $BENCH_BYTES bytes of data in a" \
         "ring of $BENCH_CAPACITY bytes, after $WARM_FILLS fills)."
    echo "CPU us/req: user + system time of the nginx workers per request" \
         "(median); steadier than req/s on a shared machine, where wrk and" \
         "other jobs compete with nginx for the cores."
    echo "\"faster by req/s\" names pin or copy only when pin / copy is on" \
         "the same side of 1 in every round; \"cheaper by CPU/req\" when" \
         "the medians differ by 5% or more (the factor is the other's" \
         "CPU time over its own)."
    echo
    echo "| segment | pin req/s | copy req/s | static req/s | pin / static" \
         "| (rounds) | copy / static | (rounds) | pin / copy | (rounds)" \
         "| pin CPU us/req | copy CPU us/req | static CPU us/req" \
         "| faster by req/s | cheaper by CPU/req |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" \
         "---: | ---: | ---: | ---: | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "## Memory per cached object"
    echo
    echo "Zones of $OVH_ZONE MiB ($OVH_BYTES bytes), admission off, filled" \
         "inline with 15% more objects of one size than they could hold" \
         "(all keys of one length), so the zone evicted; then read from" \
         "the metrics: n = feed_cache_objects, B = feed_cache_bytes (data" \
         "only, n x size), C = feed_cache_capacity_bytes (the ring), Z =" \
         "the zone's size."
    echo
    echo "| zone | object | objects= | n held | ring C MiB | key bytes" \
         "| record overhead | ring slack / n | cache metadata / n" \
         "| nginx slab / n | **total (Z - B) / n** | ring only (C - B) / n" \
         "| total, % of data |"
    echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |" \
         "---: | ---: | ---: | ---: |"
    printf '%s\n' "${OVH_ROWS[@]}"
    echo
    echo "All in bytes per object held.  The total, (Z - B) / n, is" \
         "measured; its parts:"
    echo
    echo "- record overhead = align64(64 + key + size) - size: the" \
         "64-byte record header, the key (the file's full path, here" \
         "under a temporary directory) and the padding to 64 bytes;"
    echo "- ring slack / n = (C - n x record) / n: the part of the ring" \
         "holding no record once full: the gap before the tail, less" \
         "than one record, or, when the index is full first, all the" \
         "unused ring;"
    echo "- cache metadata / n: the region's header (384 B), index" \
         "(16 B x 2 x objects, rounded up to a power of two), TinyLFU" \
         "sketch and doorkeeper (3 B per index slot) and pin table" \
         "(1024 x 32 B), computed from the layout in core/feed_cache.c" \
         "with objects= (default: zone / 256 KiB);"
    echo "- nginx slab / n = (Z - C - metadata) / n: the slab pool's" \
         "header and page descriptors (24 B per 4 KiB page) and the" \
         "rounding of the region and ring."
}

mkdir -p "$ROOT/bench/results"
RESULT=bench/results/cache-$(date +%Y%m%d).md
report | tee "$ROOT/$RESULT"
log "written to $RESULT"
