"""SMS backends: how a text message leaves the portal.

``LIANXIN_SMS_BACKEND`` names one (a dotted path). ``ConsoleBackend`` (the
default) writes the message to the log, for development and the demo;
``HttpGatewayBackend`` speaks the shape most Chinese SMS gateways share: a
signed HTTPS POST naming a sign name (签名), a template code (模板 ID) and its
parameters as JSON, and the caller's own id (``out_id``) for the gateway to
de-duplicate; the answer carries ``Code`` ("OK") and a ``BizId``.

A backend sends one message and returns the gateway's id, or raises
``SendError`` (``retryable`` says whether another attempt may succeed).
"""

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("center.sms")


class SendError(Exception):
    """A message that did not leave (SMS or email); ``retryable``: another
    attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Sms:
    to: str  # an 11-digit mainland mobile
    text: str  # the whole text as the recipient reads it (console, logs)
    template: str  # the gateway's template code for this message key ("" if none)
    params: dict  # the template's parameters (strings)
    out_id: str  # our delivery key: the gateway de-duplicates on it


class ConsoleBackend:
    """Logs the message (development, the demo, tests that read the log)."""

    def send(self, sms: Sms) -> str:
        log.info("SMS to %s: %s", sms.to, sms.text)
        return f"console-{sms.out_id}"


class HttpGatewayBackend:
    """A typical Chinese SMS gateway over HTTPS (httpx).

    Settings (``LIANXIN``): ``SMS_GATEWAY_URL``, ``SMS_GATEWAY_KEY_ID``,
    ``SMS_GATEWAY_SECRET`` (signs the body: HMAC-SHA256, hex, with a
    timestamp), ``SMS_SIGN_NAME`` (【连心】), ``SMS_TIMEOUT`` seconds.
    A 5xx, a 429 or 408, a timeout, a refused connection or throttling may
    pass next time (retryable); another 4xx or a business error code (bad
    number, template not approved) will not."""

    def __init__(self):
        conf = settings.LIANXIN
        self.url = conf["SMS_GATEWAY_URL"]
        self.key_id = conf["SMS_GATEWAY_KEY_ID"]
        self.secret = conf["SMS_GATEWAY_SECRET"].encode()
        self.sign_name = conf["SMS_SIGN_NAME"]
        self.timeout = conf["SMS_TIMEOUT"]

    def _signed(self, body: bytes) -> dict:
        stamp = str(int(time.time()))
        digest = hmac.new(self.secret, stamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/json; charset=utf-8",
            "X-Sms-Key-Id": self.key_id,
            "X-Sms-Timestamp": stamp,
            "X-Sms-Signature": digest,
        }

    def send(self, sms: Sms) -> str:
        if not sms.template:
            raise SendError("no gateway template for this message", retryable=False)
        body = json.dumps(
            {
                "PhoneNumbers": sms.to,
                "SignName": self.sign_name,
                "TemplateCode": sms.template,
                "TemplateParam": json.dumps(sms.params, ensure_ascii=False),
                "OutId": sms.out_id,
            },
            ensure_ascii=False,
        ).encode()
        try:
            response = httpx.post(
                self.url, content=body, headers=self._signed(body), timeout=self.timeout
            )
        except httpx.HTTPError as exc:  # refused, reset, timed out
            raise SendError(f"gateway unreachable: {exc.__class__.__name__}") from exc
        # 429 (throttled) and 408 (the gateway gave up waiting) pass later too.
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise SendError(f"gateway error {response.status_code}")
        if response.status_code >= 400:
            raise SendError(f"gateway refused {response.status_code}", retryable=False)
        try:
            answer = response.json()
        except ValueError as exc:
            raise SendError("gateway answered something that is not JSON") from exc
        code = str(answer.get("Code", ""))
        if code != "OK":
            # Throttled by the gateway: try again later; anything else is final.
            retry = code in {"isv.BUSINESS_LIMIT_CONTROL", "Throttling", "ServiceUnavailable"}
            raise SendError(
                f"gateway code {code}: {answer.get('Message', '')}"[:300], retryable=retry
            )
        return str(answer.get("BizId", ""))


def backend():
    return import_string(settings.LIANXIN["SMS_BACKEND"])()
