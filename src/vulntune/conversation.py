"""The conversation records every layer shares: a chat message, and a training example.

They sit below every package because they cross every boundary: `datasets` builds examples,
`models` renders them into prompt text (chat template or fallback), `training` tokenizes them
and `inference` asks a model with messages. They depend on nothing, so none of those packages
has to import another one upward to name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a conversation."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Example:
    """One conversation whose final assistant message is the training target."""

    id: str
    messages: tuple[Message, ...]

    @property
    def prompt_messages(self) -> tuple[Message, ...]:
        """Every turn before the target: what the model is given."""
        return self.messages[:-1]

    @property
    def completion(self) -> str:
        """The target: the final assistant message's text."""
        return self.messages[-1].content

    def to_dict(self) -> dict[str, str | list[dict[str, str]]]:
        """The canonical JSON form (the ``messages`` shape of the examples files)."""
        return {
            "id": self.id,
            "messages": [{"role": m.role, "content": m.content} for m in self.messages],
        }
