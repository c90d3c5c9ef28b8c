"""
Display stretches (astropy's ``AsinhStretch``, ``SqrtStretch``, ``LogStretch``) and their inverses, once.

For NumPy arrays and torch tensors alike (``xp`` is the array module): the subject-render reader
(`sunpy_jets.datasets`) inverts them on NumPy arrays, the training scenes' render augmentation
(`sunpy_jets.synthetic.realistic.RenderAugment`) applies them to torch tensors. Needs nothing but the
array module, so the bare training path without astropy can import it.
"""

import math

__all__ = ["STRETCHES", "forward", "inverse"]

#: Names of the stretches.
STRETCHES = ("asinh", "linear", "sqrt", "log")


def _op(xp, name, numpy_name):
    # NumPy before 2.0 has only arcsinh and power; torch has only asinh and pow
    return getattr(xp, name, None) or getattr(xp, numpy_name)


def forward(x, stretch, a, xp):
    """Values in [0, 1] to display positions: ``asinh(x / a) / asinh(1 / a)``, ``log(a x + 1) / log(a + 1)``, ..."""
    if stretch == "asinh":
        return _op(xp, "asinh", "arcsinh")(x / a) / math.asinh(1.0 / a)
    if stretch == "log":
        return xp.log(a * x + 1.0) / math.log(a + 1.0)
    if stretch == "sqrt":
        return xp.sqrt(x)
    return x


def inverse(y, stretch, a, xp):
    """Display positions in [0, 1] back to values in [0, 1] (the inverse of `forward`)."""
    if stretch == "asinh":
        return a * xp.sinh(y * math.asinh(1.0 / a))
    if stretch == "log":
        return (_op(xp, "pow", "power")(a + 1.0, y) - 1.0) / a
    if stretch == "sqrt":
        return y * y
    return y
