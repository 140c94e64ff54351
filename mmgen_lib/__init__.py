"""mmgen_lib: the tested helper library of the *Multimodal Generation, step by step* course.

One module per concept; each lesson's header names the module it builds:

- ``utils``     seeding, paths, environment check, results reporting   (lesson 00)
- ``data``      ShapesWorld, tokenizer, spectrograms, tf.data pipelines (lesson 01)
- ``checks``    friendly self-checks for the exercises                  (every lesson)

Importing the package has no side effects and does not import TensorFlow;
modules are imported on first use (``mmgen_lib.data``, ``from mmgen_lib import data``).
"""

import importlib

__version__ = "0.1.0"

_MODULES = (
    "utils", "data", "tokenizer", "pipeline", "checks", "encoders", "fusion", "losses", "retrieval", "metrics",
    "probe", "decoders", "generation", "models", "viz", "widgets", "own_data",
    "training", "course",
)


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'mmgen_lib' has no attribute {name!r}")
