"""Progress of a long step (a graph build, a sweep) as it runs: a callback that hears
(task, done, total) after each unit of work, so a front end can draw a bar. Nothing here prints."""
from __future__ import annotations

from typing import Callable

Progress = Callable[[str, int, int], None]  # (what is running, units done, units in all)


class Steps:
    """The units of one task, counted: call it once per unit done (or with how many were); `report` (None: nobody listens)
    hears (task, done, total) each time, and (task, 0, total) when the task starts."""

    def __init__(self, report: Progress | None, task: str, total: int):
        self.report, self.task, self.total, self.done = report, task, total, 0
        if report is not None:
            report(task, 0, total)

    def __call__(self, units: int = 1) -> None:
        self.done += units
        if self.report is not None:
            self.report(self.task, self.done, self.total)
