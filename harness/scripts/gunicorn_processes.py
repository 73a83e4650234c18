"""Print gunicorn's processes in the web container as [[pid, parent pid, RSS in KiB], ...]:
PID 1 is the master (the image's CMD), the workers are its children. The image has no `ps`,
/proc says it all. Plain Python, run as `python -` (no Django needed)."""

import json
import os

found = []
for pid in sorted(filter(str.isdigit, os.listdir("/proc")), key=int):
    try:
        with open(f"/proc/{pid}/stat") as stat, open(f"/proc/{pid}/status") as status:
            fields, lines = stat.read(), status.readlines()
    except OSError:
        continue
    if "(gunicorn)" in fields or "(python" in fields:
        rss = [line.split()[1] for line in lines if line.startswith("VmRSS")]
        found.append(
            [int(pid), int(fields.rsplit(")", 1)[1].split()[1]), int(rss[0] if rss else 0)]
        )
print(json.dumps(found))
