"""Simulated reasoning backend: a test double that behaves like vLLM serving a DeepSeek-R1 distill.

Public API: :class:`SimConfig`, :class:`Style`, :func:`build_app`, :func:`run_server`, :class:`SimServer`.
"""

from thinkbudget_litellm.sim.config import SimConfig, Style
from thinkbudget_litellm.sim.harness import SimServer
from thinkbudget_litellm.sim.server import build_app, run_server

__all__ = ["SimConfig", "SimServer", "Style", "build_app", "run_server"]
