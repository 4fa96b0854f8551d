"""Record the shared-memory transpose pair in Numba's CUDA simulator and save the traces the app ships.

The bank-conflicts view draws these recorded traces (``assets/gpus/traces/``), so it needs no worker
and an export draws the same pixels anywhere; ``tests/test_hardware_banks.py`` holds the shipped files
equal to a fresh recording. Run from the repository root after changing ``gpuviz/kernels/transpose.py``:
``python scripts/record_transpose_traces.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gpuviz.engine import Engine  # noqa: E402
from gpuviz.model.hardware.banks import SHIPPED_TRANSPOSE_TRACES, bank_conflicts  # noqa: E402


def main() -> int:
    with Engine() as eng:
        for padded, name in SHIPPED_TRANSPOSE_TRACES.items():
            res = eng.call_in_worker("gpuviz.engine.hardware:record_transpose", n=32, padded=padded)
            if not res["ok"]:
                print(f"record_transpose_traces: the {'padded ' if padded else ''}transpose is wrong", file=sys.stderr)
                return 1
            path = ROOT / "assets" / "gpus" / "traces" / name
            res["trace"].save(path)
            bc = bank_conflicts(res["trace"])
            print(f"wrote {path.relative_to(ROOT)}: {len(res['trace'])} events, worst conflict {bc.max_degree}-way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
