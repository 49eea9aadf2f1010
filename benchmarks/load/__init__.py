"""Load benchmark: many simulated chargers against our full stack and against a baseline.

    python -m benchmarks.load throughput   # raise the rate until p99 > 500 ms or errors
    python -m benchmarks.load latency      # half the baseline's maximum rate: p50/p99
    python -m benchmarks.load idle         # 10,000 heartbeating chargers: memory per connection
    python -m benchmarks.load storm        # 5,000 chargers, kill -9 the server: time to re-boot all
    python -m benchmarks.load commands     # 200 RemoteStartTransaction through the HTTP API
    python -m benchmarks.load commands --rate 125 --command-rate 5   # ... under the default mix
    python -m benchmarks.load run --url ws://127.0.0.1:9000/ocpp/ --chargers 100 --rate 50

Each scenario starts, in turn, the baseline (`benchmarks/baseline.py`: the `ocpp` package on
`websockets`, in memory) and our full stack (gateway + Celery worker, `-c 2`, on the
fresh database `levity_loadbench`, a RabbitMQ virtual host of its own, Redis; gunicorn too for
`commands`), drives the same load against each, prints a table per run, the comparison ours /
baseline, and writes JSON to artifacts/loadbench/<scenario>.json.

Modules: `mix` (what a charger sends), `charger` (one simulated charger), `generator` (many per
process, several processes, progress bar), `stats` (outcomes and percentiles), `procstats`
(RSS/CPU with psutil), `systems` (starting what is measured), `report`, `scenarios`.
"""
