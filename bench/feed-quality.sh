#!/usr/bin/env bash
#
# bench/feed-quality.sh: the feed's ranking against baselines, by
# simulation over HTTP.
#
# bench/feed-sim/ holds a synthetic world with hidden tastes (latent
# topics, creators with Zipf output, log-normal durations, a hidden watch
# model; see bench/feed-sim/world.py).  For each policy this script
# starts nginx (2 workers) on a fresh copy of the initial catalog with
# that policy's ranking directives in `location = /feed`, runs the same
# population against it (bench/feed-sim/sim.py: sessions of pages, events
# posted after each page, new clips appended to the catalog file during
# the run and picked up by feed_catalog_watch), stops it, and finally
# prints the Markdown table of every metric for each policy and the
# oracle (bench/feed-sim/report.py), also written to OUT.
#
# Policies (the `location = /feed` lines; see policy_conf below):
#   default       the module's default ranking, no ranking directive
#   most-popular  trending source 1 + random 0.1 for cold start; scorers
#                 quality 0.5 and trending 1 only; no exploration or
#                 zeitgeist slots; no diversity penalty; 150 candidates
#   random        random source 1 only; every scorer off; no slots; no
#                 diversity penalty
#
# Settings (environment):
#   POLICIES="default most-popular random"
#   VIEWERS=1000 CLIPS=3000  NEW_CLIPS=40  SESSIONS=4  PAGES=3  PAGE_SIZE=10
#   RATE=400     pages per second at most, each a GET and a POST (0: as
#                fast as it goes); a fixed pace keeps the wall-clock parts
#                of the server (trend decay, 1 s refresh) comparable
#   SEED=1       TREND_HALF_LIFE=30 (seconds; the server's
#                feed_trend_half_life and the simulator's "rising" window)
#   PORT=        default: the first free port from 18280
#   OUT=         default: WORK/report.md
#                (OUT=- prints only; bench/results/ holds the curated copy)
#   MODULE=build/ngx_http_feed_module.so    NGINX=/usr/sbin/nginx
#   WORK=build/feed-sim   KEEP=0 (1 keeps each policy's nginx prefix)
#
# Needs: nginx, python3 (standard library only), ss or /proc/net/tcp.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

POLICIES=${POLICIES:-default most-popular random}
VIEWERS=${VIEWERS:-1000}
CLIPS=${CLIPS:-3000}
NEW_CLIPS=${NEW_CLIPS:-40}
SESSIONS=${SESSIONS:-4}
PAGES=${PAGES:-3}
PAGE_SIZE=${PAGE_SIZE:-10}
SEED=${SEED:-1}
TREND_HALF_LIFE=${TREND_HALF_LIFE:-30}
RATE=${RATE:-400}
MODULE=${MODULE:-$ROOT/build/ngx_http_feed_module.so}
NGINX=${NGINX:-/usr/sbin/nginx}
WORK=${WORK:-$ROOT/build/feed-sim}
KEEP=${KEEP:-0}
OUT=${OUT:-$WORK/report.md}
PORT=${PORT:-}
PY=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1     # no __pycache__ in the tree
SIM=$ROOT/bench/feed-sim

BENCH=feed-quality.sh
. "$ROOT/bench/lib.sh"

for v in VIEWERS CLIPS NEW_CLIPS SESSIONS PAGES PAGE_SIZE SEED \
         TREND_HALF_LIFE; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
[[ $RATE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "RATE must be a number, not '$RATE'"
((PAGE_SIZE >= 1 && PAGE_SIZE <= 50)) || die "PAGE_SIZE must be 1 to 50"
((TREND_HALF_LIFE >= 1)) || die "TREND_HALF_LIFE must be at least 1"

[[ $MODULE == /* ]] || MODULE=$ROOT/$MODULE
[[ -f $MODULE ]] || die "module not found: $MODULE (run 'make build' first)"
command -v "$NGINX" >/dev/null || die "nginx not found: $NGINX (set NGINX=)"
command -v "$PY" >/dev/null || die "python3 not found"

port_busy() {
    if command -v ss >/dev/null; then
        ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
    else
        grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp 2>/dev/null
    fi
}

if [[ -z $PORT ]]; then
    PORT=18280
    while port_busy "$PORT"; do
        PORT=$((PORT + 1))
        ((PORT < 18400)) || die "no free port in 18280..18399"
    done
fi

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

PIDFILE=
cleanup() {
    if [[ -n $PIDFILE && -s $PIDFILE ]]; then
        kill -QUIT "$(cat "$PIDFILE")" 2>/dev/null || true
        sleep 0.5
    fi
}
trap cleanup EXIT

WORLD=(--seed "$SEED" --clips "$CLIPS" --new-clips "$NEW_CLIPS"
       --viewers "$VIEWERS")

log "world: seed $SEED, $CLIPS clips (+$NEW_CLIPS uploaded during the run), $VIEWERS viewers"
"$PY" "$SIM/sim.py" gen "${WORLD[@]}" --catalog "$WORK/catalog.jsonl"

[[ -s $WORK/secret.key ]] \
    || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/secret.key"

# The ranking lines of each policy, inside location = /feed.

policy_conf() {
    case $1 in
    default)
        ;;
    most-popular)
        # its own budget: the most popular of as many clips whatever
        # the module's default (150, the default when it was written)
        cat <<'EOF'
            feed_candidates 150;
            feed_source interest off;
            feed_source trending 1;
            feed_source fresh off;
            feed_source lineage off;
            feed_source random 0.1;
            feed_source sound off;
            feed_score similarity off;
            feed_score quality 0.5;
            feed_score freshness off;
            feed_score trending 1;
            feed_score explore off;
            feed_score lineage off;
            feed_score creator off;
            feed_score reach off;
            feed_explore_share 0;
            feed_zeitgeist_share 0;
            feed_diversity 0;
EOF
        ;;
    random)
        cat <<'EOF'
            feed_source interest off;
            feed_source trending off;
            feed_source fresh off;
            feed_source lineage off;
            feed_source random 1;
            feed_source sound off;
            feed_score similarity off;
            feed_score quality off;
            feed_score freshness off;
            feed_score trending off;
            feed_score explore off;
            feed_score lineage off;
            feed_score creator off;
            feed_score reach off;
            feed_explore_share 0;
            feed_zeitgeist_share 0;
            feed_diversity 0;
EOF
        ;;
    *)
        # any other name: bench/feed-sim/policies/NAME.conf, if present
        [[ -f $SIM/policies/$1.conf ]] || die "unknown policy '$1'"
        cat "$SIM/policies/$1.conf"
        ;;
    esac
}

USER_LINE=
[[ $(id -u) == 0 ]] && USER_LINE='user root;'

RESULTS=()

for policy in $POLICIES; do
    P=$WORK/$policy
    rm -rf "$P"
    mkdir -p "$P/logs"
    cp "$WORK/catalog.jsonl" "$P/catalog.jsonl"

    cat >"$P/nginx.conf" <<EOF
load_module $MODULE;
$USER_LINE
worker_processes  2;
error_log         logs/error.log warn;
pid               logs/nginx.pid;
daemon            on;

events {
    worker_connections  1024;
}

http {
    access_log  off;

    feed_catalog          $P/catalog.jsonl;
    feed_secret_file      $WORK/secret.key;
    feed_state_zone       feedsim:32m;
    feed_catalog_watch    1s;
    feed_trend_half_life  ${TREND_HALF_LIFE}s;

    server {
        listen       127.0.0.1:$PORT;
        server_name  localhost;

        location = /feed {
            feed_manifest;
$(policy_conf "$policy")
        }

        location = /feed/events {
            feed_events;
            feed_events_rate  1000r/s burst=1000;
        }

        location = /metrics {
            feed_status;
        }
    }
}
EOF

    port_busy "$PORT" && die "port $PORT is taken"
    "$NGINX" -t -q -p "$P/" -c "$P/nginx.conf" \
        || die "nginx -t failed for $policy (see above)"
    "$NGINX" -p "$P/" -c "$P/nginx.conf"
    PIDFILE=$P/logs/nginx.pid

    for _ in $(seq 50); do
        [[ -s $PIDFILE ]] && port_busy "$PORT" && break
        sleep 0.1
    done
    port_busy "$PORT" || die "nginx did not start for $policy: $(tail -3 "$P/logs/error.log")"

    log "policy $policy: nginx on 127.0.0.1:$PORT"
    "$PY" "$SIM/sim.py" run "${WORLD[@]}" --port "$PORT" \
        --catalog "$P/catalog.jsonl" --out "$P/result.json" \
        --policy "$policy" --sessions "$SESSIONS" --pages "$PAGES" \
        --page-size "$PAGE_SIZE" --trend-half-life "$TREND_HALF_LIFE" \
        --rate "$RATE" --progress

    kill -QUIT "$(cat "$PIDFILE")"
    for _ in $(seq 50); do
        [[ -e $PIDFILE ]] || break
        sleep 0.1
    done
    PIDFILE=

    if grep -E '\[(alert|crit|emerg)\]' "$P/logs/error.log" >&2; then
        die "$policy: nginx logged the errors above"
    fi

    RESULTS+=("$P/result.json")
    ((KEEP)) || rm -f "$P/catalog.jsonl"
done

log "report"
if [[ $OUT == - ]]; then
    "$PY" "$SIM/report.py" "${WORLD[@]}" "${RESULTS[@]}"
else
    mkdir -p "$(dirname "$OUT")"
    "$PY" "$SIM/report.py" "${WORLD[@]}" "${RESULTS[@]}" | tee "$OUT.tmp"
    mv -f "$OUT.tmp" "$OUT"
    log "written to $OUT"
fi
