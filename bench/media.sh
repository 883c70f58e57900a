#!/usr/bin/env bash
#
# bench/media.sh: feed_media against nginx's own static file handler.
#
# One nginx on the loopback interface serves the same files two ways:
#
#     /v/{clip}/...       feed_media (catalog lookup, URL token check)
#     /static/{clip}/...  plain "alias" location
#
# and wrk is run against each side in turn, alternating A/B for several
# rounds.  The median requests/s, transfer/s and nginx worker CPU time per
# request of each side and the ratio feed/static are printed as a Markdown
# table, which is also written to bench/results/media-YYYYMMDD.md.
#
# On a machine busy with other work the req/s numbers swing by tens of
# percent between rounds; the CPU time per request is steadier.
#
# Cases:
#   segment 64 KiB, 512 KiB, 2 MiB   N.m4s via feed_media vs static
#   media playlist (30 segments)     generated index.m3u8 vs the same
#                                    bytes saved to disk
#
# The whole set runs with URL signing on (feed_secret_file; the static
# side needs no token) and, unless UNSIGNED=0, once more with signing
# off.  The segment files are random bytes: the module does not parse
# media.
#
# Settings (environment):
#   DURATION=5   seconds per wrk run        ROUNDS=3    A/B rounds per case
#   CONNS=32     wrk connections            THREADS=2   wrk threads
#   WARMUP=1     seconds of warm-up per side before each case (0: none)
#   UNSIGNED=1   also run with signing off  PORT=       default: first free
#                                                       port from 18080
#   MODULE=build/ngx_http_feed_module.so    NGINX=/usr/sbin/nginx
#   KEEP=0       1 keeps the temporary work directory
#
# Needs: nginx (1.19.5 or later), wrk, curl, openssl.

set -euo pipefail

ORIG_PWD=$PWD
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-1}
UNSIGNED=${UNSIGNED:-1}
KEEP=${KEEP:-0}
MODULE=${MODULE:-build/ngx_http_feed_module.so}
NGINX=${NGINX:-/usr/sbin/nginx}
PORT=${PORT:-}

BENCH=media.sh
. "$ROOT/bench/lib.sh"

for v in DURATION ROUNDS CONNS THREADS WARMUP; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
((DURATION >= 1)) || die "DURATION must be at least 1"
((ROUNDS >= 1)) || die "ROUNDS must be at least 1"
((THREADS >= 1 && CONNS >= THREADS)) || die "need CONNS >= THREADS >= 1"

# Relative paths: the caller's directory first, then the repository.

MODULE=$(resolve "$MODULE")
if [[ $NGINX == */* ]]; then NGINX=$(resolve "$NGINX"); fi

[[ -f $MODULE ]] || die "module not found: $MODULE (run 'make build' first)"
command -v "$NGINX" >/dev/null || die "nginx not found: $NGINX (set NGINX=)"
for tool in wrk curl openssl awk; do
    command -v "$tool" >/dev/null || die "$tool is needed but not installed"
done

NGINX_VERSION=$("$NGINX" -v 2>&1 | sed -n 's|.*nginx/||p')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")

# ---------------------------------------------------------------------------
# Work directory and cleanup

bench_workdir feed-bench
mkdir -p "$WORK/media" "$WORK/tmp"

# ---------------------------------------------------------------------------
# Catalog and media

KEY=$(openssl rand -hex 32)
printf '%s\n' "$KEY" >"$WORK/secret.key"
chmod 600 "$WORK/secret.key"

EXPIRES=$(($(date +%s) + 86400))

# token = EXPIRES "." base64url(HMAC-SHA256(key, "u1\n" clip "\n" EXPIRES))

token() {
    local sig

    sig=$(printf 'u1\n%s\n%s' "$1" "$EXPIRES" \
          | openssl dgst -sha256 -hmac "$KEY" -binary \
          | openssl base64 -A | tr '+/' '-_' | tr -d '=')

    echo "$EXPIRES.$sig"
}

# clip_line ID DURATIONS...: one catalog line, renditions 360p/720p/1080p

clip_line() {
    local id=$1 segs dur
    shift

    segs=$(IFS=,; echo "$*")
    dur=$(printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.6f", s }')

    printf '{"id":"%s","creator":"bench","sound":"none","created":1764100000,' \
           "$id"
    printf '"duration":%s,"caption":"benchmark clip %s","tags":["bench"],' \
           "$dur" "$id"
    printf '"embedding":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8],"renditions":['
    printf '{"name":"360p","bandwidth":600000,"resolution":"360x640",'
    printf '"codecs":"avc1.64001e,mp4a.40.2","segments":[%s]},' "$segs"
    printf '{"name":"720p","bandwidth":2500000,"resolution":"720x1280",'
    printf '"codecs":"avc1.64001f,mp4a.40.2","segments":[%s]},' "$segs"
    printf '{"name":"1080p","bandwidth":5000000,"resolution":"1080x1920",'
    printf '"codecs":"avc1.640028,mp4a.40.2","segments":[%s]}]}\n' "$segs"
}

# segment clips: 4 segments of SIZE bytes in rendition 720p

declare -A SEG_SIZE=([seg-64k]=65536 [seg-512k]=524288 [seg-2m]=2097152)
declare -A SEG_LABEL=([seg-64k]="64 KiB" [seg-512k]="512 KiB"
                      [seg-2m]="2 MiB")
SEG_CLIPS=(seg-64k seg-512k seg-2m)

: >"$WORK/catalog.jsonl"

for id in "${SEG_CLIPS[@]}"; do
    clip_line "$id" 2.002 2.002 2.002 1.5 >>"$WORK/catalog.jsonl"
    dir=$WORK/media/$id/720p
    mkdir -p "$dir"
    head -c 1024 /dev/urandom >"$dir/init.mp4"
    for n in 0 1 2 3; do
        head -c "${SEG_SIZE[$id]}" /dev/urandom >"$dir/$n.m4s"
    done
done

# playlist clip: 30 segments of a 29.97 fps stream cut at 2 s keyframes,
# the last one short; the playlist is generated from the catalog only

PL_CLIP=playlist-30
durs=()
for ((i = 0; i < 29; i++)); do
    case $((i % 3)) in
    0) durs+=(2.002) ;;
    1) durs+=(2.002) ;;
    2) durs+=(1.968633) ;;
    esac
done
durs+=(1.234567)
clip_line "$PL_CLIP" "${durs[@]}" >>"$WORK/catalog.jsonl"
mkdir -p "$WORK/media/$PL_CLIP/720p"

# ---------------------------------------------------------------------------
# nginx

if [[ -z $PORT ]]; then
    for ((p = 18080; p < 18180; p++)); do
        if port_free "$p"; then PORT=$p; break; fi
    done
    [[ -n $PORT ]] || die "no free port in 18080..18179 (set PORT=)"
else
    port_free "$PORT" || die "port $PORT is in use"
fi

BASE=http://127.0.0.1:$PORT

write_conf() {
    local signed=$1 conf=$WORK/nginx-$1.conf secret=

    if [[ $signed == signed ]]; then
        secret="    feed_secret_file $WORK/secret.key;"
    fi

    cat >"$conf" <<EOF
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
        application/vnd.apple.mpegurl m3u8;
        video/mp4 mp4;
        video/iso.segment m4s;
    }
    default_type application/octet-stream;

    feed_catalog $WORK/catalog.jsonl;
$secret

    server {
        listen 127.0.0.1:$PORT;
        server_name bench;

        location /v/ {
            feed_media;
            feed_media_root $WORK/media;
        }

        location /static/ {
            alias $WORK/media/;
        }
    }
}
EOF
    echo "$conf"
}

start_nginx() {
    local conf i

    conf=$(write_conf "$1")
    : >"$WORK/error.log"

    "$NGINX" -p "$WORK/" -e "$WORK/error.log" -c "$conf" &
    NGINX_PID=$!

    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$NGINX_PID" 2>/dev/null; then
            NGINX_PID=
            tail -20 "$WORK/error.log" >&2
            die "nginx did not start ($1 configuration)"
        fi
        if ! port_free "$PORT"; then
            return 0
        fi
        sleep 0.05
    done

    tail -20 "$WORK/error.log" >&2
    die "nginx did not listen on port $PORT within 5 s"
}

# fetch URL FILE: the body of a 200 response, or fail

fetch() {
    local code

    code=$(curl -s --max-time 10 -o "$2" -w '%{http_code}' "$1") \
        || die "cannot fetch $1"
    [[ $code == 200 ]] || die "$1: HTTP $code (see the error log above)"
}

# ---------------------------------------------------------------------------
# wrk

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# run_wrk URL SECONDS: sets RPS (requests/s), TPS (bytes/s) and CPU (worker
# CPU microseconds per request); fails on non-2xx responses.  wrk runs in
# the background of this shell and is waited for, so that Ctrl-C reaches
# the trap at once (wrk itself catches SIGINT and exits normally).

run_wrk() {
    local out rc errs nreq t0 t1

    t0=$(worker_ticks)
    timeout $(($2 + 30)) wrk -t"$THREADS" -c"$CONNS" -d"$2s" "$1" \
        >"$WORK/wrk.out" 2>&1 &
    WRK_PID=$!
    rc=0
    wait "$WRK_PID" || rc=$?
    WRK_PID=
    t1=$(worker_ticks)
    out=$(<"$WORK/wrk.out")

    ((rc == 0)) || die "wrk failed on $1 (exit $rc): $out"

    if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then
        die "wrk saw errors on $1:"$'\n'"$out"
    fi

    errs=$(sed -n 's/^ *Socket errors: *//p' <<<"$out")
    if [[ -n $errs ]]; then
        log "socket errors on $1: $errs"
    fi

    nreq=$(awk '/ requests in / { print $1 }' <<<"$out")
    RPS=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    TPS=$(awk '/^Transfer\/sec:/ {
                v = $2; u = v; sub(/^[0-9.]+/, "", u); sub(/[A-Z]+$/, "", v)
                m = 1
                if (u == "KB") m = 1024
                if (u == "MB") m = 1024 ^ 2
                if (u == "GB") m = 1024 ^ 3
                if (u == "TB") m = 1024 ^ 4
                printf "%.0f", v * m }' <<<"$out")

    [[ -n $RPS && -n $TPS && -n $nreq ]] \
        || die "cannot read wrk output:"$'\n'"$out"
    ((nreq > 0)) || die "no request completed on $1"

    CPU=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$nreq" \
              'BEGIN { printf "%.3f", t / hz * 1e6 / n }')
}

fmt_int() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
fmt_mib() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1048576 }'; }
fmt_us()  { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }
div3()    { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

ROWS=()

# bench_case NAME TARGET FEED_URL STATIC_URL

bench_case() {
    local name=$1 target=$2 feed=$3 static=$4 r side url
    local -a f_rps=() f_tps=() f_cpu=() s_rps=() s_tps=() s_cpu=() ratios=()
    local fr sr ratio lo hi fc sc verdict

    log "case: $name"

    if ((WARMUP > 0)); then
        run_wrk "$feed" "$WARMUP"
        run_wrk "$static" "$WARMUP"
    fi

    for ((r = 1; r <= ROUNDS; r++)); do
        # ABBA order, so that drift during a case hits both sides alike

        if ((r % 2)); then set -- feed static; else set -- static feed; fi

        for side in "$@"; do
            if [[ $side == feed ]]; then url=$feed; else url=$static; fi

            run_wrk "$url" "$DURATION"

            if [[ $side == feed ]]; then
                f_rps+=("$RPS"); f_tps+=("$TPS"); f_cpu+=("$CPU")
            else
                s_rps+=("$RPS"); s_tps+=("$TPS"); s_cpu+=("$CPU")
            fi

            log "  round $r $side: $(fmt_int "$RPS") req/s," \
                "$(fmt_mib "$TPS") MiB/s, $(fmt_us "$CPU") us CPU/req"
        done

        ratios+=("$(div3 "${f_rps[-1]}" "${s_rps[-1]}")")
    done

    if grep -q 'exited on signal' "$WORK/error.log" \
       || ! kill -0 "$NGINX_PID" 2>/dev/null
    then
        grep 'signal' "$WORK/error.log" | tail -5 >&2
        die "nginx crashed during \"$name\": the numbers are void"
    fi

    fr=$(median "${f_rps[@]}")
    sr=$(median "${s_rps[@]}")
    ratio=$(div3 "$fr" "$sr")
    lo=$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)
    hi=$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)
    fc=$(median "${f_cpu[@]}")
    sc=$(median "${s_cpu[@]}")

    if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
        verdict=ok
    else
        verdict="**below**"
    fi

    ROWS+=("| $name | $(fmt_int "$fr") | $(fmt_int "$sr") | $ratio |\
 $lo - $hi | $(fmt_mib "$(median "${f_tps[@]}")") |\
 $(fmt_mib "$(median "${s_tps[@]}")") | $(fmt_us "$fc") | $(fmt_us "$sc") |\
 $(div3 "$sc" "$fc") | >= $target $verdict |")
}

# run_set signed|unsigned

run_set() {
    local mode=$1 q= id pl code

    start_nginx "$mode"
    log "nginx $NGINX_VERSION on $BASE, $mode configuration"

    if [[ $mode == signed ]]; then
        ROWS+=("| **URL signing on** | | | | | | | | | | |")
    else
        ROWS+=("| **URL signing off** | | | | | | | | | | |")
    fi

    # every URL answers 200 and both sides send the same segment bytes

    for id in "${SEG_CLIPS[@]}"; do
        if [[ $mode == signed ]]; then q="?token=$(token "$id")"; else q=; fi

        fetch "$BASE/v/$id/720p/1.m4s$q" "$WORK/feed.body"
        fetch "$BASE/static/$id/720p/1.m4s" "$WORK/static.body"
        cmp -s "$WORK/feed.body" "$WORK/static.body" \
            || die "$id: feed and static segment bodies differ"
    done

    if [[ $mode == signed ]]; then
        # a request without its token must be refused, or the signed
        # numbers would measure nothing
        code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
                    "$BASE/v/seg-64k/720p/1.m4s")
        [[ $code == 403 ]] || die "unsigned request got HTTP $code, not 403"
    fi

    # the static playlist: the module's own body, fetched once

    if [[ $mode == signed ]]; then q="?token=$(token "$PL_CLIP")"; else q=; fi
    pl=$WORK/media/$PL_CLIP/720p/index.m3u8
    fetch "$BASE/v/$PL_CLIP/720p/index.m3u8$q" "$pl"
    grep -q '^#EXT-X-ENDLIST' "$pl" || die "the media playlist is incomplete"
    PL_BYTES=$(wc -c <"$pl")
    PL_SEGS=$(grep -c '^#EXTINF' "$pl")
    fetch "$BASE/static/$PL_CLIP/720p/index.m3u8" "$WORK/static.body"
    cmp -s "$pl" "$WORK/static.body" || die "static playlist is not served"

    for id in "${SEG_CLIPS[@]}"; do
        if [[ $mode == signed ]]; then q="?token=$(token "$id")"; else q=; fi
        bench_case "segment ${SEG_LABEL[$id]}" 0.95 \
            "$BASE/v/$id/720p/1.m4s$q" "$BASE/static/$id/720p/1.m4s"
    done

    if [[ $mode == signed ]]; then q="?token=$(token "$PL_CLIP")"; else q=; fi
    bench_case "media playlist ($PL_SEGS segments, $PL_BYTES B)" 0.8 \
        "$BASE/v/$PL_CLIP/720p/index.m3u8$q" \
        "$BASE/static/$PL_CLIP/720p/index.m3u8"

    if [[ -s $WORK/error.log ]] && grep -qv '\[notice\]' "$WORK/error.log"
    then
        log "nginx error log:"
        grep -v '\[notice\]' "$WORK/error.log" | tail -10 >&2
    fi

    stop_nginx
}

# ---------------------------------------------------------------------------

sets=(signed)
[[ $UNSIGNED == 1 ]] && sets+=(unsigned)

ncases=4
secs=$(( ${#sets[@]} * ncases * (2 * ROUNDS * DURATION + 2 * WARMUP) ))
log "${#sets[@]} x $ncases cases, $ROUNDS rounds x ${DURATION}s per side:" \
    "about $((secs / 60)) min $((secs % 60)) s"

for mode in "${sets[@]}"; do
    run_set "$mode"
done

CPUS=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")

report() {
    echo "# feed_media vs static: $(date +%Y-%m-%d)"
    echo
    echo "Module: sha256 $MODULE_SHA of $(basename "$MODULE")."
    echo
    echo "nginx $NGINX_VERSION, 2 workers, sendfile, tcp_nopush and" \
         "open_file_cache on both sides; loopback; $CPUS CPUs shared by" \
         "nginx and wrk."
    echo "wrk: $THREADS threads, $CONNS connections, $ROUNDS rounds x" \
         "${DURATION}s per side (A/B alternating), medians shown."
    echo "Load average before / after the run: $LOAD_BEFORE /" \
         "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")."
    echo "Signed feed requests carry ?token=; static requests carry none."
    echo "CPU us/req: user + system time of the nginx workers per request"
    echo "(median); CPU ratio = static / feed, 1.0 means equal cost.  It is"
    echo "less sensitive than req/s to other load on the machine."
    echo
    echo "| case | feed req/s | static req/s | ratio | ratio range (rounds)" \
         "| feed MiB/s | static MiB/s | feed CPU us/req | static CPU us/req" \
         "| CPU ratio | target (req/s ratio) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" \
         "---: | --- |"
    printf '%s\n' "${ROWS[@]}"
}

mkdir -p "$ROOT/bench/results"
RESULT=bench/results/media-$(date +%Y%m%d).md
report | tee "$ROOT/$RESULT"
log "written to $RESULT"
