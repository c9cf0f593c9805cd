"""ComfyUI's graphs: the API graph ("prompt") and the UI graph ("workflow"), walked back to the prompts.

Both graphs are first brought to the API shape, ``{node_id: {"class_type": ...,
"inputs": {name: literal or [source_id, output_index]}}}``. The sampler that
feeds the saved image is found by walking back from the save nodes; its
``positive`` and ``negative`` inputs are followed through conditioning nodes
(combine, concat, set area, ControlNet, unCLIP...) to the text encoders, whose
text inputs may themselves be links to primitive or string nodes. Every walk is
iterative and visits each node at most once.

Example:
    >>> graph = {
    ...     "1": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}},
    ...     "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    ...     "3": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 20, "cfg": 7.0,
    ...           "positive": ["1", 0], "negative": ["2", 0], "latent_image": ["5", 0]}},
    ...     "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768}},
    ... }
    >>> found = walk(graph)
    >>> found.prompt, found.negative, found.parameters["steps"], found.parameters["width"]
    ('a cat', 'blurry', 20, 512)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import attrs

__all__ = ["GraphPrompts", "api_from_workflow", "walk"]

Graph = dict[str, dict[str, Any]]

#: Widget names of common nodes in a UI graph, in ``widgets_values`` order.
_WIDGETS: dict[str, tuple[str, ...]] = {
    "CLIPTextEncode": ("text",),
    "CLIPTextEncodeSDXL": ("width", "height", "crop_w", "crop_h", "target_width", "target_height", "text_g", "text_l"),
    "CLIPTextEncodeSDXLRefiner": ("ascore", "width", "height", "text"),
    "KSampler": ("seed", "control_after_generate", "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "KSamplerAdvanced": (
        "add_noise",
        "noise_seed",
        "control_after_generate",
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "start_at_step",
        "end_at_step",
        "return_with_leftover_noise",
    ),
    "KSampler (Efficient)": (
        "seed",
        "control_after_generate",
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "denoise",
    ),
    "KSampler Adv. (Efficient)": (
        "add_noise",
        "noise_seed",
        "control_after_generate",
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "start_at_step",
        "end_at_step",
        "return_with_leftover_noise",
    ),
    "SamplerCustom": ("add_noise", "noise_seed", "control_after_generate", "cfg"),
    "RandomNoise": ("noise_seed", "control_after_generate"),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "KSamplerSelect": ("sampler_name",),
    "CFGGuider": ("cfg",),
    "FluxGuidance": ("guidance",),
    "CLIPTextEncodeFlux": ("clip_l", "t5xxl", "guidance"),
    "CLIPTextEncodeSD3": ("clip_l", "clip_g", "t5xxl", "empty_padding"),
    "ImpactWildcardEncode": ("wildcard_text", "populated_text", "mode"),
    "ImpactWildcardProcessor": ("wildcard_text", "populated_text", "mode"),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "EmptyLatentImage": ("width", "height", "batch_size"),
    "EmptySD3LatentImage": ("width", "height", "batch_size"),
    "CheckpointLoaderSimple": ("ckpt_name",),
    "CLIPSetLastLayer": ("stop_at_clip_layer",),
    "PrimitiveNode": ("value",),
    "PrimitiveString": ("value",),
    "PrimitiveStringMultiline": ("value",),
}
#: The values of the frontend's "control after generate" widget, which an unknown node's widgets may hold.
_SEED_CONTROLS = frozenset({"fixed", "increment", "decrement", "randomize"})
_TEXT_INPUTS = ("text", "text_g", "text_l", "prompt", "positive_prompt", "string", "value", "text_positive")
#: Text inputs of text-encoder nodes (CLIPTextEncode, SDXL, SD3, Flux and look-alikes).
_ENCODER_TEXTS = ("text", "text_g", "text_l", "clip_l", "clip_g", "t5xxl", "prompt")
#: String inputs that are settings, not text.
_NOT_TEXT = frozenset({"delimiter", "separator", "mode", "clean_whitespace", "seed", "control_after_generate"})
_NOT_CONDITIONING = frozenset(
    {
        "model",
        "clip",
        "vae",
        "image",
        "images",
        "pixels",
        "latent",
        "latent_image",
        "samples",
        "mask",
        "control_net",
        "clip_vision",
        "clip_vision_output",
        "style_model",
        "upscale_model",
        "noise",
        "sigmas",
        "sampler",
        "guider",
        "vae_optional",
    }
)
#: Lower-cased parts of the class names of nodes that save (or show) the final image.
_SAVE_HINTS = (
    "saveimage",
    "save image",
    "image save",
    "saveanimated",
    "previewimage",
    "imagesave",
    "saver",
    "save_image",
)
#: A prefix naiprompt gives, in a UI graph, to the widget value a link replaced (the text last typed there).
_WIDGET = "\0widget:"
#: Save nodes whose upstream graphs are compared (real graphs have a handful; a hostile one could have thousands).
_MAX_SAVES = 16
#: Longest text a graph walk builds (real prompts are a few thousand characters).
MAX_TEXT_CHARS = 1 << 20
#: Most characters all the string nodes of one walk may build together (each is capped too).
_STRINGS_BUDGET = 8 * MAX_TEXT_CHARS
#: Inputs a sampler has and a conditioning node (ControlNet, inpaint conditioning...) does not.
_SAMPLING_INPUTS = ("steps", "latent_image", "cfg", "seed", "noise_seed", "sigmas", "denoise")
_SAMPLER_PARAMS = ("seed", "noise_seed", "steps", "cfg", "sampler_name", "scheduler", "denoise")


@attrs.frozen
class GraphPrompts:
    """What :func:`walk` found: the texts, the sampler's settings and a note on the choice made.

    Example:
        >>> walk({}).prompt is None
        True
    """

    prompt: str | None
    negative: str | None
    parameters: dict[str, Any]
    notes: tuple[str, ...] = ()


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _is_link(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], (str, int))
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


def api_from_workflow(workflow: dict[str, Any]) -> Graph:
    """The UI graph brought to the API graph's shape (muted nodes left out; bypassed ones kept).

    Example:
        >>> wf = {"nodes": [{"id": 1, "type": "CLIPTextEncode", "inputs": [], "widgets_values": ["a cat"]}],
        ...       "links": []}
        >>> api_from_workflow(wf)
        {'1': {'class_type': 'CLIPTextEncode', 'inputs': {'text': 'a cat'}}}
    """
    links: dict[Any, tuple[str, int]] = {}
    for link in _list(workflow.get("links")):
        if isinstance(link, list) and len(link) >= 5 and isinstance(link[0], (int, str)):
            links[link[0]] = (str(link[1]), link[2] if isinstance(link[2], int) else 0)
        elif isinstance(link, dict) and isinstance(link.get("id"), (int, str)):  # newer serialisation
            slot = link.get("origin_slot")
            links[link["id"]] = (str(link.get("origin_id")), slot if isinstance(slot, int) else 0)
    graph: Graph = {}
    for node in _list(workflow.get("nodes")):
        if not isinstance(node, dict) or node.get("mode") == 2:  # 2: muted
            continue
        kind = str(node.get("type", ""))
        inputs: dict[str, Any] = {}
        widgets = node.get("widgets_values")
        if isinstance(widgets, dict):
            inputs.update(widgets)
        elif isinstance(widgets, list):
            names = _WIDGETS.get(kind)
            for index, value in enumerate(widgets):
                name = names[index] if names and index < len(names) else f"widget_{index}"
                inputs[name] = value
        for slot in _list(node.get("inputs")):
            if not isinstance(slot, dict):
                continue
            link = slot.get("link")
            if isinstance(link, (int, str)) and link in links:
                source, index = links[link]
                name = str(slot.get("name"))
                if isinstance(inputs.get(name), str):  # a widget turned into an input keeps its last text
                    inputs[_WIDGET + name] = inputs[name]
                inputs[name] = [source, index]
        graph[str(node.get("id"))] = {"class_type": kind, "inputs": inputs}
    return graph


def _is_sampler(node: dict[str, Any]) -> bool:
    inputs = node.get("inputs") or {}
    kind = str(node.get("class_type", ""))
    sampler_like = "Sampler" in kind or "sampler" in kind
    # KSampler & co. take positive/negative; SamplerCustomAdvanced takes a guider that holds them.
    # ControlNetApplyAdvanced & co. take positive and negative too, but no sampling settings.
    sampling = sampler_like or any(key in inputs for key in _SAMPLING_INPUTS)
    return ("positive" in inputs and sampling and (sampler_like or "negative" in inputs)) or (
        sampler_like and (_is_link(inputs.get("guider")) or _pipe(inputs) is not None)
    )


def _is_latent_sampler(node: dict[str, Any]) -> bool:
    inputs = node.get("inputs") or {}
    return "latent_image" in inputs or _pipe(inputs) is not None or _is_link(inputs.get("guider"))


def _pipe(inputs: dict[str, Any]) -> Any:
    """The pipe link of a pipe-based sampler (Efficiency, easy-use, Impact, tinyterra), or None."""
    return next((v for k, v in inputs.items() if "pipe" in k.lower() and _is_link(v)), None)


def _conditioning(graph: Graph, sampler_id: str) -> tuple[Any, Any]:
    """The links (or, for pipe loaders, the texts) a sampler's positive and negative conditioning come from."""
    inputs = graph[sampler_id].get("inputs") or {}
    if "positive" in inputs:
        return inputs.get("positive"), inputs.get("negative")
    pipe = _pipe(inputs)
    if pipe is not None and not _is_link(inputs.get("guider")):
        # The pipe carries what its loader encoded: the nearest node upstream with both texts.
        for node_id in _upstream(graph, str(pipe[0])):
            found = graph[node_id].get("inputs") or {}
            if "positive" in found and "negative" in found:
                positive, negative = found["positive"], found["negative"]
                if isinstance(positive, str) or isinstance(negative, str):
                    return _string(graph, positive) or "", _string(graph, negative) or ""
                return positive, negative
        return None, None
    guider: Any = inputs.get("guider")
    guider_inputs = (graph.get(str(guider[0]), {}).get("inputs") or {}) if _is_link(guider) else {}
    if "positive" in guider_inputs:  # CFGGuider, DualCFGGuider
        return guider_inputs.get("positive"), guider_inputs.get("negative")
    return guider_inputs.get("conditioning"), None  # BasicGuider (Flux): no negative


def _upstream(graph: Graph, start: str) -> list[str]:
    """Node ids reachable backwards from ``start``, nearest first (breadth first)."""
    seen = {start}
    order: list[str] = []
    queue = deque([start])
    while queue:
        node_id = queue.popleft()
        order.append(node_id)
        for value in (graph.get(node_id, {}).get("inputs") or {}).values():
            if _is_link(value) and str(value[0]) in graph and str(value[0]) not in seen:
                seen.add(str(value[0]))
                queue.append(str(value[0]))
    return order


def _choose_sampler(graph: Graph) -> tuple[str | None, list[str]]:
    samplers = [node_id for node_id, node in graph.items() if _is_sampler(node)]
    if not samplers:
        return None, []
    notes: list[str] = []
    saves = [
        node_id for node_id, node in graph.items() if any(h in str(node.get("class_type")).lower() for h in _SAVE_HINTS)
    ]
    # Samplers in latent space make the image; image-space ones (FaceDetailer, UltimateSDUpscale) retouch it.
    latent = {node_id for node_id in samplers if _is_latent_sampler(graph[node_id])}
    is_sampler = set(samplers)
    best: tuple[int, str] | None = None
    for save in saves[:_MAX_SAVES]:  # each costs a walk over the graph: a bounded number of them
        upstream = _upstream(graph, save)
        found = [node_id for node_id in upstream if node_id in is_sampler]
        # The save fed by the longest chain of samplers is the final output (e.g. the hires pass).
        if found and (best is None or len(found) > best[0]):
            best = (len(found), next((node_id for node_id in found if node_id in latent), found[0]))
    fallback = [node_id for node_id in samplers if node_id in latent] or samplers
    chosen = best[1] if best is not None else fallback[-1]
    if len(samplers) > 1:
        kind = graph[chosen].get("class_type")
        notes.append(f"{len(samplers)} samplers in the graph; read node {chosen} ({kind})")
    return chosen, notes


def _text_parts(inputs: dict[str, Any]) -> tuple[list[Any], str]:
    """The inputs of a string-producing node that make its text, and the delimiter that joins them."""
    populated = inputs.get("populated_text")  # wildcard nodes: the text after expansion
    if isinstance(populated, str) and populated:
        return [populated], ""
    keys = [k for k in inputs if k in _TEXT_INPUTS or k.startswith(("text", "string"))]
    if not keys:
        keys = [
            k
            for k, v in inputs.items()
            if isinstance(v, str) and k not in _NOT_TEXT and not k.startswith("\0") and v not in _SEED_CONTROLS
        ]
    if not keys:  # a pass-through node (Reroute, a Set/Get pair): its linked inputs
        keys = [k for k, v in inputs.items() if _is_link(v) and k not in _NOT_TEXT and k not in _NOT_CONDITIONING]
    delimiter = inputs.get("delimiter", inputs.get("separator", ""))
    return [inputs[k] for k in keys], delimiter if isinstance(delimiter, str) else ""


class _Memo(dict[str, "str | None"]):
    """The texts of string nodes by id, shared by the calls of one walk, and how many characters they hold."""

    spent: int = 0


def _join_capped(texts: Iterable[str], delimiter: str) -> str:
    """``delimiter.join(texts)``, cut at :data:`MAX_TEXT_CHARS` (string nodes can double a text at each step)."""
    out: list[str] = []
    size = 0
    for text in texts:
        if out:
            out.append(delimiter)
            size += len(delimiter)
        out.append(text[: MAX_TEXT_CHARS - size])
        size += len(out[-1])
        if size >= MAX_TEXT_CHARS:
            break
    return "".join(out)[:MAX_TEXT_CHARS]


def _string(graph: Graph, value: Any, memo: _Memo | None = None) -> str | None:
    """A text input: a literal, or links followed to primitive, string and concatenation nodes.

    Evaluated bottom-up with an explicit stack and a memo: each node once; an edge closing a cycle is dropped.
    """
    if isinstance(value, str):
        return value
    if not _is_link(value):
        return None
    memo = _Memo() if memo is None else memo  # shared by the calls of one walk: each node is evaluated once
    active: set[str] = set()
    stack: list[tuple[str, bool]] = [(str(value[0]), False)]
    while stack:
        node_id, ready = stack.pop()
        if node_id in memo:
            continue
        if node_id not in graph:
            memo[node_id] = None
            continue
        parts, delimiter = _text_parts(graph[node_id].get("inputs") or {})
        if not ready:
            if node_id in active:  # a cycle: this edge stays unresolved
                continue
            active.add(node_id)
            stack.append((node_id, True))
            stack.extend((str(part[0]), False) for part in parts if _is_link(part) and str(part[0]) not in memo)
            continue
        texts = [
            text
            for text in (part if isinstance(part, str) else memo.get(str(part[0])) if _is_link(part) else None
                         for part in parts)
            if text is not None
        ]  # fmt: skip
        if texts and memo.spent < _STRINGS_BUDGET:
            joined = _join_capped(texts, delimiter)
            if not any(joined is text for text in texts):  # a new string, not one of its parts passed on
                memo.spent += len(joined)
            memo[node_id] = joined
        else:  # nothing to join, or a hostile graph that already built enough text
            memo[node_id] = None
    return memo.get(str(value[0]))


def _encoder_text(graph: Graph, inputs: dict[str, Any], memo: _Memo) -> str | None:
    """The text of a text-encoder node, or None when the node is not one."""
    if "populated_text" in inputs:
        keys: tuple[str, ...] = ("populated_text",)
    else:
        keys = tuple(k for k in _ENCODER_TEXTS if k in inputs)
    if not keys:
        return None
    values: list[str] = []
    for key in keys:
        text = _string(graph, inputs[key], memo)
        if text is None and isinstance(inputs.get(_WIDGET + key), str):
            text = inputs[_WIDGET + key]  # a link naiprompt cannot follow: the text the UI graph last showed
        if text is not None and text not in values:
            values.append(text)
    non_empty = [v for v in values if v]
    return "\n".join(non_empty) if non_empty else ""


def _texts(graph: Graph, start: Any, memo: _Memo) -> list[str]:
    """The texts of the encoders that feed a conditioning input, in graph order."""
    texts: list[str] = []
    size = 0
    seen: set[str] = set()
    stack: list[Any] = [start]
    while stack:
        link = stack.pop()
        if isinstance(link, str):  # a loader node's own prompt text
            texts.append(link)
            continue
        if not _is_link(link):
            continue
        node_id, slot = str(link[0]), link[1]
        if node_id in seen or node_id not in graph:
            continue
        seen.add(node_id)
        inputs = graph[node_id].get("inputs") or {}
        if "ZeroOut" in str(graph[node_id].get("class_type")):
            texts.append("")  # ConditioningZeroOut (Flux, SD3 negatives): the text it was given is not used
            continue
        if "positive" in inputs and "negative" in inputs:
            positive, negative = inputs["positive"], inputs["negative"]
            if isinstance(positive, str) or isinstance(negative, str):
                # loader nodes (Efficient Loader & co.) encode their own texts: outputs 1 (+) and 2 (-)
                stack.append(_string(graph, negative if slot == 2 else positive, memo) or "")
            else:  # ControlNet-style nodes pass both through: outputs 0 (+) and 1 (-)
                stack.append(negative if slot == 1 else positive)
            continue
        text = _encoder_text(graph, inputs, memo)
        if text is not None:
            texts.append(text[: max(0, MAX_TEXT_CHARS - size)])
            size += len(texts[-1])
            if size >= MAX_TEXT_CHARS:
                break  # a hostile graph: enough text
            continue
        follow = [v for k, v in inputs.items() if _is_link(v) and k not in _NOT_CONDITIONING]
        stack.extend(reversed(follow))
    return texts


def _literal(graph: Graph, value: Any, key: str) -> Any:
    """A sampler setting: a literal, or a link to a primitive/seed node's value (a few hops at most)."""
    for _ in range(8):
        if not _is_link(value):
            return value
        inputs = graph.get(str(value[0]), {}).get("inputs") or {}
        for name in (key, "value", "seed", "noise_seed", "int", "float", "number", "string"):
            if name in inputs:
                value = inputs[name]
                break
        else:
            return None
    return None if _is_link(value) else value


def _settings(graph: Graph, sampler_id: str) -> dict[str, Any]:
    """The sampler's settings: its own inputs first, then the nearest upstream nodes' (guider, sigmas...)."""
    found: dict[str, Any] = {}
    for node_id in _upstream(graph, sampler_id):
        inputs = graph[node_id].get("inputs") or {}
        for key in _SAMPLER_PARAMS:
            if key in inputs and key not in found:
                value = _literal(graph, inputs[key], key)
                if isinstance(value, (int, float, str)):
                    found[key] = value
        if "guidance" in inputs and "guidance" not in found and isinstance(inputs["guidance"], (int, float)):
            found["guidance"] = inputs["guidance"]  # Flux
    return {key: found[key] for key in (*_SAMPLER_PARAMS, "guidance") if key in found}


def _size(graph: Graph, sampler_id: str) -> dict[str, Any]:
    latent: Any = (graph[sampler_id].get("inputs") or {}).get("latent_image")
    # From the latent when there is one; a pipe sampler's loader holds an empty latent's size itself.
    start = str(latent[0]) if _is_link(latent) else sampler_id
    for node_id in _upstream(graph, start):
        inputs = graph[node_id].get("inputs") or {}
        for width_key, height_key in (("width", "height"), ("empty_latent_width", "empty_latent_height")):
            width, height = inputs.get(width_key), inputs.get(height_key)
            if isinstance(width, int) and isinstance(height, int) and not isinstance(width, bool):
                return {"width": width, "height": height}
    return {}


def walk(graph: Graph) -> GraphPrompts:
    """Prompt, negative and sampler settings of an API-shaped graph.

    ``parameters`` holds the chosen sampler's own inputs (seed, steps, cfg,
    sampler_name, scheduler, denoise), the latent's width and height, and the
    checkpoint name when found.

    Example:
        >>> walk({"1": {"class_type": "LoadImage", "inputs": {}}}).parameters
        {}
    """
    # Only the two fields the walk reads, each of the right type: a hostile graph cannot trip a lookup.
    graph = {
        str(k): {"class_type": str(v.get("class_type", "")), "inputs": _dict(v.get("inputs"))}
        for k, v in graph.items()
        if isinstance(v, dict)
    }
    sampler_id, notes = _choose_sampler(graph)
    if sampler_id is None:
        return GraphPrompts(None, None, {}, tuple(notes))
    sampler = graph[sampler_id]
    parameters: dict[str, Any] = {"sampler_node": sampler.get("class_type")}
    parameters.update(_settings(graph, sampler_id))
    parameters.update(_size(graph, sampler_id))
    for node_id in _upstream(graph, sampler_id):
        node_inputs = graph[node_id].get("inputs") or {}
        model = node_inputs.get("ckpt_name", node_inputs.get("unet_name"))
        if isinstance(model, str):
            parameters["ckpt_name"] = model
            break
    for node in graph.values():
        layer = (node.get("inputs") or {}).get("stop_at_clip_layer")
        if node.get("class_type") == "CLIPSetLastLayer" and isinstance(layer, int):
            parameters["stop_at_clip_layer"] = layer
    positive_link, negative_link = _conditioning(graph, sampler_id)
    memo = _Memo()
    positive = _texts(graph, positive_link, memo)
    negative = _texts(graph, negative_link, memo)
    return GraphPrompts(
        prompt="\n".join(positive) if positive else None,
        negative="\n".join(negative) if negative else None,
        parameters=parameters,
        notes=tuple(notes),
    )
