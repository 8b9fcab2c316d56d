#!/usr/bin/env bats
# Security properties, checked against the kernel's view of things: who may talk to the control
# socket, the exact identity and capabilities of a `user = nobody` child, secrets from an
# env_file kept out of `tend check`, and configuration files that another user could have
# written refused when tend runs as root (like sshd's StrictModes). Listed under RELIABILITY in
# tend(1).

load helpers

setup() {
    use_tend_fixture
    # (not next to the socket: the pid file's directory would be created first, with mode 0755)
    PIDFILE="$BATS_TEST_TMPDIR/pid/tend.pid"
    # a unique argument of sleep, to find and clean up the test's processes
    MARK="1000.$$$BATS_TEST_NUMBER"
    TEND_CLIENT_TIMEOUT=30
}

teardown() {
    teardown_tend "$MARK"
}

# needs_nobody: root, setpriv and a user nobody that can execute $TEND, or the test is skipped
needs_nobody() {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
    command -v setpriv >/dev/null || skip "setpriv not installed"
    id nobody >/dev/null 2>&1 || skip "no user nobody"
    # through env: setpriv itself may still hold root's capabilities when it execs
    as_nobody env "$TEND" --version >/dev/null 2>&1 || skip "nobody cannot execute $TEND"
}

as_nobody() {
    setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups "$@"
}

# open_up DIR: makes DIR and its parents up to bats' run directory traversable by anyone, so that
# only what the test means to check stops another user
open_up() {
    local d=$1
    while :; do
        chmod o+x "$d"
        [ "$d" = "$BATS_RUN_TMPDIR" ] || [ "$d" = / ] && break
        d=$(dirname "$d")
    done
}

# status_field PID KEY: the value of KEY in /proc/PID/status, tabs turned into spaces
status_field() {
    awk -v k="$2:" '$1 == k {$1 = ""; sub(/^ /, ""); print}' /proc/"$1"/status
}

# daemon_for_nobody: a supervisor (tend up -d) with one program "a"
daemon_for_nobody() {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
pidfile = $PIDFILE
[program:a]
command = $(command -v sleep) $MARK
startsecs = 0
EOF2
)
    run tend_ up -d
    assert_status 0
}

@test "the control socket is owner-only (0600, in a 0700 directory) and refuses another uid by SO_PEERCRED" {
    needs_nobody
    daemon_for_nobody
    [ "$(stat -c %a "$SOCK")" = 600 ]
    [ "$(stat -c %a "$(dirname "$SOCK")")" = 700 ]
    [ "$(stat -c %u "$SOCK")" = 0 ]
    # with every directory above it traversable, the mode of the socket stops another user...
    open_up "$(dirname "$SOCK")"
    run as_nobody env TEND_SOCKET="$SOCK" "$TEND" status
    assert_status 3
    assert_output_contains "cannot reach the supervisor at $SOCK: Permission denied"
    # ...and with the socket itself opened to everyone, tend's own check of the peer's uid does:
    # no verb has any effect
    chmod 666 "$SOCK"
    a=$(tend_ pid a)
    for verb in "stop a" "signal KILL a" "restart a" "down"; do
        run as_nobody env TEND_SOCKET="$SOCK" "$TEND" $verb
        [ "$status" -ne 0 ]
    done
    run tend_ status a
    assert_status 0
    [ "$(tend_ pid a)" = "$a" ]
    kill -0 "$a"
}

@test "a client of another uid is told 'permission denied: not the owner of this supervisor', every time" {
    needs_nobody
    daemon_for_nobody
    open_up "$(dirname "$SOCK")"
    chmod 666 "$SOCK"
    for i in $(seq 1 20); do
        run as_nobody env TEND_SOCKET="$SOCK" "$TEND" status
        [ "$status" -ne 0 ]
        [[ "$output" == "tend: permission denied: not the owner of this supervisor" ]] || {
            echo "attempt $i: $output"
            return 1
        }
    done
}

@test "user = nobody: exactly nobody's uid, gid and groups, and no capability at all" {
    needs_nobody
    uid=$(id -u nobody)
    gid=$(id -g nobody)
    groups=$(id -G nobody | tr ' ' '\n' | sort -n | xargs)
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:nob]
command = $(command -v sleep) $MARK
user = nobody
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 eval 'pgrep -f "sleep $MARK" >/dev/null'
    pid=$(pid_of "sleep $MARK")
    # real, effective, saved and filesystem ids
    [ "$(status_field "$pid" Uid)" = "$uid $uid $uid $uid" ]
    [ "$(status_field "$pid" Gid)" = "$gid $gid $gid $gid" ]
    [ "$(status_field "$pid" Groups | tr ' ' '\n' | sort -n | xargs)" = "$groups" ]
    for cap in CapInh CapPrm CapEff CapAmb; do
        [ "$(status_field "$pid" "$cap")" = 0000000000000000 ] || {
            echo "$cap is $(status_field "$pid" "$cap")"
            return 1
        }
    done
}

@test "user = nobody: its readiness probe and health check run as nobody, never as root" {
    needs_nobody
    uid=$(id -u nobody)
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:nob]
command = $(command -v sleep) $MARK
user = nobody
ready = exec:sh -c "[ \$(id -u) = $uid ] && [ \$(id -ru) = $uid ] && [ \$HOME = $(getent passwd nobody | cut -d: -f6) ]"
ready_timeout = 60s
healthcheck = exec:sh -c "[ \$(id -u) = $uid ] && [ \$(id -g) = $(id -g nobody) ]"
healthcheck_interval = 200ms
healthcheck_retries = 1000
EOF2
)
    start_tend "$CFG"
    wait_state nob RUNNING 60
    wait_log "nob is healthy" 60
}

@test "tend run -c as a user who is not root: a job with another user fails with the reason, nothing runs" {
    needs_nobody
    CFG=$(write_config <<EOF2
[program:j]
command = $(command -v touch) $BATS_TEST_TMPDIR/ran
user = root
EOF2
)
    # nobody reads the configuration from its stdin: the test's directory is root's own
    run --separate-stderr as_nobody "$TEND" run -c /dev/stdin <"$CFG"
    assert_status 1
    [[ "$stderr" == *"tend: j: cannot run as user root: tend is not running as root"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

@test "tend run --user nobody: the same identity and no capability" {
    needs_nobody
    uid=$(id -u nobody)
    gid=$(id -g nobody)
    run "$TEND" run --user nobody -- cat /proc/self/status
    assert_status 0
    grep -Eq "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" <<<"$output"
    grep -Eq "^Gid:\s+$gid\s+$gid\s+$gid\s+$gid$" <<<"$output"
    got=$(awk '$1 == "Groups:" {$1 = ""; print}' <<<"$output" | tr ' ' '\n' | sort -n | xargs)
    [ "$got" = "$(id -G nobody | tr ' ' '\n' | sort -n | xargs)" ]
    for cap in CapInh CapPrm CapEff CapAmb; do
        grep -Eq "^$cap:\s+0000000000000000$" <<<"$output"
    done
}

@test "check shows the variables of an env_file by name only; their values only with --show-env" {
    printf '%s\n' '# secrets' 'DB_PASSWORD=hunter2-secret' "export API_TOKEN='tok-12345'" >"$BATS_TEST_TMPDIR/app.env"
    CFG=$(write_config <<EOF2
[program:app]
command = /bin/true
env_file = $BATS_TEST_TMPDIR/app.env
environment = VISIBLE="from the file itself"
[program:gone]
command = /bin/true
env_file = $BATS_TEST_TMPDIR/missing.env
EOF2
)
    run --separate-stderr "$TEND" -c "$CFG" check
    assert_status 0
    assert_output_contains "; env_file variables: DB_PASSWORD, API_TOKEN"
    [[ "$output" != *hunter2* && "$output" != *tok-12345* ]]
    # a file that cannot be read is a warning here, not an error: the start reports it
    [[ "$stderr" == *"warning: [program:gone] env_file: cannot read env_file $BATS_TEST_TMPDIR/missing.env: No such file or directory"* ]]
    assert_output_contains "; env_file variables: (unreadable)"

    run --separate-stderr "$TEND" -c "$CFG" check --json
    assert_status 0
    [[ "$output" != *hunter2* && "$output" != *tok-12345* ]]
    [ "$(jq -c '.processes[] | select(.name == "app") | .env_file_vars' <<<"$output")" = '["DB_PASSWORD","API_TOKEN"]' ]
    [ "$(jq -c '.processes[] | select(.name == "app") | has("env_file_values")' <<<"$output")" = false ]
    [ "$(jq -c '.processes[] | select(.name == "gone") | .env_file_vars' <<<"$output")" = null ]

    run --separate-stderr "$TEND" -c "$CFG" check --show-env
    assert_status 0
    assert_output_contains ";   DB_PASSWORD=hunter2-secret"
    assert_output_contains ";   API_TOKEN=tok-12345"

    run --separate-stderr "$TEND" -c "$CFG" check --json --show-env
    assert_status 0
    [ "$(jq -r '.processes[] | select(.name == "app") | .env_file_values.DB_PASSWORD' <<<"$output")" = hunter2-secret ]
    [ "$(jq -r '.processes[] | select(.name == "app") | .env_file_values.API_TOKEN' <<<"$output")" = tok-12345 ]
}

@test "as root, a configuration file writable by others or not owned by root is refused" {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
    id nobody >/dev/null 2>&1 || skip "no user nobody"
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:a]
command = $(command -v sleep) $MARK
startsecs = 0
EOF2
)
    real=$(realpath "$CFG")
    chmod 666 "$CFG"
    run "$TEND" -c "$CFG" check
    assert_status 78
    assert_output_contains "$real: refused: writable by others (mode 0666); fix with chmod go-w"
    chmod 664 "$CFG"
    run "$TEND" -c "$CFG" check
    assert_status 78
    assert_output_contains "$real: refused: writable by others (mode 0664); fix with chmod go-w"
    # tend up refuses it too, and starts nothing
    run "$TEND" -c "$CFG" up
    assert_status 78
    ! pgrep -f "sleep $MARK" >/dev/null
    chmod 644 "$CFG"
    chown nobody "$CFG"
    run "$TEND" -c "$CFG" check
    assert_status 78
    assert_output_contains "$real: refused: owned by uid $(id -u nobody), not root; fix with chown root"
    chown root "$CFG"
    run "$TEND" -c "$CFG" check
    assert_status 0
}

@test "as root, an include writable by others is refused by name; fixed, it is read" {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
    CFG=$(write_config <<EOF2
[include]
files = conf.d/*.ini
EOF2
)
    inc=$(write_config conf.d/extra.ini <<EOF2
[program:extra]
command = /bin/true
EOF2
)
    chmod 646 "$inc"
    run "$TEND" -c "$CFG" check
    assert_status 78
    assert_output_contains "$(realpath "$inc"): refused: writable by others (mode 0646); fix with chmod go-w"
    chmod go-w "$inc"
    run "$TEND" -c "$CFG" check
    assert_status 0
    assert_output_contains "[program:extra]"
}

@test "another user may use a configuration file it owns: the check is for root only" {
    needs_nobody
    dir="$BATS_TEST_TMPDIR/nobody"
    mkdir -p "$dir"
    printf '[program:a]\ncommand = /bin/true\n' >"$dir/tend.ini"
    chown -R nobody "$dir"
    chmod 664 "$dir/tend.ini"
    open_up "$dir"
    run as_nobody "$TEND" -c "$dir/tend.ini" check
    assert_status 0
    assert_output_contains "[program:a]"
}
