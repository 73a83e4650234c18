"""Print the role the app's database connection uses, and what that role may do."""

import json

from django.db import connection

with connection.cursor() as cursor:
    cursor.execute(
        "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
        "WHERE rolname = current_user"
    )
    user, superuser, createrole, createdb = cursor.fetchone()
print(
    json.dumps(
        {"user": user, "superuser": superuser, "createrole": createrole, "createdb": createdb}
    )
)
