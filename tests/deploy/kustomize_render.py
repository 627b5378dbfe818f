"""A small offline renderer of the kustomizations under ``deploy/k8s/``.

Why: ``make test`` checks the manifests without a cluster and without a Go
``kustomize`` binary. This renders the subset of Kustomize those files use
(``resources``, ``namespace``, ``labels``, ``images``, ``replicas`` and
``patches`` by path: built-in kinds merged the strategic way, maps by key and
lists of named items by ``name``; custom resources such as KEDA's, whose
schemas kustomize does not know, as JSON merge patches, every list replaced
whole, as kustomize does) and refuses any other field, so a
kustomization that grows past it fails the tests instead of being half-read.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

#: Fields of a Kustomization this renderer understands.
KNOWN_FIELDS = frozenset(
    {"apiVersion", "kind", "resources", "namespace", "labels", "images", "replicas", "patches"}
)


class RenderError(Exception):
    """A kustomization this renderer cannot render faithfully."""


def load_documents(path: Path) -> list[Obj]:
    """Every non-empty YAML document of one file."""
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def kustomization(directory: Path) -> Obj:
    """The parsed ``kustomization.yaml`` of ``directory``, checked for unknown fields."""
    data: Obj = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise RenderError(f"{directory}: fields this renderer does not apply: {unknown}")
    return data


def listed_files(directory: Path) -> set[Path]:
    """The files a kustomization names directly (resources that are files, and patches)."""
    data = kustomization(directory)
    out = {(directory / r).resolve() for r in data.get("resources", [])}
    out |= {(directory / p["path"]).resolve() for p in data.get("patches", [])}
    return {p for p in out if p.is_file()}


def render(directory: Path) -> list[Obj]:
    """The objects ``kustomize build directory`` would print, for the supported fields."""
    data = kustomization(directory)
    objects: list[Obj] = []
    for entry in data.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            objects += render(path)
        elif path.is_file():
            objects += load_documents(path)
        else:
            raise RenderError(f"{directory}: resource {entry} does not exist")
    for patch in data.get("patches", []):
        if set(patch) != {"path"}:
            raise RenderError(f"{directory}: only patches by path are supported, got {patch}")
        for doc in load_documents(directory / patch["path"]):
            _apply_patch(objects, doc)
    for item in data.get("replicas", []):
        target = _find(objects, None, item["name"], workload=True)
        target["spec"]["replicas"] = int(item["count"])
    for image in data.get("images", []):
        _set_image(objects, image)
    for group in data.get("labels", []):
        if set(group) - {"pairs"}:
            raise RenderError(f"{directory}: labels with {sorted(set(group) - {'pairs'})}")
        for obj in objects:
            obj.setdefault("metadata", {}).setdefault("labels", {}).update(group["pairs"])
    if "namespace" in data:
        for obj in objects:
            obj.setdefault("metadata", {})["namespace"] = data["namespace"]
    return objects


def _find(objects: list[Obj], kind: str | None, name: str, workload: bool = False) -> Obj:
    kinds = {"Deployment", "StatefulSet"} if workload else {kind}
    found = [o for o in objects if o["kind"] in kinds and o["metadata"]["name"] == name]
    if len(found) != 1:
        raise RenderError(f"expected one {kind or 'workload'} named {name}, found {len(found)}")
    return found[0]


def _apply_patch(objects: list[Obj], patch: Obj) -> None:
    target = _find(objects, patch["kind"], patch["metadata"]["name"])
    merged = merge(target, patch, strategic=_built_in(patch))
    target.clear()
    target.update(merged)


def _built_in(obj: Obj) -> bool:
    """Whether kustomize knows the kind's schema (and so its lists' merge keys)."""
    group = str(obj["apiVersion"]).rpartition("/")[0]
    return group in {"", "apps", "batch"}


def merge(base: Any, patch: Any, strategic: bool = True) -> Any:
    """Merge ``patch`` into ``base``: strategic (named lists by name) or JSON merge patch."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for key, value in patch.items():
            out[key] = merge(out[key], value, strategic) if key in out else copy.deepcopy(value)
        return out
    if strategic and isinstance(base, list) and isinstance(patch, list) and _keyed(patch):
        out_list = copy.deepcopy(base)
        for item in patch:
            key = item["name"]
            same = [i for i, b in enumerate(out_list) if b.get("name") == key]
            if same:
                out_list[same[0]] = merge(out_list[same[0]], item)
            else:
                out_list.append(copy.deepcopy(item))
        return out_list
    return copy.deepcopy(patch)


def _keyed(items: list[Any]) -> bool:
    """Containers, volumes, env and ports: lists of items merged by ``name``."""
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def _set_image(objects: list[Obj], image: Obj) -> None:
    hits = 0
    for obj in objects:
        pod = _pod_spec(obj)
        for container in (pod or {}).get("containers", []):
            name, _, _tag = str(container["image"]).partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image['newTag']}"
                hits += 1
    if not hits:
        raise RenderError(f"image {image['name']} is used by no container")


def _pod_spec(obj: Obj) -> Obj | None:
    if obj["kind"] in {"Deployment", "StatefulSet", "Job"}:
        spec: Obj = obj["spec"]["template"]["spec"]
        return spec
    return None
