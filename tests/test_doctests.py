"""The ``Example:`` sections of the library's docstrings run, and every public layer has one (issue 11).

Every module of ``mmgen_lib`` is run through ``doctest`` (``>>>`` lines must print what the
docstring says), and every public Keras layer or loss of the modules learners build layers
from must show a runnable example, as Keras' own layers do.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import keras
import pytest

import mmgen_lib

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(mmgen_lib.__path__, "mmgen_lib.") if not m.name.endswith("__main__")
)
LAYER_MODULES = ("encoders", "fusion", "decoders", "losses")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    keras.utils.set_random_seed(0)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} fail (see above)"


@pytest.mark.parametrize("module_name", LAYER_MODULES)
def test_every_public_layer_shows_an_example(module_name):
    module = importlib.import_module(f"mmgen_lib.{module_name}")
    public = getattr(module, "__all__", [n for n in dir(module) if not n.startswith("_")])
    classes = [
        getattr(module, n)
        for n in public
        if inspect.isclass(getattr(module, n))
        and issubclass(getattr(module, n), (keras.layers.Layer, keras.losses.Loss))
        and getattr(module, n).__module__ == module.__name__
    ]
    assert classes, f"no public layers found in mmgen_lib.{module_name}"
    missing = [cls.__name__ for cls in classes if "Example:" not in (cls.__doc__ or "") or ">>>" not in cls.__doc__]
    assert not missing, f"add a runnable 'Example:' section to the docstrings of {missing} (mmgen_lib.{module_name})"
