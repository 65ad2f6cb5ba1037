"""Objects marked for the duration of a `with` block, per thread."""
import collections
import contextlib
import threading


class ThreadMarks:
    """Marks objects inside `with marks.on(objects)`, in the current thread
    only (tf.distribute's MirroredStrategy runs each replica's step in its
    own thread), counting nested blocks.

    >>> marks = ThreadMarks()
    >>> layer = object()
    >>> with marks.on([layer]):
    ...     with marks.on([layer]):
    ...         pass
    ...     layer in marks
    True
    >>> layer in marks
    False
    """

    def __init__(self):
        self._local = threading.local()

    def __contains__(self, obj):
        return id(obj) in self._local.__dict__.get("counts", ())

    @contextlib.contextmanager
    def on(self, objects):
        counts = self._local.__dict__.setdefault("counts", collections.Counter())
        ids = [id(obj) for obj in objects]
        counts.update(ids)
        try:
            yield
        finally:
            counts.subtract(ids)
            for key in ids:
                if counts[key] <= 0:
                    del counts[key]
