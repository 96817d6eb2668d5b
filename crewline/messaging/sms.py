"""Text messages through a provider's API: an adapter per provider (Twilio first).

SMS is on only when the provider's credentials are set (``TWILIO_ACCOUNT_SID``,
``TWILIO_AUTH_TOKEN``, ``TWILIO_FROM``); without them every message goes by email and the
settings page says why. The API's address is a setting (``TWILIO_API_BASE``) so that a test
can point it at a local server that answers as Twilio does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

# Twilio's error for a number that replied STOP: it will refuse every text to it.
TWILIO_UNSUBSCRIBED = 21610


@dataclass(frozen=True)
class SmsSent:
    provider_id: str
    status: str


class SmsError(Exception):
    """The provider refused the message (``code`` its error code, if it gave one)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def opted_out(self) -> bool:
        return self.code == TWILIO_UNSUBSCRIBED


class SmsProvider(Protocol):
    def send(self, *, to: str, body: str, status_callback: str) -> SmsSent: ...

    def signature_valid(self, *, url: str, params: dict[str, str], signature: str) -> bool: ...


class TwilioSms:
    """Twilio's Messages API through the official ``twilio`` package."""

    def __init__(self, *, account_sid: str, auth_token: str, sender: str, base: str) -> None:
        self.account_sid, self.auth_token, self.sender = account_sid, auth_token, sender
        self.base = base.rstrip("/")

    def send(self, *, to: str, body: str, status_callback: str) -> SmsSent:
        from twilio.base.exceptions import TwilioException, TwilioRestException
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token,
                        http_client=TwilioHttpClient(timeout=settings.SMS_TIMEOUT_SECONDS))
        client.api.base_url = self.base
        try:
            sent = client.messages.create(to=to, from_=self.sender, body=body,
                                          status_callback=status_callback or None)
        except TwilioRestException as exc:
            raise SmsError(str(exc.msg or exc)[:300], code=exc.code) from exc
        except (TwilioException, OSError) as exc:
            raise SmsError(str(exc)[:300]) from exc
        return SmsSent(provider_id=sent.sid or "", status=sent.status or "queued")

    def signature_valid(self, *, url: str, params: dict[str, str], signature: str) -> bool:
        from twilio.request_validator import RequestValidator

        return bool(signature) and RequestValidator(self.auth_token).validate(
            url, params, signature)


def sms_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN
                and settings.TWILIO_FROM)


def sms_provider() -> SmsProvider | None:
    if not sms_configured():
        return None
    return TwilioSms(account_sid=settings.TWILIO_ACCOUNT_SID,
                     auth_token=settings.TWILIO_AUTH_TOKEN, sender=settings.TWILIO_FROM,
                     base=settings.TWILIO_API_BASE)


# Countries whose numbers are written with ten digits after the +1 of the shared plan.
NANP = {"US", "CA", "PR"}


def normalize_number(raw: str, country: str = "US") -> str:
    """``raw`` as E.164 (``+15551234567``), or "" when it cannot be told. An extension
    ("x123", "ext. 4") is dropped: texts cannot reach one."""
    text = re.split(r"(?i)\s*(?:x|ext\.?|#)\s*\d*$", (raw or "").strip())[0]
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return f"+{digits}" if 8 <= len(digits) <= 15 else ""
    if text.startswith("00") and 10 <= len(digits) <= 17:
        return f"+{digits[2:]}"
    if (country or "US").upper() in NANP:
        if len(digits) == 10:
            return f"+1{digits}"
        if len(digits) == 11 and digits.startswith("1"):
            return f"+{digits}"
    return ""
