#!/usr/bin/env bats
# tend run (placeholder until the runner lands)

load helpers

@test "run is listed in --help" {
    run "$TEND" --help
    assert_output_contains "run [OPTIONS] -- CMD"
}
