#!/usr/bin/env python3
"""A small fake TEE keystore for the bats tests (SPEC §3.6, §3.4.7, §3.4.1).

    fake-keystore.py --dir DIR [--port PORT] [--watch-pid PID]

Listens on 127.0.0.1:PORT (0, the default, picks a free port) and writes the port it
listens on to DIR/port once it accepts connections.  Every request (but GET /__fake_ping)
is appended to DIR/requests.log as one JSON line:

    {"seq":N,"time":UNIX,"method":"POST","path":"/pubkey","authorization":"Bearer …"|null,
     "content_type":"..."|null,"body":"<raw text>"}

Routes, answered as the keystore answers them:

    GET  /health               200 {"status":"ok"}
    GET  /vrf/pubkey           200 {"vrf_public_key":"<64 hex>"}
    POST /pubkey               {"seed","secrets_json"} → 200 {"pubkey":"<hex sha256(seed)>"}
    POST /add_generated_secret {"seed","encrypted_secrets_base64","new_secrets":[{name,..}]}
                               → 200 {"encrypted_data_base64":"<base64>","all_keys":[names]}
                                 (all_keys: the names of new_secrets, sorted)
    POST /update_user_secrets  any JSON object → 200 {"success":true,"profile":<its profile>}
    anything else              404 {"error":"not found"}

A body that is not JSON (or not an object) is answered 400 {"error":"invalid JSON body"}.

Control files in DIR, read on every request (tests change them between requests):

    mode     normal | error | reject | reject-text | garbage | incomplete | hangup | slow
             (missing = normal)
               error        HTTP 500 {"error":"fake-keystore: injected failure"}
               reject       HTTP DIR/reject_status (default 403) with the JSON object
                            {"error":"fake-keystore: rejected","code":"denied"}
               reject-text  HTTP DIR/reject_status with a text/plain body
               garbage      HTTP 200 with a body that is not JSON
               incomplete   HTTP 200 {"ok":true}: JSON lacking what the route returns
               hangup       closes the connection without an answer
               slow         sleeps DIR/slow_seconds (default 15) and then answers normally
    script   one mode a line: each request takes (and removes) the first line and answers
             in that mode instead of DIR/mode; when empty, DIR/mode applies again
    status   the status of normal answers (default 200; e.g. 201)

With --watch-pid the server exits as soon as that process is gone, so that a killed test
run cannot leave it behind; the helpers also stop it explicitly (keystore_stop).
"""

import base64
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakeserver import ControlDir, Handler, read_number, serve  # noqa: E402


def answer(method, path, body):
    """(status, JSON value) of a normal answer."""
    if method == "GET" and path == "/health":
        return 200, {"status": "ok"}
    if method == "GET" and path == "/vrf/pubkey":
        return 200, {"vrf_public_key": hashlib.sha256(b"fake-keystore vrf").hexdigest()}
    if method != "POST" or path not in ("/pubkey", "/add_generated_secret",
                                        "/update_user_secrets"):
        return 404, {"error": "not found"}
    try:
        req = json.loads(body)
    except ValueError:
        req = None
    if not isinstance(req, dict):
        return 400, {"error": "invalid JSON body"}
    if path == "/pubkey":
        seed = str(req.get("seed"))
        return 200, {"pubkey": hashlib.sha256(seed.encode()).hexdigest()}
    if path == "/add_generated_secret":
        names = sorted(s.get("name", "") for s in req.get("new_secrets") or []
                       if isinstance(s, dict))
        blob = json.dumps({"seed": req.get("seed"), "keys": names}).encode()
        return 200, {"encrypted_data_base64": base64.b64encode(blob).decode(), "all_keys": names}
    return 200, {"success": True, "profile": req.get("profile")}


def make_handler(state):
    class KeystoreHandler(Handler):
        server_version = "fake-keystore/1"

        def handle_any(self):
            body = self.read_body()
            if self.path == "/__fake_ping":
                self.send(200, {"ok": True})
                return
            state.log(self, body, authorization=self.headers.get("Authorization"),
                      content_type=self.headers.get("Content-Type"))
            mode = state.mode_for_request()
            reject_status = read_number(state.path("reject_status"), 403)
            if mode == "error":
                self.send(500, {"error": "fake-keystore: injected failure"})
            elif mode == "reject":
                self.send(reject_status, {"error": "fake-keystore: rejected", "code": "denied"})
            elif mode == "reject-text":
                self.send(reject_status, b"rejected by the fake keystore\n", "text/plain")
            elif mode == "garbage":
                self.send(200, b"<html><body>502 Bad Gateway</body></html>\n", "text/html")
            elif mode == "incomplete":
                self.send(200, {"ok": True})
            elif mode == "hangup":
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass
            else:
                if mode == "slow":
                    time.sleep(read_number(state.path("slow_seconds"), 15.0, float))
                status, obj = answer(self.command, self.path, body)
                if status == 200:
                    status = read_number(state.path("status"), 200)
                self.send(status, obj)

        do_GET = handle_any
        do_POST = handle_any

    return KeystoreHandler


def main():
    return serve("fake TEE keystore for tests", ControlDir, make_handler)


if __name__ == "__main__":
    sys.exit(main())
