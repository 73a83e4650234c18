"""The harness the tests and the project's tools share: it drives the product from outside
(subprocesses, real servers, the Docker engine, a browser). Nothing in the product imports it."""
