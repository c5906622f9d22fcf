"""The fleet operations: bring stacks up in parallel, verify them, tear them down, collect leftovers.

Every operation reports one `StackResult` per stack and never stops at the first failure: a broken
stack must not keep the others from being checked or destroyed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pulumi import automation as auto

from fleet.engine.cli import POLICY_PACK
from fleet.exit_codes import ExitCode, worst
from fleet.tools.ephemeral import naming
from fleet.tools.ephemeral.backend import FleetStack, StackFactory
from fleet.tools.ephemeral.console import Console
from fleet.tools.ephemeral.errors import describe
from fleet.tools.ephemeral.overrides import ClusterTarget, StackConfig, Tokens, derive, qualified
from fleet.tools.ephemeral.tags import CREATED_AT, EPHEMERAL, created_at, stack_tags
from fleet.tools.ephemeral.verify import ReadyCheck, check_outputs, target_of

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class PlannedStack:
    name: str
    target: ClusterTarget
    config: StackConfig
    tags: Mapping[str, str]


@dataclass(frozen=True)
class StackResult:
    name: str
    code: ExitCode
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code is ExitCode.OK


def outcome(results: Sequence[StackResult]) -> ExitCode:
    return worst(*(r.code for r in results))


def plan(
    base: Mapping[str, Any],
    *,
    prefix: str,
    run_id: str,
    base_stack: str,
    targets: Sequence[ClusterTarget],
    tokens: Tokens,
    created: datetime,
) -> list[PlannedStack]:
    """One stack per test cluster, named and tagged for this run."""
    planned = []
    for index, target in enumerate(targets):
        name = naming.stack_name(prefix, run_id, index)
        config = derive(base, stack_name=name, target=target, tokens=tokens)
        planned.append(PlannedStack(name, target, config, stack_tags(run_id, base_stack, created)))
    return planned


def in_plan_order(planned: Sequence[PlannedStack], names: Sequence[str]) -> list[str]:
    """`names` in plan order, whatever order the threads created them in."""
    return [p.name for p in planned if p.name in names]


def bounded(items: Sequence[T], work: Callable[[T], R], parallel: int) -> list[R]:
    """`work` over `items` on at most `parallel` threads, results in item order.

    On an interrupt, work not yet started is cancelled and running work is waited for, so the caller
    can tear down without racing a running update.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="fleet")
    try:
        futures = [pool.submit(work, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def configure(stack: FleetStack, config: StackConfig) -> None:
    """Write the plain config with its types kept, and put the tokens in the workspace's environment.

    The stack settings file already holds the secrets provider's salt from `stack init`; it is kept.
    The tokens go to the `pulumi` process's environment, where the program reads them (as
    secrets), never to its command line (`set_all_config` would put them there) or the stack file.
    """
    workspace = stack.workspace
    try:
        current = workspace.stack_settings(stack.name)
    except (FileNotFoundError, TypeError):
        current = auto.StackSettings()
    workspace.save_stack_settings(
        stack.name,
        auto.StackSettings(
            secrets_provider=current.secrets_provider,
            encrypted_key=current.encrypted_key,
            encryption_salt=current.encryption_salt,
            config=dict(config.plain),
        ),
    )
    workspace.env_vars = {**workspace.env_vars, **config.environment}


@dataclass
class Fleet:
    factory: StackFactory
    console: Console
    parallel: int = 4
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def up(self, planned: Sequence[PlannedStack], created: list[str]) -> list[StackResult]:
        """Create, tag, configure and `pulumi up` each stack.

        Each name is appended to `created` as soon as its stack exists, so a caller's `finally`
        can tear down what exists even when this call is interrupted.
        """

        def provision(item: PlannedStack) -> StackResult:
            try:
                stack = self.factory.create(item.name)
            except Exception as err:
                return self._failed(err, item.name, "create")
            with self._lock:
                created.append(item.name)
            try:
                for key, value in item.tags.items():
                    stack.set_tag(key, value)
                configure(stack, item.config)
                self.console.info(f"[{item.name}] pulumi up on {item.target.label}")
                # The project's policy pack, as on every `fleet up` (a folder of the work dir).
                stack.up(on_output=self.console.stream(item.name), policy_packs=[POLICY_PACK])
            except Exception as err:
                return self._failed(err, item.name, "up")
            return StackResult(item.name, ExitCode.OK, "up")

        return bounded(planned, provision, self.parallel)

    def verify(
        self, names: Sequence[str], ready: ReadyCheck | None, timeout: int
    ) -> list[StackResult]:
        """Check each stack's outputs and, if `ready` is given, that its FluxInstance is Ready."""

        def check(name: str) -> StackResult:
            try:
                stack = self.factory.select(name)
                config = {k: v.value for k, v in stack.get_all_config().items()}
                outputs = {k: v.value for k, v in stack.outputs().items()}
            except Exception as err:
                return self._failed(err, name, "verify")
            problems = check_outputs(
                outputs,
                cluster_name=config.get(qualified("clusterName")),
                environment=config.get(qualified("environment")),
            )
            if ready is not None:
                target = target_of(config)
                if target is None:
                    problems.append("no kubeContext or kubeconfig in its config")
                elif problem := ready(target, timeout):
                    problems.append(problem)
            if problems:
                message = f"{name}: " + "; ".join(problems)
                self.console.error(message)
                return StackResult(name, ExitCode.FAILED, message)
            return StackResult(name, ExitCode.OK, "verified")

        return bounded(names, check, self.parallel)

    def teardown(self, names: Sequence[str]) -> list[StackResult]:
        """Destroy and remove every stack, one after the other in the given order.

        A failed destroy is retried once after a refresh (the usual cause is state that no longer
        matches the cluster); a stack that still fails is kept, never force-removed with resources.
        """
        return [self._teardown_one(name) for name in names]

    def _teardown_one(self, name: str) -> StackResult:
        try:
            stack = self.factory.select(name)
        except auto.StackNotFoundError:
            self.console.info(f"[{name}] already removed")
            return StackResult(name, ExitCode.OK, "already removed")
        except Exception as err:
            return self._leftover(err, name, "select")
        stream = self.console.stream(name)
        try:
            stack.destroy(on_output=stream)
        except Exception as first:
            self.console.error(describe(first, name, "destroy").message + "\n(refresh and retry)")
            try:
                stack.refresh(on_output=stream)
                stack.destroy(on_output=stream)
            except Exception as second:
                return self._leftover(second, name, "destroy after refresh")
        try:
            stack.workspace.remove_stack(name)
        except Exception as err:
            return self._leftover(err, name, "remove")
        self.console.info(f"[{name}] destroyed and removed")
        return StackResult(name, ExitCode.OK, "removed")

    def find_run(self, prefix: str, run_id: str) -> list[str]:
        """The stacks of one run, by index."""
        indexed = []
        for summary in self.factory.list_stacks():
            index = naming.run_index(summary.name, prefix, run_id)
            if index is not None:
                indexed.append((index, naming.bare(summary.name)))
        return [name for _, name in sorted(indexed)]

    def stale(self, prefix: str, max_age: timedelta, now: datetime) -> list[str]:
        """Ephemeral stacks created more than `max_age` before `now` (leftovers of cancelled runs).

        Age comes from the creation tag, else the last update; a stack of unknown age is kept.
        """
        old = []
        for summary in self.factory.list_stacks():
            name = naming.bare(summary.name)
            if not naming.is_ephemeral(name, prefix):
                continue
            try:
                tags = self.factory.list_tags(name)
            except Exception as err:
                self.console.error(describe(err, name, "read tags").message)
                tags = {}
            if tags and tags.get(EPHEMERAL) != "true":
                continue  # tagged, but not by this command: someone else's stack
            created = created_at(tags) or _utc(summary.last_update)
            if created is None:
                self.console.info(f"[{name}] kept: age unknown (no {CREATED_AT} tag, no update)")
                continue
            age = now - created
            if age > max_age:
                self.console.info(f"[{name}] {_rounded(age)} old: stale")
                old.append(name)
            else:
                self.console.info(f"[{name}] kept: {_rounded(age)} old")
        return old

    def _failed(self, err: BaseException, name: str, action: str) -> StackResult:
        failure = describe(err, name, action)
        self.console.error(failure.message)
        return StackResult(name, failure.code, failure.message)

    def _leftover(self, err: BaseException, name: str, action: str) -> StackResult:
        failure = describe(err, name, action)
        self.console.error(failure.message)
        return StackResult(name, ExitCode.LEFTOVERS, failure.message)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rounded(age: timedelta) -> timedelta:
    return timedelta(seconds=int(age.total_seconds()))
