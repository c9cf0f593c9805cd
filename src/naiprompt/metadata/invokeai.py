"""InvokeAI's graphs: the prompts of an image that carries ``invokeai_graph`` or ``invokeai_workflow`` only.

InvokeAI 3 and later write the settings into ``invokeai_metadata`` when the
graph has a metadata node; images made from workflows without one carry only
the executed graph (``invokeai_graph``: ``nodes`` by id, ``edges`` from
``{node_id, field}`` to ``{node_id, field}``) and the editor's workflow
(``invokeai_workflow``: a node list whose ``data.inputs`` hold the values, and
``edges`` with ``source``/``sourceHandle``/``target``/``targetHandle``).
Both are brought to one shape, then the denoising node's
``positive_conditioning`` and ``negative_conditioning`` inputs are followed
back to the prompt nodes (``compel``, ``sdxl_compel_prompt``...), whose
``prompt`` may itself come from a string node. Each walk is a bounded loop.

Example:
    >>> graph = {"nodes": {
    ...     "pos": {"type": "compel", "prompt": "a cat"},
    ...     "neg": {"type": "compel", "prompt": "blurry"},
    ...     "noise": {"type": "noise", "seed": 7, "width": 512, "height": 768},
    ...     "denoise": {"type": "denoise_latents", "steps": 30, "cfg_scale": 7.5, "scheduler": "euler"}},
    ...   "edges": [
    ...     {"source": {"node_id": "pos", "field": "conditioning"},
    ...      "destination": {"node_id": "denoise", "field": "positive_conditioning"}},
    ...     {"source": {"node_id": "neg", "field": "conditioning"},
    ...      "destination": {"node_id": "denoise", "field": "negative_conditioning"}},
    ...     {"source": {"node_id": "noise", "field": "noise"},
    ...      "destination": {"node_id": "denoise", "field": "noise"}}]}
    >>> found = graph_settings(graph)
    >>> found["positive_prompt"], found["negative_prompt"], found["steps"], found["seed"], found["width"]
    ('a cat', 'blurry', 30, 7, 512)
"""

from __future__ import annotations

from typing import Any

__all__ = ["graph_settings"]

Nodes = dict[str, dict[str, Any]]
Edges = dict[tuple[str, str], str]

#: Fields of a text node that hold its text, in the order tried.
_TEXT_FIELDS = ("prompt", "value", "string", "text", "positive_prompt")
#: Settings read from the denoising node and, for seed and size, the noise node that feeds it.
_DENOISE_FIELDS = ("steps", "cfg_scale", "scheduler", "denoising_start", "denoising_end", "cfg_rescale_multiplier")
#: Most nodes a text is followed through (string joins, collect nodes...).
_MAX_HOPS = 64


def _normalise(obj: dict[str, Any]) -> tuple[Nodes, Edges]:
    """``(nodes by id, {(destination id, field): source id})`` from a graph or a workflow."""
    nodes: Nodes = {}
    raw_nodes = obj.get("nodes")
    if isinstance(raw_nodes, dict):  # invokeai_graph
        nodes = {str(k): v for k, v in raw_nodes.items() if isinstance(v, dict)}
    elif isinstance(raw_nodes, list):  # invokeai_workflow: values under data.inputs.NAME.value
        for node in raw_nodes:
            data = node.get("data") if isinstance(node, dict) else None
            if not isinstance(data, dict):
                continue
            flat: dict[str, Any] = {"type": data.get("type")}
            inputs = data.get("inputs")
            for name, field in inputs.items() if isinstance(inputs, dict) else ():
                if isinstance(field, dict) and "value" in field:
                    flat[str(name)] = field["value"]
            nodes[str(data.get("id", node.get("id")))] = flat
    edges: Edges = {}
    raw_edges = obj.get("edges")
    for edge in raw_edges if isinstance(raw_edges, list) else []:
        if not isinstance(edge, dict):
            continue
        source, destination = edge.get("source"), edge.get("destination")
        if isinstance(source, dict) and isinstance(destination, dict):
            edges[(str(destination.get("node_id")), str(destination.get("field")))] = str(source.get("node_id"))
        elif "target" in edge:
            edges[(str(edge.get("target")), str(edge.get("targetHandle")))] = str(source)
    return nodes, edges


def _text(nodes: Nodes, edges: Edges, node_id: str | None) -> str | None:
    """The prompt text a conditioning node was made from: its own field or the string node feeding it."""
    first_input: dict[str, str] = {}
    for (destination, _field), source in edges.items():
        first_input.setdefault(destination, source)
    for _ in range(_MAX_HOPS):
        node = nodes.get(node_id or "")
        if node is None:
            return None
        for field in _TEXT_FIELDS:
            linked = edges.get((str(node_id), field))
            if linked is not None:
                node_id = linked
                break
            if isinstance(node.get(field), str):
                return str(node[field])
        else:
            # A node between (a collect, a conditioning combine): its first linked input.
            node_id = first_input.get(str(node_id))
    return None


def graph_settings(obj: dict[str, Any]) -> dict[str, Any]:
    """Prompt, negative and sampler settings of an InvokeAI graph or workflow, with the metadata's key names.

    Keys: ``positive_prompt``, ``negative_prompt``, ``steps``, ``cfg_scale``,
    ``scheduler``, ``seed``, ``width``, ``height``, ``model`` (those found).

    Example:
        >>> graph_settings({"nodes": [], "edges": []})
        {}
    """
    nodes, edges = _normalise(obj)
    denoise = [dst for (dst, field) in edges if field == "positive_conditioning"]
    if not denoise:
        return {}
    # The last denoising node in the graph's order is the final pass (a refiner or an upscale comes after).
    order = {node_id: index for index, node_id in enumerate(nodes)}
    chosen = max(denoise, key=lambda node_id: order.get(node_id, -1))
    found: dict[str, Any] = {}
    for key, field in (("positive_prompt", "positive_conditioning"), ("negative_prompt", "negative_conditioning")):
        text = _text(nodes, edges, edges.get((chosen, field)))
        if text is not None:
            found[key] = text
    node = nodes.get(chosen, {})
    for field in _DENOISE_FIELDS:
        if isinstance(node.get(field), (int, float, str)):
            found[field] = node[field]
    loader = next((n for n in nodes.values() if str(n.get("type", "")).endswith("model_loader")), {})
    if isinstance(loader.get("model"), dict):  # {"key", "hash", "name", "base", "type"} (3.x: "model_name")
        found["model"] = loader["model"]
    noise = nodes.get(edges.get((chosen, "noise"), ""), {})
    for field in ("seed", "width", "height"):
        value = noise.get(field, node.get(field))
        if isinstance(value, (int, float)):
            found[field] = value
    return found
