"""Fakes for kubernetes resources and invokes the program uses (see `infra.plan.fakes`)."""

from __future__ import annotations
