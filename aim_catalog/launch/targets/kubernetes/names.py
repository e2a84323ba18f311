"""Names, labels and annotations of the cluster objects a launch renders.

Object names are DNS-1035 labels within the target's length limit (KServe adds suffixes);
the ``aim-catalog.*`` keys are ``labels.py``'s, their values shortened to what a label value
allows (the exact values go into annotations).
"""

from __future__ import annotations

import hashlib
import re

from aim_catalog.errors import UsageProblem, shown
from aim_catalog.launch import labels
from aim_catalog.selection.request import Candidate

MANAGER = "aim-catalog"  # field manager of server-side apply, and app.kubernetes.io/managed-by
# Service and InferenceService names are DNS-1035 labels (63 characters). KServe adds
# "-predictor" (Service, Deployment) and Knative "-predictor-00001" (revision): 47 + 16 = 63.
NAME_LIMIT = {"kubernetes": 63, "kserve": 47}
_DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def object_name(base: str, recipe_id: str, target: str) -> str:
    """The Docker name as a DNS-1035 label, plus a short hash of the recipe and that name.

    Two recipes of one model, GPU count, precision and backend (one per image, say) have
    the same Docker default name, and trimming to the length limit can cut the backend and
    GPU count off; the hash keeps their objects apart, and keeps one config on one name,
    so launching it again updates it in place.
    """
    limit = NAME_LIMIT[target]
    digest = hashlib.sha256(f"{recipe_id}\0{base}".encode()).hexdigest()[:6]
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug) or "aim"
    return f"{slug[: limit - len(digest) - 1].rstrip('-')}-{digest}"


def check_object_name(name: str, target: str) -> str:
    limit = NAME_LIMIT[target]
    if len(name) > limit or not _DNS1035.fullmatch(name):
        raise UsageProblem(
            f"--name {shown(name)}: a {target} name is at most {limit} of a-z 0-9 -, "
            "starting with a letter and ending with a letter or digit"
        )
    return name


def label_value(text: str) -> str:
    """``text`` as a valid label value (63 of A-Z a-z 0-9 . _ -, alphanumeric at both ends)."""
    value = re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:63]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)


def catalog_key(catalog: str) -> str:
    """A label-safe key of the (redacted) catalog URL, which a label cannot hold."""
    return hashlib.sha256(catalog.encode()).hexdigest()[:12]


def selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/instance": name, "app.kubernetes.io/managed-by": MANAGER}


def labels_for(candidate: Candidate, name: str, catalog: str) -> dict[str, str]:
    """The Docker target's ``aim-catalog.*`` labels, as label values allow (exact values
    are in the annotations), plus the standard app.kubernetes.io ones."""
    return {
        labels.MANAGED: "true",
        labels.RECIPE: label_value(candidate.recipe_id),
        labels.MODEL: label_value(candidate.huggingface_id),
        labels.BACKEND: label_value(candidate.backend),
        labels.GPU_COUNT: str(candidate.gpu_count),
        labels.CATALOG: catalog_key(catalog),
        "app.kubernetes.io/name": label_value(candidate.huggingface_id.rsplit("/", 1)[-1].lower()),
        **selector(name),
    }


def annotations_for(candidate: Candidate, catalog: str) -> dict[str, str]:
    return {
        labels.RECIPE: candidate.recipe_id,
        labels.MODEL: candidate.huggingface_id,
        labels.CATALOG: catalog,
    }
