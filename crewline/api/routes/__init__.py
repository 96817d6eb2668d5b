"""``/api/v1/``: the open API (Django Ninja, OpenAPI 3 at ``/api/v1/openapi.json``, docs at
``/api/v1/docs`` from the package's own files).

Views are thin: reads go through the organization (another organization's object is a 404),
each checks its scope first (403) and answers with the resource's schema (``schemas.py``);
writes go through the apps' services inside ``base._write``. One module per group of
resources; ``base`` holds the API object and what they share.
"""

from crewline.api.routes import billing, customers, team, webhooks, work_orders  # noqa: F401
from crewline.api.routes.base import api

__all__ = ["api"]
