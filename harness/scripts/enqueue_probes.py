"""Enqueue HARNESS_COUNT probe tasks (ops.tasks.probe) of HARNESS_SECONDS each, at most
HARNESS_RATE a second when given (else at once). Prints their ids."""

import json
import os
import time

from ops.tasks import probe

count = int(os.environ["HARNESS_COUNT"])
seconds = float(os.environ.get("HARNESS_SECONDS", "0"))
rate = float(os.environ.get("HARNESS_RATE", "0"))
started = time.monotonic()
ids = []
for n in range(count):
    if rate:
        time.sleep(max(0.0, started + n / rate - time.monotonic()))
    ids.append(probe.enqueue(seconds=seconds).id)
print(json.dumps(ids))
