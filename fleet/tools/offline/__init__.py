"""Offline render and conformance: the program under the mock runtime, its manifests, the checks
against upstream schemas, and what the stack files say, with no CLI, cluster or credentials."""
