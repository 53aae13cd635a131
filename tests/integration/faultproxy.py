#!/usr/bin/env python3
"""faultproxy.py - an HTTP proxy the tests put between inlay and a real
registry, to make the registry slow (and, as the tests grow, faulty).

    faultproxy.py --upstream 127.0.0.1:5000 --port-file F --log F [--delay S]

It listens on a free loopback port (written to --port-file), forwards every
request to --upstream with its method, headers and body, and streams the
answer back. The Host header is passed as the client sent it, so the
registry's Location headers point back at the proxy. --delay holds each
request S seconds before forwarding it. One line per request goes to --log:
"METHOD PATH STATUS". Standard library only."""

import argparse
import http.client
import http.server
import os
import socketserver
import sys
import threading
import time

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
              "te", "trailer", "upgrade"}


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

    def _forward(self):
        cfg = self.server.cfg
        body = self._body()
        if cfg.delay:
            time.sleep(cfg.delay)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body is not None:
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(cfg.upstream, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            self.send_response_only(resp.status, resp.reason)
            length = resp.getheader("Content-Length")
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
            status = resp.status
        except OSError as exc:
            status = 502
            self.send_error(502, "upstream: %s" % exc)
        finally:
            conn.close()
        with self.server.log_lock:
            self.server.log.write("%s %s %d\n" % (self.command, self.path, status))
            self.server.log.flush()

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the registry")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    cfg = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Proxy)
    srv.cfg = cfg
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
