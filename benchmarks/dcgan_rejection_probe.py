"""Discriminator-filtered sampling (as in Azadi et al. 2019's rejection
sampling, with a hard cut), a probe on a trained DCGAN.

    KERAS_BACKEND=jax python benchmarks/dcgan_rejection_probe.py runs/dcgan_mnist_jax_exp_lr2e3b0.keras

Draws 8,000 samples from the GAN's (EMA) generator, scores them with its
discriminator, and judges 1,000 of them with the domain classifier: 1,000
at random, then 1,000 drawn from the top 4,000 / 2,000 by discriminator
logit, and the top 1,000. Prints the confident share (p > 0.9), the
smallest class share and the class histogram.
"""
import argparse

import keras
import numpy as np

from keras_gans.metrics import classify_samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a saved DCGAN (.keras, with its discriminator)")
    parser.add_argument("--n", type=int, default=8000)
    args = parser.parse_args()
    gan = keras.saving.load_model(args.path)
    latents = np.random.default_rng(123).standard_normal((args.n, gan.latent_dim)).astype("float32")
    images = np.asarray(gan.generate(latents=latents))
    logits = np.asarray(gan.discriminator.predict(images, batch_size=500, verbose=0)).reshape(-1)
    order = np.argsort(-logits)
    picks = {"random 1000": images[:1000]}
    for keep in (4000, 2000):
        picks[f"1000 of the top {keep}"] = images[order[np.random.default_rng(0).choice(keep, 1000, replace=False)]]
    picks["top 1000"] = images[order[:1000]]
    for name, chosen in picks.items():
        report = classify_samples(chosen, dataset="mnist", threshold=0.9)
        print(f"{name}: confident {report['confident_share']:.3f}, smallest class "
              f"{report['min_class_share']:.3f}, histogram {np.round(report['class_histogram'], 3).tolist()}")


if __name__ == "__main__":
    main()
