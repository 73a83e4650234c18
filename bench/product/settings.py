"""The product's settings, with the bench's URLs (the product's and one more)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.product.urls"
