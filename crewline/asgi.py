import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crewline.settings")

# WhiteNoise serves static files as synchronous iterators; under ASGI Django consumes them in a
# thread and warns on every file. That is the expected cost for static files here.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")

application = get_asgi_application()
