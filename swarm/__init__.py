"""The stack on Docker Swarm: compose.yaml with swarm/compose.swarm.yaml on top, deployed by
`python -m swarm` (the `make swarm-*` targets). Delete this folder, and the include line in
the Makefile, and the project has no Swarm part left."""
