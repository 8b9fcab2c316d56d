#!/usr/bin/env bats
# supervisord files as migrating users have them (Docker images, PHP/Laravel workers,
# Django/Celery stacks) run under tend unchanged: options supervisord does not know are
# warnings with file:line (errors with check --strict and in [tend]), and the processes tend
# would run are the ones supervisord's own parser finds in the same file.

load helpers

setup() {
    SLEEP="$BATS_TEST_TMPDIR/sleep"
    ln -s "$(command -v sleep)" "$SLEEP"
}

teardown() {
    kill_tend_and_marked "$BATS_TEST_TMPDIR"
}

# A python3 that has Debian's supervisor package (pyenv's may not), or nothing.
supervisor_python() {
    local py
    for py in python3 /usr/bin/python3; do
        if "$py" -c 'import supervisor.options' 2>/dev/null; then
            printf '%s\n' "$py"
            return 0
        fi
    done
    return 1
}

# supervisord_names FILE: GROUP:PROCESS for every process supervisord's parser configures
supervisord_names() {
    "$PY" - "$1" <<'PYEOF' | sort
import sys
from supervisor.options import ServerOptions
opts = ServerOptions()
opts.realize(args=["-c", sys.argv[1]])
for group in opts.process_group_configs:
    for proc in group.process_configs:  # [eventlistener:x] pools too: tend runs them
        print("%s:%s" % (group.name, proc.name))
PYEOF
}

# tend_names FILE: the same from `tend check --json`
tend_names() {
    "$TEND" -c "$1" check --json 2>/dev/null | "$PY" -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    print("%s:%s" % (p["group"], p["name"]))' | sort
}

# same_processes FILE: tend and supervisord agree on the processes of FILE
same_processes() {
    local theirs ours
    theirs=$(supervisord_names "$1")
    ours=$(tend_names "$1")
    if [ -z "$theirs" ] || [ "$theirs" != "$ours" ]; then
        printf 'supervisord:\n%s\ntend:\n%s\n' "$theirs" "$ours" >&2
        return 1
    fi
}

docker_config() {
    write_config supervisord.conf <<EOF2
; the shape of many Docker images: supervisord in the foreground, its log on the console
[supervisord]
nodaemon=true
user=root
logfile=/dev/null
logfile_maxbytes=0
pidfile=$BATS_TEST_TMPDIR/supervisord.pid
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
stderr_logfile=/dev/stderr
stderr_logfile_maxbytes=0

[unix_http_server]
file=$BATS_TEST_TMPDIR/supervisor.sock
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$BATS_TEST_TMPDIR/supervisor.sock

[program:mailer]
command=sh -c 'echo mailer up; exec $SLEEP 1000'
autostart=true
autorestart=true
startsecs=0
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
redirect_stderr=true
EOF2
}

@test "a Docker-style [supervisord] with stdout_logfile and friends: warnings, exit 0" {
    cfg=$(docker_config)
    run --separate-stderr "$TEND" -c "$cfg" check
    assert_status 0
    for line in 8:stdout_logfile 9:stdout_logfile_maxbytes 10:stderr_logfile \
        11:stderr_logfile_maxbytes; do
        want="supervisord.conf:${line%%:*}: warning: [supervisord] ${line#*:}: unknown option, ignored"
        [[ "$stderr" == *"$want"* ]] || { echo "missing: $want"; echo "$stderr"; return 1; }
    done
    # supervisord's own interface is the one tend serves: no warning for it
    [[ "$stderr" != *"[rpcinterface:supervisor]"* ]]
    [[ "$stderr" != *"error"* ]]
}

@test "check --strict makes every unknown option an error (exit 78)" {
    cfg=$(docker_config)
    run --separate-stderr "$TEND" -c "$cfg" check --strict
    assert_status 78
    [[ "$stderr" == *"supervisord.conf:8: [supervisord] stdout_logfile: unknown option"* ]]
    [[ "$stderr" == *"tend: 4 errors in the configuration"* ]]
}

@test "a misspelled option in [program:x], [group:x] and [unix_http_server] warns with a suggestion" {
    cfg=$(write_config <<'EOF2'
[unix_http_server]
chmood = 0700
[group:g]
programs = a
priorty = 5
[program:a]
command = /bin/true
stopwaitsec = 5
EOF2
)
    run --separate-stderr "$TEND" -c "$cfg" check
    assert_status 0
    [[ "$stderr" == *"tend.ini:2: warning: [unix_http_server] chmood: unknown option, ignored (did you mean chmod?)"* ]]
    [[ "$stderr" == *"tend.ini:5: warning: [group:g] priorty: unknown option, ignored (did you mean priority?)"* ]]
    [[ "$stderr" == *"tend.ini:8: warning: [program:a] stopwaitsec: unknown option, ignored (did you mean stopwaitsecs?)"* ]]
}

@test "an unknown option in tend's own [tend] section stays an error" {
    cfg=$(write_config <<'EOF2'
[tend]
shutdown_timout = 5s
[program:a]
command = /bin/true
EOF2
)
    run --separate-stderr "$TEND" -c "$cfg" check
    assert_status 78
    [[ "$stderr" == *"tend.ini:2: [tend] shutdown_timout: unknown option (did you mean shutdown_timeout?)"* ]]
}

@test "tend up runs the Docker-style file and says what it ignores on stderr" {
    cfg=$(docker_config)
    start_tend "$cfg"
    wait_for 20 out_has "mailer up"
    log_has "supervisord.conf:8: warning: [supervisord] stdout_logfile: unknown option, ignored"
    [ -n "$(pid_of "$SLEEP 1000")" ]
}

@test "tend check --json names the same processes as supervisord's parser" {
    PY=$(supervisor_python) || skip "no python3 with the supervisor package"
    mkdir -p "$BATS_TEST_TMPDIR/conf.d"
    # Laravel queue workers and a scheduler, included from conf.d as Docker images do
    write_config conf.d/laravel.conf >/dev/null <<EOF2
[program:laravel-worker]
process_name=%(program_name)s_%(process_num)02d
command=php /var/www/artisan queue:work --sleep=3 --tries=3 --max-time=3600
autostart=true
autorestart=true
stopasgroup=true
killasgroup=true
numprocs=8
redirect_stderr=true
stdout_logfile=$BATS_TEST_TMPDIR/worker.log
stopwaitsecs=3600

[program:laravel-schedule]
command=php /var/www/artisan schedule:work
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
EOF2
    cfg=$(write_config supervisord.conf <<EOF2
[supervisord]
nodaemon=true
logfile=/dev/null
logfile_maxbytes=0
pidfile=$BATS_TEST_TMPDIR/supervisord.pid
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0

[include]
files = conf.d/*.conf

; Django and Celery, grouped
[group:django]
programs=gunicorn,celery-worker,celery-beat
priority=10

[program:gunicorn]
command=gunicorn app.wsgi:application --bind 0.0.0.0:8000 --workers 3
directory=$BATS_TEST_TMPDIR
environment=DJANGO_SETTINGS_MODULE="app.settings",PYTHONUNBUFFERED="1"

[program:celery-worker]
command=celery -A app worker -l info
numprocs=2
process_name=worker-%(process_num)d
numprocs_start=1
stopwaitsecs=600

[program:celery-beat]
command=celery -A app beat -l info

; a PHP FastCGI pool and a Zulip-style Django app behind a socket
[fcgi-program:php]
command=/usr/bin/php-cgi
socket=tcp://127.0.0.1:9000
numprocs=3
process_name=%(program_name)s_%(process_num)02d

[fcgi-program:zulip-django]
command=/home/zulip/deployments/current/manage.py runfcgi
socket=unix://$BATS_TEST_TMPDIR/zulip.sock
socket_mode=0660

[eventlistener:crashmail]
command=crashmail -a -m root@localhost
events=PROCESS_STATE_EXITED
EOF2
)
    same_processes "$cfg"
    # and the Docker-style file, and the example shipped in etc/
    same_processes "$(docker_config)"
    same_processes "$TEND_SRCDIR/etc/supervisord-example.conf"
}

@test "strip_ansi removes colour and cursor sequences from the programs' output" {
    cfg=$(write_config <<EOF2
[supervisord]
strip_ansi = true
[program:colour]
command = sh -c 'printf "\\033[1;31mred\\033[0m plain \\033[2Kdone\\n"; exec $SLEEP 1000'
stdout_logfile = $BATS_TEST_TMPDIR/colour.log
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 grep -q "done" "$BATS_TEST_TMPDIR/colour.log"
    [ "$(cat "$BATS_TEST_TMPDIR/colour.log")" = "red plain done" ]
}

@test "serverurl sets SUPERVISOR_SERVER_URL; AUTO leaves it unset; minprocs raises RLIMIT_NPROC" {
    # one below the hard limit, so that tend has room to raise it by one
    hard=$(ulimit -Hu)
    want=""
    if [ "$hard" != unlimited ] && [ "$hard" -gt 2 ]; then
        ulimit -Su $((hard - 1))
        want=$hard
    fi
    cfg=$(write_config <<EOF2
[supervisord]
${want:+minprocs = $want}
[program:given]
command = sh -c 'cat /proc/self/limits > $BATS_TEST_TMPDIR/given.limits; echo "url=\${SUPERVISOR_SERVER_URL-unset}" > $BATS_TEST_TMPDIR/given.env; exec $SLEEP 1000'
serverurl = http://127.0.0.1:9001
startsecs = 0
[program:auto]
command = sh -c 'echo "url=\${SUPERVISOR_SERVER_URL-unset}" > $BATS_TEST_TMPDIR/auto.env; exec $SLEEP 1001'
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 test -s "$BATS_TEST_TMPDIR/given.env"
    wait_for 20 test -s "$BATS_TEST_TMPDIR/auto.env"
    grep -qx "url=http://127.0.0.1:9001" "$BATS_TEST_TMPDIR/given.env"
    grep -qx "url=unset" "$BATS_TEST_TMPDIR/auto.env"
    if [ -n "$want" ]; then
        [ "$(awk '/^Max processes/ {print $3}' "$BATS_TEST_TMPDIR/given.limits")" = "$want" ]
    fi
}

@test "[supervisord] logfile = syslog is not a file named syslog: a warning, the log stays on stderr" {
    cfg=$(write_config <<EOF2
[supervisord]
logfile = syslog
[program:a]
command = $SLEEP 1000
startsecs = 0
EOF2
)
    cd "$BATS_TEST_TMPDIR"
    start_tend "$cfg"
    wait_log "a (pid"
    log_has "logfile = syslog: tend's own log does not go to syslog"
    [ ! -e "$BATS_TEST_TMPDIR/syslog" ]
}

@test "logfile_maxbytes and logfile_backups rotate tend's own log" {
    log="$BATS_TEST_TMPDIR/tend.log"
    cfg=$(write_config <<EOF2
[supervisord]
logfile = $log
logfile_maxbytes = 1KB
logfile_backups = 2
loglevel = debug
[program:flapper]
command = $SLEEP 1.05
autorestart = true
startsecs = 0
EOF2
)
    start_tend "$cfg"
    # every restart (one a second) logs a few lines: soon two backups exist, and never a third
    wait_for 60 test -s "$log.2"
    [ ! -e "$log.3" ]
    for f in "$log.1" "$log.2"; do
        size=$(stat -c %s "$f")
        [ "$size" -ge 1024 ] && [ "$size" -lt 2048 ]
    done
    grep -q "flapper" "$log.1"
}

@test "a logfile that is a symlink such as /dev/stdout is never rotated" {
    ln -s "$BATS_TEST_TMPDIR/real.log" "$BATS_TEST_TMPDIR/link.log"
    cfg=$(write_config <<EOF2
[supervisord]
logfile = $BATS_TEST_TMPDIR/link.log
logfile_maxbytes = 1KB
loglevel = debug
[program:flapper]
command = $SLEEP 1.05
autorestart = true
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 60 eval '[ "$(stat -c %s "$BATS_TEST_TMPDIR/real.log" 2>/dev/null || echo 0)" -gt 2048 ]'
    [ -L "$BATS_TEST_TMPDIR/link.log" ]
    [ ! -e "$BATS_TEST_TMPDIR/link.log.1" ]
}
