#!/usr/bin/env bats
# The hosting smoke (tests/helpers/hosting.bash) with COORD_SERVER=apache-fcgid.

load ../helpers/hosting

setup_file() { hosting_setup_file apache-fcgid; }

@test "apache-fcgid: GET /health is served by apache-fcgid" { hosting_health; }
@test "apache-fcgid: odd URLs get the programs' JSON 404/400/405" { hosting_odd_urls; }
@test "apache-fcgid: the Authorization header reaches worker and admin routes" { hosting_auth; }
@test "apache-fcgid: a full queue lifecycle" { hosting_queue_lifecycle; }
@test "apache-fcgid: a long poll answers 204 on time" { hosting_long_poll; }
@test "apache-fcgid: a 5 MB upload downloads byte for byte" { hosting_big_upload; }
@test "apache-fcgid: a body over the cap gets the program's 413 JSON" { hosting_body_cap; }
@test "apache-fcgid: SIGTERM of the server leaves no process behind" { hosting_sigterm; }
