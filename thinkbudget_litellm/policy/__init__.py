"""policy: which thinking budget a request gets (tier defaults and per-scope overrides)."""

from thinkbudget_litellm.policy.budget import BudgetDecision, resolve_budget
from thinkbudget_litellm.policy.config_file import load_settings

__all__ = ["BudgetDecision", "load_settings", "resolve_budget"]
