"""Which storage keeps uploaded and generated files, from the environment (``MEDIA_STORAGE``).

``local``: this machine's disk under ``MEDIA_ROOT``. ``s3``: an S3-compatible bucket (Amazon S3,
MinIO, Ceph, Garage, Cloudflare R2, ...) through django-storages, which every web and worker
process of an install shares, configured by the ``AWS_*`` variables below. Anything with a dot
is taken as the dotted path of a Django storage class.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from crewline.env import env_str

S3_BACKEND = "storages.backends.s3.S3Storage"


def media_storage(name: str, *, signed_url_seconds: int) -> dict:
    """The ``STORAGES["default"]`` entry for ``MEDIA_STORAGE=name``."""
    if name == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if name == "s3":
        return {"BACKEND": S3_BACKEND, "OPTIONS": s3_options(signed_url_seconds)}
    if "." in name:
        return {"BACKEND": name}
    raise ImproperlyConfigured(
        f"MEDIA_STORAGE={name!r}: use local, s3 or the dotted path of a storage class.")


def s3_options(signed_url_seconds: int) -> dict:
    addressing = env_str("AWS_S3_ADDRESSING_STYLE", "") or None
    if addressing not in (None, "auto", "path", "virtual"):
        raise ImproperlyConfigured(
            f"AWS_S3_ADDRESSING_STYLE={addressing!r}: use auto, path or virtual.")
    bucket = env_str("AWS_STORAGE_BUCKET_NAME", "")
    if not bucket:
        raise ImproperlyConfigured(
            "MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME, the bucket that keeps the files.")
    return {
        "bucket_name": bucket,
        # Empty: Amazon S3 itself; else the server's address (https://host:port).
        "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
        "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
        # Empty: boto3 finds credentials itself (an instance role, ~/.aws, ...).
        "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
        "secret_key": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
        "addressing_style": addressing,
        "signature_version": "s3v4",
        # A prefix inside the bucket, for a bucket shared with something else.
        "location": env_str("AWS_LOCATION", "").strip("/"),
        # The bucket's own setting, which must be private: no object is made public-read.
        "default_acl": None,
        # Every URL the storage makes is signed and expires: crewline.core.files hands one out
        # only after the view's access checks.
        "querystring_auth": True,
        "querystring_expire": signed_url_seconds,
        # Two processes saving one name keep two files, as on disk, instead of one overwriting.
        "file_overwrite": False,
    }
