"""``crewline vapid-keys``: print a new VAPID key pair for Web Push."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand
from py_vapid import Vapid


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class Command(BaseCommand):
    help = "Print a new VAPID key pair for Web Push, as environment variables."

    def handle(self, *args, **options) -> None:
        vapid = Vapid()
        vapid.generate_keys()
        private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
        public = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
        self.stdout.write(f"VAPID_PRIVATE_KEY={_b64url(private)}\n"
                          f"VAPID_PUBLIC_KEY={_b64url(public)}\n")
