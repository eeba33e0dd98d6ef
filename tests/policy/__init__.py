"""Tests of the policy rules, the engine and the CrossGuard pack."""
