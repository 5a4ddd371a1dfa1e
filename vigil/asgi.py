import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")

from vigil.core.bootstrap import load_demo_keys

load_demo_keys()

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()

# Load the bundled ZIP data now, not during the first report of a raid (about 0.7 s).
from vigil.core.geo import zip_centroid  # noqa: E402

zip_centroid("60608")
