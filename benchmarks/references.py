"""Hand-written training steps that do the same math as our DCGAN and WGAN-GP.

The yardstick of `benchmarks/performance.py`: what a user who writes the
training loop by hand, without Keras, gets on each framework. Every
reference is built from a compiled keras-gans model (its weights, BatchNorm
statistics and optimizer settings are copied, so one step of the reference
and one step of ours start from the same state):

- TensorFlow: raw `tf.nn` ops (conv2d, conv2d_transpose, moments, leaky
  relu), `tf.Variable`s, `tf.GradientTape` (nested for the gradient
  penalty), a 10-line Adam of tf ops, one `tf.function` per step (graph
  mode without XLA, as Keras's default compilation on TensorFlow). No Keras.
- PyTorch: `nn.Module`s in NCHW (Linear, BatchNorm1d/2d, Conv2d,
  ConvTranspose2d), two `torch.optim.Adam`, eager, `torch.no_grad()` for
  the fakes of the discriminator step; gradient penalty with
  `torch.autograd.grad(create_graph=True)`.
- JAX: pure functions of parameter pytrees with `lax.conv_general_dilated`,
  Adam in `jax.numpy` (Keras's update rule, for the math check) or
  `optax.adam` (`jax_adam="optax"`: what a JAX user reaches for), one
  `jax.jit` per step with the state donated. Unless
  `fast_conv_gradients=False`, the convolutions take the same gradient
  routes as `keras_gans/backend/jax_impl.py`, so both sides run the same
  kernels: the transposed convolution's kernel gradient, and the kernel
  gradient of a strided convolution's input gradient (which WGAN-GP's
  penalty takes), are strided convolutions instead of XLA CPU's slow
  lhs-dilated ones.

Same math as ours, step by step (`keras_gans/core/gan.py`):

- DCGAN: discriminator update on `softplus(-D(real)) + softplus(D(G(z1)))`
  (two BatchNorm'd calls, real then fake; the fakes carry no gradient), then
  generator update on `softplus(-D(G(z2)))`; BatchNorm in training mode
  everywhere, moving statistics updated only for the network being trained
  (ours restores the other network's, to the same effect); Adam(2e-4,
  beta_1=0.5, epsilon=1e-7) on both.
- WGAN-GP: the batch is cut into `n_critic` chunks of `B // n_critic`; each
  critic update on `mean D(fake) - mean D(real) + 10 E[(||grad D(x_hat)|| -
  1)^2]` with `x_hat = real + alpha (fake - real)`, then one generator
  update on `-mean D(G(z))` with a chunk-sized batch; Adam(1e-4, 0.5, 0.9).

Known differences that do not change the losses: torch's Adam adds epsilon
to `sqrt(v) / sqrt(1 - beta_2^t)` instead of `sqrt(v)` (here eps=1e-7, a
relative difference of eps * (1/sqrt(bc2) - 1) in the denominator), and
optax's Adam adds epsilon to `sqrt(v / (1 - beta_2^t))` as torch's does,
torch's BatchNorm keeps the unbiased variance as moving statistic (Keras the
biased one) and updates the discriminator's moving statistics in the
generator step too (the idiomatic loop does).

Usage (in a process whose KERAS_BACKEND is the framework):

    ref = make_reference("torch", gan)          # gan: a compiled DCGAN/WGANGP
    losses = ref.step(real_batch_numpy)         # latents drawn inside
    ref.sync()                                  # wait for queued work (JAX)
    ref.step_with(real, latents, alphas)        # fixed draws, for checks
"""
import numpy as np

# ------------------------------------------------------------------ the spec


def network_spec(model):
    """A framework-free description of a Keras DCGAN network: a list of
    `(kind, params, config)` with numpy weights in Keras's layouts (NHWC,
    kernels HWIO; transposed-conv kernels (h, w, out, in))."""
    import keras

    spec = []
    for layer in model.layers:
        name = type(layer).__name__
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.Dense):
            if layer.activation.__name__ != "linear":
                raise ValueError(f"unsupported activation in {layer.name}")
            spec.append(("dense", _weights(layer, "kernel", "bias"), {}))
        elif isinstance(layer, keras.layers.BatchNormalization):
            if layer.renorm or not (layer.center and layer.scale) or layer.axis not in (-1, len(layer.input.shape) - 1):
                raise ValueError(f"unsupported BatchNormalization {layer.name}")
            params = _weights(layer, "gamma", "beta")
            state = _weights(layer, "moving_mean", "moving_variance")
            spec.append(("bn", params, {"epsilon": float(layer.epsilon),
                                        "momentum": float(layer.momentum),
                                        "state": state}))
        elif isinstance(layer, keras.layers.Conv2DTranspose) or isinstance(layer, keras.layers.Conv2D):
            kind = "conv_t" if isinstance(layer, keras.layers.Conv2DTranspose) else "conv"
            k, s = tuple(layer.kernel_size), tuple(layer.strides)
            if (layer.padding != "same" or layer.data_format != "channels_last"
                    or k[0] != k[1] or s[0] != s[1] or s[0] != 2 or k[0] % 2
                    or tuple(layer.dilation_rate) != (1, 1) or getattr(layer, "groups", 1) != 1
                    or layer.activation.__name__ != "linear"
                    or (kind == "conv_t" and layer.output_padding is not None)):
                raise ValueError(f"unsupported convolution {layer.name}")
            spec.append((kind, _weights(layer, "kernel", "bias"),
                         {"kernel": k[0], "stride": s[0]}))
        elif name == "ReLU":
            if layer.max_value is not None or layer.negative_slope or layer.threshold:
                raise ValueError(f"unsupported ReLU {layer.name}")
            spec.append(("relu", {}, {}))
        elif name == "LeakyReLU":
            spec.append(("leaky_relu", {}, {"slope": float(layer.negative_slope)}))
        elif name == "Activation" and layer.activation.__name__ == "tanh":
            spec.append(("tanh", {}, {}))
        elif name == "Reshape":
            spec.append(("reshape", {}, {"shape": tuple(int(d) for d in layer.target_shape)}))
        elif name == "Flatten":
            spec.append(("flatten", {}, {"shape": tuple(int(d) for d in layer.input.shape[1:])}))
        else:
            raise ValueError(f"the references do not know layer {layer.name} ({name})")
    return spec


def _weights(layer, *names):
    out = {}
    for n in names:
        v = getattr(layer, n, None)
        if v is not None:
            out[n] = np.array(v.numpy() if hasattr(v, "numpy") else v, dtype="float32")
    return out


def _same_padding(kernel, stride):
    """(before, after) of a 'same' convolution (TF's rule, extra after)."""
    total = max(kernel - stride, 0)
    return total // 2, total - total // 2


def _settings(gan):
    """Loss, n_critic, gradient-penalty weight and the two Adams' settings."""
    loss = gan.loss_fn.name
    if loss not in ("non_saturating", "wasserstein") or gan.loss_fn.label_smoothing:
        raise ValueError(f"the references do the non_saturating and wasserstein losses, not {loss}")
    if gan.ema_decay or gan.augment is not None:
        raise ValueError("build the benchmarked model with ema_decay=None and no augment")
    gp = 0.0
    for p in gan.penalties:
        if type(p).__name__ != "GradientPenalty" or p.one_sided or p.target != 1.0:
            raise ValueError(f"unsupported penalty {p}")
        gp = float(p.weight)
    adams = {}
    for key in ("d", "g"):
        opt = gan.optimizer[key]
        if type(opt).__name__ != "Adam" or opt.amsgrad:
            raise ValueError("the references implement Adam only")
        adams[key] = dict(lr=float(np.asarray(opt.learning_rate)), beta_1=float(opt.beta_1),
                          beta_2=float(opt.beta_2), epsilon=float(opt.epsilon))
    return dict(loss=loss, n_critic=int(gan.n_critic), gp=gp, adam=adams,
                latent_dim=int(gan.latent_dim))


def make_reference(framework, gan, fast_conv_gradients=True, torch_adam="torch", jax_adam="jnp"):
    """The hand-written reference of a compiled keras-gans DCGAN or WGANGP,
    starting from its current weights. `torch_adam="keras_rule"` swaps
    torch.optim.Adam for Keras's update rule written in torch (for the math
    check: torch's epsilon placement differs, see the module docstring);
    `"fused"` asks torch.optim.Adam for its fused kernel (its default on
    CPU is a loop over the parameters); `jax_adam="optax"` swaps the
    `jax.numpy` Adam (Keras's rule) for `optax.adam`."""
    settings = _settings(gan)
    g_spec, d_spec = network_spec(gan.generator), network_spec(gan.discriminator)
    if framework == "tensorflow":
        return TFReference(g_spec, d_spec, settings)
    if framework == "torch":
        return TorchReference(g_spec, d_spec, settings, adam=torch_adam)
    if framework == "jax":
        return JaxReference(g_spec, d_spec, settings, fast_conv_gradients, adam=jax_adam)
    raise ValueError(framework)


# ---------------------------------------------------------------- TensorFlow


class TFReference:
    framework = "tensorflow"

    def __init__(self, g_spec, d_spec, settings):
        import tensorflow as tf

        self.tf, self.s = tf, settings
        self.g = _TFNet(tf, g_spec)
        self.d = _TFNet(tf, d_spec)
        self.opt = {"g": _TFAdam(tf, self.g.trainable, **settings["adam"]["g"]),
                    "d": _TFAdam(tf, self.d.trainable, **settings["adam"]["d"])}
        n, latent = settings["n_critic"], settings["latent_dim"]

        def random_step(real):
            b = tf.shape(real)[0] // n
            zs = [tf.random.normal((b, latent)) for _ in range(n + 1)]
            alphas = [tf.random.uniform((b, 1, 1, 1)) for _ in range(n)]
            return self._step(real, zs, alphas)

        self._random = tf.function(random_step)
        self._fixed = tf.function(self._step)

    def _step(self, real, latents, alphas):
        tf, s = self.tf, self.s
        n = s["n_critic"]
        b = tf.shape(real)[0] // n
        logs = {}
        for i in range(n):
            real_i = real[i * b:(i + 1) * b]
            fake = self.g(latents[i], update=False)
            with tf.GradientTape() as tape:
                real_logits = self.d(real_i, update=True)
                fake_logits = self.d(fake, update=True)
                if s["loss"] == "non_saturating":
                    loss = (tf.reduce_mean(tf.nn.softplus(-real_logits))
                            + tf.reduce_mean(tf.nn.softplus(fake_logits)))
                else:
                    loss = tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)
                logs["d_loss"] = loss
                if s["gp"]:
                    mixed = real_i + alphas[i] * (fake - real_i)
                    with tf.GradientTape() as inner:
                        inner.watch(mixed)
                        total = tf.reduce_sum(self.d(mixed, update=False))
                    grad = tf.reshape(inner.gradient(total, mixed), (b, -1))
                    norms = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=1) + 1e-12)
                    logs["gp"] = s["gp"] * tf.reduce_mean(tf.square(norms - 1.0))
                    loss = loss + logs["gp"]
            self.opt["d"].apply(tape.gradient(loss, self.d.trainable), self.d.trainable)
        with tf.GradientTape() as tape:
            fake_logits = self.d(self.g(latents[n], update=True), update=False)
            if s["loss"] == "non_saturating":
                loss = tf.reduce_mean(tf.nn.softplus(-fake_logits))
            else:
                loss = -tf.reduce_mean(fake_logits)
        self.opt["g"].apply(tape.gradient(loss, self.g.trainable), self.g.trainable)
        logs["g_loss"] = loss
        return logs

    def step(self, real):
        return self._random(self.tf.convert_to_tensor(real))

    def step_with(self, real, latents, alphas=()):
        tf = self.tf
        n = self.s["n_critic"]
        alphas = list(alphas) or [np.zeros((len(latents[0]), 1, 1, 1), "float32")] * n
        logs = self._fixed(tf.convert_to_tensor(real), [tf.constant(z) for z in latents],
                           [tf.constant(a) for a in alphas])
        return {k: float(v) for k, v in logs.items()}

    def sync(self):
        pass

    def generate(self, latents):
        return self.g(self.tf.constant(latents), update=False).numpy()


class _TFNet:
    def __init__(self, tf, spec):
        self.tf, self.layers, self.trainable = tf, [], []
        for kind, params, config in spec:
            variables = {k: tf.Variable(v) for k, v in params.items()}
            self.trainable += list(variables.values())
            if kind == "bn":
                config = dict(config, state={k: tf.Variable(v, trainable=False)
                                             for k, v in config["state"].items()})
            self.layers.append((kind, variables, config))

    def __call__(self, x, update):
        tf = self.tf
        for kind, v, c in self.layers:
            if kind == "dense":
                x = tf.matmul(x, v["kernel"])
            elif kind == "conv":
                x = tf.nn.conv2d(x, v["kernel"], c["stride"], "SAME")
            elif kind == "conv_t":
                shape = tf.shape(x)
                out = tf.stack([shape[0], shape[1] * c["stride"], shape[2] * c["stride"],
                                v["kernel"].shape[2]])
                x = tf.nn.conv2d_transpose(x, v["kernel"], out, c["stride"], "SAME")
            elif kind == "bn":
                axes = list(range(len(x.shape) - 1))
                mean, var = tf.nn.moments(x, axes)
                if update:
                    m, st = c["momentum"], c["state"]
                    st["moving_mean"].assign(st["moving_mean"] * m + mean * (1 - m))
                    st["moving_variance"].assign(st["moving_variance"] * m + var * (1 - m))
                x = tf.nn.batch_normalization(x, mean, var, v["beta"], v["gamma"], c["epsilon"])
            elif kind == "relu":
                x = tf.nn.relu(x)
            elif kind == "leaky_relu":
                x = tf.nn.leaky_relu(x, c["slope"])
            elif kind == "tanh":
                x = tf.tanh(x)
            elif kind == "reshape":
                x = tf.reshape(x, (-1,) + c["shape"])
            elif kind == "flatten":
                x = tf.reshape(x, (tf.shape(x)[0], -1))
            if kind in ("dense", "conv", "conv_t") and "bias" in v:
                x = tf.nn.bias_add(x, v["bias"])
        return x


class _TFAdam:
    """Keras's Adam update rule in tf ops."""

    def __init__(self, tf, variables, lr, beta_1, beta_2, epsilon):
        self.tf, self.lr, self.b1, self.b2, self.eps = tf, lr, beta_1, beta_2, epsilon
        self.m = [tf.Variable(tf.zeros_like(v)) for v in variables]
        self.v = [tf.Variable(tf.zeros_like(v)) for v in variables]
        self.t = tf.Variable(0.0)

    def apply(self, grads, variables):
        tf = self.tf
        t = self.t.assign_add(1.0)
        alpha = self.lr * tf.sqrt(1.0 - self.b2 ** t) / (1.0 - self.b1 ** t)
        for g, var, m, v in zip(grads, variables, self.m, self.v):
            m.assign_add((g - m) * (1.0 - self.b1))
            v.assign_add((tf.square(g) - v) * (1.0 - self.b2))
            var.assign_sub(m * alpha / (tf.sqrt(v) + self.eps))


# ------------------------------------------------------------------- PyTorch


def _nhwc_to_nchw_order(shape):
    """Index map: torch's (c, h, w) flattening position -> Keras's (h, w, c)."""
    h, w, c = shape
    return np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).ravel()


class TorchReference:
    framework = "torch"

    def __init__(self, g_spec, d_spec, settings, adam="torch"):
        import torch

        self.torch, self.s = torch, settings
        from keras.src.backend.torch.core import get_device

        self.device = torch.device(get_device())  # Keras's: both loops run there
        self.g = _torch_net(torch, g_spec, self.device)
        self.d = _torch_net(torch, d_spec, self.device)
        self.g.train(), self.d.train()

        def adam(net, a):
            if adam == "keras_rule":
                return _TorchKerasAdam(torch, net.parameters(), **a)
            return torch.optim.Adam(net.parameters(), lr=a["lr"], betas=(a["beta_1"], a["beta_2"]),
                                    eps=a["epsilon"], fused=(adam == "fused") or None)

        self.opt = {"g": adam(self.g, settings["adam"]["g"]), "d": adam(self.d, settings["adam"]["d"])}
        self.g_params = list(self.g.parameters())

    def _step(self, real, latents, alphas):
        torch, s = self.torch, self.s
        F = torch.nn.functional
        n = s["n_critic"]
        b = real.shape[0] // n
        logs = {}
        for i in range(n):
            real_i = real[i * b:(i + 1) * b]
            z = torch.randn(b, s["latent_dim"], device=real.device) if latents is None else latents[i]
            with torch.no_grad():
                fake = self.g(z)
            self.opt["d"].zero_grad(set_to_none=True)
            real_logits, fake_logits = self.d(real_i), self.d(fake)
            if s["loss"] == "non_saturating":
                loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
            else:
                loss = fake_logits.mean() - real_logits.mean()
            logs["d_loss"] = loss.detach()
            if s["gp"]:
                alpha = torch.rand(b, 1, 1, 1, device=real.device) if alphas is None else alphas[i]
                mixed = (real_i + alpha * (fake - real_i)).requires_grad_(True)
                (grad,) = torch.autograd.grad(self.d(mixed).sum(), mixed, create_graph=True)
                norms = torch.sqrt(grad.reshape(b, -1).square().sum(1) + 1e-12)
                gp = s["gp"] * (norms - 1.0).square().mean()
                logs["gp"] = gp.detach()
                loss = loss + gp
            loss.backward()
            self.opt["d"].step()
        z = torch.randn(b, s["latent_dim"], device=real.device) if latents is None else latents[n]
        self.opt["g"].zero_grad(set_to_none=True)
        fake_logits = self.d(self.g(z))
        if s["loss"] == "non_saturating":
            loss = F.softplus(-fake_logits).mean()
        else:
            loss = -fake_logits.mean()
        loss.backward(inputs=self.g_params)
        self.opt["g"].step()
        logs["g_loss"] = loss.detach()
        return logs

    def _images(self, real):
        # NHWC numpy -> NCHW tensor (one copy, as a hand-written loader would).
        return self._tensor(np.asarray(real).transpose(0, 3, 1, 2))

    def _tensor(self, array):
        return self.torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    def step(self, real):
        return self._step(self._images(real), None, None)

    def step_with(self, real, latents, alphas=()):
        alphas = [self._tensor(np.asarray(a).reshape(-1, 1, 1, 1)) for a in alphas] or None
        logs = self._step(self._images(real), [self._tensor(z) for z in latents], alphas)
        return {k: float(v) for k, v in logs.items()}

    def sync(self):
        if self.device.type == "cuda":  # wait for queued kernels
            self.torch.cuda.synchronize()

    def generate(self, latents):
        with self.torch.no_grad():
            return self.g(self._tensor(latents)).cpu().numpy().transpose(0, 2, 3, 1)


class _TorchKerasAdam:
    """Keras's Adam rule (epsilon added to sqrt(v)) in torch ops."""

    def __init__(self, torch, params, lr, beta_1, beta_2, epsilon):
        self.torch, self.params = torch, list(params)
        self.lr, self.b1, self.b2, self.eps, self.t = lr, beta_1, beta_2, epsilon, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    def step(self):
        self.t += 1
        alpha = self.lr * (1.0 - self.b2 ** self.t) ** 0.5 / (1.0 - self.b1 ** self.t)
        with self.torch.no_grad():
            for p, m, v in zip(self.params, self.m, self.v):
                m.add_((p.grad - m) * (1.0 - self.b1))
                v.add_((p.grad * p.grad - v) * (1.0 - self.b2))
                p.sub_(m * alpha / (v.sqrt() + self.eps))


def _torch_net(torch, spec, device):
    nn = torch.nn
    modules = []
    # Keras flattens/reshapes in (h, w, c) order, torch in (c, h, w): the
    # features between a Dense and a Reshape, and the Dense after a Flatten,
    # are permuted once here.
    perm_out = {}
    for i, (kind, _, c) in enumerate(spec):
        if kind == "reshape":
            j = i - 1
            while spec[j][0] != "dense":
                j -= 1
            for k in range(j, i):
                perm_out[k] = _nhwc_to_nchw_order(c["shape"])
    perm_in = {i + 1: _nhwc_to_nchw_order(c["shape"]) for i, (kind, _, c) in enumerate(spec) if kind == "flatten"}
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device)  # noqa: E731
    channels = None
    for i, (kind, p, c) in enumerate(spec):
        if kind == "dense":
            kernel = p["kernel"]
            if i in perm_in:
                kernel = kernel[perm_in[i]]
            if i in perm_out:
                kernel = kernel[:, perm_out[i]]
            m = nn.Linear(kernel.shape[0], kernel.shape[1], bias="bias" in p)
            m.weight.data = t(kernel.T)
            if "bias" in p:
                m.bias.data = t(p["bias"][perm_out[i]] if i in perm_out else p["bias"])
        elif kind in ("conv", "conv_t"):
            kernel, k, s = p["kernel"], c["kernel"], c["stride"]
            before, after = _same_padding(k, s)
            assert before == after, "torch needs symmetric padding"
            if kind == "conv":
                m = nn.Conv2d(kernel.shape[2], kernel.shape[3], k, s, before, bias="bias" in p)
                m.weight.data = t(kernel.transpose(3, 2, 0, 1))   # HWIO -> OIHW
                channels = kernel.shape[3]
            else:
                m = nn.ConvTranspose2d(kernel.shape[3], kernel.shape[2], k, s, before, bias="bias" in p)
                m.weight.data = t(kernel.transpose(3, 2, 0, 1))   # (h,w,out,in) -> (in,out,h,w)
                channels = kernel.shape[2]
            if "bias" in p:
                m.bias.data = t(p["bias"])
        elif kind == "bn":
            width = p["gamma"].shape[0]
            spatial = channels is not None and width == channels and i not in perm_out
            m = (nn.BatchNorm2d if spatial else nn.BatchNorm1d)(
                width, eps=c["epsilon"], momentum=1.0 - c["momentum"])
            order = perm_out.get(i, slice(None))
            m.weight.data, m.bias.data = t(p["gamma"][order]), t(p["beta"][order])
            m.running_mean.data = t(c["state"]["moving_mean"][order])
            m.running_var.data = t(c["state"]["moving_variance"][order])
        elif kind == "relu":
            m = nn.ReLU()
        elif kind == "leaky_relu":
            m = nn.LeakyReLU(c["slope"])
        elif kind == "tanh":
            m = nn.Tanh()
        elif kind == "reshape":
            h, w, ch = c["shape"]
            m, channels = nn.Unflatten(1, (ch, h, w)), ch
        elif kind == "flatten":
            m = nn.Flatten()
        modules.append(m)
    return nn.Sequential(*modules).to(device)


# ----------------------------------------------------------------------- JAX


class JaxReference:
    framework = "jax"

    def __init__(self, g_spec, d_spec, settings, fast_conv_gradients=True, adam="jnp"):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp, self.s = jax, jnp, settings
        self.fast = fast_conv_gradients
        self.g_cfg = [(k, c) for k, _, c in g_spec]
        self.d_cfg = [(k, c) for k, _, c in d_spec]
        as_j = lambda tree: jax.tree_util.tree_map(jnp.asarray, tree)  # noqa: E731
        params = {"g": as_j([p for _, p, _ in g_spec]), "d": as_j([p for _, p, _ in d_spec])}
        stats = {"g": as_j([c.get("state", {}) for _, _, c in g_spec]),
                 "d": as_j([c.get("state", {}) for _, _, c in d_spec])}
        zeros = lambda tree: jax.tree_util.tree_map(jnp.zeros_like, tree)  # noqa: E731
        self.optax = None
        if adam == "optax":
            import optax

            a = settings["adam"]
            self.optax = {k: optax.adam(a[k]["lr"], a[k]["beta_1"], a[k]["beta_2"], a[k]["epsilon"])
                          for k in params}
            opt = {k: self.optax[k].init(params[k]) for k in params}
        else:
            opt = {k: (zeros(params[k]), zeros(params[k]), jnp.zeros((), "float32")) for k in params}
        self.state = (params, stats, opt, jax.random.PRNGKey(0))
        self._random = jax.jit(self._random_step, donate_argnums=0)
        self._fixed = jax.jit(self._step, donate_argnums=0)

    # network forward: returns (output, new moving statistics)
    def _forward(self, cfg, params, stats, x, update):
        jax, jnp = self.jax, self.jnp
        lax = jax.lax
        new_stats = []
        for (kind, c), p, st in zip(cfg, params, stats):
            if kind == "dense":
                x = x @ p["kernel"]
            elif kind == "conv":
                x = _conv(jax, x, p["kernel"], c["kernel"], c["stride"], self.fast)
            elif kind == "conv_t":
                x = _conv_transpose(jax, x, p["kernel"], c["kernel"], c["stride"], self.fast)
            elif kind == "bn":
                axes = tuple(range(x.ndim - 1))
                mean, var = jnp.mean(x, axes), jnp.var(x, axes)
                if update:
                    m = c["momentum"]
                    st = {"moving_mean": st["moving_mean"] * m + mean * (1 - m),
                          "moving_variance": st["moving_variance"] * m + var * (1 - m)}
                inv = lax.rsqrt(var + c["epsilon"]) * p["gamma"]
                x = x * inv + (p["beta"] - mean * inv)
            elif kind == "relu":
                x = jax.nn.relu(x)
            elif kind == "leaky_relu":
                x = jax.nn.leaky_relu(x, c["slope"])
            elif kind == "tanh":
                x = jnp.tanh(x)
            elif kind == "reshape":
                x = x.reshape((x.shape[0],) + c["shape"])
            elif kind == "flatten":
                x = x.reshape(x.shape[0], -1)
            if kind in ("dense", "conv", "conv_t") and "bias" in p:
                x = x + p["bias"]
            new_stats.append(st)
        return x, new_stats

    def _adam(self, key, params, grads, opt):
        jax, jnp = self.jax, self.jnp
        if self.optax is not None:
            import optax

            updates, opt = self.optax[key].update(grads, opt, params)
            return optax.apply_updates(params, updates), opt
        a = self.s["adam"][key]
        m, v, t = opt
        t = t + 1.0
        alpha = a["lr"] * jnp.sqrt(1.0 - a["beta_2"] ** t) / (1.0 - a["beta_1"] ** t)
        tm = jax.tree_util.tree_map
        m = tm(lambda m_, g: m_ + (g - m_) * (1.0 - a["beta_1"]), m, grads)
        v = tm(lambda v_, g: v_ + (g * g - v_) * (1.0 - a["beta_2"]), v, grads)
        params = tm(lambda p, m_, v_: p - m_ * alpha / (jnp.sqrt(v_) + a["epsilon"]), params, m, v)
        return params, (m, v, t)

    def _step(self, state, real, latents, alphas):
        jax, jnp, s = self.jax, self.jnp, self.s
        params, stats, opt, key = state
        params, stats, opt = dict(params), dict(stats), dict(opt)
        n = s["n_critic"]
        b = real.shape[0] // n
        logs = {}
        for i in range(n):
            real_i = real[i * b:(i + 1) * b]
            fake, _ = self._forward(self.g_cfg, params["g"], stats["g"], latents[i], False)

            def d_loss(pd, st):
                real_logits, st = self._forward(self.d_cfg, pd, st, real_i, True)
                fake_logits, st = self._forward(self.d_cfg, pd, st, fake, True)
                if s["loss"] == "non_saturating":
                    loss = jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))
                else:
                    loss = jnp.mean(fake_logits) - jnp.mean(real_logits)
                out = {"d_loss": loss}
                if s["gp"]:
                    mixed = real_i + alphas[i] * (fake - real_i)
                    critic = lambda x: jnp.sum(self._forward(self.d_cfg, pd, st, x, False)[0])  # noqa: E731
                    grad = jax.grad(critic)(mixed).reshape(b, -1)
                    norms = jnp.sqrt(jnp.sum(grad * grad, axis=1) + 1e-12)
                    out["gp"] = s["gp"] * jnp.mean(jnp.square(norms - 1.0))
                    loss = loss + out["gp"]
                return loss, (out, st)

            (_, (out, stats["d"])), grads = jax.value_and_grad(d_loss, has_aux=True)(params["d"], stats["d"])
            params["d"], opt["d"] = self._adam("d", params["d"], grads, opt["d"])
            logs.update(out)

        def g_loss(pg, st):
            fake, st = self._forward(self.g_cfg, pg, st, latents[n], True)
            fake_logits, _ = self._forward(self.d_cfg, params["d"], stats["d"], fake, False)
            if s["loss"] == "non_saturating":
                return jnp.mean(jax.nn.softplus(-fake_logits)), st
            return -jnp.mean(fake_logits), st

        (loss, stats["g"]), grads = jax.value_and_grad(g_loss, has_aux=True)(params["g"], stats["g"])
        params["g"], opt["g"] = self._adam("g", params["g"], grads, opt["g"])
        logs["g_loss"] = loss
        return (params, stats, opt, key), logs

    def _random_step(self, state, real):
        jax = self.jax
        n, latent = self.s["n_critic"], self.s["latent_dim"]
        b = real.shape[0] // n
        key, *keys = jax.random.split(state[3], 2 * n + 2)
        latents = [jax.random.normal(k, (b, latent)) for k in keys[: n + 1]]
        alphas = [jax.random.uniform(k, (b, 1, 1, 1)) for k in keys[n + 1:]]
        return self._step(state[:3] + (key,), real, latents, alphas)

    def step(self, real):
        self.state, logs = self._random(self.state, self.jnp.asarray(real))
        return logs

    def step_with(self, real, latents, alphas=()):
        jnp = self.jnp
        alphas = [jnp.asarray(a).reshape(-1, 1, 1, 1) for a in alphas] or [jnp.zeros(())] * self.s["n_critic"]
        self.state, logs = self._fixed(self.state, jnp.asarray(real), [jnp.asarray(z) for z in latents], alphas)
        return {k: float(v) for k, v in logs.items()}

    def sync(self):
        self.jax.block_until_ready(self.state)

    def generate(self, latents):
        params, stats = self.state[0], self.state[1]
        return np.asarray(self._forward(self.g_cfg, params["g"], stats["g"], self.jnp.asarray(latents), False)[0])


def _conv(jax, x, kernel, k, stride, fast):
    """'same' stride-`stride` convolution, kernel HWIO. With `fast` (and a
    stride), its input gradient is a transposed convolution written through
    `_fast_conv_transpose`, as in `keras_gans.backend.jax_impl.conv`."""
    pad = _same_padding(k, stride)

    def forward(x_, kernel_):
        return jax.lax.conv_general_dilated(x_, kernel_, (stride, stride), (pad, pad),
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))

    if not fast or stride == 1:
        return forward(x, kernel)
    return _fast_strided_conv(jax)(forward, x, kernel)


def _fast_strided_conv(jax):
    def bwd(forward, residuals, dy):
        x, kernel = residuals
        x_like = jax.ShapeDtypeStruct(x.shape, x.dtype)
        def transposed(dy_, kernel_):   # A_k^T dy: an lhs-dilated convolution
            return _adjoint(jax, forward, x_like, dy_, kernel_)

        # Its own derivatives are strided convolutions (_fast_conv_transpose).
        dx = _fast_conv_transpose(jax)(transposed, dy, kernel)
        (dkernel,) = jax.vjp(lambda k_: forward(x, k_), kernel)[1](dy)
        return dx, dkernel

    return _with_backward(jax, "conv", bwd)


def _conv_transpose(jax, x, kernel, k, stride, fast):
    """'same' stride-`stride` transposed convolution, kernel (h, w, out, in),
    as an lhs-dilated `lax.conv_general_dilated`. With `fast`, its kernel
    gradient goes through the adjoint strided convolution, as in
    `keras_gans.backend.jax_impl.conv_transpose`."""
    before, after = _same_padding(k, stride)
    pad = ((k - 1 - before, k - 1 - after),) * 2

    def forward(x_, kernel_):
        flipped = jax.numpy.flip(kernel_, (0, 1)).swapaxes(2, 3)   # -> HWIO
        return jax.lax.conv_general_dilated(x_, flipped, (1, 1), pad, lhs_dilation=(stride, stride),
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))

    if not fast:
        return forward(x, kernel)
    return _fast_conv_transpose(jax)(forward, x, kernel)


_FAST = {}


def _with_backward(jax, name, bwd):
    """`fn(forward, x, kernel) = forward(x, kernel)` differentiated by `bwd`,
    built once per name."""
    if name not in _FAST:
        import functools

        @functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
        def fn(forward, x, kernel):
            return forward(x, kernel)

        fn.defvjp(lambda forward, x, kernel: (forward(x, kernel), (x, kernel)), bwd)
        _FAST[name] = fn
    return _FAST[name]


def _fast_conv_transpose(jax):
    def bwd(forward, residuals, dy):
        x, kernel = residuals
        # T_k^*(dy): a strided convolution of dy.
        dx, kernel_vjp = jax.vjp(lambda k_: _adjoint(jax, forward, x, dy, k_), kernel)
        (dkernel,) = kernel_vjp(x)
        return dx, dkernel

    return _with_backward(jax, "conv_transpose", bwd)


def _adjoint(jax, forward, x_like, dy, kernel):
    """`A_k^T dy` for the linear map `A_k x = forward(x, kernel)`."""
    (dx,) = jax.linear_transpose(lambda x_: forward(x_, kernel), x_like)(dy)
    return dx
