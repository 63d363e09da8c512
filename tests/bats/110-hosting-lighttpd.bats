#!/usr/bin/env bats
# The hosting smoke (tests/helpers/hosting.bash) with COORD_SERVER=lighttpd.

load ../helpers/hosting

setup_file() { hosting_setup_file lighttpd; }

@test "lighttpd: GET /health is served by lighttpd" { hosting_health; }
@test "lighttpd: odd URLs get the programs' JSON 404/400/405" { hosting_odd_urls; }
@test "lighttpd: the Authorization header reaches worker and admin routes" { hosting_auth; }
@test "lighttpd: a full queue lifecycle" { hosting_queue_lifecycle; }
@test "lighttpd: a long poll answers 204 on time" { hosting_long_poll; }
@test "lighttpd: a 5 MB upload downloads byte for byte" { hosting_big_upload; }
@test "lighttpd: a body over the cap gets the program's 413 JSON" { hosting_body_cap; }
@test "lighttpd: SIGTERM of the server leaves no process behind" { hosting_sigterm; }
