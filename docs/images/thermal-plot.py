#!/usr/bin/python3
"""Makes docs/images/thermal-plot.png, the picture in docs/recording.md
"Plots": the thermal example on the step clock, recorded by thermal-sim,
plotted by sil-rec plot. 45 s of simulated time, a fraction of a second of
wall time, the same picture on every run.

    PYTHONPATH=build/python SIL_MODULE=thermal_sil /usr/bin/python3 docs/images/thermal-plot.py \\
        build/bin/thermal-sim docs/images/thermal-plot.png
"""

import sys
import tempfile
from pathlib import Path

from sil import ProcessTarget, SetPoint
from sil.rec import main as sil_rec


def main(sim: str, output: str) -> int:
    with tempfile.TemporaryDirectory() as work:
        recording = Path(work) / "thermal.silrec"
        with ProcessTarget(sim, rate_hz=100, clock="step", log_dir=work,
                           extra_args=["--record", str(recording)]) as target:
            target.advance(ms=1000)
            target.inject(SetPoint(setpoint_c=50.0))  # heat up from ambient, then hold 50 C
            target.advance(ms=29_000)
            target.inject(SetPoint(setpoint_c=60.0))  # a step up: heat again, then hold 60 C
            target.advance(ms=15_000)
            if target.close() != 0:
                return 1
        return sil_rec(["plot", str(recording), "PlantTemperature.temperature_c", "SetPoint.setpoint_c",
                        "HeaterCommand.power_w", "--title", "thermal-sim: heat-up, then a set point step",
                        "-o", output])


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} THERMAL_SIM OUT.png")
    sys.exit(main(sys.argv[1], sys.argv[2]))
