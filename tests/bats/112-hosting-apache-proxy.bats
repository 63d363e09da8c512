#!/usr/bin/env bats
# The hosting smoke (tests/helpers/hosting.bash) with COORD_SERVER=apache-proxy.

load ../helpers/hosting

setup_file() { hosting_setup_file apache-proxy; }

@test "apache-proxy: GET /health is served by apache-proxy" { hosting_health; }
@test "apache-proxy: odd URLs get the programs' JSON 404/400/405" { hosting_odd_urls; }
@test "apache-proxy: the Authorization header reaches worker and admin routes" { hosting_auth; }
@test "apache-proxy: a full queue lifecycle" { hosting_queue_lifecycle; }
@test "apache-proxy: a long poll answers 204 on time" { hosting_long_poll; }
@test "apache-proxy: a 5 MB upload downloads byte for byte" { hosting_big_upload; }
@test "apache-proxy: a body over the cap gets the program's 413 JSON" { hosting_body_cap; }
@test "apache-proxy: SIGTERM of the server leaves no process behind" { hosting_sigterm; }
