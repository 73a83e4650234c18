"""The product as the bench serves it: config.settings with one URL more, a signed-in page that
renders nothing (urls.py). Everything else, middleware and pages alike, is the product's own;
the extra URL comes last, so no other page resolves differently.
"""

# Where urls.py serves the signed-in empty page (the bench's load asks for it there).
EMPTY_PATH = "bench/signed-in-empty/"
