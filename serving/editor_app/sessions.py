"""Editing sessions as trees of turns, one per browser tab, kept in memory by the app.

Each turn keeps its image and the state the model returned, so an edit can continue from any
turn: a branch. The server keeps no per-user state; these sessions are the client's side of
the contract.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
import uuid

import numpy as np

from serving.editor_app.backend import EditorError


@dataclasses.dataclass
class Turn:
    """One node of a session: the start image (turn 0) or an edit's answer.

    Attributes:
        id: index in the session's `turns` (0 is the start image).
        parent: the turn this one edited (None for the start).
        text: the edit ("" for the start).
        image: uint8 [S, S, 3], as the model sees or drew it.
        state: float32 [state_dim], the state after this turn.
        tokens: the words the model read.
        attention: float32 [h, w, max_words] (None for the start).
        version: the model version that answered (None for the start).
        client_ms: the gRPC client's time for the call.
        design: the design the model holds after this turn, {attribute: [(value, p), ...]}
            (None when the export does not return it, and for the start).
    """

    id: int
    parent: int | None
    text: str
    image: np.ndarray
    state: np.ndarray
    tokens: list[str] = dataclasses.field(default_factory=list)
    attention: np.ndarray | None = None
    version: int | None = None
    client_ms: float = 0.0
    design: dict[str, list[tuple[str, float]]] | None = None


@dataclasses.dataclass
class Session:
    """A tab's session: every turn ever made, and its source ("upload" / "example ...")."""

    id: str
    turns: list[Turn] = dataclasses.field(default_factory=list)
    source: str = ""
    reference: list[str] = dataclasses.field(default_factory=list)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)
    last_used: float = dataclasses.field(default_factory=time.monotonic)

    def turn(self, turn_id: int) -> Turn:
        if not self.turns:
            raise EditorError("no_session", "Start from an image first (upload or example).")
        if not 0 <= turn_id < len(self.turns):
            raise EditorError("bad_turn", f"This session has no turn {turn_id}.", 404)
        return self.turns[turn_id]

    def path(self, turn_id: int) -> list[Turn]:
        """The turns from the start image to `turn_id`."""
        turns = []
        current: int | None = turn_id
        while current is not None:
            turns.append(self.turn(current))
            current = turns[-1].parent
        return turns[::-1]

    def restart(self, image: np.ndarray, state: np.ndarray, source: str, reference=()) -> Turn:
        self.turns = [Turn(0, None, "", image, state)]
        self.source = source
        self.reference = list(reference)
        return self.turns[0]

    def add(self, parent: int, **fields) -> Turn:
        self.turn(parent)
        turn = Turn(id=len(self.turns), parent=parent, **fields)
        self.turns.append(turn)
        return turn


class SessionStore:
    """Sessions by id, at most `max_sessions` (the least recently used go first) and none idle
    longer than `idle_s`.

    Args:
        max_sessions: how many sessions are kept.
        idle_s: a session unused this long is dropped.
        max_turns: turns per session (a runaway script cannot fill the memory).
    """

    def __init__(self, max_sessions: int = 500, idle_s: float = 6 * 3600, max_turns: int = 500):
        self.max_sessions = max_sessions
        self.idle_s = idle_s
        self.max_turns = max_turns
        self._sessions: collections.OrderedDict[str, Session] = collections.OrderedDict()
        self._lock = threading.Lock()

    def _expire(self) -> None:
        now = time.monotonic()
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if len(self._sessions) <= self.max_sessions and now - oldest.last_used < self.idle_s:
                break
            self._sessions.popitem(last=False)

    def create(self) -> Session:
        with self._lock:
            session = Session(id=uuid.uuid4().hex)
            self._sessions[session.id] = session
            self._expire()
            return session

    def get(self, session_id: str) -> Session:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise EditorError(
                    "unknown_session",
                    "This session is no longer on the app (it was restarted or the session "
                    "expired). Start again from an image.",
                    404,
                )
            session.last_used = time.monotonic()
            self._sessions.move_to_end(session_id)
            return session

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
