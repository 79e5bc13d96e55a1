"""Adaptive thinking budgets: calibrated per model group, tier and task from the records' censored
thinking lengths (survival: Kaplan-Meier; proposal: budgets per cell; explore; budgets: what a
proxy applies; refresher: its background refresh; source: the database reads; report: the CLI's)."""
