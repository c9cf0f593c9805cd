"""Dialects shipped with naiprompt but written as outside plugins would be.

They use only the public plugin API (:class:`naiprompt.dialects.Dialect`, the
AST, the errors) and are found through the ``naiprompt.dialects`` entry-point
group, exactly like a third-party package's dialect.

Example:
    >>> from naiprompt.contrib.comfy import Comfy
    >>> Comfy().attention("(a:1.2)")
    [('a', 1.2)]
"""
