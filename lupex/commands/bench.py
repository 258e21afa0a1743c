"""`lupex bench NAME`: run a benchmark from bench/ and record its result for docs/performance.md.

Each benchmark is a module ``bench.<name>`` with ``main()`` that prints one JSON object. This
command runs it in a fresh interpreter (so one benchmark's memory never counts against the next),
stores the JSON in ``bench/results/<name>.json`` with the exact command and the machine it ran on,
and regenerates ``docs/performance.md`` from every stored result.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Final

import typer

ROOT: Final = Path(__file__).resolve().parents[2]
RESULTS: Final = ROOT / "bench" / "results"
BENCHMARKS: Final = (
    "decode", "history", "ingest", "latency", "overload", "sim_speed", "dashboard_memory",
)  # fmt: skip

bench_app = typer.Typer(help="Run the benchmarks and rewrite docs/performance.md.")


def _machine(load_before: tuple[float, float, float]) -> dict[str, object]:
    import psutil

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def run_one(name: str, extra: list[str]) -> dict[str, object]:
    argv = [sys.executable, "-m", f"bench.{name}", *extra]
    shown = " ".join(["python", "-m", f"bench.{name}", *extra])
    typer.echo(f"bench: running {shown}")
    started = time.time()
    load_before = os.getloadavg()
    proc = subprocess.run(  # noqa: S603 - argv built here from a fixed list
        argv, cwd=ROOT, capture_output=True, text=True, check=False
    )
    sys.stderr.write(proc.stderr[-4000:])
    if proc.returncode != 0:
        raise typer.Exit(proc.returncode)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    record = {
        "name": name,
        "command": f"lupex bench run {name}" + (" " + " ".join(extra) if extra else ""),
        "module_command": shown,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "wall_seconds": round(time.time() - started, 1),
        "machine": _machine(load_before),
        "result": result,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record


@bench_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(BENCHMARKS)}, or all.")],
    extra: Annotated[
        list[str] | None, typer.Argument(help="Options passed to the benchmark.")
    ] = None,
) -> None:
    """Run one benchmark (or all) and regenerate docs/performance.md."""
    names = BENCHMARKS if name == "all" else (name,)
    for n in names:
        if n not in BENCHMARKS:
            raise typer.BadParameter(f"unknown benchmark {n!r}; choose from {BENCHMARKS}")
        run_one(n, list(extra or []))
    report()


@bench_app.command("report")
def report() -> None:
    """Regenerate docs/performance.md from bench/results/*.json."""
    if str(ROOT) not in sys.path:  # bench/ sits beside the installed packages, in the checkout
        sys.path.insert(0, str(ROOT))
    from bench.report import render, render_summary, with_summary

    out = ROOT / "docs" / "performance.md"
    out.write_text(render(RESULTS))
    readme = ROOT / "README.md"
    readme.write_text(with_summary(readme.read_text(), render_summary(RESULTS)))
    typer.echo(f"bench: wrote {out.relative_to(ROOT)} and the summary in README.md")
