"""Who sees what on the dashboard (pure): the proxy admin (the master key) sees every row, a team's
key sees its team's rows, anyone else is refused."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Viewer:
    """An authenticated dashboard caller: ``team_id`` None means every team (the proxy admin)."""

    team_id: str | None
    label: str  # what the page says about the scope

    @property
    def sees_all(self) -> bool:
        return self.team_id is None


def viewer_for(is_admin: bool, team_id: str | None) -> Viewer | None:
    """The scope of a caller LiteLLM authenticated: None when it may see nothing (no admin, no team)."""
    if is_admin:
        return Viewer(None, "all teams (proxy admin)")
    if team_id:
        return Viewer(team_id, f"team {team_id}")
    return None


def team_filter(viewer: Viewer, requested: str | None) -> str | None:
    """The team whose rows a query may return: the viewer's own, whatever it asked for; the admin's
    choice (None: all). Raises PermissionError when a team asks for another team's rows."""
    if viewer.sees_all:
        return requested or None
    if requested and requested != viewer.team_id:
        raise PermissionError(f"this key sees team {viewer.team_id!r} only, not {requested!r}")
    return viewer.team_id
