#!/usr/bin/env python3
"""A small fake NEAR JSON-RPC server for the bats tests (SPEC §4.2).

    fake-near.py --dir DIR [--port PORT] [--watch-pid PID]

Listens on 127.0.0.1:PORT (0, the default, picks a free port) and writes the port it
listens on to DIR/port once it accepts connections.  Every request is appended to
DIR/requests.log as one JSON line:

    {"seq":N,"time":UNIX,"method":"POST","path":"/","content_type":"...","body":"<raw text>"}

Control files in DIR, read on every request (tests change them between requests):

    keys       registered access keys, one a line: "ed25519:<base58>" (any account) or
               "<account_id> ed25519:<base58>"; blank lines and "#" lines ignored
    mode       normal | error | rpc-error | garbage | slow   (missing = normal)
                 error      HTTP 500 with NEAR's INTERNAL_ERROR body
                 rpc-error  HTTP 200 with a HANDLER_ERROR that is not "unknown key"
                 garbage    HTTP 200 with a body that is not JSON
                 slow       sleeps DIR/slow_seconds (default 10) and then answers normally
    script     one mode a line: each request takes (and removes) the first line and answers
               in that mode instead of DIR/mode; when empty, DIR/mode applies again
    height     the chain tip height answered by "block" (default 123456)
    views/METHOD.json
               answers of the view method METHOD (query/call_function):
               {"default": <value>, "by_args": [[<args>, <value>], ...]}; a call whose
               decoded args equal an entry's <args> gets its <value>, else "default" if
               present (written by near_view in near.bash)

Answers (shapes of nearcore's JSON-RPC):

    query/view_access_key  registered → result {nonce, permission:"FullAccess", block_height,
                           block_hash}; unknown → HANDLER_ERROR/UNKNOWN_ACCESS_KEY
    query/call_function    the value set in views/METHOD.json as result.result (the bytes of
                           its JSON text); HANDLER_ERROR/NO_CONTRACT_CODE when none is set
    block                  result {author, header:{height, hash, ...}, chunks:[]}
    anything else          REQUEST_VALIDATION_ERROR (method not found / parse error)

With --watch-pid the server exits as soon as that process is gone, so that a killed test
run cannot leave it behind; the helpers also stop it explicitly (near_stop).
"""

import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakeserver import ControlDir, Handler, read_text, serve  # noqa: E402

BLOCK_HASH = "EwkRecSP8GRvaxL7ynCEoHhsL1ksU6FsHVLCevcccF5q"


class State(ControlDir):
    def height(self):
        try:
            return int(read_text(self.path("height"), "123456").strip())
        except ValueError:
            return 123456

    def slow_seconds(self):
        try:
            return float(read_text(self.path("slow_seconds"), "10").strip())
        except ValueError:
            return 10.0

    def view_answer(self, method, args_base64):
        """(True, value) for a view method with a set answer, else (False, None)."""
        if not isinstance(method, str) or not method.replace("_", "").isalnum():
            return False, None
        try:
            views = json.loads(read_text(self.path(os.path.join("views", method + ".json")), "{}"))
            raw = base64.b64decode(args_base64 or "", validate=True)
            args = json.loads(raw) if raw else None
        except ValueError:
            return False, None
        for entry in views.get("by_args", []):
            if entry[0] == args:
                return True, entry[1]
        if "default" in views:
            return True, views["default"]
        return False, None

    def key_registered(self, account, key):
        for line in read_text(self.path("keys")).splitlines():
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) == 1 and parts[0] == key:
                return True
            if len(parts) >= 2 and parts[0] == account and parts[1] == key:
                return True
        return False

    def log_request(self, handler, body):
        self.log(handler, body, content_type=handler.headers.get("Content-Type"))


def rpc_error(req_id, name, cause, info, code, message, data):
    return {
        "jsonrpc": "2.0",
        "error": {
            "name": name,
            "cause": {"name": cause, "info": info},
            "code": code,
            "message": message,
            "data": data,
        },
        "id": req_id,
    }


def internal_error(req_id):
    return rpc_error(req_id, "INTERNAL_ERROR", "INTERNAL_ERROR",
                     {"error_message": "fake-near: injected failure"}, -32000,
                     "Server error", "fake-near: injected failure")


def handler_error(req_id):
    # A real HANDLER_ERROR that says nothing about the key being absent.
    return rpc_error(req_id, "HANDLER_ERROR", "NO_SYNCED_BLOCKS", {}, -32000, "Server error",
                     "There are no fully synchronized blocks on the node yet")


def answer(state, request):
    """(status, JSON object) for one parsed JSON-RPC request."""
    req_id = request.get("id") if isinstance(request, dict) else None
    if not isinstance(request, dict):
        return 400, rpc_error(None, "REQUEST_VALIDATION_ERROR", "PARSE_ERROR",
                              {"error_message": "not an object"}, -32700, "Parse error",
                              "not an object")
    method = request.get("method")
    params = request.get("params")
    if method == "block":
        height = state.height()
        return 200, {
            "jsonrpc": "2.0",
            "result": {
                "author": "fake-near.testnet",
                "chunks": [],
                "header": {
                    "height": height,
                    "prev_height": height - 1,
                    "epoch_id": "11111111111111111111111111111111",
                    "hash": BLOCK_HASH,
                    "prev_hash": BLOCK_HASH,
                    "timestamp": 1700000000000000000,
                    "timestamp_nanosec": "1700000000000000000",
                    "chunks_included": 4,
                },
            },
            "id": req_id,
        }
    if method == "query" and isinstance(params, dict):
        rtype = params.get("request_type")
        account = params.get("account_id")
        if rtype == "view_access_key":
            key = params.get("public_key")
            if isinstance(key, str) and state.key_registered(account, key):
                return 200, {
                    "jsonrpc": "2.0",
                    "result": {
                        "block_hash": BLOCK_HASH,
                        "block_height": state.height(),
                        "nonce": 1,
                        "permission": "FullAccess",
                    },
                    "id": req_id,
                }
            return 200, rpc_error(
                req_id, "HANDLER_ERROR", "UNKNOWN_ACCESS_KEY",
                {"public_key": key, "block_height": state.height(), "block_hash": BLOCK_HASH},
                -32000, "Server error",
                "Access key for public key %s does not exist while viewing" % key)
        if rtype == "call_function":
            found, value = state.view_answer(params.get("method_name"), params.get("args_base64"))
            if found:
                text = json.dumps(value, separators=(",", ":")).encode()
                return 200, {
                    "jsonrpc": "2.0",
                    "result": {"result": list(text), "logs": [], "block_height": state.height(),
                               "block_hash": BLOCK_HASH},
                    "id": req_id,
                }
            return 200, rpc_error(
                req_id, "HANDLER_ERROR", "NO_CONTRACT_CODE",
                {"contract_account_id": account, "block_height": state.height(),
                 "block_hash": BLOCK_HASH},
                -32000, "Server error",
                "Contract code for contract ID #%s has never been observed on the node" % account)
    return 200, rpc_error(req_id, "REQUEST_VALIDATION_ERROR", "METHOD_NOT_FOUND",
                          {"method_name": method}, -32601, "Method not found", method)


def make_handler(state):
    class NearHandler(Handler):
        server_version = "fake-near/1"

        def do_GET(self):
            if self.path == "/__fake_ping":
                self.send(200, {"ok": True})
                return
            state.log_request(self, b"")
            self.send(405, b"POST only\n", "text/plain")

        def do_POST(self):
            body = self.read_body()
            state.log_request(self, body)
            mode = state.mode_for_request()
            try:
                request = json.loads(body)
            except ValueError:
                request = None
            req_id = request.get("id") if isinstance(request, dict) else None
            if mode == "error":
                self.send(500, internal_error(req_id))
                return
            if mode == "rpc-error":
                self.send(200, handler_error(req_id))
                return
            if mode == "garbage":
                self.send(200, b"<html><body>502 Bad Gateway</body></html>\n", "text/html")
                return
            if mode == "slow":
                time.sleep(state.slow_seconds())
            if request is None:
                self.send(400, rpc_error(None, "REQUEST_VALIDATION_ERROR", "PARSE_ERROR",
                                         {"error_message": "invalid JSON"}, -32700,
                                         "Parse error", "invalid JSON"))
                return
            status, obj = answer(state, request)
            self.send(status, obj)

    return NearHandler


def main():
    return serve("fake NEAR JSON-RPC server for tests", State, make_handler)


if __name__ == "__main__":
    sys.exit(main())
