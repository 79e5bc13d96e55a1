"""Energy sources: each reads one deployment's cumulative joules counter (see ``base.EnergyReader``)."""
