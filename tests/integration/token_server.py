#!/usr/bin/env python3
"""token_server.py - a small Docker/OCI registry token server for the tests.

Speaks the token protocol Distribution's `auth: token:` expects
(https://distribution.github.io/distribution/spec/auth/token/):

  GET  /token?service=S&scope=repository:NAME:pull,push[&scope=...]   (Basic auth)
  POST /token  grant_type=password&username=U&password=P&service=S&scope=...

and answers {"token", "access_token", "expires_in", "issued_at"} with an RS256
JWT whose header carries the signing certificate (x5c); the registry trusts it
through its rootcertbundle. Python standard library only: the signature is
made by `openssl dgst -sha256 -sign KEY`.

Policy: the one configured user gets every action it asks for; wrong
credentials get 401; an anonymous request gets 401, or pull-only access when
--anonymous-pull is given. A service other than --service is refused (400),
so a client that does not pass the challenge's service back is caught.

Every request is logged to --log as one line (method, path, user, service,
requested and granted scopes, status); the password never is.

The server binds 127.0.0.1 on a port the kernel picks and writes the number to
--port-file once it is listening, so the caller never races for a port.
"""

import argparse
import base64
import binascii
import datetime
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parse_scopes(values):
    """Scope parameters, each 'type:name:actions', several per parameter
    allowed (space separated). The name may contain ':' (never in practice for
    repositories, but a host:port prefix would), so split at both ends."""
    scopes = []
    for value in values:
        for item in value.split():
            first = item.find(":")
            last = item.rfind(":")
            if first < 0 or last == first:
                continue
            typ, name, actions = item[:first], item[first + 1:last], item[last + 1:]
            scopes.append((typ, name, [a for a in actions.split(",") if a]))
    return scopes


class TokenServer:
    def __init__(self, args):
        self.args = args
        with open(args.cert, "rb") as f:
            pem = f.read().decode("ascii")
        body = "".join(
            line for line in pem.splitlines() if line and not line.startswith("-----"))
        self.x5c = [base64.b64encode(base64.b64decode(body)).decode("ascii")]
        self.log_lock = threading.Lock()
        self.counter = 0

    def log(self, line):
        with self.log_lock:
            with open(self.args.log, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def sign(self, signing_input):
        proc = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.args.key],
            input=signing_input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            raise RuntimeError("openssl dgst failed: " + proc.stderr.decode(errors="replace"))
        return proc.stdout

    def make_token(self, subject, access):
        now = int(time.time())
        with self.log_lock:
            self.counter += 1
            jti = "%d-%d-%s" % (now, self.counter, binascii.hexlify(os.urandom(8)).decode())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        claims = {
            "iss": self.args.issuer,
            "sub": subject,
            "aud": self.args.service,
            "exp": now + self.args.expires,
            "nbf": now - 10,
            "iat": now,
            "jti": jti,
            "access": access,
        }
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = self.sign(signing_input.encode("ascii"))
        return signing_input + "." + b64url(sig), now

    def grant(self, user, scopes):
        access = []
        for typ, name, actions in scopes:
            if user is not None:
                allowed = actions
            elif self.args.anonymous_pull:
                allowed = [a for a in actions if a == "pull"]
            else:
                allowed = []
            if allowed:
                access.append({"type": typ, "name": name, "actions": allowed})
        return access


def make_handler(server):
    args = server.args

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "inlay-test-token/1"

        def log_message(self, fmt, *a):  # the request log is ours, below
            pass

        def reply(self, code, obj, extra=None):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def record(self, user, service, scopes, access, code, note=""):
            req = " ".join("%s:%s:%s" % (t, n, ",".join(a)) for t, n, a in scopes) or "-"
            got = " ".join("%s:%s:%s" % (g["type"], g["name"], ",".join(g["actions"]))
                           for g in access) or "-"
            path = urllib.parse.urlsplit(self.path).path
            server.log("%s %s %s user=%s service=%s scope=[%s] granted=[%s] status=%d%s" % (
                datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), self.command, path,
                user if user is not None else "-", service or "-", req, got, code,
                (" " + note) if note else ""))

        def basic_user(self):
            """(present, user_or_None, ok). ok is False for bad credentials."""
            h = self.headers.get("Authorization")
            if not h:
                return False, None, True
            parts = h.split(None, 1)
            if len(parts) != 2 or parts[0].lower() != "basic":
                return True, None, False
            try:
                dec = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return True, None, False
            user, sep, password = dec.partition(":")
            if not sep or user != args.user or password != args.password:
                return True, user or None, False
            return True, user, True

        def answer(self, user, service, scopes):
            if service != args.service:
                self.record(user, service, scopes, [], 400, "wrong-service")
                self.reply(400, {"errors": [{"code": "DENIED",
                                             "message": "unknown service %r" % service}]})
                return
            if user is None and not args.anonymous_pull:
                self.record(user, service, scopes, [], 401, "anonymous-refused")
                self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                             "message": "authentication required"}]},
                           {"WWW-Authenticate": 'Basic realm="inlay-test-token"'})
                return
            access = server.grant(user, scopes)
            token, now = server.make_token(user or "", access)
            self.record(user, service, scopes, access, 200)
            issued = datetime.datetime.utcfromtimestamp(now).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.reply(200, {"token": token, "access_token": token,
                             "expires_in": args.expires, "issued_at": issued})

        def refuse_credentials(self, user, service, scopes):
            self.record(user, service, scopes, [], 401, "bad-credentials")
            self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                         "message": "incorrect username or password"}],
                             "details": "incorrect username or password"},
                       {"WWW-Authenticate": 'Basic realm="inlay-test-token"'})

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            service = (q.get("service") or [None])[0]
            scopes = parse_scopes(q.get("scope", []))
            if url.path != "/token":
                self.record(None, service, scopes, [], 404)
                self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
                return
            _, user, ok = self.basic_user()
            if not ok:
                self.refuse_credentials(user, service, scopes)
                return
            self.answer(user, service, scopes)

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0 or length > 65536:
                self.reply(413, {"errors": [{"code": "SIZE", "message": "body too large"}]})
                return
            form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
            service = (form.get("service") or [None])[0]
            scopes = parse_scopes(form.get("scope", []))
            if url.path != "/token":
                self.record(None, service, scopes, [], 404)
                self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
                return
            grant = (form.get("grant_type") or [""])[0]
            if grant != "password":
                self.record(None, service, scopes, [], 400, "unsupported-grant=" + grant)
                self.reply(400, {"error": "unsupported_grant_type"})
                return
            user = (form.get("username") or [""])[0]
            password = (form.get("password") or [""])[0]
            if user != args.user or password != args.password:
                self.refuse_credentials(user or None, service, scopes)
                return
            self.answer(user, service, scopes)

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port-file", required=True)
    p.add_argument("--key", required=True, help="RSA private key (PEM) signing the tokens")
    p.add_argument("--cert", required=True, help="its certificate (PEM), sent as x5c")
    p.add_argument("--issuer", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--anonymous-pull", action="store_true")
    p.add_argument("--expires", type=int, default=300)
    p.add_argument("--log", required=True)
    args = p.parse_args()

    server = TokenServer(args)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(server))
    httpd.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.rename(tmp, args.port_file)  # atomic: the reader never sees half a number
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
