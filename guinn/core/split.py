"""Training steps split between threads: each thread owns a share of the leading hidden layers' units.

On a two-core machine NumPy's OpenBLAS made a batch-100 matrix product only about 1.5x
faster with its second thread, and everything else in a step (the optimizer above all, a
memory-bound pass over every weight) ran on one core. A split step instead gives each of
``parts`` threads a fixed slice of the units (columns) of every split hidden Dense layer and
runs the BLAS single-threaded on each:

- forward, each thread multiplies the previous layer by its columns of the weights, then adds
  their bias and applies the activation and the dropout mask (the calling thread draws the
  masks, in the ordinary step's order); float32 tanh and sigmoid use Eigen's rational tanh
  there (within 4e-7; :mod:`guinn.core._crew`), float64 libm's;
- the layers after the split ones (the output layer, the loss) run on the calling thread;
  when they are a single Dense and the threads finish the last split layer themselves, that
  Dense's matrix products run in the threads, each for the last split layer's columns it
  owns (and under softmax with the built-in cross-entropy its bias, softmax, loss and dL/dz
  take one compiled pass);
- backward, each thread finishes dL/dz of its columns (adding up the layer above's partial
  products in a fixed order, then dropout mask, activation slope and bias gradient), computes
  the gradient of its columns' weights and its partial product of the signal for the layer
  below (leaky ReLU layers and layers with several masks leave the element-wise part to the
  calling thread);
- each thread runs the optimizer on (and applies it to) an equal share of the weights; if
  the update overflowed, the calling thread undoes it;
- then a helper fetches the next shuffled batch while the calling thread checks the step,
  reports it and starts the next one.

The helper threads run compiled code only (:mod:`guinn.core._crew`) and never take the GIL.
Results agree with the ordinary step to float rounding (the partial products are added in
another order, and float32 sigmoid/tanh come from the approximation); a split run is
deterministic and does not depend on timing.

A model is split on Linux x86-64 when the fused kernels are on, NumPy's OpenBLAS can be told
its thread count and uses two threads (what it was measured on: with more cores, OpenBLAS's
own threads keep the work), the optimizer has a kernel, the batch has 16 to 512 rows, and
the model starts with Dense layers (element-wise activation, optionally followed by Dropout)
wide enough to share; splitting stops at the first layer that is not. ``GUINN_SPLIT=0``
turns it off.
"""

from __future__ import annotations

import math
import os
import platform
import threading

import numpy as np

from guinn.core import blas_threads, fused
from guinn.core.layers import Dense, Dropout
from guinn.core.layers.base import rms
from guinn.core.losses import CategoricalCrossentropy

# Activations a thread applies to its own columns (guinn.core._crew's FORWARD operation), by number.
THREAD_ACTIVATIONS = {"linear": 0, "sigmoid": 1, "tanh": 2, "relu": 3}
MIN_UNITS = 64  # fewest units a thread may own in a split layer: narrower layers are not worth a hand-over
MIN_ROWS = 16  # smaller batches (e.g. an epoch's remainder) take the ordinary step
# Larger batches too: their big products suit OpenBLAS's own threads (measured on 784-500-500-10:
# split ahead at 32-500 rows, level with the ordinary step at 1000).
MAX_ROWS = 512
PARTS: int | None = None  # threads per step; None = as many as NumPy's OpenBLAS uses, if at most MAX_PARTS
MAX_PARTS = 2  # measured on two cores only; with more, OpenBLAS's own threads keep the work
PAD = 8  # int64 slots per hand-over flag: each thread's flag on its own cache line

_compiled: dict = {}
_lock = threading.Lock()
_one_at_a_time = threading.Lock()  # one split fit per process: two would fight over the cores and the BLAS setting


def enabled() -> bool:
    return os.environ.get("GUINN_SPLIT", "1").strip().lower() not in ("0", "false", "no", "off")


def parts_wanted() -> int:
    if PARTS is not None:
        return PARTS
    threads = blas_threads.count()
    return threads if threads <= MAX_PARTS else 1


def crew_kernels(dtype):
    """The compiled (run_ops, loop) for ``dtype``, built once per process; None if unavailable."""
    key = np.dtype(dtype).name
    if key not in _compiled:
        with _lock:
            if key not in _compiled:
                _compiled[key] = _build(dtype)
    return _compiled[key]


def _build(dtype):
    # The hand-over flags are plain stores and loads: ordered on x86 only, not on ARM.
    if platform.machine().lower() not in ("x86_64", "amd64") or fused.kernels() is None or fused.spin() is None:
        return None
    try:
        import numba

        if numba.config.DISABLE_JIT:  # the "compiled" helpers would be Python, passing objects to C
            return None
        from guinn.core import _crew

        return _crew.build(dtype)
    except Exception:  # no C library or CBLAS entry point here: the ordinary step it is
        return None


class _Group:
    """One split layer (a Dense) and the Dropout layers right after it."""

    def __init__(self, dense: Dense, dropouts: list[Dropout], parts: int, first: bool):
        self.dense, self.first = dense, first
        self.idle = [d for d in dropouts if d.rate == 0]  # identities, as in Dropout.forward
        self.dropouts = [d for d in dropouts if d.rate > 0]
        self.size = 1 + len(dropouts)  # layers this group stands for
        units = dense.units
        edges = [round(units * p / parts / 16) * 16 for p in range(parts)] + [units]  # cache-line aligned
        self.cols = [(edges[p], edges[p + 1]) for p in range(parts)]
        self.linear = dense.activation.name == "linear"
        # the threads finish their own columns (bias, activation, dropout) unless the activation
        # is one they do not have (leaky ReLU) or several masks apply; then this thread does it
        self.kind = THREAD_ACTIVATIONS.get(dense.activation.name) if len(self.dropouts) <= 1 else None

    def allocate(self, rows: int, parts: int, dtype) -> None:
        n_in, units = self.dense.input_shape[0], self.dense.units
        self.z = np.empty((rows, units), dtype)
        self.a = self.z if self.linear else np.empty((rows, units), dtype)
        self.dropped = [np.empty((rows, units), dtype) for _ in self.dropouts]
        self.signal = np.empty((rows, units), dtype)  # dL/d(output), then dL/dz, in place
        # each part's product for the layer below, one block: a thread adds its columns of all
        self.partials = None if self.first else np.empty((parts, rows, n_in), dtype)

    def output(self, n):
        return (self.dropped[-1] if self.dropouts else self.a)[:n]

    def finish_forward(self, n, rng):
        """Bias, activation, telemetry and dropout for the whole layer, as ``Dense.forward`` and
        ``Dropout.forward`` do them."""
        dense = self.dense
        z = self.z[:n]
        if dense.use_bias:
            z += dense.params["bias"]
        a = z if self.linear else dense.activation.forward(z, self.a[:n], dense.alpha)
        if dense.collect_stats:
            dense._sat = dense.activation.saturation(a, dense.alpha)
        for d, buf in zip(self.dropouts, self.dropped, strict=True):
            a = np.multiply(a, d.draw_mask(a.shape, a.dtype, rng), out=buf[:n])

    def finish_backward(self, n):
        """dL/dz in ``signal`` from dL/d(output) there, the bias gradient and telemetry."""
        dense = self.dense
        g = self.signal[:n]
        for d in reversed(self.dropouts):
            g *= d._mask
        dz = g if self.linear else dense.activation.backward(self.a[:n], g, dense.alpha)
        if dz is not g:
            np.copyto(g, dz)
        if dense.collect_stats:
            dense._delta_rms = rms(g)
        if dense.use_bias:
            np.sum(g, axis=0, out=dense.grads["bias"])


class _Tail:
    """The output Dense right after the split layers. Its matrix products run in the threads'
    phases, each thread for the last split layer's columns it owns: a partial product of the
    logits (forward), then the rows of the kernel gradient and the columns of the signal for
    the split layer (backward). The calling thread keeps the rest (bias, activation, loss)."""

    def __init__(self, dense: Dense):
        self.dense = dense
        self.none = np.zeros(0, dense.params["kernel"].dtype)
        self.largest = float(np.finfo(dense.params["kernel"].dtype).max)

    def allocate(self, rows: int, parts: int, dtype) -> None:
        shape = (rows, self.dense.units)
        self.partials = np.empty((parts,) + shape, dtype)
        self.dz = np.empty(shape, dtype)  # where the threads read dL/dz
        self.z, self.probs = np.empty(shape, dtype), np.empty(shape, dtype)  # for fused_loss

    @staticmethod
    def fuses_loss(model) -> bool:
        """Whether the loss is the built-in softmax cross-entropy (asked every step: a callback
        may compile another loss), which ``fused_loss`` computes in one pass."""
        return model._fused and type(model.loss).fused is CategoricalCrossentropy.fused

    def forward(self, x, n):
        return self.dense.finish_forward(x, _sum_of_parts(self.partials, n, self.dense.product_buffer(n)))

    def backward(self, g, n):
        np.copyto(self.dz[:n], self.dense.start_backward(g))

    def fused_loss(self, crew, x, n, y):
        """(probabilities, loss) of the batch, with dL/dz where the threads read it, the bias
        gradient and the layer's telemetry, as ``forward``, the loss's ``fused`` and ``backward``
        would leave them."""
        dense = self.dense
        bias = dense.params["bias"] if dense.use_bias else self.none
        bias_grad = dense.grads["bias"] if dense.use_bias else self.none
        dtype = dense.params["kernel"].dtype
        scale = np.array([1.0 / n], dtype)
        z, probs = self.z[:n], self.probs[:n]
        y = np.require(y, dtype, ("C", "W"))  # the layout the pass was compiled for
        loss, squares = crew.softmax_crossentropy(self.partials, n, bias, y, scale, z, probs, self.dz[:n], bias_grad)
        if abs(loss) * n > self.largest:  # the ordinary step's sum, in the dtype, would have overflowed
            loss = math.inf
        dense._x, dense._z, dense._a = x, z, probs
        if dense.collect_stats:
            dense._sat = dense.activation.saturation(probs, dense.alpha)
            dense._delta_rms = math.sqrt(squares / probs.size)
        return probs, loss


class SplitStep:
    """The split version of ``Sequential._train_step`` for one ``fit`` call. A context
    manager: entering starts the helper threads and sets OpenBLAS to one thread per call;
    leaving stops them and restores the thread count."""

    def __init__(self, model, groups: list[_Group], parts: int, compiled):
        self.model, self.groups, self.parts = model, groups, parts
        self.run_ops, self.loop = compiled
        from guinn.core import _crew  # (imports Numba; compiled is not None, so it is loaded already)

        self.crew = _crew
        self.wait = fused.spin()
        self.suffix = model.layers[sum(g.size for g in groups):]
        last = self.suffix[0] if len(self.suffix) == 1 else None
        self.tail = _Tail(last) if type(last) is Dense and groups[-1].kind is not None else None
        k = len(groups)
        self.step_phase = 2 * k  # after every matrix product (and the regularizer gradients)
        self.gather_phase = 2 * k + 1  # the first helper fetches the next shuffled batch
        # at most 5 operations a phase: the output layer's two products, BACKWARD, the two products
        self.ops = np.zeros((parts, 2 * k + 2, 5, _crew.WIDTH), dtype=np.int64)
        self.counts = np.zeros((parts, 2 * k + 2), dtype=np.int64)
        self.ctrl = np.zeros(4, dtype=np.int64)  # laid out as _crew.KIND and _crew.PHASES say
        self.go = np.zeros(parts * PAD, dtype=np.int64)
        self.done = np.zeros(parts * PAD, dtype=np.int64)
        self.seq = 0
        self.rows = 0  # batch rows the buffers hold
        self.programmed = 0  # batch rows self.ops is written for
        # (phase, operation) of the products that read the batch, and per group of the operations
        # that read its dropout mask: addresses set each step
        self.reads_batch: list[tuple[int, int]] = []
        self.reads_mask: list[list[tuple[int, int]]] = [[] for _ in groups]
        self.runs = _part_runs(model, groups, parts)
        self.sums = [np.zeros_like(model._sums) for _ in range(parts)]
        # per group: saturated units counted, then (after all groups) the sum of squares of dL/dz
        self.stats = [np.zeros(2 * len(groups)) for _ in range(parts)]
        self.optimizer = model.optimizer
        kind, slots, _ = model.optimizer.fused_spec(model.optimizer.iterations + 1)
        self.ctrl[_crew.KIND] = kind
        self.slots = fused.slot_pair(slots, model._update)  # the helpers hold these arrays for the fit
        self.scalars = np.zeros(_crew.CONSTANTS + len(_crew.constants()), dtype=model.dtype)  # optimizer's, constants
        self.scalars[_crew.CONSTANTS:] = _crew.constants()
        self.threads: list[threading.Thread] = []
        self._one_blas_thread = None  # (entered with the helper threads)
        self.active = False
        self._next = None  # (x, indices) of the next batch, to fetch during this step
        self._fetched = None  # a batch being fetched: (buffer, which rows, hand-over number, x, indices)
        self._batches: list[np.ndarray] = []  # two buffers: one in use, one being filled

    @classmethod
    def plan(cls, model, batch_size: int) -> SplitStep | None:
        """A split step for this model, or None when it would not pay or cannot be done here."""
        parts = parts_wanted()
        if (parts < 2 or not enabled() or not MIN_ROWS <= batch_size <= MAX_ROWS or not model.optimizer.supports_fused()
                or blas_threads.controls() is None or fused.kernels() is None):
            return None
        groups = _split_groups(model.layers, parts)
        compiled = crew_kernels(model.dtype) if groups else None
        return cls(model, groups, parts, compiled) if compiled else None

    def __enter__(self):
        self.active = _one_at_a_time.acquire(blocking=False)  # else: ordinary steps (another fit is split)
        if not self.active:
            return self
        self._one_blas_thread = blas_threads.capped(1)  # each thread's products on one
        self._one_blas_thread.__enter__()
        m = self.model
        try:
            for p in range(1, self.parts):
                args = (self.go, self.done, p * PAD, self.ctrl, self.ops[p], self.counts[p], m._params, m._grads,
                        m._update, *self.slots, self.scalars, self.runs[p], self.sums[p], self.stats[p])
                thread = threading.Thread(target=self.loop, args=args, name=f"guinn-split-{p}", daemon=True)
                thread.start()
                self.threads.append(thread)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if not self.active:
            return
        self._settle()
        self._hand_over(self.crew.QUIT)
        for thread in self.threads:
            thread.join()
        self.threads = []
        self._one_blas_thread.__exit__(None, None, None)
        self.active = False
        _one_at_a_time.release()

    # -- the step ---------------------------------------------------------------------------
    def __call__(self, xb, yb, lb, dropout_rng, epoch, batch):
        model, groups, n = self.model, self.groups, len(xb)
        scalars = self._scalars_if_unchanged()
        if n < MIN_ROWS or not self.active or scalars is None:
            return model._train_step(xb, yb, lb, dropout_rng, epoch, batch)
        xb = np.ascontiguousarray(xb, dtype=model.dtype)  # the helpers read it by address
        if n > self.rows:
            for group in groups + ([self.tail] if self.tail else []):
                group.allocate(n, self.parts, model.dtype)
            self.rows, self.programmed = n, 0
        if n != self.programmed:
            self._program(n)
        for phase, op in self.reads_batch:  # the batch's address, where the first layer reads it
            self.ops[:, phase, op, 6] = xb.ctypes.data
        for i, group in enumerate(groups):
            for d in group.idle:  # identities, as in Dropout.forward
                d._mask = None
            if group.kind is None:
                self._phase(i)
                group.finish_forward(n, dropout_rng)
                continue
            if group.dropouts:  # drawn here, in the order the ordinary step draws it
                mask = group.dropouts[0].draw_mask((n, group.dense.units), model.dtype, dropout_rng)
                for phase, op in self.reads_mask[i]:
                    self.ops[:, phase, op, 9] = mask.ctypes.data
            self._phase(i)
            if group.dense.collect_stats:
                group.dense._sat = (math.nan if group.linear else
                                    sum(s[i] for s in self.stats) / (n * group.dense.units))
        out = groups[-1].output(n)
        if self.tail and _Tail.fuses_loss(model):
            out, loss = self.tail.fused_loss(self.crew, out, n, yb)
            loss = model._penalised(loss, epoch, batch)
            if loss is None:
                return None
        elif self.tail:  # the threads take it from dL/dz
            out = self.tail.forward(out, n)
            loss, g = model._loss_and_gradient(yb, out, epoch, batch)
            if g is None:
                return None
            self.tail.backward(g, n)
        else:
            for layer in self.suffix:
                out = layer.forward(out, True, dropout_rng)
            loss, g = model._loss_and_gradient(yb, out, epoch, batch)
            if g is None:
                return None
            for layer in reversed(self.suffix):
                g = layer.backward(g, True)
            np.copyto(groups[-1].signal[:n], g)
            if groups[-1].kind is None:
                groups[-1].finish_backward(n)
        self.scalars[:len(scalars)] = scalars
        k = len(groups)
        for i in range(k - 1, -1, -1):
            self._phase(2 * k - 1 - i)  # the threads finish dL/dz of their columns first, where they can
            group = groups[i]
            dense = group.dense
            if group.kind is not None and dense.collect_stats:
                dense._delta_rms = math.sqrt(sum(s[k + i] for s in self.stats) / (n * dense.units))
            dense.finish_backward()
            if self.tail and i == k - 1:
                self.tail.dense.finish_backward()
            if i and groups[i - 1].kind is None:
                _sum_of_parts(group.partials, n, groups[i - 1].signal[:n])
                groups[i - 1].finish_backward(n)
        return model._step_logs(out, loss, lb, epoch, batch, yb) if self._finish(epoch, batch) else None

    # -- the next batch -------------------------------------------------------------------------
    def upcoming(self, x, rows) -> None:
        """The rows of ``x`` the next step trains on: a helper copies them out at the end of this
        step, while the caller checks and reports it (fetching a shuffled batch from memory takes
        ~0.05 ms, a twentieth of a step with SkylakeX kernels)."""
        if x.ndim == 2 and x.flags.c_contiguous and x.dtype == self.model.dtype and rows.dtype == np.int64:
            self._next = (x, rows)

    def take(self, x, rows, out):
        """``np.take(x, rows, axis=0, out=out)``, or the same rows already fetched."""
        fetched = self._settle()
        if fetched is not None and fetched[1] == (id(x), rows.ctypes.data, len(rows)):
            return fetched[0][:len(rows)]
        return np.take(x, rows, axis=0, out=out)

    def _settle(self):
        """Wait for a fetch in flight; (buffer, which rows) or None. Until then ``_fetched`` keeps
        the arrays it reads by address alive (the epoch's order may be gone by the time the fit
        ends, e.g. after a non-finite loss)."""
        fetched, self._fetched = self._fetched, None
        if fetched is None:
            return None
        buffer, key, seq, _source, _rows = fetched
        for p in range(1, self.parts):
            self.wait(self.done, p * PAD, seq)
        return buffer, key

    def _fetch_next(self) -> None:
        (x, rows), self._next = self._next, None
        self._settle()
        if len(rows) > self.rows:
            return
        if not self._batches or self._batches[0].shape[1] != x.shape[1] or len(self._batches[0]) < len(rows):
            self._batches = [np.empty((self.rows, x.shape[1]), self.model.dtype) for _ in range(2)]
        self._batches.reverse()  # the other buffer than the one this step read
        buffer = self._batches[0]
        self.ops[1, self.gather_phase, 0, :6] = (self.crew.GATHER, x.ctypes.data, x.shape[1], rows.ctypes.data,
                                                 len(rows), buffer.ctypes.data)
        self.counts[1, self.gather_phase] = 1
        self._hand_over(self.gather_phase)  # not waited for: the caller goes on meanwhile
        self._fetched = (buffer, (id(x), rows.ctypes.data, len(rows)), self.seq, x, rows)

    def _scalars_if_unchanged(self):
        """This step's optimizer scalars, or None when the optimizer or its state arrays are no
        longer the ones the helpers hold (a callback compiled a new optimizer or reset the
        weights): the rest of the fit then takes the ordinary step."""
        optimizer = self.model.optimizer
        if optimizer is not self.optimizer or not optimizer.supports_fused():
            return None
        kind, slots, scalars = optimizer.fused_spec(optimizer.iterations + 1)
        held = fused.slot_pair(slots, self.model._update)
        if kind != self.ctrl[self.crew.KIND] or any(a is not b for a, b in zip(held, self.slots, strict=True)):
            return None
        return scalars

    def _finish(self, epoch, batch) -> bool:
        """The optimizer phase (which applies the update), then the finiteness check."""
        model, optimizer = self.model, self.model.optimizer
        step = optimizer.iterations + 1
        self._phase(self.step_phase)
        if self._next is not None:  # while this thread checks the step, reports it and starts the next
            self._fetch_next()
        optimizer.iterations = step
        model._applied = True
        model._sums[...] = sum(self.sums)
        return model._update_is_finite(float(model._sums[:, 1].sum()), epoch, batch)

    def _hand_over(self, phase):
        self.seq += 1
        self.ctrl[self.crew.PHASES + self.seq % 2] = phase  # before the flag the helpers wait on
        for p in range(1, self.parts):
            self.go[p * PAD] = self.seq

    def _phase(self, phase: int) -> None:
        """Every part's operations for ``phase``: the helpers' in their threads, part 0's here."""
        m = self.model
        self._hand_over(phase)
        self.run_ops(self.ops[0, phase], self.counts[0, phase], self.ctrl, m._params, m._grads, m._update,
                     *self.slots, self.scalars, self.runs[0], self.sums[0], self.stats[0])
        for p in range(1, self.parts):
            self.wait(self.done, p * PAD, self.seq)

    def _program(self, n: int) -> None:
        """Write each part's operations for batches of ``n`` rows (addresses stay valid: the
        buffers live as long as this step, the weights as long as the model)."""
        c = self.crew
        GEMM, FORWARD, BACKWARD, STEP, NO_TRANS, TRANS = c.GEMM, c.FORWARD, c.BACKWARD, c.STEP, c.NO_TRANS, c.TRANS
        k = len(self.groups)
        self.counts[...] = 0
        self.reads_batch = []
        self.reads_mask = [[] for _ in self.groups]

        def put(p, phase, *op, mask_of=None):
            if p == 0 and op[0] == GEMM and op[6] == 0:  # reads the batch (every part alike): set each step
                self.reads_batch.append((phase, int(self.counts[p, phase])))
            if p == 0 and mask_of is not None:  # reads a dropout mask: set each step
                self.reads_mask[mask_of].append((phase, int(self.counts[p, phase])))
            self.ops[p, phase, self.counts[p, phase]] = op + (0,) * (c.WIDTH - len(op))
            self.counts[p, phase] += 1

        for p in range(self.parts):
            for i, group in enumerate(self.groups):
                dense = group.dense
                n_in, units = dense.input_shape[0], dense.units
                lo, hi = group.cols[p]
                size = dense.params["kernel"].itemsize
                x = 0 if group.first else self.groups[i - 1].output(n).ctypes.data
                kernel = dense.params["kernel"].ctypes.data + lo * size
                signal = group.signal.ctypes.data + lo * size
                put(p, i, GEMM, NO_TRANS, NO_TRANS, n, hi - lo, n_in, x, n_in, kernel, units,
                    group.z.ctypes.data + lo * size, units)
                if group.kind is not None:
                    bias = dense.params["bias"].ctypes.data if dense.use_bias else 0
                    dropped = group.dropped[0].ctypes.data if group.dropouts else 0
                    put(p, i, FORWARD, group.kind, n, units, lo, hi, group.z.ctypes.data, group.a.ctypes.data, bias,
                        0, dropped, i, mask_of=i)
                back = 2 * k - 1 - i
                if self.tail and i == k - 1:  # the output layer's products, by this part's columns (its rows)
                    t = self.tail
                    outputs, t_input = t.dense.units, group.output(n).ctypes.data + lo * size
                    t_kernel = t.dense.params["kernel"].ctypes.data + lo * outputs * size
                    put(p, i, GEMM, NO_TRANS, NO_TRANS, n, outputs, hi - lo, t_input, units, t_kernel, outputs,
                        t.partials[p].ctypes.data, outputs)
                    put(p, back, GEMM, TRANS, NO_TRANS, hi - lo, outputs, n, t_input, units, t.dz.ctypes.data,
                        outputs, t.dense.grads["kernel"].ctypes.data + lo * outputs * size, outputs)
                    put(p, back, GEMM, NO_TRANS, TRANS, n, hi - lo, outputs, t.dz.ctypes.data, outputs, t_kernel,
                        outputs, signal, units)
                if group.kind is not None:
                    above = self.groups[i + 1].partials if i + 1 < k else None
                    put(p, back, BACKWARD, group.kind, n, units, lo, hi, group.signal.ctypes.data,
                        group.a.ctypes.data, dense.grads["bias"].ctypes.data if dense.use_bias else 0,
                        0, 0 if above is None else above.ctypes.data, k + i,
                        self.parts, 0 if above is None else above.strides[0] // above.itemsize, mask_of=i)
                put(p, back, GEMM, TRANS, NO_TRANS, n_in, hi - lo, n, x, n_in, signal, units,
                    dense.grads["kernel"].ctypes.data + lo * size, units)
                if not group.first:
                    put(p, back, GEMM, NO_TRANS, TRANS, n, n_in, hi - lo, signal, units, kernel, units,
                        group.partials[p].ctypes.data, n_in)
            put(p, self.step_phase, STEP)
        self.programmed = n


def _sum_of_parts(partials, n, out):
    """The parts' partial products (first ``n`` rows) added in part order, as the threads'
    BACKWARD operation and softmax pass add them: results do not depend on who adds."""
    np.add(partials[0, :n], partials[1, :n], out=out)
    for extra in partials[2:]:
        out += extra[:n]
    return out


def _split_groups(layers, parts) -> list[_Group]:
    """The leading Dense layers (each with its Dropouts) worth splitting; never the last layer."""
    groups: list[_Group] = []
    i = 0
    while i < len(layers) - 1:
        dense = layers[i]
        if (type(dense) is not Dense or dense.activation.name == "softmax" or dense.units < parts * MIN_UNITS
                or dense.input_shape is None):
            break
        j = i + 1
        while j < len(layers) - 1 and type(layers[j]) is Dropout:
            j += 1
        if j >= len(layers):
            break
        groups.append(_Group(dense, list(layers[i + 1:j]), parts, first=not groups))
        i = j
    return groups


def _part_runs(model, groups, parts) -> list[np.ndarray]:
    """Each part's runs for the optimizer: an equal contiguous share of every split layer's
    kernel and bias, cut into runs of at most ``fused.BLOCK`` (each run's sums of squares
    then read it while it is still in cache), then of the remaining (unsplit) parameters.

    Contiguous, not the part's own columns: a row's columns are runs of a few hundred
    elements, and the per-run overhead made the step as slow as doing it all on one thread.
    Shares meet on a cache line (the flat buffers start on one), so no line is written by
    two threads at once.
    """
    segment_of = {}  # (layer, key) -> segment number in model._bounds
    for k, w in enumerate(model._watch):
        segment_of[id(w.layer), "main"] = 2 * k
        segment_of[id(w.layer), "rest"] = 2 * k + 1
    offsets = {(id(layer), key): (offset, shape) for layer, key, offset, shape in model._param_index}
    line = fused.LINE // model.dtype.itemsize
    rows: list[list[tuple[int, int, int]]] = [[] for _ in range(parts)]

    def share(start, length, segment):
        edges = [start]
        for q in range(1, parts):  # on a cache line, inside the segment, never going back
            edges.append(min(start + length, max(edges[-1], round((start + length * q / parts) / line) * line)))
        edges.append(start + length)
        for p in range(parts):
            rows[p] += fused.cut(edges[p], edges[p + 1], segment)

    split_ids = set()
    for group in groups:
        dense = group.dense
        split_ids.add(id(dense))
        k_off, (n_in, units) = offsets[id(dense), "kernel"]
        share(k_off, n_in * units, segment_of[id(dense), "main"])
        if dense.use_bias:
            share(offsets[id(dense), "bias"][0], units, segment_of[id(dense), "rest"])
    rest = [tuple(int(v) for v in r) for r in fused.runs_of(model._bounds)
            if id(model._watch[r[2] // 2].layer) not in split_ids]
    each = math.ceil(len(rest) / parts) if rest else 0
    for p in range(parts):
        rows[p] += rest[p * each:(p + 1) * each]
    return [np.array(r, dtype=np.int64).reshape(-1, 3) for r in rows]
