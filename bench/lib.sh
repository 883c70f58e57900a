# bench/lib.sh: what the benchmark scripts share.  Sourced, not run, by
# a script that has set BENCH (its name, for messages), KEEP and MODULE,
# and has changed to the repository's root:
#
#   die, log            a message with the script's name (die exits 1)
#   resolve PATH        a relative PATH from the caller's directory
#                       (ORIG_PWD) if it is there, else from the
#                       repository (ROOT)
#   port_free PORT      whether nothing listens on 127.0.0.1:PORT
#   bench_workdir NAME  WORK: a new directory /tmp/NAME.XXXXXX, mode 755
#                       (workers may run as another user), umask 022,
#                       removed on exit unless KEEP=1, after wrk (WRK_PID)
#                       and nginx (NGINX_PID) are stopped; the module is
#                       copied into it (WORK/module.so: a rebuild in place
#                       while nginx maps the file would crash the workers),
#                       MODULE_SHA its sha256's first 12 digits
#   stop_nginx          QUIT to the master NGINX_PID, KILL after 5 s, reaped
#   temp_paths          nginx's temporary paths (those NGINX was built
#                       with, which may not exist here) under WORK/tmp, as
#                       configuration lines
#   worker_ticks        CPU time used so far by the workers of NGINX_PID,
#                       in clock ticks (user + system: /proc/PID/stat
#                       fields 14 and 15, counted after the name's ")")
#   median [N...]       the median of the numbers given, or of those on
#                       stdin one a line (the mean of the middle two when
#                       there is an even count)

die() { echo "$BENCH: $*" >&2; exit 1; }
log() { echo "$BENCH: $*" >&2; }


resolve() {
    case $1 in
    /*) echo "$1" ;;
    *)  if [[ -e $ORIG_PWD/$1 ]]; then echo "$ORIG_PWD/$1"
        else echo "$ROOT/$1"; fi ;;
    esac
}


port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}


NGINX_PID=
WRK_PID=

stop_nginx() {
    local pid=$NGINX_PID i

    [[ -n $pid ]] || return 0
    NGINX_PID=

    if kill -0 "$pid" 2>/dev/null; then
        kill -QUIT "$pid" 2>/dev/null || true

        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done

        if kill -0 "$pid" 2>/dev/null; then
            log "nginx did not stop gracefully, killing it"
            pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi

    wait "$pid" 2>/dev/null || true
}


bench_cleanup() {
    if [[ -n ${WRK_PID:-} ]]; then
        kill "$WRK_PID" 2>/dev/null || true
        wait "$WRK_PID" 2>/dev/null || true
    fi

    stop_nginx

    if [[ -z ${WORK:-} ]]; then
        return
    fi

    if [[ $KEEP == 1 ]]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}


bench_workdir() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")

    trap bench_cleanup EXIT
    trap 'echo >&2; log "interrupted"; exit 130' INT TERM

    chmod 755 "$WORK"
    umask 022

    cp "$MODULE" "$WORK/module.so"
    MODULE_SHA=$(sha256sum "$WORK/module.so" | cut -c1-12)
}


temp_paths() {
    local conf kind

    conf=$("$NGINX" -V 2>&1)

    for kind in client_body proxy fastcgi uwsgi scgi; do
        if [[ $kind != client_body \
              && $conf == *--without-http_${kind}_module* ]]
        then
            continue
        fi
        printf '    %s_temp_path %s;\n' "$kind" "$WORK/tmp/$kind"
    done
}


worker_ticks() {
    local pid stat sum=0 f

    for pid in $(pgrep -P "$NGINX_PID"); do
        stat=$(<"/proc/$pid/stat") 2>/dev/null || continue
        read -ra f <<<"${stat##*) }"
        ((sum += f[11] + f[12]))
    done

    echo "$sum"
}


median() {
    { if (($#)); then printf '%s\n' "$@"; else cat; fi; } | sort -g | awk '
        { v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]
              else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
