"""The model card (README.md) of a zoo entry, written from its metadata.

The YAML front matter follows the Hub's conventions (`library_name: keras`,
tags, datasets, a `model-index` with the metrics) and is produced by
`huggingface_hub.ModelCardData`, so the Hub and `ModelCard.load` read it.
"""

_METRIC_NAMES = {
    "fid": "FID", "kid": "KID", "precision": "Precision", "recall": "Recall",
    "density": "Density", "coverage": "Coverage",
    "confident_share": "Domain-classifier confident share",
    "modes_covered": "Modes covered (of 10)",
    "label_accuracy": "Label accuracy (classifier agrees with the requested class)",
    "l1": "L1 to the true target (test pairs)",
    "identity_l1": "L1 of the identity baseline (output = input)",
    "ssim": "SSIM to the true target (test pairs)",
    "identity_ssim": "SSIM of the identity baseline",
    "identity_kid": "KID of the identity baseline",
    "cycle_l1": "Cycle reconstruction L1 (a -> b -> a)",
}
_DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST",
                  "emoji": "Emoji (Twemoji -> Noto)"}
_TASKS = {"image-to-image": "image-to-image"}


def _front_matter(metadata):
    from huggingface_hub import EvalResult
    from huggingface_hub import ModelCardData

    dataset = metadata.get("dataset", {}).get("name")
    conditional = metadata.get("num_classes") is not None
    task = "image-generation" if conditional else "unconditional-image-generation"
    task = _TASKS.get(metadata.get("task"), task)
    metrics = metadata.get("metrics", {})
    protocol = _short_protocol(metrics)
    results = [
        EvalResult(
            task_type=task, dataset_type=dataset, dataset_name=_DATASET_NAMES.get(dataset, dataset),
            dataset_split=metadata["dataset"].get("reference_split", "test"),
            metric_type=key, metric_value=metrics[key],
            metric_name=f"{_METRIC_NAMES[key]} ({protocol})" if key in ("fid", "kid") and protocol
            else _METRIC_NAMES[key],
        )
        for key in _METRIC_NAMES
        if dataset and isinstance(metrics.get(key), (int, float))
    ]
    data = ModelCardData(
        library_name="keras",
        tags=["gan", "keras-gans", metadata["class_name"].lower()] + ([dataset] if dataset else []),
        datasets=[dataset] if dataset else None,
        pipeline_tag=task,
        license="apache-2.0",
        model_name=metadata["name"],
        eval_results=results or None,
    )
    return data.to_yaml()


def _short_protocol(metrics):
    """`N=2000 vs mnist:test N=5000`: the metric's name on the Hub; the
    card's text prints the whole protocol."""
    protocol = metrics.get("protocol") or {}
    if not protocol:
        return ""
    return f"N={protocol['n']} vs {protocol['reference']} N={protocol['n_reference']}"


def _table(rows):
    lines = ["| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows if v not in (None, "", {})]
    return "\n".join(lines)


def _usage(metadata, name=None):
    name = name or metadata["name"]
    if metadata.get("task") == "image-to-image":
        shape = "x".join(str(d) for d in metadata.get("source_shape") or [])
        return (
            "from keras_gans import zoo\n\n"
            f'model = zoo.load_gan("{name}")  # zoo.load() gives the a -> b generator\n'
            f"out = model.translate(images)  # images: (N, {shape.replace('x', ', ')}) "
            "floats in [-1, 1]\n"
        ), "![input | translation | true target, held-out test emoji](samples.png)\n", ""
    conditional = metadata.get("num_classes") is not None
    generator = ("zoo.load() gives the generator (latents, cluster ids -> images)"
                 if metadata.get("num_clusters") else "zoo.load() gives the generator")
    usage = (
        "import numpy as np\n"
        "from keras_gans import zoo\n\n"
        f'gan = zoo.load_gan("{name}")  # the trainable GAN; {generator}\n'
        + (
            "images = gan.generate(labels=np.arange(10))  # one image per class, in [-1, 1]\n"
            if conditional else "images = gan.generate(16)  # numpy, in [-1, 1]\n"
        )
    )
    return (usage, "![samples from fixed latents (numpy seed 0)](samples.png)\n",
            f"Command line: `keras-gans sample {name} --n 64 --out grid.png`.\n")


def _parameter_row(parameters):
    names = [k for k in parameters if k != "all_weights"]
    return (f"parameters ({' / '.join(n.replace('_', ' ') for n in names)})",
            " / ".join(f"{parameters[n]:,}" for n in names))


def model_card(metadata, load_name=None):
    """README.md text for an entry's `metadata` (see `entry.build_metadata`);
    its usage loads the entry as `load_name` (default: the entry's name;
    `publish` gives `hf://organisation/name@tag`)."""
    name = metadata["name"]
    training = metadata.get("training", {})
    dataset = metadata.get("dataset", {})
    metrics = metadata.get("metrics", {})
    usage, picture, command = _usage(metadata, load_name)
    sections = [
        f"---\n{_front_matter(metadata).rstrip()}\n---\n",
        f"# {name}\n",
        (metadata.get("description") or
         f"A {metadata['class_name']} trained with keras-gans.") + "\n",
        picture,
        "## Use\n",
        f"```python\n{usage}```\n",
        command,
        "## Model\n",
        _table([
            ("class", f"`keras_gans.models.{metadata['class_name']}`"),
            ("latent dimension", metadata.get("latent_dim")),
            ("classes", metadata.get("num_classes")),
            ("clusters (drawn from their frequencies)", metadata.get("num_clusters")),
            ("input shape", "x".join(str(d) for d in metadata.get("source_shape") or [])),
            ("image shape", "x".join(str(d) for d in metadata.get("image_shape", []))),
            _parameter_row(metadata["parameters"]),
            ("trained on backend", metadata.get("backend")),
            ("keras-gans / Keras", f"{metadata.get('keras_gans_version')} / "
                                   f"{metadata.get('keras_version')}"),
        ]) + "\n",
        "## Training\n",
        _table([
            ("dataset", f"{_DATASET_NAMES.get(dataset.get('name'), dataset.get('name'))} "
                        f"({dataset.get('split', 'train')} split)" if dataset else None),
            ("steps x batch", f"{training.get('steps')} x {training.get('batch_size')}"
             if training.get("steps") else None),
            ("wall time", f"{training['wall_seconds'] / 60:.1f} min" if training.get(
                "wall_seconds") else None),
            ("CPU time", f"{training['cpu_seconds'] / 60:.1f} CPU-min" if training.get(
                "cpu_seconds") else None),
            ("hardware", training.get("hardware")),
            ("recipe", f"`{training['recipe']}`" if training.get("recipe") else None),
        ]) + "\n",
    ]
    rows = [(_METRIC_NAMES[k], f"{metrics[k]:.5g}") for k in _METRIC_NAMES
            if isinstance(metrics.get(k), (int, float))]
    if rows:
        sections += ["## Evaluation\n", _table(rows) + "\n"]
        if metrics.get("protocol_text"):
            sections.append(f"FID/KID {metrics['protocol_text']}.\n")
        if metrics.get("command"):
            sections.append(f"Re-measure: `{metrics['command']}`.\n")
    sections += [
        "## Limitations\n",
        "Trained briefly on a 2-core CPU as a baseline, not a state-of-the-art model. "
        "Samples are only as varied as the training data"
        + ("; see the metrics above.\n" if rows else ".\n"),
    ]
    return "\n".join(sections)
