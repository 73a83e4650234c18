"""Print whether the app's database connection uses TLS, and which version."""

import json

from django.db import connection

with connection.cursor() as cursor:
    cursor.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    ssl, version = cursor.fetchone()
print(json.dumps({"ssl": ssl, "version": version}))
