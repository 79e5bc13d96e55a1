"""Prompt classifier: which thinking tier and task a chat request needs.

``classify(messages_or_text)`` is pure, deterministic and makes no model or network call: rules
read the request (``classify_rules``), and a learned linear stage turns what they found and the
ask's words into calibrated tier probabilities (``learned``).
"""

from thinkbudget_litellm.classify.classification import Classification
from thinkbudget_litellm.classify.classifier import classify, classify_rules, level_to_tier

__all__ = ["Classification", "classify", "classify_rules", "level_to_tier"]
