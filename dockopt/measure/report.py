"""What a proof says, as lines for the impact summary and as a dict for `--format json`.

Only what was measured: a figure that was not measured (a build that failed, no source file
to change) is said to be missing, never estimated.
"""

from __future__ import annotations

from dockopt.measure.prove import Proof, Side


def mb(size: int | None) -> str:
    if size is None:
        return "unknown"
    value = size / 1e6
    return f"{value / 1000:.2f} GB" if value >= 1000 else f"{value:.0f} MB" if value >= 10 else f"{value:.1f} MB"


def _image(side: Side | None) -> str:
    if side is None or not side.build.ok:
        return "does not build"
    return f"{mb(side.build.size)} ({side.build.layers} layers)"


def _rebuild(side: Side | None) -> str:
    if side is None or side.rebuild is None:
        return "not measured"
    if not side.rebuild.ok:
        return "does not build"
    runs = side.run_steps
    return f"{side.rebuild.seconds:.1f} s, {sum(s.cached for s in runs)} of {len(runs)} RUN step(s) cached"


def headline(proof: Proof) -> str | None:
    """One line for a pull request: `built and run: 1.02 GB -> 255 MB, same HTTP 200`."""
    o, r = proof.original, proof.rewrite
    if o is None or not o.build.ok:
        return "the original does not build" if o is not None else None
    if r is None or not r.build.ok:
        return "built: no rewrite passed; nothing changed" if proof.dropped else None
    same = o.behaviour is not None and r.behaviour is not None and o.behaviour.same_as(r.behaviour)
    run = ("same " + _behaviour_word(r)) if same else f"{o.behaviour.text()} -> {r.behaviour.text()}"
    return f"built and run: {mb(o.build.size)} -> {mb(r.build.size)}, {run}"


def _behaviour_word(side: Side) -> str:
    b = side.behaviour
    if b.port is not None:
        return f"HTTP {b.status}" if b.status is not None else "no HTTP answer"
    return "still running" if b.running else f"exit {b.exit_code} and output"


def to_lines(proof: Proof) -> list[str]:
    o, r = proof.original, proof.rewrite
    if o is None:
        return []
    lines = ["measured (built and run on this engine):"]
    if not o.build.ok:
        lines.append("  the original does not build:")
        lines += ["    " + ln for ln in o.build.tail.splitlines()]
        if r is not None:
            lines.append(f"  the rewrite: {'builds' if r.build.ok else 'does not build either'}")
        return lines
    lines.append(f"  image:       {_image(o)} -> {_image(r)}")
    if r is not None and r.build.ok:
        lines.append(f"  cold build:  {o.build.seconds:.1f} s -> {r.build.seconds:.1f} s")
        lines.append(f"  smoke run:   {o.behaviour.text()} -> {r.behaviour.text()}"
                     f" ({'same' if o.behaviour.same_as(r.behaviour) else 'DIFFERENT'})")
        change = f" (a comment added to {proof.source_change})" if proof.source_change else ""
        lines.append(f"  source-only rebuild{change}:")
        lines.append(f"               {_rebuild(o)} -> {_rebuild(r)}")
    for d in proof.dropped:
        why = d.reason.splitlines()
        lines.append(f"  dropped {d.transform}: {why[0]}")
        lines += ["    " + ln for ln in why[1:]]
    return lines


def _side(side: Side | None) -> dict | None:
    if side is None:
        return None
    entry: dict = {"builds": side.build.ok, "seconds": round(side.build.seconds, 2)}
    if side.build.ok:
        entry.update(size_bytes=side.build.size, layers=side.build.layers)
    else:
        entry["log_tail"] = side.build.tail
    if side.behaviour is not None:
        b = side.behaviour
        entry["smoke"] = {"port": b.port, "path": b.path, "status": b.status, "running": b.running,
                          "exit_code": b.exit_code, "summary": b.text()}
    if side.rebuild is not None:
        runs = side.run_steps
        entry["source_only_rebuild"] = {
            "builds": side.rebuild.ok, "seconds": round(side.rebuild.seconds, 2),
            "run_steps": len(runs), "run_steps_cached": sum(s.cached for s in runs),
            "steps": [{"stage": s.stage, "line": s.line, "instruction": s.keyword, "cached": s.cached}
                      for s in side.steps],
        }
    return entry


def to_dict(proof: Proof) -> dict:
    same = None
    if proof.original and proof.rewrite and proof.original.behaviour and proof.rewrite.behaviour:
        same = proof.original.behaviour.same_as(proof.rewrite.behaviour)
    return {
        "original": _side(proof.original),
        "rewrite": _side(proof.rewrite),
        "same_behaviour": same,
        "source_change": proof.source_change,
        "dropped": [{"transform": d.transform, "reason": d.reason} for d in proof.dropped],
        "headline": headline(proof),
    }
