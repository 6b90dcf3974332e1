"""Developer tooling shared by the e2e tests and the benchmarks (not part of the deployed panel)."""
