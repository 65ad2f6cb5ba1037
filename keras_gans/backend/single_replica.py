"""Distribution hooks for backends where one program sees the global batch.

JAX: `keras.distribution.DataParallel` shards the batch inside one jit
program, so means, random draws and BatchNorm statistics are already global.
torch: Keras's torch backend has no data-parallel `fit()`. Either way there
is one replica and nothing to rescale.
"""
SYNCHRONIZES_BATCH_NORM = False


def replicas_in_sync():
    return 1


def scale_loss_for_distribution(loss):
    return loss


def draw_for_replica(draw, shape):
    return draw(shape)
