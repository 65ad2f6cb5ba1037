"""Plots a person would rather look at than read."""
import os


def plot_history(history, path, title="Training losses"):
    """Plots every series of a `History.history` dict against the epoch.

    >>> import tempfile, os
    >>> p = plot_history({"d_loss": [1.3, 1.1], "g_loss": [0.8, 1.0]},
    ...                  os.path.join(tempfile.mkdtemp(), "loss.png"))
    >>> os.path.exists(p)
    True
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for name, values in sorted(history.items()):
        epochs = range(1, len(values) + 1)
        ax.plot(epochs, values, marker="o" if len(values) < 30 else None, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
