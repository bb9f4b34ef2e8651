#!/usr/bin/env python3
"""Token issuer for docker-registry's `auth.token` in sigscope's tests (our own test code).

  tokenserver.py gen DIR          write DIR/key.pem and DIR/cert.pem (ES256 signing key + cert)
  tokenserver.py serve PORT DIR   serve GET/POST /token on 127.0.0.1:PORT

The user, password and OAuth2 refresh token come from $TOKEN_USER, $TOKEN_PASS, $TOKEN_REFRESH.
Anonymous callers get `pull` on repositories and nothing on `registry:catalog:*`; authenticated
callers (Basic, or a refresh-token POST) get every action they ask for.
"""
import base64, json, os, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import serialization, hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
import datetime


def gen(d):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sigscope-test-token-issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
    with open(os.path.join(d, "key.pem"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(os.path.join(d, "cert.pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def serve(port, d):
    key = serialization.load_pem_private_key(open(os.path.join(d, "key.pem"), "rb").read(), None)
    cert = x509.load_pem_x509_certificate(open(os.path.join(d, "cert.pem"), "rb").read())
    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    user, password = os.environ.get("TOKEN_USER", ""), os.environ.get("TOKEN_PASS", "")
    refresh = os.environ.get("TOKEN_REFRESH", "")

    def sign(claims):
        h = b64u(json.dumps({"typ": "JWT", "alg": "ES256", "x5c": x5c}).encode())
        p = b64u(json.dumps(claims).encode())
        r, s = decode_dss_signature(key.sign(f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA256())))
        return f"{h}.{p}.{b64u(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, who, q):
            access = []
            for sc in q.get("scope", []):
                parts = sc.split(":", 2)
                if len(parts) != 3:
                    continue
                typ, name, actions = parts
                wanted = actions.split(",")
                allowed = wanted if who else [a for a in wanted if a == "pull"]
                if typ == "registry" and not who:
                    allowed = []
                access.append({"type": typ, "name": name, "actions": allowed})
            now = int(time.time())
            tok = sign({"iss": "test-issuer", "sub": who or "", "aud": q.get("service", [""])[0],
                        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()),
                        "access": access})
            body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def deny(self):
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            q = parse_qs(urlparse(self.path).query)
            who = None
            a = self.headers.get("Authorization", "")
            if a.startswith("Basic "):
                u, _, p = base64.b64decode(a[6:]).decode().partition(":")
                if not user or (u, p) != (user, password):
                    return self.deny()
                who = u
            self.reply(who, q)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(n).decode())
            if form.get("grant_type") != ["refresh_token"] or not refresh or form.get("refresh_token") != [refresh]:
                return self.deny()
            self.reply("refresh-user", form)

    ThreadingHTTPServer(("127.0.0.1", int(port)), H).serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        serve(sys.argv[2], sys.argv[3])
