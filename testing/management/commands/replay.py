"""Replay collections from the command line, for CI: a line per request, an exit status.

    python manage.py replay "AzureML batch flow" --junit report.xml
    python manage.py replay --all --concurrency 4 --fail-fast

Exits 0 when every request of every collection passed and 1 otherwise (a
CommandError, so `call_command` raises it and the shell sees status 1).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from testing import replay
from testing.actions import CollectionNotFound, find_collection
from testing.junit import junit_xml
from testing.models import Collection, Run, RunStatus
from testing.retry_after import RetryNote


class Command(BaseCommand):
    help = (
        "Replay collections (by id or exact name, or --all) and report each request: "
        "exit status 1 when any check failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("collections", nargs="*", metavar="COLLECTION", help="Id or name.")
        parser.add_argument("--all", action="store_true", help="Replay every collection.")
        parser.add_argument("--junit", metavar="FILE", help="Write a JUnit XML report there.")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=1,
            help="Requests of a collection sent at once (default 1: in order; a collection "
            "that extracts variables always runs in order).",
        )
        parser.add_argument(
            "--fail-fast",
            action="store_true",
            help="Stop at the first failed request; the remaining collections are not run.",
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Whose history the calls go into (default: each collection's owner); "
            "the user must be allowed to run the collections.",
        )

    def handle(self, *args, **options) -> None:
        if not 1 <= options["concurrency"] <= replay.MAX_CONCURRENCY:
            raise CommandError(f"--concurrency must be from 1 to {replay.MAX_CONCURRENCY}.")
        collections = self._collections(names=options["collections"], every=options["all"])
        user = self._user(username=options["user"], collections=collections)
        self._lock = threading.Lock()
        started = time.monotonic()
        runs: list[Run] = []
        for collection in collections:
            run = self._run(collection=collection, user=user, options=options)
            runs.append(run)
            if options["fail_fast"] and run.status != RunStatus.PASSED:
                break
        elapsed = time.monotonic() - started
        if options["junit"]:
            self._write_junit(path=options["junit"], runs=runs)
        failed = self._summary(runs=runs, collections=collections, elapsed=elapsed)
        if failed:
            raise CommandError(f"{_count(failed, 'request')} failed.")

    def _collections(self, *, names: list[str], every: bool) -> list[Collection]:
        if every and names:
            raise CommandError("Name collections or give --all, not both.")
        if every:
            found = list(Collection.objects.select_related("owner").order_by("name", "id"))
            if not found:
                raise CommandError("There are no collections (python manage.py load_demo).")
            return found
        if not names:
            raise CommandError("Name at least one collection (id or exact name), or give --all.")
        try:
            return [find_collection(reference=name) for name in names]
        except CollectionNotFound as error:
            raise CommandError(str(error)) from None

    def _user(self, *, username: str | None, collections: list[Collection]) -> User | None:
        """The --user, checked against every collection before anything is sent."""
        if username is None:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise CommandError(f'No active user "{username}".')
        runnable = set(
            Collection.objects.runnable_by(user)
            .filter(pk__in=[c.pk for c in collections])
            .values_list("pk", flat=True)
        )
        refused = [c.name for c in collections if c.pk not in runnable]
        if refused:
            raise CommandError(f"{username} may not run: {', '.join(refused)}.")
        return user

    def _run(self, *, collection: Collection, user: User | None, options) -> Run:
        runner = user or collection.owner
        self.stdout.write(self.style.MIGRATE_HEADING(f"{collection.name} (as {runner})"))
        names = collection.requests.values_list("name", flat=True)
        self._width = max((len(name) for name in names), default=0)
        return replay.run_collection(
            collection=collection,
            user=runner,
            concurrency=options["concurrency"],
            fail_fast=options["fail_fast"],
            on_step=self._print_step,
        )

    def _print_step(self, outcome: replay.StepOutcome) -> None:
        # Called from the run's worker threads when the concurrency is above 1.
        line = step_line(outcome, width=self._width)
        style = self.style.SUCCESS if outcome.passed else self.style.ERROR
        with self._lock:
            self.stdout.write(style(line))

    def _summary(self, *, runs: list[Run], collections: list[Collection], elapsed: float) -> int:
        steps = [step for run in runs for step in run.steps.all()]
        passed = sum(1 for step in steps if step.passed)
        failed = len(steps) - passed
        not_run = sum(c.requests.count() for c in collections) - len(steps)
        summary = f"{_count(len(steps), 'request')}, {passed} passed, {failed} failed"
        if not_run > 0:
            summary += f", {not_run} not run"
        summary += f" in {elapsed:.1f} s"
        self.stdout.write((self.style.ERROR if failed else self.style.SUCCESS)(summary))
        return failed

    def _write_junit(self, *, path: str, runs: list[Run]) -> None:
        try:
            Path(path).write_text(junit_xml(runs=runs), encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}") from None
        self.stdout.write(f"JUnit report: {path}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def step_line(outcome: replay.StepOutcome, *, width: int = 0) -> str:
    """PASS  BES Submit  200  35 ms, or FAIL with what failed at the end; a passed step
    that waited out a Retry-After says so at the end."""
    exchange = outcome.exchange
    if exchange is not None and exchange.status_code is not None:
        answer = str(exchange.status_code)
    elif exchange is not None and exchange.error_kind:
        answer = exchange.error_kind
    else:
        answer = "-"
    parts = [
        "PASS" if outcome.passed else "FAIL",
        outcome.saved.name.ljust(width),
        answer,
        f"{outcome.duration_ms:.0f} ms",
    ]
    if outcome.tries > 1:
        parts[-1] += f" ({outcome.tries} tries)"
    if not outcome.passed:
        parts.append(failure_text(outcome))
    else:
        parts += [r.label for r in outcome.check_results if isinstance(r, RetryNote)]
    return "  ".join(parts)


def failure_text(outcome: replay.StepOutcome) -> str:
    if outcome.error:
        return outcome.error
    failed = [r for r in outcome.check_results if not r.passed]
    return "; ".join(f"{r.label}: {r.detail}" if r.detail else r.label for r in failed)
