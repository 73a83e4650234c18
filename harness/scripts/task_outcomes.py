"""How the tasks whose ids HARNESS_IDS lists (comma-separated) stand: the count of each
status, the seconds from enqueue to start of the started ones (sorted), and the first
enqueue, first start and last finish (seconds since the epoch)."""

import json
import os

from django_tasks_db.models import DBTaskResult

ids = os.environ["HARNESS_IDS"].split(",")
results = list(DBTaskResult.objects.filter(id__in=ids))
statuses = {}
for result in results:
    statuses[result.status] = statuses.get(result.status, 0) + 1
started = [result for result in results if result.started_at]
finished = [result.finished_at for result in results if result.finished_at]
print(
    json.dumps(
        {
            "statuses": statuses,
            "missing": len(ids) - len(results),
            "waits": sorted((r.started_at - r.enqueued_at).total_seconds() for r in started),
            "first_enqueued": min((r.enqueued_at.timestamp() for r in results), default=None),
            "first_started": min((r.started_at.timestamp() for r in started), default=None),
            "last_finished": max((f.timestamp() for f in finished), default=None),
        }
    )
)
