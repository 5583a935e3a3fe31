"""Executes one Jupyter notebook cell by cell in a kernel (nbclient), as Jupyter would.

Usage: python3 execute_notebook.py NOTEBOOK --kernel tslab [--write | --output FILE] [--timeout S]

Prints one JSON line: {"notebook": ..., "ok": true, "cells": N, "seconds": S} or, when a cell
fails, {"notebook": ..., "ok": false, "cell": i, "error": "..."} (i: the failing cell's
index among all cells, from 0), and exits 1. With --write the
executed notebook (outputs included) replaces the file atomically; with --output it is saved
there instead (the kernel still runs in the notebook's folder).
"""

import argparse
import json
import os
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--kernel", default="tslab")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--output")
    ap.add_argument("--timeout", type=int, default=900)
    args = ap.parse_args()

    path = os.path.abspath(args.notebook)
    nb = nbformat.read(path, as_version=4)
    nbformat.validator.normalize(nb)
    client = NotebookClient(
        nb,
        timeout=args.timeout,
        kernel_name=args.kernel,
        resources={"metadata": {"path": os.path.dirname(path)}},
    )
    failed = {}

    def on_cell_error(cell, cell_index, execute_reply):
        failed.setdefault("cell", cell_index)

    client.on_cell_error = on_cell_error
    started = time.time()
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    try:
        client.execute()
    except CellExecutionError as err:
        print(json.dumps({"notebook": path, "ok": False, "cell": failed.get("cell"), "error": str(err)[-4000:]}))
        return 1
    except Exception as err:  # kernel died, timeout: say which notebook
        print(json.dumps({"notebook": path, "ok": False, "cell": None, "error": f"{type(err).__name__}: {err}"[-4000:]}))
        return 1

    # An error output without a failed reply still fails the notebook.
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                msg = f"{out.get('ename')}: {out.get('evalue')}"
                print(json.dumps({"notebook": path, "ok": False, "cell": i, "error": msg}))
                return 1

    target = path if args.write else (os.path.abspath(args.output) if args.output else None)
    if target:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".ipynb.tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
            f.write("\n")
        # mkstemp makes the file private; give it the mode of the file it replaces (or 0644).
        os.chmod(tmp, os.stat(target).st_mode & 0o777 if os.path.exists(target) else 0o644)
        os.replace(tmp, target)
    print(json.dumps({"notebook": path, "ok": True, "cells": len(code_cells), "seconds": round(time.time() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
