"""What a number was measured on: hardware, accelerator and library versions."""

from __future__ import annotations

import os
import platform
import resource
import sys
from functools import lru_cache


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def accelerators() -> list[dict]:
    """GPUs/TPUs TensorFlow can see, with their names where TensorFlow reports them."""
    import tensorflow as tf

    found = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        found.append(
            {
                "type": "GPU",
                "name": details.get("device_name", device.name),
                "compute_capability": details.get("compute_capability"),
            }
        )
    found += [{"type": "TPU", "name": d.name} for d in tf.config.list_logical_devices("TPU")]
    return found


@lru_cache(maxsize=1)
def environment_info() -> dict:
    """A JSON-serialisable description of this machine and the library versions in use."""
    import keras
    import numpy
    import psutil
    import sklearn
    import tensorflow as tf

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    accel = accelerators()
    cpu = f"{cores}-core {_cpu_model()}"
    hardware = ", ".join([d["name"] for d in accel] + [cpu]) if accel else f"{cpu} (no GPU)"
    return {
        "hardware": hardware,
        "cpu": _cpu_model(),
        "cpu_cores": cores,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "accelerators": accel,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "scikit_learn": sklearn.__version__,
    }


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return usage / 2**20 if sys.platform == "darwin" else usage / 2**10
