"""Tests of the d1 fleet program, run under the Pulumi mock runtime."""
