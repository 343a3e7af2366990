"""The checks' side of one check run: the learner's process, the channel and ``nb``.

One learner process serves the visible checks, a fresh one the hidden checks (so nothing a
hidden check passed in can show in a visible check's message), and a fresh one again after a
check left a call unfinished (it timed out, or the process died). Each check gets the
notebook's module executed afresh in that process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labgrader.harness.channel import Channel, ChannelClosed
from labgrader.harness.learner import ENGINE_VARIABLES
from labgrader.harness.process import Zygote, kill, not_dumpable
from labgrader.harness.proxy import CallbackRunner, ChecksCodec, NotebookProxy


class LearnerSession:
    """The learner's process of a check run, as the checks see it.

    Args:
        submission_path: The module built from the notebook.
        close_fds: Descriptors the learner's side must never hold.
        on_flag: Called with what the notebook tried that its process's guard refused.
    """

    def __init__(
        self,
        submission_path: Path,
        *,
        close_fds: tuple[int, ...] = (),
        on_flag: Callable[[str], None] | None = None,
    ) -> None:
        self.zygote = Zygote(submission_path, close_fds=close_fds)
        not_dumpable()
        self.on_flag = on_flag
        self.proxy = NotebookProxy()
        self.runner = CallbackRunner(self.proxy)
        object.__setattr__(self.proxy, "_nb_runner", self.runner)
        self._pid: int | None = None
        self._channel: Channel | None = None
        self._hidden = False
        self.started = 0
        """How many learner processes this run started."""

    def _handle(self, op: str, payload: Any) -> Any:
        if op == "callback":
            cid, args, kwargs, context = payload
            fn = self.proxy._nb_callbacks.get(int(cid))
            return self.runner.call(fn, list(args), dict(kwargs), activity=context)
        if op == "cancel":
            self.runner.cancel(int(payload))
            return None
        if op == "attribute":
            cid, name = payload
            return getattr(self.proxy._nb_callbacks.get(int(cid)), str(name))
        if op == "flag":
            if self.on_flag is not None:
                self.on_flag(str(payload))
            return None
        raise ValueError(f"the learner's process asked for {op!r}, which the checks do not serve")

    def _start(self) -> Channel:
        pid, sock = self.zygote.spawn()
        self._pid = pid
        self.started += 1
        channel = Channel(sock, ChecksCodec(self.proxy), self._handle)
        channel.unsolicited = lambda request: self.runner.unsolicited(channel, request)  # type: ignore[method-assign]
        self._channel = channel
        return channel

    def _stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._pid is not None:
            kill(self._pid)
            self._pid = None

    def module(self, *, hidden: bool) -> NotebookProxy:
        """``nb`` for one check: the notebook's module, freshly executed in a learner process.

        Raises:
            ChannelClosed: When the learner's process died while building the module.
        """
        channel = self._channel
        if channel is None or channel.closed or channel.busy or hidden != self._hidden:
            self._stop()
            self._hidden = hidden
            channel = self._start()
        try:
            engines = {k: os.environ[k] for k in ENGINE_VARIABLES if k in os.environ}
            report = channel.request("load", engines)
        except ChannelClosed as exc:
            self._stop()
            raise ChannelClosed(
                f"the notebook's process ended while its cells ran ({exc}): look for code at "
                "the top level of a cell that exits, crashes or uses too much memory"
            ) from None
        self.proxy._nb_attach(channel, list(report["errors"]))
        return self.proxy

    def close(self) -> None:
        """Stop the learner's process and the zygote."""
        self._stop()
        self.zygote.close()


__all__ = ["LearnerSession"]
