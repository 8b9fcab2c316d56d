#!/usr/bin/env bats
# contrib/bash-completion/tend (and contrib/zsh/_tend): verbs, options and process names, by
# calling the completion function as bash does on a TAB, in a bash of its own with tend on
# its PATH. Process names come from a real daemon.

load helpers

setup() {
    COMPLETION="$TEND_SRCDIR/contrib/bash-completion/tend"
    BIN="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$BIN"
    ln -s "$TEND" "$BIN/tend"
    use_tend_fixture
}

teardown() {
    teardown_tend
}

# completions WORD...: what bash offers for the command line WORD... when TAB is pressed at
# the end of its last word, one per line, sorted. PRELUDE, when set, runs first.
completions() {
    PATH="$BIN:$PATH" bash -c '
        source "$1" || exit 1
        shift
        eval "${PRELUDE:-}"
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        _tend || exit 1
        printf "%s\n" "${COMPREPLY[@]}"
    ' completions "$COMPLETION" "$@" | sort
}

# daemon_config: a daemon with web, worker_0, worker_1 and db, its socket in BATS_TEST_TMPDIR
daemon_config() {
    CFG=$(write_config <<EOF2
[tend]
socket = $BATS_TEST_TMPDIR/run/tend.sock
[program:web]
command = $SLEEP 1001
startsecs = 0
[program:worker]
command = $SLEEP 1002
numprocs = 2
process_name = worker_%(process_num)d
startsecs = 0
[program:db]
command = $SLEEP 1003
autostart = false
EOF2
)
}

start_daemon() {
    daemon_config
    run "$TEND" -c "$CFG" up -d 3>&-
    assert_status 0
}

@test "sourcing it makes _tend the completion of tend" {
    run bash -c 'source "$1" && complete -p tend' _ "$COMPLETION"
    assert_status 0
    [ "$output" = "complete -F _tend tend" ]
}

@test "the first word completes to every verb of tend --help" {
    run completions tend ''
    assert_status 0
    help=$("$TEND" --help)
    verbs=$(sed -n '/^Verbs:/,/^$/p' <<<"$help" | awk 'NF && $1 != "Verbs:" {print $1}' | sort -u)
    [ "$output" = "$verbs" ] || { printf 'offered:\n%s\nverbs:\n%s\n' "$output" "$verbs"; return 1; }
    [[ "$output" == *export* ]]
    run completions tend st
    [ "$output" = "$(printf '%s\n' start status stop)" ]
    run completions tend -c "$BATS_TEST_TMPDIR/x.ini" re
    [ "$output" = "$(printf '%s\n' reload restart)" ]
}

@test "options complete from the verb's --help: tend run --ti gives --timeout" {
    run completions tend run --ti
    [ "$output" = "--timeout" ]
    run completions tend status --j
    [ "$output" = "--json" ]
    run completions tend logs --ro
    [ "$output" = "--rotate" ]
    run completions tend start --no
    [ "$output" = "--no-wait" ]
    run completions tend export systemd --o
    [ "$output" = "--output" ]
    run completions tend --ver
    [ "$output" = "--version" ]
}

@test "program names come from the running supervisor: tend start we gives web" {
    start_daemon
    # found as tend finds the configuration: $TEND_CONFIG ...
    TEND_CONFIG=$CFG run completions tend start we
    [ "$output" = "web" ] || { echo "offered: $output"; return 1; }
    # ... or -c FILE, before or after the verb
    run completions tend -c "$CFG" stop w
    [ "$output" = "$(printf '%s\n' web worker_0 worker_1)" ]
    run completions tend restart -c "$CFG" ''
    [ "$output" = "$(printf '%s\n' all db web worker_0 worker_1)" ]
    run completions tend --config="$CFG" status worker_
    [ "$output" = "$(printf '%s\n' worker_0 worker_1)" ]
    # signal: the signal first, then the names
    run completions tend -c "$CFG" signal US
    [ "$output" = "$(printf '%s\n' USR1 USR2)" ]
    run completions tend -c "$CFG" signal HUP d
    [ "$output" = "db" ]
}

@test "program names without jq: the JSON is read with sed" {
    start_daemon
    PRELUDE='jq() { return 127; }' run completions tend -c "$CFG" start ''
    [ "$output" = "$(printf '%s\n' all db web worker_0 worker_1)" ]
}

@test "no supervisor: names complete to nothing, quietly" {
    daemon_config
    run --separate-stderr completions tend -c "$CFG" start ''
    assert_status 0
    [ -z "$output" ]
    [ -z "$stderr" ]
}

@test "run: the command after its options, or the processes of run -c FILE" {
    run completions tend run -t 5 -- slee
    [[ "$output" == *sleep* ]]
    run completions tend run slee
    [[ "$output" == *sleep* ]]
    daemon_config
    run completions tend run -c "$CFG" w
    [ "$output" = "$(printf '%s\n' web worker_0 worker_1)" ]
}

@test "files after -c, directories after export -o, the format of export" {
    mkdir -p "$BATS_TEST_TMPDIR/unitdir"
    touch "$BATS_TEST_TMPDIR/my.ini"
    run completions tend -c "$BATS_TEST_TMPDIR/my"
    [ "$output" = "$BATS_TEST_TMPDIR/my.ini" ]
    run completions tend export ''
    [ "$output" = "systemd" ]
    run completions tend export systemd -o "$BATS_TEST_TMPDIR/unit"
    [ "$output" = "$BATS_TEST_TMPDIR/unitdir" ]
    run completions tend logs -n ''
    [ -z "$output" ]
}

@test "contrib/zsh/_tend is valid zsh" {
    command -v zsh >/dev/null || skip "zsh not installed"
    zsh -n "$TEND_SRCDIR/contrib/zsh/_tend"
    head -n 1 "$TEND_SRCDIR/contrib/zsh/_tend" | grep -qx '#compdef tend'
}

# zsh_completions LINE: the matches zsh's completion system offers for LINE + TAB, one per line,
# sorted; read from a compadd wrapper in an interactive zsh on a pseudo-terminal
zsh_completions() {
    local out="$BATS_TEST_TMPDIR/zsh.out"
    : >"$out"
    PATH="$BIN:$PATH" TEND_ZSH_FPATH="$TEND_SRCDIR/contrib/zsh" TEND_ZSH_OUT="$out" \
        zsh -f -c '
        zmodload zsh/zpty || exit 1
        zpty z zsh -f -i
        zpty -w z "PS1=; fpath=(\$TEND_ZSH_FPATH \$fpath); autoload -Uz compinit; compinit -u -D"
        zpty -w z "compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a h; builtin compadd -A h \"\$@\"; (( \$#h )) && print -rl -- \$h >>\$TEND_ZSH_OUT; builtin compadd \"\$@\"; }"
        zpty -w -n z "$1"$'"'"'\t'"'"'
        for i in {1..100}; do [[ -s $TEND_ZSH_OUT ]] && break; sleep 0.1; done
        sleep 0.3
        zpty -d z
    ' zsh_completions "$1"
    sort -u "$out"
}

@test "zsh: verbs, options and names from the running supervisor" {
    command -v zsh >/dev/null || skip "zsh not installed"
    zsh -f -c 'zmodload zsh/zpty' 2>/dev/null || skip "zsh/zpty not available"
    run zsh_completions "tend st"
    [ "$output" = "$(printf '%s\n' start status stop)" ] || { echo "offered: $output"; return 1; }
    run zsh_completions "tend run --ti"
    [ "$output" = "--timeout" ]
    start_daemon
    run zsh_completions "tend -c $CFG start we"
    [ "$output" = "web" ] || { echo "offered: $output"; return 1; }
    run zsh_completions "tend stop -c $CFG w"
    [ "$output" = "$(printf '%s\n' web worker_0 worker_1)" ]
}
