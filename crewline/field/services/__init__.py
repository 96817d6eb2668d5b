"""Writes of the technician app, by concern: ``devices`` (registering, seen, revoking; the
organization's rules for the app), ``photos`` (uploads), ``push`` (a phone's batch of mutations,
each through the same service the office uses) and ``rejections``. PROTOCOL.md describes the
wire format."""

from crewline.field.services.devices import (
    FIELD_SETTINGS,
    SEEN_EVERY,
    device_check_in,
    device_register,
    device_revoke,
    device_seen,
    field_settings_update,
)
from crewline.field.services.photos import (
    MAX_PHOTO_BYTES,
    MAX_PHOTO_SIDE,
    image_to_jpeg,
    upload_store,
)
from crewline.field.services.push import (
    MAX_BATCH,
    MUTATIONS,
    PushResult,
    mutation_client_id,
    parse_client_time,
    push_apply,
)
from crewline.field.services.rejections import rejected_record, rejected_resolve

__all__ = ["FIELD_SETTINGS", "MAX_BATCH", "MAX_PHOTO_BYTES", "MAX_PHOTO_SIDE", "MUTATIONS",
           "SEEN_EVERY", "PushResult", "device_check_in",
           "device_register", "device_revoke", "device_seen",
           "field_settings_update", "image_to_jpeg", "mutation_client_id", "parse_client_time",
           "push_apply", "rejected_record", "rejected_resolve", "upload_store"]
