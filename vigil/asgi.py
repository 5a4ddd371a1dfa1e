import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")

from vigil.core.bootstrap import load_demo_keys

load_demo_keys()

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
