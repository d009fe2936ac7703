"""Proof by building: `dockopt fix --measure` builds and runs the original and the rewrite
on the user's own Docker engine and reports what was measured.

    engine.py     the `docker` command: build, inspect, run, clean up (labelled, never pushed)
    steps.py      which build steps BuildKit took from its cache
    workspace.py  temporary copies of the build context; the source-only change
    prove.py      one Dockerfile: build both, run both, drop the changes that break it
    report.py     the measurement as text and as JSON

It sits above the optimizer (it reruns the pipeline without the transforms it drops) and
below the ways in (cli, bot), which choose the transforms and print the report.
"""
