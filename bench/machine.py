"""What a benchmark ran on, written beside its figures: the cores, the CPU, how busy the
machine was, and the Python."""

import os
import platform


def machine() -> dict:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
                "",
            )
    except OSError:
        pass  # not Linux: the model is left out
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
