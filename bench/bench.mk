# --- Bench ------------------------------------------------------------------------------
# wrk on loopback against ceilings measured in the same run (bare nginx, a hello view), then
# build and start-up times (bench/README.md). BENCH_SECONDS=3 for a quick run; ARGS=--help
# for the options.

.PHONY: bench
bench: venv ## Measure: load vs ceilings, build and start-up (bench/results/latest.json)
	$(UV) run --no-sync python -m harness.postgres -- python -m bench $(ARGS)
