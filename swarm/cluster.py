"""The swarm itself: made of this engine if it is in none, and a node labelled for the data."""

from swarm.engine import SwarmError, docker, say
from swarm.settings import setting


def ensure_swarm() -> None:
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    if state == "inactive":
        advertise = setting("SWARM_ADVERTISE_ADDR")
        init = ["swarm", "init", *(["--advertise-addr", advertise] if advertise else [])]
        result = docker(*init, check=False)
        if result.returncode != 0:
            raise SwarmError(
                f"docker swarm init failed: {result.stderr.strip()}\n"
                "Set SWARM_ADVERTISE_ADDR to this node's address, or join a swarm first."
            )
        say("this engine is now a one-node swarm (`docker swarm leave --force` undoes it)")
    elif state != "active":
        raise SwarmError(f"this engine's swarm is {state}: see `docker info`")
    if docker("info", "--format", "{{.Swarm.ControlAvailable}}").stdout.strip() != "true":
        raise SwarmError("run this on a manager node of the swarm")


def ensure_data_node(label: str) -> None:
    """The node that holds the volumes (the database, the static files) carries `label`;
    this manager gets it unless a node has it already."""
    nodes = docker("node", "ls", "--quiet").stdout.split()
    labels = docker(
        "node", "inspect", "--format", f'{{{{index .Spec.Labels "{label}"}}}}', *nodes
    ).stdout.split()
    if "true" not in labels:
        node = docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
        docker("node", "update", "--label-add", f"{label}=true", node)
        say(f"labelled this node {label}=true: db, nginx and the migrate job run here")
