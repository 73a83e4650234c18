"""How the tasks whose ids HARNESS_IDS lists (comma-separated) stand: the count of each
status, and for finished ones the seconds from enqueue to start, sorted."""

import json
import os

from django_tasks_db.models import DBTaskResult

ids = os.environ["HARNESS_IDS"].split(",")
results = DBTaskResult.objects.filter(id__in=ids)
statuses = {}
for result in results:
    statuses[result.status] = statuses.get(result.status, 0) + 1
waits = sorted(
    (result.started_at - result.enqueued_at).total_seconds()
    for result in results
    if result.started_at
)
print(json.dumps({"statuses": statuses, "waits": waits, "missing": len(ids) - len(results)}))
