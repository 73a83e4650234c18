"""Print the settings named in HARNESS_SETTINGS (comma-separated) as one JSON object."""

import json
import os

from django.conf import settings

names = os.environ["HARNESS_SETTINGS"].split(",")
print(json.dumps({name: getattr(settings, name) for name in names}, default=str))
