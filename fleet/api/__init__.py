"""The fleet's HTTP API: routers per resource (routes/), shared dependencies (deps.py)."""
