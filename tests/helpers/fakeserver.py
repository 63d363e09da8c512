"""What the fake servers of the bats tests share (fake-near.py, fake-keystore.py).

A fake server serves HTTP on 127.0.0.1 from a control directory DIR: it writes the port it
listens on to DIR/port once it accepts connections, appends every request to
DIR/requests.log (one JSON line each), and reads its answer mode on every request from
DIR/script (one mode a line, each request takes and removes the first) or else DIR/mode.
With --watch-pid it exits as soon as that process is gone, so that a killed test run cannot
leave it behind.
"""

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEQ = [0]


def read_text(path, default=""):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return default


def read_number(path, default, kind=int):
    try:
        return kind(read_text(path, str(default)).strip())
    except ValueError:
        return default


class ControlDir:
    def __init__(self, directory):
        self.dir = directory

    def path(self, name):
        return os.path.join(self.dir, name)

    def mode(self):
        return read_text(self.path("mode"), "normal").strip() or "normal"

    def mode_for_request(self):
        """The first line of DIR/script (removed), else DIR/mode."""
        with LOCK:
            lines = [l.strip() for l in read_text(self.path("script")).splitlines() if l.strip()]
            if lines:
                with open(self.path("script"), "w", encoding="utf-8") as f:
                    f.write("".join(l + "\n" for l in lines[1:]))
                return lines[0]
        return self.mode()

    def log(self, handler, body, **extra):
        """Appends {"seq","time","method","path",<extra>...,"body"} to DIR/requests.log."""
        with LOCK:
            SEQ[0] += 1
            entry = {
                "seq": SEQ[0],
                "time": round(time.time(), 3),
                "method": handler.command,
                "path": handler.path,
            }
            entry.update(extra)
            entry["body"] = body.decode("utf-8", "replace")
            with open(self.path("requests.log"), "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, separators=(",", ":")) + "\n")


class Handler(BaseHTTPRequestHandler):
    """Base of the fakes' handlers: HTTP/1.1, quiet, send() of JSON or bytes."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, status, payload, content_type="application/json"):
        if isinstance(payload, (dict, list)):
            data = json.dumps(payload, separators=(",", ":")).encode()
        else:
            data = payload
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to do

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""


def watch(pid):
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        time.sleep(0.5)


def serve(description, make_state, make_handler):
    """Parses --dir --port --watch-pid, then serves make_handler(make_state(dir)) forever."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--watch-pid", type=int, default=0)
    args = p.parse_args()

    state = make_state(args.dir)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    server.daemon_threads = True
    if args.watch_pid:
        threading.Thread(target=watch, args=(args.watch_pid,), daemon=True).start()
    port = server.server_address[1]
    tmp = state.path("port.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % port)
    os.rename(tmp, state.path("port"))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0
