"""Prompt classifier: which thinking tier and task a chat request needs.

``classify(messages_or_text)`` is pure, deterministic and makes no model or network call.
"""

from thinkbudget_litellm.classify.classification import Classification
from thinkbudget_litellm.classify.classifier import classify, level_to_tier

__all__ = ["Classification", "classify", "level_to_tier"]
