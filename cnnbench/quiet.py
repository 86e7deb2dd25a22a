"""TensorFlow loaded without its start-up noise (imported first by ``cnnbench/__init__.py``).

On a machine without a GPU, TensorFlow's C++ side prints CUDA probing errors ("failed call to
cuInit"), oneDNN and CPU-feature notices and absl's "log messages before InitializeLog" line
while it loads. Some are written straight to the process's stderr before any log level applies,
so the import runs with file descriptor 2 pointed at /dev/null; exceptions still propagate and
are printed by Python afterwards. Setting ``TF_CPP_MIN_LOG_LEVEL`` yourself before importing
cnnbench keeps your level (0 shows everything).
"""

import os
import sys


def import_tensorflow_quietly() -> None:
    """Import TensorFlow (once) with its C++ start-up logging muted."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules or os.environ["TF_CPP_MIN_LOG_LEVEL"] != "3":
        import tensorflow  # noqa: F401

        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
