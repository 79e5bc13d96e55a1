"""The meter as the lifecycle sees it: open an entry, count its tokens, close it (or discard it).

``meter.hub.MeterHub`` satisfies it structurally; tests use a fake. Parameters are positional-only
so an implementation may name them as it likes (the hub says ``call_id``).
"""

from __future__ import annotations

from typing import Protocol

from thinkbudget_litellm.meter.hub import RequestEnergy


class MeterPort(Protocol):
    def request_started(
        self, entry_id: str, deployment_id: str, prompt_tokens: int, /, *, streaming: bool | None = None
    ) -> None:
        """Open ``entry_id`` on ``deployment_id``. ``streaming``: its tokens come with
        ``tokens_generated`` (True) or only at the close (False)."""

    def tokens_generated(self, entry_id: str, n: float, /) -> None:
        """``n`` tokens of the open entry just arrived."""

    def request_discarded(self, entry_id: str, /) -> None:
        """``entry_id`` ran nothing on the GPU (a cache hit): forget it without a share of any tick."""

    async def request_finished(self, entry_id: str, completion_tokens: int | None = None, /) -> RequestEnergy:
        """Close ``entry_id`` and return its energy and cost."""
        ...
