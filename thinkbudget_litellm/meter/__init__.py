"""meter: GPU energy and GPU-time cost per request, split fairly between concurrent requests.

- ``sources``: read a deployment's cumulative joules counter (NVML, DCGM exporter, configured-watts
  estimate). ``sources.nvml`` and the pure modules import without pydantic.
- ``validate``: what a believable counter reading is (finite, >= 0, not backwards, within the GPUs'
  power bound over the time it can span); rejected readings are billed from the labelled estimate.
- ``provenance``: where a figure came from (``EnergyProvenance``) and the label text records carry.
- ``counter``: successive counter readings -> interval energy (stale, error, rejected, reset handling).
- ``engine_tokens``: vLLM's own token counters, the denominator when proxy instances share a server.
- ``tick_shares``: how one tick's energy is split (pure).
- ``attribution``: the per-deployment ledger of ticks and requests (pure state machine).
- ``cost``: GPU-seconds and joules -> dollars (pure).
- ``config``: a deployment's meter settings (``MeterConfig``), built from the validated settings models.
- ``hub``: the imperative shell the LiteLLM handler calls (``MeterHub``, ``RequestEnergy``).

Nothing is imported here so that ``import thinkbudget_litellm.meter.sources.nvml`` stays light.
"""
