"""Train a DCGAN on real MNIST and write sample grids (the README's example).

    KERAS_BACKEND=jax python examples/quickstart.py --steps 300
"""
import argparse

import keras

from keras_gans import datasets
from keras_gans import models
from keras_gans.callbacks import SampleGrid


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default="runs/quickstart-python")
    args = parser.parse_args()

    images = datasets.load("mnist")  # (60000, 28, 28, 1) float32 in [-1, 1]
    data, _ = datasets.make_dataset(images, batch_size=64)
    gan = models.DCGAN(image_shape=(28, 28, 1), latent_dim=100, seed=0)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    gan.fit(data, epochs=1, steps_per_epoch=args.steps,
            callbacks=[SampleGrid(args.out + "/grids")])
    gan.generator.save(args.out + "/generator.keras")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
