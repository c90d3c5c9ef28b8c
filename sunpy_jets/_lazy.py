"""
Names of a package imported on first use (PEP 562), so that importing the package does not import torch.

A package lists its lazy names in a module-level ``_LAZY`` dict literal (public name → the submodule
that defines it) and takes its ``__getattr__`` and ``__dir__`` from `lazy_attributes`;
``tests/test_package_shape.py`` reads those dicts to count the imports they stand for in its cycle check.
"""

import importlib
import sys

__all__ = ["lazy_attributes"]


def lazy_attributes(package, names):
    """
    The ``__getattr__`` and ``__dir__`` of a package whose ``names`` are imported on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : dict
        Public name → name of the package's submodule that defines it.

    Returns
    -------
    tuple of callable
        ``(__getattr__, __dir__)``, to assign at the package's top level.

    Examples
    --------
    >>> from sunpy_jets._lazy import lazy_attributes
    >>> getattr_, dir_ = lazy_attributes("sunpy_jets", {"JetModelConfig": "model.config"})
    >>> getattr_("JetModelConfig").__name__
    'JetModelConfig'
    >>> getattr_("nothing")
    Traceback (most recent call last):
    ...
    AttributeError: module 'sunpy_jets' has no attribute 'nothing'
    """

    def __getattr__(name):
        if name in names:
            return getattr(importlib.import_module(f".{names[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
