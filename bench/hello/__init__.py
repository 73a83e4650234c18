"""The Django ceiling: one view, no middleware, no database, no templates.

`config.wsgi` with DJANGO_SETTINGS_MODULE=bench.hello.settings, under the project's gunicorn
settings and behind the project's nginx site: the most any page of the product could reach on
this machine. The bench divides the product's figures by it.
"""
