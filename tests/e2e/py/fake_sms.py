"""FakeSmsProviders: Naver Cloud SENS, Twilio and a generic SMS webhook on 127.0.0.1, in one
HTTP server run on a thread of the test. Each checks what the real service checks before it
accepts a message, and refuses like it:

- SENS (POST /sms/v2/services/{serviceId}/messages): x-ncp-iam-access-key, a timestamp within
  5 minutes, and x-ncp-apigw-signature-v2 = base64(HMAC-SHA256(secret, "POST {target}\\n
  {timestamp}\\n{accessKey}")) over the request target exactly as sent (401 otherwise); the
  body: type SMS (content up to 90 EUC-KR bytes) or LMS (up to 2,000), the registered `from`,
  countryCode, messages[].to as digits (400 otherwise). 202 with a requestId.
- Twilio (POST /2010-04-01/Accounts/{sid}/Messages.json): HTTP Basic sid:token (401, code
  20003), form fields To (E.164, else 400 code 21211), From or MessagingServiceSid, Body.
  201 with an SM sid.
- Webhook (POST /sms-webhook): with a secret, X-Postbox-Timestamp within 5 minutes and
  X-Postbox-Signature = "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)) (401).

Rules make a number fail: set_rule(number, status=503, times=2) answers 503 twice, then
accepts; twilio_code=21610 answers Twilio's error with that code. received(provider) lists
what was accepted."""

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.parse

from fake_http import FakeHttpServer

SENS_SERVICE_ID = "ncp:sms:kr:1234567890:postbox-test"
SENS_ACCESS_KEY = "sens-access-key-test"
SENS_SECRET_KEY = "sens-secret-key-test"
SENS_FROM = "0212345678"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "twilio-auth-token-test"
TWILIO_FROM = "+15005550006"
WEBHOOK_SECRET = "webhook-secret-test"

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


class FakeSmsProviders(FakeHttpServer):
    def __init__(self):
        super().__init__()
        self.messages = []   # (provider, dict) accepted
        self.rules = {}      # number -> {"status", "times", "twilio_code"}

    def handle(self, path, headers, body):
        if path.startswith("/sms/v2/services/"):
            return self._sens(path, headers, body)
        if path.startswith("/2010-04-01/Accounts/"):
            return self._twilio(path, headers, body)
        if path == "/sms-webhook":
            return self._webhook(headers, body)
        return 404, {"error": "no such path"}

    # --- test controls ---
    def set_rule(self, number, status=None, times=1000000, twilio_code=None):
        with self.lock:
            self.rules[number] = {"status": status, "times": times, "twilio_code": twilio_code}

    def clear_rule(self, number):
        with self.lock:
            self.rules.pop(number, None)

    def received(self, provider=None):
        with self.lock:
            return [m for p, m in self.messages if provider in (None, p)]

    def wait_for_match(self, provider, match, timeout=20):
        """The first accepted message of `provider` for which match(message) holds."""
        return self.wait_until(
            lambda: next((m for m in self.received(provider) if match(m)), None),
            "%s got no matching message" % provider, timeout)

    def wait_for(self, provider, count, timeout=20):
        got = self.wait_until(lambda: len(self.received(provider)) >= count and
                              self.received(provider),
                              "%s got fewer than %d message(s)" % (provider, count), timeout)
        return got

    # --- shared ---
    def _refuse(self, provider, status, reason, answer):
        return self.refuse(provider, status, reason, answer)

    def _rule_for(self, number):
        """The failure the rules ask for on this number, counting it down, or None."""
        with self.lock:
            rule = self.rules.get(number)
            if not rule or rule["times"] <= 0:
                return None
            rule["times"] -= 1
            return dict(rule)

    @staticmethod
    def _fresh(timestamp, unit):
        try:
            return abs(time.time() - int(timestamp) / unit) <= 300
        except ValueError:
            return False

    # --- SENS ---
    def _sens(self, target, headers, body):
        expected_target = "/sms/v2/services/%s/messages" % SENS_SERVICE_ID
        if target != expected_target:
            return self._refuse("sens", 404, "unknown service " + target,
                                {"status": "404", "errorMessage": "Not Found"})
        timestamp = headers.get("x-ncp-apigw-timestamp", "")
        access = headers.get("x-ncp-iam-access-key", "")
        signature = headers.get("x-ncp-apigw-signature-v2", "")
        to_sign = "POST %s\n%s\n%s" % (target, timestamp, access)
        expected = base64.b64encode(hmac.new(SENS_SECRET_KEY.encode(), to_sign.encode(),
                                             hashlib.sha256).digest()).decode()
        if access != SENS_ACCESS_KEY or not self._fresh(timestamp, 1000) or \
                not hmac.compare_digest(signature, expected):
            return self._refuse("sens", 401, "authentication",
                                {"errorCode": "200", "message": "Authentication Failed"})
        if not headers.get("Content-Type", "").startswith("application/json"):
            return self._refuse("sens", 400, "content type", {"status": "400"})
        try:
            message = json.loads(body)
            content = message["content"]
            size = len(content.encode("cp949"))
        except (ValueError, KeyError, UnicodeEncodeError) as e:
            return self._refuse("sens", 400, "body: %r" % e, {"status": "400"})
        kind = message.get("type")
        limit = {"SMS": 90, "LMS": 2000}.get(kind)
        recipients = message.get("messages") or []
        if limit is None or size > limit or message.get("from") != SENS_FROM or \
                not str(message.get("countryCode", "82")).isdigit() or \
                not 1 <= len(recipients) <= 100 or \
                not all(str(r.get("to", "")).isdigit() for r in recipients) or \
                message.get("contentType", "COMM") not in ("COMM", "AD"):
            return self._refuse("sens", 400, "invalid body %r" % message, {"status": "400"})
        number = "+" + message.get("countryCode", "82") + recipients[0]["to"].lstrip("0")
        rule = self._rule_for(number)
        if rule and rule["status"]:
            return self._refuse("sens", rule["status"], "rule", {"status": str(rule["status"])})
        message["euc_kr_bytes"] = size
        with self.lock:
            self.messages.append(("sens", message))
        return 202, {"requestId": "RSSA-%d" % len(self.messages), "statusCode": "202",
                     "statusName": "success"}

    # --- Twilio ---
    def _twilio(self, target, headers, body):
        if target != "/2010-04-01/Accounts/%s/Messages.json" % TWILIO_SID:
            return self._refuse("twilio", 404, "unknown account",
                                {"code": 20404, "message": "not found", "status": 404})
        credentials = base64.b64encode(("%s:%s" % (TWILIO_SID, TWILIO_TOKEN)).encode()).decode()
        if headers.get("Authorization", "") != "Basic " + credentials:
            return self._refuse("twilio", 401, "authentication",
                                {"code": 20003, "message": "Authenticate", "status": 401})
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(),
                                                          keep_blank_values=True).items()}
        to = form.get("To", "")
        if not E164.match(to):
            return self._refuse("twilio", 400, "To", {
                "code": 21211, "message": "The 'To' number %s is not a valid phone number." % to,
                "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})
        if form.get("From") != TWILIO_FROM and not form.get("MessagingServiceSid") or \
                not form.get("Body"):
            return self._refuse("twilio", 400, "From/Body", {"code": 21603, "status": 400,
                                                             "message": "From or Body missing"})
        rule = self._rule_for(to)
        if rule and rule["twilio_code"]:
            return self._refuse("twilio", 400, "rule", {
                "code": rule["twilio_code"], "message": "refused by rule", "status": 400})
        if rule and rule["status"]:
            return self._refuse("twilio", rule["status"], "rule",
                                {"code": 20500, "status": rule["status"], "message": "rule"})
        with self.lock:
            self.messages.append(("twilio", form))
            sid = "SM%032x" % len(self.messages)
        return 201, {"sid": sid, "status": "queued", "to": to, "error_code": None}

    # --- webhook ---
    def _webhook(self, headers, body):
        timestamp = headers.get("X-Postbox-Timestamp", "")
        expected = "v1=" + hmac.new(WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
        if not self._fresh(timestamp, 1) or \
                not hmac.compare_digest(headers.get("X-Postbox-Signature", ""), expected):
            return self._refuse("webhook", 401, "signature", {"error": "bad signature"})
        message = json.loads(body)
        rule = self._rule_for(message.get("phoneNumber"))
        if rule and rule["status"]:
            return self._refuse("webhook", rule["status"], "rule", {"error": "rule"})
        with self.lock:
            self.messages.append(("webhook", message))
        return 200, {"ok": True}
