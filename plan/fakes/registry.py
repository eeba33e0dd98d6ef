"""The tables the cloud fake modules fill: resource type token -> extra outputs, invoke token -> result."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FAKE_ACCOUNT = "123456789012"
FAKE_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="  # noqa: E501
"""Base64 of a syntactically valid, truncated PEM block: enough for kubeconfig builders, useless to anyone."""


@dataclass(frozen=True)
class Ctx:
    type_: str
    name: str
    inputs: dict[str, Any]
    stack: str

    def hex(self, length: int = 17) -> str:
        """A stable hex id derived from the resource, so plans are reproducible."""
        return hashlib.sha256(f"{self.type_}/{self.name}".encode()).hexdigest()[:length]


ResourceFake = Callable[[Ctx], dict[str, Any]]
InvokeFake = Callable[[dict[str, Any]], dict[str, Any]]
RESOURCES: dict[str, ResourceFake] = {}
INVOKES: dict[str, InvokeFake] = {}


def fake_resource(*types: str) -> Callable[[ResourceFake], ResourceFake]:
    def register(fn: ResourceFake) -> ResourceFake:
        for type_ in types:
            RESOURCES[type_] = fn
        return fn

    return register


def fake_invoke(*tokens: str) -> Callable[[InvokeFake], InvokeFake]:
    def register(fn: InvokeFake) -> InvokeFake:
        for token in tokens:
            INVOKES[token] = fn
        return fn

    return register
