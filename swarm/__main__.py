"""The stack on Docker Swarm (the `make swarm-*` targets call this):

  up             deploy db, web, worker and nginx (the engine becomes a one-node swarm if it
                 is in none)
  migrate [TAG]  run the migrate job to completion: migrate, then collectstatic
  scale N [--workers M]  run N web replicas (and M workers)
  deploy TAG     migrate with the image tagged TAG, then roll web over to it
  down           remove the stack (volumes and secrets are kept)
  config [SERVICE...]  print the stack file that `up` deploys (no secret is in it)

Settings (environment, then .env; .env.example documents them): SWARM_STACK (the stack's
name, default the project's), NGINX_PORT, WEB_IMAGE, WEB_REPLICAS, WORKER_REPLICAS,
SWARM_DB_HOST, SWARM_TIMEOUT, SWARM_ADVERTISE_ADDR.
"""

import argparse
import sys

from swarm import commands
from swarm.engine import SwarmError


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m swarm", description=__doc__.splitlines()[0])
    choose = parser.add_subparsers(dest="command", required=True)
    choose.add_parser("up").set_defaults(run=commands.up)
    job = choose.add_parser("migrate")
    job.add_argument("tag", nargs="?", default="", help="another tag of the web image")
    job.set_defaults(run=commands.migrate)
    scaling = choose.add_parser("scale")
    scaling.add_argument("replicas", type=int, help="make swarm-scale N=4")
    scaling.add_argument("--workers", type=int, help="make swarm-scale N=4 WORKERS=2")
    scaling.set_defaults(run=commands.scale)
    rollout = choose.add_parser("deploy")
    rollout.add_argument("tag", help="make swarm-deploy TAG=v2")
    rollout.set_defaults(run=commands.deploy)
    choose.add_parser("down").set_defaults(run=commands.down)
    printing = choose.add_parser("config")
    printing.add_argument("services", nargs="*", help="db, web, nginx, migrate")
    printing.set_defaults(run=commands.show_config)
    args = parser.parse_args()
    try:
        args.run(args)
    except SwarmError as error:
        print(f"swarm: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
