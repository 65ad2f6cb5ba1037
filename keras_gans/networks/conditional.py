"""Networks of the conditional and code-based variants (CGAN, ACGAN,
ProjectionGAN, InfoGAN, SGAN), built on the DCGAN networks for any image size.

Labels enter as int32 class ids of shape `(batch,)`. Every discriminator
here shares one convolutional body, `dcgan_features` (the DCGAN
discriminator without its logit layer); the variants differ in what goes in
(an extra label channel) and in the heads on top of the features.
"""
import keras
from keras import layers

from keras_gans.networks.dcgan import dcgan_discriminator
from keras_gans.networks.dcgan import dcgan_generator
from keras_gans.networks.dcgan import latent_input


def _label_input(name="label"):
    return keras.Input((), dtype="int32", name=name)


def dcgan_features(image_shape, base_filters=64, batch_norm=True, dropout=0.0,
                   name="features"):
    """The DCGAN discriminator's convolutional body: images -> flat features.

    >>> dcgan_features((28, 28, 1), base_filters=4).output_shape
    (None, 392)
    """
    d = dcgan_discriminator(image_shape, base_filters, batch_norm=batch_norm,
                            dropout=dropout)
    return keras.Model(d.input, d.get_layer("logit").input, name=name)


def conditional_generator(image_shape=(28, 28, 1), latent_dim=100, num_classes=10,
                          base_filters=64, embedding_dim=None, name="generator"):
    """`[latents (batch, latent_dim), labels (batch,)] -> images` in [-1, 1].

    A learned label embedding (`embedding_dim`, default `num_classes`) is
    concatenated to the latent, which then feeds a DCGAN generator
    (Mirza & Osindero 2014, with DCGAN layers).

    >>> g = conditional_generator((28, 28, 1), 8, 10, base_filters=4)
    >>> g.output_shape
    (None, 28, 28, 1)
    """
    embedding_dim = int(embedding_dim or num_classes)
    latents = latent_input(latent_dim)
    labels = _label_input()
    embedded = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(labels)
    x = layers.Concatenate(name="latent_and_label")([latents, embedded])
    body = dcgan_generator(image_shape, latent_dim + embedding_dim, base_filters,
                           name="generator_body")
    return keras.Model([latents, labels], body(x), name=name)


def code_generator(image_shape=(28, 28, 1), latent_dim=62, code_dim=12,
                   base_filters=64, name="generator"):
    """`[noise (batch, latent_dim), codes (batch, code_dim)] -> images`: the
    codes are concatenated to the noise (InfoGAN).

    >>> code_generator((28, 28, 1), 8, 12, base_filters=4).output_shape
    (None, 28, 28, 1)
    """
    noise = latent_input(latent_dim)
    codes = keras.Input((code_dim,), name="codes")
    x = layers.Concatenate(name="noise_and_codes")([noise, codes])
    body = dcgan_generator(image_shape, latent_dim + code_dim, base_filters,
                           name="generator_body")
    return keras.Model([noise, codes], body(x), name=name)


def conditional_discriminator(image_shape=(28, 28, 1), num_classes=10, base_filters=64,
                              batch_norm=True, dropout=0.0, name="discriminator"):
    """`[images, labels] -> (batch, 1)` logits: a learned per-class map of
    the image's size is concatenated to the image as an extra channel, then
    a DCGAN body and a linear logit (CGAN).

    >>> conditional_discriminator((28, 28, 1), 10, base_filters=4).output_shape
    (None, 1)
    """
    height, width, channels = (int(d) for d in image_shape)
    images = keras.Input(tuple(image_shape), name="image")
    labels = _label_input()
    label_map = layers.Embedding(num_classes, height * width, name="label_map")(labels)
    label_map = layers.Reshape((height, width, 1))(label_map)
    x = layers.Concatenate(name="image_and_label")([images, label_map])
    features = dcgan_features((height, width, channels + 1), base_filters,
                              batch_norm, dropout, name="discriminator_body")(x)
    logits = layers.Dense(1, dtype="float32", name="logit")(features)
    return keras.Model([images, labels], logits, name=name)


def auxiliary_classifier_discriminator(image_shape=(28, 28, 1), num_classes=10,
                                       base_filters=64, batch_norm=True, dropout=0.0,
                                       name="discriminator"):
    """`images -> [logit (batch, 1), class logits (batch, num_classes)]`
    (ACGAN, Odena et al. 2017): both heads share the DCGAN body.

    >>> d = auxiliary_classifier_discriminator((28, 28, 1), 10, base_filters=4)
    >>> [tuple(s) for s in d.output_shape]
    [(None, 1), (None, 10)]
    """
    images = keras.Input(tuple(image_shape), name="image")
    features = dcgan_features(image_shape, base_filters, batch_norm, dropout,
                              name="discriminator_body")(images)
    logits = layers.Dense(1, dtype="float32", name="logit")(features)
    classes = layers.Dense(num_classes, dtype="float32", name="class_logits")(features)
    return keras.Model(images, [logits, classes], name=name)


def projection_discriminator(image_shape=(28, 28, 1), num_classes=10, base_filters=64,
                             batch_norm=False, dropout=0.0, name="discriminator"):
    """`[images, labels] -> (batch, 1)`: `psi(phi(x)) + <embed(y), phi(x)>`,
    the projection discriminator of Miyato & Koyama (2018).

    >>> projection_discriminator((28, 28, 1), 10, base_filters=4).output_shape
    (None, 1)
    """
    images = keras.Input(tuple(image_shape), name="image")
    labels = _label_input()
    features = dcgan_features(image_shape, base_filters, batch_norm, dropout,
                              name="discriminator_body")(images)
    unconditional = layers.Dense(1, dtype="float32", name="logit")(features)
    embedded = layers.Embedding(num_classes, int(features.shape[-1]),
                                name="class_embedding")(labels)
    projection = layers.Dot(axes=1, name="projection")([embedded, features])
    logits = layers.Add(dtype="float32", name="projected_logit")([unconditional, projection])
    return keras.Model([images, labels], logits, name=name)


def feature_discriminator(image_shape=(28, 28, 1), outputs=1, base_filters=64,
                          batch_norm=True, dropout=0.0, name="discriminator"):
    """`images -> [logits (batch, outputs), features]`: a DCGAN body whose
    features are exposed for an InfoGAN Q head (`outputs=1`) or for SGAN's
    feature matching (`outputs=num_classes` class logits).

    >>> d = feature_discriminator((28, 28, 1), 10, base_filters=4)
    >>> [tuple(s) for s in d.output_shape]
    [(None, 10), (None, 392)]
    """
    images = keras.Input(tuple(image_shape), name="image")
    features = dcgan_features(image_shape, base_filters, batch_norm, dropout,
                              name="discriminator_body")(images)
    logits = layers.Dense(outputs, dtype="float32", name="logits")(features)
    features = layers.Activation("linear", dtype="float32", name="features")(features)
    return keras.Model(images, [logits, features], name=name)


def info_q_head(feature_dim, categorical_dim=10, continuous_dim=2, hidden=128,
                name="q_network"):
    """InfoGAN's Q head on the discriminator's features: `features ->
    [categorical code logits, continuous code means]`.

    >>> q = info_q_head(392, 10, 2, hidden=16)
    >>> [tuple(s) for s in q.output_shape]
    [(None, 10), (None, 2)]
    """
    features = keras.Input((int(feature_dim),), name="features")
    x = layers.Dense(hidden, name="q_hidden")(features)
    x = layers.LeakyReLU(0.2)(x)
    categorical = layers.Dense(categorical_dim, dtype="float32", name="categorical")(x)
    continuous = layers.Dense(max(continuous_dim, 1), dtype="float32",
                              name="continuous")(x)
    return keras.Model(features, [categorical, continuous], name=name)
