"""The tools of the research note the project grew from, kept outside the grammar core.

naiprompt began as the tooling of the research note "NAI anime pure negative
prompt" (https://github.com/6DammK9/nai-anime-pure-negative-prompt). Two of its
tools are not about the prompt grammar at all, so they live here rather than
beside the dialects:

* :mod:`naiprompt.research.sizes`: image sizes for an aspect ratio under a pixel
  budget (the note's ``aspect512`` script) and the note's CFG hints per size;
* :mod:`naiprompt.research.step`: the note's "static emphasis" ``step`` tool, one
  global weight over a whole prompt, as a dialect-correct transform (registered
  under the name ``step``) and as ``seed_step``, which reproduces the note's own
  script, ``step.js``, byte for byte ("seed" names that script and the note's
  other code; the CLI's ``naiprompt step --seed-compat`` prints its output).

The modules are imported on first use (``naiprompt.research.sizes``).

Example:
    >>> import naiprompt
    >>> naiprompt.research.sizes.fit(16, 9)
    (640, 384)
    >>> naiprompt.render(naiprompt.apply("bad, comic", "step:-2"))
    '[[bad, comic]]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["sizes", "step"]

_MODULES = frozenset(__all__)


def __getattr__(name: str) -> ModuleType:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{name}")
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | _MODULES)
