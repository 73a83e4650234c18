"""Whether each module HARNESS_MODULES names (comma-separated) was imported once the project's
settings were loaded."""

import json
import os
import sys

from django.conf import settings

settings.INSTALLED_APPS  # noqa: B018 - loads the settings
names = os.environ["HARNESS_MODULES"].split(",")
print(json.dumps({name: name in sys.modules for name in names}))
