#!/usr/bin/env bats
# The command line itself: --help, --version, usage errors and their exit codes.

load helpers

@test "--help lists every verb and exits 0" {
    run "$TEND" --help
    assert_status 0
    assert_output_contains "usage: tend"
    for verb in check version help; do
        assert_output_contains "  $verb"
    done
}

@test "-h and help print the same help" {
    run "$TEND" -h
    assert_status 0
    local h=$output
    run "$TEND" help
    assert_status 0
    [ "$output" = "$h" ]
}

@test "--version, -V and version print the version" {
    run "$TEND" --version
    assert_status 0
    [[ "$output" =~ ^tend\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
    run "$TEND" -V
    [[ "$output" =~ ^tend\ [0-9] ]]
    run "$TEND" version
    [[ "$output" =~ ^tend\ [0-9] ]]
}

@test "no verb is a usage error (2)" {
    run "$TEND"
    assert_status 2
    assert_output_contains "usage: tend"
}

@test "an unknown verb is a usage error (2) naming it" {
    run "$TEND" frobnicate
    assert_status 2
    assert_output_contains "unknown verb 'frobnicate'"
}

@test "an unknown global option is a usage error (2)" {
    run "$TEND" --bogus check
    assert_status 2
}

@test "check with an unexpected argument is a usage error (2) with its synopsis" {
    cfg=$(write_config <<<'[program:a]
command = /bin/true')
    run "$TEND" -c "$cfg" check --frob
    assert_status 2
    assert_output_contains "unexpected argument '--frob'"
    assert_output_contains "usage: tend [-c FILE] check"
}

@test "every verb of --help is documented in tend(1)" {
    run "$TEND" --help
    verbs=$(sed -n '/^Verbs:/,/^$/p' <<<"$output" | awk 'NF {print $1}' | grep -v Verbs:)
    for v in $verbs; do
        grep -q "^\.It Cm $v\b" "$TEND_SRCDIR/man/tend.1" || {
            echo "verb $v missing from man/tend.1"
            return 1
        }
    done
}

@test "every option of the option table is documented in tend.ini(5)" {
    names=$(sed -n 's/^\(PROGRAM\|GLOBAL\)_OPTION(\([a-z_]*\),.*/\2/p' "$TEND_SRCDIR/src/options.def")
    [ -n "$names" ]
    for n in $names; do
        grep -q "^\.It Cm $n\b" "$TEND_SRCDIR/man/tend.ini.5" || {
            echo "option $n missing from man/tend.ini.5"
            return 1
        }
    done
}

@test "man pages are clean under mandoc -T lint" {
    command -v mandoc >/dev/null || skip "mandoc not installed"
    run mandoc -T lint -W warning "$TEND_SRCDIR/man/tend.1" "$TEND_SRCDIR/man/tend.ini.5"
    [ -z "$output" ] || {
        echo "$output"
        return 1
    }
    assert_status 0
}
