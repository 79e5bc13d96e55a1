"""The savings benchmark's pure parts: dataset items, natural thinking lengths, the traffic mix,
proxy configurations and the aggregation of per-request results. No I/O beyond reading a file
in :func:`benchmarks.workloads.items.load_items`; no clock reads."""
