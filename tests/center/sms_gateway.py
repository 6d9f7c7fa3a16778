"""A fake SMS gateway for tests: a real HTTP server on 127.0.0.1 that speaks
what ``center.sms.HttpGatewayBackend`` sends, answering the way a typical
Chinese gateway (Aliyun-like) does.

Request: ``POST`` a JSON body ``{"PhoneNumbers", "SignName", "TemplateCode",
"TemplateParam" (a JSON string), "OutId"}`` with the headers ``X-Sms-Key-Id``,
``X-Sms-Timestamp`` and ``X-Sms-Signature`` (HMAC-SHA256, hex, of
``timestamp + "\\n" + body`` with the secret).

Answers: ``{"Code": "OK", "BizId": ...}``; a business error as HTTP 200 with
another ``Code`` (``isv.MOBILE_NUMBER_ILLEGAL``, ``isv.SMS_TEMPLATE_ILLEGAL``,
``isv.SMS_SIGNATURE_ILLEGAL``, ``isv.INVALID_JSON_PARAM``, a template
variable longer than 35 characters ``isv.PARAM_LENGTH_LIMIT``, throttling
``isv.BUSINESS_LIMIT_CONTROL``); a bad signature or unknown key: HTTP 403.
It de-duplicates on ``OutId``: the same OutId again answers OK with the same
BizId and is not a second message.

Use the ``sms_gateway`` fixture (import it into a test module:
``from tests.center.sms_gateway import sms_gateway_fixture  # noqa: F401``): it starts
the server, points ``LIANXIN`` at it (``HttpGatewayBackend``, its URL, key and
secret, templates for a few message keys) and stops it afterwards. Tell it to
fail with ``gateway.fail(...)``; read ``gateway.messages`` (what a phone would
receive, once per OutId) and ``gateway.requests`` (every call and its verdict).
"""

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

KEY_ID = "LTAI-test-key"
SECRET = "fake-gateway-secret"
SIGN_NAME = "连心"
# Template codes for the message keys tests use most; a test may set its own.
TEMPLATES = {
    "requests.order.offered": "SMS_100001",
    "requests.order.assigned": "SMS_100002",
    "requests.order.urged": "SMS_100003",
}
MOBILE = re.compile(r"^1[3-9]\d{9}$")
CLOCK_SKEW_SECONDS = 900
PARAM_MAX_CHARS = 35
HTTP_CODES = {400: "InvalidParameter", 403: "Forbidden", 429: "Throttling"}


@dataclass
class Fault:
    """What the gateway does to the next request: answer ``status`` (an HTTP
    error), a business ``code`` (HTTP 200), or answer after ``delay`` seconds
    (the message is still sent: a client that gave up never learns it)."""

    status: int | None = None
    code: str | None = None
    message: str = ""
    delay: float = 0.0


class FakeSmsGateway:
    def __init__(
        self,
        *,
        key_id: str = KEY_ID,
        secret: str = SECRET,
        sign_name: str = SIGN_NAME,
        templates: set[str] | None = None,
        param_max_chars: int = PARAM_MAX_CHARS,
    ):
        self.key_id = key_id
        self.secret = secret.encode()
        self.sign_name = sign_name
        # Approved template codes; None: any code is approved.
        self.templates = templates
        # A template variable's longest value (Aliyun: 35 for names, addresses...).
        self.param_max_chars = param_max_chars
        self.messages: list[dict] = []  # accepted messages, one per OutId
        self.requests: list[dict] = []  # every request: headers, body, verdict
        self._biz_ids: dict[str, str] = {}
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- control ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/sms/send"

    def start(self) -> "FakeSmsGateway":
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def fail(
        self,
        *,
        status: int | None = None,
        code: str | None = None,
        message: str = "",
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests (after the signature check) fail so:
        ``status=500``/``400``, ``code="isv.BUSINESS_LIMIT_CONTROL"``, or
        ``delay=`` seconds before an otherwise normal answer."""
        with self._lock:
            self._faults += [Fault(status, code, message or code or "", delay)] * times

    def wait_for(self, what: str = "messages", count: int = 1, timeout: float = 10) -> list:
        """Wait until ``messages`` (or ``requests``) holds ``count`` items."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                items = list(getattr(self, what))
            if len(items) >= count:
                return items
            time.sleep(0.05)
        raise AssertionError(f"the gateway saw {len(items)} {what}, expected {count}")

    # --- the gateway's side ---------------------------------------------------------------

    def _answer(self, headers, raw: bytes) -> tuple[int, dict]:
        stamp = headers.get("X-Sms-Timestamp", "")
        expected = hmac.new(self.secret, stamp.encode() + b"\n" + raw, hashlib.sha256).hexdigest()
        record = {"key_id": headers.get("X-Sms-Key-Id", ""), "body": raw}
        with self._lock:
            self.requests.append(record)
        if headers.get("X-Sms-Key-Id") != self.key_id:
            return self._verdict(record, 403, "InvalidAccessKeyId.NotFound", "unknown key id")
        if not hmac.compare_digest(expected, headers.get("X-Sms-Signature", "")):
            return self._verdict(record, 403, "SignatureDoesNotMatch", "bad signature")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > CLOCK_SKEW_SECONDS:
            return self._verdict(record, 403, "InvalidTimeStamp.Expired", "stale timestamp")
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault and fault.delay:
            time.sleep(fault.delay)
        elif fault and fault.status:
            code = HTTP_CODES.get(fault.status, "ServiceUnavailable")
            return self._verdict(record, fault.status, code, fault.message)
        elif fault and fault.code:
            return self._verdict(record, 200, fault.code, fault.message)
        try:
            body = json.loads(raw)
            params = json.loads(body.get("TemplateParam") or "{}")
        except ValueError:
            return self._verdict(record, 200, "isv.INVALID_JSON_PARAM", "not JSON")
        out_id = body.get("OutId", "")
        with self._lock:
            if out_id and out_id in self._biz_ids:  # a retry of a message already sent
                return self._verdict(record, 200, "OK", "duplicate", biz_id=self._biz_ids[out_id])
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return self._verdict(record, 200, "isv.INVALID_JSON_PARAM", "params must be strings")
        if any(len(v) > self.param_max_chars for v in params.values()):
            return self._verdict(record, 200, "isv.PARAM_LENGTH_LIMIT", "parameter too long")
        if not MOBILE.match(str(body.get("PhoneNumbers", ""))):
            return self._verdict(record, 200, "isv.MOBILE_NUMBER_ILLEGAL", "invalid number")
        if body.get("SignName") != self.sign_name:
            return self._verdict(record, 200, "isv.SMS_SIGNATURE_ILLEGAL", "sign not approved")
        template = body.get("TemplateCode", "")
        if not template or (self.templates is not None and template not in self.templates):
            return self._verdict(record, 200, "isv.SMS_TEMPLATE_ILLEGAL", "template not approved")
        with self._lock:
            if out_id in self._biz_ids:  # the same OutId raced in meanwhile
                return self._verdict(record, 200, "OK", "duplicate", biz_id=self._biz_ids[out_id])
            biz_id = f"{900000000000 + len(self.messages) + 1}^0"
            if out_id:
                self._biz_ids[out_id] = biz_id
            self.messages.append(
                {
                    "phone": body["PhoneNumbers"],
                    "sign_name": body["SignName"],
                    "template": template,
                    "params": params,
                    "out_id": out_id,
                    "biz_id": biz_id,
                }
            )
        return self._verdict(record, 200, "OK", "sent", biz_id=biz_id)

    def _verdict(self, record, status, code, message, biz_id=None) -> tuple[int, dict]:
        record.update(status=status, code=code, verdict=message)
        answer = {"RequestId": str(uuid.uuid4()), "Code": code, "Message": message or code}
        if biz_id:
            answer["BizId"] = biz_id
        return status, answer

    def _handler_class(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = gateway._answer(self.headers, raw)
                out = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:  # the client gave up (a timeout): it never hears
                    pass

            def log_message(self, *args):  # quiet
                pass

        return Handler


@pytest.fixture(name="sms_gateway")
def sms_gateway_fixture(settings):
    """A running fake gateway; ``LIANXIN`` sends SMS to it through
    ``center.sms.HttpGatewayBackend`` with ``TEMPLATES``."""
    gateway = FakeSmsGateway().start()
    settings.LIANXIN = {
        **settings.LIANXIN,
        "SMS_BACKEND": "center.sms.HttpGatewayBackend",
        "SMS_GATEWAY_URL": gateway.url,
        "SMS_GATEWAY_KEY_ID": KEY_ID,
        "SMS_GATEWAY_SECRET": SECRET,
        "SMS_SIGN_NAME": SIGN_NAME,
        "SMS_TIMEOUT": 2,
        "SMS_TEMPLATES": {**settings.LIANXIN["SMS_TEMPLATES"], **TEMPLATES},
    }
    yield gateway
    gateway.stop()
