#!/usr/bin/env bats
# `tend check`: the effective configuration of good files, and a clear file:line error with
# exit status 78 for every class of bad input.

load helpers

@test "the etc/ demo is valid and prints every process" {
    run --separate-stderr "$TEND" -c "$TEND_SRCDIR/etc/tend.ini" check
    assert_status 0
    [ -z "$stderr" ] || { echo "unexpected diagnostics: $stderr"; return 1; }
    assert_output_contains "[program:"
    assert_output_contains "command = "
}

@test "the etc/ supervisord example is read as it is" {
    run "$TEND" -c "$TEND_SRCDIR/etc/supervisord-example.conf" check
    assert_status 0
    [[ "$output" != *"error"* ]]
}

@test "Debian's installed supervisord.conf is read without a single error" {
    [ -f /etc/supervisor/supervisord.conf ] || skip "supervisor package not installed"
    run --separate-stderr "$TEND" -c /etc/supervisor/supervisord.conf check
    assert_status 0
    [[ "$stderr" != *": [a-z]*error"* ]]
    assert_output_contains "socket = /var/run/supervisor.sock"
    assert_output_contains "childlogdir = /var/log/supervisor"
}

@test "the sample of echo_supervisord_conf is read without a single error" {
    command -v echo_supervisord_conf >/dev/null || skip "supervisor package not installed"
    echo_supervisord_conf >"$BATS_TEST_TMPDIR/sample.conf"
    run --separate-stderr "$TEND" -c "$BATS_TEST_TMPDIR/sample.conf" check
    assert_status 0
    # what tend does not implement is named in warnings, never errors; supervisord's own RPC
    # interface is served by tend itself, so its section is read without a warning
    [[ "$stderr" != *"[rpcinterface:supervisor]"* ]]
    ! grep -v ': warning: ' <<<"$stderr" | grep -q .
    assert_output_contains "socket = /tmp/supervisor.sock"
}

@test "check prints defaults, expansions and numprocs instances" {
    cfg=$(write_config <<'EOF2'
[program:worker]
command = /bin/echo %(program_name)s-%(process_num)d in %(here)s
process_name = %(program_name)s_%(process_num)02d
numprocs = 2
EOF2
)
    run "$TEND" -c "$cfg" check
    assert_status 0
    assert_output_contains "[program:worker_00]"
    assert_output_contains "[program:worker_01]"
    assert_output_contains "command = /bin/echo worker-1 in $BATS_TEST_TMPDIR"
    assert_output_contains "startsecs = 1s"
    assert_output_contains "stopsignal = TERM"
    assert_output_contains "autorestart = unexpected"
    assert_output_contains "stdout_logfile_maxbytes = 50MB"
}

@test "check starts nothing" {
    cfg=$(write_config <<EOF2
[program:toucher]
command = /usr/bin/touch $BATS_TEST_TMPDIR/started
EOF2
)
    run "$TEND" -c "$cfg" check
    assert_status 0
    [ ! -e "$BATS_TEST_TMPDIR/started" ]
}

@test "check --json is valid JSON with typed values" {
    command -v jq >/dev/null || skip "jq not installed"
    cfg=$(write_config <<'EOF2'
[group:g]
programs = web
[program:web]
command = /bin/sleep 5
environment = A="1",B="two words"
exitcodes = 0,3
startsecs = 500ms
EOF2
)
    run --separate-stderr "$TEND" -c "$cfg" check --json
    assert_status 0
    jq -e . <<<"$output" >/dev/null
    [ "$(jq -r '.processes[0].name' <<<"$output")" = web ]
    [ "$(jq -r '.processes[0].group' <<<"$output")" = g ]
    [ "$(jq -c '.processes[0].command' <<<"$output")" = '["/bin/sleep","5"]' ]
    [ "$(jq -r '.processes[0].environment.B' <<<"$output")" = "two words" ]
    [ "$(jq -c '.processes[0].exitcodes' <<<"$output")" = '[0,3]' ]
    [ "$(jq -r '.processes[0].startsecs' <<<"$output")" = 0.5 ]
    [ "$(jq -r '.processes[0].autostart' <<<"$output")" = true ]
    [ "$(jq -r '.groups[0].programs[0]' <<<"$output")" = web ]
}

@test "config lookup: -c, then \$TEND_CONFIG, then ./tend.ini" {
    mkdir -p "$BATS_TEST_TMPDIR/cwd"
    printf '[program:fromcwd]\ncommand = /bin/true\n' >"$BATS_TEST_TMPDIR/cwd/tend.ini"
    printf '[program:fromenv]\ncommand = /bin/true\n' >"$BATS_TEST_TMPDIR/env.ini"
    printf '[program:fromflag]\ncommand = /bin/true\n' >"$BATS_TEST_TMPDIR/flag.ini"
    cd "$BATS_TEST_TMPDIR/cwd"
    run "$TEND" check
    assert_output_contains "[program:fromcwd]"
    TEND_CONFIG="$BATS_TEST_TMPDIR/env.ini" run "$TEND" check
    assert_output_contains "[program:fromenv]"
    TEND_CONFIG="$BATS_TEST_TMPDIR/env.ini" run "$TEND" -c "$BATS_TEST_TMPDIR/flag.ini" check
    assert_output_contains "[program:fromflag]"
}

@test "no configuration file at all is a config error (78) saying where it looked" {
    cd "$BATS_TEST_TMPDIR"
    [ ! -e /etc/tend.ini ] || skip "/etc/tend.ini exists on this machine"
    run "$TEND" check
    assert_status 78
    assert_output_contains "no configuration file found"
}

@test "a missing -c file is a config error (78) naming it" {
    run "$TEND" -c "$BATS_TEST_TMPDIR/nope.ini" check
    assert_status 78
    assert_output_contains "$BATS_TEST_TMPDIR/nope.ini: cannot read configuration file"
}

# bad_config EXPECTED: the config on stdin fails `tend check` with 78 and EXPECTED in stderr
bad_config() {
    local cfg
    cfg=$(write_config bad.ini)
    run --separate-stderr "$TEND" -c "$cfg" check
    assert_status 78
    if [[ "$stderr" != *"$1"* ]]; then
        printf 'expected stderr to contain: %s\n--- stderr:\n%s\n' "$1" "$stderr" >&2
        return 1
    fi
    [ -z "$output" ]
}

@test "misspelled option: file:line, section, option and a suggestion" {
    bad_config "bad.ini:2: [tend] shutdown_timout: unknown option (did you mean shutdown_timeout?)" <<'EOF2'
[tend]
shutdown_timout = 5
[program:web]
command = /bin/sleep 1
EOF2
}

@test "unknown option without a close match" {
    bad_config "bad.ini:2: [tend] frobnicate: unknown option" <<'EOF2'
[tend]
frobnicate = 1
[program:web]
command = /bin/true
EOF2
}

@test "bad values of each type are errors naming file:line and option" {
    bad_config "bad.ini:3: [program:a] startsecs: invalid duration" <<'EOF2'
[program:a]
command = /bin/true
startsecs = later
EOF2
    bad_config "bad.ini:3: [program:a] stdout_logfile_maxbytes:" <<'EOF2'
[program:a]
command = /bin/true
stdout_logfile_maxbytes = 10XB
EOF2
    bad_config "bad.ini:3: [program:a] autorestart: invalid value 'sometimes'" <<'EOF2'
[program:a]
command = /bin/true
autorestart = sometimes
EOF2
    bad_config "bad.ini:3: [program:a] stopsignal:" <<'EOF2'
[program:a]
command = /bin/true
stopsignal = SIGFOO
EOF2
    bad_config "bad.ini:3: [program:a] numprocs:" <<'EOF2'
[program:a]
command = /bin/true
numprocs = -1
EOF2
    bad_config "bad.ini:3: [program:a] exitcodes:" <<'EOF2'
[program:a]
command = /bin/true
exitcodes = 0,300
EOF2
    bad_config "bad.ini:3: [program:a] autostart:" <<'EOF2'
[program:a]
command = /bin/true
autostart = perhaps
EOF2
    bad_config "bad.ini:3: [program:a] ready:" <<'EOF2'
[program:a]
command = /bin/true
ready = smoke-signal
EOF2
}

@test "a missing command is an error at the section header" {
    bad_config "bad.ini:2: [program:nocmd]: command is required" <<'EOF2'
; comment
[program:nocmd]
autostart = false
EOF2
}

@test "an unterminated quote in command is an error" {
    bad_config "bad.ini:2: [program:q] command:" <<'EOF2'
[program:q]
command = /bin/echo "oops
EOF2
}

@test "duplicate process names are an error naming both" {
    bad_config "process name 'web' is already used by [program:web]" <<'EOF2'
[program:web]
command = /bin/true
[program:web2]
command = /bin/true
process_name = web
EOF2
}

@test "numprocs > 1 without %(process_num) in process_name is an error" {
    bad_config "bad.ini:3: [program:w] process_name: numprocs is 2" <<'EOF2'
[program:w]
command = /bin/true
process_name = w
numprocs = 2
EOF2
}

@test "a depends_on cycle is an error that prints the cycle" {
    bad_config "dependency cycle: a -> b -> a" <<'EOF2'
[program:a]
command = /bin/true
depends_on = b
[program:b]
command = /bin/true
depends_on = a
EOF2
}

@test "depends_on naming no program is an error" {
    bad_config "bad.ini:3: [program:a] depends_on: no [program:ghost]" <<'EOF2'
[program:a]
command = /bin/true
depends_on = ghost
EOF2
}

@test "an undefined %(ENV_X)s is an error naming it; a fallback is used" {
    unset TEND_TEST_UNSET_VAR
    bad_config "bad.ini:2: [program:a] command: undefined variable %(ENV_TEND_TEST_UNSET_VAR)s" <<'EOF2'
[program:a]
command = /bin/echo %(ENV_TEND_TEST_UNSET_VAR)s
EOF2
    cfg=$(write_config <<'EOF2'
[program:a]
command = /bin/echo %(ENV_TEND_TEST_UNSET_VAR:-fallback)s %(ENV_HOME)s 100%%
EOF2
)
    HOME=/home/x run "$TEND" -c "$cfg" check
    assert_status 0
    assert_output_contains "command = /bin/echo fallback /home/x 100%"
}

@test "syntax errors: a line that is not name = value, an option outside a section" {
    bad_config "bad.ini:1: option 'command' is outside of any [section]" <<'EOF2'
command = /bin/true
EOF2
    bad_config "bad.ini:3: expected 'name = value'" <<'EOF2'
[program:a]
command = /bin/true
this line has no equals sign
EOF2
}

@test "an unknown section is a warning (an error with --strict); unimplemented supervisord sections are warnings" {
    cfg=$(write_config bad.ini <<'EOF2'
[programme:a]
command = /bin/true
EOF2
)
    run --separate-stderr "$TEND" -c "$cfg" check
    assert_status 0
    [[ "$stderr" == *"bad.ini:1: warning: [programme:a]: unknown section, ignored"* ]]
    run --separate-stderr "$TEND" -c "$cfg" check --strict
    assert_status 78
    [[ "$stderr" == *"bad.ini:1: [programme:a]: unknown section"* ]]
    cfg=$(write_config <<'EOF2'
[rpcinterface:custom]
supervisor.rpcinterface_factory = mypackage.rpc:make_custom_rpcinterface
[program:a]
command = /bin/true
stdout_capture_maxbytes = 1MB
EOF2
)
    run --separate-stderr "$TEND" -c "$cfg" check
    assert_status 0
    [[ "$stderr" == *"tend.ini:1: warning: [rpcinterface:custom]: a Python RPC interface factory"* ]]
    [[ "$stderr" == *"tend.ini:5: warning: [program:a] stdout_capture_maxbytes: supervisord option not implemented"* ]]
}

@test "every error of a file is reported, not just the first" {
    cfg=$(write_config bad.ini <<'EOF2'
[program:a]
command = /bin/true
startsecs = x
stopsignal = y
EOF2
)
    run --separate-stderr "$TEND" -c "$cfg" check
    assert_status 78
    [[ "$stderr" == *"bad.ini:3:"* ]]
    [[ "$stderr" == *"bad.ini:4:"* ]]
    [[ "$stderr" == *"2 errors"* ]]
}

@test "includes: globs relative to the including file, errors name the included file" {
    mkdir -p "$BATS_TEST_TMPDIR/conf.d"
    printf '[program:one]\ncommand = /bin/true\n' >"$BATS_TEST_TMPDIR/conf.d/one.ini"
    printf '[program:two]\ncommand = /bin/true\n' >"$BATS_TEST_TMPDIR/conf.d/two.ini"
    cfg=$(write_config <<'EOF2'
[include]
files = conf.d/*.ini
EOF2
)
    cd /
    run "$TEND" -c "$cfg" check
    assert_status 0
    assert_output_contains "[program:one]"
    assert_output_contains "[program:two]"
    printf '[program:three]\ncommand = /bin/true\nbogus = 1\n' >"$BATS_TEST_TMPDIR/conf.d/three.ini"
    run "$TEND" -c "$cfg" check --strict
    assert_status 78
    assert_output_contains "conf.d/three.ini:3: [program:three] bogus: unknown option"
}

@test "an include cycle is an error" {
    printf '[include]\nfiles = b.ini\n' >"$BATS_TEST_TMPDIR/a.ini"
    printf '[include]\nfiles = a.ini\n' >"$BATS_TEST_TMPDIR/b.ini"
    run "$TEND" -c "$BATS_TEST_TMPDIR/a.ini" check
    assert_status 78
    assert_output_contains "include cycle"
}

@test "lines longer than inih's 200-byte buffer keep their meaning and line numbers" {
    long=$(printf 'x%.0s' $(seq 1 300))
    cfg=$(write_config bad.ini <<EOF2
[program:long]
command = /bin/echo $long
bogus = 1
EOF2
)
    run --separate-stderr "$TEND" -c "$cfg" check --strict
    assert_status 78
    [[ "$stderr" == *"bad.ini:3: [program:long] bogus: unknown option"* ]]
    sed -i '/bogus/d' "$cfg"
    run "$TEND" -c "$cfg" check
    assert_status 0
    assert_output_contains "command = /bin/echo $long"
}

@test "a line past the 4096-byte limit is an error at its own line; a client verb still finds the socket" {
    long=$(head -c 5000 /dev/zero | tr '\0' x)
    cfg=$(write_config long.ini <<EOF2
[tend]
socket = $BATS_TEST_TMPDIR/long.sock

[program:a]
command = /bin/true

[program:b]
command = /bin/echo $long
EOF2
)
    run --separate-stderr "$TEND" -c "$cfg" check
    assert_status 78
    [[ "$stderr" == *"long.ini:8: line too long (5020 bytes, at most 4096)"* ]]
    # the client reads only what names the socket: no supervisor there is its error (3)
    run --separate-stderr "$TEND" -c "$cfg" status a
    assert_status 3
    [[ "$stderr" == *"cannot reach the supervisor at $BATS_TEST_TMPDIR/long.sock"* ]]
}
