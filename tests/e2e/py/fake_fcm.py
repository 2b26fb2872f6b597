"""FakeFcm: Google's OAuth token endpoint and Firebase Cloud Messaging HTTP v1 on 127.0.0.1, in
one HTTP server on a thread of the test, checking what the real ones check:

- POST /token (the service account's token_uri): form grant_type=urn:ietf:params:oauth:
  grant-type:jwt-bearer and assertion=<JWT>; the JWT's header is RS256, its claims name the
  service account (iss), the firebase.messaging scope, this token_uri (aud), iat within 5
  minutes of now and exp at most an hour after iat, and its signature verifies with the
  account's public key (checked with the openssl command). Answers an access token.
- POST /v1/projects/{project}/messages:send with "Authorization: Bearer <a token it issued>":
  a message with a token and string data values. Tokens starting "dead-" answer 404
  UNREGISTERED; set_failures(n) answers 503 UNAVAILABLE n times.

new_service_account() makes an RSA key (openssl) and the key file's JSON for this fake."""

import base64
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.parse

from fake_http import FakeHttpServer

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
PROJECT = "postbox-test-project"
CLIENT_EMAIL = "postbox@postbox-test-project.iam.gserviceaccount.com"


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeFcm(FakeHttpServer):
    def __init__(self):
        super().__init__()
        self.directory = tempfile.mkdtemp(prefix="postbox-fcm-")
        self.key = os.path.join(self.directory, "key.pem")
        self.public = os.path.join(self.directory, "public.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", self.key], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["openssl", "pkey", "-in", self.key, "-pubout", "-out", self.public],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.tokens = set()
        self.token_requests = 0
        self.messages = []
        self.failures = 0

    def handle(self, path, headers, body):
        if path == "/token":
            return self._token(body)
        if path == "/v1/projects/%s/messages:send" % PROJECT:
            return self._send(headers, body)
        return 404, {"error": {"code": 404, "status": "NOT_FOUND"}}

    def service_account_json(self):
        with open(self.key) as f:
            private_key = f.read()
        return json.dumps({"type": "service_account", "project_id": PROJECT,
                           "private_key_id": "k1", "private_key": private_key,
                           "client_email": CLIENT_EMAIL, "token_uri": self.url("/token")})

    def set_failures(self, count):
        with self.lock:
            self.failures = count

    def received(self):
        with self.lock:
            return list(self.messages)

    def wait_for_match(self, match, timeout=20):
        return self.wait_until(lambda: next((m for m in self.received() if match(m)), None),
                               "FCM got no matching message", timeout)

    def _refuse(self, status, reason, answer):
        return self.refuse("fcm", status, reason, answer)

    def _verify_jwt(self, jwt):
        parts = jwt.split(".")
        if len(parts) != 3:
            return "not three parts"
        header, claims = json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1]))
        if header.get("alg") != "RS256":
            return "alg %r" % header.get("alg")
        now = time.time()
        if claims.get("iss") != CLIENT_EMAIL or claims.get("aud") != self.url("/token") or \
                SCOPE not in claims.get("scope", "").split() or \
                abs(now - claims.get("iat", 0)) > 300 or \
                not 0 < claims.get("exp", 0) - claims["iat"] <= 3600:
            return "claims %r" % claims
        signature = os.path.join(self.directory, "sig-%d" % threading.get_ident())
        with open(signature, "wb") as f:
            f.write(b64url_decode(parts[2]))
        check = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.public,
                                "-signature", signature],
                               input=(parts[0] + "." + parts[1]).encode(), capture_output=True)
        return None if check.returncode == 0 else "bad signature"

    def _token(self, body):
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self._refuse(400, "grant_type", {"error": "unsupported_grant_type"})
        problem = self._verify_jwt(form.get("assertion", ""))
        if problem:
            return self._refuse(400, problem, {"error": "invalid_grant"})
        token = "ya29.%s" % base64.b16encode(os.urandom(12)).decode()
        with self.lock:
            self.tokens.add(token)
            self.token_requests += 1
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _send(self, headers, body):
        bearer = headers.get("Authorization", "")
        with self.lock:
            known = bearer.startswith("Bearer ") and bearer[7:] in self.tokens
        if not known:
            return self._refuse(401, "bearer", {"error": {"code": 401, "status":
                                                          "UNAUTHENTICATED"}})
        message = json.loads(body).get("message", {})
        data = message.get("data", {})
        if not message.get("token") or not all(isinstance(v, str) for v in data.values()):
            return self._refuse(400, "message %r" % message, {"error": {
                "code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid message",
                "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                             "errorCode": "INVALID_ARGUMENT"}]}})
        if message["token"].startswith("dead-"):
            return self._refuse(404, "unregistered", {"error": {
                "code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
                "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                             "errorCode": "UNREGISTERED"}]}})
        with self.lock:
            if self.failures > 0:
                self.failures -= 1
                failing = True
            else:
                failing = False
                self.messages.append(message)
        if failing:
            return self._refuse(503, "rule", {"error": {"code": 503, "status": "UNAVAILABLE"}})
        return 200, {"name": "projects/%s/messages/%d" % (PROJECT, len(self.messages))}
