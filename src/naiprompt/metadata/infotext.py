"""WebUI's infotext: the "parameters" text AUTOMATIC1111 WebUI writes and reads.

:func:`parse_infotext` is WebUI v1.10.1's ``parse_generation_parameters`` with
its default settings (no styles defined, nothing skipped, back-compat on), value
types included; :func:`format_infotext` is how ``create_infotext`` joins and
quotes. Both are plain text functions: no Pillow needed.

Example:
    >>> text = format_infotext("a cat", "blurry", {"Steps": 20, "Seed": 1, "Size": "512x768"})
    >>> print(text)
    a cat
    Negative prompt: blurry
    Steps: 20, Seed: 1, Size: 512x768
    >>> parsed = parse_infotext(text)
    >>> parsed["Prompt"], parsed["Size-1"], parsed["Clip skip"]
    ('a cat', '512', '1')
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from naiprompt.defaults import A1111, GENERATOR_DIALECTS

__all__ = ["format_infotext", "infotext_items", "parse_infotext", "split_infotext"]

# WebUI's `re_param` is r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)': a key of two or more
# word/space/-/ characters starting with a word character, a colon, then a JSON-ish quoted string or anything
# up to the next comma. `_scan` finds the same matches in linear time (see there); the value part is
# WebUI's own sub-pattern, anchored after the colon.
_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
#: Lines up to this long go to WebUI's regex itself (its worst case there is a millisecond or so).
_SHORT_LINE = 1024
_SPACES = re.compile(r"\s*")
_KEY_RUN = re.compile(r"[\w \-/]*")
_WORD = re.compile(r"\w")
_VALUE = re.compile(r'\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_IMAGE_SIZE = re.compile(r"^(\d+)x(\d+)$")
_NEGATIVE = "Negative prompt:"


def _params(line: str) -> list[tuple[str, str]]:
    """``re_param.findall(line)``: the regex itself on short lines, :func:`_scan` on long ones."""
    if len(line) <= _SHORT_LINE:
        return _PARAM.findall(line)
    return _scan(line)


def _scan(line: str) -> list[tuple[str, str]]:
    """``re_param.findall(line)``, without the regex's quadratic backtracking on long colon-less runs.

    A match at a position needs: spaces, then a word character starting a run of key characters
    that is at least two long and ends exactly at a ':' (':' is not a key character, so the key is
    the whole run). When that fails, every later start inside the same spaces and run fails the
    same way, so the scan jumps past them; the value pattern after the colon always matches.
    """
    found: list[tuple[str, str]] = []
    pos, end = 0, len(line)
    while pos < end:
        key_start = _SPACES.match(line, pos).end()  # type: ignore[union-attr]
        if key_start >= end or not _WORD.match(line, key_start):
            pos = key_start + 1
            continue
        key_end = _KEY_RUN.match(line, key_start + 1).end()  # type: ignore[union-attr]
        if key_end - key_start < 2 or key_end >= end or line[key_end] != ":":
            pos = key_end
            continue
        value = _VALUE.match(line, key_end + 1)
        assert value is not None  # `[^,]*` then `,` or the end always matches
        found.append((line[key_start:key_end], value.group(1)))
        pos = value.end()
    return found


def _unquote(text: str) -> Any:
    # WebUI's `unquote`: JSON-decode "..." values, keep the text when that fails.
    if len(text) == 0 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def split_infotext(text: str) -> tuple[str, str, str]:
    """Split an infotext into ``(prompt, negative, parameters_line)`` by WebUI's rules.

    The last line holds the parameters only when WebUI's pattern matches it at
    least 3 times; otherwise it belongs to the prompt (or the negative prompt).

    Example:
        >>> split_infotext("a cat\\nNegative prompt: dog\\nSteps: 20, Seed: 1, Size: 64x64")
        ('a cat', 'dog', 'Steps: 20, Seed: 1, Size: 64x64')
        >>> split_infotext("a cat\\nSteps: 20")
        ('a cat\\nSteps: 20', '', '')
    """
    prompt, negative, last, _ = _split(text)
    return prompt, negative, last


def _split(text: str) -> tuple[str, str, str, list[tuple[str, str]]]:
    *lines, last = text.strip().split("\n")
    params = _params(last)
    if len(params) < 3:
        lines.append(last)
        last = ""
        params = []
    prompt: list[str] = []
    negative: list[str] = []
    in_negative = False
    for line in lines:
        line = line.strip()
        if line.startswith(_NEGATIVE):
            in_negative = True
            line = line[len(_NEGATIVE) :].strip()
        target = negative if in_negative else prompt
        if target or line:  # WebUI adds a "\n" only after a non-empty start: leading empty lines vanish
            target.append(line)
    return "\n".join(prompt), "\n".join(negative), last, params


def infotext_items(line: str) -> dict[str, str]:
    """The ``key: value`` items of a parameters line, values unquoted, in order.

    Unlike :func:`parse_infotext` this keeps ``WxH`` values whole and adds no
    defaults: the raw parameters as written. Later duplicates win, as in WebUI.

    Example:
        >>> infotext_items('Steps: 20, Size: 512x768, Lora hashes: "a: 1, b: 2"')
        {'Steps': '20', 'Size': '512x768', 'Lora hashes': 'a: 1, b: 2'}
    """
    items: dict[str, str] = {}
    for key, value in _params(line):
        if not value:
            continue  # WebUI drops an item with an empty value
        items[key] = str(_unquote(value))
    return items


def parse_infotext(text: str) -> dict[str, Any]:
    """WebUI v1.10.1's ``parse_generation_parameters`` with default settings.

    Keys ``Prompt`` and ``Negative prompt`` hold the texts; ``WxH`` values are
    split into ``KEY-1``/``KEY-2``; the defaults WebUI fills in are added with
    WebUI's value types (``"Clip skip": "1"``, ``"Hires resize-1": 0``, ...).

    Example:
        >>> res = parse_infotext("(cat:1.2)\\nSteps: 20, Sampler: Euler a, CFG scale: 7")
        >>> res["Steps"], res["Sampler"], res["Emphasis"], res["RNG"]
        ('20', 'Euler a', 'Original', 'GPU')
    """
    prompt, negative, _, params = _split(text)
    res: dict[str, Any] = {}
    for key, value in params:
        if not value:
            continue  # WebUI: IndexError on v[0], printed and skipped
        decoded = _unquote(value) if value[0] == '"' and value[-1] == '"' else value
        if isinstance(decoded, str) and (size := _IMAGE_SIZE.match(decoded)) is not None:
            res[f"{key}-1"] = size.group(1)
            res[f"{key}-2"] = size.group(2)
        else:
            res[key] = decoded

    # Styles: none are defined by default, so only the hires texts are normalised (equal -> "").
    if "Hires prompt" in res or "Hires negative prompt" in res:
        version = _parse_version(res.get("Version"))
        if version is None or (_V180_HR_STYLES is not None and version > _V180_HR_STYLES):
            hr_prompt = res.get("Hires prompt", prompt)
            hr_negative = res.get("Hires negative prompt", negative)
            res["Hires prompt"] = "" if hr_prompt == prompt else hr_prompt
            res["Hires negative prompt"] = "" if hr_negative == negative else hr_negative

    res["Prompt"] = prompt
    res["Negative prompt"] = negative
    res.setdefault("Clip skip", "1")
    hypernet = res.get("Hypernet")
    if hypernet is not None:
        res["Prompt"] += f"<hypernet:{hypernet}:{res.get('Hypernet strength', '1.0')}>"
    if "Hires resize-1" not in res:
        res["Hires resize-1"] = 0
        res["Hires resize-2"] = 0
    res.setdefault("Hires sampler", "Use same sampler")
    res.setdefault("Hires schedule type", "Use same scheduler")
    res.setdefault("Hires checkpoint", "Use same checkpoint")
    res.setdefault("Hires prompt", "")
    res.setdefault("Hires negative prompt", "")
    res.setdefault("Mask mode", "Inpaint masked")
    res.setdefault("Masked content", "original")
    res.setdefault("Inpaint area", "Whole picture")
    res.setdefault("Masked area padding", 32)
    _restore_old_hires_fix(res)
    res.setdefault("RNG", "GPU")
    res.setdefault("Schedule type", "Automatic")
    res.setdefault("Schedule max sigma", 0)
    res.setdefault("Schedule min sigma", 0)
    res.setdefault("Schedule rho", 0)
    res.setdefault("VAE Encoder", "Full")
    res.setdefault("VAE Decoder", "Full")
    res.setdefault("FP8 weight", "Disable")
    if "Cache FP16 weight for LoRA" not in res and res["FP8 weight"] != "Disable":
        res["Cache FP16 weight for LoRA"] = False
    if "Emphasis" not in res and _uses_emphasis(prompt, negative):
        res["Emphasis"] = "Original"
    res.setdefault("Refiner switch by sampling steps", False)
    _backcompat(res)
    return res


#: Most bracket work (runs times the brackets over them) spent on WebUI's exact emphasis check.
EMPHASIS_BUDGET = 2_000_000
_BRACKET_SEGMENTS = re.compile(r"\\.|[()\[\]]|:\s*[+-]?[.\d]+\s*\)|[^\\()\[\]]+|\\")


def _bracket_work(text: str) -> int:
    """About how many multiplications WebUI's ``parse_prompt_attention`` does on ``text``.

    Every closed bracket multiplies the runs appended since it opened, every unclosed one the runs
    up to the end: deep or unclosed nesting over many runs makes it quadratic.
    """
    runs = 0
    work = 0
    round_open: list[int] = []
    square_open: list[int] = []
    for token in _BRACKET_SEGMENTS.findall(text):
        if token == "(":
            round_open.append(runs)
        elif token == "[":
            square_open.append(runs)
        elif token.endswith(")") and round_open:
            work += runs - round_open.pop()
        elif token == "]" and square_open:
            work += runs - square_open.pop()
        else:
            runs += 1 + 2 * token.count("BREAK")
    return work + sum(runs - start for start in (*round_open, *square_open))


def _uses_emphasis(prompt: str, negative: str) -> bool:
    """WebUI's ``prompt_uses_emphasis``: a run of the prompt or negative weighs other than 1.

    Weights come only from brackets, so text without any has none. WebUI's own computation is
    quadratic on deep or unclosed nesting; past :data:`EMPHASIS_BUDGET` multiplications (hostile
    text, never a real prompt) the answer is taken as yes instead of spending minutes on it.
    """
    import warnings

    from naiprompt.api import attention
    from naiprompt.errors import PromptWarning

    texts = [text for text in (prompt, negative) if "(" in text or "[" in text]
    if not texts:
        return False
    # Cheap bound first (brackets times runs, and a run takes at least a character); count only when it is high.
    bound = sum((text.count("(") + text.count("[")) * (len(text) + 1) for text in texts)
    if bound > EMPHASIS_BUDGET and sum(_bracket_work(text) for text in texts) > EMPHASIS_BUDGET:
        return True
    with warnings.catch_warnings():  # a weight WebUI cannot read is WebUI's error, not this parser's
        warnings.simplefilter("ignore", PromptWarning)
        runs = [run for text in texts for run in attention(text, GENERATOR_DIALECTS[A1111])]
    return any(weight != 1.0 and text != "BREAK" for text, weight in runs)


def _restore_old_hires_fix(res: dict[str, Any]) -> None:
    # Infotexts of the old hires fix give the first pass size; convert it to size + hires resize.
    first_w, first_h = res.get("First pass size-1"), res.get("First pass size-2")
    if first_w is None or first_h is None:
        return
    try:
        fw, fh = int(first_w), int(first_h)
        width, height = int(res.get("Size-1", 512)), int(res.get("Size-2", 512))
        if fw == 0 or fh == 0:
            scale = math.sqrt(512 * 512 / (width * height))
            fw = math.ceil(scale * width / 64) * 64
            fh = math.ceil(scale * height / 64) * 64
    except (ValueError, ZeroDivisionError):
        return  # WebUI itself raises here; keep what was read
    res["Size-1"], res["Size-2"] = fw, fh
    res["Hires resize-1"], res["Hires resize-2"] = width, height


# --- WebUI's infotext_versions: PEP 440 versions of the "Version" field --------------------------------

_PEP440 = re.compile(
    r"""^\s*v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
    (?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_PRE_ORDER = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_Key = tuple[Any, ...]
_INF = math.inf


def _parse_version(text: object) -> _Key | None:
    """A sort key equal in order to ``packaging.version.parse`` (None when invalid)."""
    if not isinstance(text, str):
        return None
    head = re.match(r"([^-]+-[^-]+)-.*", text)
    if head:
        text = head.group(1)
    m = _PEP440.match(text)
    if m is None:
        return None
    release = [int(part) for part in m["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    pre: tuple[float, int]
    if m["pre"]:
        pre = (_PRE_ORDER[m["pre_l"].lower()], int(m["pre_n"] or 0))
    elif not m["post"] and m["dev"]:
        pre = (-_INF, 0)
    else:
        pre = (_INF, 0)
    post: float = -_INF if not m["post"] else int(m["post_n1"] or m["post_n2"] or 0)
    dev: float = _INF if not m["dev"] else int(m["dev_n"] or 0)
    return (int(m["epoch"] or 0), tuple(release), pre, post, dev)


_V160 = _parse_version("1.6.0")
_V170_TSNR = _parse_version("v1.7.0-225")
_V180 = _parse_version("1.8.0")
_V180_HR_STYLES = _parse_version("1.8.0-139")


def _backcompat(res: dict[str, Any]) -> None:
    # WebUI's infotext_versions.backcompat: options that reproduce older versions' behaviour.
    version = _parse_version(res.get("Version"))
    if version is None:
        return
    assert _V160 is not None and _V170_TSNR is not None and _V180 is not None
    if version < _V160 and "[" in res.get("Prompt", ""):
        res["Old prompt editing timelines"] = True
    if version < _V160 and res.get("Sampler", "") in ("DDIM", "PLMS"):
        res["Pad conds v0"] = True
    if version < _V170_TSNR:
        res["Downcast alphas_cumprod"] = True
    if version < _V180 and res.get("Refiner"):
        res["Refiner switch by sampling steps"] = True


# --- create_infotext ------------------------------------------------------------------------------------


def _quote(value: Any) -> Any:
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return value
    return json.dumps(value, ensure_ascii=False)


def format_infotext(prompt: str, negative: str, parameters: Mapping[str, Any]) -> str:
    """Join a prompt, a negative prompt and parameters exactly as WebUI's ``create_infotext``.

    Parameters whose value is None are dropped; a value is JSON-quoted when it
    contains ``,``, ``:`` or a newline; a key equal to its value stands alone.

    Example:
        >>> format_infotext("a cat", "", {"Steps": 20, "Lora hashes": "x: 1a2b", "Seed": None})
        'a cat\\nSteps: 20, Lora hashes: "x: 1a2b"'
    """
    params = ", ".join(
        key if key == value else f"{key}: {_quote(value)}" for key, value in parameters.items() if value is not None
    )
    negative_text = f"\n{_NEGATIVE} {negative}" if negative else ""
    return f"{prompt}{negative_text}\n{params}".strip()
