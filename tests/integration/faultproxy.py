#!/usr/bin/env python3
"""faultproxy.py - an HTTP proxy the tests put between inlay and a real
registry, to make the registry slow or faulty on a schedule.

    faultproxy.py --upstream 127.0.0.1:5000 --port-file F --log F
                  [--delay S] [--fault KIND] [--rate P | --every N]
                  [--match REGEX] [--seed N] [--stall S] [--no-range]

It listens on a free loopback port (written to --port-file), forwards every
request to --upstream with its method, headers and body, and streams the
answer back. The Host header is passed as the client sent it, so the
registry's Location headers point back at the proxy. --delay holds each
request S seconds before forwarding it. --no-range drops the Range header
of requests (a server that does not do ranges: it answers 200, whole).

--fault injects KIND into the requests whose "METHOD PATH" matches --match
(a Python regular expression searched in it; default: every request), each
with probability --rate (default 1), or every --every'th one:

    500 502 503   that status, with a registry error body; nothing forwarded
    429           Too Many Requests with Retry-After: 1
    reset         the answer's headers and half its body, then a TCP reset
                  (an upload: its body is read, then the connection reset)
    truncate      headers with the true Content-Length, half the body, close
    short         a complete answer of half the body (its Content-Length too)
    flip          the whole answer with one byte of its body changed
    length        a Content-Length 17 bytes larger than the body, then close
    stall         headers and half the body, then silence for --stall S
                  seconds (default 600), then close
    redirect      307 to the same URL, forever

Faults apply to answers with a body only where that makes sense (reset,
truncate, short, flip, length and stall on an answer with an empty body
forward it unchanged and log fault=none). One line per request goes to --log:
"METHOD PATH STATUS range=RANGE fault=KIND" (RANGE is the request's Range
header, - when none). Standard library only."""

import argparse
import http.client
import http.server
import os
import random
import re
import socket
import socketserver
import struct
import sys
import threading
import time

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
              "te", "trailer", "upgrade"}
STATUS_FAULTS = {"500", "502", "503", "429"}
BODY_FAULTS = {"reset", "truncate", "short", "flip", "length", "stall"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: our own log is --log
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    def _log(self, status, fault):
        with self.server.log_lock:
            self.server.log.write("%s %s %d range=%s fault=%s\n" % (
                self.command, self.path, status, self.headers.get("Range", "-"), fault))
            self.server.log.flush()

    def _choose_fault(self):
        cfg = self.server.cfg
        if not cfg.fault or not re.search(cfg.match, "%s %s" % (self.command, self.path)):
            return None
        with self.server.log_lock:
            self.server.matched += 1
            if cfg.every:
                return cfg.fault if self.server.matched % cfg.every == 0 else None
            return cfg.fault if self.server.rng.random() < cfg.rate else None

    def _reset(self):
        # SO_LINGER with a zero timeout: close sends RST, not FIN.
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def _status_fault(self, fault):
        code = int(fault)
        body = (b'{"errors":[{"code":"UNAVAILABLE","message":"injected by faultproxy",'
                b'"detail":null}]}')
        if code == 429:
            body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"injected"}]}'
        self.send_response_only(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if code == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(code, fault)

    def _forward(self):
        cfg = self.server.cfg
        body = self._body()
        fault = self._choose_fault()
        if fault in STATUS_FAULTS:
            return self._status_fault(fault)
        if fault == "redirect":
            self.send_response_only(307)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return self._log(307, fault)
        if fault == "reset" and body:
            self._log(0, "reset-upload")
            return self._reset()
        if cfg.delay:
            time.sleep(cfg.delay)
        # A list, not a dict: a header sent on several lines (skopeo's
        # Accept, one media type a line) must arrive whole.
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP
                   and k.lower() != "content-length"
                   and not (cfg.no_range and k.lower() == "range")]
        if body is not None:
            headers.append(("Content-Length", str(len(body))))
        conn = http.client.HTTPConnection(cfg.upstream, timeout=60)
        try:
            conn.putrequest(self.command, self.path, skip_host=True,
                            skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            conn.endheaders(body)
            resp = conn.getresponse()
            status = resp.status
            length = resp.getheader("Content-Length")
            if fault in BODY_FAULTS and self.command != "HEAD" and length not in (None, "0"):
                return self._body_fault(fault, resp, int(length))
            self.send_response_only(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            if length is None and self.command != "HEAD":
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                while True:
                    chunk = resp.read(65536)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
            fault = None
        except OSError as exc:
            status = 502
            self.send_error(502, "upstream: %s" % exc)
        finally:
            conn.close()
        self._log(status, fault or "none")

    def _body_fault(self, fault, resp, length):
        data = resp.read()
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        half = len(data) // 2
        if fault == "short":
            data = data[:half]
        extra = 17 if fault == "length" else 0
        self.send_header("Content-Length", str(len(data) + extra))
        self.end_headers()
        self._log(resp.status, fault)
        try:
            if fault == "flip":
                i = len(data) // 2
                self.wfile.write(data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:])
                return
            if fault in ("length", "short"):
                self.wfile.write(data)
            else:
                self.wfile.write(data[:half])
            self.wfile.flush()
            if fault == "stall":
                time.sleep(self.server.cfg.stall)
            if fault == "reset":
                # A reset discards what is still in the send buffer, and a
                # client's unread bytes with it: a small blob would then be
                # cut off before its first byte, and its retry could not
                # resume. The pause lets the half body be read first.
                time.sleep(0.3)
                return self._reset()
        except OSError:
            pass
        self.close_connection = True

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the registry")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--no-range", action="store_true")
    ap.add_argument("--fault", choices=sorted(STATUS_FAULTS | BODY_FAULTS | {"redirect"}))
    ap.add_argument("--rate", type=float, default=1.0)
    ap.add_argument("--every", type=int, default=0)
    ap.add_argument("--match", default="")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stall", type=float, default=600.0)
    cfg = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Proxy)
    srv.cfg = cfg
    srv.rng = random.Random(cfg.seed)
    srv.matched = 0
    srv.log = open(cfg.log, "a")
    srv.log_lock = threading.Lock()
    with open(cfg.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(cfg.port_file + ".tmp", cfg.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
