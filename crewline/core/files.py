"""Answering a download of a stored file, after the view has checked who may have it.

Files live in the default storage: this machine's disk, or a private S3-compatible bucket
(``MEDIA_STORAGE=s3``). There is never a public URL for one. A view finds the object through
the organization's scoping and its role checks, then calls one of these:

- ``file_stream``: the bytes through this process. For files shown inside a page (photos,
  signatures, the logo) and the technician app's files: they stay on this site's origin, which
  the Content-Security-Policy (``img-src 'self'``) and the app's service worker require.
- ``file_download``: a file the browser saves or opens in a tab of its own (job reports,
  attachments). From a bucket it is a redirect to a signed URL of that one object that expires
  after ``MEDIA_SIGNED_URL_SECONDS``, so the web process does not carry the bytes; from the
  disk, or with ``MEDIA_SIGNED_URLS=false``, it is streamed as ``file_stream`` does.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header


def signs_urls(storage) -> bool:
    """Whether ``storage`` hands out signed, expiring URLs (the S3 backend does)."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is a dependency
        return False
    return isinstance(storage, S3Storage) and bool(storage.querystring_auth)


def file_stream(field_file: FieldFile, *, filename: str | None, content_type: str,
                as_attachment: bool = False, cache_control: str | None = None) -> FileResponse:
    """The file's bytes, streamed; a file missing from the storage is a 404."""
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is missing.") from exc
    response = FileResponse(handle, as_attachment=as_attachment, filename=filename or "",
                            content_type=content_type)
    if cache_control:
        response["Cache-Control"] = cache_control
    return response


def file_download(field_file: FieldFile, *, filename: str | None, content_type: str,
                  as_attachment: bool = True,
                  cache_control: str | None = None) -> HttpResponse:
    """A redirect to a short-lived signed URL when the storage gives them, else the bytes.

    The signed URL asks the bucket to answer with this name, type and disposition, so the
    browser saves or shows it as it would the streamed file."""
    storage = field_file.storage
    if not (settings.MEDIA_SIGNED_URLS and signs_urls(storage)):
        return file_stream(field_file, filename=filename, content_type=content_type,
                           as_attachment=as_attachment, cache_control=cache_control)
    url = storage.url(field_file.name, parameters={
        "ResponseContentType": content_type,
        "ResponseContentDisposition": (content_disposition_header(as_attachment, filename or "")
                                       or "inline"),
    }, expire=settings.MEDIA_SIGNED_URL_SECONDS)
    response = HttpResponseRedirect(url)
    # The URL stops working soon: nothing may keep the redirect for later.
    response["Cache-Control"] = "private, no-store"
    return response
