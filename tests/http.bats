#!/usr/bin/env bats
# The rest of the HTTP surface: GET /metrics (Prometheus text) and the status page at /, which
# changes nothing on GET and acts only on a POST carrying its form token; the page in a real
# headless Chromium: loaded, screenshot, a click on stop.

load helpers

setup() {
    M=$(marker)
    SLEEP="$BATS_TEST_TMPDIR/$M-sleep"
    ln -s "$(command -v sleep)" "$SLEEP"
    D="$BATS_TEST_TMPDIR"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
}

teardown() {
    if [ -n "${BROWSER_PID:-}" ]; then
        kill "$BROWSER_PID" 2>/dev/null || true
        wait "$BROWSER_PID" 2>/dev/null || true
    fi
    kill_tend_and_marked "$M"
}

# config USERNAME: a web program and a stopped one; TCP on loopback with that user (or none)
config() {
    CFG=$(write_config <<EOF2
[unix_http_server]
file = $D/sv.sock
[inet_http_server]
port = 127.0.0.1:$PORT
${1:+username = $1}
${1:+password = pw}
[program:web]
command = sh -c 'echo "web <b>&amp; says hello"; exec $SLEEP 1000'
startsecs = 0
[program:idle]
command = $SLEEP 1001
autostart = false
EOF2
)
    start_tend "$CFG"
    wait_for 20 test -S "$D/sv.sock"
    wait_for 20 pgrep -f -- "$SLEEP 1000"
}

get() {
    curl -s --unix-socket "$D/sv.sock" "http://localhost$1"
}

@test "GET /metrics: Prometheus text with every process, behind the same auth" {
    config admin
    run get /metrics
    assert_status 0
    assert_output_contains '# TYPE tend_process_up gauge'
    assert_output_contains 'tend_process_up{name="web",group="web"} 1'
    assert_output_contains 'tend_process_up{name="idle",group="idle"} 0'
    assert_output_contains 'tend_process_state{name="web",group="web",state="RUNNING"} 20'
    assert_output_contains 'tend_process_restarts_total{name="web",group="web"} 0'
    assert_output_contains 'tend_process_exit_status{name="idle",group="idle"} -1'
    assert_output_contains 'tend_process_log_bytes_total{name="web",group="web",stream="stdout"} 24'
    # every sample line is NAME{LABELS} VALUE, every family has HELP and TYPE
    bad=$(echo "$output" | grep -v '^# \(HELP\|TYPE\) ' |
        grep -Ev '^[a-z_]+(\{([a-z_]+="[^"]*",?)+\})? -?[0-9.]+$' || true)
    [ -z "$bad" ] || { echo "bad lines: $bad" >&2; false; }
    fds=$(echo "$output" | awk '$1 == "tend_open_fds" {print $2}')
    # the count was taken while serving this request: its connection is one more
    now=$(ls /proc/"$TEND_PID"/fd | wc -l)
    [ "$fds" -gt 3 ] && [ "$fds" -ge "$now" ] && [ "$fds" -le $((now + 1)) ]
    # kill -9: restarted, counted, exit status 128+9
    kill -KILL "$(pid_of "$SLEEP 1000")"
    wait_for 20 sh -c "curl -s --unix-socket '$D/sv.sock' http://localhost/metrics |
        grep -qF 'tend_process_restarts_total{name=\"web\",group=\"web\"} 1'"
    run get /metrics
    assert_output_contains 'tend_process_exit_status{name="web",group="web"} 137'
    # over TCP it asks for the password
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics"
    [ "$output" = 401 ]
    run curl -s -u admin:pw "http://127.0.0.1:$PORT/metrics"
    assert_output_contains 'tend_processes 2'
}

@test "the page lists every process with state, pid, uptime and log; GET changes nothing" {
    config
    run get /
    assert_status 0
    assert_output_contains '<meta name=viewport'
    assert_output_contains '<span class=name>web</span><span class="state ok">RUNNING</span>'
    assert_output_contains "pid $(pid_of "$SLEEP 1000"), uptime 0:00:"
    assert_output_contains '<span class=name>idle</span><span class="state off">STOPPED</span>'
    assert_output_contains 'web &lt;b&gt;&amp;amp; says hello'
    [[ "$output" != *"<script"* ]]
    # a GET of the action, or of the page with action-looking arguments, does nothing
    run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$D/sv.sock" \
        "http://localhost/action?name=web&action=stop"
    [ "$output" = 405 ]
    get "/?name=web&action=stop" >/dev/null
    run "$TEND" -c "$CFG" status web
    assert_output_contains RUNNING
    # a POST without the page's token is refused
    run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$D/sv.sock" \
        http://localhost/action -d 'name=web&action=stop'
    [ "$output" = 403 ]
    run "$TEND" -c "$CFG" status web
    assert_output_contains RUNNING
    # with it: done, and back to the page
    token=$(get / | grep -o 'name=token value="[0-9a-f]*"' | head -n 1 | cut -d'"' -f2)
    run curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --unix-socket "$D/sv.sock" \
        http://localhost/action -d "token=$token&name=idle&action=start"
    [ "$output" = "303 http://localhost/?msg=idle%3A%20starting" ]
    wait_for 20 pgrep -f -- "$SLEEP 1001"
}

@test "headless Chromium: the page shows the processes and a click on stop stops one" {
    browser=$(command -v chromium || command -v chromium-browser || true)
    [ -n "$browser" ] || skip "chromium not installed (apt-get install chromium)"
    node --experimental-websocket -e 'if (typeof WebSocket !== "function") process.exit(1)' 2>/dev/null ||
        skip "node with WebSocket (node >= 20.10) not installed"
    config
    devtools=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$browser" --headless=new --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$D/chromium" --remote-debugging-port="$devtools" about:blank \
        >"$D/chromium.log" 2>&1 3>&- &
    BROWSER_PID=$!
    web=$(pid_of "$SLEEP 1000")
    run timeout 90 node --experimental-websocket "$TEND_SRCDIR/tests/browser-click.js" "$devtools" \
        "http://127.0.0.1:$PORT/" web stop "$D/page.png" "$D/after.png"
    assert_status 0
    [[ "$output" == *"STOPPED /?msg=web%3A%20stopping" || "$output" == *"STOPPING /?msg=web%3A%20stopping" ]]
    # PNG screenshots, for a person (or a test) to look at
    [ "$(head -c 8 "$D/page.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
    [ -s "$D/after.png" ]
    # TEND_SCREENSHOTS=DIR keeps them
    [ -z "${TEND_SCREENSHOTS:-}" ] || cp "$D/page.png" "$D/after.png" "$TEND_SCREENSHOTS/"
    wait_for 20 sh -c "! kill -0 $web 2>/dev/null"
    run "$TEND" -c "$CFG" status web
    assert_output_contains STOPPED
}
