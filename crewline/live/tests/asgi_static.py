"""The ASGI application with static files served from the apps, for browser tests against
uvicorn (the test settings leave WhiteNoise out and there is no collected STATIC_ROOT)."""

import os

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crewline.settings")

application = ASGIStaticFilesHandler(get_asgi_application())
