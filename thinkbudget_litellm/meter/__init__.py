"""meter: GPU energy and GPU-time cost per request, split fairly between concurrent requests.

- ``sources``: read a deployment's cumulative joules counter (NVML, DCGM exporter, configured-watts
  estimate). ``sources.nvml`` and the pure modules import without pydantic.
- ``counter``: successive counter readings -> interval energy (stale, error, reset handling).
- ``engine_tokens``: vLLM's own token counters, the denominator when proxy instances share a server.
- ``tick_shares``: how one tick's energy is split (pure).
- ``attribution``: the per-deployment ledger of ticks and requests (pure state machine).
- ``cost``: GPU-seconds and joules -> dollars (pure).
- ``config``: a deployment's meter settings as plain values (``MeterConfig``).
- ``hub``: the imperative shell the LiteLLM handler calls (``MeterHub``, ``RequestEnergy``).

Nothing is imported here so that ``import thinkbudget_litellm.meter.sources.nvml`` stays light.
"""
