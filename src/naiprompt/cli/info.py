"""``naiprompt info``: the prompt and settings stored in AI images, converted or written back.

Reads PNG, JPEG, WebP and GIF files written by AUTOMATIC1111 WebUI and its forks,
NovelAI (text chunks, WebP EXIF, stealth data, V4 characters), ComfyUI,
InvokeAI, Fooocus and SwarmUI. IMAGE may be a file, a folder (its images,
recursively) or a glob pattern. ``--json`` prints one JSON object per image and
line, ``--infotext`` the text to paste into WebUI, ``--to novelai|comfy`` the
NovelAI Comment JSON or a ComfyUI API graph. ``--write INFOTEXT_FILE IMAGE -o
OUT`` stores an infotext in an image the way WebUI does. Many files get a
progress bar on stderr (on a terminal). Exit status: 0 success, 1 when a file
cannot be read (each one named on stderr), 2 usage.

Example:
    >>> from naiprompt.cli import main
    >>> main(["info", "--infotext", "image.png"])  # doctest: +SKIP
    a cat
    Negative prompt: blurry
    Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x768
    0
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from naiprompt import defaults
from naiprompt.cli._common import Progress

if TYPE_CHECKING:
    from naiprompt.metadata.model import GenerationInfo

__all__ = ["collect_images", "register", "run"]

#: File name suffixes a folder argument contributes.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".avif", ".tif", ".tiff", ".jfif"})
#: Inputs with at least this many files get a progress bar (when stderr is a terminal).
PROGRESS_THRESHOLD = 20


def register(subparsers: Any) -> None:
    """Add the ``info`` subcommand to the ``naiprompt`` parser.

    Example:
        >>> import argparse
        >>> parser = argparse.ArgumentParser(prog="naiprompt")
        >>> register(parser.add_subparsers())
        >>> parser.parse_args(["info", "--to", "comfy", "a.png"]).to
        'comfy'
    """
    parser = subparsers.add_parser(
        "info",
        help="read the prompt and settings stored in AI images; convert them or write them back",
        description=__doc__.split("\n\nExample:")[0] if __doc__ else None,
        epilog=(
            "examples:\n"
            "  naiprompt info image.png                 # a readable summary\n"
            "  naiprompt info --infotext nai.png        # paste into WebUI's PNG Info\n"
            "  naiprompt info --json outputs/ '*.webp'  # one JSON object per image\n"
            "  naiprompt info --to comfy a1111.png > graph.json\n"
            "  naiprompt info --write params.txt image.png -o tagged.png"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="image files, folders or glob patterns")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object per image and line")
    output.add_argument("--infotext", action="store_true", help="print each image's settings as a WebUI infotext")
    output.add_argument(
        "--to", choices=defaults.INFO_FORMATS, help="print NovelAI's Comment JSON or a ComfyUI API graph"
    )
    output.add_argument(
        "--write",
        metavar="INFOTEXT_FILE",
        help="store the infotext in INFOTEXT_FILE ('-' for stdin) into IMAGE, saved as -o OUT",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="where --write saves the image")
    parser.add_argument(
        "--stealth",
        choices=("auto", "always", "never"),
        default="auto",
        help="decode stealth data in the pixels (auto: when no other metadata is found)",
    )
    parser.add_argument("--no-convert", action="store_true", help="keep prompts and sampler names as written")
    parser.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help=f"progress bar on stderr (auto: {PROGRESS_THRESHOLD}+ files, output redirected, a terminal)",
    )
    parser.set_defaults(func=run)


def collect_images(arguments: list[str]) -> Iterator[tuple[str, bool]]:
    """``(path, found)`` for every file the arguments name; ``found`` is False for a name that matched nothing.

    Folders contribute their image files recursively, in sorted order; a name
    that is not a file or folder is expanded as a glob pattern.

    Example:
        >>> list(collect_images(["no-such-file.png"]))
        [('no-such-file.png', False)]
    """
    for argument in arguments:
        if os.path.isdir(argument):
            for root, dirs, files in os.walk(argument):
                dirs.sort()
                for name in sorted(files):
                    if os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES:
                        yield os.path.join(root, name), True
        elif os.path.exists(argument) or not glob.has_magic(argument):
            yield argument, os.path.exists(argument)
        else:
            matches = sorted(glob.glob(argument, recursive=True))
            if not matches:
                yield argument, False
            for match in matches:
                if os.path.isdir(match):
                    yield from collect_images([match])
                else:
                    yield match, True


def _record(path: str, info: GenerationInfo | None) -> dict[str, Any]:
    import attrs

    if info is None:
        return {"file": path, "generator": None}
    record: dict[str, Any] = {"file": path}
    record.update(attrs.asdict(info, recurse=False))
    record["characters"] = [
        {"prompt": c.prompt, "negative": c.negative, "center": list(c.center) if c.center else None}
        for c in info.characters
    ]
    record["notes"] = list(info.notes)
    return record


def _summary(info: GenerationInfo) -> str:
    lines = [f"generator: {info.generator}" + (f" ({info.software})" if info.software else "")]
    lines.append(f"dialect:   {info.dialect}")
    lines.append("prompt:    " + info.prompt.replace("\n", "\n           "))
    lines.append("negative:  " + info.negative.replace("\n", "\n           "))
    settings = [
        ("steps", info.steps),
        ("sampler", info.sampler),
        ("cfg", info.cfg_scale),
        ("seed", info.seed),
        ("size", f"{info.width}x{info.height}" if info.size else None),
    ]
    shown = "  ".join(f"{name} {value}" for name, value in settings if value is not None)
    if shown:
        lines.append(f"settings:  {shown}")
    for number, character in enumerate(info.characters, start=1):
        where = f" at {character.center[0]:g},{character.center[1]:g}" if character.center else ""
        lines.append(f"character {number}{where}: {character.prompt}")
        if character.negative:
            lines.append(f"  negative: {character.negative}")
    lines.append("carriers:  " + ", ".join(info.raw))
    lines.extend(f"note:      {note}" for note in info.notes)
    return "\n".join(lines)


def _read_text(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    with open(source, encoding="utf-8") as handle:
        return handle.read()


def _write(args: argparse.Namespace) -> int:
    from naiprompt.errors import MetadataError
    from naiprompt.metadata import write

    if len(args.images) != 1 or not args.output:
        print("naiprompt info: --write INFOTEXT_FILE takes one IMAGE and -o OUT", file=sys.stderr)
        return 2
    try:
        text = _read_text(args.write).strip()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"naiprompt info: {args.write}: {exc}", file=sys.stderr)
        return 1
    try:
        write(args.images[0], text, args.output)
    except (MetadataError, OSError) as exc:
        print(f"naiprompt info: {args.images[0]}: {exc}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``naiprompt info`` with parsed arguments; return the exit status.

    Example:
        >>> import argparse
        >>> run(argparse.Namespace(images=[], write=None, output=None))
        2
    """
    if not args.images:
        print("naiprompt info: give at least one IMAGE (file, folder or glob)", file=sys.stderr)
        return 2
    if args.write is not None:
        return _write(args)
    if args.output:
        print("naiprompt info: -o/--output goes with --write", file=sys.stderr)
        return 2
    try:
        return _report(args)
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `naiprompt info ... | head`: stop quietly, and let the exit flush go nowhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _report(args: argparse.Namespace) -> int:
    from naiprompt.errors import MetadataError
    from naiprompt.metadata import read, to_comfy, to_infotext, to_novelai

    novelai_json, comfy_graph = defaults.INFO_FORMATS
    files = list(collect_images(args.images))
    show_progress = args.progress == "always" or (
        args.progress == "auto" and len(files) >= PROGRESS_THRESHOLD and sys.stderr.isatty() and not sys.stdout.isatty()
    )
    stealth = {"auto": None, "always": True, "never": False}[args.stealth]
    convert = not args.no_convert
    progress = Progress(len(files), show_progress, unit="images")
    many = len(files) > 1
    status = 0
    try:
        for number, (path, found) in enumerate(files, start=1):
            progress.update(number - 1)
            if not found:
                progress.close()
                print(f"naiprompt info: {path}: no such file", file=sys.stderr)
                status = 1
                continue
            try:
                info = read(path, stealth=stealth)
            except (MetadataError, OSError) as exc:
                progress.close()
                print(f"naiprompt info: {path}: {exc}", file=sys.stderr)
                status = 1
                continue
            if args.json:
                print(json.dumps(_record(path, info), ensure_ascii=False))
                continue
            if info is None:
                if many or not (args.infotext or args.to):
                    print(f"{path}: no generation metadata" if many else "no generation metadata")
                continue
            if args.infotext:
                body = to_infotext(info, convert=convert)
            elif args.to == novelai_json:
                body = to_novelai(info, convert=convert)
            elif args.to == comfy_graph:
                body = json.dumps(to_comfy(info, convert=convert), ensure_ascii=False)
            else:
                body = _summary(info)
            if many:
                print(f"== {path}")
            print(body)
            if many:
                print()
        progress.update(len(files))
    finally:
        progress.close()
    return status
