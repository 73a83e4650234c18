"""Log a warning with a line break in it and an error, as the app's code and Django's request
handling would, through the project's LOGGING settings."""

import logging

logging.getLogger("app").warning("two\nlines")
logging.getLogger("django.request").error("Internal Server Error: /x")
