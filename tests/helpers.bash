# helpers.bash - shared by every bats file: where tend is, temp configs, waiting for conditions.
# Tests keep everything in BATS_TEST_TMPDIR and never sleep-and-hope: they wait for a condition
# up to a generous deadline.

: "${TEND:=$BATS_TEST_DIRNAME/../tend}"
: "${TEND_SRCDIR:=$BATS_TEST_DIRNAME/..}"
export TEND TEND_SRCDIR
unset TEND_CONFIG NO_COLOR

bats_require_minimum_version 1.5.0

# write_config [NAME]: stdin becomes $BATS_TEST_TMPDIR/NAME (default tend.ini); prints the path
write_config() {
    local path="$BATS_TEST_TMPDIR/${1:-tend.ini}"
    mkdir -p "$(dirname "$path")"
    cat >"$path"
    printf '%s\n' "$path"
}

# wait_for SECONDS CMD...: retries CMD every 50 ms until it succeeds or the deadline passes
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        if ((SECONDS >= deadline)); then
            echo "wait_for: timed out waiting for: $*" >&2
            return 1
        fi
        sleep 0.05
    done
}

# assert_output_contains TEXT: $output has TEXT (prints both on failure)
assert_output_contains() {
    if [[ "$output" != *"$1"* ]]; then
        printf 'expected output to contain: %s\n--- output:\n%s\n' "$1" "$output" >&2
        return 1
    fi
}

# assert_status N: $status is N
assert_status() {
    if [ "$status" -ne "$1" ]; then
        printf 'expected status %s, got %s\n--- output:\n%s\n' "$1" "$status" "$output" >&2
        return 1
    fi
}
