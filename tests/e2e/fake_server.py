#!/usr/bin/env python3
"""A fake `nerox serve` for the remote SDK's transport tests
(tests/e2e/remote_transport.sh). Python 3 standard library only; binds
127.0.0.1 on a free port and writes the port to the file named by its
first argument.

The path prefix /case/NAME/ picks a behaviour, so one server holds every
case: the SDK is pointed at http://127.0.0.1:PORT/case/NAME. Responses
are written as raw bytes, so a case can split, stall or drop them where
it likes. GET /_log answers the requests seen so far (path, time,
Last-Event-ID, Idempotency-Key) as JSON.

  SSE (GET .../v1/jobs/ID/events; GET .../v1/jobs/ID is a running job):
    split  events cut mid-line, mid-"\\n\\n", mid-CRLF and mid-UTF-8
    stall  events 1-3, then silence on an open connection; the next
           connection resumes after Last-Event-ID
    drop   events 1-2 and half of 3, then a clean close; the next
           connection repeats one event before going on
    chunk  as drop, but HTTP/1.1 chunked and cut inside a chunk
    beat   a retry: line, then heartbeats for longer than the stall time
  429 (GET .../v1/usage): the first two answers are 429, then 200:
    ra-secs, ra-future, ra-past, ra-negative, ra-huge, ra-garbled,
    ra-missing, ra-reset
  submit (POST .../v1/jobs): dropped before the answer, dropped in the
    middle of it, 503, then 202; submit-ok answers 202 at once.
"""
import email.utils
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = []
COUNTS = {}
LOCK = threading.Lock()
STOP = threading.Event()
# Pause between the pieces of a split answer, so each is its own read.
PIECE_S = 0.015
# How long a stalled stream stays silent (the SDK gives up far sooner).
STALL_HOLD_S = 15
HEARTBEAT_EVERY_S = 0.3
HEARTBEATS = 6
NOTE = "G\u00f6del \u2713 \u2211"   # 2- and 3-byte UTF-8 to cut through


def event_bytes(seq, last, crlf=False):
    kind = "succeeded" if seq == last else "progress"
    data = json.dumps({"seq": seq, "type": kind, "best_energy": 100 - seq,
                       "energy": 120 - seq, "sweep": seq * 10,
                       "elapsed_s": seq / 100, "replicas": 4,
                       "note": NOTE}, ensure_ascii=False)
    text = "id: %d\nevent: %s\ndata: %s\n\n" % (seq, kind, data)
    if crlf:
        text = text.replace("\n", "\r\n")
    return text.encode()


def cuts(b):
    """Byte offsets that cut b at the awkward places."""
    out = set()
    for needle, k in ((b"prog", 2), (b"succ", 2), (b"\n\n", 1),
                      (b"\r\n\r\n", 1), (b"\r\n\r\n", 3),
                      (NOTE.encode()[1:3], 1), (b"\xe2\x9c\x93", 1),
                      (b"\xe2\x9c\x93", 2), (b"\xe2\x88\x91", 2)):
        i = b.find(needle)
        if i >= 0:
            out.add(i + k)
    return sorted(x for x in out if 0 < x < len(b))


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # ---- writing --------------------------------------------------------

    def raw(self, b):
        self.wfile.write(b)
        self.wfile.flush()

    def answer(self, status, doc, headers=()):
        body = json.dumps(doc).encode()
        head = "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n" \
               "Content-Length: %d\r\nConnection: close\r\n" % (status,
                                                                len(body))
        for h in headers:
            head += h + "\r\n"
        self.raw(head.encode() + b"\r\n" + body)

    def sse_head(self, chunked=False):
        head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" \
               "Connection: close\r\n"
        if chunked:
            head += "Transfer-Encoding: chunked\r\n"
        self.raw(head.encode() + b"\r\n")

    def pieces(self, b):
        prev = 0
        for c in cuts(b) + [len(b)]:
            self.raw(b[prev:c])
            time.sleep(PIECE_S)
            prev = c

    def drop(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.connection.close()

    def hold(self, seconds):
        STOP.wait(seconds)

    # ---- requests -------------------------------------------------------

    def record(self, case, n, rest):
        entry = {"case": case, "n": n, "method": self.command,
                 "path": rest, "t": time.time(),
                 "last_event_id": self.headers.get("Last-Event-ID"),
                 "idempotency_key": self.headers.get("Idempotency-Key")}
        with LOCK:
            LOG.append(entry)
        return entry

    def route(self):
        if self.path == "/_log":
            with LOCK:
                return self.answer(200, {"log": LOG})
        parts = self.path.split("/", 3)
        if len(parts) < 4 or parts[1] != "case":
            return self.answer(404, {"error": {"type": "not_found",
                                               "message": "no such case"}})
        case, rest = parts[2], "/" + parts[3]
        key = (case, rest.split("?")[0].endswith("/events"), self.command)
        with LOCK:
            COUNTS[key] = COUNTS.get(key, 0) + 1
            n = COUNTS[key]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        entry = self.record(case, n, rest)
        if rest.endswith("/events"):
            return self.events(case, n, entry)
        if case.startswith("ra-") and rest == "/v1/usage":
            return self.rate_limited(case, n)
        if case.startswith("submit") and rest == "/v1/jobs":
            return self.submit(case, n)
        if rest.startswith("/v1/jobs/"):
            return self.answer(200, {"id": rest.split("/")[3],
                                     "status": "running",
                                     "problem_type": "tsp"})
        return self.answer(404, {"error": {"type": "not_found",
                                           "message": rest}})

    do_GET = route
    do_POST = route

    def events(self, case, n, entry):
        after = int(entry["last_event_id"] or 0)
        if case == "split":
            self.sse_head()
            self.pieces(b"retry: 100\n\n")
            for seq in range(1, 7):
                self.pieces(event_bytes(seq, 6, crlf=seq in (3, 4)))
        elif case == "stall":
            self.sse_head()
            self.raw(b"retry: 100\n\n")
            top = 3 if n == 1 else 6
            for seq in range(after + 1, top + 1):
                self.raw(event_bytes(seq, 6))
            if n == 1:
                self.hold(STALL_HOLD_S)
        elif case in ("drop", "chunk"):
            self.drop_case(case, n, after)
        elif case == "beat":
            self.sse_head()
            self.raw(b"retry: 200\n\n" + event_bytes(1, 3))
            for _ in range(HEARTBEATS):
                time.sleep(HEARTBEAT_EVERY_S)
                self.raw(b": heartbeat\n\n")
            self.raw(event_bytes(2, 3) + event_bytes(3, 3))

    def drop_case(self, case, n, after):
        chunked = case == "chunk"

        def send(b):
            if chunked:
                b = b"%x\r\n" % len(b) + b + b"\r\n"
            self.raw(b)

        self.sse_head(chunked)
        if n == 1:
            send(b"retry: 250\n\n" + event_bytes(1, 5) + event_bytes(2, 5))
            half = event_bytes(3, 5)
            half = half[:len(half) // 2]
            if chunked:  # a chunk announced longer than what is sent
                self.raw(b"%x\r\n" % (len(half) + 40) + half)
            else:
                self.raw(half)
            time.sleep(0.05)
            with LOCK:
                LOG.append({"case": case, "closed": time.time()})
            return self.drop() if chunked else None
        for seq in range(max(1, after), 6):  # one event again: a repeat
            send(event_bytes(seq, 5))
        if chunked:
            self.raw(b"0\r\n\r\n")

    def rate_limited(self, case, n):
        if n > 2:
            return self.answer(200, {"plan": "pro", "case": case})
        now = time.time()
        value = {
            "ra-secs": "1",
            "ra-future": email.utils.formatdate(now + 2, usegmt=True),
            "ra-past": email.utils.formatdate(now - 3600, usegmt=True),
            "ra-negative": "-5",
            "ra-huge": "99999999999999999999999999",
            "ra-garbled": "soon-ish, maybe",
        }.get(case)
        headers = ["X-RateLimit-Limit: 10", "X-RateLimit-Remaining: 0"]
        if value is not None:
            headers.append("Retry-After: " + value)
        if case == "ra-reset":
            headers.append("X-RateLimit-Reset: %d" % (int(now) + 1))
        self.answer(429, {"error": {"type": "rate_limited",
                                    "message": "slow down"}}, headers)

    def submit(self, case, n):
        job = {"id": "job-%s" % case, "status": "queued",
               "problem_type": "tsp"}
        if case == "submit-ok" or n >= 4:
            return self.answer(202, job)
        if n == 1:
            return self.drop()
        if n == 2:
            self.raw(b"HTTP/1.1 202 Accepted\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 200\r\n\r\n"
                     b'{"id": "job-')
            time.sleep(0.05)
            return self.drop()
        self.answer(503, {"error": {"type": "unavailable",
                                    "message": "draining"}})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up are part of the tests


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        STOP.set()


if __name__ == "__main__":
    main()
