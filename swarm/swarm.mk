# --- Swarm ------------------------------------------------------------------------------
# The same stack on Docker Swarm: compose.yaml with swarm/compose.swarm.yaml on top, deployed
# by `python -m swarm` (swarm/README.md). SWARM_STACK names the stack (the project's name).

SWARM := $(UV) run --locked --no-sync python -m swarm

.PHONY: swarm-up
swarm-up: env venv certs ## Deploy to Docker Swarm: secrets from .env, db on a labelled node
	$(SWARM) up

.PHONY: swarm-migrate
swarm-migrate: env venv ## Run migrations and collectstatic as a Swarm job
	$(SWARM) migrate $(TAG)

.PHONY: swarm-scale
swarm-scale: venv ## Run N web replicas (and M workers): make swarm-scale N=4 WORKERS=2
	@test -n "$(N)" || { echo "usage: make swarm-scale N=4 [WORKERS=2]"; exit 1; }
	$(SWARM) scale $(N) $(if $(WORKERS),--workers $(WORKERS))

.PHONY: swarm-deploy
swarm-deploy: env venv certs ## Roll web over to another image tag: make swarm-deploy TAG=v2
	@test -n "$(TAG)" || { echo "usage: make swarm-deploy TAG=v2"; exit 1; }
	$(SWARM) deploy $(TAG)

.PHONY: swarm-down
swarm-down: venv ## Remove the Swarm stack (volumes and secrets are kept)
	$(SWARM) down
